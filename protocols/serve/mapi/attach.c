/*
 * attach.c - the attachments of an open message: RopGetAttachmentTable,
 * RopOpenAttachment and RopOpenEmbeddedMessage (one made with its
 * Create flag is awrite.c's).
 *
 * Specs: MS-OXCROPS 2.2.6.16 (RopOpenEmbeddedMessage), 2.2.6.17
 * (RopGetAttachmentTable), 2.2.6.18 (RopOpenAttachment); MS-OXCMSG
 * 2.2.2 (attachment properties), 3.2.5.2, 3.2.5.4 and 3.2.5.9.
 *
 * The attachment table is a table object like a contents table (table.c
 * answers SetColumns, QueryRows, QueryPosition and SeekRow on it): a row
 * per attachment with its properties but its bytes, which are read by
 * RopOpenAttachment and a stream.  An attached message (AttachMethod 5)
 * opens as a message object on the same reference as its parent, with
 * MAPID_EMBEDDED_MID as its id.
 */
#include <errno.h>
#include <string.h>

#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "wire/rop-msg.h"
#include "mapid-private.h"

/* MS-OXCDATA 2.2.1.3 ObjectType of an attachment. */
#define OBJECT_ATTACHMENT 7

static void row_free(gpointer p)
{
	mapi_props_clear(p);
	g_free(p);
}

/* The table row of attachment `a`. */
static struct mapi_props *attach_row(const struct mapi_attachment *a)
{
	struct mapi_props *p = g_new0(struct mapi_props, 1);

	for (size_t i = 0; i < a->props.n; i++) {
		struct mapi_value v;

		if (MAPI_TAG_ID(a->props.v[i].tag) ==
		    MAPI_TAG_ID(MAPI_TAG_ATTACH_DATA_BINARY))
			continue;
		mapi_value_copy(&v, &a->props.v[i]);
		mapi_props_take(p, &v);
	}
	mapi_props_set_l(p, MAPI_TAG_OBJECT_TYPE, OBJECT_ATTACHMENT);
	return p;
}

int mapid_rop_get_attachment_table(struct mapid_rop_ctx *rc,
				   struct mapi_rd *r, GByteArray *out)
{
	struct rop_get_attachment_table_req q;
	struct rop_attach_resp s = { 0 };
	struct mapid_obj *m, *o;
	int err = rop_get_attachment_table_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_GET_ATTACHMENT_TABLE;
	s.head.handle_index = q.output_handle_index;
	m = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (m && m->kind != MAPID_OBJ_MESSAGE)
		s.head.rv = MAPI_E_NO_SUPPORT;
	else if (m) {
		o = g_new0(struct mapid_obj, 1);
		o->kind = MAPID_OBJ_TABLE;
		o->fid = m->fid;
		o->table_flags = q.table_flags;
		o->rows = g_ptr_array_new_with_free_func(row_free);
		for (size_t i = 0; i < m->msg->n_attach; i++)
			g_ptr_array_add(o->rows,
					attach_row(&m->msg->attach[i]));
		s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	}
	rop_get_attachment_table_resp_write(out, &s);
	return 0;
}

int mapid_rop_open_attachment(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out)
{
	struct rop_open_attachment_req q;
	struct rop_attach_resp s = { 0 };
	struct mapid_obj *m, *o;
	struct mapi_attachment *a = NULL;
	int err = rop_open_attachment_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_OPEN_ATTACHMENT;
	s.head.handle_index = q.output_handle_index;
	m = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (m && m->kind != MAPID_OBJ_MESSAGE)
		s.head.rv = MAPI_E_NO_SUPPORT;
	for (size_t i = 0; m && !s.head.rv && i < m->msg->n_attach; i++)
		if (mapi_props_l(&m->msg->attach[i].props,
				 MAPI_TAG_ID(MAPI_TAG_ATTACH_NUMBER), -1) ==
		    (int32_t)q.attach_num)
			a = &m->msg->attach[i];
	if (m && !s.head.rv && !a)
		s.head.rv = MAPI_E_NOT_FOUND;
	if (a) {
		o = g_new0(struct mapid_obj, 1);
		o->kind = MAPID_OBJ_ATTACH;
		o->fid = m->fid;
		o->ref = m->ref;
		o->ref->refs++;
		o->msg = m->msg;
		o->att = a;
		o->writable = (q.open_flags & ROP_OPEN_READ_WRITE) != 0;
		s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	}
	rop_open_attachment_resp_write(out, &s);
	return 0;
}

int mapid_rop_open_embedded_message(struct mapid_rop_ctx *rc,
				    struct mapi_rd *r, GByteArray *out)
{
	struct rop_open_embedded_message_req q;
	struct rop_open_embedded_message_resp s = { 0 };
	struct mapid_obj *a, *o = NULL;
	int err = rop_open_embedded_message_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_OPEN_EMBEDDED_MESSAGE;
	s.head.handle_index = q.output_handle_index;
	a = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (a && a->kind != MAPID_OBJ_ATTACH)
		s.head.rv = MAPI_E_NO_SUPPORT;
	else if (a && (q.open_mode & ROP_OPEN_CREATE))
		s.head.rv = mapid_embedded_create(rc, a, &o); /* awrite.c */
	else if (a && !a->att->embedded)
		s.head.rv = MAPI_E_NOT_FOUND;
	else if (a) {
		o = g_new0(struct mapid_obj, 1);
		o->kind = MAPID_OBJ_MESSAGE;
		o->fid = a->fid;
		o->ref = a->ref;
		o->ref->refs++;
		o->msg = a->att->embedded;
		o->writable = a->writable &&
			      (q.open_mode & ROP_OPEN_READ_WRITE);
	}
	if (a && !s.head.rv) {
		s.message_id = MAPID_EMBEDDED_MID;
		mapid_msg_info(o->msg, rc->room > 16 ? rc->room - 16 : 0,
			       &s.msg);
		s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	}
	(void)rop_open_embedded_message_resp_write(out, &s);
	rop_open_embedded_message_resp_clear(&s);
	return 0;
}
