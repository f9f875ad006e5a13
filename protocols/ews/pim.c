/*
 * pim.c - contacts folders as .vcf files and calendar folders as
 * .ics files over EWS: their sync, names and reads (pim-write.c writes).
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
 * item's file is the iCalendar object of its MimeContent, or one made
 * from its properties (event.c), made at sync the same way.  Items are
 * named by their content (names.c); the folder's table maps each name
 * to its ItemId, and the spool keeps bodies under the ItemId, which names
 * do not share across folders.  The state handed to the cache is
 * "<folder tag>:<SyncState>" as in sync.c, so a state never meets another
 * folder that took its path.
 */
#include "pim.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "wire/ews-contact.h"
#include "wire/vcard.h"
#include "fileutil.h"
#include "log.h"

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

/* When the item was last changed, from LastModifiedTime or
 * DateTimeCreated; now when the server says neither. */
int64_t ewsc_pim_item_date(const xmlNode *item)
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

void ewsc_pim_content_clear(struct ewsc_content *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		g_free(c[i].buf);
		g_free(c[i].base);
	}
}

/* GetItem of contacts: their cards into out[i] (`n` of them).  Returns
 * 0, each out[i].rc telling that item's outcome, or -errno for the
 * exchange. */
static int get_contacts(struct mfs_backend *be, const char *const *iids,
			size_t n, struct ewsc_content *out,
			struct mfs_error *e)
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
		if (out[i].rc == 0)
			ewsc_card_uid(&card, &out[i].len, iids[i]);
		if (out[i].rc == 0) {
			out[i].buf = (guchar *)card;
			out[i].date = ewsc_pim_item_date(c);
			out[i].base = ewsc_name_of_card(card, out[i].len);
		}
	}
	ewsc_response_free(&res);
	return 0;
}

/* The item of an event's content `ics` (taken). */
static void event_done(struct ewsc_content *c, char *ics, size_t len,
		       const xmlNode *item)
{
	c->buf = (guchar *)ics;
	c->len = len;
	c->date = ewsc_pim_item_date(item);
	c->base = ewsc_name_of_event(ics, len);
	c->rc = 0;
}

static void got_mime(size_t i, const void *buf, size_t len,
		     const xmlNode *item, void *data)
{
	struct ewsc_content *out = data;
	char *ics = NULL;
	size_t n = 0;

	/* no text/calendar in it: the properties are asked next */
	if (ewsc_event_from_mime(buf, len, &ics, &n) < 0)
		out[i].rc = -EAGAIN;
	else
		event_done(&out[i], ics, n, item);
}

/* The events out[i] still without content (rc -EAGAIN, or -EPROTO for a
 * server that gave no MimeContent) made from their properties. */
static int events_from_props(struct mfs_backend *be, const char *const *iids,
			     size_t n, struct ewsc_content *out,
			     struct mfs_error *e)
{
	g_autofree size_t *at = g_new(size_t, n + 1);
	struct ewsc_response *res = NULL;
	GString *req;
	size_t k = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (out[i].rc == -EAGAIN || out[i].rc == -EPROTO)
			at[k++] = i;
	if (k == 0)
		return 0;
	req = ewsc_req_begin();
	g_string_append(req, "<m:GetItem><m:ItemShape>"
			"<t:BaseShape>IdOnly</t:BaseShape>");
	ewsc_event_req_props(req);
	g_string_append(req, "</m:ItemShape><m:ItemIds>");
	for (size_t j = 0; j < k; j++)
		ewsc_req_id(req, "t:ItemId", iids[at[j]]);
	g_string_append(req, "</m:ItemIds></m:GetItem>");
	ewsc_req_end(req);
	rc = ewsc_call(be, "GetItem", req, &res, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	for (size_t j = 0; j < k && j < res->msgs->len; j++) {
		struct ewsc_status st;
		xmlNode *m = res->msgs->pdata[j];
		xmlNode *item = ews_first_element(ews_child(m, EWS_NS_M,
							    "Items"));
		char *ics = NULL;
		size_t len = 0;

		ewsc_status_of(m, &st);
		out[at[j]].rc = st.rc < 0 ? st.rc : !item ? -EPROTO
			: ewsc_event_from_props(item, &ics, &len);
		if (out[at[j]].rc == 0)
			event_done(&out[at[j]], ics, len, item);
	}
	for (size_t j = res->msgs->len; j < k; j++)
		out[at[j]].rc = -EPROTO;
	ewsc_response_free(&res);
	return 0;
}

int ewsc_pim_get(struct mfs_backend *be, enum mfs_folder_kind kind,
		 const char *const *iids, size_t n, struct ewsc_content *out,
		 struct mfs_error *e)
{
	int *rcs;
	int rc;

	if (kind == MFS_FOLDER_CONTACTS)
		return get_contacts(be, iids, n, out, e);
	rcs = g_new0(int, n);
	for (size_t i = 0; i < n; i++)
		out[i].rc = -ENOENT;
	rc = ewsc_get_items(be, iids, n, true, false, rcs, got_mime, out, e);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (rcs[i] < 0)
			out[i].rc = rcs[i];
	g_free(rcs);
	if (rc == 0)
		rc = events_from_props(be, iids, n, out, e);
	return rc;
}

/* ---- names ---- */

char *ewsc_pim_spool_key(const char *item_id)
{
	/* the ItemId's, unique in the account (names repeat in folders) */
	return ewsc_id_from_item(item_id);
}

/* Give every item of table `t` its name now (lock held).  An item whose
 * name changed has its old name added to `vanished` and its new one to
 * `renamed` (each may be NULL). */
void ewsc_pim_rename(struct ewsc_table *t, enum mfs_folder_kind kind,
		     GPtrArray *vanished, GPtrArray *renamed)
{
	guint n = g_hash_table_size(t->items);
	g_autofree struct ewsc_named *nm = g_new0(struct ewsc_named, n + 1);
	g_autofree char **old = g_new0(char *, n + 1);
	g_autofree struct ewsc_known **ks = g_new0(struct ewsc_known *, n + 1);
	GHashTableIter it;
	gpointer key, val;
	guint at = 0;

	g_hash_table_iter_init(&it, t->items);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		struct ewsc_known *k = val;
		if (!k->base)
			k->base = ewsc_id_from_item(k->item_id);
		old[at] = g_strdup(key);
		ks[at] = k;
		nm[at].item_id = k->item_id;
		nm[at++].base = k->base;
		g_hash_table_iter_steal(&it);
		g_free(key);
	}
	ewsc_names_assign(nm, n, ewsc_pim_suffix(kind));
	for (guint i = 0; i < n; i++) {
		if (strcmp(old[i], nm[i].name)) {
			t->dirty = true;
			/* "\001..." is the stand-in of an item new here */
			if (vanished && old[i][0] != '\001')
				g_ptr_array_add(vanished, g_strdup(old[i]));
			if (renamed)
				g_ptr_array_add(renamed, g_strdup(nm[i].name));
		}
		g_hash_table_replace(t->items, nm[i].name, ks[i]);
		g_free(old[i]);
	}
}

/* The name in table `t` of ItemId `iid`, or NULL.  Borrowed. */
const char *ewsc_pim_name_of(struct ewsc_table *t, const char *iid)
{
	GHashTableIter it;
	gpointer key, val;

	g_hash_table_iter_init(&it, t->items);
	while (g_hash_table_iter_next(&it, &key, &val))
		if (!strcmp(((struct ewsc_known *)val)->item_id, iid))
			return key;
	return NULL;
}

/* ---- sync ---- */

struct run {
	struct mfs_backend *be;
	const char *folder;
	const char *fid;
	enum mfs_folder_kind kind;
	bool full;
	GHashTable *changed;		/* ItemIds, owned */
	GHashTable *deleted;		/* ItemIds, owned */
};

static void run_init(struct run *r, bool full)
{
	r->full = full;
	r->changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   NULL);
	r->deleted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   NULL);
}

static void run_clear(struct run *r)
{
	g_clear_pointer(&r->changed, g_hash_table_unref);
	g_clear_pointer(&r->deleted, g_hash_table_unref);
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
		char *item_id = iid ? ews_attr(iid, "Id") : NULL;

		if (!item_id || !*item_id) {
			g_free(item_id);
		} else if (del) {
			g_hash_table_remove(r->changed, item_id);
			g_hash_table_add(r->deleted, item_id);
		} else if (!strcmp(what, "Create") || !strcmp(what, "Update")) {
			g_hash_table_remove(r->deleted, item_id);
			g_hash_table_add(r->changed, item_id);
		} else {
			g_free(item_id);	/* a read flag means nothing */
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

/* The table's entry of ItemId `iid` out (its name added to `gone`). */
static void drop_item(struct mfs_backend *be, struct ewsc_table *t,
		      const char *iid, GPtrArray *gone)
{
	const char *name = ewsc_pim_name_of(t, iid);
	g_autofree char *key = ewsc_pim_spool_key(iid);

	mfs_spool_drop(be->spool, key);
	if (!name)
		return;
	g_ptr_array_add(gone, g_strdup(name));
	g_hash_table_remove(t->items, name);
	t->dirty = true;
}

/* What `n` items fetched (c[i] of ItemId iids[i]) and the deletions do
 * to the table (lock taken here), named again; the result to hand on. */
static struct mfs_sync_result *apply(struct run *r, const char *const *iids,
				     struct ewsc_content *c, size_t n,
				     const char *tag, const char *state)
{
	struct mfs_sync_result *res = mfs_sync_result_new();
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) renamed = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) fresh = g_hash_table_new(g_str_hash,
						       g_str_equal);
	GHashTableIter it;
	gpointer key, val;

	res->full = r->full;
	res->state = g_strconcat(tag, ":", state, NULL);
	g_mutex_lock(&r->be->lock);
	struct ewsc_table *t = ewsc_table_get(r->be, r->folder, r->fid);
	g_hash_table_iter_init(&it, r->deleted);
	while (g_hash_table_iter_next(&it, &key, NULL))
		drop_item(r->be, t, key, gone);
	for (size_t i = 0; i < n; i++) {
		if (c[i].rc < 0) {
			drop_item(r->be, t, iids[i], gone);
			continue;
		}
		const char *was = ewsc_pim_name_of(t, iids[i]);
		struct ewsc_known *k = was ? g_hash_table_lookup(t->items, was)
					   : NULL;
		struct ewsc_known nk = { (char *)iids[i], c[i].len, c[i].date,
					 0, NULL, c[i].base };
		if (k && !g_strcmp0(k->base, c[i].base)) {
			/* same name: the entry takes the new size */
			k->size = c[i].len;
			k->date = c[i].date;
			t->dirty = true;
		} else {
			/* under a name of its own until named below */
			g_autofree char *tmp = g_strconcat("\001", iids[i],
							   NULL);
			if (was)
				g_ptr_array_add(gone, g_strdup(was));
			if (was)
				g_hash_table_remove(t->items, was);
			ewsc_table_put(t, tmp, &nk);
		}
		g_hash_table_add(fresh, (char *)iids[i]);
	}
	if (r->full) {
		/* whatever the server did not list is gone */
		g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_iter_init(&it, t->items);
		while (g_hash_table_iter_next(&it, &key, &val))
			if (!g_hash_table_contains(fresh, ((struct ewsc_known *)
							   val)->item_id))
				g_ptr_array_add(old, g_strdup(((struct
						ewsc_known *)val)->item_id));
		for (guint i = 0; i < old->len; i++)
			drop_item(r->be, t, old->pdata[i], gone);
	}
	ewsc_pim_rename(t, r->kind, gone, renamed);
	/* every item fetched or renamed is told; every name no longer
	 * standing for an item is told gone */
	g_hash_table_iter_init(&it, t->items);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		struct ewsc_known *k = val;
		bool is_renamed = false;
		for (guint i = 0; i < renamed->len && !is_renamed; i++)
			is_renamed = !strcmp(renamed->pdata[i], key);
		if (r->full || is_renamed ||
		    g_hash_table_contains(fresh, k->item_id)) {
			g_ptr_array_add(res->changed,
					mfs_item_new(key, k->size, k->date, 0));
		}
	}
	for (guint i = 0; !r->full && i < gone->len; i++)
		if (!g_hash_table_contains(t->items, gone->pdata[i]))
			g_ptr_array_add(res->vanished, g_strdup(gone->pdata[i]));
	ewsc_table_save(r->be, r->folder, t);
	g_mutex_unlock(&r->be->lock);
	return res;
}

/* Fetch the content of every changed item, spooled for fetch() to take,
 * and hand the table what was learned.  Returns 0 or -errno. */
static int complete(struct run *r, const char *tag, const char *state,
		    struct mfs_sync_result **res_r, struct mfs_error *e)
{
	guint n = g_hash_table_size(r->changed);
	g_autofree const char **iids = g_new0(const char *, n + 1);
	g_autofree struct ewsc_content *all = g_new0(struct ewsc_content,
						     n + 1);
	GHashTableIter it;
	gpointer key;
	guint at = 0;
	int rc = 0;

	g_hash_table_iter_init(&it, r->changed);
	while (g_hash_table_iter_next(&it, &key, NULL))
		iids[at++] = key;
	for (at = 0; rc == 0 && at < n; at += EWS_BATCH_ITEMS) {
		size_t k = MIN(EWS_BATCH_ITEMS, n - at);
		struct ewsc_content *c = all + at;
		rc = ewsc_pim_get(r->be, r->kind, iids + at, k, c, e);
		for (size_t i = 0; rc == 0 && i < k; i++) {
			g_autofree char *sk = ewsc_pim_spool_key(iids[at + i]);
			if (c[i].rc < 0 && c[i].rc != -ENOENT)
				log_warnx("ews: %s: item %s left out: %s",
					  r->folder, iids[at + i],
					  g_strerror(-c[i].rc));
			if (c[i].rc == 0 &&
			    (rc = mfs_spool_put(r->be->spool, sk, c[i].buf,
						c[i].len)) < 0)
				mfs_error_set(e, rc, MFS_ERR_ACCOUNT,
					      MFS_ERR_TRANSIENT,
					      "spooling an item: %s",
					      g_strerror(-rc));
			g_clear_pointer(&c[i].buf, g_free);
		}
	}
	if (rc == 0)
		*res_r = apply(r, iids, all, n, tag, state);
	ewsc_pim_content_clear(all, n);
	return rc;
}

/* Whether the table of the folder holds items named before names were
 * made from their content: they are all read again. */
static bool table_old(struct mfs_backend *be, const char *folder,
		      const char *fid)
{
	GHashTableIter it;
	gpointer val;
	bool old = false;

	g_mutex_lock(&be->lock);
	struct ewsc_table *t = ewsc_table_get(be, folder, fid);
	g_hash_table_iter_init(&it, t->items);
	while (!old && g_hash_table_iter_next(&it, NULL, &val))
		old = ((struct ewsc_known *)val)->base == NULL;
	old |= t->rename;
	t->rename = false;
	g_mutex_unlock(&be->lock);
	return old;
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
	if (ews_state && table_old(be, folder, fid))
		g_clear_pointer(&ews_state, g_free);
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
		rc = complete(&r, tag, ews_state, res_r, e);
	run_clear(&r);
	ewsc_note_sync(be, rc, e);
	return rc;
}

/* ---- fetch ---- */

int ewsc_pim_content_now(struct mfs_backend *be, const char *folder,
			 enum mfs_folder_kind kind, const char *iid,
			 struct ewsc_content *c, struct mfs_error *e)
{
	int rc = ewsc_pim_get(be, kind, &iid, 1, c, e);

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
	struct ewsc_content c = { 0 };
	int rc;

	if (ewsc_item_from_id(be, folder, id, &iid) < 0)
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: no item %s", folder, id);
	g_autofree char *key = ewsc_pim_spool_key(iid);
	if (mfs_spool_take(be->spool, key, fd_r) == 0)
		return 0;
	rc = ewsc_pim_content_now(be, folder, ewsc_pim_folder_kind(be, folder),
				  iid, &c, e);
	if (rc == 0 && (rc = mfs_spool_tmpfile(be->spool, c.buf, c.len, fd_r)) < 0)
		mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
			      "a temporary file: %s", g_strerror(-rc));
	ewsc_pim_content_clear(&c, 1);
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
