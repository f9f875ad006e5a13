/*
 * folder.c - the folder tree a MAPI client sees, RopOpenFolder and
 * RopGetHierarchyTable.
 *
 * Specs: MS-OXCSTOR 2.2.1.1.3 and MS-OXOSFLD (the special folders: the
 * root holds the system folders and the IPM subtree, "Top of Information
 * Store", which holds the user's folders); MS-OXCROPS 2.2.4.1 and
 * 2.2.4.13; MS-OXCFOLD 2.2.2.2 (folder properties); MS-OXCTABL 2.2.2.1.1
 * (a hierarchy table with the Depth flag lists every level, with
 * PidTagDepth).
 *
 * The store's folders hang below the IPM subtree as their paths nest.
 * The special folders the store does not have (the root's system
 * folders, Outbox, and Sent Items or Deleted Items when the store has no
 * such folder) are the server's own and hold nothing.
 */
#include <errno.h>
#include <string.h>

#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "mapid-private.h"

static void folder_clear(gpointer p)
{
	struct mapid_folder *f = p;

	g_free(f->name);
	g_free(f->path);
}

static void add(GArray *t, uint64_t c, uint64_t parent, const char *name,
		const char *path, const char *cls, unsigned depth)
{
	struct mapid_folder f = {
		.counter = c, .parent = parent, .name = g_strdup(name),
		.path = g_strdup(path), .container_class = cls, .depth = depth,
	};

	g_array_append_val(t, f);
}

static const struct {
	uint64_t c;
	const char *name;
} system_folders[] = {
	{ MAPID_DEFERRED_ACTION, "Deferred Action" },
	{ MAPID_SPOOLER_QUEUE, "Spooler Queue" },
	{ MAPID_SHORTCUTS, "Shortcuts" },
	{ MAPID_FINDER, "Finder" },
	{ MAPID_VIEWS, "Views" },
	{ MAPID_COMMON_VIEWS, "Common Views" },
	{ MAPID_SCHEDULE, "Schedule" },
};

static const char *class_of(enum mfs_folder_kind k)
{
	switch (k) {
	case MFS_FOLDER_CONTACTS:
		return "IPF.Contact";
	case MFS_FOLDER_CALENDAR:
		return "IPF.Appointment";
	case MFS_FOLDER_MAIL:
	case MFS_FOLDER_OUTBOX:
		return "IPF.Note";
	default:
		return NULL;
	}
}

static int by_path(gconstpointer a, gconstpointer b)
{
	const struct mfs_folder_info *x = *(struct mfs_folder_info *const *)a;
	const struct mfs_folder_info *y = *(struct mfs_folder_info *const *)b;

	return strcmp(x->path, y->path);
}

static bool tree_has(GArray *t, uint64_t c)
{
	for (guint i = 0; i < t->len; i++)
		if (g_array_index(t, struct mapid_folder, i).counter == c)
			return true;
	return false;
}

/* The store's folders below the IPM subtree, parents first (sorted paths
 * put a parent before its children). */
static void add_store_folders(GArray *t, GPtrArray *folders)
{
	g_ptr_array_sort(folders, by_path);
	for (guint i = 0; i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		const char *slash = strrchr(fi->path, '/');
		uint64_t parent = MAPID_IPM_SUBTREE;
		unsigned depth = 2;
		uint64_t c;
		const char *name;

		if (slash) {
			g_autofree char *pp = g_strndup(fi->path,
						(gsize)(slash - fi->path));
			parent = 0;
			for (guint j = 0; j < t->len; j++) {
				struct mapid_folder *p = &g_array_index(
					t, struct mapid_folder, j);
				if (p->path && !strcmp(p->path, pp)) {
					parent = p->counter;
					depth = p->depth + 1;
				}
			}
			if (!parent)
				continue;	/* under a folder not listed */
		}
		c = mapid_folder_counter(fi->path, fi->special);
		if (tree_has(t, c))
			continue;
		name = slash ? slash + 1 : fi->path;
		if (c == MAPID_INBOX)
			name = "Inbox";
		add(t, c, parent, name, fi->path, class_of(fi->kind), depth);
	}
}

int mapid_folder_tree(const struct serve_ctx *ctx, GArray **tree_r)
{
	GPtrArray *folders = NULL;
	GArray *t;
	int rc = mfs_store_list_folders(ctx->store, &folders, NULL);

	if (rc < 0)
		return rc;
	t = g_array_new(FALSE, TRUE, sizeof(struct mapid_folder));
	g_array_set_clear_func(t, folder_clear);
	add(t, MAPID_ROOT, 0, "", NULL, NULL, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(system_folders); i++)
		add(t, system_folders[i].c, MAPID_ROOT, system_folders[i].name,
		    NULL, NULL, 1);
	add(t, MAPID_IPM_SUBTREE, MAPID_ROOT, "Top of Information Store", NULL,
	    NULL, 1);
	add_store_folders(t, folders);
	g_ptr_array_unref(folders);
	if (!tree_has(t, MAPID_OUTBOX))
		add(t, MAPID_OUTBOX, MAPID_IPM_SUBTREE, "Outbox", NULL,
		    "IPF.Note", 2);
	if (!tree_has(t, MAPID_SENT))
		add(t, MAPID_SENT, MAPID_IPM_SUBTREE, "Sent Items", NULL,
		    "IPF.Note", 2);
	if (!tree_has(t, MAPID_DELETED))
		add(t, MAPID_DELETED, MAPID_IPM_SUBTREE, "Deleted Items", NULL,
		    "IPF.Note", 2);
	*tree_r = t;
	return 0;
}

char *mapid_fid_path(const struct serve_ctx *ctx, uint64_t fid)
{
	uint64_t c = mapid_id_counter(fid);
	char *path = c ? mapid_folder_path(c) : NULL;
	GArray *t = NULL;

	if (path || !c || mapid_folder_tree(ctx, &t) < 0)
		return path;
	g_array_unref(t);
	return mapid_folder_path(c);
}

void mapid_folder_counts(const struct serve_ctx *ctx,
			 const struct mapid_folder *f, int32_t *total_r,
			 int32_t *unread_r)
{
	struct mfs_sync_result *res = NULL;

	*total_r = *unread_r = 0;
	if (!f->path || mfs_store_sync(ctx->store, f->path, NULL, &res,
				       NULL) < 0)
		return;
	for (guint i = 0; i < res->changed->len; i++) {
		const struct mfs_item *it = res->changed->pdata[i];
		(*total_r)++;
		if (!(it->flags & MFS_FLAG_SEEN))
			(*unread_r)++;
	}
	mfs_sync_result_free(&res);
}

/* The folder of counter `c` in `t`, or NULL. */
static const struct mapid_folder *find(GArray *t, uint64_t c)
{
	for (guint i = 0; i < t->len; i++)
		if (g_array_index(t, struct mapid_folder, i).counter == c)
			return &g_array_index(t, struct mapid_folder, i);
	return NULL;
}

int mapid_rop_open_folder(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out)
{
	struct rop_open_folder_req q;
	struct rop_open_folder_resp s = { 0 };
	struct mapid_obj *parent, *o;
	GArray *t = NULL;
	int err = rop_open_folder_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_OPEN_FOLDER;
	s.head.handle_index = q.output_handle_index;
	parent = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (parent && parent->kind == MAPID_OBJ_TABLE)
		s.head.rv = MAPI_E_INVALID_PARAMETER;
	else if (parent && mapid_folder_tree(rc->ctx, &t) < 0)
		s.head.rv = MAPI_E_CALL_FAILED;
	else if (parent && !find(t, mapid_id_counter(q.folder_id)))
		s.head.rv = MAPI_E_NOT_FOUND;
	else if (parent) {
		o = g_new0(struct mapid_obj, 1);
		o->kind = MAPID_OBJ_FOLDER;
		o->fid = q.folder_id;
		s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	}
	if (t)
		g_array_unref(t);
	rop_open_folder_resp_write(out, &s);
	return 0;
}

/* The hierarchy row of `f`. */
static struct mapi_props *folder_row(const struct serve_ctx *ctx, GArray *t,
				     const struct mapid_folder *f,
				     unsigned depth, bool with_depth)
{
	struct mapi_props *p = g_new0(struct mapi_props, 1);
	int32_t total, unread;
	bool subs = false;

	for (guint i = 0; i < t->len && !subs; i++)
		subs = g_array_index(t, struct mapid_folder, i).parent ==
		       f->counter;
	mapid_folder_counts(ctx, f, &total, &unread);
	mapi_props_set_i8(p, MAPI_TAG_FOLDER_ID,
			  (int64_t)mapid_id_make(f->counter));
	mapi_props_set_i8(p, MAPI_TAG_PARENT_FOLDER_ID,
			  (int64_t)mapid_id_make(f->parent));
	mapi_props_set_str(p, MAPI_TAG_DISPLAY_NAME, f->name);
	mapi_props_set_l(p, MAPI_TAG_CONTENT_COUNT, total);
	mapi_props_set_l(p, MAPI_TAG_CONTENT_UNREAD_COUNT, unread);
	mapi_props_set_b(p, MAPI_TAG_SUBFOLDERS, subs);
	mapi_props_set_l(p, MAPI_TAG_FOLDER_TYPE, 1);
	if (f->container_class)
		mapi_props_set_str(p, MAPI_TAG_CONTAINER_CLASS,
				   f->container_class);
	if (with_depth)
		mapi_props_set_l(p, MAPI_TAG_DEPTH, (int32_t)depth);
	return p;
}

/* The rows of `parent`'s children, and with `deep` of every level below
 * it, each after its parent. */
static void add_children(const struct serve_ctx *ctx, GArray *t,
			 uint64_t parent, unsigned depth, bool deep,
			 GPtrArray *rows)
{
	for (guint i = 0; i < t->len; i++) {
		const struct mapid_folder *f =
			&g_array_index(t, struct mapid_folder, i);
		if (f->parent != parent || f->counter == parent)
			continue;
		g_ptr_array_add(rows, folder_row(ctx, t, f, depth, deep));
		if (deep && depth < 64)
			add_children(ctx, t, f->counter, depth + 1, deep, rows);
	}
}

static void props_free(gpointer p)
{
	mapi_props_clear(p);
	g_free(p);
}

int mapid_rop_get_hierarchy_table(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				  GByteArray *out)
{
	struct rop_get_table_req q;
	struct rop_get_table_resp s = { 0 };
	struct mapid_obj *f, *o;
	GArray *t = NULL;
	int err = rop_get_hierarchy_table_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_GET_HIERARCHY_TABLE;
	s.head.handle_index = q.output_handle_index;
	f = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (f && f->kind != MAPID_OBJ_FOLDER)
		s.head.rv = MAPI_E_INVALID_PARAMETER;
	else if (f && mapid_folder_tree(rc->ctx, &t) < 0)
		s.head.rv = MAPI_E_CALL_FAILED;
	else if (f) {
		o = g_new0(struct mapid_obj, 1);
		o->kind = MAPID_OBJ_TABLE;
		o->hierarchy = true;
		o->fid = f->fid;
		o->table_flags = q.table_flags;
		o->rows = g_ptr_array_new_with_free_func(props_free);
		add_children(rc->ctx, t, mapid_id_counter(f->fid), 1,
			     q.table_flags & ROP_TABLE_DEPTH, o->rows);
		s.row_count = o->rows->len;
		s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	}
	if (t)
		g_array_unref(t);
	rop_get_hierarchy_table_resp_write(out, &s);
	return 0;
}
