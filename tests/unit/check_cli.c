/* Unit tests for cli.c: exit statuses, the clock, dates, durations,
 * option errors. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

static const struct {
	const char *text;
	long long want; /* seconds since the epoch */
	const char *formatted;
} good_times[] = {
	{"1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00Z"},
	{"2026-06-10T09:09:24Z", 1781082564LL, "2026-06-10T09:09:24Z"},
	{"2000-02-29T23:59:59Z", 951868799LL, "2000-02-29T23:59:59Z"},
	{"2026-06-10T11:09:24+02:00", 1781082564LL, "2026-06-10T09:09:24Z"},
	{"2026-06-10T04:09:24-05:00", 1781082564LL, "2026-06-10T09:09:24Z"},
	{"2026-06-10T09:09:24.123Z", 1781082564LL, "2026-06-10T09:09:24Z"},
	{"2026-06-10t09:09:24z", 1781082564LL, "2026-06-10T09:09:24Z"},
	{"1969-12-31T23:59:59Z", -1, "1969-12-31T23:59:59Z"},
	{"9999-12-31T23:59:59Z", 253402300799LL, "9999-12-31T23:59:59Z"},
	/* the ends of the range, reached through an offset */
	{"9999-12-31T21:59:59-02:00", 253402300799LL, "9999-12-31T23:59:59Z"},
	{"0001-01-01T01:00:00+01:00", -62135596800LL, "0001-01-01T00:00:00Z"},
	{"0001-01-01T00:00:00Z", -62135596800LL, "0001-01-01T00:00:00Z"},
};

START_TEST(test_rfc3339_good)
{
	char buf[DG_RFC3339_SIZE];
	dg_time t = 42;

	ck_assert_int_eq(dg_parse_rfc3339(good_times[_i].text, &t), 0);
	ck_assert_int_eq(t, good_times[_i].want);
	dg_format_rfc3339(t, buf);
	ck_assert_str_eq(buf, good_times[_i].formatted);
}
END_TEST

static const char *const bad_times[] = {
	"",
	"now",
	"2026-06-10",
	"2026-06-10 09:09:24Z",
	"2026-06-10T09:09:24",
	"2026-06-10T09:09Z",
	"2026-13-10T09:09:24Z",
	"2026-02-29T09:09:24Z",
	"2026-04-31T09:09:24Z",
	"2026-06-10T24:00:00Z",
	"2026-06-10T09:60:00Z",
	"2026-06-10T09:09:60Z",
	"2026-06-10T09:09:24+0200",
	"2026-06-10T09:09:24+24:00",
	"2026-06-10T09:09:24Zjunk",
	"2026-06-10T09:09:24.Z",
	" 2026-06-10T09:09:24Z",
	"+2026-06-10T09:09:24Z",
	"0000-01-01T00:00:00Z",
};

START_TEST(test_rfc3339_bad)
{
	dg_time t = 42;

	ck_assert_msg(dg_parse_rfc3339(bad_times[_i], &t) == -1,
		      "accepted '%s'", bad_times[_i]);
	ck_assert_int_eq(t, 42);
}
END_TEST

static const struct {
	const char *text;
	long days;
	int weekday;
} good_dates[] = {
	{"1970-01-01", 0, 3},	  {"1999-01-04", 10595, 0},
	{"2026-04-13", 20556, 0}, {"2026-04-03", 20546, 4},
	{"2024-02-29", 19782, 3}, {"1969-12-31", -1, 2},
	{"2026-11-22", 20779, 6},
};

/* Well-formed, but an offset carries them out of 0001..9999: -2. */
static const char *const out_of_range_times[] = {
	"9999-12-31T23:00:00-02:00", "9999-12-31T23:59:59-00:01",
	"9999-12-31T22:00:00-02:00", "0001-01-01T00:30:00+01:00",
	"0001-01-01T00:00:00+00:01", "0001-01-01T00:00:59+23:59",
};

START_TEST(test_rfc3339_out_of_range)
{
	dg_time t = 42;

	ck_assert_msg(dg_parse_rfc3339(out_of_range_times[_i], &t) == -2,
		      "accepted '%s'", out_of_range_times[_i]);
	ck_assert_int_eq(t, 42);
}
END_TEST

/* "HH:MM:SS" at the start of a text: seconds since midnight, or -1. */
START_TEST(test_hms)
{
	ck_assert_int_eq(dg_parse_hms("00:00:00"), 0);
	ck_assert_int_eq(dg_parse_hms("09:14:31 -0800"), 33271);
	ck_assert_int_eq(dg_parse_hms("23:59:59Z"), 86399);
	ck_assert_int_eq(dg_parse_hms("24:00:00"), -1);
	ck_assert_int_eq(dg_parse_hms("12:60:00"), -1);
	ck_assert_int_eq(dg_parse_hms("12:00:60"), -1);
	ck_assert_int_eq(dg_parse_hms("1:00:00"), -1);
	ck_assert_int_eq(dg_parse_hms("12-00-00"), -1);
	ck_assert_int_eq(dg_parse_hms("12:00:0"), -1);
	ck_assert_int_eq(dg_parse_hms(""), -1);
}
END_TEST

/* The formatters write no text rather than a wrong time. */
static const long long unformattable_times[] = {
	253402300800LL, /* 10000-01-01T00:00:00Z */
	-62167219201LL, /* -0001-12-31T23:59:59Z */
	INT64_MAX,
	INT64_MIN,
};

START_TEST(test_format_rfc3339_out_of_range)
{
	char buf[DG_RFC3339_SIZE] = "stale";

	dg_format_rfc3339(unformattable_times[_i], buf);
	ck_assert_str_eq(buf, "");
}
END_TEST

static const int32_t unformattable_days[] = {
	2932897, /* 10000-01-01 */
	-719529, /* -0001-12-31 */
	INT32_MAX,
	INT32_MIN,
};

START_TEST(test_format_date_out_of_range)
{
	char buf[DG_DATE_SIZE] = "stale";

	dg_format_date(unformattable_days[_i], buf);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_format_year_zero)
{
	char buf[DG_RFC3339_SIZE], day[DG_DATE_SIZE];

	/* Year 0 has four digits and is right: the day before 0001-01-01. */
	dg_format_rfc3339(-62135596801LL, buf);
	ck_assert_str_eq(buf, "0000-12-31T23:59:59Z");
	dg_format_date(-719163, day);
	ck_assert_str_eq(day, "0000-12-31");
	dg_format_date(2932896, day);
	ck_assert_str_eq(day, "9999-12-31");
}
END_TEST

START_TEST(test_date_good)
{
	char buf[DG_DATE_SIZE];
	int32_t d;

	ck_assert_int_eq(dg_parse_date(good_dates[_i].text, &d), 0);
	ck_assert_int_eq(d, good_dates[_i].days);
	ck_assert_int_eq(dg_weekday(d), good_dates[_i].weekday);
	dg_format_date(d, buf);
	ck_assert_str_eq(buf, good_dates[_i].text);
}
END_TEST

static const char *const bad_dates[] = {
	"",	      "2026-4-13",  "2026-04-13T",   "2026-02-30",
	"2025-02-29", "1900-02-29", "13 April 2026", "2026/04/13",
	"20260413",   "2026-00-10",
};

START_TEST(test_date_bad)
{
	int32_t d = 7;

	ck_assert_msg(dg_parse_date(bad_dates[_i], &d) == -1, "accepted '%s'",
		      bad_dates[_i]);
	ck_assert_int_eq(d, 7);
}
END_TEST

static const struct {
	const char *text;
	long long seconds; /* -1: must be refused */
} durations[] = {
	{"0", 0},
	{"90", 90},
	{"90s", 90},
	{"15m", 900},
	{"2h", 7200},
	{"5d", 432000},
	{"1w", 604800},
	{"", -1},
	{"d", -1},
	{"5dd", -1},
	{"-5d", -1},
	{"5 d", -1},
	{"5x", -1},
	{"9223372036854775807", 9223372036854775807LL},
	{"9223372036854775808", -1},
	{"106751991167301d", -1},
};

START_TEST(test_duration)
{
	int64_t s = -7;
	int rc = dg_parse_duration(durations[_i].text, &s);

	if (durations[_i].seconds < 0) {
		ck_assert_msg(rc == -1, "accepted '%s'", durations[_i].text);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(s, durations[_i].seconds);
	}
}
END_TEST

START_TEST(test_now_override)
{
	dg_time t;
	char *err;

	setenv("DAIGOU_NOW", "2026-06-10T09:09:24Z", 1);
	ck_assert_int_eq(dg_now(&t), 0);
	ck_assert_int_eq(t, 1781082564LL);
	test_capture_begin();
	setenv("DAIGOU_NOW", "yesterday", 1);
	ck_assert_int_eq(dg_now(&t), DG_EXIT_USAGE);
	setenv("DAIGOU_NOW", "9999-12-31T23:00:00-02:00", 1);
	ck_assert_int_eq(dg_now(&t), DG_EXIT_USAGE);
	err = test_capture_end();
	ck_assert_str_eq(err,
			 "t: malformed DAIGOU_NOW 'yesterday': want RFC 3339 "
			 "such as 2026-06-10T09:09:24Z\n"
			 "t: DAIGOU_NOW '9999-12-31T23:00:00-02:00' is out of "
			 "range: want a time from 0001-01-01T00:00:00Z to "
			 "9999-12-31T23:59:59Z\n");
	free(err);
	ck_assert_int_eq(t, 1781082564LL);
	unsetenv("DAIGOU_NOW");
	ck_assert_int_eq(dg_now(&t), 0);
	ck_assert(t > 1781082564LL - 86400 * 365 * 10);
}
END_TEST

static const struct {
	int a, b, want;
} worst[] = {
	{0, 0, 0},   {0, 1, 1},	   {1, 0, 1},	 {1, 65, 65},
	{65, 1, 65}, {75, 65, 65}, {65, 75, 65}, {0, 75, 75},
	{1, 75, 75}, {65, 69, 69}, {74, 69, 74},
};

START_TEST(test_exit_worst)
{
	ck_assert_int_eq(dg_exit_worst(worst[_i].a, worst[_i].b),
			 worst[_i].want);
}
END_TEST

START_TEST(test_exit_codes)
{
	/* sysexits values are part of the contract (design section 5). */
	ck_assert_int_eq(DG_EXIT_USAGE, 64);
	ck_assert_int_eq(DG_EXIT_DATAERR, 65);
	ck_assert_int_eq(DG_EXIT_NOINPUT, 66);
	ck_assert_int_eq(DG_EXIT_UNAVAILABLE, 69);
	ck_assert_int_eq(DG_EXIT_SOFTWARE, 70);
	ck_assert_int_eq(DG_EXIT_CANTCREAT, 73);
	ck_assert_int_eq(DG_EXIT_IOERR, 74);
	ck_assert_int_eq(DG_EXIT_TEMPFAIL, 75);
}
END_TEST

START_TEST(test_progname)
{
	dg_set_progname("/usr/local/bin/rate-fetch");
	ck_assert_str_eq(dg_progname(), "rate-fetch");
	dg_set_progname("pay-ingest");
	ck_assert_str_eq(dg_progname(), "pay-ingest");
}
END_TEST

START_TEST(test_sigxfsz_ignored)
{
	struct sigaction sa;

	dg_set_progname("t");
	ck_assert_int_eq(sigaction(SIGXFSZ, NULL, &sa), 0);
	ck_assert(sa.sa_handler == SIG_IGN);
}
END_TEST

/* A write past the file-size limit fails with EFBIG instead of killing
 * the process. */
START_TEST(test_sigxfsz_write_fails)
{
	struct rlimit rl = {4096, 4096};
	char block[8192] = {0};
	FILE *fp;

	dg_set_progname("t");
	fp = tmpfile();
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_uint_lt(fwrite(block, 1, sizeof(block), fp) +
				  (size_t)(fflush(fp) == 0),
			  sizeof(block) + 1);
	ck_assert(ferror(fp));
	fclose(fp);
}
END_TEST

/* Option errors: every case runs dg_getopt over "t ARGS..." in a child
 * and wants its exit status and what it printed on stderr. */
#define GETOPT_USAGE "usage: t [-hqv] [-o FILE] [--db PATH]\n"
static const struct option test_longopts[] = {
	DG_COMMON_LONGOPTS,
	{"date", 1, NULL, 0x2001},
	{"dry-run", 0, NULL, 0x2002},
	{NULL, 0, NULL, 0},
};
static const struct {
	const char *args[4];
	const char *message; /* NULL: no error */
} option_errors[] = {
	{{"--db"}, "option '--db' needs an argument"},
	{{"-q", "--date"}, "option '--date' needs an argument"},
	{{"--da"}, "option '--date' needs an argument"},
	{{"-o"}, "option '-o' needs an argument"},
	{{"-q", "-o"}, "option '-o' needs an argument"},
	{{"--frob"}, "unknown option '--frob'"},
	{{"--frob=1"}, "unknown option '--frob'"},
	{{"--json=1"}, "option '--json' takes no argument"},
	{{"--dry-run=yes"}, "option '--dry-run' takes no argument"},
	{{"--help=x"}, "option '--help' takes no argument"},
	{{"--d"}, "option '--d' is ambiguous"},
	{{"-x"}, "unknown option '-x'"},
	{{"-qx"}, "unknown option '-x'"},
	{{"-xq"}, "unknown option '-x'"},
	{{"--db=a", "-zq"}, "unknown option '-z'"},
	{{"--\033[2J"}, "unknown option '--\\x1b[2J'"},
	{{"-\n"}, "unknown option '-\\n'"},
	{{"--db", "--frob", "-q"}, NULL},
	{{"--dr", "-oout", "arg"}, NULL},
};

START_TEST(test_option_errors)
{
	char *argv[6] = {"t"}, out[1024] = "";
	int fds[2], status, argc = 1;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	while (argc < 5 && option_errors[_i].args[argc - 1]) {
		argv[argc] = (char *)option_errors[_i].args[argc - 1];
		argc++;
	}
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* what stdio holds for stdout is the parent's to write */
		dup2(null, 1);
		dup2(fds[1], 2);
		close(fds[0]);
		dg_set_progname("t");
		optind = 0;
		while (dg_getopt(argc, argv, "hqvo:", test_longopts,
				 GETOPT_USAGE) != -1)
			;
		_exit(0);
	}
	close(fds[1]);
	while ((r = read(fds[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (!option_errors[_i].message) {
		ck_assert_int_eq(WEXITSTATUS(status), 0);
		ck_assert_str_eq(out, "");
	} else {
		char want[512];

		dg_xsnprintf(want, sizeof(want), "t: %s\n" GETOPT_USAGE,
			     option_errors[_i].message);
		ck_assert_int_eq(WEXITSTATUS(status), DG_EXIT_USAGE);
		ck_assert_str_eq(out, want);
	}
}
END_TEST

/* What a good command line gives back. */
START_TEST(test_getopt_options)
{
	char *argv[] = {"t",	 "--db",  "x.db", "-qv", "--da=2026-01-01",
			"-oout", "--dry", "arg",  NULL};
	int argc = 8;
	static const int want[] = {DG_OPT_DB, 'q', 'v', 0x2001, 'o', 0x2002};
	static const char *const want_arg[] = {"x.db",	     NULL,  NULL,
					       "2026-01-01", "out", NULL};
	size_t i;

	optind = 0;
	for (i = 0; i < DG_NELEM(want); i++) {
		ck_assert_int_eq(dg_getopt(argc, argv, "hqvo:", test_longopts,
					   GETOPT_USAGE),
				 want[i]);
		if (want_arg[i])
			ck_assert_str_eq(optarg, want_arg[i]);
	}
	ck_assert_int_eq(
		dg_getopt(argc, argv, "hqvo:", test_longopts, GETOPT_USAGE),
		-1);
	ck_assert_str_eq(argv[optind], "arg");
}
END_TEST

START_TEST(test_xstrndup)
{
	char *s = dg_xstrndup("abcdef", 3);

	ck_assert_str_eq(s, "abc");
	free(s);
}
END_TEST

/* dg_valid_id (batch.c): the ids of orders and refunds. */
static const struct {
	const char *id;
	bool valid;
} ids[] = {
	{"A1001", true},
	{"R-2026/04#7_x.y", true},
	{"~", true},
	{"1234567890123456789012345678901234567890123456789012345678901234",
	 true},
	{"12345678901234567890123456789012345678901234567890123456789012345",
	 false},
	{"", false},
	{"A 1", false},
	{"A,1", false},
	{"A\"1", false},
	{"A'1", false},
	{"A\t1", false},
	{"A\x7f", false},
	{"\xc3\xa9", false},
};

START_TEST(test_valid_id)
{
	ck_assert_msg(dg_valid_id(ids[_i].id) == ids[_i].valid, "id '%s'",
		      ids[_i].id);
}
END_TEST

static const struct {
	const char *in;
	const char *out;
} quotes[] = {
	{"A1001", "'A1001'"},
	{"", "''"},
	{"it's", "'it\\'s'"},
	{"a\\b", "'a\\\\b'"},
	{"l1\nl2\tx\r", "'l1\\nl2\\tx\\r'"},
	{"\033[31mred", "'\\x1b[31mred'"},
	{"caf\xc3\xa9\x7f", "'caf\\xc3\\xa9\\x7f'"},
	{"0123456789012345678901234567890123456789012345678901234567890123",
	 "'0123456789012345678901234567890123456789012345678901234567890123'"},
	{"01234567890123456789012345678901234567890123456789012345678901234",
	 "'0123456789012345678901234567890123456789012345678901234567890123'"
	 "... (65 bytes)"},
};

START_TEST(test_quoted)
{
	ck_assert_str_eq(dg_quoted(quotes[_i].in), quotes[_i].out);
}
END_TEST

START_TEST(test_quoted_long)
{
	size_t n = 10000;
	char *s = dg_xmalloc(n + 1);
	const char *a, *b;

	memset(s, '\n', n);
	s[n] = '\0';
	a = dg_quoted(s);
	b = dg_quoted("second");
	ck_assert_uint_eq(strlen(a), 2 + 64 * 2 + strlen("... (10000 bytes)"));
	ck_assert(strstr(a, "... (10000 bytes)") != NULL);
	ck_assert_str_eq(b, "'second'");
	ck_assert_str_eq(dg_quotedn("abcdef", 3), "'abc'");
	ck_assert_str_eq(dg_quoted(NULL), "(none)");
	/* a path is cut only past DG_QUOTE_PATH_MAX bytes */
	memset(s, 'p', n);
	s[200] = '\n';
	s[201] = '\0';
	a = dg_quoted_path(s);
	ck_assert_uint_eq(strlen(a), 2 + 200 + 2);
	ck_assert_str_eq(a + 199, "pp\\n'");
	s[201] = 'p';
	s[5000] = '\0';
	a = dg_quoted_path(s);
	/* 4096 bytes shown, the newline among them as two */
	ck_assert_uint_eq(strlen(a), 2 + 4097 + strlen("... (5000 bytes)"));
	ck_assert_str_eq(a + 2 + 4097, "... (5000 bytes)");
	free(s);
}
END_TEST

/* dg_escaped: the same escapes without the quotes, a quote left alone,
 * cut after max bytes with the length shown. */
START_TEST(test_escaped)
{
	ck_assert_str_eq(dg_escaped("orders.csv", DG_QUOTE_PATH_MAX),
			 "orders.csv");
	ck_assert_str_eq(dg_escaped("o\033[2J\nx's\\.csv", DG_QUOTE_PATH_MAX),
			 "o\\x1b[2J\\nx's\\\\.csv");
	ck_assert_str_eq(dg_escaped("abcdef", 3), "abc... (6 bytes)");
	ck_assert_str_eq(dg_escaped(NULL, 3), "(none)");
}
END_TEST

/* dg_defer_begin / dg_report / dg_defer_end (batch.c): the first message
 * is kept whole, however long, and handed over; nothing is kept once
 * deferring ends. */
START_TEST(test_defer)
{
	size_t n = 10000;
	char *big = dg_xmalloc(n + 1), *msg, *err;

	memset(big, 'x', n);
	big[n] = '\0';
	dg_defer_begin();
	dg_report("first %d", 1);
	dg_report("second %d", 2);
	msg = dg_defer_end();
	ck_assert_str_eq(msg, "first 1");
	free(msg);
	dg_defer_begin();
	dg_report("a long message: %s", big);
	msg = dg_defer_end();
	ck_assert_uint_eq(strlen(msg), strlen("a long message: ") + n);
	free(msg);
	dg_defer_begin();
	ck_assert_ptr_null(dg_defer_end());
	test_capture_begin();
	dg_report("printed, not kept");
	err = test_capture_end();
	ck_assert_str_eq(err, "t: printed, not kept\n");
	ck_assert_ptr_null(dg_defer_end());
	free(err);
	msg = dg_xasprintf("%s:%d", big, 7);
	ck_assert_uint_eq(strlen(msg), n + 2);
	free(msg);
	free(big);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_loop_test(tc, test_rfc3339_good, 0, DG_NELEM(good_times));
	tcase_add_loop_test(tc, test_rfc3339_bad, 0, DG_NELEM(bad_times));
	tcase_add_test(tc, test_hms);
	tcase_add_loop_test(tc, test_rfc3339_out_of_range, 0,
			    DG_NELEM(out_of_range_times));
	tcase_add_loop_test(tc, test_format_rfc3339_out_of_range, 0,
			    DG_NELEM(unformattable_times));
	tcase_add_loop_test(tc, test_format_date_out_of_range, 0,
			    DG_NELEM(unformattable_days));
	tcase_add_test(tc, test_format_year_zero);
	tcase_add_loop_test(tc, test_date_good, 0, DG_NELEM(good_dates));
	tcase_add_loop_test(tc, test_date_bad, 0, DG_NELEM(bad_dates));
	tcase_add_loop_test(tc, test_duration, 0, DG_NELEM(durations));
	tcase_add_test(tc, test_now_override);
	tcase_add_loop_test(tc, test_exit_worst, 0, DG_NELEM(worst));
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_progname);
	tcase_add_test(tc, test_sigxfsz_ignored);
	tcase_add_test(tc, test_sigxfsz_write_fails);
	tcase_add_loop_test(tc, test_option_errors, 0, DG_NELEM(option_errors));
	tcase_add_test(tc, test_getopt_options);
	tcase_add_test(tc, test_xstrndup);
	tcase_add_loop_test(tc, test_valid_id, 0, DG_NELEM(ids));
	tcase_add_test(tc, test_defer);
	tcase_add_loop_test(tc, test_quoted, 0, DG_NELEM(quotes));
	tcase_add_test(tc, test_quoted_long);
	tcase_add_test(tc, test_escaped);
	suite_add_tcase(s, tc);
	return s;
}
