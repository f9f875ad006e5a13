/*
 * test-mapi-http.c - wire/mapi-http.h and the RPC_HEADER_EXT chains of
 * wire/mapi-lz77.h against the recorded exchanges of a real server
 * (tests/data/mapi-traces/): every Connect, Execute, Disconnect and
 * NotificationWait request and response read, checked against the
 * recording and written back byte for byte; the meta-tags of every
 * response read one byte at a time and in random pieces; the failure
 * responses; every body cut at every length.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-http.h"
#include "wire/mapi-lz77.h"
#include "mapi-trace.h"

/* The scenarios whose EMSMDB exchanges are read here. */
static const char *const emsmdb_traces[] = {
	"00-setup", "01-connect-logon", "02-hierarchy", "03-contents",
	"04-read-message", "05-write", "06-folders", "07-notifications",
	"08-ics", "11-errors",
};

static uint64_t hex_member(JsonObject *o, const char *name)
{
	const char *s = json_object_get_string_member(o, name);

	g_assert_nonnull(s);
	g_assert_true(g_str_has_prefix(s, "0x"));
	return g_ascii_strtoull(s + 2, NULL, 16);
}

static int64_t int_member(JsonObject *o, const char *name)
{
	g_assert_true(json_object_has_member(o, name));
	return json_object_get_int_member(o, name);
}

static enum mapi_req req_type(const struct mapi_trace_exchange *x)
{
	return mapi_req_from_name(mapi_trace_req_header(x, "X-RequestType"));
}

/* A successful MAPI/HTTP exchange: 200 and X-ResponseCode 0. */
static bool succeeded(const struct mapi_trace_exchange *x)
{
	const char *rc = mapi_trace_resp_header(x, "X-ResponseCode");

	return x->status == 200 && rc && !strcmp(rc, "0");
}

static void assert_bytes(const GByteArray *b, const void *p, size_t len)
{
	g_assert_cmpmem(b->data, b->len, p, len);
}

/* Read an RPC_HEADER_EXT chain, check each header against the recorder's
 * list (when given) and write it again: the same bytes.  Returns the
 * payloads. */
static GPtrArray *chain_round_trip(const struct mapi_bytes *run,
				   JsonArray *recorded)
{
	GPtrArray *parts = NULL;
	GByteArray *b = g_byte_array_new();
	struct mapi_rd r;
	guint i;

	g_assert_cmpint(mapi_rpcext_read_chain(run->p, run->len, 1 << 20,
					       &parts), ==, 0);
	g_assert_nonnull(parts);
	if (recorded)
		g_assert_cmpuint(json_array_get_length(recorded), ==,
				 parts->len);
	mapi_rd_init(&r, run->p, run->len);
	for (i = 0; i < parts->len; i++) {
		GByteArray *one = parts->pdata[i];
		struct mapi_rpcext h;
		GByteArray *again = g_byte_array_new();

		g_assert_cmpint(mapi_rpcext_read(&r, 1 << 20, &h, again), ==,
				0);
		assert_bytes(again, one->data, one->len);
		g_byte_array_unref(again);
		if (recorded) {
			JsonObject *o = json_array_get_object_element(
				recorded, i);

			g_assert_cmpint(h.version, ==,
					int_member(o, "Version"));
			g_assert_cmpuint(h.flags, ==, hex_member(o, "Flags"));
			g_assert_cmpint(h.size, ==, int_member(o, "Size"));
			g_assert_cmpint(h.size_actual, ==,
					int_member(o, "SizeActual"));
		}
		/* gromox neither compresses nor obfuscates */
		g_assert_cmpuint(h.flags & (MAPI_RPCEXT_COMPRESSED |
					    MAPI_RPCEXT_XOR_MAGIC), ==, 0);
		g_assert_cmpint(mapi_rpcext_write(b, one->data, one->len,
						  h.flags), ==, 0);
	}
	assert_bytes(b, run->p, run->len);

	/* and through compression and obfuscation the payloads survive */
	g_byte_array_set_size(b, 0);
	for (i = 0; i < parts->len; i++) {
		GByteArray *one = parts->pdata[i];

		g_assert_cmpint(mapi_rpcext_write(b, one->data, one->len,
			MAPI_RPCEXT_COMPRESSED | MAPI_RPCEXT_XOR_MAGIC |
			(i + 1 == parts->len ? MAPI_RPCEXT_LAST : 0)), ==, 0);
	}
	if (parts->len) {
		GPtrArray *back = NULL;

		g_assert_cmpint(mapi_rpcext_read_chain(b->data, b->len,
						       1 << 20, &back), ==, 0);
		g_assert_cmpuint(back->len, ==, parts->len);
		for (i = 0; i < parts->len; i++) {
			GByteArray *x = parts->pdata[i], *y = back->pdata[i];

			g_assert_cmpmem(x->data, x->len, y->data, y->len);
		}
		g_ptr_array_unref(back);
	}
	g_byte_array_unref(b);
	return parts;
}

/* The payload of an Execute's extended buffer begins with RopSize, the
 * size of itself and the ROPs; the handle table fills the rest. */
static void check_rop_payload(const GByteArray *one, int64_t rop_size,
			      JsonArray *handles)
{
	g_assert_cmpuint(one->len, >=, 2);
	g_assert_cmpint(one->data[0] | one->data[1] << 8, ==, rop_size);
	if (handles)
		g_assert_cmpuint(one->len, ==, (size_t)rop_size +
				 4 * json_array_get_length(handles));
}

/* The blocks of the recorded Connect response's auxiliary payload, read
 * and written back. */
static void check_aux_blocks(const GByteArray *payload)
{
	static const uint8_t types[] = { 0x17, 0x0A, 0x48 };
	static const size_t sizes[] = { 4, 8, 4 };
	struct mapi_aux_block blk;
	GByteArray *b = g_byte_array_new();
	struct mapi_rd r;
	size_t i, n = 0;
	int rc;

	g_assert_cmpuint(payload->len, ==, 28);
	mapi_rd_init(&r, payload->data, payload->len);
	while ((rc = mapi_aux_next(&r, &blk)) == 1) {
		g_assert_cmpuint(n, <, 3);
		g_assert_cmpuint(blk.version, ==, 1);
		g_assert_cmpuint(blk.type, ==, types[n]);
		g_assert_cmpuint(blk.data.len, ==, sizes[n]);
		g_assert_cmpint(mapi_aux_write(b, blk.version, blk.type,
					       blk.data.p, blk.data.len), ==,
				0);
		n++;
	}
	g_assert_cmpint(rc, ==, 0);
	g_assert_cmpuint(n, ==, 3);
	assert_bytes(b, payload->data, payload->len);
	/* cut anywhere inside a block: an error */
	for (i = 1; i < payload->len; i++) {
		if (i == 8 || i == 20)
			continue;
		mapi_rd_init(&r, payload->data, i);
		while ((rc = mapi_aux_next(&r, &blk)) == 1)
			;
		g_assert_cmpint(rc, ==, -EBADMSG);
	}
	g_byte_array_unref(b);
}

static void check_connect(struct mapi_trace *t,
			  const struct mapi_trace_exchange *x,
			  const uint8_t *bin, size_t len)
{
	struct mapi_connect_req q;
	struct mapi_connect_resp s;
	GByteArray *b = g_byte_array_new();
	GPtrArray *aux;

	g_assert_cmpint(mapi_connect_req_read(&q, x->req, x->req_len), ==, 0);
	g_assert_cmpstr(q.user_dn, ==, json_object_get_string_member(
		mapi_trace_root(t), "user_dn"));
	g_assert_cmpuint(q.flags, ==, 0);
	g_assert_cmpuint(q.cpid, ==, 1252);
	g_assert_cmpuint(q.lcid_sort, ==, 0x409);
	g_assert_cmpuint(q.lcid_string, ==, 0x409);
	g_assert_cmpuint(q.aux.len, ==, 0);
	g_assert_cmpint(mapi_connect_req_write(b, &q), ==, 0);
	assert_bytes(b, x->req, x->req_len);
	mapi_connect_req_clear(&q);

	g_byte_array_set_size(b, 0);
	g_assert_cmpint(mapi_connect_resp_read(&s, bin, len), ==, 0);
	g_assert_cmpint(s.status, ==, int_member(x->decoded, "StatusCode"));
	g_assert_cmpuint(s.error_code, ==, hex_member(x->decoded,
						      "ErrorCode"));
	g_assert_cmpint(s.polls_max, ==, int_member(x->decoded,
						    "PollsMax_ms"));
	g_assert_cmpint(s.retry_count, ==, int_member(x->decoded,
						      "RetryCount"));
	g_assert_cmpint(s.retry_delay, ==, int_member(x->decoded,
						      "RetryDelay_ms"));
	g_assert_cmpstr(s.dn_prefix, ==, json_object_get_string_member(
		x->decoded, "DnPrefix"));
	g_assert_cmpstr(s.display_name, ==, "Alice Test");
	g_assert_cmpstr(s.display_name, ==, json_object_get_string_member(
		x->decoded, "DisplayName"));
	g_assert_cmpint(s.aux.len, ==, int_member(x->decoded,
						  "AuxiliaryBufferSize"));
	g_assert_cmpint(mapi_connect_resp_write(b, &s), ==, 0);
	assert_bytes(b, bin, len);
	/* the 36-byte auxiliary buffer: one extended buffer, Last, of
	 * three blocks */
	aux = chain_round_trip(&s.aux, NULL);
	g_assert_cmpuint(aux->len, ==, 1);
	check_aux_blocks(aux->pdata[0]);
	g_ptr_array_unref(aux);
	mapi_connect_resp_clear(&s);
	g_byte_array_unref(b);
}

/* The recorder's reading of a request, or NULL. */
static JsonObject *request_decoded(struct mapi_trace *t, size_t i)
{
	JsonObject *o = json_array_get_object_element(
		json_object_get_array_member(mapi_trace_root(t), "exchanges"),
		(guint)i);
	JsonNode *n = json_object_get_member(o, "request_decoded");

	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static void check_execute(const struct mapi_trace_exchange *x, JsonObject *qd,
			  const uint8_t *bin, size_t len)
{
	struct mapi_execute_req q;
	struct mapi_execute_resp s;
	GByteArray *b = g_byte_array_new();
	GPtrArray *parts;

	g_assert_nonnull(qd);
	g_assert_cmpint(mapi_execute_req_read(&q, x->req, x->req_len), ==, 0);
	g_assert_cmpint(q.flags, ==, int_member(qd, "Flags"));
	g_assert_cmpint(q.max_rop_out, ==, int_member(qd, "MaxRopOut"));
	g_assert_cmpuint(q.aux.len, ==, 0);
	g_assert_cmpint(mapi_execute_req_write(b, &q), ==, 0);
	assert_bytes(b, x->req, x->req_len);
	parts = chain_round_trip(&q.rop, NULL);
	g_assert_cmpuint(parts->len, ==, 1);
	g_assert_cmpuint(((GByteArray *)parts->pdata[0])->len, >=, 2);
	check_rop_payload(parts->pdata[0],
			  ((GByteArray *)parts->pdata[0])->data[0] |
			  ((GByteArray *)parts->pdata[0])->data[1] << 8,
			  json_object_get_array_member(
				  qd, "ServerObjectHandleTable_in"));
	g_ptr_array_unref(parts);

	g_byte_array_set_size(b, 0);
	g_assert_cmpint(mapi_execute_resp_read(&s, bin, len), ==, 0);
	g_assert_cmpint(s.status, ==, int_member(x->decoded, "StatusCode"));
	g_assert_cmpuint(s.error_code, ==, hex_member(x->decoded,
						      "ErrorCode"));
	g_assert_cmpint(s.flags, ==, int_member(x->decoded, "Flags"));
	g_assert_cmpint(s.rop.len, ==, int_member(x->decoded,
						  "RopBufferSize"));
	g_assert_cmpint(s.aux.len, ==, int_member(x->decoded,
						  "AuxiliaryBufferSize"));
	g_assert_cmpint(mapi_execute_resp_write(b, &s), ==, 0);
	assert_bytes(b, bin, len);
	parts = chain_round_trip(&s.rop, json_object_get_array_member(
		x->decoded, "RPC_HEADER_EXT"));
	check_rop_payload(parts->pdata[0], int_member(x->decoded, "RopSize"),
			  json_object_get_array_member(
				  x->decoded, "ServerObjectHandleTable"));
	g_ptr_array_unref(parts);
	g_byte_array_unref(b);
}

static void check_disconnect(const struct mapi_trace_exchange *x,
			     const uint8_t *bin, size_t len)
{
	struct mapi_disconnect_req q;
	struct mapi_disconnect_resp s;
	GByteArray *b = g_byte_array_new();

	g_assert_cmpint(mapi_disconnect_req_read(&q, x->req, x->req_len), ==,
			0);
	g_assert_cmpuint(q.aux.len, ==, 0);
	g_assert_cmpint(mapi_disconnect_req_write(b, &q), ==, 0);
	assert_bytes(b, x->req, x->req_len);

	g_byte_array_set_size(b, 0);
	g_assert_cmpint(mapi_disconnect_resp_read(&s, bin, len), ==, 0);
	g_assert_cmpint(s.status, ==, int_member(x->decoded, "StatusCode"));
	g_assert_cmpuint(s.error_code, ==, hex_member(x->decoded,
						      "ErrorCode"));
	g_assert_cmpint(s.aux.len, ==, int_member(x->decoded,
						  "AuxiliaryBufferSize"));
	g_assert_cmpint(mapi_disconnect_resp_write(b, &s), ==, 0);
	assert_bytes(b, bin, len);
	g_byte_array_unref(b);
}

static void check_nwait(const struct mapi_trace_exchange *x,
			const uint8_t *bin, size_t len)
{
	struct mapi_nwait_req q;
	struct mapi_nwait_resp s;
	GByteArray *b = g_byte_array_new();

	g_assert_cmpint(mapi_nwait_req_read(&q, x->req, x->req_len), ==, 0);
	g_assert_cmpuint(q.flags, ==, 0);
	g_assert_cmpuint(q.aux.len, ==, 0);
	g_assert_cmpint(mapi_nwait_req_write(b, &q), ==, 0);
	assert_bytes(b, x->req, x->req_len);

	g_byte_array_set_size(b, 0);
	g_assert_cmpint(mapi_nwait_resp_read(&s, bin, len), ==, 0);
	g_assert_cmpint(s.status, ==, int_member(x->decoded, "StatusCode"));
	g_assert_cmpuint(s.error_code, ==, hex_member(x->decoded,
						      "ErrorCode"));
	g_assert_cmpint(s.event_pending, ==, 1);
	g_assert_cmpint(s.event_pending, ==, int_member(x->decoded,
							"EventPending"));
	g_assert_cmpint(s.aux.len, ==, int_member(x->decoded,
						  "AuxiliaryBufferSize"));
	g_assert_cmpint(mapi_nwait_resp_write(b, &s), ==, 0);
	assert_bytes(b, bin, len);
	g_byte_array_unref(b);
}

/* The reader of type `t`'s request (resp false) or response body; 0 or
 * -errno, everything it allocated freed. */
static int read_body(enum mapi_req t, bool resp, const void *p, size_t len)
{
	union {
		struct mapi_connect_req cq;
		struct mapi_connect_resp cs;
		struct mapi_execute_req eq;
		struct mapi_execute_resp es;
		struct mapi_disconnect_req dq;
		struct mapi_disconnect_resp ds;
		struct mapi_nwait_req nq;
		struct mapi_nwait_resp ns;
	} u;
	int rc = -EINVAL;

	switch (t) {
	case MAPI_REQ_CONNECT:
		if (resp) {
			rc = mapi_connect_resp_read(&u.cs, p, len);
			mapi_connect_resp_clear(&u.cs);
		} else {
			rc = mapi_connect_req_read(&u.cq, p, len);
			mapi_connect_req_clear(&u.cq);
		}
		break;
	case MAPI_REQ_EXECUTE:
		rc = resp ? mapi_execute_resp_read(&u.es, p, len)
			  : mapi_execute_req_read(&u.eq, p, len);
		break;
	case MAPI_REQ_DISCONNECT:
		rc = resp ? mapi_disconnect_resp_read(&u.ds, p, len)
			  : mapi_disconnect_req_read(&u.dq, p, len);
		break;
	case MAPI_REQ_NOTIFICATION_WAIT:
		rc = resp ? mapi_nwait_resp_read(&u.ns, p, len)
			  : mapi_nwait_req_read(&u.nq, p, len);
		break;
	default:
		g_assert_not_reached();
	}
	return rc;
}

/* Every shorter body fails, and so does one with a byte more. */
static void check_truncations(enum mapi_req t, bool resp, const uint8_t *p,
			      size_t len)
{
	uint8_t *longer = g_malloc(len + 1);
	size_t i;

	for (i = 0; i < len; i++)
		g_assert_cmpint(read_body(t, resp, p, i), <, 0);
	memcpy(longer, p, len);
	longer[len] = 0;
	g_assert_cmpint(read_body(t, resp, longer, len + 1), ==, -EBADMSG);
	g_free(longer);
}

/* Feed the body to a meta-tag reader in pieces of `step` bytes (0: random
 * sizes); the events as letters ("PPD" for PROCESSING PROCESSING DONE) and
 * where the binary part starts. */
static char *meta_events(const uint8_t *p, size_t len, size_t step,
			 struct mapi_meta_rd *m, size_t *bin_r)
{
	GString *ev = g_string_new(NULL);
	size_t off = 0;

	mapi_meta_init(m, 128, 100);
	*bin_r = 0;
	while (off < len) {
		size_t n = step ? step : (size_t)g_test_rand_int_range(1, 40);
		size_t used;
		int rc;

		if (n > len - off)
			n = len - off;
		rc = mapi_meta_feed(m, p + off, n, &used);
		g_assert_cmpint(rc, >=, 0);
		g_assert_cmpuint(used, <=, n);
		off += used;
		if (rc == MAPI_META_BINARY) {
			*bin_r = off;
			break;
		}
		if (rc == MAPI_META_MORE)
			g_assert_cmpuint(used, ==, n);
		else
			g_string_append_c(ev, "-PND"[rc - 0]);
	}
	return g_string_free(ev, FALSE);
}

/* The meta-tags of a recorded response: the same events whatever the
 * pieces, the recorded list, the binary part where the recording says,
 * and the writer's form the same bytes. */
static void check_meta(const struct mapi_trace_exchange *x)
{
	JsonArray *tags = json_object_get_array_member(x->response, "mh_meta");
	GString *want = g_string_new(NULL);
	GByteArray *b = g_byte_array_new();
	struct mapi_meta_rd m;
	size_t steps[] = { 1, 2, 7, SIZE_MAX, 0, 0, 0 }, i, bin;
	guint k;

	for (k = 0; k < json_array_get_length(tags); k++) {
		const char *tag = json_array_get_string_element(tags, k);

		if (!strcmp(tag, "PROCESSING"))
			g_string_append_c(want, 'P');
		else if (!strcmp(tag, "PENDING"))
			g_string_append_c(want, 'N');
		else if (!strcmp(tag, "DONE"))
			g_string_append_c(want, 'D');
	}
	for (i = 0; i < G_N_ELEMENTS(steps); i++) {
		char *ev = meta_events(x->resp, x->resp_len, steps[i], &m,
				       &bin);

		g_assert_cmpstr(ev, ==, want->str);
		g_assert_cmpuint(bin, ==, x->resp_bin_off);
		g_free(ev);
	}
	g_assert_true(m.have_elapsed);
	/* at once, and cut anywhere before the binary part */
	g_assert_cmpint(mapi_meta_split(x->resp, x->resp_len, 128, 100, NULL,
					&bin), ==, 0);
	g_assert_cmpuint(bin, ==, x->resp_bin_off);
	for (i = 0; i < x->resp_bin_off; i++)
		g_assert_cmpint(mapi_meta_split(x->resp, i, 128, 100, NULL,
						&bin), ==, -EBADMSG);
	/* fewer keep-alives allowed than sent */
	if (want->len > 2)
		g_assert_cmpint(mapi_meta_split(x->resp, x->resp_len, 128, 1,
						NULL, &bin), ==, -ETIMEDOUT);
	for (k = 0; k < json_array_get_length(tags); k++) {
		const char *tag = json_array_get_string_element(tags, k);

		if (g_str_has_prefix(tag, "X-StartTime: "))
			g_assert_cmpstr(m.start_time, ==, tag + 13);
		if (g_str_has_prefix(tag, "X-ElapsedTime: "))
			g_assert_cmpuint(m.elapsed, ==,
					 g_ascii_strtoull(tag + 15, NULL, 10));
	}
	/* the server's writer gives the same bytes */
	for (i = 0; i + 1 < want->len; i++)
		mapi_meta_write_keepalive(b, want->str[i] == 'N');
	mapi_meta_write_done(b, m.elapsed, m.start_time);
	assert_bytes(b, x->resp, x->resp_bin_off);
	g_byte_array_unref(b);
	g_string_free(want, TRUE);
}

/* Every recorded EMSMDB exchange of the scenarios this codec covers. */
static void test_recorded(void)
{
	unsigned counts[MAPI_REQ_COUNT] = { 0 };
	size_t f, i;

	for (f = 0; f < G_N_ELEMENTS(emsmdb_traces); f++) {
		struct mapi_trace *t = mapi_trace_load(emsmdb_traces[f]);

		for (i = 0; i < mapi_trace_count(t); i++) {
			const struct mapi_trace_exchange *x =
				mapi_trace_at(t, i);
			enum mapi_req type = req_type(x);
			const uint8_t *bin;
			size_t len;

			if (!succeeded(x))
				continue;
			g_assert_cmpuint(x->resp_bin_off, >, 0);
			g_assert_cmpstr(mapi_trace_resp_header(
				x, "Content-Type"), ==,
				MAPI_HTTP_CONTENT_TYPE);
			check_meta(x);
			bin = x->resp + x->resp_bin_off;
			len = x->resp_len - x->resp_bin_off;
			switch (type) {
			case MAPI_REQ_CONNECT:
				check_connect(t, x, bin, len);
				break;
			case MAPI_REQ_EXECUTE:
				check_execute(x, request_decoded(t, i), bin,
					      len);
				break;
			case MAPI_REQ_DISCONNECT:
				check_disconnect(x, bin, len);
				break;
			case MAPI_REQ_NOTIFICATION_WAIT:
				check_nwait(x, bin, len);
				break;
			default:
				g_assert_not_reached();
			}
			check_truncations(type, false, x->req, x->req_len);
			check_truncations(type, true, bin, len);
			counts[type]++;
		}
		mapi_trace_free(t);
	}
	/* what the scenarios hold (README): nothing skipped unseen */
	g_assert_cmpuint(counts[MAPI_REQ_CONNECT], ==, 10);
	g_assert_cmpuint(counts[MAPI_REQ_DISCONNECT], ==, 10);
	g_assert_cmpuint(counts[MAPI_REQ_NOTIFICATION_WAIT], ==, 1);
	g_assert_cmpuint(counts[MAPI_REQ_EXECUTE], ==, 144);
}

/* The transport-level failures of 11-errors: X-ResponseCode values and
 * the diagnostic sentence of their text/html bodies. */
static void test_recorded_failures(void)
{
	static const struct {
		int seq;
		uint32_t rc;
		const char *text;
	} want[] = {
		{ 2, 6, "The request is missing a required cookie." },
		{ 3, 1, "The request has an invalid verb." },
		{ 10, 7, "The request has violated the sequencing requirement "
			 "of one request at a time per Session Context." },
		{ 12, 8, "Invalid request type for this endpoint." },
		{ 13, 7, "The request has violated the sequencing requirement "
			 "of one request at a time per Session Context." },
		{ 15, 2, "The request has an invalid session context cookie." },
		{ 16, 6, "The request is missing a required cookie." },
	};
	struct mapi_trace *t = mapi_trace_load("11-errors");
	size_t i, k = 0;

	for (i = 0; i < mapi_trace_count(t); i++) {
		const struct mapi_trace_exchange *x = mapi_trace_at(t, i);
		const char *h = mapi_trace_resp_header(x, "X-ResponseCode");
		struct mapi_meta_rd m;
		uint32_t rc;
		size_t used;
		char *text;

		if (!h || !strcmp(h, "0"))
			continue;
		g_assert_cmpuint(k, <, G_N_ELEMENTS(want));
		g_assert_cmpint(x->seq, ==, want[k].seq);
		g_assert_cmpint(mapi_rc_parse(h, &rc), ==, 0);
		g_assert_cmpuint(rc, ==, want[k].rc);
		g_assert_cmpstr(mapi_trace_resp_header(x, "Content-Type"), ==,
				"text/html");
		text = mapi_http_diag_text(x->resp, x->resp_len, 500);
		g_assert_cmpstr(text, ==, want[k].text);
		g_free(text);
		/* a client that took the page for meta-tags would fail */
		mapi_meta_init(&m, 128, 10);
		g_assert_cmpint(mapi_meta_feed(&m, x->resp, x->resp_len,
					       &used), ==, -EBADMSG);
		k++;
	}
	g_assert_cmpuint(k, ==, G_N_ELEMENTS(want));
	mapi_trace_free(t);
}

/* Every X-RequestType of the recordings, NSPI's included, is known and
 * spelled as the recording spells it; "Bogus" is not. */
static void test_request_types(void)
{
	static const char *const files[] = { "01-connect-logon", "09-nspi",
					     "07-notifications",
					     "11-errors" };
	size_t f, i;

	for (f = 0; f < G_N_ELEMENTS(files); f++) {
		struct mapi_trace *t = mapi_trace_load(files[f]);

		for (i = 0; i < mapi_trace_count(t); i++) {
			const struct mapi_trace_exchange *x =
				mapi_trace_at(t, i);
			const char *name = mapi_trace_req_header(
				x, "X-RequestType");
			enum mapi_req type = mapi_req_from_name(name);

			if (!name)
				continue;
			if (!strcmp(name, "Bogus")) {
				g_assert_cmpint(type, ==, MAPI_REQ_UNKNOWN);
				continue;
			}
			g_assert_cmpint(type, !=, MAPI_REQ_UNKNOWN);
			g_assert_cmpstr(mapi_req_name(type), ==, name);
			g_assert_cmpint(mapi_req_is_nspi(type), ==,
					strstr(x->path, "/nspi/") != NULL);
		}
		mapi_trace_free(t);
	}
	g_assert_cmpint(mapi_req_from_name("ping"), ==, MAPI_REQ_PING);
	g_assert_cmpstr(mapi_req_name(MAPI_REQ_PING), ==, "PING");
	g_assert_null(mapi_req_name(MAPI_REQ_UNKNOWN));
	g_assert_null(mapi_req_name(MAPI_REQ_COUNT));
	g_assert_cmpint(mapi_req_from_name(NULL), ==, MAPI_REQ_UNKNOWN);
}

/* The request headers the recorder sent, built again. */
static void test_request_headers(void)
{
	struct mapi_trace *t = mapi_trace_load("01-connect-logon");
	struct mapi_http_client c = {
		.application = "Outlook/16.0.10827.20181",
	};
	struct mapi_http_headers h;
	size_t i, k;

	for (i = 0; i < 3; i++) {
		const struct mapi_trace_exchange *x = mapi_trace_at(t, i);
		const char *id = mapi_trace_req_header(x, "X-RequestId");
		const char *colon = strrchr(id, ':');
		g_autofree char *guid = g_strndup(id + 1,
						  (size_t)(colon - id - 2));

		c.request_guid = guid;
		c.client_info = guid;
		g_assert_cmpint(mapi_http_request_headers(&h, req_type(x), &c,
			g_ascii_strtoull(colon + 1, NULL, 10)), ==, 0);
		g_assert_cmpuint(h.n, ==, 5);
		for (k = 0; k < h.n; k++)
			g_assert_cmpstr(h.h[k].value, ==,
					mapi_trace_req_header(x, h.h[k].name));
		g_assert_cmpstr(h.h[0].name, ==, "Content-Type");
		g_assert_cmpstr(h.h[1].name, ==, "X-RequestType");
		mapi_http_headers_clear(&h);
		g_assert_cmpuint(h.n, ==, 0);
	}
	c.client_info = "a0000001-0000-4000-8000-000000000001";
	c.request_guid = "not-a-guid";
	g_assert_cmpint(mapi_http_request_headers(&h, MAPI_REQ_EXECUTE, &c,
						  1), ==, -EINVAL);
	c.request_guid = "a0000001-0000-4000-8000-000000000001";
	c.application = "evil\r\nX-Injected: 1";
	g_assert_cmpint(mapi_http_request_headers(&h, MAPI_REQ_EXECUTE, &c,
						  1), ==, -EINVAL);
	c.application = "x";
	g_assert_cmpint(mapi_http_request_headers(&h, MAPI_REQ_UNKNOWN, &c,
						  1), ==, -EINVAL);
	mapi_trace_free(t);
}

static void test_response_codes(void)
{
	GByteArray *b = g_byte_array_new();
	uint32_t rc, i, j;
	char *text;

	for (i = 0; i <= 18; i++) {
		g_assert_nonnull(mapi_rc_text(i));
		for (j = 0; j < i; j++)
			g_assert_cmpstr(mapi_rc_text(i), !=, mapi_rc_text(j));
	}
	g_assert_cmpstr(mapi_rc_text(MAPI_RC_INVALID_VERB), ==,
			"The request has an invalid verb.");
	g_assert_cmpstr(mapi_rc_text(19), ==, mapi_rc_text(UINT32_MAX));
	g_assert_cmpint(mapi_rc_parse("0", &rc), ==, 0);
	g_assert_cmpuint(rc, ==, 0);
	g_assert_cmpint(mapi_rc_parse(" 15 ", &rc), ==, 0);
	g_assert_cmpuint(rc, ==, 15);
	g_assert_cmpint(mapi_rc_parse("4294967295", &rc), ==, 0);
	g_assert_cmpint(mapi_rc_parse("4294967296", &rc), ==, -EBADMSG);
	g_assert_cmpint(mapi_rc_parse("", &rc), ==, -EBADMSG);
	g_assert_cmpint(mapi_rc_parse("-1", &rc), ==, -EBADMSG);
	g_assert_cmpint(mapi_rc_parse("7x", &rc), ==, -EBADMSG);
	g_assert_cmpint(mapi_rc_parse(NULL, &rc), ==, -EBADMSG);

	/* the server's page reads back as its code's text */
	mapi_http_write_diag_page(b, MAPI_RC_MISSING_COOKIE);
	text = mapi_http_diag_text(b->data, b->len, 500);
	g_assert_cmpstr(text, ==, mapi_rc_text(MAPI_RC_MISSING_COOKIE));
	g_free(text);
	text = mapi_http_diag_text(b->data, b->len, 11);
	g_assert_cmpstr(text, ==, "The request");
	g_free(text);
	/* plain text, no markup; and nothing at all */
	text = mapi_http_diag_text("Unauthorized\r\n", 14, 100);
	g_assert_cmpstr(text, ==, "Unauthorized");
	g_free(text);
	g_assert_null(mapi_http_diag_text("<p> </p>", 8, 100));
	g_assert_null(mapi_http_diag_text("", 0, 100));
	text = mapi_http_diag_text("<p>caf\xe9</p>", 11, 100);
	g_assert_true(g_utf8_validate(text, -1, NULL));
	g_free(text);
	g_byte_array_unref(b);
}

/* Feed a whole string; the first event or error. */
static int feed_all(struct mapi_meta_rd *m, const char *s, size_t *used_r)
{
	return mapi_meta_feed(m, s, strlen(s), used_r);
}

static void test_meta_limits(void)
{
	struct mapi_meta_rd m;
	size_t used, i;
	char *line;
	int rc = 0;

	/* keep-alives forever: an error after the caller's limit */
	mapi_meta_init(&m, 64, 5);
	for (i = 0; i < 5; i++) {
		g_assert_cmpint(feed_all(&m, "PENDING\r\n", &used), ==,
				MAPI_META_PENDING);
		g_assert_cmpuint(used, ==, 9);
	}
	g_assert_cmpint(feed_all(&m, "PENDING\r\n", &used), ==, -ETIMEDOUT);
	g_assert_cmpint(feed_all(&m, "DONE\r\n", &used), ==, -EBADMSG);

	/* a line without end */
	mapi_meta_init(&m, 64, 5);
	line = g_strnfill(10000, 'P');
	for (i = 0; i < 10000 && rc == 0; i++)
		rc = mapi_meta_feed(&m, line + i, 1, &used);
	g_assert_cmpint(rc, ==, -EMSGSIZE);
	g_assert_cmpuint(i, ==, 66);
	g_free(line);
	/* exactly the limit is allowed, with or without CR */
	mapi_meta_init(&m, 7, 5);
	g_assert_cmpint(feed_all(&m, "PENDING\r\n", &used), ==,
			MAPI_META_PENDING);
	g_assert_cmpint(feed_all(&m, "PENDING\n", &used), ==,
			MAPI_META_PENDING);
	mapi_meta_init(&m, 6, 5);
	g_assert_cmpint(feed_all(&m, "PENDING\r\n", &used), ==, -EMSGSIZE);

	/* not a meta-tag, a NUL, a header line without a name */
	mapi_meta_init(&m, 64, 5);
	g_assert_cmpint(feed_all(&m, "HELLO\r\n", &used), ==, -EBADMSG);
	mapi_meta_init(&m, 64, 5);
	g_assert_cmpint(mapi_meta_feed(&m, "PROC\0ESSING\r\n", 13, &used),
			==, -EBADMSG);
	mapi_meta_init(&m, 64, 5);
	g_assert_cmpint(feed_all(&m, "DONE\r\n: x\r\n", &used), ==,
			MAPI_META_DONE);
	g_assert_cmpint(feed_all(&m, ": x\r\n", &used), ==, -EBADMSG);
	/* too many header lines */
	mapi_meta_init(&m, 64, 5);
	g_assert_cmpint(feed_all(&m, "DONE\r\n", &used), ==, MAPI_META_DONE);
	for (i = 0; i < MAPI_META_HEADERS_MAX; i++)
		g_assert_cmpint(feed_all(&m, "X-A: b\r\n", &used), ==,
				MAPI_META_MORE);
	g_assert_cmpint(feed_all(&m, "X-A: b\r\n", &used), ==, -EMSGSIZE);

	/* PENDING counts, unknown headers are skipped, and after the empty
	 * line the rest is the binary part, not consumed */
	mapi_meta_init(&m, 64, 5);
	g_assert_cmpint(feed_all(&m, "PROCESSING\r\nPENDING\r\nDONE\r\n"
				 "X-Other: 1\r\nX-ElapsedTime: 12\r\n\r\n\x01\x02",
				 &used), ==, MAPI_META_PROCESSING);
	g_assert_cmpuint(used, ==, 12);
	g_assert_cmpint(feed_all(&m, "PENDING\r\nDONE\r\nX-Other: 1\r\n"
				 "X-ElapsedTime: 12\r\n\r\n\x01\x02", &used), ==,
			MAPI_META_PENDING);
	g_assert_cmpint(feed_all(&m, "DONE\r\nX-Other: 1\r\n"
				 "X-ElapsedTime: 12\r\n\r\n\x01\x02", &used), ==,
			MAPI_META_DONE);
	g_assert_cmpint(feed_all(&m, "X-Other: 1\r\nX-ElapsedTime: 12\r\n\r\n"
				 "\x01\x02", &used), ==, MAPI_META_BINARY);
	g_assert_cmpuint(used, ==, 33);
	g_assert_cmpuint(m.n_pending, ==, 1);
	g_assert_cmpuint(m.elapsed, ==, 12);
	g_assert_cmpstr(m.start_time, ==, "");
	g_assert_cmpint(feed_all(&m, "\x01\x02", &used), ==,
			MAPI_META_BINARY);
	g_assert_cmpuint(used, ==, 0);
}

static void test_failure_bodies(void)
{
	static const uint8_t aux[] = { 0, 0, 4, 0, 0, 0, 0, 0 };
	struct mapi_bytes a = { aux, sizeof(aux) }, got;
	struct mapi_execute_resp e = { .status = 5, .aux = a };
	struct mapi_connect_resp c = { .status = 5, .aux = a }, cr;
	struct mapi_nwait_resp n;
	struct mapi_execute_resp er;
	struct mapi_disconnect_resp d;
	GByteArray *b = g_byte_array_new();
	uint32_t status;

	/* the failure form: StatusCode, then only the auxiliary buffer */
	g_assert_cmpint(mapi_execute_resp_write(b, &e), ==, 0);
	g_assert_cmpuint(b->len, ==, 4 + 4 + sizeof(aux));
	g_assert_cmpint(mapi_fail_resp_read(&status, &got, b->data, b->len),
			==, 0);
	g_assert_cmpuint(status, ==, 5);
	g_assert_cmpmem(got.p, got.len, aux, sizeof(aux));
	g_assert_cmpint(mapi_connect_resp_read(&cr, b->data, b->len), ==, 0);
	g_assert_cmpuint(cr.status, ==, 5);
	g_assert_null(cr.display_name);
	g_assert_cmpuint(cr.aux.len, ==, sizeof(aux));
	mapi_connect_resp_clear(&cr);
	g_assert_cmpint(mapi_nwait_resp_read(&n, b->data, b->len), ==, 0);
	g_assert_cmpuint(n.status, ==, 5);
	g_assert_cmpuint(n.aux.len, ==, sizeof(aux));
	g_assert_cmpint(mapi_execute_resp_read(&er, b->data, b->len), ==, 0);
	g_assert_cmpuint(er.status, ==, 5);
	g_assert_cmpuint(er.rop.len, ==, 0);
	g_assert_cmpmem(er.aux.p, er.aux.len, aux, sizeof(aux));
	g_assert_cmpint(mapi_disconnect_resp_read(&d, b->data, b->len), ==,
			0);
	g_assert_cmpuint(d.status, ==, 5);
	g_assert_cmpuint(d.aux.len, ==, sizeof(aux));
	g_byte_array_set_size(b, 0);
	g_assert_cmpint(mapi_connect_resp_write(b, &c), ==, 0);
	g_assert_cmpuint(b->len, ==, 4 + 4 + sizeof(aux));
	/* a StatusCode of 0 is not the failure form */
	g_assert_cmpint(mapi_fail_resp_write(b, 0, &a), ==, -EINVAL);
	/* an auxiliary block whose Size does not cover its own header */
	{
		static const uint8_t small[] = { 3, 0, 1, 1 };
		struct mapi_aux_block blk;
		struct mapi_rd r;

		mapi_rd_init(&r, small, sizeof(small));
		g_assert_cmpint(mapi_aux_next(&r, &blk), ==, -EBADMSG);
		g_assert_cmpint(mapi_aux_write(b, 1, 1, small, 0xFFFC), ==,
				-EMSGSIZE);
	}
	memset(b->data, 0, 4);
	g_assert_cmpint(mapi_fail_resp_read(&status, &got, b->data, b->len),
			==, -EBADMSG);
	/* writers refuse what cannot go out, and add nothing */
	g_byte_array_set_size(b, 0);
	c.status = 0;
	c.dn_prefix = (char *)"";
	c.display_name = (char *)"\xff";
	g_assert_cmpint(mapi_connect_resp_write(b, &c), ==, -EINVAL);
	g_assert_cmpuint(b->len, ==, 0);
	c.display_name = NULL;
	g_assert_cmpint(mapi_connect_resp_write(b, &c), ==, -EINVAL);
	g_byte_array_unref(b);
}

static void test_http_date(void)
{
	char buf[30];

	mapi_http_date(1796608611, buf);
	g_assert_cmpstr(buf, ==, "Mon, 07 Dec 2026 01:56:51 GMT");
	mapi_http_date(0, buf);
	g_assert_cmpstr(buf, ==, "Thu, 01 Jan 1970 00:00:00 GMT");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mapi-http/recorded", test_recorded);
	g_test_add_func("/mapi-http/recorded-failures",
			test_recorded_failures);
	g_test_add_func("/mapi-http/request-types", test_request_types);
	g_test_add_func("/mapi-http/request-headers", test_request_headers);
	g_test_add_func("/mapi-http/response-codes", test_response_codes);
	g_test_add_func("/mapi-http/meta-limits", test_meta_limits);
	g_test_add_func("/mapi-http/failure-bodies", test_failure_bodies);
	g_test_add_func("/mapi-http/date", test_http_date);
	return g_test_run();
}
