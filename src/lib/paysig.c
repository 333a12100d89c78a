/*
 * paysig.c - callback signatures (Stripe, generic HMAC, PayPal) and the
 * webhook secret.
 *
 * Every verifier parses the whole header first (malformed), then checks
 * the signature (mismatch), and only then the time (stale), the order
 * Stripe's own libraries use: "stale" is said only of a transmission
 * that was really signed with our secret or key, so it tells a replay
 * or a wrong clock apart from a forgery, and a forger learns nothing
 * about the tolerance. Comparisons are over decoded bytes with
 * CRYPTO_memcmp, which takes the same time wherever the bytes differ.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/core_names.h>
#endif

#include "daigou.h"

#define SHA256_LEN 32
#define SHA256_HEX (2 * SHA256_LEN)
/* Longer than any header a gateway sends (Stripe's with a few v1 and
 * v0 entries is under 400 bytes); past it the header is malformed. */
#define STRIPE_HEADER_MAX 8192
/* A PayPal signature: RSA up to 8192 bits is 1024 bytes, 1368 base64. */
#define GENERIC_HEADER_MAX 1024
#define PAYPAL_SIG_MAX	   2048
#define PAYPAL_ID_MAX	   256
#define PAYPAL_TIME_MAX	   64
#define PAYPAL_URL_MAX	   2048
/* A certificate given to dg_sig_paypal (a file may hold a chain). */
#define CERT_PEM_MAX   (1024 * 1024)
#define CERT_FETCH_MAX (64 * 1024)
#define SECRET_MAX     (64 * 1024)

const char *dg_sig_name(enum dg_sig s)
{
	switch (s) {
	case DG_SIG_OK:
		return "ok";
	case DG_SIG_MISSING:
		return "missing";
	case DG_SIG_MALFORMED:
		return "malformed";
	case DG_SIG_MISMATCH:
		return "mismatch";
	case DG_SIG_STALE:
		return "stale";
	case DG_SIG_ERROR:
		break;
	}
	return "error";
}

static enum dg_sig fail(char **why, enum dg_sig s, const char *fmt, ...)
	DG_PRINTF(3, 4);
static enum dg_sig fail(char **why, enum dg_sig s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*why = dg_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* ------------------------------------------------------------ helpers */

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 2 * n hex digits (either case) into out. 0 or -1. */
static int unhex(const char *s, size_t len, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (len != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = hexval((unsigned char)s[2 * i]);
		lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* HMAC-SHA256 of the concatenation a || b. 0 or -1. */
static int hmac_sha256(const unsigned char *key, size_t keylen, const void *a,
		       size_t alen, const void *b, size_t blen,
		       unsigned char out[SHA256_LEN])
{
	int rc = -1;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	size_t outlen = 0;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx && EVP_MAC_init(ctx, key, keylen, params) == 1 &&
	    EVP_MAC_update(ctx, a, alen) == 1 &&
	    EVP_MAC_update(ctx, b, blen) == 1 &&
	    EVP_MAC_final(ctx, out, &outlen, SHA256_LEN) == 1 &&
	    outlen == SHA256_LEN)
		rc = 0;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
#else
	HMAC_CTX *ctx = HMAC_CTX_new();
	unsigned int outlen = 0;

	if (keylen <= INT_MAX && ctx &&
	    HMAC_Init_ex(ctx, key, (int)keylen, EVP_sha256(), NULL) == 1 &&
	    HMAC_Update(ctx, a, alen) == 1 && HMAC_Update(ctx, b, blen) == 1 &&
	    HMAC_Final(ctx, out, &outlen) == 1 && outlen == SHA256_LEN)
		rc = 0;
	HMAC_CTX_free(ctx);
#endif
	ERR_clear_error();
	return rc;
}

/* |now - t| > tolerance, without overflow for any two int64 values. */
static bool outside(dg_time now, dg_time t, long tolerance)
{
	uint64_t d = now >= t ? (uint64_t)now - (uint64_t)t
			      : (uint64_t)t - (uint64_t)now;

	return d > (uint64_t)tolerance;
}

static const char *direction(dg_time now, dg_time t)
{
	return t > now ? "in the future" : "old";
}

/* ------------------------------------------------------------ stripe */

struct stripe_header {
	const char *t; /* the timestamp's text, as signed */
	size_t tlen;
	dg_time when;
	unsigned char (*v1)[SHA256_LEN];
	size_t nv1;
};

/* "t=...,v1=...[,v1=...]": items split at commas, blanks around an item
 * dropped (Stripe's libraries tolerate ", "); each item is KEY=VALUE
 * with a key of letters, digits and '_'. Exactly one t, decimal digits; every
 * v1 is 64 hex digits; other keys (v0, a future scheme) are ignored. */
#define KEY_CHARS                                                              \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

static enum dg_sig stripe_parse(const char *header, struct stripe_header *h,
				char **why)
{
	const char *p = header, *end, *item, *iend, *eq;
	size_t klen, vlen, i;
	int64_t when;

	end = header + strlen(header);
	for (;;) {
		for (item = p; item < end && is_blank(*item); item++)
			;
		p = item + strcspn(item, ",");
		for (iend = p; iend > item && is_blank(iend[-1]); iend--)
			;
		eq = item + strcspn(item, "=,");
		if (eq >= iend || eq == item)
			return fail(
				why, DG_SIG_MALFORMED,
				"Stripe-Signature: item %s is not KEY=VALUE",
				dg_quotedn(item, (size_t)(iend - item)));
		klen = (size_t)(eq - item);
		vlen = (size_t)(iend - eq - 1);
		if (strspn(item, KEY_CHARS) != klen)
			return fail(why, DG_SIG_MALFORMED,
				    "Stripe-Signature: key %s is not a scheme "
				    "name",
				    dg_quotedn(item, klen));
		if (klen == 1 && item[0] == 't') {
			if (h->t)
				return fail(
					why, DG_SIG_MALFORMED,
					"Stripe-Signature: more than one t");
			if (vlen == 0 || vlen > 18)
				goto bad_t;
			for (when = 0, i = 0; i < vlen; i++) {
				if (eq[1 + i] < '0' || eq[1 + i] > '9')
					goto bad_t;
				when = when * 10 + (eq[1 + i] - '0');
			}
			h->t = eq + 1;
			h->tlen = vlen;
			h->when = when;
		} else if (klen == 2 && item[0] == 'v' && item[1] == '1') {
			h->v1 = dg_xrealloc(h->v1, (h->nv1 + 1) * SHA256_LEN);
			if (unhex(eq + 1, vlen, h->v1[h->nv1], SHA256_LEN))
				return fail(why, DG_SIG_MALFORMED,
					    "Stripe-Signature: v1 %s is not 64 "
					    "hex digits",
					    dg_quotedn(eq + 1, vlen));
			h->nv1++;
		}
		if (p == end)
			break;
		p++;
	}
	if (!h->t)
		return fail(why, DG_SIG_MALFORMED,
			    "Stripe-Signature: no timestamp (t=)");
	return DG_SIG_OK;
bad_t:
	return fail(why, DG_SIG_MALFORMED,
		    "Stripe-Signature: timestamp %s is not a number of seconds",
		    dg_quotedn(eq + 1, vlen));
}

enum dg_sig dg_sig_stripe(const char *header, const unsigned char *secret,
			  size_t secret_len, const char *body, size_t len,
			  dg_time now, long tolerance, char **why)
{
	struct stripe_header h = {NULL, 0, 0, NULL, 0};
	unsigned char mac[SHA256_LEN];
	char *signed_prefix = NULL;
	enum dg_sig rc;
	size_t i, n;
	bool match = false;

	*why = NULL;
	if (!secret || !secret_len)
		return fail(why, DG_SIG_ERROR, "no webhook secret");
	if (tolerance < 0)
		return fail(why, DG_SIG_ERROR, "negative tolerance");
	if (!header || !header[strspn(header, " \t")])
		return fail(why, DG_SIG_MISSING, "no Stripe-Signature header");
	n = strnlen(header, STRIPE_HEADER_MAX + 1);
	if (n > STRIPE_HEADER_MAX)
		return fail(why, DG_SIG_MALFORMED,
			    "Stripe-Signature: longer than %d bytes",
			    STRIPE_HEADER_MAX);
	if ((rc = stripe_parse(header, &h, why)))
		goto out;
	/* A header with no v1 is well formed but signed in no scheme we
	 * accept (v0 alone is Stripe's test-mode scheme): it cannot match. */
	if (!h.nv1) {
		rc = fail(why, DG_SIG_MISMATCH,
			  "Stripe-Signature: no v1 signature");
		goto out;
	}
	signed_prefix = dg_xasprintf("%.*s.", (int)h.tlen, h.t);
	if (hmac_sha256(secret, secret_len, signed_prefix, h.tlen + 1, body,
			len, mac)) {
		rc = fail(why, DG_SIG_ERROR, "HMAC-SHA256 failed");
		goto out;
	}
	/* Every entry is compared, matched or not: the time taken does not
	 * tell which one matched. */
	for (i = 0; i < h.nv1; i++)
		match |= CRYPTO_memcmp(mac, h.v1[i], SHA256_LEN) == 0;
	if (!match)
		rc = fail(why, DG_SIG_MISMATCH,
			  "Stripe-Signature: no v1 signature matches the body");
	else if (outside(now, h.when, tolerance))
		rc = fail(why, DG_SIG_STALE,
			  "Stripe-Signature: timestamp %.*s is %s, outside "
			  "the tolerance of %ld s",
			  (int)h.tlen, h.t, direction(now, h.when), tolerance);
	else
		rc = DG_SIG_OK;
out:
	free(signed_prefix);
	free(h.v1);
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

/* ------------------------------------------------------------ generic */

enum dg_sig dg_sig_generic(const char *header, const unsigned char *secret,
			   size_t secret_len, const char *body, size_t len,
			   char **why)
{
	unsigned char mac[SHA256_LEN], given[SHA256_LEN];
	const char *p, *end;
	enum dg_sig rc;
	size_t n;

	*why = NULL;
	if (!secret || !secret_len)
		return fail(why, DG_SIG_ERROR, "no webhook secret");
	if (!header || !header[strspn(header, " \t")])
		return fail(why, DG_SIG_MISSING, "no X-Signature header");
	for (p = header; is_blank(*p); p++)
		;
	n = strnlen(p, GENERIC_HEADER_MAX + 1);
	for (end = p + n; end > p && is_blank(end[-1]); end--)
		;
	if (n > GENERIC_HEADER_MAX || (size_t)(end - p) != 7 + SHA256_HEX ||
	    strncmp(p, "sha256=", 7) ||
	    unhex(p + 7, SHA256_HEX, given, SHA256_LEN))
		return fail(why, DG_SIG_MALFORMED,
			    "X-Signature: %s is not sha256=<64 hex digits>",
			    dg_quoted(header));
	if (hmac_sha256(secret, secret_len, body, len, "", 0, mac))
		return fail(why, DG_SIG_ERROR, "HMAC-SHA256 failed");
	if (CRYPTO_memcmp(mac, given, SHA256_LEN))
		rc = fail(why, DG_SIG_MISMATCH,
			  "X-Signature: does not match the body");
	else
		rc = DG_SIG_OK;
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

/* ------------------------------------------------------------ paypal */

uint32_t dg_crc32(const void *data, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	const unsigned char *p = data;
	uint32_t c = 0xffffffffu, k;
	int i, j;

	/* Computed on first use; the same values from any thread that
	 * races here, so the race is harmless. */
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < 256; i++) {
			k = (uint32_t)i;
			for (j = 0; j < 8; j++)
				k = k & 1 ? 0xedb88320u ^ (k >> 1) : k >> 1;
			table[i] = k;
		}
		__atomic_store_n(&ready, true, __ATOMIC_RELEASE);
	}
	while (len--)
		c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static bool base64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Strict base64 with padding into a malloc'd buffer. 0 or -1. */
static int unbase64(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strnlen(s, PAYPAL_SIG_MAX + 1), i, pad = 0;
	int got;

	if (n == 0 || n > PAYPAL_SIG_MAX || n % 4)
		return -1;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++)
		if (!base64_char((unsigned char)s[i]))
			return -1;
	*out = dg_xmalloc(n / 4 * 3);
	got = EVP_DecodeBlock(*out, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got != n / 4 * 3) {
		free(*out);
		*out = NULL;
		return -1;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	*outlen = (size_t)got - pad;
	return 0;
}

static X509 *read_cert(const char *pem, size_t len)
{
	BIO *bio;
	X509 *x = NULL;

	if (!pem || !len || len > CERT_PEM_MAX)
		return NULL;
	if ((bio = BIO_new_mem_buf(pem, (int)len))) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	ERR_clear_error();
	return x;
}

/* A header field of printable ASCII without '|' (the signed text's
 * separator), at most max bytes. */
static bool plain_field(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (!n || n > max)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || *s == '|')
			return false;
	return true;
}

/* RFC 3339 in UTC as PayPal sends it, with optional fractional seconds
 * (dropped: the tolerance is in whole seconds). 0 or -1. */
static int paypal_time(const char *s, dg_time *out)
{
	const char *dot = strchr(s, '.');
	size_t digits;
	char *copy;
	int rc;

	if (!dot)
		return dg_parse_rfc3339(s, out) ? -1 : 0;
	digits = strspn(dot + 1, "0123456789");
	if (digits < 1 || digits > 9)
		return -1;
	copy = dg_xasprintf("%.*s%s", (int)(dot - s), s, dot + 1 + digits);
	rc = dg_parse_rfc3339(copy, out) ? -1 : 0;
	free(copy);
	return rc;
}

static enum dg_sig paypal_headers_ok(const struct dg_paypal_headers *h,
				     char **why)
{
	static const char *const names[] = {
		"PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME",
		"PAYPAL-TRANSMISSION-SIG", "PAYPAL-AUTH-ALGO"};
	const char *v[4] = {NULL, NULL, NULL, NULL};
	size_t i;

	if (h) {
		v[0] = h->transmission_id;
		v[1] = h->transmission_time;
		v[2] = h->transmission_sig;
		v[3] = h->auth_algo;
	}
	for (i = 0; i < 4; i++)
		if (!v[i] || !*v[i])
			return fail(why, DG_SIG_MISSING, "no %s header",
				    names[i]);
	if (strcmp(h->auth_algo, "SHA256withRSA"))
		return fail(why, DG_SIG_MALFORMED,
			    "PAYPAL-AUTH-ALGO: %s is not SHA256withRSA",
			    dg_quoted(h->auth_algo));
	if (!plain_field(h->transmission_id, PAYPAL_ID_MAX))
		return fail(why, DG_SIG_MALFORMED,
			    "PAYPAL-TRANSMISSION-ID: %s is not a transmission "
			    "id",
			    dg_quoted(h->transmission_id));
	return DG_SIG_OK;
}

enum dg_sig dg_sig_paypal(const struct dg_paypal_headers *h,
			  const char *webhook_id, const char *cert_pem,
			  size_t pem_len, const char *body, size_t len,
			  dg_time now, long tolerance, char **why)
{
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *text = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *key;
	X509 *cert = NULL;
	dg_time when;
	enum dg_sig rc;
	int v;

	*why = NULL;
	if (!webhook_id || !*webhook_id)
		return fail(why, DG_SIG_ERROR, "no PayPal webhook id");
	if (tolerance < 0)
		return fail(why, DG_SIG_ERROR, "negative tolerance");
	if ((rc = paypal_headers_ok(h, why)))
		return rc;
	if (strnlen(h->transmission_time, PAYPAL_TIME_MAX + 1) >
		    PAYPAL_TIME_MAX ||
	    paypal_time(h->transmission_time, &when))
		return fail(why, DG_SIG_MALFORMED,
			    "PAYPAL-TRANSMISSION-TIME: %s is not an RFC 3339 "
			    "time",
			    dg_quoted(h->transmission_time));
	if (unbase64(h->transmission_sig, &sig, &siglen))
		return fail(why, DG_SIG_MALFORMED,
			    "PAYPAL-TRANSMISSION-SIG: %s is not base64",
			    dg_quoted(h->transmission_sig));
	if (!(cert = read_cert(cert_pem, pem_len))) {
		rc = fail(why, DG_SIG_ERROR,
			  "the PayPal certificate is not a PEM X.509 "
			  "certificate");
		goto out;
	}
	key = X509_get0_pubkey(cert);
	if (!key || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
		rc = fail(why, DG_SIG_ERROR,
			  "the PayPal certificate has no RSA key");
		goto out;
	}
	text = dg_xasprintf("%s|%s|%s|%lu", h->transmission_id,
			    h->transmission_time, webhook_id,
			    (unsigned long)dg_crc32(body, len));
	if (!(md = EVP_MD_CTX_new()) ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1) {
		rc = fail(why, DG_SIG_ERROR, "RSA-SHA256 setup failed");
		goto out;
	}
	v = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)text,
			     strlen(text));
	if (v != 1)
		rc = fail(why, DG_SIG_MISMATCH,
			  "PAYPAL-TRANSMISSION-SIG: does not match the body, "
			  "transmission and webhook id");
	else if (outside(now, when, tolerance))
		rc = fail(why, DG_SIG_STALE,
			  "PAYPAL-TRANSMISSION-TIME: %s is %s, outside the "
			  "tolerance of %ld s",
			  dg_quoted(h->transmission_time), direction(now, when),
			  tolerance);
	else
		rc = DG_SIG_OK;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	X509_free(cert);
	free(text);
	free(sig);
	return rc;
}

/* https://HOST[:443][/path...]: no userinfo, no other port, no IP
 * literal, no percent-encoding or backslash in the authority, no blank
 * or control byte anywhere; HOST paypal.com or a subdomain of it, in
 * letters, digits and hyphens. */
bool dg_paypal_cert_url_ok(const char *url)
{
	static const char suffix[] = ".paypal.com";
	const char *host, *end, *colon, *p, *label;
	size_t n, hlen, i;

	if (!url || (n = strnlen(url, PAYPAL_URL_MAX + 1)) > PAYPAL_URL_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] > '~')
			return false;
	if (strncasecmp(url, "https://", 8))
		return false;
	host = url + 8;
	end = host + strcspn(host, "/?#");
	colon = memchr(host, ':', (size_t)(end - host));
	if (colon && ((size_t)(end - colon) != 4 || strncmp(colon, ":443", 4)))
		return false;
	hlen = (size_t)((colon ? colon : end) - host);
	/* a host name only: no userinfo, brackets (IPv6), escapes */
	for (label = p = host; p < host + hlen; p++) {
		if (*p == '.') {
			if (p == label || p[-1] == '-')
				return false;
			label = p + 1;
		} else if (*p == '-') {
			if (p == label)
				return false;
		} else if (!(*p >= 'a' && *p <= 'z') &&
			   !(*p >= 'A' && *p <= 'Z') &&
			   !(*p >= '0' && *p <= '9')) {
			return false;
		}
	}
	if (hlen == 0 || p == label || p[-1] == '-')
		return false;
	if (hlen == sizeof(suffix) - 2)
		return !strncasecmp(host, suffix + 1, hlen);
	return hlen > sizeof(suffix) - 1 &&
	       !strncasecmp(host + hlen - (sizeof(suffix) - 1), suffix,
			    sizeof(suffix) - 1);
}

int dg_paypal_cert_fetch(const char *url, const struct dg_http_opts *o,
			 char **pem, size_t *pem_len, char **why)
{
	struct dg_http_opts opts = *o;
	struct dg_http_resp resp;
	enum dg_http_outcome out;
	X509 *cert;

	*pem = NULL;
	*pem_len = 0;
	*why = NULL;
	if (!dg_paypal_cert_url_ok(url)) {
		*why = dg_xasprintf("PAYPAL-CERT-URL: %s is not an https URL "
				    "on a PayPal host",
				    dg_quoted(url));
		return DG_EXIT_DATAERR;
	}
	opts.max_size = CERT_FETCH_MAX;
	/* the host was checked: a redirect could leave it */
	opts.max_redirs = 0;
	memset(&resp, 0, sizeof(resp));
	out = dg_http_get_retry(url, &opts, NULL, NULL, &resp);
	if (out != DG_HTTP_OK) {
		*why = dg_xasprintf("PayPal certificate %s: %s", dg_quoted(url),
				    out == DG_HTTP_NOT_MODIFIED
					    ? "unexpected 304"
					    : resp.error);
		dg_http_resp_free(&resp);
		return out == DG_HTTP_TRANSIENT ? DG_EXIT_TEMPFAIL
						: DG_EXIT_UNAVAILABLE;
	}
	if (!(cert = read_cert(resp.body, resp.len))) {
		*why = dg_xasprintf("PayPal certificate %s: not a PEM X.509 "
				    "certificate",
				    dg_quoted(url));
		dg_http_resp_free(&resp);
		return DG_EXIT_DATAERR;
	}
	X509_free(cert);
	*pem = resp.body;
	*pem_len = resp.len;
	resp.body = NULL;
	dg_http_resp_free(&resp);
	return 0;
}

/* ------------------------------------------------------------ secret */

static int secret_from_file(const char *file, unsigned char **secret,
			    size_t *len)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	struct stat st;
	ssize_t got;
	int fd, rc = 0;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		dg_error("cannot open secret file %s: %s", dg_quoted_path(file),
			 strerror(errno));
		return DG_EXIT_NOINPUT;
	}
	if (fstat(fd, &st)) {
		dg_error("cannot stat secret file %s: %s", dg_quoted_path(file),
			 strerror(errno));
		close(fd);
		return DG_EXIT_IOERR;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH)))
		dg_warn("secret file %s is readable by %s (mode %04o): "
			"chmod 600 it",
			dg_quoted_path(file),
			st.st_mode & S_IROTH ? "others" : "its group",
			(unsigned)(st.st_mode & 07777));
	buf = dg_xmalloc(SECRET_MAX + 1);
	for (;;) {
		got = read(fd, buf + n, SECRET_MAX + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			dg_error("cannot read secret file %s: %s",
				 dg_quoted_path(file), strerror(errno));
			rc = DG_EXIT_IOERR;
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > SECRET_MAX) {
			dg_error("secret file %s: longer than %d bytes",
				 dg_quoted_path(file), SECRET_MAX);
			rc = DG_EXIT_DATAERR;
			goto out;
		}
	}
	/* one trailing newline, as an editor or echo leaves it (CRLF is
	 * one newline too) */
	if (n && buf[n - 1] == '\n') {
		n--;
		if (n && buf[n - 1] == '\r')
			n--;
	}
	if (!n) {
		dg_error("secret file %s is empty", dg_quoted_path(file));
		rc = DG_EXIT_DATAERR;
		goto out;
	}
	*secret = dg_xmalloc(n);
	memcpy(*secret, buf, n);
	*len = n;
out:
	OPENSSL_cleanse(buf, SECRET_MAX + 1);
	free(buf);
	close(fd);
	return rc;
}

int dg_secret_load(const char *file, unsigned char **secret, size_t *len)
{
	const char *env;

	*secret = NULL;
	*len = 0;
	if (file)
		return secret_from_file(file, secret, len);
	if (!(env = getenv("DAIGOU_WEBHOOK_SECRET")))
		return 0;
	if (!*env) {
		/* set but empty: a mistake, never "no secret" in silence */
		dg_error("DAIGOU_WEBHOOK_SECRET is set but empty");
		return DG_EXIT_DATAERR;
	}
	*len = strlen(env);
	*secret = dg_xmalloc(*len);
	memcpy(*secret, env, *len);
	return 0;
}
