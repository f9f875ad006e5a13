/*
 * mcreate.c - messages a client makes and changes: RopCreateMessage,
 * RopSetProperties, RopDeleteProperties, RopModifyRecipients and
 * RopSaveChangesMessage.
 *
 * Specs: MS-OXCROPS 2.2.6.2 (RopCreateMessage), 2.2.6.3
 * (RopSaveChangesMessage), 2.2.6.5 (RopModifyRecipients), 2.2.8.6 and
 * 2.2.8.8 (RopSetProperties, RopDeleteProperties); MS-OXCMSG 3.2.5.2,
 * 3.2.5.3, 3.2.5.5; MS-OXCPRPT 3.2.5.4-5 (PropertyProblems); MS-OXCMAIL
 * (the message as MIME).
 *
 * A message made is held in memory until RopSaveChangesMessage renders
 * it to MIME (mapi_mail_render) and appends it to its folder through
 * the store's own function, the one serve's IMAP appends with: the
 * Maildir flags come from PidTagMessageFlags (READ is S, UNSENT is D),
 * PidTagFlagStatus (F) and PidTagLastVerbExecuted (R, P).  Its MID is
 * given at RopCreateMessage, as a real server gives it, and names the
 * stored file once it is saved.  A message of the store opened
 * read/write may change its flags so: the save sets the Maildir flags.
 * Any other change to a stored message (a property, a recipient, an
 * attachment) would rewrite the file, which the store does not do for
 * a message in place: the save answers MAPI_E_NO_SUPPORT and the file
 * stays as it was.  A message made in a contacts or calendar folder
 * starts as an IPM.Contact or IPM.Appointment and is stored as the
 * vCard or iCalendar object the codec of wire/mapi-pim.h renders
 * (MS-OXVCARD, MS-OXCICAL), with no Maildir letters.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "serve/spool.h"
#include "wire/mapi-mail.h"
#include "wire/mapi-pim.h"
#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "wire/rop-msg.h"
#include "mapid-private.h"

/* PidTagFlagStatus 2 (followupFlagged), PidTagLastVerbExecuted's reply
 * verbs and forward (MS-OXOMSG 2.2.1.33, MS-OXOFLAG 2.2.1.1). */
#define FLAG_STATUS_FLAGGED	2
#define VERB_REPLY_TO_SENDER	102
#define VERB_REPLY_TO_ALL	103
#define VERB_FORWARD		104
/* PidTagRead, MS-OXPROPS 2.868 */
#define TAG_READ		0x0E69000BU

struct mapi_props *mapid_obj_wprops(struct mapid_obj *o)
{
	if (o->kind == MAPID_OBJ_MESSAGE && o->msg)
		return &o->msg->props;
	if (o->kind == MAPID_OBJ_ATTACH && o->att)
		return &o->att->props;
	return NULL;
}

static size_t props_mem(const struct mapi_props *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct mapi_value *v = &p->v[i];

		n += 16;
		switch (MAPI_TAG_TYPE(v->tag)) {
		case MAPI_PT_UNICODE:
		case MAPI_PT_STRING8:
			n += v->v.str ? strlen(v->v.str) : 0;
			break;
		case MAPI_PT_BINARY:
		case MAPI_PT_SVREID:
		case MAPI_PT_OBJECT:
			n += v->v.bin.len;
			break;
		default:
			if (MAPI_TAG_TYPE(v->tag) & MAPI_PT_MV)
				n += 16 * (size_t)v->v.mv.count;
		}
	}
	return n;
}

size_t mapid_msg_mem(const struct mapi_message *m)
{
	size_t n = props_mem(&m->props);

	for (size_t i = 0; i < m->n_recips; i++)
		n += props_mem(&m->recips[i].props);
	for (size_t i = 0; i < m->n_attach; i++) {
		n += props_mem(&m->attach[i].props);
		if (m->attach[i].embedded)
			n += mapid_msg_mem(m->attach[i].embedded);
	}
	return n;
}

/* Bytes of the messages the session holds, but `except`'s. */
static size_t session_bytes(const struct mapid_session *s,
			    const struct mapid_msgref *except)
{
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	size_t sum = 0;

	for (guint i = 0; i < s->objs->len; i++) {
		const struct mapid_obj *o = s->objs->pdata[i];

		if (o && o->wbuf)
			sum += o->wbuf->len;
		if (o && o->ref && o->ref != except &&
		    g_hash_table_add(seen, o->ref))
			sum += o->ref->size;
	}
	g_hash_table_unref(seen);
	return sum;
}

/* The pending attachments (not saved yet) count as their message does. */
static size_t ref_mem(const struct mapid_msgref *ref)
{
	size_t n = mapid_msg_mem(ref->m);

	for (guint i = 0; ref->pending && i < ref->pending->len; i++) {
		const struct mapi_attachment *a = ref->pending->pdata[i];

		n += props_mem(&a->props);
		if (a->embedded)
			n += mapid_msg_mem(a->embedded);
	}
	return n;
}

bool mapid_msg_room(const struct mapid_session *s, const struct mapid_obj *o,
		    size_t more)
{
	size_t have;

	if (!o->ref)
		return true;
	have = o->ref->created ? ref_mem(o->ref) : o->ref->size;
	if (more > MAPID_MSG_MAX || have > MAPID_MSG_MAX - more)
		return false;
	return session_bytes(s, o->ref) + have + more <=
	       MAPID_SESSION_MSG_MAX;
}

/* Whether a property of this id is one the Maildir flags hold. */
static bool flag_prop(uint16_t id)
{
	return id == MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS) ||
	       id == MAPI_TAG_ID(MAPI_TAG_FLAG_STATUS) ||
	       id == MAPI_TAG_ID(MAPI_TAG_LAST_VERB_EXECUTED) ||
	       id == MAPI_TAG_ID(MAPI_TAG_ICON_INDEX) ||
	       id == MAPI_TAG_ID(TAG_READ);
}

void mapid_msg_touch(struct mapid_obj *o, uint32_t tag)
{
	if (!o->ref)
		return;
	if (o->kind == MAPID_OBJ_MESSAGE && o->msg == o->ref->m &&
	    flag_prop(MAPI_TAG_ID(tag)))
		o->ref->flags_changed = true;
	else
		o->ref->changed = true;
	if (o->ref->created)
		o->ref->size = ref_mem(o->ref);
}

/* The class a message made in `folder` starts with. */
static const char *new_class(const struct serve_ctx *ctx, const char *folder)
{
	switch (mapid_folder_kind(ctx, folder)) {
	case MFS_FOLDER_CONTACTS:
		return "IPM.Contact";
	case MFS_FOLDER_CALENDAR:
		return "IPM.Appointment";
	default:
		return "IPM.Note";
	}
}

/* The bytes of message `m` as its folder keeps them: a vCard in a
 * contacts folder, an iCalendar object in a calendar, else MIME.
 * Returns 0 or -errno. */
static int render(enum mfs_folder_kind kind, const struct mapi_message *m,
		  GByteArray *b)
{
	struct mapi_pim_names names = mapid_pim_names();

	if (kind == MFS_FOLDER_CONTACTS)
		return mapi_contact_render(m, &names, b);
	if (kind == MFS_FOLDER_CALENDAR)
		return mapi_appt_render(m, &names, b);
	return mapi_mail_render(m, b);
}

int mapid_rop_create_message(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			     GByteArray *out)
{
	struct rop_create_message_req q;
	struct rop_create_message_resp s = { 0 };
	struct mapid_msgref *ref;
	struct mapid_obj *in, *o;
	g_autofree char *path = NULL;
	int err = rop_create_message_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_CREATE_MESSAGE;
	s.head.handle_index = q.output_handle_index;
	in = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (in && in->kind != MAPID_OBJ_LOGON && in->kind != MAPID_OBJ_FOLDER)
		s.head.rv = MAPI_E_NO_SUPPORT;
	if (in && !s.head.rv) {
		path = mapid_fid_path(rc->ctx, q.folder_id);
		/* a folder of the server's own holds no message */
		if (!path)
			s.head.rv = mapid_id_counter(q.folder_id) &&
				    mapid_id_counter(q.folder_id) <
				    MAPID_FIRST_DYNAMIC
				    ? MAPI_E_NO_ACCESS : MAPI_E_NOT_FOUND;
		else if (q.associated)
			/* the store keeps no folder-associated messages */
			s.head.rv = MAPI_E_NO_SUPPORT;
	}
	if (in && !s.head.rv) {
		ref = g_new0(struct mapid_msgref, 1);
		ref->refs = 1;
		ref->m = mapi_message_new();
		ref->folder = g_steal_pointer(&path);
		ref->fid = q.folder_id;
		ref->mid = mapid_id_make(mapid_counter_new());
		ref->created = true;
		ref->pending = g_ptr_array_new();
		mapi_props_set_str(&ref->m->props, MAPI_TAG_MESSAGE_CLASS,
				   new_class(rc->ctx, ref->folder));
		/* MS-OXCMSG 3.2.5.2: a new message is unsent and read */
		mapi_props_set_l(&ref->m->props, MAPI_TAG_MESSAGE_FLAGS,
				 (int32_t)(MAPI_MSGFLAG_READ |
					   MAPI_MSGFLAG_UNSENT));
		mapi_props_set_i8(&ref->m->props, MAPI_TAG_MID,
				  (int64_t)ref->mid);
		mapi_props_set_i8(&ref->m->props, MAPI_TAG_FOLDER_ID,
				  (int64_t)q.folder_id);
		o = g_new0(struct mapid_obj, 1);
		o->kind = MAPID_OBJ_MESSAGE;
		o->fid = q.folder_id;
		o->ref = ref;
		o->msg = ref->m;
		o->writable = true;
		s.has_message_id = 1;
		s.message_id = ref->mid;
		s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	}
	rop_create_message_resp_write(out, &s);
	return 0;
}

/* Properties a client may not set: the ids the server keeps. */
static bool computed(uint16_t id)
{
	return id == MAPI_TAG_ID(MAPI_TAG_MID) ||
	       id == MAPI_TAG_ID(MAPI_TAG_FOLDER_ID) ||
	       id == MAPI_TAG_ID(MAPI_TAG_ATTACH_NUMBER);
}

/* RopSetProperties and RopDeleteProperties on a message or attachment;
 * a folder's go to fcreate.c. */
static void set_on(struct mapid_rop_ctx *rc, struct mapid_obj *o,
		   struct rop_set_props_req *q, struct rop_problems_resp *s)
{
	struct mapi_props *p = mapid_obj_wprops(o);
	size_t more = 0;

	if (!p) {
		s->head.rv = MAPI_E_NO_SUPPORT;
		return;
	}
	if (!o->writable) {
		s->head.rv = MAPI_E_NO_ACCESS;
		return;
	}
	for (size_t i = 0; i < q->props.n; i++) {
		struct mapi_props one = { .n = 1, .v = &q->props.v[i] };
		more += props_mem(&one);
	}
	if (!mapid_msg_room(rc->sess, o, more)) {
		s->head.rv = MAPI_E_NOT_ENOUGH_MEMORY;
		return;
	}
	s->problems = g_new0(struct mapi_problem, q->props.n + 1);
	for (size_t i = 0; i < q->props.n; i++) {
		struct mapi_value *v = &q->props.v[i];

		if (computed(MAPI_TAG_ID(v->tag))) {
			s->problems[s->n_problems++] = (struct mapi_problem){
				.index = (uint16_t)i, .tag = v->tag,
				.err = MAPI_E_NO_ACCESS };
			continue;
		}
		mapid_msg_touch(o, v->tag);
		mapi_props_take(p, v);
	}
}

int mapid_rop_set_props(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			GByteArray *out)
{
	struct rop_set_props_req q;
	struct rop_problems_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_set_props_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SET_PROPERTIES;
	s.head.handle_index = q.input_handle_index;
	o = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (o && o->kind == MAPID_OBJ_FOLDER)
		s.head.rv = mapid_folder_set_props(rc, o, &q.props, &s);
	else if (o)
		set_on(rc, o, &q, &s);
	rop_set_props_req_clear(&q);
	rop_set_props_resp_write(out, &s);
	rop_problems_resp_clear(&s);
	return 0;
}

int mapid_rop_delete_props(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			   GByteArray *out)
{
	struct rop_delete_props_req q;
	struct rop_problems_resp s = { 0 };
	struct mapid_obj *o;
	struct mapi_props *p = NULL;
	int err = rop_delete_props_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_DELETE_PROPERTIES;
	s.head.handle_index = q.input_handle_index;
	o = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (o)
		p = mapid_obj_wprops(o);
	if (o && !p)
		s.head.rv = MAPI_E_NO_SUPPORT;
	else if (o && !o->writable)
		s.head.rv = MAPI_E_NO_ACCESS;
	for (size_t i = 0; p && !s.head.rv && i < q.n_tags; i++) {
		if (computed(MAPI_TAG_ID(q.tags[i])))
			continue;
		/* deleting what is not there is no problem (MS-OXCPRPT
		 * 3.2.5.5) */
		if (mapi_props_get(p, MAPI_TAG_ID(q.tags[i]))) {
			mapid_msg_touch(o, q.tags[i]);
			mapi_props_remove(p, MAPI_TAG_ID(q.tags[i]));
		}
	}
	rop_delete_props_req_clear(&q);
	rop_delete_props_resp_write(out, &s);
	return 0;
}

/* A recipient's properties from a ModifyRecipientRow. */
static void recip_from_row(const struct rop_recip *row,
			   struct mapi_props *p)
{
	const struct rop_recip_row *w = &row->row;

	mapi_props_clear(p);
	for (size_t i = 0; i < w->props.props.n; i++) {
		struct mapi_value v;

		if (MAPI_TAG_TYPE(w->props.props.v[i].tag) == MAPI_PT_ERROR)
			continue;
		mapi_value_copy(&v, &w->props.props.v[i]);
		mapi_props_take(p, &v);
	}
	mapi_props_set_l(p, MAPI_TAG_RECIPIENT_TYPE, row->recip_type);
	mapi_props_set_l(p, MAPI_TAG_ROWID, (int32_t)row->row_id);
	if (w->display_name)
		mapi_props_set_str(p, MAPI_TAG_DISPLAY_NAME, w->display_name);
	if (w->email) {
		mapi_props_set_str(p, MAPI_TAG_EMAIL_ADDRESS, w->email);
		if (!mapi_props_get(p, MAPI_TAG_ID(MAPI_TAG_SMTP_ADDRESS)))
			mapi_props_set_str(p, MAPI_TAG_SMTP_ADDRESS, w->email);
	}
	if ((w->flags & ROP_RECIP_TYPE_MASK) == ROP_RECIP_SMTP)
		mapi_props_set_str(p, MAPI_TAG_ADDRTYPE, "SMTP");
	else if (w->addr_type)
		mapi_props_set_str(p, MAPI_TAG_ADDRTYPE, w->addr_type);
	/* RecipientDisplayName is the name a one-off gives */
	if (!w->display_name) {
		const char *n = mapi_props_str(
			p, MAPI_TAG_ID(MAPI_TAG_RECIPIENT_DISPLAY_NAME));
		if (n)
			mapi_props_set_str(p, MAPI_TAG_DISPLAY_NAME, n);
	}
}

/* The recipient of row `id` in `m`, or NULL. */
static struct mapi_recipient *recip_by_row(struct mapi_message *m,
					   uint32_t id, size_t *at_r)
{
	for (size_t i = 0; i < m->n_recips; i++)
		if ((uint32_t)mapi_props_l(&m->recips[i].props,
					   MAPI_TAG_ID(MAPI_TAG_ROWID), -1) ==
		    id) {
			*at_r = i;
			return &m->recips[i];
		}
	return NULL;
}

int mapid_rop_modify_recipients(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				GByteArray *out)
{
	struct rop_modify_recipients_req q;
	struct rop_modify_recipients_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_modify_recipients_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_MODIFY_RECIPIENTS;
	s.head.handle_index = q.input_handle_index;
	o = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (o && o->kind != MAPID_OBJ_MESSAGE)
		s.head.rv = MAPI_E_NO_SUPPORT;
	else if (o && !o->writable)
		s.head.rv = MAPI_E_NO_ACCESS;
	else if (o && !mapid_msg_room(rc->sess, o, 256 * q.n_rows))
		s.head.rv = MAPI_E_NOT_ENOUGH_MEMORY;
	for (size_t i = 0; o && !s.head.rv && i < q.n_rows; i++) {
		struct mapi_message *m = o->msg;
		size_t at = 0;
		struct mapi_recipient *rp = recip_by_row(m, q.rows[i].row_id,
							 &at);

		mapid_msg_touch(o, MAPI_TAG_RECIPIENT_TYPE);
		if (!q.rows[i].has_row) {
			if (rp) {
				mapi_props_clear(&rp->props);
				memmove(&m->recips[at], &m->recips[at + 1],
					(m->n_recips - at - 1) *
					sizeof(*m->recips));
				m->n_recips--;
			}
			continue;
		}
		if (!rp && m->n_recips >= MAPID_MSG_RECIPS_MAX) {
			s.head.rv = MAPI_E_TOO_BIG;
			break;
		}
		if (!rp)
			rp = mapi_message_add_recip(m);
		recip_from_row(&q.rows[i], &rp->props);
	}
	if (o && o->ref && o->ref->created)
		o->ref->size = ref_mem(o->ref);
	rop_modify_recipients_req_clear(&q);
	rop_modify_recipients_resp_write(out, &s);
	return 0;
}

/* The Maildir flags the properties of `m` stand for, beside `keep` (the
 * letters MAPI has no property for). */
static uint64_t flags_of(const struct mapi_props *p, uint64_t keep)
{
	uint32_t mf = (uint32_t)mapi_props_l(
		p, MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS), 0);
	int32_t verb = mapi_props_l(
		p, MAPI_TAG_ID(MAPI_TAG_LAST_VERB_EXECUTED), 0);
	uint64_t f = keep & ~(MFS_FLAG_SEEN | MFS_FLAG_DRAFT |
			      MFS_FLAG_FLAGGED | MFS_FLAG_REPLIED |
			      MFS_FLAG_PASSED);

	/* PidTagRead, when set, says the read state as MessageFlags does */
	if (mapi_props_get(p, MAPI_TAG_ID(TAG_READ))
	    ? mapi_props_b(p, MAPI_TAG_ID(TAG_READ), false)
	    : (mf & MAPI_MSGFLAG_READ) != 0)
		f |= MFS_FLAG_SEEN;
	if (mf & MAPI_MSGFLAG_UNSENT)
		f |= MFS_FLAG_DRAFT;
	if (mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_FLAG_STATUS), 0) ==
	    FLAG_STATUS_FLAGGED)
		f |= MFS_FLAG_FLAGGED;
	/* the last verb says one act; the other letter stays as it was */
	f |= keep & (MFS_FLAG_REPLIED | MFS_FLAG_PASSED);
	if (verb == VERB_REPLY_TO_SENDER || verb == VERB_REPLY_TO_ALL)
		f |= MFS_FLAG_REPLIED;
	else if (verb == VERB_FORWARD)
		f |= MFS_FLAG_PASSED;
	return f;
}

/* Write `out` to a spool file of the server's (caller closes), or -1. */
static int spool_bytes(const struct serve_ctx *ctx, const GByteArray *b)
{
	int fd = serve_spool_open(ctx->spool_dir);
	size_t off = 0;

	while (fd >= 0 && off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (fd >= 0)
		lseek(fd, 0, SEEK_SET);
	return fd;
}

/* The message being made rendered and appended to its folder.  Returns
 * 0 or the ReturnValue. */
static uint32_t save_new(struct mapid_rop_ctx *rc, struct mapid_msgref *ref)
{
	GByteArray *b = g_byte_array_new();
	GArray *t = NULL;
	const struct mapid_folder *f;
	struct mfs_item *it = NULL;
	struct mfs_error e = { 0 };
	enum mfs_folder_kind kind;
	uint64_t flags;
	bool there;
	int fd, err;

	if (mapid_folder_tree(rc->ctx, &t) < 0) {
		g_byte_array_unref(b);
		return MAPI_E_CALL_FAILED;
	}
	f = mapid_tree_find(t, mapid_id_counter(ref->fid));
	there = f && f->path && !strcmp(f->path, ref->folder);
	g_array_unref(t);
	if (!there) {
		/* its folder went (or was renamed) since it was made */
		g_byte_array_unref(b);
		return MAPI_E_OBJECT_DELETED;
	}
	kind = mapid_folder_kind(rc->ctx, ref->folder);
	if (render(kind, ref->m, b) < 0 || b->len > MAPID_MSG_MAX) {
		g_byte_array_unref(b);
		return b->len > MAPID_MSG_MAX ? MAPI_E_TOO_BIG
					      : MAPI_E_CALL_FAILED;
	}
	fd = spool_bytes(rc->ctx, b);
	g_byte_array_unref(b);
	if (fd < 0)
		return MAPI_E_NOT_ENOUGH_RESOURCES;
	/* a contact or an appointment has no Maildir letters */
	flags = mapid_kind_pim(kind) ? 0 : flags_of(&ref->m->props, 0);
	err = mfs_store_append(rc->ctx->store, ref->folder, fd, NULL, flags,
			       (int64_t)(g_get_real_time() / G_USEC_PER_SEC),
			       &it, &e);
	close(fd);
	if (err < 0) {
		log_info("mapi: %s: cannot store a new message in %s: %s",
			 rc->sess->c.user, ref->folder, e.msg);
		return err == -ENOENT ? MAPI_E_OBJECT_DELETED
				      : MAPI_E_CALL_FAILED;
	}
	mapid_message_bind(ref->folder, it->id, mapid_id_counter(ref->mid));
	g_free(ref->id);
	ref->id = g_strdup(it->id);
	mfs_item_free(it);
	ref->changed = ref->flags_changed = false;
	return 0;
}

/* A stored message opened read/write: its flags into the Maildir name.
 * Returns 0 or the ReturnValue. */
static uint32_t save_flags(struct mapid_rop_ctx *rc, struct mapid_msgref *ref)
{
	struct mfs_sync_result *res = NULL;
	const struct mfs_item *it = NULL;
	uint64_t want;
	int err;

	if (ref->changed)
		return MAPI_E_NO_SUPPORT;
	if (!ref->flags_changed)
		return 0;
	if (mfs_store_sync(rc->ctx->store, ref->folder, NULL, &res, NULL) < 0)
		return MAPI_E_CALL_FAILED;
	for (guint i = 0; i < res->changed->len && !it; i++)
		if (!strcmp(((struct mfs_item *)res->changed->pdata[i])->id,
			    ref->id))
			it = res->changed->pdata[i];
	if (!it) {
		mfs_sync_result_free(&res);
		return MAPI_E_OBJECT_DELETED;
	}
	want = flags_of(&ref->m->props, it->flags);
	err = want == it->flags ? 0
	      : mfs_store_set_flags(rc->ctx->store, ref->folder, it->id,
				    want, NULL);
	mfs_sync_result_free(&res);
	if (err < 0)
		return err == -ENOENT ? MAPI_E_OBJECT_DELETED
				      : MAPI_E_CALL_FAILED;
	ref->flags_changed = false;
	return 0;
}

int mapid_rop_save_changes_message(struct mapid_rop_ctx *rc,
				   struct mapi_rd *r, GByteArray *out)
{
	struct rop_save_changes_message_req q;
	struct rop_save_changes_message_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_save_changes_message_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SAVE_CHANGES_MESSAGE;
	s.head.handle_index = q.response_handle_index;
	s.input_handle_index = q.input_handle_index;
	o = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (o && (o->kind != MAPID_OBJ_MESSAGE || !o->ref))
		s.head.rv = MAPI_E_NO_SUPPORT;
	else if (o && !o->writable)
		s.head.rv = MAPI_E_NO_ACCESS;
	else if (o && o->msg != o->ref->m)
		/* an attached message: saved with its attachment, which
		 * holds it already */
		s.message_id = MAPID_EMBEDDED_MID;
	else if (o && o->ref->created && !o->ref->id)
		s.head.rv = save_new(rc, o->ref);
	else if (o && o->ref->created)
		/* saved before: a second save would be a rewrite */
		s.head.rv = o->ref->changed || o->ref->flags_changed
			    ? MAPI_E_NO_SUPPORT : 0;
	else if (o)
		s.head.rv = save_flags(rc, o->ref);
	if (o && !s.head.rv && !s.message_id)
		s.message_id = o->ref->mid;
	/* KeepOpenReadOnly: later changes are refused */
	if (o && !s.head.rv && (q.save_flags & 0x03) ==
	    ROP_SAVE_KEEP_OPEN_READ_ONLY)
		o->writable = false;
	rop_save_changes_message_resp_write(out, &s);
	return 0;
}
