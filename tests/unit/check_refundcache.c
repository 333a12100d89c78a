/*
 * check_refundcache: the orders of a refund run by id (adding, finding,
 * growing past the first array and index, emptying, the gen wrapping),
 * and a charge allocated over lines and units.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "daigou.h"

/* id "ORD-n" added with amount n. */
static void add(struct dg_order_cache *oc, int n)
{
	struct dg_cached_order *e = dg_order_cache_room(oc);

	snprintf(e->id, sizeof(e->id), "ORD-%d", n);
	e->valid = true;
	e->o.amount = n;
	dg_order_cache_add(oc);
}

static struct dg_cached_order *get(struct dg_order_cache *oc, int n)
{
	char id[DG_ID_MAX + 1];

	snprintf(id, sizeof(id), "ORD-%d", n);
	return dg_order_cache_get(oc, id);
}

START_TEST(test_empty_cache_finds_nothing)
{
	struct dg_order_cache oc;

	dg_order_cache_init(&oc);
	ck_assert_ptr_null(dg_order_cache_get(&oc, "ORD-1"));
	ck_assert_ptr_null(dg_order_cache_get(&oc, NULL));
	dg_order_cache_free(&oc);
}
END_TEST

START_TEST(test_many_orders_each_found)
{
	struct dg_order_cache oc;
	int i;

	dg_order_cache_init(&oc);
	for (i = 0; i < 5000; i++)
		add(&oc, i);
	ck_assert_uint_eq(oc.norders, 5000);
	for (i = 0; i < 5000; i++) {
		struct dg_cached_order *e = get(&oc, i);

		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq(e->o.amount, i);
		ck_assert_ptr_eq(e, &oc.orders[i]);
	}
	ck_assert_ptr_null(get(&oc, 5000));
	ck_assert_ptr_null(dg_order_cache_get(&oc, "ORD-"));
	dg_order_cache_free(&oc);
}
END_TEST

START_TEST(test_clear_forgets_and_keeps_memory)
{
	struct dg_order_cache oc;
	struct dg_cached_order *e;
	int i;

	dg_order_cache_init(&oc);
	for (i = 0; i < 100; i++)
		add(&oc, i);
	e = &oc.orders[7];
	e->o.lines = dg_xcalloc(4, sizeof(*e->o.lines));
	e->o.cap = 4;
	ck_assert(!dg_order_cache_clear(&oc));
	ck_assert_uint_eq(oc.norders, 0);
	for (i = 0; i < 100; i++)
		ck_assert_ptr_null(get(&oc, i));
	add(&oc, 42);
	ck_assert_ptr_eq(get(&oc, 42), &oc.orders[0]);
	ck_assert_ptr_null(get(&oc, 0));
	/* the lines of an entry stay for the next order put there */
	ck_assert_ptr_nonnull(oc.orders[7].o.lines);
	dg_order_cache_free(&oc);
}
END_TEST

START_TEST(test_gen_wraps)
{
	struct dg_order_cache oc;

	dg_order_cache_init(&oc);
	add(&oc, 1);
	oc.gen = UINT_MAX;
	add(&oc, 2);
	ck_assert_ptr_nonnull(get(&oc, 2));
	ck_assert(dg_order_cache_clear(&oc));
	ck_assert_uint_eq(oc.gen, 1);
	/* ORD-1's slot had gen 1: it must not come back */
	ck_assert_ptr_null(get(&oc, 1));
	ck_assert_ptr_null(get(&oc, 2));
	dg_order_cache_free(&oc);
}
END_TEST

START_TEST(test_shares_add_up_to_the_charge)
{
	struct dg_oline lines[3] = {
		{.line = 1, .qty = 3, .amount = 5700},
		{.line = 2, .qty = 1, .amount = 31800},
		{.line = 3, .qty = 2, .amount = 1800},
	};
	struct dg_order o = {
		.charge_total = 34291, .lines = lines, .nlines = 3};
	int64_t w[3], s[3], sum = 0, units = 0;
	int64_t k;
	size_t i;

	ck_assert_int_eq(dg_order_shares(&o, w, s), 0);
	for (i = 0; i < 3; i++)
		sum += lines[i].share;
	ck_assert_int_eq(sum, 34291);
	/* 17100, 31800, 3600 of 52500 */
	ck_assert_int_eq(lines[0].share, 11169);
	ck_assert_int_eq(lines[1].share, 20771);
	ck_assert_int_eq(lines[2].share, 2351);
	/* the units of a line: the remainder to the first ones */
	ck_assert_int_eq(dg_oline_units_charge(&lines[0], 1), 3723);
	ck_assert_int_eq(dg_oline_units_charge(&lines[0], 2), 7446);
	ck_assert_int_eq(dg_oline_units_charge(&lines[0], 3), 11169);
	ck_assert_int_eq(dg_oline_units_charge(&lines[2], 1), 1176);
	for (k = 1; k <= 2; k++)
		units += dg_oline_units_charge(&lines[2], k) -
			 dg_oline_units_charge(&lines[2], k - 1);
	ck_assert_int_eq(units, 2351);
}
END_TEST

START_TEST(test_shares_overflow)
{
	struct dg_oline lines[1] = {{.line = 1, .qty = 2, .amount = INT64_MAX}};
	struct dg_order o = {.charge_total = 100, .lines = lines, .nlines = 1};
	int64_t w[1], s[1];

	ck_assert_int_eq(dg_order_shares(&o, w, s), -1);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("refundcache");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, test_empty_cache_finds_nothing);
	tcase_add_test(tc, test_many_orders_each_found);
	tcase_add_test(tc, test_clear_forgets_and_keeps_memory);
	tcase_add_test(tc, test_gen_wraps);
	tcase_add_test(tc, test_shares_add_up_to_the_charge);
	tcase_add_test(tc, test_shares_overflow);
	suite_add_tcase(s, tc);
	return s;
}
