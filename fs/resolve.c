/*
 * resolve.c - names to nodes and nodes to attributes: the core of lookup,
 * getattr, readlink and statfs, answered from the view alone (but a
 * directory folder, which is asked for a name it was never listed with).
 */
#include "fs-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* A child of a folder's directory: a sub-directory, cur/ new/ tmp/, or a
 * query's results.  0 with *node_r, 1 when `name` may be an item of
 * sub-directory *sub_r of *f_r, or -errno. */
static int resolve_in_dir(struct fs *fs, struct fs_node *parent,
			  const char *name, struct fs_folder **f_r,
			  enum fs_sub *sub_r, struct fs_node **node_r)
{
	struct fs_folder *f = fs_folder_find(fs, parent->folder);

	if (!f)
		return -ENOENT;
	if (f->kind == MFS_FOLDER_MAIL) {
		for (enum fs_sub sub = FS_SUB_CUR; sub <= FS_SUB_TMP; sub++) {
			if (!strcmp(name, fs_sub_name(sub))) {
				*node_r = fs_node_get(fs, FS_N_SUB, f->path,
						      sub, NULL, NULL);
				return 0;
			}
		}
	}
	g_autofree char *child = fs_join(f->path, name);
	if (fs_folder_find(fs, child)) {
		*node_r = fs_node_get(fs, FS_N_DIR, child, 0, NULL, NULL);
		return 0;
	}
	if (f->kind == MFS_FOLDER_MAIL || f->kind == MFS_FOLDER_NONE)
		return -ENOENT;
	if (f->kind == MFS_FOLDER_DIRECTORY &&
	    g_hash_table_contains(f->queries, name)) {
		*node_r = fs_node_get(fs, FS_N_QUERY, f->path, 0, name, NULL);
		return 0;
	}
	*f_r = f;
	*sub_r = FS_SUB_DIR;
	return 1;
}

/* Whether `name` is one of the results of query node `parent`; its
 * folder in *f_r. */
static bool in_query(struct fs *fs, struct fs_node *parent, const char *name,
		     struct fs_folder **f_r)
{
	struct fs_folder *f = fs_folder_find(fs, parent->folder);
	GPtrArray *ids = f && f->queries ? g_hash_table_lookup(f->queries,
							       parent->key)
					 : NULL;

	for (guint i = 0; ids && i < ids->len; i++) {
		if (!strcmp(ids->pdata[i], name)) {
			*f_r = f;
			return true;
		}
	}
	return false;
}

int fs_resolve(struct fs *fs, struct fs_node *parent, const char *name,
	       struct fs_node **node_r)
{
	struct fs_folder *f = NULL;
	struct fs_item *it;
	struct fs_staged *st;
	enum fs_sub sub = FS_SUB_DIR;
	int rc;

	switch (parent->type) {
	case FS_N_ROOT:
		if (!strcmp(name, ".mailfs")) {
			*node_r = fs_node_get(fs, FS_N_CTLDIR, NULL, 0, NULL,
					      NULL);
			return 0;
		}
		/* no store shows a folder so named there (name-escape.h) */
		if (name[0] == '.')
			return fs_dot_lookup(fs, parent, name, node_r);
		if (!fs_folder_find(fs, name))
			return -ENOENT;
		*node_r = fs_node_get(fs, FS_N_DIR, name, 0, NULL, NULL);
		return 0;
	case FS_N_DIR:
		rc = resolve_in_dir(fs, parent, name, &f, &sub, node_r);
		if (rc <= 0)
			return rc;
		break;
	case FS_N_QUERY:
		if (!in_query(fs, parent, name, &f))
			return -ENOENT;
		break;
	case FS_N_SUB:
		f = fs_folder_find(fs, parent->folder);
		if (!f)
			return -ENOENT;
		sub = parent->sub;
		break;
	case FS_N_CTLDIR:
		if (!fs_ctl_exists(name))
			return -ENOENT;
		*node_r = fs_node_get(fs, FS_N_CTLFILE, NULL, 0, name, NULL);
		return 0;
	case FS_N_DOT:
		return fs_dot_lookup(fs, parent, name, node_r);
	default:
		return -ENOTDIR;
	}
	if ((it = fs_item_find_name(f, sub, name))) {
		*node_r = fs_node_get(fs, FS_N_ITEM, f->path, FS_SUB_DIR,
				      it->id, NULL);
		return 0;
	}
	if ((st = fs_staged_find(f, sub, name))) {
		*node_r = fs_node_get(fs, FS_N_STAGED, f->path, sub, NULL, st);
		return 0;
	}
	return -ENOENT;
}

static void dir_attr(struct fs *fs, struct stat *st)
{
	st->st_mode = S_IFDIR | 0700;
	st->st_nlink = 2;
	st->st_mtime = st->st_ctime = st->st_atime = fs->started;
}

static int item_attr(struct fs_folder *f, const char *id, struct stat *st)
{
	struct fs_item *it = f ? g_hash_table_lookup(f->items, id) : NULL;

	if (!it)
		return -ENOENT;
	st->st_mode = it->content ? S_IFREG | 0400 : S_IFREG | 0600;
	st->st_nlink = 1;
	st->st_size = (off_t)it->size;
	st->st_blocks = (blkcnt_t)((it->size + 511) / 512);
	st->st_mtime = st->st_ctime = st->st_atime = it->date;
	return 0;
}

static int staged_attr(struct fs_staged *staged, struct stat *st)
{
	struct stat sb;

	if (fstat(staged->fd, &sb) != 0)
		return -errno;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = staged->linked ? 1 : 0;
	st->st_size = sb.st_size;
	st->st_blocks = sb.st_blocks;
	st->st_mtim = sb.st_mtim;
	st->st_ctim = sb.st_ctim;
	st->st_atim = sb.st_atim;
	return 0;
}

int fs_node_attr(struct fs *fs, struct fs_node *node, struct stat *st)
{
	struct fs_folder *f = NULL;

	memset(st, 0, sizeof(*st));
	st->st_ino = node->ino;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = 4096;
	if (node->folder)
		f = fs_folder_find(fs, node->folder);
	switch (node->type) {
	case FS_N_ROOT:
	case FS_N_CTLDIR:
		dir_attr(fs, st);
		return 0;
	case FS_N_DIR:
		if (!f)
			return -ENOENT;
		dir_attr(fs, st);
		return 0;
	case FS_N_SUB:
		if (!f || f->kind != MFS_FOLDER_MAIL)
			return -ENOENT;
		dir_attr(fs, st);
		return 0;
	case FS_N_QUERY:
		if (!f || !f->queries ||
		    !g_hash_table_contains(f->queries, node->key))
			return -ENOENT;
		dir_attr(fs, st);
		st->st_mode = S_IFDIR | 0500;
		return 0;
	case FS_N_ITEM:
		return item_attr(f, node->key, st);
	case FS_N_STAGED:
		return staged_attr(node->staged, st);
	case FS_N_CTLFILE:
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_mtime = st->st_ctime = st->st_atime = time(NULL);
		return 0;
	case FS_N_DOT:
		return fs_dot_attr(node, st);
	}
	return -ENOENT;
}

int fs_entry_take(struct fs *fs, struct fs_node *node, struct fs_entry *e)
{
	int rc;

	memset(e, 0, sizeof(*e));
	rc = fs_node_attr(fs, node, &e->attr);
	if (rc < 0) {
		fs_node_drop_if_unused(fs, node);
		return rc;
	}
	e->ino = node->ino;
	node->nlookup++;
	return 0;
}

int fs_entry_made(struct fs *fs, int rc, struct fs_node *node,
		  struct fs_entry *e)
{
	return rc < 0 ? rc : fs_entry_take(fs, node, e);
}

int fs_lookup(struct fs *fs, fuse_ino_t parent, const char *name,
	      struct fs_entry *e)
{
	struct fs_node *p, *node = NULL;
	int rc;

	g_mutex_lock(&fs->lock);
	p = fs_node_find(fs, parent);
	rc = p ? fs_resolve(fs, p, name, &node) : -ESTALE;
	if (rc == -ENOENT && p->type == FS_N_DIR) {
		struct fs_folder *f = fs_folder_find(fs, p->folder);
		if (f && f->kind == MFS_FOLDER_DIRECTORY) {
			/* a directory is asked, not listed */
			g_autofree char *folder = g_strdup(f->path);
			g_mutex_unlock(&fs->lock);
			rc = fs_dir_lookup(fs, folder, name);
			g_mutex_lock(&fs->lock);
			p = fs_node_find(fs, parent);
			if (rc == 0)
				rc = p ? fs_resolve(fs, p, name, &node)
				       : -ESTALE;
		}
	}
	rc = rc < 0 ? fs_errno(rc) : fs_entry_take(fs, node, e);
	g_mutex_unlock(&fs->lock);
	return rc;
}

int fs_getattr(struct fs *fs, fuse_ino_t ino, struct stat *st)
{
	struct fs_node *node;
	int rc;

	g_mutex_lock(&fs->lock);
	node = fs_node_find(fs, ino);
	rc = node ? fs_node_attr(fs, node, st) : -ESTALE;
	g_mutex_unlock(&fs->lock);
	return rc;
}

int fs_readlink(struct fs *fs, fuse_ino_t ino, char **target_r)
{
	struct fs_node *node;
	int rc;

	g_mutex_lock(&fs->lock);
	node = fs_node_find(fs, ino);
	rc = !node ? -ESTALE : node->type != FS_N_DOT
		? -EINVAL : fs_dot_readlink(node, target_r);
	g_mutex_unlock(&fs->lock);
	return rc;
}

void fs_forget(struct fs *fs, fuse_ino_t ino, uint64_t n)
{
	g_mutex_lock(&fs->lock);
	fs_node_forget(fs, ino, n);
	g_mutex_unlock(&fs->lock);
}

int fs_statfs(struct fs *fs, fuse_ino_t ino, struct statvfs *sv)
{
	uint64_t total = 0, avail = 0, files = 0;
	GHashTableIter it;
	gpointer val;
	struct fs_node *node;

	memset(sv, 0, sizeof(*sv));
	g_mutex_lock(&fs->lock);
	node = fs_node_find(fs, ino);
	if (node && node->type == FS_N_DOT) {
		/* the disk the dot tree is on */
		int rc = fs_dot_statfs(node, sv);
		g_mutex_unlock(&fs->lock);
		return rc;
	}
	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, NULL, &val))
		files += g_hash_table_size(((struct fs_folder *)val)->items) + 1;
	g_mutex_unlock(&fs->lock);
	mfs_store_space(fs->store, &total, &avail);
	sv->f_bsize = sv->f_frsize = 4096;
	sv->f_blocks = total / 4096;
	sv->f_bfree = sv->f_bavail = avail / 4096;
	sv->f_files = files;
	sv->f_ffree = sv->f_favail = UINT32_MAX;
	sv->f_namemax = 255;
	return 0;
}
