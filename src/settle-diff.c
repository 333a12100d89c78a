/*
 * settle-diff - a gateway's settlement files against the ledger.
 *
 * Every file is read whole (settle.c refuses one that does not add up)
 * before anything is matched, so that a cut download never reads as
 * missing payments: any file refused, and nothing is reported. The
 * ledger is the database's payments, opened read-only, or a file.
 * Matching and the figures are reconcile.c's; this file holds the
 * options, the reading loop and the output.
 *
 * The database's ledger is loaded on a thread of its own while the files
 * are read, as soon as the gateway is known (--gateway, --format, or the
 * first file's format). Its messages are held and printed where a
 * one-thread run prints them: after the files, only when they were read.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daigou.h"

static const char usage[] =
	"usage: settle-diff [-hqv] [--format stripe|paypal|generic] [--map "
	"SPEC]\n"
	"                   [--minor-units] [--gateway NAME] [--ledger FILE]\n"
	"                   [--from DATE] [--to DATE] [--threshold PCT] "
	"[--summary]\n"
	"                   [--all-rows] [--json] [--db PATH] [FILE ...]\n"
	"       settle-diff --version\n";

#define DEFAULT_THRESHOLD "0.5"
/* Files this large get a progress line on a terminal. */
#define PROGRESS_MIN_BYTES (4L * 1024 * 1024)
#define PROGRESS_EVERY	   65536

struct options {
	struct dg_common common;
	struct dg_settle_opts settle;
	const char *gateway, *ledger, *from, *to, *threshold;
	bool summary, all_rows;
};

enum {
	OPT_FORMAT = DG_OPT_TOOL_BASE,
	OPT_MAP,
	OPT_MINOR_UNITS,
	OPT_GATEWAY,
	OPT_LEDGER,
	OPT_FROM,
	OPT_TO,
	OPT_THRESHOLD,
	OPT_SUMMARY,
	OPT_ALL_ROWS,
};

static const struct option longopts[] = {
	DG_COMMON_LONGOPTS,
	{"format", 1, NULL, OPT_FORMAT},
	{"map", 1, NULL, OPT_MAP},
	{"minor-units", 0, NULL, OPT_MINOR_UNITS},
	{"gateway", 1, NULL, OPT_GATEWAY},
	{"ledger", 1, NULL, OPT_LEDGER},
	{"from", 1, NULL, OPT_FROM},
	{"to", 1, NULL, OPT_TO},
	{"threshold", 1, NULL, OPT_THRESHOLD},
	{"summary", 0, NULL, OPT_SUMMARY},
	{"all-rows", 0, NULL, OPT_ALL_ROWS},
	{NULL, 0, NULL, 0},
};

static void parse_options(int argc, char **argv, struct options *o,
			  int64_t *threshold)
{
	int c;
	int32_t day;

	o->threshold = DEFAULT_THRESHOLD;
	while ((c = dg_getopt(argc, argv, "hqv", longopts, usage)) != -1) {
		if (dg_common_option(&o->common, c, optarg, usage))
			continue;
		switch (c) {
		case OPT_FORMAT:
			if (dg_settle_format_parse(optarg, &o->settle.format))
				dg_usage_error(usage,
					       "--format is stripe, paypal or "
					       "generic, not %s",
					       dg_quoted(optarg));
			break;
		case OPT_MAP:
			o->settle.map = optarg;
			break;
		case OPT_MINOR_UNITS:
			o->settle.minor_units = true;
			break;
		case OPT_GATEWAY:
			if (!dg_valid_id(optarg))
				dg_usage_error(usage,
					       "--gateway needs a name, not %s",
					       dg_quoted(optarg));
			o->gateway = optarg;
			break;
		case OPT_LEDGER:
			o->ledger = optarg;
			break;
		case OPT_FROM:
		case OPT_TO:
			if (dg_parse_date(optarg, &day))
				dg_usage_error(usage,
					       "%s needs a date "
					       "(YYYY-MM-DD), not %s",
					       c == OPT_FROM ? "--from"
							     : "--to",
					       dg_quoted(optarg));
			*(c == OPT_FROM ? &o->from : &o->to) = optarg;
			break;
		case OPT_THRESHOLD:
			o->threshold = optarg;
			break;
		case OPT_SUMMARY:
			o->summary = true;
			break;
		case OPT_ALL_ROWS:
			o->all_rows = true;
			break;
		default:
			dg_usage_error(usage, "unknown option (see --help)");
		}
	}
	dg_date_range_arg(usage, o->from, o->to);
	if (dg_recon_threshold_parse(o->threshold, threshold))
		dg_usage_error(usage,
			       "--threshold needs a percent such as 0.5 (at "
			       "most four decimals), not %s",
			       dg_quoted(o->threshold));
	if (o->settle.map && dg_settle_map_check(o->settle.map)) {
		fputs(usage, stderr); /* the message is printed */
		exit(DG_EXIT_USAGE);
	}
	if (o->settle.map && !o->settle.format)
		o->settle.format = DG_SETTLE_GENERIC;
	if (o->settle.format == DG_SETTLE_GENERIC && !o->settle.map)
		dg_usage_error(usage, "--format generic needs --map");
	if (o->settle.map && o->settle.format != DG_SETTLE_GENERIC)
		dg_usage_error(usage, "--map goes with --format generic");
	if (o->settle.minor_units && o->settle.format != DG_SETTLE_GENERIC)
		dg_usage_error(usage, "--minor-units goes with --format "
				      "generic");
	if (o->ledger && o->common.db_path)
		dg_usage_error(usage, "--ledger and --db exclude each other: "
				      "the ledger is one or the other");
	if (o->summary && o->all_rows)
		dg_usage_error(usage, "--summary and --all-rows exclude each "
				      "other");
}

/* ------------------------------------------------------- the ledger */

struct ledger_job {
	sqlite3 *db; /* NULL: the ledger is a file */
	const char *gateway;
	struct dg_recon *recon; /* the ledger alone, loaded by the thread */
	pthread_t thread;
	bool started;
	int ret;
	char *held; /* the thread's messages */
};

static int load_ledger_db(struct dg_recon *recon, sqlite3 *db,
			  const char *gateway)
{
	int ret = dg_db_begin_read(db);

	if (ret)
		return ret;
	ret = dg_recon_ledger_db(recon, db, gateway);
	dg_db_rollback(db);
	return ret;
}

static void *ledger_thread(void *arg)
{
	struct ledger_job *j = arg;

	dg_messages_hold();
	j->ret = load_ledger_db(j->recon, j->db, j->gateway);
	j->held = dg_messages_release();
	dg_quote_release();
	return NULL;
}

/* The ledger of gateway starts loading (once; nothing without a
 * database, or when no thread can be had: it is loaded after). The main
 * thread does not touch the database until ledger_finish. */
static void ledger_start(struct ledger_job *j, const char *gateway)
{
	if (!j->db || j->started || j->gateway)
		return;
	j->gateway = gateway;
	j->recon = dg_recon_new();
	if (pthread_create(&j->thread, NULL, ledger_thread, j)) {
		dg_recon_free(j->recon);
		j->recon = NULL;
		return;
	}
	j->started = true;
}

static void ledger_on_format(void *arg, enum dg_settle_format f)
{
	ledger_start(arg, dg_settle_format_name(f));
}

/* The ledger of gateway into recon (use), or the thread's work thrown
 * away (!use): 0 or an exit status (message printed). */
static int ledger_finish(struct ledger_job *j, struct dg_recon *recon,
			 const char *gateway, bool use)
{
	int ret = 0;

	if (j->started) {
		pthread_join(j->thread, NULL);
		j->started = false;
		if (use && !strcmp(j->gateway, gateway)) {
			dg_messages_print(j->held);
			ret = j->ret;
			if (!ret)
				dg_recon_take_ledger(recon, j->recon);
			use = false;
		}
	}
	free(j->held);
	j->held = NULL;
	dg_recon_free(j->recon);
	j->recon = NULL;
	if (use && j->db)
		ret = load_ledger_db(recon, j->db, gateway);
	return ret;
}

/* ------------------------------------------------------ reading */

struct reading {
	struct dg_recon *recon;
	const char *name;
	FILE *fp;
	off_t size; /* > 0: show progress */
	size_t rows;
};

static void progress(struct reading *rd, bool done)
{
	off_t at = done ? rd->size : ftello(rd->fp);

	if (at < 0)
		at = 0;
	fprintf(stderr, "\r%s: %s: %d %%%s", dg_progname(),
		dg_escaped(rd->name, DG_QUOTE_PATH_MAX),
		(int)(at * 100 / rd->size), done ? "\n" : "");
}

static int row_cb(void *arg, const struct dg_settle_row *row)
{
	struct reading *rd = arg;

	if (rd->size && ++rd->rows % PROGRESS_EVERY == 0)
		progress(rd, false);
	return dg_recon_settle_row(rd->recon, row);
}

/* One settlement file into recon; *format the format of the files so
 * far (AUTO before the first). 0 or an exit status (message printed). */
static int read_file(struct dg_recon *recon, const char *path,
		     const struct options *o, enum dg_settle_format *format,
		     struct ledger_job *lj)
{
	struct reading rd = {.recon = recon, .name = path};
	struct dg_settle_opts so = o->settle;
	enum dg_settle_format got = DG_SETTLE_AUTO;
	struct stat sb;
	int ret;

	if (!strcmp(path, "-")) {
		rd.fp = stdin;
	} else if (!(rd.fp = fopen(path, "rb"))) {
		dg_error("cannot open %s: %s", dg_quoted_path(path),
			 strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? DG_EXIT_NOINPUT
							   : DG_EXIT_IOERR;
	}
	if (dg_verbosity() >= 0 && isatty(STDERR_FILENO) &&
	    !fstat(fileno(rd.fp), &sb) && S_ISREG(sb.st_mode) &&
	    sb.st_size > PROGRESS_MIN_BYTES)
		rd.size = sb.st_size;
	dg_recon_next_file(recon);
	so.on_format = ledger_on_format;
	so.on_format_arg = lj;
	ret = dg_settle_read(rd.fp, path, &so, row_cb, &rd, &got);
	if (rd.size && !ret)
		progress(&rd, true);
	if (!ret && *format && got && got != *format) {
		dg_error("%s is a %s report, the files before it %s ones",
			 dg_quoted_path(path), dg_settle_format_name(got),
			 dg_settle_format_name(*format));
		ret = DG_EXIT_DATAERR;
	}
	if (!ret && got)
		*format = got;
	if (rd.fp != stdin)
		fclose(rd.fp);
	else if (ferror(stdin) && !ret)
		ret = DG_EXIT_IOERR;
	return ret;
}

/* ------------------------------------------------------- output */

enum { NCOLS = 10, NSUMCOLS = 9 };
static const char *const cols[NCOLS] = {
	"kind",		 "gateway",	   "gateway_txn_id", "order_id",
	"ledger_amount", "settled_amount", "currency",	     "delta",
	"settled_at",	 "detail"};
static const char *const sumcols[NSUMCOLS] = {"currency",
					      "rows",
					      "gross",
					      "fees",
					      "net",
					      "matched_count",
					      "matched_value",
					      "mismatched_value",
					      "mismatched_percent"};

static int exponent(const char *code)
{
	int e = dg_currency_exponent(code);

	return e < 0 ? 2 : e;
}

static int print_discs(const struct dg_recon *recon, const char *gateway,
		       bool json)
{
	struct dg_out *out = dg_out_new(stdout, json, cols, NCOLS);
	char la[DG_AMOUNT_SIZE], sa[DG_AMOUNT_SIZE], delta[DG_AMOUNT_SIZE];
	char at[DG_RFC3339_SIZE];
	const char *v[NCOLS];
	size_t i, n = dg_recon_ndiscs(recon);
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		const struct dg_disc *d = dg_recon_disc(recon, i);
		int ex = exponent(d->currency);

		if (d->has_ledger)
			dg_amount_format(d->ledger_amount,
					 exponent(d->ledger_currency), la);
		if (d->has_settled)
			dg_amount_format(d->settled_amount, ex, sa);
		if (d->has_delta)
			dg_amount_format(d->delta, ex, delta);
		if (d->has_at)
			dg_format_rfc3339(d->at, at);
		v[0] = dg_disc_kind_name(d->kind);
		v[1] = gateway;
		v[2] = *d->txn_id ? d->txn_id : NULL;
		v[3] = *d->order_id ? d->order_id : NULL;
		v[4] = d->has_ledger ? la : NULL;
		v[5] = d->has_settled ? sa : NULL;
		v[6] = d->currency[0] ? d->currency : NULL;
		v[7] = d->has_delta ? delta : NULL;
		v[8] = d->has_at ? at : NULL;
		v[9] = *d->detail ? d->detail : NULL;
		ret = dg_out_row(out, v);
	}
	return dg_exit_worst(ret, dg_out_close(out));
}

struct figures {
	char rows[24], matched[24];
	char gross[DG_TOTAL_SIZE], fees[DG_TOTAL_SIZE], net[DG_TOTAL_SIZE];
	char mvalue[DG_TOTAL_SIZE], mis[DG_TOTAL_SIZE];
	char settled[DG_TOTAL_SIZE], pct[DG_PERCENT_SIZE];
};

static void figures(const struct dg_recon_total *t, struct figures *f)
{
	dg_xsnprintf(f->rows, sizeof(f->rows), "%llu",
		     (unsigned long long)t->rows);
	dg_xsnprintf(f->matched, sizeof(f->matched), "%llu",
		     (unsigned long long)t->matched_count);
	dg_total_format(t->gross, t->exponent, f->gross);
	dg_total_format(t->fees, t->exponent, f->fees);
	dg_total_format(t->net, t->exponent, f->net);
	dg_total_format(t->matched_value, t->exponent, f->mvalue);
	dg_total_format(t->mismatched_value, t->exponent, f->mis);
	dg_total_format(t->settled_value, t->exponent, f->settled);
	dg_recon_percent(t, f->pct);
}

static int print_summary(const struct dg_recon *recon, bool json)
{
	struct dg_out *out = dg_out_new(stdout, json, sumcols, NSUMCOLS);
	const char *v[NSUMCOLS];
	struct figures f;
	size_t i;
	int ret = 0;

	for (i = 0; i < dg_recon_ntotals(recon) && !ret; i++) {
		const struct dg_recon_total *t = dg_recon_total(recon, i);

		figures(t, &f);
		v[0] = t->currency;
		v[1] = f.rows;
		v[2] = f.gross;
		v[3] = f.fees;
		v[4] = f.net;
		v[5] = f.matched;
		v[6] = f.mvalue;
		v[7] = f.mis;
		v[8] = *f.pct ? f.pct : NULL;
		ret = dg_out_row(out, v);
	}
	return dg_exit_worst(ret, dg_out_close(out));
}

/* The summary on stderr, one line per currency. */
static void tell_summary(const struct dg_recon *recon)
{
	struct figures f;
	size_t i;

	for (i = 0; i < dg_recon_ntotals(recon); i++) {
		const struct dg_recon_total *t = dg_recon_total(recon, i);

		figures(t, &f);
		dg_info("%s: %s rows, gross %s, fees %s, net %s; matched %s "
			"(%s); mismatched %s of %s settled (%s %%)",
			t->currency, f.rows, f.gross, f.fees, f.net, f.matched,
			f.mvalue, f.mis, f.settled, *f.pct ? f.pct : "n/a");
	}
}

/* 1 when a currency is over the threshold (each named unless -q). */
static int verdict(const struct dg_recon *recon, int64_t threshold,
		   const char *text)
{
	struct figures f;
	size_t i;
	int ret = 0;

	for (i = 0; i < dg_recon_ntotals(recon); i++) {
		const struct dg_recon_total *t = dg_recon_total(recon, i);

		if (!dg_recon_over(t, threshold))
			continue;
		figures(t, &f);
		dg_info("%s: mismatched %s %s is over the threshold of %s %% "
			"of %s settled",
			t->currency, f.mis, t->currency, text, f.settled);
		ret = DG_EXIT_FINDING;
	}
	return ret;
}

/* ------------------------------------------------------- main */

static void period(const struct options *o, struct dg_recon_opts *ro)
{
	int32_t day;

	if (o->from && !dg_parse_date(o->from, &day)) {
		ro->has_from = true;
		ro->from = (dg_time)day * 86400;
	}
	if (o->to && !dg_parse_date(o->to, &day)) {
		ro->has_to = true;
		ro->to = (dg_time)day * 86400 + 86399;
	}
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct dg_recon_opts ro = {0};
	struct dg_recon *recon = NULL;
	struct ledger_job lj = {0};
	enum dg_settle_format format = DG_SETTLE_AUTO;
	sqlite3 *db = NULL;
	int64_t threshold;
	char *stdin_only[] = {"-"};
	char **files;
	int nfiles, i, ret = 0;

	dg_set_progname(argv[0]);
	parse_options(argc, argv, &o, &threshold);
	files = optind < argc ? argv + optind : stdin_only;
	nfiles = optind < argc ? argc - optind : 1;

	/* a missing database is told before a long file is read */
	if (!o.ledger &&
	    (ret = dg_db_open_ro(dg_db_path(o.common.db_path), &db)))
		return ret;
	recon = dg_recon_new();
	if (o.ledger &&
	    (ret = dg_recon_ledger_file(recon, o.ledger, DG_IN_AUTO)))
		goto out;
	format = o.settle.format;
	lj.db = db;
	if (o.gateway || format)
		ledger_start(&lj, o.gateway ? o.gateway
					    : dg_settle_format_name(format));
	for (i = 0; i < nfiles && !ret; i++)
		ret = read_file(recon, files[i], &o, &format, &lj);
	ro.gateway = o.gateway ? o.gateway
		     : format  ? dg_settle_format_name(format)
			       : "generic";
	if (!ret)
		dg_recon_hash_rows(recon); /* while the ledger loads */
	/* the ledger's messages come after the files', and only when the
	 * files were read */
	ret = dg_exit_worst(ret, ledger_finish(&lj, recon, ro.gateway, !ret));
	if (ret)
		goto out;
	period(&o, &ro);
	ro.all_rows = o.all_rows;
	if ((ret = dg_recon_match(recon, &ro)))
		goto out;
	if (o.summary) {
		ret = print_summary(recon, o.common.json);
	} else {
		ret = print_discs(recon, ro.gateway, o.common.json);
		tell_summary(recon);
	}
	ret = dg_exit_worst(ret, verdict(recon, threshold, o.threshold));
out:
	dg_recon_free(recon);
	dg_db_close(db);
	return ret;
}
