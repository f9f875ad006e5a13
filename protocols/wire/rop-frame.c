/*
 * rop-frame.c - the framing of a ROP buffer and the heads of requests and
 * responses, MS-OXCROPS 2.2.1 (RopSize, RopsList, ServerObjectHandleTable)
 * and 2.2.2 (RopId, LogonId, handle indexes, ReturnValue).
 */
#include "rop.h"

#include <errno.h>
#include <string.h>

int rop_frame_read(const uint8_t *p, size_t len, struct rop_frame *f)
{
	struct mapi_rd r;
	uint16_t size;
	size_t i, n;

	memset(f, 0, sizeof(*f));
	mapi_rd_init(&r, p, len);
	size = mapi_rd_u16(&r);
	if (mapi_rd_error(&r))
		return mapi_rd_error(&r);
	if (size < 2)
		return -EPROTO;
	if (size > len)
		return -EBADMSG;
	if ((len - size) % 4)
		return -EPROTO;
	f->rops = p + 2;
	f->rops_len = size - 2u;
	n = (len - size) / 4;
	mapi_rd_skip(&r, f->rops_len);
	f->handles = n ? g_new(uint32_t, n) : NULL;
	for (i = 0; i < n; i++)
		f->handles[i] = mapi_rd_u32(&r);
	f->n_handles = n;
	return 0;
}

void rop_frame_clear(struct rop_frame *f)
{
	g_free(f->handles);
	memset(f, 0, sizeof(*f));
}

size_t rop_frame_begin(GByteArray *b)
{
	size_t at = b->len;

	mapi_wr_u16(b, 0);
	return at;
}

void rop_frame_end(GByteArray *b, size_t at, const uint32_t *handles,
		   size_t n)
{
	size_t i;

	mapi_wr_u16_at(b, at, (uint16_t)(b->len - at));
	for (i = 0; i < n; i++)
		mapi_wr_u32(b, handles[i]);
}

int rop_resp_head_read(struct mapi_rd *r, uint8_t want_id,
		       struct rop_resp_head *h)
{
	h->rop_id = mapi_rd_u8(r);
	if (!mapi_rd_error(r) && h->rop_id != want_id)
		mapi_rd_fail(r, -EPROTO);
	h->handle_index = mapi_rd_u8(r);
	h->rv = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

void rop_resp_head_write(GByteArray *b, const struct rop_resp_head *h)
{
	mapi_wr_u8(b, h->rop_id);
	mapi_wr_u8(b, h->handle_index);
	mapi_wr_u32(b, h->rv);
}

int rop_req_head_read(struct mapi_rd *r, uint8_t want_id, uint8_t *logon_id,
		      uint8_t *in_index)
{
	uint8_t id = mapi_rd_u8(r);

	if (!mapi_rd_error(r) && id != want_id)
		mapi_rd_fail(r, -EPROTO);
	*logon_id = mapi_rd_u8(r);
	*in_index = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_req_head_write(GByteArray *b, uint8_t rop_id, uint8_t logon_id,
			uint8_t in_index)
{
	mapi_wr_u8(b, rop_id);
	mapi_wr_u8(b, logon_id);
	mapi_wr_u8(b, in_index);
}

int rop_peek_id(const struct mapi_rd *r)
{
	if (mapi_rd_left(r) < 1)
		return -EBADMSG;
	return r->p[r->off];
}

char *rop_rd_str(struct mapi_rd *r, bool unicode)
{
	return unicode ? mapi_rd_utf16z(r, SIZE_MAX) : mapi_rd_str8(r, SIZE_MAX);
}

void rop_wr_str(GByteArray *b, const char *s, bool unicode)
{
	if (!unicode)
		mapi_wr_str8z(b, s ? s : "");
	else if (mapi_wr_utf16z(b, s ? s : "") != 0)
		mapi_wr_u16(b, 0);
}
