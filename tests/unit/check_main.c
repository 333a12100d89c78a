#include <stdlib.h>

#include "check_main.h"

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
