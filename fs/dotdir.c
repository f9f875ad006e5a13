/*
 * dotdir.c - the dot tree: a name starting with '.' at the top of the mount
 * (.notmuch, .mu, .mbsyncstate; never .mailfs) is a plain directory or file
 * of this machine, kept in opt.local_dir, and nothing in it reaches the
 * store: indexers keep their databases there (notmuch's default layout is
 * MAILROOT/.notmuch/xapian), and those are local data, not mail.
 *
 * Each call is the POSIX call of the same name, on the model of libfuse's
 * example/passthrough_ll.c: a node keeps an O_PATH descriptor of its file,
 * every call works relative to such a descriptor with one name that is
 * never "." or ".." and holds no '/', and a last component that is a
 * symbolic link is never followed, so no call reaches outside
 * opt.local_dir.  (The kernel follows symbolic links itself, as on any
 * disk.)  Locks, fcntl and flock alike, are the kernel's: the mount has no
 * lock handlers, so the kernel keeps them locally, which is all a file seen
 * by this machine alone needs (Xapian locks its database).
 *
 * Inode numbers are the file's own st_ino with FS_DOT_INO_BIT set: the
 * same after a remount, and apart from the mount's other numbers, which
 * keep that bit clear.  A file is one node whatever its names (hard links,
 * renames); nodes are found by device and inode number.
 *
 * Names beginning ".mailfs" at the top belong to mailfs: the control
 * directory, and in an embedded store the embedded server's state
 * (.mailfs-serve/) and the store's probe file.  They are hidden, not shown
 * read-only, and none can be made: a user's `rm -rf MOUNT/.[!.]*` or an
 * indexer walking the mount must not reach the server's state, and nothing
 * a user makes can clash with a name mailfs keeps there later.
 */
#include "fs-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <linux/limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

#define RESERVED_PREFIX ".mailfs"

/* Enough for "/proc/self/fd/" and any int. */
#define PROC_NAME_MAX 32

/* Whether `name` at the top of the mount is one of the mount's own
 * (".mailfs", ".mailfs-serve" and the like). */
static bool reserved(const char *name)
{
	return g_str_has_prefix(name, RESERVED_PREFIX);
}

/* A name that stays inside the directory it is looked up in. */
static bool name_ok(const char *name)
{
	return *name && strcmp(name, ".") && strcmp(name, "..") &&
	       !strchr(name, '/');
}

/* The /proc name of descriptor `fd`: what an O_PATH descriptor cannot do
 * (chmod, truncate, open, link) is done through it. */
static void proc_name(int fd, char buf[PROC_NAME_MAX])
{
	g_snprintf(buf, PROC_NAME_MAX, "/proc/self/fd/%d", fd);
}

int fs_dot_open(struct fs *fs)
{
	const char *dir = fs->opt.local_dir;
	int rc = file_mkdir_p(dir, 0700);
	struct rlimit rl;

	/* a descriptor for each dot-tree file the kernel remembers: a
	 * `find` through a large tree must not run out of them */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("raising the limit of open files");
	}

	if (rc == 0) {
		fs->dot_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		rc = fs->dot_fd < 0 ? -errno : 0;
	}
	if (rc < 0)
		log_warnx("local directory %s: %s", dir, g_strerror(-rc));
	return rc;
}

void fs_dot_close(struct fs *fs)
{
	if (fs->dot_fd >= 0)
		close(fs->dot_fd);
	fs->dot_fd = -1;
}

int fs_dot_place(struct fs *fs, struct fs_node *parent, const char *name,
		 int *dirfd_r)
{
	if (parent->type == FS_N_ROOT) {
		if (name[0] != '.')
			return 0;
		if (reserved(name))
			return -EPERM;
		*dirfd_r = fs->dot_fd;
	} else if (parent->type == FS_N_DOT) {
		*dirfd_r = parent->dot_fd;
	} else {
		return 0;
	}
	if (!name_ok(name))
		return -EINVAL;
	if (fs->opt.read_only)
		return -EROFS;
	return 1;
}

/*
 * The node of the file `fd` (an O_PATH descriptor, taken over: the node
 * keeps it, or it is closed when the file has a node already).
 */
static struct fs_node *node_for(struct fs *fs, int fd, const struct stat *sb)
{
	fuse_ino_t ino = FS_DOT_INO_BIT |
			 ((uint64_t)sb->st_ino & ~FS_DOT_INO_BIT);
	struct fs_node *n;

	while ((n = fs_node_find(fs, ino))) {
		if (n->type == FS_N_DOT && n->dot_dev == sb->st_dev &&
		    n->dot_ino == sb->st_ino) {
			close(fd);
			return n;
		}
		/* the same low bits on another device: move along */
		ino = FS_DOT_INO_BIT | ((ino + 1) & ~FS_DOT_INO_BIT);
	}
	n = g_new0(struct fs_node, 1);
	n->ino = ino;
	n->type = FS_N_DOT;
	n->dot_fd = fd;
	n->dot_dev = sb->st_dev;
	n->dot_ino = sb->st_ino;
	g_hash_table_insert(fs->nodes, GUINT_TO_POINTER(ino), n);
	return n;
}

static int lookup_at(struct fs *fs, int dirfd, const char *name,
		     struct fs_node **node_r)
{
	struct stat sb;
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", &sb, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*node_r = node_for(fs, fd, &sb);
	return 0;
}

int fs_dot_lookup(struct fs *fs, struct fs_node *parent, const char *name,
		  struct fs_node **node_r)
{
	int dirfd;

	if (parent->type == FS_N_ROOT) {
		if (name[0] != '.' || reserved(name))
			return -ENOENT;
		dirfd = fs->dot_fd;
	} else if (parent->type == FS_N_DOT) {
		dirfd = parent->dot_fd;
	} else {
		return -ENOENT;
	}
	if (!name_ok(name))
		return -ENOENT;
	return lookup_at(fs, dirfd, name, node_r);
}

int fs_dot_attr(struct fs_node *node, struct stat *st)
{
	if (fstatat(node->dot_fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	st->st_ino = node->ino;
	return 0;
}

int fs_dot_list(struct fs *fs, struct fs_node *dir, GPtrArray *names)
{
	int fd = openat(dir ? dir->dot_fd : fs->dot_fd, ".",
			O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;
	int rc;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	for (errno = 0; (de = readdir(d)); errno = 0) {
		if (!name_ok(de->d_name))
			continue;
		/* at the top, the rest are the store's folders */
		if (!dir && (de->d_name[0] != '.' ||
			     reserved(de->d_name)))
			continue;
		g_ptr_array_add(names, g_strdup(de->d_name));
	}
	rc = errno ? -errno : 0;
	closedir(d);
	return rc;
}

int fs_dot_setattr(struct fs *fs, struct fs_node *node, int fd,
		   const struct stat *attr, int to_set)
{
	const int times = FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			  FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW;
	char proc[PROC_NAME_MAX];
	struct stat sb;
	bool symlink;

	if (fs->opt.read_only)
		return -EROFS;
	if (fstatat(node->dot_fd, "", &sb, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	symlink = S_ISLNK(sb.st_mode);
	proc_name(node->dot_fd, proc);
	if (to_set & FUSE_SET_ATTR_MODE) {
		/* Linux keeps no mode on a symbolic link */
		if (symlink)
			return -EOPNOTSUPP;
		if ((fd >= 0 ? fchmod(fd, attr->st_mode)
			     : chmod(proc, attr->st_mode)) != 0)
			return -errno;
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid
							 : (uid_t)-1;
		gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid
							 : (gid_t)-1;
		if (fchownat(node->dot_fd, "", uid, gid,
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
			return -errno;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (symlink)
			return -EINVAL;
		if ((fd >= 0 ? ftruncate(fd, attr->st_size)
			     : truncate(proc, attr->st_size)) != 0)
			return -errno;
	}
	if (to_set & times) {
		struct timespec ts[2];
		int rc;
		fs_setattr_times(attr, to_set, ts);
		if (fd >= 0)
			rc = futimens(fd, ts);
		else if (symlink)
			rc = utimensat(node->dot_fd, "", ts, AT_EMPTY_PATH);
		else
			rc = utimensat(AT_FDCWD, proc, ts, 0);
		if (rc != 0)
			return -errno;
	}
	return 0;
}

int fs_dot_mknod(struct fs *fs, int dirfd, const char *name, mode_t mode,
		 dev_t rdev, struct fs_node **node_r)
{
	if (mknodat(dirfd, name, mode, rdev) != 0)
		return -errno;
	return lookup_at(fs, dirfd, name, node_r);
}

int fs_dot_mkdir(struct fs *fs, int dirfd, const char *name, mode_t mode,
		 struct fs_node **node_r)
{
	if (mkdirat(dirfd, name, mode) != 0)
		return -errno;
	return lookup_at(fs, dirfd, name, node_r);
}

int fs_dot_symlink(struct fs *fs, const char *target, int dirfd,
		   const char *name, struct fs_node **node_r)
{
	if (symlinkat(target, dirfd, name) != 0)
		return -errno;
	return lookup_at(fs, dirfd, name, node_r);
}

int fs_dot_create(struct fs *fs, int dirfd, const char *name, mode_t mode,
		  int flags, struct fs_node **node_r, int *fd_r)
{
	int fd = openat(dirfd, name, flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			mode);
	int rc;

	if (fd < 0)
		return -errno;
	if ((rc = lookup_at(fs, dirfd, name, node_r)) < 0) {
		close(fd);
		return rc;
	}
	*fd_r = fd;
	return 0;
}

int fs_dot_reopen(struct fs_node *node, int flags, int *fd_r)
{
	char proc[PROC_NAME_MAX];
	struct stat sb;
	int fd;

	if (fstatat(node->dot_fd, "", &sb, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	/* the kernel follows a link before it opens: this is no path */
	if (S_ISLNK(sb.st_mode))
		return -ELOOP;
	proc_name(node->dot_fd, proc);
	fd = open(proc, (flags | O_CLOEXEC) & ~(O_CREAT | O_EXCL | O_NOCTTY));
	if (fd < 0)
		return -errno;
	*fd_r = fd;
	return 0;
}

int fs_dot_readlink(struct fs_node *node, char **target_r)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(node->dot_fd, "", buf, sizeof(buf));

	if (n < 0)
		return -errno;
	if ((size_t)n == sizeof(buf))
		return -ENAMETOOLONG;
	*target_r = g_strndup(buf, (gsize)n);
	return 0;
}

int fs_dot_remove(int dirfd, const char *name, bool dir)
{
	return unlinkat(dirfd, name, dir ? AT_REMOVEDIR : 0) == 0 ? 0 : -errno;
}

int fs_dot_rename(int from_dirfd, const char *name, int to_dirfd,
		  const char *newname, unsigned int flags)
{
	if (renameat2(from_dirfd, name, to_dirfd, newname, flags) != 0)
		return -errno;
	return 0;
}

int fs_dot_link(struct fs *fs, struct fs_node *src, int dirfd,
		const char *name, struct fs_node **node_r)
{
	char proc[PROC_NAME_MAX];

	/* linkat(AT_EMPTY_PATH) needs a capability; the /proc name not */
	proc_name(src->dot_fd, proc);
	if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) != 0)
		return -errno;
	return lookup_at(fs, dirfd, name, node_r);
}

int fs_dot_statfs(struct fs_node *node, struct statvfs *sv)
{
	return fstatvfs(node->dot_fd, sv) == 0 ? 0 : -errno;
}

/* The /proc name of `node`'s file for an xattr call, or -ENOTSUP for a
 * symbolic link: through /proc the call would reach its target. */
static int xattr_target(struct fs_node *node, char buf[PROC_NAME_MAX])
{
	struct stat sb;

	if (fstatat(node->dot_fd, "", &sb, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (S_ISLNK(sb.st_mode))
		return -ENOTSUP;
	proc_name(node->dot_fd, buf);
	return 0;
}

int fs_dot_getxattr(struct fs_node *node, const char *name, char **value_r,
		    size_t *len_r)
{
	char proc[PROC_NAME_MAX];
	int rc = xattr_target(node, proc);
	char *buf;
	ssize_t n;

	if (rc < 0)
		return rc;
	/* no value is longer: one call, no race with a growing one */
	buf = g_malloc(XATTR_SIZE_MAX);
	n = getxattr(proc, name, buf, XATTR_SIZE_MAX);
	if (n < 0) {
		rc = -errno;
		g_free(buf);
		return rc;
	}
	*value_r = buf;
	*len_r = (size_t)n;
	return 0;
}

int fs_dot_listxattr(struct fs_node *node, char **list_r, size_t *len_r)
{
	char proc[PROC_NAME_MAX];
	int rc = xattr_target(node, proc);
	char *buf;
	ssize_t n;

	if (rc == -ENOTSUP) {
		/* a symbolic link shows none */
		*list_r = NULL;
		*len_r = 0;
		return 0;
	}
	if (rc < 0)
		return rc;
	buf = g_malloc(XATTR_LIST_MAX);
	n = listxattr(proc, buf, XATTR_LIST_MAX);
	if (n < 0) {
		rc = -errno;
		g_free(buf);
		return rc;
	}
	*list_r = buf;
	*len_r = (size_t)n;
	return 0;
}

int fs_dot_setxattr(struct fs *fs, struct fs_node *node, const char *name,
		    const char *value, size_t size, int flags)
{
	char proc[PROC_NAME_MAX];
	int rc = fs->opt.read_only ? -EROFS : xattr_target(node, proc);

	if (rc < 0)
		return rc;
	return setxattr(proc, name, value, size, flags) == 0 ? 0 : -errno;
}

int fs_dot_removexattr(struct fs *fs, struct fs_node *node, const char *name)
{
	char proc[PROC_NAME_MAX];
	int rc = fs->opt.read_only ? -EROFS : xattr_target(node, proc);

	if (rc < 0)
		return rc;
	return removexattr(proc, name) == 0 ? 0 : -errno;
}
