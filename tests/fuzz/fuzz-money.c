/*
 * fuzz-money.c - amounts, rates, conversion and allocation (money.c)
 * against independent exact computations.
 *
 * The first byte picks the check, the rest is its input:
 *   0 amount text: dg_amount_parse agrees with a grammar-and-bignum
 *     oracle (same error, same value), and dg_amount_format gives back
 *     the text in canonical form for the exponent: no sign on zero, no
 *     leading zeros, exactly `exponent` fraction digits (so accepted text
 *     already in that form comes back byte for byte);
 *   1 every int64 and exponent: format then parse is the identity, and
 *     the text is canonical;
 *   2 rate texts: dg_rate_parse agrees with an oracle (grammar, zero,
 *     18 significant digits, text size), keeps the published text
 *     verbatim and the value exactly; dg_rate_cmp agrees with an exact
 *     comparison; dg_rate_moved_more_than with an exact one;
 *   3 dg_convert: the result is the exact quotient rounded once as the
 *     mode says (checked by cross-multiplication in 1280-bit integers),
 *     overflow only when the rounded result does not fit, half-up and
 *     half-even differ only on ties; dg_rate_effective within half a
 *     unit of its 15th significant digit, exact when it says so;
 *   4 dg_allocate: shares sum to the total exactly, each within one
 *     unit of its exact proportion, the extra units on the largest
 *     remainders, ties to the lowest index.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "daigou.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

#define MAX_EXP	  18
#define NEG_LIMIT ((uint64_t)INT64_MAX + 1)

/* ------------------------------------------------------------ input */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t take8(struct in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static uint64_t take64(struct in *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | take8(in);
	return v;
}

/* The next NUL-terminated text (or the rest), malloc'd. */
static char *take_text(struct in *in)
{
	const uint8_t *end = memchr(in->p, '\0', in->n);
	size_t len = end ? (size_t)(end - in->p) : in->n;
	char *s = fuzz_strndup(in->p, len);

	in->p += len + (end != NULL);
	in->n -= len + (end != NULL);
	return s;
}

/* ---------------------------------------------------------- bignums */

#define BW 40 /* 1280 bits: the largest product here is below 2^700 */

struct big {
	uint32_t w[BW];
};

static void big_set(struct big *x, u128 v)
{
	int i;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < 4; i++, v >>= 32)
		x->w[i] = (uint32_t)v;
}

static void big_mul(struct big *x, uint64_t m)
{
	u128 carry = 0;
	int i;

	for (i = 0; i < BW; i++) {
		u128 t = (u128)x->w[i] * m + carry;

		x->w[i] = (uint32_t)t;
		carry = t >> 32;
	}
	FUZZ_CHECK(carry == 0, "harness bignum overflow");
}

static void big_pow10(struct big *x, int e)
{
	FUZZ_CHECK(e >= 0, "harness: negative power of ten");
	for (; e > 0; e--)
		big_mul(x, 10);
}

static void big_add(struct big *x, const struct big *y)
{
	uint64_t carry = 0;
	int i;

	for (i = 0; i < BW; i++) {
		uint64_t t = (uint64_t)x->w[i] + y->w[i] + carry;

		x->w[i] = (uint32_t)t;
		carry = t >> 32;
	}
	FUZZ_CHECK(carry == 0, "harness bignum overflow");
}

/* x *= m for m < 2^128 */
static void big_mul128(struct big *x, u128 m)
{
	struct big hi = *x;

	big_mul(x, (uint64_t)m);
	if (m >> 64) {
		big_mul(&hi, (uint64_t)(m >> 64));
		big_mul(&hi, 1ULL << 32);
		big_mul(&hi, 1ULL << 32);
		big_add(x, &hi);
	}
}

/* x -= y for x >= y */
static void big_sub(struct big *x, const struct big *y)
{
	uint64_t borrow = 0;
	int i;

	for (i = 0; i < BW; i++) {
		uint64_t t = (uint64_t)x->w[i] - y->w[i] - borrow;

		x->w[i] = (uint32_t)t;
		borrow = t >> 63;
	}
}

static int big_cmp(const struct big *x, const struct big *y)
{
	int i;

	for (i = BW - 1; i >= 0; i--)
		if (x->w[i] != y->w[i])
			return x->w[i] < y->w[i] ? -1 : 1;
	return 0;
}

/* ---------------------------------------------------------- amounts */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The oracle: the documented grammar, then the value in 128 bits
 * (a value past 2^64 needs more than 20 significant digits). */
static enum dg_merr oracle_amount(const char *s, int exp, int64_t *out)
{
	const char *p = s, *ip, *fp = "";
	size_t ni, nf = 0, i;
	char digits[64];
	size_t nd = 0, sig;
	bool neg = false, started = false;
	u128 v = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	for (ip = p; is_digit(*p); p++)
		;
	ni = (size_t)(p - ip);
	if (!ni)
		return DG_M_SYNTAX;
	if (*p == '.') {
		for (fp = ++p; is_digit(*p); p++)
			;
		nf = (size_t)(p - fp);
		if (!nf)
			return DG_M_SYNTAX;
	}
	if (*p)
		return DG_M_SYNTAX;
	if (nf > (size_t)exp)
		return DG_M_PRECISION;
	sig = 0;
	for (i = 0; i < ni + (size_t)exp; i++) {
		char c = i < ni ? ip[i] : i - ni < nf ? fp[i - ni] : '0';

		if (!started && c == '0')
			continue;
		started = true;
		if (++sig > 25)
			return DG_M_OVERFLOW;
		digits[nd++] = c;
	}
	for (i = 0; i < nd; i++)
		v = v * 10 + (unsigned)(digits[i] - '0');
	if (v > (neg ? NEG_LIMIT : (uint64_t)INT64_MAX))
		return DG_M_OVERFLOW;
	*out = neg ? (v == NEG_LIMIT ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return DG_M_OK;
}

/* The canonical text of an accepted amount text. */
static void canonical_amount(const char *s, int exp, int64_t value, char *buf,
			     size_t len)
{
	const char *p = s, *dot;
	size_t o = 0, nf;
	int i;

	if (*p == '-')
		p++;
	if (value < 0)
		buf[o++] = '-';
	while (*p == '0' && is_digit(p[1]))
		p++;
	while (is_digit(*p) && o + 2 < len)
		buf[o++] = *p++;
	dot = *p == '.' ? p + 1 : "";
	nf = strlen(dot);
	if (exp > 0)
		buf[o++] = '.';
	for (i = 0; i < exp && o + 1 < len; i++)
		buf[o++] = (size_t)i < nf ? dot[i] : '0';
	buf[o] = '\0';
}

static void check_amount_text(struct in *in)
{
	int exp = take8(in) % (MAX_EXP + 1);
	char *s = take_text(in), canon[128], out[DG_AMOUNT_SIZE];
	int64_t got = 0, want = 0, back = 0;
	enum dg_merr e = dg_amount_parse(s, exp, &got);
	enum dg_merr oe = oracle_amount(s, exp, &want);

	FUZZ_CHECK(e == oe, "amount '%s' exponent %d: parse says %s, oracle %s",
		   s, exp, dg_merr_str(e), dg_merr_str(oe));
	if (e == DG_M_OK) {
		FUZZ_CHECK(got == want,
			   "amount '%s' exponent %d: %lld, oracle %lld", s, exp,
			   (long long)got, (long long)want);
		dg_amount_format(got, exp, out);
		canonical_amount(s, exp, got, canon, sizeof(canon));
		FUZZ_CHECK(!strcmp(out, canon),
			   "amount '%s' exponent %d formats as '%s', not '%s'",
			   s, exp, out, canon);
		FUZZ_CHECK(dg_amount_parse(out, exp, &back) == DG_M_OK &&
				   back == got,
			   "amount '%s' exponent %d: '%s' does not parse back",
			   s, exp, out);
	}
	free(s);
}

static void check_amount_int(struct in *in)
{
	int exp = take8(in) % (MAX_EXP + 1);
	int64_t v = (int64_t)take64(in), back = 0;
	char out[DG_AMOUNT_SIZE], canon[128];
	enum dg_merr e;

	dg_amount_format(v, exp, out);
	e = dg_amount_parse(out, exp, &back);
	FUZZ_CHECK(e == DG_M_OK && back == v,
		   "%lld exponent %d formats as '%s', which parses back as "
		   "%lld (%s)",
		   (long long)v, exp, out, (long long)back, dg_merr_str(e));
	canonical_amount(out, exp, v, canon, sizeof(canon));
	FUZZ_CHECK(!strcmp(out, canon),
		   "%lld exponent %d formats as '%s', not canonical '%s'",
		   (long long)v, exp, out, canon);
}

/* ------------------------------------------------------------ rates */

/* A plain unsigned decimal: digits, optionally '.' and digits. coef
 * gets the first 18 significant digits, sig counts them all. */
static bool oracle_decimal(const char *s, uint64_t *coef, int *scale, int *sig)
{
	const char *p = s;
	int ni = 0, nf = 0, n = 0;
	bool started = false, point = false;
	uint64_t c = 0;

	for (;; p++) {
		if (*p == '.' && !point && ni) {
			point = true;
			continue;
		}
		if (!is_digit(*p))
			break;
		if (point)
			nf++;
		else
			ni++;
		if (!started && *p == '0')
			continue;
		started = true;
		if (++n <= DG_RATE_MAX_DIGITS)
			c = c * 10 + (uint64_t)(*p - '0');
	}
	if (*p || !ni || (point && !nf))
		return false;
	*coef = c;
	*scale = nf;
	*sig = n;
	return true;
}

/* The rate oracle: a plain decimal, no sign, > 0, at most 18
 * significant digits, the text within the struct's size. */
static enum dg_merr oracle_rate(const char *s, uint64_t *coef, int *scale)
{
	int sig;

	if (*s == '-')
		return oracle_decimal(s + 1, coef, scale, &sig) ? DG_M_RANGE
								: DG_M_SYNTAX;
	if (!oracle_decimal(s, coef, scale, &sig))
		return DG_M_SYNTAX;
	if (!sig)
		return DG_M_RANGE;
	if (sig > DG_RATE_MAX_DIGITS)
		return DG_M_DIGITS;
	if (strlen(s) >= DG_RATE_TEXT_SIZE)
		return DG_M_OVERFLOW;
	return DG_M_OK;
}

static bool parse_rate_checked(const char *s, struct dg_rate *r)
{
	uint64_t coef = 0;
	int scale = 0;
	enum dg_merr e = dg_rate_parse(s, r),
		     oe = oracle_rate(s, &coef, &scale);

	FUZZ_CHECK(e == oe, "rate '%s': parse says %s, oracle %s", s,
		   dg_merr_str(e), dg_merr_str(oe));
	if (e)
		return false;
	FUZZ_CHECK(r->coef == coef && r->scale == scale,
		   "rate '%s': coef %llu scale %d, oracle %llu scale %d", s,
		   (unsigned long long)r->coef, r->scale,
		   (unsigned long long)coef, scale);
	FUZZ_CHECK(!strcmp(r->text, s), "rate '%s' kept as '%s'", s, r->text);
	return true;
}

/* x = r * 10^(s - r.scale) */
static void big_rate(struct big *x, const struct dg_rate *r, int s)
{
	big_set(x, r->coef);
	big_pow10(x, s - r->scale);
}

static void check_rate_texts(struct in *in)
{
	char *a = take_text(in), *b = take_text(in), *pct = take_text(in);
	struct dg_rate ra, rb;
	struct big x, y, d, rhs;
	int s, c, oc, m, om;
	uint64_t pc = 0;
	int ps = 0, sig = 0;
	bool pct_ok;

	if (parse_rate_checked(a, &ra) && parse_rate_checked(b, &rb)) {
		s = ra.scale > rb.scale ? ra.scale : rb.scale;
		big_rate(&x, &ra, s);
		big_rate(&y, &rb, s);
		oc = big_cmp(&x, &y);
		c = dg_rate_cmp(&ra, &rb);
		FUZZ_CHECK((c > 0) - (c < 0) == oc,
			   "dg_rate_cmp('%s', '%s') = %d, oracle %d", a, b, c,
			   oc);
		/* |A - B| * 10^(ps + 2) > pc * B, or -1 when pct is not a
		 * plain decimal of at most 18 significant digits and 45
		 * decimals */
		pct_ok = oracle_decimal(pct, &pc, &ps, &sig) &&
			 sig <= DG_RATE_MAX_DIGITS && ps <= 45;
		m = dg_rate_moved_more_than(&ra, &rb, pct);
		if (!pct_ok) {
			FUZZ_CHECK(m == -1,
				   "moved_more_than('%s', '%s', '%s') "
				   "= %d for a malformed percentage",
				   a, b, pct, m);
		} else {
			if (oc >= 0) {
				d = x;
				big_sub(&d, &y);
			} else {
				d = y;
				big_sub(&d, &x);
			}
			big_pow10(&d, ps + 2);
			rhs = y;
			big_mul(&rhs, pc);
			om = big_cmp(&d, &rhs) > 0;
			FUZZ_CHECK(m == om,
				   "moved_more_than('%s', '%s', '%s') = %d, "
				   "oracle %d",
				   a, b, pct, m, om);
		}
	}
	free(a);
	free(b);
	free(pct);
}

/* ------------------------------------------------------- conversion */

/* A valid rate from fuzz bytes: coef 1..10^18-1, scale 0..45, as the
 * text a provider would publish ("0.000123"), through dg_rate_parse. */
static void make_rate(struct in *in, struct dg_rate *r)
{
	uint64_t coef = take64(in) % 1000000000000000000ULL;
	int scale = take8(in) % 46, nd = 0, i;
	char digits[24], text[DG_RATE_TEXT_SIZE];
	size_t o = 0;

	if (!coef)
		coef = 1;
	for (; coef; coef /= 10)
		digits[nd++] = (char)('0' + coef % 10);
	/* digits is least significant first */
	if (nd <= scale) {
		text[o++] = '0';
		text[o++] = '.';
		for (i = 0; i < scale - nd; i++)
			text[o++] = '0';
	}
	for (i = nd - 1; i >= 0; i--) {
		text[o++] = digits[i];
		if (i == scale && i > 0)
			text[o++] = '.';
	}
	text[o] = '\0';
	FUZZ_CHECK(dg_rate_parse(text, r) == DG_M_OK,
		   "the valid rate '%s' is refused", text);
}

static uint64_t mag(int64_t v)
{
	return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

/* Check out = round(N / D) in mode, or overflow; N, D > 0 as bignums:
 * (2q - 1) D <= 2N <= (2q + 1) D, the ends being the ties. */
static void check_rounded(const struct big *n, const struct big *d,
			  enum dg_merr e, int64_t amount, int64_t out,
			  enum dg_rounding mode, const char *what)
{
	struct big n2 = *n, lo, hi;
	uint64_t q, lim = amount < 0 ? NEG_LIMIT : (uint64_t)INT64_MAX;
	int c;

	big_mul(&n2, 2);
	if (e == DG_M_OVERFLOW) {
		/* the rounded result passes lim: 2N > (2 lim + 1) D, or the
		 * tie between lim and lim + 1 rounds up */
		hi = *d;
		big_mul128(&hi, (u128)lim * 2 + 1);
		c = big_cmp(&n2, &hi);
		FUZZ_CHECK(c > 0 || (c == 0 &&
				     (mode == DG_ROUND_HALF_UP || (lim & 1))),
			   "%s: overflow reported, but the result fits", what);
		return;
	}
	FUZZ_CHECK(e == DG_M_OK, "%s: %s", what, dg_merr_str(e));
	FUZZ_CHECK(out == 0 || (out < 0) == (amount < 0),
		   "%s: result %lld has the wrong sign", what, (long long)out);
	q = mag(out);
	hi = *d;
	big_mul128(&hi, (u128)q * 2 + 1);
	c = big_cmp(&n2, &hi);
	FUZZ_CHECK(c <= 0, "%s: result %lld is too small", what,
		   (long long)out);
	if (c == 0)
		FUZZ_CHECK(mode == DG_ROUND_HALF_EVEN && !(q & 1),
			   "%s: a tie rounded down to %lld in %s", what,
			   (long long)out, dg_rounding_name(mode));
	if (q == 0)
		return;
	lo = *d;
	big_mul128(&lo, (u128)q * 2 - 1);
	c = big_cmp(&n2, &lo);
	FUZZ_CHECK(c >= 0, "%s: result %lld is too large", what,
		   (long long)out);
	if (c == 0)
		FUZZ_CHECK(mode == DG_ROUND_HALF_UP || !(q & 1),
			   "%s: a tie rounded up to %lld in %s", what,
			   (long long)out, dg_rounding_name(mode));
}

/* The effective rate text against N / D: exact, or within half a unit
 * of its 15th significant digit. */
static void check_effective(const struct dg_rate *mul,
			    const struct dg_rate *div)
{
	char buf[DG_EFFECTIVE_SIZE], digits[DG_EFFECTIVE_SIZE];
	struct big n, d, ed, tmp, diff, bound, zero = {{0}};
	int es = 0, sig = 0, nd = 0, i;
	bool point = false, started = false;
	enum dg_merr rc = dg_rate_effective(mul, div, buf, sizeof(buf));
	const char *p;

	FUZZ_CHECK(rc == DG_M_OK, "effective rate of %s / %s: %s",
		   mul ? mul->text : "1", div ? div->text : "1",
		   dg_merr_str(rc));
	for (p = buf; *p; p++) {
		if (*p == '.' && !point && p > buf) {
			point = true;
			continue;
		}
		FUZZ_CHECK(is_digit(*p),
			   "effective rate '%s' is not a plain "
			   "decimal",
			   buf);
		es += point;
		if (!started && *p == '0')
			continue;
		started = true;
		sig++;
		digits[nd++] = *p;
	}
	FUZZ_CHECK(sig > 0 && (!point || p[-1] != '.'),
		   "effective rate '%s' is malformed", buf);
	/* The value is E / 10^es with E the digits; with N = mc 10^ds and
	 * D = dc 10^ms, compare E D with N 10^es. */
	big_set(&n, mul ? mul->coef : 1);
	big_pow10(&n, (div ? div->scale : 0) + es);
	big_set(&d, div ? div->coef : 1);
	big_pow10(&d, mul ? mul->scale : 0);
	big_set(&ed, 0);
	for (i = 0; i < nd; i++) {
		big_mul(&ed, 10);
		tmp = d;
		big_mul(&tmp, (unsigned)(digits[i] - '0'));
		big_add(&ed, &tmp);
	}
	if (big_cmp(&ed, &n) >= 0) {
		diff = ed;
		big_sub(&diff, &n);
	} else {
		diff = n;
		big_sub(&diff, &ed);
	}
	if (big_cmp(&diff, &zero) == 0)
		return;
	FUZZ_CHECK(sig >= DG_EFFECTIVE_DIGITS,
		   "effective rate '%s' of %s / %s is inexact with %d digits",
		   buf, mul ? mul->text : "1", div ? div->text : "1", sig);
	/* |E D - N 10^es| * 2 <= D * 10^(sig - 15) */
	big_mul(&diff, 2);
	bound = d;
	big_pow10(&bound, sig - DG_EFFECTIVE_DIGITS);
	FUZZ_CHECK(big_cmp(&diff, &bound) <= 0,
		   "effective rate '%s' of %s / %s is off by more than half a "
		   "unit of its 15th digit",
		   buf, mul ? mul->text : "1", div ? div->text : "1");
}

static void check_convert(struct in *in)
{
	uint8_t flags = take8(in);
	int from_exp = take8(in) % (MAX_EXP + 1);
	int to_exp = take8(in) % (MAX_EXP + 1);
	int64_t amount = (int64_t)take64(in), up = 0, even = 0;
	struct dg_rate mr, dr;
	const struct dg_rate *mul = NULL, *div = NULL;
	struct big n, d, n2, t;
	enum dg_merr eu, ee;
	char what[256];

	/* small amounts and exponents are where ties live */
	if (flags & 4)
		amount = (int8_t)amount;
	if (flags & 1) {
		make_rate(in, &mr);
		mul = &mr;
	}
	if (flags & 2) {
		make_rate(in, &dr);
		div = &dr;
	}
	snprintf(what, sizeof(what),
		 "convert %lld (exp %d) * %s / %s to exp %d", (long long)amount,
		 from_exp, mul ? mul->text : "1", div ? div->text : "1",
		 to_exp);
	eu = dg_convert(amount, from_exp, to_exp, mul, div, DG_ROUND_HALF_UP,
			&up);
	ee = dg_convert(amount, from_exp, to_exp, mul, div, DG_ROUND_HALF_EVEN,
			&even);

	/* N = |amount| mc 10^(ds + to_exp), D = dc 10^(ms + from_exp) */
	big_set(&n, mag(amount));
	big_mul(&n, mul ? mul->coef : 1);
	big_pow10(&n, (div ? div->scale : 0) + to_exp);
	big_set(&d, div ? div->coef : 1);
	big_pow10(&d, (mul ? mul->scale : 0) + from_exp);
	check_rounded(&n, &d, eu, amount, up, DG_ROUND_HALF_UP, what);
	check_rounded(&n, &d, ee, amount, even, DG_ROUND_HALF_EVEN, what);

	/* the modes differ only on a tie: 2N = (2 lo + 1) D, lo the
	 * smaller magnitude (or the limit, when one overflows) */
	if (eu != ee || up != even) {
		uint64_t lo;

		if (eu || ee)
			lo = eu ? mag(even) : mag(up);
		else
			lo = mag(up) < mag(even) ? mag(up) : mag(even);
		FUZZ_CHECK(eu || ee || mag(up) - mag(even) == 1 ||
				   mag(even) - mag(up) == 1,
			   "%s: half-up %lld, half-even %lld", what,
			   (long long)up, (long long)even);
		n2 = n;
		big_mul(&n2, 2);
		t = d;
		big_mul128(&t, (u128)lo * 2 + 1);
		FUZZ_CHECK(!big_cmp(&n2, &t),
			   "%s: half-up and half-even differ off a tie", what);
	}
	check_effective(mul, div);
}

/* ------------------------------------------------------- allocation */

static void check_allocate(struct in *in)
{
	size_t n = 1 + take8(in) % 16, i, j;
	int64_t total = (int64_t)take64(in), w[16], s[16];
	uint8_t shape = take8(in);
	u128 sum = 0, t;
	i128 got = 0;
	bool neg_weight = false;
	enum dg_merr e;
	uint64_t fl[16], rem[16];

	if (shape & 1)
		total = (int16_t)total;
	for (i = 0; i < n; i++) {
		uint8_t bits = take8(in) % 64;
		uint64_t v = take64(in);

		w[i] = (int64_t)(bits ? v & ((1ULL << bits) - 1) : 0);
		if ((shape & 2) && w[i] < 0)
			neg_weight = true;
		else if (w[i] < 0)
			w[i] &= INT64_MAX;
		sum += (uint64_t)w[i];
	}
	e = dg_allocate(total, w, n, s);
	if (neg_weight) {
		FUZZ_CHECK(e == DG_M_INVALID, "a negative weight is accepted");
		return;
	}
	if (sum > (u128)INT64_MAX) {
		FUZZ_CHECK(e == DG_M_OVERFLOW,
			   "weights past INT64_MAX in all: %s", dg_merr_str(e));
		return;
	}
	if (sum == 0) {
		FUZZ_CHECK(e == DG_M_INVALID, "zero weights: %s",
			   dg_merr_str(e));
		return;
	}
	FUZZ_CHECK(e == DG_M_OK, "allocate: %s", dg_merr_str(e));
	t = mag(total);
	for (i = 0; i < n; i++) {
		i128 exact = (i128)total * w[i], err;

		got += s[i];
		FUZZ_CHECK(s[i] == 0 || (s[i] < 0) == (total < 0),
			   "share %zu has the wrong sign", i);
		err = (i128)s[i] * (i128)sum - exact;
		FUZZ_CHECK(
			err < (i128)sum && err > -(i128)sum,
			"share %zu (%lld) is a unit or more off %lld * %lld / "
			"%llu",
			i, (long long)s[i], (long long)total, (long long)w[i],
			(unsigned long long)sum);
		fl[i] = (uint64_t)(t * (uint64_t)w[i] / sum);
		rem[i] = (uint64_t)(t * (uint64_t)w[i] % sum);
	}
	FUZZ_CHECK(got == total, "shares sum to %lld, not %lld", (long long)got,
		   (long long)total);
	for (i = 0; i < n; i++) {
		bool up_i = mag(s[i]) != fl[i];

		FUZZ_CHECK(!up_i || mag(s[i]) == fl[i] + 1,
			   "share %zu is not its floor or floor + 1", i);
		FUZZ_CHECK(!up_i || rem[i] > 0,
			   "share %zu rounded up without a remainder", i);
		for (j = 0; up_i && j < n; j++) {
			if (mag(s[j]) != fl[j])
				continue;
			FUZZ_CHECK(
				rem[i] > rem[j] || (rem[i] == rem[j] && i < j),
				"share %zu (remainder %llu) got a unit before "
				"share %zu (remainder %llu)",
				i, (unsigned long long)rem[i], j,
				(unsigned long long)rem[j]);
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz-money");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};

	switch (take8(&in) % 5) {
	case 0:
		check_amount_text(&in);
		break;
	case 1:
		check_amount_int(&in);
		break;
	case 2:
		check_rate_texts(&in);
		break;
	case 3:
		check_convert(&in);
		break;
	case 4:
		check_allocate(&in);
		break;
	}
	return 0;
}
