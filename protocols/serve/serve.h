/*
 * serve.h - the embedded server's listeners: what every protocol server
 * shares (the store, the credentials, TLS) and the accept loop that runs
 * one thread per client, up to a bound.
 *
 * Threads: each listener accepts on a thread of its own; each client gets
 * a thread that runs the protocol's session function and frees the
 * connection after it.  serve_stop() kicks every client and waits for
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
	uint64_t max_message;		/* bytes, SMTP SIZE and IMAP APPEND */
	const char *hostname;		/* borrowed; for greetings */
	const char *spool_dir;		/* borrowed; for messages on their way
					   in (spool.h) */
};

/* Runs one client's whole session; returns when it is over.  The listener
 * frees `c` afterwards. */
typedef void (*serve_session_fn)(const struct serve_ctx *ctx,
				 struct serve_conn *c);

struct serve_proto {
	const char *name;		/* "imap", for logs */
	serve_session_fn session;
	const char *busy_line;		/* sent when too many clients are on */
	int timeout_ms;			/* a silent client is dropped after,
					   once logged in (the session sets
					   it); before, SERVE_LOGIN_TIMEOUT_MS */
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
 * for `proto` (borrowed, static); `implicit_tls` starts TLS before the
 * greeting.  Logs the address it bound (port 0 picks a free one).
 * Returns 0 or -errno with a sentence in *why_r (caller owns).
 */
int serve_listen(struct serve_server *s, const char *addr,
		 const struct serve_proto *proto, bool implicit_tls,
		 char **why_r);

/* A listening socket on `addr` (as for serve_listen).  Returns the fd
 * (caller owns) and in *where_r the address bound (caller owns), or
 * -errno with a sentence in *why_r (caller owns). */
int serve_bind(const char *addr, char **where_r, char **why_r);

/* Split "HOST:PORT" into its parts (caller owns both); 0 or -EINVAL. */
int serve_split_addr(const char *addr, char **host_r, char **port_r);

/* Close the listeners, kick every client, wait for their threads, free. */
void serve_stop(struct serve_server **s);

/* The protocols; see protocols/serve/smtp/server.c, protocols/serve/pop3/server.c,
 * protocols/serve/imap/server.c. */
extern const struct serve_proto smtpd_proto;
extern const struct serve_proto pop3d_proto;
extern const struct serve_proto imapd_proto;

/*
 * Whether to try a store call on a message again after `rc`: -ENOENT can
 * mean that another writer was renaming the message (flags, new/ to cur/)
 * while the store looked, so the call is repeated a few times, waiting a
 * little longer each time.  *attempt starts at 0.
 */
bool serve_store_retry(int rc, int *attempt);

/* Create a server TLS context from PEM files.  Returns NULL with a
 * sentence in *why_r (caller owns).  Caller owns the result (SSL_CTX_free). */
SSL_CTX *serve_tls_new(const char *cert_file, const char *key_file,
		       char **why_r);

#endif
