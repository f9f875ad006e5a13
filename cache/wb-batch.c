/*
 * wb-batch.c - a run of like journal rows replayed in one request where
 * the store can: appends to one folder (MULTIAPPEND), flag changes and
 * deletes of messages of one folder, moves and copies of messages of one
 * folder to one folder.  The rows are claimed together and each ends on
 * its own (wb_finish_row, wb_refuse_row).  A store that turns out to have
 * no such call is not asked again for this mount.
 */
#include "wb-private.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* Appends sent in one request at most; flag changes in one exchange. */
#define APPEND_BATCH 32
#define FLAGS_BATCH 256
#define MOVE_BATCH 128

/* Claim a run of rows as one: each marked SENT and read again in the
 * same step, as replay_first does for one, its entry in `rows` replaced
 * by what it holds now. */
static int claim_rows(struct wb *w, GPtrArray *rows)
{
	int rc = 0;

	index_begin(w->ix);
	for (guint i = 0; i < rows->len && rc == 0; i++) {
		struct jrow *now = NULL;
		rc = wb_row_set(w, rows->pdata[i], JS_SENT,
				&(struct wb_change){ .now_r = &now });
		if (rc == 0) {
			jrow_free(rows->pdata[i]);
			rows->pdata[i] = now;
		}
	}
	return index_end(w->ix, rc);
}

/* A batch the store had no call for: nothing was sent, the rows wait as
 * they did. */
static void requeue_rows(struct wb *w, GPtrArray *rows)
{
	for (guint i = 0; i < rows->len; i++)
		wb_row_set(w, rows->pdata[i], JS_QUEUED, NULL);
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
static enum wb_outcome replay_appends(struct wb *w, GPtrArray *rows,
				      struct mfs_error *e)
{
	struct mfs_append *in = g_new0(struct mfs_append, rows->len);
	GPtrArray *made = NULL;
	guint opened = 0;
	int rc = 0;

	/* an item rewritten while its append was on its way is replaced
	 * once that append's server id is known, not made a second time */
	for (guint i = 1; i < rows->len; i++) {
		struct jrow *r = rows->pdata[i];
		if (r->origin && !r->rid) {
			g_ptr_array_set_size(rows, i);
			break;
		}
	}
	if (claim_rows(w, rows) < 0) {
		g_free(in);
		return WB_RETRY;
	}
	wb_step(w);
	for (; opened < rows->len; opened++) {
		struct jrow *r = rows->pdata[opened];
		g_autofree char *p = wb_content_path(w, r->content);
		in[opened].fd = open(p, O_RDONLY | O_CLOEXEC);
		in[opened].hint = r->rid ? r->rid : r->id;
		in[opened].flags = r->flags;
		in[opened].date = r->date;
		if (in[opened].fd < 0)
			break;
	}
	struct jrow *first = rows->pdata[0];
	rc = opened < rows->len ? -ENOENT
		: mfs_store_append_batch(w->inner, first->folder, in,
					 rows->len, &made, e);
	for (guint i = 0; i < opened; i++)
		close(in[i].fd);
	g_free(in);
	if (rc == -ENOTSUP || (rc < 0 && e->retry == MFS_ERR_FINAL)) {
		/* not tried, or refused as a whole: one by one, which finds
		 * out which one the server will not take */
		if (rc == -ENOTSUP) {
			w->batch.no_append = true;
			requeue_rows(w, rows);
		}
		w->batch.single_until = ((struct jrow *)
					 rows->pdata[rows->len - 1])->seq;
		return WB_REFUSED;
	}
	if (rc < 0) {
		journal_note_failure(w->ix, first->seq, e->msg);
		return WB_RETRY;
	}
	wb_step(w);
	for (guint i = 0; i < rows->len; i++) {
		struct mfs_item *it = made->pdata[i];
		wb_finish_row(w, rows->pdata[i], it->id);
		wb_step(w);
	}
	g_ptr_array_unref(made);
	return WB_DONE;
}

/*
 * Flag changes of several messages of one folder in one exchange.  Flags
 * are set to exact values, so a repeat is harmless: the rows are claimed
 * and finished as one.  A message the server no longer has is refused on
 * its own.  Returns DONE, RETRY (reason in *e), or REFUSED when the store
 * has no such call (nothing was sent).
 */
static enum wb_outcome replay_flags(struct wb *w, GPtrArray *rows,
				    struct mfs_error *e)
{
	int *rcs = g_new0(int, rows->len);
	const char **ids = NULL;
	uint64_t *flags = NULL;
	struct jrow *first;
	int rc;

	if ((rc = claim_rows(w, rows)) < 0)
		goto out;
	rows_ids(rows, &ids, &flags);
	first = rows->pdata[0];
	wb_step(w);
	rc = mfs_store_set_flags_batch(w->inner, first->folder, ids, flags,
				       rows->len, rcs, e);
	if (rc == -ENOTSUP) {
		w->batch.no_flags = true;
		requeue_rows(w, rows);
		goto out;
	}
	if (rc < 0) {
		journal_note_failure(w->ix, first->seq, e->msg);
		goto out;
	}
	wb_step(w);
	for (guint i = 0; i < rows->len; i++) {
		struct jrow *r = rows->pdata[i];
		if (rcs[i] == 0) {
			wb_finish_row(w, r, NULL);
		} else {
			g_autofree char *why = g_strdup_printf(
				"the message was deleted on the server while "
				"its flags were being changed here");
			wb_refuse_row(w, r, why);
		}
	}
	wb_step(w);
out:
	g_free(ids);
	g_free(flags);
	g_free(rcs);
	return rc == -ENOTSUP ? WB_REFUSED : rc < 0 ? WB_RETRY : WB_DONE;
}

/*
 * Deletes of several messages of one folder in one exchange; a delete is
 * safe to repeat.  Returns DONE, RETRY (reason in *e), or REFUSED when the
 * batch was not tried or not taken as a whole: then one by one.
 */
static enum wb_outcome replay_removes(struct wb *w, GPtrArray *rows,
				      struct mfs_error *e)
{
	const char **ids = NULL;
	struct jrow *first;
	int rc;

	if (claim_rows(w, rows) < 0)
		return WB_RETRY;
	rows_ids(rows, &ids, NULL);
	first = rows->pdata[0];
	wb_step(w);
	rc = mfs_store_remove_batch(w->inner, first->folder, ids, rows->len,
				    e);
	g_free(ids);
	if (rc == -ENOTSUP)
		w->batch.no_remove = true;
	if (rc < 0 && (rc == -ENOTSUP || e->retry == MFS_ERR_FINAL))
		return WB_REFUSED;
	if (rc < 0) {
		journal_note_failure(w->ix, first->seq, e->msg);
		return WB_RETRY;
	}
	wb_step(w);
	for (guint i = 0; i < rows->len; i++)
		wb_finish_row(w, rows->pdata[i], NULL);
	wb_step(w);
	return WB_DONE;
}

/*
 * Moves (or copies) of several messages of one folder to one folder in one
 * exchange.  Returns DONE, RETRY (reason in *e; the rows stay SENT and
 * are looked up one by one), or REFUSED when the batch was not tried
 * (nothing sent, the rows are queued again) or not taken as a whole.
 */
static enum wb_outcome replay_moves(struct wb *w, GPtrArray *rows,
				    struct mfs_error *e)
{
	const char **ids = NULL;
	uint64_t *flags = NULL;
	GPtrArray *made = NULL;
	struct jrow *first;
	int rc;

	if ((rc = claim_rows(w, rows)) < 0)
		goto out;
	rows_ids(rows, &ids, &flags);
	first = rows->pdata[0];
	wb_step(w);
	rc = mfs_store_move_batch(w->inner, first->folder, ids, first->dest,
				  flags, rows->len, first->op == JOP_MOVE,
				  &made, e);
	if (rc == -ENOTSUP) {
		w->batch.no_move = true;
		requeue_rows(w, rows);
		goto out;
	}
	if (rc < 0) {
		if (e->retry != MFS_ERR_FINAL)
			journal_note_failure(w->ix, first->seq, e->msg);
		goto out;
	}
	wb_step(w);
	for (guint i = 0; i < rows->len; i++) {
		struct mfs_item *it = made->pdata[i];
		if (it)
			wb_finish_row(w, rows->pdata[i], it->id);
		else
			wb_refuse_row(w, rows->pdata[i], "the message is gone "
				      "from the server");
	}
	wb_step(w);
out:
	if (made)
		g_ptr_array_unref(made);
	g_free(ids);
	g_free(flags);
	if (rc == -ENOTSUP || (rc < 0 && e->retry == MFS_ERR_FINAL))
		return WB_REFUSED;
	return rc < 0 ? WB_RETRY : WB_DONE;
}

/* A row that may have been sent is looked up on its own; a message not on
 * the server yet has no id to name it by; the store may have no such
 * call. */
wb_batch_fn wb_batch_for(struct wb *w, const struct jrow *first,
			 unsigned *max_r)
{
	const struct wb_batching *b = &w->batch;

	if (first->state == JS_SENT)
		return NULL;
	switch (first->op) {
	case JOP_APPEND:
		*max_r = APPEND_BATCH;
		return b->no_append || first->seq <= b->single_until
			? NULL : replay_appends;
	case JOP_FLAGS:
		*max_r = FLAGS_BATCH;
		return b->no_flags || !first->rid ? NULL : replay_flags;
	case JOP_REMOVE:
		*max_r = FLAGS_BATCH;
		return b->no_remove || !first->rid ? NULL : replay_removes;
	case JOP_MOVE:
	case JOP_COPY:
		*max_r = MOVE_BATCH;
		return b->no_move || !first->rid ? NULL : replay_moves;
	case JOP_MKDIR:
	case JOP_RENAME:
	case JOP_RMDIR:
	case JOP_SEND:
		break;
	}
	return NULL;
}
