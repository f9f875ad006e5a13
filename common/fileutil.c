/*
 * fileutil.c - see fileutil.h.
 */
#include "fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

int file_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_copy_fd(int in, int out)
{
	char buf[65536];
	off_t off = 0;

	for (;;) {
		ssize_t n = pread(in, buf, sizeof(buf), off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		int rc = file_write_all(out, buf, (size_t)n);
		if (rc < 0)
			return rc;
		off += n;
	}
}

int file_read_head(int fd, size_t max, char **buf_r, size_t *len_r)
{
	char *buf = g_malloc(max + 1);
	size_t got = 0;

	while (got < max) {
		ssize_t n = pread(fd, buf + got, max - got, (off_t)got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int rc = -errno;
			g_free(buf);
			return rc;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*buf_r = buf;
	*len_r = got;
	return 0;
}

int file_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int file_mkdir_p(const char *path, mode_t mode)
{
	if (g_mkdir_with_parents(path, (int)mode) != 0)
		return -errno;
	return 0;
}
