/*
 * server.c - the embedded EWS server's endpoint: POST /EWS/Exchange.asmx
 * (and a page for a GET of it),
 * behind the HTTP side every HTTP protocol shares (serve/http.c: Basic
 * authentication, HTTPS, the loopback rule, bounded bodies), with the
 * request body handed to ewsd_dispatch() and the server's own refusals
 * written as SOAP Faults.
 *
 * Specs: [MS-OXWSCORE] 2.1 for the endpoint and the text/xml transport;
 * RFC 9110 and RFC 7617 through serve/http.c.
 */
#include <errno.h>
#include <string.h>

#include "serve/http.h"
#include "ewsd-private.h"
#include "sync-state.h"

#define ENDPOINT "/EWS/Exchange.asmx"

static const char *const methods[] = { "POST", "GET", NULL };

/* What a logged-in GET of the endpoint sees: Exchange shows a page of its
 * own there, and clients that look before they post take a 200 as the
 * sign that the address is right. */
static const char get_page[] =
	"<!DOCTYPE html>\n<html><head><title>mailfs EWS</title></head>"
	"<body><p>This is the Exchange Web Services endpoint of mailfs "
	"serve. SOAP requests are POSTed here.</p></body></html>\n";

static void ews_handle(void *data, const struct serve_http_req *req,
		       struct serve_http_reply *rep)
{
	const struct serve_ctx *ctx = data;

	if (!strcmp(req->method, "GET")) {
		rep->body = g_string_new(get_page);
		rep->content_type = g_strdup("text/html; charset=utf-8");
		return;
	}
	ewsd_dispatch(ctx, req->user, req->body, req->body_len, &rep->body,
		      &rep->status);
	rep->content_type = g_strdup("text/xml; charset=utf-8");
}

/* The HTTP side's refusals as SOAP Faults with the EWS error code a
 * client looks for. */
static void ews_fault_reply(void *data, unsigned status, const char *text,
			    struct serve_http_reply *rep)
{
	const char *code = "ErrorInvalidRequest";

	if (status == 401 || status == 403)
		code = "ErrorAccessDenied";
	else if (status == 429)
		code = "ErrorServerBusy";
	rep->body = ews_fault("Client", code, text);
	rep->content_type = g_strdup("text/xml; charset=utf-8");
}

static const struct serve_http_endpoint ews_endpoints[] = {
	{ .path = ENDPOINT, .methods = methods, .body_max = EWS_BODY_MAX,
	  .handle = ews_handle, .fault = ews_fault_reply },
};

/* serve_start_fn of serve.h: the store's ids and sync states first, then
 * the listener. */
static int ewsd_start(const struct serve_ctx *ctx, const char *addr,
		      bool tls, unsigned max_clients, void **state_r,
		      char **where_r, char **why_r)
{
	struct serve_http *srv = NULL;
	int rc;

	ewsd_folder_ids_init(ctx->store_root);
	ewsd_sync_state_init(ctx->store_root);
	rc = serve_http_start(ctx, addr, tls, max_clients, "ews", "--ewss",
			      ews_endpoints, G_N_ELEMENTS(ews_endpoints),
			      (void *)ctx, &srv, where_r, why_r);
	if (rc < 0)
		return rc;
	*state_r = srv;
	return 0;
}

/* Stop listening, finish the requests under way, free `state`. */
static void ewsd_stop(void *state)
{
	struct serve_http *srv = state;

	serve_http_stop(&srv);
}

/* A listener of its own: serve.h says why. */
const struct serve_proto ewsd_proto = {
	.name = "ews",
	.start = ewsd_start,
	.stop = ewsd_stop,
	.tls_name = "--ewss",
	.starttls = NULL,
};
