/*
 * files.c - making, writing, syncing and removing files: the core of
 * create, mknod, write, flush, fsync, fsyncdir, setattr and unlink.  Files
 * being written are staged (see staged.c) and become items when complete;
 * an error after write() returned is reported by flush and fsync.
 */
#include "fs-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* Where a new file named in directory `parent` would sit. */
int fs_file_place(struct fs *fs, struct fs_node *parent,
		      struct fs_folder **f_r, enum fs_sub *sub_r)
{
	struct fs_folder *f;

	if (parent->type != FS_N_SUB && parent->type != FS_N_DIR)
		return -EPERM;
	f = fs_folder_find(fs, parent->folder);
	if (!f)
		return -ENOENT;
	if (f->kind == MFS_FOLDER_DIRECTORY) {
		return -EROFS;	/* the server's address book */
	} else if (parent->type == FS_N_SUB) {
		*sub_r = parent->sub;
	} else if (f->kind == MFS_FOLDER_CONTACTS ||
		   f->kind == MFS_FOLDER_CALENDAR ||
		   f->kind == MFS_FOLDER_OUTBOX) {
		*sub_r = FS_SUB_DIR;
	} else {
		/* a mail folder holds files only in cur/, new/ and tmp/ */
		return -EPERM;
	}
	*f_r = f;
	return 0;
}

static int new_file(struct fs *fs, struct fs_node *p, const char *name,
		    mode_t mode, struct fs_node **node_r)
{
	struct fs_node *existing;
	struct fs_folder *f;
	struct fs_staged *st;
	enum fs_sub sub;
	int rc;

	if (fs->opt.read_only)
		return -EROFS;
	if (!S_ISREG(mode))
		return -EPERM;
	if ((rc = fs_file_place(fs, p, &f, &sub)) < 0)
		return rc;
	if (fs_resolve(fs, p, name, &existing) == 0) {
		fs_node_drop_if_unused(fs, existing);
		return -EEXIST;
	}
	if ((rc = fs_staged_new(fs, f->path, sub, name, &st)) < 0)
		return rc;
	fs_staged_link(f, st);
	*node_r = fs_node_get(fs, FS_N_STAGED, f->path, sub, NULL, st);
	return 0;
}

/* The handle of a file just created: `fd` open in the dot tree, or -1 for
 * the staged file of `node`. */
static struct fs_handle *created_handle(struct fs_node *node, int fd,
					int flags)
{
	struct fs_handle *h = g_new0(struct fs_handle, 1);

	if (fd >= 0) {
		h->kind = FS_H_DOT;
		h->fd = fd;
		h->writable = (flags & O_ACCMODE) != O_RDONLY;
		return h;
	}
	h->kind = FS_H_STAGED;
	h->staged = node->staged;
	h->staged->refs++;
	h->writable = true;
	h->staged->writers++;
	return h;
}

int fs_create(struct fs *fs, fuse_ino_t parent, const char *name,
	      mode_t mode, int flags, struct fs_entry *e,
	      struct fs_open_mode *how, struct fs_handle **h_r)
{
	struct fs_node *p, *node = NULL;
	struct fs_handle *h;
	int dirfd = -1, fd = -1;
	int rc;

	memset(e, 0, sizeof(*e));
	memset(how, 0, sizeof(*how));
	g_mutex_lock(&fs->lock);
	p = fs_node_find(fs, parent);
	rc = p ? fs_dot_place(fs, p, name, &dirfd) : -ESTALE;
	if (rc > 0)
		rc = fs_dot_create(fs, dirfd, name, mode, flags, &node, &fd);
	else if (rc == 0)
		rc = new_file(fs, p, name, mode, &node);
	if (rc == 0)
		rc = fs_node_attr(fs, node, &e->attr);
	if (rc < 0 && fd >= 0)
		close(fd);
	if (rc == 0) {
		h = created_handle(node, fd, flags);
		node->nlookup++;
		e->ino = node->ino;
		/* a dot-tree file is cached as any disk file is */
		how->direct_io = h->kind == FS_H_STAGED;
		fs_handle_track(fs, h);
		*h_r = h;
	}
	g_mutex_unlock(&fs->lock);
	/* a local disk's errno is told as it is */
	if (rc < 0)
		return dirfd >= 0 ? rc : fs_errno(rc);
	return 0;
}

int fs_mknod(struct fs *fs, fuse_ino_t parent, const char *name,
	     mode_t mode, dev_t rdev, struct fs_entry *e)
{
	struct fs_node *p, *node = NULL;
	int dirfd = -1;
	int rc;

	g_mutex_lock(&fs->lock);
	p = fs_node_find(fs, parent);
	rc = p ? fs_dot_place(fs, p, name, &dirfd) : -ESTALE;
	if (rc > 0)
		rc = fs_dot_mknod(fs, dirfd, name, mode, rdev, &node);
	else if (rc == 0)
		rc = new_file(fs, p, name, mode, &node);
	if (rc < 0)
		rc = dirfd >= 0 ? rc : fs_errno(rc);
	else
		rc = fs_entry_take(fs, node, e);
	g_mutex_unlock(&fs->lock);
	return rc;
}

/* pwrite(2) to a dot-tree file, without fs->lock; the handle is held so
 * that a release meanwhile (the writer was killed) waits.  Returns the
 * count written or -errno. */
static ssize_t dot_write(struct fs *fs, struct fs_handle *h, const char *buf,
			 size_t size, off_t off)
{
	ssize_t n;

	if (!fs_handle_enter(fs, h))
		return -EBADF;
	do
		n = pwrite(h->fd, buf, size, off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	fs_handle_leave(fs, h);
	return n;
}

ssize_t fs_write(struct fs *fs, struct fs_handle *h, const char *buf,
		 size_t size, off_t off)
{
	ssize_t n;

	if (h->kind == FS_H_DOT)
		return dot_write(fs, h, buf, size, off);
	if (h->kind != FS_H_STAGED || !h->writable)
		return -EBADF;
	/* written after its last close made it an item */
	if (h->staged->committed)
		return -EIO;
	do
		n = pwrite(h->staged->fd, buf, size, off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	h->dirty = true;
	return n;
}

/*
 * close(2): the last writer's close is where a complete file commits, so
 * that a refusal reaches the program that wrote it.  Every close of a dup'd
 * descriptor flushes too, and a shell's `> file` closes one before anything
 * is written, so only a flush after new writes commits; release commits
 * whatever is left.
 */
int fs_flush(struct fs *fs, struct fs_handle *h)
{
	int rc = 0;

	g_mutex_lock(&fs->lock);
	if (h->kind == FS_H_STAGED) {
		struct fs_staged *st = h->staged;
		if (h->writable && h->dirty && st->writers == 1 &&
		    fs_staged_committable(fs, st))
			fs_staged_commit(fs, st, NULL);
		h->dirty = false;
		rc = st->error;
	}
	g_mutex_unlock(&fs->lock);
	return fs_errno(rc);
}

/* Wait, without fs->lock, until what was changed of the node's item or
 * folder has reached the server.  Returns 0 or -errno. */
static int flush_node(struct fs *fs, fuse_ino_t ino)
{
	g_autofree char *folder = NULL;
	g_autofree char *id = NULL;
	struct mfs_error e = { 0 };
	struct fs_node *n;
	int rc;

	g_mutex_lock(&fs->lock);
	n = fs_node_find(fs, ino);
	if (n && (n->type == FS_N_ITEM || n->type == FS_N_DIR ||
		  n->type == FS_N_SUB)) {
		folder = g_strdup(n->folder);
		id = n->type == FS_N_ITEM ? g_strdup(n->key) : NULL;
	}
	g_mutex_unlock(&fs->lock);
	if (!folder)
		return 0;
	rc = mfs_store_flush(fs->store, folder, id, &e);
	if (rc < 0)
		log_error_record("fsync of %s%s%s: %s", folder, id ? "/" : "",
				 id ? id : "", e.msg[0] ? e.msg
							: g_strerror(-rc));
	return rc < 0 ? -EIO : 0;
}

/* A dot-tree file to disk, without fs->lock; the handle is held so that
 * a release meanwhile (the caller was killed) waits.  Returns 0 or -errno. */
static int dot_fsync(struct fs *fs, struct fs_handle *h, int datasync)
{
	int rc = 0;

	if (!fs_handle_enter(fs, h))
		return -EBADF;
	if ((datasync ? fdatasync(h->fd) : fsync(h->fd)) != 0)
		rc = -errno;
	fs_handle_leave(fs, h);
	return rc;
}

int fs_fsync(struct fs *fs, fuse_ino_t ino, struct fs_handle *h,
	     int datasync)
{
	int rc = 0;

	if (h->kind == FS_H_DOT)
		return dot_fsync(fs, h, datasync);
	g_mutex_lock(&fs->lock);
	if (h->kind == FS_H_STAGED) {
		if (!h->staged->committed &&
		    (datasync ? fdatasync(h->staged->fd) : fsync(h->staged->fd)))
			rc = -errno;
		if (rc == 0)
			rc = h->staged->error;
	}
	g_mutex_unlock(&fs->lock);
	/* a stored item's own changes reach the server before fsync returns
	 * (a file still being written is not stored yet) */
	if (rc == 0)
		rc = flush_node(fs, ino);
	return fs_errno(rc);
}

/* A directory of the dot tree to disk; fs->lock is not held while the
 * disk works.  Returns 0 or -errno. */
static int dot_fsyncdir(struct fs *fs, fuse_ino_t ino, int datasync)
{
	struct fs_node *n;
	int fd = -1, rc;

	g_mutex_lock(&fs->lock);
	n = fs_node_find(fs, ino);
	rc = n ? fs_dot_reopen(n, O_RDONLY | O_DIRECTORY, &fd) : -ESTALE;
	g_mutex_unlock(&fs->lock);
	if (rc < 0)
		return rc;
	if ((datasync ? fdatasync(fd) : fsync(fd)) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int fs_fsyncdir(struct fs *fs, fuse_ino_t ino, int datasync)
{
	struct fs_node *n;
	bool dot;

	g_mutex_lock(&fs->lock);
	n = fs_node_find(fs, ino);
	dot = n && n->type == FS_N_DOT;
	g_mutex_unlock(&fs->lock);
	return dot ? dot_fsyncdir(fs, ino, datasync) : flush_node(fs, ino);
}

void fs_setattr_times(const struct stat *attr, int to_set,
		      struct timespec ts[2])
{
	ts[0].tv_sec = ts[1].tv_sec = 0;
	ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		ts[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		ts[1] = attr->st_mtim;
}

static int set_times(int fd, const struct stat *attr, int to_set)
{
	struct timespec ts[2];

	fs_setattr_times(attr, to_set, ts);
	return futimens(fd, ts) == 0 ? 0 : -errno;
}

#define TIMES (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | \
	       FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)

static int setattr_node(struct fs *fs, struct fs_node *node,
			struct fs_handle *h, const struct stat *attr,
			int to_set)
{
	struct fs_staged *st = node->staged;

	if (node->type == FS_N_DOT)
		return fs_dot_setattr(fs, node, h && h->kind == FS_H_DOT
						? h->fd : -1, attr, to_set);
	if (h && h->kind == FS_H_STAGED)
		st = h->staged;	/* an open rewrite of a contact */
	if (st && !st->committed) {
		if ((to_set & FUSE_SET_ATTR_SIZE) &&
		    ftruncate(st->fd, attr->st_size) != 0)
			return -errno;
		if (to_set & TIMES)
			return set_times(st->fd, attr, to_set);
		/* owner and mode are the mount's; nothing to keep */
		return 0;
	}
	switch (node->type) {
	case FS_N_ROOT:
	case FS_N_DIR:
	case FS_N_SUB:
	case FS_N_CTLDIR:
		/* directory attributes are the mount's own (see
		 * docs/DEVIATIONS.md); accepting them lets rsync -a and
		 * cp -a copy a tree in */
		return (to_set & FUSE_SET_ATTR_SIZE) ? -EISDIR : 0;
	case FS_N_ITEM: {
		struct fs_folder *f = fs_folder_find(fs, node->folder);
		struct fs_item *it = f ? g_hash_table_lookup(f->items,
							     node->key)
				       : NULL;
		if (!it)
			return -ENOENT;
		if ((to_set & FUSE_SET_ATTR_SIZE) &&
		    (uint64_t)attr->st_size != it->size)
			return -EPERM;
		if ((to_set & FUSE_SET_ATTR_MTIME) &&
		    attr->st_mtim.tv_sec != it->date)
			return -EPERM;
		if (to_set & (FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_UID |
			      FUSE_SET_ATTR_GID))
			return -EPERM;
		return 0;
	}
	default:
		return -EPERM;
	}
}

int fs_setattr(struct fs *fs, fuse_ino_t ino, struct fs_handle *h,
	       const struct stat *attr, int to_set, struct stat *st)
{
	struct fs_node *node;
	int rc;

	g_mutex_lock(&fs->lock);
	node = fs_node_find(fs, ino);
	rc = node ? setattr_node(fs, node, h, attr, to_set) : -ESTALE;
	if (rc == 0)
		rc = fs_node_attr(fs, node, st);
	if (rc == 0 && h && h->kind == FS_H_STAGED && h->staged->replaces) {
		struct stat sb;
		if (fstat(h->staged->fd, &sb) == 0) {
			st->st_size = sb.st_size;
			st->st_mtim = sb.st_mtim;
		}
	}
	g_mutex_unlock(&fs->lock);
	return rc < 0 ? fs_errno(rc) : 0;
}

/* Takes `node` out of its directory; an item is removed from the store
 * without fs->lock, so `node` may be gone on return (look it up by ino). */
int fs_unlink_node(struct fs *fs, struct fs_node *node)
{
	struct fs_folder *f;
	struct mfs_error e = { 0 };
	int rc;

	switch (node->type) {
	case FS_N_STAGED:
		fs_staged_unlink(fs, node->staged);
		return 0;
	case FS_N_ITEM: {
		f = fs_folder_find(fs, node->folder);
		if (!f || !g_hash_table_contains(f->items, node->key))
			return -ENOENT;
		if (f->kind == MFS_FOLDER_DIRECTORY)
			return -EROFS;
		g_autofree char *folder = g_strdup(f->path);
		g_autofree char *id = g_strdup(node->key);
		rc = FS_UNLOCKED(fs, mfs_store_remove(fs->store, folder, id,
						      &e));
		if (rc < 0 && rc != -ENOENT) {
			log_error_record("deleting %s/%s: %s", folder, id,
					 e.msg);
			return rc;
		}
		if ((f = fs_folder_find(fs, folder)))
			g_hash_table_remove(f->items, id);
		return 0;
	}
	case FS_N_CTLFILE:
		return -EPERM;
	default:
		return -EISDIR;
	}
}

int fs_unlink(struct fs *fs, fuse_ino_t parent, const char *name)
{
	struct fs_node *p, *node = NULL;
	int rc;

	g_mutex_lock(&fs->lock);
	p = fs_node_find(fs, parent);
	int dirfd = -1, dot = p ? fs_dot_place(fs, p, name, &dirfd) : 0;
	if (dot != 0) {
		rc = dot > 0 ? fs_dot_remove(dirfd, name, false) : dot;
		g_mutex_unlock(&fs->lock);
		return rc;
	}
	rc = p ? fs_resolve(fs, p, name, &node) : -ESTALE;
	if (rc == 0 && fs->opt.read_only)
		rc = -EROFS;
	fuse_ino_t ino = node ? node->ino : 0;
	if (rc == 0)
		rc = fs_unlink_node(fs, node);
	fs_node_drop_ino(fs, ino);
	g_mutex_unlock(&fs->lock);
	return fs_errno(rc);
}
