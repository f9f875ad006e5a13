/*
 * open.c - opening, reading and releasing files, one way per node kind:
 * a message or contact reads the store's copy (fetched without fs->lock,
 * since it may come from the network), a file being written its staging
 * file, a dot-tree file the file itself, a .mailfs/ file a snapshot of its
 * text taken at open.
 */
#include "fs-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* What an open leaves for after fs->lock is released. */
struct open_later {
	char *folder;		/* with id: fetch this item */
	char *id;
	bool flush_ctl;		/* render .mailfs/flush */
};

static bool wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

static int open_item(struct fs *fs, struct fs_node *node, int flags,
		     struct fs_open_mode *how, struct fs_handle **h_r,
		     struct open_later *later)
{
	struct fs_folder *f = fs_folder_find(fs, node->folder);
	struct fs_item *it = f ? g_hash_table_lookup(f->items, node->key)
			       : NULL;
	struct fs_handle *h;

	if (!it)
		return -ENOENT;
	if (it->content) {
		/* a directory entry: the bytes came with its lookup */
		if (wants_write(flags))
			return -EROFS;
		h = g_new0(struct fs_handle, 1);
		h->kind = FS_H_CTL;
		h->len = g_bytes_get_size(it->content);
		h->text = g_malloc(h->len + 1);
		memcpy(h->text, g_bytes_get_data(it->content, NULL), h->len);
		how->direct_io = true;
		*h_r = h;
		return 0;
	}
	if (wants_write(flags)) {
		/* a message is immutable; contacts and events are
		 * rewritten whole on close */
		if (f->kind == MFS_FOLDER_MAIL ||
		    f->kind == MFS_FOLDER_OUTBOX || fs->opt.read_only)
			return fs->opt.read_only ? -EROFS : -EPERM;
		return fs_open_staged_for_edit(fs, node, f, it,
					       flags & O_TRUNC, h_r);
	}
	/* the fetch may go to the network: not under the lock */
	later->folder = g_strdup(f->path);
	later->id = g_strdup(it->id);
	/* the bytes behind a message id never change */
	how->keep_cache = f->kind == MFS_FOLDER_MAIL;
	/* nothing to do at close of a reader: spare the round trip */
	how->noflush = true;
	return 0;
}

static int open_staged(struct fs_node *node, int flags,
		       struct fs_open_mode *how, struct fs_handle **h_r)
{
	struct fs_handle *h = g_new0(struct fs_handle, 1);
	int rc = 0;

	h->kind = FS_H_STAGED;
	h->staged = node->staged;
	h->staged->refs++;
	h->writable = wants_write(flags);
	if (h->writable)
		h->staged->writers++;
	if ((flags & O_TRUNC) && ftruncate(h->staged->fd, 0) != 0)
		rc = -errno;
	how->direct_io = true;
	*h_r = h;
	return rc;
}

static int open_dot(struct fs_node *node, int flags, struct fs_handle **h_r)
{
	struct fs_handle *h;
	int fd, rc;

	rc = fs_dot_reopen(node, flags, &fd);
	if (rc < 0)
		return rc;
	h = g_new0(struct fs_handle, 1);
	h->kind = FS_H_DOT;
	h->fd = fd;
	h->writable = wants_write(flags);
	*h_r = h;
	return 0;
}

static int open_ctl(struct fs *fs, struct fs_node *node, int flags,
		    struct fs_open_mode *how, struct fs_handle **h_r,
		    struct open_later *later)
{
	struct fs_handle *h;

	if (wants_write(flags))
		return -EACCES;
	h = g_new0(struct fs_handle, 1);
	h->kind = FS_H_CTL;
	/* flush waits for the server: rendered after the lock */
	later->flush_ctl = !strcmp(node->key, "flush");
	h->text = later->flush_ctl ? NULL : fs_ctl_render(fs, node->key);
	h->len = h->text ? strlen(h->text) : 0;
	how->direct_io = true;
	*h_r = h;
	return 0;
}

/* The part of an open done under fs->lock; a handle made here is let go
 * of again when the open fails. */
static int open_node(struct fs *fs, fuse_ino_t ino, int flags,
		     struct fs_open_mode *how, struct fs_handle **h_r,
		     struct open_later *later)
{
	struct fs_node *node = fs_node_find(fs, ino);
	struct fs_handle *h = NULL;
	int rc;

	if (!node)
		return -ESTALE;
	switch (node->type) {
	case FS_N_ITEM:
		rc = open_item(fs, node, flags, how, &h, later);
		break;
	case FS_N_STAGED:
		rc = open_staged(node, flags, how, &h);
		break;
	case FS_N_DOT:
		rc = open_dot(node, flags, &h);
		break;
	case FS_N_CTLFILE:
		rc = open_ctl(fs, node, flags, how, &h, later);
		break;
	default:
		rc = -EISDIR;
	}
	if (rc < 0 && h) {
		fs_handle_release(fs, h);
		h = NULL;
	}
	*h_r = h;
	return rc;
}

/* A message or contact as the store has it; called without fs->lock. */
static int open_fetch(struct fs *fs, const char *folder, const char *id,
		      struct fs_open_mode *how, struct fs_handle **h_r)
{
	struct mfs_error e = { 0 };
	struct fs_handle *h = g_new0(struct fs_handle, 1);
	int rc;

	h->kind = FS_H_ITEM;
	rc = mfs_store_fetch(fs->store, folder, id, &h->fd, &e);
	/* a pass that reads every message once (rsync, grep, notmuch
	 * new) would otherwise keep each one twice in memory, in the
	 * cache's file and in the mount's page cache, and copy it
	 * once more; a shared mmap of such an open is refused */
	if (rc == 0 && mfs_store_read_ahead(fs->store, folder, id))
		how->direct_io = true;
	if (rc < 0) {
		log_error_record("reading %s/%s: %s", folder, id,
				 e.msg[0] ? e.msg : g_strerror(-rc));
		g_free(h);
		/* the kernel knows no "try later" for open */
		return rc == -ENOENT ? rc : -EIO;
	}
	*h_r = h;
	return 0;
}

int fs_open(struct fs *fs, fuse_ino_t ino, int flags,
	    struct fs_open_mode *how, struct fs_handle **h_r)
{
	struct open_later later = { 0 };
	struct fs_handle *h = NULL;
	int rc;

	memset(how, 0, sizeof(*how));
	g_mutex_lock(&fs->lock);
	rc = open_node(fs, ino, flags, how, &h, &later);
	g_mutex_unlock(&fs->lock);
	if (rc == 0 && later.id)
		rc = open_fetch(fs, later.folder, later.id, how, &h);
	if (rc == 0 && later.flush_ctl) {
		h->text = fs_ctl_flush(fs);
		h->len = strlen(h->text);
	}
	g_free(later.folder);
	g_free(later.id);
	if (rc < 0)
		return rc;
	g_mutex_lock(&fs->lock);
	fs_handle_track(fs, h);
	g_mutex_unlock(&fs->lock);
	*h_r = h;
	return 0;
}

bool fs_handle_enter(struct fs *fs, struct fs_handle *h)
{
	g_mutex_lock(&fs->lock);
	bool held = fs_handle_hold(fs, h);
	g_mutex_unlock(&fs->lock);
	return held;
}

void fs_handle_leave(struct fs *fs, struct fs_handle *h)
{
	g_mutex_lock(&fs->lock);
	fs_handle_unhold(fs, h);
	g_mutex_unlock(&fs->lock);
}

int fs_read_source(const struct fs_handle *h, off_t off, size_t size,
		   const char **text_r, size_t *len_r)
{
	if (h->kind == FS_H_CTL) {
		size_t start = off < 0 ? 0 : MIN((size_t)off, h->len);
		*text_r = h->text + start;
		*len_r = MIN(size, h->len - start);
		return -1;
	}
	return h->kind == FS_H_STAGED ? h->staged->fd : h->fd;
}

void fs_release(struct fs *fs, struct fs_handle *h)
{
	g_mutex_lock(&fs->lock);
	if (h->busy) {
		/* a read still uses it: it ends the handle */
		g_hash_table_remove(fs->handles, h);
		h->released = true;
	} else {
		fs_handle_release(fs, h);
	}
	g_mutex_unlock(&fs->lock);
}
