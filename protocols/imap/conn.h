/*
 * conn.h - one IMAP connection: connect (TCP, TLS, tunnel), greeting,
 * capabilities, STARTTLS (open.c), authentication (auth.c), and commands
 * (cmd.c) with their responses (conn.c).  A connection is used by one
 * thread at a time (the pool in client.c hands them out).
 *
 * RFC 3501 / RFC 9051 (IMAP), RFC 2595 and RFC 8314 (TLS), RFC 4959
 * (SASL-IR), RFC 4616 (PLAIN), RFC 7628 (OAUTHBEARER), Google's XOAUTH2,
 * RFC 7888 (LITERAL+/LITERAL-), RFC 5161 (ENABLE).
 *
 * Errors: functions return 0 or -errno and describe the failure in
 * `struct mfs_error` (protocols/backend.h).  A connection that saw a
 * protocol error, a BYE or a timeout is marked broken and must be closed.
 * Secrets (password, token) are never written to any log: the protocol
 * trace shows "<secret>" in their place.  Bearer tokens come from
 * oauth2_token_cmd or from the account's built-in OAuth2 session
 * (protocols/oauth2/oauth2.h), which refreshes them.
 */
#ifndef MFS_IMAP_CONN_H
#define MFS_IMAP_CONN_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "config-value.h"
#include "oauth2/oauth2.h"
#include "wire/imap-parse.h"


/* An account's connection settings.  Strings owned (imapc_cfg_clear). */
struct imapc_cfg {
	char *name;			/* account name, for logs */
	char *host;
	char *port;
	enum config_tls tls;
	char *ca_file;
	char *user;
	char *password;			/* secret */
	char *oauth2_token_cmd;		/* a command printing a token */
	struct oauth2_session *oauth2;	/* owned; built-in OAuth2, or NULL */
	char *tunnel;			/* a command speaking IMAP on stdio */
	char *auth;			/* force one mechanism, or NULL */
	char *spill_dir;		/* where big literals are kept */
	int timeout_ms;
	unsigned connections;
	unsigned poll_interval;		/* seconds */
	struct mfs_check *check;	/* borrowed; `mailfs check` hears
					   each step of imapc_conn_open, or
					   NULL */
};
void imapc_cfg_clear(struct imapc_cfg *cfg);

struct imapc_conn;		/* opaque */

/* Called for each untagged response line while a command runs; the line is
 * borrowed.  Return 0, or -errno to fail the command (it still runs to its
 * end so the connection stays in step). */
typedef int (*imapc_untagged_fn)(struct imap_line *line, void *data);

/* Connect, secure and log in.  Caller owns *c_r (imapc_conn_close). */
int imapc_conn_open(const struct imapc_cfg *cfg, struct imapc_conn **c_r,
		   struct mfs_error *e);
void imapc_conn_close(struct imapc_conn **c);

bool imapc_conn_cap(const struct imapc_conn *c, const char *cap);
/* Read what the server sent while nobody asked (a BYE when a folder went
 * away, EXISTS...); false when the connection cannot be used any more. */
bool imapc_conn_alive(struct imapc_conn *c);
bool imapc_conn_broken(const struct imapc_conn *c);
/* The hierarchy delimiter (from LIST "" "" and NAMESPACE), '/' when the
 * server has none. */
char imapc_conn_delimiter(const struct imapc_conn *c);
/* The personal namespace's prefix (RFC 2342), such as "INBOX." on servers
 * that keep folders under INBOX; "" when none.  Borrowed. */
const char *imapc_conn_prefix(const struct imapc_conn *c);

/* The folder (server name) selected, or NULL.  Borrowed. */
const char *imapc_conn_selected(const struct imapc_conn *c);
uint64_t imapc_conn_uidvalidity(const struct imapc_conn *c);
void imapc_conn_set_selected(struct imapc_conn *c, const char *mailbox,
			    uint64_t uidvalidity);

/* A command being built.  Caller owns it until imapc_conn_run takes it. */
struct imapc_cmd;
struct imapc_cmd *imapc_cmd_new(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* More text, as is (atoms, numbers, sequence sets, parentheses). */
void imapc_cmd_add(struct imapc_cmd *cmd, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);
/* A string argument: an atom, a quoted string or a literal, as it needs. */
void imapc_cmd_astring(struct imapc_cmd *cmd, const char *s, size_t len);
/* A literal read from `fd` (offset 0 to `size`); fd borrowed until the
 * command was sent. */
void imapc_cmd_literal_fd(struct imapc_cmd *cmd, int fd, uint64_t size);
/* The trace shows "<secret>" for the rest of this command. */
void imapc_cmd_secret(struct imapc_cmd *cmd);
void imapc_cmd_free(struct imapc_cmd **cmd);

/*
 * Send `cmd` (taken) and read until its completion.  Untagged responses go
 * to `cb` (may be NULL).  On OK returns 0 and, if done_r is given, the
 * completion line (caller owns; it holds e.g. [APPENDUID ...]).  NO and BAD
 * become -errno by imapc_status_to_errno, with the server's text in e->msg.
 */
int imapc_conn_run(struct imapc_conn *c, struct imapc_cmd *cmd,
		  imapc_untagged_fn cb, void *data, struct imap_line **done_r,
		  struct mfs_error *e);

/*
 * Pipelining: send `cmd` (taken) without waiting (*tag_r identifies it,
 * caller owns),
 * then collect each completion with imapc_conn_wait, in any order.  Untagged
 * responses that arrive meanwhile go to the `cb` of the wait running then.
 */
int imapc_conn_send(struct imapc_conn *c, struct imapc_cmd *cmd, char **tag_r,
		   struct mfs_error *e);
int imapc_conn_wait(struct imapc_conn *c, const char *tag, imapc_untagged_fn cb,
		   void *data, struct imap_line **done_r, struct mfs_error *e);

/* IDLE (RFC 2177): start it, wait for untagged responses up to `ms`
 * (returns 1 when something arrived, 0 on time out), then end it. */
int imapc_conn_idle_start(struct imapc_conn *c, struct mfs_error *e);
int imapc_conn_idle_wait(struct imapc_conn *c, int ms, imapc_untagged_fn cb,
			void *data, struct mfs_error *e);
int imapc_conn_idle_done(struct imapc_conn *c, imapc_untagged_fn cb, void *data,
			struct mfs_error *e);

/* status.c: a tagged NO/BAD (and its response code) as an errno and a
 * failure class; 0 for OK, when *e is left alone.  Table-driven; each
 * code is tested in tests/unit/test-imap-status.c. */
int imapc_status_to_errno(const struct imap_line *done, struct mfs_error *e);

#endif
