/* testkey: see testkey.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "testkey.h"

EVP_PKEY *testkey_rsa(int bits)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	EVP_PKEY *key = NULL;

	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) != 1 ||
	    EVP_PKEY_keygen(ctx, &key) != 1)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* What was written to a memory BIO, as a malloc'd string. */
static char *bio_text(BIO *bio, size_t *len)
{
	char *data, *s;
	long n = BIO_get_mem_data(bio, &data);

	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	if (len)
		*len = (size_t)n;
	return s;
}

char *testkey_cert_pem(EVP_PKEY *key, const char *cn, size_t *len)
{
	X509 *x = X509_new();
	X509_NAME *name;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;

	if (!x || !bio || X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) ||
	    X509_set_pubkey(x, key) != 1 ||
	    !(name = X509_get_subject_name(x)) ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				       (const unsigned char *)cn, -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    !X509_sign(x, key, EVP_sha256()) || PEM_write_bio_X509(bio, x) != 1)
		goto out;
	pem = bio_text(bio, len);
out:
	BIO_free(bio);
	X509_free(x);
	return pem;
}

char *testkey_key_pem(EVP_PKEY *key, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;

	if (bio &&
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1)
		pem = bio_text(bio, len);
	BIO_free(bio);
	return pem;
}

EVP_PKEY *testkey_read_key(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *key = NULL;

	if (bio)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return key;
}

char *testkey_sign_b64(EVP_PKEY *key, const void *text, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	char *b64 = NULL;
	size_t siglen = 0;

	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, text, len) != 1 ||
	    !(sig = malloc(siglen)) ||
	    EVP_DigestSign(md, sig, &siglen, text, len) != 1 ||
	    !(b64 = malloc(4 * ((siglen + 2) / 3) + 1)))
		goto out;
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
out:
	free(sig);
	EVP_MD_CTX_free(md);
	return b64;
}
