/*
 * conn.c - buffered line and byte I/O on a client's socket, plain or TLS
 * (OpenSSL as the server side of RFC 8446 / RFC 5246).
 */
#include "conn.h"

#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_SIZE 16384
#define OUT_FLUSH_AT (64 * 1024)
/* however long a line may be, its end must come within this many bytes */
#define LINE_GIVE_UP (1024 * 1024)

struct serve_conn {
	int fd;
	SSL *ssl;		/* owned; NULL until TLS starts */
	char *peer;		/* owned */
	int timeout_ms;
	char in[IN_SIZE];
	size_t in_off, in_len;
	GString *out;		/* owned */
	int kicked;		/* atomic */
};

struct serve_conn *serve_conn_new(int fd, const char *peer, int timeout_ms)
{
	struct serve_conn *c = g_new0(struct serve_conn, 1);

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
	return c->in_len > c->in_off || (c->ssl && SSL_pending(c->ssl) > 0);
}

void serve_conn_kick(struct serve_conn *c)
{
	g_atomic_int_set(&c->kicked, 1);
	shutdown(c->fd, SHUT_RDWR);
}

int serve_conn_wait(struct serve_conn *c, int ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int n;

	if (g_atomic_int_get(&c->kicked))
		return -ECONNRESET;
	if (serve_conn_buffered(c))
		return 1;
	do
		n = poll(&pfd, 1, ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (g_atomic_int_get(&c->kicked))
		return -ECONNRESET;
	return n > 0 ? 1 : 0;
}

/* Read more into the input buffer.  Returns bytes read or -errno. */
static ssize_t fill(struct serve_conn *c)
{
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
		rc = serve_conn_wait(c, c->timeout_ms);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return -ETIMEDOUT;
		if (c->ssl) {
			ERR_clear_error();
			int r = SSL_read(c->ssl, c->in + c->in_len,
					 (int)(IN_SIZE - c->in_len));
			if (r > 0) {
				n = r;
				break;
			}
			int e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
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

static int send_all(struct serve_conn *c, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n;
		if (c->ssl) {
			ERR_clear_error();
			int r = SSL_write(c->ssl, buf,
					  (int)MIN(len, (size_t)INT_MAX));
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ)
					continue;
				return -EPROTO;
			}
			n = r;
		} else {
			n = send(c->fd, buf, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return errno == EPIPE ? -ECONNRESET : -errno;
		}
		buf += n;
		len -= (size_t)n;
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
		int e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			break;
		if ((rc = serve_conn_wait(c, c->timeout_ms)) <= 0)
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
