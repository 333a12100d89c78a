/* dg-test-tool: library functions exposed to shell tests, one subcommand
 * per function family, the way git's t/helper/test-tool does it. Each
 * tt-*.c file provides its commands; dg-test-tool.c dispatches. */
#ifndef DG_TEST_TOOL_H
#define DG_TEST_TOOL_H

/* Each returns the process exit status. argv[0] is the subcommand. */
int tt_money(int argc, char **argv);    /* tt-money.c */
int tt_currency(int argc, char **argv); /* tt-money.c */
int tt_db(int argc, char **argv);       /* tt-db.c */
int tt_clock(int argc, char **argv);    /* dg-test-tool.c */
int tt_io(int argc, char **argv);       /* tt-io.c */
int tt_sig(int argc, char **argv);      /* tt-sig.c */

#endif
