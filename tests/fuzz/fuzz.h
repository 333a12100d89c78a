/*
 * fuzz.h - what the libFuzzer harnesses share.
 *
 * Each harness checks properties of one parser, not only that it does
 * not crash: a property that fails prints "fuzz-NAME: property failed:
 * ..." on stderr and aborts, which libFuzzer reports as a crash and
 * saves the input for.
 *
 * The library's own messages (dg_error) are captured per input, so that
 * a harness can check them (a line number, one message per problem) and
 * so that a run is not a flood of expected diagnostics.
 */
#ifndef DG_FUZZ_H
#define DG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FUZZ_NORETURN	  __attribute__((noreturn))
#define FUZZ_PRINTF(f, a) __attribute__((format(printf, f, a)))

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Once, from LLVMFuzzerInitialize: the harness's name for messages. */
void fuzz_init(const char *name);
/* Print "NAME: property failed: ..." on the real stderr and abort. */
void fuzz_fail(const char *fmt, ...) FUZZ_PRINTF(1, 2) FUZZ_NORETURN;
#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__VA_ARGS__);                                \
	} while (0)

/* Capture what the library prints on stderr until fuzz_capture_end,
 * which returns it (NUL-terminated, valid until the next begin). */
void fuzz_capture_begin(void);
const char *fuzz_capture_end(size_t *len);
/* What was printed since *off (0 at first), and *off moved past it. */
const char *fuzz_capture_since(size_t *off);

/* Bytes as a NUL-terminated string (cut at the first NUL), malloc'd. */
char *fuzz_strndup(const uint8_t *data, size_t size);
/* A read-only stream over data (size > 0); fclose it. */
FILE *fuzz_memstream(const uint8_t *data, size_t size);
/* The number of physical lines of data: newlines, plus one when the
 * last line has no newline. */
unsigned long fuzz_count_lines(const uint8_t *data, size_t size);
/* Strict UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF). */
int fuzz_utf8_valid(const char *s, size_t len);
/* Every message in text ("prog: ...\n" lines) names file and a line
 * number "prog: NAME:LINE: " with min <= LINE <= max: returns the
 * number of messages, or aborts. *last (when not NULL) gets the last
 * message's line. */
size_t fuzz_check_messages(const char *text, const char *name,
			   unsigned long min, unsigned long max,
			   unsigned long *last);

/* Physical line lineno (1-based) of data without its newline, the
 * UTF-8 BOM dropped from line 1; NULL past the end. */
const char *fuzz_line(const uint8_t *data, size_t size, unsigned long lineno,
		      size_t *len);
/* Only spaces, tabs, CRs and LFs. */
int fuzz_blank(const char *s, size_t len);
/* Object keys written in JSON text (a string followed by ':'), counted
 * without a JSON parser, against the keys of the parsed tree: they agree
 * unless a key was given twice in one object. */
size_t fuzz_json_text_keys(const char *s, size_t len);
#include <jansson.h>
size_t fuzz_json_tree_keys(json_t *v);

#endif
