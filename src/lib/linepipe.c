/*
 * linepipe.c - the lines of files read by one thread, handed to worker
 * threads that turn each into a result, and taken back in input order.
 *
 * A replay's lines are independent until they are stored: parsing them
 * on several cores while one thread stores the results in order keeps
 * the output, the messages and the transactions exactly as a loop over
 * the lines would make them. The reader thread copies each line (blank
 * lines skipped, a line over the cap skipped whole, as dg_read_line
 * does) into a bounded queue; a worker takes the oldest line no worker
 * has yet, runs work() on it and frees its text; the caller takes the
 * items from the head of the queue only once they are done. The queue
 * holds at most LP_ITEMS items and, unless it holds a single line, at
 * most LP_BYTES bytes of line text, so that memory stays bounded on any
 * input however fast it is read.
 *
 * Stopping early (a --strict replay, a database failure) never waits for
 * input: the reader sleeps in poll(2) on its file and on a pipe that
 * dg_linepipe_close writes to, so a producer that never closes stdin
 * cannot hold the program.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daigou.h"

#define LP_ITEMS   1024
#define LP_BYTES   (16 * 1024 * 1024)
#define LP_BLOCK   (256 * 1024)
#define LP_THREADS 64

enum { READ_ERR = -1, READ_LONG = -2, READ_QUIT = -3 };

struct slot {
	struct dg_lp_item it;
	char *text; /* a line not yet taken by a worker */
	size_t len;
	bool done; /* it.result set (or not a line) */
};

/* The lines of one file, read in large blocks and handed out in place. */
struct lines {
	int fd;
	char *buf;
	size_t size, pos, end, cap;
	bool eof;
};

struct dg_linepipe {
	char **files;
	int nfiles;
	size_t cap;
	struct dg_lp_ops ops;
	pthread_mutex_t mu;
	pthread_cond_t can_fill, can_work, ready;
	struct slot *q;		 /* a ring of LP_ITEMS */
	size_t head, next, tail; /* taken <= given to workers <= read */
	size_t bytes;		 /* line text in the queue */
	bool quit, read_all;
	bool reader_waits, taker_waits; /* in pthread_cond_wait */
	int wake[2]; /* written to by close: the reader stops waiting */
	pthread_t reader, *workers;
	unsigned nworkers;
	bool reader_started;
};

static struct slot *at(struct dg_linepipe *lp, size_t i)
{
	return &lp->q[i % LP_ITEMS];
}

/* read(2), waiting in poll(2) so that close can wake the reader. */
static ssize_t read_some(struct dg_linepipe *lp, int fd, char *buf, size_t n)
{
	struct pollfd p[2];
	ssize_t r;

	for (;;) {
		p[0] = (struct pollfd){.fd = fd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = lp->wake[0], .events = POLLIN};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return READ_ERR;
		}
		if (p[1].revents)
			return READ_QUIT;
		r = read(fd, buf, n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return r < 0 ? READ_ERR : r;
	}
}

/* More input after buf[pos..end): moved to the front, the buffer grown
 * when full. 0, READ_ERR or READ_QUIT. */
static int lines_fill(struct dg_linepipe *lp, struct lines *l)
{
	ssize_t n;

	if (l->pos) {
		memmove(l->buf, l->buf + l->pos, l->end - l->pos);
		l->end -= l->pos;
		l->pos = 0;
	}
	if (l->end == l->size) {
		l->size = l->size ? l->size * 2 : LP_BLOCK;
		l->buf = dg_xrealloc(l->buf, l->size);
	}
	n = read_some(lp, l->fd, l->buf + l->end, l->size - l->end);
	if (n < 0)
		return (int)n;
	l->end += (size_t)n;
	if (n == 0)
		l->eof = true;
	return 0;
}

/* The next line, its newline kept: its length (> 0), 0 at the end,
 * READ_ERR, READ_QUIT, or READ_LONG for a line over the cap (skipped up
 * to its newline). The line stays valid until the next call. */
static ssize_t lines_next(struct dg_linepipe *lp, struct lines *l,
			  const char **line)
{
	size_t scanned = 0, avail, len;
	char *nl;
	int rc;

	for (;;) {
		avail = l->end - l->pos;
		nl = avail > scanned ? memchr(l->buf + l->pos + scanned, '\n',
					      avail - scanned)
				     : NULL;
		if (nl) {
			len = (size_t)(nl - (l->buf + l->pos)) + 1;
			break;
		}
		scanned = avail;
		if (scanned > l->cap)
			goto skip;
		if (l->eof) {
			if (!avail)
				return 0;
			len = avail;
			break;
		}
		if ((rc = lines_fill(lp, l))) /* the line moves to the front */
			return rc;
	}
	if (len > l->cap) {
		l->pos += len;
		return READ_LONG;
	}
	*line = l->buf + l->pos;
	l->pos += len;
	return (ssize_t)len;
skip: /* over the cap: dropped up to its newline */
	for (;;) {
		l->pos = l->end;
		if (l->eof)
			return READ_LONG;
		if ((rc = lines_fill(lp, l)))
			return rc;
		if (l->end > l->pos &&
		    (nl = memchr(l->buf + l->pos, '\n', l->end - l->pos))) {
			l->pos = (size_t)(nl - l->buf) + 1;
			return READ_LONG;
		}
	}
}

/* An item (and for a line a copy of its text) into the queue, once there
 * is room. false when the pipe is closing. */
static bool push(struct dg_linepipe *lp, const struct dg_lp_item *it,
		 const char *text, size_t len)
{
	char *copy = NULL;
	struct slot *s;

	if (text) {
		copy = dg_xmalloc(len ? len : 1);
		memcpy(copy, text, len);
	}
	pthread_mutex_lock(&lp->mu);
	while (!lp->quit &&
	       (lp->tail - lp->head == LP_ITEMS ||
		(copy && lp->bytes && lp->bytes + len > LP_BYTES))) {
		lp->reader_waits = true;
		pthread_cond_wait(&lp->can_fill, &lp->mu);
		lp->reader_waits = false;
	}
	if (lp->quit) {
		pthread_mutex_unlock(&lp->mu);
		free(copy);
		return false;
	}
	s = at(lp, lp->tail++);
	s->it = *it;
	s->it.result = NULL;
	s->text = copy;
	s->len = copy ? len : 0;
	s->done = !copy;
	if (copy) {
		lp->bytes += len;
		pthread_cond_signal(&lp->can_work);
	} else if (lp->taker_waits) {
		pthread_cond_signal(&lp->ready);
	}
	pthread_mutex_unlock(&lp->mu);
	return true;
}

/* The queue has drained to half (or the reader waits for a line longer
 * than half of LP_BYTES): the reader, when it waits, goes on. Waking it
 * for every item taken would cost two context switches a line. */
static void wake_reader(struct dg_linepipe *lp)
{
	if (lp->reader_waits && lp->tail - lp->head <= LP_ITEMS / 2 &&
	    lp->bytes <= LP_BYTES / 2)
		pthread_cond_signal(&lp->can_fill);
}

static bool blank(const char *s, size_t len)
{
	size_t k;

	for (k = 0; k < len; k++)
		if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r' && s[k] != '\n')
			return false;
	return true;
}

/* One file's lines into the queue. false: stop reading (an error, or the
 * pipe is closing). */
static bool read_file(struct dg_linepipe *lp, const char *path)
{
	bool in = !strcmp(path, "-");
	struct dg_lp_item it = {.path = path, .name = in ? "<stdin>" : path};
	struct lines l = {.cap = lp->cap};
	const char *line = NULL;
	bool go = true;
	ssize_t len;

	l.fd = in ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	it.kind = DG_LP_FILE;
	it.err = l.fd < 0 ? errno : 0;
	go = push(lp, &it, NULL, 0);
	if (l.fd < 0)
		return go; /* the next file, unless closing */
	while (go && (len = lines_next(lp, &l, &line)) != 0) {
		it.lineno++;
		if (len == READ_QUIT) {
			go = false;
		} else if (len == READ_ERR) {
			it.kind = DG_LP_READ_ERROR;
			it.err = errno;
			push(lp, &it, NULL, 0);
			go = false;
		} else if (len == READ_LONG) {
			it.kind = DG_LP_LONG;
			go = push(lp, &it, NULL, 0);
		} else if (!blank(line, (size_t)len)) {
			it.kind = DG_LP_LINE;
			go = push(lp, &it, line, (size_t)len);
		}
	}
	free(l.buf);
	if (!in)
		close(l.fd);
	return go;
}

static void *reader_main(void *arg)
{
	struct dg_linepipe *lp = arg;
	struct dg_lp_item end = {.kind = DG_LP_END};
	int i;

	for (i = 0; i < lp->nfiles; i++)
		if (!read_file(lp, lp->files[i]))
			break;
	if (i == lp->nfiles)
		push(lp, &end, NULL, 0);
	pthread_mutex_lock(&lp->mu);
	lp->read_all = true;
	pthread_cond_broadcast(&lp->can_work);
	pthread_mutex_unlock(&lp->mu);
	return NULL;
}

static void *worker_main(void *arg)
{
	struct dg_linepipe *lp = arg;
	void *state = lp->ops.start ? lp->ops.start(lp->ops.arg) : NULL;
	struct slot *s;
	char *text;

	pthread_mutex_lock(&lp->mu);
	for (;;) {
		/* the taker may have passed items no worker looked at
		 * (files' items, done when read): their slots may hold
		 * newer lines by now */
		if (lp->next < lp->head)
			lp->next = lp->head;
		while (lp->next < lp->tail && at(lp, lp->next)->done)
			lp->next++; /* not a line */
		if (lp->quit || (lp->next == lp->tail && lp->read_all))
			break;
		if (lp->next == lp->tail) {
			pthread_cond_wait(&lp->can_work, &lp->mu);
			continue;
		}
		s = at(lp, lp->next++);
		text = s->text;
		s->text = NULL;
		pthread_mutex_unlock(&lp->mu);
		s->it.result = lp->ops.work(state, &s->it, text, s->len);
		free(text);
		pthread_mutex_lock(&lp->mu);
		s->done = true;
		lp->bytes -= s->len;
		if (lp->taker_waits && s == at(lp, lp->head))
			pthread_cond_signal(&lp->ready);
		wake_reader(lp);
	}
	pthread_mutex_unlock(&lp->mu);
	if (lp->ops.finish)
		lp->ops.finish(state);
	return NULL;
}

unsigned dg_linepipe_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > LP_THREADS ? LP_THREADS : (unsigned)n;
}

struct dg_linepipe *dg_linepipe_open(char **files, int nfiles, size_t cap,
				     unsigned threads,
				     const struct dg_lp_ops *ops)
{
	struct dg_linepipe *lp = dg_xcalloc(1, sizeof(*lp));
	int rc;

	lp->files = files;
	lp->nfiles = nfiles;
	lp->cap = cap;
	lp->ops = *ops;
	lp->q = dg_xcalloc(LP_ITEMS, sizeof(*lp->q));
	if (threads < 1)
		threads = 1;
	if (threads > LP_THREADS)
		threads = LP_THREADS;
	lp->workers = dg_xcalloc(threads, sizeof(*lp->workers));
	if (pipe(lp->wake))
		dg_die(DG_EXIT_SOFTWARE, "cannot make a pipe: %s",
		       strerror(errno));
	pthread_mutex_init(&lp->mu, NULL);
	pthread_cond_init(&lp->can_fill, NULL);
	pthread_cond_init(&lp->can_work, NULL);
	pthread_cond_init(&lp->ready, NULL);
	for (; lp->nworkers < threads; lp->nworkers++)
		if ((rc = pthread_create(&lp->workers[lp->nworkers], NULL,
					 worker_main, lp)))
			dg_die(DG_EXIT_SOFTWARE, "cannot start a thread: %s",
			       strerror(rc));
	if ((rc = pthread_create(&lp->reader, NULL, reader_main, lp)))
		dg_die(DG_EXIT_SOFTWARE, "cannot start a thread: %s",
		       strerror(rc));
	lp->reader_started = true;
	return lp;
}

void dg_linepipe_next(struct dg_linepipe *lp, struct dg_lp_item *it)
{
	struct slot *s;

	pthread_mutex_lock(&lp->mu);
	while (lp->head == lp->tail || !at(lp, lp->head)->done) {
		lp->taker_waits = true;
		pthread_cond_wait(&lp->ready, &lp->mu);
		lp->taker_waits = false;
	}
	s = at(lp, lp->head++);
	*it = s->it;
	s->it.result = NULL;
	wake_reader(lp);
	pthread_mutex_unlock(&lp->mu);
}

void dg_linepipe_close(struct dg_linepipe *lp)
{
	struct slot *s;
	unsigned i;
	ssize_t w;

	if (!lp)
		return;
	pthread_mutex_lock(&lp->mu);
	lp->quit = true;
	pthread_cond_broadcast(&lp->can_fill);
	pthread_cond_broadcast(&lp->can_work);
	pthread_mutex_unlock(&lp->mu);
	do
		w = write(lp->wake[1], "", 1);
	while (w < 0 && errno == EINTR);
	if (lp->reader_started)
		pthread_join(lp->reader, NULL);
	for (i = 0; i < lp->nworkers; i++)
		pthread_join(lp->workers[i], NULL);
	for (; lp->head < lp->tail; lp->head++) {
		s = at(lp, lp->head);
		free(s->text);
		if (s->it.result && lp->ops.drop)
			lp->ops.drop(lp->ops.arg, s->it.result);
	}
	close(lp->wake[0]);
	close(lp->wake[1]);
	pthread_mutex_destroy(&lp->mu);
	pthread_cond_destroy(&lp->can_fill);
	pthread_cond_destroy(&lp->can_work);
	pthread_cond_destroy(&lp->ready);
	free(lp->workers);
	free(lp->q);
	free(lp);
}
