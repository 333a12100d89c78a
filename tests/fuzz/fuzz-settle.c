/*
 * fuzz-settle.c - the settlement readers (settle.c: dg_settle_read) over
 * a memory stream.
 *
 * The first byte picks the format (auto, stripe, paypal, generic with a
 * fixed --map) and --minor-units; the rest is the file. Checked, besides
 * ASan and UBSan:
 *   - the result is 0 or 65, never anything else, and a 65 prints one
 *     message naming the file and a line not before the last row's;
 *     a 0 prints nothing;
 *   - every row is consistent: net = gross - fee (Stripe's rows are
 *     delivered only once their net is checked), its currency upper case
 *     and known, a customer-facing currency known and not the row's, a
 *     charge or refund with an id, the sign of a generic refund negative;
 *   - rows come in file order, each on a line after the last row's and
 *     within the input's lines;
 *   - the same bytes read again give the same rows and messages;
 *   - read from a file in chunks on two threads (the first chunk's end
 *     at a byte the first byte's high bits choose, the others at its
 *     multiples), they give the rows, messages and result of one
 *     thread.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "daigou.h"

#define NAME "fuzz.csv"
#define MAP                                                                    \
	"gateway_txn_id=id,amount=amount,currency=currency,kind=kind,fee=fee," \
	"date=date,order_id=order"

struct seen {
	char *text;
	size_t len, cap;
	unsigned long lines, last;
	int rows;
	enum dg_settle_format format;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-settle");
	return 0;
}

static bool upper_known(const char *c)
{
	return c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' &&
	       c[2] >= 'A' && c[2] <= 'Z' && !c[3] && dg_currency_lookup(c);
}

static int on_row(void *arg, const struct dg_settle_row *r)
{
	struct seen *s = arg;
	char line[256];
	int64_t net;

	FUZZ_CHECK(r->kind >= DG_SK_CHARGE && r->kind <= DG_SK_OTHER,
		   "line %lu: kind %d", r->line, (int)r->kind);
	FUZZ_CHECK(r->line > s->last && r->line <= s->lines,
		   "a row on line %lu after line %lu of %lu", r->line, s->last,
		   s->lines);
	s->last = r->line;
	FUZZ_CHECK(upper_known(r->currency), "line %lu: currency '%s'", r->line,
		   r->currency);
	FUZZ_CHECK(dg_sub(r->gross, r->fee, &net) == DG_M_OK && net == r->net,
		   "line %lu: gross %lld - fee %lld is not net %lld", r->line,
		   (long long)r->gross, (long long)r->fee, (long long)r->net);
	if (r->cf_currency[0])
		FUZZ_CHECK(
			upper_known(r->cf_currency) &&
				strcmp(r->cf_currency, r->currency),
			"line %lu: customer-facing currency '%s' of a %s row",
			r->line, r->cf_currency, r->currency);
	else
		FUZZ_CHECK(r->cf_amount == 0, "line %lu: cf_amount alone",
			   r->line);
	FUZZ_CHECK(r->category && r->txn_id && r->ref_txn_id && r->order_id &&
			   r->file && !strcmp(r->file, NAME),
		   "line %lu: a NULL string or another file name", r->line);
	if (r->kind == DG_SK_CHARGE || r->kind == DG_SK_REFUND)
		FUZZ_CHECK(*r->txn_id,
			   "line %lu: a charge or refund without "
			   "its id",
			   r->line);
	if (s->format == DG_SETTLE_GENERIC)
		FUZZ_CHECK(r->kind == DG_SK_CHARGE ? r->gross >= 0
						   : r->gross <= 0,
			   "line %lu: a generic %s of %lld", r->line,
			   r->category, (long long)r->gross);
	/* the row as text, to compare readings */
	snprintf(line, sizeof(line), "%lu %d %lld %lld %lld %s %lld %s %lld|",
		 r->line, (int)r->kind, (long long)r->gross, (long long)r->fee,
		 (long long)r->net, r->currency, (long long)r->cf_amount,
		 r->cf_currency, (long long)r->at);
	dg_xappend(&s->text, &s->len, &s->cap, line);
	dg_xappend(&s->text, &s->len, &s->cap, r->category);
	dg_xappend(&s->text, &s->len, &s->cap, "|");
	dg_xappend(&s->text, &s->len, &s->cap, r->txn_id);
	dg_xappend(&s->text, &s->len, &s->cap, "|");
	dg_xappend(&s->text, &s->len, &s->cap, r->ref_txn_id);
	dg_xappend(&s->text, &s->len, &s->cap, "|");
	dg_xappend(&s->text, &s->len, &s->cap, r->order_id);
	dg_xappend(&s->text, &s->len, &s->cap, "\n");
	s->rows++;
	return 0;
}

struct reading {
	int rc;
	char *rows, *msg;
	enum dg_settle_format format;
};

/* A file holding data (a regular file: it can be read in chunks). */
static FILE *file_of(const uint8_t *data, size_t size)
{
	FILE *fp = tmpfile();

	if (!fp || fwrite(data, 1, size, fp) != size || fflush(fp) ||
	    fseek(fp, 0, SEEK_SET))
		fuzz_fail("a temporary file of %zu bytes failed", size);
	return fp;
}

static struct reading read_all(const uint8_t *data, size_t size,
			       struct dg_settle_opts *o, bool in_file)
{
	struct seen s = {NULL, 0, 0, 0, 0, 0, DG_SETTLE_AUTO};
	struct reading r;
	size_t n, mlen;
	FILE *fp = in_file ? file_of(data, size) : fuzz_memstream(data, size);
	const char *msg;
	char empty[64];

	snprintf(empty, sizeof(empty), "%s: ", dg_progname());
	s.lines = fuzz_count_lines(data, size);
	s.format = o->format == DG_SETTLE_AUTO ? DG_SETTLE_AUTO : o->format;
	fuzz_capture_begin();
	r.rc = dg_settle_read(fp, NAME, o, on_row, &s, &r.format);
	msg = fuzz_capture_end(&mlen);
	fclose(fp);
	FUZZ_CHECK(r.rc == 0 || r.rc == DG_EXIT_DATAERR,
		   "dg_settle_read returned %d", r.rc);
	if (r.rc == 0) {
		FUZZ_CHECK(!*msg, "a file read whole printed: %s", msg);
		FUZZ_CHECK(r.format != DG_SETTLE_AUTO, "no format detected");
	} else if (!strncmp(msg, empty, strlen(empty)) &&
		   !strcmp(msg + strlen(empty),
			   NAME ": an empty file (a cut download?)\n")) {
		FUZZ_CHECK(s.rows == 0, "rows from an empty file");
	} else {
		n = fuzz_check_messages(msg, NAME, s.last ? s.last : 1, s.lines,
					NULL);
		FUZZ_CHECK(n == 1, "a refused file gave %zu messages", n);
	}
	r.rows = s.text ? s.text : strdup("");
	r.msg = strdup(msg);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dg_settle_format formats[] = {
		DG_SETTLE_AUTO, DG_SETTLE_STRIPE, DG_SETTLE_PAYPAL,
		DG_SETTLE_GENERIC};
	struct dg_settle_opts o = {.format = DG_SETTLE_AUTO};
	struct reading a, b, c;
	size_t split;

	if (size < 2)
		return 0;
	o.format = formats[data[0] & 3];
	o.minor_units = data[0] & 4;
	split = (size_t)(data[0] >> 3);
	if (o.format == DG_SETTLE_GENERIC)
		o.map = MAP;
	data++;
	size--;
	o.threads = 1;
	a = read_all(data, size, &o, false);
	b = read_all(data, size, &o, false);
	FUZZ_CHECK(a.rc == b.rc && !strcmp(a.rows, b.rows) &&
			   !strcmp(a.msg, b.msg),
		   "the same bytes read twice differ");
	o.threads = 2;
	o.chunk = 1 + split * size / 32;
	c = read_all(data, size, &o, true);
	FUZZ_CHECK(a.rc == c.rc && !strcmp(a.rows, c.rows) &&
			   !strcmp(a.msg, c.msg),
		   "read in chunks of %zu bytes on two threads, the rows or "
		   "messages differ:\n%s%s---\n%s%s",
		   o.chunk, a.rows, a.msg, c.rows, c.msg);
	free(a.rows);
	free(a.msg);
	free(b.rows);
	free(b.msg);
	free(c.rows);
	free(c.msg);
	return 0;
}
