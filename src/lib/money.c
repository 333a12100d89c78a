/*
 * money.c - amounts, rates, conversion, rounding, allocation.
 *
 * Integers only. An amount is int64 minor units, a rate is a decimal
 * coefficient and scale, and every computation is exact up to the single
 * rounding a conversion is allowed. Nothing here prints.
 *
 * The whole int64 range is valid, INT64_MIN included: it parses, formats,
 * converts and allocates like any other amount.
 */
#include <string.h>

#include "daigou.h"

typedef unsigned __int128 u128;

#define U128_MAX (~(u128)0)
/* The magnitude of INT64_MIN, the largest magnitude of a negative amount. */
#define NEG_LIMIT ((uint64_t)INT64_MAX + 1)
/* The largest amount exponent: 10^18 minor units still fit int64. */
#define MAX_EXP 18
/* A rate's text holds "0." and the NUL besides its fraction digits. */
#define RATE_MAX_SCALE (DG_RATE_TEXT_SIZE - 3)

const char *dg_merr_str(enum dg_merr e)
{
	switch (e) {
	case DG_M_OK:
		return "ok";
	case DG_M_SYNTAX:
		return "not a plain decimal";
	case DG_M_PRECISION:
		return "too many decimal places";
	case DG_M_OVERFLOW:
		return "overflow";
	case DG_M_RANGE:
		return "must be positive";
	case DG_M_DIGITS:
		return "too many significant digits";
	case DG_M_INVALID:
		return "invalid argument";
	}
	return "unknown error";
}

int dg_rounding_parse(const char *s, enum dg_rounding *out)
{
	if (!s)
		return -1;
	if (!strcmp(s, "half-up"))
		*out = DG_ROUND_HALF_UP;
	else if (!strcmp(s, "half-even"))
		*out = DG_ROUND_HALF_EVEN;
	else
		return -1;
	return 0;
}

const char *dg_rounding_name(enum dg_rounding r)
{
	switch (r) {
	case DG_ROUND_HALF_UP:
		return "half-up";
	case DG_ROUND_HALF_EVEN:
		return "half-even";
	}
	return "unknown";
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

/* -m for 0 <= m <= NEG_LIMIT, without the overflow of -(int64_t)m. */
static int64_t negate(uint64_t m)
{
	return m == NEG_LIMIT ? INT64_MIN : -(int64_t)m;
}

/* *x = *x * 10 + d, unless that exceeds limit. */
static bool push_digit(uint64_t *x, unsigned d, uint64_t limit)
{
	if (*x > (limit - d) / 10)
		return false;
	*x = *x * 10 + d;
	return true;
}

/* *x *= 10^e; false (and *x unspecified) when it does not fit. */
static bool mul_pow10(u128 *x, int e)
{
	for (; e > 0; e--) {
		if (*x > U128_MAX / 10)
			return false;
		*x *= 10;
	}
	return true;
}

/*
 * Leading zeros ("007", "-00.50") are accepted: they do not change the
 * value, and spreadsheets and fixed-width exports produce them.
 */
enum dg_merr dg_amount_parse(const char *s, int exponent, int64_t *minor)
{
	const char *p, *ip, *frac = "";
	size_t nint, nfrac = 0, i;
	uint64_t mag = 0, limit = INT64_MAX;
	bool neg = false;

	if (!s || !minor || exponent < 0 || exponent > MAX_EXP)
		return DG_M_INVALID;
	p = s;
	if (*p == '-') {
		neg = true;
		limit = NEG_LIMIT;
		p++;
	}
	ip = p;
	while (is_digit(*p))
		p++;
	nint = p - ip;
	if (nint == 0)
		return DG_M_SYNTAX;
	if (*p == '.') {
		frac = ++p;
		while (is_digit(*p))
			p++;
		nfrac = p - frac;
		if (nfrac == 0)
			return DG_M_SYNTAX;
	}
	if (*p)
		return DG_M_SYNTAX;
	if (nfrac > (size_t)exponent)
		return DG_M_PRECISION;

	for (i = 0; i < nint; i++)
		if (!push_digit(&mag, ip[i] - '0', limit))
			return DG_M_OVERFLOW;
	for (i = 0; i < (size_t)exponent; i++)
		if (!push_digit(&mag, i < nfrac ? frac[i] - '0' : 0, limit))
			return DG_M_OVERFLOW;
	*minor = neg ? negate(mag) : (int64_t)mag;
	return DG_M_OK;
}

/* mag with exactly `exponent` fraction digits, '-' first when neg; buf
 * holds DG_TOTAL_SIZE, and DG_AMOUNT_SIZE when mag fits 64 bits. An
 * exponent outside 0..18 is a caller bug: it gives an empty string. */
static void format_minor(u128 mag, bool neg, int exponent, char *buf)
{
	char digits[48]; /* least significant first: 39 at most */
	char *p = buf;
	int n = 0;

	if (exponent < 0 || exponent > MAX_EXP) {
		buf[0] = '\0';
		return;
	}
	/* 128-bit division is a call per digit: the 64-bit part by 64-bit
	 * division */
	while (mag > UINT64_MAX) {
		digits[n++] = '0' + (int)(mag % 10);
		mag /= 10;
	}
	for (uint64_t m = (uint64_t)mag;; m /= 10) {
		digits[n++] = '0' + (int)(m % 10);
		if (m < 10)
			break;
	}
	while (n <= exponent)
		digits[n++] = '0';
	if (neg)
		*p++ = '-';
	while (n-- > 0) {
		*p++ = digits[n];
		if (n == exponent && exponent > 0)
			*p++ = '.';
	}
	*p = '\0';
}

void dg_amount_format(int64_t minor, int exponent, char buf[DG_AMOUNT_SIZE])
{
	format_minor(magnitude(minor), minor < 0, exponent, buf);
}

void dg_total_format(__int128 minor, int exponent, char buf[DG_TOTAL_SIZE])
{
	u128 mag = minor < 0 ? -(u128)minor : (u128)minor;

	format_minor(mag, minor < 0, exponent, buf);
}

/*
 * A plain unsigned decimal: digits, then optionally '.' and digits. The
 * coefficient drops leading zeros and keeps trailing ones (they were
 * published); *sig counts its digits, and the coefficient is only valid
 * when *sig <= DG_RATE_MAX_DIGITS.
 */
static enum dg_merr parse_decimal(const char *s, uint64_t *coef, size_t *scale,
				  size_t *sig)
{
	const char *p = s;
	uint64_t c = 0;
	size_t nint, nfrac = 0, nsig = 0;
	bool point = false;

	for (;; p++) {
		if (*p == '.' && !point && p > s) {
			point = true;
			continue;
		}
		if (!is_digit(*p))
			break;
		if (point)
			nfrac++;
		if (nsig == 0 && *p == '0')
			continue;
		if (++nsig <= DG_RATE_MAX_DIGITS)
			c = c * 10 + (*p - '0');
	}
	nint = p - s - nfrac - point;
	if (*p || nint == 0 || (point && nfrac == 0))
		return DG_M_SYNTAX;
	*coef = c;
	*scale = nfrac;
	*sig = nsig;
	return DG_M_OK;
}

enum dg_merr dg_rate_parse(const char *s, struct dg_rate *r)
{
	uint64_t coef;
	size_t scale, sig, len;
	enum dg_merr e;

	if (!s || !r)
		return DG_M_INVALID;
	if (*s == '-') {
		e = parse_decimal(s + 1, &coef, &scale, &sig);
		return e ? e : DG_M_RANGE;
	}
	if ((e = parse_decimal(s, &coef, &scale, &sig)))
		return e;
	if (sig == 0)
		return DG_M_RANGE;
	if (sig > DG_RATE_MAX_DIGITS)
		return DG_M_DIGITS;
	len = strlen(s);
	if (len >= sizeof(r->text))
		return DG_M_OVERFLOW;
	r->coef = coef;
	r->scale = (int)scale;
	memcpy(r->text, s, len + 1);
	return DG_M_OK;
}

/* What dg_rate_parse can produce; anything else is a caller bug. */
static bool rate_valid(const struct dg_rate *r)
{
	return r->coef > 0 && r->scale >= 0 && r->scale <= RATE_MAX_SCALE;
}

int dg_rate_cmp(const struct dg_rate *a, const struct dg_rate *b)
{
	u128 x = a->coef, y = b->coef;

	/* A side that overflows 128 bits exceeds the other's 64-bit coef. */
	if (a->scale < b->scale && !mul_pow10(&x, b->scale - a->scale))
		return 1;
	if (b->scale < a->scale && !mul_pow10(&y, a->scale - b->scale))
		return -1;
	return x < y ? -1 : x > y;
}

static bool round_away(u128 q, u128 rem, u128 den, enum dg_rounding mode)
{
	u128 rest = den - rem; /* rem/den vs one half: rem vs den - rem */

	if (rem == 0 || rem < rest)
		return false;
	if (rem > rest)
		return true;
	return mode == DG_ROUND_HALF_UP || (q & 1);
}

/*
 * out = |amount| * mc * 10^(ds + to_exp) / (dc * 10^(ms + from_exp)), the
 * powers of ten cancelled into one. No gcd reduction is needed for exact
 * answers: |amount| * mc < 2^63 * 2^64 always fits, and past that:
 *  - when the numerator's power of ten overflows 128 bits, the quotient by
 *    a 64-bit dc is at least 2^64: a true overflow;
 *  - when the denominator's power of ten overflows 128 bits, it exceeds
 *    twice the numerator: the exact result is below one half and rounds
 *    to 0 in both modes.
 */
enum dg_merr dg_convert(int64_t amount, int from_exp, int to_exp,
			const struct dg_rate *mul, const struct dg_rate *div,
			enum dg_rounding mode, int64_t *out)
{
	uint64_t mc = 1, dc = 1;
	int ms = 0, ds = 0, p;
	u128 num, den, q;

	if (!out || from_exp < 0 || from_exp > MAX_EXP || to_exp < 0 ||
	    to_exp > MAX_EXP ||
	    (mode != DG_ROUND_HALF_UP && mode != DG_ROUND_HALF_EVEN))
		return DG_M_INVALID;
	if (mul) {
		if (!rate_valid(mul))
			return DG_M_INVALID;
		mc = mul->coef;
		ms = mul->scale;
	}
	if (div) {
		if (!rate_valid(div))
			return DG_M_INVALID;
		dc = div->coef;
		ds = div->scale;
	}

	p = ds + to_exp - ms - from_exp;
	num = (u128)magnitude(amount) * mc;
	den = dc;
	if (p > 0 && !mul_pow10(&num, p))
		return DG_M_OVERFLOW;
	if (p < 0 && !mul_pow10(&den, -p)) {
		*out = 0;
		return DG_M_OK;
	}
	q = num / den;
	if (round_away(q, num % den, den, mode))
		q++;
	if (q > (amount < 0 ? NEG_LIMIT : (uint64_t)INT64_MAX))
		return DG_M_OVERFLOW;
	*out = amount < 0 ? negate((uint64_t)q) : (int64_t)q;
	return DG_M_OK;
}

/* Appends to a bounded buffer; remembers when something did not fit. */
struct sbuf {
	char *buf;
	size_t len, pos;
	bool full;
};

static void sb_putc(struct sbuf *sb, char c)
{
	if (sb->pos + 1 < sb->len)
		sb->buf[sb->pos++] = c;
	else
		sb->full = true;
}

static void sb_repeat(struct sbuf *sb, char c, int n)
{
	while (n-- > 0)
		sb_putc(sb, c);
}

/*
 * Long division of mc / dc gives the significant digits (value =
 * 0.DIGITS * 10^point), then the scales shift the point. Digits are
 * produced until the division ends or there are enough to tell that more
 * than DG_RATE_MAX_DIGITS would be needed.
 */
enum dg_merr dg_rate_effective(const struct dg_rate *mul,
			       const struct dg_rate *div, char *buf, size_t len)
{
	char dig[48];
	uint64_t mc = 1, dc = 1, q;
	int ms = 0, ds = 0, n = 0, nz, point = 0, i;
	u128 rem;
	struct sbuf sb = {buf, len, 0, false};

	if (!buf || len == 0)
		return DG_M_INVALID;
	if (mul) {
		if (!rate_valid(mul))
			return DG_M_INVALID;
		mc = mul->coef;
		ms = mul->scale;
	}
	if (div) {
		if (!rate_valid(div))
			return DG_M_INVALID;
		dc = div->coef;
		ds = div->scale;
	}

	q = mc / dc;
	rem = mc % dc;
	if (q) {
		char tmp[24];
		int k = 0;

		while (q) {
			tmp[k++] = '0' + q % 10;
			q /= 10;
		}
		point = k;
		while (k)
			dig[n++] = tmp[--k];
	} else {
		while (rem * 10 < dc) {
			rem *= 10;
			point--;
		}
	}
	while (rem && n <= DG_RATE_MAX_DIGITS) {
		rem *= 10;
		dig[n++] = '0' + (char)(rem / dc);
		rem %= dc;
	}

	for (nz = n; nz > 0 && dig[nz - 1] == '0'; nz--)
		;
	if (rem == 0 && nz <= DG_RATE_MAX_DIGITS) {
		n = nz;
	} else {
		/* At least 19 digits were produced: round half-up at 15. */
		bool up = dig[DG_EFFECTIVE_DIGITS] >= '5';

		n = DG_EFFECTIVE_DIGITS;
		for (i = n - 1; up && i >= 0; i--) {
			if (dig[i] == '9') {
				dig[i] = '0';
			} else {
				dig[i]++;
				up = false;
			}
		}
		if (up) {
			dig[0] = '1';
			point++;
		}
	}
	point += ds - ms;

	if (point <= 0) {
		sb_putc(&sb, '0');
		sb_putc(&sb, '.');
		sb_repeat(&sb, '0', -point);
	}
	for (i = 0; i < n; i++) {
		if (i == point && i > 0)
			sb_putc(&sb, '.');
		sb_putc(&sb, dig[i]);
	}
	sb_repeat(&sb, '0', point - n);
	buf[sb.pos] = '\0';
	return sb.full ? DG_M_OVERFLOW : DG_M_OK;
}

/*
 * A small unsigned multi-precision integer for dg_rate_moved_more_than:
 * with two parsed rates and a percentage of up to 45 decimals, both sides
 * of its comparison stay below 2^380.
 */
#define BIG_WORDS 16

struct big {
	uint32_t w[BIG_WORDS]; /* least significant first */
};

static void big_set(struct big *x, uint64_t v)
{
	memset(x, 0, sizeof(*x));
	x->w[0] = (uint32_t)v;
	x->w[1] = (uint32_t)(v >> 32);
}

static bool big_mul(struct big *x, uint64_t m)
{
	u128 carry = 0;
	int i;

	for (i = 0; i < BIG_WORDS; i++) {
		u128 t = (u128)x->w[i] * m + carry;

		x->w[i] = (uint32_t)t;
		carry = t >> 32;
	}
	return carry == 0;
}

static bool big_mul_pow10(struct big *x, int e)
{
	for (; e > 0; e--)
		if (!big_mul(x, 10))
			return false;
	return true;
}

static int big_cmp(const struct big *a, const struct big *b)
{
	int i;

	for (i = BIG_WORDS - 1; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

/* *a -= *b, for *a >= *b */
static void big_sub(struct big *a, const struct big *b)
{
	uint64_t borrow = 0;
	int i;

	for (i = 0; i < BIG_WORDS; i++) {
		uint64_t t = (uint64_t)a->w[i] - b->w[i] - borrow;

		a->w[i] = (uint32_t)t;
		borrow = t >> 63;
	}
}

/*
 * |a - b| * 100 > pct * b, scaled to integers: with S the larger scale of
 * a and b, A = a * 10^S and B = b * 10^S, and pct = pc / 10^ps:
 *     |A - B| * 10^(ps + 2) > pc * B
 */
int dg_rate_moved_more_than(const struct dg_rate *a, const struct dg_rate *b,
			    const char *pct)
{
	struct big x, y, rhs;
	uint64_t pc;
	size_t ps, sig;
	int s;

	if (!a || !b || !pct || !rate_valid(a) || !rate_valid(b))
		return -1;
	if (parse_decimal(pct, &pc, &ps, &sig) || sig > DG_RATE_MAX_DIGITS ||
	    ps > RATE_MAX_SCALE)
		return -1;

	s = a->scale > b->scale ? a->scale : b->scale;
	big_set(&x, a->coef);
	big_set(&y, b->coef);
	if (!big_mul_pow10(&x, s - a->scale) ||
	    !big_mul_pow10(&y, s - b->scale))
		return -1;
	rhs = y;
	if (!big_mul(&rhs, pc))
		return -1;
	if (big_cmp(&x, &y) >= 0) {
		big_sub(&x, &y);
	} else {
		big_sub(&y, &x);
		x = y;
	}
	if (!big_mul_pow10(&x, (int)ps + 2))
		return -1;
	return big_cmp(&x, &rhs) > 0;
}

/* floor(t * w / sum) and its remainder: t * w < 2^63 * 2^63 fits. */
static uint64_t share_of(uint64_t t, int64_t w, uint64_t sum)
{
	return (uint64_t)((u128)t * (uint64_t)w / sum);
}

static uint64_t rem_of(uint64_t t, int64_t w, uint64_t sum)
{
	return (uint64_t)((u128)t * (uint64_t)w % sum);
}

/*
 * Each share starts as floor(t * w / sum) of the magnitude t; the `left`
 * units still missing (fewer than n) go one each to the largest
 * remainders, the lowest index first among equals. The smallest
 * remainder that still earns a unit is found by bisection over its
 * value, so there is no sort and no allocation.
 */
enum dg_merr dg_allocate(int64_t total, const int64_t *weights, size_t n,
			 int64_t *shares)
{
	uint64_t t = magnitude(total), sum = 0, left, lo, hi;
	size_t i, above, ties;

	if (!weights || !shares || n == 0)
		return DG_M_INVALID;
	for (i = 0; i < n; i++) {
		if (weights[i] < 0)
			return DG_M_INVALID;
		if (sum > (uint64_t)INT64_MAX - (uint64_t)weights[i])
			return DG_M_OVERFLOW;
		sum += (uint64_t)weights[i];
	}
	if (sum == 0)
		return DG_M_INVALID;

	left = t;
	for (i = 0; i < n; i++)
		left -= share_of(t, weights[i], sum);

	/* The largest lo with at least `left` remainders >= lo. Remainders
	 * sum to left * sum and each is < sum, so more than `left` of them
	 * are non-zero and lo >= 1. */
	lo = 1;
	hi = sum - 1;
	while (left && lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;
		size_t count = 0;

		for (i = 0; i < n; i++)
			count += rem_of(t, weights[i], sum) >= mid;
		if (count >= left)
			lo = mid;
		else
			hi = mid - 1;
	}
	above = 0;
	for (i = 0; i < n; i++)
		above += rem_of(t, weights[i], sum) > lo;
	ties = left ? left - above : 0;

	for (i = 0; i < n; i++) {
		uint64_t share = share_of(t, weights[i], sum);
		uint64_t rem = rem_of(t, weights[i], sum);

		if (left && rem > lo) {
			share++;
		} else if (left && rem == lo && ties) {
			share++;
			ties--;
		}
		shares[i] = total < 0 ? negate(share) : (int64_t)share;
	}
	return DG_M_OK;
}

enum dg_merr dg_add(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return DG_M_OVERFLOW;
	*out = r;
	return DG_M_OK;
}

enum dg_merr dg_sub(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return DG_M_OVERFLOW;
	*out = r;
	return DG_M_OK;
}
