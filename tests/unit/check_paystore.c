/*
 * check_paystore: payment facts built by hand recorded through the store:
 * the status moves forward and never back, conflicts change nothing, and
 * every order of the same deliveries ends in the same rows and state.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

#define NOW "2026-04-15T09:00:00Z"
#define SHA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static char dir[] = "/tmp/check_paystore.XXXXXX";
static char path[PATH_MAX];

static void setup(void)
{
	memcpy(dir, "/tmp/check_paystore.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dg_xsnprintf(path, sizeof(path), "%s/t.db", dir);
	setenv("DAIGOU_NOW", NOW, 1);
}

static void teardown(void)
{
	char f[PATH_MAX + 8];

	dg_xsnprintf(f, sizeof(f), "%s-wal", path);
	unlink(f);
	dg_xsnprintf(f, sizeof(f), "%s-shm", path);
	unlink(f);
	unlink(path);
	rmdir(dir);
}

/* A fresh file with order A1: 102.30 EUR pinned (identity). */
static sqlite3 *open_shop(void)
{
	static const char sql[] =
		"INSERT INTO orders (order_id, amount, currency, "
		"charge_currency, created_at, content_sha256) VALUES "
		"('A1', 10230, 'EUR', 'EUR', '" NOW "', '" SHA "');"
		"INSERT INTO order_rates (order_id, kind, from_currency, "
		"to_currency, amount, converted, method, effective_rate, "
		"rounding, pinned_at) VALUES ('A1', 'charge', 'EUR', 'EUR', "
		"10230, 10230, 'identity', '1', 'half-up', '" NOW "');";
	sqlite3 *db = NULL;

	unlink(path);
	ck_assert_int_eq(dg_db_open(path, &db), 0);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char *state(sqlite3 *db)
{
	static char buf[32];
	sqlite3_stmt *st = NULL;

	ck_assert_int_eq(sqlite3_prepare_v2(db,
					    "SELECT state FROM orders WHERE "
					    "order_id = 'A1'",
					    -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	dg_xsnprintf(buf, sizeof(buf), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* Record one fact in its own transaction; the outcome's result, with
 * its reason compared when want_reason is not NULL. */
static enum dg_pay_result record(sqlite3 *db, enum dg_pay_kind kind,
				 const char *txn, const char *order,
				 int64_t amount, const char *parent,
				 enum dg_pay_status status,
				 const char *want_reason)
{
	struct dg_pay_fact f = {
		.kind = kind,
		.txn_id = (char *)txn,
		.order_id = (char *)order,
		.amount = amount,
		.currency = "EUR",
		.parent_txn_id = (char *)parent,
		.status = status,
	};
	struct dg_pay_event ev = {.gateway = "generic",
				  .event_type = (char *)"test",
				  .facts = &f,
				  .nfacts = 1};
	struct dg_paystore *s = dg_paystore_new(db);
	struct dg_pay_outcome out;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(dg_paystore_record(s, &ev, &f, SHA, NOW, &out), 0);
	ck_assert_int_eq(dg_db_commit(db), 0);
	if (want_reason)
		ck_assert_str_eq(out.reason ? out.reason : "", want_reason);
	free(out.reason);
	dg_paystore_free(s);
	return out.result;
}

START_TEST(test_status_moves)
{
	sqlite3 *db = open_shop();

	ck_assert_int_eq(record(db, DG_PAY_CHARGE, "T1", "A1", 10230, NULL,
				DG_PAY_PENDING, ""),
			 DG_PAY_RECORDED);
	ck_assert_str_eq(state(db), "pinned");
	ck_assert_int_eq(record(db, DG_PAY_CHARGE, "T1", "A1", 10230, NULL,
				DG_PAY_COMPLETED,
				"status pending -> completed; order 'A1' "
				"pinned -> paid"),
			 DG_PAY_RECORDED);
	ck_assert_int_eq(record(db, DG_PAY_CHARGE, "T1", "A1", 10230, NULL,
				DG_PAY_PENDING,
				"status completed kept: pending is older"),
			 DG_PAY_DUPLICATE);
	ck_assert_int_eq(record(db, DG_PAY_CHARGE, "T1", "A1", 10230, NULL,
				DG_PAY_FAILED,
				"status failed cannot follow completed"),
			 DG_PAY_CONFLICT);
	ck_assert_int_eq(record(db, DG_PAY_CHARGE, "T1", "A1", 10230, NULL,
				DG_PAY_REVERSED,
				"status completed -> reversed; order 'A1' "
				"paid -> refunded"),
			 DG_PAY_RECORDED);
	ck_assert_int_eq(record(db, DG_PAY_CHARGE, "T1", "A1", 10230, NULL,
				DG_PAY_COMPLETED,
				"status reversed kept: completed is older"),
			 DG_PAY_DUPLICATE);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM payments"), 1);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM payment_status"),
			 2);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events WHERE "
				       "kind = 'payment_conflict'"),
			 1);
	dg_db_close(db);
}
END_TEST

START_TEST(test_refund_fails_after_completing)
{
	sqlite3 *db = open_shop();

	record(db, DG_PAY_CHARGE, "T1", "A1", 10230, NULL, DG_PAY_COMPLETED,
	       NULL);
	ck_assert_int_eq(record(db, DG_PAY_REFUND, "R1", NULL, 10230, "T1",
				DG_PAY_COMPLETED,
				"order 'A1' paid -> refunded"),
			 DG_PAY_RECORDED);
	/* the refund failed after all: the state stays where it was */
	ck_assert_int_eq(record(db, DG_PAY_REFUND, "R1", NULL, 10230, "T1",
				DG_PAY_FAILED, "status completed -> failed"),
			 DG_PAY_RECORDED);
	ck_assert_str_eq(state(db), "refunded");
	dg_db_close(db);
}
END_TEST

/* The deliveries of the permutation test: a pending and a completed
 * charge, a pending and a completed partial refund naming only its
 * charge, each delivered twice. */
struct delivery {
	enum dg_pay_kind kind;
	const char *txn, *order, *parent;
	int64_t amount;
	enum dg_pay_status status;
};
static const struct delivery deliveries[] = {
	{DG_PAY_CHARGE, "T1", "A1", NULL, 10230, DG_PAY_PENDING},
	{DG_PAY_CHARGE, "T1", "A1", NULL, 10230, DG_PAY_COMPLETED},
	{DG_PAY_REFUND, "R1", NULL, "T1", 4000, DG_PAY_PENDING},
	{DG_PAY_REFUND, "R1", NULL, "T1", 4000, DG_PAY_COMPLETED},
};

START_TEST(test_every_order_same_end)
{
	/* permutation _i of the four deliveries, by the factorial number
	 * system */
	int idx[4] = {0, 1, 2, 3}, n = _i, k, j, t;
	sqlite3 *db = open_shop();

	for (k = 0; k < 4; k++) {
		j = k + n % (4 - k);
		n /= 4 - k;
		t = idx[k], idx[k] = idx[j], idx[j] = t;
	}
	for (j = 0; j < 2; j++)
		for (k = 0; k < 4; k++) {
			const struct delivery *d = &deliveries[idx[k]];

			ck_assert_int_ne(record(db, d->kind, d->txn, d->order,
						d->amount, d->parent, d->status,
						NULL),
					 DG_PAY_CONFLICT);
		}
	ck_assert_str_eq(state(db), "partially_refunded");
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM payments"), 2);
	ck_assert_int_eq(
		query_int(db,
			  "SELECT count(*) FROM payments p WHERE coalesce("
			  "(SELECT status FROM payment_status s WHERE "
			  "s.payment_id = p.id ORDER BY s.id DESC LIMIT 1), "
			  "p.status) = 'completed'"),
		2);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events WHERE "
				       "kind <> 'schema_migrated'"),
			 0);
	dg_db_close(db);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("paystore");
	TCase *tc = tcase_create("paystore");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_status_moves);
	tcase_add_test(tc, test_refund_fails_after_completing);
	tcase_add_loop_test(tc, test_every_order_same_end, 0, 24);
	suite_add_tcase(s, tc);
	return s;
}
