/*
 * ops.c - the FUSE handlers and their table.  Each unpacks its request,
 * calls the one core function that does the work (see fs-private.h; the
 * core takes fs->lock itself), and replies exactly once.
 */
#include "fs-private.h"

#include <errno.h>
#include <string.h>

static struct fs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void count_req(fuse_req_t req, enum fs_req kind)
{
	g_atomic_int_inc(&req_fs(req)->requests[kind]);
}

static struct fs_handle *fi_handle(const struct fuse_file_info *fi)
{
	return (struct fs_handle *)(uintptr_t)fi->fh;
}

static void entry_param(struct fs *fs, const struct fs_entry *ent,
			struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = ent->ino;
	e->attr = ent->attr;
	e->attr_timeout = fs->opt.attr_timeout;
	e->entry_timeout = fs->opt.entry_timeout;
}

/* Reply with -rc when rc < 0, else with the entry `ent`. */
static void reply_entry(fuse_req_t req, int rc, const struct fs_entry *ent)
{
	struct fuse_entry_param e;

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	entry_param(req_fs(req), ent, &e);
	fuse_reply_entry(req, &e);
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

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_entry e;

	count_req(req, FS_REQ_LOOKUP);
	reply_entry(req, fs_lookup(req_fs(req), parent, name, &e), &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	count_req(req, FS_REQ_OTHER);
	fs_forget(req_fs(req), ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	count_req(req, FS_REQ_OTHER);
	for (size_t i = 0; i < count; i++)
		fs_forget(req_fs(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct stat st;
	int rc = fs_getattr(fs, ino, &st);

	count_req(req, FS_REQ_GETATTR);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, fs->opt.attr_timeout);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct stat st;
	int rc = fs_setattr(fs, ino, fi ? fi_handle(fi) : NULL, attr, to_set,
			    &st);

	count_req(req, FS_REQ_OTHER);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, fs->opt.attr_timeout);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	g_autofree char *target = NULL;
	int rc = fs_readlink(req_fs(req), ino, &target);

	count_req(req, FS_REQ_OTHER);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct fs_entry e;

	count_req(req, FS_REQ_OTHER);
	reply_entry(req, fs_mknod(req_fs(req), parent, name, mode, rdev, &e),
		    &e);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct fs_entry e;

	count_req(req, FS_REQ_OTHER);
	reply_entry(req, fs_mkdir(req_fs(req), parent, name, mode, &e), &e);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	count_req(req, FS_REQ_OTHER);
	fuse_reply_err(req, -fs_unlink(req_fs(req), parent, name));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	count_req(req, FS_REQ_OTHER);
	fuse_reply_err(req, -fs_rmdir(req_fs(req), parent, name));
}

static void op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
		       const char *name)
{
	struct fs_entry e;

	count_req(req, FS_REQ_OTHER);
	reply_entry(req, fs_symlink(req_fs(req), target, parent, name, &e),
		    &e);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	count_req(req, FS_REQ_OTHER);
	fuse_reply_err(req, -fs_rename(req_fs(req), parent, name, newparent,
				       newname, flags));
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct fs_entry e;

	count_req(req, FS_REQ_OTHER);
	reply_entry(req, fs_link(req_fs(req), ino, newparent, newname, &e),
		    &e);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_open_mode how;
	struct fs_handle *h;
	int rc = fs_open(req_fs(req), ino, fi->flags, &how, &h);

	count_req(req, FS_REQ_OPEN);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->direct_io = how.direct_io;
	fi->keep_cache = how.keep_cache;
	fi->noflush = how.noflush;
	fi->fh = (uint64_t)(uintptr_t)h;
	fuse_reply_open(req, fi);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_open_mode how;
	struct fuse_entry_param e;
	struct fs_entry ent;
	struct fs_handle *h;
	int rc = fs_create(fs, parent, name, mode, fi->flags, &ent, &how, &h);

	count_req(req, FS_REQ_OTHER);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	entry_param(fs, &ent, &e);
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = how.direct_io;
	fuse_reply_create(req, &e, fi);
}

/* The kernel releases a file whose reader was killed without waiting for
 * the read: the handle is held until the reply is made. */
static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_handle *h = fi_handle(fi);
	const char *text;
	size_t len;

	count_req(req, FS_REQ_READ);
	if (!fs_handle_enter(fs, h)) {
		fuse_reply_err(req, EBADF);
		return;
	}
	int fd = fs_read_source(h, off, size, &text, &len);
	if (fd < 0) {
		fuse_reply_buf(req, text, len);
	} else {
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = fd;
		bv.buf[0].pos = off;
		fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
	}
	fs_handle_leave(fs, h);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	ssize_t n = fs_write(req_fs(req), fi_handle(fi), buf, size, off);

	count_req(req, FS_REQ_OTHER);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi)
{
	count_req(req, FS_REQ_OTHER);
	fuse_reply_err(req, -fs_flush(req_fs(req), fi_handle(fi)));
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	count_req(req, FS_REQ_RELEASE);
	fs_release(req_fs(req), fi_handle(fi));
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	count_req(req, FS_REQ_OTHER);
	fuse_reply_err(req, -fs_fsync(req_fs(req), ino, fi_handle(fi),
				      datasync));
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	count_req(req, FS_REQ_OTHER);
	fuse_reply_err(req, -fs_fsyncdir(req_fs(req), ino, datasync));
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_dirh *dh;
	int rc = fs_opendir(fs, ino, &dh);

	count_req(req, FS_REQ_OPENDIR);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)dh;
	/* the kernel sends no releasedir for a reply it did not take */
	if (fuse_reply_open(req, fi) == -ENOENT)
		fs_closedir(fs, dh);
}

/* A readdir reply being filled. */
struct dirbuf {
	fuse_req_t req;
	bool plus;
	char *buf;
	size_t size;
	size_t pos;
};

static bool add_dirent(const char *name, const struct fs_entry *ent,
		       off_t next, void *data)
{
	struct dirbuf *b = data;
	size_t need;

	if (b->plus) {
		struct fuse_entry_param e;
		entry_param(req_fs(b->req), ent, &e);
		need = fuse_add_direntry_plus(b->req, b->buf + b->pos,
					      b->size - b->pos, name, &e,
					      next);
	} else {
		need = fuse_add_direntry(b->req, b->buf + b->pos,
					 b->size - b->pos, name, &ent->attr,
					 next);
	}
	if (need > b->size - b->pos)
		return false;
	b->pos += need;
	return true;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct dirbuf b = { req, plus, g_malloc(size), size, 0 };
	int rc = fs_readdir(req_fs(req), ino,
			    (struct fs_dirh *)(uintptr_t)fi->fh, off, plus,
			    add_dirent, &b);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, b.buf, b.pos);
	g_free(b.buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	count_req(req, FS_REQ_READDIR);
	do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	count_req(req, FS_REQ_READDIRPLUS);
	do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	count_req(req, FS_REQ_OTHER);
	fs_closedir(req_fs(req), (struct fs_dirh *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	int rc = fs_statfs(req_fs(req), ino, &sv);

	count_req(req, FS_REQ_OTHER);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_statfs(req, &sv);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	g_autofree char *value = NULL;
	size_t len = 0;
	int rc = fs_getxattr(req_fs(req), ino, name, &value, &len);

	count_req(req, FS_REQ_OTHER);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		reply_xattr_bytes(req, value, len, size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	g_autofree char *list = NULL;
	size_t len = 0;
	int rc = fs_listxattr(req_fs(req), ino, &list, &len);

	count_req(req, FS_REQ_OTHER);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		reply_xattr_bytes(req, list, len, size);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	count_req(req, FS_REQ_OTHER);
	fuse_reply_err(req, -fs_setxattr(req_fs(req), ino, name, value, size,
					 flags));
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	count_req(req, FS_REQ_OTHER);
	fuse_reply_err(req, -fs_removexattr(req_fs(req), ino, name));
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	/* readdirplus hands the kernel every name with its attributes, so
	 * a walk that opens each file (grep -r, rsync) sends no lookup.
	 * Always, not "auto": the kernel's guess falls back to plain
	 * readdir after the first batch, and then each file costs a
	 * lookup on the first pass and, once read, a getattr on the next
	 * (a read marks the access time stale; a listing refreshes it) */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
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
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.fsyncdir = op_fsyncdir,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.create = op_create,
};
