/*
 * cli.c - messages, exit statuses, common options and the clock.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daigou.h"

static const char *progname = "daigou";
static int verbosity;

/* This thread's messages, held while it works beside another (see
 * dg_messages_hold). */
static _Thread_local bool holding;
static _Thread_local char *held;
static _Thread_local size_t held_len, held_cap;

int dg_exit_worst(int a, int b)
{
	/* 0 < 1 (a finding) < any error; between errors the larger code
	 * wins except that 75 (retry later) yields to a permanent error. */
	if (a == b)
		return a;
	if (a == DG_EXIT_OK || b == DG_EXIT_OK)
		return a ? a : b;
	if (a == DG_EXIT_FINDING || b == DG_EXIT_FINDING)
		return a == DG_EXIT_FINDING ? b : a;
	if (a == DG_EXIT_TEMPFAIL || b == DG_EXIT_TEMPFAIL)
		return a == DG_EXIT_TEMPFAIL ? b : a;
	return a > b ? a : b;
}

void dg_set_progname(const char *argv0)
{
	struct sigaction sa;
	const char *slash;

	/* Past a file-size limit (ulimit -f) a write then fails with EFBIG
	 * and is reported like a full disk, instead of the signal killing
	 * the process without a word. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGXFSZ, &sa, NULL);
	if (!argv0 || !*argv0)
		return;
	slash = strrchr(argv0, '/');
	progname = slash ? slash + 1 : argv0;
}

const char *dg_progname(void)
{
	return progname;
}

void dg_set_verbosity(int level)
{
	verbosity = level;
}

int dg_verbosity(void)
{
	return verbosity;
}

static void vmessage(const char *prefix, const char *fmt, va_list ap)
	DG_PRINTF(2, 0);
static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
	if (holding) {
		char *text = dg_xvasprintf(fmt, ap);

		dg_xappend(&held, &held_len, &held_cap, progname);
		dg_xappend(&held, &held_len, &held_cap, ": ");
		dg_xappend(&held, &held_len, &held_cap, prefix);
		dg_xappend(&held, &held_len, &held_cap, text);
		dg_xappend(&held, &held_len, &held_cap, "\n");
		free(text);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "%s: %s", progname, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void dg_die(int status, const char *fmt, ...)
{
	va_list ap;

	holding = false; /* the last word is never held */
	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
	exit(status);
}

void dg_messages_hold(void)
{
	holding = true;
}

char *dg_messages_release(void)
{
	char *text = held ? held : dg_xstrdup("");

	holding = false;
	held = NULL;
	held_len = held_cap = 0;
	return text;
}

void dg_messages_print(const char *text)
{
	if (!*text)
		return;
	fflush(stdout);
	fputs(text, stderr);
}

void dg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

void dg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
}

void dg_info(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

void dg_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

void *dg_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		dg_die(DG_EXIT_SOFTWARE, "out of memory (%zu bytes)", n);
	return p;
}

void *dg_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		dg_die(DG_EXIT_SOFTWARE, "out of memory (%zu x %zu bytes)", n,
		       size);
	return p;
}

void *dg_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		dg_die(DG_EXIT_SOFTWARE, "out of memory (%zu bytes)", n);
	return q;
}

char *dg_xstrdup(const char *s)
{
	return dg_xstrndup(s, strlen(s));
}

void dg_xappend(char **s, size_t *len, size_t *cap, const char *t)
{
	size_t n = strlen(t);

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*s = dg_xrealloc(*s, *cap);
	}
	memcpy(*s + *len, t, n + 1);
	*len += n;
}

char *dg_xstrndup(const char *s, size_t n)
{
	char *p = dg_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * Untrusted text in messages. Eight rotating slots, so that one message
 * can quote several texts; each is allocated to fit, and bounded because
 * the text is cut at a maximum whatever its length. Each thread has its
 * own slots (a parse thread quotes while another prints).
 */
#define QUOTE_SLOTS 8

static _Thread_local char *slots[QUOTE_SLOTS];
static _Thread_local unsigned next_slot;

void dg_quote_release(void)
{
	unsigned i;

	for (i = 0; i < QUOTE_SLOTS; i++) {
		free(slots[i]);
		slots[i] = NULL;
	}
}

static const char *quote_cut(const char *s, size_t len, size_t max, bool quote)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = len > max ? max : len, size = n * 4 + 48;
	char **slot = &slots[next_slot++ % QUOTE_SLOTS], *p;

	if (!s)
		return "(none)";
	free(*slot);
	*slot = p = dg_xmalloc(size);
	if (quote)
		*p++ = '\'';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' || (quote && c == '\'')) {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			*p++ = '\\';
			*p++ = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		} else if (c < 0x20 || c >= 0x7f) {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else {
			*p++ = (char)c;
		}
	}
	if (quote)
		*p++ = '\'';
	*p = '\0';
	if (n < len)
		snprintf(p, size - (size_t)(p - *slot), "... (%zu bytes)", len);
	return *slot;
}

const char *dg_quotedn(const char *s, size_t len)
{
	return quote_cut(s, len, DG_QUOTE_MAX, true);
}

const char *dg_quoted(const char *s)
{
	return quote_cut(s, s ? strlen(s) : 0, DG_QUOTE_MAX, true);
}

const char *dg_quoted_path(const char *path)
{
	return quote_cut(path, path ? strlen(path) : 0, DG_QUOTE_PATH_MAX,
			 true);
}

const char *dg_escaped(const char *s, size_t max)
{
	return quote_cut(s, s ? strlen(s) : 0, max, false);
}

void dg_xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		dg_die(DG_EXIT_SOFTWARE, "internal error: text truncated");
}

bool dg_common_option(struct dg_common *c, int opt, const char *arg,
		      const char *usage)
{
	switch (opt) {
	case DG_OPT_DB:
		c->db_path = arg;
		return true;
	case DG_OPT_JSON:
		c->json = true;
		return true;
	case 'q':
		verbosity = -1;
		return true;
	case 'v':
		if (verbosity < 0)
			verbosity = 0;
		verbosity++;
		return true;
	case 'h':
		fputs(usage, stdout);
		exit(fflush(stdout) || ferror(stdout) ? DG_EXIT_IOERR
						      : DG_EXIT_OK);
	case DG_OPT_VERSION:
		printf("%s (daigou-tools) %s\n", progname, DG_VERSION);
		exit(fflush(stdout) || ferror(stdout) ? DG_EXIT_IOERR
						      : DG_EXIT_OK);
	default:
		return false;
	}
}

void dg_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
	fputs(usage, stderr);
	exit(DG_EXIT_USAGE);
}

/* The long option named by the command-line word arg ("--na" or
 * "--name=value"): the one with val whose name arg abbreviates, or NULL. */
static const struct option *long_option(const struct option *longopts,
					const char *arg, int val)
{
	size_t n = strcspn(arg + 2, "=");

	for (; longopts && longopts->name; longopts++)
		if (longopts->val == val && !longopts->flag &&
		    !strncmp(longopts->name, arg + 2, n))
			return longopts;
	return NULL;
}

/* How many long options "--na" abbreviates; 1 for an exact name. */
static int long_matches(const struct option *longopts, const char *arg)
{
	size_t n = strcspn(arg + 2, "=");
	int count = 0;

	for (; longopts && longopts->name; longopts++) {
		if (strncmp(longopts->name, arg + 2, n))
			continue;
		if (!longopts->name[n])
			return 1;
		count++;
	}
	return count;
}

/*
 * getopt_long reports an error as ':' (a missing argument: the option
 * string starts with ':') or '?', with optopt the option's character or
 * long option value, 0 for an unknown or ambiguous long option. The word
 * of a long option is then argv[optind - 1].
 */
static void option_error(int c, int argc, char *const *argv,
			 const struct option *longopts, const char *usage)
{
	const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	bool is_long = word[0] == '-' && word[1] == '-' && word[2];
	char shortname[3] = {'-', (char)optopt, '\0'};
	const struct option *lo =
		is_long ? long_option(longopts, word, optopt) : NULL;
	/* the long option as typed, without its "=value" */
	const char *typed = dg_quotedn(word, strcspn(word, "="));

	if (c == ':' && lo)
		dg_usage_error(usage, "option '--%s' needs an argument",
			       lo->name);
	if (c == ':')
		dg_usage_error(usage, "option %s needs an argument",
			       is_long ? typed : dg_quotedn(shortname, 2));
	if (optopt && lo && lo->has_arg == no_argument && strchr(word, '='))
		dg_usage_error(usage, "option '--%s' takes no argument",
			       lo->name);
	if (optopt)
		dg_usage_error(usage, "unknown option %s",
			       dg_quotedn(shortname, 2));
	if (is_long && long_matches(longopts, word) > 1)
		dg_usage_error(usage, "option %s is ambiguous", typed);
	dg_usage_error(usage, "unknown option %s", typed);
}

int dg_getopt(int argc, char *const *argv, const char *shortopts,
	      const struct option *longopts, const char *usage)
{
	size_t n = strlen(shortopts);
	char *spec = dg_xmalloc(n + 2);
	int c;

	/* getopt's own message would come before ours, in other words. */
	opterr = 0;
	spec[0] = ':';
	memcpy(spec + 1, shortopts, n + 1);
	c = getopt_long(argc, argv, spec, longopts, NULL);
	free(spec);
	if (c == '?' || c == ':')
		option_error(c, argc, argv, longopts, usage);
	return c;
}

/* ---------------------------------------------------------------- time */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), exact for any year of interest. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp, yy;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

static int days_in_month(int y, int m)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

/* Exactly n ASCII digits at s. */
static int fixed_digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "YYYY-MM-DD" at s (not necessarily terminated there). */
static int parse_ymd(const char *s, int *y, int *m, int *d)
{
	if (fixed_digits(s, 4, y) || s[4] != '-' || fixed_digits(s + 5, 2, m) ||
	    s[7] != '-' || fixed_digits(s + 8, 2, d))
		return -1;
	if (*y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return -1;
	return 0;
}

int dg_parse_date(const char *s, int32_t *days)
{
	int y, m, d;

	if (strlen(s) != 10 || parse_ymd(s, &y, &m, &d))
		return -1;
	*days = (int32_t)days_from_civil(y, m, d);
	return 0;
}

/* Four digits hold the years 0 to 9999: any other text would be wrong or
 * would sort wrongly. The parsers never make such a day; a caller may
 * format a placeholder (INT32_MIN for "no day") and not use the text. */
static bool formattable_day(int64_t days)
{
	return days >= days_from_civil(0, 1, 1) &&
	       days <= days_from_civil(9999, 12, 31);
}

void dg_format_date(int32_t days, char buf[DG_DATE_SIZE])
{
	int y, m, d;

	if (!formattable_day(days)) {
		buf[0] = '\0';
		return;
	}
	civil_from_days(days, &y, &m, &d);
	dg_xsnprintf(buf, DG_DATE_SIZE, "%04d-%02d-%02d", y, m, d);
}

int dg_weekday(int32_t days)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	int w = (int)((days % 7 + 7 + 3) % 7);

	return w;
}

int dg_parse_hms(const char *s)
{
	int h, mi, sec;

	if (fixed_digits(s, 2, &h) || s[2] != ':' ||
	    fixed_digits(s + 3, 2, &mi) || s[5] != ':' ||
	    fixed_digits(s + 6, 2, &sec) || h > 23 || mi > 59 || sec > 59)
		return -1;
	return h * 3600 + mi * 60 + sec;
}

int dg_parse_rfc3339(const char *s, dg_time *out)
{
	int y, mo, d, hms, oh = 0, om = 0;
	const char *p;
	int64_t t;

	if (strlen(s) < 20 || parse_ymd(s, &y, &mo, &d))
		return -1;
	if (s[10] != 'T' && s[10] != 't')
		return -1;
	if ((hms = dg_parse_hms(s + 11)) < 0)
		return -1;
	p = s + 19;
	if (*p == '.') {
		/* Fractions of a second are accepted and dropped. */
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
		/* UTC */
	} else if ((p[0] == '+' || p[0] == '-') && strlen(p) == 6 &&
		   !fixed_digits(p + 1, 2, &oh) && p[3] == ':' &&
		   !fixed_digits(p + 4, 2, &om) && oh <= 23 && om <= 59) {
		if (p[0] == '-') {
			oh = -oh;
			om = -om;
		}
	} else {
		return -1;
	}
	t = days_from_civil(y, mo, d) * 86400 + hms;
	t -= (int64_t)oh * 3600 + (int64_t)om * 60;
	/* An offset can carry a time out of the years this parser reads
	 * (9999-12-31T23:00:00-02:00): it could not be stored as text that
	 * reads back. */
	if (t < days_from_civil(1, 1, 1) * 86400 ||
	    t > days_from_civil(9999, 12, 31) * 86400 + 86399)
		return -2;
	*out = t;
	return 0;
}

void dg_format_rfc3339(dg_time t, char buf[DG_RFC3339_SIZE])
{
	int64_t days = t / 86400 - (t % 86400 < 0), rem;
	int y, m, d;

	if (!formattable_day(days)) {
		buf[0] = '\0';
		return;
	}
	rem = t - days * 86400;
	civil_from_days(days, &y, &m, &d);
	dg_xsnprintf(buf, DG_RFC3339_SIZE, "%04d-%02d-%02dT%02d:%02d:%02dZ", y,
		     m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
		     (int)(rem % 60));
}

int dg_now(dg_time *out)
{
	const char *env = getenv("DAIGOU_NOW");
	struct timespec ts;

	if (env) {
		switch (dg_parse_rfc3339(env, out)) {
		case 0:
			return 0;
		case -2:
			dg_error("DAIGOU_NOW %s is out of range: want a time "
				 "from 0001-01-01T00:00:00Z to "
				 "9999-12-31T23:59:59Z",
				 dg_quoted(env));
			return DG_EXIT_USAGE;
		default:
			dg_error("malformed DAIGOU_NOW %s: want RFC 3339 "
				 "such as 2026-06-10T09:09:24Z",
				 dg_quoted(env));
			return DG_EXIT_USAGE;
		}
	}
	if (clock_gettime(CLOCK_REALTIME, &ts)) {
		dg_error("cannot read the clock: %s", strerror(errno));
		return DG_EXIT_SOFTWARE;
	}
	*out = ts.tv_sec;
	return 0;
}

int dg_parse_duration(const char *s, int64_t *seconds)
{
	int64_t v = 0, unit = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0':
	case 's':
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return -1;
	}
	if (*p && p[1] != '\0')
		return -1;
	if (v > INT64_MAX / unit)
		return -1;
	*seconds = v * unit;
	return 0;
}

long dg_number_arg(const char *usage, const char *opt, const char *s, long min,
		   long max)
{
	long v = 0;
	const char *p = s;

	if (!*p)
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > (max - (*p - '0')) / 10)
			goto bad;
		v = v * 10 + (*p - '0');
	}
	if (v >= min)
		return v;
bad:
	dg_usage_error(usage, "%s needs a whole number from %ld to %ld, not %s",
		       opt, min, max, dg_quoted(s));
}

int64_t dg_size_arg(const char *usage, const char *opt, const char *s)
{
	int64_t v;

	if (dg_size_parse(s, &v) || v <= 0)
		dg_usage_error(usage,
			       "%s needs a size such as 50M, 512k or 20000, "
			       "not %s",
			       opt, dg_quoted(s));
	return v;
}

void dg_currency_arg(const char *usage, const char *opt, const char *code)
{
	if (!dg_currency_lookup(code))
		dg_usage_error(usage, "%s: unknown currency %s", opt,
			       dg_quoted(code));
}

void dg_date_range_arg(const char *usage, const char *from, const char *to)
{
	int32_t a, b;

	if (from && to && !dg_parse_date(from, &a) && !dg_parse_date(to, &b) &&
	    a > b)
		dg_usage_error(usage, "--from %s is after --to %s", from, to);
}
