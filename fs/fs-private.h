/*
 * fs-private.h - state of the mount, shared by the files of fs/ only.
 *
 * The mount shows a view of the store: folders become directories (a mail
 * folder holds cur/, new/, tmp/ and its sub-folders), items become files.
 * The view lives in memory and is refreshed from the store interface
 * (protocols/backend.h) when the store reports a change; getattr, lookup
 * and readdir are answered from it alone.  Files being written live in the
 * cache's staging area until they are complete, then become items.
 *
 * Layers: the FUSE handlers (ops.c) unpack a request, call one function of
 * the core and reply once.  The core knows no request nor reply: it takes
 * plain values and fills plain results (struct fs_entry, struct
 * fs_open_mode, struct stat), and reaches the store only through the
 * mfs_store_* wrappers.  Besides ops.c only session.c (the mount and its
 * loop) and view.c (the kernel cache invalidations) speak to libfuse.
 *
 * Locking: fs->lock protects the view, the node table and every staged file's
 * fields except its fd's content.  The core functions named for an
 * operation (fs_lookup, fs_open, fs_rename, ... below) take it for their
 * work and are called without it; the others are called with it held
 * unless their comment says otherwise.  A store call that may wait on a
 * server (storing, deleting, flagging or moving a message) runs with it
 * released and fs->store_lock held instead (see FS_UNLOCKED), so listing
 * and reading go on meanwhile and such changes reach the store one at a
 * time, in order.  Reads and writes of content happen outside both.
 * Kernel cache invalidations are never sent while it is held, nor from a
 * handler: they are queued and sent by the thread that saw the change.
 *
 * Ownership: every pointer field is owned unless marked borrowed.
 */
#ifndef MFS_FS_PRIVATE_H
#define MFS_FS_PRIVATE_H

#include <fuse_lowlevel.h>
#include <glib.h>
#include <stdbool.h>
#include <sys/statvfs.h>

#include "backend.h"
#include "fs.h"
#include "staging.h"

/* Where a file sits inside a folder's directory. */
enum fs_sub {
	FS_SUB_DIR = 0,		/* the folder directory itself (contacts) */
	FS_SUB_CUR,
	FS_SUB_NEW,
	FS_SUB_TMP,
};

struct fs_item {
	char *id;
	uint64_t size;
	int64_t date;
	uint64_t flags;
	char *name;		/* the file name shown */
	char *message_id;	/* NULL until read; "" when the item has none */
	GBytes *content;	/* a directory entry's vCard (a ref), else
				   NULL: the store has the bytes */
};

struct fs_staged {
	int refs;		/* the directory entry and each open handle */
	char *folder;		/* the folder it sits in now */
	enum fs_sub sub;
	char *name;
	char *path;		/* the staging file */
	int fd;
	int writers;		/* open handles that may write */
	char *replaces;		/* id of the item this rewrites, or NULL */
	fuse_ino_t ino;		/* its node, 0 when none */
	bool linked;		/* in its folder's staged table */
	bool committed;		/* content became an item */
	bool committing;	/* being stored right now */
	int error;		/* latched -errno, reported at flush/fsync */
};

struct fs_folder {
	char *path;
	enum mfs_folder_kind kind;	/* NONE: only holds sub-folders */
	GHashTable *items;		/* id -> struct fs_item */
	GHashTable *staged;		/* "<sub>/<name>" -> fs_staged (a ref) */
	char *state;			/* the store's sync state */
	bool synced;
	GHashTable *queries;		/* DIRECTORY: a query's name ("Smi*")
					   -> GPtrArray of the item ids it
					   found (owned), else NULL */
};

enum fs_node_type {
	FS_N_ROOT,
	FS_N_DIR,	/* a folder's directory */
	FS_N_SUB,	/* cur/, new/, tmp/ */
	FS_N_ITEM,
	FS_N_STAGED,
	FS_N_CTLDIR,	/* .mailfs/ */
	FS_N_CTLFILE,
	FS_N_QUERY,	/* the results of a directory lookup of "Smi*" */
	FS_N_DOT,	/* a file or directory of the dot tree (dotdir.c) */
};

/* Inode numbers of the dot tree have this bit set, every other one has it
 * clear, so the two ranges never meet (see dotdir.c). */
#define FS_DOT_INO_BIT (UINT64_C(1) << 63)

struct fs_node {
	fuse_ino_t ino;
	enum fs_node_type type;
	uint64_t nlookup;
	char *folder;		/* DIR: its path; SUB, ITEM, STAGED: folder */
	enum fs_sub sub;	/* SUB */
	char *key;		/* ITEM: id; CTLFILE: name */
	struct fs_staged *staged;	/* STAGED: a ref */
	int dot_fd;		/* DOT: an O_PATH descriptor of the file */
	dev_t dot_dev;		/* DOT: which file that is on disk */
	ino_t dot_ino;
};

/* One kernel cache invalidation, queued until the lock is released. */
struct fs_inval {
	fuse_ino_t parent;	/* with name: an entry; else inode `ino` */
	fuse_ino_t ino;
	char *name;
};

/* The requests the kernel sent, counted by kind for .mailfs/status: how
 * many round trips a pass over the mount costs. */
enum fs_req {
	FS_REQ_LOOKUP, FS_REQ_GETATTR, FS_REQ_OPEN, FS_REQ_READ,
	FS_REQ_RELEASE, FS_REQ_OPENDIR, FS_REQ_READDIR, FS_REQ_READDIRPLUS,
	FS_REQ_OTHER, FS_REQ_COUNT
};

struct fs {
	struct mfs_store *store;	/* borrowed */
	struct staging *staging;	/* borrowed */
	struct fuse_session *se;	/* borrowed */
	struct fs_options opt;		/* strings borrowed */
	GMutex lock;
	GMutex store_lock;		/* one store change at a time */
	GHashTable *folders;		/* path -> struct fs_folder; every
					   directory, implied parents too */
	GHashTable *nodes;		/* ino -> struct fs_node */
	GPtrArray *invals;		/* of struct fs_inval *, queued */
	GHashTable *handles;		/* every open struct fs_handle, so
					   none outlives the mount */
	GHashTable *dirhs;		/* every open directory's listing
					   (owned, freed by removal): the
					   kernel sends no releasedir after
					   a lazy unmount */
	int dot_fd;			/* O_PATH descriptor of
					   opt.local_dir: the dot tree's top */
	time_t started;
	uid_t uid;
	gid_t gid;
	gint requests[FS_REQ_COUNT];	/* atomic; by enum fs_req */
};

/*
 * Evaluate `call` (a store call that may wait on the network) with fs->lock
 * released and fs->store_lock held; called and returning with fs->lock
 * held.  Whatever was borrowed from the view may be gone afterwards: the
 * call's arguments must be copies, and callers look things up again.
 */
#define FS_UNLOCKED(fs, call) ({ \
	g_mutex_unlock(&(fs)->lock); \
	g_mutex_lock(&(fs)->store_lock); \
	int fs_rc__ = (call); \
	g_mutex_unlock(&(fs)->store_lock); \
	g_mutex_lock(&(fs)->lock); \
	fs_rc__; })

/* node.c */
fuse_ino_t fs_ino_for(enum fs_node_type type, const char *folder,
		      enum fs_sub sub, const char *key);
struct fs_node *fs_node_find(struct fs *fs, fuse_ino_t ino);
struct fs_node *fs_node_get(struct fs *fs, enum fs_node_type type,
			    const char *folder, enum fs_sub sub,
			    const char *key, struct fs_staged *st);
void fs_node_forget(struct fs *fs, fuse_ino_t ino, uint64_t n);
void fs_node_drop_if_unused(struct fs *fs, struct fs_node *node);
/* The same by number, for a node that may have gone meanwhile. */
void fs_node_drop_ino(struct fs *fs, fuse_ino_t ino);
void fs_nodes_rename_folder(struct fs *fs, const char *from, const char *to);
void fs_node_free(gpointer p);

/* view.c */
struct fs_folder *fs_folder_find(struct fs *fs, const char *path);
struct fs_item *fs_item_find_name(struct fs_folder *f, enum fs_sub sub,
				  const char *name);
enum fs_sub fs_item_sub(const struct fs_folder *f, const struct fs_item *it);
struct fs_item *fs_item_put(struct fs_folder *f, const struct mfs_item *mi);
void fs_item_free(gpointer p);
int fs_view_load(struct fs *fs);
void fs_view_free(struct fs *fs);
void fs_view_refresh_folders(struct fs *fs);
void fs_view_sync(struct fs *fs, struct fs_folder *f);
void fs_view_rename_folder(struct fs *fs, const char *from, const char *to);
void fs_view_remove_folder(struct fs *fs, const char *path);
struct fs_folder *fs_view_add_folder(struct fs *fs, const char *path,
				     enum mfs_folder_kind kind);
void fs_view_queue_inval(struct fs *fs, fuse_ino_t parent, const char *name,
			 fuse_ino_t ino);
void fs_view_send_invals(struct fs *fs);
void fs_on_store_change(const char *folder, void *data);
char *fs_join(const char *parent, const char *name);
int fs_errno(int rc);
bool fs_path_under(const char *path, const char *top);
const char *fs_sub_name(enum fs_sub sub);
/* Read an item's Message-ID into the view; takes fs->lock itself, so call
 * it without.  *value_r (unless NULL; caller owns) is the one the view now
 * has, "" when the message has none.  Returns 0 or -errno. */
int fs_read_message_id(struct fs *fs, const char *folder, const char *id,
		       char **value_r);

/* staged.c: files being written */
struct fs_staged *fs_staged_find(struct fs_folder *f, enum fs_sub sub,
				 const char *name);
int fs_staged_new(struct fs *fs, const char *folder, enum fs_sub sub,
		  const char *name, struct fs_staged **st_r);
void fs_staged_link(struct fs_folder *f, struct fs_staged *st);
void fs_staged_unlink(struct fs *fs, struct fs_staged *st);
int fs_staged_store(struct fs *fs, struct fs_staged *st, const char *folder,
		    enum fs_sub sub, const char *name, char **id_r);
void fs_staged_unref(struct fs *fs, struct fs_staged *st);
int fs_staged_commit(struct fs *fs, struct fs_staged *st, char **id_r);
bool fs_staged_committable(struct fs *fs, const struct fs_staged *st);
void fs_staged_finish_all(struct fs *fs);

/* directory.c: directory folders, looked up on demand */
/* Whether `name`, looked up in a directory folder, asks the server: a
 * name ending in '*' asks for the entries it begins (*prefix_r set), any
 * other "X.vcf" for the entry X.  *query_r (caller owns) is then what to
 * ask. */
bool fs_dir_query(const char *name, char **query_r, bool *prefix_r);
/* Ask the store for `name` in directory folder `folder` and keep what it
 * found in the view.  Call without fs->lock: it may wait on the server.
 * Returns 0 when `name` now resolves, -ENOENT when nothing matched, or
 * -errno. */
int fs_dir_lookup(struct fs *fs, const char *folder, const char *name);
/* The file names of query `name`'s results, appended to `names`. */
void fs_dir_list_query(struct fs_folder *f, const char *name,
		       GPtrArray *names);
/* Whether `path` is a directory folder or below one: read-only. */
bool fs_dir_read_only(struct fs *fs, const char *path);

/*
 * dotdir.c: the dot tree, names starting with '.' at the top of the mount
 * (but .mailfs), passed through to the directory opt.local_dir.  Called
 * under fs->lock (but fs_dot_open and fs_dot_close, before and after the
 * mount); they return 0 or -errno.  Nodes come back borrowed, with their
 * lookup count unchanged, as from fs_node_get.
 */
/* Make (mode 0700) and open opt.local_dir; fs_dot_close lets go of it. */
int fs_dot_open(struct fs *fs);
void fs_dot_close(struct fs *fs);
/* Whether `name` in `parent` is in the dot tree: 1 with *dirfd_r (borrowed)
 * the directory to make it in, 0 when it is not, -EPERM for a name
 * the mount keeps for itself, -EINVAL for one that is no file name,
 * -EROFS on a read-only mount.  For changes; lookups use fs_resolve. */
int fs_dot_place(struct fs *fs, struct fs_node *parent, const char *name,
		 int *dirfd_r);
int fs_dot_lookup(struct fs *fs, struct fs_node *parent, const char *name,
		  struct fs_node **node_r);
int fs_dot_attr(struct fs_node *node, struct stat *st);
/* The names in a dot directory (`dir` NULL: the dot names at the top),
 * appended to `names` (which owns them). */
int fs_dot_list(struct fs *fs, struct fs_node *dir, GPtrArray *names);
/* `fd`: an open descriptor of the file, or -1. */
int fs_dot_setattr(struct fs *fs, struct fs_node *node, int fd,
		   const struct stat *attr, int to_set);
int fs_dot_mknod(struct fs *fs, int dirfd, const char *name, mode_t mode,
		 dev_t rdev, struct fs_node **node_r);
int fs_dot_mkdir(struct fs *fs, int dirfd, const char *name, mode_t mode,
		 struct fs_node **node_r);
int fs_dot_symlink(struct fs *fs, const char *target, int dirfd,
		   const char *name, struct fs_node **node_r);
/* open(2) with O_CREAT of `name`; *fd_r (caller owns) is the open file. */
int fs_dot_create(struct fs *fs, int dirfd, const char *name, mode_t mode,
		  int flags, struct fs_node **node_r, int *fd_r);
/* open(2) of the file `node` is; *fd_r: caller owns. */
int fs_dot_reopen(struct fs_node *node, int flags, int *fd_r);
/* Caller owns *target_r. */
int fs_dot_readlink(struct fs_node *node, char **target_r);
int fs_dot_remove(int dirfd, const char *name, bool dir);
int fs_dot_rename(int from_dirfd, const char *name, int to_dirfd,
		  const char *newname, unsigned int flags);
int fs_dot_link(struct fs *fs, struct fs_node *src, int dirfd,
		const char *name, struct fs_node **node_r);
int fs_dot_statfs(struct fs_node *node, struct statvfs *sv);
/* Extended attributes, of any file but a symbolic link (no race-free way
 * reaches one's).  *value_r, *list_r: caller owns, *len_r bytes. */
int fs_dot_getxattr(struct fs_node *node, const char *name, char **value_r,
		    size_t *len_r);
int fs_dot_listxattr(struct fs_node *node, char **list_r, size_t *len_r);
int fs_dot_setxattr(struct fs *fs, struct fs_node *node, const char *name,
		    const char *value, size_t size, int flags);
int fs_dot_removexattr(struct fs *fs, struct fs_node *node,
		       const char *name);

/* ctl.c */
bool fs_ctl_exists(const char *name);
const char *const *fs_ctl_names(void);
char *fs_ctl_render(struct fs *fs, const char *name);
char *fs_ctl_flush(struct fs *fs);

/* An open file. */
enum fs_handle_kind { FS_H_ITEM, FS_H_STAGED, FS_H_CTL, FS_H_DOT };
struct fs_handle {
	enum fs_handle_kind kind;
	int fd;				/* ITEM: the store's content; DOT:
					   the file, opened as asked */
	struct fs_staged *staged;	/* STAGED: a ref */
	bool writable;
	bool dirty;			/* written since the last flush */
	char *text;			/* CTL: a snapshot */
	size_t len;
	int busy;			/* reads under way; fs->lock */
	bool released;			/* the kernel let go of it while a
					   read was under way; fs->lock */
};
int fs_open_staged_for_edit(struct fs *fs, struct fs_node *node,
			    struct fs_folder *f, struct fs_item *it,
			    bool truncate, struct fs_handle **h_r);
/* Open handles are tracked from their open to their release; the ones the
 * kernel never released (a lazy unmount) are released at the end. */
void fs_handle_track(struct fs *fs, struct fs_handle *h);
void fs_handle_release(struct fs *fs, struct fs_handle *h);
void fs_handles_release_all(struct fs *fs);
/* A read holds the handle (false: it is gone); a release that comes
 * meanwhile (the reader was killed) is done when the read ends.  Both
 * under fs->lock. */
bool fs_handle_hold(struct fs *fs, struct fs_handle *h);
void fs_handle_unhold(struct fs *fs, struct fs_handle *h);

/* The times a setattr asks for (`to_set`, FUSE_SET_ATTR_*) as the
 * utimensat(2) pair: UTIME_NOW, a time from `attr`, or UTIME_OMIT. */
void fs_setattr_times(const struct stat *attr, int to_set,
		      struct timespec ts[2]);

/*
 * The core of the operations.  Each returns 0 or -errno, the errno to reply
 * with as it is (a store's failure already told as fs_errno() tells it), and
 * takes fs->lock itself: call them without it.
 */

/* A node handed to the kernel: its number and attributes.  Whoever fills
 * one has counted the kernel's new reference (nlookup). */
struct fs_entry {
	fuse_ino_t ino;
	struct stat attr;
};

/* How the kernel is to cache an open file (the open reply's flags). */
struct fs_open_mode {
	bool direct_io;		/* no page cache: each read comes here */
	bool keep_cache;	/* pages read before stay valid */
	bool noflush;		/* no flush at close */
};

/* resolve.c: names to nodes, nodes to attributes.  fs_resolve,
 * fs_node_attr, fs_entry_take and fs_entry_made are called under fs->lock;
 * nodes come back borrowed, as from fs_node_get. */
int fs_resolve(struct fs *fs, struct fs_node *parent, const char *name,
	       struct fs_node **node_r);
int fs_node_attr(struct fs *fs, struct fs_node *node, struct stat *st);
/* Fill `e` for `node` and count the kernel's reference; a node whose
 * attributes fail is dropped unless something else holds it. */
int fs_entry_take(struct fs *fs, struct fs_node *node, struct fs_entry *e);
/* `rc` when it is < 0, else fs_entry_take of `node`. */
int fs_entry_made(struct fs *fs, int rc, struct fs_node *node,
		  struct fs_entry *e);
/* Lookup; a name not listed in a directory folder is asked of the store. */
int fs_lookup(struct fs *fs, fuse_ino_t parent, const char *name,
	      struct fs_entry *e);
int fs_getattr(struct fs *fs, fuse_ino_t ino, struct stat *st);
/* Caller owns *target_r. */
int fs_readlink(struct fs *fs, fuse_ino_t ino, char **target_r);
void fs_forget(struct fs *fs, fuse_ino_t ino, uint64_t n);
int fs_statfs(struct fs *fs, fuse_ino_t ino, struct statvfs *sv);

/* listing.c: a directory's names are taken at opendir (*dh_r is tracked in
 * fs->dirhs until fs_closedir); readdir hands out entries from offset
 * `off`, each to `add`, called under fs->lock, which returns false when
 * the reply has no room for it (the entry is then not counted).  `e->ino`
 * is 0 for "." and ".."; `next` is the offset after the entry.  A
 * readdirplus (`plus`) counts a reference for every other entry added. */
struct fs_dirh;
typedef bool fs_dirent_fn(const char *name, const struct fs_entry *e,
			  off_t next, void *data);
int fs_opendir(struct fs *fs, fuse_ino_t ino, struct fs_dirh **dh_r);
int fs_readdir(struct fs *fs, fuse_ino_t ino, struct fs_dirh *dh, off_t off,
	       bool plus, fs_dirent_fn *add, void *data);
void fs_closedir(struct fs *fs, struct fs_dirh *dh);
/* Free an open directory's listing (fs->dirhs' destroy function). */
void fs_dirh_free(gpointer dh);

/* open.c: open(2) with `flags`; *h_r (tracked, let go of by fs_release)
 * and *how are what to tell the kernel.  A read holds the handle between
 * fs_handle_enter (false: it is gone: EBADF) and fs_handle_leave, and
 * replies with what fs_read_source says: -1 and the *len_r bytes at
 * *text_r (borrowed from the handle), or a descriptor to read from. */
int fs_open(struct fs *fs, fuse_ino_t ino, int flags,
	    struct fs_open_mode *how, struct fs_handle **h_r);
bool fs_handle_enter(struct fs *fs, struct fs_handle *h);
void fs_handle_leave(struct fs *fs, struct fs_handle *h);
int fs_read_source(const struct fs_handle *h, off_t off, size_t size,
		   const char **text_r, size_t *len_r);
void fs_release(struct fs *fs, struct fs_handle *h);

/* files.c: making, writing, syncing and removing files.  fs_create's
 * handle is as from fs_open; fs_write returns the count written or -errno;
 * fs_setattr's *st is the attributes after the change.  `to_set` is a
 * mask of FUSE_SET_ATTR_*.  fs_file_place and fs_unlink_node are called
 * under fs->lock. */
int fs_create(struct fs *fs, fuse_ino_t parent, const char *name,
	      mode_t mode, int flags, struct fs_entry *e,
	      struct fs_open_mode *how, struct fs_handle **h_r);
int fs_mknod(struct fs *fs, fuse_ino_t parent, const char *name,
	     mode_t mode, dev_t rdev, struct fs_entry *e);
ssize_t fs_write(struct fs *fs, struct fs_handle *h, const char *buf,
		 size_t size, off_t off);
int fs_flush(struct fs *fs, struct fs_handle *h);
int fs_fsync(struct fs *fs, fuse_ino_t ino, struct fs_handle *h,
	     int datasync);
int fs_fsyncdir(struct fs *fs, fuse_ino_t ino, int datasync);
/* `h`: the open file the change is made through, or NULL. */
int fs_setattr(struct fs *fs, fuse_ino_t ino, struct fs_handle *h,
	       const struct stat *attr, int to_set, struct stat *st);
int fs_unlink(struct fs *fs, fuse_ino_t parent, const char *name);
/* Where a new file named in directory `parent` would sit. */
int fs_file_place(struct fs *fs, struct fs_node *parent,
		  struct fs_folder **f_r, enum fs_sub *sub_r);
/* Takes `node` out of its directory; an item is removed from the store
 * without fs->lock, so `node` may be gone on return (look it up by ino). */
int fs_unlink_node(struct fs *fs, struct fs_node *node);

/* tree.c, rename.c: directories made and removed, links, renames.
 * fs_folder_path is called under fs->lock. */
int fs_mkdir(struct fs *fs, fuse_ino_t parent, const char *name,
	     mode_t mode, struct fs_entry *e);
int fs_rmdir(struct fs *fs, fuse_ino_t parent, const char *name);
int fs_link(struct fs *fs, fuse_ino_t ino, fuse_ino_t newparent,
	    const char *newname, struct fs_entry *e);
int fs_symlink(struct fs *fs, const char *target, fuse_ino_t parent,
	       const char *name, struct fs_entry *e);
/* `flags`: RENAME_NOREPLACE, RENAME_EXCHANGE (refused: EINVAL). */
int fs_rename(struct fs *fs, fuse_ino_t parent, const char *name,
	      fuse_ino_t newparent, const char *newname, unsigned int flags);
/* The folder path (*path_r, caller owns) and kind a directory `name` in
 * `parent` stands for. */
int fs_folder_path(struct fs *fs, struct fs_node *parent, const char *name,
		   char **path_r, enum mfs_folder_kind *kind_r);

/* xattr.c: *value_r, *list_r: caller owns, *len_r bytes.  Only the dot
 * tree's can be set or removed (others: ENOTSUP). */
int fs_getxattr(struct fs *fs, fuse_ino_t ino, const char *name,
		char **value_r, size_t *len_r);
int fs_listxattr(struct fs *fs, fuse_ino_t ino, char **list_r, size_t *len_r);
int fs_setxattr(struct fs *fs, fuse_ino_t ino, const char *name,
		const char *value, size_t size, int flags);
int fs_removexattr(struct fs *fs, fuse_ino_t ino, const char *name);

/* ops.c: the FUSE handlers */
extern const struct fuse_lowlevel_ops fs_ops;

#endif
