/*
 * spool.c - unnamed temporary files for messages on their way in.
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <unistd.h>

#include "fileutil.h"

int serve_spool_dir(const char *store_root, char **dir_r)
{
	char *dir = g_build_filename(store_root, ".mailfs-serve", "spool",
				     NULL);
	int rc = file_mkdir_p(dir, 0700);

	if (rc < 0) {
		g_free(dir);
		return rc;
	}
	*dir_r = dir;
	return 0;
}

int serve_spool_open(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	/* file systems without O_TMPFILE */
	g_autofree char *path = g_build_filename(dir, "spool-XXXXXX", NULL);
	fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}
