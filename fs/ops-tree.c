/*
 * ops-tree.c - the FUSE handlers that change the tree: mkdir, rmdir, rename,
 * link and symlink.  Renames map to what a store can do: a message may
 * change flags and folder, a folder its place; anything else is EXDEV, which
 * mv(1) answers by copying.  In the dot tree (dotdir.c) each is the call of
 * the same name on local disk.
 */
#include "fs-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "maildir-name.h"

static struct fs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

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
	int dirfd = -1, dot = p ? fs_dot_place(fs, p, name, &dirfd) : 0;
	if (dot != 0) {
		rc = dot > 0 ? fs_dot_mkdir(fs, dirfd, name, mode, &node) : dot;
		fs_reply_made(fs, req, rc, node);
		return;
	}
	rc = p ? folder_path(fs, p, name, &path, &kind) : -ESTALE;
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
		g_mutex_unlock(&fs->lock);
		fuse_reply_err(req, -fs_errno(rc));
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
	int dirfd = -1, dot = p ? fs_dot_place(fs, p, name, &dirfd) : 0;
	if (dot != 0) {
		rc = dot > 0 ? fs_dot_remove(dirfd, name, true) : dot;
		g_mutex_unlock(&fs->lock);
		fuse_reply_err(req, -rc);
		return;
	}
	rc = p ? fs_resolve(fs, p, name, &node) : -ESTALE;
	if (rc == 0 && node->type == FS_N_SUB) {
		/* cur/, new/ and tmp/ go with their folder; an empty one
		 * "goes" at once so that rm -r of a folder reaches the
		 * folder itself (see docs/DEVIATIONS.md) */
		rc = sub_is_empty(fs, node) ? 0 : -ENOTEMPTY;
		fs_node_drop_if_unused(fs, node);
		g_mutex_unlock(&fs->lock);
		fuse_reply_err(req, -fs_errno(rc));
		return;
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
	fuse_reply_err(req, -fs_errno(rc));
}

/* The item node `ino` if it still stands for folder/key. */
static struct fs_node *item_node(struct fs *fs, fuse_ino_t ino,
				 const char *folder, const char *key)
{
	struct fs_node *n = ino ? fs_node_find(fs, ino) : NULL;

	if (!n || n->type != FS_N_ITEM || g_strcmp0(n->folder, folder) ||
	    g_strcmp0(n->key, key))
		return NULL;
	return n;
}

/* A staged file moves; it commits if it now can, else the move is undone.
 * Committing lets go of fs->lock: nodes are looked up again after it. */
static int rename_staged(struct fs *fs, struct fs_staged *st,
			 struct fs_node *dparent, const char *newname,
			 struct fs_node *dst)
{
	struct fs_folder *f2;
	enum fs_sub sub2;
	int rc = fs_file_place(fs, dparent, &f2, &sub2);
	char *ofolder, *oname;
	enum fs_sub osub = st->sub;

	if (rc < 0)
		return rc == -EPERM ? -EXDEV : rc;
	if (dst && dst->type != FS_N_ITEM && dst->type != FS_N_STAGED)
		return -EISDIR;
	if (dst && dst->type == FS_N_STAGED)
		fs_staged_unlink(fs, dst->staged);
	/* what the replaced item was, for after the commit */
	fuse_ino_t dst_ino = dst && dst->type == FS_N_ITEM ? dst->ino : 0;
	g_autofree char *dst_folder = dst_ino ? g_strdup(dst->folder) : NULL;
	g_autofree char *dst_key = dst_ino ? g_strdup(dst->key) : NULL;
	g_autofree char *where = g_strdup(f2->path);

	st->refs++;	/* ours, for the whole move */
	ofolder = st->folder;
	oname = st->name;
	st->refs++;
	fs_staged_unlink(fs, st);
	st->folder = g_strdup(f2->path);
	st->name = g_strdup(newname);
	st->sub = sub2;
	fs_staged_link(f2, st);
	fs_staged_unref(fs, st);
	if (st->writers == 0 && fs_staged_committable(fs, st)) {
		g_autofree char *nid = NULL;
		rc = fs_staged_commit(fs, st, &nid);
		if (rc < 0 && st->path) {
			/* put it back where the writer left it */
			st->refs++;
			fs_staged_unlink(fs, st);
			g_free(st->folder);
			g_free(st->name);
			st->folder = ofolder;
			st->name = oname;
			st->sub = osub;
			struct fs_folder *f = fs_folder_find(fs, ofolder);
			if (f)
				fs_staged_link(f, st);
			fs_staged_unref(fs, st);
			fs_staged_unref(fs, st);
			return rc;
		}
		/* it replaced another item of that name: that one goes */
		struct fs_node *old = dst_ino ? item_node(fs, dst_ino,
							   dst_folder, dst_key)
					      : NULL;
		if (rc == 0 && old &&
		    (strcmp(dst_key, nid) || strcmp(dst_folder, where)))
			fs_unlink_node(fs, old);
	}
	g_free(ofolder);
	g_free(oname);
	fs_staged_unref(fs, st);
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
	if (fs_file_place(fs, dparent, &f2, &sub2) < 0 || sub2 == FS_SUB_TMP ||
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
	if (f2 == f && flags2 == it->flags)
		return 0;
	/* the store works without fs->lock: keep copies, look up after */
	g_autofree char *from = g_strdup(f->path);
	g_autofree char *to = g_strdup(f2->path);
	g_autofree char *name = g_strdup(it->name);
	struct mfs_item cur = { g_strdup(it->id), it->size, it->date, flags2,
				g_strdup(it->message_id) };
	fuse_ino_t ino = src->ino;
	if (f2 == f) {
		rc = FS_UNLOCKED(fs, mfs_store_set_flags(fs->store, from,
							 cur.id, flags2, &e));
		if (rc == 0 && (f = fs_folder_find(fs, from)))
			fs_item_put(f, &cur);
	} else {
		rc = FS_UNLOCKED(fs, mfs_store_move(fs->store, from, cur.id, to,
						    flags2, &mi, &e));
		if (rc == 0) {
			if ((f = fs_folder_find(fs, from)))
				g_hash_table_remove(f->items, cur.id);
			if ((f2 = fs_folder_find(fs, to)))
				fs_item_put(f2, mi);
			/* the kernel's inode now stands for the moved one */
			struct fs_node *n = item_node(fs, ino, from, cur.id);
			if (n) {
				g_free(n->folder);
				n->folder = g_strdup(to);
				g_free(n->key);
				n->key = g_strdup(mi->id);
			}
			mfs_item_free(mi);
		}
	}
	g_free(cur.id);
	g_free(cur.message_id);
	if (rc < 0)
		log_error_record("renaming %s/%s: %s", from, name,
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
	g_autofree char *from = g_strdup(src->folder);
	rc = FS_UNLOCKED(fs, mfs_store_rename_folder(fs->store, from, to, &e));
	if (rc < 0) {
		log_warnx("renaming folder %s: %s", from, e.msg);
		return rc;
	}
	if (fs_folder_find(fs, from))
		fs_view_rename_folder(fs, from, to);
	return 0;
}

/*
 * A rename with either end in the dot tree (`sdot`, `ddot` as from
 * fs_dot_place).  Only one inside it is made: what is there cannot become
 * mail nor the other way round, and EXDEV has mv(1) copy instead (which
 * then fails at the first folder or file the store refuses).
 */
static int dot_rename(int sdot, int sfd, const char *name, int ddot, int dfd,
		      const char *newname, unsigned int flags)
{
	if (sdot < 0)
		return sdot;
	if (ddot < 0)
		return ddot;
	if (sdot == 0 || ddot == 0)
		return -EXDEV;
	return fs_dot_rename(sfd, name, dfd, newname, flags);
}

void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		  fuse_ino_t newparent, const char *newname,
		  unsigned int flags)
{
	struct fs *fs = req_fs(req);
	struct fs_node *sp, *dp, *src = NULL, *dst = NULL;
	fuse_ino_t src_ino = 0, dst_ino = 0;
	g_autofree char *dst_folder = NULL;
	g_autofree char *dst_key = NULL;
	int rc;

	g_mutex_lock(&fs->lock);
	sp = fs_node_find(fs, parent);
	dp = fs_node_find(fs, newparent);
	int sfd = -1, dfd = -1;
	int sdot = sp ? fs_dot_place(fs, sp, name, &sfd) : 0;
	int ddot = dp ? fs_dot_place(fs, dp, newname, &dfd) : 0;
	if (sdot != 0 || ddot != 0) {
		rc = dot_rename(sdot, sfd, name, ddot, dfd, newname, flags);
		g_mutex_unlock(&fs->lock);
		fuse_reply_err(req, -rc);
		return;
	}
	rc = sp && dp ? fs_resolve(fs, sp, name, &src) : -ESTALE;
	if (rc == 0 && (flags & RENAME_EXCHANGE))
		rc = -EINVAL;
	if (rc == 0 && (fs->opt.read_only ||
			fs_dir_read_only(fs, src->folder) ||
			fs_dir_read_only(fs, dp->folder)))
		rc = -EROFS;
	if (rc == 0 && fs_resolve(fs, dp, newname, &dst) == 0) {
		if (dst == src) {
			/* the same file by another spelling */
			src_ino = src->ino;
			goto done;
		}
		if (flags & RENAME_NOREPLACE)
			rc = -EEXIST;
	} else {
		dst = NULL;
	}
	/* the store may work without fs->lock: nodes by number afterwards */
	src_ino = src ? src->ino : 0;
	dst_ino = dst ? dst->ino : 0;
	dst_folder = dst ? g_strdup(dst->folder) : NULL;
	dst_key = dst ? g_strdup(dst->key) : NULL;
	if (rc == 0) {
		switch (src->type) {
		case FS_N_STAGED:
			rc = rename_staged(fs, src->staged, dp, newname, dst);
			break;
		case FS_N_ITEM:
			if (dst && dst->type != FS_N_ITEM) {
				rc = -EISDIR;
				break;
			}
			rc = rename_item(fs, src, dp, newname);
			/* it replaced another message of that name */
			struct fs_node *moved = fs_node_find(fs, src_ino);
			struct fs_node *old = rc == 0 && dst_key
				? item_node(fs, dst_ino, dst_folder, dst_key)
				: NULL;
			if (old && moved && old != moved &&
			    (strcmp(old->key, moved->key) ||
			     strcmp(old->folder, moved->folder)))
				fs_unlink_node(fs, old);
			break;
		case FS_N_DIR:
			rc = rename_dir(fs, src, dp, newname, dst);
			break;
		default:
			rc = -EBUSY;
		}
	}
done:
	if (dst_ino)
		fs_node_drop_ino(fs, dst_ino);
	if (src_ino)
		fs_node_drop_ino(fs, src_ino);
	g_mutex_unlock(&fs->lock);
	fuse_reply_err(req, -fs_errno(rc));
}

/* link(2) from tmp/ into new/ or cur/ is how qmail-style agents deliver:
 * the message is stored and the tmp/ file stays until they unlink it. */
void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		const char *newname)
{
	struct fs *fs = req_fs(req);
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
		fs_reply_made(fs, req, rc, node);
		return;
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
		g_mutex_unlock(&fs->lock);
		fuse_reply_err(req, -fs_errno(rc));
		return;
	}
	node = fs_node_get(fs, FS_N_ITEM, folder, FS_SUB_DIR, id, NULL);
	fs_reply_entry(fs, req, node);
}

/* Symbolic links exist only in the dot tree: a store keeps none. */
void fs_op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
		   const char *name)
{
	struct fs *fs = req_fs(req);
	struct fs_node *p, *node = NULL;
	int dirfd = -1, rc;

	g_mutex_lock(&fs->lock);
	p = fs_node_find(fs, parent);
	rc = p ? fs_dot_place(fs, p, name, &dirfd) : -ESTALE;
	if (rc == 0)
		rc = -EPERM;
	else if (rc > 0)
		rc = fs_dot_symlink(fs, target, dirfd, name, &node);
	fs_reply_made(fs, req, rc, node);
}
