/*
 * fuzz-rates.c - the rate documents (rates.c: dg_rates_parse for the
 * ECB XML and CSV feeds and the JSON shapes, dg_rate_format_detect).
 *
 * The first byte picks the format (auto, ECB XML, ECB CSV, JSON), the
 * rest is the document. Checked:
 *   - a document is all or nothing: 0 with at least one quote and no
 *     message, or 65 with no quote and exactly one message;
 *   - every quote: base and quote are distinct known ISO 4217 codes
 *     (EUR the base for the ECB feeds), the rate is text dg_rate_parse
 *     accepts with the same value and gives back verbatim, the day a
 *     valid date that formats and parses back; no day repeats a
 *     currency;
 *   - automatic detection parses as the format dg_rate_format_detect
 *     names, which follows the first byte after a BOM and white space;
 *   - parsing is deterministic: twice, the same quotes.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "daigou.h"

#define NAME "fuzz-doc"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz-rates");
	return 0;
}

static bool code_ok(const char *c)
{
	int i;

	for (i = 0; i < 3; i++)
		if (c[i] < 'A' || c[i] > 'Z')
			return false;
	return c[3] == '\0' && dg_currency_lookup(c);
}

static void check_quotes(const struct dg_quotes *q, enum dg_rate_format fmt)
{
	const struct dg_quote *x, *y;
	struct dg_rate r;
	char d[DG_DATE_SIZE];
	int32_t back;
	size_t i, j;

	for (i = 0; i < q->n; i++) {
		x = &q->v[i];
		FUZZ_CHECK(code_ok(x->base) && code_ok(x->quote),
			   "quote %zu: codes '%.4s' '%.4s'", i, x->base,
			   x->quote);
		FUZZ_CHECK(strcmp(x->base, x->quote),
			   "quote %zu: %s against itself", i, x->base);
		if (fmt != DG_RF_JSON)
			FUZZ_CHECK(!strcmp(x->base, "EUR"),
				   "quote %zu: base %s in an ECB feed", i,
				   x->base);
		FUZZ_CHECK(memchr(x->rate.text, '\0', sizeof(x->rate.text)),
			   "quote %zu: rate text not terminated", i);
		FUZZ_CHECK(dg_rate_parse(x->rate.text, &r) == DG_M_OK &&
				   r.coef == x->rate.coef &&
				   r.scale == x->rate.scale &&
				   !strcmp(r.text, x->rate.text),
			   "quote %zu: rate '%s' does not parse back to itself",
			   i, x->rate.text);
		dg_format_date(x->as_of, d);
		FUZZ_CHECK(!dg_parse_date(d, &back) && back == x->as_of,
			   "quote %zu: day %ld formats as '%s'", i,
			   (long)x->as_of, d);
		for (j = 0; j < i; j++) {
			y = &q->v[j];
			FUZZ_CHECK(y->as_of != x->as_of ||
					   strcmp(y->base, x->base) ||
					   strcmp(y->quote, x->quote),
				   "%s/%s on %s given twice", x->base, x->quote,
				   d);
		}
	}
}

static bool same_quote(const struct dg_quote *a, const struct dg_quote *b)
{
	return !strcmp(a->base, b->base) && !strcmp(a->quote, b->quote) &&
	       a->rate.coef == b->rate.coef && a->rate.scale == b->rate.scale &&
	       !strcmp(a->rate.text, b->rate.text) && a->as_of == b->as_of;
}

static enum dg_rate_format detect(const uint8_t *d, size_t n)
{
	size_t i = n >= 3 && !memcmp(d, "\xEF\xBB\xBF", 3) ? 3 : 0;

	while (i < n &&
	       (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	if (i < n && d[i] == '<')
		return DG_RF_ECB_XML;
	if (i < n && d[i] == '{')
		return DG_RF_JSON;
	return DG_RF_ECB_CSV;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dg_rate_format fmts[] = {DG_RF_AUTO, DG_RF_ECB_XML,
						   DG_RF_ECB_CSV, DG_RF_JSON};
	struct dg_quotes q = {0}, q2 = {0};
	enum dg_rate_format fmt, got;
	const char *buf, *msg;
	size_t off = 0, n, lines;
	int rc, rc2;

	if (size < 1)
		return 0;
	fmt = fmts[data[0] % 4];
	data++;
	size--;
	buf = (const char *)data;
	/* XML counts a lone CR as a line break too */
	lines = fuzz_count_lines(data, size);
	for (n = 0; n < size; n++)
		lines += data[n] == '\r';

	got = dg_rate_format_detect(buf, size);
	FUZZ_CHECK(got == detect(data, size), "detected as %d, not %d",
		   (int)got, (int)detect(data, size));
	if (fmt == DG_RF_AUTO)
		fmt = got;

	fuzz_capture_begin();
	rc = dg_rates_parse(buf, size, fmt, NAME, &q);
	msg = fuzz_capture_since(&off);
	if (rc) {
		FUZZ_CHECK(rc == DG_EXIT_DATAERR, "dg_rates_parse returned %d",
			   rc);
		FUZZ_CHECK(q.n == 0 && !q.v,
			   "a refused document kept %zu "
			   "quotes",
			   q.n);
		/* one message, naming the document (and a line, where there
		 * is one, within the document) */
		n = strlen(msg);
		FUZZ_CHECK(n && memchr(msg, '\n', n) == msg + n - 1,
			   "not exactly one message on one line (text from "
			   "the input not escaped?): %s",
			   msg);
		FUZZ_CHECK(!strncmp(msg, "fuzz-rates: " NAME ":",
				    strlen("fuzz-rates: " NAME ":")),
			   "the message does not name the document: %s", msg);
		if (msg[strlen("fuzz-rates: " NAME ":")] >= '0' &&
		    msg[strlen("fuzz-rates: " NAME ":")] <= '9')
			fuzz_check_messages(msg, NAME, 1, lines + 1, NULL);
	} else {
		FUZZ_CHECK(q.n > 0, "a document accepted without quotes");
		FUZZ_CHECK(!*msg, "an accepted document printed: %s", msg);
		check_quotes(&q, fmt);
	}

	rc2 = dg_rates_parse(buf, size, fmt, NAME, &q2);
	fuzz_capture_end(NULL);
	FUZZ_CHECK(rc2 == rc && q2.n == q.n,
		   "parsed twice: %d with %zu quotes, then %d with %zu", rc,
		   q.n, rc2, q2.n);
	for (n = 0; n < q.n; n++)
		FUZZ_CHECK(same_quote(&q.v[n], &q2.v[n]),
			   "parsed twice: quote %zu differs", n);
	dg_quotes_free(&q);
	dg_quotes_free(&q2);
	return 0;
}
