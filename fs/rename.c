/*
 * rename.c - the core of rename.  Renames map to what a store can do: a
 * message may change flags and folder, a folder its place, a file being
 * written its name and place (and it is stored when it now can be);
 * anything else is EXDEV, which mv(1) answers by copying.  In the dot tree
 * (dotdir.c) it is rename(2) on local disk.
 */
#include "fs-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "maildir-name.h"

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
	if ((rc = fs_folder_path(fs, dparent, newname, &to, &kind)) < 0)
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

/* A message renamed over `dst` (NULL: nothing of that name), which goes
 * unless it was the message itself.  `src` may be gone on return. */
static int rename_item_over(struct fs *fs, struct fs_node *src,
			    struct fs_node *dparent, const char *newname,
			    struct fs_node *dst)
{
	fuse_ino_t src_ino = src->ino, dst_ino = dst ? dst->ino : 0;
	g_autofree char *dst_folder = dst ? g_strdup(dst->folder) : NULL;
	g_autofree char *dst_key = dst ? g_strdup(dst->key) : NULL;
	int rc;

	if (dst && dst->type != FS_N_ITEM)
		return -EISDIR;
	rc = rename_item(fs, src, dparent, newname);
	/* it replaced another message of that name */
	struct fs_node *moved = fs_node_find(fs, src_ino);
	struct fs_node *old = rc == 0 && dst_key
		? item_node(fs, dst_ino, dst_folder, dst_key) : NULL;
	if (old && moved && old != moved &&
	    (strcmp(old->key, moved->key) ||
	     strcmp(old->folder, moved->folder)))
		fs_unlink_node(fs, old);
	return rc;
}

/* `src` renamed to `newname` in `dparent`, over `dst` (NULL: nothing of
 * that name).  Lets go of fs->lock on the way: nodes by number after it. */
static int rename_node(struct fs *fs, struct fs_node *src,
		       struct fs_node *dparent, const char *newname,
		       struct fs_node *dst)
{
	switch (src->type) {
	case FS_N_STAGED:
		return rename_staged(fs, src->staged, dparent, newname, dst);
	case FS_N_ITEM:
		return rename_item_over(fs, src, dparent, newname, dst);
	case FS_N_DIR:
		return rename_dir(fs, src, dparent, newname, dst);
	default:
		return -EBUSY;
	}
}

int fs_rename(struct fs *fs, fuse_ino_t parent, const char *name,
	      fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct fs_node *sp, *dp, *src = NULL, *dst = NULL;
	fuse_ino_t src_ino = 0, dst_ino = 0;
	int sfd = -1, dfd = -1;
	int rc;

	g_mutex_lock(&fs->lock);
	sp = fs_node_find(fs, parent);
	dp = fs_node_find(fs, newparent);
	int sdot = sp ? fs_dot_place(fs, sp, name, &sfd) : 0;
	int ddot = dp ? fs_dot_place(fs, dp, newname, &dfd) : 0;
	if (sdot != 0 || ddot != 0) {
		rc = dot_rename(sdot, sfd, name, ddot, dfd, newname, flags);
		g_mutex_unlock(&fs->lock);
		return rc;
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
	if (rc == 0)
		rc = rename_node(fs, src, dp, newname, dst);
done:
	if (dst_ino)
		fs_node_drop_ino(fs, dst_ino);
	if (src_ino)
		fs_node_drop_ino(fs, src_ino);
	g_mutex_unlock(&fs->lock);
	return fs_errno(rc);
}
