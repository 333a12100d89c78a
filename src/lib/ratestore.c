/*
 * ratestore.c - a parsed rate document into the rates table: idempotent
 * (what is stored already is left alone, a differing stored value
 * refuses the whole document), rows inserted in the order of the rates
 * index, the jump valve against the previous stored quote of each pair,
 * and the conditional-GET validators of fetch_state. The caller holds
 * the transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "daigou.h"

/* Per pair: the newest quote this run stored, for the jump valve, and
 * where the pair's first new quote stands in the document (the valve
 * reports pairs in that order). */
struct newest {
	char base[4], quote[4];
	int32_t as_of;
	const struct dg_rate *rate;
	size_t first;
};

void dg_store_stats_free(struct dg_store_stats *s)
{
	size_t i;

	for (i = 0; i < s->jumps; i++)
		free(s->jump_msgs[i]);
	free(s->jump_msgs);
	s->jump_msgs = NULL;
	s->jumps = 0;
}

static bool symbol_wanted(const char *symbols, const char *code)
{
	const char *p = symbols;

	if (!symbols)
		return true;
	for (; *p; p += *p == ',') {
		if (!strncmp(p, code, 3) && (p[3] == ',' || p[3] == '\0'))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

static int bind_texts(sqlite3_stmt *st, const char *const *v, int n)
{
	int i, rc = SQLITE_OK;

	sqlite3_reset(st);
	for (i = 0; i < n && rc == SQLITE_OK; i++)
		rc = sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
	return rc;
}

/*
 * A quote of the document in the order of the rates UNIQUE index
 * (provider, base, quote, as_of); provider is the same for the whole
 * document. Stored in that order, each insert lands at the end of its
 * pair's run in the index, and in a new database at the end of the
 * table and of the index, instead of all over both.
 */
struct row {
	uint64_t pair; /* base and quote, byte by byte: memcmp order */
	int32_t as_of;
	bool stored; /* already in the database, with the same value */
	size_t i;    /* its place in the document */
};

static uint64_t pair_key(const struct dg_quote *x)
{
	const unsigned char *b = (const unsigned char *)x->base;
	const unsigned char *q = (const unsigned char *)x->quote;

	return (uint64_t)b[0] << 40 | (uint64_t)b[1] << 32 |
	       (uint64_t)b[2] << 24 | (uint64_t)q[0] << 16 |
	       (uint64_t)q[1] << 8 | (uint64_t)q[2];
}

static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;

	if (a->pair != b->pair)
		return a->pair < b->pair ? -1 : 1;
	if (a->as_of != b->as_of)
		return a->as_of < b->as_of ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

/* The pairs of a document: an open-addressing table from a pair's key
 * to its place in the order the document first names them. */
struct pair_table {
	uint64_t *key; /* 0 marks an empty slot: no pair packs to 0 */
	size_t *idx;
	size_t cap, n;
};

static size_t pair_hash(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
}

static size_t pair_index(struct pair_table *t, uint64_t key)
{
	struct pair_table old = *t;
	size_t h, i;

	if (2 * (t->n + 1) > t->cap) {
		t->cap = old.cap ? 2 * old.cap : 64;
		t->key = dg_xcalloc(t->cap, sizeof(*t->key));
		t->idx = dg_xmalloc(t->cap * sizeof(*t->idx));
		for (i = 0; i < old.cap; i++) {
			if (!old.key[i])
				continue;
			h = pair_hash(old.key[i], t->cap);
			while (t->key[h])
				h = (h + 1) & (t->cap - 1);
			t->key[h] = old.key[i];
			t->idx[h] = old.idx[i];
		}
		free(old.key);
		free(old.idx);
	}
	for (h = pair_hash(key, t->cap); t->key[h]; h = (h + 1) & (t->cap - 1))
		if (t->key[h] == key)
			return t->idx[h];
	t->key[h] = key;
	t->idx[h] = t->n;
	return t->n++;
}

struct pair_rank {
	uint64_t key;
	size_t idx;
};

static int pair_rank_cmp(const void *pa, const void *pb)
{
	const struct pair_rank *a = pa, *b = pb;

	return (a->key > b->key) - (a->key < b->key);
}

/* One pair's rows by day: as they are when the document runs oldest
 * first, reversed when it runs newest first (the ECB feeds), sorted
 * otherwise. */
static void sort_days(struct row *r, size_t n)
{
	bool up = true, down = true;
	struct row t;
	size_t i;

	for (i = 1; i < n && (up || down); i++) {
		if (r[i].as_of <= r[i - 1].as_of)
			up = false;
		if (r[i].as_of >= r[i - 1].as_of)
			down = false;
	}
	if (up)
		return;
	if (!down) {
		qsort(r, n, sizeof(*r), row_cmp);
		return;
	}
	for (i = 0; i < n / 2; i++) {
		t = r[i];
		r[i] = r[n - 1 - i];
		r[n - 1 - i] = t;
	}
}

/* Rows into index order in linear time for the usual document: a stable
 * counting sort by pair (a document names few), then sort_days. */
static void sort_rows(struct row *r, size_t n)
{
	struct pair_table t = {NULL, NULL, 0, 0};
	struct pair_rank *rank;
	struct row *out;
	size_t *pi, *start, i, a, b, pos = 0;

	if (n == 0)
		return;
	pi = dg_xmalloc(n * sizeof(*pi));
	for (i = 0; i < n; i++)
		pi[i] = pair_index(&t, r[i].pair);
	rank = dg_xmalloc(t.n * sizeof(*rank));
	start = dg_xcalloc(t.n, sizeof(*start));
	for (i = 0; i < n; i++) {
		rank[pi[i]].key = r[i].pair;
		rank[pi[i]].idx = pi[i];
		start[pi[i]]++;
	}
	qsort(rank, t.n, sizeof(*rank), pair_rank_cmp);
	for (i = 0; i < t.n; i++) {
		size_t count = start[rank[i].idx];

		start[rank[i].idx] = pos;
		pos += count;
	}
	out = dg_xmalloc(n * sizeof(*out));
	for (i = 0; i < n; i++)
		out[start[pi[i]]++] = r[i];
	for (a = 0; a < n; a = b) {
		for (b = a + 1; b < n && out[b].pair == out[a].pair; b++)
			;
		sort_days(out + a, b - a);
	}
	memcpy(r, out, n * sizeof(*r));
	free(out);
	free(start);
	free(rank);
	free(pi);
	free(t.key);
	free(t.idx);
}

static int newest_cmp(const void *pa, const void *pb)
{
	const struct newest *a = pa, *b = pb;

	return (a->first > b->first) - (a->first < b->first);
}

/* The quotes --symbols keeps, counted in document order, then sorted
 * into index order. */
static struct row *collect(const struct dg_quotes *q, const char *symbols,
			   struct dg_store_stats *stats, size_t *n_out)
{
	struct row *r = dg_xmalloc((q->n ? q->n : 1) * sizeof(*r));
	int32_t last_day = INT32_MIN;
	size_t i, n = 0;

	stats->first = INT32_MAX;
	stats->last = INT32_MIN;
	for (i = 0; i < q->n; i++) {
		const struct dg_quote *x = &q->v[i];

		if (!symbol_wanted(symbols, x->quote))
			continue;
		stats->quotes++;
		if (x->as_of != last_day) {
			/* documents group quotes by day */
			stats->days++;
			last_day = x->as_of;
		}
		if (x->as_of < stats->first)
			stats->first = x->as_of;
		if (x->as_of > stats->last)
			stats->last = x->as_of;
		r[n].pair = pair_key(x);
		r[n].as_of = x->as_of;
		r[n].stored = false;
		r[n].i = i;
		n++;
	}
	sort_rows(r, n);
	*n_out = n;
	return r;
}

/* A quote of the document whose value differs from the stored one. */
struct conflict {
	size_t i;
	char *stored; /* the stored text, NULL when there is no conflict */
};

/*
 * Marks the rows of one pair, r[0..n), that are stored already, read in
 * one range query rather than one query per quote. The same value, even
 * as other text (the CSV's 4.763 for the XML's 4.7630), is no news; any
 * other value is a conflict, and the one that comes first in the
 * document is kept in *bad.
 */
static int match_stored(sqlite3 *db, sqlite3_stmt *get, const char *provider,
			const struct dg_quotes *q, struct row *r, size_t n,
			struct conflict *bad)
{
	const struct dg_quote *lo = &q->v[r[0].i], *hi = &q->v[r[n - 1].i];
	const char *vals[] = {provider, lo->base, lo->quote, lo->as_of_text,
			      hi->as_of_text};
	const struct dg_quote *x;
	struct dg_rate stored;
	const char *day, *rate;
	size_t k = 0;
	int rc;

	if ((rc = bind_texts(get, vals, 5)) != SQLITE_OK)
		return dg_db_fail(db, rc, "cannot read stored quotes");
	while ((rc = sqlite3_step(get)) == SQLITE_ROW) {
		day = (const char *)sqlite3_column_text(get, 0);
		rate = (const char *)sqlite3_column_text(get, 1);
		if (!day)
			continue;
		while (k < n && strcmp(q->v[r[k].i].as_of_text, day) < 0)
			k++;
		if (k == n || strcmp((x = &q->v[r[k].i])->as_of_text, day))
			continue;
		r[k].stored = true;
		if (!rate)
			rate = "";
		if (strcmp(rate, x->rate.text) &&
		    (dg_rate_parse(rate, &stored) ||
		     dg_rate_cmp(&stored, &x->rate)) &&
		    (!bad->stored || r[k].i < bad->i)) {
			free(bad->stored);
			bad->stored = dg_xstrdup(rate);
			bad->i = r[k].i;
		}
		k++;
	}
	sqlite3_reset(get);
	return rc == SQLITE_DONE
		       ? 0
		       : dg_db_fail(db, rc, "cannot read stored quotes");
}

/*
 * Rows per INSERT statement, at most. One statement stores many rows, so
 * that SQLite keeps its cursors on the last page of the table and of the
 * index from one row to the next instead of descending from the root
 * for each, and pays for a statement's start and end once per batch. A
 * batch is one pair's, so base and quote are bound once for it; a
 * pair's last rows go in batches of 64, 32, ... 1, one prepared
 * statement for each size.
 */
#define INSERT_ROWS_LOG2 7
#define INSERT_ROWS	 (1 << INSERT_ROWS_LOG2)

/* "INSERT ... VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7), (?1, ?2, ?3, ?4, ?5,
 * ?8, ?9), ..." for n rows: made of constants only, no input in it. */
static char *insert_sql(size_t n)
{
	char *sql = NULL, tuple[64];
	size_t len = 0, cap = 0, j;

	dg_xappend(
		&sql, &len, &cap,
		"INSERT INTO rates (provider, fetched_at, source, base, quote, "
		"rate, as_of) VALUES ");
	for (j = 0; j < n; j++) {
		dg_xsnprintf(tuple, sizeof(tuple),
			     "%s(?1, ?2, ?3, ?4, ?5, ?%zu, ?%zu)",
			     j ? ", " : "", 6 + 2 * j, 7 + 2 * j);
		dg_xappend(&sql, &len, &cap, tuple);
	}
	return sql;
}

struct inserter {
	sqlite3 *db;
	const char *provider, *fetched_at, *source;
	sqlite3_stmt *st[INSERT_ROWS_LOG2 + 1]; /* st[b]: 1 << b rows */
};

static void inserter_free(struct inserter *w)
{
	size_t b;

	for (b = 0; b <= INSERT_ROWS_LOG2; b++)
		sqlite3_finalize(w->st[b]);
}

/*
 * The rates table's CHECK constraints, in C: the inserts run with
 * SQLite's off (dg_db_checks): evaluated by SQLite they were nearly a
 * third of the insert's instructions, repeating what the parsers have
 * checked. A
 * quote they refuse is a bug of the library: 70, nothing stored.
 */
static int check_rows(const struct inserter *w, const struct dg_quote *const *v,
		      size_t n)
{
	size_t i;

	if (!dg_db_rate_doc_ok(w->provider, w->fetched_at)) {
		dg_error("cannot store quotes from %s fetched at %s: they fail "
			 "the rates table's checks",
			 dg_escaped(w->provider, DG_QUOTE_MAX),
			 dg_escaped(w->fetched_at, DG_QUOTE_MAX));
		return DG_EXIT_SOFTWARE;
	}
	for (i = 0; i < n; i++) {
		if (dg_db_rate_quote_ok(v[i]->base, v[i]->quote,
					v[i]->rate.text, v[i]->as_of_text))
			continue;
		dg_error("cannot store %s/%s on %s: it fails the rates "
			 "table's checks",
			 dg_escaped(v[i]->base, 8), dg_escaped(v[i]->quote, 8),
			 dg_escaped(v[i]->as_of_text, DG_DATE_SIZE));
		return DG_EXIT_SOFTWARE;
	}
	return 0;
}

/* One pair's quotes v[0..n), in index order. */
static int insert_pair(struct inserter *w, const struct dg_quote *const *v,
		       size_t n)
{
	size_t done, k, j, b = INSERT_ROWS_LOG2;
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_OK, ret;
	char *sql;

	if ((ret = check_rows(w, v, n)))
		return ret;
	for (done = 0; done < n && rc == SQLITE_OK; done += k) {
		while ((k = (size_t)1 << b) > n - done)
			b--;
		if (!w->st[b]) {
			sql = insert_sql(k);
			ret = dg_db_prepare(w->db, sql, &w->st[b]);
			free(sql);
			if (ret)
				return ret;
			rc = sqlite3_bind_text(w->st[b], 1, w->provider, -1,
					       SQLITE_STATIC);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_text(w->st[b], 2,
						       w->fetched_at, -1,
						       SQLITE_STATIC);
			if (rc == SQLITE_OK)
				rc = dg_db_bind_text(w->st[b], 3, w->source);
		}
		st = w->st[b];
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(st, 4, v[done]->base, -1,
					       SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(st, 5, v[done]->quote, -1,
					       SQLITE_STATIC);
		for (j = 0; j < k && rc == SQLITE_OK; j++) {
			rc = sqlite3_bind_text(st, 6 + 2 * (int)j,
					       v[done + j]->rate.text, -1,
					       SQLITE_STATIC);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_text(st, 7 + 2 * (int)j,
						       v[done + j]->as_of_text,
						       -1, SQLITE_STATIC);
		}
		if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
			rc = sqlite3_reset(st);
	}
	if (rc == SQLITE_OK)
		return 0;
	ret = dg_db_fail(w->db, rc, "cannot store a quote");
	sqlite3_reset(st);
	return ret;
}

/* Per pair, r[0..n): the rows that are not stored yet go to fresh, and
 * the newest of them, with where the first of them stands in the
 * document, to *newest. */
static void pick_fresh(const struct dg_quotes *q, const struct row *r, size_t n,
		       const struct dg_quote **fresh, size_t *nfresh,
		       struct newest *newest)
{
	const struct dg_quote *x;
	size_t k;

	for (k = 0; k < n; k++) {
		if (r[k].stored)
			continue;
		x = &q->v[r[k].i];
		fresh[(*nfresh)++] = x;
		if (!newest->rate || r[k].i < newest->first)
			newest->first = r[k].i;
		/* rows run oldest first: the last one is the newest */
		memcpy(newest->base, x->base, 4);
		memcpy(newest->quote, x->quote, 4);
		newest->as_of = x->as_of;
		newest->rate = &x->rate;
	}
}

/* The valve: the newest stored quote of each pair against the same pair's
 * previous as_of quote of the provider: one query per pair, not per quote.
 * Inside the store transaction: the events are written in it, the warnings
 * kept in stats for after the commit, so that a document that is not
 * stored warns of nothing. */
static int check_jumps(sqlite3 *db, const char *provider, const char *pct,
		       const struct newest *v, size_t n,
		       struct dg_store_stats *stats)
{
	static const char sql[] =
		"SELECT rate, as_of FROM rates WHERE provider = ?1 AND "
		"base = ?2 AND quote = ?3 AND as_of < ?4 "
		"ORDER BY as_of DESC LIMIT 1";
	sqlite3_stmt *st = NULL;
	char day[DG_DATE_SIZE], subject[8], *detail;
	struct dg_rate prev;
	size_t i;
	int rc, ret;

	if ((ret = dg_db_prepare(db, sql, &st)))
		return ret;
	for (i = 0; i < n; i++) {
		dg_format_date(v[i].as_of, day);
		const char *vals[] = {provider, v[i].base, v[i].quote, day};

		rc = bind_texts(st, vals, 4);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			continue;
		if (rc != SQLITE_ROW) {
			ret = dg_db_fail(db, rc, "cannot read previous quotes");
			goto out;
		}
		if (dg_rate_parse((const char *)sqlite3_column_text(st, 0),
				  &prev)) {
			dg_error("stored rate for %s/%s is not a rate",
				 v[i].base, v[i].quote);
			ret = DG_EXIT_SOFTWARE;
			goto out;
		}
		if (dg_rate_moved_more_than(v[i].rate, &prev, pct) != 1)
			continue;
		dg_xsnprintf(subject, sizeof(subject), "%s/%s", v[i].base,
			     v[i].quote);
		detail = dg_xasprintf(
			"%s moved more than %s %% from %s on %s to %s on %s",
			provider, pct, prev.text,
			(const char *)sqlite3_column_text(st, 1),
			v[i].rate->text, day);
		ret = dg_db_event(db, "rate_jump", subject, detail);
		if (!ret) {
			stats->jump_msgs = dg_xrealloc(
				stats->jump_msgs,
				(stats->jumps + 1) * sizeof(*stats->jump_msgs));
			stats->jump_msgs[stats->jumps++] =
				dg_xasprintf("%s: %s", subject, detail);
		}
		free(detail);
		if (ret)
			goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/*
 * The quotes of a document that are not stored yet, sorted into the
 * order of the rates index, through one prepared INSERT. What is stored
 * already is read per pair first: a differing value refuses the whole
 * document before anything is written.
 */
int dg_rates_store(sqlite3 *db, const char *provider, const char *source,
		   const char *name, const struct dg_quotes *q,
		   const char *symbols, const char *fetched_at, const char *pct,
		   struct dg_store_stats *stats)
{
	static const char get_sql[] =
		"SELECT as_of, rate FROM rates WHERE provider = ?1 AND "
		"base = ?2 AND quote = ?3 AND as_of BETWEEN ?4 AND ?5 "
		"ORDER BY as_of";
	struct inserter w = {db, provider, fetched_at, source, {NULL}};
	const struct dg_quote **fresh = NULL;
	sqlite3_stmt *get = NULL;
	struct conflict bad = {0, NULL};
	struct newest *newest = NULL;
	size_t n, ngroups = 0, nnewest = 0, i, j;
	bool checks_off = false;
	struct row *r;
	int ret;

	r = collect(q, symbols, stats, &n);
	if (n == 0) {
		dg_error("%s: no quotes left after --symbols: nothing stored",
			 dg_escaped(name, DG_QUOTE_PATH_MAX));
		ret = DG_EXIT_DATAERR;
		goto out;
	}
	if ((ret = dg_db_prepare(db, get_sql, &get)))
		goto out;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && r[j].pair == r[i].pair; j++)
			;
		if ((ret = match_stored(db, get, provider, q, r + i, j - i,
					&bad)))
			goto out;
		ngroups++;
	}
	if (bad.stored) {
		const struct dg_quote *x = &q->v[bad.i];

		dg_error("%s: %s/%s on %s is %s, but %s is stored: "
			 "nothing stored",
			 dg_escaped(name, DG_QUOTE_PATH_MAX), x->base, x->quote,
			 x->as_of_text, x->rate.text,
			 dg_escaped(bad.stored, DG_QUOTE_MAX));
		ret = DG_EXIT_DATAERR;
		goto out;
	}
	fresh = dg_xmalloc(n * sizeof(*fresh));
	newest = dg_xcalloc(ngroups, sizeof(*newest));
	if ((ret = dg_db_checks(db, false)))
		goto out;
	checks_off = true;
	for (i = 0; i < n; i = j) {
		size_t nfresh = 0;

		for (j = i + 1; j < n && r[j].pair == r[i].pair; j++)
			;
		pick_fresh(q, r + i, j - i, fresh, &nfresh, &newest[nnewest]);
		if (!nfresh)
			continue;
		nnewest++;
		stats->fresh += nfresh;
		if ((ret = insert_pair(&w, fresh, nfresh)))
			goto out;
	}
	/* On again before any other write (the jump events). */
	inserter_free(&w);
	memset(w.st, 0, sizeof(w.st));
	checks_off = false;
	if ((ret = dg_db_checks(db, true)))
		goto out;
	qsort(newest, nnewest, sizeof(*newest), newest_cmp);
	ret = check_jumps(db, provider, pct, newest, nnewest, stats);
out:
	if (checks_off && dg_db_checks(db, true) && !ret)
		ret = DG_EXIT_IOERR;
	free(r);
	free(newest);
	free(fresh);
	free(bad.stored);
	inserter_free(&w);
	sqlite3_finalize(get);
	return ret;
}

int dg_fetch_state_save(sqlite3 *db, const char *url,
			const struct dg_http_resp *r, const char *now,
			bool changed)
{
	static const char sql[] =
		"INSERT INTO fetch_state (url, etag, last_modified, "
		"last_status, checked_at, changed_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
		"ON CONFLICT (url) DO UPDATE SET "
		"etag = coalesce(excluded.etag, etag), "
		"last_modified = coalesce(excluded.last_modified, "
		"last_modified), last_status = excluded.last_status, "
		"checked_at = excluded.checked_at, "
		"changed_at = coalesce(excluded.changed_at, changed_at)";
	sqlite3_stmt *st = NULL;
	int rc, ret;

	if ((ret = dg_db_prepare(db, sql, &st)))
		return ret;
	rc = sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && changed) {
		/* a 200 replaces both validators, absent ones included */
		rc = sqlite3_bind_text(st, 2, r->etag ? r->etag : "", -1,
				       SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(
				st, 3, r->last_modified ? r->last_modified : "",
				-1, SQLITE_STATIC);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, r->status);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && changed)
		rc = sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	ret = rc == SQLITE_DONE ? 0
				: dg_db_fail(db, rc, "cannot save fetch state");
	sqlite3_finalize(st);
	return ret;
}

/* Stored validators for url: malloc'd copies (NULL when none). */
int dg_fetch_state_load(sqlite3 *db, const char *url, char **etag,
			char **last_modified)
{
	static const char sql[] =
		"SELECT etag, last_modified FROM fetch_state WHERE url = ?1";
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int rc, ret;

	*etag = *last_modified = NULL;
	if ((ret = dg_db_prepare(db, sql, &st)))
		return ret;
	rc = sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((t = sqlite3_column_text(st, 0)) && *t)
			*etag = dg_xstrdup((const char *)t);
		if ((t = sqlite3_column_text(st, 1)) && *t)
			*last_modified = dg_xstrdup((const char *)t);
		rc = SQLITE_DONE;
	}
	ret = rc == SQLITE_DONE ? 0
				: dg_db_fail(db, rc, "cannot read fetch state");
	sqlite3_finalize(st);
	return ret;
}
