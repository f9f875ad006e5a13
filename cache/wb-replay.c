/*
 * wb-replay.c - one journal row replayed against the inner store, and
 * how a row ends: DONE (wb_finish_row) or REFUSED (wb_refuse_row, what
 * the user made kept in sync-issues/).
 *
 * Idempotence.  A row is SENT before its request leaves, so after a crash
 * or a lost connection the outcome of an append or copy is unknown: before
 * it is repeated the folder is listed and an item not known here with the
 * same Message-ID (or, without one, the same size) whose bytes are the
 * same is taken to be it.  Flags are set to an exact value, a delete of a
 * missing message succeeds, a repeated move of a message already moved
 * finds it in the target the same way.
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

/* ---- looking up what may have been done already ---- */

/* Whether the inner item `rid` of `folder` has exactly the bytes of the
 * file `path`: 1 yes, 0 no, -errno when it could not be told (the fetch
 * failed: the lookup must fail too, or the change would be made twice). */
static int same_bytes(struct wb *w, const char *folder, const char *rid,
		      const char *path, struct mfs_error *e)
{
	g_autofree char *want = NULL, *got = NULL;
	gsize wlen = 0;
	int fd, rc;

	if (!g_file_get_contents(path, &want, &wlen, NULL))
		return 0;
	if ((rc = mfs_store_fetch(w->inner, folder, rid, &fd, e)) < 0)
		return rc == -ENOENT && e->retry == MFS_ERR_FINAL ? 0 : rc;
	struct stat sb;
	int same = 0;
	if (fstat(fd, &sb) == 0 && (gsize)sb.st_size == wlen) {
		got = g_malloc(wlen + 1);
		ssize_t n = pread(fd, got, wlen, 0);
		if (n < 0)
			same = mfs_error_set(e, -errno, MFS_ERR_ITEM,
					     MFS_ERR_TRANSIENT, "reading: %s",
					     g_strerror(errno));
		else
			same = n == (ssize_t)wlen && memcmp(got, want, wlen) == 0;
	}
	close(fd);
	return same;
}

/*
 * A request of `r` may have reached the server before: find in `folder`
 * an item that no item here stands for, with the row's Message-ID (or,
 * without one, its size), and with the bytes of `bytes` when a local copy
 * is there to compare.  Returns 0 with *rid_r (caller owns), -ENOENT when
 * there is none, or the listing's failure.
 */
static int find_sent(struct wb *w, const char *folder, const struct jrow *r,
		     const char *bytes, char **rid_r, struct mfs_error *e)
{
	struct mfs_sync_result *res = NULL;
	int rc = mfs_store_sync(w->inner, folder, NULL, &res, e);

	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (guint i = 0; i < res->changed->len && rc == -ENOENT; i++) {
		struct mfs_item *it = res->changed->pdata[i];
		bool by_id = r->msgid && *r->msgid;
		if (it->size != r->size || index_has_rid(w->ix, folder, it->id))
			continue;
		if (by_id && g_strcmp0(it->message_id, r->msgid))
			continue;
		if (bytes && access(bytes, R_OK) == 0) {
			int same = same_bytes(w, folder, it->id, bytes, e);
			if (same < 0) {
				rc = same;
				break;
			}
			if (!same)
				continue;
		} else if (!by_id) {
			continue;
		}
		*rid_r = g_strdup(it->id);
		rc = 0;
	}
	mfs_sync_result_free(&res);
	return rc;
}

/* Whether the server lists the rename's target and not its source. */
static bool renamed_already(struct wb *w, const struct jrow *r)
{
	GPtrArray *list = NULL;
	struct mfs_error e = { 0 };
	bool from = false, to = false;

	if (mfs_store_list_folders(w->inner, &list, &e) < 0)
		return false;
	for (guint i = 0; i < list->len; i++) {
		struct mfs_folder_info *fi = list->pdata[i];
		from |= !strcmp(fi->path, r->folder);
		to |= !strcmp(fi->path, r->dest);
	}
	g_ptr_array_unref(list);
	return to && !from;
}

/* ---- replaying ---- */

/* The class of a failed inner call. */
static enum wb_outcome classify(int rc, const struct mfs_error *e)
{
	if (rc == 0)
		return WB_DONE;
	return e->retry == MFS_ERR_FINAL ? WB_REFUSED : WB_RETRY;
}

/* A change of a message the server never got: nothing to apply it to. */
static enum wb_outcome lost(struct mfs_error *e)
{
	mfs_error_set(e, -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL,
		      "the message this change applies to never reached the "
		      "server");
	return WB_REFUSED;
}

/* What a call that makes an item returned: its id in *rid_r. */
static enum wb_outcome made(int rc, struct mfs_item *it, char **rid_r,
			    const struct mfs_error *e)
{
	if (rc == 0) {
		*rid_r = g_strdup(it->id);
		mfs_item_free(it);
	}
	return classify(rc, e);
}

/* A server that keeps a message otherwise than written (MAPI renders it
 * from its properties, EWS makes a card from the t:Contact) reports
 * another size: the body made here is then not the item's, and its next
 * read goes to the server.  The index takes the size the server gave,
 * that of the bytes that read brings: a listing before the next sync
 * would otherwise show the written size, and a read cut short at it. */
static void drop_made_body(struct wb *w, int64_t seq, uint64_t size)
{
	char *where = NULL, *id = NULL;
	struct mfs_item *known = NULL;

	if (index_item_by_origin(w->ix, seq, &where, &id) == 0) {
		wb_drop_blob(w, where, id);
		if (index_item(w->ix, where, id, &known) == 0 &&
		    known->size != size) {
			known->size = size;
			if (index_put_item(w->ix, where, known) == 0)
				w->hooks.tell(w->hooks.owner, where);
		}
	}
	mfs_item_free(known);
	g_free(where);
	g_free(id);
}

static enum wb_outcome replay_append(struct wb *w, const struct jrow *r,
				     bool was_sent, char **rid_r,
				     struct mfs_error *e)
{
	g_autofree char *path = wb_content_path(w, r->content);
	struct mfs_item *it = NULL;
	int rc, fd;

	if (was_sent) {
		rc = find_sent(w, r->folder, r, path, rid_r, e);
		if (rc == 0)
			return WB_DONE;
		if (rc != -ENOENT)
			return classify(rc, e);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		mfs_error_set(e, -errno, MFS_ERR_ITEM, MFS_ERR_FINAL,
			      "the message's bytes are gone: %s",
			      g_strerror(errno));
		return WB_REFUSED;
	}
	/* a rewritten card names the one the server has */
	rc = mfs_store_append(w->inner, r->folder, fd, r->rid ? r->rid : r->id,
			      r->flags, r->date, &it, e);
	struct stat sb;
	if (rc == 0 && fstat(fd, &sb) == 0 && (uint64_t)sb.st_size != it->size)
		drop_made_body(w, r->seq, it->size);
	close(fd);
	return made(rc, it, rid_r, e);
}

static enum wb_outcome replay_move(struct wb *w, const struct jrow *r,
				   bool was_sent, char **rid_r,
				   struct mfs_error *e)
{
	struct mfs_item *it = NULL;
	int rc;

	if (!r->rid)
		return lost(e);
	if (was_sent && r->op == JOP_COPY) {
		rc = find_sent(w, r->dest, r, NULL, rid_r, e);
		if (rc == 0)
			return WB_DONE;
		if (rc != -ENOENT)
			return classify(rc, e);
	}
	rc = (r->op == JOP_MOVE ? mfs_store_move : mfs_store_copy)(
		w->inner, r->folder, r->rid, r->dest, r->flags, &it, e);
	if (rc == -ENOENT && e->retry == MFS_ERR_FINAL && r->op == JOP_MOVE &&
	    was_sent) {
		/* moved by the request whose answer was lost? */
		struct mfs_error e2 = { 0 };
		int r2 = find_sent(w, r->dest, r, NULL, rid_r, &e2);
		if (r2 == 0)
			return WB_DONE;
		if (r2 != -ENOENT) {
			*e = e2;
			return classify(r2, e);
		}
	}
	if (rc == -ENOENT && e->retry == MFS_ERR_FINAL)
		mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
			      "the message or the folder %s is gone from the "
			      "server", r->dest);
	return made(rc, it, rid_r, e);
}

enum wb_outcome wb_replay(struct wb *w, const struct jrow *r, bool was_sent,
			  char **rid_r, struct mfs_error *e)
{
	int rc;

	switch (r->op) {
	case JOP_APPEND:
		return replay_append(w, r, was_sent, rid_r, e);
	case JOP_FLAGS:
		if (!r->rid)
			return lost(e);
		rc = mfs_store_set_flags(w->inner, r->folder, r->rid, r->flags,
					 e);
		if (rc == -ENOENT && e->retry == MFS_ERR_FINAL)
			mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				      "the message was deleted on the server "
				      "while its flags were being changed here");
		return classify(rc, e);
	case JOP_REMOVE:
		if (!r->rid)
			return lost(e);
		rc = mfs_store_remove(w->inner, r->folder, r->rid, e);
		return rc == -ENOENT ? WB_DONE : classify(rc, e);
	case JOP_MOVE:
	case JOP_COPY:
		return replay_move(w, r, was_sent, rid_r, e);
	case JOP_MKDIR:
		rc = mfs_store_create_folder(w->inner, r->folder,
					     (enum mfs_folder_kind)r->kind, e);
		return rc == -EEXIST ? WB_DONE : classify(rc, e);
	case JOP_RENAME:
		rc = mfs_store_rename_folder(w->inner, r->folder, r->dest, e);
		/* an answer lost before: done if the folder has its new name
		 * and not its old one any more */
		if ((rc == -ENOENT || rc == -EEXIST) && was_sent &&
		    renamed_already(w, r))
			return WB_DONE;
		return classify(rc, e);
	case JOP_RMDIR:
		rc = mfs_store_delete_folder(w->inner, r->folder, e);
		return rc == -ENOENT ? WB_DONE : classify(rc, e);
	case JOP_SEND:
		break;		/* wb_replay_send's */
	}
	mfs_error_set(e, -EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL,
		      "unknown journal row %d", (int)r->op);
	return WB_REFUSED;
}

/* ---- how a row ends ---- */

void wb_finish_row(struct wb *w, const struct jrow *r, const char *rid)
{
	g_autofree char *key = NULL;
	char *where = NULL, *id = NULL;

	/* the body made here now stands for a server item: evictable */
	if (rid && index_item_by_origin(w->ix, r->seq, &where, &id) == 0) {
		key = blobs_key(where, id);
		g_autofree char *path = blobs_path(w->blobs, key);
		struct stat sb;
		if (stat(path, &sb) == 0)
			blobs_add_now(w->blobs, key, (uint64_t)sb.st_size);
	}
	g_free(where);
	g_free(id);
	if (wb_row_set(w, r, JS_DONE, &(struct wb_change){ .rid = rid }) < 0)
		return;		/* still SENT: looked up when tried again */
	if (r->content) {
		g_autofree char *p = wb_content_path(w, r->content);
		unlink(p);
	}
	wb_went_through(w);
	if (jop_changes_folders(r->op))
		w->hooks.resync(w->hooks.owner, "");
	if (!journal_names(w->ix, r->folder, NULL))
		w->hooks.resync(w->hooks.owner, r->folder);
	if (r->dest && !journal_names(w->ix, r->dest, NULL))
		w->hooks.resync(w->hooks.owner, r->dest);
}

/* Keep data the server would not take where the user finds it, with the
 * reason beside it: sync-issues/NAME and NAME.reason.  `src` (NULL when
 * there is nothing but the reason) is moved there with `take`, else given
 * a second name there: neither needs free space, and the bytes are on
 * disk already.  Returns 0 or -errno (then `src` is where it was). */
static int keep_issue(struct wb *w, const char *label, const char *src,
		      bool take, const char *reason)
{
	g_autofree char *safe = g_strdup(label);
	g_autofree char *base = NULL;
	g_autofree char *path = NULL;
	g_autofree char *why = NULL;
	GDateTime *now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%S");
	int rc = 0;

	g_date_time_unref(now);
	g_strdelimit(safe, "/", '_');
	/* room for the stamp and ".reason" within a file name's 255 bytes */
	if (strlen(safe) > 200)
		safe[200] = '\0';
	base = g_strdup_printf("%s-%u-%s", stamp,
			       (unsigned)g_atomic_int_add(&w->counter, 1),
			       safe);
	path = g_build_filename(w->issues, base, NULL);
	why = g_strconcat(path, ".reason", NULL);
	if (src && (take ? rename(src, path) : link(src, path)) != 0) {
		rc = -errno;
		log_error_record("keeping %s in %s failed: %s", src, path,
				 g_strerror(errno));
	}
	g_autofree char *text = g_strconcat(reason, "\n", NULL);
	g_file_set_contents(why, text, -1, NULL);
	file_fsync_dir(w->issues);
	if (rc == 0)
		log_error_record("kept in %s: %s", path, reason);
	wb_refused(w, src && rc == 0 ? path : why, reason);
	return rc;
}

/* Keep in sync-issues/ what dropped row `d` made, the `i`-th to go with
 * `r`; its folders join `folders`. */
static void keep_dropped(struct wb *w, const struct jrow *r,
			 const struct jrow *d, guint i, const char *why,
			 GHashTable *folders)
{
	g_autofree char *reason = NULL;
	g_autofree char *label = NULL;
	g_autofree char *src = NULL;
	const char *where = d->dest ? d->dest : d->folder;
	const char *name = d->dest_id ? d->dest_id : d->id ? d->id : "";

	if (i == 0)
		reason = g_strdup_printf("%s of %s%s%s failed for good: %s",
					 jop_name(d->op), where,
					 *name ? "/" : "", name, why);
	else
		reason = g_strdup_printf("%s of %s%s%s was not made: it "
					 "depended on the %s of %s (%s)",
					 jop_name(d->op), where,
					 *name ? "/" : "", name,
					 jop_name(r->op), r->folder, why);
	if (d->content) {
		src = wb_content_path(w, d->content);
	} else if (d->id) {
		/* the body as last seen, when it is here */
		g_autofree char *key = blobs_key(where, name);
		src = blobs_path(w->blobs, key);
		if (access(src, R_OK) != 0)
			g_clear_pointer(&src, g_free);
	}
	label = g_strdup_printf("%s%s%s", where, *name ? "-" : "", name);
	/* an append's bytes move there (a rename in the same directory
	 * tree: it does not fail for want of space); a body stays in the
	 * cache too */
	keep_issue(w, label, src, d->content != NULL, reason);
	g_hash_table_add(folders, g_strdup(d->folder));
	if (d->dest)
		g_hash_table_add(folders, g_strdup(d->dest));
}

void wb_refuse_row(struct wb *w, const struct jrow *r, const char *why)
{
	GPtrArray *dropped = NULL;
	GHashTable *folders = g_hash_table_new_full(g_str_hash, g_str_equal,
						    g_free, NULL);

	if (wb_row_set(w, r, JS_DROPPED,
		       &(struct wb_change){ .dropped_r = &dropped }) < 0) {
		g_hash_table_unref(folders);
		return;
	}
	/* a folder the server would not rename keeps its old name here, and
	 * its messages the names they had */
	if (r->op == JOP_RENAME &&
	    index_folder_state(w->ix, r->folder, NULL, NULL, NULL) == -ENOENT &&
	    index_rename_folder(w->ix, r->dest, r->folder) == 0) {
		wb_rename_blobs(w, r->dest, r->folder);
		index_touch_folders(w->ix);
	}
	for (guint i = 0; i < dropped->len; i++)
		keep_dropped(w, r, dropped->pdata[i], i, why, folders);
	g_ptr_array_unref(dropped);
	/* the index and the server differ now: read the folders again whole,
	 * and tell the mount at once about what went away */
	GHashTableIter it;
	gpointer f;
	g_hash_table_iter_init(&it, folders);
	while (g_hash_table_iter_next(&it, &f, NULL)) {
		index_forget_state(w->ix, f);
		index_touch_local(w->ix, f);
		w->hooks.tell(w->hooks.owner, f);
		w->hooks.resync(w->hooks.owner, f);
	}
	w->hooks.resync(w->hooks.owner, "");
	g_hash_table_unref(folders);
}
