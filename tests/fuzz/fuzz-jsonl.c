/*
 * fuzz-jsonl.c - the JSON Lines reader (jsonio.c: dg_jsonl_next) over a
 * memory stream.
 *
 * Checked against the input itself, line by line:
 *   - every line that is not blank gives exactly one result, in order:
 *     a record with that line's number, or one message "NAME:LINE: ..."
 *     with it; blank lines give nothing; the reader ends after the last;
 *   - a record is a JSON object equal to that line parsed on its own;
 *   - duplicate keys are refused at every depth: a record has as many
 *     keys as its text writes.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"

#include "daigou.h"

#define NAME "fuzz.jsonl"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz-jsonl");
	return 0;
}

/* The next line after *lineno that is not blank, or 0. */
static unsigned long next_line(const uint8_t *data, size_t size,
			       unsigned long lineno)
{
	const char *s;
	size_t len;

	while ((s = fuzz_line(data, size, ++lineno, &len)))
		if (!fuzz_blank(s, len))
			return lineno;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dg_jsonl_reader *r;
	unsigned long lines, want = 0, got, at;
	size_t off = 0, len, n;
	json_t *obj, *alone;
	const char *msg, *s;
	FILE *fp;
	int rc;

	if (size == 0)
		return 0;
	lines = fuzz_count_lines(data, size);
	fp = fuzz_memstream(data, size);
	fuzz_capture_begin();
	r = dg_jsonl_open(fp, NAME);
	for (;;) {
		want = next_line(data, size, want);
		obj = NULL;
		got = 0;
		rc = dg_jsonl_next(r, &obj, &got);
		msg = fuzz_capture_since(&off);
		if (!want) {
			FUZZ_CHECK(rc == 0, "a result (%d) after the last line",
				   rc);
			FUZZ_CHECK(!*msg, "a message at the end: %s", msg);
			break;
		}
		s = fuzz_line(data, size, want, &len);
		if (rc < 0) {
			FUZZ_CHECK(rc == -1, "dg_jsonl_next returned %d", rc);
			n = fuzz_check_messages(msg, NAME, 1, lines, &at);
			FUZZ_CHECK(n == 1 && at == want,
				   "%zu messages, the last for line %lu, on "
				   "line %lu",
				   n, at, want);
			continue;
		}
		FUZZ_CHECK(rc == 1, "line %lu: dg_jsonl_next returned %d", want,
			   rc);
		FUZZ_CHECK(!*msg, "line %lu: a good record printed: %s", want,
			   msg);
		FUZZ_CHECK(got == want, "a record on line %lu said line %lu",
			   want, got);
		FUZZ_CHECK(json_is_object(obj), "line %lu: not an object",
			   want);
		alone = json_loadb(s, len, 0, NULL);
		FUZZ_CHECK(alone && json_equal(alone, obj),
			   "line %lu: the record differs from the line alone",
			   want);
		json_decref(alone);
		FUZZ_CHECK(fuzz_json_text_keys(s, len) ==
				   fuzz_json_tree_keys(obj),
			   "line %lu: a duplicate key was accepted", want);
	}
	FUZZ_CHECK(dg_jsonl_next(r, &obj, &got) == 0, "a record after the end");
	dg_jsonl_close(r);
	fuzz_capture_end(NULL);
	fclose(fp);
	return 0;
}
