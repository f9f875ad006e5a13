/*
 * server-private.h - the embedded IMAP server's session, shared by the
 * files protocols/imap/server*.c only.
 *
 * A session runs on its client's thread and touches nothing shared but
 * the store (thread-safe behind the backend interface) and the UID state
 * files (locked inside server-uids.c).  Ownership: the session owns its
 * view and parser; arguments of a parsed command are borrowed from the
 * line for the duration of the command.
 */
#ifndef MFS_IMAP_SERVER_PRIVATE_H
#define MFS_IMAP_SERVER_PRIVATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "parse.h"
#include "serve.h"
#include "server-args.h"
#include "server-uids.h"

/* One message of the selected mailbox, as this session last told it. */
struct imap_msg {
	uint32_t uid;
	char *id;		/* owned; the store's item id */
	uint64_t size;
	int64_t date;
	uint64_t flags;		/* MFS_FLAG_* letters */
	uint64_t modseq;	/* RFC 7162 */
	bool recent;
};

struct imap_view {
	char *folder;		/* owned; the store's folder path */
	char *name;		/* owned; the name as the client gave it */
	bool readonly;
	GArray *msgs;		/* of struct imap_msg, ascending UID; owned */
	uint32_t uidvalidity, uidnext;
	uint64_t highest;	/* HIGHESTMODSEQ */
	gint64 refreshed;	/* monotonic µs of the last look at the store */
	char *state;		/* owned; the store's sync state, or NULL */
};

enum imap_state { IMAP_NOT_AUTHED, IMAP_AUTHED, IMAP_SELECTED, IMAP_LOGOUT };

struct imap_session {
	const struct serve_ctx *ctx;	/* borrowed */
	struct serve_conn *c;		/* borrowed */
	enum imap_state state;
	struct imap_parser *parser;	/* owned */
	struct imap_view *view;		/* owned; NULL unless SELECTED */
	unsigned failures;
	bool condstore;			/* RFC 7162: MODSEQ in FETCH news */
	bool qresync;			/* VANISHED instead of EXPUNGE */
	GString *line;			/* owned; for raw lines */
};

/* A command: its tag, whether it came as "UID x", its arguments. */
struct imap_cmd {
	const char *tag;		/* borrowed from the line */
	const char *name;		/* borrowed; upper case not assumed */
	bool uid;
	struct imap_arg **args;		/* borrowed; the arguments */
	guint nargs;
};

/* server.c: replies */
void imap_reply(struct imap_session *s, const struct imap_cmd *cmd,
		const char *status, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
void imap_untagged(struct imap_session *s, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);
/* A string argument of a reply: quoted when it can be, else a literal;
 * NIL for NULL. */
void imap_send_nstring(struct imap_session *s, const char *str, size_t len);
void imap_send_astring(struct imap_session *s, const char *str);
const char *imap_cmd_string(const struct imap_cmd *cmd, guint i);

/* server-mailbox.c */
void imap_cmd_list(struct imap_session *s, const struct imap_cmd *cmd,
		   bool lsub);
void imap_cmd_create(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_delete(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_rename(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_subscribe(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_status(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_select(struct imap_session *s, const struct imap_cmd *cmd,
		     bool readonly);
void imap_view_free(struct imap_view **v);
/* Bring the view up to date and tell the client what changed: new
 * messages (EXISTS, RECENT), flags (FETCH), and when `expunges` is set,
 * messages gone (EXPUNGE).  Returns 0 or -errno. */
int imap_view_refresh(struct imap_session *s, bool expunges);
/* Load a folder's messages with their UIDs and mod-sequences.  Caller
 * owns *msgs_r and *state_r (may be NULL). */
int imap_folder_load(struct imap_session *s, const char *folder,
		     GArray **msgs_r, struct imap_uid_state *uids_r,
		     char **state_r);
/* Tell the client that the view's messages at `idx` (ascending) are gone:
 * EXPUNGE for each, or one VANISHED after QRESYNC; removes them from the
 * view. */
void imap_view_expunged(struct imap_session *s, GArray *idx);
/* A UID set with runs as ranges ("1:3,7").  Caller owns the result. */
char *imap_uid_set_string(const GArray *uids);
void imap_msg_clear(gpointer p);

/* server-fetch.c */
void imap_cmd_fetch(struct imap_session *s, const struct imap_cmd *cmd);
void imap_send_flags(struct imap_session *s, const struct imap_msg *m);
/* Whether the view's message i is in the set (by UID or by number). */
bool imap_set_matches(struct imap_session *s, const GArray *ranges,
		      bool uid, guint i);
/* The whole content of a message.  Returns 0 or -errno; caller owns
 * *bytes_r. */
int imap_msg_content(struct imap_session *s, const struct imap_msg *m,
		     GBytes **bytes_r);

/* server-msgs.c */
void imap_cmd_store(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_copy(struct imap_session *s, const struct imap_cmd *cmd,
		   bool move);
void imap_cmd_expunge(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_append(struct imap_session *s, const struct imap_cmd *cmd);
void imap_cmd_search(struct imap_session *s, const struct imap_cmd *cmd);
/* Closing the mailbox: remove every \Deleted message silently. */
void imap_expunge_silently(struct imap_session *s);

#endif
