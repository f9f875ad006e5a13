/*
 * mapic-private.h - the MAPI over HTTP client's first layer, shared by the
 * files of protocols/mapi only: one HTTP exchange (http.c), the EMSMDB
 * session with its mailbox logon (session.c) and the Execute batches
 * that carry ROPs (exec.c).  The codecs are protocols/wire's.
 *
 * Specs: [MS-OXCMAPIHTTP] (requests, cookies, meta-tags, X-ResponseCode),
 * [MS-OXCRPC] 2.2.2.1 (RPC_HEADER_EXT), [MS-OXCROPS] 2.2.1 (ROP buffers
 * and their handle tables), [MS-OXCSTOR] (RopLogon).
 *
 * How the pieces above use it, in short:
 *
 *   struct mapic_session *s = mapic_session_new(&conf);
 *   mapic_session_open(s, &e);                 Connect + RopLogon
 *   struct mapic_exec *x = mapic_exec_new(s);
 *   mapic_exec_begin(x);
 *   uint8_t in = mapic_exec_logon(x), out = mapic_exec_out(x);
 *   rop_open_folder_req_write(mapic_exec_buf(x), &(struct
 *       rop_open_folder_req){ .input_handle_index = in,
 *       .output_handle_index = out, .folder_id = fid });
 *   mapic_exec_run(x, &e);                     one Execute
 *   rop_open_folder_resp_read(mapic_exec_rd(x), &resp);  in order
 *   uint32_t folder = mapic_exec_handle(x, out);
 *   mapic_exec_end(x, &e);                     the trailing RopNotify...
 *   ... more Executes on `folder` through mapic_exec_in(x, folder) ...
 *   mapic_exec_free(&x);                       releases what x opened
 *
 * Locking: a session's `lock` is held for each whole Execute (and the
 * Connect or re-Connect it may need), because the server numbers them by
 * the sequence cookie and takes them one at a time.  Several mapic_exec
 * may be used at once on one session, from several threads.
 *
 * Ownership: results through _r parameters belong to the caller; strings
 * in the structs below are owned by them.  The password never leaves
 * libcurl's hands and the struct, which wipes it when freed.
 */
#ifndef MFS_MAPI_CLIENT_PRIVATE_H
#define MFS_MAPI_CLIENT_PRIVATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "wire/mapi-buf.h"
#include "wire/mapi-http.h"
#include "wire/mapi-pim.h"
#include "wire/rop-msg.h"
#include "wire/rop.h"

/* The largest binary part of an answer taken (an Execute's ROP buffer is
 * at most MaxRopOut, 0x10008, per extended buffer); past it a request
 * fails with -EMSGSIZE. */
#define MAPIC_RESPONSE_MAX (4u * 1024 * 1024)
/* The most of a failure page kept for its diagnostic sentence. */
#define MAPIC_DIAG_MAX (16u * 1024)
/* MaxRopOut of our Execute requests, as Outlook sends it. */
#define MAPIC_MAX_ROP_OUT 0x10008u
/* The longest cookie value kept; a longer one is ignored. */
#define MAPIC_COOKIE_MAX 256
/* PROCESSING and PENDING lines taken in one answer. */
#define MAPIC_KEEPALIVE_MAX 4096
/* Handle slots of one Execute (the table is indexed by a byte). */
#define MAPIC_SLOTS_MAX 255

enum mapic_auth {
	MAPIC_AUTH_BASIC,
	MAPIC_AUTH_NTLM,
	MAPIC_AUTH_NEGOTIATE,
	MAPIC_AUTH_BEARER,	/* `password` is the token */
};

/* What a session needs to know; the caller fills it and keeps it alive
 * as long as the sessions made from it. */
struct mapic_conf {
	char *name;			/* the account's, for messages */
	char *url;			/* the server: "https://host[:port]" */
	char *mailbox;			/* MailboxId; NULL: the user */
	char *user;
	char *password;			/* secret */
	char *user_dn;			/* the ESSDN Connect and Logon name */
	char *ca_file;			/* NULL: the system's CAs */
	enum mapic_auth auth;
	unsigned timeout;		/* seconds, per operation */
	unsigned pending_max;		/* seconds a server may keep one
					   request alive with PENDING */
};

/* Free what the conf owns, wiping the password. */
void mapic_conf_clear(struct mapic_conf *c);

/* ---- http.c: one request to one endpoint ---- */

/* One endpoint's context: its URL and the cookies of the session the
 * server keeps for us there.  Used under its owner's lock. */
struct mapic_http {
	const struct mapic_conf *conf;	/* borrowed */
	char *url;			/* owned; with ?MailboxId= */
	char *sid;			/* owned; the sid cookie, or NULL */
	char *sequence;			/* owned; the latest sequence */
	char request_guid[37];		/* of X-RequestId */
	char client_guid[37];		/* of X-ClientInfo */
	uint64_t seq;			/* X-RequestId's counter */
	uint32_t last_rc;		/* the last X-ResponseCode seen */
};

/* Set up `h` for the emsmdb (`nspi` false) or nspi endpoint of `conf`. */
void mapic_http_init(struct mapic_http *h, const struct mapic_conf *conf,
		     bool nspi);
void mapic_http_clear(struct mapic_http *h);
/* Forget the cookies: the next request starts a new server session. */
void mapic_http_forget(struct mapic_http *h);

/*
 * POST `req` as a request of type `t` with the session's cookies, and
 * take the answer: the binary part after the meta-tags in *body_r
 * (caller owns it).  The cookies the answer sets are kept, whatever its
 * outcome.  Returns 0, or -errno with `e` filled: -EACCES for a login
 * refused (401) or forbidden, -ESTALE when the server no longer knows
 * the session or its sequence (X-ResponseCode 2, 6, 7, 10 or 15: the
 * numbers of gromox and of MS-OXCMAPIHTTP), -EPROTO for another non-zero
 * X-ResponseCode (the server's sentence in the message) or a malformed
 * answer, -ETIMEDOUT, -EMSGSIZE, -EAGAIN (busy), -EIO, -ECONNREFUSED.
 */
int mapic_http_post(struct mapic_http *h, enum mapi_req t,
		    const GByteArray *req, GByteArray **body_r,
		    struct mfs_error *e);

/* ---- session.c: Connect, RopLogon, Disconnect ---- */

struct mapic_session {
	const struct mapic_conf *conf;	/* borrowed */
	GMutex lock;			/* one Execute at a time */
	struct mapic_http http;		/* protected by lock */
	bool connected;			/* protected by lock */
	unsigned epoch;			/* protected by lock; counts Connects,
					   so handles of an earlier one are
					   known stale */
	unsigned reconnects;		/* protected by lock */
	/* atomic: answers of any Execute that carried RopNotify entries, so
	 * that the watcher hears of events another Execute took (watch.c) */
	gint notifies;
	/* what Connect answered; protected by lock */
	char *display_name;		/* owned; UTF-8 */
	char *dn_prefix;		/* owned; 8-bit */
	uint32_t polls_max, retry_count, retry_delay;
	/* what RopLogon answered; protected by lock */
	uint32_t logon_handle;
	uint64_t folder_ids[ROP_LOGON_N_FOLDERS];
	uint8_t mailbox_guid[16];
	uint16_t repl_id;
	uint8_t repl_guid[16];
};

/* The 13 folder ids of a private logon, in RopLogon's order. */
enum mapic_special {
	MAPIC_FID_ROOT = 0,
	MAPIC_FID_DEFERRED_ACTION,
	MAPIC_FID_SPOOLER_QUEUE,
	MAPIC_FID_IPM_SUBTREE,
	MAPIC_FID_INBOX,
	MAPIC_FID_OUTBOX,
	MAPIC_FID_SENT,
	MAPIC_FID_DELETED,
	MAPIC_FID_COMMON_VIEWS,
	MAPIC_FID_SCHEDULE,
	MAPIC_FID_FINDER,
	MAPIC_FID_VIEWS,
	MAPIC_FID_SHORTCUTS,
};

/* Caller owns the result (mapic_session_free); nothing is sent yet. */
struct mapic_session *mapic_session_new(const struct mapic_conf *conf);
/* Disconnect when connected (errors only logged), then free. */
void mapic_session_free(struct mapic_session **s);

/* Connect and log on now, unless done.  Returns 0 or -errno as
 * mapic_http_post, -EACCES for a Connect or logon the server refuses. */
int mapic_session_open(struct mapic_session *s, struct mfs_error *e);
/* Disconnect.  Returns 0 or -errno. */
int mapic_session_close(struct mapic_session *s, struct mfs_error *e);
/* A special folder's id (0 before a logon).  Takes the lock. */
uint64_t mapic_session_folder(struct mapic_session *s, enum mapic_special f);

/* With s->lock held: Connect and RopLogon when not connected. */
int mapic_session_ensure_locked(struct mapic_session *s, struct mfs_error *e);
/* With s->lock held: the server forgot the session; forget it too. */
void mapic_session_lost_locked(struct mapic_session *s);

/* "alice@example.test on https://host": who failed, for messages.
 * Caller owns the result. */
char *mapic_who(const struct mapic_conf *c);

/* What a ROP's ReturnValue means as an errno (MAPI_E_NOT_FOUND is
 * -ENOENT, ...); -EPROTO for values not in the table. */
int mapic_rv_to_errno(uint32_t rv);

/* ---- exec.c: Execute batches ---- */

/*
 * One Execute with s->lock held: `rops` is a ROP buffer (RopSize, ROPs,
 * handle table) sent in one extended buffer; the answer's ROP buffer in
 * *payload_r (caller owns it).  Returns 0 or -errno (-ESTALE for a
 * session the server forgot, by X-ResponseCode, StatusCode or a first
 * ROP answering MAPI_E_END_OF_SESSION).
 */
int mapic_execute_locked(struct mapic_session *s, const GByteArray *rops,
			 GByteArray **payload_r, struct mfs_error *e);

struct mapic_exec;			/* opaque; exec.c */

/* Caller owns the result (mapic_exec_free). */
struct mapic_exec *mapic_exec_new(struct mapic_session *s);
/* Release what the batch opened (one Execute of RopRelease; errors are
 * only logged) and free it. */
void mapic_exec_free(struct mapic_exec **x);

/* Start the next Execute: an empty ROP buffer and handle table. */
void mapic_exec_begin(struct mapic_exec *x);
/* The ROP buffer: write requests with rop_*_req_write, LogonId 0.
 * Borrowed; valid until mapic_exec_run. */
GByteArray *mapic_exec_buf(struct mapic_exec *x);
/* A slot holding the session's logon handle (after a re-Connect, the
 * new one). */
uint8_t mapic_exec_logon(struct mapic_exec *x);
/* A slot holding `handle`, from an earlier mapic_exec_handle(). */
uint8_t mapic_exec_in(struct mapic_exec *x, uint32_t handle);
/* An output slot (0xFFFFFFFF); what the server put there is
 * mapic_exec_handle() after the run, released by mapic_exec_free(). */
uint8_t mapic_exec_out(struct mapic_exec *x);
/* A RopRelease of `handle`, which the batch then no longer releases. */
void mapic_exec_release(struct mapic_exec *x, uint32_t handle);

/*
 * Send the Execute.  A session the server forgot is connected again and
 * the Execute sent once more, when it uses no handle of the old session
 * (-ESTALE otherwise: the caller starts over).  Returns 0 or -errno
 * with `e` filled; the responses are then read through mapic_exec_rd().
 */
int mapic_exec_run(struct mapic_exec *x, struct mfs_error *e);
/* The responses of the last run, to be read in order with the
 * rop_*_resp_read functions.  Borrowed; valid until the next begin. */
struct mapi_rd *mapic_exec_rd(struct mapic_exec *x);
/* The handle the server put in slot `slot` (0xFFFFFFFF for none). */
uint32_t mapic_exec_handle(struct mapic_exec *x, uint8_t slot);
/*
 * After the regular responses were read: the trailing RopNotify,
 * RopPending and RopBackoff entries are taken (mapic_exec_trailers).
 * Returns 0, or -EPROTO for bytes that are none of them.
 */
int mapic_exec_end(struct mapic_exec *x, struct mfs_error *e);
/* The trailers taken by the last mapic_exec_end.  Borrowed; valid until
 * the next begin. */
const struct rop_trailer *mapic_exec_trailers(struct mapic_exec *x,
					      size_t *n_r);

/* Fill `e` for a response `what` ("OpenFolder") that could not be read
 * (rc from its reader) or that failed (rv != 0); returns the -errno. */
int mapic_exec_bad(struct mapic_exec *x, const char *what, int rc,
		   struct mfs_error *e);
int mapic_exec_failed(struct mapic_exec *x, const char *what, uint32_t rv,
		      enum mfs_err_scope scope, struct mfs_error *e);

/* ---- the backend (`type = mapi`): client.c, folders.c, sync.c, items.c,
 * check.c ----
 *
 * Item ids: a message's id on the mount is its MID as 16 hex digits
 * (mapic_id_of): the REPLID and the GLOBCNT the server gave it, which
 * stay the message's while it stays in its folder (a move gives a new
 * one).  No '/' can come in.
 *
 * Sizes: a message is a file rendered from its properties
 * (wire/mapi-mail.h), so sync renders every new or changed message of
 * the ICS download and keeps the bytes in the spool (spool.h) until
 * fetch() hands them over; the size is the rendered length.
 *
 * Locking: `lock` protects the folder map and the item tables; no lock
 * is held across a request (the session has its own).
 */
#include "spool.h"

/* One folder of the mailbox as the mount shows it. */
struct mapic_folder {
	char *path;			/* the mount's */
	uint64_t fid;
	enum mfs_folder_kind kind;
	char *special;			/* "\\Sent"..., or NULL */
};

/* What the backend knows of one message: the mfs_item it was last
 * reported as, so that a read-state change can be reported whole. */
struct mapic_known {
	uint64_t modified;		/* PidTagLastModificationTime, for
					   folders listed by their contents
					   table; 0 when unknown */
	uint64_t size;
	int64_t date;
	uint64_t flags;
	char *message_id;		/* NULL when unknown */
};

/* A folder's messages: mount id -> struct mapic_known. */
struct mapic_table {
	uint64_t fid;
	GHashTable *items;		/* owned */
	bool dirty;			/* not yet written */
	/* a sync holds its folder's table without the lock, so one the map
	 * lets go meanwhile (a folder deleted) is freed by the last holder;
	 * both under the backend's lock */
	unsigned refs;
	bool forgotten;
};

struct mfs_backend {
	struct mapic_conf conf;		/* owned; read-only after open */
	char *email;			/* owned; `email =` */
	bool plaintext;			/* http:// was allowed */
	bool discovered;		/* Autodiscover gave the endpoints */
	unsigned poll_interval;		/* seconds */
	uint64_t spool_max;		/* bytes */
	char *work_dir;			/* owned */
	struct mfs_spool *spool;	/* owned */
	struct mapic_session *session;	/* owned; NULL until discovered */
	GMutex lock;
	GHashTable *folders;		/* path -> struct mapic_folder; lock */
	GHashTable *tables;		/* path -> struct mapic_table; lock */
	gint64 last_sync;		/* real time, us; lock */
	char *last_error;		/* lock */
	struct mapic_dir *dir;		/* owned; lock; made at the first
					   lookup */
	struct mapic_watch *watch;	/* owned; set once by watch() */
	mfs_change_fn watch_fn;
	void *watch_data;		/* borrowed */
};

/* client.c: a backend with the account's settings, nothing sent (0, or
 * -EINVAL with the reason in *err); caller owns *be_r
 * (mapic_backend_free). */
int mapic_backend_new(const struct mfs_account *acct,
		      struct mfs_backend **be_r, GError **err);
void mapic_backend_free(struct mfs_backend **be);
/* The session, after Autodiscover when the account needs it.  Returns 0
 * with *s_r borrowed from `be`, or -errno with `e` filled. */
int mapic_backend_session(struct mfs_backend *be, struct mapic_session **s_r,
			  struct mfs_error *e);
/* Record the outcome of a sync for describe(). */
void mapic_note_sync(struct mfs_backend *be, int rc,
		     const struct mfs_error *e);

/* folders.c */
int mapic_list_folders(struct mfs_backend *be, GPtrArray **folders_r,
		       struct mfs_error *e);
/* The FolderId of `path` (listing once when the map does not know it).
 * Returns 0, or -ENOENT with `e` filled. */
int mapic_folder_fid(struct mfs_backend *be, const char *path,
		     uint64_t *fid_r, struct mfs_error *e);
void mapic_folder_free(gpointer p);

/* The mount id of a MID.  Caller owns. */
char *mapic_id_of(uint64_t mid);
/* The MID of a mount id; -ENOENT when `id` is none of ours. */
int mapic_mid_of(const char *id, uint64_t *mid_r);
/* The mount's flags of a message's properties; of PidTagMessageFlags,
 * PidTagFlagStatus and PidTagLastVerbExecuted. */
uint64_t mapic_flags_of(const struct mapi_props *p);
uint64_t mapic_flags_from(uint32_t msg_flags, int32_t flag_status,
			  int32_t last_verb);

/* sync.c, with the item tables (lock held for the table calls) */
int mapic_sync(struct mfs_backend *be, const char *folder, const char *state,
	       struct mfs_sync_result **res_r, struct mfs_error *e);
struct mapic_table *mapic_table_get(struct mfs_backend *be, const char *path,
				    uint64_t fid);
int mapic_table_save(struct mfs_backend *be, const char *path,
		     struct mapic_table *t);
void mapic_table_free(gpointer p);
/* With the lock held: the table of `path`, held until
 * mapic_table_release (mapic_table_get's result is borrowed only while
 * the lock is held). */
struct mapic_table *mapic_table_hold(struct mfs_backend *be, const char *path,
				     uint64_t fid);
void mapic_table_release(struct mapic_table *t);
/* The map's destroy function: frees a table nobody holds, else leaves
 * it to the last holder.  Lock held. */
void mapic_table_forget(gpointer p);
void mapic_known_free(gpointer p);
/* Message `id` of `folder` rendered anew, by a download of the folder
 * (see sync.c), and with item_r non-NULL the item a sync reports it as.
 * Returns 0 with *buf_r and *item_r (caller owns both) or -errno;
 * -ENOTSUP where the server refuses ICS on the folder. */
int mapic_sync_one(struct mfs_backend *be, const char *folder,
		   const char *id, GByteArray **buf_r, struct mfs_item **item_r,
		   struct mfs_error *e);

struct mapic_names;

/*
 * Message `mid` of folder `fid`, a folder of `kind`, read by OpenMessage
 * and rendered (items.c): as MIME in a mail folder, as a vCard or an
 * iCalendar object in a contacts or calendar folder (pim.c), there with
 * the named property ids of `names` (NULL: asked for here).  Returns 0
 * with *buf_r and, when m_r is not NULL, the message read in *m_r
 * (caller owns both), or -errno with `e` filled (-ENOENT: the server has
 * no such message; -ENOTSUP: the message is not of the folder's kind, a
 * distribution list among contacts; -EINVAL: it cannot be rendered).
 */
int mapic_read_rendered(struct mapic_session *s, uint64_t fid, uint64_t mid,
			enum mfs_folder_kind kind, struct mapic_names *names,
			GByteArray **buf_r, struct mapi_message **m_r,
			struct mfs_error *e);

/* items.c */
int mapic_fetch(struct mfs_backend *be, const char *folder, const char *id,
		int *fd_r, struct mfs_error *e);

/* changes.c: the members that change the mailbox, the Directory folder
 * and the watcher (backend.h's contracts). */
#define MAPIC_DIRECTORY "Directory"
int mapic_list_all(struct mfs_backend *be, GPtrArray **folders_r,
		   struct mfs_error *e);
int mapic_sync_any(struct mfs_backend *be, const char *folder,
		   const char *state, struct mfs_sync_result **res_r,
		   struct mfs_error *e);
int mapic_append(struct mfs_backend *be, const char *folder,
		 const struct mfs_append *in, size_t n, GPtrArray **items_r,
		 struct mfs_error *e);
int mapic_set_flags(struct mfs_backend *be, const char *folder,
		    const char *const *ids, const uint64_t *flags, size_t n,
		    int *rcs, struct mfs_error *e);
int mapic_remove(struct mfs_backend *be, const char *folder,
		 const char *const *ids, size_t n, struct mfs_error *e);
int mapic_move(struct mfs_backend *be, const char *folder,
	       const char *const *ids, const char *dest,
	       const uint64_t *flags, size_t n, bool move,
	       GPtrArray **items_r, struct mfs_error *e);
int mapic_create_folder(struct mfs_backend *be, const char *path,
			enum mfs_folder_kind kind, struct mfs_error *e);
int mapic_rename_folder(struct mfs_backend *be, const char *from,
			const char *to, struct mfs_error *e);
int mapic_delete_folder(struct mfs_backend *be, const char *path,
			struct mfs_error *e);
int mapic_lookup(struct mfs_backend *be, const char *folder,
		 const char *query, bool prefix, GPtrArray **entries_r,
		 struct mfs_error *e);
int mapic_watch(struct mfs_backend *be, mfs_change_fn fn, void *data);

/* check.c: `mailfs check` of a mapi account (backend.h). */
int mapic_check(const struct mfs_account *acct, struct mfs_check *ck);
/* ---- message.c: one message by RopOpenMessage ---- */

/* The most bytes one message may bring by stream (its big bodies and
 * attachments together); past it a read fails with -EFBIG. */
#define MAPIC_MESSAGE_MAX (256u * 1024 * 1024)
/* Recipients and attachments of one message (or attached message). */
#define MAPIC_RECIPS_MAX 2000u
#define MAPIC_ATTACH_MAX 1000u

/*
 * The message `mid` of folder `fid`, read whole: its properties (those
 * too big for an answer by stream), recipients, attachments with their
 * bytes, and attached messages MAPI_MAIL_MAX_EMBED deep.  Returns 0 with
 * *msg_r set (caller owns it, mapi_message_free), -ENOENT for a message
 * the server does not have, -EFBIG for one larger than
 * MAPIC_MESSAGE_MAX, -EPROTO for answers that do not add up (a stream
 * shorter than it said, a list that never ends), or another -errno of
 * mapic_exec_run; `e` says which.
 */
int mapic_message_read(struct mapic_session *s, uint64_t fid, uint64_t mid,
		       struct mapi_message **msg_r, struct mfs_error *e);
/* The same with RopGetPropertiesAll instead of the mail properties:
 * every property the server has for the message, named ones with the
 * ids of this mailbox (contacts and appointments, whose properties are
 * mostly named). */
int mapic_message_read_all(struct mapic_session *s, uint64_t fid,
			   uint64_t mid, struct mapi_message **msg_r,
			   struct mfs_error *e);

/* ---- ctable.c: a folder's contents table ---- */

/* The most rows of one contents table taken; a longer table is an
 * error (-EPROTO). */
#define MAPIC_CONTENTS_MAX 1000000u

/* One message of a contents table.  Times are FILETIMEs, 0 when the
 * server gave none; so are the other numbers. */
struct mapic_content_row {
	uint64_t mid;
	uint64_t modified;		/* PidTagLastModificationTime */
	uint64_t delivered;		/* PidTagMessageDeliveryTime */
	uint32_t flags;			/* PidTagMessageFlags */
	uint32_t size;			/* PidTagMessageSize */
	int32_t flag_status;		/* PidTagFlagStatus */
	int32_t last_verb;		/* PidTagLastVerbExecuted */
	struct mapi_bin change_key;	/* owned; PidTagChangeKey */
	char *message_id;		/* owned; PidTagInternetMessageId, or
					   NULL */
};

/*
 * Every message of folder `fid`'s contents table (not its associated
 * ones), in the table's order.  Returns 0 with *rows_r set: a GArray of
 * struct mapic_content_row that the caller owns (g_array_unref frees the
 * rows too); or -errno with `e` filled: -ENOENT for a folder the server
 * does not have, -EPROTO for a table that does not add up (a page that
 * says more rows than it holds, a row without an id, more rows than
 * twice its RowCount and 1,000, or than MAPIC_CONTENTS_MAX), or another
 * of mapic_exec_run.
 */
int mapic_contents_list(struct mapic_session *s, uint64_t fid,
			GArray **rows_r, struct mfs_error *e);
/* ---- pim.c: the items of contacts and calendar folders ----
 *
 * A contact is a `.vcf` file, an appointment an `.ics` file, rendered by
 * wire/mapi-pim.h at sync into the spool as mail is, so that its size is
 * exact; its mount id is the MID's with the suffix.  Most of their
 * properties are named: the codec asks a struct mapi_pim_names for their
 * ids, which come from the names an ICS download carries (a struct
 * mapic_names filled as the stream is read), or, for the contents
 * table's way, from RopGetPropertyIdsFromNames.
 */

/* The most bytes of a .vcf or .ics taken for a new item. */
#define MAPIC_PIM_MAX (8u * 1024 * 1024)

/* Whether `kind` is a contacts or calendar folder's. */
bool mapic_pim_kind(enum mfs_folder_kind kind);
/* The mount id of message `mid` in a folder of `kind`: mapic_id_of's,
 * with ".vcf" in a contacts folder and ".ics" in a calendar.  Caller
 * owns. */
char *mapic_item_id(uint64_t mid, enum mfs_folder_kind kind);
/* The kind of folder `path` in the folder map (MFS_FOLDER_MAIL when the
 * map does not know it).  Takes the backend's lock. */
enum mfs_folder_kind mapic_folder_kind(struct mfs_backend *be,
				       const char *path);

/* Named properties' names and the ids they have.  Caller owns the
 * result (mapic_names_free). */
struct mapic_names *mapic_names_new(void);
void mapic_names_free(struct mapic_names **n);
/* Note that `name` has id `id`; a name already known keeps its first. */
void mapic_names_add(struct mapic_names *n, const struct mapi_fx_named *name,
		     uint16_t id);
/* `n` as the codec asks for ids.  Borrows `n`. */
struct mapi_pim_names mapic_names_pim(struct mapic_names *n);
/* A mapi_fx_cb for an ICS download: the name of each named property
 * noted in `tap->names`, then the event handed to mapi_fx_sync_event
 * on `tap->fx`. */
struct mapic_fx_tap {
	struct mapic_names *names;	/* borrowed */
	struct mapi_fx_sync *fx;	/* borrowed */
};
int mapic_fx_tap_event(void *ctx, struct mapi_fx_event *ev);
/* The ids of the names the codec uses (mapi_pim_names_used), by
 * RopGetPropertyIdsFromNames on the logon; with `create` the mailbox
 * gives an id to a name that has none (for an item to be stored), else
 * such a name stays without.  Returns 0 with *n_r (caller owns) or
 * -errno with `e` filled. */
int mapic_names_fetch(struct mapic_session *s, bool create,
		      struct mapic_names **n_r, struct mfs_error *e);

/* The file of message `m` of a folder of `kind` (contacts or calendar)
 * appended to `out`.  Returns 0, -ENOTSUP for a message of another class
 * (a distribution list among contacts; *why_r says so), or the codec's
 * -errno; *why_r is a borrowed static sentence for the log. */
int mapic_pim_render(enum mfs_folder_kind kind, const struct mapi_message *m,
		     const struct mapi_pim_names *names, GByteArray *out,
		     const char **why_r);

/* ---- directory.c: the address book (NSPI) ---- */

struct mapic_dir;			/* opaque; directory.c */

/* An NSPI context for the account of `c` (borrowed, kept alive by the
 * caller): its own cookies and lock; nothing is sent yet.  Caller owns
 * the result (mapic_dir_free, which sends Unbind when bound). */
struct mapic_dir *mapic_dir_new(const struct mapic_conf *c);
void mapic_dir_free(struct mapic_dir **d);

/*
 * backend.h's lookup(): with `prefix` false, the people whose address,
 * or else display name, is `query` (ResolveNames); with `prefix`, those
 * whose display name or address starts with it (SeekEntries and
 * QueryRows).  *entries_r (caller owns; of struct mfs_dir_entry *) holds
 * "<address>.vcf" entries with vCard 4.0 bodies, at most MFS_DIR_MAX,
 * none when nothing matched.  Returns 0, or -errno as mapic_http_post,
 * -EPROTO for a malformed answer or an NSPI error, -ENOTSUP for a call
 * the server does not support.
 */
int mapic_dir_lookup(struct mapic_dir *d, const char *query, bool prefix,
		     GPtrArray **entries_r, struct mfs_error *e);

/* The ESSDN (LegacyDN) of `address`, by ResolveNames: *dn_r, caller
 * owns.  Returns 0, -ENOENT when the address book does not know it, or
 * the errors of mapic_dir_lookup. */
int mapic_dir_user_dn(struct mapic_dir *d, const char *address, char **dn_r,
		      struct mfs_error *e);

/* How often the server forgot the NSPI session and it was bound again. */
unsigned mapic_dir_rebinds(struct mapic_dir *d);

/* ---- watch.c: change notification ---- */

struct mapic_watch;			/* opaque; watch.c */

/*
 * Start a thread that tells `fn` (called on that thread, with `data`)
 * which folders of the store changed: `fid` a folder whose contents
 * changed, or with `hierarchy` one created, deleted, moved or renamed;
 * fid 0 means "look at everything" (an event whose details were lost,
 * and every `poll_interval` seconds while the server gives no
 * notifications).  It registers on the store (RopRegisterNotification),
 * long-polls NotificationWait and reads the RopNotify entries after an
 * Execute; it registers again after the session was made again.  `s` is
 * borrowed and must outlive the watcher.  Caller owns the result.
 */
struct mapic_watch *mapic_watch_start(struct mapic_session *s,
				      void (*fn)(uint64_t fid, bool hierarchy,
						 void *data),
				      void *data, unsigned poll_interval);
/* Stop (at once: the long poll is woken) and free. */
void mapic_watch_stop(struct mapic_watch **w);
/* ---- write.c, fldops.c: changes to messages and folders ----
 *
 * Ids are the server's MIDs and FIDs; each function runs its own
 * Executes on the session and releases what it opened.  All return 0 or
 * -errno with `e` filled (the account, folder or message named).
 */

/* The most of an Internet message taken for a new item. */
#define MAPIC_MIME_MAX (64u * 1024 * 1024)

struct mapi_message;

/* The MAPI message of the MIME read from `fd` (offset 0 to EOF, at most
 * `max` bytes: -EFBIG past it).  *m_r: caller owns (mapi_message_free).
 * Returns 0, -EFBIG, -EINVAL (no header at all) or the read's -errno. */
int mapic_message_parse_fd(int fd, size_t max, struct mapi_message **m_r,
			   struct mfs_error *e);

/* Create `m` in folder `fid` (CreateMessage, its properties, big ones by
 * stream, recipients, attachments and attached messages, then
 * SaveChangesMessage); *mid_r is the new message's MID.  Nothing is
 * kept by the server unless all of it went through.  PidTagMessageFlags
 * goes as `m` holds it: a message to be stored as read has
 * MSGFLAG_READ there (a server takes the flags before the first save
 * only). */
int mapic_message_create(struct mapic_session *s, uint64_t fid,
			 const struct mapi_message *m, uint64_t *mid_r,
			 struct mfs_error *e);

/* Set the flags (MFS_FLAG_*: S, F, R, P; the others are not the
 * server's) of mids[i] to exactly flags[i].  rcs[i] is 0 or -ENOENT for
 * a message the folder does not hold; returns 0 when the exchange went
 * through (whatever rcs say), else -errno. */
int mapic_flags_set(struct mapic_session *s, uint64_t fid,
		    const uint64_t *mids, const uint64_t *flags, size_t n,
		    int *rcs, struct mfs_error *e);

/* Remove the messages for good (RopHardDeleteMessages, or
 * RopDeleteMessages where the server refuses the former).  A message
 * the folder no longer holds counts as removed; -EIO when one is still
 * there after the server's PartialCompletion. */
int mapic_messages_remove(struct mapic_session *s, uint64_t fid,
			  const uint64_t *mids, size_t n, struct mfs_error *e);

/* Move (or copy) the messages into `dest_fid`; new_mids_r[i] (n of them,
 * the caller's array) is the MID in the destination, or 0 where it was
 * not found there. */
int mapic_messages_move(struct mapic_session *s, uint64_t fid,
			const uint64_t *mids, size_t n, uint64_t dest_fid,
			bool copy, uint64_t *new_mids_r, struct mfs_error *e);

/* A new folder `name` (UTF-8) under `parent_fid`, its container class
 * from `kind` (IPF.Note, IPF.Contact, IPF.Appointment); -EEXIST when the
 * parent has one of that name. */
int mapic_folder_create(struct mapic_session *s, uint64_t parent_fid,
			const char *name, enum mfs_folder_kind kind,
			uint64_t *fid_r, struct mfs_error *e);

/* Delete the empty folder `fid` of `parent_fid`: -ENOTEMPTY while it
 * holds messages or folders (their contents are never deleted here). */
int mapic_folder_delete(struct mapic_session *s, uint64_t parent_fid,
			uint64_t fid, struct mfs_error *e);

/* Move folder `fid` from `parent_fid` into `dest_parent_fid` under the
 * name `new_name` (UTF-8); a rename when the parents are one. */
int mapic_folder_move(struct mapic_session *s, uint64_t parent_fid,
		      uint64_t fid, uint64_t dest_parent_fid,
		      const char *new_name, struct mfs_error *e);

/* Shared by write.c and fldops.c: an OpenFolder of `fid` added to the
 * batch (its output slot returned), and its answer read. */
uint8_t mapic_open_folder_add(struct mapic_exec *x, uint64_t fid);
int mapic_open_folder_read(struct mapic_exec *x, struct mapic_session *s,
			   uint64_t fid, struct mfs_error *e);
/* 0 for a response read (rc) with ReturnValue 0, else `e` filled as
 * mapic_exec_bad or mapic_exec_failed do. */
int mapic_rop_check(struct mapic_exec *x, const char *what, int rc,
		    uint32_t rv, enum mfs_err_scope scope,
		    struct mfs_error *e);

#endif
