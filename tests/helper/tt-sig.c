/* dg-test-tool sig: signed callbacks for the shell tests, made the way
 * the gateways make them (the library only verifies).
 *
 *   sig keygen KEYFILE CERTFILE
 *     A new 2048-bit RSA key (PEM) and a self-signed certificate for it
 *     (PEM, valid a year), as PayPal's signing key and certificate.
 *   sig paypal-sign KEYFILE ID TIME WEBHOOK_ID BODYFILE
 *     The PAYPAL-TRANSMISSION-SIG value (base64 RSA-SHA256) of
 *     "ID|TIME|WEBHOOK_ID|crc32(body)".
 *   sig stripe-sign SECRET_FILE T BODYFILE
 *     The Stripe-Signature value "t=T,v1=HEX" (HMAC-SHA256 of "T.body").
 *   sig generic-sign SECRET_FILE BODYFILE
 *     The X-Signature value "sha256=HEX" (HMAC-SHA256 of the body).
 *   sig crc32 BODYFILE
 *     The body's CRC-32 in unsigned decimal.
 *
 * BODYFILE "-" is stdin; the body is used byte for byte. A SECRET_FILE
 * is read as pay-ingest --secret-file reads it (one trailing newline
 * dropped).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>

#include "test-tool.h"
#include "testkey.h"
#include "daigou.h"

static const char usage[] =
	"usage: dg-test-tool sig keygen KEYFILE CERTFILE\n"
	"       dg-test-tool sig paypal-sign KEYFILE ID TIME WEBHOOK_ID "
	"BODYFILE\n"
	"       dg-test-tool sig stripe-sign SECRET_FILE T BODYFILE\n"
	"       dg-test-tool sig generic-sign SECRET_FILE BODYFILE\n"
	"       dg-test-tool sig crc32 BODYFILE\n";

/* The whole file (or stdin for "-"), malloc'd and NUL-terminated. */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 4096, n = 0, got;
	char *buf;

	if (!fp) {
		dg_error("cannot open %s", dg_quoted_path(path));
		return NULL;
	}
	buf = dg_xmalloc(cap);
	while ((got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
		n += got;
		if (cap - n - 1 == 0)
			buf = dg_xrealloc(buf, cap *= 2);
	}
	if (ferror(fp)) {
		dg_error("cannot read %s", dg_quoted_path(path));
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
		*len = n;
	}
	if (fp != stdin)
		fclose(fp);
	return buf;
}

static int spill(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (!fp || fwrite(text, 1, len, fp) != len || fclose(fp)) {
		dg_error("cannot write %s", dg_quoted_path(path));
		return DG_EXIT_CANTCREAT;
	}
	return 0;
}

static int keygen(const char *keyfile, const char *certfile)
{
	EVP_PKEY *key = testkey_rsa(2048);
	char *kp = NULL, *cp = NULL;
	size_t kl = 0, cl = 0;
	int rc = DG_EXIT_SOFTWARE;

	if (key && (kp = testkey_key_pem(key, &kl)) &&
	    (cp = testkey_cert_pem(key, "messageverificationcerts.paypal.com",
				   &cl)))
		rc = dg_exit_worst(spill(keyfile, kp, kl),
				   spill(certfile, cp, cl));
	else
		dg_error("cannot make a key and certificate");
	free(kp);
	free(cp);
	EVP_PKEY_free(key);
	return rc;
}

static int paypal_sign(char **argv)
{
	char *pem, *body, *text, *sig;
	size_t pem_len, len;
	EVP_PKEY *key;

	if (!(pem = slurp(argv[1], &pem_len)))
		return DG_EXIT_NOINPUT;
	key = testkey_read_key(pem, pem_len);
	free(pem);
	if (!key) {
		dg_error("%s: not a PEM private key", dg_quoted_path(argv[1]));
		return DG_EXIT_DATAERR;
	}
	if (!(body = slurp(argv[5], &len))) {
		EVP_PKEY_free(key);
		return DG_EXIT_NOINPUT;
	}
	text = dg_xasprintf("%s|%s|%s|%lu", argv[2], argv[3], argv[4],
			    (unsigned long)dg_crc32(body, len));
	sig = testkey_sign_b64(key, text, strlen(text));
	if (sig)
		printf("%s\n", sig);
	else
		dg_error("cannot sign");
	free(sig);
	free(text);
	free(body);
	EVP_PKEY_free(key);
	return sig ? 0 : DG_EXIT_SOFTWARE;
}

/* HMAC-SHA256 of prefix || body with the secret file's secret, as hex:
 * one buffer and libcrypto's one-shot HMAC(), not the library's code. */
static int hmac_hex(const char *secret_file, const char *prefix,
		    const char *body_file, const char *out_prefix)
{
	unsigned char *secret, mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, i;
	size_t slen, blen, plen = strlen(prefix);
	char *body, *msg;
	int rc;

	if ((rc = dg_secret_load(secret_file, &secret, &slen)))
		return rc;
	if (!(body = slurp(body_file, &blen))) {
		free(secret);
		return DG_EXIT_NOINPUT;
	}
	msg = dg_xmalloc(plen + blen + 1);
	memcpy(msg, prefix, plen);
	memcpy(msg + plen, body, blen);
	if (!HMAC(EVP_sha256(), secret, (int)slen, (unsigned char *)msg,
		  plen + blen, mac, &maclen)) {
		dg_error("HMAC failed");
		rc = DG_EXIT_SOFTWARE;
	} else {
		printf("%s", out_prefix);
		for (i = 0; i < maclen; i++)
			printf("%02x", mac[i]);
		printf("\n");
	}
	free(msg);
	free(body);
	free(secret);
	return rc;
}

int tt_sig(int argc, char **argv)
{
	char *prefix, *out, *body;
	size_t len;
	int rc;

	if (argc == 4 && !strcmp(argv[1], "keygen"))
		return keygen(argv[2], argv[3]);
	if (argc == 7 && !strcmp(argv[1], "paypal-sign"))
		return paypal_sign(argv + 1);
	if (argc == 5 && !strcmp(argv[1], "stripe-sign")) {
		prefix = dg_xasprintf("%s.", argv[3]);
		out = dg_xasprintf("t=%s,v1=", argv[3]);
		rc = hmac_hex(argv[2], prefix, argv[4], out);
		free(prefix);
		free(out);
		return rc;
	}
	if (argc == 4 && !strcmp(argv[1], "generic-sign"))
		return hmac_hex(argv[2], "", argv[3], "sha256=");
	if (argc == 3 && !strcmp(argv[1], "crc32")) {
		if (!(body = slurp(argv[2], &len)))
			return DG_EXIT_NOINPUT;
		printf("%lu\n", (unsigned long)dg_crc32(body, len));
		free(body);
		return 0;
	}
	fputs(usage, stderr);
	return DG_EXIT_USAGE;
}
