/*
 * fuzz-payevent.c - gateway callback bodies into money facts
 * (payevent.c: dg_pay_parse, dg_pay_parse_arena, dg_pay_parse_json).
 *
 * The first byte picks the gateway ('s' stripe, 'p' paypal, 'g'
 * generic, any other byte by its value modulo 3), the rest is the body.
 * Checked:
 *   - the result is 0 or 65, nothing is printed, and a 65 comes with a
 *     one-line message and an empty event; a 0 without a message;
 *   - on 0: the event is the gateway's; ignored is set exactly when
 *     there are no facts; every fact has a txn_id of 1..255 bytes
 *     without control characters or an edge space (and so has each
 *     order_id, parent_txn_id and refund_id given), amount >= 0, an
 *     upper-case currency that currency.c knows, a valid kind and
 *     status, and a parent or refund_id only when it is a refund;
 *   - the same bytes parsed again, through a JSON arena
 *     (dg_pay_parse_arena, one arena reused by every input), give the
 *     same result, message and facts, and so does the body parsed by
 *     jansson and handed to
 *     dg_pay_parse_json (when jansson takes it as an object);
 *   - a PayPal or generic fact's amount is its amount text parsed
 *     independently with the currency's exponent; a Stripe refund's is
 *     the integer the body holds when Stripe and ISO 4217 agree on the
 *     currency's decimals.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "daigou.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-payevent");
	return 0;
}

static void check_text(const char *what, const char *s, bool required)
{
	size_t len, i;

	if (!s) {
		FUZZ_CHECK(!required, "%s is NULL", what);
		return;
	}
	len = strlen(s);
	FUZZ_CHECK(len >= 1 && len <= 255, "%s of %zu bytes", what, len);
	FUZZ_CHECK(s[0] != ' ' && s[len - 1] != ' ', "%s has an edge space",
		   what);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		FUZZ_CHECK(c >= 0x20 && c != 0x7f,
			   "%s holds control character 0x%02x", what, c);
		FUZZ_CHECK(!(c == 0xc2 && i + 1 < len &&
			     (unsigned char)s[i + 1] >= 0x80 &&
			     (unsigned char)s[i + 1] <= 0x9f),
			   "%s holds a C1 control character", what);
	}
	FUZZ_CHECK(fuzz_utf8_valid(s, len), "%s is not UTF-8", what);
}

static void check_fact(const struct dg_pay_fact *f)
{
	int i;

	FUZZ_CHECK(f->kind == DG_PAY_CHARGE || f->kind == DG_PAY_REFUND,
		   "kind %d", (int)f->kind);
	FUZZ_CHECK(f->status >= DG_PAY_PENDING && f->status <= DG_PAY_REVERSED,
		   "status %d", (int)f->status);
	check_text("txn_id", f->txn_id, true);
	check_text("order_id", f->order_id, false);
	check_text("parent_txn_id", f->parent_txn_id, false);
	check_text("refund_id", f->refund_id, false);
	FUZZ_CHECK(f->amount >= 0, "amount %lld", (long long)f->amount);
	for (i = 0; i < 3; i++)
		FUZZ_CHECK(f->currency[i] >= 'A' && f->currency[i] <= 'Z',
			   "currency %.4s not upper case", f->currency);
	FUZZ_CHECK(f->currency[3] == '\0', "currency not 3 letters");
	FUZZ_CHECK(dg_currency_lookup(f->currency) != NULL,
		   "unknown currency %s", f->currency);
	if (f->kind == DG_PAY_CHARGE) {
		FUZZ_CHECK(!f->parent_txn_id, "a charge with a parent");
		FUZZ_CHECK(!f->refund_id, "a charge with a refund_id");
	}
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_same(const struct dg_pay_event *a,
		       const struct dg_pay_event *b, const char *how)
{
	size_t i;

	FUZZ_CHECK(a->gateway == b->gateway, "%s: another gateway", how);
	FUZZ_CHECK(same_text(a->event_id, b->event_id), "%s: event_id", how);
	FUZZ_CHECK(same_text(a->event_type, b->event_type), "%s: event_type",
		   how);
	FUZZ_CHECK(same_text(a->ignored, b->ignored), "%s: ignored", how);
	FUZZ_CHECK(a->nfacts == b->nfacts, "%s: %zu facts, then %zu", how,
		   a->nfacts, b->nfacts);
	for (i = 0; i < a->nfacts; i++) {
		const struct dg_pay_fact *x = &a->facts[i], *y = &b->facts[i];

		FUZZ_CHECK(
			x->kind == y->kind && x->status == y->status &&
				x->amount == y->amount &&
				!strcmp(x->currency, y->currency) &&
				same_text(x->txn_id, y->txn_id) &&
				same_text(x->order_id, y->order_id) &&
				same_text(x->parent_txn_id, y->parent_txn_id) &&
				same_text(x->refund_id, y->refund_id),
			"%s: fact %zu differs", how, i);
	}
}

/* The fact's amount against the body's own text or integer. */
static void check_amount(const char *gw, json_t *doc,
			 const struct dg_pay_event *ev)
{
	const struct dg_pay_fact *f = &ev->facts[0];
	json_t *v = NULL;
	int64_t want;
	int exp = dg_currency_exponent(f->currency);

	if (!strcmp(gw, "generic")) {
		v = json_object_get(doc, "amount");
	} else if (!strcmp(gw, "paypal")) {
		v = json_object_get(
			json_object_get(json_object_get(doc, "resource"),
					"amount"),
			"value");
	} else if (!strncmp(ev->event_type, "refund.", 7) && exp == 2 &&
		   strcmp(f->currency, "ISK") && strcmp(f->currency, "MGA")) {
		v = json_object_get(
			json_object_get(json_object_get(doc, "data"), "object"),
			"amount");
		FUZZ_CHECK(json_is_integer(v),
			   "a Stripe amount not an integer");
		FUZZ_CHECK(json_integer_value(v) == f->amount,
			   "Stripe amount %lld, fact %lld",
			   (long long)json_integer_value(v),
			   (long long)f->amount);
		return;
	} else {
		return;
	}
	FUZZ_CHECK(json_is_string(v), "the amount is not a string");
	FUZZ_CHECK(dg_amount_parse(json_string_value(v), exp, &want) == DG_M_OK,
		   "amount text %s does not parse", json_string_value(v));
	FUZZ_CHECK(want == f->amount, "amount text %s is %lld, fact %lld",
		   json_string_value(v), (long long)want, (long long)f->amount);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const gateways[] = {"stripe", "paypal", "generic"};
	static struct dg_json_arena *arena;
	struct dg_pay_event ev, again, fromjson;
	char *err = NULL, *err2 = NULL, *err3 = NULL;
	const char *gw, *body, *printed;
	json_error_t je;
	json_t *doc;
	size_t len, i, plen;
	int rc, rc2, rc3;

	if (size == 0)
		return 0;
	switch (data[0]) {
	case 's':
		gw = "stripe";
		break;
	case 'p':
		gw = "paypal";
		break;
	case 'g':
		gw = "generic";
		break;
	default:
		gw = gateways[data[0] % 3];
	}
	body = (const char *)data + 1;
	len = size - 1;

	fuzz_capture_begin();
	rc = dg_pay_parse(gw, body, len, &ev, &err);
	if (!arena)
		arena = dg_json_arena_new();
	rc2 = dg_pay_parse_arena(arena, gw, body, len, &again, &err2);
	printed = fuzz_capture_end(&plen);
	FUZZ_CHECK(plen == 0, "printed: %s", printed);
	FUZZ_CHECK(rc == 0 || rc == 65, "returned %d", rc);
	FUZZ_CHECK(rc == rc2, "returned %d, then %d", rc, rc2);
	if (rc) {
		FUZZ_CHECK(err && *err && !strchr(err, '\n'),
			   "65 without a one-line message");
		FUZZ_CHECK(!strcmp(err, err2), "another message: %s, then %s",
			   err, err2);
		FUZZ_CHECK(!ev.facts && !ev.nfacts && !ev.event_id &&
				   !ev.event_type && !ev.ignored && !ev.gateway,
			   "65 with an event that is not empty");
	} else {
		FUZZ_CHECK(!err, "0 with a message: %s", err);
		FUZZ_CHECK(ev.gateway && !strcmp(ev.gateway, gw),
			   "the event is not the gateway's");
		FUZZ_CHECK(!ev.ignored == (ev.nfacts > 0),
			   "ignored %s with %zu facts",
			   ev.ignored ? ev.ignored : "(none)", ev.nfacts);
		FUZZ_CHECK(!ev.facts == (ev.nfacts == 0), "facts and nfacts");
		check_text("event_id", ev.event_id, false);
		check_text("event_type", ev.event_type, true);
		for (i = 0; i < ev.nfacts; i++)
			check_fact(&ev.facts[i]);
		check_same(&ev, &again, "parsed twice");
	}

	/* the same object parsed first, as a JSON Lines record is; not
	 * for a body with a NUL byte, which jansson's json_loadb takes as
	 * the end of its input (dg_pay_parse refuses the byte itself) */
	doc = memchr(body, '\0', len)
		      ? NULL
		      : json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (doc && json_is_object(doc)) {
		fuzz_capture_begin();
		rc3 = dg_pay_parse_json(gw, doc, &fromjson, &err3);
		printed = fuzz_capture_end(&plen);
		FUZZ_CHECK(plen == 0, "printed: %s", printed);
		FUZZ_CHECK(rc3 == rc, "dg_pay_parse %d, dg_pay_parse_json %d",
			   rc, rc3);
		if (rc == 0) {
			check_same(&ev, &fromjson, "from JSON");
			if (ev.nfacts)
				check_amount(gw, doc, &ev);
		} else {
			FUZZ_CHECK(!strcmp(err, err3),
				   "another message: %s, then %s", err, err3);
		}
		dg_pay_event_free(&fromjson);
	} else {
		FUZZ_CHECK(rc == 65, "jansson refuses what was parsed");
	}
	json_decref(doc);
	dg_pay_event_free(&ev);
	dg_pay_event_free(&again);
	free(err);
	free(err2);
	free(err3);
	return 0;
}
