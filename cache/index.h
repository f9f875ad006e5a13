/*
 * index.h - the cache's SQLite index: folders with the inner store's sync
 * state and a change counter, items with their exact size, date and flags,
 * and the bodies kept on disk with their last use.
 *
 * Thread-safe: one connection behind a mutex.  Every function returns 0 or
 * -errno (-EIO for an SQLite failure, which is logged).  Results through
 * `_r` are owned by the caller.
 */
#ifndef MFS_CACHE_INDEX_H
#define MFS_CACHE_INDEX_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

struct cache_index;

int index_open(const char *path, struct cache_index **ix_r, char **why_r);
void index_close(struct cache_index **ix);

/* Make the calls between these one transaction (they nest, and hold the
 * index's lock).  index_end commits when `rc` is 0 and every call inside
 * succeeded, else rolls back; returns `rc` or -EIO. */
void index_begin(struct cache_index *ix);
int index_end(struct cache_index *ix, int rc);

/* Whether a first listing of the whole account never completed (a first
 * mount, or one whose listing failed): then the index cannot stand for the
 * account, and an empty folder in it means nothing. */
bool index_is_new(struct cache_index *ix);
int index_mark_complete(struct cache_index *ix);

/* Folders, parents first: of struct mfs_folder_info *. */
int index_folders(struct cache_index *ix, GPtrArray **folders_r);
/* A counter of folder changes made here (index_touch_folders). */
int64_t index_folders_gen(struct cache_index *ix);
void index_touch_folders(struct cache_index *ix);
/* Make the folder set exactly the inner store's `folders`; *changed_r
 * when it differed.  With `fgen_seen` >= 0 (index_folders_gen before the
 * listing began), -EAGAIN when folder changes made here since then, or
 * not yet on the server, would be undone by it. */
int index_set_folders(struct cache_index *ix, GPtrArray *folders,
		      int64_t fgen_seen, bool *changed_r);
int index_add_folder(struct cache_index *ix, const char *path,
		     enum mfs_folder_kind kind);
int index_remove_folder(struct cache_index *ix, const char *path);
int index_rename_folder(struct cache_index *ix, const char *from,
			const char *to);

/* The inner store's sync state (may be NULL), the change counter, and
 * the counter of changes made here; each result pointer may be NULL. */
int index_folder_state(struct cache_index *ix, const char *path,
		       char **state_r, int64_t *gen_r, int64_t *lgen_r);
/* The kind `path` was listed with.  Returns 0, -ENOENT or -EIO. */
int index_folder_kind(struct cache_index *ix, const char *path,
		      enum mfs_folder_kind *kind_r);
/* A change was made here to `path`: move both counters. */
int index_touch_local(struct cache_index *ix, const char *path);

/* Every item of a folder: of struct mfs_item *. */
int index_items(struct cache_index *ix, const char *path,
		GPtrArray **items_r);
int index_item(struct cache_index *ix, const char *path, const char *id,
	       struct mfs_item **item_r);

/* Apply a sync result of the inner store (whose ids are matched to the
 * items standing for them) and store its state; the counter moves when
 * any item changed, and *changed_r says so.  -EAGAIN, applying nothing,
 * while changes made here to the folder wait for the server or when one
 * was made since `lgen_seen` (from index_folder_state; -1: no check).
 * The ids here of items whose date the store moved are added to `redone`
 * (may be NULL; of char *, owned by the array's free function): a store
 * whose bytes behind an id can change (a contact edited on a DAV server)
 * says so by a new date, and their cached bodies are then stale. */
int index_apply(struct cache_index *ix, const char *path,
		const struct mfs_sync_result *res, int64_t lgen_seen,
		bool *changed_r, GPtrArray *redone);
/* Up to `n` ids of `path` after `id`, in id order. */
int index_next_ids(struct cache_index *ix, const char *path, const char *id,
		   unsigned n, GPtrArray **ids_r);
/* Store an item the inner store holds under the same id. */
int index_put_item(struct cache_index *ix, const char *path,
		   const struct mfs_item *it);
/* Store an item made here by journal row `origin`, not yet on the
 * server; -EEXIST when the folder has an item of that id. */
int index_put_local(struct cache_index *ix, const char *path,
		    const struct mfs_item *it, int64_t origin);
/* The inner store's id of an item (NULL while it is only here) and the
 * journal row making it (0 for none).  -ENOENT when there is no item. */
int index_item_rid(struct cache_index *ix, const char *path, const char *id,
		   char **rid_r, int64_t *origin_r);
/* Where the item made by journal row `origin` is now; caller owns both
 * strings.  -ENOENT when none is. */
int index_item_by_origin(struct cache_index *ix, int64_t origin,
			 char **folder_r, char **id_r);
/* Forget the folder's sync state, so that its next sync reads it whole. */
int index_forget_state(struct cache_index *ix, const char *path);
/* Whether an item of the folder has the inner id `rid`. */
bool index_has_rid(struct cache_index *ix, const char *path,
		   const char *rid);
int index_remove_item(struct cache_index *ix, const char *path,
		      const char *id);

/* Bodies on disk: `key` names the file.  Only a body with a row here is
 * ever evicted. */
int index_blob_add(struct cache_index *ix, const char *key, uint64_t size);
/* What happened to a body: saved as a file of `size` bytes (or, size < 0,
 * only opened), at `when` (seconds since the epoch). */
struct blob_note {
	int64_t size;
	int64_t when;
};
/* Write, in one transaction, notes[i] for each key (char *) of `keys`.  A
 * body only opened and without a row stays without.  Returns 0 or -EIO. */
int index_blob_note_many(struct cache_index *ix, GPtrArray *keys,
			 const struct blob_note *notes);
int index_blob_remove(struct cache_index *ix, const char *key);
uint64_t index_blob_total(struct cache_index *ix);
/* Keys (char *) of the least recently used bodies, at most `n`, and their
 * sizes (uint64_t).  Caller owns both. */
int index_blob_oldest(struct cache_index *ix, unsigned n, GPtrArray **keys_r,
		      GArray **sizes_r);

#endif
