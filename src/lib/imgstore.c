/*
 * imgstore.c - the images table: a row per url, where its file goes, the
 * validators and digest of the file in place, and how the last attempt
 * went.
 *
 * A run first lists its urls (from input files or from the table itself)
 * into a temporary table, deciding each one's path; the transfers then
 * read the run's rows back in id order, a row at a time, so that memory
 * stays flat however many urls there are. Outcomes are written by the
 * caller in BEGIN IMMEDIATE transactions, after the file is in place: a
 * row says ok only once its file is under its final name.
 */
#include <stdlib.h>
#include <string.h>

#include "daigou.h"

enum {
	ST_FIND,
	ST_INSERT,
	ST_MOVE,
	ST_TAKEN,
	ST_RUN_ADD,
	ST_NEXT,
	ST_OK,
	ST_UNCHANGED,
	ST_FAILED,
	ST_PRODUCT_LISTED,
	ST_FORGET,
	ST_REFUSE_NEW,
	NSTMT
};

#define ROW_COLUMNS                                                            \
	"i.id, i.product_id, i.url, i.path, i.etag, i.last_modified, "         \
	"i.sha256, i.bytes, i.status, i.attempts, i.last_error, i.synced_at"

/* clang-format off */
static const char *const sqls[NSTMT] = {
	[ST_FIND] = "SELECT id, product_id, path FROM images WHERE url = ?1",
	[ST_INSERT] =
		"INSERT INTO images (product_id, url, path, status, attempts, "
		"updated_at) VALUES (?1, ?2, ?3, 'pending', 0, ?4)",
	[ST_MOVE] =
		"UPDATE images SET product_id = ?2, path = ?3, updated_at = ?4 "
		"WHERE id = ?1",
	/* another url of the product already holds the path */
	[ST_TAKEN] =
		"SELECT 1 FROM images WHERE product_id = ?1 AND path = ?2 "
		"AND url <> ?3 LIMIT 1",
	[ST_RUN_ADD] =
		"INSERT OR IGNORE INTO temp.img_run (id, want_sha256) "
		"VALUES (?1, ?2)",
	[ST_NEXT] =
		"SELECT " ROW_COLUMNS ", r.want_sha256 FROM temp.img_run r "
		"JOIN images i ON i.id = r.id WHERE r.id > ?1 "
		"ORDER BY r.id LIMIT 1",
	[ST_OK] =
		"UPDATE images SET path = ?2, etag = ?3, last_modified = ?4, "
		"sha256 = ?5, bytes = ?6, status = 'ok', attempts = ?8, "
		"last_error = NULL, updated_at = ?7, synced_at = ?7 "
		"WHERE id = ?1",
	[ST_UNCHANGED] =
		"UPDATE images SET status = 'ok', attempts = ?3, "
		"last_error = NULL, updated_at = ?2, synced_at = ?2 "
		"WHERE id = ?1",
	[ST_FAILED] =
		"UPDATE images SET attempts = CASE status WHEN 'failed' "
		"THEN attempts + ?2 ELSE ?2 END, status = 'failed', "
		"last_error = ?3, updated_at = ?4 WHERE id = ?1",
	[ST_PRODUCT_LISTED] =
		"SELECT 1 FROM images WHERE product_id = ?1 "
		"AND id IN (SELECT id FROM temp.img_run) LIMIT 1",
	[ST_FORGET] = "DELETE FROM images WHERE product_id = ?1",
	[ST_REFUSE_NEW] =
		"INSERT INTO images (product_id, url, status, attempts, "
		"last_error, updated_at) VALUES (?1, ?2, 'failed', 1, ?3, ?4) "
		"ON CONFLICT (url) DO UPDATE SET status = 'failed', "
		"attempts = attempts + 1, last_error = ?3, updated_at = ?4",
};
/* clang-format on */

struct dg_imgstore {
	sqlite3 *db;
	sqlite3_stmt *st[NSTMT];
};

const char *dg_img_status_name(enum dg_img_status s)
{
	switch (s) {
	case DG_IMGS_OK:
		return "ok";
	case DG_IMGS_FAILED:
		return "failed";
	default:
		return "pending";
	}
}

void dg_img_row_free(struct dg_img_row *r)
{
	free(r->product_id);
	free(r->url);
	free(r->path);
	free(r->etag);
	free(r->last_modified);
	free(r->sha256);
	free(r->last_error);
	free(r->synced_at);
	free(r->want_sha256);
	*r = (struct dg_img_row){.bytes = -1};
}

struct dg_imgstore *dg_imgstore_new(sqlite3 *db)
{
	struct dg_imgstore *s = dg_xcalloc(1, sizeof(*s));
	int rc, i;

	s->db = db;
	rc = sqlite3_exec(db,
			  "CREATE TEMP TABLE IF NOT EXISTS img_run "
			  "(id INTEGER PRIMARY KEY, want_sha256 TEXT); "
			  "DELETE FROM temp.img_run",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		dg_db_fail(db, rc, "cannot create the run's table");
		free(s);
		return NULL;
	}
	for (i = 0; i < NSTMT; i++) {
		if (dg_db_prepare(db, sqls[i], &s->st[i])) {
			dg_imgstore_free(s);
			return NULL;
		}
	}
	return s;
}

void dg_imgstore_free(struct dg_imgstore *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < NSTMT; i++)
		sqlite3_finalize(s->st[i]);
	free(s);
}

/* Step a statement that returns no row; reset it either way. */
static int exec_st(struct dg_imgstore *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return dg_db_fail(s->db, rc, what);
	return 0;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? dg_xstrdup((const char *)t) : NULL;
}

/* 1 when another url of the product holds path, 0 when not, or -74. */
static int path_taken(struct dg_imgstore *s, const char *product_id,
		      const char *path, const char *url)
{
	sqlite3_stmt *st = s->st[ST_TAKEN];
	int rc;

	dg_db_bind_text(st, 1, product_id);
	dg_db_bind_text(st, 2, path);
	dg_db_bind_text(st, 3, url);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return -dg_db_fail(s->db, rc, "cannot read the images table");
}

/* product_id/name, or product_id/name-HASH when another url of the
 * product holds the plain one. Malloc'd in *out. 0 or an exit code. */
static int choose_path(struct dg_imgstore *s, const char *product_id,
		       const char *name, const char *url, char **out)
{
	char *path = dg_xasprintf("%s/%s", product_id, name);
	char *suffixed;
	int taken = path_taken(s, product_id, path, url);

	if (taken == 1) {
		free(path);
		suffixed = dg_img_name_suffixed(name, url);
		path = dg_xasprintf("%s/%s", product_id, suffixed);
		free(suffixed);
		taken = path_taken(s, product_id, path, url);
	}
	if (taken < 0) {
		free(path);
		return -taken;
	}
	/* the suffix names the url: still taken means the same url */
	*out = path;
	return 0;
}

static int run_add(struct dg_imgstore *s, int64_t id, const char *want,
		   bool *dup)
{
	sqlite3_stmt *st = s->st[ST_RUN_ADD];
	int ret;

	sqlite3_bind_int64(st, 1, id);
	dg_db_bind_text(st, 2, want);
	ret = exec_st(s, st, "cannot list the url");
	if (!ret && dup)
		*dup = sqlite3_changes(s->db) == 0;
	return ret;
}

int dg_imgstore_list(struct dg_imgstore *s, const char *product_id,
		     const char *name, const char *url, const char *want_sha256,
		     const char *now, char **path, bool *dup)
{
	sqlite3_stmt *st = s->st[ST_FIND];
	char *old_product = NULL, *old_path = NULL;
	int64_t id = 0;
	int rc, ret;

	*path = NULL;
	*dup = false;
	dg_db_bind_text(st, 1, url);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		old_product = col_dup(st, 1);
		old_path = col_dup(st, 2);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dg_db_fail(s->db, rc, "cannot read the images table");
	if ((ret = choose_path(s, product_id, name, url, path)))
		goto out;
	if (id == 0) {
		st = s->st[ST_INSERT];
		dg_db_bind_text(st, 1, product_id);
		dg_db_bind_text(st, 2, url);
		dg_db_bind_text(st, 3, *path);
		dg_db_bind_text(st, 4, now);
		if ((ret = exec_st(s, st, "cannot store the url")))
			goto out;
		id = sqlite3_last_insert_rowid(s->db);
	} else if (strcmp(old_product, product_id) || !old_path ||
		   strcmp(old_path, *path)) {
		st = s->st[ST_MOVE];
		sqlite3_bind_int64(st, 1, id);
		dg_db_bind_text(st, 2, product_id);
		dg_db_bind_text(st, 3, *path);
		dg_db_bind_text(st, 4, now);
		if ((ret = exec_st(s, st, "cannot store the url")))
			goto out;
	}
	ret = run_add(s, id, want_sha256, dup);
out:
	if (ret) {
		free(*path);
		*path = NULL;
	}
	free(old_product);
	free(old_path);
	return ret;
}

/* A stored row without a path gets one from its url's last segment. */
static int stored_path(struct dg_imgstore *s, sqlite3_stmt *sel,
		       const char *now, size_t *n)
{
	int64_t id = sqlite3_column_int64(sel, 0);
	const char *product = (const char *)sqlite3_column_text(sel, 1);
	const char *url = (const char *)sqlite3_column_text(sel, 2);
	char *name, *path = NULL;
	const char *why;
	int ret;

	if (sqlite3_column_type(sel, 3) != SQLITE_NULL ||
	    dg_img_product_ok(product, strlen(product), &why) ||
	    !(name = dg_img_name_from_url(url)))
		return run_add(s, id, NULL, NULL) ? 74 : (++*n, 0);
	ret = choose_path(s, product, name, url, &path);
	free(name);
	if (!ret) {
		sqlite3_stmt *st = s->st[ST_MOVE];

		sqlite3_bind_int64(st, 1, id);
		dg_db_bind_text(st, 2, product);
		dg_db_bind_text(st, 3, path);
		dg_db_bind_text(st, 4, now);
		ret = exec_st(s, st, "cannot store the url");
	}
	free(path);
	if (!ret && !(ret = run_add(s, id, NULL, NULL)))
		++*n;
	return ret;
}

int dg_imgstore_list_stored(struct dg_imgstore *s, bool failed_only,
			    const char *now, size_t *n)
{
	sqlite3_stmt *sel = NULL;
	int rc, ret;

	*n = 0;
	ret = dg_db_prepare(
		s->db,
		failed_only ? "SELECT id, product_id, url, path FROM "
			      "images WHERE status = 'failed' ORDER BY id"
			    : "SELECT id, product_id, url, path FROM "
			      "images ORDER BY id",
		&sel);
	while (!ret && (rc = sqlite3_step(sel)) == SQLITE_ROW)
		ret = stored_path(s, sel, now, n);
	if (!ret && rc != SQLITE_DONE)
		ret = dg_db_fail(s->db, rc, "cannot read the images table");
	sqlite3_finalize(sel);
	return ret;
}

int dg_imgstore_next(struct dg_imgstore *s, int64_t after, struct dg_img_row *r)
{
	sqlite3_stmt *st = s->st[ST_NEXT];
	const char *status;
	int rc;

	*r = (struct dg_img_row){.bytes = -1};
	sqlite3_bind_int64(st, 1, after);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		r->product_id = col_dup(st, 1);
		r->url = col_dup(st, 2);
		r->path = col_dup(st, 3);
		r->etag = col_dup(st, 4);
		r->last_modified = col_dup(st, 5);
		r->sha256 = col_dup(st, 6);
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			r->bytes = sqlite3_column_int64(st, 7);
		status = (const char *)sqlite3_column_text(st, 8);
		r->status = !strcmp(status, "ok")	? DG_IMGS_OK
			    : !strcmp(status, "failed") ? DG_IMGS_FAILED
							: DG_IMGS_PENDING;
		r->attempts = sqlite3_column_int64(st, 9);
		r->last_error = col_dup(st, 10);
		r->synced_at = col_dup(st, 11);
		r->want_sha256 = col_dup(st, 12);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return -dg_db_fail(s->db, rc, "cannot read the images table");
}

int dg_imgstore_ok(struct dg_imgstore *s, const struct dg_img_row *r,
		   const char *now)
{
	sqlite3_stmt *st = s->st[ST_OK];

	sqlite3_bind_int64(st, 1, r->id);
	dg_db_bind_text(st, 2, r->path);
	dg_db_bind_text(st, 3, r->etag);
	dg_db_bind_text(st, 4, r->last_modified);
	dg_db_bind_text(st, 5, r->sha256);
	sqlite3_bind_int64(st, 6, r->bytes);
	dg_db_bind_text(st, 7, now);
	sqlite3_bind_int64(st, 8, r->attempts);
	return exec_st(s, st, "cannot record the download");
}

int dg_imgstore_unchanged(struct dg_imgstore *s, int64_t id, int attempts,
			  const char *now)
{
	sqlite3_stmt *st = s->st[ST_UNCHANGED];

	sqlite3_bind_int64(st, 1, id);
	dg_db_bind_text(st, 2, now);
	sqlite3_bind_int(st, 3, attempts);
	return exec_st(s, st, "cannot record the download");
}

int dg_imgstore_failed(struct dg_imgstore *s, int64_t id, int attempts,
		       const char *error, const char *now)
{
	sqlite3_stmt *st = s->st[ST_FAILED];

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, attempts);
	dg_db_bind_text(st, 3, error);
	dg_db_bind_text(st, 4, now);
	return exec_st(s, st, "cannot record the failure");
}

int dg_imgstore_product_listed(struct dg_imgstore *s, const char *product_id)
{
	sqlite3_stmt *st = s->st[ST_PRODUCT_LISTED];
	int rc;

	dg_db_bind_text(st, 1, product_id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return -dg_db_fail(s->db, rc, "cannot read the images table");
}

int dg_imgstore_forget_product(struct dg_imgstore *s, const char *product_id)
{
	sqlite3_stmt *st = s->st[ST_FORGET];

	dg_db_bind_text(st, 1, product_id);
	return exec_st(s, st, "cannot forget the product");
}

int dg_imgstore_refuse(struct dg_imgstore *s, const char *product_id,
		       const char *url, const char *reason, const char *now)
{
	sqlite3_stmt *st = s->st[ST_REFUSE_NEW];

	dg_db_bind_text(st, 1, product_id);
	dg_db_bind_text(st, 2, url);
	dg_db_bind_text(st, 3, reason);
	dg_db_bind_text(st, 4, now);
	return exec_st(s, st, "cannot record the refused row");
}
