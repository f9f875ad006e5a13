/*
 * server.c - the HTTP side of the embedded EWS server: one endpoint,
 * POST /EWS/Exchange.asmx, behind HTTP Basic authentication, with the
 * request body collected up to EWS_BODY_MAX and handed to ewsd_dispatch().
 *
 * Specs: RFC 9110 (HTTP semantics: 401, 403, 404, 405, 413), RFC 9112
 * (HTTP/1.1), RFC 7617 (Basic authentication), RFC 2818 (HTTP over TLS,
 * for --ewss, by libmicrohttpd's GnuTLS, TLS 1.2 or newer: RFC 8996);
 * [MS-OXWSCORE] 2.1 for the endpoint and the text/xml transport.
 *
 * Over plain HTTP, only a client on loopback may log in: any other is
 * answered 403 before its credentials are looked at, and never 401, whose
 * challenge would have it send (or send again) its password in the clear;
 * 403 is also what Exchange's own web server answers a plain HTTP request
 * that needs TLS, and clients show it as an error rather than ask again.
 *
 * libmicrohttpd runs a thread per connection on a socket serve_bind() makes,
 * so the slow answer to a failed login (serve_auth_failed) only holds up
 * the client that failed.  Credentials are checked before the body is
 * read, and an unauthenticated body is read and dropped rather than kept,
 * so that nobody who has not logged in can make the server hold more than
 * a request header.
 */
#include <errno.h>
#include <microhttpd.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "serve/serve.h"
#include "ewsd-private.h"
#include "sync-state.h"

#define ENDPOINT "/EWS/Exchange.asmx"
#define REALM "mailfs"
#define CONN_TIMEOUT_S 120
/* GnuTLS priorities: its defaults, less every version before TLS 1.2 */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct ewsd_server {
	struct MHD_Daemon *daemon;	/* owned */
	const struct serve_ctx *ctx;	/* borrowed */
	int fd;				/* owned by the daemon once started */
	char *tls_cert, *tls_key;	/* owned; PEM, kept while the daemon
					   runs; NULL without TLS */
};

/* One HTTP request while its body arrives. */
struct request {
	enum { REQ_NOT_FOUND, REQ_BAD_METHOD, REQ_NEEDS_TLS, REQ_NO_AUTH,
	       REQ_BAD_AUTH, REQ_BUSY, REQ_OK } state;
	GString *body;			/* owned; NULL unless REQ_OK */
	bool too_big;
};

/* Per connection: failed logins so far, for serve_auth_failed(). */
struct conn_state {
	unsigned failures;
};

static void conn_notify(void *cls, struct MHD_Connection *conn,
			void **socket_context,
			enum MHD_ConnectionNotificationCode toe)
{
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		*socket_context = g_new0(struct conn_state, 1);
	else
		g_clear_pointer(socket_context, g_free);
}

static void request_done(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request *r = *con_cls;

	if (!r)
		return;
	if (r->body)
		g_string_free(r->body, TRUE);
	g_free(r);
	*con_cls = NULL;
}

/* Takes ownership of `text` (a GString).  Returns what MHD_queue_response
 * does. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
			     GString *text, bool auth_challenge)
{
	size_t len = text->len;
	char *data = g_string_free(text, FALSE);
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(
		len, data, g_free);
	enum MHD_Result rc;

	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/xml; charset=utf-8");
	if (auth_challenge)
		rc = MHD_queue_basic_auth_fail_response(conn, REALM, resp);
	else
		rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static GString *plain_fault(const char *code, const char *text)
{
	return ews_fault("Client", code, text);
}

/* Check the Authorization header; the slow answer to a wrong password
 * happens here.  Returns false when the connection should be closed. */
static bool check_auth(const struct ewsd_server *srv,
		       struct MHD_Connection *conn, struct request *r)
{
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(conn, &pass);
	const union MHD_ConnectionInfo *ci;
	struct conn_state *cs;
	enum serve_login ok;

	if (!user) {
		r->state = REQ_NO_AUTH;
		if (pass)
			MHD_free(pass);
		return true;
	}
	ci = MHD_get_connection_info(conn,
				     MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	ok = serve_auth_login(srv->ctx->auth, ci ? ci->client_addr : NULL,
			      user, pass ? pass : "");
	MHD_free(user);
	if (pass)
		MHD_free(pass);
	if (ok == SERVE_LOGIN_REFUSED) {
		r->state = REQ_BUSY;
		return true;
	}
	if (ok == SERVE_LOGIN_OK) {
		r->state = REQ_OK;
		r->body = g_string_new(NULL);
		return true;
	}
	r->state = REQ_BAD_AUTH;
	ci = MHD_get_connection_info(conn,
				     MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	cs = ci ? ci->socket_context : NULL;
	log_warnx("ews: failed login");
	return !serve_auth_failed(cs ? ++cs->failures : 1);
}

/* Whether a password may come on `conn`: over HTTPS, or from loopback. */
static bool login_allowed(const struct ewsd_server *srv,
			  struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	if (srv->tls_cert)
		return true;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci && ci->client_addr && serve_addr_is_loopback(ci->client_addr);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct ewsd_server *srv = cls;
	struct request *r = *con_cls;

	if (!r) {
		r = g_new0(struct request, 1);
		*con_cls = r;
		if (g_ascii_strcasecmp(url, ENDPOINT) != 0)
			r->state = REQ_NOT_FOUND;
		else if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			r->state = REQ_BAD_METHOD;
		else if (!login_allowed(srv, conn))
			r->state = REQ_NEEDS_TLS;
		else if (!check_auth(srv, conn, r))
			return MHD_NO;
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->body && !r->too_big) {
			if (r->body->len + *upload_size > EWS_BODY_MAX) {
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
		return reply(conn, MHD_HTTP_NOT_FOUND,
			     plain_fault("ErrorInvalidRequest",
					 "no such endpoint"), false);
	case REQ_BAD_METHOD:
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			     plain_fault("ErrorInvalidRequest",
					 "only POST is served"), false);
	case REQ_NEEDS_TLS:
		log_warnx("ews: a request over plain HTTP from off loopback "
			  "refused");
		return reply(conn, MHD_HTTP_FORBIDDEN,
			     plain_fault("ErrorAccessDenied",
					 "this server takes passwords over "
					 "HTTPS only: use its https:// "
					 "address"), false);
	case REQ_NO_AUTH:
	case REQ_BAD_AUTH:
		return reply(conn, MHD_HTTP_UNAUTHORIZED,
			     plain_fault("ErrorAccessDenied",
					 "authentication required"), true);
	case REQ_BUSY:
		return reply(conn, 429 /* Too Many Requests, RFC 6585 */,
			     plain_fault("ErrorServerBusy", "too many failed "
					 "logins; try again later"), false);
	case REQ_OK:
		break;
	}
	if (r->too_big)
		return reply(conn, 413 /* Content Too Large */,
			     plain_fault("ErrorInvalidRequest",
					 "request too large"), false);
	GString *out = NULL;
	unsigned status = 0;
	ewsd_dispatch(srv->ctx, r->body->str, r->body->len, &out, &status);
	return reply(conn, status, out, false);
}

/*
 * Start the daemon on `addr` (serve_start_fn of serve.h), over HTTPS with
 * the certificate chain and key of ctx's PEM files when `tls`, read once,
 * now.  -ENOTSUP with a sentence when libmicrohttpd was built without
 * TLS.
 */
static int ewsd_start(const struct serve_ctx *ctx, const char *addr,
		      bool tls, unsigned max_clients, void **state_r,
		      char **where_r, char **why_r)
{
	const char *cert_file = tls ? ctx->tls_cert_file : NULL;
	const char *key_file = tls ? ctx->tls_key_file : NULL;
	g_autofree char *where = NULL;
	struct ewsd_server *srv;
	GError *err = NULL;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_INTERNAL_POLLING_THREAD;
	int fd;

	srv = g_new0(struct ewsd_server, 1);
	if (cert_file) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			*why_r = g_strdup("ews: this libmicrohttpd was built "
					  "without TLS; --ewss is not "
					  "available");
			g_free(srv);
			return -ENOTSUP;
		}
		if (!g_file_get_contents(cert_file, &srv->tls_cert, NULL,
					 &err) ||
		    !g_file_get_contents(key_file, &srv->tls_key, NULL, &err)) {
			*why_r = g_strdup_printf("ews: %s", err->message);
			g_error_free(err);
			g_free(srv->tls_cert);
			g_free(srv);
			return -EINVAL;
		}
		flags |= MHD_USE_TLS;
	}
	/* the daemon takes the socket */
	fd = serve_bind(addr, &where, why_r);
	if (fd < 0) {
		g_free(srv->tls_cert);
		g_free(srv->tls_key);
		g_free(srv);
		return fd;
	}
	ewsd_folder_ids_init(ctx->store_root);
	ewsd_sync_state_init(ctx->store_root);
	srv->ctx = ctx;
	srv->fd = fd;
	if (cert_file)
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
		g_free(srv->tls_cert);
		g_free(srv->tls_key);
		g_free(srv);
		*why_r = g_strdup_printf("ews: %s: the HTTP%s server did not "
					 "start%s", addr, cert_file ? "S" : "",
					 cert_file ? " (is the key the "
					 "certificate's?)" : "");
		return -EIO;
	}
	*where_r = g_steal_pointer(&where);
	*state_r = srv;
	return 0;
}

/* Stop listening, finish the requests under way, free `state`. */
static void ewsd_stop(void *state)
{
	struct ewsd_server *srv = state;

	/* the daemon closes the listening socket it was given */
	MHD_stop_daemon(srv->daemon);
	g_free(srv->tls_cert);
	if (srv->tls_key) {
		/* a private key does not linger in freed memory */
		memset(srv->tls_key, 0, strlen(srv->tls_key));
		g_free(srv->tls_key);
	}
	g_free(srv);
}

/* A listener of its own: serve.h says why. */
const struct serve_proto ewsd_proto = {
	.name = "ews",
	.start = ewsd_start,
	.stop = ewsd_stop,
	.tls_name = "--ewss",
	.starttls = NULL,
};
