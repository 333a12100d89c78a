/*
 * cgi.c - the CGI side of the webhook endpoint (RFC 3875).
 *
 * The web server hands the request over in the environment
 * (REQUEST_METHOD, CONTENT_LENGTH, one HTTP_* variable per request
 * header) and the body on standard input; the answer goes to standard
 * output as a Status line, headers, a blank line and the body. The
 * server is trusted to frame the request, not its contents: the length
 * is parsed strictly and checked against the cap before a byte is read.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "daigou.h"

/* Content-Length is 1*DIGIT (RFC 9110 8.6): no sign, no space, no
 * suffix. 0 with *n set, or -1 (malformed or past SIZE_MAX - 1). */
int dg_cgi_parse_length(const char *s, size_t *n)
{
	size_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (SIZE_MAX - 1 - (size_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (size_t)(*s - '0');
	}
	*n = v;
	return 0;
}

/* Read exactly len bytes of standard input into buf: the count read (less
 * than len at end of input), or -1 on a read error with errno set. */
static ssize_t read_all(char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(STDIN_FILENO, buf + got, len - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int dg_cgi_check(const char *method, const char *cl, size_t max_body,
		 size_t *len, char **why)
{
	*why = NULL;
	if (!method || strcmp(method, "POST") != 0) {
		*why = method ? dg_xasprintf("method %s not allowed: POST only",
					     dg_quoted(method))
			      : dg_xstrdup("no REQUEST_METHOD: not a CGI "
					   "request");
		return 405;
	}
	/* RFC 3875 4.1.2: an empty value is the same as none. */
	if (!cl || *cl == '\0') {
		*why = dg_xstrdup("no CONTENT_LENGTH: a length is required");
		return 411;
	}
	if (dg_cgi_parse_length(cl, len)) {
		*why = dg_xasprintf("malformed CONTENT_LENGTH %s: want a "
				    "count of bytes",
				    dg_quoted(cl));
		return 400;
	}
	if (*len > max_body) {
		*why = dg_xasprintf("body of %zu bytes is over the limit of "
				    "%zu bytes",
				    *len, max_body);
		return 413;
	}
	return 0;
}

int dg_cgi_read(size_t max_body, struct dg_cgi_req *r, char **why)
{
	size_t len;
	ssize_t got;
	char *buf;
	int http;

	r->body = NULL;
	r->len = 0;
	http = dg_cgi_check(getenv("REQUEST_METHOD"), getenv("CONTENT_LENGTH"),
			    max_body, &len, why);
	if (http)
		return http;
	buf = dg_xmalloc(len + 1);
	got = read_all(buf, len);
	if (got < 0) {
		*why = dg_xasprintf("cannot read the body: %s",
				    strerror(errno));
		free(buf);
		return 400;
	}
	if ((size_t)got < len) {
		*why = dg_xasprintf("body ends after %zd of %zu bytes", got,
				    len);
		free(buf);
		return 400;
	}
	buf[len] = '\0';
	r->body = buf;
	r->len = len;
	return 0;
}

void dg_cgi_req_free(struct dg_cgi_req *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

char *dg_cgi_var_name(const char *name)
{
	size_t n, i;
	char *var;

	n = strlen(name);
	if (n == 0)
		return NULL;
	/* The two headers the server passes without the HTTP_ prefix. */
	if (strcasecmp(name, "Content-Type") == 0)
		return dg_xstrdup("CONTENT_TYPE");
	if (strcasecmp(name, "Content-Length") == 0)
		return dg_xstrdup("CONTENT_LENGTH");
	var = dg_xmalloc(n + 6);
	memcpy(var, "HTTP_", 5);
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c == '-')
			c = '_';
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
			free(var);
			return NULL;
		}
		var[5 + i] = c;
	}
	var[5 + n] = '\0';
	return var;
}

const char *dg_cgi_header(const char *name)
{
	char *var = dg_cgi_var_name(name);
	const char *v = var ? getenv(var) : NULL;

	free(var);
	return v;
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	}
	return NULL;
}

int dg_cgi_reply(FILE *out, int status, long retry_after, const char *json_line)
{
	const char *phrase = reason_phrase(status);

	if (!phrase || !json_line) {
		errno = EINVAL;
		return -1;
	}
	fprintf(out, "Status: %d %s\r\nContent-Type: application/json\r\n",
		status, phrase);
	/* RFC 9110 15.5.6: a 405 names the methods the resource allows. */
	if (status == 405)
		fputs("Allow: POST\r\n", out);
	if (retry_after >= 0)
		fprintf(out, "Retry-After: %ld\r\n", retry_after);
	fprintf(out, "\r\n%s\n", json_line);
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}
