/*
 * check_settle: the settlement readers (Stripe itemized reports, PayPal
 * STL reports, generic CSV): rows in minor units, the files that add up
 * and those that do not, format detection. Every input is read twice on
 * one thread with the same result, then in chunks of several sizes on
 * two and three threads: the rows, the messages and the result are
 * those of one thread.
 */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "daigou.h"

struct out {
	char *text;
	size_t len, cap;
	int stop_at; /* the callback returns 99 at this row (1-based) */
	int rows;
};

static const char *const kinds[] = {"charge", "refund", "reversal", "other"};

static int collect(void *arg, const struct dg_settle_row *r)
{
	struct out *o = arg;
	char at[DG_RFC3339_SIZE], line[512];

	if (r->at == DG_SETTLE_NO_TIME)
		dg_xsnprintf(at, sizeof(at), "-");
	else
		dg_format_rfc3339(r->at, at);
	dg_xsnprintf(line, sizeof(line),
		     "%lu %s %s %s ref=%s order=%s %lld %lld %lld %s", r->line,
		     kinds[r->kind], r->category, r->txn_id, r->ref_txn_id,
		     r->order_id, (long long)r->gross, (long long)r->fee,
		     (long long)r->net, r->currency);
	dg_xappend(&o->text, &o->len, &o->cap, line);
	if (r->cf_currency[0]) {
		dg_xsnprintf(line, sizeof(line), " cf=%lld %s",
			     (long long)r->cf_amount, r->cf_currency);
		dg_xappend(&o->text, &o->len, &o->cap, line);
	}
	dg_xappend(&o->text, &o->len, &o->cap, " ");
	dg_xappend(&o->text, &o->len, &o->cap, at);
	dg_xappend(&o->text, &o->len, &o->cap, "\n");
	ck_assert(r->file != NULL);
	return ++o->rows == o->stop_at ? 99 : 0;
}

struct result {
	int rc;
	enum dg_settle_format format;
	char *rows; /* "" when none */
	char *msg;
};

static struct result read_once(FILE *fp, const char *name,
			       const struct dg_settle_opts *opts, int stop_at)
{
	struct out o = {NULL, 0, 0, stop_at, 0};
	struct result res;

	test_capture_begin();
	res.rc = dg_settle_read(fp, name, opts, collect, &o, &res.format);
	res.msg = test_capture_end();
	res.rows = o.text ? o.text : dg_xstrdup("");
	return res;
}

static void same(const struct result *a, const struct result *b)
{
	ck_assert_int_eq(a->rc, b->rc);
	ck_assert_int_eq(a->format, b->format);
	ck_assert_str_eq(a->rows, b->rows);
	ck_assert_str_eq(a->msg, b->msg);
}

/* Read text on one thread; reading it again gives the same, and so does
 * reading it in chunks on several threads. */
static struct result run_opts(const char *text, size_t len,
			      struct dg_settle_opts opts, int stop_at)
{
	static const size_t chunks[] = {1, 2, 3, 7, 16, 61, 256, 4096};
	struct result a, b;
	FILE *fp;
	size_t i;
	int threads;

	opts.threads = 1;
	fp = test_input_file(text, len);
	a = read_once(fp, "in.csv", &opts, stop_at);
	fclose(fp);
	fp = test_input_file(text, len);
	b = read_once(fp, "in.csv", &opts, stop_at);
	fclose(fp);
	same(&a, &b);
	free(b.rows);
	free(b.msg);
	for (threads = 2; threads <= 3; threads++) {
		for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
			if (chunks[i] * 2048 < len)
				continue; /* not thousands of chunks */
			opts.threads = threads;
			opts.chunk = chunks[i];
			fp = test_input_file(text, len);
			b = read_once(fp, "in.csv", &opts, stop_at);
			fclose(fp);
			same(&a, &b);
			free(b.rows);
			free(b.msg);
		}
	}
	return a;
}

static struct result run_map(const char *text, struct dg_settle_opts opts)
{
	return run_opts(text, strlen(text), opts, 0);
}

static struct result run(const char *text, enum dg_settle_format f)
{
	struct dg_settle_opts opts = {.format = f};

	return run_opts(text, strlen(text), opts, 0);
}

static char *slurp(const char *fixture, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	FILE *fp;
	char *buf;
	long n;

	dg_xsnprintf(path, sizeof(path), "%s/tests/fixtures/settle/%s",
		     top ? top : ".", fixture);
	fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = dg_xmalloc((size_t)n + 1);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static struct result run_fixture(const char *fixture,
				 struct dg_settle_opts opts)
{
	size_t len;
	char *text = slurp(fixture, &len);
	struct result r = run_opts(text, len, opts, 0);

	free(text);
	return r;
}

static void done(struct result *r)
{
	free(r->rows);
	free(r->msg);
}

static const char stripe_rows[] =
	"2 charge charge ch_3QfA1bCZ6qsJgndJ1d4e5f6g ref= order=DG-10001 "
	"12000 378 11622 USD 2026-11-26T01:12:09Z\n"
	"3 charge charge ch_3QfA9xCZ6qsJgndJ1y6t5r4e ref= order=DG-10002 "
	"8950 290 8660 USD 2026-11-26T03:40:55Z\n"
	"4 charge charge ch_3QfB4kCZ6qsJgndJ1b5n6m7q ref= order=DG-10003 "
	"6412 216 6196 USD cf=9800 JPY 2026-11-26T05:02:17Z\n"
	"5 refund refund re_3QfC7mCZ6qsJgndJ1g4h5j6k "
	"ref=ch_3QfA1bCZ6qsJgndJ1d4e5f6g order=DG-10001 -3000 0 -3000 USD "
	"2026-11-26T08:30:00Z\n"
	"6 reversal dispute du_3QfD2pCZ6qsJgndJ1f6d5s4a "
	"ref=ch_3QfA9xCZ6qsJgndJ1y6t5r4e order=DG-10002 -8950 1500 -10450 "
	"USD 2026-11-26T11:15:42Z\n"
	"7 other fee  ref= order= -200 0 -200 USD 2026-11-26T12:00:00Z\n"
	"8 charge charge ch_3QfF8tCZ6qsJgndJ1o8p9a0s ref= order=DG-10004 "
	"12800 461 12339 JPY 2026-11-26T14:21:03Z\n"
	"9 other payout po_1QfG1uCZ6qsJgndJ2x7c8v9b ref= order= -50000 0 "
	"-50000 USD 2026-11-26T23:59:59Z\n";

START_TEST(test_stripe_itemized)
{
	struct dg_settle_opts opts = {0};
	struct result r = run_fixture("stripe-itemized.csv", opts);

	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.format, DG_SETTLE_STRIPE);
	ck_assert_str_eq(r.msg, "");
	ck_assert_str_eq(r.rows, stripe_rows);
	done(&r);
	/* a BOM and CRLF line ends read the same */
	r = run_fixture("stripe-itemized-bom-crlf.csv", opts);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.rows, stripe_rows);
	done(&r);
	opts.format = DG_SETTLE_STRIPE;
	r = run_fixture("stripe-itemized.csv", opts);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.rows, stripe_rows);
	done(&r);
}
END_TEST

START_TEST(test_stripe_does_not_add_up)
{
	struct dg_settle_opts opts = {0};
	struct result r = run_fixture("stripe-net-wrong.csv", opts);

	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg, "t: in.csv:3: gross - fee is not net: 89.50 - "
				"2.90 != 86.50 USD (a damaged file?)\n");
	done(&r);
	r = run_fixture("stripe-truncated.csv", opts);
	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg, "t: in.csv:8: 3 fields but the header has 21 "
				"(a cut line?)\n");
	done(&r);
}
END_TEST

#define STRIPE_HEAD                                                            \
	"balance_transaction_id,created_utc,currency,gross,fee,net,"           \
	"reporting_category,source_id,charge_id\n"

START_TEST(test_stripe_amounts_exact)
{
	static const struct {
		const char *row, *msg;
	} bad[] = {
		{"t1,2026-11-26 09:14:31,usd,1.005,0.00,1.005,charge,ch_1,",
		 "t: in.csv:2: gross '1.005': more decimals than USD has "
		 "(2)\n"},
		{"t1,2026-11-26 09:14:31,jpy,12.5,0,12.5,charge,ch_1,",
		 "t: in.csv:2: gross '12.5': more decimals than JPY has (0)\n"},
		{"t1,2026-11-26 09:14:31,kwd,1.0001,0,1.0001,charge,ch_1,",
		 "t: in.csv:2: gross '1.0001': more decimals than KWD has "
		 "(3)\n"},
		{"t1,2026-11-26 09:14:31,xxq,1.00,0,1.00,charge,ch_1,",
		 "t: in.csv:2: currency 'xxq': not a known ISO 4217 "
		 "currency\n"},
		{"t1,2026-11-26 09:14:31,usd,1e3,0,1e3,charge,ch_1,",
		 "t: in.csv:2: gross '1e3': not an amount of USD (not a plain "
		 "decimal)\n"},
		{"t1,2026-11-26 25:14:31,usd,1.00,0,1.00,charge,ch_1,",
		 "t: in.csv:2: created_utc '2026-11-26 25:14:31': not a time "
		 "(YYYY-MM-DD HH:MM:SS)\n"},
		{"t1,2026-11-26 09:14:31,usd,1.00,0,1.00,charge,,",
		 "t: in.csv:2: source_id: a charge without charge_id or "
		 "source_id\n"},
		{"t1,2026-11-26 09:14:31,usd,1.00,0,1.00,,ch_1,",
		 "t: in.csv:2: reporting_category: empty\n"},
	};
	char text[512];
	struct result r;
	size_t i;

	for (i = 0; i < DG_NELEM(bad); i++) {
		dg_xsnprintf(text, sizeof(text), "%s%s\n", STRIPE_HEAD,
			     bad[i].row);
		r = run(text, DG_SETTLE_AUTO);
		ck_assert_int_eq(r.rc, 65);
		ck_assert_str_eq(r.rows, "");
		ck_assert_str_eq(r.msg, bad[i].msg);
		done(&r);
	}
	r = run("balance_transaction_id,created_utc,currency,gross,fee,net,"
		"reporting_category,source_id,customer_facing_amount,"
		"customer_facing_currency\n"
		"t,2026-11-26 00:00:00,usd,1.00,0,1.00,charge,ch_1,"
		"-9223372036854775808,jpy\n",
		DG_SETTLE_AUTO);
	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg, "t: in.csv:2: customer_facing_amount "
				"'-9223372036854775808': too large\n");
	done(&r);
	r = run(STRIPE_HEAD "t1,2026-11-26 09:14:31,kwd,45.125,1.1,44.025,"
			    "charge,ch_1,\n",
		DG_SETTLE_AUTO);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.rows, "2 charge charge ch_1 ref= order= 45125 1100 "
				 "44025 KWD 2026-11-26T09:14:31Z\n");
	done(&r);
}
END_TEST

START_TEST(test_stripe_columns_by_name)
{
	/* any order, extra columns ignored, created instead of
	 * created_utc, quoted fields with commas and quotes, a quoted
	 * field over two lines */
	struct result r = run(
		"note,net,fee,gross,currency,reporting_category,created,"
		"source_id,balance_transaction_id,payment_metadata[order_id],"
		"payment_metadata[note]\n"
		"\"a, b\",9.70,0.30,10.00,USD,charge,2026-11-26 00:00:01,ch_A,"
		"txn_1,\"DG,1\",\"say \"\"hi\"\"\"\n"
		"\"two\nlines\",-1.00,0.00,-1.00,usd,refund,2026-11-26 "
		"00:00:02,re_B,txn_2,DG-2,\n"
		"\n"
		"x,0.00,0.00,0.00,usd,transfer,2026-11-26 00:00:03,tr_C,txn_3,"
		",\n",
		DG_SETTLE_AUTO);

	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.msg, "");
	ck_assert_str_eq(r.rows,
			 "2 charge charge ch_A ref= order=DG,1 1000 30 970 USD "
			 "2026-11-26T00:00:01Z\n"
			 "3 refund refund re_B ref= order=DG-2 -100 0 -100 USD "
			 "2026-11-26T00:00:02Z\n"
			 "6 other transfer tr_C ref= order= 0 0 0 USD "
			 "2026-11-26T00:00:03Z\n");
	done(&r);
}
END_TEST

START_TEST(test_stripe_bad_csv_and_columns)
{
	struct result r;

	r = run(STRIPE_HEAD "t1,2026-11-26 09:14:31,usd,1.00,0,1.00,charge,"
			    "ch_\"1,\n",
		DG_SETTLE_AUTO);
	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg,
			 "t: in.csv:2: malformed CSV: a misplaced quote\n");
	done(&r);
	r = run(STRIPE_HEAD "t1,2026-11-26 09:14:31,usd,1.00,0,1.00,charge,"
			    "\"ch_1\n",
		DG_SETTLE_AUTO);
	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg,
			 "t: in.csv:2: malformed CSV: a quote never closed\n");
	done(&r);
	r = run("balance_transaction_id,created_utc,currency,gross,net,"
		"reporting_category,source_id\n",
		DG_SETTLE_AUTO);
	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg, "t: in.csv:1: no column 'fee' in the header\n");
	done(&r);
	r = run(STRIPE_HEAD "t1,2026-11-26 09:14:31,usd,1.00,0,1.00,charge,"
			    "ch_1,,extra\n",
		DG_SETTLE_AUTO);
	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg,
			 "t: in.csv:2: 10 fields but the header has 9\n");
	done(&r);
	/* only the header: no rows, fine */
	r = run(STRIPE_HEAD, DG_SETTLE_AUTO);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.rows, "");
	done(&r);
}
END_TEST

static const char paypal_rows[] =
	"5 charge T0006 5TY05013RG002845M ref= order=DG-20001 12000 378 "
	"11622 USD 2026-11-26T17:14:31Z\n"
	"6 charge T0006 8VD50457S2727035V ref= order=DG-20002 8950 290 8660 "
	"USD 2026-11-26T18:02:49Z\n"
	"7 refund T1107 1AB23456CD7890123 ref=5TY05013RG002845M "
	"order=DG-20001 -3000 -94 -2906 USD 2026-11-26T21:30:00Z\n"
	"8 reversal T1201 9XY87654ZW3210987 ref=8VD50457S2727035V "
	"order=DG-20002 -8950 2000 -10950 USD 2026-11-26T23:45:10Z\n"
	"9 other T0400 4GH56789JK0123456 ref= order= -5000 0 -5000 USD "
	"2026-11-27T07:00:00Z\n"
	"14 charge T0006 2MN34567PQ8901234 ref= order=DG-20003 12800 461 "
	"12339 JPY 2026-11-27T02:20:05Z\n"
	"15 charge T0006 6RS78901TU2345678 ref= order=DG-20004 45000 1670 "
	"43330 KWD 2026-11-27T03:05:44Z\n"
	"16 refund T1107 7VW89012XY3456789 ref=2MN34567PQ8901234 "
	"order=DG-20003 -3000 0 -3000 JPY 2026-11-27T05:10:00Z\n";

START_TEST(test_paypal_stl)
{
	struct dg_settle_opts opts = {0};
	struct result r = run_fixture("paypal-stl.csv", opts);

	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.format, DG_SETTLE_PAYPAL);
	ck_assert_str_eq(r.msg, "");
	ck_assert_str_eq(r.rows, paypal_rows);
	done(&r);
}
END_TEST

START_TEST(test_paypal_empty_section)
{
	struct dg_settle_opts opts = {.format = DG_SETTLE_PAYPAL};
	struct result r = run_fixture("paypal-stl-empty-section.csv", opts);

	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.msg, "");
	ck_assert_int_eq(strlen(r.rows) > 0, 1);
	done(&r);
}
END_TEST

START_TEST(test_paypal_does_not_add_up)
{
	static const struct {
		const char *file, *msg;
	} cases[] = {
		{"paypal-stl-truncated.csv",
		 "t: in.csv:14: the section of line 12 has JPY rows but no SF "
		 "row for them (a cut file?)\n"},
		{"paypal-stl-no-ff.csv", "t: in.csv:23: the file ends without "
					 "its FF row (a cut download?)\n"},
		{"paypal-stl-footer-lies.csv",
		 "t: in.csv:10: the SF totals for USD (gross credit 21050, "
		 "debit 16950) are not the sums of the section's rows (credit "
		 "20950, debit 16950): a damaged or cut file?\n"},
	};
	struct dg_settle_opts opts = {0};
	struct result r;
	size_t i;

	for (i = 0; i < DG_NELEM(cases); i++) {
		r = run_fixture(cases[i].file, opts);
		ck_assert_int_eq(r.rc, 65);
		ck_assert_str_eq(r.msg, cases[i].msg);
		done(&r);
	}
}
END_TEST

#define PP_CH                                                                  \
	"\"CH\",\"Transaction ID\",\"Invoice ID\",\"Transaction Event "        \
	"Code\",\"Transaction Initiation Date\",\"Transaction Debit or "       \
	"Credit\",\"Gross Transaction Amount\",\"Gross Transaction "           \
	"Currency\"\n"
#define PP_HEAD                                                                \
	"\"RH\",2026/11/27 03:15:22 -0800,\"A\",\"X\",011\n\"SH\"\n" PP_CH

START_TEST(test_paypal_rules)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		/* a JPY amount that is not whole yen */
		{PP_HEAD "\"SB\",\"A1\",\"\",\"T0006\",2026/11/26 00:00:00 "
			 "+0900,\"CR\",12345,\"JPY\"\n",
		 "t: in.csv:4: Gross Transaction Amount '12345': not a whole "
		 "amount of JPY (hundredths of a unit with no minor digits)\n"},
		{PP_HEAD "\"SB\",\"A1\",\"\",\"T0006\",2026/11/26 00:00:00 "
			 "+0900,\"XX\",100,\"JPY\"\n",
		 "t: in.csv:4: Transaction Debit or Credit 'XX': not CR or "
		 "DR\n"},
		{PP_HEAD "\"SB\",\"A1\",\"\",\"T0006\",2026/11/26 00:00:00 "
			 "+0900,\"CR\",-100,\"JPY\"\n",
		 "t: in.csv:4: Gross Transaction Amount '-100': not an "
		 "unsigned "
		 "amount in hundredths\n"},
		{PP_HEAD "\"SB\",\"A1\",\"\",\"T0006\",2026-11-26 00:00:00 "
			 "+0900,\"CR\",100,\"JPY\"\n",
		 "t: in.csv:4: Transaction Initiation Date '2026-11-26 "
		 "00:00:00 "
		 "+0900': not a time (YYYY/MM/DD HH:MM:SS +HHMM)\n"},
		/* a body row after the section footer */
		{PP_HEAD "\"SF\",\"JPY\",0,0\n\"SB\",\"A1\",\"\",\"T0006\","
			 "2026/11/26 00:00:00 +0900,\"CR\",100,\"JPY\"\n",
		 "t: in.csv:5: an SB row after the section's SF rows\n"},
		{"\"RH\",x\n\"RH\",y\n", "t: in.csv:2: an RH row not first\n"},
		{PP_HEAD "\"SC\",0\n\"FF\",0\n\"SH\"\n",
		 "t: in.csv:6: 'SH' row after the FF row\n"},
		{PP_HEAD "\"ZZ\"\n", "t: in.csv:4: 'ZZ' row of an unknown type "
				     "(RH, FH, SH, CH, SB, "
				     "SF, SC, RF, RC or FF)\n"},
		{"\"RH\",x\n\"SH\"\n\"CH\",\"Transaction ID\"\n",
		 "t: in.csv:3: no column 'Transaction Event Code' in the CH "
		 "row\n"},
		/* a second SF for one currency, an RF that lies */
		{PP_HEAD "\"SF\",\"JPY\",0,0\n\"SF\",\"JPY\",0,0\n",
		 "t: in.csv:5: a second SF row for JPY\n"},
		{PP_HEAD
		 "\"SB\",\"A1\",\"\",\"T0006\",2026/11/26 00:00:00 "
		 "+0900,\"CR\",100,\"JPY\"\n\"SF\",\"JPY\",100,0\n\"SC\","
		 "1\n\"RF\",\"JPY\",100,1\n",
		 "t: in.csv:7: the RF totals for JPY (gross credit 100, debit "
		 "1) are not the sums of the report's rows (credit 100, debit "
		 "0): a damaged or cut file?\n"},
	};
	struct result r;
	size_t i;

	for (i = 0; i < DG_NELEM(cases); i++) {
		r = run(cases[i].text, DG_SETTLE_AUTO);
		ck_assert_int_eq(r.rc, 65);
		ck_assert_str_eq(r.msg, cases[i].msg);
		done(&r);
	}
}
END_TEST

START_TEST(test_paypal_scaling_and_refs)
{
	/* hundredths for every currency: 10000 is 100 JPY, 100.00 USD and
	 * 100.000 KWD; columns matched by name whatever their order and
	 * their blanks; a reversal without a reference names itself */
	struct result r = run(
		"\"RH\",x\n\"FH\",01\n\"SH\"\n"
		"\"CH\",\"Gross Transaction Currency\",\"Transaction  Debit or "
		"Credit\",\"Gross Transaction Amount\",\"Transaction Event "
		"Code\",\"Transaction ID\",\"Transaction Completion Date\","
		"\"Reference Transaction ID\"\n"
		"\"SB\",\"JPY\",\"CR\",10000,\"T0006\",\"P1\",2026/11/26 "
		"09:14:31 +0900,\"\"\n"
		"\"SB\",\"USD\",\"CR\",10000,\"T0006\",\"P2\",2026/11/26 "
		"09:14:31 -0800,\"\"\n"
		"\"SB\",\"KWD\",\"DR\",10000,\"T1106\",\"P3\",2026/11/26 "
		"09:14:31 +0000,\"\"\n"
		"\"SB\",\"USD\",\"DR\",100,\"T1201\",\"P4\",2026/11/26 "
		"09:14:31 +0000,\"P2\"\n"
		"\"SF\",\"JPY\",10000,0\n\"SF\",\"KWD\",0,10000\n"
		"\"SF\",\"USD\",10000,100\n\"SC\",4\n\"FF\",1\n",
		DG_SETTLE_AUTO);

	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.msg, "");
	ck_assert_str_eq(r.rows,
			 "5 charge T0006 P1 ref= order= 100 0 100 JPY "
			 "2026-11-26T00:14:31Z\n"
			 "6 charge T0006 P2 ref= order= 10000 0 10000 USD "
			 "2026-11-26T17:14:31Z\n"
			 "7 reversal T1106 P3 ref=P3 order= -100000 0 -100000 "
			 "KWD 2026-11-26T09:14:31Z\n"
			 "8 reversal T1201 P4 ref=P2 order= -100 0 -100 USD "
			 "2026-11-26T09:14:31Z\n");
	done(&r);
}
END_TEST

START_TEST(test_detection)
{
	struct result r;

	r = run("order,amount\n1,2\n", DG_SETTLE_AUTO);
	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg, "t: in.csv:1: neither a PayPal settlement "
				"report (an RH row) nor a Stripe itemized "
				"report (a balance_transaction_id column): "
				"give --format\n");
	done(&r);
	r = run("", DG_SETTLE_AUTO);
	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg, "t: in.csv: an empty file (a cut download?)\n");
	done(&r);
	r = run("\n\n", DG_SETTLE_STRIPE);
	ck_assert_int_eq(r.rc, 65);
	done(&r);
	/* stdin is named so */
	{
		struct dg_settle_opts opts = {0};
		FILE *fp = test_input_file("x\n", 2);

		r = read_once(fp, "-", &opts, 0);
		fclose(fp);
		ck_assert_int_eq(r.rc, 65);
		ck_assert_int_eq(strncmp(r.msg, "t: <stdin>:1: neither", 21),
				 0);
		done(&r);
	}
	/* a Stripe file read as PayPal's is refused, not misread */
	r = run(STRIPE_HEAD, DG_SETTLE_PAYPAL);
	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg, "t: in.csv:1: 'balance_transaction_id' row of "
				"an unknown type (RH, FH, SH, CH, SB, SF, SC, "
				"RF, RC or FF)\n");
	done(&r);
}
END_TEST

START_TEST(test_generic)
{
	struct dg_settle_opts opts = {
		.format = DG_SETTLE_GENERIC,
		.map = "gateway_txn_id=Txn Ref,amount=Amount,currency=Ccy,"
		       "kind=Type,order_id=Order,fee=Fee,date=Settled At"};
	struct result r = run_fixture("generic.csv", opts);

	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.msg, "");
	ck_assert_str_eq(r.rows,
			 "2 charge charge KP-88120001 ref= order=DG-30001 4500 "
			 "135 4365 EUR 2026-11-26T02:10:00Z\n"
			 "3 charge charge KP-88120002 ref= order=DG-30002 "
			 "12990 390 12600 EUR 2026-11-26T04:45:30Z\n"
			 "4 refund refund KP-88120003 ref= order=DG-30001 "
			 "-1500 0 -1500 EUR 2026-11-26T09:00:00Z\n"
			 "5 charge charge KP-88120004 ref= order=DG-30003 9800 "
			 "294 9506 JPY 2026-11-26T11:30:00Z\n");
	done(&r);
	/* the kind by the sign, minor units, no date */
	opts.map = "amount=cents,currency=cur,gateway_txn_id=id";
	opts.minor_units = true;
	r = run_map("id,cents,cur\nA,1234,usd\nB,-50,USD\n", opts);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.rows, "2 charge charge A ref= order= 1234 0 1234 "
				 "USD -\n3 refund refund B ref= order= -50 0 "
				 "-50 USD -\n");
	done(&r);
	r = run_map("id,cents,cur\nA,12.34,usd\n", opts);
	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg, "t: in.csv:2: amount '12.34': more decimals "
				"than USD has (0)\n");
	done(&r);
	/* a missing column is named, a bad map is a usage error */
	opts.map = "amount=cents,currency=ccy,gateway_txn_id=id";
	r = run_map("id,cents,cur\nA,1234,usd\n", opts);
	ck_assert_int_eq(r.rc, 65);
	ck_assert_str_eq(r.msg, "t: in.csv:1: no column 'ccy' (mapped to "
				"currency) in the header\n");
	done(&r);
	opts.map = "amount=cents,currency=cur";
	r = run_map("id,cents,cur\nA,1234,usd\n", opts);
	ck_assert_int_eq(r.rc, 64);
	ck_assert_str_eq(r.msg, "t: --map: no column for gateway_txn_id\n");
	done(&r);
	test_capture_begin();
	ck_assert_int_eq(dg_settle_map_check("amount=a,currency=b,bogus=c"),
			 64);
	free(test_capture_end());
	ck_assert_int_eq(
		dg_settle_map_check("gateway_txn_id=a,amount=b,currency=c"), 0);
}
END_TEST

START_TEST(test_callback_stops)
{
	struct dg_settle_opts opts = {0};
	size_t len;
	char *text = slurp("paypal-stl.csv", &len);
	struct result r = run_opts(text, len, opts, 2);

	ck_assert_int_eq(r.rc, 99);
	ck_assert_str_eq(r.msg, "");
	done(&r);
	free(text);
}
END_TEST

/* ---------------------------------------------- several threads */

/* text read once in chunks of chunk bytes on threads threads. */
static struct result run_threads(const char *text, int threads, size_t chunk)
{
	struct dg_settle_opts opts = {.threads = threads, .chunk = chunk};
	FILE *fp = test_input_file(text, strlen(text));
	struct result r = read_once(fp, "in.csv", &opts, 0);

	fclose(fp);
	return r;
}

#define T_HEAD STRIPE_HEAD
#define T_ROW(n)                                                               \
	"t" #n ",2026-11-26 09:14:31,usd,1.00,0.10,0.90,charge,ch_" #n ",\n"

/* A quoted field holding newlines, one of them right before the start of
 * the second chunk: that chunk's parse began inside the quote, and the
 * rows are read on from the true row end, numbered as one thread does. */
START_TEST(test_threads_quoted_newline_at_split)
{
	static const char head[] = "balance_transaction_id,created_utc,"
				   "currency,gross,fee,net,reporting_category,"
				   "source_id,charge_id,description\n"
				   "t1,2026-11-26 09:14:31,usd,1.00,0.10,0.90,"
				   "charge,ch_1,,\n";
	static const char quoted[] =
		"t2,2026-11-26 "
		"09:14:31,usd,2.00,0.10,1.90,charge,ch_2,,\"two\n";
	static const char rest[] = "lines, \"\"ch_9\"\"\nand three\"\n"
				   "t3,2026-11-26 09:14:31,usd,3.00,0.10,2.90,"
				   "charge,ch_3,,\"x\"\n";
	static const char want[] =
		"2 charge charge ch_1 ref= order= 100 10 90 USD "
		"2026-11-26T09:14:31Z\n"
		"3 charge charge ch_2 ref= order= 200 10 190 USD "
		"2026-11-26T09:14:31Z\n"
		"6 charge charge ch_3 ref= order= 300 10 290 USD "
		"2026-11-26T09:14:31Z\n";
	char text[1024];
	size_t split = strlen(head) + strlen(quoted);
	struct result r;
	int threads;

	dg_xsnprintf(text, sizeof(text), "%s%s%s", head, quoted, rest);
	for (threads = 1; threads <= 3; threads++) {
		/* chunk 1 begins at the line after the quoted newline */
		r = run_threads(text, threads, split);
		ck_assert_int_eq(r.rc, 0);
		ck_assert_str_eq(r.msg, "");
		ck_assert_str_eq(r.rows, want);
		done(&r);
		/* and at every line start */
		r = run_threads(text, threads, 1);
		ck_assert_int_eq(r.rc, 0);
		ck_assert_str_eq(r.rows, want);
		done(&r);
	}
}
END_TEST

/* A bad row in a later chunk: the rows before it, then the message a
 * one-thread read prints, naming its line. */
START_TEST(test_threads_bad_row_in_a_later_chunk)
{
	static const struct {
		const char *row, *msg;
	} bad[] = {
		{"t9,2026-11-26 09:14:31,usd,1.00,0.10,0.90,ch\"arge,ch_9,\n",
		 "t: in.csv:10: malformed CSV: a misplaced quote\n"},
		{"t9,2026-11-26 09:14:31,usd,1.00,0.10,0.80,charge,ch_9,\n",
		 "t: in.csv:10: gross - fee is not net: 1.00 - 0.10 != 0.80 "
		 "USD (a damaged file?)\n"},
		{"t9,2026-11-26 09:14:31,usd,\"1.00\n",
		 "t: in.csv:10: malformed CSV: a quote never closed\n"},
	};
	char text[2048];
	struct result r;
	const char *p;
	size_t i, chunk, rows;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dg_xsnprintf(text, sizeof(text), "%s%s%s%s%s%s%s%s%s%s%s%s",
			     T_HEAD, T_ROW(1), T_ROW(2), T_ROW(3), T_ROW(4),
			     T_ROW(5), T_ROW(6), T_ROW(7), T_ROW(8), bad[i].row,
			     T_ROW(10), T_ROW(11));
		for (chunk = 50; chunk <= 400; chunk += 70) {
			r = run_threads(text, 2, chunk);
			ck_assert_int_eq(r.rc, 65);
			ck_assert_str_eq(r.msg, bad[i].msg);
			/* rows 2 to 9 handed over before the message */
			for (rows = 0, p = r.rows; *p; p++)
				rows += *p == '\n';
			ck_assert_uint_eq(rows, 8);
			done(&r);
		}
	}
}
END_TEST

/* PayPal's sections and footers over several chunks: the sums of every
 * row, once each and in order, against each footer, a footer that lies
 * named by its line. */
START_TEST(test_threads_paypal_footers_across_chunks)
{
	size_t len, chunk;
	char *good = slurp("paypal-stl.csv", &len);
	char *lies = slurp("paypal-stl-footer-lies.csv", &len);
	struct result r;

	for (chunk = 100; chunk <= 1600; chunk += 300) {
		r = run_threads(good, 2, chunk);
		ck_assert_int_eq(r.rc, 0);
		ck_assert_str_eq(r.msg, "");
		ck_assert_str_eq(r.rows, paypal_rows);
		done(&r);
		r = run_threads(lies, 3, chunk);
		ck_assert_int_eq(r.rc, 65);
		ck_assert_str_eq(r.msg,
				 "t: in.csv:10: the SF totals for USD (gross "
				 "credit 21050, debit 16950) are not the sums "
				 "of the section's rows (credit 20950, debit "
				 "16950): a damaged or cut file?\n");
		done(&r);
	}
	free(good);
	free(lies);
}
END_TEST

/* A file smaller than a chunk, or than the default threshold, is one
 * chunk or one thread's: the same rows. */
START_TEST(test_threads_small_file)
{
	size_t len;
	char *text = slurp("stripe-itemized.csv", &len);
	struct result r;

	r = run_threads(text, 0, 0);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.rows, stripe_rows);
	done(&r);
	r = run_threads(text, 4, len + 1);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.rows, stripe_rows);
	done(&r);
	free(text);
}
END_TEST

START_TEST(test_format_names)
{
	enum dg_settle_format f;

	ck_assert_int_eq(dg_settle_format_parse("stripe", &f), 0);
	ck_assert_int_eq(f, DG_SETTLE_STRIPE);
	ck_assert_int_eq(dg_settle_format_parse("paypal", &f), 0);
	ck_assert_int_eq(f, DG_SETTLE_PAYPAL);
	ck_assert_int_eq(dg_settle_format_parse("generic", &f), 0);
	ck_assert_int_eq(f, DG_SETTLE_GENERIC);
	ck_assert_int_eq(dg_settle_format_parse("Stripe", &f), -1);
	ck_assert_str_eq(dg_settle_format_name(DG_SETTLE_PAYPAL), "paypal");
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("settle");
	TCase *tc = tcase_create("settle");

	tcase_add_test(tc, test_stripe_itemized);
	tcase_add_test(tc, test_stripe_does_not_add_up);
	tcase_add_test(tc, test_stripe_amounts_exact);
	tcase_add_test(tc, test_stripe_columns_by_name);
	tcase_add_test(tc, test_stripe_bad_csv_and_columns);
	tcase_add_test(tc, test_paypal_stl);
	tcase_add_test(tc, test_paypal_empty_section);
	tcase_add_test(tc, test_paypal_does_not_add_up);
	tcase_add_test(tc, test_paypal_rules);
	tcase_add_test(tc, test_paypal_scaling_and_refs);
	tcase_add_test(tc, test_detection);
	tcase_add_test(tc, test_generic);
	tcase_add_test(tc, test_callback_stops);
	tcase_add_test(tc, test_format_names);
	tcase_add_test(tc, test_threads_quoted_newline_at_split);
	tcase_add_test(tc, test_threads_bad_row_in_a_later_chunk);
	tcase_add_test(tc, test_threads_paypal_footers_across_chunks);
	tcase_add_test(tc, test_threads_small_file);
	suite_add_tcase(s, tc);
	return s;
}
