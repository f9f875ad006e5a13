/*
 * sync.c - one folder's changes: SyncFolderItems, paged (the
 * paging serves contacts and calendar folders too), and the content of
 * new mail items fetched to learn their exact sizes.
 *
 * Specs: [MS-OXWSSYNC] 3.1.4.2 (SyncFolderItems: SyncState,
 * MaxChangesReturned, IncludesLastItemInRange, Create/Update/Delete/
 * ReadFlagChange); [MS-OXWSCDATA] for ErrorInvalidSyncStateData.
 *
 * The state handed to the cache is "<folder tag>:<SyncState>", the tag a
 * hash of the FolderId, so that a state never meets another folder that
 * took its path.  A state the server no longer takes
 * (ErrorInvalidSyncStateData) starts the folder over: a full result.
 *
 * Per page: items whose size the folder's table does not know are fetched
 * with their MimeContent (GetItem, EWS_BATCH_ITEMS per request) into the
 * spool; the others need only their properties, which SyncFolderItems
 * returns itself when the server honours the requested shape (else one
 * GetItem without content).  A ReadFlagChange only flips S.
 */
#include "pim.h"

#include <errno.h>
#include <string.h>

#include "log.h"

/* A server that keeps saying "more" stops being listened to here. */
#define SYNC_PAGES_MAX 20000
/* Items per GetItem when only properties are asked for. */
#define PROPS_BATCH 256

struct pending {
	char *id;			/* mount id */
	char *item_id;
	bool have_props;		/* flags etc. came with the change */
	struct ewsc_known k;		/* item_id borrowed from above */
	bool done;
};

struct run {
	struct mfs_backend *be;
	const char *folder;
	struct ewsc_table *t;		/* borrowed; lock */
	GHashTable *changed;		/* id -> NULL: ids changed */
	GHashTable *vanished;		/* id set */
	GHashTable *seen;		/* full: every id present */
	bool full;
};

static void pending_free(gpointer p)
{
	struct pending *pd = p;

	g_free(pd->id);
	g_free(pd->item_id);
	g_free(pd->k.message_id);
	g_free(pd);
}

void ewsc_sync_state_split(const char *fid, const char *state, char **tag_r,
			   char **ews_state_r)
{
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							     fid, -1);
	size_t tl = 16;

	*tag_r = g_strndup(sum, tl);
	*ews_state_r = NULL;
	if (state && !strncmp(state, *tag_r, tl) && state[tl] == ':' &&
	    state[tl + 1])
		*ews_state_r = g_strdup(state + tl + 1);
}

static void record(struct run *r, struct pending *pd)
{
	g_mutex_lock(&r->be->lock);
	pd->k.item_id = pd->item_id;
	ewsc_table_put(r->t, pd->id, &pd->k);
	pd->k.item_id = NULL;
	g_mutex_unlock(&r->be->lock);
	g_hash_table_add(r->changed, g_strdup(pd->id));
	g_hash_table_remove(r->vanished, pd->id);
	pd->done = true;
}

struct got_ctx {
	struct run *r;
	GPtrArray *batch;		/* of struct pending *, borrowed */
	bool mime;
	int rc;
};

static void got(size_t i, const void *buf, size_t len, const xmlNode *msg,
		void *data)
{
	struct got_ctx *g = data;
	struct pending *pd = g->batch->pdata[i];
	uint64_t ews_size;

	g_free(pd->k.message_id);
	ewsc_item_read(msg, &pd->k.flags, &pd->k.date, &pd->k.message_id,
		      &ews_size);
	if (g->mime) {
		int rc = mfs_spool_put(g->r->be->spool, pd->id, buf, len);
		if (rc < 0) {
			g->rc = rc;
			return;
		}
		pd->k.size = len;
	}
	record(g->r, pd);
}

/* GetItem for one batch; failures other than a vanished or oversized
 * item fail the sync, so the state does not move past them. */
static int fetch_batch(struct run *r, GPtrArray *batch, bool mime,
		       struct mfs_error *e)
{
	struct got_ctx g = { r, batch, mime, 0 };
	const char **ids = g_new(const char *, batch->len);
	int *rcs = g_new0(int, batch->len);
	int rc;

	for (guint i = 0; i < batch->len; i++)
		ids[i] = ((struct pending *)batch->pdata[i])->item_id;
	rc = ewsc_get_items(r->be, ids, batch->len, mime, true, rcs, got, &g,
			   e);
	for (guint i = 0; rc == 0 && i < batch->len; i++) {
		struct pending *pd = batch->pdata[i];
		if (rcs[i] == -EFBIG)
			log_warnx("ews: %s: an item over %u bytes is left "
				  "out", r->folder, EWS_MIME_MAX);
		else if (rcs[i] < 0 && rcs[i] != -ENOENT)
			rc = rcs[i];
		else if (rcs[i] == -ENOENT && r->full)
			g_hash_table_remove(r->seen, pd->id);
	}
	if (rc == 0 && g.rc < 0)
		rc = mfs_error_set(e, g.rc, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
				   "spooling a message: %s",
				   g_strerror(-g.rc));
	g_free(ids);
	g_free(rcs);
	return rc;
}

/* Fetch what the page's changes still need. */
static int complete(struct run *r, GPtrArray *page, struct mfs_error *e)
{
	GPtrArray *mime = g_ptr_array_new();
	GPtrArray *props = g_ptr_array_new();
	int rc = 0;

	for (guint i = 0; i < page->len; i++) {
		struct pending *pd = page->pdata[i];
		if (pd->done)
			continue;
		if (pd->k.size == G_MAXUINT64)
			g_ptr_array_add(mime, pd);
		else if (pd->have_props)
			record(r, pd);
		else
			g_ptr_array_add(props, pd);
	}
	for (guint at = 0; rc == 0 && at < mime->len; at += EWS_BATCH_ITEMS) {
		GPtrArray *b = g_ptr_array_new();
		for (guint j = at; j < mime->len && j < at + EWS_BATCH_ITEMS;
		     j++)
			g_ptr_array_add(b, mime->pdata[j]);
		rc = fetch_batch(r, b, true, e);
		g_ptr_array_unref(b);
	}
	for (guint at = 0; rc == 0 && at < props->len; at += PROPS_BATCH) {
		GPtrArray *b = g_ptr_array_new();
		for (guint j = at; j < props->len && j < at + PROPS_BATCH; j++)
			g_ptr_array_add(b, props->pdata[j]);
		rc = fetch_batch(r, b, false, e);
		g_ptr_array_unref(b);
	}
	g_ptr_array_unref(mime);
	g_ptr_array_unref(props);
	return rc;
}

/* A Create or Update: what is known of the item, what is still needed. */
static struct pending *pending_of(struct run *r, const xmlNode *item,
				  const char *item_id)
{
	struct pending *pd = g_new0(struct pending, 1);
	uint64_t ews_size;

	pd->id = ewsc_id_from_item(item_id);
	pd->item_id = g_strdup(item_id);
	pd->k.size = G_MAXUINT64;
	g_mutex_lock(&r->be->lock);
	struct ewsc_known *k = g_hash_table_lookup(r->t->items, pd->id);
	if (k) {
		pd->k.size = k->size;
		pd->k.date = k->date;
		pd->k.flags = k->flags;
		pd->k.message_id = g_strdup(k->message_id);
	}
	g_mutex_unlock(&r->be->lock);
	/* the properties came along when the server honoured the shape */
	if (item && ews_child(item, EWS_NS_T, "IsRead")) {
		g_free(pd->k.message_id);
		ewsc_item_read(item, &pd->k.flags, &pd->k.date,
			      &pd->k.message_id, &ews_size);
		pd->have_props = true;
	}
	return pd;
}

static void on_delete(struct run *r, const char *item_id)
{
	g_autofree char *id = ewsc_id_from_item(item_id);

	g_mutex_lock(&r->be->lock);
	if (g_hash_table_remove(r->t->items, id))
		r->t->dirty = true;
	g_mutex_unlock(&r->be->lock);
	mfs_spool_drop(r->be->spool, id);
	g_hash_table_remove(r->changed, id);
	if (r->full)
		g_hash_table_remove(r->seen, id);
	else
		g_hash_table_add(r->vanished, g_strdup(id));
}

/* One page's changes into `page` (of struct pending *). */
static void read_changes(struct run *r, const xmlNode *changes,
			 GPtrArray *page)
{
	for (xmlNode *c = ews_first_element(changes); c;
	     c = ews_next_element(c)) {
		const char *what = (const char *)c->name;
		xmlNode *item = ews_first_element(c);
		xmlNode *iid = !strcmp(what, "Delete") ||
			       !strcmp(what, "ReadFlagChange")
			? ews_child(c, EWS_NS_T, "ItemId")
			: ews_child(item, EWS_NS_T, "ItemId");
		g_autofree char *item_id = iid ? ews_attr(iid, "Id") : NULL;

		if (!item_id || !*item_id)
			continue;
		if (!strcmp(what, "Delete")) {
			on_delete(r, item_id);
			continue;
		}
		if (strcmp(what, "Create") && strcmp(what, "Update") &&
		    strcmp(what, "ReadFlagChange"))
			continue;
		bool flag_only = !strcmp(what, "ReadFlagChange");
		struct pending *pd = pending_of(r, flag_only ? NULL : item,
						item_id);
		if (flag_only && pd->k.size != G_MAXUINT64) {
			g_autofree char *read = ewsc_text(c, "IsRead");
			pd->k.flags &= ~MFS_FLAG_SEEN;
			if (read && !strcmp(read, "true"))
				pd->k.flags |= MFS_FLAG_SEEN;
			pd->have_props = true;
		}
		if (r->full)
			g_hash_table_add(r->seen, g_strdup(pd->id));
		g_ptr_array_add(page, pd);
	}
}

static GString *page_request(const char *fid, bool props,
			     const char *state)
{
	GString *req = ewsc_req_begin();

	g_string_append(req, "<m:SyncFolderItems><m:ItemShape>"
			"<t:BaseShape>IdOnly</t:BaseShape>");
	if (props)
		ewsc_req_item_props(req);
	g_string_append(req, "</m:ItemShape><m:SyncFolderId>");
	ewsc_req_id(req, "t:FolderId", fid);
	g_string_append(req, "</m:SyncFolderId>");
	if (state) {
		g_string_append(req, "<m:SyncState>");
		ews_escape(req, state);
		g_string_append(req, "</m:SyncState>");
	}
	g_string_append_printf(req, "<m:MaxChangesReturned>%d"
			       "</m:MaxChangesReturned>"
			       "<m:SyncScope>NormalItems</m:SyncScope>"
			       "</m:SyncFolderItems>", EWS_SYNC_PAGE);
	ewsc_req_end(req);
	return req;
}

int ewsc_sync_pages(struct mfs_backend *be, const char *folder,
		    const char *fid, bool props, char **state_r,
		    ewsc_changes_fn changes, void *data, struct mfs_error *e)
{
	for (int n = 0; n < SYNC_PAGES_MAX; n++) {
		struct ewsc_response *res = NULL;
		struct ewsc_status st;
		xmlNode *m = NULL;
		GString *req = page_request(fid, props, *state_r);
		int rc = ewsc_call_one(be, "SyncFolderItems", req,
				       MFS_ERR_FOLDER, &res, &m, e);

		g_string_free(req, TRUE);
		if (rc < 0)
			return rc;
		ewsc_status_of(m, &st);
		if (st.rc < 0) {
			rc = ewsc_status_error(&st, "SyncFolderItems", folder,
					       e);
			ewsc_response_free(&res);
			return rc;
		}
		g_autofree char *next = ewsc_text(m, "SyncState");
		g_autofree char *last = ewsc_text(m, "IncludesLastItemInRange");
		xmlNode *page = ews_child(m, EWS_NS_M, "Changes");
		bool empty = ews_first_element(page) == NULL;
		rc = changes(page, data, e);
		ewsc_response_free(&res);
		if (rc < 0)
			return rc;
		if (!next || !*next)
			return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER,
					     MFS_ERR_TRANSIENT,
					     "SyncFolderItems: no SyncState");
		g_free(*state_r);
		*state_r = g_steal_pointer(&next);
		if (!last || strcmp(last, "false"))
			return 0;
		if (empty)
			return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER,
					     MFS_ERR_TRANSIENT,
					     "SyncFolderItems: more changes "
					     "promised, none given");
	}
	return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER, MFS_ERR_TRANSIENT,
			     "SyncFolderItems: more than %d pages",
			     SYNC_PAGES_MAX);
}

/* One page of a mail folder: its changes read, then what they still
 * need fetched, before the next page moves the state past them. */
static int mail_page(const xmlNode *changes, void *data,
		     struct mfs_error *e)
{
	struct run *r = data;
	GPtrArray *page = g_ptr_array_new_with_free_func(pending_free);
	int rc;

	read_changes(r, changes, page);
	rc = complete(r, page, e);
	g_ptr_array_unref(page);
	return rc;
}

static struct mfs_item *item_of(const char *id, const struct ewsc_known *k)
{
	struct mfs_item *it = mfs_item_new(id, k->size, k->date, k->flags);

	it->message_id = g_strdup(k->message_id ? k->message_id : "");
	return it;
}

/* The result from what the run gathered. */
static struct mfs_sync_result *result(struct run *r, const char *tag,
				      const char *state)
{
	struct mfs_sync_result *res = mfs_sync_result_new();
	GHashTableIter it;
	gpointer key, val;

	res->full = r->full;
	res->state = g_strconcat(tag, ":", state, NULL);
	g_mutex_lock(&r->be->lock);
	if (r->full) {
		GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_iter_init(&it, r->t->items);
		while (g_hash_table_iter_next(&it, &key, &val)) {
			if (!g_hash_table_contains(r->seen, key)) {
				g_ptr_array_add(gone, g_strdup(key));
				continue;
			}
			g_ptr_array_add(res->changed, item_of(key, val));
		}
		for (guint i = 0; i < gone->len; i++) {
			g_hash_table_remove(r->t->items, gone->pdata[i]);
			r->t->dirty = true;
		}
		g_mutex_unlock(&r->be->lock);
		for (guint i = 0; i < gone->len; i++)
			mfs_spool_drop(r->be->spool, gone->pdata[i]);
		g_ptr_array_unref(gone);
		return res;
	}
	g_hash_table_iter_init(&it, r->changed);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		struct ewsc_known *k = g_hash_table_lookup(r->t->items, key);
		if (k)
			g_ptr_array_add(res->changed, item_of(key, k));
	}
	g_hash_table_iter_init(&it, r->vanished);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_ptr_array_add(res->vanished, g_strdup(key));
	g_mutex_unlock(&r->be->lock);
	return res;
}

static void run_clear(struct run *r)
{
	g_hash_table_unref(r->changed);
	g_hash_table_unref(r->vanished);
	g_hash_table_unref(r->seen);
}

static void run_init(struct run *r, bool full)
{
	r->full = full;
	r->changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   NULL);
	r->vanished = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    NULL);
	r->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

int ewsc_sync(struct mfs_backend *be, const char *folder, const char *state,
	     struct mfs_sync_result **res_r, struct mfs_error *e)
{
	g_autofree char *fid = NULL, *tag = NULL, *ews_state = NULL;
	enum mfs_folder_kind kind = MFS_FOLDER_MAIL;
	struct run r = { be, folder, NULL, NULL, NULL, NULL, false };
	int rc;

	if (ewsc_dir_is(folder))
		return ewsc_dir_sync(res_r);
	rc = ewsc_folder_id(be, folder, &fid, &kind, e);
	if (rc < 0) {
		ewsc_note_sync(be, rc, e);
		return rc;
	}
	if (ewsc_pim_kind(kind))
		return ewsc_pim_sync(be, folder, fid, kind, state, res_r, e);
	if (kind != MFS_FOLDER_MAIL) {
		/* contacts and calendars are converted elsewhere; as mail
		 * they hold nothing */
		*res_r = mfs_sync_result_new();
		(*res_r)->full = true;
		return 0;
	}
	ewsc_sync_state_split(fid, state, &tag, &ews_state);
	g_mutex_lock(&be->lock);
	r.t = ewsc_table_get(be, folder, fid);
	g_mutex_unlock(&be->lock);
	run_init(&r, ews_state == NULL);
	rc = ewsc_sync_pages(be, folder, fid, true, &ews_state, mail_page, &r,
			     e);
	if (rc == -ESTALE && !r.full) {
		/* the server forgot our state: start over, as a full sync */
		log_info("ews: %s: the server no longer knows the sync state; "
			 "reading the folder again", folder);
		run_clear(&r);
		run_init(&r, true);
		g_clear_pointer(&ews_state, g_free);
		rc = ewsc_sync_pages(be, folder, fid, true, &ews_state,
				     mail_page, &r, e);
	}
	if (rc == 0)
		*res_r = result(&r, tag, ews_state);
	g_mutex_lock(&be->lock);
	ewsc_table_save(be, folder, r.t);
	g_mutex_unlock(&be->lock);
	run_clear(&r);
	ewsc_note_sync(be, rc, e);
	return rc;
}
