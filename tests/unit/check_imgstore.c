/*
 * check_imgstore: the images table through the store: listing decides
 * paths (a hash suffix when two urls of a product would share a name),
 * a url listed twice counts once, outcomes keep what they must, the run
 * reads back in id order, --from-db and --retry-failed list the stored
 * rows, --prune's questions.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

#define NOW   "2026-11-27T03:00:00Z"
#define LATER "2026-11-28T03:00:00Z"
#define SHA   "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char dir[] = "/tmp/check_imgstore.XXXXXX";
static char path[PATH_MAX];
static sqlite3 *db;
static struct dg_imgstore *store;

static void setup(void)
{
	memcpy(dir, "/tmp/check_imgstore.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dg_xsnprintf(path, sizeof(path), "%s/t.db", dir);
	ck_assert_int_eq(dg_db_open(path, &db), 0);
	ck_assert_ptr_nonnull(store = dg_imgstore_new(db));
}

static void teardown(void)
{
	char f[PATH_MAX + 8];

	dg_imgstore_free(store);
	dg_db_close(db);
	dg_xsnprintf(f, sizeof(f), "%s-wal", path);
	unlink(f);
	dg_xsnprintf(f, sizeof(f), "%s-shm", path);
	unlink(f);
	unlink(path);
	rmdir(dir);
}

static const char *query_text(const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;

	buf[0] = '\0';
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && (t = sqlite3_column_text(st, 0)))
		dg_xsnprintf(buf, len, "%s", (const char *)t);
	sqlite3_finalize(st);
	return buf;
}

/* List one url in its own transaction; the path chosen. */
static char *list(const char *product, const char *name, const char *url,
		  const char *want, bool *dup)
{
	char *p = NULL;
	bool d = false;

	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(
		dg_imgstore_list(store, product, name, url, want, NOW, &p, &d),
		0);
	ck_assert_int_eq(dg_db_commit(db), 0);
	if (dup)
		*dup = d;
	return p;
}

START_TEST(test_paths)
{
	char *suffixed =
		dg_img_name_suffixed("front.jpg", "http://b/front.jpg");
	char want[300], buf[300];
	char *p;
	bool dup;

	p = list("P1", "front.jpg", "http://a/front.jpg", NULL, &dup);
	ck_assert_str_eq(p, "P1/front.jpg");
	ck_assert(!dup);
	free(p);
	/* the second url of P1 with that name gets the suffix */
	p = list("P1", "front.jpg", "http://b/front.jpg", NULL, &dup);
	dg_xsnprintf(want, sizeof(want), "P1/%s", suffixed);
	ck_assert_str_eq(p, want);
	free(p);
	/* another product: no collision */
	p = list("P2", "front.jpg", "http://c/front.jpg", NULL, &dup);
	ck_assert_str_eq(p, "P2/front.jpg");
	free(p);
	/* the first url listed again keeps its name; a duplicate in a run */
	p = list("P1", "front.jpg", "http://a/front.jpg", NULL, &dup);
	ck_assert_str_eq(p, "P1/front.jpg");
	ck_assert(dup);
	free(p);
	ck_assert_str_eq(query_text("SELECT count(*) || ' ' || "
				    "group_concat(DISTINCT status) || ' ' || "
				    "sum(attempts) FROM images",
				    buf, sizeof(buf)),
			 "3 pending 0");
	free(suffixed);
}
END_TEST

START_TEST(test_moved_product)
{
	char buf[300];
	char *p;

	free(list("P1", "a.jpg", "http://a/a.jpg", NULL, NULL));
	dg_imgstore_free(store);
	ck_assert_ptr_nonnull(store = dg_imgstore_new(db)); /* a new run */
	p = list("P9", "b.jpg", "http://a/a.jpg", NULL, NULL);
	ck_assert_str_eq(p, "P9/b.jpg");
	free(p);
	ck_assert_str_eq(query_text("SELECT count(*) || ' ' || product_id || "
				    "' ' || path FROM images",
				    buf, sizeof(buf)),
			 "1 P9 P9/b.jpg");
}
END_TEST

static void ok_row(int64_t id, const char *p, int attempts)
{
	struct dg_img_row r = {.id = id,
			       .path = (char *)p,
			       .etag = "W/\"e1\"",
			       .last_modified = "Fri, 27 Nov 2026 01:00:00 GMT",
			       .sha256 = SHA,
			       .bytes = 1234,
			       .attempts = attempts};

	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(dg_imgstore_ok(store, &r, NOW), 0);
	ck_assert_int_eq(dg_db_commit(db), 0);
}

START_TEST(test_outcomes)
{
	char buf[512];
	struct dg_img_row r;

	free(list("P1", "a.jpg", "http://a/a.jpg", NULL, NULL));
	ok_row(1, "P1/a.jpg", 2);
	ck_assert_str_eq(
		query_text("SELECT status || '|' || attempts || '|' || etag || "
			   "'|' || bytes || '|' || synced_at || '|' || "
			   "coalesce(last_error, '') FROM images",
			   buf, sizeof(buf)),
		"ok|2|W/\"e1\"|1234|" NOW "|");
	/* a failure keeps the good file's columns; its attempts start again
	 * from the last success (2 there), then add up */
	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(
		dg_imgstore_failed(store, 1, 4, "http status 503", LATER), 0);
	ck_assert_int_eq(
		dg_imgstore_failed(store, 1, 4, "http status 503", LATER), 0);
	ck_assert_int_eq(dg_db_commit(db), 0);
	ck_assert_str_eq(
		query_text("SELECT status || '|' || attempts || '|' || etag || "
			   "'|' || sha256 || '|' || synced_at || '|' || "
			   "last_error || '|' || updated_at FROM images",
			   buf, sizeof(buf)),
		"failed|8|W/\"e1\"|" SHA "|" NOW "|http status 503|" LATER);
	/* unchanged: ok again, validators as stored */
	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(dg_imgstore_unchanged(store, 1, 1, LATER), 0);
	ck_assert_int_eq(dg_db_commit(db), 0);
	ck_assert_int_eq(dg_imgstore_next(store, 0, &r), 1);
	ck_assert_int_eq(r.status, DG_IMGS_OK);
	ck_assert_int_eq(r.attempts, 1);
	ck_assert_str_eq(r.etag, "W/\"e1\"");
	ck_assert_str_eq(r.synced_at, LATER);
	ck_assert_ptr_null(r.last_error);
	ck_assert_int_eq(r.bytes, 1234);
	dg_img_row_free(&r);
}
END_TEST

START_TEST(test_next_in_id_order)
{
	struct dg_img_row r;
	int64_t after = 0;
	char got[256] = "";

	free(list("P2", "b.jpg", "http://a/b.jpg", SHA, NULL));
	free(list("P1", "a.jpg", "http://a/a.jpg", NULL, NULL));
	free(list("P3", "c.jpg", "http://a/c.jpg", NULL, NULL));
	while (dg_imgstore_next(store, after, &r) == 1) {
		size_t n = strlen(got);

		dg_xsnprintf(got + n, sizeof(got) - n, "%s%s%s ", r.path,
			     r.want_sha256 ? "+" : "",
			     r.bytes == -1 ? "" : "?");
		after = r.id;
		dg_img_row_free(&r);
	}
	ck_assert_str_eq(got, "P2/b.jpg+ P1/a.jpg P3/c.jpg ");
}
END_TEST

START_TEST(test_stored_and_failed)
{
	struct dg_img_row r;
	int64_t id;
	size_t n = 0;

	/* rows another program stored, one without a path */
	ck_assert_int_eq(
		sqlite3_exec(
			db,
			"INSERT INTO images (product_id, url, path, status, "
			"updated_at) VALUES ('P1', 'http://a/x.png?s=1', "
			"NULL, 'pending', '" NOW "'), ('P2', 'http://a/y.png', "
			"'P2/y.png', 'failed', '" NOW "'), ('P3', "
			"'http://a/z.png', 'P3/z.png', 'ok', '" NOW "')",
			NULL, NULL, NULL),
		SQLITE_OK);
	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(dg_imgstore_list_stored(store, true, NOW, &n), 0);
	ck_assert_int_eq(dg_db_commit(db), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(dg_imgstore_next(store, 0, &r), 1);
	ck_assert_str_eq(r.path, "P2/y.png");
	id = r.id;
	dg_img_row_free(&r);
	ck_assert_int_eq(dg_imgstore_next(store, id, &r), 0);

	dg_imgstore_free(store);
	ck_assert_ptr_nonnull(store = dg_imgstore_new(db));
	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(dg_imgstore_list_stored(store, false, NOW, &n), 0);
	ck_assert_int_eq(dg_db_commit(db), 0);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(dg_imgstore_next(store, 0, &r), 1);
	ck_assert_str_eq(r.path, "P1/x.png"); /* given one from the url */
	dg_img_row_free(&r);
	ck_assert_int_eq(dg_imgstore_product_listed(store, "P3"), 1);
	ck_assert_int_eq(dg_imgstore_product_listed(store, "P4"), 0);
}
END_TEST

START_TEST(test_refuse_and_forget)
{
	char buf[300];

	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(dg_imgstore_refuse(store, "../x", "http://a/a.jpg",
					    "product_id refused", NOW),
			 0);
	ck_assert_int_eq(dg_imgstore_refuse(store, "../x", "http://a/a.jpg",
					    "product_id refused", NOW),
			 0);
	ck_assert_int_eq(dg_db_commit(db), 0);
	ck_assert_str_eq(query_text("SELECT status || '|' || attempts || '|' "
				    "|| last_error || '|' || "
				    "coalesce(path, 'none') FROM images",
				    buf, sizeof(buf)),
			 "failed|2|product_id refused|none");
	/* refused rows are not in the run */
	ck_assert_int_eq(dg_imgstore_product_listed(store, "../x"), 0);
	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(dg_imgstore_forget_product(store, "../x"), 0);
	ck_assert_int_eq(dg_db_commit(db), 0);
	ck_assert_str_eq(
		query_text("SELECT count(*) FROM images", buf, sizeof(buf)),
		"0");
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(dg_img_status_name(DG_IMGS_PENDING), "pending");
	ck_assert_str_eq(dg_img_status_name(DG_IMGS_OK), "ok");
	ck_assert_str_eq(dg_img_status_name(DG_IMGS_FAILED), "failed");
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("imgstore");
	TCase *tc = tcase_create("imgstore");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_moved_product);
	tcase_add_test(tc, test_outcomes);
	tcase_add_test(tc, test_next_in_id_order);
	tcase_add_test(tc, test_stored_and_failed);
	tcase_add_test(tc, test_refuse_and_forget);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}
