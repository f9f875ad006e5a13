/*
 * folders.c - the folder tree of a mapi account: the IPM subtree's
 * hierarchy table with Depth, the kinds of folders from their container
 * classes, and the special folders from RopLogon's folder ids.
 *
 * Specs: [MS-OXCFOLD] 2.2.1.13 (RopGetHierarchyTable, Depth),
 * [MS-OXCTABL] (RopSetColumns, RopQueryRows), [MS-OXOSFLD] (container
 * classes IPF.Note, IPF.Contact, IPF.Appointment), [MS-OXCSTOR] 2.2.1.1.3
 * (the folder ids of a private logon).
 *
 * The tree shown is that below the IPM subtree ("Top of Information
 * Store").  A path is the DisplayNames from there joined with '/', each
 * made a file name by name_escape_at() as the other clients do; the inbox
 * is "INBOX" whatever its DisplayName.  Mail, contacts (IPF.Contact)
 * and calendar (IPF.Appointment) folders are shown; folders of other
 * classes (tasks, notes, journal, sync issues) are left out with
 * everything below them, and so is the server's Outbox, for the mount's
 * own Outbox/ is where mail to send goes.  The rows are not trusted to be a tree: each
 * FolderId is walked into once at most, so a row naming itself or a
 * later row as its parent is left out, and names that meet are said once.
 */
#include "mapic-private.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "log.h"
#include "name-escape.h"
#include "wire/mapi-tags.h"

/* Rows asked for in one QueryRows. */
#define ROWS_PER_QUERY 200
/* QueryRows of one listing; a server that never says "end" is left. */
#define QUERIES_MAX 1000
/* Folders inside each other taken. */
#define DEPTH_MAX 64

static const uint32_t cols[] = {
	MAPI_TAG_FOLDER_ID, MAPI_TAG_DISPLAY_NAME, MAPI_TAG_PARENT_FOLDER_ID,
	MAPI_TAG_CONTAINER_CLASS, MAPI_TAG_SUBFOLDERS,
};

char *mapic_id_of(uint64_t mid)
{
	return g_strdup_printf("%016" PRIx64, mid);
}

int mapic_mid_of(const char *id, uint64_t *mid_r)
{
	char *end = NULL;
	size_t len = strlen(id);

	/* a contact's or an appointment's id has its file's suffix */
	if (len == 20 && (!strcmp(id + 16, ".vcf") ||
			  !strcmp(id + 16, ".ics")))
		len = 16;
	if (len != 16 || !g_ascii_isxdigit(id[0]))
		return -ENOENT;
	*mid_r = g_ascii_strtoull(id, &end, 16);
	return end && end == id + 16 && (*end == 0 || *end == '.') ? 0
								    : -ENOENT;
}

static enum mfs_folder_kind kind_of(const char *klass)
{
	if (!klass || !*klass || !strcmp(klass, "IPF.Note") ||
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

/* One row of the hierarchy table. */
struct node {
	uint64_t fid, parent;
	char *name;
	enum mfs_folder_kind kind;
};

static void node_free(gpointer p)
{
	struct node *n = p;

	g_free(n->name);
	g_free(n);
}

static void take_rows(const struct rop_query_rows_resp *r, GPtrArray *nodes)
{
	for (uint16_t i = 0; i < r->row_count; i++) {
		const struct mapi_props *p = &r->rows[i].props;
		const struct mapi_value *fid = mapi_props_get_tag(
			p, MAPI_TAG_FOLDER_ID);
		const struct mapi_value *par = mapi_props_get_tag(
			p, MAPI_TAG_PARENT_FOLDER_ID);
		const char *name = mapi_props_str(p,
						  MAPI_TAG_ID(MAPI_TAG_DISPLAY_NAME));
		if (!fid || !par || !name)
			continue;
		struct node *n = g_new0(struct node, 1);
		n->fid = (uint64_t)fid->v.i8;
		n->parent = (uint64_t)par->v.i8;
		n->name = g_strdup(name);
		n->kind = kind_of(mapi_props_str(
			p, MAPI_TAG_ID(MAPI_TAG_CONTAINER_CLASS)));
		g_ptr_array_add(nodes, n);
	}
}

/* Read the answers of OpenFolder, GetHierarchyTable and SetColumns.
 * Returns 0 or -errno with `e` filled. */
static int read_open(struct mapic_exec *x, struct mfs_error *e)
{
	struct mapi_rd *rd = mapic_exec_rd(x);
	struct rop_open_folder_resp of;
	struct rop_get_table_resp gt;
	struct rop_table_status_resp sc;
	int rc;

	if ((rc = rop_open_folder_resp_read(rd, &of)) < 0)
		return mapic_exec_bad(x, "OpenFolder", rc, e);
	uint32_t rv = of.head.rv;
	rop_open_folder_resp_clear(&of);
	if (rv)
		return mapic_exec_failed(x, "OpenFolder (IPM subtree)", rv,
					 MFS_ERR_ACCOUNT, e);
	if ((rc = rop_get_hierarchy_table_resp_read(rd, &gt)) < 0)
		return mapic_exec_bad(x, "GetHierarchyTable", rc, e);
	if (gt.head.rv)
		return mapic_exec_failed(x, "GetHierarchyTable", gt.head.rv,
					 MFS_ERR_ACCOUNT, e);
	if ((rc = rop_set_columns_resp_read(rd, &sc)) < 0)
		return mapic_exec_bad(x, "SetColumns", rc, e);
	if (sc.head.rv)
		return mapic_exec_failed(x, "SetColumns", sc.head.rv,
					 MFS_ERR_ACCOUNT, e);
	return 0;
}

/* Every row of the IPM subtree's hierarchy table (with Depth), in
 * `nodes`.  Returns 0 or -errno with `e` filled. */
static int hierarchy(struct mapic_session *s, uint64_t ipm, GPtrArray *nodes,
		     struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(s);
	int rc;

	mapic_exec_begin(x);
	GByteArray *b = mapic_exec_buf(x);
	uint8_t logon = mapic_exec_logon(x);
	uint8_t folder = mapic_exec_out(x), tbl = mapic_exec_out(x);
	rop_open_folder_req_write(b, &(struct rop_open_folder_req){
		.input_handle_index = logon, .output_handle_index = folder,
		.folder_id = ipm });
	rop_get_hierarchy_table_req_write(b, &(struct rop_get_table_req){
		.input_handle_index = folder, .output_handle_index = tbl,
		.table_flags = ROP_TABLE_USE_UNICODE | ROP_TABLE_DEPTH });
	rop_set_columns_req_write(b, &(struct rop_set_columns_req){
		.input_handle_index = tbl, .n_cols = G_N_ELEMENTS(cols),
		.cols = (uint32_t *)cols });
	if ((rc = mapic_exec_run(x, e)) < 0 || (rc = read_open(x, e)) < 0)
		goto out;
	uint32_t th = mapic_exec_handle(x, tbl);
	if ((rc = mapic_exec_end(x, e)) < 0)
		goto out;
	for (int q = 0;; q++) {
		struct rop_query_rows_resp r;

		if (q == QUERIES_MAX) {
			rc = mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
					   MFS_ERR_TRANSIENT, "QueryRows of "
					   "the folder list: no end after %d "
					   "queries", QUERIES_MAX);
			goto out;
		}
		mapic_exec_begin(x);
		rop_query_rows_req_write(mapic_exec_buf(x),
					 &(struct rop_query_rows_req){
			.input_handle_index = mapic_exec_in(x, th),
			.forward_read = 1, .row_count = ROWS_PER_QUERY });
		if ((rc = mapic_exec_run(x, e)) < 0)
			goto out;
		rc = rop_query_rows_resp_read(mapic_exec_rd(x), &r, cols,
					      G_N_ELEMENTS(cols));
		if (rc < 0) {
			rc = mapic_exec_bad(x, "QueryRows", rc, e);
			goto out;
		}
		if (r.head.rv) {
			uint32_t rv = r.head.rv;
			rop_query_rows_resp_clear(&r);
			rc = mapic_exec_failed(x, "QueryRows", rv,
					       MFS_ERR_ACCOUNT, e);
			goto out;
		}
		take_rows(&r, nodes);
		bool done = r.row_count == 0 || r.origin == 2;
		rop_query_rows_resp_clear(&r);
		if ((rc = mapic_exec_end(x, e)) < 0 || done)
			goto out;
	}
out:
	mapic_exec_free(&x);
	return rc;
}

struct walk {
	struct mfs_backend *be;
	GHashTable *children;	/* parent fid -> GPtrArray of node */
	GHashTable *visited;	/* fids walked into */
	uint64_t ids[ROP_LOGON_N_FOLDERS];
	GHashTable *out;	/* path -> struct mapic_folder */
	GPtrArray *order;	/* of struct mapic_folder *, borrowed */
};

static const char *special_of(const struct walk *w, uint64_t fid)
{
	if (fid == w->ids[MAPIC_FID_SENT])
		return "\\Sent";
	if (fid == w->ids[MAPIC_FID_DELETED])
		return "\\Trash";
	return NULL;
}

static void walk(struct walk *w, uint64_t parent, const char *prefix,
		 int depth)
{
	GPtrArray *kids = g_hash_table_lookup(w->children, &parent);

	if (!kids || depth > DEPTH_MAX)
		return;
	for (guint i = 0; i < kids->len; i++) {
		struct node *n = kids->pdata[i];
		if (n->kind == MFS_FOLDER_NONE ||
		    n->fid == w->ids[MAPIC_FID_OUTBOX] ||
		    !g_hash_table_add(w->visited, &n->fid))
			continue;
		char *comp = depth == 0 && n->fid == w->ids[MAPIC_FID_INBOX]
			? g_strdup("INBOX") : name_escape_at(n->name, depth);
		char *path = *prefix ? g_strconcat(prefix, "/", comp, NULL)
				     : g_strdup(comp);
		g_free(comp);
		if (g_hash_table_contains(w->out, path)) {
			log_warnx("%s: two folders show as %s; the second is "
				  "left out", w->be->conf.name, path);
			g_free(path);
			continue;
		}
		struct mapic_folder *f = g_new0(struct mapic_folder, 1);
		f->path = path;
		f->fid = n->fid;
		f->kind = n->kind;
		f->special = g_strdup(special_of(w, n->fid));
		g_hash_table_replace(w->out, f->path, f);
		g_ptr_array_add(w->order, f);
		walk(w, n->fid, path, depth + 1);
	}
}

static GPtrArray *infos_of(GPtrArray *order)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_folder_info_free);

	for (guint i = 0; i < order->len; i++) {
		const struct mapic_folder *f = order->pdata[i];
		struct mfs_folder_info *fi = mfs_folder_info_new(f->path,
								 f->kind);
		fi->special = g_strdup(f->special);
		g_ptr_array_add(out, fi);
	}
	return out;
}

int mapic_list_folders(struct mfs_backend *be, GPtrArray **folders_r,
		       struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	GPtrArray *nodes = g_ptr_array_new_with_free_func(node_free);
	struct walk w = { .be = be };
	int rc;

	if ((rc = mapic_backend_session(be, &s, e)) < 0 ||
	    (rc = mapic_session_open(s, e)) < 0)
		goto out;
	g_mutex_lock(&s->lock);
	memcpy(w.ids, s->folder_ids, sizeof(w.ids));
	g_mutex_unlock(&s->lock);
	if ((rc = hierarchy(s, w.ids[MAPIC_FID_IPM_SUBTREE], nodes, e)) < 0)
		goto out;
	w.children = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
					   (GDestroyNotify)g_ptr_array_unref);
	w.visited = g_hash_table_new(g_int64_hash, g_int64_equal);
	w.out = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
				      mapic_folder_free);
	w.order = g_ptr_array_new();
	for (guint i = 0; i < nodes->len; i++) {
		struct node *n = nodes->pdata[i];
		GPtrArray *kids = g_hash_table_lookup(w.children, &n->parent);
		if (!kids) {
			kids = g_ptr_array_new();
			g_hash_table_insert(w.children, &n->parent, kids);
		}
		g_ptr_array_add(kids, n);
	}
	walk(&w, w.ids[MAPIC_FID_IPM_SUBTREE], "", 0);
	if (folders_r)
		*folders_r = infos_of(w.order);
	g_mutex_lock(&be->lock);
	g_hash_table_unref(be->folders);
	be->folders = w.out;
	g_mutex_unlock(&be->lock);
	g_ptr_array_unref(w.order);
	g_hash_table_unref(w.visited);
	g_hash_table_unref(w.children);
out:
	g_ptr_array_unref(nodes);
	return rc;
}

int mapic_folder_fid(struct mfs_backend *be, const char *path,
		     uint64_t *fid_r, struct mfs_error *e)
{
	for (int pass = 0; pass < 2; pass++) {
		g_mutex_lock(&be->lock);
		struct mapic_folder *f = g_hash_table_lookup(be->folders,
							     path);
		if (f)
			*fid_r = f->fid;
		g_mutex_unlock(&be->lock);
		if (f)
			return 0;
		int rc = pass == 0 ? mapic_list_folders(be, NULL, e) : 0;
		if (rc < 0)
			return rc;
	}
	return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
			     "%s: no such folder on the server", path);
}
