/*
 * listing.c - directory listings: the names a directory shows, taken once
 * at opendir so that readdir offsets stay meaningful, and the entries
 * readdir hands out from them.
 */
#include "fs-private.h"

#include <errno.h>
#include <string.h>

#include "log.h"

/* A directory listing, taken at opendir. */
struct fs_dirh {
	GPtrArray *names;	/* of char *, owned */
};

void fs_dirh_free(gpointer p)
{
	struct fs_dirh *dh = p;

	g_ptr_array_unref(dh->names);
	g_free(dh);
}

static void add_folder_children(struct fs *fs, const char *path,
				GPtrArray *names)
{
	GHashTableIter it;
	gpointer key;
	size_t plen = strlen(path);

	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		const char *k = key;
		const char *rest;
		if (plen == 0 && k[0] == '.')
			continue;	/* the dot tree's place */
		if (plen == 0)
			rest = k;
		else if (!strncmp(k, path, plen) && k[plen] == '/')
			rest = k + plen + 1;
		else
			continue;
		if (*rest && !strchr(rest, '/'))
			g_ptr_array_add(names, g_strdup(rest));
	}
}

static gint item_name_cmp(gconstpointer a, gconstpointer b)
{
	const struct fs_item *x = *(struct fs_item *const *)a;
	const struct fs_item *y = *(struct fs_item *const *)b;

	return strcmp(x->name, y->name);
}

static void add_items(struct fs_folder *f, enum fs_sub sub, GPtrArray *names)
{
	GHashTableIter it;
	gpointer val;

	if (sub != FS_SUB_TMP) {
		/* in name order, as rsync and ls sort: a reader going
		 * through the listing moves forward, which is what the
		 * cache's prefetch follows */
		GPtrArray *items = g_ptr_array_new();
		g_hash_table_iter_init(&it, f->items);
		while (g_hash_table_iter_next(&it, NULL, &val)) {
			struct fs_item *item = val;
			if (fs_item_sub(f, item) == sub)
				g_ptr_array_add(items, item);
		}
		g_ptr_array_sort(items, item_name_cmp);
		for (guint i = 0; i < items->len; i++)
			g_ptr_array_add(names, g_strdup(
				((struct fs_item *)items->pdata[i])->name));
		g_ptr_array_unref(items);
	}
	g_hash_table_iter_init(&it, f->staged);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct fs_staged *st = val;
		if (st->sub == sub)
			g_ptr_array_add(names, g_strdup(st->name));
	}
}

static int list_dir(struct fs *fs, struct fs_node *node, GPtrArray *names)
{
	struct fs_folder *f = node->folder ? fs_folder_find(fs, node->folder)
					   : NULL;

	g_ptr_array_add(names, g_strdup("."));
	g_ptr_array_add(names, g_strdup(".."));
	switch (node->type) {
	case FS_N_ROOT: {
		g_ptr_array_add(names, g_strdup(".mailfs"));
		add_folder_children(fs, "", names);
		int rc = fs_dot_list(fs, NULL, names);
		if (rc < 0)
			log_warnx("listing %s: %s", fs->opt.local_dir,
				  g_strerror(-rc));
		return 0;
	}
	case FS_N_DIR:
		if (!f)
			return -ENOENT;
		if (f->kind == MFS_FOLDER_MAIL) {
			for (enum fs_sub s = FS_SUB_CUR; s <= FS_SUB_TMP; s++)
				g_ptr_array_add(names, g_strdup(fs_sub_name(s)));
		} else if (f->kind != MFS_FOLDER_NONE) {
			add_items(f, FS_SUB_DIR, names);
		}
		add_folder_children(fs, f->path, names);
		return 0;
	case FS_N_SUB:
		if (!f)
			return -ENOENT;
		add_items(f, node->sub, names);
		return 0;
	case FS_N_QUERY:
		if (!f)
			return -ENOENT;
		fs_dir_list_query(f, node->key, names);
		return 0;
	case FS_N_CTLDIR:
		for (const char *const *n = fs_ctl_names(); *n; n++)
			g_ptr_array_add(names, g_strdup(*n));
		return 0;
	case FS_N_DOT:
		return fs_dot_list(fs, node, names);
	default:
		return -ENOTDIR;
	}
}

int fs_opendir(struct fs *fs, fuse_ino_t ino, struct fs_dirh **dh_r)
{
	struct fs_node *node;
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	int rc;

	g_mutex_lock(&fs->lock);
	node = fs_node_find(fs, ino);
	rc = node ? list_dir(fs, node, names) : -ESTALE;
	g_mutex_unlock(&fs->lock);
	if (rc < 0) {
		g_ptr_array_unref(names);
		return rc;
	}
	struct fs_dirh *dh = g_new0(struct fs_dirh, 1);
	dh->names = names;
	g_mutex_lock(&fs->lock);
	g_hash_table_add(fs->dirhs, dh);
	g_mutex_unlock(&fs->lock);
	*dh_r = dh;
	return 0;
}

void fs_closedir(struct fs *fs, struct fs_dirh *dh)
{
	g_mutex_lock(&fs->lock);
	g_hash_table_remove(fs->dirhs, dh);
	g_mutex_unlock(&fs->lock);
}

int fs_readdir(struct fs *fs, fuse_ino_t ino, struct fs_dirh *dh, off_t off,
	       bool plus, fs_dirent_fn *add, void *data)
{
	struct fs_node *dir;

	g_mutex_lock(&fs->lock);
	dir = fs_node_find(fs, ino);
	for (guint i = (guint)off; dir && i < dh->names->len; i++) {
		const char *name = dh->names->pdata[i];
		bool dot = !strcmp(name, ".") || !strcmp(name, "..");
		struct fs_node *node = dir;
		struct fs_entry e;

		memset(&e, 0, sizeof(e));
		if (!dot && fs_resolve(fs, dir, name, &node) < 0)
			continue;	/* gone since opendir */
		if (fs_node_attr(fs, node, &e.attr) < 0) {
			fs_node_drop_if_unused(fs, node);
			continue;
		}
		e.ino = dot ? 0 : node->ino;
		if (!add(name, &e, (off_t)i + 1, data)) {
			if (!dot)
				fs_node_drop_if_unused(fs, node);
			break;
		}
		/* readdirplus entries count as lookups, '.' and '..' not;
		 * a plain entry leaves the kernel without a reference */
		if (plus && !dot)
			node->nlookup++;
		else if (!dot)
			fs_node_drop_if_unused(fs, node);
	}
	g_mutex_unlock(&fs->lock);
	return dir ? 0 : -ESTALE;
}
