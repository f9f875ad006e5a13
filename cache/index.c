/*
 * index.c - see index.h.  SQLite in WAL mode with synchronous=FULL: the
 * journal of changes not yet on the server lives here, and a change the
 * mount has acknowledged must survive a power cut, not only a crash.
 */
#include "index-private.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define SCHEMA_VERSION 3

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS folders("
	"  path TEXT PRIMARY KEY, kind INTEGER NOT NULL,"
	"  state TEXT, gen INTEGER NOT NULL DEFAULT 0,"
	"  lgen INTEGER NOT NULL DEFAULT 0);"
	/* id is the name the mount shows; rid the inner store's id, NULL
	 * while the item exists only here, made by journal row `origin` */
	"CREATE TABLE IF NOT EXISTS items("
	"  folder TEXT NOT NULL, id TEXT NOT NULL, size INTEGER NOT NULL,"
	"  date INTEGER NOT NULL, flags INTEGER NOT NULL, msgid TEXT,"
	"  rid TEXT, origin INTEGER,"
	"  PRIMARY KEY(folder, id)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS items_rid ON items(folder, rid);"
	"CREATE INDEX IF NOT EXISTS items_origin ON items(origin);"
	JOURNAL_SCHEMA
	"CREATE TABLE IF NOT EXISTS blobs("
	"  key TEXT PRIMARY KEY, size INTEGER NOT NULL,"
	"  atime INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS blobs_atime ON blobs(atime);";

int ix_fail(struct cache_index *ix, const char *what)
{
	log_warnx("cache index: %s: %s", what, sqlite3_errmsg(ix->db));
	return -EIO;
}

int ix_exec(struct cache_index *ix, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(ix->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warnx("cache index: %s", msg ? msg : "failed");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static void finalize(gpointer st)
{
	sqlite3_finalize(st);
}

sqlite3_stmt *ix_prep(struct cache_index *ix, const char *sql,
		      const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	g_rec_mutex_lock(&ix->lock);
	st = g_hash_table_lookup(ix->stmts, sql);
	if (!st || g_hash_table_contains(ix->lent, st)) {
		/* the same query inside its own loop gets one of its own */
		bool keep = !st;
		st = NULL;
		if (sqlite3_prepare_v3(ix->db, sql, -1,
				       keep ? SQLITE_PREPARE_PERSISTENT : 0,
				       &st, NULL) != SQLITE_OK) {
			sqlite3_finalize(st);
			g_rec_mutex_unlock(&ix->lock);
			ix_fail(ix, sql);
			return NULL;
		}
		if (keep)
			g_hash_table_insert(ix->stmts, g_strdup(sql), st);
	}
	g_hash_table_add(ix->lent, st);
	g_rec_mutex_unlock(&ix->lock);
	/* a type letter per parameter, or the call is wrong */
	if (sqlite3_bind_parameter_count(st) != (int)strlen(types)) {
		log_warnx("cache index: %d parameters but %zu arguments: %s",
			  sqlite3_bind_parameter_count(st), strlen(types), sql);
		ix_done(ix, st);
		return NULL;
	}
	va_start(ap, types);
	for (int i = 0; types[i]; i++) {
		if (types[i] == 't') {
			const char *v = va_arg(ap, const char *);
			if (v)
				sqlite3_bind_text(st, i + 1, v, -1,
						  SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i + 1);
		}
		else
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
	}
	va_end(ap);
	return st;
}

void ix_done(struct cache_index *ix, sqlite3_stmt *st)
{
	if (!st)
		return;
	g_rec_mutex_lock(&ix->lock);
	g_hash_table_remove(ix->lent, st);
	if (g_hash_table_lookup(ix->stmts, sqlite3_sql(st)) == st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
	g_rec_mutex_unlock(&ix->lock);
}

int ix_run(struct cache_index *ix, sqlite3_stmt *st)
{
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	ix_done(ix, st);
	return rc == SQLITE_DONE ? 0 : ix_fail(ix, "write");
}

void ix_begin(struct cache_index *ix)
{
	g_rec_mutex_lock(&ix->lock);
	if (ix->depth++ == 0) {
		ix->failed = false;
		if (ix_exec(ix, "BEGIN IMMEDIATE") < 0)
			ix->failed = true;
	}
}

int ix_end(struct cache_index *ix, int rc)
{
	if (rc < 0)
		ix->failed = true;
	if (--ix->depth == 0) {
		if (ix->failed) {
			ix_exec(ix, "ROLLBACK");
			if (rc == 0)
				rc = -EIO;
		} else if (ix_exec(ix, "COMMIT") < 0) {
			ix_exec(ix, "ROLLBACK");
			rc = -EIO;
		}
	}
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

void index_begin(struct cache_index *ix)
{
	ix_begin(ix);
}

int index_end(struct cache_index *ix, int rc)
{
	return ix_end(ix, rc);
}

int index_open(const char *path, struct cache_index **ix_r, char **why_r)
{
	struct cache_index *ix = g_new0(struct cache_index, 1);
	int rc;

	g_rec_mutex_init(&ix->lock);
	ix->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  finalize);
	ix->lent = g_hash_table_new(g_direct_hash, g_direct_equal);
	rc = sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*why_r = g_strdup_printf("%s: %s", path,
					 ix->db ? sqlite3_errmsg(ix->db)
						: "cannot open");
		index_close(&ix);
		return -EIO;
	}
	sqlite3_busy_timeout(ix->db, 5000);
	if (ix_exec(ix, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") < 0 ||
	    ix_exec(ix, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, "
		 "value TEXT);") < 0) {
		*why_r = g_strdup_printf("%s: %s", path, sqlite3_errmsg(ix->db));
		index_close(&ix);
		return -EIO;
	}
	sqlite3_stmt *st = ix_prep(ix, "SELECT value FROM meta WHERE key='schema'",
				"");
	int version = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	ix_done(ix, st);
	if (version > SCHEMA_VERSION) {
		*why_r = g_strdup_printf("%s was written by a newer mailfs",
					 path);
		index_close(&ix);
		return -EPROTO;
	}
	/* an older layout: the index is a copy of the server's state, so it
	 * is rebuilt rather than converted (bodies are found again by name) */
	if (version > 0 && version < SCHEMA_VERSION &&
	    ix_exec(ix, "DROP TABLE IF EXISTS folders; DROP TABLE IF EXISTS "
		    "items; DELETE FROM meta WHERE key='complete';") < 0) {
		*why_r = g_strdup_printf("%s: %s", path, sqlite3_errmsg(ix->db));
		index_close(&ix);
		return -EIO;
	}
	if (ix_exec(ix, schema) < 0) {
		*why_r = g_strdup_printf("%s: %s", path, sqlite3_errmsg(ix->db));
		index_close(&ix);
		return -EIO;
	}
	g_autofree char *v = g_strdup_printf("%d", SCHEMA_VERSION);
	ix_run(ix, ix_prep(ix, "INSERT OR REPLACE INTO meta VALUES('schema', ?)",
		     "t", v));
	/* new until a first listing of every folder went through whole */
	st = ix_prep(ix, "SELECT value FROM meta WHERE key='complete'", "");
	ix->is_new = !(st && sqlite3_step(st) == SQLITE_ROW);
	ix_done(ix, st);
	*ix_r = ix;
	return 0;
}

void index_close(struct cache_index **ixp)
{
	struct cache_index *ix = *ixp;

	if (!ix)
		return;
	/* finalizes the prepared statements, which the close needs */
	g_hash_table_unref(ix->stmts);
	g_hash_table_unref(ix->lent);
	if (ix->db)
		sqlite3_close(ix->db);
	g_rec_mutex_clear(&ix->lock);
	g_free(ix);
	*ixp = NULL;
}

bool index_is_new(struct cache_index *ix)
{
	return ix->is_new;
}

int index_mark_complete(struct cache_index *ix)
{
	int rc;

	g_rec_mutex_lock(&ix->lock);
	rc = ix_run(ix, ix_prep(ix, "INSERT OR REPLACE INTO meta VALUES('complete', "
			  "'1')", ""));
	if (rc == 0)
		ix->is_new = false;
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

int index_folders(struct cache_index *ix, GPtrArray **folders_r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_folder_info_free);

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT path, kind FROM folders "
				"ORDER BY path", "");
	while (st && sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(out, mfs_folder_info_new(
			(const char *)sqlite3_column_text(st, 0),
			sqlite3_column_int(st, 1)));
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	*folders_r = out;
	return st ? 0 : -EIO;
}

int64_t index_folders_gen(struct cache_index *ix)
{
	g_rec_mutex_lock(&ix->lock);
	int64_t gen = ix->fgen;
	g_rec_mutex_unlock(&ix->lock);
	return gen;
}

void index_touch_folders(struct cache_index *ix)
{
	g_rec_mutex_lock(&ix->lock);
	ix->fgen++;
	g_rec_mutex_unlock(&ix->lock);
}

int index_set_folders(struct cache_index *ix, GPtrArray *folders,
		      int64_t fgen_seen, bool *changed_r)
{
	GHashTable *want;
	int rc = 0;

	*changed_r = false;
	g_rec_mutex_lock(&ix->lock);
	if (fgen_seen >= 0) {
		/* folder changes made here and not yet on the server would
		 * be undone by the server's list */
		sqlite3_stmt *st = ix_prep(ix, "SELECT 1 FROM journal WHERE "
					   "op IN (?, ?, ?) LIMIT 1", "iii",
					   (int64_t)JOP_MKDIR,
					   (int64_t)JOP_RENAME,
					   (int64_t)JOP_RMDIR);
		if (!st)
			rc = -EIO;
		else if (sqlite3_step(st) == SQLITE_ROW ||
			 fgen_seen != ix->fgen)
			rc = -EAGAIN;
		ix_done(ix, st);
		if (rc < 0) {
			g_rec_mutex_unlock(&ix->lock);
			return rc;
		}
	}
	want = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < folders->len; i++) {
		struct mfs_folder_info *fi = folders->pdata[i];
		g_hash_table_insert(want, fi->path, fi);
	}
	ix_begin(ix);
	GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
	sqlite3_stmt *st = ix_prep(ix, "SELECT path, kind FROM folders", "");
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		struct mfs_folder_info *fi = g_hash_table_lookup(want, p);
		if (!fi || (int)fi->kind != sqlite3_column_int(st, 1))
			g_ptr_array_add(gone, g_strdup(p));
		else
			g_hash_table_remove(want, p);
	}
	ix_done(ix, st);
	for (guint i = 0; i < gone->len && rc == 0; i++) {
		rc = ix_run(ix, ix_prep(ix, "DELETE FROM items WHERE folder=?", "t",
				  gone->pdata[i]));
		if (rc == 0)
			rc = ix_run(ix, ix_prep(ix, "DELETE FROM folders WHERE path=?",
					  "t", gone->pdata[i]));
	}
	GHashTableIter it;
	gpointer val;
	g_hash_table_iter_init(&it, want);
	while (rc == 0 && g_hash_table_iter_next(&it, NULL, &val)) {
		struct mfs_folder_info *fi = val;
		rc = ix_run(ix, ix_prep(ix, "INSERT INTO folders(path, kind) "
				  "VALUES(?, ?)", "ti", fi->path,
				  (int64_t)fi->kind));
	}
	*changed_r = gone->len > 0 || g_hash_table_size(want) > 0;
	rc = ix_end(ix, rc);
	g_rec_mutex_unlock(&ix->lock);
	g_ptr_array_unref(gone);
	g_hash_table_unref(want);
	return rc;
}

int index_add_folder(struct cache_index *ix, const char *path,
		     enum mfs_folder_kind kind)
{
	int rc;

	g_rec_mutex_lock(&ix->lock);
	rc = ix_run(ix, ix_prep(ix, "INSERT OR IGNORE INTO folders(path, kind) "
			  "VALUES(?, ?)", "ti", path, (int64_t)kind));
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

/* "Below" is a test on bytes: folder names may hold LIKE's wildcards, and
 * substr() and length() on text count characters, not bytes.  The columns
 * compare with memcmp (the BINARY collation), and every path beginning
 * "P/" sorts from "P/" up to, not including, "P0" ('0' follows '/'). */
#define UNDER(col) "(" col "=? OR (" col ">=? AND " col "<?))"

/* The bounds of the paths below `path`, for UNDER.  Caller owns both. */
static void below_bounds(const char *path, char **lo_r, char **hi_r)
{
	*lo_r = g_strconcat(path, "/", NULL);
	*hi_r = g_strconcat(path, "0", NULL);
}

int index_remove_folder(struct cache_index *ix, const char *path)
{
	g_autofree char *lo = NULL;
	g_autofree char *hi = NULL;
	int rc;

	below_bounds(path, &lo, &hi);
	g_rec_mutex_lock(&ix->lock);
	ix_begin(ix);
	rc = ix_run(ix, ix_prep(ix, "DELETE FROM items WHERE " UNDER("folder"),
			  "ttt", path, lo, hi));
	if (rc == 0)
		rc = ix_run(ix, ix_prep(ix, "DELETE FROM folders WHERE " UNDER("path"),
				  "ttt", path, lo, hi));
	rc = ix_end(ix, rc);
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

/* The folder and everything below it take the new name.  Sync states are
 * dropped: ids do not change with a rename, but servers may say so.  The
 * old prefix is cut off as bytes (substr of a BLOB counts bytes); joined
 * to the new name with ||, the rest is text again. */
int index_rename_folder(struct cache_index *ix, const char *from,
			const char *to)
{
	g_autofree char *lo = NULL;
	g_autofree char *hi = NULL;
	int64_t n = (int64_t)strlen(from) + 1;
	int rc;

	below_bounds(from, &lo, &hi);
	g_rec_mutex_lock(&ix->lock);
	ix_begin(ix);
	rc = ix_run(ix, ix_prep(ix, "UPDATE items SET folder = ? || "
			  "substr(CAST(folder AS BLOB), ?) "
			  "WHERE " UNDER("folder"), "tittt", to, n, from, lo,
			  hi));
	if (rc == 0)
		rc = ix_run(ix, ix_prep(ix, "UPDATE folders SET path = ? || "
				  "substr(CAST(path AS BLOB), ?), state = NULL, "
				  "gen = gen + 1 WHERE " UNDER("path"), "tittt",
				  to, n, from, lo, hi));
	rc = ix_end(ix, rc);
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

int index_folder_state(struct cache_index *ix, const char *path,
		       char **state_r, int64_t *gen_r, int64_t *lgen_r)
{
	int rc = -ENOENT;

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT state, gen, lgen FROM folders "
				   "WHERE path=?", "t", path);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *s = sqlite3_column_text(st, 0);
		if (state_r)
			*state_r = s ? g_strdup((const char *)s) : NULL;
		if (gen_r)
			*gen_r = sqlite3_column_int64(st, 1);
		if (lgen_r)
			*lgen_r = sqlite3_column_int64(st, 2);
		rc = 0;
	}
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	return st ? rc : -EIO;
}

int index_folder_kind(struct cache_index *ix, const char *path,
		      enum mfs_folder_kind *kind_r)
{
	int rc = -ENOENT;

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT kind FROM folders WHERE path=?",
				   "t", path);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		*kind_r = (enum mfs_folder_kind)sqlite3_column_int(st, 0);
		rc = 0;
	}
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	return st ? rc : -EIO;
}

static struct mfs_item *row_item(sqlite3_stmt *st)
{
	struct mfs_item *it = mfs_item_new(
		(const char *)sqlite3_column_text(st, 0),
		(uint64_t)sqlite3_column_int64(st, 1),
		sqlite3_column_int64(st, 2),
		(uint64_t)sqlite3_column_int64(st, 3));
	const unsigned char *m = sqlite3_column_text(st, 4);

	it->message_id = m ? g_strdup((const char *)m) : NULL;
	return it;
}

int index_items(struct cache_index *ix, const char *path, GPtrArray **items_r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_item_free);

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT id, size, date, flags, msgid FROM "
				"items WHERE folder=?", "t", path);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(out, row_item(st));
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	*items_r = out;
	return st ? 0 : -EIO;
}

int index_item(struct cache_index *ix, const char *path, const char *id,
	       struct mfs_item **item_r)
{
	int rc = -ENOENT;

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT id, size, date, flags, msgid FROM "
				"items WHERE folder=? AND id=?", "tt", path, id);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		*item_r = row_item(st);
		rc = 0;
	}
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	return st ? rc : -EIO;
}

int index_next_ids(struct cache_index *ix, const char *path, const char *id,
		   unsigned n, GPtrArray **ids_r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT id FROM items WHERE folder=? AND "
				"id>? ORDER BY id LIMIT ?", "tti", path, id,
				(int64_t)n);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(out, g_strdup((const char *)
					      sqlite3_column_text(st, 0)));
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	*ids_r = out;
	return st ? 0 : -EIO;
}

/* Insert or update one item by its id; *changed_r when anything differed.
 * A new row is taken to be on the inner store under the same id. */
static int upsert(struct cache_index *ix, const char *path,
		  const struct mfs_item *it, bool *changed_r)
{
	/* a message id the store did not send keeps the one known */
	sqlite3_stmt *st = ix_prep(ix, "INSERT INTO items(folder, id, size, "
				   "date, flags, msgid, rid) VALUES(?, ?, ?, ?, "
				   "?, ?, ?) ON CONFLICT DO UPDATE SET "
				   "size=excluded.size, date=excluded.date, "
				   "flags=excluded.flags, "
				   "msgid=coalesce(excluded.msgid, msgid) WHERE "
				   "size<>excluded.size OR date<>excluded.date "
				   "OR flags<>excluded.flags OR (excluded.msgid "
				   "IS NOT NULL AND excluded.msgid IS NOT msgid)",
				   "ttiiitt", path, it->id, (int64_t)it->size,
				   it->date, (int64_t)it->flags,
				   it->message_id, it->id);
	int rc = ix_run(ix, st);

	if (rc == 0 && sqlite3_changes(ix->db) > 0)
		*changed_r = true;
	return rc;
}

/* One item as the inner store reports it (`it->id` is the inner id):
 * update the row that stands for it, whatever name the mount gave it, or
 * add one named like it (another name if a local item has that one). */
static int apply_item(struct cache_index *ix, const char *path,
		      const struct mfs_item *it, bool *changed_r,
		      GPtrArray *redone)
{
	g_autofree char *id = NULL;
	int64_t date = 0;
	sqlite3_stmt *st = ix_prep(ix, "SELECT id, date FROM items WHERE "
				   "folder=? AND rid=?", "tt", path, it->id);
	int rc;

	if (!st)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = g_strdup((const char *)sqlite3_column_text(st, 0));
		date = sqlite3_column_int64(st, 1);
	}
	ix_done(ix, st);
	if (id) {
		/* not the size: a server that announces one size and sends
		 * another would have its bodies fetched at every listing */
		if (redone && date != it->date)
			g_ptr_array_add(redone, g_strdup(id));
		rc = ix_run(ix, ix_prep(ix, "UPDATE items SET size=?, date=?, "
					"flags=?, msgid=coalesce(?, msgid) "
					"WHERE folder=? AND id=? AND (size<>? "
					"OR date<>? OR flags<>? OR (?4 IS NOT "
					"NULL AND ?4 IS NOT msgid))",
					"iiitttiii", (int64_t)it->size, it->date,
					(int64_t)it->flags, it->message_id,
					path, id, (int64_t)it->size, it->date,
					(int64_t)it->flags));
		/* ?4: the message id again */
		if (rc == 0 && sqlite3_changes(ix->db) > 0)
			*changed_r = true;
		return rc;
	}
	for (int n = 0; n < 100; n++) {
		g_autofree char *name = n ? g_strdup_printf("%s.%d", it->id, n)
					  : g_strdup(it->id);
		rc = ix_run(ix, ix_prep(ix, "INSERT INTO items(folder, id, "
					"size, date, flags, msgid, rid) VALUES(?, "
					"?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
					"ttiiitt", path, name, (int64_t)it->size,
					it->date, (int64_t)it->flags,
					it->message_id, it->id));
		if (rc < 0 || sqlite3_changes(ix->db) > 0) {
			*changed_r = true;
			return rc;
		}
	}
	return -EEXIST;
}

static int bump(struct cache_index *ix, const char *path)
{
	return ix_run(ix, ix_prep(ix, "UPDATE folders SET gen = gen + 1 "
				  "WHERE path=?", "t", path));
}

int index_touch_local(struct cache_index *ix, const char *path)
{
	return ix_run(ix, ix_prep(ix, "UPDATE folders SET gen = gen + 1, "
				  "lgen = lgen + 1 WHERE path=?", "t", path));
}

/* Whether the index may take a sync result for `path` now: not while
 * changes made here wait for the server (the result would undo them on
 * the mount until they are flushed), nor when one was made since the
 * sync began.  Returns 0, -EAGAIN, or -EIO. */
static int may_apply(struct cache_index *ix, const char *path,
		     int64_t lgen_seen)
{
	sqlite3_stmt *st = ix_prep(ix, "SELECT lgen FROM folders WHERE path=?",
				   "t", path);
	int rc = 0;

	if (!st)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW && lgen_seen >= 0 &&
	    sqlite3_column_int64(st, 0) != lgen_seen)
		rc = -EAGAIN;
	ix_done(ix, st);
	if (rc < 0)
		return rc;
	st = ix_prep(ix, "SELECT 1 FROM journal WHERE folder=?1 OR dest=?1 "
		     "LIMIT 1", "t", path);
	if (!st)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = -EAGAIN;
	ix_done(ix, st);
	return rc;
}

/*
 * A message named here whose server id is not in a full listing any more
 * (the server renumbered it: a UIDVALIDITY change, a folder renamed while
 * the id was being learnt) keeps its name when the listing holds a message
 * with its Message-ID and size that nothing here stands for.  Returns 1
 * when it was adopted, 0 when not, or -EIO.
 */
static int adopt(struct cache_index *ix, const char *path, const char *rid,
		 const struct mfs_sync_result *res)
{
	g_autofree char *id = NULL, *msgid = NULL;
	int64_t size = -1;
	sqlite3_stmt *st = ix_prep(ix, "SELECT id, msgid, size FROM items "
				   "WHERE folder=? AND rid=? AND id<>rid", "tt",
				   path, rid);

	if (!st)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = g_strdup((const char *)sqlite3_column_text(st, 0));
		const unsigned char *m = sqlite3_column_text(st, 1);
		msgid = m ? g_strdup((const char *)m) : NULL;
		size = sqlite3_column_int64(st, 2);
	}
	ix_done(ix, st);
	if (!id || !msgid || !*msgid)
		return 0;
	for (guint i = 0; i < res->changed->len; i++) {
		const struct mfs_item *it = res->changed->pdata[i];
		if ((int64_t)it->size != size ||
		    g_strcmp0(it->message_id, msgid))
			continue;
		st = ix_prep(ix, "SELECT 1 FROM items WHERE folder=? AND rid=?",
			     "tt", path, it->id);
		if (!st)
			return -EIO;
		bool taken = sqlite3_step(st) == SQLITE_ROW;
		ix_done(ix, st);
		if (taken)
			continue;
		int rc = ix_run(ix, ix_prep(ix, "UPDATE items SET rid=? WHERE "
					    "folder=? AND id=?", "ttt", it->id,
					    path, id));
		return rc < 0 ? rc : 1;
	}
	return 0;
}

int index_apply(struct cache_index *ix, const char *path,
		const struct mfs_sync_result *res, int64_t lgen_seen,
		bool *changed_r, GPtrArray *redone)
{
	bool changed = false;
	int rc;

	*changed_r = false;
	ix_begin(ix);
	rc = may_apply(ix, path, lgen_seen);
	if (rc == 0 && res->full) {
		/* what the full listing lacks is gone; what exists only
		 * here waits for the journal */
		GHashTable *keep = g_hash_table_new(g_str_hash, g_str_equal);
		GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; i < res->changed->len; i++)
			g_hash_table_add(keep, ((struct mfs_item *)
						res->changed->pdata[i])->id);
		sqlite3_stmt *st = ix_prep(ix, "SELECT rid FROM items WHERE "
					   "folder=? AND rid IS NOT NULL", "t",
					   path);
		while (st && sqlite3_step(st) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(st, 0);
			if (!g_hash_table_contains(keep, id))
				g_ptr_array_add(gone, g_strdup(id));
		}
		ix_done(ix, st);
		for (guint i = 0; i < gone->len && rc == 0; i++) {
			int adopted = adopt(ix, path, gone->pdata[i], res);
			if (adopted != 0) {
				rc = adopted < 0 ? adopted : 0;
				continue;
			}
			rc = ix_run(ix, ix_prep(ix, "DELETE FROM items WHERE "
						"folder=? AND rid=?", "tt", path,
						gone->pdata[i]));
		}
		changed = gone->len > 0;
		g_ptr_array_unref(gone);
		g_hash_table_unref(keep);
	}
	for (guint i = 0; i < res->changed->len && rc == 0; i++)
		rc = apply_item(ix, path, res->changed->pdata[i], &changed,
				redone);
	for (guint i = 0; i < res->vanished->len && rc == 0; i++) {
		rc = ix_run(ix, ix_prep(ix, "DELETE FROM items WHERE folder=? "
					"AND rid=?", "tt", path,
					res->vanished->pdata[i]));
		if (rc == 0 && sqlite3_changes(ix->db) > 0)
			changed = true;
	}
	if (rc == 0)
		rc = ix_run(ix, ix_prep(ix, "UPDATE folders SET state=? WHERE "
					"path=?", "tt", res->state, path));
	if (rc == 0 && changed)
		rc = bump(ix, path);
	if (rc == -EAGAIN) {
		ix_end(ix, 0);
		return rc;
	}
	rc = ix_end(ix, rc);
	*changed_r = rc == 0 && changed;
	return rc;
}

int index_put_item(struct cache_index *ix, const char *path,
		   const struct mfs_item *it)
{
	bool changed = false;
	int rc;

	g_rec_mutex_lock(&ix->lock);
	rc = upsert(ix, path, it, &changed);
	if (rc == 0 && changed)
		rc = bump(ix, path);
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

int index_put_local(struct cache_index *ix, const char *path,
		    const struct mfs_item *it, int64_t origin)
{
	int rc;

	ix_begin(ix);
	rc = ix_run(ix, ix_prep(ix, "INSERT INTO items(folder, id, size, date, "
				"flags, msgid, rid, origin) VALUES(?, ?, ?, ?, "
				"?, ?, NULL, ?) ON CONFLICT DO NOTHING",
				"ttiiiti", path, it->id, (int64_t)it->size,
				it->date, (int64_t)it->flags, it->message_id,
				origin));
	if (rc == 0 && sqlite3_changes(ix->db) == 0)
		rc = -EEXIST;
	return ix_end(ix, rc);
}

int index_item_rid(struct cache_index *ix, const char *path, const char *id,
		   char **rid_r, int64_t *origin_r)
{
	int rc = -ENOENT;

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT rid, origin FROM items WHERE "
				   "folder=? AND id=?", "tt", path, id);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *r = sqlite3_column_text(st, 0);
		if (rid_r)
			*rid_r = r ? g_strdup((const char *)r) : NULL;
		if (origin_r)
			*origin_r = sqlite3_column_int64(st, 1);
		rc = 0;
	}
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	return st ? rc : -EIO;
}

int index_item_by_origin(struct cache_index *ix, int64_t origin,
			 char **folder_r, char **id_r)
{
	int rc = -ENOENT;

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT folder, id FROM items WHERE "
				   "origin=?", "i", origin);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		*folder_r = g_strdup((const char *)sqlite3_column_text(st, 0));
		*id_r = g_strdup((const char *)sqlite3_column_text(st, 1));
		rc = 0;
	}
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	return st ? rc : -EIO;
}

int index_forget_state(struct cache_index *ix, const char *path)
{
	int rc;

	ix_begin(ix);
	rc = ix_run(ix, ix_prep(ix, "UPDATE folders SET state=NULL WHERE "
				"path=?", "t", path));
	return ix_end(ix, rc);
}

bool index_has_rid(struct cache_index *ix, const char *path,
		   const char *rid)
{
	bool found;

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT 1 FROM items WHERE folder=? AND "
				   "rid=?", "tt", path, rid);
	found = st && sqlite3_step(st) == SQLITE_ROW;
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	return found;
}

int index_remove_item(struct cache_index *ix, const char *path,
		      const char *id)
{
	int rc;

	g_rec_mutex_lock(&ix->lock);
	rc = ix_run(ix, ix_prep(ix, "DELETE FROM items WHERE folder=? AND id=?", "tt",
			  path, id));
	if (rc == 0)
		rc = bump(ix, path);
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

int index_blob_add(struct cache_index *ix, const char *key, uint64_t size)
{
	int rc;

	g_rec_mutex_lock(&ix->lock);
	rc = ix_run(ix, ix_prep(ix, "INSERT OR REPLACE INTO blobs VALUES(?, ?, ?)",
			  "tii", key, (int64_t)size, (int64_t)time(NULL)));
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

int index_blob_note_many(struct cache_index *ix, GPtrArray *keys,
			 const struct blob_note *notes)
{
	int rc = 0;

	ix_begin(ix);
	for (guint i = 0; i < keys->len && rc == 0; i++)
		rc = ix_run(ix, notes[i].size < 0
			? ix_prep(ix, "UPDATE blobs SET atime=MAX(atime, ?) "
				  "WHERE key=?", "it", notes[i].when,
				  keys->pdata[i])
			: ix_prep(ix, "INSERT OR REPLACE INTO blobs "
				  "VALUES(?, ?, ?)", "tii", keys->pdata[i],
				  notes[i].size, notes[i].when));
	return ix_end(ix, rc);
}

int index_blob_remove(struct cache_index *ix, const char *key)
{
	int rc;

	g_rec_mutex_lock(&ix->lock);
	rc = ix_run(ix, ix_prep(ix, "DELETE FROM blobs WHERE key=?", "t", key));
	g_rec_mutex_unlock(&ix->lock);
	return rc;
}

uint64_t index_blob_total(struct cache_index *ix)
{
	uint64_t total = 0;

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT TOTAL(size) FROM blobs", "");
	if (st && sqlite3_step(st) == SQLITE_ROW)
		total = (uint64_t)sqlite3_column_double(st, 0);
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	return total;
}

int index_blob_oldest(struct cache_index *ix, unsigned n, GPtrArray **keys_r,
		      GArray **sizes_r)
{
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
	GArray *sizes = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	g_rec_mutex_lock(&ix->lock);
	sqlite3_stmt *st = ix_prep(ix, "SELECT key, size FROM blobs ORDER BY "
				   "atime LIMIT ?", "i", (int64_t)n);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		uint64_t size = (uint64_t)sqlite3_column_int64(st, 1);
		g_ptr_array_add(keys, g_strdup((const char *)
					       sqlite3_column_text(st, 0)));
		g_array_append_val(sizes, size);
	}
	ix_done(ix, st);
	g_rec_mutex_unlock(&ix->lock);
	*keys_r = keys;
	*sizes_r = sizes;
	return st ? 0 : -EIO;
}
