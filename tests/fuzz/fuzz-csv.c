/*
 * fuzz-csv.c - the CSV reader (csvio.c: dg_csv_open, dg_csv_read_header,
 * dg_csv_next) over a memory stream.
 *
 * The first byte says whether the first row is read as the header; the
 * rest is the file. Checked, besides ASan and UBSan:
 *   - the reader never returns more field bytes than the input holds,
 *     and every field is NUL-terminated at its length with no NUL inside
 *     and no more than DG_CSV_MAX_FIELD bytes, at most DG_CSV_MAX_FIELDS
 *     fields to a row;
 *   - a row never carries a non-empty field past the header's width (a
 *     shorter row is allowed: its missing fields read as empty);
 *   - rows come with the line they start on, in increasing order and
 *     within the input's lines; a good row prints nothing;
 *   - a bad row (-1) prints exactly one message "NAME:LINE: ...", its
 *     line not before the last row's; the reader goes on or ends, and
 *     ends within one call per line;
 *   - a header that is refused (65) ends the input.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "daigou.h"

#define NAME "fuzz.csv"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz-csv");
	return 0;
}

static void check_row(const struct dg_csv_row *row, size_t ncolumns,
		      size_t size, unsigned long lines)
{
	size_t i, bytes = 0;

	FUZZ_CHECK(row->n >= 1 && row->n <= DG_CSV_MAX_FIELDS,
		   "line %lu: a row of %zu fields", row->line, row->n);
	FUZZ_CHECK(row->line >= 1 && row->line <= lines,
		   "a row on line %lu of %lu", row->line, lines);
	for (i = 0; i < row->n; i++) {
		FUZZ_CHECK(row->lens[i] <= DG_CSV_MAX_FIELD,
			   "line %lu: field %zu of %zu bytes", row->line, i + 1,
			   row->lens[i]);
		FUZZ_CHECK(strlen(row->fields[i]) == row->lens[i],
			   "line %lu: field %zu has length %zu but a NUL at "
			   "%zu",
			   row->line, i + 1, row->lens[i],
			   strlen(row->fields[i]));
		bytes += row->lens[i];
		if (ncolumns && i >= ncolumns)
			FUZZ_CHECK(row->lens[i] == 0,
				   "line %lu: field %zu is past the header's "
				   "%zu columns",
				   row->line, i + 1, ncolumns);
	}
	FUZZ_CHECK(bytes <= size,
		   "line %lu: %zu field bytes from %zu bytes of "
		   "input",
		   row->line, bytes, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct dg_csv_row *row;
	struct dg_csv_reader *r;
	unsigned long lines, last_row = 0, last_msg = 0, calls = 0;
	size_t off = 0, ncolumns = 0, n;
	const char *msg;
	bool header;
	FILE *fp;
	int rc;

	if (size < 2)
		return 0;
	header = data[0] & 1;
	data++;
	size--;
	lines = fuzz_count_lines(data, size);
	fp = fuzz_memstream(data, size);
	fuzz_capture_begin();
	r = dg_csv_open(fp, NAME);
	if (header) {
		rc = dg_csv_read_header(r);
		msg = fuzz_capture_since(&off);
		n = fuzz_check_messages(msg, NAME, 1, lines, NULL);
		FUZZ_CHECK(rc == 0 || rc == DG_EXIT_DATAERR,
			   "dg_csv_read_header returned %d", rc);
		FUZZ_CHECK(rc ? n == 1 : n == 0,
			   "the header gave %d and %zu messages", rc, n);
		ncolumns = dg_csv_ncolumns(r);
		if (rc) {
			FUZZ_CHECK(ncolumns == 0,
				   "a refused header has %zu "
				   "columns",
				   ncolumns);
			FUZZ_CHECK(dg_csv_next(r, &row) == 0,
				   "rows after a refused header");
		}
		last_row = 1;
	}
	for (;;) {
		row = NULL;
		rc = dg_csv_next(r, &row);
		msg = fuzz_capture_since(&off);
		FUZZ_CHECK(++calls <= lines + 2,
			   "%lu calls to dg_csv_next over %lu lines", calls,
			   lines);
		if (rc == 0) {
			FUZZ_CHECK(!*msg, "a message at the end: %s", msg);
			FUZZ_CHECK(dg_csv_next(r, &row) == 0,
				   "a row after the end");
			break;
		}
		if (rc < 0) {
			FUZZ_CHECK(rc == -1, "dg_csv_next returned %d", rc);
			n = fuzz_check_messages(msg, NAME,
						last_row ? last_row : 1, lines,
						&last_msg);
			FUZZ_CHECK(n == 1, "a bad row gave %zu messages", n);
			continue;
		}
		FUZZ_CHECK(rc == 1 && row, "dg_csv_next returned %d", rc);
		FUZZ_CHECK(!*msg, "a good row printed: %s", msg);
		check_row(row, ncolumns, size, lines);
		FUZZ_CHECK(row->line > last_row && row->line > last_msg,
			   "a row on line %lu after line %lu", row->line,
			   last_row > last_msg ? last_row : last_msg);
		last_row = row->line;
	}
	dg_csv_close(r);
	fuzz_capture_end(NULL);
	fclose(fp);
	return 0;
}
