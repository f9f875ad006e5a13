/*
 * conn.h - one client connection of the embedded server: a socket, TLS on
 * it (implicit or after STARTTLS/STLS), buffered reading of lines and bytes,
 * buffered writing.  Shared by the SMTP, POP3 and IMAP servers.
 *
 * Every function that can fail returns 0 (or a count) or -errno:
 * -ECONNRESET when the client went away, -ETIMEDOUT when it stayed silent
 * longer than the connection's timeout, or did not take what was written
 * to it within that time, -EPROTO for a TLS failure.  The socket is
 * non-blocking: nothing waits longer than the timeout for a client.
 * A connection is used by one thread at a time, except serve_conn_kick(),
 * which any thread may call to make every later read fail.
 *
 * Ownership: the connection owns its socket and TLS state; strings it
 * returns are borrowed unless a function says otherwise.
 */
#ifndef MFS_SERVE_CONN_H
#define MFS_SERVE_CONN_H

#include <glib.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct serve_conn;	/* opaque */

/* Takes ownership of `fd` (a connected socket; made non-blocking).
 * `peer` (copied) names the client in logs.  Caller owns the result
 * (serve_conn_free). */
struct serve_conn *serve_conn_new(int fd, const char *peer, int timeout_ms);
void serve_conn_free(struct serve_conn **c);

const char *serve_conn_peer(const struct serve_conn *c);
/* The client's address, for serve_auth_login(); NULL when the socket has
 * none.  Borrowed; valid as long as the connection. */
const struct sockaddr *serve_conn_peer_addr(const struct serve_conn *c);
void serve_conn_set_timeout(struct serve_conn *c, int timeout_ms);

/* Start TLS as the server with `ctx` (borrowed).  Refuses with -EPROTO
 * when plain bytes are still buffered: a client that pipelines after
 * STARTTLS could otherwise have them taken as if they came encrypted. */
int serve_conn_start_tls(struct serve_conn *c, SSL_CTX *ctx);
bool serve_conn_is_tls(const struct serve_conn *c);

/*
 * Read one line into `line` (cleared first; CRLF or LF removed).  A line
 * longer than `max` bytes is read to its end and thrown away, and the call
 * returns -E2BIG, so memory stays bounded; a line that does not end within
 * 1 MiB closes the exchange with -EPROTO.
 */
int serve_conn_read_line(struct serve_conn *c, GString *line, size_t max);

/* The bytes buffered so far, reading once if none are: *buf_r borrowed
 * until the next call.  Returns the count (>0) or -errno. */
ssize_t serve_conn_peek(struct serve_conn *c, const char **buf_r);
void serve_conn_consume(struct serve_conn *c, size_t n);
bool serve_conn_buffered(const struct serve_conn *c);

/* Wait up to `ms` for input: 1 when some is there, 0 when none came,
 * -errno when the connection failed or was kicked. */
int serve_conn_wait(struct serve_conn *c, int ms);

/* Queue output; it goes out at serve_conn_flush() or when much is queued.
 * Each 64 KiB going out must be taken by the client within the
 * connection's timeout, else -ETIMEDOUT: a client that does not read is
 * dropped rather than holding its thread. */
int serve_conn_write(struct serve_conn *c, const void *buf, size_t len);
int serve_conn_printf(struct serve_conn *c, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);
int serve_conn_flush(struct serve_conn *c);

/* Make every later read and wait fail (server stopping).  Any thread. */
void serve_conn_kick(struct serve_conn *c);

/* Whether the client connects from a loopback address (as
 * serve_addr_is_loopback says); false when its address cannot be had. */
bool serve_conn_peer_is_loopback(const struct serve_conn *c);

/* Whether `sa` is a loopback address: in 127.0.0.0/8, ::1, or 127.0.0.0/8
 * mapped into IPv6; no other family is.  Lives with the listeners
 * (listen.c), which bind by the same rule. */
struct sockaddr;
bool serve_addr_is_loopback(const struct sockaddr *sa);

#endif
