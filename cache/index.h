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

/* Whether a first listing of the whole account never completed (a first
 * mount, or one whose listing failed): then the index cannot stand for the
 * account, and an empty folder in it means nothing. */
bool index_is_new(struct cache_index *ix);
int index_mark_complete(struct cache_index *ix);

/* Folders, parents first: of struct mfs_folder_info *. */
int index_folders(struct cache_index *ix, GPtrArray **folders_r);
/* Make the folder set exactly `folders`; *changed_r when it differed. */
int index_set_folders(struct cache_index *ix, GPtrArray *folders,
		      bool *changed_r);
int index_add_folder(struct cache_index *ix, const char *path,
		     enum mfs_folder_kind kind);
int index_remove_folder(struct cache_index *ix, const char *path);
int index_rename_folder(struct cache_index *ix, const char *from,
			const char *to);

/* The inner store's sync state (may be NULL) and the change counter. */
int index_folder_state(struct cache_index *ix, const char *path,
		       char **state_r, int64_t *gen_r);

/* Every item of a folder: of struct mfs_item *. */
int index_items(struct cache_index *ix, const char *path,
		GPtrArray **items_r);
int index_item(struct cache_index *ix, const char *path, const char *id,
	       struct mfs_item **item_r);

/* Apply a sync result and store its state; the counter moves when any item
 * changed.  *changed_r says whether it did. */
int index_apply(struct cache_index *ix, const char *path,
		const struct mfs_sync_result *res, bool *changed_r);
/* Up to `n` ids of `path` after `id`, in id order. */
int index_next_ids(struct cache_index *ix, const char *path, const char *id,
		   unsigned n, GPtrArray **ids_r);
int index_put_item(struct cache_index *ix, const char *path,
		   const struct mfs_item *it);
int index_remove_item(struct cache_index *ix, const char *path,
		      const char *id);

/* Bodies on disk: `key` names the file. */
int index_blob_add(struct cache_index *ix, const char *key, uint64_t size);
int index_blob_touch(struct cache_index *ix, const char *key);
/* Mark these bodies (char * keys) used now, in one transaction. */
int index_blob_touch_many(struct cache_index *ix, GPtrArray *keys);
int index_blob_remove(struct cache_index *ix, const char *key);
uint64_t index_blob_total(struct cache_index *ix);
/* Keys of the least recently used bodies, at most `n`. */
int index_blob_oldest(struct cache_index *ix, unsigned n, GPtrArray **keys_r);

#endif
