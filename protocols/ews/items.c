/*
 * items.c - the members on messages: fetch, append, flags,
 * removal, move and copy.
 *
 * Specs: [MS-OXWSCORE] 3.1.4.x: GetItem, CreateItem (MessageDisposition
 * SaveOnly, SavedItemFolderId, MimeContent), UpdateItem (SetItemField,
 * DeleteItemField, ConflictResolution AlwaysOverwrite), DeleteItem
 * (HardDelete), MoveItem and CopyItem (ReturnNewItemIds).
 *
 * Batches: every member that takes several ids sends one request for
 * them all (the server answers one response message per id, in order).
 */
#include "pim.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "mail-header.h"

/* The ItemIds of `ids`; an id that leads nowhere becomes "-", which the
 * server answers with ErrorInvalidIdMalformed (-ENOENT) for that item
 * alone.  Returns 0.  *out_r caller owns (g_strfreev). */
static int item_ids(struct mfs_backend *be, const char *folder,
		    const char *const *ids, size_t n, char ***out_r,
		    struct mfs_error *e)
{
	char **out = g_new0(char *, n + 1);

	for (size_t i = 0; i < n; i++) {
		if (ewsc_item_from_id(be, folder, ids[i], &out[i]) < 0) {
			/* keep the slot: an id the server cannot have */
			out[i] = g_strdup("-");
		}
	}
	*out_r = out;
	return 0;
}

/* ---- fetch ---- */

struct one {
	guchar *buf;
	size_t len;
	bool got;
};

static void got_one(size_t i, const void *buf, size_t len,
		    const xmlNode *msg, void *data)
{
	struct one *o = data;

	o->buf = g_memdup2(buf, len);
	o->len = len;
	o->got = true;
}

int ewsc_fetch(struct mfs_backend *be, const char *folder, const char *id,
	      int *fd_r, struct mfs_error *e)
{
	g_autofree char *iid = NULL;
	struct one o = { 0 };
	int rc;

	if (ewsc_pim_kind(ewsc_pim_folder_kind(be, folder)))
		return ewsc_pim_fetch(be, folder, id, fd_r, e);
	if (mfs_spool_take(be->spool, id, fd_r) == 0)
		return 0;
	if (ewsc_item_from_id(be, folder, id, &iid) < 0)
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: no item %s", folder, id);
	const char *ids[] = { iid };
	int rcs[1] = { 0 };
	rc = ewsc_get_items(be, ids, 1, true, false, rcs, got_one, &o, e);
	if (rc < 0)
		return rc;
	if (!o.got)
		return mfs_error_set(e, rcs[0] ? rcs[0] : -ENOENT,
				     MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: item %s: %s", folder, id,
				     g_strerror(rcs[0] ? -rcs[0] : ENOENT));
	rc = mfs_spool_tmpfile(be->spool, o.buf, o.len, fd_r);
	g_free(o.buf);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
				     "a temporary file: %s", g_strerror(-rc));
	return 0;
}

struct many {
	const char *const *ids;		/* mount ids of the request */
	mfs_fetched_fn got;
	void *data;
};

static void got_many(size_t i, const void *buf, size_t len,
		     const xmlNode *msg, void *data)
{
	struct many *m = data;

	m->got(m->ids[i], buf, len, m->data);
}

int ewsc_fetch_batch(struct mfs_backend *be, const char *folder,
		    const char *const *ids, size_t n, mfs_fetched_fn got,
		    void *data, struct mfs_error *e)
{
	if (ewsc_pim_kind(ewsc_pim_folder_kind(be, folder)))
		return ewsc_pim_fetch_batch(be, folder, ids, n, got, data, e);
	GPtrArray *rest = g_ptr_array_new();
	GPtrArray *rest_iids = g_ptr_array_new_with_free_func(g_free);
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		int fd;
		char *buf = NULL;
		size_t len = 0;
		if (mfs_spool_take(be->spool, ids[i], &fd) == 0) {
			int r = file_read_head(fd, EWS_MIME_MAX, &buf, &len);
			close(fd);
			if (r == 0) {
				got(ids[i], buf, len, data);
				g_free(buf);
				continue;
			}
		}
		char *iid = NULL;
		if (ewsc_item_from_id(be, folder, ids[i], &iid) < 0)
			continue;	/* not found, as the contract says */
		g_ptr_array_add(rest, (gpointer)ids[i]);
		g_ptr_array_add(rest_iids, iid);
	}
	for (guint at = 0; rc == 0 && at < rest->len; at += EWS_BATCH_ITEMS) {
		guint k = MIN(EWS_BATCH_ITEMS, rest->len - at);
		struct many m = { (const char *const *)rest->pdata + at, got,
				  data };
		rc = ewsc_get_items(be, (const char *const *)rest_iids->pdata +
				   at, k, true, false, NULL, got_many, &m, e);
	}
	g_ptr_array_unref(rest);
	g_ptr_array_unref(rest_iids);
	return rc;
}

/* ---- append ---- */

/* The new item's ItemId from a CreateItem/MoveItem/CopyItem answer. */
static char *new_item_id(const xmlNode *msg)
{
	xmlNode *items = ews_child(msg, EWS_NS_M, "Items");
	xmlNode *iid = ews_child(ews_first_element(items), EWS_NS_T, "ItemId");

	return iid ? ews_attr(iid, "Id") : NULL;
}

static void remember(struct mfs_backend *be, const char *folder,
		     const char *fid, const char *id, const char *item_id,
		     uint64_t size, int64_t date, uint64_t flags,
		     const char *msgid)
{
	struct ewsc_known k = { (char *)item_id, size, date, flags,
			       (char *)msgid, NULL };

	g_mutex_lock(&be->lock);
	struct ewsc_table *t = ewsc_table_get(be, folder, fid);
	ewsc_table_put(t, id, &k);
	ewsc_table_save(be, folder, t);
	g_mutex_unlock(&be->lock);
}

static int append_one(struct mfs_backend *be, const char *folder, int fd,
		      const char *hint, uint64_t flags, int64_t date,
		      struct mfs_item **item_r, struct mfs_error *e)
{
	g_autofree char *fid = NULL, *buf = NULL, *msgid = NULL;
	struct ewsc_response *res = NULL;
	struct ewsc_status st;
	xmlNode *m = NULL;
	size_t len = 0;
	int rc;

	if (ewsc_pim_kind(ewsc_pim_folder_kind(be, folder)))
		return ewsc_pim_append(be, folder, fd, hint, item_r, e);
	rc = ewsc_folder_id(be, folder, &fid, NULL, e);

	if (rc < 0)
		return rc;
	if ((rc = file_read_head(fd, EWS_MIME_MAX + 1, &buf, &len)) < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "reading the new message: %s",
				     g_strerror(-rc));
	if (len > EWS_MIME_MAX)
		return mfs_error_set(e, -EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "a message over %u bytes", EWS_MIME_MAX);
	g_autofree char *b64 = g_base64_encode((const guchar *)buf, len);
	GString *req = ewsc_req_begin();
	g_string_append(req, "<m:CreateItem MessageDisposition=\"SaveOnly\">"
			"<m:SavedItemFolderId>");
	ewsc_req_id(req, "t:FolderId", fid);
	g_string_append(req, "</m:SavedItemFolderId><m:Items><t:Message>"
			"<t:MimeContent>");
	g_string_append(req, b64);
	g_string_append(req, "</t:MimeContent>");
	ewsc_req_new_item_flags(req, flags);
	g_string_append(req, "</t:Message></m:Items></m:CreateItem>");
	ewsc_req_end(req);
	rc = ewsc_call_one(be, "CreateItem", req, MFS_ERR_ITEM, &res, &m, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	ewsc_status_of(m, &st);
	g_autofree char *iid = st.rc == 0 ? new_item_id(m) : NULL;
	ewsc_response_free(&res);
	if (st.rc < 0)
		return ewsc_status_error(&st, "CreateItem", folder, e);
	if (!iid)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ITEM,
				     MFS_ERR_TRANSIENT,
				     "CreateItem: no ItemId in the answer");
	if (mail_header_get(buf, MIN(len, 65536), "Message-ID", &msgid) < 0)
		msgid = NULL;
	g_autofree char *id = ewsc_id_from_item(iid);
	/* the written bytes are the item's, so sync need not fetch them */
	remember(be, folder, fid, id, iid, len, date,
		 flags & ~MFS_FLAG_NEW, msgid ? msgid : "");
	struct mfs_item *it = mfs_item_new(id, len, date, flags & ~MFS_FLAG_NEW);
	it->message_id = g_strdup(msgid ? msgid : "");
	*item_r = it;
	return 0;
}

/* One CreateItem a message: a batch of more than one is -ENOTSUP
 * (backend.h), and the caller makes them one by one. */
int ewsc_append(struct mfs_backend *be, const char *folder,
		const struct mfs_append *in, size_t n, GPtrArray **items_r,
		struct mfs_error *e)
{
	struct mfs_item *it = NULL;
	int rc;

	if (n != 1)
		return -ENOTSUP;
	rc = append_one(be, folder, in->fd, in->hint, in->flags, in->date, &it,
			e);
	if (rc < 0)
		return rc;
	*items_r = mfs_items_one(it);
	return 0;
}

/* ---- flags ---- */

static int set_flags_many(struct mfs_backend *be, const char *folder,
			  const char *const *ids, const uint64_t *flags,
			  size_t n, int *rcs, struct mfs_error *e)
{
	g_auto(GStrv) iids = NULL;
	struct ewsc_response *res = NULL;
	int rc = item_ids(be, folder, ids, n, &iids, e);

	if (rc < 0)
		return rc;
	GString *req = ewsc_req_begin();
	g_string_append(req, "<m:UpdateItem MessageDisposition=\"SaveOnly\" "
			"ConflictResolution=\"AlwaysOverwrite\">"
			"<m:ItemChanges>");
	for (size_t i = 0; i < n; i++) {
		g_string_append(req, "<t:ItemChange>");
		ewsc_req_id(req, "t:ItemId", iids[i]);
		g_string_append(req, "<t:Updates>");
		ewsc_req_flag_updates(req, flags[i]);
		g_string_append(req, "</t:Updates></t:ItemChange>");
	}
	g_string_append(req, "</m:ItemChanges></m:UpdateItem>");
	ewsc_req_end(req);
	rc = ewsc_call(be, "UpdateItem", req, &res, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	if (res->msgs->len != n) {
		ewsc_response_free(&res);
		return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER,
				     MFS_ERR_TRANSIENT, "UpdateItem: %zu "
				     "changes, another number of answers", n);
	}
	for (size_t i = 0; i < n; i++) {
		struct ewsc_status st;
		ewsc_status_of(res->msgs->pdata[i], &st);
		rcs[i] = st.rc;
		if (st.rc < 0 && st.rc != -ENOENT) {
			rc = ewsc_status_error(&st, "UpdateItem", folder, e);
			continue;
		}
		if (st.rc < 0)
			continue;
		g_mutex_lock(&be->lock);
		struct ewsc_table *t = g_hash_table_lookup(be->tables, folder);
		struct ewsc_known *k = t ? g_hash_table_lookup(t->items, ids[i])
					: NULL;
		if (k) {
			/* D is fixed once an item exists */
			k->flags = (flags[i] & ~(MFS_FLAG_NEW | MFS_FLAG_DRAFT))
				   | (k->flags & MFS_FLAG_DRAFT);
			t->dirty = true;
		}
		g_mutex_unlock(&be->lock);
	}
	ewsc_response_free(&res);
	/* a failure of one item is that item's; the exchange went through
	 * unless every item failed the same way */
	return n == 1 ? (rcs[0] == -ENOENT ? 0 : rc) : 0;
}

int ewsc_set_flags(struct mfs_backend *be, const char *folder,
		   const char *const *ids, const uint64_t *flags, size_t n,
		   int *rcs, struct mfs_error *e)
{
	int rc = set_flags_many(be, folder, ids, flags, n, rcs, e);

	/* one alone fails when the item is gone (backend.h) */
	if (n == 1 && rc == 0 && rcs[0] < 0)
		rc = mfs_error_set(e, rcs[0], MFS_ERR_ITEM, MFS_ERR_FINAL,
				   "%s: no item %s", folder, ids[0]);
	return rc;
}

/* ---- removal ---- */

static void forget(struct mfs_backend *be, const char *folder,
		   const char *id)
{
	char *key = NULL;

	g_mutex_lock(&be->lock);
	struct ewsc_table *t = g_hash_table_lookup(be->tables, folder);
	struct ewsc_known *k = t ? g_hash_table_lookup(t->items, id) : NULL;
	/* a contact's or event's body is spooled under its ItemId's key */
	key = k && k->base ? ewsc_pim_spool_key(k->item_id) : NULL;
	if (k && g_hash_table_remove(t->items, id))
		t->dirty = true;
	g_mutex_unlock(&be->lock);
	mfs_spool_drop(be->spool, key ? key : id);
	g_free(key);
}

int ewsc_remove(struct mfs_backend *be, const char *folder,
		const char *const *ids, size_t n, struct mfs_error *e)
{
	g_auto(GStrv) iids = NULL;
	struct ewsc_response *res = NULL;
	int rc = item_ids(be, folder, ids, n, &iids, e);

	if (rc < 0)
		return rc;
	GString *req = ewsc_req_begin();
	g_string_append(req, "<m:DeleteItem DeleteType=\"HardDelete\">"
			"<m:ItemIds>");
	for (size_t i = 0; i < n; i++)
		ewsc_req_id(req, "t:ItemId", iids[i]);
	g_string_append(req, "</m:ItemIds></m:DeleteItem>");
	ewsc_req_end(req);
	rc = ewsc_call(be, "DeleteItem", req, &res, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n && i < res->msgs->len; i++) {
		struct ewsc_status st;
		ewsc_status_of(res->msgs->pdata[i], &st);
		if (st.rc == 0 || st.rc == -ENOENT) {
			forget(be, folder, ids[i]);
			continue;
		}
		rc = ewsc_status_error(&st, "DeleteItem", folder, e);
	}
	if (rc == 0 && res->msgs->len != n)
		rc = mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER,
				   MFS_ERR_TRANSIENT, "DeleteItem: %zu ids, "
				   "another number of answers", n);
	ewsc_response_free(&res);
	return rc;
}

/* ---- move and copy ---- */

/* Ask the server to move or copy `n` items into the folder `dfid`; the
 * answer has one message per item.  Returns 0 with *res_r (caller owns),
 * or -errno with *e filled. */
static int send_move(struct mfs_backend *be, const char *op,
		     const char *dfid, char *const *iids, size_t n,
		     struct ewsc_response **res_r, struct mfs_error *e)
{
	struct ewsc_response *res = NULL;
	GString *req = ewsc_req_begin();
	int rc;

	g_string_append_printf(req, "<m:%s><m:ToFolderId>", op);
	ewsc_req_id(req, "t:FolderId", dfid);
	g_string_append(req, "</m:ToFolderId><m:ItemIds>");
	for (size_t i = 0; i < n; i++)
		ewsc_req_id(req, "t:ItemId", iids[i]);
	g_string_append_printf(req, "</m:ItemIds><m:ReturnNewItemIds>true"
			       "</m:ReturnNewItemIds></m:%s>", op);
	ewsc_req_end(req);
	rc = ewsc_call(be, op, req, &res, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	if (res->msgs->len != n) {
		ewsc_response_free(&res);
		return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER,
				     MFS_ERR_TRANSIENT, "%s: %zu ids, another "
				     "number of answers", op, n);
	}
	*res_r = res;
	return 0;
}

/* The side of this item that the server moved or copied from `folder`
 * (id `id`) into `dest` (id `dfid`) as `niid`: what was known of it goes
 * along, its spooled body too when it moved.  Adds to fix_ids/fix_flags
 * when the flags asked for must still be set on the new item.  Caller
 * owns the result; its size is G_MAXUINT64 when this side never listed
 * the item. */
static struct mfs_item *moved_item(struct mfs_backend *be, const char *folder,
				   const char *sfid, const char *id,
				   const char *dest, const char *dfid,
				   const char *niid, uint64_t flags, bool move,
				   GPtrArray *fix_ids, GArray *fix_flags)
{
	struct ewsc_known k = { 0 };
	g_mutex_lock(&be->lock);
	struct ewsc_table *t = ewsc_table_get(be, folder, sfid);
	struct ewsc_known *old = g_hash_table_lookup(t->items, id);
	if (old) {
		k = *old;
		k.message_id = g_strdup(old->message_id);
	}
	if (move && old) {
		g_hash_table_remove(t->items, id);
		t->dirty = true;
	}
	g_mutex_unlock(&be->lock);
	g_autofree char *nid = ewsc_id_from_item(niid);
	uint64_t want = flags & ~MFS_FLAG_NEW;
	if (old) {
		remember(be, dest, dfid, nid, niid, k.size, k.date, want,
			 k.message_id);
		/* a spooled body goes along to its new name */
		int fd;
		if (move && mfs_spool_take(be->spool, id, &fd) == 0) {
			char *buf = NULL;
			size_t len = 0;
			if (file_read_head(fd, EWS_MIME_MAX, &buf, &len) == 0)
				mfs_spool_put(be->spool, nid, buf, len);
			g_free(buf);
			close(fd);
		}
	}
	/* an item this side never listed: its size is learnt later */
	struct mfs_item *it = mfs_item_new(nid, old ? k.size : G_MAXUINT64,
					   k.date, want);
	it->message_id = k.message_id ? g_strdup(k.message_id) : NULL;
	g_free(k.message_id);
	if (!old || (old && (k.flags & ~MFS_FLAG_NEW) != want)) {
		g_ptr_array_add(fix_ids, g_strdup(nid));
		g_array_append_val(fix_flags, want);
	}
	return it;
}

/* Items of `dest` this side never listed take their size from their
 * bytes (fetched, and spooled for the read that will follow). */
static void learn_sizes(struct mfs_backend *be, const char *dest,
			GPtrArray *items)
{
	for (guint i = 0; i < items->len; i++) {
		struct mfs_item *it = items->pdata[i];
		if (!it || it->size != G_MAXUINT64)
			continue;
		int fd;
		struct mfs_error fe = { 0 };
		it->size = 0;
		if (ewsc_fetch(be, dest, it->id, &fd, &fe) == 0) {
			struct stat sb;
			if (fstat(fd, &sb) == 0)
				it->size = (uint64_t)sb.st_size;
			char *buf = NULL;
			size_t len = 0;
			if (lseek(fd, 0, SEEK_SET) == 0 &&
			    file_read_head(fd, EWS_MIME_MAX, &buf, &len) == 0)
				mfs_spool_put(be->spool, it->id, buf, len);
			g_free(buf);
			close(fd);
		}
	}
}

static int move_many(struct mfs_backend *be, const char *folder,
		     const char *const *ids, const char *dest,
		     const uint64_t *flags, size_t n, bool move,
		     GPtrArray **items_r, struct mfs_error *e)
{
	g_auto(GStrv) iids = NULL;
	g_autofree char *dfid = NULL, *sfid = NULL;
	struct ewsc_response *res = NULL;
	const char *op = move ? "MoveItem" : "CopyItem";
	int rc;

	if ((rc = ewsc_folder_id(be, dest, &dfid, NULL, e)) < 0 ||
	    (rc = ewsc_folder_id(be, folder, &sfid, NULL, e)) < 0 ||
	    (rc = item_ids(be, folder, ids, n, &iids, e)) < 0 ||
	    (rc = send_move(be, op, dfid, iids, n, &res, e)) < 0)
		return rc;
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_item_free);
	GPtrArray *fix_ids = g_ptr_array_new_with_free_func(g_free);
	GArray *fix_flags = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	for (size_t i = 0; i < n; i++) {
		struct ewsc_status st;
		ewsc_status_of(res->msgs->pdata[i], &st);
		g_autofree char *niid = st.rc == 0
			? new_item_id(res->msgs->pdata[i]) : NULL;
		if (st.rc == 0 && !niid)
			st.rc = -EPROTO;
		if (st.rc < 0) {
			if (st.rc != -ENOENT)
				rc = mfs_error_set(e, st.rc, MFS_ERR_ITEM,
						   MFS_ERR_TRANSIENT,
						   "%s from %s: %s %s", op,
						   folder, st.code, st.text);
			g_ptr_array_add(out, NULL);
			continue;
		}
		g_ptr_array_add(out, moved_item(be, folder, sfid, ids[i], dest,
						dfid, niid, flags[i], move,
						fix_ids, fix_flags));
	}
	ewsc_response_free(&res);
	if (rc == 0 && fix_ids->len) {
		/* the flags asked for, on the items as `dest` holds them */
		int *rcs = g_new0(int, fix_ids->len);
		rc = set_flags_many(be, dest,
				    (const char *const *)fix_ids->pdata,
				    (const uint64_t *)fix_flags->data,
				    fix_ids->len, rcs, e);
		g_free(rcs);
	}
	g_ptr_array_unref(fix_ids);
	g_array_unref(fix_flags);
	if (rc < 0) {
		g_ptr_array_unref(out);
		return rc;
	}
	learn_sizes(be, dest, out);
	*items_r = out;
	return 0;
}

int ewsc_move(struct mfs_backend *be, const char *folder,
	      const char *const *ids, const char *dest, const uint64_t *flags,
	      size_t n, bool move, GPtrArray **items_r, struct mfs_error *e)
{
	GPtrArray *items = NULL;
	int rc = move_many(be, folder, ids, dest, flags, n, move, &items, e);

	if (rc < 0)
		return rc;
	/* one alone fails when the item is gone (backend.h) */
	if (n == 1 && !items->pdata[0]) {
		g_ptr_array_unref(items);
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: no item %s", folder, ids[0]);
	}
	*items_r = items;
	return 0;
}
