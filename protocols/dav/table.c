/*
 * table.c - what the backend knows of each folder's items: the href,
 * ETag, exact size and date behind every mount id.
 *
 * The ETag is what an edit or a removal is conditioned on (If-Match), so
 * it must outlive the process: a change the write-back journal replays
 * after a restart still refers to the version the user saw.  One file per
 * folder under work_dir/dav-items, written whole (temporary file, fsync,
 * rename) after a change; losing it costs downloads and the conflict
 * check of changes pending at that moment, nothing else.
 *
 * File: a first line "C\t<collection href>", then one line per item:
 * <id>\t<href>\t<etag>\t<size>\t<date>, fields written with g_strescape.
 * All functions here run with be->lock held.
 */
#include "davc-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

/* The longest id made from an href's segment; a longer one is hashed. */
#define ID_MAX 200

static void known_free(gpointer p)
{
	struct davc_known *k = p;

	g_free(k->href);
	g_free(k->etag);
	g_free(k);
}

void davc_table_free(gpointer p)
{
	struct davc_table *t = p;

	g_free(t->coll);
	g_hash_table_unref(t->by_href);
	g_hash_table_unref(t->items);
	g_free(t);
}

static char *table_file(struct mfs_backend *be, const char *path)
{
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							     path, -1);
	sum[32] = '\0';
	return g_build_filename(be->work_dir, "dav-items", sum, NULL);
}

void davc_table_put(struct davc_table *t, const char *id, const char *href,
		    const char *etag, uint64_t size, int64_t date)
{
	struct davc_known *k = g_new0(struct davc_known, 1);
	char *key = g_strdup(id);
	struct davc_known *old = g_hash_table_lookup(t->items, id);

	if (old)
		g_hash_table_remove(t->by_href, old->href);
	k->href = g_strdup(href);
	k->etag = g_strdup(etag ? etag : "");
	k->size = size;
	k->date = date;
	g_hash_table_replace(t->items, key, k);
	g_hash_table_replace(t->by_href, k->href, key);
	t->dirty = true;
}

void davc_table_drop(struct davc_table *t, const char *id)
{
	struct davc_known *k = g_hash_table_lookup(t->items, id);

	if (!k)
		return;
	g_hash_table_remove(t->by_href, k->href);
	g_hash_table_remove(t->items, id);
	t->dirty = true;
}

static void load(struct mfs_backend *be, const char *path,
		 struct davc_table *t)
{
	g_autofree char *file = table_file(be, path);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(file, &text, NULL, NULL))
		return;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], "\t", -1);
		if (i == 0) {
			if (g_strv_length(f) != 2 || strcmp(f[0], "C"))
				return;
			t->coll = g_strcompress(f[1]);
			continue;
		}
		if (g_strv_length(f) != 5)
			continue;
		g_autofree char *id = g_strcompress(f[0]);
		g_autofree char *href = g_strcompress(f[1]);
		g_autofree char *etag = g_strcompress(f[2]);
		davc_table_put(t, id, href, etag,
			       g_ascii_strtoull(f[3], NULL, 10),
			       g_ascii_strtoll(f[4], NULL, 10));
	}
	t->dirty = false;
}

struct davc_table *davc_table_get(struct mfs_backend *be, const char *path,
				  const char *coll)
{
	struct davc_table *t = g_hash_table_lookup(be->tables, path);

	if (!t) {
		t = g_new0(struct davc_table, 1);
		t->items = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, known_free);
		t->by_href = g_hash_table_new(g_str_hash, g_str_equal);
		load(be, path, t);
		g_hash_table_replace(be->tables, g_strdup(path), t);
	}
	if (coll && g_strcmp0(t->coll, coll)) {
		/* another collection under this name now */
		g_hash_table_remove_all(t->by_href);
		g_hash_table_remove_all(t->items);
		g_free(t->coll);
		t->coll = g_strdup(coll);
		t->dirty = true;
	}
	return t;
}

int davc_table_save(struct mfs_backend *be, const char *path,
		    struct davc_table *t)
{
	g_autofree char *file = table_file(be, path);
	g_autofree char *dir = g_path_get_dirname(file);
	g_autofree char *tmp = g_strconcat(file, ".tmp", NULL);
	g_autofree char *coll = g_strescape(t->coll ? t->coll : "", NULL);
	GString *out;
	GHashTableIter it;
	gpointer key, val;
	int rc, fd;

	if (!t->dirty)
		return 0;
	out = g_string_sized_new(160 * (g_hash_table_size(t->items) + 1));
	g_string_append_printf(out, "C\t%s\n", coll);
	g_hash_table_iter_init(&it, t->items);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		const struct davc_known *k = val;
		g_autofree char *id = g_strescape(key, NULL);
		g_autofree char *href = g_strescape(k->href, NULL);
		g_autofree char *etag = g_strescape(k->etag, NULL);

		g_string_append_printf(out, "%s\t%s\t%s\t%" G_GUINT64_FORMAT
				       "\t%" G_GINT64_FORMAT "\n", id, href,
				       etag, k->size, k->date);
	}
	if ((rc = file_mkdir_p(dir, 0700)) < 0)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
		log_warnx("dav: saving the item table of %s: %s", path,
			  g_strerror(-rc));
	g_string_free(out, TRUE);
	return rc;
}

/* Whether `s` may be an item's file name as it is. */
static bool plain_name(const char *s)
{
	if (!*s || s[0] == '.' || strlen(s) > ID_MAX ||
	    !g_utf8_validate(s, -1, NULL))
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '/' || *p == 0x7f)
			return false;
	return true;
}

char *davc_id_for(const struct davc_table *t, const char *href,
		  enum mfs_folder_kind kind)
{
	const char *suffix = kind == MFS_FOLDER_CALENDAR ? ".ics" : ".vcf";
	const char *have = g_hash_table_lookup(t->by_href, href);
	const char *seg = strrchr(href, '/');
	g_autofree char *name = NULL;
	char *id;

	if (have)
		return g_strdup(have);
	name = g_uri_unescape_string(seg ? seg + 1 : href, "/");
	if (name && plain_name(name)) {
		id = g_str_has_suffix(name, suffix)
			     ? g_strdup(name)
			     : g_strconcat(name, suffix, NULL);
		if (!g_hash_table_contains(t->items, id))
			return id;
		g_free(id);
	}
	/* not a file name, or another member's already: a name of its
	 * own, the same whenever this href is met */
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							     href, -1);
	sum[32] = '\0';
	return g_strconcat("h", sum, suffix, NULL);
}
