/*
 * scgi.c - the SCGI protocol and a server loop that hands complete
 * requests over in batches.
 *
 * An SCGI request (python.ca/scgi/protocol.txt) is a netstring of
 * headers, "LEN:" then LEN bytes of NUL-terminated name and value pairs
 * then ",", the first header CONTENT_LENGTH, followed by exactly that
 * many bytes of body; the answer is CGI-style output (a Status line,
 * headers, a blank line, the body), and the server closes the
 * connection. The web server in front is trusted to frame requests, not
 * to send sound ones: the head is parsed strictly, never past the bytes
 * given, and its size and the body's are capped before they are read.
 *
 * The loop polls the listening socket and the connections, reads
 * without blocking, and gives every request complete at that moment to
 * the caller at once, so that the caller can record them in one
 * transaction; a connection that trickles its request is closed at its
 * deadline and holds no one else up.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daigou.h"

/* More digits than any length under the cap can need. */
#define LEN_DIGITS_MAX 10

/* A header name is printable ASCII without space. */
static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

/* The length of the netstring: 0 with *n and *colon (its offset), 1
 * more bytes needed, or -1 with *why. */
static int head_length(const char *buf, size_t len, size_t max_head, size_t *n,
		       size_t *colon, char **why)
{
	size_t i, v = 0;

	for (i = 0; i < len && buf[i] != ':'; i++) {
		if (buf[i] < '0' || buf[i] > '9') {
			*why = dg_xasprintf("malformed SCGI netstring: byte "
					    "%zu is not a digit or ':'",
					    i + 1);
			return -1;
		}
		if (i == 1 && buf[0] == '0') {
			*why = dg_xstrdup("malformed SCGI netstring: a "
					  "length with a leading zero");
			return -1;
		}
		v = v * 10 + (size_t)(buf[i] - '0');
		if (i >= LEN_DIGITS_MAX || v > max_head) {
			*why = dg_xasprintf("SCGI headers over the limit of "
					    "%zu bytes",
					    max_head);
			return -1;
		}
	}
	if (i == len)
		return 1;
	if (i == 0) {
		*why = dg_xstrdup("malformed SCGI netstring: no length "
				  "before ':'");
		return -1;
	}
	*n = v;
	*colon = i;
	return 0;
}

/* The pairs of data[0..n), whose last byte is NUL, into h->h. 0 or -1
 * with *why. */
static int split_headers(const char *data, size_t n, struct dg_scgi_head *h,
			 char **why)
{
	size_t off = 0, k, cap = 0;

	while (off < n) {
		const char *name = data + off;
		size_t nl = strlen(name), vl;
		const char *value;

		if (off + nl + 1 >= n) {
			*why = dg_xasprintf("malformed SCGI headers: %s has "
					    "no value",
					    dg_quoted(name));
			return -1;
		}
		value = name + nl + 1;
		vl = strlen(value);
		if (!name_ok(name)) {
			*why = dg_xasprintf("malformed SCGI headers: header "
					    "name %s",
					    dg_quoted(name));
			return -1;
		}
		if (h->n == DG_SCGI_MAX_HEADERS) {
			*why = dg_xasprintf("more than %d SCGI headers",
					    DG_SCGI_MAX_HEADERS);
			return -1;
		}
		for (k = 0; k < h->n; k++)
			if (!strcmp(h->h[k].name, name)) {
				*why = dg_xasprintf("SCGI header %s given "
						    "twice",
						    dg_quoted(name));
				return -1;
			}
		if (h->n == cap) {
			cap = cap ? cap * 2 : 32;
			h->h = dg_xrealloc(h->h, cap * sizeof(*h->h));
		}
		h->h[h->n].name = name;
		h->h[h->n].value = value;
		h->n++;
		off += nl + 1 + vl + 1;
	}
	return 0;
}

int dg_scgi_parse_head(const char *buf, size_t len, size_t max_head,
		       struct dg_scgi_head *out, char **why)
{
	size_t n = 0, colon = 0, end;
	int ret;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if ((ret = head_length(buf, len, max_head, &n, &colon, why)))
		return ret;
	end = colon + 1 + n; /* the ',' */
	if (len <= end)
		return 1;
	if (buf[end] != ',') {
		*why = dg_xasprintf("malformed SCGI netstring: byte %zu is "
				    "not the ',' after %zu bytes of headers",
				    end + 1, n);
		return -1;
	}
	if (n == 0 || buf[end - 1] != '\0') {
		*why = dg_xstrdup("malformed SCGI headers: not ended by a "
				  "NUL byte");
		return -1;
	}
	if (split_headers(buf + colon + 1, n, out, why))
		goto bad;
	if (out->n == 0 || strcmp(out->h[0].name, "CONTENT_LENGTH")) {
		*why = dg_xstrdup("malformed SCGI headers: CONTENT_LENGTH "
				  "is not the first");
		goto bad;
	}
	if (dg_cgi_parse_length(out->h[0].value, &out->content_length)) {
		*why = dg_xasprintf("malformed SCGI CONTENT_LENGTH %s: want "
				    "a count of bytes",
				    dg_quoted(out->h[0].value));
		goto bad;
	}
	out->body_off = end + 1;
	return 0;
bad:
	dg_scgi_head_free(out);
	return -1;
}

void dg_scgi_head_free(struct dg_scgi_head *h)
{
	free(h->h);
	memset(h, 0, sizeof(*h));
}

const char *dg_scgi_get(const struct dg_scgi_head *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (!strcmp(h->h[i].name, name))
			return h->h[i].value;
	return NULL;
}

/* --------------------------------------------------------------- server */

enum conn_state {
	C_FREE = 0,
	C_HEAD,	  /* reading the netstring */
	C_BODY,	  /* reading the body */
	C_READY,  /* complete: waits for the batch */
	C_WRITE,  /* writing the answer */
	C_LINGER, /* answered; the unread rest drained until EOF */
};

struct conn {
	enum conn_state state;
	int fd;
	char *buf;
	size_t len, size, need; /* need: the bytes the request takes */
	uint64_t deadline;	/* ms, CLOCK_MONOTONIC */
	uint64_t seq;		/* order of completion */
	struct dg_scgi_req req;
	size_t out_off;
};

struct server {
	const struct dg_scgi_server *s;
	struct conn *c;
	struct pollfd *pfd;
	size_t *pidx; /* pfd[i] is c[pidx[i]], or the listener */
	size_t nopen;
	uint64_t seq;
};

static volatile sig_atomic_t got_term, got_hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void conn_close(struct server *sv, struct conn *c)
{
	close(c->fd);
	dg_scgi_head_free(&c->req.head);
	free(c->req.why);
	free(c->req.reply);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	sv->nopen--;
}

static void conn_ready(struct server *sv, struct conn *c)
{
	c->state = C_READY;
	c->seq = sv->seq++;
}

/* The head or body so far: moves the connection on when it is whole. */
static void conn_advance(struct server *sv, struct conn *c)
{
	const struct dg_scgi_server *s = sv->s;
	struct dg_scgi_req *r = &c->req;
	int ret;

	if (c->state == C_HEAD) {
		ret = dg_scgi_parse_head(c->buf, c->len, s->max_head, &r->head,
					 &r->why);
		if (ret == 1)
			return;
		if (ret < 0) {
			r->error = 400;
			conn_ready(sv, c);
			return;
		}
		if (r->head.content_length > s->max_body) {
			/* not read: the caller answers 413 */
			conn_ready(sv, c);
			return;
		}
		c->need = r->head.body_off + r->head.content_length;
		c->state = C_BODY;
	}
	if (c->state == C_BODY && c->len >= c->need) {
		/* the buffer may have moved since: the head points into
		 * it again (it parsed before, it parses the same now) */
		dg_scgi_head_free(&r->head);
		if (dg_scgi_parse_head(c->buf, c->len, s->max_head, &r->head,
				       &r->why))
			dg_die(DG_EXIT_SOFTWARE, "an SCGI head parsed twice "
						 "differently");
		r->body = c->buf + r->head.body_off;
		r->body_len = r->head.content_length;
		c->buf[c->need] = '\0'; /* bytes past the body are not its */
		r->body_read = true;
		conn_ready(sv, c);
	}
}

/* Read what the socket has. A closed or failed connection is closed. */
static void conn_read(struct server *sv, struct conn *c)
{
	const struct dg_scgi_server *s = sv->s;

	for (;;) {
		size_t want = c->state == C_BODY
				      ? c->need
				      : s->max_head + LEN_DIGITS_MAX + 2;
		ssize_t n;

		if (c->len == want) /* a head over the cap: parse says so */
			break;
		if (c->len == c->size) {
			c->size = c->size ? c->size * 2 : 4096;
			if (c->size > want)
				c->size = want;
			/* the body is a string: one byte more for a NUL */
			c->buf = dg_xrealloc(c->buf, c->size + 1);
		}
		n = read(c->fd, c->buf + c->len, c->size - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* gone before the request was whole: no answer */
			conn_close(sv, c);
			return;
		}
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		conn_advance(sv, c);
		if (c->state != C_HEAD && c->state != C_BODY)
			return;
	}
	conn_advance(sv, c);
}

static void conn_linger(struct server *sv, struct conn *c)
{
	char sink[4096];
	ssize_t n;

	while ((n = read(c->fd, sink, sizeof(sink))) > 0)
		;
	if (n == 0 ||
	    (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		conn_close(sv, c);
}

static void conn_write(struct server *sv, struct conn *c)
{
	struct dg_scgi_req *r = &c->req;

	while (c->out_off < r->reply_len) {
		ssize_t n = send(c->fd, r->reply + c->out_off,
				 r->reply_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			conn_close(sv, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	/* A body left unread (413, a malformed head) is drained until
	 * the peer closes, so that closing does not reset the answer. */
	if (!r->body_read && shutdown(c->fd, SHUT_WR) == 0) {
		c->state = C_LINGER;
		c->deadline = now_ms() + DG_SCGI_LINGER_MS;
		conn_linger(sv, c);
		return;
	}
	conn_close(sv, c);
}

static void accept_new(struct server *sv)
{
	const struct dg_scgi_server *s = sv->s;
	size_t i = 0;

	while (sv->nopen < s->max_conns) {
		int fd = accept4(s->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			/* EAGAIN, or another process took it; a failure
			 * of one connection (ECONNABORTED, EMFILE) is
			 * tried again at the next poll */
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				dg_warn("cannot accept a connection: %s",
					strerror(errno));
			return;
		}
		while (sv->c[i].state != C_FREE)
			i++;
		memset(&sv->c[i], 0, sizeof(sv->c[i]));
		sv->c[i].fd = fd;
		sv->c[i].state = C_HEAD;
		sv->c[i].deadline = now_ms() + (uint64_t)s->timeout_ms;
		sv->nopen++;
		conn_read(sv, &sv->c[i]);
	}
}

static int by_seq(const void *a, const void *b)
{
	const struct dg_scgi_req *x = *(const struct dg_scgi_req *const *)a;
	const struct dg_scgi_req *y = *(const struct dg_scgi_req *const *)b;
	const struct conn *cx =
		(const struct conn *)((const char *)x -
				      offsetof(struct conn, req));
	const struct conn *cy =
		(const struct conn *)((const char *)y -
				      offsetof(struct conn, req));

	return cx->seq < cy->seq ? -1 : cx->seq > cy->seq;
}

/* The requests complete now, in the order they completed, at most
 * max_batch, to the caller; then their answers are written. The number
 * still waiting for the next batch. */
static size_t run_batch(struct server *sv, struct dg_scgi_req **reqs)
{
	const struct dg_scgi_server *s = sv->s;
	size_t i, n = 0, left = 0;

	for (i = 0; i < s->max_conns; i++)
		if (sv->c[i].state == C_READY)
			reqs[n++] = &sv->c[i].req;
	if (!n)
		return 0;
	qsort(reqs, n, sizeof(*reqs), by_seq);
	if (n > s->max_batch) {
		left = n - s->max_batch;
		n = s->max_batch;
	}
	s->batch(s->arg, reqs, n);
	for (i = 0; i < n; i++) {
		struct conn *c = (struct conn *)((char *)reqs[i] -
						 offsetof(struct conn, req));

		c->state = C_WRITE;
		c->deadline = now_ms() + (uint64_t)s->timeout_ms;
		if (!c->req.reply) { /* the caller had no answer */
			conn_close(sv, c);
			continue;
		}
		conn_write(sv, c);
	}
	return left;
}

/* The poll set: the listener (unless full or stopping) and every open
 * connection; *timeout the nearest deadline. */
static nfds_t poll_set(struct server *sv, bool stopping, int *timeout)
{
	const struct dg_scgi_server *s = sv->s;
	uint64_t now = now_ms(), first = UINT64_MAX;
	nfds_t n = 0;
	size_t i;

	if (!stopping && sv->nopen < s->max_conns) {
		sv->pfd[n].fd = s->listen_fd;
		sv->pfd[n].events = POLLIN;
		sv->pidx[n++] = SIZE_MAX;
	}
	for (i = 0; i < s->max_conns; i++) {
		struct conn *c = &sv->c[i];

		if (c->state == C_FREE || c->state == C_READY)
			continue;
		if (c->deadline <= now) {
			/* a request not whole in time, an answer not
			 * taken: closed, unanswered */
			if (c->state != C_LINGER)
				dg_warn("SCGI connection closed after %d ms: "
					"%s",
					s->timeout_ms,
					c->state == C_WRITE
						? "the answer was not taken"
						: "the request did not come "
						  "whole");
			conn_close(sv, c);
			continue;
		}
		if (c->deadline < first)
			first = c->deadline;
		sv->pfd[n].fd = c->fd;
		sv->pfd[n].events = c->state == C_WRITE ? POLLOUT : POLLIN;
		sv->pidx[n++] = i;
	}
	*timeout = first == UINT64_MAX ? -1 : (int)(first - now);
	return n;
}

static void handle_events(struct server *sv, nfds_t n)
{
	nfds_t k;

	for (k = 0; k < n; k++) {
		struct conn *c;

		if (!sv->pfd[k].revents)
			continue;
		if (sv->pidx[k] == SIZE_MAX) {
			accept_new(sv);
			continue;
		}
		c = &sv->c[sv->pidx[k]];
		if (c->state == C_HEAD || c->state == C_BODY)
			conn_read(sv, c);
		else if (c->state == C_WRITE)
			conn_write(sv, c);
		else if (c->state == C_LINGER)
			conn_linger(sv, c);
	}
}

/* On SIGTERM: what is half read is dropped, what is whole is answered. */
static void stop_reading(struct server *sv)
{
	size_t i;

	for (i = 0; i < sv->s->max_conns; i++)
		if (sv->c[i].state == C_HEAD || sv->c[i].state == C_BODY ||
		    sv->c[i].state == C_LINGER)
			conn_close(sv, &sv->c[i]);
}

static void signals(sigset_t *old)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* blocked but in ppoll: a signal between a check of the flags
	 * and the wait is not lost */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, old);
}

int dg_scgi_serve(const struct dg_scgi_server *s)
{
	struct server sv = {.s = s};
	struct dg_scgi_req **reqs;
	sigset_t old;
	int fl, ret = 0;
	bool stopping = false;
	size_t i;

	fl = fcntl(s->listen_fd, F_GETFL);
	if (fl < 0 || fcntl(s->listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		dg_error("cannot use the listening socket: %s",
			 strerror(errno));
		return DG_EXIT_IOERR;
	}
	sv.c = dg_xcalloc(s->max_conns, sizeof(*sv.c));
	sv.pfd = dg_xcalloc(s->max_conns + 1, sizeof(*sv.pfd));
	sv.pidx = dg_xcalloc(s->max_conns + 1, sizeof(*sv.pidx));
	reqs = dg_xcalloc(s->max_conns, sizeof(*reqs));
	for (i = 0; i < s->max_conns; i++)
		sv.c[i].fd = -1;
	got_term = got_hup = 0;
	signals(&old);
	for (;;) {
		struct timespec ts, *tp = NULL;
		int timeout;
		nfds_t n;

		if (got_hup) {
			got_hup = 0;
			if (s->reload)
				s->reload(s->arg);
		}
		if (got_term && !stopping) {
			stopping = true;
			stop_reading(&sv);
		}
		while (run_batch(&sv, reqs))
			;
		n = poll_set(&sv, stopping, &timeout);
		if (stopping && n == 0)
			break;
		if (timeout >= 0) {
			ts.tv_sec = timeout / 1000;
			ts.tv_nsec = (long)(timeout % 1000) * 1000000;
			tp = &ts;
		}
		if (ppoll(sv.pfd, n, tp, &old) < 0) {
			if (errno == EINTR)
				continue;
			dg_error("poll: %s", strerror(errno));
			ret = DG_EXIT_IOERR;
			break;
		}
		handle_events(&sv, n);
	}
	for (i = 0; i < s->max_conns; i++)
		if (sv.c[i].state != C_FREE)
			conn_close(&sv, &sv.c[i]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(reqs);
	free(sv.pidx);
	free(sv.pfd);
	free(sv.c);
	return ret;
}

/* ------------------------------------------------------------ sockets */

/* A unix socket at path: a socket left there by an earlier run is
 * replaced, any other file refused. */
static int listen_unix(const char *path, int *fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat sb;
	int s;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		dg_error("socket path %s is too long: at most %zu bytes",
			 dg_quoted_path(path), sizeof(sa.sun_path) - 1);
		return DG_EXIT_USAGE;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			dg_error("%s exists and is not a socket",
				 dg_quoted_path(path));
			return DG_EXIT_CANTCREAT;
		}
		unlink(path);
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s, SOMAXCONN) < 0) {
		dg_error("cannot listen on %s: %s", dg_quoted_path(path),
			 strerror(errno));
		if (s >= 0)
			close(s);
		return DG_EXIT_CANTCREAT;
	}
	*fd = s;
	return 0;
}

/* HOST:PORT, HOST a numeric IPv4 address or [IPv6]. */
static int listen_inet(const char *addr, int *fd)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
					     AI_PASSIVE};
	const char *colon = strrchr(addr, ':');
	struct addrinfo *ai = NULL;
	char *host;
	int s = -1, one = 1, rc, ret = 0;

	if (!colon || colon == addr || !colon[1]) {
		dg_error("--listen %s: want a socket path (with a '/') or "
			 "HOST:PORT",
			 dg_quoted(addr));
		return DG_EXIT_USAGE;
	}
	host = dg_xstrndup(addr, (size_t)(colon - addr));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host) - 2);
		host[strlen(host) - 2] = '\0';
	}
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	free(host);
	if (rc) {
		dg_error("--listen %s: %s", dg_quoted(addr), gai_strerror(rc));
		return DG_EXIT_USAGE;
	}
	s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(s, SOMAXCONN) < 0) {
		dg_error("cannot listen on %s: %s", dg_quoted(addr),
			 strerror(errno));
		if (s >= 0)
			close(s);
		ret = DG_EXIT_CANTCREAT;
	} else {
		*fd = s;
	}
	freeaddrinfo(ai);
	return ret;
}

int dg_scgi_listen(const char *addr, int *fd)
{
	return strchr(addr, '/') ? listen_unix(addr, fd)
				 : listen_inet(addr, fd);
}

static bool is_listener(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

int dg_scgi_inherited(int *fd)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char self[32];

	snprintf(self, sizeof(self), "%ld", (long)getpid());
	if (pid && fds && !strcmp(pid, self)) {
		if (strcmp(fds, "1") || !is_listener(3)) {
			dg_error("LISTEN_FDS %s: want one listening socket, "
				 "on descriptor 3",
				 dg_quoted(fds));
			return DG_EXIT_USAGE;
		}
		*fd = 3;
		return 0;
	}
	if (!is_listener(STDIN_FILENO)) {
		dg_error("no listening socket on standard input: give "
			 "--listen, or run under a server that passes one "
			 "(lighttpd's bin-path, systemd's socket units)");
		return DG_EXIT_USAGE;
	}
	*fd = STDIN_FILENO;
	return 0;
}
