/*
 * stream.c - see stream.h.  TLS with OpenSSL 3: TLS 1.2 or newer, peer
 * verification with SSL_VERIFY_PEER and X509_VERIFY_PARAM host or IP
 * checks (RFC 6125 rules as OpenSSL implements them), SNI for host names.
 */
#include "stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct stream {
	int fd;
	pid_t child;		/* a tunnel's command, or 0 */
	SSL_CTX *ctx;		/* owned; NULL before TLS */
	SSL *ssl;		/* owned */
};

/* ---- operations ---- */

/* The running operation of this thread: how deep the begin/end pairs go,
 * since when (microseconds, monotonic) its time counts with how many
 * bytes moved since then, and the longest wait asked for in it (the
 * account's timeout, once a wait of that length came). */
struct op_clock {
	unsigned depth;
	gint64 since;
	uint64_t moved;
	gint64 longest;
};

static _Thread_local struct op_clock op_clock;

void stream_op_begin(void)
{
	if (op_clock.depth++ == 0) {
		op_clock.since = g_get_monotonic_time();
		op_clock.moved = 0;
		op_clock.longest = 0;
	}
}

void stream_op_end(void)
{
	if (op_clock.depth > 0)
		op_clock.depth--;
}

void stream_op_progress(size_t bytes)
{
	if (op_clock.depth == 0)
		return;
	op_clock.moved += bytes;
	if (op_clock.moved >= STREAM_OP_PROGRESS) {
		/* data flows: a long transfer is not a hung one */
		op_clock.since = g_get_monotonic_time();
		op_clock.moved = 0;
	}
}

int64_t stream_op_deadline(int timeout_ms)
{
	gint64 now = g_get_monotonic_time();
	gint64 t = (gint64)MAX(timeout_ms, 0) * 1000;

	if (op_clock.depth == 0)
		return now + t;
	/* a shorter wait (a look at what is pending) is short from now;
	 * none ends later than the operation */
	op_clock.longest = MAX(op_clock.longest, t);
	return MIN(now + t, op_clock.since + op_clock.longest);
}

int stream_op_left_ms(int timeout_ms)
{
	gint64 left = stream_op_deadline(timeout_ms) - g_get_monotonic_time();

	return left <= 0 ? 0 : (int)MIN((left + 999) / 1000, INT32_MAX);
}

/* ---- waiting ---- */

/* The deadline (microseconds) of a wait that began at `plain` (its own
 * timeout from its start), held to the running operation's. */
static gint64 wait_deadline(gint64 plain, int timeout_ms)
{
	return op_clock.depth ? stream_op_deadline(timeout_ms) : plain;
}

/* Wait until fd is ready for `events` or the deadline passes. */
static int wait_fd(int fd, short events, gint64 deadline)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		gint64 left = (deadline - g_get_monotonic_time() + 999) / 1000;
		if (left <= 0)
			return -ETIMEDOUT;
		int n = poll(&p, 1, (int)MIN(left, INT32_MAX));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static struct stream *stream_new(int fd)
{
	struct stream *s = g_new0(struct stream, 1);

	s->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return s;
}

int stream_connect(const char *host, const char *port, int timeout_ms,
		   struct stream **s_r, char **why_r)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	gint64 deadline = stream_op_deadline(timeout_ms);
	int rc, last = -ECONNREFUSED;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		*why_r = g_strdup_printf("%s: %s", host, gai_strerror(rc));
		return rc == EAI_AGAIN ? -EAGAIN : -EHOSTUNREACH;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
				SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			last = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
		    errno != EINPROGRESS) {
			last = -errno;
			close(fd);
			continue;
		}
		int err = 0;
		socklen_t elen = sizeof(err);
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
					  &elen) == 0 && err == 0) {
			freeaddrinfo(res);
			*s_r = stream_new(fd);
			return 0;
		}
		last = rc < 0 ? rc : -err;
		close(fd);
	}
	freeaddrinfo(res);
	*why_r = g_strdup_printf("connecting to %s port %s: %s", host, port,
				 g_strerror(-last));
	return last;
}

int stream_spawn(const char *command, struct stream **s_r, char **why_r)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		int rc = -errno;
		*why_r = g_strdup_printf("tunnel: %s", g_strerror(-rc));
		return rc;
	}
	pid = fork();
	if (pid < 0) {
		int rc = -errno;
		close(sv[0]);
		close(sv[1]);
		*why_r = g_strdup_printf("tunnel: %s", g_strerror(-rc));
		return rc;
	}
	if (pid == 0) {
		/* the command's stdin and stdout are our socket */
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	struct stream *s = stream_new(sv[0]);
	s->child = pid;
	*s_r = s;
	return 0;
}

static char *tls_error(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (!e)
		return g_strdup(what);
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return g_strdup_printf("%s: %s", what, buf);
}

/* Drive one SSL call to completion within the deadline.  `rc` is its return
 * value; returns 0 to call again, 1 when done, -errno on failure. */
static int ssl_retry(struct stream *s, int rc, gint64 deadline)
{
	int err = SSL_get_error(s->ssl, rc);

	switch (err) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(s->fd, POLLIN, deadline) ?: 0;
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(s->fd, POLLOUT, deadline) ?: 0;
	case SSL_ERROR_ZERO_RETURN:
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		return errno ? -errno : -ECONNRESET;
	default:
		return -EPROTO;
	}
}

int stream_start_tls(struct stream *s, const char *host, const char *ca_file,
		     int timeout_ms, char **why_r)
{
	gint64 deadline = stream_op_deadline(timeout_ms);
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, host, ip) == 1 ||
		     inet_pton(AF_INET6, host, ip) == 1;
	int rc;

	s->ctx = SSL_CTX_new(TLS_client_method());
	if (!s->ctx) {
		*why_r = tls_error("TLS");
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(s->ctx) != 1)
		ERR_clear_error();
	if (ca_file && SSL_CTX_load_verify_locations(s->ctx, ca_file, NULL) != 1) {
		*why_r = tls_error(ca_file);
		return -EINVAL;
	}
	s->ssl = SSL_new(s->ctx);
	SSL_set_fd(s->ssl, s->fd);
	X509_VERIFY_PARAM *param = SSL_get0_param(s->ssl);
	X509_VERIFY_PARAM_set_hostflags(param,
					X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (is_ip) {
		X509_VERIFY_PARAM_set1_ip_asc(param, host);
	} else {
		SSL_set1_host(s->ssl, host);
		SSL_set_tlsext_host_name(s->ssl, host);
	}
	for (;;) {
		ERR_clear_error();
		rc = SSL_connect(s->ssl);
		if (rc == 1)
			return 0;
		long v = SSL_get_verify_result(s->ssl);
		if (v != X509_V_OK) {
			*why_r = g_strdup_printf("the certificate of %s is not "
						 "trusted: %s", host,
						 X509_verify_cert_error_string(v));
			return -EPERM;
		}
		int r = ssl_retry(s, rc, deadline);
		if (r < 0) {
			*why_r = r == -EPROTO ? tls_error("TLS handshake")
					      : g_strdup_printf(
						"TLS handshake with %s: %s",
						host, g_strerror(-r));
			return r == -EPROTO ? -EPROTO : r;
		}
	}
}

bool stream_is_tls(const struct stream *s)
{
	return s->ssl != NULL;
}

/* A name in one line, RFC 2253 order ("CN=host,O=org").  Caller owns. */
static char *name_line(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;

	X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_get_mem_data(b, &data);
	char *out = g_strndup(data, (gsize)MAX(len, 0));
	BIO_free(b);
	return out;
}

int stream_tls_info(const struct stream *s, struct stream_tls_info *info_r)
{
	memset(info_r, 0, sizeof(*info_r));
	if (!s->ssl)
		return -ENOTCONN;
	/* the chain is kept when verification fails; the peer is not */
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(s->ssl);
	X509 *peer = chain && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0)
						     : NULL;
	if (SSL_is_init_finished(s->ssl)) {
		info_r->version = g_strdup(SSL_get_version(s->ssl));
		info_r->cipher = g_strdup(SSL_get_cipher_name(s->ssl));
	}
	if (peer) {
		info_r->subject = name_line(X509_get_subject_name(peer));
		info_r->issuer = name_line(X509_get_issuer_name(peer));
	}
	long v = SSL_get_verify_result(s->ssl);
	info_r->verified = peer && v == X509_V_OK;
	info_r->verify_code = v;
	info_r->verify = g_strdup(X509_verify_cert_error_string(v));
	return 0;
}

void stream_tls_info_clear(struct stream_tls_info *info)
{
	g_free(info->version);
	g_free(info->cipher);
	g_free(info->subject);
	g_free(info->issuer);
	g_free(info->verify);
	memset(info, 0, sizeof(*info));
}

char *stream_peer_address(const struct stream *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST];

	if (s->child > 0 ||
	    getpeername(s->fd, (struct sockaddr *)&ss, &len) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL,
			0, NI_NUMERICHOST) != 0)
		return NULL;
	return g_strdup(host);
}

bool stream_pending(struct stream *s)
{
	struct pollfd p = { s->fd, POLLIN, 0 };

	if (s->ssl && SSL_pending(s->ssl) > 0)
		return true;
	return poll(&p, 1, 0) > 0;
}

ssize_t stream_read(struct stream *s, void *buf, size_t len, int timeout_ms)
{
	gint64 plain = stream_op_deadline(timeout_ms);

	for (;;) {
		gint64 deadline = wait_deadline(plain, timeout_ms);
		if (s->ssl) {
			ERR_clear_error();
			int n = SSL_read(s->ssl, buf, (int)MIN(len, INT32_MAX));
			if (n > 0) {
				stream_op_progress((size_t)n);
				return n;
			}
			int r = ssl_retry(s, n, deadline);
			if (r == -ECONNRESET &&
			    SSL_get_error(s->ssl, n) == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (r < 0)
				return r;
			continue;
		}
		ssize_t n = read(s->fd, buf, len);
		if (n >= 0) {
			stream_op_progress((size_t)n);
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		int r = wait_fd(s->fd, POLLIN, deadline);
		if (r < 0)
			return r;
	}
}

int stream_write(struct stream *s, const void *data, size_t len,
		 int timeout_ms)
{
	gint64 plain = stream_op_deadline(timeout_ms);
	const char *p = data;

	while (len > 0) {
		gint64 deadline = wait_deadline(plain, timeout_ms);
		if (s->ssl) {
			ERR_clear_error();
			int n = SSL_write(s->ssl, p, (int)MIN(len, INT32_MAX));
			if (n > 0) {
				p += n;
				len -= (size_t)n;
				stream_op_progress((size_t)n);
				continue;
			}
			int r = ssl_retry(s, n, deadline);
			if (r < 0)
				return r;
			continue;
		}
		ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(s->fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			stream_op_progress((size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		int r = wait_fd(s->fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

void stream_close(struct stream **sp)
{
	struct stream *s = *sp;

	if (!s)
		return;
	if (s->ssl) {
		SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->ctx)
		SSL_CTX_free(s->ctx);
	close(s->fd);
	if (s->child > 0) {
		/* the command sees EOF; give it a moment, then insist */
		for (int i = 0; i < 50; i++) {
			if (waitpid(s->child, NULL, WNOHANG) != 0)
				goto reaped;
			g_usleep(10000);
		}
		kill(s->child, SIGTERM);
		waitpid(s->child, NULL, 0);
	}
reaped:
	g_free(s);
	*sp = NULL;
}
