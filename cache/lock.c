/*
 * lock.c - see lock.h.
 */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"

/* More than any owner line needs; a longer file is not ours to trust. */
#define OWNER_MAX 512

struct cache_lock {
	int fd;			/* owned; holds the flock */
};

/*
 * Who holds the lock, as its file says, or NULL when it says nothing
 * usable: the holder may be between truncating the file and writing it,
 * or may have died half-way through, so only a whole line counts, and
 * what it holds is made printable before anyone shows it.  Caller owns
 * the result.
 */
static char *read_owner(int fd)
{
	char buf[OWNER_MAX];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *nl;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	nl = memchr(buf, '\n', (size_t)n);
	if (!nl || nl == buf)
		return NULL;
	*nl = '\0';
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	return g_strdup(buf);
}

int cache_lock_set_owner(struct cache_lock *lock, const char *owner)
{
	g_autofree char *line = g_strdup_printf("%s (pid %ld)\n", owner,
						(long)getpid());
	size_t len = strlen(line);

	if (ftruncate(lock->fd, 0) < 0)
		return -errno;
	ssize_t n = pwrite(lock->fd, line, len, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int cache_dir_check(const char *dir, GError **err)
{
	struct stat sb;
	uid_t me = geteuid();

	/* stat(), not lstat(): a cache moved elsewhere through a link is
	 * fine, and it is the directory written to that must be ours */
	if (stat(dir, &sb) < 0) {
		int rc = -errno;
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
			    "cache %s: %s", dir, g_strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(sb.st_mode)) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOTDIR,
			    "cache %s is not a directory", dir);
		return -ENOTDIR;
	}
	if (sb.st_uid != me) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_PERM,
			    "cache %s is owned by uid %u, not by this user "
			    "(uid %u); another user could change what the "
			    "mount shows and sends: give it to this user "
			    "(chown) or use another cache_dir", dir,
			    (unsigned)sb.st_uid, (unsigned)me);
		return -EPERM;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_PERM,
			    "cache %s can be written by group or others "
			    "(mode %04o); chmod 700 it", dir,
			    (unsigned)(sb.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int cache_lock_take(const char *dir, const char *owner,
		    struct cache_lock **lock_r, GError **err)
{
	g_autofree char *path = g_build_filename(dir, "lock", NULL);
	int fd, rc;

	*lock_r = NULL;
	if ((rc = file_mkdir_p(dir, 0700)) < 0) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
			    "cache %s: %s", dir, g_strerror(-rc));
		return rc;
	}
	if ((rc = cache_dir_check(dir, err)) < 0)
		return rc;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
			    "cache %s: %s", path, g_strerror(-rc));
		return rc;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (rc == -EBUSY) {
			g_autofree char *who = read_owner(fd);
			g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED,
				    "its cache %s is in use by %s", dir,
				    who ? who : "another mailfs process");
		} else {
			g_set_error(err, G_FILE_ERROR,
				    g_file_error_from_errno(-rc),
				    "cache %s: %s", path, g_strerror(-rc));
		}
		close(fd);
		return rc;
	}
	struct cache_lock *lock = g_new0(struct cache_lock, 1);
	lock->fd = fd;
	/* the owner line is only for messages: the lock is taken already */
	cache_lock_set_owner(lock, owner);
	*lock_r = lock;
	return 0;
}

void cache_lock_release(struct cache_lock **lock)
{
	if (!*lock)
		return;
	close((*lock)->fd);
	g_free(*lock);
	*lock = NULL;
}
