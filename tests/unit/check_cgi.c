/*
 * check_cgi: the CGI request (method, strict CONTENT_LENGTH, the cap
 * before reading, the body read whole or refused), header lookup by the
 * CGI naming, and the reply's exact bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

static void setup(void)
{
	unsetenv("REQUEST_METHOD");
	unsetenv("CONTENT_LENGTH");
	unsetenv("CONTENT_TYPE");
}

/* Standard input holds len bytes of text (a rewound temporary file). */
static void stdin_text(const char *text, size_t len)
{
	FILE *fp = test_input_file(text, len);

	ck_assert_int_ne(dup2(fileno(fp), STDIN_FILENO), -1);
	fclose(fp);
}

static void request(const char *method, const char *length)
{
	if (method)
		ck_assert_int_eq(setenv("REQUEST_METHOD", method, 1), 0);
	if (length)
		ck_assert_int_eq(setenv("CONTENT_LENGTH", length, 1), 0);
}

/* dg_cgi_read's status; the message is compared when want_why is given. */
static int read_req(size_t max, struct dg_cgi_req *r, const char *want_why)
{
	char *why = NULL;
	int st = dg_cgi_read(max, r, &why);

	if (st == 0) {
		ck_assert_ptr_null(why);
	} else {
		ck_assert_ptr_nonnull(why);
		ck_assert_ptr_null(r->body);
		ck_assert_uint_eq(r->len, 0);
		if (want_why)
			ck_assert_str_eq(why, want_why);
	}
	free(why);
	return st;
}

START_TEST(test_post_reads_the_body)
{
	struct dg_cgi_req r;

	request("POST", "13");
	stdin_text("{\"id\": \"ch\"}\nEXTRA", 19);
	ck_assert_int_eq(read_req(100, &r, NULL), 0);
	ck_assert_uint_eq(r.len, 13);
	ck_assert_mem_eq(r.body, "{\"id\": \"ch\"}\n", 13);
	ck_assert_int_eq(r.body[13], '\0');
	dg_cgi_req_free(&r);
	ck_assert_ptr_null(r.body);
	ck_assert_uint_eq(r.len, 0);
}
END_TEST

START_TEST(test_body_with_nul_bytes)
{
	struct dg_cgi_req r;

	request("POST", "5");
	stdin_text("a\0b\0c", 5);
	ck_assert_int_eq(read_req(5, &r, NULL), 0);
	ck_assert_uint_eq(r.len, 5);
	ck_assert_mem_eq(r.body, "a\0b\0c", 5);
	dg_cgi_req_free(&r);
}
END_TEST

START_TEST(test_empty_body)
{
	struct dg_cgi_req r;

	request("POST", "0");
	stdin_text("", 0);
	ck_assert_int_eq(read_req(10, &r, NULL), 0);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_ptr_nonnull(r.body);
	ck_assert_str_eq(r.body, "");
	dg_cgi_req_free(&r);
}
END_TEST

START_TEST(test_methods_other_than_post)
{
	static const char *const methods[] = {"GET",  "HEAD",  "PUT",
					      "post", "POST ", ""};
	struct dg_cgi_req r;
	size_t i;

	for (i = 0; i < DG_NELEM(methods); i++) {
		request(methods[i], "2");
		stdin_text("{}", 2);
		ck_assert_int_eq(read_req(10, &r, NULL), 405);
	}
	request("GET", "2");
	ck_assert_int_eq(
		read_req(10, &r, "method 'GET' not allowed: POST only"), 405);
	request("GE\nT", "2");
	ck_assert_int_eq(
		read_req(10, &r, "method 'GE\\nT' not allowed: POST only"),
		405);
}
END_TEST

START_TEST(test_no_method)
{
	struct dg_cgi_req r;

	request(NULL, "2");
	ck_assert_int_eq(
		read_req(10, &r, "no REQUEST_METHOD: not a CGI request"), 405);
}
END_TEST

START_TEST(test_length_required)
{
	struct dg_cgi_req r;

	request("POST", NULL);
	stdin_text("{}", 2);
	ck_assert_int_eq(
		read_req(10, &r, "no CONTENT_LENGTH: a length is required"),
		411);
	request("POST", "");
	ck_assert_int_eq(read_req(10, &r, NULL), 411);
}
END_TEST

START_TEST(test_length_malformed)
{
	static const char *const bad[] = {"-1",
					  "+2",
					  " 2",
					  "2 ",
					  "2x",
					  "0x10",
					  "1e3",
					  "2.0",
					  "\xef\xbc\x92",
					  "1,000",
					  "18446744073709551616",
					  "99999999999999999999999999999999",
					  "18446744073709551615"};
	struct dg_cgi_req r;
	size_t i;

	for (i = 0; i < DG_NELEM(bad); i++) {
		request("POST", bad[i]);
		stdin_text("{}", 2);
		ck_assert_msg(read_req(SIZE_MAX, &r, NULL) == 400,
			      "CONTENT_LENGTH '%s' accepted", bad[i]);
	}
	request("POST", "-1");
	ck_assert_int_eq(read_req(10, &r,
				  "malformed CONTENT_LENGTH '-1': want a "
				  "count of bytes"),
			 400);
}
END_TEST

START_TEST(test_leading_zeros_are_a_count)
{
	struct dg_cgi_req r;

	request("POST", "002");
	stdin_text("{}", 2);
	ck_assert_int_eq(read_req(10, &r, NULL), 0);
	ck_assert_uint_eq(r.len, 2);
	dg_cgi_req_free(&r);
}
END_TEST

/* The cap is checked before reading: the body stays unread (a pipe with
 * nothing in it and its write end open would block a reader forever). */
START_TEST(test_over_the_cap_is_not_read)
{
	struct dg_cgi_req r;
	int fds[2];
	char c;

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], "{}", 2), 2);
	ck_assert_int_ne(dup2(fds[0], STDIN_FILENO), -1);
	close(fds[0]);
	request("POST", "1048577");
	ck_assert_int_eq(read_req(1048576, &r,
				  "body of 1048577 bytes is over the limit "
				  "of 1048576 bytes"),
			 413);
	request("POST", "18446744073709551614");
	ck_assert_int_eq(read_req(1048576, &r, NULL), 413);
	/* Nothing was consumed. */
	ck_assert_int_eq(read(STDIN_FILENO, &c, 1), 1);
	ck_assert_int_eq(c, '{');
	close(fds[1]);
}
END_TEST

START_TEST(test_at_the_cap)
{
	struct dg_cgi_req r;

	request("POST", "4");
	stdin_text("abcd", 4);
	ck_assert_int_eq(read_req(4, &r, NULL), 0);
	ck_assert_mem_eq(r.body, "abcd", 4);
	dg_cgi_req_free(&r);
}
END_TEST

START_TEST(test_short_body)
{
	struct dg_cgi_req r;

	request("POST", "10");
	stdin_text("abc", 3);
	ck_assert_int_eq(read_req(100, &r, "body ends after 3 of 10 bytes"),
			 400);
}
END_TEST

/* A pipe delivers the body in pieces: every short read is continued. */
START_TEST(test_body_in_pieces)
{
	struct dg_cgi_req r;
	int fds[2];
	pid_t pid;
	int status;
	size_t i, n = 200000;
	char *big = malloc(n);

	ck_assert_ptr_nonnull(big);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(fds[0]);
		for (i = 0; i < n; i += 1000) {
			if (write(fds[1], big + i, 1000) != 1000)
				_exit(1);
			if (i % 50000 == 0)
				usleep(1000);
		}
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_ne(dup2(fds[0], STDIN_FILENO), -1);
	close(fds[0]);
	request("POST", "200000");
	ck_assert_int_eq(read_req(n, &r, NULL), 0);
	ck_assert_uint_eq(r.len, n);
	ck_assert_mem_eq(r.body, big, n);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	dg_cgi_req_free(&r);
	free(big);
}
END_TEST

START_TEST(test_read_error)
{
	struct dg_cgi_req r;

	close(STDIN_FILENO);
	request("POST", "2");
	ck_assert_int_eq(read_req(10, &r,
				  "cannot read the body: Bad file "
				  "descriptor"),
			 400);
}
END_TEST

START_TEST(test_header_names)
{
	ck_assert_int_eq(setenv("HTTP_STRIPE_SIGNATURE", "t=1,v1=ab", 1), 0);
	ck_assert_int_eq(setenv("HTTP_X_SIGNATURE", "sha256=00", 1), 0);
	ck_assert_int_eq(setenv("HTTP_PAYPAL_TRANSMISSION_ID", "69cd13f0", 1),
			 0);
	ck_assert_int_eq(setenv("HTTP_EMPTY", "", 1), 0);
	ck_assert_int_eq(setenv("CONTENT_TYPE", "application/json", 1), 0);
	ck_assert_int_eq(setenv("CONTENT_LENGTH", "12", 1), 0);
	ck_assert_str_eq(dg_cgi_header("Stripe-Signature"), "t=1,v1=ab");
	ck_assert_str_eq(dg_cgi_header("stripe-signature"), "t=1,v1=ab");
	ck_assert_str_eq(dg_cgi_header("X-Signature"), "sha256=00");
	ck_assert_str_eq(dg_cgi_header("PAYPAL-TRANSMISSION-ID"), "69cd13f0");
	ck_assert_str_eq(dg_cgi_header("Empty"), "");
	ck_assert_str_eq(dg_cgi_header("Content-Type"), "application/json");
	ck_assert_str_eq(dg_cgi_header("content-length"), "12");
	ck_assert_ptr_null(dg_cgi_header("X-Missing"));
	ck_assert_ptr_null(dg_cgi_header(""));
	/* Names that are no header's never reach other variables. */
	ck_assert_ptr_null(dg_cgi_header("X_Signature"));
	ck_assert_ptr_null(dg_cgi_header("X-Signature="));
	ck_assert_ptr_null(dg_cgi_header("X Signature"));
	unsetenv("HTTP_STRIPE_SIGNATURE");
	ck_assert_ptr_null(dg_cgi_header("Stripe-Signature"));
}
END_TEST

/* The reply's bytes, written to a temporary file and read back. */
static char *reply_text(int status, long retry_after, const char *json, int *rc)
{
	FILE *fp = tmpfile();
	char *buf;
	long n;

	ck_assert_ptr_nonnull(fp);
	*rc = dg_cgi_reply(fp, status, retry_after, json);
	n = ftell(fp);
	ck_assert_int_ge(n, 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

START_TEST(test_reply)
{
	static const struct {
		int status;
		long retry;
		const char *json, *want;
	} cases[] = {
		{200, -1, "{\"result\":\"recorded\"}",
		 "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
		 "{\"result\":\"recorded\"}\n"},
		{503, 1, "{\"result\":\"busy\"}",
		 "Status: 503 Service Unavailable\r\nContent-Type: "
		 "application/json\r\nRetry-After: 1\r\n\r\n"
		 "{\"result\":\"busy\"}\n"},
		{503, 0, "{}",
		 "Status: 503 Service Unavailable\r\nContent-Type: "
		 "application/json\r\nRetry-After: 0\r\n\r\n{}\n"},
		{405, -1, "{}",
		 "Status: 405 Method Not Allowed\r\nContent-Type: "
		 "application/json\r\nAllow: POST\r\n\r\n{}\n"},
		{400, -1, "{}",
		 "Status: 400 Bad Request\r\nContent-Type: "
		 "application/json\r\n\r\n{}\n"},
		{401, -1, "{}",
		 "Status: 401 Unauthorized\r\nContent-Type: "
		 "application/json\r\n\r\n{}\n"},
		{409, -1, "{}",
		 "Status: 409 Conflict\r\nContent-Type: "
		 "application/json\r\n\r\n{}\n"},
		{411, -1, "{}",
		 "Status: 411 Length Required\r\nContent-Type: "
		 "application/json\r\n\r\n{}\n"},
		{413, -1, "{}",
		 "Status: 413 Content Too Large\r\nContent-Type: "
		 "application/json\r\n\r\n{}\n"},
		{500, -1, "{}",
		 "Status: 500 Internal Server Error\r\nContent-Type: "
		 "application/json\r\n\r\n{}\n"},
	};
	size_t i;
	int rc;

	for (i = 0; i < DG_NELEM(cases); i++) {
		char *got = reply_text(cases[i].status, cases[i].retry,
				       cases[i].json, &rc);

		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(got, cases[i].want);
		free(got);
	}
}
END_TEST

START_TEST(test_reply_refuses_unknown_status)
{
	int rc;
	char *got;

	errno = 0;
	got = reply_text(299, -1, "{}", &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(got, "");
	free(got);
	got = reply_text(200, -1, NULL, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(got, "");
	free(got);
}
END_TEST

START_TEST(test_reply_write_error)
{
	FILE *fp = fopen("/dev/full", "w");

	if (!fp)
		return; /* no /dev/full here: nothing to check */
	ck_assert_int_eq(dg_cgi_reply(fp, 200, -1, "{}"), -1);
	fclose(fp);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("cgi");
	TCase *tc = tcase_create("cgi");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_post_reads_the_body);
	tcase_add_test(tc, test_body_with_nul_bytes);
	tcase_add_test(tc, test_empty_body);
	tcase_add_test(tc, test_methods_other_than_post);
	tcase_add_test(tc, test_no_method);
	tcase_add_test(tc, test_length_required);
	tcase_add_test(tc, test_length_malformed);
	tcase_add_test(tc, test_leading_zeros_are_a_count);
	tcase_add_test(tc, test_over_the_cap_is_not_read);
	tcase_add_test(tc, test_at_the_cap);
	tcase_add_test(tc, test_short_body);
	tcase_add_test(tc, test_body_in_pieces);
	tcase_add_test(tc, test_read_error);
	tcase_add_test(tc, test_header_names);
	tcase_add_test(tc, test_reply);
	tcase_add_test(tc, test_reply_refuses_unknown_status);
	tcase_add_test(tc, test_reply_write_error);
	suite_add_tcase(s, tc);
	return s;
}
