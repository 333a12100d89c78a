/* PLACEHOLDER: replaced by the paysig.c of issue 12. */
#include "daigou.h"

const char *dg_sig_name(enum dg_sig s)
{
	return s == DG_SIG_OK ? "ok" : "error";
}
