/*
 * check_imgfetch: the parts of the transfer engine that need no network:
 * which outcomes are retried and which count as unreachable, the waits
 * before a retry (Retry-After capped by --max-retry-after), the
 * defaults, the temporary files' names and their cleaning.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

static const struct {
	CURLcode rc;
	long status;
	enum dg_http_outcome want;
	bool unreachable;
} outcomes[] = {
	{CURLE_OK, 200, DG_HTTP_OK, false},
	{CURLE_OK, 206, DG_HTTP_OK, false},
	{CURLE_OK, 304, DG_HTTP_NOT_MODIFIED, false},
	{CURLE_OK, 408, DG_HTTP_TRANSIENT, false},
	{CURLE_OK, 429, DG_HTTP_TRANSIENT, false},
	{CURLE_OK, 500, DG_HTTP_TRANSIENT, false},
	{CURLE_OK, 503, DG_HTTP_TRANSIENT, false},
	{CURLE_OK, 599, DG_HTTP_TRANSIENT, false},
	{CURLE_OK, 404, DG_HTTP_PERMANENT, false},
	{CURLE_OK, 403, DG_HTTP_PERMANENT, false},
	{CURLE_OK, 301, DG_HTTP_PERMANENT, false}, /* past --max-redirs */
	{CURLE_COULDNT_CONNECT, 0, DG_HTTP_TRANSIENT, true},
	{CURLE_COULDNT_RESOLVE_HOST, 0, DG_HTTP_TRANSIENT, true},
	{CURLE_OPERATION_TIMEDOUT, 0, DG_HTTP_TRANSIENT, true},
	/* a body cut or too slow after the status: the server was reached */
	{CURLE_OPERATION_TIMEDOUT, 200, DG_HTTP_TRANSIENT, false},
	{CURLE_PARTIAL_FILE, 200, DG_HTTP_TRANSIENT, false},
	{CURLE_RECV_ERROR, 200, DG_HTTP_TRANSIENT, false},
	{CURLE_GOT_NOTHING, 0, DG_HTTP_TRANSIENT, false},
	{CURLE_UNSUPPORTED_PROTOCOL, 302, DG_HTTP_PERMANENT, false},
	{CURLE_TOO_MANY_REDIRECTS, 302, DG_HTTP_PERMANENT, false},
	{CURLE_FILESIZE_EXCEEDED, 200, DG_HTTP_PERMANENT, false},
	{CURLE_WRITE_ERROR, 200, DG_HTTP_PERMANENT, false},
	{CURLE_PEER_FAILED_VERIFICATION, 0, DG_HTTP_PERMANENT, false},
};

START_TEST(test_classify)
{
	bool unreachable = !outcomes[_i].unreachable;

	ck_assert_int_eq(dg_imgfetch_classify(outcomes[_i].rc,
					      outcomes[_i].status,
					      &unreachable),
			 outcomes[_i].want);
	ck_assert_int_eq(unreachable, outcomes[_i].unreachable);
}
END_TEST

START_TEST(test_defaults)
{
	struct dg_imgfetch_opts o;

	unsetenv("DAIGOU_RETRY_BASE_MS");
	unsetenv("DAIGOU_RETRY_MAX_MS");
	dg_imgfetch_opts_init(&o);
	ck_assert_int_eq(o.concurrency, 10);
	ck_assert_int_eq(o.per_host, 6);
	ck_assert_int_eq(o.limit_rate, 0);
	ck_assert_int_eq(o.max_retry_after_s, 60);
	ck_assert_int_eq(o.http.retries, 3);
	ck_assert_int_eq(o.http.timeout_s, 300);
	ck_assert_int_eq(o.http.connect_timeout_s, 10);
	ck_assert_uint_eq(o.http.max_size, 50u * 1024 * 1024);
	ck_assert_int_eq(o.http.max_redirs, 5);
	ck_assert_str_eq(dg_img_result_name(DG_IMGR_DOWNLOADED), "downloaded");
	ck_assert_str_eq(dg_img_result_name(DG_IMGR_UNCHANGED), "unchanged");
	ck_assert_str_eq(dg_img_result_name(DG_IMGR_FAILED), "failed");
}
END_TEST

START_TEST(test_retry_waits)
{
	struct dg_imgfetch_opts o;
	long w;
	int i;

	setenv("DAIGOU_RETRY_BASE_MS", "100", 1);
	setenv("DAIGOU_RETRY_MAX_MS", "1000", 1);
	dg_imgfetch_opts_init(&o);
	unsetenv("DAIGOU_RETRY_BASE_MS");
	unsetenv("DAIGOU_RETRY_MAX_MS");
	o.max_retry_after_s = 30;
	/* Retry-After: as asked, up to --max-retry-after, never jittered;
	 * not capped by the backoff's own cap */
	ck_assert_int_eq(dg_imgfetch_retry_ms(&o, 1, 0), 0);
	ck_assert_int_eq(dg_imgfetch_retry_ms(&o, 1, 2), 2000);
	ck_assert_int_eq(dg_imgfetch_retry_ms(&o, 3, 30), 30000);
	ck_assert_int_eq(dg_imgfetch_retry_ms(&o, 1, 86400), 30000);
	/* no Retry-After: doubling from the base, jittered to 50-100 %,
	 * capped */
	for (i = 0; i < 50; i++) {
		w = dg_imgfetch_retry_ms(&o, 1, -1);
		ck_assert(w >= 50 && w <= 100);
		w = dg_imgfetch_retry_ms(&o, 3, -1);
		ck_assert(w >= 200 && w <= 400);
		w = dg_imgfetch_retry_ms(&o, 10, -1);
		ck_assert(w <= 1000);
	}
}
END_TEST

static const struct {
	const char *name;
	int tmp;
} tmp_names[] = {
	{".front.jpg.tmp-Ab3dEf", 1},
	{".x.tmp-000000", 1},
	{"front.jpg.tmp-Ab3dEf", 0}, /* no leading dot: a final name */
	{".front.jpg.tmp-Ab3dE", 0},
	{".front.jpg.tmp-Ab3d-f", 0},
	{".front.jpg", 0},
	{".tmp-abcdef", 0},
	{"front.jpg", 0},
	{".img-sync.lock", 0},
};

START_TEST(test_is_tmp)
{
	ck_assert_int_eq(dg_img_is_tmp(tmp_names[_i].name), tmp_names[_i].tmp);
}
END_TEST

static void touch(int dirfd, const char *p)
{
	int fd = openat(dirfd, p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
}

START_TEST(test_clean_tmp)
{
	char dir[] = "/tmp/check_imgfetch.XXXXXX";
	char cmd[PATH_MAX + 16];
	size_t removed = 99;
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mkdirat(fd, "P1", 0777), 0);
	ck_assert_int_eq(mkdirat(fd, "P2", 0777), 0);
	ck_assert_int_eq(mkdirat(fd, "elsewhere", 0777), 0);
	touch(fd, "P1/.a.jpg.tmp-abcdef");
	touch(fd, "P1/a.jpg");
	touch(fd, "P2/.b.png.tmp-ZZZZZZ");
	touch(fd, ".img-sync.lock");
	touch(fd, ".top.tmp-abcdef"); /* not in a product directory */
	touch(fd, "elsewhere/.c.jpg.tmp-abcdef");
	/* a symlinked product directory is not followed */
	ck_assert_int_eq(symlinkat("elsewhere", fd, "P3"), 0);
	ck_assert_int_eq(dg_img_clean_tmp(fd, &removed), 0);
	ck_assert_uint_eq(removed, 3); /* elsewhere/ is a directory too */
	ck_assert_int_eq(fstatat(fd, "P1/a.jpg", &st, 0), 0);
	ck_assert_int_eq(fstatat(fd, ".img-sync.lock", &st, 0), 0);
	ck_assert_int_eq(fstatat(fd, ".top.tmp-abcdef", &st, 0), 0);
	ck_assert_int_ne(fstatat(fd, "P1/.a.jpg.tmp-abcdef", &st, 0), 0);
	close(fd);
	dg_xsnprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_clean_tmp_symlink_only)
{
	char dir[] = "/tmp/check_imgfetch.XXXXXX";
	char other[] = "/tmp/check_imgfetch_other.XXXXXX";
	char cmd[2 * PATH_MAX + 16];
	size_t removed = 99;
	struct stat st;
	int fd, ofd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_ptr_nonnull(mkdtemp(other));
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	ofd = open(other, O_RDONLY | O_DIRECTORY);
	touch(ofd, ".x.jpg.tmp-abcdef");
	ck_assert_int_eq(symlinkat(other, fd, "P1"), 0);
	ck_assert_int_eq(dg_img_clean_tmp(fd, &removed), 0);
	ck_assert_uint_eq(removed, 0);
	ck_assert_int_eq(fstatat(ofd, ".x.jpg.tmp-abcdef", &st, 0), 0);
	close(fd);
	close(ofd);
	dg_xsnprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, other);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("imgfetch");
	TCase *tc = tcase_create("imgfetch");

	tcase_add_loop_test(tc, test_classify, 0, DG_NELEM(outcomes));
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_retry_waits);
	tcase_add_loop_test(tc, test_is_tmp, 0, DG_NELEM(tmp_names));
	tcase_add_test(tc, test_clean_tmp);
	tcase_add_test(tc, test_clean_tmp_symlink_only);
	suite_add_tcase(s, tc);
	return s;
}
