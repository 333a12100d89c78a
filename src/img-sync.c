/*
 * img-sync - product images downloaded into a directory tree under one
 * bandwidth cap, incrementally and atomically.
 *
 * A run lists its urls first (from CSV or JSON Lines files, or from the
 * images table), deciding each file's path, then hands them to the
 * transfer engine (imgfetch.c) a row at a time; outcomes are written to
 * the table in short transactions once their files are in place. One
 * run at a time per directory: DIR/.img-sync.lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "daigou.h"

static const char usage[] =
	"usage: img-sync [-hqv] --dir DIR [--db PATH] [--jsonl] [--strict]\n"
	"                [--concurrency N] [--per-host N] [--limit-rate SIZE]\n"
	"                [--retries N] [--max-retry-after SECONDS]\n"
	"                [--timeout SECONDS] [--connect-timeout SECONDS]\n"
	"                [--max-size SIZE] [--max-redirs N] [--prune "
	"[--dry-run]]\n"
	"                [--report] [--json] [--wait] [--progress] "
	"[FILE ...]\n"
	"       img-sync --dir DIR --from-db | --retry-failed [options]\n"
	"       img-sync --version\n";

#define LOCK_NAME ".img-sync.lock"
/* Outcomes are written in one transaction this often, or this many. */
#define FLUSH_ROWS 256
#define FLUSH_NS   (500 * 1000000LL)
/* Listing commits every so many rows, so that other writers get a turn. */
#define LIST_ROWS 2000

struct options {
	struct dg_common common;
	struct dg_imgfetch_opts fetch;
	const char *dir;
	bool jsonl, strict, from_db, retry_failed, prune, dry_run, report;
	bool wait, progress;
};

enum {
	OPT_DIR = DG_OPT_TOOL_BASE,
	OPT_JSONL,
	OPT_STRICT,
	OPT_FROM_DB,
	OPT_RETRY_FAILED,
	OPT_CONCURRENCY,
	OPT_PER_HOST,
	OPT_LIMIT_RATE,
	OPT_RETRIES,
	OPT_MAX_RETRY_AFTER,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_MAX_SIZE,
	OPT_MAX_REDIRS,
	OPT_PRUNE,
	OPT_DRY_RUN,
	OPT_REPORT,
	OPT_WAIT,
	OPT_PROGRESS,
};

static const struct option longopts[] = {
	DG_COMMON_LONGOPTS,
	{"dir", 1, NULL, OPT_DIR},
	{"jsonl", 0, NULL, OPT_JSONL},
	{"strict", 0, NULL, OPT_STRICT},
	{"from-db", 0, NULL, OPT_FROM_DB},
	{"retry-failed", 0, NULL, OPT_RETRY_FAILED},
	{"concurrency", 1, NULL, OPT_CONCURRENCY},
	{"per-host", 1, NULL, OPT_PER_HOST},
	{"limit-rate", 1, NULL, OPT_LIMIT_RATE},
	{"retries", 1, NULL, OPT_RETRIES},
	{"max-retry-after", 1, NULL, OPT_MAX_RETRY_AFTER},
	{"timeout", 1, NULL, OPT_TIMEOUT},
	{"connect-timeout", 1, NULL, OPT_CONNECT_TIMEOUT},
	{"max-size", 1, NULL, OPT_MAX_SIZE},
	{"max-redirs", 1, NULL, OPT_MAX_REDIRS},
	{"prune", 0, NULL, OPT_PRUNE},
	{"dry-run", 0, NULL, OPT_DRY_RUN},
	{"report", 0, NULL, OPT_REPORT},
	{"wait", 0, NULL, OPT_WAIT},
	{"progress", 0, NULL, OPT_PROGRESS},
	{NULL, 0, NULL, 0},
};

static void tool_option(struct options *o, int c, const char *arg)
{
	struct dg_imgfetch_opts *f = &o->fetch;

	switch (c) {
	case OPT_DIR:
		o->dir = arg;
		break;
	case OPT_JSONL:
		o->jsonl = true;
		break;
	case OPT_STRICT:
		o->strict = true;
		break;
	case OPT_FROM_DB:
		o->from_db = true;
		break;
	case OPT_RETRY_FAILED:
		o->retry_failed = true;
		break;
	case OPT_CONCURRENCY:
		f->concurrency =
			dg_number_arg(usage, "--concurrency", arg, 1, 1000);
		break;
	case OPT_PER_HOST:
		f->per_host = dg_number_arg(usage, "--per-host", arg, 1, 1000);
		break;
	case OPT_LIMIT_RATE:
		f->limit_rate = dg_size_arg(usage, "--limit-rate", arg);
		break;
	case OPT_RETRIES:
		f->http.retries =
			(int)dg_number_arg(usage, "--retries", arg, 0, 100);
		break;
	case OPT_MAX_RETRY_AFTER:
		f->max_retry_after_s = dg_number_arg(usage, "--max-retry-after",
						     arg, 0, 86400);
		break;
	case OPT_TIMEOUT:
		f->http.timeout_s =
			dg_number_arg(usage, "--timeout", arg, 1, 86400);
		break;
	case OPT_CONNECT_TIMEOUT:
		f->http.connect_timeout_s =
			dg_number_arg(usage, "--connect-timeout", arg, 1, 3600);
		break;
	case OPT_MAX_SIZE:
		f->http.max_size =
			(size_t)dg_size_arg(usage, "--max-size", arg);
		break;
	case OPT_MAX_REDIRS:
		f->http.max_redirs =
			dg_number_arg(usage, "--max-redirs", arg, 0, 100);
		break;
	case OPT_PRUNE:
		o->prune = true;
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_REPORT:
		o->report = true;
		break;
	case OPT_WAIT:
		o->wait = true;
		break;
	case OPT_PROGRESS:
		o->progress = true;
		break;
	default:
		dg_usage_error(usage, "unknown option (see --help)");
	}
}

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	dg_imgfetch_opts_init(&o->fetch);
	while ((c = dg_getopt(argc, argv, "hqv", longopts, usage)) != -1) {
		if (!dg_common_option(&o->common, c, optarg, usage))
			tool_option(o, c, optarg);
	}
	if (!o->dir || !*o->dir)
		dg_usage_error(usage, "--dir is required");
	if (o->from_db && o->retry_failed)
		dg_usage_error(usage, "--from-db and --retry-failed exclude "
				      "each other");
	if ((o->from_db || o->retry_failed) && optind < argc)
		dg_usage_error(usage, "%s reads the images table, not files",
			       o->from_db ? "--from-db" : "--retry-failed");
	if (o->dry_run && !o->prune)
		dg_usage_error(usage, "--dry-run goes with --prune");
	if (o->prune && o->retry_failed)
		dg_usage_error(usage, "--prune needs every url listed, not "
				      "only the failed ones");
	if (o->common.json && !o->report && !o->dry_run)
		dg_usage_error(usage, "--json goes with --report");
}

/* ------------------------------------------------------------ a run */

struct outcome {
	int64_t id;
	enum dg_img_result result;
	char *path, *etag, *last_modified, *reason;
	char sha256[65];
	int64_t bytes;
	int attempts;
};

struct run {
	const struct options *o;
	sqlite3 *db;
	struct dg_imgstore *store;
	struct dg_out *out;
	int dirfd;
	bool tty;
	int status;
	/* listing */
	size_t listed, bad_rows, bad_files, in_txn;
	/* transfers */
	int64_t last_id;
	size_t done, downloaded, unchanged, failed, unreachable;
	int64_t bytes, start_ns, flush_ns;
	struct outcome *pending;
	size_t npending;
	/* product directories of failed urls: removed at the end if empty */
	char **failed_dirs;
	size_t nfailed_dirs;
	bool progress_shown;
	struct dg_imgfetch_stats last; /* the engine's, at the end */
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void now_text(char buf[DG_RFC3339_SIZE])
{
	dg_time t = 0;

	if (dg_now(&t))
		exit(DG_EXIT_USAGE);
	dg_format_rfc3339(t, buf);
}

/* The progress line goes before any other message. */
static void clear_progress(struct run *r)
{
	if (r->progress_shown) {
		fputs("\r\033[K", stderr);
		r->progress_shown = false;
	}
}

static const char *const report_cols[] = {
	"product_id", "url",	"path",	    "result", "http_status",
	"bytes",      "sha256", "attempts", "reason"};
#define NREPORT (sizeof(report_cols) / sizeof(report_cols[0]))

static void report(struct run *r, const char *product, const char *url,
		   const char *path, const char *result, long status,
		   int64_t bytes, const char *sha256, int attempts,
		   const char *reason)
{
	char st[24], by[24], at[24];
	const char *v[NREPORT];
	int ret;

	if (!r->out)
		return;
	dg_xsnprintf(st, sizeof(st), "%ld", status);
	dg_xsnprintf(by, sizeof(by), "%lld", (long long)bytes);
	dg_xsnprintf(at, sizeof(at), "%d", attempts);
	v[0] = product;
	v[1] = url;
	v[2] = path;
	v[3] = result;
	v[4] = status > 0 ? st : NULL;
	v[5] = bytes >= 0 ? by : NULL;
	v[6] = sha256 && *sha256 ? sha256 : NULL;
	v[7] = attempts >= 0 ? at : NULL;
	v[8] = reason;
	if ((ret = dg_out_row(r->out, v)))
		r->status = dg_exit_worst(r->status, ret);
}

/* -------------------------------------------------------- listing */

static bool is_http_url(const char *url)
{
	return !strncasecmp(url, "http://", 7) ||
	       !strncasecmp(url, "https://", 8);
}

static bool valid_sha256(char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] >= 'A' && s[i] <= 'F')
			s[i] = (char)(s[i] - 'A' + 'a');
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return i == 64;
}

/* A row that cannot be synced: its message with file:line, its reason
 * in the table when it names a product and a url. */
static int refuse_row(struct run *r, struct dg_input *in, const char *product,
		      const char *url, const char *reason)
{
	char now[DG_RFC3339_SIZE];
	int ret = 0;

	dg_error("%s:%lu: %s", dg_escaped(dg_input_name(in), DG_QUOTE_PATH_MAX),
		 dg_input_line(in), reason);
	r->bad_rows++;
	if (product && *product && url && *url) {
		now_text(now);
		ret = dg_imgstore_refuse(r->store, product, url, reason, now);
	}
	report(r, product, url, NULL, "failed", 0, -1, NULL, 0, reason);
	return ret ? ret : r->o->strict ? DG_EXIT_DATAERR : 0;
}

/* The file name of a row: the given one (kept when safe, else
 * sanitised) or the url's last segment. NULL with *why. */
static char *row_name(const char *given, const char *url, char **why)
{
	char *name;

	if (given && *given) {
		if (dg_img_name_safe(given, strlen(given)))
			return dg_xstrdup(given);
		if (!(name = dg_img_name_sanitize(given, strlen(given))))
			*why = dg_xasprintf("name %s leaves no usable file "
					    "name",
					    dg_quoted(given));
		return name;
	}
	if (!(name = dg_img_name_from_url(url)))
		*why = dg_xasprintf("url %s names no file: give a name",
				    dg_quoted(url));
	return name;
}

static int list_row(struct run *r, struct dg_input *in)
{
	const char *product = dg_input_get(in, "product_id", NULL);
	const char *url = dg_input_get(in, "url", NULL);
	const char *given = dg_input_get(in, "name", NULL);
	const char *sha = dg_input_get(in, "sha256", NULL);
	char now[DG_RFC3339_SIZE], *why = NULL, *name = NULL, *path = NULL;
	char *want = NULL;
	const char *pwhy;
	bool dup;
	int ret;

	if (!product || !*product)
		return refuse_row(r, in, NULL, url, "missing product_id");
	if (!url || !*url)
		return refuse_row(r, in, product, NULL, "missing url");
	if (dg_img_product_ok(product, strlen(product), &pwhy)) {
		why = dg_xasprintf("product_id %s refused: %s",
				   dg_quoted(product), pwhy);
	} else if (!is_http_url(url)) {
		why = dg_xasprintf("url %s is not http or https",
				   dg_quoted(url));
	} else if (sha && *sha && !valid_sha256(want = dg_xstrdup(sha))) {
		why = dg_xasprintf("sha256 %s is not 64 hex digits",
				   dg_quoted(sha));
	} else {
		name = row_name(given, url, &why);
	}
	if (why) {
		ret = refuse_row(r, in, product, url, why);
		goto out;
	}
	now_text(now);
	ret = dg_imgstore_list(r->store, product, name, url, want, now, &path,
			       &dup);
	if (!ret && dup)
		dg_warn("%s:%lu: url %s is listed already: row ignored",
			dg_escaped(dg_input_name(in), DG_QUOTE_PATH_MAX),
			dg_input_line(in), dg_quoted(url));
	else if (!ret)
		r->listed++;
out:
	free(why);
	free(name);
	free(path);
	free(want);
	return ret;
}

/* Commit what was listed so far and begin again (not in a dry run,
 * which rolls everything back at the end). */
static int list_commit(struct run *r, bool again)
{
	int ret;

	if (r->o->dry_run)
		return 0;
	if ((ret = dg_db_commit(r->db)))
		return ret;
	return again ? dg_db_begin(r->db) : 0;
}

static int list_file(struct run *r, const char *path)
{
	static const char *const required[] = {"product_id", "url"};
	int ret = 0, got, st = 0;
	struct dg_input *in;

	in = dg_input_open(path, r->o->jsonl ? DG_IN_JSON : DG_IN_AUTO, &st);
	if (!in || (st = dg_input_require(in, required, 2))) {
		dg_input_close(in);
		r->bad_files++;
		if (r->o->strict)
			return st;
		r->status = dg_exit_worst(r->status, st);
		return 0;
	}
	while (!ret && (got = dg_input_next(in)) != 0) {
		if (got < 0) {
			r->bad_rows++;
			if (r->o->strict)
				ret = dg_input_status(in);
			continue;
		}
		ret = list_row(r, in);
		if (!ret && ++r->in_txn % LIST_ROWS == 0)
			ret = list_commit(r, true);
	}
	dg_input_close(in);
	return ret;
}

static int list_all(struct run *r, int nfiles, char **files)
{
	char now[DG_RFC3339_SIZE];
	int ret, i;

	if ((ret = dg_db_begin(r->db)))
		return ret;
	if (r->o->from_db || r->o->retry_failed) {
		now_text(now);
		ret = dg_imgstore_list_stored(r->store, r->o->retry_failed, now,
					      &r->listed);
	} else if (nfiles == 0) {
		ret = list_file(r, "-");
	} else {
		for (i = 0; i < nfiles && !ret; i++)
			ret = list_file(r, files[i]);
	}
	if (ret) {
		dg_db_rollback(r->db);
		return ret;
	}
	return list_commit(r, false);
}

/* ------------------------------------------------------ outcomes */

static void outcome_free(struct outcome *oc)
{
	free(oc->path);
	free(oc->etag);
	free(oc->last_modified);
	free(oc->reason);
}

static int write_outcome(struct run *r, const struct outcome *oc,
			 const char *now)
{
	struct dg_img_row row = {
		.id = oc->id, .bytes = oc->bytes, .attempts = oc->attempts};

	switch (oc->result) {
	case DG_IMGR_DOWNLOADED:
		row.path = oc->path;
		row.etag = oc->etag;
		row.last_modified = oc->last_modified;
		row.sha256 = (char *)oc->sha256;
		return dg_imgstore_ok(r->store, &row, now);
	case DG_IMGR_UNCHANGED:
		return dg_imgstore_unchanged(r->store, oc->id, oc->attempts,
					     now);
	default:
		return dg_imgstore_failed(r->store, oc->id, oc->attempts,
					  oc->reason, now);
	}
}

/* Every outcome so far in one transaction. 0 or an exit code. */
static int flush(struct run *r)
{
	char now[DG_RFC3339_SIZE];
	size_t i;
	int ret;

	r->flush_ns = mono_ns();
	if (!r->npending)
		return 0;
	now_text(now);
	if ((ret = dg_db_begin(r->db)))
		goto out;
	for (i = 0; i < r->npending && !ret; i++)
		ret = write_outcome(r, &r->pending[i], now);
	if (ret)
		dg_db_rollback(r->db);
	else
		ret = dg_db_commit(r->db);
out:
	for (i = 0; i < r->npending; i++)
		outcome_free(&r->pending[i]);
	r->npending = 0;
	return ret;
}

static int keep_outcome(struct run *r, int64_t id, struct dg_imgjob *j,
			const char *path)
{
	struct outcome *oc;

	if (!r->pending)
		r->pending = dg_xcalloc(FLUSH_ROWS, sizeof(*r->pending));
	oc = &r->pending[r->npending++];
	*oc = (struct outcome){.id = id,
			       .result = j->result,
			       .bytes = j->bytes,
			       .attempts = j->attempts};
	oc->path = path ? dg_xstrdup(path) : NULL;
	oc->etag = j->new_etag ? dg_xstrdup(j->new_etag) : NULL;
	oc->last_modified =
		j->new_last_modified ? dg_xstrdup(j->new_last_modified) : NULL;
	oc->reason = j->reason ? dg_xstrdup(j->reason) : NULL;
	memcpy(oc->sha256, j->sha256, sizeof(oc->sha256));
	if (r->npending == FLUSH_ROWS || mono_ns() - r->flush_ns > FLUSH_NS)
		return flush(r);
	return 0;
}

static void count(struct run *r, const struct dg_imgjob *j)
{
	r->done++;
	if (j->result == DG_IMGR_DOWNLOADED) {
		r->downloaded++;
		r->bytes += j->bytes;
	} else if (j->result == DG_IMGR_UNCHANGED) {
		r->unchanged++;
	} else {
		r->failed++;
		r->unreachable += j->unreachable;
	}
}

static int job_done(void *ctx, struct dg_imgjob *j)
{
	struct run *r = ctx;
	struct dg_img_row *row = j->user;
	int ret;

	count(r, j);
	if (j->result == DG_IMGR_FAILED) {
		r->failed_dirs = dg_xrealloc(r->failed_dirs,
					     (r->nfailed_dirs + 1) *
						     sizeof(*r->failed_dirs));
		r->failed_dirs[r->nfailed_dirs++] = dg_xstrdup(j->product);
		clear_progress(r);
		dg_error("%s (product %s): %s", dg_quoted_path(j->url),
			 dg_quoted(j->product), j->reason ? j->reason : "");
	}
	report(r, j->product, j->url, row->path, dg_img_result_name(j->result),
	       j->http_status, j->result == DG_IMGR_FAILED ? -1 : j->bytes,
	       j->result == DG_IMGR_FAILED ? NULL : j->sha256, j->attempts,
	       j->reason);
	ret = keep_outcome(r, row->id, j, row->path);
	dg_img_row_free(row);
	free(row);
	dg_imgjob_free(j);
	return ret;
}

/* A job the engine dropped when the run stopped early: its row. */
static void job_dropped(void *ctx, struct dg_imgjob *j)
{
	struct dg_img_row *row = j->user;

	(void)ctx;
	dg_img_row_free(row);
	free(row);
	j->user = NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? dg_xstrdup(s) : NULL;
}

/* A listed row whose path cannot be used (a stored row of another
 * program's making): failed without a transfer. */
static int bad_path(struct run *r, struct dg_img_row *row)
{
	struct dg_imgjob *j = dg_xcalloc(1, sizeof(*j));

	j->url = dg_xstrdup(row->url);
	j->product = dg_xstrdup(row->product_id);
	j->result = DG_IMGR_FAILED;
	j->reason = dg_xstrdup(row->path ? "stored path is not "
					   "product_id/name"
					 : "no file name: the url names none");
	j->user = row;
	return job_done(r, j);
}

static struct dg_imgjob *next_job(void *ctx)
{
	struct run *r = ctx;
	struct dg_img_row *row;
	struct dg_imgjob *j;
	const char *name;
	size_t plen;
	int got;

	for (;;) {
		row = dg_xcalloc(1, sizeof(*row));
		if ((got = dg_imgstore_next(r->store, r->last_id, row)) <= 0) {
			free(row);
			if (got < 0)
				r->status = dg_exit_worst(r->status, -got);
			return NULL;
		}
		r->last_id = row->id;
		plen = strlen(row->product_id);
		if (row->path && !strncmp(row->path, row->product_id, plen) &&
		    row->path[plen] == '/' &&
		    dg_img_name_safe(row->path + plen + 1,
				     strlen(row->path + plen + 1))) {
			name = row->path + plen + 1;
			break;
		}
		if ((got = bad_path(r, row))) {
			r->status = dg_exit_worst(r->status, got);
			return NULL;
		}
	}
	j = dg_xcalloc(1, sizeof(*j));
	j->url = dg_xstrdup(row->url);
	j->product = dg_xstrdup(row->product_id);
	j->name = dg_xstrdup(name);
	j->etag = dup_or_null(row->etag);
	j->last_modified = dup_or_null(row->last_modified);
	j->old_sha256 = dup_or_null(row->sha256);
	j->old_bytes = row->bytes;
	j->want_sha256 = dup_or_null(row->want_sha256);
	j->user = row;
	return j;
}

/* ------------------------------------------------------- output */

/* n bytes as "512 B", "1.5 KiB", "20.0 MiB": integers only. */
static void human(int64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int64_t tenths;
	int u = 0;

	if (n < 1024) {
		dg_xsnprintf(buf, len, "%lld B", (long long)n);
		return;
	}
	tenths = n * 10 / 1024;
	for (u = 1; tenths >= 10240 && u < 4; u++)
		tenths /= 1024;
	dg_xsnprintf(buf, len, "%lld.%lld %s", (long long)(tenths / 10),
		     (long long)(tenths % 10), units[u]);
}

static void progress(void *ctx, const struct dg_imgfetch_stats *st)
{
	struct run *r = ctx;
	char b[32], rate[32];

	r->last = *st;
	if (!r->tty)
		return;
	human(st->bytes, b, sizeof(b));
	human(st->rate, rate, sizeof(rate));
	fprintf(stderr, "\r%s: %zu/%zu files, %s, %s/s, %zu failed\033[K",
		dg_progname(), r->done, r->listed, b, rate, r->failed);
	r->progress_shown = true;
}

static void summary(struct run *r)
{
	int64_t ns = mono_ns() - r->start_ns;
	int64_t ms = ns / 1000000;
	char rate[32];

	clear_progress(r);
	dg_debug("files fsynced and renamed: %zu; directory fsyncs: %zu; "
		 "writeback started while receiving: %lld bytes",
		 r->last.files_synced, r->last.dirs_synced,
		 (long long)r->last.written_back);
	if (dg_verbosity() < 0 && !r->failed && !r->bad_rows && !r->bad_files)
		return;
	human(ms > 0 ? r->bytes * 1000 / ms : 0, rate, sizeof(rate));
	fprintf(stderr,
		"%s: %zu downloaded, %zu unchanged, %zu failed, %lld bytes "
		"in %lld.%03lld s (%s/s)\n",
		dg_progname(), r->downloaded, r->unchanged,
		r->failed + r->bad_rows, (long long)r->bytes,
		(long long)(ms / 1000), (long long)(ms % 1000), rate);
}

/* --------------------------------------------------------- prune */

/* Remove (or, in a dry run, list) the files of one product directory
 * no url of the run is listed under, then the directory and its rows. */
static int prune_product(struct run *r, const char *product, size_t *files)
{
	int fd = openat(r->dirfd, product,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *d;
	char *path;
	DIR *dir;

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0; /* not a directory we made: left alone */
	}
	while ((d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		path = dg_xasprintf("%s/%s", product, d->d_name);
		if (!r->o->dry_run && unlinkat(dirfd(dir), d->d_name, 0)) {
			dg_error("cannot remove %s: %s", dg_quoted_path(path),
				 strerror(errno));
			r->status = dg_exit_worst(r->status, DG_EXIT_IOERR);
		} else {
			++*files;
			report(r, product, NULL, path, "pruned", 0, -1, NULL,
			       -1, NULL);
		}
		free(path);
	}
	closedir(dir);
	if (r->o->dry_run)
		return 0;
	if (unlinkat(r->dirfd, product, AT_REMOVEDIR) && errno != ENOTEMPTY)
		dg_warn("cannot remove directory %s: %s",
			dg_quoted_path(product), strerror(errno));
	return dg_imgstore_forget_product(r->store, product);
}

static int prune(struct run *r)
{
	int fd = dup(r->dirfd), ret = 0, listed;
	size_t products = 0, files = 0;
	struct dirent *d;
	DIR *dir;

	if (r->bad_rows || r->bad_files) {
		dg_warn("not pruning: the input had errors, and a product "
			"it failed to list would lose its files");
		return 0;
	}
	if (fd < 0 || !(dir = fdopendir(fd))) {
		dg_error("cannot read %s: %s", dg_quoted_path(r->o->dir),
			 strerror(errno));
		return DG_EXIT_IOERR;
	}
	if (!r->o->dry_run && (ret = dg_db_begin(r->db))) {
		closedir(dir);
		return ret;
	}
	rewinddir(dir);
	while (!ret && (d = readdir(dir))) {
		if (d->d_name[0] == '.' ||
		    (d->d_type != DT_DIR && d->d_type != DT_UNKNOWN))
			continue;
		if ((listed = dg_imgstore_product_listed(r->store, d->d_name)) <
		    0) {
			ret = -listed;
		} else if (!listed) {
			products++;
			ret = prune_product(r, d->d_name, &files);
		}
	}
	closedir(dir);
	if (!r->o->dry_run)
		ret = ret ? (dg_db_rollback(r->db), ret) : dg_db_commit(r->db);
	if (!ret)
		dg_info("%s %zu files of %zu products no longer listed",
			r->o->dry_run ? "would prune" : "pruned", files,
			products);
	return ret;
}

/* ------------------------------------------------ directory, lock */

/* DIR, made with its missing parents; its descriptor. */
static int open_dir(const char *dir)
{
	char *p = dg_xstrdup(dir), *s;
	int fd;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) && errno != EEXIST)
			break;
		*s = '/';
	}
	if (mkdir(p, 0777) && errno != EEXIST) {
		dg_error("cannot create %s: %s", dg_quoted_path(p),
			 strerror(errno));
		free(p);
		return -1;
	}
	free(p);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		dg_error("cannot open %s: %s", dg_quoted_path(dir),
			 strerror(errno));
	return fd;
}

/* One run at a time: the lock file stays, the lock goes with the
 * process. 0, or 75 when another run holds it and we do not wait. */
static int take_lock(int dirfd, const struct options *o, int *lockfd)
{
	*lockfd = openat(dirfd, LOCK_NAME,
			 O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*lockfd < 0) {
		dg_error("cannot open %s/%s: %s", dg_quoted_path(o->dir),
			 LOCK_NAME, strerror(errno));
		return DG_EXIT_CANTCREAT;
	}
	if (!flock(*lockfd, LOCK_EX | LOCK_NB))
		return 0;
	if (errno == EWOULDBLOCK && !o->wait) {
		dg_error("another img-sync is running in %s: exiting (--wait "
			 "waits for it)",
			 dg_quoted_path(o->dir));
		return DG_EXIT_TEMPFAIL;
	}
	while (flock(*lockfd, LOCK_EX)) {
		if (errno != EINTR) {
			dg_error("cannot lock %s/%s: %s",
				 dg_quoted_path(o->dir), LOCK_NAME,
				 strerror(errno));
			return DG_EXIT_IOERR;
		}
	}
	return 0;
}

/* ----------------------------------------------------------- main */

/* A failed url's first download leaves no directory behind: DIR holds
 * the images and its lock. */
static void remove_empty_dirs(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nfailed_dirs; i++) {
		unlinkat(r->dirfd, r->failed_dirs[i], AT_REMOVEDIR);
		free(r->failed_dirs[i]);
	}
	free(r->failed_dirs);
	r->failed_dirs = NULL;
	r->nfailed_dirs = 0;
}

static int transfer(struct run *r)
{
	struct dg_imgfetch_ops ops = {
		.ctx = r,
		.next = next_job,
		.done = job_done,
		.tick = progress,
		.drop = job_dropped,
	};
	int ret = dg_imgfetch_run(r->dirfd, &r->o->fetch, &ops);
	int fl = flush(r);

	remove_empty_dirs(r);
	return dg_exit_worst(ret, fl);
}

static int final_status(struct run *r)
{
	int st = r->status;

	if (r->failed && !r->downloaded && !r->unchanged &&
	    r->unreachable == r->failed)
		return dg_exit_worst(st, DG_EXIT_TEMPFAIL);
	if (r->failed || r->bad_rows || r->bad_files)
		st = dg_exit_worst(st, DG_EXIT_FINDING);
	return st;
}

static int run(struct run *r, int nfiles, char **files)
{
	size_t removed = 0;
	int ret;

	if (dg_img_clean_tmp(r->dirfd, &removed) == 0 && removed)
		dg_info("removed %zu temporary files a stopped run left",
			removed);
	if ((ret = list_all(r, nfiles, files)))
		return ret;
	if (r->o->dry_run) {
		ret = prune(r);
		dg_db_rollback(r->db);
		return ret ? ret : r->status;
	}
	if ((ret = transfer(r)))
		return dg_exit_worst(ret, r->status);
	if (r->o->prune && (ret = prune(r)))
		return ret;
	return final_status(r);
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct run r = {.o = &o, .dirfd = -1};
	int ret, lockfd = -1;

	dg_set_progname(argv[0]);
	parse_options(argc, argv, &o);
	r.start_ns = r.flush_ns = mono_ns();
	r.tty = (o.progress || isatty(STDERR_FILENO)) && dg_verbosity() >= 0;
	if ((r.dirfd = open_dir(o.dir)) < 0)
		return DG_EXIT_CANTCREAT;
	if ((ret = take_lock(r.dirfd, &o, &lockfd)))
		goto out;
	if ((ret = dg_db_open(dg_db_path(o.common.db_path), &r.db)))
		goto out;
	/* images can be fetched again: a power cut may lose the last
	 * commits, never the file's consistency (daigou.db(5)) */
	if ((ret = dg_db_synchronous(r.db, false)))
		goto out;
	/* the rows are read and written one url at a time: a page cache
	 * of 2 MiB, not the library's 64, keeps memory flat as the
	 * catalogue grows */
	if (sqlite3_exec(r.db, "PRAGMA cache_size = -2048", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		ret = DG_EXIT_IOERR;
		goto out;
	}
	if (!(r.store = dg_imgstore_new(r.db))) {
		ret = DG_EXIT_IOERR;
		goto out;
	}
	if (o.report || o.dry_run)
		r.out = dg_out_new(stdout, o.common.json, report_cols, NREPORT);
	ret = run(&r, argc - optind, argv + optind);
	if (!o.dry_run)
		summary(&r);
out:
	if (r.out)
		ret = dg_exit_worst(ret, dg_out_finish(r.out, ret));
	dg_imgstore_free(r.store);
	free(r.pending);
	remove_empty_dirs(&r);
	dg_db_close(r.db);
	if (lockfd >= 0)
		close(lockfd);
	if (r.dirfd >= 0)
		close(r.dirfd);
	return ret;
}
