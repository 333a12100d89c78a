/*
 * http.c - libcurl with the house policy: http and https only, bounded
 * time and size, conditional GET, and retries with backoff for the
 * failures that are worth retrying.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "daigou.h"

/* A server asking for more than a day is treated as asking for a day;
 * the caller caps the wait much lower anyway (retry_max_ms). */
#define RETRY_AFTER_MAX_S (24L * 3600)
/* Longer than any HTTP date, shorter than anything worth parsing. */
#define HTTP_DATE_MAX 64

/* ------------------------------------------------------------ options */

/* A non-negative decimal from the environment into *out. Anything else
 * leaves *out alone: a typo must not turn the backoff off. */
static void env_ms(const char *name, long *out)
{
	const char *s = getenv(name);
	const char *p;
	long v = 0;

	if (!s || !*s)
		return;
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (v > (LONG_MAX - (*p - '0')) / 10)
			break;
		v = v * 10 + (*p - '0');
	}
	if (*p) {
		dg_warn("ignoring malformed %s %s: want milliseconds", name,
			dg_quoted(s));
		return;
	}
	*out = v;
}

void dg_http_opts_init(struct dg_http_opts *o)
{
	*o = (struct dg_http_opts){
		.connect_timeout_s = 10,
		.timeout_s = 60,
		.low_speed_bytes = 1000,
		.low_speed_time_s = 30,
		.max_size = 16 * 1024 * 1024,
		.max_redirs = 5,
		.retries = 3,
		.retry_base_ms = 1000,
		.retry_max_ms = 60000,
	};
	env_ms("DAIGOU_RETRY_BASE_MS", &o->retry_base_ms);
	env_ms("DAIGOU_RETRY_MAX_MS", &o->retry_max_ms);
}

/* MAXFILESIZE refuses a declared Content-Length up front; it cannot stop
 * a chunked body, which the write callback of each transfer must cap. */
int dg_http_setup(CURL *h, const struct dg_http_opts *o)
{
	/* curl_off_t is 64 bits wherever this builds; 0 means no limit */
	curl_off_t max =
		(uint64_t)o->max_size > INT64_MAX ? 0 : (curl_off_t)o->max_size;
	CURLcode rc;

	if ((rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https")) ||
	    (rc = curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
				   "http,https")) ||
	    (rc = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_MAXREDIRS, o->max_redirs)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
				   o->connect_timeout_s)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT,
				   o->low_speed_bytes)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
				   o->low_speed_time_s)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_USERAGENT,
				   "daigou-tools/" DG_VERSION)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "")) ||
	    (rc = curl_easy_setopt(h, CURLOPT_FAILONERROR, 0L)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_TIMEOUT,
				   o->timeout_s > 0 ? o->timeout_s : 0L)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, max))) {
		dg_error("cannot configure libcurl: %s",
			 curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------- one GET */

struct transfer {
	struct dg_http_resp *resp;
	size_t cap;	   /* bytes allocated for resp->body */
	size_t max;	   /* body cap */
	bool too_large;	   /* the write callback refused the body */
	char *retry_after; /* raw header value, parsed after the transfer */
};

void dg_http_resp_free(struct dg_http_resp *r)
{
	free(r->body);
	free(r->etag);
	free(r->last_modified);
	free(r->content_type);
	r->body = r->etag = r->last_modified = r->content_type = NULL;
	r->len = 0;
}

static void resp_init(struct dg_http_resp *r)
{
	*r = (struct dg_http_resp){.retry_after_s = -1};
	r->body = dg_xmalloc(1);
	r->body[0] = '\0';
}

/* One line, no control characters, and each part of a "what: detail:
 * detail" chain starting lowercase unless it is an acronym ("SSL"). */
static void set_error(struct dg_http_resp *r, const char *fmt, ...)
	DG_PRINTF(2, 3);
static void set_error(struct dg_http_resp *r, const char *fmt, ...)
{
	unsigned char *p = (unsigned char *)r->error;
	bool start = true;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
		if (start && isupper(*p) && !isupper(p[1]))
			*p = (unsigned char)tolower(*p);
		start = *p == ' ' && p > (unsigned char *)r->error &&
			p[-1] == ':';
	}
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	struct dg_http_resp *r = t->resp;
	size_t n = size * nmemb;
	size_t need;

	if (n > t->max - r->len) {
		t->too_large = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	need = r->len + n + 1;
	if (need > t->cap) {
		while (t->cap < need)
			t->cap = t->cap > SIZE_MAX / 2 ? need : t->cap * 2;
		r->body = dg_xrealloc(r->body, t->cap);
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static void forget_headers(struct transfer *t)
{
	struct dg_http_resp *r = t->resp;

	free(r->etag);
	free(r->last_modified);
	free(r->content_type);
	free(t->retry_after);
	r->etag = r->last_modified = r->content_type = t->retry_after = NULL;
}

static void keep_header(char **dst, const char *v, size_t len)
{
	free(*dst);
	*dst = len ? dg_xstrndup(v, len) : NULL;
}

static bool is_name(const char *s, size_t len, const char *name)
{
	return len == strlen(name) && !strncasecmp(s, name, len);
}

/* curl hands over every header line of every response, redirects and
 * 1xx included: a status line starts a new response, and only the last
 * one's validators describe the body we keep. */
static size_t on_header(char *line, size_t size, size_t nitems, void *arg)
{
	struct transfer *t = arg;
	struct dg_http_resp *r = t->resp;
	size_t n = size * nitems;
	const char *colon = memchr(line, ':', n);
	const char *v, *end = line + n;
	size_t name_len;

	if (n >= 5 && !memcmp(line, "HTTP/", 5)) {
		forget_headers(t);
		return n;
	}
	if (!colon || line[0] == ' ' || line[0] == '\t')
		return n;
	name_len = (size_t)(colon - line);
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	if (is_name(line, name_len, "ETag"))
		keep_header(&r->etag, v, (size_t)(end - v));
	else if (is_name(line, name_len, "Last-Modified"))
		keep_header(&r->last_modified, v, (size_t)(end - v));
	else if (is_name(line, name_len, "Content-Type"))
		keep_header(&r->content_type, v, (size_t)(end - v));
	else if (is_name(line, name_len, "Retry-After"))
		keep_header(&t->retry_after, v, (size_t)(end - v));
	return n;
}

/* A stored validator with a line break in it would let a damaged
 * database inject request headers: such a value is not sent. */
static int add_validator(struct curl_slist **list, const char *name,
			 const char *value)
{
	struct curl_slist *l;
	const unsigned char *p;
	size_t len;
	char *line;

	if (!value || !*value)
		return 0;
	for (p = (const unsigned char *)value; *p; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			dg_debug("not sending %s %s: control character", name,
				 dg_quoted(value));
			return 0;
		}
	}
	len = strlen(name) + strlen(value) + 3;
	line = dg_xmalloc(len);
	dg_xsnprintf(line, len, "%s: %s", name, value);
	l = curl_slist_append(*list, line);
	free(line);
	if (!l)
		return -1;
	*list = l;
	return 0;
}

static enum dg_http_outcome classify_status(struct dg_http_resp *r)
{
	long s = r->status;

	if (s >= 200 && s <= 299)
		return DG_HTTP_OK;
	if (s == 304)
		return DG_HTTP_NOT_MODIFIED;
	set_error(r, "http status %ld", s);
	/* 408: the server gave up waiting for us, as a timeout would. */
	if (s == 408 || s == 429 || (s >= 500 && s <= 599))
		return DG_HTTP_TRANSIENT;
	return DG_HTTP_PERMANENT;
}

bool dg_http_transient_code(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_HTTP2:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR: /* mostly a reset during the handshake */
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_AGAIN:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_QUIC_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return true;
	return false;
}

static enum dg_http_outcome classify(CURL *h, CURLcode rc, struct transfer *t,
				     char *errbuf)
{
	struct dg_http_resp *r = t->resp;
	const char *what = curl_easy_strerror(rc);
	long redirects = 0;
	size_t n;

	if (rc == CURLE_OK)
		return classify_status(r);
	/* An error page too big to keep still says what the status says. */
	if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		if (r->status >= 300)
			return classify_status(r);
		set_error(r, "response larger than %zu bytes", t->max);
		return DG_HTTP_PERMANENT;
	}
	curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL && redirects > 0) {
		set_error(r, "redirect to a protocol other than http or "
			     "https refused");
		return DG_HTTP_PERMANENT;
	}
	n = strlen(errbuf);
	while (n > 0 && isspace((unsigned char)errbuf[n - 1]))
		errbuf[--n] = '\0';
	if (!n || !strcasecmp(errbuf, what))
		set_error(r, "%s", what);
	else if (contains_nocase(errbuf, what))
		set_error(r, "%s", errbuf);
	else
		set_error(r, "%s: %s", what, errbuf);
	return dg_http_transient_code(rc) ? DG_HTTP_TRANSIENT : DG_HTTP_PERMANENT;
}

static int global_init(void)
{
	static bool done;

	if (!done && curl_global_init(CURL_GLOBAL_DEFAULT))
		return -1;
	done = true;
	return 0;
}

enum dg_http_outcome dg_http_get(const char *url, const struct dg_http_opts *o,
				 const char *etag, const char *last_modified,
				 struct dg_http_resp *resp)
{
	struct transfer t = {.resp = resp, .cap = 1, .max = o->max_size};
	enum dg_http_outcome out = DG_HTTP_PERMANENT;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	CURL *h = NULL;
	CURLcode rc;
	dg_time now;

	resp_init(resp);
	/* on_body needs room for the NUL after max bytes */
	if (t.max == SIZE_MAX)
		t.max--;
	if (global_init() || !(h = curl_easy_init())) {
		set_error(resp, "cannot initialise libcurl");
		goto out;
	}
	if (add_validator(&headers, "If-None-Match", etag) ||
	    add_validator(&headers, "If-Modified-Since", last_modified)) {
		set_error(resp, "out of memory");
		goto out;
	}
	if (dg_http_setup(h, o) || curl_easy_setopt(h, CURLOPT_URL, url) ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t) ||
	    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) ||
	    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t)) {
		set_error(resp, "cannot configure libcurl");
		goto out;
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (t.retry_after && !dg_now(&now))
		resp->retry_after_s =
			dg_http_parse_retry_after(t.retry_after, now);
	out = classify(h, rc, &t, errbuf);
out:
	free(t.retry_after);
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	return out;
}

/* ------------------------------------------------------------ retries */

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

enum dg_http_outcome dg_http_get_retry(const char *url,
				       const struct dg_http_opts *o,
				       const char *etag,
				       const char *last_modified,
				       struct dg_http_resp *resp)
{
	enum dg_http_outcome out;
	long wait;
	int retry;

	for (retry = 1;; retry++) {
		out = dg_http_get(url, o, etag, last_modified, resp);
		if (out != DG_HTTP_TRANSIENT || retry > o->retries)
			return out;
		wait = dg_http_backoff_ms(o, retry, resp->retry_after_s);
		/* no URL here: it may carry an API key; the caller names
		 * what it fetches in its own messages */
		dg_debug("retrying in %ld ms (attempt %d of %d): %s", wait,
			 retry + 1, o->retries + 1, resp->error);
		dg_http_resp_free(resp);
		sleep_ms(wait);
	}
}

long dg_http_parse_retry_after(const char *value, dg_time now)
{
	char date[HTTP_DATE_MAX];
	const char *p, *end;
	long secs = 0;
	time_t when;

	if (!value)
		return -1;
	for (p = value; *p == ' ' || *p == '\t'; p++)
		;
	for (end = p + strlen(p);
	     end > p && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	if (p == end)
		return -1;
	if (*p >= '0' && *p <= '9') {
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			if (secs <= RETRY_AFTER_MAX_S)
				secs = secs * 10 + (*p - '0');
		if (p != end)
			return -1;
		return secs < RETRY_AFTER_MAX_S ? secs : RETRY_AFTER_MAX_S;
	}
	/* Every HTTP date starts with a day name; curl_getdate would also
	 * take "-5" or "+5" for something. */
	if (!isalpha((unsigned char)*p) || (size_t)(end - p) >= sizeof(date))
		return -1;
	memcpy(date, p, (size_t)(end - p));
	date[end - p] = '\0';
	when = curl_getdate(date, NULL);
	if (when == -1)
		return -1;
	if (when <= now)
		return 0;
	if (when - now > RETRY_AFTER_MAX_S)
		return RETRY_AFTER_MAX_S;
	return (long)(when - now);
}

/* Jitter only: getrandom, or rand_r when that fails (old kernel). */
static uint64_t random_u64(void)
{
	static unsigned int seed;
	static bool seeded;
	uint64_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	if (!seeded) {
		seed = (unsigned int)time(NULL) ^
		       ((unsigned int)getpid() << 16);
		seeded = true;
	}
	v = (uint64_t)rand_r(&seed) << 31;
	return v ^ (uint64_t)rand_r(&seed);
}

long dg_http_backoff_ms(const struct dg_http_opts *o, int attempt,
			long retry_after_s)
{
	long cap = o->retry_max_ms > 0 ? o->retry_max_ms : 0;
	long full = o->retry_base_ms > 0 ? o->retry_base_ms : 0;
	long low, wait;
	int i;

	/* The server said when: no jitter, only our cap. */
	if (retry_after_s >= 0)
		return retry_after_s > cap / 1000 ? cap : retry_after_s * 1000;
	if (full == 0)
		return 0;
	for (i = 1; i < attempt; i++) {
		if (full > LONG_MAX / 2) {
			full = LONG_MAX;
			break;
		}
		full *= 2;
	}
	low = full - full / 2;
	wait = low + (long)(random_u64() % (uint64_t)(full - low + 1));
	return wait < cap ? wait : cap;
}
