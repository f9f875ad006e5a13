/*
 * listen.c - listening sockets and a thread per client, bounded; and the
 * listeners that protocols bring of their own, started and stopped here
 * alongside (serve.h says why there are two kinds).
 *
 * Off loopback, no password crosses the network in plaintext: a listener
 * on any other address (a wildcard included) without TLS from the start
 * is refused unless a certificate lets its clients start TLS, and each
 * protocol refuses a login before TLS from a peer that is not loopback
 * (serve_login_allowed; RFC 3501 and RFC 9051 LOGINDISABLED, RFC 2595,
 * RFC 3207, RFC 4954).
 */
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

struct listener {
	struct serve_server *server;	/* borrowed */
	const struct serve_proto *proto; /* borrowed, static */
	bool tls;
	int fd;				/* -1 for a listener of the
					   protocol's own */
	char *where;			/* owned; "127.0.0.1:143" */
	GThread *thread;		/* owned; NULL for the protocol's own */
	void *own;			/* the protocol's own listener, for
					   proto->stop */
};

struct client {
	struct serve_server *server;	/* borrowed */
	struct listener *l;		/* borrowed */
	struct serve_conn *conn;	/* owned */
};

struct serve_server {
	const struct serve_ctx *ctx;	/* borrowed */
	unsigned max_clients;
	int login_timeout_ms;		/* SERVE_LOGIN_TIMEOUT_MS, or shorter
					   in the test suite */
	GMutex lock;
	GCond gone;			/* a client thread ended */
	GPtrArray *listeners;		/* owned; of struct listener * */
	GHashTable *clients;		/* struct client * set; protected by
					   lock; entries owned by their
					   threads */
	GPtrArray *ended;		/* GThread * (owned) of client threads
					   that are ending, to join; lock */
	int stop_pipe[2];
};

struct serve_server *serve_new(const struct serve_ctx *ctx,
			       unsigned max_clients)
{
	struct serve_server *s = g_new0(struct serve_server, 1);

	s->ctx = ctx;
	s->max_clients = max_clients ? max_clients : 1;
	s->login_timeout_ms = SERVE_LOGIN_TIMEOUT_MS;
	/* the tests of clients that stop reading or stay silent cannot wait
	 * a minute for each */
	const char *hook = getenv("MAILFS_TEST_LOGIN_TIMEOUT_MS");
	gint64 ms = hook ? g_ascii_strtoll(hook, NULL, 10) : 0;
	if (ms > 0 && ms < SERVE_LOGIN_TIMEOUT_MS)
		s->login_timeout_ms = (int)ms;
	g_mutex_init(&s->lock);
	g_cond_init(&s->gone);
	s->listeners = g_ptr_array_new();
	s->clients = g_hash_table_new(NULL, NULL);
	s->ended = g_ptr_array_new();
	if (pipe2(s->stop_pipe, O_CLOEXEC) != 0)
		g_error("pipe: %s", g_strerror(errno));
	return s;
}

int serve_split_addr(const char *addr, char **host_r, char **port_r)
{
	const char *colon;

	if (!addr || !*addr)
		return -EINVAL;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (!close || close[1] != ':' || !close[2])
			return -EINVAL;
		*host_r = g_strndup(addr + 1, (gsize)(close - addr - 1));
		*port_r = g_strdup(close + 2);
		return 0;
	}
	colon = strrchr(addr, ':');
	if (!colon) {
		if (strspn(addr, "0123456789") != strlen(addr))
			return -EINVAL;
		*host_r = g_strdup("127.0.0.1");
		*port_r = g_strdup(addr);
		return 0;
	}
	if (colon == addr || !colon[1] || strchr(addr, ':') != colon)
		return -EINVAL;
	*host_r = g_strndup(addr, (gsize)(colon - addr));
	*port_r = g_strdup(colon + 1);
	return 0;
}

static gpointer client_main(gpointer data)
{
	struct client *cl = data;
	struct serve_server *s = cl->server;
	const struct serve_proto *proto = cl->l->proto;

	if (cl->l->tls && serve_conn_start_tls(cl->conn, s->ctx->tls) < 0)
		log_warnx("%s: %s: TLS handshake failed", proto->name,
			  serve_conn_peer(cl->conn));
	else
		proto->session(s->ctx, cl->conn);
	g_mutex_lock(&s->lock);
	g_hash_table_remove(s->clients, cl);
	serve_conn_free(&cl->conn);
	/* joined later: a thread still ending (OpenSSL frees its per-thread
	 * state then) must not outlive the process's own cleanup */
	g_ptr_array_add(s->ended, g_thread_self());
	g_cond_broadcast(&s->gone);
	g_mutex_unlock(&s->lock);
	g_free(cl);
	return NULL;
}

/* Join the client threads that have ended. */
static void reap(struct serve_server *s)
{
	GPtrArray *ended;

	g_mutex_lock(&s->lock);
	ended = s->ended;
	s->ended = g_ptr_array_new();
	g_mutex_unlock(&s->lock);
	for (guint i = 0; i < ended->len; i++)
		g_thread_join(ended->pdata[i]);
	g_ptr_array_unref(ended);
}

static char *peer_name(const struct sockaddr_storage *ss, socklen_t len)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host),
			serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV))
		return g_strdup("?");
	return g_strdup_printf(ss->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
			       host, serv);
}

static void accept_one(struct listener *l)
{
	struct serve_server *s = l->server;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	int one = 1;

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			g_usleep(100 * 1000);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	g_autofree char *peer = peer_name(&ss, len);

	reap(s);
	g_mutex_lock(&s->lock);
	if (g_hash_table_size(s->clients) >= s->max_clients) {
		g_mutex_unlock(&s->lock);
		log_warnx("%s: %s: too many clients (%u), turned away",
			  l->proto->name, peer, s->max_clients);
		if (!l->tls && l->proto->busy_line)
			(void)!send(fd, l->proto->busy_line,
				    strlen(l->proto->busy_line),
				    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	struct client *cl = g_new0(struct client, 1);
	cl->server = s;
	cl->l = l;
	cl->conn = serve_conn_new(fd, peer, s->login_timeout_ms);
	g_hash_table_add(s->clients, cl);
	g_mutex_unlock(&s->lock);
	log_debug(LOG_PROTO, "%s: %s connected", l->proto->name, peer);
	/* the thread's reference goes to `ended` when it is done */
	if (g_thread_try_new(l->proto->name, client_main, cl, NULL))
		return;
	g_mutex_lock(&s->lock);
	g_hash_table_remove(s->clients, cl);
	serve_conn_free(&cl->conn);
	g_mutex_unlock(&s->lock);
	g_free(cl);
}

static gpointer listener_main(gpointer data)
{
	struct listener *l = data;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = l->fd, .events = POLLIN },
			{ .fd = l->server->stop_pipe[0], .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("%s: poll", l->proto->name);
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			accept_one(l);
	}
	return NULL;
}

bool serve_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;
		/* a dual-stack socket sees 127.0.0.1 as ::ffff:127.0.0.1 */
		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

bool serve_login_allowed(const struct serve_conn *c)
{
	return serve_conn_is_tls(c) || serve_conn_peer_is_loopback(c);
}

/*
 * Whether every address `addr` (as for serve_bind) stands for is a
 * loopback one.  A wildcard (0.0.0.0, [::]) is not.  True when the address
 * does not resolve: serve_bind then says why it cannot listen.
 */
static bool spec_is_loopback(const char *addr)
{
	g_autofree char *host = NULL, *port = NULL;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	bool loopback = true;

	if (serve_split_addr(addr, &host, &port) < 0 ||
	    getaddrinfo(host, port, &hints, &res) != 0)
		return true;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		loopback = loopback && serve_addr_is_loopback(ai->ai_addr);
	freeaddrinfo(res);
	return loopback;
}

/*
 * Off loopback, a listener without TLS from the start is only safe when
 * clients can start TLS before they log in, which takes a certificate:
 * a sentence saying so (caller owns), or NULL when `addr` may be bound.
 */
static char *refuse_plaintext(const struct serve_ctx *ctx, const char *addr,
			      const struct serve_proto *proto,
			      bool implicit_tls)
{
	if (implicit_tls || ctx->tls || spec_is_loopback(addr))
		return NULL;
	if (!proto->starttls)
		return g_strdup_printf(
			"--%s %s: not a loopback address, and clients there "
			"would send their password over plain HTTP: give "
			"--tls-cert and --tls-key and serve them with %s%s "
			"ADDR, or listen on 127.0.0.1", proto->name, addr,
			proto->tls_name ? "" : "--",
			proto->tls_name ? proto->tls_name : proto->name);
	return g_strdup_printf(
		"--%s %s: not a loopback address, and without a certificate "
		"clients there could only log in in plaintext: give "
		"--tls-cert and --tls-key (they then log in after %s), or "
		"listen on 127.0.0.1", proto->name, addr, proto->starttls);
}

int serve_bind(const char *addr, char **where_r, char **why_r)
{
	g_autofree char *host = NULL, *port = NULL;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int rc, fd = -1, one = 1;

	if (serve_split_addr(addr, &host, &port) < 0) {
		*why_r = g_strdup_printf("'%s' is not an address: use "
					 "HOST:PORT", addr);
		return -EINVAL;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		*why_r = g_strdup_printf("%s:%s: %s", host, port,
					 gai_strerror(rc));
		return -EINVAL;
	}
	rc = -EADDRNOTAVAIL;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 64) == 0)
			break;
		rc = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		*why_r = g_strdup_printf("cannot listen on %s:%s: %s", host,
					 port, g_strerror(-rc));
		return rc;
	}
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*where_r = peer_name(&ss, len);
	return fd;
}

int serve_listen(struct serve_server *s, const char *addr,
		 const struct serve_proto *proto, bool implicit_tls,
		 char **why_r)
{
	char *where = NULL;
	void *own = NULL;
	int fd = -1, rc;

	if (implicit_tls && !s->ctx->tls) {
		*why_r = proto->tls_name
			? g_strdup_printf("%s needs --tls-cert and --tls-key",
					  proto->tls_name)
			: g_strdup_printf("%s over TLS needs --tls-cert and "
					  "--tls-key", proto->name);
		return -EINVAL;
	}
	if ((*why_r = refuse_plaintext(s->ctx, addr, proto, implicit_tls)))
		return -EPERM;
	if (proto->start)
		rc = proto->start(s->ctx, addr, implicit_tls, s->max_clients,
				  &own, &where, why_r);
	else
		rc = fd = serve_bind(addr, &where, why_r);
	if (rc < 0)
		return rc;
	struct listener *l = g_new0(struct listener, 1);
	l->server = s;
	l->proto = proto;
	l->tls = implicit_tls;
	l->fd = fd;
	l->where = where;
	l->own = own;
	if (!proto->start)
		l->thread = g_thread_new(proto->name, listener_main, l);
	g_ptr_array_add(s->listeners, l);
	log_info("%s%s: listening on %s", proto->name,
		 implicit_tls ? " (TLS)" : "", where);
	return 0;
}

void serve_stop(struct serve_server **sp)
{
	struct serve_server *s = *sp;
	GHashTableIter it;
	gpointer key;

	if (!s)
		return;
	for (guint i = s->listeners->len; i-- > 0;) {
		struct listener *l = s->listeners->pdata[i];
		if (l->proto->stop)
			l->proto->stop(l->own);
	}
	(void)!write(s->stop_pipe[1], "x", 1);
	for (guint i = 0; i < s->listeners->len; i++) {
		struct listener *l = s->listeners->pdata[i];
		if (!l->thread)
			continue;
		g_thread_join(l->thread);
		close(l->fd);
	}
	g_mutex_lock(&s->lock);
	g_hash_table_iter_init(&it, s->clients);
	while (g_hash_table_iter_next(&it, &key, NULL))
		serve_conn_kick(((struct client *)key)->conn);
	while (g_hash_table_size(s->clients) > 0)
		g_cond_wait(&s->gone, &s->lock);
	g_mutex_unlock(&s->lock);
	reap(s);
	g_ptr_array_unref(s->ended);
	for (guint i = 0; i < s->listeners->len; i++) {
		struct listener *l = s->listeners->pdata[i];
		g_free(l->where);
		g_free(l);
	}
	g_ptr_array_unref(s->listeners);
	g_hash_table_unref(s->clients);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	g_mutex_clear(&s->lock);
	g_cond_clear(&s->gone);
	g_free(s);
	*sp = NULL;
}
