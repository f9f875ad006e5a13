/*
 * wb-outbox.c - the Outbox: a folder of the cache, not of the server,
 * whose messages the flusher hands to the account's sender (sender.h).
 * A message the server took leaves the Outbox in the same step as its row
 * becomes the append of its copy to the sent folder (RFC 6154 \Sent, else
 * one named Sent).  A message that may have been taken already is never
 * sent again blindly: it is HELD, with the reason, for the user.
 *
 * Messages queued together go out as a batch: the sender keeps its
 * connection from one to the next while the Outbox holds more to send,
 * and the sent folder found for the first is used for the rest, until
 * the index's folder list changes.
 */
#include "wb-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sender.h"

bool wb_has_outbox(const struct wb *w)
{
	return w->sender != NULL;
}

bool wb_is_outbox(const struct wb *w, const char *folder)
{
	return wb_has_outbox(w) && !strcmp(folder, CACHE_OUTBOX);
}

int wb_outbox_folder(struct wb *w, const char *path, struct mfs_error *e)
{
	if (!wb_has_outbox(w) || (strcmp(path, CACHE_OUTBOX) &&
				  !g_str_has_prefix(path, CACHE_OUTBOX "/")))
		return 0;
	return mfs_error_set(e, -EPERM, MFS_ERR_FOLDER, MFS_ERR_FINAL,
			     "%s is the queue of messages to send",
			     CACHE_OUTBOX);
}

/*
 * The folder a sent message's copy goes to: the one the server marks
 * \Sent (RFC 6154), else the one named Sent, made when there is none.
 * Known to the index on return.  *name_r (caller owns).
 */
static int look_up_sent(struct wb *w, char **name_r, struct mfs_error *e)
{
	GPtrArray *list = NULL;
	const char *pick = NULL;
	bool named = false;
	int rc = mfs_store_list_folders(w->inner, &list, e);

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
		rc = mfs_store_create_folder(w->inner, CACHE_SENT,
					     MFS_FOLDER_MAIL, e);
		if (rc < 0 && rc != -EEXIST) {
			g_clear_pointer(name_r, g_free);
			return rc;
		}
		log_info("made the folder %s for copies of sent messages",
			 CACHE_SENT);
	}
	if (index_folder_state(w->ix, *name_r, NULL, NULL, NULL) == -ENOENT) {
		index_add_folder(w->ix, *name_r, MFS_FOLDER_MAIL);
		index_touch_folders(w->ix);
		w->hooks.resync(w->hooks.owner, "");
	}
	return 0;
}

/* A digest of the index's folder list (paths and kinds), or NULL when it
 * cannot be read.  Caller owns the result. */
static char *folders_digest(struct wb *w)
{
	GPtrArray *list = NULL;

	if (index_folders(w->ix, &list) < 0)
		return NULL;
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	for (guint i = 0; i < list->len; i++) {
		struct mfs_folder_info *fi = list->pdata[i];
		guint8 kind = (guint8)fi->kind;
		g_checksum_update(ck, (const guchar *)fi->path,
				  (gssize)strlen(fi->path) + 1);
		g_checksum_update(ck, &kind, 1);
	}
	char *out = g_strdup(g_checksum_get_string(ck));
	g_checksum_free(ck);
	g_ptr_array_unref(list);
	return out;
}

void wb_outbox_clear(struct wb *w)
{
	g_clear_pointer(&w->sent.name, g_free);
	g_clear_pointer(&w->sent.folders, g_free);
	w->sent.known = false;
}

/*
 * look_up_sent, once for as long as the folder list the index holds (kept
 * current by the cache's sync, and by the changes made here) stays the
 * same: listing the server's folders for every message of a batch costs a
 * round trip each and tells nothing new.  A store that has no folder for
 * the copies is remembered too (-ENOTSUP, final).
 */
static int sent_folder(struct wb *w, char **name_r, struct mfs_error *e)
{
	g_autofree char *now = folders_digest(w);
	int64_t fgen = index_folders_gen(w->ix);
	int rc;

	*name_r = NULL;
	if (w->sent.known && now && !strcmp(now, w->sent.folders) &&
	    fgen == w->sent.fgen) {
		if (w->sent.name) {
			*name_r = g_strdup(w->sent.name);
			return 0;
		}
		return mfs_error_set(e, -ENOTSUP, MFS_ERR_FOLDER,
				     MFS_ERR_FINAL, "the store has no folder "
				     "for copies of sent messages");
	}
	wb_outbox_clear(w);
	rc = look_up_sent(w, name_r, e);
	if (rc < 0 && e->retry != MFS_ERR_FINAL)
		return rc;
	/* as the index stands after the look-up, which may have added it */
	w->sent.folders = folders_digest(w);
	w->sent.fgen = index_folders_gen(w->ix);
	w->sent.known = w->sent.folders != NULL;
	w->sent.name = g_strdup(*name_r);
	return rc;
}

/* The message stays in the outbox, not to be sent again, with `why`. */
static void hold(struct wb *w, const struct jrow *r, const char *why)
{
	wb_row_set(w, r, JS_HELD, &(struct wb_change){ .reason = why });
	log_error_record("%s/%s not sent: %s", r->folder, r->id, why);
	w->hooks.tell(w->hooks.owner, r->folder);
}

/* The server took the message: in one step it leaves the outbox and its
 * row becomes the append of its copy to `sent`. */
static int sent_to(struct wb *w, const struct jrow *r, const char *sent)
{
	int rc;

	index_begin(w->ix);
	g_autofree char *id = wb_choose_id(w, sent, r->id);
	struct mfs_item *it = mfs_item_new(id, r->size, r->date,
					   MFS_FLAG_SEEN);
	it->message_id = g_strdup(r->msgid);
	rc = wb_row_set(w, r, JS_QUEUED,
			&(struct wb_change){ .folder = sent, .id = id,
					     .flags = MFS_FLAG_SEEN });
	if (rc == 0)
		rc = index_remove_item(w->ix, r->folder, r->id);
	if (rc == 0)
		rc = index_put_local(w->ix, sent, it, r->seq);
	if (rc == 0)
		rc = index_touch_local(w->ix, r->folder);
	if (rc == 0)
		rc = index_touch_local(w->ix, sent);
	rc = index_end(w->ix, rc);
	mfs_item_free(it);
	if (rc < 0)
		return rc;
	wb_carry_blob(w, r->folder, r->id, sent, id, false);
	w->hooks.tell(w->hooks.owner, r->folder);
	w->hooks.tell(w->hooks.owner, sent);
	return 0;
}

/* The server took the message and there is no folder for its copy: it
 * leaves the outbox, and its row is done. */
static int sent_only(struct wb *w, const struct jrow *r)
{
	int rc;

	index_begin(w->ix);
	rc = index_remove_item(w->ix, r->folder, r->id);
	if (rc == 0)
		rc = wb_row_set(w, r, JS_DONE, NULL);
	if (rc == 0)
		rc = index_touch_local(w->ix, r->folder);
	rc = index_end(w->ix, rc);
	if (rc < 0)
		return rc;
	g_autofree char *p = wb_content_path(w, r->content);
	unlink(p);
	wb_drop_blob(w, r->folder, r->id);
	w->hooks.tell(w->hooks.owner, r->folder);
	return 0;
}

/* After a message: the sender's connection stays open for the next only
 * while one waits in the Outbox and this one did not fail for the
 * account (a refusal of the message itself leaves the connection good). */
static void batch_step(struct wb *w, int rc, const struct mfs_error *e)
{
	if ((rc < 0 && e->retry != MFS_ERR_FINAL) ||
	    !journal_names(w->ix, CACHE_OUTBOX, NULL))
		mfs_sender_idle(w->sender);
}

/*
 * A row that was SENT before may have reached the server: it is held,
 * never repeated.  The sent folder is found (or made) first, so that a
 * message the server took always has a copy to make.
 */
enum wb_outcome wb_replay_send(struct wb *w, const struct jrow *r,
			       bool was_sent, struct mfs_error *e)
{
	g_autofree char *sent = NULL;
	g_autofree char *path = wb_content_path(w, r->content);
	bool maybe = false;
	int fd, rc;

	if (was_sent) {
		hold(w, r, "sending was interrupted after the message was "
		     "handed to the server, which may have taken it; it is "
		     "not sent again (copy it out of " CACHE_OUTBOX "/ and "
		     "back in to send it anyway)");
		batch_step(w, 0, e);
		return WB_DONE;
	}
	if ((rc = sent_folder(w, &sent, e)) < 0 &&
	    e->retry != MFS_ERR_FINAL) {
		wb_row_set(w, r, JS_QUEUED, NULL);
		mfs_sender_idle(w->sender);
		return WB_DEFERRED;
	}
	if (rc < 0)	/* a store of one folder: sent, not copied */
		log_debug(LOG_CACHE, "no copy of sent messages: %s", e->msg);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		hold(w, r, "the message's bytes are gone from the cache");
		batch_step(w, 0, e);
		return WB_DONE;
	}
	rc = mfs_sender_send(w->sender, fd, &maybe, e);
	close(fd);
	wb_step(w);
	if (rc == 0) {
		int drc = sent ? sent_to(w, r, sent) : sent_only(w, r);
		batch_step(w, 0, e);
		if (drc < 0)
			return WB_RETRY;	/* still SENT: held when seen
						   again */
		wb_step(w);
		return WB_DONE;
	}
	if (e->retry == MFS_ERR_FINAL) {
		hold(w, r, e->msg);
		batch_step(w, rc, e);
		return WB_DONE;
	}
	batch_step(w, rc, e);
	if (maybe) {
		g_autofree char *why = g_strdup_printf(
			"%s; the server may have taken it, so it is not sent "
			"again (copy it out of " CACHE_OUTBOX "/ and back in "
			"to send it anyway)", e->msg);
		hold(w, r, why);
		return WB_DONE;
	}
	/* nothing reached the server: the next attempt is a first one */
	journal_note_failure(w->ix, r->seq, e->msg);
	wb_row_set(w, r, JS_QUEUED, NULL);
	return WB_DEFERRED;
}
