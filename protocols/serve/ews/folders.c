/*
 * folders.c - the folder hierarchy as EWS shows it, and GetFolder
 * and FindFolder.
 *
 * Specs: [MS-OXWSFOLD] 3.1.4.6 (GetFolder), 3.1.4.4 (FindFolder);
 * [MS-OXWSCDATA] 2.2.4.x (DistinguishedFolderIdNameType, FolderIdType,
 * IndexedPageViewType, FindFolderParentType).
 *
 * The hierarchy: "root" holds "msgfolderroot" (the top of the information
 * store), which holds the store's top-level folders; a store folder
 * "A/B" is a child of "A".  Store folders take the distinguished names
 * their role gives them (INBOX is inbox, Sent is sentitems, ...).
 *
 * Folder ids are opaque to clients but need no table: base64 of a prefix
 * and the store path, so they are stable across restarts and the same
 * for every client.  Nothing here changes a folder, so one ChangeKey
 * serves for all of them until folders can be changed over EWS.
 */
#include <errno.h>
#include <string.h>

#include "backend.h"
#include "log.h"
#include "ewsd-private.h"

#define CHANGE_KEY "AQAAABYAAAA="
#define ROOT 0
#define MSGROOT 1
#define NO_PARENT (-1)

/* One folder as EWS shows it. */
struct efolder {
	char *id;			/* owned */
	const char *path;		/* borrowed from call->folders; NULL
					   for the two roots */
	const char *name;		/* borrowed: shown as DisplayName */
	const char *distinguished;	/* static, or NULL */
	enum mfs_folder_kind kind;
	int parent;			/* index, or NO_PARENT */
};

/* Well-known roles: by the store's special-use name, then by the
 * top-level folder's name. */
static const struct {
	const char *special, *name, *distinguished;
} roles[] = {
	{ NULL, "INBOX", "inbox" },
	{ "\\Sent", "Sent", "sentitems" },
	{ "\\Trash", "Trash", "deleteditems" },
	{ "\\Drafts", "Drafts", "drafts" },
	{ "\\Junk", "Junk", "junkemail" },
	{ NULL, "Contacts", "contacts" },
	{ NULL, "Calendar", "calendar" },
	{ NULL, "Outbox", "outbox" },
	{ NULL, "Tasks", "tasks" },
};

static void efolder_clear(gpointer p)
{
	g_free(((struct efolder *)p)->id);
}

static char *make_id(char prefix, const char *path)
{
	/* a folder renamed over EWS keeps the id of its first path */
	g_autofree char *birth = prefix == 'F' ? ewsd_folder_ids_birth(path)
					       : g_strdup(path);
	g_autofree char *raw = g_strdup_printf("mfs%c:%s", prefix, birth);

	return g_base64_encode((const guchar *)raw, strlen(raw));
}

static const char *role_of(const struct mfs_folder_info *fi)
{
	for (size_t i = 0; i < G_N_ELEMENTS(roles); i++)
		if (fi->special && roles[i].special &&
		    strcmp(fi->special, roles[i].special) == 0)
			return roles[i].distinguished;
	if (strchr(fi->path, '/'))
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(roles); i++)
		if (strcmp(fi->path, roles[i].name) == 0)
			return roles[i].distinguished;
	return NULL;
}

/* The whole hierarchy (caller owns; of struct efolder), read from the
 * store once per call.  Returns 0 or -errno. */
static int hierarchy(struct ewsd_call *call, GArray **tree_r)
{
	GArray *tree;
	int rc;

	if (!call->folders) {
		rc = mfs_store_list_folders(call->ctx->store, &call->folders,
					    NULL);
		if (rc < 0)
			return rc;
	}
	tree = g_array_new(FALSE, TRUE, sizeof(struct efolder));
	g_array_set_clear_func(tree, efolder_clear);
	struct efolder root = { make_id('R', "root"), NULL, "root", "root",
				MFS_FOLDER_NONE, NO_PARENT };
	struct efolder top = { make_id('R', "msgfolderroot"), NULL,
			       "Top of Information Store", "msgfolderroot",
			       MFS_FOLDER_NONE, ROOT };
	g_array_append_val(tree, root);
	g_array_append_val(tree, top);
	for (guint i = 0; i < call->folders->len; i++) {
		const struct mfs_folder_info *fi = call->folders->pdata[i];
		const char *slash = strrchr(fi->path, '/');
		struct efolder f = { make_id('F', fi->path), fi->path,
				     slash ? slash + 1 : fi->path,
				     role_of(fi), fi->kind, MSGROOT };
		/* parents come before children in the store's list */
		if (slash) {
			size_t plen = (size_t)(slash - fi->path);
			for (guint j = 2; j < tree->len; j++) {
				const struct efolder *p = &g_array_index(
					tree, struct efolder, j);
				if (strlen(p->path) == plen &&
				    memcmp(p->path, fi->path, plen) == 0)
					f.parent = (int)j;
			}
		}
		g_array_append_val(tree, f);
	}
	*tree_r = tree;
	return 0;
}

/* The index of the folder that `ref` (t:FolderId or
 * t:DistinguishedFolderId) names in `tree`, or -1. */
static int find_ref(const GArray *tree, const xmlNode *ref)
{
	g_autofree char *id = ews_attr(ref, "Id");
	bool dist = ews_is(ref, EWS_NS_T, "DistinguishedFolderId");

	if (!id || (!dist && !ews_is(ref, EWS_NS_T, "FolderId")))
		return -1;
	for (guint i = 0; i < tree->len; i++) {
		const struct efolder *f = &g_array_index(tree, struct efolder, i);
		if (dist ? f->distinguished &&
			   strcmp(f->distinguished, id) == 0
			 : strcmp(f->id, id) == 0)
			return (int)i;
	}
	return -1;
}

/* The role of roles[] that distinguished name `id` is, or -1. */
static int role_named(const char *id)
{
	for (size_t i = 0; i < G_N_ELEMENTS(roles); i++)
		if (id && !strcmp(roles[i].distinguished, id))
			return (int)i;
	return -1;
}

/*
 * find_ref(), and for a distinguished folder that the store lacks, the
 * folder made under its role's name first (*tree read again): an
 * Exchange mailbox always has them, and clients such as DavMail refuse a
 * mailbox where one is missing.  The Outbox made this way is a folder
 * like the others: this server sends what CreateItem asks it to send,
 * not what lies in a folder.  Tasks are made a calendar folder: the store
 * keeps tasks as iCalendar VTODOs, as CalDAV does.
 */
static int lookup(struct ewsd_call *call, GArray **tree, const xmlNode *ref)
{
	int idx = find_ref(*tree, ref), role, rc;
	g_autofree char *id = NULL;
	enum mfs_folder_kind kind;

	if (idx >= 0 || !ews_is(ref, EWS_NS_T, "DistinguishedFolderId"))
		return idx;
	id = ews_attr(ref, "Id");
	role = role_named(id);
	if (role < 0)
		return -1;
	kind = !strcmp(id, "contacts") ? MFS_FOLDER_CONTACTS
		: !strcmp(id, "calendar") ? MFS_FOLDER_CALENDAR
		: !strcmp(id, "tasks") ? MFS_FOLDER_CALENDAR
		: MFS_FOLDER_MAIL;
	rc = mfs_store_create_folder(call->ctx->store, roles[role].name, kind,
				     NULL);
	if (rc < 0 && rc != -EEXIST) {
		log_warn("ews: the %s folder %s could not be made: %s", id,
			 roles[role].name, g_strerror(-rc));
		return -1;
	}
	log_info("ews: made the %s folder %s, which the store lacked", id,
		 roles[role].name);
	g_clear_pointer(&call->folders, g_ptr_array_unref);
	g_array_unref(*tree);
	*tree = NULL;
	if (hierarchy(call, tree) < 0) {
		*tree = g_array_new(FALSE, TRUE, sizeof(struct efolder));
		return -1;
	}
	return find_ref(*tree, ref);
}

int ewsd_folder_resolve(struct ewsd_call *call, const xmlNode *ref,
		       const char **path_r, enum mfs_folder_kind *kind_r)
{
	GArray *tree = NULL;
	int rc = hierarchy(call, &tree), idx;

	if (rc < 0)
		return rc;
	idx = lookup(call, &tree, ref);
	if (idx < 0 || !g_array_index(tree, struct efolder, idx).path) {
		g_array_unref(tree);
		return -ENOENT;
	}
	*path_r = g_array_index(tree, struct efolder, idx).path;
	*kind_r = g_array_index(tree, struct efolder, idx).kind;
	g_array_unref(tree);
	return 0;
}

bool ewsd_folder_known(struct ewsd_call *call, const char *path)
{
	if (!call->folders &&
	    mfs_store_list_folders(call->ctx->store, &call->folders, NULL) < 0)
		return false;
	for (guint i = 0; i < call->folders->len; i++) {
		const struct mfs_folder_info *fi = call->folders->pdata[i];
		if (strcmp(fi->path, path) == 0)
			return fi->kind == MFS_FOLDER_MAIL;
	}
	return false;
}

char *ewsd_folder_id(const char *path)
{
	return make_id('F', path);
}

static unsigned child_count(const GArray *tree, int idx)
{
	unsigned n = 0;

	for (guint i = 0; i < tree->len; i++)
		if (g_array_index(tree, struct efolder, i).parent == idx)
			n++;
	return n;
}

/* The container class folder `f` shows (NULL for the roots). */
static const char *class_of(const struct efolder *f)
{
	return f->kind == MFS_FOLDER_CONTACTS ? "IPF.Contact"
		: f->kind == MFS_FOLDER_CALENDAR ? "IPF.Appointment"
		: f->path ? "IPF.Note" : NULL;
}

static void write_folder(struct ewsd_call *call, const GArray *tree, int idx)
{
	const struct efolder *f = &g_array_index(tree, struct efolder, idx);
	const char *elem = f->kind == MFS_FOLDER_CONTACTS ? "ContactsFolder"
		: f->kind == MFS_FOLDER_CALENDAR ? "CalendarFolder" : "Folder";
	const char *cls = class_of(f);
	GString *out = call->out;
	uint64_t total = 0, unread = 0;
	struct mfs_sync_result *res = NULL;

	/* counts are what the store holds now; a folder that cannot be read
	 * shows as empty rather than failing the whole answer */
	if (f->path && f->kind != MFS_FOLDER_NONE &&
	    mfs_store_sync(call->ctx->store, f->path, NULL, &res, NULL) >= 0) {
		for (guint i = 0; i < res->changed->len; i++) {
			const struct mfs_item *it = res->changed->pdata[i];
			total++;
			if (!(it->flags & MFS_FLAG_SEEN))
				unread++;
		}
		mfs_sync_result_free(&res);
	}
	g_string_append_printf(out, "<t:%s><t:FolderId Id=\"%s\" ChangeKey=\""
			       CHANGE_KEY "\"/>", elem, f->id);
	if (f->parent != NO_PARENT)
		g_string_append_printf(out, "<t:ParentFolderId Id=\"%s\" "
				       "ChangeKey=\"" CHANGE_KEY "\"/>",
				       g_array_index(tree, struct efolder,
						     f->parent).id);
	if (cls)
		g_string_append_printf(out, "<t:FolderClass>%s</t:FolderClass>",
				       cls);
	g_string_append(out, "<t:DisplayName>");
	ews_escape(out, f->name);
	g_string_append_printf(out, "</t:DisplayName><t:TotalCount>%" PRIu64
			       "</t:TotalCount><t:ChildFolderCount>%u"
			       "</t:ChildFolderCount>", total,
			       child_count(tree, idx));
	if (f->kind != MFS_FOLDER_CONTACTS && f->kind != MFS_FOLDER_CALENDAR)
		g_string_append_printf(out, "<t:UnreadCount>%" PRIu64
				       "</t:UnreadCount>", unread);
	g_string_append_printf(out, "</t:%s>", elem);
}

int ewsd_op_get_folder(struct ewsd_call *call)
{
	xmlNode *ids = ews_child(call->req->op, EWS_NS_M, "FolderIds");
	GArray *tree = NULL;
	int rc = hierarchy(call, &tree);

	if (rc < 0)
		return rc;
	g_string_append(call->out, "<m:GetFolderResponse><m:ResponseMessages>");
	/* one message per id, in the order asked */
	for (xmlNode *r = ews_first_element(ids); r; r = ews_next_element(r)) {
		int idx = lookup(call, &tree, r);
		if (idx < 0) {
			ewsd_error_message(call->out, "GetFolder",
					  "ErrorFolderNotFound",
					  "The specified folder could not be "
					  "found in the store.");
			continue;
		}
		g_string_append(call->out, "<m:GetFolderResponseMessage "
				"ResponseClass=\"Success\"><m:ResponseCode>"
				"NoError</m:ResponseCode><m:Folders>");
		write_folder(call, tree, idx);
		g_string_append(call->out, "</m:Folders>"
				"</m:GetFolderResponseMessage>");
	}
	g_string_append(call->out, "</m:ResponseMessages></m:GetFolderResponse>");
	g_array_unref(tree);
	return 0;
}

/* Append the descendants of `idx` to `found` in depth-first order, only
 * the children when not `deep`. */
static void collect(const GArray *tree, int idx, bool deep, GArray *found)
{
	for (guint i = 0; i < tree->len; i++) {
		if (g_array_index(tree, struct efolder, i).parent != idx)
			continue;
		int child = (int)i;
		g_array_append_val(found, child);
		if (deep)
			collect(tree, child, deep, found);
	}
}

/* An unsigned attribute; `fallback` when absent.  Returns 0 or -EINVAL. */
static int uint_attr(const xmlNode *node, const char *name, guint64 fallback,
		     guint64 *v_r)
{
	g_autofree char *v = node ? ews_attr(node, name) : NULL;

	*v_r = fallback;
	if (!v)
		return 0;
	return g_ascii_string_to_unsigned(v, 10, 0, G_MAXINT32, v_r, NULL)
		? 0 : -EINVAL;
}

static void find_one(struct ewsd_call *call, const GArray *tree, int parent,
		     bool deep, const xmlNode *view,
		     const struct ewsd_restrict *r)
{
	g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(int));
	g_autofree char *base = view ? ews_attr(view, "BasePoint") : NULL;
	guint64 max, offset, start, count;

	if (uint_attr(view, "MaxEntriesReturned", G_MAXINT32, &max) < 0 ||
	    uint_attr(view, "Offset", 0, &offset) < 0) {
		ewsd_error_message(call->out, "FindFolder",
				  "ErrorInvalidPagingMaxRows",
				  "The paging view is not valid.");
		return;
	}
	collect(tree, parent, deep, found);
	for (guint i = found->len; r && i-- > 0;) {
		const struct efolder *f = &g_array_index(
			tree, struct efolder, g_array_index(found, int, i));
		if (!ewsd_restrict_folder(r, f->name, class_of(f)))
			g_array_remove_index(found, i);
	}
	if (base && strcmp(base, "End") == 0) {
		/* Offset counts back from the last folder */
		guint64 last = found->len > offset ? found->len - offset : 0;
		start = last > max ? last - max : 0;
		count = last - start;
	} else {
		start = MIN(offset, found->len);
		count = MIN(max, found->len - start);
	}
	g_string_append_printf(call->out, "<m:FindFolderResponseMessage "
		"ResponseClass=\"Success\"><m:ResponseCode>NoError"
		"</m:ResponseCode><m:RootFolder IndexedPagingOffset=\"%"
		G_GUINT64_FORMAT "\" TotalItemsInView=\"%u\" "
		"IncludesLastItemInRange=\"%s\"><t:Folders>",
		start + count, found->len,
		start + count >= found->len ? "true" : "false");
	for (guint64 i = start; i < start + count; i++)
		write_folder(call, tree, g_array_index(found, int, i));
	g_string_append(call->out, "</t:Folders></m:RootFolder>"
			"</m:FindFolderResponseMessage>");
}

int ewsd_op_find_folder(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *parents = ews_child(op, EWS_NS_M, "ParentFolderIds");
	xmlNode *view = ews_child(op, EWS_NS_M, "IndexedPageFolderView");
	g_autofree char *traversal = ews_attr(op, "Traversal");
	bool deep = traversal && strcmp(traversal, "Deep") == 0;
	xmlNode *restriction = ews_child(op, EWS_NS_M, "Restriction");
	struct ewsd_restrict *filter = NULL;
	GArray *tree = NULL;
	int rc = hierarchy(call, &tree), parsed;

	if (rc < 0)
		return rc;
	parsed = restriction ? ewsd_restrict_parse(restriction, true, &filter)
			     : 0;
	g_string_append(call->out, "<m:FindFolderResponse><m:ResponseMessages>");
	for (xmlNode *r = ews_first_element(parents); r;
	     r = ews_next_element(r)) {
		int idx = lookup(call, &tree, r);
		if (idx < 0)
			ewsd_error_message(call->out, "FindFolder",
					  "ErrorFolderNotFound",
					  "The specified folder could not be "
					  "found in the store.");
		else if (parsed < 0)
			ewsd_restrict_error(call->out, "FindFolder", parsed);
		else
			find_one(call, tree, idx, deep, view, filter);
	}
	ewsd_restrict_free(filter);
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:FindFolderResponse>");
	g_array_unref(tree);
	return 0;
}

int ewsd_folder_descendants(struct ewsd_call *call, const xmlNode *ref,
			   GPtrArray **paths_r)
{
	g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(int));
	GArray *tree = NULL;
	int rc = hierarchy(call, &tree), idx;

	if (rc < 0)
		return rc;
	idx = ref ? lookup(call, &tree, ref) : ROOT;
	if (idx < 0) {
		g_array_unref(tree);
		return -ENOENT;
	}
	collect(tree, idx, true, found);
	*paths_r = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < found->len; i++) {
		const struct efolder *f = &g_array_index(
			tree, struct efolder, g_array_index(found, int, i));
		if (f->path)
			g_ptr_array_add(*paths_r, g_strdup(f->path));
	}
	g_array_unref(tree);
	return 0;
}

void ewsd_folder_write_path(struct ewsd_call *call, const char *path)
{
	GArray *tree = NULL;

	if (hierarchy(call, &tree) < 0)
		return;
	for (guint i = 2; i < tree->len; i++)
		if (!strcmp(g_array_index(tree, struct efolder, i).path, path))
			write_folder(call, tree, (int)i);
	g_array_unref(tree);
}

int ewsd_folder_distinguished(struct ewsd_call *call, const char *name,
			     const char **path_r)
{
	GArray *tree = NULL;
	int rc = hierarchy(call, &tree);

	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (guint i = 2; i < tree->len; i++) {
		const struct efolder *f = &g_array_index(tree, struct efolder,
							 i);
		if (f->distinguished && !strcmp(f->distinguished, name)) {
			*path_r = f->path;
			rc = 0;
			break;
		}
	}
	g_array_unref(tree);
	return rc;
}

int ewsd_folder_ref_path(struct ewsd_call *call, const xmlNode *ref,
			char **path_r)
{
	GArray *tree = NULL;
	int rc = hierarchy(call, &tree), idx;

	if (rc < 0)
		return rc;
	idx = lookup(call, &tree, ref);
	if (idx >= 0) {
		const char *p = g_array_index(tree, struct efolder, idx).path;
		*path_r = g_strdup(p ? p : "");
	}
	g_array_unref(tree);
	return idx < 0 ? -ENOENT : 0;
}

bool ewsd_folder_is_distinguished(struct ewsd_call *call, const char *path)
{
	GArray *tree = NULL;
	bool found = false;

	if (hierarchy(call, &tree) < 0)
		return false;
	for (guint i = 2; i < tree->len; i++) {
		const struct efolder *f = &g_array_index(tree, struct efolder,
							 i);
		if (!strcmp(f->path, path))
			found = f->distinguished != NULL;
	}
	g_array_unref(tree);
	return found;
}
