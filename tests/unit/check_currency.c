/* Unit tests for currency.c: the ISO 4217 table and its lookups. */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "daigou.h"

static const struct {
	const char *code;
	int exponent;
	bool historic;
} known[] = {
	/* no minor unit */
	{"JPY", 0, false},
	{"KRW", 0, false},
	{"VND", 0, false},
	{"CLP", 0, false},
	{"ISK", 0, false},
	{"PYG", 0, false},
	{"UGX", 0, false},
	{"XAF", 0, false},
	{"XOF", 0, false},
	{"XPF", 0, false},
	{"BIF", 0, false},
	{"DJF", 0, false},
	{"GNF", 0, false},
	{"KMF", 0, false},
	{"RWF", 0, false},
	{"UYI", 0, false},
	{"VUV", 0, false},
	/* three */
	{"BHD", 3, false},
	{"IQD", 3, false},
	{"JOD", 3, false},
	{"KWD", 3, false},
	{"LYD", 3, false},
	{"OMR", 3, false},
	{"TND", 3, false},
	/* four */
	{"CLF", 4, false},
	{"UYW", 4, false},
	/* two, including the newest codes */
	{"EUR", 2, false},
	{"USD", 2, false},
	{"CNY", 2, false},
	{"GBP", 2, false},
	{"CHF", 2, false},
	{"HKD", 2, false},
	{"TWD", 2, false},
	{"IDR", 2, false},
	{"HUF", 2, false},
	{"XCG", 2, false}, /* Caribbean guilder, 2025 */
	{"ZWG", 2, false}, /* Zimbabwe Gold, 2024 */
	{"SLE", 2, false},
	{"VED", 2, false},
	{"VES", 2, false},
	/* withdrawn, kept for old feeds */
	{"BGN", 2, true}, /* euro 2026 */
	{"HRK", 2, true}, /* euro 2023 */
	{"CYP", 2, true},
	{"EEK", 2, true},
	{"LTL", 2, true},
	{"LVL", 2, true},
	{"MTL", 2, true},
	{"ROL", 2, true},
	{"SIT", 2, true},
	{"SKK", 2, true},
	{"TRL", 0, true},
	{"ANG", 2, true},
	{"CUC", 2, true},
	{"SLL", 2, true},
	{"ZWL", 2, true},
};

START_TEST(test_known)
{
	const struct dg_currency *c = dg_currency_lookup(known[_i].code);

	ck_assert_msg(c != NULL, "%s unknown", known[_i].code);
	ck_assert_str_eq(c->code, known[_i].code);
	ck_assert_int_eq(c->exponent, known[_i].exponent);
	ck_assert_int_eq(c->historic, known[_i].historic);
	ck_assert(c->name && *c->name);
	ck_assert_int_eq(dg_currency_exponent(known[_i].code),
			 known[_i].exponent);
}
END_TEST

/* Every code in the header of the ECB history file (eurofxref-hist.csv). */
static const char *const ecb_hist[] = {
	"USD", "JPY", "BGN", "CYP", "CZK", "DKK", "EEK", "GBP", "HUF",
	"LTL", "LVL", "MTL", "PLN", "ROL", "RON", "SEK", "SIT", "SKK",
	"CHF", "ISK", "NOK", "HRK", "RUB", "TRL", "TRY", "AUD", "BRL",
	"CAD", "CNY", "HKD", "IDR", "ILS", "INR", "KRW", "MXN", "MYR",
	"NZD", "PHP", "SGD", "THB", "ZAR",
};

START_TEST(test_ecb_codes)
{
	ck_assert_msg(dg_currency_lookup(ecb_hist[_i]) != NULL, "%s unknown",
		      ecb_hist[_i]);
}
END_TEST

static const char *const unknown[] = {
	/* malformed */
	"",
	"eur",
	"Eur",
	"EU",
	"EURO",
	"E1R",
	"EUR ",
	" EUR",
	"EU-",
	"\xc3\x89UR",
	/* well-formed but not in the table: funds and metals without a
	 * minor unit are left out on purpose */
	"ABC",
	"AAA",
	"ZZZ",
	"XAU",
	"XAG",
	"XDR",
	"XTS",
	"XXX",
	"DEM",
	"FRF",
};

START_TEST(test_unknown)
{
	ck_assert_msg(dg_currency_lookup(unknown[_i]) == NULL, "'%s' known",
		      unknown[_i]);
	ck_assert_int_eq(dg_currency_exponent(unknown[_i]), -1);
}
END_TEST

START_TEST(test_null)
{
	ck_assert_ptr_null(dg_currency_lookup(NULL));
	ck_assert_int_eq(dg_currency_exponent(NULL), -1);
}
END_TEST

/* Sorted (bsearch relies on it), well-formed, and each entry found by its
 * own code. */
START_TEST(test_table)
{
	size_t i, n = dg_currency_count(), historic = 0;
	const struct dg_currency *c, *prev = NULL;

	ck_assert_uint_ge(n, 170);
	for (i = 0; i < n; i++) {
		c = dg_currency_at(i);
		ck_assert_ptr_nonnull(c);
		ck_assert_uint_eq(strlen(c->code), 3);
		ck_assert_msg(c->exponent == 0 || c->exponent == 2 ||
				      c->exponent == 3 || c->exponent == 4,
			      "%s exponent %d", c->code, c->exponent);
		ck_assert(c->name && *c->name);
		if (prev)
			ck_assert_msg(strcmp(prev->code, c->code) < 0,
				      "%s before %s", prev->code, c->code);
		ck_assert_ptr_eq(dg_currency_lookup(c->code), c);
		historic += c->historic;
		prev = c;
	}
	ck_assert_uint_eq(historic, 15);
	ck_assert_ptr_null(dg_currency_at(n));
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("currency");
	TCase *tc = tcase_create("table");

	tcase_add_loop_test(tc, test_known, 0, DG_NELEM(known));
	tcase_add_loop_test(tc, test_ecb_codes, 0, DG_NELEM(ecb_hist));
	tcase_add_loop_test(tc, test_unknown, 0, DG_NELEM(unknown));
	tcase_add_test(tc, test_null);
	tcase_add_test(tc, test_table);
	suite_add_tcase(s, tc);
	return s;
}
