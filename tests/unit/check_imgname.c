/*
 * check_imgname: image file names, product directories, magic numbers
 * and Content-Type values (imgname.c).
 *
 * The hash suffixes were computed outside this code with python3:
 *   hashlib.sha256(URL.encode()).hexdigest()[:8]
 * Every body given to dg_img_sniff is copied into a buffer of exactly
 * its length, so that a sanitizer build catches a read past it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "daigou.h"

#define S(lit) lit, sizeof(lit) - 1

/* n copies of unit, then tail: malloc'd, *len set. */
static char *repeat(const char *unit, size_t n, const char *tail, size_t *len)
{
	size_t u = strlen(unit), t = strlen(tail), i;
	char *s = dg_xmalloc(u * n + t + 1);

	for (i = 0; i < n; i++)
		memcpy(s + i * u, unit, u);
	memcpy(s + u * n, tail, t + 1);
	*len = u * n + t;
	return s;
}

/* ------------------------------------------------------------ safety */

static const struct {
	const char *name;
	size_t len;
	const char *why; /* NULL: safe */
} safety[] = {
	{S("photo.jpg"), NULL},
	{S("IMG 0001 (1).JPG"), NULL},
	{S("a..b"), NULL},
	{S("x."), NULL},
	{S("-rf"), NULL},
	{S("\xe6\x97\xa5\xe6\x9c\xac.jpg"), NULL},
	{S("\xf0\x9f\x91\x9f.png"), NULL},
	{S("../../etc/passwd"), "starts with '.'"},
	{S("a/b"), "contains '/'"},
	{S(".hidden"), "starts with '.'"},
	{S(""), "is empty"},
	{S("."), "is '.' or '..'"},
	{S(".."), "is '.' or '..'"},
	{S("a\0b"), "contains a control character"},
	{S("a\tb"), "contains a control character"},
	{S("a\nb"), "contains a control character"},
	{S("a\x7f"), "contains a control character"},
	{S("\xff.jpg"), "is not valid UTF-8"},
	{S("\xc0\xaf"), "is not valid UTF-8"},	       /* overlong '/' */
	{S("\xe0\x80\xaf"), "is not valid UTF-8"},     /* overlong '/' */
	{S("\xed\xa0\x80"), "is not valid UTF-8"},     /* a surrogate */
	{S("\xf4\x90\x80\x80"), "is not valid UTF-8"}, /* past U+10FFFF */
	{S("\xe6\x97"), "is not valid UTF-8"},	       /* cut short */
};

START_TEST(test_safety)
{
	const char *why = "unset";
	int ok = dg_img_name_safe(safety[_i].name, safety[_i].len);

	ck_assert_int_eq(ok, safety[_i].why == NULL);
	ck_assert_int_eq(
		dg_img_product_ok(safety[_i].name, safety[_i].len, &why),
		safety[_i].why ? -1 : 0);
	if (safety[_i].why)
		ck_assert_str_eq(why, safety[_i].why);
	else
		ck_assert_ptr_null(why);
}
END_TEST

START_TEST(test_safety_length)
{
	const char *why;
	size_t len;
	char *s = repeat("a", 255, "", &len);

	ck_assert_int_eq(dg_img_name_safe(s, len), 1);
	ck_assert_int_eq(dg_img_product_ok(s, len, &why), 0);
	free(s);
	s = repeat("a", 300, "", &len);
	ck_assert_int_eq(dg_img_name_safe(s, 256), 0);
	ck_assert_int_eq(dg_img_product_ok(s, 300, &why), -1);
	ck_assert_str_eq(why, "is longer than 255 bytes");
	ck_assert_int_eq(dg_img_product_ok(NULL, 0, &why), -1);
	ck_assert_str_eq(why, "is empty");
	ck_assert_int_eq(dg_img_name_safe(NULL, 0), 0);
	free(s);
}
END_TEST

/* ---------------------------------------------------------- sanitise */

static const struct {
	const char *name;
	size_t len;
	const char *want; /* NULL: nothing usable */
} sanitized[] = {
	{S("photo.jpg"), "photo.jpg"},
	{S("IMG 0001 (1).JPG"), "IMG 0001 (1).JPG"},
	{S("\xe6\x97\xa5\xe6\x9c\xac.jpg"), "\xe6\x97\xa5\xe6\x9c\xac.jpg"},
	{S("../../etc/passwd"), "_.._etc_passwd"},
	{S("/etc/passwd"), "_etc_passwd"},
	{S("a/b"), "a_b"},
	{S(".hidden"), "hidden"},
	{S("...hidden.jpg"), "hidden.jpg"},
	{S("a\0b.jpg"), "a_b.jpg"},
	{S("\0"), "_"},
	{S("tab\there\r\n.png"), "tab_here__.png"},
	{S("del\x7f.gif"), "del_.gif"},
	{S("\xff.jpg"), "_.jpg"},
	{S("\xc0\xaf.jpg"), "__.jpg"},
	{S("\xed\xa0\x80x"), "___x"},
	{S("\xe6\x97.jpg"), "__.jpg"},
	{S("\x1b[31mred.jpg"), "_[31mred.jpg"},
	{S(""), NULL},
	{S("."), NULL},
	{S(".."), NULL},
	{S("..."), NULL},
};

START_TEST(test_sanitize)
{
	char *got;

	errno = 0;
	got = dg_img_name_sanitize(sanitized[_i].name, sanitized[_i].len);
	if (sanitized[_i].want == NULL) {
		ck_assert_ptr_null(got);
		ck_assert_int_eq(errno, EINVAL);
		return;
	}
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, sanitized[_i].want);
	ck_assert_int_eq(dg_img_name_safe(got, strlen(got)), 1);
	free(got);
}
END_TEST

static const struct {
	const char *unit;
	size_t n;
	const char *tail;
	const char *want_unit; /* want: want_unit times want_n, want_tail */
	size_t want_n;
	const char *want_tail;
} cuts[] = {
	/* 300 bytes: cut to 255 keeping ".jpg" */
	{"a", 300, ".jpg", "a", 251, ".jpg"},
	{"a", 300, "", "a", 255, ""},
	{"a", 256, "", "a", 255, ""},
	/* 2-byte characters: 125 of them fit before ".png" (254 bytes) */
	{"\xc3\xa9", 200, ".png", "\xc3\xa9", 125, ".png"},
	/* 3-byte characters: 83 of them fit before ".jpeg" (254 bytes) */
	{"\xe6\x97\xa5", 100, ".jpeg", "\xe6\x97\xa5", 83, ".jpeg"},
	/* 4-byte characters: 62 fit before ".webp" (253 bytes) */
	{"\xf0\x9f\x91\x9f", 80, ".webp", "\xf0\x9f\x91\x9f", 62, ".webp"},
	/* an "extension" past 32 bytes is not kept as one */
	{"a", 300, ".bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "a", 255, ""},
	/* a leading dot is removed before the cut */
	{".", 1, "", "", 0, ""},
};

START_TEST(test_sanitize_cut)
{
	size_t len, wlen;
	char *name = repeat(cuts[_i].unit, cuts[_i].n, cuts[_i].tail, &len);
	char *want = repeat(cuts[_i].want_unit, cuts[_i].want_n,
			    cuts[_i].want_tail, &wlen);
	char *got = dg_img_name_sanitize(name, len);

	if (wlen == 0) {
		ck_assert_ptr_null(got);
	} else {
		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, want);
		ck_assert_uint_le(strlen(got), 255);
		ck_assert_int_eq(dg_img_name_safe(got, strlen(got)), 1);
	}
	free(got);
	free(want);
	free(name);
}
END_TEST

/* A long name that is cut also loses its leading dots and bad bytes. */
START_TEST(test_sanitize_cut_mixed)
{
	size_t len;
	char *name = repeat("a/", 150, ".jpg", &len), *got;
	char *want = dg_xmalloc(256);
	size_t i;

	name[0] = '.';
	got = dg_img_name_sanitize(name, len);
	/* ".", then "/a/" ... : the dot removed, '/' as '_' */
	for (i = 0; i < 251; i++)
		want[i] = i % 2 ? 'a' : '_';
	memcpy(want + 251, ".jpg", 5);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	free(name);
}
END_TEST

/* A safe name comes back byte for byte, up to 255 bytes. */
START_TEST(test_sanitize_keeps_safe)
{
	size_t len;
	char *name = repeat("\xc3\xa9", 125, ".png", &len), *got;

	ck_assert_uint_eq(len, 254);
	got = dg_img_name_sanitize(name, len);
	ck_assert_str_eq(got, name);
	ck_assert_ptr_ne(got, name);
	free(got);
	free(name);
	ck_assert_ptr_null(dg_img_name_sanitize(NULL, 0));
}
END_TEST

/* ----------------------------------------------------------- from url */

static const struct {
	const char *url, *want;
} from_url[] = {
	{"https://cdn.example.com/img/p1/photo.jpg", "photo.jpg"},
	{"https://cdn.example.com/img/photo.jpg?w=800&h=600", "photo.jpg"},
	{"https://cdn.example.com/img/photo.jpg#top", "photo.jpg"},
	{"https://cdn.example.com/img/photo.jpg?next=/a/b.png#c/d.gif",
	 "photo.jpg"},
	{"https://cdn.example.com/img/photo.jpg#x?y", "photo.jpg"},
	{"https://cdn.example.com/img/red%20shoe%281%29.jpg",
	 "red shoe(1).jpg"},
	{"https://cdn.example.com/img/%E6%97%A5%e6%9c%ac.jpg",
	 "\xe6\x97\xa5\xe6\x9c\xac.jpg"},
	{"https://cdn.example.com/img/..%2F..%2Fetc%2Fpasswd",
	 "_.._etc_passwd"},
	{"https://cdn.example.com/img/a%00b.jpg", "a_b.jpg"},
	{"https://cdn.example.com/img/.hidden.png", "hidden.png"},
	{"https://cdn.example.com/img/%2ehidden.png", "hidden.png"},
	{"https://cdn.example.com/img/a%zz.jpg", "a%zz.jpg"},
	{"https://cdn.example.com/img/a%4", "a%4"},
	{"https://cdn.example.com/img/100%", "100%"},
	{"https://cdn.example.com/img/%ff.jpg", "_.jpg"},
	{"https://user@cdn.example.com:8443/x/y.gif", "y.gif"},
	{"https://cdn.example.com/p;v=1/photo.webp", "photo.webp"},
	{"http://127.0.0.1:8080/a.avif", "a.avif"},
	{"https://cdn.example.com/img/", NULL},
	{"https://cdn.example.com/img/photo.jpg/", NULL},
	{"https://cdn.example.com/", NULL},
	{"https://cdn.example.com", NULL},
	{"https://cdn.example.com?x=/a.jpg", NULL},
	{"https://cdn.example.com#/a.jpg", NULL},
	{"https://cdn.example.com/img/.", NULL},
	{"https://cdn.example.com/img/..", NULL},
	{"https://cdn.example.com/img/%2e%2E", NULL},
	{"https://cdn.example.com/img/?a.jpg", NULL},
	{"", NULL},
};

START_TEST(test_from_url)
{
	char *got;

	errno = 0;
	got = dg_img_name_from_url(from_url[_i].url);
	if (from_url[_i].want == NULL) {
		ck_assert_ptr_null(got);
		ck_assert_int_eq(errno, EINVAL);
		return;
	}
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, from_url[_i].want);
	free(got);
}
END_TEST

START_TEST(test_from_url_long)
{
	size_t len;
	char *path = repeat("%C3%A9", 200, ".png?size=large", &len);
	char *url = dg_xasprintf("https://cdn.example.com/img/%s", path);
	char *want = repeat("\xc3\xa9", 125, ".png", &len);
	char *got = dg_img_name_from_url(url);

	ck_assert_str_eq(got, want);
	ck_assert_ptr_null(dg_img_name_from_url(NULL));
	free(got);
	free(want);
	free(url);
	free(path);
}
END_TEST

/* ----------------------------------------------------------- suffixed */

START_TEST(test_suffixed)
{
	size_t len;
	char *got, *name, *want;

	got = dg_img_name_suffixed("photo.jpg",
				   "https://a.example/p1/photo.jpg");
	ck_assert_str_eq(got, "photo-93bdd547.jpg");
	free(got);
	got = dg_img_name_suffixed("photo.jpg",
				   "https://b.example/p1/photo.jpg");
	ck_assert_str_eq(got, "photo-30b4c623.jpg");
	free(got);
	got = dg_img_name_suffixed("photo", "https://a.example/x");
	ck_assert_str_eq(got, "photo-39021306");
	free(got);
	got = dg_img_name_suffixed("archive.tar.gz", "https://a.example/x");
	ck_assert_str_eq(got, "archive.tar-39021306.gz");
	free(got);
	/* not safe: sanitised first */
	got = dg_img_name_suffixed(".x.jpg", "https://a.example/x");
	ck_assert_str_eq(got, "x-39021306.jpg");
	free(got);
	errno = 0;
	ck_assert_ptr_null(dg_img_name_suffixed("..", "https://a.example/x"));
	ck_assert_int_eq(errno, EINVAL);
	/* 255 bytes: the stem gives way, the extension stays */
	name = repeat("a", 251, ".jpg", &len);
	want = repeat("a", 242, "-39021306.jpg", &len);
	got = dg_img_name_suffixed(name, "https://a.example/x");
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(strlen(got), 255);
	free(got);
	free(want);
	free(name);
	/* and on a character boundary */
	name = repeat("\xc3\xa9", 125, ".png", &len);
	want = repeat("\xc3\xa9", 121, "-39021306.png", &len);
	got = dg_img_name_suffixed(name, "https://a.example/x");
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(dg_img_name_safe(got, strlen(got)), 1);
	free(got);
	free(want);
	free(name);
}
END_TEST

/* ------------------------------------------------------------- sniff */

static const struct {
	const char *what;
	const char *bytes;
	size_t len;
	enum dg_img_type want;
} sniffs[] = {
	{"jpeg", S("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), DG_IMG_JPEG},
	{"jpeg, 3 bytes", S("\xff\xd8\xff"), DG_IMG_JPEG},
	{"jpeg cut", S("\xff\xd8"), DG_IMG_NONE},
	{"jpeg near", S("\xff\xd8\xfe\xe0"), DG_IMG_NONE},
	{"png", S("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), DG_IMG_PNG},
	{"png, 8 bytes", S("\x89PNG\r\n\x1a\n"), DG_IMG_PNG},
	{"png cut", S("\x89PNG\r\n\x1a"), DG_IMG_NONE},
	{"png, line ends changed", S("\x89PNG\n\x1a\n\x00"), DG_IMG_NONE},
	{"gif87a", S("GIF87a\x01\x00"), DG_IMG_GIF},
	{"gif89a", S("GIF89a"), DG_IMG_GIF},
	{"gif cut", S("GIF89"), DG_IMG_NONE},
	{"gif88a", S("GIF88a\x01\x00"), DG_IMG_NONE},
	{"webp", S("RIFF\x24\x00\x00\x00WEBPVP8 "), DG_IMG_WEBP},
	{"webp, 12 bytes", S("RIFF\x24\x00\x00\x00WEBP"), DG_IMG_WEBP},
	{"webp cut", S("RIFF\x24\x00\x00\x00WEB"), DG_IMG_NONE},
	{"wave", S("RIFF\x24\x00\x00\x00WAVEfmt "), DG_IMG_NONE},
	{"avif major",
	 S("\x00\x00\x00\x1c"
	   "ftypavif\x00\x00\x00\x00"
	   "avifmif1miaf"),
	 DG_IMG_AVIF},
	{"avis major",
	 S("\x00\x00\x00\x14"
	   "ftypavis\x00\x00\x00\x00"
	   "msf1"),
	 DG_IMG_AVIF},
	{"avif compatible",
	 S("\x00\x00\x00\x20"
	   "ftypmif1\x00\x00\x00\x00"
	   "mif1miafMA1Bavif"),
	 DG_IMG_AVIF},
	{"avif, box to the end",
	 S("\x00\x00\x00\x00"
	   "ftypmif1\x00\x00\x00\x00"
	   "miafavif"),
	 DG_IMG_AVIF},
	{"avif brand past the box",
	 S("\x00\x00\x00\x14"
	   "ftypmif1\x00\x00\x00\x00"
	   "miafavif"),
	 DG_IMG_NONE},
	{"avif brand cut",
	 S("\x00\x00\x00\x1c"
	   "ftypmif1\x00\x00\x00\x00"
	   "miafavi"),
	 DG_IMG_NONE},
	{"ftyp box too short",
	 S("\x00\x00\x00\x0c"
	   "ftypavif"),
	 DG_IMG_NONE},
	{"ftyp, 64-bit size",
	 S("\x00\x00\x00\x01"
	   "ftypmif1\x00\x00\x00\x00\x00\x00\x00\x20"
	   "avif"),
	 DG_IMG_NONE},
	{"mp4",
	 S("\x00\x00\x00\x18"
	   "ftypmp42\x00\x00\x00\x00"
	   "mp42isom"),
	 DG_IMG_NONE},
	{"heic",
	 S("\x00\x00\x00\x18"
	   "ftypheic\x00\x00\x00\x00"
	   "mif1heic"),
	 DG_IMG_NONE},
	{"html", S("<!DOCTYPE html>\n<html><body>Not found</body></html>"),
	 DG_IMG_NONE},
	{"html, lower case", S("<html>"), DG_IMG_NONE},
	{"json", S("{\"error\":\"not found\"}"), DG_IMG_NONE},
	{"one byte", S("\xff"), DG_IMG_NONE},
	{"empty", S(""), DG_IMG_NONE},
};

START_TEST(test_sniff)
{
	size_t n = sniffs[_i].len;
	unsigned char *b = dg_xmalloc(n ? n : 1);
	enum dg_img_type got;

	memcpy(b, sniffs[_i].bytes, n);
	got = dg_img_sniff(b, n);
	ck_assert_msg(got == sniffs[_i].want, "%s: %s, want %s",
		      sniffs[_i].what, dg_img_type_name(got),
		      dg_img_type_name(sniffs[_i].want));
	free(b);
}
END_TEST

/* Each signature given one byte less than it needs is not the format,
 * whatever the byte after it would have been. */
START_TEST(test_sniff_prefixes)
{
	static const char *const full[] = {"\xff\xd8\xff", "\x89PNG\r\n\x1a\n",
					   "GIF89a",
					   "RIFF\x24\x00\x00\x00WEBP"};
	static const size_t lens[] = {3, 8, 6, 12};
	size_t i, n;

	for (i = 0; i < DG_NELEM(full); i++)
		for (n = 0; n < lens[i]; n++) {
			unsigned char *b = dg_xmalloc(n ? n : 1);

			memcpy(b, full[i], n);
			ck_assert_int_eq(dg_img_sniff(b, n), DG_IMG_NONE);
			free(b);
		}
	ck_assert_int_eq(dg_img_sniff(NULL, 0), DG_IMG_NONE);
}
END_TEST

/* ------------------------------------------------------ Content-Type */

static const struct {
	const char *value;
	enum dg_img_type want;
	int ok;
} ctypes[] = {
	{"image/jpeg", DG_IMG_JPEG, 1},
	{"IMAGE/JPEG", DG_IMG_JPEG, 1},
	{"image/png; charset=binary", DG_IMG_PNG, 1},
	{"image/png;charset=binary", DG_IMG_PNG, 1},
	{"  image/gif \t", DG_IMG_GIF, 1},
	{"image/webp ; q=1", DG_IMG_WEBP, 1},
	{"Image/Avif", DG_IMG_AVIF, 1},
	{"image/jpg", DG_IMG_NONE, 1},
	{"image/jpegx", DG_IMG_NONE, 1},
	{"image/svg+xml", DG_IMG_NONE, 1},
	{"image/x-icon", DG_IMG_NONE, 1},
	{"application/octet-stream", DG_IMG_NONE, 1},
	{"Application/Octet-Stream; name=a.jpg", DG_IMG_NONE, 1},
	{"binary/octet-stream", DG_IMG_NONE, 1},
	{NULL, DG_IMG_NONE, 1},
	{"", DG_IMG_NONE, 1},
	{"  ", DG_IMG_NONE, 1},
	{"text/html", DG_IMG_NONE, 0},
	{"text/html; charset=utf-8", DG_IMG_NONE, 0},
	{"TEXT/HTML", DG_IMG_NONE, 0},
	{"application/json", DG_IMG_NONE, 0},
	{"text/plain; image/png", DG_IMG_NONE, 0},
	{"image/png garbage", DG_IMG_NONE, 0},
	{"image/png,text/html", DG_IMG_NONE, 0},
	{"image", DG_IMG_NONE, 0},
	{"image/", DG_IMG_NONE, 0},
	{"/png", DG_IMG_NONE, 0},
	{"image/png/x", DG_IMG_NONE, 0},
	{"image/\"png\"", DG_IMG_NONE, 0},
};

START_TEST(test_content_type)
{
	int ok = -1;
	enum dg_img_type got = dg_img_content_type(ctypes[_i].value, &ok);

	ck_assert_msg(got == ctypes[_i].want && ok == ctypes[_i].ok,
		      "%s: %s ok=%d, want %s ok=%d",
		      ctypes[_i].value ? ctypes[_i].value : "(null)",
		      dg_img_type_name(got), ok,
		      dg_img_type_name(ctypes[_i].want), ctypes[_i].ok);
}
END_TEST

START_TEST(test_type_names)
{
	ck_assert_str_eq(dg_img_type_name(DG_IMG_NONE), "none");
	ck_assert_str_eq(dg_img_type_name(DG_IMG_JPEG), "jpeg");
	ck_assert_str_eq(dg_img_type_name(DG_IMG_PNG), "png");
	ck_assert_str_eq(dg_img_type_name(DG_IMG_GIF), "gif");
	ck_assert_str_eq(dg_img_type_name(DG_IMG_WEBP), "webp");
	ck_assert_str_eq(dg_img_type_name(DG_IMG_AVIF), "avif");
	ck_assert_str_eq(dg_img_type_name((enum dg_img_type)42), "none");
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("imgname");
	TCase *tc = tcase_create("imgname");

	tcase_add_loop_test(tc, test_safety, 0, DG_NELEM(safety));
	tcase_add_test(tc, test_safety_length);
	tcase_add_loop_test(tc, test_sanitize, 0, DG_NELEM(sanitized));
	tcase_add_loop_test(tc, test_sanitize_cut, 0, DG_NELEM(cuts));
	tcase_add_test(tc, test_sanitize_cut_mixed);
	tcase_add_test(tc, test_sanitize_keeps_safe);
	tcase_add_loop_test(tc, test_from_url, 0, DG_NELEM(from_url));
	tcase_add_test(tc, test_from_url_long);
	tcase_add_test(tc, test_suffixed);
	tcase_add_loop_test(tc, test_sniff, 0, DG_NELEM(sniffs));
	tcase_add_test(tc, test_sniff_prefixes);
	tcase_add_loop_test(tc, test_content_type, 0, DG_NELEM(ctypes));
	tcase_add_test(tc, test_type_names);
	suite_add_tcase(s, tc);
	return s;
}
