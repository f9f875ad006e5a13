/*
 * rop-attach.c - the attachment ROPs, MS-OXCROPS 2.2.6.17 to 2.2.6.21
 * (semantics in MS-OXCMSG 3.2.5): the attachment table, open, create,
 * save and delete an attachment.  The data of an attachment travels as a
 * property or a stream (rop-stream.c); an attached message is opened
 * with RopOpenEmbeddedMessage (rop-message.c).  See rop-msg.h.
 */
#include "rop-msg-private.h"

#include <string.h>

/* RopGetAttachmentTable, 2.2.6.17 */

void rop_get_attachment_table_req_write(GByteArray *b,
	const struct rop_get_attachment_table_req *q)
{
	mapi_wr_u8(b, ROP_GET_ATTACHMENT_TABLE);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u8(b, q->table_flags);
}

int rop_get_attachment_table_req_read(struct mapi_rd *r,
	struct rop_get_attachment_table_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_GET_ATTACHMENT_TABLE))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->output_handle_index = mapi_rd_u8(r);
	q->table_flags = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_get_attachment_table_resp_write(GByteArray *b,
	const struct rop_attach_resp *s)
{
	rmsg_head_write(b, ROP_GET_ATTACHMENT_TABLE, &s->head);
}

int rop_get_attachment_table_resp_read(struct mapi_rd *r,
	struct rop_attach_resp *s)
{
	memset(s, 0, sizeof(*s));
	return rmsg_head_only_read(r, ROP_GET_ATTACHMENT_TABLE, &s->head);
}

/* RopOpenAttachment, 2.2.6.18 */

void rop_open_attachment_req_write(GByteArray *b,
				   const struct rop_open_attachment_req *q)
{
	mapi_wr_u8(b, ROP_OPEN_ATTACHMENT);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u8(b, q->open_flags);
	mapi_wr_u32(b, q->attach_num);
}

int rop_open_attachment_req_read(struct mapi_rd *r,
				 struct rop_open_attachment_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_OPEN_ATTACHMENT))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->output_handle_index = mapi_rd_u8(r);
	q->open_flags = mapi_rd_u8(r);
	q->attach_num = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

void rop_open_attachment_resp_write(GByteArray *b,
				    const struct rop_attach_resp *s)
{
	rmsg_head_write(b, ROP_OPEN_ATTACHMENT, &s->head);
}

int rop_open_attachment_resp_read(struct mapi_rd *r,
				  struct rop_attach_resp *s)
{
	memset(s, 0, sizeof(*s));
	return rmsg_head_only_read(r, ROP_OPEN_ATTACHMENT, &s->head);
}

/* RopCreateAttachment, 2.2.6.19 */

void rop_create_attachment_req_write(GByteArray *b,
	const struct rop_create_attachment_req *q)
{
	mapi_wr_u8(b, ROP_CREATE_ATTACHMENT);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
}

int rop_create_attachment_req_read(struct mapi_rd *r,
	struct rop_create_attachment_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_CREATE_ATTACHMENT))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->output_handle_index = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_create_attachment_resp_write(GByteArray *b,
	const struct rop_create_attachment_resp *s)
{
	rmsg_head_write(b, ROP_CREATE_ATTACHMENT, &s->head);
	if (!s->head.rv)
		mapi_wr_u32(b, s->attach_num);
}

int rop_create_attachment_resp_read(struct mapi_rd *r,
	struct rop_create_attachment_resp *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rmsg_head(r, ROP_CREATE_ATTACHMENT, &s->head);
	if (rc)
		return rc < 0 ? rc : 0;
	s->attach_num = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

/* RopSaveChangesAttachment, 2.2.6.15 */

void rop_save_changes_attachment_req_write(GByteArray *b,
	const struct rop_save_changes_attachment_req *q)
{
	mapi_wr_u8(b, ROP_SAVE_CHANGES_ATTACHMENT);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->response_handle_index);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->save_flags);
}

int rop_save_changes_attachment_req_read(struct mapi_rd *r,
	struct rop_save_changes_attachment_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_SAVE_CHANGES_ATTACHMENT))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->response_handle_index = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->save_flags = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_save_changes_attachment_resp_write(GByteArray *b,
	const struct rop_attach_resp *s)
{
	rmsg_head_write(b, ROP_SAVE_CHANGES_ATTACHMENT, &s->head);
}

int rop_save_changes_attachment_resp_read(struct mapi_rd *r,
	struct rop_attach_resp *s)
{
	memset(s, 0, sizeof(*s));
	return rmsg_head_only_read(r, ROP_SAVE_CHANGES_ATTACHMENT, &s->head);
}

/* RopDeleteAttachment, 2.2.6.20 */

void rop_delete_attachment_req_write(GByteArray *b,
	const struct rop_delete_attachment_req *q)
{
	mapi_wr_u8(b, ROP_DELETE_ATTACHMENT);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u32(b, q->attach_num);
}

int rop_delete_attachment_req_read(struct mapi_rd *r,
	struct rop_delete_attachment_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_DELETE_ATTACHMENT))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->attach_num = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

void rop_delete_attachment_resp_write(GByteArray *b,
	const struct rop_attach_resp *s)
{
	rmsg_head_write(b, ROP_DELETE_ATTACHMENT, &s->head);
}

int rop_delete_attachment_resp_read(struct mapi_rd *r,
	struct rop_attach_resp *s)
{
	memset(s, 0, sizeof(*s));
	return rmsg_head_only_read(r, ROP_DELETE_ATTACHMENT, &s->head);
}
