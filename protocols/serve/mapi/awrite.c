/*
 * awrite.c - attachments a client adds to a message being made:
 * RopCreateAttachment, RopSaveChangesAttachment, and the attached
 * message RopOpenEmbeddedMessage makes with its Create flag.
 *
 * Specs: MS-OXCROPS 2.2.6.16 (RopOpenEmbeddedMessage), 2.2.6.19
 * (RopCreateAttachment), 2.2.6.15 (RopSaveChangesAttachment); MS-OXCMSG
 * 3.2.5.4 (an attachment is part of its message once it is saved),
 * 3.2.5.9 (an attached message, AttachMethod afEmbeddedMessage).
 *
 * An attachment made is held by its message's reference (the pending
 * list) until RopSaveChangesAttachment moves it into the message's
 * attachments; one released unsaved is dropped with the message.  The
 * objects open on a message's attachments point into its array, so
 * that when the array grows they are moved along with it.
 */
#include <errno.h>
#include <string.h>

#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "wire/rop-msg.h"
#include "mapid-private.h"

/* MS-OXCMSG 2.2.2.9 AttachMethod of an attached message. */
#define AFEMBEDDED 5

int mapid_rop_create_attachment(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				GByteArray *out)
{
	struct rop_create_attachment_req q;
	struct rop_create_attachment_resp s = { 0 };
	struct mapid_obj *m, *o;
	int err = rop_create_attachment_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_CREATE_ATTACHMENT;
	s.head.handle_index = q.output_handle_index;
	m = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (m && (m->kind != MAPID_OBJ_MESSAGE || !m->ref))
		s.head.rv = MAPI_E_NO_SUPPORT;
	else if (m && !m->writable)
		s.head.rv = MAPI_E_NO_ACCESS;
	else if (m && (m->msg->n_attach +
		       (m->ref->pending ? m->ref->pending->len : 0) >=
		       MAPID_MSG_ATTACH_MAX ||
		       !mapid_msg_room(rc->sess, m, 256)))
		s.head.rv = MAPI_E_TOO_BIG;
	if (m && !s.head.rv) {
		struct mapi_attachment *a = g_new0(struct mapi_attachment, 1);

		if (!m->ref->pending)
			m->ref->pending = g_ptr_array_new();
		g_ptr_array_add(m->ref->pending, a);
		s.attach_num = m->ref->next_attach++;
		mapi_props_set_l(&a->props, MAPI_TAG_ATTACH_NUMBER,
				 (int32_t)s.attach_num);
		o = g_new0(struct mapid_obj, 1);
		o->kind = MAPID_OBJ_ATTACH;
		o->fid = m->fid;
		o->ref = m->ref;
		o->ref->refs++;
		o->msg = m->msg;
		o->att = a;
		o->writable = true;
		s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	}
	rop_create_attachment_resp_write(out, &s);
	return 0;
}

/* Every object of the session pointing at an attachment in [old, old+n)
 * or at `moved` now points at the same one in `base` (or at `to`). */
static void rebase(struct mapid_session *s, struct mapi_attachment *old,
		   size_t n, struct mapi_attachment *base,
		   struct mapi_attachment *moved, struct mapi_attachment *to)
{
	for (guint i = 0; i < s->objs->len; i++) {
		struct mapid_obj *o = s->objs->pdata[i];

		if (!o || !o->att)
			continue;
		if (o->att == moved)
			o->att = to;
		else if (old && n && o->att >= old && o->att < old + n)
			o->att = base + (o->att - old);
	}
}

int mapid_rop_save_changes_attachment(struct mapid_rop_ctx *rc,
				      struct mapi_rd *r, GByteArray *out)
{
	struct rop_save_changes_attachment_req q;
	struct rop_attach_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_save_changes_attachment_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SAVE_CHANGES_ATTACHMENT;
	s.head.handle_index = q.response_handle_index;
	o = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (o && (o->kind != MAPID_OBJ_ATTACH || !o->ref))
		s.head.rv = MAPI_E_NO_SUPPORT;
	else if (o && !o->writable)
		s.head.rv = MAPI_E_NO_ACCESS;
	if (o && !s.head.rv && o->ref->pending &&
	    g_ptr_array_remove(o->ref->pending, o->att)) {
		struct mapi_message *m = o->msg;
		struct mapi_attachment *a = o->att, *old = m->attach, *na;
		size_t n = m->n_attach;
		int32_t mf;

		(void)mapi_message_add_attach(m);
		rebase(rc->sess, old, n, m->attach, NULL, NULL);
		na = &m->attach[m->n_attach - 1];
		*na = *a;
		g_free(a);
		rebase(rc->sess, NULL, 0, NULL, a, na);
		mf = mapi_props_l(&m->props,
				  MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS), 0);
		mapi_props_set_l(&m->props, MAPI_TAG_MESSAGE_FLAGS,
				 mf | (int32_t)MAPI_MSGFLAG_HASATTACH);
		mapid_msg_touch(o, MAPI_TAG_ATTACH_NUMBER);
	}
	rop_save_changes_attachment_resp_write(out, &s);
	return 0;
}

uint32_t mapid_embedded_create(struct mapid_rop_ctx *rc, struct mapid_obj *a,
			       struct mapid_obj **o_r)
{
	struct mapid_obj *o;

	*o_r = NULL;
	if (!a->writable || !a->ref)
		return MAPI_E_NO_ACCESS;
	if (!mapid_msg_room(rc->sess, a, 256))
		return MAPI_E_TOO_BIG;
	if (!a->att->embedded) {
		a->att->embedded = mapi_message_new();
		mapi_props_set_str(&a->att->embedded->props,
				   MAPI_TAG_MESSAGE_CLASS, "IPM.Note");
		mapi_props_set_l(&a->att->embedded->props,
				 MAPI_TAG_MESSAGE_FLAGS,
				 (int32_t)MAPI_MSGFLAG_READ);
		mapi_props_set_l(&a->att->props, MAPI_TAG_ATTACH_METHOD,
				 AFEMBEDDED);
		mapid_msg_touch(a, MAPI_TAG_ATTACH_METHOD);
	}
	o = g_new0(struct mapid_obj, 1);
	o->kind = MAPID_OBJ_MESSAGE;
	o->fid = a->fid;
	o->ref = a->ref;
	o->ref->refs++;
	o->msg = a->att->embedded;
	o->writable = true;
	*o_r = o;
	return 0;
}
