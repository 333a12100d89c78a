/*
 * fuzz-common.c - helpers shared by the harnesses (see fuzz.h).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "daigou.h"

static const char *harness = "fuzz";
static FILE *real_stderr;
static FILE *capture;
static char *captured;
static size_t captured_len;

void fuzz_init(const char *name)
{
	harness = name;
	real_stderr = stderr;
	dg_set_progname(name);
	setvbuf(real_stderr, NULL, _IONBF, 0);
}

void fuzz_fail(const char *fmt, ...)
{
	FILE *out = real_stderr ? real_stderr : stderr;
	va_list ap;

	fprintf(out, "%s: property failed: ", harness);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	if (capture) {
		fflush(capture);
		if (captured_len)
			fprintf(out, "%s: the library said:\n%s", harness,
				captured);
	}
	fflush(out);
	abort();
}

void fuzz_capture_begin(void)
{
	if (capture)
		fclose(capture);
	free(captured);
	captured = NULL;
	captured_len = 0;
	capture = open_memstream(&captured, &captured_len);
	if (!capture)
		fuzz_fail("open_memstream failed");
	stderr = capture;
}

const char *fuzz_capture_end(size_t *len)
{
	if (capture) {
		fclose(capture);
		capture = NULL;
	}
	stderr = real_stderr;
	if (len)
		*len = captured_len;
	return captured ? captured : "";
}

const char *fuzz_capture_since(size_t *off)
{
	const char *s;

	if (!capture)
		fuzz_fail("fuzz_capture_since without fuzz_capture_begin");
	fflush(capture);
	s = captured ? captured + *off : "";
	*off = captured_len;
	return s;
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

FILE *fuzz_memstream(const uint8_t *data, size_t size)
{
	FILE *fp = fmemopen((void *)data, size, "r");

	if (!fp)
		fuzz_fail("fmemopen of %zu bytes failed", size);
	return fp;
}

unsigned long fuzz_count_lines(const uint8_t *data, size_t size)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + (size && data[size - 1] != '\n');
}

int fuzz_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	uint32_t cp, min;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xE0) == 0xC0) {
			n = 1, cp = p[i] & 0x1F, min = 0x80;
		} else if ((p[i] & 0xF0) == 0xE0) {
			n = 2, cp = p[i] & 0x0F, min = 0x800;
		} else if ((p[i] & 0xF8) == 0xF0) {
			n = 3, cp = p[i] & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (i + n >= len)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += n + 1;
	}
	return 1;
}

size_t fuzz_check_messages(const char *text, const char *name,
			   unsigned long min, unsigned long max,
			   unsigned long *last)
{
	const char *p = text, *nl;
	const char *prog = dg_progname();
	size_t count = 0, lp = strlen(prog), ln = strlen(name);
	unsigned long line;
	char *end;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			fuzz_fail("message without a newline: %s", p);
		if (strncmp(p, prog, lp) || strncmp(p + lp, ": ", 2))
			fuzz_fail("a message runs over several lines (text "
				  "from the input not escaped): %s",
				  text);
		if (strncmp(p + lp + 2, name, ln) || p[lp + 2 + ln] != ':')
			fuzz_fail("message does not name '%s': %.*s", name,
				  (int)(nl - p), p);
		line = strtoul(p + lp + 3 + ln, &end, 10);
		if (end == p + lp + 3 + ln || *end != ':')
			fuzz_fail("message without a line number: %.*s",
				  (int)(nl - p), p);
		if (line < min || line > max)
			fuzz_fail("message line %lu outside %lu..%lu: %.*s",
				  line, min, max, (int)(nl - p), p);
		if (last)
			*last = line;
		count++;
		p = nl + 1;
	}
	return count;
}

const char *fuzz_line(const uint8_t *data, size_t size, unsigned long lineno,
		      size_t *len)
{
	const uint8_t *p = data, *end = data + size, *nl;
	unsigned long n;

	for (n = 1; n < lineno; n++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	if (p == end)
		return NULL;
	nl = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((nl ? nl : end) - p);
	if (lineno == 1 && *len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
		p += 3;
		*len -= 3;
	}
	return (const char *)p;
}

int fuzz_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr(" \t\r\n", s[i]) || !s[i])
			return 0;
	return 1;
}

size_t fuzz_json_text_keys(const char *s, size_t len)
{
	size_t i = 0, keys = 0;

	while (i < len) {
		if (s[i++] != '"')
			continue;
		while (i < len && s[i] != '"')
			i += s[i] == '\\' ? 2 : 1;
		i++;
		while (i < len && strchr(" \t\r\n", s[i]) && s[i])
			i++;
		keys += i < len && s[i] == ':';
	}
	return keys;
}

size_t fuzz_json_tree_keys(json_t *v)
{
	size_t n = 0, i;
	const char *key;
	json_t *x;

	if (json_is_object(v)) {
		json_object_foreach(v, key, x) n += 1 + fuzz_json_tree_keys(x);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) n += fuzz_json_tree_keys(x);
	}
	return n;
}
