/*
 * fileutil.h - small POSIX file helpers that retry on EINTR and short counts.
 * May not call anything of ours outside common/.  All return 0 (or a count)
 * on success and -errno on failure.
 */
#ifndef MFS_FILEUTIL_H
#define MFS_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

int file_write_all(int fd, const void *buf, size_t len);

/* Copy everything from `in` (from offset 0) to `out` (at its offset). */
int file_copy_fd(int in, int out);

/* Read at most `max` bytes from offset 0.  Caller owns *buf_r (g_free);
 * it is NUL-terminated beyond *len_r. */
int file_read_head(int fd, size_t max, char **buf_r, size_t *len_r);

/* fsync a directory, so that a rename or create in it is durable. */
int file_fsync_dir(const char *dir);

/* mkdir -p with `mode` for the directories it creates. */
int file_mkdir_p(const char *path, mode_t mode);

#endif
