/*
 * server.c - the embedded MAPI over HTTP server's endpoints: POST
 * /mapi/emsmdb/ and /mapi/nspi/ (with any ?MailboxId=, as the session is
 * the logged-in user's whatever it names) and the POX Autodiscover at
 * /autodiscover/autodiscover.xml, behind the HTTP side every HTTP
 * protocol shares (serve/http.c: Basic authentication, HTTPS, the
 * loopback rule, bounded bodies).
 *
 * Specs: MS-OXCMAPIHTTP 2.2.1 (the endpoints), 2.2.2 (POST only);
 * MS-OXDSCLI 2.2.4 (the Autodiscover answer: the mapiHttp Protocol's
 * MailStore and AddressBook URLs, the user's names); RFC 9110 and RFC
 * 7617 through serve/http.c.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "serve/http.h"
#include "wire/mapi-autodiscover.h"
#include "wire/mapi-http.h"
#include "mapid-private.h"

static const char *const post_only[] = { "POST", NULL };

static void mapi_handle(void *data, const struct serve_http_req *req,
			struct serve_http_reply *rep)
{
	mapid_session_handle(data, req, rep);
}

static void nspi_handle(void *data, const struct serve_http_req *req,
			struct serve_http_reply *rep)
{
	mapid_nspi_handle(data, req, rep);
}

/* The URL of endpoint `path` at the address the client used. */
char *mapid_endpoint_url(const struct mapid_server *srv,
			 const struct serve_http_req *req, const char *path,
			 const char *user)
{
	const char *host = serve_http_header(req, "Host");
	g_autofree char *mbx = g_uri_escape_string(user, "@", FALSE);

	return g_strdup_printf("%s://%s%s?MailboxId=%s",
			       srv->tls ? "https" : "http",
			       host ? host : "localhost", path, mbx);
}

static void autodiscover_handle(void *data, const struct serve_http_req *req,
				struct serve_http_reply *rep)
{
	const struct mapid_server *srv = data;
	struct mapi_autodiscover_request q = { 0 };
	struct mapi_autodiscover_response a = { 0 };
	g_autofree char *dn = mapid_legacy_dn(req->user);
	g_autofree char *store = NULL, *book = NULL;
	char *xml;
	size_t len = 0;

	if (mapi_autodiscover_request_read(req->body, req->body_len, &q) < 0) {
		rep->status = 400;
		rep->content_type = g_strdup("text/plain; charset=utf-8");
		rep->body = g_string_new("Not an Autodiscover request.\r\n");
		return;
	}
	store = mapid_endpoint_url(srv, req, "/mapi/emsmdb/", req->user);
	book = mapid_endpoint_url(srv, req, "/mapi/nspi/", req->user);
	a.kind = MAPI_AUTODISCOVER_SETTINGS;
	a.smtp_address = q.email ? q.email : (char *)req->user;
	a.display_name = (char *)req->user;
	a.legacy_dn = dn;
	a.deployment_id = (char *)"6d61696c-6673-4000-8000-6d6170690001";
	a.mailstore_internal = a.mailstore_external = store;
	a.addressbook_internal = a.addressbook_external = book;
	xml = mapi_autodiscover_response_write(&a, &len);
	mapi_autodiscover_request_clear(&q);
	rep->content_type = g_strdup("text/xml; charset=utf-8");
	rep->body = g_string_new_len(xml, (gssize)len);
	g_free(xml);
}

/* The HTTP side's own refusals (401, 403, 404, 405, 413, 429): a line
 * of text, as the real servers answer them. */
static void mapi_fault(void *data, unsigned status, const char *text,
		       struct serve_http_reply *rep)
{
	(void)data;
	(void)status;
	rep->content_type = g_strdup("text/plain; charset=utf-8");
	rep->body = g_string_new(text);
	g_string_append(rep->body, "\r\n");
}

static const struct serve_http_endpoint mapi_endpoints[] = {
	{ .path = "/mapi/emsmdb/", .prefix = true, .methods = post_only,
	  .body_max = MAPID_BODY_MAX, .handle = mapi_handle,
	  .fault = mapi_fault },
	{ .path = "/mapi/nspi/", .prefix = true, .methods = post_only,
	  .body_max = MAPID_BODY_MAX, .handle = nspi_handle,
	  .fault = mapi_fault },
	{ .path = MAPI_AUTODISCOVER_PATH, .methods = post_only,
	  .body_max = MAPI_AUTODISCOVER_BODY_MAX,
	  .handle = autodiscover_handle, .fault = mapi_fault },
};

/* serve_start_fn of serve.h: the store's ids, then the listener. */
static int mapid_start(const struct serve_ctx *ctx, const char *addr,
		       bool tls, unsigned max_clients, void **state_r,
		       char **where_r, char **why_r)
{
	struct mapid_server *srv = g_new0(struct mapid_server, 1);
	struct serve_http *http = NULL;
	int rc;

	mapid_ids_init(ctx->store_root);
	mapid_names_init(ctx->store_root);
	srv->ctx = ctx;
	srv->tls = tls;
	rc = serve_http_start(ctx, addr, tls, max_clients, "mapi", "--mapis",
			      mapi_endpoints, G_N_ELEMENTS(mapi_endpoints),
			      srv, &http, where_r, why_r);
	if (rc < 0) {
		g_free(srv);
		return rc;
	}
	/* the server's state goes with the listener: `srv` is freed at
	 * stop, after it */
	*state_r = g_new0(void *, 2);
	((void **)*state_r)[0] = http;
	((void **)*state_r)[1] = srv;
	return 0;
}

/* Stop listening, finish the requests under way, free `state`. */
static void mapid_stop(void *state)
{
	void **st = state;
	struct serve_http *http = st[0];

	mapid_notify_stop();	/* the waits under way end first */
	serve_http_stop(&http);
	mapid_sessions_clear();
	mapid_nspi_clear();
	g_free(st[1]);
	g_free(st);
}

/* A listener of its own: serve.h says why. */
const struct serve_proto mapid_proto = {
	.name = "mapi",
	.start = mapid_start,
	.stop = mapid_stop,
	.tls_name = "--mapis",
	.starttls = NULL,
};
