/* PLACEHOLDER: replaced by the paystore.c of issue 12. */
#include "daigou.h"
