/*
 * server-uids.c - the UID state file: "mailfs-uids 2 VALIDITY NEXT
 * HIGHESTMODSEQ" then one "UID MODSEQ FLAGS ID" line per message (FLAGS in
 * hexadecimal, the store's letters), written to a temporary name and
 * renamed.  Version 1 files ("UID ID" lines) are read and upgraded.
 *
 * RFC 3501 section 2.3.1.1: UIDs ascend in the order they are given and are
 * never given twice under one UIDVALIDITY.  RFC 7162 section 3.1: every
 * change of a message's flags gives it a new, higher mod-sequence, and an
 * expunge raises HIGHESTMODSEQ.
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

struct entry {
	uint32_t uid;
	uint64_t modseq;
	uint64_t flags;
	bool known_flags;	/* false when read from a version 1 file */
};

static GMutex uids_lock;
static uint32_t last_validity;		/* protected by uids_lock */

static char *state_path(const char *root, const char *folder)
{
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA1,
							     folder, -1);
	return g_build_filename(root, ".mailfs-serve", "uids", sum, NULL);
}

/* Parse the file's text into `map` (id -> struct entry).  Returns false
 * when it is not ours or not whole. */
static bool parse_state(const char *text, GHashTable *map,
			struct imap_uid_state *st)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	unsigned long v, n;
	unsigned long long h = 1;
	int version;

	if (!lines[0])
		return false;
	if (sscanf(lines[0], "mailfs-uids 2 %lu %lu %llu", &v, &n, &h) == 3)
		version = 2;
	else if (sscanf(lines[0], "mailfs-uids 1 %lu %lu", &v, &n) == 2)
		version = 1;
	else
		return false;
	if (v == 0 || v > UINT32_MAX || n == 0 || n > UINT32_MAX || h == 0)
		return false;
	st->validity = (uint32_t)v;
	st->next = (uint32_t)n;
	st->highest = h;
	for (int i = 1; lines[i]; i++) {
		struct entry en = { 0 };
		unsigned long uid;
		unsigned long long ms = 1, fl = 0;
		int used = 0;
		if (!*lines[i])
			continue;
		if (version == 2) {
			if (sscanf(lines[i], "%lu %llu %llx %n", &uid, &ms, &fl,
				   &used) != 3 || used == 0)
				return false;
			en.known_flags = true;
		} else if (sscanf(lines[i], "%lu %n", &uid, &used) != 1 ||
			   used == 0) {
			return false;
		}
		const char *id = lines[i] + used;
		if (!*id || uid == 0 || uid >= n || ms > h)
			return false;
		en.uid = (uint32_t)uid;
		en.modseq = ms;
		en.flags = fl;
		g_hash_table_insert(map, g_strdup(id), g_memdup2(&en, sizeof(en)));
	}
	return true;
}

static int write_state(const char *path, GPtrArray *items,
		       const struct imap_uid_info *info,
		       const struct imap_uid_state *st)
{
	g_autoptr(GString) s = g_string_new(NULL);
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	int fd, rc = 0;

	g_string_printf(s, "mailfs-uids 2 %u %u %" G_GUINT64_FORMAT "\n",
			st->validity, st->next, st->highest);
	for (guint i = 0; i < items->len; i++) {
		const struct mfs_item *it = items->pdata[i];
		g_string_append_printf(s, "%u %" G_GUINT64_FORMAT " %"
				       G_GINT64_MODIFIER "x %s\n", info[i].uid,
				       info[i].modseq,
				       it->flags & MFS_FLAG_LETTERS, it->id);
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
		     struct imap_uid_info **info_r,
		     struct imap_uid_state *state_r)
{
	g_autofree char *path = state_path(root, folder);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *lockpath = g_strconcat(path, ".lock", NULL);
	g_autoptr(GHashTable) map = g_hash_table_new_full(g_str_hash,
							  g_str_equal, g_free,
							  g_free);
	g_autofree char *text = NULL;
	struct imap_uid_state st = { 0, 1, 1 };
	struct imap_uid_info *info = g_new0(struct imap_uid_info,
					    items->len ? items->len : 1);
	bool changed = false;
	int lock, rc = 0;

	if ((rc = file_mkdir_p(dir, 0700)) < 0) {
		g_free(info);
		return rc;
	}
	g_mutex_lock(&uids_lock);
	lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) != 0) {
		rc = -errno;
		if (lock >= 0)
			close(lock);
		g_mutex_unlock(&uids_lock);
		g_free(info);
		return rc;
	}
	if (!g_file_get_contents(path, &text, NULL, NULL) ||
	    !parse_state(text, map, &st)) {
		g_hash_table_remove_all(map);
		st.validity = new_validity();
		st.next = 1;
		st.highest = 1;
		changed = true;
	}
	/* kept ids: a flag change since the last look is a modification */
	guint kept = 0;
	g_autoptr(GPtrArray) fresh = g_ptr_array_new();
	for (guint i = 0; i < items->len; i++) {
		const struct mfs_item *it = items->pdata[i];
		struct entry *en = g_hash_table_lookup(map, it->id);
		uint64_t flags = it->flags & MFS_FLAG_LETTERS;
		if (!en) {
			g_ptr_array_add(fresh, items->pdata[i]);
			continue;
		}
		kept++;
		if (en->known_flags && en->flags != flags)
			en->modseq = ++st.highest;
		if (!en->known_flags || en->flags != flags)
			changed = true;
		info[i].uid = en->uid;
		info[i].modseq = en->modseq;
	}
	if (kept != g_hash_table_size(map)) {
		/* some are gone: forget them, and count it as a change */
		st.highest++;
		changed = true;
	}
	/* new ids in arrival order, so UIDs ascend the way mail came */
	g_ptr_array_sort(fresh, by_date_then_id);
	g_autoptr(GHashTable) given = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < fresh->len; i++) {
		const struct mfs_item *it = fresh->pdata[i];
		struct imap_uid_info *ui = g_new0(struct imap_uid_info, 1);
		ui->uid = st.next++;
		ui->modseq = ++st.highest;
		g_hash_table_insert(given, it->id, ui);
		changed = true;
	}
	for (guint i = 0; i < items->len && fresh->len; i++) {
		const struct mfs_item *it = items->pdata[i];
		struct imap_uid_info *ui = g_hash_table_lookup(given, it->id);
		if (ui) {
			info[i] = *ui;
			g_free(ui);
			g_hash_table_remove(given, it->id);
		}
	}
	if (changed)
		rc = write_state(path, items, info, &st);
	flock(lock, LOCK_UN);
	close(lock);
	g_mutex_unlock(&uids_lock);
	if (rc < 0) {
		g_free(info);
		return rc;
	}
	*info_r = info;
	*state_r = st;
	return 0;
}
