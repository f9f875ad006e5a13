/*
 * spool.c - unnamed temporary files for messages on their way in.
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <unistd.h>

int serve_spool_open(void)
{
	const char *dir = g_get_tmp_dir();
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	/* file systems without O_TMPFILE */
	g_autofree char *path = g_build_filename(dir, "mailfs-spool-XXXXXX",
						 NULL);
	fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}
