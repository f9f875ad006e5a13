/*
 * pim.h - contacts and calendar folders, and the Directory folder,
 * of the EWS client backend: what the mail code of client-*.c hands over
 * to for folders of those kinds.
 *
 * Contacts (IPF.Contact) are shown as .vcf files made from the t:Contact
 * (contact.h), calendar items (IPF.Appointment) as .ics files holding
 * their MimeContent.  An item's mount id is ewsc_id_from_item() of its
 * ItemId followed by ".vcf" or ".ics": a file name that depends only on
 * the server's id, and which ewsc_item_from_id() undoes (an ItemId, being
 * base64, never holds a '.').
 *
 * Every function that can fail returns 0 or -errno and describes the
 * failure in `e`.  Results through _r parameters belong to the caller.
 */
#ifndef MFS_EWS_CLIENT_PIM_H
#define MFS_EWS_CLIENT_PIM_H

#include "ewsc-private.h"

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

/* A contact's vCard (contacts folders only; calendar items are their
 * MimeContent, which ewsc_fetch() gets). *fd_r as for fetch(). */
int ewsc_pim_fetch(struct mfs_backend *be, const char *folder,
		   const char *id, int *fd_r, struct mfs_error *e);

/* fetch_batch() of contacts: each card in turn. */
int ewsc_pim_fetch_batch(struct mfs_backend *be, const char *folder,
			 const char *const *ids, size_t n, mfs_fetched_fn got,
			 void *data, struct mfs_error *e);

/* append() for contacts and calendar folders: a new item, or, when
 * `hint` is the id of an item of the folder, that item changed (a
 * contact by UpdateItem; a calendar item stored anew and the old one
 * deleted, since its MimeContent cannot be updated). */
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
