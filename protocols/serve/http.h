/*
 * http.h - the HTTP side the embedded servers over HTTP share (EWS today,
 * MAPI over HTTP next): libmicrohttpd on a socket serve_bind() made, HTTPS
 * from the context's PEM files, Basic and NTLM (NTLMv2 only, one login
 * per connection; http.c says how) authentication against serve's
 * credentials with its throttling, the rule that a password is taken only
 * over HTTPS or from loopback, and request bodies collected within a
 * bound.  A protocol gives its endpoints and the handler of each; it sees
 * only requests that passed all of this.
 *
 * Specs: RFC 9110 (HTTP semantics: 401, 403, 404, 405, 413, 429 from RFC
 * 6585), RFC 9112 (HTTP/1.1), RFC 7617 (Basic), MS-NLMP and RFC 4559
 * (NTLM over HTTP), RFC 2818 and RFC 8996
 * (HTTPS, TLS 1.2 or newer).
 *
 * Over plain HTTP, only a client on loopback may log in: any other is
 * answered 403 before its credentials are looked at, and never 401, whose
 * challenge would have it send (or send again) its password in the clear;
 * 403 is also what Exchange's own web server answers a plain HTTP request
 * that needs TLS, and clients show it as an error rather than ask again.
 *
 * libmicrohttpd runs a thread per connection, so the slow answer to a
 * failed login (serve_auth_failed) only holds up the client that failed.
 * Credentials are checked before the body is read, and an unauthenticated
 * body is read and dropped rather than kept, so that nobody who has not
 * logged in can make the server hold more than a request header.
 *
 * Ownership: the server borrows the context, the endpoint table and `data`
 * until serve_http_stop(); a request and what it points to are borrowed by
 * the handler for the call; a reply's members are owned by the reply.
 */
#ifndef MFS_SERVE_HTTP_H
#define MFS_SERVE_HTTP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "serve.h"

struct serve_http_req {
	const char *method;		/* "POST" */
	const char *path;		/* without the query */
	const char *user;		/* who logged in */
	const char *body;		/* NUL-terminated for convenience */
	size_t body_len;
	void *conn;			/* for serve_http_header() */
};

/* The value of request header `name` (any case), or NULL; borrowed for
 * the handler's call. */
const char *serve_http_header(const struct serve_http_req *req,
			      const char *name);
/* The value of query argument `name`, or NULL; borrowed likewise. */
const char *serve_http_query(const struct serve_http_req *req,
			     const char *name);

struct serve_http_reply {
	unsigned status;		/* 200 unless set */
	char *content_type;		/* owned */
	GPtrArray *headers;		/* owned; name, value, name, value...
					   (each owned); may repeat a name
					   (Set-Cookie) */
	GString *body;			/* owned */
};

/* Add a header to `rep` (copies both). */
void serve_http_reply_header(struct serve_http_reply *rep, const char *name,
			     const char *value);

/*
 * One endpoint.  `path` matches the request's path case-insensitively,
 * whole or, with `prefix`, as its start.  Only the methods in `methods`
 * (a NULL-terminated list) are served; others get 405 once the client has
 * logged in (before, whatever the method, 401).  `body_max`: most
 * bytes of a request body (413 past it).  `handle` fills `rep` (status,
 * type, headers, body); it runs on the connection's thread.  `fault`
 * writes the body of the server's own refusals (401, 403, 404, 405, 413,
 * 429) in the endpoint's dialect, setting rep->content_type too.
 */
struct serve_http_endpoint {
	const char *path;
	bool prefix;
	const char *const *methods;
	size_t body_max;
	void (*handle)(void *data, const struct serve_http_req *req,
		       struct serve_http_reply *rep);
	void (*fault)(void *data, unsigned status, const char *text,
		      struct serve_http_reply *rep);
};

struct serve_http;	/* opaque */

/*
 * Serve `eps` (n of them, borrowed) on `addr`, over HTTPS with the
 * context's PEM files when `tls`, for at most `max_clients` connections.
 * `proto` names the protocol in logs and messages ("ews"), `tls_option`
 * the option that asks for it over TLS ("--ewss").  Returns 0 with the
 * server in *srv_r (caller owns, serve_http_stop) and the address bound
 * in *where_r (caller owns), or -errno with a sentence in *why_r (caller
 * owns): -ENOTSUP when libmicrohttpd was built without TLS.
 */
int serve_http_start(const struct serve_ctx *ctx, const char *addr, bool tls,
		     unsigned max_clients, const char *proto,
		     const char *tls_option,
		     const struct serve_http_endpoint *eps, size_t n,
		     void *data, struct serve_http **srv_r, char **where_r,
		     char **why_r);

/* Stop listening, finish the requests under way, free. */
void serve_http_stop(struct serve_http **srv);

#endif
