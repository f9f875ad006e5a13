/*
 * conn.h - one POP3 session as a client: connecting (implicit TLS of
 * RFC 8314, or STLS of RFC 2595), the greeting, CAPA (RFC 2449), logging in
 * with USER/PASS (RFC 1939) or SASL PLAIN (RFC 5034, RFC 4616), and sending
 * commands, several at a time where the server has PIPELINING.
 *
 * Functions returning int return 0 or -errno and fill *e (if not NULL);
 * a failure of the transport, or bytes that break the protocol, leave the
 * session broken (pop3c_conn_broken) and it must be closed.  A "-ERR"
 * leaves it usable.  Every wait is bounded by the account's timeout.
 * Ownership: the defaults of backend.h.  A session is used by one thread
 * at a time; nothing here locks.
 */
#ifndef MFS_POP3_CLIENT_CONN_H
#define MFS_POP3_CLIENT_CONN_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "config-value.h"
#include "wire/pop3-reply.h"

enum pop3c_auth { POP3_AUTH_ANY, POP3_AUTH_USER, POP3_AUTH_PLAIN };

/* An account's settings; every string owned (pop3c_cfg_clear). */
struct pop3c_cfg {
	char *name;			/* the account, for messages */
	char *host;
	char *port;
	char *ca_file;			/* NULL: the system's CAs only */
	char *user;
	char *password;			/* wiped when cleared */
	enum config_tls tls;
	enum pop3c_auth auth;
	int timeout_ms;
	unsigned poll_interval;		/* seconds */
	bool leave_on_server;
	struct mfs_check *check;	/* borrowed; `mailfs check` hears
					   each step of pop3c_conn_open, or
					   NULL */
};

void pop3c_cfg_clear(struct pop3c_cfg *cfg);

struct pop3c_conn;	/* opaque */

/* Connect, read the greeting, learn the capabilities, secure the session
 * as configured and log in.  Caller owns *c_r (pop3c_conn_close). */
int pop3c_conn_open(const struct pop3c_cfg *cfg, struct pop3c_conn **c_r,
		   struct mfs_error *e);

/* Drop the session without QUIT, so that no DELE sent on it takes effect
 * (RFC 1939 section 6).  Clears *c. */
void pop3c_conn_close(struct pop3c_conn **c);

/* QUIT, which makes the DELEs of the session take effect, then close.
 * Returns 0 only when the server confirmed.  Clears *c either way. */
int pop3c_conn_quit(struct pop3c_conn **c, struct mfs_error *e);

/* Whether CAPA listed `cap` (upper case, e.g. "PIPELINING", "UIDL"). */
bool pop3c_conn_cap(const struct pop3c_conn *c, const char *cap);
bool pop3c_conn_broken(const struct pop3c_conn *c);

/* Send one command line (no CRLF; never a secret). */
int pop3c_conn_send(struct pop3c_conn *c, const char *line,
		   struct mfs_error *e);

/* Read the next reply; `multi`, `max_line` and `max_body` as for
 * pop3_reply_begin.  Returns 0 on "+OK" (the reply is then in
 * pop3c_conn_reply), a mapped -errno on "-ERR". */
int pop3c_conn_read(struct pop3c_conn *c, bool multi, size_t max_line,
		   uint64_t max_body, struct mfs_error *e);

/* Send and read one command with the default limits. */
int pop3c_conn_run(struct pop3c_conn *c, const char *line, bool multi,
		  struct mfs_error *e);

/*
 * While set, `fn` sees each reply as its body grows (after every feed of
 * bytes, and once more when the reply is whole, `done`), and may take the
 * body out of it (pop3_reply_steal_body) to keep it elsewhere.  A failure
 * of `fn` before the reply is whole leaves the session broken.  NULL
 * unsets it.  `data` is borrowed.
 */
typedef int (*pop3c_spill_fn)(struct pop3_reply *r, bool done, void *data,
			      struct mfs_error *e);
void pop3c_conn_spill(struct pop3c_conn *c, pop3c_spill_fn fn, void *data);

/* The last reply read.  Borrowed; valid until the next read or close. */
struct pop3_reply *pop3c_conn_reply(struct pop3c_conn *c);

#endif
