/*
 * imapc-private.h - the IMAP backend's state, shared by protocols/imap only.
 *
 * Item ids are "V<uidvalidity>U<uid>" (each ten digits wide, zero-padded),
 * so a file name depends on nothing but
 * the server's identity of the message (RFC 3501 section 2.3.1.1): it
 * survives remounts and a wiped cache, and changes only when the server
 * declares all UIDs void by a new UIDVALIDITY.
 *
 * Locking: `lock` protects the pool's idle list and `folders`.  A
 * connection taken from the pool belongs to one thread until returned.
 */
#ifndef MFS_IMAP_PRIVATE_H
#define MFS_IMAP_PRIVATE_H

#include <glib.h>

#include "backend.h"
#include "conn.h"

/* What LIST said of one folder. */
struct imapc_folder {
	char *path;		/* owned; logical path */
	char *server;		/* owned; the server's name (modified UTF-7) */
	enum mfs_folder_kind kind;
	char *special;		/* owned; \Sent, \Trash ... or NULL */
};

struct imapc_watch;

struct mfs_backend {
	struct imapc_cfg cfg;		/* owned */
	GMutex lock;
	GCond cond;			/* a connection came back */
	GPtrArray *idle;		/* of struct imapc_conn *; lock */
	unsigned open_conns;		/* lock */
	GHashTable *folders;		/* path -> struct imapc_folder; lock */
	char delim;			/* hierarchy delimiter; lock */
	char *prefix;			/* owned; personal namespace prefix,
					   shown without it; lock */
	struct imapc_watch *watch;	/* owned */
};

/* client.c: the account's settings (0, or -EINVAL with the reason in
 * *err); a backend with them and no connection yet (caller owns *be_r,
 * imapc_backend_close); its first connection, put in the pool (0 or
 * -errno). */
int imapc_parse_cfg(const struct mfs_account *acct, struct imapc_cfg *cfg,
		   GError **err);
int imapc_backend_new(const struct mfs_account *acct, struct mfs_backend **be_r,
		     GError **err);
int imapc_backend_connect(struct mfs_backend *be, struct mfs_error *e);
void imapc_backend_close(struct mfs_backend **be);

/* check.c: `mailfs check` of an IMAP account (backend.h). */
int imapc_check(const struct mfs_account *acct, struct mfs_check *ck);

/* client.c: the pool.  Take a connection (opening one if below the limit),
 * with `mailbox` selected when not NULL.  Returns 0 or -errno. */
int imapc_pool_get(struct mfs_backend *be, const char *folder,
		  struct imapc_conn **c_r, uint64_t *uidvalidity_r,
		  struct mfs_error *e);
void imapc_pool_put(struct mfs_backend *be, struct imapc_conn *c);
/* Make `c` and every idle connection leave the mailbox `server` (and any
 * below it): servers may refuse to rename or delete a mailbox that a
 * session has selected.  Returns 0 or -errno (of `c`). */
int imapc_pool_leave(struct mfs_backend *be, struct imapc_conn *c,
		    const char *server, struct mfs_error *e);
int imapc_select(struct mfs_backend *be, struct imapc_conn *c,
		const char *folder, uint64_t *uidvalidity_r,
		struct mfs_error *e);

/* mailbox.c: names */
int imapc_list_folders(struct mfs_backend *be, GPtrArray **folders_r,
		      struct mfs_error *e);
/* The server name of a logical path: from the last LIST, or made from the
 * path for a folder that does not exist yet.  Caller owns the result. */
int imapc_server_name(struct mfs_backend *be, const char *path, char **name_r,
		     struct mfs_error *e);
int imapc_create_folder(struct mfs_backend *be, const char *path,
		       enum mfs_folder_kind kind, struct mfs_error *e);
int imapc_rename_folder(struct mfs_backend *be, const char *from,
		       const char *to, struct mfs_error *e);
int imapc_delete_folder(struct mfs_backend *be, const char *path,
		       struct mfs_error *e);
void imapc_folder_free(gpointer p);

/* items.c */
char *imapc_item_id(uint64_t uidvalidity, uint64_t uid);
int imapc_parse_item_id(const char *id, uint64_t *uidvalidity_r,
		       uint64_t *uid_r);
uint64_t imapc_flags_from_list(GPtrArray *list);
char *imapc_flags_to_list(uint64_t flags);
int imapc_sync(struct mfs_backend *be, const char *folder, const char *state,
	      struct mfs_sync_result **res_r, struct mfs_error *e);
int imapc_fetch(struct mfs_backend *be, const char *folder, const char *id,
	       int *fd_r, struct mfs_error *e);
int imapc_fetch_batch(struct mfs_backend *be, const char *folder,
		     const char *const *ids, size_t n, mfs_fetched_fn got,
		     void *data, struct mfs_error *e);
int imapc_append_batch(struct mfs_backend *be, const char *folder,
		      const struct mfs_append *in, size_t n,
		      GPtrArray **items_r, struct mfs_error *e);
int imapc_set_flags_batch(struct mfs_backend *be, const char *folder,
			 const char *const *ids, const uint64_t *flags,
			 size_t n, int *rcs, struct mfs_error *e);
int imapc_remove_batch(struct mfs_backend *be, const char *folder,
		      const char *const *ids, size_t n, struct mfs_error *e);
int imapc_move_batch(struct mfs_backend *be, const char *folder,
		    const char *const *ids, const char *dest,
		    const uint64_t *flags, size_t n, bool move,
		    GPtrArray **items_r, struct mfs_error *e);
int imapc_append(struct mfs_backend *be, const char *folder, int fd,
		const char *hint, uint64_t flags, int64_t date,
		struct mfs_item **item_r, struct mfs_error *e);
int imapc_set_flags(struct mfs_backend *be, const char *folder, const char *id,
		   uint64_t flags, struct mfs_error *e);
int imapc_remove(struct mfs_backend *be, const char *folder, const char *id,
		struct mfs_error *e);
int imapc_move(struct mfs_backend *be, const char *folder, const char *id,
	      const char *dest, uint64_t flags, struct mfs_item **item_r,
	      struct mfs_error *e);
int imapc_copy(struct mfs_backend *be, const char *folder, const char *id,
	      const char *dest, uint64_t flags, struct mfs_item **item_r,
	      struct mfs_error *e);

/* watch.c */
int imapc_watch_start(struct mfs_backend *be, mfs_change_fn fn, void *data);
void imapc_watch_stop(struct mfs_backend *be);

#endif
