/* dg-test-tool: see test-tool.h. Built for tests, never installed. */
#include <string.h>

#include "test-tool.h"
#include "daigou.h"

/* clock now | clock parse RFC3339 | clock date YYYY-MM-DD |
 * clock duration TEXT | clock worst A B */
int tt_clock(int argc, char **argv)
{
	char buf[DG_RFC3339_SIZE], day[DG_DATE_SIZE];
	dg_time t;
	int32_t days;
	int64_t secs;
	int rc;

	if (argc == 2 && !strcmp(argv[1], "now")) {
		if ((rc = dg_now(&t)))
			return rc;
		dg_format_rfc3339(t, buf);
		printf("%s\n", buf);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "parse")) {
		if (dg_parse_rfc3339(argv[2], &t)) {
			dg_error("malformed time '%s'", argv[2]);
			return DG_EXIT_DATAERR;
		}
		dg_format_rfc3339(t, buf);
		printf("%lld %s\n", (long long)t, buf);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "date")) {
		if (dg_parse_date(argv[2], &days)) {
			dg_error("malformed date '%s'", argv[2]);
			return DG_EXIT_DATAERR;
		}
		dg_format_date(days, day);
		printf("%ld %s %d\n", (long)days, day, dg_weekday(days));
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "duration")) {
		if (dg_parse_duration(argv[2], &secs)) {
			dg_error("malformed duration '%s'", argv[2]);
			return DG_EXIT_DATAERR;
		}
		printf("%lld\n", (long long)secs);
		return 0;
	}
	fprintf(stderr, "usage: dg-test-tool clock now|parse T|date D|"
			"duration D\n");
	return DG_EXIT_USAGE;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{"money", tt_money, "money OP ...      amounts, rates, conversion, allocation"},
	{"currency", tt_currency, "currency CODE     exponent and status of a code"},
	{"db", tt_db, "db OP ...         open, migrate, events"},
	{"clock", tt_clock, "clock OP ...      DAIGOU_NOW, dates, durations"},
	{"io", tt_io, "io OP ...         CSV and JSON Lines readers and writers"},
	{"sig", tt_sig, "sig OP ...        signed callbacks: keygen, paypal-sign, stripe-sign"},
};

int main(int argc, char **argv)
{
	size_t i;

	dg_set_progname("dg-test-tool");
	if (argc >= 2) {
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[1], commands[i].name))
				return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "usage: dg-test-tool COMMAND ...\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %s\n", commands[i].help);
	return DG_EXIT_USAGE;
}
