#include <stdlib.h>
#include <unistd.h>

#include "check_main.h"
#include "daigou.h"

static FILE *err_file;
static int err_saved = -1;

void test_capture_begin(void)
{
	dg_set_progname("t");
	fflush(stderr);
	err_file = tmpfile();
	ck_assert_ptr_nonnull(err_file);
	err_saved = dup(STDERR_FILENO);
	ck_assert_int_ge(err_saved, 0);
	ck_assert_int_ge(dup2(fileno(err_file), STDERR_FILENO), 0);
}

char *test_capture_end(void)
{
	char *text;
	long n;

	fflush(stderr);
	dup2(err_saved, STDERR_FILENO);
	close(err_saved);
	n = ftell(err_file);
	ck_assert_int_ge(n, 0);
	text = dg_xcalloc(1, (size_t)n + 1);
	rewind(err_file);
	ck_assert_uint_eq(fread(text, 1, (size_t)n, err_file), (size_t)n);
	fclose(err_file);
	return text;
}

FILE *test_input_file(const char *text, size_t len)
{
	FILE *fp = tmpfile();

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	rewind(fp);
	return fp;
}

int main(void)
{
	SRunner *sr = srunner_create(dg_test_suite());
	int failed;

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
