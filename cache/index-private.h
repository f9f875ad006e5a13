/*
 * index-private.h - what the files of the index (index.c, journal.c) share:
 * the connection and small helpers over SQLite.  Not for other callers.
 *
 * Transactions nest: ix_begin() takes the lock (recursive) and opens a
 * transaction only at the outermost level; ix_end() commits there, or
 * rolls back when any level failed.  So a caller can make several index
 * changes one atomic step by surrounding them with index_begin/index_end.
 */
#ifndef MFS_CACHE_INDEX_PRIVATE_H
#define MFS_CACHE_INDEX_PRIVATE_H

#include <sqlite3.h>

#include "index.h"
#include "journal.h"

struct cache_index {
	sqlite3 *db;		/* owned */
	GRecMutex lock;		/* protects everything here */
	int depth;		/* nesting of ix_begin; lock */
	bool failed;		/* a nested level failed; lock */
	bool is_new;
	int64_t fgen;		/* folder changes made here; lock */
	GHashTable *stmts;	/* SQL text -> its statement, prepared once
				   and kept; lock */
	GHashTable *lent;	/* statements handed out by ix_prep and not
				   yet back through ix_done; lock */
};

/* The write-back journal: one row per change not yet on the server, in the
 * order they were made (see journal.h for the columns' meaning). */
#define JOURNAL_SCHEMA \
	"CREATE TABLE IF NOT EXISTS journal(" \
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT, op INTEGER NOT NULL," \
	"  folder TEXT NOT NULL, id TEXT, rid TEXT, origin INTEGER," \
	"  dest TEXT, dest_id TEXT, flags INTEGER NOT NULL DEFAULT 0," \
	"  date INTEGER NOT NULL DEFAULT 0, kind INTEGER NOT NULL DEFAULT 0," \
	"  size INTEGER NOT NULL DEFAULT 0, msgid TEXT, content TEXT," \
	"  state INTEGER NOT NULL DEFAULT 0, tries INTEGER NOT NULL DEFAULT 0," \
	"  error TEXT);" \
	"CREATE INDEX IF NOT EXISTS journal_origin ON journal(origin);" \
	/* a sync that began before a row reached the server read the server \
	 * before the change: its result must not undo it on the mount */ \
	"CREATE TRIGGER IF NOT EXISTS journal_done AFTER DELETE ON journal " \
	"BEGIN UPDATE folders SET lgen = lgen + 1 WHERE path = OLD.folder " \
	"OR path = OLD.dest; END;"

/* Log the database's error about `what`; returns -EIO. */
int ix_fail(struct cache_index *ix, const char *what);
/* Run SQL without results.  Returns 0 or -EIO. */
int ix_exec(struct cache_index *ix, const char *sql);
/* Prepare `sql` and bind the arguments that `types` describes, one letter
 * each: 't' a const char * (NULL binds NULL), 'i' an int64_t.  Returns the
 * statement, which the caller gives back with ix_done(), or NULL after
 * logging.  A query is prepared once and kept: compiling it again for
 * every call cost more than running it. */
sqlite3_stmt *ix_prep(struct cache_index *ix, const char *sql,
		      const char *types, ...);
/* Give back a statement from ix_prep (NULL is allowed); its column values
 * are gone from then on. */
void ix_done(struct cache_index *ix, sqlite3_stmt *st);
/* Step a statement that returns no rows and give it back; NULL is a
 * failure.  Returns 0 or -EIO. */
int ix_run(struct cache_index *ix, sqlite3_stmt *st);
void ix_begin(struct cache_index *ix);
/* Close a level opened by ix_begin; `rc` < 0 marks it failed.  Returns
 * `rc`, or -EIO when the commit itself failed. */
int ix_end(struct cache_index *ix, int rc);

#endif
