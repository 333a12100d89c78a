/*
 * bucket.c - one token bucket for every transfer together, and the size
 * arguments of --limit-rate and --max-size.
 *
 * Tokens are whole bytes; the clock is integer nanoseconds. A refill
 * adds only the whole bytes earned since last_ns and moves last_ns on by
 * exactly the time those bytes took (rounded up to a nanosecond), so the
 * fraction of a byte earned so far is carried to the next refill rather
 * than lost: many small refills add up to the rate, not below it.
 */
#include <ctype.h>
#include <limits.h>

#include "daigou.h"

#define NS 1000000000LL

/* Tokens earned up to now; a full bucket earns nothing more. */
static void refill(struct dg_bucket *b, int64_t now_ns)
{
	__int128 earned, used;

	if (now_ns <= b->last_ns)
		return; /* no time has passed (or the clock stepped back) */
	if (b->tokens >= b->burst) {
		b->last_ns = now_ns;
		return;
	}
	earned = (__int128)(now_ns - b->last_ns) * b->rate / NS;
	if (earned >= (__int128)b->burst - b->tokens) {
		b->tokens = b->burst;
		b->last_ns = now_ns;
		return;
	}
	used = (earned * NS + b->rate - 1) / b->rate;
	b->tokens += (int64_t)earned;
	b->last_ns += (int64_t)used;
}

void dg_bucket_init(struct dg_bucket *b, int64_t rate, int64_t burst,
		    int64_t now_ns)
{
	b->rate = rate > 0 ? rate : 0;
	b->burst = burst > 0 ? burst : 1;
	b->tokens = b->burst;
	b->last_ns = now_ns;
}

void dg_bucket_spend(struct dg_bucket *b, int64_t n, int64_t now_ns)
{
	if (b->rate <= 0 || n <= 0)
		return;
	refill(b, now_ns);
	/* a debt past any real transfer is kept from wrapping */
	if (b->tokens < INT64_MIN / 2 + n)
		b->tokens = INT64_MIN / 2;
	else
		b->tokens -= n;
}

int64_t dg_bucket_wait_ns(struct dg_bucket *b, int64_t now_ns)
{
	__int128 need;
	int64_t waited;

	if (b->rate <= 0)
		return 0;
	refill(b, now_ns);
	if (b->tokens > 0)
		return 0;
	/* until one whole byte is earned past the debt, less the part of
	 * it already earned since last_ns */
	need = ((__int128)(1 - b->tokens) * NS + b->rate - 1) / b->rate;
	waited = now_ns > b->last_ns ? now_ns - b->last_ns : 0;
	need -= waited;
	if (need < 1)
		need = 1;
	if (need > INT64_MAX)
		need = INT64_MAX;
	return (int64_t)need;
}

int dg_size_parse(const char *s, int64_t *out)
{
	int64_t v = 0, mul = 1;
	const char *p = s;

	if (s == NULL || !isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mul = 1024;
		p++;
		break;
	case 'm':
	case 'M':
		mul = 1024 * 1024;
		p++;
		break;
	case 'g':
	case 'G':
		mul = 1024 * 1024 * 1024;
		p++;
		break;
	default:
		return -1;
	}
	if (*p != '\0' || v > INT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}
