/*
 * folders.c - the folder tree: SyncFolderHierarchy, the roles of
 * distinguished folders, and folder changes.
 *
 * Specs: [MS-OXWSSYNC] 3.1.4.1 (SyncFolderHierarchy); [MS-OXWSFOLD]
 * 3.1.4.x (GetFolder, CreateFolder, UpdateFolder, MoveFolder,
 * DeleteFolder); [MS-OXWSCDATA] 2.2.5.10 (DistinguishedFolderIdNameType);
 * [MS-OXOSFLD] for the folder classes (IPF.Note, IPF.Contact,
 * IPF.Appointment).
 *
 * The tree shown is that under msgfolderroot (the top of the information
 * store).  A path is the DisplayNames from there joined with '/', each
 * made a file name by name_escape_at() as the IMAP client does; the inbox is
 * "INBOX" whatever its DisplayName, as the mount's contract says.
 * Folders of other classes (tasks, notes, search folders) are left out
 * with everything below them.  The server's list is not trusted to be a
 * tree: see make_tree() for duplicate FolderIds and cycles.
 */
#include "ewsc-private.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "name-escape.h"
#include "printable.h"
#include "stream.h"

/* At most this many pages of a folder hierarchy: a server saying "more"
 * forever must not keep a listing going, while one giving a few folders
 * a page still lists a mailbox of many thousands. */
#define HIERARCHY_PAGES 1000

static const struct {
	const char *distinguished, *special;
} roles[] = {
	{ "inbox", NULL },
	{ "sentitems", "\\Sent" },
	{ "deleteditems", "\\Trash" },
	{ "drafts", "\\Drafts" },
	{ "junkemail", "\\Junk" },
};

void ewsc_folder_free(gpointer p)
{
	struct ewsc_folder *f = p;

	g_free(f->path);
	g_free(f->id);
	g_free(f->parent_id);
	g_free(f->special);
	g_free(f);
}

/* One folder of the server's hierarchy, before paths are made. */
struct node {
	char *id, *parent, *name;
	enum mfs_folder_kind kind;	/* MFS_FOLDER_NONE: left out */
};

static void node_free(gpointer p)
{
	struct node *n = p;

	g_free(n->id);
	g_free(n->parent);
	g_free(n->name);
	g_free(n);
}

static enum mfs_folder_kind kind_of(const xmlNode *f)
{
	g_autofree char *klass = ewsc_text(f, "FolderClass");
	const char *el = (const char *)f->name;

	if (!strcmp(el, "ContactsFolder"))
		return MFS_FOLDER_CONTACTS;
	if (!strcmp(el, "CalendarFolder"))
		return MFS_FOLDER_CALENDAR;
	if (strcmp(el, "Folder"))
		return MFS_FOLDER_NONE;		/* search, tasks */
	if (!klass || !strcmp(klass, "IPF.Note") ||
	    g_str_has_prefix(klass, "IPF.Note."))
		return MFS_FOLDER_MAIL;
	if (!strcmp(klass, "IPF.Contact") ||
	    g_str_has_prefix(klass, "IPF.Contact."))
		return MFS_FOLDER_CONTACTS;
	if (!strcmp(klass, "IPF.Appointment") ||
	    g_str_has_prefix(klass, "IPF.Appointment."))
		return MFS_FOLDER_CALENDAR;
	return MFS_FOLDER_NONE;
}

/* The ids of msgfolderroot and of the folders with roles.  ids_r[i] for
 * roles[i], root_r; caller owns all.  Returns 0 or -errno. */
static int role_ids(struct mfs_backend *be, char **root_r, char **ids_r,
		    struct mfs_error *e)
{
	struct ewsc_response *res = NULL;
	GString *req = ewsc_req_begin();
	int rc;

	g_string_append(req, "<m:GetFolder><m:FolderShape><t:BaseShape>"
			"IdOnly</t:BaseShape></m:FolderShape><m:FolderIds>"
			"<t:DistinguishedFolderId Id=\"msgfolderroot\"/>");
	for (size_t i = 0; i < G_N_ELEMENTS(roles); i++)
		g_string_append_printf(req, "<t:DistinguishedFolderId Id=\"%s"
				       "\"/>", roles[i].distinguished);
	g_string_append(req, "</m:FolderIds></m:GetFolder>");
	ewsc_req_end(req);
	rc = ewsc_call(be, "GetFolder", req, &res, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	for (guint i = 0; i < res->msgs->len && i <= G_N_ELEMENTS(roles);
	     i++) {
		struct ewsc_status st;
		ewsc_status_of(res->msgs->pdata[i], &st);
		xmlNode *fid = ewsc_find(res->msgs->pdata[i], "FolderId");
		char *id = st.rc == 0 && fid ? ews_attr(fid, "Id") : NULL;
		if (i == 0)
			*root_r = id;
		else
			ids_r[i - 1] = id;
	}
	ewsc_response_free(&res);
	if (!*root_r)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "GetFolder: the server "
				     "names no msgfolderroot");
	return 0;
}

static GString *hierarchy_request(const char *state)
{
	GString *req = ewsc_req_begin();

	g_string_append(req, "<m:SyncFolderHierarchy><m:FolderShape>"
			"<t:BaseShape>IdOnly</t:BaseShape>"
			"<t:AdditionalProperties>"
			"<t:FieldURI FieldURI=\"folder:DisplayName\"/>"
			"<t:FieldURI FieldURI=\"folder:FolderClass\"/>"
			"<t:FieldURI FieldURI=\"folder:ParentFolderId\"/>"
			"</t:AdditionalProperties></m:FolderShape>"
			"<m:SyncFolderId><t:DistinguishedFolderId "
			"Id=\"msgfolderroot\"/></m:SyncFolderId>");
	if (state) {
		g_string_append(req, "<m:SyncState>");
		ews_escape(req, state);
		g_string_append(req, "</m:SyncState>");
	}
	g_string_append(req, "</m:SyncFolderHierarchy>");
	ewsc_req_end(req);
	return req;
}

/* The folders a page creates, into `nodes`. */
static void hierarchy_page(const xmlNode *m, GPtrArray *nodes)
{
	xmlNode *changes = ews_child(m, EWS_NS_M, "Changes");

	for (xmlNode *c = ews_first_element(changes); c;
	     c = ews_next_element(c)) {
		xmlNode *f = ews_first_element(c);
		xmlNode *fid = ews_child(f, EWS_NS_T, "FolderId");
		xmlNode *pid = ews_child(f, EWS_NS_T, "ParentFolderId");
		if (!ews_is(c, EWS_NS_T, "Create") || !fid || !pid)
			continue;
		struct node *n = g_new0(struct node, 1);
		n->id = ews_attr(fid, "Id");
		n->parent = ews_attr(pid, "Id");
		n->name = ewsc_text(f, "DisplayName");
		n->kind = kind_of(f);
		if (!n->id || !n->parent || !n->name) {
			node_free(n);
			continue;
		}
		g_ptr_array_add(nodes, n);
	}
}

/*
 * Every folder below msgfolderroot, in *nodes (of struct node *): the
 * pages of SyncFolderHierarchy from no state on, each asked with the
 * SyncState the one before gave, until one says IncludesLastFolderInRange
 * is true ([MS-OXWSSYNC] 3.1.4.1; a server that leaves the element
 * out has said all).  The schema gives SyncFolderHierarchy no
 * MaxChangesReturned, so the server picks the page size.  All the pages
 * are one operation (stream.h): the account's timeout bounds the whole
 * listing, not each page.
 */
static int hierarchy(struct mfs_backend *be, GPtrArray *nodes,
		     struct mfs_error *e)
{
	g_autofree char *state = NULL;
	int timeout_ms = (int)MIN(be->cfg.timeout, 3600u) * 1000;
	int rc = 0;

	stream_op_begin();
	for (int page = 0; page < HIERARCHY_PAGES; page++) {
		struct ewsc_response *res = NULL;
		struct ewsc_status st;
		xmlNode *m = NULL;
		GString *req;

		if (page > 0 && stream_op_left_ms(timeout_ms) == 0) {
			rc = mfs_error_set(e, -ETIMEDOUT, MFS_ERR_ACCOUNT,
					   MFS_ERR_TRANSIENT,
					   "SyncFolderHierarchy: no whole "
					   "folder list within %u s (%d pages)",
					   be->cfg.timeout, page);
			goto out;
		}
		req = hierarchy_request(state);
		rc = ewsc_call_one(be, "SyncFolderHierarchy", req,
				   MFS_ERR_ACCOUNT, &res, &m, e);
		g_string_free(req, TRUE);
		if (rc < 0)
			goto out;
		ewsc_status_of(m, &st);
		if (st.rc < 0) {
			ewsc_response_free(&res);
			rc = mfs_error_set(e, st.rc, MFS_ERR_ACCOUNT,
					   MFS_ERR_TRANSIENT,
					   "SyncFolderHierarchy: %s %s",
					   st.code, st.text);
			goto out;
		}
		xmlNode *changes = ews_child(m, EWS_NS_M, "Changes");
		bool empty = ews_first_element(changes) == NULL;
		hierarchy_page(m, nodes);
		g_free(state);
		state = ewsc_text(m, "SyncState");
		g_autofree char *last = ewsc_text(m,
						  "IncludesLastFolderInRange");
		ewsc_response_free(&res);
		if (!last || strcmp(last, "false"))
			goto out;
		if (!state || !*state || empty) {
			rc = mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
					   MFS_ERR_TRANSIENT,
					   "SyncFolderHierarchy: more folders "
					   "promised, %s", empty
					   ? "none given" : "no SyncState");
			goto out;
		}
	}
	rc = mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
			   "SyncFolderHierarchy: more than %d pages",
			   HIERARCHY_PAGES);
out:
	stream_op_end();
	return rc;
}

/*
 * The hierarchy as a tree.  The server's answer is a list of (FolderId,
 * ParentFolderId) pairs and nothing in it makes them a tree: several
 * folders may carry one FolderId, and folders may name each other as
 * parents.  Walked as it comes, three folders sharing an id below each
 * other give 2^64 paths.  So the first folder with an id is the folder of
 * that id (later ones are left out, with a warning), each id is walked
 * into once at most, and folders that cannot be reached because their
 * parents go round in a circle are named in the log.  All of it is linear
 * in the number of folders.
 */
struct walk {
	struct mfs_backend *be;
	const char *root;
	GHashTable *by_id;	/* id -> struct node *, the first with it */
	GHashTable *children;	/* parent id -> GPtrArray of struct node * */
	GHashTable *visited;	/* ids walked into */
	GHashTable *dups;	/* struct node * left out as duplicates */
	char **role_ids;
	const char *inbox;
	GHashTable *out;	/* path -> struct ewsc_folder */
	GPtrArray *order;	/* of struct ewsc_folder *, borrowed */
};

/* Whether the trouble `what` with folder `id` is new to this backend: each
 * is logged once, not at every listing.  Takes be->lock. */
static bool first_time(struct mfs_backend *be, const char *what,
		       const char *id)
{
	char *key = g_strconcat(what, "\n", id, NULL);
	bool fresh;

	g_mutex_lock(&be->lock);
	fresh = g_hash_table_add(be->tree_warned, key);
	g_mutex_unlock(&be->lock);
	return fresh;
}

static void index_nodes(struct walk *w, GPtrArray *nodes)
{
	for (guint i = 0; i < nodes->len; i++) {
		struct node *n = nodes->pdata[i];
		struct node *first = g_hash_table_lookup(w->by_id, n->id);
		if (first || !strcmp(n->id, w->root)) {
			g_hash_table_add(w->dups, n);
			g_autofree char *key = g_strconcat(n->id, "\n", n->name,
							   NULL);
			if (!first_time(w->be, "dup", key))
				continue;
			g_autofree char *name = printable(n->name, -1);
			g_autofree char *other = first
				? printable(first->name, -1) : NULL;
			if (first)
				log_warnx("%s: folder '%s' has the FolderId of "
					  "folder '%s'; it is left out",
					  w->be->cfg.name, name, other);
			else
				log_warnx("%s: folder '%s' has the FolderId of "
					  "the top of the mailbox; it is left "
					  "out", w->be->cfg.name, name);
			continue;
		}
		g_hash_table_insert(w->by_id, n->id, n);
		GPtrArray *kids = g_hash_table_lookup(w->children, n->parent);
		if (!kids) {
			kids = g_ptr_array_new();
			g_hash_table_insert(w->children, n->parent, kids);
		}
		g_ptr_array_add(kids, n);
	}
}

static void walk(struct walk *w, const char *parent_id, const char *prefix,
		 int depth)
{
	GPtrArray *kids = g_hash_table_lookup(w->children, parent_id);

	if (!kids)
		return;
	if (depth > 64) {
		if (first_time(w->be, "deep", parent_id))
			log_warnx("%s: the folders below %s are nested deeper "
				  "than 64 levels and left out",
				  w->be->cfg.name, prefix);
		return;
	}
	for (guint i = 0; i < kids->len; i++) {
		struct node *n = kids->pdata[i];
		/* one parent per id after index_nodes, so a second visit
		 * cannot come; the set is what guarantees it */
		if (n->kind == MFS_FOLDER_NONE ||
		    !g_hash_table_add(w->visited, n->id))
			continue;
		char *comp = depth == 0 && !g_strcmp0(n->id, w->inbox)
			? g_strdup("INBOX")
			: name_escape_at(n->name, depth);
		char *path = *prefix ? g_strconcat(prefix, "/", comp, NULL)
				     : g_strdup(comp);
		g_free(comp);
		if (g_hash_table_contains(w->out, path)) {
			log_warnx("ews: two folders show as %s; the second "
				  "is left out", path);
			g_free(path);
			continue;
		}
		struct ewsc_folder *f = g_new0(struct ewsc_folder, 1);
		f->path = path;
		f->id = g_strdup(n->id);
		f->parent_id = g_strdup(n->parent);
		f->kind = n->kind;
		for (size_t r = 0; r < G_N_ELEMENTS(roles); r++)
			if (roles[r].special && w->role_ids[r] &&
			    !strcmp(w->role_ids[r], n->id))
				f->special = g_strdup(roles[r].special);
		g_hash_table_replace(w->out, f->path, f);
		g_ptr_array_add(w->order, f);
		walk(w, n->id, path, depth + 1);
	}
}

/* Name the folders of the cycle chain[from..] in the log, once. */
static void say_cycle(struct walk *w, GPtrArray *chain, guint from)
{
	const struct node *head = chain->pdata[from];
	GString *names = g_string_new(NULL);
	guint count = chain->len - from;

	if (!first_time(w->be, "cycle", head->id)) {
		g_string_free(names, TRUE);
		return;
	}
	for (guint i = from; i < chain->len && i < from + 10; i++) {
		const struct node *n = chain->pdata[i];
		g_autofree char *name = printable(n->name, -1);
		g_string_append_printf(names, "%s'%s'", i > from ? ", " : "",
				       name);
	}
	if (count > 10)
		g_string_append_printf(names, " and %u more", count - 10);
	if (count == 1)
		log_warnx("%s: folder %s names itself as its parent (a cycle); "
			  "it and the folders below it are left out",
			  w->be->cfg.name, names->str);
	else
		log_warnx("%s: folders %s name each other as parents (a "
			  "cycle); they and the folders below them are left out",
			  w->be->cfg.name, names->str);
	g_string_free(names, TRUE);
}

/* After the walk: follow the parents of each folder not reached, and name
 * those that go round in a circle.  A folder whose parent the server did
 * not list (or which is below a folder of a kind not shown) ends its chain
 * quietly, as before. */
static void find_cycles(struct walk *w, GPtrArray *nodes)
{
	GHashTable *done = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTable *on = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *chain = g_ptr_array_new();

	for (guint i = 0; i < nodes->len; i++) {
		struct node *p = nodes->pdata[i];
		if (g_hash_table_contains(w->dups, p))
			continue;
		g_hash_table_remove_all(on);
		g_ptr_array_set_size(chain, 0);
		while (p && !g_hash_table_contains(w->visited, p->id) &&
		       !g_hash_table_contains(done, p->id) &&
		       g_hash_table_add(on, p->id)) {
			g_ptr_array_add(chain, p);
			p = g_hash_table_lookup(w->by_id, p->parent);
		}
		if (p && g_hash_table_contains(on, p->id)) {
			guint from = 0;
			while (chain->pdata[from] != p)
				from++;
			say_cycle(w, chain, from);
		}
		for (guint c = 0; c < chain->len; c++)
			g_hash_table_add(done, ((struct node *)
						chain->pdata[c])->id);
	}
	g_ptr_array_unref(chain);
	g_hash_table_unref(on);
	g_hash_table_unref(done);
}

/* The ids of the items of every folder whose item table is loaded but
 * whose FolderId `folders` (path -> struct ewsc_folder) no longer holds:
 * what the spool keeps of them will not be read.  Each such folder is
 * answered once, not at every listing.  be->lock held. */
static GPtrArray *gone_items_locked(struct mfs_backend *be,
				    GHashTable *folders)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) live = g_hash_table_new(g_str_hash,
						      g_str_equal);
	GHashTableIter it;
	gpointer val;

	g_hash_table_iter_init(&it, folders);
	while (g_hash_table_iter_next(&it, NULL, &val))
		g_hash_table_add(live, ((struct ewsc_folder *)val)->id);
	g_hash_table_iter_init(&it, be->tables);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct ewsc_table *t = val;
		GHashTableIter in;
		gpointer id;

		if (!t->folder_id || g_hash_table_contains(live, t->folder_id)) {
			t->gone = false;
			continue;
		}
		if (t->gone)
			continue;
		t->gone = true;
		g_hash_table_iter_init(&in, t->items);
		while (g_hash_table_iter_next(&in, &id, NULL))
			g_ptr_array_add(ids, g_strdup(id));
	}
	return ids;
}

/* The folders below `root`, in be->folders and (when asked) *folders_r. */
static void make_tree(struct mfs_backend *be, GPtrArray *nodes,
		      const char *root, char **role_ids,
		      GPtrArray **folders_r)
{
	struct walk w = {
		.be = be,
		.root = root,
		.by_id = g_hash_table_new(g_str_hash, g_str_equal),
		.children = g_hash_table_new_full(
			g_str_hash, g_str_equal, NULL,
			(GDestroyNotify)g_ptr_array_unref),
		.visited = g_hash_table_new(g_str_hash, g_str_equal),
		.dups = g_hash_table_new(NULL, NULL),
		.role_ids = role_ids,
		.inbox = role_ids[0],
		.out = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					     ewsc_folder_free),
		.order = g_ptr_array_new(),
	};

	index_nodes(&w, nodes);
	walk(&w, root, "", 0);
	find_cycles(&w, nodes);
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_folder_info_free);
	for (guint i = 0; i < w.order->len; i++) {
		const struct ewsc_folder *f = w.order->pdata[i];
		struct mfs_folder_info *fi = mfs_folder_info_new(f->path,
								 f->kind);
		fi->special = g_strdup(f->special);
		g_ptr_array_add(out, fi);
	}
	g_ptr_array_unref(w.order);
	g_hash_table_unref(w.by_id);
	g_hash_table_unref(w.children);
	g_hash_table_unref(w.visited);
	g_hash_table_unref(w.dups);
	g_mutex_lock(&be->lock);
	g_hash_table_unref(be->folders);
	be->folders = w.out;
	GPtrArray *gone = gone_items_locked(be, be->folders);
	g_mutex_unlock(&be->lock);
	for (guint i = 0; i < gone->len; i++)
		mfs_spool_drop(be->spool, gone->pdata[i]);
	g_ptr_array_unref(gone);
	if (folders_r)
		*folders_r = out;
	else
		g_ptr_array_unref(out);
}

int ewsc_list_folders(struct mfs_backend *be, GPtrArray **folders_r,
		     struct mfs_error *e)
{
	char *ids[G_N_ELEMENTS(roles)] = { 0 };
	g_autofree char *root = NULL;
	GPtrArray *nodes = g_ptr_array_new_with_free_func(node_free);
	int rc = role_ids(be, &root, ids, e);

	if (rc == 0)
		rc = hierarchy(be, nodes, e);
	if (rc == 0)
		make_tree(be, nodes, root, ids, folders_r);
	for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
		g_free(ids[i]);
	g_ptr_array_unref(nodes);
	return rc;
}

int ewsc_folder_id(struct mfs_backend *be, const char *path, char **id_r,
		  enum mfs_folder_kind *kind_r, struct mfs_error *e)
{
	for (int pass = 0; pass < 2; pass++) {
		g_mutex_lock(&be->lock);
		struct ewsc_folder *f = g_hash_table_lookup(be->folders, path);
		if (f) {
			*id_r = g_strdup(f->id);
			if (kind_r)
				*kind_r = f->kind;
		}
		g_mutex_unlock(&be->lock);
		if (f)
			return 0;
		/* a folder made elsewhere since the last listing, or none
		 * yet: list once */
		if (pass == 0) {
			int rc = ewsc_list_folders(be, NULL, e);
			if (rc < 0)
				return rc;
		}
	}
	return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
			     "no folder %s on the server", path);
}

/* The FolderId of `path`'s parent ("" is msgfolderroot: *id_r NULL) and
 * the server name of its last component.  Returns 0 or -errno. */
static int split(struct mfs_backend *be, const char *path, char **parent_r,
		 char **name_r, struct mfs_error *e)
{
	const char *slash = strrchr(path, '/');
	int depth = 0;

	for (const char *p = path; *p; p++)
		depth += *p == '/';
	if (name_unescape(slash ? slash + 1 : path, name_ctx_at(depth),
			  name_r) < 0)
		return mfs_error_set(e, -EINVAL, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "'%s' cannot be a folder name", path);
	*parent_r = NULL;
	if (!slash)
		return 0;
	g_autofree char *parent = g_strndup(path, (gsize)(slash - path));
	int rc = ewsc_folder_id(be, parent, parent_r, NULL, e);
	if (rc < 0)
		g_clear_pointer(name_r, g_free);
	return rc;
}

static void parent_ref(GString *req, const char *elem, const char *id)
{
	g_string_append_printf(req, "<m:%s>", elem);
	if (id)
		ewsc_req_id(req, "t:FolderId", id);
	else
		g_string_append(req, "<t:DistinguishedFolderId "
				"Id=\"msgfolderroot\"/>");
	g_string_append_printf(req, "</m:%s>", elem);
}

/* Run a folder request whose one answer says all. */
static int folder_call(struct mfs_backend *be, const char *op,
		       const char *path, GString *req, char **new_id_r,
		       struct mfs_error *e)
{
	struct ewsc_response *res = NULL;
	struct ewsc_status st;
	xmlNode *m = NULL;
	int rc;

	ewsc_req_end(req);
	rc = ewsc_call_one(be, op, req, MFS_ERR_FOLDER, &res, &m, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	ewsc_status_of(m, &st);
	if (st.rc == 0 && new_id_r) {
		xmlNode *fid = ewsc_find(m, "FolderId");
		*new_id_r = fid ? ews_attr(fid, "Id") : NULL;
	}
	ewsc_response_free(&res);
	if (st.rc < 0) {
		enum mfs_err_scope scope;
		enum mfs_err_retry retry;
		ewsc_code_to_errno(st.code, &scope, &retry);
		return mfs_error_set(e, st.rc, MFS_ERR_FOLDER, retry,
				     "%s %s: %s %s", op, path, st.code,
				     st.text);
	}
	return 0;
}

int ewsc_create_folder(struct mfs_backend *be, const char *path,
		      enum mfs_folder_kind kind, struct mfs_error *e)
{
	g_autofree char *parent = NULL, *name = NULL;
	int rc = split(be, path, &parent, &name, e);
	const char *el = kind == MFS_FOLDER_CONTACTS ? "ContactsFolder"
		: kind == MFS_FOLDER_CALENDAR ? "CalendarFolder" : "Folder";
	const char *klass = kind == MFS_FOLDER_CONTACTS ? "IPF.Contact"
		: kind == MFS_FOLDER_CALENDAR ? "IPF.Appointment" : "IPF.Note";

	if (rc < 0)
		return rc;
	GString *req = ewsc_req_begin();
	g_string_append(req, "<m:CreateFolder>");
	parent_ref(req, "ParentFolderId", parent);
	g_string_append_printf(req, "<m:Folders><t:%s><t:FolderClass>%s"
			       "</t:FolderClass><t:DisplayName>", el, klass);
	ews_escape(req, name);
	g_string_append_printf(req, "</t:DisplayName></t:%s></m:Folders>"
			       "</m:CreateFolder>", el);
	if ((rc = folder_call(be, "CreateFolder", path, req, NULL, e)) < 0)
		return rc;
	return ewsc_list_folders(be, NULL, e);
}

int ewsc_rename_folder(struct mfs_backend *be, const char *from,
		      const char *to, struct mfs_error *e)
{
	g_autofree char *id = NULL, *parent = NULL, *name = NULL;
	g_autofree char *old_parent = NULL, *moved = NULL;
	int rc;

	if ((rc = ewsc_folder_id(be, from, &id, NULL, e)) < 0 ||
	    (rc = split(be, to, &parent, &name, e)) < 0)
		return rc;
	g_mutex_lock(&be->lock);
	struct ewsc_folder *f = g_hash_table_lookup(be->folders, from);
	old_parent = f ? g_strdup(f->parent_id) : NULL;
	g_mutex_unlock(&be->lock);
	bool top_before = !strchr(from, '/'), top_after = !strchr(to, '/');
	bool same_parent = top_before && top_after
		? true : (!top_before && !top_after &&
			  !g_strcmp0(parent, old_parent));
	if (!same_parent) {
		GString *req = ewsc_req_begin();
		g_string_append(req, "<m:MoveFolder>");
		parent_ref(req, "ToFolderId", parent);
		g_string_append(req, "<m:FolderIds>");
		ewsc_req_id(req, "t:FolderId", id);
		g_string_append(req, "</m:FolderIds></m:MoveFolder>");
		if ((rc = folder_call(be, "MoveFolder", from, req, &moved,
				      e)) < 0)
			return rc;
		if (moved) {
			g_free(id);
			id = g_steal_pointer(&moved);
		}
	}
	GString *req = ewsc_req_begin();
	g_string_append(req, "<m:UpdateFolder><m:FolderChanges>"
			"<t:FolderChange>");
	ewsc_req_id(req, "t:FolderId", id);
	g_string_append(req, "<t:Updates><t:SetFolderField><t:FieldURI "
			"FieldURI=\"folder:DisplayName\"/><t:Folder>"
			"<t:DisplayName>");
	ews_escape(req, name);
	g_string_append(req, "</t:DisplayName></t:Folder></t:SetFolderField>"
			"</t:Updates></t:FolderChange></m:FolderChanges>"
			"</m:UpdateFolder>");
	if ((rc = folder_call(be, "UpdateFolder", from, req, NULL, e)) < 0)
		return rc;
	return ewsc_list_folders(be, NULL, e);
}

/* Whether the folder `id` holds items or folders, by its counts. */
static int has_content(struct mfs_backend *be, const char *id,
		       struct mfs_error *e)
{
	struct ewsc_response *res = NULL;
	GString *req = ewsc_req_begin();
	int rc;

	g_string_append(req, "<m:GetFolder><m:FolderShape><t:BaseShape>"
			"IdOnly</t:BaseShape><t:AdditionalProperties>"
			"<t:FieldURI FieldURI=\"folder:TotalCount\"/>"
			"<t:FieldURI FieldURI=\"folder:ChildFolderCount\"/>"
			"</t:AdditionalProperties></m:FolderShape>"
			"<m:FolderIds>");
	ewsc_req_id(req, "t:FolderId", id);
	g_string_append(req, "</m:FolderIds></m:GetFolder>");
	ewsc_req_end(req);
	rc = ewsc_call(be, "GetFolder", req, &res, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	xmlNode *m = res->msgs->len ? res->msgs->pdata[0] : NULL;
	xmlNode *f = ews_first_element(ews_child(m, EWS_NS_M, "Folders"));
	g_autofree char *total = f ? ewsc_text(f, "TotalCount") : NULL;
	g_autofree char *kids = f ? ewsc_text(f, "ChildFolderCount") : NULL;
	rc = (total && g_ascii_strtoull(total, NULL, 10) > 0) ||
	     (kids && g_ascii_strtoull(kids, NULL, 10) > 0);
	ewsc_response_free(&res);
	return rc;
}

int ewsc_delete_folder(struct mfs_backend *be, const char *path,
		      struct mfs_error *e)
{
	g_autofree char *id = NULL;
	g_autofree char *prefix = g_strconcat(path, "/", NULL);
	int rc = ewsc_folder_id(be, path, &id, NULL, e);
	bool children = false;

	if (rc < 0)
		return rc;
	g_mutex_lock(&be->lock);
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, be->folders);
	while (g_hash_table_iter_next(&it, &key, NULL))
		children |= g_str_has_prefix(key, prefix);
	g_mutex_unlock(&be->lock);
	if (!children && (rc = has_content(be, id, e)) < 0)
		return rc;
	if (children || rc > 0)
		return mfs_error_set(e, -ENOTEMPTY, MFS_ERR_FOLDER,
				     MFS_ERR_FINAL, "%s is not empty", path);
	GString *req = ewsc_req_begin();
	g_string_append(req, "<m:DeleteFolder DeleteType=\"HardDelete\">"
			"<m:FolderIds>");
	ewsc_req_id(req, "t:FolderId", id);
	g_string_append(req, "</m:FolderIds></m:DeleteFolder>");
	if ((rc = folder_call(be, "DeleteFolder", path, req, NULL, e)) < 0)
		return rc;
	g_mutex_lock(&be->lock);
	g_hash_table_remove(be->folders, path);
	g_hash_table_remove(be->tables, path);
	g_mutex_unlock(&be->lock);
	return 0;
}
