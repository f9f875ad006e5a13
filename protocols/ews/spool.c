/*
 * spool.c - message content that sync fetched to learn its exact
 * size, kept until fetch() hands it over, so that nothing is downloaded
 * twice (docs/EWS.md).
 *
 * One file per item under work_dir/ews-spool, named by the mount id
 * (which is a valid file name by construction), written to a temporary
 * name and renamed, so a crash leaves whole files or none.  Taking a file
 * opens and unlinks it: the caller's descriptor keeps the bytes alive.
 *
 * Bound: the files held never pass the account's spool_size.  A body
 * that would pass it is not spooled at all; fetch() then downloads it
 * again, so the bound costs a download, never a message.  The count is
 * kept under spool_lock, with a body's bytes reserved before it is
 * written, so that syncs running side by side cannot both take the last
 * room.  What the spool holds when the account is opened is left from an
 * earlier run (a crash, or bodies never read) and is removed: nothing
 * says the cache still wants it, and all of it can be fetched again.
 */
#include "ewsc-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

static char *spool_path(struct mfs_backend *be, const char *id)
{
	return g_build_filename(be->spool_dir, id, NULL);
}

/* Room for `len` bytes more, taken when there is.  spool_lock held. */
static bool reserve_locked(struct mfs_backend *be, size_t len)
{
	if (len > be->cfg.spool_max ||
	    be->spool_bytes > be->cfg.spool_max - len)
		return false;
	be->spool_bytes += len;
	return true;
}

static void release_locked(struct mfs_backend *be, uint64_t len)
{
	be->spool_bytes -= MIN(len, be->spool_bytes);
}

/* Unlink `path`, giving back its bytes when it was there.  spool_lock
 * held.  0 or -errno. */
static int unlink_locked(struct mfs_backend *be, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (unlink(path) < 0)
		return -errno;
	release_locked(be, (uint64_t)st.st_size);
	return 0;
}

int ewsc_spool_put(struct mfs_backend *be, const char *id, const void *buf,
		  size_t len)
{
	g_autofree char *path = spool_path(be, id);
	g_autofree char *tmp = g_strconcat(path, ".part", NULL);
	bool room;
	int rc;

	g_mutex_lock(&be->spool_lock);
	room = reserve_locked(be, len);
	g_mutex_unlock(&be->spool_lock);
	if (!room) {
		/* a body that was spooled before under this id is stale */
		ewsc_spool_drop(be, id);
		log_debug(LOG_PROTO, "ews: %s: the spool is full (spool_size "
			  "%" G_GUINT64_FORMAT " bytes); a body of %zu bytes "
			  "is fetched again when read", be->cfg.name,
			  (guint64)be->cfg.spool_max, len);
		return 0;
	}
	rc = file_mkdir_p(be->spool_dir, 0700);
	int fd = rc < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC |
				    O_CLOEXEC, 0600);
	if (rc == 0 && fd < 0)
		rc = -errno;
	if (fd >= 0) {
		rc = file_write_all(fd, buf, len);
		if (close(fd) < 0 && rc == 0)
			rc = -errno;
	}
	g_mutex_lock(&be->spool_lock);
	if (rc == 0) {
		/* a file of the same id is replaced: its bytes go */
		unlink_locked(be, path);
		if (rename(tmp, path) < 0)
			rc = -errno;
	}
	if (rc < 0) {
		unlink(tmp);
		release_locked(be, len);
	}
	g_mutex_unlock(&be->spool_lock);
	return rc;
}

int ewsc_spool_take(struct mfs_backend *be, const char *id, int *fd_r)
{
	g_autofree char *path = spool_path(be, id);
	struct stat st;
	int fd, rc = 0;

	g_mutex_lock(&be->spool_lock);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		rc = -errno;
	else if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (unlink(path) < 0)
		rc = -errno;	/* taken meanwhile: not ours to count */
	else
		release_locked(be, (uint64_t)st.st_size);
	g_mutex_unlock(&be->spool_lock);
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	*fd_r = fd;
	return 0;
}

void ewsc_spool_drop(struct mfs_backend *be, const char *id)
{
	g_autofree char *path = spool_path(be, id);

	g_mutex_lock(&be->spool_lock);
	unlink_locked(be, path);
	g_mutex_unlock(&be->spool_lock);
}

void ewsc_spool_clean(struct mfs_backend *be)
{
	GDir *dir = g_dir_open(be->spool_dir, 0, NULL);
	const char *name;
	unsigned left = 0;

	g_mutex_lock(&be->spool_lock);
	be->spool_bytes = 0;
	g_mutex_unlock(&be->spool_lock);
	if (!dir)
		return;
	while ((name = g_dir_read_name(dir))) {
		g_autofree char *path = g_build_filename(be->spool_dir, name,
							 NULL);
		if (unlink(path) < 0 && errno != ENOENT)
			left++;
	}
	g_dir_close(dir);
	if (left)
		log_warnx("%s: %u files of %s could not be removed",
			  be->cfg.name, left, be->spool_dir);
}

int ewsc_spool_tmpfile(struct mfs_backend *be, const void *buf, size_t len,
		      int *fd_r)
{
	int rc = file_mkdir_p(be->spool_dir, 0700);

	if (rc < 0)
		return rc;
	int fd = open(be->spool_dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_autofree char *tmpl = g_build_filename(be->spool_dir,
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
