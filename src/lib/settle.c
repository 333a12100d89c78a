/*
 * settle.c - gateway settlement files (Stripe itemized balance reports,
 * PayPal STL settlement reports, generic CSV), streamed row by row.
 *
 * A settlement file is read whole or refused: a row that is malformed or
 * a footer that disagrees with the rows above it ends the reading with
 * 65 and one message naming the file and line, so that a truncated
 * download never reads as missing payments.
 *
 * The CSV rows are settlerows.c's (libcsv, on several threads for a
 * large file); what they mean, in file order on the caller's thread, is
 * this file's.
 */
#include <string.h>

#include "daigou.h"

/* ------------------------------------------------------------- helpers */

int dg_settle_format_parse(const char *s, enum dg_settle_format *out)
{
	if (strcmp(s, "stripe") == 0)
		*out = DG_SETTLE_STRIPE;
	else if (strcmp(s, "paypal") == 0)
		*out = DG_SETTLE_PAYPAL;
	else if (strcmp(s, "generic") == 0)
		*out = DG_SETTLE_GENERIC;
	else
		return -1;
	return 0;
}

const char *dg_settle_format_name(enum dg_settle_format f)
{
	switch (f) {
	case DG_SETTLE_STRIPE:
		return "stripe";
	case DG_SETTLE_PAYPAL:
		return "paypal";
	case DG_SETTLE_GENERIC:
		return "generic";
	default:
		return "auto";
	}
}

/* The state shared by the three readers. */
struct st {
	struct dg_rows rd;
	const struct dg_settle_opts *o;
	dg_settle_cb cb;
	void *arg;
	struct dg_settle_row row;
	/* per code of three letters A-Z: its exponent + 2, 1 for a code
	 * not known, 0 not looked up yet */
	signed char exp_of[26 * 26 * 26];
	char day_text[10]; /* the last day read, and its start */
	dg_time day;
	bool day_ok;
	char pday_text[15]; /* PayPal's: the day and the offset */
	dg_time pday;
	bool pday_ok;
};

/* A currency code, any case, known to the table: upper case into out.
 * The exponent, or -1. */
static int currency_of(struct st *t, const char *s, char out[4])
{
	int i, k;

	for (i = 0; i < 3; i++) {
		char c = s[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c < 'A' || c > 'Z')
			return -1;
		out[i] = c;
	}
	if (s[3])
		return -1;
	out[3] = '\0';
	/* the same few codes row after row: each looked up once */
	k = ((out[0] - 'A') * 26 + (out[1] - 'A')) * 26 + (out[2] - 'A');
	if (!t->exp_of[k])
		t->exp_of[k] = (signed char)(dg_currency_exponent(out) + 2);
	return t->exp_of[k] - 2;
}

static const char *line_prefix_name(const struct st *t)
{
	return t->rd.name;
}

static int bad(const struct st *t, const char *what, const char *field,
	       const char *value)
{
	if (value)
		dg_error("%s:%lu: %s %s: %s", line_prefix_name(t), t->rd.line,
			 field, dg_quoted(value), what);
	else
		dg_error("%s:%lu: %s: %s", line_prefix_name(t), t->rd.line,
			 field, what);
	return DG_EXIT_DATAERR;
}

static int bad_currency(const struct st *t, const char *field, const char *v)
{
	return bad(t, *v ? "not a known ISO 4217 currency" : "empty", field,
		   *v ? v : NULL);
}

/* A major-unit decimal of a currency into minor units. */
static int amount_of(const struct st *t, const char *field, const char *v,
		     const char *cur, int exp, int64_t *out)
{
	enum dg_merr e = dg_amount_parse(v, exp, out);
	char what[96];

	if (e == DG_M_OK)
		return 0;
	if (!*v)
		return bad(t, "empty", field, NULL);
	if (e == DG_M_PRECISION)
		dg_xsnprintf(what, sizeof(what),
			     "more decimals than %s has (%d)", cur, exp);
	else
		dg_xsnprintf(what, sizeof(what), "not an amount of %s (%s)",
			     cur, dg_merr_str(e));
	return bad(t, what, field, v);
}

/* "YYYY-MM-DD HH:MM:SS" (UTC), or RFC 3339. 0 or -1. The day of the
 * last row is kept: a file holds a few days, row after row. */
static int time_utc(struct st *t, const char *s, dg_time *out)
{
	char b[DG_RFC3339_SIZE];
	int hms;

	if (strlen(s) != 19 || s[10] != ' ')
		return dg_parse_rfc3339(s, out) ? -1 : 0;
	if ((hms = dg_parse_hms(s + 11)) < 0)
		return -1;
	if (!t->day_ok || memcmp(s, t->day_text, 10)) {
		memcpy(b, s, 10);
		memcpy(b + 10, "T00:00:00Z", 11);
		if (dg_parse_rfc3339(b, &t->day))
			return -1;
		memcpy(t->day_text, s, 10);
		t->day_ok = true;
	}
	*out = t->day + hms;
	return 0;
}

static int deliver(struct st *t)
{
	t->row.file = t->rd.name;
	t->row.line = t->rd.line;
	return t->cb(t->arg, &t->row);
}

/* Header columns: index by name, -1 when absent; a name given twice is
 * refused when it is one the reader uses. */
static int header_col(const struct st *t, const char *name, int *col)
{
	size_t i;

	*col = -1;
	for (i = 0; i < t->rd.n; i++) {
		if (strcmp(t->rd.f[i], name))
			continue;
		if (*col >= 0) {
			dg_error("%s:%lu: column %s twice in the header",
				 t->rd.name, t->rd.line, dg_quoted(name));
			return DG_EXIT_DATAERR;
		}
		*col = (int)i;
	}
	return 0;
}

/* A body row's width against the header's: fewer fields (a cut line) or
 * more that are not empty is bad. */
static int check_width(const struct st *t, size_t ncols)
{
	size_t i;

	if (t->rd.n < ncols) {
		dg_error("%s:%lu: %zu fields but the header has %zu (a cut "
			 "line?)",
			 t->rd.name, t->rd.line, t->rd.n, ncols);
		return DG_EXIT_DATAERR;
	}
	for (i = ncols; i < t->rd.n; i++) {
		if (t->rd.len[i]) {
			dg_error("%s:%lu: %zu fields but the header has %zu",
				 t->rd.name, t->rd.line, t->rd.n, ncols);
			return DG_EXIT_DATAERR;
		}
	}
	return 0;
}

#define FIELD(t, c) ((c) >= 0 ? (const char *)(t)->rd.f[(c)] : "")

/* -------------------------------------------------------------- Stripe */

enum {
	S_BTX,
	S_CREATED_UTC,
	S_CREATED,
	S_CURRENCY,
	S_GROSS,
	S_FEE,
	S_NET,
	S_CATEGORY,
	S_SOURCE,
	S_CHARGE,
	S_CF_AMOUNT,
	S_CF_CURRENCY,
	S_ORDER,
	S_N
};
static const char *const stripe_cols[S_N] = {
	"balance_transaction_id",
	"created_utc",
	"created",
	"currency",
	"gross",
	"fee",
	"net",
	"reporting_category",
	"source_id",
	"charge_id",
	"customer_facing_amount",
	"customer_facing_currency",
	"payment_metadata[order_id]",
};

static int stripe_row(struct st *t, const int *c, size_t ncols)
{
	struct dg_settle_row *w = &t->row;
	const char *cat, *v;
	int exp, rc;
	int64_t net;

	if ((rc = check_width(t, ncols)))
		return rc;
	v = FIELD(t, c[S_CURRENCY]);
	if ((exp = currency_of(t, v, w->currency)) < 0)
		return bad_currency(t, "currency", v);
	if ((rc = amount_of(t, "gross", FIELD(t, c[S_GROSS]), w->currency, exp,
			    &w->gross)) ||
	    (rc = amount_of(t, "fee", FIELD(t, c[S_FEE]), w->currency, exp,
			    &w->fee)) ||
	    (rc = amount_of(t, "net", FIELD(t, c[S_NET]), w->currency, exp,
			    &w->net)))
		return rc;
	if (dg_sub(w->gross, w->fee, &net) || net != w->net) {
		char g[DG_AMOUNT_SIZE], f[DG_AMOUNT_SIZE], n[DG_AMOUNT_SIZE];

		dg_amount_format(w->gross, exp, g);
		dg_amount_format(w->fee, exp, f);
		dg_amount_format(w->net, exp, n);
		dg_error("%s:%lu: gross - fee is not net: %s - %s != %s %s "
			 "(a damaged file?)",
			 t->rd.name, t->rd.line, g, f, n, w->currency);
		return DG_EXIT_DATAERR;
	}
	v = c[S_CREATED_UTC] >= 0 ? FIELD(t, c[S_CREATED_UTC])
				  : FIELD(t, c[S_CREATED]);
	if (time_utc(t, v, &w->at))
		return bad(t, "not a time (YYYY-MM-DD HH:MM:SS)",
			   c[S_CREATED_UTC] >= 0 ? "created_utc" : "created",
			   v);
	cat = FIELD(t, c[S_CATEGORY]);
	if (!*cat)
		return bad(t, "empty", "reporting_category", NULL);
	w->category = cat;
	w->txn_id = FIELD(t, c[S_SOURCE]);
	w->ref_txn_id = "";
	w->order_id = FIELD(t, c[S_ORDER]);
	if (!strcmp(cat, "charge")) {
		w->kind = DG_SK_CHARGE;
		if (*FIELD(t, c[S_CHARGE]))
			w->txn_id = FIELD(t, c[S_CHARGE]);
		if (!*w->txn_id)
			return bad(t, "a charge without charge_id or source_id",
				   "source_id", NULL);
	} else if (!strcmp(cat, "refund")) {
		w->kind = DG_SK_REFUND;
		w->ref_txn_id = FIELD(t, c[S_CHARGE]);
		if (!*w->txn_id)
			return bad(t, "a refund without its id", "source_id",
				   NULL);
	} else if (!strcmp(cat, "dispute")) {
		w->kind = DG_SK_REVERSAL;
		w->ref_txn_id = FIELD(t, c[S_CHARGE]);
	} else {
		w->kind = DG_SK_OTHER;
	}
	w->cf_amount = 0;
	w->cf_currency[0] = '\0';
	v = FIELD(t, c[S_CF_CURRENCY]);
	if (*v) {
		char cur[4];
		int cexp = currency_of(t, v, cur);

		if (cexp < 0)
			return bad_currency(t, "customer_facing_currency", v);
		if (strcmp(cur, w->currency)) {
			int64_t a;

			if ((rc = amount_of(t, "customer_facing_amount",
					    FIELD(t, c[S_CF_AMOUNT]), cur, cexp,
					    &a)))
				return rc;
			if (a == INT64_MIN)
				return bad(t, "too large",
					   "customer_facing_amount",
					   FIELD(t, c[S_CF_AMOUNT]));
			if (a < 0)
				a = -a; /* the sign is gross's */
			w->cf_amount = w->gross < 0 ? -a : a;
			memcpy(w->cf_currency, cur, 4);
		}
	}
	return deliver(t);
}

static int read_stripe(struct st *t)
{
	int c[S_N], rc, i;
	size_t ncols = t->rd.n;

	for (i = 0; i < S_N; i++)
		if ((rc = header_col(t, stripe_cols[i], &c[i])))
			return rc;
	for (i = 0; i <= S_CATEGORY; i++) {
		if (c[i] >= 0 || i == S_CREATED_UTC ||
		    (i == S_CREATED && c[S_CREATED_UTC] >= 0))
			continue;
		if (i == S_CREATED) {
			dg_error("%s:%lu: no column 'created_utc' or 'created' "
				 "in the header",
				 t->rd.name, t->rd.line);
			return DG_EXIT_DATAERR;
		}
		dg_error("%s:%lu: no column %s in the header", t->rd.name,
			 t->rd.line, dg_quoted(stripe_cols[i]));
		return DG_EXIT_DATAERR;
	}
	if (c[S_SOURCE] < 0) {
		dg_error("%s:%lu: no column 'source_id' in the header",
			 t->rd.name, t->rd.line);
		return DG_EXIT_DATAERR;
	}
	while ((rc = dg_rows_next(&t->rd)) == 1)
		if ((rc = stripe_row(t, c, ncols)))
			return rc;
	return rc;
}

/* ------------------------------------------------------------- generic */

enum { G_TXN, G_AMOUNT, G_CURRENCY, G_KIND, G_ORDER, G_FEE, G_DATE, G_N };
static const char *const generic_keys[G_N] = {
	"gateway_txn_id", "amount", "currency", "kind",
	"order_id",	  "fee",    "date",
};

/* The --map text into column names (pointers into *copy, which the
 * caller frees). 0 or 64 (message printed). */
static int map_parse(const char *map, const char *cols[G_N], char **copy)
{
	char *s, *item, *eq, *next;
	int i;

	for (i = 0; i < G_N; i++)
		cols[i] = NULL;
	*copy = NULL;
	if (!map || !*map) {
		dg_error("--map is needed for a generic file: "
			 "gateway_txn_id=COL,amount=COL,currency=COL");
		return DG_EXIT_USAGE;
	}
	*copy = s = dg_xstrdup(map);
	for (item = s; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		eq = strchr(item, '=');
		if (!eq || eq == item || !eq[1]) {
			dg_error("--map: %s is not FIELD=COLUMN",
				 dg_quoted(item));
			return DG_EXIT_USAGE;
		}
		*eq = '\0';
		for (i = 0; i < G_N; i++)
			if (!strcmp(item, generic_keys[i]))
				break;
		if (i == G_N) {
			dg_error("--map: unknown field %s (gateway_txn_id, "
				 "amount, currency, kind, order_id, fee, date)",
				 dg_quoted(item));
			return DG_EXIT_USAGE;
		}
		if (cols[i]) {
			dg_error("--map: field %s given twice",
				 dg_quoted(item));
			return DG_EXIT_USAGE;
		}
		cols[i] = eq + 1;
	}
	for (i = 0; i <= G_CURRENCY; i++) {
		if (!cols[i]) {
			dg_error("--map: no column for %s", generic_keys[i]);
			return DG_EXIT_USAGE;
		}
	}
	return 0;
}

int dg_settle_map_check(const char *map)
{
	const char *cols[G_N];
	char *copy;
	int rc = map_parse(map, cols, &copy);

	free(copy);
	return rc;
}

/* "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" (UTC) or RFC 3339. 0 or -1. */
static int generic_time(struct st *t, const char *s, dg_time *out)
{
	int32_t days;

	if (strlen(s) == 10) {
		if (dg_parse_date(s, &days))
			return -1;
		*out = (dg_time)days * 86400;
		return 0;
	}
	return time_utc(t, s, out);
}

static int generic_row(struct st *t, const int *c, size_t ncols)
{
	struct dg_settle_row *w = &t->row;
	const char *v, *kind;
	int exp, rc;
	int64_t a;

	if ((rc = check_width(t, ncols)))
		return rc;
	w->txn_id = FIELD(t, c[G_TXN]);
	if (!*w->txn_id)
		return bad(t, "empty", "gateway_txn_id", NULL);
	v = FIELD(t, c[G_CURRENCY]);
	if ((exp = currency_of(t, v, w->currency)) < 0)
		return bad_currency(t, "currency", v);
	if (t->o->minor_units)
		exp = 0;
	if ((rc = amount_of(t, "amount", FIELD(t, c[G_AMOUNT]), w->currency,
			    exp, &a)))
		return rc;
	kind = FIELD(t, c[G_KIND]);
	if (c[G_KIND] < 0)
		kind = a < 0 ? "refund" : "charge";
	if (!strcmp(kind, "charge")) {
		if (a < 0)
			return bad(t, "a charge with a negative amount",
				   "amount", FIELD(t, c[G_AMOUNT]));
		w->kind = DG_SK_CHARGE;
		w->category = "charge";
		w->gross = a;
	} else if (!strcmp(kind, "refund")) {
		w->kind = DG_SK_REFUND;
		w->category = "refund";
		w->gross = a < 0 ? a : -a;
	} else {
		return bad(t, "not 'charge' or 'refund'", "kind", kind);
	}
	w->fee = 0;
	if (c[G_FEE] >= 0 && *FIELD(t, c[G_FEE]) &&
	    (rc = amount_of(t, "fee", FIELD(t, c[G_FEE]), w->currency, exp,
			    &w->fee)))
		return rc;
	if (dg_sub(w->gross, w->fee, &w->net))
		return bad(t, "gross - fee does not fit", "fee", NULL);
	w->at = DG_SETTLE_NO_TIME;
	if (c[G_DATE] >= 0) {
		v = FIELD(t, c[G_DATE]);
		if (generic_time(t, v, &w->at))
			return bad(t, "not a date or time (RFC 3339)", "date",
				   v);
	}
	w->ref_txn_id = "";
	w->order_id = FIELD(t, c[G_ORDER]);
	w->cf_amount = 0;
	w->cf_currency[0] = '\0';
	return deliver(t);
}

static int read_generic(struct st *t)
{
	const char *names[G_N];
	char *copy;
	int c[G_N], rc, i;
	size_t ncols = t->rd.n;

	if ((rc = map_parse(t->o->map, names, &copy)))
		goto done;
	for (i = 0; i < G_N; i++) {
		c[i] = -1;
		if (!names[i])
			continue;
		if ((rc = header_col(t, names[i], &c[i])))
			goto done;
		if (c[i] < 0) {
			dg_error("%s:%lu: no column %s (mapped to %s) in the "
				 "header",
				 t->rd.name, t->rd.line, dg_quoted(names[i]),
				 generic_keys[i]);
			rc = DG_EXIT_DATAERR;
			goto done;
		}
	}
	while ((rc = dg_rows_next(&t->rd)) == 1)
		if ((rc = generic_row(t, c, ncols)))
			break;
done:
	free(copy);
	return rc;
}

/* -------------------------------------------------------------- PayPal */

enum {
	P_TXN,
	P_INVOICE,
	P_PREF,
	P_PREF_TYPE,
	P_EVENT,
	P_INITIATED,
	P_COMPLETED,
	P_DC,
	P_GROSS,
	P_CURRENCY,
	P_FEE_DC,
	P_FEE,
	P_FEE_CURRENCY,
	P_CUSTOM,
	P_REF_TXN,
	P_N
};
static const char *const paypal_cols[P_N] = {
	"Transaction ID",
	"Invoice ID",
	"PayPal Reference ID",
	"PayPal Reference ID Type",
	"Transaction Event Code",
	"Transaction Initiation Date",
	"Transaction Completion Date",
	"Transaction Debit or Credit",
	"Gross Transaction Amount",
	"Gross Transaction Currency",
	"Fee Debit or Credit",
	"Fee Amount",
	"Fee Currency",
	"Custom Field",
	"Reference Transaction ID",
};

/* Where the report is: what may come next. */
enum pp_state {
	PP_START, /* nothing yet */
	PP_HEAD,  /* RH or FH read */
	PP_SH,	  /* a section header, no CH yet */
	PP_BODY,  /* CH read: SB rows */
	PP_SF,	  /* the section's SF rows */
	PP_OUT,	  /* between sections (after SC) */
	PP_RF,	  /* the report's RF rows */
	PP_RC,	  /* RC read */
	PP_FF,	  /* the end */
};

/* Per currency: the gross credits and debits of the section and of the
 * report, in the file's hundredths. */
struct pp_cur {
	char code[4];
	int exp;
	int64_t s_cr, s_dr, r_cr, r_dr;
	bool s_rows, s_sf, r_rows, r_rf;
};

struct pp {
	enum pp_state state;
	bool must_ff;	  /* began with RH or FH */
	bool rf_seen;	  /* the report has RF rows */
	unsigned long sh; /* line of the open section's SH */
	int c[P_N];
	size_t ncols;
	struct pp_cur *cur;
	size_t ncur, curcap, last;
};

/* Column names compared without regard to case or to runs of blanks:
 * "Transaction  Debit or Credit" is the same column. */
static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool name_eq(const char *a, const char *b)
{
	bool start = true;

	for (;;) {
		bool sa = false, sb = false;

		while (*a == ' ')
			a++, sa = true;
		while (*b == ' ')
			b++, sb = true;
		if (!*a || !*b)
			return !*a && !*b;
		if (sa != sb && !start)
			return false;
		if (lower(*a) != lower(*b))
			return false;
		a++;
		b++;
		start = false;
	}
}

static struct pp_cur *pp_currency(struct pp *p, const char *code, int exp)
{
	size_t i;

	if (p->last < p->ncur && !strcmp(p->cur[p->last].code, code))
		return &p->cur[p->last];
	for (i = 0; i < p->ncur; i++)
		if (!strcmp(p->cur[i].code, code))
			return &p->cur[p->last = i];
	if (p->ncur == p->curcap) {
		p->curcap = p->curcap ? p->curcap * 2 : 8;
		p->cur = dg_xrealloc(p->cur, p->curcap * sizeof(*p->cur));
	}
	memset(&p->cur[p->ncur], 0, sizeof(*p->cur));
	memcpy(p->cur[p->ncur].code, code, 4);
	p->cur[p->ncur].exp = exp;
	return &p->cur[p->last = p->ncur++];
}

/* An unsigned count of hundredths. 0 or -1. */
static int hundredths(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (!*s)
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i == 18)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Hundredths into minor units of a currency of exponent exp. */
static int pp_minor(const struct st *t, const char *field, const char *v,
		    int64_t raw, const char *code, int exp, int64_t *out)
{
	int64_t m = 1;
	int k;
	char what[96];

	for (k = exp; k < 2; k++)
		m *= 10;
	if (exp < 2) {
		if (raw % m) {
			dg_xsnprintf(what, sizeof(what),
				     "not a whole amount of %s (hundredths "
				     "of a unit with no minor digits)",
				     code);
			return bad(t, what, field, v);
		}
		*out = raw / m;
		return 0;
	}
	for (m = 1, k = 2; k < exp; k++)
		m *= 10;
	if (raw > INT64_MAX / m)
		return bad(t, "too large", field, v);
	*out = raw * m;
	return 0;
}

/* "2026/11/26 09:14:31 -0800" into UTC. 0 or -1. The start of the last
 * day and offset read is kept, as for Stripe's times. */
static int paypal_time(struct st *t, const char *s, dg_time *out)
{
	char b[32], key[15];
	int hms;

	if (strlen(s) != 25 || s[4] != '/' || s[7] != '/' || s[10] != ' ' ||
	    s[13] != ':' || s[16] != ':' || s[19] != ' ' ||
	    (s[20] != '+' && s[20] != '-'))
		return -1;
	if ((hms = dg_parse_hms(s + 11)) < 0)
		return -1;
	memcpy(key, s, 10);
	memcpy(key + 10, s + 20, 5);
	if (!t->pday_ok || memcmp(key, t->pday_text, 15)) {
		memcpy(b, s, 10);
		b[4] = b[7] = '-';
		memcpy(b + 10, "T00:00:00", 9);
		b[19] = s[20];
		b[20] = s[21];
		b[21] = s[22];
		b[22] = ':';
		b[23] = s[23];
		b[24] = s[24];
		b[25] = '\0';
		if (dg_parse_rfc3339(b, &t->pday))
			return -1;
		memcpy(t->pday_text, key, 15);
		t->pday_ok = true;
	}
	*out = t->pday + hms;
	return 0;
}

static int pp_header(struct st *t, struct pp *p)
{
	size_t i;
	int k;

	for (k = 0; k < P_N; k++) {
		p->c[k] = -1;
		for (i = 1; i < t->rd.n; i++) {
			if (!name_eq(t->rd.f[i], paypal_cols[k]))
				continue;
			if (p->c[k] >= 0) {
				dg_error("%s:%lu: column %s twice in the CH "
					 "row",
					 t->rd.name, t->rd.line,
					 dg_quoted(paypal_cols[k]));
				return DG_EXIT_DATAERR;
			}
			p->c[k] = (int)i;
		}
	}
	for (k = 0; k <= P_CURRENCY; k++) {
		if (p->c[k] >= 0 || k == P_INVOICE || k == P_PREF ||
		    k == P_PREF_TYPE || k == P_INITIATED || k == P_COMPLETED)
			continue;
		dg_error("%s:%lu: no column %s in the CH row", t->rd.name,
			 t->rd.line, dg_quoted(paypal_cols[k]));
		return DG_EXIT_DATAERR;
	}
	if (p->c[P_INITIATED] < 0 && p->c[P_COMPLETED] < 0) {
		dg_error("%s:%lu: no column 'Transaction Completion Date' or "
			 "'Transaction Initiation Date' in the CH row",
			 t->rd.name, t->rd.line);
		return DG_EXIT_DATAERR;
	}
	p->ncols = t->rd.n;
	return 0;
}

static int pp_dc(const struct st *t, const char *field, const char *v,
		 bool *credit)
{
	if (!strcmp(v, "CR"))
		*credit = true;
	else if (!strcmp(v, "DR"))
		*credit = false;
	else
		return bad(t, "not CR or DR", field, v);
	return 0;
}

static enum dg_settle_kind pp_kind(const char *code)
{
	if (code[0] == 'T' && code[1] == '0' && code[2] == '0' &&
	    code[3] >= '0' && code[3] <= '9' && code[4] >= '0' &&
	    code[4] <= '9' && !code[5])
		return DG_SK_CHARGE;
	if (!strcmp(code, "T1107"))
		return DG_SK_REFUND;
	if (!strcmp(code, "T1106") || !strcmp(code, "T1201"))
		return DG_SK_REVERSAL;
	return DG_SK_OTHER;
}

static int pp_body(struct st *t, struct pp *p)
{
	struct dg_settle_row *w = &t->row;
	const int *c = p->c;
	const char *v, *ref;
	struct pp_cur *cu;
	int64_t raw, sum;
	bool credit;
	int exp, rc;

	if ((rc = check_width(t, p->ncols)))
		return rc;
	w->category = FIELD(t, c[P_EVENT]);
	if (!*w->category)
		return bad(t, "empty", "Transaction Event Code", NULL);
	w->kind = pp_kind(w->category);
	w->txn_id = FIELD(t, c[P_TXN]);
	if (!*w->txn_id && w->kind != DG_SK_OTHER)
		return bad(t, "empty", "Transaction ID", NULL);
	v = FIELD(t, c[P_CURRENCY]);
	if ((exp = currency_of(t, v, w->currency)) < 0)
		return bad_currency(t, "Gross Transaction Currency", v);
	if ((rc = pp_dc(t, "Transaction Debit or Credit", FIELD(t, c[P_DC]),
			&credit)))
		return rc;
	v = FIELD(t, c[P_GROSS]);
	if (hundredths(v, &raw))
		return bad(t, "not an unsigned amount in hundredths",
			   "Gross Transaction Amount", v);
	cu = pp_currency(p, w->currency, exp);
	if (dg_add(credit ? cu->s_cr : cu->s_dr, raw, &sum))
		return bad(t, "the section's total does not fit",
			   "Gross Transaction Amount", v);
	*(credit ? &cu->s_cr : &cu->s_dr) = sum;
	if (dg_add(credit ? cu->r_cr : cu->r_dr, raw, &sum))
		return bad(t, "the report's total does not fit",
			   "Gross Transaction Amount", v);
	*(credit ? &cu->r_cr : &cu->r_dr) = sum;
	cu->s_rows = cu->r_rows = true;
	if ((rc = pp_minor(t, "Gross Transaction Amount", v, raw, w->currency,
			   exp, &w->gross)))
		return rc;
	if (!credit)
		w->gross = -w->gross;
	w->fee = 0;
	v = FIELD(t, c[P_FEE]);
	if (*v) {
		char fc[4];
		const char *fv = FIELD(t, c[P_FEE_CURRENCY]);

		if (hundredths(v, &raw))
			return bad(t, "not an unsigned amount in hundredths",
				   "Fee Amount", v);
		if (*fv &&
		    (currency_of(t, fv, fc) < 0 || strcmp(fc, w->currency)))
			return bad(t, "not the gross amount's currency",
				   "Fee Currency", fv);
		if (raw && (rc = pp_dc(t, "Fee Debit or Credit",
				       FIELD(t, c[P_FEE_DC]), &credit)))
			return rc;
		if ((rc = pp_minor(t, "Fee Amount", v, raw, w->currency, exp,
				   &w->fee)))
			return rc;
		/* a fee debited is what PayPal kept: positive, as
		 * Stripe's */
		if (raw && credit)
			w->fee = -w->fee;
	}
	if (dg_sub(w->gross, w->fee, &w->net))
		return bad(t, "gross - fee does not fit", "Fee Amount", v);
	v = FIELD(t, c[P_COMPLETED]);
	if (!*v)
		v = FIELD(t, c[P_INITIATED]);
	if (paypal_time(t, v, &w->at))
		return bad(t, "not a time (YYYY/MM/DD HH:MM:SS +HHMM)",
			   *FIELD(t, c[P_COMPLETED])
				   ? "Transaction Completion Date"
				   : "Transaction Initiation Date",
			   v);
	w->order_id = FIELD(t, c[P_CUSTOM]);
	if (!*w->order_id)
		w->order_id = FIELD(t, c[P_INVOICE]);
	w->ref_txn_id = "";
	if (w->kind == DG_SK_REFUND || w->kind == DG_SK_REVERSAL) {
		ref = FIELD(t, c[P_REF_TXN]);
		if (!*ref && (c[P_PREF_TYPE] < 0 ||
			      !strcmp(FIELD(t, c[P_PREF_TYPE]), "TXN")))
			ref = FIELD(t, c[P_PREF]);
		w->ref_txn_id = *ref ? ref : w->txn_id;
	}
	w->cf_amount = 0;
	w->cf_currency[0] = '\0';
	return deliver(t);
}

/* An SF or RF row: its gross credit and debit totals against the rows. */
static int pp_footer(struct st *t, struct pp *p, bool section)
{
	const char *type = section ? "SF" : "RF";
	const char *v;
	struct pp_cur *cu;
	char code[4];
	int64_t cr, dr, want_cr, want_dr;
	int exp;

	if (t->rd.n < 4) {
		dg_error("%s:%lu: an %s row of %zu fields: the currency and "
			 "the gross credit and debit totals are needed",
			 t->rd.name, t->rd.line, type, t->rd.n);
		return DG_EXIT_DATAERR;
	}
	v = t->rd.f[1];
	if ((exp = currency_of(t, v, code)) < 0)
		return bad_currency(t, section ? "SF currency" : "RF currency",
				    v);
	if (hundredths(t->rd.f[2], &cr))
		return bad(t, "not an unsigned amount in hundredths",
			   section ? "SF total gross credit"
				   : "RF total gross credit",
			   t->rd.f[2]);
	if (hundredths(t->rd.f[3], &dr))
		return bad(t, "not an unsigned amount in hundredths",
			   section ? "SF total gross debit"
				   : "RF total gross debit",
			   t->rd.f[3]);
	cu = pp_currency(p, code, exp);
	if (section ? cu->s_sf : cu->r_rf) {
		dg_error("%s:%lu: a second %s row for %s", t->rd.name,
			 t->rd.line, type, code);
		return DG_EXIT_DATAERR;
	}
	want_cr = section ? cu->s_cr : cu->r_cr;
	want_dr = section ? cu->s_dr : cu->r_dr;
	if (cr != want_cr || dr != want_dr) {
		dg_error("%s:%lu: the %s totals for %s (gross credit %lld, "
			 "debit %lld) are not the sums of the %s rows "
			 "(credit %lld, debit %lld): a damaged or cut file?",
			 t->rd.name, t->rd.line, type, code, (long long)cr,
			 (long long)dr, section ? "section's" : "report's",
			 (long long)want_cr, (long long)want_dr);
		return DG_EXIT_DATAERR;
	}
	if (section)
		cu->s_sf = true;
	else
		cu->r_rf = true;
	return 0;
}

/* The section ends (at the current row, or at the end of the file):
 * every currency of its rows must have had its SF row. */
static int pp_close_section(struct st *t, struct pp *p, unsigned long at)
{
	size_t i;

	for (i = 0; i < p->ncur; i++) {
		struct pp_cur *cu = &p->cur[i];

		if (cu->s_rows && !cu->s_sf) {
			dg_error("%s:%lu: the section of line %lu has %s rows "
				 "but no SF row for them (a cut file?)",
				 t->rd.name, at, p->sh, cu->code);
			return DG_EXIT_DATAERR;
		}
		cu->s_cr = cu->s_dr = 0;
		cu->s_rows = cu->s_sf = false;
	}
	return 0;
}

static int pp_close_report(struct st *t, struct pp *p, unsigned long at)
{
	size_t i;

	if (!p->rf_seen)
		return 0;
	for (i = 0; i < p->ncur; i++) {
		if (p->cur[i].r_rows && !p->cur[i].r_rf) {
			dg_error("%s:%lu: the report has %s rows but no RF "
				 "row for them (a cut file?)",
				 t->rd.name, at, p->cur[i].code);
			return DG_EXIT_DATAERR;
		}
	}
	return 0;
}

static bool in_section(const struct pp *p)
{
	return p->state == PP_SH || p->state == PP_BODY || p->state == PP_SF;
}

static int pp_unexpected(const struct st *t, const char *type, const char *why)
{
	dg_error("%s:%lu: %s row %s", t->rd.name, t->rd.line, type, why);
	return DG_EXIT_DATAERR;
}

/* One row of the report, by its type. */
static int pp_row(struct st *t, struct pp *p, bool first)
{
	const char *type = t->rd.f[0];
	int rc;

	if (p->state == PP_FF)
		return pp_unexpected(t, dg_quoted(type), "after the FF row");
	if (!strcmp(type, "SB")) {
		if (p->state == PP_SF)
			return pp_unexpected(t, "an SB",
					     "after the section's SF rows");
		if (p->state != PP_BODY)
			return pp_unexpected(t, "an SB",
					     "outside a section (no CH row "
					     "before it)");
		return pp_body(t, p);
	}
	if (!strcmp(type, "RH")) {
		if (!first)
			return pp_unexpected(t, "an RH", "not first");
		p->must_ff = true;
		p->state = PP_HEAD;
		return 0;
	}
	if (!strcmp(type, "FH")) {
		if (p->state != PP_START &&
		    !(p->state == PP_HEAD && p->must_ff))
			return pp_unexpected(t, "an FH",
					     "not at the start of the file");
		p->must_ff = true;
		p->state = PP_HEAD;
		return 0;
	}
	if (!strcmp(type, "SH")) {
		if (p->state == PP_RF || p->state == PP_RC)
			return pp_unexpected(t, "an SH",
					     "after the report's footer");
		if (in_section(p) && (rc = pp_close_section(t, p, t->rd.line)))
			return rc;
		p->sh = t->rd.line;
		p->state = PP_SH;
		return 0;
	}
	if (!strcmp(type, "CH")) {
		if (p->state != PP_SH)
			return pp_unexpected(t, "a CH",
					     "not right after an SH row");
		if ((rc = pp_header(t, p)))
			return rc;
		p->state = PP_BODY;
		return 0;
	}
	if (!strcmp(type, "SF")) {
		if (!in_section(p))
			return pp_unexpected(t, "an SF", "outside a section");
		p->state = PP_SF;
		return pp_footer(t, p, true);
	}
	if (!strcmp(type, "SC")) {
		if (!in_section(p))
			return pp_unexpected(t, "an SC", "outside a section");
		if ((rc = pp_close_section(t, p, t->rd.line)))
			return rc;
		p->state = PP_OUT;
		return 0;
	}
	if (!strcmp(type, "RF")) {
		if (p->state == PP_RC)
			return pp_unexpected(t, "an RF", "after the RC row");
		if (in_section(p) && (rc = pp_close_section(t, p, t->rd.line)))
			return rc;
		p->state = PP_RF;
		p->rf_seen = true;
		return pp_footer(t, p, false);
	}
	if (!strcmp(type, "RC")) {
		if (in_section(p) && (rc = pp_close_section(t, p, t->rd.line)))
			return rc;
		if ((rc = pp_close_report(t, p, t->rd.line)))
			return rc;
		p->state = PP_RC;
		return 0;
	}
	if (!strcmp(type, "FF")) {
		if (in_section(p) && (rc = pp_close_section(t, p, t->rd.line)))
			return rc;
		if ((rc = pp_close_report(t, p, t->rd.line)))
			return rc;
		p->state = PP_FF;
		return 0;
	}
	return pp_unexpected(t, dg_quoted(type),
			     "of an unknown type (RH, FH, SH, CH, SB, SF, "
			     "SC, RF, RC or FF)");
}

static int read_paypal(struct st *t)
{
	struct pp p;
	bool first = true;
	int rc;

	memset(&p, 0, sizeof(p));
	do {
		if ((rc = pp_row(t, &p, first)))
			goto done;
		first = false;
	} while ((rc = dg_rows_next(&t->rd)) == 1);
	if (rc)
		goto done;
	if (in_section(&p) && (rc = pp_close_section(t, &p, t->rd.lineno)))
		goto done;
	if (p.must_ff && p.state != PP_FF) {
		dg_error("%s:%lu: the file ends without its FF row (a cut "
			 "download?)",
			 t->rd.name, t->rd.lineno);
		rc = DG_EXIT_DATAERR;
	}
done:
	free(p.cur);
	return rc;
}

/* ---------------------------------------------------------------- entry */

static bool has_column(const struct dg_rows *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->f[i], name))
			return true;
	return false;
}

int dg_settle_read(FILE *fp, const char *name, const struct dg_settle_opts *o,
		   dg_settle_cb cb, void *arg, enum dg_settle_format *detected)
{
	struct st t;
	enum dg_settle_format f = o->format;
	char *shown = dg_xstrdup(name && strcmp(name, "-")
					 ? dg_escaped(name, DG_QUOTE_PATH_MAX)
					 : "<stdin>");
	int rc;

	memset(&t, 0, sizeof(t));
	dg_rows_open(&t.rd, fp, shown, o->chunk, o->threads);
	t.o = o;
	t.cb = cb;
	t.arg = arg;
	if (detected)
		*detected = f;
	if (f == DG_SETTLE_GENERIC && (rc = dg_settle_map_check(o->map)))
		goto done;
	rc = dg_rows_next(&t.rd);
	if (rc == 0) {
		dg_error("%s: an empty file (a cut download?)", shown);
		rc = DG_EXIT_DATAERR;
	}
	if (rc != 1)
		goto done;
	if (f == DG_SETTLE_AUTO) {
		if (o->map)
			f = DG_SETTLE_GENERIC;
		else if (!strcmp(t.rd.f[0], "RH"))
			f = DG_SETTLE_PAYPAL;
		else if (has_column(&t.rd, "balance_transaction_id"))
			f = DG_SETTLE_STRIPE;
		else {
			dg_error(
				"%s:%lu: neither a PayPal settlement report "
				"(an RH row) nor a Stripe itemized report (a "
				"balance_transaction_id column): give --format",
				shown, t.rd.line);
			rc = DG_EXIT_DATAERR;
			goto done;
		}
	}
	if (detected)
		*detected = f;
	if (o->on_format)
		o->on_format(o->on_format_arg, f);
	if (f == DG_SETTLE_PAYPAL)
		rc = read_paypal(&t);
	else if (f == DG_SETTLE_STRIPE)
		rc = read_stripe(&t);
	else
		rc = read_generic(&t);
done:
	dg_rows_close(&t.rd);
	free(shown);
	return rc;
}
