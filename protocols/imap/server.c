/*
 * server.c - the embedded IMAP server (placeholder until its commands
 * land): greets and says it cannot serve yet.
 */
#include "serve.h"

static void imap_session(const struct serve_ctx *ctx, struct serve_conn *c)
{
	serve_conn_printf(c, "* BYE IMAP is not served by this version\r\n");
	serve_conn_flush(c);
}

const struct serve_proto imap_server_proto = {
	.name = "imap",
	.session = imap_session,
	.busy_line = "* BYE too many connections\r\n",
	.timeout_ms = 30 * 60 * 1000,
};
