/*
 * order-rate-pin - pin the exchange rate to each order when it is
 * created, exactly once, with the drift valve.
 *
 * An order (its amount in the seller's currency, the currency it is
 * charged in, optionally a reporting currency, and its lines) is stored
 * together with the conversions made at creation: the charge amount, the
 * exact quotes used, the rounding mode and an effective rate. All of it
 * goes into the database in one BEGIN IMMEDIATE transaction, so an order
 * is pinned once; pinning it again reads the stored pin back.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "daigou.h"

static const char usage[] =
	"usage: order-rate-pin [-hqv] [--db PATH] [--json] [--provider NAME]\n"
	"                      [--rounding half-up|half-even] [--max-age "
	"DAYS]\n"
	"                      [--max-drift PCT] [--preview] [--preview-rate "
	"RATE]\n"
	"                      [--created-at TIME] --to CCY [--base CCY]\n"
	"                      ORDER_ID AMOUNT CURRENCY\n"
	"       order-rate-pin [-hqv] [--db PATH] [--json] [--provider NAME]\n"
	"                      [--rounding half-up|half-even] [--max-age "
	"DAYS]\n"
	"                      [--max-drift PCT] [--preview] [--strict] "
	"[--batch N]\n"
	"                      [--input-format csv|json] [--lines FILE] "
	"[--base CCY]\n"
	"                      [FILE ...]\n"
	"       order-rate-pin --version\n";

#define MAX_ID	  DG_ID_MAX
#define MAX_SKU	  256
#define MAX_LINES 10000

struct options {
	struct dg_common common;
	const char *provider;
	enum dg_rounding rounding;
	int max_age_days;
	const char *max_age_text;
	const char *max_drift;
	bool preview;
	bool strict;
	long batch;
	enum dg_input_format in_fmt;
	const char *lines_path;
	const char *to;
	const char *base;
	const char *preview_rate;
	const char *created_at;
};

enum {
	OPT_PROVIDER = DG_OPT_TOOL_BASE,
	OPT_ROUNDING,
	OPT_MAX_AGE,
	OPT_MAX_DRIFT,
	OPT_PREVIEW,
	OPT_PREVIEW_RATE,
	OPT_CREATED_AT,
	OPT_TO,
	OPT_BASE,
	OPT_STRICT,
	OPT_BATCH,
	OPT_INPUT_FORMAT,
	OPT_LINES,
};

static const struct option longopts[] = {
	DG_COMMON_LONGOPTS,
	{"provider", 1, NULL, OPT_PROVIDER},
	{"rounding", 1, NULL, OPT_ROUNDING},
	{"max-age", 1, NULL, OPT_MAX_AGE},
	{"max-drift", 1, NULL, OPT_MAX_DRIFT},
	{"preview", 0, NULL, OPT_PREVIEW},
	{"preview-rate", 1, NULL, OPT_PREVIEW_RATE},
	{"created-at", 1, NULL, OPT_CREATED_AT},
	{"to", 1, NULL, OPT_TO},
	{"base", 1, NULL, OPT_BASE},
	{"strict", 0, NULL, OPT_STRICT},
	{"batch", 1, NULL, OPT_BATCH},
	{"input-format", 1, NULL, OPT_INPUT_FORMAT},
	{"lines", 1, NULL, OPT_LINES},
	{NULL, 0, NULL, 0},
};

/* ------------------------------------------------------------ options */

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	o->provider = "ecb";
	o->rounding = DG_ROUND_HALF_UP;
	o->max_age_days = 5;
	o->max_age_text = "5d";
	o->max_drift = "2";
	o->batch = 1000;
	while ((c = dg_getopt(argc, argv, "hqv", longopts, usage)) != -1) {
		if (dg_common_option(&o->common, c, optarg, usage))
			continue;
		switch (c) {
		case OPT_PROVIDER:
			if (!*optarg || strlen(optarg) > 31)
				dg_usage_error(usage,
					       "--provider needs a name of 1 "
					       "to 31 bytes");
			o->provider = optarg;
			break;
		case OPT_ROUNDING:
			if (dg_rounding_parse(optarg, &o->rounding))
				dg_usage_error(usage,
					       "--rounding is half-up or "
					       "half-even, not %s",
					       dg_quoted(optarg));
			break;
		case OPT_MAX_AGE: {
			size_t n = strlen(optarg), k;
			long days = 0;

			if (n && optarg[n - 1] == 'd')
				n--;
			for (k = 0; k < n && k < 5; k++) {
				if (optarg[k] < '0' || optarg[k] > '9')
					break;
				days = days * 10 + (optarg[k] - '0');
			}
			if (n == 0 || k != n || days > 3650)
				dg_usage_error(usage,
					       "--max-age needs a number of "
					       "days from 0 to 3650 such as 5 "
					       "or 5d, not %s",
					       dg_quoted(optarg));
			o->max_age_days = (int)days;
			o->max_age_text = optarg;
			break;
		}
		case OPT_MAX_DRIFT:
			o->max_drift = optarg;
			break;
		case OPT_PREVIEW:
			o->preview = true;
			break;
		case OPT_PREVIEW_RATE:
			o->preview_rate = optarg;
			break;
		case OPT_CREATED_AT:
			o->created_at = optarg;
			break;
		case OPT_TO:
			o->to = optarg;
			break;
		case OPT_BASE:
			o->base = optarg;
			break;
		case OPT_STRICT:
			o->strict = true;
			break;
		case OPT_BATCH:
			o->batch = dg_number_arg(usage, "--batch", optarg, 1,
						 100000);
			break;
		case OPT_INPUT_FORMAT:
			if (dg_input_format_parse(optarg, &o->in_fmt))
				dg_usage_error(usage,
					       "--input-format is csv or json, "
					       "not %s",
					       dg_quoted(optarg));
			break;
		case OPT_LINES:
			o->lines_path = optarg;
			break;
		default:
			dg_usage_error(usage, "unknown option (see --help)");
		}
	}
	{
		struct dg_rate one;

		if (dg_rate_parse("1", &one) ||
		    dg_rate_moved_more_than(&one, &one, o->max_drift) < 0 ||
		    o->max_drift[0] == '-')
			dg_usage_error(usage,
				       "--max-drift needs a percentage such as "
				       "2 or 0.5, not %s",
				       dg_quoted(o->max_drift));
	}
	if (o->to)
		dg_currency_arg(usage, "--to", o->to);
	if (o->base)
		dg_currency_arg(usage, "--base", o->base);
	if (o->to) {
		if (argc - optind != 3)
			dg_usage_error(usage, "--to needs ORDER_ID AMOUNT "
					      "CURRENCY");
		if (o->strict || o->lines_path || o->in_fmt != DG_IN_AUTO)
			dg_usage_error(usage,
				       "--strict, --lines and --input-format "
				       "are for batch input");
	} else if (o->preview_rate || o->created_at) {
		dg_usage_error(usage, "--preview-rate and --created-at go with "
				      "--to (one order); a batch has columns "
				      "for them");
	}
}

/* ------------------------------------------------------------ orders */

struct line {
	int64_t line;
	char *sku; /* NULL when none */
	int64_t qty;
	int64_t amount; /* one unit's price: the line is qty x amount */
};

struct order {
	char id[MAX_ID + 1];
	int64_t amount;
	char currency[4], charge[4], base[4]; /* base "" when none */
	int cexp, charge_exp, base_exp;	      /* their exponents */
	/* the same codes in the currency table, whose addresses stay: see
	 * bind_fixed (base_code NULL when none) */
	const char *ccy_code, *charge_code, *base_code;
	bool has_preview;
	struct dg_rate preview;
	dg_time created_at;
	char created[DG_RFC3339_SIZE]; /* created_at as stored */
	int32_t day;
	struct line *lines;
	size_t nlines;
	char *where; /* "orders.csv:12: " or "" */
	char *error; /* why it was refused while read, or NULL */
};

static void order_free(struct order *o)
{
	size_t i;

	for (i = 0; i < o->nlines; i++)
		free(o->lines[i].sku);
	free(o->lines);
	free(o->where);
	free(o->error);
	o->lines = NULL;
	o->nlines = 0;
	o->where = o->error = NULL;
}

/* What an output row holds. */
struct row {
	char order_id[MAX_ID + 1];
	char amount[DG_AMOUNT_SIZE], currency[4];
	char charge_amount[DG_AMOUNT_SIZE], charge_currency[4];
	char rate[DG_EFFECTIVE_SIZE];
	char base_amount[DG_AMOUNT_SIZE], base_currency[4];
	char base_rate[DG_EFFECTIVE_SIZE];
	char rate_as_of[DG_DATE_SIZE], pinned_at[DG_RFC3339_SIZE];
	const char *status;
};

static const char *const out_cols[] = {
	"order_id",	   "amount",	 "currency",	"charge_amount",
	"charge_currency", "rate",	 "base_amount", "base_currency",
	"base_rate",	   "rate_as_of", "pinned_at",	"status",
};
#define NCOLS (sizeof(out_cols) / sizeof(out_cols[0]))

static int write_row(struct dg_out *out, const struct row *r)
{
	const char *v[NCOLS] = {
		r->order_id,
		r->amount,
		r->currency,
		r->charge_amount[0] ? r->charge_amount : NULL,
		r->charge_currency,
		r->rate[0] ? r->rate : NULL,
		r->base_amount[0] ? r->base_amount : NULL,
		r->base_currency[0] ? r->base_currency : NULL,
		r->base_rate[0] ? r->base_rate : NULL,
		r->rate_as_of[0] ? r->rate_as_of : NULL,
		r->pinned_at[0] ? r->pinned_at : NULL,
		r->status,
	};

	return dg_out_row(out, v);
}

/* --------------------------------------------------- field validation */

/* Messages name the place: "FILE:LINE: field: reason", or for an order
 * from the arguments "field: reason". */
static int field_error(const char *where, const char *field, const char *fmt,
		       ...) DG_PRINTF(3, 4);
static int field_error(const char *where, const char *field, const char *fmt,
		       ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = dg_xvasprintf(fmt, ap);
	va_end(ap);
	/* in a batch, kept for its turn: see dg_defer_begin */
	dg_report("%s%s: %s", where, field, msg);
	free(msg);
	return DG_EXIT_DATAERR;
}

/* The currency of code v, as dg_currency_lookup finds it, remembered:
 * orders in turn carry the same few currencies. */
static const struct dg_currency *currency_of(const char *v)
{
	static const struct dg_currency *seen[32];
	const struct dg_currency *c;
	unsigned h;

	if (!v[0] || !v[1] || !v[2] || v[3])
		return dg_currency_lookup(v);
	h = ((unsigned char)v[0] * 31u + (unsigned char)v[1] * 7u +
	     (unsigned char)v[2]) &
	    31u;
	if ((c = seen[h]) && !memcmp(c->code, v, 4))
		return c;
	if ((c = dg_currency_lookup(v)))
		seen[h] = c;
	return c;
}

/* A currency code into out, its exponent into *exp, the table's copy of
 * the code into *code. */
static int parse_currency(const char *where, const char *field, const char *v,
			  char out[4], int *exp, const char **code)
{
	const struct dg_currency *c;

	if (!v)
		return field_error(where, field, "missing");
	if (!(c = currency_of(v)))
		return field_error(where, field,
				   "%s is not an ISO 4217 currency",
				   dg_quoted(v));
	memcpy(out, v, 4);
	*exp = c->exponent;
	*code = c->code;
	return 0;
}

/* An amount of the order's currency; positive unless zero_ok. */
static int parse_amount(const char *where, const char *field, const char *v,
			const struct order *o, bool zero_ok, int64_t *out)
{
	const char *ccy = o->currency;
	int exp = o->cexp;
	char extra[32];

	if (!v)
		return field_error(where, field, "missing");
	switch (dg_amount_parse(v, exp, out)) {
	case DG_M_OK:
		break;
	case DG_M_PRECISION:
		dg_xsnprintf(extra, sizeof(extra), "%s's %d", ccy, exp);
		return field_error(where, field, "%s has more decimals than %s",
				   dg_quoted(v), extra);
	case DG_M_OVERFLOW:
		return field_error(where, field, "%s is too large",
				   dg_quoted(v));
	default:
		return field_error(where, field, "%s is not an amount",
				   dg_quoted(v));
	}
	if (*out < 0 || (*out == 0 && !zero_ok))
		return field_error(where, field, "%s must be %s", dg_quoted(v),
				   zero_ok ? "zero or more"
					   : "greater than zero");
	return 0;
}

/* A whole number from min to max. */
static int parse_int(const char *where, const char *field, const char *v,
		     int64_t min, int64_t max, int64_t *out)
{
	int64_t x = 0;
	const char *p = v;
	char extra[64];

	if (!v)
		return field_error(where, field, "missing");
	dg_xsnprintf(extra, sizeof(extra), "%lld to %lld", (long long)min,
		     (long long)max);
	if (!*p)
		return field_error(where, field,
				   "%s is not a whole number from %s",
				   dg_quoted(v), extra);
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || x > (max - (*p - '0')) / 10)
			return field_error(where, field,
					   "%s is not a whole number from %s",
					   dg_quoted(v), extra);
		x = x * 10 + (*p - '0');
	}
	if (x < min)
		return field_error(where, field,
				   "%s is not a whole number from %s",
				   dg_quoted(v), extra);
	*out = x;
	return 0;
}

static int cmp_line(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

static bool mul_overflow(int64_t a, int64_t b, int64_t *out)
{
	return __builtin_mul_overflow(a, b, out);
}

/* Sort the lines, refuse duplicates, check that qty x amount over the
 * lines adds up to the order amount. */
static int check_lines(struct order *o, const char *where)
{
	int64_t sum = 0;
	char a[DG_AMOUNT_SIZE], b[DG_AMOUNT_SIZE], field[32];
	size_t i;

	if (o->nlines == 0) {
		o->lines = dg_xcalloc(1, sizeof(*o->lines));
		o->lines[0].line = 1;
		o->lines[0].qty = 1;
		o->lines[0].amount = o->amount;
		o->nlines = 1;
		return 0;
	}
	qsort(o->lines, o->nlines, sizeof(*o->lines), cmp_line);
	for (i = 0; i < o->nlines; i++) {
		int64_t total;

		if (i && o->lines[i].line == o->lines[i - 1].line) {
			dg_xsnprintf(field, sizeof(field), "%lld",
				     (long long)o->lines[i].line);
			return field_error(where, "lines",
					   "line %s appears twice", field);
		}
		if (mul_overflow(o->lines[i].qty, o->lines[i].amount, &total) ||
		    dg_add(sum, total, &sum))
			return field_error(where, "lines",
					   "the line amounts overflow");
	}
	if (sum != o->amount) {
		dg_amount_format(sum, o->cexp, a);
		dg_amount_format(o->amount, o->cexp, b);
		return field_error(where, "lines",
				   "the lines add up to %s, not %s", a, b);
	}
	return 0;
}

static void add_line(struct order *o, size_t *cap, const struct line *l)
{
	if (o->nlines == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		o->lines = dg_xrealloc(o->lines, *cap * sizeof(*o->lines));
	}
	o->lines[o->nlines++] = *l;
}

/* The lines of a JSON record's "lines" array. */
static int json_lines(struct order *o, json_t *arr, const char *where)
{
	size_t i, cap = 0;
	json_t *e;
	char field[48];

	if (!json_is_array(arr))
		return field_error(where, "lines", "not an array");
	if (json_array_size(arr) > MAX_LINES)
		return field_error(where, "lines", "more than %d lines",
				   MAX_LINES);
	json_array_foreach(arr, i, e)
	{
		struct line l = {0};
		const char *keys[] = {"line", "sku", "qty", "amount"};
		char text[4][40];
		const char *v[4] = {NULL, NULL, NULL, NULL};
		int k, ret;

		if (!json_is_object(e)) {
			dg_xsnprintf(field, sizeof(field), "lines[%zu]", i);
			return field_error(where, field, "not an object");
		}
		for (k = 0; k < 4; k++) {
			json_t *x = json_object_get(e, keys[k]);

			dg_xsnprintf(field, sizeof(field), "lines[%zu].%s", i,
				     keys[k]);
			if (!x || json_is_null(x))
				continue;
			if (json_is_string(x)) {
				v[k] = json_string_value(x);
			} else if (json_is_integer(x)) {
				dg_xsnprintf(text[k], sizeof(text[k]), "%lld",
					     (long long)json_integer_value(x));
				v[k] = text[k];
			} else {
				return field_error(where, field,
						   "not a string or a whole "
						   "number");
			}
		}
		dg_xsnprintf(field, sizeof(field), "lines[%zu].line", i);
		if ((ret = parse_int(where, field, v[0], 1, 1000000, &l.line)))
			return ret;
		dg_xsnprintf(field, sizeof(field), "lines[%zu].qty", i);
		if ((ret = parse_int(where, field, v[2], 1, 1000000000,
				     &l.qty)))
			return ret;
		dg_xsnprintf(field, sizeof(field), "lines[%zu].amount", i);
		if ((ret = parse_amount(where, field, v[3], o, true,
					&l.amount)))
			return ret;
		if (v[1]) {
			if (strlen(v[1]) > MAX_SKU) {
				dg_xsnprintf(field, sizeof(field),
					     "lines[%zu].sku", i);
				return field_error(where, field,
						   "longer than %d bytes",
						   MAX_SKU);
			}
			l.sku = dg_xstrdup(v[1]);
		}
		add_line(o, &cap, &l);
	}
	return 0;
}

/* ------------------------------------------------ the --lines file */

struct ext_line {
	char *order_id;
	struct line l;
	char *amount; /* parsed once the order's currency is known */
	char *where;  /* "lines.csv:3: " */
	bool used;
};

struct ext_lines {
	struct ext_line *v;
	size_t n;
};

static int cmp_ext(const void *a, const void *b)
{
	const struct ext_line *x = a, *y = b;
	int c = strcmp(x->order_id, y->order_id);

	if (c)
		return c;
	return (x->l.line > y->l.line) - (x->l.line < y->l.line);
}

static void free_lines(struct ext_lines *el)
{
	size_t i;

	for (i = 0; i < el->n; i++) {
		free(el->v[i].order_id);
		free(el->v[i].l.sku);
		free(el->v[i].amount);
		free(el->v[i].where);
	}
	free(el->v);
	el->v = NULL;
	el->n = 0;
}

/* One row of the --lines file into el. 0 or 65 (message printed). */
static int load_line(struct dg_input *in, struct ext_lines *el, size_t *cap)
{
	struct ext_line e = {0};
	const char *id, *sku, *amount;
	bool bad = false;
	char *where;
	int ret = 0;

	where = dg_xasprintf(
		"%s:%lu: ", dg_escaped(dg_input_name(in), DG_QUOTE_PATH_MAX),
		dg_input_line(in));
	id = dg_input_get(in, "order_id", &bad);
	amount = dg_input_get(in, "amount", &bad);
	sku = dg_input_get(in, "sku", &bad);
	if (!id)
		ret = field_error(where, "order_id", "missing");
	else if (!dg_valid_id(id))
		ret = field_error(where, "order_id", "%s is not an order id",
				  dg_quoted(id));
	else if ((ret = parse_int(where, "line", dg_input_get(in, "line", &bad),
				  1, 1000000, &e.l.line)) ||
		 (ret = parse_int(where, "qty", dg_input_get(in, "qty", &bad),
				  1, 1000000000, &e.l.qty)))
		;
	else if (!amount)
		ret = field_error(where, "amount", "missing");
	else if (sku && strlen(sku) > MAX_SKU)
		ret = field_error(where, "sku", "longer than %d bytes",
				  MAX_SKU);
	if (ret) {
		free(where);
		return ret;
	}
	e.order_id = dg_xstrdup(id);
	e.l.sku = sku ? dg_xstrdup(sku) : NULL;
	e.amount = dg_xstrdup(amount);
	e.where = where;
	if (el->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		el->v = dg_xrealloc(el->v, *cap * sizeof(*el->v));
	}
	el->v[el->n++] = e;
	return 0;
}

/* The whole --lines file, or nothing: an order whose lines could not all
 * be read must not be pinned with the others. 0 or an exit status. */
static int load_lines(const char *path, struct ext_lines *el)
{
	static const char *const req[] = {"order_id", "line", "qty", "amount"};
	struct dg_input *in;
	size_t cap = 0, nbad = 0;
	int status = 0, r, ret = 0;

	if (!(in = dg_input_open(path, DG_IN_AUTO, &status)))
		return status;
	if ((ret = dg_input_require(in, req, 4))) {
		dg_input_close(in);
		return ret;
	}
	while ((r = dg_input_next(in)) != 0) {
		int rr = r < 0 ? dg_input_status(in) : load_line(in, el, &cap);

		nbad += rr != 0;
		ret = dg_exit_worst(ret, rr);
	}
	ret = dg_exit_worst(ret, dg_input_status(in));
	if (ret && nbad)
		dg_error("%s: %zu bad row%s: no order read",
			 dg_escaped(dg_input_name(in), DG_QUOTE_PATH_MAX), nbad,
			 nbad == 1 ? "" : "s");
	dg_input_close(in);
	if (ret) {
		free_lines(el);
		return ret;
	}
	if (el->n) /* never qsort(NULL, 0, ...) */
		qsort(el->v, el->n, sizeof(*el->v), cmp_ext);
	return 0;
}

/* The --lines rows of order o, appended to its lines. */
static int attach_lines(struct order *o, struct ext_lines *el,
			const char *where)
{
	size_t lo = 0, hi = el->n, cap = o->nlines, i;
	int ret;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(el->v[mid].order_id, o->id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < el->n && !strcmp(el->v[lo].order_id, o->id) && o->nlines)
		return field_error(where, "lines",
				   "given in the record and in --lines");
	for (i = lo; i < el->n && !strcmp(el->v[i].order_id, o->id); i++) {
		struct ext_line *e = &el->v[i];
		struct line l = e->l;

		if ((ret = parse_amount(e->where, "amount", e->amount, o, true,
					&l.amount)))
			return ret;
		l.sku = e->l.sku ? dg_xstrdup(e->l.sku) : NULL;
		e->used = true;
		add_line(o, &cap, &l);
	}
	return 0;
}

/* ------------------------------------------------------------ reading */

/* Validate one order from text fields; without created, it is created
 * now (now_text: now as dg_format_rfc3339 writes it). 0 or 65 (message
 * printed). */
static int build_order(struct order *o, const char *where, const char *id,
		       const char *amount, const char *currency,
		       const char *charge, const char *base,
		       const char *preview, const char *created, dg_time now,
		       const char *now_text)
{
	int ret;

	memset(o, 0, sizeof(*o));
	o->where = dg_xstrdup(where);
	if (!id)
		return field_error(where, "order_id", "missing");
	if (!dg_valid_id(id))
		return field_error(where, "order_id",
				   "%s is not an order id (1 to 64 "
				   "printable characters, no spaces, commas "
				   "or quotes)",
				   dg_quoted(id));
	memcpy(o->id, id, strlen(id) + 1);
	if ((ret = parse_currency(where, "currency", currency, o->currency,
				  &o->cexp, &o->ccy_code)))
		return ret;
	if ((ret = parse_amount(where, "amount", amount, o, false, &o->amount)))
		return ret;
	if ((ret = parse_currency(where, "charge_currency", charge, o->charge,
				  &o->charge_exp, &o->charge_code)))
		return ret;
	if (base && (ret = parse_currency(where, "base_currency", base, o->base,
					  &o->base_exp, &o->base_code)))
		return ret;
	if (preview) {
		if (dg_rate_parse(preview, &o->preview))
			return field_error(where, "preview_rate",
					   "%s is not a rate",
					   dg_quoted(preview));
		o->has_preview = true;
	}
	if (created) {
		if (dg_parse_rfc3339(created, &o->created_at))
			return field_error(where, "created_at",
					   "%s is not YYYY-MM-DDTHH:MM:SSZ",
					   dg_quoted(created));
		/* read, it is in the stored form unless it has a fraction,
		 * an offset or a lower-case t or z */
		if (strlen(created) == DG_RFC3339_SIZE - 1 &&
		    created[10] == 'T' && created[19] == 'Z')
			memcpy(o->created, created, DG_RFC3339_SIZE);
		else
			dg_format_rfc3339(o->created_at, o->created);
	} else {
		o->created_at = now;
		memcpy(o->created, now_text, DG_RFC3339_SIZE);
	}
	o->day = (int32_t)((o->created_at -
			    ((o->created_at % 86400) + 86400) % 86400) /
			   86400);
	return 0;
}

/* ------------------------------------------------------------ storing */

/* New orders and rows of order_items and order_rates are inserted
 * PEND_ROWS at a time, by one statement: most of an INSERT's cost in
 * SQLite is per statement, not per row. 32 rows of order_rates are 512
 * parameters, under SQLite's smallest limit (999). */
#define PEND_ROWS 32

/* One conversion of an order, found (with its effective rate) and
 * computed. */
struct conv {
	struct dg_fx fx;
	int64_t converted;
};

/* A row of order_rates waiting for its insert. */
struct pend_rate {
	const struct order *o;
	const char *kind;
	struct conv c;
	char day[DG_DATE_SIZE]; /* rate_as_of, "" for identity */
};

/* A row of order_items waiting for its insert. */
struct pend_item {
	const struct order *o;
	const struct line *l;
};

struct pend_order;
struct batch;

/* An INSERT, and what each of its parameters is known to hold (see
 * bind_fixed). */
struct ins {
	sqlite3_stmt *st;
	const void **held; /* by parameter number, from 1 */
	int nparams;
};

struct pinner {
	sqlite3 *db;
	const struct options *opt;
	struct dg_fx_finder *fx;
	const char *provider; /* as stored */
	sqlite3_stmt *get_order, *get_rates;
	struct ins ins_order, ins_item, ins_rate;
	/* the same inserts of PEND_ROWS rows at once, and the rows waiting
	 * for them (see queue_rate) */
	struct ins ins_items, ins_rates;
	struct pend_item *items;
	struct pend_rate *rates;
	size_t nitems, nrates;
	/* new orders waiting for their INSERT (see queue_order), and the
	 * batch they are of */
	struct ins ins_orders;
	struct pend_order *orders;
	size_t norders;
	struct batch *b;
	int worst; /* the worst status of the orders settled in a flush */
	/* one context and one digest for every content hash, and a context
	 * initialized once, copied into it for each: cheaper than an init */
	EVP_MD_CTX *sha256, *sha256_init;
	const EVP_MD *md;
	char now_text[DG_RFC3339_SIZE];
	/* the last day formatted: orders in turn mostly share their quotes'
	 * day */
	int32_t day;
	char day_text[DG_DATE_SIZE];
	size_t pinned, existing, refused, failed;
	size_t files_failed; /* files refused as a whole */
};

static int prepare_ins(sqlite3 *db, const char *sql, struct ins *s)
{
	int ret = dg_db_prepare(db, sql, &s->st);

	if (ret)
		return ret;
	s->nparams = sqlite3_bind_parameter_count(s->st);
	s->held = dg_xcalloc((size_t)s->nparams + 1, sizeof(*s->held));
	return 0;
}

static void finalize_ins(struct ins *s)
{
	sqlite3_finalize(s->st);
	free(s->held);
}

/* sql, an INSERT of one row of n parameters ending in "VALUES (...)",
 * as one of PEND_ROWS rows with their parameters numbered in turn. */
static int prepare_rows(sqlite3 *db, const char *sql, int n, struct ins *s)
{
	size_t head = (size_t)(strstr(sql, "VALUES") - sql) + 7;
	char *q, *text = dg_xmalloc(head + PEND_ROWS * (size_t)n * 8 + 1);
	int i, ret;

	memcpy(text, sql, head);
	q = text + head;
	for (i = 0; i < PEND_ROWS * n; i++) {
		if (i % n == 0) {
			if (i)
				*q++ = ',';
			*q++ = '(';
		} else {
			*q++ = ',';
		}
		*q++ = '?';
		if (i % n == n - 1)
			*q++ = ')';
	}
	*q = '\0';
	ret = prepare_ins(db, text, s);
	free(text);
	return ret;
}

static size_t sizeof_pend_order(void);

static int prepare_all(struct pinner *p)
{
	static const char get_order[] =
		"SELECT content_sha256 FROM orders WHERE order_id = ?1";
	static const char get_rates[] =
		"SELECT kind, to_currency, converted, effective_rate, "
		"rate_as_of, pinned_at FROM order_rates WHERE order_id = ?1";
	static const char ins_order[] =
		"INSERT INTO orders (order_id, amount, currency, "
		"charge_currency, base_currency, created_at, content_sha256) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
		"ON CONFLICT (order_id) DO NOTHING";
	static const char ins_item[] =
		"INSERT INTO order_items (order_id, line, sku, qty, amount) "
		"VALUES (?1, ?2, ?3, ?4, ?5)";
	static const char ins_rate[] =
		"INSERT INTO order_rates (order_id, kind, from_currency, "
		"to_currency, amount, converted, method, provider, "
		"mul_rate_id, div_rate_id, mul_rate, div_rate, "
		"effective_rate, rounding, rate_as_of, pinned_at) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
		"?14, ?15, ?16)";
	int ret;

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	/* fetched once: an init with EVP_sha256() fetches it every time */
	p->md = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
	p->md = EVP_sha256();
#endif
	if (!p->md || !(p->sha256 = EVP_MD_CTX_new()) ||
	    !(p->sha256_init = EVP_MD_CTX_new()) ||
	    !EVP_DigestInit_ex(p->sha256_init, p->md, NULL))
		dg_die(DG_EXIT_SOFTWARE, "cannot set up SHA-256");
	p->day = INT32_MIN; /* formats as "" */
	p->provider = dg_rate_provider_stored(p->opt->provider);
	if ((ret = dg_db_prepare(p->db, get_order, &p->get_order)) ||
	    (ret = dg_db_prepare(p->db, get_rates, &p->get_rates)))
		return ret;
	if (p->opt->preview)
		return 0;
	if ((ret = prepare_ins(p->db, ins_order, &p->ins_order)) ||
	    (ret = prepare_ins(p->db, ins_item, &p->ins_item)) ||
	    (ret = prepare_ins(p->db, ins_rate, &p->ins_rate)) ||
	    (ret = prepare_rows(p->db, ins_item, 5, &p->ins_items)) ||
	    (ret = prepare_rows(p->db, ins_rate, 16, &p->ins_rates)) ||
	    (ret = prepare_rows(p->db, ins_order, 7, &p->ins_orders)))
		return ret;
	p->orders = dg_xcalloc(PEND_ROWS, sizeof_pend_order());
	p->items = dg_xcalloc(PEND_ROWS, sizeof(*p->items));
	p->rates = dg_xcalloc(PEND_ROWS, sizeof(*p->rates));
	return 0;
}

static void finalize_all(struct pinner *p)
{
	sqlite3_finalize(p->get_order);
	sqlite3_finalize(p->get_rates);
	finalize_ins(&p->ins_order);
	finalize_ins(&p->ins_item);
	finalize_ins(&p->ins_rate);
	finalize_ins(&p->ins_items);
	finalize_ins(&p->ins_rates);
	finalize_ins(&p->ins_orders);
	free(p->orders);
	free(p->items);
	free(p->rates);
	EVP_MD_CTX_free(p->sha256);
	EVP_MD_CTX_free(p->sha256_init);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free((EVP_MD *)p->md);
#endif
}

/* The numbers 0 to 99 as two digits each. */
static const char digit_pairs[] =
	"000102030405060708091011121314151617181920212223242526272829"
	"303132333435363738394041424344454647484950515253545556575859"
	"606162636465666768697071727374757677787980818283848586878889"
	"90919293949596979899";

/* v in decimal at q, as "%lld" writes it but without the NUL: records are
 * read and hashed by the million, and printf's parsing of its format
 * costs more than the digits. The end of the digits. */
static char *put_int(char *q, int64_t v)
{
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	char tmp[20];
	size_t n = sizeof(tmp);

	/* two digits a division */
	for (; u >= 100; u /= 100) {
		n -= 2;
		memcpy(tmp + n, digit_pairs + 2 * (u % 100), 2);
	}
	if (u >= 10) {
		n -= 2;
		memcpy(tmp + n, digit_pairs + 2 * u, 2);
	} else {
		tmp[--n] = (char)('0' + u);
	}
	if (v < 0)
		*q++ = '-';
	memcpy(q, tmp + n, sizeof(tmp) - n);
	return q + sizeof(tmp) - n;
}

static char *put_str(char *q, const char *s)
{
	size_t n = strlen(s);

	memcpy(q, s, n);
	return q + n;
}

/* The day as YYYY-MM-DD (dg_format_date), formatted again only when it
 * changes. */
static const char *day_text(struct pinner *p, int32_t day)
{
	if (day != p->day) {
		dg_format_date(day, p->day_text);
		p->day = day;
	}
	return p->day_text;
}

/* A byte as two lower-case hex digits. */
#define HEX_ROW(h)                                                             \
	h "0", h "1", h "2", h "3", h "4", h "5", h "6", h "7", h "8", h "9",  \
		h "a", h "b", h "c", h "d", h "e", h "f"
static const char hex_byte[256][3] = {
	HEX_ROW("0"), HEX_ROW("1"), HEX_ROW("2"), HEX_ROW("3"),
	HEX_ROW("4"), HEX_ROW("5"), HEX_ROW("6"), HEX_ROW("7"),
	HEX_ROW("8"), HEX_ROW("9"), HEX_ROW("a"), HEX_ROW("b"),
	HEX_ROW("c"), HEX_ROW("d"), HEX_ROW("e"), HEX_ROW("f"),
};

/* The order's content, as a SHA-256 in hex: what makes a second pin of
 * the same order_id the same order. created_at and preview_rate are not
 * content. The text is hashed in as few updates as it fits in buf. */
static void content_hash(struct pinner *p, const struct order *o, char hex[65])
{
	EVP_MD_CTX *ctx = p->sha256;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char buf[512], *q;
	size_t i;

	if (!EVP_MD_CTX_copy_ex(ctx, p->sha256_init))
		dg_die(DG_EXIT_SOFTWARE, "cannot compute a SHA-256");
	q = put_str(buf, "order v1\n");
	q = put_int(q, o->amount);
	*q++ = '\n';
	q = put_str(q, o->currency);
	*q++ = '\n';
	q = put_str(q, o->charge);
	*q++ = '\n';
	q = put_str(q, o->base);
	*q++ = '\n';
	for (i = 0; i < o->nlines; i++) {
		const struct line *l = &o->lines[i];
		size_t n = l->sku ? strlen(l->sku) : 0;

		/* three numbers of up to 20 digits, tabs, the sku, 2 */
		if ((size_t)(buf + sizeof(buf) - q) < 66 + n) {
			EVP_DigestUpdate(ctx, buf, (size_t)(q - buf));
			q = buf;
		}
		q = put_int(q, l->line);
		*q++ = '\t';
		q = put_int(q, l->qty);
		*q++ = '\t';
		q = put_int(q, l->amount);
		*q++ = '\t';
		if (n > sizeof(buf) - 66) {
			EVP_DigestUpdate(ctx, buf, (size_t)(q - buf));
			EVP_DigestUpdate(ctx, l->sku, n);
			q = buf;
		} else if (n) {
			memcpy(q, l->sku, n);
			q += n;
		}
		if (!l->sku)
			*q++ = '\001';
		*q++ = '\n';
	}
	EVP_DigestUpdate(ctx, buf, (size_t)(q - buf));
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (i = 0; i < 32; i++)
		memcpy(hex + 2 * i, hex_byte[md[i]], 2);
	hex[64] = '\0';
}

/*
 * The inserts are reset, never cleared, so a parameter keeps its value
 * from one execution to the next, and many values repeat in a parameter:
 * the kind, the method, the provider, the rounding, the pin's time, a
 * currency, a missing base or sku, a qty of 1. Such a value, NULL, a
 * whole number from 0 to 15 or text that stays the same at its address
 * for as long as it may be bound (a literal, a code of the currency
 * table, now_text until the clock moves: see forget_now), is bound only
 * when the parameter holds something else. Every other value is bound
 * each time, and the parameter held as unknown.
 */
static const char held_null[1], held_small[16];

static int bind_fixed(struct ins *s, int i, const char *v)
{
	const void *h = v ? (const void *)v : held_null;
	int rc;

	if (s->held[i] == h)
		return SQLITE_OK;
	rc = dg_db_bind_text(s->st, i, v);
	s->held[i] = rc == SQLITE_OK ? h : NULL;
	return rc;
}

static int bind_text(struct ins *s, int i, const char *v)
{
	s->held[i] = NULL;
	return dg_db_bind_text(s->st, i, v);
}

static int bind_int(struct ins *s, int i, int64_t v)
{
	const void *h = v >= 0 && v < 16 ? &held_small[v] : NULL;
	int rc;

	if (h && s->held[i] == h)
		return SQLITE_OK;
	rc = sqlite3_bind_int64(s->st, i, v);
	s->held[i] = rc == SQLITE_OK ? h : NULL;
	return rc;
}

/* now_text is about to change: no parameter holds it any more. */
static void forget_now(struct pinner *p)
{
	struct ins *all[] = {&p->ins_order, &p->ins_item,  &p->ins_rate,
			     &p->ins_items, &p->ins_rates, &p->ins_orders};
	size_t k;
	int i;

	for (k = 0; k < sizeof(all) / sizeof(all[0]); k++)
		for (i = 1; all[k]->held && i <= all[k]->nparams; i++)
			if (all[k]->held[i] == p->now_text)
				all[k]->held[i] = NULL;
}

static int step_done(struct pinner *p, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return dg_db_fail(p->db, rc, what);
	return 0;
}

/* The quotes and the converted amount for o's amount into ccy (of exp
 * decimals). 0, 65, 69, 70 (message reported: see dg_report) or 74. */
static int convert(struct pinner *p, const struct order *o, const char *ccy,
		   int exp, struct conv *c)
{
	const struct options *opt = p->opt;
	char day[DG_DATE_SIZE], found[DG_DATE_SIZE], a[DG_AMOUNT_SIZE];
	int ret;

	ret = dg_fx_find(p->fx, o->currency, ccy, o->day, &c->fx);
	if (ret == DG_EXIT_UNAVAILABLE) {
		dg_format_date(o->day, day);
		dg_report("%sorder %s: no %s rate for %s/%s on or before %s",
			  o->where, dg_quoted(o->id),
			  dg_escaped(dg_rate_provider_stored(opt->provider),
				     DG_QUOTE_MAX),
			  o->currency, ccy, day);
		return ret;
	}
	if (ret)
		return ret;
	if (c->fx.method != DG_FX_IDENTITY &&
	    o->day - c->fx.as_of > opt->max_age_days) {
		dg_format_date(o->day, day);
		dg_format_date(c->fx.as_of, found);
		long age = (long)(o->day - c->fx.as_of);

		dg_report("%sorder %s: the newest %s rate for %s/%s is of %s, "
			  "%ld day%s before %s (--max-age %s)",
			  o->where, dg_quoted(o->id),
			  dg_escaped(dg_rate_provider_stored(opt->provider),
				     DG_QUOTE_MAX),
			  o->currency, ccy, found, age, age == 1 ? "" : "s",
			  day, opt->max_age_text);
		return DG_EXIT_UNAVAILABLE;
	}
	switch (dg_fx_convert(&c->fx, o->amount, o->cexp, exp, opt->rounding,
			      &c->converted)) {
	case DG_M_OK:
		break;
	case DG_M_OVERFLOW:
		dg_amount_format(o->amount, o->cexp, a);
		dg_report("%samount: %s %s is too large to convert to %s",
			  o->where, a, o->currency, ccy);
		return DG_EXIT_DATAERR;
	default:
		dg_report("%sorder %s: cannot convert %s to %s", o->where,
			  dg_quoted(o->id), o->currency, ccy);
		return DG_EXIT_SOFTWARE;
	}
	if (c->converted == 0) {
		char z[DG_AMOUNT_SIZE];

		dg_amount_format(o->amount, o->cexp, a);
		dg_amount_format(0, exp, z);
		dg_report("%samount: %s %s converts to %s %s", o->where, a,
			  o->currency, z, ccy);
		return DG_EXIT_DATAERR;
	}
	if (!c->fx.effective[0]) {
		dg_report("%sorder %s: cannot state the rate %s/%s", o->where,
			  dg_quoted(o->id), o->currency, ccy);
		return DG_EXIT_SOFTWARE;
	}
	return 0;
}

/* r's 16 values as parameters k + 1 to k + 16 of s. */
static int bind_rate(struct pinner *p, struct ins *s, int k,
		     const struct pend_rate *r)
{
	const struct order *o = r->o;
	const struct dg_fx *fx = &r->c.fx;
	bool identity = fx->method == DG_FX_IDENTITY;
	int rc;

	rc = bind_text(s, k + 1, o->id);
	if (rc == SQLITE_OK)
		rc = bind_fixed(s, k + 2, r->kind);
	if (rc == SQLITE_OK)
		rc = bind_fixed(s, k + 3, o->ccy_code);
	if (rc == SQLITE_OK)
		rc = bind_fixed(s, k + 4,
				r->kind[0] == 'c' ? o->charge_code
						  : o->base_code);
	if (rc == SQLITE_OK)
		rc = bind_int(s, k + 5, o->amount);
	if (rc == SQLITE_OK)
		rc = bind_int(s, k + 6, r->c.converted);
	if (rc == SQLITE_OK)
		rc = bind_fixed(s, k + 7, dg_fx_method_name(fx->method));
	if (rc == SQLITE_OK)
		rc = bind_fixed(s, k + 8, identity ? NULL : p->provider);
	if (rc == SQLITE_OK)
		rc = fx->has_mul ? bind_int(s, k + 9, fx->mul.rate_id)
				 : bind_fixed(s, k + 9, NULL);
	if (rc == SQLITE_OK)
		rc = fx->has_div ? bind_int(s, k + 10, fx->div.rate_id)
				 : bind_fixed(s, k + 10, NULL);
	if (rc == SQLITE_OK)
		rc = fx->has_mul ? bind_text(s, k + 11, fx->mul.rate.text)
				 : bind_fixed(s, k + 11, NULL);
	if (rc == SQLITE_OK)
		rc = fx->has_div ? bind_text(s, k + 12, fx->div.rate.text)
				 : bind_fixed(s, k + 12, NULL);
	if (rc == SQLITE_OK)
		rc = bind_text(s, k + 13, fx->effective);
	if (rc == SQLITE_OK)
		rc = bind_fixed(s, k + 14, dg_rounding_name(p->opt->rounding));
	if (rc == SQLITE_OK)
		rc = identity ? bind_fixed(s, k + 15, NULL)
			      : bind_text(s, k + 15, r->day);
	if (rc == SQLITE_OK)
		rc = bind_fixed(s, k + 16, p->now_text);
	return rc;
}

/* it's 5 values as parameters k + 1 to k + 5 of s. */
static int bind_item(struct ins *s, int k, const struct pend_item *it)
{
	const struct line *l = it->l;
	int rc;

	rc = bind_text(s, k + 1, it->o->id);
	if (rc == SQLITE_OK)
		rc = bind_int(s, k + 2, l->line);
	if (rc == SQLITE_OK)
		rc = l->sku ? bind_text(s, k + 3, l->sku)
			    : bind_fixed(s, k + 3, NULL);
	if (rc == SQLITE_OK)
		rc = bind_int(s, k + 4, l->qty);
	if (rc == SQLITE_OK)
		rc = bind_int(s, k + 5, l->amount);
	return rc;
}

/* Bind the waiting row i of a table as parameters k + 1 onwards. */
typedef int (*bind_row_fn)(struct pinner *p, struct ins *s, int k, size_t i);

static int bind_rate_row(struct pinner *p, struct ins *s, int k, size_t i)
{
	return bind_rate(p, s, k, &p->rates[i]);
}

static int bind_item_row(struct pinner *p, struct ins *s, int k, size_t i)
{
	return bind_item(s, k, &p->items[i]);
}

/* The first n waiting rows of a table, ncols values each: PEND_ROWS by
 * many (the statement of that many rows), fewer one by one (one). 0 or
 * 74 with the message what. */
static int insert_pending(struct pinner *p, size_t n, struct ins *many,
			  struct ins *one, int ncols, bind_row_fn bind,
			  const char *what)
{
	struct ins *s = n == PEND_ROWS ? many : one;
	size_t i, per = n == PEND_ROWS ? PEND_ROWS : 1;
	int rc = SQLITE_OK, ret;

	for (i = 0; i < n; i += per) {
		for (size_t j = 0; j < per && rc == SQLITE_OK; j++)
			rc = bind(p, s, (int)(ncols * j), i + j);
		if (rc != SQLITE_OK) {
			sqlite3_reset(s->st);
			return dg_db_fail(p->db, rc, what);
		}
		if ((ret = step_done(p, s->st, what)))
			return ret;
	}
	return 0;
}

static int insert_rates(struct pinner *p, size_t n)
{
	return insert_pending(p, n, &p->ins_rates, &p->ins_rate, 16,
			      bind_rate_row, "cannot store the pin");
}

static int insert_items_now(struct pinner *p, size_t n)
{
	return insert_pending(p, n, &p->ins_items, &p->ins_item, 5,
			      bind_item_row, "cannot store the order");
}

/*
 * Insert every waiting row, in the order queued. The rows of a batch
 * wait only while nothing could tell: the batch's reads of order_items
 * and order_rates, its messages and its COMMIT all come after a flush,
 * so that what is stored, what is read and what is reported in which
 * order are as if each row had been inserted when queued. 0 or 74.
 */
static int flush_pending(struct pinner *p)
{
	size_t ni = p->nitems, nr = p->nrates;
	int ret;

	p->nitems = p->nrates = 0;
	if ((ret = insert_items_now(p, ni)))
		return ret;
	return insert_rates(p, nr);
}

/* The waiting rows and orders of a batch rolled back: dropped. */
static void drop_pending(struct pinner *p)
{
	p->nitems = p->nrates = p->norders = 0;
}

/* A row of order_rates for o, inserted now or with the next
 * PEND_ROWS - 1. The order's items wait in the same way, and are
 * queued before it: a full queue of items is inserted first. */
static int insert_rate(struct pinner *p, const struct order *o,
		       const char *kind, const struct conv *c)
{
	struct pend_rate *r = &p->rates[p->nrates++];

	r->o = o;
	r->kind = kind;
	r->c = *c;
	if (c->fx.method == DG_FX_IDENTITY)
		r->day[0] = '\0';
	else
		memcpy(r->day, day_text(p, c->fx.as_of), sizeof(r->day));
	if (p->nrates < PEND_ROWS)
		return 0;
	p->nrates = 0;
	return insert_rates(p, PEND_ROWS);
}

/* o's 7 values as parameters k + 1 to k + 7 of s. */
static int bind_order(struct ins *s, int k, const struct order *o,
		      const char *hash)
{
	int rc;

	rc = bind_text(s, k + 1, o->id);
	if (rc == SQLITE_OK)
		rc = bind_int(s, k + 2, o->amount);
	if (rc == SQLITE_OK)
		rc = bind_fixed(s, k + 3, o->ccy_code);
	if (rc == SQLITE_OK)
		rc = bind_fixed(s, k + 4, o->charge_code);
	if (rc == SQLITE_OK)
		rc = bind_fixed(s, k + 5, o->base_code);
	if (rc == SQLITE_OK)
		rc = bind_text(s, k + 6, o->created);
	if (rc == SQLITE_OK)
		rc = bind_text(s, k + 7, hash);
	return rc;
}

/* The order's row, unless its order_id is stored: *inserted says which.
 * 0 or 74. */
static int insert_order(struct pinner *p, const struct order *o,
			const char *hash, bool *inserted)
{
	sqlite3_stmt *st = p->ins_order.st;
	int rc, ret;

	rc = bind_order(&p->ins_order, 0, o, hash);
	if (rc != SQLITE_OK) {
		sqlite3_reset(st);
		return dg_db_fail(p->db, rc, "cannot store the order");
	}
	if ((ret = step_done(p, st, "cannot store the order")))
		return ret;
	*inserted = sqlite3_changes(p->db) == 1;
	return 0;
}

static int insert_items(struct pinner *p, const struct order *o)
{
	size_t i;
	int ret;

	for (i = 0; i < o->nlines; i++) {
		p->items[p->nitems].o = o;
		p->items[p->nitems].l = &o->lines[i];
		if (++p->nitems < PEND_ROWS)
			continue;
		p->nitems = 0;
		if ((ret = insert_items_now(p, PEND_ROWS)))
			return ret;
	}
	return 0;
}

/* An order already stored: its pin into r. 0 or 74. */
static int read_pin(struct pinner *p, const struct order *o, struct row *r)
{
	sqlite3_stmt *st = p->get_rates;
	bool have_base = false;
	int rc;

	rc = dg_db_bind_text(st, 1, o->id);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		const char *to = (const char *)sqlite3_column_text(st, 1);
		int64_t conv = sqlite3_column_int64(st, 2);
		const char *eff = (const char *)sqlite3_column_text(st, 3);
		const char *as_of = (const char *)sqlite3_column_text(st, 4);
		const char *at = (const char *)sqlite3_column_text(st, 5);
		int exp = to ? dg_currency_exponent(to) : -1;

		rc = SQLITE_OK;
		if (!kind || !to || exp < 0 || !eff || !at)
			continue;
		if (!strcmp(kind, "charge")) {
			dg_amount_format(conv, exp, r->charge_amount);
			dg_xsnprintf(r->rate, sizeof(r->rate), "%s", eff);
			dg_xsnprintf(r->pinned_at, sizeof(r->pinned_at), "%s",
				     at);
		} else {
			dg_amount_format(conv, exp, r->base_amount);
			dg_xsnprintf(r->base_rate, sizeof(r->base_rate), "%s",
				     eff);
			have_base = true;
		}
		if (as_of &&
		    (!r->rate_as_of[0] || strcmp(as_of, r->rate_as_of) < 0))
			dg_xsnprintf(r->rate_as_of, sizeof(r->rate_as_of), "%s",
				     as_of);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return dg_db_fail(p->db, rc, "cannot read the stored pin");
	if (o->base[0] && !have_base) {
		/* the base is the charge currency: one conversion */
		memcpy(r->base_amount, r->charge_amount,
		       sizeof(r->base_amount));
		memcpy(r->base_rate, r->rate, sizeof(r->base_rate));
	}
	if (!r->charge_amount[0]) {
		dg_error("order %s is stored without its pin",
			 dg_quoted(o->id));
		return DG_EXIT_SOFTWARE;
	}
	return 0;
}

static void row_start(struct row *r, const struct order *o, const char *status)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->order_id, o->id, sizeof(r->order_id));
	dg_amount_format(o->amount, o->cexp, r->amount);
	memcpy(r->currency, o->currency, 4);
	memcpy(r->charge_currency, o->charge, 4);
	memcpy(r->base_currency, o->base, 4);
	r->status = status;
}

/*
 * An order already stored, looked up by its id: *found says whether it
 * is. Stored with the same contents (hash), its pin into r ("existing");
 * with other contents it is a conflict: nothing changes, 65 and an event.
 * 0 or an exit status (message printed).
 */
static int stored_order(struct pinner *p, const struct order *o,
			const char *hash, struct row *r, bool *found)
{
	const struct options *opt = p->opt;
	int rc, ret;

	*found = false;
	rc = dg_db_bind_text(p->get_order, 1, o->id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(p->get_order);
	if (rc == SQLITE_ROW) {
		const char *stored =
			(const char *)sqlite3_column_text(p->get_order, 0);
		bool same = stored && !strcmp(stored, hash);

		sqlite3_reset(p->get_order);
		sqlite3_clear_bindings(p->get_order);
		*found = true;
		if (!same) {
			char detail[160];

			dg_error("%sorder %s is already stored with other "
				 "contents: nothing changed",
				 o->where, dg_quoted(o->id));
			if (opt->preview)
				return DG_EXIT_DATAERR;
			dg_xsnprintf(detail, sizeof(detail),
				     "a second order with this id and other "
				     "contents was refused (content %.16s)",
				     hash);
			ret = dg_db_event(p->db, "pin_conflict", o->id, detail);
			return ret ? ret : DG_EXIT_DATAERR;
		}
		row_start(r, o, "existing");
		return read_pin(p, o, r);
	}
	sqlite3_reset(p->get_order);
	sqlite3_clear_bindings(p->get_order);
	if (rc != SQLITE_DONE)
		return dg_db_fail(p->db, rc, "cannot read orders");
	return 0;
}

/* An order's conversions. */
struct pin {
	struct conv charge, base;
	const struct conv *bp; /* the base's: &charge, &base or NULL */
};

/*
 * The conversions of an order not stored, into pin and r (status
 * "pinned", or "preview"), and the drift valve: when the rate moved too
 * far from the preview rate, r's status is "refused" and *refusal says
 * why (malloc'd). 0, or an exit status (message reported: see
 * dg_report).
 */
static int compute(struct pinner *p, const struct order *o, struct pin *pin,
		   struct row *r, char **refusal)
{
	const struct options *opt = p->opt;
	const struct conv *charge = &pin->charge, *bp = NULL;
	int ret;

	*refusal = NULL;
	if ((ret = convert(p, o, o->charge, o->charge_exp, &pin->charge)))
		return ret;
	if (o->base[0] && strcmp(o->base, o->charge)) {
		if ((ret = convert(p, o, o->base, o->base_exp, &pin->base)))
			return ret;
		bp = &pin->base;
	} else if (o->base[0]) {
		bp = charge;
	}
	pin->bp = bp;

	row_start(r, o, opt->preview ? "preview" : "pinned");
	dg_amount_format(charge->converted, o->charge_exp, r->charge_amount);
	memcpy(r->rate, charge->fx.effective, sizeof(r->rate));
	if (bp) {
		dg_amount_format(bp->converted, o->base_exp, r->base_amount);
		memcpy(r->base_rate, bp->fx.effective, sizeof(r->base_rate));
	}
	{
		int32_t oldest = charge->fx.as_of;

		if (bp && bp->fx.method != DG_FX_IDENTITY &&
		    (charge->fx.method == DG_FX_IDENTITY ||
		     bp->fx.as_of < oldest))
			oldest = bp->fx.as_of;
		if (oldest != INT32_MIN)
			memcpy(r->rate_as_of, day_text(p, oldest),
			       sizeof(r->rate_as_of));
	}

	if (o->has_preview) {
		struct dg_rate eff;

		if (dg_rate_parse(charge->fx.effective, &eff)) {
			dg_report("%sorder %s: cannot compare the rate %s",
				  o->where, dg_quoted(o->id),
				  charge->fx.effective);
			return DG_EXIT_SOFTWARE;
		}
		if (dg_rate_moved_more_than(&eff, &o->preview,
					    opt->max_drift) == 1) {
			*refusal = dg_xasprintf(
				"%s/%s moved more than %s %% from the preview "
				"rate %s to %s",
				o->currency, o->charge, opt->max_drift,
				o->preview.text, charge->fx.effective);
			r->status = "refused";
		}
	}
	return 0;
}

/* The lines and the conversions of an order whose row was just
 * inserted. */
static int store_pin(struct pinner *p, const struct order *o,
		     const struct pin *pin, struct row *r)
{
	int ret;

	if ((ret = insert_items(p, o)) ||
	    (ret = insert_rate(p, o, "charge", &pin->charge)))
		return ret;
	if (pin->bp && pin->bp != &pin->charge &&
	    (ret = insert_rate(p, o, "base", pin->bp)))
		return ret;
	memcpy(r->pinned_at, p->now_text, sizeof(r->pinned_at));
	return 0;
}

struct batch {
	struct order *orders;
	int *status; /* per order: 0, or its failure before the database */
	size_t n, cap;
	struct row *rows;
	bool *has_row;
};

/* A new order converted, waiting for its INSERT: the batch's order i. */
struct pend_order {
	size_t i;
	struct pin pin;
	char hash[65];
};

static size_t sizeof_pend_order(void)
{
	return sizeof(struct pend_order);
}

/*
 * The rest of pin_one for an order converted and not refused: its INSERT,
 * which does nothing on a stored order_id, tells it from a stored one,
 * whose pin or conflict then wins. 0 or an exit status (message printed).
 */
static int pin_new(struct pinner *p, const struct order *o,
		   const struct pin *pin, const char *hash, struct row *r)
{
	bool found, inserted = false;
	int ret;

	ret = insert_order(p, o, hash, &inserted);
	if (!ret && inserted)
		ret = store_pin(p, o, pin, r);
	if (ret || inserted)
		return ret;
	if ((ret = flush_pending(p)) ||
	    (ret = stored_order(p, o, hash, r, &found)) || found)
		return ret;
	/* not inserted, yet not stored */
	dg_error("%sorder %s: cannot tell whether it is stored", o->where,
		 dg_quoted(o->id));
	return DG_EXIT_SOFTWARE;
}

static bool fatal(int r)
{
	return r == DG_EXIT_IOERR || r == DG_EXIT_TEMPFAIL ||
	       r == DG_EXIT_SOFTWARE;
}

static void settle(struct pinner *p, size_t i, int r);

/*
 * The waiting orders, in turn. PEND_ROWS of them are first inserted by
 * one INSERT, which stores them all or, if any is stored already (or
 * twice among them), none; then they, or else each in turn as pin_one
 * would have, are pinned. Each one's status is settled; a fatal one is
 * returned (the batch is then rolled back), else 0.
 */
static int flush_orders(struct pinner *p)
{
	struct pend_order *q = p->orders;
	size_t n = p->norders, k;
	bool all = false;
	int rc = SQLITE_OK, ret;

	p->norders = 0;
	if (n == PEND_ROWS) {
		sqlite3_stmt *st = p->ins_orders.st;

		for (k = 0; k < n && rc == SQLITE_OK; k++)
			rc = bind_order(&p->ins_orders, (int)(7 * k),
					&p->b->orders[q[k].i], q[k].hash);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			all = true;
		else if ((rc & 0xff) != SQLITE_CONSTRAINT)
			return dg_db_fail(p->db, rc, "cannot store the order");
	}
	for (k = 0; k < n; k++) {
		const struct order *o = &p->b->orders[q[k].i];
		struct row *r = &p->b->rows[q[k].i];

		if (all)
			ret = store_pin(p, o, &q[k].pin, r);
		else
			ret = pin_new(p, o, &q[k].pin, q[k].hash, r);
		if (fatal(ret))
			return ret;
		settle(p, q[k].i, ret);
	}
	return 0;
}

/* Everything waiting, orders first. 0 or a fatal status. */
static int flush_all(struct pinner *p)
{
	int ret = flush_orders(p);

	return ret ? ret : flush_pending(p);
}

/* A new order to wait for its INSERT: pin becomes the waiting one's. */
static int queue_order(struct pinner *p, size_t i, const struct pin *pin,
		       const char *hash)
{
	struct pend_order *q = &p->orders[p->norders++];

	q->i = i;
	q->pin = *pin;
	if (pin->bp == &pin->charge)
		q->pin.bp = &q->pin.charge;
	else if (pin->bp == &pin->base)
		q->pin.bp = &q->pin.base;
	memcpy(q->hash, hash, sizeof(q->hash));
	return p->norders == PEND_ROWS ? flush_orders(p) : 0;
}

/* pin_one's status when the order waits: settled by a flush. */
#define PIN_QUEUED (-1)

/*
 * Pin the batch's order i inside the open transaction (or, with
 * --preview, only compute it). Fills its row and returns 0 when there is
 * a row to print (its status says which), or an exit status with the
 * message printed, or PIN_QUEUED.
 *
 * Most orders are new. They are converted first, and their INSERT, which
 * does nothing on a stored order_id, tells them from stored ones: no
 * SELECT first. Without --strict and --preview, such an order waits for
 * its INSERT with others (flush_orders). An order not pinned so
 * (refused, failed, stored, or any with --preview) is then looked up,
 * after every waiting one, and a stored order's pin or conflict wins, as
 * if it had been looked up first: what its conversion reported is
 * dropped, and nothing of it was written.
 */
static int pin_one(struct pinner *p, size_t i)
{
	const struct options *opt = p->opt;
	const struct order *o = &p->b->orders[i];
	struct row *r = &p->b->rows[i];
	struct pin pin;
	char hash[65], *msg, *refusal;
	bool found;
	int ret, conv;

	content_hash(p, o, hash);
	dg_defer_begin();
	conv = compute(p, o, &pin, r, &refusal);
	msg = dg_defer_end();
	if (!conv && !refusal && !opt->preview) {
		if (!opt->strict) {
			ret = queue_order(p, i, &pin, hash);
			if (!ret)
				ret = PIN_QUEUED;
		} else {
			ret = pin_new(p, o, &pin, hash, r);
		}
		goto done;
	}
	/* what follows reads the stored pins or reports: the waiting rows
	 * first */
	if ((ret = flush_all(p)) ||
	    (ret = stored_order(p, o, hash, r, &found)) || found)
		goto done;
	if (conv) {
		/* in its turn, as if reported just now */
		if (msg)
			dg_error("%s", msg);
		ret = conv;
	} else if (refusal) {
		dg_error("%sorder %s refused: %s: not pinned", o->where,
			 dg_quoted(o->id), refusal);
		if (!opt->preview)
			ret = dg_db_event(p->db, "pin_refused", o->id, refusal);
	}
done:
	free(msg);
	free(refusal);
	return ret;
}

/* ------------------------------------------------------------ batches */

/* The status r of the batch's order i, pinned or not. */
static void settle(struct pinner *p, size_t i, int r)
{
	if (r == 0)
		p->b->has_row[i] = true;
	p->worst = dg_exit_worst(p->worst, r);
}

static int time_now(struct pinner *p, dg_time *now)
{
	int ret;

	if ((ret = dg_now(now)))
		return ret;
	forget_now(p);
	dg_format_rfc3339(*now, p->now_text);
	return 0;
}

/*
 * Run one batch: pin every valid order in one transaction, then, once it
 * committed, print the rows. A database error rolls the whole batch
 * back: nothing of it was printed, and running the input again pins it.
 * Returns the worst status; *stop is set when --strict or a database
 * error ends the run.
 */
static int run_batch(struct pinner *p, struct batch *b, struct dg_out *out,
		     bool *stop)
{
	const struct options *opt = p->opt;
	size_t i;
	int worst = 0, ret = 0, r;

	/* --preview: one read transaction for the batch, not one per
	 * statement */
	ret = opt->preview ? dg_db_begin_read(p->db) : dg_db_begin(p->db);
	if (ret) {
		*stop = true;
		p->failed += b->n;
		return ret;
	}
	dg_fx_finder_reset(p->fx);
	p->b = b;
	p->worst = 0;
	for (i = 0; i < b->n; i++) {
		b->has_row[i] = false;
		if (b->status[i]) {
			/* refused while read (an input error too): its
			 * message in its turn, the batch goes on */
			r = b->status[i];
			if (b->orders[i].error) {
				int f = flush_all(p);

				if (f) {
					dg_db_rollback(p->db);
					drop_pending(p);
					*stop = true;
					p->failed += b->n;
					return dg_exit_worst(
						dg_exit_worst(worst, p->worst),
						f);
				}
				dg_error("%s", b->orders[i].error);
			}
		} else {
			r = pin_one(p, i);
			if (r == PIN_QUEUED)
				continue; /* settled by a flush */
		}
		if (!b->status[i] && fatal(r)) {
			dg_db_rollback(p->db);
			drop_pending(p);
			*stop = true;
			p->failed += b->n; /* rolled back: none of it stands */
			return dg_exit_worst(dg_exit_worst(worst, p->worst), r);
		}
		if (b->status[i])
			worst = dg_exit_worst(worst, r);
		else
			settle(p, i, r);
		if (r && opt->strict) {
			*stop = true;
			i++;
			break;
		}
	}
	if ((ret = flush_all(p))) {
		dg_db_rollback(p->db);
		drop_pending(p);
		*stop = true;
		p->failed += b->n;
		return dg_exit_worst(dg_exit_worst(worst, p->worst), ret);
	}
	worst = dg_exit_worst(worst, p->worst);
	if ((ret = dg_db_commit(p->db))) {
		*stop = true;
		p->failed += b->n;
		return dg_exit_worst(worst, ret);
	}
	for (size_t k = 0; k < i; k++) {
		if (!b->has_row[k]) {
			p->failed++;
			continue;
		}
		if (!strcmp(b->rows[k].status, "existing"))
			p->existing++;
		else if (!strcmp(b->rows[k].status, "refused"))
			p->refused++;
		else
			p->pinned++;
		if (b->rows[k].status[0] == 'r')
			worst = dg_exit_worst(worst, DG_EXIT_FINDING);
		if ((ret = write_row(out, &b->rows[k]))) {
			*stop = true;
			return dg_exit_worst(worst, ret);
		}
	}
	if (fflush(stdout)) {
		dg_error("cannot write: %s", strerror(errno));
		*stop = true;
		return dg_exit_worst(worst, DG_EXIT_IOERR);
	}
	return worst;
}

static void batch_clear(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		order_free(&b->orders[i]);
	b->n = 0;
}

static const char *get(struct dg_input *in, const char *name, const char *where,
		       int *ret)
{
	bool bad = false;
	const char *v = dg_input_get(in, name, &bad);

	if (bad && !*ret)
		*ret = field_error(where, name,
				   "not a string or a whole number");
	return v;
}

/* The batch loop's callbacks (dg_batch_files) and what they share. */
struct runner {
	struct pinner *p;
	struct batch *b;
	struct dg_out *out;
	struct ext_lines *el;
	dg_time now;
	/* "FILE:" of the file being read, escaped, and room for a line
	 * number and ": " after it */
	char *file, *where;
	size_t file_len;
};

/* "FILE:LINE: " of the record just read, in r->where: the file's part is
 * escaped once per file, not once per record. */
static const char *record_where(struct runner *r, struct dg_input *in)
{
	const char *name = dg_input_name(in);
	char *q;

	if (!r->file || strcmp(r->file, name)) {
		const char *esc = dg_escaped(name, DG_QUOTE_PATH_MAX);

		free(r->file);
		r->file = dg_xstrdup(name);
		r->file_len = strlen(esc) + 1;
		/* ":", up to 20 digits, ": " and the NUL */
		r->where = dg_xrealloc(r->where, r->file_len + 24);
		memcpy(r->where, esc, r->file_len - 1);
		r->where[r->file_len - 1] = ':';
	}
	q = put_int(r->where + r->file_len, (int64_t)dg_input_line(in));
	memcpy(q, ": ", 3);
	return r->where;
}

/* Read one record into the batch's next slot. */
static void read_record(struct runner *r, struct dg_input *in)
{
	const struct options *opt = r->p->opt;
	struct batch *b = r->b;
	struct order *o = &b->orders[b->n];
	const char *id, *amount, *ccy, *charge, *base, *preview, *created;
	const char *where = record_where(r, in);
	int ret = 0;

	memset(o, 0, sizeof(*o));
	dg_defer_begin();
	id = get(in, "order_id", where, &ret);
	amount = get(in, "amount", where, &ret);
	ccy = get(in, "currency", where, &ret);
	charge = get(in, "charge_currency", where, &ret);
	base = get(in, "base_currency", where, &ret);
	preview = get(in, "preview_rate", where, &ret);
	created = get(in, "created_at", where, &ret);
	if (!base)
		base = opt->base;
	if (!ret)
		ret = build_order(o, where, id, amount, ccy, charge, base,
				  preview, created, r->now, r->p->now_text);
	if (!ret && dg_input_is_json(in)) {
		json_t *lines = json_object_get(dg_input_json(in), "lines");

		if (lines && !json_is_null(lines))
			ret = json_lines(o, lines, where);
	}
	if (!ret && r->el->n)
		ret = attach_lines(o, r->el, where);
	if (!ret)
		ret = check_lines(o, where);
	o->error = dg_defer_end();
	b->status[b->n] = ret;
	b->n++;
}

/* The counts; a file refused as a whole is counted apart, as its
 * records were never read. */
static void summary(const struct pinner *p)
{
	size_t n = p->pinned + p->existing + p->refused + p->failed;
	char *files = NULL;

	if (p->files_failed)
		files = dg_xasprintf("; %zu file%s failed", p->files_failed,
				     p->files_failed == 1 ? "" : "s");
	dg_info("%zu order%s: %zu %s, %zu existing, %zu refused, %zu "
		"failed%s",
		n, n == 1 ? "" : "s", p->pinned,
		p->opt->preview ? "previewed" : "pinned", p->existing,
		p->refused, p->failed, files ? files : "");
	free(files);
}

static bool on_read(void *ctx, struct dg_input *in)
{
	struct runner *r = ctx;

	read_record(r, in);
	return r->b->n == r->b->cap;
}

static int on_run(void *ctx, bool *stop)
{
	struct runner *r = ctx;
	int ret;

	if (!r->b->n)
		return 0;
	ret = run_batch(r->p, r->b, r->out, stop);
	batch_clear(r->b);
	return ret;
}

static int on_tick(void *ctx)
{
	struct runner *r = ctx;

	return time_now(r->p, &r->now);
}

static bool on_unreadable(void *ctx, int status, char *msg)
{
	struct runner *r = ctx;
	struct order *o = &r->b->orders[r->b->n];

	memset(o, 0, sizeof(*o));
	o->error = msg;
	r->b->status[r->b->n++] = status ? status : DG_EXIT_DATAERR;
	return r->b->n == r->b->cap;
}

static void on_file_failed(void *ctx, int status)
{
	((struct runner *)ctx)->p->files_failed++;
}

static int run(struct pinner *p, int nfiles, char **files)
{
	static const char *const req[] = {"order_id", "amount", "currency",
					  "charge_currency"};
	const struct options *opt = p->opt;
	struct ext_lines el = {0};
	struct batch b = {0};
	struct dg_out *out;
	bool stop = false;
	dg_time now;
	int worst = 0, ret;

	if (opt->lines_path && (ret = load_lines(opt->lines_path, &el)))
		return ret;
	b.cap = (size_t)opt->batch;
	b.orders = dg_xcalloc(b.cap, sizeof(*b.orders));
	b.status = dg_xcalloc(b.cap, sizeof(*b.status));
	b.rows = dg_xcalloc(b.cap, sizeof(*b.rows));
	b.has_row = dg_xcalloc(b.cap, sizeof(*b.has_row));
	out = dg_out_new(stdout, opt->common.json, out_cols, NCOLS);

	if (opt->to) {
		char *const *a = files;

		if ((worst = time_now(p, &now)))
			goto done;
		ret = build_order(&b.orders[0], "", a[0], a[1], a[2], opt->to,
				  opt->base, opt->preview_rate, opt->created_at,
				  now, p->now_text);
		if (!ret)
			ret = check_lines(&b.orders[0], "");
		b.status[0] = ret;
		b.n = 1;
		worst = run_batch(p, &b, out, &stop);
		batch_clear(&b);
		goto done;
	}

	{
		struct runner rn = {.p = p, .b = &b, .out = out, .el = &el};
		const struct dg_batch_ops ops = {
			.ctx = &rn,
			.format = opt->in_fmt,
			.required = req,
			.nrequired = sizeof(req) / sizeof(req[0]),
			.strict = opt->strict,
			.read = on_read,
			.run = on_run,
			.tick = on_tick,
			.unreadable = on_unreadable,
			.file_failed = on_file_failed,
		};

		worst = dg_batch_files(&ops, nfiles, files, &stop);
		free(rn.file);
		free(rn.where);
	}
	batch_clear(&b);
	if (el.n) {
		size_t k, unused = 0;

		for (k = 0; k < el.n; k++)
			unused += !el.v[k].used;
		if (unused && !stop)
			dg_warn("%s: %zu line%s of orders not in the input",
				dg_escaped(opt->lines_path, DG_QUOTE_PATH_MAX),
				unused, unused == 1 ? "" : "s");
	}
	summary(p);
done:
	ret = dg_out_finish(out, worst);
	worst = dg_exit_worst(worst, ret);
	free_lines(&el);
	free(b.orders);
	free(b.status);
	free(b.rows);
	free(b.has_row);
	return worst;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct pinner p = {0};
	const char *path;
	dg_time now;
	int ret;

	dg_set_progname(argv[0]);
	parse_options(argc, argv, &o);
	/* a malformed DAIGOU_NOW is a usage error in every mode: refused
	 * before the database is opened and anything is written */
	if ((ret = dg_now(&now)))
		return ret;
	path = dg_db_path(o.common.db_path);
	ret = o.preview ? dg_db_open_ro(path, &p.db) : dg_db_open(path, &p.db);
	if (ret)
		return ret;
	p.opt = &o;
	p.fx = dg_fx_finder_new(p.db, dg_rate_provider_stored(o.provider));
	if (!p.fx) {
		dg_db_close(p.db);
		return DG_EXIT_IOERR;
	}
	if (!(ret = prepare_all(&p)))
		ret = run(&p, argc - optind, argv + optind);
	finalize_all(&p);
	dg_fx_finder_free(p.fx);
	dg_db_close(p.db);
	return ret;
}
