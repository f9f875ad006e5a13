/*
 * ewsc-private.h - the EWS client backend's state, shared by the
 * client-*.c files of protocols/ews only (the server-*.c files are the
 * embedded server's and share nothing of this but soap.h).
 *
 * Specs: [MS-OXWSCORE] (GetItem, CreateItem, UpdateItem, DeleteItem,
 * MoveItem, CopyItem), [MS-OXWSSYNC] (SyncFolderHierarchy,
 * SyncFolderItems), [MS-OXWSFOLD] (GetFolder, CreateFolder, UpdateFolder,
 * MoveFolder, DeleteFolder), [MS-OXWSCDATA] (common types, ResponseCode
 * values), [MS-OXPROPS] (the MAPI properties named below), SOAP 1.1.
 *
 * Item ids: the mount's id of an item is its EWS ItemId written with
 * ewsc_id_from_item() (base64url, so no '/'), which depends on nothing but
 * the server's id; an id too long for a file name is a hash of it, and
 * the folder's item table leads back.
 *
 * Sizes: EWS's Size is not the length of the MIME content, so sync fetches
 * the MimeContent of every new item (GetItem, many ids per request) and
 * learns the size from the bytes; the bytes wait in a spool under the
 * account's work directory until fetch() hands them over, within the
 * account's spool_size (spool.c).
 * docs/EWS.md explains why.
 *
 * Ownership: results through _r parameters belong to the caller; strings
 * in the structs below are owned by their struct.
 *
 * Locking: `lock` protects the folder map and the item tables; no lock is
 * held across a request, so several requests may be in flight at once
 * (each with its own libcurl handle).
 */
#ifndef MFS_EWS_CLIENT_PRIVATE_H
#define MFS_EWS_CLIENT_PRIVATE_H

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "spool.h"
#include "wire/ews-soap.h"

/* The largest response body taken (a GetItem of a big message in
 * base64 fits); past it a request fails with -EMSGSIZE. */
#define EWS_RESPONSE_MAX (64u * 1024 * 1024)
/* The largest message content taken, decoded. */
#define EWS_MIME_MAX (40u * 1024 * 1024)
/* Items per GetItem, and the sum of their EWS sizes a batch aims under. */
#define EWS_BATCH_ITEMS 32
#define EWS_BATCH_BYTES (8u * 1024 * 1024)
/* SyncFolderItems page size. */
#define EWS_SYNC_PAGE 512
/* Longest ErrorServerBusy back-off slept through before failing. */
#define EWS_BUSY_WAIT_MAX_MS 10000

enum ewsc_auth { EWS_AUTH_BASIC, EWS_AUTH_NTLM, EWS_AUTH_BEARER };

struct ewsc_cfg {
	char *name;			/* the account's */
	char *url;
	char *user;
	char *password;			/* secret; NULL with bearer */
	char *token_cmd;		/* bearer: prints the token */
	struct oauth2_session *oauth2;	/* bearer: built-in OAuth2, or
					   NULL */
	char *ca_file;
	enum ewsc_auth auth;
	bool auth_set;			/* `auth =` chose it */
	bool plaintext;			/* http:// was allowed */
	unsigned timeout;		/* seconds, per operation */
	unsigned poll_interval;		/* seconds */
	uint64_t spool_max;		/* bytes the spool may hold */
};

/* One folder as the server has it. */
struct ewsc_folder {
	char *path;			/* the mount's path */
	char *id;			/* EWS FolderId */
	char *parent_id;		/* EWS FolderId of the parent */
	char *special;			/* "\\Sent"..., or NULL */
	enum mfs_folder_kind kind;
};

/* What the backend knows of one item of a folder. */
struct ewsc_known {
	char *item_id;			/* EWS ItemId */
	uint64_t size;			/* exact MIME length */
	int64_t date;
	uint64_t flags;
	char *message_id;		/* NULL when unknown */
	char *base;			/* a contact's or event's name before
					   its suffix (names.c); NULL for
					   mail */
};

/* One folder's item table: mfs id -> struct ewsc_known. */
struct ewsc_table {
	char *folder_id;		/* EWS FolderId it belongs to */
	GHashTable *items;		/* owned */
	bool dirty;			/* not yet written */
	bool gone;			/* its folder left the hierarchy and
					   the spool was rid of its items */
	bool rename;			/* a write renamed items the cache
					   was not told of: the next sync
					   reads the folder whole */
};

struct ewsc_watch;

struct mfs_backend {
	struct ewsc_cfg cfg;		/* owned; read-only after open */
	char *work_dir;			/* owned */
	struct mfs_spool *spool;	/* owned; bodies fetched at sync */
	GMutex lock;
	GHashTable *folders;		/* path -> struct ewsc_folder; lock */
	GHashTable *tables;		/* path -> struct ewsc_table; lock */
	GHashTable *tree_warned;	/* set of the FolderIds whose place in
					   the hierarchy was found wrong and
					   said so once; lock */
	char *token;			/* bearer token; secret; lock */
	char *server_version;		/* from ServerVersionInfo; lock */
	long last_status;		/* the last answer's HTTP status, for
					   `mailfs check`; lock */
	gint64 last_sync;		/* real time, us; lock */
	char *last_error;		/* lock */
	struct ewsc_watch *watch;	/* owned */
};

/* A parsed response: its document and its response messages. */
struct ewsc_response {
	xmlDoc *doc;			/* owned */
	xmlNode *op;			/* borrowed: m:<Op>Response */
	GPtrArray *msgs;		/* of xmlNode *, borrowed from doc:
					   each ResponseMessage */
	char *version;			/* ServerVersionInfo's Version */
};

/* One response message's outcome. */
struct ewsc_status {
	int rc;				/* 0 or -errno */
	char code[64];			/* ResponseCode */
	char text[160];			/* MessageText, cut */
	unsigned backoff_ms;		/* ErrorServerBusy's, 0 when none */
};

/* ---- request.c: envelopes ---- */

/* A request document up to the opening of its operation's parent: the
 * envelope with the m:/t: prefixes and RequestServerVersion.  Caller
 * owns the result. */
GString *ewsc_req_begin(void);
/* Close Body and Envelope. */
void ewsc_req_end(GString *req);
/* Append a t:ItemId/t:FolderId-like element: <`elem` Id="`id`"/>. */
void ewsc_req_id(GString *req, const char *elem, const char *id);

/* ---- response.c: reading responses ---- */

/* Parse a whole response body.  Returns 0 with *res_r (caller owns,
 * ewsc_response_free), or -errno (-EPERM for a DOCTYPE, -EMSGSIZE, -EPROTO
 * for what is not an EWS response) with `e` set.  A SOAP Fault is turned
 * into its ResponseCode's errno. */
int ewsc_response_parse(const char *buf, size_t len,
		       struct ewsc_response **res_r, struct mfs_error *e);
void ewsc_response_free(struct ewsc_response **res);
/* The outcome of one response message (ResponseClass, ResponseCode,
 * MessageText, BackOffMilliseconds). */
void ewsc_status_of(const xmlNode *msg, struct ewsc_status *st);
/* A failed response message `st` of `op` on `folder` (NULL when the
 * operation works on none) set in `e` with the scope and retry of its
 * ResponseCode.  Returns st->rc. */
int ewsc_status_error(const struct ewsc_status *st, const char *op,
		      const char *folder, struct mfs_error *e);
/* The errno of an EWS ResponseCode, and how far it reaches and whether
 * to retry.  Unknown codes are -EIO, final, item scope. */
int ewsc_code_to_errno(const char *code, enum mfs_err_scope *scope_r,
		      enum mfs_err_retry *retry_r);
/* The text of the first child `name` (types namespace, then messages)
 * of `node`; caller owns; NULL when absent. */
char *ewsc_text(const xmlNode *node, const char *name);
/* Any element named `name` (either namespace) below `node`, depth
 * first, or NULL.  Borrowed. */
xmlNode *ewsc_find(const xmlNode *node, const char *name);

/* ---- http.c: the exchange ---- */

/* POST `req` and parse the answer.  Honours ErrorServerBusy within
 * EWS_BUSY_WAIT_MAX_MS, turns HTTP failures and SOAP Faults into errnos
 * (401 -EACCES, 503 -EAGAIN...).  Each response message's own outcome is
 * the caller's to read (ewsc_status_of).  `op` names the operation for
 * logs.  Returns 0 with *res_r (caller owns), or -errno with `e` set. */
int ewsc_call(struct mfs_backend *be, const char *op, const GString *req,
	     struct ewsc_response **res_r, struct mfs_error *e);
/* ewsc_call() of an operation that answers with one response message:
 * *msg_r is the first, borrowed from *res_r (caller owns).  An answer
 * holding none fails with -EPROTO, of `scope` since what failed is
 * whatever the operation works on.  Returns 0 or -errno with `e` set
 * (*res_r then NULL). */
int ewsc_call_one(struct mfs_backend *be, const char *op, const GString *req,
		  enum mfs_err_scope scope, struct ewsc_response **res_r,
		  xmlNode **msg_r, struct mfs_error *e);
void ewsc_http_init(void);

/* ---- ids.c ---- */

/* The mount's id of an ItemId.  Caller owns. */
char *ewsc_id_from_item(const char *item_id);
/* The ItemId of a mount id of this folder (the table for hashed ids);
 * caller owns; -ENOENT when it cannot be known. */
int ewsc_item_from_id(struct mfs_backend *be, const char *folder,
		     const char *id, char **item_id_r);

/* ---- flags.c: flags as item properties ---- */

/* The AdditionalProperties that ewsc_item_read() needs. */
void ewsc_req_item_props(GString *req);
/* An item's flags, date, Message-ID and EWS size from a t:Message.
 * *msgid_r caller owns, may be NULL. */
void ewsc_item_read(const xmlNode *msg, uint64_t *flags_r, int64_t *date_r,
		   char **msgid_r, uint64_t *ews_size_r);
/* The ItemChange updates (t:Updates content) that set exactly `flags`. */
void ewsc_req_flag_updates(GString *req, uint64_t flags);
/* CreateItem's properties for a new item with `flags`. */
void ewsc_req_new_item_flags(GString *req, uint64_t flags);

/* ---- folders.c ---- */

int ewsc_list_folders(struct mfs_backend *be, GPtrArray **folders_r,
		     struct mfs_error *e);
/* The FolderId of `path` (the folder map, listing once if needed);
 * caller owns.  -ENOENT when there is none. */
int ewsc_folder_id(struct mfs_backend *be, const char *path, char **id_r,
		  enum mfs_folder_kind *kind_r, struct mfs_error *e);
int ewsc_create_folder(struct mfs_backend *be, const char *path,
		      enum mfs_folder_kind kind, struct mfs_error *e);
int ewsc_rename_folder(struct mfs_backend *be, const char *from,
		      const char *to, struct mfs_error *e);
int ewsc_delete_folder(struct mfs_backend *be, const char *path,
		      struct mfs_error *e);
void ewsc_folder_free(gpointer p);

/* ---- table.c: per-folder item tables (lock held) ---- */

/* The table of `path` for FolderId `folder_id`, loaded from the work
 * directory or new.  Borrowed; valid while `lock` is held. */
struct ewsc_table *ewsc_table_get(struct mfs_backend *be, const char *path,
				const char *folder_id);
void ewsc_table_put(struct ewsc_table *t, const char *id,
		   const struct ewsc_known *k);
/* Write the table if it changed (temporary file, rename).  0 or -errno. */
int ewsc_table_save(struct mfs_backend *be, const char *path,
		   struct ewsc_table *t);
void ewsc_table_free(gpointer p);
void ewsc_known_free(gpointer p);

/* ---- mime.c: GetItem and MimeContent ---- */

/* GetItem of `n` items (ItemIds), with their MimeContent when `mime` and
 * their properties (ewsc_item_read) when `props`: `got` is called for each
 * one that came, with its index, decoded bytes (NULL, 0 without `mime`)
 * and t:Message (borrowed for the call).  Items the server does not have
 * are skipped; `rcs` (may be NULL) gets each item's outcome.  Returns 0,
 * or -errno for the exchange itself (nothing delivered then). */
typedef void (*ewsc_item_fn)(size_t i, const void *buf, size_t len,
			    const xmlNode *msg, void *data);
int ewsc_get_items(struct mfs_backend *be, const char *const *item_ids,
		  size_t n, bool mime, bool props, int *rcs, ewsc_item_fn got,
		  void *data, struct mfs_error *e);
/* Decode a t:MimeContent, bounded by EWS_MIME_MAX.  *buf_r caller owns.
 * 0, or -EBADMSG / -EFBIG. */
int ewsc_mime_decode(const xmlNode *mime, guchar **buf_r, size_t *len_r);

/* ---- sync.c: SyncFolderItems, shared by mail and PIM folders ---- */

/* The tag of FolderId `fid` in *tag_r, and in *ews_state_r the server's
 * SyncState that the cache's `state` holds when it was made for that
 * folder, else NULL (from scratch).  Caller owns both. */
void ewsc_sync_state_split(const char *fid, const char *state, char **tag_r,
			   char **ews_state_r);
/* What one page's m:Changes (borrowed for the call) mean to the caller.
 * Returns 0, or -errno with `e` set, which ends the paging. */
typedef int (*ewsc_changes_fn)(const xmlNode *changes, void *data,
			       struct mfs_error *e);
/* Every SyncFolderItems page of FolderId `fid` (`folder` is its path, for
 * messages) from *state_r (NULL: from scratch) on, each page's changes
 * handed to `changes` with `data`; *state_r (caller owns) is the last
 * state the server gave.  With `props` the items come with the properties
 * of ewsc_req_item_props(), else with their ids only.  Returns 0, or
 * -errno with `e` set: -ESTALE when the server no longer knows *state_r. */
int ewsc_sync_pages(struct mfs_backend *be, const char *folder,
		    const char *fid, bool props, char **state_r,
		    ewsc_changes_fn changes, void *data, struct mfs_error *e);

/* ---- sync.c, items.c, watch.c: the members ---- */

int ewsc_sync(struct mfs_backend *be, const char *folder, const char *state,
	     struct mfs_sync_result **res_r, struct mfs_error *e);
int ewsc_fetch(struct mfs_backend *be, const char *folder, const char *id,
	      int *fd_r, struct mfs_error *e);
int ewsc_fetch_batch(struct mfs_backend *be, const char *folder,
		    const char *const *ids, size_t n, mfs_fetched_fn got,
		    void *data, struct mfs_error *e);
int ewsc_append(struct mfs_backend *be, const char *folder,
		const struct mfs_append *in, size_t n, GPtrArray **items_r,
		struct mfs_error *e);
int ewsc_set_flags(struct mfs_backend *be, const char *folder,
		   const char *const *ids, const uint64_t *flags, size_t n,
		   int *rcs, struct mfs_error *e);
int ewsc_remove(struct mfs_backend *be, const char *folder,
		const char *const *ids, size_t n, struct mfs_error *e);
int ewsc_move(struct mfs_backend *be, const char *folder,
	      const char *const *ids, const char *dest, const uint64_t *flags,
	      size_t n, bool move, GPtrArray **items_r, struct mfs_error *e);
int ewsc_watch_start(struct mfs_backend *be, mfs_change_fn fn, void *data);
void ewsc_watch_stop(struct mfs_backend *be);

/* Record the outcome of a sync for describe(). */
void ewsc_note_sync(struct mfs_backend *be, int rc, const struct mfs_error *e);
/* client.c: a backend with the account's settings and nothing fetched
 * yet (0, or -EINVAL with the reason in *err); caller owns *be_r
 * (ewsc_backend_free, which clears it). */
int ewsc_backend_new(const struct mfs_account *acct, struct mfs_backend **be_r,
		     GError **err);
void ewsc_backend_free(struct mfs_backend **be);

/* check.c: `mailfs check` of an EWS account (backend.h). */
int ewsc_check(const struct mfs_account *acct, struct mfs_check *ck);

#endif
