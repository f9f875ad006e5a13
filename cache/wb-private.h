/*
 * wb-private.h - what the files of the write-back engine share (see
 * writeback.h for what it does, wb-flusher.c for the state of a row):
 *
 *   wb-record.c   recording changes: journal row and index in one
 *                 transaction; reading back what is not on the server yet
 *   wb-direct.c   writeback=off: the server first, then the index
 *   wb-replay.c   replaying one row against the inner store, the lookups
 *                 that make a repeat harmless, and a row's conclusion
 *   wb-batch.c    replaying a run of like rows in one request
 *   wb-outbox.c   the Outbox: its rules, sending, the copy in Sent
 *   wb-flusher.c  the state diagram and its one setter, the flusher
 *                 thread, back-off and kicks, flush, open and close
 *
 * Each part of struct wb says who owns it and which lock guards it.
 * Not for other callers.  Functions return 0 or -errno unless said
 * otherwise.
 */
#ifndef MFS_CACHE_WB_PRIVATE_H
#define MFS_CACHE_WB_PRIVATE_H

#include "blobs.h"
#include "index.h"
#include "journal.h"
#include "writeback.h"

/* The flusher's state (wb-flusher.c), all under `lock`, which is never
 * held across a call out of the engine nor while the index's lock is
 * taken. */
struct wb_flusher {
	GMutex lock;
	GThread *thread;		/* set by wb_start, cleared by wb_stop */
	GCond wake;			/* new rows, a kick, or stop */
	GCond progress;			/* a round ended */
	bool stop;
	bool kicked;			/* retry now */
	bool hold;			/* wait for a kick before starting
					   (a test hook) */
	uint64_t failures;		/* failed attempts so far */
	uint64_t rounds;		/* attempts so far */
	char *error;			/* owned; the last failure */
	gint64 last_flush;		/* real time a row last went through,
					   µs */
	gint64 send_after;		/* monotonic µs before which messages
					   to send wait (a back-off) */
	gint64 send_delay;		/* that back-off, µs */
	long crash_after;		/* steps before a deliberate crash (a
					   test hook; set at open); 0: never */
	long steps;
	GPtrArray *refused;		/* owned, of owned "FILE: reason":
					   what went to sync-issues/ since a
					   flush last said so */
	unsigned refused_more;		/* past REFUSED_MAX: counted only */
	GPtrArray *reported;		/* owned, the same: what the last
					   flush said */
	unsigned reported_more;
};

/* What the store turned out not to do in batches (wb-batch.c).  Only the
 * replaying thread touches it, under replay_lock. */
struct wb_batching {
	bool no_append;			/* cannot append in batches */
	bool no_flags;			/* nor set flags in batches */
	bool no_remove;			/* nor delete in batches */
	bool no_move;			/* nor move or copy in batches */
	int64_t single_until;		/* rows up to this seq go one by one
					   (a batch of them was refused) */
};

/* The folder for copies of sent messages as last looked up, good while
 * the index's folder list stays as it was then (wb-outbox.c). */
struct wb_sent {
	bool known;
	char *name;			/* owned; NULL: the store has none */
	char *folders;			/* owned; digest of the folder list */
	int64_t fgen;			/* index_folders_gen then */
};

struct wb {
	/* set by wb_open, read-only after */
	struct mfs_store *inner;	/* borrowed */
	struct cache_index *ix;		/* borrowed; its own lock */
	struct blobs *blobs;		/* borrowed; its own lock */
	struct mfs_sender *sender;	/* borrowed; NULL: no Outbox */
	struct wb_hooks hooks;
	bool writeback;
	char *pending;			/* owned; dir/pending: appends' bytes */
	char *issues;			/* owned; dir/sync-issues */

	gint counter;			/* for names made here; atomic */
	GMutex replay_lock;		/* one replay at a time: a flusher
					   round, or a change made directly */
	struct wb_batching batch;	/* under replay_lock */
	struct wb_sent sent;		/* under replay_lock */
	struct wb_flusher fl;		/* under fl.lock */
};

/* How a replay ended.  DEFERRED: a message to send waits for its own
 * back-off, while the rows after it go on. */
enum wb_outcome { WB_DONE, WB_REFUSED, WB_RETRY, WB_DEFERRED };

/* wb-flusher.c */
/*
 * What a change of state carries: the fields its target reads.
 *   JS_SENT     now_r: the row as claimed (caller owns)
 *   JS_QUEUED   with `folder`: a SEND the server took becomes the APPEND
 *               of its copy, item `id` of `folder` with `flags`
 *   JS_HELD     reason: why the message is not sent
 *   JS_DONE     rid: the server id of what the row made, or NULL
 *   JS_DROPPED  dropped_r: the rows that went, `r` first (caller owns)
 */
struct wb_change {
	struct jrow **now_r;
	const char *folder, *id;
	uint64_t flags;
	const char *reason;
	const char *rid;
	GPtrArray **dropped_r;
};
/* The one function that changes the state of journal row `r` (as last
 * read) to `to`; `how` may be NULL where nothing is carried.  Part of the
 * caller's transaction if one is open. */
int wb_row_set(struct wb *w, const struct jrow *r, enum jstate to,
	       struct wb_change *how);
/* A step of the flusher (a row claimed, its request answered, its
 * completion committed): the crash test hook. */
void wb_step(struct wb *w);
/* A row went through: the time of the last flush, and no failure. */
void wb_went_through(struct wb *w);
/* What the server refused was kept as `file` (a path in sync-issues/)
 * for `reason`: the next flush says so. */
void wb_refused(struct wb *w, const char *file, const char *reason);
/* wb_flush() without saying what was refused: wait only. */
int wb_wait_flushed(struct wb *w, const char *folder, const char *id,
		    struct mfs_error *e);
/* Wake the flusher: new rows. */
void wb_wake(struct wb *w);
/* The file of an append's bytes in pending/.  Caller owns. */
char *wb_content_path(struct wb *w, const char *name);

/* wb-record.c */
/* A name for a new item of `folder`: `hint` when it is free, else one
 * made here.  Call inside index_begin().  Caller owns. */
char *wb_choose_id(struct wb *w, const char *folder, const char *hint);
/* The body of folder/id, when here, goes along to dest/dest_id (a second
 * name with `copy`), out of the eviction list. */
void wb_carry_blob(struct wb *w, const char *folder, const char *id,
		   const char *dest, const char *dest_id, bool copy);
/* The body of folder/id is gone. */
void wb_drop_blob(struct wb *w, const char *folder, const char *id);
/* The bodies of folder `from` and its sub-folders take the name `to`. */
void wb_rename_blobs(struct wb *w, const char *from, const char *to);

/* wb-direct.c: the changes without write-back, once older journaled ones
 * are on the server */
int wb_direct_append(struct wb *w, const char *folder, int fd,
		     const char *hint, uint64_t flags, int64_t date,
		     struct mfs_item **item_r, struct mfs_error *e);
int wb_direct_set_flags(struct wb *w, const char *folder, const char *id,
			uint64_t flags, struct mfs_error *e);
int wb_direct_remove(struct wb *w, const char *folder, const char *id,
		     struct mfs_error *e);
int wb_direct_move(struct wb *w, const char *folder, const char *id,
		   const char *dest, uint64_t flags, bool keep_source,
		   struct mfs_item **item_r, struct mfs_error *e);
/* JOP_MKDIR (with `kind`), JOP_RENAME (to `to`) or JOP_RMDIR. */
int wb_direct_folder(struct wb *w, enum jop op, const char *path,
		     const char *to, enum mfs_folder_kind kind,
		     struct mfs_error *e);

/* wb-replay.c */
/* Perform claimed row `r` on the inner store.  `was_sent` says a request
 * for it may have gone out before.  *rid_r (caller owns) is the server id
 * of what it made.  Never WB_DEFERRED. */
enum wb_outcome wb_replay(struct wb *w, const struct jrow *r, bool was_sent,
			  char **rid_r, struct mfs_error *e);
/* The row went through (JS_DONE): hand its server id on, and let the
 * server's view of its folders in again once nothing of theirs waits. */
void wb_finish_row(struct wb *w, const struct jrow *r, const char *rid);
/* The server will not take the row (JS_DROPPED): keep what the user made
 * in sync-issues/ with `why`, drop the row and what depends on it, and
 * read the folders again. */
void wb_refuse_row(struct wb *w, const struct jrow *r, const char *why);

/* wb-batch.c */
typedef enum wb_outcome (*wb_batch_fn)(struct wb *w, GPtrArray *rows,
				       struct mfs_error *e);
/* The replay of a run of rows like `first` in one exchange, and the run's
 * longest length in *max_r; NULL when the row goes alone.  A batch
 * returns WB_DONE, WB_RETRY (reason in *e), or WB_REFUSED when it was not
 * tried or not taken as a whole: then the first row goes alone. */
wb_batch_fn wb_batch_for(struct wb *w, const struct jrow *first,
			 unsigned *max_r);

/* wb-outbox.c */
/* 0, or -EPERM with the reason in *e when `path` is the Outbox or in it
 * (it cannot be made, renamed or removed, nor hold folders). */
int wb_outbox_folder(struct wb *w, const char *path, struct mfs_error *e);
/* Send claimed SEND row `r`.  WB_DONE (sent, or held for good), WB_RETRY
 * or WB_DEFERRED (nothing was sent). */
enum wb_outcome wb_replay_send(struct wb *w, const struct jrow *r,
			       bool was_sent, struct mfs_error *e);
/* Free what the Outbox remembers (wb_close). */
void wb_outbox_clear(struct wb *w);

#endif
