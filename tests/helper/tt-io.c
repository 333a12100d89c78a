/* dg-test-tool io: the CSV and JSON Lines readers and writers.
 *
 *   io cat [--input-format auto|csv|json] [--json] [--require a,b]
 *          [--lines] [--strict] [FILE|-]
 *     Reads records with dg_input and writes them with dg_out: the
 *     --require columns, else the CSV header's named columns, else the
 *     keys of the first JSON object. --lines adds a "line" column first.
 *     A bad record is reported and skipped (--strict: stops there).
 *   io rows [FILE|-]
 *     The raw CSV rows, no header: "LINE: field|field|..." per row.
 */
#include <getopt.h>
#include <string.h>

#include "test-tool.h"
#include "daigou.h"

static const char cat_usage[] =
	"usage: dg-test-tool io cat [--input-format auto|csv|json] [--json]\n"
	"                           [--require a,b] [--lines] [--strict] "
	"[FILE|-]\n";

struct columns {
	char **names;
	size_t n;
};

static void columns_add(struct columns *c, const char *name, size_t len)
{
	c->names = dg_xrealloc(c->names, (c->n + 1) * sizeof(char *));
	c->names[c->n++] = dg_xstrndup(name, len);
}

static void columns_free(struct columns *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
}

/* The columns to write, decided on the first record. */
static void pick_columns(struct dg_input *in, const char *require, bool lines,
			 struct columns *c)
{
	const struct dg_csv_reader *csv = dg_input_csv(in);
	const char *key, *p, *comma, *name;
	json_t *obj, *v;
	size_t i;

	if (lines)
		columns_add(c, "line", 4);
	if (require) {
		for (p = require; (comma = strchr(p, ',')); p = comma + 1)
			columns_add(c, p, (size_t)(comma - p));
		columns_add(c, p, strlen(p));
	} else if ((obj = dg_input_json(in))) {
		json_object_foreach(obj, key, v)
			columns_add(c, key, strlen(key));
	} else {
		for (i = 0; i < dg_csv_ncolumns(csv); i++) {
			name = dg_csv_column_name(csv, i);
			if (*name)
				columns_add(c, name, strlen(name));
		}
	}
}

static int cat(int argc, char **argv)
{
	static const struct option opts[] = {
		{"input-format", 1, NULL, 'f'}, {"json", 0, NULL, 'j'},
		{"require", 1, NULL, 'r'},	{"lines", 0, NULL, 'l'},
		{"strict", 0, NULL, 's'},	{NULL, 0, NULL, 0},
	};
	enum dg_input_format fmt = DG_IN_AUTO;
	const char *require = NULL, *path;
	bool json = false, lines = false, strict = false, bad;
	struct columns c = {NULL, 0};
	struct dg_out *out = NULL;
	struct dg_input *in;
	const char **values = NULL;
	char line[24];
	size_t i, first;
	int opt, rc, status;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (dg_input_format_parse(optarg, &fmt))
				dg_usage_error(cat_usage,
					       "unknown input format '%s'",
					       optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'r':
			require = optarg;
			break;
		case 'l':
			lines = true;
			break;
		case 's':
			strict = true;
			break;
		default:
			dg_usage_error(cat_usage, "unknown option");
		}
	}
	if (argc - optind > 1)
		dg_usage_error(cat_usage, "too many arguments");
	path = optind < argc ? argv[optind] : "-";

	in = dg_input_open(path, fmt, &status);
	if (!in)
		return status;
	if (require) {
		pick_columns(in, require, false, &c);
		status =
			dg_input_require(in, (const char *const *)c.names, c.n);
		columns_free(&c);
		c.n = 0;
		c.names = NULL;
		if (status)
			goto out;
	}
	first = lines ? 1 : 0;
	while ((rc = dg_input_next(in)) != 0) {
		if (rc < 0) {
			if (strict)
				break;
			continue;
		}
		if (!out) {
			pick_columns(in, require, lines, &c);
			out = dg_out_new(stdout, json,
					 (const char *const *)c.names, c.n);
			values = dg_xcalloc(c.n ? c.n : 1, sizeof(char *));
		}
		dg_xsnprintf(line, sizeof(line), "%lu", dg_input_line(in));
		values[0] = line;
		bad = false;
		for (i = first; i < c.n; i++)
			values[i] = dg_input_get(in, c.names[i], &bad);
		if (bad) {
			dg_error("%s:%lu: a value is not text",
				 dg_input_name(in), dg_input_line(in));
			status = dg_exit_worst(status, DG_EXIT_DATAERR);
			if (strict)
				break;
			continue;
		}
		status = dg_exit_worst(status, dg_out_row(out, values));
	}
	status = dg_exit_worst(status, dg_input_status(in));
out:
	if (out)
		status = dg_exit_worst(status, dg_out_close(out));
	free(values);
	columns_free(&c);
	dg_input_close(in);
	return status;
}

static int rows(int argc, char **argv)
{
	const struct dg_csv_row *row;
	struct dg_csv_reader *r;
	const char *path = argc > 1 ? argv[1] : "-";
	FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
	int rc, status = 0;
	size_t i;

	if (!fp) {
		dg_error("cannot open '%s': %m", path);
		return DG_EXIT_NOINPUT;
	}
	r = dg_csv_open(fp, path);
	while ((rc = dg_csv_next(r, &row)) != 0) {
		if (rc < 0) {
			status = DG_EXIT_DATAERR;
			continue;
		}
		printf("%lu:", row->line);
		for (i = 0; i < row->n; i++) {
			putchar(i ? '|' : ' ');
			dg_csv_write_field(stdout, row->fields[i],
					   row->lens[i]);
		}
		putchar('\n');
	}
	dg_csv_close(r);
	if (fp != stdin)
		fclose(fp);
	if (fflush(stdout) || ferror(stdout))
		status = dg_exit_worst(status, DG_EXIT_IOERR);
	return status;
}

int tt_io(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "cat"))
		return cat(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "rows"))
		return rows(argc - 1, argv + 1);
	fprintf(stderr, "usage: dg-test-tool io cat|rows ...\n");
	return DG_EXIT_USAGE;
}
