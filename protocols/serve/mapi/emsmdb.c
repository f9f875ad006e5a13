/*
 * emsmdb.c - the bodies of the EMSMDB requests: Connect, Execute,
 * Disconnect (NotificationWait is notify.c's).
 *
 * Specs: MS-OXCMAPIHTTP 2.2.4.1-4 (the request and response bodies);
 * MS-OXCRPC 2.2.2.1 and 3.1.4.2 (an Execute's RopBuffer is a chain of
 * extended buffers, each holding a ROP buffer; the response is one
 * extended buffer flagged Last, here never compressed nor obfuscated,
 * which every client takes; ecRpcFormat for a buffer that does not hold
 * together).
 */
#include <errno.h>
#include <string.h>

#include "wire/mapi-http.h"
#include "wire/mapi-lz77.h"
#include "mapid-private.h"

#define EC_RPC_FORMAT 0x000004B6U

/* What Connect tells the client of its polling (MS-OXCMAPIHTTP
 * 2.2.4.1.2): poll at most this often, retry so many times, so long
 * apart (milliseconds). */
#define POLLS_MAX	60000
#define RETRY_COUNT	6
#define RETRY_DELAY	10000

uint32_t mapid_connect(struct mapid_session *s, const uint8_t *body,
		       size_t len, GByteArray *out)
{
	struct mapi_connect_req q;
	struct mapi_connect_resp r = {
		.polls_max = POLLS_MAX, .retry_count = RETRY_COUNT,
		.retry_delay = RETRY_DELAY, .dn_prefix = (char *)"",
		.display_name = s->display_name,
	};

	if (mapi_connect_req_read(&q, body, len) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	mapi_connect_req_clear(&q);
	if (mapi_connect_resp_write(out, &r) < 0)
		return MAPI_RC_UNKNOWN_FAILURE;
	return 0;
}

/* The ROP buffers of the request, each run, the response of each in an
 * extended buffer of its own, the last flagged Last.  Returns 0 or an
 * ErrorCode for the response. */
static uint32_t run_chain(const struct serve_ctx *ctx,
			  struct mapid_session *s,
			  const struct mapi_execute_req *q, GByteArray *rop)
{
	GPtrArray *payloads = NULL;
	size_t max = q->max_rop_out, used = 0;
	uint32_t ec = 0;

	if (mapi_rpcext_read_chain(q->rop.p, q->rop.len, MAPID_BODY_MAX,
				   &payloads) < 0 || payloads->len == 0) {
		if (payloads)
			g_ptr_array_unref(payloads);
		return EC_RPC_FORMAT;
	}
	for (guint i = 0; i < payloads->len && !ec; i++) {
		GByteArray *p = payloads->pdata[i];
		g_autoptr(GByteArray) plain = g_byte_array_new();
		size_t room = max > used + MAPI_RPCEXT_HEADER_SIZE
			? max - used - MAPI_RPCEXT_HEADER_SIZE : 0;

		if (room > MAPI_RPCEXT_MAX_PAYLOAD)
			room = MAPI_RPCEXT_MAX_PAYLOAD;
		if (mapid_rops_run(ctx, s, p->data, p->len, room, plain) < 0 ||
		    mapi_rpcext_write(rop, plain->data, plain->len,
				      i + 1 == payloads->len
				      ? MAPI_RPCEXT_LAST : 0) < 0)
			ec = EC_RPC_FORMAT;
		used = rop->len;
	}
	g_ptr_array_unref(payloads);
	return ec;
}

uint32_t mapid_execute(const struct serve_ctx *ctx, struct mapid_session *s,
		       const uint8_t *body, size_t len, GByteArray *out)
{
	struct mapi_execute_req q;
	struct mapi_execute_resp r = { 0 };
	g_autoptr(GByteArray) rop = g_byte_array_new();

	if (mapi_execute_req_read(&q, body, len) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	r.error_code = run_chain(ctx, s, &q, rop);
	if (!r.error_code) {
		r.rop.p = rop->data;
		r.rop.len = rop->len;
	}
	if (mapi_execute_resp_write(out, &r) < 0)
		return MAPI_RC_UNKNOWN_FAILURE;
	return 0;
}

uint32_t mapid_disconnect(const uint8_t *body, size_t len, GByteArray *out)
{
	struct mapi_disconnect_req q;
	struct mapi_disconnect_resp r = { 0 };

	if (mapi_disconnect_req_read(&q, body, len) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	if (mapi_disconnect_resp_write(out, &r) < 0)
		return MAPI_RC_UNKNOWN_FAILURE;
	return 0;
}
