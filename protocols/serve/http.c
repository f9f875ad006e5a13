/*
 * http.c - see http.h.
 *
 * A request goes through these states, decided once, when its header is
 * in (on_request's first call), and never changed after:
 *
 *   NOT_FOUND   no endpoint has the path            -> 404
 *   NEEDS_TLS   plain HTTP from off loopback        -> 403
 *   NO_AUTH     no credentials                      -> 401 + challenges
 *   NTLM_CHALLENGE  an NTLM NEGOTIATE               -> 401 + its CHALLENGE
 *   BAD_AUTH    wrong credentials (slow answer)     -> 401 + challenges
 *   BUSY        too many failures: serve_auth says  -> 429
 *   BAD_METHOD  logged in, a method not served      -> 405
 *   OK          logged in: the body is collected    -> the handler
 *
 * The checks go in that order.  Credentials come before the method, as
 * with Exchange's web server: a client probing the endpoint without them
 * (DavMail sends a GET) learns that it is there and wants a login, which
 * a 405 would not tell it.  Only an OK request keeps its body; the
 * others' bodies are read and dropped.
 *
 * NTLM (MS-NLMP, NTLMv2 only) logs in a connection, not a request, as
 * IIS does: the NEGOTIATE is answered with a CHALLENGE whose 8 bytes the
 * connection keeps, the AUTHENTICATE on the same connection is checked
 * against them (once: a second try needs a new NEGOTIATE), and once it
 * passed, the requests that follow on that connection without an
 * Authorization header are the user's until it closes.  A 401 offers
 * Basic and NTLM both.
 */
#include "http.h"

#include <errno.h>
#include <microhttpd.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "wire/ntlm.h"

#define REALM "mailfs"
/* the NetBIOS domain and computer name a CHALLENGE names */
#define NTLM_TARGET "MAILFS"
/* seconds from 1601 (FILETIME's epoch) to 1970 */
#define FILETIME_1970 11644473600ull
#define CONN_TIMEOUT_S 120
/* GnuTLS priorities: its defaults, less every version before TLS 1.2 */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct serve_http {
	struct MHD_Daemon *daemon;	/* owned */
	const struct serve_ctx *ctx;	/* borrowed */
	const struct serve_http_endpoint *eps;	/* borrowed */
	size_t n_eps;
	void *data;			/* borrowed; the endpoints' */
	char *proto;			/* owned; "ews", for logs */
	char *tls_cert, *tls_key;	/* owned; PEM, kept while the daemon
					   runs; NULL without TLS */
};

/* One HTTP request while its body arrives. */
struct request {
	enum { REQ_NOT_FOUND, REQ_BAD_METHOD, REQ_NEEDS_TLS, REQ_NO_AUTH,
	       REQ_NTLM_CHALLENGE, REQ_BAD_AUTH, REQ_BUSY, REQ_OK } state;
	const struct serve_http_endpoint *ep;	/* borrowed; NULL when none */
	char *user;			/* owned; who logged in (OK) */
	GString *body;			/* owned; NULL unless REQ_OK */
	bool too_big;
	char *ntlm_reply;		/* owned; "NTLM <CHALLENGE>" */
};

/* Per connection: failed logins so far, for serve_auth_failed(); the
 * NTLM challenge sent and not yet answered; who logged in by NTLM. */
struct conn_state {
	unsigned failures;
	bool challenged;
	uint8_t challenge[NTLM_CHALLENGE_LEN];
	char *ntlm_user;		/* owned; NULL until then */
};

void serve_http_reply_header(struct serve_http_reply *rep, const char *name,
			     const char *value)
{
	if (!rep->headers)
		rep->headers = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(rep->headers, g_strdup(name));
	g_ptr_array_add(rep->headers, g_strdup(value));
}

static void reply_clear(struct serve_http_reply *rep)
{
	g_free(rep->content_type);
	if (rep->headers)
		g_ptr_array_unref(rep->headers);
	if (rep->body)
		g_string_free(rep->body, TRUE);
	memset(rep, 0, sizeof(*rep));
}

const char *serve_http_header(const struct serve_http_req *req,
			      const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *serve_http_query(const struct serve_http_req *req,
			     const char *name)
{
	return MHD_lookup_connection_value(req->conn,
					   MHD_GET_ARGUMENT_KIND, name);
}

static void conn_notify(void *cls, struct MHD_Connection *conn,
			void **socket_context,
			enum MHD_ConnectionNotificationCode toe)
{
	struct conn_state *cs = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = g_new0(struct conn_state, 1);
	} else if (cs) {
		g_free(cs->ntlm_user);
		g_free(cs);
		*socket_context = NULL;
	}
}

static void request_done(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request *r = *con_cls;

	if (!r)
		return;
	if (r->body)
		g_string_free(r->body, TRUE);
	g_free(r->user);
	g_free(r->ntlm_reply);
	g_free(r);
	*con_cls = NULL;
}

/* Send `rep` (cleared after).  Returns what MHD_queue_response does. */
static enum MHD_Result send_reply(struct MHD_Connection *conn,
				  struct serve_http_reply *rep)
{
	size_t len = rep->body ? rep->body->len : 0;
	char *data = rep->body ? g_string_free(rep->body, FALSE) : NULL;
	struct MHD_Response *resp;
	enum MHD_Result rc;

	rep->body = NULL;
	resp = MHD_create_response_from_buffer_with_free_callback(
		len, data, g_free);
	if (rep->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					rep->content_type);
	for (guint i = 0; rep->headers && i + 1 < rep->headers->len; i += 2)
		MHD_add_response_header(resp, rep->headers->pdata[i],
					rep->headers->pdata[i + 1]);
	rc = MHD_queue_response(conn, rep->status ? rep->status : 200, resp);
	MHD_destroy_response(resp);
	reply_clear(rep);
	return rc;
}

/* The server's own refusal, in the endpoint's words when there is one. */
static enum MHD_Result refuse(struct serve_http *srv, struct request *r,
			      struct MHD_Connection *conn, unsigned status,
			      const char *text)
{
	struct serve_http_reply rep = { .status = status };

	if (r->ep && r->ep->fault) {
		r->ep->fault(srv->data, status, text, &rep);
	} else {
		rep.content_type = g_strdup("text/plain; charset=utf-8");
		rep.body = g_string_new(text);
		g_string_append(rep.body, "\r\n");
	}
	rep.status = status;
	if (r->ntlm_reply) {
		serve_http_reply_header(&rep, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					r->ntlm_reply);
	} else if (status == MHD_HTTP_UNAUTHORIZED) {
		serve_http_reply_header(&rep, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Basic realm=\"" REALM "\"");
		serve_http_reply_header(&rep, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"NTLM");
	}
	return send_reply(conn, &rep);
}

static struct conn_state *conn_state(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn,
					MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static const struct sockaddr *client_addr(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn,
					MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	return ci ? ci->client_addr : NULL;
}

/* A failed login on `conn`: logged, counted, answered slowly.  Returns
 * false when the connection should be closed. */
static bool login_failed(struct serve_http *srv, struct MHD_Connection *conn,
			 struct request *r, const char *how)
{
	struct conn_state *cs = conn_state(conn);

	r->state = REQ_BAD_AUTH;
	log_warnx("%s: failed login%s", srv->proto, how);
	return !serve_auth_failed(cs ? ++cs->failures : 1);
}

static void logged_in(struct request *r, const char *user)
{
	r->user = g_strdup(user);
	r->state = REQ_OK;
	r->body = g_string_new(NULL);
}

/* An NTLM NEGOTIATE: a fresh challenge for the connection, sent back in a
 * 401.  Anything else in its place is no login at all. */
static void ntlm_negotiate(const uint8_t *msg, size_t len,
			   struct conn_state *cs, struct request *r)
{
	uint32_t flags;
	uint64_t ft = ((uint64_t)time(NULL) + FILETIME_1970) * 10000000ull;
	GByteArray *c;
	char *b64;

	r->state = REQ_NO_AUTH;
	if (ntlm_parse_negotiate(msg, len, &flags) < 0 ||
	    getrandom(cs->challenge, sizeof(cs->challenge), 0) !=
		    (ssize_t)sizeof(cs->challenge))
		return;
	cs->challenged = true;
	c = ntlm_build_challenge(flags, cs->challenge, NTLM_TARGET, ft);
	b64 = g_base64_encode(c->data, c->len);
	g_byte_array_unref(c);
	r->ntlm_reply = g_strconcat("NTLM ", b64, NULL);
	g_free(b64);
	r->state = REQ_NTLM_CHALLENGE;
}

/* An NTLM AUTHENTICATE answering the connection's challenge, which it
 * uses up.  Returns false when the connection should be closed. */
static bool ntlm_authenticate(struct serve_http *srv,
			      struct MHD_Connection *conn,
			      const uint8_t *msg, size_t len,
			      struct conn_state *cs, struct request *r)
{
	struct ntlm_authenticate a;
	enum serve_login ok;
	int rc;

	r->state = REQ_NO_AUTH;
	if (!cs->challenged)
		return true;
	cs->challenged = false;
	rc = ntlm_parse_authenticate(msg, len, &a);
	if (rc == -EPROTONOSUPPORT)
		return login_failed(srv, conn, r, " (an LM or NTLMv1 response: "
				    "only NTLMv2 is taken)");
	if (rc < 0)
		return login_failed(srv, conn, r, " (a malformed NTLM message)");
	ok = serve_auth_ntlm(srv->ctx->auth, client_addr(conn), &a,
			     cs->challenge);
	ntlm_authenticate_clear(&a);
	if (ok == SERVE_LOGIN_REFUSED) {
		r->state = REQ_BUSY;
		return true;
	}
	if (ok == SERVE_LOGIN_FAILED)
		return login_failed(srv, conn, r, " (NTLM)");
	g_free(cs->ntlm_user);
	cs->ntlm_user = g_strdup(serve_auth_user(srv->ctx->auth));
	logged_in(r, cs->ntlm_user);
	return true;
}

/* "Authorization: NTLM <base64>".  Returns false when the connection
 * should be closed. */
static bool check_ntlm(struct serve_http *srv, struct MHD_Connection *conn,
		       struct request *r, const char *b64)
{
	struct conn_state *cs = conn_state(conn);
	size_t n = strlen(b64);
	guchar *msg;
	gsize len;
	bool keep = true;

	r->state = REQ_NO_AUTH;
	if (!cs || !n || n % 4 || n > NTLM_MESSAGE_MAX * 4 / 3 + 4 ||
	    strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789+/=") != n)
		return true;
	msg = g_base64_decode(b64, &len);
	switch (ntlm_message_type(msg, len)) {
	case 1:
		ntlm_negotiate(msg, len, cs, r);
		break;
	case 3:
		keep = ntlm_authenticate(srv, conn, msg, len, cs, r);
		break;
	}
	g_free(msg);
	return keep;
}

/* Check the Authorization header; the slow answer to a wrong password
 * happens here.  Returns false when the connection should be closed. */
static bool check_auth(struct serve_http *srv, struct MHD_Connection *conn,
		       struct request *r)
{
	const char *h = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	struct conn_state *cs = conn_state(conn);
	char *pass = NULL, *user;
	enum serve_login ok;

	if (h && !g_ascii_strncasecmp(h, "NTLM ", 5))
		return check_ntlm(srv, conn, r, h + 5);
	if (!h && cs && cs->ntlm_user) {
		logged_in(r, cs->ntlm_user);
		return true;
	}
	user = MHD_basic_auth_get_username_password(conn, &pass);
	if (!user) {
		r->state = REQ_NO_AUTH;
		if (pass)
			MHD_free(pass);
		return true;
	}
	ok = serve_auth_login(srv->ctx->auth, client_addr(conn), user,
			      pass ? pass : "");
	if (ok == SERVE_LOGIN_OK)
		logged_in(r, user);
	MHD_free(user);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (ok == SERVE_LOGIN_REFUSED) {
		r->state = REQ_BUSY;
		return true;
	}
	if (ok == SERVE_LOGIN_OK)
		return true;
	return login_failed(srv, conn, r, "");
}

/* Whether a password may come on `conn`: over HTTPS, or from loopback. */
static bool login_allowed(const struct serve_http *srv,
			  struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	if (srv->tls_cert)
		return true;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci && ci->client_addr && serve_addr_is_loopback(ci->client_addr);
}

static const struct serve_http_endpoint *endpoint(const struct serve_http *srv,
						  const char *url)
{
	for (size_t i = 0; i < srv->n_eps; i++) {
		const struct serve_http_endpoint *ep = &srv->eps[i];
		size_t n = strlen(ep->path);

		if (ep->prefix ? !g_ascii_strncasecmp(url, ep->path, n)
			       : !g_ascii_strcasecmp(url, ep->path))
			return ep;
	}
	return NULL;
}

static bool method_served(const struct serve_http_endpoint *ep,
			  const char *method)
{
	for (const char *const *m = ep->methods; m && *m; m++)
		if (!strcmp(*m, method))
			return true;
	return false;
}

/* The first call for a request: decide its state (see the top). */
static enum MHD_Result begin(struct serve_http *srv,
			     struct MHD_Connection *conn, const char *url,
			     const char *method, void **con_cls)
{
	struct request *r = g_new0(struct request, 1);

	*con_cls = r;
	r->ep = endpoint(srv, url);
	if (!r->ep)
		r->state = REQ_NOT_FOUND;
	else if (!login_allowed(srv, conn))
		r->state = REQ_NEEDS_TLS;
	else if (!check_auth(srv, conn, r))
		return MHD_NO;
	if (r->state == REQ_OK && !method_served(r->ep, method)) {
		r->state = REQ_BAD_METHOD;
		g_string_free(r->body, TRUE);
		r->body = NULL;
	}
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct serve_http *srv = cls;
	struct request *r = *con_cls;

	if (!r)
		return begin(srv, conn, url, method, con_cls);
	if (*upload_size) {
		if (r->body && !r->too_big) {
			if (r->body->len + *upload_size > r->ep->body_max) {
				r->too_big = true;
				g_string_truncate(r->body, 0);
			} else {
				g_string_append_len(r->body, upload,
						    (gssize)*upload_size);
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	switch (r->state) {
	case REQ_NOT_FOUND:
		return refuse(srv, r, conn, MHD_HTTP_NOT_FOUND,
			      "no such endpoint");
	case REQ_BAD_METHOD:
		return refuse(srv, r, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			      "method not served here");
	case REQ_NEEDS_TLS:
		log_warnx("%s: a request over plain HTTP from off loopback "
			  "refused", srv->proto);
		return refuse(srv, r, conn, MHD_HTTP_FORBIDDEN,
			      "this server takes passwords over HTTPS only: "
			      "use its https:// address");
	case REQ_NO_AUTH:
	case REQ_NTLM_CHALLENGE:
	case REQ_BAD_AUTH:
		return refuse(srv, r, conn, MHD_HTTP_UNAUTHORIZED,
			      "authentication required");
	case REQ_BUSY:
		return refuse(srv, r, conn, 429 /* RFC 6585 */,
			      "too many failed logins; try again later");
	case REQ_OK:
		break;
	}
	if (r->too_big)
		return refuse(srv, r, conn, 413 /* Content Too Large */,
			      "request too large");

	struct serve_http_req req = {
		.method = method, .path = url, .user = r->user,
		.body = r->body->str, .body_len = r->body->len, .conn = conn,
	};
	struct serve_http_reply rep = { .status = 200 };

	r->ep->handle(srv->data, &req, &rep);
	return send_reply(conn, &rep);
}

static void server_free(struct serve_http *srv)
{
	g_free(srv->tls_cert);
	if (srv->tls_key) {
		/* a private key does not linger in freed memory */
		explicit_bzero(srv->tls_key, strlen(srv->tls_key));
		g_free(srv->tls_key);
	}
	g_free(srv->proto);
	g_free(srv);
}

/* The PEM files, read once, now.  0, or -errno with *why_r. */
static int load_tls(struct serve_http *srv, const struct serve_ctx *ctx,
		    const char *tls_option, char **why_r)
{
	GError *err = NULL;

	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		*why_r = g_strdup_printf("%s: this libmicrohttpd was built "
					 "without TLS; %s is not available",
					 srv->proto, tls_option);
		return -ENOTSUP;
	}
	if (!g_file_get_contents(ctx->tls_cert_file, &srv->tls_cert, NULL,
				 &err) ||
	    !g_file_get_contents(ctx->tls_key_file, &srv->tls_key, NULL,
				 &err)) {
		*why_r = g_strdup_printf("%s: %s", srv->proto, err->message);
		g_error_free(err);
		return -EINVAL;
	}
	return 0;
}

int serve_http_start(const struct serve_ctx *ctx, const char *addr, bool tls,
		     unsigned max_clients, const char *proto,
		     const char *tls_option,
		     const struct serve_http_endpoint *eps, size_t n,
		     void *data, struct serve_http **srv_r, char **where_r,
		     char **why_r)
{
	g_autofree char *where = NULL;
	struct serve_http *srv = g_new0(struct serve_http, 1);
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_INTERNAL_POLLING_THREAD;
	int fd, rc;

	srv->proto = g_strdup(proto);
	if (tls && (rc = load_tls(srv, ctx, tls_option, why_r)) < 0) {
		server_free(srv);
		return rc;
	}
	if (tls)
		flags |= MHD_USE_TLS;
	/* the daemon takes the socket */
	fd = serve_bind(addr, &where, why_r);
	if (fd < 0) {
		server_free(srv);
		return fd;
	}
	srv->ctx = ctx;
	srv->eps = eps;
	srv->n_eps = n;
	srv->data = data;
	if (tls)
		srv->daemon = MHD_start_daemon(
			flags, 0, NULL, NULL, on_request, srv,
			MHD_OPTION_LISTEN_SOCKET, fd,
			MHD_OPTION_CONNECTION_LIMIT, max_clients,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
			MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
			MHD_OPTION_NOTIFY_CONNECTION, conn_notify, NULL,
			MHD_OPTION_HTTPS_MEM_CERT, srv->tls_cert,
			MHD_OPTION_HTTPS_MEM_KEY, srv->tls_key,
			MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
			MHD_OPTION_END);
	else
		srv->daemon = MHD_start_daemon(
			flags, 0, NULL, NULL, on_request, srv,
			MHD_OPTION_LISTEN_SOCKET, fd,
			MHD_OPTION_CONNECTION_LIMIT, max_clients,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
			MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
			MHD_OPTION_NOTIFY_CONNECTION, conn_notify, NULL,
			MHD_OPTION_END);
	if (!srv->daemon) {
		close(fd);
		*why_r = g_strdup_printf("%s: %s: the HTTP%s server did not "
					 "start%s", proto, addr, tls ? "S" : "",
					 tls ? " (is the key the "
					 "certificate's?)" : "");
		server_free(srv);
		return -EIO;
	}
	*where_r = g_steal_pointer(&where);
	*srv_r = srv;
	return 0;
}

void serve_http_stop(struct serve_http **srvp)
{
	struct serve_http *srv = *srvp;

	if (!srv)
		return;
	/* the daemon closes the listening socket it was given */
	MHD_stop_daemon(srv->daemon);
	server_free(srv);
	*srvp = NULL;
}
