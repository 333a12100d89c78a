/*
 * imgfetch.c - the transfer engine of img-sync: many downloads at once
 * through libcurl's multi interface, under one bandwidth cap, each body
 * checked and kept atomically or not at all.
 *
 * The cap is one token bucket shared by every transfer: the write
 * callback spends what it was handed (libcurl cannot hand back part of a
 * chunk, so the bucket may go into debt), and the loop pauses every
 * transfer's receiving while the debt lasts. What the sockets hold
 * meanwhile waits in the kernel; what img-sync reads averages the cap.
 */
#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "daigou.h"

/* The first bytes kept for the magic-number check. */
#define HEAD_BYTES 64
/* An error page's body is read (for the connection's reuse) up to this. */
#define ERROR_BODY_MAX (64 * 1024)
/* Room the temporary name adds to the final one: "." and ".tmp-XXXXXX". */
#define TMP_EXTRA      12
#define TMP_SUFFIX     ".tmp-"
#define NAME_MAX_BYTES 255
#define TICK_NS	       (200 * 1000000LL)
/* Threads that hash, fsync and rename finished bodies while the loop
 * goes on receiving (an fsync takes milliseconds; a disk writes faster
 * for several at once). */
#define NFINISHERS 4
/* Body bytes gathered before one write (libcurl hands over 16 KiB at a
 * time), and how often the kernel is asked to start writing back what
 * a transfer wrote: the final fsync then finds little left to write. */
#define WBUF_BYTES (64 * 1024)
#define WB_STEP	   (1024 * 1024)
/* Renamed files wait for their directories' fsync in batches of at most
 * this many: one fsync per directory per batch. */
#define DIRSYNC_BATCH 64

struct engine;

/* One job's transfer, kept across its attempts. */
struct xfer {
	struct engine *e;
	struct dg_imgjob *job;
	CURL *h;
	struct curl_slist *headers;
	int pdirfd; /* the product directory */
	int fd;	    /* the temporary file, -1 when none */
	char *tmpname;
	EVP_MD_CTX *md;
	int64_t received; /* body bytes of this attempt */
	char *buf;	  /* body bytes not yet written, WBUF_BYTES */
	size_t bufn;
	int64_t written, wb_off; /* written to fd; written back up to */
	unsigned char head[HEAD_BYTES];
	size_t headn;
	enum dg_img_type claimed;
	bool started, discard, conditional;
	bool paused; /* receiving paused while the bucket is in debt */
	char *why;   /* refused by the write callback (permanent) */
	int64_t retry_at_ns;
	struct xfer *next; /* in the running, retry or finisher lists */
	enum { FIN_KEPT, FIN_UNCHANGED, FIN_MISMATCH, FIN_ERROR } fin;
	int fin_errno;	     /* how reading back, fsync or rename failed */
	const char *fin_how; /* "read back", "fsync", "rename" */
	bool renamed;
	char errbuf[CURL_ERROR_SIZE];
};

/* The finishers' queues, guarded by mu; a post of sem for each body
 * queued (a semaphore: a condition variable's signal can wait for the
 * threads it woke to run, and the loop must not), a byte down the pipe
 * for each batch done, so that the loop's poll wakes up. Renamed files wait in
 * renamed until a finisher fsyncs their directories (and DIR, when a
 * product directory was made since its last fsync: top_gen counts
 * those made, top_synced those covered). */
struct finisher {
	pthread_mutex_t mu;
	sem_t sem;
	bool sem_ok;
	struct xfer *todo, *todo_tail, *done, *renamed;
	size_t nrenamed, busy;
	int pipe[2];
	int topfd;
	uint64_t top_gen, top_synced;
	pthread_t th[NFINISHERS];
	int nth;
	/* counted under mu */
	size_t files_synced, dirs_synced;
};

struct engine {
	const struct dg_imgfetch_opts *o;
	const struct dg_imgfetch_ops *ops;
	int dirfd;
	CURLM *m;
	struct dg_bucket bucket;
	bool limited, paused, no_more;
	struct xfer *running, *retries;
	size_t nrunning, nretries, nfinishing;
	struct finisher fin;
	int64_t bytes, tick_bytes, tick_ns;
	int64_t written_back; /* writeback started while receiving */
	char *spare;	      /* write buffers of finished transfers */
	char *last_product;   /* the product directory last opened */
	int last_pdirfd;
	int status;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void dg_imgfetch_opts_init(struct dg_imgfetch_opts *o)
{
	*o = (struct dg_imgfetch_opts){
		.concurrency = 10,
		.per_host = 6,
		.max_retry_after_s = 60,
	};
	dg_http_opts_init(&o->http);
	o->http.timeout_s = 300;
	o->http.max_size = 50 * 1024 * 1024;
}

const char *dg_img_result_name(enum dg_img_result r)
{
	switch (r) {
	case DG_IMGR_DOWNLOADED:
		return "downloaded";
	case DG_IMGR_UNCHANGED:
		return "unchanged";
	default:
		return "failed";
	}
}

void dg_imgjob_free(struct dg_imgjob *j)
{
	if (!j)
		return;
	free(j->url);
	free(j->product);
	free(j->name);
	free(j->etag);
	free(j->last_modified);
	free(j->old_sha256);
	free(j->want_sha256);
	free(j->new_etag);
	free(j->new_last_modified);
	free(j->reason);
	free(j);
}

enum dg_http_outcome dg_imgfetch_classify(CURLcode rc, long status,
					  bool *unreachable)
{
	*unreachable = false;
	if (rc != CURLE_OK) {
		*unreachable =
			status == 0 && (rc == CURLE_COULDNT_CONNECT ||
					rc == CURLE_COULDNT_RESOLVE_HOST ||
					rc == CURLE_COULDNT_RESOLVE_PROXY ||
					rc == CURLE_OPERATION_TIMEDOUT);
		return dg_http_transient_code(rc) ? DG_HTTP_TRANSIENT
						  : DG_HTTP_PERMANENT;
	}
	if (status >= 200 && status <= 299)
		return DG_HTTP_OK;
	if (status == 304)
		return DG_HTTP_NOT_MODIFIED;
	if (status == 408 || status == 429 || (status >= 500 && status <= 599))
		return DG_HTTP_TRANSIENT;
	return DG_HTTP_PERMANENT;
}

long dg_imgfetch_retry_ms(const struct dg_imgfetch_opts *o, int attempt,
			  long retry_after_s)
{
	if (retry_after_s >= 0) {
		if (retry_after_s > o->max_retry_after_s)
			retry_after_s = o->max_retry_after_s;
		return retry_after_s * 1000;
	}
	return dg_http_backoff_ms(&o->http, attempt, -1);
}

/* ------------------------------------------------------ temporary files */

int dg_img_is_tmp(const char *name)
{
	size_t n = strlen(name), i;
	const char *p;

	if (name[0] != '.' || n < 1 + 1 + strlen(TMP_SUFFIX) + 6)
		return 0;
	p = name + n - 6 - strlen(TMP_SUFFIX);
	if (memcmp(p, TMP_SUFFIX, strlen(TMP_SUFFIX)))
		return 0;
	for (i = n - 6; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

static void clean_dir(int topfd, const char *product, size_t *removed)
{
	int fd = openat(topfd, product,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *d;
	DIR *dir;

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((d = readdir(dir))) {
		if (dg_img_is_tmp(d->d_name) &&
		    !unlinkat(dirfd(dir), d->d_name, 0))
			++*removed;
	}
	closedir(dir);
}

int dg_img_clean_tmp(int dirfd, size_t *removed)
{
	int fd = dup(dirfd);
	struct dirent *d;
	DIR *dir;

	*removed = 0;
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(dir);
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		if (d->d_type == DT_DIR || d->d_type == DT_UNKNOWN)
			clean_dir(dirfd, d->d_name, removed);
	}
	closedir(dir);
	return 0;
}

static char *tmp_name(const char *name)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t n = strlen(name), i;
	unsigned char rnd[6];
	char *s;

	if (n > NAME_MAX_BYTES - TMP_EXTRA)
		n = NAME_MAX_BYTES - TMP_EXTRA;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)(mono_ns() >> (i * 3));
	s = dg_xmalloc(n + TMP_EXTRA + 1);
	s[0] = '.';
	memcpy(s + 1, name, n);
	memcpy(s + 1 + n, TMP_SUFFIX, strlen(TMP_SUFFIX));
	for (i = 0; i < sizeof(rnd); i++)
		s[1 + n + strlen(TMP_SUFFIX) + i] =
			chars[rnd[i] % (sizeof(chars) - 1)];
	s[n + TMP_EXTRA] = '\0';
	return s;
}

static void set_why(struct xfer *x, char *why)
{
	free(x->why);
	x->why = why;
}

/* A write buffer from the spares (a list through their first bytes),
 * or a new one: no more than the transfers at once are ever made. */
static char *buf_get(struct engine *e)
{
	char *b = e->spare;

	if (!b)
		return dg_xmalloc(WBUF_BYTES);
	memcpy(&e->spare, b, sizeof(char *));
	return b;
}

static void buf_put(struct engine *e, char **b)
{
	if (!*b)
		return;
	memcpy(*b, &e->spare, sizeof(char *));
	e->spare = *b;
	*b = NULL;
}

static void drop_tmp(struct xfer *x)
{
	buf_put(x->e, &x->buf);
	x->bufn = 0;
	if (x->fd >= 0) {
		close(x->fd);
		x->fd = -1;
	}
	if (x->tmpname) {
		unlinkat(x->pdirfd, x->tmpname, 0);
		free(x->tmpname);
		x->tmpname = NULL;
	}
}

static int open_tmp(struct xfer *x)
{
	int tries;

	for (tries = 0; tries < 10; tries++) {
		free(x->tmpname);
		x->tmpname = tmp_name(x->job->name);
		/* read back for its SHA-256 by a finisher */
		x->fd = openat(x->pdirfd, x->tmpname,
			       O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
				       O_CLOEXEC,
			       0644);
		if (x->fd >= 0 || errno != EEXIST)
			break;
	}
	if (x->fd < 0) {
		set_why(x, dg_xasprintf("cannot create a temporary file in "
					"%s: %s",
					dg_quoted_path(x->job->product),
					strerror(errno)));
		free(x->tmpname);
		x->tmpname = NULL;
		return -1;
	}
	x->buf = buf_get(x->e);
	x->bufn = 0;
	x->written = x->wb_off = 0;
	return 0;
}

/* ------------------------------------------------------- the body */

/* The first bytes of a 2xx body: its Content-Type must allow an image,
 * then the file is opened. Other statuses' bodies are read and dropped. */
static int body_start(struct xfer *x)
{
	long status = 0;
	char *ct = NULL;
	int ok = 0;

	x->started = true;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		x->discard = true;
		return 0;
	}
	curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &ct);
	x->claimed = dg_img_content_type(ct, &ok);
	if (!ok) {
		set_why(x, dg_xasprintf("not an image: Content-Type %s",
					dg_quoted(ct)));
		return -1;
	}
	return open_tmp(x);
}

/* Whether the first bytes are the image the response claims. */
static int check_magic(struct xfer *x)
{
	enum dg_img_type t = dg_img_sniff(x->head, x->headn);

	if (t == DG_IMG_NONE) {
		set_why(x, dg_xstrdup("not an image: the body starts with "
				      "no known image signature"));
		return -1;
	}
	if (x->claimed != DG_IMG_NONE && x->claimed != t) {
		set_why(x, dg_xasprintf("not an image: Content-Type says %s, "
					"the bytes are %s",
					dg_img_type_name(x->claimed),
					dg_img_type_name(t)));
		return -1;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Ask the kernel to start writing back what was written since the last
 * time: asynchronous, and a failure only leaves it to the fsync. */
static void writeback(struct xfer *x)
{
	int64_t n = x->written - x->wb_off;

	if (n > 0 &&
	    !sync_file_range(x->fd, x->wb_off, n, SYNC_FILE_RANGE_WRITE))
		x->e->written_back += n;
	x->wb_off = x->written;
}

/* The buffered bytes to the file; writeback started every WB_STEP. */
static int buf_flush(struct xfer *x)
{
	if (x->bufn && write_all(x->fd, x->buf, x->bufn)) {
		set_why(x, dg_xasprintf("cannot write %s/%s: %s",
					dg_quoted_path(x->job->product),
					dg_quoted_path(x->tmpname),
					strerror(errno)));
		return -1;
	}
	x->written += (int64_t)x->bufn;
	x->bufn = 0;
	if (x->written - x->wb_off >= WB_STEP)
		writeback(x);
	return 0;
}

static int buf_add(struct xfer *x, const char *data, size_t n)
{
	size_t take;

	while (n > 0) {
		take = WBUF_BYTES - x->bufn < n ? WBUF_BYTES - x->bufn : n;
		memcpy(x->buf + x->bufn, data, take);
		x->bufn += take;
		data += take;
		n -= take;
		if (x->bufn == WBUF_BYTES && buf_flush(x))
			return -1;
	}
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct engine *e = x->e;
	size_t n = size * nmemb, keep;
	int64_t now;

	if (e->limited) {
		/* In debt: this chunk waits in libcurl, handed over again
		 * once the loop unpauses, and libcurl stops reading the
		 * socket (it would read on while the kernel holds bytes). */
		now = mono_ns();
		if (dg_bucket_wait_ns(&e->bucket, now) > 0) {
			x->paused = e->paused = true;
			return CURL_WRITEFUNC_PAUSE;
		}
		dg_bucket_spend(&e->bucket, (int64_t)n, now);
	}
	e->bytes += (int64_t)n;
	if (!x->started && body_start(x))
		return 0;
	if (x->discard) {
		x->received += (int64_t)n;
		return x->received > ERROR_BODY_MAX ? 0 : n;
	}
	if ((uint64_t)x->received + n > e->o->http.max_size) {
		set_why(x, dg_xasprintf("larger than --max-size (%zu bytes)",
					e->o->http.max_size));
		return 0;
	}
	if (x->headn < HEAD_BYTES) {
		keep = HEAD_BYTES - x->headn < n ? HEAD_BYTES - x->headn : n;
		memcpy(x->head + x->headn, data, keep);
		x->headn += keep;
		if (x->headn == HEAD_BYTES && check_magic(x))
			return 0;
	}
	if (buf_add(x, data, n))
		return 0;
	x->received += (int64_t)n;
	return n;
}

/* ---------------------------------------------------- one attempt */

/* The file in place, when it is the one the row describes: then the
 * request is conditional and an equal body leaves it alone. */
static void check_in_place(struct xfer *x)
{
	struct dg_imgjob *j = x->job;
	struct stat st;

	if (!j->etag && !j->last_modified && !j->old_sha256 && j->old_bytes < 0)
		return; /* nothing stored to check it against */
	if (fstatat(x->pdirfd, j->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && j->old_bytes >= 0 &&
	    st.st_size == j->old_bytes)
		return;
	free(j->etag);
	free(j->last_modified);
	free(j->old_sha256);
	j->etag = j->last_modified = j->old_sha256 = NULL;
	j->old_bytes = -1;
}

/* A stored validator goes back exactly as it came (a weak W/ tag
 * included); one with a line break in it is not sent. */
static int add_header(struct curl_slist **list, const char *name,
		      const char *value)
{
	struct curl_slist *l;
	const unsigned char *p;
	char *line;

	if (!value || !*value)
		return 0;
	for (p = (const unsigned char *)value; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	line = dg_xasprintf("%s: %s", name, value);
	l = curl_slist_append(*list, line);
	free(line);
	if (!l)
		return -1;
	*list = l;
	return 0;
}

/* Under a cap, a small receive buffer: what the kernel takes ahead of
 * a paused transfer is what the server sees beyond the cap. An eighth
 * of a transfer's share of a second (the kernel doubles it). */
static int on_socket(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct engine *e = arg;
	int64_t share = e->o->limit_rate / e->o->concurrency / 8;
	int size = share < 32768     ? 32768
		   : share > 4194304 ? 4194304
				     : (int)share;

	if (purpose == CURLSOCKTYPE_IPCXN)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return CURL_SOCKOPT_OK;
}

static int start_attempt(struct xfer *x)
{
	struct engine *e = x->e;
	struct dg_imgjob *j = x->job;
	/* uncapped, a large receive buffer: a quarter of the reads (libcurl
	 * still hands the body over 16 KiB at a time) */
	long buf = e->limited ? 16384L : 262144L;

	x->started = x->discard = false;
	x->received = 0;
	x->headn = 0;
	x->errbuf[0] = '\0';
	j->attempts++;
	if (!(x->h = curl_easy_init()))
		goto fail;
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	x->conditional = j->etag || j->last_modified;
	if (add_header(&x->headers, "If-None-Match", j->etag) ||
	    add_header(&x->headers, "If-Modified-Since", j->last_modified))
		goto fail;
	if (dg_http_setup(x->h, &e->o->http) ||
	    curl_easy_setopt(x->h, CURLOPT_URL, j->url) ||
	    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->headers) ||
	    curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf) ||
	    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x) ||
	    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x) ||
	    curl_easy_setopt(x->h, CURLOPT_BUFFERSIZE, buf) ||
	    (e->limited &&
	     (curl_easy_setopt(x->h, CURLOPT_SOCKOPTFUNCTION, on_socket) ||
	      curl_easy_setopt(x->h, CURLOPT_SOCKOPTDATA, e))) ||
	    curl_multi_add_handle(e->m, x->h))
		goto fail;
	x->paused = false;
	if (e->paused) {
		x->paused = true;
		curl_easy_pause(x->h, CURLPAUSE_RECV);
	}
	return 0;
fail:
	set_why(x, dg_xstrdup("cannot set up the transfer"));
	curl_easy_cleanup(x->h);
	x->h = NULL;
	return -1;
}

static void xfer_free(struct xfer *x)
{
	drop_tmp(x);
	curl_easy_cleanup(x->h);
	if (x->pdirfd >= 0)
		close(x->pdirfd);
	curl_slist_free_all(x->headers);
	EVP_MD_CTX_free(x->md);
	free(x->why);
	free(x);
}

/* The product directory, made when missing and never a symlink; the
 * last one opened is kept, as a product's urls mostly come together.
 * One made is in DIR for good once a finisher has fsynced DIR. */
static int open_product(struct xfer *x)
{
	struct engine *e = x->e;
	const char *p = x->job->product;
	bool made;

	if (e->last_product && !strcmp(e->last_product, p)) {
		x->pdirfd = fcntl(e->last_pdirfd, F_DUPFD_CLOEXEC, 0);
		if (x->pdirfd < 0)
			goto fail;
		return 0;
	}
	made = mkdirat(e->dirfd, p, 0777) == 0;
	if (!made && errno != EEXIST)
		goto fail;
	x->pdirfd = openat(e->dirfd, p,
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (x->pdirfd < 0)
		goto fail;
	if (made) {
		pthread_mutex_lock(&e->fin.mu);
		e->fin.top_gen++;
		pthread_mutex_unlock(&e->fin.mu);
	}
	if (e->last_pdirfd >= 0)
		close(e->last_pdirfd);
	free(e->last_product);
	e->last_pdirfd = fcntl(x->pdirfd, F_DUPFD_CLOEXEC, 0);
	e->last_product = e->last_pdirfd >= 0 ? dg_xstrdup(p) : NULL;
	return 0;
fail:
	set_why(x,
		dg_xasprintf("cannot use directory %s: %s", dg_quoted_path(p),
			     errno == ELOOP ? "it is a symlink"
					    : strerror(errno)));
	return -1;
}

/* ------------------------------------------------------- finishing */

static int hand_over(struct engine *e, struct xfer *x)
{
	struct dg_imgjob *j = x->job;
	int ret;

	x->job = NULL;
	xfer_free(x);
	ret = e->ops->done(e->ops->ctx, j);
	if (ret && !e->status)
		e->status = ret;
	return ret;
}

static int fail_job(struct engine *e, struct xfer *x, char *reason)
{
	struct dg_imgjob *j = x->job;

	j->result = DG_IMGR_FAILED;
	free(j->reason);
	j->reason = reason;
	return hand_over(e, x);
}

static void header_value(CURL *h, const char *name, char **out)
{
	struct curl_header *hd = NULL;

	free(*out);
	*out = NULL;
	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hd) == CURLHE_OK &&
	    hd->value && *hd->value)
		*out = dg_xstrdup(hd->value);
}

/* ------------------------------------------------- the finishers */

/* The file's SHA-256 from its bytes as written (in the page cache, the
 * loop thread only moves bytes): 0, or -1 with errno. Read rather than
 * mapped: unmapping would interrupt the other threads. */
static int hash_file(struct xfer *x, unsigned char *rbuf)
{
	struct dg_imgjob *j = x->job;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	int64_t off = 0;
	ssize_t n;

	if (EVP_DigestInit_ex(x->md, EVP_sha256(), NULL) != 1)
		return errno = ENOMEM, -1;
	while (off < x->written) {
		n = pread(x->fd, rbuf, WBUF_BYTES, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errno = n ? errno : EIO, -1;
		EVP_DigestUpdate(x->md, rbuf, (size_t)n);
		off += n;
	}
	if (EVP_DigestFinal_ex(x->md, md, &mdlen) != 1 || mdlen != 32)
		return errno = ENOMEM, -1;
	for (i = 0; i < mdlen; i++)
		dg_xsnprintf(j->sha256 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Hash the body, then (unless it is refused or the same as the file in
 * place) fsync it and rename it over the final name: in a finisher
 * thread, touching only x. The directory's fsync comes after, for a
 * batch. */
static void keep_file(struct xfer *x, unsigned char *rbuf)
{
	struct dg_imgjob *j = x->job;
	int fd = x->fd;

	x->fin = FIN_ERROR;
	x->fin_errno = 0;
	if (hash_file(x, rbuf)) {
		x->fin_errno = errno;
		x->fin_how = "read back";
		return;
	}
	if (j->want_sha256 && strcmp(j->want_sha256, j->sha256)) {
		x->fin = FIN_MISMATCH;
		return;
	}
	if (j->old_sha256 && j->old_bytes == x->received &&
	    !strcmp(j->old_sha256, j->sha256)) {
		x->fin = FIN_UNCHANGED;
		return;
	}
	x->fd = -1;
	if (fsync(fd)) {
		x->fin_errno = errno;
		x->fin_how = "fsync";
		close(fd);
		return;
	}
	if (close(fd) ||
	    renameat(x->pdirfd, x->tmpname, x->pdirfd, x->job->name)) {
		x->fin_errno = errno;
		x->fin_how = "rename";
		return;
	}
	x->fin = FIN_KEPT;
	x->renamed = true;
}

static int by_product(const void *a, const void *b)
{
	const struct xfer *const *x = a, *const *y = b;

	return strcmp((*x)->job->product, (*y)->job->product);
}

/* fsync the directories of a batch of renamed files, each once, and DIR
 * when a product directory was made since it was last fsynced (gen:
 * the directories made before the batch was taken). Unlocked. */
static void sync_dirs(struct finisher *f, struct xfer *batch, size_t n,
		      uint64_t gen)
{
	struct xfer **v = dg_xmalloc(n * sizeof(*v)), *x;
	size_t i = 0, dirs = 0;
	bool top;

	for (x = batch; x && i < n; x = x->next)
		v[i++] = x;
	qsort(v, i, sizeof(*v), by_product);
	pthread_mutex_lock(&f->mu);
	top = f->top_synced < gen;
	pthread_mutex_unlock(&f->mu);
	if (top) {
		fsync(f->topfd);
		dirs++;
		pthread_mutex_lock(&f->mu);
		if (f->top_synced < gen)
			f->top_synced = gen;
		pthread_mutex_unlock(&f->mu);
	}
	for (n = i, i = 0; i < n; i++) {
		if (i && !strcmp(v[i - 1]->job->product, v[i]->job->product))
			continue;
		fsync(v[i]->pdirfd);
		dirs++;
	}
	free(v);
	pthread_mutex_lock(&f->mu);
	f->dirs_synced += dirs;
	f->files_synced += n;
	pthread_mutex_unlock(&f->mu);
}

/* Under mu: the renamed files' directories fsynced, a batch at a time,
 * then the files done, when nothing else is being finished or the batch
 * is full. 1 when some were done. */
static bool sync_batches(struct finisher *f)
{
	struct xfer *batch, *last;
	size_t n;
	uint64_t gen;
	bool any = false;

	while (f->renamed &&
	       ((!f->todo && !f->busy) || f->nrenamed >= DIRSYNC_BATCH)) {
		batch = f->renamed;
		n = f->nrenamed;
		gen = f->top_gen;
		f->renamed = NULL;
		f->nrenamed = 0;
		pthread_mutex_unlock(&f->mu);
		sync_dirs(f, batch, n, gen);
		for (last = batch; last->next; last = last->next)
			;
		pthread_mutex_lock(&f->mu);
		last->next = f->done;
		f->done = batch;
		any = true;
	}
	return any;
}

static void *finisher_main(void *arg)
{
	struct finisher *f = arg;
	unsigned char *rbuf = dg_xmalloc(WBUF_BYTES);
	struct xfer *x;
	bool wake;
	ssize_t w;

	for (;;) {
		while (sem_wait(&f->sem) && errno == EINTR)
			;
		pthread_mutex_lock(&f->mu);
		if (!(x = f->todo)) { /* a post of finishers_stop's */
			pthread_mutex_unlock(&f->mu);
			free(rbuf);
			return NULL;
		}
		if (!(f->todo = x->next))
			f->todo_tail = NULL;
		f->busy++;
		pthread_mutex_unlock(&f->mu);
		keep_file(x, rbuf);
		pthread_mutex_lock(&f->mu);
		f->busy--;
		if ((wake = !x->renamed)) {
			x->next = f->done;
			f->done = x;
		} else {
			x->next = f->renamed;
			f->renamed = x;
			f->nrenamed++;
		}
		wake |= sync_batches(f);
		pthread_mutex_unlock(&f->mu);
		if (!wake)
			continue;
		do /* a full pipe has a byte waiting already */
			w = write(f->pipe[1], "", 1);
		while (w < 0 && errno == EINTR);
	}
}

static void finishers_start(struct finisher *f, int topfd)
{
	*f = (struct finisher){.pipe = {-1, -1}, .topfd = topfd};
	if (pthread_mutex_init(&f->mu, NULL) || sem_init(&f->sem, 0, 0))
		return;
	f->sem_ok = true;
	if (pipe2(f->pipe, O_NONBLOCK | O_CLOEXEC))
		return;
	while (f->nth < NFINISHERS &&
	       !pthread_create(&f->th[f->nth], NULL, finisher_main, f))
		f->nth++;
}

/* Wait for the bodies under way and stop the threads. */
static void finishers_stop(struct finisher *f)
{
	int i;

	/* each thread ends at a post that finds the queue empty: after
	 * the bodies queued, each with its own post */
	for (i = 0; i < f->nth; i++)
		sem_post(&f->sem);
	for (i = 0; i < f->nth; i++)
		pthread_join(f->th[i], NULL);
	if (f->pipe[0] >= 0) {
		close(f->pipe[0]);
		close(f->pipe[1]);
	}
	if (f->sem_ok)
		sem_destroy(&f->sem);
	pthread_mutex_destroy(&f->mu);
}

/* A kept file, an unchanged or refused body, or the reason it could not
 * be kept, to the caller. */
static int file_kept(struct engine *e, struct xfer *x)
{
	struct dg_imgjob *j = x->job;

	switch (x->fin) {
	case FIN_KEPT:
		free(x->tmpname);
		x->tmpname = NULL;
		j->result = DG_IMGR_DOWNLOADED;
		return hand_over(e, x);
	case FIN_UNCHANGED:
		drop_tmp(x);
		j->result = DG_IMGR_UNCHANGED;
		return hand_over(e, x);
	case FIN_MISMATCH:
		return fail_job(e, x,
				dg_xasprintf("sha256 %s differs from the "
					     "published %s",
					     j->sha256, j->want_sha256));
	default:
		return fail_job(e, x,
				dg_xasprintf("cannot keep %s/%s (%s): %s",
					     dg_quoted_path(j->product),
					     dg_quoted_path(j->name),
					     x->fin_how,
					     strerror(x->fin_errno)));
	}
}

/* No finisher thread could start: the same work, here. */
static int keep_here(struct engine *e, struct xfer *x)
{
	struct finisher *f = &e->fin;
	unsigned char *rbuf = dg_xmalloc(WBUF_BYTES);

	keep_file(x, rbuf);
	free(rbuf);
	if (x->renamed) {
		x->next = NULL;
		sync_dirs(f, x, 1, f->top_gen);
	}
	return file_kept(e, x);
}

static int finish_file(struct engine *e, struct xfer *x)
{
	struct finisher *f = &e->fin;

	/* the transfer's handle is done with: its connection stays in the
	 * multi handle's pool */
	curl_easy_cleanup(x->h);
	x->h = NULL;
	if (!f->nth)
		return keep_here(e, x);
	x->next = NULL;
	pthread_mutex_lock(&f->mu);
	if (f->todo_tail)
		f->todo_tail->next = x;
	else
		f->todo = x;
	f->todo_tail = x;
	pthread_mutex_unlock(&f->mu);
	sem_post(&f->sem);
	e->nfinishing++;
	return 0;
}

/* The bodies the finishers are done with, handed over. */
static void reap(struct engine *e, bool drop)
{
	struct finisher *f = &e->fin;
	struct xfer *x, *next;
	char buf[64];

	if (!f->nth)
		return;
	while (read(f->pipe[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&f->mu);
	x = f->done;
	f->done = NULL;
	pthread_mutex_unlock(&f->mu);
	for (; x; x = next) {
		next = x->next;
		e->nfinishing--;
		if (drop || e->status) {
			if (e->ops->drop)
				e->ops->drop(e->ops->ctx, x->job);
			dg_imgjob_free(x->job);
			x->job = NULL;
			xfer_free(x);
		} else {
			file_kept(e, x);
		}
	}
}

/* A 2xx body is complete: check its start, write what is buffered and
 * start its writeback, then hand it to a finisher, which hashes it and
 * keeps it or finds it unchanged. */
static int keep_body(struct engine *e, struct xfer *x)
{
	struct dg_imgjob *j = x->job;

	if (!x->started && body_start(x))
		return fail_job(e, x, dg_xstrdup(x->why));
	if (x->headn < HEAD_BYTES && check_magic(x))
		return fail_job(e, x, dg_xstrdup(x->why));
	if (buf_flush(x))
		return fail_job(e, x, dg_xstrdup(x->why));
	buf_put(e, &x->buf);
	if (x->written > x->wb_off &&
	    !sync_file_range(x->fd, x->wb_off, x->written - x->wb_off,
			     SYNC_FILE_RANGE_WRITE))
		x->wb_off = x->written;
	j->bytes = x->received;
	header_value(x->h, "ETag", &j->new_etag);
	header_value(x->h, "Last-Modified", &j->new_last_modified);
	return finish_file(e, x);
}

/* One line, starting lowercase unless with an acronym ("SSL"). */
static char *one_line(char *s)
{
	unsigned char *p = (unsigned char *)s;

	if (isupper(p[0]) && !isupper(p[1]))
		p[0] = (unsigned char)tolower(p[0]);
	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

static char *curl_reason(struct xfer *x, CURLcode rc)
{
	const char *what = curl_easy_strerror(rc);
	long redirects = 0;
	size_t n = strlen(x->errbuf);

	curl_easy_getinfo(x->h, CURLINFO_REDIRECT_COUNT, &redirects);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL && redirects > 0)
		return dg_xstrdup("redirect to a protocol other than http "
				  "or https refused");
	if (rc == CURLE_FILESIZE_EXCEEDED)
		return dg_xasprintf("larger than --max-size (%zu bytes)",
				    x->e->o->http.max_size);
	while (n > 0 && isspace((unsigned char)x->errbuf[n - 1]))
		x->errbuf[--n] = '\0';
	if (!n || !strcasecmp(x->errbuf, what))
		return one_line(dg_xstrdup(what));
	if (strcasestr(x->errbuf, what))
		return one_line(dg_xstrdup(x->errbuf));
	return one_line(dg_xasprintf("%s: %s", what, x->errbuf));
}

static void schedule_retry(struct engine *e, struct xfer *x, long ms)
{
	x->retry_at_ns = mono_ns() + (int64_t)ms * 1000000LL;
	x->next = e->retries;
	e->retries = x;
	e->nretries++;
}

static long retry_after(CURL *h)
{
	struct curl_header *hd = NULL;
	dg_time now;

	if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hd) !=
		    CURLHE_OK ||
	    dg_now(&now))
		return -1;
	return dg_http_parse_retry_after(hd->value, now);
}

static int finish(struct engine *e, struct xfer *x, CURLcode rc)
{
	struct dg_imgjob *j = x->job;
	enum dg_http_outcome out;
	char *reason;
	long ra;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &j->http_status);
	curl_multi_remove_handle(e->m, x->h);
	if (x->why) /* refused while receiving: never worth a retry */
		return fail_job(e, x, dg_xstrdup(x->why));
	out = dg_imgfetch_classify(rc, j->http_status, &j->unreachable);
	if (out == DG_HTTP_OK)
		return keep_body(e, x);
	if (out == DG_HTTP_NOT_MODIFIED && x->conditional) {
		j->result = DG_IMGR_UNCHANGED;
		j->bytes = j->old_bytes;
		dg_xsnprintf(j->sha256, sizeof(j->sha256), "%s",
			     j->old_sha256 ? j->old_sha256 : "");
		return hand_over(e, x);
	}
	reason = rc != CURLE_OK ? curl_reason(x, rc)
		 : out == DG_HTTP_NOT_MODIFIED
			 ? dg_xstrdup("http status 304 to a request that "
				      "was not conditional")
			 : dg_xasprintf("http status %ld", j->http_status);
	ra = rc == CURLE_OK ? retry_after(x->h) : -1;
	drop_tmp(x);
	if (out == DG_HTTP_TRANSIENT && j->attempts <= e->o->http.retries) {
		dg_debug("%s: retrying (attempt %d of %d): %s",
			 dg_quoted_path(j->url), j->attempts + 1,
			 e->o->http.retries + 1, reason);
		free(reason);
		curl_easy_cleanup(x->h);
		x->h = NULL;
		schedule_retry(e, x,
			       dg_imgfetch_retry_ms(e->o, j->attempts, ra));
		return 0;
	}
	if (out != DG_HTTP_TRANSIENT)
		j->unreachable = false;
	return fail_job(e, x, reason);
}

/* ------------------------------------------------------- the loop */

/* A new job, or a retry that is due, into a transfer. */
static void start_job(struct engine *e, struct xfer *x)
{
	if (start_attempt(x)) {
		fail_job(e, x, dg_xstrdup(x->why));
		return;
	}
	x->next = e->running;
	e->running = x;
	e->nrunning++;
}

static void start_new(struct engine *e, struct dg_imgjob *j)
{
	struct xfer *x = dg_xcalloc(1, sizeof(*x));

	x->e = e;
	x->job = j;
	x->fd = x->pdirfd = -1;
	j->attempts = 0;
	j->result = DG_IMGR_FAILED;
	if (!(x->md = EVP_MD_CTX_new())) {
		fail_job(e, x, dg_xstrdup("cannot compute SHA-256"));
		return;
	}
	if (open_product(x)) {
		fail_job(e, x, dg_xstrdup(x->why));
		return;
	}
	check_in_place(x);
	start_job(e, x);
}

/* The retry due first, unlinked, or NULL when none is due by now. */
static struct xfer *due_retry(struct engine *e, int64_t now, int64_t *next_ns)
{
	struct xfer **p, **best = NULL;
	struct xfer *x;

	for (p = &e->retries; *p; p = &(*p)->next)
		if (!best || (*p)->retry_at_ns < (*best)->retry_at_ns)
			best = p;
	if (!best)
		return NULL;
	if ((*best)->retry_at_ns > now) {
		if (!*next_ns || (*best)->retry_at_ns < *next_ns)
			*next_ns = (*best)->retry_at_ns;
		return NULL;
	}
	x = *best;
	*best = x->next;
	e->nretries--;
	return x;
}

static void fill(struct engine *e, int64_t now, int64_t *next_ns)
{
	struct dg_imgjob *j;
	struct xfer *x;

	while (!e->status && e->nrunning < (size_t)e->o->concurrency &&
	       e->nfinishing < 4 * (size_t)e->o->concurrency) {
		if ((x = due_retry(e, now, next_ns))) {
			start_job(e, x);
			continue;
		}
		if (e->no_more || !(j = e->ops->next(e->ops->ctx))) {
			e->no_more = true;
			return;
		}
		start_new(e, j);
	}
}

static void unlink_running(struct engine *e, struct xfer *x)
{
	struct xfer **p;

	for (p = &e->running; *p; p = &(*p)->next) {
		if (*p == x) {
			*p = x->next;
			e->nrunning--;
			return;
		}
	}
}

static void drain(struct engine *e)
{
	struct CURLMsg *msg;
	struct xfer *x;
	int left;

	while ((msg = curl_multi_info_read(e->m, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		x = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
				  (char **)&x);
		unlink_running(e, x);
		finish(e, x, msg->data.result);
	}
}

/* Pause every transfer while the bucket is in debt, unpause them all
 * once it is paid; *wait_ns until then. */
static void throttle(struct engine *e, int64_t now, int64_t *wait_ns)
{
	struct xfer *x, *next;
	bool pause;

	*wait_ns = e->limited ? dg_bucket_wait_ns(&e->bucket, now) : 0;
	pause = *wait_ns > 0;
	if (!pause && !e->paused)
		return;
	e->paused = pause;
	for (x = e->running; x; x = next) {
		next = x->next; /* unpausing may run the write callback */
		if (x->paused == pause)
			continue;
		x->paused = pause;
		curl_easy_pause(x->h, pause ? CURLPAUSE_RECV : CURLPAUSE_CONT);
	}
}

static void tick(struct engine *e, int64_t now, bool force)
{
	struct dg_imgfetch_stats st;

	if (!e->ops->tick || (!force && now - e->tick_ns < TICK_NS))
		return;
	st = (struct dg_imgfetch_stats){
		.bytes = e->bytes,
		.rate = now > e->tick_ns
				? (e->bytes - e->tick_bytes) * 1000000000LL /
					  (now - e->tick_ns)
				: 0,
		.running = e->nrunning,
		.waiting = e->nretries,
		.written_back = e->written_back,
	};
	pthread_mutex_lock(&e->fin.mu);
	st.files_synced = e->fin.files_synced;
	st.dirs_synced = e->fin.dirs_synced;
	pthread_mutex_unlock(&e->fin.mu);
	e->tick_ns = now;
	e->tick_bytes = e->bytes;
	e->ops->tick(e->ops->ctx, &st);
}

static int poll_ms(struct engine *e, int64_t now, int64_t wait_ns,
		   int64_t next_ns)
{
	long curl_ms = -1;
	int64_t ms = 1000;

	/* a slot came free: fill it now, not when a socket next stirs */
	if (!e->no_more && !e->status &&
	    e->nrunning < (size_t)e->o->concurrency &&
	    e->nfinishing < 4 * (size_t)e->o->concurrency)
		return 0;

	curl_multi_timeout(e->m, &curl_ms);
	if (curl_ms >= 0 && curl_ms < ms)
		ms = curl_ms;
	if (wait_ns > 0 && (wait_ns + 999999) / 1000000 < ms)
		ms = (wait_ns + 999999) / 1000000;
	if (next_ns && (next_ns - now + 999999) / 1000000 < ms)
		ms = next_ns > now ? (next_ns - now + 999999) / 1000000 : 0;
	if (e->ops->tick && TICK_NS / 1000000 < ms)
		ms = TICK_NS / 1000000;
	return (int)ms;
}

static void drop_all(struct engine *e)
{
	struct xfer *x;

	while ((x = e->running)) {
		e->running = x->next;
		curl_multi_remove_handle(e->m, x->h);
		if (e->ops->drop)
			e->ops->drop(e->ops->ctx, x->job);
		dg_imgjob_free(x->job);
		x->job = NULL;
		xfer_free(x);
	}
	while ((x = e->retries)) {
		e->retries = x->next;
		if (e->ops->drop)
			e->ops->drop(e->ops->ctx, x->job);
		dg_imgjob_free(x->job);
		x->job = NULL;
		xfer_free(x);
	}
}

static int setup_multi(struct engine *e)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) ||
	    !(e->m = curl_multi_init()) ||
	    curl_multi_setopt(e->m, CURLMOPT_MAX_HOST_CONNECTIONS,
			      e->o->per_host) ||
	    curl_multi_setopt(e->m, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			      e->o->concurrency) ||
	    curl_multi_setopt(e->m, CURLMOPT_MAXCONNECTS, e->o->concurrency)) {
		dg_error("cannot initialise libcurl");
		return DG_EXIT_SOFTWARE;
	}
	return 0;
}

int dg_imgfetch_run(int dirfd, const struct dg_imgfetch_opts *o,
		    const struct dg_imgfetch_ops *ops)
{
	struct engine e = {
		.o = o, .ops = ops, .dirfd = dirfd, .last_pdirfd = -1};
	int64_t now = mono_ns(), wait_ns, next_ns;
	struct curl_waitfd wfd = {.events = CURL_WAIT_POLLIN};
	int running;

	if ((e.status = setup_multi(&e)))
		goto out;
	e.tick_ns = now;
	if (o->limit_rate > 0) {
		/* a tenth of a second of burst, at least a buffer's worth */
		int64_t burst =
			o->limit_rate / 10 > 16384 ? o->limit_rate / 10 : 16384;

		e.limited = true;
		dg_bucket_init(&e.bucket, o->limit_rate, burst, now);
		/* Started empty: the run's average is its bytes over its
		 * time, and a full bucket would add a burst to a short run
		 * (5 % of a 2 s one); the burst is for pauses later on. */
		dg_bucket_spend(&e.bucket, burst - 1, now);
	}
	finishers_start(&e.fin, dirfd);
	wfd.fd = e.fin.pipe[0];
	for (;;) {
		now = mono_ns();
		next_ns = 0;
		fill(&e, now, &next_ns);
		if (e.status ||
		    (!e.nrunning && !e.nretries && !e.nfinishing && e.no_more))
			break;
		curl_multi_perform(e.m, &running);
		drain(&e);
		reap(&e, false);
		now = mono_ns();
		throttle(&e, now, &wait_ns);
		tick(&e, now, false);
		if (e.status)
			break;
		if (!e.nrunning && !e.nretries && !e.nfinishing && e.no_more)
			continue; /* all done: no poll's timeout to wait out */
		curl_multi_poll(e.m, &wfd, e.fin.nth ? 1 : 0,
				poll_ms(&e, now, wait_ns, next_ns), NULL);
		reap(&e, false);
	}
	tick(&e, mono_ns(), true);
out:
	finishers_stop(&e.fin);
	reap(&e, true); /* stopped early: what was being kept is dropped */
	drop_all(&e);
	curl_multi_cleanup(e.m);
	while (e.spare) {
		char *b = buf_get(&e);

		free(b);
	}
	if (e.last_pdirfd >= 0)
		close(e.last_pdirfd);
	free(e.last_product);
	return e.status;
}
