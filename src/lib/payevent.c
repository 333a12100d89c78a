/*
 * payevent.c - a payment gateway's callback body into money facts.
 *
 * A body is one JSON object (jansson, duplicate keys refused at every
 * depth), at most 32 levels deep, with no NUL byte and nothing after it
 * but white space. Anything else, and any field below that is missing,
 * of the wrong type or out of range, makes the whole body malformed
 * (65) with one message naming the field's path ("data.object.amount:
 * not an integer (a string)"). No fact of a malformed body is kept.
 *
 * Common rules
 *   - Ids (txn, parent, order, refund_id, event id): JSON strings of 1
 *     to 255 bytes, no control character (C0, DEL, C1), no leading or
 *     trailing space. An optional order or refund id given as "" is
 *     taken as absent.
 *   - Currency: three ASCII letters in any case, a code of currency.c,
 *     kept upper case.
 *   - Amounts: never negative, never a JSON number with a fraction.
 *   - The event type names the kind of fact; a type that moves no money
 *     is "ignored" (no facts, the reason names the type). The money
 *     facts come from the object itself, and its status decides the
 *     fact's status.
 *
 * Stripe (an Event object)
 *   - type (required), id (the event id, optional), data.object.
 *   - charge.succeeded, charge.captured, charge.pending, charge.failed:
 *     data.object is a charge: one charge fact keyed by its id. Status:
 *     succeeded with captured true -> completed, succeeded with captured
 *     false (an authorisation) -> pending, pending -> pending, failed ->
 *     failed. Amount: amount_captured of a captured charge (a partial
 *     capture moves less than amount), else amount.
 *   - charge.refunded: the charge fact, then one refund fact for each
 *     refund in refunds.data when the charge carries it (at most 100);
 *     a listed refund's charge, when given, must be that charge.
 *   - payment_intent.succeeded: a charge fact keyed by latest_charge (a
 *     string id, or an expanded charge object's id), or for older API
 *     versions charges.data[0].id; amount: amount_received; status
 *     completed (the intent's status must be succeeded). Order: the
 *     intent's metadata.order_id, else the expanded charge's.
 *   - refund.created, refund.updated, refund.failed,
 *     charge.refund.updated: data.object is a refund: a refund fact
 *     keyed by its re_ id, parent its charge (an id or an expanded
 *     object). Status: succeeded -> completed, pending and
 *     requires_action -> pending, failed and canceled -> failed.
 *   - Everything else (customer.created, charge.updated, disputes ...)
 *     is ignored.
 *   - Order: metadata.order_id of the object; refund_id: a refund's
 *     metadata.refund_id. A refund without metadata.order_id has none
 *     (it is linked through its charge).
 *   - Amounts are JSON integers in Stripe's minor units: 0 decimals for
 *     BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF,
 *     3 for BHD JOD KWD OMR TND, 2 for every other currency (also ISK,
 *     which ISO 4217 gives 0). They are turned into the ISO 4217 minor
 *     units of currency.c: ISK 500 is 5 ISK, MGA 1000 is 1000.00 MGA;
 *     an amount with a fraction of the ISO minor unit (ISK 550) is
 *     refused.
 *
 * PayPal (a webhook event, v2 payments resources)
 *   - event_type (required), id (WH-..., optional), resource.
 *   - PAYMENT.CAPTURE.COMPLETED, .PENDING, .DENIED, .DECLINED: the
 *     resource is a capture: a charge fact keyed by its id. Status:
 *     COMPLETED, REFUNDED, PARTIALLY_REFUNDED -> completed (the capture
 *     itself happened), PENDING -> pending, DECLINED and FAILED ->
 *     failed.
 *   - PAYMENT.CAPTURE.REFUNDED: the resource is a refund: a refund fact
 *     keyed by its id. Status: COMPLETED -> completed, PENDING ->
 *     pending, FAILED and CANCELLED -> failed.
 *   - PAYMENT.CAPTURE.REVERSED: the resource is the reversal: a refund
 *     fact keyed by its id, status reversed.
 *   - A refund's parent: the capture id, the last path segment of the
 *     href of the link with rel "up", which must end in /captures/ID;
 *     none when there is no such link.
 *   - Order: custom_id, else invoice_id, else none.
 *   - Amount: amount.value, a decimal string in major units with at
 *     most the currency's ISO 4217 decimals (amount.currency_code).
 *   - Every other event type is ignored.
 *
 * Generic (a flat object of JSON strings, no other keys)
 *   - gateway_txn_id, kind (charge | refund), order_id, amount (a
 *     decimal string in major units), currency: required.
 *   - status (pending | completed | failed | reversed; completed when
 *     absent), parent_txn_id and refund_id (a refund's only): optional,
 *     null is absent.
 *   - Any other key is refused, so that a misspelt optional key (a
 *     "parent_txn" that would lose the link) cannot pass unseen.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "daigou.h"

#define ID_MAX	    255
#define DEPTH_MAX   32
#define REFUNDS_MAX 100 /* a Stripe list holds at most 100 */

const char *dg_pay_kind_name(enum dg_pay_kind k)
{
	return k == DG_PAY_REFUND ? "refund" : "charge";
}

static const char *const status_names[] = {
	[DG_PAY_PENDING] = "pending",
	[DG_PAY_COMPLETED] = "completed",
	[DG_PAY_FAILED] = "failed",
	[DG_PAY_REVERSED] = "reversed",
};

const char *dg_pay_status_name(enum dg_pay_status s)
{
	if ((unsigned)s < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[s];
	return "unknown";
}

int dg_pay_status_parse(const char *s, enum dg_pay_status *out)
{
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (!strcmp(s, status_names[i])) {
			*out = (enum dg_pay_status)i;
			return 0;
		}
	return -1;
}

static const char *const gateways[] = {"stripe", "paypal", "generic"};

static const char *gateway_name(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(gateways) / sizeof(gateways[0]); i++)
		if (!strcmp(name, gateways[i]))
			return gateways[i];
	return NULL;
}

bool dg_pay_gateway_known(const char *name)
{
	return gateway_name(name) != NULL;
}

void dg_pay_event_free(struct dg_pay_event *ev)
{
	size_t i;

	if (!ev)
		return;
	for (i = 0; i < ev->nfacts; i++) {
		free(ev->facts[i].txn_id);
		free(ev->facts[i].order_id);
		free(ev->facts[i].parent_txn_id);
		free(ev->facts[i].refund_id);
	}
	free(ev->facts);
	free(ev->event_id);
	free(ev->event_type);
	free(ev->ignored);
	memset(ev, 0, sizeof(*ev));
}

/* ------------------------------------------------------------------ */
/* Messages and typed fields                                           */

/* *err = "path.key: message" (path or key may be NULL or ""); 65. */
static int fail(char **err, const char *path, const char *key, const char *fmt,
		...) DG_PRINTF(4, 5);
static int fail(char **err, const char *path, const char *key, const char *fmt,
		...)
{
	va_list ap;
	char *msg;
	bool p = path && *path, k = key && *key;

	va_start(ap, fmt);
	msg = dg_xvasprintf(fmt, ap);
	va_end(ap);
	if (p || k)
		*err = dg_xasprintf("%s%s%s: %s", p ? path : "",
				    p && k ? "." : "", k ? key : "", msg);
	else
		*err = dg_xstrdup(msg);
	free(msg);
	return DG_EXIT_DATAERR;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

/* A member, NULL when absent or null. */
static json_t *member(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return v && !json_is_null(v) ? v : NULL;
}

static int get_object(const json_t *obj, const char *path, const char *key,
		      json_t **out, char **err)
{
	json_t *v = member(obj, key);

	if (!v)
		return fail(err, path, key, "missing");
	if (!json_is_object(v))
		return fail(err, path, key, "not an object (%s)", type_name(v));
	*out = v;
	return 0;
}

/* A string member (NULL when absent and not required), *len its length. */
static int get_string(const json_t *obj, const char *path, const char *key,
		      bool required, const char **out, size_t *len, char **err)
{
	json_t *v = member(obj, key);

	*out = NULL;
	*len = 0;
	if (!v)
		return required ? fail(err, path, key, "missing") : 0;
	if (!json_is_string(v))
		return fail(err, path, key, "not a string (%s)", type_name(v));
	*out = json_string_value(v);
	*len = json_string_length(v);
	return 0;
}

/* Why s is not an id (or a text shown in a reason), NULL when it is. */
static const char *id_problem(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return "empty";
	if (len > ID_MAX)
		return "longer than 255 bytes";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return "holds a control character";
		/* U+0080..U+009F, the C1 controls, in UTF-8 */
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return "holds a control character";
	}
	if (s[0] == ' ' || s[len - 1] == ' ')
		return "has a leading or trailing space";
	return NULL;
}

static int check_id(const char *s, size_t len, const char *path,
		    const char *key, char **err)
{
	const char *why = id_problem(s, len);

	if (!why)
		return 0;
	if (len == 0)
		return fail(err, path, key, "%s", why);
	return fail(err, path, key, "%s %s", dg_quotedn(s, len), why);
}

/* An id member, malloc'd into *out. Optional ones: absent, null or ""
 * leave *out NULL when empty_absent. */
static int get_id(const json_t *obj, const char *path, const char *key,
		  bool required, bool empty_absent, char **out, char **err)
{
	const char *s;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = get_string(obj, path, key, required, &s, &len, err)))
		return rc;
	if (!s || (len == 0 && empty_absent && !required))
		return 0;
	if ((rc = check_id(s, len, path, key, err)))
		return rc;
	*out = dg_xstrndup(s, len);
	return 0;
}

static int get_currency(const json_t *obj, const char *path, const char *key,
			char out[4], char **err)
{
	const char *s;
	size_t len, i;
	int rc;

	if ((rc = get_string(obj, path, key, true, &s, &len, err)))
		return rc;
	for (i = 0; i < len && i < 3; i++) {
		char c = s[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c < 'A' || c > 'Z')
			break;
		out[i] = c;
	}
	if (len != 3 || i != 3)
		return fail(err, path, key, "%s is not a currency code",
			    dg_quotedn(s, len));
	out[3] = '\0';
	if (!dg_currency_lookup(out))
		return fail(err, path, key, "unknown currency %s",
			    dg_quotedn(s, len));
	return 0;
}

/* A decimal string in major units with the currency's decimals, >= 0. */
static int get_decimal(const json_t *obj, const char *path, const char *key,
		       const char *currency, int64_t *out, char **err)
{
	const char *s;
	size_t len;
	enum dg_merr e;
	int rc;

	if ((rc = get_string(obj, path, key, true, &s, &len, err)))
		return rc;
	if (len > 0 && s[0] == '-')
		return fail(err, path, key, "%s is negative",
			    dg_quotedn(s, len));
	if (strlen(s) != len)
		return fail(err, path, key, "%s is not a plain decimal",
			    dg_quotedn(s, len));
	e = dg_amount_parse(s, dg_currency_exponent(currency), out);
	if (e == DG_M_PRECISION)
		return fail(err, path, key,
			    "%s has more than %d decimals for %s",
			    dg_quotedn(s, len), dg_currency_exponent(currency),
			    currency);
	if (e == DG_M_OVERFLOW)
		return fail(err, path, key, "%s is too large",
			    dg_quotedn(s, len));
	if (e)
		return fail(err, path, key, "%s %s", dg_quotedn(s, len),
			    dg_merr_str(e));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Stripe                                                              */

/* Decimals of Stripe's integer amounts (its "smallest currency unit",
 * which is not always ISO 4217's: ISK, MGA). */
static int stripe_exponent(const char *currency)
{
	static const char zero[] = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF "
				   "UGX VND VUV XAF XOF XPF";
	static const char three[] = "BHD JOD KWD OMR TND";

	if (strstr(zero, currency))
		return 0;
	if (strstr(three, currency))
		return 3;
	return 2;
}

/* An integer amount of Stripe's minor units into ISO 4217 minor units. */
static int stripe_amount(const json_t *obj, const char *path, const char *key,
			 const char *currency, int64_t *out, char **err)
{
	json_t *v = member(obj, key);
	int sexp = stripe_exponent(currency);
	int iexp = dg_currency_exponent(currency);
	json_int_t n;
	int64_t a;

	if (!v)
		return fail(err, path, key, "missing");
	if (!json_is_integer(v))
		return fail(err, path, key, "not an integer (%s)",
			    type_name(v));
	n = json_integer_value(v);
	if (n < 0)
		return fail(err, path, key, "%lld is negative", (long long)n);
	a = (int64_t)n;
	for (; sexp > iexp; sexp--) {
		if (a % 10)
			return fail(err, path, key,
				    "%lld has a fraction of the smallest unit "
				    "of %s (Stripe counts it with %d decimals, "
				    "ISO 4217 with %d)",
				    (long long)n, currency,
				    stripe_exponent(currency), iexp);
		a /= 10;
	}
	for (; sexp < iexp; sexp++) {
		if (a > INT64_MAX / 10)
			return fail(err, path, key, "%lld is too large",
				    (long long)n);
		a *= 10;
	}
	*out = a;
	return 0;
}

/* The "object" member, when given, names what the object must be. */
static int check_object_kind(const json_t *obj, const char *path,
			     const char *want, char **err)
{
	const char *s;
	size_t len;
	int rc;

	if ((rc = get_string(obj, path, "object", false, &s, &len, err)))
		return rc;
	if (s && strcmp(s, want))
		return fail(err, path, "object", "%s where %s %s was expected",
			    dg_quotedn(s, len),
			    strchr("aeiou", want[0]) ? "an" : "a", want);
	return 0;
}

/* metadata.KEY of a Stripe object: an id, or NULL when absent. */
static int stripe_meta(const json_t *obj, const char *path, const char *key,
		       char **out, char **err)
{
	json_t *md = member(obj, "metadata");
	char *mpath;
	int rc;

	*out = NULL;
	if (!md)
		return 0;
	if (!json_is_object(md))
		return fail(err, path, "metadata", "not an object (%s)",
			    type_name(md));
	mpath = *path ? dg_xasprintf("%s.metadata", path)
		      : dg_xstrdup("metadata");
	rc = get_id(md, mpath, key, false, true, out, err);
	free(mpath);
	return rc;
}

/* An id, or an expanded object's id (path.key.id). */
static int stripe_ref(const json_t *obj, const char *path, const char *key,
		      char **out, json_t **expanded, char **err)
{
	json_t *v = member(obj, key);
	char *sub;
	int rc;

	*out = NULL;
	if (expanded)
		*expanded = NULL;
	if (!v)
		return 0;
	if (json_is_string(v))
		return get_id(obj, path, key, true, false, out, err);
	if (!json_is_object(v))
		return fail(err, path, key, "not an id or an object (%s)",
			    type_name(v));
	sub = *path ? dg_xasprintf("%s.%s", path, key) : dg_xstrdup(key);
	rc = get_id(v, sub, "id", true, false, out, err);
	free(sub);
	if (!rc && expanded)
		*expanded = v;
	return rc;
}

static int stripe_charge(const json_t *ch, const char *path,
			 struct dg_pay_fact *f, char **err)
{
	const char *status;
	size_t len;
	json_t *captured;
	const char *amount_key = "amount";
	int rc;

	f->kind = DG_PAY_CHARGE;
	if ((rc = check_object_kind(ch, path, "charge", err)) ||
	    (rc = get_id(ch, path, "id", true, false, &f->txn_id, err)) ||
	    (rc = get_currency(ch, path, "currency", f->currency, err)) ||
	    (rc = get_string(ch, path, "status", true, &status, &len, err)))
		return rc;
	if (!strcmp(status, "succeeded")) {
		captured = member(ch, "captured");
		if (!captured)
			return fail(err, path, "captured", "missing");
		if (!json_is_boolean(captured))
			return fail(err, path, "captured", "not a boolean (%s)",
				    type_name(captured));
		if (json_is_true(captured)) {
			f->status = DG_PAY_COMPLETED;
			if (member(ch, "amount_captured"))
				amount_key = "amount_captured";
		} else {
			f->status = DG_PAY_PENDING;
		}
	} else if (!strcmp(status, "pending")) {
		f->status = DG_PAY_PENDING;
	} else if (!strcmp(status, "failed")) {
		f->status = DG_PAY_FAILED;
	} else {
		return fail(err, path, "status", "unknown charge status %s",
			    dg_quotedn(status, len));
	}
	if ((rc = stripe_amount(ch, path, amount_key, f->currency, &f->amount,
				err)))
		return rc;
	return stripe_meta(ch, path, "order_id", &f->order_id, err);
}

/* charge_id: the charge a refund is listed under, or NULL. */
static int stripe_refund(const json_t *re, const char *path,
			 const char *charge_id, struct dg_pay_fact *f,
			 char **err)
{
	const char *status;
	size_t len;
	int rc;

	f->kind = DG_PAY_REFUND;
	if ((rc = check_object_kind(re, path, "refund", err)) ||
	    (rc = get_id(re, path, "id", true, false, &f->txn_id, err)) ||
	    (rc = get_currency(re, path, "currency", f->currency, err)) ||
	    (rc = stripe_amount(re, path, "amount", f->currency, &f->amount,
				err)) ||
	    (rc = get_string(re, path, "status", true, &status, &len, err)))
		return rc;
	if (!strcmp(status, "succeeded"))
		f->status = DG_PAY_COMPLETED;
	else if (!strcmp(status, "pending") ||
		 !strcmp(status, "requires_action"))
		f->status = DG_PAY_PENDING;
	else if (!strcmp(status, "failed") || !strcmp(status, "canceled"))
		f->status = DG_PAY_FAILED;
	else
		return fail(err, path, "status", "unknown refund status %s",
			    dg_quotedn(status, len));
	if ((rc = stripe_ref(re, path, "charge", &f->parent_txn_id, NULL, err)))
		return rc;
	if (charge_id && !f->parent_txn_id)
		f->parent_txn_id = dg_xstrdup(charge_id);
	else if (charge_id && strcmp(charge_id, f->parent_txn_id))
		return fail(err, path, "charge",
			    "%s is not the charge %s it is listed under",
			    dg_quoted(f->parent_txn_id), dg_quoted(charge_id));
	if ((rc = stripe_meta(re, path, "order_id", &f->order_id, err)))
		return rc;
	return stripe_meta(re, path, "refund_id", &f->refund_id, err);
}

static int stripe_intent(const json_t *pi, const char *path,
			 struct dg_pay_fact *f, char **err)
{
	const char *status;
	json_t *charge = NULL, *charges, *data, *first;
	char *sub;
	size_t len;
	int rc;

	f->kind = DG_PAY_CHARGE;
	f->status = DG_PAY_COMPLETED;
	if ((rc = check_object_kind(pi, path, "payment_intent", err)) ||
	    (rc = get_string(pi, path, "status", true, &status, &len, err)))
		return rc;
	if (strcmp(status, "succeeded"))
		return fail(err, path, "status",
			    "%s in a payment_intent.succeeded event",
			    dg_quotedn(status, len));
	if ((rc = get_currency(pi, path, "currency", f->currency, err)) ||
	    (rc = stripe_amount(pi, path, "amount_received", f->currency,
				&f->amount, err)) ||
	    (rc = stripe_ref(pi, path, "latest_charge", &f->txn_id, &charge,
			     err)))
		return rc;
	if (!f->txn_id) {
		/* API versions before 2022-11-15: the charges list */
		charges = member(pi, "charges");
		if (!charges)
			return fail(err, path, "latest_charge", "missing");
		if (!json_is_object(charges))
			return fail(err, path, "charges", "not an object (%s)",
				    type_name(charges));
		data = member(charges, "data");
		if (!data || !json_is_array(data))
			return fail(err, path, "charges.data",
				    data ? "not an array" : "missing");
		first = json_array_get(data, 0);
		if (!first)
			return fail(err, path, "charges.data",
				    "empty: no charge");
		if (!json_is_object(first))
			return fail(err, path, "charges.data[0]",
				    "not an object (%s)", type_name(first));
		sub = dg_xasprintf("%s.charges.data[0]", path);
		rc = get_id(first, sub, "id", true, false, &f->txn_id, err);
		free(sub);
		if (rc)
			return rc;
		charge = first;
	}
	if ((rc = stripe_meta(pi, path, "order_id", &f->order_id, err)))
		return rc;
	if (!f->order_id && charge) {
		sub = member(pi, "latest_charge")
			      ? dg_xasprintf("%s.latest_charge", path)
			      : dg_xasprintf("%s.charges.data[0]", path);
		rc = stripe_meta(charge, sub, "order_id", &f->order_id, err);
		free(sub);
	}
	return rc;
}

static bool type_is(const char *type, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(type, *list))
			return true;
	return false;
}

/* charge.refunded: the charge, then the refunds it lists. */
static int stripe_refunded(const json_t *ch, struct dg_pay_event *ev,
			   char **err)
{
	json_t *refunds, *data, *re;
	char *path;
	size_t i, n = 0;
	int rc;

	refunds = member(ch, "refunds");
	data = NULL;
	if (refunds) {
		if (!json_is_object(refunds))
			return fail(err, "data.object", "refunds",
				    "not an object (%s)", type_name(refunds));
		data = member(refunds, "data");
		if (data && !json_is_array(data))
			return fail(err, "data.object", "refunds.data",
				    "not an array (%s)", type_name(data));
		n = data ? json_array_size(data) : 0;
		if (n > REFUNDS_MAX)
			return fail(err, "data.object", "refunds.data",
				    "more than %d refunds", REFUNDS_MAX);
	}
	ev->facts = dg_xcalloc(n + 1, sizeof(*ev->facts));
	ev->nfacts = 1;
	if ((rc = stripe_charge(ch, "data.object", &ev->facts[0], err)))
		return rc;
	for (i = 0; i < n; i++) {
		re = json_array_get(data, i);
		path = dg_xasprintf("data.object.refunds.data[%zu]", i);
		ev->nfacts++;
		if (!json_is_object(re))
			rc = fail(err, path, NULL, "not an object (%s)",
				  type_name(re));
		else
			rc = stripe_refund(re, path, ev->facts[0].txn_id,
					   &ev->facts[i + 1], err);
		free(path);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_stripe(const json_t *doc, struct dg_pay_event *ev, char **err)
{
	static const char *const charges[] = {
		"charge.succeeded", "charge.captured", "charge.pending",
		"charge.failed", NULL};
	static const char *const refunds[] = {"refund.created",
					      "refund.updated", "refund.failed",
					      "charge.refund.updated", NULL};
	json_t *data, *obj;
	int rc;

	if ((rc = get_id(doc, NULL, "id", false, false, &ev->event_id, err)) ||
	    (rc = get_id(doc, NULL, "type", true, false, &ev->event_type,
			 err)) ||
	    (rc = get_object(doc, NULL, "data", &data, err)) ||
	    (rc = get_object(data, "data", "object", &obj, err)))
		return rc;
	if (type_is(ev->event_type, charges) ||
	    !strcmp(ev->event_type, "payment_intent.succeeded") ||
	    type_is(ev->event_type, refunds)) {
		ev->facts = dg_xcalloc(1, sizeof(*ev->facts));
		ev->nfacts = 1;
	}
	if (type_is(ev->event_type, charges))
		return stripe_charge(obj, "data.object", ev->facts, err);
	if (!strcmp(ev->event_type, "payment_intent.succeeded"))
		return stripe_intent(obj, "data.object", ev->facts, err);
	if (type_is(ev->event_type, refunds))
		return stripe_refund(obj, "data.object", NULL, ev->facts, err);
	if (!strcmp(ev->event_type, "charge.refunded"))
		return stripe_refunded(obj, ev, err);
	return 1;
}

/* ------------------------------------------------------------------ */
/* PayPal                                                              */

static int paypal_amount(const json_t *res, struct dg_pay_fact *f, char **err)
{
	json_t *amount;
	int rc;

	if ((rc = get_object(res, "resource", "amount", &amount, err)) ||
	    (rc = get_currency(amount, "resource.amount", "currency_code",
			       f->currency, err)))
		return rc;
	return get_decimal(amount, "resource.amount", "value", f->currency,
			   &f->amount, err);
}

static int paypal_order(const json_t *res, struct dg_pay_fact *f, char **err)
{
	int rc;

	if ((rc = get_id(res, "resource", "custom_id", false, true,
			 &f->order_id, err)))
		return rc;
	if (f->order_id)
		return 0;
	return get_id(res, "resource", "invoice_id", false, true, &f->order_id,
		      err);
}

/* The capture id of the link with rel "up": .../captures/ID. */
static int paypal_up(const json_t *res, struct dg_pay_fact *f, char **err)
{
	json_t *links = member(res, "links"), *link;
	const char *rel, *href, *end, *seg, *prev;
	char path[64];
	size_t i, rlen, hlen;
	int rc;

	if (!links)
		return 0;
	if (!json_is_array(links))
		return fail(err, "resource", "links", "not an array (%s)",
			    type_name(links));
	json_array_foreach(links, i, link)
	{
		dg_xsnprintf(path, sizeof(path), "resource.links[%zu]", i);
		if (!json_is_object(link))
			return fail(err, path, NULL, "not an object (%s)",
				    type_name(link));
		if ((rc = get_string(link, path, "rel", false, &rel, &rlen,
				     err)))
			return rc;
		if (!rel || strcmp(rel, "up"))
			continue;
		if ((rc = get_string(link, path, "href", true, &href, &hlen,
				     err)))
			return rc;
		end = href + strcspn(href, "?#");
		while (end > href && end[-1] == '/')
			end--;
		for (seg = end; seg > href && seg[-1] != '/'; seg--)
			;
		for (prev = seg > href ? seg - 1 : seg;
		     prev > href && prev[-1] != '/'; prev--)
			;
		if (seg == href || seg - prev != 9 ||
		    memcmp(prev, "captures/", 9))
			return fail(err, path, "href",
				    "%s is not the link of a capture",
				    dg_quotedn(href, hlen));
		if ((rc = check_id(seg, (size_t)(end - seg), path, "href",
				   err)))
			return rc;
		f->parent_txn_id = dg_xstrndup(seg, (size_t)(end - seg));
		return 0;
	}
	return 0;
}

struct status_map {
	const char *name;
	enum dg_pay_status status;
};

static int map_status(const json_t *obj, const char *path,
		      const struct status_map *map, const char *what,
		      enum dg_pay_status *out, char **err)
{
	const char *s;
	size_t len;
	int rc;

	if ((rc = get_string(obj, path, "status", true, &s, &len, err)))
		return rc;
	for (; map->name; map++)
		if (!strcmp(s, map->name)) {
			*out = map->status;
			return 0;
		}
	return fail(err, path, "status", "unknown %s status %s", what,
		    dg_quotedn(s, len));
}

static int parse_paypal(const json_t *doc, struct dg_pay_event *ev, char **err)
{
	static const char *const captures[] = {
		"PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.PENDING",
		"PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED", NULL};
	static const struct status_map capture_status[] = {
		{"COMPLETED", DG_PAY_COMPLETED},
		{"REFUNDED", DG_PAY_COMPLETED},
		{"PARTIALLY_REFUNDED", DG_PAY_COMPLETED},
		{"PENDING", DG_PAY_PENDING},
		{"DECLINED", DG_PAY_FAILED},
		{"FAILED", DG_PAY_FAILED},
		{NULL, DG_PAY_PENDING}};
	static const struct status_map refund_status[] = {
		{"COMPLETED", DG_PAY_COMPLETED},
		{"PENDING", DG_PAY_PENDING},
		{"FAILED", DG_PAY_FAILED},
		{"CANCELLED", DG_PAY_FAILED},
		{NULL, DG_PAY_PENDING}};
	struct dg_pay_fact *f;
	bool capture, refund, reversal;
	json_t *res;
	int rc;

	if ((rc = get_id(doc, NULL, "id", false, false, &ev->event_id, err)) ||
	    (rc = get_id(doc, NULL, "event_type", true, false, &ev->event_type,
			 err)))
		return rc;
	capture = type_is(ev->event_type, captures);
	refund = !strcmp(ev->event_type, "PAYMENT.CAPTURE.REFUNDED");
	reversal = !strcmp(ev->event_type, "PAYMENT.CAPTURE.REVERSED");
	if (!capture && !refund && !reversal)
		return 1;
	if ((rc = get_object(doc, NULL, "resource", &res, err)))
		return rc;
	ev->facts = f = dg_xcalloc(1, sizeof(*ev->facts));
	ev->nfacts = 1;
	f->kind = capture ? DG_PAY_CHARGE : DG_PAY_REFUND;
	if ((rc = get_id(res, "resource", "id", true, false, &f->txn_id,
			 err)) ||
	    (rc = paypal_amount(res, f, err)) ||
	    (rc = map_status(
		     res, "resource", capture ? capture_status : refund_status,
		     capture ? "capture" : "refund", &f->status, err)) ||
	    (rc = paypal_order(res, f, err)))
		return rc;
	if (reversal)
		f->status = DG_PAY_REVERSED;
	return capture ? 0 : paypal_up(res, f, err);
}

/* ------------------------------------------------------------------ */
/* Generic                                                             */

static int parse_generic(const json_t *doc, struct dg_pay_event *ev, char **err)
{
	static const char *const keys[] = {
		"gateway_txn_id", "kind",      "order_id", "amount", "currency",
		"parent_txn_id",  "refund_id", "status",   NULL};
	struct dg_pay_fact *f;
	const char *key, *s;
	json_t *v;
	size_t len;
	int rc;

	json_object_foreach((json_t *)doc, key, v)
	{
		if (!type_is(key, keys))
			return fail(err, NULL, NULL, "%s: unknown field",
				    dg_quoted(key));
		if (!json_is_string(v) && !json_is_null(v))
			return fail(err, NULL, key, "not a string (%s)",
				    type_name(v));
	}
	ev->facts = f = dg_xcalloc(1, sizeof(*ev->facts));
	ev->nfacts = 1;
	if ((rc = get_id(doc, NULL, "gateway_txn_id", true, false, &f->txn_id,
			 err)) ||
	    (rc = get_string(doc, NULL, "kind", true, &s, &len, err)))
		return rc;
	if (!strcmp(s, "charge"))
		f->kind = DG_PAY_CHARGE;
	else if (!strcmp(s, "refund"))
		f->kind = DG_PAY_REFUND;
	else
		return fail(err, NULL, "kind", "%s is not charge or refund",
			    dg_quotedn(s, len));
	ev->event_type = dg_xstrdup(s);
	if ((rc = get_id(doc, NULL, "order_id", true, false, &f->order_id,
			 err)) ||
	    (rc = get_currency(doc, NULL, "currency", f->currency, err)) ||
	    (rc = get_decimal(doc, NULL, "amount", f->currency, &f->amount,
			      err)) ||
	    (rc = get_id(doc, NULL, "parent_txn_id", false, false,
			 &f->parent_txn_id, err)) ||
	    (rc = get_id(doc, NULL, "refund_id", false, false, &f->refund_id,
			 err)) ||
	    (rc = get_string(doc, NULL, "status", false, &s, &len, err)))
		return rc;
	f->status = DG_PAY_COMPLETED;
	if (s && (strlen(s) != len || dg_pay_status_parse(s, &f->status)))
		return fail(err, NULL, "status",
			    "%s is not pending, completed, failed or reversed",
			    dg_quotedn(s, len));
	if (f->kind == DG_PAY_CHARGE && f->parent_txn_id)
		return fail(err, NULL, "parent_txn_id",
			    "given for a charge: only a refund has a parent");
	if (f->kind == DG_PAY_CHARGE && f->refund_id)
		return fail(err, NULL, "refund_id",
			    "given for a charge: only a refund has one");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */

/* v, at depth (the body's object is 1), or a value in it lies deeper
 * than DEPTH_MAX; the walk stops there. */
static bool too_deep(const json_t *v, int depth)
{
	const char *key;
	json_t *x;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return false;
	if (depth > DEPTH_MAX)
		return true;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, x)
		{
			if (too_deep(x, depth + 1))
				return true;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			if (too_deep(x, depth + 1))
				return true;
		}
	}
	return false;
}

int dg_pay_parse_json(const char *gateway, json_t *obj, struct dg_pay_event *ev,
		      char **err)
{
	const char *gw = gateway_name(gateway);
	int rc;

	memset(ev, 0, sizeof(*ev));
	*err = NULL;
	if (!gw) {
		*err = dg_xasprintf("unknown gateway %s", dg_quoted(gateway));
		return DG_EXIT_USAGE;
	}
	if (!json_is_object(obj))
		return fail(err, NULL, NULL, "not a JSON object");
	if (too_deep(obj, 1))
		return fail(err, NULL, NULL, "nesting deeper than %d levels",
			    DEPTH_MAX);
	ev->gateway = gw;
	if (!strcmp(gw, "stripe"))
		rc = parse_stripe(obj, ev, err);
	else if (!strcmp(gw, "paypal"))
		rc = parse_paypal(obj, ev, err);
	else
		rc = parse_generic(obj, ev, err);
	if (rc == 1) { /* a type that moves no money */
		ev->ignored = dg_xasprintf("event type %s moves no money",
					   dg_quoted(ev->event_type));
		rc = 0;
	}
	if (rc) {
		dg_pay_event_free(ev);
		return rc;
	}
	return 0;
}

int dg_pay_parse(const char *gateway, const char *body, size_t len,
		 struct dg_pay_event *ev, char **err)
{
	return dg_pay_parse_arena(NULL, gateway, body, len, ev, err);
}

int dg_pay_parse_arena(struct dg_json_arena *arena, const char *gateway,
		       const char *body, size_t len, struct dg_pay_event *ev,
		       char **err)
{
	const char *nul;
	json_error_t je;
	json_t *doc;
	size_t i;
	int rc;

	memset(ev, 0, sizeof(*ev));
	*err = NULL;
	if (!gateway_name(gateway))
		return dg_pay_parse_json(gateway, NULL, ev, err);
	if ((nul = memchr(body, '\0', len)))
		return fail(err, NULL, NULL, "a NUL byte at offset %zu",
			    (size_t)(nul - body));
	for (i = 0; i < len && strchr(" \t\r\n", body[i]); i++)
		;
	if (i == len)
		return fail(err, NULL, NULL, "empty body");
	doc = arena ? dg_json_arena_loadb(arena, body, len,
					  JSON_REJECT_DUPLICATES, &je)
		    : json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		rc = fail(err, NULL, NULL,
			  "invalid JSON at line %d, column %d: %s", je.line,
			  je.column, dg_escaped(je.text, 200));
	else
		rc = dg_pay_parse_json(gateway, doc, ev, err);
	/* the facts are copies: the document goes whole */
	if (arena)
		dg_json_arena_reset(arena);
	else
		json_decref(doc);
	return rc;
}
