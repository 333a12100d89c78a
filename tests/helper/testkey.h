/* testkey: an RSA key and a self-signed certificate made at test time,
 * and RSA-SHA256 signatures with it, for the PayPal verification tests
 * (the unit tests and dg-test-tool sig). Nothing here is library code:
 * the library only verifies. */
#ifndef DG_TESTKEY_H
#define DG_TESTKEY_H

#include <stddef.h>

#include <openssl/evp.h>

/* A new RSA key of bits bits; NULL on failure. */
EVP_PKEY *testkey_rsa(int bits);
/* A self-signed X.509 certificate for key (CN=cn, valid a year from
 * now) in PEM, malloc'd, NUL-terminated; NULL on failure. */
char *testkey_cert_pem(EVP_PKEY *key, const char *cn, size_t *len);
/* The private key in PEM (PKCS#8), malloc'd; NULL on failure. */
char *testkey_key_pem(EVP_PKEY *key, size_t *len);
/* The key from PEM text; NULL on failure. */
EVP_PKEY *testkey_read_key(const char *pem, size_t len);
/* RSA-SHA256 (PKCS#1 v1.5) of len bytes in base64, malloc'd; NULL on
 * failure. */
char *testkey_sign_b64(EVP_PKEY *key, const void *text, size_t len);

#endif
