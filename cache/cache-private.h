/*
 * cache-private.h - what the files of the cached store share: its state
 * (cache.c reads and syncs, writeback.c journals changes and replays them)
 * and a few helpers.  Not for other callers.
 *
 * Ownership: every pointer field is owned unless marked borrowed.
 * Functions return 0 or -errno unless said otherwise.
 */
#ifndef MFS_CACHE_PRIVATE_H
#define MFS_CACHE_PRIVATE_H

#include "cache.h"
#include "index.h"
#include "journal.h"

/* Evict a few bodies at a time, until the total is under the limit. */
#define EVICT_BATCH 64
/* How far ahead of a forward reader bodies are fetched, and by how many
 * threads (the inner store's pool keeps a connection for the reader). */
#define PREFETCH_WINDOW 192
#define PREFETCH_THREADS 3
#define PREFETCH_BATCH 32
/* Bodies fetched ahead and not yet opened that are remembered as such. */
#define AHEAD_MAX 4096
/* Folders listed at once on a first mount. */
#define LIST_THREADS 3

struct fetch_wait {
	GCond cond;
	bool done;
	int rc;
	int waiters;
};

struct mfs_backend {
	struct mfs_store inner;		/* owned */
	struct cache_index *ix;		/* owned */
	char *dir;			/* owned */
	char *blobs;			/* owned; dir/blobs */
	struct cache_options opt;

	GMutex lock;
	GHashTable *inflight;		/* key -> struct fetch_wait; lock */
	GQueue queue;			/* folder paths, "" = folder list;
					   lock */
	GHashTable *queued;		/* the same, to queue once; lock */
	GCond wake;			/* queue has work; lock */
	bool stop;			/* lock */
	GThread *worker;
	mfs_change_fn fn;		/* the mount's; set by watch() */
	void *fn_data;			/* borrowed */
	GQueue pf_queue;		/* of struct pf_task *; lock */
	GHashTable *pf_queued;		/* keys in pf_queue; lock */
	GCond pf_wake;			/* pf_queue has work; lock */
	GPtrArray *pf_threads;		/* of GThread * */
	char *pf_folder, *pf_id;	/* the last fetch; lock */
	char *pf_mark;			/* look ahead again from here; lock */
	GHashTable *ahead;		/* keys of bodies fetched ahead and not
					   opened since; lock */
	gint64 last_sync;		/* real time of the last good sync, µs;
					   lock */
	char *last_error;		/* owned; the last sync failure; lock */
	/* blobs.c */
	GHashTable *noted;		/* key -> struct blob_note *, not yet
					   in the index; lock */
	uint64_t blob_indexed;		/* bytes of bodies in the index, about;
					   lock */
	uint64_t blob_pending;		/* bytes saved, in `noted`; lock */
	bool evicting;			/* lock */

	/* write-back (writeback.c) */
	char *pending;			/* owned; dir/pending: appends' bytes */
	char *issues;			/* owned; dir/sync-issues */
	GThread *flusher;
	GMutex replay_lock;		/* one replay at a time */
	GCond wb_wake;			/* new rows or a kick; lock */
	GCond wb_progress;		/* a row done or an attempt failed;
					   lock */
	bool wb_kicked;			/* retry now; lock */
	bool wb_hold;			/* wait for a kick before starting
					   (a test hook); lock */
	uint64_t wb_failures;		/* failed attempts so far; lock */
	uint64_t wb_rounds;		/* attempts so far; lock */
	bool wb_no_batch;		/* the store cannot append in batches */
	bool wb_no_flag_batch;		/* nor set flags in batches */
	bool wb_no_remove_batch;	/* nor delete in batches */
	bool wb_no_move_batch;		/* nor move or copy in batches */
	int64_t wb_single_until;	/* rows up to this seq go one by one
					   (a batch of them was refused) */
	char *wb_error;			/* owned; the last failure; lock */
	gint64 wb_last_flush;		/* real time a row last went
					   through, µs; lock */
	gint wb_counter;		/* for names made here; atomic */
	gint64 wb_send_after;		/* monotonic µs before which messages
					   to send wait (a back-off); lock */
	gint64 wb_send_delay;		/* that back-off, µs; lock */
	bool outbox;			/* the inner store can send: CACHE_OUTBOX
					   is a queue of messages to send */
	bool outbox_shadowed;		/* the server has a folder of that
					   name, which is not shown */
	long wb_crash_after;		/* steps before a deliberate crash
					   (a test hook); 0 for never */
	long wb_steps;			/* lock */
};



/* The folder whose files are sent, and where sent messages are copied when
 * the server marks no folder \Sent. */
#define CACHE_OUTBOX "Outbox"
#define CACHE_SENT "Sent"

/* cache.c */
/* Whether `folder` is the outbox of this store. */
bool cache_is_outbox(struct mfs_backend *c, const char *folder);
/* The name of the body of folder/id, and its path; caller owns both. */
char *cache_blob_key(const char *folder, const char *id);
char *cache_blob_path(struct mfs_backend *c, const char *key);
/* Queue a folder ("" for the folder list) for the sync worker. */
void cache_enqueue(struct mfs_backend *c, const char *folder);
/* Queue word to the mount that `folder` changed in the index, without a
 * sync with the inner store. */
void cache_tell_mount(struct mfs_backend *c, const char *folder);

/* blobs.c */
/* Make the table of rows to write (first thing), and write and free it
 * (before the index closes). */
void blobs_init(struct mfs_backend *c);
void blobs_clear(struct mfs_backend *c);
/* Count what the index holds, and evict past the limit: once the index is
 * open. */
void blobs_start(struct mfs_backend *c);
/* A body of `size` bytes was saved as the file of `key`: it is counted,
 * and may be evicted from now on.  Evicts past the limit. */
void blobs_saved(struct mfs_backend *c, const char *key, uint64_t size);
/* The body of `key` was opened: the last to be evicted. */
void blobs_used(struct mfs_backend *c, const char *key);
/* The same as blobs_saved, its row written at once and no eviction (a body
 * that write-back moved, or that has just reached the server). */
void blobs_add_now(struct mfs_backend *c, const char *key, uint64_t size);
/* Write the rows kept so far. */
void blobs_flush(struct mfs_backend *c);
/* The bytes of the bodies the index counts, exactly. */
uint64_t blobs_total(struct mfs_backend *c);
/* Remove the least recently used bodies until the rest fits cache_size. */
void blobs_evict(struct mfs_backend *c);

/* writeback.c */
/* Initialise the locks (first thing), and release everything (last). */
void wb_init(struct mfs_backend *c);
/* Make the directories, clear what a crash left half-written, and read the
 * test hooks.  Returns 0 or -errno with a message in *why_r (caller owns). */
int wb_open(struct mfs_backend *c, char **why_r);
void wb_start(struct mfs_backend *c);
void wb_stop(struct mfs_backend *c);
void wb_clear(struct mfs_backend *c);
/* Wait until nothing of item `id` of `folder` (id NULL: of the folder;
 * folder NULL: anything) waits for the server.  Retries at once what is
 * waiting for a back-off.  Fails with -EAGAIN (the reason in *e) when an
 * attempt fails while waiting. */
int wb_flush(struct mfs_backend *c, const char *folder, const char *id,
	     struct mfs_error *e);
void wb_describe(struct mfs_backend *c, GString *out);
/* The bytes of an item made here by journal row `origin` that the server
 * does not have yet: from the append's file, or from the server's item it
 * is a move or copy of.  Caller owns *fd_r. */
int wb_fetch_pending(struct mfs_backend *c, int64_t origin, int *fd_r,
		     struct mfs_error *e);
/* The changes, journaled (writeback on) or made at once. */
int wb_append(struct mfs_backend *c, const char *folder, int fd,
	      const char *hint, uint64_t flags, int64_t date,
	      struct mfs_item **item_r, struct mfs_error *e);
int wb_set_flags(struct mfs_backend *c, const char *folder, const char *id,
		 uint64_t flags, struct mfs_error *e);
int wb_remove(struct mfs_backend *c, const char *folder, const char *id,
	      struct mfs_error *e);
int wb_move(struct mfs_backend *c, const char *folder, const char *id,
	    const char *dest, uint64_t flags, bool keep_source,
	    struct mfs_item **item_r, struct mfs_error *e);
int wb_create_folder(struct mfs_backend *c, const char *path,
		     enum mfs_folder_kind kind, struct mfs_error *e);
int wb_rename_folder(struct mfs_backend *c, const char *from,
		     const char *to, struct mfs_error *e);
int wb_delete_folder(struct mfs_backend *c, const char *path,
		     struct mfs_error *e);

#endif
