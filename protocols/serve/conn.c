/*
 * conn.c - buffered line and byte I/O on a client's socket, plain or TLS
 * (OpenSSL as the server side of RFC 8446 / RFC 5246).
 *
 * The socket is non-blocking and every wait is a poll() bounded by the
 * connection's timeout, in whichever direction TLS asks for: a client that
 * stops reading must not keep a thread in a write forever.
 */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define IN_SIZE 16384
#define OUT_FLUSH_AT (64 * 1024)
/* however long a line may be, its end must come within this many bytes */
#define LINE_GIVE_UP (1024 * 1024)

struct serve_conn {
	int fd;
	SSL *ssl;		/* owned; NULL until TLS starts */
	char *peer;		/* owned */
	struct sockaddr_storage peer_addr;
	bool has_peer_addr;
	int timeout_ms;
	char in[IN_SIZE];
	size_t in_off, in_len;
	GString *out;		/* owned */
	int kicked;		/* atomic */
	int broken;		/* -errno of a write that failed: the
				   stream is cut, every later call fails */
};

struct serve_conn *serve_conn_new(int fd, const char *peer, int timeout_ms)
{
	struct serve_conn *c = g_new0(struct serve_conn, 1);
	socklen_t len = sizeof(c->peer_addr);
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	c->has_peer_addr = getpeername(fd, (struct sockaddr *)&c->peer_addr,
				       &len) == 0;
	c->fd = fd;
	c->peer = g_strdup(peer);
	c->timeout_ms = timeout_ms;
	c->out = g_string_sized_new(4096);
	return c;
}

void serve_conn_free(struct serve_conn **cp)
{
	struct serve_conn *c = *cp;

	if (!c)
		return;
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
	g_string_free(c->out, TRUE);
	g_free(c->peer);
	g_free(c);
	*cp = NULL;
}

const char *serve_conn_peer(const struct serve_conn *c)
{
	return c->peer;
}

const struct sockaddr *serve_conn_peer_addr(const struct serve_conn *c)
{
	return c->has_peer_addr ? (const struct sockaddr *)&c->peer_addr
				: NULL;
}

void serve_conn_set_timeout(struct serve_conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

bool serve_conn_is_tls(const struct serve_conn *c)
{
	return c->ssl != NULL;
}

bool serve_conn_buffered(const struct serve_conn *c)
{
	if (c->broken)
		return false;
	return c->in_len > c->in_off || (c->ssl && SSL_pending(c->ssl) > 0);
}

void serve_conn_kick(struct serve_conn *c)
{
	g_atomic_int_set(&c->kicked, 1);
	shutdown(c->fd, SHUT_RDWR);
}

/* Wait up to `ms` for the socket to be ready for `events` (POLLIN or
 * POLLOUT): 1 when it is (or failed: the next call says how), 0 when the
 * time ran out, -errno when poll failed or the connection was kicked. */
static int poll_for(struct serve_conn *c, short events, int ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	int n;

	for (;;) {
		if (g_atomic_int_get(&c->kicked))
			return -ECONNRESET;
		n = poll(&pfd, 1, ms);
		if (n >= 0)
			break;
		if (errno != EINTR)
			return -errno;
		ms = (int)MAX((end - g_get_monotonic_time()) / 1000, 0);
	}
	if (g_atomic_int_get(&c->kicked))
		return -ECONNRESET;
	return n > 0 ? 1 : 0;
}

/* What OpenSSL's `e` asks to wait for: POLLIN, POLLOUT, or 0 when it is
 * not a wait. */
static short tls_wants(int e)
{
	return e == SSL_ERROR_WANT_READ ? POLLIN
	     : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
}

int serve_conn_wait(struct serve_conn *c, int ms)
{
	if (c->broken)
		return c->broken;
	if (g_atomic_int_get(&c->kicked))
		return -ECONNRESET;
	if (serve_conn_buffered(c))
		return 1;
	return poll_for(c, POLLIN, ms);
}

/* Read more into the input buffer.  Returns bytes read or -errno. */
static ssize_t fill(struct serve_conn *c)
{
	short want = POLLIN;
	ssize_t n;
	int rc;

	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->in_off > 0 && c->in_len == IN_SIZE) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len == IN_SIZE)
		return -ENOBUFS;
	for (;;) {
		rc = want == POLLIN ? serve_conn_wait(c, c->timeout_ms)
				    : poll_for(c, want, c->timeout_ms);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return -ETIMEDOUT;
		want = POLLIN;
		if (c->ssl) {
			ERR_clear_error();
			int r = SSL_read(c->ssl, c->in + c->in_len,
					 (int)(IN_SIZE - c->in_len));
			if (r > 0) {
				n = r;
				break;
			}
			int e = SSL_get_error(c->ssl, r);
			if ((want = tls_wants(e)))
				continue;
			return e == SSL_ERROR_ZERO_RETURN ? -ECONNRESET
							  : -EPROTO;
		}
		n = read(c->fd, c->in + c->in_len, IN_SIZE - c->in_len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		break;
	}
	c->in_len += (size_t)n;
	return n;
}

ssize_t serve_conn_peek(struct serve_conn *c, const char **buf_r)
{
	/* no more commands once their answers cannot go out */
	if (c->broken)
		return c->broken;
	if (c->in_len == c->in_off) {
		ssize_t n = fill(c);
		if (n < 0)
			return n;
	}
	*buf_r = c->in + c->in_off;
	return (ssize_t)(c->in_len - c->in_off);
}

void serve_conn_consume(struct serve_conn *c, size_t n)
{
	c->in_off += MIN(n, c->in_len - c->in_off);
}

int serve_conn_read_line(struct serve_conn *c, GString *line, size_t max)
{
	size_t seen = 0;
	bool too_long = false;

	g_string_truncate(line, 0);
	for (;;) {
		const char *buf;
		ssize_t n = serve_conn_peek(c, &buf);
		if (n < 0)
			return (int)n;
		const char *nl = memchr(buf, '\n', (size_t)n);
		size_t take = nl ? (size_t)(nl - buf) + 1 : (size_t)n;
		seen += take;
		if (!too_long && line->len + take > max + 2)
			too_long = true;
		if (!too_long)
			g_string_append_len(line, buf, (gssize)take);
		serve_conn_consume(c, take);
		if (nl)
			break;
		if (seen > LINE_GIVE_UP)
			return -EPROTO;
	}
	if (too_long) {
		g_string_truncate(line, 0);
		return -E2BIG;
	}
	if (line->len && line->str[line->len - 1] == '\n')
		g_string_truncate(line, line->len - 1);
	if (line->len && line->str[line->len - 1] == '\r')
		g_string_truncate(line, line->len - 1);
	return 0;
}

/* Send up to OUT_FLUSH_AT bytes, all of them within the connection's
 * timeout: the client must read, or lose the connection. */
static int send_chunk(struct serve_conn *c, const char *buf, size_t len)
{
	gint64 end = g_get_monotonic_time() + (gint64)c->timeout_ms * 1000;
	short want = 0;

	while (len > 0) {
		if (want) {
			gint64 left = (end - g_get_monotonic_time()) / 1000;
			int rc = left > 0 ? poll_for(c, want, (int)left) : 0;
			if (rc < 0)
				return rc;
			if (rc == 0) {
				log_warnx("%s: does not read what is sent "
					  "to it (%d s); dropping it",
					  c->peer, c->timeout_ms / 1000);
				return -ETIMEDOUT;
			}
		}
		ssize_t n;
		if (c->ssl) {
			ERR_clear_error();
			int r = SSL_write(c->ssl, buf, (int)len);
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);
				if ((want = tls_wants(e)))
					continue;
				return -EPROTO;
			}
			n = r;
		} else {
			n = send(c->fd, buf, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				want = POLLOUT;
				continue;
			}
			if (n < 0)
				return errno == EPIPE ? -ECONNRESET : -errno;
		}
		want = 0;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_all(struct serve_conn *c, const char *buf, size_t len)
{
	if (c->broken)
		return c->broken;
	while (len > 0) {
		size_t chunk = MIN(len, (size_t)OUT_FLUSH_AT);
		int rc = send_chunk(c, buf, chunk);
		if (rc < 0)
			return c->broken = rc;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

int serve_conn_flush(struct serve_conn *c)
{
	int rc = 0;

	if (c->out->len)
		rc = send_all(c, c->out->str, c->out->len);
	g_string_truncate(c->out, 0);
	return rc;
}

int serve_conn_write(struct serve_conn *c, const void *buf, size_t len)
{
	if (c->broken)
		return c->broken;
	if (c->out->len + len > OUT_FLUSH_AT) {
		int rc = serve_conn_flush(c);
		if (rc < 0)
			return rc;
		if (len > OUT_FLUSH_AT)
			return send_all(c, buf, len);
	}
	g_string_append_len(c->out, buf, (gssize)len);
	return 0;
}

int serve_conn_printf(struct serve_conn *c, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *s = NULL;

	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return serve_conn_write(c, s, strlen(s));
}

int serve_conn_start_tls(struct serve_conn *c, SSL_CTX *ctx)
{
	int rc;

	if (c->ssl)
		return -EALREADY;
	if (c->in_len > c->in_off)
		return -EPROTO;
	if ((rc = serve_conn_flush(c)) < 0)
		return rc;
	c->ssl = SSL_new(ctx);
	if (!c->ssl)
		return -ENOMEM;
	SSL_set_fd(c->ssl, c->fd);
	for (;;) {
		ERR_clear_error();
		int r = SSL_accept(c->ssl);
		if (r == 1)
			return 0;
		short want = tls_wants(SSL_get_error(c->ssl, r));
		if (!want || poll_for(c, want, c->timeout_ms) <= 0)
			break;
	}
	/* no close_notify on a handshake that never finished */
	SSL_free(c->ssl);
	c->ssl = NULL;
	return -EPROTO;
}

bool serve_conn_peer_is_loopback(const struct serve_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	return serve_addr_is_loopback((const struct sockaddr *)&ss);
}
