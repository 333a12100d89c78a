/*
 * refundcache.c - the orders a refund run has read, by id, and their
 * charge allocated over their lines and units.
 *
 * The cache is a dense array of orders behind an index (open
 * addressing, linear probes, at most half full). A slot is in use when
 * its gen is the cache's: emptying the cache is one increment.
 */
#include <stdlib.h>
#include <string.h>

#include "daigou.h"

struct dg_order_slot {
	unsigned gen; /* in use when it is the cache's */
	uint32_t hash;
	uint32_t i; /* in orders */
};

uint32_t dg_id_hash(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h ^ (h >> 15);
}

void dg_order_cache_init(struct dg_order_cache *oc)
{
	memset(oc, 0, sizeof(*oc));
	oc->gen = 1;
}

void dg_order_cache_free(struct dg_order_cache *oc)
{
	size_t i;

	for (i = 0; i < oc->cap; i++)
		free(oc->orders[i].o.lines);
	free(oc->orders);
	free(oc->slots);
	dg_order_cache_init(oc);
}

bool dg_order_cache_clear(struct dg_order_cache *oc)
{
	size_t i;

	oc->norders = 0;
	if (++oc->gen)
		return false;
	/* wrapped: no slot may look current */
	for (i = 0; i < oc->nslots; i++)
		oc->slots[i].gen = 0;
	oc->gen = 1;
	return true;
}

/* The index's slot for id: the one holding it, or the free one where
 * it goes. At most half the slots are in use, so a free one is found. */
static struct dg_order_slot *slot_of(struct dg_order_cache *oc, const char *id,
				     uint32_t h)
{
	size_t mask = oc->nslots - 1, i = h & mask;

	for (;; i = (i + 1) & mask) {
		struct dg_order_slot *sl = &oc->slots[i];

		if (sl->gen != oc->gen ||
		    (sl->hash == h && !strcmp(oc->orders[sl->i].id, id)))
			return sl;
	}
}

struct dg_cached_order *dg_order_cache_get(struct dg_order_cache *oc,
					   const char *id)
{
	struct dg_order_slot *sl;

	if (!oc->nslots || !id)
		return NULL;
	sl = slot_of(oc, id, dg_id_hash(id));
	return sl->gen == oc->gen ? &oc->orders[sl->i] : NULL;
}

struct dg_cached_order *dg_order_cache_room(struct dg_order_cache *oc)
{
	struct dg_order_slot *old = oc->slots;
	size_t i, n = oc->nslots;

	if (oc->norders == oc->cap) {
		oc->cap = oc->cap ? oc->cap * 2 : 32;
		oc->orders =
			dg_xrealloc(oc->orders, oc->cap * sizeof(*oc->orders));
		memset(oc->orders + oc->norders, 0,
		       (oc->cap - oc->norders) * sizeof(*oc->orders));
	}
	if ((oc->norders + 1) * 2 > n) {
		oc->nslots = n ? n * 2 : 64;
		oc->slots = dg_xcalloc(oc->nslots, sizeof(*oc->slots));
		for (i = 0; i < n; i++)
			if (old[i].gen == oc->gen)
				*slot_of(oc, oc->orders[old[i].i].id,
					 old[i].hash) = old[i];
		free(old);
	}
	return &oc->orders[oc->norders];
}

void dg_order_cache_add(struct dg_order_cache *oc)
{
	struct dg_cached_order *e = &oc->orders[oc->norders];
	uint32_t h = dg_id_hash(e->id);
	struct dg_order_slot *sl = slot_of(oc, e->id, h);

	sl->gen = oc->gen;
	sl->hash = h;
	sl->i = (uint32_t)oc->norders++;
}

int dg_order_shares(struct dg_order *o, int64_t *w, int64_t *s)
{
	enum dg_merr e = DG_M_OK;
	size_t i;

	for (i = 0; i < o->nlines && !e; i++)
		if (__builtin_mul_overflow(o->lines[i].qty, o->lines[i].amount,
					   &w[i]))
			e = DG_M_OVERFLOW;
	if (!e)
		e = dg_allocate(o->charge_total, w, o->nlines, s);
	for (i = 0; i < o->nlines && !e; i++)
		o->lines[i].share = s[i];
	return e ? -1 : 0;
}

int64_t dg_oline_units_charge(const struct dg_oline *l, int64_t m)
{
	int64_t base = l->share / l->qty, extra = l->share % l->qty;

	return m * base + (m < extra ? m : extra);
}
