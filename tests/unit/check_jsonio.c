/* Unit tests for jsonio.c: JSON Lines, documents, money fields. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

#define BOM "\xEF\xBB\xBF"

/* ------------------------------------------------------------ helpers */

/* Every object as "line:compact JSON\n", "error\n" for each -1, "end\n". */
static char *read_jsonl(const char *text, size_t len, const char *name,
			char **err)
{
	FILE *fp = test_input_file(text, len);
	struct dg_jsonl_reader *r = dg_jsonl_open(fp, name);
	char *out = NULL, *s;
	size_t size;
	FILE *mem = open_memstream(&out, &size);
	unsigned long line;
	json_t *obj;
	int rc, guard = 0;

	test_capture_begin();
	while ((rc = dg_jsonl_next(r, &obj, &line)) != 0 && guard++ < 1000) {
		if (rc < 0) {
			fputs("error\n", mem);
			continue;
		}
		s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fprintf(mem, "%lu:%s\n", line, s);
		free(s);
	}
	*err = test_capture_end();
	fputs("end\n", mem);
	fclose(mem);
	dg_jsonl_close(r);
	fclose(fp);
	return out;
}

/* --------------------------------------------------------- JSON Lines */

static const struct {
	const char *in;
	const char *out;
	const char *err;
} lines[] = {
	{"{\"a\":\"1\"}\n{\"b\":2}\n", "1:{\"a\":\"1\"}\n2:{\"b\":2}\nend\n",
	 ""},
	{"{\"a\":\"1\"}\n\n  \t\n\r\n{\"b\":2}",
	 "1:{\"a\":\"1\"}\n5:{\"b\":2}\nend\n", ""},
	{"{\"a\":\"1\"}\r\n{\"b\":[1,{}]}\r\n",
	 "1:{\"a\":\"1\"}\n2:{\"b\":[1,{}]}\nend\n", ""},
	{BOM "{\"a\":\"1\"}\n", "1:{\"a\":\"1\"}\nend\n", ""},
	{"", "end\n", ""},
	{"\n\n", "end\n", ""},
	{"  { \"order_id\" : \"A1\" , \"amount\" : \"102.30\" }  \n",
	 "1:{\"order_id\":\"A1\",\"amount\":\"102.30\"}\nend\n", ""},
	{"{\"a\":\"1\",\"a\":\"2\"}\n{\"b\":\"3\"}\n",
	 "error\n2:{\"b\":\"3\"}\nend\n",
	 "t: t.jsonl:1: invalid JSON: duplicate object key near '\"a\"'\n"},
	{"{\"a\":\"1\"}\n[1,2]\n", "1:{\"a\":\"1\"}\nerror\nend\n",
	 "t: t.jsonl:2: not a JSON object\n"},
	{"\"x\"\n", "error\nend\n",
	 "t: t.jsonl:1: invalid JSON: '[' or '{' expected near '\"x\"'\n"},
	{"{\"a\":\n\"1\"}\n", "error\nerror\nend\n",
	 "t: t.jsonl:1: invalid JSON: unexpected token near end of file\n"
	 "t: t.jsonl:2: invalid JSON: '[' or '{' expected near '\"1\"'\n"},
	{"{} {}\n", "error\nend\n",
	 "t: t.jsonl:1: invalid JSON: end of file expected near '{'\n"},
	{"{\"a\":1}\n\n{\"a\":tru}\n{\"c\":null}\n",
	 "1:{\"a\":1}\nerror\n4:{\"c\":null}\nend\n",
	 "t: t.jsonl:3: invalid JSON: invalid token near 'tru'\n"},
	{"{\"a\":99999999999999999999}\n", "error\nend\n",
	 "t: t.jsonl:1: invalid JSON: too big integer near "
	 "'99999999999999999999'\n"},
	{"{\"a\":\"\\u0000\"}\n", "error\nend\n",
	 "t: t.jsonl:1: invalid JSON: \\u0000 is not allowed without "
	 "JSON_ALLOW_NUL near '\"\\u0000\"'\n"},
	{"{\"a\":\"1\"}\n{\"b\":\"\xE9\"}\n", "1:{\"a\":\"1\"}\nerror\nend\n",
	 "t: t.jsonl:2: invalid JSON: unable to decode byte 0xe9 near "
	 "'\"'\n"},
	/* the input quoted in jansson's text cannot drive the terminal */
	{"\033[31m\n{\"a\":\"x\033[2J\"}\n{\"b\":1}\n",
	 "error\nerror\n3:{\"b\":1}\nend\n",
	 "t: t.jsonl:1: invalid JSON: '[' or '{' expected near '\\x1b'\n"
	 "t: t.jsonl:2: invalid JSON: control character 0x1b near '\"x'\n"},
};

START_TEST(test_jsonl)
{
	char *err, *out;

	out = read_jsonl(lines[_i].in, strlen(lines[_i].in), "t.jsonl", &err);
	ck_assert_str_eq(out, lines[_i].out);
	ck_assert_str_eq(err, lines[_i].err);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_jsonl_stdin_name)
{
	char *err, *out;

	out = read_jsonl("\n[]\n", 4, "-", &err);
	ck_assert_str_eq(out, "error\nend\n");
	ck_assert_str_eq(err, "t: <stdin>:2: not a JSON object\n");
	free(out);
	free(err);
}
END_TEST

START_TEST(test_jsonl_nul_byte)
{
	static const char in[] = "{\"a\":\"1\"}\n{\"a\":\0}\n{\"b\":\"2\"}\n";
	char *err, *out;

	out = read_jsonl(in, sizeof(in) - 1, "t.jsonl", &err);
	ck_assert_str_eq(out, "1:{\"a\":\"1\"}\nerror\n3:{\"b\":\"2\"}\nend\n");
	ck_assert_str_eq(err, "t: t.jsonl:2: invalid JSON: invalid token "
			      "near end of file\n");
	free(out);
	free(err);
}
END_TEST

/* An over-long line is skipped; the next line reads. */
START_TEST(test_jsonl_line_cap)
{
	char *in, *out, *err;
	size_t len, i;
	FILE *mem;

	mem = open_memstream(&in, &len);
	fputs("{\"a\":\"", mem);
	for (i = 0; i < 1024 * 1024; i++)
		putc('x', mem);
	fputs("\"}\n{\"b\":\"1\"}\n", mem);
	fclose(mem);
	out = read_jsonl(in, len, "t.jsonl", &err);
	ck_assert_str_eq(out, "error\n2:{\"b\":\"1\"}\nend\n");
	ck_assert_str_eq(err, "t: t.jsonl:1: line longer than 1048576 bytes\n");
	free(in);
	free(out);
	free(err);
}
END_TEST

/* ----------------------------------------------------------- documents */

START_TEST(test_parse_document)
{
	static const char good[] = "{\n \"base\": \"EUR\",\n"
				   " \"rates\": {\"USD\": \"1.1684\"}\n}\n";
	static const char dup[] =
		"{\n \"base\": \"EUR\",\n \"base\": \"USD\"\n}";
	static const char bad[] = "{\n \"base\": \"EUR\",\n}";
	json_t *doc;
	char *err;

	doc = dg_json_parse(good, strlen(good), "rates.json");
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "base")),
			 "EUR");
	json_decref(doc);

	test_capture_begin();
	ck_assert_ptr_null(dg_json_parse(dup, strlen(dup), "rates.json"));
	ck_assert_ptr_null(dg_json_parse(bad, strlen(bad), "-"));
	ck_assert_ptr_null(dg_json_parse("", 0, "empty.json"));
	err = test_capture_end();
	ck_assert_str_eq(err,
			 "t: rates.json:3: invalid JSON: duplicate object key "
			 "near '\"base\"'\n"
			 "t: <stdin>:3: invalid JSON: string or '}' expected "
			 "near '}'\n"
			 "t: empty.json:1: invalid JSON: '[' or '{' expected "
			 "near end of file\n");
	free(err);
}
END_TEST

/* ------------------------------------------------------- money fields */

static const struct {
	const char *json;
	int exponent;
	bool int_minor;
	enum dg_merr want;
	long long minor;
	const char *why; /* NULL: dg_merr_str(want) */
} amounts[] = {
	{"{\"amount\":\"102.30\"}", 2, false, DG_M_OK, 10230, ""},
	{"{\"amount\":\"16500\"}", 0, false, DG_M_OK, 16500, ""},
	{"{\"amount\":\"1.250\"}", 3, false, DG_M_OK, 1250, ""},
	{"{\"amount\":\"-0.05\"}", 2, false, DG_M_OK, -5, ""},
	{"{\"amount\":\"16500\"}", 0, true, DG_M_OK, 16500, ""},
	{"{\"amount\":1050}", 2, true, DG_M_OK, 1050, ""},
	{"{\"amount\":-1050}", 2, true, DG_M_OK, -1050, ""},
	{"{\"amount\":0}", 0, true, DG_M_OK, 0, ""},
	{"{\"amount\":1050}", 2, false, DG_M_SYNTAX, 0,
	 "money must be a string, not a number"},
	{"{\"amount\":102.30}", 2, false, DG_M_SYNTAX, 0,
	 "money must be a string, not a number"},
	{"{\"amount\":102.30}", 2, true, DG_M_SYNTAX, 0,
	 "money must be a string, not a number"},
	{"{\"amount\":1e2}", 0, true, DG_M_SYNTAX, 0,
	 "money must be a string, not a number"},
	{"{\"amount\":100.0}", 2, true, DG_M_SYNTAX, 0,
	 "money must be a string, not a number"},
	{"{\"amount\":true}", 2, true, DG_M_SYNTAX, 0,
	 "money must be a string"},
	{"{\"amount\":[\"1.00\"]}", 2, false, DG_M_SYNTAX, 0,
	 "money must be a string"},
	{"{\"amount\":{}}", 2, false, DG_M_SYNTAX, 0, "money must be a string"},
	{"{}", 2, false, DG_M_INVALID, 0, "missing"},
	{"{\"Amount\":\"1.00\"}", 2, false, DG_M_INVALID, 0, "missing"},
	{"{\"amount\":null}", 2, true, DG_M_INVALID, 0, "missing"},
	{"{\"amount\":\"1.234\"}", 2, false, DG_M_PRECISION, 0, NULL},
	{"{\"amount\":\"1.5\"}", 0, false, DG_M_PRECISION, 0, NULL},
	{"{\"amount\":\"abc\"}", 2, false, DG_M_SYNTAX, 0, NULL},
	{"{\"amount\":\"1e5\"}", 2, false, DG_M_SYNTAX, 0, NULL},
	{"{\"amount\":\"\"}", 2, false, DG_M_SYNTAX, 0, NULL},
	{"{\"amount\":\"99999999999999999999\"}", 0, false, DG_M_OVERFLOW, 0,
	 NULL},
};

START_TEST(test_amount)
{
	json_t *obj = dg_json_parse(amounts[_i].json, strlen(amounts[_i].json),
				    "t.json");
	const char *why = "unset";
	int64_t minor = 0;
	enum dg_merr e;

	ck_assert_ptr_nonnull(obj);
	e = dg_json_amount(obj, "amount", amounts[_i].exponent,
			   amounts[_i].int_minor, &minor, &why);
	ck_assert_int_eq(e, amounts[_i].want);
	if (e == DG_M_OK) {
		ck_assert_int_eq(minor, amounts[_i].minor);
		ck_assert_ptr_null(why);
	} else if (amounts[_i].why) {
		ck_assert_str_eq(why, amounts[_i].why);
	} else {
		ck_assert_str_eq(why, dg_merr_str(amounts[_i].want));
	}
	/* why may be NULL */
	ck_assert_int_eq(dg_json_amount(obj, "amount", amounts[_i].exponent,
					amounts[_i].int_minor, &minor, NULL),
			 amounts[_i].want);
	json_decref(obj);
}
END_TEST

/* ------------------------------------------------------------- arena */

static char *compact(const json_t *v)
{
	return json_dumps(v,
			  JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

START_TEST(test_arena_documents)
{
	static const char text[] =
		"{\"id\": \"evt_1\", \"data\": {\"object\": {\"amount\": "
		"10230, "
		"\"tags\": [\"a\", null, true, 1.5], \"m\": {}}}, \"s\": "
		"\"caf\\u00e9\"}";
	struct dg_json_arena *a = dg_json_arena_new();
	json_t *before = json_pack("{s:s}", "k", "made before the arena");
	json_t *doc, *big;
	json_error_t je;
	char *s, *bigtext;
	size_t n = 600000, i; /* more than a block of the arena */
	int round;

	for (round = 0; round < 3; round++) {
		doc = dg_json_arena_loadb(a, text, strlen(text),
					  JSON_REJECT_DUPLICATES, &je);
		ck_assert_ptr_nonnull(doc);
		dg_json_arena_reset(a); /* dropped unread */
		doc = dg_json_arena_loadb(a, text, strlen(text),
					  JSON_REJECT_DUPLICATES, &je);
		s = compact(doc); /* in the span: in the arena, not freed */
		ck_assert_str_eq(s,
				 "{\"id\":\"evt_1\",\"data\":{\"object\":{"
				 "\"amount\":10230,\"tags\":[\"a\",null,true,"
				 "1.5],\"m\":{}}},\"s\":\"caf\xc3\xa9\"}");
		json_decref(doc); /* harmless before the reset */
		/* a value made before the span is freed with free() */
		if (round == 0)
			json_decref(before);
		dg_json_arena_reset(a);
	}
	bigtext = dg_xmalloc(n + 3);
	bigtext[0] = '"';
	for (i = 1; i <= n; i++)
		bigtext[i] = 'x';
	bigtext[n + 1] = '"';
	bigtext[n + 2] = '\0';
	big = dg_json_arena_loadb(a, bigtext, n + 2, JSON_DECODE_ANY, &je);
	ck_assert_ptr_nonnull(big);
	ck_assert_uint_eq(json_string_length(big), n);
	dg_json_arena_reset(a);
	/* and the arena still serves small documents after a large one */
	doc = dg_json_arena_loadb(a, "[1,2]", 5, 0, &je);
	ck_assert_uint_eq(json_array_size(doc), 2);
	dg_json_arena_reset(a);
	/* outside the span, values are malloc'd and freed as ever */
	doc = json_pack("{s:[i,i]}", "after", 1, 2);
	s = compact(doc);
	ck_assert_str_eq(s, "{\"after\":[1,2]}");
	free(s);
	json_decref(doc);
	free(bigtext);
	dg_json_arena_free(a);
}
END_TEST

/* Errors are jansson's own, word for word. */
START_TEST(test_arena_errors)
{
	static const char *const bad[] = {
		"{\"a\": 1, \"a\": 2}",
		"{\"a\": {\"b\": 1, \"b\": 1}}",
		"{\"a\": [1, 2}",
		"{\"a\": \"\xff\"}",
		"{} x",
		"",
	};
	struct dg_json_arena *a = dg_json_arena_new();
	json_error_t want, got;
	json_t *doc;
	size_t i;

	for (i = 0; i < DG_NELEM(bad); i++) {
		doc = json_loadb(bad[i], strlen(bad[i]), JSON_REJECT_DUPLICATES,
				 &want);
		ck_assert_ptr_null(doc);
		doc = dg_json_arena_loadb(a, bad[i], strlen(bad[i]),
					  JSON_REJECT_DUPLICATES, &got);
		ck_assert_ptr_null(doc);
		ck_assert_str_eq(got.text, want.text);
		ck_assert_int_eq(got.line, want.line);
		ck_assert_int_eq(got.column, want.column);
		ck_assert_int_eq(got.position, want.position);
		dg_json_arena_reset(a);
	}
	dg_json_arena_free(a);
}
END_TEST

/* Another thread's values, made and freed while this thread has its
 * arena open, are its own malloc'd ones. */
static void *other_thread(void *arg)
{
	int i;

	(void)arg;
	char want[64];
	int bad = 0;

	for (i = 0; i < 2000 && !bad; i++) {
		json_t *v = json_pack("{s:s, s:[i]}", "k", "v", "n", i);
		char *s = compact(v);

		dg_xsnprintf(want, sizeof(want), "{\"k\":\"v\",\"n\":[%d]}", i);
		bad = strcmp(s, want) != 0;
		free(s);
		json_decref(v);
	}
	if (bad)
		return (void *)1;
	return NULL;
}

START_TEST(test_arena_other_thread)
{
	struct dg_json_arena *a = dg_json_arena_new();
	json_error_t je;
	pthread_t t;
	void *ret = (void *)1;
	json_t *doc;
	int i;

	ck_assert_int_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
	for (i = 0; i < 2000; i++) {
		doc = dg_json_arena_loadb(a, "{\"a\": [1, {\"b\": \"c\"}]}", 22,
					  JSON_REJECT_DUPLICATES, &je);
		ck_assert_ptr_nonnull(doc);
		ck_assert_str_eq(
			json_string_value(json_object_get(
				json_array_get(json_object_get(doc, "a"), 1),
				"b")),
			"c");
		dg_json_arena_reset(a);
	}
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_ptr_null(ret);
	dg_json_arena_free(a);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("jsonio");
	TCase *tc = tcase_create("jsonio");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_jsonl, 0, DG_NELEM(lines));
	tcase_add_test(tc, test_jsonl_stdin_name);
	tcase_add_test(tc, test_jsonl_nul_byte);
	tcase_add_test(tc, test_jsonl_line_cap);
	tcase_add_test(tc, test_parse_document);
	tcase_add_loop_test(tc, test_amount, 0, DG_NELEM(amounts));
	tcase_add_test(tc, test_arena_documents);
	tcase_add_test(tc, test_arena_errors);
	tcase_add_test(tc, test_arena_other_thread);
	suite_add_tcase(s, tc);
	return s;
}
