/*
 * settlerows.c - the CSV rows of a settlement file, through libcsv, on
 * one thread or several.
 *
 * The file is read in large blocks and cut into lines with memchr; every
 * line is parsed by libcsv with the settings of csvio.c (CSV_STRICT,
 * CSV_STRICT_FINI, a row ends at LF, CR trimmed like a space), a row
 * that goes on over several lines included. libcsv looks at every byte
 * through its state machine (about 40 instructions a byte): that is most
 * of what reading a large file costs, so a large regular file is parsed
 * on several threads.
 *
 * On several threads, the file is cut into chunks: chunk k begins at the
 * first line start at or after k * chunk bytes. Threads (the caller's
 * among them) take the chunks in order, each parsing one with a parser
 * of its own into a list of rows, a few chunks ahead of the one whose
 * rows the caller's thread hands over. A chunk's parse goes on past its
 * end until a row ends there; the next chunk's rows are used only when
 * that parse ended exactly where the next chunk begins, outside a quote
 * (a quoted field may hold a newline). Otherwise, and at a row that a
 * chunk's parser could not read, the rest of the file is read on the
 * caller's thread from the last row's end, as one thread reads it: the
 * rows, their line numbers and the messages are those of a one-thread
 * read.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

#include "daigou.h"

/* Read blocks ending at multiples of BLOCK (of the file's offsets, as
 * reading it from the start does); a physical line may be at most
 * MAX_LINE. */
#define BLOCK	 (1024 * 1024)
#define MAX_LINE (1024 * 1024)

/* Several threads only for a regular file this large (unless a chunk
 * size is given), and in chunks of this size. */
#define PAR_MIN_BYTES ((off_t)16 * 1024 * 1024)
#define CHUNK_DEFAULT ((size_t)8 * 1024 * 1024)
#define CHUNK_MAX     ((size_t)1024 * 1024 * 1024)
#define MAX_THREADS   8

/* ------------------------------------------------------- one reader */

struct rd {
	FILE *fp; /* read with fread, or with pread when fd >= 0 */
	int fd;
	const char *name; /* for messages, escaped */
	bool quiet;	  /* no messages: a chunk's parser */
	bool keep;	  /* the rows' fields one after another in text */
	bool at_start;	  /* the next line is the file's first (a BOM) */
	off_t off;	  /* the file offset of buf[end] */
	off_t stop;	  /* -1, or no row begins at or after this offset */
	char *buf;	  /* bytes read, [pos, end) not yet used */
	size_t pos, end, cap;
	bool eof;
	unsigned long lineno; /* physical lines handed out */
	unsigned long line;   /* where the row starts */

	/* the current row: fields copied into text at offs */
	size_t n, fcap;
	char **f;
	size_t *len, *offs;
	char *text;
	size_t tlen, tcap;

	struct csv_parser p;
	bool p_init;
	bool row_done, too_many, has_nul, too_long;
	bool plain;    /* libcsv's own space and term tests in use */
	bool nul_seen; /* a line of the row holds a NUL byte */
};

static int csv_space_fn(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int csv_term_fn(unsigned char c)
{
	return c == '\n';
}

static int rd_fail(const struct rd *r, int rc, const char *fmt, ...)
	DG_PRINTF(3, 4);
static int rd_fail(const struct rd *r, int rc, const char *fmt, ...)
{
	va_list ap;
	char *text;

	if (r->quiet)
		return rc;
	va_start(ap, fmt);
	text = dg_xvasprintf(fmt, ap);
	va_end(ap);
	dg_error("%s", text);
	free(text);
	return rc;
}

static void fields_room(struct rd *r, size_t n)
{
	if (n <= r->fcap)
		return;
	r->fcap = r->fcap ? r->fcap * 2 : 64;
	if (r->fcap < n)
		r->fcap = n;
	r->f = dg_xrealloc(r->f, r->fcap * sizeof(*r->f));
	r->len = dg_xrealloc(r->len, r->fcap * sizeof(*r->len));
	r->offs = dg_xrealloc(r->offs, r->fcap * sizeof(*r->offs));
}

static void rd_init(struct rd *r, FILE *fp, int fd, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	r->fd = fd;
	r->name = name;
	r->at_start = true;
	r->stop = -1;
	r->cap = BLOCK + 1;
	r->buf = dg_xmalloc(r->cap);
	fields_room(r, DG_CSV_MAX_FIELDS + 1);
}

static void rd_free(struct rd *r)
{
	if (r->p_init)
		csv_free(&r->p);
	free(r->buf);
	free(r->f);
	free(r->len);
	free(r->text);
	free(r->offs);
}

/* The file offset of the next byte not handed out. */
static off_t rd_at(const struct rd *r)
{
	return r->off - (off_t)(r->end - r->pos);
}

/* More bytes after buf[end]: up to the next multiple of BLOCK. 0 or 74. */
static int rd_fill(struct rd *r)
{
	size_t want = BLOCK - (size_t)(r->off % BLOCK), got = 0;
	ssize_t k;

	if (r->cap - r->end < want + 1) {
		r->cap = r->end + want + 1;
		r->buf = dg_xrealloc(r->buf, r->cap);
	}
	if (r->fd < 0) {
		got = fread(r->buf + r->end, 1, want, r->fp);
		if (got < want && ferror(r->fp))
			return rd_fail(r, DG_EXIT_IOERR, "cannot read %s: %s",
				       r->name, strerror(errno));
		if (got < want && feof(r->fp))
			r->eof = true;
	} else {
		while (got < want) {
			k = pread(r->fd, r->buf + r->end + got, want - got,
				  r->off + (off_t)got);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return rd_fail(r, DG_EXIT_IOERR,
					       "cannot read %s: %s", r->name,
					       strerror(errno));
			if (k == 0) {
				r->eof = true;
				break;
			}
			got += (size_t)k;
		}
	}
	r->end += got;
	r->off += (off_t)got;
	return 0;
}

/* The next physical line, '\n' included when there is one; *len 0 at
 * the end. 0, 65 (a line over MAX_LINE) or 74. The line stays in the
 * buffer until the next call. */
static int rd_line(struct rd *r, char **line, size_t *len)
{
	char *nl;
	size_t from = r->pos;
	int rc;

	for (;;) {
		nl = memchr(r->buf + from, '\n', r->end - from);
		if (nl || r->eof)
			break;
		if (r->end - r->pos > MAX_LINE)
			return rd_fail(r, DG_EXIT_DATAERR,
				       "%s:%lu: line longer than %d bytes",
				       r->name, r->lineno + 1, MAX_LINE);
		/* keep the partial line, read on after it */
		if (r->pos) {
			memmove(r->buf, r->buf + r->pos, r->end - r->pos);
			r->end -= r->pos;
			r->pos = 0;
		}
		from = r->end;
		if ((rc = rd_fill(r)))
			return rc;
	}
	*line = r->buf + r->pos;
	*len = nl ? (size_t)(nl - *line) + 1 : r->end - r->pos;
	r->pos += *len;
	if (*len) {
		r->lineno++;
		if (r->at_start && *len >= 3 &&
		    !memcmp(*line, "\xEF\xBB\xBF", 3)) {
			*line += 3;
			*len -= 3;
		}
		r->at_start = false;
	}
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void on_field(void *s, size_t len, void *data)
{
	struct rd *r = data;

	if (r->too_many || r->has_nul || r->too_long)
		return;
	if (r->n == DG_CSV_MAX_FIELDS) {
		r->too_many = true;
		return;
	}
	if (len > DG_CSV_MAX_FIELD) {
		r->too_long = true;
		return;
	}
	if (r->nul_seen && len && memchr(s, '\0', len)) {
		r->has_nul = true;
		return;
	}
	if (r->tlen + len + 1 > r->tcap) {
		while (r->tlen + len + 1 > r->tcap)
			r->tcap = r->tcap ? r->tcap * 2 : 4096;
		r->text = dg_xrealloc(r->text, r->tcap);
	}
	if (len)
		memcpy(r->text + r->tlen, s, len);
	r->text[r->tlen + len] = '\0';
	r->offs[r->n] = r->tlen;
	r->len[r->n] = len;
	r->tlen += len + 1;
	r->n++;
}

static void on_row(int c, void *data)
{
	struct rd *r = data;

	(void)c;
	r->row_done = true;
}

/*
 * Before libcsv parses a line: its space and term functions cost a call
 * a byte, and are needed only for a CR that is not the line's end. On a
 * line whose only CR is the one before its LF, libcsv's own tests (space
 * and tab; CR or LF ends a row) split it the same way: a CR that ends a
 * row is followed by the LF, which libcsv skips before a row begins, and
 * in a quoted field both keep the CR. A line without a NUL byte spares
 * on_field its look for one.
 */
static void line_settings(struct rd *r, const char *s, size_t len)
{
	const char *cr = memchr(s, '\r', len);
	bool plain =
		!cr || (len >= 2 && cr == s + len - 2 && s[len - 1] == '\n');

	if (plain != r->plain) {
		csv_set_space_func(&r->p, plain ? NULL : csv_space_fn);
		csv_set_term_func(&r->p, plain ? NULL : csv_term_fn);
		r->plain = plain;
	}
	if (!r->nul_seen && memchr(s, '\0', len))
		r->nul_seen = true;
}

/* A row through libcsv, starting with the line (s, len). 0 or 65/74. */
static int split_row(struct rd *r, char *s, size_t len)
{
	size_t total = 0, i;
	int rc;

	if (!r->p_init) {
		csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI);
		csv_set_space_func(&r->p, csv_space_fn);
		csv_set_term_func(&r->p, csv_term_fn);
		csv_set_realloc_func(&r->p, dg_xrealloc);
		csv_set_blk_size(&r->p, 64 * 1024);
		r->p_init = true;
	}
	r->n = 0;
	if (!r->keep)
		r->tlen = 0;
	r->row_done = r->too_many = r->has_nul = r->too_long = false;
	r->nul_seen = false;
	for (;;) {
		total += len;
		line_settings(r, s, len);
		if (csv_parse(&r->p, s, len, on_field, on_row, r) != len)
			return rd_fail(r, DG_EXIT_DATAERR,
				       "%s:%lu: malformed CSV: a misplaced "
				       "quote%s",
				       r->name, r->line,
				       r->lineno != r->line
					       ? " in a quoted field over "
						 "several lines"
					       : "");
		if (r->row_done)
			break;
		if (total > DG_CSV_MAX_FIELD + MAX_LINE)
			return rd_fail(r, DG_EXIT_DATAERR,
				       "%s:%lu: a row over %d bytes (a quote "
				       "never closed?)",
				       r->name, r->line,
				       DG_CSV_MAX_FIELD + MAX_LINE);
		if ((rc = rd_line(r, &s, &len)))
			return rc;
		if (!len) {
			if (csv_fini(&r->p, on_field, on_row, r))
				return rd_fail(r, DG_EXIT_DATAERR,
					       "%s:%lu: malformed CSV: a quote "
					       "never closed",
					       r->name, r->line);
			break;
		}
	}
	if (r->too_many || r->too_long || r->has_nul)
		return rd_fail(
			r, DG_EXIT_DATAERR, "%s:%lu: %s", r->name, r->line,
			r->too_many   ? "more fields than the reader takes"
			: r->too_long ? "a field longer than the reader takes"
				      : "a NUL byte in a field");
	if (!r->keep)
		for (i = 0; i < r->n; i++)
			r->f[i] = r->text + r->offs[i];
	return 0;
}

/* The next row: 1, 0 at the end (or at stop), or an exit status. */
static int rd_row(struct rd *r)
{
	char *s;
	size_t len, k;
	int rc;

	for (;;) {
		if (r->stop >= 0 && rd_at(r) >= r->stop)
			return 0;
		if ((rc = rd_line(r, &s, &len)))
			return rc;
		if (!len)
			return 0;
		k = len;
		if (k && s[k - 1] == '\n')
			k--;
		while (k && is_space(s[k - 1]))
			k--;
		if (!k)
			continue; /* a blank line */
		r->line = r->lineno;
		if ((rc = split_row(r, s, len)))
			return rc;
		if (r->n)
			return 1;
	}
}

/* ------------------------------------------------------ the chunks */

enum { CH_FREE, CH_TAKEN, CH_DONE };

struct crow {		    /* a row of a chunk */
	unsigned long line; /* its first line, counted from the chunk's */
	size_t fo;	    /* its first field's offset in the chunk's fo */
	uint32_t n;	    /* fields */
};

/* A chunk's storage, kept for the next chunk once its rows are handed
 * over (its pages are then not faulted in again). */
struct bufs {
	char *text; /* the fields, each NUL-terminated */
	size_t tcap;
	uint32_t *fo; /* per row: its fields' offsets, then its end */
	size_t focap;
	struct crow *rows;
	size_t rowcap;
};

struct chunk {
	off_t at;	     /* nominal: the first line start at or after */
	off_t start, end;    /* where its rows begin (-1: unknown) and
				where its parse stopped */
	unsigned long lines; /* physical lines in [start, end) */
	bool bad;	     /* a row at end could not be read */
	int state;	     /* CH_* */
	struct bufs b;
	size_t nfo, nrows, next; /* next: the next row handed over */
};

struct par {
	int fd;
	off_t size;
	const char *name;
	struct chunk *ch;
	size_t nch;
	size_t cur;	    /* the chunk whose rows are handed over */
	size_t taken;	    /* chunks [0, taken) taken by a thread */
	size_t ahead;	    /* chunks parsed at most this far past cur */
	off_t next;	    /* the next row begins here (a row's end) */
	unsigned long base; /* physical lines before next */
	bool ready;	    /* chunk cur is parsed (the caller's thread's) */
	bool stopping;
	struct bufs *spare; /* storage of chunks handed over */
	size_t nspare;
	struct rd scratch; /* the caller's thread's chunk parser */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th[MAX_THREADS];
	int nth;
};

static void chunk_row(struct chunk *c, const struct rd *r)
{
	struct bufs *b = &c->b;
	size_t i;

	if (c->nrows == b->rowcap) {
		b->rowcap = b->rowcap ? 2 * b->rowcap : 4096;
		b->rows = dg_xrealloc(b->rows, b->rowcap * sizeof(*b->rows));
	}
	if (c->nfo + r->n + 1 > b->focap) {
		while (c->nfo + r->n + 1 > b->focap)
			b->focap = b->focap ? 2 * b->focap : 65536;
		b->fo = dg_xrealloc(b->fo, b->focap * sizeof(*b->fo));
	}
	b->rows[c->nrows].line = r->line;
	b->rows[c->nrows].fo = c->nfo;
	b->rows[c->nrows++].n = (uint32_t)r->n;
	for (i = 0; i < r->n; i++)
		b->fo[c->nfo++] = (uint32_t)r->offs[i];
	b->fo[c->nfo++] = (uint32_t)r->tlen;
}

static bool stopping(struct par *p)
{
	return __atomic_load_n(&p->stopping, __ATOMIC_RELAXED);
}

/* r (a thread's chunk parser, its buffers kept) made ready to read from
 * offset off with a new libcsv parser. */
static void rd_restart(struct rd *r, off_t off)
{
	if (r->p_init)
		csv_free(&r->p);
	r->p_init = r->plain = false;
	r->quiet = r->keep = true;
	r->at_start = off == 0;
	r->off = off;
	r->stop = -1;
	r->pos = r->end = 0;
	r->eof = false;
	r->lineno = r->line = 0;
	r->n = r->tlen = 0;
}

/* Chunk k's rows, by the thread's parser r, which says nothing: a row it
 * cannot read is read again by the caller's thread. */
static void chunk_parse(struct par *p, size_t k, struct rd *r)
{
	struct chunk *c = &p->ch[k];
	char *s;
	size_t len;
	off_t at;
	unsigned long ln;
	int rc;

	c->start = c->end = -1;
	rd_restart(r, c->at > 0 ? c->at - 1 : 0);
	/* the rest of the line holding the byte before at */
	if (c->at > 0 && rd_line(r, &s, &len)) {
		c->bad = true;
		return;
	}
	c->start = rd_at(r);
	r->lineno = 0;
	r->stop = k + 1 < p->nch ? p->ch[k + 1].at : -1;
	at = r->stop >= 0 ? r->stop : p->size;
	r->text = c->b.text;
	r->tcap = c->b.tcap;
	if (at > c->start && r->tcap < (size_t)(at - c->start) + 4096) {
		r->tcap = (size_t)(at - c->start) + 4096;
		r->text = dg_xrealloc(r->text, r->tcap);
	}
	for (;;) {
		at = rd_at(r);
		ln = r->lineno;
		if (stopping(p) || r->tlen > UINT32_MAX - DG_CSV_MAX_FIELD -
						     MAX_LINE - 2 * BLOCK) {
			c->bad = true; /* never handed over past here */
			c->end = at;
			c->lines = ln;
			break;
		}
		rc = rd_row(r);
		if (rc == 1) {
			chunk_row(c, r);
			continue;
		}
		c->bad = rc != 0;
		c->end = rc ? at : rd_at(r);
		c->lines = rc ? ln : r->lineno;
		break;
	}
	c->b.text = r->text;
	c->b.tcap = r->tcap;
	r->text = NULL;
	r->tcap = 0;
}

static void bufs_free(struct bufs *b)
{
	free(b->text);
	free(b->fo);
	free(b->rows);
	memset(b, 0, sizeof(*b));
}

/* With the lock held: take the next chunk when it is within reach and
 * parse it with r (the lock let go meanwhile). Whether one was. */
static bool take_one(struct par *p, struct rd *r)
{
	size_t k;

	if (p->stopping || p->taken >= p->nch || p->taken >= p->cur + p->ahead)
		return false;
	k = p->taken++;
	p->ch[k].state = CH_TAKEN;
	if (p->nspare)
		p->ch[k].b = p->spare[--p->nspare];
	pthread_mutex_unlock(&p->mu);
	chunk_parse(p, k, r);
	pthread_mutex_lock(&p->mu);
	p->ch[k].state = CH_DONE;
	pthread_cond_broadcast(&p->cv);
	return true;
}

static void *par_thread(void *arg)
{
	struct par *p = arg;
	struct rd r;

	rd_init(&r, NULL, p->fd, p->name);
	pthread_mutex_lock(&p->mu);
	while (!p->stopping && p->taken < p->nch)
		if (!take_one(p, &r))
			pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	rd_free(&r);
	return NULL;
}

static struct par *par_new(int fd, const char *name, off_t size, size_t chunk,
			   int threads)
{
	struct par *p = dg_xcalloc(1, sizeof(*p));
	size_t k;
	int i;

	p->fd = fd;
	p->size = size;
	p->name = name;
	p->nch = (size_t)((size + (off_t)chunk - 1) / (off_t)chunk);
	if (!p->nch)
		p->nch = 1;
	p->ch = dg_xcalloc(p->nch, sizeof(*p->ch));
	for (k = 0; k < p->nch; k++)
		p->ch[k].at = (off_t)k * (off_t)chunk;
	p->ahead = 2 * (size_t)threads;
	p->spare = dg_xcalloc(p->nch, sizeof(*p->spare));
	rd_init(&p->scratch, NULL, fd, name);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	/* the caller's thread parses too: threads - 1 more */
	for (i = 0; i < threads - 1 && i < MAX_THREADS; i++) {
		if (pthread_create(&p->th[p->nth], NULL, par_thread, p))
			break;
		p->nth++;
	}
	return p;
}

/* Chunk cur's rows handed over: its storage for a chunk to come. */
static void chunk_done(struct par *p)
{
	struct chunk *c = &p->ch[p->cur];

	pthread_mutex_lock(&p->mu);
	p->spare[p->nspare++] = c->b;
	memset(&c->b, 0, sizeof(c->b));
	p->cur++;
	p->ready = false;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void par_free(struct par *p)
{
	size_t k;
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	for (k = 0; k < p->nch; k++)
		bufs_free(&p->ch[k].b);
	while (p->nspare)
		bufs_free(&p->spare[--p->nspare]);
	free(p->spare);
	free(p->ch);
	rd_free(&p->scratch);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

/* Chunk cur parsed, by this thread when no other has it yet (and other
 * chunks meanwhile, rather than waiting). */
static void par_wait(struct par *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->ch[p->cur].state != CH_DONE)
		if (!take_one(p, &p->scratch))
			pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

/* --------------------------------------------------------- the rows */

struct dg_rows_in {
	struct rd rd;	 /* the caller's: one thread, or after the chunks */
	struct par *par; /* the chunks, NULL once read or not used */
};

static void rows_public(struct dg_rows *rows, const struct rd *r)
{
	rows->n = r->n;
	rows->line = r->line;
	rows->lineno = r->lineno;
}

void dg_rows_open(struct dg_rows *rows, FILE *fp, const char *name,
		  size_t chunk, int threads)
{
	struct dg_rows_in *in = dg_xcalloc(1, sizeof(*in));
	struct stat sb;
	int fd = fileno(fp);
	long cpus;

	memset(rows, 0, sizeof(*rows));
	rows->name = name;
	rows->in = in;
	rd_init(&in->rd, fp, -1, name);
	rows->f = in->rd.f;
	rows->len = in->rd.len;
	if (threads <= 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus < 1	       ? 1
			  : cpus > MAX_THREADS ? MAX_THREADS
					       : (int)cpus;
	}
	if (chunk > CHUNK_MAX)
		chunk = CHUNK_MAX;
	/* several threads for a regular file read from its start (its
	 * offsets are the file's), large enough to be worth it */
	if (threads < 2 || fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode) ||
	    ftello(fp) != 0 || sb.st_size < (chunk ? 1 : PAR_MIN_BYTES))
		return;
	in->par = par_new(fd, name, sb.st_size, chunk ? chunk : CHUNK_DEFAULT,
			  threads);
}

void dg_rows_close(struct dg_rows *rows)
{
	if (!rows->in)
		return;
	par_free(rows->in->par);
	rd_free(&rows->in->rd);
	free(rows->in);
	rows->in = NULL;
}

/* From the chunks' rows to the caller's thread at the last row end. 0 or
 * 74. */
static int par_leave(struct dg_rows_in *in)
{
	struct par *p = in->par;
	struct rd *r = &in->rd;

	if (fseeko(r->fp, p->next, SEEK_SET))
		return rd_fail(r, DG_EXIT_IOERR, "cannot read %s: %s", r->name,
			       strerror(errno));
	r->off = p->next;
	r->pos = r->end = 0;
	r->eof = false;
	r->lineno = p->base;
	r->at_start = p->next == 0;
	in->par = NULL;
	par_free(p);
	return 0;
}

/* The next row from the chunks: 1, 0 at the end, 2 to read on from
 * the last row end on this thread, or 74. */
static int par_row(struct dg_rows *rows, struct dg_rows_in *in)
{
	struct par *p = in->par;
	struct rd *r = &in->rd;
	struct chunk *c;
	const struct crow *w;
	const uint32_t *fo;
	size_t i;

	for (;;) {
		c = &p->ch[p->cur];
		if (!p->ready) {
			par_wait(p);
			p->ready = true;
		}
		if (c->start != p->next)
			return 2;
		if (c->next < c->nrows) {
			w = &c->b.rows[c->next++];
			fo = c->b.fo + w->fo;
			for (i = 0; i < w->n; i++) {
				r->f[i] = c->b.text + fo[i];
				r->len[i] = fo[i + 1] - fo[i] - 1;
			}
			r->n = w->n;
			r->line = p->base + w->line;
			r->lineno = r->line;
			return 1;
		}
		p->next = c->end;
		p->base += c->lines;
		if (c->bad)
			return 2;
		chunk_done(p);
		/* ftello(fp) tells how far the reading has come */
		fseeko(r->fp, p->next, SEEK_SET);
		if (p->cur == p->nch) {
			r->lineno = p->base;
			return 0;
		}
	}
}

int dg_rows_next(struct dg_rows *rows)
{
	struct dg_rows_in *in = rows->in;
	struct rd *r = &in->rd;
	int rc;

	if (in->par) {
		rc = par_row(rows, in);
		if (rc == 1) {
			rows_public(rows, r);
			return 1;
		}
		if (rc == 0) {
			/* every chunk handed over: the reader is at the end */
			par_free(in->par);
			in->par = NULL;
			r->pos = r->end = 0;
			r->eof = true;
		} else if ((rc = par_leave(in))) {
			return rc;
		}
	}
	rc = rd_row(r);
	rows_public(rows, r);
	return rc;
}
