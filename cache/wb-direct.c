/*
 * wb-direct.c - the changes with writeback off: the server first, then the
 * index, as the caller waits; once older journaled changes (and the
 * Outbox's queue) are all there, so that the order of changes holds.
 */
#include "wb-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"

/*
 * Without write-back a change goes to the server first and into the index
 * after, as the caller waits: once older journaled changes are all there,
 * so that the order of changes holds.  Returns 0 or -errno; on success the
 * caller holds w->replay_lock (release with direct_end).
 */
static int direct_begin(struct wb *w, struct mfs_error *e)
{
	if (journal_count(w->ix) > 0) {
		struct mfs_error why = { 0 };
		if (wb_wait_flushed(w, NULL, NULL, &why) < 0)
			return mfs_error_set(e, -EIO, MFS_ERR_ACCOUNT,
					     MFS_ERR_BACKOFF, "%s", why.msg);
	}
	g_mutex_lock(&w->replay_lock);
	return 0;
}

static void direct_end(struct wb *w)
{
	g_mutex_unlock(&w->replay_lock);
}

/* The server's id of an item of the index (for a name made here, the
 * one recorded beside it).  Caller owns *rid_r. */
static int direct_rid(struct wb *w, const char *folder, const char *id,
		      char **rid_r, struct mfs_error *e)
{
	int rc = index_item_rid(w->ix, folder, id, rid_r, NULL);

	if (rc == 0 && !*rid_r)
		rc = -EAGAIN;
	if (rc < 0)
		return mfs_error_set(e, rc == -EAGAIN ? -EIO : rc, MFS_ERR_ITEM,
				     MFS_ERR_FINAL, "%s/%s is not on the "
				     "server", folder, id);
	return 0;
}

/* ---- without write-back: the server first, then the index ---- */

int wb_direct_append(struct wb *w, const char *folder, int fd, const char *hint,
		     uint64_t flags, int64_t date, struct mfs_item **item_r,
		     struct mfs_error *e)
{
	int rc = direct_begin(w, e);

	if (rc < 0)
		return rc;
	rc = mfs_store_append(w->inner, folder, fd, hint, flags, date, item_r,
			      e);
	if (rc == 0) {
		index_put_item(w->ix, folder, *item_r);
		/* its first read is local */
		g_autofree char *key = blobs_key(folder, (*item_r)->id);
		g_autofree char *path = blobs_path(w->blobs, key);
		g_autofree char *dir = g_path_get_dirname(path);
		g_autofree char *tmp = g_strconcat(path, ".part", NULL);
		struct stat sb;
		int out = file_mkdir_p(dir, 0700) < 0 ? -1
			: open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			       0600);
		bool copied = out >= 0 && file_copy_fd(fd, out) == 0 &&
			      fstat(out, &sb) == 0;
		if (out >= 0 && close(out) < 0)
			copied = false;
		/* unless the server keeps it otherwise than written (its
		 * size says so), whose bytes then come from the server */
		if (copied && (uint64_t)sb.st_size == (*item_r)->size &&
		    rename(tmp, path) == 0)
			blobs_add_now(w->blobs, key, (uint64_t)sb.st_size);
		else
			unlink(tmp);
	}
	direct_end(w);
	return rc;
}

int wb_direct_set_flags(struct wb *w, const char *folder, const char *id,
			uint64_t flags, struct mfs_error *e)
{
	g_autofree char *rid = NULL;
	struct mfs_item *it = NULL;
	int rc = direct_begin(w, e);

	if (rc < 0)
		return rc;
	if ((rc = direct_rid(w, folder, id, &rid, e)) == 0)
		rc = mfs_store_set_flags(w->inner, folder, rid, flags, e);
	if (rc == 0 && index_item(w->ix, folder, id, &it) == 0) {
		it->flags = flags;
		index_put_item(w->ix, folder, it);
	}
	mfs_item_free(it);
	direct_end(w);
	return rc;
}

int wb_direct_remove(struct wb *w, const char *folder, const char *id,
		     struct mfs_error *e)
{
	g_autofree char *rid = NULL;
	int rc = direct_begin(w, e);

	if (rc < 0)
		return rc;
	if ((rc = direct_rid(w, folder, id, &rid, e)) == 0)
		rc = mfs_store_remove(w->inner, folder, rid, e);
	if (rc == 0 || rc == -ENOENT) {
		index_remove_item(w->ix, folder, id);
		wb_drop_blob(w, folder, id);
	}
	direct_end(w);
	return rc;
}

int wb_direct_move(struct wb *w, const char *folder, const char *id,
		   const char *dest, uint64_t flags, bool keep_source,
		   struct mfs_item **item_r, struct mfs_error *e)
{
	g_autofree char *rid = NULL;
	int rc = direct_begin(w, e);

	if (rc < 0)
		return rc;
	if ((rc = direct_rid(w, folder, id, &rid, e)) == 0)
		rc = (keep_source ? mfs_store_copy : mfs_store_move)(
			w->inner, folder, rid, dest, flags, item_r, e);
	if (rc == 0) {
		if (!keep_source)
			index_remove_item(w->ix, folder, id);
		index_put_item(w->ix, dest, *item_r);
		/* same bytes, another name */
		g_autofree char *fk = blobs_key(folder, id);
		g_autofree char *tk = blobs_key(dest, (*item_r)->id);
		g_autofree char *from = blobs_path(w->blobs, fk);
		g_autofree char *to = blobs_path(w->blobs, tk);
		g_autofree char *dir = g_path_get_dirname(to);
		struct stat sb;
		if (stat(from, &sb) == 0 && file_mkdir_p(dir, 0700) == 0 &&
		    (keep_source ? link(from, to) : rename(from, to)) == 0)
			blobs_add_now(w->blobs, tk, (uint64_t)sb.st_size);
		if (!keep_source)
			index_blob_remove(w->ix, fk);
	}
	direct_end(w);
	return rc;
}

int wb_direct_folder(struct wb *w, enum jop op, const char *path,
		     const char *to, enum mfs_folder_kind kind,
		     struct mfs_error *e)
{
	int rc = direct_begin(w, e);

	if (rc < 0)
		return rc;
	switch (op) {
	case JOP_MKDIR:
		rc = mfs_store_create_folder(w->inner, path, kind, e);
		if (rc == 0)
			index_add_folder(w->ix, path, kind);
		break;
	case JOP_RENAME:
		rc = mfs_store_rename_folder(w->inner, path, to, e);
		if (rc == 0) {
			index_rename_folder(w->ix, path, to);
			wb_rename_blobs(w, path, to);
			w->hooks.resync(w->hooks.owner, "");
			w->hooks.resync(w->hooks.owner, to);
		}
		break;
	default:
		rc = mfs_store_delete_folder(w->inner, path, e);
		if (rc == 0)
			index_remove_folder(w->ix, path);
		break;
	}
	if (rc == 0)
		index_touch_folders(w->ix);
	direct_end(w);
	return rc;
}

