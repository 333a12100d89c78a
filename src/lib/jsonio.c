/*
 * jsonio.c - JSON Lines in, JSON documents, money fields in JSON.
 *
 * Money never passes through a JSON real: an amount is a string, or an
 * integer count of minor units where a gateway sends those.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
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

/*
 * A bump allocator for jansson's values. jansson mallocs every value,
 * string, hashtable and token buffer of a document and frees each one
 * again; a document parsed into an arena costs pointer bumps instead, and
 * is thrown away whole by a reset. The allocator functions are installed
 * in jansson once; they call malloc and free unless the calling thread
 * has an arena open (from dg_json_arena_loadb to dg_json_arena_reset),
 * so that every other jansson user, in this thread before and after or
 * in another thread, allocates as before.
 */
#define ARENA_BLOCK (256 * 1024)
#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct dg_json_arena {
	struct arena_block *first, *cur;
};

static _Thread_local struct dg_json_arena *open_arena;

static bool in_arena(const struct dg_json_arena *a, const void *p)
{
	const struct arena_block *b;
	const unsigned char *c = p;

	for (b = a->first; b; b = b->next)
		if (c >= b->data && c < b->data + b->size)
			return true;
	return false;
}

static struct arena_block *arena_block_new(size_t size)
{
	struct arena_block *b = dg_xmalloc(sizeof(*b) + size);

	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

static void *arena_malloc(size_t size)
{
	struct dg_json_arena *a = open_arena;
	struct arena_block *b;
	size_t need;

	if (!a)
		return malloc(size);
	need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need < size)
		return NULL;
	for (b = a->cur; b; b = b->next) {
		if (b->size - b->used >= need) {
			void *p = b->data + b->used;

			b->used += need;
			a->cur = b;
			return p;
		}
		if (!b->next)
			break;
	}
	/* a block of its own for a value larger than a block */
	b->next = arena_block_new(need > ARENA_BLOCK ? need : ARENA_BLOCK);
	a->cur = b->next;
	a->cur->used = need;
	return a->cur->data;
}

static void arena_free(void *p)
{
	struct dg_json_arena *a = open_arena;

	if (!p || (a && in_arena(a, p)))
		return; /* gone with the reset */
	free(p);
}

/* Once, whichever thread makes the first arena; the hashtable seed too,
 * before parse threads make objects at once. */
static void arena_install(void)
{
	json_object_seed(0);
	json_set_alloc_funcs(arena_malloc, arena_free);
}

struct dg_json_arena *dg_json_arena_new(void)
{
	static pthread_once_t installed = PTHREAD_ONCE_INIT;
	struct dg_json_arena *a = dg_xcalloc(1, sizeof(*a));

	pthread_once(&installed, arena_install);
	a->first = a->cur = arena_block_new(ARENA_BLOCK);
	return a;
}

json_t *dg_json_arena_loadb(struct dg_json_arena *a, const char *buf,
			    size_t len, size_t flags, json_error_t *err)
{
	open_arena = a;
	return json_loadb(buf, len, flags, err);
}

void dg_json_arena_reset(struct dg_json_arena *a)
{
	struct arena_block *b;

	if (open_arena == a)
		open_arena = NULL;
	for (b = a->first; b; b = b->next)
		b->used = 0;
	a->cur = a->first;
}

void dg_json_arena_free(struct dg_json_arena *a)
{
	struct arena_block *b, *next;

	if (!a)
		return;
	if (open_arena == a)
		open_arena = NULL;
	for (b = a->first; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}
