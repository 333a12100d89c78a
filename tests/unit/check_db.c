/* Unit tests for db.c: path, open and migrate, refusals, the schema's
 * constraints and triggers, events, transactions. Every test works in
 * its own temporary directory. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE /* setgroups */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

static char dir[PATH_MAX];
static char err_file[PATH_MAX];
static char err_text[4096];
static int saved_stderr = -1;

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	dg_xsnprintf(dir, sizeof(dir), "%s/check_db.XXXXXX",
		     tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dg_xsnprintf(err_file, sizeof(err_file), "%s/stderr", dir);
	unsetenv("DAIGOU_DB");
	unsetenv("DAIGOU_NOW");
	unsetenv("DAIGOU_BUSY_TIMEOUT_MS");
	dg_set_progname("check_db");
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* path of name inside the test's directory */
static void in_dir(char *buf, size_t len, const char *name)
{
	dg_xsnprintf(buf, len, "%s/%s", dir, name);
}

/* Everything written to stderr between the two calls lands in err_text. */
static void capture_stderr(void)
{
	int fd;

	fflush(stderr);
	saved_stderr = dup(2);
	fd = open(err_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 2);
	close(fd);
}

static const char *captured(void)
{
	FILE *fp;
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	fp = fopen(err_file, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(err_text, 1, sizeof(err_text) - 1, fp);
	err_text[n] = '\0';
	fclose(fp);
	return err_text;
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

static sqlite3 *open_new(void)
{
	char path[PATH_MAX];
	sqlite3 *db = NULL;

	in_dir(path, sizeof(path), "t.db");
	ck_assert_int_eq(dg_db_open(path, &db), 0);
	ck_assert_ptr_nonnull(db);
	return db;
}

/* Plain SQLite, none of the library's settings: what an outside
 * program (or the sqlite3 shell) sees. */
static sqlite3 *open_raw(const char *path)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

/* Extended result code of running sql (SQLITE_OK on success). */
static int run(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? rc : sqlite3_extended_errcode(db);
}

static void run_ok(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The first column of the first row, "(null)" for NULL, into buf. */
static const char *query_text(sqlite3 *db, const char *sql, char *buf,
			      size_t len)
{
	const unsigned char *v;
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_text(st, 0);
	dg_xsnprintf(buf, len, "%s", v ? (const char *)v : "(null)");
	sqlite3_finalize(st);
	return buf;
}

/* ---------------------------------------------------------------- path */

static const struct {
	const char *opt, *env, *want;
} paths[] = {
	{NULL, NULL, "daigou.db"},
	{"shop.db", NULL, "shop.db"},
	{NULL, "/srv/daigou/shop.db", "/srv/daigou/shop.db"},
	{"shop.db", "/srv/daigou/shop.db", "shop.db"},
	{NULL, "", "daigou.db"},
	{"", "/srv/daigou/shop.db", ""},
};

START_TEST(test_path)
{
	if (paths[_i].env)
		setenv("DAIGOU_DB", paths[_i].env, 1);
	ck_assert_str_eq(dg_db_path(paths[_i].opt), paths[_i].want);
}
END_TEST

START_TEST(test_empty_path_refused)
{
	sqlite3 *db = (sqlite3 *)&db;

	capture_stderr();
	ck_assert_int_eq(dg_db_open("", &db), DG_EXIT_USAGE);
	ck_assert_ptr_null(db);
	ck_assert_int_eq(dg_db_open_ro("", &db), DG_EXIT_USAGE);
	ck_assert_str_eq(captured(), "check_db: the database path is empty\n"
				     "check_db: the database path is empty\n");
}
END_TEST

/* ---------------------------------------------------------------- open */

START_TEST(test_open_creates_and_migrates)
{
	char path[PATH_MAX], buf[128];
	sqlite3 *db = NULL;
	int version = -1;

	in_dir(path, sizeof(path), "new.db");
	ck_assert(!exists(path));
	capture_stderr();
	ck_assert_int_eq(dg_db_open(path, &db), 0);
	ck_assert_str_eq(captured(), "");
	ck_assert(exists(path));
	ck_assert_int_eq(dg_db_user_version(db, &version), 0);
	ck_assert_int_eq(version, DG_SCHEMA_VERSION);
	ck_assert_int_eq(sqlite3_get_autocommit(db), 1);
	ck_assert_str_eq(query_text(db, "PRAGMA journal_mode", buf,
				    sizeof(buf)),
			 "wal");
	ck_assert_int_eq(query_int(db, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(query_int(db, "PRAGMA synchronous"), 2);
	ck_assert_int_eq(query_int(db, "PRAGMA recursive_triggers"), 1);
	ck_assert_int_eq(query_int(db, "PRAGMA busy_timeout"), 10000);
	ck_assert_int_eq(query_int(db, "PRAGMA application_id"), 0x44474f55);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events"), 1);
	ck_assert_str_eq(query_text(db,
				    "SELECT tool || '|' || kind || '|' || "
				    "subject || '|' || detail FROM events",
				    buf, sizeof(buf)),
			 "check_db|schema_migrated|4|"
			 "migrated from schema version 0 to 4");
	dg_db_close(db);
}
END_TEST

static const char *const want_tables[] = {
	"events",      "fetch_state", "images",   "order_items",
	"order_rates", "orders",      "payment_status", "payments",
	"paypal_certs", "rates",
	"refund_lines", "refunds",
};

static const char *const want_triggers[] = {
	"order_items_no_delete",  "order_items_no_update",
	"order_rates_no_delete",  "order_rates_no_update",
	"orders_immutable",       "orders_no_delete",
	"payment_status_no_delete", "payment_status_no_update",
	"payments_no_delete",     "payments_no_update",
	"refund_lines_no_delete", "refund_lines_no_update",
	"refunds_no_delete",      "refunds_no_update",
};

static const char *const want_indexes[] = {
	"events_at",       "events_kind_at",  "images_failed", "images_product",
	"payments_order",  "payments_parent",
	"refunds_order",
};

static void check_names(sqlite3 *db, const char *type,
			const char *const *want, size_t n)
{
	sqlite3_stmt *st;
	size_t i = 0;

	ck_assert_int_eq(sqlite3_prepare_v2(db,
					    "SELECT name FROM sqlite_master "
					    "WHERE type = ?1 AND sql NOT NULL "
					    "ORDER BY name",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		ck_assert_msg(i < n, "unexpected %s '%s'", type,
			      sqlite3_column_text(st, 0));
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 0),
				 want[i]);
		i++;
	}
	ck_assert_uint_eq(i, n);
	sqlite3_finalize(st);
}

START_TEST(test_schema_objects)
{
	sqlite3 *db = open_new();

	check_names(db, "table", want_tables, DG_NELEM(want_tables));
	check_names(db, "trigger", want_triggers, DG_NELEM(want_triggers));
	check_names(db, "index", want_indexes, DG_NELEM(want_indexes));
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM sqlite_master "
				       "WHERE type = 'table' AND "
				       "sql NOT LIKE '%) STRICT'"),
			 0);
	dg_db_close(db);
}
END_TEST

START_TEST(test_reopen_is_a_no_op)
{
	char path[PATH_MAX], before[16384], after[16384];
	static const char schema[] =
		"SELECT group_concat(sql, ';') FROM "
		"(SELECT sql FROM sqlite_master ORDER BY name)";
	sqlite3 *db = open_new();
	int version = -1;

	query_text(db, schema, before, sizeof(before));
	dg_db_close(db);
	in_dir(path, sizeof(path), "t.db");
	capture_stderr();
	ck_assert_int_eq(dg_db_open(path, &db), 0);
	ck_assert_str_eq(captured(), "");
	ck_assert_int_eq(dg_db_user_version(db, &version), 0);
	ck_assert_int_eq(version, DG_SCHEMA_VERSION);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events"), 1);
	ck_assert_str_eq(query_text(db, schema, after, sizeof(after)), before);
	dg_db_close(db);
}
END_TEST

static const struct {
	const char *value;
	int want;    /* dg_db_open's result */
	int timeout; /* PRAGMA busy_timeout when want is 0 */
} busy_envs[] = {
	{"250", 0, 250},      {"0", 0, 0},         {"86400000", 0, 86400000},
	{"86400001", 64, 0},  {"", 64, 0},          {"ten", 64, 0},
	{"-5", 64, 0},        {" 5", 64, 0},        {"5ms", 64, 0},
	{"+5", 64, 0},
};

START_TEST(test_busy_timeout_env)
{
	char path[PATH_MAX], want[256];
	sqlite3 *db = NULL;

	in_dir(path, sizeof(path), "t.db");
	setenv("DAIGOU_BUSY_TIMEOUT_MS", busy_envs[_i].value, 1);
	capture_stderr();
	ck_assert_int_eq(dg_db_open(path, &db), busy_envs[_i].want);
	if (busy_envs[_i].want) {
		dg_xsnprintf(want, sizeof(want),
			     "check_db: malformed DAIGOU_BUSY_TIMEOUT_MS '%s': "
			     "want milliseconds from 0 to 86400000\n",
			     busy_envs[_i].value);
		ck_assert_str_eq(captured(), want);
		ck_assert_ptr_null(db);
		ck_assert(!exists(path));
		return;
	}
	ck_assert_str_eq(captured(), "");
	ck_assert_int_eq(query_int(db, "PRAGMA busy_timeout"),
			 busy_envs[_i].timeout);
	dg_db_close(db);
}
END_TEST

/* ------------------------------------------------------- read-only open */

START_TEST(test_open_ro_missing)
{
	char path[PATH_MAX], nodir[PATH_MAX], want[PATH_MAX * 2 + 64];
	sqlite3 *db = (sqlite3 *)&db;

	in_dir(path, sizeof(path), "missing.db");
	capture_stderr();
	ck_assert_int_eq(dg_db_open_ro(path, &db), DG_EXIT_NOINPUT);
	dg_xsnprintf(want, sizeof(want),
		     "check_db: cannot open database %s: no such file\n",
		     dg_quoted(path));
	ck_assert_str_eq(captured(), want);
	ck_assert_ptr_null(db);
	ck_assert(!exists(path));

	in_dir(path, sizeof(path), "nodir/missing.db");
	in_dir(nodir, sizeof(nodir), "nodir");
	capture_stderr();
	ck_assert_int_eq(dg_db_open_ro(path, &db), DG_EXIT_NOINPUT);
	dg_xsnprintf(want, sizeof(want),
		     "check_db: cannot open database %s: no such directory "
		     "%s\n",
		     dg_quoted(path), dg_quoted(nodir));
	ck_assert_str_eq(captured(), want);
	ck_assert_ptr_null(db);
	ck_assert(!exists(nodir));
}
END_TEST

/*
 * Paths the database cannot be at: a tool that only reads fails with 66,
 * a tool that writes with 73, with a message that says why and where.
 * In the test's directory, "sub" is a directory and "file" a file.
 */
static const struct {
	const char *name;
	bool ro;
	int want;
	const char *message; /* %1$s the path, %2$s what is named */
	const char *named;   /* in the test's directory */
} bad_paths[] = {
	{"nodir/new.db", false, DG_EXIT_CANTCREAT,
	 "cannot create database %s: no such directory %s", "nodir"},
	{"nodir/deeper/new.db", false, DG_EXIT_CANTCREAT,
	 "cannot create database %s: no such directory %s", "nodir/deeper"},
	{"file/new.db", false, DG_EXIT_CANTCREAT,
	 "cannot create database %s: no such directory %s", "file"},
	{"file/new.db", true, DG_EXIT_NOINPUT,
	 "cannot open database %s: no such directory %s", "file"},
	{"sub", false, DG_EXIT_CANTCREAT,
	 "cannot open database %s: is a directory", NULL},
	{"sub", true, DG_EXIT_NOINPUT,
	 "cannot open database %s: is a directory", NULL},
	{"sub/", false, DG_EXIT_CANTCREAT,
	 "cannot open database %s: is a directory", NULL},
};

START_TEST(test_bad_path)
{
	char path[PATH_MAX], named[PATH_MAX], sub[PATH_MAX], file[PATH_MAX];
	char want[PATH_MAX * 2 + 128], fmt[128];
	sqlite3 *db = (sqlite3 *)&db;
	struct stat sb;

	in_dir(sub, sizeof(sub), "sub");
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	in_dir(file, sizeof(file), "file");
	write_file(file, "x", 1);
	in_dir(path, sizeof(path), bad_paths[_i].name);
	if (bad_paths[_i].named)
		in_dir(named, sizeof(named), bad_paths[_i].named);
	capture_stderr();
	ck_assert_int_eq(bad_paths[_i].ro ? dg_db_open_ro(path, &db)
					  : dg_db_open(path, &db),
			 bad_paths[_i].want);
	dg_xsnprintf(fmt, sizeof(fmt), "check_db: %s\n", bad_paths[_i].message);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(want, sizeof(want), fmt, dg_quoted(path),
		 dg_quoted(bad_paths[_i].named ? named : ""));
#pragma GCC diagnostic pop
	ck_assert_str_eq(captured(), want);
	ck_assert_ptr_null(db);
	/* nothing made: the file is still a one-byte file, sub is empty */
	ck_assert_int_eq(stat(file, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode) && sb.st_size == 1);
	ck_assert_int_eq(rmdir(sub), 0);
}
END_TEST

/*
 * Permissions. Root may write anywhere, so as root the open runs in a
 * child that has dropped to the unprivileged uid 65534; otherwise the
 * modes below refuse the owner as well. The child exits with the open's
 * status, or 200 when it cannot drop or reach the directory (the case
 * is then not tested: say so and pass).
 */
#define UNTESTABLE 200

/* In a forked child: what stdio holds for stdout (the parent's) is not
 * the child's to write, and the messages flush stdout. */
static void quiet_stdout(void)
{
	int fd = open("/dev/null", O_WRONLY);

	if (fd >= 0) {
		dup2(fd, 1);
		close(fd);
	}
}
static int open_unprivileged(const char *path, bool ro, char *out, size_t len)
{
	int fds[2], status;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sqlite3 *db = NULL;

		close(fds[0]);
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
			_exit(UNTESTABLE);
		if (access(dir, X_OK))
			_exit(UNTESTABLE);
		dup2(fds[1], 2);
		quiet_stdout();
		dg_set_progname("check_db");
		_exit(ro ? dg_db_open_ro(path, &db) : dg_db_open(path, &db));
	}
	close(fds[1]);
	while (n + 1 < len && (r = read(fds[0], out + n, len - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static const struct {
	const char *name; /* in the directory "d" */
	mode_t file_mode; /* of d/shop.db, created first */
	mode_t dir_mode;  /* of d */
	bool ro;
	int want;
	const char *message; /* %1$s the path, %2$s the directory */
} denied[] = {
	{"new.db", 0666, 0555, false, DG_EXIT_CANTCREAT,
	 "cannot create database %s: directory %s is not writable "
	 "(permission denied)"},
	{"shop.db", 0666, 0555, false, DG_EXIT_CANTCREAT,
	 "cannot open database %s for writing: cannot create its -wal and "
	 "-shm files in %s: permission denied"},
	{"shop.db", 0666, 0555, true, DG_EXIT_NOINPUT,
	 "cannot open database %s: cannot create its -wal and -shm files in "
	 "%s: permission denied"},
	{"shop.db", 0444, 0777, false, DG_EXIT_CANTCREAT,
	 "cannot open database %s for writing: permission denied"},
	{"shop.db", 0000, 0777, true, DG_EXIT_NOINPUT,
	 "cannot open database %s: permission denied"},
};

START_TEST(test_permission_denied)
{
	char d[PATH_MAX], shop[PATH_MAX], path[PATH_MAX], out[1024];
	char want[PATH_MAX * 2 + 160], fmt[160];
	sqlite3 *db = NULL;
	int status;

	in_dir(d, sizeof(d), "d");
	ck_assert_int_eq(mkdir(d, 0755), 0);
	dg_xsnprintf(shop, sizeof(shop), "%s/shop.db", d);
	capture_stderr();
	ck_assert_int_eq(dg_db_open(shop, &db), 0);
	captured();
	dg_db_close(db);
	dg_xsnprintf(path, sizeof(path), "%s/%s", d, denied[_i].name);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(chmod(shop, denied[_i].file_mode), 0);
	ck_assert_int_eq(chmod(d, denied[_i].dir_mode), 0);
	status = open_unprivileged(path, denied[_i].ro, out, sizeof(out));
	ck_assert_int_eq(chmod(d, 0755), 0);
	ck_assert_int_eq(chmod(shop, 0644), 0);
	if (status == UNTESTABLE) {
		fprintf(stderr, "# cannot run as another user: not tested\n");
		return;
	}
	dg_xsnprintf(fmt, sizeof(fmt), "check_db: %s\n", denied[_i].message);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(want, sizeof(want), fmt, dg_quoted(path), dg_quoted(d));
#pragma GCC diagnostic pop
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(status, denied[_i].want);
	ck_assert(!exists(path) || !strcmp(denied[_i].name, "shop.db"));
}
END_TEST

/* A failed write says when a file-size limit is set: SQLite reports a
 * write cut short by it as a full disk or an I/O error. */
START_TEST(test_fail_file_size_limit)
{
	struct rlimit rl = {1 << 20, 1 << 20};
	char out[512];
	int fds[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		quiet_stdout();
		if (setrlimit(RLIMIT_FSIZE, &rl))
			_exit(UNTESTABLE);
		dg_set_progname("check_db");
		dg_db_fail(NULL, SQLITE_FULL, "cannot commit");
		dg_db_fail(NULL, SQLITE_IOERR_WRITE, "cannot write");
		dg_db_fail(NULL, SQLITE_CONSTRAINT, "cannot insert");
		_exit(0);
	}
	close(fds[1]);
	while (len + 1 < sizeof(out) &&
	       (n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status %#x, stderr: %s", (unsigned)status, out);
	ck_assert_str_eq(out, "check_db: cannot commit: database or disk is "
			      "full (a file size limit of 1048576 bytes is "
			      "set)\n"
			      "check_db: cannot write: disk I/O error (a file "
			      "size limit of 1048576 bytes is set)\n"
			      "check_db: cannot insert: constraint failed\n");
}
END_TEST

START_TEST(test_open_ro_reads_and_never_writes)
{
	char path[PATH_MAX];
	sqlite3 *db = open_new();
	int version = -1;

	dg_db_close(db);
	in_dir(path, sizeof(path), "t.db");
	ck_assert_int_eq(dg_db_open_ro(path, &db), 0);
	ck_assert_int_eq(dg_db_user_version(db, &version), 0);
	ck_assert_int_eq(version, DG_SCHEMA_VERSION);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events"), 1);
	ck_assert_int_eq(run(db, "INSERT INTO events (at, tool, kind) VALUES "
				 "('2026-06-10T09:09:24Z', 'x', 'y')"),
			 SQLITE_READONLY);
	dg_db_close(db);
}
END_TEST

START_TEST(test_open_ro_empty_file)
{
	char path[PATH_MAX], want[PATH_MAX + 80];
	sqlite3 *db = (sqlite3 *)&db;
	struct stat sb;

	in_dir(path, sizeof(path), "empty.db");
	write_file(path, "", 0);
	capture_stderr();
	ck_assert_int_eq(dg_db_open_ro(path, &db), DG_EXIT_NOINPUT);
	dg_xsnprintf(want, sizeof(want),
		     "check_db: cannot open database '%s': it is empty, "
		     "no tool has written to it yet\n",
		     path);
	ck_assert_str_eq(captured(), want);
	ck_assert_ptr_null(db);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
}
END_TEST

/* ------------------------------------------------------------ refusals */

START_TEST(test_newer_schema_refused)
{
	char path[PATH_MAX], want[PATH_MAX + 80], sql[64];
	sqlite3 *db = open_new();
	int ro;

	dg_db_close(db);
	in_dir(path, sizeof(path), "t.db");
	db = open_raw(path);
	dg_xsnprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		     DG_SCHEMA_VERSION + 1);
	run_ok(db, sql);
	sqlite3_close(db);
	dg_xsnprintf(want, sizeof(want),
		     "check_db: database '%s' has schema version %d, newer "
		     "than this program's %d\n",
		     path, DG_SCHEMA_VERSION + 1, DG_SCHEMA_VERSION);
	for (ro = 0; ro <= 1; ro++) {
		db = (sqlite3 *)&db;
		capture_stderr();
		ck_assert_int_eq(ro ? dg_db_open_ro(path, &db)
				    : dg_db_open(path, &db),
				 DG_EXIT_DATAERR);
		ck_assert_str_eq(captured(), want);
		ck_assert_ptr_null(db);
	}
	db = open_raw(path);
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"),
			 DG_SCHEMA_VERSION + 1);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events"), 1);
	sqlite3_close(db);
}
END_TEST

static const struct {
	const char *data;
	size_t len;
} not_databases[] = {
#define BYTES(s) {s, sizeof(s) - 1}
	BYTES("hello, world\n"),
	BYTES("order_id,amount,currency\nA1,102.30,EUR\n"),
	BYTES("SQLite format 2\0 this is not version 3 of the file format, "
	      "and it goes on long enough to fill a header ................"),
#undef BYTES
};

START_TEST(test_not_a_database_refused)
{
	char path[PATH_MAX], want[PATH_MAX + 64], back[256];
	sqlite3 *db;
	FILE *fp;
	int ro;

	in_dir(path, sizeof(path), "text.db");
	write_file(path, not_databases[_i].data, not_databases[_i].len);
	dg_xsnprintf(want, sizeof(want),
		     "check_db: cannot open database '%s': file is not a "
		     "database\n",
		     path);
	for (ro = 0; ro <= 1; ro++) {
		db = (sqlite3 *)&db;
		capture_stderr();
		ck_assert_int_eq(ro ? dg_db_open_ro(path, &db)
				    : dg_db_open(path, &db),
				 DG_EXIT_DATAERR);
		ck_assert_str_eq(captured(), want);
		ck_assert_ptr_null(db);
	}
	fp = fopen(path, "rb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fread(back, 1, sizeof(back), fp),
			  not_databases[_i].len);
	fclose(fp);
	ck_assert(!memcmp(back, not_databases[_i].data,
			  not_databases[_i].len));
}
END_TEST

/* Another program's SQLite file is neither migrated nor switched to WAL. */
static const char *const foreign_setups[] = {
	"CREATE TABLE rates (day TEXT, rate REAL)",
	"PRAGMA user_version = 1",
	"PRAGMA application_id = 42",
	"PRAGMA user_version = 7",
};

START_TEST(test_foreign_database_refused)
{
	char path[PATH_MAX], want[PATH_MAX + 64], buf[32];
	sqlite3 *db;
	int ro;

	in_dir(path, sizeof(path), "other.db");
	db = open_raw(path);
	run_ok(db, foreign_setups[_i]);
	sqlite3_close(db);
	dg_xsnprintf(want, sizeof(want),
		     "check_db: cannot open database '%s': not a daigou-tools "
		     "database\n",
		     path);
	for (ro = 0; ro <= 1; ro++) {
		db = (sqlite3 *)&db;
		capture_stderr();
		ck_assert_int_eq(ro ? dg_db_open_ro(path, &db)
				    : dg_db_open(path, &db),
				 DG_EXIT_DATAERR);
		ck_assert_str_eq(captured(), want);
		ck_assert_ptr_null(db);
	}
	db = open_raw(path);
	ck_assert_str_eq(query_text(db, "PRAGMA journal_mode", buf,
				    sizeof(buf)),
			 "delete");
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM sqlite_master "
				       "WHERE name = 'events'"),
			 0);
	sqlite3_close(db);
}
END_TEST

/* ------------------------------------------------------------- the data */

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define T0 "'2026-06-10T09:09:24Z'"

/* One order of each kind of row, as the tools will write them. Order A1:
 * 16500 JPY charged in EUR, reported in USD; order B2 has only a charge
 * pin. */
static const char fixture[] =
	"INSERT INTO rates (id, provider, base, quote, rate, as_of, "
	"fetched_at, source) VALUES "
	"(1, 'ecb', 'EUR', 'JPY', '161.29', '2026-06-09', "
	"'2026-06-09T15:00:00Z', 'eurofxref-daily.xml'), "
	"(2, 'ecb', 'EUR', 'USD', '1.0845', '2026-06-09', "
	"'2026-06-09T15:00:00Z', 'eurofxref-daily.xml');"
	"INSERT INTO fetch_state VALUES ('https://ecb.example/daily.xml', "
	"'\"abc\"', 'Tue, 09 Jun 2026 14:00:00 GMT', 200, " T0 ", " T0 ");"
	"INSERT INTO orders (order_id, amount, currency, charge_currency, "
	"base_currency, created_at, content_sha256) VALUES "
	"('A1', 16500, 'JPY', 'EUR', 'USD', " T0 ", '" SHA_A "'), "
	"('B2', 1000, 'JPY', 'EUR', NULL, " T0 ", '" SHA_B "');"
	"INSERT INTO order_items VALUES ('A1', 1, 'SKU-1', 1, 10000), "
	"('A1', 2, 'SKU-2', 1, 6500), ('B2', 1, NULL, 2, 1000);"
	"INSERT INTO order_rates (order_id, kind, from_currency, to_currency, "
	"amount, converted, method, provider, mul_rate_id, div_rate_id, "
	"mul_rate, div_rate, effective_rate, rounding, rate_as_of, pinned_at) "
	"VALUES ('A1', 'charge', 'JPY', 'EUR', 16500, 10230, 'inverse', 'ecb', "
	"NULL, 1, NULL, '161.29', '0.00620001240002', 'half-up', '2026-06-09', "
	T0 "), ('A1', 'base', 'JPY', 'USD', 16500, 11094, 'cross', 'ecb', 2, "
	"1, '1.0845', '161.29', '0.00672391344783', 'half-up', '2026-06-09', "
	T0 "), ('B2', 'charge', 'JPY', 'EUR', 1000, 620, 'inverse', 'ecb', "
	"NULL, 1, NULL, '161.29', '0.00620001240002', 'half-even', "
	"'2026-06-09', " T0 ");"
	"INSERT INTO payments (gateway, gateway_txn_id, kind, order_id, "
	"amount, currency, status, parent_txn_id, event_type, payload_sha256, "
	"received_at) VALUES ('stripe', 'ch_1', 'charge', 'A1', 10230, 'EUR', "
	"'succeeded', NULL, 'charge.succeeded', '" SHA_A "', " T0 "), "
	"('stripe', 're_1', 'refund', 'A1', 6200, 'EUR', 'succeeded', 'ch_1', "
	"'charge.refunded', '" SHA_B "', " T0 ");"
	"INSERT INTO refunds (refund_id, order_id, refund_amount, currency, "
	"charge_refund, charge_currency, pinned_rate, live_rate, "
	"charge_refund_at_live, fx_difference, rate_source, request, "
	"created_at) VALUES ('R1', 'A1', 10000, 'JPY', 6200, 'EUR', "
	"'0.00620001240002', '0.0060', 6000, 200, 'pinned', 'lines=1', " T0
	");"
	"INSERT INTO refund_lines VALUES ('R1', 1, 1, 6200);"
	"INSERT INTO images (product_id, url, updated_at) VALUES "
	"('P1', 'https://img.example/p1.jpg', " T0 ");";

static sqlite3 *open_with_data(void)
{
	sqlite3 *db = open_new();

	run_ok(db, fixture);
	return db;
}

START_TEST(test_fixture_defaults)
{
	sqlite3 *db = open_with_data();
	char buf[64];

	ck_assert_str_eq(query_text(db, "SELECT state FROM orders WHERE "
					"order_id = 'A1'",
				    buf, sizeof(buf)),
			 "pinned");
	ck_assert_str_eq(query_text(db, "SELECT status || '|' || attempts "
					"FROM images",
				    buf, sizeof(buf)),
			 "pending|0");
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM "
				       "pragma_foreign_key_check"),
			 0);
	dg_db_close(db);
}
END_TEST

/* Each statement hits the append-only trigger of its table. REPLACE
 * deletes the row it replaces: refused too (recursive_triggers). */
static const struct {
	const char *table;
	const char *update, *delete, *replace;
} append_only[] = {
	{"order_items", "UPDATE order_items SET qty = 2 WHERE line = 1",
	 "DELETE FROM order_items",
	 "INSERT OR REPLACE INTO order_items VALUES ('A1', 1, 'SKU-1', 9, 1)"},
	{"order_rates", "UPDATE order_rates SET converted = 9999",
	 "DELETE FROM order_rates WHERE kind = 'base'",
	 "REPLACE INTO order_rates (order_id, kind, from_currency, "
	 "to_currency, amount, converted, method, provider, div_rate_id, "
	 "div_rate, effective_rate, rounding, rate_as_of, pinned_at) VALUES "
	 "('B2', 'charge', 'JPY', 'EUR', 1000, 700, 'inverse', 'ecb', 1, "
	 "'161.29', '0.0062', 'half-up', '2026-06-09', " T0 ")"},
	{"payments", "UPDATE payments SET amount = 20460",
	 "DELETE FROM payments WHERE gateway_txn_id = 'ch_1'",
	 "INSERT OR REPLACE INTO payments (gateway, gateway_txn_id, kind, "
	 "order_id, amount, currency, status, payload_sha256, received_at) "
	 "VALUES ('stripe', 'ch_1', 'charge', 'A1', 20460, 'EUR', "
	 "'succeeded', '" SHA_B "', " T0 ")"},
	{"refunds", "UPDATE refunds SET charge_refund = 1",
	 "DELETE FROM refunds",
	 "INSERT OR REPLACE INTO refunds (refund_id, order_id, refund_amount, "
	 "currency, charge_refund, charge_currency, pinned_rate, rate_source, "
	 "request, created_at) VALUES ('R1', 'A1', 1, 'JPY', 1, 'EUR', "
	 "'0.0062', 'pinned', 'amount=1', " T0 ")"},
	{"refund_lines", "UPDATE refund_lines SET charge_amount = 0",
	 "DELETE FROM refund_lines",
	 "INSERT OR REPLACE INTO refund_lines VALUES ('R1', 1, 1, 1)"},
};

/* Every row of a table as text, to show that a refused statement changed
 * nothing. table is one of this file's constants. */
static const char *dump_table(sqlite3 *db, const char *table, char *buf,
			      size_t len)
{
	char sql[128];
	sqlite3_stmt *st;
	size_t used = 0;
	int i;

	dg_xsnprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1, 2",
		     table);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	buf[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *v = sqlite3_column_text(st, i);

			dg_xsnprintf(buf + used, len - used, "%s|",
				     v ? (const char *)v : "NULL");
			used += strlen(buf + used);
		}
		dg_xsnprintf(buf + used, len - used, "\n");
		used++;
	}
	sqlite3_finalize(st);
	return buf;
}

START_TEST(test_append_only)
{
	const char *sqls[] = {append_only[_i].update, append_only[_i].delete,
			      append_only[_i].replace};
	const char *table = append_only[_i].table;
	sqlite3 *db = open_with_data();
	char want[64], before[4096], after[4096];
	size_t i;

	dump_table(db, table, before, sizeof(before));
	ck_assert_str_ne(before, "");
	dg_xsnprintf(want, sizeof(want), "%s is append-only", table);
	for (i = 0; i < DG_NELEM(sqls); i++) {
		ck_assert_msg(run(db, sqls[i]) == SQLITE_CONSTRAINT_TRIGGER,
			      "not refused: %s", sqls[i]);
		ck_assert_str_eq(sqlite3_errmsg(db), want);
	}
	ck_assert_str_eq(dump_table(db, table, after, sizeof(after)), before);
	dg_db_close(db);
}
END_TEST

START_TEST(test_orders_state_only)
{
	sqlite3 *db = open_with_data();
	char buf[32];

	ck_assert_int_eq(run(db, "UPDATE orders SET amount = 1"),
			 SQLITE_CONSTRAINT_TRIGGER);
	ck_assert_str_eq(sqlite3_errmsg(db), "orders: only state may change");
	ck_assert_int_eq(run(db, "UPDATE orders SET charge_currency = 'USD'"),
			 SQLITE_CONSTRAINT_TRIGGER);
	ck_assert_int_eq(run(db, "DELETE FROM orders WHERE order_id = 'B2'"),
			 SQLITE_CONSTRAINT_TRIGGER);
	ck_assert_str_eq(sqlite3_errmsg(db), "orders: rows cannot be deleted");
	ck_assert_int_eq(run(db, "UPDATE orders SET state = 'paid' "
				 "WHERE order_id = 'A1'"),
			 SQLITE_OK);
	ck_assert_str_eq(query_text(db, "SELECT state FROM orders "
					"WHERE order_id = 'A1'",
				    buf, sizeof(buf)),
			 "paid");
	ck_assert_int_eq(run(db, "UPDATE orders SET state = 'shipped'"),
			 SQLITE_CONSTRAINT_CHECK);
	dg_db_close(db);
}
END_TEST

/* Inserts that break a key: the exact SQLite message names the columns. */
#define PK SQLITE_CONSTRAINT_PRIMARYKEY
#define UQ SQLITE_CONSTRAINT_UNIQUE
static const struct {
	const char *sql;
	int code;        /* extended result code */
	const char *msg; /* NULL: must succeed */
} uniques[] = {
	{"INSERT INTO payments (gateway, gateway_txn_id, kind, order_id, "
	 "amount, currency, status, payload_sha256, received_at) VALUES "
	 "('stripe', 'ch_1', 'charge', 'A1', 10230, 'EUR', 'succeeded', '" SHA_A
	 "', " T0 ")",
	 UQ,
	 "UNIQUE constraint failed: payments.gateway, payments.gateway_txn_id"},
	{"INSERT INTO payments (gateway, gateway_txn_id, kind, order_id, "
	 "amount, currency, status, payload_sha256, received_at) VALUES "
	 "('paypal', 'ch_1', 'charge', 'A1', 10230, 'EUR', 'COMPLETED', '" SHA_A
	 "', " T0 ")",
	 SQLITE_OK, NULL},
	{"INSERT INTO refunds (refund_id, order_id, refund_amount, currency, "
	 "charge_refund, charge_currency, pinned_rate, rate_source, request, "
	 "created_at) VALUES ('R1', 'A1', 6500, 'JPY', 4030, 'EUR', '0.0062', "
	 "'pinned', 'lines=2', " T0 ")",
	 UQ, "UNIQUE constraint failed: refunds.refund_id"},
	{"INSERT INTO order_rates (order_id, kind, from_currency, to_currency, "
	 "amount, converted, method, provider, div_rate_id, div_rate, "
	 "effective_rate, rounding, rate_as_of, pinned_at) VALUES ('B2', "
	 "'base', 'JPY', 'EUR', 1000, 620, 'inverse', 'ecb', 1, '161.29', "
	 "'0.0062', 'half-up', '2026-06-09', " T0 ")",
	 UQ, "UNIQUE constraint failed: order_rates.order_id, "
	 "order_rates.from_currency, order_rates.to_currency"},
	{"INSERT INTO order_rates (order_id, kind, from_currency, to_currency, "
	 "amount, converted, method, provider, mul_rate_id, mul_rate, "
	 "effective_rate, rounding, rate_as_of, pinned_at) VALUES ('A1', "
	 "'charge', 'EUR', 'USD', 10230, 11094, 'direct', 'ecb', 2, '1.0845', "
	 "'1.0845', 'half-up', '2026-06-09', " T0 ")",
	 UQ,
	 "UNIQUE constraint failed: order_rates.order_id, order_rates.kind"},
	{"INSERT INTO rates (provider, base, quote, rate, as_of, fetched_at) "
	 "VALUES ('ecb', 'EUR', 'JPY', '161.30', '2026-06-09', " T0 ")",
	 UQ,
	 "UNIQUE constraint failed: rates.provider, rates.base, rates.quote, "
	 "rates.as_of"},
	{"INSERT INTO rates (provider, base, quote, rate, as_of, fetched_at) "
	 "VALUES ('frankfurter', 'EUR', 'JPY', '161.30', '2026-06-09', " T0
	 ")",
	 SQLITE_OK, NULL},
	{"INSERT INTO orders (order_id, amount, currency, charge_currency, "
	 "created_at, content_sha256) VALUES ('A1', 16500, 'JPY', 'EUR', " T0
	 ", '" SHA_B "')",
	 PK, "UNIQUE constraint failed: orders.order_id"},
	{"INSERT INTO order_items VALUES ('A1', 2, 'SKU-3', 1, 1)",
	 PK,
	 "UNIQUE constraint failed: order_items.order_id, order_items.line"},
	{"INSERT INTO refund_lines VALUES ('R1', 1, 1, 1)",
	 PK,
	 "UNIQUE constraint failed: refund_lines.refund_id, "
	 "refund_lines.line"},
	{"INSERT INTO images (product_id, url, updated_at) VALUES ('P2', "
	 "'https://img.example/p1.jpg', " T0 ")",
	 UQ, "UNIQUE constraint failed: images.url"},
	{"INSERT INTO fetch_state (url, checked_at) VALUES "
	 "('https://ecb.example/daily.xml', " T0 ")",
	 PK, "UNIQUE constraint failed: fetch_state.url"},
};

START_TEST(test_unique)
{
	sqlite3 *db = open_with_data();
	int rc = run(db, uniques[_i].sql);

	ck_assert_msg(rc == uniques[_i].code, "got %d (%s), want %d", rc,
		      sqlite3_errmsg(db), uniques[_i].code);
	if (uniques[_i].msg)
		ck_assert_str_eq(sqlite3_errmsg(db), uniques[_i].msg);
	dg_db_close(db);
}
END_TEST

/* Inserts that break a CHECK, a type, NOT NULL or a foreign key. Each
 * differs from a valid row in one value. */
#define ORDER(id, amount, ccy, state)                                      \
	"INSERT INTO orders (order_id, amount, currency, charge_currency, "  \
	"state, created_at, content_sha256) VALUES (" id ", " amount ", "    \
	ccy ", 'EUR', " state ", " T0 ", '" SHA_A "')"
#define PAYMENT(kind, amount, ccy, parent, sha, at)                          \
	"INSERT INTO payments (gateway, gateway_txn_id, kind, amount, "      \
	"currency, status, parent_txn_id, payload_sha256, received_at) "     \
	"VALUES ('stripe', 'ch_9', " kind ", " amount ", " ccy               \
	", 'succeeded', " parent ", " sha ", " at ")"
#define RATE(base, quote, rate, as_of)                                     \
	"INSERT INTO rates (provider, base, quote, rate, as_of, fetched_at) " \
	"VALUES ('ecb', " base ", " quote ", " rate ", " as_of ", " T0 ")"
#define PIN(from, to, method, mul_id, mul, div_id, div, rounding)          \
	"INSERT INTO order_rates (order_id, kind, from_currency, "           \
	"to_currency, amount, converted, method, provider, mul_rate_id, "    \
	"mul_rate, div_rate_id, div_rate, effective_rate, rounding, "        \
	"rate_as_of, pinned_at) VALUES ('B2', 'base', " from ", " to         \
	", 1000, 620, " method ", 'ecb', " mul_id ", " mul ", " div_id       \
	", " div ", '0.0062', " rounding ", '2026-06-09', " T0 ")"

static const struct {
	const char *sql;
	int code; /* extended result code, SQLITE_OK for the valid twin */
} checks[] = {
	{ORDER("'C3'", "1650", "'JPY'", "'pinned'"), SQLITE_OK},
	{ORDER("'C3'", "1650", "'jpy'", "'pinned'"), SQLITE_CONSTRAINT_CHECK},
	{ORDER("'C3'", "1650", "'JP'", "'pinned'"), SQLITE_CONSTRAINT_CHECK},
	{ORDER("'C3'", "1650", "'JPYY'", "'pinned'"), SQLITE_CONSTRAINT_CHECK},
	{ORDER("'C3'", "1650", "''", "'pinned'"), SQLITE_CONSTRAINT_CHECK},
	{ORDER("'C3'", "16.5", "'JPY'", "'pinned'"),
	 SQLITE_CONSTRAINT_DATATYPE},
	{ORDER("'C3'", "'16.50'", "'JPY'", "'pinned'"),
	 SQLITE_CONSTRAINT_DATATYPE},
	{ORDER("'C3'", "'1650 JPY'", "'JPY'", "'pinned'"),
	 SQLITE_CONSTRAINT_DATATYPE},
	{ORDER("'C3'", "0", "'JPY'", "'pinned'"), SQLITE_CONSTRAINT_CHECK},
	{ORDER("'C3'", "-1650", "'JPY'", "'pinned'"), SQLITE_CONSTRAINT_CHECK},
	{ORDER("'C3'", "1650", "'JPY'", "'shipped'"), SQLITE_CONSTRAINT_CHECK},
	{ORDER("''", "1650", "'JPY'", "'pinned'"), SQLITE_CONSTRAINT_CHECK},
	{ORDER("NULL", "1650", "'JPY'", "'pinned'"),
	 SQLITE_CONSTRAINT_NOTNULL},
	{"INSERT INTO orders (order_id, amount, currency, charge_currency, "
	 "created_at, content_sha256) VALUES ('C3', 1, 'JPY', 'EUR', "
	 "'2026-06-10 09:09:24', '" SHA_A "')",
	 SQLITE_CONSTRAINT_CHECK},
	{"INSERT INTO orders (order_id, amount, currency, charge_currency, "
	 "created_at) VALUES ('C3', 1, 'JPY', 'EUR', " T0 ")",
	 SQLITE_CONSTRAINT_NOTNULL},
	{PAYMENT("'charge'", "100", "'EUR'", "NULL", "'" SHA_A "'", T0),
	 SQLITE_OK},
	{PAYMENT("'chargeback'", "100", "'EUR'", "NULL", "'" SHA_A "'", T0),
	 SQLITE_CONSTRAINT_CHECK},
	{PAYMENT("'charge'", "1.50", "'EUR'", "NULL", "'" SHA_A "'", T0),
	 SQLITE_CONSTRAINT_DATATYPE},
	{PAYMENT("'charge'", "-100", "'EUR'", "NULL", "'" SHA_A "'", T0),
	 SQLITE_CONSTRAINT_CHECK},
	{PAYMENT("'charge'", "100", "'eur'", "NULL", "'" SHA_A "'", T0),
	 SQLITE_CONSTRAINT_CHECK},
	{PAYMENT("'charge'", "100", "'EUR'", "'ch_1'", "'" SHA_A "'", T0),
	 SQLITE_CONSTRAINT_CHECK},
	{PAYMENT("'charge'", "100", "'EUR'", "NULL", "'abc'", T0),
	 SQLITE_CONSTRAINT_CHECK},
	{PAYMENT("'charge'", "100", "'EUR'", "NULL", "'" SHA_A "'",
		 "'2026-06-10'"),
	 SQLITE_CONSTRAINT_CHECK},
	{RATE("'EUR'", "'GBP'", "'0.85'", "'2026-06-09'"), SQLITE_OK},
	{RATE("'EUR'", "'GBP'", "''", "'2026-06-09'"),
	 SQLITE_CONSTRAINT_CHECK},
	{RATE("'EUR'", "'GBP'", "'-0.85'", "'2026-06-09'"),
	 SQLITE_CONSTRAINT_CHECK},
	{RATE("'EUR'", "'EUR'", "'1'", "'2026-06-09'"),
	 SQLITE_CONSTRAINT_CHECK},
	{RATE("'EUR'", "'gbp'", "'0.85'", "'2026-06-09'"),
	 SQLITE_CONSTRAINT_CHECK},
	{RATE("'EUR'", "'GBP'", "'.85'", "'2026-06-09'"),
	 SQLITE_CONSTRAINT_CHECK},
	{RATE("'EUR'", "'GBP'", "'0.85'", "'2026-6-9'"),
	 SQLITE_CONSTRAINT_CHECK},
	{RATE("'EUR'", "'GBP'", "'0.85'", "'Jun 9 2026'"),
	 SQLITE_CONSTRAINT_CHECK},
	{PIN("'JPY'", "'GBP'", "'inverse'", "NULL", "NULL", "1", "'161.29'",
	     "'half-up'"),
	 SQLITE_OK},
	{PIN("'JPY'", "'GBP'", "'guess'", "NULL", "NULL", "1", "'161.29'",
	     "'half-up'"),
	 SQLITE_CONSTRAINT_CHECK},
	{PIN("'JPY'", "'GBP'", "'inverse'", "NULL", "NULL", "1", "'161.29'",
	     "'bankers'"),
	 SQLITE_CONSTRAINT_CHECK},
	{PIN("'JPY'", "'GBP'", "'direct'", "NULL", "NULL", "1", "'161.29'",
	     "'half-up'"),
	 SQLITE_CONSTRAINT_CHECK},
	{PIN("'JPY'", "'GBP'", "'cross'", "NULL", "NULL", "1", "'161.29'",
	     "'half-up'"),
	 SQLITE_CONSTRAINT_CHECK},
	{PIN("'JPY'", "'GBP'", "'identity'", "NULL", "NULL", "NULL", "NULL",
	     "'half-up'"),
	 SQLITE_CONSTRAINT_CHECK},
	{PIN("'JPY'", "'GBP'", "'inverse'", "NULL", "NULL", "NULL",
	     "'161.29'", "'half-up'"),
	 SQLITE_CONSTRAINT_CHECK},
	{PIN("'JPY'", "'GBP'", "'inverse'", "NULL", "NULL", "99", "'161.29'",
	     "'half-up'"),
	 SQLITE_CONSTRAINT_FOREIGNKEY},
	{"INSERT INTO order_items VALUES ('A1', 3, NULL, 1, 100)", SQLITE_OK},
	{"INSERT INTO order_items VALUES ('A1', 0, NULL, 1, 100)",
	 SQLITE_CONSTRAINT_CHECK},
	{"INSERT INTO order_items VALUES ('A1', 3, NULL, 0, 100)",
	 SQLITE_CONSTRAINT_CHECK},
	{"INSERT INTO order_items VALUES ('A1', 3, NULL, 1, 1.5)",
	 SQLITE_CONSTRAINT_DATATYPE},
	{"INSERT INTO order_items VALUES ('Z9', 1, NULL, 1, 100)",
	 SQLITE_CONSTRAINT_FOREIGNKEY},
	{"INSERT INTO refunds (refund_id, order_id, refund_amount, currency, "
	 "charge_refund, charge_currency, pinned_rate, rate_source, request, "
	 "created_at) VALUES ('R2', 'A1', 6500, 'JPY', 4030, 'EUR', '0.0062', "
	 "'guess', 'lines=2', " T0 ")",
	 SQLITE_CONSTRAINT_CHECK},
	{"INSERT INTO refunds (refund_id, order_id, refund_amount, currency, "
	 "charge_refund, charge_currency, pinned_rate, rate_source, request, "
	 "created_at) VALUES ('R2', 'Z9', 6500, 'JPY', 4030, 'EUR', '0.0062', "
	 "'pinned', 'lines=2', " T0 ")",
	 SQLITE_CONSTRAINT_FOREIGNKEY},
	{"INSERT INTO refund_lines VALUES ('R9', 1, 1, 1)",
	 SQLITE_CONSTRAINT_FOREIGNKEY},
	{"INSERT INTO images (product_id, url, status, updated_at) VALUES "
	 "('P2', 'https://img.example/p2.jpg', 'done', " T0 ")",
	 SQLITE_CONSTRAINT_CHECK},
	{"INSERT INTO images (product_id, url, bytes, updated_at) VALUES "
	 "('P2', 'https://img.example/p2.jpg', -1, " T0 ")",
	 SQLITE_CONSTRAINT_CHECK},
	{"INSERT INTO events (at, tool, kind) VALUES (" T0 ", 'x', '')",
	 SQLITE_CONSTRAINT_CHECK},
};

/*
 * Rules schema 1 kept in SQL and schema 2 leaves to the library, which
 * checks every value on the way in (daigou.db(5), "Where the rules
 * live"): SQL stores these rows, the tools never write them. A tool's
 * refusal of each is tested with the tool (t0025) and in the library's
 * own tests (check_currency, check_money, check_cli).
 */
static const char *const library_rules[] = {
	/* an ISO 4217 code from the table, not any three capitals */
	ORDER("'C3'", "1650", "'J1Y'", "'pinned'"),
	/* a digest in lower-case hex */
	PAYMENT("'charge'", "100", "'EUR'", "NULL",
		"'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAA'",
		T0),
	/* a rate's exact syntax: digits and at most one inner point */
	RATE("'EUR'", "'GBP'", "'0,85'", "'2026-06-09'"),
	RATE("'EUR'", "'GBP'", "'8.5e-1'", "'2026-06-09'"),
	RATE("'EUR'", "'GBP'", "'0.8.5'", "'2026-06-09'"),
	RATE("'EUR'", "'GBP'", "'1.'", "'2026-06-09'"),
	/* a date and a time in their one format */
	RATE("'EUR'", "'GBP'", "'0.85'", "'09/06/2026'"),
	"INSERT INTO events (at, tool, kind) VALUES ('2026-06-10 09:09:24Z', "
	"'x', 'y')",
};

START_TEST(test_library_rules)
{
	sqlite3 *db = open_with_data();
	int rc = run(db, library_rules[_i]);

	ck_assert_msg(rc == SQLITE_OK, "got %d (%s): %s", rc,
		      sqlite3_errmsg(db), library_rules[_i]);
	dg_db_close(db);
}
END_TEST

/* synchronous: FULL from dg_db_open, NORMAL on request, never changed
 * inside a transaction. */
START_TEST(test_synchronous)
{
	sqlite3 *db = open_new();

	ck_assert_int_eq(query_int(db, "PRAGMA synchronous"), 2);
	ck_assert_int_eq(dg_db_synchronous(db, false), 0);
	ck_assert_int_eq(query_int(db, "PRAGMA synchronous"), 1);
	ck_assert_int_eq(dg_db_begin(db), 0);
	capture_stderr();
	ck_assert_int_eq(dg_db_synchronous(db, true), DG_EXIT_SOFTWARE);
	ck_assert_str_eq(captured(), "check_db: cannot change synchronous "
				     "inside a transaction\n");
	ck_assert_int_eq(query_int(db, "PRAGMA synchronous"), 1);
	ck_assert_int_eq(dg_db_commit(db), 0);
	ck_assert_int_eq(dg_db_synchronous(db, true), 0);
	ck_assert_int_eq(query_int(db, "PRAGMA synchronous"), 2);
	dg_db_close(db);
}
END_TEST

/* dg_db_checks: the rates CHECKs off for the connection, on again. */
START_TEST(test_checks_switch)
{
	static const char bad[] =
		"INSERT INTO rates (provider, base, quote, rate, as_of, "
		"fetched_at) VALUES ('ecb', 'EUR', 'EUR', '-1', '2026', "
		"'2026-06-09T10:00:00Z')";
	sqlite3 *db = open_new();
	sqlite3_stmt *st = NULL;

	ck_assert_int_eq(run(db, bad), SQLITE_CONSTRAINT_CHECK);
	ck_assert_int_eq(dg_db_checks(db, false), 0);
	ck_assert_int_eq(query_int(db, "PRAGMA ignore_check_constraints"), 1);
	ck_assert_int_eq(dg_db_prepare(db, bad, &st), 0);
	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	ck_assert_int_eq(sqlite3_reset(st), SQLITE_OK);
	/* On again inside the transaction: the statement prepared without
	 * the checks is prepared again, with them, when it next runs. */
	ck_assert_int_eq(dg_db_checks(db, true), 0);
	ck_assert_int_eq(query_int(db, "PRAGMA ignore_check_constraints"), 0);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_CONSTRAINT);
	ck_assert_int_eq(sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_CHECK);
	sqlite3_finalize(st);
	dg_db_rollback(db);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM rates"), 0);
	dg_db_close(db);
}
END_TEST

/* dg_db_rate_doc_ok and dg_db_rate_quote_ok against the rates table's
 * CHECKs: what they accept, SQL accepts; what SQL refuses, they refuse.
 * ok is their verdict, sql_ok SQL's where the two differ (they are
 * stricter). */
static const struct {
	const char *provider, *base, *quote, *rate, *as_of, *fetched_at;
	bool ok, sql_ok;
} rate_rows[] = {
	{"ecb", "EUR", "USD", "1.1684", "2026-04-13", "2026-04-14T00:00:00Z",
	 true, true},
	{"x", "AAA", "ZZZ", "0", "0000-00-00", "0000-00-00T00:00:00Z", true,
	 true},
	{"", "EUR", "USD", "1.1", "2026-04-13", "2026-04-14T00:00:00Z", false,
	 false},
	{"ecb", "EUR", "EUR", "1.1", "2026-04-13", "2026-04-14T00:00:00Z",
	 false, false},
	{"ecb", "eur", "USD", "1.1", "2026-04-13", "2026-04-14T00:00:00Z",
	 false, false},
	{"ecb", "EUR", "US", "1.1", "2026-04-13", "2026-04-14T00:00:00Z", false,
	 false},
	{"ecb", "EUR", "USDX", "1.1", "2026-04-13", "2026-04-14T00:00:00Z",
	 false, false},
	/* stricter than SQL: between 'AAA' and 'ZZZ', not three capitals */
	{"ecb", "EUR", "U@D", "1.1", "2026-04-13", "2026-04-14T00:00:00Z",
	 false, true},
	{"ecb", "EUR", "USD", ".5", "2026-04-13", "2026-04-14T00:00:00Z", false,
	 false},
	{"ecb", "EUR", "USD", "", "2026-04-13", "2026-04-14T00:00:00Z", false,
	 false},
	{"ecb", "EUR", "USD", "-1", "2026-04-13", "2026-04-14T00:00:00Z", false,
	 false},
	{"ecb", "EUR", "USD", "1.1", "2026-04-1", "2026-04-14T00:00:00Z", false,
	 false},
	{"ecb", "EUR", "USD", "1.1", "2026-04-133", "2026-04-14T00:00:00Z",
	 false, false},
	{"ecb", "EUR", "USD", "1.1", "X026-04-13", "2026-04-14T00:00:00Z",
	 false, false},
	{"ecb", "EUR", "USD", "1.1", "2026-04-13", "2026-04-14T00:00:00", false,
	 false},
	{"ecb", "EUR", "USD", "1.1", "2026-04-13", "T2026-04-14T00:00:00Z",
	 false, false},
	/* stricter than SQL: ten characters, but not ten ASCII bytes */
	{"ecb", "EUR", "USD", "1.1", "2026-04-1\xc3\xa9",
	 "2026-04-14T00:00:00Z", false, true},
};

START_TEST(test_rate_row_ok)
{
	sqlite3 *db = open_new();
	sqlite3_stmt *st = NULL;
	const char *v[6];
	int i, rc;
	bool ok;

	v[0] = rate_rows[_i].provider;
	v[1] = rate_rows[_i].base;
	v[2] = rate_rows[_i].quote;
	v[3] = rate_rows[_i].rate;
	v[4] = rate_rows[_i].as_of;
	v[5] = rate_rows[_i].fetched_at;
	ok = dg_db_rate_doc_ok(v[0], v[5]) &&
	     dg_db_rate_quote_ok(v[1], v[2], v[3], v[4]);
	ck_assert_int_eq(ok, rate_rows[_i].ok);
	ck_assert_int_eq(dg_db_prepare(db,
				       "INSERT INTO rates (provider, base, "
				       "quote, rate, as_of, fetched_at) VALUES "
				       "(?1, ?2, ?3, ?4, ?5, ?6)",
				       &st),
			 0);
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(
			sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC),
			SQLITE_OK);
	rc = sqlite3_step(st);
	if (ok || rate_rows[_i].sql_ok)
		ck_assert_int_eq(rc, SQLITE_DONE);
	else
		ck_assert_int_eq(sqlite3_extended_errcode(db),
				 SQLITE_CONSTRAINT_CHECK);
	sqlite3_finalize(st);
	ck_assert(!dg_db_rate_doc_ok(NULL, v[5]));
	ck_assert(!dg_db_rate_doc_ok(v[0], NULL));
	ck_assert(!dg_db_rate_quote_ok(NULL, v[2], v[3], v[4]));
	ck_assert(!dg_db_rate_quote_ok(v[1], v[2], NULL, v[4]));
	dg_db_close(db);
}
END_TEST

/* dg_rates_store inserts with SQLite's checks off and its own in C: a
 * quote they refuse stops the store (70) with the checks on again, and
 * a good document leaves them on too. */
START_TEST(test_rates_store_checks)
{
	struct dg_quote v[2] = {{"EUR", "GBP", {0}, 0, "2026-06-09"},
				{"EUR", "USD", {0}, 0, "2026-06-09"}};
	struct dg_quotes q = {v, 2, 2};
	struct dg_store_stats stats = {0};
	sqlite3 *db = open_new();

	ck_assert_int_eq(dg_rate_parse("0.85", &v[0].rate), 0);
	ck_assert_int_eq(dg_rate_parse("1.1", &v[1].rate), 0);
	ck_assert_int_eq(dg_parse_date("2026-06-09", &v[0].as_of), 0);
	v[1].as_of = v[0].as_of;
	memcpy(v[1].quote, "usd", 4); /* past the parsers: a bug */
	ck_assert_int_eq(dg_db_begin(db), 0);
	capture_stderr();
	ck_assert_int_eq(dg_rates_store(db, "ecb", "f.xml", "f.xml", &q, NULL,
					"2026-06-10T00:00:00Z", "2", &stats),
			 DG_EXIT_SOFTWARE);
	ck_assert_str_eq(captured(), "check_db: cannot store EUR/usd on "
				     "2026-06-09: it fails the rates table's "
				     "checks\n");
	ck_assert_int_eq(query_int(db, "PRAGMA ignore_check_constraints"), 0);
	dg_db_rollback(db);
	dg_store_stats_free(&stats);
	memcpy(v[1].quote, "USD", 4);
	memset(&stats, 0, sizeof(stats));
	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(dg_rates_store(db, "ecb", "f.xml", "f.xml", &q, NULL,
					"2026-06-10T00:00:00Z", "2", &stats),
			 0);
	ck_assert_int_eq(dg_db_commit(db), 0);
	ck_assert_int_eq(stats.fresh, 2);
	ck_assert_int_eq(query_int(db, "PRAGMA ignore_check_constraints"), 0);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM rates"), 2);
	ck_assert_int_eq(run(db, "INSERT INTO rates (provider, base, quote, "
				 "rate, as_of, fetched_at) VALUES ('ecb', "
				 "'EUR', 'EUR', '1', '2026-06-09', "
				 "'2026-06-10T00:00:00Z')"),
			 SQLITE_CONSTRAINT_CHECK);
	dg_store_stats_free(&stats);
	dg_db_close(db);
}
END_TEST

START_TEST(test_checks)
{
	sqlite3 *db = open_with_data();
	int rc = run(db, checks[_i].sql);

	ck_assert_msg(rc == checks[_i].code, "got %d (%s), want %d: %s", rc,
		      sqlite3_errmsg(db), checks[_i].code, checks[_i].sql);
	dg_db_close(db);
}
END_TEST

/* -------------------------------------------------------------- events */

START_TEST(test_event)
{
	sqlite3 *db = open_new();
	char buf[256];

	setenv("DAIGOU_NOW", "2026-06-10T11:09:24+02:00", 1);
	dg_set_progname("/usr/bin/rate-fetch");
	ck_assert_int_eq(dg_db_event(db, "rate_jump", "EUR/JPY",
				     "moved 2.5 % from 161.29 to 165.32"),
			 0);
	ck_assert_int_eq(dg_db_event(db, "pin_refused", NULL, NULL), 0);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events"), 3);
	ck_assert_str_eq(query_text(db,
				    "SELECT at || '|' || tool || '|' || kind "
				    "|| '|' || subject || '|' || detail FROM "
				    "events WHERE kind = 'rate_jump'",
				    buf, sizeof(buf)),
			 "2026-06-10T09:09:24Z|rate-fetch|rate_jump|EUR/JPY|"
			 "moved 2.5 % from 161.29 to 165.32");
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events WHERE "
				       "kind = 'pin_refused' AND subject IS "
				       "NULL AND detail IS NULL"),
			 1);
	dg_db_close(db);
}
END_TEST

START_TEST(test_event_bad_clock)
{
	sqlite3 *db = open_new();

	setenv("DAIGOU_NOW", "yesterday", 1);
	capture_stderr();
	ck_assert_int_eq(dg_db_event(db, "rate_jump", "EUR/JPY", "x"),
			 DG_EXIT_USAGE);
	ck_assert_str_eq(captured(),
			 "check_db: malformed DAIGOU_NOW 'yesterday': want "
			 "RFC 3339 such as 2026-06-10T09:09:24Z\n");
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events"), 1);
	dg_db_close(db);
}
END_TEST

/* -------------------------------------------------------- transactions */

START_TEST(test_begin_commit_rollback)
{
	sqlite3 *db = open_new();

	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(sqlite3_get_autocommit(db), 0);
	ck_assert_int_eq(dg_db_event(db, "test", "rolled", "back"), 0);
	dg_db_rollback(db);
	ck_assert_int_eq(sqlite3_get_autocommit(db), 1);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events"), 1);

	ck_assert_int_eq(dg_db_begin(db), 0);
	ck_assert_int_eq(dg_db_event(db, "test", "committed", NULL), 0);
	ck_assert_int_eq(dg_db_commit(db), 0);
	ck_assert_int_eq(sqlite3_get_autocommit(db), 1);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM events WHERE "
				       "subject = 'committed'"),
			 1);

	/* Nothing to roll back: silent. */
	capture_stderr();
	dg_db_rollback(db);
	dg_db_rollback(NULL);
	ck_assert_str_eq(captured(), "");
	dg_db_close(db);
}
END_TEST

START_TEST(test_transaction_misuse)
{
	sqlite3 *db = open_new();
	char want[PATH_MAX + 256];
	const char *file = sqlite3_db_filename(db, "main");

	ck_assert_int_eq(dg_db_begin(db), 0);
	capture_stderr();
	ck_assert_int_eq(dg_db_begin(db), DG_EXIT_IOERR);
	dg_xsnprintf(want, sizeof(want),
		     "check_db: cannot start a transaction on '%s': cannot "
		     "start a transaction within a transaction\n",
		     file);
	ck_assert_str_eq(captured(), want);
	ck_assert_int_eq(dg_db_commit(db), 0);

	capture_stderr();
	ck_assert_int_eq(dg_db_commit(db), DG_EXIT_IOERR);
	dg_xsnprintf(want, sizeof(want),
		     "check_db: cannot commit a transaction on '%s': cannot "
		     "commit - no transaction is active\n",
		     file);
	ck_assert_str_eq(captured(), want);
	dg_db_close(db);
}
END_TEST

static int64_t elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - since->tv_sec) * 1000 +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

START_TEST(test_begin_busy)
{
	char path[PATH_MAX], want[PATH_MAX + 128];
	sqlite3 *holder = open_new(), *waiter = NULL;
	struct timespec start;
	int64_t ms;

	setenv("DAIGOU_BUSY_TIMEOUT_MS", "150", 1);
	in_dir(path, sizeof(path), "t.db");
	ck_assert_int_eq(dg_db_open(path, &waiter), 0);
	ck_assert_int_eq(dg_db_begin(holder), 0);

	clock_gettime(CLOCK_MONOTONIC, &start);
	capture_stderr();
	ck_assert_int_eq(dg_db_begin(waiter), DG_EXIT_TEMPFAIL);
	ms = elapsed_ms(&start);
	dg_xsnprintf(want, sizeof(want),
		     "check_db: cannot start a transaction on '%s': database "
		     "is locked\n",
		     sqlite3_db_filename(waiter, "main"));
	ck_assert_str_eq(captured(), want);
	ck_assert_msg(ms >= 140 && ms < 3000, "gave up after %lld ms",
		      (long long)ms);
	ck_assert_int_eq(sqlite3_get_autocommit(waiter), 1);

	/* Readers are not blocked by the writer (WAL). */
	ck_assert_int_eq(query_int(waiter, "SELECT count(*) FROM events"), 1);

	ck_assert_int_eq(dg_db_commit(holder), 0);
	ck_assert_int_eq(dg_db_begin(waiter), 0);
	dg_db_rollback(waiter);
	dg_db_close(waiter);
	dg_db_close(holder);
}
END_TEST

/* ------------------------------------------------------ error handling */

static const struct {
	int rc;
	int want;
} fail_codes[] = {
	{SQLITE_BUSY, DG_EXIT_TEMPFAIL},
	{SQLITE_BUSY_SNAPSHOT, DG_EXIT_TEMPFAIL},
	{SQLITE_BUSY_RECOVERY, DG_EXIT_TEMPFAIL},
	{SQLITE_LOCKED, DG_EXIT_TEMPFAIL},
	{SQLITE_LOCKED_SHAREDCACHE, DG_EXIT_TEMPFAIL},
	{SQLITE_ERROR, DG_EXIT_IOERR},
	{SQLITE_IOERR, DG_EXIT_IOERR},
	{SQLITE_IOERR_FSYNC, DG_EXIT_IOERR},
	{SQLITE_FULL, DG_EXIT_IOERR},
	{SQLITE_CORRUPT, DG_EXIT_IOERR},
	{SQLITE_READONLY, DG_EXIT_IOERR},
	{SQLITE_CONSTRAINT, DG_EXIT_IOERR},
	{SQLITE_CONSTRAINT_UNIQUE, DG_EXIT_IOERR},
	{SQLITE_NOTADB, DG_EXIT_IOERR},
	{SQLITE_CANTOPEN, DG_EXIT_IOERR},
};

START_TEST(test_fail_mapping)
{
	char want[256];

	capture_stderr();
	ck_assert_int_eq(dg_db_fail(NULL, fail_codes[_i].rc, "cannot do it"),
			 fail_codes[_i].want);
	dg_xsnprintf(want, sizeof(want), "check_db: cannot do it: %s\n",
		     sqlite3_errstr(fail_codes[_i].rc));
	ck_assert_str_eq(captured(), want);
}
END_TEST

START_TEST(test_fail_uses_connection_message)
{
	sqlite3 *db = open_with_data();
	int rc = run(db, "DELETE FROM payments");

	capture_stderr();
	ck_assert_int_eq(dg_db_fail(db, rc, "cannot forget payments"),
			 DG_EXIT_IOERR);
	ck_assert_str_eq(captured(), "check_db: cannot forget payments: "
				     "payments is append-only\n");
	dg_db_close(db);
}
END_TEST

START_TEST(test_prepare)
{
	sqlite3 *db = open_new();
	sqlite3_stmt *st = (sqlite3_stmt *)&st;

	capture_stderr();
	ck_assert_int_eq(dg_db_prepare(db, "SELEC 1", &st), DG_EXIT_IOERR);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(dg_db_prepare(db, "SELECT \"pinned\" FROM orders",
				       &st),
			 DG_EXIT_IOERR);
	ck_assert_str_eq(captured(),
			 "check_db: cannot prepare a statement: near "
			 "\"SELEC\": syntax error\n"
			 "check_db: cannot prepare a statement: no such "
			 "column: pinned\n");
	ck_assert_int_eq(dg_db_prepare(db, "SELECT count(*) FROM orders "
					   "WHERE state = ?1",
				       &st),
			 0);
	ck_assert_ptr_nonnull(st);
	sqlite3_finalize(st);
	dg_db_close(db);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_path, 0, DG_NELEM(paths));
	tcase_add_test(tc, test_empty_path_refused);
	tcase_add_test(tc, test_open_creates_and_migrates);
	tcase_add_test(tc, test_schema_objects);
	tcase_add_test(tc, test_reopen_is_a_no_op);
	tcase_add_loop_test(tc, test_busy_timeout_env, 0, DG_NELEM(busy_envs));
	tcase_add_test(tc, test_open_ro_missing);
	tcase_add_loop_test(tc, test_bad_path, 0, DG_NELEM(bad_paths));
	tcase_add_loop_test(tc, test_permission_denied, 0, DG_NELEM(denied));
	tcase_add_test(tc, test_open_ro_reads_and_never_writes);
	tcase_add_test(tc, test_open_ro_empty_file);
	tcase_add_test(tc, test_newer_schema_refused);
	tcase_add_loop_test(tc, test_not_a_database_refused, 0,
			    DG_NELEM(not_databases));
	tcase_add_loop_test(tc, test_foreign_database_refused, 0,
			    DG_NELEM(foreign_setups));
	suite_add_tcase(s, tc);

	tc = tcase_create("schema");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fixture_defaults);
	tcase_add_loop_test(tc, test_append_only, 0, DG_NELEM(append_only));
	tcase_add_test(tc, test_orders_state_only);
	tcase_add_loop_test(tc, test_unique, 0, DG_NELEM(uniques));
	tcase_add_loop_test(tc, test_checks, 0, DG_NELEM(checks));
	tcase_add_loop_test(tc, test_library_rules, 0,
			    DG_NELEM(library_rules));
	suite_add_tcase(s, tc);

	tc = tcase_create("use");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_event);
	tcase_add_test(tc, test_event_bad_clock);
	tcase_add_test(tc, test_begin_commit_rollback);
	tcase_add_test(tc, test_transaction_misuse);
	tcase_add_test(tc, test_begin_busy);
	tcase_add_test(tc, test_synchronous);
	tcase_add_test(tc, test_checks_switch);
	tcase_add_test(tc, test_rates_store_checks);
	tcase_add_loop_test(tc, test_rate_row_ok, 0, DG_NELEM(rate_rows));
	tcase_add_loop_test(tc, test_fail_mapping, 0, DG_NELEM(fail_codes));
	tcase_add_test(tc, test_fail_uses_connection_message);
	tcase_add_test(tc, test_fail_file_size_limit);
	tcase_add_test(tc, test_prepare);
	suite_add_tcase(s, tc);
	return s;
}
