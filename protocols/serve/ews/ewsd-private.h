/*
 * ewsd-private.h - what the files of the embedded EWS server share: one
 * call (a parsed request and the response being written) and the
 * operations.
 *
 * Every operation runs on the HTTP connection's own thread and reaches the
 * store only through the mfs_store_* calls of backend.h.
 */
#ifndef MFS_EWS_SERVER_PRIVATE_H
#define MFS_EWS_SERVER_PRIVATE_H

#include <glib.h>
#include <stdbool.h>

#include "backend.h"
#include "serve/serve.h"
#include "wire/ews-soap.h"

struct ewsd_restrict;			/* restrict.c */

struct ewsd_call {
	const struct serve_ctx *ctx;	/* borrowed */
	const char *user;		/* borrowed; who logged in */
	const struct ews_request *req;	/* borrowed */
	GString *out;			/* borrowed; the response body, after
					   ews_response_begin() */
	GPtrArray *folders;		/* owned; the store's folders, of
					   struct mfs_folder_info *, read
					   once per call (NULL until then) */
	GHashTable *uids;		/* owned; message id -> UID of the
					   folder uids_folder (msgext.c), or
					   NULL */
	char *uids_folder;		/* owned */
};

/*
 * Run the request in `body` and write the whole response document:
 * *out_r (caller owns) and the HTTP status in *status_r (200, or 500 for
 * a SOAP Fault).  Never fails: what cannot be run is answered with a
 * Fault or an EWS error.
 */
void ewsd_dispatch(const struct serve_ctx *ctx, const char *user,
		   const char *body, size_t len, GString **out_r,
		   unsigned *status_r);

/*
 * The operations.  Each appends its m:<Op>Response element to call->out
 * and returns 0, or returns -errno having appended nothing, and the
 * caller answers with a Fault (ErrorInternalServerError).
 */
int ewsd_op_get_folder(struct ewsd_call *call);
int ewsd_op_find_folder(struct ewsd_call *call);
int ewsd_op_convert_id(struct ewsd_call *call);
/* The address of the logged-in user's mailbox: the user name when it is
 * one, else user@hostname.  Caller owns the result. */
char *ewsd_mailbox_address(const struct ewsd_call *call);
int ewsd_op_find_item(struct ewsd_call *call);
int ewsd_op_get_item(struct ewsd_call *call);

/* The store folder that `ref` (t:FolderId or t:DistinguishedFolderId)
 * names: *path_r borrowed from call->folders.  Returns 0, or -ENOENT
 * for an unknown folder or one of the two roots (which hold no items),
 * or -errno from the store. */
int ewsd_folder_resolve(struct ewsd_call *call, const xmlNode *ref,
		       const char **path_r, enum mfs_folder_kind *kind_r);

/* Whether `path` is one of the store's folders (not a path of the
 * client's making). */
bool ewsd_folder_known(struct ewsd_call *call, const char *path);

/* The FolderId of the store folder `path`.  Caller owns the result. */
char *ewsd_folder_id(const char *path);

/* Write one response message of an operation that failed for one of its
 * items: ResponseClass="Error" with `code` (an EWS ResponseCode). */
void ewsd_error_message(GString *out, const char *op, const char *code,
		       const char *text);

/*
 * Mail work (sync.c, create.c, update.c,
 * item-move.c, folder-ops.c): same contract as the
 * operations above.
 */
int ewsd_op_sync_folder_items(struct ewsd_call *call);
int ewsd_op_sync_folder_hierarchy(struct ewsd_call *call);
int ewsd_op_create_item(struct ewsd_call *call);
int ewsd_op_update_item(struct ewsd_call *call);
int ewsd_op_delete_item(struct ewsd_call *call);
int ewsd_op_move_item(struct ewsd_call *call);
int ewsd_op_copy_item(struct ewsd_call *call);
int ewsd_op_empty_folder(struct ewsd_call *call);
int ewsd_op_create_folder(struct ewsd_call *call);
int ewsd_op_update_folder(struct ewsd_call *call);
int ewsd_op_delete_folder(struct ewsd_call *call);
int ewsd_op_move_folder(struct ewsd_call *call);
/* GetUserConfiguration (user-config.c): OWA.UserOptions only. */
int ewsd_op_get_user_configuration(struct ewsd_call *call);

/* The bytes of a t:MimeContent in *buf_r (caller owns, g_free) (create.c).
 * Returns 0, -EINVAL for what is not base64, -EFBIG past `max` bytes. */
int ewsd_mime_bytes(const xmlNode *mc, size_t max, guchar **buf_r,
		    gsize *len_r);
/* Send each message of m:Items (send.c): deliver it into the Inbox when
 * every recipient is the served user, and keep it in store folder
 * `saved` too (NULL: SendOnly).  Each is answered in the response. */
void ewsd_send_items(struct ewsd_call *call, const xmlNode *items,
		     const char *saved);

/*
 * FindItem in store folder `folder` (items.c): one
 * FindItemResponseMessage holding the page that `view` (an
 * IndexedPageItemView; NULL: every item) asks for, the items ordered by
 * `order` (on struct mfs_item **), each written by `write`.  A folder the
 * store cannot read is answered with ErrorFolderNotFound.  `data` is
 * handed to `write`; `it` is borrowed for the call.
 */
typedef void (*ewsd_find_write_fn)(struct ewsd_call *call, const char *folder,
				  const struct mfs_item *it, void *data);
void ewsd_find_items(struct ewsd_call *call, const char *folder,
		    const xmlNode *view, const struct ewsd_restrict *r,
		    GCompareDataFunc order, void *order_data,
		    ewsd_find_write_fn write, void *data);

/* The item `id` of store folder `folder` as the store has it now, or NULL
 * when it has none (items.c).  Caller owns the result. */
struct mfs_item *ewsd_store_item(struct ewsd_call *call, const char *folder,
				const char *id);

/* Whether a request's ItemShape (NULL: none) asks for MimeContent
 * (items.c), for messages and PIM items alike. */
bool ewsd_shape_wants_mime(const xmlNode *shape);

/* Item ids (itemid.c): base64 of "mfsI:", the store's id and the
 * folder path.  Caller owns the result. */
char *ewsd_item_id(const char *folder, const char *id);

/* Split an item id into the store's id and folder (caller owns both).
 * Returns 0, or -EINVAL for anything this server did not make. */
int ewsd_item_id_parse(const char *b64, char **id_r, char **folder_r);

/* The ChangeKey of an item: it changes when the item's flags do (the
 * content of a stored message never changes).  Caller owns the result. */
char *ewsd_item_change_key(const struct mfs_item *it);

/* Write one t:Message of `folder` with the properties the request's
 * m:ItemShape asks for (message.c); MimeContent only when
 * `allow_mime`. */
/* The bytes of message `id` of `folder` (all, or its first 256 KiB with
 * `head_only`: enough for its header) in *buf_r (caller owns), within
 * the server's message size limit (message.c).  Returns 0 or -errno. */
int ewsd_message_bytes(struct ewsd_call *call, const char *folder,
		       const char *id, bool head_only, GString **buf_r);

/* Parse m:Restriction `restriction` for messages, or with `folder` for
 * folders, into *r_r (caller owns; ewsd_restrict_free).  Returns 0,
 * -ENOTSUP for a property or expression it cannot search, -EINVAL for a
 * malformed one, -E2BIG past its bounds. */
int ewsd_restrict_parse(const xmlNode *restriction, bool folder,
			struct ewsd_restrict **r_r);
/* The same for the items of a contacts folder (their cards' fields). */
int ewsd_restrict_parse_contacts(const xmlNode *restriction,
				 struct ewsd_restrict **r_r);
/* And for the events of a calendar folder (their first VEVENT's). */
int ewsd_restrict_parse_events(const xmlNode *restriction,
			       struct ewsd_restrict **r_r);
void ewsd_restrict_free(struct ewsd_restrict *r);
/* The response message of operation `op` for a restriction refused with
 * `rc`. */
void ewsd_restrict_error(GString *out, const char *op, int rc);
/* Whether the message or the folder matches; NULL matches all. */
bool ewsd_restrict_message(const struct ewsd_restrict *r,
			   struct ewsd_call *call, const char *folder,
			   const struct mfs_item *it);
bool ewsd_restrict_folder(const struct ewsd_restrict *r, const char *name,
			  const char *container_class);

/* The t:ExtendedProperty of `it` that `uri` (t:ExtendedFieldURI) names,
 * when the message has a value for it (msgext.c). */
void ewsd_message_write_ext(struct ewsd_call *call, const char *folder,
			    const struct mfs_item *it, const xmlNode *uri);
/* The UID (PidTagInternetArticleNumber) of message `id` of `folder`, in
 * *uid_r; the folder's numbers are read once per call.  Returns 0,
 * -ENOENT when the folder has no such message, or -errno. */
int ewsd_article_number(struct ewsd_call *call, const char *folder,
			const char *id, uint32_t *uid_r);
/* Forget the numbers read by ewsd_article_number (the folder changed). */
void ewsd_uids_clear(struct ewsd_call *call);

void ewsd_message_write(struct ewsd_call *call, const char *folder,
		       const struct mfs_item *it, bool allow_mime);

/* The descendants of the folder `ref` names, in depth-first order: *paths_r
 * (caller owns; of char *, owned), the two roots left out.  Returns 0,
 * -ENOENT for an unknown folder, or -errno from the store. */
int ewsd_folder_descendants(struct ewsd_call *call, const xmlNode *ref,
			   GPtrArray **paths_r);

/* Write the t:Folder (or t:ContactsFolder...) of store folder `path`. */
void ewsd_folder_write_path(struct ewsd_call *call, const char *path);

/* The store folder that distinguished folder `name` ("deleteditems")
 * maps to: *path_r borrowed from call->folders.  Returns 0 or -ENOENT. */
int ewsd_folder_distinguished(struct ewsd_call *call, const char *name,
			     const char **path_r);

/*
 * Folder ids that survive renames made over EWS (folder-ids.c).
 * ewsd_folder_ids_init() loads the table of the store at `store_root`
 * once per process; until then every folder's birth is its path.
 * ewsd_folder_ids_birth(): the path a folder's id is made from (caller
 * owns).  ewsd_folder_ids_renamed(): the folders `moved` (their old paths,
 * `from` and those under it) are now under `to`.
 */
void ewsd_folder_ids_init(const char *store_root);
char *ewsd_folder_ids_birth(const char *path);
void ewsd_folder_ids_created(const char *path);
void ewsd_folder_ids_renamed(const char *from, const char *to,
			    const GPtrArray *moved);
void ewsd_folder_ids_deleted(const char *path);

/* The store path of the folder `ref` names in *path_r (caller owns), ""
 * for the two roots.  Returns 0 or -ENOENT. */
int ewsd_folder_ref_path(struct ewsd_call *call, const xmlNode *ref,
			char **path_r);

/* Whether store folder `path` has a distinguished name (inbox...). */
bool ewsd_folder_is_distinguished(struct ewsd_call *call, const char *path);

#endif
