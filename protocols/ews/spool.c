/*
 * spool.c - message content that sync fetched to learn its exact
 * size, kept until fetch() hands it over, so that nothing is downloaded
 * twice (docs/EWS.md).
 *
 * One file per item under work_dir/ews-spool, named by the mount id
 * (which is a valid file name by construction), written to a temporary
 * name and renamed, so a crash leaves whole files or none.  Taking a file
 * opens and unlinks it: the caller's descriptor keeps the bytes alive.
 */
#include "ewsc-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"

static char *spool_path(struct mfs_backend *be, const char *id)
{
	return g_build_filename(be->spool_dir, id, NULL);
}

int ewsc_spool_put(struct mfs_backend *be, const char *id, const void *buf,
		  size_t len)
{
	g_autofree char *path = spool_path(be, id);
	g_autofree char *tmp = g_strconcat(path, ".part", NULL);
	int rc = file_mkdir_p(be->spool_dir, 0700);

	if (rc < 0)
		return rc;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = file_write_all(fd, buf, len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int ewsc_spool_take(struct mfs_backend *be, const char *id, int *fd_r)
{
	g_autofree char *path = spool_path(be, id);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	unlink(path);
	*fd_r = fd;
	return 0;
}

void ewsc_spool_drop(struct mfs_backend *be, const char *id)
{
	g_autofree char *path = spool_path(be, id);

	unlink(path);
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
