/*
 * fuzz-input.c - the unified input (input.c: dg_input_open, _require,
 * _next, _get) over a file descriptor holding the fuzz input.
 *
 * The first byte picks the format (auto, csv, json), the rest is the
 * file. Checked:
 *   - auto detection: JSON Lines exactly when the first byte that is not
 *     a BOM or white space is '{';
 *   - open fails only with 65 and one message naming the file and line
 *     (a bad or duplicated CSV header); an open input has unique column
 *     names;
 *   - a missing required column is refused with 65 and one message
 *     naming it, a present one is not;
 *   - records come in increasing line order within the input, a bad
 *     record gives exactly one message on a line not before the last
 *     record's, the status after it is 65, and the reader ends;
 *   - dg_input_get: a CSV field as the text read (never empty: an empty
 *     field is absent), a JSON string as is, an integer in decimal,
 *     true/false, null as absent, anything else absent and flagged bad;
 *     a JSON record with a key given twice is refused.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#include "daigou.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz-input");
	fd = memfd_create("fuzz-input", 0);
	if (fd < 0)
		fuzz_fail("memfd_create failed");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

static bool sniff_json(const uint8_t *d, size_t n)
{
	size_t i = n >= 3 && !memcmp(d, "\xEF\xBB\xBF", 3) ? 3 : 0;

	while (i < n &&
	       (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	return i < n && d[i] == '{';
}

static void check_columns(struct dg_input *in)
{
	const struct dg_csv_reader *csv = dg_input_csv(in);
	size_t n = dg_csv_ncolumns(csv), i, j;
	const char *a;

	for (i = 0; i < n; i++) {
		a = dg_csv_column_name(csv, i);
		FUZZ_CHECK(a, "column %zu has no name", i + 1);
		if (!*a)
			continue;
		FUZZ_CHECK(dg_csv_column(csv, a) == (int)i,
			   "column '%s' found at %d, not %zu", a,
			   dg_csv_column(csv, a), i);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(a, dg_csv_column_name(csv, j)),
				   "column '%s' given twice", a);
	}
}

static bool check_required(struct dg_input *in, size_t *off)
{
	static const char *const req[] = {"order_id", "amount"};
	const struct dg_csv_reader *csv = dg_input_csv(in);
	bool missing = false;
	const char *msg;
	size_t i;
	int rc;

	rc = dg_input_require(in, req, 2);
	msg = fuzz_capture_since(off);
	if (csv && dg_csv_ncolumns(csv))
		for (i = 0; i < 2; i++)
			missing |= dg_csv_column(csv, req[i]) < 0;
	FUZZ_CHECK(rc == (missing ? DG_EXIT_DATAERR : 0),
		   "dg_input_require returned %d", rc);
	if (missing)
		FUZZ_CHECK(strstr(msg, "missing required column") &&
				   !strchr(strchr(msg, '\n') + 1, '\n'),
			   "not one message for a missing column: %s", msg);
	else
		FUZZ_CHECK(!*msg, "a message for present columns: %s", msg);
	return missing;
}

static void check_csv_record(struct dg_input *in)
{
	const struct dg_csv_reader *csv = dg_input_csv(in);
	size_t i, n = dg_csv_ncolumns(csv);
	const char *name, *v;
	bool bad = false;

	for (i = 0; i < n; i++) {
		name = dg_csv_column_name(csv, i);
		if (!*name)
			continue;
		v = dg_input_get(in, name, &bad);
		FUZZ_CHECK(!bad, "CSV field '%s' flagged bad", name);
		FUZZ_CHECK(!v || (*v && strlen(v) <= DG_CSV_MAX_FIELD),
			   "CSV field '%s' is empty or too long", name);
	}
	FUZZ_CHECK(!dg_input_get(in, "", NULL), "an unnamed column read");
	FUZZ_CHECK(!dg_input_json(in), "a CSV record as JSON");
}

static void check_json_record(struct dg_input *in, const uint8_t *data,
			      size_t size)
{
	json_t *obj = dg_input_json(in), *x;
	const char *key, *v, *line;
	char num[32];
	size_t len;
	bool bad;

	FUZZ_CHECK(json_is_object(obj), "a JSON record that is no object");
	line = fuzz_line(data, size, dg_input_line(in), &len);
	FUZZ_CHECK(line && fuzz_json_text_keys(line, len) ==
				   fuzz_json_tree_keys(obj),
		   "line %lu: a duplicate key was accepted", dg_input_line(in));
	json_object_foreach(obj, key, x)
	{
		bad = false;
		v = dg_input_get(in, key, &bad);
		if (json_is_string(x)) {
			FUZZ_CHECK(v && !strcmp(v, json_string_value(x)) &&
					   !bad,
				   "string '%s' read wrong", key);
		} else if (json_is_integer(x)) {
			snprintf(num, sizeof(num), "%" PRId64,
				 (int64_t)json_integer_value(x));
			FUZZ_CHECK(v && !strcmp(v, num) && !bad,
				   "integer '%s' read as '%s', not %s", key,
				   v ? v : "(null)", num);
		} else if (json_is_boolean(x)) {
			FUZZ_CHECK(v &&
					   !strcmp(v, json_is_true(x)
							      ? "true"
							      : "false") &&
					   !bad,
				   "boolean '%s' read wrong", key);
		} else if (json_is_null(x)) {
			FUZZ_CHECK(!v && !bad, "null '%s' read wrong", key);
		} else {
			FUZZ_CHECK(!v && bad,
				   "'%s' (real, array or object) "
				   "not flagged",
				   key);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dg_input_format fmts[] = {DG_IN_AUTO, DG_IN_CSV,
						    DG_IN_JSON};
	enum dg_input_format fmt;
	struct dg_input *in;
	unsigned long lines, last_row = 0, last_msg = 0, calls = 0, line;
	size_t off = 0, n;
	const char *msg;
	bool json, missing;
	int status = -1, rc;

	if (size < 1)
		return 0;
	fmt = fmts[data[0] % 3];
	data++;
	size--;
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		fuzz_fail("cannot write the input file");
	lines = fuzz_count_lines(data, size);
	json = fmt == DG_IN_JSON ||
	       (fmt == DG_IN_AUTO && sniff_json(data, size));

	fuzz_capture_begin();
	in = dg_input_open(path, fmt, &status);
	msg = fuzz_capture_since(&off);
	if (!in) {
		FUZZ_CHECK(!json && status == DG_EXIT_DATAERR,
			   "open failed with %d", status);
		n = fuzz_check_messages(msg, path, 1, lines, NULL);
		FUZZ_CHECK(n == 1, "open failed with %zu messages", n);
		fuzz_capture_end(NULL);
		return 0;
	}
	FUZZ_CHECK(status == 0 && !*msg, "open succeeded with %d: %s", status,
		   msg);
	FUZZ_CHECK(dg_input_is_json(in) == json, "read as %s, not %s",
		   dg_input_is_json(in) ? "JSON" : "CSV",
		   json ? "JSON" : "CSV");
	if (!json) {
		check_columns(in);
		last_row = dg_csv_ncolumns(dg_input_csv(in)) ? 1 : 0;
	}
	missing = check_required(in, &off);

	for (;;) {
		rc = dg_input_next(in);
		msg = fuzz_capture_since(&off);
		FUZZ_CHECK(++calls <= lines + 2,
			   "%lu calls to dg_input_next over %lu lines", calls,
			   lines);
		if (rc == 0) {
			FUZZ_CHECK(!*msg, "a message at the end: %s", msg);
			break;
		}
		if (rc < 0) {
			n = fuzz_check_messages(msg, path,
						last_row ? last_row : 1, lines,
						&last_msg);
			FUZZ_CHECK(n == 1, "a bad record gave %zu messages", n);
			FUZZ_CHECK(dg_input_status(in) == DG_EXIT_DATAERR,
				   "status %d after a bad record",
				   dg_input_status(in));
			continue;
		}
		FUZZ_CHECK(rc == 1, "dg_input_next returned %d", rc);
		FUZZ_CHECK(!*msg, "a good record printed: %s", msg);
		line = dg_input_line(in);
		FUZZ_CHECK(line > last_row && line > last_msg && line <= lines,
			   "a record on line %lu after line %lu (of %lu)", line,
			   last_row > last_msg ? last_row : last_msg, lines);
		last_row = line;
		if (json)
			check_json_record(in, data, size);
		else
			check_csv_record(in);
	}
	FUZZ_CHECK(dg_input_next(in) == 0, "a record after the end");
	if (!last_msg && !missing)
		FUZZ_CHECK(dg_input_status(in) == 0,
			   "status %d without an error", dg_input_status(in));
	dg_input_close(in);
	fuzz_capture_end(NULL);
	return 0;
}
