/*
 * fuzz-writer.c - the tabular writer read back (csvio.c: dg_out_new,
 * dg_out_row, dg_out_close; dg_csv_open to read).
 *
 * The first byte gives the number of columns (1 to 8) and the output
 * (CSV or JSON Lines); the rest, split at NUL bytes, are the values,
 * row by row: any bytes, quotes, commas, CR, LF, spaces at the ends,
 * non-ASCII and invalid UTF-8 included. Checked:
 *   - CSV: what was written reads back with the CSV reader as the same
 *     header and the same rows, field by field;
 *   - JSON Lines: a row with a value that is not valid UTF-8 is refused
 *     with 65 and writes nothing; every other row is one line that
 *     jansson parses back to an object with the columns in order and
 *     the values as strings, byte for byte.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "daigou.h"

#define MAX_COLS 8

static const char *const names[MAX_COLS] = {
	"order_id", "amount", "currency", "note", "c5", "c6", "c7", "c8",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz-writer");
	return 0;
}

struct rows {
	char **v; /* nrows * ncols values */
	size_t nrows, ncols;
	bool *refused; /* JSON: the row was refused */
};

static void split(const uint8_t *data, size_t size, struct rows *t)
{
	size_t nvals = 1, i, k, pos = 0;
	const uint8_t *nul;

	for (i = 0; i < size; i++)
		nvals += data[i] == '\0';
	t->nrows = (nvals + t->ncols - 1) / t->ncols;
	t->v = calloc(t->nrows * t->ncols, sizeof(char *));
	t->refused = calloc(t->nrows, sizeof(bool));
	if (!t->v || !t->refused)
		abort();
	/* the last row is made up with empty values */
	for (k = 0; k < t->nrows * t->ncols; k++) {
		if (pos > size) {
			t->v[k] = fuzz_strndup(data, 0);
			continue;
		}
		nul = memchr(data + pos, '\0', size - pos);
		i = nul ? (size_t)(nul - (data + pos)) : size - pos;
		t->v[k] = fuzz_strndup(data + pos, i);
		pos += i + 1;
	}
}

static void free_rows(struct rows *t)
{
	size_t k;

	for (k = 0; k < t->nrows * t->ncols; k++)
		free(t->v[k]);
	free(t->v);
	free(t->refused);
}

static void write_rows(struct rows *t, bool json, char **buf, size_t *len)
{
	FILE *fp = open_memstream(buf, len);
	struct dg_out *o;
	size_t r, c, off = 0;
	bool utf8;
	const char *msg;
	int rc;

	if (!fp)
		abort();
	fuzz_capture_begin();
	o = dg_out_new(fp, json, names, t->ncols);
	for (r = 0; r < t->nrows; r++) {
		rc = dg_out_row(o, (const char *const *)&t->v[r * t->ncols]);
		msg = fuzz_capture_since(&off);
		utf8 = true;
		for (c = 0; c < t->ncols; c++)
			utf8 = utf8 &&
			       fuzz_utf8_valid(t->v[r * t->ncols + c],
					       strlen(t->v[r * t->ncols + c]));
		if (json && !utf8) {
			FUZZ_CHECK(rc == DG_EXIT_DATAERR && *msg,
				   "row %zu: invalid UTF-8 written as JSON "
				   "(%d)",
				   r, rc);
			t->refused[r] = true;
		} else {
			FUZZ_CHECK(rc == 0 && !*msg,
				   "row %zu: dg_out_row "
				   "returned %d: %s",
				   r, rc, msg);
		}
	}
	rc = dg_out_close(o);
	FUZZ_CHECK(rc == 0, "dg_out_close returned %d", rc);
	fuzz_capture_end(NULL);
	if (fclose(fp))
		abort();
}

static void read_csv(const struct rows *t, const char *buf, size_t len)
{
	const struct dg_csv_row *row;
	struct dg_csv_reader *rd;
	size_t r = 0, c, off = 0;
	const char *msg;
	FILE *fp;
	int rc;

	FUZZ_CHECK(len > 0, "no header written");
	fp = fuzz_memstream((const uint8_t *)buf, len);
	fuzz_capture_begin();
	rd = dg_csv_open(fp, "out.csv");
	rc = dg_csv_read_header(rd);
	msg = fuzz_capture_since(&off);
	FUZZ_CHECK(rc == 0 && dg_csv_ncolumns(rd) == t->ncols,
		   "the header reads back as %zu columns (%d): %s",
		   dg_csv_ncolumns(rd), rc, msg);
	for (c = 0; c < t->ncols; c++)
		FUZZ_CHECK(!strcmp(dg_csv_column_name(rd, c), names[c]),
			   "column %zu reads back as '%s'", c + 1,
			   dg_csv_column_name(rd, c));
	while ((rc = dg_csv_next(rd, &row)) > 0) {
		FUZZ_CHECK(r < t->nrows, "%zu rows written, more read back",
			   t->nrows);
		FUZZ_CHECK(row->n == t->ncols,
			   "row %zu: %zu fields written, %zu read back", r + 1,
			   t->ncols, row->n);
		for (c = 0; c < t->ncols; c++) {
			const char *w = t->v[r * t->ncols + c];

			FUZZ_CHECK(row->lens[c] == strlen(w) &&
					   !memcmp(row->fields[c], w,
						   row->lens[c]),
				   "row %zu field %zu: wrote %s, read back %s",
				   r + 1, c + 1, dg_quoted(w),
				   dg_quotedn(row->fields[c], row->lens[c]));
		}
		r++;
	}
	msg = fuzz_capture_since(&off);
	FUZZ_CHECK(rc == 0, "reading back failed: %s", msg);
	FUZZ_CHECK(r == t->nrows, "%zu rows written, %zu read back", t->nrows,
		   r);
	dg_csv_close(rd);
	fuzz_capture_end(NULL);
	fclose(fp);
}

static void read_json(const struct rows *t, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	json_error_t err;
	json_t *obj, *v;
	size_t r, c;
	void *it;

	for (r = 0; r < t->nrows; r++) {
		if (t->refused[r])
			continue;
		nl = memchr(p, '\n', (size_t)(end - p));
		FUZZ_CHECK(nl, "row %zu: no line", r + 1);
		obj = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES,
				 &err);
		FUZZ_CHECK(json_is_object(obj), "row %zu: %s", r + 1, err.text);
		FUZZ_CHECK(json_object_size(obj) == t->ncols,
			   "row %zu: %zu keys", r + 1, json_object_size(obj));
		for (c = 0, it = json_object_iter(obj); c < t->ncols;
		     c++, it = json_object_iter_next(obj, it)) {
			const char *w = t->v[r * t->ncols + c];

			FUZZ_CHECK(it && !strcmp(json_object_iter_key(it),
						 names[c]),
				   "row %zu: column %zu out of order", r + 1,
				   c + 1);
			v = json_object_iter_value(it);
			FUZZ_CHECK(json_is_string(v) &&
					   json_string_length(v) == strlen(w) &&
					   !memcmp(json_string_value(v), w,
						   strlen(w)),
				   "row %zu field %zu: wrote %s, read back "
				   "otherwise",
				   r + 1, c + 1, dg_quoted(w));
		}
		json_decref(obj);
		p = nl + 1;
	}
	FUZZ_CHECK(p == end, "%zu bytes after the last row", (size_t)(end - p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rows t = {0};
	char *buf = NULL;
	size_t len = 0;
	bool json;

	if (size < 1)
		return 0;
	t.ncols = 1 + data[0] % MAX_COLS;
	json = data[0] & 0x80;
	split(data + 1, size - 1, &t);
	write_rows(&t, json, &buf, &len);
	if (json)
		read_json(&t, buf, len);
	else
		read_csv(&t, buf, len);
	free(buf);
	free_rows(&t);
	return 0;
}
