/*
 * stream.h - a byte stream to a server: TCP, TLS over it (implicit or
 * upgraded after STARTTLS/STLS), or a command's stdin/stdout (a tunnel, as
 * mbsync's Tunnel and ssh do).  Shared by the line protocols (IMAP, POP3,
 * SMTP).
 *
 * TLS verifies the server's certificate against the system's CAs plus an
 * optional extra CA file, and the host name (or IP address) it was asked
 * for; there is no switch to turn verification off.
 *
 * Every call that waits takes a timeout in milliseconds and fails with
 * -ETIMEDOUT when it passes; inside an operation (below) the timeout counts
 * from the operation's start, not from the call's.  All functions return 0
 * (or a count) or -errno;
 * where a `why_r` is taken it receives a sentence for the user (caller owns).
 * A stream is used by one thread at a time.
 */
#ifndef MFS_STREAM_H
#define MFS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct stream;		/* opaque */

/*
 * Operations.  Whoever waits on a server for someone (a FUSE call, the
 * cache's worker) wraps the work in stream_op_begin/stream_op_end on its
 * thread; a pair inside another is part of it (the outermost counts).
 * Every wait inside, given the account's timeout T, then ends T after the
 * operation began, however many reads, connections, pages or retries the
 * operation needs: a server that answers a byte now and then cannot keep
 * it waiting.  An operation that moves data is not cut off while the data
 * flows: each STREAM_OP_PROGRESS bytes moved (stream_op_progress) start T
 * afresh.  Outside an operation a wait is T from its own start.  The clock
 * is per thread and monotonic.
 */
#define STREAM_OP_PROGRESS (64 * 1024)

void stream_op_begin(void);
void stream_op_end(void);
/* Count bytes moved for the running operation (nothing outside one). */
void stream_op_progress(size_t bytes);
/* The monotonic time (g_get_monotonic_time's clock, in microseconds) by
 * which a wait of `timeout_ms` starting now must end: `timeout_ms` from
 * now, and inside an operation no later than the longest wait asked for in
 * it counted from the operation's start (or its last progress). */
int64_t stream_op_deadline(int timeout_ms);
/* Milliseconds left until that deadline; 0 when it has passed. */
int stream_op_left_ms(int timeout_ms);

/* Connect to host:port (any address family the name resolves to). */
int stream_connect(const char *host, const char *port, int timeout_ms,
		   struct stream **s_r, char **why_r);

/* Run `command` with /bin/sh -c, talking over its stdin and stdout. */
int stream_spawn(const char *command, struct stream **s_r, char **why_r);

/* Start TLS on a connected stream and verify the peer as `host`.
 * `ca_file` (may be NULL) adds trusted CAs. */
int stream_start_tls(struct stream *s, const char *host, const char *ca_file,
		     int timeout_ms, char **why_r);

bool stream_is_tls(const struct stream *s);

/* What `mailfs check` shows of a TLS session, also after a handshake that
 * failed on the certificate.  Strings owned (stream_tls_info_clear); a
 * field is NULL where the handshake did not get that far. */
struct stream_tls_info {
	char *version;		/* "TLSv1.3" */
	char *cipher;		/* "TLS_AES_256_GCM_SHA384" */
	char *subject;		/* the server certificate's subject, one line */
	char *issuer;		/* and its issuer */
	char *verify;		/* OpenSSL's verify outcome, "ok" when good */
	long verify_code;	/* X509_V_OK or X509_V_ERR_... */
	bool verified;
};

/* Fill *info_r.  Returns 0, or -ENOTCONN when TLS never started. */
int stream_tls_info(const struct stream *s, struct stream_tls_info *info_r);
void stream_tls_info_clear(struct stream_tls_info *info);

/* The numeric address the stream is connected to, for `mailfs check`.
 * Caller owns the result; NULL for a tunnel. */
char *stream_peer_address(const struct stream *s);

/* Read what is there, at most `len` bytes: >0 bytes read, 0 at the end of
 * the stream, -errno on failure (-ETIMEDOUT when nothing came in time). */
ssize_t stream_read(struct stream *s, void *buf, size_t len, int timeout_ms);

int stream_write(struct stream *s, const void *buf, size_t len,
		 int timeout_ms);

/* Whether bytes are waiting (already decrypted or on the socket). */
bool stream_pending(struct stream *s);

/* Shut down and free; clears *s.  Waits for a tunnel's command. */
void stream_close(struct stream **s);

#endif
