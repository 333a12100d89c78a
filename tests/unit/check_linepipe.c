/* Unit tests for linepipe.c: lines in input order whatever thread parses
 * them, the queue bounded in lines and in bytes, closing early. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

/* ------------------------------------------------------------ helpers */

static char *write_temp(const char *text, size_t len)
{
	const char *dir = getenv("TMPDIR");
	char *path = dg_xasprintf("%s/check_linepipe.XXXXXX",
				  dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static unsigned long worked;
static bool gate_open = true, slow_taken;

/* The result: the line number, checked against the text "N ...". */
static void *work_lineno(void *state, const struct dg_lp_item *it,
			 const char *line, size_t len)
{
	unsigned long n = strtoul(line, NULL, 10);

	(void)state;
	ck_assert(len > 0);
	pthread_mutex_lock(&mu);
	worked++;
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &mu);
	pthread_mutex_unlock(&mu);
	if (n % 7 == 0)
		usleep(n % 3 ? 50 : 0); /* finish out of order */
	return n == it->lineno ? (void *)(uintptr_t)n : NULL;
}

static void drop(void *arg, void *result)
{
	(void)arg;
	(void)result;
}

static const struct dg_lp_ops ops = {.work = work_lineno, .drop = drop};

static unsigned long worked_now(void)
{
	unsigned long n;

	pthread_mutex_lock(&mu);
	n = worked;
	pthread_mutex_unlock(&mu);
	return n;
}

/* Lines "N\n" 1..n, blank lines after every 100th. */
static char *numbered(unsigned long n, unsigned long *nlines)
{
	char *out = NULL;
	size_t len = 0, cap = 0;
	char buf[32];
	unsigned long i, ln = 0;

	for (i = 1; i <= n; i++) {
		dg_xsnprintf(buf, sizeof(buf), "%lu\n", ++ln);
		dg_xappend(&out, &len, &cap, buf);
		if (i % 100 == 0) {
			dg_xappend(&out, &len, &cap, " \t\r\n");
			ln++;
		}
	}
	*nlines = ln;
	return out;
}

/* -------------------------------------------------------------- tests */

START_TEST(test_order)
{
	static const unsigned threads[] = {1, 2, 3, 8};
	unsigned long nlines, ln, got;
	char *text = numbered(3000, &nlines);
	char *path = write_temp(text, strlen(text));
	char *files[] = {path, (char *)"/nonexistent/x.jsonl", path};
	struct dg_linepipe *lp;
	struct dg_lp_item it;
	int f;

	lp = dg_linepipe_open(files, 3, 1000, threads[_i], &ops);
	for (f = 0; f < 3; f++) {
		dg_linepipe_next(lp, &it);
		ck_assert_int_eq(it.kind, DG_LP_FILE);
		ck_assert_str_eq(it.path, files[f]);
		ck_assert_int_eq(it.err, f == 1 ? ENOENT : 0);
		if (f == 1)
			continue;
		got = 0;
		for (ln = 1; ln <= nlines; ln++) {
			if (ln % 101 == 0)
				continue; /* blank */
			dg_linepipe_next(lp, &it);
			ck_assert_int_eq(it.kind, DG_LP_LINE);
			ck_assert_uint_eq(it.lineno, ln);
			ck_assert_uint_eq((uintptr_t)it.result, ln);
			got++;
		}
		ck_assert_uint_eq(got, 3000);
	}
	dg_linepipe_next(lp, &it);
	ck_assert_int_eq(it.kind, DG_LP_END);
	dg_linepipe_close(lp);
	unlink(path);
	free(path);
	free(text);
}
END_TEST

START_TEST(test_long_lines)
{
	char *text = NULL, *path, *files[1];
	size_t len = 0, cap = 0;
	struct dg_linepipe *lp;
	struct dg_lp_item it;
	char *big = dg_xmalloc(5001);

	memset(big, ' ', 5000);
	big[5000] = '\0';
	dg_xappend(&text, &len, &cap, "1\n");
	dg_xappend(&text, &len, &cap, big); /* line 2: over the cap */
	dg_xappend(&text, &len, &cap, "\n3");
	path = write_temp(text, len);
	files[0] = path;
	lp = dg_linepipe_open(files, 1, 100, 2, &ops);
	dg_linepipe_next(lp, &it);
	ck_assert_int_eq(it.kind, DG_LP_FILE);
	dg_linepipe_next(lp, &it);
	ck_assert_int_eq(it.kind, DG_LP_LINE);
	ck_assert_uint_eq(it.lineno, 1);
	dg_linepipe_next(lp, &it);
	ck_assert_int_eq(it.kind, DG_LP_LONG);
	ck_assert_uint_eq(it.lineno, 2);
	dg_linepipe_close(lp); /* line 3 never taken */
	unlink(path);
	free(path);
	free(text);
	free(big);
}
END_TEST

/* Nobody takes the items: the workers work at most the queue's 1024
 * items (the file's item among them), however long the input. */
START_TEST(test_bounded_items)
{
	unsigned long nlines, i;
	char *text = numbered(20000, &nlines);
	char *path = write_temp(text, strlen(text));
	char *files[] = {path};
	struct dg_linepipe *lp;
	struct dg_lp_item it;

	worked = 0;
	lp = dg_linepipe_open(files, 1, 1000, 4, &ops);
	for (i = 0; i < 500 && worked_now() < 1023; i++)
		usleep(10000);
	usleep(100000);
	ck_assert_uint_le(worked_now(), 1023);
	ck_assert_uint_gt(worked_now(), 0);
	dg_linepipe_next(lp, &it);
	ck_assert_int_eq(it.kind, DG_LP_FILE);
	dg_linepipe_close(lp);
	ck_assert_uint_le(worked_now(), 1024);
	unlink(path);
	free(path);
	free(text);
}
END_TEST

/* The workers held: the reader stops once 16 MiB of lines wait, on an
 * input of 40 MB (stdin, a regular file, whose offset shows how far it
 * was read). */
START_TEST(test_bounded_bytes)
{
	size_t line = 100 * 1000, n = 400, i;
	char *text = dg_xmalloc(line * n), *path;
	char *files[] = {(char *)"-"};
	struct dg_linepipe *lp;
	off_t off;
	int fd;

	for (i = 0; i < n; i++) {
		memset(text + i * line, ' ', line - 1);
		text[i * line] = '1';
		text[(i + 1) * line - 1] = '\n';
	}
	path = write_temp(text, line * n);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 0), 0);
	gate_open = false;
	worked = 0;
	lp = dg_linepipe_open(files, 1, line, 1, &ops);
	for (i = 0; i < 500; i++) {
		usleep(10000);
		if (lseek(0, 0, SEEK_CUR) >= 16 * 1024 * 1024)
			break;
	}
	usleep(100000);
	off = lseek(0, 0, SEEK_CUR);
	ck_assert_int_ge(off, 1);
	/* 16 MiB waiting, the line in the held worker, the reader's block
	 * and the line it holds */
	ck_assert_int_le(off, 16 * 1024 * 1024 + 2 * (off_t)line + 256 * 1024 +
				      (off_t)line);
	pthread_mutex_lock(&mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&mu);
	dg_linepipe_close(lp);
	close(fd);
	unlink(path);
	free(path);
	free(text);
}
END_TEST

/* work_lineno, the first line worked slowly: the other workers go on
 * meanwhile. */
static void *work_first_slow(void *state, const struct dg_lp_item *it,
			     const char *line, size_t len)
{
	bool first;

	ck_assert_ptr_nonnull(line);
	pthread_mutex_lock(&mu);
	first = !slow_taken;
	slow_taken = true;
	pthread_mutex_unlock(&mu);
	if (first)
		usleep(300000);
	return work_lineno(state, it, line, len);
}

static void *start_held(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &mu);
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* The workers start late, after the queue has filled behind the file's
 * item, which the taker has already taken: its slot holds a newer line
 * by then, which no worker may take out of turn. */
START_TEST(test_workers_late)
{
	static const struct dg_lp_ops held = {
		.start = start_held, .work = work_first_slow, .drop = drop};
	unsigned long nlines, ln;
	char *text = numbered(3000, &nlines);
	char *path = write_temp(text, strlen(text));
	char *files[] = {path};
	struct dg_linepipe *lp;
	struct dg_lp_item it;

	gate_open = false;
	worked = 0;
	lp = dg_linepipe_open(files, 1, 1000, 2, &held);
	dg_linepipe_next(lp, &it);
	ck_assert_int_eq(it.kind, DG_LP_FILE);
	usleep(200000); /* the reader fills the queue meanwhile */
	pthread_mutex_lock(&mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&mu);
	for (ln = 1; ln <= nlines; ln++) {
		if (ln % 101 == 0)
			continue;
		dg_linepipe_next(lp, &it);
		ck_assert_int_eq(it.kind, DG_LP_LINE);
		ck_assert_uint_eq(it.lineno, ln);
		ck_assert_uint_eq((uintptr_t)it.result, ln);
	}
	dg_linepipe_next(lp, &it);
	ck_assert_int_eq(it.kind, DG_LP_END);
	dg_linepipe_close(lp);
	unlink(path);
	free(path);
	free(text);
}
END_TEST

/* Closing with the input left open (a pipe nobody closes) returns. */
START_TEST(test_close_open_input)
{
	char *files[] = {(char *)"-"};
	struct dg_linepipe *lp;
	struct dg_lp_item it;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[0], 0), 0);
	ck_assert_int_eq(write(p[1], "1\n", 2), 2);
	lp = dg_linepipe_open(files, 1, 100, 2, &ops);
	dg_linepipe_next(lp, &it);
	ck_assert_int_eq(it.kind, DG_LP_FILE);
	ck_assert_str_eq(it.name, "<stdin>");
	dg_linepipe_next(lp, &it);
	ck_assert_int_eq(it.kind, DG_LP_LINE);
	ck_assert_uint_eq((uintptr_t)it.result, 1);
	dg_linepipe_close(lp); /* would wait forever in read(2) */
	close(p[1]);
	close(p[0]);
}
END_TEST

Suite *dg_test_suite(void)
{
	Suite *s = suite_create("linepipe");
	TCase *tc = tcase_create("linepipe");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_order, 0, 4);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_bounded_items);
	tcase_add_test(tc, test_bounded_bytes);
	tcase_add_test(tc, test_workers_late);
	tcase_add_test(tc, test_close_open_input);
	suite_add_tcase(s, tc);
	return s;
}
