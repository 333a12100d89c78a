/*
 * fuzz-imgname.c - image names, urls, magic numbers and Content-Type
 * values (imgname.c).
 *
 * Input: any bytes, taken as a name (NULs included), as a url (up to
 * the first NUL), as a body and as a header value. Properties:
 *   - dg_img_name_sanitize's result is always dg_img_name_safe, at most
 *     255 bytes, and NULL only when the input held nothing but dots and
 *     nothing else; a safe input comes back byte for byte;
 *   - dg_img_product_ok agrees with dg_img_name_safe and gives a reason
 *     exactly when it refuses;
 *   - dg_img_name_from_url never returns a name with '/', a leading
 *     dot, or one that is not safe;
 *   - dg_img_name_suffixed of a safe name is safe, keeps its extension
 *     and holds the url's hash;
 *   - dg_img_sniff never reads past n (the body is copied into a buffer
 *     of exactly n bytes, so ASan sees any read past it), and a format
 *     other than AVIF is named already by the body's first 12 bytes;
 *   - dg_img_content_type says ok=0 only with DG_IMG_NONE.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "daigou.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-imgname");
	return 0;
}

static void check_safe(const char *what, const char *s)
{
	size_t len = strlen(s);

	FUZZ_CHECK(dg_img_name_safe(s, len), "%s: not safe: %s", what, s);
	FUZZ_CHECK(len <= 255, "%s: %zu bytes", what, len);
	FUZZ_CHECK(strchr(s, '/') == NULL && s[0] != '.',
		   "%s: '/' or a leading dot: %s", what, s);
}

static void check_name(const uint8_t *data, size_t size)
{
	const char *name = (const char *)data, *why = NULL;
	int safe = dg_img_name_safe(name, size);
	char *got = dg_img_name_sanitize(name, size);
	size_t i;

	FUZZ_CHECK((dg_img_product_ok(name, size, &why) == 0) == safe,
		   "product_ok disagrees with name_safe");
	FUZZ_CHECK((why == NULL) == safe, "a reason exactly when refused");
	if (got == NULL) {
		for (i = 0; i < size; i++)
			FUZZ_CHECK(data[i] == '.',
				   "nothing left of a name with byte 0x%02x",
				   data[i]);
		return;
	}
	check_safe("sanitize", got);
	if (safe)
		FUZZ_CHECK(strlen(got) == size && !memcmp(got, name, size),
			   "a safe name was changed");
	free(got);
}

static void check_url(const uint8_t *data, size_t size)
{
	char *url = fuzz_strndup(data, size), *name, *suffixed, *dot;
	char hex[65];

	name = dg_img_name_from_url(url);
	if (name) {
		check_safe("from_url", name);
		suffixed = dg_img_name_suffixed(name, url);
		FUZZ_CHECK(suffixed != NULL, "no suffixed name for %s", name);
		check_safe("suffixed", suffixed);
		dg_sha256_hex(url, strlen(url), hex);
		hex[8] = '\0';
		FUZZ_CHECK(strstr(suffixed, hex) != NULL,
			   "suffixed %s lacks %s", suffixed, hex);
		dot = strrchr(name, '.');
		if (dot && dot != name && strlen(dot) <= 32)
			FUZZ_CHECK(strlen(suffixed) >= strlen(dot) &&
					   !strcmp(suffixed + strlen(suffixed) -
							   strlen(dot),
						   dot),
				   "suffixed %s lost the extension of %s",
				   suffixed, name);
		free(suffixed);
		free(name);
	}
	free(url);
}

static void check_sniff(const uint8_t *data, size_t size)
{
	unsigned char *b = malloc(size ? size : 1);
	enum dg_img_type t, u;
	size_t n;

	FUZZ_CHECK(b != NULL, "out of memory");
	memcpy(b, data, size);
	t = dg_img_sniff(b, size);
	FUZZ_CHECK(t >= DG_IMG_NONE && t <= DG_IMG_AVIF, "type %d", (int)t);
	/* JPEG, PNG, GIF and WebP are settled by their first 12 bytes */
	if (t != DG_IMG_NONE && t != DG_IMG_AVIF)
		for (n = 12; n < size && n < 64; n++) {
			u = dg_img_sniff(b, n);
			FUZZ_CHECK(u == t, "%s over %zu bytes, %s over %zu",
				   dg_img_type_name(t), size,
				   dg_img_type_name(u), n);
		}
	free(b);
}

static void check_ctype(const uint8_t *data, size_t size)
{
	char *value = fuzz_strndup(data, size);
	int ok = -1;
	enum dg_img_type t = dg_img_content_type(value, &ok);

	FUZZ_CHECK(ok == 0 || ok == 1, "ok=%d", ok);
	FUZZ_CHECK(ok || t == DG_IMG_NONE, "%s with ok=0", dg_img_type_name(t));
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_name(data, size);
	check_url(data, size);
	check_sniff(data, size);
	check_ctype(data, size);
	return 0;
}
