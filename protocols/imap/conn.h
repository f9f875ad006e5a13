/*
 * conn.h - one IMAP connection: connect (TCP, TLS, tunnel), greeting,
 * capabilities, STARTTLS, authentication, and commands with their
 * responses.  A connection is used by one thread at a time (the pool in
 * pool.c hands them out).
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
#include "oauth2.h"
#include "parse.h"


/* An account's connection settings.  Strings owned (imap_cfg_clear). */
struct imap_cfg {
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
					   each step of imap_conn_open, or
					   NULL */
};
void imap_cfg_clear(struct imap_cfg *cfg);

struct imap_conn;		/* opaque */

/* Called for each untagged response line while a command runs; the line is
 * borrowed.  Return 0, or -errno to fail the command (it still runs to its
 * end so the connection stays in step). */
typedef int (*imap_untagged_fn)(struct imap_line *line, void *data);

/* Connect, secure and log in.  Caller owns *c_r (imap_conn_close). */
int imap_conn_open(const struct imap_cfg *cfg, struct imap_conn **c_r,
		   struct mfs_error *e);
void imap_conn_close(struct imap_conn **c);

bool imap_conn_cap(const struct imap_conn *c, const char *cap);
/* Read what the server sent while nobody asked (a BYE when a folder went
 * away, EXISTS...); false when the connection cannot be used any more. */
bool imap_conn_alive(struct imap_conn *c);
bool imap_conn_broken(const struct imap_conn *c);
/* The hierarchy delimiter (from LIST "" "" and NAMESPACE), '/' when the
 * server has none. */
char imap_conn_delimiter(const struct imap_conn *c);
/* The personal namespace's prefix (RFC 2342), such as "INBOX." on servers
 * that keep folders under INBOX; "" when none.  Borrowed. */
const char *imap_conn_prefix(const struct imap_conn *c);

/* The folder (server name) selected, or NULL.  Borrowed. */
const char *imap_conn_selected(const struct imap_conn *c);
uint64_t imap_conn_uidvalidity(const struct imap_conn *c);
void imap_conn_set_selected(struct imap_conn *c, const char *mailbox,
			    uint64_t uidvalidity);

/* A command being built.  Caller owns it until imap_conn_run takes it. */
struct imap_cmd;
struct imap_cmd *imap_cmd_new(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* More text, as is (atoms, numbers, sequence sets, parentheses). */
void imap_cmd_add(struct imap_cmd *cmd, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);
/* A string argument: an atom, a quoted string or a literal, as it needs. */
void imap_cmd_astring(struct imap_cmd *cmd, const char *s, size_t len);
/* A literal read from `fd` (offset 0 to `size`); fd borrowed until the
 * command was sent. */
void imap_cmd_literal_fd(struct imap_cmd *cmd, int fd, uint64_t size);
/* The trace shows "<secret>" for the rest of this command. */
void imap_cmd_secret(struct imap_cmd *cmd);
void imap_cmd_free(struct imap_cmd **cmd);

/*
 * Send `cmd` (taken) and read until its completion.  Untagged responses go
 * to `cb` (may be NULL).  On OK returns 0 and, if done_r is given, the
 * completion line (caller owns; it holds e.g. [APPENDUID ...]).  NO and BAD
 * become -errno by imap_status_to_errno, with the server's text in e->msg.
 */
int imap_conn_run(struct imap_conn *c, struct imap_cmd *cmd,
		  imap_untagged_fn cb, void *data, struct imap_line **done_r,
		  struct mfs_error *e);

/*
 * Pipelining: send `cmd` (taken) without waiting (*tag_r identifies it,
 * caller owns),
 * then collect each completion with imap_conn_wait, in any order.  Untagged
 * responses that arrive meanwhile go to the `cb` of the wait running then.
 */
int imap_conn_send(struct imap_conn *c, struct imap_cmd *cmd, char **tag_r,
		   struct mfs_error *e);
int imap_conn_wait(struct imap_conn *c, const char *tag, imap_untagged_fn cb,
		   void *data, struct imap_line **done_r, struct mfs_error *e);

/* IDLE (RFC 2177): start it, wait for untagged responses up to `ms`
 * (returns 1 when something arrived, 0 on time out), then end it. */
int imap_conn_idle_start(struct imap_conn *c, struct mfs_error *e);
int imap_conn_idle_wait(struct imap_conn *c, int ms, imap_untagged_fn cb,
			void *data, struct mfs_error *e);
int imap_conn_idle_done(struct imap_conn *c, imap_untagged_fn cb, void *data,
			struct mfs_error *e);

/* status.c: a tagged NO/BAD (and its response code) as an errno and a
 * failure class.  Table-driven, unit-tested. */
int imap_status_to_errno(const struct imap_line *done, struct mfs_error *e);

#endif
