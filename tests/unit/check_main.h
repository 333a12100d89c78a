/* Shared main() for the Check unit tests: each check_<module>.c defines
 * dg_test_suite() and the suite runs with TAP on stdout, so Automake's TAP
 * driver counts every test case. */
#ifndef DG_CHECK_MAIN_H
#define DG_CHECK_MAIN_H

#include <stdio.h>

#include <check.h>

Suite *dg_test_suite(void);

/* Table-driven helpers. */
#define DG_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Capture what the library prints on stderr: begin, run, and end returns
 * the text (malloc'd). Messages are prefixed "t: ". */
void test_capture_begin(void);
char *test_capture_end(void);
/* A temporary file holding len bytes of text, rewound. */
FILE *test_input_file(const char *text, size_t len);

#endif
