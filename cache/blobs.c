/*
 * blobs.c - see blobs.h.
 *
 * Rows are written a batch at a time, not as each body is saved or opened.
 * The index commits with an fsync (synchronous=FULL, which the write-back
 * journal needs), and an fsync per body cost a first backup more than the
 * body's own bytes.  What a crash loses is at most one batch of rows: a use
 * time (harmless), or the row of a body just saved, whose file then stays
 * on disk uncounted and is never evicted.  Nothing is served wrong either
 * way; the body is still read from its file.
 *
 * The bytes cached are kept as an estimate, so that a save does not sum the
 * whole table: what the index held at the last exact count, plus what was
 * saved since.  Removals only make it high, and a high estimate only makes
 * eviction count exactly sooner.
 */
#include "blobs.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "index.h"

/* Rows kept before they are written. */
#define NOTE_BATCH 256
/* Evict a few bodies at a time, until the total is under the limit. */
#define EVICT_BATCH 64

struct blobs {
	char *dir;			/* owned */
	uint64_t max_bytes;		/* 0: no limit */
	struct cache_index *ix;		/* borrowed; set by blobs_start */

	GMutex lock;			/* guards the fields below */
	GHashTable *noted;		/* key -> struct blob_note *, not yet
					   in the index */
	uint64_t indexed;		/* bytes of bodies in the index, about */
	uint64_t pending;		/* bytes saved, in `noted` */
	bool evicting;
};

struct blobs *blobs_new(const char *dir, uint64_t max_bytes)
{
	struct blobs *b = g_new0(struct blobs, 1);

	b->dir = g_strdup(dir);
	b->max_bytes = max_bytes;
	g_mutex_init(&b->lock);
	b->noted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 g_free);
	return b;
}

const char *blobs_dir(const struct blobs *b)
{
	return b->dir;
}

char *blobs_key(const char *folder, const char *id)
{
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	char *key;

	g_checksum_update(ck, (const guchar *)folder, (gssize)strlen(folder) + 1);
	g_checksum_update(ck, (const guchar *)id, (gssize)strlen(id));
	key = g_strdup(g_checksum_get_string(ck));
	g_checksum_free(ck);
	return key;
}

char *blobs_path(const struct blobs *b, const char *key)
{
	char sub[3] = { key[0], key[1], '\0' };

	return g_build_filename(b->dir, sub, key, NULL);
}

void blobs_start(struct blobs *b, struct cache_index *ix)
{
	uint64_t total;

	b->ix = ix;
	total = index_blob_total(b->ix);
	g_mutex_lock(&b->lock);
	b->indexed = total;
	g_mutex_unlock(&b->lock);
	blobs_evict(b);
}

void blobs_flush(struct blobs *b)
{
	GHashTable *noted;
	uint64_t bytes;

	g_mutex_lock(&b->lock);
	if (g_hash_table_size(b->noted) == 0) {
		g_mutex_unlock(&b->lock);
		return;
	}
	noted = b->noted;
	bytes = b->pending;
	b->noted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 g_free);
	b->pending = 0;
	b->indexed += bytes;
	g_mutex_unlock(&b->lock);

	GPtrArray *keys = g_ptr_array_sized_new(g_hash_table_size(noted));
	struct blob_note *notes = g_new(struct blob_note,
					g_hash_table_size(noted));
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, noted);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		notes[keys->len] = *(struct blob_note *)v;
		g_ptr_array_add(keys, k);
	}
	/* a failure was logged; the bodies stay, uncounted */
	index_blob_note_many(b->ix, keys, notes);
	g_free(notes);
	g_ptr_array_unref(keys);
	g_hash_table_unref(noted);
}

bool blobs_noted(struct blobs *b)
{
	bool any;

	g_mutex_lock(&b->lock);
	any = g_hash_table_size(b->noted) > 0;
	g_mutex_unlock(&b->lock);
	return any;
}

void blobs_close(struct blobs **bp)
{
	struct blobs *b = *bp;

	if (!b)
		return;
	if (b->ix)
		blobs_flush(b);
	g_hash_table_unref(b->noted);
	g_mutex_clear(&b->lock);
	g_free(b->dir);
	g_free(b);
	*bp = NULL;
}

/* Keep what happened to `key` (size < 0: a use) until the next flush; a
 * save is not turned back into a mere use.  Returns whether a batch is
 * full. */
static bool note(struct blobs *b, const char *key, int64_t size)
{
	struct blob_note n = { size, (int64_t)time(NULL) }, *had;
	bool full;

	g_mutex_lock(&b->lock);
	had = g_hash_table_lookup(b->noted, key);
	if (size >= 0)
		b->pending += (uint64_t)size;
	if (!had)
		g_hash_table_insert(b->noted, g_strdup(key),
				    g_memdup2(&n, sizeof(n)));
	else if (size >= 0 || had->size < 0)
		*had = n;
	else
		had->when = n.when;
	full = g_hash_table_size(b->noted) >= NOTE_BATCH;
	g_mutex_unlock(&b->lock);
	return full;
}

void blobs_saved(struct blobs *b, const char *key, uint64_t size)
{
	if (note(b, key, (int64_t)size))
		blobs_flush(b);
	blobs_evict(b);
}

void blobs_used(struct blobs *b, const char *key)
{
	if (note(b, key, -1))
		blobs_flush(b);
}

void blobs_add_now(struct blobs *b, const char *key, uint64_t size)
{
	if (index_blob_add(b->ix, key, size) < 0)
		return;
	g_mutex_lock(&b->lock);
	b->indexed += size;
	g_mutex_unlock(&b->lock);
}

uint64_t blobs_total(struct blobs *b)
{
	blobs_flush(b);
	return index_blob_total(b->ix);
}

void blobs_evict(struct blobs *b)
{
	uint64_t total, before;

	if (!b->max_bytes)
		return;
	g_mutex_lock(&b->lock);
	bool over = b->indexed + b->pending > b->max_bytes;
	bool busy = b->evicting;
	if (over && !busy)
		b->evicting = true;
	g_mutex_unlock(&b->lock);
	if (!over || busy)
		return;

	blobs_flush(b);
	/* rows written while this counts are added afterwards */
	g_mutex_lock(&b->lock);
	before = b->indexed;
	g_mutex_unlock(&b->lock);
	total = index_blob_total(b->ix);
	while (total > b->max_bytes) {
		GPtrArray *keys = NULL;
		GArray *sizes = NULL;
		if (index_blob_oldest(b->ix, EVICT_BATCH, &keys, &sizes) < 0 ||
		    keys->len == 0) {
			g_ptr_array_unref(keys);
			g_array_unref(sizes);
			break;
		}
		guint removed = 0;
		for (guint i = 0; i < keys->len && total > b->max_bytes;
		     i++) {
			g_autofree char *path = blobs_path(b,
								keys->pdata[i]);
			/* an open reader keeps its descriptor; the name goes */
			unlink(path);
			if (index_blob_remove(b->ix, keys->pdata[i]) == 0) {
				total -= MIN(total, g_array_index(sizes,
								  uint64_t, i));
				removed++;
			}
		}
		g_ptr_array_unref(keys);
		g_array_unref(sizes);
		if (!removed)
			break;	/* the index refuses: logged, tried again later */
	}
	g_mutex_lock(&b->lock);
	b->indexed = total + (b->indexed - before);
	b->evicting = false;
	g_mutex_unlock(&b->lock);
}

void blobs_drop(struct blobs *b, const char *key)
{
	g_autofree char *path = blobs_path(b, key);

	/* a row still kept here would be written after the removal */
	blobs_flush(b);
	if (unlink(path) != 0)
		return;		/* never fetched, or evicted already */
	/* a failure was logged: the row stays, counted, until evicted */
	index_blob_remove(b->ix, key);
}
