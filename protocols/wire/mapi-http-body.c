/*
 * mapi-http-body.c - the EMSMDB request and response bodies of
 * MS-OXCMAPIHTTP 2.2.4 (Connect 2.2.4.1, Execute 2.2.4.2, Disconnect
 * 2.2.4.3, NotificationWait 2.2.4.4) and the failure response of 2.2.2.2,
 * read and written; declared in mapi-http.h.
 *
 * Every response opens with StatusCode.  When it is not 0 the server had
 * nothing to say but its auxiliary buffer, so the body ends there; the
 * readers and writers of every response share that rule.
 */
#include "mapi-buf.h"
#include "mapi-http.h"

#include <errno.h>
#include <string.h>

static void rd_run(struct mapi_rd *r, struct mapi_bytes *out)
{
	uint32_t n = mapi_rd_u32(r);

	out->p = mapi_rd_bytes(r, n);
	out->len = out->p ? n : 0;
}

/* The whole body read, and nothing after it. */
static int rd_finish(struct mapi_rd *r)
{
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	return mapi_rd_left(r) ? -EBADMSG : 0;
}

static bool run_ok(const struct mapi_bytes *a)
{
	return a->len <= UINT32_MAX && (a->p || !a->len);
}

static void wr_run(GByteArray *b, const struct mapi_bytes *a)
{
	mapi_wr_u32(b, (uint32_t)a->len);
	mapi_wr_bytes(b, a->p, a->len);
}

int mapi_fail_resp_read(uint32_t *status_r, struct mapi_bytes *aux_r,
			const void *p, size_t len)
{
	struct mapi_rd r;
	int rc;

	mapi_rd_init(&r, p, len);
	*status_r = mapi_rd_u32(&r);
	rd_run(&r, aux_r);
	rc = rd_finish(&r);
	if (!rc && !*status_r)
		rc = -EBADMSG;
	if (rc) {
		*status_r = 0;
		memset(aux_r, 0, sizeof(*aux_r));
	}
	return rc;
}

int mapi_fail_resp_write(GByteArray *b, uint32_t status,
			 const struct mapi_bytes *aux)
{
	if (!status || !run_ok(aux))
		return -EINVAL;
	mapi_wr_u32(b, status);
	wr_run(b, aux);
	return 0;
}

/* Connect, 2.2.4.1. */

void mapi_connect_req_clear(struct mapi_connect_req *r)
{
	g_free(r->user_dn);
	memset(r, 0, sizeof(*r));
}

void mapi_connect_resp_clear(struct mapi_connect_resp *r)
{
	g_free(r->dn_prefix);
	g_free(r->display_name);
	memset(r, 0, sizeof(*r));
}

int mapi_connect_req_read(struct mapi_connect_req *out, const void *p,
			  size_t len)
{
	struct mapi_rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	mapi_rd_init(&r, p, len);
	out->user_dn = mapi_rd_str8(&r, len);
	out->flags = mapi_rd_u32(&r);
	out->cpid = mapi_rd_u32(&r);
	out->lcid_sort = mapi_rd_u32(&r);
	out->lcid_string = mapi_rd_u32(&r);
	rd_run(&r, &out->aux);
	rc = rd_finish(&r);
	if (rc)
		mapi_connect_req_clear(out);
	return rc;
}

int mapi_connect_req_write(GByteArray *b, const struct mapi_connect_req *r)
{
	if (!r->user_dn || !run_ok(&r->aux))
		return -EINVAL;
	mapi_wr_str8z(b, r->user_dn);
	mapi_wr_u32(b, r->flags);
	mapi_wr_u32(b, r->cpid);
	mapi_wr_u32(b, r->lcid_sort);
	mapi_wr_u32(b, r->lcid_string);
	wr_run(b, &r->aux);
	return 0;
}

int mapi_connect_resp_read(struct mapi_connect_resp *out, const void *p,
			   size_t len)
{
	struct mapi_rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	mapi_rd_init(&r, p, len);
	out->status = mapi_rd_u32(&r);
	if (!out->status) {
		out->error_code = mapi_rd_u32(&r);
		out->polls_max = mapi_rd_u32(&r);
		out->retry_count = mapi_rd_u32(&r);
		out->retry_delay = mapi_rd_u32(&r);
		out->dn_prefix = mapi_rd_str8(&r, len);
		out->display_name = mapi_rd_utf16z(&r, len / 2);
	}
	rd_run(&r, &out->aux);
	rc = rd_finish(&r);
	if (rc)
		mapi_connect_resp_clear(out);
	return rc;
}

int mapi_connect_resp_write(GByteArray *b, const struct mapi_connect_resp *r)
{
	size_t start = b->len;

	if (r->status)
		return mapi_fail_resp_write(b, r->status, &r->aux);
	if (!r->dn_prefix || !r->display_name || !run_ok(&r->aux))
		return -EINVAL;
	mapi_wr_u32(b, r->status);
	mapi_wr_u32(b, r->error_code);
	mapi_wr_u32(b, r->polls_max);
	mapi_wr_u32(b, r->retry_count);
	mapi_wr_u32(b, r->retry_delay);
	mapi_wr_str8z(b, r->dn_prefix);
	if (mapi_wr_utf16z(b, r->display_name)) {
		g_byte_array_set_size(b, (guint)start);
		return -EINVAL;
	}
	wr_run(b, &r->aux);
	return 0;
}

/* Execute, 2.2.4.2. */

int mapi_execute_req_read(struct mapi_execute_req *out, const void *p,
			  size_t len)
{
	struct mapi_rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	mapi_rd_init(&r, p, len);
	out->flags = mapi_rd_u32(&r);
	rd_run(&r, &out->rop);
	out->max_rop_out = mapi_rd_u32(&r);
	rd_run(&r, &out->aux);
	rc = rd_finish(&r);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int mapi_execute_req_write(GByteArray *b, const struct mapi_execute_req *r)
{
	if (!run_ok(&r->rop) || !run_ok(&r->aux))
		return -EINVAL;
	mapi_wr_u32(b, r->flags);
	wr_run(b, &r->rop);
	mapi_wr_u32(b, r->max_rop_out);
	wr_run(b, &r->aux);
	return 0;
}

int mapi_execute_resp_read(struct mapi_execute_resp *out, const void *p,
			   size_t len)
{
	struct mapi_rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	mapi_rd_init(&r, p, len);
	out->status = mapi_rd_u32(&r);
	if (!out->status) {
		out->error_code = mapi_rd_u32(&r);
		out->flags = mapi_rd_u32(&r);
		rd_run(&r, &out->rop);
	}
	rd_run(&r, &out->aux);
	rc = rd_finish(&r);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int mapi_execute_resp_write(GByteArray *b, const struct mapi_execute_resp *r)
{
	if (r->status)
		return mapi_fail_resp_write(b, r->status, &r->aux);
	if (!run_ok(&r->rop) || !run_ok(&r->aux))
		return -EINVAL;
	mapi_wr_u32(b, r->status);
	mapi_wr_u32(b, r->error_code);
	mapi_wr_u32(b, r->flags);
	wr_run(b, &r->rop);
	wr_run(b, &r->aux);
	return 0;
}

/* Disconnect, 2.2.4.3. */

int mapi_disconnect_req_read(struct mapi_disconnect_req *out, const void *p,
			     size_t len)
{
	struct mapi_rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	mapi_rd_init(&r, p, len);
	rd_run(&r, &out->aux);
	rc = rd_finish(&r);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int mapi_disconnect_req_write(GByteArray *b,
			      const struct mapi_disconnect_req *r)
{
	if (!run_ok(&r->aux))
		return -EINVAL;
	wr_run(b, &r->aux);
	return 0;
}

int mapi_disconnect_resp_read(struct mapi_disconnect_resp *out,
			      const void *p, size_t len)
{
	struct mapi_rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	mapi_rd_init(&r, p, len);
	out->status = mapi_rd_u32(&r);
	if (!out->status)
		out->error_code = mapi_rd_u32(&r);
	rd_run(&r, &out->aux);
	rc = rd_finish(&r);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int mapi_disconnect_resp_write(GByteArray *b,
			       const struct mapi_disconnect_resp *r)
{
	if (r->status)
		return mapi_fail_resp_write(b, r->status, &r->aux);
	if (!run_ok(&r->aux))
		return -EINVAL;
	mapi_wr_u32(b, r->status);
	mapi_wr_u32(b, r->error_code);
	wr_run(b, &r->aux);
	return 0;
}

/* NotificationWait, 2.2.4.4. */

int mapi_nwait_req_read(struct mapi_nwait_req *out, const void *p,
			size_t len)
{
	struct mapi_rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	mapi_rd_init(&r, p, len);
	out->flags = mapi_rd_u32(&r);
	rd_run(&r, &out->aux);
	rc = rd_finish(&r);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int mapi_nwait_req_write(GByteArray *b, const struct mapi_nwait_req *r)
{
	if (!run_ok(&r->aux))
		return -EINVAL;
	mapi_wr_u32(b, r->flags);
	wr_run(b, &r->aux);
	return 0;
}

int mapi_nwait_resp_read(struct mapi_nwait_resp *out, const void *p,
			 size_t len)
{
	struct mapi_rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	mapi_rd_init(&r, p, len);
	out->status = mapi_rd_u32(&r);
	if (!out->status) {
		out->error_code = mapi_rd_u32(&r);
		out->event_pending = mapi_rd_u32(&r);
	}
	rd_run(&r, &out->aux);
	rc = rd_finish(&r);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int mapi_nwait_resp_write(GByteArray *b, const struct mapi_nwait_resp *r)
{
	if (r->status)
		return mapi_fail_resp_write(b, r->status, &r->aux);
	if (!run_ok(&r->aux))
		return -EINVAL;
	mapi_wr_u32(b, r->status);
	mapi_wr_u32(b, r->error_code);
	mapi_wr_u32(b, r->event_pending);
	wr_run(b, &r->aux);
	return 0;
}

/* Auxiliary blocks, MS-OXCRPC 2.2.2.2. */

int mapi_aux_next(struct mapi_rd *r, struct mapi_aux_block *out)
{
	uint16_t size;

	memset(out, 0, sizeof(*out));
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (!mapi_rd_left(r))
		return 0;
	size = mapi_rd_u16(r);
	out->version = mapi_rd_u8(r);
	out->type = mapi_rd_u8(r);
	if (!mapi_rd_error(r) && size < MAPI_AUX_HEADER_SIZE)
		mapi_rd_fail(r, -EBADMSG);
	if (!mapi_rd_error(r)) {
		out->data.len = size - MAPI_AUX_HEADER_SIZE;
		out->data.p = mapi_rd_bytes(r, out->data.len);
	}
	if (mapi_rd_error(r)) {
		memset(out, 0, sizeof(*out));
		return mapi_rd_error(r);
	}
	return 1;
}

int mapi_aux_write(GByteArray *b, uint8_t version, uint8_t type,
		   const void *data, size_t len)
{
	if (len > 0xFFFF - MAPI_AUX_HEADER_SIZE)
		return -EMSGSIZE;
	mapi_wr_u16(b, (uint16_t)(len + MAPI_AUX_HEADER_SIZE));
	mapi_wr_u8(b, version);
	mapi_wr_u8(b, type);
	mapi_wr_bytes(b, data, len);
	return 0;
}
