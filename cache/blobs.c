/*
 * blobs.c - the bookkeeping of cached bodies: their sizes and use times in
 * the index, and eviction past cache_size.
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
#include "cache-private.h"

#include <time.h>
#include <unistd.h>

/* Rows kept before they are written. */
#define NOTE_BATCH 256

void blobs_init(struct mfs_backend *c)
{
	c->noted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 g_free);
}

void blobs_start(struct mfs_backend *c)
{
	uint64_t total = index_blob_total(c->ix);

	g_mutex_lock(&c->lock);
	c->blob_indexed = total;
	g_mutex_unlock(&c->lock);
	blobs_evict(c);
}

void blobs_flush(struct mfs_backend *c)
{
	GHashTable *noted;
	uint64_t bytes;

	g_mutex_lock(&c->lock);
	if (g_hash_table_size(c->noted) == 0) {
		g_mutex_unlock(&c->lock);
		return;
	}
	noted = c->noted;
	bytes = c->blob_pending;
	c->noted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 g_free);
	c->blob_pending = 0;
	c->blob_indexed += bytes;
	g_mutex_unlock(&c->lock);

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
	index_blob_note_many(c->ix, keys, notes);
	g_free(notes);
	g_ptr_array_unref(keys);
	g_hash_table_unref(noted);
}

void blobs_clear(struct mfs_backend *c)
{
	if (!c->noted)
		return;
	if (c->ix)
		blobs_flush(c);
	g_hash_table_unref(c->noted);
	c->noted = NULL;
}

/* Keep what happened to `key` (size < 0: a use) until the next flush; a
 * save is not turned back into a mere use.  Returns whether a batch is
 * full. */
static bool note(struct mfs_backend *c, const char *key, int64_t size)
{
	struct blob_note n = { size, (int64_t)time(NULL) }, *had;
	bool full;

	g_mutex_lock(&c->lock);
	had = g_hash_table_lookup(c->noted, key);
	if (size >= 0)
		c->blob_pending += (uint64_t)size;
	if (!had)
		g_hash_table_insert(c->noted, g_strdup(key),
				    g_memdup2(&n, sizeof(n)));
	else if (size >= 0 || had->size < 0)
		*had = n;
	else
		had->when = n.when;
	full = g_hash_table_size(c->noted) >= NOTE_BATCH;
	g_mutex_unlock(&c->lock);
	return full;
}

void blobs_saved(struct mfs_backend *c, const char *key, uint64_t size)
{
	if (note(c, key, (int64_t)size))
		blobs_flush(c);
	blobs_evict(c);
}

void blobs_used(struct mfs_backend *c, const char *key)
{
	if (note(c, key, -1))
		blobs_flush(c);
}

void blobs_add_now(struct mfs_backend *c, const char *key, uint64_t size)
{
	if (index_blob_add(c->ix, key, size) < 0)
		return;
	g_mutex_lock(&c->lock);
	c->blob_indexed += size;
	g_mutex_unlock(&c->lock);
}

uint64_t blobs_total(struct mfs_backend *c)
{
	blobs_flush(c);
	return index_blob_total(c->ix);
}

void blobs_evict(struct mfs_backend *c)
{
	uint64_t total, before;

	if (!c->opt.max_bytes)
		return;
	g_mutex_lock(&c->lock);
	bool over = c->blob_indexed + c->blob_pending > c->opt.max_bytes;
	bool busy = c->evicting;
	if (over && !busy)
		c->evicting = true;
	g_mutex_unlock(&c->lock);
	if (!over || busy)
		return;

	blobs_flush(c);
	/* rows written while this counts are added afterwards */
	g_mutex_lock(&c->lock);
	before = c->blob_indexed;
	g_mutex_unlock(&c->lock);
	total = index_blob_total(c->ix);
	while (total > c->opt.max_bytes) {
		GPtrArray *keys = NULL;
		GArray *sizes = NULL;
		if (index_blob_oldest(c->ix, EVICT_BATCH, &keys, &sizes) < 0 ||
		    keys->len == 0) {
			g_ptr_array_unref(keys);
			g_array_unref(sizes);
			break;
		}
		guint removed = 0;
		for (guint i = 0; i < keys->len && total > c->opt.max_bytes;
		     i++) {
			g_autofree char *path = cache_blob_path(c,
								keys->pdata[i]);
			/* an open reader keeps its descriptor; the name goes */
			unlink(path);
			if (index_blob_remove(c->ix, keys->pdata[i]) == 0) {
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
	g_mutex_lock(&c->lock);
	c->blob_indexed = total + (c->blob_indexed - before);
	c->evicting = false;
	g_mutex_unlock(&c->lock);
}
