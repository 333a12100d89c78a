/* Unit tests for rates.c: the ECB XML and CSV documents, the JSON shapes
 * of Fixer, Open Exchange Rates and Frankfurter, every rejection with its
 * exact message, JSON numbers back into decimal text, format detection,
 * and the real history file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "daigou.h"

#define BOM "\xEF\xBB\xBF"

/* The ECB envelope: the first Cube inside it is on line 4. */
#define XHEAD                                                                  \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                         \
	"<gesmes:Envelope xmlns:gesmes=\"http://www.gesmes.org/xml/"           \
	"2002-08-01\" xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/"       \
	"eurofxref\">\n"                                                       \
	"\t<Cube>\n"
#define XTAIL "\t</Cube>\n</gesmes:Envelope>\n"
/* One day with one quote: the quote is on line 5. */
#define XDAY(day, cur, rate)                                                   \
	XHEAD "\t\t<Cube time='" day "'>\n\t\t\t<Cube currency='" cur          \
	      "' rate='" rate "'/>\n\t\t</Cube>\n" XTAIL

#define HIST_HEAD "Date,USD,JPY,BGN,CYP,\n"

/* ------------------------------------------------------------ helpers */

/* "DATE BASE/QUOTE RATE\n" per quote, in order; every quote's day as
 * text is its as_of, whatever form the document wrote it in. */
static char *render(const struct dg_quotes *q)
{
	char day[DG_DATE_SIZE], *out = NULL;
	size_t size, i;
	FILE *mem = open_memstream(&out, &size);

	for (i = 0; i < q->n; i++) {
		dg_format_date(q->v[i].as_of, day);
		ck_assert_str_eq(q->v[i].as_of_text, day);
		fprintf(mem, "%s %s/%s %s\n", day, q->v[i].base, q->v[i].quote,
			q->v[i].rate.text);
	}
	fclose(mem);
	return out;
}

/* Parse with stderr captured; *out is the rendering, *err what was
 * printed. Checks the contract: 0 and silent, or 65 and q empty. */
static int parse(const char *text, size_t len, enum dg_rate_format fmt,
		 const char *name, struct dg_quotes *q, char **out, char **err)
{
	int rc;

	test_capture_begin();
	rc = dg_rates_parse(text, len, fmt, name, q);
	*err = test_capture_end();
	if (rc) {
		ck_assert_int_eq(rc, DG_EXIT_DATAERR);
		ck_assert_ptr_null(q->v);
		ck_assert_uint_eq(q->n, 0);
		ck_assert_uint_eq(q->cap, 0);
	} else {
		ck_assert_str_eq(*err, "");
		ck_assert_uint_gt(q->n, 0);
	}
	*out = render(q);
	return rc;
}

static char *read_fixture(const char *rel, size_t *len)
{
	const char *srcdir = getenv("top_srcdir");
	char path[4096], *buf;
	long n;
	FILE *fp;

	dg_xsnprintf(path, sizeof(path), "%s/%s", srcdir ? srcdir : ".", rel);
	fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "cannot open %s (set top_srcdir)", path);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	ck_assert_int_gt(n, 0);
	rewind(fp);
	buf = dg_xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static const struct dg_quote *find(const struct dg_quotes *q, const char *day,
				   const char *code)
{
	int32_t d;
	size_t i;

	ck_assert_int_eq(dg_parse_date(day, &d), 0);
	for (i = 0; i < q->n; i++)
		if (q->v[i].as_of == d && !strcmp(q->v[i].quote, code))
			return &q->v[i];
	return NULL;
}

/* ------------------------------------------------- documents accepted */

static const struct {
	enum dg_rate_format fmt;
	const char *in;
	const char *want;
} good[] = {
	/* 0: the 90-day / history shape, newest first, order kept */
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube time='2026-04-13'>\n"
	       "\t\t\t<Cube currency='USD' rate='1.1684'/>\n"
	       "\t\t\t<Cube currency='JPY' rate='186.75'/>\n"
	       "\t\t</Cube>\n"
	       "\t\t<Cube time='2026-04-10'>\n"
	       "\t\t\t<Cube currency='USD' rate='1.1711'/>\n"
	       "\t\t\t<Cube currency='PLN' rate='4.2430'/>\n"
	       "\t\t</Cube>\n" XTAIL,
	 "2026-04-13 EUR/USD 1.1684\n2026-04-13 EUR/JPY 186.75\n"
	 "2026-04-10 EUR/USD 1.1711\n2026-04-10 EUR/PLN 4.2430\n"},
	/* 1: double quotes, spaces, CRLF, attributes in any order, no
	 * declaration, auto-detected after a BOM and blank lines */
	{DG_RF_AUTO,
	 BOM "\r\n  <gesmes:Envelope xmlns:gesmes=\"http://www.gesmes.org/xml/"
	     "2002-08-01\" xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/"
	     "eurofxref\">\r\n<Cube >\r\n"
	     "<Cube  time = \"2022-07-08\" >\r\n"
	     "  <Cube rate=\"138.05\"\r\n\tcurrency=\"JPY\" />\r\n"
	     "</Cube></Cube></gesmes:Envelope>\r\n",
	 "2022-07-08 EUR/JPY 138.05\n"},
	/* 2: the namespace counts, not the prefix */
	{DG_RF_ECB_XML,
	 "<e:Cube xmlns:e='http://www.ecb.int/vocabulary/2002-08-01/"
	 "eurofxref'><e:Cube time='2022-07-08'><e:Cube currency='USD' "
	 "rate='1.0163'/></e:Cube></e:Cube>",
	 "2022-07-08 EUR/USD 1.0163\n"},
	/* 3: other elements and attributes are ignored; an empty day too */
	{DG_RF_ECB_XML,
	 XHEAD "<note>x</note><Cube time='2022-07-07'/>"
	       "<Cube time='2022-07-08' extra='1'><Cube currency='GBP' "
	       "rate='0.84585' x='y'><!-- c --></Cube></Cube>" XTAIL,
	 "2022-07-08 EUR/GBP 0.84585\n"},
	/* 4: a slice of the history CSV, N/A and the trailing comma */
	{DG_RF_AUTO,
	 HIST_HEAD "2026-04-13,1.1684,186.75,N/A,N/A,\n"
		   "2025-12-31,1.175,184.09,1.9558,N/A,\n"
		   "2008-01-02,1.4717,165.04,1.9558,0.585274,\n",
	 "2026-04-13 EUR/USD 1.1684\n2026-04-13 EUR/JPY 186.75\n"
	 "2025-12-31 EUR/USD 1.175\n2025-12-31 EUR/JPY 184.09\n"
	 "2025-12-31 EUR/BGN 1.9558\n"
	 "2008-01-02 EUR/USD 1.4717\n2008-01-02 EUR/JPY 165.04\n"
	 "2008-01-02 EUR/BGN 1.9558\n2008-01-02 EUR/CYP 0.585274\n"},
	/* 5: the daily CSV form, empty cells, CRLF, no trailing comma */
	{DG_RF_ECB_CSV,
	 "Date, USD, JPY, GBP\r\n 1 April 2026, 1.1684, , 0.87058\r\n"
	 "31 December 2025, N/A, 184.09, 0.8719\r\n",
	 "2026-04-01 EUR/USD 1.1684\n2026-04-01 EUR/GBP 0.87058\n"
	 "2025-12-31 EUR/JPY 184.09\n2025-12-31 EUR/GBP 0.8719\n"},
	/* 6: blank lines and a BOM in CSV */
	{DG_RF_AUTO, BOM "Date,USD\n\n2026-04-13,1.1684\n\n",
	 "2026-04-13 EUR/USD 1.1684\n"},
	/* 7: Frankfurter latest, amount 1.0 */
	{DG_RF_JSON,
	 "{\"amount\":1.0,\"base\":\"EUR\",\"date\":\"2026-04-13\","
	 "\"rates\":{\"USD\":1.1684,\"JPY\":186.75,\"GBP\":0.87058,"
	 "\"IDR\":20082.05}}",
	 "2026-04-13 EUR/USD 1.1684\n2026-04-13 EUR/JPY 186.75\n"
	 "2026-04-13 EUR/GBP 0.87058\n2026-04-13 EUR/IDR 20082.05\n"},
	/* 8: Fixer, success true, timestamp and date: date wins; integer
	 * rates; auto-detected after a BOM */
	{DG_RF_AUTO,
	 BOM "{\"success\":true,\"timestamp\":1700000000,\"base\":\"EUR\","
	     "\"date\":\"2026-04-13\",\"rates\":{\"KRW\":1740,\"JPY\":186,"
	     "\"USD\":1.1684,\"EUR\":1}}",
	 "2026-04-13 EUR/KRW 1740\n2026-04-13 EUR/JPY 186\n"
	 "2026-04-13 EUR/USD 1.1684\n"},
	/* 9: Open Exchange Rates: timestamp to the UTC day, USD:1 skipped */
	{DG_RF_JSON,
	 "{\"disclaimer\":\"Usage subject to terms\",\"license\":\"x\","
	 "\"timestamp\":1776124799,\"base\":\"USD\",\"rates\":{"
	 "\"EUR\":0.855872,\"USD\":1,\"JPY\":159.83}}",
	 "2026-04-13 USD/EUR 0.855872\n2026-04-13 USD/JPY 159.83\n"},
	/* 10: the first second of a day */
	{DG_RF_JSON,
	 "{\"timestamp\":1776038400,\"base\":\"USD\",\"rates\":{"
	 "\"USD\":1.0,\"EUR\":0.855872}}",
	 "2026-04-13 USD/EUR 0.855872\n"},
	/* 11: Frankfurter series, days in document order, amount 1 */
	{DG_RF_JSON,
	 "{\"amount\":1,\"base\":\"EUR\",\"start_date\":\"2026-04-10\","
	 "\"end_date\":\"2026-04-13\",\"rates\":{"
	 "\"2026-04-10\":{\"USD\":1.1711,\"JPY\":186.43},"
	 "\"2026-04-13\":{\"USD\":1.1684,\"JPY\":186.75}}}",
	 "2026-04-10 EUR/USD 1.1711\n2026-04-10 EUR/JPY 186.43\n"
	 "2026-04-13 EUR/USD 1.1684\n2026-04-13 EUR/JPY 186.75\n"},
	/* 12: string rates keep their text, trailing zeros included */
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"date\":\"2026-04-13\",\"rates\":{"
	 "\"PLN\":\"4.2540\",\"USD\":\"1.1684\",\"JPY\":186.750}}",
	 "2026-04-13 EUR/PLN 4.2540\n2026-04-13 EUR/USD 1.1684\n"
	 "2026-04-13 EUR/JPY 186.75\n"},
	/* 13: an exponent outside the rates is none of their business */
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"date\":\"2026-04-13\",\"x\":1e3,"
	 "\"meta\":{\"rates\":{\"USD\":2E-1},\"v\":[1e1,{\"a\":5e5}]},"
	 "\"rates\":{\"IDR\":20082.05,\"USD\":\"1.1684\"},\"y\":-0.5e-9}",
	 "2026-04-13 EUR/IDR 20082.05\n2026-04-13 EUR/USD 1.1684\n"},
	/* 14: an empty day in a series is fine when others have quotes */
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"rates\":{\"2026-04-10\":{},"
	 "\"2026-04-13\":{\"USD\":1}}}",
	 "2026-04-13 EUR/USD 1\n"},
	/* 15: an "e" or a brace in a string or a key is not an exponent */
	{DG_RF_JSON,
	 "{\"note\":\"1e3 {\\\"rates\\\":{\\\"USD\\\":1e3}}\",\"base\":\"EUR\","
	 "\"date\":\"2026-04-13\",\"rates\":{\"USD\":1.5,"
	 "\"JPY\":186}}",
	 "2026-04-13 EUR/USD 1.5\n2026-04-13 EUR/JPY 186\n"},
};

START_TEST(test_good)
{
	struct dg_quotes q = {0};
	char *out, *err;

	ck_assert_int_eq(parse(good[_i].in, strlen(good[_i].in), good[_i].fmt,
			       "d", &q, &out, &err),
			 0);
	ck_assert_str_eq(out, good[_i].want);
	free(out);
	free(err);
	dg_quotes_free(&q);
}
END_TEST

/* ------------------------------------------------- documents refused */

#define JDOC(rates)                                                            \
	"{\"base\":\"EUR\",\"date\":\"2026-04-13\",\"rates\":" rates "}"

static const struct {
	enum dg_rate_format fmt;
	const char *in;
	const char *err;
} bad[] = {
	/* ECB XML */
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube time='2022-07-08'>\n"
	       "\t\t\t<Cube currency='USD' rate='1.0163'></Cub>\n" XTAIL,
	 "t: d:5: malformed XML: mismatched tag\n"},
	{DG_RF_ECB_XML, "", "t: d:1: malformed XML: no element found\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "USD", "1.0163") "junk",
	 "t: d:9: malformed XML: junk after document element\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "USD", "&x;"),
	 "t: d:5: malformed XML: undefined entity\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "USD", "0"),
	 "t: d:5: bad rate '0' for 'USD' on 2022-07-08: must be positive\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "USD", "0.0000"),
	 "t: d:5: bad rate '0.0000' for 'USD' on 2022-07-08: must be "
	 "positive\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "USD", "-1.0163"),
	 "t: d:5: bad rate '-1.0163' for 'USD' on 2022-07-08: must be "
	 "positive\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "USD", "1e5"),
	 "t: d:5: bad rate '1e5' for 'USD' on 2022-07-08: not a plain "
	 "decimal\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "USD", "abc"),
	 "t: d:5: bad rate 'abc' for 'USD' on 2022-07-08: not a plain "
	 "decimal\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "USD", ""),
	 "t: d:5: bad rate '' for 'USD' on 2022-07-08: not a plain "
	 "decimal\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "USD", " 1.0163"),
	 "t: d:5: bad rate ' 1.0163' for 'USD' on 2022-07-08: not a plain "
	 "decimal\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "USD", "1,0163"),
	 "t: d:5: bad rate '1,0163' for 'USD' on 2022-07-08: not a plain "
	 "decimal\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "XYZ", "1.0163"),
	 "t: d:5: unknown currency 'XYZ' on 2022-07-08\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "usd", "1.0163"),
	 "t: d:5: unknown currency 'usd' on 2022-07-08\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08", "EUR", "2"),
	 "t: d:5: rate '2' for the base currency 'EUR' on 2022-07-08: must "
	 "be 1\n"},
	{DG_RF_ECB_XML, XDAY("2026-02-30", "USD", "1.0163"),
	 "t: d:4: bad date '2026-02-30'\n"},
	{DG_RF_ECB_XML, XDAY("", "USD", "1.0163"), "t: d:4: bad date ''\n"},
	{DG_RF_ECB_XML, XDAY("2022-07-08T00:00:00Z", "USD", "1.0163"),
	 "t: d:4: bad date '2022-07-08T00:00:00Z'\n"},
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube currency='USD' rate='1.0163'/>\n" XTAIL,
	 "t: d:4: currency Cube outside a time Cube\n"},
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube>\n\t\t\t<Cube currency='USD' rate='1.0163'/>\n"
	       "\t\t</Cube>\n" XTAIL,
	 "t: d:5: currency Cube outside a time Cube\n"},
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube time='2022-07-08'>\n"
	       "\t\t\t<Cube currency='USD'/>\n\t\t</Cube>\n" XTAIL,
	 "t: d:5: Cube for 'USD' without a rate on 2022-07-08\n"},
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube time='2022-07-08'>\n"
	       "\t\t\t<Cube rate='1.0163'/>\n\t\t</Cube>\n" XTAIL,
	 "t: d:5: Cube without a currency on 2022-07-08\n"},
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube time='2022-07-08'>\n"
	       "\t\t\t<Cube currency='USD' rate='1.0163'/>\n"
	       "\t\t\t<Cube currency='USD' rate='1.0163'/>\n"
	       "\t\t</Cube>\n" XTAIL,
	 "t: d:6: 'USD' given twice on 2022-07-08\n"},
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube time='2022-07-08'>\n"
	       "\t\t\t<Cube currency='USD' rate='1.0163'/>\n"
	       "\t\t\t<Cube currency='JPY' rate='138.05'/>\n"
	       "\t\t\t<Cube currency='USD' rate='1.0163'/>\n"
	       "\t\t</Cube>\n" XTAIL,
	 "t: d:7: 'USD' given twice on 2022-07-08\n"},
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube time='2022-07-08'>\n"
	       "\t\t\t<Cube currency='USD' rate='1.0163'/>\n"
	       "\t\t</Cube>\n"
	       "\t\t<Cube time='2022-07-08'>\n"
	       "\t\t\t<Cube currency='JPY' rate='138.05'/>\n"
	       "\t\t</Cube>\n" XTAIL,
	 "t: d:7: 2022-07-08 given twice\n"},
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube time='2022-07-08'>\n"
	       "\t\t\t<Cube time='2022-07-07'/>\n\t\t</Cube>\n" XTAIL,
	 "t: d:5: time Cube inside a time Cube\n"},
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube time='2022-07-08'>\n"
	       "\t\t\t<Cube currency='USD' rate='1.0163'><Cube/></Cube>\n"
	       "\t\t</Cube>\n" XTAIL,
	 "t: d:5: Cube inside a currency Cube\n"},
	{DG_RF_ECB_XML,
	 XHEAD "\t\t<Cube time='2022-07-08' currency='USD' rate='1'/>\n" XTAIL,
	 "t: d:4: Cube with both a time and a currency\n"},
	{DG_RF_ECB_XML,
	 "<?xml version='1.0'?>\n<!DOCTYPE x [<!ENTITY a 'b'>]>\n<x/>",
	 "t: d:2: a DOCTYPE is not allowed in a rate feed\n"},
	{DG_RF_ECB_XML, XHEAD XTAIL, "t: d: no quotes in the document\n"},
	{DG_RF_ECB_XML, XHEAD "\t\t<Cube time='2022-07-08'/>\n" XTAIL,
	 "t: d: no quotes in the document\n"},
	/* the right names in no namespace are not the ECB's */
	{DG_RF_ECB_XML,
	 "<Cube><Cube time='2022-07-08'><Cube currency='USD' "
	 "rate='1.0163'/></Cube></Cube>",
	 "t: d: no quotes in the document\n"},
	/* ECB CSV */
	{DG_RF_ECB_CSV, HIST_HEAD "2026-02-30,1.1684,N/A,N/A,N/A,\n",
	 "t: d:2: bad date '2026-02-30'\n"},
	{DG_RF_ECB_CSV, HIST_HEAD "2026-4-13,1.1684,N/A,N/A,N/A,\n",
	 "t: d:2: bad date '2026-4-13'\n"},
	{DG_RF_ECB_CSV, "Date, USD, \n13 april 2026, 1.1684, \n",
	 "t: d:2: bad date '13 april 2026'\n"},
	{DG_RF_ECB_CSV, "Date, USD, \n13 Apr 2026, 1.1684, \n",
	 "t: d:2: bad date '13 Apr 2026'\n"},
	{DG_RF_ECB_CSV, "Date, USD, \n31 April 2026, 1.1684, \n",
	 "t: d:2: bad date '31 April 2026'\n"},
	{DG_RF_ECB_CSV, "Date, USD, \n13 April 26, 1.1684, \n",
	 "t: d:2: bad date '13 April 26'\n"},
	{DG_RF_ECB_CSV, "Date, USD, \n13  April 2026, 1.1684, \n",
	 "t: d:2: bad date '13  April 2026'\n"},
	{DG_RF_ECB_CSV, "Date, USD, \n, 1.1684, \n", "t: d:2: bad date ''\n"},
	{DG_RF_ECB_CSV,
	 HIST_HEAD "2026-04-13,1.1684,N/A,N/A,N/A,\n"
		   "2026-04-10,0,N/A,N/A,N/A,\n",
	 "t: d:3: bad rate '0' for 'USD' on 2026-04-10: must be positive\n"},
	{DG_RF_ECB_CSV, HIST_HEAD "2026-04-13,-1.1684,N/A,N/A,N/A,\n",
	 "t: d:2: bad rate '-1.1684' for 'USD' on 2026-04-13: must be "
	 "positive\n"},
	{DG_RF_ECB_CSV, HIST_HEAD "2026-04-13,1.1684,1e5,N/A,N/A,\n",
	 "t: d:2: bad rate '1e5' for 'JPY' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_ECB_CSV, HIST_HEAD "2026-04-13,abc,N/A,N/A,N/A,\n",
	 "t: d:2: bad rate 'abc' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_ECB_CSV, HIST_HEAD "2026-04-13,n/a,N/A,N/A,N/A,\n",
	 "t: d:2: bad rate 'n/a' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_ECB_CSV, "Date,USD,XYZ,\n2026-04-13,1.1684,1,\n",
	 "t: d: unknown currency 'XYZ' in the header\n"},
	{DG_RF_ECB_CSV, "date,USD\n2026-04-13,1.1684\n",
	 "t: d: the first column is 'date', not 'Date'\n"},
	{DG_RF_ECB_CSV, "order_id,amount\nA1,102.30\n",
	 "t: d: the first column is 'order_id', not 'Date'\n"},
	{DG_RF_ECB_CSV, "Date,USD,JPY,\n2026-04-13,1.1684\n",
	 "t: d:2: 2 fields but the header has 3\n"},
	{DG_RF_ECB_CSV, "Date,USD,,JPY\n2026-04-13,1.1684,5,186.75\n",
	 "t: d:2: value '5' in an unnamed column\n"},
	{DG_RF_ECB_CSV, "Date,USD,\n2026-04-13,1.1684,,7\n",
	 "t: d:2: 4 fields but the header has 3\n"},
	{DG_RF_ECB_CSV,
	 "Date,USD,\n2026-04-13,1.1684,\n2026-04-10,1.1711,\n"
	 "2026-04-13,1.1684,\n",
	 "t: d:4: 2026-04-13 given twice\n"},
	{DG_RF_ECB_CSV, "Date,USD,\n13 April 2026,1.1684,\n2026-04-13,1,\n",
	 "t: d:3: 2026-04-13 given twice\n"},
	{DG_RF_ECB_CSV, "Date,USD\n2026-04-13,\"1.1684\n",
	 "t: d:2: malformed CSV: unterminated quote in field 2 ('USD')\n"},
	{DG_RF_ECB_CSV, "Date,USD,USD\n2026-04-13,1.1684,1.1684\n",
	 "t: d:1: duplicate column 'USD' in the header\n"},
	{DG_RF_ECB_CSV, "", "t: d: no quotes in the document\n"},
	{DG_RF_AUTO, "", "t: d: no quotes in the document\n"},
	{DG_RF_AUTO, " \n\t\n", "t: d: no quotes in the document\n"},
	{DG_RF_ECB_CSV, HIST_HEAD, "t: d: no quotes in the document\n"},
	{DG_RF_ECB_CSV, HIST_HEAD "2026-04-13,N/A,N/A,N/A,N/A,\n",
	 "t: d: no quotes in the document\n"},
	/* JSON */
	{DG_RF_JSON, JDOC("{\"USD\":1.1684,\"USD\":1.1685}"),
	 "t: d:1: invalid JSON: duplicate object key near '\"USD\"'\n"},
	{DG_RF_JSON, "{\"base\":\"EUR\",\"base\":\"USD\"}",
	 "t: d:1: invalid JSON: duplicate object key near '\"base\"'\n"},
	{DG_RF_JSON, "{",
	 "t: d:1: invalid JSON: string or '}' expected near "
	 "end of file\n"},
	{DG_RF_JSON, "",
	 "t: d:1: invalid JSON: '[' or '{' expected near end "
	 "of file\n"},
	{DG_RF_JSON, "[1]", "t: d: not a JSON object\n"},
	{DG_RF_JSON,
	 "{\"amount\":2,\"base\":\"EUR\",\"date\":\"2026-04-13\","
	 "\"rates\":{\"USD\":2.3368}}",
	 "t: d: 'amount' is 2, not 1\n"},
	{DG_RF_JSON,
	 "{\"amount\":1.1,\"base\":\"EUR\",\"date\":\"2026-04-13\","
	 "\"rates\":{\"USD\":1.28524}}",
	 "t: d: 'amount' is 1.1, not 1\n"},
	{DG_RF_JSON,
	 "{\"amount\":1.5,\"base\":\"EUR\",\"date\":\"2026-04-13\","
	 "\"rates\":{\"USD\":1.7526}}",
	 "t: d: 'amount' is 1.5, not 1\n"},
	{DG_RF_JSON,
	 "{\"amount\":\"1\",\"base\":\"EUR\",\"date\":\"2026-04-13\","
	 "\"rates\":{\"USD\":1.1684}}",
	 "t: d: 'amount' is \"1\", not 1\n"},
	{DG_RF_JSON,
	 "{\"amount\":0,\"base\":\"EUR\",\"date\":\"2026-04-13\","
	 "\"rates\":{\"USD\":1.1684}}",
	 "t: d: 'amount' is 0, not 1\n"},
	{DG_RF_JSON, JDOC("{\"USD\":0}"),
	 "t: d: bad rate 0 for 'USD' on 2026-04-13: must be positive\n"},
	{DG_RF_JSON, JDOC("{\"USD\":0.0}"),
	 "t: d: bad rate 0.0 for 'USD' on 2026-04-13: must be positive\n"},
	{DG_RF_JSON, JDOC("{\"USD\":-1.5}"),
	 "t: d: bad rate -1.5 for 'USD' on 2026-04-13: must be positive\n"},
	{DG_RF_JSON, JDOC("{\"USD\":-1.1684}"),
	 "t: d: bad rate -1.1684 for 'USD' on 2026-04-13: must be "
	 "positive\n"},
	{DG_RF_JSON, JDOC("{\"USD\":-3.5052000000000003}"),
	 "t: d: bad rate -3.5052 for 'USD' on 2026-04-13: must be "
	 "positive\n"},
	{DG_RF_JSON, JDOC("{\"USD\":0.30000000000000004}"),
	 "t: d: bad rate 0.30000000000000004 for 'USD' on 2026-04-13: more "
	 "than 15 significant digits\n"},
	{DG_RF_JSON, JDOC("{\"USD\":3.5052000000000003}"),
	 "t: d: bad rate 3.5052000000000003 for 'USD' on 2026-04-13: more "
	 "than 15 significant digits\n"},
	{DG_RF_JSON, JDOC("{\"USD\":100000000000000000000.0}"),
	 "t: d: bad rate '100000000000000000000' for 'USD' on 2026-04-13: "
	 "too many significant digits\n"},
	{DG_RF_JSON,
	 JDOC("{\"USD\":0.00000000000000000000000000000000000000000000000001}"),
	 "t: d: bad rate '0.0000000000000000000000000000000000000000000000000"
	 "1' for 'USD' on 2026-04-13: overflow\n"},
	/* a JSON number written with an exponent, as a string would be */
	{DG_RF_JSON, JDOC("{\"USD\":1e3}"),
	 "t: d: bad rate '1e3' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, JDOC("{\"JPY\":186.75,\"USD\":1E3}"),
	 "t: d: bad rate '1E3' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, JDOC("{\"USD\":1.5e-3}"),
	 "t: d: bad rate '1.5e-3' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, JDOC("{\"USD\":11684E-4}"),
	 "t: d: bad rate '11684E-4' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, JDOC("{\"USD\":1e+0}"),
	 "t: d: bad rate '1e+0' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, JDOC("{\"USD\":-1e3}"),
	 "t: d: bad rate '-1e3' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, JDOC("{\"USD\":0e0}"),
	 "t: d: bad rate '0e0' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, JDOC("{\"EUR\":1e0}"),
	 "t: d: bad rate '1e0' for 'EUR' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, JDOC("{\"USD\":1.1684,\"XYZ\":1e3}"),
	 "t: d: unknown currency 'XYZ' on 2026-04-13\n"},
	{DG_RF_JSON, JDOC("{\"U\\u0053D\":2.5e1}"),
	 "t: d: bad rate '2.5e1' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"date\":\"2026-04-13\",\"r\\u0061tes\":{"
	 "\"USD\":1.2e0}}",
	 "t: d: bad rate '1.2e0' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"rates\":{\"2026-04-10\":{\"USD\":1.1711},"
	 "\"2026-04-13\":{\"JPY\":186.75,\"USD\":1.1684e0}}}",
	 "t: d: bad rate '1.1684e0' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"rates\":{\"2026-04-10\":{\"USD\":1.1711e0},"
	 "\"2026-04-13\":{\"USD\":1.1684}}}",
	 "t: d: bad rate '1.1711e0' for 'USD' on 2026-04-10: not a plain "
	 "decimal\n"},
	{DG_RF_JSON,
	 JDOC("{\"USD\":1."
	      "000000000000000000000000000000000000000000000000000000000000000"
	      "00e0}"),
	 "t: d: bad rate '1.00000000000000000000000000000000000000000000000000"
	 "000000000000'... (69 bytes) for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, JDOC("{\"USD\":\"1e5\"}"),
	 "t: d: bad rate '1e5' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, JDOC("{\"USD\":\"abc\"}"),
	 "t: d: bad rate 'abc' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, JDOC("{\"USD\":\"-1.1684\"}"),
	 "t: d: bad rate '-1.1684' for 'USD' on 2026-04-13: must be "
	 "positive\n"},
	{DG_RF_JSON, JDOC("{\"USD\":\"0\"}"),
	 "t: d: bad rate '0' for 'USD' on 2026-04-13: must be positive\n"},
	{DG_RF_JSON, JDOC("{\"USD\":null}"),
	 "t: d: bad rate null for 'USD' on 2026-04-13: not a number or a "
	 "decimal string\n"},
	{DG_RF_JSON, JDOC("{\"USD\":[1.1684]}"),
	 "t: d: bad rate [1.1684] for 'USD' on 2026-04-13: not a number or "
	 "a decimal string\n"},
	{DG_RF_JSON, JDOC("{\"USD\":1.1684,\"XYZ\":1}"),
	 "t: d: unknown currency 'XYZ' on 2026-04-13\n"},
	{DG_RF_JSON, JDOC("{\"XYZ\":null}"),
	 "t: d: unknown currency 'XYZ' on 2026-04-13\n"},
	{DG_RF_JSON,
	 "{\"base\":\"USD\",\"date\":\"2026-04-13\",\"rates\":{\"USD\":2}}",
	 "t: d: rate '2' for the base currency 'USD' on 2026-04-13: must be "
	 "1\n"},
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"date\":\"2026-02-30\",\"rates\":{\"USD\":1}}",
	 "t: d: bad date '2026-02-30'\n"},
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"date\":20260413,\"rates\":{\"USD\":1}}",
	 "t: d: 'date' is not a string\n"},
	{DG_RF_JSON, "{\"base\":\"EUR\",\"rates\":{\"USD\":1}}",
	 "t: d: no 'date' or 'timestamp'\n"},
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"timestamp\":\"1776038400\",\"rates\":{"
	 "\"USD\":1}}",
	 "t: d: bad timestamp: not a time in seconds since 1970\n"},
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"timestamp\":-1,\"rates\":{\"USD\":1}}",
	 "t: d: bad timestamp: not a time in seconds since 1970\n"},
	{DG_RF_JSON, "{\"date\":\"2026-04-13\",\"rates\":{\"USD\":1}}",
	 "t: d: no 'base' currency\n"},
	{DG_RF_JSON,
	 "{\"base\":\"XYZ\",\"date\":\"2026-04-13\",\"rates\":{\"USD\":1}}",
	 "t: d: unknown base currency 'XYZ'\n"},
	{DG_RF_JSON, "{\"base\":\"EUR\",\"date\":\"2026-04-13\"}",
	 "t: d: no 'rates' object\n"},
	{DG_RF_JSON, JDOC("[]"), "t: d: no 'rates' object\n"},
	{DG_RF_JSON, JDOC("{}"), "t: d: no quotes in the document\n"},
	{DG_RF_JSON,
	 "{\"success\":false,\"error\":{\"code\":101,\"type\":"
	 "\"invalid_access_key\",\"info\":\"You have not supplied a valid "
	 "API Access Key.\"}}",
	 "t: d: the provider reports an error: invalid_access_key: You have "
	 "not supplied a valid API Access Key.\n"},
	{DG_RF_JSON,
	 "{\"success\":false,\"error\":{\"code\":104,\"type\":"
	 "\"usage_limit_reached\"}}",
	 "t: d: the provider reports an error: usage_limit_reached\n"},
	{DG_RF_JSON, "{\"success\":false}",
	 "t: d: the provider reports an error\n"},
	{DG_RF_JSON,
	 "{\"error\":true,\"status\":401,\"message\":\"invalid_app_id\","
	 "\"description\":\"Invalid App ID provided.\"}",
	 "t: d: the provider reports an error: invalid_app_id: Invalid App "
	 "ID provided.\n"},
	{DG_RF_JSON, "{\"message\":\"not found\"}",
	 "t: d: the provider reports an error: not found\n"},
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"rates\":{\"2026-04-10\":{\"USD\":1.1711},"
	 "\"USD\":1.1684}}",
	 "t: d: 'rates' mixes days and currencies\n"},
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"rates\":{\"2026-02-30\":{\"USD\":1}}}",
	 "t: d: bad date '2026-02-30' in 'rates'\n"},
	{DG_RF_JSON,
	 "{\"base\":\"EUR\",\"rates\":{\"2026-04-10\":{\"USD\":1.1711},"
	 "\"2026-04-13\":{\"USD\":\"1e5\"}}}",
	 "t: d: bad rate '1e5' for 'USD' on 2026-04-13: not a plain "
	 "decimal\n"},
	{DG_RF_JSON, "{\"base\":\"EUR\",\"rates\":{\"2026-04-10\":{}}}",
	 "t: d: no quotes in the document\n"},
};

START_TEST(test_bad)
{
	struct dg_quotes q = {0};
	char *out, *err;

	ck_assert_int_eq(parse(bad[_i].in, strlen(bad[_i].in), bad[_i].fmt, "d",
			       &q, &out, &err),
			 DG_EXIT_DATAERR);
	ck_assert_str_eq(err, bad[_i].err);
	ck_assert_str_eq(out, "");
	free(out);
	free(err);
}
END_TEST

/* "-" is stdin in messages, as everywhere else. */
START_TEST(test_stdin_name)
{
	struct dg_quotes q = {0};
	char *out, *err;

	ck_assert_int_eq(parse("", 0, DG_RF_AUTO, "-", &q, &out, &err),
			 DG_EXIT_DATAERR);
	ck_assert_str_eq(err, "t: <stdin>: no quotes in the document\n");
	free(out);
	free(err);
}
END_TEST

/* The document is all or nothing, and q is reused from scratch. */
START_TEST(test_reuse)
{
	static const char one[] = XDAY("2022-07-08", "USD", "1.0163");
	static const char two[] = JDOC("{\"JPY\":186.75,\"GBP\":\"0.87058\"}");
	static const char late_error[] =
		"Date,USD,\n2026-04-13,1.1684,\n2026-04-10,1.1711,\n"
		"2026-04-09,abc,\n";
	struct dg_quotes q = {0};
	char *out, *err;

	ck_assert_int_eq(
		parse(one, strlen(one), DG_RF_AUTO, "d", &q, &out, &err), 0);
	ck_assert_str_eq(out, "2022-07-08 EUR/USD 1.0163\n");
	free(out);
	free(err);
	ck_assert_int_eq(
		parse(two, strlen(two), DG_RF_AUTO, "d", &q, &out, &err), 0);
	ck_assert_str_eq(out, "2026-04-13 EUR/JPY 186.75\n"
			      "2026-04-13 EUR/GBP 0.87058\n");
	free(out);
	free(err);
	ck_assert_int_eq(parse(late_error, strlen(late_error), DG_RF_AUTO, "d",
			       &q, &out, &err),
			 DG_EXIT_DATAERR);
	ck_assert_str_eq(err, "t: d:4: bad rate 'abc' for 'USD' on "
			      "2026-04-09: not a plain decimal\n");
	free(out);
	free(err);
	dg_quotes_free(&q);
	dg_quotes_free(&q);
}
END_TEST

/* ------------------------------------------------------------ fixtures */

#define DAILY_XML "tests/fixtures/ecb/eurofxref-daily-2022-07-08.xml"
#define DAILY_CSV "tests/fixtures/ecb/eurofxref-daily-2026-04-13.csv"
#define HIST_CSV  "tests/fixtures/ecb/eurofxref-hist.csv"

START_TEST(test_daily_xml)
{
	struct dg_quotes q = {0};
	const struct dg_quote *x;
	char *buf, *out, *err;
	int32_t day;
	size_t len, i;

	buf = read_fixture(DAILY_XML, &len);
	ck_assert_int_eq(dg_rate_format_detect(buf, len), DG_RF_ECB_XML);
	ck_assert_int_eq(
		parse(buf, len, DG_RF_AUTO, "daily.xml", &q, &out, &err), 0);
	ck_assert_uint_eq(q.n, 31);
	ck_assert_int_eq(dg_parse_date("2022-07-08", &day), 0);
	for (i = 0; i < q.n; i++) {
		ck_assert_str_eq(q.v[i].base, "EUR");
		ck_assert_int_eq(q.v[i].as_of, day);
	}
	ck_assert_str_eq(q.v[0].quote, "USD");
	ck_assert_str_eq(q.v[0].rate.text, "1.0163");
	ck_assert_uint_eq(q.v[0].rate.coef, 10163);
	ck_assert_int_eq(q.v[0].rate.scale, 4);
	x = find(&q, "2022-07-08", "PLN");
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(x->rate.text, "4.7630");
	ck_assert_uint_eq(x->rate.coef, 47630);
	ck_assert_int_eq(x->rate.scale, 4);
	x = find(&q, "2022-07-08", "ISK");
	ck_assert_str_eq(x->rate.text, "139.50");
	ck_assert_str_eq(q.v[30].quote, "ZAR");
	ck_assert_str_eq(q.v[30].rate.text, "17.1922");
	free(out);
	free(err);
	dg_quotes_free(&q);
	free(buf);
}
END_TEST

/* Cut anywhere before the end, the feed is refused as a whole. */
START_TEST(test_truncated_xml)
{
	struct dg_quotes q = {0};
	char *buf, *out, *err, *line, *end;
	size_t len, n;

	buf = read_fixture(DAILY_XML, &len);
	ck_assert_int_eq(
		parse(buf, len / 2, DG_RF_ECB_XML, "daily.xml", &q, &out, &err),
		DG_EXIT_DATAERR);
	ck_assert_str_eq(err, "t: daily.xml:20: malformed XML: unclosed "
			      "token\n");
	free(out);
	free(err);
	/* Every shorter prefix, one message each; only the final newline
	 * may go. */
	test_capture_begin();
	for (n = 0; n + 1 < len; n++) {
		if (dg_rates_parse(buf, n, DG_RF_ECB_XML, "daily.xml", &q) !=
			    DG_EXIT_DATAERR ||
		    q.v || q.n)
			break;
	}
	err = test_capture_end();
	ck_assert_msg(n + 1 == len, "cut at %zu: accepted", n);
	for (n = 0, line = err; *line; n++, line = end + 1) {
		end = strchr(line, '\n');
		if (!end || strncmp(line, "t: daily.xml:", 13) ||
		    !strstr(line, ": malformed XML: ") ||
		    strstr(line, ": malformed XML: ") > end)
			break;
	}
	ck_assert_msg(!*line, "message %zu: %s", n, line);
	ck_assert_uint_eq(n, len - 1);
	free(err);
	ck_assert_int_eq(
		parse(buf, len - 1, DG_RF_ECB_XML, "daily.xml", &q, &out, &err),
		0);
	ck_assert_uint_eq(q.n, 31);
	free(out);
	free(err);
	dg_quotes_free(&q);
	free(buf);
}
END_TEST

START_TEST(test_daily_csv)
{
	struct dg_quotes q = {0};
	const struct dg_quote *x;
	char *buf, *out, *err;
	size_t len;

	buf = read_fixture(DAILY_CSV, &len);
	ck_assert_int_eq(dg_rate_format_detect(buf, len), DG_RF_ECB_CSV);
	ck_assert_int_eq(
		parse(buf, len, DG_RF_AUTO, "eurofxref.csv", &q, &out, &err),
		0);
	ck_assert_uint_eq(q.n, 29);
	ck_assert_ptr_nonnull(x = find(&q, "2026-04-13", "JPY"));
	ck_assert_str_eq(x->rate.text, "186.75");
	ck_assert_str_eq(x->base, "EUR");
	ck_assert_ptr_nonnull(x = find(&q, "2026-04-13", "HUF"));
	ck_assert_str_eq(x->rate.text, "366.90");
	ck_assert_ptr_nonnull(x = find(&q, "2026-04-13", "ISK"));
	ck_assert_str_eq(x->rate.text, "143.20");
	ck_assert_str_eq(q.v[0].quote, "USD");
	ck_assert_str_eq(q.v[0].rate.text, "1.1684");
	ck_assert_str_eq(q.v[28].quote, "ZAR");
	ck_assert_str_eq(q.v[28].rate.text, "19.3849");
	ck_assert_ptr_null(find(&q, "2026-04-13", "BGN"));
	free(out);
	free(err);
	dg_quotes_free(&q);
	free(buf);
}
END_TEST

static void check_history(const struct dg_quotes *q)
{
	const struct dg_quote *x;
	int32_t last_bgn, prev;
	size_t i, days = 0, not_eur = 0, unordered = 0, late_bgn = 0;

	/* 217,555 cells that are not N/A in 6,983 rows. Loops count and
	 * assert once: a Check assertion costs a write. */
	ck_assert_uint_eq(q->n, 217555);
	ck_assert_int_eq(dg_parse_date("2025-12-31", &last_bgn), 0);
	for (i = 0, prev = INT32_MAX; i < q->n; i++) {
		not_eur += strcmp(q->v[i].base, "EUR") != 0;
		/* newest first, as the file has it */
		unordered += q->v[i].as_of > prev;
		days += q->v[i].as_of != prev;
		prev = q->v[i].as_of;
		/* Bulgaria joined the euro on 2026-01-01 */
		late_bgn += !strcmp(q->v[i].quote, "BGN") &&
			    q->v[i].as_of > last_bgn;
	}
	ck_assert_uint_eq(not_eur, 0);
	ck_assert_uint_eq(unordered, 0);
	ck_assert_uint_eq(late_bgn, 0);
	ck_assert_uint_eq(days, 6983);
	ck_assert_str_eq(q->v[0].quote, "USD");
	ck_assert_str_eq(q->v[0].rate.text, "1.1684");
	ck_assert_str_eq(q->v[q->n - 1].quote, "ZAR");
	ck_assert_str_eq(q->v[q->n - 1].rate.text, "6.9358");
	ck_assert_ptr_nonnull(x = find(q, "1999-01-04", "USD"));
	ck_assert_str_eq(x->rate.text, "1.1789");
	ck_assert_ptr_nonnull(x = find(q, "2026-04-13", "JPY"));
	ck_assert_str_eq(x->rate.text, "186.75");
	ck_assert_ptr_nonnull(x = find(q, "1999-01-04", "CYP"));
	ck_assert_str_eq(x->rate.text, "0.58231");
	ck_assert_ptr_nonnull(x = find(q, "2025-12-31", "BGN"));
	ck_assert_str_eq(x->rate.text, "1.9558");
	ck_assert_ptr_null(find(q, "2026-01-02", "BGN"));
}

START_TEST(test_history_csv)
{
	struct dg_quotes q = {0};
	char *buf, *out, *err;
	size_t len;

	buf = read_fixture(HIST_CSV, &len);
	ck_assert_int_eq(
		parse(buf, len, DG_RF_AUTO, "hist.csv", &q, &out, &err), 0);
	check_history(&q);
	free(out);
	free(err);
	dg_quotes_free(&q);
	free(buf);
}
END_TEST

/* tests/gen-ecb-xml.py writes the history CSV as the history XML feed:
 * both parse to the same quotes. */
START_TEST(test_history_xml)
{
	const char *srcdir = getenv("top_srcdir");
	const char *py = getenv("PYTHON3");
	struct dg_quotes a = {0}, b = {0};
	char cmd[8192], *csv, *xml = NULL, *out, *err;
	size_t len, size = 0, i;
	FILE *mem, *p;
	char chunk[65536];
	size_t n;

	srcdir = srcdir ? srcdir : ".";
	dg_xsnprintf(cmd, sizeof(cmd), "'%s' '%s/tests/gen-ecb-xml.py' '%s/%s'",
		     py && *py ? py : "python3", srcdir, srcdir, HIST_CSV);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	mem = open_memstream(&xml, &size);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		ck_assert_uint_eq(fwrite(chunk, 1, n, mem), n);
	ck_assert_int_eq(pclose(p), 0);
	fclose(mem);
	ck_assert_uint_gt(size, 1000000);

	ck_assert_int_eq(
		parse(xml, size, DG_RF_AUTO, "hist.xml", &a, &out, &err), 0);
	free(out);
	free(err);
	check_history(&a);
	csv = read_fixture(HIST_CSV, &len);
	ck_assert_int_eq(
		parse(csv, len, DG_RF_ECB_CSV, "hist.csv", &b, &out, &err), 0);
	free(out);
	free(err);
	ck_assert_uint_eq(a.n, b.n);
	for (i = 0; i < a.n; i++) {
		if (strcmp(a.v[i].base, b.v[i].base) ||
		    strcmp(a.v[i].quote, b.v[i].quote) ||
		    strcmp(a.v[i].rate.text, b.v[i].rate.text) ||
		    a.v[i].as_of != b.v[i].as_of)
			break;
	}
	ck_assert_msg(i == a.n, "quote %zu differs: %s %s", i,
		      i < a.n ? a.v[i].quote : "",
		      i < a.n ? a.v[i].rate.text : "");
	dg_quotes_free(&a);
	dg_quotes_free(&b);
	free(csv);
	free(xml);
}
END_TEST

/* ------------------------------------------------ JSON numbers to text */

static const struct {
	double v;
	const char *want; /* NULL: refused */
} reals[] = {
	{1.1684, "1.1684"},
	{186.75, "186.75"},
	{0.87058, "0.87058"},
	{20082.05, "20082.05"},
	{1740.86, "1740.86"},
	{0.855872, "0.855872"},
	{1.0, "1"},
	{100.0, "100"},
	{0.1, "0.1"},
	{1e-05, "0.00001"},
	{1.5e-07, "0.00000015"},
	{0.000123, "0.000123"},
	{123456789012345.0, "123456789012345"},
	{0.123456789012345, "0.123456789012345"},
	{1.23456789012345, "1.23456789012345"},
	{1e20, "100000000000000000000"},
	{12345678901234500000.0, "12345678901234500000"},
	{0.1 + 0.2, NULL},	    /* 0.30000000000000004 */
	{1.1684 * 3, NULL},	    /* 3.5052000000000003 */
	{1234567890123456.0, NULL}, /* 16 digits */
	{0.1234567890123456, NULL},
	{1.7976931348623157e308, NULL}, /* 17 digits */
	{0.0, NULL},
	{-0.0, NULL},
	{-1.5, NULL},
	{-1e-05, NULL},
};

START_TEST(test_json_real)
{
	json_t *num = json_real(reals[_i].v);
	char buf[DG_RATE_TEXT_SIZE];
	int rc;

	ck_assert_ptr_nonnull(num);
	rc = dg_rate_from_json_number(num, buf, sizeof(buf));
	if (reals[_i].want) {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(buf, reals[_i].want);
	} else {
		ck_assert_int_eq(rc, -1);
	}
	json_decref(num);
}
END_TEST

static const struct {
	json_int_t v;
	const char *want;
} integers[] = {
	{1, "1"},
	{100, "100"},
	{186, "186"},
	{9223372036854775807LL, "9223372036854775807"},
	{0, NULL},
	{-1, NULL},
	{-9223372036854775807LL - 1, NULL},
};

START_TEST(test_json_integer)
{
	json_t *num = json_integer(integers[_i].v);
	char buf[DG_RATE_TEXT_SIZE];
	int rc;

	rc = dg_rate_from_json_number(num, buf, sizeof(buf));
	if (integers[_i].want) {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(buf, integers[_i].want);
	} else {
		ck_assert_int_eq(rc, -1);
	}
	json_decref(num);
}
END_TEST

START_TEST(test_json_number_edges)
{
	char big[400], buf[DG_RATE_TEXT_SIZE], small[6], fits[7];
	json_t *v;

	/* not numbers */
	v = json_string("1.1684");
	ck_assert_int_eq(dg_rate_from_json_number(v, buf, sizeof(buf)), -1);
	json_decref(v);
	v = json_null();
	ck_assert_int_eq(dg_rate_from_json_number(v, buf, sizeof(buf)), -1);
	ck_assert_int_eq(dg_rate_from_json_number(NULL, buf, sizeof(buf)), -1);
	/* JSON itself cannot carry NaN or infinity: jansson refuses them */
	ck_assert_ptr_null(json_real(INFINITY));
	ck_assert_ptr_null(json_real(NAN));
	/* the buffer bounds the text, NUL included */
	v = json_real(186.75);
	ck_assert_int_eq(dg_rate_from_json_number(v, small, sizeof(small)), -1);
	ck_assert_int_eq(dg_rate_from_json_number(v, fits, sizeof(fits)), 0);
	ck_assert_str_eq(fits, "186.75");
	json_decref(v);
	v = json_integer(123456);
	ck_assert_int_eq(dg_rate_from_json_number(v, small, sizeof(small)), -1);
	json_decref(v);
	/* the smallest double: one digit, far out */
	v = json_real(4.9406564584124654e-324);
	ck_assert_int_eq(dg_rate_from_json_number(v, buf, sizeof(buf)), -1);
	ck_assert_int_eq(dg_rate_from_json_number(v, big, sizeof(big)), 0);
	ck_assert_uint_eq(strlen(big), 2 + 323 + 1);
	ck_assert_str_eq(big + 2 + 323, "5");
	json_decref(v);
}
END_TEST

/* ------------------------------------------------------------- formats */

static const struct {
	const char *in;
	size_t len; /* 0: strlen */
	enum dg_rate_format want;
} detects[] = {
	{"", 0, DG_RF_ECB_CSV},
	{"<?xml version=\"1.0\"?>", 0, DG_RF_ECB_XML},
	{"  \r\n\t<gesmes:Envelope>", 0, DG_RF_ECB_XML},
	{BOM "<?xml", 0, DG_RF_ECB_XML},
	{BOM "\n {\"base\":\"EUR\"}", 0, DG_RF_JSON},
	{"{", 0, DG_RF_JSON},
	{"\n\n{\"rates\":{}}", 0, DG_RF_JSON},
	{"Date,USD,JPY,", 0, DG_RF_ECB_CSV},
	{"Date, USD, JPY, ", 0, DG_RF_ECB_CSV},
	{"[{\"base\":\"EUR\"}]", 0, DG_RF_ECB_CSV},
	{BOM, 0, DG_RF_ECB_CSV},
	{"  ", 0, DG_RF_ECB_CSV},
	/* only the given length counts */
	{"  <", 2, DG_RF_ECB_CSV},
	/* a NUL is not blank */
	{"\0<", 2, DG_RF_ECB_CSV},
};

START_TEST(test_detect)
{
	size_t len = detects[_i].len ? detects[_i].len : strlen(detects[_i].in);

	ck_assert_int_eq(dg_rate_format_detect(detects[_i].in, len),
			 detects[_i].want);
}
END_TEST

START_TEST(test_format_parse)
{
	enum dg_rate_format f = DG_RF_AUTO;

	ck_assert_int_eq(dg_rate_format_parse("ecb-xml", &f), 0);
	ck_assert_int_eq(f, DG_RF_ECB_XML);
	ck_assert_int_eq(dg_rate_format_parse("ecb-csv", &f), 0);
	ck_assert_int_eq(f, DG_RF_ECB_CSV);
	ck_assert_int_eq(dg_rate_format_parse("json", &f), 0);
	ck_assert_int_eq(f, DG_RF_JSON);
	ck_assert_int_eq(dg_rate_format_parse("xml", &f), -1);
	ck_assert_int_eq(dg_rate_format_parse("auto", &f), -1);
	ck_assert_int_eq(dg_rate_format_parse("JSON", &f), -1);
	ck_assert_int_eq(dg_rate_format_parse("", &f), -1);
	ck_assert_int_eq(f, DG_RF_JSON);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("rates");
	TCase *tc = tcase_create("rates");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_good, 0, DG_NELEM(good));
	tcase_add_loop_test(tc, test_bad, 0, DG_NELEM(bad));
	tcase_add_test(tc, test_stdin_name);
	tcase_add_test(tc, test_reuse);
	tcase_add_test(tc, test_daily_xml);
	tcase_add_test(tc, test_truncated_xml);
	tcase_add_test(tc, test_daily_csv);
	tcase_add_test(tc, test_history_csv);
	tcase_add_test(tc, test_history_xml);
	tcase_add_loop_test(tc, test_json_real, 0, DG_NELEM(reals));
	tcase_add_loop_test(tc, test_json_integer, 0, DG_NELEM(integers));
	tcase_add_test(tc, test_json_number_edges);
	tcase_add_loop_test(tc, test_detect, 0, DG_NELEM(detects));
	tcase_add_test(tc, test_format_parse);
	suite_add_tcase(s, tc);
	return s;
}
