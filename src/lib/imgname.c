/*
 * imgname.c - where an image lands under --dir, and what its body is.
 *
 * A name that is already safe as one path component is kept byte for
 * byte; any other is rewritten so that it can never climb out of its
 * product's directory, hide itself, or break a terminal. Product ids are
 * never rewritten: two ids that sanitise alike would share a directory,
 * so an unsafe id is refused instead.
 *
 * The body is judged by its magic number, never by the url or the
 * Content-Type alone: an HTML error page served with 200 and an image
 * type is the common lie.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daigou.h"

/* The longest ".ext" kept through a cut (".jpeg", ".webp", ...). */
#define EXT_MAX 32
/* "-" and 8 hex digits */
#define SUFFIX_LEN 9

/* The length of the strict UTF-8 character at s (n bytes left), or 0
 * when the bytes there are not one (overlong forms, surrogates and code
 * points past U+10FFFF are not). */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static int control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* NULL when name is safe, else why not. */
static const char *unsafe_reason(const char *name, size_t len)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i, k;

	if (len == 0)
		return "is empty";
	if ((len == 1 && s[0] == '.') || (len == 2 && !memcmp(s, "..", 2)))
		return "is '.' or '..'";
	if (s[0] == '.')
		return "starts with '.'";
	if (len > DG_IMG_NAME_MAX)
		return "is longer than 255 bytes";
	for (i = 0; i < len; i += k) {
		if (s[i] == '/')
			return "contains '/'";
		if (control(s[i]))
			return "contains a control character";
		k = utf8_char(s + i, len - i);
		if (k == 0)
			return "is not valid UTF-8";
	}
	return NULL;
}

int dg_img_name_safe(const char *name, size_t len)
{
	return name != NULL && unsafe_reason(name, len) == NULL;
}

int dg_img_product_ok(const char *product_id, size_t len, const char **why)
{
	const char *r =
		product_id ? unsafe_reason(product_id, len) : "is empty";

	if (why)
		*why = r;
	return r ? -1 : 0;
}

/* Where the extension of s (len bytes) starts: its last '.' when that is
 * not the first byte and at most EXT_MAX bytes from the end; else len. */
static size_t ext_start(const char *s, size_t len)
{
	size_t i = len;

	while (i > 1 && len - i < EXT_MAX) {
		i--;
		if (s[i] == '.')
			return i;
	}
	return len;
}

/* The longest prefix of the valid UTF-8 text s that is at most max
 * bytes and ends on a character boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* stem (cut to fit) + mid + ext, at most DG_IMG_NAME_MAX bytes. */
static char *join_cut(const char *stem, size_t slen, const char *mid,
		      size_t mlen, const char *ext, size_t elen)
{
	size_t keep = utf8_cut(stem, slen, DG_IMG_NAME_MAX - mlen - elen);
	char *out = dg_xmalloc(keep + mlen + elen + 1);

	memcpy(out, stem, keep);
	memcpy(out + keep, mid, mlen);
	memcpy(out + keep + mlen, ext, elen);
	out[keep + mlen + elen] = '\0';
	return out;
}

char *dg_img_name_sanitize(const char *name, size_t len)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i, k, o = 0, e;
	char *buf, *out;

	if (name == NULL)
		goto empty;
	if (dg_img_name_safe(name, len))
		return dg_xstrndup(name, len);
	buf = dg_xmalloc(len + 1);
	for (i = 0; i < len; i += k) {
		k = utf8_char(s + i, len - i);
		if (k == 0 || s[i] == '/' || control(s[i])) {
			k = 1;
			buf[o++] = '_';
		} else if (o == 0 && s[i] == '.') {
			continue; /* a leading dot, also after others */
		} else {
			memcpy(buf + o, s + i, k);
			o += k;
		}
	}
	if (o == 0) {
		free(buf);
		goto empty;
	}
	e = ext_start(buf, o);
	out = join_cut(buf, e, "", 0, buf + e, o - e);
	free(buf);
	return out;
empty:
	errno = EINVAL;
	return NULL;
}

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

char *dg_img_name_from_url(const char *url)
{
	const char *path, *end, *seg, *p;
	char *raw, *out;
	size_t o = 0;
	int hi, lo;

	if (url == NULL)
		goto none;
	path = strstr(url, "://");
	if (path && (size_t)(path - url) < strcspn(url, "/?#")) {
		path += 3; /* the authority, up to the path */
		path += strcspn(path, "/?#");
	} else
		path = url;
	end = path + strcspn(path, "?#");
	seg = end;
	while (seg > path && seg[-1] != '/')
		seg--;
	if (seg == end)
		goto none; /* no path, or it ends in '/' */
	raw = dg_xmalloc((size_t)(end - seg) + 1);
	for (p = seg; p < end; p++) {
		if (*p == '%' && end - p >= 3 &&
		    (hi = hexval((unsigned char)p[1])) >= 0 &&
		    (lo = hexval((unsigned char)p[2])) >= 0) {
			raw[o++] = (char)(hi << 4 | lo);
			p += 2;
		} else
			raw[o++] = *p;
	}
	out = dg_img_name_sanitize(raw, o);
	free(raw);
	return out;
none:
	errno = EINVAL;
	return NULL;
}

char *dg_img_name_suffixed(const char *name, const char *url)
{
	char hex[65], mid[SUFFIX_LEN + 1], *safe, *out;
	size_t len, e;

	safe = dg_img_name_sanitize(name, name ? strlen(name) : 0);
	if (safe == NULL)
		return NULL;
	dg_sha256_hex(url ? url : "", url ? strlen(url) : 0, hex);
	mid[0] = '-';
	memcpy(mid + 1, hex, SUFFIX_LEN - 1);
	mid[SUFFIX_LEN] = '\0';
	len = strlen(safe);
	e = ext_start(safe, len);
	out = join_cut(safe, e, mid, SUFFIX_LEN, safe + e, len - e);
	free(safe);
	return out;
}

/* ------------------------------------------------------------ bodies */

static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static int avif_brand(const unsigned char *b)
{
	return !memcmp(b, "avif", 4) || !memcmp(b, "avis", 4);
}

/* An ftyp box (size, "ftyp", major brand, minor version, compatible
 * brands) whose major or a compatible brand says AVIF. A size of 0
 * runs to the end of what is given; a 64-bit size (1) is not an ftyp
 * any encoder writes. */
static int sniff_avif(const unsigned char *b, size_t n)
{
	size_t size, i;

	if (n < 12 || memcmp(b + 4, "ftyp", 4))
		return 0;
	size = be32(b);
	if (size == 0)
		size = n;
	if (size < 16)
		return 0;
	if (avif_brand(b + 8))
		return 1;
	if (size > n)
		size = n;
	for (i = 16; i + 4 <= size; i += 4)
		if (avif_brand(b + i))
			return 1;
	return 0;
}

enum dg_img_type dg_img_sniff(const unsigned char *b, size_t n)
{
	static const unsigned char png[8] = {0x89, 'P',	 'N',  'G',
					     '\r', '\n', 0x1a, '\n'};

	if (b == NULL)
		return DG_IMG_NONE;
	if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
		return DG_IMG_JPEG;
	if (n >= 8 && !memcmp(b, png, 8))
		return DG_IMG_PNG;
	if (n >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6)))
		return DG_IMG_GIF;
	if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
		return DG_IMG_WEBP;
	if (sniff_avif(b, n))
		return DG_IMG_AVIF;
	return DG_IMG_NONE;
}

static const char *const type_names[] = {"none", "jpeg", "png",
					 "gif",	 "webp", "avif"};

const char *dg_img_type_name(enum dg_img_type t)
{
	if ((unsigned)t >= sizeof(type_names) / sizeof(type_names[0]))
		return "none";
	return type_names[t];
}

/* RFC 9110's token characters. */
static int tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

enum dg_img_type dg_img_content_type(const char *value, int *ok)
{
	static const char *const neutral[] = {"application/octet-stream",
					      "binary/octet-stream"};
	const unsigned char *s = (const unsigned char *)value, *t, *slash;
	size_t len, i;

	*ok = 1;
	if (value == NULL)
		return DG_IMG_NONE;
	while (ows(*s))
		s++;
	if (*s == '\0')
		return DG_IMG_NONE;
	for (t = s, slash = NULL; tchar(*t) || (*t == '/' && !slash); t++)
		if (*t == '/')
			slash = t;
	len = (size_t)(t - s);
	while (ows(*t))
		t++;
	if (!slash || slash == s || slash + 1 == s + len ||
	    (*t != '\0' && *t != ';')) {
		*ok = 0;
		return DG_IMG_NONE;
	}
	for (i = DG_IMG_JPEG; i <= DG_IMG_AVIF; i++)
		if (len == 6 + strlen(type_names[i]) &&
		    !strncasecmp((const char *)s, "image/", 6) &&
		    !strncasecmp((const char *)s + 6, type_names[i], len - 6))
			return (enum dg_img_type)i;
	if (len >= 6 && !strncasecmp((const char *)s, "image/", 6))
		return DG_IMG_NONE;
	for (i = 0; i < sizeof(neutral) / sizeof(neutral[0]); i++)
		if (len == strlen(neutral[i]) &&
		    !strncasecmp((const char *)s, neutral[i], len))
			return DG_IMG_NONE;
	*ok = 0;
	return DG_IMG_NONE;
}
