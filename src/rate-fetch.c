/*
 * rate-fetch - fetch reference exchange rates and store them exactly as
 * published; print them back as CSV, JSON Lines or ledger price lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daigou.h"

static const char usage[] =
	"usage: rate-fetch [-hqv] [--db PATH] [--provider NAME] [--url URL]\n"
	"                  [--file PATH|-] [--format ecb-xml|ecb-csv|json]\n"
	"                  [--base CCY] [--symbols A,B,...] [--date DATE]\n"
	"                  [--from DATE --to DATE] [--max-jump PCT] [--force]\n"
	"                  [--retries N] [--timeout SECONDS]\n"
	"                  [--connect-timeout SECONDS] [--max-size BYTES]\n"
	"                  [--lock-wait SECONDS] [--secret-file PATH]\n"
	"       rate-fetch --print [--json] [--db PATH] [--provider NAME]\n"
	"                  [--pair BASE/QUOTE] [--from DATE] [--to DATE]"
	" [--latest]\n"
	"       rate-fetch --ledger [--db PATH] [--provider NAME]\n"
	"                  [--pair BASE/QUOTE] [--from DATE] [--to DATE]"
	" [--latest]\n"
	"       rate-fetch --version\n";

#define ECB_BASE_URL	 "https://www.ecb.europa.eu/stats/eurofxref/"
#define FRANKFURTER_URL	 "https://api.frankfurter.app"
#define DEFAULT_MAX_SIZE (64L * 1024 * 1024)

enum mode { MODE_FETCH, MODE_PRINT, MODE_LEDGER };

struct options {
	struct dg_common common;
	enum mode mode;
	const char *provider;
	const char *url;
	const char *file;
	enum dg_rate_format format;
	const char *base;
	const char *symbols;
	const char *date, *from, *to;
	const char *pair;
	bool provider_given;
	bool latest;
	bool force;
	const char *max_jump;
	const char *secret_file;
	long lock_wait_s;
	struct dg_http_opts http;
};

enum {
	OPT_PROVIDER = DG_OPT_TOOL_BASE,
	OPT_URL,
	OPT_FILE,
	OPT_FORMAT,
	OPT_BASE,
	OPT_SYMBOLS,
	OPT_DATE,
	OPT_FROM,
	OPT_TO,
	OPT_MAX_JUMP,
	OPT_FORCE,
	OPT_RETRIES,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_MAX_SIZE,
	OPT_LOCK_WAIT,
	OPT_SECRET_FILE,
	OPT_PRINT,
	OPT_LEDGER,
	OPT_PAIR,
	OPT_LATEST,
};

static const struct option longopts[] = {
	DG_COMMON_LONGOPTS,
	{"provider", 1, NULL, OPT_PROVIDER},
	{"url", 1, NULL, OPT_URL},
	{"file", 1, NULL, OPT_FILE},
	{"format", 1, NULL, OPT_FORMAT},
	{"base", 1, NULL, OPT_BASE},
	{"symbols", 1, NULL, OPT_SYMBOLS},
	{"date", 1, NULL, OPT_DATE},
	{"from", 1, NULL, OPT_FROM},
	{"to", 1, NULL, OPT_TO},
	{"max-jump", 1, NULL, OPT_MAX_JUMP},
	{"force", 0, NULL, OPT_FORCE},
	{"retries", 1, NULL, OPT_RETRIES},
	{"timeout", 1, NULL, OPT_TIMEOUT},
	{"connect-timeout", 1, NULL, OPT_CONNECT_TIMEOUT},
	{"max-size", 1, NULL, OPT_MAX_SIZE},
	{"lock-wait", 1, NULL, OPT_LOCK_WAIT},
	{"secret-file", 1, NULL, OPT_SECRET_FILE},
	{"print", 0, NULL, OPT_PRINT},
	{"ledger", 0, NULL, OPT_LEDGER},
	{"pair", 1, NULL, OPT_PAIR},
	{"latest", 0, NULL, OPT_LATEST},
	{NULL, 0, NULL, 0},
};

/* ------------------------------------------------------------ options */

/* "50M", "16777216", "64k" */
static void check_date_arg(const char *opt, const char *s)
{
	int32_t d;

	if (s && dg_parse_date(s, &d))
		dg_usage_error(usage, "%s needs a date YYYY-MM-DD, not %s", opt,
			       dg_quoted(s));
}

static bool is_ecb_provider(const char *p)
{
	return !strcmp(p, "ecb") || !strcmp(p, "ecb-90d") ||
	       !strcmp(p, "ecb-hist");
}

static bool is_provider(const char *p)
{
	return is_ecb_provider(p) || !strcmp(p, "frankfurter") ||
	       !strcmp(p, "json");
}

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	o->provider = "ecb";
	o->max_jump = "2";
	o->lock_wait_s = 30;
	dg_http_opts_init(&o->http);
	o->http.max_size = DEFAULT_MAX_SIZE;
	while ((c = dg_getopt(argc, argv, "hqv", longopts, usage)) != -1) {
		if (dg_common_option(&o->common, c, optarg, usage))
			continue;
		switch (c) {
		case OPT_PROVIDER:
			o->provider = optarg;
			o->provider_given = true;
			break;
		case OPT_URL:
			o->url = optarg;
			break;
		case OPT_FILE:
			o->file = optarg;
			break;
		case OPT_FORMAT:
			if (dg_rate_format_parse(optarg, &o->format))
				dg_usage_error(
					usage,
					"--format is ecb-xml, ecb-csv or "
					"json, not %s",
					dg_quoted(optarg));
			break;
		case OPT_BASE:
			o->base = optarg;
			break;
		case OPT_SYMBOLS:
			o->symbols = optarg;
			break;
		case OPT_DATE:
			o->date = optarg;
			break;
		case OPT_FROM:
			o->from = optarg;
			break;
		case OPT_TO:
			o->to = optarg;
			break;
		case OPT_MAX_JUMP:
			o->max_jump = optarg;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_RETRIES:
			o->http.retries = (int)dg_number_arg(usage, "--retries",
							     optarg, 0, 20);
			break;
		case OPT_TIMEOUT:
			o->http.timeout_s = dg_number_arg(usage, "--timeout",
							  optarg, 1, 86400);
			break;
		case OPT_CONNECT_TIMEOUT:
			o->http.connect_timeout_s = dg_number_arg(
				usage, "--connect-timeout", optarg, 1, 3600);
			break;
		case OPT_MAX_SIZE:
			o->http.max_size = (size_t)dg_size_arg(
				usage, "--max-size", optarg);
			break;
		case OPT_LOCK_WAIT:
			o->lock_wait_s = dg_number_arg(usage, "--lock-wait",
						       optarg, 0, 86400);
			break;
		case OPT_SECRET_FILE:
			o->secret_file = optarg;
			break;
		case OPT_PRINT:
			o->mode = MODE_PRINT;
			break;
		case OPT_LEDGER:
			o->mode = MODE_LEDGER;
			break;
		case OPT_PAIR:
			o->pair = optarg;
			break;
		case OPT_LATEST:
			o->latest = true;
			break;
		default:
			dg_usage_error(usage, "unknown option (see --help)");
		}
	}
	if (optind < argc)
		dg_usage_error(usage, "unexpected argument %s",
			       dg_quoted(argv[optind]));

	if (!is_provider(o->provider))
		dg_usage_error(usage,
			       "unknown provider %s (ecb, ecb-90d, ecb-hist, "
			       "frankfurter, json)",
			       dg_quoted(o->provider));
	check_date_arg("--date", o->date);
	check_date_arg("--from", o->from);
	check_date_arg("--to", o->to);
	dg_date_range_arg(usage, o->from, o->to);
	if (o->base)
		dg_currency_arg(usage, "--base", o->base);
	if (o->pair) {
		char b[4], q[4];

		if (strlen(o->pair) != 7 || o->pair[3] != '/')
			dg_usage_error(usage, "--pair is BASE/QUOTE, not %s",
				       dg_quoted(o->pair));
		memcpy(b, o->pair, 3);
		b[3] = '\0';
		memcpy(q, o->pair + 4, 4);
		dg_currency_arg(usage, "--pair", b);
		dg_currency_arg(usage, "--pair", q);
	}
	if (o->mode != MODE_FETCH)
		return;

	if (o->pair || o->latest)
		dg_usage_error(usage, "--pair and --latest go with --print or "
				      "--ledger");
	if (o->date && (o->from || o->to))
		dg_usage_error(usage, "--date and --from/--to exclude each "
				      "other");
	if ((o->from != NULL) != (o->to != NULL))
		dg_usage_error(usage, "--from and --to go together");
	if (o->file && o->url)
		dg_usage_error(usage, "--file and --url exclude each other");
	if (!o->file && !strcmp(o->provider, "json") && !o->url)
		dg_usage_error(usage, "--provider json needs --url");
	if (!o->file && is_ecb_provider(o->provider)) {
		if (o->base && strcmp(o->base, "EUR"))
			dg_usage_error(usage,
				       "the ECB publishes EUR rates "
				       "only: --base %s refused",
				       dg_quoted(o->base));
		if (o->date || o->from)
			dg_usage_error(usage,
				       "--date, --from and --to need "
				       "--provider frankfurter (use ecb-90d "
				       "or ecb-hist for past ECB days)");
	}
	if ((o->date || o->from) && !o->file &&
	    strcmp(o->provider, "frankfurter"))
		dg_usage_error(usage, "--date, --from and --to need "
				      "--provider frankfurter");
	{
		/* --max-jump must be a plain decimal percentage */
		struct dg_rate one, pct;

		if (dg_rate_parse("1", &one) ||
		    (strcmp(o->max_jump, "0") &&
		     dg_rate_parse(o->max_jump, &pct)) ||
		    dg_rate_moved_more_than(&one, &one, o->max_jump) < 0)
			dg_usage_error(usage,
				       "--max-jump needs a percentage such as "
				       "2 or 0.5, not %s",
				       dg_quoted(o->max_jump));
	}
	if (o->symbols) {
		const char *p = o->symbols;

		while (*p) {
			char code[4];
			size_t n = strcspn(p, ",");

			if (n != 3)
				dg_usage_error(usage,
					       "--symbols is a comma-separated "
					       "list of currency codes, not "
					       "%s",
					       dg_quoted(o->symbols));
			memcpy(code, p, 3);
			code[3] = '\0';
			dg_currency_arg(usage, "--symbols", code);
			p += n;
			if (*p == ',' && *++p == '\0')
				dg_usage_error(usage, "--symbols ends with a "
						      "comma");
		}
	}
}

/* ------------------------------------------------------------ sources */

/*
 * The whole of a file or stdin, capped at max bytes. 0, or 66 (missing,
 * unreadable or a directory), 74 (a read error), or over the cap 69 for
 * a rate document, as for one over HTTP, and 65 for a secret file.
 */
static int read_all(const char *path, size_t max, bool secret, char **out,
		    size_t *len)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	FILE *fp = stdin;
	size_t cap = 65536, n = 0, got;
	struct stat st;
	char *buf = NULL;
	int ret = 0;

	if (strcmp(path, "-")) {
		fp = fopen(path, "rb");
		if (!fp) {
			dg_error("cannot open %s: %s", dg_quoted_path(path),
				 strerror(errno));
			return DG_EXIT_NOINPUT;
		}
	}
	/* fopen opens a directory; reading it fails with EISDIR (74) */
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		dg_error("cannot open %s: %s", dg_quoted_path(name),
			 strerror(EISDIR));
		ret = DG_EXIT_NOINPUT;
		goto out;
	}
	buf = dg_xmalloc(cap + 1);
	while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n > max) {
			if (secret) {
				dg_error("secret file %s is larger than %zu "
					 "bytes",
					 dg_quoted_path(name), max);
				ret = DG_EXIT_DATAERR;
			} else {
				dg_error("%s is larger than %zu bytes (see "
					 "--max-size)",
					 dg_quoted_path(name), max);
				ret = DG_EXIT_UNAVAILABLE;
			}
			goto out;
		}
		if (n == cap) {
			cap *= 2;
			buf = dg_xrealloc(buf, cap + 1);
		}
	}
	if (ferror(fp)) {
		dg_error("cannot read %s: %s", dg_quoted_path(name),
			 strerror(errno));
		ret = DG_EXIT_IOERR;
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	if (fp != stdin)
		fclose(fp);
	return ret;
}

/* The secret for a json provider URL's {key}: DAIGOU_RATE_KEY or the
 * first line of --secret-file. NULL when neither is set. */
static char *read_secret(const struct options *o, int *status)
{
	const char *env = getenv("DAIGOU_RATE_KEY");
	char *buf = NULL;
	size_t len;

	*status = 0;
	if (o->secret_file) {
		if ((*status =
			     read_all(o->secret_file, 4096, true, &buf, &len)))
			return NULL;
		buf[strcspn(buf, "\r\n")] = '\0';
		if (!*buf) {
			dg_error("secret file %s is empty",
				 dg_quoted_path(o->secret_file));
			*status = DG_EXIT_DATAERR;
			free(buf);
			return NULL;
		}
		return buf;
	}
	return env && *env ? dg_xstrdup(env) : NULL;
}

/* What goes into messages, rates.source and fetch_state: a URL without
 * its query string (an API key may be in it). */
static char *redact_url(const char *url)
{
	return dg_xstrndup(url, strcspn(url, "?"));
}

/*
 * The URL to fetch for the provider, and the one to show: the same URL
 * without the query string it was given (an API key may be in it) but
 * with the base= and symbols= that rate-fetch adds, so that the
 * validators of one request are never sent with another. Caller frees
 * both. 0 or an exit code.
 */
static int build_url(const struct options *o, char **out, char **shown_out)
{
	char *url = NULL, *shown = NULL, *key = NULL, *esc;
	size_t len = 0, cap = 0, slen, scap;
	const char *p, *sep = "?", *ssep = "?";
	CURL *h;
	int status;

	if (is_ecb_provider(o->provider)) {
		if (o->url) {
			dg_xappend(&url, &len, &cap, o->url);
		} else {
			dg_xappend(&url, &len, &cap, ECB_BASE_URL);
			dg_xappend(&url, &len, &cap,
				   !strcmp(o->provider, "ecb")
					   ? "eurofxref-daily.xml"
				   : !strcmp(o->provider, "ecb-90d")
					   ? "eurofxref-hist-90d.xml"
					   : "eurofxref-hist.xml");
		}
		*out = url;
		*shown_out = redact_url(url);
		return 0;
	}
	if (!strcmp(o->provider, "frankfurter")) {
		dg_xappend(&url, &len, &cap, o->url ? o->url : FRANKFURTER_URL);
		while (len > 0 && url[len - 1] == '/')
			url[--len] = '\0';
		dg_xappend(&url, &len, &cap, "/");
		if (o->date) {
			dg_xappend(&url, &len, &cap, o->date);
		} else if (o->from) {
			dg_xappend(&url, &len, &cap, o->from);
			dg_xappend(&url, &len, &cap, "..");
			dg_xappend(&url, &len, &cap, o->to);
		} else {
			dg_xappend(&url, &len, &cap, "latest");
		}
		shown = redact_url(url);
	} else {
		/* json: the URL as given, with {key} replaced */
		key = read_secret(o, &status);
		if (status)
			return status;
		p = strstr(o->url, "{key}");
		if (p && !key) {
			dg_error("the URL has a {key} but neither "
				 "DAIGOU_RATE_KEY nor --secret-file is set");
			return DG_EXIT_USAGE;
		}
		if (p) {
			h = curl_easy_init();
			esc = h ? curl_easy_escape(h, key, 0) : NULL;
			if (!esc) {
				dg_error("cannot encode the API key");
				curl_easy_cleanup(h);
				free(key);
				return DG_EXIT_SOFTWARE;
			}
			url = dg_xstrndup(o->url, (size_t)(p - o->url));
			len = strlen(url);
			cap = len + 1;
			dg_xappend(&url, &len, &cap, esc);
			dg_xappend(&url, &len, &cap, p + 5);
			curl_free(esc);
			curl_easy_cleanup(h);
		} else {
			dg_xappend(&url, &len, &cap, o->url);
		}
		free(key);
		shown = redact_url(o->url);
	}
	if (strchr(url, '?'))
		sep = "&";
	if (strchr(shown, '?'))
		ssep = "&";
	slen = strlen(shown);
	scap = slen + 1;
	if (o->base) {
		dg_xappend(&url, &len, &cap, sep);
		dg_xappend(&url, &len, &cap, "base=");
		dg_xappend(&url, &len, &cap, o->base);
		dg_xappend(&shown, &slen, &scap, ssep);
		dg_xappend(&shown, &slen, &scap, "base=");
		dg_xappend(&shown, &slen, &scap, o->base);
		sep = ssep = "&";
	}
	if (o->symbols) {
		dg_xappend(&url, &len, &cap, sep);
		dg_xappend(&url, &len, &cap, "symbols=");
		dg_xappend(&url, &len, &cap, o->symbols);
		dg_xappend(&shown, &slen, &scap, ssep);
		dg_xappend(&shown, &slen, &scap, "symbols=");
		dg_xappend(&shown, &slen, &scap, o->symbols);
	}
	*out = url;
	*shown_out = shown;
	return 0;
}

/* ------------------------------------------------------------ locking */

/* Cron overlap: one fetching rate-fetch per database. The lock file sits
 * beside the database; the lock dies with the process. */
static int take_lock(const char *db_path, long wait_s, int *fd_out)
{
	char *path;
	size_t n = strlen(db_path) + sizeof(".rate-fetch.lock");
	struct timespec pause = {0, 100 * 1000 * 1000};
	long waited_ms = 0;
	int fd;

	path = dg_xmalloc(n);
	dg_xsnprintf(path, n, "%s.rate-fetch.lock", db_path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		dg_error("cannot create lock file %s: %s", dg_quoted_path(path),
			 strerror(errno));
		free(path);
		return DG_EXIT_CANTCREAT;
	}
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			dg_error("cannot lock %s: %s", dg_quoted_path(path),
				 strerror(errno));
			close(fd);
			free(path);
			return DG_EXIT_IOERR;
		}
		if (waited_ms >= wait_s * 1000) {
			dg_error("another rate-fetch is running on %s "
				 "(waited %ld s): try again later",
				 dg_quoted_path(db_path), wait_s);
			close(fd);
			free(path);
			return DG_EXIT_TEMPFAIL;
		}
		if (waited_ms == 0)
			dg_debug("waiting for another rate-fetch on %s",
				 dg_quoted_path(db_path));
		nanosleep(&pause, NULL);
		waited_ms += 100;
	}
	free(path);
	*fd_out = fd;
	return 0;
}

/* ------------------------------------------------------------ storing */

static void report(const char *provider, const struct dg_store_stats *s)
{
	char a[DG_DATE_SIZE], b[DG_DATE_SIZE];

	dg_format_date(s->first, a);
	dg_format_date(s->last, b);
	if (s->first == s->last)
		dg_info("%s %s: %zu quote%s, %zu new", provider, a, s->quotes,
			s->quotes == 1 ? "" : "s", s->fresh);
	else
		dg_info("%s %s..%s: %zu days, %zu quote%s, %zu new", provider,
			a, b, s->days, s->quotes, s->quotes == 1 ? "" : "s",
			s->fresh);
}

/* Parse and store one document in one transaction, with the fetch state
 * of url when it came over HTTP. */
static int load(sqlite3 *db, const struct options *o, const char *provider,
		const char *buf, size_t len, const char *name,
		const char *source, const char *url,
		const struct dg_http_resp *resp)
{
	/* --symbols filters an ECB feed here, not at the server: the
	 * validators of the whole feed must not claim the rest was stored,
	 * or the next run without --symbols would get a 304. */
	bool whole = !o->symbols || !is_ecb_provider(o->provider);
	struct dg_store_stats stats = {0};
	struct dg_quotes q = {0};
	char now_text[DG_RFC3339_SIZE];
	dg_time now;
	size_t i;
	int ret;

	if ((ret = dg_now(&now)))
		return ret;
	dg_format_rfc3339(now, now_text);
	if ((ret = dg_rates_parse(buf, len, o->format, name, &q)))
		return ret;
	if ((ret = dg_db_begin(db)))
		goto out;
	ret = dg_rates_store(db, provider, source, name, &q, o->symbols,
			     now_text, o->max_jump, &stats);
	if (!ret && url)
		ret = dg_fetch_state_save(db, url, resp, now_text, whole);
	if (!ret)
		ret = dg_db_commit(db);
	if (ret) {
		dg_db_rollback(db);
		goto out;
	}
	for (i = 0; i < stats.jumps; i++)
		dg_warn("rate jump %s", stats.jump_msgs[i]);
	report(provider, &stats);
	ret = stats.jumps ? DG_EXIT_FINDING : 0;
out:
	dg_store_stats_free(&stats);
	dg_quotes_free(&q);
	return ret;
}

/* The name quotes are stored under for a --provider name. */
/* ECB documents are stored as "ecb" whichever feed or file they came
 * from; anything else under the --provider name. A JSON document is
 * never the ECB's: NULL (and a message) rather than filing another
 * provider's rates under "ecb". */
static const char *stored_provider(const struct options *o, const char *buf,
				   size_t len, const char *name)
{
	enum dg_rate_format f = o->format;

	if (f == DG_RF_AUTO)
		f = dg_rate_format_detect(buf, len);
	if (f == DG_RF_ECB_XML || f == DG_RF_ECB_CSV)
		return "ecb";
	if (is_ecb_provider(o->provider)) {
		dg_error("%s: a JSON document is not an ECB feed: give "
			 "--provider frankfurter or json: nothing stored",
			 dg_escaped(name, DG_QUOTE_PATH_MAX));
		return NULL;
	}
	return dg_rate_provider_stored(o->provider);
}

static int fetch_file(sqlite3 *db, const struct options *o)
{
	const char *name = strcmp(o->file, "-") ? o->file : "<stdin>";
	const char *provider;
	char *buf = NULL;
	size_t len;
	int ret;

	if ((ret = read_all(o->file, o->http.max_size, false, &buf, &len)))
		return ret;
	provider = stored_provider(o, buf, len, name);
	ret = provider ? load(db, o, provider, buf, len, name, name, NULL, NULL)
		       : DG_EXIT_DATAERR;
	free(buf);
	return ret;
}

static int fetch_url(sqlite3 *db, const struct options *o)
{
	struct dg_http_resp resp = {0};
	char *url = NULL, *shown = NULL, *etag = NULL, *lm = NULL;
	char now_text[DG_RFC3339_SIZE];
	const char *provider;
	enum dg_http_outcome out;
	dg_time now;
	int ret;

	if ((ret = build_url(o, &url, &shown)))
		return ret;
	if (!o->force && (ret = dg_fetch_state_load(db, shown, &etag, &lm)))
		goto done;
	out = dg_http_get_retry(url, &o->http, etag, lm, &resp);
	switch (out) {
	case DG_HTTP_OK:
		provider = stored_provider(o, resp.body, resp.len, shown);
		ret = provider ? load(db, o, provider, resp.body, resp.len,
				      shown, shown, shown, &resp)
			       : DG_EXIT_DATAERR;
		break;
	case DG_HTTP_NOT_MODIFIED:
		if ((ret = dg_now(&now)))
			break;
		dg_format_rfc3339(now, now_text);
		if ((ret = dg_db_begin(db)))
			break;
		if ((ret = dg_fetch_state_save(db, shown, &resp, now_text,
					       false)) ||
		    (ret = dg_db_commit(db))) {
			dg_db_rollback(db);
			break;
		}
		dg_debug("%s not modified", dg_quoted_path(shown));
		ret = 0;
		break;
	case DG_HTTP_TRANSIENT:
		dg_error("cannot fetch %s: %s (after %d attempt%s): try "
			 "again later",
			 dg_quoted_path(shown), resp.error, o->http.retries + 1,
			 o->http.retries ? "s" : "");
		ret = DG_EXIT_TEMPFAIL;
		break;
	case DG_HTTP_PERMANENT:
		dg_error("cannot fetch %s: %s", dg_quoted_path(shown),
			 resp.error);
		ret = DG_EXIT_UNAVAILABLE;
		break;
	}
done:
	dg_http_resp_free(&resp);
	free(url);
	free(shown);
	free(etag);
	free(lm);
	return ret;
}

/* ------------------------------------------------------------ reading */

static int bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC)
		 : sqlite3_bind_null(st, i);
}

static int print_rates(sqlite3 *db, const struct options *o)
{
	static const char sql[] =
		"SELECT provider, base, quote, rate, as_of, fetched_at "
		"FROM rates r WHERE (?1 IS NULL OR provider = ?1) "
		"AND (?2 IS NULL OR base = ?2) AND (?3 IS NULL OR quote = ?3) "
		"AND (?4 IS NULL OR as_of >= ?4) AND (?5 IS NULL OR as_of <= "
		"?5) "
		"AND (?6 IS NULL OR as_of = (SELECT max(as_of) FROM rates x "
		"WHERE x.provider = r.provider AND x.base = r.base "
		"AND x.quote = r.quote AND (?5 IS NULL OR x.as_of <= ?5))) "
		"ORDER BY as_of, provider, base, quote";
	static const char *const cols[] = {"provider", "base",	"quote",
					   "rate",     "as_of", "fetched_at"};
	sqlite3_stmt *st = NULL;
	struct dg_out *out = NULL;
	char base[4] = "", quote[4] = "";
	const char *vals[6];
	int rc, ret = 0, i;

	if (o->pair) {
		memcpy(base, o->pair, 3);
		memcpy(quote, o->pair + 4, 3);
	}
	if ((ret = dg_db_prepare(db, sql, &st)))
		return ret;
	rc = bind_opt(st, 1,
		      o->provider_given ? dg_rate_provider_stored(o->provider)
					: NULL);
	if (rc == SQLITE_OK)
		rc = bind_opt(st, 2, o->pair ? base : NULL);
	if (rc == SQLITE_OK)
		rc = bind_opt(st, 3, o->pair ? quote : NULL);
	if (rc == SQLITE_OK)
		rc = bind_opt(st, 4, o->from);
	if (rc == SQLITE_OK)
		rc = bind_opt(st, 5, o->to);
	if (rc == SQLITE_OK)
		rc = bind_opt(st, 6, o->latest ? "" : NULL);
	if (rc != SQLITE_OK) {
		ret = dg_db_fail(db, rc, "cannot read rates");
		goto out;
	}
	if (o->mode == MODE_PRINT)
		out = dg_out_new(stdout, o->common.json, cols, 6);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < 6; i++)
			vals[i] = (const char *)sqlite3_column_text(st, i);
		if (out) {
			if ((ret = dg_out_row(out, vals)))
				goto out;
		} else if (printf("P %s %s %s %s\n", vals[4], vals[1], vals[3],
				  vals[2]) < 0) {
			dg_error("cannot write: %s", strerror(errno));
			ret = DG_EXIT_IOERR;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		ret = dg_db_fail(db, rc, "cannot read rates");
out:
	sqlite3_finalize(st);
	if (out) {
		int r = dg_out_finish(out, ret);

		if (!ret)
			ret = r;
	} else if (fflush(stdout) && !ret) {
		dg_error("cannot write: %s", strerror(errno));
		ret = DG_EXIT_IOERR;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	const char *path;
	sqlite3 *db = NULL;
	int ret, lock_fd = -1;

	dg_set_progname(argv[0]);
	parse_options(argc, argv, &o);
	/* a malformed DAIGOU_NOW is a usage error in every mode, as in the
	 * other tools: refused before the database is opened */
	{
		dg_time now;

		if ((ret = dg_now(&now)))
			return ret;
	}
	path = dg_db_path(o.common.db_path);

	if (o.mode != MODE_FETCH) {
		if ((ret = dg_db_open_ro(path, &db)))
			return ret;
		ret = print_rates(db, &o);
		dg_db_close(db);
		return ret;
	}
	if ((ret = dg_db_open(path, &db)))
		return ret;
	if (!(ret = take_lock(path, o.lock_wait_s, &lock_fd)))
		ret = o.file ? fetch_file(db, &o) : fetch_url(db, &o);
	dg_db_close(db);
	if (lock_fd >= 0)
		close(lock_fd);
	return ret;
}
