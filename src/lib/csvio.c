/*
 * csvio.c - CSV in through libcsv, tabular output as CSV or JSON Lines.
 *
 * The reader hands libcsv one physical line at a time, so the line a row
 * starts on is known even when a quoted field spans lines, and an
 * over-long line is refused before it is parsed.
 *
 * A malformed row (a quote inside an unquoted field, text after a closing
 * quote, a quote never closed, a field or line over its cap) is reported
 * with the line it starts on, and reading goes on with the line after the
 * one where the row was found bad: the reader resynchronises at the next
 * record rather than guess what the writer meant. A row that ran over
 * several lines names them all ("lines 4 to 9 skipped"), so nothing is
 * dropped without a word. Only a read error ends the input.
 */
#include <errno.h>
#include <string.h>

#include <csv.h>

#include "daigou.h"

/* A physical line; a longer one is refused before it is parsed. */
#define CSV_MAX_LINE (1024 * 1024)

/* What is wrong with the row being read; reported when the row ends. */
enum row_err {
	ROW_OK,
	ROW_TOO_MANY,	  /* more than DG_CSV_MAX_FIELDS fields */
	ROW_TOO_LONG,	  /* field err_field over DG_CSV_MAX_FIELD */
	ROW_NUL,	  /* field err_field holds a NUL byte */
	ROW_QUOTE,	  /* misplaced quote in err_field, on err_line */
	ROW_UNTERMINATED, /* err_field's quote never closed */
	ROW_LINE_LONG,	  /* line err_line over CSV_MAX_LINE */
	ROW_PARSER,	  /* another libcsv error, err_code */
};

struct dg_csv_reader {
	/* the input: read(ctx, ...), a chunk at a time, into buf; the
	 * lines not parsed yet are buf[pos] to buf[end] */
	dg_read_fn *read;
	void *ctx;
	char *buf;
	size_t pos, end, size;
	bool eof;    /* read said the input ends */
	bool failed; /* read failed */
	char *name;
	struct csv_parser parser;
	unsigned long lineno; /* physical lines read */
	bool in_row;	      /* the row being built goes on past lineno */
	bool done;	      /* end of input or a read error: no more rows */

	/* The row being built by the libcsv callbacks. */
	struct dg_csv_row row;
	unsigned long end_line; /* the line the row ends on */
	size_t *offs;		/* where each field starts in text */
	size_t row_cap;
	char *text; /* the fields, each NUL-terminated */
	size_t text_len, text_size;
	bool row_done;
	bool skipping; /* the row is bad: read on to its end, keep nothing */
	bool has_nul;  /* a line of the row holds a NUL byte */
	bool cr_funcs; /* the parser tests with csv_space and csv_term */
	enum row_err err;
	size_t err_field;
	unsigned long err_line;
	int err_code;

	char **columns; /* the header, once read */
	size_t ncolumns;
};

static const char *display_name(const char *name)
{
	return name && strcmp(name, "-") ? name : "<stdin>";
}

/* Rows end at LF only and a CR is trimmed like a space: CRLF and LF files
 * read the same, a CR inside a quoted field is kept, and a row can only
 * end at the end of a physical line. libcsv's own tests, space or tab
 * and CR or LF, differ from these only on a CR: a line without one is
 * parsed with them, which costs no call per byte (see parse_line). */
static int csv_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int csv_term(unsigned char c)
{
	return c == '\n';
}

ssize_t dg_read_line(FILE *fp, char **buf, size_t *size, size_t max)
{
	/* the buffer in locals: stores through *buf would make the
	 * compiler load *buf and *size again for every byte */
	char *b = *buf;
	size_t len = 0, sz = *size;
	int c;

	while ((c = getc_unlocked(fp)) != EOF) {
		if (len == max) {
			while (c != EOF && c != '\n')
				c = getc_unlocked(fp);
			*buf = b;
			*size = sz;
			return ferror(fp) ? -1 : -2;
		}
		if (len + 2 > sz) {
			sz = sz ? sz * 2 : 256;
			b = dg_xrealloc(b, sz);
		}
		b[len++] = (char)c;
		if (c == '\n')
			break;
	}
	*buf = b;
	*size = sz;
	if (ferror(fp))
		return -1;
	if (len)
		b[len] = '\0';
	return (ssize_t)len;
}

/* A stream as a read function: up to the end of a line, as getc would
 * take it, so that a pipe or a terminal is never waited on for more
 * than the line being read. */
static ssize_t read_stream(void *ctx, char *buf, size_t n)
{
	FILE *fp = ctx;
	size_t len = 0;
	int c;

	while (len < n && (c = getc_unlocked(fp)) != EOF) {
		buf[len++] = (char)c;
		if (c == '\n')
			break;
	}
	if (ferror(fp))
		return -1;
	return (ssize_t)len;
}

/* Bytes read at once: lines are found in them by memchr, not read a
 * byte at a time. */
#define READ_CHUNK (64 * 1024)

/* One more read into r->buf after its end, the buffer grown when full.
 * 0, or -1 on a read error (errno set). */
static int fill(struct dg_csv_reader *r)
{
	ssize_t got;

	if (r->pos) { /* the line begun first in the buffer */
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	if (r->size - r->end < READ_CHUNK / 2) {
		r->size = r->size ? r->size * 2 : READ_CHUNK;
		r->buf = dg_xrealloc(r->buf, r->size);
	}
	got = r->read(r->ctx, r->buf + r->end, r->size - r->end);
	if (got < 0) {
		r->failed = true;
		return -1;
	}
	if (got == 0)
		r->eof = true;
	r->end += (size_t)got;
	return 0;
}

/*
 * The next physical line, '\n' included, at *line (in r->buf, valid
 * until the next call). As dg_read_line: its length, 0 at the end of the
 * input, -1 on a read error (errno set), or -2 when it is longer than
 * max bytes (the rest of the line is skipped). The input is read only
 * when no whole line is buffered: no more waiting than getc would do.
 */
static ssize_t next_line(struct dg_csv_reader *r, char **line, size_t max)
{
	size_t scan = r->pos, len;
	char *nl;

	for (;;) {
		nl = memchr(r->buf + scan, '\n', r->end - scan);
		if (nl) {
			len = (size_t)(nl + 1 - (r->buf + r->pos));
			*line = r->buf + r->pos;
			r->pos += len;
			return len > max ? -2 : (ssize_t)len;
		}
		len = r->end - r->pos;
		if (len > max)
			break;
		if (r->eof) {
			*line = r->buf + r->pos;
			r->pos = r->end;
			return (ssize_t)len;
		}
		scan = r->end - r->pos;
		if (fill(r))
			return -1;
		scan += r->pos;
	}
	/* too long: drop it up to its newline */
	for (;;) {
		r->pos = r->end;
		if (r->eof)
			return -2;
		if (fill(r))
			return -1;
		if ((nl = memchr(r->buf, '\n', r->end))) {
			r->pos = (size_t)(nl + 1 - r->buf);
			return -2;
		}
	}
}

static void parser_init(struct dg_csv_reader *r)
{
	csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
	r->cr_funcs = false; /* libcsv's own tests */
	csv_set_realloc_func(&r->parser, dg_xrealloc);
	/* libcsv grows a field's buffer by a fixed block, not geometrically:
	 * a large block keeps a long field from being copied thousands of
	 * times. */
	csv_set_blk_size(&r->parser, 64 * 1024);
}

/* After an error, a fresh parser: never csv_fini, which would hand the
 * partial row to the callbacks and clear the error. */
static void parser_reset(struct dg_csv_reader *r)
{
	csv_free(&r->parser);
	parser_init(r);
}

struct dg_csv_reader *dg_csv_open_read(dg_read_fn *read, void *ctx,
				       const char *name)
{
	struct dg_csv_reader *r = dg_xcalloc(1, sizeof(*r));

	r->read = read;
	r->ctx = ctx;
	r->size = READ_CHUNK; /* never memchr(NULL, ...) */
	r->buf = dg_xmalloc(r->size);
	r->name = dg_xstrdup(display_name(name));
	parser_init(r);
	return r;
}

struct dg_csv_reader *dg_csv_open(FILE *fp, const char *name)
{
	return dg_csv_open_read(read_stream, fp, name);
}

bool dg_csv_read_failed(const struct dg_csv_reader *r)
{
	return r->failed;
}

void dg_csv_close(struct dg_csv_reader *r)
{
	size_t i;

	if (!r)
		return;
	/* Never csv_fini here: after an error it would emit a partial row. */
	csv_free(&r->parser);
	for (i = 0; i < r->ncolumns; i++)
		free(r->columns[i]);
	free(r->columns);
	free(r->row.fields);
	free(r->row.lens);
	free(r->offs);
	free(r->text);
	free(r->buf);
	free(r->name);
	free(r);
}

static void on_field(void *s, size_t len, void *data)
{
	struct dg_csv_reader *r = data;
	size_t i = r->row.n;

	if (r->err)
		return;
	if (i == DG_CSV_MAX_FIELDS) {
		r->err = ROW_TOO_MANY;
		return;
	}
	if (len > DG_CSV_MAX_FIELD || (r->has_nul && memchr(s, '\0', len))) {
		r->err = len > DG_CSV_MAX_FIELD ? ROW_TOO_LONG : ROW_NUL;
		r->err_field = i;
		return;
	}
	if (i == r->row_cap) {
		r->row_cap = r->row_cap ? r->row_cap * 2 : 16;
		r->row.fields =
			dg_xrealloc(r->row.fields, r->row_cap * sizeof(char *));
		r->row.lens =
			dg_xrealloc(r->row.lens, r->row_cap * sizeof(size_t));
		r->offs = dg_xrealloc(r->offs, r->row_cap * sizeof(size_t));
	}
	if (r->text_len + len + 1 > r->text_size) {
		while (r->text_len + len + 1 > r->text_size)
			r->text_size = r->text_size ? r->text_size * 2 : 1024;
		r->text = dg_xrealloc(r->text, r->text_size);
	}
	memcpy(r->text + r->text_len, s, len);
	r->text[r->text_len + len] = '\0';
	r->offs[i] = r->text_len;
	r->row.lens[i] = len;
	r->text_len += len + 1;
	r->row.n++;
}

static void on_row(int c, void *data)
{
	struct dg_csv_reader *r = data;

	r->row_done = true;
}

/* "field 3" or "field 3 ('amount')" once the header names it. */
static char *field_label(const struct dg_csv_reader *r, size_t i)
{
	if (i < r->ncolumns && *r->columns[i])
		return dg_xasprintf("field %zu (%s)", i + 1,
				    dg_quoted(r->columns[i]));
	return dg_xasprintf("field %zu", i + 1);
}

/* "FILE:LINE: what", LINE the row's first; a row over several lines
 * names them. Through dg_report: a batch prints it in the row's turn. */
static void row_report(const struct dg_csv_reader *r, const char *what)
{
	if (r->end_line > r->row.line)
		dg_report("%s:%lu: %s: lines %lu to %lu skipped",
			  dg_escaped(r->name, DG_QUOTE_PATH_MAX), r->row.line,
			  what, r->row.line, r->end_line);
	else
		dg_report("%s:%lu: %s", dg_escaped(r->name, DG_QUOTE_PATH_MAX),
			  r->row.line, what);
}

/* The message for the row's error; 0, or -1 once reported. */
static int report_row_error(const struct dg_csv_reader *r)
{
	char *label = field_label(r, r->err_field), *what, *at = NULL;

	if (r->err_line && r->err_line != r->row.line)
		at = dg_xasprintf(" on line %lu", r->err_line);
	switch (r->err) {
	case ROW_OK:
		free(label);
		free(at);
		return 0;
	case ROW_TOO_MANY:
		what = dg_xasprintf("more than %d fields", DG_CSV_MAX_FIELDS);
		break;
	case ROW_TOO_LONG:
		what = dg_xasprintf("%s longer than %d bytes", label,
				    DG_CSV_MAX_FIELD);
		break;
	case ROW_NUL:
		what = dg_xasprintf("%s contains a NUL byte", label);
		break;
	case ROW_QUOTE:
		what = dg_xasprintf("malformed CSV: misplaced quote in %s%s",
				    label, at ? at : "");
		break;
	case ROW_UNTERMINATED:
		what = dg_xasprintf("malformed CSV: unterminated quote in %s",
				    label);
		break;
	case ROW_LINE_LONG:
		if (at)
			what = dg_xasprintf("line %lu longer than %d bytes",
					    r->err_line, CSV_MAX_LINE);
		else
			what = dg_xasprintf("line longer than %d bytes",
					    CSV_MAX_LINE);
		break;
	default:
		what = dg_xasprintf("malformed CSV: %s%s",
				    csv_strerror(r->err_code), at ? at : "");
		break;
	}
	row_report(r, what);
	free(what);
	free(at);
	free(label);
	return -1;
}

/* The row goes wrong at the current line: it ends here, the parser
 * starts afresh with the next line. */
static void row_broken(struct dg_csv_reader *r, enum row_err err, size_t field)
{
	if (!r->err) { /* else the first reason stays */
		r->err = err;
		r->err_field = field;
		r->err_line = r->lineno;
		r->err_code = csv_error(&r->parser);
	}
	parser_reset(r);
	r->end_line = r->lineno;
	r->in_row = false;
	r->row_done = true;
}

static bool is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* The end of the input: 1 when it ends a row (a bad one, with its quote
 * never closed, too), 0 when there is no row. */
static int parse_eof(struct dg_csv_reader *r)
{
	if (!r->in_row && !r->skipping)
		return 0;
	if (r->skipping || csv_fini(&r->parser, on_field, on_row, r)) {
		row_broken(r, ROW_UNTERMINATED, r->row.n);
		return 1;
	}
	r->in_row = false;
	r->end_line = r->lineno;
	return r->row_done ? 1 : 0;
}

/* One physical line into the row being built. */
static void parse_line(struct dg_csv_reader *r, char *s, size_t len)
{
	size_t done;

	if (r->lineno == 1 && len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
		s += 3;
		len -= 3;
	}
	if (!r->in_row && !is_blank(s, len)) {
		r->in_row = true;
		r->row.line = r->lineno;
	}
	/* a field holds only bytes of its row's lines */
	if (!r->has_nul && memchr(s, '\0', len))
		r->has_nul = true;
	if ((memchr(s, '\r', len) != NULL) != r->cr_funcs) {
		r->cr_funcs = !r->cr_funcs;
		csv_set_space_func(&r->parser, r->cr_funcs ? csv_space : NULL);
		csv_set_term_func(&r->parser, r->cr_funcs ? csv_term : NULL);
	}
	done = csv_parse(&r->parser, s, len, on_field, on_row, r);
	if (done != len) {
		row_broken(r,
			   csv_error(&r->parser) == CSV_EPARSE ? ROW_QUOTE
							       : ROW_PARSER,
			   r->row.n);
		return;
	}
	if (r->row_done) {
		r->in_row = false;
		r->end_line = r->lineno;
		return;
	}
	/* A quoted field running on over many lines: the row is bad, but
	 * where it ends is still libcsv's to find. Start a fresh parser
	 * inside a quoted field, so that the memory stays bounded. */
	if (csv_get_buffer_size(&r->parser) > DG_CSV_MAX_FIELD + CSV_MAX_LINE) {
		if (!r->err) {
			r->err = ROW_TOO_LONG;
			r->err_field = r->row.n;
		}
		r->skipping = true;
		parser_reset(r);
		csv_parse(&r->parser, "\"", 1, on_field, on_row, r);
	}
}

/* Read lines until a row ends. 1 a row (maybe bad: r->err), 0 the end
 * of input, -1 a read error (message printed): the input ends. */
static int parse_row(struct dg_csv_reader *r)
{
	ssize_t len;
	char *line;

	r->row.n = 0;
	r->text_len = 0;
	r->row_done = false;
	r->skipping = false;
	r->has_nul = false;
	r->err = ROW_OK;
	r->err_line = 0;
	while (!r->row_done) {
		len = next_line(r, &line, CSV_MAX_LINE);
		if (len == -1) {
			dg_report("cannot read %s: %s", dg_quoted_path(r->name),
				  strerror(errno));
			return -1;
		}
		if (len == 0)
			return parse_eof(r);
		r->lineno++;
		if (len == -2) {
			if (!r->in_row && !r->skipping)
				r->row.line = r->lineno;
			row_broken(r, ROW_LINE_LONG, r->row.n);
			break;
		}
		parse_line(r, line, (size_t)len);
	}
	return 1;
}

/* Problems confined to the row just read: 0 or -1 (message printed). */
static int check_row(struct dg_csv_reader *r)
{
	char *what;
	size_t i;

	if (r->err)
		return report_row_error(r);
	/* Extra fields are tolerated only when empty (a trailing comma). */
	for (i = r->ncolumns ? r->ncolumns : r->row.n; i < r->row.n; i++) {
		if (r->row.lens[i]) {
			what = dg_xasprintf("%zu fields but the header has %zu",
					    r->row.n, r->ncolumns);
			row_report(r, what);
			free(what);
			return -1;
		}
	}
	return 0;
}

int dg_csv_next(struct dg_csv_reader *r, const struct dg_csv_row **row)
{
	size_t i;
	int rc;

	if (r->done)
		return 0;
	rc = parse_row(r);
	if (rc <= 0) {
		r->done = true;
		return rc;
	}
	if (check_row(r))
		return -1;
	for (i = 0; i < r->row.n; i++)
		r->row.fields[i] = r->text + r->offs[i];
	*row = &r->row;
	return 1;
}

int dg_csv_read_header(struct dg_csv_reader *r)
{
	const struct dg_csv_row *row;
	size_t i, j;
	int rc;

	rc = dg_csv_next(r, &row);
	if (rc == 0)
		return 0;
	if (rc < 0)
		goto fail;
	for (i = 0; i < row->n; i++) {
		if (!*row->fields[i])
			continue;
		for (j = 0; j < i; j++) {
			if (!strcmp(row->fields[i], row->fields[j])) {
				dg_report(
					"%s:%lu: duplicate column %s in "
					"the header",
					dg_escaped(r->name, DG_QUOTE_PATH_MAX),
					row->line, dg_quoted(row->fields[i]));
				goto fail;
			}
		}
	}
	r->columns = dg_xcalloc(row->n, sizeof(char *));
	for (i = 0; i < row->n; i++)
		r->columns[i] = dg_xstrdup(row->fields[i]);
	r->ncolumns = row->n;
	return 0;
fail:
	r->done = true;
	return DG_EXIT_DATAERR;
}

int dg_csv_column(const struct dg_csv_reader *r, const char *name)
{
	size_t i;

	/* An unnamed column (a trailing comma in the header) is ignored. */
	if (!*name)
		return -1;
	for (i = 0; i < r->ncolumns; i++)
		if (!strcmp(r->columns[i], name))
			return (int)i;
	return -1;
}

size_t dg_csv_ncolumns(const struct dg_csv_reader *r)
{
	return r->ncolumns;
}

const char *dg_csv_column_name(const struct dg_csv_reader *r, size_t i)
{
	return i < r->ncolumns ? r->columns[i] : NULL;
}

const char *dg_csv_name(const struct dg_csv_reader *r)
{
	return r->name;
}

/* ---------------------------------------------------------------- output */

struct dg_out {
	FILE *fp;
	bool json;
	char **columns;
	size_t ncolumns;
	json_t *obj; /* JSON: one object, its values replaced row by row */
	bool header_done;
	bool failed; /* a write error was reported */
};

static bool csv_needs_quotes(const char *s, size_t len)
{
	if (!len)
		return false;
	if (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' ||
	    s[len - 1] == '\t')
		return true;
	/* one pass: fields are short, four memchr calls cost more */
	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

int dg_csv_write_field(FILE *fp, const char *s, size_t len)
{
	if (!s || !len)
		return 0;
	if (csv_needs_quotes(s, len))
		return csv_fwrite(fp, s, len) ? -1 : 0;
	return fwrite(s, 1, len, fp) == len ? 0 : -1;
}

struct dg_out *dg_out_new(FILE *fp, bool json, const char *const *columns,
			  size_t ncolumns)
{
	struct dg_out *o = dg_xcalloc(1, sizeof(*o));
	size_t i;

	o->fp = fp;
	o->json = json;
	o->ncolumns = ncolumns;
	o->columns = dg_xcalloc(ncolumns, sizeof(char *));
	if (json)
		o->obj = json_object();
	for (i = 0; i < ncolumns; i++) {
		o->columns[i] = dg_xstrdup(columns[i]);
		if (json)
			json_object_set_new(o->obj, columns[i], json_null());
	}
	return o;
}

static int write_failed(struct dg_out *o)
{
	if (!o->failed)
		dg_error("cannot write output: %s", strerror(errno));
	o->failed = true;
	return DG_EXIT_IOERR;
}

/* CSV: the values (or the column names) as one line. 0 or -1. */
static int write_csv_line(FILE *fp, const char *const *values, size_t n)
{
	size_t i;

	/* a row of one empty field would be a blank line, which readers
	 * skip: write it quoted, as Python's csv module does */
	if (n == 1 && (!values[0] || !values[0][0]))
		return fputs("\"\"\n", fp) == EOF ? -1 : 0;
	/* The usual row, with no field to quote, fits a small buffer: one
	 * fwrite of the whole line, not one stdio call per field. strcspn
	 * finds a field's length and whether a byte needs quotes in one
	 * call; at the first field that needs quotes or does not fit, the
	 * buffer is dropped for the way below. */
	{
		char buf[1024];
		size_t len = 0, k;

		for (i = 0; i < n; i++) {
			const char *v = values[i];

			k = v ? strcspn(v, ",\"\r\n") : 0;
			if ((v && v[k]) || len + k + 2 > sizeof(buf) ||
			    (k && (v[0] == ' ' || v[0] == '\t' ||
				   v[k - 1] == ' ' || v[k - 1] == '\t')))
				break;
			if (i)
				buf[len++] = ',';
			if (k)
				memcpy(buf + len, v, k);
			len += k;
		}
		if (i == n) {
			buf[len++] = '\n';
			return fwrite(buf, 1, len, fp) == len ? 0 : -1;
		}
	}
	for (i = 0; i < n; i++) {
		if (i && putc(',', fp) == EOF)
			return -1;
		if (values[i] &&
		    dg_csv_write_field(fp, values[i], strlen(values[i])))
			return -1;
	}
	return putc('\n', fp) == EOF ? -1 : 0;
}

static int write_json_line(struct dg_out *o, const char *const *values)
{
	json_t *v;
	size_t i;

	for (i = 0; i < o->ncolumns; i++) {
		v = values[i] ? json_stringn(values[i], strlen(values[i]))
			      : json_null();
		if (!v) {
			dg_error("value of '%s' is not valid UTF-8",
				 o->columns[i]);
			return DG_EXIT_DATAERR;
		}
		json_object_set_new(o->obj, o->columns[i], v);
	}
	if (json_dumpf(o->obj, o->fp, JSON_COMPACT | JSON_PRESERVE_ORDER) ||
	    putc('\n', o->fp) == EOF)
		return write_failed(o);
	return 0;
}

static int write_header(struct dg_out *o)
{
	o->header_done = true;
	if (o->json)
		return 0;
	if (write_csv_line(o->fp, (const char *const *)o->columns, o->ncolumns))
		return write_failed(o);
	return 0;
}

int dg_out_row(struct dg_out *o, const char *const *values)
{
	int rc;

	if (o->failed)
		return DG_EXIT_IOERR;
	if (!o->header_done && (rc = write_header(o)))
		return rc;
	if (o->json)
		rc = write_json_line(o, values);
	else if (write_csv_line(o->fp, values, o->ncolumns))
		rc = write_failed(o);
	else
		rc = 0;
	if (!rc && ferror(o->fp))
		rc = write_failed(o);
	return rc;
}

int dg_out_close(struct dg_out *o)
{
	return dg_out_finish(o, 0);
}

int dg_out_finish(struct dg_out *o, int status)
{
	size_t i;
	int rc = 0;

	if (!o)
		return 0;
	if (!o->failed && !o->header_done && status == 0)
		rc = write_header(o);
	if (!rc && (fflush(o->fp) || ferror(o->fp)))
		rc = write_failed(o);
	if (o->failed)
		rc = DG_EXIT_IOERR;
	for (i = 0; i < o->ncolumns; i++)
		free(o->columns[i]);
	free(o->columns);
	json_decref(o->obj);
	free(o);
	return rc;
}
