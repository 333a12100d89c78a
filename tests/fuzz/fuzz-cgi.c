/*
 * fuzz-cgi.c - the CGI request (cgi.c) against an independent reading of
 * RFC 3875 and RFC 9110's Content-Length.
 *
 * Input: byte 0 picks the method (odd: POST, even: one of a few others)
 * and byte 1 the cap (its value times 16 bytes); the text up to the
 * first newline is CONTENT_LENGTH (absent when the input has no
 * newline), the rest is standard input. Properties: a method other than
 * POST is 405; an empty or absent length 411; anything but digits, or a
 * count past SIZE_MAX - 1, 400; a count over the cap 413 with nothing
 * read; a body shorter than the count 400; otherwise 0 with exactly the
 * count's bytes, NUL-terminated. A status always comes with a message
 * and no body; 0 with neither message nor leak.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#include "daigou.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-cgi");
	return 0;
}

/* The oracle's reading of a length: 0 valid with *n, 1 empty, 2 bad. */
static int oracle_length(const char *s, size_t *n)
{
	unsigned __int128 v = 0;

	if (!*s)
		return 1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 2;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > (unsigned __int128)SIZE_MAX - 1)
			return 2;
	}
	*n = (size_t)v;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const others[] = {"GET", "PUT", "post", "POST ", ""};
	struct dg_cgi_req r = {(char *)"x", 1};
	const uint8_t *nl, *body;
	size_t max, blen, n = 0;
	char *cl = NULL, *why = NULL;
	int want, got, kind = 1;
	uint8_t m;
	bool post;
	FILE *fp;

	if (size < 2)
		return 0;
	m = data[0];
	post = m & 1;
	max = (size_t)data[1] * 16;
	data += 2;
	size -= 2;
	nl = memchr(data, '\n', size);
	if (nl) {
		cl = fuzz_strndup(data, (size_t)(nl - data));
		body = nl + 1;
		blen = size - (size_t)(nl - data) - 1;
	} else {
		body = data;
		blen = size;
	}
	fp = tmpfile();
	FUZZ_CHECK(fp, "no temporary file");
	if (blen)
		FUZZ_CHECK(fwrite(body, 1, blen, fp) == blen, "write failed");
	rewind(fp);
	FUZZ_CHECK(dup2(fileno(fp), STDIN_FILENO) == STDIN_FILENO,
		   "dup2 failed");
	setenv("REQUEST_METHOD", post ? "POST" : others[m / 2 % 5], 1);
	if (cl)
		setenv("CONTENT_LENGTH", cl, 1);
	else
		unsetenv("CONTENT_LENGTH");
	if (cl)
		kind = oracle_length(cl, &n);
	if (!post)
		want = 405;
	else if (kind == 1)
		want = 411;
	else if (kind == 2)
		want = 400;
	else if (n > max)
		want = 413;
	else if (n > blen)
		want = 400;
	else
		want = 0;
	got = dg_cgi_read(max, &r, &why);
	FUZZ_CHECK(got == want, "length %s, cap %zu, body %zu: got %d, want %d",
		   cl ? cl : "(none)", max, blen, got, want);
	if (got) {
		FUZZ_CHECK(why && *why && !strchr(why, '\n'),
			   "status %d without a one-line message", got);
		FUZZ_CHECK(!r.body && r.len == 0, "status %d with a body", got);
		/* 413: not a byte was read */
		if (got == 413)
			FUZZ_CHECK(lseek(STDIN_FILENO, 0, SEEK_CUR) == 0,
				   "413 read the body");
	} else {
		FUZZ_CHECK(!why, "0 with a message");
		FUZZ_CHECK(r.len == n && r.body && r.body[n] == '\0' &&
				   memcmp(r.body, body, n) == 0,
			   "the body is not the first %zu bytes", n);
	}
	free(why);
	dg_cgi_req_free(&r);
	fclose(fp);
	close(STDIN_FILENO);
	free(cl);
	return 0;
}
