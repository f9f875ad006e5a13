/*
 * writeback.c - changes made on the mount: journaled at once, replayed to
 * the inner store by one flusher thread, in the order they were made.
 *
 * A change returns to the mount once it is durable here: an append's bytes
 * are written to pending/ and synced, then its journal row and its effect
 * on the index commit in one transaction.  The mount shows the result at
 * once, under the name it keeps (items made here are named here; the
 * server's id is recorded beside the name when it is known).
 *
 * The flusher, for the oldest row of the journal:
 *
 *        new row, kick                     claim_row()
 *   IDLE -------------> CLAIMED  <-----------------------------------+
 *    ^                    |  row marked SENT, re-read                |
 *    |                    v                                          |
 *    |                 REPLAY        replay(): the inner store call; |
 *    |                    |          a row that was SENT before is   |
 *    |                    |          first looked up (find_sent())   |
 *    |        +-----------+-------------+                            |
 *    |        v           v             v                            |
 *    |      DONE       REFUSED        RETRY                          |
 *    |   finish_row() refuse_row()   back_off(): 1 s doubling to     |
 *    |   row removed, row and its    5 min, or at once on a kick ----+
 *    |   server id    dependents
 *    |   handed on    dropped, data
 *    |        |       kept in sync-issues/
 *    +--------+-----------+ (next row)
 *
 * The failure class of the inner store decides: MFS_ERR_FINAL is REFUSED
 * (or DONE where the failure means the change is already there: a delete
 * of what is gone, a folder that exists), anything else RETRY.
 *
 * Idempotence.  A row is SENT before its request leaves, so after a crash
 * or a lost connection the outcome of an append or copy is unknown: before
 * it is repeated the folder is listed and an item not known here with the
 * same Message-ID (or, without one, the same size) whose bytes are the
 * same is taken to be it.  Flags are set to an exact value, a delete of a
 * missing message succeeds, a repeated move of a message already moved
 * finds it in the target the same way.
 */
#include "cache-private.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"
#include "mail-header.h"

#define BACKOFF_FIRST_US (1 * G_USEC_PER_SEC)
#define BACKOFF_MAX_US (300 * G_USEC_PER_SEC)
/* Appends sent in one request at most; flag changes in one exchange. */
#define APPEND_BATCH 32
#define FLAGS_BATCH 256
#define MOVE_BATCH 128
/* Failed attempts a flush waits through before it gives up. */
#define FLUSH_ATTEMPTS 3

/* DEFERRED: a message to send waits for its own back-off, while the
 * rows after it go on. */
enum outcome { DONE, REFUSED, RETRY, DEFERRED };

/* ---- test hooks ---- */

/* MAILFS_TEST_CRASH_AFTER=k stops the process hard at the k-th step of
 * the flusher (a row claimed, its request answered, its completion
 * committed), so that tests can prove every step survives a crash. */
static void step(struct mfs_backend *c)
{
	long n;

	if (!c->wb_crash_after)
		return;
	g_mutex_lock(&c->lock);
	n = ++c->wb_steps;
	g_mutex_unlock(&c->lock);
	if (n >= c->wb_crash_after) {
		log_warnx("test hook: stopping hard after flush step %ld", n);
		kill(getpid(), SIGKILL);
	}
}

/* ---- places on disk ---- */

static char *content_path(struct mfs_backend *c, const char *name)
{
	return g_build_filename(c->pending, name, NULL);
}

/* Keep data the server would not take where the user finds it, with the
 * reason beside it: sync-issues/NAME and NAME.reason.  `src` (NULL when
 * there is nothing but the reason) is moved there with `take`, else given
 * a second name there: neither needs free space, and the bytes are on
 * disk already.  Returns 0 or -errno (then `src` is where it was). */
static int keep_issue(struct mfs_backend *c, const char *label,
		      const char *src, bool take, const char *reason)
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
			       (unsigned)g_atomic_int_add(&c->wb_counter, 1),
			       safe);
	path = g_build_filename(c->issues, base, NULL);
	why = g_strconcat(path, ".reason", NULL);
	if (src && (take ? rename(src, path) : link(src, path)) != 0) {
		rc = -errno;
		log_error_record("keeping %s in %s failed: %s", src, path,
				 g_strerror(errno));
	}
	g_autofree char *text = g_strconcat(reason, "\n", NULL);
	g_file_set_contents(why, text, -1, NULL);
	file_fsync_dir(c->issues);
	if (rc == 0)
		log_error_record("kept in %s: %s", path, reason);
	return rc;
}

/* ---- making changes ---- */

/* A name for a new item of `folder`: the writer's own when it is free
 * (so a file keeps the name it was given), else one made here in the
 * Maildir style.  Called inside the caller's transaction. */
static char *choose_id(struct mfs_backend *c, const char *folder,
		       const char *hint)
{
	struct mfs_item *it = NULL;

	if (hint && *hint && !strchr(hint, '/') && strlen(hint) < 200 &&
	    index_item(c->ix, folder, hint, &it) == -ENOENT)
		return g_strdup(hint);
	mfs_item_free(it);
	for (;;) {
		unsigned n = (unsigned)g_atomic_int_add(&c->wb_counter, 1);
		char *id = g_strdup_printf("%" G_GINT64_FORMAT ".M%uP%d.mailfs",
					   g_get_real_time() / G_USEC_PER_SEC,
					   n, (int)getpid());
		if (index_item(c->ix, folder, id, &it) == -ENOENT)
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
static char *replaced_id(struct mfs_backend *c, const char *folder,
			 const char *hint, char **rid_r)
{
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;
	struct mfs_item *it = NULL;
	int64_t origin = 0;

	*rid_r = NULL;
	if (!hint || index_folder_kind(c->ix, folder, &kind) < 0 ||
	    (kind != MFS_FOLDER_CONTACTS && kind != MFS_FOLDER_CALENDAR) ||
	    index_item(c->ix, folder, hint, &it) < 0)
		return NULL;
	mfs_item_free(it);
	if (index_item_rid(c->ix, folder, hint, rid_r, &origin) < 0)
		*rid_r = NULL;
	return g_strdup(hint);
}

static void wake_flusher(struct mfs_backend *c)
{
	g_mutex_lock(&c->lock);
	g_cond_signal(&c->wb_wake);
	g_mutex_unlock(&c->lock);
}

/*
 * Without write-back a change goes to the server first and into the index
 * after, as the caller waits: once older journaled changes are all there,
 * so that the order of changes holds.  Returns 0 or -errno; on success the
 * caller holds c->replay_lock (release with direct_end).
 */
static int direct_begin(struct mfs_backend *c, struct mfs_error *e)
{
	if (journal_count(c->ix) > 0) {
		struct mfs_error why = { 0 };
		if (wb_flush(c, NULL, NULL, &why) < 0)
			return mfs_error_set(e, -EIO, MFS_ERR_ACCOUNT,
					     MFS_ERR_BACKOFF, "%s", why.msg);
	}
	g_mutex_lock(&c->replay_lock);
	return 0;
}

static void direct_end(struct mfs_backend *c)
{
	g_mutex_unlock(&c->replay_lock);
}

/* The server's id of an item of the index (for a name made here, the
 * one recorded beside it).  Caller owns *rid_r. */
static int direct_rid(struct mfs_backend *c, const char *folder,
		      const char *id, char **rid_r, struct mfs_error *e)
{
	int rc = index_item_rid(c->ix, folder, id, rid_r, NULL);

	if (rc == 0 && !*rid_r)
		rc = -EAGAIN;
	if (rc < 0)
		return mfs_error_set(e, rc == -EAGAIN ? -EIO : rc, MFS_ERR_ITEM,
				     MFS_ERR_FINAL, "%s/%s is not on the "
				     "server", folder, id);
	return 0;
}

/* The change was journaled: the flusher takes it from here. */
static int journaled(struct mfs_backend *c)
{
	wake_flusher(c);
	return 0;
}

static int fail(struct mfs_error *e, int rc, const char *what)
{
	return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL, "%s: %s",
			     what, g_strerror(-rc));
}

/* ---- without write-back: the server first, then the index ---- */

static int direct_append(struct mfs_backend *c, const char *folder, int fd,
			 const char *hint, uint64_t flags, int64_t date,
			 struct mfs_item **item_r, struct mfs_error *e)
{
	int rc = direct_begin(c, e);

	if (rc < 0)
		return rc;
	rc = mfs_store_append(&c->inner, folder, fd, hint, flags, date, item_r,
			      e);
	if (rc == 0) {
		index_put_item(c->ix, folder, *item_r);
		/* its first read is local */
		g_autofree char *key = cache_blob_key(folder, (*item_r)->id);
		g_autofree char *path = cache_blob_path(c, key);
		g_autofree char *dir = g_path_get_dirname(path);
		g_autofree char *tmp = g_strconcat(path, ".part", NULL);
		struct stat sb;
		int out = file_mkdir_p(dir, 0700) < 0 ? -1
			: open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			       0600);
		if (out >= 0 && file_copy_fd(fd, out) == 0 &&
		    fstat(out, &sb) == 0 && close(out) == 0 &&
		    rename(tmp, path) == 0) {
			blobs_add_now(c, key, (uint64_t)sb.st_size);
		} else {
			if (out >= 0)
				close(out);
			unlink(tmp);
		}
	}
	direct_end(c);
	return rc;
}

static int direct_set_flags(struct mfs_backend *c, const char *folder,
			    const char *id, uint64_t flags, struct mfs_error *e)
{
	g_autofree char *rid = NULL;
	struct mfs_item *it = NULL;
	int rc = direct_begin(c, e);

	if (rc < 0)
		return rc;
	if ((rc = direct_rid(c, folder, id, &rid, e)) == 0)
		rc = mfs_store_set_flags(&c->inner, folder, rid, flags, e);
	if (rc == 0 && index_item(c->ix, folder, id, &it) == 0) {
		it->flags = flags;
		index_put_item(c->ix, folder, it);
	}
	mfs_item_free(it);
	direct_end(c);
	return rc;
}

static void drop_blob(struct mfs_backend *c, const char *folder,
		      const char *id);

static int direct_remove(struct mfs_backend *c, const char *folder,
			 const char *id, struct mfs_error *e)
{
	g_autofree char *rid = NULL;
	int rc = direct_begin(c, e);

	if (rc < 0)
		return rc;
	if ((rc = direct_rid(c, folder, id, &rid, e)) == 0)
		rc = mfs_store_remove(&c->inner, folder, rid, e);
	if (rc == 0 || rc == -ENOENT) {
		index_remove_item(c->ix, folder, id);
		drop_blob(c, folder, id);
	}
	direct_end(c);
	return rc;
}

static int direct_move(struct mfs_backend *c, const char *folder,
		       const char *id, const char *dest, uint64_t flags,
		       bool keep_source, struct mfs_item **item_r,
		       struct mfs_error *e)
{
	g_autofree char *rid = NULL;
	int rc = direct_begin(c, e);

	if (rc < 0)
		return rc;
	if ((rc = direct_rid(c, folder, id, &rid, e)) == 0)
		rc = (keep_source ? mfs_store_copy : mfs_store_move)(
			&c->inner, folder, rid, dest, flags, item_r, e);
	if (rc == 0) {
		if (!keep_source)
			index_remove_item(c->ix, folder, id);
		index_put_item(c->ix, dest, *item_r);
		/* same bytes, another name */
		g_autofree char *fk = cache_blob_key(folder, id);
		g_autofree char *tk = cache_blob_key(dest, (*item_r)->id);
		g_autofree char *from = cache_blob_path(c, fk);
		g_autofree char *to = cache_blob_path(c, tk);
		g_autofree char *dir = g_path_get_dirname(to);
		struct stat sb;
		if (stat(from, &sb) == 0 && file_mkdir_p(dir, 0700) == 0 &&
		    (keep_source ? link(from, to) : rename(from, to)) == 0)
			blobs_add_now(c, tk, (uint64_t)sb.st_size);
		if (!keep_source)
			index_blob_remove(c->ix, fk);
	}
	direct_end(c);
	return rc;
}

static void rename_blobs(struct mfs_backend *c, const char *from,
			 const char *to);

static int direct_folder(struct mfs_backend *c, enum jop op,
			 const char *path, const char *to,
			 enum mfs_folder_kind kind, struct mfs_error *e)
{
	int rc = direct_begin(c, e);

	if (rc < 0)
		return rc;
	switch (op) {
	case JOP_MKDIR:
		rc = mfs_store_create_folder(&c->inner, path, kind, e);
		if (rc == 0)
			index_add_folder(c->ix, path, kind);
		break;
	case JOP_RENAME:
		rc = mfs_store_rename_folder(&c->inner, path, to, e);
		if (rc == 0) {
			index_rename_folder(c->ix, path, to);
			rename_blobs(c, path, to);
			cache_enqueue(c, "");
			cache_enqueue(c, to);
		}
		break;
	default:
		rc = mfs_store_delete_folder(&c->inner, path, e);
		if (rc == 0)
			index_remove_folder(c->ix, path);
		break;
	}
	if (rc == 0)
		index_touch_folders(c->ix);
	direct_end(c);
	return rc;
}


int wb_append(struct mfs_backend *c, const char *folder, int fd,
	      const char *hint, uint64_t flags, int64_t date,
	      struct mfs_item **item_r, struct mfs_error *e)
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
	bool send = cache_is_outbox(c, folder);
	/* the outbox is always a queue: a message is sent by the flusher */
	if (!c->opt.writeback && !send)
		return direct_append(c, folder, fd, hint, flags, date,
				     item_r, e);
	if (send)
		flags = 0;

	/* the Message-ID finds the message again if the outcome of its
	 * append is ever unknown */
	if (file_read_head(fd, 64 * 1024, &head, &hlen) == 0 &&
	    mail_header_get(head, hlen, "Message-ID", &msgid) < 0)
		msgid = g_strdup("");
	name = g_strdup_printf("%" G_GINT64_FORMAT "-%u-%d", g_get_real_time(),
			       (unsigned)g_atomic_int_add(&c->wb_counter, 1),
			       (int)getpid());
	path = content_path(c, name);
	tmp = g_strconcat(path, ".part", NULL);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return fail(e, -errno, c->pending);
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
		rc = file_fsync_dir(c->pending);
	if (rc < 0) {
		unlink(tmp);
		unlink(path);
		return fail(e, rc, c->pending);
	}

	row.op = send ? JOP_SEND : JOP_APPEND;
	row.folder = (char *)folder;
	row.flags = flags;
	row.date = date;
	row.size = (uint64_t)sb.st_size;
	row.msgid = msgid;
	row.content = name;
	index_begin(c->ix);
	g_autofree char *old_rid = NULL;
	g_autofree char *id = replaced_id(c, folder, hint, &old_rid);
	bool replacing = id != NULL;
	if (!replacing)
		id = choose_id(c, folder, hint);
	struct mfs_item *it = mfs_item_new(id, row.size, date, flags);
	it->message_id = g_strdup(msgid);
	row.id = id;
	/* the server replaces the card it knows by this id */
	row.rid = old_rid;
	rc = journal_add(c->ix, &row);
	if (rc == 0 && replacing)
		rc = index_remove_item(c->ix, folder, id);
	if (rc == 0)
		rc = index_put_local(c->ix, folder, it, row.seq);
	if (rc == 0)
		rc = index_touch_local(c->ix, folder);
	rc = index_end(c->ix, rc);
	if (rc < 0) {
		mfs_item_free(it);
		unlink(path);
		return fail(e, rc, "journal");
	}
	/* its first read is local: the body is these bytes (and no longer
	 * those of a card it replaces) */
	g_autofree char *key = cache_blob_key(folder, id);
	g_autofree char *blob = cache_blob_path(c, key);
	g_autofree char *dir = g_path_get_dirname(blob);
	unlink(blob);
	if (file_mkdir_p(dir, 0700) == 0)
		link(path, blob);
	*item_r = it;
	return journaled(c);
}

int wb_set_flags(struct mfs_backend *c, const char *folder, const char *id,
		 uint64_t flags, struct mfs_error *e)
{
	struct mfs_item *it = NULL;
	struct jrow *last = NULL;
	g_autofree char *rid = NULL;
	int64_t origin = 0, seq = 0;
	int rc;
	if (cache_is_outbox(c, folder))
		return mfs_error_set(e, -EPERM, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "messages in %s have no flags",
				     CACHE_OUTBOX);
	if (!c->opt.writeback)
		return direct_set_flags(c, folder, id, flags, e);

	index_begin(c->ix);
	rc = index_item(c->ix, folder, id, &it);
	if (rc == 0)
		rc = index_item_rid(c->ix, folder, id, &rid, &origin);
	/* a change not yet claimed by the flusher takes the new flags in
	 * place of a second row */
	if (rc == 0 && journal_latest_for(c->ix, folder, id, &last) == 0 &&
	    last->state == JS_QUEUED &&
	    (((last->op == JOP_FLAGS || last->op == JOP_APPEND) &&
	      !strcmp(last->folder, folder) && !g_strcmp0(last->id, id)) ||
	     ((last->op == JOP_MOVE || last->op == JOP_COPY) &&
	      !g_strcmp0(last->dest, folder) &&
	      !g_strcmp0(last->dest_id, id)))) {
		seq = last->seq;
		rc = journal_set_flags(c->ix, seq, flags);
	} else if (rc == 0) {
		struct jrow row = { .op = JOP_FLAGS, .folder = (char *)folder,
				    .id = (char *)id, .rid = rid,
				    .origin = origin, .flags = flags };
		rc = journal_add(c->ix, &row);
		seq = row.seq;
	}
	if (rc == 0) {
		it->flags = flags;
		rc = index_put_item(c->ix, folder, it);
	}
	if (rc == 0)
		rc = index_touch_local(c->ix, folder);
	rc = index_end(c->ix, rc);
	jrow_free(last);
	mfs_item_free(it);
	if (rc < 0)
		return rc == -ENOENT ? mfs_error_set(e, rc, MFS_ERR_ITEM,
						     MFS_ERR_FINAL, "no item "
						     "%s in %s", id, folder)
				     : fail(e, rc, "journal");
	return journaled(c);
}

static void drop_blob(struct mfs_backend *c, const char *folder,
		      const char *id)
{
	g_autofree char *key = cache_blob_key(folder, id);
	g_autofree char *path = cache_blob_path(c, key);

	unlink(path);
	index_blob_remove(c->ix, key);
}

/* Rows dropped without reaching the server take their bytes along. */
static void unlink_contents(struct mfs_backend *c, GPtrArray *rows)
{
	for (guint i = 0; rows && i < rows->len; i++) {
		struct jrow *d = rows->pdata[i];
		if (d->content) {
			g_autofree char *p = content_path(c, d->content);
			unlink(p);
		}
	}
}

int wb_remove(struct mfs_backend *c, const char *folder, const char *id,
	      struct mfs_error *e)
{
	struct jrow *last = NULL;
	GPtrArray *dropped = NULL;
	g_autofree char *rid = NULL;
	int64_t origin = 0, seq = 0;
	int rc;
	if (!c->opt.writeback && !cache_is_outbox(c, folder))
		return direct_remove(c, folder, id, e);

	index_begin(c->ix);
	rc = index_item_rid(c->ix, folder, id, &rid, &origin);
	if (rc == 0 && cache_is_outbox(c, folder) &&
	    (journal_latest_for(c->ix, folder, id, &last) < 0 ||
	     last->op != JOP_SEND || last->state == JS_SENT)) {
		/* a message being submitted cannot be called back */
		index_end(c->ix, -EBUSY);
		jrow_free(last);
		return mfs_error_set(e, -EBUSY, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s/%s is being sent", folder, id);
	}
	if (rc == 0 && origin &&
	    (last || journal_latest_for(c->ix, folder, id, &last) == 0) &&
	    last->seq == origin &&
	    ((last->op == JOP_APPEND && last->state == JS_QUEUED) ||
	     (last->op == JOP_SEND && last->state != JS_SENT)) &&
	    !journal_has_dependents(c->ix, origin)) {
		/* never sent: forgetting the append is the whole delete */
		rc = journal_drop(c->ix, origin, &dropped);
	} else if (rc == 0) {
		struct jrow row = { .op = JOP_REMOVE, .folder = (char *)folder,
				    .id = (char *)id, .rid = rid,
				    .origin = origin };
		rc = journal_add(c->ix, &row);
		seq = row.seq;
		if (rc == 0)
			rc = index_remove_item(c->ix, folder, id);
	}
	if (rc == 0)
		rc = index_touch_local(c->ix, folder);
	rc = index_end(c->ix, rc);
	jrow_free(last);
	if (rc < 0) {
		if (dropped)
			g_ptr_array_unref(dropped);
		return rc == -ENOENT ? mfs_error_set(e, rc, MFS_ERR_ITEM,
						     MFS_ERR_FINAL, "no item "
						     "%s in %s", id, folder)
				     : fail(e, rc, "journal");
	}
	unlink_contents(c, dropped);
	if (dropped)
		g_ptr_array_unref(dropped);
	drop_blob(c, folder, id);
	return seq ? journaled(c) : 0;
}

/* The body of folder/id, when here, goes along to dest/dest_id (a second
 * name with `copy`).  It stays out of the eviction list until the server
 * has the item: it may be the only copy. */
static void carry_blob(struct mfs_backend *c, const char *folder,
		       const char *id, const char *dest, const char *dest_id,
		       bool copy)
{
	g_autofree char *from_key = cache_blob_key(folder, id);
	g_autofree char *to_key = cache_blob_key(dest, dest_id);
	g_autofree char *from = cache_blob_path(c, from_key);
	g_autofree char *to = cache_blob_path(c, to_key);
	g_autofree char *dir = g_path_get_dirname(to);
	struct stat sb;

	if (stat(from, &sb) == 0 && file_mkdir_p(dir, 0700) == 0 &&
	    (copy ? link(from, to) : rename(from, to)) == 0 && !copy)
		index_blob_remove(c->ix, from_key);
}

int wb_move(struct mfs_backend *c, const char *folder, const char *id,
	    const char *dest, uint64_t flags, bool keep_source,
	    struct mfs_item **item_r, struct mfs_error *e)
{
	struct mfs_item *it = NULL;
	g_autofree char *rid = NULL;
	g_autofree char *dest_id = NULL;
	int64_t origin = 0;
	struct jrow row = { 0 };
	int rc;
	/* a message enters the outbox as a new file (what mv does after
	 * EXDEV) and leaves it only by being sent */
	if (cache_is_outbox(c, folder) || cache_is_outbox(c, dest))
		return mfs_error_set(e, -EXDEV, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "messages are copied into %s, not moved",
				     CACHE_OUTBOX);
	if (!c->opt.writeback)
		return direct_move(c, folder, id, dest, flags, keep_source,
				   item_r, e);

	index_begin(c->ix);
	rc = index_item(c->ix, folder, id, &it);
	if (rc == 0)
		rc = index_item_rid(c->ix, folder, id, &rid, &origin);
	if (rc == 0 && index_folder_state(c->ix, dest, NULL, NULL, NULL) < 0)
		rc = -ENOENT;
	if (rc == 0) {
		dest_id = choose_id(c, dest, id);
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
		rc = journal_add(c->ix, &row);
	}
	if (rc == 0) {
		g_free(it->id);
		it->id = g_strdup(dest_id);
		it->flags = flags;
		rc = index_put_local(c->ix, dest, it, row.seq);
	}
	if (rc == 0 && !keep_source)
		rc = index_remove_item(c->ix, folder, id);
	if (rc == 0)
		rc = index_touch_local(c->ix, dest);
	if (rc == 0 && !keep_source)
		rc = index_touch_local(c->ix, folder);
	rc = index_end(c->ix, rc);
	if (rc < 0) {
		mfs_item_free(it);
		return rc == -ENOENT ? mfs_error_set(e, rc, MFS_ERR_ITEM,
						     MFS_ERR_FINAL, "no item "
						     "%s in %s", id, folder)
				     : fail(e, rc, "journal");
	}
	carry_blob(c, folder, id, dest, dest_id, keep_source);
	*item_r = it;
	return journaled(c);
}

/* The outbox is not the server's: it cannot be made, renamed or removed,
 * nor hold folders. */
static int outbox_folder(struct mfs_backend *c, const char *path,
			 struct mfs_error *e)
{
	if (!c->outbox || (strcmp(path, CACHE_OUTBOX) &&
			   !g_str_has_prefix(path, CACHE_OUTBOX "/")))
		return 0;
	return mfs_error_set(e, -EPERM, MFS_ERR_FOLDER, MFS_ERR_FINAL,
			     "%s is the queue of messages to send",
			     CACHE_OUTBOX);
}

int wb_create_folder(struct mfs_backend *c, const char *path,
		     enum mfs_folder_kind kind, struct mfs_error *e)
{
	if (outbox_folder(c, path, e) < 0)
		return -EPERM;
	struct jrow row = { .op = JOP_MKDIR, .folder = (char *)path,
			    .kind = (int)kind };
	int rc;
	if (!c->opt.writeback)
		return direct_folder(c, JOP_MKDIR, path, NULL, kind, e);

	index_begin(c->ix);
	rc = index_folder_state(c->ix, path, NULL, NULL, NULL) == 0 ? -EEXIST
								    : 0;
	if (rc == 0)
		rc = journal_add(c->ix, &row);
	if (rc == 0)
		rc = index_add_folder(c->ix, path, kind);
	if (rc == 0)
		index_touch_folders(c->ix);
	rc = index_end(c->ix, rc);
	if (rc < 0)
		return rc == -EEXIST ? mfs_error_set(e, rc, MFS_ERR_FOLDER,
						     MFS_ERR_FINAL, "%s exists",
						     path)
				     : fail(e, rc, "journal");
	return journaled(c);
}

/* Bodies are named after their folder: they take the new name with it,
 * sub-folders included. */
static void rename_blobs(struct mfs_backend *c, const char *from,
			 const char *to)
{
	GPtrArray *folders = NULL;
	size_t n = strlen(to);

	if (index_folders(c->ix, &folders) < 0)
		return;
	for (guint i = 0; i < folders->len; i++) {
		struct mfs_folder_info *fi = folders->pdata[i];
		GPtrArray *items = NULL;
		if (strncmp(fi->path, to, n) ||
		    (fi->path[n] && fi->path[n] != '/') ||
		    index_items(c->ix, fi->path, &items) < 0)
			continue;
		g_autofree char *old = g_strconcat(from, fi->path + n, NULL);
		for (guint k = 0; k < items->len; k++) {
			struct mfs_item *it = items->pdata[k];
			g_autofree char *ok = cache_blob_key(old, it->id);
			g_autofree char *nk = cache_blob_key(fi->path, it->id);
			g_autofree char *op = cache_blob_path(c, ok);
			g_autofree char *np = cache_blob_path(c, nk);
			g_autofree char *dir = g_path_get_dirname(np);
			struct stat sb;
			int64_t origin = 0;
			if (stat(op, &sb) != 0 || file_mkdir_p(dir, 0700) < 0 ||
			    rename(op, np) != 0)
				continue;
			index_blob_remove(c->ix, ok);
			/* a body not yet on the server is never evicted */
			if (index_item_rid(c->ix, fi->path, it->id, NULL,
					   &origin) == 0 && !origin)
				blobs_add_now(c, nk, (uint64_t)sb.st_size);
		}
		g_ptr_array_unref(items);
	}
	g_ptr_array_unref(folders);
}

int wb_rename_folder(struct mfs_backend *c, const char *from,
		     const char *to, struct mfs_error *e)
{
	if (outbox_folder(c, from, e) < 0 || outbox_folder(c, to, e) < 0)
		return -EPERM;
	struct jrow row = { .op = JOP_RENAME, .folder = (char *)from,
			    .dest = (char *)to };
	int rc;
	if (!c->opt.writeback)
		return direct_folder(c, JOP_RENAME, from, to, 0, e);

	index_begin(c->ix);
	rc = index_folder_state(c->ix, from, NULL, NULL, NULL);
	if (rc == 0 && index_folder_state(c->ix, to, NULL, NULL, NULL) == 0)
		rc = -EEXIST;
	if (rc == 0)
		rc = journal_add(c->ix, &row);
	if (rc == 0)
		rc = index_rename_folder(c->ix, from, to);
	if (rc == 0)
		index_touch_folders(c->ix);
	rc = index_end(c->ix, rc);
	if (rc < 0)
		return rc == -EEXIST || rc == -ENOENT
			? mfs_error_set(e, rc, MFS_ERR_FOLDER, MFS_ERR_FINAL,
					"renaming %s to %s: %s", from, to,
					g_strerror(-rc))
			: fail(e, rc, "journal");
	rename_blobs(c, from, to);
	return journaled(c);
}

int wb_delete_folder(struct mfs_backend *c, const char *path,
		     struct mfs_error *e)
{
	if (outbox_folder(c, path, e) < 0)
		return -EPERM;
	struct jrow row = { .op = JOP_RMDIR, .folder = (char *)path };
	GPtrArray *items = NULL, *folders = NULL;
	g_autofree char *below = g_strconcat(path, "/", NULL);
	int rc;
	if (!c->opt.writeback)
		return direct_folder(c, JOP_RMDIR, path, NULL, 0, e);

	index_begin(c->ix);
	rc = index_folder_state(c->ix, path, NULL, NULL, NULL);
	if (rc == 0)
		rc = index_items(c->ix, path, &items);
	if (rc == 0)
		rc = index_folders(c->ix, &folders);
	for (guint i = 0; rc == 0 && i < folders->len; i++) {
		struct mfs_folder_info *fi = folders->pdata[i];
		if (g_str_has_prefix(fi->path, below))
			rc = -ENOTEMPTY;
	}
	if (rc == 0 && items->len > 0)
		rc = -ENOTEMPTY;
	if (rc == 0)
		rc = journal_add(c->ix, &row);
	if (rc == 0)
		rc = index_remove_folder(c->ix, path);
	if (rc == 0)
		index_touch_folders(c->ix);
	rc = index_end(c->ix, rc);
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
	return journaled(c);
}

/* ---- reading what is not on the server yet ---- */

int wb_fetch_pending(struct mfs_backend *c, int64_t origin, int *fd_r,
		     struct mfs_error *e)
{
	for (int depth = 0; origin && depth < 1000; depth++) {
		struct jrow *r = NULL;
		int rc = journal_get(c->ix, origin, &r);
		if (rc < 0)
			break;
		if ((r->op == JOP_APPEND || r->op == JOP_SEND) &&
		    r->content) {
			g_autofree char *p = content_path(c, r->content);
			int fd = open(p, O_RDONLY | O_CLOEXEC);
			rc = fd < 0 ? -errno : 0;
			jrow_free(r);
			if (rc < 0)
				return fail(e, rc, "pending content");
			*fd_r = fd;
			return 0;
		}
		if ((r->op == JOP_MOVE || r->op == JOP_COPY) && r->rid) {
			rc = mfs_store_fetch(&c->inner, r->folder, r->rid, fd_r,
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

/* ---- replaying ---- */

/* Whether the inner item `rid` of `folder` has exactly the bytes of the
 * file `path`: 1 yes, 0 no, -errno when it could not be told (the fetch
 * failed: the lookup must fail too, or the change would be made twice). */
static int same_bytes(struct mfs_backend *c, const char *folder,
		      const char *rid, const char *path, struct mfs_error *e)
{
	g_autofree char *want = NULL, *got = NULL;
	gsize wlen = 0;
	int fd, rc;

	if (!g_file_get_contents(path, &want, &wlen, NULL))
		return 0;
	if ((rc = mfs_store_fetch(&c->inner, folder, rid, &fd, e)) < 0)
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
static int find_sent(struct mfs_backend *c, const char *folder,
		     const struct jrow *r, const char *bytes, char **rid_r,
		     struct mfs_error *e)
{
	struct mfs_sync_result *res = NULL;
	int rc = mfs_store_sync(&c->inner, folder, NULL, &res, e);

	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (guint i = 0; i < res->changed->len && rc == -ENOENT; i++) {
		struct mfs_item *it = res->changed->pdata[i];
		bool by_id = r->msgid && *r->msgid;
		if (it->size != r->size || index_has_rid(c->ix, folder, it->id))
			continue;
		if (by_id && g_strcmp0(it->message_id, r->msgid))
			continue;
		if (bytes && access(bytes, R_OK) == 0) {
			int same = same_bytes(c, folder, it->id, bytes, e);
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
static bool renamed_already(struct mfs_backend *c, const struct jrow *r)
{
	GPtrArray *list = NULL;
	struct mfs_error e = { 0 };
	bool from = false, to = false;

	if (mfs_store_list_folders(&c->inner, &list, &e) < 0)
		return false;
	for (guint i = 0; i < list->len; i++) {
		struct mfs_folder_info *fi = list->pdata[i];
		from |= !strcmp(fi->path, r->folder);
		to |= !strcmp(fi->path, r->dest);
	}
	g_ptr_array_unref(list);
	return to && !from;
}

/* The class of a failed inner call. */
static enum outcome classify(int rc, const struct mfs_error *e)
{
	if (rc == 0)
		return DONE;
	return e->retry == MFS_ERR_FINAL ? REFUSED : RETRY;
}

/* Perform row `r` on the inner store.  `was_sent` says a request for it
 * may have gone out before.  *rid_r (caller owns) is the server id of what
 * it made. */
static enum outcome replay(struct mfs_backend *c, const struct jrow *r,
			   bool was_sent, char **rid_r, struct mfs_error *e)
{
	struct mfs_item *made = NULL;
	int rc, fd;

	switch (r->op) {
	case JOP_APPEND: {
		g_autofree char *path = content_path(c, r->content);
		if (was_sent) {
			rc = find_sent(c, r->folder, r, path, rid_r, e);
			if (rc == 0)
				return DONE;
			if (rc != -ENOENT)
				return classify(rc, e);
		}
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			mfs_error_set(e, -errno, MFS_ERR_ITEM, MFS_ERR_FINAL,
				      "the message's bytes are gone: %s",
				      g_strerror(errno));
			return REFUSED;
		}
		/* a rewritten card names the one the server has */
		rc = mfs_store_append(&c->inner, r->folder, fd,
				      r->rid ? r->rid : r->id, r->flags,
				      r->date, &made, e);
		close(fd);
		break;
	}
	case JOP_FLAGS:
		if (!r->rid)
			goto lost;
		rc = mfs_store_set_flags(&c->inner, r->folder, r->rid, r->flags,
					 e);
		if (rc == -ENOENT && e->retry == MFS_ERR_FINAL)
			mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				      "the message was deleted on the server "
				      "while its flags were being changed here");
		return classify(rc, e);
	case JOP_REMOVE:
		if (!r->rid)
			goto lost;
		rc = mfs_store_remove(&c->inner, r->folder, r->rid, e);
		return rc == -ENOENT ? DONE : classify(rc, e);
	case JOP_MOVE:
	case JOP_COPY:
		if (!r->rid)
			goto lost;
		if (was_sent && r->op == JOP_COPY) {
			rc = find_sent(c, r->dest, r, NULL, rid_r, e);
			if (rc == 0)
				return DONE;
			if (rc != -ENOENT)
				return classify(rc, e);
		}
		rc = (r->op == JOP_MOVE ? mfs_store_move : mfs_store_copy)(
			&c->inner, r->folder, r->rid, r->dest, r->flags, &made,
			e);
		if (rc == -ENOENT && e->retry == MFS_ERR_FINAL &&
		    r->op == JOP_MOVE && was_sent) {
			/* moved by the request whose answer was lost? */
			struct mfs_error e2 = { 0 };
			int r2 = find_sent(c, r->dest, r, NULL, rid_r, &e2);
			if (r2 == 0)
				return DONE;
			if (r2 != -ENOENT) {
				*e = e2;
				return classify(r2, e);
			}
		}
		if (rc == -ENOENT && e->retry == MFS_ERR_FINAL)
			mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				      "the message or the folder %s is gone "
				      "from the server", r->dest);
		break;
	case JOP_MKDIR:
		rc = mfs_store_create_folder(&c->inner, r->folder,
					     (enum mfs_folder_kind)r->kind, e);
		return rc == -EEXIST ? DONE : classify(rc, e);
	case JOP_RENAME:
		rc = mfs_store_rename_folder(&c->inner, r->folder, r->dest, e);
		/* an answer lost before: done if the folder has its new name
		 * and not its old one any more */
		if ((rc == -ENOENT || rc == -EEXIST) && was_sent &&
		    renamed_already(c, r))
			return DONE;
		return classify(rc, e);
	case JOP_RMDIR:
		rc = mfs_store_delete_folder(&c->inner, r->folder, e);
		return rc == -ENOENT ? DONE : classify(rc, e);
	default:
		mfs_error_set(e, -EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL,
			      "unknown journal row %d", (int)r->op);
		return REFUSED;
	}
	if (rc == 0) {
		*rid_r = g_strdup(made->id);
		mfs_item_free(made);
	}
	return classify(rc, e);
lost:
	mfs_error_set(e, -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL,
		      "the message this change applies to never reached the "
		      "server");
	return REFUSED;
}

/* The row went through: hand its server id on, and let the server's
 * view of the folders in again once nothing of theirs waits. */
static void finish_row(struct mfs_backend *c, const struct jrow *r,
		       const char *rid)
{
	g_autofree char *key = NULL;
	char *where = NULL, *id = NULL;

	/* the body made here now stands for a server item: evictable */
	if (rid && index_item_by_origin(c->ix, r->seq, &where, &id) == 0) {
		key = cache_blob_key(where, id);
		g_autofree char *path = cache_blob_path(c, key);
		struct stat sb;
		if (stat(path, &sb) == 0)
			blobs_add_now(c, key, (uint64_t)sb.st_size);
	}
	g_free(where);
	g_free(id);
	if (journal_done(c->ix, r->seq, rid) < 0)
		return;		/* still SENT: looked up when tried again */
	if (r->content) {
		g_autofree char *p = content_path(c, r->content);
		unlink(p);
	}
	g_mutex_lock(&c->lock);
	c->wb_last_flush = g_get_real_time();
	g_clear_pointer(&c->wb_error, g_free);
	g_mutex_unlock(&c->lock);
	if (r->op >= JOP_MKDIR)
		cache_enqueue(c, "");
	if (!journal_names(c->ix, r->folder, NULL))
		cache_enqueue(c, r->folder);
	if (r->dest && !journal_names(c->ix, r->dest, NULL))
		cache_enqueue(c, r->dest);
}

/* The server will not take the row: keep what the user made where they
 * find it, drop the row and what depends on it, and read the folders
 * again from the server. */
static void refuse_row(struct mfs_backend *c, const struct jrow *r,
		       const char *why)
{
	GPtrArray *dropped = NULL;
	GHashTable *folders = g_hash_table_new_full(g_str_hash, g_str_equal,
						    g_free, NULL);

	if (journal_drop(c->ix, r->seq, &dropped) < 0)
		return;
	/* a folder the server would not rename keeps its old name here, and
	 * its messages the names they had */
	if (r->op == JOP_RENAME &&
	    index_folder_state(c->ix, r->folder, NULL, NULL, NULL) == -ENOENT &&
	    index_rename_folder(c->ix, r->dest, r->folder) == 0) {
		rename_blobs(c, r->dest, r->folder);
		index_touch_folders(c->ix);
	}
	for (guint i = 0; i < dropped->len; i++) {
		struct jrow *d = dropped->pdata[i];
		g_autofree char *reason = NULL;
		g_autofree char *label = NULL;
		g_autofree char *src = NULL;
		const char *where = d->dest ? d->dest : d->folder;
		const char *name = d->dest_id ? d->dest_id
					      : d->id ? d->id : "";
		if (i == 0)
			reason = g_strdup_printf("%s of %s%s%s failed for good: "
						 "%s", jop_name(d->op), where,
						 *name ? "/" : "", name, why);
		else
			reason = g_strdup_printf("%s of %s%s%s was not made: it "
						 "depended on the %s of %s "
						 "(%s)", jop_name(d->op), where,
						 *name ? "/" : "", name,
						 jop_name(r->op), r->folder,
						 why);
		if (d->content) {
			src = content_path(c, d->content);
		} else if (d->id) {
			/* the body as last seen, when it is here */
			g_autofree char *key = cache_blob_key(where, name);
			src = cache_blob_path(c, key);
			if (access(src, R_OK) != 0)
				g_clear_pointer(&src, g_free);
		}
		label = g_strdup_printf("%s%s%s", where, *name ? "-" : "",
					name);
		/* an append's bytes move there (a rename in the same
		 * directory tree: it does not fail for want of space); a
		 * body stays in the cache too */
		keep_issue(c, label, src, d->content != NULL, reason);
		g_hash_table_add(folders, g_strdup(d->folder));
		if (d->dest)
			g_hash_table_add(folders, g_strdup(d->dest));
	}
	g_ptr_array_unref(dropped);
	/* the index and the server differ now: read the folders again whole,
	 * and tell the mount at once about what went away */
	GHashTableIter it;
	gpointer f;
	g_hash_table_iter_init(&it, folders);
	while (g_hash_table_iter_next(&it, &f, NULL)) {
		index_forget_state(c->ix, f);
		index_touch_local(c->ix, f);
		cache_tell_mount(c, f);
		cache_enqueue(c, f);
	}
	cache_enqueue(c, "");
	g_hash_table_unref(folders);
}

/* Claim a run of rows as one: each marked SENT and read again in the
 * same step, as replay_first does for one, its entry in `rows` replaced
 * by what it holds now.  Returns 0 or -errno. */
static int claim_rows(struct mfs_backend *c, GPtrArray *rows)
{
	int rc = 0;

	index_begin(c->ix);
	for (guint i = 0; i < rows->len && rc == 0; i++) {
		struct jrow *now = NULL;
		rc = journal_claim(c->ix, ((struct jrow *)rows->pdata[i])->seq,
				   &now);
		if (rc == 0) {
			jrow_free(rows->pdata[i]);
			rows->pdata[i] = now;
		}
	}
	return index_end(c->ix, rc);
}

/* A batch the store had no call for: nothing was sent, the rows wait as
 * they did. */
static void requeue_rows(struct mfs_backend *c, GPtrArray *rows)
{
	for (guint i = 0; i < rows->len; i++)
		journal_set_state(c->ix, ((struct jrow *)rows->pdata[i])->seq,
				  JS_QUEUED);
}

/* The server ids and flags of claimed rows, for a batch call; the ids
 * are borrowed from `rows`.  Caller frees both arrays. */
static void rows_ids(GPtrArray *rows, const char ***ids_r, uint64_t **flags_r)
{
	*ids_r = g_new0(const char *, rows->len);
	if (flags_r)
		*flags_r = g_new0(uint64_t, rows->len);
	for (guint i = 0; i < rows->len; i++) {
		struct jrow *r = rows->pdata[i];
		(*ids_r)[i] = r->rid;
		if (flags_r)
			(*flags_r)[i] = r->flags;
	}
}

/*
 * Unsent appends to one folder in a row go in one request where the store
 * can (MULTIAPPEND): claimed together, answered together, each finished on
 * its own.  Returns DONE, RETRY (with the reason in *e; the rows stay
 * SENT and are looked up one by one), or REFUSED when the batch could not
 * be tried (nothing was sent: the caller replays the first row alone).
 */
static enum outcome replay_batch(struct mfs_backend *c, GPtrArray *rows,
				 struct mfs_error *e)
{
	struct mfs_append *in = g_new0(struct mfs_append, rows->len);
	GPtrArray *made = NULL;
	enum outcome out = DONE;
	guint opened = 0;
	int rc = 0;

	if (claim_rows(c, rows) < 0) {
		g_free(in);
		return RETRY;
	}
	step(c);
	for (; opened < rows->len; opened++) {
		struct jrow *r = rows->pdata[opened];
		g_autofree char *p = content_path(c, r->content);
		in[opened].fd = open(p, O_RDONLY | O_CLOEXEC);
		in[opened].hint = r->rid ? r->rid : r->id;
		in[opened].flags = r->flags;
		in[opened].date = r->date;
		if (in[opened].fd < 0)
			break;
	}
	struct jrow *first = rows->pdata[0];
	rc = opened < rows->len ? -ENOENT
		: mfs_store_append_batch(&c->inner, first->folder, in,
					 rows->len, &made, e);
	for (guint i = 0; i < opened; i++)
		close(in[i].fd);
	g_free(in);
	if (rc == -ENOTSUP || (rc < 0 && e->retry == MFS_ERR_FINAL)) {
		/* not tried, or refused as a whole: one by one, which finds
		 * out which one the server will not take */
		if (rc == -ENOTSUP) {
			c->wb_no_batch = true;
			requeue_rows(c, rows);
		}
		c->wb_single_until = ((struct jrow *)
				      rows->pdata[rows->len - 1])->seq;
		return REFUSED;
	}
	if (rc < 0) {
		journal_note_failure(c->ix, first->seq, e->msg);
		return RETRY;
	}
	step(c);
	for (guint i = 0; i < rows->len; i++) {
		struct mfs_item *it = made->pdata[i];
		finish_row(c, rows->pdata[i], it->id);
		step(c);
	}
	g_ptr_array_unref(made);
	return out;
}

/*
 * Flag changes of several messages of one folder in one exchange.  Flags
 * are set to exact values, so a repeat is harmless: the rows are claimed
 * and finished as one.  A message the server no longer has is refused on
 * its own.  Returns DONE, RETRY (reason in *e), or REFUSED when the store
 * has no such call (nothing was sent).
 */
static enum outcome replay_flags(struct mfs_backend *c, GPtrArray *rows,
				 struct mfs_error *e)
{
	int *rcs = g_new0(int, rows->len);
	const char **ids = NULL;
	uint64_t *flags = NULL;
	struct jrow *first;
	int rc;

	if ((rc = claim_rows(c, rows)) < 0)
		goto out;
	rows_ids(rows, &ids, &flags);
	first = rows->pdata[0];
	step(c);
	rc = mfs_store_set_flags_batch(&c->inner, first->folder, ids, flags,
				       rows->len, rcs, e);
	if (rc == -ENOTSUP) {
		c->wb_no_flag_batch = true;
		requeue_rows(c, rows);
		goto out;
	}
	if (rc < 0) {
		journal_note_failure(c->ix, first->seq, e->msg);
		goto out;
	}
	step(c);
	for (guint i = 0; i < rows->len; i++) {
		struct jrow *r = rows->pdata[i];
		if (rcs[i] == 0) {
			finish_row(c, r, NULL);
		} else {
			g_autofree char *why = g_strdup_printf(
				"the message was deleted on the server while "
				"its flags were being changed here");
			refuse_row(c, r, why);
		}
	}
	step(c);
out:
	g_free(ids);
	g_free(flags);
	g_free(rcs);
	return rc == -ENOTSUP ? REFUSED : rc < 0 ? RETRY : DONE;
}

/*
 * Deletes of several messages of one folder in one exchange; a delete is
 * safe to repeat.  Returns DONE, RETRY (reason in *e), or REFUSED when the
 * batch was not tried or not taken as a whole: then one by one.
 */
static enum outcome replay_removes(struct mfs_backend *c, GPtrArray *rows,
				   struct mfs_error *e)
{
	const char **ids = NULL;
	struct jrow *first;
	int rc;

	if (claim_rows(c, rows) < 0)
		return RETRY;
	rows_ids(rows, &ids, NULL);
	first = rows->pdata[0];
	step(c);
	rc = mfs_store_remove_batch(&c->inner, first->folder, ids, rows->len,
				    e);
	g_free(ids);
	if (rc == -ENOTSUP)
		c->wb_no_remove_batch = true;
	if (rc < 0 && (rc == -ENOTSUP || e->retry == MFS_ERR_FINAL))
		return REFUSED;
	if (rc < 0) {
		journal_note_failure(c->ix, first->seq, e->msg);
		return RETRY;
	}
	step(c);
	for (guint i = 0; i < rows->len; i++)
		finish_row(c, rows->pdata[i], NULL);
	step(c);
	return DONE;
}

/*
 * Moves (or copies) of several messages of one folder to one folder in one
 * exchange.  Returns DONE, RETRY (reason in *e; the rows stay SENT and
 * are looked up one by one), or REFUSED when the batch was not tried
 * (nothing sent, the rows are queued again) or not taken as a whole.
 */
static enum outcome replay_moves(struct mfs_backend *c, GPtrArray *rows,
				 struct mfs_error *e)
{
	const char **ids = NULL;
	uint64_t *flags = NULL;
	GPtrArray *made = NULL;
	struct jrow *first;
	int rc;

	if ((rc = claim_rows(c, rows)) < 0)
		goto out;
	rows_ids(rows, &ids, &flags);
	first = rows->pdata[0];
	step(c);
	rc = mfs_store_move_batch(&c->inner, first->folder, ids, first->dest,
				  flags, rows->len, first->op == JOP_MOVE,
				  &made, e);
	if (rc == -ENOTSUP) {
		c->wb_no_move_batch = true;
		requeue_rows(c, rows);
		goto out;
	}
	if (rc < 0) {
		if (e->retry != MFS_ERR_FINAL)
			journal_note_failure(c->ix, first->seq, e->msg);
		goto out;
	}
	step(c);
	for (guint i = 0; i < rows->len; i++) {
		struct mfs_item *it = made->pdata[i];
		if (it)
			finish_row(c, rows->pdata[i], it->id);
		else
			refuse_row(c, rows->pdata[i], "the message is gone "
				   "from the server");
	}
	step(c);
out:
	if (made)
		g_ptr_array_unref(made);
	g_free(ids);
	g_free(flags);
	if (rc == -ENOTSUP || (rc < 0 && e->retry == MFS_ERR_FINAL))
		return REFUSED;
	return rc < 0 ? RETRY : DONE;
}

typedef enum outcome (*batch_fn)(struct mfs_backend *c, GPtrArray *rows,
				 struct mfs_error *e);

/* The replay of a run of rows like `first` in one exchange, and the run's
 * longest length; NULL when it goes alone (a row that may have been sent
 * is looked up on its own; a message not on the server yet has no id to
 * name it by; the store had no such call). */
static batch_fn batch_for(struct mfs_backend *c, const struct jrow *first,
			  unsigned *max_r)
{
	if (first->state == JS_SENT)
		return NULL;
	switch (first->op) {
	case JOP_APPEND:
		*max_r = APPEND_BATCH;
		return c->wb_no_batch || first->seq <= c->wb_single_until
			? NULL : replay_batch;
	case JOP_FLAGS:
		*max_r = FLAGS_BATCH;
		return c->wb_no_flag_batch || !first->rid ? NULL : replay_flags;
	case JOP_REMOVE:
		*max_r = FLAGS_BATCH;
		return c->wb_no_remove_batch || !first->rid ? NULL
							    : replay_removes;
	case JOP_MOVE:
	case JOP_COPY:
		*max_r = MOVE_BATCH;
		return c->wb_no_move_batch || !first->rid ? NULL : replay_moves;
	default:
		return NULL;
	}
}

/* ---- sending ---- */

/*
 * The folder a sent message's copy goes to: the one the server marks
 * \Sent (RFC 6154), else the one named Sent, made when there is none.
 * Known to the index on return.  *name_r (caller owns).
 */
static int sent_folder(struct mfs_backend *c, char **name_r,
		       struct mfs_error *e)
{
	GPtrArray *list = NULL;
	const char *pick = NULL;
	bool named = false;
	int rc = mfs_store_list_folders(&c->inner, &list, e);

	if (rc < 0)
		return rc;
	for (guint i = 0; i < list->len; i++) {
		struct mfs_folder_info *fi = list->pdata[i];
		if (fi->kind != MFS_FOLDER_MAIL)
			continue;
		if (fi->special && !g_ascii_strcasecmp(fi->special, "\\Sent")) {
			pick = fi->path;
			break;
		}
		if (!strcmp(fi->path, CACHE_SENT))
			named = true;
	}
	*name_r = g_strdup(pick ? pick : CACHE_SENT);
	g_ptr_array_unref(list);
	if (!pick && !named) {
		rc = mfs_store_create_folder(&c->inner, CACHE_SENT,
					     MFS_FOLDER_MAIL, e);
		if (rc < 0 && rc != -EEXIST) {
			g_clear_pointer(name_r, g_free);
			return rc;
		}
		log_info("made the folder %s for copies of sent messages",
			 CACHE_SENT);
	}
	if (index_folder_state(c->ix, *name_r, NULL, NULL, NULL) == -ENOENT) {
		index_add_folder(c->ix, *name_r, MFS_FOLDER_MAIL);
		index_touch_folders(c->ix);
		cache_enqueue(c, "");
	}
	return 0;
}

/* The message stays in the outbox, not to be sent again, with `why`. */
static void hold(struct mfs_backend *c, const struct jrow *r, const char *why)
{
	journal_hold(c->ix, r->seq, why);
	log_error_record("%s/%s not sent: %s", r->folder, r->id, why);
	cache_tell_mount(c, r->folder);
}

/* The server took the message: in one step it leaves the outbox and its
 * row becomes the append of its copy to `sent`. */
static int sent_to(struct mfs_backend *c, const struct jrow *r,
		   const char *sent)
{
	int rc;

	index_begin(c->ix);
	g_autofree char *id = choose_id(c, sent, r->id);
	struct mfs_item *it = mfs_item_new(id, r->size, r->date,
					   MFS_FLAG_SEEN);
	it->message_id = g_strdup(r->msgid);
	rc = journal_retarget(c->ix, r->seq, sent, id, MFS_FLAG_SEEN);
	if (rc == 0)
		rc = index_remove_item(c->ix, r->folder, r->id);
	if (rc == 0)
		rc = index_put_local(c->ix, sent, it, r->seq);
	if (rc == 0)
		rc = index_touch_local(c->ix, r->folder);
	if (rc == 0)
		rc = index_touch_local(c->ix, sent);
	rc = index_end(c->ix, rc);
	mfs_item_free(it);
	if (rc < 0)
		return rc;
	carry_blob(c, r->folder, r->id, sent, id, false);
	cache_tell_mount(c, r->folder);
	cache_tell_mount(c, sent);
	return 0;
}

/* The server took the message and there is no folder for its copy: it
 * leaves the outbox, and its row is done. */
static int sent_only(struct mfs_backend *c, const struct jrow *r)
{
	int rc;

	index_begin(c->ix);
	rc = index_remove_item(c->ix, r->folder, r->id);
	if (rc == 0)
		rc = journal_done(c->ix, r->seq, NULL);
	if (rc == 0)
		rc = index_touch_local(c->ix, r->folder);
	rc = index_end(c->ix, rc);
	if (rc < 0)
		return rc;
	g_autofree char *p = content_path(c, r->content);
	unlink(p);
	drop_blob(c, r->folder, r->id);
	cache_tell_mount(c, r->folder);
	return 0;
}

/*
 * Submit the message of SEND row `r` (claimed).  A row that was SENT
 * before may have reached the server: it is held, never repeated.  The
 * sent folder is found (or made) first, so that a message the server took
 * always has a copy to make.  Returns DONE (sent, or held for good) or
 * DEFERRED (nothing was sent; tried again after a back-off).
 */
static enum outcome replay_send(struct mfs_backend *c, const struct jrow *r,
				bool was_sent, struct mfs_error *e)
{
	g_autofree char *sent = NULL;
	g_autofree char *path = content_path(c, r->content);
	bool maybe = false;
	int fd, rc;

	if (was_sent) {
		hold(c, r, "sending was interrupted after the message was "
		     "handed to the server, which may have taken it; it is "
		     "not sent again (copy it out of " CACHE_OUTBOX "/ and "
		     "back in to send it anyway)");
		return DONE;
	}
	if ((rc = sent_folder(c, &sent, e)) < 0 &&
	    e->retry != MFS_ERR_FINAL) {
		journal_set_state(c->ix, r->seq, JS_QUEUED);
		return DEFERRED;
	}
	if (rc < 0)	/* a store of one folder (POP3): sent, not copied */
		log_debug(LOG_CACHE, "no copy of sent messages: %s", e->msg);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		hold(c, r, "the message's bytes are gone from the cache");
		return DONE;
	}
	rc = mfs_store_send(&c->inner, fd, &maybe, e);
	close(fd);
	step(c);
	if (rc == 0) {
		if ((sent ? sent_to(c, r, sent) : sent_only(c, r)) < 0)
			return RETRY;	/* still SENT: held when seen again */
		step(c);
		return DONE;
	}
	if (e->retry == MFS_ERR_FINAL) {
		hold(c, r, e->msg);
		return DONE;
	}
	if (maybe) {
		g_autofree char *why = g_strdup_printf(
			"%s; the server may have taken it, so it is not sent "
			"again (copy it out of " CACHE_OUTBOX "/ and back in "
			"to send it anyway)", e->msg);
		hold(c, r, why);
		return DONE;
	}
	/* nothing reached the server: the next attempt is a first one */
	journal_note_failure(c->ix, r->seq, e->msg);
	journal_set_state(c->ix, r->seq, JS_QUEUED);
	return DEFERRED;
}

/* Replay the oldest row once.  Returns its outcome; RETRY leaves the
 * reason in *e. */
static enum outcome replay_first(struct mfs_backend *c, struct jrow *first,
				 struct mfs_error *e)
{
	bool was_sent = first->state == JS_SENT;
	struct jrow *r = NULL;
	g_autoptr(jrow) again = NULL;
	g_autofree char *rid = NULL;
	enum outcome out;

	unsigned max = 0;
	batch_fn fn = batch_for(c, first, &max);
	GPtrArray *rows = NULL;
	if (fn && journal_run(c->ix, first->seq, max, &rows) == 0 &&
	    rows->len > 1) {
		out = fn(c, rows, e);
		g_ptr_array_unref(rows);
		if (out != REFUSED)
			return out;
		/* the batch was not tried or not taken: alone, as it is now */
		if (journal_get(c->ix, first->seq, &again) < 0)
			return DONE;
		first = again;
		was_sent = first->state == JS_SENT;
	} else if (rows) {
		g_ptr_array_unref(rows);
	}

	/* SENT before the request leaves, and read again in the same step:
	 * a change folded into the row after this is a new row */
	if (journal_claim(c->ix, first->seq, &r) < 0)
		return RETRY;
	step(c);
	if (r->op == JOP_SEND) {
		out = replay_send(c, r, was_sent, e);
		jrow_free(r);
		return out;
	}
	out = replay(c, r, was_sent, &rid, e);
	if (out != RETRY)
		step(c);
	switch (out) {
	case DONE:
		finish_row(c, r, rid);
		step(c);
		break;
	case REFUSED:
		refuse_row(c, r, e->msg[0] ? e->msg : "refused");
		break;
	case RETRY:
	case DEFERRED:
		journal_note_failure(c->ix, r->seq, e->msg);
		break;
	}
	jrow_free(r);
	return out;
}

static gpointer flusher(gpointer p)
{
	struct mfs_backend *c = p;
	gint64 delay = 0;

	g_mutex_lock(&c->lock);
	while (!c->stop) {
		if (c->wb_hold && !c->wb_kicked) {
			g_cond_wait(&c->wb_wake, &c->lock);
			continue;
		}
		c->wb_hold = false;
		g_mutex_unlock(&c->lock);

		struct jrow *first = NULL;
		struct mfs_error e = { 0 };
		enum outcome out = DONE;
		g_mutex_lock(&c->lock);
		gint64 send_after = c->wb_send_after;
		g_mutex_unlock(&c->lock);
		bool sends = g_get_monotonic_time() >= send_after;
		bool empty = journal_first(c->ix, sends, &first) < 0;
		bool sending = !empty && first->op == JOP_SEND;
		if (!empty) {
			g_mutex_lock(&c->replay_lock);
			out = replay_first(c, first, &e);
			g_mutex_unlock(&c->replay_lock);
			jrow_free(first);
		}

		g_mutex_lock(&c->lock);
		if (out == DEFERRED) {
			/* messages to send wait; the other rows go on */
			c->wb_send_delay = c->wb_send_delay
				? MIN(c->wb_send_delay * 2, BACKOFF_MAX_US)
				: BACKOFF_FIRST_US;
			c->wb_send_after = g_get_monotonic_time() +
					   c->wb_send_delay;
		} else if (out == DONE && sending) {
			c->wb_send_delay = 0;
		}
		if (out == RETRY || out == DEFERRED) {
			c->wb_failures++;
			g_free(c->wb_error);
			c->wb_error = g_strdup(e.msg[0] ? e.msg : "failed");
			log_debug(LOG_CACHE, "flush: %s", c->wb_error);
		}
		c->wb_rounds++;
		g_cond_broadcast(&c->wb_progress);
		if (empty) {
			delay = 0;
			/* messages to send may be waiting for their time */
			if (!sends && !c->wb_kicked && !c->stop)
				g_cond_wait_until(&c->wb_wake, &c->lock,
						  send_after);
			else if (!c->wb_kicked && !c->stop)
				g_cond_wait(&c->wb_wake, &c->lock);
			c->wb_kicked = false;
		} else if (out == RETRY) {
			delay = delay ? MIN(delay * 2, BACKOFF_MAX_US)
				      : BACKOFF_FIRST_US;
			gint64 until = g_get_monotonic_time() + delay;
			while (!c->stop && !c->wb_kicked &&
			       g_cond_wait_until(&c->wb_wake, &c->lock, until))
				;
			c->wb_kicked = false;
		} else {
			delay = 0;
		}
	}
	g_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- the store's side ---- */

int wb_flush(struct mfs_backend *c, const char *folder, const char *id,
	     struct mfs_error *e)
{
	uint64_t failures, rounds;

	g_mutex_lock(&c->lock);
	failures = c->wb_failures;
	c->wb_kicked = true;
	c->wb_send_after = 0;
	g_cond_signal(&c->wb_wake);
	g_mutex_unlock(&c->lock);
	for (;;) {
		g_mutex_lock(&c->lock);
		rounds = c->wb_rounds;
		g_mutex_unlock(&c->lock);
		/* looked at without our lock: the index's is never taken
		 * under it; a round that ends meanwhile moves wb_rounds */
		int64_t n = journal_count(c->ix);
		bool pending = folder ? journal_names(c->ix, folder, id) : n > 0;
		if (!pending) {
			/* the round that took the last rows may still be
			 * keeping what the server refused in sync-issues/
			 * (refuse_row, under replay_lock): done is done with
			 * that too */
			g_mutex_lock(&c->replay_lock);
			g_mutex_unlock(&c->replay_lock);
			return 0;
		}
		g_mutex_lock(&c->lock);
		/* a failure may be a passing one (a server busy a moment):
		 * tried again at once, twice, before giving up */
		if (c->wb_failures != failures &&
		    c->wb_failures - failures < FLUSH_ATTEMPTS) {
			c->wb_kicked = true;
			c->wb_send_after = 0;
			g_cond_signal(&c->wb_wake);
		}
		if (c->wb_failures - failures >= FLUSH_ATTEMPTS || c->stop ||
		    !c->flusher) {
			mfs_error_set(e, -EAGAIN, MFS_ERR_ACCOUNT,
				      MFS_ERR_BACKOFF, "%" G_GINT64_FORMAT
				      " changes wait for the server: %s", n,
				      c->wb_error ? c->wb_error
						  : "the flusher is stopped");
			g_mutex_unlock(&c->lock);
			return -EAGAIN;
		}
		gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC;
		while (c->wb_rounds == rounds && !c->stop &&
		       g_cond_wait_until(&c->wb_progress, &c->lock, until))
			;
		g_mutex_unlock(&c->lock);
	}
}

void wb_describe(struct mfs_backend *c, GString *out)
{
	g_string_append_printf(out, "pending: %" G_GINT64_FORMAT "\n",
			       journal_count(c->ix));
	journal_describe(c->ix, out);
	g_mutex_lock(&c->lock);
	if (c->wb_last_flush) {
		GDateTime *dt = g_date_time_new_from_unix_utc(
			c->wb_last_flush / G_USEC_PER_SEC);
		g_autofree char *when = g_date_time_format(dt,
							   "%Y-%m-%dT%H:%M:%SZ");
		g_date_time_unref(dt);
		g_string_append_printf(out, "last flush: %s\n", when);
	}
	if (c->wb_error)
		g_string_append_printf(out, "flush failing: %s\n", c->wb_error);
	g_mutex_unlock(&c->lock);
	g_string_append_printf(out, "write-back: %s\n",
			       c->opt.writeback ? "on" : "off");
	/* what the server refused, kept with the reasons */
	unsigned n = 0;
	GDir *d = g_dir_open(c->issues, 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name(d)))
		n += g_str_has_suffix(name, ".reason");
	if (d)
		g_dir_close(d);
	g_string_append_printf(out, "sync issues: %u in %s\n", n, c->issues);
}

int wb_open(struct mfs_backend *c, char **why_r)
{
	GHashTable *live = NULL;
	const char *hook;
	int rc;

	c->pending = g_build_filename(c->dir, "pending", NULL);
	c->issues = g_build_filename(c->dir, "sync-issues", NULL);
	if ((rc = file_mkdir_p(c->pending, 0700)) < 0 ||
	    (rc = file_mkdir_p(c->issues, 0700)) < 0) {
		*why_r = g_strdup_printf("%s: %s", c->dir, g_strerror(-rc));
		return rc;
	}
	/* bytes of an append that never committed: the writer was not
	 * told it worked, and its staged copy is kept by the mount */
	if ((rc = journal_contents(c->ix, &live)) < 0) {
		*why_r = g_strdup("cannot read the journal");
		return rc;
	}
	GDir *d = g_dir_open(c->pending, 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name(d))) {
		if (!g_hash_table_contains(live, name)) {
			g_autofree char *p = content_path(c, name);
			unlink(p);
		}
	}
	if (d)
		g_dir_close(d);
	g_hash_table_unref(live);
	if ((hook = getenv("MAILFS_TEST_CRASH_AFTER")) && *hook)
		c->wb_crash_after = strtol(hook, NULL, 10);
	if ((hook = getenv("MAILFS_TEST_HOLD_FLUSH")) && *hook == '1')
		c->wb_hold = true;
	return 0;
}

void wb_start(struct mfs_backend *c)
{
	c->flusher = g_thread_new("cache-flush", flusher, c);
}

/* The caller has set c->stop and woken wb_wake. */
void wb_stop(struct mfs_backend *c)
{
	if (c->flusher)
		g_thread_join(c->flusher);
	c->flusher = NULL;
}

void wb_init(struct mfs_backend *c)
{
	g_mutex_init(&c->replay_lock);
	g_cond_init(&c->wb_wake);
	g_cond_init(&c->wb_progress);
}

void wb_clear(struct mfs_backend *c)
{
	g_mutex_clear(&c->replay_lock);
	g_cond_clear(&c->wb_wake);
	g_cond_clear(&c->wb_progress);
	g_free(c->pending);
	g_free(c->issues);
	g_free(c->wb_error);
}
