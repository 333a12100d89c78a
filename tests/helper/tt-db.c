/* dg-test-tool db: the db.c functions, for shell tests. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "test-tool.h"
#include "daigou.h"

static const char usage[] =
	"usage: dg-test-tool db path [OPT]\n"
	"       dg-test-tool db open PATH\n"
	"       dg-test-tool db open-ro PATH\n"
	"       dg-test-tool db event PATH KIND [SUBJECT [DETAIL]]\n"
	"       dg-test-tool db exec PATH SQL [PARAM...]\n"
	"       dg-test-tool db begin-hold PATH MILLISECONDS\n";

static int print_version(sqlite3 *db)
{
	int ret, version;

	if ((ret = dg_db_user_version(db, &version)))
		return ret;
	printf("%d\n", version);
	return 0;
}

/* open PATH | open-ro PATH: print the schema version. */
static int cmd_open(const char *path, bool ro)
{
	sqlite3 *db;
	int ret;

	if ((ret = ro ? dg_db_open_ro(path, &db) : dg_db_open(path, &db)))
		return ret;
	ret = print_version(db);
	dg_db_close(db);
	return ret;
}

/* event PATH KIND [SUBJECT [DETAIL]]: one event in its own transaction. */
static int cmd_event(const char *path, const char *kind, const char *subject,
		     const char *detail)
{
	sqlite3 *db;
	int ret;

	if ((ret = dg_db_open(path, &db)))
		return ret;
	if ((ret = dg_db_begin(db)))
		goto out;
	if ((ret = dg_db_event(db, kind, subject, detail)))
		goto out;
	ret = dg_db_commit(db);
out:
	if (ret)
		dg_db_rollback(db);
	dg_db_close(db);
	return ret;
}

/* exec PATH SQL [PARAM...]: one statement through a library connection
 * (foreign keys, recursive triggers), parameters bound as text, rows
 * printed as the sqlite3 shell's list mode does. */
static int cmd_exec(const char *path, const char *sql, int nparams,
		    char **params)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int i, rc, ret;

	if ((ret = dg_db_open(path, &db)))
		return ret;
	if ((ret = dg_db_prepare(db, sql, &st)))
		goto out;
	for (i = 0; i < nparams; i++) {
		rc = sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			ret = dg_db_fail(db, rc, "cannot bind a parameter");
			goto out;
		}
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *v = sqlite3_column_text(st, i);

			printf("%s%s", i ? "|" : "", v ? (const char *)v : "");
		}
		putchar('\n');
	}
	if (rc != SQLITE_DONE)
		ret = dg_db_fail(db, rc, "cannot run the statement");
out:
	sqlite3_finalize(st);
	dg_db_close(db);
	return ret;
}

/* begin-hold PATH MS: take the write lock, say "held" on stdout, keep it
 * for MS milliseconds, commit, say "released". */
static int cmd_begin_hold(const char *path, const char *ms_text)
{
	sqlite3 *db;
	char *end;
	long ms;
	int ret;

	errno = 0;
	ms = strtol(ms_text, &end, 10);
	if (*ms_text < '0' || *ms_text > '9' || *end || errno || ms > INT_MAX) {
		dg_error("malformed milliseconds '%s'", ms_text);
		return DG_EXIT_USAGE;
	}
	if ((ret = dg_db_open(path, &db)))
		return ret;
	if ((ret = dg_db_begin(db)))
		goto out;
	printf("held\n");
	fflush(stdout);
	sqlite3_sleep((int)ms);
	if ((ret = dg_db_commit(db)))
		goto out;
	printf("released\n");
out:
	dg_db_close(db);
	return ret;
}

int tt_db(int argc, char **argv)
{
	const char *op = argc >= 2 ? argv[1] : "";

	if (!strcmp(op, "path") && argc <= 3) {
		printf("%s\n", dg_db_path(argc == 3 ? argv[2] : NULL));
		return 0;
	}
	if (!strcmp(op, "open") && argc == 3)
		return cmd_open(argv[2], false);
	if (!strcmp(op, "open-ro") && argc == 3)
		return cmd_open(argv[2], true);
	if (!strcmp(op, "event") && argc >= 4 && argc <= 6)
		return cmd_event(argv[2], argv[3], argc > 4 ? argv[4] : NULL,
				 argc > 5 ? argv[5] : NULL);
	if (!strcmp(op, "exec") && argc >= 4)
		return cmd_exec(argv[2], argv[3], argc - 4, argv + 4);
	if (!strcmp(op, "begin-hold") && argc == 4)
		return cmd_begin_hold(argv[2], argv[3]);
	fputs(usage, stderr);
	return DG_EXIT_USAGE;
}
