/*
 * writeback.h - the write-back engine, as the cached store (cache.c) uses
 * it: the changes made on the mount, journaled and replayed to the inner
 * store by one flusher thread in the order they were made (or, with
 * writeback off, made on the server at once), and the Outbox, whose
 * messages the flusher sends.
 *
 * The engine reads and writes the index and the journal, asks the inner
 * store and the sender, and moves bodies through blobs.h; it calls nothing
 * of cache.c: what the cache must do about a folder it is told through
 * the hooks it was opened with.
 *
 * Functions return 0 or -errno, with the reason in *e where there is one.
 */
#ifndef MFS_CACHE_WRITEBACK_H
#define MFS_CACHE_WRITEBACK_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

struct blobs;
struct cache_index;
struct mfs_sender;
struct wb;			/* opaque */

/* The folder whose files are sent, and where sent messages are copied when
 * the server marks no folder \Sent. */
#define CACHE_OUTBOX "Outbox"
#define CACHE_SENT "Sent"

/* What the engine asks of its owner.  Called from the flusher's thread or
 * a caller's, with no lock of the engine held. */
struct wb_hooks {
	/* Read `folder` ("" for the folder list) from the server again. */
	void (*resync)(void *owner, const char *folder);
	/* Tell the mount that `folder` changed in the index, without a sync
	 * with the server. */
	void (*tell)(void *owner, const char *folder);
	void *owner;			/* borrowed */
};

struct wb_setup {
	struct mfs_store *inner;	/* borrowed until wb_close */
	struct cache_index *ix;		/* borrowed until wb_close */
	struct blobs *blobs;		/* borrowed until wb_close */
	struct mfs_sender *sender;	/* borrowed until wb_close; NULL:
					   there is no Outbox */
	const char *dir;		/* the cache's; pending/ and
					   sync-issues/ go in it */
	bool writeback;			/* changes return once journaled */
	struct wb_hooks hooks;
};

/* Make the directories, clear what a crash left half-written, and read the
 * test hooks; the flusher does not run yet.  Returns 0 with *w_r (caller
 * owns, wb_close), or -errno with a message in *why_r (caller owns). */
int wb_open(const struct wb_setup *setup, struct wb **w_r, char **why_r);
/* Start the flusher; stop it and wait for it (NULL is fine).  After
 * wb_stop a flush fails at once. */
void wb_start(struct wb *w);
void wb_stop(struct wb *w);
/* Stop the flusher and free everything.  NULL is fine. */
void wb_close(struct wb **w);

/* Whether this store has an Outbox, and whether `folder` is it. */
bool wb_has_outbox(const struct wb *w);
bool wb_is_outbox(const struct wb *w, const char *folder);

/* The changes, journaled (writeback on) or made at once. */
int wb_append(struct wb *w, const char *folder, int fd, const char *hint,
	      uint64_t flags, int64_t date, struct mfs_item **item_r,
	      struct mfs_error *e);
int wb_set_flags(struct wb *w, const char *folder, const char *id,
		 uint64_t flags, struct mfs_error *e);
int wb_remove(struct wb *w, const char *folder, const char *id,
	      struct mfs_error *e);
int wb_move(struct wb *w, const char *folder, const char *id,
	    const char *dest, uint64_t flags, bool keep_source,
	    struct mfs_item **item_r, struct mfs_error *e);
int wb_create_folder(struct wb *w, const char *path,
		     enum mfs_folder_kind kind, struct mfs_error *e);
int wb_rename_folder(struct wb *w, const char *from, const char *to,
		     struct mfs_error *e);
int wb_delete_folder(struct wb *w, const char *path, struct mfs_error *e);

/* The bytes of an item made here by journal row `origin` that the server
 * does not have yet: from the append's file, or from the server's item it
 * is a move or copy of.  Caller owns *fd_r. */
int wb_fetch_pending(struct wb *w, int64_t origin, int *fd_r,
		     struct mfs_error *e);

/* Wait until nothing of item `id` of `folder` (id NULL: of the folder;
 * folder NULL: anything) waits for the server.  Retries at once what is
 * waiting for a back-off.  Fails with -EAGAIN (the reason in *e) when an
 * attempt fails while waiting.  With folder NULL, once nothing waits,
 * fails with -EREMOTEIO when the server refused changes since the last
 * such flush (kept in sync-issues/): *e counts them, and wb_describe()
 * names each ("refused at the last flush:" lines) until the next. */
int wb_flush(struct wb *w, const char *folder, const char *id,
	     struct mfs_error *e);
/* "pending:", "last flush:", "write-back:", "sync issues:", "refused
 * since the last flush:" and "refused at the last flush:" lines for
 * .mailfs/status. */
void wb_describe(struct wb *w, GString *out);

#endif
