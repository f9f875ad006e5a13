/*
 * journal.c - see journal.h.
 */
#include "index-private.h"

#include <errno.h>
#include <string.h>

#define COLUMNS "seq, op, folder, id, rid, origin, dest, dest_id, flags, " \
		"date, kind, size, msgid, content, state, tries, error"

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? g_strdup((const char *)t) : NULL;
}

static struct jrow *row_of(sqlite3_stmt *st)
{
	struct jrow *r = g_new0(struct jrow, 1);

	r->seq = sqlite3_column_int64(st, 0);
	r->op = (enum jop)sqlite3_column_int(st, 1);
	r->folder = col_text(st, 2);
	r->id = col_text(st, 3);
	r->rid = col_text(st, 4);
	r->origin = sqlite3_column_int64(st, 5);
	r->dest = col_text(st, 6);
	r->dest_id = col_text(st, 7);
	r->flags = (uint64_t)sqlite3_column_int64(st, 8);
	r->date = sqlite3_column_int64(st, 9);
	r->kind = sqlite3_column_int(st, 10);
	r->size = (uint64_t)sqlite3_column_int64(st, 11);
	r->msgid = col_text(st, 12);
	r->content = col_text(st, 13);
	r->state = (enum jstate)sqlite3_column_int(st, 14);
	r->tries = sqlite3_column_int(st, 15);
	r->error = col_text(st, 16);
	return r;
}

void jrow_free(struct jrow *r)
{
	if (!r)
		return;
	g_free(r->folder);
	g_free(r->id);
	g_free(r->rid);
	g_free(r->dest);
	g_free(r->dest_id);
	g_free(r->msgid);
	g_free(r->content);
	g_free(r->error);
	g_free(r);
}

const char *jop_name(enum jop op)
{
	switch (op) {
	case JOP_APPEND: return "append";
	case JOP_FLAGS: return "flags";
	case JOP_REMOVE: return "delete";
	case JOP_MOVE: return "move";
	case JOP_COPY: return "copy";
	case JOP_MKDIR: return "create folder";
	case JOP_RENAME: return "rename folder";
	case JOP_RMDIR: return "remove folder";
	case JOP_SEND: return "send";
	}
	return "?";
}

const char *jstate_name(enum jstate state)
{
	switch (state) {
	case JS_QUEUED: return "QUEUED";
	case JS_SENT: return "SENT";
	case JS_HELD: return "HELD";
	case JS_DONE: return "DONE";
	case JS_DROPPED: return "DROPPED";
	}
	return "?";
}

bool jop_changes_folders(enum jop op)
{
	switch (op) {
	case JOP_MKDIR:
	case JOP_RENAME:
	case JOP_RMDIR:
		return true;
	case JOP_APPEND:
	case JOP_FLAGS:
	case JOP_REMOVE:
	case JOP_MOVE:
	case JOP_COPY:
	case JOP_SEND:
		return false;
	}
	return false;
}

bool jop_batches(enum jop op)
{
	switch (op) {
	case JOP_APPEND:
	case JOP_FLAGS:
	case JOP_REMOVE:
	case JOP_MOVE:
	case JOP_COPY:
		return true;
	case JOP_MKDIR:
	case JOP_RENAME:
	case JOP_RMDIR:
	case JOP_SEND:
		return false;
	}
	return false;
}

int journal_add(struct cache_index *ix, struct jrow *r)
{
	int rc;

	ix_begin(ix);
	rc = ix_run(ix, ix_prep(ix, "INSERT INTO journal(op, folder, id, rid, "
				"origin, dest, dest_id, flags, date, kind, "
				"size, msgid, content, state) VALUES(?, ?, ?, "
				"?, nullif(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				"itttittiiiitti", (int64_t)r->op, r->folder,
				r->id, r->rid, r->origin, r->dest, r->dest_id,
				(int64_t)r->flags, r->date, (int64_t)r->kind,
				(int64_t)r->size, r->msgid, r->content,
				(int64_t)JS_QUEUED));
	if (rc == 0)
		r->seq = sqlite3_last_insert_rowid(ix->db);
	return ix_end(ix, rc);
}

/* The first row `sql` (with arguments as ix_prep) selects. */
static int one_row(struct cache_index *ix, struct jrow **r_r,
		   sqlite3_stmt *st)
{
	int rc = -ENOENT;

	if (!st)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*r_r = row_of(st);
		rc = 0;
	}
	ix_done(ix, st);
	return rc;
}

int journal_first(struct cache_index *ix, bool sends, struct jrow **r_r)
{
	int rc;

	g_rec_mutex_lock(&ix->lock);
	rc = one_row(ix, r_r, ix_prep(ix, "SELECT " COLUMNS " FROM journal "
				      "WHERE state != ? AND (? OR op != ?) "
				      "ORDER BY seq LIMIT 1", "iii",
				      (int64_t)JS_HELD, (int64_t)sends,
				      (int64_t)JOP_SEND));
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

int journal_get(struct cache_index *ix, int64_t seq, struct jrow **r_r)
{
	int rc;

	g_rec_mutex_lock(&ix->lock);
	rc = one_row(ix, r_r, ix_prep(ix, "SELECT " COLUMNS " FROM journal "
				      "WHERE seq=?", "i", seq));
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

int journal_claim(struct cache_index *ix, int64_t seq, struct jrow **r_r)
{
	int rc;

	ix_begin(ix);
	rc = ix_run(ix, ix_prep(ix, "UPDATE journal SET state=? WHERE seq=?",
				"ii", (int64_t)JS_SENT, seq));
	if (rc == 0)
		rc = one_row(ix, r_r, ix_prep(ix, "SELECT " COLUMNS " FROM "
					      "journal WHERE seq=?", "i", seq));
	return ix_end(ix, rc);
}

int journal_run(struct cache_index *ix, int64_t first, unsigned max,
		GPtrArray **rows_r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)jrow_free);

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT " COLUMNS " FROM journal WHERE "
				   "seq>=? ORDER BY seq LIMIT ?", "ii", first,
				   (int64_t)max);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		struct jrow *r = row_of(st);
		struct jrow *head = out->len ? out->pdata[0] : r;
		/* a change of a message goes along only once the message
		 * is known on the server */
		if (r->op != head->op || r->state != JS_QUEUED ||
		    strcmp(r->folder, head->folder) ||
		    g_strcmp0(r->dest, head->dest) ||
		    !jop_batches(r->op) ||
		    (r->op != JOP_APPEND && !r->rid)) {
			jrow_free(r);
			break;
		}
		g_ptr_array_add(out, r);
	}
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	if (!st) {
		g_ptr_array_unref(out);
		return -EIO;
	}
	*rows_r = out;
	return 0;
}

int journal_latest_for(struct cache_index *ix, const char *folder,
		       const char *id, struct jrow **r_r)
{
	int rc;

	g_rec_mutex_lock(&ix->lock);
	rc = one_row(ix, r_r, ix_prep(ix, "SELECT " COLUMNS " FROM journal "
				      "WHERE (folder=?1 AND id=?2) OR "
				      "(dest=?1 AND dest_id=?2) ORDER BY seq "
				      "DESC LIMIT 1", "tt", folder, id));
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

bool journal_names(struct cache_index *ix, const char *folder,
		   const char *id)
{
	sqlite3_stmt *st;
	bool found;

	g_rec_mutex_lock(&ix->lock);
	if (id)
		st = ix_prep(ix, "SELECT 1 FROM journal WHERE state != ?3 AND "
			     "((folder=?1 AND id=?2) OR (dest=?1 AND "
			     "dest_id=?2)) LIMIT 1", "tti", folder, id,
			     (int64_t)JS_HELD);
	else
		st = ix_prep(ix, "SELECT 1 FROM journal WHERE state != ?2 AND "
			     "(folder=?1 OR dest=?1) LIMIT 1", "ti", folder,
			     (int64_t)JS_HELD);
	/* an unreadable journal counts as pending: callers wait or refuse */
	found = !st || sqlite3_step(st) == SQLITE_ROW;
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	return found;
}

int journal_requeue(struct cache_index *ix, int64_t seq)
{
	int rc;

	ix_begin(ix);
	rc = ix_run(ix, ix_prep(ix, "UPDATE journal SET state=? WHERE seq=?",
				"ii", (int64_t)JS_QUEUED, seq));
	return ix_end(ix, rc);
}

int journal_set_flags(struct cache_index *ix, int64_t seq, uint64_t flags)
{
	int rc;

	ix_begin(ix);
	rc = ix_run(ix, ix_prep(ix, "UPDATE journal SET flags=? WHERE seq=?",
				"ii", (int64_t)flags, seq));
	return ix_end(ix, rc);
}

int journal_note_failure(struct cache_index *ix, int64_t seq,
			 const char *error)
{
	int rc;

	ix_begin(ix);
	rc = ix_run(ix, ix_prep(ix, "UPDATE journal SET tries=tries+1, "
				"error=? WHERE seq=?", "ti", error, seq));
	return ix_end(ix, rc);
}

bool journal_has_dependents(struct cache_index *ix, int64_t seq)
{
	bool found;

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT 1 FROM journal WHERE origin=? "
				   "LIMIT 1", "i", seq);
	found = !st || sqlite3_step(st) == SQLITE_ROW;
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	return found;
}

int journal_done(struct cache_index *ix, int64_t seq, const char *rid)
{
	int rc;

	ix_begin(ix);
	rc = ix_run(ix, ix_prep(ix, "UPDATE items SET rid=?, origin=NULL "
				"WHERE origin=?", "ti", rid, seq));
	if (rc == 0)
		rc = ix_run(ix, ix_prep(ix, "UPDATE journal SET rid=?, "
					"origin=NULL WHERE origin=?", "ti", rid,
					seq));
	if (rc == 0)
		rc = ix_run(ix, ix_prep(ix, "DELETE FROM journal WHERE seq=?",
					"i", seq));
	return ix_end(ix, rc);
}

int journal_drop(struct cache_index *ix, int64_t seq, GPtrArray **dropped_r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)jrow_free);
	GArray *todo = g_array_new(FALSE, FALSE, sizeof(int64_t));
	int rc = 0;

	ix_begin(ix);
	g_array_append_val(todo, seq);
	for (guint i = 0; i < todo->len && rc == 0; i++) {
		int64_t s = g_array_index(todo, int64_t, i);
		struct jrow *r = NULL;
		rc = one_row(ix, &r, ix_prep(ix, "SELECT " COLUMNS " FROM "
					     "journal WHERE seq=?", "i", s));
		if (rc == -ENOENT) {
			rc = 0;
			continue;
		}
		if (rc < 0)
			break;
		g_ptr_array_add(out, r);
		sqlite3_stmt *st = ix_prep(ix, "SELECT seq FROM journal WHERE "
					   "origin=? ORDER BY seq", "i", s);
		while (st && sqlite3_step(st) == SQLITE_ROW) {
			int64_t d = sqlite3_column_int64(st, 0);
			g_array_append_val(todo, d);
		}
		ix_done(ix, st);
		rc = ix_run(ix, ix_prep(ix, "DELETE FROM items WHERE origin=?",
					"i", s));
		if (rc == 0)
			rc = ix_run(ix, ix_prep(ix, "DELETE FROM journal WHERE "
						"seq=?", "i", s));
	}
	g_array_unref(todo);
	rc = ix_end(ix, rc);
	if (rc < 0) {
		g_ptr_array_unref(out);
		return rc;
	}
	*dropped_r = out;
	return 0;
}

int64_t journal_count(struct cache_index *ix)
{
	int64_t n = 0;

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT count(*) FROM journal WHERE "
				   "state != ?", "i", (int64_t)JS_HELD);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	return n;
}

void journal_describe(struct cache_index *ix, GString *out)
{
	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT folder, count(*) FROM journal "
				   "WHERE state != ? GROUP BY folder ORDER BY "
				   "folder", "i", (int64_t)JS_HELD);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		g_string_append_printf(out, "pending in %s: %lld\n",
				       (const char *)sqlite3_column_text(st, 0),
				       (long long)sqlite3_column_int64(st, 1));
	ix_done(ix, st);
	st = ix_prep(ix, "SELECT op, folder, error, tries FROM journal WHERE "
		     "error IS NOT NULL AND state != ? ORDER BY seq LIMIT 1",
		     "i", (int64_t)JS_HELD);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		g_string_append_printf(out, "waiting: %s in %s, tried %d "
				       "times: %s\n",
				       jop_name((enum jop)sqlite3_column_int(st, 0)),
				       (const char *)sqlite3_column_text(st, 1),
				       sqlite3_column_int(st, 3),
				       (const char *)sqlite3_column_text(st, 2));
	ix_done(ix, st);
	st = ix_prep(ix, "SELECT folder, id, error FROM journal WHERE state=? "
		     "ORDER BY seq", "i", (int64_t)JS_HELD);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		g_string_append_printf(out, "held: %s/%s: %s\n",
				       (const char *)sqlite3_column_text(st, 0),
				       (const char *)sqlite3_column_text(st, 1),
				       (const char *)sqlite3_column_text(st, 2));
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
}

int journal_hold(struct cache_index *ix, int64_t seq, const char *reason)
{
	int rc;

	g_rec_mutex_lock(&ix->lock);
	rc = ix_run(ix, ix_prep(ix, "UPDATE journal SET state=?, error=? "
				"WHERE seq=?", "iti", (int64_t)JS_HELD, reason,
				seq));
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

int journal_retarget(struct cache_index *ix, int64_t seq, const char *folder,
		     const char *id, uint64_t flags)
{
	int rc;

	g_rec_mutex_lock(&ix->lock);
	rc = ix_run(ix, ix_prep(ix, "UPDATE journal SET op=?, folder=?, id=?, "
				"flags=?, state=?, tries=0, error=NULL WHERE "
				"seq=?", "ittiii", (int64_t)JOP_APPEND, folder,
				id, (int64_t)flags, (int64_t)JS_QUEUED, seq));
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

int journal_item_error(struct cache_index *ix, const char *folder,
		       const char *id, char **error_r)
{
	int rc = -ENOENT;

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT error FROM journal WHERE "
				   "folder=? AND id=? AND error IS NOT NULL "
				   "ORDER BY seq DESC LIMIT 1", "tt", folder,
				   id);
	if (!st) {
		rc = -EIO;
	} else if (sqlite3_step(st) == SQLITE_ROW) {
		*error_r = g_strdup((const char *)sqlite3_column_text(st, 0));
		rc = 0;
	}
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

int journal_contents(struct cache_index *ix, GHashTable **names_r)
{
	GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal,
						  g_free, NULL);

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT content FROM journal WHERE "
				   "content IS NOT NULL", "");
	while (st && sqlite3_step(st) == SQLITE_ROW)
		g_hash_table_add(names, g_strdup((const char *)
						 sqlite3_column_text(st, 0)));
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	if (!st) {
		g_hash_table_unref(names);
		return -EIO;
	}
	*names_r = names;
	return 0;
}
