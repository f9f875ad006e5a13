/*
 * cache.h - the local cache in front of a remote store.
 *
 * The cache is itself a store (protocols/backend.h) that wraps another one:
 * what the mount asks of it (folders, items, sizes, flags) is answered from
 * an SQLite index on local disk, never from the network; bodies are kept as
 * files beside the index, fetched once on first open and shared by
 * concurrent opens; a worker thread keeps the index in step with the
 * server as the inner store reports changes, and tells the mount.
 *
 * On disk ($XDG_CACHE_HOME/mailfs/ACCOUNT, mode 0700):
 *   index.sqlite   folders (path, kind, sync state), items (id, size, date,
 *                  flags), the write-back journal (journal.h), in WAL mode
 *   blobs/XX/...   bodies, named by a hash of folder and id (blobs.h)
 *   pending/       the bytes of appends not yet on the server, one file
 *                  per journal row (writeback.h)
 *   sync-issues/   what the server refused for good, each with a .reason
 *                  file beside it, kept for the user to look at
 *   lock           flocked by the one process that has the cache open,
 *                  and naming it (lock.h)
 *
 * Never names a protocol.  Functions return 0 or -errno.
 */
#ifndef MFS_CACHE_H
#define MFS_CACHE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

struct mfs_sender;

struct cache_options {
	uint64_t max_bytes;	/* bodies beyond this are evicted, oldest use
				   first; 0 for no limit */
	bool writeback;		/* changes return once journaled here;
				   otherwise once the server has them */
};

/*
 * Open the cache in `dir` around `inner`, whose backend it takes over (it
 * is closed with the cache), and with `sender` (taken, even on failure;
 * NULL when the account sends nothing), which sends what the Outbox
 * holds.  On success *out is the cached store (close it with
 * mfs_store_close).  A cache that never saw the account lists the
 * folders and their items before returning, so a first mount is not empty;
 * otherwise the index is used at once and brought up to date in the
 * background once watch() starts.
 */
int cache_store_open(struct mfs_store *inner, struct mfs_sender *sender,
		     const char *dir, const struct cache_options *opt,
		     struct mfs_store *out, GError **err);

/* Progress of cache_fill: `done` of `total` items of `folder`. */
typedef void (*cache_progress_fn)(const char *folder, unsigned done,
				  unsigned total, void *data);

/*
 * Bring the whole index up to date now (the folder list and every folder)
 * and, with `bodies`, fetch every body not yet kept, several per request.
 * `store` must be a store cache_store_open made.  Returns 0, or -errno with
 * the reason in *err; a folder that fails stops the fill.
 */
int cache_fill(struct mfs_store *store, bool bodies, cache_progress_fn fn,
	       void *data, GError **err);

/* Parse "512M", "2G", "100000" into bytes.  Returns 0 or -EINVAL. */
int cache_parse_size(const char *text, uint64_t *bytes_r);

#endif
