/*
 * jsonio.c - JSON Lines in, JSON documents, money fields in JSON.
 *
 * Money never passes through a JSON real: an amount is a string, or an
 * integer count of minor units where a gateway sends those.
 */
#include <errno.h>
#include <string.h>

#include "daigou.h"

/* One JSON Lines record; a longer line is skipped with an error. */
#define JSONL_MAX_LINE (1024 * 1024)

struct dg_jsonl_reader {
	FILE *fp;
	char *name;
	char *line;
	size_t line_size;
	unsigned long lineno;
	json_t *obj;
	bool done; /* end of input or a read error */
};

static const char *display_name(const char *name)
{
	return name && strcmp(name, "-") ? name : "<stdin>";
}

/* jansson's error text quotes the input near the error: its control
 * characters and bytes outside printable ASCII are escaped (\xHH) so
 * that a message cannot drive the terminal. malloc'd. */
static char *error_text(const char *text)
{
	static const char hex[] = "0123456789abcdef";
	char *out = dg_xmalloc(strlen(text) * 4 + 1), *p = out;

	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		if (c < 0x20 || c >= 0x7f) {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else {
			*p++ = (char)c;
		}
	}
	*p = '\0';
	return out;
}

struct dg_jsonl_reader *dg_jsonl_open(FILE *fp, const char *name)
{
	struct dg_jsonl_reader *r = dg_xcalloc(1, sizeof(*r));

	r->fp = fp;
	r->name = dg_xstrdup(display_name(name));
	return r;
}

void dg_jsonl_close(struct dg_jsonl_reader *r)
{
	if (!r)
		return;
	json_decref(r->obj);
	free(r->line);
	free(r->name);
	free(r);
}

int dg_jsonl_next(struct dg_jsonl_reader *r, json_t **obj, unsigned long *line)
{
	json_error_t err;
	ssize_t len;
	char *s;

	json_decref(r->obj);
	r->obj = NULL;
	while (!r->done) {
		len = dg_read_line(r->fp, &r->line, &r->line_size,
				   JSONL_MAX_LINE);
		if (len == 0 || len == -1) {
			r->done = true;
			if (len == 0)
				return 0;
			dg_report("cannot read %s: %s", dg_quoted_path(r->name),
				  strerror(errno));
			return -1;
		}
		r->lineno++;
		if (len == -2) {
			dg_report("%s:%lu: line longer than %d bytes",
				  dg_escaped(r->name, DG_QUOTE_PATH_MAX),
				  r->lineno, JSONL_MAX_LINE);
			return -1;
		}
		s = r->line;
		if (r->lineno == 1 && len >= 3 &&
		    !memcmp(s, "\xEF\xBB\xBF", 3)) {
			s += 3;
			len -= 3;
		}
		if (strspn(s, " \t\r\n") == (size_t)len)
			continue;
		r->obj = json_loadb(s, (size_t)len, JSON_REJECT_DUPLICATES,
				    &err);
		if (!r->obj) {
			char *why = error_text(err.text);

			dg_report("%s:%lu: invalid JSON: %s",
				  dg_escaped(r->name, DG_QUOTE_PATH_MAX),
				  r->lineno, why);
			free(why);
			return -1;
		}
		if (!json_is_object(r->obj)) {
			json_decref(r->obj);
			r->obj = NULL;
			dg_report("%s:%lu: not a JSON object",
				  dg_escaped(r->name, DG_QUOTE_PATH_MAX),
				  r->lineno);
			return -1;
		}
		*obj = r->obj;
		if (line)
			*line = r->lineno;
		return 1;
	}
	return 0;
}

json_t *dg_json_parse(const char *buf, size_t len, const char *name)
{
	json_error_t err;
	json_t *doc;

	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!doc) {
		char *why = error_text(err.text);

		if (err.line > 0)
			dg_error("%s:%d: invalid JSON: %s",
				 dg_escaped(display_name(name),
					    DG_QUOTE_PATH_MAX),
				 err.line, why);
		else
			dg_error("%s: invalid JSON: %s",
				 dg_escaped(display_name(name),
					    DG_QUOTE_PATH_MAX),
				 why);
		free(why);
	}
	return doc;
}

enum dg_merr dg_json_amount(json_t *obj, const char *key, int exponent,
			    bool int_minor, int64_t *minor, const char **why)
{
	json_t *v = json_object_get(obj, key);
	enum dg_merr e;
	const char *reason = NULL;

	if (!v || json_is_null(v)) {
		e = DG_M_INVALID;
		reason = "missing";
	} else if (json_is_string(v)) {
		e = dg_amount_parse(json_string_value(v), exponent, minor);
		if (e)
			reason = dg_merr_str(e);
	} else if (json_is_integer(v) && int_minor) {
		*minor = json_integer_value(v);
		e = DG_M_OK;
	} else if (json_is_number(v)) {
		/* Never json_real_value(): a binary float is not money. */
		e = DG_M_SYNTAX;
		reason = "money must be a string, not a number";
	} else {
		e = DG_M_SYNTAX;
		reason = "money must be a string";
	}
	if (why)
		*why = reason;
	return e;
}
