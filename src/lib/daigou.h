/*
 * daigou.h - the internal library shared by every daigou-tools binary.
 *
 * One header, one prefix (dg_), one section per source file in src/lib/.
 * Conventions:
 *   - Functions that can fail for a reason the user must see print the
 *     message themselves (through dg_error) and return a dg_exit code;
 *     0 means success.
 *   - Pure functions (money, currency) print nothing and return an
 *     enum dg_merr; the caller words the message with the file and line.
 *   - Money is int64_t minor units; rates are struct dg_rate (exact
 *     decimal, the published text kept). No binary floating point.
 */
#ifndef DAIGOU_H
#define DAIGOU_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#define DG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define DG_NORETURN __attribute__((noreturn))

/* ------------------------------------------------------------------ */
/* cli.c: messages, exit codes, common options, the clock              */

/* Exit statuses (design section 5), the same in every tool. */
enum dg_exit {
	DG_EXIT_OK = 0,
	DG_EXIT_FINDING = 1,      /* a finding the caller must act on */
	DG_EXIT_USAGE = 64,       /* EX_USAGE */
	DG_EXIT_DATAERR = 65,     /* EX_DATAERR: bad input data, conflict */
	DG_EXIT_NOINPUT = 66,     /* EX_NOINPUT: input file missing */
	DG_EXIT_UNAVAILABLE = 69, /* EX_UNAVAILABLE: rate or record missing */
	DG_EXIT_SOFTWARE = 70,    /* EX_SOFTWARE: internal error */
	DG_EXIT_CANTCREAT = 73,   /* EX_CANTCREAT: cannot create output */
	DG_EXIT_IOERR = 74,       /* EX_IOERR: I/O or database error */
	DG_EXIT_TEMPFAIL = 75,    /* EX_TEMPFAIL: retry later */
};

/* The most severe of two exit statuses (for batches). */
int dg_exit_worst(int a, int b);

/* Call first in main: the name in messages, and what every tool sets
 * up at the start: SIGXFSZ ignored, so that a write past a file-size
 * limit fails (EFBIG) and is reported rather than killing the process. */
void dg_set_progname(const char *argv0);
const char *dg_progname(void);
/* -1 quiet (-q), 0 normal, 1.. verbose (-v, -vv). */
void dg_set_verbosity(int level);
int dg_verbosity(void);

/* "tool: message\n" on stderr. dg_die exits with status. */
void dg_die(int status, const char *fmt, ...) DG_PRINTF(2, 3) DG_NORETURN;
void dg_error(const char *fmt, ...) DG_PRINTF(1, 2);
void dg_warn(const char *fmt, ...) DG_PRINTF(1, 2);
/* Informational: silenced by -q. */
void dg_info(const char *fmt, ...) DG_PRINTF(1, 2);
/* Debug: shown only with -v. */
void dg_debug(const char *fmt, ...) DG_PRINTF(1, 2);
/* A thread that works beside the main one holds its messages (all but
 * dg_die's) until dg_messages_release, which returns them as the text
 * they would have printed (malloc'd, "" when none) and prints again;
 * dg_messages_print puts such a text on stderr, at the point where the
 * work would have printed it in a one-thread run. */
void dg_messages_hold(void);
char *dg_messages_release(void);
void dg_messages_print(const char *text);

/* Allocation that never returns NULL (dies with 70 on exhaustion). */
void *dg_xmalloc(size_t n);
void *dg_xcalloc(size_t n, size_t size);
void *dg_xrealloc(void *p, size_t n);
char *dg_xstrdup(const char *s);
char *dg_xstrndup(const char *s, size_t n);
/* Append t to the string *s of *len bytes in a buffer of *cap (grown,
 * NUL-terminated; *s NULL and both 0 to start). */
void dg_xappend(char **s, size_t *len, size_t *cap, const char *t);
/* Untrusted text (an id, a field, a path) for a message: in single
 * quotes, with backslash, quote, control characters and bytes outside
 * printable ASCII escaped (\n, \t, \r, \xHH), and cut after DG_QUOTE_MAX
 * bytes with its length shown: 'abc'... (10000 bytes). The result lives
 * in one of eight rotating slots: use it in one message, at most eight
 * to a message. NULL gives "(none)". dg_quoted_path is the same for a
 * file path, cut only past DG_QUOTE_PATH_MAX bytes, so that a long cron
 * path is still shown whole. */
#define DG_QUOTE_MAX 64
#define DG_QUOTE_PATH_MAX 4096
const char *dg_quoted(const char *s);
const char *dg_quotedn(const char *s, size_t len);
const char *dg_quoted_path(const char *path);
/* The same escaping without the quotes (a quote is left as it is), cut
 * after max bytes with the length shown: for untrusted text shown bare,
 * such as the file name of a "FILE:LINE: " prefix (DG_QUOTE_PATH_MAX)
 * or a provider's own error message. */
const char *dg_escaped(const char *s, size_t max);
/* Frees the calling thread's quoting slots: a thread that quoted calls
 * it before it ends. */
void dg_quote_release(void);
/* snprintf that dies (70) on truncation. */
void dg_xsnprintf(char *buf, size_t len, const char *fmt, ...) DG_PRINTF(3, 4);

/* Common options shared by every tool. Put DG_COMMON_LONGOPTS in the
 * tool's struct option array and "hqv" in its short option string, and
 * hand every option to dg_common_option() first. */
enum {
	DG_OPT_DB = 0x1000,
	DG_OPT_JSON,
	DG_OPT_VERSION,
	DG_OPT_TOOL_BASE = 0x1100 /* tool-specific long options start here */
};
#define DG_COMMON_LONGOPTS                                                   \
	{"db", 1, NULL, DG_OPT_DB}, {"json", 0, NULL, DG_OPT_JSON},          \
	    {"quiet", 0, NULL, 'q'}, {"verbose", 0, NULL, 'v'},              \
	    {"help", 0, NULL, 'h'}, {"version", 0, NULL, DG_OPT_VERSION}

struct dg_common {
	const char *db_path; /* --db, NULL when not given */
	bool json;           /* --json */
};
/* Returns true when opt was a common option (and handled it). -h prints
 * usage to stdout and exits 0; --version prints the version and exits 0. */
bool dg_common_option(struct dg_common *c, int opt, const char *arg,
		      const char *usage);
/* Print "usage" to stderr after a message and exit 64. */
void dg_usage_error(const char *usage, const char *fmt, ...) DG_PRINTF(2, 3)
    DG_NORETURN;
/* getopt_long for a tool's option loop: the next option, or -1. A
 * missing argument, an unknown, ambiguous or misused option is a usage
 * error in one message ("option '--db' needs an argument", "unknown
 * option '--frob'") followed by usage, exit 64; getopt's own messages
 * are silenced. */
struct option;
int dg_getopt(int argc, char *const *argv, const char *shortopts,
	      const struct option *longopts, const char *usage);
/* An option's whole number from min to max (decimal digits only), or a
 * usage error naming the option. */
long dg_number_arg(const char *usage, const char *opt, const char *s,
		   long min, long max);
/* A size of more than 0 bytes (dg_size_parse: 50M, 512k, 20000), else a
 * usage error. */
int64_t dg_size_arg(const char *usage, const char *opt, const char *s);
/* An option's ISO 4217 code, or a usage error naming the option. */
void dg_currency_arg(const char *usage, const char *opt, const char *code);

/* Time: seconds since the Unix epoch, UTC. */
typedef int64_t dg_time;
/* The current time, or DAIGOU_NOW when set. A malformed DAIGOU_NOW is a
 * usage error: prints a message and returns DG_EXIT_USAGE. */
int dg_now(dg_time *out);
/* Strict RFC 3339 in UTC: "YYYY-MM-DDTHH:MM:SSZ" (also accepts a "+00:00"
 * offset, any other offset is converted). Returns 0, -1 when malformed,
 * or -2 when the offset carries the time out of 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59Z, the range of the text form. */
int dg_parse_rfc3339(const char *s, dg_time *out);
/* "HH:MM:SS" at s (not necessarily ending there), 00:00:00 to 23:59:59:
 * the seconds since midnight, or -1. */
int dg_parse_hms(const char *s);
#define DG_RFC3339_SIZE 21
/* The formatters never write a wrong text: a time or day outside the
 * years 0 to 9999 gives "" (no text fits: 0000-00-00 would be a wrong
 * time that sorts as a right one). */
void dg_format_rfc3339(dg_time t, char buf[DG_RFC3339_SIZE]);
/* Calendar dates as days since 1970-01-01. "YYYY-MM-DD", validated. */
int dg_parse_date(const char *s, int32_t *days);
#define DG_DATE_SIZE 11
void dg_format_date(int32_t days, char buf[DG_DATE_SIZE]);
/* 0 = Monday .. 6 = Sunday */
int dg_weekday(int32_t days);
/* Durations like "90", "90s", "15m", "2h", "5d" into seconds. 0 or -1. */
int dg_parse_duration(const char *s, int64_t *seconds);
/* --from and --to, each a valid date or NULL: a usage error when from
 * is after to, the same message in every tool. */
void dg_date_range_arg(const char *usage, const char *from, const char *to);

/* ------------------------------------------------------------------ */
/* currency.c: the ISO 4217 table                                      */

struct dg_currency {
	char code[4];     /* "EUR" */
	int exponent;     /* minor-unit digits: 0, 2, 3 or 4 */
	bool historic;    /* withdrawn, kept because old feeds carry it */
	const char *name; /* "Euro" */
};
/* NULL when the code is unknown (also for malformed codes). */
const struct dg_currency *dg_currency_lookup(const char *code);
/* Exponent, or -1 for an unknown code. */
int dg_currency_exponent(const char *code);
size_t dg_currency_count(void);
const struct dg_currency *dg_currency_at(size_t i);

/* ------------------------------------------------------------------ */
/* money.c: amounts, rates, conversion, rounding, allocation           */

enum dg_merr {
	DG_M_OK = 0,
	DG_M_SYNTAX,    /* not a plain decimal */
	DG_M_PRECISION, /* more fraction digits than allowed */
	DG_M_OVERFLOW,  /* does not fit, or an intermediate overflowed */
	DG_M_RANGE,     /* zero or negative where a positive is needed */
	DG_M_DIGITS,    /* too many significant digits for a rate */
	DG_M_INVALID,   /* bad argument (e.g. all weights zero) */
};
const char *dg_merr_str(enum dg_merr e);

enum dg_rounding { DG_ROUND_HALF_UP = 0, DG_ROUND_HALF_EVEN = 1 };
/* "half-up" | "half-even"; 0 or -1 */
int dg_rounding_parse(const char *s, enum dg_rounding *out);
const char *dg_rounding_name(enum dg_rounding r);

/* Amounts: "-12.30" with at most `exponent` fraction digits. Accepts an
 * optional leading '-', digits, and a '.' followed by 1..exponent digits.
 * Refuses "", "+1", "1.", ".5", "1e5", spaces, more digits than the
 * exponent allows (DG_M_PRECISION), and int64 overflow. */
enum dg_merr dg_amount_parse(const char *s, int exponent, int64_t *minor);
/* Exactly `exponent` fraction digits: 102.30, 16500, 1.250, -0.05. */
#define DG_AMOUNT_SIZE 32
void dg_amount_format(int64_t minor, int exponent, char buf[DG_AMOUNT_SIZE]);
/* A total of many amounts, which int64 may not hold (128 bits hold the
 * sum of 2^64 of them), written as dg_amount_format writes an amount. */
#define DG_TOTAL_SIZE 48
void dg_total_format(__int128 minor, int exponent, char buf[DG_TOTAL_SIZE]);

/* Rates: value = coef / 10^scale, > 0, at most DG_RATE_MAX_DIGITS
 * significant digits, the published text kept verbatim. */
#define DG_RATE_MAX_DIGITS 18
#define DG_RATE_TEXT_SIZE 48
struct dg_rate {
	uint64_t coef;
	int scale;
	char text[DG_RATE_TEXT_SIZE];
};
/* Plain positive decimal: "186.75", "0.87058", "4.7630", "1". Refuses
 * zero, a sign, an exponent, "1.", ".5", spaces, too many digits. */
enum dg_merr dg_rate_parse(const char *s, struct dg_rate *r);
/* Compare two rates by value: <0, 0, >0. */
int dg_rate_cmp(const struct dg_rate *a, const struct dg_rate *b);

/* Convert `amount` (minor units, from_exp digits) into to_exp digits:
 *     out = amount * mul / div     (mul and div may be NULL, meaning 1)
 * direct quote: mul = rate; inverse: div = rate; cross through the
 * provider's base: mul = rate(to), div = rate(from). Exact rational
 * arithmetic in 128-bit integers, one rounding at the end. Any
 * overflow (intermediate or final) returns DG_M_OVERFLOW. */
enum dg_merr dg_convert(int64_t amount, int from_exp, int to_exp,
			const struct dg_rate *mul, const struct dg_rate *div,
			enum dg_rounding mode, int64_t *out);

/* The effective rate mul/div as decimal text: exact when it terminates
 * within 18 significant digits, otherwise rounded half-up to
 * DG_EFFECTIVE_DIGITS significant digits. Never fewer than 12 significant
 * digits of precision are lost. */
#define DG_EFFECTIVE_DIGITS 15
/* Holds the text for any two rates from dg_rate_parse (a smaller buffer
 * may give DG_M_OVERFLOW for extreme rates). */
#define DG_EFFECTIVE_SIZE 80
enum dg_merr dg_rate_effective(const struct dg_rate *mul,
			       const struct dg_rate *div, char *buf,
			       size_t len);

/* Relative difference |a - b| / b compared with pct (a decimal percent
 * text such as "2" or "0.5"): returns 1 when it exceeds pct, 0 when it
 * does not, or -1 when pct is malformed. a, b > 0. */
int dg_rate_moved_more_than(const struct dg_rate *a, const struct dg_rate *b,
			    const char *pct);

/* Largest-remainder allocation of `total` over n non-negative integer
 * weights (sum > 0): shares add up to total exactly, each is within one
 * minor unit of its exact share, remainders go to the largest fractional
 * parts with ties broken by position (lowest index first). A negative
 * total is allocated as its magnitude and negated. */
enum dg_merr dg_allocate(int64_t total, const int64_t *weights, size_t n,
			 int64_t *shares);

/* Checked int64 arithmetic: DG_M_OVERFLOW instead of wrapping. */
enum dg_merr dg_add(int64_t a, int64_t b, int64_t *out);
enum dg_merr dg_sub(int64_t a, int64_t b, int64_t *out);

/* ------------------------------------------------------------------ */
/* db.c: the SQLite file                                               */

#define DG_SCHEMA_VERSION 4
/* --db value, else $DAIGOU_DB, else "daigou.db". */
const char *dg_db_path(const char *opt);
/* Open for writing: creates the file when missing, WAL, foreign keys,
 * busy timeout, synchronous=FULL, migrates forward. On failure prints a
 * message naming the path and returns an exit code: 73 when the file
 * cannot be created or written (a missing or unwritable directory, a
 * path that is a directory, a file without write permission), 65 for a
 * file from a newer version or not a database, 75 busy, else 74.
 * The first open (of either kind) puts SQLite in single-thread mode:
 * no tool shares a connection, or SQLite, between threads. */
int dg_db_open(const char *path, sqlite3 **out);
/* Open read-only: never creates; a file that is missing or cannot be
 * read (a missing directory, a directory, no permission, no -shm file
 * can be created beside it) returns 66 with a message naming the path
 * tried. Refuses a newer or unmigrated schema. */
int dg_db_open_ro(const char *path, sqlite3 **out);
void dg_db_close(sqlite3 *db);
/* BEGIN IMMEDIATE, retried while busy up to the busy timeout. Returns 0,
 * 75 (busy), or 74. */
int dg_db_begin(sqlite3 *db);
/* BEGIN (deferred): one read transaction for many statements, so that
 * they see one state of the file. 0 or 74/75 (message printed). */
int dg_db_begin_read(sqlite3 *db);
/* synchronous=FULL (the default of dg_db_open) or NORMAL for the
 * transactions that follow, until changed again; outside a transaction
 * only (70 inside one). NORMAL in WAL mode keeps the file consistent but
 * may lose the last commits to a power cut: only for data that can be
 * fetched again, never money or a pin (daigou.db(5)). 0, 70 or 74. */
int dg_db_synchronous(sqlite3 *db, bool full);
/* The CHECK constraints of the connection's statements: off
 * (ignore_check_constraints) for a bulk insert of rows the library has
 * checked itself, on again at once; statements prepared while off are
 * prepared again when they next run. 0 or 74. */
int dg_db_checks(sqlite3 *db, bool on);
/* The CHECK constraints of schema 2's rates table, in C, as strict or
 * stricter: a row both accept, SQL accepts (any NULL refused). The
 * columns a document's rows share, then those of each quote. */
bool dg_db_rate_doc_ok(const char *provider, const char *fetched_at);
bool dg_db_rate_quote_ok(const char *base, const char *quote,
			 const char *rate, const char *as_of);
int dg_db_commit(sqlite3 *db);
void dg_db_rollback(sqlite3 *db);
/* A savepoint in the open transaction (BEGIN IMMEDIATE): taken, released,
 * or rolled back to and released, so that one part of a batch fails
 * alone. 0 or 74/75 (message printed); dg_db_rollback_part is also 74
 * when the whole transaction is gone (SQLite rolled it back on an I/O
 * or memory error): every part of it is lost. */
int dg_db_savepoint(sqlite3 *db);
int dg_db_release(sqlite3 *db);
int dg_db_rollback_part(sqlite3 *db);
/* Prepare or die-with-message helpers: return 0 or 74 (message printed). */
int dg_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
/* Bind text, or NULL when v is NULL; v must outlive the statement's next
 * step and reset (SQLITE_STATIC). Returns the sqlite3 result code. */
int dg_db_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Map a failed sqlite3 result code to an exit status, printing
 * "what: sqlite message". BUSY/LOCKED -> 75, others -> 74. */
int dg_db_fail(sqlite3 *db, int rc, const char *what);
/* Append an audit event: kind ("rate_jump", "pin_refused", ...),
 * subject (an order id, a pair, a URL) and free text detail. Runs in the
 * caller's transaction if any. Returns 0 or an exit code. */
int dg_db_event(sqlite3 *db, const char *kind, const char *subject,
		const char *detail);
/* PRAGMA user_version */
int dg_db_user_version(sqlite3 *db, int *version);

/* ------------------------------------------------------------------ */
/* csvio.c: CSV in (libcsv) and tabular output (CSV or JSON Lines)     */

#define DG_CSV_MAX_FIELD (64 * 1024)
#define DG_CSV_MAX_FIELDS 1024

struct dg_csv_reader;
struct dg_csv_row {
	size_t n;            /* number of fields */
	char **fields;       /* NUL-terminated */
	size_t *lens;        /* byte lengths */
	unsigned long line;  /* line where the row starts (1-based) */
};
/* name is used in messages ("orders.csv", "-" shows as "<stdin>"). */
struct dg_csv_reader *dg_csv_open(FILE *fp, const char *name);
/* A source of bytes as read(2) is: up to n into buf, and no more than
 * one wait for them. > 0, 0 at the end, -1 on an error (errno set). */
typedef ssize_t dg_read_fn(void *ctx, char *buf, size_t n);
/* The reader on such a source: a chunk read at a time. */
struct dg_csv_reader *dg_csv_open_read(dg_read_fn *read, void *ctx,
				       const char *name);
/* Whether reading the input failed (as ferror on a stream). */
bool dg_csv_read_failed(const struct dg_csv_reader *r);
void dg_csv_close(struct dg_csv_reader *r);
/* 1 row read, 0 end of input, -1 error (message with file:line through
 * dg_report). After -1 the next call goes on with the next row when the
 * error was confined to one row, or returns 0 when the input cannot be
 * read on. A malformed row (a stray quote, a quote never closed, a field
 * or line over its cap) is confined to itself: reading goes on with the
 * line after the one where it was found bad. */
int dg_csv_next(struct dg_csv_reader *r, const struct dg_csv_row **row);
/* Read the first row as the header (a UTF-8 BOM is stripped). 0 or 65. */
int dg_csv_read_header(struct dg_csv_reader *r);
/* Column index by header name, -1 when absent. */
int dg_csv_column(const struct dg_csv_reader *r, const char *name);
size_t dg_csv_ncolumns(const struct dg_csv_reader *r);
const char *dg_csv_column_name(const struct dg_csv_reader *r, size_t i);
const char *dg_csv_name(const struct dg_csv_reader *r);

/* Tabular output: CSV with a header row, or JSON Lines. Values are text;
 * NULL is an empty CSV field / JSON null. Every value is a JSON string
 * (money and rates are never JSON numbers). The CSV header is written
 * with the first row, or at the end when there was none. */
struct dg_out;
struct dg_out *dg_out_new(FILE *fp, bool json, const char *const *columns,
			  size_t ncolumns);
/* values has ncolumns entries. Returns 0, 74 (write error), or 65 when
 * a JSON value is not valid UTF-8 (message printed). */
int dg_out_row(struct dg_out *o, const char *const *values);
/* Flushes; returns 0 or 74. Frees o. */
int dg_out_close(struct dg_out *o);
/* dg_out_close for a run that ends with status: an output without a row
 * gets its CSV header only when status is 0, so that a failed run never
 * leaves what looks like an empty result. */
int dg_out_finish(struct dg_out *o, int status);
/* RFC 4180 field writer: quoted only when needed. 0, or -1 on a write
 * error (no message). */
int dg_csv_write_field(FILE *fp, const char *s, size_t len);
/* Read one line, '\n' included, into *buf (grown as needed, NUL-terminated).
 * Returns its length, 0 at end of input, -1 on a read error (errno set), or
 * -2 when it is longer than max bytes (the rest of the line is skipped). */
ssize_t dg_read_line(FILE *fp, char **buf, size_t *size, size_t max);

/* ------------------------------------------------------------------ */
/* jsonio.c: JSON Lines in, typed field access                         */

struct dg_jsonl_reader;
struct dg_jsonl_reader *dg_jsonl_open(FILE *fp, const char *name);
void dg_jsonl_close(struct dg_jsonl_reader *r);
/* Next object (blank lines skipped). 1, 0 at end, -1 error (message;
 * the next call goes on with the next line unless the input cannot be
 * read on). The object is owned by the reader until the next call. */
int dg_jsonl_next(struct dg_jsonl_reader *r, json_t **obj,
		  unsigned long *line);
/* Parse one JSON document with JSON_REJECT_DUPLICATES. NULL + message. */
json_t *dg_json_parse(const char *buf, size_t len, const char *name);
/* A bump allocator for documents read and thrown away one at a time
 * (replays): dg_json_arena_loadb is json_loadb with every value of the
 * document, and any other jansson value this thread makes before the
 * reset, in the arena. dg_json_arena_reset drops them all at once: no
 * such value may be used after it (json_decref before it is harmless).
 * Other threads, and this one outside that span, allocate as before. */
struct dg_json_arena;
struct dg_json_arena *dg_json_arena_new(void);
json_t *dg_json_arena_loadb(struct dg_json_arena *a, const char *buf,
			    size_t len, size_t flags, json_error_t *err);
void dg_json_arena_reset(struct dg_json_arena *a);
void dg_json_arena_free(struct dg_json_arena *a);

/* A money field in JSON: a string parsed with dg_amount_parse, or, when
 * int_minor is true, a JSON integer counting minor units. A number with
 * a fraction is always refused. Returns DG_M_OK, or an error with *why
 * set to a short reason; DG_M_INVALID with why "missing" when absent. */
enum dg_merr dg_json_amount(json_t *obj, const char *key, int exponent,
			    bool int_minor, int64_t *minor, const char **why);

/* ------------------------------------------------------------------ */
/* input.c: records from CSV or JSON Lines, told apart by first byte   */

enum dg_input_format { DG_IN_AUTO = 0, DG_IN_CSV, DG_IN_JSON };
/* "csv" | "json"; 0 or -1 */
int dg_input_format_parse(const char *s, enum dg_input_format *out);

struct dg_input;
/* path "-" or NULL is stdin. Missing file: message, *status = 66. */
struct dg_input *dg_input_open(const char *path, enum dg_input_format fmt,
			       int *status);
void dg_input_close(struct dg_input *in);
/* Check that every named column exists (CSV: in the header; JSON: not
 * checked until a record lacks it). 0 or 65 with "missing required
 * column 'x'". */
int dg_input_require(struct dg_input *in, const char *const *names, size_t n);
/* 1 record, 0 end, -1 error (message through dg_report, so that a batch
 * can print it in the record's turn; dg_input_status gives the code).
 * After -1 the next call goes on with the next record when the error was
 * confined to one record, or returns 0. */
int dg_input_next(struct dg_input *in);
int dg_input_status(const struct dg_input *in);
/* Field as text: CSV field, or JSON string / integer / true / false as
 * text. NULL when absent (an empty CSV field, or JSON null). A JSON number
 * with a fraction, an array or an object gives NULL and sets *bad (when
 * bad != NULL). Valid until the next dg_input_next. */
const char *dg_input_get(struct dg_input *in, const char *name, bool *bad);
/* The current record as JSON (JSON input only; NULL for CSV). */
json_t *dg_input_json(struct dg_input *in);
/* The CSV reader, for its header (dg_csv_ncolumns ...); NULL for JSON. */
const struct dg_csv_reader *dg_input_csv(const struct dg_input *in);
/* For messages: "orders.csv:12" style location of the current record. */
const char *dg_input_name(const struct dg_input *in);
unsigned long dg_input_line(const struct dg_input *in);
bool dg_input_is_json(const struct dg_input *in);

/* ------------------------------------------------------------------ */
/* batch.c: the loop over input records shared by the batch tools      */

/* Ids of orders, refunds and the like: 1 to DG_ID_MAX printable ASCII
 * characters, no spaces, commas or quotes. */
#define DG_ID_MAX 64
bool dg_valid_id(const char *s);

/* Messages while a batch is read: between dg_defer_begin() and
 * dg_defer_end(), dg_report keeps its first message instead of printing
 * it, and dg_defer_end hands it over (malloc'd, NULL when none) for the
 * tool to print when it processes that record, so that messages come out
 * in input order. Otherwise dg_report is dg_error. Messages are never
 * cut: no fixed buffer holds them. */
void dg_defer_begin(void);
char *dg_defer_end(void);
void dg_report(const char *fmt, ...) DG_PRINTF(1, 2);
/* A formatted string of any length, malloc'd (dies with 70 only when
 * memory runs out). */
char *dg_xasprintf(const char *fmt, ...) DG_PRINTF(1, 2);
char *dg_xvasprintf(const char *fmt, va_list ap) DG_PRINTF(1, 0);

struct dg_batch_ops {
	void *ctx;
	enum dg_input_format format;
	const char *const *required; /* columns every file must have */
	size_t nrequired;
	bool strict; /* stop at the first failed record or file */
	/* Take the current record into the batch (a bad one too, with its
	 * status and message kept for run); true when the batch is full. */
	bool (*read)(void *ctx, struct dg_input *in);
	/* A record the input could not read: its status and its message
	 * (malloc'd, now the tool's; NULL when none), to keep in the batch
	 * as a failed record whose message run prints in its turn; true when
	 * the batch is full. */
	bool (*unreadable)(void *ctx, int status, char *msg);
	/* Process and empty the batch (nothing when it is empty); the worst
	 * status; sets *stop to end the run (--strict, a database error).
	 * Also called before each file is opened, so that a message about
	 * the file comes after those of the records before it. */
	int (*run)(void *ctx, bool *stop);
	/* Before each file's records and after each batch (NULL: none):
	 * for example, read the clock. 0, or a status that ends the run. */
	int (*tick)(void *ctx);
	/* A file refused as a whole, its message printed: it cannot be
	 * opened or read, or lacks a required column (NULL: not counted). */
	void (*file_failed)(void *ctx, int status);
};
/* Every file in turn ("-" or none: stdin), records into batches, the
 * last batch run at the end. Returns the worst status; *stopped (when
 * not NULL) tells whether the run ended early. */
int dg_batch_files(const struct dg_batch_ops *ops, int nfiles,
		   char *const *files, bool *stopped);

/* ------------------------------------------------------------------ */
/* http.c: libcurl with the house policy                               */

struct dg_http_opts {
	long connect_timeout_s; /* CURLOPT_CONNECTTIMEOUT */
	long timeout_s;         /* whole transfer; 0 = none */
	long low_speed_bytes;   /* abort when slower than this ... */
	long low_speed_time_s;  /* ... for this long */
	size_t max_size;        /* body cap, enforced in the write callback */
	long max_redirs;        /* CURLOPT_MAXREDIRS */
	int retries;            /* extra attempts after the first */
	long retry_base_ms;     /* first backoff; doubles, with jitter */
	long retry_max_ms;      /* cap on one wait, Retry-After included */
};
/* Defaults: 10 s connect, 60 s total, 1000 B/s over 30 s, 16 MiB, 5
 * redirects, 3 retries, 1000 ms base, 60000 ms cap. DAIGOU_RETRY_BASE_MS
 * and DAIGOU_RETRY_MAX_MS override the waits (tests keep them short). */
void dg_http_opts_init(struct dg_http_opts *o);

/* Apply the policy to an easy handle: http/https only (redirects too),
 * MAXREDIRS, timeouts, TLS verification on, a User-Agent, no signals.
 * Shared by rate-fetch (easy) and img-sync (multi). 0 or -1. */
int dg_http_setup(CURL *h, const struct dg_http_opts *o);

enum dg_http_outcome {
	DG_HTTP_OK = 0,       /* 2xx, body in resp */
	DG_HTTP_NOT_MODIFIED, /* 304 */
	DG_HTTP_TRANSIENT,    /* connect error, timeout, cut body, 5xx, 429 */
	DG_HTTP_PERMANENT,    /* other 4xx, too large, refused protocol ... */
};
struct dg_http_resp {
	long status;          /* HTTP status, 0 when none was received */
	char *body;           /* NUL-terminated, malloc'd */
	size_t len;
	char *etag;           /* response validators, NULL when absent */
	char *last_modified;
	char *content_type;
	long retry_after_s;   /* -1 when absent */
	char error[256];      /* one-line reason when not OK/NOT_MODIFIED */
};
void dg_http_resp_free(struct dg_http_resp *r);
/* One GET with conditional validators (either may be NULL). */
enum dg_http_outcome dg_http_get(const char *url, const struct dg_http_opts *o,
				 const char *etag, const char *last_modified,
				 struct dg_http_resp *resp);
/* dg_http_get with retries: transient outcomes are retried up to
 * o->retries times with exponential backoff and jitter, honouring
 * Retry-After (seconds or an HTTP date) capped at o->retry_max_ms.
 * Each retry is reported with dg_debug / dg_warn (-v). */
enum dg_http_outcome dg_http_get_retry(const char *url,
				       const struct dg_http_opts *o,
				       const char *etag,
				       const char *last_modified,
				       struct dg_http_resp *resp);
/* Retry-After value: delta seconds or an HTTP date relative to now.
 * Returns seconds (>= 0) or -1 when malformed. */
long dg_http_parse_retry_after(const char *value, dg_time now);
/* Backoff before attempt n (1-based): base * 2^(n-1), jittered to
 * [50 %, 100 %] of that, capped; retry_after_s >= 0 takes precedence
 * (capped too). Milliseconds. */
long dg_http_backoff_ms(const struct dg_http_opts *o, int attempt,
			long retry_after_s);
/* Whether a failed transfer's code is worth another attempt: connection
 * errors, timeouts, cut bodies, resets. */
bool dg_http_transient_code(CURLcode rc);

/* ------------------------------------------------------------------ */
/* rates.c: reference-rate documents (ECB XML/CSV, JSON) into quotes    */

enum dg_rate_format {
	DG_RF_AUTO = 0,
	DG_RF_ECB_XML, /* eurofxref-daily / -hist-90d / -hist XML */
	DG_RF_ECB_CSV, /* eurofxref-hist.csv or the daily eurofxref.csv */
	DG_RF_JSON,    /* {"base", "date"|"timestamp", "rates": {...}} and
			  Frankfurter's series {"rates": {"DATE": {...}}} */
};
/* "ecb-xml" | "ecb-csv" | "json"; 0 or -1 */
int dg_rate_format_parse(const char *s, enum dg_rate_format *out);
/* Detect from the first non-blank bytes: '<' XML, '{' JSON, else CSV. */
enum dg_rate_format dg_rate_format_detect(const char *buf, size_t len);

struct dg_quote {
	char base[4];
	char quote[4];
	struct dg_rate rate;
	int32_t as_of;		       /* days since the epoch */
	char as_of_text[DG_DATE_SIZE]; /* the same day, YYYY-MM-DD */
};
struct dg_quotes {
	struct dg_quote *v;
	size_t n, cap;
};
void dg_quotes_free(struct dg_quotes *q);
/* Parse a whole document (the ECB feeds are small enough to hold). The
 * document is all or nothing: on any error (malformed or truncated
 * document, a rate that is zero, negative, non-numeric or has an
 * exponent (a JSON number's text included), an unknown currency, an impossible date, no quotes at all)
 * a message naming `name` (and the line where known) is printed,
 * q is left empty and 65 is returned. A JSON number rate is turned back
 * into the shortest decimal text that round-trips to the same double;
 * more than 15 significant digits are refused rather than guessed. */
int dg_rates_parse(const char *buf, size_t len, enum dg_rate_format fmt,
		   const char *name, struct dg_quotes *q);
/* The shortest plain decimal (no exponent) that reads back as the
 * double v, into buf; -1 when v is not finite and positive or needs
 * more than 15 significant digits. The one place a double meets a rate:
 * jansson hands JSON numbers over as doubles. */
int dg_rate_from_json_number(json_t *num, char *buf, size_t len);
/* The name quotes are stored under: every ECB feed ("ecb", "ecb-90d",
 * "ecb-hist") is "ecb"; any other provider keeps its name. */
const char *dg_rate_provider_stored(const char *provider);

/* ------------------------------------------------------------------ */
/* ratestore.c: a parsed rate document into the rates table            */

struct dg_store_stats {
	size_t quotes, fresh, days, jumps; /* quotes read, new, days, jumps */
	int32_t first, last;               /* the document's days */
	/* "EUR/USD: ecb moved more than ...", one per jump: for the caller
	 * to warn of once the document is committed. */
	char **jump_msgs;
};
void dg_store_stats_free(struct dg_store_stats *s);
/* Store what of q is not stored yet under provider, inside the caller's
 * transaction: the quotes of the --symbols list (NULL: all), sorted into
 * the order of the rates index and inserted through one statement per
 * pair batch, tested against the rates table's checks in C and inserted
 * with SQLite's off (dg_db_checks; 70 for a quote they refuse). A stored
 * quote with another value refuses the document (65, message naming
 * name) before anything is written. Then the jump
 * valve: each pair's newest new quote against the stored quote before
 * it, more than pct percent apart logs a rate_jump event and a message
 * in stats. 0 or an exit code. */
int dg_rates_store(sqlite3 *db, const char *provider, const char *source,
		   const char *name, const struct dg_quotes *q,
		   const char *symbols, const char *fetched_at, const char *pct,
		   struct dg_store_stats *stats);
/* The conditional-GET validators of url: a 200 (changed) replaces both,
 * a 304 keeps them; malloc'd copies, NULL when none. */
int dg_fetch_state_save(sqlite3 *db, const char *url,
			const struct dg_http_resp *r, const char *now,
			bool changed);
int dg_fetch_state_load(sqlite3 *db, const char *url, char **etag,
			char **last_modified);

/* ------------------------------------------------------------------ */
/* fx.c: choosing stored quotes for a conversion, and applying them    */

enum dg_fx_method {
	DG_FX_IDENTITY = 0, /* same currency: no rate */
	DG_FX_DIRECT,       /* from is the quote's base: multiply */
	DG_FX_INVERSE,      /* to is the quote's base: divide */
	DG_FX_CROSS,        /* through a common base: * rate(to) / rate(from) */
};
const char *dg_fx_method_name(enum dg_fx_method m);

struct dg_fx_leg {
	int64_t rate_id; /* rates.id */
	char base[4], quote[4];
	struct dg_rate rate;
	int32_t as_of;
};
struct dg_fx {
	enum dg_fx_method method;
	char provider[32];
	char from[4], to[4];
	bool has_mul, has_div;
	struct dg_fx_leg mul, div;
	/* the oldest leg's as_of (the rate's publication day); INT32_MIN
	 * for identity */
	int32_t as_of;
	/* dg_fx_effective's text, filled by dg_fx_find ("" when it cannot
	 * be stated) */
	char effective[DG_EFFECTIVE_SIZE];
};
/*
 * Finds stored quotes for conversions, with prepared statements and a
 * cache of the legs and the conversions it has looked up. The cache
 * assumes the rates table does not change while it is used: reset it at
 * every new transaction.
 */
struct dg_fx_finder;
/* provider as stored ("ecb"). NULL + message (74) on a database error. */
struct dg_fx_finder *dg_fx_finder_new(sqlite3 *db, const char *provider);
void dg_fx_finder_reset(struct dg_fx_finder *f);
void dg_fx_finder_free(struct dg_fx_finder *f);
/*
 * The quotes for from -> to, each leg the newest of its pair with as_of
 * not after on_day: a direct quote (base from, quote to), an inverse one
 * (base to, quote from), or a cross through a base both are quoted
 * against (for the ECB, EUR). Of those that exist the one whose older
 * leg is newest wins; on a tie direct, then inverse, then cross. from ==
 * to gives DG_FX_IDENTITY without a lookup. Returns 0, 69 when no quote
 * exists (no message), 70 when a stored quote is not a rate (message
 * through dg_report), or 74 on a database error (message printed).
 */
int dg_fx_find(struct dg_fx_finder *f, const char *from, const char *to,
	       int32_t on_day, struct dg_fx *fx);
/* amount (from's minor units, from_exp) into to's minor units (to_exp)
 * with one rounding, per the method. */
enum dg_merr dg_fx_convert(const struct dg_fx *fx, int64_t amount,
			   int from_exp, int to_exp, enum dg_rounding mode,
			   int64_t *out);
/* The effective rate (units of to per unit of from) as decimal text,
 * see dg_rate_effective; "1" for identity. */
enum dg_merr dg_fx_effective(const struct dg_fx *fx, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* refundcache.c: orders read for refunds, by id; the charge allocated */

struct dg_oline {
	int64_t line, qty, amount; /* amount: one unit, seller currency */
	int64_t share;		   /* the line's part of the charge */
	int64_t refunded;	   /* units refunded so far */
};
struct dg_order {
	bool stored, pinned;
	int64_t amount;
	char currency[4], charge[4], state[24];
	int sexp, cexp;
	/* the pin */
	int64_t charge_total;
	bool has_mul, has_div;
	struct dg_rate mul, div;
	enum dg_rounding rounding;
	char provider[32];
	char pinned_rate[DG_EFFECTIVE_SIZE];
	struct dg_oline *lines;
	size_t nlines, cap;
	/* recorded refunds */
	int64_t rc, rs; /* charge and seller amounts refunded so far */
};
struct dg_cached_order {
	bool valid; /* false: to be read again */
	char id[DG_ID_MAX + 1];
	struct dg_order o;
};
/*
 * Orders by id: a dense array (orders[0 .. norders - 1], in the order
 * they were added) behind an index. What the entries mean, and when they
 * stop being true, is the caller's to say; dg_order_cache_clear empties
 * the cache at once, keeping its memory.
 */
struct dg_order_slot;
struct dg_order_cache {
	unsigned gen; /* what else is kept by gen goes with a clear */
	struct dg_cached_order *orders;
	size_t norders, cap;
	struct dg_order_slot *slots;
	size_t nslots; /* a power of two, or 0 */
};
/* FNV-1a of an id, its high bits folded in. */
uint32_t dg_id_hash(const char *id);
void dg_order_cache_init(struct dg_order_cache *oc);
void dg_order_cache_free(struct dg_order_cache *oc);
/* Every entry forgotten. true when gen started again from 1: whatever
 * the caller keeps by gen must then be emptied too. */
bool dg_order_cache_clear(struct dg_order_cache *oc);
/* The entry of id (valid or not), or NULL. */
struct dg_cached_order *dg_order_cache_get(struct dg_order_cache *oc,
					   const char *id);
/* The entry after the last, orders[norders], to be filled and then
 * added; it may move the array. */
struct dg_cached_order *dg_order_cache_room(struct dg_order_cache *oc);
/* orders[norders], its id set, added under that id. */
void dg_order_cache_add(struct dg_order_cache *oc);
/* Each line's share of o->charge_total, by its seller value (largest
 * remainder); w and s room for o->nlines. 0, or -1 on an overflow. */
int dg_order_shares(struct dg_order *o, int64_t *w, int64_t *s);
/* What the first m units of a line get: its share split over its qty
 * units by the largest remainder method (equal weights, the remainder
 * to the first units). */
int64_t dg_oline_units_charge(const struct dg_oline *l, int64_t m);

/* ------------------------------------------------------------------ */
/* payevent.c: a gateway's callback body into money facts              */

enum dg_pay_kind { DG_PAY_CHARGE = 0, DG_PAY_REFUND };
enum dg_pay_status {
	DG_PAY_PENDING = 0,
	DG_PAY_COMPLETED,
	DG_PAY_FAILED,
	DG_PAY_REVERSED
};
const char *dg_pay_kind_name(enum dg_pay_kind k); /* "charge" | "refund" */
const char *
dg_pay_status_name(enum dg_pay_status s); /* "pending" | "completed" | "failed"
					     | "reversed" */
int dg_pay_status_parse(const char *s, enum dg_pay_status *out); /* 0 or -1 */
bool dg_pay_gateway_known(const char *name); /* stripe | paypal | generic */
struct dg_pay_fact { /* one money movement a payload reports */
	enum dg_pay_kind kind;
	char *txn_id; /* the key: ch_..., re_..., a PayPal capture or refund id
		       */
	char *order_id;	     /* NULL when the payload names none */
	int64_t amount;	     /* minor units of currency, >= 0 */
	char currency[4];    /* upper case, a code currency.c knows */
	char *parent_txn_id; /* a refund's charge or capture; NULL for a charge
				or when not given */
	enum dg_pay_status status;
	char *refund_id; /* a refund's metadata refund_id (refund-calc's id), or
			    NULL */
};
struct dg_pay_event {
	const char *gateway; /* "stripe" | "paypal" | "generic" (static text) */
	char *event_id;	     /* evt_..., WH-..., or NULL */
	char *event_type;    /* "charge.succeeded", "PAYMENT.CAPTURE.COMPLETED";
				generic: its kind */
	char *ignored; /* when the event moves no money: why, naming the type;
			  facts empty */
	struct dg_pay_fact *facts;
	size_t nfacts;
};
/* 0 with ev filled, or 65 with *err a malloc'd one-line message naming the
 * field
 * ("data.object.amount: not an integer"), untrusted text quoted; ev is then
 * empty. body need not be NUL-terminated; anything but one JSON object
 * (trailing data, duplicate keys, a NUL byte, nesting deeper than needed)
 * is 65. An unknown gateway is 64. The accepted formats: payevent.c. */
int dg_pay_parse(const char *gateway, const char *body, size_t len,
		 struct dg_pay_event *ev, char **err);
int dg_pay_parse_json(const char *gateway, json_t *obj, struct dg_pay_event *ev,
		      char **err); /* --jsonl lines */
/* dg_pay_parse with the document in arena (jsonio.c), reset before it
 * returns; NULL: as dg_pay_parse. For replays of many bodies. */
struct dg_json_arena;
int dg_pay_parse_arena(struct dg_json_arena *arena, const char *gateway,
		       const char *body, size_t len, struct dg_pay_event *ev,
		       char **err);
void dg_pay_event_free(struct dg_pay_event *ev);

/* ------------------------------------------------------------------ */
/* paysig.c: callback signatures and the webhook secret                */

enum dg_sig {
	DG_SIG_OK = 0,
	DG_SIG_MISSING,
	DG_SIG_MALFORMED,
	DG_SIG_MISMATCH,
	DG_SIG_STALE,
	DG_SIG_ERROR
};
const char *dg_sig_name(enum dg_sig s); /* "ok", "missing", "malformed",
					   "mismatch", "stale", "error" */
/* header: the Stripe-Signature value (NULL = missing). tolerance in seconds,
 * both directions. *why: malloc'd one-line reason when not OK (untrusted text
 * quoted), else NULL. */
enum dg_sig dg_sig_stripe(const char *header, const unsigned char *secret,
			  size_t secret_len, const char *body, size_t len,
			  dg_time now, long tolerance, char **why);
/* header: "sha256=<64 hex>" (X-Signature, GitHub's scheme) */
enum dg_sig dg_sig_generic(const char *header, const unsigned char *secret,
			   size_t secret_len, const char *body, size_t len,
			   char **why);
struct dg_paypal_headers { /* PAYPAL-TRANSMISSION-ID, -TIME, -SIG,
			      PAYPAL-CERT-URL, PAYPAL-AUTH-ALGO; NULL when
			      absent */
	const char *transmission_id, *transmission_time, *transmission_sig,
		*cert_url, *auth_algo;
};
enum dg_sig dg_sig_paypal(const struct dg_paypal_headers *h,
			  const char *webhook_id, const char *cert_pem,
			  size_t pem_len, const char *body, size_t len,
			  dg_time now, long tolerance, char **why);
bool dg_paypal_cert_url_ok(
	const char *url); /* https, host paypal.com or *.paypal.com, no
			     userinfo/port tricks */
/* Fetch with http.c (body cap 64 KiB); the text must hold a PEM X.509
 * certificate. 0, 65 (refused URL, not a certificate), 75 (transient), 69
 * (permanent HTTP failure); *why malloc'd when not 0. */
int dg_paypal_cert_fetch(const char *url, const struct dg_http_opts *o,
			 char **pem, size_t *pem_len, char **why);
/* The webhook secret: DAIGOU_WEBHOOK_SECRET, or file (then the env is ignored)
 * with one trailing newline stripped; NULL secret when neither. 0, or 66/65/74
 * with a message printed. A file readable by group or others gets a warning
 * naming it. */
int dg_secret_load(const char *file, unsigned char **secret, size_t *len);
/* CRC-32 (IEEE 802.3, zlib's crc32) of len bytes: PayPal's signed text
 * carries it of the body, in unsigned decimal. */
uint32_t dg_crc32(const void *data, size_t len);

/* ------------------------------------------------------------------ */
/* paystore.c: payment facts recorded exactly once                     */

enum dg_pay_result {
	DG_PAY_RECORDED = 0,
	DG_PAY_DUPLICATE,
	DG_PAY_CONFLICT,
	DG_PAY_REJECTED,
	DG_PAY_IGNORED
};
/* "recorded" | "duplicate" | "conflict" | "rejected" | "ignored" */
const char *dg_pay_result_name(enum dg_pay_result r);
struct dg_pay_outcome {
	enum dg_pay_result result;
	int status;   /* 0; 1 recorded and flagged (an event names why); 65
			 conflict */
	char *reason; /* malloc'd one line, or NULL when nothing to say */
};
/* The prepared statements of one connection, made once and reused. */
struct dg_paystore;
/* NULL + message (74) on a database error. */
struct dg_paystore *dg_paystore_new(sqlite3 *db);
void dg_paystore_free(struct dg_paystore *s);
/*
 * Record one fact of ev inside the caller's BEGIN IMMEDIATE transaction:
 * looked up by (ev->gateway, f->txn_id); new: inserted; the same facts:
 * duplicate; a later status with the same facts: a payment_status row;
 * an earlier status: duplicate; other facts: conflict (a payment_conflict
 * event). A recorded completed charge or refund is checked against the
 * order's pinned charge (payment_mismatch) and refund-calc's refund
 * (refund_mismatch), an unknown order flagged (payment_unknown_order),
 * and the order's state moved forward from its totals. payload_sha256:
 * 64 hex digits; now: RFC 3339. 0 with *out filled (out->reason to
 * free), or 74/75 (message printed: roll back).
 */
int dg_paystore_record(struct dg_paystore *s, const struct dg_pay_event *ev,
		       const struct dg_pay_fact *f, const char *payload_sha256,
		       const char *now, struct dg_pay_outcome *out);
/* An audit event through the store's statement (see dg_db_event). */
int dg_paystore_event(struct dg_paystore *s, const char *now,
		      const char *kind, const char *subject,
		      const char *detail);
/* The cached PayPal certificate of url: 0 with *pem malloc'd
 * (NUL-terminated), 69 when none is cached (no message), or 74. */
int dg_paypal_cert_get(sqlite3 *db, const char *url, char **pem,
		       size_t *len);
/* Cache (or replace) the certificate of url, in the caller's
 * transaction or its own. 0 or 74/75. */
int dg_paypal_cert_put(sqlite3 *db, const char *url, const char *pem,
		       size_t len, const char *now);
/* The SHA-256 digest of data as 64 lower-case hex digits. */
void dg_sha256_hex(const void *data, size_t len, char out[65]);

/* ------------------------------------------------------------------ */
/* cgi.c: the CGI side of the webhook endpoint                         */

struct dg_cgi_req {
	char *body;
	size_t len;
};
/* REQUEST_METHOD must be POST (else 405), CONTENT_LENGTH a valid count (absent:
 * 411; malformed: 400), at most max_body (413, body not read), body read whole
 * from stdin (short: 400). Returns 0, or the HTTP status to answer with *why
 * malloc'd. */
int dg_cgi_read(size_t max_body, struct dg_cgi_req *r, char **why);
void dg_cgi_req_free(struct dg_cgi_req *r);
/* A request header from the CGI environment: "Stripe-Signature" ->
 * HTTP_STRIPE_SIGNATURE. NULL when absent. */
const char *dg_cgi_header(const char *name);
/* "Status: 200 OK\r\nContent-Type: application/json\r\n[Retry-After:
 * N\r\n]\r\n" then json_line and "\n"; retry_after < 0: none. 0 or -1 (write
 * error). A 405 also carries "Allow: POST". A status with no reason phrase
 * known here (200, 400, 401, 403, 404, 405, 409, 411, 413, 415, 429, 500,
 * 503), or a NULL json_line, is -1 with errno EINVAL and nothing written. */
int dg_cgi_reply(FILE *out, int status, long retry_after,
		 const char *json_line);
/* A Content-Length (CGI's CONTENT_LENGTH, SCGI's too): 1*DIGIT (RFC
 * 9110 8.6), no sign, space or suffix. 0 with *n set, or -1 (malformed
 * or past SIZE_MAX - 1). */
int dg_cgi_parse_length(const char *s, size_t *n);
/* The request's method and CONTENT_LENGTH against the rules of
 * dg_cgi_read (405, 411, 400, 413): 0 with *len, or the status with *why
 * malloc'd. Shared by the CGI and SCGI endpoints. */
int dg_cgi_check(const char *method, const char *content_length,
		 size_t max_body, size_t *len, char **why);
/* The CGI variable of a request header, malloc'd: "Stripe-Signature" ->
 * "HTTP_STRIPE_SIGNATURE", Content-Type and Content-Length without the
 * prefix; NULL for a name with other bytes than letters, digits, '-'. */
char *dg_cgi_var_name(const char *name);

/* ------------------------------------------------------------------ */
/* scgi.c: the SCGI protocol and a server loop of batched requests     */

#define DG_SCGI_MAX_HEADERS 256
/* How long an answered connection's unread rest is drained. */
#define DG_SCGI_LINGER_MS 2000
struct dg_scgi_header {
	const char *name, *value; /* NUL-terminated, in the caller's buffer */
};
struct dg_scgi_head {
	struct dg_scgi_header *h; /* in order; CONTENT_LENGTH first */
	size_t n;
	size_t content_length;
	size_t body_off; /* the body's first byte in the buffer */
};
/*
 * The head of the request in buf[0..len): a netstring "LEN:" (no leading
 * zero, LEN at most max_head) of NUL-terminated name and value pairs,
 * then ",". The names are printable ASCII, none twice, at most
 * DG_SCGI_MAX_HEADERS; the first is CONTENT_LENGTH, 1*DIGIT. 0 with *out
 * filled (pointing into buf, which must stay), 1 when the bytes so far
 * are a sound beginning (more needed), -1 with *why malloc'd. Never
 * reads buf[len] or past.
 */
int dg_scgi_parse_head(const char *buf, size_t len, size_t max_head,
		       struct dg_scgi_head *out, char **why);
void dg_scgi_head_free(struct dg_scgi_head *h);
/* The value of header name, or NULL. */
const char *dg_scgi_get(const struct dg_scgi_head *h, const char *name);

/* A request the server loop hands over. */
struct dg_scgi_req {
	struct dg_scgi_head head;
	int error;	/* 400: the head is malformed (why) */
	char *why;
	bool body_read; /* false: over max_body (or error), not read */
	const char *body; /* body_len bytes, then a NUL */
	size_t body_len;
	char *reply; /* set by the batch: the CGI-style answer, malloc'd */
	size_t reply_len;
};
struct dg_scgi_server {
	int listen_fd; /* a listening stream socket */
	size_t max_conns, max_batch, max_head, max_body;
	int timeout_ms; /* for a request to come whole, for its answer */
	/* The requests complete at one moment, in the order they came
	 * whole: set each reply (a request left without one is closed). */
	void (*batch)(void *arg, struct dg_scgi_req **reqs, size_t n);
	void (*reload)(void *arg); /* on SIGHUP, between batches */
	void *arg;
};
/*
 * Serve until SIGTERM or SIGINT: accept up to max_conns connections,
 * read each without blocking until its request is whole (closed at its
 * deadline otherwise), and hand the complete ones to batch, max_batch at
 * a time; the answers are written without blocking, then the connection
 * closed. On SIGTERM the listener is left, requests not yet whole are
 * dropped, the whole ones answered, and it returns 0. SIGPIPE is
 * ignored. 0, or 74 when polling fails.
 */
int dg_scgi_serve(const struct dg_scgi_server *s);
/* A listening socket on addr: a unix socket path (any addr with a '/': a
 * socket file already there is replaced) or HOST:PORT (numeric IPv4, or
 * [IPv6]). 0 with *fd, or 64/73 (message printed). */
int dg_scgi_listen(const char *addr, int *fd);
/* The listening socket a supervisor passed: systemd's (LISTEN_PID is
 * this process, LISTEN_FDS 1: descriptor 3), else standard input
 * (lighttpd's bin-path, as for FastCGI). 0 with *fd, or 64. */
int dg_scgi_inherited(int *fd);

/* ------------------------------------------------------------------ */
/* settle.c: gateway settlement files, streamed row by row             */

enum dg_settle_format {
	DG_SETTLE_AUTO = 0,
	DG_SETTLE_STRIPE,
	DG_SETTLE_PAYPAL,
	DG_SETTLE_GENERIC
};
/* "stripe" | "paypal" | "generic"; 0 or -1 */
int dg_settle_format_parse(const char *s, enum dg_settle_format *out);
/* "stripe", "paypal", "generic" ("auto" for DG_SETTLE_AUTO). */
const char *dg_settle_format_name(enum dg_settle_format f);
enum dg_settle_kind {
	DG_SK_CHARGE = 0, /* Stripe charge; PayPal T00xx */
	DG_SK_REFUND,     /* Stripe refund; PayPal T1107 */
	DG_SK_REVERSAL,   /* Stripe dispute; PayPal T1106, T1201: ref_txn_id
			     names the charge */
	DG_SK_OTHER,      /* fee, payout, dispute_reversal, refund_failure,
			     T04xx ...: totals only */
};
struct dg_settle_row {
	enum dg_settle_kind kind;
	const char *category;   /* reporting_category or the event code */
	const char *txn_id;     /* charge: charge_id, else source_id /
				   Transaction ID; refund: source_id; "" */
	const char *ref_txn_id; /* a reversal's or refund's charge: Stripe
				   charge_id (may be ""); PayPal "Reference
				   Transaction ID", else "PayPal Reference
				   ID" of type TXN, else the row's own id;
				   "" for other kinds */
	const char *order_id;   /* payment_metadata[order_id] / PayPal's
				   Custom Field, else Invoice ID (as
				   pay-ingest); "" when none */
	int64_t gross, fee, net; /* signed minor units of currency: refunds
				    and debits negative; fee is what the
				    gateway kept (a fee returned is
				    negative); net = gross - fee */
	char currency[4];        /* upper case */
	int64_t cf_amount;  /* customer_facing_amount, minor units of
			       cf_currency, signed like gross */
	char cf_currency[4]; /* "" unless the file gives a customer-facing
				currency differing from currency */
	dg_time at; /* the transaction time (UTC): Stripe created_utc (else
		       created, read as UTC), PayPal Transaction Completion
		       Date (else Initiation); DG_SETTLE_NO_TIME when a
		       generic file has no date column */
	const char *file;    /* the name for messages */
	unsigned long line;  /* 1-based line of the row */
};
struct dg_settle_opts {
	enum dg_settle_format format; /* AUTO: told from the file (an RH row:
					 paypal; a header with
					 balance_transaction_id: stripe) */
	const char *map;  /* generic: "gateway_txn_id=COL,amount=COL,..." */
	bool minor_units; /* generic: amounts are minor units */
	/* when not NULL: called with on_format_arg once the file's format
	 * is known, before its first row is handed over */
	void (*on_format)(void *arg, enum dg_settle_format f);
	void *on_format_arg;
	int threads;  /* threads parsing a large regular file: 0 as many as
			 there are processors, 1 the caller's alone */
	size_t chunk; /* 0: the default chunks, for a file over 16 MB;
			 else chunks of this many bytes, for any regular
			 file (tests) */
};
/* dg_settle_row.at of a generic file without a date column. */
#define DG_SETTLE_NO_TIME INT64_MIN
/* A --map text checked: 0, or 64 with a message. */
int dg_settle_map_check(const char *map);
/* The callback sees each body row in file order; the strings live until
 * it returns. A non-zero return stops reading and is returned. */
typedef int (*dg_settle_cb)(void *arg, const struct dg_settle_row *row);
/* Read one whole file (name for messages; "-" is stdin's name). The file
 * must add up (PayPal: every section closed by its SF rows, RH ... FF,
 * SF/RF gross credit and debit totals per currency equal to the body
 * rows; Stripe: gross - fee = net on every row): rows are handed to cb as
 * they are read, and a file that does not add up returns 65 after them
 * with a message naming file:line of the first row or footer that
 * disagrees: the caller must not report anything from such a file.
 * *detected (may be NULL) gets the format read (AUTO with o->map set
 * reads a generic file). 0, 65 (bad or not adding up, message printed),
 * 64 (a generic file without a good map), 74 (read error), or cb's
 * value. The reader takes fp in blocks of 1 MB: ftello(fp) from the
 * callback tells how far it has come, for a progress line. */
int dg_settle_read(FILE *fp, const char *name, const struct dg_settle_opts *o,
		   dg_settle_cb cb, void *arg, enum dg_settle_format *detected);

/* ------------------------------------------------------------------ */
/* settlerows.c: a settlement file's CSV rows, on one thread or several */

/* The current row and where it is; the rest is the reader's own. */
struct dg_rows {
	size_t n;	    /* fields */
	char **f;	    /* each NUL-terminated, until the next row */
	size_t *len;	    /* their lengths */
	unsigned long line; /* the row's first physical line */
	unsigned long lineno; /* every physical line, once at the end */
	const char *name;     /* the file's, for messages (escaped) */
	struct dg_rows_in *in;
};
/* Rows of fp (read from where it is), name for messages. A regular file
 * read from its start is parsed on threads threads (0: one for each
 * processor) in chunks of chunk bytes (0: 8 MB, and only a file of 16 MB
 * or more): the rows, lines and messages are those of one thread.
 * ftello(fp) tells about how far the reading has come. */
void dg_rows_open(struct dg_rows *rows, FILE *fp, const char *name,
		  size_t chunk, int threads);
/* 1 a row, 0 at the end, or 65 (malformed CSV, a line over 1 MB, a field
 * over DG_CSV_MAX_FIELD, more than DG_CSV_MAX_FIELDS fields, a NUL byte)
 * or 74, with a message naming file and line. Blank lines are skipped; a
 * BOM before the first line too. */
int dg_rows_next(struct dg_rows *rows);
void dg_rows_close(struct dg_rows *rows);

/* ------------------------------------------------------------------ */
/* reconcile.c: a gateway's settlement rows against the ledger         */

/* The kinds of row settle-diff prints, in the order they sort in (the
 * names' bytewise order). MATCHED and OTHER are listed only on request
 * (--all-rows): a matched charge or refund, and a row that counts in the
 * totals only (fee, payout, ...). */
enum dg_disc_kind {
	DG_DK_AMOUNT = 0,   /* amount_mismatch */
	DG_DK_CURRENCY,     /* currency_mismatch */
	DG_DK_DUP_LEDGER,   /* duplicate_in_ledger */
	DG_DK_DUP_SETTLED,  /* duplicate_in_settlement */
	DG_DK_MATCHED,      /* matched */
	DG_DK_MISS_LEDGER,  /* missing_in_ledger */
	DG_DK_MISS_SETTLED, /* missing_in_settlement */
	DG_DK_OTHER,        /* other */
	DG_DK_STATUS,       /* status_mismatch */
};
const char *dg_disc_kind_name(enum dg_disc_kind k);
/* One row of the report. Amounts are magnitudes in minor units; a side
 * that is absent has has_ledger / has_settled false. currency is the one
 * compared (the customer-facing currency of a cross-currency row, the
 * ledger's for a ledger-only row); ledger_currency that of the ledger
 * amount (it differs only in a currency_mismatch). delta is settled -
 * ledger (an absent side counts 0), absent for a currency_mismatch. */
struct dg_disc {
	enum dg_disc_kind kind;
	const char *txn_id, *order_id, *detail; /* never NULL */
	bool has_ledger, has_settled, has_delta, has_at;
	int64_t ledger_amount, settled_amount, delta;
	char currency[4], ledger_currency[4];
	dg_time at; /* the settled row's time */
	size_t seq; /* creation order: the last sort key */
};
/* The figures of one currency. rows, gross, fees and net count the
 * file's rows settled in it; the rest go by the currency compared.
 * settled_value is the sum of |amount| of the charge and refund rows. */
struct dg_recon_total {
	char currency[4];
	int exponent;
	uint64_t rows, matched_count;
	__int128 gross, fees, net, matched_value, mismatched_value,
	    settled_value;
};
struct dg_recon_opts {
	const char *gateway;   /* named in every row */
	bool has_from, has_to; /* the period, else the file's own */
	dg_time from, to;      /* inclusive */
	bool all_rows;         /* also MATCHED and OTHER rows */
};
/*
 * The ledger (held by transaction id) and the settlement rows (copied as
 * they are read), then the matching: design section 6 and
 * settle-diff(1) state the rules. Strings live in arenas; nothing is
 * allocated per row but the rows' slots.
 */
struct dg_recon;
struct dg_recon *dg_recon_new(void);
void dg_recon_free(struct dg_recon *r);
/* The gateway's payments in db (opened read-only by the caller), with
 * their current status (the newest payment_status row, else
 * payments.status) and received_at as their time. 0, or 74/65 with a
 * message. */
int dg_recon_ledger_db(struct dg_recon *r, sqlite3 *db, const char *gateway);
/* The ledger loaded into from (a dg_recon of its own, loaded on another
 * thread) moved into r, whose ledger it replaces; from keeps its rows. */
void dg_recon_take_ledger(struct dg_recon *r, struct dg_recon *from);
/* A ledger file, CSV or JSON Lines (gateway_txn_id, kind, order_id,
 * amount, currency, created_at, optional status). Every bad record is
 * reported; 0, 65 (some record bad: nothing else to trust), 66 or 74. */
int dg_recon_ledger_file(struct dg_recon *r, const char *path,
			 enum dg_input_format fmt);
/* A dg_settle_cb (arg: the struct dg_recon): the row copied, the file's
 * totals counted. Returns 0. */
int dg_recon_settle_row(void *arg, const struct dg_settle_row *row);
/* Before each settlement file: the rows that follow are its own. */
void dg_recon_next_file(struct dg_recon *r);
/* Rows handed over so far (a progress line's count). */
size_t dg_recon_nrows(const struct dg_recon *r);
/* The rows' ids hashed for matching (which does it when not done): work
 * for a thread that waits for the ledger. */
void dg_recon_hash_rows(struct dg_recon *r);
/* Match everything handed over. 0 or 65 (an amount past int64). */
int dg_recon_match(struct dg_recon *r, const struct dg_recon_opts *o);
/* The report, sorted by kind, then transaction id, a ledger-only row
 * before a settled one, then creation order. */
size_t dg_recon_ndiscs(const struct dg_recon *r);
const struct dg_disc *dg_recon_disc(const struct dg_recon *r, size_t i);
/* The figures, by currency code. */
size_t dg_recon_ntotals(const struct dg_recon *r);
const struct dg_recon_total *dg_recon_total(const struct dg_recon *r,
					    size_t i);
/* --threshold: a percent, digits with at most four decimals ("0.5"),
 * into ten-thousandths of a percent. 0 or -1. */
int dg_recon_threshold_parse(const char *s, int64_t *out);
/* Whether the mismatched value is over the threshold of the settled
 * value (anything mismatched over nothing settled is). */
bool dg_recon_over(const struct dg_recon_total *t, int64_t threshold);
/* The mismatched value's percent of the settled value with two decimals
 * (half up), "" when nothing was settled but something mismatched. */
#define DG_PERCENT_SIZE 48
void dg_recon_percent(const struct dg_recon_total *t,
		      char buf[DG_PERCENT_SIZE]);

/* ------------------------------------------------------------------ */
/* linepipe.c: lines parsed by several threads, taken back in order    */

/* What the pipe gives, in input order: for each file a DG_LP_FILE (err:
 * it could not be opened, errno), then its lines that are not blank
 * (DG_LP_LINE, with work's result) and those over the cap (DG_LP_LONG);
 * DG_LP_READ_ERROR (errno in err) ends the input; DG_LP_END follows the
 * last file. Nothing follows DG_LP_READ_ERROR or DG_LP_END: call
 * dg_linepipe_next no more. */
enum dg_lp_kind {
	DG_LP_FILE,
	DG_LP_LINE,
	DG_LP_LONG,
	DG_LP_READ_ERROR,
	DG_LP_END,
};
struct dg_lp_item {
	enum dg_lp_kind kind;
	const char *path; /* as given: "-" is stdin */
	const char *name; /* as shown: "<stdin>" for "-" */
	unsigned long lineno;
	int err;
	void *result; /* DG_LP_LINE: work's, now the caller's */
};
/* Run in each worker thread: start gives the thread's state, work turns
 * one line (len bytes, its newline kept, not NUL-terminated) into a
 * result, finish ends the thread. drop frees a result never taken. work
 * may use only what is safe in several threads at once. */
struct dg_lp_ops {
	void *(*start)(void *arg);
	void *(*work)(void *state, const struct dg_lp_item *it,
		      const char *line, size_t len);
	void (*finish)(void *state);
	void (*drop)(void *arg, void *result);
	void *arg;
};
struct dg_linepipe;
/* Starts reading files[0..nfiles) ("-" stdin) with threads workers
 * (1..64); lines longer than cap bytes are DG_LP_LONG. */
struct dg_linepipe *dg_linepipe_open(char **files, int nfiles, size_t cap,
				     unsigned threads,
				     const struct dg_lp_ops *ops);
/* The next item in input order, waiting for it. */
void dg_linepipe_next(struct dg_linepipe *lp, struct dg_lp_item *it);
/* Stops the threads (without waiting for more input) and frees what was
 * not taken. */
void dg_linepipe_close(struct dg_linepipe *lp);
/* The online processors, 1 to 64. */
unsigned dg_linepipe_cores(void);
/* imgname.c: image file names, product directories, what a body is     */

/* The longest name of one path component (NAME_MAX on Linux). */
#define DG_IMG_NAME_MAX 255
/* 1 when NAME (LEN bytes) is safe as one path component exactly as it
 * is: not empty, not "." or "..", no '/', no NUL or other control byte
 * (< 0x20, 0x7f), no leading '.', at most 255 bytes, valid UTF-8. */
int dg_img_name_safe(const char *name, size_t len);
/* A safe name for NAME (LEN bytes): NAME itself when safe, else a
 * sanitised copy (unsafe bytes and bytes that are not UTF-8 replaced by
 * '_', leading dots removed, cut to 255 bytes keeping the extension (a
 * last ".xyz" of at most 32 bytes) and whole UTF-8 characters). NULL
 * (errno EINVAL) when nothing usable is left. Malloc'd. */
char *dg_img_name_sanitize(const char *name, size_t len);
/* The url path's last segment, without query or fragment,
 * percent-decoded, then through dg_img_name_sanitize. NULL (EINVAL)
 * when the path ends in '/' or is empty. Malloc'd. */
char *dg_img_name_from_url(const char *url);
/* NAME with "-" and the first 8 hex digits of SHA-256(URL) inserted
 * before its extension (still at most 255 bytes): for two urls of one
 * product that would land on one name. NAME is sanitised first when it
 * is not safe; NULL (EINVAL) when nothing is left of it. Malloc'd. */
char *dg_img_name_suffixed(const char *name, const char *url);
/* 0 when PRODUCT_ID may be a directory under --dir: dg_img_name_safe
 * holds. Product ids are never rewritten (two products must never share
 * a directory): an unsafe one is refused, -1 with *why a static reason
 * ("is empty", "starts with '.'", ...). */
int dg_img_product_ok(const char *product_id, size_t len, const char **why);

enum dg_img_type {
	DG_IMG_NONE = 0,
	DG_IMG_JPEG,
	DG_IMG_PNG,
	DG_IMG_GIF,
	DG_IMG_WEBP,
	DG_IMG_AVIF
};
/* The format the first N bytes of a body start with (magic numbers:
 * JPEG FF D8 FF; PNG's 8-byte signature; GIF87a/GIF89a; RIFF....WEBP;
 * an ISO BMFF ftyp box whose major or a compatible brand is avif or
 * avis, the brands read as far as the box and N reach). Never reads
 * past N. */
enum dg_img_type dg_img_sniff(const unsigned char *b, size_t n);
/* What a Content-Type header value claims: DG_IMG_JPEG.. for
 * image/jpeg, image/png, image/gif, image/webp, image/avif
 * (case-insensitive, parameters ignored) with *ok=1; DG_IMG_NONE with
 * *ok=1 for a value that names no format (missing header (NULL) or
 * blank, application/octet-stream, binary/octet-stream, other image/
 * types): then the bytes decide; *ok=0 for anything else (text/html, a
 * malformed value...). */
enum dg_img_type dg_img_content_type(const char *value, int *ok);
/* "none", "jpeg", "png", "gif", "webp", "avif" */
const char *dg_img_type_name(enum dg_img_type t);

/* ------------------------------------------------------------------ */
/* bucket.c: one token bucket shared by every transfer                 */

/* In bytes and nanoseconds of a monotonic clock. A rate <= 0 is no
 * limit: spending is free and nothing ever waits. */
struct dg_bucket {
	int64_t rate, burst, tokens, last_ns;
};
/* Full at the start: BURST bytes (at least 1) may be taken at once. */
void dg_bucket_init(struct dg_bucket *b, int64_t rate, int64_t burst,
		    int64_t now_ns);
/* Bytes received: taken from the bucket, which may go into debt (a
 * libcurl write callback cannot take part of a chunk). */
void dg_bucket_spend(struct dg_bucket *b, int64_t n, int64_t now_ns);
/* 0 when transfers may run (tokens > 0 after refilling to NOW), else the
 * nanoseconds until the debt is paid (tokens > 0 again). */
int64_t dg_bucket_wait_ns(struct dg_bucket *b, int64_t now_ns);
/* "50M", "512k", "20000" -> bytes per second or bytes (k, M, G are
 * 1024-based, either case, as curl's --limit-rate and --max-filesize);
 * 0 with *out set, -1 on a bad or overflowing value. */
int dg_size_parse(const char *s, int64_t *out);

/* ------------------------------------------------------------------ */
/* imgstore.c: the images table, a row per url                         */

enum dg_img_status { DG_IMGS_PENDING = 0, DG_IMGS_OK, DG_IMGS_FAILED };
/* "pending" | "ok" | "failed" */
const char *dg_img_status_name(enum dg_img_status s);
struct dg_img_row {
	int64_t id;
	char *product_id, *url;
	char *path;		    /* product_id/name under --dir */
	char *etag, *last_modified; /* validators of the file in place */
	char *sha256;		    /* its digest (64 hex digits) */
	int64_t bytes;		    /* its size, -1 when none */
	enum dg_img_status status;
	int64_t attempts; /* ok: attempts of its last sync; failed: attempts
			     that failed since the last success */
	char *last_error, *synced_at;
	char *want_sha256; /* the digest the input published, or NULL */
};
void dg_img_row_free(struct dg_img_row *r);
/* The prepared statements of one connection and the run's temporary
 * table of listed urls. NULL + message (74) on a database error. */
struct dg_imgstore;
struct dg_imgstore *dg_imgstore_new(sqlite3 *db);
void dg_imgstore_free(struct dg_imgstore *s);
/* List url for product_id (checked with dg_img_product_ok) under name
 * (a safe name), with the digest the input publishes for it (or NULL),
 * in the caller's transaction: stored as pending when new,
 * moved when its product or name changed. *path (malloc'd) is
 * product_id/name, or the name with dg_img_name_suffixed's hash when
 * another url of the product already holds it. *dup: the url was
 * already listed in this run (nothing changed). 0 or 74/75. */
int dg_imgstore_list(struct dg_imgstore *s, const char *product_id,
		     const char *name, const char *url, const char *want_sha256,
		     const char *now, char **path, bool *dup);
/* A row refused before any transfer (its product id or name cannot make
 * a path): stored or kept as failed with reason in last_error, in the
 * caller's transaction. product_id must not be empty. 0 or 74/75. */
int dg_imgstore_refuse(struct dg_imgstore *s, const char *product_id,
		       const char *url, const char *reason, const char *now);
/* List the stored urls (only the failed ones with failed_only), giving a
 * path to a row without one; *n counts them. 0 or 74/75. */
int dg_imgstore_list_stored(struct dg_imgstore *s, bool failed_only,
			    const char *now, size_t *n);
/* The listed row with the smallest id above after: 1, 0 when none is
 * left, or a negative exit code (message printed). */
int dg_imgstore_next(struct dg_imgstore *s, int64_t after,
		     struct dg_img_row *r);
/* Outcomes, each in the caller's BEGIN IMMEDIATE transaction and only
 * once the file is in place: downloaded (r's path, validators, digest,
 * size and attempts), unchanged (a 304 or the same bytes: the row keeps
 * its validators), both with the attempts this run made; failed (the
 * attempts added to those that failed before, the good file's columns
 * kept). */
int dg_imgstore_ok(struct dg_imgstore *s, const struct dg_img_row *r,
		   const char *now);
int dg_imgstore_unchanged(struct dg_imgstore *s, int64_t id, int attempts,
			  const char *now);
int dg_imgstore_failed(struct dg_imgstore *s, int64_t id, int attempts,
		       const char *error, const char *now);
/* --prune: 1 when a url of product_id is listed in this run, 0 when not,
 * or a negative exit code; forget deletes the product's rows. */
int dg_imgstore_product_listed(struct dg_imgstore *s, const char *product_id);
int dg_imgstore_forget_product(struct dg_imgstore *s, const char *product_id);

/* ------------------------------------------------------------------ */
/* imgfetch.c: the transfer engine of img-sync                         */

struct dg_imgfetch_opts {
	struct dg_http_opts http; /* timeouts, max_size, redirects, retries */
	long concurrency;	  /* transfers at once */
	long per_host;		  /* CURLMOPT_MAX_HOST_CONNECTIONS */
	int64_t limit_rate;	  /* bytes a second over all; 0 none */
	long max_retry_after_s;	  /* Retry-After honoured up to this */
};
/* Defaults: dg_http_opts_init's, 300 s per transfer, 50 MiB, 10 at once,
 * 6 a host, no cap, Retry-After up to 60 s. */
void dg_imgfetch_opts_init(struct dg_imgfetch_opts *o);

enum dg_img_result { DG_IMGR_DOWNLOADED = 0, DG_IMGR_UNCHANGED, DG_IMGR_FAILED };
/* "downloaded" | "unchanged" | "failed" */
const char *dg_img_result_name(enum dg_img_result r);

/* One url to sync into DIR/product/name. The caller fills the first
 * part; the engine the second, then hands the job to ops->done. */
struct dg_imgjob {
	char *url, *product, *name;
	char *etag, *last_modified; /* stored validators, NULL when none */
	char *old_sha256;	    /* of the file in place, NULL when none */
	int64_t old_bytes;	    /* its size, -1 when none */
	char *want_sha256;	    /* published by the supplier, or NULL */
	void *user;

	enum dg_img_result result;
	long http_status; /* of the last response, 0 when none */
	int64_t bytes;	  /* the file's size (downloaded or unchanged) */
	char sha256[65];  /* its digest when downloaded or compared */
	char *new_etag, *new_last_modified; /* of a downloaded file */
	int attempts;			    /* made in this run */
	bool unreachable; /* failed for good without reaching the server */
	char *reason;	  /* why it failed (one line), malloc'd */
};
void dg_imgjob_free(struct dg_imgjob *j);

struct dg_imgfetch_stats {
	int64_t bytes;	/* body bytes received so far */
	int64_t rate;	/* over the last second, bytes a second */
	size_t running; /* transfers under way */
	size_t waiting; /* jobs waiting for their retry */
	/* bytes whose writeback started while their body was received,
	 * files fsynced and renamed, directory fsyncs for them */
	int64_t written_back;
	size_t files_synced, dirs_synced;
};
struct dg_imgfetch_ops {
	void *ctx;
	/* The next job, or NULL when there is none left. */
	struct dg_imgjob *(*next)(void *ctx);
	/* A job finished, its result set; the callee owns it. 0, or an exit
	 * code that stops the run (transfers under way are dropped). */
	int (*done)(void *ctx, struct dg_imgjob *job);
	/* About five times a second (NULL: never). */
	void (*tick)(void *ctx, const struct dg_imgfetch_stats *st);
	/* A job dropped unfinished when the run stops early (NULL: none):
	 * free what the caller hung on it; the engine frees the job. */
	void (*drop)(void *ctx, struct dg_imgjob *job);
};
/*
 * Run every job through libcurl's multi interface under the options:
 * the body streamed to DIR/product/.name.tmp-XXXXXX (dirfd is DIR, the
 * product directory made when missing, never through a symlink) in
 * large writes, its writeback started every MiB, Content-Type and magic
 * bytes checked; then, in a finisher thread, its SHA-256 computed from
 * the file, fsync, rename over name, and the directory's fsync (one for
 * the files of a batch) before the job is done. A conditional GET when the
 * job has validators and its file is in place with old_bytes; a body the
 * same as the file in place leaves it untouched (unchanged). Transient
 * failures retried with backoff; one token bucket over all transfers
 * when limit_rate is set. 0, or the exit code that stopped the run.
 */
int dg_imgfetch_run(int dirfd, const struct dg_imgfetch_opts *o,
		    const struct dg_imgfetch_ops *ops);
/* How a finished attempt went, from curl's code and the HTTP status:
 * DG_HTTP_OK (2xx), DG_HTTP_NOT_MODIFIED, DG_HTTP_TRANSIENT (retry:
 * connection errors, timeouts, cut bodies, 408, 429, 5xx) or
 * DG_HTTP_PERMANENT; *unreachable when the server was never reached. */
enum dg_http_outcome dg_imgfetch_classify(CURLcode rc, long status,
					  bool *unreachable);
/* Milliseconds before attempt (1-based) is made again: Retry-After
 * (retry_after_s >= 0) up to max_retry_after_s, else the backoff of
 * dg_http_backoff_ms. */
long dg_imgfetch_retry_ms(const struct dg_imgfetch_opts *o, int attempt,
			  long retry_after_s);
/* 1 when name is one of the engine's temporary files (.NAME.tmp-XXXXXX). */
int dg_img_is_tmp(const char *name);
/* Remove the temporary files a killed run left in DIR's product
 * directories (never following a symlink); *removed counts them. 0, or
 * -1 with errno set when DIR cannot be read. */
int dg_img_clean_tmp(int dirfd, size_t *removed);

/* Last, after every system header: see banned.h. */
#include "banned.h"

#endif /* DAIGOU_H */
