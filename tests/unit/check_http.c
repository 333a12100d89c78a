/* Unit tests for http.c: Retry-After, backoff bounds, options, and real
 * transfers against tests/httpd.py on 127.0.0.1 (skipped, with a message,
 * when top_srcdir is not set). */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

/* 2015-10-21T07:00:00Z */
#define FIXED_NOW 1445410800
/* hello.txt as the server describes it: the first 16 hex digits of its
 * SHA-256, and its mtime, set to 2015-10-21T07:28:00Z. */
#define HELLO_BODY  "hello, world\n"
#define HELLO_ETAG  "\"853ff93762a06ddb\""
#define HELLO_MTIME 1445412480
#define HELLO_DATE  "Wed, 21 Oct 2015 07:28:00 GMT"

/* ------------------------------------------------------ Retry-After */

static const struct {
	const char *value;
	long want;
} retry_afters[] = {
	{"120", 120},
	{"0", 0},
	{"1", 1},
	{" 7\t", 7},
	{"86400", 86400},
	{"86401", 86400},
	{"99999999999999999999999999", 86400},
	{"Wed, 21 Oct 2015 07:28:00 GMT", 1680},
	{"Wednesday, 21-Oct-15 07:28:00 GMT", 1680},
	{"Wed Oct 21 07:28:00 2015", 1680},
	{"Wed, 21 Oct 2015 07:00:00 GMT", 0},
	{"Wed, 21 Oct 2015 06:28:00 GMT", 0},
	{"Thu, 01 Jan 1970 00:00:00 GMT", 0},
	{"Thu, 22 Oct 2015 07:28:00 GMT", 86400},
	{"", -1},
	{"   ", -1},
	{"-1", -1},
	{"+5", -1},
	{"1.5", -1},
	{"12abc", -1},
	{"12 34", -1},
	{"soon", -1},
	{"Wed", -1},
	{"Wed, 32 Oct 2015 07:28:00 GMT", -1},
};

START_TEST(test_retry_after)
{
	ck_assert_int_eq(
		dg_http_parse_retry_after(retry_afters[_i].value, FIXED_NOW),
		retry_afters[_i].want);
}
END_TEST

START_TEST(test_retry_after_null)
{
	ck_assert_int_eq(dg_http_parse_retry_after(NULL, FIXED_NOW), -1);
}
END_TEST

/* ---------------------------------------------------------- backoff */

#define DRAWS 2000

static const struct {
	long base, max;
	int attempt;
	long retry_after;
	long lo, hi; /* every draw lies within [lo, hi] */
} backoffs[] = {
	{1000, 60000, 1, -1, 500, 1000},
	{1000, 60000, 2, -1, 1000, 2000},
	{1000, 60000, 3, -1, 2000, 4000},
	{1000, 60000, 4, -1, 4000, 8000},
	{1000, 60000, 5, -1, 8000, 16000},
	{1000, 60000, 6, -1, 16000, 32000},
	{1000, 60000, 7, -1, 32000, 60000},
	{1000, 60000, 8, -1, 60000, 60000},
	{1000, 60000, 9, -1, 60000, 60000},
	{1000, 60000, 10, -1, 60000, 60000},
	{1000, 60000, 0, -1, 500, 1000},
	{1000, 60000, 1000000, -1, 60000, 60000},
	{1000, 5000, 3, -1, 2000, 4000},
	{1000, 5000, 4, -1, 4000, 5000},
	{1000, 5000, 10, -1, 5000, 5000},
	{3, 1000000, 1, -1, 2, 3},
	{3, 1000000, 2, -1, 3, 6},
	{10, 1000, 1, -1, 5, 10},
	{10, 1000, 3, -1, 20, 40},
	{1, 1000, 1, -1, 1, 1},
	{0, 60000, 5, -1, 0, 0},
	{1000, 0, 1, -1, 0, 0},
	{1000, LONG_MAX, 70, -1, LONG_MAX - LONG_MAX / 2, LONG_MAX},
	/* Retry-After wins, capped, with no jitter below the cap. */
	{1000, 60000, 1, 0, 0, 0},
	{1000, 60000, 1, 1, 1000, 1000},
	{1000, 60000, 10, 1, 1000, 1000},
	{1000, 60000, 1, 30, 30000, 30000},
	{1000, 60000, 1, 60, 60000, 60000},
	{1000, 60000, 1, 61, 60000, 60000},
	{1000, 60000, 1, 86400, 60000, 60000},
	{1000, 60000, 1, LONG_MAX, 60000, 60000},
	{10, 50, 1, 1, 50, 50},
	{10, 1500, 1, 1, 1000, 1000},
	{10, 1500, 1, 2, 1500, 1500},
	{10, 999, 1, 1, 999, 999},
	{1000, 0, 1, 5, 0, 0},
};

START_TEST(test_backoff)
{
	struct dg_http_opts o;
	long lo = LONG_MAX, hi = LONG_MIN, w, span;
	int i;

	dg_http_opts_init(&o);
	o.retry_base_ms = backoffs[_i].base;
	o.retry_max_ms = backoffs[_i].max;
	for (i = 0; i < DRAWS; i++) {
		w = dg_http_backoff_ms(&o, backoffs[_i].attempt,
				       backoffs[_i].retry_after);
		ck_assert_int_ge(w, backoffs[_i].lo);
		ck_assert_int_le(w, backoffs[_i].hi);
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
	}
	/* The jitter spreads over the whole range: both outer quarters
	 * are reached (a miss has odds of (3/4)^2000). */
	span = backoffs[_i].hi - backoffs[_i].lo;
	ck_assert_int_le(lo - backoffs[_i].lo, span / 4);
	ck_assert_int_le(backoffs[_i].hi - hi, span / 4);
}
END_TEST

/* ---------------------------------------------------------- options */

START_TEST(test_opts_defaults)
{
	struct dg_http_opts o;

	unsetenv("DAIGOU_RETRY_BASE_MS");
	unsetenv("DAIGOU_RETRY_MAX_MS");
	dg_http_opts_init(&o);
	ck_assert_int_eq(o.connect_timeout_s, 10);
	ck_assert_int_eq(o.timeout_s, 60);
	ck_assert_int_eq(o.low_speed_bytes, 1000);
	ck_assert_int_eq(o.low_speed_time_s, 30);
	ck_assert_uint_eq(o.max_size, 16777216);
	ck_assert_int_eq(o.max_redirs, 5);
	ck_assert_int_eq(o.retries, 3);
	ck_assert_int_eq(o.retry_base_ms, 1000);
	ck_assert_int_eq(o.retry_max_ms, 60000);
}
END_TEST

static const struct {
	const char *base, *max; /* environment; NULL unsets */
	long want_base, want_max;
	const char *warning; /* on stderr */
} opt_envs[] = {
	{"10", "50", 10, 50, ""},
	{"0", "0", 0, 0, ""},
	{"10", NULL, 10, 60000, ""},
	{NULL, "250", 1000, 250, ""},
	{"", "", 1000, 60000, ""},
	{"9223372036854775807", NULL, LONG_MAX, 60000, ""},
	{"9223372036854775808", NULL, 1000, 60000,
	 "t: warning: ignoring malformed DAIGOU_RETRY_BASE_MS "
	 "'9223372036854775808': want milliseconds\n"},
	{"-5", NULL, 1000, 60000,
	 "t: warning: ignoring malformed DAIGOU_RETRY_BASE_MS '-5': "
	 "want milliseconds\n"},
	{"10ms", "abc", 1000, 60000,
	 "t: warning: ignoring malformed DAIGOU_RETRY_BASE_MS '10ms': "
	 "want milliseconds\n"
	 "t: warning: ignoring malformed DAIGOU_RETRY_MAX_MS 'abc': "
	 "want milliseconds\n"},
	{" 10", "+5", 1000, 60000,
	 "t: warning: ignoring malformed DAIGOU_RETRY_BASE_MS ' 10': "
	 "want milliseconds\n"
	 "t: warning: ignoring malformed DAIGOU_RETRY_MAX_MS '+5': "
	 "want milliseconds\n"},
};

static void set_or_unset(const char *name, const char *value)
{
	if (value)
		ck_assert_int_eq(setenv(name, value, 1), 0);
	else
		ck_assert_int_eq(unsetenv(name), 0);
}

START_TEST(test_opts_env)
{
	struct dg_http_opts o;
	char *err;

	set_or_unset("DAIGOU_RETRY_BASE_MS", opt_envs[_i].base);
	set_or_unset("DAIGOU_RETRY_MAX_MS", opt_envs[_i].max);
	test_capture_begin();
	dg_http_opts_init(&o);
	err = test_capture_end();
	ck_assert_str_eq(err, opt_envs[_i].warning);
	ck_assert_int_eq(o.retry_base_ms, opt_envs[_i].want_base);
	ck_assert_int_eq(o.retry_max_ms, opt_envs[_i].want_max);
	ck_assert_int_eq(o.retries, 3);
	free(err);
	unsetenv("DAIGOU_RETRY_BASE_MS");
	unsetenv("DAIGOU_RETRY_MAX_MS");
}
END_TEST

START_TEST(test_setup)
{
	struct dg_http_opts o;
	CURL *h = curl_easy_init();

	ck_assert_ptr_nonnull(h);
	dg_http_opts_init(&o);
	ck_assert_int_eq(dg_http_setup(h, &o), 0);
	o.timeout_s = 0;
	o.max_size = SIZE_MAX;
	ck_assert_int_eq(dg_http_setup(h, &o), 0);
	curl_easy_cleanup(h);
}
END_TEST

/* ------------------------------------------------ the test server */

/* Started once, in the runner's process, for every transfer test. A
 * failure to start is kept in srv_error and fails each test with it: a
 * failing unchecked fixture would not show in the TAP output. */
static char srv_dir[PATH_MAX];
static char srv_error[PATH_MAX + 100];
static pid_t srv_pid = -1;
static long srv_port;

static int write_hello(const char *path)
{
	struct timeval mtime[2] = {{HELLO_MTIME, 0}, {HELLO_MTIME, 0}};
	FILE *fp = fopen(path, "w");

	if (!fp)
		return -1;
	if (fputs(HELLO_BODY, fp) < 0) {
		fclose(fp);
		return -1;
	}
	if (fclose(fp))
		return -1;
	return utimes(path, mtime);
}

static long read_port(const char *path)
{
	char buf[16] = "";
	char *end;
	FILE *fp = fopen(path, "r");
	long port;

	if (!fp)
		return 0;
	if (!fgets(buf, sizeof(buf), fp))
		buf[0] = '\0';
	fclose(fp);
	errno = 0;
	port = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || port < 1 ||
	    port > 65535)
		return 0;
	return port;
}

static void server_start(void)
{
	const char *top = getenv("top_srcdir");
	const char *python = getenv("PYTHON3");
	const char *tmp = getenv("TMPDIR");
	char script[PATH_MAX], root[PATH_MAX], hello[PATH_MAX];
	char port_file[PATH_MAX], log[PATH_MAX];
	int i;

	if (!python || !*python)
		python = "python3";
	dg_xsnprintf(srv_dir, sizeof(srv_dir), "%s/check_http.XXXXXX",
		     tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(srv_dir)) {
		dg_xsnprintf(srv_error, sizeof(srv_error), "mkdtemp '%s': %s",
			     srv_dir, strerror(errno));
		srv_dir[0] = '\0';
		return;
	}
	dg_xsnprintf(script, sizeof(script), "%s/tests/httpd.py", top);
	dg_xsnprintf(root, sizeof(root), "%s/root", srv_dir);
	dg_xsnprintf(hello, sizeof(hello), "%s/hello.txt", root);
	dg_xsnprintf(port_file, sizeof(port_file), "%s/port", srv_dir);
	dg_xsnprintf(log, sizeof(log), "%s/log", srv_dir);
	if (mkdir(root, 0700) || write_hello(hello)) {
		dg_xsnprintf(srv_error, sizeof(srv_error),
			     "cannot create '%s': %s", hello, strerror(errno));
		return;
	}
	fflush(NULL);
	srv_pid = fork();
	if (srv_pid < 0) {
		dg_xsnprintf(srv_error, sizeof(srv_error), "fork: %s",
			     strerror(errno));
		return;
	}
	if (srv_pid == 0) {
		execlp(python, python, script, "--root", root, "--port-file",
		       port_file, "--log", log, (char *)NULL);
		fprintf(stderr, "check_http: cannot run '%s': %s\n", python,
			strerror(errno));
		_exit(127);
	}
	for (i = 0; i < 200 && !(srv_port = read_port(port_file)); i++) {
		if (waitpid(srv_pid, NULL, WNOHANG) != 0) {
			srv_pid = -1;
			break;
		}
		usleep(25000);
	}
	if (!srv_port)
		dg_xsnprintf(srv_error, sizeof(srv_error), "'%s %s' %s", python,
			     script,
			     srv_pid < 0 ? "exited before listening"
					 : "is not listening after 5 s");
}

static void need_server(void)
{
	ck_assert_msg(srv_port > 0, "no test server: %s", srv_error);
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

static void server_stop(void)
{
	if (srv_pid > 0) {
		kill(srv_pid, SIGTERM);
		waitpid(srv_pid, NULL, 0);
		srv_pid = -1;
	}
	if (srv_dir[0])
		nftw(srv_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void url_of(char *buf, size_t len, const char *path)
{
	dg_xsnprintf(buf, len, "http://127.0.0.1:%ld%s", srv_port, path);
}

struct buf {
	char *p;
	size_t len;
};

static size_t buf_write(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	b->p = dg_xrealloc(b->p, b->len + size * n + 1);
	memcpy(b->p + b->len, data, size * n);
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

/* A control request, with plain libcurl rather than the code under test.
 * body: POST it, else GET. Returns the response body (malloc'd). */
static char *control(const char *path, const char *body)
{
	struct buf b = {dg_xstrdup(""), 0};
	char url[256];
	long status = 0;
	CURL *h = curl_easy_init();

	ck_assert_ptr_nonnull(h);
	url_of(url, sizeof(url), path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	ck_assert_msg(status == 200, "%s: %ld %s", path, status, b.p);
	curl_easy_cleanup(h);
	return b.p;
}

/* Scripts are written with ' for " to keep the tables readable. */
static void script(const char *text)
{
	char *json = dg_xstrdup(text);
	char *p;

	for (p = json; *p; p++)
		if (*p == '\'')
			*p = '"';
	free(control("/_ctl/script", json));
	free(json);
}

/* Requests for path (with its query) in the server's log. */
static int requests_for(const char *path)
{
	char *log = control("/_ctl/log", NULL);
	char want[256];
	const char *p;
	int n = 0;

	dg_xsnprintf(want, sizeof(want), "\"path\": \"%s\",", path);
	for (p = log; (p = strstr(p, want)); p++)
		n++;
	free(log);
	return n;
}

/* The server's log entry for path, the last one (malloc'd). */
static char *log_entry(const char *path)
{
	char *log = control("/_ctl/log", NULL);
	char want[256];
	char *p, *line = NULL, *end;

	dg_xsnprintf(want, sizeof(want), "\"path\": \"%s\",", path);
	for (p = log; (p = strstr(p, want)); p++)
		line = p;
	ck_assert_msg(line != NULL, "no request for '%s' in the log", path);
	end = strchr(line, '\n');
	line = dg_xstrndup(line, end ? (size_t)(end - line) : strlen(line));
	free(log);
	return line;
}

/* ------------------------------------------------------- transfers */

static const struct {
	const char *path;
	const char *script; /* or NULL: the path is served as a file */
	const char *etag, *last_modified; /* validators sent */
	const char *now;		  /* DAIGOU_NOW */
	size_t max_size;		  /* 0: the default */
	long timeout_s;			  /* 0: the default */
	enum dg_http_outcome outcome;
	long status;
	const char *body; /* NULL: only len is checked */
	size_t len;
	const char *error; /* exact, or a prefix when it ends in '*' */
	long retry_after;
} transfers[] = {
	{"/hello.txt", NULL, NULL, NULL, NULL, 0, 0, DG_HTTP_OK, 200,
	 HELLO_BODY, 13, "", -1},
	{"/hello.txt", NULL, HELLO_ETAG, NULL, NULL, 0, 0, DG_HTTP_NOT_MODIFIED,
	 304, "", 0, "", -1},
	{"/hello.txt", NULL, HELLO_ETAG, "Wed, 21 Oct 2015 07:27:59 GMT", NULL,
	 0, 0, DG_HTTP_NOT_MODIFIED, 304, "", 0, "", -1},
	{"/hello.txt", NULL, "\"0000000000000000\"", NULL, NULL, 0, 0,
	 DG_HTTP_OK, 200, HELLO_BODY, 13, "", -1},
	{"/hello.txt", NULL, NULL, HELLO_DATE, NULL, 0, 0, DG_HTTP_NOT_MODIFIED,
	 304, "", 0, "", -1},
	{"/hello.txt", NULL, NULL, "Wed, 21 Oct 2015 07:27:59 GMT", NULL, 0, 0,
	 DG_HTTP_OK, 200, HELLO_BODY, 13, "", -1},
	{"/missing.txt", NULL, NULL, NULL, NULL, 0, 0, DG_HTTP_PERMANENT, 404,
	 "404 Not Found\n", 14, "http status 404", -1},
	{"/e500", "{'/e500': {'status': 500}}", NULL, NULL, NULL, 0, 0,
	 DG_HTTP_TRANSIENT, 500, "500 Internal Server Error\n", 26,
	 "http status 500", -1},
	{"/e502", "{'/e502': {'status': 502}}", NULL, NULL, NULL, 0, 0,
	 DG_HTTP_TRANSIENT, 502, NULL, 16, "http status 502", -1},
	{"/e503", "{'/e503': {'status': 503, 'retry_after': 7}}", NULL, NULL,
	 NULL, 0, 0, DG_HTTP_TRANSIENT, 503, NULL, 24, "http status 503", 7},
	{"/e504", "{'/e504': {'status': 504}}", NULL, NULL, NULL, 0, 0,
	 DG_HTTP_TRANSIENT, 504, NULL, 20, "http status 504", -1},
	{"/e599", "{'/e599': {'status': 599, 'body': ''}}", NULL, NULL, NULL, 0,
	 0, DG_HTTP_TRANSIENT, 599, "", 0, "http status 599", -1},
	{"/e410", "{'/e410': {'status': 410}}", NULL, NULL, NULL, 0, 0,
	 DG_HTTP_PERMANENT, 410, "410 Gone\n", 9, "http status 410", -1},
	{"/e403", "{'/e403': {'status': 403}}", NULL, NULL, NULL, 0, 0,
	 DG_HTTP_PERMANENT, 403, NULL, 14, "http status 403", -1},
	{"/e429", "{'/e429': {'status': 429, 'retry_after': 1}}", NULL, NULL,
	 NULL, 0, 0, DG_HTTP_TRANSIENT, 429, NULL, 22, "http status 429", 1},
	{"/e429date",
	 "{'/e429date': {'status': 429, "
	 "'retry_after': 'Wed, 21 Oct 2015 07:28:00 GMT'}}",
	 NULL, NULL, "2015-10-21T07:27:30Z", 0, 0, DG_HTTP_TRANSIENT, 429, NULL,
	 22, "http status 429", 30},
	{"/e429junk", "{'/e429junk': {'status': 429, 'retry_after': 'soon'}}",
	 NULL, NULL, NULL, 0, 0, DG_HTTP_TRANSIENT, 429, NULL, 22,
	 "http status 429", -1},
	{"/cut", "{'/cut': {'size': 100000, 'cut_after': 1000}}", NULL, NULL,
	 NULL, 0, 0, DG_HTTP_TRANSIENT, 200, NULL, 1000,
	 "transferred a partial file: transfer closed with 99000 bytes "
	 "remaining to read",
	 -1},
	{"/cut-chunked",
	 "{'/cut-chunked': {'size': 100000, 'chunked': true, "
	 "'chunk_size': 100, 'cut_after': 1000}}",
	 NULL, NULL, NULL, 0, 0, DG_HTTP_TRANSIENT, 200, NULL, 1000,
	 "transferred a partial file: transfer closed with outstanding read "
	 "data remaining",
	 -1},
	{"/chunked-big",
	 "{'/chunked-big': {'size': 5000, 'chunked': true, "
	 "'chunk_size': 100}}",
	 NULL, NULL, NULL, 1000, 0, DG_HTTP_PERMANENT, 200, NULL, 1000,
	 "response larger than 1000 bytes", -1},
	{"/chunked-fits",
	 "{'/chunked-fits': {'size': 1000, 'chunked': true, "
	 "'chunk_size': 100}}",
	 NULL, NULL, NULL, 1000, 0, DG_HTTP_OK, 200, NULL, 1000, "", -1},
	{"/declared-big", "{'/declared-big': {'size': 5000}}", NULL, NULL, NULL,
	 1000, 0, DG_HTTP_PERMANENT, 200, "", 0,
	 "response larger than 1000 bytes", -1},
	{"/big-503",
	 "{'/big-503': {'status': 503, 'size': 5000, 'chunked': true, "
	 "'chunk_size': 100}}",
	 NULL, NULL, NULL, 1000, 0, DG_HTTP_TRANSIENT, 503, NULL, 1000,
	 "http status 503", -1},
	{"/big-404", "{'/big-404': {'status': 404, 'size': 5000}}", NULL, NULL,
	 NULL, 1000, 0, DG_HTTP_PERMANENT, 404, "", 0, "http status 404", -1},
	{"/empty", "{'/empty': {'body': ''}}", NULL, NULL, NULL, 0, 0,
	 DG_HTTP_OK, 200, "", 0, "", -1},
	{"/to-ftp", "{'/to-ftp': {'location': 'ftp://127.0.0.1/x'}}", NULL,
	 NULL, NULL, 0, 0, DG_HTTP_PERMANENT, 302, NULL, 0,
	 "redirect to a protocol other than http or https refused", -1},
	{"/to-file", "{'/to-file': {'location': 'file:///etc/passwd'}}", NULL,
	 NULL, NULL, 0, 0, DG_HTTP_PERMANENT, 302, NULL, 0,
	 "redirect to a protocol other than http or https refused", -1},
	{"/loop", "{'/loop': {'location': '/loop', 'forever': true}}", NULL,
	 NULL, NULL, 0, 0, DG_HTTP_PERMANENT, 302, NULL, 0,
	 "number of redirects hit maximum amount: maximum (5) redirects "
	 "followed",
	 -1},
	{"/moved",
	 "{'/moved': {'status': 301, 'location': '/hello.txt', "
	 "'headers': {'ETag': 'W/\\'old\\'', 'Retry-After': '5'}}}",
	 NULL, NULL, NULL, 0, 0, DG_HTTP_OK, 200, HELLO_BODY, 13, "", -1},
	{"/slow", "{'/slow': {'delay': 3}}", NULL, NULL, NULL, 0, 1,
	 DG_HTTP_TRANSIENT, 0, "", 0,
	 "timeout was reached: operation timed out after *", -1},
};

static void check_error(const char *got, const char *want)
{
	size_t n = strlen(want);

	if (n > 0 && want[n - 1] == '*') {
		ck_assert_msg(!strncmp(got, want, n - 1) && got[0],
			      "error '%s' does not start with '%.*s'", got,
			      (int)n - 1, want);
		ck_assert_ptr_null(strchr(got, '\n'));
	} else {
		ck_assert_str_eq(got, want);
	}
}

START_TEST(test_transfer)
{
	struct dg_http_resp r;
	struct dg_http_opts o;
	char url[256];

	if (transfers[_i].script)
		script(transfers[_i].script);
	set_or_unset("DAIGOU_NOW", transfers[_i].now);
	dg_http_opts_init(&o);
	if (transfers[_i].max_size)
		o.max_size = transfers[_i].max_size;
	if (transfers[_i].timeout_s)
		o.timeout_s = transfers[_i].timeout_s;
	url_of(url, sizeof(url), transfers[_i].path);
	ck_assert_int_eq(dg_http_get(url, &o, transfers[_i].etag,
				     transfers[_i].last_modified, &r),
			 transfers[_i].outcome);
	ck_assert_int_eq(r.status, transfers[_i].status);
	ck_assert_ptr_nonnull(r.body);
	ck_assert_uint_eq(r.len, transfers[_i].len);
	ck_assert_uint_eq(strlen(r.body), r.len);
	if (transfers[_i].body)
		ck_assert_str_eq(r.body, transfers[_i].body);
	check_error(r.error, transfers[_i].error);
	ck_assert_int_eq(r.retry_after_s, transfers[_i].retry_after);
	dg_http_resp_free(&r);
	dg_http_resp_free(&r);
	unsetenv("DAIGOU_NOW");
}
END_TEST

START_TEST(test_validators_captured)
{
	struct dg_http_resp r;
	struct dg_http_opts o;
	char url[256];

	dg_http_opts_init(&o);
	url_of(url, sizeof(url), "/hello.txt");
	ck_assert_int_eq(dg_http_get(url, &o, NULL, NULL, &r), DG_HTTP_OK);
	ck_assert_str_eq(r.etag, HELLO_ETAG);
	ck_assert_str_eq(r.last_modified, HELLO_DATE);
	ck_assert_str_eq(r.content_type, "text/plain");
	dg_http_resp_free(&r);

	/* A 304 still carries the validators to keep. */
	ck_assert_int_eq(dg_http_get(url, &o, HELLO_ETAG, NULL, &r),
			 DG_HTTP_NOT_MODIFIED);
	ck_assert_str_eq(r.etag, HELLO_ETAG);
	ck_assert_str_eq(r.last_modified, HELLO_DATE);
	ck_assert_ptr_null(r.content_type);
	dg_http_resp_free(&r);

	/* Names in any case, values trimmed, an empty value is absent. */
	script("{'/odd': {'body': 'abc', 'headers': {"
	       "'etag': '\\'v1\\'', 'LAST-MODIFIED': '" HELLO_DATE " \\t', "
	       "'content-type': 'text/csv; charset=utf-8', "
	       "'retry-after': ' 3 '}}}");
	url_of(url, sizeof(url), "/odd");
	ck_assert_int_eq(dg_http_get(url, &o, NULL, NULL, &r), DG_HTTP_OK);
	ck_assert_str_eq(r.etag, "\"v1\"");
	ck_assert_str_eq(r.last_modified, HELLO_DATE);
	ck_assert_str_eq(r.content_type, "text/csv; charset=utf-8");
	ck_assert_int_eq(r.retry_after_s, 3);
	dg_http_resp_free(&r);

	script("{'/bare': {'body': 'abc', 'headers': {"
	       "'Content-Type': null, 'ETag': ''}}}");
	url_of(url, sizeof(url), "/bare");
	ck_assert_int_eq(dg_http_get(url, &o, NULL, NULL, &r), DG_HTTP_OK);
	ck_assert_ptr_null(r.etag);
	ck_assert_ptr_null(r.last_modified);
	ck_assert_ptr_null(r.content_type);
	ck_assert_int_eq(r.retry_after_s, -1);
	dg_http_resp_free(&r);
}
END_TEST

/* Only the final response of a redirect chain describes the body. */
START_TEST(test_redirect_headers)
{
	struct dg_http_resp r;
	struct dg_http_opts o;
	char url[256];

	script("{'/hop': {'location': '/hop2', 'headers': {"
	       "'ETag': '\\'hop\\'', 'Last-Modified': 'x', 'Retry-After': '9', "
	       "'Content-Type': 'text/html'}}, "
	       "'/hop2': {'status': 307, 'location': '/plain'}, "
	       "'/plain': {'body': 'done', 'headers': {'Content-Type': "
	       "null}}}");
	dg_http_opts_init(&o);
	url_of(url, sizeof(url), "/hop");
	ck_assert_int_eq(dg_http_get(url, &o, NULL, NULL, &r), DG_HTTP_OK);
	ck_assert_str_eq(r.body, "done");
	ck_assert_ptr_null(r.etag);
	ck_assert_ptr_null(r.last_modified);
	ck_assert_ptr_null(r.content_type);
	ck_assert_int_eq(r.retry_after_s, -1);
	dg_http_resp_free(&r);

	o.max_redirs = 1;
	script("{'/hop': {'location': '/hop2'}, "
	       "'/hop2': {'location': '/plain'}}");
	ck_assert_int_eq(dg_http_get(url, &o, NULL, NULL, &r),
			 DG_HTTP_PERMANENT);
	check_error(r.error, "number of redirects hit maximum amount: "
			     "maximum (1) redirects followed");
	dg_http_resp_free(&r);
}
END_TEST

START_TEST(test_request_headers)
{
	struct dg_http_resp r;
	struct dg_http_opts o;
	char url[256];
	char *entry;

	dg_http_opts_init(&o);
	url_of(url, sizeof(url), "/hello.txt?req=1");
	ck_assert_int_eq(dg_http_get(url, &o, "\"abc\"", HELLO_DATE, &r),
			 DG_HTTP_OK);
	dg_http_resp_free(&r);
	entry = log_entry("/hello.txt?req=1");
	ck_assert_ptr_nonnull(strstr(entry, "\"If-None-Match\": "
					    "\"\\\"abc\\\"\""));
	ck_assert_ptr_nonnull(
		strstr(entry, "\"If-Modified-Since\": \"" HELLO_DATE "\""));
	ck_assert_ptr_nonnull(strstr(
		entry, "\"User-Agent\": \"daigou-tools/" DG_VERSION "\""));
	ck_assert_ptr_nonnull(strstr(entry, "\"Accept-Encoding\": \""));
	free(entry);

	/* No validators, no conditional headers. */
	url_of(url, sizeof(url), "/hello.txt?req=2");
	ck_assert_int_eq(dg_http_get(url, &o, NULL, "", &r), DG_HTTP_OK);
	dg_http_resp_free(&r);
	entry = log_entry("/hello.txt?req=2");
	ck_assert_ptr_null(strstr(entry, "If-None-Match"));
	ck_assert_ptr_null(strstr(entry, "If-Modified-Since"));
	free(entry);

	/* A stored validator with a line break is not sent at all. */
	url_of(url, sizeof(url), "/hello.txt?req=3");
	ck_assert_int_eq(
		dg_http_get(url, &o, HELLO_ETAG "\r\nX-Evil: 1", NULL, &r),
		DG_HTTP_OK);
	dg_http_resp_free(&r);
	entry = log_entry("/hello.txt?req=3");
	ck_assert_ptr_null(strstr(entry, "If-None-Match"));
	free(entry);
}
END_TEST

START_TEST(test_refused_urls)
{
	static const char *const urls[] = {"ftp://127.0.0.1/x",
					   "file:///etc/passwd",
					   "gopher://127.0.0.1/"};
	struct dg_http_resp r;
	struct dg_http_opts o;
	size_t i;

	dg_http_opts_init(&o);
	for (i = 0; i < DG_NELEM(urls); i++) {
		ck_assert_int_eq(dg_http_get(urls[i], &o, NULL, NULL, &r),
				 DG_HTTP_PERMANENT);
		ck_assert_int_eq(r.status, 0);
		check_error(r.error, "unsupported protocol*");
		dg_http_resp_free(&r);
	}
	ck_assert_int_eq(dg_http_get("http://[::1", &o, NULL, NULL, &r),
			 DG_HTTP_PERMANENT);
	check_error(r.error, "URL using bad/illegal format*");
	dg_http_resp_free(&r);
}
END_TEST

START_TEST(test_closed_port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	struct dg_http_resp r;
	struct dg_http_opts o;
	char url[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* A port that was free a moment ago, and nobody listens on. */
	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	dg_xsnprintf(url, sizeof(url), "http://127.0.0.1:%d/x",
		     ntohs(sa.sin_port));
	dg_http_opts_init(&o);
	ck_assert_int_eq(dg_http_get(url, &o, NULL, NULL, &r),
			 DG_HTTP_TRANSIENT);
	ck_assert_int_eq(r.status, 0);
	check_error(r.error, "failed to connect to 127.0.0.1 port *");
	ck_assert_ptr_nonnull(strstr(r.error, ": couldn't connect to server"));
	ck_assert_uint_eq(r.len, 0);
	ck_assert_str_eq(r.body, "");
	dg_http_resp_free(&r);
}
END_TEST

/* ---------------------------------------------------------- retries */

/* Lines "t: retrying in N ms (attempt K of M): REASON" on stderr (no
 * URL: it may carry a key): checks each
 * against [lo, hi] of its attempt and returns how many there were. */
static int check_retry_lines(const char *err, const char *url,
			     const char *reason, const long (*bounds)[2])
{
	char prefix[300], suffix[300];
	const char *line = err, *nl;
	char *end;
	long ms;
	int n = 0;

	(void)url;
	dg_xsnprintf(prefix, sizeof(prefix), "t: retrying in ");
	for (; *line; line = nl + 1, n++) {
		dg_xsnprintf(suffix, sizeof(suffix), " ms (attempt %d of ",
			     n + 2);
		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		ck_assert_msg(!strncmp(line, prefix, strlen(prefix)),
			      "unexpected line: %.*s", (int)(nl - line), line);
		ms = strtol(line + strlen(prefix), &end, 10);
		ck_assert_msg(!strncmp(end, suffix, strlen(suffix)),
			      "unexpected line: %.*s", (int)(nl - line), line);
		end += strlen(suffix);
		strtol(end, &end, 10);
		ck_assert_msg(!strncmp(end, "): ", 3) &&
				  !strncmp(end + 3, reason, strlen(reason)) &&
				  end + 3 + strlen(reason) == nl,
			      "unexpected line: %.*s", (int)(nl - line), line);
		ck_assert_int_ge(ms, bounds[n][0]);
		ck_assert_int_le(ms, bounds[n][1]);
	}
	return n;
}

START_TEST(test_retry_succeeds)
{
	static const long bounds[][2] = {{5, 10}, {10, 20}};
	struct dg_http_resp r;
	struct dg_http_opts o;
	char url[256];
	char *err;

	setenv("DAIGOU_RETRY_BASE_MS", "10", 1);
	dg_http_opts_init(&o);
	ck_assert_int_eq(o.retry_base_ms, 10);
	script("{'/flaky': [{'status': 503}, {'status': 503}, "
	       "{'body': 'third'}]}");
	url_of(url, sizeof(url), "/flaky");
	dg_set_verbosity(1);
	test_capture_begin();
	ck_assert_int_eq(dg_http_get_retry(url, &o, NULL, NULL, &r),
			 DG_HTTP_OK);
	err = test_capture_end();
	dg_set_verbosity(0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "third");
	ck_assert_str_eq(r.error, "");
	dg_http_resp_free(&r);
	ck_assert_int_eq(requests_for("/flaky"), 3);
	ck_assert_int_eq(check_retry_lines(err, url, "http status 503", bounds),
			 2);
	free(err);
	unsetenv("DAIGOU_RETRY_BASE_MS");
}
END_TEST

/* Retries are quiet without -v, and the last failure is returned. */
START_TEST(test_retry_gives_up)
{
	struct dg_http_resp r;
	struct dg_http_opts o;
	char url[256];
	char *err;

	dg_http_opts_init(&o);
	o.retry_base_ms = 1;
	o.retries = 2;
	script("{'/down': {'status': 503, 'body': 'down', 'forever': true}}");
	url_of(url, sizeof(url), "/down");
	test_capture_begin();
	ck_assert_int_eq(dg_http_get_retry(url, &o, NULL, NULL, &r),
			 DG_HTTP_TRANSIENT);
	err = test_capture_end();
	ck_assert_str_eq(err, "");
	free(err);
	ck_assert_int_eq(r.status, 503);
	ck_assert_str_eq(r.body, "down");
	ck_assert_str_eq(r.error, "http status 503");
	dg_http_resp_free(&r);
	ck_assert_int_eq(requests_for("/down"), 3);

	o.retries = 0;
	url_of(url, sizeof(url), "/down?once");
	ck_assert_int_eq(dg_http_get_retry(url, &o, NULL, NULL, &r),
			 DG_HTTP_TRANSIENT);
	dg_http_resp_free(&r);
	ck_assert_int_eq(requests_for("/down?once"), 1);
}
END_TEST

START_TEST(test_retry_not_permanent)
{
	struct dg_http_resp r;
	struct dg_http_opts o;
	char url[256];

	dg_http_opts_init(&o);
	o.retry_base_ms = 1;
	url_of(url, sizeof(url), "/missing.txt?retry");
	ck_assert_int_eq(dg_http_get_retry(url, &o, NULL, NULL, &r),
			 DG_HTTP_PERMANENT);
	ck_assert_str_eq(r.error, "http status 404");
	dg_http_resp_free(&r);
	ck_assert_int_eq(requests_for("/missing.txt?retry"), 1);

	url_of(url, sizeof(url), "/hello.txt?retry");
	ck_assert_int_eq(dg_http_get_retry(url, &o, HELLO_ETAG, NULL, &r),
			 DG_HTTP_NOT_MODIFIED);
	dg_http_resp_free(&r);
	ck_assert_int_eq(requests_for("/hello.txt?retry"), 1);
}
END_TEST

/* Retry-After is honoured up to retry_max_ms, without jitter. */
START_TEST(test_retry_after_capped)
{
	static const long bounds[][2] = {{50, 50}};
	struct dg_http_resp r;
	struct dg_http_opts o;
	char url[256];
	char *err;

	setenv("DAIGOU_RETRY_MAX_MS", "50", 1);
	dg_http_opts_init(&o);
	script("{'/busy': [{'status': 429, 'retry_after': 1}, "
	       "{'body': 'ok'}]}");
	url_of(url, sizeof(url), "/busy");
	dg_set_verbosity(1);
	test_capture_begin();
	ck_assert_int_eq(dg_http_get_retry(url, &o, NULL, NULL, &r),
			 DG_HTTP_OK);
	err = test_capture_end();
	dg_set_verbosity(0);
	ck_assert_str_eq(r.body, "ok");
	dg_http_resp_free(&r);
	ck_assert_int_eq(check_retry_lines(err, url, "http status 429", bounds),
			 1);
	free(err);
	ck_assert_int_eq(requests_for("/busy"), 2);
	unsetenv("DAIGOU_RETRY_MAX_MS");
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("policy");

	tcase_add_loop_test(tc, test_retry_after, 0, DG_NELEM(retry_afters));
	tcase_add_test(tc, test_retry_after_null);
	tcase_add_loop_test(tc, test_backoff, 0, DG_NELEM(backoffs));
	tcase_add_test(tc, test_opts_defaults);
	tcase_add_loop_test(tc, test_opts_env, 0, DG_NELEM(opt_envs));
	tcase_add_test(tc, test_setup);
	suite_add_tcase(s, tc);

	if (!getenv("top_srcdir")) {
		fprintf(stderr, "check_http: top_srcdir is not set: skipping "
				"the transfers against tests/httpd.py\n");
		return s;
	}
	tc = tcase_create("transfers");
	tcase_set_timeout(tc, 20);
	tcase_add_unchecked_fixture(tc, server_start, server_stop);
	tcase_add_checked_fixture(tc, need_server, NULL);
	tcase_add_loop_test(tc, test_transfer, 0, DG_NELEM(transfers));
	tcase_add_test(tc, test_validators_captured);
	tcase_add_test(tc, test_redirect_headers);
	tcase_add_test(tc, test_request_headers);
	tcase_add_test(tc, test_refused_urls);
	tcase_add_test(tc, test_closed_port);
	tcase_add_test(tc, test_retry_succeeds);
	tcase_add_test(tc, test_retry_gives_up);
	tcase_add_test(tc, test_retry_not_permanent);
	tcase_add_test(tc, test_retry_after_capped);
	suite_add_tcase(s, tc);
	return s;
}
