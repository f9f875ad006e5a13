/*
 * imapd-private.h - the embedded IMAP server's session, shared by the
 * files of protocols/serve/imap only.
 *
 * A session runs on its client's thread and touches nothing shared but
 * the store (thread-safe behind the backend interface) and the UID state
 * files (locked inside uids.c).  Ownership: the session owns its
 * view and parser; arguments of a parsed command are borrowed from the
 * line for the duration of the command.
 */
#ifndef MFS_IMAP_SERVER_PRIVATE_H
#define MFS_IMAP_SERVER_PRIVATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "wire/imap-parse.h"
#include "maildir-name.h"
#include "serve/serve.h"
#include "args.h"
#include "serve/uids.h"

/* One message of the selected mailbox, as this session last told it. */
struct imapd_msg {
	uint32_t uid;
	char *id;		/* owned; the store's item id */
	uint64_t size;
	int64_t date;
	uint64_t flags;		/* MFS_FLAG_* letters; keywords are the
				   lowercase ones, named by the view's kw */
	uint64_t modseq;	/* RFC 7162 */
	bool recent;
};

struct imapd_view {
	char *folder;		/* owned; the store's folder path */
	char *name;		/* owned; the name as the client gave it */
	bool readonly;
	GArray *msgs;		/* of struct imapd_msg, ascending UID; owned */
	uint32_t uidvalidity, uidnext;
	uint64_t highest;	/* HIGHESTMODSEQ */
	gint64 refreshed;	/* monotonic µs of the last look at the store */
	char *state;		/* owned; the store's sync state, or NULL */
	struct maildir_keywords kw;	/* the folder's keywords, as the
					   client was last told them */
};

enum imapd_state { IMAP_NOT_AUTHED, IMAP_AUTHED, IMAP_SELECTED, IMAP_LOGOUT };

struct imapd_session {
	const struct serve_ctx *ctx;	/* borrowed */
	struct serve_conn *c;		/* borrowed */
	enum imapd_state state;
	struct imap_parser *parser;	/* owned */
	struct imapd_view *view;		/* owned; NULL unless SELECTED */
	unsigned failures;
	bool condstore;			/* RFC 7162: MODSEQ in FETCH news */
	bool qresync;			/* VANISHED instead of EXPUNGE */
	GString *line;			/* owned; for raw lines */
};

/* A command: its tag, whether it came as "UID x", its arguments. */
struct imapd_cmd {
	const char *tag;		/* borrowed from the line */
	const char *name;		/* borrowed; upper case not assumed */
	bool uid;
	struct imap_arg **args;		/* borrowed; the arguments */
	guint nargs;
};

/* server.c: replies */
void imapd_reply(struct imapd_session *s, const struct imapd_cmd *cmd,
		const char *status, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
void imapd_untagged(struct imapd_session *s, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);
/* A string argument of a reply: quoted when it can be, else a literal;
 * NIL for NULL. */
void imapd_send_nstring(struct imapd_session *s, const char *str, size_t len);
void imapd_send_astring(struct imapd_session *s, const char *str);
const char *imapd_cmd_string(const struct imapd_cmd *cmd, guint i);

/* mailbox.c */
/* The commands' handlers, as the table of server.c runs them. */
void imapd_cmd_list(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_lsub(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_create(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_delete(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_rename(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_subscribe(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_status(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_select(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_examine(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_view_free(struct imapd_view **v);
/* Bring the view up to date and tell the client what changed: new
 * messages (EXISTS, RECENT), flags (FETCH), and when `expunges` is set,
 * messages gone (EXPUNGE).  Returns 0 or -errno. */
int imapd_view_refresh(struct imapd_session *s, bool expunges);
/* Load a folder's messages with their UIDs and mod-sequences.  Caller
 * owns *msgs_r and *state_r (may be NULL). */
int imapd_folder_load(struct imapd_session *s, const char *folder,
		     GArray **msgs_r, struct serve_uid_state *uids_r,
		     char **state_r);
/* Tell the client that the view's messages at `idx` (ascending) are gone:
 * EXPUNGE for each, or one VANISHED after QRESYNC; removes them from the
 * view. */
void imapd_view_expunged(struct imapd_session *s, GArray *idx);
/* The directory of a store folder.  Caller owns the result. */
char *imapd_folder_dir(struct imapd_session *s, const char *folder);
/* FLAGS and PERMANENTFLAGS of the selected mailbox, its keywords with. */
void imapd_send_keywords(struct imapd_session *s);
/* The flag bits of keywords `names` (of const char *) in the selected
 * mailbox, given letters there when `add`, else looked up (a name not
 * there is skipped).  A keyword list changed meanwhile is told to the
 * client first.  Returns 0, -ENOSPC when `add` found no free letter (no
 * name was added), or another -errno. */
int imapd_view_keywords(struct imapd_session *s, GPtrArray *names, bool add,
			uint64_t *bits_r);
/* A UID set with runs as ranges ("1:3,7").  Caller owns the result. */
char *imapd_uid_set_string(const GArray *uids);
void imapd_msg_clear(gpointer p);

/* fetch.c */
void imapd_cmd_fetch(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_send_flags(struct imapd_session *s, const struct imapd_msg *m);
/* Whether the view's message i is in the set (by UID or by number). */
bool imapd_set_matches(struct imapd_session *s, const GArray *ranges,
		      bool uid, guint i);
/* The whole content of a message.  Returns 0 or -errno; caller owns
 * *bytes_r. */
int imapd_msg_content(struct imapd_session *s, const struct imapd_msg *m,
		     GBytes **bytes_r);

/* msgs.c */
void imapd_cmd_store(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_copy(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_move(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_expunge(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_append(struct imapd_session *s, const struct imapd_cmd *cmd);
void imapd_cmd_search(struct imapd_session *s, const struct imapd_cmd *cmd);
/* Closing the mailbox: remove every \Deleted message silently. */
void imapd_expunge_silently(struct imapd_session *s);

#endif
