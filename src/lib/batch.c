/*
 * batch.c - the record loop every batch tool shares: input files in turn
 * (or stdin), their required columns, records gathered into batches of a
 * fixed size, --strict, and messages that keep input order. What a record
 * is and what a batch does belong to the tool, through dg_batch_ops.
 */
#include <stdarg.h>
#include <string.h>

#include "daigou.h"

static char *deferred;
static size_t deferred_size;

void dg_defer(char *buf, size_t size)
{
	deferred = buf;
	deferred_size = size;
	if (buf && size)
		buf[0] = '\0';
}

void dg_report(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!deferred)
		dg_error("%s", msg);
	else if (!deferred[0]) /* a message too long is cut, not fatal */
		snprintf(deferred, deferred_size, "%s", msg);
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

/* One file: 0 when the run goes on, or sets *stop. */
static int one_file(const struct dg_batch_ops *ops, const char *path,
		    bool *stop)
{
	struct dg_input *in;
	int worst = 0, status = 0, ret, r;

	if (!(in = dg_input_open(path, ops->format, &status))) {
		*stop = ops->strict;
		return status;
	}
	if ((ret = dg_input_require(in, ops->required, ops->nrequired))) {
		dg_input_close(in);
		*stop = ops->strict;
		return ret;
	}
	if (ops->tick && (ret = ops->tick(ops->ctx))) {
		dg_input_close(in);
		*stop = true;
		return ret;
	}
	while (!*stop && (r = dg_input_next(in)) != 0) {
		if (r < 0) {
			worst = dg_exit_worst(worst, dg_input_status(in));
			ops->unreadable(ops->ctx);
			if (ops->strict) {
				/* the records before it still count */
				worst = dg_exit_worst(worst,
						      ops->run(ops->ctx, stop));
				*stop = true;
			}
			continue;
		}
		if (!ops->read(ops->ctx, in))
			continue;
		worst = dg_exit_worst(worst, ops->run(ops->ctx, stop));
		if (!*stop && ops->tick && (ret = ops->tick(ops->ctx))) {
			worst = dg_exit_worst(worst, ret);
			*stop = true;
		}
	}
	if (!*stop && dg_input_status(in))
		worst = dg_exit_worst(worst, dg_input_status(in));
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
