/*
 * wb-record.c - changes made on the mount, recorded: an append's bytes are
 * written to pending/ and synced, then its journal row (born QUEUED, see
 * wb-flusher.c) and its effect on the index commit in one transaction, and
 * the change returns.  The mount shows the result at once, under the name
 * it keeps (items made here are named here; the server's id is recorded
 * beside the name when it is known).  With writeback off, the changes go
 * to wb-direct.c instead; the Outbox is always a queue.
 *
 * Also what was recorded read back: the bytes of an item the server does
 * not have yet, and the bodies that go along with a change.
 */
#include "wb-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"
#include "mail-header.h"

/* A name for a new item of `folder`: the writer's own when it is free
 * (so a file keeps the name it was given), else one made here in the
 * Maildir style.  Called inside the caller's transaction. */
char *wb_choose_id(struct wb *w, const char *folder, const char *hint)
{
	struct mfs_item *it = NULL;

	if (hint && *hint && !strchr(hint, '/') && strlen(hint) < 200 &&
	    index_item(w->ix, folder, hint, &it) == -ENOENT)
		return g_strdup(hint);
	mfs_item_free(it);
	for (;;) {
		unsigned n = (unsigned)g_atomic_int_add(&w->counter, 1);
		char *id = g_strdup_printf("%" G_GINT64_FORMAT ".M%uP%d.mailfs",
					   g_get_real_time() / G_USEC_PER_SEC,
					   n, (int)getpid());
		if (index_item(w->ix, folder, id, &it) == -ENOENT)
			return id;
		mfs_item_free(it);
		it = NULL;
		g_free(id);
	}
}

/*
 * A contact or an event written over an existing one keeps its name and
 * replaces it, on the server too (backend.h: an append whose hint names
 * an item of such a folder replaces it), rather than becoming a second
 * card beside it.  Returns the id (caller owns) with the server's id of
 * the replaced item in *rid_r (caller owns; NULL while it has none yet),
 * or NULL when `hint` replaces nothing.  Call inside index_begin().
 */
static char *replaced_id(struct wb *w, const char *folder, const char *hint,
			 char **rid_r, int64_t *origin_r)
{
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;
	struct mfs_item *it = NULL;

	*rid_r = NULL;
	*origin_r = 0;
	if (!hint || index_folder_kind(w->ix, folder, &kind) < 0 ||
	    (kind != MFS_FOLDER_CONTACTS && kind != MFS_FOLDER_CALENDAR) ||
	    index_item(w->ix, folder, hint, &it) < 0)
		return NULL;
	mfs_item_free(it);
	if (index_item_rid(w->ix, folder, hint, rid_r, origin_r) < 0) {
		*rid_r = NULL;
		*origin_r = 0;
	}
	return g_strdup(hint);
}

/*
 * An item rewritten before the append that made it reached the server:
 * when that append still waits untouched and nothing else hangs on it,
 * it goes (the new bytes are the whole create: one item on the server,
 * not two).  Sets *dropped_r to the rows that went (caller owns) and
 * returns true; false leaves it to the server to replace the item once
 * its append went through (the new row hangs on it by its origin).
 * Call inside index_begin().
 */
static bool fold_into_create(struct wb *w, const char *folder, const char *id,
			     int64_t origin, GPtrArray **dropped_r)
{
	g_autoptr(jrow) last = NULL;

	*dropped_r = NULL;
	if (!origin || journal_latest_for(w->ix, folder, id, &last) < 0 ||
	    last->seq != origin || last->op != JOP_APPEND ||
	    last->state != JS_QUEUED || journal_has_dependents(w->ix, origin))
		return false;
	return wb_row_set(w, last, JS_DROPPED,
			  &(struct wb_change){ .dropped_r = dropped_r }) == 0;
}

/* Rows dropped without reaching the server take their bytes along. */
static void unlink_contents(struct wb *w, GPtrArray *rows)
{
	for (guint i = 0; rows && i < rows->len; i++) {
		struct jrow *d = rows->pdata[i];
		if (d->content) {
			g_autofree char *p = wb_content_path(w, d->content);
			unlink(p);
		}
	}
}

/* The change was journaled: the flusher takes it from here. */
static int journaled(struct wb *w)
{
	wb_wake(w);
	return 0;
}

static int fail(struct mfs_error *e, int rc, const char *what)
{
	return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL, "%s: %s",
			     what, g_strerror(-rc));
}

int wb_append(struct wb *w, const char *folder, int fd, const char *hint,
	      uint64_t flags, int64_t date, struct mfs_item **item_r,
	      struct mfs_error *e)
{
	g_autofree char *head = NULL;
	g_autofree char *msgid = NULL;
	g_autofree char *name = NULL;
	g_autofree char *path = NULL;
	g_autofree char *tmp = NULL;
	struct jrow row = { 0 };
	struct stat sb;
	size_t hlen = 0;
	int out, rc;
	bool send = wb_is_outbox(w, folder);
	/* the outbox is always a queue: a message is sent by the flusher */
	if (!w->writeback && !send)
		return wb_direct_append(w, folder, fd, hint, flags, date,
				     item_r, e);
	if (send)
		flags = 0;

	/* the Message-ID finds the message again if the outcome of its
	 * append is ever unknown */
	if (file_read_head(fd, 64 * 1024, &head, &hlen) == 0 &&
	    mail_header_get(head, hlen, "Message-ID", &msgid) < 0)
		msgid = g_strdup("");
	name = g_strdup_printf("%" G_GINT64_FORMAT "-%u-%d", g_get_real_time(),
			       (unsigned)g_atomic_int_add(&w->counter, 1),
			       (int)getpid());
	path = wb_content_path(w, name);
	tmp = g_strconcat(path, ".part", NULL);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return fail(e, -errno, w->pending);
	rc = file_copy_fd(fd, out);
	if (rc == 0 && fdatasync(out) != 0)
		rc = -errno;
	if (rc == 0 && fstat(out, &sb) != 0)
		rc = -errno;
	if (close(out) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc == 0)
		rc = file_fsync_dir(w->pending);
	if (rc < 0) {
		unlink(tmp);
		unlink(path);
		return fail(e, rc, w->pending);
	}

	row.op = send ? JOP_SEND : JOP_APPEND;
	row.folder = (char *)folder;
	row.flags = flags;
	row.date = date;
	row.size = (uint64_t)sb.st_size;
	row.msgid = msgid;
	row.content = name;
	index_begin(w->ix);
	g_autofree char *old_rid = NULL;
	g_autoptr(GPtrArray) dropped = NULL;
	int64_t origin = 0;
	g_autofree char *id = replaced_id(w, folder, hint, &old_rid, &origin);
	bool replacing = id != NULL;
	if (replacing && !old_rid && fold_into_create(w, folder, id, origin,
						      &dropped))
		replacing = false;	/* the item went with its append */
	else if (replacing && !old_rid)
		row.origin = origin;	/* its server id comes with that one */
	if (!id)
		id = wb_choose_id(w, folder, hint);
	struct mfs_item *it = mfs_item_new(id, row.size, date, flags);
	it->message_id = g_strdup(msgid);
	row.id = id;
	/* the server replaces the card it knows by this id */
	row.rid = old_rid;
	rc = journal_add(w->ix, &row);
	if (rc == 0 && replacing)
		rc = index_remove_item(w->ix, folder, id);
	if (rc == 0)
		rc = index_put_local(w->ix, folder, it, row.seq);
	if (rc == 0)
		rc = index_touch_local(w->ix, folder);
	rc = index_end(w->ix, rc);
	if (rc < 0) {
		mfs_item_free(it);
		unlink(path);
		return fail(e, rc, "journal");
	}
	unlink_contents(w, dropped);
	/* its first read is local: the body is these bytes (and no longer
	 * those of a card it replaces) */
	g_autofree char *key = blobs_key(folder, id);
	g_autofree char *blob = blobs_path(w->blobs, key);
	g_autofree char *dir = g_path_get_dirname(blob);
	unlink(blob);
	if (file_mkdir_p(dir, 0700) == 0)
		link(path, blob);
	*item_r = it;
	return journaled(w);
}

int wb_set_flags(struct wb *w, const char *folder, const char *id,
		 uint64_t flags, struct mfs_error *e)
{
	struct mfs_item *it = NULL;
	struct jrow *last = NULL;
	g_autofree char *rid = NULL;
	int64_t origin = 0, seq = 0;
	int rc;
	if (wb_is_outbox(w, folder))
		return mfs_error_set(e, -EPERM, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "messages in %s have no flags",
				     CACHE_OUTBOX);
	if (!w->writeback)
		return wb_direct_set_flags(w, folder, id, flags, e);

	index_begin(w->ix);
	rc = index_item(w->ix, folder, id, &it);
	if (rc == 0)
		rc = index_item_rid(w->ix, folder, id, &rid, &origin);
	/* a change not yet claimed by the flusher takes the new flags in
	 * place of a second row */
	if (rc == 0 && journal_latest_for(w->ix, folder, id, &last) == 0 &&
	    last->state == JS_QUEUED &&
	    (((last->op == JOP_FLAGS || last->op == JOP_APPEND) &&
	      !strcmp(last->folder, folder) && !g_strcmp0(last->id, id)) ||
	     ((last->op == JOP_MOVE || last->op == JOP_COPY) &&
	      !g_strcmp0(last->dest, folder) &&
	      !g_strcmp0(last->dest_id, id)))) {
		seq = last->seq;
		rc = journal_set_flags(w->ix, seq, flags);
	} else if (rc == 0) {
		struct jrow row = { .op = JOP_FLAGS, .folder = (char *)folder,
				    .id = (char *)id, .rid = rid,
				    .origin = origin, .flags = flags };
		rc = journal_add(w->ix, &row);
		seq = row.seq;
	}
	if (rc == 0) {
		it->flags = flags;
		rc = index_put_item(w->ix, folder, it);
	}
	if (rc == 0)
		rc = index_touch_local(w->ix, folder);
	rc = index_end(w->ix, rc);
	jrow_free(last);
	mfs_item_free(it);
	if (rc < 0)
		return rc == -ENOENT ? mfs_error_set(e, rc, MFS_ERR_ITEM,
						     MFS_ERR_FINAL, "no item "
						     "%s in %s", id, folder)
				     : fail(e, rc, "journal");
	return journaled(w);
}

void wb_drop_blob(struct wb *w, const char *folder, const char *id)
{
	g_autofree char *key = blobs_key(folder, id);
	g_autofree char *path = blobs_path(w->blobs, key);

	unlink(path);
	index_blob_remove(w->ix, key);
}

int wb_remove(struct wb *w, const char *folder, const char *id,
	      struct mfs_error *e)
{
	struct jrow *last = NULL;
	GPtrArray *dropped = NULL;
	g_autofree char *rid = NULL;
	int64_t origin = 0, seq = 0;
	int rc;
	if (!w->writeback && !wb_is_outbox(w, folder))
		return wb_direct_remove(w, folder, id, e);

	index_begin(w->ix);
	rc = index_item_rid(w->ix, folder, id, &rid, &origin);
	if (rc == 0 && wb_is_outbox(w, folder) &&
	    (journal_latest_for(w->ix, folder, id, &last) < 0 ||
	     last->op != JOP_SEND || last->state == JS_SENT)) {
		/* a message being submitted cannot be called back */
		index_end(w->ix, -EBUSY);
		jrow_free(last);
		return mfs_error_set(e, -EBUSY, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s/%s is being sent", folder, id);
	}
	if (rc == 0 && origin &&
	    (last || journal_latest_for(w->ix, folder, id, &last) == 0) &&
	    last->seq == origin &&
	    ((last->op == JOP_APPEND && last->state == JS_QUEUED &&
	      !last->origin) ||
	     (last->op == JOP_SEND && last->state != JS_SENT)) &&
	    !journal_has_dependents(w->ix, origin)) {
		/* never sent: forgetting the append is the whole delete */
		rc = wb_row_set(w, last, JS_DROPPED,
				&(struct wb_change){ .dropped_r = &dropped });
	} else if (rc == 0) {
		struct jrow row = { .op = JOP_REMOVE, .folder = (char *)folder,
				    .id = (char *)id, .rid = rid,
				    .origin = origin };
		rc = journal_add(w->ix, &row);
		seq = row.seq;
		if (rc == 0)
			rc = index_remove_item(w->ix, folder, id);
	}
	if (rc == 0)
		rc = index_touch_local(w->ix, folder);
	rc = index_end(w->ix, rc);
	jrow_free(last);
	if (rc < 0) {
		if (dropped)
			g_ptr_array_unref(dropped);
		return rc == -ENOENT ? mfs_error_set(e, rc, MFS_ERR_ITEM,
						     MFS_ERR_FINAL, "no item "
						     "%s in %s", id, folder)
				     : fail(e, rc, "journal");
	}
	unlink_contents(w, dropped);
	if (dropped)
		g_ptr_array_unref(dropped);
	wb_drop_blob(w, folder, id);
	return seq ? journaled(w) : 0;
}

/* The body of folder/id, when here, goes along to dest/dest_id (a second
 * name with `copy`).  It stays out of the eviction list until the server
 * has the item: it may be the only copy. */
void wb_carry_blob(struct wb *w, const char *folder, const char *id,
		   const char *dest, const char *dest_id, bool copy)
{
	g_autofree char *from_key = blobs_key(folder, id);
	g_autofree char *to_key = blobs_key(dest, dest_id);
	g_autofree char *from = blobs_path(w->blobs, from_key);
	g_autofree char *to = blobs_path(w->blobs, to_key);
	g_autofree char *dir = g_path_get_dirname(to);
	struct stat sb;

	if (stat(from, &sb) == 0 && file_mkdir_p(dir, 0700) == 0 &&
	    (copy ? link(from, to) : rename(from, to)) == 0 && !copy)
		index_blob_remove(w->ix, from_key);
}

int wb_move(struct wb *w, const char *folder, const char *id, const char *dest,
	    uint64_t flags, bool keep_source, struct mfs_item **item_r,
	    struct mfs_error *e)
{
	struct mfs_item *it = NULL;
	g_autofree char *rid = NULL;
	g_autofree char *dest_id = NULL;
	int64_t origin = 0;
	struct jrow row = { 0 };
	int rc;
	/* a message enters the outbox as a new file (what mv does after
	 * EXDEV) and leaves it only by being sent */
	if (wb_is_outbox(w, folder) || wb_is_outbox(w, dest))
		return mfs_error_set(e, -EXDEV, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "messages are copied into %s, not moved",
				     CACHE_OUTBOX);
	if (!w->writeback)
		return wb_direct_move(w, folder, id, dest, flags, keep_source,
				   item_r, e);

	index_begin(w->ix);
	rc = index_item(w->ix, folder, id, &it);
	if (rc == 0)
		rc = index_item_rid(w->ix, folder, id, &rid, &origin);
	if (rc == 0 && index_folder_state(w->ix, dest, NULL, NULL, NULL) < 0)
		rc = -ENOENT;
	if (rc == 0) {
		dest_id = wb_choose_id(w, dest, id);
		row.op = keep_source ? JOP_COPY : JOP_MOVE;
		row.folder = (char *)folder;
		row.id = (char *)id;
		row.rid = rid;
		row.origin = origin;
		row.dest = (char *)dest;
		row.dest_id = dest_id;
		row.flags = flags;
		row.size = it->size;
		row.date = it->date;
		row.msgid = it->message_id;
		rc = journal_add(w->ix, &row);
	}
	if (rc == 0) {
		g_free(it->id);
		it->id = g_strdup(dest_id);
		it->flags = flags;
		rc = index_put_local(w->ix, dest, it, row.seq);
	}
	if (rc == 0 && !keep_source)
		rc = index_remove_item(w->ix, folder, id);
	if (rc == 0)
		rc = index_touch_local(w->ix, dest);
	if (rc == 0 && !keep_source)
		rc = index_touch_local(w->ix, folder);
	rc = index_end(w->ix, rc);
	if (rc < 0) {
		mfs_item_free(it);
		return rc == -ENOENT ? mfs_error_set(e, rc, MFS_ERR_ITEM,
						     MFS_ERR_FINAL, "no item "
						     "%s in %s", id, folder)
				     : fail(e, rc, "journal");
	}
	wb_carry_blob(w, folder, id, dest, dest_id, keep_source);
	*item_r = it;
	return journaled(w);
}

int wb_create_folder(struct wb *w, const char *path, enum mfs_folder_kind kind,
		     struct mfs_error *e)
{
	if (wb_outbox_folder(w, path, e) < 0)
		return -EPERM;
	struct jrow row = { .op = JOP_MKDIR, .folder = (char *)path,
			    .kind = (int)kind };
	int rc;
	if (!w->writeback)
		return wb_direct_folder(w, JOP_MKDIR, path, NULL, kind, e);

	index_begin(w->ix);
	rc = index_folder_state(w->ix, path, NULL, NULL, NULL) == 0 ? -EEXIST
								    : 0;
	if (rc == 0)
		rc = journal_add(w->ix, &row);
	if (rc == 0)
		rc = index_add_folder(w->ix, path, kind);
	if (rc == 0)
		index_touch_folders(w->ix);
	rc = index_end(w->ix, rc);
	if (rc < 0)
		return rc == -EEXIST ? mfs_error_set(e, rc, MFS_ERR_FOLDER,
						     MFS_ERR_FINAL, "%s exists",
						     path)
				     : fail(e, rc, "journal");
	return journaled(w);
}

/* Bodies are named after their folder: they take the new name with it,
 * sub-folders included. */
void wb_rename_blobs(struct wb *w, const char *from, const char *to)
{
	GPtrArray *folders = NULL;
	size_t n = strlen(to);

	if (index_folders(w->ix, &folders) < 0)
		return;
	for (guint i = 0; i < folders->len; i++) {
		struct mfs_folder_info *fi = folders->pdata[i];
		GPtrArray *items = NULL;
		if (strncmp(fi->path, to, n) ||
		    (fi->path[n] && fi->path[n] != '/') ||
		    index_items(w->ix, fi->path, &items) < 0)
			continue;
		g_autofree char *old = g_strconcat(from, fi->path + n, NULL);
		for (guint k = 0; k < items->len; k++) {
			struct mfs_item *it = items->pdata[k];
			g_autofree char *ok = blobs_key(old, it->id);
			g_autofree char *nk = blobs_key(fi->path, it->id);
			g_autofree char *op = blobs_path(w->blobs, ok);
			g_autofree char *np = blobs_path(w->blobs, nk);
			g_autofree char *dir = g_path_get_dirname(np);
			struct stat sb;
			int64_t origin = 0;
			if (stat(op, &sb) != 0 || file_mkdir_p(dir, 0700) < 0 ||
			    rename(op, np) != 0)
				continue;
			index_blob_remove(w->ix, ok);
			/* a body not yet on the server is never evicted */
			if (index_item_rid(w->ix, fi->path, it->id, NULL,
					   &origin) == 0 && !origin)
				blobs_add_now(w->blobs, nk, (uint64_t)sb.st_size);
		}
		g_ptr_array_unref(items);
	}
	g_ptr_array_unref(folders);
}

int wb_rename_folder(struct wb *w, const char *from, const char *to,
		     struct mfs_error *e)
{
	if (wb_outbox_folder(w, from, e) < 0 || wb_outbox_folder(w, to, e) < 0)
		return -EPERM;
	struct jrow row = { .op = JOP_RENAME, .folder = (char *)from,
			    .dest = (char *)to };
	int rc;
	if (!w->writeback)
		return wb_direct_folder(w, JOP_RENAME, from, to, 0, e);

	index_begin(w->ix);
	rc = index_folder_state(w->ix, from, NULL, NULL, NULL);
	if (rc == 0 && index_folder_state(w->ix, to, NULL, NULL, NULL) == 0)
		rc = -EEXIST;
	if (rc == 0)
		rc = journal_add(w->ix, &row);
	if (rc == 0)
		rc = index_rename_folder(w->ix, from, to);
	if (rc == 0)
		index_touch_folders(w->ix);
	rc = index_end(w->ix, rc);
	if (rc < 0)
		return rc == -EEXIST || rc == -ENOENT
			? mfs_error_set(e, rc, MFS_ERR_FOLDER, MFS_ERR_FINAL,
					"renaming %s to %s: %s", from, to,
					g_strerror(-rc))
			: fail(e, rc, "journal");
	wb_rename_blobs(w, from, to);
	return journaled(w);
}

int wb_delete_folder(struct wb *w, const char *path, struct mfs_error *e)
{
	if (wb_outbox_folder(w, path, e) < 0)
		return -EPERM;
	struct jrow row = { .op = JOP_RMDIR, .folder = (char *)path };
	GPtrArray *items = NULL, *folders = NULL;
	g_autofree char *below = g_strconcat(path, "/", NULL);
	int rc;
	if (!w->writeback)
		return wb_direct_folder(w, JOP_RMDIR, path, NULL, 0, e);

	index_begin(w->ix);
	rc = index_folder_state(w->ix, path, NULL, NULL, NULL);
	if (rc == 0)
		rc = index_items(w->ix, path, &items);
	if (rc == 0)
		rc = index_folders(w->ix, &folders);
	for (guint i = 0; rc == 0 && i < folders->len; i++) {
		struct mfs_folder_info *fi = folders->pdata[i];
		if (g_str_has_prefix(fi->path, below))
			rc = -ENOTEMPTY;
	}
	if (rc == 0 && items->len > 0)
		rc = -ENOTEMPTY;
	if (rc == 0)
		rc = journal_add(w->ix, &row);
	if (rc == 0)
		rc = index_remove_folder(w->ix, path);
	if (rc == 0)
		index_touch_folders(w->ix);
	rc = index_end(w->ix, rc);
	if (items)
		g_ptr_array_unref(items);
	if (folders)
		g_ptr_array_unref(folders);
	if (rc < 0)
		return rc == -ENOTEMPTY || rc == -ENOENT
			? mfs_error_set(e, rc, MFS_ERR_FOLDER, MFS_ERR_FINAL,
					"removing %s: %s", path,
					g_strerror(-rc))
			: fail(e, rc, "journal");
	return journaled(w);
}

/* ---- reading what is not on the server yet ---- */

int wb_fetch_pending(struct wb *w, int64_t origin, int *fd_r,
		     struct mfs_error *e)
{
	for (int depth = 0; origin && depth < 1000; depth++) {
		struct jrow *r = NULL;
		int rc = journal_get(w->ix, origin, &r);
		if (rc < 0)
			break;
		if ((r->op == JOP_APPEND || r->op == JOP_SEND) &&
		    r->content) {
			g_autofree char *p = wb_content_path(w, r->content);
			int fd = open(p, O_RDONLY | O_CLOEXEC);
			rc = fd < 0 ? -errno : 0;
			jrow_free(r);
			if (rc < 0)
				return fail(e, rc, "pending content");
			*fd_r = fd;
			return 0;
		}
		if ((r->op == JOP_MOVE || r->op == JOP_COPY) && r->rid) {
			rc = mfs_store_fetch(w->inner, r->folder, r->rid, fd_r,
					     e);
			jrow_free(r);
			return rc;
		}
		origin = (r->op == JOP_MOVE || r->op == JOP_COPY) ? r->origin
								   : 0;
		jrow_free(r);
	}
	return mfs_error_set(e, -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL,
			     "the content of a change not yet on the server "
			     "is missing");
}

