/*
 * pim.c - contacts folders as .vcf files and calendar folders as
 * .ics files over EWS.
 *
 * Specs: [MS-OXWSSYNC] 3.1.4.2 (SyncFolderItems), [MS-OXWSCORE] 3.1.4.x
 * (GetItem with BaseShape AllProperties and BodyType Text, CreateItem,
 * UpdateItem with SetItemField/DeleteItemField, DeleteItem),
 * [MS-OXWSCONT] (ContactItemType), [MS-OXWSCAL] (CalendarItemType,
 * SendMeetingInvitations, SendMeetingInvitationsOrCancellations),
 * RFC 6350, RFC 5545.
 *
 * A contact has no bytes on the server: its card is made here from the
 * t:Contact, at sync (so st_size is exact before any read) and kept in
 * the spool until fetch() takes it, as new messages are.  A calendar
 * item's file is its MimeContent, the .ics bytes as stored.  The state
 * handed to the cache is "<folder tag>:<SyncState>" as in sync.c,
 * so a state never meets another folder that took its path.
 */
#include "pim.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wire/ews-contact.h"
#include "wire/vcard.h"
#include "fileutil.h"
#include "log.h"

/* A .vcf or .ics past this is not a plausible contact or event. */
#define PIM_MAX (8u * 1024 * 1024)

bool ewsc_pim_kind(enum mfs_folder_kind kind)
{
	return kind == MFS_FOLDER_CONTACTS || kind == MFS_FOLDER_CALENDAR;
}

const char *ewsc_pim_suffix(enum mfs_folder_kind kind)
{
	return kind == MFS_FOLDER_CALENDAR ? ".ics" : ".vcf";
}

enum mfs_folder_kind ewsc_pim_folder_kind(struct mfs_backend *be,
					  const char *folder)
{
	enum mfs_folder_kind kind = MFS_FOLDER_MAIL;

	g_mutex_lock(&be->lock);
	struct ewsc_folder *f = g_hash_table_lookup(be->folders, folder);
	if (f)
		kind = f->kind;
	g_mutex_unlock(&be->lock);
	return kind;
}

/* The mount id of an ItemId in a folder of `kind`.  Caller owns. */
static char *pim_id(const char *item_id, enum mfs_folder_kind kind)
{
	g_autofree char *base = ewsc_id_from_item(item_id);

	return g_strconcat(base, ewsc_pim_suffix(kind), NULL);
}

/* When the item was last changed, from LastModifiedTime or
 * DateTimeCreated; now when the server says neither. */
static int64_t item_date(const xmlNode *item)
{
	static const char *const names[] = { "LastModifiedTime",
					     "DateTimeCreated" };

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *s = ewsc_text(item, names[i]);
		GDateTime *dt = s ? g_date_time_new_from_iso8601(s, NULL)
				  : NULL;
		if (dt) {
			int64_t t = g_date_time_to_unix(dt);
			g_date_time_unref(dt);
			return t;
		}
	}
	return (int64_t)time(NULL);
}

/* ---- an item's content ---- */

struct content {
	guchar *buf;			/* owned */
	size_t len;
	int64_t date;
	int rc;
};

/* GetItem of contacts: their cards into out[i] (`n` of them).  Returns
 * 0, each out[i].rc telling that item's outcome, or -errno for the
 * exchange. */
static int get_contacts(struct mfs_backend *be, const char *const *iids,
			size_t n, struct content *out, struct mfs_error *e)
{
	struct ewsc_response *res = NULL;
	GString *req = ewsc_req_begin();
	int rc;

	g_string_append(req, "<m:GetItem><m:ItemShape>"
			"<t:BaseShape>AllProperties</t:BaseShape>"
			"<t:BodyType>Text</t:BodyType></m:ItemShape>"
			"<m:ItemIds>");
	for (size_t i = 0; i < n; i++)
		ewsc_req_id(req, "t:ItemId", iids[i]);
	g_string_append(req, "</m:ItemIds></m:GetItem>");
	ewsc_req_end(req);
	rc = ewsc_call(be, "GetItem", req, &res, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	if (res->msgs->len != n) {
		ewsc_response_free(&res);
		return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER,
				     MFS_ERR_TRANSIENT, "GetItem: %zu items "
				     "asked, another number of answers", n);
	}
	for (size_t i = 0; i < n; i++) {
		struct ewsc_status st;
		xmlNode *m = res->msgs->pdata[i];
		xmlNode *c = ews_first_element(ews_child(m, EWS_NS_M,
							 "Items"));
		char *card = NULL;

		ewsc_status_of(m, &st);
		out[i].rc = st.rc;
		if (st.rc == 0 && (!c || !ews_is(c, EWS_NS_T, "Contact")))
			out[i].rc = -EPROTO;
		if (out[i].rc == 0)
			out[i].rc = ews_contact_to_vcard(c, &card,
							 &out[i].len);
		if (out[i].rc == 0) {
			out[i].buf = (guchar *)card;
			out[i].date = item_date(c);
		}
	}
	ewsc_response_free(&res);
	return 0;
}

struct mime_ctx {
	struct content *out;
};

static void got_mime(size_t i, const void *buf, size_t len,
		     const xmlNode *item, void *data)
{
	struct mime_ctx *m = data;

	m->out[i].buf = g_memdup2(buf, len);
	m->out[i].len = len;
	m->out[i].date = item_date(item);
	m->out[i].rc = 0;
}

/* The content of `n` items of a folder of `kind`, as get_contacts(). */
static int get_content(struct mfs_backend *be, enum mfs_folder_kind kind,
		       const char *const *iids, size_t n, struct content *out,
		       struct mfs_error *e)
{
	struct mime_ctx m = { out };
	int *rcs;
	int rc;

	if (kind == MFS_FOLDER_CONTACTS)
		return get_contacts(be, iids, n, out, e);
	rcs = g_new0(int, n);
	for (size_t i = 0; i < n; i++)
		out[i].rc = -ENOENT;
	rc = ewsc_get_items(be, iids, n, true, false, rcs, got_mime, &m, e);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (rcs[i] < 0)
			out[i].rc = rcs[i];
	g_free(rcs);
	return rc;
}

static void content_clear(struct content *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g_free(c[i].buf);
}

/* ---- sync ---- */

struct run {
	struct mfs_backend *be;
	const char *folder;
	const char *fid;
	enum mfs_folder_kind kind;
	bool full;
	GHashTable *changed;		/* mount id -> ItemId, both owned */
	GHashTable *vanished;		/* mount ids, owned */
};

static void run_init(struct run *r, bool full)
{
	r->full = full;
	r->changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   g_free);
	r->vanished = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    NULL);
}

static void run_clear(struct run *r)
{
	g_clear_pointer(&r->changed, g_hash_table_unref);
	g_clear_pointer(&r->vanished, g_hash_table_unref);
}

static void read_changes(struct run *r, const xmlNode *changes)
{
	for (xmlNode *c = ews_first_element(changes); c;
	     c = ews_next_element(c)) {
		const char *what = (const char *)c->name;
		bool del = !strcmp(what, "Delete");
		xmlNode *iid = del ? ews_child(c, EWS_NS_T, "ItemId")
				   : ews_child(ews_first_element(c), EWS_NS_T,
					       "ItemId");
		g_autofree char *item_id = iid ? ews_attr(iid, "Id") : NULL;

		if (!item_id || !*item_id)
			continue;
		char *id = pim_id(item_id, r->kind);
		if (del) {
			g_hash_table_remove(r->changed, id);
			g_hash_table_add(r->vanished, id);
		} else if (!strcmp(what, "Create") || !strcmp(what, "Update")) {
			g_hash_table_remove(r->vanished, id);
			g_hash_table_replace(r->changed, id,
					     g_steal_pointer(&item_id));
		} else {
			g_free(id);	/* a read flag means nothing here */
		}
	}
}

/* One page: its changes only noted, the content made once all pages
 * are read (an item changed twice is made once). */
static int pim_page(const xmlNode *changes, void *data, struct mfs_error *e)
{
	read_changes(data, changes);
	return 0;
}

/* Remember item `id` with `c` as its content: in the table (lock taken
 * here) and, with `spool`, in the spool for fetch() to take. */
static int keep(struct mfs_backend *be, const char *folder, const char *fid,
		const char *id, const char *item_id, const struct content *c,
		bool spool)
{
	struct ewsc_known k = { (char *)item_id, c->len, c->date, 0, NULL };
	int rc = spool ? mfs_spool_put(be->spool, id, c->buf, c->len) : 0;

	if (rc < 0)
		return rc;
	g_mutex_lock(&be->lock);
	ewsc_table_put(ewsc_table_get(be, folder, fid), id, &k);
	g_mutex_unlock(&be->lock);
	return 0;
}

/* Make the content of every changed item; items gone meanwhile count as
 * vanished.  Returns 0 or -errno. */
static int complete(struct run *r, struct mfs_error *e)
{
	guint n = g_hash_table_size(r->changed);
	const char **ids = g_new0(const char *, n + 1);
	const char **iids = g_new0(const char *, n + 1);
	GHashTableIter it;
	gpointer key, val;
	guint at = 0;
	int rc = 0;

	g_hash_table_iter_init(&it, r->changed);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		ids[at] = key;
		iids[at++] = val;
	}
	GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
	for (at = 0; rc == 0 && at < n; at += EWS_BATCH_ITEMS) {
		size_t k = MIN(EWS_BATCH_ITEMS, n - at);
		struct content *c = g_new0(struct content, k);
		rc = get_content(r->be, r->kind, iids + at, k, c, e);
		for (size_t i = 0; rc == 0 && i < k; i++) {
			if (c[i].rc == -ENOENT) {
				g_ptr_array_add(gone, g_strdup(ids[at + i]));
			} else if (c[i].rc < 0) {
				log_warnx("ews: %s: item %s left out: %s",
					  r->folder, ids[at + i],
					  g_strerror(-c[i].rc));
				g_ptr_array_add(gone, g_strdup(ids[at + i]));
			} else if ((rc = keep(r->be, r->folder, r->fid,
					      ids[at + i], iids[at + i],
					      &c[i], true)) < 0) {
				mfs_error_set(e, rc, MFS_ERR_ACCOUNT,
					      MFS_ERR_TRANSIENT,
					      "spooling an item: %s",
					      g_strerror(-rc));
			}
		}
		content_clear(c, k);
		g_free(c);
	}
	g_free(ids);
	g_free(iids);
	for (guint i = 0; i < gone->len; i++) {
		g_hash_table_remove(r->changed, gone->pdata[i]);
		g_hash_table_add(r->vanished, g_strdup(gone->pdata[i]));
	}
	g_ptr_array_unref(gone);
	return rc;
}

/* The result; the table forgets what vanished (lock taken here). */
static struct mfs_sync_result *result(struct run *r, const char *tag,
				      const char *state)
{
	struct mfs_sync_result *res = mfs_sync_result_new();
	GHashTableIter it;
	gpointer key;

	res->full = r->full;
	res->state = g_strconcat(tag, ":", state, NULL);
	g_mutex_lock(&r->be->lock);
	struct ewsc_table *t = ewsc_table_get(r->be, r->folder, r->fid);
	g_hash_table_iter_init(&it, r->vanished);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		if (g_hash_table_remove(t->items, key))
			t->dirty = true;
		if (!r->full)
			g_ptr_array_add(res->vanished, g_strdup(key));
	}
	if (r->full) {
		/* whatever the server did not list is gone */
		GPtrArray *old = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_iter_init(&it, t->items);
		while (g_hash_table_iter_next(&it, &key, NULL))
			if (!g_hash_table_contains(r->changed, key))
				g_ptr_array_add(old, g_strdup(key));
		for (guint i = 0; i < old->len; i++)
			g_hash_table_remove(t->items, old->pdata[i]);
		t->dirty |= old->len > 0;
		g_ptr_array_unref(old);
	}
	g_hash_table_iter_init(&it, r->changed);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		struct ewsc_known *k = g_hash_table_lookup(t->items, key);
		if (k)
			g_ptr_array_add(res->changed,
					mfs_item_new(key, k->size, k->date,
						     0));
	}
	ewsc_table_save(r->be, r->folder, t);
	g_mutex_unlock(&r->be->lock);
	return res;
}

int ewsc_pim_sync(struct mfs_backend *be, const char *folder,
		  const char *fid, enum mfs_folder_kind kind,
		  const char *state, struct mfs_sync_result **res_r,
		  struct mfs_error *e)
{
	g_autofree char *tag = NULL, *ews_state = NULL;
	struct run r = { be, folder, fid, kind, false, NULL, NULL };
	int rc;

	ewsc_sync_state_split(fid, state, &tag, &ews_state);
	run_init(&r, ews_state == NULL);
	rc = ewsc_sync_pages(be, folder, fid, false, &ews_state, pim_page, &r,
			     e);
	if (rc == -ESTALE && !r.full) {
		log_info("ews: %s: the server no longer knows the sync state; "
			 "reading the folder again", folder);
		run_clear(&r);
		run_init(&r, true);
		g_clear_pointer(&ews_state, g_free);
		rc = ewsc_sync_pages(be, folder, fid, false, &ews_state,
				     pim_page, &r, e);
	}
	if (rc == 0)
		rc = complete(&r, e);
	if (rc == 0)
		*res_r = result(&r, tag, ews_state);
	run_clear(&r);
	ewsc_note_sync(be, rc, e);
	return rc;
}

/* ---- fetch ---- */

/* The current content of item `id` (ItemId `iid`).  *c filled, caller
 * clears.  Returns 0 or -errno. */
static int content_now(struct mfs_backend *be, const char *folder,
		       enum mfs_folder_kind kind, const char *iid,
		       struct content *c, struct mfs_error *e)
{
	int rc = get_content(be, kind, &iid, 1, c, e);

	if (rc == 0 && c->rc < 0)
		rc = mfs_error_set(e, c->rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				   "%s: reading an item: %s", folder,
				   g_strerror(-c->rc));
	return rc;
}

int ewsc_pim_fetch(struct mfs_backend *be, const char *folder,
		   const char *id, int *fd_r, struct mfs_error *e)
{
	g_autofree char *iid = NULL;
	struct content c = { 0 };
	int rc;

	if (mfs_spool_take(be->spool, id, fd_r) == 0)
		return 0;
	if (ewsc_item_from_id(be, folder, id, &iid) < 0)
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: no item %s", folder, id);
	rc = content_now(be, folder, ewsc_pim_folder_kind(be, folder), iid,
			 &c, e);
	if (rc == 0 && (rc = mfs_spool_tmpfile(be->spool, c.buf, c.len, fd_r)) < 0)
		mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
			      "a temporary file: %s", g_strerror(-rc));
	content_clear(&c, 1);
	return rc;
}

int ewsc_pim_fetch_batch(struct mfs_backend *be, const char *folder,
			 const char *const *ids, size_t n, mfs_fetched_fn got,
			 void *data, struct mfs_error *e)
{
	for (size_t i = 0; i < n; i++) {
		g_autofree char *buf = NULL;
		size_t len = 0;
		int fd, rc = ewsc_pim_fetch(be, folder, ids[i], &fd, e);

		if (rc == -ENOENT)
			continue;	/* not delivered: not found */
		if (rc < 0)
			return rc;
		rc = file_read_head(fd, PIM_MAX, &buf, &len);
		close(fd);
		if (rc < 0)
			return mfs_error_set(e, rc, MFS_ERR_ACCOUNT,
					     MFS_ERR_TRANSIENT,
					     "reading a card back: %s",
					     g_strerror(-rc));
		got(ids[i], buf, len, data);
	}
	return 0;
}

/* ---- append ---- */

/* The ItemId of `hint` when it names an item the folder's table holds
 * (caller owns), else NULL. */
static char *existing(struct mfs_backend *be, const char *folder,
		      const char *fid, const char *hint)
{
	char *iid = NULL;

	if (!hint)
		return NULL;
	g_mutex_lock(&be->lock);
	struct ewsc_table *t = ewsc_table_get(be, folder, fid);
	struct ewsc_known *k = g_hash_table_lookup(t->items, hint);
	if (k)
		iid = g_strdup(k->item_id);
	g_mutex_unlock(&be->lock);
	return iid;
}

/* Send `req` (consumed), an operation answering one response message;
 * with `iid_r`, the ItemId of the item it made (caller owns).  Returns 0
 * or -errno. */
static int call_one(struct mfs_backend *be, const char *op, GString *req,
		    const char *folder, char **iid_r, struct mfs_error *e)
{
	struct ewsc_response *res = NULL;
	struct ewsc_status st;
	xmlNode *m = NULL;
	int rc;

	ewsc_req_end(req);
	rc = ewsc_call_one(be, op, req, MFS_ERR_ITEM, &res, &m, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	ewsc_status_of(m, &st);
	if (st.rc < 0)
		rc = ewsc_status_error(&st, op, folder, e);
	else if (iid_r) {
		xmlNode *items = ews_child(m, EWS_NS_M, "Items");
		xmlNode *id = ews_child(ews_first_element(items), EWS_NS_T,
					"ItemId");
		*iid_r = id ? ews_attr(id, "Id") : NULL;
		if (!*iid_r)
			rc = mfs_error_set(e, -EPROTO, MFS_ERR_ITEM,
					   MFS_ERR_TRANSIENT,
					   "%s: no ItemId in the answer", op);
	}
	ewsc_response_free(&res);
	return rc;
}

static GString *create_begin(const char *fid, enum mfs_folder_kind kind)
{
	GString *req = ewsc_req_begin();

	g_string_append(req, kind == MFS_FOLDER_CALENDAR
			? "<m:CreateItem SendMeetingInvitations=\"SendToNone\">"
			: "<m:CreateItem>");
	g_string_append(req, "<m:SavedItemFolderId>");
	ewsc_req_id(req, "t:FolderId", fid);
	g_string_append(req, "</m:SavedItemFolderId><m:Items>");
	return req;
}

/* A new contact from card `buf`.  *iid_r caller owns. */
static int create_contact(struct mfs_backend *be, const char *folder,
			  const char *fid, const char *buf, size_t len,
			  char **iid_r, struct mfs_error *e)
{
	g_autofree char *xml = NULL;
	int rc = ews_vcard_to_contact_xml(buf, len, &xml);

	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: not a vCard that can be stored",
				     folder);
	GString *req = create_begin(fid, MFS_FOLDER_CONTACTS);
	g_string_append(req, xml);
	g_string_append(req, "</m:Items></m:CreateItem>");
	return call_one(be, "CreateItem", req, folder, iid_r, e);
}

/* Contact `iid` changed to hold card `buf`: only the fields that differ
 * from what the server holds are sent, so what EWS does not carry stays
 * as it is on the server. */
static int update_contact(struct mfs_backend *be, const char *folder,
			  const char *iid, const char *buf, size_t len,
			  struct mfs_error *e)
{
	struct content old = { 0 };
	g_autofree char *updates = NULL;
	int rc = content_now(be, folder, MFS_FOLDER_CONTACTS, iid, &old, e);

	if (rc == 0 && (rc = ews_vcard_to_updates((const char *)old.buf,
						  old.len, buf, len,
						  &updates)) < 0)
		mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
			      "%s: not a vCard that can be stored", folder);
	content_clear(&old, 1);
	if (rc < 0 || !*updates)
		return rc;
	GString *req = ewsc_req_begin();
	g_string_append(req, "<m:UpdateItem ConflictResolution="
			"\"AlwaysOverwrite\"><m:ItemChanges><t:ItemChange>");
	ewsc_req_id(req, "t:ItemId", iid);
	g_string_append(req, "<t:Updates>");
	g_string_append(req, updates);
	g_string_append(req, "</t:Updates></t:ItemChange></m:ItemChanges>"
			"</m:UpdateItem>");
	return call_one(be, "UpdateItem", req, folder, NULL, e);
}

/* A new calendar item whose MimeContent is `buf`.  *iid_r caller owns. */
static int create_event(struct mfs_backend *be, const char *folder,
			const char *fid, const char *buf, size_t len,
			char **iid_r, struct mfs_error *e)
{
	g_autofree char *b64 = g_base64_encode((const guchar *)buf, len);
	GString *req = create_begin(fid, MFS_FOLDER_CALENDAR);

	g_string_append(req, "<t:CalendarItem><t:MimeContent "
			"CharacterSet=\"UTF-8\">");
	g_string_append(req, b64);
	g_string_append(req, "</t:MimeContent></t:CalendarItem>"
			"</m:Items></m:CreateItem>");
	return call_one(be, "CreateItem", req, folder, iid_r, e);
}

/* One property of a calendar item set to `text` (escaped here), or
 * deleted for NULL; `attrs` go on its element. */
static void event_field(GString *u, const char *uri, const char *elem,
			const char *attrs, const char *text)
{
	if (!text) {
		g_string_append_printf(u, "<t:DeleteItemField><t:FieldURI "
				       "FieldURI=\"%s\"/></t:DeleteItemField>",
				       uri);
		return;
	}
	g_string_append_printf(u, "<t:SetItemField><t:FieldURI FieldURI="
			       "\"%s\"/><t:CalendarItem><t:%s%s>", uri, elem,
			       attrs);
	ews_escape(u, text);
	g_string_append_printf(u, "</t:%s></t:CalendarItem></t:SetItemField>",
			       elem);
}

static bool same_time(GDateTime *a, GDateTime *b)
{
	return a && b ? g_date_time_compare(a, b) == 0 : a == b;
}

static char *utc_text(GDateTime *t)
{
	g_autoptr(GDateTime) utc = g_date_time_to_utc(t);

	return g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
}

/* The changes that make event `was` into `now`, in the order
 * CalendarItemType lists them ([MS-OXWSCAL] 2.2.4.3). */
static void event_updates(const struct vcard_event *was,
			  const struct vcard_event *now, GString *u)
{
	bool times = !same_time(was->start, now->start) ||
		     !same_time(was->end, now->end) ||
		     was->all_day != now->all_day;

	if (g_strcmp0(was->summary, now->summary))
		event_field(u, "item:Subject", "Subject", "",
			    now->summary ? now->summary : "");
	if (g_strcmp0(was->description, now->description))
		event_field(u, "item:Body", "Body", " BodyType=\"Text\"",
			    now->description);
	if (times) {
		g_autofree char *start = utc_text(now->start);
		g_autofree char *end = utc_text(now->end);
		event_field(u, "calendar:Start", "Start", "", start);
		event_field(u, "calendar:End", "End", "", end);
		event_field(u, "calendar:IsAllDayEvent", "IsAllDayEvent", "",
			    now->all_day ? "true" : "false");
	}
	if (g_strcmp0(was->location, now->location))
		event_field(u, "calendar:Location", "Location", "",
			    now->location);
}

/*
 * Calendar item `iid` changed to hold the .ics `buf`.  Exchange takes no
 * MimeContent in an UpdateItem of a calendar item: the properties that
 * differ from the server's copy are set instead, the item keeping its
 * ItemId (and its attendees' answers), and no one is sent a notice.
 * What the properties do not carry stays as the server has it.
 */
static int update_event(struct mfs_backend *be, const char *folder,
			const char *iid, const char *buf, size_t len,
			struct mfs_error *e)
{
	struct vcard_event was = { 0 }, now = { 0 };
	struct content old = { 0 };
	g_autoptr(GString) u = g_string_new(NULL);
	int rc = vcard_event_read(buf, len, &now);

	if (rc < 0 || !now.start) {
		vcard_event_clear(&now);
		return mfs_error_set(e, rc < 0 ? rc : -EINVAL, MFS_ERR_ITEM,
				     MFS_ERR_FINAL, "%s: not an iCalendar "
				     "event that can be stored (a VEVENT with "
				     "a DTSTART)", folder);
	}
	rc = content_now(be, folder, MFS_FOLDER_CALENDAR, iid, &old, e);
	/* a server copy that cannot be read has every property changed */
	if (rc == 0 && vcard_event_read((const char *)old.buf, old.len,
					&was) < 0)
		memset(&was, 0, sizeof(was));
	content_clear(&old, 1);
	if (rc == 0)
		event_updates(&was, &now, u);
	vcard_event_clear(&was);
	vcard_event_clear(&now);
	if (rc < 0 || u->len == 0)
		return rc;
	GString *req = ewsc_req_begin();
	g_string_append(req, "<m:UpdateItem ConflictResolution="
			"\"AlwaysOverwrite\" SendMeetingInvitationsOr"
			"Cancellations=\"SendToNone\"><m:ItemChanges>"
			"<t:ItemChange>");
	ewsc_req_id(req, "t:ItemId", iid);
	g_string_append(req, "<t:Updates>");
	g_string_append_len(req, u->str, (gssize)u->len);
	g_string_append(req, "</t:Updates></t:ItemChange></m:ItemChanges>"
			"</m:UpdateItem>");
	return call_one(be, "UpdateItem", req, folder, NULL, e);
}

int ewsc_pim_append(struct mfs_backend *be, const char *folder, int fd,
		    const char *hint, struct mfs_item **item_r,
		    struct mfs_error *e)
{
	g_autofree char *fid = NULL, *buf = NULL, *old = NULL, *iid = NULL;
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;
	struct content c = { 0 };
	size_t len = 0;
	int rc = ewsc_folder_id(be, folder, &fid, &kind, e);

	if (rc < 0)
		return rc;
	if ((rc = file_read_head(fd, PIM_MAX + 1, &buf, &len)) < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "reading the new item: %s",
				     g_strerror(-rc));
	if (len > PIM_MAX)
		return mfs_error_set(e, -EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "an item over %u bytes", PIM_MAX);
	old = existing(be, folder, fid, hint);
	if (kind == MFS_FOLDER_CONTACTS && old) {
		rc = update_contact(be, folder, old, buf, len, e);
		iid = g_steal_pointer(&old);
	} else if (kind == MFS_FOLDER_CONTACTS) {
		rc = create_contact(be, folder, fid, buf, len, &iid, e);
	} else if (old) {
		rc = update_event(be, folder, old, buf, len, e);
		iid = g_steal_pointer(&old);
	} else {
		rc = create_event(be, folder, fid, buf, len, &iid, e);
	}
	if (rc < 0)
		return rc;
	g_autofree char *id = pim_id(iid, kind);
	if (kind == MFS_FOLDER_CALENDAR) {
		/* the server keeps the bytes as given */
		c.buf = (guchar *)g_steal_pointer(&buf);
		c.len = len;
		c.date = (int64_t)time(NULL);
	} else if ((rc = content_now(be, folder, kind, iid, &c, e)) < 0) {
		return rc;
	}
	/* a contact's card is the server's, which may differ from what was
	 * written; an event's bytes are what was written */
	rc = keep(be, folder, fid, id, iid, &c, kind == MFS_FOLDER_CONTACTS);
	if (rc == 0) {
		g_mutex_lock(&be->lock);
		ewsc_table_save(be, folder, ewsc_table_get(be, folder, fid));
		g_mutex_unlock(&be->lock);
		*item_r = mfs_item_new(id, c.len, c.date, 0);
		(*item_r)->message_id = g_strdup("");
	} else {
		mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
			      "spooling an item: %s", g_strerror(-rc));
	}
	content_clear(&c, 1);
	return rc;
}
