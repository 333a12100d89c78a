/*
 * db.c - the SQLite file: opening, pragmas, schema migrations and
 * transactions. The whole schema lives here, in the migrations array.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daigou.h"

/* STRICT tables need SQLite 3.37. */
#if SQLITE_VERSION_NUMBER < 3037000
#error "daigou-tools needs SQLite 3.37 or later (STRICT tables)"
#endif

#define DEFAULT_BUSY_TIMEOUT_MS 10000
#define JOURNAL_MODE_SIZE	16
#define MAX_BUSY_TIMEOUT_MS	(24 * 3600 * 1000)

/* PRAGMA application_id, 0x44474f55 ("DGOU"): tells a daigou database
 * from any other SQLite file that happens to have a user_version. */
#define DG_APPLICATION_ID 1145524053
#define STR_(x)		  #x
#define STR(x)		  STR_(x)

/* clang-format off */
/* Building blocks of the CHECK constraints below. */
#define CCY(c) "length(" c ") = 3 AND " c " GLOB '[A-Z][A-Z][A-Z]'"
#define DATE(c) c " GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
#define TIME(c)                                                            \
	c " GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"                \
	  "T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'"
#define SHA256(c) "length(" c ") = 64 AND " c " NOT GLOB '*[^0-9a-f]*'"
#define RATE(c)                                                            \
	c " GLOB '[0-9]*' AND " c " NOT GLOB '*[^0-9.]*' AND " c              \
	  " NOT GLOB '*.*.*' AND " c " NOT GLOB '*.'"
#define APPEND_ONLY(t)                                                     \
	"CREATE TRIGGER " t "_no_update BEFORE UPDATE ON " t "\n"            \
	"BEGIN SELECT RAISE(ABORT, '" t " is append-only'); END;\n"          \
	"CREATE TRIGGER " t "_no_delete BEFORE DELETE ON " t "\n"            \
	"BEGIN SELECT RAISE(ABORT, '" t " is append-only'); END;\n"

/*
 * Schema 2's forms of the same rules: what a comparison or a length can
 * state. The library has checked every value on the way in (ISO 4217
 * codes from the currency table, rates through dg_rate_parse, times and
 * dates from dg_format_rfc3339 and dg_format_date, digests from
 * libcrypto); SQL keeps a cheap guard against a value of the wrong kind
 * in the wrong column. Each accepts every value its schema-1 form
 * accepted, so that the migration cannot refuse a row schema 1 stored.
 * An IN list of constants costs an ephemeral index per row: OR chains.
 */
#define LEAD_DIGIT(c) c " >= '0' AND " c " < ':'"
#define CCY2(c)	      "length(" c ") = 3 AND " c " BETWEEN 'AAA' AND 'ZZZ'"
#define DATE2(c)      "length(" c ") = 10 AND " LEAD_DIGIT(c)
#define TIME2(c)      "length(" c ") = 20 AND " LEAD_DIGIT(c)
#define SHA256_2(c)   "length(" c ") = 64"
#define RATE2(c)      LEAD_DIGIT(c)
/* The documented way to change a table's constraints
 * (https://www.sqlite.org/lang_altertable.html#otheralter): build
 * new_t, copy every row with its id, drop t, rename; the indexes and
 * triggers, dropped with t, are created again after. Foreign keys are off
 * meanwhile (see migrate()). SELECT * fails loudly on a table with a
 * column added by hand, where a column list would drop it. */
#define REBUILD(t)                                                         \
	"INSERT INTO new_" t " SELECT * FROM " t ";\n"                       \
	"DROP TABLE " t ";\n"                                                \
	"ALTER TABLE new_" t " RENAME TO " t ";\n"

/*
 * migrations[v] takes a database from user_version v to v + 1. Released
 * entries never change: later schema work appends a migration. The text
 * is stored by SQLite as written, so it is laid out to read well in the
 * sqlite3 shell's .schema output. man/daigou.db.5 documents every column.
 */
static const char *const migrations[] = {
	/* 0 -> 1: the first release. */
	"CREATE TABLE rates (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\tprovider TEXT NOT NULL CHECK (provider <> ''),\n"
	"\tbase TEXT NOT NULL CHECK (" CCY("base") "),\n"
	"\tquote TEXT NOT NULL CHECK (" CCY("quote") "),\n"
	"\trate TEXT NOT NULL CHECK (" RATE("rate") "),\n"
	"\tas_of TEXT NOT NULL CHECK (" DATE("as_of") "),\n"
	"\tfetched_at TEXT NOT NULL CHECK (" TIME("fetched_at") "),\n"
	"\tsource TEXT,\n"
	"\tCHECK (base <> quote),\n"
	"\tUNIQUE (provider, base, quote, as_of)\n"
	") STRICT;\n"
	"\n"
	"CREATE TABLE fetch_state (\n"
	"\turl TEXT PRIMARY KEY NOT NULL,\n"
	"\tetag TEXT,\n"
	"\tlast_modified TEXT,\n"
	"\tlast_status INTEGER,\n"
	"\tchecked_at TEXT NOT NULL CHECK (" TIME("checked_at") "),\n"
	"\tchanged_at TEXT CHECK (" TIME("changed_at") ")\n"
	") STRICT;\n"
	"\n"
	"CREATE TABLE orders (\n"
	"\torder_id TEXT PRIMARY KEY NOT NULL CHECK (order_id <> ''),\n"
	"\tamount INTEGER NOT NULL CHECK (amount > 0),\n"
	"\tcurrency TEXT NOT NULL CHECK (" CCY("currency") "),\n"
	"\tcharge_currency TEXT NOT NULL CHECK (" CCY("charge_currency") "),\n"
	"\tbase_currency TEXT CHECK (" CCY("base_currency") "),\n"
	"\tstate TEXT NOT NULL DEFAULT 'pinned' CHECK (state IN ('pinned', "
	"'paid', 'partially_refunded', 'refunded', 'cancelled')),\n"
	"\tcreated_at TEXT NOT NULL CHECK (" TIME("created_at") "),\n"
	"\tcontent_sha256 TEXT NOT NULL CHECK (" SHA256("content_sha256") ")\n"
	") STRICT;\n"
	"CREATE TRIGGER orders_immutable BEFORE UPDATE OF order_id, amount, "
	"currency, charge_currency, base_currency, created_at, content_sha256 "
	"ON orders\n"
	"BEGIN SELECT RAISE(ABORT, 'orders: only state may change'); END;\n"
	"CREATE TRIGGER orders_no_delete BEFORE DELETE ON orders\n"
	"BEGIN SELECT RAISE(ABORT, 'orders: rows cannot be deleted'); END;\n"
	"\n"
	"CREATE TABLE order_items (\n"
	"\torder_id TEXT NOT NULL REFERENCES orders (order_id),\n"
	"\tline INTEGER NOT NULL CHECK (line > 0),\n"
	"\tsku TEXT,\n"
	"\tqty INTEGER NOT NULL CHECK (qty > 0),\n"
	"\tamount INTEGER NOT NULL CHECK (amount >= 0),\n"
	"\tPRIMARY KEY (order_id, line)\n"
	") STRICT;\n"
	APPEND_ONLY("order_items")
	"\n"
	"CREATE TABLE order_rates (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\torder_id TEXT NOT NULL REFERENCES orders (order_id),\n"
	"\tkind TEXT NOT NULL CHECK (kind IN ('charge', 'base')),\n"
	"\tfrom_currency TEXT NOT NULL CHECK (" CCY("from_currency") "),\n"
	"\tto_currency TEXT NOT NULL CHECK (" CCY("to_currency") "),\n"
	"\tamount INTEGER NOT NULL CHECK (amount > 0),\n"
	"\tconverted INTEGER NOT NULL CHECK (converted >= 0),\n"
	"\tmethod TEXT NOT NULL CHECK (method IN ('identity', 'direct', "
	"'inverse', 'cross')),\n"
	"\tprovider TEXT,\n"
	"\tmul_rate_id INTEGER REFERENCES rates (id),\n"
	"\tdiv_rate_id INTEGER REFERENCES rates (id),\n"
	"\tmul_rate TEXT CHECK (" RATE("mul_rate") "),\n"
	"\tdiv_rate TEXT CHECK (" RATE("div_rate") "),\n"
	"\teffective_rate TEXT NOT NULL CHECK (" RATE("effective_rate") "),\n"
	"\trounding TEXT NOT NULL CHECK (rounding IN ('half-up', "
	"'half-even')),\n"
	"\trate_as_of TEXT CHECK (" DATE("rate_as_of") "),\n"
	"\tpinned_at TEXT NOT NULL CHECK (" TIME("pinned_at") "),\n"
	"\tCHECK ((method = 'identity') = (from_currency = to_currency)),\n"
	"\tCHECK ((mul_rate IS NOT NULL) = (method IN ('direct', 'cross'))),\n"
	"\tCHECK ((div_rate IS NOT NULL) = (method IN ('inverse', 'cross'))),\n"
	"\tCHECK ((mul_rate_id IS NULL) = (mul_rate IS NULL)),\n"
	"\tCHECK ((div_rate_id IS NULL) = (div_rate IS NULL)),\n"
	"\tCHECK (method = 'identity' OR (provider IS NOT NULL AND "
	"rate_as_of IS NOT NULL)),\n"
	"\tUNIQUE (order_id, kind),\n"
	"\tUNIQUE (order_id, from_currency, to_currency)\n"
	") STRICT;\n"
	APPEND_ONLY("order_rates")
	"\n"
	"CREATE TABLE payments (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\tgateway TEXT NOT NULL CHECK (gateway <> ''),\n"
	"\tgateway_txn_id TEXT NOT NULL CHECK (gateway_txn_id <> ''),\n"
	"\tkind TEXT NOT NULL CHECK (kind IN ('charge', 'refund')),\n"
	"\torder_id TEXT,\n"
	"\tamount INTEGER NOT NULL CHECK (amount >= 0),\n"
	"\tcurrency TEXT NOT NULL CHECK (" CCY("currency") "),\n"
	"\tstatus TEXT NOT NULL,\n"
	"\tparent_txn_id TEXT,\n"
	"\tevent_type TEXT,\n"
	"\tpayload_sha256 TEXT NOT NULL CHECK (" SHA256("payload_sha256") "),\n"
	"\treceived_at TEXT NOT NULL CHECK (" TIME("received_at") "),\n"
	"\tCHECK (kind = 'refund' OR parent_txn_id IS NULL),\n"
	"\tUNIQUE (gateway, gateway_txn_id)\n"
	") STRICT;\n"
	"CREATE INDEX payments_order ON payments (order_id);\n"
	"CREATE INDEX payments_parent ON payments (gateway, parent_txn_id);\n"
	APPEND_ONLY("payments")
	"\n"
	"CREATE TABLE refunds (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\trefund_id TEXT NOT NULL UNIQUE CHECK (refund_id <> ''),\n"
	"\torder_id TEXT NOT NULL REFERENCES orders (order_id),\n"
	"\trefund_amount INTEGER NOT NULL CHECK (refund_amount >= 0),\n"
	"\tcurrency TEXT NOT NULL CHECK (" CCY("currency") "),\n"
	"\tcharge_refund INTEGER NOT NULL CHECK (charge_refund >= 0),\n"
	"\tcharge_currency TEXT NOT NULL CHECK (" CCY("charge_currency") "),\n"
	"\tpinned_rate TEXT NOT NULL CHECK (" RATE("pinned_rate") "),\n"
	"\tlive_rate TEXT CHECK (" RATE("live_rate") "),\n"
	"\tcharge_refund_at_live INTEGER,\n"
	"\tfx_difference INTEGER,\n"
	"\trate_source TEXT NOT NULL CHECK (rate_source IN ('pinned', "
	"'fallback')),\n"
	"\trequest TEXT NOT NULL,\n"
	"\tcreated_at TEXT NOT NULL CHECK (" TIME("created_at") ")\n"
	") STRICT;\n"
	"CREATE INDEX refunds_order ON refunds (order_id, created_at);\n"
	APPEND_ONLY("refunds")
	"\n"
	"CREATE TABLE refund_lines (\n"
	"\trefund_id TEXT NOT NULL REFERENCES refunds (refund_id),\n"
	"\tline INTEGER NOT NULL CHECK (line > 0),\n"
	"\tqty INTEGER NOT NULL CHECK (qty > 0),\n"
	"\tcharge_amount INTEGER NOT NULL CHECK (charge_amount >= 0),\n"
	"\tPRIMARY KEY (refund_id, line)\n"
	") STRICT;\n"
	APPEND_ONLY("refund_lines")
	"\n"
	"CREATE TABLE images (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\tproduct_id TEXT NOT NULL CHECK (product_id <> ''),\n"
	"\turl TEXT NOT NULL UNIQUE CHECK (url <> ''),\n"
	"\tpath TEXT,\n"
	"\tetag TEXT,\n"
	"\tlast_modified TEXT,\n"
	"\tsha256 TEXT CHECK (" SHA256("sha256") "),\n"
	"\tbytes INTEGER CHECK (bytes >= 0),\n"
	"\tstatus TEXT NOT NULL DEFAULT 'pending' CHECK (status IN "
	"('pending', 'ok', 'failed')),\n"
	"\tattempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
	"\tlast_error TEXT,\n"
	"\tupdated_at TEXT NOT NULL CHECK (" TIME("updated_at") ")\n"
	") STRICT;\n"
	"CREATE INDEX images_product ON images (product_id);\n"
	"\n"
	"CREATE TABLE events (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\tat TEXT NOT NULL CHECK (" TIME("at") "),\n"
	"\ttool TEXT NOT NULL,\n"
	"\tkind TEXT NOT NULL CHECK (kind <> ''),\n"
	"\tsubject TEXT,\n"
	"\tdetail TEXT\n"
	") STRICT;\n"
	"CREATE INDEX events_at ON events (at);\n"
	"CREATE INDEX events_kind_at ON events (kind, at);\n"
	"\n"
	"PRAGMA application_id = " STR(DG_APPLICATION_ID) ";\n",

	/* 1 -> 2: the same tables and guarantees, with checks SQLite
	 * evaluates cheaply. order_items and refund_lines are unchanged.
	 * rates' checks are also dg_db_rate_doc_ok's and
	 * dg_db_rate_quote_ok's: change both. */
	"CREATE TABLE new_rates (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\tprovider TEXT NOT NULL CHECK (provider <> ''),\n"
	"\tbase TEXT NOT NULL CHECK (" CCY2("base") "),\n"
	"\tquote TEXT NOT NULL CHECK (" CCY2("quote") "),\n"
	"\trate TEXT NOT NULL CHECK (" RATE2("rate") "),\n"
	"\tas_of TEXT NOT NULL CHECK (" DATE2("as_of") "),\n"
	"\tfetched_at TEXT NOT NULL CHECK (" TIME2("fetched_at") "),\n"
	"\tsource TEXT,\n"
	"\tCHECK (base <> quote),\n"
	"\tUNIQUE (provider, base, quote, as_of)\n"
	") STRICT;\n"
	REBUILD("rates")
	"\n"
	"CREATE TABLE new_fetch_state (\n"
	"\turl TEXT PRIMARY KEY NOT NULL,\n"
	"\tetag TEXT,\n"
	"\tlast_modified TEXT,\n"
	"\tlast_status INTEGER,\n"
	"\tchecked_at TEXT NOT NULL CHECK (" TIME2("checked_at") "),\n"
	"\tchanged_at TEXT CHECK (" TIME2("changed_at") ")\n"
	") STRICT;\n"
	REBUILD("fetch_state")
	"\n"
	"CREATE TABLE new_orders (\n"
	"\torder_id TEXT PRIMARY KEY NOT NULL CHECK (order_id <> ''),\n"
	"\tamount INTEGER NOT NULL CHECK (amount > 0),\n"
	"\tcurrency TEXT NOT NULL CHECK (" CCY2("currency") "),\n"
	"\tcharge_currency TEXT NOT NULL CHECK (" CCY2("charge_currency") "),\n"
	"\tbase_currency TEXT CHECK (" CCY2("base_currency") "),\n"
	"\tstate TEXT NOT NULL DEFAULT 'pinned' CHECK (state = 'pinned' OR "
	"state = 'paid' OR state = 'partially_refunded' OR "
	"state = 'refunded' OR state = 'cancelled'),\n"
	"\tcreated_at TEXT NOT NULL CHECK (" TIME2("created_at") "),\n"
	"\tcontent_sha256 TEXT NOT NULL CHECK (" SHA256_2("content_sha256") ")\n"
	") STRICT;\n"
	REBUILD("orders")
	"CREATE TRIGGER orders_immutable BEFORE UPDATE OF order_id, amount, "
	"currency, charge_currency, base_currency, created_at, content_sha256 "
	"ON orders\n"
	"BEGIN SELECT RAISE(ABORT, 'orders: only state may change'); END;\n"
	"CREATE TRIGGER orders_no_delete BEFORE DELETE ON orders\n"
	"BEGIN SELECT RAISE(ABORT, 'orders: rows cannot be deleted'); END;\n"
	"\n"
	"CREATE TABLE new_order_rates (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\torder_id TEXT NOT NULL REFERENCES orders (order_id),\n"
	"\tkind TEXT NOT NULL CHECK (kind = 'charge' OR kind = 'base'),\n"
	"\tfrom_currency TEXT NOT NULL CHECK (" CCY2("from_currency") "),\n"
	"\tto_currency TEXT NOT NULL CHECK (" CCY2("to_currency") "),\n"
	"\tamount INTEGER NOT NULL CHECK (amount > 0),\n"
	"\tconverted INTEGER NOT NULL CHECK (converted >= 0),\n"
	"\tmethod TEXT NOT NULL CHECK (method = 'identity' OR "
	"method = 'direct' OR method = 'inverse' OR method = 'cross'),\n"
	"\tprovider TEXT,\n"
	"\tmul_rate_id INTEGER REFERENCES rates (id),\n"
	"\tdiv_rate_id INTEGER REFERENCES rates (id),\n"
	"\tmul_rate TEXT CHECK (" RATE2("mul_rate") "),\n"
	"\tdiv_rate TEXT CHECK (" RATE2("div_rate") "),\n"
	"\teffective_rate TEXT NOT NULL CHECK (" RATE2("effective_rate") "),\n"
	"\trounding TEXT NOT NULL CHECK (rounding = 'half-up' OR "
	"rounding = 'half-even'),\n"
	"\trate_as_of TEXT CHECK (" DATE2("rate_as_of") "),\n"
	"\tpinned_at TEXT NOT NULL CHECK (" TIME2("pinned_at") "),\n"
	"\tCHECK ((method = 'identity') = (from_currency = to_currency)),\n"
	"\tCHECK ((mul_rate IS NOT NULL) = "
	"(method = 'direct' OR method = 'cross')),\n"
	"\tCHECK ((div_rate IS NOT NULL) = "
	"(method = 'inverse' OR method = 'cross')),\n"
	"\tCHECK ((mul_rate_id IS NULL) = (mul_rate IS NULL)),\n"
	"\tCHECK ((div_rate_id IS NULL) = (div_rate IS NULL)),\n"
	"\tCHECK (method = 'identity' OR (provider IS NOT NULL AND "
	"rate_as_of IS NOT NULL)),\n"
	"\tUNIQUE (order_id, kind),\n"
	"\tUNIQUE (order_id, from_currency, to_currency)\n"
	") STRICT;\n"
	REBUILD("order_rates")
	APPEND_ONLY("order_rates")
	"\n"
	"CREATE TABLE new_payments (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\tgateway TEXT NOT NULL CHECK (gateway <> ''),\n"
	"\tgateway_txn_id TEXT NOT NULL CHECK (gateway_txn_id <> ''),\n"
	"\tkind TEXT NOT NULL CHECK (kind = 'charge' OR kind = 'refund'),\n"
	"\torder_id TEXT,\n"
	"\tamount INTEGER NOT NULL CHECK (amount >= 0),\n"
	"\tcurrency TEXT NOT NULL CHECK (" CCY2("currency") "),\n"
	"\tstatus TEXT NOT NULL,\n"
	"\tparent_txn_id TEXT,\n"
	"\tevent_type TEXT,\n"
	"\tpayload_sha256 TEXT NOT NULL CHECK (" SHA256_2("payload_sha256") "),\n"
	"\treceived_at TEXT NOT NULL CHECK (" TIME2("received_at") "),\n"
	"\tCHECK (kind = 'refund' OR parent_txn_id IS NULL),\n"
	"\tUNIQUE (gateway, gateway_txn_id)\n"
	") STRICT;\n"
	REBUILD("payments")
	"CREATE INDEX payments_order ON payments (order_id);\n"
	"CREATE INDEX payments_parent ON payments (gateway, parent_txn_id);\n"
	APPEND_ONLY("payments")
	"\n"
	"CREATE TABLE new_refunds (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\trefund_id TEXT NOT NULL UNIQUE CHECK (refund_id <> ''),\n"
	"\torder_id TEXT NOT NULL REFERENCES orders (order_id),\n"
	"\trefund_amount INTEGER NOT NULL CHECK (refund_amount >= 0),\n"
	"\tcurrency TEXT NOT NULL CHECK (" CCY2("currency") "),\n"
	"\tcharge_refund INTEGER NOT NULL CHECK (charge_refund >= 0),\n"
	"\tcharge_currency TEXT NOT NULL CHECK (" CCY2("charge_currency") "),\n"
	"\tpinned_rate TEXT NOT NULL CHECK (" RATE2("pinned_rate") "),\n"
	"\tlive_rate TEXT CHECK (" RATE2("live_rate") "),\n"
	"\tcharge_refund_at_live INTEGER,\n"
	"\tfx_difference INTEGER,\n"
	"\trate_source TEXT NOT NULL CHECK (rate_source = 'pinned' OR "
	"rate_source = 'fallback'),\n"
	"\trequest TEXT NOT NULL,\n"
	"\tcreated_at TEXT NOT NULL CHECK (" TIME2("created_at") ")\n"
	") STRICT;\n"
	REBUILD("refunds")
	"CREATE INDEX refunds_order ON refunds (order_id, created_at);\n"
	APPEND_ONLY("refunds")
	"\n"
	"CREATE TABLE new_images (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\tproduct_id TEXT NOT NULL CHECK (product_id <> ''),\n"
	"\turl TEXT NOT NULL UNIQUE CHECK (url <> ''),\n"
	"\tpath TEXT,\n"
	"\tetag TEXT,\n"
	"\tlast_modified TEXT,\n"
	"\tsha256 TEXT CHECK (" SHA256_2("sha256") "),\n"
	"\tbytes INTEGER CHECK (bytes >= 0),\n"
	"\tstatus TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' "
	"OR status = 'ok' OR status = 'failed'),\n"
	"\tattempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
	"\tlast_error TEXT,\n"
	"\tupdated_at TEXT NOT NULL CHECK (" TIME2("updated_at") ")\n"
	") STRICT;\n"
	REBUILD("images")
	"CREATE INDEX images_product ON images (product_id);\n"
	"\n"
	"CREATE TABLE new_events (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\tat TEXT NOT NULL CHECK (" TIME2("at") "),\n"
	"\ttool TEXT NOT NULL,\n"
	"\tkind TEXT NOT NULL CHECK (kind <> ''),\n"
	"\tsubject TEXT,\n"
	"\tdetail TEXT\n"
	") STRICT;\n"
	REBUILD("events")
	"CREATE INDEX events_at ON events (at);\n"
	"CREATE INDEX events_kind_at ON events (kind, at);\n",

	/* 2 -> 3: pay-ingest. payments rows stay as they are (never
	 * updated): a later status of a payment is a payment_status row.
	 * New columns need no CHECK, so ALTER TABLE adds them in place. */
	"ALTER TABLE payments ADD COLUMN refund_id TEXT;\n"
	"ALTER TABLE payments ADD COLUMN event_id TEXT;\n"
	"\n"
	"CREATE TABLE payment_status (\n"
	"\tid INTEGER PRIMARY KEY,\n"
	"\tpayment_id INTEGER NOT NULL REFERENCES payments (id),\n"
	"\tstatus TEXT NOT NULL CHECK (status = 'pending' OR "
	"status = 'completed' OR status = 'failed' OR status = 'reversed'),\n"
	"\tevent_type TEXT,\n"
	"\tevent_id TEXT,\n"
	"\tpayload_sha256 TEXT NOT NULL CHECK (" SHA256_2("payload_sha256") "),\n"
	"\treceived_at TEXT NOT NULL CHECK (" TIME2("received_at") "),\n"
	"\tUNIQUE (payment_id, status)\n"
	") STRICT;\n"
	APPEND_ONLY("payment_status")
	"\n"
	"CREATE TABLE paypal_certs (\n"
	"\turl TEXT PRIMARY KEY NOT NULL CHECK (url <> ''),\n"
	"\tpem TEXT NOT NULL CHECK (pem <> ''),\n"
	"\tsha256 TEXT NOT NULL CHECK (" SHA256_2("sha256") "),\n"
	"\tfetched_at TEXT NOT NULL CHECK (" TIME2("fetched_at") ")\n"
	") STRICT;\n",

	/* 3 -> 4: img-sync. synced_at is when the file last matched its url
	 * (a download in place, or a 304 or the same bytes); NULL until
	 * then, as in every row schema 3 stored. The partial index finds
	 * the rows --retry-failed and a plain re-sync retry first. */
	"ALTER TABLE images ADD COLUMN synced_at TEXT CHECK (" TIME2("synced_at") ");\n"
	"CREATE INDEX images_failed ON images (id) WHERE status = 'failed';\n",
};
/* clang-format on */

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == DG_SCHEMA_VERSION,
	       "one migration per schema version");

const char *dg_db_path(const char *opt)
{
	const char *env;

	if (opt)
		return opt;
	env = getenv("DAIGOU_DB");
	if (env && *env)
		return env;
	return "daigou.db";
}

/* DAIGOU_BUSY_TIMEOUT_MS overrides the default so that tests of lock
 * waits need not take ten seconds. Returns 0 or 64 (message printed). */
static int busy_timeout_ms(int *ms)
{
	const char *env = getenv("DAIGOU_BUSY_TIMEOUT_MS");
	char *end;
	long v;

	*ms = DEFAULT_BUSY_TIMEOUT_MS;
	if (!env)
		return 0;
	errno = 0;
	v = strtol(env, &end, 10);
	if (*env < '0' || *env > '9' || *end || errno ||
	    v > MAX_BUSY_TIMEOUT_MS) {
		dg_error("malformed DAIGOU_BUSY_TIMEOUT_MS %s: want "
			 "milliseconds from 0 to %d",
			 dg_quoted(env), MAX_BUSY_TIMEOUT_MS);
		return DG_EXIT_USAGE;
	}
	*ms = (int)v;
	return 0;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connection_timeout_ms(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int ms = DEFAULT_BUSY_TIMEOUT_MS;

	if (sqlite3_prepare_v2(db, "PRAGMA busy_timeout", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		ms = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ms;
}

static int copy_first_column(void *arg, int n, char **values, char **names)
{
	char *buf = arg;

	if (n > 0 && values[0])
		snprintf(buf, JOURNAL_MODE_SIZE, "%s", values[0]);
	return 0;
}

/*
 * sqlite3_exec, retried while the database is busy. The busy handler does
 * not cover every case (a lock upgrade that could deadlock, a journal
 * mode change, WAL recovery by another process return SQLITE_BUSY at
 * once), so keep trying, with short sleeps, until the busy timeout has
 * passed. first, when not NULL, receives the first column of the first
 * row (truncated to fit).
 */
static int exec_retry(sqlite3 *db, const char *sql,
		      char first[JOURNAL_MODE_SIZE])
{
	int64_t deadline = monotonic_ms() + connection_timeout_ms(db);
	int delay = 1, rc;

	for (;;) {
		rc = sqlite3_exec(db, sql, first ? copy_first_column : NULL,
				  first, NULL);
		if ((rc & 0xff) != SQLITE_BUSY || monotonic_ms() >= deadline)
			return rc;
		sqlite3_sleep(delay);
		if (delay < 64)
			delay *= 2;
	}
}

/*
 * A hint for a failed write: SQLite reports a write cut short by a file
 * size limit (ulimit -f; SIGXFSZ is ignored) as a full disk or an I/O
 * error, and errno is long gone by then. "" when there is none.
 */
static const char *write_hint(int rc)
{
	static char buf[96];
	struct rlimit rl;

	if ((rc & 0xff) != SQLITE_IOERR && (rc & 0xff) != SQLITE_FULL)
		return "";
	if (getrlimit(RLIMIT_FSIZE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return "";
	dg_xsnprintf(buf, sizeof(buf),
		     " (a file size limit of %llu bytes is set)",
		     (unsigned long long)rl.rlim_cur);
	return buf;
}

int dg_db_fail(sqlite3 *db, int rc, const char *what)
{
	const char *msg = sqlite3_errstr(rc);

	if (db && (sqlite3_extended_errcode(db) & 0xff) == (rc & 0xff))
		msg = sqlite3_errmsg(db);
	dg_error("%s: %s%s", what, msg, write_hint(rc));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return DG_EXIT_TEMPFAIL;
	default:
		return DG_EXIT_IOERR;
	}
}

/* dg_db_fail with "what 'file'" naming the connection's file. */
static int fail_on_file(sqlite3 *db, int rc, const char *what)
{
	const char *file = sqlite3_db_filename(db, "main");
	char *msg = sqlite3_mprintf("%s %s", what,
				    dg_quoted_path(file ? file : ""));
	int ret;

	ret = dg_db_fail(db, rc, msg ? msg : what);
	sqlite3_free(msg);
	return ret;
}

/* errno as the reason in a message, the usual ones in our own words. */
static const char *errno_reason(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "permission denied";
	case EROFS:
		return "read-only file system";
	case ENOENT:
		return "no such file";
	default:
		return strerror(err);
	}
}

/* The directory that holds path, "." when it names none. malloc'd. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return dg_xstrdup(".");
	while (slash > path && slash[-1] == '/')
		slash--;
	if (slash == path)
		return dg_xstrdup("/");
	return dg_xstrndup(path, (size_t)(slash - path));
}

/*
 * Whether the process may create files beside path. SQLite keeps a WAL
 * database's -wal and -shm files in its directory and needs to create
 * them even to read. 0, or the errno of the refusal.
 */
static int dir_refuses(const char *path)
{
	char *dir = dir_of(path);
	int err = access(dir, W_OK | X_OK) ? errno : 0;

	free(dir);
	return err;
}

/*
 * Before SQLite tries: the cases its "unable to open database file" would
 * not explain. A tool that only reads fails with 66 (its input is missing
 * or cannot be read), a tool that writes with 73 (it cannot create or
 * write its output); a path that is a directory is either. Returns 0 when
 * SQLite should go on, or the exit status (message printed).
 */
static int check_path(const char *path, bool ro)
{
	int fail = ro ? DG_EXIT_NOINPUT : DG_EXIT_CANTCREAT;
	struct stat sb;
	char *dir;
	int err;

	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			dg_error("cannot open database %s: is a directory",
				 dg_quoted_path(path));
			return fail;
		}
		if (access(path, ro ? R_OK : R_OK | W_OK) == 0)
			return 0;
		dg_error("cannot open database %s%s: %s", dg_quoted_path(path),
			 ro ? "" : " for writing", errno_reason(errno));
		return fail;
	}
	err = errno;
	if (err != ENOENT && err != ENOTDIR) {
		dg_error("cannot open database %s: %s", dg_quoted_path(path),
			 errno_reason(err));
		return fail;
	}
	dir = dir_of(path);
	err = stat(dir, &sb) ? errno : S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
	if (err == ENOENT || err == ENOTDIR)
		dg_error("cannot %s database %s: no such directory %s",
			 ro ? "open" : "create", dg_quoted_path(path),
			 dg_quoted_path(dir));
	else if (err)
		dg_error("cannot %s database %s: %s", ro ? "open" : "create",
			 dg_quoted_path(path), errno_reason(err));
	else if (ro)
		dg_error("cannot open database %s: no such file",
			 dg_quoted_path(path));
	else if ((err = dir_refuses(path)))
		dg_error("cannot create database %s: directory %s is not "
			 "writable (%s)",
			 dg_quoted_path(path), dg_quoted_path(dir),
			 errno_reason(err));
	else
		fail = 0;
	free(dir);
	return fail;
}

/* A failure while opening: names the path as the user gave it. */
static int open_fail(sqlite3 *db, int rc, const char *path, bool ro)
{
	const char *msg = sqlite3_errstr(rc);
	char *dir;
	int ret, err;

	if (db && (sqlite3_extended_errcode(db) & 0xff) == (rc & 0xff))
		msg = sqlite3_errmsg(db);
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
		ret = DG_EXIT_DATAERR;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		ret = DG_EXIT_TEMPFAIL;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
		ret = ro ? DG_EXIT_NOINPUT : DG_EXIT_CANTCREAT;
		if (!(err = dir_refuses(path)))
			break;
		dir = dir_of(path);
		dg_error("cannot open database %s%s: cannot create its -wal "
			 "and -shm files in %s: %s",
			 dg_quoted_path(path), ro ? "" : " for writing",
			 dg_quoted_path(dir), errno_reason(err));
		free(dir);
		return ret;
	default:
		ret = DG_EXIT_IOERR;
		break;
	}
	dg_error("cannot open database %s: %s%s", dg_quoted_path(path), msg,
		 write_hint(rc));
	return ret;
}

/*
 * Read the header fields that say whose file this is and which schema it
 * has. A file of another application, or from a newer daigou-tools, is
 * refused before anything writes to it. *version is the user_version.
 * Returns 0, 65 (message printed), or an open failure.
 */
static int inspect(sqlite3 *db, const char *path, bool ro, int *version)
{
	static const char sql[] =
		"SELECT (SELECT user_version FROM pragma_user_version), "
		"(SELECT application_id FROM pragma_application_id), "
		"(SELECT count(*) FROM sqlite_master)";
	sqlite3_stmt *st = NULL;
	int rc, ret = 0, app_id, objects;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ret = open_fail(db, rc, path, ro);
		goto out;
	}
	*version = sqlite3_column_int(st, 0);
	app_id = sqlite3_column_int(st, 1);
	objects = sqlite3_column_int(st, 2);
	if (app_id != DG_APPLICATION_ID &&
	    (app_id != 0 || *version != 0 || objects != 0)) {
		dg_error("cannot open database %s: not a daigou-tools "
			 "database",
			 dg_quoted_path(path));
		ret = DG_EXIT_DATAERR;
	} else if (*version > DG_SCHEMA_VERSION) {
		dg_error("database %s has schema version %d, newer than this "
			 "program's %d",
			 dg_quoted_path(path), *version, DG_SCHEMA_VERSION);
		ret = DG_EXIT_DATAERR;
	}
out:
	sqlite3_finalize(st);
	return ret;
}

/* Settings that belong to the connection, not the file. */
static int configure(sqlite3 *db, const char *path, int timeout, bool ro)
{
	/* A 64 MiB page cache (allocated as used) keeps a whole history
	 * load in memory until commit instead of spilling to the WAL. */
	static const char pragmas[] = "PRAGMA foreign_keys = ON;"
				      "PRAGMA recursive_triggers = ON;"
				      "PRAGMA cache_size = -65536;";
	int rc;

	sqlite3_busy_timeout(db, timeout);
	/* Double-quoted string literals are a bug, not a string. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	/* recursive_triggers: INSERT OR REPLACE deletes the row it replaces,
	 * and only with this on does that fire the append-only triggers. */
	rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return open_fail(db, rc, path, ro);
	return 0;
}

/* WAL and synchronous=FULL are properties of the file: writers only. */
static int configure_file(sqlite3 *db, const char *path)
{
	char mode[JOURNAL_MODE_SIZE] = "";
	int rc;

	/* On a new file two processes may race to convert it, and the loser
	 * gets SQLITE_BUSY without the busy handler being called. */
	rc = exec_retry(db, "PRAGMA journal_mode = WAL", mode);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL,
				  NULL);
	if (rc != SQLITE_OK)
		return open_fail(db, rc, path, false);
	if (strcmp(mode, "wal"))
		dg_warn("database %s is in journal mode %s, not 'wal': "
			"readers and writers will wait for each other",
			dg_quoted_path(path), dg_quoted(mode));
	return 0;
}

/*
 * After a migration rebuilt tables with foreign keys off: every reference
 * must still hold. A row that breaks one was stored past the checks (the
 * sqlite3 shell enforces no foreign keys unless told to), and the file
 * stays at its old version until someone repairs it. Returns 0, or 65 or
 * 74 (message printed).
 */
static int check_references(sqlite3 *db, const char *path, int to)
{
	sqlite3_stmt *st = NULL;
	int ret = 0, rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		dg_error("cannot migrate database %s to schema version %d: "
			 "row %lld of table %s refers to a missing row of "
			 "table %s",
			 dg_quoted_path(path), to,
			 (long long)sqlite3_column_int64(st, 1),
			 dg_quoted((const char *)sqlite3_column_text(st, 0)),
			 dg_quoted((const char *)sqlite3_column_text(st, 2)));
		ret = DG_EXIT_DATAERR;
	} else if (rc != SQLITE_DONE) {
		ret = fail_on_file(db, rc, "cannot check the references of");
	}
	sqlite3_finalize(st);
	return ret;
}

/*
 * Bring the file to DG_SCHEMA_VERSION in one transaction. user_version is
 * read again under the write lock: when several processes open an old or
 * new file at once, the first to get the lock migrates and the others find
 * the work done.
 */
static int migrate_locked(sqlite3 *db, const char *path)
{
	char sql[64], subject[16], detail[80];
	int ret, rc, from, v;

	if ((ret = dg_db_begin(db)))
		return ret;
	if ((ret = inspect(db, path, false, &from)))
		goto out;
	for (v = from; v < DG_SCHEMA_VERSION; v++) {
		rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL);
		if (rc == SQLITE_OK) {
			dg_xsnprintf(sql, sizeof(sql),
				     "PRAGMA user_version = %d", v + 1);
			rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		}
		if (rc != SQLITE_OK) {
			dg_error("cannot migrate database %s to schema "
				 "version %d: %s%s",
				 dg_quoted_path(path), v + 1,
				 sqlite3_errmsg(db), write_hint(rc));
			ret = (rc & 0xff) == SQLITE_BUSY ? DG_EXIT_TEMPFAIL
							 : DG_EXIT_IOERR;
			goto out;
		}
	}
	if (from < DG_SCHEMA_VERSION) {
		if ((ret = check_references(db, path, DG_SCHEMA_VERSION)))
			goto out;
		dg_xsnprintf(subject, sizeof(subject), "%d", DG_SCHEMA_VERSION);
		dg_xsnprintf(detail, sizeof(detail),
			     "migrated from schema version %d to %d", from,
			     DG_SCHEMA_VERSION);
		if ((ret = dg_db_event(db, "schema_migrated", subject, detail)))
			goto out;
	}
	ret = dg_db_commit(db);
out:
	if (ret)
		dg_db_rollback(db);
	return ret;
}

/* A table rebuild needs foreign keys off (dropping a parent table would
 * otherwise check, or with ON DELETE actions change, its children), and
 * the pragma does nothing inside a transaction: off around it. */
static int migrate(sqlite3 *db, const char *path)
{
	int ret, rc;

	rc = sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return open_fail(db, rc, path, false);
	ret = migrate_locked(db, path);
	rc = sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rc != SQLITE_OK && !ret)
		ret = open_fail(db, rc, path, false);
	return ret;
}

/*
 * Every tool is one thread: SQLite needs neither its mutexes nor its
 * count of the memory in use, which cost about a tenth of a batch pin's
 * CPU. Set once, before SQLite is initialised by the first open (later
 * calls are refused by SQLite and change nothing).
 */
static void sqlite_single_thread(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int dg_db_open(const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int rc, ret, timeout, version;

	*out = NULL;
	sqlite_single_thread();
	if (!*path) {
		dg_error("the database path is empty");
		return DG_EXIT_USAGE;
	}
	if ((ret = busy_timeout_ms(&timeout)) ||
	    (ret = check_path(path, false)))
		return ret;
	rc = sqlite3_open_v2(path, &db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		ret = open_fail(db, rc, path, false);
		goto out;
	}
	/* SQLite falls back to read-only on a file it may not write; say so
	 * now rather than at the first write. */
	if (sqlite3_db_readonly(db, "main") == 1) {
		dg_error("cannot open database %s for writing: permission "
			 "denied",
			 dg_quoted_path(path));
		ret = DG_EXIT_CANTCREAT;
		goto out;
	}
	if ((ret = configure(db, path, timeout, false)))
		goto out;
	/* Look before writing anything, even the journal mode. */
	if ((ret = inspect(db, path, false, &version)))
		goto out;
	if ((ret = configure_file(db, path)))
		goto out;
	if (version < DG_SCHEMA_VERSION && (ret = migrate(db, path)))
		goto out;
	*out = db;
	db = NULL;
out:
	sqlite3_close_v2(db);
	return ret;
}

int dg_db_open_ro(const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int rc, ret, timeout, version;

	*out = NULL;
	sqlite_single_thread();
	if (!*path) {
		dg_error("the database path is empty");
		return DG_EXIT_USAGE;
	}
	if ((ret = busy_timeout_ms(&timeout)))
		return ret;
	/* SQLITE_OPEN_READONLY never creates, but its message would not
	 * say that the file is simply not there. */
	if ((ret = check_path(path, true)))
		return ret;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		ret = open_fail(db, rc, path, true);
		goto out;
	}
	if ((ret = configure(db, path, timeout, true)))
		goto out;
	if ((ret = inspect(db, path, true, &version)))
		goto out;
	if (version == 0) {
		dg_error("cannot open database %s: it is empty, no tool has "
			 "written to it yet",
			 dg_quoted_path(path));
		ret = DG_EXIT_NOINPUT;
		goto out;
	}
	if (version < DG_SCHEMA_VERSION) {
		dg_error("database %s has schema version %d, older than this "
			 "program's %d: run a tool that writes to it first",
			 dg_quoted_path(path), version, DG_SCHEMA_VERSION);
		ret = DG_EXIT_DATAERR;
		goto out;
	}
	*out = db;
	db = NULL;
out:
	sqlite3_close_v2(db);
	return ret;
}

void dg_db_close(sqlite3 *db)
{
	sqlite3_close_v2(db);
}

int dg_db_begin(sqlite3 *db)
{
	int rc = exec_retry(db, "BEGIN IMMEDIATE", NULL);

	if (rc == SQLITE_OK)
		return 0;
	return fail_on_file(db, rc, "cannot start a transaction on");
}

int dg_db_synchronous(sqlite3 *db, bool full)
{
	int rc;

	if (!sqlite3_get_autocommit(db)) {
		dg_error("cannot change synchronous inside a transaction");
		return DG_EXIT_SOFTWARE;
	}
	rc = sqlite3_exec(db,
			  full ? "PRAGMA synchronous = FULL"
			       : "PRAGMA synchronous = NORMAL",
			  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	return fail_on_file(db, rc, "cannot set synchronous on");
}

int dg_db_checks(sqlite3 *db, bool on)
{
	/* A flag pragma expires every prepared statement of the
	 * connection: one compiled without the checks is compiled again,
	 * with them, before it next runs. */
	int rc = sqlite3_exec(db,
			      on ? "PRAGMA ignore_check_constraints = OFF"
				 : "PRAGMA ignore_check_constraints = ON",
			      NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	return fail_on_file(db, rc, "cannot set the checks on");
}

/* Exactly n bytes, all ASCII, the first a digit: the DATE2 and TIME2
 * guards (SQLite's length() counts characters, and an ASCII text has as
 * many as bytes). */
static bool ascii_digit_led(const char *s, size_t n)
{
	size_t i;

	if (!s || s[0] < '0' || s[0] > '9')
		return false;
	for (i = 0; i < n; i++)
		if (!s[i] || (unsigned char)s[i] >= 0x80)
			return false;
	return s[n] == '\0';
}

/* CCY2: three characters from 'AAA' to 'ZZZ'; three capitals here. */
static bool ccy2(const char *s)
{
	return s && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
	       s[2] >= 'A' && s[2] <= 'Z' && s[3] == '\0';
}

bool dg_db_rate_doc_ok(const char *provider, const char *fetched_at)
{
	return provider && *provider && ascii_digit_led(fetched_at, 20);
}

bool dg_db_rate_quote_ok(const char *base, const char *quote, const char *rate,
			 const char *as_of)
{
	return ccy2(base) && ccy2(quote) && strcmp(base, quote) && rate &&
	       rate[0] >= '0' && rate[0] <= '9' && ascii_digit_led(as_of, 10);
}

int dg_db_begin_read(sqlite3 *db)
{
	int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	return fail_on_file(db, rc, "cannot read");
}

int dg_db_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC)
		 : sqlite3_bind_null(st, i);
}

/* A failed COMMIT is rolled back here, so the caller's own rollback on
 * its error path finds nothing left to do. */
int dg_db_commit(sqlite3 *db)
{
	int rc = exec_retry(db, "COMMIT", NULL);
	int ret;

	if (rc == SQLITE_OK)
		return 0;
	ret = fail_on_file(db, rc, "cannot commit a transaction on");
	dg_db_rollback(db);
	return ret;
}

/* One savepoint inside the open transaction, for a part of a batch that
 * may fail on its own: taken, released, or rolled back to and left. */
int dg_db_savepoint(sqlite3 *db)
{
	int rc = sqlite3_exec(db, "SAVEPOINT dg_part", NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail_on_file(db, rc, "cannot save on");
}

int dg_db_release(sqlite3 *db)
{
	int rc = sqlite3_exec(db, "RELEASE dg_part", NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail_on_file(db, rc, "cannot save on");
}

int dg_db_rollback_part(sqlite3 *db)
{
	int rc = sqlite3_exec(db, "ROLLBACK TO dg_part; RELEASE dg_part", NULL,
			      NULL, NULL);

	if (rc == SQLITE_OK && !sqlite3_get_autocommit(db))
		return 0;
	return fail_on_file(db, rc == SQLITE_OK ? SQLITE_ABORT : rc,
			    "cannot roll back part of a transaction on");
}

void dg_db_rollback(sqlite3 *db)
{
	int rc;

	if (!db || sqlite3_get_autocommit(db))
		return;
	rc = sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fail_on_file(db, rc, "cannot roll back a transaction on");
}

int dg_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	if (rc == SQLITE_OK)
		return 0;
	*st = NULL;
	return dg_db_fail(db, rc, "cannot prepare a statement");
}

int dg_db_event(sqlite3 *db, const char *kind, const char *subject,
		const char *detail)
{
	static const char sql[] =
		"INSERT INTO events (at, tool, kind, subject, detail) "
		"VALUES (?1, ?2, ?3, ?4, ?5)";
	char at[DG_RFC3339_SIZE];
	sqlite3_stmt *st = NULL;
	dg_time now;
	int ret, rc;

	if ((ret = dg_now(&now)))
		return ret;
	dg_format_rfc3339(now, at);
	if ((ret = dg_db_prepare(db, sql, &st)))
		return ret;
	rc = sqlite3_bind_text(st, 1, at, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, dg_progname(), -1,
				       SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, kind, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 4, subject, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 5, detail, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		ret = dg_db_fail(db, rc, "cannot record an event");
	sqlite3_finalize(st);
	return ret;
}

int dg_db_user_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int ret, rc;

	if ((ret = dg_db_prepare(db, "PRAGMA user_version", &st)))
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	else
		ret = dg_db_fail(db, rc, "cannot read the schema version");
	sqlite3_finalize(st);
	return ret;
}
