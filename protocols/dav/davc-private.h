/*
 * davc-private.h - the CardDAV/CalDAV client backend's state (`type =
 * carddav`, `type = caldav`), shared by the files of protocols/dav only.
 *
 * Specs: RFC 4918 (WebDAV), RFC 6352 (CardDAV), RFC 4791 (CalDAV),
 * RFC 6764 (locating the service: /.well-known/carddav|caldav), RFC 5397
 * (current-user-principal), RFC 6578 (sync-collection), RFC 9110 (HTTP:
 * ETag, If-Match, If-None-Match, 412), RFC 7617 (Basic), RFC 7616
 * (Digest, through libcurl), RFC 6750 (Bearer); caldav-ctag-03 (getctag).
 *
 * Folders: one per address book (carddav) or calendar (caldav) the
 * account's principal holds, at the top of the mount, named by its
 * displayname.  Items: a folder's members, named by the last segment of
 * their href (percent-decoded, with .vcf or .ics added when missing);
 * the folder's table leads an id back to its href and the ETag it was
 * read with.
 *
 * Sizes and bytes: an item's file is its body as GET gives it.  Sync
 * GETs every new or changed member, so that the size is exact before
 * any read, and keeps the bytes in the spool until fetch() takes them.
 * A multiget's address-data/calendar-data is not used as the file: XML's
 * end-of-line handling turns the CR LF of a vCard into LF (docs/DAV.md).
 *
 * Sync state: "S:<sync-token>" where the collection answers
 * sync-collection, else "C:<getctag>" ("C:" when it has none either):
 * an unchanged getctag spares the listing, else PROPFIND Depth 1 lists
 * the ETags and what changed is fetched.
 *
 * Ownership: results through _r parameters belong to the caller; the
 * strings in the structs below are owned by their struct.
 *
 * Locking: `lock` protects the folder map and the item tables; no lock
 * is held across a request.
 */
#ifndef MFS_DAV_CLIENT_PRIVATE_H
#define MFS_DAV_CLIENT_PRIVATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "spool.h"
#include "wire/dav-multistatus.h"

/* The largest .vcf or .ics taken (as EWS's PIM_MAX). */
#define DAVC_ITEM_MAX (8u * 1024 * 1024)
/* Rounds of a sync-collection the server cuts short (507) before the
 * folder's sync gives up. */
#define DAVC_SYNC_ROUNDS 64

enum davc_auth { DAVC_AUTH_BASIC, DAVC_AUTH_DIGEST, DAVC_AUTH_BEARER };

struct davc_cfg {
	char *name;			/* the account's */
	char *url;			/* as configured */
	char *origin;			/* scheme://host[:port] of url */
	char *path;			/* url's path, "/" at least */
	char *user;
	char *password;			/* secret; NULL with bearer */
	char *token;			/* secret; bearer only */
	char *ca_file;
	enum davc_auth auth;
	enum mfs_folder_kind kind;	/* CONTACTS or CALENDAR */
	bool plaintext;			/* http:// was allowed */
	unsigned timeout;		/* seconds, per operation */
	unsigned poll_interval;		/* seconds */
	uint64_t spool_max;
};

/* One collection shown as a folder. */
struct davc_coll {
	char *path;			/* the mount's folder name */
	char *href;			/* absolute path, ends in '/' */
	bool no_sync;			/* sync-collection was refused */
};

/* What the backend knows of one item. */
struct davc_known {
	char *href;			/* absolute path */
	char *etag;			/* as the server sent it */
	uint64_t size;
	int64_t date;			/* when it was last seen changed */
};

/* One folder's items: id -> struct davc_known, and href -> id. */
struct davc_table {
	char *coll;			/* the collection's href it is of */
	GHashTable *items;		/* owned */
	GHashTable *by_href;		/* owned; href -> id (borrowed from
					   items' keys) */
	bool dirty;
};

struct davc_watch;

struct mfs_backend {
	struct davc_cfg cfg;		/* owned; read-only after open */
	char *work_dir;			/* owned */
	struct mfs_spool *spool;	/* owned */
	GMutex lock;
	GHashTable *colls;		/* path -> struct davc_coll; lock */
	GHashTable *tables;		/* path -> struct davc_table; lock */
	gint64 last_sync;		/* real time, us; lock */
	char *last_error;		/* lock */
	struct davc_watch *watch;	/* owned */
};

/* ---- client.c ---- */

/* A backend of the account's settings, nothing asked of the server yet.
 * Returns 0 with *be_r (caller owns, davc_backend_free), or -EINVAL with
 * the setting's fault in *err. */
int davc_backend_new(const struct mfs_account *acct,
		     struct mfs_backend **be_r, GError **err);
void davc_backend_free(struct mfs_backend **be);
/* `mailfs check` of the account (check.c). */
int davc_check(const struct mfs_account *acct, struct mfs_check *ck);

/* ---- http.c: one request ---- */

struct davc_req {
	const char *method;
	const char *path;		/* absolute path on the origin */
	int depth;			/* Depth header, -1 for none */
	const char *ctype;		/* Content-Type of body, or NULL */
	const void *body;
	size_t len;
	const char *if_match;		/* an ETag, or NULL */
	bool if_none_match;		/* If-None-Match: * */
	size_t max;			/* the largest answer body taken */
};

struct davc_reply {
	long status;
	GString *body;			/* owned */
	char *etag;			/* owned; the ETag header, or NULL */
	char *location;			/* owned; the Location header */
};

/* Make request `rq`.  Returns 0 with *rep filled (whatever the HTTP
 * status; davc_reply_clear frees it), or -errno with `e` set when no
 * answer came (connection, TLS, deadline, a body past rq->max). */
int davc_http(struct mfs_backend *be, const struct davc_req *rq,
	      struct davc_reply *rep, struct mfs_error *e);
void davc_reply_clear(struct davc_reply *rep);
/* The full URL of absolute path `path`.  Caller owns. */
char *davc_url(struct mfs_backend *be, const char *path);
/* What HTTP status `status` of `what` (a method and a path) means, in
 * `e`, as a -errno. */
int davc_status_error(struct mfs_backend *be, long status, const char *what,
		      enum mfs_err_scope scope, struct mfs_error *e);
/* PROPFIND or REPORT `body` at `path` with `depth`, expecting a 207 that
 * dav_multistatus_parse() reads.  Returns 0 with *ms_r (caller owns),
 * the HTTP status in *status_r (may be NULL) whatever happened, or
 * -errno with `e` set (an HTTP failure, -EPERM for a hostile answer). */
int davc_multistatus(struct mfs_backend *be, const char *method,
		     const char *path, int depth, const GString *body,
		     enum mfs_err_scope scope, long *status_r,
		     struct dav_multistatus **ms_r, struct mfs_error *e);
void davc_http_init(void);

/* ---- discover.c: the folders ---- */

/* Find the principal's collections (RFC 6764, RFC 5397, the home set)
 * and make them the folder map.  *folders_r (caller owns, may be NULL
 * when not wanted) as list_folders gives them. */
int davc_list_folders(struct mfs_backend *be, GPtrArray **folders_r,
		      struct mfs_error *e);
/* A copy of folder `path`'s collection href (caller owns), discovering
 * the folders first when none are known; -ENOENT with `e` set when no
 * collection has that name. */
int davc_coll_href(struct mfs_backend *be, const char *path, char **href_r,
		   struct mfs_error *e);
void davc_coll_free(gpointer p);

/* ---- table.c: what is known of each folder's items ---- */

void davc_table_free(gpointer p);
/* The table of folder `path` (loaded from the work directory when first
 * asked), emptied when it was another collection's.  Borrowed; lock
 * held. */
struct davc_table *davc_table_get(struct mfs_backend *be, const char *path,
				  const char *coll);
/* Put or drop item `id`; lock held. */
void davc_table_put(struct davc_table *t, const char *id, const char *href,
		    const char *etag, uint64_t size, int64_t date);
void davc_table_drop(struct davc_table *t, const char *id);
/* Write the table if it changed; lock held.  Losing it costs downloads,
 * never correctness. */
int davc_table_save(struct mfs_backend *be, const char *path,
		    struct davc_table *t);
/* The mount's id for member `href` of a folder of `kind` (no other href
 * in `t` holding it).  Caller owns. */
char *davc_id_for(const struct davc_table *t, const char *href,
		  enum mfs_folder_kind kind);

/* ---- sync.c ---- */

int davc_sync(struct mfs_backend *be, const char *folder, const char *state,
	      struct mfs_sync_result **res_r, struct mfs_error *e);
int davc_fetch(struct mfs_backend *be, const char *folder, const char *id,
	       int *fd_r, struct mfs_error *e);
/* GET `href`: its bytes (bounded by DAVC_ITEM_MAX) and ETag (caller owns
 * both).  A 404 is -ENOENT.  Returns 0 or -errno with `e` set. */
int davc_get(struct mfs_backend *be, const char *folder, const char *href,
	     GString **body_r, char **etag_r, struct mfs_error *e);
void davc_note_sync(struct mfs_backend *be, int rc,
		    const struct mfs_error *e);

/* ---- write.c ---- */

int davc_append(struct mfs_backend *be, const char *folder,
		const struct mfs_append *in, size_t n, GPtrArray **items_r,
		struct mfs_error *e);
int davc_remove(struct mfs_backend *be, const char *folder,
		const char *const *ids, size_t n, struct mfs_error *e);

/* ---- watch.c ---- */

int davc_watch_start(struct mfs_backend *be, mfs_change_fn fn, void *data);
void davc_watch_stop(struct mfs_backend *be);

#endif
