/*
 * input.c - records from CSV or JSON Lines, told apart by the first
 * non-blank byte ('{' is JSON Lines).
 *
 * The bytes read to tell the formats apart are handed back to the parser
 * by cookie_read, which the CSV reader reads from and JSON Lines through
 * a stdio cookie stream, so nothing is lost, not even the blank lines
 * that line numbers count, and stdin works as well as a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daigou.h"

/* Beyond this much leading white space, stop looking and read CSV. */
#define SNIFF_MAX   (1024 * 1024)
#define SNIFF_CHUNK 4096

struct dg_input {
	char *name; /* for messages: "<stdin>" for "-" */
	int fd;
	bool own_fd;
	FILE *fp;   /* JSON Lines: the cookie stream the parser reads */
	char *peek; /* bytes read while sniffing, replayed first */
	size_t peek_len, peek_pos;

	bool json;
	struct dg_csv_reader *csv;
	struct dg_jsonl_reader *jsonl;
	const struct dg_csv_row *row;
	json_t *obj;
	unsigned long line;
	int status;

	/* Text made for the current record (JSON integers). */
	char **texts;
	size_t ntexts, texts_cap;

	/* CSV: the columns of the names looked up, so that a name asked
	 * for record after record is found without a search of the
	 * header. A name is known by its address and its text. */
	struct {
		const char *key;
		char name[32];
		int col;
	} cols[16];
	size_t ncols;
};

int dg_input_format_parse(const char *s, enum dg_input_format *out)
{
	if (!strcmp(s, "auto"))
		*out = DG_IN_AUTO;
	else if (!strcmp(s, "csv"))
		*out = DG_IN_CSV;
	else if (!strcmp(s, "json"))
		*out = DG_IN_JSON;
	else
		return -1;
	return 0;
}

static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
	struct dg_input *in = cookie;
	size_t n = in->peek_len - in->peek_pos;
	ssize_t got;

	if (n) {
		if (n > size)
			n = size;
		memcpy(buf, in->peek + in->peek_pos, n);
		in->peek_pos += n;
		return (ssize_t)n;
	}
	do
		got = read(in->fd, buf, size);
	while (got < 0 && errno == EINTR);
	return got;
}

/* Whether reading the input failed. */
static bool read_failed(const struct dg_input *in)
{
	return in->csv ? dg_csv_read_failed(in->csv) : ferror(in->fp);
}

/* Read more into the peek buffer until it holds want bytes or the input
 * ends. 0 or 74 (message printed). */
static int peek_fill(struct dg_input *in, size_t want)
{
	ssize_t got;

	while (in->peek_len < want) {
		in->peek = dg_xrealloc(in->peek, in->peek_len + SNIFF_CHUNK);
		got = read(in->fd, in->peek + in->peek_len, SNIFF_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			dg_error("cannot read %s: %s", dg_quoted_path(in->name),
				 strerror(errno));
			return DG_EXIT_IOERR;
		}
		if (got == 0)
			break;
		in->peek_len += (size_t)got;
	}
	return 0;
}

/* JSON Lines when the first byte that is not a BOM or white space is '{'.
 * 0 or an exit status. */
static int sniff(struct dg_input *in)
{
	size_t i = 0;
	int rc;
	char c;

	if ((rc = peek_fill(in, 3)))
		return rc;
	if (in->peek_len >= 3 && !memcmp(in->peek, "\xEF\xBB\xBF", 3))
		i = 3;
	for (; i < SNIFF_MAX; i++) {
		if (i == in->peek_len && (rc = peek_fill(in, i + 1)))
			return rc;
		if (i == in->peek_len)
			return 0;
		c = in->peek[i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			in->json = c == '{';
			return 0;
		}
	}
	return 0;
}

static int open_fd(struct dg_input *in, const char *path)
{
	struct stat st;

	if (!path || !strcmp(path, "-")) {
		in->fd = STDIN_FILENO;
		return 0;
	}
	in->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in->fd < 0) {
		dg_error("cannot open %s: %s", dg_quoted_path(path),
			 strerror(errno));
		return DG_EXIT_NOINPUT;
	}
	in->own_fd = true;
	if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		dg_error("cannot open %s: %s", dg_quoted_path(path),
			 strerror(EISDIR));
		return DG_EXIT_NOINPUT;
	}
	return 0;
}

struct dg_input *dg_input_open(const char *path, enum dg_input_format fmt,
			       int *status)
{
	static const cookie_io_functions_t io = {.read = cookie_read};
	struct dg_input *in = dg_xcalloc(1, sizeof(*in));
	int rc;

	in->fd = -1;
	in->name = dg_xstrdup(path && strcmp(path, "-") ? path : "<stdin>");
	if ((rc = open_fd(in, path)))
		goto fail;
	if (fmt == DG_IN_AUTO && (rc = sniff(in)))
		goto fail;
	if (fmt == DG_IN_JSON)
		in->json = true;
	if (in->json) {
		in->fp = fopencookie(in, "r", io);
		if (!in->fp)
			dg_die(DG_EXIT_SOFTWARE,
			       "out of memory (stdio stream)");
		in->jsonl = dg_jsonl_open(in->fp, in->name);
	} else {
		/* no stream: the reader reads chunks as cookie_read gives
		 * them */
		in->csv = dg_csv_open_read(cookie_read, in, in->name);
		if (dg_csv_read_header(in->csv)) {
			rc = read_failed(in) ? DG_EXIT_IOERR : DG_EXIT_DATAERR;
			goto fail;
		}
	}
	*status = 0;
	return in;
fail:
	dg_input_close(in);
	*status = rc;
	return NULL;
}

static void free_texts(struct dg_input *in)
{
	size_t i;

	for (i = 0; i < in->ntexts; i++)
		free(in->texts[i]);
	in->ntexts = 0;
}

void dg_input_close(struct dg_input *in)
{
	if (!in)
		return;
	dg_csv_close(in->csv);
	dg_jsonl_close(in->jsonl);
	if (in->fp)
		fclose(in->fp);
	if (in->own_fd)
		close(in->fd);
	free_texts(in);
	free(in->texts);
	free(in->peek);
	free(in->name);
	free(in);
}

int dg_input_require(struct dg_input *in, const char *const *names, size_t n)
{
	size_t i;

	/* JSON: checked record by record. No header: no records either. */
	if (in->json || !dg_csv_ncolumns(in->csv))
		return 0;
	for (i = 0; i < n; i++) {
		if (dg_csv_column(in->csv, names[i]) < 0) {
			dg_error("%s: missing required column '%s'",
				 dg_escaped(in->name, DG_QUOTE_PATH_MAX),
				 names[i]);
			in->status = dg_exit_worst(in->status, DG_EXIT_DATAERR);
			return DG_EXIT_DATAERR;
		}
	}
	return 0;
}

int dg_input_next(struct dg_input *in)
{
	int rc;

	free_texts(in);
	in->row = NULL;
	in->obj = NULL;
	if (in->json)
		rc = dg_jsonl_next(in->jsonl, &in->obj, &in->line);
	else
		rc = dg_csv_next(in->csv, &in->row);
	if (rc > 0 && in->row)
		in->line = in->row->line;
	if (rc < 0)
		in->status = dg_exit_worst(in->status,
					   read_failed(in) ? DG_EXIT_IOERR
							   : DG_EXIT_DATAERR);
	return rc;
}

int dg_input_status(const struct dg_input *in)
{
	return in->status;
}

/* Keep s until the next record; returns it. */
static const char *keep_text(struct dg_input *in, char *s)
{
	if (in->ntexts == in->texts_cap) {
		in->texts_cap = in->texts_cap ? in->texts_cap * 2 : 8;
		in->texts =
			dg_xrealloc(in->texts, in->texts_cap * sizeof(char *));
	}
	in->texts[in->ntexts++] = s;
	return s;
}

static const char *json_get(struct dg_input *in, const char *name, bool *bad)
{
	json_t *v = json_object_get(in->obj, name);
	char buf[32];

	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		dg_xsnprintf(buf, sizeof(buf), "%" PRId64,
			     (int64_t)json_integer_value(v));
		return keep_text(in, dg_xstrdup(buf));
	}
	if (json_is_true(v))
		return "true";
	if (json_is_false(v))
		return "false";
	/* A real, an array or an object has no single text form. */
	if (bad)
		*bad = true;
	return NULL;
}

/* dg_csv_column, remembered. */
static int csv_column(struct dg_input *in, const char *name)
{
	size_t k, len;
	int i;

	for (k = 0; k < in->ncols; k++)
		if (in->cols[k].key == name && !strcmp(in->cols[k].name, name))
			return in->cols[k].col;
	i = dg_csv_column(in->csv, name);
	len = strlen(name);
	if (in->ncols < sizeof(in->cols) / sizeof(in->cols[0]) &&
	    len < sizeof(in->cols[0].name)) {
		in->cols[in->ncols].key = name;
		memcpy(in->cols[in->ncols].name, name, len + 1);
		in->cols[in->ncols].col = i;
		in->ncols++;
	}
	return i;
}

const char *dg_input_get(struct dg_input *in, const char *name, bool *bad)
{
	int i;

	if (in->json)
		return in->obj ? json_get(in, name, bad) : NULL;
	if (!in->row)
		return NULL;
	i = csv_column(in, name);
	if (i < 0 || (size_t)i >= in->row->n || !in->row->lens[i])
		return NULL;
	return in->row->fields[i];
}

json_t *dg_input_json(struct dg_input *in)
{
	return in->json ? in->obj : NULL;
}

const struct dg_csv_reader *dg_input_csv(const struct dg_input *in)
{
	return in->csv;
}

const char *dg_input_name(const struct dg_input *in)
{
	return in->name;
}

unsigned long dg_input_line(const struct dg_input *in)
{
	return in->line;
}

bool dg_input_is_json(const struct dg_input *in)
{
	return in->json;
}
