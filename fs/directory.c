/*
 * directory.c - directory folders: a server's address book (Exchange's
 * address lists, LDAP), which no one may list whole, shown as a folder of
 * read-only vCards that fills as names are looked up in it.
 *
 * `cat Directory/alice@example.org.vcf` looks the address up; the lookup
 * of a name ending in '*' ("Smi*", which is what `ls Directory/Smi*` asks
 * for when no known entry matches the pattern) is answered with a
 * directory of the entries whose name or address begins with "Smi".
 * Everything found stays in the folder's listing for the mount's life, so
 * later globs match it; a bound on their number keeps a script that looks
 * up thousands of names from growing the mount without end.
 */
#include "fs-private.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Past this many entries a folder forgets what it found before. */
#define DIR_KEEP_MAX 10000

bool fs_dir_query(const char *name, char **query_r, bool *prefix_r)
{
	size_t len = strlen(name);

	/* what editors, shells and version control probe for never goes
	 * to the server */
	if (len < 2 || name[0] == '.' || name[0] == '#' ||
	    name[len - 1] == '~')
		return false;
	if (name[len - 1] == '*') {
		if (strpbrk(name, "?[") || memchr(name, '*', len - 1))
			return false;	/* only a plain prefix is a query */
		*query_r = g_strndup(name, len - 1);
		*prefix_r = true;
		return true;
	}
	if (len > 4 && g_str_has_suffix(name, ".vcf") &&
	    !strpbrk(name, "*?[")) {
		*query_r = g_strndup(name, len - 4);
		*prefix_r = false;
		return true;
	}
	return false;
}

/* A name the server gave that can stand in a directory listing. */
static bool entry_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= 255 && name[0] != '.' && !strchr(name, '/');
}

/* Keep entry `name` with content `vcard` in `f`; returns its item. */
static struct fs_item *put_entry(struct fs_folder *f, const char *name,
				 GBytes *vcard, int64_t now)
{
	struct mfs_item mi = {
		.id = (char *)name,
		.size = g_bytes_get_size(vcard),
		.date = now,
	};
	struct fs_item *it = fs_item_put(f, &mi);

	if (it->content)
		g_bytes_unref(it->content);
	it->content = g_bytes_ref(vcard);
	return it;
}

int fs_dir_lookup(struct fs *fs, const char *folder, const char *name)
{
	g_autofree char *query = NULL;
	GPtrArray *entries = NULL;
	struct mfs_error e = { 0 };
	struct fs_folder *f;
	bool prefix = false;
	int rc;

	if (!fs_dir_query(name, &query, &prefix))
		return -ENOENT;
	rc = mfs_store_lookup(fs->store, folder, query, prefix, &entries, &e);
	if (rc < 0) {
		if (rc != -ENOENT)
			log_error_record("looking up \"%s\" in %s: %s", query,
					 folder,
					 e.msg[0] ? e.msg : g_strerror(-rc));
		return rc;
	}
	int64_t now = (int64_t)time(NULL);
	GPtrArray *found = g_ptr_array_new_with_free_func(g_free);

	g_mutex_lock(&fs->lock);
	f = fs_folder_find(fs, folder);
	if (!f || f->kind != MFS_FOLDER_DIRECTORY) {
		rc = -ENOENT;
		goto out;
	}
	if (g_hash_table_size(f->items) + entries->len > DIR_KEEP_MAX) {
		g_hash_table_remove_all(f->queries);
		g_hash_table_remove_all(f->items);
	}
	for (guint i = 0; i < entries->len; i++) {
		const struct mfs_dir_entry *de = entries->pdata[i];
		if (!entry_name_ok(de->name)) {
			log_warnx("%s: the server named an entry \"%s\", "
				  "which cannot be a file name; left out",
				  folder, de->name);
			continue;
		}
		g_ptr_array_add(found, g_strdup(put_entry(f, de->name,
							  de->vcard, now)->id));
	}
	if (prefix) {
		rc = found->len ? 0 : -ENOENT;
		if (rc == 0)
			g_hash_table_replace(f->queries, g_strdup(name),
					     g_steal_pointer(&found));
	} else {
		/* "Alice Smith.vcf" names the one entry it resolves to as
		 * well as that entry's own name does */
		if (found->len == 1 && strcmp(found->pdata[0], name)) {
			const struct mfs_dir_entry *de = NULL;
			for (guint i = 0; i < entries->len && !de; i++)
				if (!strcmp(((struct mfs_dir_entry *)
					     entries->pdata[i])->name,
					    found->pdata[0]))
					de = entries->pdata[i];
			if (de)
				put_entry(f, name, de->vcard, now);
		}
		rc = g_hash_table_contains(f->items, name) ? 0 : -ENOENT;
	}
out:
	g_mutex_unlock(&fs->lock);
	if (found)
		g_ptr_array_unref(found);
	g_ptr_array_unref(entries);
	return rc;
}

void fs_dir_list_query(struct fs_folder *f, const char *name,
		       GPtrArray *names)
{
	GPtrArray *ids = f->queries ? g_hash_table_lookup(f->queries, name)
				    : NULL;

	for (guint i = 0; ids && i < ids->len; i++) {
		struct fs_item *it = g_hash_table_lookup(f->items,
							 ids->pdata[i]);
		if (it)
			g_ptr_array_add(names, g_strdup(it->name));
	}
}

bool fs_dir_read_only(struct fs *fs, const char *path)
{
	g_autofree char *p = path ? g_strdup(path) : NULL;

	while (p && *p) {
		struct fs_folder *f = fs_folder_find(fs, p);
		if (f && f->kind == MFS_FOLDER_DIRECTORY)
			return true;
		char *slash = strrchr(p, '/');
		if (!slash)
			break;
		*slash = 0;
	}
	return false;
}
