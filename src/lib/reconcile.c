/*
 * reconcile.c - a gateway's settlement rows against the ledger.
 *
 * Both sides are held in compact arrays whose strings live in arenas:
 * the ledger behind an open-addressing index by transaction id, the
 * settlement rows in file order. Matching is one pass over the rows
 * (a lookup each) and one over the ledger for what was never settled;
 * only the differences are sorted. Every figure is an integer count of
 * minor units.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "daigou.h"

#define ARENA_CHUNK (1024 * 1024)

/* Ledger statuses: the four pay-ingest records, and disputed. */
enum lstatus {
	LS_PENDING = 0,
	LS_COMPLETED,
	LS_FAILED,
	LS_REVERSED,
	LS_DISPUTED
};
static const char *const lstatus_names[] = {"pending", "completed", "failed",
					    "reversed", "disputed"};

#define LF_MATCHED 1u /* a settled charge or refund row found it */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	char data[];
};

struct lent { /* one ledger payment */
	const char *txn, *order;
	int64_t amount;
	dg_time at;
	uint32_t hash;
	uint32_t ohash; /* the order id's */
	char currency[4];
	uint32_t row; /* the first settled row that matched it */
	uint8_t kind; /* enum dg_pay_kind */
	uint8_t status;
	uint8_t flags;
};

struct srow { /* one settlement row, what matching needs of it */
	const char *txn, *ref, *order, *category, *file;
	int64_t gross, cf;
	dg_time at;
	unsigned long line;
	unsigned file_no; /* 1 for the first file */
	char currency[4], cf_currency[4];
	uint8_t kind; /* enum dg_settle_kind */
};

struct dg_recon {
	struct arena_chunk *arena;

	struct lent *ledger;
	size_t nledger, ledger_cap;
	uint64_t *lslots; /* the id's hash << 32 | index + 1, 0 empty */
	size_t nlslots;

	struct srow *rows;
	size_t nrows, rows_cap;
	uint32_t *hv; /* per row: its lookup id's hash, when nhv == nrows */
	size_t nhv;
	const char *last_file, *last_file_copy;
	unsigned file_no;
	const char *last_cat;

	struct dg_disc *discs;
	size_t ndiscs, discs_cap;

	struct dg_recon_total *totals;
	size_t ntotals, totals_cap;
	size_t tlast; /* the total total_of found last */

	const char *gateway;
	bool all_rows;
};

/* ------------------------------------------------------------ arena */

static char *arena_alloc(struct dg_recon *r, size_t n)
{
	struct arena_chunk *c = r->arena;
	char *p;

	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		c = dg_xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = r->arena;
		r->arena = c;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

static const char *arena_str(struct dg_recon *r, const char *s)
{
	size_t n;
	char *p;

	if (!s || !*s)
		return "";
	n = strlen(s) + 1;
	p = arena_alloc(r, n);
	memcpy(p, s, n);
	return p;
}

static const char *arena_fmt(struct dg_recon *r, const char *fmt, ...)
	DG_PRINTF(2, 3);
static const char *arena_fmt(struct dg_recon *r, const char *fmt, ...)
{
	va_list ap;
	char *s;
	const char *p;

	va_start(ap, fmt);
	s = dg_xvasprintf(fmt, ap);
	va_end(ap);
	p = arena_str(r, s);
	free(s);
	return p;
}

/* ---------------------------------------------------------- names */

const char *dg_disc_kind_name(enum dg_disc_kind k)
{
	static const char *const names[] = {"amount_mismatch",
					    "currency_mismatch",
					    "duplicate_in_ledger",
					    "duplicate_in_settlement",
					    "matched",
					    "missing_in_ledger",
					    "missing_in_settlement",
					    "other",
					    "status_mismatch"};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

struct dg_recon *dg_recon_new(void)
{
	return dg_xcalloc(1, sizeof(struct dg_recon));
}

void dg_recon_free(struct dg_recon *r)
{
	struct arena_chunk *c, *next;

	if (!r)
		return;
	for (c = r->arena; c; c = next) {
		next = c->next;
		free(c);
	}
	free(r->ledger);
	free(r->lslots);
	free(r->rows);
	free(r->hv);
	free(r->discs);
	free(r->totals);
	free(r);
}

/* --------------------------------------------------------- totals */

static struct dg_recon_total *total_of(struct dg_recon *r, const char *code)
{
	size_t i;
	struct dg_recon_total *t;

	/* rows of one currency come in runs: the last one found first */
	if (r->tlast < r->ntotals &&
	    !memcmp(r->totals[r->tlast].currency, code, 4))
		return &r->totals[r->tlast];
	for (i = 0; i < r->ntotals; i++)
		if (!memcmp(r->totals[i].currency, code, 4)) {
			r->tlast = i;
			return &r->totals[i];
		}
	if (r->ntotals == r->totals_cap) {
		r->totals_cap = r->totals_cap ? 2 * r->totals_cap : 8;
		r->totals = dg_xrealloc(r->totals,
					r->totals_cap * sizeof(*r->totals));
	}
	t = &r->totals[r->ntotals++];
	memset(t, 0, sizeof(*t));
	memcpy(t->currency, code, 4);
	t->exponent = dg_currency_exponent(code);
	if (t->exponent < 0)
		t->exponent = 2;
	return t;
}

static int cmp_total(const void *a, const void *b)
{
	const struct dg_recon_total *x = a, *y = b;

	return strcmp(x->currency, y->currency);
}

size_t dg_recon_ntotals(const struct dg_recon *r)
{
	return r->ntotals;
}

const struct dg_recon_total *dg_recon_total(const struct dg_recon *r, size_t i)
{
	return i < r->ntotals ? &r->totals[i] : NULL;
}

int dg_recon_threshold_parse(const char *s, int64_t *out)
{
	int64_t v;

	if (!s || *s == '-' || dg_amount_parse(s, 4, &v) != DG_M_OK)
		return -1;
	*out = v;
	return 0;
}

bool dg_recon_over(const struct dg_recon_total *t, int64_t threshold)
{
	/* mismatched / settled > threshold / (100 * 10^4) */
	if (!t->mismatched_value)
		return false;
	if (!t->settled_value)
		return true;
	return t->mismatched_value * 1000000 >
	       (__int128)threshold * t->settled_value;
}

void dg_recon_percent(const struct dg_recon_total *t, char buf[DG_PERCENT_SIZE])
{
	__int128 h;

	if (!t->settled_value) {
		dg_xsnprintf(buf, DG_PERCENT_SIZE, "%s",
			     t->mismatched_value ? "" : "0.00");
		return;
	}
	/* hundredths of a percent, half up */
	h = (t->mismatched_value * 20000 / t->settled_value + 1) / 2;
	dg_total_format(h, 2, buf);
}

/* --------------------------------------------------------- ledger */

/*
 * An id's hash, eight bytes at a time (dg_id_hash, a byte at a time, was
 * about 3 % of a million-row run's CPU). Not keyed: ids come from the
 * gateway's file and the shop's own ledger.
 */
static uint32_t hash_id(const char *s)
{
	size_t n = strlen(s);
	uint64_t h = 0x9e3779b97f4a7c15u ^ n, w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	if (n) {
		w = 0;
		memcpy(&w, s, n);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
	}
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53u;
	h ^= h >> 32;
	return (uint32_t)h;
}

static uint64_t slot_of(uint32_t hash, size_t i)
{
	return (uint64_t)hash << 32 | (uint32_t)(i + 1);
}

/* The ledger entry the first slot of hash h names whose hash is h (the
 * entry's id is still to be compared), or NULL. */
static const struct lent *ledger_candidate(const struct dg_recon *r, uint32_t h)
{
	size_t j, mask = r->nlslots - 1;

	for (j = h & mask; r->lslots[j]; j = (j + 1) & mask)
		if (r->lslots[j] >> 32 == h)
			return &r->ledger[(uint32_t)r->lslots[j] - 1];
	return NULL;
}

static void ledger_index(struct dg_recon *r)
{
	size_t n = 16, i, j, mask;

	while (n < 2 * r->nledger)
		n *= 2;
	free(r->lslots);
	r->lslots = dg_xcalloc(n, sizeof(*r->lslots));
	r->nlslots = n;
	mask = n - 1;
	for (i = 0; i < r->nledger; i++) {
		for (j = r->ledger[i].hash & mask; r->lslots[j];
		     j = (j + 1) & mask)
			;
		r->lslots[j] = slot_of(r->ledger[i].hash, i);
	}
}

static struct lent *ledger_find(const struct dg_recon *r, const char *txn,
				uint32_t h)
{
	size_t j, mask = r->nlslots - 1;
	struct lent *e;

	if (!r->nlslots)
		return NULL;
	for (j = h & mask; r->lslots[j]; j = (j + 1) & mask) {
		if (r->lslots[j] >> 32 != h)
			continue;
		e = &r->ledger[(uint32_t)r->lslots[j] - 1];
		if (!strcmp(e->txn, txn))
			return e;
	}
	return NULL;
}

static struct lent *ledger_room(struct dg_recon *r)
{
	if (r->nledger == r->ledger_cap) {
		r->ledger_cap = r->ledger_cap ? 2 * r->ledger_cap : 1024;
		if (r->ledger_cap > UINT32_MAX - 1)
			dg_die(DG_EXIT_SOFTWARE, "ledger too large");
		r->ledger = dg_xrealloc(r->ledger,
					r->ledger_cap * sizeof(*r->ledger));
	}
	return &r->ledger[r->nledger];
}

static int status_parse(const char *s, uint8_t *out)
{
	size_t i;

	for (i = 0; i < sizeof(lstatus_names) / sizeof(lstatus_names[0]); i++)
		if (!strcmp(s, lstatus_names[i])) {
			*out = (uint8_t)i;
			return 0;
		}
	return -1;
}

/* One statement: the gateway's payments in rowid order, then the later
 * statuses of any of them (a handful, as a rule), which are applied
 * after: the newest by id wins. A correlated subquery per payment would
 * cost more than the scan, and so would a join driven by payments: the
 * CROSS JOIN keeps payment_status the outer loop. */
/* clang-format off */
static const char ledger_sql[] =
	"SELECT p.id, p.gateway_txn_id, p.kind, p.order_id, p.amount, "
	"p.currency, p.received_at, p.status, 0 FROM payments p "
	"WHERE +p.gateway = ?1 "
	"UNION ALL "
	"SELECT s.payment_id, NULL, NULL, NULL, NULL, NULL, NULL, s.status, "
	"s.id FROM payment_status s CROSS JOIN payments p "
	"ON p.id = s.payment_id "
	"WHERE p.gateway = ?1";
/* clang-format on */

struct later { /* a payment_status row */
	int64_t payment, id;
	uint8_t status;
};

static int cmp_later(const void *a, const void *b)
{
	const struct later *x = a, *y = b;

	if (x->payment != y->payment)
		return x->payment < y->payment ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The statuses onto the ledger, whose payment ids pid[] ascend. */
static void apply_later(struct dg_recon *r, const int64_t *pid, struct later *v,
			size_t n)
{
	size_t i, lo, hi, mid;

	qsort(v, n, sizeof(*v), cmp_later);
	for (i = 0; i < n; i++) {
		lo = 0;
		hi = r->nledger;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (pid[mid] < v[i].payment)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* sorted by id within a payment: the last one wins */
		if (lo < r->nledger && pid[lo] == v[i].payment)
			r->ledger[lo].status = v[i].status;
	}
}

/* The day of the last received_at read: pay-ingest writes them as
 * "YYYY-MM-DDTHH:MM:SSZ", a day's payments one after another. */
struct day_cache {
	char text[10];
	dg_time day;
	bool ok;
};

/* dg_parse_rfc3339, the day's start kept for the times like it. */
static int ledger_time(struct day_cache *dc, const char *s, dg_time *out)
{
	int hms = -1;
	bool plain = strlen(s) == 20 && s[10] == 'T' && s[19] == 'Z' &&
		     (hms = dg_parse_hms(s + 11)) >= 0;

	if (plain && dc->ok && !memcmp(s, dc->text, 10)) {
		*out = dc->day + hms;
		return 0;
	}
	if (dg_parse_rfc3339(s, out))
		return -1;
	if (plain) {
		memcpy(dc->text, s, 10);
		dc->day = *out - hms;
		dc->ok = true;
	}
	return 0;
}

static int ledger_row(struct dg_recon *r, sqlite3_stmt *st, const char *gateway,
		      struct day_cache *dc, struct lent *e)
{
	const char *txn = (const char *)sqlite3_column_text(st, 1);
	const char *kind = (const char *)sqlite3_column_text(st, 2);
	const char *ccy = (const char *)sqlite3_column_text(st, 5);
	const char *at = (const char *)sqlite3_column_text(st, 6);
	const char *status = (const char *)sqlite3_column_text(st, 7);

	if (!txn || !*txn || !kind || !ccy || strlen(ccy) != 3 || !at ||
	    !status || ledger_time(dc, at, &e->at) ||
	    status_parse(status, &e->status) ||
	    sqlite3_column_int64(st, 4) < 0) {
		dg_error("payment %s of %s in the database is not readable "
			 "as a ledger row",
			 dg_quoted(txn), dg_quoted(gateway));
		return DG_EXIT_DATAERR;
	}
	e->kind = strcmp(kind, "refund") ? DG_PAY_CHARGE : DG_PAY_REFUND;
	e->txn = arena_str(r, txn);
	e->order = arena_str(r, (const char *)sqlite3_column_text(st, 3));
	e->ohash = hash_id(e->order);
	e->amount = sqlite3_column_int64(st, 4);
	memcpy(e->currency, ccy, 4);
	e->hash = hash_id(e->txn);
	e->flags = 0;
	return 0;
}

int dg_recon_ledger_db(struct dg_recon *r, sqlite3 *db, const char *gateway)
{
	sqlite3_stmt *st = NULL;
	int64_t *pid = NULL, id;
	size_t pid_cap = 0, nlater = 0, later_cap = 0;
	struct later *later = NULL;
	struct day_cache dc = {.ok = false};
	const char *status;
	bool sorted = true;
	int rc, ret = 0;

	if ((ret = dg_db_prepare(db, ledger_sql, &st)))
		return ret;
	dg_db_bind_text(st, 1, gateway);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		if (sqlite3_column_int64(st, 8)) {
			if (nlater == later_cap) {
				later_cap = later_cap ? 2 * later_cap : 64;
				later = dg_xrealloc(later,
						    later_cap * sizeof(*later));
			}
			status = (const char *)sqlite3_column_text(st, 7);
			if (!status ||
			    status_parse(status, &later[nlater].status)) {
				dg_error("a status of payment %lld in the "
					 "database is not readable",
					 (long long)id);
				ret = DG_EXIT_DATAERR;
				goto out;
			}
			later[nlater].payment = id;
			later[nlater++].id = sqlite3_column_int64(st, 8);
			continue;
		}
		if (r->nledger == pid_cap) {
			pid_cap = pid_cap ? 2 * pid_cap : 1024;
			pid = dg_xrealloc(pid, pid_cap * sizeof(*pid));
		}
		if (r->nledger && id <= pid[r->nledger - 1])
			sorted = false;
		pid[r->nledger] = id;
		if ((ret = ledger_row(r, st, gateway, &dc, ledger_room(r))))
			goto out;
		r->nledger++;
	}
	if (rc != SQLITE_DONE) {
		ret = dg_db_fail(db, rc, "reading the ledger");
		goto out;
	}
	if (nlater && !sorted) {
		/* not in rowid order after all: say so rather than guess */
		dg_error("the ledger's payments came out of id order");
		ret = DG_EXIT_SOFTWARE;
		goto out;
	}
	if (nlater)
		apply_later(r, pid, later, nlater);
	ledger_index(r);
out:
	free(pid);
	free(later);
	sqlite3_finalize(st);
	return ret;
}

void dg_recon_take_ledger(struct dg_recon *r, struct dg_recon *from)
{
	struct arena_chunk **tail;

	free(r->ledger);
	free(r->lslots);
	r->ledger = from->ledger;
	r->nledger = from->nledger;
	r->ledger_cap = from->ledger_cap;
	r->lslots = from->lslots;
	r->nlslots = from->nlslots;
	from->ledger = NULL;
	from->lslots = NULL;
	from->nledger = from->ledger_cap = from->nlslots = 0;
	/* the strings stay where they are: from's chunks join r's */
	for (tail = &from->arena; *tail; tail = &(*tail)->next)
		;
	*tail = r->arena;
	r->arena = from->arena;
	from->arena = NULL;
}

/* One record of a ledger file into e. 0 or 65 (reported). */
static int ledger_record(struct dg_recon *r, struct dg_input *in,
			 struct lent *e)
{
	static const char
		*const f_txn = "gateway_txn_id",
		       *const f_kind = "kind", *const f_order = "order_id",
		       *const f_amount = "amount", *const f_ccy = "currency",
		       *const f_at = "created_at", *const f_status = "status";
	const char *txn, *kind, *order, *amount, *ccy, *at, *status, *field;
	const char *why = NULL;
	bool bad = false;
	int exp = 0;
	enum dg_merr m = DG_M_OK;

	txn = dg_input_get(in, f_txn, &bad);
	kind = dg_input_get(in, f_kind, &bad);
	order = dg_input_get(in, f_order, &bad);
	amount = dg_input_get(in, f_amount, &bad);
	ccy = dg_input_get(in, f_ccy, &bad);
	at = dg_input_get(in, f_at, &bad);
	status = dg_input_get(in, f_status, &bad);
	if (bad) {
		field = "record";
		why = "a field is not text";
	} else if (!txn || !dg_valid_id(txn)) {
		field = f_txn;
		why = txn ? "not a valid id" : "missing";
	} else if (!kind ||
		   (strcmp(kind, "charge") && strcmp(kind, "refund"))) {
		field = f_kind;
		why = "not charge or refund";
	} else if (order && !dg_valid_id(order)) {
		field = f_order;
		why = "not a valid id";
	} else if (!ccy || (exp = dg_currency_exponent(ccy)) < 0) {
		field = f_ccy;
		why = "not a known currency code";
	} else if (!amount || *amount == '-' ||
		   (m = dg_amount_parse(amount, exp, &e->amount)) != DG_M_OK) {
		field = f_amount;
		why = !amount	       ? "missing"
		      : *amount == '-' ? "not a positive amount"
				       : dg_merr_str(m);
	} else if (!at || dg_parse_rfc3339(at, &e->at)) {
		field = f_at;
		why = "not an RFC 3339 time";
	} else if (status && status_parse(status, &e->status)) {
		field = f_status;
		why = "not completed, reversed, disputed, pending or failed";
	}
	if (why) {
		dg_error("%s:%lu: %s: %s",
			 dg_escaped(dg_input_name(in), DG_QUOTE_PATH_MAX),
			 dg_input_line(in), field, why);
		return DG_EXIT_DATAERR;
	}
	if (!status)
		e->status = LS_COMPLETED;
	e->kind = strcmp(kind, "refund") ? DG_PAY_CHARGE : DG_PAY_REFUND;
	memcpy(e->currency, ccy, 4);
	e->hash = hash_id(txn);
	if (ledger_find(r, txn, e->hash)) {
		dg_error("%s:%lu: gateway_txn_id %s is in the ledger twice",
			 dg_escaped(dg_input_name(in), DG_QUOTE_PATH_MAX),
			 dg_input_line(in), dg_quoted(txn));
		return DG_EXIT_DATAERR;
	}
	e->txn = arena_str(r, txn);
	e->order = arena_str(r, order);
	e->ohash = hash_id(e->order);
	e->flags = 0;
	return 0;
}

int dg_recon_ledger_file(struct dg_recon *r, const char *path,
			 enum dg_input_format fmt)
{
	static const char *const required[] = {
		"gateway_txn_id", "kind", "amount", "currency", "created_at"};
	struct dg_input *in;
	int status = 0, rc, ret = 0;

	if (!(in = dg_input_open(path, fmt, &status)))
		return status;
	if ((ret = dg_input_require(in, required, 5)))
		goto out;
	/* the index grows as records come, so that a repeated id is seen */
	while ((rc = dg_input_next(in)) != 0) {
		if (rc < 0) {
			ret = dg_exit_worst(ret, dg_input_status(in));
			continue;
		}
		if (r->nledger * 2 >= r->nlslots)
			ledger_index(r);
		if ((rc = ledger_record(r, in, ledger_room(r)))) {
			ret = dg_exit_worst(ret, rc);
			continue;
		}
		r->nledger++;
		{
			size_t j, mask = r->nlslots - 1;
			uint32_t h = r->ledger[r->nledger - 1].hash;

			for (j = h & mask; r->lslots[j]; j = (j + 1) & mask)
				;
			r->lslots[j] = slot_of(h, r->nledger - 1);
		}
	}
	if (!ret)
		ret = dg_input_status(in);
out:
	dg_input_close(in);
	return ret;
}

/* ------------------------------------------------------ settlement */

int dg_recon_settle_row(void *arg, const struct dg_settle_row *row)
{
	struct dg_recon *r = arg;
	struct dg_recon_total *t;
	struct srow *s;

	if (r->nrows == r->rows_cap) {
		r->rows_cap = r->rows_cap ? 2 * r->rows_cap : 4096;
		r->rows = dg_xrealloc(r->rows, r->rows_cap * sizeof(*r->rows));
	}
	s = &r->rows[r->nrows++];
	s->kind = (uint8_t)row->kind;
	s->txn = arena_str(r, row->txn_id);
	s->ref = arena_str(r, row->ref_txn_id);
	s->order = arena_str(r, row->order_id);
	/* categories and file names repeat: one copy per run of them */
	if (!r->last_cat ||
	    strcmp(r->last_cat, row->category ? row->category : ""))
		r->last_cat = arena_str(r, row->category);
	s->category = r->last_cat;
	/* the same name as the row before when the same pointer within a
	 * file (dg_recon_next_file forgets it: a name freed and another
	 * allocated in its place) */
	if (row->file != r->last_file || !r->last_file_copy) {
		if (!r->last_file_copy ||
		    strcmp(r->last_file_copy, row->file ? row->file : ""))
			r->last_file_copy = arena_str(r, row->file);
		r->last_file = row->file;
	}
	s->file = r->last_file_copy;
	s->file_no = r->file_no;
	s->gross = row->gross;
	s->cf = row->cf_amount;
	s->at = row->at;
	s->line = row->line;
	memcpy(s->currency, row->currency, 4);
	s->currency[3] = '\0';
	memcpy(s->cf_currency, row->cf_currency, 4);
	s->cf_currency[3] = '\0';

	t = total_of(r, s->currency);
	t->rows++;
	t->gross += row->gross;
	t->fees += row->fee;
	t->net += row->net;
	return 0;
}

void dg_recon_next_file(struct dg_recon *r)
{
	r->file_no++;
	r->last_file = NULL;
}

size_t dg_recon_nrows(const struct dg_recon *r)
{
	return r->nrows;
}

/* -------------------------------------------------------- matching */

static int64_t mag(int64_t v)
{
	/* INT64_MIN has no magnitude: the readers never hand it over */
	return v < 0 ? (v == INT64_MIN ? INT64_MAX : -v) : v;
}

static struct dg_disc *disc_add(struct dg_recon *r, enum dg_disc_kind kind,
				const char *txn, const char *order)
{
	struct dg_disc *d;

	if (r->ndiscs == r->discs_cap) {
		r->discs_cap = r->discs_cap ? 2 * r->discs_cap : 64;
		r->discs =
			dg_xrealloc(r->discs, r->discs_cap * sizeof(*r->discs));
	}
	d = &r->discs[r->ndiscs];
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->txn_id = txn ? txn : "";
	d->order_id = order ? order : "";
	d->detail = "";
	d->seq = r->ndiscs++;
	return d;
}

/* The settled side of d from row s: amount and currency compared. */
static void disc_settled(struct dg_disc *d, const struct srow *s)
{
	bool cross = s->cf_currency[0] != '\0';

	d->has_settled = true;
	d->settled_amount = mag(cross ? s->cf : s->gross);
	memcpy(d->currency, cross ? s->cf_currency : s->currency, 4);
	d->has_at = s->at != DG_SETTLE_NO_TIME;
	d->at = s->at;
	d->has_delta = true;
	d->delta = d->settled_amount;
}

static void disc_ledger(struct dg_disc *d, const struct lent *e)
{
	d->has_ledger = true;
	d->ledger_amount = e->amount;
	memcpy(d->ledger_currency, e->currency, 4);
	if (!d->has_settled) {
		memcpy(d->currency, e->currency, 4);
		d->has_delta = true;
		d->delta = -e->amount;
	} else {
		d->delta = d->settled_amount - e->amount;
	}
}

static const char *kind_word(int settle_kind)
{
	return settle_kind == DG_SK_REFUND ? "refund" : "charge";
}

/* "again at FILE:LINE, first at FILE:LINE", with the files' places in
 * the list when one file was given twice. */
static const char *again(struct dg_recon *r, const char *what,
			 const struct srow *s, const struct srow *first)
{
	if (s->file_no != first->file_no && !strcmp(s->file, first->file))
		return arena_fmt(r,
				 "%s again at %s:%lu (file %u), first at "
				 "%s:%lu (file %u)",
				 what, s->file, s->line, s->file_no,
				 first->file, first->line, first->file_no);
	return arena_fmt(r, "%s again at %s:%lu, first at %s:%lu", what,
			 s->file, s->line, first->file, first->line);
}

/* The settled-side id set: the first row of each charge or refund id. */
struct idset {
	uint32_t *slots; /* row index + 1 */
	size_t n, count;
};

/* Twice the slots (at least 1,024): the set grows with the ids that the
 * ledger lacks, a handful as a rule. */
static void idset_grow(struct idset *set, const struct srow *rows)
{
	size_t n = set->n ? 2 * set->n : 1024, mask = n - 1, k, j;
	uint32_t *slots = dg_xcalloc(n, sizeof(*slots));

	for (k = 0; k < set->n; k++) {
		if (!set->slots[k])
			continue;
		for (j = hash_id(rows[set->slots[k] - 1].txn) & mask; slots[j];
		     j = (j + 1) & mask)
			;
		slots[j] = set->slots[k];
	}
	free(set->slots);
	set->slots = slots;
	set->n = n;
}

/* The first row with s's id, or -1 after adding s (index i). */
static long idset_seen(struct idset *set, const struct srow *rows, size_t i)
{
	const struct srow *s = &rows[i];
	size_t j, mask;

	if (2 * (set->count + 1) > set->n)
		idset_grow(set, rows);
	mask = set->n - 1;
	for (j = hash_id(s->txn) & mask; set->slots[j]; j = (j + 1) & mask)
		if (!strcmp(rows[set->slots[j] - 1].txn, s->txn))
			return (long)set->slots[j] - 1;
	set->slots[j] = (uint32_t)(i + 1);
	set->count++;
	return -1;
}

struct match {
	struct dg_recon *r;
	struct idset seen;
	size_t *missing; /* rows missing in the ledger, charges with an order */
	size_t nmissing, missing_cap;
	struct lent **found; /* per row: the ledger entry of its id, or NULL */
};

/* The id row s is looked up by in the ledger: "" for none. */
static const char *lookup_id(const struct srow *s)
{
	switch (s->kind) {
	case DG_SK_CHARGE:
	case DG_SK_REFUND:
		return s->txn;
	case DG_SK_REVERSAL:
		return *s->ref ? s->ref : s->txn;
	default:
		return "";
	}
}

/*
 * The ledger's index, its entries and their ids are far apart in memory
 * and each lookup would wait for them in turn: the rows ahead of row i
 * have theirs fetched early, in three steps (the index slot 16 rows
 * ahead, the entry it names 8 ahead, the entry's id 4 ahead). For
 * many rows, the rows are cut into blocks: a second thread finds the
 * entries of block after block (the ledger is only read), while the
 * caller's thread matches the rows in file order behind it, finding the
 * entries of the next unclaimed block itself whenever it catches up.
 */
enum { PF_SLOT = 16, PF_ENTRY = 8, PF_ID = 4 };

struct lookups {
	const struct dg_recon *r;
	struct lent **found;
	uint32_t *hv;
	size_t from, to; /* rows */
};

static void prefetch_ahead(const struct lookups *l, size_t i)
{
	const struct dg_recon *r = l->r;
	const struct lent *e;

	if (i + PF_SLOT < l->to)
		__builtin_prefetch(
			&r->lslots[l->hv[i + PF_SLOT] & (r->nlslots - 1)]);
	if (i + PF_ENTRY < l->to &&
	    (e = ledger_candidate(r, l->hv[i + PF_ENTRY])))
		__builtin_prefetch(e);
	if (i + PF_ID < l->to && (e = ledger_candidate(r, l->hv[i + PF_ID])))
		__builtin_prefetch(e->txn);
}

static void *lookup_rows(void *arg)
{
	struct lookups *l = arg;
	const char *id;
	size_t i;

	for (i = l->from; i < l->to; i++) {
		prefetch_ahead(l, i);
		id = lookup_id(&l->r->rows[i]);
		l->found[i] = *id ? ledger_find(l->r, id, l->hv[i]) : NULL;
	}
	return NULL;
}

void dg_recon_hash_rows(struct dg_recon *r)
{
	size_t i;

	if (r->nhv == r->nrows && r->hv)
		return;
	free(r->hv);
	r->hv = dg_xmalloc((r->nrows ? r->nrows : 1) * sizeof(*r->hv));
	for (i = 0; i < r->nrows; i++)
		r->hv[i] = hash_id(lookup_id(&r->rows[i]));
	r->nhv = r->nrows;
}

enum { LOOKUP_BLOCK = 4096 }; /* rows */

struct lookup_pipe {
	const struct dg_recon *r;
	struct lent **found;
	size_t nblocks;
	atomic_size_t next; /* the next block to claim */
	atomic_uchar *done; /* per block: its entries found */
};

/* Claims the next block and finds its entries: false when none is left. */
static bool pipe_step(struct lookup_pipe *p)
{
	size_t b = atomic_fetch_add(&p->next, 1);
	struct lookups l;

	if (b >= p->nblocks)
		return false;
	l = (struct lookups){p->r, p->found, p->r->hv, b * LOOKUP_BLOCK,
			     (b + 1) * LOOKUP_BLOCK};
	if (l.to > p->r->nrows)
		l.to = p->r->nrows;
	lookup_rows(&l);
	atomic_store_explicit(&p->done[b], 1, memory_order_release);
	return true;
}

static void *pipe_thread(void *arg)
{
	while (pipe_step(arg))
		;
	return NULL;
}

/* Block b's entries found (by either thread). */
static void pipe_wait(struct lookup_pipe *p, size_t b)
{
	while (!atomic_load_explicit(&p->done[b], memory_order_acquire))
		if (!pipe_step(p))
			sched_yield(); /* the other thread has it */
}

static void mismatched(struct dg_recon *r, const char *ccy, int64_t v)
{
	total_of(r, ccy)->mismatched_value += v;
}

static void match_payment(struct match *m, size_t i)
{
	struct dg_recon *r = m->r;
	const struct srow *s = &r->rows[i];
	bool cross = s->cf_currency[0] != '\0';
	const char *ccy = cross ? s->cf_currency : s->currency;
	int64_t amt = mag(cross ? s->cf : s->gross);
	struct lent *e;
	struct dg_disc *d;
	long first;
	bool flip;

	total_of(r, ccy)->settled_value += amt;
	/* a second row of an id: the ledger entry remembers the first; an
	 * id the ledger lacks is looked up among the others it lacked */
	e = *s->txn ? m->found[i] : NULL;
	first = e	  ? (e->flags & LF_MATCHED ? (long)e->row : -1)
		: *s->txn ? idset_seen(&m->seen, r->rows, i)
			  : -1;
	if (first >= 0) {
		d = disc_add(r, DG_DK_DUP_SETTLED, s->txn, s->order);
		disc_settled(d, s);
		d->detail = again(r, kind_word(s->kind), s, &r->rows[first]);
		mismatched(r, ccy, amt);
		return;
	}
	if (!e) {
		d = disc_add(r, DG_DK_MISS_LEDGER, s->txn, s->order);
		disc_settled(d, s);
		d->detail = arena_fmt(r, "%s at %s:%lu%s", kind_word(s->kind),
				      s->file, s->line,
				      *s->txn ? "" : ", without an id");
		mismatched(r, ccy, amt);
		if (s->kind == DG_SK_CHARGE && *s->order) {
			if (m->nmissing == m->missing_cap) {
				m->missing_cap = m->missing_cap
							 ? 2 * m->missing_cap
							 : 64;
				m->missing = dg_xrealloc(
					m->missing,
					m->missing_cap * sizeof(*m->missing));
			}
			m->missing[m->nmissing++] = i;
		}
		return;
	}
	e->flags |= LF_MATCHED;
	e->row = (uint32_t)i;
	flip = (s->kind == DG_SK_REFUND) != (e->kind == DG_PAY_REFUND);
	if (e->status == LS_PENDING || e->status == LS_FAILED) {
		d = disc_add(r, DG_DK_STATUS, e->txn, e->order);
		disc_settled(d, s);
		disc_ledger(d, e);
		d->detail =
			arena_fmt(r, "%s at %s:%lu, the ledger holds it as %s",
				  kind_word(s->kind), s->file, s->line,
				  lstatus_names[e->status]);
		mismatched(r, ccy, amt);
	} else if (memcmp(e->currency, ccy, 4)) {
		d = disc_add(r, DG_DK_CURRENCY, e->txn, e->order);
		disc_settled(d, s);
		disc_ledger(d, e);
		d->has_delta = false;
		d->detail = arena_fmt(r,
				      "%s at %s:%lu settled in %s%s, the "
				      "ledger holds %s",
				      kind_word(s->kind), s->file, s->line, ccy,
				      cross ? " (customer-facing)" : "",
				      e->currency);
		mismatched(r, ccy, amt);
	} else if (flip || amt != e->amount) {
		d = disc_add(r, DG_DK_AMOUNT, e->txn, e->order);
		disc_settled(d, s);
		disc_ledger(d, e);
		if (flip)
			d->detail = arena_fmt(
				r,
				"settled as a %s at %s:%lu, the ledger holds a "
				"%s",
				kind_word(s->kind), s->file, s->line,
				e->kind == DG_PAY_REFUND ? "refund" : "charge");
		else if (cross)
			d->detail = arena_fmt(
				r,
				"%s at %s:%lu, customer-facing; settled in %s",
				kind_word(s->kind), s->file, s->line,
				s->currency);
		else
			d->detail =
				arena_fmt(r, "%s at %s:%lu", kind_word(s->kind),
					  s->file, s->line);
		mismatched(r, ccy, mag(d->delta));
	} else {
		struct dg_recon_total *t = total_of(r, ccy);

		t->matched_count++;
		t->matched_value += amt;
		if (r->all_rows) {
			d = disc_add(r, DG_DK_MATCHED, e->txn, e->order);
			disc_settled(d, s);
			disc_ledger(d, e);
			d->detail = s->category;
		}
	}
}

static void match_reversal(struct match *m, size_t i)
{
	struct dg_recon *r = m->r;
	const struct srow *s = &r->rows[i];
	bool cross = s->cf_currency[0] != '\0';
	const char *ccy = cross ? s->cf_currency : s->currency;
	int64_t amt = mag(cross ? s->cf : s->gross);
	const char *id = *s->ref ? s->ref : s->txn;
	struct lent *e = *id ? m->found[i] : NULL;
	struct dg_disc *d;
	long first;

	/* the reversal's own id, when it has one, is settled only once */
	if (*s->txn && strcmp(s->txn, id) &&
	    (first = idset_seen(&m->seen, r->rows, i)) >= 0) {
		d = disc_add(r, DG_DK_DUP_SETTLED, s->txn, s->order);
		disc_settled(d, s);
		d->detail = again(r, s->category, s, &r->rows[first]);
		mismatched(r, ccy, amt);
		return;
	}
	if (!e) {
		d = disc_add(r, DG_DK_MISS_LEDGER, id, s->order);
		disc_settled(d, s);
		d->detail = arena_fmt(r,
				      "%s at %s:%lu of a charge the ledger "
				      "does not hold",
				      s->category, s->file, s->line);
		mismatched(r, ccy, amt);
	} else if (e->status == LS_REVERSED || e->status == LS_DISPUTED) {
		if (r->all_rows) {
			d = disc_add(r, DG_DK_MATCHED, e->txn, e->order);
			disc_settled(d, s);
			disc_ledger(d, e);
			d->detail = s->category;
		}
	} else {
		d = disc_add(r, DG_DK_STATUS, e->txn, e->order);
		disc_settled(d, s);
		disc_ledger(d, e);
		d->detail = arena_fmt(r,
				      "%s at %s:%lu, the ledger holds the "
				      "%s as %s",
				      s->category, s->file, s->line,
				      e->kind == DG_PAY_REFUND ? "refund"
							       : "charge",
				      lstatus_names[e->status]);
		mismatched(r, ccy, amt);
	}
}

/* ---------------------------------------- what was never settled */

static int cmp_cand(const void *a, const void *b)
{
	const struct lent *x = *(const struct lent *const *)a;
	const struct lent *y = *(const struct lent *const *)b;
	int c = strcmp(x->order, y->order);

	if (c)
		return c;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return strcmp(x->txn, y->txn);
}

struct ogroup {
	const char *order;
	uint32_t hash;
	size_t start, count, settled_matched, settled_unmatched;
};

static struct ogroup *ogroup_find(struct ogroup *g, uint32_t *slots,
				  size_t nslots, const char *order, uint32_t h)
{
	size_t j, mask = nslots - 1;

	for (j = h & mask; slots[j]; j = (j + 1) & mask)
		if (g[slots[j] - 1].hash == h &&
		    !strcmp(g[slots[j] - 1].order, order))
			return &g[slots[j] - 1];
	return NULL;
}

static void miss_settled(struct dg_recon *r, struct lent *e)
{
	struct dg_disc *d = disc_add(r, DG_DK_MISS_SETTLED, e->txn, e->order);
	char at[DG_RFC3339_SIZE];

	disc_ledger(d, e);
	dg_format_rfc3339(e->at, at);
	d->detail = arena_fmt(r, "%s of %s, %s in the ledger",
			      e->kind == DG_PAY_REFUND ? "refund" : "charge",
			      at, lstatus_names[e->status]);
	mismatched(r, e->currency, e->amount);
}

/*
 * Ledger payments the file never settled, within the period: each is
 * missing_in_settlement, but for an order with more charges in the
 * ledger than the file settles for it (and at least one settled), the
 * extra ones (the latest, by time then id) are duplicate_in_ledger.
 */
static void unsettled(struct match *m, dg_time from, dg_time to)
{
	struct dg_recon *r = m->r;
	struct lent **cand = NULL;
	struct ogroup *g = NULL;
	uint32_t *slots = NULL;
	size_t ncand = 0, ng = 0, nslots = 16, i, k;
	struct ogroup *o;

	for (i = 0; i < r->nledger; i++) {
		struct lent *e = &r->ledger[i];

		if ((e->flags & LF_MATCHED) || e->status == LS_PENDING ||
		    e->status == LS_FAILED || e->at < from || e->at > to)
			continue;
		if (e->kind == DG_PAY_CHARGE && *e->order) {
			if (!cand)
				cand = dg_xmalloc(r->nledger * sizeof(*cand));
			cand[ncand++] = e;
		} else {
			miss_settled(r, e);
		}
	}
	if (!ncand)
		return;
	qsort(cand, ncand, sizeof(*cand), cmp_cand);
	g = dg_xcalloc(ncand, sizeof(*g));
	for (i = 0; i < ncand; i++) {
		if (ng && !strcmp(g[ng - 1].order, cand[i]->order)) {
			g[ng - 1].count++;
			continue;
		}
		g[ng].order = cand[i]->order;
		g[ng].hash = cand[i]->ohash;
		g[ng].start = i;
		g[ng].count = 1;
		ng++;
	}
	while (nslots < 2 * ng)
		nslots *= 2;
	slots = dg_xcalloc(nslots, sizeof(*slots));
	for (i = 0; i < ng; i++) {
		size_t j, mask = nslots - 1;

		for (j = g[i].hash & mask; slots[j]; j = (j + 1) & mask)
			;
		slots[j] = (uint32_t)(i + 1);
	}
	for (i = 0; i < r->nledger; i++)
		if ((r->ledger[i].flags & LF_MATCHED) &&
		    r->ledger[i].kind == DG_PAY_CHARGE && *r->ledger[i].order &&
		    (o = ogroup_find(g, slots, nslots, r->ledger[i].order,
				     r->ledger[i].ohash)))
			o->settled_matched++;
	for (i = 0; i < m->nmissing; i++) {
		const char *order = r->rows[m->missing[i]].order;

		if ((o = ogroup_find(g, slots, nslots, order, hash_id(order))))
			o->settled_unmatched++;
	}
	for (i = 0; i < ng; i++) {
		size_t settled = g[i].settled_matched + g[i].settled_unmatched;
		size_t extra = 0;

		if (settled && g[i].count > g[i].settled_unmatched)
			extra = g[i].count - g[i].settled_unmatched;
		for (k = 0; k < g[i].count; k++) {
			struct lent *e = cand[g[i].start + k];
			struct dg_disc *d;

			if (k < g[i].count - extra) {
				miss_settled(r, e);
				continue;
			}
			d = disc_add(r, DG_DK_DUP_LEDGER, e->txn, e->order);
			disc_ledger(d, e);
			d->detail = arena_fmt(
				r,
				"order %s has %zu charges in the ledger, "
				"%zu settled",
				e->order, g[i].settled_matched + g[i].count,
				settled);
			mismatched(r, e->currency, e->amount);
		}
	}
	free(slots);
	free(g);
	free(cand);
}

/* --------------------------------------------------------- the run */

static int cmp_disc(const void *a, const void *b)
{
	const struct dg_disc *x = a, *y = b;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if ((c = strcmp(x->txn_id, y->txn_id)))
		return c;
	/* a ledger-only row before one with a settled side */
	if (x->has_settled != y->has_settled)
		return x->has_settled ? 1 : -1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int dg_recon_match(struct dg_recon *r, const struct dg_recon_opts *o)
{
	struct match m = {.r = r};
	dg_time lo = INT64_MAX, hi = INT64_MIN;
	struct lookup_pipe pipe;
	pthread_t th;
	bool two;
	size_t i;

	r->gateway = o->gateway;
	r->all_rows = o->all_rows;
	m.found = dg_xcalloc(r->nrows ? r->nrows : 1, sizeof(*m.found));
	dg_recon_hash_rows(r);
	pipe = (struct lookup_pipe){.r = r, .found = m.found};
	pipe.nblocks =
		r->nlslots ? (r->nrows + LOOKUP_BLOCK - 1) / LOOKUP_BLOCK : 0;
	atomic_init(&pipe.next, 0);
	pipe.done =
		dg_xcalloc(pipe.nblocks ? pipe.nblocks : 1, sizeof(*pipe.done));
	two = pipe.nblocks >= 16 &&
	      !pthread_create(&th, NULL, pipe_thread, &pipe);
	for (i = 0; i < r->nrows; i++) {
		const struct srow *s = &r->rows[i];

		if (i % LOOKUP_BLOCK == 0 && pipe.nblocks)
			pipe_wait(&pipe, i / LOOKUP_BLOCK);
		if ((i + PF_ENTRY) / LOOKUP_BLOCK == i / LOOKUP_BLOCK &&
		    i + PF_ENTRY < r->nrows && m.found[i + PF_ENTRY])
			__builtin_prefetch(m.found[i + PF_ENTRY]);
		switch (s->kind) {
		case DG_SK_CHARGE:
		case DG_SK_REFUND:
			if (s->at == DG_SETTLE_NO_TIME)
				; /* a generic file without dates */
			else if (s->at < lo)
				lo = s->at;
			if (s->at != DG_SETTLE_NO_TIME && s->at > hi)
				hi = s->at;
			match_payment(&m, i);
			break;
		case DG_SK_REVERSAL:
			match_reversal(&m, i);
			break;
		default:
			if (r->all_rows) {
				struct dg_disc *d = disc_add(r, DG_DK_OTHER,
							     s->txn, s->order);

				disc_settled(d, s);
				d->has_delta = false;
				d->settled_amount = s->gross;
				memcpy(d->currency, s->currency, 4);
				d->detail = s->category;
			}
		}
	}
	if (two)
		pthread_join(th, NULL);
	free(pipe.done);
	if (o->has_from)
		lo = o->from;
	if (o->has_to)
		hi = o->to;
	if (lo <= hi)
		unsettled(&m, lo, hi);
	free(m.seen.slots);
	free(m.missing);
	free(m.found);
	if (r->ndiscs) /* qsort's base must not be NULL */
		qsort(r->discs, r->ndiscs, sizeof(*r->discs), cmp_disc);
	if (r->ntotals)
		qsort(r->totals, r->ntotals, sizeof(*r->totals), cmp_total);
	return 0;
}

size_t dg_recon_ndiscs(const struct dg_recon *r)
{
	return r->ndiscs;
}

const struct dg_disc *dg_recon_disc(const struct dg_recon *r, size_t i)
{
	return i < r->ndiscs ? &r->discs[i] : NULL;
}
