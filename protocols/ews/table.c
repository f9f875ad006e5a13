/*
 * table.c - what the backend knows of each folder's items: the
 * ItemId, exact size, date, flags and Message-ID behind every mount id.
 *
 * A ReadFlagChange or an Update from SyncFolderItems names an item
 * without its content; the table gives its size without downloading it
 * again, and leads a hashed mount id back to its ItemId.  One file per
 * folder under work_dir/ews-items, written whole (temporary file, fsync,
 * rename) after a sync that changed it; losing it costs downloads, never
 * correctness, since a sync from scratch fills it again.
 *
 * File: a first line "F\t<FolderId>", then one line per item:
 * <id>\t<ItemId>\t<size>\t<date>\t<flags>\t<Message-ID or \001>, and
 * for a contact or an event a seventh field, its name's base; fields
 * written with g_strescape.  All functions here run with be->lock held.
 */
#include "ewsc-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

void ewsc_known_free(gpointer p)
{
	struct ewsc_known *k = p;

	g_free(k->item_id);
	g_free(k->message_id);
	g_free(k->base);
	g_free(k);
}

void ewsc_table_free(gpointer p)
{
	struct ewsc_table *t = p;

	g_free(t->folder_id);
	g_hash_table_unref(t->items);
	g_free(t);
}

static char *table_path(struct mfs_backend *be, const char *path)
{
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							     path, -1);
	sum[32] = '\0';
	return g_build_filename(be->work_dir, "ews-items", sum, NULL);
}

static GHashTable *items_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				     ewsc_known_free);
}

static void load(struct mfs_backend *be, const char *path,
		 struct ewsc_table *t)
{
	g_autofree char *file = table_path(be, path);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(file, &text, NULL, NULL))
		return;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], "\t", -1);
		if (i == 0) {
			if (g_strv_length(f) != 2 || strcmp(f[0], "F"))
				return;
			t->folder_id = g_strcompress(f[1]);
			continue;
		}
		guint nf = g_strv_length(f);
		if (nf != 6 && nf != 7)
			continue;
		struct ewsc_known *k = g_new0(struct ewsc_known, 1);
		k->item_id = g_strcompress(f[1]);
		k->size = g_ascii_strtoull(f[2], NULL, 10);
		k->date = g_ascii_strtoll(f[3], NULL, 10);
		k->flags = g_ascii_strtoull(f[4], NULL, 10);
		k->message_id = strcmp(f[5], "\\001") ? g_strcompress(f[5])
						       : NULL;
		k->base = nf == 7 ? g_strcompress(f[6]) : NULL;
		g_hash_table_replace(t->items, g_strcompress(f[0]), k);
	}
}

struct ewsc_table *ewsc_table_get(struct mfs_backend *be, const char *path,
				const char *folder_id)
{
	struct ewsc_table *t = g_hash_table_lookup(be->tables, path);

	if (!t) {
		t = g_new0(struct ewsc_table, 1);
		t->items = items_new();
		load(be, path, t);
		g_hash_table_replace(be->tables, g_strdup(path), t);
	}
	if (folder_id && g_strcmp0(t->folder_id, folder_id)) {
		/* another folder under this path now: nothing carries over */
		g_hash_table_remove_all(t->items);
		g_free(t->folder_id);
		t->folder_id = g_strdup(folder_id);
		t->dirty = true;
	}
	return t;
}

void ewsc_table_put(struct ewsc_table *t, const char *id,
		   const struct ewsc_known *k)
{
	struct ewsc_known *c = g_new0(struct ewsc_known, 1);

	*c = *k;
	c->item_id = g_strdup(k->item_id);
	c->message_id = g_strdup(k->message_id);
	c->base = g_strdup(k->base);
	g_hash_table_replace(t->items, g_strdup(id), c);
	t->dirty = true;
}

int ewsc_table_save(struct mfs_backend *be, const char *path,
		   struct ewsc_table *t)
{
	g_autofree char *file = table_path(be, path);
	g_autofree char *dir = g_path_get_dirname(file);
	g_autofree char *tmp = g_strconcat(file, ".tmp", NULL);
	GString *out;
	GHashTableIter it;
	gpointer key, val;
	int rc;

	if (!t->dirty)
		return 0;
	out = g_string_sized_new(256 * (g_hash_table_size(t->items) + 1));
	g_autofree char *fid = g_strescape(t->folder_id ? t->folder_id : "",
					   NULL);
	g_string_append_printf(out, "F\t%s\n", fid);
	g_hash_table_iter_init(&it, t->items);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		struct ewsc_known *k = val;
		g_autofree char *id = g_strescape(key, NULL);
		g_autofree char *iid = g_strescape(k->item_id, NULL);
		g_autofree char *mid = k->message_id
			? g_strescape(k->message_id, NULL) : NULL;
		g_autofree char *base = k->base ? g_strescape(k->base, NULL)
						: NULL;
		g_string_append_printf(out, "%s\t%s\t%" G_GUINT64_FORMAT "\t%"
				       G_GINT64_FORMAT "\t%" G_GUINT64_FORMAT
				       "\t%s%s%s\n", id, iid, k->size, k->date,
				       k->flags, mid ? mid : "\\001",
				       base ? "\t" : "", base ? base : "");
	}
	if ((rc = file_mkdir_p(dir, 0700)) < 0)
		goto out;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = file_write_all(fd, out->str, out->len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, file) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	else
		t->dirty = false;
out:
	if (rc < 0)
		log_warnx("ews: saving the item table of %s: %s", path,
			  g_strerror(-rc));
	g_string_free(out, TRUE);
	return rc;
}
