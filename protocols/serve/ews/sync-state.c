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
 * client that repeats a request with an old state gets the same answer.
 */
#include "sync-state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
#define SWEEP_INTERVAL_S 60

static GMutex sweep_lock;
static gint64 last_sweep;	/* protected by sweep_lock */

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

	if (!file)
		return -EINVAL;
	path = g_build_filename(dir, file, NULL);
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

struct aged {
	char *name;
	time_t mtime;
};

static gint oldest_first(gconstpointer a, gconstpointer b)
{
	const struct aged *x = a, *y = b;

	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

static void aged_clear(gpointer p)
{
	g_free(((struct aged *)p)->name);
}

/* Remove expired snapshots, and the oldest while there are too many.  At
 * most once a minute: a sync must not pay for listing the directory each
 * time. */
static void sweep(const char *dir)
{
	gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
	time_t expiry = time(NULL) - (time_t)EWS_SYNC_STATE_TTL_DAYS * 86400;
	g_autoptr(GArray) kept = NULL;
	DIR *d;
	struct dirent *de;

	g_mutex_lock(&sweep_lock);
	if (last_sweep && now - last_sweep < SWEEP_INTERVAL_S) {
		g_mutex_unlock(&sweep_lock);
		return;
	}
	last_sweep = now;
	g_mutex_unlock(&sweep_lock);
	d = opendir(dir);
	if (!d)
		return;
	kept = g_array_new(FALSE, FALSE, sizeof(struct aged));
	g_array_set_clear_func(kept, aged_clear);
	while ((de = readdir(d))) {
		struct stat sb;
		if (strncmp(de->d_name, "s-", 2) != 0 &&
		    strncmp(de->d_name, ".tmp-", 5) != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW))
			continue;
		if (sb.st_mtime < expiry) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (de->d_name[0] == 's') {
			struct aged a = { g_strdup(de->d_name), sb.st_mtime };
			g_array_append_val(kept, a);
		}
	}
	if (kept->len > EWS_SYNC_STATE_MAX) {
		g_array_sort(kept, oldest_first);
		for (guint i = 0; i < kept->len - EWS_SYNC_STATE_MAX; i++)
			unlinkat(dirfd(d), g_array_index(kept, struct aged,
							 i).name, 0);
	}
	closedir(d);
}

int ewsd_sync_state_save(const char *store_root, const char *scope,
			GHashTable *snap, char **state_r)
{
	g_autofree char *dir = state_dir(store_root);
	guchar raw[4 + TOKEN_BYTES] = PREFIX;
	GString *text = g_string_sized_new(64 + 48 * g_hash_table_size(snap));
	GHashTableIter iter;
	gpointer k, v;
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
	g_string_free(text, TRUE);
	if (rc < 0)
		return rc;
	sweep(dir);
	*state_r = g_steal_pointer(&state);
	return 0;
}
