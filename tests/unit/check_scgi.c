/*
 * check_scgi: the SCGI head (the netstring, its pairs, CONTENT_LENGTH
 * first), every prefix of a sound head asking for more, a malformed one
 * refused with its reason, never a byte past the end read; and the
 * listening addresses refused before a socket is made.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

/* A head as the tests write it: the bytes and their count. */
#define H(s) s, sizeof(s) - 1

static const struct {
	const char *in;
	size_t len;
	int want;	   /* 0, 1 (more), -1 */
	const char *why;   /* -1: the message */
	size_t n, cl, off; /* 0: headers, CONTENT_LENGTH, body offset */
} cases[] = {
	{H("25:CONTENT_LENGTH\0"
	   "12\0"
	   "SCGI\0"
	   "1\0,"),
	 0, NULL, 2, 12, 29},
	{H("17:CONTENT_LENGTH\0"
	   "0\0,body"),
	 0, NULL, 1, 0, 21},
	{H("42:CONTENT_LENGTH\0"
	   "5\0"
	   "HTTP_X_SIGNATURE\0"
	   "sha256=\0,"),
	 0, NULL, 2, 5, 46},
	/* an empty value is a value */
	{H("25:CONTENT_LENGTH\0"
	   "0\0"
	   "HTTP_A\0"
	   "\0,"),
	 0, NULL, 2, 0, 29},
	{H(""), 1, NULL, 0, 0, 0},
	{H("1"), 1, NULL, 0, 0, 0},
	{H("17"), 1, NULL, 0, 0, 0},
	{H("17:CONTENT_LEN"), 1, NULL, 0, 0, 0},
	{H("17:CONTENT_LENGTH\0"
	   "0\0"),
	 1, NULL, 0, 0, 0},
	{H("x"), -1, "malformed SCGI netstring: byte 1 is not a digit or ':'",
	 0, 0, 0},
	{H("1x:"), -1, "malformed SCGI netstring: byte 2 is not a digit or ':'",
	 0, 0, 0},
	{H(":"), -1, "malformed SCGI netstring: no length before ':'", 0, 0, 0},
	{H("017:"), -1,
	 "malformed SCGI netstring: a length with a leading zero", 0, 0, 0},
	{H("0:,"), -1, "malformed SCGI headers: not ended by a NUL byte", 0, 0,
	 0},
	{H("65537:"), -1, "SCGI headers over the limit of 65536 bytes", 0, 0,
	 0},
	{H("99999999999"), -1, "SCGI headers over the limit of 65536 bytes", 0,
	 0, 0},
	{H("17:CONTENT_LENGTH\0"
	   "0\0;"),
	 -1,
	 "malformed SCGI netstring: byte 21 is not the ',' after 17 bytes of "
	 "headers",
	 0, 0, 0},
	{H("17:CONTENT_LENGTH\0"
	   "0x,"),
	 -1, "malformed SCGI headers: not ended by a NUL byte", 0, 0, 0},
	{H("15:CONTENT_LENGTH\0,"), -1,
	 "malformed SCGI headers: 'CONTENT_LENGTH' has no value", 0, 0, 0},
	{H("7:SCGI\0"
	   "1\0,"),
	 -1, "malformed SCGI headers: CONTENT_LENGTH is not the first", 0, 0,
	 0},
	{H("24:SCGI\0"
	   "1\0"
	   "CONTENT_LENGTH\0"
	   "0\0,"),
	 -1, "malformed SCGI headers: CONTENT_LENGTH is not the first", 0, 0,
	 0},
	{H("18:CONTENT_LENGTH\0"
	   "-1\0,"),
	 -1, "malformed SCGI CONTENT_LENGTH '-1': want a count of bytes", 0, 0,
	 0},
	{H("16:CONTENT_LENGTH\0\0,"), -1,
	 "malformed SCGI CONTENT_LENGTH '': want a count of bytes", 0, 0, 0},
	{H("36:CONTENT_LENGTH\0"
	   "99999999999999999999\0,"),
	 -1,
	 "malformed SCGI CONTENT_LENGTH '99999999999999999999': want a count "
	 "of bytes",
	 0, 0, 0},
	{H("31:CONTENT_LENGTH\0"
	   "0\0"
	   "SCGI\0"
	   "1\0"
	   "SCGI\0"
	   "1\0,"),
	 -1, "SCGI header 'SCGI' given twice", 0, 0, 0},
	{H("20:CONTENT_LENGTH\0"
	   "0\0"
	   "\0"
	   "x\0,"),
	 -1, "malformed SCGI headers: header name ''", 0, 0, 0},
	{H("23:CONTENT_LENGTH\0"
	   "0\0"
	   "A B\0"
	   "x\0,"),
	 -1, "malformed SCGI headers: header name 'A B'", 0, 0, 0},
};

/* Parse a copy of exactly len bytes on the heap: a read past the end is
 * one past an allocation (AddressSanitizer in the sanitizer build). */
static int parse(const char *in, size_t len, struct dg_scgi_head *h, char **why)
{
	char *copy = malloc(len ? len : 1);
	int ret;

	memcpy(copy, in, len);
	ret = dg_scgi_parse_head(copy, len, 65536, h, why);
	if (ret == 0) { /* point into the caller's bytes instead */
		size_t i;

		for (i = 0; i < h->n; i++) {
			h->h[i].name = in + (h->h[i].name - copy);
			h->h[i].value = in + (h->h[i].value - copy);
		}
	}
	free(copy);
	return ret;
}

START_TEST(test_heads)
{
	size_t i;

	for (i = 0; i < DG_NELEM(cases); i++) {
		struct dg_scgi_head h;
		char *why = NULL;
		int ret = parse(cases[i].in, cases[i].len, &h, &why);

		ck_assert_msg(ret == cases[i].want, "case %zu: %d, not %d (%s)",
			      i, ret, cases[i].want, why ? why : "");
		if (ret < 0) {
			ck_assert_str_eq(why, cases[i].why);
			ck_assert_ptr_null(h.h);
		} else {
			ck_assert_ptr_null(why);
		}
		if (ret == 0) {
			ck_assert_uint_eq(h.n, cases[i].n);
			ck_assert_uint_eq(h.content_length, cases[i].cl);
			ck_assert_uint_eq(h.body_off, cases[i].off);
			ck_assert_str_eq(h.h[0].name, "CONTENT_LENGTH");
		}
		free(why);
		dg_scgi_head_free(&h);
	}
}
END_TEST

/* Every prefix of a sound head is a sound beginning. */
START_TEST(test_prefixes_ask_for_more)
{
	static const char in[] = "42:CONTENT_LENGTH\0"
				 "5\0"
				 "HTTP_X_SIGNATURE\0"
				 "sha256=\0,";
	size_t k;

	for (k = 0; k < sizeof(in) - 1; k++) {
		struct dg_scgi_head h;
		char *why = NULL;

		ck_assert_int_eq(parse(in, k, &h, &why), 1);
		ck_assert_ptr_null(why);
	}
}
END_TEST

START_TEST(test_get)
{
	static const char in[] = "63:CONTENT_LENGTH\0"
				 "5\0"
				 "REQUEST_METHOD\0"
				 "POST\0"
				 "HTTP_STRIPE_SIGNATURE\0"
				 "t=1\0,";
	struct dg_scgi_head h;
	char *why = NULL;

	ck_assert_int_eq(
		dg_scgi_parse_head(in, sizeof(in) - 1, 65536, &h, &why), 0);
	ck_assert_str_eq(dg_scgi_get(&h, "REQUEST_METHOD"), "POST");
	ck_assert_str_eq(dg_scgi_get(&h, "HTTP_STRIPE_SIGNATURE"), "t=1");
	ck_assert_str_eq(dg_scgi_get(&h, "CONTENT_LENGTH"), "5");
	ck_assert_ptr_null(dg_scgi_get(&h, "HTTP_X_SIGNATURE"));
	ck_assert_ptr_null(dg_scgi_get(&h, "request_method"));
	dg_scgi_head_free(&h);
}
END_TEST

/* More headers than DG_SCGI_MAX_HEADERS: refused. */
START_TEST(test_too_many_headers)
{
	char *buf;
	size_t len, i;
	struct dg_scgi_head h;
	char *why = NULL, *in;
	int n;

	buf = dg_xmalloc(16 + 2 + 12 * (DG_SCGI_MAX_HEADERS + 1));
	memcpy(buf,
	       "CONTENT_LENGTH\0"
	       "0\0",
	       17);
	len = 17;
	for (i = 1; i <= DG_SCGI_MAX_HEADERS; i++) {
		n = snprintf(buf + len, 12, "H%04zu", i);
		len += (size_t)n + 1;
		buf[len++] = 'v';
		buf[len++] = '\0';
	}
	in = dg_xasprintf("%zu:", len);
	n = (int)strlen(in);
	in = dg_xrealloc(in, (size_t)n + len + 1);
	memcpy(in + n, buf, len);
	in[n + (int)len] = ',';
	ck_assert_int_eq(
		dg_scgi_parse_head(in, (size_t)n + len + 1, 65536, &h, &why),
		-1);
	ck_assert_str_eq(why, "more than 256 SCGI headers");
	free(why);
	free(in);
	free(buf);
}
END_TEST

START_TEST(test_listen_refusals)
{
	char path[200];
	char *out;
	int fd = -1;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	test_capture_begin();
	ck_assert_int_eq(dg_scgi_listen(path, &fd), DG_EXIT_USAGE);
	ck_assert_int_eq(dg_scgi_listen("localhost", &fd), DG_EXIT_USAGE);
	ck_assert_int_eq(dg_scgi_listen("example.com:80", &fd), DG_EXIT_USAGE);
	ck_assert_int_eq(dg_scgi_listen("127.0.0.1:", &fd), DG_EXIT_USAGE);
	out = test_capture_end();
	ck_assert_int_eq(fd, -1);
	ck_assert_ptr_nonnull(strstr(out, "is too long: at most 107 bytes"));
	ck_assert_ptr_nonnull(
		strstr(out, "t: --listen 'localhost': want a socket path (with "
			    "a '/') or HOST:PORT\n"));
	free(out);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("scgi");
	TCase *tc = tcase_create("scgi");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_heads);
	tcase_add_test(tc, test_prefixes_ask_for_more);
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_too_many_headers);
	tcase_add_test(tc, test_listen_refusals);
	suite_add_tcase(s, tc);
	return s;
}
