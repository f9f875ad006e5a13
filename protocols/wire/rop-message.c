/*
 * rop-message.c - the message ROPs, MS-OXCROPS 2.2.6 (and
 * RopDeleteMessages, RopHardDeleteMessages and
 * RopMoveCopyMessages of 2.2.4), whose semantics MS-OXCMSG gives.  The
 * recipient rows they carry are in rop-recip.c.  See rop-msg.h.
 */
#include "rop-msg-private.h"

#include <errno.h>
#include <string.h>

/* RopOpenMessage, 2.2.6.1 */

void rop_open_message_req_write(GByteArray *b,
				const struct rop_open_message_req *q)
{
	mapi_wr_u8(b, ROP_OPEN_MESSAGE);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u16(b, q->code_page);
	mapi_wr_u64(b, q->folder_id);
	mapi_wr_u8(b, q->open_mode);
	mapi_wr_u64(b, q->message_id);
}

int rop_open_message_req_read(struct mapi_rd *r,
			      struct rop_open_message_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_OPEN_MESSAGE))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->output_handle_index = mapi_rd_u8(r);
	q->code_page = mapi_rd_u16(r);
	q->folder_id = mapi_rd_u64(r);
	q->open_mode = mapi_rd_u8(r);
	q->message_id = mapi_rd_u64(r);
	return mapi_rd_error(r);
}

int rop_open_message_resp_write(GByteArray *b,
				const struct rop_open_message_resp *s)
{
	rmsg_head_write(b, ROP_OPEN_MESSAGE, &s->head);
	if (s->head.rv)
		return 0;
	return rmsg_msg_info_write(b, &s->msg);
}

int rop_open_message_resp_read(struct mapi_rd *r,
			       struct rop_open_message_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_OPEN_MESSAGE, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	return rmsg_msg_info_read(r, &s->msg);
}

void rop_open_message_resp_clear(struct rop_open_message_resp *s)
{
	rop_msg_info_clear(&s->msg);
}

/* RopCreateMessage, 2.2.6.2 */

void rop_create_message_req_write(GByteArray *b,
				  const struct rop_create_message_req *q)
{
	mapi_wr_u8(b, ROP_CREATE_MESSAGE);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u16(b, q->code_page);
	mapi_wr_u64(b, q->folder_id);
	mapi_wr_u8(b, q->associated);
}

int rop_create_message_req_read(struct mapi_rd *r,
				struct rop_create_message_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_CREATE_MESSAGE))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->output_handle_index = mapi_rd_u8(r);
	q->code_page = mapi_rd_u16(r);
	q->folder_id = mapi_rd_u64(r);
	q->associated = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_create_message_resp_write(GByteArray *b,
				   const struct rop_create_message_resp *s)
{
	rmsg_head_write(b, ROP_CREATE_MESSAGE, &s->head);
	if (s->head.rv)
		return;
	mapi_wr_u8(b, s->has_message_id);
	if (s->has_message_id)
		mapi_wr_u64(b, s->message_id);
}

int rop_create_message_resp_read(struct mapi_rd *r,
				 struct rop_create_message_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_CREATE_MESSAGE, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->has_message_id = mapi_rd_u8(r);
	if (s->has_message_id)
		s->message_id = mapi_rd_u64(r);
	return mapi_rd_error(r);
}

/* RopSaveChangesMessage, 2.2.6.3 */

void rop_save_changes_message_req_write(GByteArray *b,
	const struct rop_save_changes_message_req *q)
{
	mapi_wr_u8(b, ROP_SAVE_CHANGES_MESSAGE);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->response_handle_index);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->save_flags);
}

int rop_save_changes_message_req_read(struct mapi_rd *r,
	struct rop_save_changes_message_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_SAVE_CHANGES_MESSAGE))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->response_handle_index = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->save_flags = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_save_changes_message_resp_write(GByteArray *b,
	const struct rop_save_changes_message_resp *s)
{
	rmsg_head_write(b, ROP_SAVE_CHANGES_MESSAGE, &s->head);
	if (s->head.rv)
		return;
	mapi_wr_u8(b, s->input_handle_index);
	mapi_wr_u64(b, s->message_id);
}

int rop_save_changes_message_resp_read(struct mapi_rd *r,
	struct rop_save_changes_message_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_SAVE_CHANGES_MESSAGE, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->input_handle_index = mapi_rd_u8(r);
	s->message_id = mapi_rd_u64(r);
	return mapi_rd_error(r);
}

/* RopReadRecipients, 2.2.6.6 */

void rop_read_recipients_req_write(GByteArray *b,
				   const struct rop_read_recipients_req *q)
{
	mapi_wr_u8(b, ROP_READ_RECIPIENTS);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u32(b, q->row_id);
	mapi_wr_u16(b, q->reserved);
}

int rop_read_recipients_req_read(struct mapi_rd *r,
				 struct rop_read_recipients_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_READ_RECIPIENTS))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->row_id = mapi_rd_u32(r);
	q->reserved = mapi_rd_u16(r);
	return mapi_rd_error(r);
}

int rop_read_recipients_resp_write(GByteArray *b,
				   const struct rop_read_recipients_resp *s,
				   const uint32_t *cols, size_t n_cols)
{
	rmsg_head_write(b, ROP_READ_RECIPIENTS, &s->head);
	if (s->head.rv)
		return 0;
	return rmsg_recips8_write(b, true, s->rows, s->n_rows, cols, n_cols);
}

int rop_read_recipients_resp_read(struct mapi_rd *r,
				  struct rop_read_recipients_resp *s,
				  const uint32_t *cols, size_t n_cols)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_READ_RECIPIENTS, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	return rmsg_recips8_read(r, true, cols, n_cols, &s->rows, &s->n_rows);
}

void rop_read_recipients_resp_clear(struct rop_read_recipients_resp *s)
{
	rmsg_recips_free(s->rows, s->n_rows);
	s->rows = NULL;
	s->n_rows = 0;
}

/* RopModifyRecipients, 2.2.6.5 */

int rop_modify_recipients_req_write(GByteArray *b,
	const struct rop_modify_recipients_req *q)
{
	size_t n_cols = q->n_cols > 0xFFFF ? 0xFFFF : q->n_cols;

	mapi_wr_u8(b, ROP_MODIFY_RECIPIENTS);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_tags_write(b, q->cols, n_cols);
	return rmsg_recips16_write(b, q->rows, q->n_rows, q->cols, n_cols);
}

int rop_modify_recipients_req_read(struct mapi_rd *r,
	struct rop_modify_recipients_req *q)
{
	int rc;

	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_MODIFY_RECIPIENTS))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	rc = mapi_tags_read(r, &q->cols, &q->n_cols);
	if (!rc)
		rc = rmsg_recips16_read(r, q->cols, q->n_cols, &q->rows,
					&q->n_rows);
	if (rc) {
		mapi_rd_fail(r, rc);
		rop_modify_recipients_req_clear(q);
	}
	return rc;
}

void rop_modify_recipients_req_clear(struct rop_modify_recipients_req *q)
{
	g_free(q->cols);
	rmsg_recips_free(q->rows, q->n_rows);
	q->cols = NULL;
	q->n_cols = 0;
	q->rows = NULL;
	q->n_rows = 0;
}

void rop_modify_recipients_resp_write(GByteArray *b,
	const struct rop_modify_recipients_resp *s)
{
	rmsg_head_write(b, ROP_MODIFY_RECIPIENTS, &s->head);
}

int rop_modify_recipients_resp_read(struct mapi_rd *r,
	struct rop_modify_recipients_resp *s)
{
	memset(s, 0, sizeof(*s));
	return rmsg_head_only_read(r, ROP_MODIFY_RECIPIENTS, &s->head);
}

/* RopRemoveAllRecipients, 2.2.6.4 */

void rop_remove_all_recipients_req_write(GByteArray *b,
	const struct rop_remove_all_recipients_req *q)
{
	mapi_wr_u8(b, ROP_REMOVE_ALL_RECIPIENTS);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u32(b, q->reserved);
}

int rop_remove_all_recipients_req_read(struct mapi_rd *r,
	struct rop_remove_all_recipients_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_REMOVE_ALL_RECIPIENTS))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->reserved = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

void rop_remove_all_recipients_resp_write(GByteArray *b,
	const struct rop_remove_all_recipients_resp *s)
{
	rmsg_head_write(b, ROP_REMOVE_ALL_RECIPIENTS, &s->head);
}

int rop_remove_all_recipients_resp_read(struct mapi_rd *r,
	struct rop_remove_all_recipients_resp *s)
{
	memset(s, 0, sizeof(*s));
	return rmsg_head_only_read(r, ROP_REMOVE_ALL_RECIPIENTS, &s->head);
}

/* RopSetMessageReadFlag, 2.2.6.11 */

void rop_set_message_read_flag_req_write(GByteArray *b,
	const struct rop_set_message_read_flag_req *q, bool public_logon)
{
	mapi_wr_u8(b, ROP_SET_MESSAGE_READ_FLAG);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->response_handle_index);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->read_flags);
	if (public_logon)
		mapi_wr_bytes(b, q->client_data, ROP_CLIENT_DATA_LEN);
}

int rop_set_message_read_flag_req_read(struct mapi_rd *r,
	struct rop_set_message_read_flag_req *q, bool public_logon)
{
	const uint8_t *cd;

	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_SET_MESSAGE_READ_FLAG))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->response_handle_index = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->read_flags = mapi_rd_u8(r);
	if (public_logon) {
		cd = mapi_rd_bytes(r, ROP_CLIENT_DATA_LEN);
		if (cd)
			memcpy(q->client_data, cd, ROP_CLIENT_DATA_LEN);
	}
	return mapi_rd_error(r);
}

void rop_set_message_read_flag_resp_write(GByteArray *b,
	const struct rop_set_message_read_flag_resp *s)
{
	rmsg_head_write(b, ROP_SET_MESSAGE_READ_FLAG, &s->head);
	if (s->head.rv)
		return;
	mapi_wr_u8(b, s->read_status_changed);
	if (s->read_status_changed) {
		mapi_wr_u8(b, s->logon_id);
		mapi_wr_bytes(b, s->client_data, ROP_CLIENT_DATA_LEN);
	}
}

int rop_set_message_read_flag_resp_read(struct mapi_rd *r,
	struct rop_set_message_read_flag_resp *s)
{
	const uint8_t *cd;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_SET_MESSAGE_READ_FLAG, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->read_status_changed = mapi_rd_u8(r);
	if (s->read_status_changed) {
		s->logon_id = mapi_rd_u8(r);
		cd = mapi_rd_bytes(r, ROP_CLIENT_DATA_LEN);
		if (cd)
			memcpy(s->client_data, cd, ROP_CLIENT_DATA_LEN);
	}
	return mapi_rd_error(r);
}

/* The responses that end in PartialCompletion. */

static void partial_write(GByteArray *b, uint8_t id,
			  const struct rop_partial_resp *s)
{
	rmsg_head_write(b, id, &s->head);
	if (!s->head.rv)
		mapi_wr_u8(b, s->partial_completion);
}

static int partial_read(struct mapi_rd *r, uint8_t id,
			struct rop_partial_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, id, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->partial_completion = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

/* RopSetReadFlags, 2.2.6.10 */

void rop_set_read_flags_req_write(GByteArray *b,
				  const struct rop_set_read_flags_req *q)
{
	mapi_wr_u8(b, ROP_SET_READ_FLAGS);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->want_async);
	mapi_wr_u8(b, q->read_flags);
	rmsg_mids_write(b, q->mids, q->n_mids);
}

int rop_set_read_flags_req_read(struct mapi_rd *r,
				struct rop_set_read_flags_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_SET_READ_FLAGS))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->want_async = mapi_rd_u8(r);
	q->read_flags = mapi_rd_u8(r);
	return rmsg_mids_read(r, &q->mids, &q->n_mids);
}

void rop_set_read_flags_req_clear(struct rop_set_read_flags_req *q)
{
	g_free(q->mids);
	q->mids = NULL;
	q->n_mids = 0;
}

void rop_set_read_flags_resp_write(GByteArray *b,
				   const struct rop_partial_resp *s)
{
	partial_write(b, ROP_SET_READ_FLAGS, s);
}

int rop_set_read_flags_resp_read(struct mapi_rd *r, struct rop_partial_resp *s)
{
	return partial_read(r, ROP_SET_READ_FLAGS, s);
}

/* RopDeleteMessages (2.2.4.11) and RopHardDeleteMessages (2.2.4.12) */

static void delete_req_write(GByteArray *b, uint8_t id,
			     const struct rop_delete_messages_req *q)
{
	mapi_wr_u8(b, id);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->want_async);
	mapi_wr_u8(b, q->notify_non_read);
	rmsg_mids_write(b, q->mids, q->n_mids);
}

static int delete_req_read(struct mapi_rd *r, uint8_t id,
			   struct rop_delete_messages_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, id))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->want_async = mapi_rd_u8(r);
	q->notify_non_read = mapi_rd_u8(r);
	return rmsg_mids_read(r, &q->mids, &q->n_mids);
}

void rop_delete_messages_req_write(GByteArray *b,
				   const struct rop_delete_messages_req *q)
{
	delete_req_write(b, ROP_DELETE_MESSAGES, q);
}

int rop_delete_messages_req_read(struct mapi_rd *r,
				 struct rop_delete_messages_req *q)
{
	return delete_req_read(r, ROP_DELETE_MESSAGES, q);
}

void rop_delete_messages_req_clear(struct rop_delete_messages_req *q)
{
	g_free(q->mids);
	q->mids = NULL;
	q->n_mids = 0;
}

void rop_delete_messages_resp_write(GByteArray *b,
				    const struct rop_partial_resp *s)
{
	partial_write(b, ROP_DELETE_MESSAGES, s);
}

int rop_delete_messages_resp_read(struct mapi_rd *r,
				  struct rop_partial_resp *s)
{
	return partial_read(r, ROP_DELETE_MESSAGES, s);
}

void rop_hard_delete_messages_req_write(GByteArray *b,
	const struct rop_delete_messages_req *q)
{
	delete_req_write(b, ROP_HARD_DELETE_MESSAGES, q);
}

int rop_hard_delete_messages_req_read(struct mapi_rd *r,
	struct rop_delete_messages_req *q)
{
	return delete_req_read(r, ROP_HARD_DELETE_MESSAGES, q);
}

void rop_hard_delete_messages_resp_write(GByteArray *b,
	const struct rop_partial_resp *s)
{
	partial_write(b, ROP_HARD_DELETE_MESSAGES, s);
}

int rop_hard_delete_messages_resp_read(struct mapi_rd *r,
	struct rop_partial_resp *s)
{
	return partial_read(r, ROP_HARD_DELETE_MESSAGES, s);
}

/* RopMoveCopyMessages, 2.2.4.6 */

void rop_move_copy_messages_req_write(GByteArray *b,
	const struct rop_move_copy_messages_req *q)
{
	mapi_wr_u8(b, ROP_MOVE_COPY_MESSAGES);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->source_handle_index);
	mapi_wr_u8(b, q->dest_handle_index);
	rmsg_mids_write(b, q->mids, q->n_mids);
	mapi_wr_u8(b, q->want_async);
	mapi_wr_u8(b, q->want_copy);
}

int rop_move_copy_messages_req_read(struct mapi_rd *r,
	struct rop_move_copy_messages_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_MOVE_COPY_MESSAGES))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->source_handle_index = mapi_rd_u8(r);
	q->dest_handle_index = mapi_rd_u8(r);
	if (rmsg_mids_read(r, &q->mids, &q->n_mids))
		return mapi_rd_error(r);
	q->want_async = mapi_rd_u8(r);
	q->want_copy = mapi_rd_u8(r);
	if (mapi_rd_error(r))
		rop_move_copy_messages_req_clear(q);
	return mapi_rd_error(r);
}

void rop_move_copy_messages_req_clear(struct rop_move_copy_messages_req *q)
{
	g_free(q->mids);
	q->mids = NULL;
	q->n_mids = 0;
}

void rop_move_copy_messages_resp_write(GByteArray *b,
	const struct rop_move_copy_messages_resp *s)
{
	rmsg_head_write(b, ROP_MOVE_COPY_MESSAGES, &s->head);
	if (s->head.rv == ROP_E_DST_NULL_OBJECT)
		mapi_wr_u32(b, s->dest_handle_index);
	else if (s->head.rv)
		return;
	mapi_wr_u8(b, s->partial);
}

int rop_move_copy_messages_resp_read(struct mapi_rd *r,
	struct rop_move_copy_messages_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_MOVE_COPY_MESSAGES, &s->head);
	if (rc < 0)
		return rc;
	if (s->head.rv == ROP_E_DST_NULL_OBJECT)
		s->dest_handle_index = mapi_rd_u32(r);
	else if (s->head.rv)
		return 0;
	s->partial = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

/* RopOpenEmbeddedMessage, 2.2.6.16 */

void rop_open_embedded_message_req_write(GByteArray *b,
	const struct rop_open_embedded_message_req *q)
{
	mapi_wr_u8(b, ROP_OPEN_EMBEDDED_MESSAGE);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u16(b, q->code_page);
	mapi_wr_u8(b, q->open_mode);
}

int rop_open_embedded_message_req_read(struct mapi_rd *r,
	struct rop_open_embedded_message_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_OPEN_EMBEDDED_MESSAGE))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->output_handle_index = mapi_rd_u8(r);
	q->code_page = mapi_rd_u16(r);
	q->open_mode = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

int rop_open_embedded_message_resp_write(GByteArray *b,
	const struct rop_open_embedded_message_resp *s)
{
	rmsg_head_write(b, ROP_OPEN_EMBEDDED_MESSAGE, &s->head);
	if (s->head.rv)
		return 0;
	mapi_wr_u8(b, s->reserved);
	mapi_wr_u64(b, s->message_id);
	return rmsg_msg_info_write(b, &s->msg);
}

int rop_open_embedded_message_resp_read(struct mapi_rd *r,
	struct rop_open_embedded_message_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_OPEN_EMBEDDED_MESSAGE, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->reserved = mapi_rd_u8(r);
	s->message_id = mapi_rd_u64(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	return rmsg_msg_info_read(r, &s->msg);
}

void rop_open_embedded_message_resp_clear(
	struct rop_open_embedded_message_resp *s)
{
	rop_msg_info_clear(&s->msg);
}

/* RopSubmitMessage, MS-OXCROPS 2.2.7.1 */

void rop_submit_message_req_write(GByteArray *b,
				  const struct rop_submit_message_req *q)
{
	mapi_wr_u8(b, ROP_SUBMIT_MESSAGE);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->submit_flags);
}

int rop_submit_message_req_read(struct mapi_rd *r,
				struct rop_submit_message_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_SUBMIT_MESSAGE))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->submit_flags = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_submit_message_resp_write(GByteArray *b,
				   const struct rop_submit_message_resp *s)
{
	rmsg_head_write(b, ROP_SUBMIT_MESSAGE, &s->head);
}

int rop_submit_message_resp_read(struct mapi_rd *r,
				 struct rop_submit_message_resp *s)
{
	memset(s, 0, sizeof(*s));
	return rmsg_head_only_read(r, ROP_SUBMIT_MESSAGE, &s->head);
}
