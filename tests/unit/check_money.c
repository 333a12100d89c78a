/* Unit tests for money.c: amounts, rates, conversion, rounding, the
 * effective rate, the drift check, allocation, checked arithmetic. */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "daigou.h"

/* 1e-45 and the largest coefficient: the extremes dg_rate_parse takes. */
#define TINY	  "0.000000000000000000000000000000000000000000001"
#define HUGE_COEF "999999999999999999"

/* ---------------------------------------------------------- amounts */

static const struct {
	const char *text;
	int exp;
	int64_t want;
} amount_good[] = {
	{"0", 2, 0},
	{"0.00", 2, 0},
	{"-0", 2, 0},
	{"-0.00", 2, 0},
	{"102.30", 2, 10230},
	{"102.3", 2, 10230},
	{"16500", 0, 16500},
	{"1.250", 3, 1250},
	{"1.25", 3, 1250},
	{"0.0001", 4, 1},
	{"-0.05", 2, -5},
	{"-12.30", 2, -1230},
	/* leading zeros are accepted */
	{"007", 0, 7},
	{"007.50", 2, 750},
	{"-007", 2, -700},
	{"00000000000000000000000001", 0, 1},
	/* the ends of int64, INT64_MIN included */
	{"9223372036854775807", 0, INT64_MAX},
	{"-9223372036854775808", 0, INT64_MIN},
	{"92233720368547758.07", 2, INT64_MAX},
	{"-92233720368547758.08", 2, INT64_MIN},
	{"922337203685477.5807", 4, INT64_MAX},
	{"-922337203685477.5808", 4, INT64_MIN},
	{"1", 18, 1000000000000000000},
	{"9.223372036854775807", 18, INT64_MAX},
};

START_TEST(test_amount_parse_good)
{
	int64_t v = 42;

	ck_assert_int_eq(
		dg_amount_parse(amount_good[_i].text, amount_good[_i].exp, &v),
		DG_M_OK);
	ck_assert_int_eq(v, amount_good[_i].want);
}
END_TEST

static const struct {
	const char *text;
	int exp;
	enum dg_merr err;
} amount_bad[] = {
	{"", 2, DG_M_SYNTAX},
	{"-", 2, DG_M_SYNTAX},
	{"+1", 2, DG_M_SYNTAX},
	{"1.", 2, DG_M_SYNTAX},
	{".5", 2, DG_M_SYNTAX},
	{"-.5", 2, DG_M_SYNTAX},
	{"1e5", 2, DG_M_SYNTAX},
	{"1E5", 2, DG_M_SYNTAX},
	{"1.2e1", 2, DG_M_SYNTAX},
	{"1.2.3", 2, DG_M_SYNTAX},
	{" 1", 2, DG_M_SYNTAX},
	{"1 ", 2, DG_M_SYNTAX},
	{"1\n", 2, DG_M_SYNTAX},
	{"--1", 2, DG_M_SYNTAX},
	{"+-1", 2, DG_M_SYNTAX},
	{"-+1", 2, DG_M_SYNTAX},
	{"1-", 2, DG_M_SYNTAX},
	{"1,00", 2, DG_M_SYNTAX},
	{"1_000", 2, DG_M_SYNTAX},
	{"0x10", 2, DG_M_SYNTAX},
	{"12a", 2, DG_M_SYNTAX},
	{"NaN", 2, DG_M_SYNTAX},
	{"inf", 2, DG_M_SYNTAX},
	{"\xd9\xa1", 2, DG_M_SYNTAX}, /* ARABIC-INDIC DIGIT ONE */
	{"1.-2", 2, DG_M_SYNTAX},
	{"1.234", 2, DG_M_PRECISION},
	{"-0.001", 2, DG_M_PRECISION},
	{"1.0", 0, DG_M_PRECISION},
	{"0.5", 0, DG_M_PRECISION},
	{"16500.0", 0, DG_M_PRECISION},
	{"1.00001", 4, DG_M_PRECISION},
	{"1.2345", 3, DG_M_PRECISION},
	{"9223372036854775808", 0, DG_M_OVERFLOW},
	{"-9223372036854775809", 0, DG_M_OVERFLOW},
	{"92233720368547758.08", 2, DG_M_OVERFLOW},
	{"-92233720368547758.09", 2, DG_M_OVERFLOW},
	{"99999999999999999999", 0, DG_M_OVERFLOW},
	{"100000000000000000", 2, DG_M_OVERFLOW},
	{"10", 18, DG_M_OVERFLOW},
	{"1", -1, DG_M_INVALID},
	{"1", 19, DG_M_INVALID},
};

START_TEST(test_amount_parse_bad)
{
	int64_t v = 42;

	ck_assert_msg(dg_amount_parse(amount_bad[_i].text, amount_bad[_i].exp,
				      &v) == amount_bad[_i].err,
		      "'%s' exp %d: want %s", amount_bad[_i].text,
		      amount_bad[_i].exp, dg_merr_str(amount_bad[_i].err));
	ck_assert_int_eq(v, 42);
}
END_TEST

static const struct {
	int64_t minor;
	int exp;
	const char *want;
} amount_fmt[] = {
	{10230, 2, "102.30"},
	{16500, 0, "16500"},
	{1250, 3, "1.250"},
	{-5, 2, "-0.05"},
	{0, 2, "0.00"},
	{0, 0, "0"},
	{0, 4, "0.0000"},
	{1, 4, "0.0001"},
	{-1, 0, "-1"},
	{-100, 2, "-1.00"},
	{12345, 4, "1.2345"},
	{INT64_MAX, 2, "92233720368547758.07"},
	{INT64_MIN, 2, "-92233720368547758.08"},
	{INT64_MIN, 0, "-9223372036854775808"},
	{INT64_MIN, 18, "-9.223372036854775808"},
	{5, 18, "0.000000000000000005"},
	{5, -1, ""},
	{5, 19, ""},
};

START_TEST(test_amount_format)
{
	char buf[DG_AMOUNT_SIZE];

	dg_amount_format(amount_fmt[_i].minor, amount_fmt[_i].exp, buf);
	ck_assert_str_eq(buf, amount_fmt[_i].want);
}
END_TEST

/* format then parse gives the amount back, for every exponent */
START_TEST(test_amount_round_trip)
{
	static const int64_t values[] = {
		0,
		1,
		-1,
		5,
		-5,
		99,
		-99,
		100,
		10230,
		-10230,
		1234567,
		INT64_MAX,
		INT64_MIN,
		INT64_MAX - 1,
		INT64_MIN + 1,
	};
	char buf[DG_AMOUNT_SIZE];
	size_t i;
	int64_t v;

	for (i = 0; i < DG_NELEM(values); i++) {
		dg_amount_format(values[i], _i, buf);
		ck_assert_int_eq(dg_amount_parse(buf, _i, &v), DG_M_OK);
		ck_assert_int_eq(v, values[i]);
	}
}
END_TEST

/* totals past int64: the extremes of 128 bits, exactly */
#define I128_MAX ((__int128)(~(unsigned __int128)0 >> 1))
static const struct {
	__int128 minor;
	int exp;
	const char *want;
} total_fmt[] = {
	{0, 2, "0.00"},
	{-5, 2, "-0.05"},
	{10230, 2, "102.30"},
	{(__int128)INT64_MAX + 1, 2, "92233720368547758.08"},
	{(__int128)INT64_MAX * 3, 0, "27670116110564327421"},
	{-(__int128)INT64_MAX * 3, 3, "-27670116110564327.421"},
	{I128_MAX, 2, "1701411834604692317316873037158841057.27"},
	{-I128_MAX - 1, 18, "-170141183460469231731.687303715884105728"},
	{I128_MAX, 0, "170141183460469231731687303715884105727"},
	{5, 19, ""},
};

START_TEST(test_total_format)
{
	char buf[DG_TOTAL_SIZE];

	dg_total_format(total_fmt[_i].minor, total_fmt[_i].exp, buf);
	ck_assert_str_eq(buf, total_fmt[_i].want);
}
END_TEST

/* ------------------------------------------------------------ rates */

static const struct {
	const char *text;
	uint64_t coef;
	int scale;
} rate_good[] = {
	{"186.75", 18675, 2},
	{"0.87058", 87058, 5},
	{"4.7630", 47630, 4},
	{"1", 1, 0},
	{"161.29", 16129, 2},
	{"0.0001", 1, 4},
	{"100000", 100000, 0},
	{"007.5", 75, 1},
	{"123456789012345678", 123456789012345678ULL, 0},
	{"1.00000000000000000", 100000000000000000ULL, 17},
	{"0.123456789012345678", 123456789012345678ULL, 18},
	{HUGE_COEF, 999999999999999999ULL, 0},
	{TINY, 1, 45},
};

START_TEST(test_rate_parse_good)
{
	struct dg_rate r;

	ck_assert_int_eq(dg_rate_parse(rate_good[_i].text, &r), DG_M_OK);
	ck_assert_uint_eq(r.coef, rate_good[_i].coef);
	ck_assert_int_eq(r.scale, rate_good[_i].scale);
	ck_assert_str_eq(r.text, rate_good[_i].text);
}
END_TEST

static const struct {
	const char *text;
	enum dg_merr err;
} rate_bad[] = {
	{"", DG_M_SYNTAX},
	{"-", DG_M_SYNTAX},
	{"+1", DG_M_SYNTAX},
	{"--1", DG_M_SYNTAX},
	{"1.", DG_M_SYNTAX},
	{".5", DG_M_SYNTAX},
	{"1e5", DG_M_SYNTAX},
	{"1.5E-3", DG_M_SYNTAX},
	{" 1", DG_M_SYNTAX},
	{"1 ", DG_M_SYNTAX},
	{"1,5", DG_M_SYNTAX},
	{"1.2.3", DG_M_SYNTAX},
	{"abc", DG_M_SYNTAX},
	{"0", DG_M_RANGE},
	{"00", DG_M_RANGE},
	{"0.000", DG_M_RANGE},
	{"-1", DG_M_RANGE},
	{"-0.5", DG_M_RANGE},
	{"1234567890123456789", DG_M_DIGITS},
	{"1.000000000000000000", DG_M_DIGITS},
	{"0.1234567890123456789", DG_M_DIGITS},
	{"1000000000000000000", DG_M_DIGITS},
	/* few digits, but the text does not fit */
	{"0.0000000000000000000000000000000000000000000001", DG_M_OVERFLOW},
	{"0000000000000000000000000000000000000000000000001", DG_M_OVERFLOW},
};

START_TEST(test_rate_parse_bad)
{
	struct dg_rate r, before;

	memset(&r, 0x5a, sizeof(r));
	before = r;
	ck_assert_msg(dg_rate_parse(rate_bad[_i].text, &r) == rate_bad[_i].err,
		      "'%s': want %s", rate_bad[_i].text,
		      dg_merr_str(rate_bad[_i].err));
	ck_assert_mem_eq(&r, &before, sizeof(r));
}
END_TEST

static struct dg_rate rate(const char *text)
{
	struct dg_rate r;

	ck_assert_msg(dg_rate_parse(text, &r) == DG_M_OK, "rate '%s'", text);
	return r;
}

static const struct {
	const char *a, *b;
	int want;
} rate_cmp[] = {
	{"1.5", "1.50", 0},	 {"186.75", "186.750", 0},
	{"0.1", "0.09", 1},	 {"100", "99.9999", 1},
	{"0.0001", "0.001", -1}, {"1", "1.00000000000000001", -1},
	{TINY, HUGE_COEF, -1},	 {HUGE_COEF, TINY, 1},
	{"0.5", "0.50000", 0},
};

START_TEST(test_rate_cmp)
{
	struct dg_rate a = rate(rate_cmp[_i].a), b = rate(rate_cmp[_i].b);
	int c = dg_rate_cmp(&a, &b);

	ck_assert_int_eq(c < 0 ? -1 : c > 0, rate_cmp[_i].want);
}
END_TEST

/* ------------------------------------------------------- conversion */

#define OVF INT64_C(0x7eadbeef) /* marks an expected DG_M_OVERFLOW */

static const struct {
	const char *what;
	int64_t amount;
	int from, to;
	const char *mul, *div;
	int64_t half_up, half_even;
} conv[] = {
	/* the seed incident: the pinned rate gives back what was paid */
	{"16500 JPY at inverse 161.29", 16500, 0, 2, NULL, "161.29", 10230,
	 10230},
	{"16500 JPY at inverse 165.25", 16500, 0, 2, NULL, "165.25", 9985,
	 9985},
	{"JPY to USD through EUR", 16500, 0, 2, "1.1684", "186.75", 10323,
	 10323},
	{"USD to JPY through EUR", 10323, 2, 0, "186.75", "1.1684", 16500,
	 16500},
	{"102.30 EUR direct at 161.29", 10230, 2, 0, "161.29", NULL, 16500,
	 16500},
	{"99.85 EUR direct at 165.25", 9985, 2, 0, "165.25", NULL, 16500,
	 16500},
	/* ties */
	{"0.5", 1, 0, 0, "0.5", NULL, 1, 0},
	{"1.5", 3, 0, 0, "0.5", NULL, 2, 2},
	{"2.5", 5, 0, 0, "0.5", NULL, 3, 2},
	{"-0.5", -1, 0, 0, "0.5", NULL, -1, 0},
	{"-1.5", -3, 0, 0, "0.5", NULL, -2, -2},
	{"-2.5", -5, 0, 0, "0.5", NULL, -3, -2},
	{"0.5 by inverse 0.2", 1, 4, 3, NULL, "0.2", 1, 0},
	/* rescaling without a rate */
	{"1.25 to 0 digits", 125, 2, 0, NULL, NULL, 1, 1},
	{"1.50 to 0 digits", 150, 2, 0, NULL, NULL, 2, 2},
	{"2.50 to 0 digits", 250, 2, 0, NULL, NULL, 3, 2},
	{"-2.50 to 0 digits", -250, 2, 0, NULL, NULL, -3, -2},
	{"1 to 4 digits", 1, 0, 4, NULL, NULL, 10000, 10000},
	{"1.2345 to 2 digits", 12345, 4, 2, NULL, NULL, 123, 123},
	{"0.0005 to 3 digits", 5, 4, 3, NULL, NULL, 1, 0},
	{"0.0015 to 3 digits", 15, 4, 3, NULL, NULL, 2, 2},
	/* 3- and 4-decimal currencies */
	{"1.250 KWD at 2.5", 1250, 3, 2, "2.5", NULL, 313, 312},
	{"-1.250 KWD at 2.5", -1250, 3, 2, "2.5", NULL, -313, -312},
	{"1.2345 CLF at 39000.5", 12345, 4, 0, "39000.5", NULL, 48146, 48146},
	{"1.234 BHD to 4 digits", 1234, 3, 4, "0.87058", NULL, 10743, 10743},
	/* the ends of int64 */
	{"INT64_MAX at 1", INT64_MAX, 0, 0, "1", NULL, INT64_MAX, INT64_MAX},
	{"INT64_MIN at 1", INT64_MIN, 0, 0, "1", NULL, INT64_MIN, INT64_MIN},
	{"INT64_MIN inverse 1", INT64_MIN, 0, 0, NULL, "1", INT64_MIN,
	 INT64_MIN},
	{"INT64_MAX at 0.5", INT64_MAX, 0, 0, "0.5", NULL,
	 4611686018427387904LL, 4611686018427387904LL},
	{"INT64_MAX to 0 digits", INT64_MAX, 2, 0, NULL, NULL,
	 92233720368547758LL, 92233720368547758LL},
	{"rounds up past INT64_MAX", 6148914691236517205LL, 0, 0, "1.5", NULL,
	 OVF, OVF},
	{"rounds down onto INT64_MIN", -6148914691236517205LL, 0, 0, "1.5",
	 NULL, INT64_MIN, INT64_MIN},
	{"final overflow", INT64_MAX, 0, 0, "2", NULL, OVF, OVF},
	{"final overflow, negative", INT64_MIN, 0, 0, "1.5", NULL, OVF, OVF},
	{"final overflow by digits", INT64_MAX, 0, 4, NULL, NULL, OVF, OVF},
	{"largest coef", 1, 0, 0, HUGE_COEF, NULL, 999999999999999999LL,
	 999999999999999999LL},
	{"largest coef times 10", 10, 0, 0, HUGE_COEF, NULL, OVF, OVF},
	/* intermediates: large products that fit, powers of ten that do not */
	{"huge mul and div cancel", INT64_MAX, 0, 0, HUGE_COEF, HUGE_COEF,
	 INT64_MAX, INT64_MAX},
	{"tiny rate", INT64_MAX, 0, 0, "0.000000000000000001", NULL, 9, 9},
	{"intermediate overflow", INT64_MAX, 0, 4, "100000000000000000", NULL,
	 OVF, OVF},
	{"intermediate overflow, small amount", 922337, 0, 4, "10000000000000",
	 NULL, OVF, OVF},
	{"inverse of 1e-45", 1, 0, 0, NULL, TINY, OVF, OVF},
	{"INT64_MAX inverse of 1e-45", INT64_MAX, 0, 0, NULL, TINY, OVF, OVF},
	{"1e-45 / 1e18 rounds to 0", 1, 0, 0, TINY, HUGE_COEF, 0, 0},
	{"INT64_MIN at 1e-45 is 0", INT64_MIN, 0, 0, TINY, NULL, 0, 0},
};

START_TEST(test_convert)
{
	static const enum dg_rounding modes[] = {DG_ROUND_HALF_UP,
						 DG_ROUND_HALF_EVEN};
	struct dg_rate m, d;
	size_t k;

	if (conv[_i].mul)
		m = rate(conv[_i].mul);
	if (conv[_i].div)
		d = rate(conv[_i].div);
	for (k = 0; k < DG_NELEM(modes); k++) {
		int64_t want = k ? conv[_i].half_even : conv[_i].half_up;
		int64_t out = 42;
		enum dg_merr e;

		e = dg_convert(conv[_i].amount, conv[_i].from, conv[_i].to,
			       conv[_i].mul ? &m : NULL,
			       conv[_i].div ? &d : NULL, modes[k], &out);
		if (want == OVF) {
			ck_assert_msg(e == DG_M_OVERFLOW && out == 42,
				      "%s (%s): want overflow, got %s %lld",
				      conv[_i].what, dg_rounding_name(modes[k]),
				      dg_merr_str(e), (long long)out);
		} else {
			ck_assert_msg(e == DG_M_OK && out == want,
				      "%s (%s): want %lld, got %s %lld",
				      conv[_i].what, dg_rounding_name(modes[k]),
				      (long long)want, dg_merr_str(e),
				      (long long)out);
		}
	}
}
END_TEST

START_TEST(test_convert_invalid)
{
	struct dg_rate r = rate("1.5"), zero = r, neg = r;
	int64_t out = 42;

	zero.coef = 0;
	neg.scale = -1;
	ck_assert_int_eq(dg_convert(1, -1, 2, &r, NULL, DG_ROUND_HALF_UP, &out),
			 DG_M_INVALID);
	ck_assert_int_eq(dg_convert(1, 2, 19, &r, NULL, DG_ROUND_HALF_UP, &out),
			 DG_M_INVALID);
	ck_assert_int_eq(
		dg_convert(1, 2, 2, &r, NULL, (enum dg_rounding)7, &out),
		DG_M_INVALID);
	ck_assert_int_eq(
		dg_convert(1, 2, 2, &zero, NULL, DG_ROUND_HALF_UP, &out),
		DG_M_INVALID);
	ck_assert_int_eq(
		dg_convert(1, 2, 2, NULL, &zero, DG_ROUND_HALF_UP, &out),
		DG_M_INVALID);
	ck_assert_int_eq(
		dg_convert(1, 2, 2, &neg, NULL, DG_ROUND_HALF_UP, &out),
		DG_M_INVALID);
	ck_assert_int_eq(out, 42);
}
END_TEST

/* Refunding every line of an order, in any split, pays back the charge:
 * 102.30 EUR, never 99.85. */
START_TEST(test_refund_adds_up)
{
	struct dg_rate r = rate("161.29");
	static const int64_t lines[] = {9801, 4499, 2200}; /* JPY */
	int64_t charge, shares[DG_NELEM(lines)], sum = 0;
	size_t i;

	ck_assert_int_eq(
		dg_convert(16500, 0, 2, NULL, &r, DG_ROUND_HALF_UP, &charge),
		DG_M_OK);
	ck_assert_int_eq(charge, 10230);
	ck_assert_int_eq(dg_allocate(charge, lines, DG_NELEM(lines), shares),
			 DG_M_OK);
	for (i = 0; i < DG_NELEM(lines); i++)
		ck_assert_int_eq(dg_add(sum, shares[i], &sum), DG_M_OK);
	ck_assert_int_eq(sum, 10230);
	ck_assert_int_eq(shares[0], 6077);
	ck_assert_int_eq(shares[1], 2789);
	ck_assert_int_eq(shares[2], 1364);
}
END_TEST

/* --------------------------------------------------- effective rate */

static const struct {
	const char *mul, *div, *want;
} effective[] = {
	{NULL, "161.29", "0.00620001240002480"},
	{"161.29", NULL, "161.29"},
	{NULL, NULL, "1"},
	{"4.7630", NULL, "4.763"},
	{"186.75", "186.75", "1"},
	{"100", NULL, "100"},
	{"186.75", "1.1684", "159.833960972270"},
	{"1.1684", "186.75", "0.00625649263721553"},
	{"1.1684", "0.87058", "1.34209377656275"},
	{"2", "8", "0.25"},
	{"1", "3", "0.333333333333333"},
	{"2", "3", "0.666666666666667"},
	{"1", "0.0001", "10000"},
	{"0.0001", "100000", "0.000000001"},
	{"1", "1024", "0.0009765625"},
	/* exact with 14 significant digits; rounded at 21 */
	{NULL, "524288", "0.0000019073486328125"},
	{NULL, "1073741824", "0.000000000931322574615479"},
	/* rounding carries into a new digit */
	{NULL, "1.0000000000000001", "1.00000000000000"},
	{HUGE_COEF, "999999999999999998", "1.00000000000000"},
	/* the extremes fit DG_EFFECTIVE_SIZE */
	{HUGE_COEF, TINY,
	 "999999999999999999000000000000000000000000000000000000000000000"},
	{TINY, HUGE_COEF,
	 "0.0000000000000000000000000000000000000000000000000000000000000010"
	 "0000000000000"},
};

START_TEST(test_effective)
{
	struct dg_rate m, d;
	char buf[DG_EFFECTIVE_SIZE];

	if (effective[_i].mul)
		m = rate(effective[_i].mul);
	if (effective[_i].div)
		d = rate(effective[_i].div);
	ck_assert_int_eq(dg_rate_effective(effective[_i].mul ? &m : NULL,
					   effective[_i].div ? &d : NULL, buf,
					   sizeof(buf)),
			 DG_M_OK);
	ck_assert_str_eq(buf, effective[_i].want);
}
END_TEST

START_TEST(test_effective_buffer)
{
	struct dg_rate r = rate("161.29");
	char buf[8];

	ck_assert_int_eq(dg_rate_effective(&r, NULL, buf, 7), DG_M_OK);
	ck_assert_str_eq(buf, "161.29");
	ck_assert_int_eq(dg_rate_effective(&r, NULL, buf, 6), DG_M_OVERFLOW);
	ck_assert_int_eq(dg_rate_effective(&r, NULL, buf, 0), DG_M_INVALID);
}
END_TEST

/* ---------------------------------------------------------- drift */

static const struct {
	const char *a, *b, *pct;
	int want;
} moved[] = {
	{"102", "100", "2", 0}, /* exactly 2 % is not more than 2 % */
	{"102.01", "100", "2", 1},
	{"98", "100", "2", 0},
	{"97.99", "100", "2", 1},
	{"100.5", "100", "0.5", 0},
	{"100.51", "100", "0.5", 1},
	{"102.25", "100", "2.25", 0},
	{"102.26", "100", "2.25", 1},
	{"1.1684", "1.1684", "0", 0},
	{"1.16841", "1.1684", "0", 1},
	{"165.25", "161.29", "2", 1},
	{"161.29", "165.25", "2", 1},
	{"164.51", "161.29", "2", 0},
	{"164.5158", "161.29", "2", 0}, /* 161.29 * 1.02 exactly */
	{"164.5159", "161.29", "2", 1},
	{"1.1684", "1.1684000", "2.0", 0},
	{HUGE_COEF, TINY, "100000000000000000", 1},
	{TINY, HUGE_COEF, "99.9999999999999999", 1},
	{TINY, HUGE_COEF, "100", 0},
};

START_TEST(test_moved)
{
	struct dg_rate a = rate(moved[_i].a), b = rate(moved[_i].b);

	ck_assert_int_eq(dg_rate_moved_more_than(&a, &b, moved[_i].pct),
			 moved[_i].want);
}
END_TEST

static const char *const bad_pct[] = {
	"",   "-1", "+2", "2%",	 "1e2",	  ".5",
	"1.", " 2", "2 ", "abc", "1.2.3", "1234567890123456789",
};

START_TEST(test_moved_bad_pct)
{
	struct dg_rate a = rate("1.5"), b = rate("1.4");

	ck_assert_int_eq(dg_rate_moved_more_than(&a, &b, bad_pct[_i]), -1);
}
END_TEST

/* ------------------------------------------------------- allocation */

#define MAXW 8

static const struct {
	const char *what;
	int64_t total;
	size_t n;
	int64_t w[MAXW];
	int64_t want[MAXW];
} alloc[] = {
	{"exact", 10230, 3, {5000, 3000, 2000}, {5115, 3069, 2046}},
	{"tie goes to the lowest index", 100, 3, {1, 1, 1}, {34, 33, 33}},
	{"two ties", 100, 6, {1, 1, 1, 1, 1, 1}, {17, 17, 17, 17, 16, 16}},
	{"negative total", -100, 3, {1, 1, 1}, {-34, -33, -33}},
	{"largest remainder first", 10, 2, {1, 2}, {3, 7}},
	{"three thirds", 10, 3, {3, 3, 3}, {4, 3, 3}},
	{"zero weight gets nothing", 1, 3, {0, 1, 1}, {0, 1, 0}},
	{"zero total", 0, 2, {1, 2}, {0, 0}},
	{"one non-zero weight", 10, 3, {0, 0, 5}, {0, 0, 10}},
	{"one line", 10230, 1, {7}, {10230}},
	{"INT64_MAX halves",
	 INT64_MAX,
	 2,
	 {1, 1},
	 {4611686018427387904LL, 4611686018427387903LL}},
	{"INT64_MIN halves",
	 INT64_MIN,
	 2,
	 {1, 1},
	 {-4611686018427387904LL, -4611686018427387904LL}},
	{"INT64_MIN whole", INT64_MIN, 1, {3}, {INT64_MIN}},
	{"largest weights",
	 INT64_MAX,
	 2,
	 {INT64_MAX - 1, 1},
	 {INT64_MAX - 1, 1}},
	{"remainders beat position", 7, 4, {1, 3, 3, 3}, {1, 2, 2, 2}},
	{"remainders 1/2 and 1/4", 3, 4, {2, 1, 1, 4}, {1, 0, 0, 2}},
};

START_TEST(test_allocate)
{
	int64_t shares[MAXW];
	size_t i;

	ck_assert_msg(dg_allocate(alloc[_i].total, alloc[_i].w, alloc[_i].n,
				  shares) == DG_M_OK,
		      "%s", alloc[_i].what);
	for (i = 0; i < alloc[_i].n; i++)
		ck_assert_msg(shares[i] == alloc[_i].want[i],
			      "%s: share %zu: want %lld, got %lld",
			      alloc[_i].what, i, (long long)alloc[_i].want[i],
			      (long long)shares[i]);
}
END_TEST

static const struct {
	size_t n;
	int64_t w[MAXW];
	enum dg_merr err;
} alloc_bad[] = {
	{0, {0}, DG_M_INVALID},
	{2, {0, 0}, DG_M_INVALID},
	{2, {-1, 2}, DG_M_INVALID},
	{2, {INT64_MAX, 1}, DG_M_OVERFLOW},
	{3, {INT64_MAX / 2 + 1, INT64_MAX / 2 + 1, 0}, DG_M_OVERFLOW},
};

START_TEST(test_allocate_bad)
{
	int64_t shares[MAXW] = {42, 42, 42};

	ck_assert_int_eq(
		dg_allocate(100, alloc_bad[_i].w, alloc_bad[_i].n, shares),
		alloc_bad[_i].err);
	ck_assert_int_eq(shares[0], 42);
}
END_TEST

/* Many generated cases: shares add up to the total and each is within
 * one minor unit of its exact share (checked in 128-bit integers). */
START_TEST(test_allocate_sums)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL + (uint64_t)_i;
	int64_t w[50], shares[50];
	int round;

	for (round = 0; round < 200; round++) {
		size_t n, i;
		int64_t total, sum = 0, wsum = 0;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		n = 1 + (seed >> 33) % 50;
		total = (int64_t)(seed >> 4) % 1000000000000000LL;
		if (seed & 1)
			total = -total;
		for (i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ULL +
			       1442695040888963407ULL;
			w[i] = (int64_t)((seed >> 40) %
					 (round % 2 ? 4 : 100000));
			wsum += w[i];
		}
		if (wsum == 0)
			w[0] = wsum = 1;
		ck_assert_int_eq(dg_allocate(total, w, n, shares), DG_M_OK);
		for (i = 0; i < n; i++) {
			__int128 exact = (__int128)total * w[i];
			__int128 mine = (__int128)shares[i] * wsum;
			__int128 diff =
				exact > mine ? exact - mine : mine - exact;

			ck_assert(diff < wsum);
			sum += shares[i];
		}
		ck_assert_int_eq(sum, total);
	}
}
END_TEST

/* ------------------------------------------------ checked arithmetic */

static const struct {
	int add;
	int64_t a, b, want;
	enum dg_merr err;
} arith[] = {
	{1, 1, 2, 3, DG_M_OK},
	{1, INT64_MIN, INT64_MAX, -1, DG_M_OK},
	{1, INT64_MAX, 1, 0, DG_M_OVERFLOW},
	{1, INT64_MIN, -1, 0, DG_M_OVERFLOW},
	{1, INT64_MAX, INT64_MAX, 0, DG_M_OVERFLOW},
	{0, 5, 7, -2, DG_M_OK},
	{0, INT64_MIN, -1, INT64_MIN + 1, DG_M_OK},
	{0, INT64_MIN, 1, 0, DG_M_OVERFLOW},
	{0, 0, INT64_MIN, 0, DG_M_OVERFLOW},
	{0, INT64_MAX, -1, 0, DG_M_OVERFLOW},
	{0, -1, INT64_MAX, INT64_MIN, DG_M_OK},
};

START_TEST(test_arith)
{
	int64_t out = 42;
	enum dg_merr e;

	e = arith[_i].add ? dg_add(arith[_i].a, arith[_i].b, &out)
			  : dg_sub(arith[_i].a, arith[_i].b, &out);
	ck_assert_int_eq(e, arith[_i].err);
	ck_assert_int_eq(out, e ? 42 : arith[_i].want);
}
END_TEST

/* ------------------------------------------------------ names, modes */

START_TEST(test_merr_str)
{
	ck_assert_str_eq(dg_merr_str(DG_M_SYNTAX), "not a plain decimal");
	ck_assert_str_eq(dg_merr_str(DG_M_PRECISION),
			 "too many decimal places");
	ck_assert_str_eq(dg_merr_str(DG_M_OVERFLOW), "overflow");
	ck_assert_str_eq(dg_merr_str(DG_M_RANGE), "must be positive");
	ck_assert_str_eq(dg_merr_str(DG_M_DIGITS),
			 "too many significant digits");
	ck_assert_str_eq(dg_merr_str(DG_M_INVALID), "invalid argument");
}
END_TEST

START_TEST(test_rounding_names)
{
	enum dg_rounding r = DG_ROUND_HALF_EVEN;

	ck_assert_int_eq(dg_rounding_parse("half-up", &r), 0);
	ck_assert_int_eq(r, DG_ROUND_HALF_UP);
	ck_assert_str_eq(dg_rounding_name(r), "half-up");
	ck_assert_int_eq(dg_rounding_parse("half-even", &r), 0);
	ck_assert_int_eq(r, DG_ROUND_HALF_EVEN);
	ck_assert_str_eq(dg_rounding_name(r), "half-even");
	ck_assert_int_eq(dg_rounding_parse("HALF-UP", &r), -1);
	ck_assert_int_eq(dg_rounding_parse("half_up", &r), -1);
	ck_assert_int_eq(dg_rounding_parse("", &r), -1);
	ck_assert_int_eq(dg_rounding_parse(NULL, &r), -1);
	ck_assert_int_eq(r, DG_ROUND_HALF_EVEN);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("money");
	TCase *tc;

	tc = tcase_create("amounts");
	tcase_add_loop_test(tc, test_amount_parse_good, 0,
			    DG_NELEM(amount_good));
	tcase_add_loop_test(tc, test_amount_parse_bad, 0, DG_NELEM(amount_bad));
	tcase_add_loop_test(tc, test_amount_format, 0, DG_NELEM(amount_fmt));
	tcase_add_loop_test(tc, test_amount_round_trip, 0, 19);
	tcase_add_loop_test(tc, test_total_format, 0, DG_NELEM(total_fmt));
	suite_add_tcase(s, tc);

	tc = tcase_create("rates");
	tcase_add_loop_test(tc, test_rate_parse_good, 0, DG_NELEM(rate_good));
	tcase_add_loop_test(tc, test_rate_parse_bad, 0, DG_NELEM(rate_bad));
	tcase_add_loop_test(tc, test_rate_cmp, 0, DG_NELEM(rate_cmp));
	suite_add_tcase(s, tc);

	tc = tcase_create("convert");
	tcase_add_loop_test(tc, test_convert, 0, DG_NELEM(conv));
	tcase_add_test(tc, test_convert_invalid);
	tcase_add_test(tc, test_refund_adds_up);
	suite_add_tcase(s, tc);

	tc = tcase_create("effective");
	tcase_add_loop_test(tc, test_effective, 0, DG_NELEM(effective));
	tcase_add_test(tc, test_effective_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("drift");
	tcase_add_loop_test(tc, test_moved, 0, DG_NELEM(moved));
	tcase_add_loop_test(tc, test_moved_bad_pct, 0, DG_NELEM(bad_pct));
	suite_add_tcase(s, tc);

	tc = tcase_create("allocate");
	tcase_add_loop_test(tc, test_allocate, 0, DG_NELEM(alloc));
	tcase_add_loop_test(tc, test_allocate_bad, 0, DG_NELEM(alloc_bad));
	tcase_add_loop_test(tc, test_allocate_sums, 0, 10);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_loop_test(tc, test_arith, 0, DG_NELEM(arith));
	tcase_add_test(tc, test_merr_str);
	tcase_add_test(tc, test_rounding_names);
	suite_add_tcase(s, tc);
	return s;
}
