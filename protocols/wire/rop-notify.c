/*
 * rop-notify.c - notifications, MS-OXCROPS 2.2.14 and MS-OXCNOTIF 2.2.1:
 * RopRegisterNotification, and what a server appends to any response
 * after the regular ones: RopNotify with its NotificationData
 * (MS-OXCNOTIF 2.2.1.4.1.2), RopPending (2.2.14.3), RopBackoff and
 * RopBufferTooSmall (MS-OXCROPS 2.2.15).  See rop-msg.h.
 */
#include "rop-msg-private.h"

#include <errno.h>
#include <string.h>

/* RopRegisterNotification, 2.2.14.1 */

void rop_register_notification_req_write(GByteArray *b,
	const struct rop_register_notification_req *q)
{
	mapi_wr_u8(b, ROP_REGISTER_NOTIFICATION);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u8(b, q->types);
	mapi_wr_u8(b, q->reserved);
	mapi_wr_u8(b, q->want_whole_store);
	if (!q->want_whole_store) {
		mapi_wr_u64(b, q->folder_id);
		mapi_wr_u64(b, q->message_id);
	}
}

int rop_register_notification_req_read(struct mapi_rd *r,
	struct rop_register_notification_req *q)
{
	memset(q, 0, sizeof(*q));
	if (rmsg_id(r, ROP_REGISTER_NOTIFICATION))
		return mapi_rd_error(r);
	q->logon_id = mapi_rd_u8(r);
	q->input_handle_index = mapi_rd_u8(r);
	q->output_handle_index = mapi_rd_u8(r);
	q->types = mapi_rd_u8(r);
	q->reserved = mapi_rd_u8(r);
	q->want_whole_store = mapi_rd_u8(r);
	if (!q->want_whole_store) {
		q->folder_id = mapi_rd_u64(r);
		q->message_id = mapi_rd_u64(r);
	}
	return mapi_rd_error(r);
}

void rop_register_notification_resp_write(GByteArray *b,
	const struct rop_register_notification_resp *s)
{
	rmsg_head_write(b, ROP_REGISTER_NOTIFICATION, &s->head);
}

int rop_register_notification_resp_read(struct mapi_rd *r,
	struct rop_register_notification_resp *s)
{
	memset(s, 0, sizeof(*s));
	return rmsg_head_only_read(r, ROP_REGISTER_NOTIFICATION, &s->head);
}

/* NotificationData: which fields travel, MS-OXCNOTIF 2.2.1.4.1.2. */

static bool type_known(uint16_t type)
{
	switch (type) {
	case ROP_NOTIF_NEW_MAIL:
	case ROP_NOTIF_OBJECT_CREATED:
	case ROP_NOTIF_OBJECT_DELETED:
	case ROP_NOTIF_OBJECT_MODIFIED:
	case ROP_NOTIF_OBJECT_MOVED:
	case ROP_NOTIF_OBJECT_COPIED:
	case ROP_NOTIF_SEARCH_COMPLETE:
	case ROP_NOTIF_TABLE_MODIFIED:
		return true;
	default:
		return false;
	}
}

static bool row_event(uint16_t ev)
{
	return ev == ROP_TABLE_ROW_ADDED || ev == ROP_TABLE_ROW_DELETED ||
	       ev == ROP_TABLE_ROW_MODIFIED;
}

static bool row_data_event(uint16_t ev)
{
	return ev == ROP_TABLE_ROW_ADDED || ev == ROP_TABLE_ROW_MODIFIED;
}

static bool move_or_copy(uint16_t type)
{
	return type == ROP_NOTIF_OBJECT_MOVED || type == ROP_NOTIF_OBJECT_COPIED;
}

static bool has_parent(uint16_t flags)
{
	uint16_t type = flags & ROP_NOTIF_TYPE_MASK;
	bool m = flags & ROP_NOTIF_M, s = flags & ROP_NOTIF_S;

	return (type == ROP_NOTIF_OBJECT_CREATED ||
		type == ROP_NOTIF_OBJECT_DELETED || move_or_copy(type)) &&
	       (s || !m);
}

static bool has_tags(uint16_t type)
{
	return type == ROP_NOTIF_OBJECT_CREATED ||
	       type == ROP_NOTIF_OBJECT_MODIFIED;
}

static void table_read(struct mapi_rd *r, struct rop_notification *n)
{
	bool m = n->flags & ROP_NOTIF_M;

	n->table_event = mapi_rd_u16(r);
	if (row_event(n->table_event)) {
		n->row_fid = mapi_rd_u64(r);
		if (m) {
			n->row_mid = mapi_rd_u64(r);
			n->row_instance = mapi_rd_u32(r);
		}
	}
	if (row_data_event(n->table_event)) {
		n->after_fid = mapi_rd_u64(r);
		if (m) {
			n->after_mid = mapi_rd_u64(r);
			n->after_instance = mapi_rd_u32(r);
		}
		n->row_len = mapi_rd_u16(r);
		n->row_data = mapi_rd_bytes(r, n->row_len);
	}
}

static void object_read(struct mapi_rd *r, struct rop_notification *n)
{
	uint16_t type = n->flags & ROP_NOTIF_TYPE_MASK;
	bool m = n->flags & ROP_NOTIF_M;

	n->fid = mapi_rd_u64(r);
	if (m)
		n->mid = mapi_rd_u64(r);
	if (has_parent(n->flags))
		n->parent_fid = mapi_rd_u64(r);
	if (move_or_copy(type)) {
		n->old_fid = mapi_rd_u64(r);
		if (m)
			n->old_mid = mapi_rd_u64(r);
		else
			n->old_parent_fid = mapi_rd_u64(r);
	}
	if (!has_tags(type))
		return;
	n->tag_count = mapi_rd_u16(r);
	if (n->tag_count == 0 || n->tag_count == 0xFFFF || mapi_rd_error(r))
		return;
	if (n->tag_count > mapi_rd_left(r) / 4) {
		mapi_rd_fail(r, -EBADMSG);
		return;
	}
	n->tags = g_new(uint32_t, n->tag_count);
	for (size_t i = 0; i < n->tag_count; i++)
		n->tags[i] = mapi_rd_u32(r);
}

int rop_notification_read(struct mapi_rd *r, struct rop_notification *n)
{
	uint16_t type;

	memset(n, 0, sizeof(*n));
	n->flags = mapi_rd_u16(r);
	type = n->flags & ROP_NOTIF_TYPE_MASK;
	if (!mapi_rd_error(r) && !type_known(type))
		mapi_rd_fail(r, -EPROTO);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (type == ROP_NOTIF_TABLE_MODIFIED)
		table_read(r, n);
	else
		object_read(r, n);
	if (n->flags & ROP_NOTIF_T)
		n->total = mapi_rd_u32(r);
	if (n->flags & ROP_NOTIF_U)
		n->unread = mapi_rd_u32(r);
	if (type == ROP_NOTIF_NEW_MAIL) {
		n->message_flags = mapi_rd_u32(r);
		n->unicode = mapi_rd_u8(r);
		if (n->unicode)
			n->message_class = mapi_rd_utf16z(r, mapi_rd_left(r));
		else
			n->message_class = mapi_rd_str8(r, mapi_rd_left(r));
	}
	if (mapi_rd_error(r)) {
		rop_notification_clear(n);
		return mapi_rd_error(r);
	}
	return 0;
}

static void table_write(GByteArray *b, const struct rop_notification *n)
{
	bool m = n->flags & ROP_NOTIF_M;

	mapi_wr_u16(b, n->table_event);
	if (row_event(n->table_event)) {
		mapi_wr_u64(b, n->row_fid);
		if (m) {
			mapi_wr_u64(b, n->row_mid);
			mapi_wr_u32(b, n->row_instance);
		}
	}
	if (row_data_event(n->table_event)) {
		mapi_wr_u64(b, n->after_fid);
		if (m) {
			mapi_wr_u64(b, n->after_mid);
			mapi_wr_u32(b, n->after_instance);
		}
		mapi_wr_u16(b, n->row_len);
		mapi_wr_bytes(b, n->row_data, n->row_len);
	}
}

static void object_write(GByteArray *b, const struct rop_notification *n)
{
	uint16_t type = n->flags & ROP_NOTIF_TYPE_MASK;
	bool m = n->flags & ROP_NOTIF_M;

	mapi_wr_u64(b, n->fid);
	if (m)
		mapi_wr_u64(b, n->mid);
	if (has_parent(n->flags))
		mapi_wr_u64(b, n->parent_fid);
	if (move_or_copy(type)) {
		mapi_wr_u64(b, n->old_fid);
		mapi_wr_u64(b, m ? n->old_mid : n->old_parent_fid);
	}
	if (!has_tags(type))
		return;
	mapi_wr_u16(b, n->tags || n->tag_count == 0xFFFF ? n->tag_count : 0);
	if (n->tags && n->tag_count != 0xFFFF)
		for (size_t i = 0; i < n->tag_count; i++)
			mapi_wr_u32(b, n->tags[i]);
}

int rop_notification_write(GByteArray *b, const struct rop_notification *n)
{
	uint16_t type = n->flags & ROP_NOTIF_TYPE_MASK;
	const char *mc = n->message_class ? n->message_class : "";
	int rc = 0;

	mapi_wr_u16(b, n->flags);
	if (type == ROP_NOTIF_TABLE_MODIFIED)
		table_write(b, n);
	else
		object_write(b, n);
	if (n->flags & ROP_NOTIF_T)
		mapi_wr_u32(b, n->total);
	if (n->flags & ROP_NOTIF_U)
		mapi_wr_u32(b, n->unread);
	if (type == ROP_NOTIF_NEW_MAIL) {
		mapi_wr_u32(b, n->message_flags);
		mapi_wr_u8(b, n->unicode);
		if (!n->unicode) {
			mapi_wr_str8z(b, mc);
		} else if (mapi_wr_utf16z(b, mc)) {
			mapi_wr_u16(b, 0);
			rc = -EINVAL;
		}
	}
	return rc;
}

void rop_notification_clear(struct rop_notification *n)
{
	g_free(n->tags);
	g_free(n->message_class);
	memset(n, 0, sizeof(*n));
}

int rop_notification_row(const struct rop_notification *n,
			 const uint32_t *cols, size_t n_cols,
			 struct mapi_row *row)
{
	struct mapi_rd r;
	int rc;

	memset(row, 0, sizeof(*row));
	if ((n->flags & ROP_NOTIF_TYPE_MASK) != ROP_NOTIF_TABLE_MODIFIED ||
	    !row_data_event(n->table_event) || !n->row_data)
		return -EPROTO;
	mapi_rd_init(&r, n->row_data, n->row_len);
	rc = mapi_row_read(&r, cols, n_cols, 0, row);
	if (!rc && mapi_rd_left(&r)) {
		mapi_row_clear(row);
		rc = -EPROTO;
	}
	return rc;
}

/* The trailing entries. */

bool rop_is_trailer(uint8_t rop_id)
{
	return rop_id == ROP_NOTIFY || rop_id == ROP_PENDING ||
	       rop_id == ROP_BACKOFF || rop_id == ROP_BUFFER_TOO_SMALL;
}

static int backoff_read(struct mapi_rd *r, struct rop_backoff *bo)
{
	size_t n;

	bo->logon_id = mapi_rd_u8(r);
	bo->duration = mapi_rd_u32(r);
	n = mapi_rd_u8(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (n > mapi_rd_left(r) / 5) {
		mapi_rd_fail(r, -EBADMSG);
		return -EBADMSG;
	}
	if (n) {
		bo->rops = g_new(struct rop_backoff_rop, n);
		bo->n_rops = n;
	}
	for (size_t i = 0; i < n; i++) {
		bo->rops[i].rop_id = mapi_rd_u8(r);
		bo->rops[i].duration = mapi_rd_u32(r);
	}
	bo->extra_len = mapi_rd_u16(r);
	bo->extra = mapi_rd_bytes(r, bo->extra_len);
	return mapi_rd_error(r);
}

int rop_trailer_read(struct mapi_rd *r, struct rop_trailer *t)
{
	const uint8_t *rest;

	memset(t, 0, sizeof(*t));
	t->rop_id = mapi_rd_u8(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	switch (t->rop_id) {
	case ROP_NOTIFY:
		t->u.notify.handle = mapi_rd_u32(r);
		t->u.notify.logon_id = mapi_rd_u8(r);
		if (!mapi_rd_error(r))
			rop_notification_read(r, &t->u.notify.data);
		break;
	case ROP_PENDING:
		t->u.pending.session_index = mapi_rd_u16(r);
		break;
	case ROP_BACKOFF:
		backoff_read(r, &t->u.backoff);
		break;
	case ROP_BUFFER_TOO_SMALL:
		t->u.too_small.size_needed = mapi_rd_u16(r);
		t->u.too_small.req_len = mapi_rd_left(r);
		rest = mapi_rd_bytes(r, t->u.too_small.req_len);
		t->u.too_small.req = rest;
		break;
	default:
		mapi_rd_fail(r, -EPROTO);
		break;
	}
	if (mapi_rd_error(r)) {
		rop_trailer_clear(t);
		return mapi_rd_error(r);
	}
	return 0;
}

int rop_trailer_write(GByteArray *b, const struct rop_trailer *t)
{
	const struct rop_backoff *bo = &t->u.backoff;
	size_t n;

	mapi_wr_u8(b, t->rop_id);
	switch (t->rop_id) {
	case ROP_NOTIFY:
		mapi_wr_u32(b, t->u.notify.handle);
		mapi_wr_u8(b, t->u.notify.logon_id);
		return rop_notification_write(b, &t->u.notify.data);
	case ROP_PENDING:
		mapi_wr_u16(b, t->u.pending.session_index);
		return 0;
	case ROP_BACKOFF:
		n = bo->n_rops > 0xFF ? 0xFF : bo->n_rops;
		mapi_wr_u8(b, bo->logon_id);
		mapi_wr_u32(b, bo->duration);
		mapi_wr_u8(b, (uint8_t)n);
		for (size_t i = 0; i < n; i++) {
			mapi_wr_u8(b, bo->rops[i].rop_id);
			mapi_wr_u32(b, bo->rops[i].duration);
		}
		mapi_wr_u16(b, bo->extra_len);
		mapi_wr_bytes(b, bo->extra, bo->extra_len);
		return 0;
	case ROP_BUFFER_TOO_SMALL:
		mapi_wr_u16(b, t->u.too_small.size_needed);
		mapi_wr_bytes(b, t->u.too_small.req, t->u.too_small.req_len);
		return 0;
	default:
		return -EINVAL;
	}
}

void rop_trailer_clear(struct rop_trailer *t)
{
	if (t->rop_id == ROP_NOTIFY)
		rop_notification_clear(&t->u.notify.data);
	else if (t->rop_id == ROP_BACKOFF)
		g_free(t->u.backoff.rops);
	memset(t, 0, sizeof(*t));
}

int rop_trailers_read(struct mapi_rd *r, struct rop_trailer **t_r,
		      size_t *n_r)
{
	struct rop_trailer *t = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	*t_r = NULL;
	*n_r = 0;
	while (!rc && mapi_rd_left(r) > 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			t = g_renew(struct rop_trailer, t, cap);
		}
		rc = rop_trailer_read(r, &t[n]);
		if (!rc)
			n++;
	}
	if (!rc)
		rc = mapi_rd_error(r);
	if (rc) {
		rop_trailers_free(t, n);
		return rc;
	}
	*t_r = t;
	*n_r = n;
	return 0;
}

void rop_trailers_free(struct rop_trailer *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rop_trailer_clear(&t[i]);
	g_free(t);
}
