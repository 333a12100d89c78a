/* PLACEHOLDER: replaced by the pay-ingest.c of issue 12. */
#include "daigou.h"

int main(int argc, char **argv)
{
	(void)argc;
	dg_set_progname(argv[0]);
	dg_error("not built yet");
	return DG_EXIT_SOFTWARE;
}
