/*
 * check_payevent: gateway callback bodies into money facts (payevent.c):
 * the fixtures of tests/fixtures/pay, each event type and status
 * mapping, amounts in each currency's decimals, ids, order and parent
 * links, and the malformed bodies, each with its exact message.
 */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "daigou.h"

static char *read_fixture(const char *name, size_t *len)
{
	const char *srcdir = getenv("top_srcdir");
	char path[4096];
	char *buf;
	FILE *fp;
	long n;

	dg_xsnprintf(path, sizeof(path), "%s/tests/fixtures/pay/%s",
		     srcdir ? srcdir : ".", name);
	fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "cannot open %s (set top_srcdir)", path);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	ck_assert_int_ge(n, 0);
	rewind(fp);
	buf = dg_xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* One arena for every parse through it: each test's bodies go through
 * an arena reused (and reset) many times. */
static struct dg_json_arena *test_arena(void)
{
	static struct dg_json_arena *a;

	if (!a)
		a = dg_json_arena_new();
	return a;
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* dg_pay_parse_arena gives what dg_pay_parse gave. */
static void same_in_arena(const char *gw, const char *body, size_t len, int rc,
			  const struct dg_pay_event *ev, const char *err)
{
	struct dg_pay_event a;
	char *aerr = NULL;
	size_t i;

	ck_assert_int_eq(
		dg_pay_parse_arena(test_arena(), gw, body, len, &a, &aerr), rc);
	ck_assert_pstr_eq(aerr, err);
	ck_assert_pstr_eq(a.event_id, ev->event_id);
	ck_assert_pstr_eq(a.event_type, ev->event_type);
	ck_assert_pstr_eq(a.ignored, ev->ignored);
	ck_assert_uint_eq(a.nfacts, ev->nfacts);
	for (i = 0; i < a.nfacts; i++) {
		const struct dg_pay_fact *f = &a.facts[i], *g = &ev->facts[i];

		ck_assert(f->kind == g->kind && f->amount == g->amount &&
			  f->status == g->status &&
			  !strcmp(f->currency, g->currency) &&
			  str_same(f->txn_id, g->txn_id) &&
			  str_same(f->order_id, g->order_id) &&
			  str_same(f->parent_txn_id, g->parent_txn_id) &&
			  str_same(f->refund_id, g->refund_id));
	}
	dg_pay_event_free(&a);
	free(aerr);
}

static void parse_ok(const char *gw, const char *body, size_t len,
		     struct dg_pay_event *ev)
{
	char *err = NULL;
	int rc = dg_pay_parse(gw, body, len, ev, &err);

	ck_assert_msg(rc == 0, "rc %d: %s", rc, err ? err : "(none)");
	ck_assert_ptr_null(err);
	ck_assert_str_eq(ev->gateway, gw);
	same_in_arena(gw, body, len, rc, ev, err);
}

static void parse_bad(const char *gw, const char *body, size_t len,
		      const char *want)
{
	struct dg_pay_event ev;
	char *err = NULL;
	int rc = dg_pay_parse(gw, body, len, &ev, &err);

	ck_assert_msg(rc == 65, "rc %d for %s", rc, want);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(ev.facts);
	ck_assert_uint_eq(ev.nfacts, 0);
	ck_assert_ptr_null(ev.event_id);
	ck_assert_ptr_null(ev.event_type);
	ck_assert_ptr_null(ev.ignored);
	same_in_arena(gw, body, len, rc, &ev, err);
	free(err);
}

/* A fixture with the value at a dotted path (an array index is a
 * number) replaced by JSON text, or removed when value is NULL. */
static char *mutate(const char *fixture, const char *path, const char *value)
{
	size_t len;
	char *text = read_fixture(fixture, &len), *copy, *seg, *next, *out;
	json_error_t je;
	json_t *doc, *cur, *v;

	doc = json_loadb(text, len, 0, &je);
	ck_assert_ptr_nonnull(doc);
	free(text);
	copy = dg_xstrdup(path);
	cur = doc;
	for (seg = copy; (next = strchr(seg, '.')); seg = next + 1) {
		*next = '\0';
		cur = json_is_array(cur)
			      ? json_array_get(cur,
					       (size_t)strtoul(seg, NULL, 10))
			      : json_object_get(cur, seg);
		ck_assert_msg(cur != NULL, "no %s in %s", seg, path);
	}
	if (value) {
		v = json_loads(value, JSON_DECODE_ANY, &je);
		ck_assert_msg(v != NULL, "bad test value %s", value);
		if (json_is_array(cur))
			ck_assert_int_eq(
				json_array_set_new(
					cur, (size_t)strtoul(seg, NULL, 10), v),
				0);
		else
			ck_assert_int_eq(json_object_set_new(cur, seg, v), 0);
	} else if (json_is_array(cur)) {
		ck_assert_int_eq(
			json_array_remove(cur, (size_t)strtoul(seg, NULL, 10)),
			0);
	} else {
		ck_assert_int_eq(json_object_del(cur, seg), 0);
	}
	free(copy);
	out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return out;
}

static void mutate_ok(const char *gw, const char *fixture, const char *path,
		      const char *value, struct dg_pay_event *ev)
{
	char *body = mutate(fixture, path, value);

	parse_ok(gw, body, strlen(body), ev);
	free(body);
}

static void mutate_bad(const char *gw, const char *fixture, const char *path,
		       const char *value, const char *want)
{
	char *body = mutate(fixture, path, value);

	parse_bad(gw, body, strlen(body), want);
	free(body);
}

/* ------------------------------------------------------------------ */

struct want_fact {
	const char *kind, *txn, *order, *amount, *currency, *parent, *status,
		*refund_id;
};

static void fact_is(const struct dg_pay_fact *f, const struct want_fact *w)
{
	char amount[DG_AMOUNT_SIZE];

	ck_assert_str_eq(dg_pay_kind_name(f->kind), w->kind);
	ck_assert_str_eq(f->txn_id, w->txn);
	ck_assert_pstr_eq(f->order_id, w->order);
	ck_assert_str_eq(f->currency, w->currency);
	dg_amount_format(f->amount, dg_currency_exponent(f->currency), amount);
	ck_assert_str_eq(amount, w->amount);
	ck_assert_pstr_eq(f->parent_txn_id, w->parent);
	ck_assert_str_eq(dg_pay_status_name(f->status), w->status);
	ck_assert_pstr_eq(f->refund_id, w->refund_id);
}

#define CH1  "ch_3PZkLmF2eZvKYlo21aBcDeFg"
#define RE1  "re_3PZkLmF2eZvKYlo21Qw7RtYu"
#define CAP1 "2GG279541U471931P"

static const struct {
	const char *file, *gateway, *event_id, *type, *ignored;
	size_t nfacts;
	struct want_fact facts[2];
} fixtures[] = {
	{"stripe-charge-succeeded.json",
	 "stripe",
	 "evt_3PZkLmF2eZvKYlo21rTgHj9K",
	 "charge.succeeded",
	 NULL,
	 1,
	 {{"charge", CH1, "ORD-1001", "102.30", "EUR", NULL, "completed",
	   NULL}}},
	{"stripe-payment-intent-succeeded.json",
	 "stripe",
	 "evt_3PZkLmF2eZvKYlo21hGfDsAq",
	 "payment_intent.succeeded",
	 NULL,
	 1,
	 {{"charge", CH1, "ORD-1001", "102.30", "EUR", NULL, "completed",
	   NULL}}},
	{"stripe-charge-succeeded-jpy.json",
	 "stripe",
	 "evt_3PZkNqF2eZvKYlo22wQeRtYp",
	 "charge.succeeded",
	 NULL,
	 1,
	 {{"charge", "ch_3PZkNqF2eZvKYlo22jPnYenA", "ORD-1002", "16500", "JPY",
	   NULL, "completed", NULL}}},
	{"stripe-charge-authorized.json",
	 "stripe",
	 "evt_3PZkMpF2eZvKYlo20aSdFgHj",
	 "charge.succeeded",
	 NULL,
	 1,
	 {{"charge", "ch_3PZkMpF2eZvKYlo20uVwXyZa", "ORD-1003", "102.30", "EUR",
	   NULL, "pending", NULL}}},
	{"stripe-charge-captured.json",
	 "stripe",
	 "evt_3PZkMpF2eZvKYlo20qWeRtYu",
	 "charge.captured",
	 NULL,
	 1,
	 {{"charge", "ch_3PZkMpF2eZvKYlo20uVwXyZa", "ORD-1003", "102.30", "EUR",
	   NULL, "completed", NULL}}},
	{"stripe-charge-failed.json",
	 "stripe",
	 "evt_3PZkOrF2eZvKYlo23zXcVbNm",
	 "charge.failed",
	 NULL,
	 1,
	 {{"charge", "ch_3PZkOrF2eZvKYlo23fAiLeDx", "ORD-1004", "49.90", "USD",
	   NULL, "failed", NULL}}},
	{"stripe-charge-refunded.json",
	 "stripe",
	 "evt_3PZkLmF2eZvKYlo21yUiOpLk",
	 "charge.refunded",
	 NULL,
	 2,
	 {{"charge", CH1, "ORD-1001", "102.30", "EUR", NULL, "completed", NULL},
	  {"refund", RE1, "ORD-1001", "102.30", "EUR", CH1, "completed",
	   "RF-1001-1"}}},
	{"stripe-refund-updated.json",
	 "stripe",
	 "evt_3PZkLmF2eZvKYlo21mNbVcXq",
	 "refund.updated",
	 NULL,
	 1,
	 {{"refund", RE1, "ORD-1001", "102.30", "EUR", CH1, "completed",
	   "RF-1001-1"}}},
	{"stripe-refund-created.json",
	 "stripe",
	 "evt_3PZkNqF2eZvKYlo22aZsXdCf",
	 "refund.created",
	 NULL,
	 1,
	 {{"refund", "re_3PZkNqF2eZvKYlo22pQrStUv", NULL, "5500", "JPY",
	   "ch_3PZkNqF2eZvKYlo22jPnYenA", "pending", "RF-1002-1"}}},
	{"stripe-customer-created.json",
	 "stripe",
	 "evt_1PZkKcF2eZvKYlo2bVnMqWeR",
	 "customer.created",
	 "event type 'customer.created' moves no money",
	 0,
	 {{0}}},
	{"paypal-capture-completed.json",
	 "paypal",
	 "WH-58D329510W468432D-8HN650336L201105X",
	 "PAYMENT.CAPTURE.COMPLETED",
	 NULL,
	 1,
	 {{"charge", CAP1, "ORD-2001", "48.50", "USD", NULL, "completed",
	   NULL}}},
	{"paypal-capture-completed-invoice-id.json",
	 "paypal",
	 "WH-2WR32451HC0233532-67976317FL4543714",
	 "PAYMENT.CAPTURE.COMPLETED",
	 NULL,
	 1,
	 {{"charge", "7TK53561YB803214R", "ORD-2002", "12000", "JPY", NULL,
	   "completed", NULL}}},
	{"paypal-capture-pending.json",
	 "paypal",
	 "WH-4SW78779LY2325805-07E03580SX1414828",
	 "PAYMENT.CAPTURE.PENDING",
	 NULL,
	 1,
	 {{"charge", "0VF52814937998046", "ORD-2003", "48.50", "USD", NULL,
	   "pending", NULL}}},
	{"paypal-capture-refunded.json",
	 "paypal",
	 "WH-1GE84257G0350133W-6RW800890C634293G",
	 "PAYMENT.CAPTURE.REFUNDED",
	 NULL,
	 1,
	 {{"refund", "1JU08902781691411", "ORD-2001", "20.00", "USD", CAP1,
	   "completed", NULL}}},
	{"paypal-capture-reversed.json",
	 "paypal",
	 "WH-6F207351SC284371F-0KX52201050121307",
	 "PAYMENT.CAPTURE.REVERSED",
	 NULL,
	 1,
	 {{"refund", "09E71677NS257044M", NULL, "28.50", "USD", CAP1,
	   "reversed", NULL}}},
	{"paypal-checkout-order-approved.json",
	 "paypal",
	 "WH-COC11055RA711503B-4YM959094A144403T",
	 "CHECKOUT.ORDER.APPROVED",
	 "event type 'CHECKOUT.ORDER.APPROVED' moves no money",
	 0,
	 {{0}}},
	{"generic-charge.json",
	 "generic",
	 NULL,
	 "charge",
	 NULL,
	 1,
	 {{"charge", "TX-77001", "ORD-3001", "102.30", "EUR", NULL, "completed",
	   NULL}}},
	{"generic-refund.json",
	 "generic",
	 NULL,
	 "refund",
	 NULL,
	 1,
	 {{"refund", "TX-77002", "ORD-3001", "99.85", "EUR", "TX-77001",
	   "completed", "RF-3001-1"}}},
	{"generic-charge-kwd.json",
	 "generic",
	 NULL,
	 "charge",
	 NULL,
	 1,
	 {{"charge", "TX-77003", "ORD-3002", "12.345", "KWD", NULL, "completed",
	   NULL}}},
};

START_TEST(test_fixture)
{
	struct dg_pay_event ev, again;
	json_error_t je;
	json_t *doc;
	size_t len, i;
	char *body = read_fixture(fixtures[_i].file, &len), *err = NULL;

	parse_ok(fixtures[_i].gateway, body, len, &ev);
	ck_assert_pstr_eq(ev.event_id, fixtures[_i].event_id);
	ck_assert_str_eq(ev.event_type, fixtures[_i].type);
	ck_assert_pstr_eq(ev.ignored, fixtures[_i].ignored);
	ck_assert_uint_eq(ev.nfacts, fixtures[_i].nfacts);
	for (i = 0; i < ev.nfacts; i++)
		fact_is(&ev.facts[i], &fixtures[_i].facts[i]);

	/* a JSON Lines record gives the same */
	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(
		dg_pay_parse_json(fixtures[_i].gateway, doc, &again, &err), 0);
	ck_assert_uint_eq(again.nfacts, ev.nfacts);
	ck_assert_pstr_eq(again.ignored, ev.ignored);
	for (i = 0; i < ev.nfacts; i++)
		fact_is(&again.facts[i], &fixtures[_i].facts[i]);
	json_decref(doc);
	dg_pay_event_free(&again);
	dg_pay_event_free(&ev);
	ck_assert_ptr_null(ev.facts);
	ck_assert_uint_eq(ev.nfacts, 0);
	free(body);
}
END_TEST

/* Every fixture is one gateway's: the others refuse it. */
START_TEST(test_fixture_wrong_gateway)
{
	struct dg_pay_event ev;
	size_t len;
	char *body = read_fixture("stripe-charge-succeeded.json", &len),
	     *err = NULL;

	ck_assert_int_eq(dg_pay_parse("paypal", body, len, &ev, &err), 65);
	ck_assert_str_eq(err, "event_type: missing");
	free(err);
	ck_assert_int_eq(dg_pay_parse("generic", body, len, &ev, &err), 65);
	ck_assert_str_eq(err, "'id': unknown field");
	free(err);
	free(body);
	body = read_fixture("paypal-capture-completed.json", &len);
	ck_assert_int_eq(dg_pay_parse("stripe", body, len, &ev, &err), 65);
	ck_assert_str_eq(err, "type: missing");
	free(err);
	free(body);
}
END_TEST

START_TEST(test_names)
{
	enum dg_pay_status s;
	struct dg_pay_event ev;
	char *err = NULL;

	ck_assert_str_eq(dg_pay_kind_name(DG_PAY_CHARGE), "charge");
	ck_assert_str_eq(dg_pay_kind_name(DG_PAY_REFUND), "refund");
	ck_assert_str_eq(dg_pay_status_name(DG_PAY_PENDING), "pending");
	ck_assert_str_eq(dg_pay_status_name(DG_PAY_COMPLETED), "completed");
	ck_assert_str_eq(dg_pay_status_name(DG_PAY_FAILED), "failed");
	ck_assert_str_eq(dg_pay_status_name(DG_PAY_REVERSED), "reversed");
	ck_assert_int_eq(dg_pay_status_parse("reversed", &s), 0);
	ck_assert_int_eq(s, DG_PAY_REVERSED);
	ck_assert_int_eq(dg_pay_status_parse("pending", &s), 0);
	ck_assert_int_eq(s, DG_PAY_PENDING);
	ck_assert_int_eq(dg_pay_status_parse("Completed", &s), -1);
	ck_assert_int_eq(dg_pay_status_parse("", &s), -1);
	ck_assert_int_eq(dg_pay_status_parse(NULL, &s), -1);
	ck_assert(dg_pay_gateway_known("stripe"));
	ck_assert(dg_pay_gateway_known("paypal"));
	ck_assert(dg_pay_gateway_known("generic"));
	ck_assert(!dg_pay_gateway_known("Stripe"));
	ck_assert(!dg_pay_gateway_known(""));
	ck_assert(!dg_pay_gateway_known(NULL));
	ck_assert_int_eq(dg_pay_parse("adyen", "{}", 2, &ev, &err), 64);
	ck_assert_str_eq(err, "unknown gateway 'adyen'");
	ck_assert_uint_eq(ev.nfacts, 0);
	free(err);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Stripe                                                              */

#define SUCC "stripe-charge-succeeded.json"
#define PI   "stripe-payment-intent-succeeded.json"
#define RFD  "stripe-charge-refunded.json"
#define RUPD "stripe-refund-updated.json"

static const struct {
	const char *file, *type; /* type: NULL keeps the fixture's */
	const char *status, *captured, *want;
} stripe_status[] = {
	{SUCC, NULL, "\"succeeded\"", "true", "completed"},
	{SUCC, NULL, "\"succeeded\"", "false", "pending"},
	{SUCC, "\"charge.pending\"", "\"pending\"", "false", "pending"},
	{SUCC, "\"charge.failed\"", "\"failed\"", "false", "failed"},
	{SUCC, "\"charge.captured\"", "\"succeeded\"", "true", "completed"},
	{RUPD, NULL, "\"succeeded\"", NULL, "completed"},
	{RUPD, NULL, "\"pending\"", NULL, "pending"},
	{RUPD, NULL, "\"requires_action\"", NULL, "pending"},
	{RUPD, NULL, "\"failed\"", NULL, "failed"},
	{RUPD, NULL, "\"canceled\"", NULL, "failed"},
	{RUPD, "\"refund.created\"", "\"pending\"", NULL, "pending"},
	{RUPD, "\"refund.failed\"", "\"failed\"", NULL, "failed"},
	{RUPD, "\"charge.refund.updated\"", "\"succeeded\"", NULL, "completed"},
};

START_TEST(test_stripe_status)
{
	struct dg_pay_event ev;
	char *body, *b2, *err = NULL;
	json_error_t je;
	json_t *doc, *obj;

	body = mutate(stripe_status[_i].file, "data.object.status",
		      stripe_status[_i].status);
	doc = json_loads(body, 0, &je);
	obj = json_object_get(json_object_get(doc, "data"), "object");
	if (stripe_status[_i].captured)
		json_object_set_new(obj, "captured",
				    json_loads(stripe_status[_i].captured,
					       JSON_DECODE_ANY, &je));
	if (stripe_status[_i].type)
		json_object_set_new(doc, "type",
				    json_loads(stripe_status[_i].type,
					       JSON_DECODE_ANY, &je));
	b2 = json_dumps(doc, 0);
	ck_assert_int_eq(dg_pay_parse("stripe", b2, strlen(b2), &ev, &err), 0);
	ck_assert_uint_eq(ev.nfacts, 1);
	ck_assert_str_eq(dg_pay_status_name(ev.facts[0].status),
			 stripe_status[_i].want);
	dg_pay_event_free(&ev);
	json_decref(doc);
	free(body);
	free(b2);
}
END_TEST

START_TEST(test_stripe_status_bad)
{
	mutate_bad("stripe", SUCC, "data.object.status", "\"refunded\"",
		   "data.object.status: unknown charge status 'refunded'");
	mutate_bad("stripe", SUCC, "data.object.status", NULL,
		   "data.object.status: missing");
	mutate_bad("stripe", SUCC, "data.object.status", "1",
		   "data.object.status: not a string (an integer)");
	mutate_bad("stripe", SUCC, "data.object.captured", NULL,
		   "data.object.captured: missing");
	mutate_bad("stripe", SUCC, "data.object.captured", "\"true\"",
		   "data.object.captured: not a boolean (a string)");
	mutate_bad("stripe", RUPD, "data.object.status", "\"SUCCEEDED\"",
		   "data.object.status: unknown refund status 'SUCCEEDED'");
	mutate_bad("stripe", PI, "data.object.status", "\"processing\"",
		   "data.object.status: 'processing' in a "
		   "payment_intent.succeeded event");
}
END_TEST

/* A failed charge keeps the attempted amount; a partial capture is the
 * amount captured. */
START_TEST(test_stripe_captured_amount)
{
	struct dg_pay_event ev;

	mutate_ok("stripe", "stripe-charge-captured.json",
		  "data.object.amount_captured", "8000", &ev);
	ck_assert_int_eq(ev.facts[0].amount, 8000);
	dg_pay_event_free(&ev);
	mutate_ok("stripe", "stripe-charge-captured.json",
		  "data.object.amount_captured", NULL, &ev);
	ck_assert_int_eq(ev.facts[0].amount, 10230);
	dg_pay_event_free(&ev);
	mutate_ok("stripe", "stripe-charge-authorized.json",
		  "data.object.amount_captured", "0", &ev);
	ck_assert_int_eq(ev.facts[0].amount, 10230);
	ck_assert_int_eq(ev.facts[0].status, DG_PAY_PENDING);
	dg_pay_event_free(&ev);
	mutate_bad("stripe", "stripe-charge-captured.json",
		   "data.object.amount_captured", "\"8000\"",
		   "data.object.amount_captured: not an integer (a string)");
}
END_TEST

static const struct {
	const char *currency, *amount, *want; /* want: amount or message */
} stripe_amounts[] = {
	{"\"usd\"", "4990", "49.90"},
	{"\"USD\"", "0", "0.00"},
	{"\"jpy\"", "16500", "16500"},
	{"\"kwd\"", "12340", "12.340"},
	{"\"bhd\"", "5", "0.005"},
	{"\"isk\"", "500", "5"},
	{"\"isk\"", "550",
	 "data.object.amount: 550 has a fraction of the smallest unit of ISK "
	 "(Stripe counts it with 2 decimals, ISO 4217 with 0)"},
	{"\"mga\"", "1000", "1000.00"},
	{"\"mga\"", "92233720368547759",
	 "data.object.amount: 92233720368547759 is too large"},
	{"\"usd\"", "9223372036854775807", "92233720368547758.07"},
	{"\"usd\"", "-100", "data.object.amount: -100 is negative"},
	{"\"usd\"", "49.90",
	 "data.object.amount: not an integer (a number with a fraction)"},
	{"\"usd\"", "4990.0",
	 "data.object.amount: not an integer (a number with a fraction)"},
	{"\"usd\"", "\"4990\"",
	 "data.object.amount: not an integer (a string)"},
	{"\"usd\"", "null", "data.object.amount: missing"},
	{"\"usd\"", "true", "data.object.amount: not an integer (a boolean)"},
	{"\"usd\"", "{}", "data.object.amount: not an integer (an object)"},
	{"\"eu\"", "1", "data.object.currency: 'eu' is not a currency code"},
	{"\"euro\"", "1",
	 "data.object.currency: 'euro' is not a currency code"},
	{"\"e1r\"", "1", "data.object.currency: 'e1r' is not a currency code"},
	{"\"qqq\"", "1", "data.object.currency: unknown currency 'qqq'"},
	{"978", "1", "data.object.currency: not a string (an integer)"},
	{"null", "1", "data.object.currency: missing"},
};

START_TEST(test_stripe_amount)
{
	struct dg_pay_event ev;
	char *body, *b2, *err = NULL;
	char amount[DG_AMOUNT_SIZE];
	json_error_t je;
	json_t *doc, *obj;
	int rc;

	body = mutate(SUCC, "data.object.currency",
		      stripe_amounts[_i].currency);
	doc = json_loads(body, 0, &je);
	obj = json_object_get(json_object_get(doc, "data"), "object");
	json_object_del(obj, "amount_captured");
	json_object_set_new(
		obj, "amount",
		json_loads(stripe_amounts[_i].amount, JSON_DECODE_ANY, &je));
	b2 = json_dumps(doc, 0);
	rc = dg_pay_parse("stripe", b2, strlen(b2), &ev, &err);
	if (strchr(stripe_amounts[_i].want, ':')) {
		ck_assert_int_eq(rc, 65);
		ck_assert_str_eq(err, stripe_amounts[_i].want);
		free(err);
	} else {
		ck_assert_msg(rc == 0, "%s", err);
		dg_amount_format(ev.facts[0].amount,
				 dg_currency_exponent(ev.facts[0].currency),
				 amount);
		ck_assert_str_eq(amount, stripe_amounts[_i].want);
		dg_pay_event_free(&ev);
	}
	json_decref(doc);
	free(body);
	free(b2);
}
END_TEST

START_TEST(test_stripe_currency_case)
{
	struct dg_pay_event ev;

	mutate_ok("stripe", SUCC, "data.object.currency", "\"EUR\"", &ev);
	ck_assert_str_eq(ev.facts[0].currency, "EUR");
	dg_pay_event_free(&ev);
	mutate_ok("stripe", SUCC, "data.object.currency", "\"eUr\"", &ev);
	ck_assert_str_eq(ev.facts[0].currency, "EUR");
	dg_pay_event_free(&ev);
}
END_TEST

START_TEST(test_stripe_ids)
{
	struct dg_pay_event ev;
	char *long_id, *json;

	mutate_bad("stripe", SUCC, "data.object.id", NULL,
		   "data.object.id: missing");
	mutate_bad("stripe", SUCC, "data.object.id", "\"\"",
		   "data.object.id: empty");
	mutate_bad("stripe", SUCC, "data.object.id", "42",
		   "data.object.id: not a string (an integer)");
	mutate_bad("stripe", SUCC, "data.object.id", "\"ch_1\\nX\"",
		   "data.object.id: 'ch_1\\nX' holds a control character");
	mutate_bad(
		"stripe", SUCC, "data.object.id", "\"ch_1\\u0085\"",
		"data.object.id: 'ch_1\\xc2\\x85' holds a control character");
	mutate_bad("stripe", SUCC, "data.object.id", "\"ch_1\\u007f\"",
		   "data.object.id: 'ch_1\\x7f' holds a control character");
	mutate_bad("stripe", SUCC, "data.object.id", "\" ch_1\"",
		   "data.object.id: ' ch_1' has a leading or trailing space");
	mutate_bad("stripe", SUCC, "data.object.metadata.order_id",
		   "\"ORD\\t1\"",
		   "data.object.metadata.order_id: 'ORD\\t1' holds a control "
		   "character");
	mutate_bad("stripe", SUCC, "data.object.metadata.order_id", "7",
		   "data.object.metadata.order_id: not a string (an integer)");
	mutate_bad("stripe", SUCC, "data.object.metadata", "[]",
		   "data.object.metadata: not an object (an array)");
	mutate_bad("stripe", SUCC, "type", NULL, "type: missing");
	mutate_bad("stripe", SUCC, "type", "\"charge.\\u001b[2J\"",
		   "type: 'charge.\\x1b[2J' holds a control character");
	mutate_bad("stripe", SUCC, "data", NULL, "data: missing");
	mutate_bad("stripe", SUCC, "data.object", "\"ch_1\"",
		   "data.object: not an object (a string)");
	mutate_bad("stripe", SUCC, "data.object.object", "\"refund\"",
		   "data.object.object: 'refund' where a charge was "
		   "expected");
	mutate_bad("stripe", RUPD, "data.object.object", "\"charge\"",
		   "data.object.object: 'charge' where a refund was "
		   "expected");

	/* 255 bytes is an id, 256 is not */
	long_id = dg_xmalloc(260);
	memset(long_id, 'x', 255);
	long_id[255] = '\0';
	json = dg_xasprintf("\"%s\"", long_id);
	mutate_ok("stripe", SUCC, "data.object.id", json, &ev);
	ck_assert_uint_eq(strlen(ev.facts[0].txn_id), 255);
	dg_pay_event_free(&ev);
	free(json);
	long_id[255] = 'x';
	long_id[256] = '\0';
	json = dg_xasprintf("\"%s\"", long_id);
	mutate_bad("stripe", SUCC, "data.object.id", json,
		   "data.object.id: "
		   "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		   "xxxxxx'... (256 bytes) longer than 255 bytes");
	free(json);
	free(long_id);

	/* no event id is no event id; an empty order id is none */
	mutate_ok("stripe", SUCC, "id", NULL, &ev);
	ck_assert_ptr_null(ev.event_id);
	dg_pay_event_free(&ev);
	mutate_ok("stripe", SUCC, "data.object.metadata.order_id", "\"\"", &ev);
	ck_assert_ptr_null(ev.facts[0].order_id);
	dg_pay_event_free(&ev);
	mutate_ok("stripe", SUCC, "data.object.metadata", "null", &ev);
	ck_assert_ptr_null(ev.facts[0].order_id);
	dg_pay_event_free(&ev);
}
END_TEST

START_TEST(test_stripe_intent)
{
	struct dg_pay_event ev;
	const char *expanded = "{\"id\": \"ch_exp\", \"object\": \"charge\", "
			       "\"metadata\": {\"order_id\": \"ORD-X\"}}";

	/* an expanded latest_charge, its order when the intent has none */
	mutate_ok("stripe", PI, "data.object.latest_charge", expanded, &ev);
	ck_assert_str_eq(ev.facts[0].txn_id, "ch_exp");
	ck_assert_str_eq(ev.facts[0].order_id, "ORD-1001");
	dg_pay_event_free(&ev);
	{
		char *body = mutate(PI, "data.object.latest_charge", expanded);
		json_error_t je;
		json_t *doc = json_loads(body, 0, &je);
		char *b2, *err = NULL;

		json_object_del(
			json_object_get(json_object_get(doc, "data"), "object"),
			"metadata");
		b2 = json_dumps(doc, 0);
		ck_assert_int_eq(
			dg_pay_parse("stripe", b2, strlen(b2), &ev, &err), 0);
		ck_assert_str_eq(ev.facts[0].order_id, "ORD-X");
		dg_pay_event_free(&ev);
		json_decref(doc);
		free(body);
		free(b2);
	}
	/* an older API version: the charges list */
	{
		char *body = mutate(PI, "data.object.latest_charge", NULL);
		json_error_t je;
		json_t *doc = json_loads(body, 0, &je);
		char *b2, *err = NULL;

		json_object_set_new(
			json_object_get(json_object_get(doc, "data"), "object"),
			"charges",
			json_loads(
				"{\"object\": \"list\", \"data\": [{\"id\": "
				"\"ch_old\", \"object\": \"charge\"}, {\"id\": "
				"\"ch_older\"}], \"has_more\": false}",
				0, &je));
		b2 = json_dumps(doc, 0);
		ck_assert_int_eq(
			dg_pay_parse("stripe", b2, strlen(b2), &ev, &err), 0);
		ck_assert_str_eq(ev.facts[0].txn_id, "ch_old");
		ck_assert_int_eq(ev.facts[0].amount, 10230);
		ck_assert_str_eq(ev.facts[0].order_id, "ORD-1001");
		dg_pay_event_free(&ev);
		json_decref(doc);
		free(body);
		free(b2);
	}
	mutate_ok("stripe", PI, "data.object.amount_received", "10000", &ev);
	ck_assert_int_eq(ev.facts[0].amount, 10000);
	dg_pay_event_free(&ev);
	mutate_bad("stripe", PI, "data.object.latest_charge", NULL,
		   "data.object.latest_charge: missing");
	mutate_bad("stripe", PI, "data.object.latest_charge", "7",
		   "data.object.latest_charge: not an id or an object (an "
		   "integer)");
	mutate_bad("stripe", PI, "data.object.latest_charge", "{\"a\": 1}",
		   "data.object.latest_charge.id: missing");
	mutate_bad("stripe", PI, "data.object.amount_received", NULL,
		   "data.object.amount_received: missing");
}
END_TEST

START_TEST(test_stripe_refunded)
{
	struct dg_pay_event ev;
	char *body, *err = NULL;
	json_error_t je;
	json_t *doc, *data;
	int i;

	/* a newer API version carries no refunds: the charge alone */
	mutate_ok("stripe", RFD, "data.object.refunds", NULL, &ev);
	ck_assert_uint_eq(ev.nfacts, 1);
	ck_assert_int_eq(ev.facts[0].kind, DG_PAY_CHARGE);
	dg_pay_event_free(&ev);
	mutate_ok("stripe", RFD, "data.object.refunds.data.0", NULL, &ev);
	ck_assert_uint_eq(ev.nfacts, 1);
	dg_pay_event_free(&ev);
	/* a listed refund without its charge is linked to it */
	mutate_ok("stripe", RFD, "data.object.refunds.data.0.charge", NULL,
		  &ev);
	ck_assert_str_eq(ev.facts[1].parent_txn_id, CH1);
	dg_pay_event_free(&ev);
	mutate_bad("stripe", RFD, "data.object.refunds.data.0.charge",
		   "\"ch_other\"",
		   "data.object.refunds.data[0].charge: 'ch_other' is not the "
		   "charge '" CH1 "' it is listed under");
	mutate_bad("stripe", RFD, "data.object.refunds.data.0.amount", "-1",
		   "data.object.refunds.data[0].amount: -1 is negative");
	mutate_bad("stripe", RFD, "data.object.refunds.data.0", "\"re_1\"",
		   "data.object.refunds.data[0]: not an object (a string)");
	mutate_bad("stripe", RFD, "data.object.refunds.data", "{}",
		   "data.object.refunds.data: not an array (an object)");
	/* a refund without metadata has no order and no refund_id */
	mutate_ok("stripe", RFD, "data.object.refunds.data.0.metadata", "{}",
		  &ev);
	ck_assert_ptr_null(ev.facts[1].order_id);
	ck_assert_ptr_null(ev.facts[1].refund_id);
	dg_pay_event_free(&ev);
	/* an expanded charge on a refund */
	mutate_ok("stripe", RUPD, "data.object.charge", "{\"id\": \"ch_e\"}",
		  &ev);
	ck_assert_str_eq(ev.facts[0].parent_txn_id, "ch_e");
	dg_pay_event_free(&ev);
	mutate_ok("stripe", RUPD, "data.object.charge", "null", &ev);
	ck_assert_ptr_null(ev.facts[0].parent_txn_id);
	dg_pay_event_free(&ev);

	/* 100 refunds, and not 101 */
	body = mutate(RFD, "data.object.refunds.has_more", "false");
	doc = json_loads(body, 0, &je);
	data = json_object_get(
		json_object_get(
			json_object_get(json_object_get(doc, "data"), "object"),
			"refunds"),
		"data");
	for (i = 1; i < 101; i++) {
		json_t *re = json_deep_copy(json_array_get(data, 0));
		char id[32];

		dg_xsnprintf(id, sizeof(id), "re_%d", i);
		json_object_set_new(re, "id", json_string(id));
		json_array_append_new(data, re);
	}
	free(body);
	body = json_dumps(doc, 0);
	parse_bad("stripe", body, strlen(body),
		  "data.object.refunds.data: more than 100 refunds");
	free(body);
	json_array_remove(data, 100);
	body = json_dumps(doc, 0);
	ck_assert_int_eq(dg_pay_parse("stripe", body, strlen(body), &ev, &err),
			 0);
	ck_assert_uint_eq(ev.nfacts, 101);
	ck_assert_str_eq(ev.facts[100].txn_id, "re_99");
	dg_pay_event_free(&ev);
	free(body);
	json_decref(doc);
}
END_TEST

START_TEST(test_stripe_ignored)
{
	static const char *const types[] = {"charge.updated",
					    "charge.dispute.created",
					    "charge.expired",
					    "payment_intent.created",
					    "payment_intent.payment_failed",
					    "invoice.paid"};
	struct dg_pay_event ev;
	char *json, *want;
	size_t i;

	for (i = 0; i < DG_NELEM(types); i++) {
		json = dg_xasprintf("\"%s\"", types[i]);
		want = dg_xasprintf("event type '%s' moves no money", types[i]);
		mutate_ok("stripe", SUCC, "type", json, &ev);
		ck_assert_str_eq(ev.ignored, want);
		ck_assert_uint_eq(ev.nfacts, 0);
		ck_assert_ptr_null(ev.facts);
		ck_assert_str_eq(ev.event_type, types[i]);
		dg_pay_event_free(&ev);
		free(json);
		free(want);
	}
	/* an ignored type still needs a well-formed envelope */
	mutate_bad("stripe", "stripe-customer-created.json", "data", NULL,
		   "data: missing");
}
END_TEST

/* ------------------------------------------------------------------ */
/* PayPal                                                              */

#define PCOMP "paypal-capture-completed.json"
#define PREF  "paypal-capture-refunded.json"
#define PREV  "paypal-capture-reversed.json"

static const struct {
	const char *file, *type, *status, *want;
} paypal_status[] = {
	{PCOMP, "PAYMENT.CAPTURE.COMPLETED", "COMPLETED", "completed"},
	{PCOMP, "PAYMENT.CAPTURE.COMPLETED", "REFUNDED", "completed"},
	{PCOMP, "PAYMENT.CAPTURE.COMPLETED", "PARTIALLY_REFUNDED", "completed"},
	{PCOMP, "PAYMENT.CAPTURE.PENDING", "PENDING", "pending"},
	{PCOMP, "PAYMENT.CAPTURE.DENIED", "DECLINED", "failed"},
	{PCOMP, "PAYMENT.CAPTURE.DECLINED", "DECLINED", "failed"},
	{PCOMP, "PAYMENT.CAPTURE.DECLINED", "FAILED", "failed"},
	{PREF, "PAYMENT.CAPTURE.REFUNDED", "COMPLETED", "completed"},
	{PREF, "PAYMENT.CAPTURE.REFUNDED", "PENDING", "pending"},
	{PREF, "PAYMENT.CAPTURE.REFUNDED", "FAILED", "failed"},
	{PREF, "PAYMENT.CAPTURE.REFUNDED", "CANCELLED", "failed"},
	{PREV, "PAYMENT.CAPTURE.REVERSED", "COMPLETED", "reversed"},
	{PREV, "PAYMENT.CAPTURE.REVERSED", "PENDING", "reversed"},
};

START_TEST(test_paypal_status)
{
	struct dg_pay_event ev;
	char *body, *b2, *err = NULL;
	json_error_t je;
	json_t *doc;

	body = mutate(paypal_status[_i].file, "event_type", NULL);
	doc = json_loads(body, 0, &je);
	json_object_set_new(doc, "event_type",
			    json_string(paypal_status[_i].type));
	json_object_set_new(json_object_get(doc, "resource"), "status",
			    json_string(paypal_status[_i].status));
	b2 = json_dumps(doc, 0);
	ck_assert_int_eq(dg_pay_parse("paypal", b2, strlen(b2), &ev, &err), 0);
	ck_assert_uint_eq(ev.nfacts, 1);
	ck_assert_str_eq(dg_pay_status_name(ev.facts[0].status),
			 paypal_status[_i].want);
	ck_assert_int_eq(ev.facts[0].kind,
			 !strcmp(paypal_status[_i].file, PCOMP)
				 ? DG_PAY_CHARGE
				 : DG_PAY_REFUND);
	dg_pay_event_free(&ev);
	json_decref(doc);
	free(body);
	free(b2);
}
END_TEST

START_TEST(test_paypal_status_bad)
{
	struct dg_pay_event ev;

	mutate_bad("paypal", PCOMP, "resource.status", "\"CANCELLED\"",
		   "resource.status: unknown capture status 'CANCELLED'");
	mutate_bad("paypal", PREF, "resource.status", "\"REFUNDED\"",
		   "resource.status: unknown refund status 'REFUNDED'");
	mutate_bad("paypal", PCOMP, "resource.status", "\"completed\"",
		   "resource.status: unknown capture status 'completed'");
	mutate_bad("paypal", PCOMP, "resource.status", NULL,
		   "resource.status: missing");
	mutate_bad("paypal", PCOMP, "resource", NULL, "resource: missing");
	mutate_bad("paypal", PCOMP, "resource", "[]",
		   "resource: not an object (an array)");
	mutate_bad("paypal", PCOMP, "event_type", "null",
		   "event_type: missing");
	mutate_ok("paypal", PCOMP, "event_type", "\"PAYMENT.SALE.COMPLETED\"",
		  &ev);
	ck_assert_str_eq(ev.ignored,
			 "event type 'PAYMENT.SALE.COMPLETED' moves no money");
	dg_pay_event_free(&ev);
	mutate_ok("paypal", PCOMP, "event_type",
		  "\"PAYMENT.CAPTURE.completed\"", &ev);
	ck_assert_uint_eq(ev.nfacts, 0);
	ck_assert_ptr_nonnull(ev.ignored);
	dg_pay_event_free(&ev);
}
END_TEST

static const struct {
	const char *currency, *value, *want;
} paypal_amounts[] = {
	{"USD", "\"48.50\"", "48.50"},
	{"USD", "\"48.5\"", "48.50"},
	{"USD", "\"48\"", "48.00"},
	{"USD", "\"0.00\"", "0.00"},
	{"JPY", "\"12000\"", "12000"},
	{"KWD", "\"1.234\"", "1.234"},
	{"usd", "\"1.00\"", "1.00"},
	{"JPY", "\"12000.0\"",
	 "resource.amount.value: '12000.0' has more than 0 decimals for JPY"},
	{"USD", "\"48.505\"",
	 "resource.amount.value: '48.505' has more than 2 decimals for USD"},
	{"KWD", "\"1.2345\"",
	 "resource.amount.value: '1.2345' has more than 3 decimals for KWD"},
	{"USD", "\"-48.50\"", "resource.amount.value: '-48.50' is negative"},
	{"USD", "\"92233720368547758.08\"",
	 "resource.amount.value: '92233720368547758.08' is too large"},
	{"USD", "\"1e3\"", "resource.amount.value: '1e3' not a plain decimal"},
	{"USD", "\" 1.00\"",
	 "resource.amount.value: ' 1.00' not a plain decimal"},
	{"USD", "\"1,00\"",
	 "resource.amount.value: '1,00' not a plain decimal"},
	{"USD", "\"\"", "resource.amount.value: '' not a plain decimal"},
	{"USD", "48.50",
	 "resource.amount.value: not a string (a number with a "
	 "fraction)"},
	{"USD", "48", "resource.amount.value: not a string (an integer)"},
	{"USD", "null", "resource.amount.value: missing"},
	{"XYZ", "\"1.00\"",
	 "resource.amount.currency_code: unknown currency "
	 "'XYZ'"},
};

START_TEST(test_paypal_amount)
{
	struct dg_pay_event ev;
	char *body, *b2, *err = NULL;
	char amount[DG_AMOUNT_SIZE];
	json_error_t je;
	json_t *doc, *am;
	int rc;

	body = mutate(PCOMP, "resource.amount.value", paypal_amounts[_i].value);
	doc = json_loads(body, 0, &je);
	am = json_object_get(json_object_get(doc, "resource"), "amount");
	json_object_set_new(am, "currency_code",
			    json_string(paypal_amounts[_i].currency));
	b2 = json_dumps(doc, 0);
	rc = dg_pay_parse("paypal", b2, strlen(b2), &ev, &err);
	if (strchr(paypal_amounts[_i].want, ':')) {
		ck_assert_int_eq(rc, 65);
		ck_assert_str_eq(err, paypal_amounts[_i].want);
		free(err);
	} else {
		ck_assert_msg(rc == 0, "%s", err);
		dg_amount_format(ev.facts[0].amount,
				 dg_currency_exponent(ev.facts[0].currency),
				 amount);
		ck_assert_str_eq(amount, paypal_amounts[_i].want);
		dg_pay_event_free(&ev);
	}
	json_decref(doc);
	free(body);
	free(b2);
}
END_TEST

START_TEST(test_paypal_order)
{
	struct dg_pay_event ev;

	/* custom_id, else invoice_id, else none */
	mutate_ok("paypal", PCOMP, "resource.custom_id", NULL, &ev);
	ck_assert_str_eq(ev.facts[0].order_id, "INV-2026-0417");
	dg_pay_event_free(&ev);
	mutate_ok("paypal", PCOMP, "resource.custom_id", "\"\"", &ev);
	ck_assert_str_eq(ev.facts[0].order_id, "INV-2026-0417");
	dg_pay_event_free(&ev);
	mutate_ok("paypal", PCOMP, "resource.custom_id", "null", &ev);
	ck_assert_str_eq(ev.facts[0].order_id, "INV-2026-0417");
	dg_pay_event_free(&ev);
	mutate_ok("paypal", "paypal-capture-completed-invoice-id.json",
		  "resource.invoice_id", NULL, &ev);
	ck_assert_ptr_null(ev.facts[0].order_id);
	dg_pay_event_free(&ev);
	mutate_ok("paypal", PREF, "resource.custom_id", NULL, &ev);
	ck_assert_str_eq(ev.facts[0].order_id, "INV-2026-0417");
	dg_pay_event_free(&ev);
	mutate_bad("paypal", PCOMP, "resource.custom_id", "123",
		   "resource.custom_id: not a string (an integer)");
	mutate_bad("paypal", PCOMP, "resource.custom_id", "\"ORD\\r\\n\"",
		   "resource.custom_id: 'ORD\\r\\n' holds a control "
		   "character");
	/* a capture's id is required, its event id is not */
	mutate_bad("paypal", PCOMP, "resource.id", NULL,
		   "resource.id: missing");
	mutate_ok("paypal", PCOMP, "id", NULL, &ev);
	ck_assert_ptr_null(ev.event_id);
	dg_pay_event_free(&ev);
}
END_TEST

START_TEST(test_paypal_up_link)
{
	static const struct {
		const char *href, *want; /* want: parent, or a message */
	} links[] = {
		{"https://api.paypal.com/v2/payments/captures/"
		 "2GG279541U471931P",
		 "2GG279541U471931P"},
		{"https://api.sandbox.paypal.com/v2/payments/captures/AB12/",
		 "AB12"},
		{"https://api.paypal.com/v2/payments/captures/AB12?x=1#f",
		 "AB12"},
		{"https://api.paypal.com/v2/payments/captures/",
		 "resource.links[1]."
		 "href: 'https://api."
		 "paypal.com/v2/"
		 "payments/captures/"
		 "' is not the link "
		 "of a capture"},
		{"https://api.paypal.com/v2/payments/authorizations/AB12",
		 "resource.links[1].href: 'https://api.paypal.com/v2/payments/"
		 "authorizations/AB12' is not the link of a capture"},
		{"AB12", "resource.links[1].href: 'AB12' is not the link of a "
			 "capture"},
		{"", "resource.links[1].href: '' is not the link of a capture"},
	};
	struct dg_pay_event ev;
	char *json;
	size_t i;

	for (i = 0; i < DG_NELEM(links); i++) {
		json = dg_xasprintf("\"%s\"", links[i].href);
		if (strchr(links[i].want, ':')) {
			mutate_bad("paypal", PREF, "resource.links.1.href",
				   json, links[i].want);
		} else {
			mutate_ok("paypal", PREF, "resource.links.1.href", json,
				  &ev);
			ck_assert_str_eq(ev.facts[0].parent_txn_id,
					 links[i].want);
			dg_pay_event_free(&ev);
		}
		free(json);
	}
	/* no up link: no parent; a capture's up link is its order's */
	mutate_ok("paypal", PREF, "resource.links.1", NULL, &ev);
	ck_assert_ptr_null(ev.facts[0].parent_txn_id);
	dg_pay_event_free(&ev);
	mutate_ok("paypal", PREF, "resource.links", NULL, &ev);
	ck_assert_ptr_null(ev.facts[0].parent_txn_id);
	dg_pay_event_free(&ev);
	mutate_ok("paypal", PCOMP, "resource.links", NULL, &ev);
	ck_assert_ptr_null(ev.facts[0].parent_txn_id);
	dg_pay_event_free(&ev);
	mutate_ok("paypal", PCOMP, "resource.links.2.href", "\"x\"", &ev);
	ck_assert_ptr_null(ev.facts[0].parent_txn_id);
	dg_pay_event_free(&ev);
	mutate_bad("paypal", PREF, "resource.links.1.href", NULL,
		   "resource.links[1].href: missing");
	mutate_bad("paypal", PREF, "resource.links.0", "7",
		   "resource.links[0]: not an object (an integer)");
	mutate_bad("paypal", PREF, "resource.links", "{}",
		   "resource.links: not an array (an object)");
	mutate_bad("paypal", PREF, "resource.links.1.rel", "[]",
		   "resource.links[1].rel: not a string (an array)");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Generic                                                             */

static const struct {
	const char *body, *want; /* want: "ok" or a message */
} generic[] = {
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":\"1.00\",\"currency\":\"usd\"}",
	 "ok"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":\"1.00\",\"currency\":\"USD\",\"status\":null,"
	 "\"parent_txn_id\":null,\"refund_id\":null}",
	 "ok"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":\"1.00\",\"currency\":\"USD\",\"note\":\"x\"}",
	 "'note': unknown field"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":\"1.00\",\"currency\":\"USD\",\"parent_txn\":\"T0\"}",
	 "'parent_txn': unknown field"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":\"1.00\",\"currency\":\"USD\",\"parent_txn_id\":\"T0\"}",
	 "parent_txn_id: given for a charge: only a refund has a parent"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":\"1.00\",\"currency\":\"USD\",\"refund_id\":\"R1\"}",
	 "refund_id: given for a charge: only a refund has one"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"payout\",\"order_id\":\"O1\","
	 "\"amount\":\"1.00\",\"currency\":\"USD\"}",
	 "kind: 'payout' is not charge or refund"},
	{"{\"gateway_txn_id\":\"T1\",\"order_id\":\"O1\","
	 "\"amount\":\"1.00\",\"currency\":\"USD\"}",
	 "kind: missing"},
	{"{\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":\"1.00\",\"currency\":\"USD\"}",
	 "gateway_txn_id: missing"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\","
	 "\"amount\":\"1.00\",\"currency\":\"USD\"}",
	 "order_id: missing"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"\","
	 "\"amount\":\"1.00\",\"currency\":\"USD\"}",
	 "order_id: empty"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"currency\":\"USD\"}",
	 "amount: missing"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":100,\"currency\":\"USD\"}",
	 "amount: not a string (an integer)"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":{\"value\":\"1\"},\"currency\":\"USD\"}",
	 "amount: not a string (an object)"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":\"1.00\"}",
	 "currency: missing"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":\"1.00\",\"currency\":\"USD\",\"status\":\"succeeded\"}",
	 "status: 'succeeded' is not pending, completed, failed or reversed"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":\"100\",\"currency\":\"JPY\",\"status\":\"Pending\"}",
	 "status: 'Pending' is not pending, completed, failed or reversed"},
	{"{\"gateway_txn_id\":\"T1\",\"kind\":\"charge\",\"order_id\":\"O1\","
	 "\"amount\":\"100.5\",\"currency\":\"JPY\"}",
	 "amount: '100.5' has more than 0 decimals for JPY"},
};

START_TEST(test_generic)
{
	struct dg_pay_event ev;
	const char *body = generic[_i].body;

	if (!strcmp(generic[_i].want, "ok")) {
		parse_ok("generic", body, strlen(body), &ev);
		ck_assert_uint_eq(ev.nfacts, 1);
		ck_assert_str_eq(ev.facts[0].currency, "USD");
		ck_assert_int_eq(ev.facts[0].amount, 100);
		ck_assert_int_eq(ev.facts[0].status, DG_PAY_COMPLETED);
		ck_assert_ptr_null(ev.facts[0].parent_txn_id);
		ck_assert_ptr_null(ev.facts[0].refund_id);
		ck_assert_ptr_null(ev.event_id);
		ck_assert_str_eq(ev.event_type, "charge");
		dg_pay_event_free(&ev);
	} else {
		parse_bad("generic", body, strlen(body), generic[_i].want);
	}
}
END_TEST

START_TEST(test_generic_status)
{
	static const char *const names[] = {"pending", "completed", "failed",
					    "reversed"};
	struct dg_pay_event ev;
	char *json;
	size_t i;

	for (i = 0; i < DG_NELEM(names); i++) {
		json = dg_xasprintf("\"%s\"", names[i]);
		mutate_ok("generic", "generic-refund.json", "status", json,
			  &ev);
		ck_assert_str_eq(dg_pay_status_name(ev.facts[0].status),
				 names[i]);
		dg_pay_event_free(&ev);
		free(json);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Bodies that are not one JSON object                                 */

START_TEST(test_malformed_bodies)
{
	struct dg_pay_event ev;
	size_t len;
	char *body = read_fixture(SUCC, &len), *cut;

	parse_bad("stripe", "", 0, "empty body");
	parse_bad("stripe", " \r\n\t", 4, "empty body");
	parse_bad("stripe", "[]", 2, "not a JSON object");
	parse_bad("generic", "[{}]", 4, "not a JSON object");
	parse_bad("stripe", "\"x\"", 3,
		  "invalid JSON at line 1, column 3: '[' or '{' expected near "
		  "'\"x\"'");
	parse_bad("stripe", "{} {}", 5,
		  "invalid JSON at line 1, column 4: end of file expected near "
		  "'{'");
	parse_bad("stripe", "{}x", 3,
		  "invalid JSON at line 1, column 3: end of file expected near "
		  "'x'");
	parse_bad("stripe", "{\"a\":1,\"a\":1}", 13,
		  "invalid JSON at line 1, column 10: duplicate object key "
		  "near '\"a\"'");
	parse_bad("generic", "{\"a\":\"\xff\"}", 8,
		  "invalid JSON at line 1, column 6: unable to decode byte "
		  "0xff near '\"'");
	parse_bad("stripe", "{}\0", 3, "a NUL byte at offset 2");
	parse_bad("stripe", "{\"type\":\"a\\u0000b\"}", 19,
		  "invalid JSON at line 1, column 18: \\\\u0000 is not allowed "
		  "without JSON_ALLOW_NUL near '\"a\\\\u0000b\"'");
	parse_bad("stripe", "{\"type\":\"a\0b\"}", 14,
		  "a NUL byte at offset 10");

	/* the whole fixture, then trailing garbage, a NUL, a cut */
	cut = dg_xmalloc(len + 8);
	memcpy(cut, body, len);
	memcpy(cut + len, "}", 1);
	parse_bad("stripe", cut, len + 1,
		  "invalid JSON at line 124, column 1: end of file expected "
		  "near '}'");
	cut[len] = '\0';
	parse_bad("stripe", cut, len + 1, "a NUL byte at offset 3567");
	parse_ok("stripe", cut, len, &ev); /* the body, not NUL-terminated */
	dg_pay_event_free(&ev);
	parse_bad("stripe", body, len / 2,
		  "invalid JSON at line 62, column 10: premature end of input "
		  "near '\"c'");
	free(cut);

	free(body);
}
END_TEST

START_TEST(test_duplicate_keys_nested)
{
	const char *b1 = "{\"type\":\"charge.succeeded\",\"data\":{\"object\":"
			 "{\"id\":\"ch_1\",\"amount\":100,\"amount\":1,"
			 "\"currency\":\"usd\",\"status\":\"succeeded\","
			 "\"captured\":true}}}";
	const char *b2 = "{\"type\":\"charge.succeeded\",\"data\":{\"object\":"
			 "{\"id\":\"ch_1\",\"amount\":100,"
			 "\"currency\":\"usd\",\"status\":\"succeeded\","
			 "\"captured\":true,\"metadata\":{\"order_id\":\"A\","
			 "\"order_id\":\"B\"}}}}";
	const char *b3 = "{\"type\":\"charge.succeeded\",\"data\":{\"object\":"
			 "{\"id\":\"ch_1\",\"amount\":100,"
			 "\"currency\":\"usd\",\"status\":\"succeeded\","
			 "\"captured\":true}}}";
	struct dg_pay_event ev;

	parse_bad("stripe", b1, strlen(b1),
		  "invalid JSON at line 1, column 78: duplicate object key "
		  "near '\"amount\"'");
	parse_bad("stripe", b2, strlen(b2),
		  "invalid JSON at line 1, column 161: duplicate object key "
		  "near '\"order_id\"'");
	/* without the duplicate, the smallest body that is a charge */
	parse_ok("stripe", b3, strlen(b3), &ev);
	ck_assert_str_eq(ev.facts[0].txn_id, "ch_1");
	ck_assert_ptr_null(ev.facts[0].order_id);
	dg_pay_event_free(&ev);
}
END_TEST

START_TEST(test_nesting)
{
	struct dg_pay_event ev;
	char *deep, *body;
	int i, n;

	/* the body's object is level 1: metadata at level 4 holds an
	 * object nested to level 32, then 33 */
	for (n = 28; n <= 29; n++) {
		deep = dg_xstrdup("1");
		for (i = 0; i < n; i++) {
			char *d = dg_xasprintf("[%s]", deep);

			free(deep);
			deep = d;
		}
		body = mutate(SUCC, "data.object.metadata.x", deep);
		if (n == 28) {
			parse_ok("stripe", body, strlen(body), &ev);
			dg_pay_event_free(&ev);
		} else {
			parse_bad("stripe", body, strlen(body),
				  "nesting deeper than 32 levels");
		}
		free(body);
		free(deep);
	}
}
END_TEST

/* dg_pay_parse_json refuses what dg_pay_parse refuses after parsing. */
START_TEST(test_parse_json)
{
	struct dg_pay_event ev;
	json_t *v = json_array();
	char *err = NULL;

	ck_assert_int_eq(dg_pay_parse_json("stripe", v, &ev, &err), 65);
	ck_assert_str_eq(err, "not a JSON object");
	free(err);
	json_decref(v);
	v = json_pack("{s:s}", "type", "customer.created");
	ck_assert_int_eq(dg_pay_parse_json("stripe", v, &ev, &err), 65);
	ck_assert_str_eq(err, "data: missing");
	free(err);
	/* text with a NUL that the JSON Lines reader would not pass */
	json_object_set_new(v, "type", json_stringn("a\0b", 3));
	ck_assert_int_eq(dg_pay_parse_json("stripe", v, &ev, &err), 65);
	ck_assert_str_eq(err, "type: 'a\\x00b' holds a control character");
	free(err);
	json_decref(v);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("payevent");
	TCase *tc = tcase_create("payevent");

	tcase_add_loop_test(tc, test_fixture, 0, DG_NELEM(fixtures));
	tcase_add_test(tc, test_fixture_wrong_gateway);
	tcase_add_test(tc, test_names);
	tcase_add_loop_test(tc, test_stripe_status, 0, DG_NELEM(stripe_status));
	tcase_add_test(tc, test_stripe_status_bad);
	tcase_add_test(tc, test_stripe_captured_amount);
	tcase_add_loop_test(tc, test_stripe_amount, 0,
			    DG_NELEM(stripe_amounts));
	tcase_add_test(tc, test_stripe_currency_case);
	tcase_add_test(tc, test_stripe_ids);
	tcase_add_test(tc, test_stripe_intent);
	tcase_add_test(tc, test_stripe_refunded);
	tcase_add_test(tc, test_stripe_ignored);
	tcase_add_loop_test(tc, test_paypal_status, 0, DG_NELEM(paypal_status));
	tcase_add_test(tc, test_paypal_status_bad);
	tcase_add_loop_test(tc, test_paypal_amount, 0,
			    DG_NELEM(paypal_amounts));
	tcase_add_test(tc, test_paypal_order);
	tcase_add_test(tc, test_paypal_up_link);
	tcase_add_loop_test(tc, test_generic, 0, DG_NELEM(generic));
	tcase_add_test(tc, test_generic_status);
	tcase_add_test(tc, test_malformed_bodies);
	tcase_add_test(tc, test_duplicate_keys_nested);
	tcase_add_test(tc, test_nesting);
	tcase_add_test(tc, test_parse_json);
	suite_add_tcase(s, tc);
	return s;
}
