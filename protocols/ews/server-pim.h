/*
 * server-pim.h - contacts and calendar items in the embedded EWS server:
 * what the item operations call for folders of those kinds.
 *
 * Contacts folders hold .vcf files, shown as t:Contact (server-contacts.c);
 * calendar folders hold .ics files, shown as t:CalendarItem
 * (server-calendar.c).  Their item ids carry a prefix of their own
 * ("mfsP:") so that an operation can tell them from messages' ids without
 * reading the store.
 *
 * Every function writes exactly one response message of its operation
 * into call->out (success or error) per item it is given.
 */
#ifndef MFS_EWS_SERVER_PIM_H
#define MFS_EWS_SERVER_PIM_H

#include <stdbool.h>

#include "server-private.h"

/* The largest .vcf or .ics file read or written. */
#define EWS_PIM_MAX (8u * 1024 * 1024)

/* Whether `kind` is one whose items are handled here. */
bool ews_pim_kind(enum mfs_folder_kind kind);

/* Whether an ItemId's Id is one of ours. */
bool ews_pim_is_id(const char *b64);

/* The Id and ChangeKey of item `it` of `folder`: the ChangeKey changes
 * whenever the file does.  Caller owns both. */
char *ews_pim_item_id(const char *folder, const char *id);
char *ews_pim_change_key(const struct mfs_item *it);

/* Split an Id of ours (caller owns both parts); 0 or -EINVAL. */
int ews_pim_item_id_parse(const char *b64, char **id_r, char **folder_r);

/* The kind of store folder `path`, MFS_FOLDER_NONE when the store has no
 * such folder. */
enum mfs_folder_kind ews_pim_folder_kind(struct ews_call *call,
					 const char *path);

/* The store folder of `kind` that takes new items when the request names
 * none (Contacts, Calendar): *path_r borrowed from call->folders.
 * Returns 0 or -ENOENT. */
int ews_pim_default_folder(struct ews_call *call, enum mfs_folder_kind kind,
			   const char **path_r);

/* The file's bytes: 0 with *buf_r (caller owns), -EFBIG past
 * EWS_PIM_MAX, or -errno from the store. */
int ews_pim_load(struct ews_call *call, const char *folder, const char *id,
		 GString **buf_r);

/* Store `len` bytes as item `hint` of `folder` (replacing an item of that
 * name).  *item_r (caller owns) describes it.  Returns 0 or -errno. */
int ews_pim_store(struct ews_call *call, const char *folder,
		  const char *hint, const char *buf, size_t len,
		  struct mfs_item **item_r);

/* FindItem in a contacts or calendar folder: one FindItemResponseMessage
 * with the items of `view` (IndexedPageItemView, may be NULL). */
void ews_pim_find(struct ews_call *call, const char *folder,
		  enum mfs_folder_kind kind, const xmlNode *view);

/* GetItem of one t:ItemId of ours. */
void ews_pim_get(struct ews_call *call, const xmlNode *item_id,
		 const xmlNode *shape);

/* CreateItem of one t:Contact or t:CalendarItem into `folder` (NULL: the
 * default folder of its kind). */
void ews_pim_create(struct ews_call *call, const char *folder,
		    const xmlNode *item);

/* UpdateItem of one t:ItemChange whose ItemId is ours. */
void ews_pim_update(struct ews_call *call, const xmlNode *change);

/* DeleteItem of one t:ItemId of ours: the file is removed whatever the
 * DeleteType (the store keeps no deleted contacts). */
void ews_pim_delete(struct ews_call *call, const xmlNode *item_id);

/* The item kinds (server-contacts.c, server-calendar.c): write one item
 * (a t:Contact, a t:CalendarItem) from its file's bytes; store a new one
 * from its element, answering *item_r (caller owns) or a ResponseCode in
 * *code_r (static) with -errno. */
void ews_contact_item_write(struct ews_call *call, const char *folder,
			    const struct mfs_item *it, const GString *buf,
			    bool mime);
int ews_contact_item_create(struct ews_call *call, const char *folder,
			    const xmlNode *item, struct mfs_item **item_r,
			    const char **code_r);
int ews_contact_item_update(struct ews_call *call, const char *folder,
			    const char *id, const xmlNode *updates,
			    struct mfs_item **item_r, const char **code_r);
void ews_calendar_item_write(struct ews_call *call, const char *folder,
			     const struct mfs_item *it, const GString *buf,
			     bool mime);
int ews_calendar_item_create(struct ews_call *call, const char *folder,
			     const xmlNode *item, struct mfs_item **item_r,
			     const char **code_r);

/* ResolveNames over the contacts folders (server-resolve.c). */
int ews_op_resolve_names(struct ews_call *call);

#endif
