/*
 * uids.c - the UID state file: "mailfs-uids 2 VALIDITY NEXT
 * HIGHESTMODSEQ" then one "UID MODSEQ FLAGS ID" line per message (FLAGS in
 * hexadecimal, the store's letters), written to a temporary name and
 * renamed.  Version 1 files ("UID ID" lines) are read and upgraded.
 *
 * RFC 3501 section 2.3.1.1: UIDs ascend in the order they are given and are
 * never given twice under one UIDVALIDITY.  RFC 7162 section 3.1: every
 * change of a message's flags gives it a new, higher mod-sequence, and an
 * expunge raises HIGHESTMODSEQ.
 */
#include "uids.h"

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
			struct serve_uid_state *st)
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

static int uid_order(gconstpointer a, gconstpointer b, gpointer map)
{
	const struct entry *x = g_hash_table_lookup(map, *(char *const *)a);
	const struct entry *y = g_hash_table_lookup(map, *(char *const *)b);

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int write_state(const char *path, GHashTable *map,
		       const struct serve_uid_state *st)
{
	g_autoptr(GString) s = g_string_new(NULL);
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	g_autofree gpointer *ids = NULL;
	guint n = 0;
	int fd, rc = 0;

	g_string_printf(s, "mailfs-uids 2 %u %u %" G_GUINT64_FORMAT "\n",
			st->validity, st->next, st->highest);
	ids = g_hash_table_get_keys_as_array(map, &n);
	g_qsort_with_data(ids, (gint)n, sizeof(gpointer), uid_order, map);
	for (guint i = 0; i < n; i++) {
		const struct entry *en = g_hash_table_lookup(map, ids[i]);
		g_string_append_printf(s, "%u %" G_GUINT64_FORMAT " %"
				       G_GINT64_MODIFIER "x %s\n", en->uid,
				       en->modseq, en->flags,
				       (const char *)ids[i]);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < s->len && rc == 0;) {
		ssize_t w = write(fd, s->str + off, s->len - off);
		if (w < 0 && errno != EINTR)
			rc = -errno;
		else if (w > 0)
			off += (size_t)w;
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

/* One folder's state while it is locked. */
struct uids_file {
	char *path;			/* owned */
	int lock;
	GHashTable *map;		/* owned; id -> struct entry */
	struct serve_uid_state st;
	bool changed;
	bool started;			/* no state was there: a new one */
};

/* Lock and read a folder's state (a new one when there is none or it is
 * unreadable).  Returns 0 or -errno; on success uids_close() follows. */
static int uids_open(const char *root, const char *folder,
		     struct uids_file *f)
{
	g_autofree char *dir = NULL, *lockpath = NULL, *text = NULL;
	int rc;

	memset(f, 0, sizeof(*f));
	f->path = state_path(root, folder);
	dir = g_path_get_dirname(f->path);
	lockpath = g_strconcat(f->path, ".lock", NULL);
	if ((rc = file_mkdir_p(dir, 0700)) < 0) {
		g_free(f->path);
		return rc;
	}
	g_mutex_lock(&uids_lock);
	f->lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f->lock < 0 || flock(f->lock, LOCK_EX) != 0) {
		rc = -errno;
		if (f->lock >= 0)
			close(f->lock);
		g_mutex_unlock(&uids_lock);
		g_free(f->path);
		return rc;
	}
	f->map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (!g_file_get_contents(f->path, &text, NULL, NULL) ||
	    !parse_state(text, f->map, &f->st)) {
		g_hash_table_remove_all(f->map);
		f->st.validity = new_validity();
		f->st.next = 1;
		f->st.highest = 1;
		f->changed = true;
		f->started = true;
	}
	return 0;
}

/* Write what changed, unlock, free.  Returns 0 or -errno. */
static int uids_close(struct uids_file *f)
{
	int rc = f->changed ? write_state(f->path, f->map, &f->st) : 0;

	flock(f->lock, LOCK_UN);
	close(f->lock);
	g_mutex_unlock(&uids_lock);
	g_hash_table_unref(f->map);
	g_free(f->path);
	return rc;
}

/* A new entry for `id` with the next UID. */
static struct entry *add_entry(struct uids_file *f, const char *id,
			       uint64_t flags)
{
	struct entry *en = g_new0(struct entry, 1);

	en->uid = f->st.next++;
	en->modseq = ++f->st.highest;
	en->flags = flags;
	en->known_flags = true;
	g_hash_table_insert(f->map, g_strdup(id), en);
	f->changed = true;
	return en;
}

/* Record `flags` as the entry's; a change is a new mod-sequence. */
static void set_entry_flags(struct uids_file *f, struct entry *en,
			    uint64_t flags)
{
	if (en->known_flags && en->flags != flags)
		en->modseq = ++f->st.highest;
	if (!en->known_flags || en->flags != flags)
		f->changed = true;
	en->flags = flags;
	en->known_flags = true;
}

int serve_uids_assign(const char *root, const char *folder, GPtrArray *items,
		     struct serve_uid_info **info_r,
		     struct serve_uid_state *state_r)
{
	struct uids_file f;
	struct serve_uid_info *info;
	int rc;

	if ((rc = uids_open(root, folder, &f)) < 0)
		return rc;
	info = g_new0(struct serve_uid_info, items->len ? items->len : 1);
	/* kept ids: a flag change since the last look is a modification */
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) fresh = g_ptr_array_new();
	for (guint i = 0; i < items->len; i++) {
		const struct mfs_item *it = items->pdata[i];
		struct entry *en = g_hash_table_lookup(f.map, it->id);
		g_hash_table_add(seen, it->id);
		if (!en) {
			g_ptr_array_add(fresh, items->pdata[i]);
			continue;
		}
		set_entry_flags(&f, en, it->flags & MFS_FLAG_LETTERS);
	}
	/* some are gone: forget them, and count it as a change */
	GHashTableIter iter;
	gpointer key;
	bool gone = false;
	g_hash_table_iter_init(&iter, f.map);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (!g_hash_table_contains(seen, key)) {
			g_hash_table_iter_remove(&iter);
			gone = true;
		}
	}
	if (gone) {
		f.st.highest++;
		f.changed = true;
	}
	/* new ids in arrival order, so UIDs ascend the way mail came */
	g_ptr_array_sort(fresh, by_date_then_id);
	for (guint i = 0; i < fresh->len; i++) {
		const struct mfs_item *it = fresh->pdata[i];
		add_entry(&f, it->id, it->flags & MFS_FLAG_LETTERS);
	}
	for (guint i = 0; i < items->len; i++) {
		const struct mfs_item *it = items->pdata[i];
		const struct entry *en = g_hash_table_lookup(f.map, it->id);
		info[i].uid = en->uid;
		info[i].modseq = en->modseq;
	}
	*state_r = f.st;
	if ((rc = uids_close(&f)) < 0) {
		g_free(info);
		return rc;
	}
	*info_r = info;
	return 0;
}

int serve_uids_note(const char *root, const char *folder,
		   const char *const *ids, const uint64_t *flags, size_t n,
		   struct serve_uid_info *info_r, struct serve_uid_state *state_r)
{
	struct uids_file f;
	int rc;

	if ((rc = uids_open(root, folder, &f)) < 0)
		return rc;
	if (f.started) {
		/* UIDs start with the messages that were there first */
		f.changed = false;
		uids_close(&f);
		return -ESTALE;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t fl = flags[i] & MFS_FLAG_LETTERS;
		struct entry *en = g_hash_table_lookup(f.map, ids[i]);
		if (en)
			set_entry_flags(&f, en, fl);
		else
			en = add_entry(&f, ids[i], fl);
		info_r[i].uid = en->uid;
		info_r[i].modseq = en->modseq;
	}
	*state_r = f.st;
	return uids_close(&f);
}
