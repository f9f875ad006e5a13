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

/* items.c: what the message commands share. */

/* What a listing fetches of each message: the Message-ID comes along so
 * that the index can say it without the body (user.mail.message-id). */
#define IMAPC_MSGID_ITEM "BODY[HEADER.FIELDS (MESSAGE-ID)]"
#define IMAPC_LIST_ITEMS "(UID FLAGS RFC822.SIZE INTERNALDATE " \
			 "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"

/* What SELECT and a listing said of a folder (sync.c); imapc_items_cb
 * adds the messages of "* n FETCH" lines to `items`. */
struct imapc_sync_ctx {
	uint64_t uidvalidity, modseq, uidnext, exists;
	bool nomodseq;
	bool vanished_overflow;
	GArray *vanished;		/* uint64_t uids */
	GArray *changed;		/* uint64_t uids from QRESYNC */
	GPtrArray *items;		/* of struct mfs_item * */
};
int imapc_items_cb(struct imap_line *l, void *data);

/* Item ids (caller owns the result) and their parts (0 or -ENOENT). */
char *imapc_item_id(uint64_t uidvalidity, uint64_t uid);
int imapc_parse_item_id(const char *id, uint64_t *uidvalidity_r,
			uint64_t *uid_r);
/* The flag mapping.  imapc_flag_list: "(\Seen \Flagged)" of the mapped
 * flags set in `flags`, with `unset` of those not set, "" when none;
 * imapc_flags_to_list the same, "()" when none.  Caller owns both. */
uint64_t imapc_flags_from_list(GPtrArray *list);
char *imapc_flag_list(uint64_t flags, bool unset);
char *imapc_flags_to_list(uint64_t flags);
/* An INTERNALDATE for APPEND ("17-Jul-1996 02:44:25 +0000") of `t`
 * seconds since the epoch, held to 1970 through 9999 (any `t` will do). */
void imapc_format_date(int64_t t, char *buf, size_t len);
/* The value after `name` in a FETCH attribute list, or NULL; the
 * attribute list of "* n FETCH (...)", or NULL for other lines.  Both
 * borrowed from their argument. */
struct imap_arg *imapc_fetch_attr(GPtrArray *list, const char *name);
GPtrArray *imapc_fetch_list(struct imap_line *l);
/* "1:3,7" of sorted, unique UIDs (caller owns the result); the order of
 * UIDs for g_array_sort. */
char *imapc_make_set(GArray *uids);
gint imapc_uid_cmp(gconstpointer a, gconstpointer b);
/* The UIDs of a uid-set such as "5:7,9", in order, into `out`; false
 * when it is not one or holds more than `max`. */
bool imapc_uid_set_expand(const char *set, size_t max, GArray *out);
/* The uid a new message got, from an APPENDUID or COPYUID code in `l`. */
bool imapc_uid_code(struct imap_line *l, const char *name, uint64_t *uv_r,
		    uint64_t *uid_r);
/* STATUS UIDNEXT of `folder`. */
int imapc_uidnext_of(struct mfs_backend *be, const char *folder,
		     uint64_t *next_r, struct mfs_error *e);
/* The items of `folder` in the UID set `set`, as the server has them now
 * (caller owns *items_r); the item `uid`; without UIDPLUS, the newest
 * message at or after UID `from` of `size` bytes (caller owns *item_r). */
int imapc_items_in(struct mfs_backend *be, const char *folder,
		   const char *set, GPtrArray **items_r, struct mfs_error *e);
int imapc_item_of(struct mfs_backend *be, const char *folder, uint64_t uid,
		  struct mfs_item **item_r, struct mfs_error *e);
int imapc_find_new(struct mfs_backend *be, const char *folder, uint64_t from,
		   uint64_t size, struct mfs_item **item_r,
		   struct mfs_error *e);
/* A connection with `folder` selected, brought up to date, and the uid of
 * `id` in it (imapc_take_item); for a batch of `ids` that must share one
 * UIDVALIDITY (*uv_r), their UIDs into `uids` and as a set "5,9,12" into
 * `set` (imapc_take_batch).  0 (the caller puts *c_r back) or -errno. */
int imapc_take_item(struct mfs_backend *be, const char *folder,
		    const char *id, struct imapc_conn **c_r, uint64_t *uid_r,
		    struct mfs_error *e);
int imapc_take_batch(struct mfs_backend *be, const char *folder,
		     const char *const *ids, size_t n, uint64_t *uv_r,
		     GArray *uids, GString *set, struct imapc_conn **c_r,
		     struct mfs_error *e);

/* The members of backend.h, each in a file of its own job: sync.c,
 * fetch.c, append.c, flags.c, expunge.c, move.c.  A batch of one is the
 * single exchange, which needs no capability beyond RFC 3501. */
int imapc_sync(struct mfs_backend *be, const char *folder, const char *state,
	       struct mfs_sync_result **res_r, struct mfs_error *e);
int imapc_fetch(struct mfs_backend *be, const char *folder, const char *id,
		int *fd_r, struct mfs_error *e);
int imapc_fetch_batch(struct mfs_backend *be, const char *folder,
		      const char *const *ids, size_t n, mfs_fetched_fn got,
		      void *data, struct mfs_error *e);
int imapc_append(struct mfs_backend *be, const char *folder,
		 const struct mfs_append *in, size_t n, GPtrArray **items_r,
		 struct mfs_error *e);
int imapc_set_flags(struct mfs_backend *be, const char *folder,
		    const char *const *ids, const uint64_t *flags, size_t n,
		    int *rcs, struct mfs_error *e);
int imapc_remove(struct mfs_backend *be, const char *folder,
		 const char *const *ids, size_t n, struct mfs_error *e);
int imapc_move(struct mfs_backend *be, const char *folder,
	       const char *const *ids, const char *dest, const uint64_t *flags,
	       size_t n, bool move, GPtrArray **items_r, struct mfs_error *e);

/* flags.c: the flags of one message (-ENOENT when it is gone), and of
 * several (rcs[i] -ENOENT for each one gone), as set_flags. */
int imapc_flags_one(struct mfs_backend *be, const char *folder,
		    const char *id, uint64_t flags, struct mfs_error *e);
int imapc_flags_many(struct mfs_backend *be, const char *folder,
		     const char *const *ids, const uint64_t *flags, size_t n,
		     int *rcs, struct mfs_error *e);

/* expunge.c: STORE \Deleted and expunge the UID set `set` ("5",
 * "5,9,12"), or the one `uid`, on `c` (the folder selected). */
int imapc_expunge_set(struct imapc_conn *c, const char *set,
		      struct mfs_error *e);
int imapc_expunge_uid(struct imapc_conn *c, uint64_t uid,
		      struct mfs_error *e);

/* watch.c */
int imapc_watch_start(struct mfs_backend *be, mfs_change_fn fn, void *data);
void imapc_watch_stop(struct mfs_backend *be);

#endif
