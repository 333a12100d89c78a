/*
 * paystore.c - payment facts into the payments table, exactly once.
 *
 * One fact is looked up by its key (gateway, gateway_txn_id) and then
 * inserted, found again (duplicate), moved to a later status (a row of
 * payment_status: payments rows never change) or refused (conflict), all
 * in the caller's BEGIN IMMEDIATE transaction, so that two processes
 * delivering the same callback at once cannot both insert it. What the
 * fact means for its order (flags, state) follows from the stored rows,
 * not from the order the callbacks came in.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "daigou.h"

/* The status a payment has now: its newest payment_status row, else the
 * status it was first recorded with. (The newest by max(id) over the
 * payment's few rows in the (payment_id, status) index: ORDER BY id
 * would sort them in a temporary B-tree on every lookup.) */
#define CUR_STATUS(p)                                                          \
	"coalesce((SELECT s.status FROM payment_status s WHERE s.id = "        \
	"(SELECT max(s2.id) FROM payment_status s2 WHERE "                     \
	"s2.payment_id = " p ".id)), " p ".status)"

enum {
	ST_FIND,
	ST_INSERT,
	ST_STATUS,
	ST_ORDER,
	ST_PARENT,
	ST_TOTALS,
	ST_SET_STATE,
	ST_REFUND,
	ST_EVENT,
	NSTMT
};

/* clang-format off */
static const char *const sqls[NSTMT] = {
	[ST_FIND] =
		"SELECT p.id, p.kind, p.order_id, p.amount, p.currency, "
		"p.parent_txn_id, p.refund_id, " CUR_STATUS("p") " "
		"FROM payments p WHERE p.gateway = ?1 AND p.gateway_txn_id = ?2",
	[ST_INSERT] =
		"INSERT INTO payments (gateway, gateway_txn_id, kind, order_id, "
		"amount, currency, status, parent_txn_id, event_type, "
		"payload_sha256, received_at, refund_id, event_id) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_STATUS] =
		"INSERT INTO payment_status (payment_id, status, event_type, "
		"event_id, payload_sha256, received_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_ORDER] =
		"SELECT o.state, r.converted, r.to_currency FROM orders o "
		"LEFT JOIN order_rates r ON r.order_id = o.order_id "
		"AND r.kind = 'charge' WHERE o.order_id = ?1",
	[ST_PARENT] =
		"SELECT order_id FROM payments WHERE gateway = ?1 "
		"AND gateway_txn_id = ?2 AND kind = 'charge'",
	/* Charges of the order; refunds that name it or one of its
	 * charges (a refund often names only its charge: the second
	 * branch, which leaves out those the first counted; a refund has
	 * one parent, and a charge key one row). Completed money counts; a
	 * reversed charge was charged and then taken back. Written without
	 * a materialised CTE or a UNION, which would build and drop
	 * temporary B-trees on every call. */
	[ST_TOTALS] =
		"SELECT (SELECT coalesce(sum(p.amount), 0) FROM payments p "
		"    WHERE p.order_id = ?1 AND p.kind = 'charge' "
		"    AND p.currency = ?2 AND " CUR_STATUS("p") " IN "
		"    ('completed', 'reversed')), "
		"  (SELECT coalesce(sum(p.amount), 0) FROM payments p "
		"    WHERE p.order_id = ?1 AND p.kind = 'charge' "
		"    AND p.currency = ?2 AND " CUR_STATUS("p") " = 'reversed') + "
		"  (SELECT coalesce(sum(amount), 0) FROM ("
		"    SELECT p.amount FROM payments p WHERE p.order_id = ?1 "
		"      AND p.kind = 'refund' AND p.currency = ?2 "
		"      AND " CUR_STATUS("p") " IN ('completed', 'reversed') "
		"    UNION ALL SELECT p.amount FROM payments c "
		"      JOIN payments p ON p.gateway = c.gateway "
		"      AND p.parent_txn_id = c.gateway_txn_id "
		"      WHERE c.order_id = ?1 AND c.kind = 'charge' "
		"      AND p.kind = 'refund' AND p.order_id IS NOT ?1 "
		"      AND p.currency = ?2 "
		"      AND " CUR_STATUS("p") " IN ('completed', 'reversed')))",
	[ST_SET_STATE] = "UPDATE orders SET state = ?2 WHERE order_id = ?1",
	[ST_REFUND] =
		"SELECT charge_refund, charge_currency FROM refunds "
		"WHERE refund_id = ?1",
	[ST_EVENT] =
		"INSERT INTO events (at, tool, kind, subject, detail) "
		"VALUES (?1, ?2, ?3, ?4, ?5)",
};
/* clang-format on */

struct dg_paystore {
	sqlite3 *db;
	sqlite3_stmt *st[NSTMT];
};

/* One fact as stored, or as it will be. */
struct stored {
	int64_t id;
	enum dg_pay_kind kind;
	char *order_id, *parent, *refund_id, *currency, *status;
	int64_t amount;
};

const char *dg_pay_result_name(enum dg_pay_result r)
{
	switch (r) {
	case DG_PAY_RECORDED:
		return "recorded";
	case DG_PAY_DUPLICATE:
		return "duplicate";
	case DG_PAY_CONFLICT:
		return "conflict";
	case DG_PAY_REJECTED:
		return "rejected";
	case DG_PAY_IGNORED:
		return "ignored";
	}
	return "?";
}

struct dg_paystore *dg_paystore_new(sqlite3 *db)
{
	struct dg_paystore *s = dg_xcalloc(1, sizeof(*s));
	int i;

	s->db = db;
	for (i = 0; i < NSTMT; i++)
		if (dg_db_prepare(db, sqls[i], &s->st[i])) {
			dg_paystore_free(s);
			return NULL;
		}
	return s;
}

void dg_paystore_free(struct dg_paystore *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < NSTMT; i++)
		sqlite3_finalize(s->st[i]);
	free(s);
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? dg_xstrdup((const char *)t) : NULL;
}

static void stored_free(struct stored *p)
{
	free(p->order_id);
	free(p->parent);
	free(p->refund_id);
	free(p->currency);
	free(p->status);
}

/* "102.30 EUR" */
static char *money(int64_t amount, const char *ccy)
{
	char buf[DG_AMOUNT_SIZE];
	int e = dg_currency_exponent(ccy);

	dg_amount_format(amount, e < 0 ? 0 : e, buf);
	return dg_xasprintf("%s %s", buf, ccy);
}

static int fail(struct dg_paystore *s, sqlite3_stmt *st, int rc,
		const char *what)
{
	int ret = dg_db_fail(s->db, rc, what);

	done(st);
	return ret;
}

int dg_paystore_event(struct dg_paystore *s, const char *now, const char *kind,
		      const char *subject, const char *detail)
{
	sqlite3_stmt *st = s->st[ST_EVENT];
	int rc;

	dg_db_bind_text(st, 1, now);
	dg_db_bind_text(st, 2, dg_progname());
	dg_db_bind_text(st, 3, kind);
	dg_db_bind_text(st, 4, subject);
	dg_db_bind_text(st, 5, detail);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return fail(s, st, rc, "cannot record an event");
	done(st);
	return 0;
}

/* 1 found (*p filled), 0 not found, or an exit status. */
static int find(struct dg_paystore *s, const char *gateway, const char *txn,
		struct stored *p)
{
	sqlite3_stmt *st = s->st[ST_FIND];
	int rc;

	dg_db_bind_text(st, 1, gateway);
	dg_db_bind_text(st, 2, txn);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		done(st);
		return 0;
	}
	if (rc != SQLITE_ROW)
		return fail(s, st, rc, "cannot look up a payment");
	p->id = sqlite3_column_int64(st, 0);
	p->kind = strcmp((const char *)sqlite3_column_text(st, 1), "refund")
			  ? DG_PAY_CHARGE
			  : DG_PAY_REFUND;
	p->order_id = col_dup(st, 2);
	p->amount = sqlite3_column_int64(st, 3);
	p->currency = col_dup(st, 4);
	p->parent = col_dup(st, 5);
	p->refund_id = col_dup(st, 6);
	p->status = col_dup(st, 7);
	done(st);
	return 1;
}

/*
 * The forward moves of a status: pending to completed or failed,
 * completed to reversed, and for a refund completed to failed (a refund
 * can fail after it succeeded). a reaches b when a == b or a chain of
 * moves leads from a to b.
 */
static bool moves(enum dg_pay_kind k, enum dg_pay_status a,
		  enum dg_pay_status b)
{
	if (a == DG_PAY_PENDING)
		return b == DG_PAY_COMPLETED || b == DG_PAY_FAILED;
	if (a == DG_PAY_COMPLETED)
		return b == DG_PAY_REVERSED ||
		       (k == DG_PAY_REFUND && b == DG_PAY_FAILED);
	return false;
}

static bool reaches(enum dg_pay_kind k, enum dg_pay_status a,
		    enum dg_pay_status b)
{
	int m;

	if (a == b || moves(k, a, b))
		return true;
	for (m = DG_PAY_PENDING; m <= DG_PAY_REVERSED; m++)
		if (moves(k, a, (enum dg_pay_status)m) &&
		    moves(k, (enum dg_pay_status)m, b))
			return true;
	return false;
}

static bool same_opt(const char *stored, const char *got)
{
	return !stored || !got || !strcmp(stored, got);
}

/* Why the fact is not the stored one, or NULL when its money facts
 * agree (a missing order, parent or refund id on either side agrees). */
static char *differs(const struct stored *p, const struct dg_pay_fact *f)
{
	char *a, *b, *why;

	if (p->kind != f->kind)
		return dg_xasprintf("stored as a %s, not a %s",
				    dg_pay_kind_name(p->kind),
				    dg_pay_kind_name(f->kind));
	if (p->amount != f->amount || strcmp(p->currency, f->currency)) {
		a = money(p->amount, p->currency);
		b = money(f->amount, f->currency);
		why = dg_xasprintf("stored with amount %s, not %s", a, b);
		free(a);
		free(b);
		return why;
	}
	if (!same_opt(p->order_id, f->order_id))
		return dg_xasprintf("stored for order %s, not %s",
				    dg_quoted(p->order_id),
				    dg_quoted(f->order_id));
	if (!same_opt(p->parent, f->parent_txn_id))
		return dg_xasprintf("stored as a refund of %s, not of %s",
				    dg_quoted(p->parent),
				    dg_quoted(f->parent_txn_id));
	if (!same_opt(p->refund_id, f->refund_id))
		return dg_xasprintf("stored with refund_id %s, not %s",
				    dg_quoted(p->refund_id),
				    dg_quoted(f->refund_id));
	return NULL;
}

static int insert(struct dg_paystore *s, const struct dg_pay_event *ev,
		  const struct dg_pay_fact *f, const char *sha, const char *now)
{
	sqlite3_stmt *st = s->st[ST_INSERT];
	int rc;

	dg_db_bind_text(st, 1, ev->gateway);
	dg_db_bind_text(st, 2, f->txn_id);
	dg_db_bind_text(st, 3, dg_pay_kind_name(f->kind));
	dg_db_bind_text(st, 4, f->order_id);
	sqlite3_bind_int64(st, 5, f->amount);
	dg_db_bind_text(st, 6, f->currency);
	dg_db_bind_text(st, 7, dg_pay_status_name(f->status));
	dg_db_bind_text(st, 8,
			f->kind == DG_PAY_REFUND ? f->parent_txn_id : NULL);
	dg_db_bind_text(st, 9, ev->event_type);
	dg_db_bind_text(st, 10, sha);
	dg_db_bind_text(st, 11, now);
	dg_db_bind_text(st, 12, f->kind == DG_PAY_REFUND ? f->refund_id : NULL);
	dg_db_bind_text(st, 13, ev->event_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return fail(s, st, rc, "cannot record a payment");
	done(st);
	return 0;
}

static int insert_status(struct dg_paystore *s, int64_t id,
			 const struct dg_pay_event *ev,
			 const struct dg_pay_fact *f, const char *sha,
			 const char *now)
{
	sqlite3_stmt *st = s->st[ST_STATUS];
	int rc;

	sqlite3_bind_int64(st, 1, id);
	dg_db_bind_text(st, 2, dg_pay_status_name(f->status));
	dg_db_bind_text(st, 3, ev->event_type);
	dg_db_bind_text(st, 4, ev->event_id);
	dg_db_bind_text(st, 5, sha);
	dg_db_bind_text(st, 6, now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return fail(s, st, rc, "cannot record a payment status");
	done(st);
	return 0;
}

/* The outcome's reason grows by one clause. */
static void add_reason(struct dg_pay_outcome *out, char *clause)
{
	char *r;

	if (!out->reason) {
		out->reason = clause;
		return;
	}
	r = dg_xasprintf("%s; %s", out->reason, clause);
	free(out->reason);
	free(clause);
	out->reason = r;
}

/* A flag: an event and a clause of the reason, status 1. */
static int flag(struct dg_paystore *s, const char *now, const char *kind,
		const char *gateway, const char *txn, char *why,
		struct dg_pay_outcome *out)
{
	char *detail = dg_xasprintf("%s %s: %s", gateway, txn, why);
	int ret = dg_paystore_event(s, now, kind, txn, detail);

	free(detail);
	out->status = dg_exit_worst(out->status, DG_EXIT_FINDING);
	add_reason(out, why);
	return ret;
}

struct order {
	bool known, pinned;
	char *state, *ccy;
	int64_t charge;
};

static int load_order(struct dg_paystore *s, const char *id, struct order *o)
{
	sqlite3_stmt *st = s->st[ST_ORDER];
	int rc;

	memset(o, 0, sizeof(*o));
	dg_db_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		done(st);
		return 0;
	}
	if (rc != SQLITE_ROW)
		return fail(s, st, rc, "cannot read an order");
	o->known = true;
	o->state = col_dup(st, 0);
	o->pinned = sqlite3_column_type(st, 1) != SQLITE_NULL;
	o->charge = sqlite3_column_int64(st, 1);
	o->ccy = col_dup(st, 2);
	done(st);
	return 0;
}

/* The order of a refund that names none: its charge's. *id NULL when
 * the charge is not stored (yet). */
static int parent_order(struct dg_paystore *s, const char *gateway,
			const char *parent, char **id)
{
	sqlite3_stmt *st = s->st[ST_PARENT];
	int rc;

	*id = NULL;
	if (!parent)
		return 0;
	dg_db_bind_text(st, 1, gateway);
	dg_db_bind_text(st, 2, parent);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = col_dup(st, 0);
	else if (rc != SQLITE_DONE)
		return fail(s, st, rc, "cannot look up a refund's charge");
	done(st);
	return 0;
}

static int state_rank(const char *state)
{
	static const char *const ranks[] = {"pinned", "paid",
					    "partially_refunded", "refunded"};
	int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(state, ranks[i]))
			return i;
	return -1; /* cancelled, or a word this program does not know */
}

/*
 * Move the order's state forward from its totals: completed charges
 * covering the pinned charge make it paid; refunds of a paid order make
 * it partially_refunded, or refunded once they reach what was charged.
 * A state never moves back, and cancelled is never left.
 */
static int move_state(struct dg_paystore *s, const char *id,
		      const struct order *o, struct dg_pay_outcome *out)
{
	static const char *const names[] = {"pinned", "paid",
					    "partially_refunded", "refunded"};
	sqlite3_stmt *st = s->st[ST_TOTALS];
	int64_t charged, refunded;
	int cur = state_rank(o->state), want, rc;

	if (cur < 0 || !o->ccy)
		return 0;
	dg_db_bind_text(st, 1, id);
	dg_db_bind_text(st, 2, o->ccy);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return fail(s, st, rc, "cannot total an order's payments");
	charged = sqlite3_column_int64(st, 0);
	refunded = sqlite3_column_int64(st, 1);
	done(st);
	want = cur;
	if (charged > 0 && charged >= o->charge && want < 1)
		want = 1;
	if (want >= 1 && refunded > 0)
		want = refunded >= charged ? 3 : want > 2 ? want : 2;
	if (want == cur)
		return 0;
	st = s->st[ST_SET_STATE];
	dg_db_bind_text(st, 1, id);
	dg_db_bind_text(st, 2, names[want]);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return fail(s, st, rc, "cannot set an order's state");
	done(st);
	add_reason(out, dg_xasprintf("order %s %s -> %s", dg_quoted(id),
				     names[cur], names[want]));
	return 0;
}

/* A refund that names refund-calc's refund must pay what it computed. */
static int check_refund(struct dg_paystore *s, const char *gateway,
			const struct dg_pay_fact *f, const char *refund_id,
			const char *now, struct dg_pay_outcome *out)
{
	sqlite3_stmt *st = s->st[ST_REFUND];
	char *a, *b, *why, *ccy;
	int64_t owed;
	int rc, ret;

	dg_db_bind_text(st, 1, refund_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		done(st);
		return 0;
	}
	if (rc != SQLITE_ROW)
		return fail(s, st, rc, "cannot read a refund");
	owed = sqlite3_column_int64(st, 0);
	ccy = col_dup(st, 1);
	done(st);
	if (owed == f->amount && !strcmp(ccy, f->currency)) {
		free(ccy);
		return 0;
	}
	a = money(f->amount, f->currency);
	b = money(owed, ccy);
	why = dg_xasprintf("refund %s paid %s where %s was owed",
			   dg_quoted(refund_id), a, b);
	free(a);
	free(b);
	free(ccy);
	ret = flag(s, now, "refund_mismatch", gateway, f->txn_id, why, out);
	return ret;
}

/*
 * What a recorded fact means beyond its row: flags and the order's
 * state. fresh: the payment row is new (not a later status). p: the
 * stored facts (the fact's own when fresh).
 */
static int consequences(struct dg_paystore *s, const char *gateway,
			const struct dg_pay_fact *f, const struct stored *p,
			bool fresh, const char *now, struct dg_pay_outcome *out)
{
	const char *named = p->order_id ? p->order_id : f->order_id;
	const char *refund_id = p->refund_id ? p->refund_id : f->refund_id;
	char *via = NULL, *a, *b, *why;
	struct order o;
	int ret;

	if (!named && f->kind == DG_PAY_REFUND &&
	    (ret = parent_order(s, gateway,
				p->parent ? p->parent : f->parent_txn_id,
				&via)))
		return ret;
	if ((ret = load_order(s, named ? named : via, &o)))
		goto out;
	if (named && !o.known) {
		if (fresh)
			ret = flag(s, now, "payment_unknown_order", gateway,
				   f->txn_id,
				   dg_xasprintf("order %s is unknown",
						dg_quoted(named)),
				   out);
		goto out;
	}
	if (f->status == DG_PAY_COMPLETED && f->kind == DG_PAY_CHARGE &&
	    o.known && o.pinned &&
	    (o.charge != f->amount || strcmp(o.ccy, f->currency))) {
		a = money(f->amount, f->currency);
		b = money(o.charge, o.ccy);
		why = dg_xasprintf("charge %s differs from the pinned "
				   "charge %s of order %s",
				   a, b, dg_quoted(named));
		free(a);
		free(b);
		if ((ret = flag(s, now, "payment_mismatch", gateway, f->txn_id,
				why, out)))
			goto out;
	}
	if (f->status == DG_PAY_COMPLETED && f->kind == DG_PAY_REFUND &&
	    refund_id &&
	    (ret = check_refund(s, gateway, f, refund_id, now, out)))
		goto out;
	if (o.known)
		ret = move_state(s, named ? named : via, &o, out);
out:
	free(o.state);
	free(o.ccy);
	free(via);
	return ret;
}

static int record_new(struct dg_paystore *s, const struct dg_pay_event *ev,
		      const struct dg_pay_fact *f, const char *sha,
		      const char *now, struct dg_pay_outcome *out)
{
	struct stored p = {0};
	int ret;

	if ((ret = insert(s, ev, f, sha, now)))
		return ret;
	out->result = DG_PAY_RECORDED;
	return consequences(s, ev->gateway, f, &p, true, now, out);
}

int dg_paystore_record(struct dg_paystore *s, const struct dg_pay_event *ev,
		       const struct dg_pay_fact *f, const char *sha,
		       const char *now, struct dg_pay_outcome *out)
{
	enum dg_pay_status cur = DG_PAY_PENDING;
	struct stored p = {0};
	char *why, *detail;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = find(s, ev->gateway, f->txn_id, &p);
	if (ret == 0)
		return record_new(s, ev, f, sha, now, out);
	if (ret != 1)
		return ret;
	ret = 0;
	if (!(why = differs(&p, f)) && dg_pay_status_parse(p.status, &cur))
		why = dg_xasprintf("stored with status %s",
				   dg_quoted(p.status));
	if (!why && cur == f->status) {
		out->result = DG_PAY_DUPLICATE;
		out->reason = dg_xstrdup("already recorded");
	} else if (!why && moves(f->kind, cur, f->status)) {
		out->result = DG_PAY_RECORDED;
		out->reason =
			dg_xasprintf("status %s -> %s", dg_pay_status_name(cur),
				     dg_pay_status_name(f->status));
		if (!(ret = insert_status(s, p.id, ev, f, sha, now)))
			ret = consequences(s, ev->gateway, f, &p, false, now,
					   out);
	} else if (!why && reaches(f->kind, f->status, cur)) {
		out->result = DG_PAY_DUPLICATE;
		out->reason = dg_xasprintf("status %s kept: %s is older",
					   dg_pay_status_name(cur),
					   dg_pay_status_name(f->status));
	} else {
		if (!why)
			why = dg_xasprintf("status %s cannot follow %s",
					   dg_pay_status_name(f->status),
					   dg_pay_status_name(cur));
		out->result = DG_PAY_CONFLICT;
		out->status = DG_EXIT_DATAERR;
		detail = dg_xasprintf("%s %s: %s", ev->gateway, f->txn_id, why);
		ret = dg_paystore_event(s, now, "payment_conflict", f->txn_id,
					detail);
		free(detail);
		out->reason = why;
	}
	stored_free(&p);
	return ret;
}

int dg_paypal_cert_get(sqlite3 *db, const char *url, char **pem, size_t *len)
{
	sqlite3_stmt *st = NULL;
	int ret, rc;

	*pem = NULL;
	*len = 0;
	if ((ret = dg_db_prepare(
		     db, "SELECT pem FROM paypal_certs WHERE url = ?1", &st)))
		return ret;
	dg_db_bind_text(st, 1, url);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*len = (size_t)sqlite3_column_bytes(st, 0);
		*pem = dg_xstrndup((const char *)sqlite3_column_text(st, 0),
				   *len);
	} else if (rc == SQLITE_DONE) {
		ret = DG_EXIT_UNAVAILABLE;
	} else {
		ret = dg_db_fail(db, rc, "cannot read the certificate cache");
	}
	sqlite3_finalize(st);
	return ret;
}

void dg_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32)
		dg_die(DG_EXIT_SOFTWARE, "cannot compute a SHA-256 digest");
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

int dg_paypal_cert_put(sqlite3 *db, const char *url, const char *pem,
		       size_t len, const char *now)
{
	sqlite3_stmt *st = NULL;
	char sha[65];
	int ret, rc;

	dg_sha256_hex(pem, len, sha);
	if ((ret = dg_db_prepare(db,
				 "INSERT INTO paypal_certs (url, pem, sha256, "
				 "fetched_at) VALUES (?1, ?2, ?3, ?4) ON "
				 "CONFLICT (url) DO UPDATE SET pem = "
				 "excluded.pem, sha256 = excluded.sha256, "
				 "fetched_at = excluded.fetched_at",
				 &st)))
		return ret;
	dg_db_bind_text(st, 1, url);
	sqlite3_bind_text(st, 2, pem, (int)len, SQLITE_STATIC);
	dg_db_bind_text(st, 3, sha);
	dg_db_bind_text(st, 4, now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		ret = dg_db_fail(db, rc, "cannot cache a certificate");
	sqlite3_finalize(st);
	return ret;
}
