/* Unit tests for csvio.c: the CSV reader, the header, tabular output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

#define BOM "\xEF\xBB\xBF"

/* ------------------------------------------------------------ helpers */

/* Every row as "line:[field][field]\n", "error\n" for each -1 and "end\n"
 * at the end; messages in *err. */
static char *dump_rows(struct dg_csv_reader *r, char **err)
{
	const struct dg_csv_row *row;
	char *out = NULL;
	size_t size, i;
	FILE *mem = open_memstream(&out, &size);
	int rc, guard = 0;

	ck_assert_ptr_nonnull(mem);
	test_capture_begin();
	while ((rc = dg_csv_next(r, &row)) != 0 && guard++ < 100000) {
		if (rc < 0) {
			fputs("error\n", mem);
			continue;
		}
		fprintf(mem, "%lu:", row->line);
		for (i = 0; i < row->n; i++) {
			ck_assert_uint_eq(strlen(row->fields[i]), row->lens[i]);
			fprintf(mem, "[%s]", row->fields[i]);
		}
		fputc('\n', mem);
	}
	*err = test_capture_end();
	fputs("end\n", mem);
	fclose(mem);
	return out;
}

/* Text handed out by a read function piece bytes at a time (all that is
 * asked for when piece is 0), as a pipe may. */
struct pieces {
	const char *text;
	size_t len, pos, piece;
};

static ssize_t read_pieces(void *ctx, char *buf, size_t n)
{
	struct pieces *p = ctx;
	size_t k = p->len - p->pos;

	if (p->piece && k > p->piece)
		k = p->piece;
	if (k > n)
		k = n;
	memcpy(buf, p->text + p->pos, k);
	p->pos += k;
	return (ssize_t)k;
}

/* The rows of text read from a stream, and the same read from a read
 * function in pieces of every size that may split a line elsewhere. */
static char *read_csv(const char *text, size_t len, char **err)
{
	static const size_t piece[] = {0, 1, 2, 7, 4096, 70000};
	FILE *fp = test_input_file(text, len);
	struct dg_csv_reader *r = dg_csv_open(fp, "t.csv");
	char *out = dump_rows(r, err);
	size_t i;

	ck_assert(!dg_csv_read_failed(r));
	dg_csv_close(r);
	fclose(fp);
	for (i = 0; i < DG_NELEM(piece); i++) {
		struct pieces p = {.text = text, .len = len, .piece = piece[i]};
		char *out2, *err2;

		/* a megabyte a byte at a time is slow under the sanitizers */
		if (piece[i] && piece[i] < 8 && len > 100000)
			continue;
		r = dg_csv_open_read(read_pieces, &p, "t.csv");
		out2 = dump_rows(r, &err2);
		dg_csv_close(r);
		ck_assert_msg(!strcmp(out, out2) && !strcmp(*err, err2),
			      "read in pieces of %zu: other rows", piece[i]);
		free(out2);
		free(err2);
	}
	return out;
}

/* A string of n copies of c. */
static char *repeat(char c, size_t n)
{
	char *s = dg_xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* -------------------------------------------------------- raw reading */

static const struct {
	const char *in;
	const char *rows;
	const char *err;
} reads[] = {
	{"a,b,c\n1,2,3\n", "1:[a][b][c]\n2:[1][2][3]\nend\n", ""},
	{"a,b\r\n1,2\r\n", "1:[a][b]\n2:[1][2]\nend\n", ""},
	{"a,b\n1,2", "1:[a][b]\n2:[1][2]\nend\n", ""},
	{"a,b\r\n1,2\r", "1:[a][b]\n2:[1][2]\nend\n", ""},
	{"\"x,y\",\"say \"\"hi\"\"\",z\n", "1:[x,y][say \"hi\"][z]\nend\n", ""},
	{"id,note\n1,\"line one\nline two\"\n2,x\n",
	 "1:[id][note]\n2:[1][line one\nline two]\n4:[2][x]\nend\n", ""},
	{"1,\"a\r\nb\"\r\n2,c\r\n", "1:[1][a\r\nb]\n3:[2][c]\nend\n", ""},
	{"1,\"\n\n\"\n\n2\n", "1:[1][\n\n]\n5:[2]\nend\n", ""},
	{"a\n\n  \n\r\nb\n", "1:[a]\n5:[b]\nend\n", ""},
	/* a CR ends no row: inside a field it is kept, at its ends trimmed,
	 * on lines with and without one alike */
	{"a\rb,c\n1,2\n\r x\r,\"q\r\"\r\n3, 4\n",
	 "1:[a\rb][c]\n2:[1][2]\n3:[x][q\r]\n4:[3][4]\nend\n", ""},
	{"\"a\nb\r\nc\",d\ne\r\n", "1:[a\nb\r\nc][d]\n4:[e]\nend\n", ""},
	{"\n\nfirst\n", "3:[first]\nend\n", ""},
	{BOM "date,amount\n", "1:[date][amount]\nend\n", ""},
	{BOM "\"date\",x\n", "1:[date][x]\nend\n", ""},
	{"a\n" BOM "b\n", "1:[a]\n2:[" BOM "b]\nend\n", ""},
	{" a , b ,c \t\n", "1:[a][b][c]\nend\n", ""},
	{"\" a \",\"\tb\" ,c d\n", "1:[ a ][\tb][c d]\nend\n", ""},
	{",,\n", "1:[][][]\nend\n", ""},
	{"\"\",x\n", "1:[][x]\nend\n", ""},
	{"", "end\n", ""},
	{"\n\n \r\n", "end\n", ""},
	{"Date, USD, JPY, \n13 April 2026, 1.1684, 186.75, \n",
	 "1:[Date][USD][JPY][]\n2:[13 April 2026][1.1684][186.75][]\nend\n",
	 ""},
	/* a malformed row is reported, the rows after it are read */
	{"x\na,b\"c\nz\n", "1:[x]\nerror\n3:[z]\nend\n",
	 "t: t.csv:2: malformed CSV: misplaced quote in field 2\n"},
	{"id,note,amount\n1,customer said \"broken,5\n2,fine,6\n",
	 "1:[id][note][amount]\nerror\n3:[2][fine][6]\nend\n",
	 "t: t.csv:2: malformed CSV: misplaced quote in field 2\n"},
	{"\"ab\"c,d\ne,f\n", "error\n2:[e][f]\nend\n",
	 "t: t.csv:1: malformed CSV: misplaced quote in field 1\n"},
	{"\"ab\" \"c\n", "error\nend\n",
	 "t: t.csv:1: malformed CSV: misplaced quote in field 1\n"},
	{"1,\"multi\nline\"x\n2,y\n", "error\n3:[2][y]\nend\n",
	 "t: t.csv:1: malformed CSV: misplaced quote in field 2 on line 2: "
	 "lines 1 to 2 skipped\n"},
	/* a stray opening quote runs on until a quote it cannot take: the
	 * lines it swallowed are named */
	{"1,\"open\n2,x\n3,\"q\"\n4,y\n", "error\n4:[4][y]\nend\n",
	 "t: t.csv:1: malformed CSV: misplaced quote in field 2 on line 3: "
	 "lines 1 to 3 skipped\n"},
	{"a,\"bc\nd\n", "error\nend\n",
	 "t: t.csv:1: malformed CSV: unterminated quote in field 2: lines 1 "
	 "to 2 skipped\n"},
	{"x\n\"abc", "1:[x]\nerror\nend\n",
	 "t: t.csv:2: malformed CSV: unterminated quote in field 1\n"},
	{"x\n\"ab\"\"", "1:[x]\nerror\nend\n",
	 "t: t.csv:2: malformed CSV: unterminated quote in field 1\n"},
};

START_TEST(test_read)
{
	char *err, *out;

	out = read_csv(reads[_i].in, strlen(reads[_i].in), &err);
	ck_assert_str_eq(out, reads[_i].rows);
	ck_assert_str_eq(err, reads[_i].err);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char in[] = "a,b\n1,x\0y\n2,z\n";
	char *err, *out;

	out = read_csv(in, sizeof(in) - 1, &err);
	ck_assert_str_eq(out, "1:[a][b]\nerror\n3:[2][z]\nend\n");
	ck_assert_str_eq(err, "t: t.csv:2: field 2 contains a NUL byte\n");
	free(out);
	free(err);
}
END_TEST

/* A field of exactly the cap reads; one byte more is an error for that
 * row only, quoted or not, on one line or several. */
START_TEST(test_field_cap)
{
	char *big = repeat('x', DG_CSV_MAX_FIELD + 1);
	char *in, *out, *want, *err;
	size_t len;
	FILE *mem;

	mem = open_memstream(&in, &len);
	fprintf(mem, "a,%.*s\n", DG_CSV_MAX_FIELD, big);
	fprintf(mem, "b,%s\n", big);
	fprintf(mem, "\"%.*s\nc\"\n", DG_CSV_MAX_FIELD - 2, big);
	fprintf(mem, "\"%.*s\nc\"\n", DG_CSV_MAX_FIELD - 1, big);
	fputs("last\n", mem);
	fclose(mem);
	out = read_csv(in, len, &err);

	mem = open_memstream(&want, &len);
	fprintf(mem, "1:[a][%.*s]\nerror\n", DG_CSV_MAX_FIELD, big);
	fprintf(mem, "3:[%.*s\nc]\nerror\n7:[last]\nend\n",
		DG_CSV_MAX_FIELD - 2, big);
	fclose(mem);
	ck_assert_str_eq(out, want);
	ck_assert_str_eq(err, "t: t.csv:2: field 2 longer than 65536 bytes\n"
			      "t: t.csv:5: field 1 longer than 65536 bytes: "
			      "lines 5 to 6 skipped\n");
	free(big);
	free(in);
	free(out);
	free(want);
	free(err);
}
END_TEST

/* A quoted field over many lines is refused once, with the lines it
 * took; the memory held stays bounded, and what follows its closing
 * quote is read. */
START_TEST(test_field_runaway)
{
	char *chunk = repeat('x', 60000);
	char *in, *out, *err;
	size_t len;
	FILE *mem;
	int i;

	mem = open_memstream(&in, &len);
	fputs("ok\n\"", mem);
	for (i = 0; i < 40; i++)
		fprintf(mem, "%s\n", chunk);
	fclose(mem);
	out = read_csv(in, len, &err);
	ck_assert_str_eq(out, "1:[ok]\nerror\nend\n");
	ck_assert_str_eq(err, "t: t.csv:2: field 1 longer than 65536 bytes: "
			      "lines 2 to 41 skipped\n");
	free(in);
	free(out);
	free(err);

	mem = open_memstream(&in, &len);
	fputs("ok\n\"", mem);
	for (i = 0; i < 40; i++)
		fprintf(mem, "%s\n", chunk);
	fputs("end\",x\nlast\n", mem);
	fclose(mem);
	out = read_csv(in, len, &err);
	ck_assert_str_eq(out, "1:[ok]\nerror\n43:[last]\nend\n");
	ck_assert_str_eq(err, "t: t.csv:2: field 1 longer than 65536 bytes: "
			      "lines 2 to 42 skipped\n");
	free(chunk);
	free(in);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_field_count_cap)
{
	char *in, *out, *err;
	size_t len;
	FILE *mem;
	int i;

	mem = open_memstream(&in, &len);
	for (i = 1; i < DG_CSV_MAX_FIELDS; i++)
		fputs("1,", mem);
	fputs("1\n", mem);
	for (i = 0; i < DG_CSV_MAX_FIELDS; i++)
		fputs("2,", mem);
	fputs("2\n3\n", mem);
	fclose(mem);
	out = read_csv(in, len, &err);
	/* 1024 fields of "[1]", then the error, then row 3 */
	ck_assert_uint_eq(strlen(out), 2 + 3 * DG_CSV_MAX_FIELDS + 1 +
					       strlen("error\n3:[3]\nend\n"));
	ck_assert_str_eq(out + 2 + 3 * DG_CSV_MAX_FIELDS,
			 "\nerror\n3:[3]\nend\n");
	ck_assert_str_eq(err, "t: t.csv:2: more than 1024 fields\n");
	free(in);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_line_cap)
{
	char *line = repeat('y', 1024 * 1024);
	char *in, *out, *err;
	size_t len;
	FILE *mem;

	mem = open_memstream(&in, &len);
	fputs("a\n", mem);
	fprintf(mem, "%s\n", line); /* one byte over with the newline */
	fputs("b\n", mem);
	fclose(mem);
	out = read_csv(in, len, &err);
	ck_assert_str_eq(out, "1:[a]\nerror\n3:[b]\nend\n");
	ck_assert_str_eq(err, "t: t.csv:2: line longer than 1048576 bytes\n");
	free(in);
	free(out);
	free(err);

	/* inside a quoted field: the row ends there */
	mem = open_memstream(&in, &len);
	fputs("a\n\"x\n", mem);
	fprintf(mem, "%s\n", line);
	fputs("b\n", mem);
	fclose(mem);
	out = read_csv(in, len, &err);
	ck_assert_str_eq(out, "1:[a]\nerror\n4:[b]\nend\n");
	ck_assert_str_eq(err, "t: t.csv:2: line 3 longer than 1048576 bytes: "
			      "lines 2 to 3 skipped\n");
	free(line);
	free(in);
	free(out);
	free(err);
}
END_TEST

static ssize_t read_then_fail(void *ctx, char *buf, size_t n)
{
	int *calls = ctx;

	if ((*calls)++)
		return errno = EIO, -1;
	memcpy(buf, "a\n1\n2", 5);
	return 5;
}

/* A read error ends the input after the whole lines read before it. */
START_TEST(test_read_error)
{
	int calls = 0;
	struct dg_csv_reader *r = dg_csv_open_read(read_then_fail, &calls, "-");
	char *err, *out = dump_rows(r, &err);

	ck_assert_str_eq(out, "1:[a]\n2:[1]\nerror\nend\n");
	ck_assert_str_eq(err, "t: cannot read '<stdin>': Input/output error\n");
	ck_assert(dg_csv_read_failed(r));
	dg_csv_close(r);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_stdin_name)
{
	FILE *fp = test_input_file("\"x\n", 3);
	struct dg_csv_reader *r = dg_csv_open(fp, "-");
	char *err, *out;

	ck_assert_str_eq(dg_csv_name(r), "<stdin>");
	out = dump_rows(r, &err);
	ck_assert_str_eq(out, "error\nend\n");
	ck_assert_str_eq(err, "t: <stdin>:1: malformed CSV: unterminated "
			      "quote in field 1\n");
	dg_csv_close(r);
	fclose(fp);
	free(out);
	free(err);
}
END_TEST

/* ------------------------------------------------------------- header */

static const struct {
	const char *in;
	int rc;
	const char *columns; /* "|"-joined header after reading */
	const char *rows;
	const char *err;
} headers[] = {
	{"order_id,amount,currency\nA1,102.30,EUR\n", 0,
	 "order_id|amount|currency|", "2:[A1][102.30][EUR]\nend\n", ""},
	{"a,b,c\n1,2\n1\n", 0, "a|b|c|", "2:[1][2]\n3:[1]\nend\n", ""},
	{"a,b,c\n1,2,3,,\n", 0, "a|b|c|", "2:[1][2][3][][]\nend\n", ""},
	{"a,b,c\n1,2,3,4\n5,6,7\n", 0, "a|b|c|", "error\n3:[5][6][7]\nend\n",
	 "t: t.csv:2: 4 fields but the header has 3\n"},
	{"a,b,c\n1,2,3, ,x\n", 0, "a|b|c|", "error\nend\n",
	 "t: t.csv:2: 5 fields but the header has 3\n"},
	{"Date, USD, JPY, \n13 April 2026, 1.1684, 186.75, \n", 0,
	 "Date|USD|JPY||", "2:[13 April 2026][1.1684][186.75][]\nend\n", ""},
	{BOM "amount\n1\n", 0, "amount|", "2:[1]\nend\n", ""},
	{"a,b,a\n1,2,3\n", 65, "", "end\n",
	 "t: t.csv:1: duplicate column 'a' in the header\n"},
	{",x,\n1,2,3\n", 0, "|x||", "2:[1][2][3]\nend\n", ""},
	{"", 0, "", "end\n", ""},
	{"\n\n", 0, "", "end\n", ""},
	{"\"a\nb\",c\n1,2\n", 0, "a\nb|c|", "3:[1][2]\nend\n", ""},
	{"\"a,b\n", 65, "", "end\n",
	 "t: t.csv:1: malformed CSV: unterminated quote in field 1\n"},
	{"id,amount\n1,2\"\n", 0, "id|amount|", "error\nend\n",
	 "t: t.csv:2: malformed CSV: misplaced quote in field 2 "
	 "('amount')\n"},
};

START_TEST(test_header)
{
	FILE *fp = test_input_file(headers[_i].in, strlen(headers[_i].in));
	struct dg_csv_reader *r = dg_csv_open(fp, "t.csv");
	char *err, *out, *cols, *rows;
	size_t i, size;
	FILE *mem;
	int rc;

	test_capture_begin();
	rc = dg_csv_read_header(r);
	err = test_capture_end();
	ck_assert_int_eq(rc, headers[_i].rc);
	mem = open_memstream(&cols, &size);
	for (i = 0; i < dg_csv_ncolumns(r); i++)
		fprintf(mem, "%s|", dg_csv_column_name(r, i));
	fclose(mem);
	ck_assert_str_eq(cols, headers[_i].columns);
	ck_assert_ptr_null(dg_csv_column_name(r, dg_csv_ncolumns(r)));
	rows = dump_rows(r, &out);
	ck_assert_str_eq(rows, headers[_i].rows);
	/* messages from the header and from the rows */
	cols = dg_xrealloc(cols, strlen(err) + strlen(out) + 1);
	memcpy(cols, err, strlen(err) + 1);
	memcpy(cols + strlen(err), out, strlen(out) + 1);
	ck_assert_str_eq(cols, headers[_i].err);
	dg_csv_close(r);
	fclose(fp);
	free(cols);
	free(rows);
	free(err);
	free(out);
}
END_TEST

START_TEST(test_column_lookup)
{
	static const char in[] = "currency, amount ,order_id,,note\n";
	FILE *fp = test_input_file(in, strlen(in));
	struct dg_csv_reader *r = dg_csv_open(fp, "t.csv");

	ck_assert_int_eq(dg_csv_read_header(r), 0);
	ck_assert_uint_eq(dg_csv_ncolumns(r), 5);
	ck_assert_int_eq(dg_csv_column(r, "order_id"), 2);
	ck_assert_int_eq(dg_csv_column(r, "amount"), 1);
	ck_assert_int_eq(dg_csv_column(r, "currency"), 0);
	ck_assert_int_eq(dg_csv_column(r, "note"), 4);
	ck_assert_int_eq(dg_csv_column(r, ""), -1);
	ck_assert_int_eq(dg_csv_column(r, "Amount"), -1);
	ck_assert_int_eq(dg_csv_column(r, "rate"), -1);
	dg_csv_close(r);
	fclose(fp);
}
END_TEST

/* The ECB daily file as published: spaces after commas, a trailing ", ". */
START_TEST(test_ecb_daily_fixture)
{
	const char *srcdir = getenv("top_srcdir");
	const struct dg_csv_row *row;
	struct dg_csv_reader *r;
	char path[4096];
	FILE *fp;

	dg_xsnprintf(path, sizeof(path),
		     "%s/tests/fixtures/ecb/"
		     "eurofxref-daily-2026-04-13.csv",
		     srcdir ? srcdir : ".");
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot open %s (set top_srcdir)", path);
	r = dg_csv_open(fp, path);
	ck_assert_int_eq(dg_csv_read_header(r), 0);
	ck_assert_uint_eq(dg_csv_ncolumns(r), 31);
	ck_assert_str_eq(dg_csv_column_name(r, 0), "Date");
	ck_assert_str_eq(dg_csv_column_name(r, 30), "");
	ck_assert_int_eq(dg_csv_next(r, &row), 1);
	ck_assert_uint_eq(row->line, 2);
	ck_assert_uint_eq(row->n, 31);
	ck_assert_str_eq(row->fields[dg_csv_column(r, "Date")],
			 "13 April 2026");
	ck_assert_str_eq(row->fields[dg_csv_column(r, "JPY")], "186.75");
	ck_assert_str_eq(row->fields[dg_csv_column(r, "GBP")], "0.87058");
	ck_assert_str_eq(row->fields[dg_csv_column(r, "ZAR")], "19.3849");
	ck_assert_str_eq(row->fields[30], "");
	ck_assert_int_eq(dg_csv_next(r, &row), 0);
	dg_csv_close(r);
	fclose(fp);
}
END_TEST

/* ------------------------------------------------------------- output */

static const char *const out_columns[] = {"order_id", "amount", "note"};

static const char *const out_rows[][3] = {
	{"A1", "102.30", "plain"},
	{"A2", "-0.05", "has, comma"},
	{"A3", "16500", "say \"hi\""},
	{"A4", NULL, " lead"},
	{"A5", "1.250", "trail "},
	{"A6", "", "two\nlines"},
	{"A7", "x", "cr\r"},
	{"A8", "\ttab", "\xE6\x9D\xB1\xE4\xBA\xAC"},
	{"A9", "a\"b", "c/d\\e"},
};

static const char csv_expected[] = "order_id,amount,note\n"
				   "A1,102.30,plain\n"
				   "A2,-0.05,\"has, comma\"\n"
				   "A3,16500,\"say \"\"hi\"\"\"\n"
				   "A4,,\" lead\"\n"
				   "A5,1.250,\"trail \"\n"
				   "A6,,\"two\nlines\"\n"
				   "A7,x,\"cr\r\"\n"
				   "A8,\"\ttab\",\xE6\x9D\xB1\xE4\xBA\xAC\n"
				   "A9,\"a\"\"b\",c/d\\e\n";

static const char json_expected[] =
	"{\"order_id\":\"A1\",\"amount\":\"102.30\",\"note\":\"plain\"}\n"
	"{\"order_id\":\"A2\",\"amount\":\"-0.05\",\"note\":\"has, comma\"}\n"
	"{\"order_id\":\"A3\",\"amount\":\"16500\","
	"\"note\":\"say \\\"hi\\\"\"}\n"
	"{\"order_id\":\"A4\",\"amount\":null,\"note\":\" lead\"}\n"
	"{\"order_id\":\"A5\",\"amount\":\"1.250\",\"note\":\"trail \"}\n"
	"{\"order_id\":\"A6\",\"amount\":\"\",\"note\":\"two\\nlines\"}\n"
	"{\"order_id\":\"A7\",\"amount\":\"x\",\"note\":\"cr\\r\"}\n"
	"{\"order_id\":\"A8\",\"amount\":\"\\ttab\","
	"\"note\":\"\xE6\x9D\xB1\xE4\xBA\xAC\"}\n"
	"{\"order_id\":\"A9\",\"amount\":\"a\\\"b\",\"note\":\"c/d\\\\e\"}\n";

static char *write_rows(bool json, size_t nrows)
{
	char *buf = NULL;
	size_t size, i;
	FILE *mem = open_memstream(&buf, &size);
	struct dg_out *o = dg_out_new(mem, json, out_columns, 3);

	for (i = 0; i < nrows; i++)
		ck_assert_int_eq(dg_out_row(o, out_rows[i]), 0);
	ck_assert_int_eq(dg_out_close(o), 0);
	fclose(mem);
	return buf;
}

START_TEST(test_out_csv)
{
	char *buf = write_rows(false, DG_NELEM(out_rows));

	ck_assert_str_eq(buf, csv_expected);
	free(buf);
}
END_TEST

START_TEST(test_out_json)
{
	char *buf = write_rows(true, DG_NELEM(out_rows));

	ck_assert_str_eq(buf, json_expected);
	free(buf);
}
END_TEST

START_TEST(test_out_empty)
{
	char *csv = write_rows(false, 0);
	char *json = write_rows(true, 0);

	ck_assert_str_eq(csv, "order_id,amount,note\n");
	ck_assert_str_eq(json, "");
	free(csv);
	free(json);
}
END_TEST

/* dg_out_finish: a run that failed before its first row leaves nothing
 * that looks like an empty result; one that succeeded keeps its header;
 * rows always come with it. */
START_TEST(test_out_finish)
{
	static const int statuses[] = {0, 1, 64, 65, 66, 74};
	char *buf = NULL;
	size_t size, i;
	FILE *mem;
	struct dg_out *o;

	for (i = 0; i < DG_NELEM(statuses); i++) {
		mem = open_memstream(&buf, &size);
		o = dg_out_new(mem, false, out_columns, 3);
		ck_assert_int_eq(dg_out_finish(o, statuses[i]), 0);
		fclose(mem);
		ck_assert_str_eq(buf,
				 statuses[i] ? "" : "order_id,amount,note\n");
		free(buf);

		mem = open_memstream(&buf, &size);
		o = dg_out_new(mem, false, out_columns, 3);
		ck_assert_int_eq(dg_out_row(o, out_rows[0]), 0);
		ck_assert_int_eq(dg_out_finish(o, statuses[i]), 0);
		fclose(mem);
		ck_assert_str_eq(buf,
				 "order_id,amount,note\nA1,102.30,plain\n");
		free(buf);
	}
}
END_TEST

/* What dg_out writes, the reader reads back unchanged (NULL as ""). */
START_TEST(test_out_roundtrip)
{
	char *buf = write_rows(false, DG_NELEM(out_rows));
	FILE *fp = test_input_file(buf, strlen(buf));
	struct dg_csv_reader *r = dg_csv_open(fp, "t.csv");
	const struct dg_csv_row *row;
	size_t i, j;

	ck_assert_int_eq(dg_csv_read_header(r), 0);
	for (j = 0; j < 3; j++)
		ck_assert_str_eq(dg_csv_column_name(r, j), out_columns[j]);
	for (i = 0; i < DG_NELEM(out_rows); i++) {
		ck_assert_int_eq(dg_csv_next(r, &row), 1);
		ck_assert_uint_eq(row->n, 3);
		for (j = 0; j < 3; j++)
			ck_assert_str_eq(row->fields[j],
					 out_rows[i][j] ? out_rows[i][j] : "");
	}
	ck_assert_int_eq(dg_csv_next(r, &row), 0);
	dg_csv_close(r);
	fclose(fp);
	free(buf);
}
END_TEST

/* A row is written whole when no field needs quotes and it is short,
 * field by field otherwise: the same bytes either way, at every length
 * around the line buffer's size, with a field to quote first, last or
 * not at all. */
START_TEST(test_out_long_rows)
{
	static const char *const quoted[] = {NULL, "a,b", "x\"y"};
	static const char *const quoted_out[] = {NULL, "\"a,b\"", "\"x\"\"y\""};
	char big[2100], want[2200];
	size_t len, q, pos;

	for (len = 990; len < 1060; len++) {
		for (q = 0; q < DG_NELEM(quoted); q++) {
			const char *row[3] = {"A1", big, quoted[q]};
			char *buf = NULL;
			size_t size;
			FILE *mem = open_memstream(&buf, &size);
			struct dg_out *o =
				dg_out_new(mem, false, out_columns, 3);

			memset(big, 'z', len);
			big[len] = '\0';
			pos = (size_t)snprintf(want, sizeof(want),
					       "order_id,amount,note\nA1,%s,",
					       big);
			snprintf(want + pos, sizeof(want) - pos, "%s\n",
				 q ? quoted_out[q] : "");
			ck_assert_int_eq(dg_out_row(o, row), 0);
			ck_assert_int_eq(dg_out_close(o), 0);
			fclose(mem);
			ck_assert_str_eq(buf, want);
			free(buf);
		}
	}
}
END_TEST

/* One column: an empty value would be a blank line, which a reader
 * skips; it is written "" and reads back as one empty field. */
START_TEST(test_out_one_empty_column)
{
	static const char *const col[] = {"note"};
	static const char *const rows[][1] = {{""}, {NULL}, {"x"}, {""}};
	char *buf = NULL;
	size_t size, i;
	FILE *mem = open_memstream(&buf, &size), *fp;
	struct dg_out *o = dg_out_new(mem, false, col, 1);
	struct dg_csv_reader *r;
	const struct dg_csv_row *row;

	for (i = 0; i < DG_NELEM(rows); i++)
		ck_assert_int_eq(dg_out_row(o, rows[i]), 0);
	ck_assert_int_eq(dg_out_close(o), 0);
	fclose(mem);
	ck_assert_str_eq(buf, "note\n\"\"\n\"\"\nx\n\"\"\n");
	fp = test_input_file(buf, strlen(buf));
	r = dg_csv_open(fp, "t.csv");
	ck_assert_int_eq(dg_csv_read_header(r), 0);
	for (i = 0; i < DG_NELEM(rows); i++) {
		ck_assert_int_eq(dg_csv_next(r, &row), 1);
		ck_assert_uint_eq(row->n, 1);
		ck_assert_str_eq(row->fields[0], rows[i][0] ? rows[i][0] : "");
	}
	ck_assert_int_eq(dg_csv_next(r, &row), 0);
	dg_csv_close(r);
	fclose(fp);
	free(buf);
}
END_TEST

START_TEST(test_out_bad_utf8)
{
	static const char *const row[] = {"A1", "1.00", "caf\xE9"};
	char *buf = NULL, *err;
	size_t size;
	FILE *mem = open_memstream(&buf, &size);
	struct dg_out *o = dg_out_new(mem, true, out_columns, 3);

	test_capture_begin();
	ck_assert_int_eq(dg_out_row(o, row), DG_EXIT_DATAERR);
	err = test_capture_end();
	ck_assert_str_eq(err, "t: value of 'note' is not valid UTF-8\n");
	ck_assert_int_eq(dg_out_row(o, out_rows[0]), 0);
	ck_assert_int_eq(dg_out_close(o), 0);
	fclose(mem);
	ck_assert_str_eq(buf, "{\"order_id\":\"A1\",\"amount\":\"102.30\","
			      "\"note\":\"plain\"}\n");
	free(buf);
	free(err);
}
END_TEST

START_TEST(test_out_write_error)
{
	FILE *fp = fopen("/dev/full", "w");
	struct dg_out *o;
	char *err;
	int rc = 0, i;

	ck_assert_ptr_nonnull(fp);
	o = dg_out_new(fp, false, out_columns, 3);
	test_capture_begin();
	for (i = 0; i < 1000 && !rc; i++)
		rc = dg_out_row(o, out_rows[0]);
	rc = dg_exit_worst(rc, dg_out_close(o));
	err = test_capture_end();
	ck_assert_int_eq(rc, DG_EXIT_IOERR);
	ck_assert_str_eq(err,
			 "t: cannot write output: No space left on device\n");
	fclose(fp);
	free(err);
}
END_TEST

static const struct {
	const char *in;
	const char *out;
} fields[] = {
	{"", ""},
	{"plain", "plain"},
	{"-12.30", "-12.30"},
	{"a,b", "\"a,b\""},
	{"\"", "\"\"\"\""},
	{"x\ny", "\"x\ny\""},
	{"x\ry", "\"x\ry\""},
	{" x", "\" x\""},
	{"x ", "\"x \""},
	{"in side", "in side"},
	{"\tx", "\"\tx\""},
	{"=1+2", "=1+2"},
};

START_TEST(test_write_field)
{
	char *buf = NULL;
	size_t size;
	FILE *mem = open_memstream(&buf, &size);

	ck_assert_int_eq(
		dg_csv_write_field(mem, fields[_i].in, strlen(fields[_i].in)),
		0);
	fclose(mem);
	ck_assert_str_eq(buf, fields[_i].out);
	free(buf);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("csvio");
	TCase *tc = tcase_create("csvio");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_read, 0, DG_NELEM(reads));
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_field_cap);
	tcase_add_test(tc, test_field_runaway);
	tcase_add_test(tc, test_field_count_cap);
	tcase_add_test(tc, test_line_cap);
	tcase_add_test(tc, test_read_error);
	tcase_add_test(tc, test_stdin_name);
	tcase_add_loop_test(tc, test_header, 0, DG_NELEM(headers));
	tcase_add_test(tc, test_column_lookup);
	tcase_add_test(tc, test_ecb_daily_fixture);
	tcase_add_test(tc, test_out_csv);
	tcase_add_test(tc, test_out_json);
	tcase_add_test(tc, test_out_empty);
	tcase_add_test(tc, test_out_finish);
	tcase_add_test(tc, test_out_roundtrip);
	tcase_add_test(tc, test_out_one_empty_column);
	tcase_add_test(tc, test_out_long_rows);
	tcase_add_test(tc, test_out_bad_utf8);
	tcase_add_test(tc, test_out_write_error);
	tcase_add_loop_test(tc, test_write_field, 0, DG_NELEM(fields));
	suite_add_tcase(s, tc);
	return s;
}
