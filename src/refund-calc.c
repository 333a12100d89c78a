/*
 * refund-calc - refunds at the order's pinned rate, exact to the cent,
 * with what the currency move cost the shop made visible.
 *
 * The charge stored with the pin is allocated over the order's lines by
 * their seller value, and over the units of each line, with the largest
 * remainder method: every share is a whole minor unit and the shares add
 * up to the charge. A line refund pays its units' shares, an amount
 * refund converts at the pinned quotes, and the refund that closes the
 * order pays exactly what remains. Recording checks and inserts in one
 * BEGIN IMMEDIATE transaction, so refunds of one order never exceed its
 * charge, whoever records them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "daigou.h"

static const char usage[] =
	"usage: refund-calc [-hqv] [--db PATH] [--json] [--record] "
	"[--refund-id ID]\n"
	"                   [--allow-fallback] [--provider NAME]\n"
	"                   [--rounding half-up|half-even] [--order-amount "
	"AMOUNT]\n"
	"                   [--currency CCY] [--charge-currency CCY]\n"
	"                   (--all | --lines SPEC | --amount AMOUNT |\n"
	"                   --charge-amount AMOUNT) ORDER_ID\n"
	"       refund-calc [-hqv] [--db PATH] [--json] [--record] "
	"[--allow-fallback]\n"
	"                   [--provider NAME] [--rounding "
	"half-up|half-even] [--strict]\n"
	"                   [--batch N] [--input-format csv|json] [FILE "
	"...]\n"
	"       refund-calc [-hqv] [--db PATH] [--json] --summary [--from "
	"DATE]\n"
	"                   [--to DATE] [--buffer-pct PCT]\n"
	"       refund-calc --version\n";

#define MAX_ID	     DG_ID_MAX
#define MAX_LINE     1000000
#define MAX_QTY	     1000000000
#define MAX_REQ_LINE 10000
#define MAX_FINDERS  8

struct options {
	struct dg_common common;
	const char *provider;
	enum dg_rounding rounding;
	bool record, allow_fallback, strict, summary;
	long batch;
	enum dg_input_format in_fmt;
	/* one refund from the arguments */
	bool one, all;
	const char *lines, *amount, *charge_amount;
	const char *refund_id, *order_amount, *currency, *charge_currency;
	/* --summary */
	const char *from, *to, *buffer_pct;
	int64_t pct; /* millionths of a percent */
	bool pct_given;
	int32_t from_day, to_day;
};

enum {
	OPT_RECORD = DG_OPT_TOOL_BASE,
	OPT_REFUND_ID,
	OPT_ALLOW_FALLBACK,
	OPT_PROVIDER,
	OPT_ROUNDING,
	OPT_ORDER_AMOUNT,
	OPT_CURRENCY,
	OPT_CHARGE_CURRENCY,
	OPT_ALL,
	OPT_LINES,
	OPT_AMOUNT,
	OPT_CHARGE_AMOUNT,
	OPT_STRICT,
	OPT_BATCH,
	OPT_INPUT_FORMAT,
	OPT_SUMMARY,
	OPT_FROM,
	OPT_TO,
	OPT_BUFFER_PCT,
};

static const struct option longopts[] = {
	DG_COMMON_LONGOPTS,
	{"record", 0, NULL, OPT_RECORD},
	{"refund-id", 1, NULL, OPT_REFUND_ID},
	{"allow-fallback", 0, NULL, OPT_ALLOW_FALLBACK},
	{"provider", 1, NULL, OPT_PROVIDER},
	{"rounding", 1, NULL, OPT_ROUNDING},
	{"order-amount", 1, NULL, OPT_ORDER_AMOUNT},
	{"currency", 1, NULL, OPT_CURRENCY},
	{"charge-currency", 1, NULL, OPT_CHARGE_CURRENCY},
	{"all", 0, NULL, OPT_ALL},
	{"lines", 1, NULL, OPT_LINES},
	{"amount", 1, NULL, OPT_AMOUNT},
	{"charge-amount", 1, NULL, OPT_CHARGE_AMOUNT},
	{"strict", 0, NULL, OPT_STRICT},
	{"batch", 1, NULL, OPT_BATCH},
	{"input-format", 1, NULL, OPT_INPUT_FORMAT},
	{"summary", 0, NULL, OPT_SUMMARY},
	{"from", 1, NULL, OPT_FROM},
	{"to", 1, NULL, OPT_TO},
	{"buffer-pct", 1, NULL, OPT_BUFFER_PCT},
	{NULL, 0, NULL, 0},
};

/* ------------------------------------------------------------ options */

/*
 * Batch mode's one operand, when it is an order id given without a
 * refund kind rather than a file: no file of that name exists, and it
 * is a valid id with no '/' or '.', which file names have and order ids
 * seldom do. Anything else stays a FILE, so a missing batch file is 66.
 */
static bool order_without_kind(const char *arg)
{
	struct stat st;

	if (!strcmp(arg, "-") || !dg_valid_id(arg) || strpbrk(arg, "/."))
		return false;
	return stat(arg, &st) != 0 && errno == ENOENT;
}

/* A percentage from 0 to 100 with at most 6 decimals, in millionths of a
 * percent: "0.6" is 600000. */
static int parse_pct(const char *s, int64_t *out)
{
	if (dg_amount_parse(s, 6, out) || *out < 0 || *out > 100000000)
		return -1;
	return 0;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	int c, kinds = 0;

	o->provider = "ecb";
	o->rounding = DG_ROUND_HALF_UP;
	o->batch = 1000;
	o->buffer_pct = "0.6";
	o->pct = 600000;
	while ((c = dg_getopt(argc, argv, "hqv", longopts, usage)) != -1) {
		if (dg_common_option(&o->common, c, optarg, usage))
			continue;
		switch (c) {
		case OPT_RECORD:
			o->record = true;
			break;
		case OPT_REFUND_ID:
			o->refund_id = optarg;
			break;
		case OPT_ALLOW_FALLBACK:
			o->allow_fallback = true;
			break;
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
		case OPT_ORDER_AMOUNT:
			o->order_amount = optarg;
			break;
		case OPT_CURRENCY:
			dg_currency_arg(usage, "--currency", optarg);
			o->currency = optarg;
			break;
		case OPT_CHARGE_CURRENCY:
			dg_currency_arg(usage, "--charge-currency", optarg);
			o->charge_currency = optarg;
			break;
		case OPT_ALL:
			o->all = true;
			kinds++;
			break;
		case OPT_LINES:
			o->lines = optarg;
			kinds++;
			break;
		case OPT_AMOUNT:
			o->amount = optarg;
			kinds++;
			break;
		case OPT_CHARGE_AMOUNT:
			o->charge_amount = optarg;
			kinds++;
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
		case OPT_SUMMARY:
			o->summary = true;
			break;
		case OPT_FROM:
			if (dg_parse_date(optarg, &o->from_day))
				dg_usage_error(usage,
					       "--from needs a date "
					       "YYYY-MM-DD, not %s",
					       dg_quoted(optarg));
			o->from = optarg;
			break;
		case OPT_TO:
			if (dg_parse_date(optarg, &o->to_day))
				dg_usage_error(usage,
					       "--to needs a date YYYY-MM-DD, "
					       "not %s",
					       dg_quoted(optarg));
			o->to = optarg;
			break;
		case OPT_BUFFER_PCT:
			if (parse_pct(optarg, &o->pct))
				dg_usage_error(
					usage,
					"--buffer-pct needs a percentage "
					"from 0 to 100 such as 0.6, not "
					"%s",
					dg_quoted(optarg));
			o->buffer_pct = optarg;
			o->pct_given = true;
			break;
		default:
			dg_usage_error(usage, "unknown option (see --help)");
		}
	}
	if (o->summary) {
		if (kinds || o->record || o->refund_id || o->allow_fallback ||
		    o->strict || o->order_amount || o->currency ||
		    o->charge_currency || o->in_fmt != DG_IN_AUTO)
			dg_usage_error(usage, "--summary takes only --from, "
					      "--to and --buffer-pct");
		if (optind != argc)
			dg_usage_error(usage, "--summary takes no arguments");
		dg_date_range_arg(usage, o->from, o->to);
		return;
	}
	if (o->from || o->to || o->pct_given)
		dg_usage_error(usage, "--from, --to and --buffer-pct go with "
				      "--summary");
	if (kinds > 1)
		dg_usage_error(usage, "give only one of --all, --lines, "
				      "--amount and --charge-amount");
	o->one = kinds == 1;
	if (o->one) {
		if (argc - optind != 1)
			dg_usage_error(usage, "a refund needs one ORDER_ID");
		if (o->record && !o->refund_id)
			dg_usage_error(usage, "--record needs --refund-id: the "
					      "id makes recording it again "
					      "harmless");
		if (o->strict || o->in_fmt != DG_IN_AUTO)
			dg_usage_error(usage, "--strict and --input-format are "
					      "for batch input");
	} else if (o->refund_id || o->order_amount || o->currency ||
		   o->charge_currency) {
		dg_usage_error(usage,
			       "--refund-id, --order-amount, --currency and "
			       "--charge-currency go with one refund (--all, "
			       "--lines, --amount or --charge-amount); a batch "
			       "has columns for them");
	} else if (argc - optind == 1 && order_without_kind(argv[optind])) {
		dg_usage_error(usage,
			       "no refund asked for order %s: give --all, "
			       "--lines, --amount or --charge-amount",
			       dg_quoted(argv[optind]));
	}
}

/* ------------------------------------------------------------ messages */

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

/* An amount of currency ccy, greater than zero. */
static int parse_amount(const char *where, const char *field, const char *v,
			const char *ccy, int64_t *out)
{
	int exp = dg_currency_exponent(ccy);

	switch (dg_amount_parse(v, exp, out)) {
	case DG_M_OK:
		break;
	case DG_M_PRECISION:
		return field_error(where, field,
				   "%s has more decimals than %s's %d",
				   dg_quoted(v), ccy, exp);
	case DG_M_OVERFLOW:
		return field_error(where, field, "%s is too large",
				   dg_quoted(v));
	default:
		return field_error(where, field, "%s is not an amount",
				   dg_quoted(v));
	}
	if (*out <= 0)
		return field_error(where, field, "%s must be greater than zero",
				   dg_quoted(v));
	return 0;
}

/* ------------------------------------------------------------ requests */

enum kind { K_ALL, K_LINES, K_AMOUNT, K_CHARGE };

struct req_line {
	int64_t line;
	int64_t qty; /* 0: every unit still refundable */
};

struct request {
	char order_id[MAX_ID + 1];
	char refund_id[MAX_ID + 1]; /* "" when none */
	enum kind kind;
	struct req_line *lines;
	size_t nlines;
	char *amount;	    /* K_AMOUNT / K_CHARGE text, parsed later */
	char *order_amount; /* for a fallback, or NULL */
	char currency[4], charge[4]; /* "" when not given */
	char *where;		     /* "refunds.csv:12: ", or "" */
	int status;		     /* a failure found while reading */
	char *error;		     /* its message, printed in turn, or NULL */
	bool rec_known, rec; /* prefetch: refund_id may be recorded (rec) */
};

static void request_free(struct request *q)
{
	free(q->lines);
	free(q->amount);
	free(q->order_amount);
	free(q->where);
	free(q->error);
	memset(q, 0, sizeof(*q));
}

static int cmp_req_line(const void *a, const void *b)
{
	const struct req_line *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

static void add_req_line(struct request *q, size_t *cap, int64_t line,
			 int64_t qty)
{
	if (q->nlines == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		q->lines = dg_xrealloc(q->lines, *cap * sizeof(*q->lines));
	}
	q->lines[q->nlines].line = line;
	q->lines[q->nlines].qty = qty;
	q->nlines++;
}

/* Sort; refuse an empty list, too many lines and a line named twice. */
static int finish_lines(struct request *q, const char *field)
{
	size_t i;

	if (q->nlines == 0)
		return field_error(q->where, field, "no lines given");
	if (q->nlines > MAX_REQ_LINE)
		return field_error(q->where, field, "more than %d lines",
				   MAX_REQ_LINE);
	qsort(q->lines, q->nlines, sizeof(*q->lines), cmp_req_line);
	for (i = 1; i < q->nlines; i++)
		if (q->lines[i].line == q->lines[i - 1].line)
			return field_error(q->where, field,
					   "line %lld is named twice",
					   (long long)q->lines[i].line);
	return 0;
}

/* A whole number from 1 to max, digits only, at *p up to a delimiter.
 * Returns the number or 0, and moves *p past the digits. */
static int64_t take_number(const char **p, int64_t max)
{
	int64_t x = 0;
	const char *s = *p;

	if (*s < '1' || *s > '9')
		return 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (x > (max - (*s - '0')) / 10)
			return 0;
		x = x * 10 + (*s - '0');
	}
	*p = s;
	return x;
}

/* "2,5" or "2:1,5:3" */
static int parse_lines_spec(struct request *q, const char *field,
			    const char *spec)
{
	const char *p = spec;
	size_t cap = 0;

	for (;;) {
		int64_t line = take_number(&p, MAX_LINE), qty = 0;

		if (!line)
			goto bad;
		if (*p == ':') {
			p++;
			if (!(qty = take_number(&p, MAX_QTY)))
				goto bad;
		}
		if (q->nlines >= MAX_REQ_LINE)
			return field_error(q->where, field,
					   "more than %d lines", MAX_REQ_LINE);
		add_req_line(q, &cap, line, qty);
		if (!*p)
			break;
		if (*p++ != ',')
			goto bad;
	}
	return finish_lines(q, field);
bad:
	return field_error(q->where, field,
			   "%s is not a list of lines such as 2,5 or 2:1,5:3 "
			   "(line:quantity)",
			   dg_quoted(spec));
}

/* A JSON value that is a whole number from 1 to max, or a string of one. */
static int64_t json_number(json_t *v, int64_t max)
{
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);

		return x >= 1 && x <= max ? (int64_t)x : 0;
	}
	if (json_is_string(v)) {
		const char *p = json_string_value(v);
		int64_t x = take_number(&p, max);

		return *p ? 0 : x;
	}
	return 0;
}

/* JSON "lines": [2, 5] or [{"line": 2, "qty": 1}, ...] */
static int parse_lines_json(struct request *q, json_t *arr)
{
	size_t i, cap = 0;
	json_t *e;
	char field[48];

	if (json_array_size(arr) > MAX_REQ_LINE)
		return field_error(q->where, "lines", "more than %d lines",
				   MAX_REQ_LINE);
	json_array_foreach(arr, i, e)
	{
		int64_t line, qty = 0;

		if (json_is_object(e)) {
			json_t *l = json_object_get(e, "line");
			json_t *k = json_object_get(e, "qty");

			dg_xsnprintf(field, sizeof(field), "lines[%zu].line",
				     i);
			if (!l || !(line = json_number(l, MAX_LINE)))
				return field_error(q->where, field, "%s",
						   l ? "not a line number"
						     : "missing");
			if (k && !json_is_null(k) &&
			    !(qty = json_number(k, MAX_QTY))) {
				dg_xsnprintf(field, sizeof(field),
					     "lines[%zu].qty", i);
				return field_error(q->where, field,
						   "not a whole number from 1 "
						   "to %d",
						   MAX_QTY);
			}
		} else if (!(line = json_number(e, MAX_LINE))) {
			dg_xsnprintf(field, sizeof(field), "lines[%zu]", i);
			return field_error(q->where, field,
					   "not a line number or an object "
					   "with line and qty");
		}
		add_req_line(q, &cap, line, qty);
	}
	return finish_lines(q, "lines");
}

static int set_currency(struct request *q, const char *field, const char *v,
			char out[4])
{
	if (!v)
		return 0;
	if (!dg_currency_lookup(v))
		return field_error(q->where, field,
				   "%s is not an ISO 4217 currency",
				   dg_quoted(v));
	memcpy(out, v, 4);
	return 0;
}

/* x (0 or more) in decimal at p; returns the end. */
static char *put_number(char *p, int64_t x)
{
	char num[24], *q = num + sizeof(num);

	do
		*--q = (char)('0' + x % 10);
	while ((x /= 10));
	memcpy(p, q, (size_t)(num + sizeof(num) - q));
	return p + (num + sizeof(num) - q);
}

static char *put_text(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* The request's canonical text, stored in refunds.request: what tells a
 * repeated request from a conflicting one. len is at least 64 bytes
 * and 24 more per request line (a line and a quantity of at most 7 and
 * 10 digits and their separators). */
static void canonical(const struct request *q, int64_t amount, const char *ccy,
		      char *buf, size_t len)
{
	char a[DG_AMOUNT_SIZE], *p = buf;
	size_t i;

	if (len < 64 + q->nlines * 24)
		dg_die(DG_EXIT_SOFTWARE, "request text too long");
	switch (q->kind) {
	case K_ALL:
		p = put_text(p, "all");
		break;
	case K_AMOUNT:
	case K_CHARGE:
		dg_amount_format(amount, dg_currency_exponent(ccy), a);
		p = put_text(p, q->kind == K_AMOUNT ? "amount " : "charge_amount ");
		p = put_text(p, a);
		*p++ = ' ';
		p = put_text(p, ccy);
		break;
	case K_LINES:
		p = put_text(p, "lines ");
		for (i = 0; i < q->nlines; i++) {
			if (i)
				*p++ = ',';
			p = put_number(p, q->lines[i].line);
			if (q->lines[i].qty) {
				*p++ = ':';
				p = put_number(p, q->lines[i].qty);
			}
		}
		break;
	}
	*p = '\0';
}

/* ------------------------------------------------------------ output */

static const char *const out_cols[] = {
	"order_id",	 "refund_id",	   "refund_amount",
	"currency",	 "charge_refund",  "charge_currency",
	"pinned_rate",	 "live_rate",	   "charge_refund_at_live",
	"fx_difference", "refunded_total", "refundable_remaining",
	"rate_source",
};
#define NCOLS (sizeof(out_cols) / sizeof(out_cols[0]))

struct row {
	char order_id[MAX_ID + 1], refund_id[MAX_ID + 1];
	char refund_amount[DG_AMOUNT_SIZE], currency[4];
	char charge_refund[DG_AMOUNT_SIZE], charge_currency[4];
	char pinned_rate[DG_EFFECTIVE_SIZE], live_rate[DG_EFFECTIVE_SIZE];
	char at_live[DG_AMOUNT_SIZE], fx_difference[DG_AMOUNT_SIZE];
	char refunded_total[DG_AMOUNT_SIZE], remaining[DG_AMOUNT_SIZE];
	const char *source;
	const char *status; /* recorded | existing | computed */
};

static const char *nz(const char *s)
{
	return s[0] ? s : NULL;
}

static int write_row(struct dg_out *out, const struct row *r)
{
	const char *v[NCOLS] = {
		r->order_id,	   nz(r->refund_id),
		r->refund_amount,  r->currency,
		r->charge_refund,  r->charge_currency,
		r->pinned_rate,	   nz(r->live_rate),
		nz(r->at_live),	   nz(r->fx_difference),
		r->refunded_total, nz(r->remaining),
		r->source,
	};

	return dg_out_row(out, v);
}

/* ------------------------------------------------------------ orders */

/*
 * What the transactions of a run have read, so that each order is read
 * once however many refunds name it, and the live quotes of a pair
 * once. A read transaction sees one snapshot; inside BEGIN IMMEDIATE
 * only this process writes, and remember() applies each refund it
 * records to the cached order as the database now has it. What was
 * read stays true in the next transaction as long as no other
 * connection has written to the database since: PRAGMA data_version,
 * read at each BEGIN, tells (it does not move for this connection's
 * own commits). Emptied when it moves, at a ROLLBACK, and when the
 * cache is full (forget_all).
 */
#define LIVE_SLOTS 256 /* a power of two */

/* At most this many orders are kept from one transaction to the next. */
#define MAX_CACHED 131072

struct cached_live {
	unsigned gen;
	int32_t day;
	char provider[32], from[4], to[4];
	struct dg_fx fx;
	char rate[DG_EFFECTIVE_SIZE];
	bool found;
};

struct ctx {
	sqlite3 *db;
	const struct options *opt;
	struct {
		char provider[32];
		struct dg_fx_finder *f;
	} finders[MAX_FINDERS];
	size_t nfinders;
	sqlite3_stmt *get_order, *get_totals, *get_units, *get_refund,
		*get_total_at;
	sqlite3_stmt *ins_refund, *ins_line, *upd_state, *ins_order, *ins_item;
	sqlite3_stmt *pf_orders, *pf_totals, *pf_units, *pf_rids;
	sqlite3_stmt *data_version;
	char *ids; /* a batch's ids, as a JSON array */
	size_t ids_cap;
	const char **idv; /* the same, sorted */
	uint32_t *rid_slots; /* a batch's refund ids: request index + 1 */
	size_t rid_cap;
	/* the cache: orders read, and their index by id (the live quotes
	 * go with it, by its gen); kept while the database's data_version
	 * stays version */
	struct dg_order_cache cache;
	int64_t version;
	bool kept;
	struct dg_cached_order *cur; /* the order being refunded, or NULL */
	struct dg_order scratch;     /* an order not in the database */
	struct cached_live *live;    /* LIVE_SLOTS, by pair and day */
	/* per refund, grown as needed */
	int64_t *line_charge, *line_qty, *w, *s;
	size_t line_cap;
	char *request;
	size_t request_cap;
	dg_time now;
	int32_t today;
	char now_text[DG_RFC3339_SIZE];
	size_t recorded, existing, computed, failed;
	size_t files_failed; /* files refused as a whole */
};

static int prepare_all(struct ctx *c)
{
	static const char *const sql[] = {
		/* the order, its pin and its lines: a row per line */
		"SELECT o.amount, o.currency, o.charge_currency, o.state, "
		"r.id, r.mul_rate, r.div_rate, r.rounding, r.provider, "
		"r.effective_rate, r.converted, r.to_currency, i.line, i.qty, "
		"i.amount FROM orders o LEFT JOIN order_rates r ON "
		"r.order_id = o.order_id AND r.kind = 'charge' LEFT JOIN "
		"order_items i ON i.order_id = o.order_id WHERE o.order_id = "
		"?1 ORDER BY i.line",
		/* with the id of the refund asked for, if recorded: its
		 * row is then read in full (stored_refund) */
		"SELECT count(*), coalesce(sum(charge_refund), 0), "
		"coalesce(sum(refund_amount), 0), (SELECT id FROM refunds "
		"WHERE refund_id = ?2) FROM refunds WHERE order_id = ?1",
		"SELECT l.line, sum(l.qty) FROM refunds r JOIN refund_lines l "
		"ON l.refund_id = r.refund_id WHERE r.order_id = ?1 GROUP BY "
		"l.line",
		"SELECT id, order_id, request, refund_amount, currency, "
		"charge_refund, charge_currency, pinned_rate, live_rate, "
		"charge_refund_at_live, fx_difference, rate_source FROM "
		"refunds WHERE refund_id = ?1",
		"SELECT coalesce(sum(charge_refund), 0), "
		"coalesce(sum(refund_amount), 0) FROM refunds WHERE "
		"order_id = ?1 AND id <= ?2",
		/* whether another connection wrote since (forget_all) */
		"PRAGMA data_version",
		/* a batch's orders read at once (prefetch): ?1 a JSON array
		 * of their ids, sorted, so that the lookups go in the
		 * index's order; the rows are summed up in C (no IN list,
		 * GROUP BY or ORDER BY: each would build a temporary
		 * b-tree) */
		"SELECT o.amount, o.currency, o.charge_currency, o.state, "
		"r.id, r.mul_rate, r.div_rate, r.rounding, r.provider, "
		"r.effective_rate, r.converted, r.to_currency, i.line, i.qty, "
		"i.amount, o.order_id FROM json_each(?1) j JOIN orders o ON "
		"o.order_id = j.value LEFT JOIN order_rates r ON r.order_id = "
		"o.order_id AND r.kind = 'charge' LEFT JOIN order_items i ON "
		"i.order_id = o.order_id",
		"SELECT r.order_id, r.charge_refund, r.refund_amount FROM "
		"json_each(?1) j JOIN refunds r ON r.order_id = j.value",
		"SELECT r.order_id, l.line, l.qty FROM json_each(?1) j JOIN "
		"refunds r ON r.order_id = j.value JOIN refund_lines l ON "
		"l.refund_id = r.refund_id",
		"SELECT r.refund_id FROM json_each(?1) j JOIN refunds r ON "
		"r.refund_id = j.value",
	};
	static const char *const wsql[] = {
		"INSERT INTO refunds (refund_id, order_id, refund_amount, "
		"currency, charge_refund, charge_currency, pinned_rate, "
		"live_rate, charge_refund_at_live, fx_difference, "
		"rate_source, request, created_at) VALUES (?1, ?2, ?3, ?4, "
		"?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
		"INSERT INTO refund_lines (refund_id, line, qty, "
		"charge_amount) VALUES (?1, ?2, ?3, ?4)",
		"UPDATE orders SET state = ?2 WHERE order_id = ?1 AND state "
		"NOT IN (?2, 'cancelled')",
		"INSERT INTO orders (order_id, amount, currency, "
		"charge_currency, state, created_at, content_sha256) VALUES "
		"(?1, ?2, ?3, ?4, 'pinned', ?5, ?6)",
		"INSERT INTO order_items (order_id, line, qty, amount) VALUES "
		"(?1, 1, 1, ?2)",
	};
	sqlite3_stmt **rst[] = {&c->get_order,	  &c->get_totals,
				&c->get_units,	  &c->get_refund,
				&c->get_total_at, &c->data_version};
	sqlite3_stmt **pst[] = {&c->pf_orders, &c->pf_totals, &c->pf_units,
				&c->pf_rids};
	sqlite3_stmt **wst[] = {&c->ins_refund, &c->ins_line, &c->upd_state,
				&c->ins_order, &c->ins_item};
	size_t i;
	int ret;

	dg_order_cache_init(&c->cache);
	c->live = dg_xcalloc(LIVE_SLOTS, sizeof(*c->live));
	for (i = 0; i < sizeof(rst) / sizeof(rst[0]); i++)
		if ((ret = dg_db_prepare(c->db, sql[i], rst[i])))
			return ret;
	/* the prefetch is an optimisation: without json_each (an SQLite
	 * built without JSON), each order is read in its turn */
	for (i = 0; i < sizeof(pst) / sizeof(pst[0]); i++)
		if (sqlite3_prepare_v2(c->db, sql[sizeof(rst) / sizeof(rst[0]) +
						   i],
				       -1, pst[i], NULL) != SQLITE_OK) {
			for (i = 0; i < sizeof(pst) / sizeof(pst[0]); i++) {
				sqlite3_finalize(*pst[i]);
				*pst[i] = NULL;
			}
			break;
		}
	if (!c->opt->record)
		return 0;
	for (i = 0; i < sizeof(wst) / sizeof(wst[0]); i++)
		if ((ret = dg_db_prepare(c->db, wsql[i], wst[i])))
			return ret;
	return 0;
}

static void finalize_all(struct ctx *c)
{
	sqlite3_stmt *all[] = {c->get_order,  c->get_totals,   c->get_units,
			       c->get_refund, c->get_total_at, c->ins_refund,
			       c->ins_line,   c->upd_state,    c->ins_order,
			       c->ins_item,   c->pf_orders,    c->pf_totals,
			       c->pf_units,   c->pf_rids,      c->data_version};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		sqlite3_finalize(all[i]);
	for (i = 0; i < c->nfinders; i++)
		dg_fx_finder_free(c->finders[i].f);
	dg_order_cache_free(&c->cache);
	free(c->scratch.lines);
	free(c->live);
	free(c->line_charge);
	free(c->line_qty);
	free(c->w);
	free(c->s);
	free(c->request);
	free(c->ids);
	free(c->idv);
	free(c->rid_slots);
}

static struct dg_fx_finder *finder(struct ctx *c, const char *provider)
{
	size_t i;

	for (i = 0; i < c->nfinders; i++)
		if (!strcmp(c->finders[i].provider, provider))
			return c->finders[i].f;
	if (c->nfinders == MAX_FINDERS) {
		dg_fx_finder_free(c->finders[0].f);
		memmove(&c->finders[0], &c->finders[1],
			(MAX_FINDERS - 1) * sizeof(c->finders[0]));
		c->nfinders--;
	}
	dg_xsnprintf(c->finders[c->nfinders].provider,
		     sizeof(c->finders[0].provider), "%s", provider);
	c->finders[c->nfinders].f = dg_fx_finder_new(c->db, provider);
	if (!c->finders[c->nfinders].f)
		return NULL;
	return c->finders[c->nfinders++].f;
}

/* Nothing read before counts: the orders, the live quotes and the
 * finders' caches. */
static void forget_all(struct ctx *c)
{
	size_t i;

	c->cur = NULL;
	c->kept = false;
	for (i = 0; i < c->nfinders; i++)
		dg_fx_finder_reset(c->finders[i].f);
	if (dg_order_cache_clear(&c->cache))
		memset(c->live, 0, LIVE_SLOTS * sizeof(*c->live));
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/*
 * At the start of a transaction (its snapshot taken by the read of
 * data_version): the cache kept when nobody else has written since it
 * was read and it has room, else emptied. 0 or 74.
 */
static int keep_or_forget(struct ctx *c)
{
	sqlite3_stmt *st = c->data_version;
	int64_t v = 0;
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	done(st);
	if (rc != SQLITE_DONE) {
		forget_all(c);
		return dg_db_fail(c->db, rc, "cannot read the database");
	}
	if (!c->kept || v != c->version || c->cache.norders >= MAX_CACHED)
		forget_all(c);
	c->cur = NULL;
	c->version = v;
	c->kept = true;
	return 0;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void copy(char *dst, size_t len, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= len)
		dg_die(DG_EXIT_SOFTWARE, "internal error: text truncated");
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static int corrupt(const char *id, const char *what)
{
	dg_error("order %s: the stored %s cannot be read", dg_quoted(id), what);
	return DG_EXIT_SOFTWARE;
}

/* Room for n request lines (and n order lines) in the scratch arrays. */
static void line_room(struct ctx *c, size_t n)
{
	size_t cap = c->line_cap ? c->line_cap : 16;

	if (n <= c->line_cap)
		return;
	while (cap < n)
		cap *= 2;
	c->line_charge =
		dg_xrealloc(c->line_charge, cap * sizeof(*c->line_charge));
	c->line_qty = dg_xrealloc(c->line_qty, cap * sizeof(*c->line_qty));
	c->w = dg_xrealloc(c->w, cap * sizeof(*c->w));
	c->s = dg_xrealloc(c->s, cap * sizeof(*c->s));
	c->line_cap = cap;
}

/*
 * One row of get_order (or pf_orders) into o: the order and its pin
 * from its first row, a line from each. NULL, or what cannot be read
 * ("order", "pin"), with nothing printed.
 */
static const char *order_row(sqlite3_stmt *st, struct dg_order *o)
{
	struct dg_oline *l;

	if (!o->stored) {
		const char *mul = col_text(st, 5), *div;
		const char *to = col_text(st, 11);

		o->stored = true;
		o->amount = sqlite3_column_int64(st, 0);
		copy(o->currency, sizeof(o->currency), col_text(st, 1));
		copy(o->charge, sizeof(o->charge), col_text(st, 2));
		copy(o->state, sizeof(o->state), col_text(st, 3));
		o->sexp = dg_currency_exponent(o->currency);
		o->cexp = dg_currency_exponent(o->charge);
		if (o->sexp < 0 || o->cexp < 0)
			return "order";
		if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
			div = col_text(st, 6);
			o->pinned = true;
			o->has_mul = mul != NULL;
			o->has_div = div != NULL;
			if ((mul && dg_rate_parse(mul, &o->mul)) ||
			    (div && dg_rate_parse(div, &o->div)) ||
			    !col_text(st, 7) ||
			    dg_rounding_parse(col_text(st, 7), &o->rounding) ||
			    !col_text(st, 9) || !to || strcmp(to, o->charge))
				return "pin";
			copy(o->provider, sizeof(o->provider), col_text(st, 8));
			copy(o->pinned_rate, sizeof(o->pinned_rate),
			     col_text(st, 9));
			o->charge_total = sqlite3_column_int64(st, 10);
		}
	}
	if (sqlite3_column_type(st, 12) == SQLITE_NULL)
		return NULL; /* no lines */
	if (o->nlines == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 4;
		o->lines = dg_xrealloc(o->lines, o->cap * sizeof(*o->lines));
	}
	l = &o->lines[o->nlines++];
	l->line = sqlite3_column_int64(st, 12);
	l->qty = sqlite3_column_int64(st, 13);
	l->amount = sqlite3_column_int64(st, 14);
	l->share = 0;
	l->refunded = 0;
	return NULL;
}

/* The order's row, pin and lines: one statement, a row per line. */
static int read_order(struct ctx *c, const char *id, struct dg_order *o)
{
	sqlite3_stmt *st = c->get_order;
	const char *bad = NULL;
	int rc;

	rc = dg_db_bind_text(st, 1, id);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		if ((bad = order_row(st, o)))
			break;
	}
	done(st);
	if (bad)
		return corrupt(id, bad);
	if (rc != SQLITE_DONE)
		return dg_db_fail(c->db, rc, "cannot read orders");
	return 0;
}

/* The refunds recorded for a stored order: totals, units per line;
 * and whether refund_id (NULL: none) is recorded. */
static int read_refunded(struct ctx *c, const char *id, const char *refund_id,
			 struct dg_order *o, bool *recorded)
{
	sqlite3_stmt *st = c->get_totals;
	int64_t n = 0;
	int rc;

	rc = dg_db_bind_text(st, 1, id);
	if (rc == SQLITE_OK)
		rc = dg_db_bind_text(st, 2, refund_id);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		o->rc = sqlite3_column_int64(st, 1);
		o->rs = sqlite3_column_int64(st, 2);
		*recorded = sqlite3_column_type(st, 3) != SQLITE_NULL;
		rc = SQLITE_DONE;
	}
	done(st);
	if (rc != SQLITE_DONE)
		return dg_db_fail(c->db, rc, "cannot read refunds");
	if (!n || !o->nlines)
		return 0;

	st = c->get_units;
	rc = dg_db_bind_text(st, 1, id);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t line = sqlite3_column_int64(st, 0);
		size_t i;

		for (i = 0; i < o->nlines; i++)
			if (o->lines[i].line == line)
				o->lines[i].refunded =
					sqlite3_column_int64(st, 1);
		rc = SQLITE_OK;
	}
	done(st);
	if (rc != SQLITE_DONE)
		return dg_db_fail(c->db, rc, "cannot read refund_lines");
	return 0;
}

/* Each line's part of the charge: 0, or -1 with nothing printed. */
static int shares(struct ctx *c, struct dg_order *o)
{
	line_room(c, o->nlines);
	return dg_order_shares(o, c->w, c->s);
}

static int allocate_shares(struct ctx *c, const char *id, struct dg_order *o)
{
	return shares(c, o) ? corrupt(id, "lines") : 0;
}

/*
 * The order, its pin, lines and recorded refunds, read once in a
 * transaction: *out points into the cache (c->cur), or, for an order
 * not in the database, to c->scratch (c->cur NULL). *recorded is false
 * when the read found refund_id (NULL: none) not recorded, true when it
 * may be. 0, 70, 74.
 */
static int load_order(struct ctx *c, const char *id, const char *refund_id,
		      struct dg_order **out, bool *recorded)
{
	struct dg_cached_order *e = dg_order_cache_get(&c->cache, id);
	bool known = e != NULL;
	struct dg_order *o;
	int ret;

	c->cur = NULL;
	*recorded = true;
	if (e && e->valid) {
		c->cur = e;
		*out = &e->o;
		return 0;
	}
	if (!known) /* taken once it is read */
		e = dg_order_cache_room(&c->cache);
	o = &e->o;
	o->stored = o->pinned = false;
	o->nlines = 0;
	o->rc = o->rs = 0;
	if ((ret = read_order(c, id, o)))
		return ret;
	if (!o->stored) {
		c->scratch.stored = c->scratch.pinned = false;
		c->scratch.nlines = 0;
		c->scratch.rc = c->scratch.rs = 0;
		c->scratch.state[0] = '\0';
		*out = &c->scratch;
		return 0;
	}
	if ((ret = read_refunded(c, id, refund_id, o, recorded)))
		return ret;
	if (o->pinned && o->nlines && (ret = allocate_shares(c, id, o)))
		return ret;
	if (!known) {
		copy(e->id, sizeof(e->id), id);
		dg_order_cache_add(&c->cache);
	}
	e->valid = true;
	c->cur = e;
	*out = o;
	return 0;
}

/* ------------------------------------------------------------ computing */

struct result {
	int64_t seller, charge;
	int64_t *line_charge; /* per request line */
	int64_t *line_qty;
	bool fallback;
	struct dg_fx live;
	bool has_live;
	int64_t at_live;
	char rate_used[DG_EFFECTIVE_SIZE], live_rate[DG_EFFECTIVE_SIZE];
	enum dg_rounding rounding;
	char provider[32];
};

static int too_much(const struct request *q, int64_t asked, int64_t left,
		    int exp, const char *ccy)
{
	char a[DG_AMOUNT_SIZE], b[DG_AMOUNT_SIZE];

	dg_amount_format(asked, exp, a);
	dg_amount_format(left, exp, b);
	dg_error("%sorder %s: refund of %s %s exceeds the refundable "
		 "remainder %s %s",
		 q->where, dg_quoted(q->order_id), a, ccy, b, ccy);
	return DG_EXIT_DATAERR;
}

static int convert_fail(const struct request *q, enum dg_merr e)
{
	if (e == DG_M_OVERFLOW)
		dg_error("%sorder %s: the amount is too large to convert",
			 q->where, dg_quoted(q->order_id));
	else
		dg_error("%sorder %s: cannot convert the amount", q->where,
			 dg_quoted(q->order_id));
	return e == DG_M_OVERFLOW ? DG_EXIT_DATAERR : DG_EXIT_SOFTWARE;
}

static enum dg_merr conv(const struct dg_order *o, int64_t amount, bool back,
			 int64_t *out)
{
	const struct dg_rate *mul = o->has_mul ? &o->mul : NULL;
	const struct dg_rate *div = o->has_div ? &o->div : NULL;

	if (back)
		return dg_convert(amount, o->cexp, o->sexp, div, mul,
				  o->rounding, out);
	return dg_convert(amount, o->sexp, o->cexp, mul, div, o->rounding, out);
}

/* The latest quotes for the order's pair on or before today, looked up
 * once per transaction. 0, 69 (no message), 74. */
static int find_live(struct ctx *c, const struct dg_order *o,
		     const char *provider, struct result *r)
{
	struct dg_fx_finder *f;
	struct cached_live *e;
	uint32_t h = dg_id_hash(provider);
	int ret;

	h = (h ^ dg_id_hash(o->currency)) * 16777619u;
	h = (h ^ dg_id_hash(o->charge)) * 16777619u;
	h = (h ^ (uint32_t)c->today) * 16777619u;
	e = &c->live[(h ^ (h >> 16)) & (LIVE_SLOTS - 1)];
	if (e->gen == c->cache.gen && e->day == c->today &&
	    !strcmp(e->provider, provider) && !strcmp(e->from, o->currency) &&
	    !strcmp(e->to, o->charge)) {
		if (!e->found)
			return DG_EXIT_UNAVAILABLE;
		r->live = e->fx;
		memcpy(r->live_rate, e->rate, sizeof(r->live_rate));
		r->has_live = true;
		return 0;
	}
	if (!(f = finder(c, provider)))
		return DG_EXIT_IOERR;
	ret = dg_fx_find(f, o->currency, o->charge, c->today, &r->live);
	if (ret && ret != DG_EXIT_UNAVAILABLE)
		return ret;
	if (!ret &&
	    dg_fx_effective(&r->live, r->live_rate, sizeof(r->live_rate)))
		return DG_EXIT_SOFTWARE;
	e->gen = c->cache.gen;
	e->day = c->today;
	copy(e->provider, sizeof(e->provider), provider);
	memcpy(e->from, o->currency, sizeof(e->from));
	memcpy(e->to, o->charge, sizeof(e->to));
	e->found = !ret;
	if (ret)
		return ret;
	e->fx = r->live;
	memcpy(e->rate, r->live_rate, sizeof(e->rate));
	r->has_live = true;
	return 0;
}

/* A pinned order's refund. */
static int compute_pinned(struct dg_order *o, const struct request *q,
			  int64_t amount, struct result *r)
{
	int64_t left_c = o->charge_total - o->rc, left_s = o->amount - o->rs;
	size_t i, j;
	enum dg_merr e;
	char z[DG_AMOUNT_SIZE], a[DG_AMOUNT_SIZE];

	copy(r->rate_used, sizeof(r->rate_used), o->pinned_rate);
	r->rounding = o->rounding;
	if (left_c <= 0 && (q->kind != K_LINES || left_s <= 0)) {
		dg_error("%sorder %s is fully refunded: nothing remains to "
			 "refund",
			 q->where, dg_quoted(q->order_id));
		return DG_EXIT_DATAERR;
	}
	switch (q->kind) {
	case K_ALL:
		r->seller = left_s;
		r->charge = left_c;
		return 0;
	case K_AMOUNT:
		if (amount > left_s)
			return too_much(q, amount, left_s, o->sexp,
					o->currency);
		r->seller = amount;
		if (amount == left_s) {
			r->charge = left_c;
			return 0;
		}
		if ((e = conv(o, amount, false, &r->charge)))
			return convert_fail(q, e);
		if (r->charge > left_c)
			r->charge = left_c;
		if (r->charge == 0) {
			dg_amount_format(amount, o->sexp, a);
			dg_amount_format(0, o->cexp, z);
			dg_error("%sorder %s: %s %s converts to %s %s: "
				 "nothing to refund",
				 q->where, dg_quoted(q->order_id), a,
				 o->currency, z, o->charge);
			return DG_EXIT_DATAERR;
		}
		return 0;
	case K_CHARGE:
		if (amount > left_c)
			return too_much(q, amount, left_c, o->cexp, o->charge);
		r->charge = amount;
		if (amount == left_c) {
			r->seller = left_s;
			return 0;
		}
		if ((e = conv(o, amount, true, &r->seller)))
			return convert_fail(q, e);
		if (r->seller > left_s)
			r->seller = left_s;
		return 0;
	case K_LINES:
		break;
	}

	/* lines */
	{
		bool closing = true;
		int64_t charge = 0, seller = 0;

		for (i = 0, j = 0; i < q->nlines; i++) {
			const struct dg_oline *l = NULL;
			int64_t k, left;

			while (j < o->nlines &&
			       o->lines[j].line < q->lines[i].line)
				j++;
			if (j < o->nlines &&
			    o->lines[j].line == q->lines[i].line)
				l = &o->lines[j];
			if (!l) {
				dg_error("%sorder %s has no line %lld",
					 q->where, dg_quoted(q->order_id),
					 (long long)q->lines[i].line);
				return DG_EXIT_DATAERR;
			}
			left = l->qty - l->refunded;
			k = q->lines[i].qty ? q->lines[i].qty : left;
			if (left <= 0) {
				dg_error("%sorder %s: line %lld is already "
					 "refunded",
					 q->where, dg_quoted(q->order_id),
					 (long long)l->line);
				return DG_EXIT_DATAERR;
			}
			if (k > left) {
				dg_error("%sorder %s: line %lld has %lld "
					 "unit%s left to refund, not %lld",
					 q->where, dg_quoted(q->order_id),
					 (long long)l->line, (long long)left,
					 left == 1 ? "" : "s", (long long)k);
				return DG_EXIT_DATAERR;
			}
			r->line_qty[i] = k;
			r->line_charge[i] =
				dg_oline_units_charge(l, l->refunded + k) -
				dg_oline_units_charge(l, l->refunded);
			charge += r->line_charge[i];
			seller += k * l->amount; /* within qty * amount */
		}
		/* closing when every unit of every line is then refunded */
		for (j = 0, i = 0; j < o->nlines && closing; j++) {
			int64_t after = o->lines[j].refunded;

			while (i < q->nlines &&
			       q->lines[i].line < o->lines[j].line)
				i++;
			if (i < q->nlines &&
			    q->lines[i].line == o->lines[j].line)
				after += r->line_qty[i];
			if (after < o->lines[j].qty)
				closing = false;
		}
		if (closing) {
			r->charge = left_c;
			r->seller = left_s;
			/* earlier amount refunds took part of these lines'
			 * shares: the remainder is split in proportion */
			if (charge != left_c) {
				int64_t *w = dg_xcalloc(q->nlines, sizeof(*w));
				enum dg_merr e2;

				memcpy(w, charge ? r->line_charge : r->line_qty,
				       q->nlines * sizeof(*w));
				e2 = dg_allocate(left_c, w, q->nlines,
						 r->line_charge);
				free(w);
				if (e2)
					return corrupt(q->order_id, "lines");
			}
			return 0;
		}
		if (charge > left_c)
			return too_much(q, charge, left_c, o->cexp, o->charge);
		if (seller > left_s)
			return too_much(q, seller, left_s, o->sexp,
					o->currency);
		r->charge = charge;
		r->seller = seller;
		return 0;
	}
}

/* An order without a pin, at the latest rate. */
static int compute_fallback(struct ctx *c, const struct dg_order *o,
			    const struct request *q, int64_t amount,
			    struct result *r)
{
	int64_t left_s = o->amount - o->rs;
	enum dg_merr e;
	char day[DG_DATE_SIZE], a[DG_AMOUNT_SIZE], z[DG_AMOUNT_SIZE];
	int ret;

	r->fallback = true;
	r->rounding = c->opt->rounding;
	copy(r->provider, sizeof(r->provider),
	     dg_rate_provider_stored(c->opt->provider));
	ret = find_live(c, o, r->provider, r);
	if (ret == DG_EXIT_UNAVAILABLE) {
		dg_format_date(c->today, day);
		dg_error("%sorder %s: no %s rate for %s/%s on or before %s "
			 "for a fallback",
			 q->where, dg_quoted(q->order_id),
			 dg_escaped(r->provider, DG_QUOTE_MAX), o->currency,
			 o->charge, day);
		return ret;
	}
	if (ret)
		return ret;
	copy(r->rate_used, sizeof(r->rate_used), r->live_rate);
	if (q->kind == K_LINES) {
		dg_error("%sorder %s has no pinned rate and so no charge "
			 "to allocate over lines: refund --all or an amount",
			 q->where, dg_quoted(q->order_id));
		return DG_EXIT_DATAERR;
	}
	if (left_s <= 0) {
		dg_error("%sorder %s is fully refunded: nothing remains to "
			 "refund",
			 q->where, dg_quoted(q->order_id));
		return DG_EXIT_DATAERR;
	}
	switch (q->kind) {
	case K_ALL:
		r->seller = left_s;
		break;
	case K_AMOUNT:
		if (amount > left_s)
			return too_much(q, amount, left_s, o->sexp,
					o->currency);
		r->seller = amount;
		break;
	case K_CHARGE:
		/* back from the charge currency: the quotes swapped */
		e = dg_convert(amount, o->cexp, o->sexp,
			       r->live.has_div ? &r->live.div.rate : NULL,
			       r->live.has_mul ? &r->live.mul.rate : NULL,
			       r->rounding, &r->seller);
		if (e)
			return convert_fail(q, e);
		if (r->seller > left_s) {
			int64_t left_c;

			if ((e = dg_fx_convert(&r->live, left_s, o->sexp,
					       o->cexp, r->rounding, &left_c)))
				return convert_fail(q, e);
			return too_much(q, amount, left_c, o->cexp, o->charge);
		}
		r->charge = amount;
		return 0;
	default:
		break;
	}
	if ((e = dg_fx_convert(&r->live, r->seller, o->sexp, o->cexp,
			       r->rounding, &r->charge)))
		return convert_fail(q, e);
	if (r->charge == 0) {
		dg_amount_format(r->seller, o->sexp, a);
		dg_amount_format(0, o->cexp, z);
		dg_error("%sorder %s: %s %s converts to %s %s: nothing to "
			 "refund",
			 q->where, dg_quoted(q->order_id), a, o->currency, z,
			 o->charge);
		return DG_EXIT_DATAERR;
	}
	return 0;
}

/* ------------------------------------------------------------ storing */

static void fallback_hash(const struct request *q, const struct dg_order *o,
			  char hex[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	char buf[160];
	int len, i;

	len = snprintf(buf, sizeof(buf),
		       "fallback order v1\n%s\n%lld\n%s\n%s\n", q->order_id,
		       (long long)o->amount, o->currency, o->charge);
	if (!EVP_Digest(buf, (size_t)len, md, &n, EVP_sha256(), NULL))
		dg_die(DG_EXIT_SOFTWARE, "cannot compute SHA-256");
	for (i = 0; i < 32; i++) {
		hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	hex[64] = '\0';
}

static int step_done(struct ctx *c, sqlite3_stmt *st, int rc, const char *what)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return dg_db_fail(c->db, rc, what);
	return 0;
}

static int store(struct ctx *c, const struct dg_order *o,
		 const struct request *q, const char *request,
		 const struct result *r, const struct row *row, bool closed)
{
	sqlite3_stmt *st;
	char hash[65], *detail;
	const char *state;
	int rc, ret;
	size_t i;

	if (r->fallback && !o->stored) {
		fallback_hash(q, o, hash);
		st = c->ins_order;
		rc = dg_db_bind_text(st, 1, q->order_id);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 2, o->amount);
		if (rc == SQLITE_OK)
			rc = dg_db_bind_text(st, 3, o->currency);
		if (rc == SQLITE_OK)
			rc = dg_db_bind_text(st, 4, o->charge);
		if (rc == SQLITE_OK)
			rc = dg_db_bind_text(st, 5, c->now_text);
		if (rc == SQLITE_OK)
			rc = dg_db_bind_text(st, 6, hash);
		if ((ret = step_done(c, st, rc, "cannot store the order")))
			return ret;
		st = c->ins_item;
		rc = dg_db_bind_text(st, 1, q->order_id);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 2, o->amount);
		if ((ret = step_done(c, st, rc, "cannot store the order")))
			return ret;
	}
	st = c->ins_refund;
	rc = dg_db_bind_text(st, 1, q->refund_id);
	if (rc == SQLITE_OK)
		rc = dg_db_bind_text(st, 2, q->order_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, r->seller);
	if (rc == SQLITE_OK)
		rc = dg_db_bind_text(st, 4, o->currency);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, r->charge);
	if (rc == SQLITE_OK)
		rc = dg_db_bind_text(st, 6, o->charge);
	if (rc == SQLITE_OK)
		rc = dg_db_bind_text(st, 7, r->rate_used);
	if (rc == SQLITE_OK)
		rc = dg_db_bind_text(st, 8, r->has_live ? r->live_rate : NULL);
	if (rc == SQLITE_OK)
		rc = r->has_live ? sqlite3_bind_int64(st, 9, r->at_live)
				 : sqlite3_bind_null(st, 9);
	if (rc == SQLITE_OK)
		rc = r->has_live ? sqlite3_bind_int64(st, 10,
						      r->charge - r->at_live)
				 : sqlite3_bind_null(st, 10);
	if (rc == SQLITE_OK)
		rc = dg_db_bind_text(st, 11,
				     r->fallback ? "fallback" : "pinned");
	if (rc == SQLITE_OK)
		rc = dg_db_bind_text(st, 12, request);
	if (rc == SQLITE_OK)
		rc = dg_db_bind_text(st, 13, c->now_text);
	if ((ret = step_done(c, st, rc, "cannot store the refund")))
		return ret;
	if (q->kind == K_LINES && !r->fallback) {
		st = c->ins_line;
		for (i = 0; i < q->nlines; i++) {
			rc = dg_db_bind_text(st, 1, q->refund_id);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_int64(st, 2,
							q->lines[i].line);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_int64(st, 3, r->line_qty[i]);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_int64(st, 4,
							r->line_charge[i]);
			if ((ret = step_done(c, st, rc,
					     "cannot store the refund")))
				return ret;
		}
	}
	/* the state as read in this transaction: an UPDATE that would
	 * change nothing is not run */
	state = closed ? "refunded" : "partially_refunded";
	if (strcmp(o->state, state) && strcmp(o->state, "cancelled")) {
		st = c->upd_state;
		rc = dg_db_bind_text(st, 1, q->order_id);
		if (rc == SQLITE_OK)
			rc = dg_db_bind_text(st, 2, state);
		if ((ret = step_done(c, st, rc, "cannot update the order")))
			return ret;
	}
	if (r->fallback) {
		detail = dg_xasprintf("refund '%s' of %s %s paid %s %s at the "
				      "latest %s rate %s: the order had no "
				      "pinned rate",
				      q->refund_id, row->refund_amount,
				      o->currency, row->charge_refund,
				      o->charge, r->provider, r->rate_used);
		ret = dg_db_event(c->db, "refund_fallback", q->order_id,
				  detail);
		free(detail);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A refund just recorded, applied to the cached order as the database
 * now has it: the totals, the units of each line, the state. An order
 * the refund stored (a fallback's) is read from the database next time.
 */
static void remember(struct ctx *c, struct dg_order *o, const struct request *q,
		     const struct result *r, bool closed)
{
	size_t i, j;

	if (!c->cur || &c->cur->o != o)
		return;
	if (__builtin_add_overflow(o->rc, r->charge, &o->rc) ||
	    __builtin_add_overflow(o->rs, r->seller, &o->rs)) {
		c->cur->valid = false;
		return;
	}
	if (q->kind == K_LINES && !r->fallback)
		for (i = 0, j = 0; i < q->nlines; i++) {
			while (j < o->nlines &&
			       o->lines[j].line < q->lines[i].line)
				j++;
			if (j < o->nlines &&
			    o->lines[j].line == q->lines[i].line)
				o->lines[j].refunded += r->line_qty[i];
		}
	if (strcmp(o->state, "cancelled"))
		copy(o->state, sizeof(o->state),
		     closed ? "refunded" : "partially_refunded");
}

/* ------------------------------------------------------------ one refund */

/* A refund id already recorded: the same request prints the stored row,
 * another is a conflict. Returns 0 with *found set, or an exit status. */
static int stored_refund(struct ctx *c, const struct dg_order *o,
			 const struct request *q, const char *request,
			 struct row *row, bool *found)
{
	sqlite3_stmt *st = c->get_refund;
	int rc, ret = 0;

	*found = false;
	rc = dg_db_bind_text(st, 1, q->refund_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		done(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		done(st);
		return dg_db_fail(c->db, rc, "cannot read refunds");
	}
	*found = true;
	{
		int64_t id = sqlite3_column_int64(st, 0);
		const char *oid = col_text(st, 1), *req = col_text(st, 2);
		const char *ccy = col_text(st, 4), *cc = col_text(st, 6);
		int se = ccy ? dg_currency_exponent(ccy) : -1;
		int ce = cc ? dg_currency_exponent(cc) : -1;
		bool fallback;

		if (!oid || !req || se < 0 || ce < 0 || !col_text(st, 7) ||
		    !col_text(st, 11)) {
			done(st);
			return corrupt(q->order_id, "refund");
		}
		if (strcmp(oid, q->order_id) || strcmp(req, request)) {
			char *detail;

			dg_error("%srefund %s is already recorded for order "
				 "%s as %s: nothing changed",
				 q->where, dg_quoted(q->refund_id),
				 dg_quoted(oid), dg_quoted(req));
			detail = dg_xasprintf("refund '%s' asked again for "
					      "order '%s' as '%s' was refused: "
					      "it is recorded for order '%s' "
					      "as '%s'",
					      q->refund_id, q->order_id,
					      request, oid, req);
			done(st);
			ret = c->opt->record
				      ? dg_db_event(c->db, "refund_conflict",
						    q->refund_id, detail)
				      : 0;
			free(detail);
			return ret ? ret : DG_EXIT_DATAERR;
		}
		memset(row, 0, sizeof(*row));
		copy(row->order_id, sizeof(row->order_id), oid);
		copy(row->refund_id, sizeof(row->refund_id), q->refund_id);
		dg_amount_format(sqlite3_column_int64(st, 3), se,
				 row->refund_amount);
		copy(row->currency, sizeof(row->currency), ccy);
		dg_amount_format(sqlite3_column_int64(st, 5), ce,
				 row->charge_refund);
		copy(row->charge_currency, sizeof(row->charge_currency), cc);
		copy(row->pinned_rate, sizeof(row->pinned_rate),
		     col_text(st, 7));
		copy(row->live_rate, sizeof(row->live_rate), col_text(st, 8));
		if (sqlite3_column_type(st, 9) != SQLITE_NULL)
			dg_amount_format(sqlite3_column_int64(st, 9), ce,
					 row->at_live);
		if (sqlite3_column_type(st, 10) != SQLITE_NULL)
			dg_amount_format(sqlite3_column_int64(st, 10), ce,
					 row->fx_difference);
		fallback = !strcmp(col_text(st, 11), "fallback");
		row->source = fallback ? "fallback" : "pinned";
		row->status = "existing";
		done(st);

		st = c->get_total_at;
		rc = dg_db_bind_text(st, 1, q->order_id);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 2, id);
		if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t total = sqlite3_column_int64(st, 0);

			dg_amount_format(total, ce, row->refunded_total);
			if (!fallback && o->pinned)
				dg_amount_format(o->charge_total - total, ce,
						 row->remaining);
			rc = SQLITE_DONE;
		}
		done(st);
		if (rc != SQLITE_DONE)
			return dg_db_fail(c->db, rc, "cannot read refunds");
	}
	return 0;
}

static int check_given(const struct request *q, const char *field,
		       const char *given, const char *stored)
{
	if (given[0] && strcmp(given, stored))
		return field_error(q->where, field,
				   "%s is not the %s of order %s (%s)",
				   dg_quoted(given), field,
				   dg_quoted(q->order_id), stored);
	return 0;
}

/*
 * One refund inside the open transaction: fills row and returns 0, or
 * an exit status with the message printed.
 */
static int refund_one(struct ctx *c, const struct request *q, struct row *row)
{
	const struct options *opt = c->opt;
	struct dg_order *o;
	struct result r;
	size_t reqlen = 64 + q->nlines * 24;
	char *request = NULL;
	int64_t amount = 0, given_amount = 0;
	bool found, closed, recorded;
	int ret;
	enum dg_merr e;

	if ((ret = load_order(c, q->order_id,
			      q->refund_id[0] ? q->refund_id : NULL, &o,
			      &recorded)))
		return ret;
	if (q->rec_known)
		recorded = q->rec;
	if (!o->stored || !o->pinned) {
		if (!opt->allow_fallback) {
			dg_error("%sorder %s has no pinned rate (use "
				 "--allow-fallback to refund at the latest "
				 "rate)",
				 q->where, dg_quoted(q->order_id));
			return DG_EXIT_UNAVAILABLE;
		}
		if (!o->stored) {
			if (!q->order_amount || !q->currency[0] ||
			    !q->charge[0]) {
				dg_error("%sorder %s is not in the database: "
					 "a fallback refund needs its "
					 "order_amount, currency and "
					 "charge_currency",
					 q->where, dg_quoted(q->order_id));
				return DG_EXIT_DATAERR;
			}
			memcpy(o->currency, q->currency, 4);
			memcpy(o->charge, q->charge, 4);
			o->sexp = dg_currency_exponent(o->currency);
			o->cexp = dg_currency_exponent(o->charge);
			if ((ret = parse_amount(q->where, "order_amount",
						q->order_amount, o->currency,
						&o->amount)))
				return ret;
		}
	}
	if ((ret = check_given(q, "currency", q->currency, o->currency)) ||
	    (ret = check_given(q, "charge_currency", q->charge, o->charge)))
		return ret;
	if (q->order_amount && o->stored) {
		char a[DG_AMOUNT_SIZE];

		if ((ret = parse_amount(q->where, "order_amount",
					q->order_amount, o->currency,
					&given_amount)))
			return ret;
		if (given_amount != o->amount) {
			dg_amount_format(o->amount, o->sexp, a);
			return field_error(q->where, "order_amount",
					   "%s is not the amount of order "
					   "%s (%s %s)",
					   dg_quoted(q->order_amount),
					   dg_quoted(q->order_id), a,
					   o->currency);
		}
	}
	if (q->kind == K_AMOUNT &&
	    (ret = parse_amount(q->where, "amount", q->amount, o->currency,
				&amount)))
		return ret;
	if (q->kind == K_CHARGE &&
	    (ret = parse_amount(q->where, "charge_amount", q->amount, o->charge,
				&amount)))
		return ret;
	/* the request's text, which tells a repeated refund from another:
	 * needed to store a refund, or to compare it with a stored one */
	if ((q->refund_id[0] && recorded) || opt->record) {
		if (reqlen > c->request_cap) {
			c->request = dg_xrealloc(c->request, reqlen);
			c->request_cap = reqlen;
		}
		request = c->request;
		canonical(q, amount,
			  q->kind == K_AMOUNT ? o->currency : o->charge,
			  request, reqlen);
	}

	if (q->refund_id[0] && recorded) {
		ret = stored_refund(c, o, q, request, row, &found);
		if (ret || found) {
			if (found && !ret)
				dg_info("%srefund %s is already recorded",
					q->where, dg_quoted(q->refund_id));
			return ret;
		}
	}

	memset(&r, 0, sizeof(r));
	line_room(c, q->nlines + 1);
	r.line_charge = c->line_charge;
	r.line_qty = c->line_qty;
	memset(r.line_charge, 0, (q->nlines + 1) * sizeof(*r.line_charge));
	memset(r.line_qty, 0, (q->nlines + 1) * sizeof(*r.line_qty));
	if (o->pinned) {
		ret = compute_pinned(o, q, amount, &r);
		if (!ret) {
			ret = o->provider[0] ? find_live(c, o, o->provider, &r)
					     : 0;
			if (!o->provider[0]) { /* identity: same currency */
				r.has_live = true;
				r.live.method = DG_FX_IDENTITY;
				copy(r.live_rate, sizeof(r.live_rate), "1");
			}
			if (ret == DG_EXIT_UNAVAILABLE)
				ret = 0; /* the live columns stay empty */
		}
		if (!ret && r.has_live &&
		    (e = dg_fx_convert(&r.live, r.seller, o->sexp, o->cexp,
				       o->rounding, &r.at_live)))
			ret = convert_fail(q, e);
	} else {
		ret = compute_fallback(c, o, q, amount, &r);
		if (!ret) {
			char day[DG_DATE_SIZE];

			r.at_live = r.charge;
			dg_format_date(r.live.as_of, day);
			dg_error("%sWARNING: order %s has no pinned rate: "
				 "refunded at the latest %s rate of %s (%s/%s "
				 "%s), not the rate the customer paid",
				 q->where, dg_quoted(q->order_id),
				 dg_escaped(r.provider, DG_QUOTE_MAX), day,
				 o->currency, o->charge, r.live_rate);
		}
	}
	if (ret)
		goto out;

	memset(row, 0, sizeof(*row));
	copy(row->order_id, sizeof(row->order_id), q->order_id);
	copy(row->refund_id, sizeof(row->refund_id), q->refund_id);
	dg_amount_format(r.seller, o->sexp, row->refund_amount);
	memcpy(row->currency, o->currency, 4);
	dg_amount_format(r.charge, o->cexp, row->charge_refund);
	memcpy(row->charge_currency, o->charge, 4);
	copy(row->pinned_rate, sizeof(row->pinned_rate), r.rate_used);
	if (r.has_live) {
		copy(row->live_rate, sizeof(row->live_rate), r.live_rate);
		dg_amount_format(r.at_live, o->cexp, row->at_live);
		dg_amount_format(r.charge - r.at_live, o->cexp,
				 row->fx_difference);
	}
	dg_amount_format(o->rc + r.charge, o->cexp, row->refunded_total);
	if (o->pinned) {
		closed = o->charge_total - o->rc - r.charge == 0;
		dg_amount_format(o->charge_total - o->rc - r.charge, o->cexp,
				 row->remaining);
	} else {
		closed = o->amount - o->rs - r.seller == 0;
		int64_t left;

		if ((e = dg_fx_convert(&r.live, o->amount - o->rs - r.seller,
				       o->sexp, o->cexp, r.rounding, &left))) {
			ret = convert_fail(q, e);
			goto out;
		}
		dg_amount_format(left, o->cexp, row->remaining);
	}
	row->source = r.fallback ? "fallback" : "pinned";
	row->status = "computed";
	if (opt->record) {
		if ((ret = store(c, o, q, request, &r, row, closed)))
			goto out;
		remember(c, o, q, &r, closed);
		row->status = "recorded";
	}
out:
	return ret;
}

/* ------------------------------------------------------------ batches */

struct batch {
	struct request *reqs;
	struct row *rows;
	bool *has_row;
	size_t n, cap;
	char *name, *escaped; /* the file being read, as messages show it */
	size_t escaped_len;
};

static int time_now(struct ctx *c)
{
	int ret;

	if ((ret = dg_now(&c->now)))
		return ret;
	dg_format_rfc3339(c->now, c->now_text);
	c->today = (int32_t)((c->now - ((c->now % 86400) + 86400) % 86400) /
			     86400);
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids of the batch's requests (order ids not in the cache, or
 * refund ids), sorted and each once, as a JSON array in c->ids; ids
 * hold no quote or control character (dg_valid_id), a backslash is
 * escaped. false when there are none. */
static bool ids_json(struct ctx *c, const struct batch *b, bool refund)
{
	size_t i, k = 0, n;

	if (!c->idv)
		c->idv = dg_xcalloc(b->cap, sizeof(*c->idv));
	for (i = 0; i < b->n; i++) {
		const struct request *q = &b->reqs[i];
		const char *id = refund ? q->refund_id : q->order_id;

		if (!q->status && id[0] &&
		    (refund || !dg_order_cache_get(&c->cache, id)))
			c->idv[k++] = id;
	}
	if (!k)
		return false;
	/* a batch is often in order already (a file sorted by id) */
	for (i = 1; i < k; i++)
		if (strcmp(c->idv[i - 1], c->idv[i]) > 0) {
			qsort(c->idv, k, sizeof(*c->idv), cmp_id);
			break;
		}
	if (2 * k * (MAX_ID + 3) + 3 > c->ids_cap) {
		c->ids_cap = 2 * k * (MAX_ID + 3) + 3;
		c->ids = dg_xrealloc(c->ids, c->ids_cap);
	}
	n = 0;
	c->ids[n++] = '[';
	for (i = 0; i < k; i++) {
		const char *id = c->idv[i];

		if (i && !strcmp(id, c->idv[i - 1]))
			continue;
		if (n > 1)
			c->ids[n++] = ',';
		c->ids[n++] = '"';
		for (; *id; id++) {
			if (*id == '\\')
				c->ids[n++] = '\\';
			c->ids[n++] = *id;
		}
		c->ids[n++] = '"';
	}
	c->ids[n++] = ']';
	c->ids[n] = '\0';
	return true;
}

static int cmp_oline(const void *a, const void *b)
{
	const struct dg_oline *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

/* st with the batch's ids (c->ids) bound. */
static int pf_start(struct ctx *c, sqlite3_stmt *st)
{
	return sqlite3_bind_text(st, 1, c->ids, -1, SQLITE_STATIC);
}

/*
 * The orders of a batch not yet in the cache read at its transaction's
 * start, in the index's order, with their recorded refunds (an order
 * the cache holds, even one to be read again, is left to load_order);
 * and for each request whether its
 * refund id may be recorded when its turn comes: recorded now, or named
 * by an earlier request of the batch (rec). What cannot be read here
 * (an order not stored, or one that does not read back) is left to
 * load_order, which says why in the request's turn; a failure leaves
 * the cache empty and every request to load_order. Nothing is printed.
 */
static void prefetch(struct ctx *c, struct batch *b)
{
	struct dg_cached_order *e;
	sqlite3_stmt *st;
	size_t i, mask, first = c->cache.norders; /* the first read here */
	bool reading =
		false; /* c->cache.orders[c->cache.norders] holds an order */
	int rc;

	if (b->n < 2 || !c->pf_orders)
		return;
	if (!ids_json(c, b, false))
		goto rids;
	/* the orders */
	st = c->pf_orders;
	rc = pf_start(c, st);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = col_text(st, 15);

		rc = SQLITE_OK;
		if (!id)
			continue;
		if (!reading ||
		    strcmp(id, c->cache.orders[c->cache.norders].id)) {
			struct dg_cached_order *seen;

			if (reading && c->cache.orders[c->cache.norders].valid)
				dg_order_cache_add(&c->cache);
			/* may move c->cache.orders */
			e = dg_order_cache_room(&c->cache);
			copy(e->id, sizeof(e->id), id);
			/* rows of one order apart: read it again */
			e->valid = !(seen = dg_order_cache_get(&c->cache, id));
			if (seen)
				seen->valid = false;
			e->o.stored = e->o.pinned = false;
			e->o.nlines = 0;
			e->o.rc = e->o.rs = 0;
			reading = true;
		}
		e = &c->cache.orders[c->cache.norders];
		if (e->valid && order_row(st, &e->o))
			e->valid = false; /* load_order says why */
	}
	if (reading && c->cache.orders[c->cache.norders].valid &&
	    rc == SQLITE_DONE)
		dg_order_cache_add(&c->cache);
	done(st);
	if (rc != SQLITE_DONE)
		goto fail;

	/* their refunds: totals, then the units of each line */
	st = c->pf_totals;
	rc = pf_start(c, st);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		if (!(e = dg_order_cache_get(&c->cache, col_text(st, 0))) ||
		    e < c->cache.orders + first)
			continue;
		if (__builtin_add_overflow(e->o.rc, sqlite3_column_int64(st, 1),
					   &e->o.rc) ||
		    __builtin_add_overflow(e->o.rs, sqlite3_column_int64(st, 2),
					   &e->o.rs))
			e->valid = false; /* load_order says why */
	}
	done(st);
	if (rc != SQLITE_DONE)
		goto fail;
	st = c->pf_units;
	rc = pf_start(c, st);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t line = sqlite3_column_int64(st, 1);

		rc = SQLITE_OK;
		if (!(e = dg_order_cache_get(&c->cache, col_text(st, 0))) ||
		    e < c->cache.orders + first)
			continue;
		for (i = 0; i < e->o.nlines; i++)
			if (e->o.lines[i].line == line &&
			    __builtin_add_overflow(e->o.lines[i].refunded,
						   sqlite3_column_int64(st, 2),
						   &e->o.lines[i].refunded))
				e->valid = false; /* load_order says why */
	}
	done(st);
	if (rc != SQLITE_DONE)
		goto fail;
	for (i = first; i < c->cache.norders; i++) {
		struct dg_order *o = &c->cache.orders[i].o;
		size_t j;

		/* the lines in their order, as get_order reads them */
		for (j = 1; j < o->nlines; j++)
			if (o->lines[j].line < o->lines[j - 1].line) {
				qsort(o->lines, o->nlines, sizeof(*o->lines),
				      cmp_oline);
				break;
			}
		if (o->pinned && o->nlines && shares(c, o))
			c->cache.orders[i].valid = false;
	}

	/* the refund ids: the first request naming one, whether it is
	 * recorded; a later one, that it may be */
rids:
	for (mask = 64; mask < 2 * b->n; mask *= 2)
		;
	if (mask > c->rid_cap) {
		free(c->rid_slots);
		c->rid_slots = dg_xcalloc(mask, sizeof(*c->rid_slots));
		c->rid_cap = mask;
	} else {
		memset(c->rid_slots, 0, mask * sizeof(*c->rid_slots));
	}
	mask--;
	for (i = 0; i < b->n; i++) {
		struct request *q = &b->reqs[i];
		size_t k;

		q->rec_known = false;
		if (q->status)
			continue;
		q->rec_known = true;
		q->rec = false;
		if (!q->refund_id[0])
			continue;
		for (k = dg_id_hash(q->refund_id) & mask; c->rid_slots[k];
		     k = (k + 1) & mask)
			if (!strcmp(b->reqs[c->rid_slots[k] - 1].refund_id,
				    q->refund_id))
				break;
		if (c->rid_slots[k])
			q->rec = true;
		else
			c->rid_slots[k] = (uint32_t)i + 1;
	}
	if (!ids_json(c, b, true))
		return;
	st = c->pf_rids;
	rc = pf_start(c, st);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = col_text(st, 0);
		size_t k;

		rc = SQLITE_OK;
		if (!id)
			continue;
		for (k = dg_id_hash(id) & mask; c->rid_slots[k];
		     k = (k + 1) & mask)
			if (!strcmp(b->reqs[c->rid_slots[k] - 1].refund_id,
				    id)) {
				b->reqs[c->rid_slots[k] - 1].rec = true;
				break;
			}
	}
	done(st);
	if (rc == SQLITE_DONE)
		return;
fail:
	forget_all(c);
	for (i = 0; i < b->n; i++)
		b->reqs[i].rec_known = false;
}

static int run_batch(struct ctx *c, struct batch *b, struct dg_out *out,
		     bool *stop)
{
	const struct options *opt = c->opt;
	size_t i, k;
	int worst = 0, ret, r;

	/* without --record: one read transaction for the batch */
	ret = opt->record ? dg_db_begin(c->db) : dg_db_begin_read(c->db);
	if (!ret && (ret = keep_or_forget(c)))
		dg_db_rollback(c->db);
	if (ret) {
		*stop = true;
		c->failed += b->n;
		return ret;
	}
	prefetch(c, b);
	for (i = 0; i < b->n; i++) {
		b->has_row[i] = false;
		/* refused while read (an input error too): its message in
		 * its turn, the batch goes on */
		r = b->reqs[i].status;
		if (r && b->reqs[i].error)
			dg_error("%s", b->reqs[i].error);
		if (!r) {
			r = refund_one(c, &b->reqs[i], &b->rows[i]);
			b->has_row[i] = r == 0;
		}
		if (!b->reqs[i].status &&
		    (r == DG_EXIT_IOERR || r == DG_EXIT_TEMPFAIL ||
		     r == DG_EXIT_SOFTWARE)) {
			dg_db_rollback(c->db);
			forget_all(c);
			*stop = true;
			c->failed += b->n;
			return dg_exit_worst(worst, r);
		}
		worst = dg_exit_worst(worst, r);
		if (r && opt->strict) {
			*stop = true;
			i++;
			break;
		}
	}
	ret = dg_db_commit(c->db);
	c->cur = NULL;
	if (ret) {
		forget_all(c);
		*stop = true;
		c->failed += b->n;
		return dg_exit_worst(worst, ret);
	}
	for (k = 0; k < i; k++) {
		if (!b->has_row[k]) {
			c->failed++;
			continue;
		}
		if (!strcmp(b->rows[k].status, "existing"))
			c->existing++;
		else if (!strcmp(b->rows[k].status, "recorded"))
			c->recorded++;
		else
			c->computed++;
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
		request_free(&b->reqs[i]);
	b->n = 0;
}

static const char *get(struct dg_input *in, struct request *q, const char *name)
{
	bool bad = false;
	const char *v = dg_input_get(in, name, &bad);

	if (bad && !q->status && strcmp(name, "lines"))
		q->status = field_error(q->where, name,
					"not a string or a whole number");
	return v;
}

static int truth(struct request *q, const char *v, bool *out)
{
	static const char *const yes[] = {"true", "1", "yes"};
	static const char *const no[] = {"false", "0", "no", ""};
	size_t i;

	*out = false;
	if (!v)
		return 0;
	for (i = 0; i < 3; i++)
		if (!strcmp(v, yes[i])) {
			*out = true;
			return 0;
		}
	for (i = 0; i < 4; i++)
		if (!strcmp(v, no[i]))
			return 0;
	return field_error(q->where, "all", "%s is not true or false",
			   dg_quoted(v));
}

/* Validate what can be checked before the order is read. */
static int build_request(struct request *q, const char *id,
			 const char *refund_id, bool all, const char *lines,
			 json_t *jlines, const char *amount,
			 const char *charge_amount, const char *order_amount,
			 const char *currency, const char *charge,
			 bool need_refund_id)
{
	int kinds = all + (lines || jlines) + (amount != NULL) +
		    (charge_amount != NULL);
	int ret;

	if (!id)
		return field_error(q->where, "order_id", "missing");
	if (!dg_valid_id(id))
		return field_error(q->where, "order_id",
				   "%s is not an order id (1 to 64 printable "
				   "characters, no spaces, commas or quotes)",
				   dg_quoted(id));
	memcpy(q->order_id, id, strlen(id) + 1);
	if (refund_id) {
		if (!dg_valid_id(refund_id))
			return field_error(q->where, "refund_id",
					   "%s is not a refund id (1 to 64 "
					   "printable characters, no spaces, "
					   "commas or quotes)",
					   dg_quoted(refund_id));
		memcpy(q->refund_id, refund_id, strlen(refund_id) + 1);
	} else if (need_refund_id) {
		return field_error(q->where, "refund_id",
				   "missing: --record needs an id for every "
				   "refund");
	}
	if (kinds == 0) {
		dg_report("%sorder %s: say what to refund: all, lines, amount "
			  "or charge_amount",
			  q->where, dg_quoted(id));
		return DG_EXIT_DATAERR;
	}
	if (kinds > 1) {
		dg_report("%sorder %s: give only one of all, lines, amount "
			  "and charge_amount",
			  q->where, dg_quoted(id));
		return DG_EXIT_DATAERR;
	}
	if ((ret = set_currency(q, "currency", currency, q->currency)) ||
	    (ret = set_currency(q, "charge_currency", charge, q->charge)))
		return ret;
	if (order_amount)
		q->order_amount = dg_xstrdup(order_amount);
	if (all) {
		q->kind = K_ALL;
	} else if (jlines) {
		q->kind = K_LINES;
		return parse_lines_json(q, jlines);
	} else if (lines) {
		q->kind = K_LINES;
		return parse_lines_spec(q, "lines", lines);
	} else {
		q->kind = amount ? K_AMOUNT : K_CHARGE;
		q->amount = dg_xstrdup(amount ? amount : charge_amount);
	}
	return 0;
}

/* "FILE:LINE: ", the prefix of a record's messages; the file's name is
 * escaped once, not for every record. */
static char *where_of(struct batch *b, struct dg_input *in)
{
	const char *name = dg_input_name(in);
	unsigned long line = dg_input_line(in);
	char num[24], *w, *p = num + sizeof(num);
	size_t n, k;

	if (!b->name || strcmp(b->name, name)) {
		free(b->name);
		free(b->escaped);
		b->name = dg_xstrdup(name);
		b->escaped = dg_xstrdup(dg_escaped(name, DG_QUOTE_PATH_MAX));
		b->escaped_len = strlen(b->escaped);
	}
	do
		*--p = (char)('0' + line % 10);
	while ((line /= 10));
	n = b->escaped_len;
	k = (size_t)(num + sizeof(num) - p);
	w = dg_xmalloc(n + k + 4);
	memcpy(w, b->escaped, n);
	w[n] = ':';
	memcpy(w + n + 1, p, k);
	memcpy(w + n + 1 + k, ": ", 3);
	return w;
}

static void read_record(struct dg_input *in, struct batch *b,
			const struct options *opt)
{
	struct request *q = &b->reqs[b->n];
	const char *id, *rid, *all, *lines, *amount, *charge, *oamount, *ccy,
		*cc;
	json_t *jlines = NULL;
	bool is_all = false;

	memset(q, 0, sizeof(*q));
	q->where = where_of(b, in);
	dg_defer_begin();
	id = get(in, q, "order_id");
	rid = get(in, q, "refund_id");
	all = get(in, q, "all");
	lines = get(in, q, "lines");
	amount = get(in, q, "amount");
	charge = get(in, q, "charge_amount");
	oamount = get(in, q, "order_amount");
	ccy = get(in, q, "currency");
	cc = get(in, q, "charge_currency");
	if (dg_input_is_json(in)) {
		json_t *v = json_object_get(dg_input_json(in), "lines");

		if (v && json_is_array(v)) {
			jlines = v;
			lines = NULL;
		} else if (v && !json_is_null(v) && !json_is_string(v) &&
			   !q->status) {
			q->status = field_error(q->where, "lines",
						"not a string or an array");
		}
	}
	if (!q->status)
		q->status = truth(q, all, &is_all);
	if (!q->status)
		q->status =
			build_request(q, id, rid, is_all, lines, jlines, amount,
				      charge, oamount, ccy, cc, opt->record);
	q->error = dg_defer_end();
	b->n++;
}

/* The counts; a file refused as a whole is counted apart, as its
 * records were never read. */
static void summary_line(const struct ctx *c)
{
	size_t n = c->recorded + c->existing + c->computed + c->failed;
	char *files = NULL;

	if (c->files_failed)
		files = dg_xasprintf("; %zu file%s failed", c->files_failed,
				     c->files_failed == 1 ? "" : "s");
	dg_info("%zu refund%s: %zu recorded, %zu existing, %zu computed, %zu "
		"failed%s",
		n, n == 1 ? "" : "s", c->recorded, c->existing, c->computed,
		c->failed, files ? files : "");
	free(files);
}

/* The batch loop's callbacks (dg_batch_files) and what they share. */
struct runner {
	struct ctx *c;
	struct batch *b;
	struct dg_out *out;
};

static bool on_read(void *ctx, struct dg_input *in)
{
	struct runner *r = ctx;

	read_record(in, r->b, r->c->opt);
	return r->b->n == r->b->cap;
}

static int on_run(void *ctx, bool *stop)
{
	struct runner *r = ctx;
	int ret;

	if (!r->b->n)
		return 0;
	ret = run_batch(r->c, r->b, r->out, stop);
	batch_clear(r->b);
	return ret;
}

static int on_tick(void *ctx)
{
	return time_now(((struct runner *)ctx)->c);
}

static bool on_unreadable(void *ctx, int status, char *msg)
{
	struct runner *r = ctx;
	struct request *q = &r->b->reqs[r->b->n++];

	memset(q, 0, sizeof(*q));
	q->status = status ? status : DG_EXIT_DATAERR;
	q->error = msg;
	return r->b->n == r->b->cap;
}

static void on_file_failed(void *ctx, int status)
{
	((struct runner *)ctx)->c->files_failed++;
}

static int run(struct ctx *c, int nfiles, char **files)
{
	static const char *const req[] = {"order_id"};
	const struct options *opt = c->opt;
	struct batch b = {0};
	struct dg_out *out;
	bool stop = false;
	int worst = 0, ret;

	b.cap = opt->one ? 1 : (size_t)opt->batch;
	b.reqs = dg_xcalloc(b.cap, sizeof(*b.reqs));
	b.rows = dg_xcalloc(b.cap, sizeof(*b.rows));
	b.has_row = dg_xcalloc(b.cap, sizeof(*b.has_row));
	out = dg_out_new(stdout, opt->common.json, out_cols, NCOLS);

	if (opt->one) {
		struct request *q = &b.reqs[0];

		if ((ret = time_now(c))) {
			worst = ret;
			goto out;
		}

		q->where = dg_xstrdup("");
		q->status = build_request(
			q, files[0], opt->refund_id, opt->all, opt->lines, NULL,
			opt->amount, opt->charge_amount, opt->order_amount,
			opt->currency, opt->charge_currency, opt->record);
		b.n = 1;
		worst = run_batch(c, &b, out, &stop);
		batch_clear(&b);
		goto out;
	}

	{
		struct runner rn = {.c = c, .b = &b, .out = out};
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

		worst = dg_batch_files(&ops, nfiles, files, NULL);
	}
	batch_clear(&b);
	summary_line(c);
out:
	worst = dg_exit_worst(worst, dg_out_finish(out, worst));
	free(b.reqs);
	free(b.rows);
	free(b.has_row);
	free(b.name);
	free(b.escaped);
	return worst;
}

/* ------------------------------------------------------------ summary */

/*
 * The sums of a currency's refunds. Each refund is an int64 and a
 * database holds fewer than 2^63 rows, so a sum stays below 2^126 in
 * magnitude and buffer - fx_difference below 2^127: 128 bits hold every
 * figure of the report, and no sum can stop it.
 */
struct totals {
	char *ccy;
	int64_t refunds, fallback;
	__int128 refunded, fx;
};

/* pct (millionths of a percent) of refunded, rounded half-up (away
 * from zero on a tie). With refunded = hi * 10^8 + lo, hi * pct is no
 * larger than refunded, as pct is at most 100 %, and lo * pct below
 * 10^16: no intermediate is wider than the sum itself. */
static __int128 buffer_of(__int128 refunded, int64_t pct)
{
	__int128 hi = refunded / 100000000, lo = refunded % 100000000;
	__int128 x = lo * pct;
	__int128 q = hi * pct + x / 100000000, r = x % 100000000;

	if (r < 0) {
		if (-2 * r >= 100000000)
			q--;
	} else if (2 * r >= 100000000) {
		q++;
	}
	return q;
}

/* One currency's row: 0, 1 for a shortfall, or an exit status. */
static int summary_row(struct dg_out *out, const struct options *opt,
		       const struct totals *t)
{
	int exp = dg_currency_exponent(t->ccy);
	__int128 buffer, left;
	char n[24], nf[24], a[DG_TOTAL_SIZE], f[DG_TOTAL_SIZE],
		bu[DG_TOTAL_SIZE], l[DG_TOTAL_SIZE];
	const char *v[] = {t->ccy, n, nf, a, f, opt->buffer_pct, bu, l, NULL};
	int ret;

	if (exp < 0) {
		dg_error("cannot total the refunds in %s", dg_quoted(t->ccy));
		return DG_EXIT_SOFTWARE;
	}
	buffer = buffer_of(t->refunded, opt->pct);
	left = buffer - t->fx;
	dg_xsnprintf(n, sizeof(n), "%lld", (long long)t->refunds);
	dg_xsnprintf(nf, sizeof(nf), "%lld", (long long)t->fallback);
	dg_total_format(t->refunded, exp, a);
	dg_total_format(t->fx, exp, f);
	dg_total_format(buffer, exp, bu);
	dg_total_format(left, exp, l);
	v[8] = t->fx > buffer ? "shortfall" : "ok";
	if ((ret = dg_out_row(out, v)))
		return ret;
	return t->fx > buffer ? DG_EXIT_FINDING : 0;
}

/*
 * The sums are taken here, row by row, not by SQL: SQLite's sum() of
 * integers fails with "integer overflow" past 64 bits, and total() is a
 * double, which never holds money.
 */
static int run_summary(struct ctx *c)
{
	static const char sql[] =
		"SELECT charge_currency, rate_source = 'fallback', "
		"charge_refund, coalesce(fx_difference, 0) FROM refunds "
		"WHERE (?1 IS NULL OR substr(created_at, 1, 10) >= ?1) "
		"AND (?2 IS NULL OR substr(created_at, 1, 10) <= ?2) "
		"ORDER BY charge_currency";
	static const char *const cols[] = {
		"charge_currency", "refunds",	    "fallback_refunds",
		"refunded",	   "fx_difference", "buffer_pct",
		"buffer",	   "buffer_left",   "status",
	};
	const struct options *opt = c->opt;
	struct totals t = {0};
	struct dg_out *out;
	sqlite3_stmt *st = NULL;
	int rc, ret, worst = 0;

	if ((ret = dg_db_prepare(c->db, sql, &st)))
		return ret;
	out = dg_out_new(stdout, opt->common.json, cols,
			 sizeof(cols) / sizeof(cols[0]));
	/* the days of created_at, both ends inclusive, as YYYY-MM-DD (the
	 * only form dg_parse_date takes); without --from or --to the period
	 * is open on that side: every recorded refund counts, whatever the
	 * clock says */
	rc = dg_db_bind_text(st, 1, opt->from);
	if (rc == SQLITE_OK)
		rc = dg_db_bind_text(st, 2, opt->to);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ccy = col_text(st, 0);

		rc = SQLITE_OK;
		if (!ccy)
			ccy = "";
		if (!t.ccy || strcmp(t.ccy, ccy)) {
			if (t.ccy) {
				ret = summary_row(out, opt, &t);
				worst = dg_exit_worst(worst, ret);
				if (ret == DG_EXIT_IOERR)
					break;
			}
			free(t.ccy);
			t = (struct totals){.ccy = dg_xstrdup(ccy)};
		}
		t.refunds++;
		t.fallback += sqlite3_column_int(st, 1) != 0;
		t.refunded += sqlite3_column_int64(st, 2);
		t.fx += sqlite3_column_int64(st, 3);
	}
	if (rc == SQLITE_DONE && t.ccy)
		worst = dg_exit_worst(worst, summary_row(out, opt, &t));
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		worst = dg_exit_worst(
			worst, dg_db_fail(c->db, rc, "cannot read refunds"));
	free(t.ccy);
	sqlite3_finalize(st);
	return dg_exit_worst(worst, dg_out_finish(out, worst));
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct ctx c = {0};
	const char *path;
	dg_time now;
	int ret;

	dg_set_progname(argv[0]);
	parse_options(argc, argv, &o);
	/* a malformed DAIGOU_NOW is a usage error in every mode, --summary
	 * too: refused before the database is opened and anything is
	 * written */
	if ((ret = dg_now(&now)))
		return ret;
	path = dg_db_path(o.common.db_path);
	ret = o.record ? dg_db_open(path, &c.db) : dg_db_open_ro(path, &c.db);
	if (ret)
		return ret;
	c.opt = &o;
	if (o.summary) {
		ret = run_summary(&c);
	} else {
		if (!(ret = prepare_all(&c)))
			ret = run(&c, argc - optind, argv + optind);
		finalize_all(&c);
	}
	dg_db_close(c.db);
	return ret;
}
