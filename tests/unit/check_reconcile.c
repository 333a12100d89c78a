/*
 * check_reconcile: settlement rows against a ledger: every kind of
 * difference found once and sorted, the period, duplicate charges of an
 * order in the ledger, a cross-currency charge, and the threshold and
 * percent in integers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

#define T0 1764147600 /* 2025-11-26T09:00:00Z */

static char ledger_path[64];

/* A ledger file of the given CSV body (header added). */
static struct dg_recon *recon_with(const char *body)
{
	struct dg_recon *r = dg_recon_new();
	FILE *fp;
	int fd;

	snprintf(ledger_path, sizeof(ledger_path), "%s",
		 "/tmp/check-reconcile-XXXXXX");
	fd = mkstemp(ledger_path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs("gateway_txn_id,kind,order_id,amount,currency,created_at,"
	      "status\n",
	      fp);
	fputs(body, fp);
	fclose(fp);
	ck_assert_int_eq(dg_recon_ledger_file(r, ledger_path, DG_IN_AUTO), 0);
	unlink(ledger_path);
	return r;
}

static void row(struct dg_recon *r, enum dg_settle_kind kind, const char *txn,
		const char *ref, const char *order, int64_t gross,
		const char *ccy, dg_time at)
{
	static unsigned long line = 1;
	struct dg_settle_row s = {.kind = kind,
				  .category = kind == DG_SK_REFUND ? "refund"
					      : kind == DG_SK_REVERSAL
						      ? "dispute"
						      : "charge",
				  .txn_id = txn,
				  .ref_txn_id = ref,
				  .order_id = order,
				  .gross = gross,
				  .fee = 0,
				  .net = gross,
				  .at = at,
				  .file = "s.csv",
				  .line = ++line};

	memcpy(s.currency, ccy, 4);
	ck_assert_int_eq(dg_recon_settle_row(r, &s), 0);
}

/* The report as "kind id ledger settled delta" lines. */
static char *report(struct dg_recon *r, bool all_rows)
{
	struct dg_recon_opts o = {.gateway = "stripe", .all_rows = all_rows};
	char *s = NULL;
	size_t len = 0, cap = 0, i;
	char line[256];

	ck_assert_int_eq(dg_recon_match(r, &o), 0);
	for (i = 0; i < dg_recon_ndiscs(r); i++) {
		const struct dg_disc *d = dg_recon_disc(r, i);

		snprintf(line, sizeof(line), "%s %s %lld %lld %lld\n",
			 dg_disc_kind_name(d->kind), d->txn_id,
			 d->has_ledger ? (long long)d->ledger_amount : -1,
			 d->has_settled ? (long long)d->settled_amount : -1,
			 d->has_delta ? (long long)d->delta : -1);
		dg_xappend(&s, &len, &cap, line);
	}
	return s ? s : dg_xstrdup("");
}

START_TEST(test_every_kind_once)
{
	struct dg_recon *r = recon_with(
		"ch_ok,charge,O1,10.00,EUR,2025-11-26T09:00:00Z,\n"
		"ch_amt,charge,O2,10.00,EUR,2025-11-26T09:00:00Z,\n"
		"ch_ccy,charge,O3,10.00,USD,2025-11-26T09:00:00Z,\n"
		"ch_flip,charge,O4,5.00,EUR,2025-11-26T09:00:00Z,\n"
		"re_ok,refund,,3.00,EUR,2025-11-26T10:00:00Z,\n"
		"ch_gone,charge,O5,7.00,EUR,2025-11-26T10:00:00Z,\n"
		"ch_old,charge,O6,7.00,EUR,2025-11-25T10:00:00Z,\n"
		"ch_d1,charge,O7,20.00,EUR,2025-11-26T09:00:00Z,\n"
		"ch_d2,charge,O7,20.00,EUR,2025-11-26T09:00:05Z,\n"
		"ch_disp,charge,O8,9.00,EUR,2025-11-26T09:00:00Z,completed\n"
		"ch_rev,charge,O9,9.00,EUR,2025-11-26T09:00:00Z,reversed\n"
		"ch_fail,charge,O10,4.00,EUR,2025-11-26T09:00:00Z,failed\n");
	char *got;

	row(r, DG_SK_CHARGE, "ch_ok", "", "O1", 1000, "EUR", T0);
	row(r, DG_SK_CHARGE, "ch_amt", "", "O2", 1001, "EUR", T0);
	row(r, DG_SK_CHARGE, "ch_ccy", "", "O3", 1000, "EUR", T0);
	row(r, DG_SK_REFUND, "ch_flip", "", "O4", -500, "EUR", T0);
	row(r, DG_SK_REFUND, "re_ok", "", "", -300, "EUR", T0 + 3600);
	row(r, DG_SK_CHARGE, "ch_new", "", "O11", 1500, "EUR", T0);
	row(r, DG_SK_CHARGE, "ch_ok", "", "O1", 1000, "EUR", T0 + 7200);
	row(r, DG_SK_CHARGE, "ch_d1", "", "O7", 2000, "EUR", T0);
	row(r, DG_SK_REVERSAL, "du_1", "ch_disp", "O8", -900, "EUR", T0);
	row(r, DG_SK_REVERSAL, "du_2", "ch_rev", "O9", -900, "EUR", T0);
	row(r, DG_SK_CHARGE, "ch_disp", "", "O8", 900, "EUR", T0);
	row(r, DG_SK_CHARGE, "ch_rev", "", "O9", 900, "EUR", T0);
	row(r, DG_SK_CHARGE, "ch_fail", "", "O10", 400, "EUR", T0);
	row(r, DG_SK_OTHER, "po_1", "", "", -5000, "EUR", T0);
	got = report(r, false);
	ck_assert_str_eq(got, "amount_mismatch ch_amt 1000 1001 1\n"
			      "amount_mismatch ch_flip 500 500 0\n"
			      "currency_mismatch ch_ccy 1000 1000 -1\n"
			      "duplicate_in_ledger ch_d2 2000 -1 -2000\n"
			      "duplicate_in_settlement ch_ok -1 1000 1000\n"
			      "missing_in_ledger ch_new -1 1500 1500\n"
			      "missing_in_settlement ch_gone 700 -1 -700\n"
			      "status_mismatch ch_disp 900 900 0\n"
			      "status_mismatch ch_fail 400 400 0\n");
	free(got);
	dg_recon_free(r);
}
END_TEST

START_TEST(test_all_rows_lists_matched_and_other)
{
	struct dg_recon *r =
		recon_with("ch_ok,charge,O1,10.00,EUR,2025-11-26T09:00:00Z,\n");
	char *got;

	row(r, DG_SK_CHARGE, "ch_ok", "", "O1", 1000, "EUR", T0);
	row(r, DG_SK_OTHER, "po_1", "", "", -5000, "EUR", T0);
	got = report(r, true);
	ck_assert_str_eq(got, "matched ch_ok 1000 1000 0\n"
			      "other po_1 -1 -5000 -1\n");
	free(got);
	dg_recon_free(r);
}
END_TEST

/* An order settled twice for two ledger charges and once more in the
 * file under an id the ledger lacks: no charge of it is extra. */
START_TEST(test_order_counts_settled_charges)
{
	struct dg_recon *r =
		recon_with("ch_a,charge,O1,10.00,EUR,2025-11-26T09:00:00Z,\n"
			   "ch_b,charge,O1,10.00,EUR,2025-11-26T09:00:01Z,\n"
			   "ch_c,charge,O2,10.00,EUR,2025-11-26T09:00:00Z,\n");
	char *got;

	row(r, DG_SK_CHARGE, "ch_a", "", "O1", 1000, "EUR", T0);
	row(r, DG_SK_CHARGE, "ch_x", "", "O1", 1000, "EUR", T0 + 60);
	got = report(r, false);
	ck_assert_str_eq(got, "missing_in_ledger ch_x -1 1000 1000\n"
			      "missing_in_settlement ch_b 1000 -1 -1000\n"
			      "missing_in_settlement ch_c 1000 -1 -1000\n");
	free(got);
	dg_recon_free(r);
}
END_TEST

START_TEST(test_threshold_in_integers)
{
	struct dg_recon *r =
		recon_with("ch_1,charge,O1,1000.00,USD,2025-11-26T09:00:00Z,\n"
			   "ch_2,charge,O2,5.00,USD,2025-11-26T09:00:00Z,\n");
	const struct dg_recon_total *t;
	char pct[DG_PERCENT_SIZE];
	int64_t thr;
	char *got;

	row(r, DG_SK_CHARGE, "ch_1", "", "O1", 100000, "USD", T0);
	row(r, DG_SK_CHARGE, "ch_2", "", "O2", 500, "USD", T0);
	row(r, DG_SK_CHARGE, "ch_3", "", "O3", 2, "USD", T0);
	got = report(r, false);
	free(got);
	ck_assert_uint_eq(dg_recon_ntotals(r), 1);
	t = dg_recon_total(r, 0);
	ck_assert_str_eq(t->currency, "USD");
	ck_assert(t->settled_value == 100502);
	ck_assert(t->mismatched_value == 2);
	ck_assert(t->matched_value == 100500);
	dg_recon_percent(t, pct);
	ck_assert_str_eq(pct, "0.00");
	ck_assert_int_eq(dg_recon_threshold_parse("0.5", &thr), 0);
	ck_assert(!dg_recon_over(t, thr));
	ck_assert_int_eq(dg_recon_threshold_parse("0.0001", &thr), 0);
	ck_assert(dg_recon_over(t, thr));
	ck_assert_int_eq(dg_recon_threshold_parse("0.002", &thr), 0);
	ck_assert(!dg_recon_over(t, thr)); /* 2/100502 = 0.00199 % */
	ck_assert_int_eq(dg_recon_threshold_parse("-1", &thr), -1);
	ck_assert_int_eq(dg_recon_threshold_parse("0.00001", &thr), -1);
	ck_assert_int_eq(dg_recon_threshold_parse("1e3", &thr), -1);
	dg_recon_free(r);
}
END_TEST

START_TEST(test_percent_half_up)
{
	struct dg_recon_total t = {.settled_value = 800, .mismatched_value = 1};
	char pct[DG_PERCENT_SIZE];

	dg_recon_percent(&t, pct); /* 0.125 % */
	ck_assert_str_eq(pct, "0.13");
	t.settled_value = 0;
	dg_recon_percent(&t, pct);
	ck_assert_str_eq(pct, "");
	ck_assert(dg_recon_over(&t, 500000));
	t.mismatched_value = 0;
	dg_recon_percent(&t, pct);
	ck_assert_str_eq(pct, "0.00");
	ck_assert(!dg_recon_over(&t, 0));
}
END_TEST

START_TEST(test_cross_currency_compares_customer_facing)
{
	struct dg_recon *r =
		recon_with("ch_x,charge,O1,95.00,EUR,2025-11-26T09:00:00Z,\n"
			   "ch_y,charge,O2,95.00,EUR,2025-11-26T09:00:00Z,\n");
	struct dg_settle_row s = {.kind = DG_SK_CHARGE,
				  .category = "charge",
				  .txn_id = "ch_x",
				  .ref_txn_id = "",
				  .order_id = "O1",
				  .gross = 10312,
				  .fee = 330,
				  .net = 9982,
				  .currency = "USD",
				  .cf_amount = 9500,
				  .cf_currency = "EUR",
				  .at = T0,
				  .file = "s.csv",
				  .line = 2};
	char *got;

	ck_assert_int_eq(dg_recon_settle_row(r, &s), 0);
	s.txn_id = "ch_y";
	s.order_id = "O2";
	s.cf_amount = 9400;
	s.line = 3;
	ck_assert_int_eq(dg_recon_settle_row(r, &s), 0);
	got = report(r, false);
	ck_assert_str_eq(got, "amount_mismatch ch_y 9500 9400 -100\n");
	free(got);
	ck_assert_uint_eq(dg_recon_ntotals(r), 2);
	ck_assert_str_eq(dg_recon_total(r, 0)->currency, "EUR");
	ck_assert(dg_recon_total(r, 0)->matched_count == 1);
	ck_assert(dg_recon_total(r, 0)->mismatched_value == 100);
	ck_assert(dg_recon_total(r, 0)->rows == 0);
	ck_assert_str_eq(dg_recon_total(r, 1)->currency, "USD");
	ck_assert(dg_recon_total(r, 1)->rows == 2);
	ck_assert(dg_recon_total(r, 1)->gross == 20624);
	ck_assert(dg_recon_total(r, 1)->net == 19964);
	dg_recon_free(r);
}
END_TEST

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines sorted and joined, freed. */
static char *joined(char **v, size_t n)
{
	char *s = NULL;
	size_t len = 0, cap = 0, i;

	qsort(v, n, sizeof(*v), cmp_line);
	for (i = 0; i < n; i++) {
		dg_xappend(&s, &len, &cap, v[i]);
		free(v[i]);
	}
	free(v);
	return s ? s : dg_xstrdup("");
}

/*
 * Enough rows for the lookups in blocks on a second thread, while the
 * rows are matched behind it: every planted difference found once, in
 * order, as with a handful of rows.
 */
START_TEST(test_many_rows_in_blocks)
{
	enum { N = 100000, EXTRA = 50, DUPS = 30 };
	char *body = NULL, *got, *want, **exp;
	size_t len = 0, cap = 0, nexp = 0, k, j;
	char line[128], at[DG_RFC3339_SIZE], id[32];
	struct dg_recon *r;

	exp = dg_xmalloc((N + EXTRA + DUPS + 1) * sizeof(*exp));
	for (k = 0; k < N; k++) {
		int a = 1000 + (int)(k % 500);

		dg_format_rfc3339(T0 + (dg_time)k, at);
		snprintf(line, sizeof(line),
			 "ch_%06zu,charge,o%06zu,%d.%02d,USD,%s,\n", k, k,
			 a / 100, a % 100, at);
		dg_xappend(&body, &len, &cap, line);
	}
	r = recon_with(body);
	free(body);
	for (k = 0; k < N; k++) {
		int a = 1000 + (int)(k % 500);

		snprintf(id, sizeof(id), "ch_%06zu", k);
		if (k % 1500 == 7) {
			snprintf(line, sizeof(line),
				 "missing_in_settlement %s %d -1 %d\n", id, a,
				 -a);
			exp[nexp++] = dg_xstrdup(line);
			continue;
		}
		snprintf(line, sizeof(line), "o%06zu", k);
		row(r, DG_SK_CHARGE, id, "", line, a + (k % 1000 == 3 ? 1 : 0),
		    "USD", T0 + (dg_time)k);
		if (k % 1000 == 3) {
			snprintf(line, sizeof(line),
				 "amount_mismatch %s %d %d 1\n", id, a, a + 1);
			exp[nexp++] = dg_xstrdup(line);
		}
	}
	for (j = 0; j < EXTRA; j++) {
		snprintf(id, sizeof(id), "zz_%03zu", j);
		row(r, DG_SK_CHARGE, id, "", "", 777, "USD", T0 + 5);
		snprintf(line, sizeof(line),
			 "missing_in_ledger %s -1 777 777\n", id);
		exp[nexp++] = dg_xstrdup(line);
	}
	for (j = 0; j < DUPS; j++) {
		int a;

		k = j * 3001 + 11;
		if (k % 1500 == 7)
			continue;
		a = 1000 + (int)(k % 500) + (k % 1000 == 3 ? 1 : 0);
		snprintf(id, sizeof(id), "ch_%06zu", k);
		row(r, DG_SK_CHARGE, id, "", "", a, "USD", T0 + N / 2);
		snprintf(line, sizeof(line),
			 "duplicate_in_settlement %s -1 %d %d\n", id, a, a);
		exp[nexp++] = dg_xstrdup(line);
	}
	row(r, DG_SK_CHARGE, "zz_000", "", "", 777, "USD", T0 + 6);
	exp[nexp++] = dg_xstrdup("duplicate_in_settlement zz_000 -1 777 777\n");
	want = joined(exp, nexp);
	got = report(r, false);
	ck_assert_uint_eq(nexp, 248); /* 67 + 100 + 50 + 30 + 1 */
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	dg_recon_free(r);
}
END_TEST

START_TEST(test_bad_ledger_rows_refused)
{
	struct dg_recon *r = dg_recon_new();
	char *err;
	FILE *fp;
	int fd;

	snprintf(ledger_path, sizeof(ledger_path), "%s",
		 "/tmp/check-reconcile-XXXXXX");
	fd = mkstemp(ledger_path);
	fp = fdopen(fd, "w");
	fputs("gateway_txn_id,kind,order_id,amount,currency,created_at\n"
	      "ch_1,charge,O1,10.001,EUR,2025-11-26T09:00:00Z\n"
	      "ch_2,charge,O1,-1.00,EUR,2025-11-26T09:00:00Z\n"
	      "ch_3,payout,O1,1.00,EUR,2025-11-26T09:00:00Z\n"
	      "ch_4,charge,O1,1.00,EUR,yesterday\n"
	      "ch_5,charge,O1,1,JPY,2025-11-26T09:00:00Z\n"
	      "ch_5,charge,O1,1,JPY,2025-11-26T09:00:00Z\n",
	      fp);
	fclose(fp);
	test_capture_begin();
	ck_assert_int_eq(dg_recon_ledger_file(r, ledger_path, DG_IN_AUTO), 65);
	err = test_capture_end();
	unlink(ledger_path);
	ck_assert_ptr_nonnull(strstr(err, ":2: amount: "));
	ck_assert_ptr_nonnull(strstr(err, ":3: amount: not a positive amount"));
	ck_assert_ptr_nonnull(strstr(err, ":4: kind: not charge or refund"));
	ck_assert_ptr_nonnull(strstr(err, ":5: created_at: "));
	ck_assert_ptr_nonnull(strstr(
		err, ":7: gateway_txn_id 'ch_5' is in the ledger twice"));
	free(err);
	dg_recon_free(r);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("reconcile");
	TCase *tc = tcase_create("match");

	tcase_add_test(tc, test_every_kind_once);
	tcase_add_test(tc, test_all_rows_lists_matched_and_other);
	tcase_add_test(tc, test_order_counts_settled_charges);
	tcase_add_test(tc, test_threshold_in_integers);
	tcase_add_test(tc, test_percent_half_up);
	tcase_add_test(tc, test_cross_currency_compares_customer_facing);
	tcase_add_test(tc, test_bad_ledger_rows_refused);
	tcase_add_test(tc, test_many_rows_in_blocks);
	suite_add_tcase(s, tc);
	return s;
}
