/*
 * backend.h - the one interface every store implements.
 *
 * A backend is a store of folders holding items (messages, contacts, calendar
 * objects).  The layers above (cache/, fs/) see only this interface and never
 * learn which protocol is behind it; a new protocol is a new folder under
 * protocols/ that fills in one `struct mfs_backend_ops`.
 *
 * Naming.  Folders are named by their logical path: UTF-8 (or the raw bytes a
 * store gave), components separated by '/', no leading or trailing '/'.  Items
 * are named by an id that is stable for as long as the server keeps the item
 * (for Maildir the unique part of the file name; for IMAP, UIDVALIDITY and UID;
 * for a contacts folder, the resource name).  An id never contains '/' or NUL.
 *
 * Errors.  Every member that can fail returns 0 (or a count) on success and
 * -errno on failure, and may describe the failure in `struct mfs_error` when
 * the caller passes one (never required).
 *
 * Ownership.  Arguments are borrowed for the duration of the call.  Results
 * returned through `_r` parameters are owned by the caller and freed with the
 * matching *_free() below.  Threads: members may be called from any thread;
 * a backend serialises internally where it must.
 */
#ifndef MFS_BACKEND_H
#define MFS_BACKEND_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum mfs_folder_kind {
	MFS_FOLDER_NONE = 0,	/* holds only sub-folders (IMAP \Noselect) */
	MFS_FOLDER_MAIL,
	MFS_FOLDER_CONTACTS,
	MFS_FOLDER_CALENDAR,
	MFS_FOLDER_DIRECTORY,
	MFS_FOLDER_OUTBOX,
};

/*
 * Item flags: one bit per Maildir info letter, 'A'..'Z' then 'a'..'z', so that
 * ASCII order of letters is bit order and no letter a store keeps is lost.
 * MFS_FLAG_NEW is not a letter: it marks a message no mail reader has seen yet
 * (Maildir new/, IMAP \Recent).
 */
#define MFS_FLAG_LETTER(c) \
	((c) >= 'A' && (c) <= 'Z' ? (UINT64_C(1) << ((c) - 'A')) : \
	 (c) >= 'a' && (c) <= 'z' ? (UINT64_C(1) << ((c) - 'a' + 26)) : 0)
#define MFS_FLAG_DRAFT	 MFS_FLAG_LETTER('D')
#define MFS_FLAG_FLAGGED MFS_FLAG_LETTER('F')
#define MFS_FLAG_PASSED	 MFS_FLAG_LETTER('P')
#define MFS_FLAG_REPLIED MFS_FLAG_LETTER('R')
#define MFS_FLAG_SEEN	 MFS_FLAG_LETTER('S')
#define MFS_FLAG_TRASHED MFS_FLAG_LETTER('T')
#define MFS_FLAG_LETTERS ((UINT64_C(1) << 52) - 1)
#define MFS_FLAG_NEW	 (UINT64_C(1) << 63)

struct mfs_folder_info {
	char *path;			/* owned */
	enum mfs_folder_kind kind;
	char *special;			/* owned; its use as the server names
					   it (RFC 6154: "\\Sent", "\\Trash"
					   ...), or NULL */
};

struct mfs_item {
	char *id;			/* owned */
	uint64_t size;			/* exact byte size of the content */
	int64_t date;			/* internal (arrival) date, seconds; a
					   store whose bytes behind an id can
					   change (DAV) moves it when they do,
					   and the cache drops its copy */
	uint64_t flags;			/* MFS_FLAG_* */
	char *message_id;		/* owned; the Message-ID header's value,
					   "" when there is none, NULL when the
					   store did not say */
};

/*
 * One folder's changes since a sync state.  When `full` is set, `changed` is
 * the whole content of the folder and every item not in it has vanished;
 * `vanished` is then empty.
 */
struct mfs_sync_result {
	GPtrArray *changed;		/* owned; of struct mfs_item *, owned */
	GPtrArray *vanished;		/* owned; of char * ids, owned */
	char *state;			/* owned; opaque, NULL when none */
	bool full;
};

/* How far a failure reaches and whether repeating the call may help. */
enum mfs_err_scope { MFS_ERR_ITEM, MFS_ERR_FOLDER, MFS_ERR_ACCOUNT };
enum mfs_err_retry { MFS_ERR_FINAL, MFS_ERR_TRANSIENT, MFS_ERR_BACKOFF };

struct mfs_error {
	enum mfs_err_scope scope;
	enum mfs_err_retry retry;
	char msg[256];			/* for logs and .mailfs/errors */
};

struct mfs_backend;			/* opaque; one per mounted account */
struct mfs_check;			/* check.h */

/* One item for append(); all borrowed. */
struct mfs_append {
	int fd;
	const char *hint;
	uint64_t flags;
	int64_t date;
};

/* Receives one item of a batch fetch: its bytes, borrowed for the call
 * (a backend hands over what it has in memory without another copy). */
typedef void (*mfs_fetched_fn)(const char *id, const void *buf, size_t len,
			       void *data);

/* Called by a backend's watcher thread when something changed outside. */
typedef void (*mfs_change_fn)(const char *folder, void *data);

/*
 * One entry of a directory: an address book the server keeps and that
 * cannot be listed whole (Exchange's address lists, LDAP).  `name` is its
 * file name on the mount, "<address>.vcf" by custom; `vcard` its content.
 */
struct mfs_dir_entry {
	char *name;			/* owned */
	GBytes *vcard;			/* owned (a ref) */
};

/* The most entries one directory lookup gives (Exchange's own limit for
 * ResolveNames). */
#define MFS_DIR_MAX 100

/* Account settings a backend is opened with.  Borrowed by open(). */
struct mfs_account {
	const char *name;		/* account name, "local" for the default */
	const char *type;
	GKeyFile *keys;			/* borrowed; may be NULL */
	const char *group;		/* the key-file group of this account */
	const char *store;		/* local store directory, if any */
	const char *work_dir;		/* for the backend's temporary files
					   (the account's cache directory) */
};

#define MFS_CAP_WATCH	(1u << 0)	/* watch() reports outside changes */
#define MFS_CAP_COPY	(1u << 1)
#define MFS_CAP_FOLDERS (1u << 2)	/* folders can be created/renamed */

struct mfs_backend_ops {
	const char *name;		/* the config `type =` it answers to */
	unsigned caps;

	/* Connect or open the store; on failure set *err (GError at start-up
	 * only) and return -errno.  Caller owns *be_r (close()). */
	int (*open)(const struct mfs_account *acct, struct mfs_backend **be_r,
		    GError **err);

	/* Release everything; stops any watcher first.  Clears *be. */
	void (*close)(struct mfs_backend **be);

	/* Every folder, parents before children.  *folders_r: array of
	 * struct mfs_folder_info *, caller owns (g_ptr_array_unref). */
	int (*list_folders)(struct mfs_backend *be, GPtrArray **folders_r,
			    struct mfs_error *e);

	/* Changes of `folder` since `state` (NULL: from scratch).  A backend
	 * that cannot tell what changed answers with a full result. */
	int (*sync)(struct mfs_backend *be, const char *folder,
		    const char *state, struct mfs_sync_result **res_r,
		    struct mfs_error *e);

	/*
	 * fetch and fetch_batch stay two members, for they give different
	 * things.  fetch gives one item as a file descriptor the caller owns
	 * and may keep (the local store's own file, opened without a copy;
	 * a body the server sent into a file of its own), and says why an
	 * item is missing.  fetch_batch lends each item's bytes for one call,
	 * from memory or a mapped file, and passes over items missing, which
	 * is what a prefetch wants.  A fetch made a batch of one would copy
	 * every read through memory (or every prefetched item into a file)
	 * and lose the reason.
	 */

	/* The item's exact bytes, as a readable, seekable file descriptor that
	 * the caller owns and closes.  May block on the network. */
	int (*fetch)(struct mfs_backend *be, const char *folder,
		     const char *id, int *fd_r, struct mfs_error *e);

	/* Whether the item that fetch() just gave came in ahead of its
	 * reader, for a pass that reads each item once (a backup, a search):
	 * the mount then hands it over without keeping it in the kernel's
	 * page cache as well.  Asking forgets it; the item's next open is an
	 * ordinary one.  Optional: without it, never. */
	bool (*read_ahead)(struct mfs_backend *be, const char *folder,
			   const char *id);

	/* Several items of one folder in one exchange, so that their round
	 * trips overlap: `got` is called for each item that came, in any
	 * order; items not delivered were not found.  Optional: without it
	 * callers use fetch(). */
	int (*fetch_batch)(struct mfs_backend *be, const char *folder,
			   const char *const *ids, size_t n, mfs_fetched_fn got,
			   void *data, struct mfs_error *e);

	/*
	 * Changes: append, set_flags, remove and move take n >= 1 items of
	 * one folder, so that a store can make them in one exchange.  A
	 * batch of one is the single change (mfs_store_append() and its
	 * like ask with n == 1) with all its meaning: a store makes it by
	 * whatever the server offers (never -ENOTSUP for want of a batch
	 * command), and an item the store does not have fails the call
	 * (set_flags, move) with the reason in *e.  For n > 1 a store that
	 * cannot make them together answers -ENOTSUP, and then nothing was
	 * sent.
	 */

	/* Store the content read from in[i].fd (from offset 0 to EOF) as a
	 * new item of `folder` with in[i].flags and internal in[i].date
	 * (seconds).  in[i].hint is the id the writer would like (a Maildir
	 * unique part, a contact's file name); a store that names items
	 * itself ignores it.  For contacts and calendars an item with the
	 * same hint is replaced.  Durable on return.  *items_r (caller owns;
	 * of struct mfs_item *) describes the stored items in the order
	 * given.  Several go in one request (IMAP MULTIAPPEND), all stored
	 * or none. */
	int (*append)(struct mfs_backend *be, const char *folder,
		      const struct mfs_append *in, size_t n,
		      GPtrArray **items_r, struct mfs_error *e);

	/* Set the flags of items ids[i] to exactly flags[i] (MFS_FLAG_NEW
	 * included).  rcs[i] is 0, or -ENOENT for an item the server does
	 * not have.  For n > 1, returns 0 when the exchange went through
	 * (whatever rcs say), else -errno and nothing is known; for n == 1,
	 * rcs[0]. */
	int (*set_flags)(struct mfs_backend *be, const char *folder,
			 const char *const *ids, const uint64_t *flags,
			 size_t n, int *rcs, struct mfs_error *e);

	/* Remove the items for good (no trash folder is involved).  In a
	 * batch, one the server no longer has counts as removed; alone, a
	 * store that can tell (the local one) says -ENOENT. */
	int (*remove)(struct mfs_backend *be, const char *folder,
		      const char *const *ids, size_t n, struct mfs_error *e);

	/* Move (`move`) or copy items ids[i] into `dest` with flags[i].
	 * *items_r (caller owns; of struct mfs_item *) has for each the
	 * item as `dest` now holds it, or NULL (n > 1) where the server did
	 * not have it. */
	int (*move)(struct mfs_backend *be, const char *folder,
		    const char *const *ids, const char *dest,
		    const uint64_t *flags, size_t n, bool move,
		    GPtrArray **items_r, struct mfs_error *e);

	/* Folder management.  delete_folder fails with -ENOTEMPTY while the
	 * folder holds items or sub-folders; rename_folder moves sub-folders
	 * along. */
	int (*create_folder)(struct mfs_backend *be, const char *path,
			     enum mfs_folder_kind kind, struct mfs_error *e);
	int (*rename_folder)(struct mfs_backend *be, const char *from,
			     const char *to, struct mfs_error *e);
	int (*delete_folder)(struct mfs_backend *be, const char *path,
			     struct mfs_error *e);

	/* Wait until the changes made through this store to item `id` of
	 * `folder` (id NULL: to the folder; folder NULL: any) have reached
	 * the server.  Optional: a store without a write-back journal has
	 * nothing to wait for. */
	int (*flush)(struct mfs_backend *be, const char *folder,
		     const char *id, struct mfs_error *e);

	/* Start reporting outside changes through `fn` (from a thread of the
	 * backend's own; `folder` NULL means the folder list changed).  Must be
	 * called after any fork().  `data` is borrowed until close(). */
	int (*watch)(struct mfs_backend *be, mfs_change_fn fn, void *data);

	/* Why a change made to item `id` of `folder` has not reached the
	 * server: its last failure (for a message the outbox could not
	 * send, the server's reply), in *text_r (caller owns).  -ENODATA
	 * when none failed.  Optional. */
	int (*item_error)(struct mfs_backend *be, const char *folder,
			  const char *id, char **text_r);

	/* Entries of the directory folder `folder` that `query` names: with
	 * `prefix`, those whose name or address begins with it, else those
	 * whose address (or, failing that, name) is exactly it.  *entries_r
	 * (caller owns; of struct mfs_dir_entry *, owned) has at most
	 * MFS_DIR_MAX and is empty when nothing matched.  May block on the
	 * network.  Optional: a directory is reached only this way. */
	int (*lookup)(struct mfs_backend *be, const char *folder,
		      const char *query, bool prefix, GPtrArray **entries_r,
		      struct mfs_error *e);

	/* Append "name: value" lines about the store's state (its server,
	 * the last successful sync...) for .mailfs/status.  Optional. */
	void (*describe)(struct mfs_backend *be, GString *out);

	/* Free and total space, for statfs; -ENOTSUP where unknown. */
	int (*space)(struct mfs_backend *be, uint64_t *total_r,
		     uint64_t *avail_r);

	/* `mailfs check`: read the account's settings, connect and log in
	 * as open() would, and count the folders, saying each step through
	 * `ck` (check.h); it stops at the first step that fails.  Changes
	 * nothing on the server or in the cache.  Returns 0 when every step
	 * worked, else -errno (a failed step says why).  Optional. */
	int (*check)(const struct mfs_account *acct, struct mfs_check *ck);
};

/* The registry: the backend of config `type =`, or NULL. */
const struct mfs_backend_ops *mfs_backend_find(const char *type);

/* An open backend pairs its ops with its state; callers use the wrappers
 * below, which turn a missing member into -ENOTSUP, add tracing, and make
 * each call one operation (stream.h): whatever it waits for ends by one
 * deadline, the account's timeout from the call's start. */
struct mfs_store {
	const struct mfs_backend_ops *ops;	/* borrowed, static */
	struct mfs_backend *be;			/* owned */
	/* open() found the server unreachable (mfs_open_outcome): until
	 * `quiet_until` (monotonic microseconds; as long again as that first
	 * attempt took) calls fail at once with what it found, rather than
	 * wait for the same silence again.  Set by mfs_store_open only. */
	int64_t quiet_until;
	int quiet_rc;
	struct mfs_error quiet;
};

int mfs_store_open(const struct mfs_account *acct, struct mfs_store *st,
		   GError **err);
void mfs_store_close(struct mfs_store *st);
/* A store made of a backend opened by other means than mfs_store_open (a
 * decorator such as the cache): `ops` borrowed and static, `be` owned by
 * the store from now on. */
void mfs_store_init(struct mfs_store *st, const struct mfs_backend_ops *ops,
		    struct mfs_backend *be);
/* The state of `st` when it is a store of kind `ops`, else NULL.
 * Borrowed; valid until mfs_store_close(). */
struct mfs_backend *mfs_store_backend_of(struct mfs_store *st,
					 const struct mfs_backend_ops *ops);
int mfs_store_lookup(struct mfs_store *st, const char *folder,
		     const char *query, bool prefix, GPtrArray **entries_r,
		     struct mfs_error *e);
int mfs_store_list_folders(struct mfs_store *st, GPtrArray **folders_r,
			   struct mfs_error *e);
int mfs_store_sync(struct mfs_store *st, const char *folder,
		   const char *state, struct mfs_sync_result **res_r,
		   struct mfs_error *e);
int mfs_store_fetch(struct mfs_store *st, const char *folder, const char *id,
		    int *fd_r, struct mfs_error *e);
int mfs_store_fetch_batch(struct mfs_store *st, const char *folder,
			  const char *const *ids, size_t n,
			  mfs_fetched_fn got, void *data, struct mfs_error *e);
bool mfs_store_read_ahead(struct mfs_store *st, const char *folder,
			  const char *id);
/* Changes: each single form asks its member with a batch of one and
 * hands back the one result; each *_batch form passes its batch on.  A
 * store without the member answers -ENOTSUP. */
int mfs_store_append(struct mfs_store *st, const char *folder, int fd,
		     const char *hint, uint64_t flags, int64_t date,
		     struct mfs_item **item_r, struct mfs_error *e);
int mfs_store_append_batch(struct mfs_store *st, const char *folder,
			   const struct mfs_append *in, size_t n,
			   GPtrArray **items_r, struct mfs_error *e);
int mfs_store_set_flags_batch(struct mfs_store *st, const char *folder,
			      const char *const *ids, const uint64_t *flags,
			      size_t n, int *rcs, struct mfs_error *e);
int mfs_store_set_flags(struct mfs_store *st, const char *folder,
			const char *id, uint64_t flags, struct mfs_error *e);
int mfs_store_remove(struct mfs_store *st, const char *folder, const char *id,
		     struct mfs_error *e);
int mfs_store_remove_batch(struct mfs_store *st, const char *folder,
			   const char *const *ids, size_t n,
			   struct mfs_error *e);
int mfs_store_move(struct mfs_store *st, const char *folder, const char *id,
		   const char *dest, uint64_t flags, struct mfs_item **item_r,
		   struct mfs_error *e);
int mfs_store_copy(struct mfs_store *st, const char *folder, const char *id,
		   const char *dest, uint64_t flags, struct mfs_item **item_r,
		   struct mfs_error *e);
int mfs_store_move_batch(struct mfs_store *st, const char *folder,
			 const char *const *ids, const char *dest,
			 const uint64_t *flags, size_t n, bool move,
			 GPtrArray **items_r, struct mfs_error *e);
int mfs_store_create_folder(struct mfs_store *st, const char *path,
			    enum mfs_folder_kind kind, struct mfs_error *e);
int mfs_store_rename_folder(struct mfs_store *st, const char *from,
			    const char *to, struct mfs_error *e);
int mfs_store_delete_folder(struct mfs_store *st, const char *path,
			    struct mfs_error *e);
int mfs_store_flush(struct mfs_store *st, const char *folder, const char *id,
		    struct mfs_error *e);
int mfs_store_watch(struct mfs_store *st, mfs_change_fn fn, void *data);
int mfs_store_space(struct mfs_store *st, uint64_t *total_r, uint64_t *avail_r);
void mfs_store_describe(struct mfs_store *st, GString *out);
int mfs_store_item_error(struct mfs_store *st, const char *folder,
			 const char *id, char **text_r);
/* The backend's MFS_CAP_* bits. */
unsigned mfs_store_caps(const struct mfs_store *st);
/* Whether the store keeps changes to send later, which mfs_store_flush
 * waits for (false: every change was made when its call returned). */
bool mfs_store_can_flush(const struct mfs_store *st);

/*
 * `mailfs check ACCOUNT`: the backend's check.  A type without a check
 * member fails with -ENOTSUP, said as a step; an unknown type with
 * -EINVAL.  Returns 0 when every step worked.  The account's sender is
 * checked beside it (sender.h, src/check-cmd.c): its settings once the
 * type is known to be checkable (mfs_backend_can_check), so that no
 * setting is found wrong after something was sent, its server after.
 */
bool mfs_backend_can_check(const char *type);
int mfs_backend_check(const struct mfs_account *acct, struct mfs_check *ck);

/* Constructors and destructors of the result types. */
struct mfs_item *mfs_item_new(const char *id, uint64_t size, int64_t date,
			      uint64_t flags);
struct mfs_item *mfs_item_dup(const struct mfs_item *it);
void mfs_item_free(struct mfs_item *it);
/* The answer of a batch member to a batch of one: a list holding `it`
 * (taken; NULL stands for an item the store does not have).  Caller
 * owns the result. */
GPtrArray *mfs_items_one(struct mfs_item *it);
struct mfs_folder_info *mfs_folder_info_new(const char *path,
					    enum mfs_folder_kind kind);
void mfs_folder_info_free(struct mfs_folder_info *fi);
/* A new entry: `name` copied, `vcard` referenced.  Caller owns it. */
struct mfs_dir_entry *mfs_dir_entry_new(const char *name, GBytes *vcard);
void mfs_dir_entry_free(gpointer entry);
struct mfs_sync_result *mfs_sync_result_new(void);
void mfs_sync_result_free(struct mfs_sync_result **res);
const char *mfs_folder_kind_name(enum mfs_folder_kind kind);

/* Fill *e (if not NULL) and return `rc` (a -errno), for one-line returns. */
int mfs_error_set(struct mfs_error *e, int rc, enum mfs_err_scope scope,
		  enum mfs_err_retry retry, const char *fmt, ...)
	G_GNUC_PRINTF(5, 6);

/*
 * What open() makes of its first exchange with the server (outcome `rc`
 * and `e`), which it makes so that a wrong password or certificate is said
 * at mount time: 0 when it worked, and also when the account is only
 * unreachable for now (a warning is logged; the cache still shows what it
 * holds and the backend tries again later; mfs_store_open keeps the store
 * quiet a while, see struct mfs_store).  Else returns `rc` with e's
 * message, or strerror when it has none, in *err.
 */
int mfs_open_outcome(int rc, const struct mfs_error *e, GError **err);

#endif
