/*
 * csvio.c - CSV in through libcsv, tabular output as CSV or JSON Lines.
 *
 * The reader hands libcsv one physical line at a time, so the line a row
 * starts on is known even when a quoted field spans lines, and an
 * over-long line is refused before it is parsed.
 */
#include <errno.h>
#include <string.h>

#include <csv.h>

#include "daigou.h"

/* A physical line; a longer one is refused before it is parsed. */
#define CSV_MAX_LINE (1024 * 1024)

/* A problem confined to one row: reported when the row ends. */
enum row_err { ROW_OK, ROW_TOO_MANY, ROW_TOO_LONG, ROW_NUL };

struct dg_csv_reader {
	FILE *fp;
	char *name;
	struct csv_parser parser;
	char *line;
	size_t line_size;
	unsigned long lineno; /* physical lines read */
	bool in_row;	      /* the row being built goes on past lineno */
	bool done;	      /* end of input or a fatal error: no more rows */

	/* The row being built by the libcsv callbacks. */
	struct dg_csv_row row;
	size_t *offs; /* where each field starts in text */
	size_t row_cap;
	char *text; /* the fields, each NUL-terminated */
	size_t text_len, text_size;
	bool row_done;
	enum row_err err;
	size_t err_field;

	char **columns; /* the header, once read */
	size_t ncolumns;
};

static const char *display_name(const char *name)
{
	return name && strcmp(name, "-") ? name : "<stdin>";
}

/* Rows end at LF only and a CR is trimmed like a space: CRLF and LF files
 * read the same, a CR inside a quoted field is kept, and a row can only
 * end at the end of a physical line. */
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
	size_t len = 0;
	int c;

	while ((c = getc_unlocked(fp)) != EOF) {
		if (len == max) {
			while (c != EOF && c != '\n')
				c = getc_unlocked(fp);
			return ferror(fp) ? -1 : -2;
		}
		if (len + 2 > *size) {
			*size = *size ? *size * 2 : 256;
			*buf = dg_xrealloc(*buf, *size);
		}
		(*buf)[len++] = (char)c;
		if (c == '\n')
			break;
	}
	if (ferror(fp))
		return -1;
	if (len)
		(*buf)[len] = '\0';
	return (ssize_t)len;
}

struct dg_csv_reader *dg_csv_open(FILE *fp, const char *name)
{
	struct dg_csv_reader *r = dg_xcalloc(1, sizeof(*r));

	r->fp = fp;
	r->name = dg_xstrdup(display_name(name));
	csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
	csv_set_space_func(&r->parser, csv_space);
	csv_set_term_func(&r->parser, csv_term);
	csv_set_realloc_func(&r->parser, dg_xrealloc);
	/* libcsv grows a field's buffer by a fixed block, not geometrically:
	 * a large block keeps a long field from being copied thousands of
	 * times. */
	csv_set_blk_size(&r->parser, 64 * 1024);
	return r;
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
	free(r->line);
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
	if (len > DG_CSV_MAX_FIELD || memchr(s, '\0', len)) {
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
static void field_label(const struct dg_csv_reader *r, size_t i, char *buf,
			size_t len)
{
	if (i < r->ncolumns && *r->columns[i])
		snprintf(buf, len, "field %zu ('%s')", i + 1, r->columns[i]);
	else
		snprintf(buf, len, "field %zu", i + 1);
}

static bool is_blank(const char *s, size_t len)
{
	return strspn(s, " \t\r\n") == len;
}

/* Read lines until libcsv completes a row. 1 row, 0 end of input, -1 an
 * error after which the input cannot be read on (message printed). */
static int parse_row(struct dg_csv_reader *r)
{
	char label[128];
	ssize_t len;
	size_t done;
	char *s;

	r->row.n = 0;
	r->text_len = 0;
	r->row_done = false;
	r->err = ROW_OK;
	while (!r->row_done) {
		len = dg_read_line(r->fp, &r->line, &r->line_size,
				   CSV_MAX_LINE);
		if (len == -1) {
			dg_error("cannot read '%s': %s", r->name,
				 strerror(errno));
			return -1;
		}
		if (len == 0) {
			if (csv_fini(&r->parser, on_field, on_row, r)) {
				field_label(r, r->row.n, label, sizeof(label));
				dg_error("%s:%lu: malformed CSV: unterminated "
					 "quote in %s",
					 r->name, r->row.line, label);
				return -1;
			}
			if (!r->row_done)
				return 0;
			break;
		}
		r->lineno++;
		if (len == -2) {
			dg_error("%s:%lu: line longer than %d bytes", r->name,
				 r->lineno, CSV_MAX_LINE);
			return -1;
		}
		s = r->line;
		if (r->lineno == 1 && len >= 3 &&
		    !memcmp(s, "\xEF\xBB\xBF", 3)) {
			s += 3;
			len -= 3;
		}
		if (!r->in_row && !is_blank(s, (size_t)len)) {
			r->in_row = true;
			r->row.line = r->lineno;
		}
		done = csv_parse(&r->parser, s, (size_t)len, on_field, on_row,
				 r);
		if (done != (size_t)len) {
			field_label(r, r->row.n, label, sizeof(label));
			if (csv_error(&r->parser) == CSV_EPARSE)
				dg_error("%s:%lu: malformed CSV: misplaced "
					 "quote in %s",
					 r->name, r->lineno, label);
			else
				dg_error("%s:%lu: malformed CSV: %s", r->name,
					 r->lineno,
					 csv_strerror(csv_error(&r->parser)));
			return -1;
		}
		/* A quoted field running on over many lines. */
		if (csv_get_buffer_size(&r->parser) >
		    DG_CSV_MAX_FIELD + CSV_MAX_LINE) {
			field_label(r, r->row.n, label, sizeof(label));
			dg_error("%s:%lu: %s longer than %d bytes", r->name,
				 r->row.line, label, DG_CSV_MAX_FIELD);
			return -1;
		}
	}
	r->in_row = false;
	return 1;
}

/* Problems confined to the row just read: 0 or -1 (message printed). */
static int check_row(struct dg_csv_reader *r)
{
	char label[128];
	size_t i;

	switch (r->err) {
	case ROW_OK:
		break;
	case ROW_TOO_MANY:
		dg_error("%s:%lu: more than %d fields", r->name, r->row.line,
			 DG_CSV_MAX_FIELDS);
		return -1;
	case ROW_TOO_LONG:
		field_label(r, r->err_field, label, sizeof(label));
		dg_error("%s:%lu: %s longer than %d bytes", r->name,
			 r->row.line, label, DG_CSV_MAX_FIELD);
		return -1;
	case ROW_NUL:
		field_label(r, r->err_field, label, sizeof(label));
		dg_error("%s:%lu: %s contains a NUL byte", r->name, r->row.line,
			 label);
		return -1;
	}
	/* Extra fields are tolerated only when empty (a trailing comma). */
	for (i = r->ncolumns ? r->ncolumns : r->row.n; i < r->row.n; i++) {
		if (r->row.lens[i]) {
			dg_error("%s:%lu: %zu fields but the header has %zu",
				 r->name, r->row.line, r->row.n, r->ncolumns);
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
				dg_error("%s:%lu: duplicate column '%s' in "
					 "the header",
					 r->name, row->line, row->fields[i]);
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
	return memchr(s, ',', len) || memchr(s, '"', len) ||
	       memchr(s, '\r', len) || memchr(s, '\n', len);
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
	size_t i;
	int rc = 0;

	if (!o)
		return 0;
	if (!o->failed && !o->header_done)
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
