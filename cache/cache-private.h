/*
 * cache-private.h - what the files of the cached store's core share:
 * cache.c (the store's members, the sync worker, open and close) and
 * bodies.c (fetching bodies once, and ahead of a reader).  The bodies'
 * bookkeeping is blobs.h's, the write-back engine writeback.h's: each
 * keeps its own state behind its own lock, and this struct holds them.
 * Not for other callers.
 *
 * Ownership: every pointer field is owned unless marked borrowed.
 * Functions return 0 or -errno unless said otherwise.
 */
#ifndef MFS_CACHE_PRIVATE_H
#define MFS_CACHE_PRIVATE_H

#include "blobs.h"
#include "cache.h"
#include "index.h"
#include "journal.h"
#include "writeback.h"

/* How far ahead of a forward reader bodies are fetched, and by how many
 * threads (the inner store's pool keeps a connection for the reader). */
#define PREFETCH_WINDOW 192
#define PREFETCH_THREADS 3
#define PREFETCH_BATCH 32
/* Bodies fetched ahead and not yet opened that are remembered as such. */
#define AHEAD_MAX 4096
/* Folders listed at once on a first mount. */
#define LIST_THREADS 3

/* The sync worker's (cache.c), under the store's lock. */
struct cache_sync {
	GQueue queue;			/* folder paths, "" = folder list,
					   "\001FOLDER" = only tell the mount */
	GHashTable *queued;		/* the same, to queue once */
	GCond wake;			/* queue has work */
	GThread *worker;
	mfs_change_fn fn;		/* the mount's; set by watch() */
	void *fn_data;			/* borrowed */
	gint64 last_sync;		/* real time of the last good sync, µs */
	char *last_error;		/* the last sync failure */
	bool outbox_shadowed;		/* the server has a folder named as
					   the Outbox, which is not shown;
					   the worker's alone */
};

struct fetch_wait {
	GCond cond;
	bool done;
	int rc;
	int waiters;
};

/* The body fetches' (bodies.c), under the store's lock. */
struct cache_fetch {
	GHashTable *inflight;		/* key -> struct fetch_wait */
	GQueue queue;			/* of struct pf_task *, to prefetch */
	GHashTable *queued;		/* keys in `queue` */
	GCond wake;			/* `queue` has work */
	GPtrArray *threads;		/* of GThread *, the prefetchers */
	char *folder, *id;		/* the last fetch */
	char *mark;			/* look ahead again from here */
	GHashTable *ahead;		/* keys of bodies fetched ahead and not
					   opened since */
};

struct mfs_backend {
	/* set at open, read-only after */
	struct mfs_store inner;
	struct cache_index *ix;		/* its own lock */
	struct blobs *blobs;		/* its own lock */
	struct wb *wb;			/* its own locks */
	struct mfs_sender *sender;	/* NULL: no Outbox; the engine sends
					   with it */

	GMutex lock;			/* guards stop, sync and fetch */
	bool stop;
	struct cache_sync sync;
	struct cache_fetch fetch;
};

/* cache.c */
/* Queue a folder ("" for the folder list) for the sync worker. */
void cache_enqueue(struct mfs_backend *c, const char *folder);
/* Queue word to the mount that `folder` changed in the index, without a
 * sync with the inner store. */
void cache_tell_mount(struct mfs_backend *c, const char *folder);

/* bodies.c */
/* Make the tables (first thing), start the prefetchers (with watch()),
 * wake them and wait for them (once c->stop is set), free the rest
 * (last). */
void bodies_init(struct mfs_backend *c);
void bodies_start(struct mfs_backend *c);
void bodies_stop(struct mfs_backend *c);
void bodies_clear(struct mfs_backend *c);
/* The store's fetch and read_ahead members. */
int bodies_fetch(struct mfs_backend *c, const char *folder, const char *id,
		 int *fd_r, struct mfs_error *e);
bool bodies_read_ahead(struct mfs_backend *c, const char *folder,
		       const char *id);
/* Fetch every body of `items` (of struct mfs_item *) of `folder` not yet
 * here, several per request, telling `fn` (may be NULL) how far it got. */
void bodies_fill(struct mfs_backend *c, const char *folder, GPtrArray *items,
		 cache_progress_fn fn, void *data);

#endif
