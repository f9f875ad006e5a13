/*
 * notify.c - notifications: RopRegisterNotification, the events found by
 * looking at the store, NotificationWait, and the RopNotify entries the
 * next Execute carries.
 *
 * Specs: MS-OXCROPS 2.2.14.1 (RopRegisterNotification), 2.2.14.2
 * (RopNotify), 2.2.14.3 (RopPending); MS-OXCNOTIF 2.2.1.4.1.2 (the
 * NotificationData of each event), 3.2.5 (what a server sends when);
 * MS-OXCMAPIHTTP 2.2.4.4 (NotificationWait: the answer says whether an
 * event is pending; the events themselves go in an Execute's response).
 *
 * Changes are found as serve's IMAP IDLE finds them: by looking at the
 * store's folders, here every NOTIFY_POLL_MS while a NotificationWait
 * runs and at each Execute of the session.  A registration keeps what
 * its folders held when it last looked (each message's flags); a message
 * that came is ObjectCreated, one that went ObjectDeleted, one whose
 * flags changed ObjectModified; after any of them the folder is
 * ObjectModified with its total and unread counts, then each message that
 * came is NewMail (the order 07-notifications.json records), each as the
 * registration's NotificationTypes ask.  A registration for
 * one message (a MessageId) hears of that message alone.  Table
 * notifications are not sent.
 *
 * The entries wait, laid out, in the registration until an Execute of
 * its session has room for them; those that do not fit stay, and a
 * RopPending says so.  A registration's entries go with it when it is
 * released.
 *
 * Threads: NotificationWait runs beside the session's other requests, so
 * every registration is kept in one list under `lock`, which the looks at
 * the store hold too; `cond` wakes the waits when the server stops.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "wire/mapi-http.h"
#include "wire/mapi-tags.h"
#include "wire/rop-msg.h"
#include "mapid-private.h"

/* How often a NotificationWait looks at the store. */
#define NOTIFY_POLL_MS 500
/* The most entries a registration keeps for its session. */
#define QUEUE_MAX 4096

struct reg {
	struct mapid_session *sess;	/* borrowed: the registration is an
					   object of the session, freed with
					   it */
	uint32_t handle;
	uint8_t logon_id;
	uint16_t types;			/* ROP_NOTIF_* */
	bool whole_store;
	uint64_t fid, mid;		/* when !whole_store; mid 0: all */
	GHashTable *seen;		/* folder path -> (id -> flags) */
	GPtrArray *queue;		/* of GByteArray *: RopNotify
					   entries */
};

static GMutex lock;
static GCond cond;
static bool stopping;
static GPtrArray *regs;		/* of struct reg *, borrowed from
				   objects */

static void reg_free(void *p)
{
	struct reg *g = p;

	g_mutex_lock(&lock);
	if (regs)
		g_ptr_array_remove(regs, g);
	g_mutex_unlock(&lock);
	g_hash_table_unref(g->seen);
	g_ptr_array_unref(g->queue);
	g_free(g);
}

static void byte_array_unref(gpointer p)
{
	g_byte_array_unref(p);
}

static void hash_unref(gpointer p)
{
	g_hash_table_unref(p);
}

/* What folder `path` holds now: id -> flags (caller owns), or NULL. */
static GHashTable *folder_now(const struct serve_ctx *ctx, const char *path)
{
	struct mfs_sync_result *res = NULL;
	GHashTable *h;

	if (mfs_store_sync(ctx->store, path, NULL, &res, NULL) < 0)
		return NULL;
	h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < res->changed->len; i++) {
		const struct mfs_item *it = res->changed->pdata[i];
		uint64_t *f = g_new(uint64_t, 1);

		*f = it->flags & MFS_FLAG_LETTERS;
		g_hash_table_replace(h, g_strdup(it->id), f);
	}
	mfs_sync_result_free(&res);
	return h;
}

/* The store folders `g` covers (caller owns; of char *), their ids in
 * `fids`. */
static GPtrArray *folders_of(const struct serve_ctx *ctx, const struct reg *g,
			     GArray *fids)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *all = NULL;

	if (!g->whole_store) {
		char *p = mapid_folder_path(mapid_id_counter(g->fid));
		if (p) {
			g_ptr_array_add(out, p);
			g_array_append_val(fids, g->fid);
		}
		return out;
	}
	if (mfs_store_list_folders(ctx->store, &all, NULL) < 0)
		return out;
	for (guint i = 0; i < all->len; i++) {
		const struct mfs_folder_info *fi = all->pdata[i];
		uint64_t fid;

		if (fi->kind != MFS_FOLDER_MAIL &&
		    fi->kind != MFS_FOLDER_OUTBOX)
			continue;
		fid = mapid_id_make(mapid_folder_counter(fi->path,
							 fi->special));
		g_ptr_array_add(out, g_strdup(fi->path));
		g_array_append_val(fids, fid);
	}
	g_ptr_array_unref(all);
	return out;
}

/* Lay out one RopNotify into g's queue. */
static void queue(struct reg *g, struct rop_notification *n)
{
	struct rop_trailer t = { .rop_id = ROP_NOTIFY };
	GByteArray *b;

	if (g->queue->len >= QUEUE_MAX)
		return;	/* no one reads them: the counts will do */
	b = g_byte_array_new();
	t.u.notify.handle = g->handle;
	t.u.notify.logon_id = g->logon_id;
	t.u.notify.data = *n;
	if (rop_trailer_write(b, &t) < 0) {
		g_byte_array_unref(b);
		return;
	}
	g_ptr_array_add(g->queue, b);
}

static void message_event(struct reg *g, uint16_t type, uint64_t fid,
			  uint64_t mid, uint64_t flags)
{
	struct rop_notification n = {
		.flags = type | ROP_NOTIF_M, .fid = fid, .mid = mid,
		.parent_fid = fid,
	};
	uint32_t tag = MAPI_TAG_MESSAGE_FLAGS;

	if (!(g->types & type) || (g->mid && g->mid != mid))
		return;
	if (type == ROP_NOTIF_NEW_MAIL) {
		n.message_flags = MAPI_MSGFLAG_UNMODIFIED;
		if (flags & MFS_FLAG_SEEN)
			n.message_flags |= MAPI_MSGFLAG_READ;
		n.message_class = (char *)"IPM.Note";
	} else if (type == ROP_NOTIF_OBJECT_MODIFIED) {
		n.tag_count = 1;
		n.tags = &tag;
	}
	queue(g, &n);
}

/* Compare folder `path` with what `g` saw of it, queue the events, and
 * remember what it holds now.  Lock held. */
static void look_folder(const struct serve_ctx *ctx, struct reg *g,
			const char *path, uint64_t fid)
{
	GHashTable *before = g_hash_table_lookup(g->seen, path);
	GHashTable *now = folder_now(ctx, path);
	uint32_t total = 0, unread = 0;
	bool any = false;
	g_autoptr(GArray) came = g_array_new(FALSE, FALSE,
					     2 * sizeof(uint64_t));
	GHashTableIter it;
	gpointer k, v;

	if (!now)
		return;
	if (!before) {	/* first look: nothing to tell yet */
		g_hash_table_replace(g->seen, g_strdup(path), now);
		return;
	}
	g_hash_table_iter_init(&it, now);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		uint64_t f = *(uint64_t *)v, *old = g_hash_table_lookup(before,
									k);
		uint64_t mid;

		total++;
		if (!(f & MFS_FLAG_SEEN))
			unread++;
		if (old && *old == f)
			continue;
		mid = mapid_id_make(mapid_message_counter(path, k));
		if (!old) {
			uint64_t mf[2] = { mid, f };
			message_event(g, ROP_NOTIF_OBJECT_CREATED, fid, mid, f);
			g_array_append_vals(came, mf, 1);
		} else {
			message_event(g, ROP_NOTIF_OBJECT_MODIFIED, fid, mid,
				      f);
		}
		any = true;
	}
	g_hash_table_iter_init(&it, before);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (g_hash_table_contains(now, k))
			continue;
		message_event(g, ROP_NOTIF_OBJECT_DELETED, fid,
			      mapid_id_make(mapid_message_counter(path, k)),
			      0);
		any = true;
	}
	if (any && (g->types & ROP_NOTIF_OBJECT_MODIFIED) && !g->mid) {
		struct rop_notification n = {
			.flags = ROP_NOTIF_OBJECT_MODIFIED | ROP_NOTIF_T |
				 ROP_NOTIF_U,
			.fid = fid, .total = total, .unread = unread,
		};
		queue(g, &n);
	}
	/* NewMail last, after the counts, as a real server sends them */
	for (guint i = 0; i < came->len; i++) {
		const uint64_t *mf = &g_array_index(came, uint64_t, 2 * i);
		message_event(g, ROP_NOTIF_NEW_MAIL, fid, mf[0], mf[1]);
	}
	g_hash_table_replace(g->seen, g_strdup(path), now);
}

/* Lock held. */
static void look(const struct serve_ctx *ctx, struct reg *g)
{
	g_autoptr(GArray) fids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GPtrArray *folders = folders_of(ctx, g, fids);

	for (guint i = 0; i < folders->len; i++)
		look_folder(ctx, g, folders->pdata[i],
			    g_array_index(fids, uint64_t, i));
	g_ptr_array_unref(folders);
}

/* Look for every registration of `sess`; whether any has entries.  Lock
 * held. */
static bool look_session(const struct serve_ctx *ctx,
			 const struct mapid_session *sess)
{
	bool pending = false;

	for (guint i = 0; regs && i < regs->len; i++) {
		struct reg *g = regs->pdata[i];
		if (g->sess != sess)
			continue;
		look(ctx, g);
		pending |= g->queue->len > 0;
	}
	return pending;
}

/* Whether `fid` is a folder of the tree (which, made, knows the store
 * path of each folder for mapid_folder_path). */
static bool folder_known(struct mapid_rop_ctx *rc, uint64_t fid)
{
	uint64_t c = mapid_id_counter(fid);
	GArray *t = NULL;
	bool found = false;

	if (!c || mapid_folder_tree(rc->ctx, &t) < 0)
		return false;
	for (guint i = 0; i < t->len && !found; i++)
		found = g_array_index(t, struct mapid_folder, i).counter == c;
	g_array_unref(t);
	return found;
}

int mapid_rop_register_notification(struct mapid_rop_ctx *rc,
				    struct mapi_rd *r, GByteArray *out)
{
	struct rop_register_notification_req q;
	struct rop_register_notification_resp s = { 0 };
	struct mapid_obj *in, *o;
	struct reg *g;
	int err = rop_register_notification_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_REGISTER_NOTIFICATION;
	s.head.handle_index = q.output_handle_index;
	in = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (in && in->kind != MAPID_OBJ_LOGON && in->kind != MAPID_OBJ_FOLDER)
		s.head.rv = MAPI_E_INVALID_PARAMETER;
	else if (in && !q.want_whole_store && !folder_known(rc, q.folder_id))
		s.head.rv = MAPI_E_NOT_FOUND;
	if (!in || s.head.rv) {
		rop_register_notification_resp_write(out, &s);
		return 0;
	}
	g = g_new0(struct reg, 1);
	g->sess = rc->sess;
	g->logon_id = q.logon_id;
	g->types = q.types;
	g->whole_store = q.want_whole_store;
	g->fid = q.folder_id;
	g->mid = q.want_whole_store ? 0 : q.message_id;
	g->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					hash_unref);
	g->queue = g_ptr_array_new_with_free_func(byte_array_unref);
	o = g_new0(struct mapid_obj, 1);
	o->kind = MAPID_OBJ_NOTIFY;
	o->fid = q.folder_id;
	o->priv = g;
	o->priv_free = reg_free;
	s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	if (!s.head.rv) {
		g->handle = rc->handles[q.output_handle_index];
		g_mutex_lock(&lock);
		if (!regs)
			regs = g_ptr_array_new();
		g_ptr_array_add(regs, g);
		look(rc->ctx, g);	/* what the folders hold now */
		g_mutex_unlock(&lock);
	}
	rop_register_notification_resp_write(out, &s);
	return 0;
}

void mapid_notify_flush(const struct serve_ctx *ctx,
			struct mapid_session *sess, GByteArray *out,
			size_t room)
{
	bool left = false;

	g_mutex_lock(&lock);
	look_session(ctx, sess);
	for (guint i = 0; regs && i < regs->len; i++) {
		struct reg *g = regs->pdata[i];
		guint n = 0;

		if (g->sess != sess)
			continue;
		/* 3 bytes kept for the RopPending that says what is left */
		while (n < g->queue->len) {
			GByteArray *b = g->queue->pdata[n];
			if (b->len + 3 > room)
				break;
			g_byte_array_append(out, b->data, b->len);
			room -= b->len;
			n++;
		}
		g_ptr_array_remove_range(g->queue, 0, n);
		left |= g->queue->len > 0;
	}
	g_mutex_unlock(&lock);
	if (left && room >= 3) {
		struct rop_trailer t = { .rop_id = ROP_PENDING };
		rop_trailer_write(out, &t);
	}
}

void mapid_notify_stop(void)
{
	g_mutex_lock(&lock);
	stopping = true;
	g_cond_broadcast(&cond);
	g_mutex_unlock(&lock);
}

uint32_t mapid_nwait(const struct serve_ctx *ctx, struct mapid_session *s,
		     const uint8_t *body, size_t len, GByteArray *out)
{
	struct mapi_nwait_req q;
	struct mapi_nwait_resp r = { 0 };
	gint64 end = g_get_monotonic_time() + (gint64)MAPID_NWAIT_MS * 1000;

	if (mapi_nwait_req_read(&q, body, len) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	g_mutex_lock(&lock);
	while (!stopping) {
		gint64 now = g_get_monotonic_time();
		if (look_session(ctx, s)) {
			r.event_pending = 1;
			break;
		}
		if (now >= end)
			break;
		g_cond_wait_until(&cond, &lock,
				  MIN(end, now + NOTIFY_POLL_MS * 1000));
	}
	g_mutex_unlock(&lock);
	if (mapi_nwait_resp_write(out, &r) < 0)
		return MAPI_RC_UNKNOWN_FAILURE;
	return 0;
}
