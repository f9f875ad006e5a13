/*
 * folder-ids.c - FolderIds that survive a rename or a move made
 * through EWS.
 *
 * Spec: [MS-OXWSFOLD] 3.1.4.9 (UpdateFolder) and 3.1.4.8 (MoveFolder)
 * answer with the folder's FolderId, which clients (exchangelib among
 * them) expect to be the one they had.
 *
 * A FolderId is made from a folder's "birth" path: the path it had when
 * this server first saw it.  For nearly every folder that is its path,
 * and no table is needed; a folder renamed or moved over EWS keeps its
 * birth path in a small table, saved in the store's
 * .mailfs-serve/ews-folder-ids so that ids outlive a restart.  A folder
 * made later at a path that is some other folder's birth path gets a
 * birth of its own (the path and a random suffix), so ids never collide.
 * Renames made behind the server's back (on disk, over IMAP) show as a
 * folder gone and a new one, as the table cannot see them.
 *
 * Threads: one table for the process (a server serves one store),
 * protected by `lock`.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "ewsd-private.h"

static GMutex lock;
static GHashTable *births;	/* path -> birth path, both owned;
				   protected by lock */
static char *table_file;	/* owned; protected by lock */

/* File format: one "path\tbirth" a line, both g_strescape'd. */
static void load(void)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(table_file, &text, NULL, NULL))
		return;
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		char *tab = strchr(lines[i], '\t');
		if (!tab)
			continue;
		*tab = 0;
		g_hash_table_replace(births, g_strcompress(lines[i]),
				     g_strcompress(tab + 1));
	}
}

/* Called with lock held. */
static void save(void)
{
	GString *text = g_string_new(NULL);
	GHashTableIter it;
	gpointer k, v;
	GError *err = NULL;

	g_hash_table_iter_init(&it, births);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		g_autofree char *ek = g_strescape(k, NULL);
		g_autofree char *ev = g_strescape(v, NULL);
		g_string_append_printf(text, "%s\t%s\n", ek, ev);
	}
	if (!g_file_set_contents_full(table_file, text->str, (gssize)text->len,
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600,
				      &err)) {
		log_warnx("ews: %s", err->message);
		g_error_free(err);
	}
	g_string_free(text, TRUE);
}

void ewsd_folder_ids_init(const char *store_root)
{
	g_autofree char *dir = g_build_filename(store_root, ".mailfs-serve",
						NULL);

	g_mutex_lock(&lock);
	if (!births) {
		births = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					       g_free);
		g_mkdir_with_parents(dir, 0700);
		table_file = g_build_filename(dir, "ews-folder-ids", NULL);
		load();
	}
	g_mutex_unlock(&lock);
}

char *ewsd_folder_ids_birth(const char *path)
{
	const char *b;
	char *copy;

	g_mutex_lock(&lock);
	b = births ? g_hash_table_lookup(births, path) : NULL;
	copy = g_strdup(b ? b : path);
	g_mutex_unlock(&lock);
	return copy;
}

/* Whether `birth` is the birth of a folder other than `path`.  Lock
 * held. */
static bool birth_taken(const char *birth, const char *path)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, births);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (!strcmp(v, birth) && strcmp(k, path))
			return true;
	return false;
}

void ewsd_folder_ids_created(const char *path)
{
	g_mutex_lock(&lock);
	if (births) {
		g_hash_table_remove(births, path);
		if (birth_taken(path, path)) {
			g_hash_table_replace(births, g_strdup(path),
					     g_strdup_printf("%s\x1f%08x", path,
							     g_random_int()));
		}
		save();
	}
	g_mutex_unlock(&lock);
}

/* Whether `p` is `top` or lies under it. */
static bool under(const char *p, const char *top)
{
	size_t n = strlen(top);

	return !strncmp(p, top, n) && (p[n] == 0 || p[n] == '/');
}

void ewsd_folder_ids_renamed(const char *from, const char *to,
			    const GPtrArray *moved)
{
	g_mutex_lock(&lock);
	if (!births) {
		g_mutex_unlock(&lock);
		return;
	}
	/* every folder of the subtree keeps its birth under its new path */
	GHashTable *next = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, g_free);
	for (guint i = 0; i < moved->len; i++) {
		const char *old = moved->pdata[i];
		const char *b = g_hash_table_lookup(births, old);
		g_autofree char *np = g_strconcat(to, old + strlen(from), NULL);
		if (!under(old, from))
			continue;
		g_hash_table_replace(next, g_steal_pointer(&np),
				     g_strdup(b ? b : old));
	}
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, births);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (under(k, from) || under(k, to))
			g_hash_table_iter_remove(&it);
	g_hash_table_iter_init(&it, next);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (strcmp(k, v))
			g_hash_table_replace(births, g_strdup(k), g_strdup(v));
	g_hash_table_unref(next);
	save();
	g_mutex_unlock(&lock);
}

void ewsd_folder_ids_deleted(const char *path)
{
	GHashTableIter it;
	gpointer k;

	g_mutex_lock(&lock);
	if (births) {
		g_hash_table_iter_init(&it, births);
		while (g_hash_table_iter_next(&it, &k, NULL))
			if (under(k, path))
				g_hash_table_iter_remove(&it);
		save();
	}
	g_mutex_unlock(&lock);
}
