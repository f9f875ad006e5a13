/*
 * ops.c - the FUSE handlers that look and read: lookup, getattr, readdir,
 * open, read, readlink, xattrs, statfs; and the handler table.  Each handler unpacks,
 * does its work under fs->lock, and replies exactly once after unlocking.
 */
#include "fs-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "log.h"
#include "maildir-name.h"

#define XATTR_FLAGS "user.mail.flags"
#define XATTR_MSGID "user.mail.message-id"
#define XATTR_ID "user.mail.id"
#define XATTR_ERROR "user.mail.error"

static struct fs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

int fs_resolve(struct fs *fs, struct fs_node *parent, const char *name,
	       struct fs_node **node_r)
{
	struct fs_folder *f = NULL;
	struct fs_item *it;
	struct fs_staged *st;
	enum fs_sub sub = FS_SUB_DIR;

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
	case FS_N_DIR: {
		f = fs_folder_find(fs, parent->folder);
		if (!f)
			return -ENOENT;
		if (f->kind == MFS_FOLDER_MAIL) {
			for (sub = FS_SUB_CUR; sub <= FS_SUB_TMP; sub++) {
				if (!strcmp(name, fs_sub_name(sub))) {
					*node_r = fs_node_get(fs, FS_N_SUB,
							      f->path, sub,
							      NULL, NULL);
					return 0;
				}
			}
			sub = FS_SUB_DIR;
		}
		g_autofree char *child = fs_join(f->path, name);
		if (fs_folder_find(fs, child)) {
			*node_r = fs_node_get(fs, FS_N_DIR, child, 0, NULL,
					      NULL);
			return 0;
		}
		if (f->kind == MFS_FOLDER_MAIL || f->kind == MFS_FOLDER_NONE)
			return -ENOENT;
		if (f->kind == MFS_FOLDER_DIRECTORY &&
		    g_hash_table_contains(f->queries, name)) {
			*node_r = fs_node_get(fs, FS_N_QUERY, f->path, 0, name,
					      NULL);
			return 0;
		}
		break;
	}
	case FS_N_QUERY: {
		GPtrArray *ids;
		f = fs_folder_find(fs, parent->folder);
		ids = f && f->queries ? g_hash_table_lookup(f->queries,
							    parent->key)
				      : NULL;
		guint i;
		for (i = 0; ids && i < ids->len; i++)
			if (!strcmp(ids->pdata[i], name))
				break;
		if (!ids || i == ids->len)
			return -ENOENT;
		break;
	}
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

int fs_node_attr(struct fs *fs, struct fs_node *node, struct stat *st)
{
	struct fs_folder *f = NULL;
	struct fs_item *it;
	struct stat sb;

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
		it = f ? g_hash_table_lookup(f->items, node->key) : NULL;
		if (!it)
			return -ENOENT;
		st->st_mode = it->content ? S_IFREG | 0400 : S_IFREG | 0600;
		st->st_nlink = 1;
		st->st_size = (off_t)it->size;
		st->st_blocks = (blkcnt_t)((it->size + 511) / 512);
		st->st_mtime = st->st_ctime = st->st_atime = it->date;
		return 0;
	case FS_N_STAGED:
		if (fstat(node->staged->fd, &sb) != 0)
			return -errno;
		st->st_mode = S_IFREG | 0600;
		st->st_nlink = node->staged->linked ? 1 : 0;
		st->st_size = sb.st_size;
		st->st_blocks = sb.st_blocks;
		st->st_mtim = sb.st_mtim;
		st->st_ctim = sb.st_ctim;
		st->st_atim = sb.st_atim;
		return 0;
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

/* Fill `e` for `node` and count the kernel's new reference. */
static int make_entry(struct fs *fs, struct fs_node *node,
		      struct fuse_entry_param *e)
{
	int rc;

	memset(e, 0, sizeof(*e));
	rc = fs_node_attr(fs, node, &e->attr);
	if (rc < 0) {
		fs_node_drop_if_unused(fs, node);
		return rc;
	}
	e->ino = node->ino;
	e->attr_timeout = fs->opt.attr_timeout;
	e->entry_timeout = fs->opt.entry_timeout;
	node->nlookup++;
	return 0;
}

/* Reply with -rc when rc < 0, else with an entry for `node`; call with
 * fs->lock held, it is released. */
void fs_reply_made(struct fs *fs, fuse_req_t req, int rc,
		   struct fs_node *node)
{
	if (rc < 0) {
		g_mutex_unlock(&fs->lock);
		fuse_reply_err(req, -rc);
		return;
	}
	fs_reply_entry(fs, req, node);
}

/* Reply with an entry for `node`; call with fs->lock held, it is released. */
void fs_reply_entry(struct fs *fs, fuse_req_t req, struct fs_node *node)
{
	struct fuse_entry_param e;
	int rc = make_entry(fs, node, &e);

	g_mutex_unlock(&fs->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &e);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
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
	if (rc < 0) {
		g_mutex_unlock(&fs->lock);
		fuse_reply_err(req, -fs_errno(rc));
		return;
	}
	fs_reply_entry(fs, req, node);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = req_fs(req);
	struct fs_node *node;
	g_autofree char *target = NULL;
	int rc;

	g_mutex_lock(&fs->lock);
	node = fs_node_find(fs, ino);
	rc = !node ? -ESTALE : node->type != FS_N_DOT
		? -EINVAL : fs_dot_readlink(node, &target);
	g_mutex_unlock(&fs->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs *fs = req_fs(req);

	g_mutex_lock(&fs->lock);
	fs_node_forget(fs, ino, nlookup);
	g_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct fs *fs = req_fs(req);

	g_mutex_lock(&fs->lock);
	for (size_t i = 0; i < count; i++)
		fs_node_forget(fs, forgets[i].ino, forgets[i].nlookup);
	g_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_node *node;
	struct stat st;
	int rc;

	g_mutex_lock(&fs->lock);
	node = fs_node_find(fs, ino);
	rc = node ? fs_node_attr(fs, node, &st) : -ESTALE;
	g_mutex_unlock(&fs->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, fs->opt.attr_timeout);
}

/* A directory listing, taken at opendir so that offsets stay meaningful. */
struct fs_dirh {
	GPtrArray *names;	/* of char *, owned */
};

void fs_dirh_free(gpointer p)
{
	struct fs_dirh *dh = p;

	g_ptr_array_unref(dh->names);
	g_free(dh);
}

static void add_folder_children(struct fs *fs, const char *path,
				GPtrArray *names)
{
	GHashTableIter it;
	gpointer key;
	size_t plen = strlen(path);

	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		const char *k = key;
		const char *rest;
		if (plen == 0 && k[0] == '.')
			continue;	/* the dot tree's place */
		if (plen == 0)
			rest = k;
		else if (!strncmp(k, path, plen) && k[plen] == '/')
			rest = k + plen + 1;
		else
			continue;
		if (*rest && !strchr(rest, '/'))
			g_ptr_array_add(names, g_strdup(rest));
	}
}

static gint item_name_cmp(gconstpointer a, gconstpointer b)
{
	const struct fs_item *x = *(struct fs_item *const *)a;
	const struct fs_item *y = *(struct fs_item *const *)b;

	return strcmp(x->name, y->name);
}

static void add_items(struct fs_folder *f, enum fs_sub sub, GPtrArray *names)
{
	GHashTableIter it;
	gpointer val;

	if (sub != FS_SUB_TMP) {
		/* in name order, as rsync and ls sort: a reader going
		 * through the listing moves forward, which is what the
		 * cache's prefetch follows */
		GPtrArray *items = g_ptr_array_new();
		g_hash_table_iter_init(&it, f->items);
		while (g_hash_table_iter_next(&it, NULL, &val)) {
			struct fs_item *item = val;
			if (fs_item_sub(f, item) == sub)
				g_ptr_array_add(items, item);
		}
		g_ptr_array_sort(items, item_name_cmp);
		for (guint i = 0; i < items->len; i++)
			g_ptr_array_add(names, g_strdup(
				((struct fs_item *)items->pdata[i])->name));
		g_ptr_array_unref(items);
	}
	g_hash_table_iter_init(&it, f->staged);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct fs_staged *st = val;
		if (st->sub == sub)
			g_ptr_array_add(names, g_strdup(st->name));
	}
}

static int list_dir(struct fs *fs, struct fs_node *node, GPtrArray *names)
{
	struct fs_folder *f = node->folder ? fs_folder_find(fs, node->folder)
					   : NULL;

	g_ptr_array_add(names, g_strdup("."));
	g_ptr_array_add(names, g_strdup(".."));
	switch (node->type) {
	case FS_N_ROOT: {
		g_ptr_array_add(names, g_strdup(".mailfs"));
		add_folder_children(fs, "", names);
		int rc = fs_dot_list(fs, NULL, names);
		if (rc < 0)
			log_warnx("listing %s: %s", fs->opt.local_dir,
				  g_strerror(-rc));
		return 0;
	}
	case FS_N_DIR:
		if (!f)
			return -ENOENT;
		if (f->kind == MFS_FOLDER_MAIL) {
			for (enum fs_sub s = FS_SUB_CUR; s <= FS_SUB_TMP; s++)
				g_ptr_array_add(names, g_strdup(fs_sub_name(s)));
		} else if (f->kind != MFS_FOLDER_NONE) {
			add_items(f, FS_SUB_DIR, names);
		}
		add_folder_children(fs, f->path, names);
		return 0;
	case FS_N_SUB:
		if (!f)
			return -ENOENT;
		add_items(f, node->sub, names);
		return 0;
	case FS_N_QUERY:
		if (!f)
			return -ENOENT;
		fs_dir_list_query(f, node->key, names);
		return 0;
	case FS_N_CTLDIR:
		for (const char *const *n = fs_ctl_names(); *n; n++)
			g_ptr_array_add(names, g_strdup(*n));
		return 0;
	case FS_N_DOT:
		return fs_dot_list(fs, node, names);
	default:
		return -ENOTDIR;
	}
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_node *node;
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	int rc;

	g_mutex_lock(&fs->lock);
	node = fs_node_find(fs, ino);
	rc = node ? list_dir(fs, node, names) : -ESTALE;
	g_mutex_unlock(&fs->lock);
	if (rc < 0) {
		g_ptr_array_unref(names);
		fuse_reply_err(req, -rc);
		return;
	}
	struct fs_dirh *dh = g_new0(struct fs_dirh, 1);
	dh->names = names;
	fi->fh = (uint64_t)(uintptr_t)dh;
	g_mutex_lock(&fs->lock);
	g_hash_table_add(fs->dirhs, dh);
	g_mutex_unlock(&fs->lock);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		g_mutex_lock(&fs->lock);
		g_hash_table_remove(fs->dirhs, dh);
		g_mutex_unlock(&fs->lock);
	}
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct fs *fs = req_fs(req);
	struct fs_dirh *dh = (struct fs_dirh *)(uintptr_t)fi->fh;
	struct fs_node *dir;
	char *buf = g_malloc(size);
	size_t pos = 0;

	g_mutex_lock(&fs->lock);
	dir = fs_node_find(fs, ino);
	for (guint i = (guint)off; dir && i < dh->names->len; i++) {
		const char *name = dh->names->pdata[i];
		bool dot = !strcmp(name, ".") || !strcmp(name, "..");
		struct fs_node *node = dir;
		struct fuse_entry_param e;
		size_t need;

		memset(&e, 0, sizeof(e));
		if (!dot && fs_resolve(fs, dir, name, &node) < 0)
			continue;	/* gone since opendir */
		if (fs_node_attr(fs, node, &e.attr) < 0) {
			fs_node_drop_if_unused(fs, node);
			continue;
		}
		if (plus) {
			e.ino = dot ? 0 : node->ino;
			e.attr_timeout = fs->opt.attr_timeout;
			e.entry_timeout = fs->opt.entry_timeout;
			need = fuse_add_direntry_plus(req, buf + pos,
						      size - pos, name, &e,
						      (off_t)i + 1);
		} else {
			need = fuse_add_direntry(req, buf + pos, size - pos,
						 name, &e.attr, (off_t)i + 1);
		}
		if (need > size - pos) {
			if (!dot)
				fs_node_drop_if_unused(fs, node);
			break;
		}
		/* readdirplus entries count as lookups, '.' and '..' not;
		 * a plain entry leaves the kernel without a reference */
		if (plus && !dot)
			node->nlookup++;
		else if (!dot)
			fs_node_drop_if_unused(fs, node);
		pos += need;
	}
	g_mutex_unlock(&fs->lock);
	if (!dir)
		fuse_reply_err(req, ESTALE);
	else
		fuse_reply_buf(req, buf, pos);
	g_free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_dirh *dh = (struct fs_dirh *)(uintptr_t)fi->fh;

	g_mutex_lock(&fs->lock);
	g_hash_table_remove(fs->dirhs, dh);
	g_mutex_unlock(&fs->lock);
	fuse_reply_err(req, 0);
}

static bool wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_handle *h = NULL;
	struct fs_node *node;
	struct fs_folder *f;
	struct fs_item *it;
	g_autofree char *fetch_folder = NULL;
	g_autofree char *fetch_id = NULL;
	bool flush_ctl = false;
	int rc = 0;

	g_mutex_lock(&fs->lock);
	node = fs_node_find(fs, ino);
	if (!node) {
		rc = -ESTALE;
		goto out;
	}
	switch (node->type) {
	case FS_N_ITEM:
		f = fs_folder_find(fs, node->folder);
		it = f ? g_hash_table_lookup(f->items, node->key) : NULL;
		if (!it) {
			rc = -ENOENT;
			break;
		}
		if (it->content) {
			/* a directory entry: the bytes came with its lookup */
			if (wants_write(fi->flags)) {
				rc = -EROFS;
				break;
			}
			h = g_new0(struct fs_handle, 1);
			h->kind = FS_H_CTL;
			h->len = g_bytes_get_size(it->content);
			h->text = g_malloc(h->len + 1);
			memcpy(h->text, g_bytes_get_data(it->content, NULL),
			       h->len);
			fi->direct_io = 1;
			break;
		}
		if (wants_write(fi->flags)) {
			/* a message is immutable; contacts and events are
			 * rewritten whole on close */
			if (f->kind == MFS_FOLDER_MAIL ||
			    f->kind == MFS_FOLDER_OUTBOX || fs->opt.read_only) {
				rc = fs->opt.read_only ? -EROFS : -EPERM;
				break;
			}
			rc = fs_open_staged_for_edit(fs, node, f, it,
						     fi->flags & O_TRUNC, &h);
			break;
		}
		/* the fetch may go to the network: not under the lock */
		fetch_folder = g_strdup(f->path);
		fetch_id = g_strdup(it->id);
		/* the bytes behind a message id never change */
		fi->keep_cache = f->kind == MFS_FOLDER_MAIL;
		/* nothing to do at close of a reader: spare the round trip */
		fi->noflush = 1;
		break;
	case FS_N_STAGED:
		h = g_new0(struct fs_handle, 1);
		h->kind = FS_H_STAGED;
		h->staged = node->staged;
		h->staged->refs++;
		h->writable = wants_write(fi->flags);
		if (h->writable)
			h->staged->writers++;
		if ((fi->flags & O_TRUNC) && ftruncate(h->staged->fd, 0) != 0)
			rc = -errno;
		fi->direct_io = 1;
		break;
	case FS_N_DOT: {
		int fd;
		rc = fs_dot_reopen(node, fi->flags, &fd);
		if (rc < 0)
			break;
		h = g_new0(struct fs_handle, 1);
		h->kind = FS_H_DOT;
		h->fd = fd;
		h->writable = wants_write(fi->flags);
		break;
	}
	case FS_N_CTLFILE:
		if (wants_write(fi->flags)) {
			rc = -EACCES;
			break;
		}
		h = g_new0(struct fs_handle, 1);
		h->kind = FS_H_CTL;
		/* flush waits for the server: rendered after the lock */
		flush_ctl = !strcmp(node->key, "flush");
		h->text = flush_ctl ? NULL : fs_ctl_render(fs, node->key);
		h->len = h->text ? strlen(h->text) : 0;
		fi->direct_io = 1;
		break;
	default:
		rc = -EISDIR;
	}
out:
	if (rc < 0 && h) {
		fs_handle_release(fs, h);
		h = NULL;
	}
	g_mutex_unlock(&fs->lock);
	if (rc == 0 && fetch_id) {
		struct mfs_error e = { 0 };
		h = g_new0(struct fs_handle, 1);
		h->kind = FS_H_ITEM;
		rc = mfs_store_fetch(fs->store, fetch_folder, fetch_id, &h->fd,
				     &e);
		/* a pass that reads every message once (rsync, grep, notmuch
		 * new) would otherwise keep each one twice in memory, in the
		 * cache's file and in the mount's page cache, and copy it
		 * once more; a shared mmap of such an open is refused */
		if (rc == 0 && mfs_store_read_ahead(fs->store, fetch_folder,
						    fetch_id))
			fi->direct_io = 1;
		if (rc < 0) {
			log_error_record("reading %s/%s: %s", fetch_folder,
					 fetch_id, e.msg[0] ? e.msg
							    : g_strerror(-rc));
			g_free(h);
			/* the kernel knows no "try later" for open */
			rc = rc == -ENOENT ? rc : -EIO;
		}
	}
	if (rc == 0 && flush_ctl) {
		h->text = fs_ctl_flush(fs);
		h->len = strlen(h->text);
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	g_mutex_lock(&fs->lock);
	fs_handle_track(fs, h);
	g_mutex_unlock(&fs->lock);
	fi->fh = (uint64_t)(uintptr_t)h;
	fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	int fd;

	/* the kernel releases a file whose reader was killed without waiting
	 * for the read: the handle stays until the read is done */
	g_mutex_lock(&fs->lock);
	bool held = fs_handle_hold(fs, h);
	g_mutex_unlock(&fs->lock);
	if (!held) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (h->kind == FS_H_CTL) {
		size_t start = off < 0 ? 0 : MIN((size_t)off, h->len);
		fuse_reply_buf(req, h->text + start, MIN(size, h->len - start));
	} else {
		fd = h->kind == FS_H_STAGED ? h->staged->fd : h->fd;
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = fd;
		bv.buf[0].pos = off;
		fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
	}
	g_mutex_lock(&fs->lock);
	fs_handle_unhold(fs, h);
	g_mutex_unlock(&fs->lock);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;

	g_mutex_lock(&fs->lock);
	if (h->busy) {
		/* a read still uses it: it ends the handle */
		g_hash_table_remove(fs->handles, h);
		h->released = true;
	} else {
		fs_handle_release(fs, h);
	}
	g_mutex_unlock(&fs->lock);
	fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = req_fs(req);
	struct statvfs sv;
	uint64_t total = 0, avail = 0, files = 0;
	GHashTableIter it;
	gpointer val;
	struct fs_node *node;

	memset(&sv, 0, sizeof(sv));
	g_mutex_lock(&fs->lock);
	node = fs_node_find(fs, ino);
	if (node && node->type == FS_N_DOT) {
		/* the disk the dot tree is on */
		int rc = fs_dot_statfs(node, &sv);
		g_mutex_unlock(&fs->lock);
		if (rc < 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_statfs(req, &sv);
		return;
	}
	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, NULL, &val))
		files += g_hash_table_size(((struct fs_folder *)val)->items) + 1;
	g_mutex_unlock(&fs->lock);
	mfs_store_space(fs->store, &total, &avail);
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_blocks = total / 4096;
	sv.f_bfree = sv.f_bavail = avail / 4096;
	sv.f_files = files;
	sv.f_ffree = sv.f_favail = UINT32_MAX;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

/* The value of one of our xattrs; caller owns *value_r. */
static int xattr_value(struct fs *fs, struct fs_node *node, const char *name,
		       char **value_r)
{
	struct fs_folder *f;
	struct fs_item *it;

	if (node->type != FS_N_ITEM)
		return -ENODATA;
	f = fs_folder_find(fs, node->folder);
	it = f ? g_hash_table_lookup(f->items, node->key) : NULL;
	if (!it)
		return -ENOENT;
	if (!strcmp(name, XATTR_ID)) {
		*value_r = g_strdup(it->id);
		return 0;
	}
	if (f->kind != MFS_FOLDER_MAIL)
		return -ENODATA;
	if (!strcmp(name, XATTR_FLAGS)) {
		*value_r = maildir_flags_format(it->flags);
		return 0;
	}
	if (!strcmp(name, XATTR_MSGID)) {
		if (!it->message_id)
			return -EAGAIN;	/* read it without the lock */
		if (!*it->message_id)
			return -ENODATA;
		*value_r = g_strdup(it->message_id);
		return 0;
	}
	return -ENODATA;
}

static void reply_xattr_bytes(fuse_req_t req, const char *v, size_t len,
			      size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, v, len);
}

/* The dot tree's xattrs are the files' own; NULL when `ino` is not in it.
 * Called and returning with fs->lock held. */
static struct fs_node *dot_node(struct fs *fs, fuse_ino_t ino)
{
	struct fs_node *node = fs_node_find(fs, ino);

	return node && node->type == FS_N_DOT ? node : NULL;
}

static void dot_getxattr(fuse_req_t req, struct fs_node *node,
			 const char *name, size_t size, bool list)
{
	struct fs *fs = req_fs(req);
	g_autofree char *value = NULL;
	size_t len = 0;
	int rc = list ? fs_dot_listxattr(node, &value, &len)
		      : fs_dot_getxattr(node, name, &value, &len);

	g_mutex_unlock(&fs->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		reply_xattr_bytes(req, value, len, size);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct fs *fs = req_fs(req);
	struct fs_node *node;
	g_autofree char *value = NULL;
	int rc;

	g_mutex_lock(&fs->lock);
	if ((node = dot_node(fs, ino))) {
		dot_getxattr(req, node, name, size, false);
		return;
	}
	node = fs_node_find(fs, ino);
	if (node && node->type == FS_N_ITEM && !strcmp(name, XATTR_ERROR)) {
		/* why a message waits in the outbox; from the store, which
		 * is not asked under the lock */
		g_autofree char *folder = g_strdup(node->folder);
		g_autofree char *id = g_strdup(node->key);
		g_mutex_unlock(&fs->lock);
		rc = mfs_store_item_error(fs->store, folder, id, &value);
		g_mutex_lock(&fs->lock);
	} else {
		rc = node ? xattr_value(fs, node, name, &value) : -ESTALE;
	}
	if (rc == -EAGAIN) {
		g_autofree char *folder = g_strdup(node->folder);
		g_autofree char *id = g_strdup(node->key);
		g_mutex_unlock(&fs->lock);
		rc = fs_read_message_id(fs, folder, id);
		g_mutex_lock(&fs->lock);
		node = rc == 0 ? fs_node_find(fs, ino) : NULL;
		rc = node ? xattr_value(fs, node, name, &value) : rc;
		if (rc == -EAGAIN)
			rc = -ENOENT;	/* gone while it was read */
	}
	g_mutex_unlock(&fs->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		reply_xattr_bytes(req, value, strlen(value), size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs *fs = req_fs(req);
	struct fs_node *node;
	struct fs_folder *f;
	GString *list;

	g_mutex_lock(&fs->lock);
	if ((node = dot_node(fs, ino))) {
		dot_getxattr(req, node, NULL, size, true);
		return;
	}
	list = g_string_new(NULL);
	node = fs_node_find(fs, ino);
	f = node && node->type == FS_N_ITEM ? fs_folder_find(fs, node->folder)
					    : NULL;
	if (f) {
		g_string_append_len(list, XATTR_ID, sizeof(XATTR_ID));
		if (f->kind == MFS_FOLDER_OUTBOX)
			g_string_append_len(list, XATTR_ERROR,
					    sizeof(XATTR_ERROR));
		if (f->kind == MFS_FOLDER_MAIL) {
			g_string_append_len(list, XATTR_FLAGS,
					    sizeof(XATTR_FLAGS));
			g_string_append_len(list, XATTR_MSGID,
					    sizeof(XATTR_MSGID));
		}
	}
	g_mutex_unlock(&fs->lock);
	reply_xattr_bytes(req, list->str, list->len, size);
	g_string_free(list, TRUE);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct fs *fs = req_fs(req);
	struct fs_node *node;
	int rc;

	g_mutex_lock(&fs->lock);
	node = dot_node(fs, ino);
	rc = node ? fs_dot_setxattr(fs, node, name, value, size, flags)
		  : -ENOTSUP;
	g_mutex_unlock(&fs->lock);
	fuse_reply_err(req, -rc);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct fs *fs = req_fs(req);
	struct fs_node *node;
	int rc;

	g_mutex_lock(&fs->lock);
	node = dot_node(fs, ino);
	rc = node ? fs_dot_removexattr(fs, node, name) : -ENOTSUP;
	g_mutex_unlock(&fs->lock);
	fuse_reply_err(req, -rc);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	/* readdirplus lets `ls -l`, find and rsync see attributes with the
	 * names; the kernel picks plain readdir where that is cheaper */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_READDIRPLUS_AUTO)
		conn->want |= FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	/* whole small messages in one request, large ones in few */
	conn->max_readahead = 1024 * 1024;
	/* O_TRUNC arrives with open(), so a rewrite is one operation */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void op_destroy(void *userdata)
{
	struct fs *fs = userdata;

	g_mutex_lock(&fs->lock);
	fs_staged_finish_all(fs);
	g_mutex_unlock(&fs->lock);
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = op_init,
	.destroy = op_destroy,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = fs_op_setattr,
	.readlink = op_readlink,
	.mknod = fs_op_mknod,
	.mkdir = fs_op_mkdir,
	.unlink = fs_op_unlink,
	.rmdir = fs_op_rmdir,
	.symlink = fs_op_symlink,
	.rename = fs_op_rename,
	.link = fs_op_link,
	.open = op_open,
	.read = op_read,
	.write = fs_op_write,
	.flush = fs_op_flush,
	.release = op_release,
	.fsync = fs_op_fsync,
	.fsyncdir = fs_op_fsyncdir,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.create = fs_op_create,
};
