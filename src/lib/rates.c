/*
 * rates.c - reference-rate documents into quotes: the ECB XML feeds
 * (expat), the ECB CSV files (the library's CSV reader) and the JSON
 * shapes of Fixer, exchangerate.host, Open Exchange Rates and
 * Frankfurter (jansson).
 *
 * A document is all or nothing: the first problem is reported once,
 * naming the document and the line where there is one, and no quote is
 * kept. Quotes come out in document order, each rate as its published
 * text.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifndef HAVE_EXPAT
#error "rates.c parses the ECB XML feeds with expat: install libexpat1-dev"
#endif
#include <expat.h>

#include "daigou.h"

#define BOM "\xEF\xBB\xBF"

/* How much of a JSON value, and of a provider's own error text, a
 * message shows before it is cut. */
#define SHOW	      DG_QUOTE_MAX
#define PROVIDER_SHOW 200

static const char *display_name(const char *name)
{
	return name && strcmp(name, "-") ? name : "<stdin>";
}

int dg_rate_format_parse(const char *s, enum dg_rate_format *out)
{
	if (!strcmp(s, "ecb-xml"))
		*out = DG_RF_ECB_XML;
	else if (!strcmp(s, "ecb-csv"))
		*out = DG_RF_ECB_CSV;
	else if (!strcmp(s, "json"))
		*out = DG_RF_JSON;
	else
		return -1;
	return 0;
}

enum dg_rate_format dg_rate_format_detect(const char *buf, size_t len)
{
	size_t i = 0;

	if (len >= 3 && !memcmp(buf, BOM, 3))
		i = 3;
	while (i < len && buf[i] && strchr(" \t\r\n", buf[i]))
		i++;
	if (i < len && buf[i] == '<')
		return DG_RF_ECB_XML;
	if (i < len && buf[i] == '{')
		return DG_RF_JSON;
	return DG_RF_ECB_CSV;
}

void dg_quotes_free(struct dg_quotes *q)
{
	free(q->v);
	q->v = NULL;
	q->n = q->cap = 0;
}

int dg_rate_from_json_number(json_t *num, char *buf, size_t len)
{
	char e[40], digits[24];
	size_t o = 0;
	int p, nd = 0, exp, i, n;
	const char *s;
	/* The one double in src/ (design section 3): jansson hands a JSON
	 * number with a fraction or an exponent over as a double, and it
	 * is turned back into its exact decimal text here, at once. The
	 * double goes no further than this function. */
	double v;

	if (json_is_integer(num)) {
		if (json_integer_value(num) <= 0)
			return -1;
		n = snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
			     json_integer_value(num));
		return n < 0 || (size_t)n >= len ? -1 : 0;
	}
	if (!json_is_real(num))
		return -1;
	v = json_real_value(num);
	if (!isfinite(v) || v <= 0)
		return -1;
	/* The fewest significant digits that read back as the same double. */
	for (p = 1; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	if (p > 15)
		return -1;
	/* "d.ddde+XX" (whatever the locale's decimal point) into a plain
	 * decimal. */
	for (s = e; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			digits[nd++] = *s;
	if (*s != 'e' || nd == 0)
		return -1;
	exp = (int)strtol(s + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
#define PUT(c)                                                                 \
	do {                                                                   \
		if (o + 1 >= len)                                              \
			return -1;                                             \
		buf[o++] = (c);                                                \
	} while (0)
	if (exp >= 0) {
		for (i = 0; i <= exp; i++)
			PUT(i < nd ? digits[i] : '0');
		if (nd > exp + 1) {
			PUT('.');
			for (i = exp + 1; i < nd; i++)
				PUT(digits[i]);
		}
	} else {
		PUT('0');
		PUT('.');
		for (i = 0; i < -exp - 1; i++)
			PUT('0');
		for (i = 0; i < nd; i++)
			PUT(digits[i]);
	}
#undef PUT
	buf[o] = '\0';
	return 0;
}

/* ------------------------------------------------------------ builder */

/* JSON: a rate written with an exponent, as found in the text. */
struct exp_rate {
	char *day;	  /* its series day's key, NULL in a one-day document */
	char *code;	  /* its currency's key */
	const char *text; /* the number as written, in the document */
	size_t len;
	bool seen; /* the walk over the parsed document reached it */
};

/* Quotes of one document as they are read, day by day. */
struct builder {
	struct dg_quotes *q;
	const char *name;
	char base[4];
	struct dg_rate one;
	XML_Parser xml;	    /* set: messages take the line from expat */
	unsigned long line; /* else the current line, 0 when there is none */
	bool failed;	    /* a message was printed */
	/* The day being read. */
	int32_t day;
	char day_text[DG_DATE_SIZE];
	/* Every day seen, to refuse a day given twice. */
	int32_t *days;
	size_t ndays, days_cap;
	int32_t dmin, dmax;
	/* Per currency code (code_slot): 1 known, 2 unknown, 0 not looked
	 * up yet; and the ndays of the last day a quote for it was kept
	 * (a document names the same few codes thousands of times). */
	unsigned char *code_known;
	size_t *code_day;
	/* JSON: the key of the series day being read (NULL in a one-day
	 * document), and the first rate written with an exponent. */
	const char *day_key;
	struct exp_rate *exp;
};

static void fail(struct builder *b, const char *fmt, ...) DG_PRINTF(2, 3);

/* The first problem only: "name:LINE: message" or "name: message". */
static void fail(struct builder *b, const char *fmt, ...)
{
	unsigned long line = b->line;
	const char *name;
	va_list ap;
	char *msg;

	if (b->failed)
		return;
	b->failed = true;
	va_start(ap, fmt);
	msg = dg_xvasprintf(fmt, ap);
	va_end(ap);
	name = dg_escaped(b->name, DG_QUOTE_PATH_MAX);
	if (b->xml)
		line = (unsigned long)XML_GetCurrentLineNumber(b->xml);
	if (line)
		dg_error("%s:%lu: %s", name, line, msg);
	else
		dg_error("%s: %s", name, msg);
	free(msg);
}

static int begin_day(struct builder *b, int32_t day)
{
	char d[DG_DATE_SIZE];
	size_t i;

	/* Feeds run newest or oldest first: a new day is almost always
	 * outside the range seen so far. */
	if (b->ndays && day >= b->dmin && day <= b->dmax) {
		for (i = 0; i < b->ndays; i++) {
			if (b->days[i] == day) {
				dg_format_date(day, d);
				fail(b, "%s given twice", d);
				return -1;
			}
		}
	}
	if (b->ndays == b->days_cap) {
		b->days_cap = b->days_cap ? b->days_cap * 2 : 64;
		b->days = dg_xrealloc(b->days, b->days_cap * sizeof(*b->days));
	}
	b->days[b->ndays++] = day;
	if (b->ndays == 1 || day < b->dmin)
		b->dmin = day;
	if (b->ndays == 1 || day > b->dmax)
		b->dmax = day;
	b->day = day;
	dg_format_date(day, b->day_text);
	return 0;
}

#define CODE_SLOTS (26 * 26 * 26)

/* A well-formed code's place in the per-code arrays, or -1. */
static long code_slot(const char *code)
{
	int i;

	for (i = 0; i < 3; i++)
		if (code[i] < 'A' || code[i] > 'Z')
			return -1;
	if (code[3])
		return -1;
	return ((code[0] - 'A') * 26 + (code[1] - 'A')) * 26 + (code[2] - 'A');
}

static int check_currency(struct builder *b, const char *code)
{
	long slot = code_slot(code);
	char d[DG_DATE_SIZE];

	if (!b->code_known) {
		b->code_known = dg_xcalloc(CODE_SLOTS, 1);
		b->code_day = dg_xcalloc(CODE_SLOTS, sizeof(*b->code_day));
	}
	if (slot >= 0 && !b->code_known[slot])
		b->code_known[slot] = dg_currency_lookup(code) ? 1 : 2;
	if (slot >= 0 && b->code_known[slot] == 1)
		return 0;
	dg_format_date(b->day, d);
	fail(b, "unknown currency %s on %s", dg_quoted(code), d);
	return -1;
}

/* One quote of the current day: code and rate text as published. */
static int add_quote(struct builder *b, const char *code, const char *text)
{
	struct dg_quotes *q = b->q;
	struct dg_quote *x;
	char d[DG_DATE_SIZE];
	enum dg_merr e;
	long slot;

	if (check_currency(b, code))
		return -1;
	slot = code_slot(code); /* known: well formed */
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->v = dg_xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	x = &q->v[q->n];
	if ((e = dg_rate_parse(text, &x->rate))) {
		dg_format_date(b->day, d);
		fail(b, "bad rate %s for %s on %s: %s", dg_quoted(text),
		     dg_quoted(code), d, dg_merr_str(e));
		return -1;
	}
	/* Open Exchange Rates lists its base at 1: nothing to store. */
	if (!memcmp(code, b->base, 4)) { /* a known code: 3 letters, NUL */
		if (!dg_rate_cmp(&x->rate, &b->one))
			return 0;
		dg_format_date(b->day, d);
		fail(b, "rate %s for the base currency %s on %s: must be 1",
		     dg_quoted(x->rate.text), dg_quoted(code), d);
		return -1;
	}
	if (b->code_day[slot] == b->ndays) {
		dg_format_date(b->day, d);
		fail(b, "%s given twice on %s", dg_quoted(code), d);
		return -1;
	}
	b->code_day[slot] = b->ndays;
	memcpy(x->base, b->base, 4);
	memcpy(x->quote, code, 4); /* 3 letters and NUL: checked above */
	x->as_of = b->day;
	memcpy(x->as_of_text, b->day_text, DG_DATE_SIZE);
	q->n++;
	return 0;
}

/* ---------------------------------------------------------------- XML */

#define ECB_NS	  "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
#define NS_SEP	  '|'
#define XML_CHUNK (16 * 1024 * 1024)

static const char cube_name[] = ECB_NS "|Cube";

/*
 * <Cube>                                    the wrapper
 *   <Cube time='2022-07-08'>                one day
 *     <Cube currency='USD' rate='1.0163'/>  one quote
 * Depths are those of the open time and currency Cubes, 0 when none.
 */
struct xml_state {
	struct builder *b;
	XML_Parser p;
	unsigned long depth, time_depth, quote_depth;
};

static void XMLCALL on_start(void *data, const XML_Char *el,
			     const XML_Char **attr)
{
	struct xml_state *s = data;
	struct builder *b = s->b;
	const char *time = NULL, *currency = NULL, *rate = NULL;
	char d[DG_DATE_SIZE];
	int32_t day;

	s->depth++;
	if (b->failed || strcmp(el, cube_name))
		return;
	/* By first letter: one test per attribute on the usual path. */
	for (; *attr; attr += 2) {
		const char *a = attr[0];

		if (a[0] == 't' && !strcmp(a, "time"))
			time = attr[1];
		else if (a[0] == 'c' && !strcmp(a, "currency"))
			currency = attr[1];
		else if (a[0] == 'r' && !strcmp(a, "rate"))
			rate = attr[1];
	}
	if (s->quote_depth) {
		fail(b, "Cube inside a currency Cube");
	} else if (time) {
		if (s->time_depth)
			fail(b, "time Cube inside a time Cube");
		else if (currency || rate)
			fail(b, "Cube with both a time and a currency");
		else if (dg_parse_date(time, &day))
			fail(b, "bad date %s", dg_quoted(time));
		else if (!begin_day(b, day))
			s->time_depth = s->depth;
	} else if (currency || rate || s->time_depth) {
		s->quote_depth = s->depth;
		if (!s->time_depth) {
			fail(b, "currency Cube outside a time Cube");
		} else if (!currency || !rate) {
			dg_format_date(b->day, d);
			if (!currency)
				fail(b, "Cube without a currency on %s", d);
			else
				fail(b, "Cube for %s without a rate on %s",
				     dg_quoted(currency), d);
		} else {
			add_quote(b, currency, rate);
		}
	}
	if (b->failed)
		XML_StopParser(s->p, XML_FALSE);
}

static void XMLCALL on_end(void *data, const XML_Char *el)
{
	struct xml_state *s = data;

	if (s->depth == s->quote_depth)
		s->quote_depth = 0;
	if (s->depth == s->time_depth)
		s->time_depth = 0;
	s->depth--;
}

/* No feed has one, and refusing it rules out entity expansion. */
static void XMLCALL on_doctype(void *data, const XML_Char *name,
			       const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal_subset)
{
	struct xml_state *s = data;

	fail(s->b, "a DOCTYPE is not allowed in a rate feed");
	XML_StopParser(s->p, XML_FALSE);
}

static void parse_xml(const char *buf, size_t len, struct builder *b)
{
	struct xml_state s = {0};
	XML_Parser p;
	size_t off = 0, n;
	int final;

	p = XML_ParserCreateNS(NULL, NS_SEP);
	if (!p)
		dg_die(DG_EXIT_SOFTWARE, "out of memory");
	s.b = b;
	s.p = p;
	b->xml = p;
	XML_SetUserData(p, &s);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetStartDoctypeDeclHandler(p, on_doctype);
	/* XML_Parse takes an int length: feed big documents in chunks. */
	do {
		n = len - off > XML_CHUNK ? XML_CHUNK : len - off;
		final = off + n == len;
		if (XML_Parse(p, buf + off, (int)n, final) != XML_STATUS_OK) {
			fail(b, "malformed XML: %s",
			     XML_ErrorString(XML_GetErrorCode(p)));
			break;
		}
		off += n;
	} while (!final);
	b->xml = NULL;
	XML_ParserFree(p);
}

/* ---------------------------------------------------------------- CSV */

static const char *const month_names[] = {
	"January", "February", "March",	    "April",   "May",	   "June",
	"July",	   "August",   "September", "October", "November", "December",
};

/* "2026-04-13" (the history file) or "13 April 2026" (the daily file). */
static int parse_ecb_date(const char *s, int32_t *day)
{
	char iso[48];
	int d = 0, m, y = 0, n;
	size_t l = 0;

	if (!dg_parse_date(s, day))
		return 0;
	for (n = 0; n < 2 && *s >= '0' && *s <= '9'; n++)
		d = d * 10 + *s++ - '0';
	if (n == 0 || *s++ != ' ')
		return -1;
	for (m = 0; m < 12; m++) {
		l = strlen(month_names[m]);
		if (!strncmp(s, month_names[m], l) && s[l] == ' ')
			break;
	}
	if (m == 12)
		return -1;
	s += l + 1;
	for (n = 0; n < 4 && *s >= '0' && *s <= '9'; n++)
		y = y * 10 + *s++ - '0';
	if (n != 4 || *s)
		return -1;
	snprintf(iso, sizeof(iso), "%04d-%02d-%02d", y, m + 1, d);
	return dg_parse_date(iso, day);
}

static void parse_csv(const char *buf, size_t len, struct builder *b)
{
	const struct dg_csv_row *row;
	struct dg_csv_reader *r;
	const char *col, *cell;
	size_t ncol, need = 1, i;
	int32_t day;
	FILE *fp;
	int rc;

	if (len == 0)
		return; /* fmemopen refuses a size of 0 */
	fp = fmemopen((void *)buf, len, "r");
	if (!fp)
		dg_die(DG_EXIT_SOFTWARE, "out of memory");
	r = dg_csv_open(fp, b->name);
	if (dg_csv_read_header(r)) {
		b->failed = true; /* the reader said why */
		goto out;
	}
	ncol = dg_csv_ncolumns(r);
	if (ncol == 0)
		goto out;
	col = dg_csv_column_name(r, 0);
	if (strcmp(col, "Date")) {
		fail(b, "the first column is %s, not 'Date'", dg_quoted(col));
		goto out;
	}
	/* An unnamed column is the ECB's trailing comma. */
	for (i = 1; i < ncol; i++) {
		col = dg_csv_column_name(r, i);
		if (!*col)
			continue;
		if (!dg_currency_lookup(col)) {
			fail(b, "unknown currency %s in the header",
			     dg_quoted(col));
			goto out;
		}
		need = i + 1;
	}
	while ((rc = dg_csv_next(r, &row)) > 0) {
		b->line = row->line;
		if (row->n < need) {
			fail(b, "%zu fields but the header has %zu", row->n,
			     need);
			goto out;
		}
		if (parse_ecb_date(row->fields[0], &day)) {
			fail(b, "bad date %s", dg_quoted(row->fields[0]));
			goto out;
		}
		if (begin_day(b, day))
			goto out;
		for (i = 1; i < row->n && i < ncol; i++) {
			cell = row->fields[i];
			if (!*cell || !strcmp(cell, "N/A"))
				continue;
			col = dg_csv_column_name(r, i);
			if (!*col) {
				fail(b, "value %s in an unnamed column",
				     dg_quoted(cell));
				goto out;
			}
			if (add_quote(b, col, cell))
				goto out;
		}
	}
	if (rc < 0)
		b->failed = true; /* the reader said why */
out:
	b->line = 0;
	dg_csv_close(r);
	fclose(fp);
}

/* --------------------------------------------------------------- JSON */

static const char *get_string(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Fixer and exchangerate.host: "success": false with an "error" object
 * (type, info); Open Exchange Rates: "error": true with message and
 * description. */
static int provider_error(struct builder *b, json_t *doc)
{
	json_t *err = json_object_get(doc, "error");
	const char *what = NULL, *why = NULL;

	if (!json_is_false(json_object_get(doc, "success")) &&
	    !json_is_true(err))
		return 0;
	if (json_is_object(err)) {
		what = get_string(err, "type");
		why = get_string(err, "info");
	}
	if (!what)
		what = get_string(doc, "message");
	if (!why)
		why = get_string(doc, "description");
	if (what && why)
		fail(b, "the provider reports an error: %s: %s",
		     dg_escaped(what, PROVIDER_SHOW),
		     dg_escaped(why, PROVIDER_SHOW));
	else if (what || why)
		fail(b, "the provider reports an error: %s",
		     dg_escaped(what ? what : why, PROVIDER_SHOW));
	else
		fail(b, "the provider reports an error");
	return -1;
}

/* A JSON value as compact text for a message (malloc'd): numbers with
 * fractions to `digits` significant digits. */
static char *show_json(json_t *v, int digits)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
					JSON_REAL_PRECISION(digits));

	return s ? s : dg_xstrdup("?");
}

/*
 * jansson hands 1e3 over as the double 1000, the text it was written as
 * gone; a rate written with an exponent is refused, as it is in the CSV
 * and in a JSON string, so the text is read once more for one. The
 * document is well-formed JSON (jansson has read it): only strings,
 * numbers and the nesting need telling apart. Rates sit at
 * "rates": {CODE: n} and "rates": {DAY: {CODE: n}}; the first number
 * with an exponent there is kept with its keys, for add_json_rate to
 * report when the walk over the parsed document reaches it.
 */

/* A key as jansson reads it: s is its text, quotes included. */
static char *json_key(const char *s, size_t n)
{
	json_t *v;
	char *k;

	if (!memchr(s, '\\', n))
		return dg_xstrndup(s + 1, n - 2);
	v = json_loadb(s, n, JSON_DECODE_ANY, NULL);
	k = dg_xstrdup(json_is_string(v) ? json_string_value(v) : "");
	json_decref(v);
	return k;
}

static bool key_is(const char *s, size_t n, const char *want)
{
	char *k = json_key(s, n);
	bool same = !strcmp(k, want);

	free(k);
	return same;
}

/* The first rate written with an exponent in the JSON text, or NULL. */
static struct exp_rate *find_exp_rate(const char *buf, size_t len)
{
	/* Per depth 1 to 3: an object or not, and the key being read. */
	bool obj[4] = {false};
	const char *key[4] = {NULL};
	size_t klen[4] = {0}, depth = 0, i = 0, j;
	bool want_key = false;
	struct exp_rate *x;

	while (i < len) {
		switch (buf[i]) {
		case '{':
		case '[':
			if (++depth < 4)
				obj[depth] = buf[i] == '{';
			want_key = buf[i] == '{';
			i++;
			continue;
		case '}':
		case ']':
			depth--;
			i++;
			continue;
		case ',':
			want_key = depth > 0 && depth < 4 && obj[depth];
			i++;
			continue;
		case '"':
			for (j = i + 1; j < len && buf[j] != '"'; j++)
				if (buf[j] == '\\')
					j++;
			j++;
			if (want_key && depth < 4) {
				key[depth] = buf + i;
				klen[depth] = j - i;
			}
			want_key = false;
			i = j;
			continue;
		}
		if (buf[i] != '-' && (buf[i] < '0' || buf[i] > '9')) {
			i++; /* blanks, ':', true, false, null */
			continue;
		}
		for (j = i;
		     j < len && buf[j] && strchr("+-.0123456789eE", buf[j]);
		     j++)
			;
		if ((depth == 2 || depth == 3) && obj[1] && obj[2] &&
		    obj[depth] && key[1] &&
		    (memchr(buf + i, 'e', j - i) ||
		     memchr(buf + i, 'E', j - i)) &&
		    key_is(key[1], klen[1], "rates")) {
			x = dg_xcalloc(1, sizeof(*x));
			if (depth == 3)
				x->day = json_key(key[2], klen[2]);
			x->code = json_key(key[depth], klen[depth]);
			x->text = buf + i;
			x->len = j - i;
			return x;
		}
		i = j;
	}
	return NULL;
}

static void free_exp_rate(struct exp_rate *x)
{
	if (!x)
		return;
	free(x->day);
	free(x->code);
	free(x);
}

/* Is code of the day being read the rate written with an exponent? */
static bool is_exp_rate(struct builder *b, const char *code)
{
	struct exp_rate *x = b->exp;

	if (!x || strcmp(x->code, code) || (x->day == NULL) != !b->day_key ||
	    (x->day && strcmp(x->day, b->day_key)))
		return false;
	x->seen = true;
	return true;
}

/* One "CODE": rate of the current day: a decimal string, or a JSON
 * number turned back into its shortest decimal text. */
static int add_json_rate(struct builder *b, const char *code, json_t *v)
{
	char text[400], d[DG_DATE_SIZE], *shown;
	const char *why;

	if (check_currency(b, code))
		return -1;
	if (json_is_real(v) && is_exp_rate(b, code)) {
		dg_format_date(b->day, d);
		fail(b, "bad rate %s for %s on %s: not a plain decimal",
		     dg_quotedn(b->exp->text, b->exp->len), dg_quoted(code), d);
		return -1;
	}
	if (json_is_string(v))
		return add_quote(b, code, json_string_value(v));
	if (json_is_number(v) &&
	    !dg_rate_from_json_number(v, text, sizeof(text)))
		return add_quote(b, code, text);
	/* Refused: all 17 digits show why a number is too precise, 15 show
	 * the others as they were most likely written. */
	shown = show_json(v, 17);
	if (!json_is_number(v)) {
		why = "not a number or a decimal string";
	} else if (shown[0] != '-' && strpbrk(shown, "123456789")) {
		why = "more than 15 significant digits";
	} else {
		why = "must be positive";
	}
	if (strcmp(why, "more than 15 significant digits")) {
		free(shown);
		shown = show_json(v, 15);
	}
	dg_format_date(b->day, d);
	fail(b, "bad rate %s for %s on %s: %s", dg_escaped(shown, SHOW),
	     dg_quoted(code), d, why);
	free(shown);
	return -1;
}

static int add_json_day(struct builder *b, json_t *rates)
{
	void *it;

	for (it = json_object_iter(rates); it;
	     it = json_object_iter_next(rates, it))
		if (add_json_rate(b, json_object_iter_key(it),
				  json_object_iter_value(it)))
			return -1;
	return 0;
}

/* One day of Frankfurter's series: "2026-04-10": {...}. */
static int add_series_day(struct builder *b, const char *key, json_t *rates)
{
	int32_t day;
	int ret;

	if (!json_is_object(rates)) {
		fail(b, "'rates' mixes days and currencies");
		return -1;
	}
	if (dg_parse_date(key, &day)) {
		fail(b, "bad date %s in 'rates'", dg_quoted(key));
		return -1;
	}
	if (begin_day(b, day))
		return -1;
	b->day_key = key;
	ret = add_json_day(b, rates);
	b->day_key = NULL;
	return ret;
}

/* The day of a latest-rates document: "date" wins over "timestamp". */
static int json_day(struct builder *b, json_t *doc, int32_t *day)
{
	json_t *date = json_object_get(doc, "date");
	json_t *ts = json_object_get(doc, "timestamp");
	json_int_t t;

	if (date) {
		if (!json_is_string(date)) {
			fail(b, "'date' is not a string");
			return -1;
		}
		if (dg_parse_date(json_string_value(date), day)) {
			fail(b, "bad date %s",
			     dg_quoted(json_string_value(date)));
			return -1;
		}
		return 0;
	}
	if (!ts) {
		fail(b, "no 'date' or 'timestamp'");
		return -1;
	}
	t = json_is_integer(ts) ? json_integer_value(ts) : -1;
	/* Up to the end of year 9999. */
	if (t < 0 || t >= (json_int_t)253402300800LL) {
		fail(b, "bad timestamp: not a time in seconds since 1970");
		return -1;
	}
	*day = (int32_t)(t / 86400);
	return 0;
}

static void parse_json(const char *buf, size_t len, struct builder *b)
{
	json_t *doc, *v, *rates;
	const char *key, *base;
	struct dg_rate amount;
	void *it;
	char text[400], *shown;
	bool series;
	int32_t day;

	if (len >= 3 && !memcmp(buf, BOM, 3)) {
		buf += 3;
		len -= 3;
	}
	doc = dg_json_parse(buf, len, b->name);
	if (!doc) {
		b->failed = true; /* dg_json_parse said why */
		return;
	}
	if (!json_is_object(doc)) {
		fail(b, "not a JSON object");
		goto out;
	}
	b->exp = find_exp_rate(buf, len);
	if (provider_error(b, doc))
		goto out;
	rates = json_object_get(doc, "rates");
	if (!json_is_object(rates)) {
		if (!rates && (key = get_string(doc, "message")))
			fail(b, "the provider reports an error: %s",
			     dg_escaped(key, PROVIDER_SHOW));
		else
			fail(b, "no 'rates' object");
		goto out;
	}
	base = get_string(doc, "base");
	if (!base) {
		fail(b, "no 'base' currency");
		goto out;
	}
	if (!dg_currency_lookup(base)) {
		fail(b, "unknown base currency %s", dg_quoted(base));
		goto out;
	}
	memcpy(b->base, base, 4);
	/* Frankfurter's "amount": rates for 1 unit of the base only. */
	v = json_object_get(doc, "amount");
	if (v &&
	    (dg_rate_from_json_number(v, text, sizeof(text)) ||
	     dg_rate_parse(text, &amount) || dg_rate_cmp(&amount, &b->one))) {
		shown = show_json(v, 15);
		fail(b, "'amount' is %s, not 1", dg_escaped(shown, SHOW));
		free(shown);
		goto out;
	}
	/* Frankfurter's series: {"rates": {"2026-04-10": {...}, ...}}. */
	series =
		json_object_size(rates) &&
		json_is_object(json_object_iter_value(json_object_iter(rates)));
	if (series) {
		for (it = json_object_iter(rates); it && !b->failed;
		     it = json_object_iter_next(rates, it))
			add_series_day(b, json_object_iter_key(it),
				       json_object_iter_value(it));
	} else if (!json_day(b, doc, &day) && !begin_day(b, day)) {
		add_json_day(b, rates);
	}
	/* Every rate is visited above: this is a safety net only. */
	if (b->exp && !b->exp->seen)
		fail(b, "bad rate %s for %s: not a plain decimal",
		     dg_quotedn(b->exp->text, b->exp->len),
		     dg_quoted(b->exp->code));
out:
	free_exp_rate(b->exp);
	b->exp = NULL;
	json_decref(doc);
}

/* ------------------------------------------------------------ parsing */

int dg_rates_parse(const char *buf, size_t len, enum dg_rate_format fmt,
		   const char *name, struct dg_quotes *q)
{
	struct builder b = {0};

	q->n = 0;
	b.q = q;
	b.name = display_name(name);
	if (dg_rate_parse("1", &b.one))
		dg_die(DG_EXIT_SOFTWARE, "cannot parse the rate '1'");
	if (fmt == DG_RF_AUTO)
		fmt = dg_rate_format_detect(buf, len);
	switch (fmt) {
	case DG_RF_ECB_XML:
		memcpy(b.base, "EUR", 4);
		parse_xml(buf, len, &b);
		break;
	case DG_RF_ECB_CSV:
		memcpy(b.base, "EUR", 4);
		parse_csv(buf, len, &b);
		break;
	case DG_RF_JSON:
		parse_json(buf, len, &b);
		break;
	default:
		fail(&b, "unknown document format %d", (int)fmt);
		break;
	}
	if (!b.failed && q->n == 0)
		fail(&b, "no quotes in the document");
	free(b.days);
	free(b.code_known);
	free(b.code_day);
	if (b.failed) {
		dg_quotes_free(q);
		return DG_EXIT_DATAERR;
	}
	return 0;
}

const char *dg_rate_provider_stored(const char *provider)
{
	if (!strcmp(provider, "ecb-90d") || !strcmp(provider, "ecb-hist"))
		return "ecb";
	return provider;
}
