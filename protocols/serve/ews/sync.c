/*
 * sync.c - SyncFolderItems and SyncFolderHierarchy: what changed
 * in a folder, or in a folder tree, since the client's last sync.
 *
 * Specs: [MS-OXWSSYNC] 3.1.4.1 (SyncFolderHierarchy), 3.1.4.2
 * (SyncFolderItems), 2.2.4.x (SyncFolderItemsChangesType: Create,
 * Update, Delete, ReadFlagChange; MaxChangesReturned 1 to 512;
 * IncludesLastItemInRange); [MS-OXWSCDATA] ErrorInvalidSyncStateData.
 *
 * The changes are the difference between what the store holds now and
 * the snapshot the client's SyncState names (sync-state.h), so a
 * client hears of every change made since it last synced, through EWS,
 * IMAP or the Maildir on disk alike.  A page of MaxChangesReturned
 * changes is answered with the snapshot advanced by exactly those
 * changes, so the next page goes on where this one ended.  With nothing
 * changed the client's own state comes back and nothing is written.
 *
 * The order within a sync: deletions, then new messages oldest first,
 * then changed ones.  A change of the read flag alone is a ReadFlagChange;
 * any other change of flags is an Update.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "pim.h"
#include "ewsd-private.h"
#include "sync-state.h"

#define MAX_CHANGES_LIMIT 512

enum change { CH_DELETE, CH_CREATE, CH_UPDATE, CH_READ };

struct item_change {
	enum change kind;
	const char *id;			/* borrowed from the snapshot or the
					   store's list */
	const struct mfs_item *it;	/* borrowed; NULL for CH_DELETE */
	guint64 old_flags;		/* what the client knew */
};

static char *node_text(const xmlNode *n)
{
	xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
	char *copy = v ? g_strstrip(g_strdup((const char *)v)) : NULL;

	xmlFree(v);
	return copy;
}

/* Deletions, then creations, then changes. */
static int change_group(enum change kind)
{
	return kind == CH_DELETE ? 0 : kind == CH_CREATE ? 1 : 2;
}

static gint change_order(gconstpointer a, gconstpointer b)
{
	const struct item_change *x = a, *y = b;
	int gx = change_group(x->kind), gy = change_group(y->kind);

	if (gx != gy)
		return gx - gy;
	if (x->kind == CH_CREATE && x->it->date != y->it->date)
		return x->it->date < y->it->date ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The ids in m:Ignore (store ids of `folder`); caller owns the set. */
static GHashTable *ignored_ids(const xmlNode *op, const char *folder)
{
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal,
						g_free, NULL);
	xmlNode *ign = ews_child(op, EWS_NS_M, "Ignore");

	for (xmlNode *r = ews_first_element(ign); r; r = ews_next_element(r)) {
		g_autofree char *b64 = ews_attr(r, "Id");
		g_autofree char *f = NULL;
		char *id = NULL;
		if (ewsd_item_id_parse(b64, &id, &f) == 0 && !strcmp(f, folder))
			g_hash_table_add(set, id);
		else
			g_free(id);
	}
	return set;
}

static void write_item_change(struct ewsd_call *call, const char *folder,
			      enum mfs_folder_kind kind,
			      const struct item_change *c)
{
	GString *out = call->out;

	switch (c->kind) {
	case CH_DELETE:
	case CH_READ: {
		struct mfs_item old = { .id = (char *)c->id,
					.flags = c->old_flags };
		g_autofree char *iid = ewsd_pim_kind(kind)
			? ewsd_pim_item_id(folder, c->id)
			: ewsd_item_id(folder, c->id);
		g_autofree char *ck = ewsd_pim_kind(kind)
			? ewsd_pim_change_key(&old)
			: ewsd_item_change_key(c->kind == CH_READ ? c->it
								  : &old);
		g_string_append_printf(out, "<t:%s><t:ItemId Id=\"%s\" "
				       "ChangeKey=\"%s\"/>",
				       c->kind == CH_READ ? "ReadFlagChange"
							  : "Delete", iid, ck);
		if (c->kind == CH_READ)
			g_string_append_printf(out, "<t:IsRead>%s</t:IsRead>"
					       "</t:ReadFlagChange>",
					       c->it->flags & MFS_FLAG_SEEN
					       ? "true" : "false");
		else
			g_string_append(out, "</t:Delete>");
		return;
	}
	case CH_CREATE:
	case CH_UPDATE: {
		const char *tag = c->kind == CH_CREATE ? "Create" : "Update";
		g_string_append_printf(out, "<t:%s>", tag);
		if (kind == MFS_FOLDER_MAIL) {
			ewsd_message_write(call, folder, c->it, true);
		} else {
			/* other folders' items by id only; GetItem tells
			   the rest */
			const char *elem = kind == MFS_FOLDER_CONTACTS
				? "Contact" : kind == MFS_FOLDER_CALENDAR
				? "CalendarItem" : "Item";
			/* contacts and calendar items carry ids of
			   their own kind (pim.h) */
			g_autofree char *iid = ewsd_pim_kind(kind)
				? ewsd_pim_item_id(folder, c->it->id)
				: ewsd_item_id(folder, c->it->id);
			g_autofree char *ck = ewsd_pim_kind(kind)
				? ewsd_pim_change_key(c->it)
				: ewsd_item_change_key(c->it);
			g_string_append_printf(out, "<t:%s><t:ItemId Id=\"%s\""
					       " ChangeKey=\"%s\"/></t:%s>",
					       elem, iid, ck, elem);
		}
		g_string_append_printf(out, "</t:%s>", tag);
		return;
	}
	}
}

static void write_sync_begin(GString *out, const char *op,
			     const char *state, const char *last_elem,
			     bool last)
{
	g_string_append_printf(out, "<m:%sResponseMessage ResponseClass="
			       "\"Success\"><m:ResponseCode>NoError"
			       "</m:ResponseCode><m:SyncState>%s"
			       "</m:SyncState><m:%s>%s</m:%s><m:Changes>", op,
			       state, last_elem, last ? "true" : "false",
			       last_elem);
}

static void write_sync_end(GString *out, const char *op)
{
	g_string_append_printf(out, "</m:Changes></m:%sResponseMessage>", op);
}

/*
 * An error answer of a sync.  It carries an empty SyncState and
 * IncludesLast...InRange as well (the schema allows them on any
 * response message): exchangelib reads both before it looks at the
 * ResponseClass.
 */
static void sync_error(struct ewsd_call *call, const char *op,
		       const char *code, const char *text)
{
	g_string_append_printf(call->out, "<m:%sResponseMessage ResponseClass="
			       "\"Error\"><m:MessageText>", op);
	ews_escape(call->out, text);
	g_string_append_printf(call->out, "</m:MessageText><m:ResponseCode>%s"
			       "</m:ResponseCode><m:DescriptiveLinkKey>0"
			       "</m:DescriptiveLinkKey><m:SyncState/>"
			       "<m:IncludesLast%sInRange>true"
			       "</m:IncludesLast%sInRange>"
			       "</m:%sResponseMessage>", code,
			       strcmp(op, "SyncFolderItems") ? "Folder"
							     : "Item",
			       strcmp(op, "SyncFolderItems") ? "Folder"
							     : "Item", op);
}

static void state_error(struct ewsd_call *call, const char *op, int rc)
{
	sync_error(call, op,
			  rc == -EINVAL || rc == -ENOENT || rc == -ESTALE
			  ? "ErrorInvalidSyncStateData"
			  : "ErrorInternalServerError",
			  rc == -EINVAL || rc == -ENOENT || rc == -ESTALE
			  ? "The synchronization state data is corrupt, "
			    "expired or of another folder."
			  : g_strerror(-rc));
}

/* Answer one sync of `folder`, `state` NULL for a sync from scratch. */
static void sync_items(struct ewsd_call *call, const char *folder,
		       enum mfs_folder_kind kind, const char *state,
		       guint64 max)
{
	g_autofree char *scope = g_strconcat("items:", folder, NULL);
	g_autoptr(GHashTable) known = NULL;
	g_autoptr(GHashTable) ignore = ignored_ids(call->req->op, folder);
	g_autoptr(GHashTable) now = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GArray) changes = g_array_new(FALSE, FALSE,
						sizeof(struct item_change));
	/* ids of deletions: the snapshot's own keys go when applied */
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *new_state = NULL;
	struct mfs_sync_result *res = NULL;
	GHashTableIter iter;
	gpointer k, v;
	int rc = 0;

	if (state)
		rc = ewsd_sync_state_load(call->ctx->store_root, state, scope,
					 &known);
	else
		known = ewsd_sync_snapshot_new();
	if (rc < 0) {
		state_error(call, "SyncFolderItems", rc);
		return;
	}
	rc = mfs_store_sync(call->ctx->store, folder, NULL, &res, NULL);
	if (rc < 0) {
		sync_error(call, "SyncFolderItems",
				  "ErrorFolderNotFound", g_strerror(-rc));
		return;
	}
	for (guint i = 0; i < res->changed->len; i++) {
		const struct mfs_item *it = res->changed->pdata[i];
		guint64 *old = g_hash_table_lookup(known, it->id);
		guint64 flags = it->flags & MFS_FLAG_LETTERS;
		struct item_change c = { CH_CREATE, it->id, it, 0 };

		g_hash_table_insert(now, it->id, (gpointer)it);
		if (g_hash_table_contains(ignore, it->id))
			continue;
		if (old) {
			if (*old == flags)
				continue;
			c.old_flags = *old;
			c.kind = (*old ^ flags) == MFS_FLAG_SEEN ? CH_READ
								 : CH_UPDATE;
		}
		g_array_append_val(changes, c);
	}
	g_hash_table_iter_init(&iter, known);
	while (g_hash_table_iter_next(&iter, &k, &v)) {
		if (g_hash_table_contains(now, k))
			continue;
		char *id = g_strdup(k);
		struct item_change c = { CH_DELETE, id, NULL, *(guint64 *)v };
		g_ptr_array_add(gone, id);
		g_array_append_val(changes, c);
	}
	g_array_sort(changes, change_order);
	guint n = (guint)MIN((guint64)changes->len, max);
	if (state && changes->len == 0 && g_hash_table_size(ignore) == 0) {
		/* nothing to tell: no new snapshot for a client that polls */
		new_state = g_strdup(state);
	} else {
		/* ignored items count as known, so they never come up */
		for (guint i = 0; i < res->changed->len; i++) {
			const struct mfs_item *it = res->changed->pdata[i];
			if (g_hash_table_contains(ignore, it->id))
				ewsd_sync_snapshot_set(known, it->id, it->flags &
						      MFS_FLAG_LETTERS);
		}
		for (guint i = 0; i < n; i++) {
			const struct item_change *c = &g_array_index(
				changes, struct item_change, i);
			if (c->kind == CH_DELETE)
				g_hash_table_remove(known, c->id);
			else
				ewsd_sync_snapshot_set(known, c->id,
						      c->it->flags &
						      MFS_FLAG_LETTERS);
		}
		rc = ewsd_sync_state_save(call->ctx->store_root, scope, known,
					 &new_state);
	}
	if (rc < 0) {
		state_error(call, "SyncFolderItems", rc);
		mfs_sync_result_free(&res);
		return;
	}
	write_sync_begin(call->out, "SyncFolderItems", new_state,
			 "IncludesLastItemInRange", n == changes->len);
	for (guint i = 0; i < n; i++)
		write_item_change(call, folder, kind,
				  &g_array_index(changes, struct item_change,
						 i));
	write_sync_end(call->out, "SyncFolderItems");
	mfs_sync_result_free(&res);
}

int ewsd_op_sync_folder_items(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *sf = ews_child(op, EWS_NS_M, "SyncFolderId");
	g_autofree char *state = node_text(ews_child(op, EWS_NS_M,
						     "SyncState"));
	g_autofree char *max_text = node_text(ews_child(op, EWS_NS_M,
							"MaxChangesReturned"));
	const char *path = NULL;
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;
	guint64 max = 0;

	g_string_append(call->out, "<m:SyncFolderItemsResponse>"
			"<m:ResponseMessages>");
	if (!max_text ||
	    !g_ascii_string_to_unsigned(max_text, 10, 1, MAX_CHANGES_LIMIT,
					&max, NULL)) {
		/* said in the log too: a client that sends a valid request
		 * and gets this answer needs the server's side of it */
		log_warnx("ews: SyncFolderItems: MaxChangesReturned %s%.16s%s",
			  max_text ? "'" : "missing", max_text ? max_text : "",
			  max_text ? "' out of range" : "");
		sync_error(call, "SyncFolderItems",
				  "ErrorInvalidRequest",
				  "MaxChangesReturned must be from 1 to 512.");
	}
	else if (!sf || ewsd_folder_resolve(call, ews_first_element(sf),
					   &path, &kind) < 0 ||
		 kind == MFS_FOLDER_NONE)
		sync_error(call, "SyncFolderItems",
				  "ErrorFolderNotFound",
				  "The specified folder could not be found "
				  "in the store.");
	else
		sync_items(call, path, kind, state && *state ? state : NULL,
			   max);
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:SyncFolderItemsResponse>");
	return 0;
}

/* A digest of what a folder shows in a hierarchy sync: its path (a
 * rename over EWS keeps the id, the key), kind and counts. */
static guint64 folder_digest(struct ewsd_call *call, const char *path)
{
	struct mfs_sync_result *res = NULL;
	guint64 total = 0, unread = 0;
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;

	for (guint i = 0; call->folders && i < call->folders->len; i++) {
		const struct mfs_folder_info *fi = call->folders->pdata[i];
		if (!strcmp(fi->path, path))
			kind = fi->kind;
	}
	if (kind != MFS_FOLDER_NONE &&
	    mfs_store_sync(call->ctx->store, path, NULL, &res, NULL) >= 0) {
		for (guint i = 0; i < res->changed->len; i++) {
			const struct mfs_item *it = res->changed->pdata[i];
			total++;
			unread += !(it->flags & MFS_FLAG_SEEN);
		}
		mfs_sync_result_free(&res);
	}
	return ((guint64)g_str_hash(path) << 32) ^ (guint64)kind << 56 ^
	       (total & 0xFFFFFFF) << 28 ^ (unread & 0xFFFFFFF);
}

int ewsd_op_sync_folder_hierarchy(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *sf = ews_child(op, EWS_NS_M, "SyncFolderId");
	const xmlNode *ref = ews_first_element(sf);
	g_autofree char *state = node_text(ews_child(op, EWS_NS_M,
						     "SyncState"));
	g_autofree char *ref_id = ref ? ews_attr(ref, "Id") : NULL;
	g_autofree char *scope = g_strdup_printf(
		"folders:%c:%s", ref && ews_is(ref, EWS_NS_T, "FolderId")
		? 'f' : 'd', ref_id ? ref_id : "root");
	g_autoptr(GHashTable) known = NULL;
	g_autoptr(GHashTable) now = ewsd_sync_snapshot_new();
	g_autoptr(GPtrArray) paths = NULL;
	g_autofree char *new_state = NULL;
	bool changed = false;
	int rc;

	g_string_append(call->out, "<m:SyncFolderHierarchyResponse>"
			"<m:ResponseMessages>");
	rc = ewsd_folder_descendants(call, ref, &paths);
	if (rc < 0) {
		sync_error(call, "SyncFolderHierarchy",
				  "ErrorFolderNotFound",
				  "The specified folder could not be found "
				  "in the store.");
		goto out;
	}
	rc = state && *state
		? ewsd_sync_state_load(call->ctx->store_root, state, scope,
				      &known) : 0;
	if (rc < 0) {
		state_error(call, "SyncFolderHierarchy", rc);
		goto out;
	}
	if (!known)
		known = ewsd_sync_snapshot_new();
	/* keyed by FolderId, so that a folder renamed over EWS is an
	 * Update, not a Delete and a Create */
	for (guint i = 0; i < paths->len; i++) {
		const char *p = paths->pdata[i];
		g_autofree char *fid = ewsd_folder_id(p);
		guint64 *old = g_hash_table_lookup(known, fid);
		guint64 d = folder_digest(call, p);
		ewsd_sync_snapshot_set(now, fid, d);
		changed |= !old || *old != d;
	}
	changed |= g_hash_table_size(known) != g_hash_table_size(now);
	if (state && *state && !changed)
		new_state = g_strdup(state);
	else
		rc = ewsd_sync_state_save(call->ctx->store_root, scope, now,
					 &new_state);
	if (rc < 0) {
		state_error(call, "SyncFolderHierarchy", rc);
		goto out;
	}
	write_sync_begin(call->out, "SyncFolderHierarchy", new_state,
			 "IncludesLastFolderInRange", true);
	GHashTableIter iter;
	gpointer k;
	g_hash_table_iter_init(&iter, known);
	while (g_hash_table_iter_next(&iter, &k, NULL)) {
		if (g_hash_table_contains(now, k))
			continue;
		g_string_append(call->out, "<t:Delete><t:FolderId Id=\"");
		ews_escape(call->out, k);
		g_string_append(call->out, "\"/></t:Delete>");
	}
	/* parents before children, as the tree lists them */
	for (guint i = 0; i < paths->len; i++) {
		const char *p = paths->pdata[i];
		g_autofree char *fid = ewsd_folder_id(p);
		guint64 *old = g_hash_table_lookup(known, fid);
		guint64 *cur = g_hash_table_lookup(now, fid);
		const char *tag = !old ? "Create" : *old != *cur ? "Update"
							      : NULL;
		if (!tag)
			continue;
		g_string_append_printf(call->out, "<t:%s>", tag);
		ewsd_folder_write_path(call, p);
		g_string_append_printf(call->out, "</t:%s>", tag);
	}
	write_sync_end(call->out, "SyncFolderHierarchy");
out:
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:SyncFolderHierarchyResponse>");
	return 0;
}
