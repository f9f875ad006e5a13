/*
 * ops-write.c - the FUSE handlers that change things, and staged files.
 *
 * A file created through the mount is "staged": its bytes go to a file in the
 * cache's staging area.  It becomes an item of the store ("commit") when it
 * is complete and where an item can be:
 *
 *   - in a mail folder's cur/ or new/, under a name not starting with '.',
 *     once no handle may still write it (last close, or a rename there after
 *     close, as Maildir writers do from tmp/);
 *   - in a contacts or calendar folder, under a .vcf or .ics name, once the
 *     content has passed the structural check.
 *
 * Until then it shows under its name like any file (tmp/ holds only these).
 * An error that happens after write() returned is latched on the staged file
 * and reported by flush (close) and fsync.  Content a store refuses is moved
 * to the cache's rejected/ directory with the reason, never dropped.
 */
#include "fs-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content-check.h"
#include "fileutil.h"
#include "log.h"
#include "maildir-name.h"

/* Contacts and events larger than this are not plausible and not read. */
#define CARD_MAX (16 * 1024 * 1024)

static struct fs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static char *staged_key(enum fs_sub sub, const char *name)
{
	return g_strdup_printf("%d/%s", (int)sub, name);
}

struct fs_staged *fs_staged_find(struct fs_folder *f, enum fs_sub sub,
				 const char *name)
{
	g_autofree char *key = staged_key(sub, name);

	return g_hash_table_lookup(f->staged, key);
}

static void staged_link(struct fs_folder *f, struct fs_staged *st)
{
	g_hash_table_insert(f->staged, staged_key(st->sub, st->name), st);
	st->refs++;
	st->linked = true;
}

/* Take it out of its directory; the caller still holds a ref of its own. */
static void staged_unlink(struct fs *fs, struct fs_staged *st)
{
	struct fs_folder *f = fs_folder_find(fs, st->folder);
	g_autofree char *key = staged_key(st->sub, st->name);

	if (!st->linked)
		return;
	st->linked = false;
	if (f && g_hash_table_remove(f->staged, key))
		fs_staged_unref(fs, st);
}

void fs_staged_unref(struct fs *fs, struct fs_staged *st)
{
	if (--st->refs > 0)
		return;
	if (st->fd >= 0)
		close(st->fd);
	/* still holding a path means nobody wants the bytes any more */
	if (st->path)
		unlink(st->path);
	g_free(st->path);
	g_free(st->folder);
	g_free(st->name);
	g_free(st->replaces);
	g_free(st);
}

static int staged_new(struct fs *fs, const char *folder, enum fs_sub sub,
		      const char *name, struct fs_staged **st_r)
{
	struct fs_staged *st = g_new0(struct fs_staged, 1);
	int rc = staging_create(fs->staging, &st->fd, &st->path);

	if (rc < 0) {
		g_free(st);
		return rc;
	}
	st->folder = g_strdup(folder);
	st->sub = sub;
	st->name = g_strdup(name);
	*st_r = st;
	return 0;
}

static bool card_name(enum mfs_folder_kind kind, const char *name)
{
	return name[0] != '.' &&
	       g_str_has_suffix(name, kind == MFS_FOLDER_CALENDAR ? ".ics"
								  : ".vcf");
}

bool fs_staged_committable(struct fs *fs, const struct fs_staged *st)
{
	struct fs_folder *f = fs_folder_find(fs, st->folder);

	if (st->committed || !f || !st->path)
		return false;
	if (st->replaces)
		return true;
	if (!st->linked || st->name[0] == '.')
		return false;
	switch (f->kind) {
	case MFS_FOLDER_MAIL:
		return st->sub == FS_SUB_CUR || st->sub == FS_SUB_NEW;
	case MFS_FOLDER_CONTACTS:
	case MFS_FOLDER_CALENDAR:
		return st->sub == FS_SUB_DIR && card_name(f->kind, st->name);
	default:
		return false;
	}
}

/* Keep refused content for the user and say where; the file leaves its
 * directory.  Returns `rc`. */
static int staged_refuse(struct fs *fs, struct fs_staged *st, int rc,
			 const char *why)
{
	g_autofree char *label = g_strdup_printf("%s/%s", st->folder, st->name);
	g_autofree char *kept = NULL;

	if (staging_reject(fs->staging, st->path, label, why, &kept) == 0) {
		log_error_record("%s: %s; the content is kept as %s", label,
				 why, kept);
		g_clear_pointer(&st->path, g_free);
		staged_unlink(fs, st);
	} else {
		log_error_record("%s: %s", label, why);
	}
	st->error = rc;
	return rc;
}

static int check_card(struct fs *fs, struct fs_staged *st,
		      enum mfs_folder_kind kind)
{
	struct stat sb;
	char *buf = NULL;
	size_t len = 0;
	g_autofree char *why = NULL;
	int rc;

	if (fstat(st->fd, &sb) != 0)
		return -errno;
	if (sb.st_size > CARD_MAX)
		return staged_refuse(fs, st, -EFBIG, "larger than 16 MiB");
	if ((rc = file_read_head(st->fd, (size_t)sb.st_size, &buf, &len)) < 0)
		return rc;
	rc = kind == MFS_FOLDER_CALENDAR ? content_check_icalendar(buf, len, &why)
					 : content_check_vcard(buf, len, &why);
	g_free(buf);
	if (rc < 0) {
		g_autofree char *msg = g_strdup_printf(
			"not a valid %s: %s",
			kind == MFS_FOLDER_CALENDAR ? "iCalendar object"
						    : "vCard", why);
		return staged_refuse(fs, st, rc, msg);
	}
	return 0;
}

/* The kernel's node for a staged file now stands for the item. */
static void convert_node(struct fs *fs, struct fs_staged *st,
			 const struct fs_folder *f, const char *id)
{
	struct fs_node *node = st->ino ? fs_node_find(fs, st->ino) : NULL;

	if (!node || node->staged != st)
		return;
	node->type = FS_N_ITEM;
	node->staged = NULL;
	node->sub = FS_SUB_DIR;
	g_free(node->folder);
	node->folder = g_strdup(f->path);
	g_free(node->key);
	node->key = g_strdup(id);
	st->ino = 0;
	fs_staged_unref(fs, st);
}

/* Store a copy of the staged content as an item named after `name` in
 * `sub` of `f`.  *item_r is borrowed from the view. */
static int store_staged(struct fs *fs, struct fs_staged *st,
			struct fs_folder *f, enum fs_sub sub, const char *name,
			struct fs_item **item_r)
{
	g_autofree char *hint = NULL;
	uint64_t flags = 0;
	struct mfs_item *mi = NULL;
	struct mfs_error e = { 0 };
	struct stat sb;
	int rc;

	if (f->kind == MFS_FOLDER_MAIL) {
		if (maildir_name_parse(name, &hint, &flags) < 0)
			return -EINVAL;
		flags &= MFS_FLAG_LETTERS;
		if (sub == FS_SUB_NEW)
			flags |= MFS_FLAG_NEW;
	} else {
		hint = g_strdup(st->replaces ? st->replaces : name);
	}
	if (fstat(st->fd, &sb) != 0)
		return -errno;
	rc = mfs_store_append(fs->store, f->path, st->fd, hint, flags,
			      sb.st_mtim.tv_sec, &mi, &e);
	if (rc < 0) {
		log_error_record("%s/%s: storing failed: %s", f->path, name,
				 e.msg[0] ? e.msg : g_strerror(-rc));
		return rc;
	}
	*item_r = fs_item_put(f, mi);
	mfs_item_free(mi);
	return 0;
}

int fs_staged_commit(struct fs *fs, struct fs_staged *st, char **id_r)
{
	struct fs_folder *f = fs_folder_find(fs, st->folder);
	struct fs_item *it = NULL;
	int rc;

	if (!f)
		return -ENOENT;
	if (f->kind == MFS_FOLDER_CONTACTS || f->kind == MFS_FOLDER_CALENDAR) {
		if ((rc = check_card(fs, st, f->kind)) < 0)
			return rc;
	}
	rc = store_staged(fs, st, f, st->sub, st->name, &it);
	if (rc < 0) {
		st->error = rc;
		return rc;
	}
	st->committed = true;
	st->error = 0;
	unlink(st->path);
	g_clear_pointer(&st->path, g_free);
	if (id_r)
		*id_r = g_strdup(it->id);
	convert_node(fs, st, f, it->id);
	staged_unlink(fs, st);
	return 0;
}

/* At unmount: finish what can be finished, keep the rest for the user. */
void fs_staged_finish_all(struct fs *fs)
{
	GPtrArray *all = g_ptr_array_new();
	GHashTableIter it, sit;
	gpointer val;

	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct fs_folder *f = val;
		g_hash_table_iter_init(&sit, f->staged);
		while (g_hash_table_iter_next(&sit, NULL, &val)) {
			struct fs_staged *st = val;
			st->refs++;
			g_ptr_array_add(all, st);
		}
	}
	for (guint i = 0; i < all->len; i++) {
		struct fs_staged *st = all->pdata[i];
		if (fs_staged_committable(fs, st))
			fs_staged_commit(fs, st, NULL);
		else if (!st->committed && st->path && st->linked)
			staged_refuse(fs, st, -EIO,
				      "was not finished when the mount ended");
		fs_staged_unref(fs, st);
	}
	g_ptr_array_unref(all);
}

void fs_handle_release(struct fs *fs, struct fs_handle *h)
{
	switch (h->kind) {
	case FS_H_ITEM:
		if (h->fd >= 0)
			close(h->fd);
		break;
	case FS_H_STAGED:
		if (h->writable && --h->staged->writers == 0 &&
		    fs_staged_committable(fs, h->staged))
			fs_staged_commit(fs, h->staged, NULL);
		fs_staged_unref(fs, h->staged);
		break;
	case FS_H_CTL:
		g_free(h->text);
		break;
	}
	g_free(h);
}

int fs_open_staged_for_edit(struct fs *fs, struct fs_node *node,
			    struct fs_folder *f, struct fs_item *it,
			    bool truncate, struct fs_handle **h_r)
{
	struct fs_staged *st;
	int rc = staged_new(fs, f->path, FS_SUB_DIR, it->name, &st);

	if (rc < 0)
		return rc;
	if (!truncate) {
		int in;
		rc = mfs_store_fetch(fs->store, f->path, it->id, &in, NULL);
		if (rc == 0) {
			rc = file_copy_fd(in, st->fd);
			close(in);
		}
		if (rc < 0) {
			st->refs = 1;
			fs_staged_unref(fs, st);
			return rc;
		}
	}
	st->replaces = g_strdup(it->id);
	st->refs = 1;
	st->writers = 1;
	struct fs_handle *h = g_new0(struct fs_handle, 1);
	h->kind = FS_H_STAGED;
	h->staged = st;
	h->writable = true;
	*h_r = h;
	return 0;
}

/* Where a new file named in directory `parent` would sit. */
static int file_place(struct fs *fs, struct fs_node *parent,
		      struct fs_folder **f_r, enum fs_sub *sub_r)
{
	struct fs_folder *f;

	if (parent->type != FS_N_SUB && parent->type != FS_N_DIR)
		return -EPERM;
	f = fs_folder_find(fs, parent->folder);
	if (!f)
		return -ENOENT;
	if (parent->type == FS_N_SUB) {
		*sub_r = parent->sub;
	} else if (f->kind == MFS_FOLDER_CONTACTS ||
		   f->kind == MFS_FOLDER_CALENDAR) {
		*sub_r = FS_SUB_DIR;
	} else {
		/* a mail folder holds files only in cur/, new/ and tmp/ */
		return -EPERM;
	}
	*f_r = f;
	return 0;
}

static int new_file(struct fs *fs, fuse_ino_t parent, const char *name,
		    mode_t mode, struct fs_node **node_r)
{
	struct fs_node *p = fs_node_find(fs, parent), *existing;
	struct fs_folder *f;
	struct fs_staged *st;
	enum fs_sub sub;
	int rc;

	if (!p)
		return -ESTALE;
	if (fs->opt.read_only)
		return -EROFS;
	if (!S_ISREG(mode))
		return -EPERM;
	if ((rc = file_place(fs, p, &f, &sub)) < 0)
		return rc;
	if (fs_resolve(fs, p, name, &existing) == 0) {
		fs_node_drop_if_unused(fs, existing);
		return -EEXIST;
	}
	if ((rc = staged_new(fs, f->path, sub, name, &st)) < 0)
		return rc;
	staged_link(f, st);
	*node_r = fs_node_get(fs, FS_N_STAGED, f->path, sub, NULL, st);
	return 0;
}

void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_node *node = NULL;
	struct fuse_entry_param e;
	int rc;

	g_mutex_lock(&fs->lock);
	rc = new_file(fs, parent, name, mode, &node);
	if (rc == 0)
		rc = fs_node_attr(fs, node, &e.attr);
	if (rc == 0) {
		struct fs_handle *h = g_new0(struct fs_handle, 1);
		h->kind = FS_H_STAGED;
		h->staged = node->staged;
		h->staged->refs++;
		h->writable = true;
		h->staged->writers++;
		node->nlookup++;
		e.ino = node->ino;
		e.attr_timeout = fs->opt.attr_timeout;
		e.entry_timeout = fs->opt.entry_timeout;
		e.generation = 0;
		fi->fh = (uint64_t)(uintptr_t)h;
		fi->direct_io = 1;
	}
	g_mutex_unlock(&fs->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_create(req, &e, fi);
}

void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode, dev_t rdev)
{
	struct fs *fs = req_fs(req);
	struct fs_node *node = NULL;
	int rc;

	g_mutex_lock(&fs->lock);
	rc = new_file(fs, parent, name, mode, &node);
	if (rc < 0) {
		g_mutex_unlock(&fs->lock);
		fuse_reply_err(req, -rc);
		return;
	}
	fs_reply_entry(fs, req, node);
}

void fs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		 size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	ssize_t n;

	if (h->kind != FS_H_STAGED || !h->writable) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (h->staged->committed) {
		/* written after its last close made it an item */
		fuse_reply_err(req, EIO);
		return;
	}
	do
		n = pwrite(h->staged->fd, buf, size, off);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	h->dirty = true;
	fuse_reply_write(req, (size_t)n);
}

/*
 * close(2): the last writer's close is where a complete file commits, so
 * that a refusal reaches the program that wrote it.  Every close of a dup'd
 * descriptor flushes too, and a shell's `> file` closes one before anything
 * is written, so only a flush after new writes commits; release commits
 * whatever is left.
 */
void fs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
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
	fuse_reply_err(req, -rc);
}

void fs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	int rc = 0;

	g_mutex_lock(&fs->lock);
	if (h->kind == FS_H_STAGED) {
		if (!h->staged->committed &&
		    (datasync ? fdatasync(h->staged->fd) : fsync(h->staged->fd)))
			rc = -errno;
		if (rc == 0)
			rc = h->staged->error;
	}
	g_mutex_unlock(&fs->lock);
	fuse_reply_err(req, -rc);
}

static int set_times(int fd, const struct stat *attr, int to_set)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };

	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		ts[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		ts[1] = attr->st_mtim;
	return futimens(fd, ts) == 0 ? 0 : -errno;
}

#define TIMES (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | \
	       FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)

static int setattr_node(struct fs *fs, struct fs_node *node,
			struct fs_handle *h, struct stat *attr, int to_set)
{
	struct fs_staged *st = node->staged;

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

void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		   int to_set, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_handle *h = fi ? (struct fs_handle *)(uintptr_t)fi->fh : NULL;
	struct fs_node *node;
	struct stat st;
	int rc;

	g_mutex_lock(&fs->lock);
	node = fs_node_find(fs, ino);
	rc = node ? setattr_node(fs, node, h, attr, to_set) : -ESTALE;
	if (rc == 0)
		rc = fs_node_attr(fs, node, &st);
	if (rc == 0 && h && h->kind == FS_H_STAGED && h->staged->replaces) {
		struct stat sb;
		if (fstat(h->staged->fd, &sb) == 0) {
			st.st_size = sb.st_size;
			st.st_mtim = sb.st_mtim;
		}
	}
	g_mutex_unlock(&fs->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, fs->opt.attr_timeout);
}

static bool has_staged_below(struct fs *fs, const char *path)
{
	GHashTableIter it;
	gpointer val;
	size_t n = strlen(path);

	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct fs_folder *f = val;
		if (!strncmp(f->path, path, n) &&
		    (f->path[n] == '\0' || f->path[n] == '/') &&
		    g_hash_table_size(f->staged) > 0)
			return true;
	}
	return false;
}

static int unlink_node(struct fs *fs, struct fs_node *node)
{
	struct fs_folder *f;
	struct mfs_error e = { 0 };
	int rc;

	switch (node->type) {
	case FS_N_STAGED:
		staged_unlink(fs, node->staged);
		return 0;
	case FS_N_ITEM:
		f = fs_folder_find(fs, node->folder);
		if (!f || !g_hash_table_contains(f->items, node->key))
			return -ENOENT;
		rc = mfs_store_remove(fs->store, f->path, node->key, &e);
		if (rc < 0 && rc != -ENOENT) {
			log_error_record("deleting %s/%s: %s", f->path,
					 node->key, e.msg);
			return rc;
		}
		g_hash_table_remove(f->items, node->key);
		return 0;
	case FS_N_CTLFILE:
		return -EPERM;
	default:
		return -EISDIR;
	}
}

void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct fs_node *p, *node = NULL;
	int rc;

	g_mutex_lock(&fs->lock);
	p = fs_node_find(fs, parent);
	rc = p ? fs_resolve(fs, p, name, &node) : -ESTALE;
	if (rc == 0 && fs->opt.read_only)
		rc = -EROFS;
	if (rc == 0)
		rc = unlink_node(fs, node);
	if (node)
		fs_node_drop_if_unused(fs, node);
	g_mutex_unlock(&fs->lock);
	fuse_reply_err(req, -rc);
}

/* The folder path a directory `name` in `parent` stands for; caller owns. */
static int folder_path(struct fs *fs, struct fs_node *parent,
		       const char *name, char **path_r,
		       enum mfs_folder_kind *kind_r)
{
	struct fs_folder *pf = NULL;

	if (parent->type == FS_N_DIR)
		pf = fs_folder_find(fs, parent->folder);
	if (parent->type == FS_N_ROOT) {
		*path_r = g_strdup(name);
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

void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode)
{
	struct fs *fs = req_fs(req);
	struct fs_node *p, *node = NULL;
	g_autofree char *path = NULL;
	enum mfs_folder_kind kind = MFS_FOLDER_MAIL;
	struct mfs_error e = { 0 };
	int rc;

	g_mutex_lock(&fs->lock);
	p = fs_node_find(fs, parent);
	rc = p ? folder_path(fs, p, name, &path, &kind) : -ESTALE;
	if (rc == 0 && fs->opt.read_only)
		rc = -EROFS;
	if (rc == 0 && fs_resolve(fs, p, name, &node) == 0) {
		fs_node_drop_if_unused(fs, node);
		rc = -EEXIST;
	}
	if (rc == 0) {
		rc = mfs_store_create_folder(fs->store, path, kind, &e);
		if (rc < 0 && e.msg[0])
			log_warnx("mkdir %s: %s", path, e.msg);
	}
	if (rc < 0) {
		g_mutex_unlock(&fs->lock);
		fuse_reply_err(req, -rc);
		return;
	}
	fs_view_sync(fs, fs_view_add_folder(fs, path, kind));
	node = fs_node_get(fs, FS_N_DIR, path, 0, NULL, NULL);
	fs_reply_entry(fs, req, node);
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

void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct fs_node *p, *node = NULL;
	struct mfs_error e = { 0 };
	int rc;

	g_mutex_lock(&fs->lock);
	p = fs_node_find(fs, parent);
	rc = p ? fs_resolve(fs, p, name, &node) : -ESTALE;
	if (rc == 0 && node->type == FS_N_SUB) {
		/* cur/, new/ and tmp/ go with their folder; an empty one
		 * "goes" at once so that rm -r of a folder reaches the
		 * folder itself (see docs/DEVIATIONS.md) */
		rc = sub_is_empty(fs, node) ? 0 : -ENOTEMPTY;
		fs_node_drop_if_unused(fs, node);
		g_mutex_unlock(&fs->lock);
		fuse_reply_err(req, -rc);
		return;
	}
	if (rc == 0 && node->type != FS_N_DIR)
		rc = node->type == FS_N_CTLDIR ? -EBUSY : -ENOTDIR;
	if (rc == 0 && fs->opt.read_only)
		rc = -EROFS;
	if (rc == 0 && has_staged_below(fs, node->folder))
		rc = -ENOTEMPTY;
	if (rc == 0) {
		rc = mfs_store_delete_folder(fs->store, node->folder, &e);
		if (rc == -ENOENT)
			rc = 0;	/* only ever implied by its sub-folders */
	}
	if (rc == 0)
		fs_view_remove_folder(fs, node->folder);
	if (node)
		fs_node_drop_if_unused(fs, node);
	g_mutex_unlock(&fs->lock);
	fuse_reply_err(req, -rc);
}

/* A staged file moves; it commits if it now can, else the move is undone. */
static int rename_staged(struct fs *fs, struct fs_staged *st,
			 struct fs_node *dparent, const char *newname,
			 struct fs_node *dst)
{
	struct fs_folder *f2;
	enum fs_sub sub2;
	int rc = file_place(fs, dparent, &f2, &sub2);
	char *ofolder, *oname;
	enum fs_sub osub = st->sub;

	if (rc < 0)
		return rc == -EPERM ? -EXDEV : rc;
	if (dst && dst->type != FS_N_ITEM && dst->type != FS_N_STAGED)
		return -EISDIR;
	if (dst && dst->type == FS_N_STAGED)
		staged_unlink(fs, dst->staged);
	ofolder = st->folder;
	oname = st->name;
	st->refs++;
	staged_unlink(fs, st);
	st->folder = g_strdup(f2->path);
	st->name = g_strdup(newname);
	st->sub = sub2;
	staged_link(f2, st);
	fs_staged_unref(fs, st);
	if (st->writers == 0 && fs_staged_committable(fs, st)) {
		g_autofree char *nid = NULL;
		rc = fs_staged_commit(fs, st, &nid);
		if (rc < 0 && st->path) {
			/* put it back where the writer left it */
			st->refs++;
			staged_unlink(fs, st);
			g_free(st->folder);
			g_free(st->name);
			st->folder = ofolder;
			st->name = oname;
			st->sub = osub;
			struct fs_folder *f = fs_folder_find(fs, ofolder);
			if (f)
				staged_link(f, st);
			fs_staged_unref(fs, st);
			return rc;
		}
		/* it replaced another item of that name: that one goes */
		if (rc == 0 && dst && dst->type == FS_N_ITEM &&
		    (strcmp(dst->key, nid) || strcmp(dst->folder, f2->path)))
			unlink_node(fs, dst);
	}
	g_free(ofolder);
	g_free(oname);
	return rc;
}

/* A message renamed: new flags, another folder, or both. */
static int rename_item(struct fs *fs, struct fs_node *src,
		       struct fs_node *dparent, const char *newname)
{
	struct fs_folder *f = fs_folder_find(fs, src->folder), *f2;
	struct fs_item *it = f ? g_hash_table_lookup(f->items, src->key) : NULL;
	struct mfs_item *mi = NULL;
	struct mfs_error e = { 0 };
	enum fs_sub sub2;
	g_autofree char *id2 = NULL;
	uint64_t flags2 = 0;
	int rc;

	if (!it)
		return -ENOENT;
	if (file_place(fs, dparent, &f2, &sub2) < 0 || sub2 == FS_SUB_TMP ||
	    f2->kind != f->kind)
		return -EXDEV;
	if (f->kind == MFS_FOLDER_MAIL) {
		if (maildir_name_parse(newname, &id2, &flags2) < 0)
			return -EXDEV;
		flags2 &= MFS_FLAG_LETTERS;
		if (sub2 == FS_SUB_NEW)
			flags2 |= MFS_FLAG_NEW;
	} else {
		id2 = g_strdup(newname);
	}
	/* only flags and folder can change; a new name is a new item, which
	 * mv(1) makes by copying when told EXDEV */
	if (strcmp(id2, it->id))
		return -EXDEV;
	if (f2 == f) {
		if (flags2 == it->flags)
			return 0;
		rc = mfs_store_set_flags(fs->store, f->path, it->id, flags2, &e);
		if (rc == 0) {
			struct mfs_item cur = { it->id, it->size, it->date,
						flags2 };
			fs_item_put(f, &cur);
		}
	} else {
		rc = mfs_store_move(fs->store, f->path, it->id, f2->path,
				    flags2, &mi, &e);
		if (rc == 0) {
			struct fs_item *moved = fs_item_put(f2, mi);
			g_hash_table_remove(f->items, src->key);
			g_free(src->folder);
			src->folder = g_strdup(f2->path);
			g_free(src->key);
			src->key = g_strdup(moved->id);
			mfs_item_free(mi);
		}
	}
	if (rc < 0)
		log_error_record("renaming %s/%s: %s", f->path, it->name,
				 e.msg[0] ? e.msg : g_strerror(-rc));
	return rc;
}

static int rename_dir(struct fs *fs, struct fs_node *src,
		      struct fs_node *dparent, const char *newname,
		      struct fs_node *dst)
{
	g_autofree char *to = NULL;
	enum mfs_folder_kind kind;
	struct mfs_error e = { 0 };
	size_t n = strlen(src->folder);
	int rc;

	if (dparent->type != FS_N_ROOT && dparent->type != FS_N_DIR)
		return -EPERM;
	if ((rc = folder_path(fs, dparent, newname, &to, &kind)) < 0)
		return rc;
	if (!strcmp(to, src->folder))
		return 0;
	if (!strncmp(to, src->folder, n) && to[n] == '/')
		return -EINVAL;
	if (dst)
		return dst->type == FS_N_DIR ? -ENOTEMPTY : -ENOTDIR;
	rc = mfs_store_rename_folder(fs->store, src->folder, to, &e);
	if (rc < 0) {
		log_warnx("renaming folder %s: %s", src->folder, e.msg);
		return rc;
	}
	g_autofree char *from = g_strdup(src->folder);
	fs_view_rename_folder(fs, from, to);
	return 0;
}

void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		  fuse_ino_t newparent, const char *newname,
		  unsigned int flags)
{
	struct fs *fs = req_fs(req);
	struct fs_node *sp, *dp, *src = NULL, *dst = NULL;
	int rc;

	g_mutex_lock(&fs->lock);
	sp = fs_node_find(fs, parent);
	dp = fs_node_find(fs, newparent);
	rc = sp && dp ? fs_resolve(fs, sp, name, &src) : -ESTALE;
	if (rc == 0 && (flags & RENAME_EXCHANGE))
		rc = -EINVAL;
	if (rc == 0 && fs->opt.read_only)
		rc = -EROFS;
	if (rc == 0 && fs_resolve(fs, dp, newname, &dst) == 0) {
		if (dst == src)
			goto done;	/* the same file by another spelling */
		if (flags & RENAME_NOREPLACE)
			rc = -EEXIST;
	} else {
		dst = NULL;
	}
	if (rc == 0) {
		switch (src->type) {
		case FS_N_STAGED:
			rc = rename_staged(fs, src->staged, dp, newname, dst);
			break;
		case FS_N_ITEM:
			if (dst && dst->type != FS_N_ITEM)
				rc = -EISDIR;
			else
				rc = rename_item(fs, src, dp, newname);
			/* it replaced another message of that name */
			if (rc == 0 && dst && dst->type == FS_N_ITEM &&
			    (strcmp(dst->key, src->key) ||
			     strcmp(dst->folder, src->folder)))
				unlink_node(fs, dst);
			break;
		case FS_N_DIR:
			rc = rename_dir(fs, src, dp, newname, dst);
			break;
		default:
			rc = -EBUSY;
		}
	}
done:
	if (dst)
		fs_node_drop_if_unused(fs, dst);
	if (src)
		fs_node_drop_if_unused(fs, src);
	g_mutex_unlock(&fs->lock);
	fuse_reply_err(req, -rc);
}

/* link(2) from tmp/ into new/ or cur/ is how qmail-style agents deliver:
 * the message is stored and the tmp/ file stays until they unlink it. */
void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		const char *newname)
{
	struct fs *fs = req_fs(req);
	struct fs_node *src, *dp, *node = NULL;
	struct fs_folder *f2;
	struct fs_item *it = NULL;
	enum fs_sub sub2;
	int rc;

	g_mutex_lock(&fs->lock);
	src = fs_node_find(fs, ino);
	dp = fs_node_find(fs, newparent);
	rc = src && dp ? 0 : -ESTALE;
	if (rc == 0 && fs->opt.read_only)
		rc = -EROFS;
	if (rc == 0 && (src->type != FS_N_STAGED || src->staged->committed))
		rc = -EPERM;
	if (rc == 0 && (rc = file_place(fs, dp, &f2, &sub2)) == 0 &&
	    (f2->kind != MFS_FOLDER_MAIL || sub2 == FS_SUB_TMP ||
	     newname[0] == '.'))
		rc = -EPERM;
	if (rc == 0 && fs_resolve(fs, dp, newname, &node) == 0) {
		fs_node_drop_if_unused(fs, node);
		rc = -EEXIST;
	}
	if (rc == 0)
		rc = store_staged(fs, src->staged, f2, sub2, newname, &it);
	if (rc < 0) {
		g_mutex_unlock(&fs->lock);
		fuse_reply_err(req, -rc);
		return;
	}
	node = fs_node_get(fs, FS_N_ITEM, f2->path, FS_SUB_DIR, it->id, NULL);
	fs_reply_entry(fs, req, node);
}
