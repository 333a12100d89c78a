/*
 * fuzz-scgi.c - the SCGI head (scgi.c) against an independent reading of
 * the netstring and its pairs.
 *
 * Input: byte 0 picks the cap on the head (16, 256 or 65536 bytes), the
 * rest is what a connection sent, copied to an allocation of exactly its
 * size so that a read past the end is caught. Properties: the answer is
 * the oracle's (sound: 0, a sound beginning: 1, else -1); -1 comes with
 * a one-line message and no headers, 0 and 1 with none; on 0 the headers
 * written back as a netstring are exactly the bytes before the body,
 * CONTENT_LENGTH first with its count, every name and value inside the
 * head; every shorter prefix of a sound head asks for more, and more
 * bytes after a refused one leave it refused.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "daigou.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-scgi");
	return 0;
}

static bool oracle_name(const uint8_t *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

static bool oracle_count(const uint8_t *s, size_t n)
{
	unsigned __int128 v = 0;
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > (unsigned __int128)SIZE_MAX - 1)
			return false;
	}
	return true;
}

/* The pairs of d[0..n) (ending in NUL): sound or not. */
static bool oracle_pairs(const uint8_t *d, size_t n)
{
	const uint8_t *names[DG_SCGI_MAX_HEADERS];
	size_t lens[DG_SCGI_MAX_HEADERS], count = 0, off = 0, k;

	while (off < n) {
		const uint8_t *name = d + off, *value;
		size_t nl = (size_t)((const uint8_t *)memchr(name, 0, n - off) -
				     name),
		       vl;

		if (off + nl + 1 >= n)
			return false;
		value = name + nl + 1;
		vl = (size_t)((const uint8_t *)memchr(value, 0,
						      n - off - nl - 1) -
			      value);
		if (!oracle_name(name, nl) || count == DG_SCGI_MAX_HEADERS)
			return false;
		for (k = 0; k < count; k++)
			if (lens[k] == nl && !memcmp(names[k], name, nl))
				return false;
		if (count == 0 &&
		    (nl != 14 || memcmp(name, "CONTENT_LENGTH", 14) ||
		     !oracle_count(value, vl)))
			return false;
		names[count] = name;
		lens[count++] = nl;
		off += nl + 1 + vl + 1;
	}
	return count > 0;
}

/* 0 sound, 1 a sound beginning, -1 malformed. */
static int oracle(const uint8_t *d, size_t size, size_t max_head)
{
	size_t i = 0, n = 0;

	while (i < size && d[i] >= '0' && d[i] <= '9') {
		if (i == 1 && d[0] == '0')
			return -1;
		n = n * 10 + (size_t)(d[i] - '0');
		if (n > max_head)
			return -1;
		i++;
	}
	if (i == size)
		return 1;
	if (d[i] != ':' || i == 0)
		return -1;
	if (size <= i + 1 + n)
		return 1;
	if (d[i + 1 + n] != ',' || n == 0 || d[i + n] != 0)
		return -1;
	return oracle_pairs(d + i + 1, n) ? 0 : -1;
}

static int parse(const uint8_t *data, size_t size, size_t max,
		 struct dg_scgi_head *h, char **why, char **copy)
{
	*copy = malloc(size ? size : 1);
	FUZZ_CHECK(*copy, "out of memory");
	if (size)
		memcpy(*copy, data, size);
	return dg_scgi_parse_head(*copy, size, max, h, why);
}

/* The head written back: "LEN:" pairs ",". */
static void check_written_back(const char *buf, const struct dg_scgi_head *h)
{
	size_t i, n = 0, off;
	char lenbuf[32];

	for (i = 0; i < h->n; i++)
		n += strlen(h->h[i].name) + strlen(h->h[i].value) + 2;
	off = (size_t)snprintf(lenbuf, sizeof(lenbuf), "%zu:", n);
	FUZZ_CHECK(off + n + 1 == h->body_off,
		   "%zu headers make %zu bytes, the body starts at %zu", h->n,
		   off + n + 1, h->body_off);
	FUZZ_CHECK(!memcmp(buf, lenbuf, off), "the length is not %s", lenbuf);
	for (i = 0; i < h->n; i++) {
		size_t nl = strlen(h->h[i].name), vl = strlen(h->h[i].value);

		FUZZ_CHECK(h->h[i].name == buf + off &&
				   h->h[i].value == buf + off + nl + 1,
			   "header %zu is not where the netstring has it", i);
		off += nl + vl + 2;
	}
	FUZZ_CHECK(buf[off] == ',', "no ',' after the headers");
	FUZZ_CHECK(!strcmp(h->h[0].name, "CONTENT_LENGTH"),
		   "the first header is not CONTENT_LENGTH");
	FUZZ_CHECK(h->content_length == strtoull(h->h[0].value, NULL, 10),
		   "CONTENT_LENGTH %s read as %zu", h->h[0].value,
		   h->content_length);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = {16, 256, 65536};
	struct dg_scgi_head h, h2;
	char *why = NULL, *why2 = NULL, *copy, *copy2;
	size_t max, k;
	int want, got;

	if (size < 1)
		return 0;
	max = caps[data[0] % 3];
	data++;
	size--;
	fuzz_capture_begin();
	want = oracle(data, size, max);
	got = parse(data, size, max, &h, &why, &copy);
	FUZZ_CHECK(got == want, "got %d, the oracle says %d (%s)", got, want,
		   why ? why : "");
	if (got < 0) {
		FUZZ_CHECK(why && *why && !strchr(why, '\n'),
			   "refused without a one-line message");
		FUZZ_CHECK(!h.h && h.n == 0, "refused with headers");
		/* more bytes do not make it sound */
		{
			uint8_t *more = malloc(size + 8);

			FUZZ_CHECK(more, "out of memory");
			memcpy(more, data, size);
			memcpy(more + size, "0:\0\0\0\0,x", 8);
			FUZZ_CHECK(parse(more, size + 8, max, &h2, &why2,
					 &copy2) == -1,
				   "refused, then sound with more bytes");
			free(more);
			free(copy2);
			free(why2);
			dg_scgi_head_free(&h2);
		}
	} else {
		FUZZ_CHECK(!why, "%d with a message", got);
	}
	if (got == 1)
		FUZZ_CHECK(size <= max + 12, "%zu bytes and still more wanted",
			   size);
	if (got == 0) {
		check_written_back(copy, &h);
		/* every shorter prefix asks for more (a few of them) */
		for (k = 0; k < h.body_off; k += 1 + h.body_off / 16) {
			FUZZ_CHECK(parse(data, k, max, &h2, &why2, &copy2) == 1,
				   "the prefix of %zu bytes is not a beginning",
				   k);
			free(copy2);
			free(why2);
			dg_scgi_head_free(&h2);
		}
		FUZZ_CHECK(parse(data, h.body_off - 1, max, &h2, &why2,
				 &copy2) == 1,
			   "the head without its ',' is not a beginning");
		free(copy2);
		free(why2);
		dg_scgi_head_free(&h2);
	}
	free(why);
	dg_scgi_head_free(&h);
	free(copy);
	fuzz_capture_end(NULL);
	return 0;
}
