/*
 * folder-ops.c - CreateFolder, UpdateFolder (renames), DeleteFolder,
 * MoveFolder and EmptyFolder.
 *
 * Specs: [MS-OXWSFOLD] 3.1.4.2 (CreateFolder), 3.1.4.9 (UpdateFolder),
 * 3.1.4.3 (DeleteFolder), 3.1.4.8 (MoveFolder), 3.1.4.5 (EmptyFolder);
 * [MS-OXWSCDATA] ErrorFolderExists, ErrorFolderNotFound,
 * ErrorDeleteDistinguishedFolder, ErrorMoveDistinguishedFolder.
 *
 * Choices where the store is not a mailbox: a folder deleted with
 * HardDelete or SoftDelete goes with everything in it, sub-folders
 * included, as Exchange deletes a whole subtree; MoveToDeletedItems moves
 * the folder into Deleted Items.  The distinguished folders (inbox,
 * sentitems...) cannot be deleted, moved or renamed.  UpdateFolder can
 * change the DisplayName (a rename in place) and accepts a FolderClass
 * that is the folder's own and the deletion of its PermissionSet (none is
 * kept); other properties are ErrorInvalidPropertySet.
 * Folder names that the store cannot hold as a directory name ('/', a
 * leading '.') are ErrorInvalidRequest.
 */
#include <errno.h>
#include <string.h>

#include "ewsd-private.h"

static const char *kind_class(enum mfs_folder_kind kind)
{
	return kind == MFS_FOLDER_CONTACTS ? "IPF.Contact"
		: kind == MFS_FOLDER_CALENDAR ? "IPF.Appointment" : "IPF.Note";
}

static char *child_text(const xmlNode *parent, const char *name)
{
	xmlNode *n = ews_child(parent, EWS_NS_T, name);
	xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
	char *copy = v ? g_strdup((const char *)v) : NULL;

	xmlFree(v);
	return copy;
}

/* The store's folder list changed: read it again when next needed. */
static void folders_changed(struct ewsd_call *call)
{
	g_clear_pointer(&call->folders, g_ptr_array_unref);
}

static bool good_name(const char *name)
{
	return name && *name && name[0] != '.' && !strchr(name, '/') &&
	       strlen(name) <= 255 && g_utf8_validate(name, -1, NULL);
}

static const char *folder_error_code(int rc)
{
	switch (rc) {
	case -EEXIST:
	case -ENOTEMPTY:
		return "ErrorFolderExists";
	case -ENOENT:
		return "ErrorFolderNotFound";
	case -EINVAL:
	case -ENAMETOOLONG:
		return "ErrorInvalidRequest";
	default:
		return "ErrorInternalServerError";
	}
}

static void folder_success(struct ewsd_call *call, const char *op,
			   const char *path)
{
	g_autofree char *fid = path ? ewsd_folder_id(path) : NULL;

	g_string_append_printf(call->out, "<m:%sResponseMessage ResponseClass="
			       "\"Success\"><m:ResponseCode>NoError"
			       "</m:ResponseCode>", op);
	if (fid)
		g_string_append_printf(call->out, "<m:Folders><t:Folder>"
				       "<t:FolderId Id=\"%s\" ChangeKey="
				       "\"AQAAABYAAAA=\"/></t:Folder>"
				       "</m:Folders>", fid);
	g_string_append_printf(call->out, "</m:%sResponseMessage>", op);
}

static char *join(const char *parent, const char *name)
{
	return *parent ? g_strconcat(parent, "/", name, NULL)
		       : g_strdup(name);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The store path of the folder a t:FolderId or t:DistinguishedFolderId
 * names, as ewsd_folder_ref_path(); the roots are "". */
static int ref_path(struct ewsd_call *call, const xmlNode *ref, char **path_r)
{
	if (!ref)
		return -ENOENT;
	return ewsd_folder_ref_path(call, ref, path_r);
}

int ewsd_op_create_folder(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *parent = ews_child(op, EWS_NS_M, "ParentFolderId");
	xmlNode *folders = ews_child(op, EWS_NS_M, "Folders");
	g_autofree char *ppath = NULL;
	int prc = ref_path(call, ews_first_element(parent), &ppath);

	g_string_append(call->out, "<m:CreateFolderResponse>"
			"<m:ResponseMessages>");
	for (xmlNode *f = ews_first_element(folders); f;
	     f = ews_next_element(f)) {
		g_autofree char *name = child_text(f, "DisplayName");
		g_autofree char *cls = child_text(f, "FolderClass");
		enum mfs_folder_kind kind = MFS_FOLDER_MAIL;
		struct mfs_error e = { 0 };
		int rc;

		if (ews_is(f, EWS_NS_T, "ContactsFolder") ||
		    (cls && g_str_has_prefix(cls, "IPF.Contact")))
			kind = MFS_FOLDER_CONTACTS;
		else if (ews_is(f, EWS_NS_T, "CalendarFolder") ||
			 (cls && g_str_has_prefix(cls, "IPF.Appointment")))
			kind = MFS_FOLDER_CALENDAR;
		if (prc < 0) {
			ewsd_error_message(call->out, "CreateFolder",
					  "ErrorFolderNotFound",
					  "The parent folder could not be "
					  "found in the store.");
			continue;
		}
		if (!good_name(name)) {
			ewsd_error_message(call->out, "CreateFolder",
					  "ErrorInvalidRequest",
					  "The store cannot hold a folder of "
					  "this name.");
			continue;
		}
		g_autofree char *path = join(ppath, name);
		rc = mfs_store_create_folder(call->ctx->store, path, kind, &e);
		folders_changed(call);
		if (rc < 0) {
			ewsd_error_message(call->out, "CreateFolder",
					  folder_error_code(rc),
					  rc == -EEXIST ? "A folder with the "
					  "specified name already exists."
					  : e.msg[0] ? e.msg : g_strerror(-rc));
			continue;
		}
		ewsd_folder_ids_created(path);
		folder_success(call, "CreateFolder", path);
	}
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:CreateFolderResponse>");
	return 0;
}

/* Rename or move `from` to `to`, keeping the ids of the folders moved.
 * Returns 0 or -errno (with *e). */
static int relocate(struct ewsd_call *call, const char *from, const char *to,
		    struct mfs_error *e)
{
	g_autoptr(GPtrArray) moved = g_ptr_array_new_with_free_func(g_free);
	size_t n = strlen(from);
	int rc;

	if (!strcmp(from, to))
		return 0;
	if (!strncmp(to, from, n) && to[n] == '/')
		return -EINVAL;	/* into its own subtree */
	for (guint i = 0; call->folders && i < call->folders->len; i++) {
		const struct mfs_folder_info *fi = call->folders->pdata[i];
		if (!strncmp(fi->path, from, n) &&
		    (fi->path[n] == 0 || fi->path[n] == '/'))
			g_ptr_array_add(moved, g_strdup(fi->path));
	}
	rc = mfs_store_rename_folder(call->ctx->store, from, to, e);
	folders_changed(call);
	if (rc == 0)
		ewsd_folder_ids_renamed(from, to, moved);
	return rc;
}

/* Resolve a FolderId that must name a store folder that may be changed.
 * Returns 0 with *path_r (caller owns), or answers the error and
 * returns -1. */
static int changeable(struct ewsd_call *call, const char *op,
		      const xmlNode *ref, char **path_r)
{
	if (ref_path(call, ref, path_r) < 0 || !**path_r) {
		g_clear_pointer(path_r, g_free);
		ewsd_error_message(call->out, op, "ErrorFolderNotFound",
				  "The specified folder could not be found "
				  "in the store.");
		return -1;
	}
	if (ewsd_folder_is_distinguished(call, *path_r)) {
		g_clear_pointer(path_r, g_free);
		ewsd_error_message(call->out, op, !strcmp(op, "DeleteFolder")
				  ? "ErrorDeleteDistinguishedFolder"
				  : "ErrorMoveDistinguishedFolder",
				  "Distinguished folders cannot be deleted, "
				  "moved or renamed.");
		return -1;
	}
	return 0;
}

static enum mfs_folder_kind kind_of(struct ewsd_call *call, const char *path)
{
	for (guint i = 0; call->folders && i < call->folders->len; i++) {
		const struct mfs_folder_info *fi = call->folders->pdata[i];
		if (!strcmp(fi->path, path))
			return fi->kind;
	}
	return MFS_FOLDER_NONE;
}

static void update_one(struct ewsd_call *call, const xmlNode *change)
{
	xmlNode *ref = ews_first_element(change);
	xmlNode *updates = ews_child(change, EWS_NS_T, "Updates");
	g_autofree char *path = NULL;
	g_autofree char *new_name = NULL;
	struct mfs_error e = { 0 };
	int rc;

	if (changeable(call, "UpdateFolder", ref, &path) < 0)
		return;
	for (xmlNode *u = ews_first_element(updates); u;
	     u = ews_next_element(u)) {
		xmlNode *uri = ews_first_element(u);
		xmlNode *val = ews_next_element(uri);
		g_autofree char *field = uri ? ews_attr(uri, "FieldURI") : NULL;
		bool set = ews_is(u, EWS_NS_T, "SetFolderField");
		if (set && field && !strcmp(field, "folder:DisplayName")) {
			g_free(new_name);
			new_name = child_text(val, "DisplayName");
			continue;
		}
		/* no permissions are kept: deleting them is what is */
		if (!set && field && !strcmp(field, "folder:PermissionSet") &&
		    ews_is(u, EWS_NS_T, "DeleteFolderField"))
			continue;
		if (set && field && !strcmp(field, "folder:FolderClass")) {
			g_autofree char *cls = child_text(val, "FolderClass");
			if (cls && !strcmp(cls, kind_class(kind_of(call,
								   path))))
				continue;
		}
		ewsd_error_message(call->out, "UpdateFolder",
				  "ErrorInvalidPropertySet",
				  "Only a folder's DisplayName can be "
				  "changed.");
		return;
	}
	if (new_name && !good_name(new_name)) {
		ewsd_error_message(call->out, "UpdateFolder",
				  "ErrorInvalidRequest",
				  "The store cannot hold a folder of this "
				  "name.");
		return;
	}
	if (new_name && strcmp(new_name, base_name(path)) != 0) {
		g_autofree char *parent = g_strndup(
			path, strlen(path) - strlen(base_name(path)));
		if (*parent)
			parent[strlen(parent) - 1] = 0;
		g_autofree char *to = join(parent, new_name);
		rc = relocate(call, path, to, &e);
		if (rc < 0) {
			ewsd_error_message(call->out, "UpdateFolder",
					  folder_error_code(rc),
					  e.msg[0] ? e.msg : g_strerror(-rc));
			return;
		}
		g_free(path);
		path = g_steal_pointer(&to);
	}
	folder_success(call, "UpdateFolder", path);
}

int ewsd_op_update_folder(struct ewsd_call *call)
{
	xmlNode *changes = ews_child(call->req->op, EWS_NS_M, "FolderChanges");

	g_string_append(call->out, "<m:UpdateFolderResponse>"
			"<m:ResponseMessages>");
	for (xmlNode *c = ews_first_element(changes); c;
	     c = ews_next_element(c))
		update_one(call, c);
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:UpdateFolderResponse>");
	return 0;
}

/* Remove every item of `path`.  Returns 0 or -errno. */
static int empty_items(struct ewsd_call *call, const char *path)
{
	struct mfs_sync_result *res = NULL;
	int rc = mfs_store_sync(call->ctx->store, path, NULL, &res, NULL);

	for (guint i = 0; rc == 0 && i < res->changed->len; i++) {
		const struct mfs_item *it = res->changed->pdata[i];
		rc = mfs_store_remove(call->ctx->store, path, it->id, NULL);
		if (rc == -ENOENT)
			rc = 0;	/* gone meanwhile: as wanted */
	}
	mfs_sync_result_free(&res);
	return rc;
}

/* Delete the folders under `path` (and `path` itself with `self`), with
 * everything in them, deepest first.  Returns 0 or -errno. */
static int delete_tree(struct ewsd_call *call, const char *path, bool self)
{
	g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func(g_free);
	size_t n = strlen(path);
	int rc = 0;

	if (!call->folders &&
	    (rc = mfs_store_list_folders(call->ctx->store, &call->folders,
					 NULL)) < 0)
		return rc;
	for (guint i = 0; i < call->folders->len; i++) {
		const struct mfs_folder_info *fi = call->folders->pdata[i];
		if ((self && !strcmp(fi->path, path)) ||
		    (!strncmp(fi->path, path, n) && fi->path[n] == '/'))
			g_ptr_array_add(doomed, g_strdup(fi->path));
	}
	/* parents come before children in the list: go backwards */
	for (guint i = doomed->len; rc == 0 && i-- > 0;) {
		const char *p = doomed->pdata[i];
		if (kind_of(call, p) != MFS_FOLDER_NONE)
			rc = empty_items(call, p);
		if (rc == 0)
			rc = mfs_store_delete_folder(call->ctx->store, p, NULL);
		if (rc == 0)
			ewsd_folder_ids_deleted(p);
	}
	folders_changed(call);
	return rc;
}

int ewsd_op_delete_folder(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *ids = ews_child(op, EWS_NS_M, "FolderIds");
	g_autofree char *type = ews_attr(op, "DeleteType");
	bool to_trash = type && !strcmp(type, "MoveToDeletedItems");

	g_string_append(call->out, "<m:DeleteFolderResponse>"
			"<m:ResponseMessages>");
	for (xmlNode *r = ews_first_element(ids); r; r = ews_next_element(r)) {
		g_autofree char *path = NULL;
		const char *trash = NULL;
		struct mfs_error e = { 0 };
		int rc;

		if (changeable(call, "DeleteFolder", r, &path) < 0)
			continue;
		if (to_trash &&
		    ewsd_folder_distinguished(call, "deleteditems", &trash) == 0 &&
		    strncmp(path, trash, strlen(trash)) != 0) {
			g_autofree char *to = join(trash, base_name(path));
			rc = relocate(call, path, to, &e);
		} else {
			rc = delete_tree(call, path, true);
		}
		if (rc < 0)
			ewsd_error_message(call->out, "DeleteFolder",
					  folder_error_code(rc),
					  e.msg[0] ? e.msg : g_strerror(-rc));
		else
			folder_success(call, "DeleteFolder", NULL);
	}
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:DeleteFolderResponse>");
	return 0;
}

int ewsd_op_move_folder(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *to = ews_child(op, EWS_NS_M, "ToFolderId");
	xmlNode *ids = ews_child(op, EWS_NS_M, "FolderIds");
	g_autofree char *dest = NULL;
	int drc = ref_path(call, ews_first_element(to), &dest);

	g_string_append(call->out, "<m:MoveFolderResponse>"
			"<m:ResponseMessages>");
	for (xmlNode *r = ews_first_element(ids); r; r = ews_next_element(r)) {
		g_autofree char *path = NULL;
		struct mfs_error e = { 0 };
		int rc;

		if (drc < 0) {
			ewsd_error_message(call->out, "MoveFolder",
					  "ErrorFolderNotFound",
					  "The destination folder could not "
					  "be found in the store.");
			continue;
		}
		if (changeable(call, "MoveFolder", r, &path) < 0)
			continue;
		g_autofree char *np = join(dest, base_name(path));
		rc = relocate(call, path, np, &e);
		if (rc < 0)
			ewsd_error_message(call->out, "MoveFolder",
					  rc == -EINVAL ? "ErrorMoveCopyFailed"
					  : folder_error_code(rc),
					  e.msg[0] ? e.msg : g_strerror(-rc));
		else
			folder_success(call, "MoveFolder", np);
	}
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:MoveFolderResponse>");
	return 0;
}

int ewsd_op_empty_folder(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *ids = ews_child(op, EWS_NS_M, "FolderIds");
	g_autofree char *subs = ews_attr(op, "DeleteSubFolders");
	bool with_subs = subs && (!strcmp(subs, "true") || !strcmp(subs, "1"));

	g_string_append(call->out, "<m:EmptyFolderResponse>"
			"<m:ResponseMessages>");
	for (xmlNode *r = ews_first_element(ids); r; r = ews_next_element(r)) {
		g_autofree char *path = NULL;
		int rc = ref_path(call, r, &path);

		if (rc == 0 && !*path)
			rc = -ENOENT;
		if (rc == 0 && kind_of(call, path) != MFS_FOLDER_NONE)
			rc = empty_items(call, path);
		if (rc == 0 && with_subs)
			rc = delete_tree(call, path, false);
		if (rc < 0)
			ewsd_error_message(call->out, "EmptyFolder",
					  folder_error_code(rc),
					  g_strerror(-rc));
		else
			folder_success(call, "EmptyFolder", NULL);
	}
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:EmptyFolderResponse>");
	return 0;
}
