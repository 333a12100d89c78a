/* Unit tests for input.c: format detection, required columns, fields. */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

#define BOM "\xEF\xBB\xBF"

/* ------------------------------------------------------------ helpers */

/* Each test runs in its own forked process, in its own directory. */
static char test_dir[4096];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	dg_xsnprintf(test_dir, sizeof(test_dir), "%s/check_input.XXXXXX",
		     tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
	ck_assert_int_eq(chdir(test_dir), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(nftw(test_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS),
			 0);
}

static void write_file(const char *name, const char *text, size_t len)
{
	FILE *fp = fopen(name, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Make text the process's stdin. */
static void stdin_from(const char *text)
{
	write_file("stdin.txt", text, strlen(text));
	ck_assert_ptr_nonnull(freopen("stdin.txt", "r", stdin));
}

/* Every record as "line:[a][b]..." for the named fields (<null> when
 * absent, <bad> when not text), "error" for -1, then "end" and the
 * status. */
static char *dump(struct dg_input *in, const char *const *names, size_t n)
{
	char *out = NULL;
	size_t size, i;
	FILE *mem = open_memstream(&out, &size);
	const char *v;
	bool bad;
	int rc, guard = 0;

	while ((rc = dg_input_next(in)) != 0 && guard++ < 10000) {
		if (rc < 0) {
			fputs("error\n", mem);
			continue;
		}
		fprintf(mem, "%lu:", dg_input_line(in));
		for (i = 0; i < n; i++) {
			bad = false;
			v = dg_input_get(in, names[i], &bad);
			fprintf(mem, "[%s]", bad ? "<bad>" : v ? v : "<null>");
		}
		fputc('\n', mem);
	}
	fprintf(mem, "end %d\n", dg_input_status(in));
	fclose(mem);
	return out;
}

/* ------------------------------------------------------------- tables */

static const char *const cols[] = {"order_id", "amount", "currency"};

static const struct {
	const char *in;
	enum dg_input_format fmt;
	bool json;
	const char *out;
	const char *err;
} reads[] = {
	/* CSV, any column order, unknown columns ignored */
	{"order_id,amount,currency\nA1,102.30,EUR\n", DG_IN_AUTO, false,
	 "2:[A1][102.30][EUR]\nend 0\n", ""},
	{"note,currency,amount,order_id,extra\nhi,JPY,16500,A2,x\n", DG_IN_AUTO,
	 false, "2:[A2][16500][JPY]\nend 0\n", ""},
	{"\n\r\n order_id , amount,currency\r\n\r\nA1,1.00,EUR\r\n", DG_IN_AUTO,
	 false, "5:[A1][1.00][EUR]\nend 0\n", ""},
	{BOM "order_id,amount,currency\nA1,1.00,EUR\n", DG_IN_AUTO, false,
	 "2:[A1][1.00][EUR]\nend 0\n", ""},
	/* empty and short fields read as absent */
	{"order_id,amount,currency\nA1,,EUR\nA2\n", DG_IN_AUTO, false,
	 "2:[A1][<null>][EUR]\n3:[A2][<null>][<null>]\nend 0\n", ""},
	{"order_id,amount,currency\nA1,1.00,EUR,,\n", DG_IN_AUTO, false,
	 "2:[A1][1.00][EUR]\nend 0\n", ""},
	/* a bad row is reported, the rest is read */
	{"order_id,amount,currency\nA1,1.00,EUR,x\nA2,2.00,EUR\n", DG_IN_AUTO,
	 false, "error\n3:[A2][2.00][EUR]\nend 65\n",
	 "t: in.txt:2: 4 fields but the header has 3\n"},
	/* a stray quote spoils its row only */
	{"order_id,amount,currency\nA1,1\"00,EUR\nA2,2.00,EUR\n", DG_IN_AUTO,
	 false, "error\n3:[A2][2.00][EUR]\nend 65\n",
	 "t: in.txt:2: malformed CSV: misplaced quote in field 2 "
	 "('amount')\n"},
	/* JSON Lines */
	{"{\"order_id\":\"A1\",\"amount\":\"102.30\",\"currency\":\"EUR\"}\n",
	 DG_IN_AUTO, true, "1:[A1][102.30][EUR]\nend 0\n", ""},
	{"\n\n  {\"amount\":\"1.00\",\"order_id\":\"A1\",\"x\":[1]}\n",
	 DG_IN_AUTO, true, "3:[A1][1.00][<null>]\nend 0\n", ""},
	{BOM "\r\n{\"order_id\":\"A1\"}\n", DG_IN_AUTO, true,
	 "2:[A1][<null>][<null>]\nend 0\n", ""},
	{"{\"order_id\":7,\"amount\":1050,\"currency\":null}\n", DG_IN_AUTO,
	 true, "1:[7][1050][<null>]\nend 0\n", ""},
	{"{\"order_id\":true,\"amount\":10.5,\"currency\":false}\n"
	 "{\"order_id\":[],\"amount\":{},\"currency\":-3}\n",
	 DG_IN_AUTO, true,
	 "1:[true][<bad>][false]\n2:[<bad>][<bad>][-3]\nend 0\n", ""},
	{"{\"order_id\":\"A1\"}\n{\"order_id\":\"A1\",\"order_id\":\"A2\"}\n"
	 "{\"order_id\":\"A3\"}\n",
	 DG_IN_AUTO, true,
	 "1:[A1][<null>][<null>]\nerror\n3:[A3][<null>][<null>]\nend 65\n",
	 "t: in.txt:2: invalid JSON: duplicate object key near "
	 "'\"order_id\"'\n"},
	/* empty input: no records, no error */
	{"", DG_IN_AUTO, false, "end 0\n", ""},
	{"\n \n\t\r\n", DG_IN_AUTO, false, "end 0\n", ""},
	{"", DG_IN_JSON, true, "end 0\n", ""},
	{"", DG_IN_CSV, false, "end 0\n", ""},
	/* the format forced */
	{"order_id\n{\"order_id\":\"A1\"}\n", DG_IN_AUTO, false,
	 "error\nend 65\n",
	 "t: in.txt:2: malformed CSV: misplaced quote in field 1 "
	 "('order_id')\n"},
	{"order_id\nA1\n", DG_IN_JSON, true, "error\nerror\nend 65\n",
	 "t: in.txt:1: invalid JSON: '[' or '{' expected near 'order'\n"
	 "t: in.txt:2: invalid JSON: '[' or '{' expected near 'A'\n"},
};

START_TEST(test_read)
{
	struct dg_input *in;
	char *err, *out;
	int status = -1;

	write_file("in.txt", reads[_i].in, strlen(reads[_i].in));
	test_capture_begin();
	in = dg_input_open("in.txt", reads[_i].fmt, &status);
	if (!in) {
		err = test_capture_end();
		ck_abort_msg("open failed (%d): %s", status, err);
	}
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(dg_input_is_json(in), reads[_i].json);
	ck_assert_str_eq(dg_input_name(in), "in.txt");
	ck_assert_int_eq(dg_input_require(in, cols, 1), 0);
	out = dump(in, cols, DG_NELEM(cols));
	err = test_capture_end();
	ck_assert_str_eq(out, reads[_i].out);
	ck_assert_str_eq(err, reads[_i].err);
	dg_input_close(in);
	free(out);
	free(err);
}
END_TEST

/* Deferring, as a batch does: what the input layer says about a record
 * it cannot read is kept, not printed, to come out in the record's turn. */
START_TEST(test_deferred_messages)
{
	static const char csv[] = "order_id,amount,currency\n"
				  "A1,1\"00,EUR\nA2,2.00,EUR\n\"A3\n";
	static const char jsonl[] = "{\"order_id\":\"J1\"}\n{oops\n";
	struct dg_input *in;
	char *err, *msg;
	int status;

	write_file("in.csv", csv, strlen(csv));
	write_file("in.jsonl", jsonl, strlen(jsonl));
	test_capture_begin();
	in = dg_input_open("in.csv", DG_IN_AUTO, &status);
	ck_assert_ptr_nonnull(in);
	dg_defer_begin();
	ck_assert_int_eq(dg_input_next(in), -1);
	msg = dg_defer_end();
	ck_assert_str_eq(msg, "in.csv:2: malformed CSV: misplaced quote in "
			      "field 2 ('amount')");
	free(msg);
	dg_defer_begin();
	ck_assert_int_eq(dg_input_next(in), 1);
	ck_assert_ptr_null(dg_defer_end());
	dg_defer_begin();
	ck_assert_int_eq(dg_input_next(in), -1);
	msg = dg_defer_end();
	ck_assert_str_eq(msg, "in.csv:4: malformed CSV: unterminated quote in "
			      "field 1 ('order_id')");
	free(msg);
	ck_assert_int_eq(dg_input_next(in), 0);
	ck_assert_int_eq(dg_input_status(in), 65);
	dg_input_close(in);
	in = dg_input_open("in.jsonl", DG_IN_AUTO, &status);
	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(dg_input_next(in), 1);
	dg_defer_begin();
	ck_assert_int_eq(dg_input_next(in), -1);
	msg = dg_defer_end();
	ck_assert_ptr_nonnull(strstr(msg, "in.jsonl:2: invalid JSON: "));
	free(msg);
	dg_input_close(in);
	err = test_capture_end();
	ck_assert_str_eq(err, "");
	free(err);
}
END_TEST

static const struct {
	const char *in;
	enum dg_input_format fmt;
	int status;
	const char *err;
} open_errors[] = {
	{"order_id,amount,order_id\n", DG_IN_AUTO, 65,
	 "t: in.txt:1: duplicate column 'order_id' in the header\n"},
	{"\"order_id,amount\n", DG_IN_AUTO, 65,
	 "t: in.txt:1: malformed CSV: unterminated quote in field 1\n"},
	{"a\"b\n", DG_IN_AUTO, 65,
	 "t: in.txt:1: malformed CSV: misplaced quote in field 1\n"},
	{"{\"a\":1}\n", DG_IN_CSV, 65,
	 "t: in.txt:1: malformed CSV: misplaced quote in field 1\n"},
};

START_TEST(test_open_error)
{
	int status = -1;
	char *err;

	write_file("in.txt", open_errors[_i].in, strlen(open_errors[_i].in));
	test_capture_begin();
	ck_assert_ptr_null(
		dg_input_open("in.txt", open_errors[_i].fmt, &status));
	err = test_capture_end();
	ck_assert_int_eq(status, open_errors[_i].status);
	ck_assert_str_eq(err, open_errors[_i].err);
	free(err);
}
END_TEST

START_TEST(test_missing_file)
{
	int status = -1;
	char *err;

	ck_assert_int_eq(mkdir("dir", 0700), 0);
	test_capture_begin();
	ck_assert_ptr_null(dg_input_open("orders.csv", DG_IN_AUTO, &status));
	ck_assert_int_eq(status, DG_EXIT_NOINPUT);
	status = -1;
	ck_assert_ptr_null(dg_input_open("dir", DG_IN_CSV, &status));
	ck_assert_int_eq(status, DG_EXIT_NOINPUT);
	err = test_capture_end();
	ck_assert_str_eq(err, "t: cannot open 'orders.csv': No such file or "
			      "directory\n"
			      "t: cannot open 'dir': Is a directory\n");
	free(err);
}
END_TEST

static const char *const required[] = {"order_id", "amount", "currency"};

static const struct {
	const char *in;
	int rc;
	const char *err;
} requires[] = {
	{"order_id,amount,currency\n", 0, ""},
	{"currency,x,amount,y,order_id\n", 0, ""},
	{"order_id,currency,note\nA1,EUR,x\n", 65,
	 "t: orders.csv: missing required column 'amount'\n"},
	{"order_id,Amount,currency\n", 65,
	 "t: orders.csv: missing required column 'amount'\n"},
	{"amount\n", 65, "t: orders.csv: missing required column 'order_id'\n"},
	{"", 0, ""},
	{"{\"x\":\"1\"}\n", 0, ""},
};

START_TEST(test_require)
{
	struct dg_input *in;
	int status;
	char *err;

	write_file("orders.csv", requires[_i].in, strlen(requires[_i].in));
	in = dg_input_open("orders.csv", DG_IN_AUTO, &status);
	ck_assert_ptr_nonnull(in);
	test_capture_begin();
	ck_assert_int_eq(dg_input_require(in, required, DG_NELEM(required)),
			 requires[_i].rc);
	err = test_capture_end();
	ck_assert_str_eq(err, requires[_i].err);
	ck_assert_int_eq(dg_input_status(in), requires[_i].rc);
	dg_input_close(in);
	free(err);
}
END_TEST

START_TEST(test_stdin)
{
	struct dg_input *in;
	char *err, *out;
	int status;

	stdin_from("\n{\"order_id\":\"A1\",\"amount\":1.5}\n");
	test_capture_begin();
	in = dg_input_open("-", DG_IN_AUTO, &status);
	ck_assert_ptr_nonnull(in);
	ck_assert(dg_input_is_json(in));
	ck_assert_str_eq(dg_input_name(in), "<stdin>");
	out = dump(in, cols, 2);
	ck_assert_str_eq(out, "2:[A1][<bad>]\nend 0\n");
	dg_input_close(in);
	free(out);

	stdin_from("order_id,amount\nA1,1.50\nA2,2\"\n");
	in = dg_input_open(NULL, DG_IN_AUTO, &status);
	ck_assert_ptr_nonnull(in);
	ck_assert(!dg_input_is_json(in));
	ck_assert_str_eq(dg_input_name(in), "<stdin>");
	out = dump(in, cols, 2);
	err = test_capture_end();
	ck_assert_str_eq(out, "2:[A1][1.50]\nerror\nend 65\n");
	ck_assert_str_eq(err, "t: <stdin>:3: malformed CSV: misplaced quote "
			      "in field 2 ('amount')\n");
	dg_input_close(in);
	free(out);
	free(err);
}
END_TEST

/* Detection reads ahead in chunks: blank lines beyond the first chunk
 * still count, and a pipe that delivers bytes one by one works too. */
START_TEST(test_long_blank_prefix)
{
	struct dg_input *in;
	char *text, *out;
	size_t size;
	FILE *mem;
	int status, i;

	mem = open_memstream(&text, &size);
	for (i = 0; i < 5000; i++)
		fputs("\r\n", mem);
	fputs("{\"order_id\":\"A1\"}\n\n{\"order_id\":\"A2\"}\n", mem);
	fclose(mem);
	write_file("in.txt", text, size);
	in = dg_input_open("in.txt", DG_IN_AUTO, &status);
	ck_assert_ptr_nonnull(in);
	ck_assert(dg_input_is_json(in));
	out = dump(in, cols, 1);
	ck_assert_str_eq(out, "5001:[A1]\n5003:[A2]\nend 0\n");
	dg_input_close(in);
	free(text);
	free(out);
}
END_TEST

/* stdin from a pipe that delivers text one byte at a time. */
static void stdin_from_trickle(const char *text, size_t len)
{
	int fds[2];
	pid_t pid;
	size_t i;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		for (i = 0; i < len; i++) {
			if (write(fds[1], text + i, 1) != 1)
				_exit(1);
			usleep(1000);
		}
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_ge(dup2(fds[0], STDIN_FILENO), 0);
	close(fds[0]);
}

START_TEST(test_pipe)
{
	static const char text[] = BOM "\n\n{\"order_id\":\"A1\"}\n";
	struct dg_input *in;
	int status;
	char *out;

	stdin_from_trickle(text, sizeof(text) - 1);
	in = dg_input_open("-", DG_IN_AUTO, &status);
	ck_assert_ptr_nonnull(in);
	ck_assert(dg_input_is_json(in));
	out = dump(in, cols, 1);
	ck_assert_str_eq(out, "3:[A1]\nend 0\n");
	dg_input_close(in);
	free(out);
}
END_TEST

/* A BOM anywhere but at the start is data: this is CSV. */
START_TEST(test_pipe_late_bom)
{
	static const char text[] = "\n" BOM "{\"order_id\":\"A1\"}\n";
	struct dg_input *in;
	int status;

	stdin_from_trickle(text, sizeof(text) - 1);
	test_capture_begin();
	in = dg_input_open("-", DG_IN_AUTO, &status);
	free(test_capture_end());
	ck_assert_ptr_null(in);
	ck_assert_int_eq(status, DG_EXIT_DATAERR);
}
END_TEST

/* Values stay valid until the next record, however many are asked for. */
START_TEST(test_get_lifetime)
{
	static const char text[] =
		"{\"a\":1,\"b\":-2,\"c\":\"x\",\"d\":9007199254740993}\n"
		"{\"a\":3}\n";
	const char *a, *b, *c, *d;
	struct dg_input *in;
	json_t *obj;
	int status;

	write_file("in.txt", text, strlen(text));
	in = dg_input_open("in.txt", DG_IN_AUTO, &status);
	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(dg_input_next(in), 1);
	a = dg_input_get(in, "a", NULL);
	b = dg_input_get(in, "b", NULL);
	c = dg_input_get(in, "c", NULL);
	d = dg_input_get(in, "d", NULL);
	ck_assert_str_eq(a, "1");
	ck_assert_str_eq(b, "-2");
	ck_assert_str_eq(c, "x");
	ck_assert_str_eq(d, "9007199254740993");
	ck_assert_ptr_null(dg_input_get(in, "e", NULL));
	obj = dg_input_json(in);
	ck_assert_ptr_nonnull(obj);
	ck_assert_str_eq(json_string_value(json_object_get(obj, "c")), "x");
	ck_assert_int_eq(dg_input_next(in), 1);
	ck_assert_str_eq(dg_input_get(in, "a", NULL), "3");
	ck_assert_int_eq(dg_input_next(in), 0);
	ck_assert_int_eq(dg_input_next(in), 0);
	dg_input_close(in);
}
END_TEST

/* CSV columns looked up by name record after record: a name is the
 * same column whatever its address, and one buffer holding one name,
 * then another, finds each's own column; more names than are
 * remembered, and long ones, are found too. */
START_TEST(test_get_columns_remembered)
{
	static const char text[] = "b,a,c,a_column_name_longer_than_31_bytes\n"
				   "2,1,3,4\n"
				   "6,5,,8\n";
	char name[64];
	struct dg_input *in;
	int status, rec, k;

	write_file("in.txt", text, strlen(text));
	in = dg_input_open("in.txt", DG_IN_AUTO, &status);
	ck_assert_ptr_nonnull(in);
	for (rec = 0; rec < 2; rec++) {
		ck_assert_int_eq(dg_input_next(in), 1);
		snprintf(name, sizeof(name), "%s", "a");
		ck_assert_str_eq(dg_input_get(in, name, NULL), rec ? "5" : "1");
		snprintf(name, sizeof(name), "%s", "b");
		ck_assert_str_eq(dg_input_get(in, name, NULL), rec ? "6" : "2");
		snprintf(name, sizeof(name), "%s", "z");
		ck_assert_ptr_null(dg_input_get(in, name, NULL));
		snprintf(name, sizeof(name), "%s", "c");
		if (rec)
			ck_assert_ptr_null(dg_input_get(in, name, NULL));
		else
			ck_assert_str_eq(dg_input_get(in, name, NULL), "3");
		ck_assert_str_eq(dg_input_get(in, "a", NULL), rec ? "5" : "1");
		snprintf(name, sizeof(name), "%s",
			 "a_column_name_longer_than_31_bytes");
		ck_assert_str_eq(dg_input_get(in, name, NULL), rec ? "8" : "4");
		for (k = 0; k < 40; k++) {
			snprintf(name, sizeof(name), "x%d", k);
			ck_assert_ptr_null(dg_input_get(in, name, NULL));
		}
		ck_assert_str_eq(dg_input_get(in, "b", NULL), rec ? "6" : "2");
	}
	ck_assert_int_eq(dg_input_next(in), 0);
	dg_input_close(in);
}
END_TEST

START_TEST(test_csv_has_no_json)
{
	struct dg_input *in;
	int status;

	write_file("in.txt", "a\n1\n", 4);
	in = dg_input_open("in.txt", DG_IN_AUTO, &status);
	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(dg_input_next(in), 1);
	ck_assert_ptr_null(dg_input_json(in));
	ck_assert_str_eq(dg_input_get(in, "a", NULL), "1");
	ck_assert_uint_eq(dg_input_line(in), 2);
	ck_assert_int_eq(dg_input_next(in), 0);
	ck_assert_ptr_null(dg_input_get(in, "a", NULL));
	dg_input_close(in);
}
END_TEST

static const struct {
	const char *text;
	int rc;
	enum dg_input_format fmt;
} formats[] = {
	{"csv", 0, DG_IN_CSV},	   {"json", 0, DG_IN_JSON},
	{"auto", 0, DG_IN_AUTO},   {"CSV", -1, DG_IN_AUTO},
	{"jsonl", -1, DG_IN_AUTO}, {"", -1, DG_IN_AUTO},
};

START_TEST(test_format_parse)
{
	enum dg_input_format f = DG_IN_AUTO;

	ck_assert_int_eq(dg_input_format_parse(formats[_i].text, &f),
			 formats[_i].rc);
	ck_assert_int_eq(f, formats[_i].fmt);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("input");
	TCase *tc = tcase_create("input");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_read, 0, DG_NELEM(reads));
	tcase_add_test(tc, test_deferred_messages);
	tcase_add_loop_test(tc, test_open_error, 0, DG_NELEM(open_errors));
	tcase_add_test(tc, test_missing_file);
	tcase_add_loop_test(tc, test_require, 0, DG_NELEM(requires));
	tcase_add_test(tc, test_stdin);
	tcase_add_test(tc, test_long_blank_prefix);
	tcase_add_test(tc, test_pipe);
	tcase_add_test(tc, test_pipe_late_bom);
	tcase_add_test(tc, test_get_lifetime);
	tcase_add_test(tc, test_get_columns_remembered);
	tcase_add_test(tc, test_csv_has_no_json);
	tcase_add_loop_test(tc, test_format_parse, 0, DG_NELEM(formats));
	suite_add_tcase(s, tc);
	return s;
}
