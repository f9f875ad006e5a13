/*
 * serve.h - the embedded server's listeners: what every protocol server
 * shares (the store, the credentials, TLS) and the accept loop that runs
 * one thread per client, up to a bound.
 *
 * Threads: each listener accepts on a thread of its own; each client gets
 * a thread that runs the protocol's session function and frees the
 * connection after it.  A protocol with a listener of its own (EWS) runs
 * its threads itself.  serve_stop() kicks every client and waits for
 * their threads.  The context is borrowed by every listener and session
 * until serve_stop() returns.
 */
#ifndef MFS_SERVE_H
#define MFS_SERVE_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "conn.h"
#include "auth.h"

struct serve_ctx {
	struct mfs_store *store;	/* borrowed; thread-safe */
	const char *store_root;		/* borrowed; the store's directory */
	struct serve_auth *auth;	/* borrowed */
	SSL_CTX *tls;			/* borrowed; NULL without a certificate */
	const char *tls_cert_file;	/* borrowed; the PEM files `tls` was */
	const char *tls_key_file;	/* made of, for a protocol's own
					   listener; NULL when `tls` is */
	uint64_t max_message;		/* bytes, SMTP SIZE and IMAP APPEND */
	const char *hostname;		/* borrowed; for greetings */
	const char *spool_dir;		/* borrowed; for messages on their way
					   in (spool.h) */
	const char *ldap_base;		/* borrowed; the LDAP naming context,
					   NULL for ou=contacts,dc=mailfs */
};

/* Runs one client's whole session; returns when it is over.  The listener
 * frees `c` afterwards. */
typedef void (*serve_session_fn)(const struct serve_ctx *ctx,
				 struct serve_conn *c);

/*
 * A listener that a protocol brings of its own on `addr`, over TLS when
 * `tls` (with ctx->tls_cert_file and ctx->tls_key_file), taking at most
 * `max_clients` at once.  Returns 0 with *state_r (for the stop function)
 * and the address bound in *where_r (caller owns), or -errno with a
 * sentence in *why_r (caller owns).
 */
typedef int (*serve_start_fn)(const struct serve_ctx *ctx, const char *addr,
			      bool tls, unsigned max_clients, void **state_r,
			      char **where_r, char **why_r);
/* Stop listening, finish what is under way, free `state`. */
typedef void (*serve_stop_fn)(void *state);

/*
 * A served protocol.  IMAP, POP3 and SMTP are each a session on one
 * connection: the listener here accepts, starts TLS and runs `session` on
 * a thread of its own.  EWS is HTTP, and its HTTP server (libmicrohttpd)
 * accepts, speaks TLS (GnuTLS, from the PEM files, not `tls`), reads the
 * requests and runs threads of its own: a session on a serve_conn would be
 * the wrong shape for it, so it brings its own listener (`start`, `stop`)
 * instead.  serve_listen() and serve_stop() take both kinds alike, so that
 * `mailfs serve` starts and stops every protocol the same way.
 */
struct serve_proto {
	const char *name;		/* "imap", for logs */
	serve_session_fn session;	/* NULL when `start` is set */
	const char *busy_line;		/* sent when too many clients are on */
	int timeout_ms;			/* a silent client is dropped after,
					   once logged in (the session sets
					   it); before, SERVE_LOGIN_TIMEOUT_MS */
	serve_start_fn start;		/* NULL unless a listener of its own */
	serve_stop_fn stop;
	const char *tls_name;		/* what the refusal of TLS without a
					   certificate calls the protocol over
					   TLS; NULL for "<name> over TLS" */
	const char *starttls;		/* the command that starts TLS on the
					   plain port ("STARTTLS"); NULL when
					   there is none (EWS: HTTP is plain
					   or HTTPS from the start) */
};

/* How long a client that has not logged in may stay silent, TLS
 * handshake included. */
#define SERVE_LOGIN_TIMEOUT_MS (60 * 1000)

struct serve_server;	/* opaque: every listener and client */

/* Caller owns the result (serve_stop).  `ctx` borrowed until then. */
struct serve_server *serve_new(const struct serve_ctx *ctx,
			       unsigned max_clients);

/*
 * Listen on `addr` ("HOST:PORT", "[V6]:PORT" or "PORT" for 127.0.0.1)
 * for `proto` (borrowed, static), with the protocol's own listener when
 * it has one; `implicit_tls` starts TLS before the greeting.  Logs the
 * address it bound (port 0 picks a free one).  Returns 0 or -errno with
 * a sentence in *why_r (caller owns): -EPERM for an address that is not
 * loopback (a wildcard included) without `implicit_tls` and without a
 * certificate in the context, since its clients could only log in in
 * plaintext.
 */
int serve_listen(struct serve_server *s, const char *addr,
		 const struct serve_proto *proto, bool implicit_tls,
		 char **why_r);

/* A listening socket on `addr` (as for serve_listen).  Returns the fd
 * (caller owns) and in *where_r the address bound (caller owns), or
 * -errno with a sentence in *why_r (caller owns). */
int serve_bind(const char *addr, char **where_r, char **why_r);

/*
 * Whether a password may be taken on `c` as it is now: over TLS, or from a
 * loopback peer.  Off loopback, every protocol refuses a login before TLS
 * and offers none (LOGINDISABLED, no USER or SASL, no AUTH).
 */
bool serve_login_allowed(const struct serve_conn *c);

/* Split "HOST:PORT" into its parts (caller owns both); 0 or -EINVAL. */
int serve_split_addr(const char *addr, char **host_r, char **port_r);

/* Stop the protocols' own listeners (the last started first), close the
 * others, kick every client, wait for their threads, free. */
void serve_stop(struct serve_server **s);

/* The protocols; see protocols/serve/smtp/server.c,
 * protocols/serve/pop3/server.c, protocols/serve/imap/server.c and
 * protocols/serve/ews/server.c (SOAP over HTTP at /EWS/Exchange.asmx). */
extern const struct serve_proto smtpd_proto;
extern const struct serve_proto pop3d_proto;
extern const struct serve_proto imapd_proto;
extern const struct serve_proto ewsd_proto;
/* protocols/serve/mapi/server.c: MAPI over HTTP at /mapi/emsmdb/. */
extern const struct serve_proto mapid_proto;
/* protocols/serve/ldap/server.c: the contacts as an LDAP directory. */
extern const struct serve_proto ldapd_proto;

/* Create a server TLS context from PEM files.  Returns NULL with a
 * sentence in *why_r (caller owns).  Caller owns the result (SSL_CTX_free). */
SSL_CTX *serve_tls_new(const char *cert_file, const char *key_file,
		       char **why_r);

#endif
