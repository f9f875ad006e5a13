/*
 * mapid-private.h - what the files of the embedded MAPI over HTTP server
 * share: the server's state, the sessions (session.c), the EMSMDB
 * requests (emsmdb.c), the ROP dispatch and the objects a session holds
 * (rops.c), the store's folder and message ids (ids.c) and the ROP
 * handlers (logon.c, folder.c, table.c).
 *
 * Specs: MS-OXCMAPIHTTP (transport, sessions), MS-OXCRPC 2.2.2 (the
 * extended buffers of an Execute), MS-OXCROPS (ROPs), MS-OXCDATA 2.2.1
 * (folder and message ids), MS-OXCSTOR (logon), MS-OXCFOLD, MS-OXCTABL.
 *
 * Threads: libmicrohttpd runs a thread per connection.  The session
 * table has a lock of its own; a session's objects are touched only by
 * the request holding the session's `lock` (requests of one session are
 * serialised, as the sequence cookie orders them anyway).  The id table
 * of ids.c has its own lock.
 */
#ifndef MFS_MAPID_PRIVATE_H
#define MFS_MAPID_PRIVATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "serve/serve.h"
#include "wire/mapi-buf.h"
#include "wire/mapi-prop.h"

/* Largest request body taken on /mapi/ (a ROP buffer is at most a few
 * extended buffers of 64 KiB each). */
#define MAPID_BODY_MAX		(1024u * 1024)
/* Idle time after which a session is forgotten (X-ExpirationInfo). */
#define MAPID_EXPIRATION_MS	900000
/* X-PendingPeriod: how often a long request would say PENDING. */
#define MAPID_PENDING_MS	30000
/* Sessions at once, per user and in all. */
#define MAPID_SESSIONS_PER_USER	32
#define MAPID_SESSIONS_MAX	256
/* Objects (handles) a session may hold open at once. */
#define MAPID_OBJECTS_MAX	1024
/* How long a NotificationWait waits before saying nothing happened. */
#define MAPID_NWAIT_MS		5000
#define MAPID_SERVER_APP	"Exchange/15.00.0847.4040"

struct mapid_server {
	const struct serve_ctx *ctx;	/* borrowed */
	bool tls;
};

/* ---- ids.c: FIDs and MIDs (MS-OXCDATA 2.2.1.1-2): ReplId 1 and a
 * 48-bit global counter, kept under STORE/.mailfs-serve/mapi-ids. */

/* The counters of the special folders the Logon names; those the store
 * has no folder for are the server's own, empty ones. */
enum mapid_special {
	MAPID_ROOT = 0x01,
	MAPID_DEFERRED_ACTION = 0x02,
	MAPID_SPOOLER_QUEUE = 0x03,
	MAPID_SHORTCUTS = 0x04,
	MAPID_FINDER = 0x05,
	MAPID_VIEWS = 0x06,
	MAPID_COMMON_VIEWS = 0x07,
	MAPID_SCHEDULE = 0x08,
	MAPID_IPM_SUBTREE = 0x09,
	MAPID_SENT = 0x0A,
	MAPID_DELETED = 0x0B,
	MAPID_OUTBOX = 0x0C,
	MAPID_INBOX = 0x0D,
	MAPID_FIRST_DYNAMIC = 0x100,
};

/* Load the table of `store_root` (once per process). */
void mapid_ids_init(const char *store_root);
/* The id (as the wire's little-endian uint64) of counter `c`. */
uint64_t mapid_id_make(uint64_t c);
/* The counter of an id; 0 when its ReplId is not ours. */
uint64_t mapid_id_counter(uint64_t id);
/* The counter of store folder `path` (`special` its RFC 6154 use or
 * NULL), made and saved when new. */
uint64_t mapid_folder_counter(const char *path, const char *special);
/* The store path of folder counter `c`, or NULL (caller owns). */
char *mapid_folder_path(uint64_t c);
/* A counter never given before, for a message being made: it is saved
 * with the message's key by mapid_message_bind once the message is in
 * the store (one never saved leaves its counter unused). */
uint64_t mapid_counter_new(void);
/* Message `id` of `folder` has counter `c` from now on. */
void mapid_message_bind(const char *folder, const char *id, uint64_t c);
/* The counter of message `id` in `folder`, made when new. */
uint64_t mapid_message_counter(const char *folder, const char *id);
/* The store's replica GUID (PidTagChangeKey's first 16 bytes and the
 * Logon's MailboxGuid/ReplGuid), made once and kept. */
void mapid_repl_guid(uint8_t out[16]);

/* ---- names.c: the store's named property ids (0x8000 up), kept under
 * STORE/.mailfs-serve/mapi-names. */

/* Names the store keeps at most (those the codecs use and those clients
 * make with RopGetPropertyIdsFromNames' Create flag). */
#define MAPID_NAMES_MAX		8192u

struct mapi_fx_named;
struct mapi_pim_names;
struct mapi_fx_names;

/* Load the table of `store_root` and give the names of
 * mapi_pim_names_used() their ids (once per process). */
void mapid_names_init(const char *store_root);
/* The id of name `n`, made when new and `create` (within
 * MAPID_NAMES_MAX); 0 when it has none. */
uint16_t mapid_name_id(const struct mapi_fx_named *n, bool create);
/* The name of id `id` (0x8000 up), or NULL.  Borrowed; valid while the
 * server runs. */
const struct mapi_fx_named *mapid_name_of(uint16_t id);
/* The table as the codecs take it (mapi-pim.h, mapi-fx.h). */
struct mapi_pim_names mapid_pim_names(void);
struct mapi_fx_names mapid_fx_names(void);

/* ---- folder.c: the folder tree the client sees. */

struct mapid_folder {
	uint64_t counter;
	uint64_t parent;		/* counter; 0 for the root */
	char *name;			/* owned; DisplayName */
	char *path;			/* owned; store path, NULL when ours */
	const char *container_class;	/* static or NULL */
	unsigned depth;			/* below the root */
};

/* The whole tree, parents before children: an array of struct
 * mapid_folder (caller owns, g_array_unref).  0 or -errno. */
int mapid_folder_tree(const struct serve_ctx *ctx, GArray **tree_r);
/* The store path of folder `fid`, the tree read once when the id table
 * does not know it yet (caller owns), or NULL. */
char *mapid_fid_path(const struct serve_ctx *ctx, uint64_t fid);
/* Store counts of a folder (0 for ours). */
void mapid_folder_counts(const struct serve_ctx *ctx,
			 const struct mapid_folder *f, int32_t *total_r,
			 int32_t *unread_r);

/* ---- rops.c: a session's objects and the ROP buffer. */

enum mapid_obj_kind { MAPID_OBJ_LOGON = 1, MAPID_OBJ_FOLDER, MAPID_OBJ_TABLE,
		     MAPID_OBJ_MESSAGE, MAPID_OBJ_ATTACH, MAPID_OBJ_STREAM };

struct mapid_obj {
	enum mapid_obj_kind kind;
	uint64_t fid;			/* folder, table: the folder's id */
	/* tables */
	bool hierarchy;
	uint8_t table_flags;
	uint32_t *cols;			/* owned; NULL before SetColumns */
	size_t n_cols;
	GPtrArray *rows;		/* owned; of struct mapi_props * */
	uint32_t pos;
	/* messages, attachments, streams (message.c, attach.c, stream.c) */
	struct mapid_msgref *ref;	/* a reference, or NULL */
	struct mapi_message *msg;	/* borrowed from ref: the message (an
					   attached one for an embedded) */
	struct mapi_attachment *att;	/* borrowed from ref: an attachment */
	bool writable;			/* opened read/write */
	GBytes *data;			/* owned; a stream's bytes */
	uint32_t spos;			/* a stream's seek pointer */
	/* wstream.c: a stream opened to write; its bytes go into the
	 * property `wtag` of `msg` (or `att`) at RopCommitStream or when
	 * it is released */
	GByteArray *wbuf;		/* owned; NULL when read-only */
	uint32_t wtag;
	/* ics.c, notify.c: the object's own state, freed with it */
	void *priv;
	void (*priv_free)(void *priv);
};

struct mapid_session;

/* The context of one ROP: the session's objects and the handle table of
 * the ROP buffer being run. */
struct mapid_rop_ctx {
	const struct serve_ctx *ctx;
	struct mapid_session *sess;
	uint32_t *handles;		/* the buffer's table, updated */
	size_t n_handles;
	size_t room;			/* bytes of response still allowed */
};

/* The object at input handle index `idx`, or NULL with the ReturnValue
 * to answer in *rv_r. */
struct mapid_obj *mapid_obj_at(struct mapid_rop_ctx *rc, uint8_t idx,
			       uint32_t *rv_r);
/* Store `o` (taken) in the session and its handle at output index `idx`.
 * Returns 0, or the ReturnValue to answer (`o` is freed then). */
uint32_t mapid_obj_put(struct mapid_rop_ctx *rc, uint8_t idx,
		       struct mapid_obj *o);
void mapid_obj_free(struct mapid_obj *o);
/* Free every object of a session (a GPtrArray of them). */
GPtrArray *mapid_objs_new(void);

/*
 * Run the ROP buffer `in` (one payload of the request's chain) and append
 * the response buffer (RopSize, responses, handle table) to `out`, within
 * `max_out` bytes.  Returns 0, or -EBADMSG for a buffer whose frame does
 * not hold together (nothing appended then).
 */
int mapid_rops_run(const struct serve_ctx *ctx, struct mapid_session *sess,
		   const uint8_t *in, size_t len, size_t max_out,
		   GByteArray *out);

/* The handlers: read the ROP from `r` (its RopId included), answer into
 * `out`.  Return 0, or -errno when the request could not be read (then
 * nothing is appended and the rest of the buffer is not run). */
typedef int (*mapid_rop_fn)(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			    GByteArray *out);
int mapid_rop_logon(struct mapid_rop_ctx *rc, struct mapi_rd *r,
		    GByteArray *out);
int mapid_rop_open_folder(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out);
int mapid_rop_get_hierarchy_table(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				  GByteArray *out);
int mapid_rop_get_contents_table(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				 GByteArray *out);
int mapid_rop_set_columns(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out);
int mapid_rop_query_rows(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			 GByteArray *out);
int mapid_rop_query_position(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			     GByteArray *out);
int mapid_rop_seek_row(struct mapid_rop_ctx *rc, struct mapi_rd *r,
		       GByteArray *out);
/* names.c */
int mapid_rop_get_prop_ids(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			   GByteArray *out);
int mapid_rop_get_names(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			GByteArray *out);

/* ---- session.c */

/* ---- csess.c: the sessions of both endpoints ---- */

struct serve_http_req;
struct serve_http_reply;

/* What every session keeps, first in each endpoint's own. */
struct mapid_csess {
	char sid[33];			/* the `sid` cookie */
	char sequence[40];		/* the latest `sequence` cookie */
	char *user;			/* owned */
	gint64 last_used;		/* monotonic, microseconds */
	bool ended;			/* Disconnect or Unbind seen */
	int refs;			/* protected by the table's lock */
	GMutex lock;			/* held while a request runs */
};

/* Sessions by sid, at most per_user_max of one user and max in all;
 * `free` frees a whole session (its struct mapid_csess first).  Static,
 * zero but for the bounds and `free`. */
struct mapid_ctable {
	GMutex lock;
	GHashTable *by_sid;		/* sid -> session; owns */
	unsigned per_user_max, max;
	GDestroyNotify free;
};

/* A new session of `user`: its sid, first sequence, held once. */
void mapid_csess_init(struct mapid_csess *c, const char *user);
void mapid_csess_clear(struct mapid_csess *c);
void mapid_csess_new_sequence(struct mapid_csess *c);
/* Put `c` (made by mapid_csess_init; the table owns it from now on) in
 * the table, making room at a bound by forgetting the session unused
 * longest.  Returns false, keeping nothing, when every one is busy. */
bool mapid_ctable_admit(struct mapid_ctable *t, struct mapid_csess *c);
/* The session `sid` of `user`, held; NULL when unknown, ended, expired
 * or another user's. */
struct mapid_csess *mapid_ctable_get(struct mapid_ctable *t, const char *sid,
				     const char *user);
/* Let go of a session held; `touch`: it was used now. */
void mapid_ctable_put(struct mapid_ctable *t, struct mapid_csess *c,
		      bool touch);
void mapid_ctable_clear(struct mapid_ctable *t);
/* The value of cookie `name` of the request (caller owns), or NULL. */
char *mapid_cookie(const struct serve_http_req *req, const char *name);
/* A refusal: X-ResponseCode `rc` and a page naming it, no cookie. */
void mapid_http_failure(struct serve_http_reply *rep, uint32_t rc);
/* An answer: the headers, the cookies for `path` (the sequence too with
 * `sequence`) and the meta-tags before `bin`. */
void mapid_http_success(const struct serve_http_req *req,
			struct serve_http_reply *rep,
			const struct mapid_csess *c, const char *path,
			bool sequence, gint64 started, const GByteArray *bin);

struct mapid_session {
	struct mapid_csess c;		/* first: the table's part */
	GPtrArray *objs;		/* owned; handle -> struct mapid_obj * */
	char *display_name;		/* owned */
	char *legacy_dn;		/* owned */
};

/* The user's LegacyDN (caller owns). */
char *mapid_legacy_dn(const char *user);

/* ---- emsmdb.c: the bodies of the EMSMDB requests.  Each appends the
 * binary response to `out` and returns 0, or an X-ResponseCode. */
uint32_t mapid_connect(struct mapid_session *s, const uint8_t *body,
		       size_t len, GByteArray *out);
uint32_t mapid_execute(const struct serve_ctx *ctx, struct mapid_session *s,
		       const uint8_t *body, size_t len, GByteArray *out);
uint32_t mapid_disconnect(const uint8_t *body, size_t len, GByteArray *out);
uint32_t mapid_nwait(const struct serve_ctx *ctx, struct mapid_session *s,
		     const uint8_t *body, size_t len, GByteArray *out);

/* server.c hands a request on /mapi/ to session.c. */
struct serve_http_req;
struct serve_http_reply;
void mapid_session_handle(const struct mapid_server *srv,
			  const struct serve_http_req *req,
			  struct serve_http_reply *rep);
/* Forget every session (at stop). */
void mapid_sessions_clear(void);

/* ---- Folder-level changes (fwrite.c: the messages of a folder;
 * fcreate.c: the folders), and what ids.c keeps for them. */

/* Folder `from` (and all below it, and the messages in them) is now
 * `to`, keeping their counters; `to` NULL: they are gone, forgotten. */
void mapid_ids_moved(const char *from, const char *to);
/* Message `id` of `folder` is gone: forget its counter. */
void mapid_message_forget(const char *folder, const char *id);

/* The folder of counter `c` in `tree`, or NULL.  Borrowed from `tree`. */
const struct mapid_folder *mapid_tree_find(GArray *tree, uint64_t c);
/* The folder object at input index `idx` and its place in a fresh tree
 * (*tree_r, caller owns), or NULL with the ReturnValue in *rv_r. */
const struct mapid_folder *mapid_folder_at(struct mapid_rop_ctx *rc,
					   uint8_t idx, GArray **tree_r,
					   uint32_t *rv_r);
/* Every message of store folder `path`: *items_r (caller owns, of struct
 * mfs_item *, freed with the array) and their MIDs in *mids_r (caller
 * owns), in the same order.  0 or -errno. */
int mapid_folder_items(const struct serve_ctx *ctx, const char *path,
		       GPtrArray **items_r, uint64_t **mids_r);

int mapid_rop_set_read_flags(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			     GByteArray *out);
int mapid_rop_delete_messages(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out);
int mapid_rop_hard_delete_messages(struct mapid_rop_ctx *rc,
				   struct mapi_rd *r, GByteArray *out);
int mapid_rop_move_copy_messages(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				 GByteArray *out);
int mapid_rop_empty_folder(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			   GByteArray *out);
int mapid_rop_create_folder(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			    GByteArray *out);
int mapid_rop_delete_folder(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			    GByteArray *out);
int mapid_rop_move_folder(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out);

/* ---- the address book (NSPI): nspi-ab.c builds it from the store,
 * nspi.c answers the requests of /mapi/nspi/. */

/* Entries of the book at most (the user and its contacts). */
#define MAPID_AB_MAX		10000u
/* The MId of the first entry in display-name order. */
#define MAPID_AB_FIRST_MID	0x11u

/* The text fields of an entry. */
enum mapid_ab_field {
	MAPID_AB_DISPLAY_NAME,		/* never NULL */
	MAPID_AB_SMTP,
	MAPID_AB_ACCOUNT,
	MAPID_AB_GIVEN_NAME,
	MAPID_AB_SURNAME,
	MAPID_AB_TITLE,
	MAPID_AB_COMPANY,
	MAPID_AB_DEPARTMENT,
	MAPID_AB_OFFICE,
	MAPID_AB_PHONE_BUSINESS,
	MAPID_AB_PHONE_HOME,
	MAPID_AB_PHONE_MOBILE,
	MAPID_AB_NFIELDS,
};

struct mapid_ab_entry {
	uint32_t mid;
	bool self;			/* the served user */
	char *f[MAPID_AB_NFIELDS];	/* owned; UTF-8, NULL when unknown */
	char *dn;			/* owned; the LegacyDN */
	char *home_mdb;			/* owned; the user's only, else NULL */
	char *sort_key;			/* owned; collation key of the name */
};

struct mapid_ab {
	GPtrArray *entries;		/* owned; display-name order, entry
					   i has MId MAPID_AB_FIRST_MID + i */
};

struct mapi_res;

/* The book of `user` over the store's contacts folders (a folder that
 * cannot be read is left out and logged).  Caller owns *ab_r
 * (mapid_ab_free).  Returns 0. */
int mapid_ab_load(const struct serve_ctx *ctx, const char *user,
		  struct mapid_ab **ab_r);
void mapid_ab_free(struct mapid_ab *ab);
/* The entry of `mid` (its position in *pos_r when not NULL), or NULL.
 * Borrowed from `ab`. */
const struct mapid_ab_entry *mapid_ab_by_mid(const struct mapid_ab *ab,
					     uint32_t mid, uint32_t *pos_r);
/* The entry whose LegacyDN is `dn` (ignoring ASCII case), or NULL. */
const struct mapid_ab_entry *mapid_ab_by_dn(const struct mapid_ab *ab,
					    const char *dn);
/* The position of the first entry whose display name sorts at or after
 * `name`; the number of entries when none does. */
uint32_t mapid_ab_seek(const struct mapid_ab *ab, const char *name);
/* The entry's permanent (or ephemeral) EntryID, appended to `out`. */
void mapid_ab_entryid(const struct mapid_ab_entry *e, bool ephemeral,
		      GByteArray *out);
/* Every property of the entry into `p` (strings as PtypString). */
void mapid_ab_props(const struct mapid_ab_entry *e, bool ephemeral,
		    struct mapi_props *p);
/* Ambiguous name resolution: whether `what` begins the display name, a
 * word of it, the given name, the surname, the address or the account,
 * ignoring case and an "smtp:" before it. */
bool mapid_ab_anr(const struct mapid_ab_entry *e, const char *what);
/* Whether the entry passes restriction `r` (AND, OR, NOT, CONTENT,
 * PROPERTY, EXIST; PidTagAnr as ambiguous name resolution; any other
 * kind passes nothing). */
bool mapid_ab_match(const struct mapid_ab_entry *e, const struct mapi_res *r);
/* NSPI_MID_RESOLVED with the one entry `name` names in *e_r (borrowed),
 * NSPI_MID_AMBIGUOUS when several, NSPI_MID_UNRESOLVED when none: an
 * exact address, account, display name or LegacyDN first, then
 * mapid_ab_anr. */
uint32_t mapid_ab_resolve(const struct mapid_ab *ab, const char *name,
			  const struct mapid_ab_entry **e_r);

/* Code page 1200: strings as UTF-16 (MS-OXNSPI 2.2.1.3). */
#define MAPID_CP_UNICODE	1200

struct nspi_rowset;
struct nspi_stat;
struct nspi_tags;
struct nspi_vals;

/* The columns of QueryRows and ResolveNames when the client names none
 * (those the recorded client asked for), MAPID_AB_DEFAULT_NCOLS. */
#define MAPID_AB_DEFAULT_NCOLS	9
extern const uint32_t mapid_ab_default_cols[MAPID_AB_DEFAULT_NCOLS];
/* Append the row of `e` under rs->cols to `rs`. */
void mapid_ab_add_row(struct nspi_rowset *rs,
		      const struct mapid_ab_entry *e, bool ephemeral);
/* The position a STAT stands at: CurrentRec (a MId, or the beginning or
 * end of the table; an unknown MId is the beginning) moved by Delta,
 * held within the table. */
uint32_t mapid_ab_stat_pos(const struct mapid_ab *ab,
			   const struct nspi_stat *st);
/* Stand the STAT at position `pos` (CurrentRec, NumPos, TotalRecs). */
void mapid_ab_stat_set(const struct mapid_ab *ab, struct nspi_stat *st,
		       uint32_t pos);
/* The tags of `p` into `t` (caller owns, nspi_tags_clear), strings as
 * PtypString when `unicode`, else PtypString8. */
void mapid_ab_tags(const struct mapi_props *p, bool unicode,
		   struct nspi_tags *t);
/* The hierarchy table's one row, the GAL (caller owns, nspi_vals_clear);
 * its null display name typed PtypString when `unicode`. */
void mapid_ab_gal_row(struct nspi_vals *row, bool unicode);
/* Every column an entry can have (caller owns, nspi_tags_clear). */
void mapid_ab_columns(bool unicode, struct nspi_tags *t);

/* server.c: the URL of endpoint `path` ("/mapi/emsmdb/") for `user` at
 * the address the client used (caller owns). */
char *mapid_endpoint_url(const struct mapid_server *srv,
			 const struct serve_http_req *req, const char *path,
			 const char *user);
/* nspi.c: a request on /mapi/nspi/, sessions of its own. */
void mapid_nspi_handle(const struct mapid_server *srv,
		       const struct serve_http_req *req,
		       struct serve_http_reply *rep);
/* Forget every address-book session (at stop). */
void mapid_nspi_clear(void);
/* ---- msgload.c, message.c, stream.c, attach.c: messages of the store
 * opened read-side (RopOpenMessage and what a message object answers). */

/* The largest message file a client may open: a message is read whole
 * and parsed into memory, so bigger ones answer MAPI_E_TOO_BIG. */
#define MAPID_MSG_MAX		(64u << 20)

/*
 * The message `buf` of the store, with the properties the store adds to
 * what mapi_mail_parse reads: PidTagMessageFlags (HASATTACH as parsed,
 * READ and EVERREAD for S, UNSENT for D), PidTagHasAttachments,
 * PidTagMessageSize (`len`), PidTagFlagStatus 2 for F,
 * PidTagLastVerbExecuted and PidTagIconIndex for R (a reply) or else P
 * (a forward), PidTagMessageDeliveryTime (`delivered`),
 * PidTagLastModificationTime (`modified`), PidTagCreationTime when the
 * message did not give one (`delivered`) and PidTagSearchKey (the MD5 of
 * the bytes).  PidTagMid, PidTagFolderId and the other ids are not set:
 * they are the caller's.  `flags` are MFS_FLAG_* bits, times seconds
 * since 1970.  Returns 0 with *m_r set (caller owns, mapi_message_free),
 * -EFBIG for more than MAPID_MSG_MAX bytes or -EINVAL for bytes that are
 * no message.
 */
int mapid_msg_parse(const void *buf, size_t len, uint64_t flags,
		    int64_t delivered, int64_t modified,
		    struct mapi_message **m_r);
/* The store properties above on `m`, whose bytes are `buf`. */
void mapid_msg_store_props(struct mapi_message *m, uint64_t flags,
			   int64_t delivered, int64_t modified,
			   const void *buf, size_t len);
/* The message in the open file `fd` (borrowed) with Maildir `flags`:
 * delivered at its mtime, last modified at the later of its mtime and
 * ctime (a rename for a flag moves the ctime).  As mapid_msg_parse, or
 * -errno of the read. */
int mapid_msg_load_fd(int fd, uint64_t flags, struct mapi_message **m_r);
/* As mapid_msg_load_fd for an item of a folder of kind `kind`: the
 * items of contacts and calendar folders through mapid_pim_parse. */
int mapid_item_load_fd(int fd, uint64_t flags, enum mfs_folder_kind kind,
		       struct mapi_message **m_r);

/* ---- pimload.c: the items of contacts and calendar folders. */

/* The kind of store folder `path` (MFS_FOLDER_MAIL when the store does
 * not list it). */
enum mfs_folder_kind mapid_folder_kind(const struct serve_ctx *ctx,
				       const char *path);
/* Whether the items of a folder of kind `k` are contacts or
 * appointments (read by mapid_pim_parse). */
bool mapid_kind_pim(enum mfs_folder_kind k);
/* The contact (`kind` MFS_FOLDER_CONTACTS: a vCard) or appointment
 * (MFS_FOLDER_CALENDAR: an iCalendar object) `buf`, through the codec
 * of wire/mapi-pim.h with the ids of names.c, and the store properties
 * of mapid_msg_store_props (read, PidTagMessageSize `len`).  Returns 0
 * with *m_r (caller owns, mapi_message_free), -EFBIG past MAPID_MSG_MAX,
 * or the codec's -EINVAL / -EFBIG. */
int mapid_pim_parse(const void *buf, size_t len, enum mfs_folder_kind kind,
		    int64_t delivered, int64_t modified,
		    struct mapi_message **m_r);

/* The message in Maildir file `path`, flags from its name's ":2,"
 * letters.  As mapid_msg_load_fd, or -errno of the open. */
int mapid_msg_load(const char *path, struct mapi_message **m_r);

/* A message of the store held in memory for the objects open on it (the
 * message, its attachments and attached messages, their streams); freed
 * with the last of them.  Only the session's requests touch it, one at a
 * time (the session's lock). */
struct mapid_msgref {
	int refs;
	struct mapi_message *m;		/* owned */
	char *folder;			/* owned; store path */
	char *id;			/* owned; the store's id */
	uint64_t fid, mid;
	size_t size;			/* bytes of the message file; of the
					   values held, for one being made */
	/* mcreate.c: a message being made (id NULL until it is saved) or
	 * changed through an object opened read/write */
	bool created;			/* made by RopCreateMessage */
	bool changed;			/* a property other than the flags
					   changed, or a recipient */
	bool flags_changed;		/* a flag property changed */
	uint32_t next_attach;		/* PidTagAttachNumber of the next */
	GPtrArray *pending;		/* owned; struct mapi_attachment *
					   made and not saved yet */
};

/* The most bytes of message files a session holds open at once: beyond,
 * RopOpenMessage answers MAPI_E_NOT_ENOUGH_MEMORY. */
#define MAPID_SESSION_MSG_MAX	(256u << 20)
/* The largest value a property row carries; a bigger one is answered
 * MAPI_E_NOT_ENOUGH_MEMORY, for the client to open a stream on it. */
#define MAPID_ROW_VALUE_MAX	0x8000u
/* The MID of an attached message, which has none of its own in the
 * store: counter 0, which names nothing else. */
#define MAPID_EMBEDDED_MID	UINT64_C(0x0000000000000001)

struct rop_msg_info;
struct rop_open_stream_req;
struct rop_problems_resp;

/* Drop the message, attachment or stream parts of `o` (rops.c's free). */
void mapid_msgobj_clear(struct mapid_obj *o);
void mapid_msgref_put(struct mapid_msgref *ref);
/* A property row of `cols` from `src` as a message or attachment
 * answers it: a value of another type than its column, or bigger than
 * `limit` bytes, is an error (NOT_FOUND, NOT_ENOUGH_MEMORY), which makes
 * the row flagged. */
void mapid_props_row_write(GByteArray *out, const uint32_t *cols, size_t n,
			   const struct mapi_props *src, uint32_t limit);
/* The properties object `o` answers for (message or attachment), or
 * NULL.  Borrowed. */
const struct mapi_props *mapid_obj_props(const struct mapid_obj *o);

int mapid_rop_open_message(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			   GByteArray *out);
int mapid_rop_read_recipients(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out);
int mapid_rop_get_props_specific(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				 GByteArray *out);
int mapid_rop_get_props_all(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			    GByteArray *out);
int mapid_rop_get_props_list(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			     GByteArray *out);
int mapid_rop_set_message_read_flag(struct mapid_rop_ctx *rc,
				    struct mapi_rd *r, GByteArray *out);
int mapid_rop_open_stream(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out);
int mapid_rop_read_stream(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out);
int mapid_rop_seek_stream(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out);
int mapid_rop_get_stream_size(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out);
int mapid_rop_get_attachment_table(struct mapid_rop_ctx *rc,
				   struct mapi_rd *r, GByteArray *out);
int mapid_rop_open_attachment(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out);
int mapid_rop_open_embedded_message(struct mapid_rop_ctx *rc,
				    struct mapi_rd *r, GByteArray *out);
/* The OpenMessage/OpenEmbeddedMessage description of `m` (subject,
 * recipients that fit in `room` bytes); caller clears it. */
void mapid_msg_info(const struct mapi_message *m, size_t room,
		    struct rop_msg_info *info);
/* ---- mcreate.c, wstream.c, awrite.c: messages made and changed
 * (MS-OXCMSG 3.2.5.2, 3.2.5.3, 3.2.5.5; MS-OXCPRPT 3.2.5.4-5, 3.2.5.13-16). */

/* Recipients and attachments a message being made may have. */
#define MAPID_MSG_RECIPS_MAX	2000u
#define MAPID_MSG_ATTACH_MAX	1000u

/* The bag object `o` changes (message or attachment), or NULL. */
struct mapi_props *mapid_obj_wprops(struct mapid_obj *o);
/* Bytes a message holds in memory, near enough to bound it. */
size_t mapid_msg_mem(const struct mapi_message *m);
/* Whether `o`'s message may take `more` bytes: within MAPID_MSG_MAX for
 * the message and MAPID_SESSION_MSG_MAX for the session. */
bool mapid_msg_room(const struct mapid_session *s, const struct mapid_obj *o,
		    size_t more);
/* Note a change of property `tag` on the message of `o`. */
void mapid_msg_touch(struct mapid_obj *o, uint32_t tag);
/* Before a stream object is freed: its bytes into its property. */
void mapid_stream_commit(struct mapid_session *s, struct mapid_obj *o);

int mapid_rop_create_message(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			     GByteArray *out);
int mapid_rop_set_props(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			GByteArray *out);
int mapid_rop_delete_props(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			   GByteArray *out);
int mapid_rop_modify_recipients(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				GByteArray *out);
int mapid_rop_save_changes_message(struct mapid_rop_ctx *rc,
				   struct mapi_rd *r, GByteArray *out);
int mapid_rop_write_stream(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			   GByteArray *out);
int mapid_rop_commit_stream(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			    GByteArray *out);
int mapid_rop_set_stream_size(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out);
/* The bytes of value `v` as a stream (caller owns), or NULL for a type
 * that has none (stream.c). */
GBytes *mapid_stream_bytes(const struct mapi_value *v);
/* stream.c hands RopOpenStream in a write mode to wstream.c. */
uint32_t mapid_stream_open_write(struct mapid_rop_ctx *rc,
				 struct mapid_obj *in,
				 const struct rop_open_stream_req *q,
				 uint32_t *size_r);
int mapid_rop_create_attachment(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				GByteArray *out);
int mapid_rop_save_changes_attachment(struct mapid_rop_ctx *rc,
				      struct mapi_rd *r, GByteArray *out);
/* attach.c hands RopOpenEmbeddedMessage(create) to awrite.c: the new
 * attached message object into *o_r.  0 or the ReturnValue. */
uint32_t mapid_embedded_create(struct mapid_rop_ctx *rc, struct mapid_obj *a,
			       struct mapid_obj **o_r);
/* Folder objects: RopSetProperties (fcreate.c). */
uint32_t mapid_folder_set_props(struct mapid_rop_ctx *rc,
				struct mapid_obj *o,
				const struct mapi_props *p,
				struct rop_problems_resp *s);

/* ---- ics.c, ics-state.c, notify.c: ICS downloads (MS-OXCFXICS) and
 * notifications (MS-OXCNOTIF, MS-OXCMAPIHTTP NotificationWait). */

/* Their objects, beside enum mapid_obj_kind's: an ICS download and a
 * notification registration (struct mapid_obj's priv holds each). */
#define MAPID_OBJ_SYNC		((enum mapid_obj_kind)0x40)
#define MAPID_OBJ_NOTIFY	((enum mapid_obj_kind)0x41)

/* A message's change numbers (ics-state.c): `cn` grows when the message
 * is new or a flag but \Seen changes, `read_cn` when \Seen does;
 * `mtime` is when `cn` last grew (Unix seconds). */
struct mapid_cn {
	uint64_t cn;
	uint64_t read_cn;
	int64_t mtime;
};

/* The change numbers of the messages `items` (struct mfs_item *) of store
 * folder `folder`, brought up to date and saved; out[i] for items[i]. */
void mapid_cn_refresh(const char *store_root, const char *folder,
		      GPtrArray *items, struct mapid_cn *out);
/* The change number of folder counter `counter`, given the first time. */
void mapid_cn_folder(const char *store_root, uint64_t counter,
		     struct mapid_cn *out);
/* The newest change number given so far (0: none). */
uint64_t mapid_cn_last(const char *store_root);

int mapid_rop_sync_configure(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			     GByteArray *out);
int mapid_rop_sync_upload_begin(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				GByteArray *out);
int mapid_rop_sync_upload_continue(struct mapid_rop_ctx *rc,
				   struct mapi_rd *r, GByteArray *out);
int mapid_rop_sync_upload_end(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out);
int mapid_rop_ft_get_buffer(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			    GByteArray *out);
int mapid_rop_register_notification(struct mapid_rop_ctx *rc,
				    struct mapi_rd *r, GByteArray *out);

/* The RopNotify entries of the session's registrations for what changed
 * in the store since they last looked, appended to `out` as far as
 * `room` bytes go (the rest stays for the next Execute). */
void mapid_notify_flush(const struct serve_ctx *ctx,
			struct mapid_session *sess, GByteArray *out,
			size_t room);
/* Before the listener stops: every NotificationWait ends now, and any
 * that comes later does not wait. */
void mapid_notify_stop(void);

#endif
