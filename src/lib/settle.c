/*
 * settle.c - gateway settlement files (Stripe itemized balance reports,
 * PayPal STL settlement reports, generic CSV), streamed row by row.
 */
#include <string.h>

#include "daigou.h"

int dg_settle_format_parse(const char *s, enum dg_settle_format *out)
{
	if (strcmp(s, "stripe") == 0)
		*out = DG_SETTLE_STRIPE;
	else if (strcmp(s, "paypal") == 0)
		*out = DG_SETTLE_PAYPAL;
	else if (strcmp(s, "generic") == 0)
		*out = DG_SETTLE_GENERIC;
	else
		return -1;
	return 0;
}

const char *dg_settle_format_name(enum dg_settle_format f)
{
	switch (f) {
	case DG_SETTLE_STRIPE:
		return "stripe";
	case DG_SETTLE_PAYPAL:
		return "paypal";
	case DG_SETTLE_GENERIC:
		return "generic";
	default:
		return "auto";
	}
}

int dg_settle_read(FILE *fp, const char *name, const struct dg_settle_opts *o,
		   dg_settle_cb cb, void *arg, enum dg_settle_format *detected)
{
	(void)fp;
	(void)o;
	(void)cb;
	(void)arg;
	if (detected)
		*detected = DG_SETTLE_AUTO;
	dg_error("%s: settlement files are not read yet",
		 dg_escaped(name, DG_QUOTE_PATH_MAX));
	return DG_EXIT_SOFTWARE;
}
