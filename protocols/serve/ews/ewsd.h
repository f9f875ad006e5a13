/*
 * ewsd.h - the embedded Exchange Web Services server of
 * `mailfs serve`: SOAP over HTTP at /EWS/Exchange.asmx.
 *
 * It shares the store, the credentials and their throttling with the
 * other servers (serve.h) but brings its own HTTP listener, so it is
 * started and stopped on its own.
 */
#ifndef MFS_EWS_SERVER_H
#define MFS_EWS_SERVER_H

#include "serve/serve.h"

struct ewsd_server;	/* opaque */

/*
 * Listen on `addr` (as serve_listen() takes it) and serve until
 * ewsd_stop().  `ctx` is borrowed until then.  Logs the address it
 * bound ("ews: listening on HOST:PORT").  Returns 0 with *srv_r (caller
 * owns), or -errno with a sentence in *why_r (caller owns).
 */
int ewsd_start(const struct serve_ctx *ctx, const char *addr,
		     unsigned max_clients, struct ewsd_server **srv_r,
		     char **why_r);

/*
 * The same over HTTPS with the certificate chain and key in the PEM files
 * given (read once, at start).  -ENOTSUP with a sentence when
 * libmicrohttpd was built without TLS.  Logs "ews (TLS): listening on
 * HOST:PORT".
 */
int ewsd_start_tls(const struct serve_ctx *ctx, const char *addr,
			 unsigned max_clients, const char *cert_file,
			 const char *key_file, struct ewsd_server **srv_r,
			 char **why_r);

/* Stop listening, finish the requests under way, free; clears *srv. */
void ewsd_stop(struct ewsd_server **srv);

#endif
