/*
 * local-private.h - the embedded store's state, shared by the files of
 * protocols/local only.
 *
 * The store on disk has the mount's own layout: a mail folder is a directory
 * holding cur/, new/ and tmp/ (and its sub-folders beside them); a contacts or
 * calendar folder is a directory of .vcf or .ics files.  Logical folder paths
 * are the relative directory paths.  Names starting with '.' are never
 * folders or items (they belong to other programs: .notmuch, editors' swap
 * files, our own marker and temporary files).
 *
 * Locking: `lock` protects `folders` and every local_folder in it.  Disk I/O
 * on item content happens outside it.  The watcher thread takes it only to
 * map watch descriptors to folders.
 */
#ifndef MFS_LOCAL_PRIVATE_H
#define MFS_LOCAL_PRIVATE_H

#include <glib.h>
#include <stdint.h>
#include <pthread.h>

#include "backend.h"

/* A folder's kind, when no cur/ tells, is written into this file. */
#define LOCAL_KIND_FILE ".mailfs-folder"
/* Our own temporary files in a contacts or calendar folder. */
#define LOCAL_TMP_PREFIX ".mailfs-tmp."

enum local_sub { LOCAL_SUB_DIR = 0, LOCAL_SUB_CUR, LOCAL_SUB_NEW };

/* Where one item lives on disk. */
struct local_entry {
	enum local_sub sub;
	char *file;			/* owned; name inside sub */
};

struct local_folder {
	enum mfs_folder_kind kind;
	GHashTable *entries;		/* id -> struct local_entry, owned */
	gboolean scanned;
	uint64_t scans_begun;		/* tickets of scans, so that a scan
					   that ends late does not replace
					   what a later one saw */
	uint64_t scan_shown;		/* the ticket of the entries held */
};

struct local_watch;

struct mfs_backend {
	char *root;			/* owned; absolute store directory */
	GMutex lock;
	GHashTable *folders;		/* path -> struct local_folder, owned;
					   protected by lock */
	struct local_watch *watch;	/* owned; NULL until watch() */
};

extern const struct mfs_backend_ops local_backend_ops;

/* store.c */
char *local_path(struct mfs_backend *be, const char *folder, const char *sub,
		 const char *file);
const char *local_sub_name(enum local_sub sub);
struct local_folder *local_folder_get(struct mfs_backend *be,
				      const char *path);
int local_scan_folders(struct mfs_backend *be);
/* The store at `root`, which exists, with its folders scanned; nothing is
 * created in it.  Caller owns the result (local_close). */
struct mfs_backend *local_backend_new(const char *root);
void local_close(struct mfs_backend **be);
int local_list_folders(struct mfs_backend *be, GPtrArray **folders_r,
		       struct mfs_error *e);
/* Whether a file can be made in `root`: 0, or -errno with the reason in
 * *err. */
int local_probe_writable(const char *root, GError **err);

/* check.c: `mailfs check` of a local store (backend.h). */
int local_check(const struct mfs_account *acct, struct mfs_check *ck);

/* folder.c */
enum mfs_folder_kind local_detect_kind(const char *dir);
/* Write the kind file of contacts or calendar folder `dir` if it has none:
 * such a folder is told by its files until then, and its last item is
 * about to go.  Returns 0 or -errno. */
int local_keep_kind(const char *dir, enum mfs_folder_kind kind);
int local_check_component(const char *comp);
int local_create_folder(struct mfs_backend *be, const char *path,
			enum mfs_folder_kind kind, struct mfs_error *e);
int local_rename_folder(struct mfs_backend *be, const char *from,
			const char *to, struct mfs_error *e);
int local_delete_folder(struct mfs_backend *be, const char *path,
			struct mfs_error *e);

/* items.c.  fetch, set_flags, remove, move and copy wait out another
 * writer's rename of the message before they answer -ENOENT (see the
 * end of items.c). */
int local_sync(struct mfs_backend *be, const char *folder, const char *state,
	       struct mfs_sync_result **res_r, struct mfs_error *e);
int local_fetch(struct mfs_backend *be, const char *folder, const char *id,
		int *fd_r, struct mfs_error *e);
int local_append(struct mfs_backend *be, const char *folder, int fd,
		 const char *hint, uint64_t flags, int64_t date,
		 struct mfs_item **item_r, struct mfs_error *e);
int local_set_flags(struct mfs_backend *be, const char *folder,
		    const char *id, uint64_t flags, struct mfs_error *e);
int local_remove(struct mfs_backend *be, const char *folder, const char *id,
		 struct mfs_error *e);
int local_move(struct mfs_backend *be, const char *folder, const char *id,
	       const char *dest, uint64_t flags, struct mfs_item **item_r,
	       struct mfs_error *e);
int local_copy(struct mfs_backend *be, const char *folder, const char *id,
	       const char *dest, uint64_t flags, struct mfs_item **item_r,
	       struct mfs_error *e);

/* watch.c */
int local_watch_start(struct mfs_backend *be, mfs_change_fn fn, void *data);
void local_watch_stop(struct mfs_backend *be);

/* seed.c: fill an empty store with INBOX (a welcome message), Contacts and
 * Calendar.  Returns 0 or -errno. */
int local_seed(const char *root, GError **err);

#endif
