/*
 * fcreate.c - the folders a client makes, removes and moves:
 * RopCreateFolder, RopDeleteFolder and RopMoveFolder.
 *
 * Specs: MS-OXCROPS 2.2.4.2, 2.2.4.3, 2.2.4.7; MS-OXCFOLD 2.2.1.2 (a
 * generic folder, OpenExisting), 2.2.1.3 (DeleteFolderFlags:
 * DEL_MESSAGES, DEL_FOLDERS; by default only an empty folder goes),
 * 2.2.1.7 (RopMoveFolder: a new parent and a new name, sub-folders
 * along); MS-OXCDATA 2.4 (MAPI_E_COLLISION, MAPI_E_FOLDER_CYCLE).
 *
 * A folder the client makes is a store folder made by the store's own
 * function, the one serve's IMAP and EWS create folders with: a mail
 * folder (IPF.Note), below the IPM subtree as a top-level store folder
 * or inside the store folder it was made in.  Names are compared as
 * Exchange compares them, without regard to case; a name the store
 * cannot hold as a folder name (empty, with '/', starting with '.') is
 * MAPI_E_INVALID_PARAMETER.  As the recorded real server answers:
 * CreateFolder with OpenExisting on a name that is there opens that
 * folder and still says IsExistingFolder 0; DeleteFolder of a folder
 * that is no longer there succeeds.  A non-empty folder that the flags
 * do not allow to empty is kept, and PartialCompletion says so.  The
 * special folders (Inbox, Sent Items, Deleted Items, Outbox, the root's)
 * cannot be deleted or moved: MAPI_E_NO_ACCESS.  A folder moved or
 * renamed keeps its FID and the MIDs of its messages (ids.c).
 *
 * RopSetProperties on a folder (MS-OXCPRPT
 * 3.2.5.4) takes PidTagContainerClass: IPF.Contact and IPF.Appointment
 * make the store folder a contacts or calendar folder, which the store
 * can only do to an empty folder (it is made again at its path, keeping
 * its FID); for a folder holding anything, and for every other
 * property, which the store has no place for, the answer is a
 * PropertyProblem MAPI_E_NO_ACCESS, and the folder stays as it is.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "wire/mapi-propval.h"
#include "mapid-private.h"

#define MAPI_E_FOLDER_CYCLE	0x8004060BU
/* DeleteFolderFlags, MS-OXCFOLD 2.2.1.3.1 */
#define DEL_MESSAGES		0x01
#define DEL_FOLDERS		0x04

static bool good_name(const char *name)
{
	return name && *name && name[0] != '.' && !strchr(name, '/') &&
	       strlen(name) <= 255 && g_utf8_validate(name, -1, NULL);
}

static bool same_name(const char *a, const char *b)
{
	g_autofree char *x = g_utf8_casefold(a, -1);
	g_autofree char *y = g_utf8_casefold(b, -1);

	return !strcmp(x, y);
}

/* The child of `parent` named `name` in `t`, or NULL. */
static const struct mapid_folder *child_named(GArray *t, uint64_t parent,
					      const char *name)
{
	for (guint i = 0; i < t->len; i++) {
		const struct mapid_folder *f =
			&g_array_index(t, struct mapid_folder, i);
		if (f->parent == parent && f->counter != parent &&
		    same_name(f->name, name))
			return f;
	}
	return NULL;
}

/* The store path a folder named `name` gets inside `parent`, or NULL
 * when `parent` cannot hold store folders (the root, its system folders,
 * the server's own). */
static char *path_inside(const struct mapid_folder *parent, const char *name)
{
	if (parent->counter == MAPID_IPM_SUBTREE)
		return g_strdup(name);
	if (!parent->path)
		return NULL;
	return g_strconcat(parent->path, "/", name, NULL);
}

static struct mapid_obj *folder_obj(uint64_t counter)
{
	struct mapid_obj *o = g_new0(struct mapid_obj, 1);

	o->kind = MAPID_OBJ_FOLDER;
	o->fid = mapid_id_make(counter);
	return o;
}

/* Long because each of the answers the recorded server gives (a new
 * folder, a collision, OpenExisting) is decided here in turn. */
int mapid_rop_create_folder(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			    GByteArray *out)
{
	struct rop_create_folder_req q;
	struct rop_create_folder_resp s = { 0 };
	const struct mapid_folder *parent, *there;
	g_autofree char *path = NULL;
	GArray *t = NULL;
	int err = rop_create_folder_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_CREATE_FOLDER;
	s.head.handle_index = q.output_handle_index;
	parent = mapid_folder_at(rc, q.input_handle_index, &t, &s.head.rv);
	if (!parent)
		goto answer;
	if (q.folder_type != 1) {
		/* search folders are not kept by this store */
		s.head.rv = MAPI_E_NO_SUPPORT;
		goto answer;
	}
	if (!good_name(q.display_name)) {
		s.head.rv = MAPI_E_INVALID_PARAMETER;
		goto answer;
	}
	there = child_named(t, parent->counter, q.display_name);
	if (there && !q.open_existing) {
		s.head.rv = MAPI_E_COLLISION;
		goto answer;
	}
	if (there) {
		s.folder_id = mapid_id_make(there->counter);
		s.head.rv = mapid_obj_put(rc, q.output_handle_index,
					  folder_obj(there->counter));
		goto answer;
	}
	path = path_inside(parent, q.display_name);
	if (!path) {
		s.head.rv = MAPI_E_NO_ACCESS;
		goto answer;
	}
	{
		struct mfs_error e = { 0 };
		uint64_t c;

		err = mfs_store_create_folder(rc->ctx->store, path,
					      MFS_FOLDER_MAIL, &e);
		if (err == -EEXIST) {
			/* made by another writer since the tree was read */
			s.head.rv = MAPI_E_COLLISION;
			goto answer;
		}
		if (err < 0) {
			log_info("mapi: %s: cannot create folder %s: %s",
				 rc->sess->c.user, path,
				 e.msg[0] ? e.msg : g_strerror(-err));
			s.head.rv = MAPI_E_CALL_FAILED;
			goto answer;
		}
		c = mapid_folder_counter(path, NULL);
		s.folder_id = mapid_id_make(c);
		s.head.rv = mapid_obj_put(rc, q.output_handle_index,
					  folder_obj(c));
	}
answer:
	if (t)
		g_array_unref(t);
	rop_create_folder_req_clear(&q);
	rop_create_folder_resp_write(out, &s);
	return 0;
}

/* Whether `p` is `top` or lies below it. */
static bool under(const char *p, const char *top)
{
	size_t n = strlen(top);

	return !strncmp(p, top, n) && (p[n] == 0 || p[n] == '/');
}

static int deeper_first(gconstpointer a, gconstpointer b)
{
	const char *x = *(const char *const *)a;
	const char *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	return lx != ly ? (lx > ly ? -1 : 1) : strcmp(x, y);
}

/* The number of messages of store folder `path` (0 when it cannot be
 * read, as for a folder that holds only folders). */
static guint message_count(const struct serve_ctx *ctx, const char *path)
{
	GPtrArray *items = NULL;
	g_autofree uint64_t *mids = NULL;
	guint n;

	if (mapid_folder_items(ctx, path, &items, &mids) < 0)
		return 0;
	n = items->len;
	g_ptr_array_unref(items);
	return n;
}

/* Remove the messages of `path`, then the folder.  0 or -errno. */
static int remove_folder(struct mapid_rop_ctx *rc, const char *path)
{
	GPtrArray *items = NULL;
	g_autofree uint64_t *mids = NULL;
	struct mfs_error e = { 0 };
	int err;

	if (mapid_folder_items(rc->ctx, path, &items, &mids) == 0) {
		for (guint i = 0; i < items->len; i++) {
			const struct mfs_item *it = items->pdata[i];
			err = mfs_store_remove(rc->ctx->store, path, it->id,
					       NULL);
			if (err < 0 && err != -ENOENT) {
				g_ptr_array_unref(items);
				return err;
			}
		}
		g_ptr_array_unref(items);
	}
	err = mfs_store_delete_folder(rc->ctx->store, path, &e);
	if (err < 0)
		log_info("mapi: %s: cannot delete folder %s: %s",
			 rc->sess->c.user, path,
			 e.msg[0] ? e.msg : g_strerror(-err));
	else
		mapid_ids_moved(path, NULL);
	return err;
}

/* Delete folder `f` of `t` and what it holds, as `flags` allow.
 * Returns the PartialCompletion: 1 when something was left. */
static uint8_t delete_tree(struct mapid_rop_ctx *rc, GArray *t,
			   const struct mapid_folder *f, uint8_t flags)
{
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	guint messages = 0;
	uint8_t partial = 0;

	for (guint i = 0; i < t->len; i++) {
		const struct mapid_folder *g =
			&g_array_index(t, struct mapid_folder, i);
		if (g->path && under(g->path, f->path))
			g_ptr_array_add(paths, g_strdup(g->path));
	}
	if (paths->len > 1 && !(flags & DEL_FOLDERS))
		return 1;
	for (guint i = 0; i < paths->len && !(flags & DEL_MESSAGES); i++)
		messages += message_count(rc->ctx, paths->pdata[i]);
	if (messages)
		return 1;
	g_ptr_array_sort(paths, deeper_first);
	for (guint i = 0; i < paths->len; i++)
		if (remove_folder(rc, paths->pdata[i]) < 0)
			partial = 1;
	return partial;
}

int mapid_rop_delete_folder(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			    GByteArray *out)
{
	struct rop_delete_folder_req q;
	struct rop_partial_resp s = { 0 };
	const struct mapid_folder *parent, *f;
	GArray *t = NULL;
	int err = rop_delete_folder_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_DELETE_FOLDER;
	s.head.handle_index = q.input_handle_index;
	parent = mapid_folder_at(rc, q.input_handle_index, &t, &s.head.rv);
	f = parent ? mapid_tree_find(t, mapid_id_counter(q.folder_id)) : NULL;
	if (!parent || !f)
		;	/* gone already: done, as a real server says */
	else if (f->parent != parent->counter)
		s.head.rv = MAPI_E_NOT_FOUND;
	else if (f->counter < MAPID_FIRST_DYNAMIC || !f->path)
		s.head.rv = MAPI_E_NO_ACCESS;
	else
		s.partial_completion = delete_tree(rc, t, f, q.flags);
	if (t)
		g_array_unref(t);
	rop_delete_folder_resp_write(out, &s);
	return 0;
}

/* Move or rename `f` of `t` to be `name` inside `dest`.  Returns 0 or
 * the ReturnValue to answer. */
static uint32_t move_to(struct mapid_rop_ctx *rc, GArray *t,
			const struct mapid_folder *f,
			const struct mapid_folder *dest, const char *name)
{
	const struct mapid_folder *there;
	g_autofree char *to = NULL;
	struct mfs_error e = { 0 };
	int err;

	if (f->counter < MAPID_FIRST_DYNAMIC || !f->path)
		return MAPI_E_NO_ACCESS;
	if (!good_name(name))
		return MAPI_E_INVALID_PARAMETER;
	to = path_inside(dest, name);
	if (!to)
		return MAPI_E_NO_ACCESS;
	if (!strcmp(to, f->path))
		return 0;
	if (dest->path && under(dest->path, f->path))
		return MAPI_E_FOLDER_CYCLE;
	there = child_named(t, dest->counter, name);
	if (there && there->counter != f->counter)
		return MAPI_E_COLLISION;
	err = mfs_store_rename_folder(rc->ctx->store, f->path, to, &e);
	if (err == -EEXIST || err == -ENOTEMPTY)
		return MAPI_E_COLLISION;
	if (err < 0) {
		log_info("mapi: %s: cannot move folder %s to %s: %s",
			 rc->sess->c.user, f->path, to,
			 e.msg[0] ? e.msg : g_strerror(-err));
		return MAPI_E_CALL_FAILED;
	}
	mapid_ids_moved(f->path, to);
	return 0;
}

int mapid_rop_move_folder(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out)
{
	struct rop_move_folder_req q;
	struct rop_partial_resp s = { 0 };
	const struct mapid_folder *src, *dest = NULL, *f = NULL;
	GArray *t = NULL, *t2 = NULL;
	uint32_t rv;
	int err = rop_move_folder_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_MOVE_FOLDER;
	s.head.handle_index = q.source_handle_index;
	src = mapid_folder_at(rc, q.source_handle_index, &t, &s.head.rv);
	if (src && !mapid_obj_at(rc, q.dest_handle_index, &rv)) {
		s.head.rv = ROP_E_DST_NULL_OBJECT;
		s.dest_handle_index = q.dest_handle_index;
	} else if (src) {
		dest = mapid_folder_at(rc, q.dest_handle_index, &t2,
				       &s.head.rv);
	}
	if (dest) {
		/* both looked up in one tree */
		dest = mapid_tree_find(t, dest->counter);
		f = mapid_tree_find(t, mapid_id_counter(q.folder_id));
		if (!dest || !f || f->parent != src->counter)
			s.head.rv = MAPI_E_NOT_FOUND;
		else
			s.head.rv = move_to(rc, t, f, dest, q.new_name);
	}
	if (t)
		g_array_unref(t);
	if (t2)
		g_array_unref(t2);
	rop_move_folder_req_clear(&q);
	rop_move_folder_resp_write(out, &s);
	return 0;
}

/* The store kind a container class stands for. */
static enum mfs_folder_kind kind_of_class(const char *cls)
{
	if (!g_ascii_strncasecmp(cls, "IPF.Contact", 11))
		return MFS_FOLDER_CONTACTS;
	if (!g_ascii_strncasecmp(cls, "IPF.Appointment", 15))
		return MFS_FOLDER_CALENDAR;
	return MFS_FOLDER_MAIL;
}

/* Whether folder `f` of tree `t` holds nothing: no sub-folder, no
 * message. */
static bool folder_empty(struct mapid_rop_ctx *rc, GArray *t,
			 const struct mapid_folder *f)
{
	GPtrArray *items = NULL;
	g_autofree uint64_t *mids = NULL;
	bool empty;

	for (guint i = 0; i < t->len; i++)
		if (g_array_index(t, struct mapid_folder, i).parent ==
		    f->counter)
			return false;
	if (mapid_folder_items(rc->ctx, f->path, &items, &mids) < 0)
		return false;
	empty = items->len == 0;
	g_ptr_array_unref(items);
	return empty;
}

/* Folder `f` made again as a store folder of kind `k`: the store has no
 * change of kind, so an empty folder is removed and made anew at the
 * same path (which keeps its FID).  0 or -errno; on failure the folder
 * is made again as it was. */
static int remake(struct mapid_rop_ctx *rc, const struct mapid_folder *f,
		  enum mfs_folder_kind k)
{
	struct mfs_error e = { 0 };
	int err = mfs_store_delete_folder(rc->ctx->store, f->path, &e);

	if (err < 0)
		return err;
	err = mfs_store_create_folder(rc->ctx->store, f->path, k, &e);
	if (err < 0) {
		log_info("mapi: %s: folder %s cannot be a %s folder: %s",
			 rc->sess->c.user, f->path, mfs_folder_kind_name(k),
			 e.msg[0] ? e.msg : g_strerror(-err));
		(void)mfs_store_create_folder(rc->ctx->store, f->path,
					      kind_of_class(f->container_class
							    ? f->container_class
							    : "IPF.Note"),
					      NULL);
	}
	return err;
}

uint32_t mapid_folder_set_props(struct mapid_rop_ctx *rc,
				struct mapid_obj *o,
				const struct mapi_props *p,
				struct rop_problems_resp *s)
{
	GArray *t = NULL;
	const struct mapid_folder *f;

	if (mapid_folder_tree(rc->ctx, &t) < 0)
		return MAPI_E_CALL_FAILED;
	f = mapid_tree_find(t, mapid_id_counter(o->fid));
	if (!f) {
		g_array_unref(t);
		return MAPI_E_NOT_FOUND;
	}
	s->problems = g_new0(struct mapi_problem, p->n + 1);
	for (size_t i = 0; i < p->n; i++) {
		const struct mapi_value *v = &p->v[i];
		uint32_t err = MAPI_E_NO_ACCESS;

		if (MAPI_TAG_ID(v->tag) ==
		    MAPI_TAG_ID(MAPI_TAG_CONTAINER_CLASS) &&
		    MAPI_TAG_TYPE(v->tag) == MAPI_PT_UNICODE && f->path) {
			enum mfs_folder_kind want = kind_of_class(v->v.str);
			enum mfs_folder_kind have = kind_of_class(
				f->container_class ? f->container_class
						   : "IPF.Note");

			if (want == have)
				err = 0;
			else if (folder_empty(rc, t, f) &&
				 remake(rc, f, want) == 0)
				err = 0;
		}
		if (err)
			s->problems[s->n_problems++] = (struct mapi_problem){
				.index = (uint16_t)i, .tag = v->tag,
				.err = err };
	}
	g_array_unref(t);
	return 0;
}
