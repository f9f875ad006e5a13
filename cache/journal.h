/*
 * journal.h - the write-back journal: the changes made on the mount that
 * the server has not taken yet, one row each, in the order they were made,
 * stored in the index's database so that a change and its effect on the
 * index commit together.
 *
 * Items made here (an append, the target of a move or copy) have no server
 * id yet: their index row and every later journal row that names them
 * carry `origin`, the seq of the row that makes them, until that row is
 * done and hands its server id on (journal_done).
 *
 * Thread-safe through the index's lock.  Functions return 0 or -errno
 * (-ENOENT when there is no such row, -EIO for the database).
 */
#ifndef MFS_CACHE_JOURNAL_H
#define MFS_CACHE_JOURNAL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct cache_index;

enum jop {
	JOP_APPEND = 1,		/* folder, id, flags, date, size, msgid,
				   content */
	JOP_FLAGS,		/* folder, id/rid, flags */
	JOP_REMOVE,		/* folder, id/rid */
	JOP_MOVE,		/* folder, id/rid -> dest, dest_id, flags */
	JOP_COPY,		/* the same; the source stays */
	JOP_MKDIR,		/* folder, kind */
	JOP_RENAME,		/* folder -> dest */
	JOP_RMDIR,		/* folder */
	JOP_SEND,		/* folder (the outbox), id, size, msgid,
				   content: a message to submit; once the
				   server took it the row becomes the
				   APPEND of its copy to the sent folder */
};

/* A row's progress (the diagram and its one setter, wb_row_set(), are in
 * wb-flusher.c).  SENT means the request may have reached the server and
 * its outcome is not known: it is looked up before it is repeated.  HELD
 * is a message the flusher will not send (refused, or perhaps sent
 * already): it waits, with its reason, for the user to remove it.  DONE
 * and DROPPED are never stored: the row is removed. */
enum jstate {
	JS_QUEUED = 0,
	JS_SENT = 1,
	JS_HELD = 2,
	JS_DONE = 3,
	JS_DROPPED = 4,
};

struct jrow {
	int64_t seq;
	enum jop op;
	char *folder;		/* owned */
	char *id;		/* owned; the item's name on the mount */
	char *rid;		/* owned; its server id, NULL until known */
	int64_t origin;		/* the row making the item, 0 for none */
	char *dest, *dest_id;	/* owned */
	uint64_t flags;
	int64_t date;
	int kind;		/* enum mfs_folder_kind for MKDIR */
	uint64_t size;
	char *msgid;		/* owned; Message-ID of an append, or NULL */
	char *content;		/* owned; file name of an append's bytes */
	enum jstate state;
	int tries;
	char *error;		/* owned; the last failure */
};

void jrow_free(struct jrow *r);
typedef struct jrow jrow;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(jrow, jrow_free)
const char *jop_name(enum jop op);
const char *jstate_name(enum jstate state);
/* Whether rows of `op` change the folder list. */
bool jop_changes_folders(enum jop op);
/* Whether a run of rows of `op` can go in one request. */
bool jop_batches(enum jop op);

/* Add `r` (its seq is set), QUEUED whatever r->state says.  Part of the
 * caller's transaction if one is open (index_begin). */
int journal_add(struct cache_index *ix, struct jrow *r);
/* The oldest row not held (nor a SEND unless `sends`), or -ENOENT.
 * Caller owns *r_r. */
int journal_first(struct cache_index *ix, bool sends, struct jrow **r_r);
int journal_get(struct cache_index *ix, int64_t seq, struct jrow **r_r);
/* The functions that change a row's state (journal_claim, journal_requeue,
 * journal_hold, journal_retarget, journal_done, journal_drop) are called
 * by wb_row_set() alone. */
/* Mark row `seq` SENT and read it, in one step: a change folded into a
 * row after this cannot be lost.  Caller owns *r_r. */
int journal_claim(struct cache_index *ix, int64_t seq, struct jrow **r_r);
/* From row `first` on, the run of unsent rows of its kind for its folder
 * that can go in one request (appends; flag changes, deletes, moves and
 * copies to one folder of messages the server has), at most `max`.  Caller owns *rows_r (of struct jrow *). */
int journal_run(struct cache_index *ix, int64_t first, unsigned max,
		GPtrArray **rows_r);
/* The newest row naming item `id` of `folder` (as source or target). */
int journal_latest_for(struct cache_index *ix, const char *folder,
		       const char *id, struct jrow **r_r);
/* Whether any row not held names the item (or, with `id` NULL, the
 * folder). */
bool journal_names(struct cache_index *ix, const char *folder,
		   const char *id);
/* Row `seq` is QUEUED again: nothing of it reached the server. */
int journal_requeue(struct cache_index *ix, int64_t seq);
int journal_set_flags(struct cache_index *ix, int64_t seq, uint64_t flags);
int journal_note_failure(struct cache_index *ix, int64_t seq,
			 const char *error);
/* Hold row `seq` with `reason` (see JS_HELD). */
int journal_hold(struct cache_index *ix, int64_t seq, const char *reason);
/* Row `seq` (a SEND the server took) becomes the queued APPEND of its
 * content to item `id` of `folder` with `flags`. */
int journal_retarget(struct cache_index *ix, int64_t seq, const char *folder,
		     const char *id, uint64_t flags);
/* The last failure of the row that makes item `id` of `folder`, or
 * -ENOENT when it has none.  Caller owns *error_r. */
int journal_item_error(struct cache_index *ix, const char *folder,
		       const char *id, char **error_r);
/* Whether a later row depends on row `seq` (names what it makes). */
bool journal_has_dependents(struct cache_index *ix, int64_t seq);
/* Row `seq` reached the server: remove it, and give `rid` (the server id
 * of what it made, or NULL) to the index item and the rows it made. */
int journal_done(struct cache_index *ix, int64_t seq, const char *rid);
/* Row `seq` failed for good: remove it, the rows that depend on it
 * (recursively) and the index items they made.  *dropped_r (caller owns;
 * of struct jrow *, seq's row first) lists what was removed. */
int journal_drop(struct cache_index *ix, int64_t seq, GPtrArray **dropped_r);
/* Rows pending (held ones are not), and per folder as "pending in FOLDER:
 * N" lines into `out`, then the held ones with their reasons. */
int64_t journal_count(struct cache_index *ix);
void journal_describe(struct cache_index *ix, GString *out);
/* File names of every append's content, for clearing orphans. */
int journal_contents(struct cache_index *ix, GHashTable **names_r);

#endif
