/*
 * pim.h - contacts and calendar folders, and the Directory folder,
 * of the EWS client backend: what the mail code of client-*.c hands over
 * to for folders of those kinds.
 *
 * Contacts (IPF.Contact) are shown as .vcf files made from the t:Contact
 * (wire/ews-contact.h), calendar items (IPF.Appointment) as .ics files
 * holding the iCalendar object of their MimeContent (event.h).  An
 * item's mount id is its file name, made from its content by names.c
 * and ending in ".vcf" or ".ics"; the folder's item table leads back to
 * the ItemId (ewsc_item_from_id).
 *
 * Every function that can fail returns 0 or -errno and describes the
 * failure in `e`.  Results through _r parameters belong to the caller.
 */
#ifndef MFS_EWS_CLIENT_PIM_H
#define MFS_EWS_CLIENT_PIM_H

#include "ewsc-private.h"

/* A .vcf or .ics past this is not a plausible contact or event. */
#define PIM_MAX (8u * 1024 * 1024)

/* The name of the address-book folder the client adds to the list. */
#define EWS_DIRECTORY "Directory"

/* Whether the kind's items are the business of pim.c. */
bool ewsc_pim_kind(enum mfs_folder_kind kind);

/* The file name suffix of the kind's items (".vcf", ".ics"). */
const char *ewsc_pim_suffix(enum mfs_folder_kind kind);

/* The kind of `folder` as the folder map knows it; MFS_FOLDER_MAIL when
 * it does not (the mail code then looks further). */
enum mfs_folder_kind ewsc_pim_folder_kind(struct mfs_backend *be,
					  const char *folder);

/* Sync of a contacts or calendar folder whose FolderId is `fid`: as
 * ewsc_sync(), each new or changed item's content made and spooled so its
 * size is exact. */
int ewsc_pim_sync(struct mfs_backend *be, const char *folder,
		  const char *fid, enum mfs_folder_kind kind,
		  const char *state, struct mfs_sync_result **res_r,
		  struct mfs_error *e);

/* A contact's vCard or an event's iCalendar object. *fd_r as for
 * fetch(). */
int ewsc_pim_fetch(struct mfs_backend *be, const char *folder,
		   const char *id, int *fd_r, struct mfs_error *e);

/* fetch_batch() of contacts and events: each in turn. */
int ewsc_pim_fetch_batch(struct mfs_backend *be, const char *folder,
			 const char *const *ids, size_t n, mfs_fetched_fn got,
			 void *data, struct mfs_error *e);

/* ---- pim.c: what pim-write.c shares ---- */

/* The content of one item: its file's bytes, its date and the base of
 * its name. */
struct ewsc_content {
	guchar *buf;			/* owned */
	size_t len;
	int64_t date;
	char *base;			/* owned; names.c */
	int rc;				/* 0 or -errno */
};

void ewsc_pim_content_clear(struct ewsc_content *c, size_t n);
/* The content of `n` items (ItemIds) of a folder of `kind` into out[i].
 * Returns 0, each out[i].rc telling that item's outcome, or -errno for
 * the exchange with `e` set. */
int ewsc_pim_get(struct mfs_backend *be, enum mfs_folder_kind kind,
		 const char *const *iids, size_t n, struct ewsc_content *out,
		 struct mfs_error *e);
/* The content of one item now: 0, or -errno with `e` set. */
int ewsc_pim_content_now(struct mfs_backend *be, const char *folder,
			 enum mfs_folder_kind kind, const char *iid,
			 struct ewsc_content *c, struct mfs_error *e);
/* When the item was last changed (LastModifiedTime, DateTimeCreated). */
int64_t ewsc_pim_item_date(const xmlNode *item);
/* The spool's key of an item's body.  Caller owns. */
char *ewsc_pim_spool_key(const char *item_id);
/* With be->lock held: every item of table `t` named again (names.c); an
 * item whose name changed has its old name added to `vanished` (unless
 * it was a stand-in "\001<ItemId>") and its new one to `renamed` (each
 * may be NULL). */
void ewsc_pim_rename(struct ewsc_table *t, enum mfs_folder_kind kind,
		     GPtrArray *vanished, GPtrArray *renamed);
/* With be->lock held: the name in `t` of ItemId `iid`, or NULL.
 * Borrowed. */
const char *ewsc_pim_name_of(struct ewsc_table *t, const char *iid);

/* ---- pim-write.c ---- */

/* append() for contacts and calendar folders: a new item, or, when
 * `hint` is the id of an item of the folder, that item changed (a
 * contact by UpdateItem of its fields, an event by UpdateItem of its
 * properties).  The item returned has the name its content gives it. */
int ewsc_pim_append(struct mfs_backend *be, const char *folder, int fd,
		    const char *hint, struct mfs_item **item_r,
		    struct mfs_error *e);

/* ---- directory.c ---- */

/* Whether `folder` is the Directory folder. */
bool ewsc_dir_is(const char *folder);
/* Add the Directory folder to a list_folders() result (of struct
 * mfs_folder_info *), unless the server has a folder of that name. */
void ewsc_dir_add_folder(GPtrArray *folders);
/* The Directory's sync: an empty full result.  Always 0. */
int ewsc_dir_sync(struct mfs_sync_result **res_r);
/* lookup() by ResolveNames. */
int ewsc_dir_lookup(struct mfs_backend *be, const char *folder,
		    const char *query, bool prefix, GPtrArray **entries_r,
		    struct mfs_error *e);

#endif
