/*
 * rop-ics.c - the ROPs of incremental change synchronization (ICS),
 * MS-OXCROPS 2.2.13 and RopFastTransferSourceGetBuffer (2.2.12.3), whose
 * semantics MS-OXCFXICS gives: configure a download, upload the state a
 * client holds, fetch the FastTransfer stream piece by piece, and import
 * a client's changes.  The stream's own contents are another codec's;
 * here they are bytes carried.  See rop-msg.h.
 */
#include "rop-msg-private.h"

#include <errno.h>
#include <string.h>

static void ics_req_write(GByteArray *b, uint8_t id, uint8_t logon_id,
			  uint8_t in_index)
{
	mapi_wr_u8(b, id);
	mapi_wr_u8(b, logon_id);
	mapi_wr_u8(b, in_index);
}

static int ics_req_read(struct mapi_rd *r, uint8_t id, uint8_t *logon_id,
			uint8_t *in_index)
{
	if (rmsg_id(r, id))
		return mapi_rd_error(r);
	*logon_id = mapi_rd_u8(r);
	*in_index = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

static int sync_resp_read(struct mapi_rd *r, uint8_t id,
			  struct rop_sync_resp *s)
{
	memset(s, 0, sizeof(*s));
	return rmsg_head_only_read(r, id, &s->head);
}

/* RopSynchronizationConfigure, 2.2.13.1 */

void rop_sync_configure_req_write(GByteArray *b,
				  const struct rop_sync_configure_req *q)
{
	ics_req_write(b, ROP_SYNCHRONIZATION_CONFIGURE, q->logon_id,
		      q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u8(b, q->sync_type);
	mapi_wr_u8(b, q->send_options);
	mapi_wr_u16(b, q->sync_flags);
	mapi_wr_u16(b, q->restriction_len);
	mapi_wr_bytes(b, q->restriction, q->restriction_len);
	mapi_wr_u32(b, q->extra_flags);
	mapi_tags_write(b, q->tags, q->n_tags > 0xFFFF ? 0xFFFF : q->n_tags);
}

int rop_sync_configure_req_read(struct mapi_rd *r,
				struct rop_sync_configure_req *q)
{
	int rc;

	memset(q, 0, sizeof(*q));
	if (ics_req_read(r, ROP_SYNCHRONIZATION_CONFIGURE, &q->logon_id,
			 &q->input_handle_index))
		return mapi_rd_error(r);
	q->output_handle_index = mapi_rd_u8(r);
	q->sync_type = mapi_rd_u8(r);
	q->send_options = mapi_rd_u8(r);
	q->sync_flags = mapi_rd_u16(r);
	q->restriction_len = mapi_rd_u16(r);
	q->restriction = mapi_rd_bytes(r, q->restriction_len);
	q->extra_flags = mapi_rd_u32(r);
	rc = mapi_rd_error(r);
	if (!rc && q->sync_type != ROP_SYNC_CONTENTS &&
	    q->sync_type != ROP_SYNC_HIERARCHY)
		rc = -EPROTO;
	if (!rc)
		rc = mapi_tags_read(r, &q->tags, &q->n_tags);
	if (rc) {
		mapi_rd_fail(r, rc);
		rop_sync_configure_req_clear(q);
	}
	return rc;
}

void rop_sync_configure_req_clear(struct rop_sync_configure_req *q)
{
	g_free(q->tags);
	memset(q, 0, sizeof(*q));
}

void rop_sync_configure_resp_write(GByteArray *b,
				   const struct rop_sync_resp *s)
{
	rmsg_head_write(b, ROP_SYNCHRONIZATION_CONFIGURE, &s->head);
}

int rop_sync_configure_resp_read(struct mapi_rd *r, struct rop_sync_resp *s)
{
	return sync_resp_read(r, ROP_SYNCHRONIZATION_CONFIGURE, s);
}

/* RopSynchronizationUploadStateStreamBegin, 2.2.13.9 */

void rop_sync_upload_begin_req_write(GByteArray *b,
	const struct rop_sync_upload_begin_req *q)
{
	ics_req_write(b, ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_BEGIN,
		      q->logon_id, q->input_handle_index);
	mapi_wr_u32(b, q->state_prop);
	mapi_wr_u32(b, q->size);
}

int rop_sync_upload_begin_req_read(struct mapi_rd *r,
	struct rop_sync_upload_begin_req *q)
{
	memset(q, 0, sizeof(*q));
	if (ics_req_read(r, ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_BEGIN,
			 &q->logon_id, &q->input_handle_index))
		return mapi_rd_error(r);
	q->state_prop = mapi_rd_u32(r);
	q->size = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

void rop_sync_upload_begin_resp_write(GByteArray *b,
	const struct rop_sync_resp *s)
{
	rmsg_head_write(b, ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_BEGIN,
			&s->head);
}

int rop_sync_upload_begin_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s)
{
	return sync_resp_read(r, ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_BEGIN,
			      s);
}

/* RopSynchronizationUploadStateStreamContinue, 2.2.13.10 */

void rop_sync_upload_continue_req_write(GByteArray *b,
	const struct rop_sync_upload_continue_req *q)
{
	ics_req_write(b, ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_CONTINUE,
		      q->logon_id, q->input_handle_index);
	mapi_wr_u32(b, q->len);
	mapi_wr_bytes(b, q->data, q->len);
}

int rop_sync_upload_continue_req_read(struct mapi_rd *r,
	struct rop_sync_upload_continue_req *q)
{
	memset(q, 0, sizeof(*q));
	if (ics_req_read(r, ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_CONTINUE,
			 &q->logon_id, &q->input_handle_index))
		return mapi_rd_error(r);
	q->len = mapi_rd_u32(r);
	q->data = mapi_rd_bytes(r, q->len);
	if (mapi_rd_error(r)) {
		q->len = 0;
		q->data = NULL;
	}
	return mapi_rd_error(r);
}

void rop_sync_upload_continue_resp_write(GByteArray *b,
	const struct rop_sync_resp *s)
{
	rmsg_head_write(b, ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_CONTINUE,
			&s->head);
}

int rop_sync_upload_continue_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s)
{
	return sync_resp_read(r,
			      ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_CONTINUE,
			      s);
}

/* RopSynchronizationUploadStateStreamEnd, 2.2.13.11 */

void rop_sync_upload_end_req_write(GByteArray *b,
	const struct rop_sync_upload_end_req *q)
{
	ics_req_write(b, ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_END,
		      q->logon_id, q->input_handle_index);
}

int rop_sync_upload_end_req_read(struct mapi_rd *r,
	struct rop_sync_upload_end_req *q)
{
	memset(q, 0, sizeof(*q));
	return ics_req_read(r, ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_END,
			    &q->logon_id, &q->input_handle_index);
}

void rop_sync_upload_end_resp_write(GByteArray *b,
	const struct rop_sync_resp *s)
{
	rmsg_head_write(b, ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_END,
			&s->head);
}

int rop_sync_upload_end_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s)
{
	return sync_resp_read(r, ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_END,
			      s);
}

/* RopFastTransferSourceGetBuffer, 2.2.12.3 */

void rop_ft_get_buffer_req_write(GByteArray *b,
				 const struct rop_ft_get_buffer_req *q)
{
	ics_req_write(b, ROP_FAST_TRANSFER_SOURCE_GET_BUFFER, q->logon_id,
		      q->input_handle_index);
	mapi_wr_u16(b, q->buffer_size);
	if (q->buffer_size == ROP_FT_USE_MAX)
		mapi_wr_u16(b, q->max_buffer_size);
}

int rop_ft_get_buffer_req_read(struct mapi_rd *r,
			       struct rop_ft_get_buffer_req *q)
{
	memset(q, 0, sizeof(*q));
	if (ics_req_read(r, ROP_FAST_TRANSFER_SOURCE_GET_BUFFER, &q->logon_id,
			 &q->input_handle_index))
		return mapi_rd_error(r);
	q->buffer_size = mapi_rd_u16(r);
	if (q->buffer_size == ROP_FT_USE_MAX)
		q->max_buffer_size = mapi_rd_u16(r);
	return mapi_rd_error(r);
}

void rop_ft_get_buffer_resp_write(GByteArray *b,
				  const struct rop_ft_get_buffer_resp *s)
{
	rmsg_head_write(b, ROP_FAST_TRANSFER_SOURCE_GET_BUFFER, &s->head);
	if (s->head.rv == ROP_E_SERVER_BUSY) {
		mapi_wr_u32(b, s->backoff_ms);
		return;
	}
	if (s->head.rv)
		return;
	mapi_wr_u16(b, s->status);
	mapi_wr_u16(b, s->in_progress);
	mapi_wr_u16(b, s->total_steps);
	mapi_wr_u8(b, s->reserved);
	mapi_wr_u16(b, s->len);
	mapi_wr_bytes(b, s->buf, s->len);
}

int rop_ft_get_buffer_resp_read(struct mapi_rd *r,
				struct rop_ft_get_buffer_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_FAST_TRANSFER_SOURCE_GET_BUFFER, &s->head);
	if (rc < 0)
		return rc;
	if (s->head.rv == ROP_E_SERVER_BUSY) {
		s->backoff_ms = mapi_rd_u32(r);
		return mapi_rd_error(r);
	}
	if (rc)
		return 0;
	s->status = mapi_rd_u16(r);
	s->in_progress = mapi_rd_u16(r);
	s->total_steps = mapi_rd_u16(r);
	s->reserved = mapi_rd_u8(r);
	s->len = mapi_rd_u16(r);
	s->buf = mapi_rd_bytes(r, s->len);
	if (!mapi_rd_error(r) && s->status > ROP_FT_DONE)
		mapi_rd_fail(r, -EPROTO);
	if (mapi_rd_error(r)) {
		s->buf = NULL;
		s->len = 0;
	}
	return mapi_rd_error(r);
}

/* RopSynchronizationGetTransferState, 2.2.13.8 */

void rop_sync_get_transfer_state_req_write(GByteArray *b,
	const struct rop_sync_get_transfer_state_req *q)
{
	ics_req_write(b, ROP_SYNCHRONIZATION_GET_TRANSFER_STATE, q->logon_id,
		      q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
}

int rop_sync_get_transfer_state_req_read(struct mapi_rd *r,
	struct rop_sync_get_transfer_state_req *q)
{
	memset(q, 0, sizeof(*q));
	if (ics_req_read(r, ROP_SYNCHRONIZATION_GET_TRANSFER_STATE,
			 &q->logon_id, &q->input_handle_index))
		return mapi_rd_error(r);
	q->output_handle_index = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_sync_get_transfer_state_resp_write(GByteArray *b,
	const struct rop_sync_resp *s)
{
	rmsg_head_write(b, ROP_SYNCHRONIZATION_GET_TRANSFER_STATE, &s->head);
}

int rop_sync_get_transfer_state_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s)
{
	return sync_resp_read(r, ROP_SYNCHRONIZATION_GET_TRANSFER_STATE, s);
}

/* TaggedPropertyValues counted by a u16 (the import ROPs). */

static void vals_free(struct mapi_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mapi_value_clear(&v[i]);
	g_free(v);
}

/* Each TaggedPropertyValue takes at least its tag: 4 bytes. */
static int vals_read(struct mapi_rd *r, struct mapi_value **v_r, size_t *n_r)
{
	size_t n = mapi_rd_u16(r);
	struct mapi_value *v;
	int rc = 0;

	*v_r = NULL;
	*n_r = 0;
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (n > mapi_rd_left(r) / 4) {
		mapi_rd_fail(r, -EBADMSG);
		return -EBADMSG;
	}
	if (!n)
		return 0;
	v = g_new0(struct mapi_value, n);
	for (size_t i = 0; i < n && !rc; i++)
		rc = mapi_tagged_pv_read(r, 0, &v[i]);
	if (rc) {
		mapi_rd_fail(r, rc);
		vals_free(v, n);
		return rc;
	}
	*v_r = v;
	*n_r = n;
	return 0;
}

static int vals_write(GByteArray *b, const struct mapi_value *v, size_t n)
{
	int rc = 0, e;

	if (n > 0xFFFF)
		n = 0xFFFF;
	mapi_wr_u16(b, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		e = mapi_tagged_pv_write(b, &v[i], 0);
		if (e && !rc)
			rc = e;
	}
	return rc;
}

/* RopSynchronizationImportMessageChange, 2.2.13.2 */

int rop_sync_import_message_change_req_write(GByteArray *b,
	const struct rop_sync_import_message_change_req *q)
{
	ics_req_write(b, ROP_SYNCHRONIZATION_IMPORT_MESSAGE_CHANGE,
		      q->logon_id, q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u8(b, q->import_flag);
	return vals_write(b, q->vals, q->n_vals);
}

int rop_sync_import_message_change_req_read(struct mapi_rd *r,
	struct rop_sync_import_message_change_req *q)
{
	memset(q, 0, sizeof(*q));
	if (ics_req_read(r, ROP_SYNCHRONIZATION_IMPORT_MESSAGE_CHANGE,
			 &q->logon_id, &q->input_handle_index))
		return mapi_rd_error(r);
	q->output_handle_index = mapi_rd_u8(r);
	q->import_flag = mapi_rd_u8(r);
	return vals_read(r, &q->vals, &q->n_vals);
}

void rop_sync_import_message_change_req_clear(
	struct rop_sync_import_message_change_req *q)
{
	vals_free(q->vals, q->n_vals);
	q->vals = NULL;
	q->n_vals = 0;
}

void rop_sync_import_message_change_resp_write(GByteArray *b,
	const struct rop_sync_import_message_change_resp *s)
{
	rmsg_head_write(b, ROP_SYNCHRONIZATION_IMPORT_MESSAGE_CHANGE,
			&s->head);
	if (!s->head.rv)
		mapi_wr_u64(b, s->message_id);
}

int rop_sync_import_message_change_resp_read(struct mapi_rd *r,
	struct rop_sync_import_message_change_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_SYNCHRONIZATION_IMPORT_MESSAGE_CHANGE, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->message_id = mapi_rd_u64(r);
	return mapi_rd_error(r);
}

/* RopSynchronizationImportDeletes, 2.2.13.5 */

void rop_sync_import_deletes_req_write(GByteArray *b,
	const struct rop_sync_import_deletes_req *q)
{
	ics_req_write(b, ROP_SYNCHRONIZATION_IMPORT_DELETES, q->logon_id,
		      q->input_handle_index);
	mapi_wr_u8(b, q->flags);
	(void)vals_write(b, q->vals, q->n_vals);
}

int rop_sync_import_deletes_req_read(struct mapi_rd *r,
	struct rop_sync_import_deletes_req *q)
{
	memset(q, 0, sizeof(*q));
	if (ics_req_read(r, ROP_SYNCHRONIZATION_IMPORT_DELETES, &q->logon_id,
			 &q->input_handle_index))
		return mapi_rd_error(r);
	q->flags = mapi_rd_u8(r);
	return vals_read(r, &q->vals, &q->n_vals);
}

void rop_sync_import_deletes_req_clear(struct rop_sync_import_deletes_req *q)
{
	vals_free(q->vals, q->n_vals);
	q->vals = NULL;
	q->n_vals = 0;
}

void rop_sync_import_deletes_resp_write(GByteArray *b,
	const struct rop_sync_resp *s)
{
	rmsg_head_write(b, ROP_SYNCHRONIZATION_IMPORT_DELETES, &s->head);
}

int rop_sync_import_deletes_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s)
{
	return sync_resp_read(r, ROP_SYNCHRONIZATION_IMPORT_DELETES, s);
}

/* RopSynchronizationImportReadStateChanges, 2.2.13.3: MessageReadStates
 * is a byte count, then MessageReadState entries (MessageIdSize u16,
 * the source key, MarkAsRead u8) filling it exactly. */

void rop_sync_import_read_state_req_write(GByteArray *b,
	const struct rop_sync_import_read_state_req *q)
{
	size_t at, start;

	ics_req_write(b, ROP_SYNCHRONIZATION_IMPORT_READ_STATE_CHANGES,
		      q->logon_id, q->input_handle_index);
	at = b->len;
	mapi_wr_u16(b, 0);
	start = b->len;
	for (size_t i = 0; i < q->n_states; i++) {
		const struct rop_read_state *st = &q->states[i];
		uint16_t n = st->source_key.len > 0xFFFF
			   ? 0xFFFF : (uint16_t)st->source_key.len;

		if (b->len - start + 3 + n > 0xFFFF)
			break;
		mapi_wr_u16(b, n);
		mapi_wr_bytes(b, st->source_key.data, n);
		mapi_wr_u8(b, st->mark_read);
	}
	mapi_wr_u16_at(b, at, (uint16_t)(b->len - start));
}

int rop_sync_import_read_state_req_read(struct mapi_rd *r,
	struct rop_sync_import_read_state_req *q)
{
	struct mapi_rd sub;
	size_t cap;
	int rc;

	memset(q, 0, sizeof(*q));
	if (ics_req_read(r, ROP_SYNCHRONIZATION_IMPORT_READ_STATE_CHANGES,
			 &q->logon_id, &q->input_handle_index))
		return mapi_rd_error(r);
	sub = mapi_rd_sub(r, mapi_rd_u16(r));
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	/* each entry takes 3 bytes at least */
	cap = mapi_rd_left(&sub) / 3;
	if (cap)
		q->states = g_new0(struct rop_read_state, cap);
	while (mapi_rd_left(&sub) > 0 && q->n_states < cap) {
		struct rop_read_state *st = &q->states[q->n_states];
		uint16_t n = mapi_rd_u16(&sub);
		const uint8_t *p = mapi_rd_bytes(&sub, n);

		st->mark_read = mapi_rd_u8(&sub);
		if (mapi_rd_error(&sub))
			break;
		if (n) {
			st->source_key.data = g_memdup2(p, n);
			st->source_key.len = n;
		}
		q->n_states++;
	}
	rc = mapi_rd_error(&sub);
	if (!rc && mapi_rd_left(&sub))
		rc = -EPROTO;
	if (rc) {
		mapi_rd_fail(r, rc);
		rop_sync_import_read_state_req_clear(q);
	}
	return rc;
}

void rop_sync_import_read_state_req_clear(
	struct rop_sync_import_read_state_req *q)
{
	for (size_t i = 0; i < q->n_states; i++)
		g_free(q->states[i].source_key.data);
	g_free(q->states);
	q->states = NULL;
	q->n_states = 0;
}

void rop_sync_import_read_state_resp_write(GByteArray *b,
	const struct rop_sync_resp *s)
{
	rmsg_head_write(b, ROP_SYNCHRONIZATION_IMPORT_READ_STATE_CHANGES,
			&s->head);
}

int rop_sync_import_read_state_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s)
{
	return sync_resp_read(r, ROP_SYNCHRONIZATION_IMPORT_READ_STATE_CHANGES,
			      s);
}
