/*
 * message.c - message objects, read side: RopOpenMessage,
 * RopReadRecipients, RopGetPropertiesSpecific, RopGetPropertiesAll,
 * RopGetPropertiesList (on messages and attachments) and
 * RopSetMessageReadFlag.
 *
 * Specs: MS-OXCROPS 2.2.6.1 (RopOpenMessage), 2.2.6.6
 * (RopReadRecipients), 2.2.6.11 (RopSetMessageReadFlag), 2.2.8.3-5
 * (the property ROPs); MS-OXCMSG 3.2.5.1 (opening), 3.2.5.10 (read
 * flag); MS-OXCPRPT 3.2.5.1 (a value too big for the row answers
 * NotEnoughMemory, and the client streams it); MS-OXCDATA 2.2.5.1
 * (one-off EntryIDs), 2.8.3 (RecipientRow).
 *
 * A message is read whole from the store when it is opened and held by
 * a reference (struct mapid_msgref) that its attachments, attached
 * messages and streams share: what they answer is the message as it
 * was opened.  The read flag is the Maildir S letter, changed through
 * the store as every other writer of it does (the file is renamed).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "wire/rop-msg.h"
#include "mapid-private.h"

/* The recipient columns of RopOpenMessage and RopReadRecipients, those
 * a real server sends. */
static const uint32_t recip_cols[] = {
	MAPI_TAG_RECORD_KEY, MAPI_TAG_OBJECT_TYPE, MAPI_TAG_DISPLAY_TYPE,
	MAPI_TAG_SMTP_ADDRESS, MAPI_TAG_RECIPIENT_ENTRYID,
	MAPI_TAG_RECIPIENT_FLAGS,
};
#define N_RECIP_COLS G_N_ELEMENTS(recip_cols)

/* MS-OXCDATA 2.2.5.1: the provider UID of one-off EntryIDs, and the
 * flags of one in UTF-16 without rich text. */
static const uint8_t oneoff_uid[16] = {
	0x81, 0x2B, 0x1F, 0xA4, 0xBE, 0xA3, 0x10, 0x19,
	0x9D, 0x6E, 0x00, 0xDD, 0x01, 0x0F, 0x54, 0x02,
};
#define ONEOFF_FLAGS 0x9001	/* MAPI_UNICODE | MAPI_ONE_OFF_NO_RICH_INFO */
#define RECIPIENT_SENDABLE 0x00000001

void mapid_msgref_put(struct mapid_msgref *ref)
{
	if (!ref || --ref->refs > 0)
		return;
	for (guint i = 0; ref->pending && i < ref->pending->len; i++) {
		struct mapi_attachment *a = ref->pending->pdata[i];

		mapi_props_clear(&a->props);
		mapi_message_free(a->embedded);
		g_free(a);
	}
	if (ref->pending)
		g_ptr_array_unref(ref->pending);
	mapi_message_free(ref->m);
	g_free(ref->folder);
	g_free(ref->id);
	g_free(ref);
}

void mapid_msgobj_clear(struct mapid_obj *o)
{
	if (o->data)
		g_bytes_unref(o->data);
	o->data = NULL;
	if (o->wbuf)
		g_byte_array_unref(o->wbuf);
	o->wbuf = NULL;
	mapid_msgref_put(o->ref);
	o->ref = NULL;
}

const struct mapi_props *mapid_obj_props(const struct mapid_obj *o)
{
	if (o->kind == MAPID_OBJ_MESSAGE && o->msg)
		return &o->msg->props;
	if (o->kind == MAPID_OBJ_ATTACH && o->att)
		return &o->att->props;
	return NULL;
}

/* Bytes a value takes in a row, near enough to hold it to a bound. */
static size_t value_size(const struct mapi_value *v)
{
	switch (MAPI_TAG_TYPE(v->tag)) {
	case MAPI_PT_UNICODE:
		return 2 * ((size_t)g_utf8_strlen(v->v.str ? v->v.str : "",
						  -1) + 1);
	case MAPI_PT_STRING8:
		return (v->v.str ? strlen(v->v.str) : 0) + 1;
	case MAPI_PT_BINARY:
	case MAPI_PT_SVREID:
		return 2 + (size_t)v->v.bin.len;
	default:
		return 8;
	}
}

/* What column `col` shows of `src`: the value (borrowed) or NULL with
 * the error in *err. */
static const struct mapi_value *column_value(uint32_t col,
					     const struct mapi_props *src,
					     uint32_t limit, uint32_t *err)
{
	const struct mapi_value *v = mapi_props_get(src, MAPI_TAG_ID(col));
	uint16_t ct = MAPI_TAG_TYPE(col), vt;
	bool strings;

	*err = MAPI_E_NOT_FOUND;
	if (!v)
		return NULL;
	vt = MAPI_TAG_TYPE(v->tag);
	strings = (ct == MAPI_PT_UNICODE || ct == MAPI_PT_STRING8) &&
		  (vt == MAPI_PT_UNICODE || vt == MAPI_PT_STRING8);
	if (vt == MAPI_PT_ERROR) {
		*err = v->v.err;
		return NULL;
	}
	/* PidTagHtml and PidTagBodyHtml share an id: a column of the other
	 * type is not this value */
	if (ct != MAPI_PT_UNSPECIFIED && ct != vt && !strings)
		return NULL;
	if (value_size(v) > limit) {
		*err = MAPI_E_NOT_ENOUGH_MEMORY;
		return NULL;
	}
	*err = 0;
	return v;
}

void mapid_props_row_write(GByteArray *out, const uint32_t *cols, size_t n,
			   const struct mapi_props *src, uint32_t limit)
{
	const struct mapi_value **vals = g_new0(const struct mapi_value *,
						n ? n : 1);
	uint32_t *errs = g_new0(uint32_t, n ? n : 1);
	bool flagged = false;

	for (size_t i = 0; i < n; i++) {
		vals[i] = column_value(cols[i], src, limit, &errs[i]);
		flagged |= !vals[i];
	}
	mapi_wr_u8(out, flagged ? MAPI_ROW_FLAGGED : MAPI_ROW_STANDARD);
	for (size_t i = 0; i < n; i++) {
		struct mapi_value e = { .tag = MAPI_TAG_RETYPE(cols[i],
							       MAPI_PT_ERROR) };

		e.v.err = errs[i];
		if (flagged)
			(void)mapi_flagged_pv_write(out, cols[i], vals[i]
						    ? MAPI_PV_PRESENT
						    : MAPI_PV_ERROR,
						    vals[i] ? vals[i] : &e, 0);
		else if (MAPI_TAG_TYPE(cols[i]) == MAPI_PT_UNSPECIFIED)
			(void)mapi_typed_pv_write(out, vals[i], 0);
		else {
			/* a string of the other width is written as the
			 * column's */
			struct mapi_value c;

			mapi_value_copy(&c, vals[i]);
			c.tag = cols[i];
			(void)mapi_pv_write(out, &c, 0);
			mapi_value_clear(&c);
		}
	}
	g_free(vals);
	g_free(errs);
}

/* The one-off EntryID of a recipient (caller frees out->data). */
static void oneoff_entryid(const char *name, const char *addr,
			   struct mapi_bin *out)
{
	GByteArray *b = g_byte_array_new();
	const char *const parts[] = { name, "SMTP", addr };

	mapi_wr_u32(b, 0);
	mapi_wr_bytes(b, oneoff_uid, sizeof(oneoff_uid));
	mapi_wr_u16(b, 0);
	mapi_wr_u16(b, ONEOFF_FLAGS);
	for (size_t i = 0; i < G_N_ELEMENTS(parts); i++) {
		glong n = 0;
		gunichar2 *w = g_utf8_to_utf16(parts[i] ? parts[i] : "", -1,
					       NULL, &n, NULL);

		for (glong k = 0; w && k < n; k++)
			mapi_wr_u16(b, w[k]);
		mapi_wr_u16(b, 0);
		g_free(w);
	}
	out->len = b->len;
	out->data = g_byte_array_free(b, FALSE);
}

/* The OpenRecipientRow of recipient `rp`. */
static void recip_row(const struct mapi_recipient *rp, struct rop_recip *out)
{
	const struct mapi_props *p = &rp->props;
	const char *addr = mapi_props_str(p, MAPI_TAG_ID(MAPI_TAG_SMTP_ADDRESS));
	const char *name = mapi_props_str(p, MAPI_TAG_ID(MAPI_TAG_DISPLAY_NAME));
	struct mapi_props bag = { 0 };
	struct mapi_bin eid;
	g_autofree char *key = NULL;

	if (!addr)
		addr = mapi_props_str(p, MAPI_TAG_ID(MAPI_TAG_EMAIL_ADDRESS));
	addr = addr ? addr : "";
	name = name ? name : addr;
	memset(out, 0, sizeof(*out));
	out->recip_type = (uint8_t)mapi_props_l(
		p, MAPI_TAG_ID(MAPI_TAG_RECIPIENT_TYPE), MAPI_TO);
	/* the strings travel as UTF-16 (flag U): the code page is the one
	 * a real server names */
	out->code_page = 1252;
	out->row.flags = ROP_RECIP_SMTP | ROP_RECIP_E | ROP_RECIP_D |
			 ROP_RECIP_S | ROP_RECIP_U;
	out->row.email = g_strdup(addr);
	out->row.display_name = g_strdup(name);
	key = g_ascii_strup(addr, -1);
	mapi_props_set_bin(&bag, MAPI_TAG_RECORD_KEY, key, strlen(key));
	mapi_props_set_l(&bag, MAPI_TAG_OBJECT_TYPE, mapi_props_l(
				 p, MAPI_TAG_ID(MAPI_TAG_OBJECT_TYPE), 6));
	mapi_props_set_l(&bag, MAPI_TAG_DISPLAY_TYPE, mapi_props_l(
				 p, MAPI_TAG_ID(MAPI_TAG_DISPLAY_TYPE), 0));
	mapi_props_set_str(&bag, MAPI_TAG_SMTP_ADDRESS, addr);
	oneoff_entryid(name, addr, &eid);
	mapi_props_set_bin(&bag, MAPI_TAG_RECIPIENT_ENTRYID, eid.data,
			   eid.len);
	g_free(eid.data);
	mapi_props_set_l(&bag, MAPI_TAG_RECIPIENT_FLAGS, RECIPIENT_SENDABLE);
	mapi_row_from_props(&out->row.props, recip_cols, N_RECIP_COLS, &bag);
	mapi_props_clear(&bag);
}

/* Bytes one recipient row takes on the wire (ReadRecipientRow). */
static size_t recip_size(const struct rop_recip *rp)
{
	GByteArray *b = g_byte_array_new();
	size_t n;

	(void)rop_recip_row_write(b, &rp->row, recip_cols, N_RECIP_COLS);
	n = b->len + 4 + 1 + 2 + 2 + 2;
	g_byte_array_unref(b);
	return n;
}

/* Recipients from `first` on that fit in `room`, at most 255. */
static size_t recip_rows(const struct mapi_message *m, size_t first,
			 size_t room, struct rop_recip **rows_r)
{
	size_t n = 0, used = 0;
	struct rop_recip *rows = g_new0(struct rop_recip,
					MIN(m->n_recips - first, 255) + 1);

	while (first + n < m->n_recips && n < 255) {
		recip_row(&m->recips[first + n], &rows[n]);
		used += recip_size(&rows[n]);
		if (used > room) {
			rop_recip_clear(&rows[n]);
			break;
		}
		rows[n].row_id = (uint32_t)(first + n);
		n++;
	}
	*rows_r = rows;
	return n;
}

static void tstr_of(const struct mapi_props *p, uint32_t tag,
		    struct mapi_tstr *s)
{
	const char *v = mapi_props_str(p, MAPI_TAG_ID(tag));

	s->type = MAPI_TSTR_UNICODE;
	s->str = g_strdup(v ? v : "");
}

void mapid_msg_info(const struct mapi_message *m, size_t room,
		    struct rop_msg_info *info)
{
	/* the head, the subjects, the counts and the columns come first */
	size_t fixed = 16 + 8 + 4 * N_RECIP_COLS;
	const uint32_t subj[] = { MAPI_TAG_SUBJECT_PREFIX,
				  MAPI_TAG_NORMALIZED_SUBJECT };

	for (size_t i = 0; i < G_N_ELEMENTS(subj); i++) {
		const struct mapi_value *v = mapi_props_get(
			&m->props, MAPI_TAG_ID(subj[i]));
		fixed += v ? value_size(v) : 0;
	}
	room = room > fixed ? room - fixed : 0;
	memset(info, 0, sizeof(*info));
	tstr_of(&m->props, MAPI_TAG_SUBJECT_PREFIX, &info->subject_prefix);
	tstr_of(&m->props, MAPI_TAG_NORMALIZED_SUBJECT,
		&info->normalized_subject);
	info->recip_count = m->n_recips > 0xFFFF ? 0xFFFF
						  : (uint16_t)m->n_recips;
	info->n_cols = N_RECIP_COLS;
	info->cols = g_memdup2(recip_cols, sizeof(recip_cols));
	info->n_rows = recip_rows(m, 0, room, &info->rows);
}

/* Bytes of message files the session holds open. */
static size_t session_msg_bytes(const struct mapid_session *s)
{
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	size_t sum = 0;

	for (guint i = 0; i < s->objs->len; i++) {
		const struct mapid_obj *o = s->objs->pdata[i];
		if (o && o->ref && g_hash_table_add(seen, o->ref))
			sum += o->ref->size;
	}
	g_hash_table_unref(seen);
	return sum;
}

/* The store's item of message `mid` in `folder` (caller frees), or
 * NULL. */
static struct mfs_item *find_item(const struct serve_ctx *ctx,
				  const char *folder, uint64_t mid)
{
	struct mfs_sync_result *res = NULL;
	struct mfs_item *found = NULL;
	uint64_t c = mapid_id_counter(mid);

	if (!c || mfs_store_sync(ctx->store, folder, NULL, &res, NULL) < 0)
		return NULL;
	for (guint i = 0; i < res->changed->len && !found; i++) {
		const struct mfs_item *it = res->changed->pdata[i];
		if (mapid_message_counter(folder, it->id) == c)
			found = mfs_item_dup(it);
	}
	mfs_sync_result_free(&res);
	return found;
}

/* Read message `mid` of folder `fid` from the store.  Returns 0 with
 * *ref_r (one reference), or the ReturnValue to answer. */
static uint32_t msg_open(struct mapid_rop_ctx *rc, uint64_t fid,
			 uint64_t mid, struct mapid_msgref **ref_r)
{
	g_autofree char *folder = mapid_fid_path(rc->ctx, fid);
	struct mfs_item *it;
	struct mapi_message *m = NULL;
	struct mapid_msgref *ref;
	int fd = -1, err;

	it = folder ? find_item(rc->ctx, folder, mid) : NULL;
	if (!it)
		return MAPI_E_NOT_FOUND;
	if (it->size > MAPID_MSG_MAX) {
		log_info("mapi: %s: message %s of %s is over the %u bytes a "
			 "message may have to be opened", rc->sess->c.user,
			 it->id, folder, MAPID_MSG_MAX);
		mfs_item_free(it);
		return MAPI_E_TOO_BIG;
	}
	if (session_msg_bytes(rc->sess) + it->size > MAPID_SESSION_MSG_MAX) {
		mfs_item_free(it);
		return MAPI_E_NOT_ENOUGH_MEMORY;
	}
	err = mfs_store_fetch(rc->ctx->store, folder, it->id, &fd, NULL);
	if (err == 0) {
		err = mapid_item_load_fd(fd, it->flags,
					 mapid_folder_kind(rc->ctx, folder),
					 &m);
		close(fd);
	}
	if (err < 0) {
		log_info("mapi: %s: cannot read message %s of %s: %s",
			 rc->sess->c.user, it->id, folder, g_strerror(-err));
		mfs_item_free(it);
		return err == -ENOENT ? MAPI_E_NOT_FOUND : MAPI_E_CALL_FAILED;
	}
	mapi_props_set_i8(&m->props, MAPI_TAG_MID, (int64_t)mid);
	mapi_props_set_i8(&m->props, MAPI_TAG_FOLDER_ID, (int64_t)fid);
	ref = g_new0(struct mapid_msgref, 1);
	ref->refs = 1;
	ref->m = m;
	ref->folder = g_steal_pointer(&folder);
	ref->id = g_strdup(it->id);
	ref->fid = fid;
	ref->mid = mid;
	ref->size = (size_t)it->size;
	mfs_item_free(it);
	*ref_r = ref;
	return 0;
}

int mapid_rop_open_message(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			   GByteArray *out)
{
	struct rop_open_message_req q;
	struct rop_open_message_resp s = { 0 };
	struct mapid_msgref *ref = NULL;
	struct mapid_obj *in, *o;
	int err = rop_open_message_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_OPEN_MESSAGE;
	s.head.handle_index = q.output_handle_index;
	in = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (in && in->kind != MAPID_OBJ_LOGON && in->kind != MAPID_OBJ_FOLDER)
		s.head.rv = MAPI_E_NO_SUPPORT;
	if (in && !s.head.rv)
		s.head.rv = msg_open(rc, q.folder_id, q.message_id, &ref);
	if (!s.head.rv) {
		o = g_new0(struct mapid_obj, 1);
		o->kind = MAPID_OBJ_MESSAGE;
		o->fid = q.folder_id;
		o->ref = ref;
		o->msg = ref->m;
		o->writable = (q.open_mode & ROP_OPEN_READ_WRITE) != 0;
		mapid_msg_info(ref->m, rc->room, &s.msg);
		s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	}
	(void)rop_open_message_resp_write(out, &s);
	rop_open_message_resp_clear(&s);
	return 0;
}

/* The message object at `idx`, or NULL with *rv set. */
static struct mapid_obj *message_at(struct mapid_rop_ctx *rc, uint8_t idx,
				    uint32_t *rv)
{
	struct mapid_obj *o = mapid_obj_at(rc, idx, rv);

	if (o && o->kind != MAPID_OBJ_MESSAGE) {
		*rv = MAPI_E_NO_SUPPORT;
		return NULL;
	}
	return o;
}

int mapid_rop_read_recipients(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out)
{
	struct rop_read_recipients_req q;
	struct rop_read_recipients_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_read_recipients_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_READ_RECIPIENTS;
	s.head.handle_index = q.input_handle_index;
	o = message_at(rc, q.input_handle_index, &s.head.rv);
	if (o && q.row_id >= o->msg->n_recips)
		s.head.rv = MAPI_E_NOT_FOUND;
	else if (o) {
		s.n_rows = recip_rows(o->msg, q.row_id,
				      rc->room > 7 ? rc->room - 7 : 0,
				      &s.rows);
		if (!s.n_rows)
			s.head.rv = MAPI_E_TOO_BIG;
	}
	(void)rop_read_recipients_resp_write(out, &s, recip_cols,
					     N_RECIP_COLS);
	rop_read_recipients_resp_clear(&s);
	return 0;
}

/* The message or attachment at `idx`, or NULL with *rv set. */
static const struct mapi_props *props_at(struct mapid_rop_ctx *rc,
					 uint8_t idx, uint32_t *rv)
{
	struct mapid_obj *o = mapid_obj_at(rc, idx, rv);
	const struct mapi_props *p = o ? mapid_obj_props(o) : NULL;

	if (o && !p)
		*rv = MAPI_E_NO_SUPPORT;
	return p;
}

static uint32_t row_limit(uint16_t size_limit)
{
	return size_limit && size_limit < MAPID_ROW_VALUE_MAX
	       ? size_limit : MAPID_ROW_VALUE_MAX;
}

int mapid_rop_get_props_specific(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				 GByteArray *out)
{
	struct rop_get_props_specific_req q;
	struct rop_resp_head h = { .rop_id = ROP_GET_PROPERTIES_SPECIFIC };
	const struct mapi_props *p;
	int err = rop_get_props_specific_req_read(r, &q);

	if (err < 0)
		return err;
	h.handle_index = q.input_handle_index;
	p = props_at(rc, q.input_handle_index, &h.rv);
	rop_resp_head_write(out, &h);
	if (p)
		mapid_props_row_write(out, q.tags, q.n_tags, p,
				      row_limit(q.size_limit));
	rop_get_props_specific_req_clear(&q);
	return 0;
}

int mapid_rop_get_props_all(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			    GByteArray *out)
{
	struct rop_get_props_all_req q;
	struct rop_get_props_all_resp s = { 0 };
	const struct mapi_props *p;
	int err = rop_get_props_all_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_GET_PROPERTIES_ALL;
	s.head.handle_index = q.input_handle_index;
	p = props_at(rc, q.input_handle_index, &s.head.rv);
	for (size_t i = 0; p && i < p->n; i++) {
		struct mapi_value v;
		uint32_t e;

		if (column_value(p->v[i].tag, p, row_limit(q.size_limit),
				 &e)) {
			mapi_value_copy(&v, &p->v[i]);
		} else {
			v.tag = MAPI_TAG_RETYPE(p->v[i].tag, MAPI_PT_ERROR);
			v.v.err = e;
		}
		mapi_props_take(&s.props, &v);
	}
	(void)rop_get_props_all_resp_write(out, &s);
	rop_get_props_all_resp_clear(&s);
	return 0;
}

/* RopGetPropertiesList (MS-OXCROPS 2.2.8.5): RopId, LogonId,
 * InputHandleIndex; the answer PropertyTagCount and the tags. */
int mapid_rop_get_props_list(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			     GByteArray *out)
{
	struct rop_resp_head h = { .rop_id = ROP_GET_PROPERTIES_LIST };
	const struct mapi_props *p;
	uint32_t *tags;

	(void)mapi_rd_u8(r);
	(void)mapi_rd_u8(r);
	h.handle_index = mapi_rd_u8(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	p = props_at(rc, h.handle_index, &h.rv);
	rop_resp_head_write(out, &h);
	if (!p)
		return 0;
	tags = g_new(uint32_t, p->n + 1);
	for (size_t i = 0; i < p->n; i++)
		tags[i] = p->v[i].tag;
	mapi_tags_write(out, tags, MIN(p->n, 0xFFFF));
	g_free(tags);
	return 0;
}

/* The read state of the message of `o` set or cleared in the store.
 * Returns 0 or the ReturnValue. */
static uint32_t set_seen(struct mapid_rop_ctx *rc, struct mapid_obj *o,
			 bool seen)
{
	struct mapid_msgref *ref = o->ref;
	struct mfs_item *it = find_item(rc->ctx, ref->folder, ref->mid);
	uint64_t flags;
	int32_t mf;
	int err = 0;

	if (!it)
		return MAPI_E_OBJECT_DELETED;
	flags = seen ? it->flags | MFS_FLAG_SEEN : it->flags & ~MFS_FLAG_SEEN;
	if (flags != it->flags)
		err = mfs_store_set_flags(rc->ctx->store, ref->folder, it->id,
					  flags, NULL);
	mfs_item_free(it);
	if (err == -ENOENT)
		return MAPI_E_OBJECT_DELETED;
	if (err < 0) {
		log_info("mapi: %s: cannot change the read state of a "
			 "message of %s: %s", rc->sess->c.user, ref->folder,
			 g_strerror(-err));
		return MAPI_E_CALL_FAILED;
	}
	mf = mapi_props_l(&o->msg->props, MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS),
			  0);
	mf = seen ? mf | (int32_t)(MAPI_MSGFLAG_READ | MAPI_MSGFLAG_EVERREAD)
		  : mf & ~(int32_t)MAPI_MSGFLAG_READ;
	mapi_props_set_l(&o->msg->props, MAPI_TAG_MESSAGE_FLAGS, mf);
	return 0;
}

int mapid_rop_set_message_read_flag(struct mapid_rop_ctx *rc,
				    struct mapi_rd *r, GByteArray *out)
{
	struct rop_set_message_read_flag_req q;
	struct rop_set_message_read_flag_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_set_message_read_flag_req_read(r, &q, false);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SET_MESSAGE_READ_FLAG;
	s.head.handle_index = q.response_handle_index;
	o = message_at(rc, q.input_handle_index, &s.head.rv);
	if (o && o->msg != o->ref->m)
		s.head.rv = MAPI_E_NO_SUPPORT;	/* an attached message */
	else if (o && !(q.read_flags & (ROP_READ_GENERATE_RECEIPT_ONLY |
					ROP_READ_CLEAR_NOTIFY_READ |
					ROP_READ_CLEAR_NOTIFY_UNREAD)))
		s.head.rv = set_seen(rc, o, !(q.read_flags &
					      ROP_READ_CLEAR_READ_FLAG));
	/* a private store says ReadStatusChanged 0, as a real one does */
	rop_set_message_read_flag_resp_write(out, &s);
	return 0;
}
