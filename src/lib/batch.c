/*
 * batch.c - the record loop every batch tool shares: input files in turn
 * (or stdin), their required columns, records gathered into batches of a
 * fixed size, --strict, and messages that keep input order. What a record
 * is and what a batch does belong to the tool, through dg_batch_ops.
 */
#include <stdarg.h>
#include <string.h>

#include "daigou.h"

static bool deferring;
static char *deferred;

char *dg_xvasprintf(const char *fmt, va_list ap)
{
	va_list again;
	char *s;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0)
		dg_die(DG_EXIT_SOFTWARE, "internal error: cannot format '%s'",
		       fmt);
	s = dg_xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *dg_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = dg_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void dg_defer_begin(void)
{
	free(deferred);
	deferred = NULL;
	deferring = true;
}

char *dg_defer_end(void)
{
	char *msg = deferred;

	deferred = NULL;
	deferring = false;
	return msg;
}

void dg_report(const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = dg_xvasprintf(fmt, ap);
	va_end(ap);
	if (!deferring)
		dg_error("%s", msg);
	else if (!deferred) /* the first message is the one kept */
		deferred = msg, msg = NULL;
	free(msg);
}

bool dg_valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DG_ID_MAX)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || *s == ',' || *s == '"' ||
		    *s == '\'')
			return false;
	return true;
}

/* A whole file refused (cannot be opened, unreadable header, a missing
 * column): counted by the tool; with --strict the run ends. */
static int file_failed(const struct dg_batch_ops *ops, int status, bool *stop)
{
	if (ops->file_failed)
		ops->file_failed(ops->ctx, status);
	*stop = ops->strict;
	return status;
}

/* One file: 0 when the run goes on, or sets *stop. */
static int one_file(const struct dg_batch_ops *ops, const char *path,
		    bool *stop)
{
	struct dg_input *in;
	int worst = 0, status = 0, ret, r;
	bool full;

	/* What the file's failure says comes after the records before it. */
	worst = ops->run(ops->ctx, stop);
	if (*stop)
		return worst;
	if (!(in = dg_input_open(path, ops->format, &status)))
		return dg_exit_worst(worst, file_failed(ops, status, stop));
	if ((ret = dg_input_require(in, ops->required, ops->nrequired))) {
		dg_input_close(in);
		return dg_exit_worst(worst, file_failed(ops, ret, stop));
	}
	if (ops->tick && (ret = ops->tick(ops->ctx))) {
		dg_input_close(in);
		*stop = true;
		return dg_exit_worst(worst, ret);
	}
	for (;;) {
		dg_defer_begin();
		r = dg_input_next(in);
		if (r < 0) {
			/* kept in the batch, its message printed in turn */
			full = ops->unreadable(ops->ctx, dg_input_status(in),
					       dg_defer_end());
		} else {
			free(dg_defer_end());
			if (r == 0)
				break;
			full = ops->read(ops->ctx, in);
		}
		if (!full && !(r < 0 && ops->strict))
			continue;
		worst = dg_exit_worst(worst, ops->run(ops->ctx, stop));
		if (*stop)
			break;
		if (ops->tick && (ret = ops->tick(ops->ctx))) {
			worst = dg_exit_worst(worst, ret);
			*stop = true;
			break;
		}
	}
	dg_input_close(in);
	return worst;
}

int dg_batch_files(const struct dg_batch_ops *ops, int nfiles,
		   char *const *files, bool *stopped)
{
	bool stop = false;
	int worst = 0, i;

	for (i = 0; i < (nfiles ? nfiles : 1) && !stop; i++)
		worst = dg_exit_worst(
			worst, one_file(ops, nfiles ? files[i] : "-", &stop));
	if (!stop)
		worst = dg_exit_worst(worst, ops->run(ops->ctx, &stop));
	if (stopped)
		*stopped = stop;
	return worst;
}
