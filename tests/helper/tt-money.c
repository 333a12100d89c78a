/* tt-money.c: money.c and currency.c for shell tests and the oracle.
 *
 *   money parse AMOUNT EXP           minor units
 *   money format MINOR EXP           text with EXP decimals
 *   money rate TEXT                  coef scale text
 *   money cmp RATE RATE              -1, 0 or 1
 *   money convert MINOR FROM_EXP TO_EXP MUL|- DIV|- half-up|half-even
 *   money effective MUL|- DIV|-      the effective rate as text
 *   money moved A B PCT              1 when A moved more than PCT % from B
 *   money allocate TOTAL W...        the shares, space separated
 *   money add A B | money sub A B
 *   money batch                      one of the above per stdin line (no
 *                                    "money"), one answer per line; a
 *                                    refused input answers "error MESSAGE"
 *   currency CODE                    code exponent active|historic name
 *   currency list                    every code, one per line
 *
 * A refused input prints "dg-test-tool: 'INPUT': MESSAGE" and exits 65.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test-tool.h"
#include "daigou.h"

#define MAX_ARGS    1024
#define USAGE_ERROR (-1)

/* What an operation refused, for the message. */
struct refusal {
	const char *input;
	enum dg_merr err;
	const char *usage; /* set instead of err for a usage error */
};

static int usage(struct refusal *why, const char *text)
{
	why->usage = text;
	return USAGE_ERROR;
}

static int refuse(struct refusal *why, const char *input, enum dg_merr err)
{
	why->input = input;
	why->err = err;
	return (int)err;
}

static bool parse_i64(const char *s, int64_t *v)
{
	char *end;
	long long x;

	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

static bool parse_exp(const char *s, int *v)
{
	int64_t x;

	if (!parse_i64(s, &x) || x < -1000 || x > 1000)
		return false;
	*v = (int)x;
	return true;
}

/* "-" is no rate (NULL). */
static int parse_rate_arg(const char *s, struct dg_rate *r,
			  const struct dg_rate **out, struct refusal *why)
{
	enum dg_merr e;

	if (!strcmp(s, "-")) {
		*out = NULL;
		return 0;
	}
	if ((e = dg_rate_parse(s, r)))
		return refuse(why, s, e);
	*out = r;
	return 0;
}

static int op_parse(int argc, char **argv, struct refusal *why)
{
	int64_t minor;
	int exp;
	enum dg_merr e;

	if (argc != 3 || !parse_exp(argv[2], &exp))
		return usage(why, "parse AMOUNT EXP");
	if ((e = dg_amount_parse(argv[1], exp, &minor)))
		return refuse(why, argv[1], e);
	printf("%lld\n", (long long)minor);
	return 0;
}

static int op_format(int argc, char **argv, struct refusal *why)
{
	char buf[DG_AMOUNT_SIZE];
	int64_t minor;
	int exp;

	if (argc != 3 || !parse_i64(argv[1], &minor) ||
	    !parse_exp(argv[2], &exp))
		return usage(why, "format MINOR EXP");
	dg_amount_format(minor, exp, buf);
	printf("%s\n", buf);
	return 0;
}

static int op_rate(int argc, char **argv, struct refusal *why)
{
	struct dg_rate r;
	enum dg_merr e;

	if (argc != 2)
		return usage(why, "rate TEXT");
	if ((e = dg_rate_parse(argv[1], &r)))
		return refuse(why, argv[1], e);
	printf("%llu %d %s\n", (unsigned long long)r.coef, r.scale, r.text);
	return 0;
}

static int op_cmp(int argc, char **argv, struct refusal *why)
{
	struct dg_rate a, b;
	const struct dg_rate *pa, *pb;
	int rc, c;

	if (argc != 3 || !strcmp(argv[1], "-") || !strcmp(argv[2], "-"))
		return usage(why, "cmp RATE RATE");
	if ((rc = parse_rate_arg(argv[1], &a, &pa, why)) ||
	    (rc = parse_rate_arg(argv[2], &b, &pb, why)))
		return rc;
	c = dg_rate_cmp(pa, pb);
	printf("%d\n", c < 0 ? -1 : c > 0);
	return 0;
}

static int op_convert(int argc, char **argv, struct refusal *why)
{
	struct dg_rate m, d;
	const struct dg_rate *pm, *pd;
	enum dg_rounding mode;
	int64_t amount, out;
	int from, to, rc;
	enum dg_merr e;

	if (argc != 7 || !parse_i64(argv[1], &amount) ||
	    !parse_exp(argv[2], &from) || !parse_exp(argv[3], &to) ||
	    dg_rounding_parse(argv[6], &mode))
		return usage(why, "convert MINOR FROM_EXP TO_EXP MUL|- DIV|- "
				  "half-up|half-even");
	if ((rc = parse_rate_arg(argv[4], &m, &pm, why)) ||
	    (rc = parse_rate_arg(argv[5], &d, &pd, why)))
		return rc;
	if ((e = dg_convert(amount, from, to, pm, pd, mode, &out)))
		return refuse(why, argv[1], e);
	printf("%lld\n", (long long)out);
	return 0;
}

static int op_effective(int argc, char **argv, struct refusal *why)
{
	struct dg_rate m, d;
	const struct dg_rate *pm, *pd;
	char buf[DG_EFFECTIVE_SIZE];
	enum dg_merr e;
	int rc;

	if (argc != 3)
		return usage(why, "effective MUL|- DIV|-");
	if ((rc = parse_rate_arg(argv[1], &m, &pm, why)) ||
	    (rc = parse_rate_arg(argv[2], &d, &pd, why)))
		return rc;
	if ((e = dg_rate_effective(pm, pd, buf, sizeof(buf))))
		return refuse(why, argv[1], e);
	printf("%s\n", buf);
	return 0;
}

static int op_moved(int argc, char **argv, struct refusal *why)
{
	struct dg_rate a, b;
	const struct dg_rate *pa, *pb;
	int rc;

	if (argc != 4 || !strcmp(argv[1], "-") || !strcmp(argv[2], "-"))
		return usage(why, "moved A B PCT");
	if ((rc = parse_rate_arg(argv[1], &a, &pa, why)) ||
	    (rc = parse_rate_arg(argv[2], &b, &pb, why)))
		return rc;
	rc = dg_rate_moved_more_than(pa, pb, argv[3]);
	if (rc < 0)
		return refuse(why, argv[3], DG_M_SYNTAX);
	printf("%d\n", rc);
	return 0;
}

static int op_allocate(int argc, char **argv, struct refusal *why)
{
	int64_t total, weights[MAX_ARGS], shares[MAX_ARGS];
	size_t n = (size_t)argc - 2, i;
	enum dg_merr e;

	if (argc < 3 || !parse_i64(argv[1], &total))
		return usage(why, "allocate TOTAL WEIGHT...");
	for (i = 0; i < n; i++)
		if (!parse_i64(argv[i + 2], &weights[i]))
			return usage(why, "allocate TOTAL WEIGHT...");
	if ((e = dg_allocate(total, weights, n, shares)))
		return refuse(why, argv[1], e);
	for (i = 0; i < n; i++)
		printf("%s%lld", i ? " " : "", (long long)shares[i]);
	putchar('\n');
	return 0;
}

static int op_addsub(int argc, char **argv, struct refusal *why)
{
	int64_t a, b, r;
	enum dg_merr e;
	bool add = !strcmp(argv[0], "add");

	if (argc != 3 || !parse_i64(argv[1], &a) || !parse_i64(argv[2], &b))
		return usage(why, "add|sub A B");
	e = add ? dg_add(a, b, &r) : dg_sub(a, b, &r);
	if (e)
		return refuse(why, argv[1], e);
	printf("%lld\n", (long long)r);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int, char **, struct refusal *);
} ops[] = {
	{"parse", op_parse},	 {"format", op_format},
	{"rate", op_rate},	 {"cmp", op_cmp},
	{"convert", op_convert}, {"effective", op_effective},
	{"moved", op_moved},	 {"allocate", op_allocate},
	{"add", op_addsub},	 {"sub", op_addsub},
};

/* 0, USAGE_ERROR, or a dg_merr; *why says what was refused. */
static int run_op(int argc, char **argv, struct refusal *why)
{
	size_t i;

	memset(why, 0, sizeof(*why));
	if (argc < 1)
		return usage(why, "OP ARGS...");
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(argv[0], ops[i].name))
			return ops[i].fn(argc, argv, why);
	return usage(why, "unknown operation");
}

static int batch(void)
{
	char *line = NULL, *p, *args[MAX_ARGS + 1];
	size_t cap = 0;
	ssize_t len;
	int argc, rc, status = 0;
	struct refusal why;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		argc = 0;
		p = line;
		while (argc < MAX_ARGS) {
			char *tok = strsep(&p, " \t");

			if (!tok)
				break;
			if (*tok)
				args[argc++] = tok;
		}
		args[argc] = NULL;
		rc = run_op(argc, args, &why);
		if (rc == USAGE_ERROR) {
			printf("error usage: %s\n", why.usage);
			status = DG_EXIT_USAGE;
		} else if (rc) {
			printf("error %s\n", dg_merr_str(why.err));
		}
	}
	free(line);
	if (ferror(stdin) || fflush(stdout)) {
		dg_error("batch: i/o error");
		return DG_EXIT_IOERR;
	}
	return status;
}

int tt_money(int argc, char **argv)
{
	struct refusal why;
	int rc;

	if (argc == 2 && !strcmp(argv[1], "batch"))
		return batch();
	rc = run_op(argc - 1, argv + 1, &why);
	if (rc == USAGE_ERROR) {
		fprintf(stderr, "usage: dg-test-tool money %s\n", why.usage);
		return DG_EXIT_USAGE;
	}
	if (rc) {
		dg_error("'%s': %s", why.input, dg_merr_str(why.err));
		return DG_EXIT_DATAERR;
	}
	return 0;
}

static void print_currency(const struct dg_currency *c)
{
	printf("%s %d %s %s\n", c->code, c->exponent,
	       c->historic ? "historic" : "active", c->name);
}

int tt_currency(int argc, char **argv)
{
	const struct dg_currency *c;
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (i = 0; i < dg_currency_count(); i++)
			print_currency(dg_currency_at(i));
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: dg-test-tool currency CODE|list\n");
		return DG_EXIT_USAGE;
	}
	if (!(c = dg_currency_lookup(argv[1]))) {
		dg_error("unknown currency '%s'", argv[1]);
		return DG_EXIT_DATAERR;
	}
	print_currency(c);
	return 0;
}
