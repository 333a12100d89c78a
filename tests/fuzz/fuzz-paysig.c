/*
 * fuzz-paysig.c - the Stripe-Signature and X-Signature verifiers
 * (paysig.c) against libcrypto's one-shot HMAC().
 *
 * Input: one byte picking a body position, then the header text up to
 * the first NUL, then the body (the rest, any bytes). Properties:
 *   - the fuzzed header gives a verdict in the enum, never "error" (a
 *     secret and a tolerance are given), a reason exactly when not ok,
 *     on one line of printable ASCII (untrusted text quoted), and "ok"
 *     only when the header carries the body's real HMAC;
 *   - a header built from the HMAC of the body verifies ok, also with
 *     a wrong v1 and a v0 before it and blanks around its items, and is
 *     stale 301 s later or earlier;
 *   - changing one byte of the body (at the picked position, and at
 *     every position of a short body) makes it a mismatch;
 *   - the same for the generic "sha256=<hex>" header.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>

#include "fuzz.h"

#include "daigou.h"

#define NOW	  1780000000
#define TOLERANCE 300

static const unsigned char secret[] = "whsec_fuzz_secret";
#define SECRET_LEN (sizeof(secret) - 1)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-paysig");
	return 0;
}

/* HMAC-SHA256 of prefix || body, in lower-case hex. */
static void hmac_hex(const char *prefix, const uint8_t *body, size_t len,
		     char hex[65])
{
	size_t plen = strlen(prefix);
	unsigned char *msg = malloc(plen + len + 1), mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, i;

	FUZZ_CHECK(msg != NULL, "out of memory");
	memcpy(msg, prefix, plen);
	if (len)
		memcpy(msg + plen, body, len);
	FUZZ_CHECK(HMAC(EVP_sha256(), secret, (int)SECRET_LEN, msg, plen + len,
			mac, &maclen) &&
			   maclen == 32,
		   "HMAC() failed");
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	free(msg);
}

static void check_why(enum dg_sig s, const char *why, const char *what)
{
	const char *p;

	FUZZ_CHECK(s >= DG_SIG_OK && s <= DG_SIG_ERROR, "%s: verdict %d", what,
		   (int)s);
	FUZZ_CHECK(s != DG_SIG_ERROR, "%s: error: %s", what, why ? why : "");
	FUZZ_CHECK((s == DG_SIG_OK) == (why == NULL), "%s: %s with reason %s",
		   what, dg_sig_name(s), why ? why : "(none)");
	for (p = why; p && *p; p++)
		FUZZ_CHECK(*p >= ' ' && *p <= '~',
			   "%s: reason has byte 0x%02x: %s", what,
			   (unsigned char)*p, why);
}

/* The verdict for header over body (len bytes) at now. */
static enum dg_sig stripe(const char *header, const char *body, size_t len,
			  dg_time now)
{
	char *why = NULL;
	enum dg_sig s = dg_sig_stripe(header, secret, SECRET_LEN, body, len,
				      now, TOLERANCE, &why);

	check_why(s, why, "stripe");
	free(why);
	return s;
}

static enum dg_sig generic(const char *header, const char *body, size_t len)
{
	char *why = NULL;
	enum dg_sig s =
		dg_sig_generic(header, secret, SECRET_LEN, body, len, &why);

	check_why(s, why, "generic");
	free(why);
	return s;
}

/* The body with byte i changed. */
static void flip_checks(const char *stripe_header, const char *generic_header,
			char *body, size_t len, size_t i)
{
	body[i] ^= 0x01;
	FUZZ_CHECK(stripe(stripe_header, body, len, NOW) == DG_SIG_MISMATCH,
		   "stripe: body byte %zu changed, still not a mismatch", i);
	FUZZ_CHECK(generic(generic_header, body, len) == DG_SIG_MISMATCH,
		   "generic: body byte %zu changed, still not a mismatch", i);
	body[i] ^= 0x01;
}

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char hex[65], ghex[65], *header, *body, *good, *decorated, *gen;
	const uint8_t *nul;
	size_t hlen, len, i;
	enum dg_sig s;
	uint8_t pick;

	if (size < 1)
		return 0;
	pick = data[0];
	data++;
	size--;
	nul = memchr(data, '\0', size);
	hlen = nul ? (size_t)(nul - data) : size;
	header = fuzz_strndup(data, hlen);
	len = nul ? size - hlen - 1 : 0;
	body = malloc(len + 1);
	FUZZ_CHECK(body != NULL, "out of memory");
	if (len)
		memcpy(body, nul + 1, len);

	hmac_hex("1780000000.", (const uint8_t *)body, len, hex);
	hmac_hex("", (const uint8_t *)body, len, ghex);

	/* the fuzzed headers */
	s = stripe(header, body, len, NOW);
	FUZZ_CHECK(s != DG_SIG_OK || contains_nocase(header, hex),
		   "stripe: ok without the body's HMAC: %s", header);
	s = generic(header, body, len);
	FUZZ_CHECK(s != DG_SIG_OK || contains_nocase(header, ghex),
		   "generic: ok without the body's HMAC: %s", header);

	/* headers made from the body's HMAC */
	good = dg_xasprintf("t=1780000000,v1=%s", hex);
	decorated = dg_xasprintf(" v0=%s , t=1780000000,\tv1=%064x, v1=%s ",
				 hex, 0, hex);
	gen = dg_xasprintf("sha256=%s", ghex);
	FUZZ_CHECK(stripe(good, body, len, NOW) == DG_SIG_OK,
		   "stripe: the body's HMAC does not verify: %s", good);
	FUZZ_CHECK(stripe(decorated, body, len, NOW - TOLERANCE) == DG_SIG_OK,
		   "stripe: the body's HMAC among others does not verify: %s",
		   decorated);
	FUZZ_CHECK(stripe(good, body, len, NOW + TOLERANCE + 1) == DG_SIG_STALE,
		   "stripe: not stale after the tolerance");
	FUZZ_CHECK(stripe(good, body, len, NOW - TOLERANCE - 1) == DG_SIG_STALE,
		   "stripe: not stale before the tolerance");
	FUZZ_CHECK(generic(gen, body, len) == DG_SIG_OK,
		   "generic: the body's HMAC does not verify: %s", gen);

	if (len) {
		flip_checks(good, gen, body, len, pick % len);
		if (len <= 64)
			for (i = 0; i < len; i++)
				flip_checks(good, gen, body, len, i);
		/* one byte less */
		FUZZ_CHECK(stripe(good, body, len - 1, NOW) == DG_SIG_MISMATCH,
			   "stripe: a shorter body still verifies");
	}

	free(gen);
	free(decorated);
	free(good);
	free(body);
	free(header);
	return 0;
}
