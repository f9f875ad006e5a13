/*
 * spool.c - see spool.h (and docs/EWS.md for why EWS needs one).
 *
 * One file per item in the spool's directory, named by the mount id
 * (which is a valid file name by construction), written to a temporary
 * name and renamed, so a crash leaves whole files or none.  Taking a file
 * opens and unlinks it: the caller's descriptor keeps the bytes alive.
 *
 * Bound: the files held never pass the account's spool_size.  A body
 * that would pass it is not spooled at all; fetch() then downloads it
 * again, so the bound costs a download, never a message.  The count is
 * kept under the lock, with a body's bytes reserved before it is
 * written, so that syncs running side by side cannot both take the last
 * room.  What the spool holds when the account is opened is left from an
 * earlier run (a crash, or bodies never read) and is removed: nothing
 * says the cache still wants it, and all of it can be fetched again.
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-value.h"
#include "fileutil.h"
#include "log.h"

struct mfs_spool {
	char *account;			/* owned */
	char *dir;			/* owned */
	uint64_t max;			/* bytes the files may hold */
	GMutex lock;			/* the files and the count */
	uint64_t bytes;			/* bytes in the files; lock */
};

static char *spool_path(struct mfs_spool *s, const char *id)
{
	return g_build_filename(s->dir, id, NULL);
}

/* Room for `len` bytes more, taken when there is.  The lock held. */
static bool reserve_locked(struct mfs_spool *s, size_t len)
{
	if (len > s->max ||
	    s->bytes > s->max - len)
		return false;
	s->bytes += len;
	return true;
}

static void release_locked(struct mfs_spool *s, uint64_t len)
{
	s->bytes -= MIN(len, s->bytes);
}

/* Unlink `path`, giving back its bytes when it was there.  spool_lock
 * held.  0 or -errno. */
static int unlink_locked(struct mfs_spool *s, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (unlink(path) < 0)
		return -errno;
	release_locked(s, (uint64_t)st.st_size);
	return 0;
}

int mfs_spool_put(struct mfs_spool *s, const char *id, const void *buf,
		  size_t len)
{
	g_autofree char *path = spool_path(s, id);
	g_autofree char *tmp = g_strconcat(path, ".part", NULL);
	bool room;
	int rc;

	g_mutex_lock(&s->lock);
	room = reserve_locked(s, len);
	g_mutex_unlock(&s->lock);
	if (!room) {
		/* a body that was spooled before under this id is stale */
		mfs_spool_drop(s, id);
		log_debug(LOG_PROTO, "%s: the spool is full (spool_size "
			  "%" G_GUINT64_FORMAT " bytes); a body of %zu bytes "
			  "is fetched again when read", s->account,
			  (guint64)s->max, len);
		return 0;
	}
	rc = file_mkdir_p(s->dir, 0700);
	int fd = rc < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC |
				    O_CLOEXEC, 0600);
	if (rc == 0 && fd < 0)
		rc = -errno;
	if (fd >= 0) {
		rc = file_write_all(fd, buf, len);
		if (close(fd) < 0 && rc == 0)
			rc = -errno;
	}
	g_mutex_lock(&s->lock);
	if (rc == 0) {
		/* a file of the same id is replaced: its bytes go */
		unlink_locked(s, path);
		if (rename(tmp, path) < 0)
			rc = -errno;
	}
	if (rc < 0) {
		unlink(tmp);
		release_locked(s, len);
	}
	g_mutex_unlock(&s->lock);
	return rc;
}

int mfs_spool_take(struct mfs_spool *s, const char *id, int *fd_r)
{
	g_autofree char *path = spool_path(s, id);
	struct stat st;
	int fd, rc = 0;

	g_mutex_lock(&s->lock);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		rc = -errno;
	else if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (unlink(path) < 0)
		rc = -errno;	/* taken meanwhile: not ours to count */
	else
		release_locked(s, (uint64_t)st.st_size);
	g_mutex_unlock(&s->lock);
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	*fd_r = fd;
	return 0;
}

void mfs_spool_drop(struct mfs_spool *s, const char *id)
{
	g_autofree char *path = spool_path(s, id);

	g_mutex_lock(&s->lock);
	unlink_locked(s, path);
	g_mutex_unlock(&s->lock);
}

void mfs_spool_clean(struct mfs_spool *s)
{
	GDir *dir = g_dir_open(s->dir, 0, NULL);
	const char *name;
	unsigned left = 0;

	g_mutex_lock(&s->lock);
	s->bytes = 0;
	g_mutex_unlock(&s->lock);
	if (!dir)
		return;
	while ((name = g_dir_read_name(dir))) {
		g_autofree char *path = g_build_filename(s->dir, name,
							 NULL);
		if (unlink(path) < 0 && errno != ENOENT)
			left++;
	}
	g_dir_close(dir);
	if (left)
		log_warnx("%s: %u files of %s could not be removed",
			  s->account, left, s->dir);
}

int mfs_spool_tmpfile(struct mfs_spool *s, const void *buf, size_t len,
		      int *fd_r)
{
	int rc = file_mkdir_p(s->dir, 0700);

	if (rc < 0)
		return rc;
	int fd = open(s->dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_autofree char *tmpl = g_build_filename(s->dir,
							 ".fetch-XXXXXX", NULL);
		fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		unlink(tmpl);
	}
	if ((rc = file_write_all(fd, buf, len)) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		rc = rc < 0 ? rc : -errno;
		close(fd);
		return rc;
	}
	*fd_r = fd;
	return 0;
}

struct mfs_spool *mfs_spool_new(const char *account, const char *dir,
				uint64_t max)
{
	struct mfs_spool *s = g_new0(struct mfs_spool, 1);

	s->account = g_strdup(account);
	s->dir = g_strdup(dir);
	s->max = max;
	g_mutex_init(&s->lock);
	return s;
}

void mfs_spool_free(struct mfs_spool **sp)
{
	struct mfs_spool *s = *sp;

	if (!s)
		return;
	g_mutex_clear(&s->lock);
	g_free(s->account);
	g_free(s->dir);
	g_free(s);
	*sp = NULL;
}

int mfs_spool_size_key(GKeyFile *kf, const char *g, uint64_t *out,
		       GError **err)
{
	static const char units[] = "KMGT";
	g_autofree char *v = config_value(kf, g, "spool_size");
	const char *p = v, *u;
	uint64_t n = 0;

	*out = MFS_SPOOL_DEFAULT_MAX;
	if (!v)
		return 0;
	for (; g_ascii_isdigit(*p); p++) {
		if (n > (UINT64_MAX - 9) / 10)
			goto bad;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (p == v)
		goto bad;
	if (*p && (u = strchr(units, g_ascii_toupper(*p)))) {
		for (const char *k = units; k <= u; k++) {
			if (n > UINT64_MAX / 1024)
				goto bad;
			n *= 1024;
		}
		p++;
	}
	if (*p == 'B' || *p == 'b')
		p++;
	if (*p)
		goto bad;
	*out = n;
	return 0;
bad:
	return config_invalid(err, "spool_size = %s: expected a size such as "
			      "512M or 2G", v);
}
