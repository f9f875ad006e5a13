/*
 * store.c - the embedded store: opening it, its folder tree, and its vtable.
 *
 * Layout: see local-private.h.  Maildir itself: https://cr.yp.to/proto/maildir.html
 * (tmp/ then rename into new/; "unique:2,flags" in cur/).
 */
#include "local-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

static void entry_free(gpointer p)
{
	struct local_entry *en = p;

	g_free(en->file);
	g_free(en);
}

static void folder_free(gpointer p)
{
	struct local_folder *f = p;

	g_hash_table_unref(f->entries);
	g_free(f);
}

char *local_path(struct mfs_backend *be, const char *folder, const char *sub,
		 const char *file)
{
	return g_build_filename(be->root, folder, sub ? sub : file,
				sub ? file : NULL, NULL);
}

const char *local_sub_name(enum local_sub sub)
{
	switch (sub) {
	case LOCAL_SUB_CUR: return "cur";
	case LOCAL_SUB_NEW: return "new";
	case LOCAL_SUB_DIR: break;
	}
	return NULL;
}

/* Whether `path` can name a folder: relative, every part a name that
 * local_check_component accepts.  A dot-directory (.notmuch, the state of
 * `mailfs serve`) is never a folder, even with a cur/ inside, and ".."
 * never leaves the store. */
static gboolean folder_path_ok(const char *path)
{
	g_auto(GStrv) comps = g_strsplit(path, "/", -1);

	for (int i = 0; comps[i]; i++) {
		if (local_check_component(comps[i]) < 0)
			return FALSE;
	}
	return *path != '\0';
}

/* Borrowed; valid while be->lock is held.  Creates the record on demand for a
 * folder that exists on disk but was not seen yet; NULL when there is none
 * (or `path` cannot be one). */
struct local_folder *local_folder_get(struct mfs_backend *be, const char *path)
{
	struct local_folder *f = g_hash_table_lookup(be->folders, path);

	if (f)
		return f;
	if (!folder_path_ok(path))
		return NULL;
	g_autofree char *dir = g_build_filename(be->root, path, NULL);
	enum mfs_folder_kind kind = local_detect_kind(dir);
	if (kind == MFS_FOLDER_NONE)
		return NULL;
	f = g_new0(struct local_folder, 1);
	f->kind = kind;
	f->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   entry_free);
	g_hash_table_insert(be->folders, g_strdup(path), f);
	return f;
}

/* Whether the directory open as `d` is met for the first time in this
 * walk (`dirs`: the set of "device:inode" of those met).  Symbolic links
 * are never followed and the depth is bounded, but a bind mount can show a
 * directory a second time (the store inside itself): it is one folder, so
 * it is listed once. */
static bool first_visit(GHashTable *dirs, DIR *d)
{
	struct stat sb;

	if (fstat(dirfd(d), &sb) != 0)
		return true;
	return g_hash_table_add(dirs, g_strdup_printf("%ju:%ju",
						      (uintmax_t)sb.st_dev,
						      (uintmax_t)sb.st_ino));
}

/* Walk the tree below `rel`; record folders with their kind. */
static void scan_dir(struct mfs_backend *be, GHashTable *seen,
		     GHashTable *dirs, const char *rel, int depth)
{
	g_autofree char *dir = g_build_filename(be->root, rel, NULL);
	DIR *d;
	struct dirent *de;
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;

	if (depth > 64) {
		log_warnx("store %s: folders nested deeper than 64 levels at "
			  "%s are not shown", be->root, rel);
		return;
	}
	d = opendir(dir);
	if (d && !first_visit(dirs, d)) {
		log_warnx("store %s: %s is a directory met before at another "
			  "place (a bind mount?); it is shown once only",
			  be->root, rel);
		closedir(d);
		return;
	}
	if (*rel) {
		kind = local_detect_kind(dir);
		g_hash_table_insert(seen, g_strdup(rel), GINT_TO_POINTER(kind));
	}
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if ((kind == MFS_FOLDER_MAIL || !*rel) &&
		    (!strcmp(de->d_name, "cur") || !strcmp(de->d_name, "new") ||
		     !strcmp(de->d_name, "tmp")))
			continue;
		g_autofree char *child = *rel ? g_build_filename(rel,
					 de->d_name, NULL)
					      : g_strdup(de->d_name);
		if (de->d_type == DT_UNKNOWN) {
			struct stat sb;
			g_autofree char *full = g_build_filename(be->root,
								 child, NULL);
			if (lstat(full, &sb) != 0 || !S_ISDIR(sb.st_mode))
				continue;
		}
		scan_dir(be, seen, dirs, child, depth + 1);
	}
	closedir(d);
}

/* Bring be->folders in line with what a scan saw. */
static void apply_scan(struct mfs_backend *be, GHashTable *seen)
{
	GHashTableIter it;
	gpointer key, val;

	g_mutex_lock(&be->lock);
	/* forget folders that are gone or changed kind */
	g_hash_table_iter_init(&it, be->folders);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		struct local_folder *f = val;
		gpointer k;
		if (!g_hash_table_lookup_extended(seen, key, NULL, &k) ||
		    GPOINTER_TO_INT(k) != (int)f->kind)
			g_hash_table_iter_remove(&it);
	}
	g_hash_table_iter_init(&it, seen);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		if (GPOINTER_TO_INT(val) != MFS_FOLDER_NONE)
			local_folder_get(be, key);
	}
	g_mutex_unlock(&be->lock);
}

static GHashTable *scan_all(struct mfs_backend *be)
{
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, NULL);
	GHashTable *dirs = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, NULL);

	scan_dir(be, seen, dirs, "", 0);
	g_hash_table_unref(dirs);
	apply_scan(be, seen);
	return seen;
}

int local_scan_folders(struct mfs_backend *be)
{
	g_hash_table_unref(scan_all(be));
	return 0;
}

/* Store paths sort so that a parent comes before its children. */
static gint folder_cmp(gconstpointer a, gconstpointer b)
{
	const struct mfs_folder_info *x = *(struct mfs_folder_info *const *)a;
	const struct mfs_folder_info *y = *(struct mfs_folder_info *const *)b;

	return strcmp(x->path, y->path);
}

int local_list_folders(struct mfs_backend *be, GPtrArray **folders_r,
		       struct mfs_error *e)
{
	GHashTable *seen = scan_all(be);
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_folder_info_free);
	GHashTableIter it;
	gpointer key, val;

	g_hash_table_iter_init(&it, seen);
	while (g_hash_table_iter_next(&it, &key, &val))
		g_ptr_array_add(out, mfs_folder_info_new(key,
							 GPOINTER_TO_INT(val)));
	g_hash_table_unref(seen);
	g_ptr_array_sort(out, folder_cmp);
	*folders_r = out;
	return 0;
}

/* A store must be a directory we can create files in: try it. */
int local_probe_writable(const char *root, GError **err)
{
	g_autofree char *probe = g_build_filename(root, ".mailfs-probe.XXXXXX",
						  NULL);
	int fd = g_mkstemp_full(probe, O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0) {
		int rc = -errno;
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
			    "store %s is not writable: %s", root,
			    g_strerror(-rc));
		return rc;
	}
	close(fd);
	unlink(probe);
	return 0;
}

static gboolean dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	gboolean empty = TRUE;

	if (!d)
		return FALSE;
	while (empty && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = FALSE;
	}
	closedir(d);
	return empty;
}

static int local_open(const struct mfs_account *acct,
		      struct mfs_backend **be_r, GError **err)
{
	struct stat sb;
	g_autofree char *root = NULL;
	int rc = 0;

	if (!acct->store || !*acct->store) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "account '%s': no store directory", acct->name);
		return -EINVAL;
	}
	root = g_canonicalize_filename(acct->store, NULL);
	if (stat(root, &sb) != 0) {
		if (errno != ENOENT || (rc = file_mkdir_p(root, 0700)) < 0) {
			rc = errno == ENOENT ? rc : -errno;
			g_set_error(err, G_FILE_ERROR,
				    g_file_error_from_errno(-rc),
				    "store %s: %s", root, g_strerror(-rc));
			return rc;
		}
	} else if (!S_ISDIR(sb.st_mode)) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOTDIR,
			    "store %s is not a directory", root);
		return -ENOTDIR;
	}
	if ((rc = local_probe_writable(root, err)) < 0)
		return rc;
	if (dir_is_empty(root) && (rc = local_seed(root, err)) < 0)
		return rc;
	*be_r = local_backend_new(root);
	return 0;
}

struct mfs_backend *local_backend_new(const char *root)
{
	struct mfs_backend *be = g_new0(struct mfs_backend, 1);

	be->root = g_strdup(root);
	g_mutex_init(&be->lock);
	be->folders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    folder_free);
	local_scan_folders(be);
	return be;
}

void local_close(struct mfs_backend **bep)
{
	struct mfs_backend *be = *bep;

	if (!be)
		return;
	local_watch_stop(be);
	g_hash_table_unref(be->folders);
	g_mutex_clear(&be->lock);
	g_free(be->root);
	g_free(be);
	*bep = NULL;
}

static int local_space(struct mfs_backend *be, uint64_t *total_r,
		       uint64_t *avail_r)
{
	struct statvfs sv;

	if (statvfs(be->root, &sv) != 0)
		return -errno;
	*total_r = (uint64_t)sv.f_blocks * sv.f_frsize;
	*avail_r = (uint64_t)sv.f_bavail * sv.f_frsize;
	return 0;
}

static int local_watch(struct mfs_backend *be, mfs_change_fn fn, void *data)
{
	return local_watch_start(be, fn, data);
}

/*
 * The changes of backend.h.  On a local disk one at a time costs nothing,
 * so a batch of more than one is -ENOTSUP (backend.h) and the caller
 * makes them one by one; one is the single change of items.c.
 */
static int local_append_items(struct mfs_backend *be, const char *folder,
			      const struct mfs_append *in, size_t n,
			      GPtrArray **items_r, struct mfs_error *e)
{
	struct mfs_item *it = NULL;
	int rc;

	if (n != 1)
		return -ENOTSUP;
	rc = local_append(be, folder, in->fd, in->hint, in->flags, in->date,
			  &it, e);
	if (rc < 0)
		return rc;
	*items_r = mfs_items_one(it);
	return 0;
}

static int local_set_flags_items(struct mfs_backend *be, const char *folder,
				 const char *const *ids, const uint64_t *flags,
				 size_t n, int *rcs, struct mfs_error *e)
{
	if (n != 1)
		return -ENOTSUP;
	return rcs[0] = local_set_flags(be, folder, ids[0], flags[0], e);
}

static int local_remove_items(struct mfs_backend *be, const char *folder,
			      const char *const *ids, size_t n,
			      struct mfs_error *e)
{
	if (n != 1)
		return -ENOTSUP;
	return local_remove(be, folder, ids[0], e);
}

static int local_move_items(struct mfs_backend *be, const char *folder,
			    const char *const *ids, const char *dest,
			    const uint64_t *flags, size_t n, bool move,
			    GPtrArray **items_r, struct mfs_error *e)
{
	struct mfs_item *it = NULL;
	int rc;

	if (n != 1)
		return -ENOTSUP;
	rc = (move ? local_move : local_copy)(be, folder, ids[0], dest,
					      flags[0], &it, e);
	if (rc < 0)
		return rc;
	*items_r = mfs_items_one(it);
	return 0;
}

const struct mfs_backend_ops local_backend_ops = {
	.name = "local",
	.caps = MFS_CAP_WATCH | MFS_CAP_COPY | MFS_CAP_FOLDERS,
	.open = local_open,
	.close = local_close,
	.list_folders = local_list_folders,
	.sync = local_sync,
	.fetch = local_fetch,
	.append = local_append_items,
	.set_flags = local_set_flags_items,
	.remove = local_remove_items,
	.move = local_move_items,
	.create_folder = local_create_folder,
	.rename_folder = local_rename_folder,
	.delete_folder = local_delete_folder,
	.watch = local_watch,
	.space = local_space,
	.check = local_check,
};
