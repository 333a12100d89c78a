/* Shared main() for the Check unit tests: each check_<module>.c defines
 * dg_test_suite() and the suite runs with TAP on stdout, so Automake's TAP
 * driver counts every test case. */
#ifndef DG_CHECK_MAIN_H
#define DG_CHECK_MAIN_H

#include <check.h>

Suite *dg_test_suite(void);

/* Table-driven helpers. */
#define DG_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
