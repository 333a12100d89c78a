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
static long size_arg(const char *opt, const char *s)
{
	size_t n = strlen(s);
	long unit = 1;
	char digits[32];

	if (n > 0 && n < sizeof(digits)) {
		switch (s[n - 1]) {
		case 'k':
		case 'K':
			unit = 1024;
			break;
		case 'M':
			unit = 1024L * 1024;
			break;
		case 'G':
			unit = 1024L * 1024 * 1024;
			break;
		}
	}
	if (n == 0 || n >= sizeof(digits))
		dg_usage_error(usage, "%s needs a size, not %s", opt,
			       dg_quoted(s));
	memcpy(digits, s, n + 1);
	if (unit != 1)
		digits[n - 1] = '\0';
	return dg_number_arg(usage, opt, digits, 1, 1L << 40) * unit;
}

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
			o->http.max_size =
				(size_t)size_arg("--max-size", optarg);
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

static void append(char **s, size_t *len, size_t *cap, const char *t)
{
	size_t n = strlen(t);

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*s = dg_xrealloc(*s, *cap);
	}
	memcpy(*s + *len, t, n + 1);
	*len += n;
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
			append(&url, &len, &cap, o->url);
		} else {
			append(&url, &len, &cap, ECB_BASE_URL);
			append(&url, &len, &cap,
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
		append(&url, &len, &cap, o->url ? o->url : FRANKFURTER_URL);
		while (len > 0 && url[len - 1] == '/')
			url[--len] = '\0';
		append(&url, &len, &cap, "/");
		if (o->date) {
			append(&url, &len, &cap, o->date);
		} else if (o->from) {
			append(&url, &len, &cap, o->from);
			append(&url, &len, &cap, "..");
			append(&url, &len, &cap, o->to);
		} else {
			append(&url, &len, &cap, "latest");
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
			append(&url, &len, &cap, esc);
			append(&url, &len, &cap, p + 5);
			curl_free(esc);
			curl_easy_cleanup(h);
		} else {
			append(&url, &len, &cap, o->url);
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
		append(&url, &len, &cap, sep);
		append(&url, &len, &cap, "base=");
		append(&url, &len, &cap, o->base);
		append(&shown, &slen, &scap, ssep);
		append(&shown, &slen, &scap, "base=");
		append(&shown, &slen, &scap, o->base);
		sep = ssep = "&";
	}
	if (o->symbols) {
		append(&url, &len, &cap, sep);
		append(&url, &len, &cap, "symbols=");
		append(&url, &len, &cap, o->symbols);
		append(&shown, &slen, &scap, ssep);
		append(&shown, &slen, &scap, "symbols=");
		append(&shown, &slen, &scap, o->symbols);
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

/* Per pair: the newest quote this run stored, for the jump valve, and
 * where the pair's first new quote stands in the document (the valve
 * reports pairs in that order). */
struct newest {
	char base[4], quote[4];
	int32_t as_of;
	const struct dg_rate *rate;
	size_t first;
};

struct store_stats {
	size_t quotes, fresh, days, jumps;
	int32_t first, last;
	/* "EUR/USD: ecb moved more than ...", one per jump: warned only
	 * once the document is committed. */
	char **jump_msgs;
};

static void stats_free(struct store_stats *s)
{
	size_t i;

	for (i = 0; i < s->jumps; i++)
		free(s->jump_msgs[i]);
	free(s->jump_msgs);
	s->jump_msgs = NULL;
	s->jumps = 0;
}

/* printf into a string of its own size (malloc'd). */
static char *text_printf(const char *fmt, ...) DG_PRINTF(1, 2);

static char *text_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		dg_die(DG_EXIT_SOFTWARE, "internal error: cannot format text");
	s = dg_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static bool symbol_wanted(const char *symbols, const char *code)
{
	const char *p = symbols;

	if (!symbols)
		return true;
	for (; *p; p += *p == ',') {
		if (!strncmp(p, code, 3) && (p[3] == ',' || p[3] == '\0'))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

static int bind_texts(sqlite3_stmt *st, const char *const *v, int n)
{
	int i, rc = SQLITE_OK;

	sqlite3_reset(st);
	for (i = 0; i < n && rc == SQLITE_OK; i++)
		rc = sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
	return rc;
}

/*
 * A quote of the document in the order of the rates UNIQUE index
 * (provider, base, quote, as_of); provider is the same for the whole
 * document. Stored in that order, each insert lands at the end of its
 * pair's run in the index, and in a new database at the end of the
 * table and of the index, instead of all over both.
 */
struct row {
	uint64_t pair; /* base and quote, byte by byte: memcmp order */
	int32_t as_of;
	bool stored; /* already in the database, with the same value */
	size_t i;    /* its place in the document */
};

static uint64_t pair_key(const struct dg_quote *x)
{
	const unsigned char *b = (const unsigned char *)x->base;
	const unsigned char *q = (const unsigned char *)x->quote;

	return (uint64_t)b[0] << 40 | (uint64_t)b[1] << 32 |
	       (uint64_t)b[2] << 24 | (uint64_t)q[0] << 16 |
	       (uint64_t)q[1] << 8 | (uint64_t)q[2];
}

static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;

	if (a->pair != b->pair)
		return a->pair < b->pair ? -1 : 1;
	if (a->as_of != b->as_of)
		return a->as_of < b->as_of ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

/* The pairs of a document: an open-addressing table from a pair's key
 * to its place in the order the document first names them. */
struct pair_table {
	uint64_t *key; /* 0 marks an empty slot: no pair packs to 0 */
	size_t *idx;
	size_t cap, n;
};

static size_t pair_hash(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
}

static size_t pair_index(struct pair_table *t, uint64_t key)
{
	struct pair_table old = *t;
	size_t h, i;

	if (2 * (t->n + 1) > t->cap) {
		t->cap = old.cap ? 2 * old.cap : 64;
		t->key = dg_xcalloc(t->cap, sizeof(*t->key));
		t->idx = dg_xmalloc(t->cap * sizeof(*t->idx));
		for (i = 0; i < old.cap; i++) {
			if (!old.key[i])
				continue;
			h = pair_hash(old.key[i], t->cap);
			while (t->key[h])
				h = (h + 1) & (t->cap - 1);
			t->key[h] = old.key[i];
			t->idx[h] = old.idx[i];
		}
		free(old.key);
		free(old.idx);
	}
	for (h = pair_hash(key, t->cap); t->key[h]; h = (h + 1) & (t->cap - 1))
		if (t->key[h] == key)
			return t->idx[h];
	t->key[h] = key;
	t->idx[h] = t->n;
	return t->n++;
}

struct pair_rank {
	uint64_t key;
	size_t idx;
};

static int pair_rank_cmp(const void *pa, const void *pb)
{
	const struct pair_rank *a = pa, *b = pb;

	return (a->key > b->key) - (a->key < b->key);
}

/* One pair's rows by day: as they are when the document runs oldest
 * first, reversed when it runs newest first (the ECB feeds), sorted
 * otherwise. */
static void sort_days(struct row *r, size_t n)
{
	bool up = true, down = true;
	struct row t;
	size_t i;

	for (i = 1; i < n && (up || down); i++) {
		if (r[i].as_of <= r[i - 1].as_of)
			up = false;
		if (r[i].as_of >= r[i - 1].as_of)
			down = false;
	}
	if (up)
		return;
	if (!down) {
		qsort(r, n, sizeof(*r), row_cmp);
		return;
	}
	for (i = 0; i < n / 2; i++) {
		t = r[i];
		r[i] = r[n - 1 - i];
		r[n - 1 - i] = t;
	}
}

/* Rows into index order in linear time for the usual document: a stable
 * counting sort by pair (a document names few), then sort_days. */
static void sort_rows(struct row *r, size_t n)
{
	struct pair_table t = {NULL, NULL, 0, 0};
	struct pair_rank *rank;
	struct row *out;
	size_t *pi, *start, i, a, b, pos = 0;

	if (n == 0)
		return;
	pi = dg_xmalloc(n * sizeof(*pi));
	for (i = 0; i < n; i++)
		pi[i] = pair_index(&t, r[i].pair);
	rank = dg_xmalloc(t.n * sizeof(*rank));
	start = dg_xcalloc(t.n, sizeof(*start));
	for (i = 0; i < n; i++) {
		rank[pi[i]].key = r[i].pair;
		rank[pi[i]].idx = pi[i];
		start[pi[i]]++;
	}
	qsort(rank, t.n, sizeof(*rank), pair_rank_cmp);
	for (i = 0; i < t.n; i++) {
		size_t count = start[rank[i].idx];

		start[rank[i].idx] = pos;
		pos += count;
	}
	out = dg_xmalloc(n * sizeof(*out));
	for (i = 0; i < n; i++)
		out[start[pi[i]]++] = r[i];
	for (a = 0; a < n; a = b) {
		for (b = a + 1; b < n && out[b].pair == out[a].pair; b++)
			;
		sort_days(out + a, b - a);
	}
	memcpy(r, out, n * sizeof(*r));
	free(out);
	free(start);
	free(rank);
	free(pi);
	free(t.key);
	free(t.idx);
}

static int newest_cmp(const void *pa, const void *pb)
{
	const struct newest *a = pa, *b = pb;

	return (a->first > b->first) - (a->first < b->first);
}

/* The quotes --symbols keeps, counted in document order, then sorted
 * into index order. */
static struct row *collect(const struct dg_quotes *q, const char *symbols,
			   struct store_stats *stats, size_t *n_out)
{
	struct row *r = dg_xmalloc((q->n ? q->n : 1) * sizeof(*r));
	int32_t last_day = INT32_MIN;
	size_t i, n = 0;

	stats->first = INT32_MAX;
	stats->last = INT32_MIN;
	for (i = 0; i < q->n; i++) {
		const struct dg_quote *x = &q->v[i];

		if (!symbol_wanted(symbols, x->quote))
			continue;
		stats->quotes++;
		if (x->as_of != last_day) {
			/* documents group quotes by day */
			stats->days++;
			last_day = x->as_of;
		}
		if (x->as_of < stats->first)
			stats->first = x->as_of;
		if (x->as_of > stats->last)
			stats->last = x->as_of;
		r[n].pair = pair_key(x);
		r[n].as_of = x->as_of;
		r[n].stored = false;
		r[n].i = i;
		n++;
	}
	sort_rows(r, n);
	*n_out = n;
	return r;
}

/* A quote of the document whose value differs from the stored one. */
struct conflict {
	size_t i;
	char *stored; /* the stored text, NULL when there is no conflict */
};

/*
 * Marks the rows of one pair, r[0..n), that are stored already, read in
 * one range query rather than one query per quote. The same value, even
 * as other text (the CSV's 4.763 for the XML's 4.7630), is no news; any
 * other value is a conflict, and the one that comes first in the
 * document is kept in *bad.
 */
static int match_stored(sqlite3 *db, sqlite3_stmt *get, const char *provider,
			const struct dg_quotes *q, struct row *r, size_t n,
			struct conflict *bad)
{
	const struct dg_quote *lo = &q->v[r[0].i], *hi = &q->v[r[n - 1].i];
	const char *vals[] = {provider, lo->base, lo->quote, lo->as_of_text,
			      hi->as_of_text};
	const struct dg_quote *x;
	struct dg_rate stored;
	const char *day, *rate;
	size_t k = 0;
	int rc;

	if ((rc = bind_texts(get, vals, 5)) != SQLITE_OK)
		return dg_db_fail(db, rc, "cannot read stored quotes");
	while ((rc = sqlite3_step(get)) == SQLITE_ROW) {
		day = (const char *)sqlite3_column_text(get, 0);
		rate = (const char *)sqlite3_column_text(get, 1);
		if (!day)
			continue;
		while (k < n && strcmp(q->v[r[k].i].as_of_text, day) < 0)
			k++;
		if (k == n || strcmp((x = &q->v[r[k].i])->as_of_text, day))
			continue;
		r[k].stored = true;
		if (!rate)
			rate = "";
		if (strcmp(rate, x->rate.text) &&
		    (dg_rate_parse(rate, &stored) ||
		     dg_rate_cmp(&stored, &x->rate)) &&
		    (!bad->stored || r[k].i < bad->i)) {
			free(bad->stored);
			bad->stored = dg_xstrdup(rate);
			bad->i = r[k].i;
		}
		k++;
	}
	sqlite3_reset(get);
	return rc == SQLITE_DONE
		       ? 0
		       : dg_db_fail(db, rc, "cannot read stored quotes");
}

/*
 * Rows per INSERT statement, at most. One statement stores many rows, so
 * that SQLite keeps its cursors on the last page of the table and of the
 * index from one row to the next instead of descending from the root
 * for each, and pays for a statement's start and end once per batch. A
 * batch is one pair's, so base and quote are bound once for it; a
 * pair's last rows go in batches of 64, 32, ... 1, one prepared
 * statement for each size.
 */
#define INSERT_ROWS_LOG2 7
#define INSERT_ROWS	 (1 << INSERT_ROWS_LOG2)

/* "INSERT ... VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7), (?1, ?2, ?3, ?4, ?5,
 * ?8, ?9), ..." for n rows: made of constants only, no input in it. */
static char *insert_sql(size_t n)
{
	char *sql = NULL, tuple[64];
	size_t len = 0, cap = 0, j;

	append(&sql, &len, &cap,
	       "INSERT INTO rates (provider, fetched_at, source, base, quote, "
	       "rate, as_of) VALUES ");
	for (j = 0; j < n; j++) {
		dg_xsnprintf(tuple, sizeof(tuple),
			     "%s(?1, ?2, ?3, ?4, ?5, ?%zu, ?%zu)",
			     j ? ", " : "", 6 + 2 * j, 7 + 2 * j);
		append(&sql, &len, &cap, tuple);
	}
	return sql;
}

struct inserter {
	sqlite3 *db;
	const char *provider, *fetched_at, *source;
	sqlite3_stmt *st[INSERT_ROWS_LOG2 + 1]; /* st[b]: 1 << b rows */
};

static void inserter_free(struct inserter *w)
{
	size_t b;

	for (b = 0; b <= INSERT_ROWS_LOG2; b++)
		sqlite3_finalize(w->st[b]);
}

/* One pair's quotes v[0..n), in index order. */
static int insert_pair(struct inserter *w, const struct dg_quote *const *v,
		       size_t n)
{
	size_t done, k, j, b = INSERT_ROWS_LOG2;
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_OK, ret;
	char *sql;

	for (done = 0; done < n && rc == SQLITE_OK; done += k) {
		while ((k = (size_t)1 << b) > n - done)
			b--;
		if (!w->st[b]) {
			sql = insert_sql(k);
			ret = dg_db_prepare(w->db, sql, &w->st[b]);
			free(sql);
			if (ret)
				return ret;
			rc = sqlite3_bind_text(w->st[b], 1, w->provider, -1,
					       SQLITE_STATIC);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_text(w->st[b], 2,
						       w->fetched_at, -1,
						       SQLITE_STATIC);
			if (rc == SQLITE_OK)
				rc = dg_db_bind_text(w->st[b], 3, w->source);
		}
		st = w->st[b];
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(st, 4, v[done]->base, -1,
					       SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(st, 5, v[done]->quote, -1,
					       SQLITE_STATIC);
		for (j = 0; j < k && rc == SQLITE_OK; j++) {
			rc = sqlite3_bind_text(st, 6 + 2 * (int)j,
					       v[done + j]->rate.text, -1,
					       SQLITE_STATIC);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_text(st, 7 + 2 * (int)j,
						       v[done + j]->as_of_text,
						       -1, SQLITE_STATIC);
		}
		if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
			rc = sqlite3_reset(st);
	}
	if (rc == SQLITE_OK)
		return 0;
	ret = dg_db_fail(w->db, rc, "cannot store a quote");
	sqlite3_reset(st);
	return ret;
}

/* Per pair, r[0..n): the rows that are not stored yet go to fresh, and
 * the newest of them, with where the first of them stands in the
 * document, to *newest. */
static void pick_fresh(const struct dg_quotes *q, const struct row *r, size_t n,
		       const struct dg_quote **fresh, size_t *nfresh,
		       struct newest *newest)
{
	const struct dg_quote *x;
	size_t k;

	for (k = 0; k < n; k++) {
		if (r[k].stored)
			continue;
		x = &q->v[r[k].i];
		fresh[(*nfresh)++] = x;
		if (!newest->rate || r[k].i < newest->first)
			newest->first = r[k].i;
		/* rows run oldest first: the last one is the newest */
		memcpy(newest->base, x->base, 4);
		memcpy(newest->quote, x->quote, 4);
		newest->as_of = x->as_of;
		newest->rate = &x->rate;
	}
}

/* The valve: the newest stored quote of each pair against the same pair's
 * previous as_of quote of the provider: one query per pair, not per quote.
 * Inside the store transaction: the events are written in it, the warnings
 * kept in stats for after the commit, so that a document that is not
 * stored warns of nothing. */
static int check_jumps(sqlite3 *db, const char *provider, const char *pct,
		       const struct newest *v, size_t n,
		       struct store_stats *stats)
{
	static const char sql[] =
		"SELECT rate, as_of FROM rates WHERE provider = ?1 AND "
		"base = ?2 AND quote = ?3 AND as_of < ?4 "
		"ORDER BY as_of DESC LIMIT 1";
	sqlite3_stmt *st = NULL;
	char day[DG_DATE_SIZE], subject[8], *detail;
	struct dg_rate prev;
	size_t i;
	int rc, ret;

	if ((ret = dg_db_prepare(db, sql, &st)))
		return ret;
	for (i = 0; i < n; i++) {
		dg_format_date(v[i].as_of, day);
		const char *vals[] = {provider, v[i].base, v[i].quote, day};

		rc = bind_texts(st, vals, 4);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			continue;
		if (rc != SQLITE_ROW) {
			ret = dg_db_fail(db, rc, "cannot read previous quotes");
			goto out;
		}
		if (dg_rate_parse((const char *)sqlite3_column_text(st, 0),
				  &prev)) {
			dg_error("stored rate for %s/%s is not a rate",
				 v[i].base, v[i].quote);
			ret = DG_EXIT_SOFTWARE;
			goto out;
		}
		if (dg_rate_moved_more_than(v[i].rate, &prev, pct) != 1)
			continue;
		dg_xsnprintf(subject, sizeof(subject), "%s/%s", v[i].base,
			     v[i].quote);
		detail = text_printf(
			"%s moved more than %s %% from %s on %s to %s on %s",
			provider, pct, prev.text,
			(const char *)sqlite3_column_text(st, 1),
			v[i].rate->text, day);
		ret = dg_db_event(db, "rate_jump", subject, detail);
		if (!ret) {
			stats->jump_msgs = dg_xrealloc(
				stats->jump_msgs,
				(stats->jumps + 1) * sizeof(*stats->jump_msgs));
			stats->jump_msgs[stats->jumps++] =
				text_printf("%s: %s", subject, detail);
		}
		free(detail);
		if (ret)
			goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/*
 * The quotes of a document that are not stored yet, sorted into the
 * order of the rates index, through one prepared INSERT. What is stored
 * already is read per pair first: a differing value refuses the whole
 * document before anything is written.
 */
static int store(sqlite3 *db, const char *provider, const char *source,
		 const char *name, const struct dg_quotes *q,
		 const char *symbols, const char *fetched_at, const char *pct,
		 struct store_stats *stats)
{
	static const char get_sql[] =
		"SELECT as_of, rate FROM rates WHERE provider = ?1 AND "
		"base = ?2 AND quote = ?3 AND as_of BETWEEN ?4 AND ?5 "
		"ORDER BY as_of";
	struct inserter w = {db, provider, fetched_at, source, {NULL}};
	const struct dg_quote **fresh = NULL;
	sqlite3_stmt *get = NULL;
	struct conflict bad = {0, NULL};
	struct newest *newest = NULL;
	size_t n, ngroups = 0, nnewest = 0, i, j;
	struct row *r;
	int ret;

	r = collect(q, symbols, stats, &n);
	if (n == 0) {
		dg_error("%s: no quotes left after --symbols: nothing stored",
			 dg_escaped(name, DG_QUOTE_PATH_MAX));
		ret = DG_EXIT_DATAERR;
		goto out;
	}
	if ((ret = dg_db_prepare(db, get_sql, &get)))
		goto out;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && r[j].pair == r[i].pair; j++)
			;
		if ((ret = match_stored(db, get, provider, q, r + i, j - i,
					&bad)))
			goto out;
		ngroups++;
	}
	if (bad.stored) {
		const struct dg_quote *x = &q->v[bad.i];

		dg_error("%s: %s/%s on %s is %s, but %s is stored: "
			 "nothing stored",
			 dg_escaped(name, DG_QUOTE_PATH_MAX), x->base, x->quote,
			 x->as_of_text, x->rate.text,
			 dg_escaped(bad.stored, DG_QUOTE_MAX));
		ret = DG_EXIT_DATAERR;
		goto out;
	}
	fresh = dg_xmalloc(n * sizeof(*fresh));
	newest = dg_xcalloc(ngroups, sizeof(*newest));
	for (i = 0; i < n; i = j) {
		size_t nfresh = 0;

		for (j = i + 1; j < n && r[j].pair == r[i].pair; j++)
			;
		pick_fresh(q, r + i, j - i, fresh, &nfresh, &newest[nnewest]);
		if (!nfresh)
			continue;
		nnewest++;
		stats->fresh += nfresh;
		if ((ret = insert_pair(&w, fresh, nfresh)))
			goto out;
	}
	qsort(newest, nnewest, sizeof(*newest), newest_cmp);
	ret = check_jumps(db, provider, pct, newest, nnewest, stats);
out:
	free(r);
	free(newest);
	free(fresh);
	free(bad.stored);
	inserter_free(&w);
	sqlite3_finalize(get);
	return ret;
}

static int save_fetch_state(sqlite3 *db, const char *url,
			    const struct dg_http_resp *r, const char *now,
			    bool changed)
{
	static const char sql[] =
		"INSERT INTO fetch_state (url, etag, last_modified, "
		"last_status, checked_at, changed_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
		"ON CONFLICT (url) DO UPDATE SET "
		"etag = coalesce(excluded.etag, etag), "
		"last_modified = coalesce(excluded.last_modified, "
		"last_modified), last_status = excluded.last_status, "
		"checked_at = excluded.checked_at, "
		"changed_at = coalesce(excluded.changed_at, changed_at)";
	sqlite3_stmt *st = NULL;
	int rc, ret;

	if ((ret = dg_db_prepare(db, sql, &st)))
		return ret;
	rc = sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && changed) {
		/* a 200 replaces both validators, absent ones included */
		rc = sqlite3_bind_text(st, 2, r->etag ? r->etag : "", -1,
				       SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(
				st, 3, r->last_modified ? r->last_modified : "",
				-1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, r->status);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && changed)
		rc = sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	ret = rc == SQLITE_DONE ? 0
				: dg_db_fail(db, rc, "cannot save fetch state");
	sqlite3_finalize(st);
	return ret;
}

/* Stored validators for url: malloc'd copies (NULL when none). */
static int load_fetch_state(sqlite3 *db, const char *url, char **etag,
			    char **last_modified)
{
	static const char sql[] =
		"SELECT etag, last_modified FROM fetch_state WHERE url = ?1";
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int rc, ret;

	*etag = *last_modified = NULL;
	if ((ret = dg_db_prepare(db, sql, &st)))
		return ret;
	rc = sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((t = sqlite3_column_text(st, 0)) && *t)
			*etag = dg_xstrdup((const char *)t);
		if ((t = sqlite3_column_text(st, 1)) && *t)
			*last_modified = dg_xstrdup((const char *)t);
		rc = SQLITE_DONE;
	}
	ret = rc == SQLITE_DONE ? 0
				: dg_db_fail(db, rc, "cannot read fetch state");
	sqlite3_finalize(st);
	return ret;
}

static void report(const char *provider, const struct store_stats *s)
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
	struct store_stats stats = {0};
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
	ret = store(db, provider, source, name, &q, o->symbols, now_text,
		    o->max_jump, &stats);
	if (!ret && url)
		ret = save_fetch_state(db, url, resp, now_text, whole);
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
	stats_free(&stats);
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
	if (!o->force && (ret = load_fetch_state(db, shown, &etag, &lm)))
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
		if ((ret = save_fetch_state(db, shown, &resp, now_text,
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
