/*
 * server-uids.c - the UID state file: "mailfs-uids 1 VALIDITY NEXT" then
 * one "UID ID" line per message, written to a temporary name and renamed.
 * RFC 3501 section 2.3.1.1: UIDs ascend in the order they are given and are
 * never given twice under one UIDVALIDITY.
 */
#include "server-uids.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "fileutil.h"

static GMutex uids_lock;
static uint32_t last_validity;		/* protected by uids_lock */

static char *state_path(const char *root, const char *folder)
{
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA1,
							     folder, -1);
	return g_build_filename(root, ".mailfs-serve", "uids", sum, NULL);
}

/* Parse the file's text into `map`.  Returns false when it is not ours. */
static bool parse_state(const char *text, GHashTable *map,
			uint32_t *validity_r, uint32_t *next_r)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	unsigned long v, n;

	if (!lines[0] || sscanf(lines[0], "mailfs-uids 1 %lu %lu", &v, &n) != 2 ||
	    v == 0 || v > UINT32_MAX || n == 0 || n > UINT32_MAX)
		return false;
	*validity_r = (uint32_t)v;
	*next_r = (uint32_t)n;
	for (int i = 1; lines[i]; i++) {
		char *sp = strchr(lines[i], ' ');
		char *end = NULL;
		unsigned long uid;
		if (!*lines[i])
			continue;
		if (!sp)
			return false;
		*sp = '\0';
		uid = strtoul(lines[i], &end, 10);
		if (*end || uid == 0 || uid >= n)
			return false;
		g_hash_table_insert(map, g_strdup(sp + 1),
				    GUINT_TO_POINTER((guint)uid));
	}
	return true;
}

static int write_state(const char *path, const char *folder,
		       GPtrArray *items, const uint32_t *uids,
		       uint32_t validity, uint32_t next)
{
	g_autoptr(GString) s = g_string_new(NULL);
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	int fd, rc = 0;

	g_string_printf(s, "mailfs-uids 1 %u %u\n", validity, next);
	(void)folder;
	for (guint i = 0; i < items->len; i++) {
		const struct mfs_item *it = items->pdata[i];
		g_string_append_printf(s, "%u %s\n", uids[i], it->id);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < s->len && rc == 0;) {
		ssize_t n = write(fd, s->str + off, s->len - off);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

static int by_date_then_id(gconstpointer a, gconstpointer b)
{
	const struct mfs_item *x = *(struct mfs_item *const *)a;
	const struct mfs_item *y = *(struct mfs_item *const *)b;

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* A UIDVALIDITY that no folder of this process was given before. */
static uint32_t new_validity(void)
{
	uint32_t v = (uint32_t)time(NULL);

	if (v <= last_validity)
		v = last_validity + 1;
	last_validity = v;
	return v;
}

int imap_uids_assign(const char *root, const char *folder, GPtrArray *items,
		     uint32_t **uids_r, uint32_t *validity_r,
		     uint32_t *next_r)
{
	g_autofree char *path = state_path(root, folder);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *lockpath = g_strconcat(path, ".lock", NULL);
	g_autoptr(GHashTable) map = g_hash_table_new_full(g_str_hash,
							  g_str_equal, g_free,
							  NULL);
	g_autofree char *text = NULL;
	uint32_t validity = 0, next = 1;
	uint32_t *uids = g_new0(uint32_t, items->len ? items->len : 1);
	bool changed = false;
	int lock, rc = 0;

	if ((rc = file_mkdir_p(dir, 0700)) < 0) {
		g_free(uids);
		return rc;
	}
	g_mutex_lock(&uids_lock);
	lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) != 0) {
		rc = -errno;
		if (lock >= 0)
			close(lock);
		g_mutex_unlock(&uids_lock);
		g_free(uids);
		return rc;
	}
	if (!g_file_get_contents(path, &text, NULL, NULL) ||
	    !parse_state(text, map, &validity, &next)) {
		g_hash_table_remove_all(map);
		validity = new_validity();
		next = 1;
		changed = true;
	}
	/* new ids in arrival order, so UIDs ascend the way mail came */
	g_autoptr(GPtrArray) fresh = g_ptr_array_new();
	for (guint i = 0; i < items->len; i++) {
		const struct mfs_item *it = items->pdata[i];
		gpointer v = g_hash_table_lookup(map, it->id);
		if (v)
			uids[i] = GPOINTER_TO_UINT(v);
		else
			g_ptr_array_add(fresh, items->pdata[i]);
	}
	g_ptr_array_sort(fresh, by_date_then_id);
	for (guint i = 0; i < fresh->len; i++) {
		const struct mfs_item *it = fresh->pdata[i];
		g_hash_table_insert(map, g_strdup(it->id),
				    GUINT_TO_POINTER(next++));
		changed = true;
	}
	for (guint i = 0; i < items->len && fresh->len; i++) {
		const struct mfs_item *it = items->pdata[i];
		if (!uids[i])
			uids[i] = GPOINTER_TO_UINT(
				g_hash_table_lookup(map, it->id));
	}
	if (g_hash_table_size(map) != items->len)
		changed = true;	/* some are gone: forget them */
	if (changed)
		rc = write_state(path, folder, items, uids, validity, next);
	flock(lock, LOCK_UN);
	close(lock);
	g_mutex_unlock(&uids_lock);
	if (rc < 0) {
		g_free(uids);
		return rc;
	}
	*uids_r = uids;
	*validity_r = validity;
	*next_r = next;
	return 0;
}
