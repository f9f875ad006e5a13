/*
 * pop3c-private.h - the POP3 backend's state, shared by the files of
 * protocols/pop3 only (the embedded server is serve/pop3/ and shares
 * nothing of this; the codecs both share are in wire/).
 *
 * Item ids are the server's UIDLs (RFC 1939 section 7), escaped by
 * pop3c_id_from_uidl so that they can be the unique part of a Maildir name;
 * they depend on nothing else, so names survive remounts and a wiped cache.
 * Message numbers only hold within one session and are learnt again with
 * every new one.
 *
 * POP3 keeps no flags and no dates: both are the backend's own, in a state
 * file under the account's work directory (state.c).
 *
 * With leave_on_server = false, every message is first kept in a local
 * Maildir (the `local` store) and then deleted on the server; the mount
 * shows that store's items, and flags and removals go to it.
 *
 * Locking: `lock` serialises everything: the one session and the maps
 * learnt from it, the known-state table and its file, the local store.
 * The watcher thread takes no lock: it only wakes the cache.
 */
#ifndef MFS_POP3_CLIENT_PRIVATE_H
#define MFS_POP3_CLIENT_PRIVATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "conn.h"

/* The only folder. */
#define POP3_FOLDER "INBOX"

/* One message of the current session (UIDL and LIST). */
struct pop3c_msg {
	unsigned num;			/* message number in the session */
	char *id;			/* owned; escaped UIDL */
	char *uidl;			/* owned; as the server sent it */
	uint64_t size;			/* from LIST */
};

/* What the backend remembers of a message across sessions and mounts. */
struct pop3c_known {
	int64_t date;			/* from the Date: header, or first seen */
	uint64_t flags;			/* MFS_FLAG_*, local only */
	bool kept;			/* leave_on_server = false: stored in
					   the local Maildir */
};

struct pop3c_watch;

struct mfs_backend {
	struct pop3c_cfg cfg;		/* owned; read-only after open */
	GMutex lock;
	struct pop3c_conn *conn;		/* owned; NULL when none; lock */
	bool conn_listed;		/* `msgs` describe conn's session */
	bool conn_synced;		/* a sync has used conn's listing, so
					   the next sync needs a new session
					   to see new mail */
	GHashTable *msgs;		/* id -> struct pop3c_msg, owned; lock */
	GPtrArray *order;		/* of struct pop3c_msg *, borrowed from
					   msgs, in number order; lock */
	GHashTable *known;		/* id -> struct pop3c_known, owned;
					   lock */
	char *state_path;		/* owned */
	struct mfs_store local;		/* keep mode: owned; lock */
	gint64 last_sync;		/* real time, us; lock */
	char *last_error;		/* owned; lock */
	struct pop3c_watch *watch;	/* owned */
	struct pop3c_body *body;	/* owned; the body being read in a
					   pipeline, else NULL; lock */
};

/* client.c: the account's settings.  Returns 0, or -EINVAL with the
 * reason in *err. */
int pop3c_parse_cfg(const struct mfs_account *acct, struct pop3c_cfg *cfg,
		   GError **err);

/* check.c: `mailfs check` of a POP3 account (backend.h). */
int pop3c_check(const struct mfs_account *acct, struct mfs_check *ck);

/*
 * The one table from a "-ERR" to an errno and a failure class: RFC 3206
 * codes decide; without one, a refused command is final for its item.
 * Returns 0 for "+OK", else -errno with *e filled (if not NULL) with the
 * server's text.
 */
int pop3c_status_to_errno(const struct pop3_reply *r, struct mfs_error *e);

/* ids.c: the item id of a UIDL and back.  '%', '/', ':' and a leading '.'
 * are written "%XX"; nothing else changes.  Caller owns results. */
bool pop3c_uidl_valid(const char *s, size_t len);
char *pop3c_id_from_uidl(const char *uidl);
/* Returns 0, or -EINVAL for a string pop3c_id_from_uidl never writes. */
int pop3c_uidl_from_id(const char *id, char **uidl_r);
/* An RFC 5322 date-time (a Date: header's value) as seconds since the
 * epoch; 0 when it cannot be read. */
int64_t pop3c_parse_date(const char *s);

/* state.c: the known-state file.  Both return 0 or -errno. */
int pop3c_state_load(struct mfs_backend *be, GError **err);
/* Write atomically (temporary file, fsync, rename). */
int pop3c_state_save(struct mfs_backend *be, struct mfs_error *e);
struct pop3c_known *pop3c_known_get(struct mfs_backend *be, const char *id);
struct pop3c_known *pop3c_known_add(struct mfs_backend *be, const char *id,
				  int64_t date, uint64_t flags);

/*
 * session.c: take `lock` for a request to the server, waiting no later than
 * the running operation's deadline (stream.h): another call may hold the
 * session for as long as a silent server makes it wait, and the time this
 * call waits for it is part of its own.  Returns 0 with `lock` held, or
 * -ETIMEDOUT (a transient account error in *e) without it.
 */
int pop3c_enter(struct mfs_backend *be, struct mfs_error *e);

/* session.c: the session, with `lock` held.  pop3c_session gives a
 * logged-in session with its listing; `fresh` asks for one begun after
 * the last sync (POP3 shows new mail only to a new session). */
int pop3c_session(struct mfs_backend *be, bool fresh, struct mfs_error *e);
void pop3c_session_drop(struct mfs_backend *be);
/* QUIT the session (DELEs take effect), dropping it either way. */
int pop3c_session_quit(struct mfs_backend *be, struct mfs_error *e);
/* The message with item id `id` in this session, or NULL.  Borrowed. */
struct pop3c_msg *pop3c_session_msg(struct mfs_backend *be, const char *id);
/* Run `cmds[i]` for i < n, several in flight when the server has
 * PIPELINING; `done` gets each reply (rc 0 or a -ERR's -errno, with `e`
 * describing it) in order; `max_body` (NULL: listings) bounds each body.
 * Returns 0 or the first failure of the session or of `done`. */
typedef int (*pop3c_reply_fn)(struct mfs_backend *be, size_t i, int rc,
			     struct pop3_reply *reply, void *data,
			     struct mfs_error *e);
int pop3c_session_pipeline(struct mfs_backend *be, char *const *cmds,
			  size_t n, bool multi, const uint64_t *max_body,
			  pop3c_reply_fn done, void *data, struct mfs_error *e);

/* items.c: the members on the server's messages */
int pop3c_sync(struct mfs_backend *be, const char *folder, const char *state,
	      struct mfs_sync_result **res_r, struct mfs_error *e);
int pop3c_fetch(struct mfs_backend *be, const char *folder, const char *id,
	       int *fd_r, struct mfs_error *e);
int pop3c_fetch_batch(struct mfs_backend *be, const char *folder,
		     const char *const *ids, size_t n, mfs_fetched_fn got,
		     void *data, struct mfs_error *e);
int pop3c_set_flags(struct mfs_backend *be, const char *folder,
		   const char *const *ids, const uint64_t *flags, size_t n,
		   int *rcs, struct mfs_error *e);
int pop3c_remove(struct mfs_backend *be, const char *folder,
		 const char *const *ids, size_t n, struct mfs_error *e);
/* The bytes as a readable file at offset 0; caller owns *fd_r. */
int pop3c_body_fd(const char *buf, size_t len, int *fd_r, struct mfs_error *e);
/* The most bytes a RETR of a message LIST says is `size` may bring: a
 * little more than `size`, never more than POP3C_MESSAGE_MAX. */
uint64_t pop3c_body_limit(uint64_t size);

/*
 * A body (RETR, TOP) as it arrives: up to POP3C_BODY_MEM_MAX bytes it
 * stays in the reply; past that it goes on to an unlinked file, so that
 * however large a message is, or a server says it is, no more than that
 * is held in memory.  Past its limit (pop3c_body_limit) the read stops
 * with -EFBIG naming the message, and the session is dropped.
 */
#define POP3C_MESSAGE_MAX ((uint64_t)256 << 20)
#define POP3C_BODY_MEM_MAX (1u << 20)
/* Longest line of a body; a line is gathered in memory whole. */
#define POP3C_BODY_LINE_MAX (4u << 20)
/* The start of a body kept in memory when the rest spills: its header. */
#define POP3C_HEAD_MAX (256u * 1024)

struct pop3c_body {
	const struct pop3c_msg *m;	/* borrowed; NULL when not known */
	uint64_t limit;
	uint64_t spilled;		/* bytes written to fd */
	int fd;				/* owned; -1 until the body spills */
	GString *head;			/* owned; its start, once spilled */
};

/* Watch the body of the reply to `cmd` ("RETR n", "TOP n 0"), of at most
 * `limit` bytes, arrive on be->conn. */
void pop3c_body_start(struct mfs_backend *be, const char *cmd,
		      uint64_t limit);
/* Stop watching; a file not taken is closed. */
void pop3c_body_end(struct mfs_backend *be);
/* The length of the body just read, in memory and spilled together. */
uint64_t pop3c_body_len(struct mfs_backend *be, struct pop3_reply *r);
/* Its start (borrowed; the header is in it): all of it unless it
 * spilled. */
const char *pop3c_body_head(struct mfs_backend *be, struct pop3_reply *r,
			    size_t *len_r);
/* All of it as a readable file at offset 0; caller owns *fd_r.  Returns
 * 0 or -errno. */
int pop3c_body_take_fd(struct mfs_backend *be, struct pop3_reply *r,
		       int *fd_r, struct mfs_error *e);
/* The date of a message from its header block (TOP n 0 or the start of the
 * message), else now. */
int64_t pop3c_header_date(const char *buf, size_t len);

/* keep.c: leave_on_server = false */
/* The local Maildir store at `root` (outside the cache: it holds the only
 * copy of the mail), its work files in `work_dir`. */
int pop3c_keep_open(struct mfs_backend *be, const char *root,
		   const char *work_dir, GError **err);
int pop3c_keep_sync(struct mfs_backend *be, struct mfs_sync_result **res_r,
		   struct mfs_error *e);

/* watch.c: report INBOX every poll_interval seconds */
int pop3c_watch_start(struct mfs_backend *be, mfs_change_fn fn, void *data);
void pop3c_watch_stop(struct mfs_backend *be);

/* client.c: record how a sync went, for describe() */
void pop3c_note_sync(struct mfs_backend *be, int rc,
		    const struct mfs_error *e);

#endif
