/*
 * tree.c - changes to the tree but renames (rename.c): the core of mkdir,
 * rmdir, link and symlink.  A directory made or removed is a folder made or
 * removed in the store; in the dot tree (dotdir.c) each is the call of the
 * same name on local disk.
 */
#include "fs-private.h"

#include <errno.h>
#include <string.h>

#include "log.h"

static bool has_staged_below(struct fs *fs, const char *path)
{
	GHashTableIter it;
	gpointer val;

	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct fs_folder *f = val;
		if (fs_path_under(f->path, path) &&
		    g_hash_table_size(f->staged) > 0)
			return true;
	}
	return false;
}

int fs_folder_path(struct fs *fs, struct fs_node *parent,
		       const char *name, char **path_r,
		       enum mfs_folder_kind *kind_r)
{
	struct fs_folder *pf = NULL;

	if (parent->type == FS_N_DIR)
		pf = fs_folder_find(fs, parent->folder);
	if (parent->type == FS_N_ROOT) {
		*path_r = g_strdup(name);
	} else if (pf && pf->kind == MFS_FOLDER_OUTBOX) {
		return -EPERM;	/* it holds messages to send, no folders */
	} else if (pf && fs_dir_read_only(fs, pf->path)) {
		return -EROFS;
	} else if (pf) {
		*path_r = fs_join(pf->path, name);
	} else {
		return parent->type == FS_N_DIR ? -ENOENT : -EPERM;
	}
	*kind_r = pf && (pf->kind == MFS_FOLDER_CONTACTS ||
			 pf->kind == MFS_FOLDER_CALENDAR) ? pf->kind
							  : MFS_FOLDER_MAIL;
	return 0;
}

int fs_mkdir(struct fs *fs, fuse_ino_t parent, const char *name,
	     mode_t mode, struct fs_entry *ent)
{
	struct fs_node *p, *node = NULL;
	g_autofree char *path = NULL;
	enum mfs_folder_kind kind = MFS_FOLDER_MAIL;
	struct mfs_error e = { 0 };
	int rc;

	g_mutex_lock(&fs->lock);
	p = fs_node_find(fs, parent);
	int dirfd = -1, dot = p ? fs_dot_place(fs, p, name, &dirfd) : 0;
	if (dot != 0) {
		rc = dot > 0 ? fs_dot_mkdir(fs, dirfd, name, mode, &node) : dot;
		rc = fs_entry_made(fs, rc, node, ent);
		g_mutex_unlock(&fs->lock);
		return rc;
	}
	rc = p ? fs_folder_path(fs, p, name, &path, &kind) : -ESTALE;
	if (rc == 0 && fs->opt.read_only)
		rc = -EROFS;
	if (rc == 0 && fs_resolve(fs, p, name, &node) == 0) {
		fs_node_drop_if_unused(fs, node);
		rc = -EEXIST;
	}
	if (rc == 0) {
		rc = FS_UNLOCKED(fs, mfs_store_create_folder(fs->store, path,
							     kind, &e));
		if (rc < 0 && e.msg[0])
			log_warnx("mkdir %s: %s", path, e.msg);
	}
	if (rc < 0) {
		rc = fs_errno(rc);
	} else {
		fs_view_sync(fs, fs_view_add_folder(fs, path, kind));
		node = fs_node_get(fs, FS_N_DIR, path, 0, NULL, NULL);
		rc = fs_entry_take(fs, node, ent);
	}
	g_mutex_unlock(&fs->lock);
	return rc;
}

static bool sub_is_empty(struct fs *fs, struct fs_node *node)
{
	struct fs_folder *f = fs_folder_find(fs, node->folder);
	GHashTableIter it;
	gpointer val;

	if (!f)
		return true;
	g_hash_table_iter_init(&it, f->items);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		if (fs_item_sub(f, val) == node->sub)
			return false;
	}
	g_hash_table_iter_init(&it, f->staged);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		if (((struct fs_staged *)val)->sub == node->sub)
			return false;
	}
	return true;
}

int fs_rmdir(struct fs *fs, fuse_ino_t parent, const char *name)
{
	struct fs_node *p, *node = NULL;
	struct mfs_error e = { 0 };
	int rc;

	g_mutex_lock(&fs->lock);
	p = fs_node_find(fs, parent);
	int dirfd = -1, dot = p ? fs_dot_place(fs, p, name, &dirfd) : 0;
	if (dot != 0) {
		rc = dot > 0 ? fs_dot_remove(dirfd, name, true) : dot;
		g_mutex_unlock(&fs->lock);
		return rc;
	}
	rc = p ? fs_resolve(fs, p, name, &node) : -ESTALE;
	if (rc == 0 && node->type == FS_N_SUB) {
		/* cur/, new/ and tmp/ go with their folder; an empty one
		 * "goes" at once so that rm -r of a folder reaches the
		 * folder itself (see docs/DEVIATIONS.md) */
		rc = sub_is_empty(fs, node) ? 0 : -ENOTEMPTY;
		fs_node_drop_if_unused(fs, node);
		g_mutex_unlock(&fs->lock);
		return fs_errno(rc);
	}
	if (rc == 0 && node->type != FS_N_DIR)
		rc = node->type == FS_N_CTLDIR ? -EBUSY : -ENOTDIR;
	if (rc == 0 && (fs->opt.read_only ||
			fs_dir_read_only(fs, node->folder)))
		rc = -EROFS;
	if (rc == 0 && has_staged_below(fs, node->folder))
		rc = -ENOTEMPTY;
	fuse_ino_t ino = node ? node->ino : 0;
	g_autofree char *folder = node ? g_strdup(node->folder) : NULL;
	if (rc == 0) {
		rc = FS_UNLOCKED(fs, mfs_store_delete_folder(fs->store, folder,
							     &e));
		if (rc == -ENOENT)
			rc = 0;	/* only ever implied by its sub-folders */
		else if (rc < 0 && rc != -ENOTEMPTY)
			log_error_record("removing folder %s: %s", folder,
					 e.msg[0] ? e.msg : g_strerror(-rc));
	}
	if (rc == 0 && fs_folder_find(fs, folder))
		fs_view_remove_folder(fs, folder);
	fs_node_drop_ino(fs, ino);
	g_mutex_unlock(&fs->lock);
	return fs_errno(rc);
}

/* link(2) from tmp/ into new/ or cur/ is how qmail-style agents deliver:
 * the message is stored and the tmp/ file stays until they unlink it. */
int fs_link(struct fs *fs, fuse_ino_t ino, fuse_ino_t newparent,
	    const char *newname, struct fs_entry *ent)
{
	struct fs_node *src, *dp, *node = NULL;
	struct fs_folder *f2;
	g_autofree char *id = NULL;
	g_autofree char *folder = NULL;
	enum fs_sub sub2;
	int rc;

	g_mutex_lock(&fs->lock);
	src = fs_node_find(fs, ino);
	dp = fs_node_find(fs, newparent);
	int dirfd = -1, dot = dp ? fs_dot_place(fs, dp, newname, &dirfd) : 0;
	if (src && (dot != 0 || src->type == FS_N_DOT)) {
		/* a link inside the dot tree only, as for rename */
		rc = dot < 0 ? dot : dot == 0 || src->type != FS_N_DOT
			? -EXDEV : fs_dot_link(fs, src, dirfd, newname, &node);
		rc = fs_entry_made(fs, rc, node, ent);
		g_mutex_unlock(&fs->lock);
		return rc;
	}
	rc = src && dp ? 0 : -ESTALE;
	if (rc == 0 && fs->opt.read_only)
		rc = -EROFS;
	if (rc == 0 && (src->type != FS_N_STAGED || src->staged->committed))
		rc = -EPERM;
	if (rc == 0 && (rc = fs_file_place(fs, dp, &f2, &sub2)) == 0 &&
	    (f2->kind != MFS_FOLDER_MAIL || sub2 == FS_SUB_TMP ||
	     newname[0] == '.'))
		rc = -EPERM;
	if (rc == 0 && fs_resolve(fs, dp, newname, &node) == 0) {
		fs_node_drop_if_unused(fs, node);
		rc = -EEXIST;
	}
	if (rc == 0) {
		folder = g_strdup(f2->path);
		rc = fs_staged_store(fs, src->staged, folder, sub2, newname,
				     &id);
	}
	if (rc < 0) {
		rc = fs_errno(rc);
	} else {
		node = fs_node_get(fs, FS_N_ITEM, folder, FS_SUB_DIR, id,
				   NULL);
		rc = fs_entry_take(fs, node, ent);
	}
	g_mutex_unlock(&fs->lock);
	return rc;
}

/* Symbolic links exist only in the dot tree: a store keeps none. */
int fs_symlink(struct fs *fs, const char *target, fuse_ino_t parent,
	       const char *name, struct fs_entry *ent)
{
	struct fs_node *p, *node = NULL;
	int dirfd = -1, rc;

	g_mutex_lock(&fs->lock);
	p = fs_node_find(fs, parent);
	rc = p ? fs_dot_place(fs, p, name, &dirfd) : -ESTALE;
	if (rc == 0)
		rc = -EPERM;
	else if (rc > 0)
		rc = fs_dot_symlink(fs, target, dirfd, name, &node);
	rc = fs_entry_made(fs, rc, node, ent);
	g_mutex_unlock(&fs->lock);
	return rc;
}
