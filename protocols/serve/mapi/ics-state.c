/*
 * ics-state.c - the change numbers of the store's messages, which an ICS
 * download compares with the client's state.
 *
 * Spec: MS-OXCFXICS 2.2.1.2.3 (PidTagChangeNumber), 2.2.1.2.7
 * (PidTagChangeKey), 3.2.5.9.3 (a change number grows with every change
 * and is never reused; a change of the read state alone gives the
 * message a new read change number, which CnsetRead follows, and leaves
 * its change number alone).
 *
 * A message's bytes never change in a Maildir store: what changes are its
 * flags.  So a message gets a change number when the server first sees
 * it, a new one when a flag other than \Seen changes, and a new read
 * change number when \Seen does; a new message's read change number is
 * its change number.  The numbers come from one counter for the whole
 * store, from 1, apart from the id counter of ids.c.  Each change is
 * noticed when a download (or anything else asking) looks at the folder,
 * so a change number says "changed since the last look", which is what a
 * download's state needs.
 *
 * The table is kept on disk in STORE/.mailfs-serve/mapi-cns, a line per
 * record "c CN READCN FLAGS MTIME folder\tid" (hexadecimal numbers, the
 * key g_strescape'd), appended at every change; the last line of a key
 * wins when it is read back.  The file is rewritten whole at load when
 * most of its lines are stale.
 *
 * Threads: one table per process, protected by `lock`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wire/mapi-idset.h"
#include "mapid-private.h"

struct rec {
	uint64_t cn, read_cn;
	uint64_t flags;			/* the store's letters, last
					   seen */
	int64_t mtime;			/* when the change was noticed */
};

static GMutex lock;
static GHashTable *recs;	/* "folder\tid" -> struct rec *, both owned */
static char *cn_file;
static uint64_t last_cn;

static void append(GString *out, const char *key, const struct rec *r)
{
	g_autofree char *esc = g_strescape(key, NULL);

	g_string_append_printf(out, "c %" G_GINT64_MODIFIER "x %"
			       G_GINT64_MODIFIER "x %" G_GINT64_MODIFIER "x %"
			       G_GINT64_MODIFIER "x %s\n", r->cn, r->read_cn,
			       r->flags, (uint64_t)r->mtime, esc);
}

/* Lock held. */
static void save(const char *text, bool whole)
{
	int fd = open(cn_file, O_WRONLY | O_CREAT | O_CLOEXEC |
		      (whole ? O_TRUNC : O_APPEND), 0600);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		log_warnx("mapi: cannot save change numbers in %s", cn_file);
	if (fd >= 0)
		close(fd);
}

static bool load_line(const char *line)
{
	uint64_t v[4];
	const char *p = line + 2;
	char *end = NULL;
	struct rec *r;

	if (line[0] != 'c' || line[1] != ' ')
		return false;
	for (int i = 0; i < 4; i++) {
		v[i] = g_ascii_strtoull(p, &end, 16);
		if (!end || *end != ' ')
			return false;
		p = end + 1;
	}
	if (!v[0] || v[0] > MAPI_IDSET_GLOBCNT_MAX || !v[1] ||
	    v[1] > MAPI_IDSET_GLOBCNT_MAX)
		return false;
	r = g_new(struct rec, 1);
	r->cn = v[0];
	r->read_cn = v[1];
	r->flags = v[2];
	r->mtime = (int64_t)v[3];
	g_hash_table_replace(recs, g_strcompress(p), r);
	last_cn = MAX(last_cn, MAX(r->cn, r->read_cn));
	return true;
}

/* Lock held. */
static void init_locked(const char *store_root)
{
	g_autofree char *dir = NULL;
	g_autofree char *text = NULL;
	size_t lines = 0;

	if (recs)
		return;
	recs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	dir = g_build_filename(store_root, ".mailfs-serve", NULL);
	g_mkdir_with_parents(dir, 0700);
	cn_file = g_build_filename(dir, "mapi-cns", NULL);
	if (!g_file_get_contents(cn_file, &text, NULL, NULL))
		return;
	{
		g_auto(GStrv) l = g_strsplit(text, "\n", -1);
		for (int i = 0; l[i]; i++)
			lines += load_line(l[i]);
	}
	if (lines > 64 && lines > 2 * g_hash_table_size(recs)) {
		GString *all = g_string_new(NULL);
		GHashTableIter it;
		gpointer k, v;

		g_hash_table_iter_init(&it, recs);
		while (g_hash_table_iter_next(&it, &k, &v))
			append(all, k, v);
		save(all->str, true);
		g_string_free(all, TRUE);
	}
}

/* One pass over the folder's messages, under one lock, so that each
 * change takes the next number once. */
void mapid_cn_refresh(const char *store_root, const char *folder,
		      GPtrArray *items, struct mapid_cn *out)
{
	GString *lines = g_string_new(NULL);
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;

	g_mutex_lock(&lock);
	init_locked(store_root);
	for (guint i = 0; i < items->len; i++) {
		const struct mfs_item *it = items->pdata[i];
		g_autofree char *key = g_strdup_printf("%s\t%s", folder,
						       it->id);
		uint64_t letters = it->flags & MFS_FLAG_LETTERS;
		struct rec *r = g_hash_table_lookup(recs, key);
		bool changed = false;

		if (!r) {
			r = g_new(struct rec, 1);
			r->cn = r->read_cn = ++last_cn;
			r->flags = letters;
			r->mtime = it->date;
			g_hash_table_insert(recs, g_strdup(key), r);
			changed = true;
		}
		if ((r->flags & ~MFS_FLAG_SEEN) != (letters & ~MFS_FLAG_SEEN)) {
			r->cn = ++last_cn;
			r->mtime = now;
			changed = true;
		}
		if ((r->flags & MFS_FLAG_SEEN) != (letters & MFS_FLAG_SEEN)) {
			r->read_cn = ++last_cn;
			changed = true;
		}
		r->flags = letters;
		if (changed)
			append(lines, key, r);
		out[i].cn = r->cn;
		out[i].read_cn = r->read_cn;
		out[i].mtime = r->mtime;
	}
	if (lines->len)
		save(lines->str, false);
	g_mutex_unlock(&lock);
	g_string_free(lines, TRUE);
}

uint64_t mapid_cn_last(const char *store_root)
{
	uint64_t c;

	g_mutex_lock(&lock);
	init_locked(store_root);
	c = last_cn;
	g_mutex_unlock(&lock);
	return c;
}

void mapid_cn_folder(const char *store_root, uint64_t counter,
		     struct mapid_cn *out)
{
	/* a folder's id changes with its path, so its change number is
	 * given once; the key cannot be a message's (no store path is
	 * empty) */
	g_autofree char *key = g_strdup_printf("\t%" G_GINT64_MODIFIER "x",
					       counter);
	struct rec *r;

	g_mutex_lock(&lock);
	init_locked(store_root);
	r = g_hash_table_lookup(recs, key);
	if (!r) {
		GString *line = g_string_new(NULL);

		r = g_new0(struct rec, 1);
		r->cn = r->read_cn = ++last_cn;
		r->mtime = g_get_real_time() / G_USEC_PER_SEC;
		g_hash_table_insert(recs, g_strdup(key), r);
		append(line, key, r);
		save(line->str, false);
		g_string_free(line, TRUE);
	}
	out->cn = r->cn;
	out->read_cn = r->read_cn;
	out->mtime = r->mtime;
	g_mutex_unlock(&lock);
}
