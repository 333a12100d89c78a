/*
 * fx.c - choosing the stored quotes for a conversion, and applying them.
 *
 * A conversion from one currency to another uses a provider's quotes as
 * they were on a day: the newest quote of each pair whose as_of is not
 * after that day. The arithmetic itself is dg_convert's: exact, with one
 * rounding.
 */
#include <string.h>

#include "daigou.h"

const char *dg_fx_method_name(enum dg_fx_method m)
{
	switch (m) {
	case DG_FX_IDENTITY:
		return "identity";
	case DG_FX_DIRECT:
		return "direct";
	case DG_FX_INVERSE:
		return "inverse";
	case DG_FX_CROSS:
		return "cross";
	}
	return "?";
}

/*
 * The caches: an entry is valid while its gen is the finder's, so that a
 * reset (one per transaction) is one increment, not a clear of every
 * slot. Open addressing, a few probes; when they are full or the cache
 * is half full, it starts over.
 */

/* One looked-up pair on one day: found or not. */
struct leg_entry {
	uint32_t gen;
	bool found;
	char base[4], quote[4];
	int32_t day;
	struct dg_fx_leg leg;
};

/* One conversion on one day: dg_fx_find's answer, 0 or 69. */
struct fx_entry {
	uint32_t gen;
	int ret;
	char from[4], to[4];
	int32_t day;
	struct dg_fx fx;
};

#define CACHE_SLOTS 4096 /* a power of two */
#define FX_SLOTS    512	 /* a power of two */
#define PROBES	    8
#define MAX_BASES   8

struct dg_fx_finder {
	sqlite3 *db;
	sqlite3_stmt *newest;
	char provider[32];
	/* the bases the provider quotes against, for crosses */
	char bases[MAX_BASES][4];
	size_t nbases;
	bool bases_known;
	uint32_t gen; /* of the valid entries; never 0 */
	struct leg_entry *cache;
	size_t cached;
	struct fx_entry *fx_cache;
	size_t fx_cached;
};

struct dg_fx_finder *dg_fx_finder_new(sqlite3 *db, const char *provider)
{
	static const char sql[] =
		"SELECT id, rate, as_of FROM rates WHERE provider = ?1 "
		"AND base = ?2 AND quote = ?3 AND as_of <= ?4 "
		"ORDER BY as_of DESC LIMIT 1";
	struct dg_fx_finder *f;

	if (strlen(provider) >= sizeof(f->provider)) {
		dg_error("provider name %s is too long", dg_quoted(provider));
		return NULL;
	}
	f = dg_xcalloc(1, sizeof(*f));
	f->db = db;
	memcpy(f->provider, provider, strlen(provider) + 1);
	f->gen = 1;
	f->cache = dg_xcalloc(CACHE_SLOTS, sizeof(*f->cache));
	f->fx_cache = dg_xcalloc(FX_SLOTS, sizeof(*f->fx_cache));
	if (dg_db_prepare(db, sql, &f->newest)) {
		dg_fx_finder_free(f);
		return NULL;
	}
	return f;
}

/* Forget the legs and the conversions: entries of an older gen. */
static void forget(struct dg_fx_finder *f)
{
	if (++f->gen == 0) {
		/* 2^32 resets: the old gens could come round again */
		memset(f->cache, 0, CACHE_SLOTS * sizeof(*f->cache));
		memset(f->fx_cache, 0, FX_SLOTS * sizeof(*f->fx_cache));
		f->gen = 1;
	}
	f->cached = f->fx_cached = 0;
}

void dg_fx_finder_reset(struct dg_fx_finder *f)
{
	if (!f)
		return;
	forget(f);
	f->bases_known = false;
}

void dg_fx_finder_free(struct dg_fx_finder *f)
{
	if (!f)
		return;
	sqlite3_finalize(f->newest);
	free(f->cache);
	free(f->fx_cache);
	free(f);
}

/* The first slot of a pair on a day, out of slots (a power of two). */
static size_t slot_of(const char *base, const char *quote, int32_t day,
		      size_t slots)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 3; i++) {
		h = (h ^ (unsigned char)base[i]) * 16777619u;
		h = (h ^ (unsigned char)quote[i]) * 16777619u;
	}
	h = (h ^ (uint32_t)day) * 16777619u;
	h ^= h >> 15;
	return h & (slots - 1);
}

/* The bases this provider quotes against: one index seek per base
 * (SELECT DISTINCT would scan every quote the provider has). */
static int load_bases(struct dg_fx_finder *f)
{
	static const char sql[] =
		"SELECT base FROM rates WHERE provider = ?1 AND base > ?2 "
		"ORDER BY base LIMIT 1";
	sqlite3_stmt *st = NULL;
	char last[4] = "";
	int rc = SQLITE_OK, ret;

	if (f->bases_known)
		return 0;
	if ((ret = dg_db_prepare(f->db, sql, &st)))
		return ret;
	f->nbases = 0;
	while (f->nbases < MAX_BASES) {
		const char *b;

		rc = sqlite3_bind_text(st, 1, f->provider, -1, SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(st, 2, last, -1, SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		b = (const char *)sqlite3_column_text(st, 0);
		if (!b || strlen(b) != 3) {
			rc = SQLITE_DONE;
			break;
		}
		memcpy(last, b, 4);
		memcpy(f->bases[f->nbases++], b, 4);
		sqlite3_reset(st);
		rc = SQLITE_DONE;
	}
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		ret = 0;
	else
		ret = dg_db_fail(f->db, rc, "cannot read rates");
	sqlite3_finalize(st);
	if (!ret)
		f->bases_known = true;
	return ret;
}

/* The newest quote base/quote not after day: 0 found, 69 none, 74. */
static int newest_leg(struct dg_fx_finder *f, const char *base,
		      const char *quote, int32_t day, struct dg_fx_leg *out)
{
	size_t i = slot_of(base, quote, day, CACHE_SLOTS), probes;
	struct leg_entry *e = NULL;
	char day_text[DG_DATE_SIZE];
	sqlite3_stmt *st = f->newest;
	int rc, ret = 0;

	for (probes = 0; probes < PROBES; probes++) {
		e = &f->cache[(i + probes) & (CACHE_SLOTS - 1)];
		if (e->gen != f->gen)
			break;
		if (e->day == day && !memcmp(e->base, base, 4) &&
		    !memcmp(e->quote, quote, 4)) {
			if (!e->found)
				return DG_EXIT_UNAVAILABLE;
			*out = e->leg;
			return 0;
		}
		e = NULL;
	}
	if (!e || f->cached >= CACHE_SLOTS / 2) {
		forget(f);
		e = &f->cache[i];
	}

	dg_format_date(day, day_text);
	rc = sqlite3_bind_text(st, 1, f->provider, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, base, 3, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, quote, 3, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 4, day_text, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	memset(e, 0, sizeof(*e));
	if (rc == SQLITE_ROW) {
		const char *rate = (const char *)sqlite3_column_text(st, 1);
		const char *as_of = (const char *)sqlite3_column_text(st, 2);

		e->leg.rate_id = sqlite3_column_int64(st, 0);
		memcpy(e->leg.base, base, 4);
		memcpy(e->leg.quote, quote, 4);
		if (!rate || dg_rate_parse(rate, &e->leg.rate) || !as_of ||
		    dg_parse_date(as_of, &e->leg.as_of)) {
			dg_report("stored %s rate %s/%s of %s is not a rate: "
				  "%s",
				  dg_escaped(f->provider, DG_QUOTE_MAX), base,
				  quote,
				  dg_escaped(as_of ? as_of : "?", DG_QUOTE_MAX),
				  dg_quoted(rate ? rate : ""));
			ret = DG_EXIT_SOFTWARE;
		} else {
			e->found = true;
		}
	} else if (rc == SQLITE_DONE) {
		e->found = false;
	} else {
		ret = dg_db_fail(f->db, rc, "cannot read rates");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (ret)
		return ret;
	e->gen = f->gen;
	memcpy(e->base, base, 4);
	memcpy(e->quote, quote, 4);
	e->day = day;
	f->cached++;
	if (!e->found)
		return DG_EXIT_UNAVAILABLE;
	*out = e->leg;
	return 0;
}

static int32_t older(int32_t a, int32_t b)
{
	return a < b ? a : b;
}

static void fx_start(const struct dg_fx_finder *f, const char *from,
		     const char *to, struct dg_fx *fx)
{
	memset(fx, 0, sizeof(*fx));
	memcpy(fx->provider, f->provider, sizeof(fx->provider));
	memcpy(fx->from, from, 3);
	memcpy(fx->to, to, 3);
	fx->as_of = INT32_MIN;
}

/* dg_fx_find without the cache of conversions, for a pair of two
 * currencies. */
static int find(struct dg_fx_finder *f, const char *from, const char *to,
		int32_t on_day, struct dg_fx *fx)
{
	struct dg_fx_leg a, b;
	bool have = false;
	size_t i;
	int ret;

	ret = newest_leg(f, from, to, on_day, &a);
	if (ret == 0) {
		fx->method = DG_FX_DIRECT;
		fx->has_mul = true;
		fx->mul = a;
		fx->as_of = a.as_of;
		have = true;
	} else if (ret != DG_EXIT_UNAVAILABLE) {
		return ret;
	}

	ret = newest_leg(f, to, from, on_day, &a);
	if (ret == 0) {
		if (!have || a.as_of > fx->as_of) {
			fx->method = DG_FX_INVERSE;
			fx->has_mul = false;
			fx->has_div = true;
			fx->div = a;
			fx->as_of = a.as_of;
			have = true;
		}
	} else if (ret != DG_EXIT_UNAVAILABLE) {
		return ret;
	}

	if ((ret = load_bases(f)))
		return ret;
	for (i = 0; i < f->nbases; i++) {
		const char *base = f->bases[i];

		if (!strcmp(base, from) || !strcmp(base, to))
			continue;
		ret = newest_leg(f, base, to, on_day, &a);
		if (ret == 0)
			ret = newest_leg(f, base, from, on_day, &b);
		if (ret == DG_EXIT_UNAVAILABLE)
			continue;
		if (ret)
			return ret;
		if (have && older(a.as_of, b.as_of) <= fx->as_of)
			continue;
		fx->method = DG_FX_CROSS;
		fx->has_mul = fx->has_div = true;
		fx->mul = a;
		fx->div = b;
		fx->as_of = older(a.as_of, b.as_of);
		have = true;
	}
	if (!have)
		return DG_EXIT_UNAVAILABLE;
	if (dg_fx_effective(fx, fx->effective, sizeof(fx->effective)))
		fx->effective[0] = '\0';
	return 0;
}

int dg_fx_find(struct dg_fx_finder *f, const char *from, const char *to,
	       int32_t on_day, struct dg_fx *fx)
{
	size_t i, probes;
	struct fx_entry *e;
	int ret;

	if (!strcmp(from, to)) {
		fx_start(f, from, to, fx);
		fx->method = DG_FX_IDENTITY;
		memcpy(fx->effective, "1", 2);
		return 0;
	}
	i = slot_of(from, to, on_day, FX_SLOTS);
	for (probes = 0; probes < PROBES; probes++) {
		e = &f->fx_cache[(i + probes) & (FX_SLOTS - 1)];
		if (e->gen != f->gen)
			break;
		if (e->day == on_day && !memcmp(e->from, from, 4) &&
		    !memcmp(e->to, to, 4)) {
			*fx = e->fx;
			return e->ret;
		}
	}

	fx_start(f, from, to, fx);
	ret = find(f, from, to, on_day, fx);
	if (ret && ret != DG_EXIT_UNAVAILABLE)
		return ret; /* an error: not kept, its message given */
	/* find may have started the caches over: look for a free slot */
	e = NULL;
	for (probes = 0; probes < PROBES && f->fx_cached < FX_SLOTS / 2;
	     probes++) {
		struct fx_entry *c =
			&f->fx_cache[(i + probes) & (FX_SLOTS - 1)];

		if (c->gen != f->gen) {
			e = c;
			break;
		}
	}
	if (!e) {
		forget(f);
		e = &f->fx_cache[i];
	}
	e->gen = f->gen;
	e->ret = ret;
	memcpy(e->from, from, 4);
	memcpy(e->to, to, 4);
	e->day = on_day;
	e->fx = *fx;
	f->fx_cached++;
	return ret;
}

enum dg_merr dg_fx_convert(const struct dg_fx *fx, int64_t amount, int from_exp,
			   int to_exp, enum dg_rounding mode, int64_t *out)
{
	return dg_convert(amount, from_exp, to_exp,
			  fx->has_mul ? &fx->mul.rate : NULL,
			  fx->has_div ? &fx->div.rate : NULL, mode, out);
}

enum dg_merr dg_fx_effective(const struct dg_fx *fx, char *buf, size_t len)
{
	if (fx->method == DG_FX_IDENTITY) {
		if (len < 2)
			return DG_M_OVERFLOW;
		memcpy(buf, "1", 2);
		return DG_M_OK;
	}
	return dg_rate_effective(fx->has_mul ? &fx->mul.rate : NULL,
				 fx->has_div ? &fx->div.rate : NULL, buf, len);
}
