/*
 * check_bucket: the shared token bucket on a fake clock, and the size
 * arguments (bucket.c).
 */
#include <stdlib.h>

#include "check_main.h"
#include "daigou.h"

#define SEC 1000000000LL
#define MS  1000000LL

START_TEST(test_refill)
{
	struct dg_bucket b;

	dg_bucket_init(&b, 1000, 100, 5 * SEC);
	ck_assert_int_eq(b.tokens, 100);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 5 * SEC), 0);
	dg_bucket_spend(&b, 100, 5 * SEC);
	ck_assert_int_eq(b.tokens, 0);
	/* one byte a millisecond */
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 5 * SEC), MS);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 5 * SEC + MS - 1), 1);
	ck_assert_int_eq(b.tokens, 0);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 5 * SEC + MS), 0);
	ck_assert_int_eq(b.tokens, 1);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 5 * SEC + 50 * MS), 0);
	ck_assert_int_eq(b.tokens, 50);
}
END_TEST

START_TEST(test_debt)
{
	struct dg_bucket b;

	dg_bucket_init(&b, 1000, 100, 0);
	/* a chunk larger than what is left is taken whole */
	dg_bucket_spend(&b, 600, 0);
	ck_assert_int_eq(b.tokens, -500);
	/* paid when a byte is left over: 501 ms */
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 0), 501 * MS);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 250 * MS), 251 * MS);
	ck_assert_int_eq(b.tokens, -250);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 500 * MS), MS);
	ck_assert_int_eq(b.tokens, 0);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 501 * MS), 0);
	ck_assert_int_eq(b.tokens, 1);
	/* more debt on top of debt */
	dg_bucket_spend(&b, 1001, 501 * MS);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 501 * MS), 1001 * MS);
}
END_TEST

START_TEST(test_burst_cap)
{
	struct dg_bucket b;

	dg_bucket_init(&b, 1000, 100, 0);
	dg_bucket_spend(&b, 100, 0);
	/* ten idle seconds earn no more than the burst */
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 10 * SEC), 0);
	ck_assert_int_eq(b.tokens, 100);
	dg_bucket_spend(&b, 100, 10 * SEC);
	ck_assert_int_eq(b.tokens, 0);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 10 * SEC), MS);
	/* the time spent full was not banked either */
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 10 * SEC + 2 * MS), 0);
	ck_assert_int_eq(b.tokens, 2);
	/* a burst below one byte is one byte */
	dg_bucket_init(&b, 1000, 0, 0);
	ck_assert_int_eq(b.tokens, 1);
	ck_assert_int_eq(b.burst, 1);
}
END_TEST

/* Refills more often than a byte is earned lose nothing: four bytes a
 * second checked every 100 ms (0.4 bytes each time) are 40 bytes in ten
 * seconds, not 0. */
START_TEST(test_fraction_carried)
{
	struct dg_bucket b;
	int64_t t;

	dg_bucket_init(&b, 4, 1000, 0);
	dg_bucket_spend(&b, 1000, 0);
	for (t = 100 * MS; t <= 10 * SEC; t += 100 * MS)
		dg_bucket_wait_ns(&b, t);
	ck_assert_int_eq(b.tokens, 40);
	/* the same with a spend on each step */
	dg_bucket_init(&b, 4, 1000, 0);
	dg_bucket_spend(&b, 1000, 0);
	for (t = 100 * MS; t <= 10 * SEC; t += 100 * MS)
		dg_bucket_spend(&b, 1, t);
	ck_assert_int_eq(b.tokens, 40 - 100);
}
END_TEST

START_TEST(test_clock_back)
{
	struct dg_bucket b;

	dg_bucket_init(&b, 1000, 100, 10 * SEC);
	dg_bucket_spend(&b, 100, 10 * SEC);
	/* an earlier time earns nothing and waits the whole byte */
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 9 * SEC), MS);
	ck_assert_int_eq(b.tokens, 0);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 10 * SEC + MS), 0);
}
END_TEST

START_TEST(test_unlimited)
{
	struct dg_bucket b;

	dg_bucket_init(&b, 0, 0, 0);
	dg_bucket_spend(&b, 1LL << 40, 0);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 0), 0);
	dg_bucket_init(&b, -5, 100, 0);
	dg_bucket_spend(&b, 1LL << 40, 0);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 0), 0);
}
END_TEST

/* Debt past anything real neither wraps nor overflows the wait. */
START_TEST(test_huge)
{
	struct dg_bucket b;

	dg_bucket_init(&b, 1, 1, 0);
	dg_bucket_spend(&b, INT64_MAX, 0);
	dg_bucket_spend(&b, INT64_MAX, 0);
	ck_assert_int_lt(b.tokens, 0);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 0), INT64_MAX);
	dg_bucket_init(&b, INT64_MAX, INT64_MAX, 0);
	dg_bucket_spend(&b, INT64_MAX, 0);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, 0), 1);
	ck_assert_int_eq(dg_bucket_wait_ns(&b, INT64_MAX), 0);
	ck_assert_int_eq(b.tokens, INT64_MAX);
}
END_TEST

/*
 * A simulated run: ten transfers' worth of chunks of 1 to 64 KiB (a
 * fixed pseudo-random sequence) arrive at 1 GB/s whenever the bucket
 * lets them, for 120 simulated seconds at 20 MiB/s. The average is
 * within 0.1 % of the rate, and no whole second takes more than the rate
 * plus the burst plus one chunk (the first, with the full bucket) or
 * strays further than a burst and a chunk from it (the others).
 */
START_TEST(test_average_rate)
{
	const int64_t rate = 20 * 1024 * 1024, burst = 256 * 1024;
	const int64_t chunk_max = 64 * 1024, end = 120 * SEC;
	int64_t per_sec[120] = {0}, now = 0, total = 0, w, c;
	uint32_t seed = 12345;
	struct dg_bucket b;
	int i;

	dg_bucket_init(&b, rate, burst, now);
	while (now < end) {
		w = dg_bucket_wait_ns(&b, now);
		if (w > 0) {
			now += w;
			continue;
		}
		seed = seed * 1103515245u + 12345u;
		c = 1 + (int64_t)(seed >> 8) % chunk_max;
		dg_bucket_spend(&b, c, now);
		now += c; /* 1 ns a byte */
		if (now >= end)
			break;
		per_sec[now / SEC] += c;
		total += c;
	}
	/* total / 120 s within 0.1 % of rate, in integers */
	ck_assert_msg(total * 1000 >= rate * 120 * 999 &&
			      total * 1000 <= rate * 120 * 1001,
		      "%lld bytes in 120 s for a rate of %lld B/s",
		      (long long)total, (long long)rate);
	ck_assert_int_le(per_sec[0], rate + burst + chunk_max);
	for (i = 1; i < 119; i++) {
		ck_assert_int_le(per_sec[i], rate + burst + chunk_max);
		ck_assert_int_ge(per_sec[i], rate - burst - chunk_max);
	}
}
END_TEST

static const struct {
	const char *s;
	int rc;
	int64_t want;
} sizes[] = {
	{"20000", 0, 20000},
	{"0", 0, 0},
	{"007", 0, 7},
	{"512k", 0, 524288},
	{"512K", 0, 524288},
	{"50M", 0, 52428800},
	{"50m", 0, 52428800},
	{"20M", 0, 20971520},
	{"2G", 0, 2147483648LL},
	{"2g", 0, 2147483648LL},
	{"9223372036854775807", 0, INT64_MAX},
	{"8589934591G", 0, 9223372035781033984LL},
	{"8796093022207M", 0, 9223372036853727232LL},
	{"9223372036854775808", -1, 0},
	{"8589934592G", -1, 0},
	{"8796093022208M", -1, 0},
	{"99999999999999999999999", -1, 0},
	{"", -1, 0},
	{"M", -1, 0},
	{"k1", -1, 0},
	{"-1", -1, 0},
	{"+1", -1, 0},
	{" 1", -1, 0},
	{"1 ", -1, 0},
	{"1.5M", -1, 0},
	{"1MB", -1, 0},
	{"1Mk", -1, 0},
	{"1T", -1, 0},
	{"1b", -1, 0},
	{"0x10", -1, 0},
	{"1e6", -1, 0},
	{"\xd9\xa1", -1, 0},
	{NULL, -1, 0},
};

START_TEST(test_size_parse)
{
	int64_t got = -42;
	int rc = dg_size_parse(sizes[_i].s, &got);

	ck_assert_msg(rc == sizes[_i].rc, "%s: %d", sizes[_i].s, rc);
	ck_assert_int_eq(got, rc == 0 ? sizes[_i].want : -42);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("bucket");
	TCase *tc = tcase_create("bucket");

	tcase_add_test(tc, test_refill);
	tcase_add_test(tc, test_debt);
	tcase_add_test(tc, test_burst_cap);
	tcase_add_test(tc, test_fraction_carried);
	tcase_add_test(tc, test_clock_back);
	tcase_add_test(tc, test_unlimited);
	tcase_add_test(tc, test_huge);
	tcase_add_test(tc, test_average_rate);
	tcase_add_loop_test(tc, test_size_parse, 0, DG_NELEM(sizes));
	suite_add_tcase(s, tc);
	return s;
}
