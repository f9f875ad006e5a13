/*
 * rop-stream.c - the stream ROPs, MS-OXCROPS 2.2.9 (semantics in
 * MS-OXCPRPT 3.2.5.13 onwards): open a property as a stream, read, write,
 * commit, size and seek it.  See rop-msg.h.
 */
#include "rop-msg-private.h"

#include <errno.h>
#include <string.h>

/* The request of the ROPs that are RopId, LogonId, InputHandleIndex. */
static void stream_req_write(GByteArray *b, uint8_t id, uint8_t logon_id,
			     uint8_t in_index)
{
	mapi_wr_u8(b, id);
	mapi_wr_u8(b, logon_id);
	mapi_wr_u8(b, in_index);
}

static int stream_req_read(struct mapi_rd *r, uint8_t id, uint8_t *logon_id,
			   uint8_t *in_index)
{
	if (rmsg_id(r, id))
		return mapi_rd_error(r);
	*logon_id = mapi_rd_u8(r);
	*in_index = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

/* RopOpenStream, 2.2.9.1 */

void rop_open_stream_req_write(GByteArray *b,
			       const struct rop_open_stream_req *q)
{
	stream_req_write(b, ROP_OPEN_STREAM, q->logon_id,
			 q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u32(b, q->tag);
	mapi_wr_u8(b, q->open_mode);
}

int rop_open_stream_req_read(struct mapi_rd *r, struct rop_open_stream_req *q)
{
	memset(q, 0, sizeof(*q));
	if (stream_req_read(r, ROP_OPEN_STREAM, &q->logon_id,
			    &q->input_handle_index))
		return mapi_rd_error(r);
	q->output_handle_index = mapi_rd_u8(r);
	q->tag = mapi_rd_u32(r);
	q->open_mode = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_open_stream_resp_write(GByteArray *b,
				const struct rop_open_stream_resp *s)
{
	rmsg_head_write(b, ROP_OPEN_STREAM, &s->head);
	if (!s->head.rv)
		mapi_wr_u32(b, s->stream_size);
}

int rop_open_stream_resp_read(struct mapi_rd *r,
			      struct rop_open_stream_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_OPEN_STREAM, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->stream_size = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

/* RopReadStream, 2.2.9.2 */

void rop_read_stream_req_write(GByteArray *b,
			       const struct rop_read_stream_req *q)
{
	stream_req_write(b, ROP_READ_STREAM, q->logon_id,
			 q->input_handle_index);
	mapi_wr_u16(b, q->byte_count);
	if (q->byte_count == ROP_READ_STREAM_USE_MAX)
		mapi_wr_u32(b, q->max_byte_count);
}

int rop_read_stream_req_read(struct mapi_rd *r, struct rop_read_stream_req *q)
{
	memset(q, 0, sizeof(*q));
	if (stream_req_read(r, ROP_READ_STREAM, &q->logon_id,
			    &q->input_handle_index))
		return mapi_rd_error(r);
	q->byte_count = mapi_rd_u16(r);
	if (q->byte_count == ROP_READ_STREAM_USE_MAX)
		q->max_byte_count = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

void rop_read_stream_resp_write(GByteArray *b,
				const struct rop_read_stream_resp *s)
{
	rmsg_head_write(b, ROP_READ_STREAM, &s->head);
	if (s->head.rv)
		return;
	mapi_wr_u16(b, s->len);
	mapi_wr_bytes(b, s->data, s->len);
}

int rop_read_stream_resp_read(struct mapi_rd *r,
			      struct rop_read_stream_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_READ_STREAM, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->len = mapi_rd_u16(r);
	s->data = mapi_rd_bytes(r, s->len);
	if (mapi_rd_error(r)) {
		s->len = 0;
		s->data = NULL;
	}
	return mapi_rd_error(r);
}

/* RopWriteStream, 2.2.9.3 */

void rop_write_stream_req_write(GByteArray *b,
				const struct rop_write_stream_req *q)
{
	stream_req_write(b, ROP_WRITE_STREAM, q->logon_id,
			 q->input_handle_index);
	mapi_wr_u16(b, q->len);
	mapi_wr_bytes(b, q->data, q->len);
}

int rop_write_stream_req_read(struct mapi_rd *r,
			      struct rop_write_stream_req *q)
{
	memset(q, 0, sizeof(*q));
	if (stream_req_read(r, ROP_WRITE_STREAM, &q->logon_id,
			    &q->input_handle_index))
		return mapi_rd_error(r);
	q->len = mapi_rd_u16(r);
	q->data = mapi_rd_bytes(r, q->len);
	if (mapi_rd_error(r)) {
		q->len = 0;
		q->data = NULL;
	}
	return mapi_rd_error(r);
}

void rop_write_stream_resp_write(GByteArray *b,
				 const struct rop_write_stream_resp *s)
{
	rmsg_head_write(b, ROP_WRITE_STREAM, &s->head);
	if (!s->head.rv)
		mapi_wr_u16(b, s->written);
}

int rop_write_stream_resp_read(struct mapi_rd *r,
			       struct rop_write_stream_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_WRITE_STREAM, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->written = mapi_rd_u16(r);
	return mapi_rd_error(r);
}

/* RopCommitStream, 2.2.9.4 */

void rop_commit_stream_req_write(GByteArray *b, const struct rop_stream_req *q)
{
	stream_req_write(b, ROP_COMMIT_STREAM, q->logon_id,
			 q->input_handle_index);
}

int rop_commit_stream_req_read(struct mapi_rd *r, struct rop_stream_req *q)
{
	memset(q, 0, sizeof(*q));
	return stream_req_read(r, ROP_COMMIT_STREAM, &q->logon_id,
			       &q->input_handle_index);
}

void rop_commit_stream_resp_write(GByteArray *b,
				  const struct rop_commit_stream_resp *s)
{
	rmsg_head_write(b, ROP_COMMIT_STREAM, &s->head);
}

int rop_commit_stream_resp_read(struct mapi_rd *r,
				struct rop_commit_stream_resp *s)
{
	memset(s, 0, sizeof(*s));
	return rmsg_head_only_read(r, ROP_COMMIT_STREAM, &s->head);
}

/* RopGetStreamSize, 2.2.9.5 */

void rop_get_stream_size_req_write(GByteArray *b,
				   const struct rop_stream_req *q)
{
	stream_req_write(b, ROP_GET_STREAM_SIZE, q->logon_id,
			 q->input_handle_index);
}

int rop_get_stream_size_req_read(struct mapi_rd *r, struct rop_stream_req *q)
{
	memset(q, 0, sizeof(*q));
	return stream_req_read(r, ROP_GET_STREAM_SIZE, &q->logon_id,
			       &q->input_handle_index);
}

void rop_get_stream_size_resp_write(GByteArray *b,
				    const struct rop_get_stream_size_resp *s)
{
	rmsg_head_write(b, ROP_GET_STREAM_SIZE, &s->head);
	if (!s->head.rv)
		mapi_wr_u32(b, s->stream_size);
}

int rop_get_stream_size_resp_read(struct mapi_rd *r,
				  struct rop_get_stream_size_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_GET_STREAM_SIZE, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->stream_size = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

/* RopSetStreamSize, 2.2.9.6 */

void rop_set_stream_size_req_write(GByteArray *b,
				   const struct rop_set_stream_size_req *q)
{
	stream_req_write(b, ROP_SET_STREAM_SIZE, q->logon_id,
			 q->input_handle_index);
	mapi_wr_u64(b, q->stream_size);
}

int rop_set_stream_size_req_read(struct mapi_rd *r,
				 struct rop_set_stream_size_req *q)
{
	memset(q, 0, sizeof(*q));
	if (stream_req_read(r, ROP_SET_STREAM_SIZE, &q->logon_id,
			    &q->input_handle_index))
		return mapi_rd_error(r);
	q->stream_size = mapi_rd_u64(r);
	return mapi_rd_error(r);
}

void rop_set_stream_size_resp_write(GByteArray *b,
				    const struct rop_set_stream_size_resp *s)
{
	rmsg_head_write(b, ROP_SET_STREAM_SIZE, &s->head);
}

int rop_set_stream_size_resp_read(struct mapi_rd *r,
				  struct rop_set_stream_size_resp *s)
{
	memset(s, 0, sizeof(*s));
	return rmsg_head_only_read(r, ROP_SET_STREAM_SIZE, &s->head);
}

/* RopSeekStream, 2.2.9.7 */

void rop_seek_stream_req_write(GByteArray *b,
			       const struct rop_seek_stream_req *q)
{
	stream_req_write(b, ROP_SEEK_STREAM, q->logon_id,
			 q->input_handle_index);
	mapi_wr_u8(b, q->origin);
	mapi_wr_u64(b, (uint64_t)q->offset);
}

int rop_seek_stream_req_read(struct mapi_rd *r, struct rop_seek_stream_req *q)
{
	memset(q, 0, sizeof(*q));
	if (stream_req_read(r, ROP_SEEK_STREAM, &q->logon_id,
			    &q->input_handle_index))
		return mapi_rd_error(r);
	q->origin = mapi_rd_u8(r);
	q->offset = (int64_t)mapi_rd_u64(r);
	if (!mapi_rd_error(r) && q->origin > ROP_SEEK_END)
		mapi_rd_fail(r, -EPROTO);
	return mapi_rd_error(r);
}

void rop_seek_stream_resp_write(GByteArray *b,
				const struct rop_seek_stream_resp *s)
{
	rmsg_head_write(b, ROP_SEEK_STREAM, &s->head);
	if (!s->head.rv)
		mapi_wr_u64(b, s->new_position);
}

int rop_seek_stream_resp_read(struct mapi_rd *r,
			      struct rop_seek_stream_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_SEEK_STREAM, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->new_position = mapi_rd_u64(r);
	return mapi_rd_error(r);
}
