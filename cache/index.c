/*
 * index.c - see index.h.  SQLite in WAL mode with synchronous=NORMAL: the
 * index can always be rebuilt from the server, so a lost last transaction
 * after a power cut costs a resync, never data.
 */
#include "index.h"

#include <errno.h>
#include <sqlite3.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define SCHEMA_VERSION 2

struct cache_index {
	sqlite3 *db;		/* owned */
	GMutex lock;		/* protects db */
	bool is_new;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS folders("
	"  path TEXT PRIMARY KEY, kind INTEGER NOT NULL,"
	"  state TEXT, gen INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS items("
	"  folder TEXT NOT NULL, id TEXT NOT NULL, size INTEGER NOT NULL,"
	"  date INTEGER NOT NULL, flags INTEGER NOT NULL, msgid TEXT,"
	"  PRIMARY KEY(folder, id)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS blobs("
	"  key TEXT PRIMARY KEY, size INTEGER NOT NULL,"
	"  atime INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS blobs_atime ON blobs(atime);";

static int db_fail(struct cache_index *ix, const char *what)
{
	log_warnx("cache index: %s: %s", what, sqlite3_errmsg(ix->db));
	return -EIO;
}

static int exec(struct cache_index *ix, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(ix->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warnx("cache index: %s", msg ? msg : "failed");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

/* Prepare, bind text/int64 arguments described by `types` ("t", "i"). */
static sqlite3_stmt *prep(struct cache_index *ix, const char *sql,
			  const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;

	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(ix, sql);
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

/* Step a statement that returns no rows, and finalize it. */
static int run(struct cache_index *ix, sqlite3_stmt *st)
{
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(ix, "write");
}

int index_open(const char *path, struct cache_index **ix_r, char **why_r)
{
	struct cache_index *ix = g_new0(struct cache_index, 1);
	int rc;

	g_mutex_init(&ix->lock);
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
	if (exec(ix, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;") < 0 ||
	    exec(ix, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, "
		 "value TEXT);") < 0) {
		*why_r = g_strdup_printf("%s: %s", path, sqlite3_errmsg(ix->db));
		index_close(&ix);
		return -EIO;
	}
	sqlite3_stmt *st = prep(ix, "SELECT value FROM meta WHERE key='schema'",
				"");
	int version = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > SCHEMA_VERSION) {
		*why_r = g_strdup_printf("%s was written by a newer mailfs",
					 path);
		index_close(&ix);
		return -EPROTO;
	}
	/* an older layout: the index is a copy of the server's state, so it
	 * is rebuilt rather than converted (bodies are found again by name) */
	if (version > 0 && version < SCHEMA_VERSION &&
	    exec(ix, "DROP TABLE IF EXISTS folders; DROP TABLE IF EXISTS "
		 "items;") < 0) {
		*why_r = g_strdup_printf("%s: %s", path, sqlite3_errmsg(ix->db));
		index_close(&ix);
		return -EIO;
	}
	if (exec(ix, schema) < 0) {
		*why_r = g_strdup_printf("%s: %s", path, sqlite3_errmsg(ix->db));
		index_close(&ix);
		return -EIO;
	}
	g_autofree char *v = g_strdup_printf("%d", SCHEMA_VERSION);
	run(ix, prep(ix, "INSERT OR REPLACE INTO meta VALUES('schema', ?)",
		     "t", v));
	/* new until a first listing of every folder went through whole */
	st = prep(ix, "SELECT value FROM meta WHERE key='complete'", "");
	ix->is_new = !(st && sqlite3_step(st) == SQLITE_ROW);
	sqlite3_finalize(st);
	*ix_r = ix;
	return 0;
}

void index_close(struct cache_index **ixp)
{
	struct cache_index *ix = *ixp;

	if (!ix)
		return;
	if (ix->db)
		sqlite3_close(ix->db);
	g_mutex_clear(&ix->lock);
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

	g_mutex_lock(&ix->lock);
	rc = run(ix, prep(ix, "INSERT OR REPLACE INTO meta VALUES('complete', "
			  "'1')", ""));
	if (rc == 0)
		ix->is_new = false;
	g_mutex_unlock(&ix->lock);
	return rc;
}

int index_folders(struct cache_index *ix, GPtrArray **folders_r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_folder_info_free);

	g_mutex_lock(&ix->lock);
	sqlite3_stmt *st = prep(ix, "SELECT path, kind FROM folders "
				"ORDER BY path", "");
	while (st && sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(out, mfs_folder_info_new(
			(const char *)sqlite3_column_text(st, 0),
			sqlite3_column_int(st, 1)));
	sqlite3_finalize(st);
	g_mutex_unlock(&ix->lock);
	*folders_r = out;
	return st ? 0 : -EIO;
}

int index_set_folders(struct cache_index *ix, GPtrArray *folders,
		      bool *changed_r)
{
	GHashTable *want = g_hash_table_new(g_str_hash, g_str_equal);
	int rc = 0;

	*changed_r = false;
	for (guint i = 0; i < folders->len; i++) {
		struct mfs_folder_info *fi = folders->pdata[i];
		g_hash_table_insert(want, fi->path, fi);
	}
	g_mutex_lock(&ix->lock);
	exec(ix, "BEGIN");
	GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
	sqlite3_stmt *st = prep(ix, "SELECT path, kind FROM folders", "");
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		struct mfs_folder_info *fi = g_hash_table_lookup(want, p);
		if (!fi || (int)fi->kind != sqlite3_column_int(st, 1))
			g_ptr_array_add(gone, g_strdup(p));
		else
			g_hash_table_remove(want, p);
	}
	sqlite3_finalize(st);
	for (guint i = 0; i < gone->len && rc == 0; i++) {
		rc = run(ix, prep(ix, "DELETE FROM items WHERE folder=?", "t",
				  gone->pdata[i]));
		if (rc == 0)
			rc = run(ix, prep(ix, "DELETE FROM folders WHERE path=?",
					  "t", gone->pdata[i]));
	}
	GHashTableIter it;
	gpointer val;
	g_hash_table_iter_init(&it, want);
	while (rc == 0 && g_hash_table_iter_next(&it, NULL, &val)) {
		struct mfs_folder_info *fi = val;
		rc = run(ix, prep(ix, "INSERT INTO folders(path, kind) "
				  "VALUES(?, ?)", "ti", fi->path,
				  (int64_t)fi->kind));
	}
	*changed_r = gone->len > 0 || g_hash_table_size(want) > 0;
	exec(ix, rc == 0 ? "COMMIT" : "ROLLBACK");
	g_mutex_unlock(&ix->lock);
	g_ptr_array_unref(gone);
	g_hash_table_unref(want);
	return rc;
}

int index_add_folder(struct cache_index *ix, const char *path,
		     enum mfs_folder_kind kind)
{
	int rc;

	g_mutex_lock(&ix->lock);
	rc = run(ix, prep(ix, "INSERT OR IGNORE INTO folders(path, kind) "
			  "VALUES(?, ?)", "ti", path, (int64_t)kind));
	g_mutex_unlock(&ix->lock);
	return rc;
}

/* Folder names may hold LIKE's wildcards, so "below" is a prefix test. */
#define UNDER(col) col "=? OR substr(" col ", 1, ?)=?"

int index_remove_folder(struct cache_index *ix, const char *path)
{
	g_autofree char *below = g_strconcat(path, "/", NULL);
	int64_t n = (int64_t)strlen(below);
	int rc;

	g_mutex_lock(&ix->lock);
	exec(ix, "BEGIN");
	rc = run(ix, prep(ix, "DELETE FROM items WHERE " UNDER("folder"), "tit",
			  path, n, below));
	if (rc == 0)
		rc = run(ix, prep(ix, "DELETE FROM folders WHERE " UNDER("path"),
				  "tit", path, n, below));
	exec(ix, rc == 0 ? "COMMIT" : "ROLLBACK");
	g_mutex_unlock(&ix->lock);
	return rc;
}

/* The folder and everything below it take the new name.  Sync states are
 * dropped: ids do not change with a rename, but servers may say so. */
int index_rename_folder(struct cache_index *ix, const char *from,
			const char *to)
{
	g_autofree char *below = g_strconcat(from, "/", NULL);
	int64_t n = (int64_t)strlen(below);
	int rc;

	g_mutex_lock(&ix->lock);
	exec(ix, "BEGIN");
	rc = run(ix, prep(ix, "UPDATE items SET folder = ? || substr(folder, ?) "
			  "WHERE " UNDER("folder"), "titit", to, n, from, n,
			  below));
	if (rc == 0)
		rc = run(ix, prep(ix, "UPDATE folders SET path = ? || "
				  "substr(path, ?), state = NULL, gen = gen + 1 "
				  "WHERE " UNDER("path"), "titit", to, n, from, n,
				  below));
	exec(ix, rc == 0 ? "COMMIT" : "ROLLBACK");
	g_mutex_unlock(&ix->lock);
	return rc;
}

int index_folder_state(struct cache_index *ix, const char *path,
		       char **state_r, int64_t *gen_r)
{
	int rc = -ENOENT;

	g_mutex_lock(&ix->lock);
	sqlite3_stmt *st = prep(ix, "SELECT state, gen FROM folders WHERE "
				"path=?", "t", path);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *s = sqlite3_column_text(st, 0);
		if (state_r)
			*state_r = s ? g_strdup((const char *)s) : NULL;
		if (gen_r)
			*gen_r = sqlite3_column_int64(st, 1);
		rc = 0;
	}
	sqlite3_finalize(st);
	g_mutex_unlock(&ix->lock);
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

	g_mutex_lock(&ix->lock);
	sqlite3_stmt *st = prep(ix, "SELECT id, size, date, flags, msgid FROM "
				"items WHERE folder=?", "t", path);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(out, row_item(st));
	sqlite3_finalize(st);
	g_mutex_unlock(&ix->lock);
	*items_r = out;
	return st ? 0 : -EIO;
}

int index_item(struct cache_index *ix, const char *path, const char *id,
	       struct mfs_item **item_r)
{
	int rc = -ENOENT;

	g_mutex_lock(&ix->lock);
	sqlite3_stmt *st = prep(ix, "SELECT id, size, date, flags, msgid FROM "
				"items WHERE folder=? AND id=?", "tt", path, id);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		*item_r = row_item(st);
		rc = 0;
	}
	sqlite3_finalize(st);
	g_mutex_unlock(&ix->lock);
	return st ? rc : -EIO;
}

int index_next_ids(struct cache_index *ix, const char *path, const char *id,
		   unsigned n, GPtrArray **ids_r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	g_mutex_lock(&ix->lock);
	sqlite3_stmt *st = prep(ix, "SELECT id FROM items WHERE folder=? AND "
				"id>? ORDER BY id LIMIT ?", "tti", path, id,
				(int64_t)n);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(out, g_strdup((const char *)
					      sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	g_mutex_unlock(&ix->lock);
	*ids_r = out;
	return st ? 0 : -EIO;
}

/* Insert or update one item; *changed_r when anything differed. */
static int upsert(struct cache_index *ix, const char *path,
		  const struct mfs_item *it, bool *changed_r)
{
	/* a message id the store did not send keeps the one known */
	sqlite3_stmt *st = prep(ix, "INSERT INTO items(folder, id, size, date, "
				"flags, msgid) VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT "
				"DO UPDATE SET size=excluded.size, "
				"date=excluded.date, flags=excluded.flags, "
				"msgid=coalesce(excluded.msgid, msgid) WHERE "
				"size<>excluded.size OR date<>excluded.date OR "
				"flags<>excluded.flags OR (excluded.msgid IS NOT "
				"NULL AND excluded.msgid IS NOT msgid)",
				"ttiiit", path, it->id, (int64_t)it->size,
				it->date, (int64_t)it->flags, it->message_id);
	int rc = run(ix, st);

	if (rc == 0 && sqlite3_changes(ix->db) > 0)
		*changed_r = true;
	return rc;
}

static int bump(struct cache_index *ix, const char *path)
{
	return run(ix, prep(ix, "UPDATE folders SET gen = gen + 1 WHERE path=?",
			    "t", path));
}

int index_apply(struct cache_index *ix, const char *path,
		const struct mfs_sync_result *res, bool *changed_r)
{
	bool changed = false;
	int rc = 0;

	g_mutex_lock(&ix->lock);
	exec(ix, "BEGIN");
	if (res->full) {
		/* what the full listing lacks is gone */
		GHashTable *keep = g_hash_table_new(g_str_hash, g_str_equal);
		GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; i < res->changed->len; i++)
			g_hash_table_add(keep, ((struct mfs_item *)
						res->changed->pdata[i])->id);
		sqlite3_stmt *st = prep(ix, "SELECT id FROM items WHERE folder=?",
					"t", path);
		while (st && sqlite3_step(st) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(st, 0);
			if (!g_hash_table_contains(keep, id))
				g_ptr_array_add(gone, g_strdup(id));
		}
		sqlite3_finalize(st);
		for (guint i = 0; i < gone->len && rc == 0; i++)
			rc = run(ix, prep(ix, "DELETE FROM items WHERE folder=? "
					  "AND id=?", "tt", path,
					  gone->pdata[i]));
		changed = gone->len > 0;
		g_ptr_array_unref(gone);
		g_hash_table_unref(keep);
	}
	for (guint i = 0; i < res->changed->len && rc == 0; i++)
		rc = upsert(ix, path, res->changed->pdata[i], &changed);
	for (guint i = 0; i < res->vanished->len && rc == 0; i++) {
		rc = run(ix, prep(ix, "DELETE FROM items WHERE folder=? AND id=?",
				  "tt", path, res->vanished->pdata[i]));
		if (rc == 0 && sqlite3_changes(ix->db) > 0)
			changed = true;
	}
	if (rc == 0)
		rc = run(ix, prep(ix, "UPDATE folders SET state=? WHERE path=?",
				  "tt", res->state, path));
	if (rc == 0 && changed)
		rc = bump(ix, path);
	exec(ix, rc == 0 ? "COMMIT" : "ROLLBACK");
	g_mutex_unlock(&ix->lock);
	*changed_r = changed;
	return rc;
}

int index_put_item(struct cache_index *ix, const char *path,
		   const struct mfs_item *it)
{
	bool changed = false;
	int rc;

	g_mutex_lock(&ix->lock);
	rc = upsert(ix, path, it, &changed);
	if (rc == 0 && changed)
		rc = bump(ix, path);
	g_mutex_unlock(&ix->lock);
	return rc;
}

int index_remove_item(struct cache_index *ix, const char *path,
		      const char *id)
{
	int rc;

	g_mutex_lock(&ix->lock);
	rc = run(ix, prep(ix, "DELETE FROM items WHERE folder=? AND id=?", "tt",
			  path, id));
	if (rc == 0)
		rc = bump(ix, path);
	g_mutex_unlock(&ix->lock);
	return rc;
}

int index_blob_add(struct cache_index *ix, const char *key, uint64_t size)
{
	int rc;

	g_mutex_lock(&ix->lock);
	rc = run(ix, prep(ix, "INSERT OR REPLACE INTO blobs VALUES(?, ?, ?)",
			  "tii", key, (int64_t)size, (int64_t)time(NULL)));
	g_mutex_unlock(&ix->lock);
	return rc;
}

int index_blob_touch(struct cache_index *ix, const char *key)
{
	int rc;

	g_mutex_lock(&ix->lock);
	rc = run(ix, prep(ix, "UPDATE blobs SET atime=? WHERE key=?", "it",
			  (int64_t)time(NULL), key));
	g_mutex_unlock(&ix->lock);
	return rc;
}

int index_blob_touch_many(struct cache_index *ix, GPtrArray *keys)
{
	int rc = 0;

	g_mutex_lock(&ix->lock);
	exec(ix, "BEGIN");
	for (guint i = 0; i < keys->len && rc == 0; i++)
		rc = run(ix, prep(ix, "UPDATE blobs SET atime=? WHERE key=?",
				  "it", (int64_t)time(NULL), keys->pdata[i]));
	exec(ix, rc == 0 ? "COMMIT" : "ROLLBACK");
	g_mutex_unlock(&ix->lock);
	return rc;
}

int index_blob_remove(struct cache_index *ix, const char *key)
{
	int rc;

	g_mutex_lock(&ix->lock);
	rc = run(ix, prep(ix, "DELETE FROM blobs WHERE key=?", "t", key));
	g_mutex_unlock(&ix->lock);
	return rc;
}

uint64_t index_blob_total(struct cache_index *ix)
{
	uint64_t total = 0;

	g_mutex_lock(&ix->lock);
	sqlite3_stmt *st = prep(ix, "SELECT TOTAL(size) FROM blobs", "");
	if (st && sqlite3_step(st) == SQLITE_ROW)
		total = (uint64_t)sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	g_mutex_unlock(&ix->lock);
	return total;
}

int index_blob_oldest(struct cache_index *ix, unsigned n, GPtrArray **keys_r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	g_mutex_lock(&ix->lock);
	sqlite3_stmt *st = prep(ix, "SELECT key FROM blobs ORDER BY atime "
				"LIMIT ?", "i", (int64_t)n);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(out, g_strdup((const char *)
					      sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	g_mutex_unlock(&ix->lock);
	*keys_r = out;
	return st ? 0 : -EIO;
}
