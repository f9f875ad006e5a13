/*
 * sync-state.c - snapshots of what a syncing client knows, named
 * by unguessable states.
 *
 * File format (text, one record a line; keys and the scope escaped with
 * g_strescape so that no byte of a name can break a line):
 *
 *   mailfs-ews-sync 1
 *   <scope>
 *   <key>\t<value, hex>
 *   ...
 *
 * Files are written under a temporary name and renamed, so a reader sees
 * a whole snapshot or none.  A snapshot is never changed once written: a
 * client that repeats a request with a recent state gets the same answer.
 * They live in .mailfs-serve/ews-sync/<scope hash>/s-<token>, one
 * directory per folder (or the hierarchy), so that a folder's snapshots
 * are counted without reading any of them.
 */
#include "sync-state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

#define MAGIC "mailfs-ews-sync 1"
#define PREFIX "mfsS"
#define TOKEN_BYTES 16
/* hex digits of a scope's directory name: a hash of the scope */
#define SCOPE_HEX 16
/* expired snapshots are looked for at least this often */
#define RESCAN_INTERVAL_S 3600

GHashTable *ewsd_sync_snapshot_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void ewsd_sync_snapshot_set(GHashTable *snap, const char *key, guint64 value)
{
	g_hash_table_replace(snap, g_strdup(key),
			     g_memdup2(&value, sizeof(value)));
}

static char *state_dir(const char *root)
{
	return g_build_filename(root, ".mailfs-serve", "ews-sync", NULL);
}

/* The directory of one scope's snapshots, within state_dir() (caller
 * owns).  A hash, since a scope holds a folder's name; the file keeps the
 * scope itself, which load() checks. */
static char *scope_dir_name(const char *scope)
{
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							    scope, -1);

	return g_strndup(sum, SCOPE_HEX);
}

/* The file name of a state's snapshot (caller owns), or NULL for a state
 * this server did not make. */
static char *token_file(const char *state)
{
	size_t n = state ? strlen(state) : 0;
	gsize len = 0;
	g_autofree guchar *raw = NULL;

	/* base64 of 4 + 16 bytes is 28 characters */
	if (n != 28 || strspn(state, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "abcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
		return NULL;
	raw = g_base64_decode(state, &len);
	if (len != 4 + TOKEN_BYTES || memcmp(raw, PREFIX, 4) != 0)
		return NULL;
	GString *name = g_string_new("s-");
	for (int i = 0; i < TOKEN_BYTES; i++)
		g_string_append_printf(name, "%02x", raw[4 + i]);
	return g_string_free(name, FALSE);
}

int ewsd_sync_state_load(const char *store_root, const char *state,
			const char *scope, GHashTable **snap_r)
{
	g_autofree char *file = token_file(state);
	g_autofree char *dir = state_dir(store_root);
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;
	size_t len = 0;
	int fd, rc;

	g_autofree char *sdir = scope_dir_name(scope);

	if (!file)
		return -EINVAL;
	path = g_build_filename(dir, sdir, file, NULL);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	rc = file_read_head(fd, EWS_SYNC_STATE_BYTES_MAX + 1, &text, &len);
	/* in use: it does not expire while its client keeps syncing */
	futimens(fd, NULL);
	close(fd);
	if (rc < 0)
		return rc;
	if (len > EWS_SYNC_STATE_BYTES_MAX || memchr(text, 0, len))
		return -EINVAL;
	char *line = text, *nl;
	unsigned lineno = 0;
	GHashTable *snap = ewsd_sync_snapshot_new();
	for (; *line; line = nl + 1, lineno++) {
		nl = strchr(line, '\n');
		if (!nl) {
			rc = -EINVAL;	/* cut short */
			break;
		}
		*nl = 0;
		if (lineno == 0) {
			if (strcmp(line, MAGIC) != 0) {
				rc = -EINVAL;
				break;
			}
			continue;
		}
		g_autofree char *key = NULL;
		char *tab = lineno == 1 ? NULL : strrchr(line, '\t');
		if (tab)
			*tab = 0;
		key = g_strcompress(line);
		if (lineno == 1) {
			if (strcmp(key, scope) != 0) {
				rc = -ESTALE;
				break;
			}
			continue;
		}
		guint64 v;
		if (!tab || !g_ascii_string_to_unsigned(tab + 1, 16, 0,
							G_MAXUINT64, &v, NULL)) {
			rc = -EINVAL;
			break;
		}
		ewsd_sync_snapshot_set(snap, key, v);
	}
	if (rc == 0 && lineno < 2)
		rc = -EINVAL;
	if (rc < 0) {
		g_hash_table_unref(snap);
		return rc;
	}
	*snap_r = snap;
	return 0;
}

/*
 * What is kept, and the tally of it.  Every snapshot a client was given
 * could be asked for again, but a client only ever goes on from its
 * latest state (or repeats the one before, after a lost answer), so each
 * scope keeps its EWS_SYNC_STATES_PER_SCOPE most recently made or used,
 * and the whole directory at most files_max() files and
 * EWS_SYNC_STATE_TOTAL_BYTES bytes, the least recently used going first.
 * A client that presents a state that went is told
 * ErrorInvalidSyncStateData and starts over with a full sync.
 */
struct aged {
	char *scope_dir;		/* owned; name of its scope's directory */
	char *name;			/* owned; file name within it */
	struct timespec mtime;		/* made, or last used */
	guint64 size;
};

static struct {
	GMutex lock;
	bool ready;			/* the tally below was counted */
	guint files;			/* snapshots on disk */
	guint64 bytes;			/* their sizes together */
	gint64 last_scan;		/* monotonic seconds */
} kept;					/* all but lock protected by lock */

/* The overall number of snapshots kept: the tests of the bound lower it
 * through MAILFS_TEST_EWS_SYNC_STATES_MAX rather than making thousands. */
static guint files_max(void)
{
	const char *hook = getenv("MAILFS_TEST_EWS_SYNC_STATES_MAX");
	guint64 n = 0;

	if (hook && g_ascii_string_to_unsigned(hook, 10, 1,
					       EWS_SYNC_STATE_MAX, &n, NULL))
		return (guint)n;
	return EWS_SYNC_STATE_MAX;
}

static gint newest_first(gconstpointer a, gconstpointer b)
{
	const struct aged *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec > y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec > y->mtime.tv_nsec ? -1 : 1;
	return 0;
}

static gint by_scope_newest_first(gconstpointer a, gconstpointer b)
{
	const struct aged *x = a, *y = b;
	int c = strcmp(x->scope_dir, y->scope_dir);

	return c ? c : newest_first(a, b);
}

static void aged_clear(gpointer p)
{
	struct aged *a = p;

	g_free(a->scope_dir);
	g_free(a->name);
}

static bool is_scope_dir(const char *name)
{
	return strlen(name) == SCOPE_HEX &&
	       strspn(name, "0123456789abcdef") == SCOPE_HEX;
}

/* Drop one snapshot and take it off the tally.  Called with kept.lock
 * held. */
static void drop(int dfd, const struct aged *a)
{
	g_autofree char *rel = g_build_filename(a->scope_dir, a->name, NULL);

	if (unlinkat(dfd, rel, 0) != 0)
		return;
	kept.files -= MIN(kept.files, 1u);
	kept.bytes -= MIN(kept.bytes, a->size);
}

/* Add the snapshots of one scope's directory to `all`; remove what is
 * expired, and leftovers of writes: all of them at start (`at_start`),
 * later only those an hour old, which no save can still be writing. */
static void scan_scope(int dfd, const char *scope_dir, bool at_start,
		       GArray *all)
{
	time_t now = time(NULL);
	time_t expiry = now - (time_t)EWS_SYNC_STATE_TTL_DAYS * 86400;
	int fd = openat(dfd, scope_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
			O_NOFOLLOW);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat sb;
		bool tmp = strncmp(de->d_name, ".tmp-", 5) == 0;

		if (!tmp && strncmp(de->d_name, "s-", 2) != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW))
			continue;
		if (tmp) {
			if (at_start || sb.st_mtime < now - 3600)
				unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (sb.st_mtime < expiry || !S_ISREG(sb.st_mode)) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		struct aged a = { g_strdup(scope_dir), g_strdup(de->d_name),
				  sb.st_mtim, (guint64)sb.st_size };
		g_array_append_val(all, a);
	}
	closedir(d);
	if (at_start)
		unlinkat(dfd, scope_dir, AT_REMOVEDIR);	/* when empty */
}

/* Count what is on disk again and bring it within every bound; when over
 * the overall bounds, down to nine tenths of them, so that the next
 * scans are some saves away.  At start, also remove what an older layout
 * left (snapshots directly in the directory) and unfinished writes.
 * Called with kept.lock held. */
static void scan(const char *dir, bool at_start)
{
	g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(struct aged));
	DIR *d = opendir(dir);
	struct dirent *de;
	guint files_to = files_max();
	guint64 bytes_to = EWS_SYNC_STATE_TOTAL_BYTES;

	g_array_set_clear_func(all, aged_clear);
	kept.ready = true;
	kept.last_scan = g_get_monotonic_time() / G_USEC_PER_SEC;
	kept.files = 0;
	kept.bytes = 0;
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (is_scope_dir(de->d_name))
			scan_scope(dirfd(d), de->d_name, at_start, all);
		else if (at_start && (!strncmp(de->d_name, "s-", 2) ||
				      !strncmp(de->d_name, ".tmp-", 5)))
			unlinkat(dirfd(d), de->d_name, 0);
	}
	for (guint i = 0; i < all->len; i++) {
		kept.files++;
		kept.bytes += g_array_index(all, struct aged, i).size;
	}
	g_array_sort(all, by_scope_newest_first);
	for (guint i = 0, n = 0; i < all->len; i++) {
		struct aged *a = &g_array_index(all, struct aged, i);
		const struct aged *prev = i ? a - 1 : NULL;

		n = prev && !strcmp(prev->scope_dir, a->scope_dir) ? n + 1 : 1;
		if (n > EWS_SYNC_STATES_PER_SCOPE) {
			drop(dirfd(d), a);
			a->name[0] = 0;	/* gone: not dropped twice */
		}
	}
	if (kept.files > files_to || kept.bytes > bytes_to) {
		files_to -= files_to / 10;
		bytes_to -= bytes_to / 10;
		g_array_sort(all, newest_first);
		for (guint i = all->len; i-- > 0 &&
		     (kept.files > files_to || kept.bytes > bytes_to);) {
			const struct aged *a = &g_array_index(all, struct aged,
							      i);
			if (a->name[0])
				drop(dirfd(d), a);
		}
	}
	closedir(d);
}

/* Keep the newest snapshots of one scope.  Called with kept.lock held. */
static void prune_scope(const char *dir, const char *scope_dir)
{
	g_autoptr(GArray) mine = g_array_new(FALSE, FALSE,
					     sizeof(struct aged));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return;
	g_array_set_clear_func(mine, aged_clear);
	scan_scope(dfd, scope_dir, false, mine);
	g_array_sort(mine, newest_first);
	for (guint i = EWS_SYNC_STATES_PER_SCOPE; i < mine->len; i++)
		drop(dfd, &g_array_index(mine, struct aged, i));
	close(dfd);
}

/* Account a snapshot just written and keep every bound. */
static void account(const char *dir, const char *scope_dir, size_t size)
{
	gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;

	g_mutex_lock(&kept.lock);
	if (!kept.ready) {
		scan(dir, false);
	} else {
		kept.files++;
		kept.bytes += size;
	}
	prune_scope(dir, scope_dir);
	if (kept.files > files_max() ||
	    kept.bytes > EWS_SYNC_STATE_TOTAL_BYTES ||
	    now - kept.last_scan >= RESCAN_INTERVAL_S)
		scan(dir, false);
	g_mutex_unlock(&kept.lock);
}

void ewsd_sync_state_init(const char *store_root)
{
	g_autofree char *dir = state_dir(store_root);

	g_mutex_lock(&kept.lock);
	scan(dir, true);
	g_mutex_unlock(&kept.lock);
}

int ewsd_sync_state_save(const char *store_root, const char *scope,
			GHashTable *snap, char **state_r)
{
	g_autofree char *top = state_dir(store_root);
	g_autofree char *sdir = scope_dir_name(scope);
	g_autofree char *dir = g_build_filename(top, sdir, NULL);
	guchar raw[4 + TOKEN_BYTES] = PREFIX;
	GString *text = g_string_sized_new(64 + 48 * g_hash_table_size(snap));
	GHashTableIter iter;
	gpointer k, v;
	size_t size;
	int rc = file_mkdir_p(dir, 0700);

	if (rc < 0) {
		g_string_free(text, TRUE);
		return rc;
	}
	if (getrandom(raw + 4, TOKEN_BYTES, 0) != TOKEN_BYTES) {
		rc = -errno;
		g_string_free(text, TRUE);
		return rc ? rc : -EIO;
	}
	g_autofree char *esc = g_strescape(scope, NULL);
	g_string_append_printf(text, MAGIC "\n%s\n", esc);
	g_hash_table_iter_init(&iter, snap);
	while (g_hash_table_iter_next(&iter, &k, &v)) {
		g_autofree char *key = g_strescape(k, NULL);
		g_string_append_printf(text, "%s\t%" G_GINT64_MODIFIER "x\n",
				       key, *(guint64 *)v);
	}
	g_autofree char *state = g_base64_encode(raw, sizeof(raw));
	g_autofree char *file = token_file(state);
	g_autofree char *path = g_build_filename(dir, file, NULL);
	g_autofree char *tmp = g_strdup_printf("%s/.tmp-%s", dir, file);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
	} else {
		rc = file_write_all(fd, text->str, text->len);
		if (close(fd) != 0 && rc == 0)
			rc = -errno;
		/* no fsync: a snapshot lost in a crash only costs its
		   client a full sync */
		if (rc == 0 && rename(tmp, path) != 0)
			rc = -errno;
		if (rc < 0)
			unlink(tmp);
	}
	size = text->len;
	g_string_free(text, TRUE);
	if (rc < 0)
		return rc;
	account(top, sdir, size);
	*state_r = g_steal_pointer(&state);
	return 0;
}
