/*
 * check_paysig: callback signatures (Stripe, generic, PayPal), the
 * PayPal certificate URL rule, CRC-32 and the webhook secret.
 *
 * The Stripe and generic expected values were computed outside this
 * code with python3's hmac module and are pasted as constants:
 *   hmac.new(b"whsec_test_secret", b"1780000000." + BODY,
 *            hashlib.sha256).hexdigest()
 * and the same with b"whsec_old_secret" (a rotated-out secret) and with
 * BODY's byte 5 xor 1. The CRC-32 values are zlib.crc32's. The PayPal
 * key and certificate are made at test time with libcrypto.
 */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"
#include "../helper/testkey.h"

static const unsigned char secret[] = "whsec_test_secret";
#define SECRET_LEN (sizeof(secret) - 1)
static const char body[] =
	"{\n  \"id\": \"evt_1\",\n  \"type\": \"charge.succeeded\"\n}\n";
#define BODY_LEN (sizeof(body) - 1)
#define T0	 1780000000
#define GOOD	 "2811ed0648793f6c42fe8a318403fc55225c89cebdf9dea3cba6408fbdfbbe3f"
#define OLD	 "57379a97d629d6a7cea966e3d0a9a337ae8ba17950ebb8c99048a5827b59b96c"
/* the HMAC of body with byte 5 flipped */
#define CHANGED                                                                \
	"01d82b7bdbf3e65331a8c85295de9747586001a4f6cd6c9111e0068cd026b076"

static enum dg_sig stripe_at(const char *header, const char *b, size_t len,
			     dg_time now, char **why)
{
	return dg_sig_stripe(header, secret, SECRET_LEN, b, len, now, 300, why);
}

/* The verdict, and a why exactly when not ok, on one line. */
static enum dg_sig stripe(const char *header, dg_time now, char **why)
{
	enum dg_sig s = stripe_at(header, body, BODY_LEN, now, why);

	if (s == DG_SIG_OK)
		ck_assert_ptr_null(*why);
	else {
		ck_assert_ptr_nonnull(*why);
		ck_assert_ptr_null(strchr(*why, '\n'));
	}
	return s;
}

#define ASSERT_STRIPE(header, now, want)                                       \
	do {                                                                   \
		char *why_;                                                    \
		ck_assert_str_eq(dg_sig_name(stripe(header, now, &why_)),      \
				 dg_sig_name(want));                           \
		free(why_);                                                    \
	} while (0)

START_TEST(test_sig_names)
{
	ck_assert_str_eq(dg_sig_name(DG_SIG_OK), "ok");
	ck_assert_str_eq(dg_sig_name(DG_SIG_MISSING), "missing");
	ck_assert_str_eq(dg_sig_name(DG_SIG_MALFORMED), "malformed");
	ck_assert_str_eq(dg_sig_name(DG_SIG_MISMATCH), "mismatch");
	ck_assert_str_eq(dg_sig_name(DG_SIG_STALE), "stale");
	ck_assert_str_eq(dg_sig_name(DG_SIG_ERROR), "error");
}
END_TEST

START_TEST(test_stripe_good)
{
	ASSERT_STRIPE("t=1780000000,v1=" GOOD, T0, DG_SIG_OK);
	ASSERT_STRIPE("t=1780000000,v1=" GOOD, T0 + 42, DG_SIG_OK);
	/* hex in upper case is the same bytes */
	ASSERT_STRIPE("t=1780000000,v1="
		      "2811ED0648793F6C42FE8A318403FC55225C89CEBDF9DEA3CBA6408F"
		      "BDFBBE3F",
		      T0, DG_SIG_OK);
	/* blanks around items, as Stripe's libraries allow */
	ASSERT_STRIPE("t=1780000000, v1=" GOOD, T0, DG_SIG_OK);
	ASSERT_STRIPE(" t=1780000000 ,\tv1=" GOOD " ", T0, DG_SIG_OK);
	/* v1 before t, other schemes ignored */
	ASSERT_STRIPE("v1=" GOOD ",t=1780000000,v0=" OLD, T0, DG_SIG_OK);
}
END_TEST

START_TEST(test_stripe_bad)
{
	char *why;

	ck_assert_int_eq(stripe("t=1780000000,v1=" OLD, T0, &why),
			 DG_SIG_MISMATCH);
	ck_assert_str_eq(why, "Stripe-Signature: no v1 signature matches the "
			      "body");
	free(why);
	/* the signature of a later time */
	ASSERT_STRIPE("t=1780000001,v1=" GOOD, T0, DG_SIG_MISMATCH);
	/* a stale and forged header is a mismatch: the time is only
	 * checked once the signature matched */
	ASSERT_STRIPE("t=1780000000,v1=" OLD, T0 + 301, DG_SIG_MISMATCH);
}
END_TEST

START_TEST(test_stripe_stale_both_directions)
{
	char *why;

	ASSERT_STRIPE("t=1780000000,v1=" GOOD, T0 + 300, DG_SIG_OK);
	ASSERT_STRIPE("t=1780000000,v1=" GOOD, T0 - 300, DG_SIG_OK);
	ck_assert_int_eq(stripe("t=1780000000,v1=" GOOD, T0 + 301, &why),
			 DG_SIG_STALE);
	ck_assert_str_eq(why, "Stripe-Signature: timestamp 1780000000 is old, "
			      "outside the tolerance of 300 s");
	free(why);
	ck_assert_int_eq(stripe("t=1780000000,v1=" GOOD, T0 - 301, &why),
			 DG_SIG_STALE);
	ck_assert_str_eq(why, "Stripe-Signature: timestamp 1780000000 is in "
			      "the future, outside the tolerance of 300 s");
	free(why);
	/* far clocks overflow nothing */
	ASSERT_STRIPE("t=1780000000,v1=" GOOD, INT64_MAX, DG_SIG_STALE);
	ASSERT_STRIPE("t=1780000000,v1=" GOOD, INT64_MIN, DG_SIG_STALE);
	/* tolerance 0: only the very second */
	ck_assert_int_eq(dg_sig_stripe("t=1780000000,v1=" GOOD, secret,
				       SECRET_LEN, body, BODY_LEN, T0, 0, &why),
			 DG_SIG_OK);
	ck_assert_int_eq(dg_sig_stripe("t=1780000000,v1=" GOOD, secret,
				       SECRET_LEN, body, BODY_LEN, T0 + 1, 0,
				       &why),
			 DG_SIG_STALE);
	free(why);
}
END_TEST

START_TEST(test_stripe_rotation)
{
	/* during a secret rotation Stripe signs with both: any may match */
	ASSERT_STRIPE("t=1780000000,v1=" OLD ",v1=" GOOD, T0, DG_SIG_OK);
	ASSERT_STRIPE("t=1780000000,v1=" GOOD ",v1=" OLD, T0, DG_SIG_OK);
	ASSERT_STRIPE("t=1780000000,v1=" OLD ",v0=" GOOD ",v1=" GOOD, T0,
		      DG_SIG_OK);
	ASSERT_STRIPE("t=1780000000,v1=" OLD ",v1=" OLD ",v1=" CHANGED, T0,
		      DG_SIG_MISMATCH);
}
END_TEST

START_TEST(test_stripe_v0_only)
{
	char *why;

	/* well formed, but signed in no scheme we accept */
	ck_assert_int_eq(stripe("t=1780000000,v0=" GOOD, T0, &why),
			 DG_SIG_MISMATCH);
	ck_assert_str_eq(why, "Stripe-Signature: no v1 signature");
	free(why);
	ASSERT_STRIPE("t=1780000000", T0, DG_SIG_MISMATCH);
}
END_TEST

START_TEST(test_stripe_missing)
{
	char *why;

	ck_assert_int_eq(stripe(NULL, T0, &why), DG_SIG_MISSING);
	ck_assert_str_eq(why, "no Stripe-Signature header");
	free(why);
	ASSERT_STRIPE("", T0, DG_SIG_MISSING);
	ASSERT_STRIPE(" \t", T0, DG_SIG_MISSING);
}
END_TEST

START_TEST(test_stripe_malformed)
{
	static const char *const bad[] = {
		"v1=" GOOD,
		"t=,v1=" GOOD,
		"t=abc,v1=" GOOD,
		"t=-1780000000,v1=" GOOD,
		"t=+1780000000,v1=" GOOD,
		"t=1780000000.5,v1=" GOOD,
		"t=1780000000000000000,v1=" GOOD,
		"t=1780000000,t=1780000000,v1=" GOOD,
		"t=1780000000,v1=" GOOD ",",
		"t=1780000000,,v1=" GOOD,
		"t=1780000000;v1=" GOOD,
		"t=1780000000,junk,v1=" GOOD,
		"t=1780000000,=x,v1=" GOOD,
		"t=1780000000,v1=" GOOD "00",
		"t=1780000000,v1=zz" GOOD,
		"t=1780000000,v1=",
		"t 1780000000,v1=" GOOD,
		"t=1780000000 ,v1 = " GOOD,
	};
	char *why;
	size_t i;

	for (i = 0; i < DG_NELEM(bad); i++) {
		ck_assert_msg(stripe(bad[i], T0, &why) == DG_SIG_MALFORMED,
			      "%s: %s", bad[i], why ? why : "ok");
		free(why);
	}
	/* the untrusted text is quoted in the reason */
	ck_assert_int_eq(stripe("t=12\n3,v1=" GOOD, T0, &why),
			 DG_SIG_MALFORMED);
	ck_assert_str_eq(why, "Stripe-Signature: timestamp '12\\n3' is not a "
			      "number of seconds");
	free(why);
}
END_TEST

START_TEST(test_stripe_huge_header)
{
	char *h = dg_xmalloc(8192 + 68 + 1), *why;
	size_t used;

	/* a good header padded with v0 entries up to the cap verifies */
	used = (size_t)snprintf(h, 8192, "t=1780000000,v1=%s", GOOD);
	while (used + 68 <= 8192) {
		memcpy(h + used, ",v0=" OLD, 68);
		used += 68;
	}
	memset(h + used, ' ', 8192 - used);
	h[8192] = '\0';
	ASSERT_STRIPE(h, T0, DG_SIG_OK);
	/* one byte more is malformed, before any parsing */
	h[8192] = ' ';
	h[8193] = '\0';
	ck_assert_int_eq(stripe(h, T0, &why), DG_SIG_MALFORMED);
	ck_assert_str_eq(why, "Stripe-Signature: longer than 8192 bytes");
	free(why);
	free(h);
}
END_TEST

START_TEST(test_stripe_body_changed)
{
	char changed[sizeof(body)];
	char *why;
	size_t i;

	memcpy(changed, body, sizeof(body));
	changed[5] ^= 1;
	ck_assert_int_eq(
		stripe_at("t=1780000000,v1=" GOOD, changed, BODY_LEN, T0, &why),
		DG_SIG_MISMATCH);
	free(why);
	ck_assert_int_eq(stripe_at("t=1780000000,v1=" CHANGED, changed,
				   BODY_LEN, T0, &why),
			 DG_SIG_OK);
	ck_assert_int_eq(stripe("t=1780000000,v1=" CHANGED, T0, &why),
			 DG_SIG_MISMATCH);
	free(why);
	/* every byte counts, the last one too, and the length */
	for (i = 0; i < BODY_LEN; i++) {
		memcpy(changed, body, sizeof(body));
		changed[i] ^= 0x20;
		ck_assert_int_eq(stripe_at("t=1780000000,v1=" GOOD, changed,
					   BODY_LEN, T0, &why),
				 DG_SIG_MISMATCH);
		free(why);
	}
	ck_assert_int_eq(stripe_at("t=1780000000,v1=" GOOD, body, BODY_LEN - 1,
				   T0, &why),
			 DG_SIG_MISMATCH);
	free(why);
}
END_TEST

START_TEST(test_stripe_no_secret)
{
	char *why;

	ck_assert_int_eq(dg_sig_stripe("t=1780000000,v1=" GOOD, NULL, 0, body,
				       BODY_LEN, T0, 300, &why),
			 DG_SIG_ERROR);
	ck_assert_str_eq(why, "no webhook secret");
	free(why);
	ck_assert_int_eq(dg_sig_stripe("t=1780000000,v1=" GOOD, secret,
				       SECRET_LEN, body, BODY_LEN, T0, -1,
				       &why),
			 DG_SIG_ERROR);
	free(why);
}
END_TEST

/* ------------------------------------------------------------ generic */

#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY	  "Hello, World!"
#define GH_HEX                                                                 \
	"757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

static enum dg_sig generic(const char *header, const char *b, char **why)
{
	enum dg_sig s = dg_sig_generic(header, (const unsigned char *)GH_SECRET,
				       strlen(GH_SECRET), b, strlen(b), why);

	ck_assert(s == DG_SIG_OK ? *why == NULL : *why != NULL);
	return s;
}

START_TEST(test_generic_known_answer)
{
	char *why;

	ck_assert_int_eq(generic("sha256=" GH_HEX, GH_BODY, &why), DG_SIG_OK);
	ck_assert_int_eq(generic(" sha256=" GH_HEX " ", GH_BODY, &why),
			 DG_SIG_OK);
	ck_assert_int_eq(generic("sha256=757107EA0EB2509FC211221CCE984B8A37570B"
				 "6D7586C22C46F4379C8B043E17",
				 GH_BODY, &why),
			 DG_SIG_OK);
	ck_assert_int_eq(generic("sha256=" GH_HEX, "Hello, World?", &why),
			 DG_SIG_MISMATCH);
	ck_assert_str_eq(why, "X-Signature: does not match the body");
	free(why);
	ck_assert_int_eq(generic("sha256=" OLD, GH_BODY, &why),
			 DG_SIG_MISMATCH);
	free(why);
}
END_TEST

START_TEST(test_generic_malformed)
{
	static const char *const bad[] = {
		"sha1=" GH_HEX,
		"SHA256=" GH_HEX,
		"sha256:" GH_HEX,
		"sha256=" GH_HEX "0",
		"sha256=" GH_HEX "7",
		"sha256="
		"g57107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c"
		"8b043e17",
		"sha256=",
		"sha256= " GH_HEX,
		GH_HEX,
		"sha256=" GH_HEX ",sha256=" GH_HEX,
	};
	char *why;
	size_t i;

	for (i = 0; i < DG_NELEM(bad); i++) {
		ck_assert_msg(generic(bad[i], GH_BODY, &why) ==
				      DG_SIG_MALFORMED,
			      "%s", bad[i]);
		free(why);
	}
	ck_assert_int_eq(generic(NULL, GH_BODY, &why), DG_SIG_MISSING);
	ck_assert_str_eq(why, "no X-Signature header");
	free(why);
	ck_assert_int_eq(generic("", GH_BODY, &why), DG_SIG_MISSING);
	free(why);
	ck_assert_int_eq(
		dg_sig_generic("sha256=" GH_HEX, NULL, 0, GH_BODY, 13, &why),
		DG_SIG_ERROR);
	free(why);
}
END_TEST

START_TEST(test_crc32_known_values)
{
	ck_assert_uint_eq(dg_crc32("", 0), 0);
	ck_assert_uint_eq(dg_crc32("123456789", 9), 3421780262u);
	ck_assert_uint_eq(
		dg_crc32("The quick brown fox jumps over the lazy dog", 43),
		1095738169u);
	ck_assert_uint_eq(dg_crc32(body, BODY_LEN), 4116411719u);
}
END_TEST

/* ------------------------------------------------------------ paypal */

static EVP_PKEY *key, *other_key;
static char *cert, *other_cert, *key_pem;
static size_t cert_len, other_cert_len, key_pem_len;

static void paypal_setup(void)
{
	key = testkey_rsa(2048);
	other_key = testkey_rsa(2048);
	ck_assert_ptr_nonnull(key);
	ck_assert_ptr_nonnull(other_key);
	cert = testkey_cert_pem(key, "messageverificationcerts.paypal.com",
				&cert_len);
	other_cert = testkey_cert_pem(other_key, "other", &other_cert_len);
	key_pem = testkey_key_pem(key, &key_pem_len);
	ck_assert_ptr_nonnull(cert);
	ck_assert_ptr_nonnull(other_cert);
	ck_assert_ptr_nonnull(key_pem);
}

static void paypal_teardown(void)
{
	EVP_PKEY_free(key);
	EVP_PKEY_free(other_key);
	free(cert);
	free(other_cert);
	free(key_pem);
}

#define PP_ID	   "b2384410-f8d2-11ee-8d5a-7b8c3b2a7c11"
#define PP_TIME	   "2026-11-26T09:14:31Z"
#define PP_WEBHOOK "8PT597110X687430LKGECATA"
#define PP_NOW	   1795684471 /* PP_TIME */
static const char pp_body[] =
	"{\"id\":\"WH-1\",\"event_type\":\"PAYMENT.CAPTURE.COMPLETED\"}";

/* A transmission signed with k over id|time|webhook|crc32(b). */
static char *pp_sign(EVP_PKEY *k, const char *id, const char *time,
		     const char *webhook, const char *b)
{
	char *text = dg_xasprintf("%s|%s|%s|%lu", id, time, webhook,
				  (unsigned long)dg_crc32(b, strlen(b)));
	char *sig = testkey_sign_b64(k, text, strlen(text));

	ck_assert_ptr_nonnull(sig);
	free(text);
	return sig;
}

static enum dg_sig pp_verify(const char *sig, const char *time,
			     const char *algo, const char *webhook,
			     const char *pem, size_t pem_len, const char *b,
			     dg_time now, char **why)
{
	struct dg_paypal_headers h = {
		.transmission_id = PP_ID,
		.transmission_time = time,
		.transmission_sig = sig,
		.cert_url = "https://api.paypal.com/v1/notifications/certs/"
			    "CERT-360caa42-fca2a594-1d93a270",
		.auth_algo = algo,
	};
	enum dg_sig s = dg_sig_paypal(&h, webhook, pem, pem_len, b, strlen(b),
				      now, 300, why);

	ck_assert(s == DG_SIG_OK ? *why == NULL : *why != NULL);
	return s;
}

START_TEST(test_paypal_good)
{
	char *sig = pp_sign(key, PP_ID, PP_TIME, PP_WEBHOOK, pp_body), *why;
	dg_time t;

	ck_assert_int_eq(dg_parse_rfc3339(PP_TIME, &t), 0);
	ck_assert_int_eq(t, PP_NOW);
	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   cert, cert_len, pp_body, PP_NOW + 20, &why),
			 DG_SIG_OK);
	free(sig);
	/* fractional seconds, signed as sent */
	sig = pp_sign(key, PP_ID, "2026-11-26T09:14:31.573Z", PP_WEBHOOK,
		      pp_body);
	ck_assert_int_eq(pp_verify(sig, "2026-11-26T09:14:31.573Z",
				   "SHA256withRSA", PP_WEBHOOK, cert, cert_len,
				   pp_body, PP_NOW, &why),
			 DG_SIG_OK);
	free(sig);
}
END_TEST

START_TEST(test_paypal_mismatch)
{
	char *sig = pp_sign(key, PP_ID, PP_TIME, PP_WEBHOOK, pp_body), *why;
	char changed[sizeof(pp_body)];

	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA",
				   "8PT597110X687430LKGECATB", cert, cert_len,
				   pp_body, PP_NOW, &why),
			 DG_SIG_MISMATCH);
	ck_assert_str_eq(why, "PAYPAL-TRANSMISSION-SIG: does not match the "
			      "body, transmission and webhook id");
	free(why);
	memcpy(changed, pp_body, sizeof(pp_body));
	changed[10] ^= 1;
	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   cert, cert_len, changed, PP_NOW, &why),
			 DG_SIG_MISMATCH);
	free(why);
	/* the same transmission under another time */
	ck_assert_int_eq(pp_verify(sig, "2026-11-26T09:14:32Z", "SHA256withRSA",
				   PP_WEBHOOK, cert, cert_len, pp_body, PP_NOW,
				   &why),
			 DG_SIG_MISMATCH);
	free(why);
	/* another key's certificate */
	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   other_cert, other_cert_len, pp_body, PP_NOW,
				   &why),
			 DG_SIG_MISMATCH);
	free(why);
	/* valid base64 of bytes that are no signature */
	ck_assert_int_eq(pp_verify("AAAA", PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   cert, cert_len, pp_body, PP_NOW, &why),
			 DG_SIG_MISMATCH);
	free(why);
	free(sig);
	/* signed by another key */
	sig = pp_sign(other_key, PP_ID, PP_TIME, PP_WEBHOOK, pp_body);
	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   cert, cert_len, pp_body, PP_NOW, &why),
			 DG_SIG_MISMATCH);
	free(why);
	free(sig);
}
END_TEST

START_TEST(test_paypal_stale)
{
	char *sig = pp_sign(key, PP_ID, PP_TIME, PP_WEBHOOK, pp_body), *why;

	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   cert, cert_len, pp_body, PP_NOW + 300, &why),
			 DG_SIG_OK);
	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   cert, cert_len, pp_body, PP_NOW + 301, &why),
			 DG_SIG_STALE);
	ck_assert_str_eq(why,
			 "PAYPAL-TRANSMISSION-TIME: '2026-11-26T09:14:31Z' "
			 "is old, outside the tolerance of 300 s");
	free(why);
	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   cert, cert_len, pp_body, PP_NOW - 301, &why),
			 DG_SIG_STALE);
	free(why);
	free(sig);
}
END_TEST

START_TEST(test_paypal_malformed)
{
	char *sig = pp_sign(key, PP_ID, PP_TIME, PP_WEBHOOK, pp_body), *why;
	char *cut;

	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA1withRSA", PP_WEBHOOK,
				   cert, cert_len, pp_body, PP_NOW, &why),
			 DG_SIG_MALFORMED);
	ck_assert_str_eq(why, "PAYPAL-AUTH-ALGO: 'SHA1withRSA' is not "
			      "SHA256withRSA");
	free(why);
	ck_assert_int_eq(pp_verify("!!not base64!!", PP_TIME, "SHA256withRSA",
				   PP_WEBHOOK, cert, cert_len, pp_body, PP_NOW,
				   &why),
			 DG_SIG_MALFORMED);
	ck_assert_str_eq(why, "PAYPAL-TRANSMISSION-SIG: '!!not base64!!' is "
			      "not base64");
	free(why);
	/* a signature cut short of its padding, padding inside, blanks */
	cut = dg_xstrndup(sig, strlen(sig) - 1);
	ck_assert_int_eq(pp_verify(cut, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   cert, cert_len, pp_body, PP_NOW, &why),
			 DG_SIG_MALFORMED);
	free(why);
	free(cut);
	ck_assert_int_eq(pp_verify("AA=A", PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   cert, cert_len, pp_body, PP_NOW, &why),
			 DG_SIG_MALFORMED);
	free(why);
	ck_assert_int_eq(pp_verify("AAA AAAA", PP_TIME, "SHA256withRSA",
				   PP_WEBHOOK, cert, cert_len, pp_body, PP_NOW,
				   &why),
			 DG_SIG_MALFORMED);
	free(why);
	ck_assert_int_eq(pp_verify(sig, "26 Nov 2026 09:14:31", "SHA256withRSA",
				   PP_WEBHOOK, cert, cert_len, pp_body, PP_NOW,
				   &why),
			 DG_SIG_MALFORMED);
	free(why);
	ck_assert_int_eq(pp_verify(sig, "2026-11-26T09:14:31.Z",
				   "SHA256withRSA", PP_WEBHOOK, cert, cert_len,
				   pp_body, PP_NOW, &why),
			 DG_SIG_MALFORMED);
	free(why);
	free(sig);
}
END_TEST

START_TEST(test_paypal_missing_headers)
{
	char *sig = pp_sign(key, PP_ID, PP_TIME, PP_WEBHOOK, pp_body), *why;
	struct dg_paypal_headers h = {PP_ID, PP_TIME, sig, NULL,
				      "SHA256withRSA"};
	struct dg_paypal_headers m;

	/* no PAYPAL-CERT-URL is fine: the certificate is the caller's */
	ck_assert_int_eq(dg_sig_paypal(&h, PP_WEBHOOK, cert, cert_len, pp_body,
				       strlen(pp_body), PP_NOW, 300, &why),
			 DG_SIG_OK);
	m = h;
	m.transmission_id = NULL;
	ck_assert_int_eq(dg_sig_paypal(&m, PP_WEBHOOK, cert, cert_len, pp_body,
				       strlen(pp_body), PP_NOW, 300, &why),
			 DG_SIG_MISSING);
	ck_assert_str_eq(why, "no PAYPAL-TRANSMISSION-ID header");
	free(why);
	m = h;
	m.transmission_time = "";
	ck_assert_int_eq(dg_sig_paypal(&m, PP_WEBHOOK, cert, cert_len, pp_body,
				       strlen(pp_body), PP_NOW, 300, &why),
			 DG_SIG_MISSING);
	free(why);
	m = h;
	m.transmission_sig = NULL;
	ck_assert_int_eq(dg_sig_paypal(&m, PP_WEBHOOK, cert, cert_len, pp_body,
				       strlen(pp_body), PP_NOW, 300, &why),
			 DG_SIG_MISSING);
	free(why);
	m = h;
	m.auth_algo = NULL;
	ck_assert_int_eq(dg_sig_paypal(&m, PP_WEBHOOK, cert, cert_len, pp_body,
				       strlen(pp_body), PP_NOW, 300, &why),
			 DG_SIG_MISSING);
	free(why);
	ck_assert_int_eq(dg_sig_paypal(NULL, PP_WEBHOOK, cert, cert_len,
				       pp_body, strlen(pp_body), PP_NOW, 300,
				       &why),
			 DG_SIG_MISSING);
	free(why);
	/* a transmission id that could shift the signed text's fields */
	m = h;
	m.transmission_id = "a|2026-11-26T09:14:31Z";
	ck_assert_int_eq(dg_sig_paypal(&m, PP_WEBHOOK, cert, cert_len, pp_body,
				       strlen(pp_body), PP_NOW, 300, &why),
			 DG_SIG_MALFORMED);
	free(why);
	ck_assert_int_eq(dg_sig_paypal(&h, "", cert, cert_len, pp_body,
				       strlen(pp_body), PP_NOW, 300, &why),
			 DG_SIG_ERROR);
	ck_assert_str_eq(why, "no PayPal webhook id");
	free(why);
	free(sig);
}
END_TEST

START_TEST(test_paypal_not_a_certificate)
{
	char *sig = pp_sign(key, PP_ID, PP_TIME, PP_WEBHOOK, pp_body), *why;
	static const char garbage[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
				      "-----END CERTIFICATE-----\n";

	/* the private key's PEM is no certificate */
	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   key_pem, key_pem_len, pp_body, PP_NOW, &why),
			 DG_SIG_ERROR);
	ck_assert_str_eq(why, "the PayPal certificate is not a PEM X.509 "
			      "certificate");
	free(why);
	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   garbage, sizeof(garbage) - 1, pp_body,
				   PP_NOW, &why),
			 DG_SIG_ERROR);
	free(why);
	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   NULL, 0, pp_body, PP_NOW, &why),
			 DG_SIG_ERROR);
	free(why);
	/* a certificate cut short */
	ck_assert_int_eq(pp_verify(sig, PP_TIME, "SHA256withRSA", PP_WEBHOOK,
				   cert, cert_len / 2, pp_body, PP_NOW, &why),
			 DG_SIG_ERROR);
	free(why);
	free(sig);
}
END_TEST

/* ------------------------------------------------------------ cert URL */

START_TEST(test_cert_url)
{
	static const char *const good[] = {
		"https://api.paypal.com/v1/notifications/certs/"
		"CERT-360caa42-fca2a594-1d93a270",
		"https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1",
		"https://paypal.com/cert",
		"https://api.paypal.com:443/cert",
		"HTTPS://API.PayPal.COM/cert",
		"https://api.paypal.com",
		"https://api.paypal.com?x=1",
		"https://a-b.paypal.com/",
	};
	static const char *const bad[] = {
		"http://api.paypal.com/cert",
		"ftp://api.paypal.com/cert",
		"https:/api.paypal.com/cert",
		"//api.paypal.com/cert",
		"https://api.paypal.com:8443/cert",
		"https://api.paypal.com:/cert",
		"https://api.paypal.com:0443/cert",
		"https://api.paypal.com:443:443/cert",
		"https://user@api.paypal.com/cert",
		"https://user:pw@api.paypal.com/cert",
		"https://api.paypal.com@evil.example/cert",
		"https://evil.example/api.paypal.com",
		"https://evil.example?.paypal.com",
		"https://evil.example#.paypal.com",
		"https://paypal.com.evil.example/cert",
		"https://evilpaypal.com/cert",
		"https://paypal.co/cert",
		"https://127.0.0.1/cert",
		"https://[::1]/cert",
		"https://[::ffff:127.0.0.1].paypal.com/",
		"https://api.paypal.com./cert",
		"https://.paypal.com/cert",
		"https://a..paypal.com/cert",
		"https://-a.paypal.com/cert",
		"https://a-.paypal.com/cert",
		"https://api%2epaypal.com/cert",
		"https://evil.example\\@api.paypal.com/",
		"https://api.paypal.com /cert",
		"https://api.paypal.com/ce rt",
		"https://api.paypal.com/cert\n",
		"https://api.paypal.com/caf\xc3\xa9",
		"https://",
		"https://:443/",
		"",
	};
	size_t i;
	char *long_url;

	for (i = 0; i < DG_NELEM(good); i++)
		ck_assert_msg(dg_paypal_cert_url_ok(good[i]), "%s", good[i]);
	for (i = 0; i < DG_NELEM(bad); i++)
		ck_assert_msg(!dg_paypal_cert_url_ok(bad[i]), "%s", bad[i]);
	ck_assert(!dg_paypal_cert_url_ok(NULL));
	long_url = dg_xmalloc(3001);
	memcpy(long_url, "https://api.paypal.com/", 23);
	memset(long_url + 23, 'a', 3000 - 23);
	long_url[3000] = '\0';
	ck_assert(!dg_paypal_cert_url_ok(long_url));
	long_url[2000] = '\0';
	ck_assert(dg_paypal_cert_url_ok(long_url));
	free(long_url);
}
END_TEST

START_TEST(test_cert_fetch_refuses_url)
{
	struct dg_http_opts o;
	char *pem = (char *)"x", *why;
	size_t len = 1;

	dg_http_opts_init(&o);
	/* refused before any connection: nothing here reaches a network */
	ck_assert_int_eq(dg_paypal_cert_fetch("https://evil.example/cert", &o,
					      &pem, &len, &why),
			 DG_EXIT_DATAERR);
	ck_assert_ptr_null(pem);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(why, "PAYPAL-CERT-URL: 'https://evil.example/cert' "
			      "is not an https URL on a PayPal host");
	free(why);
	ck_assert_int_eq(dg_paypal_cert_fetch("http://api.paypal.com/cert\r\n"
					      "X: y",
					      &o, &pem, &len, &why),
			 DG_EXIT_DATAERR);
	ck_assert_ptr_nonnull(strstr(why, "'http://api.paypal.com/cert\\r\\nX: "
					  "y'"));
	free(why);
}
END_TEST

/* ------------------------------------------------------------ secret */

static char test_dir[4096];

static void secret_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	dg_xsnprintf(test_dir, sizeof(test_dir), "%s/check_paysig.XXXXXX",
		     tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
	ck_assert_int_eq(chdir(test_dir), 0);
	unsetenv("DAIGOU_WEBHOOK_SECRET");
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void secret_teardown(void)
{
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(nftw(test_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS),
			 0);
}

static void write_secret(const char *name, const char *text, size_t len,
			 mode_t mode)
{
	FILE *fp = fopen(name, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(chmod(name, mode), 0);
}

/* dg_secret_load's status, what it printed, the secret (or NULL). */
static int load(const char *file, char **msg, unsigned char **s, size_t *n)
{
	int rc;

	test_capture_begin();
	rc = dg_secret_load(file, s, n);
	*msg = test_capture_end();
	if (rc)
		ck_assert_ptr_null(*s);
	return rc;
}

START_TEST(test_secret_none)
{
	unsigned char *s;
	size_t n;
	char *msg;

	ck_assert_int_eq(load(NULL, &msg, &s, &n), 0);
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(msg, "");
	free(msg);
}
END_TEST

START_TEST(test_secret_env)
{
	unsigned char *s;
	size_t n;
	char *msg;

	setenv("DAIGOU_WEBHOOK_SECRET", "whsec_abc\n", 1);
	ck_assert_int_eq(load(NULL, &msg, &s, &n), 0);
	/* the environment's value is taken as it is */
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(memcmp(s, "whsec_abc\n", 10), 0);
	free(s);
	free(msg);
	setenv("DAIGOU_WEBHOOK_SECRET", "", 1);
	ck_assert_int_eq(load(NULL, &msg, &s, &n), DG_EXIT_DATAERR);
	ck_assert_str_eq(msg, "t: DAIGOU_WEBHOOK_SECRET is set but empty\n");
	free(msg);
}
END_TEST

START_TEST(test_secret_file)
{
	unsigned char *s;
	size_t n;
	char *msg;

	write_secret("one", "whsec_file\n", 11, 0600);
	/* the file wins over the environment */
	setenv("DAIGOU_WEBHOOK_SECRET", "whsec_env", 1);
	ck_assert_int_eq(load("one", &msg, &s, &n), 0);
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(memcmp(s, "whsec_file", 10), 0);
	ck_assert_str_eq(msg, "");
	free(s);
	free(msg);
	/* one newline only, CRLF counting as one; none is fine */
	write_secret("two", "ab\n\n", 4, 0600);
	ck_assert_int_eq(load("two", &msg, &s, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(memcmp(s, "ab\n", 3), 0);
	free(s);
	free(msg);
	write_secret("crlf", "ab\r\n", 4, 0400);
	ck_assert_int_eq(load("crlf", &msg, &s, &n), 0);
	ck_assert_uint_eq(n, 2);
	free(s);
	free(msg);
	/* any byte, a NUL too, is part of a secret */
	write_secret("bin", "a\0b", 3, 0600);
	ck_assert_int_eq(load("bin", &msg, &s, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(memcmp(s, "a\0b", 3), 0);
	free(s);
	free(msg);
}
END_TEST

START_TEST(test_secret_file_errors)
{
	unsigned char *s;
	size_t n;
	char *msg, *big;

	ck_assert_int_eq(load("nope", &msg, &s, &n), DG_EXIT_NOINPUT);
	ck_assert_str_eq(msg, "t: cannot open secret file 'nope': No such "
			      "file or directory\n");
	free(msg);
	write_secret("empty", "\n", 1, 0600);
	ck_assert_int_eq(load("empty", &msg, &s, &n), DG_EXIT_DATAERR);
	ck_assert_str_eq(msg, "t: secret file 'empty' is empty\n");
	free(msg);
	big = dg_xmalloc(70000);
	memset(big, 'k', 70000);
	write_secret("big", big, 70000, 0600);
	free(big);
	ck_assert_int_eq(load("big", &msg, &s, &n), DG_EXIT_DATAERR);
	ck_assert_str_eq(msg, "t: secret file 'big': longer than 65536 "
			      "bytes\n");
	free(msg);
	/* a directory opens but does not read */
	ck_assert_int_eq(mkdir("dir", 0700), 0);
	ck_assert_int_eq(load("dir", &msg, &s, &n), DG_EXIT_IOERR);
	ck_assert_str_eq(msg, "t: cannot read secret file 'dir': Is a "
			      "directory\n");
	free(msg);
}
END_TEST

START_TEST(test_secret_file_mode_warning)
{
	unsigned char *s;
	size_t n;
	char *msg;

	write_secret("g", "k\n", 2, 0640);
	ck_assert_int_eq(load("g", &msg, &s, &n), 0);
	ck_assert_str_eq(msg, "t: warning: secret file 'g' is readable by its "
			      "group (mode 0640): chmod 600 it\n");
	free(s);
	free(msg);
	write_secret("o", "k\n", 2, 0604);
	ck_assert_int_eq(load("o", &msg, &s, &n), 0);
	ck_assert_str_eq(msg, "t: warning: secret file 'o' is readable by "
			      "others (mode 0604): chmod 600 it\n");
	free(s);
	free(msg);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("paysig");
	TCase *tc = tcase_create("hmac");
	TCase *pp = tcase_create("paypal");
	TCase *sec = tcase_create("secret");

	tcase_add_test(tc, test_sig_names);
	tcase_add_test(tc, test_stripe_good);
	tcase_add_test(tc, test_stripe_bad);
	tcase_add_test(tc, test_stripe_stale_both_directions);
	tcase_add_test(tc, test_stripe_rotation);
	tcase_add_test(tc, test_stripe_v0_only);
	tcase_add_test(tc, test_stripe_missing);
	tcase_add_test(tc, test_stripe_malformed);
	tcase_add_test(tc, test_stripe_huge_header);
	tcase_add_test(tc, test_stripe_body_changed);
	tcase_add_test(tc, test_stripe_no_secret);
	tcase_add_test(tc, test_generic_known_answer);
	tcase_add_test(tc, test_generic_malformed);
	tcase_add_test(tc, test_crc32_known_values);
	tcase_add_test(tc, test_cert_url);
	tcase_add_test(tc, test_cert_fetch_refuses_url);
	suite_add_tcase(s, tc);

	/* the keys are made once, before the tests fork */
	tcase_add_unchecked_fixture(pp, paypal_setup, paypal_teardown);
	tcase_set_timeout(pp, 60);
	tcase_add_test(pp, test_paypal_good);
	tcase_add_test(pp, test_paypal_mismatch);
	tcase_add_test(pp, test_paypal_stale);
	tcase_add_test(pp, test_paypal_malformed);
	tcase_add_test(pp, test_paypal_missing_headers);
	tcase_add_test(pp, test_paypal_not_a_certificate);
	suite_add_tcase(s, pp);

	tcase_add_checked_fixture(sec, secret_setup, secret_teardown);
	tcase_add_test(sec, test_secret_none);
	tcase_add_test(sec, test_secret_env);
	tcase_add_test(sec, test_secret_file);
	tcase_add_test(sec, test_secret_file_errors);
	tcase_add_test(sec, test_secret_file_mode_warning);
	suite_add_tcase(s, sec);
	return s;
}
