/*
 * fuzz-linepipe.c - the line pipe of pay-ingest --jsonl (linepipe.c):
 * a file's lines read by one thread, worked by several, taken in order.
 *
 * The first byte of an input picks the line cap (1 to 64 bytes), the
 * second the number of workers (1 to 4); the rest is the file. Checked
 * against the file split at its newlines here:
 *   - one DG_LP_FILE first, DG_LP_END last, nothing else around them;
 *   - each physical line in turn: over the cap (its newline counted) a
 *     DG_LP_LONG with its number; blank (spaces, tabs, CRs, LFs)
 *     nothing; else a DG_LP_LINE with its number whose result, made by
 *     a worker, holds exactly its bytes, the newline kept;
 *   - a pipe closed after any number of items ends and frees the rest.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#include "daigou.h"

static char *path;

static void remove_temp(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir;
	int fd;

	(void)argc;
	(void)argv;
	fuzz_init("fuzz-linepipe");
	dir = getenv("TMPDIR");
	path = dg_xasprintf("%s/fuzz-linepipe.XXXXXX",
			    dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		fuzz_fail("cannot make a temporary file");
	close(fd);
	atexit(remove_temp);
	return 0;
}

struct copy {
	size_t len;
	char text[];
};

static void *work(void *state, const struct dg_lp_item *it, const char *line,
		  size_t len)
{
	struct copy *c = malloc(sizeof(*c) + len);

	(void)state;
	(void)it;
	if (!c)
		abort();
	c->len = len;
	memcpy(c->text, line, len);
	return c;
}

static void drop(void *arg, void *result)
{
	(void)arg;
	free(result);
}

static const struct dg_lp_ops ops = {.work = work, .drop = drop};

static bool blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr(" \t\r\n", s[i]) || !s[i])
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *files[] = {path};
	const char *text, *s, *nl, *end;
	size_t cap, len, take, taken = 0;
	unsigned threads;
	unsigned long lineno = 0;
	struct dg_linepipe *lp;
	struct dg_lp_item it;
	struct copy *c;
	FILE *fp;

	if (size < 3)
		return 0;
	cap = 1 + data[0] % 64;
	threads = 1 + data[1] % 4;
	take = data[2]; /* items taken before closing, 255: all */
	text = (const char *)data + 3;
	end = text + (size - 3);
	fp = fopen(path, "wb");
	if (!fp || fwrite(text, 1, size - 3, fp) != size - 3 || fclose(fp))
		fuzz_fail("cannot write the temporary file");
	lp = dg_linepipe_open(files, 1, cap, threads, &ops);
	dg_linepipe_next(lp, &it);
	FUZZ_CHECK(it.kind == DG_LP_FILE && it.err == 0,
		   "first item: kind %d, err %d", it.kind, it.err);
	for (s = text; s < end && (take == 255 || taken < take); s += len) {
		nl = memchr(s, '\n', (size_t)(end - s));
		len = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
		lineno++;
		if (len <= cap && blank(s, len))
			continue;
		dg_linepipe_next(lp, &it);
		taken++;
		FUZZ_CHECK(it.lineno == lineno, "line %lu given as line %lu",
			   lineno, it.lineno);
		if (len > cap) {
			FUZZ_CHECK(it.kind == DG_LP_LONG,
				   "line %lu of %zu bytes over the cap %zu: "
				   "kind %d",
				   lineno, len, cap, it.kind);
			continue;
		}
		FUZZ_CHECK(it.kind == DG_LP_LINE, "line %lu: kind %d", lineno,
			   it.kind);
		c = it.result;
		FUZZ_CHECK(c && c->len == len && !memcmp(c->text, s, len),
			   "line %lu: other bytes (%zu, not %zu)", lineno,
			   c ? c->len : 0, len);
		free(c);
	}
	if (s >= end) {
		dg_linepipe_next(lp, &it);
		FUZZ_CHECK(it.kind == DG_LP_END, "after the last line: kind %d",
			   it.kind);
	}
	dg_linepipe_close(lp);
	return 0;
}
