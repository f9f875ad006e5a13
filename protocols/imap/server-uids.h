/*
 * server-uids.h - UIDs and UIDVALIDITY of the embedded IMAP server, stable
 * across restarts.
 *
 * The store names messages by their Maildir unique part, which never
 * changes while the message exists; this keeps, per folder, which UID each
 * of those ids was given, in a small file of the server's own under the
 * store's ".mailfs-serve/uids/" (a dot-name, which no store reader takes for
 * a folder).  Messages are never renamed for it.  A folder seen for the
 * first time, or whose file is unreadable, gets a new UIDVALIDITY.
 *
 * Thread- and process-safe: a process-wide mutex and an flock() on the file
 * serialise every update.
 */
#ifndef MFS_IMAP_SERVER_UIDS_H
#define MFS_IMAP_SERVER_UIDS_H

#include <glib.h>
#include <stdint.h>

/*
 * Give every item of `items` (struct mfs_item *, the folder's whole
 * content; borrowed) its UID in *uids_r (caller owns; same order), adding
 * new ids in (date, id) order and forgetting ids no longer there.  Returns
 * 0 or -errno.
 */
int imap_uids_assign(const char *store_root, const char *folder,
		     GPtrArray *items, uint32_t **uids_r,
		     uint32_t *uidvalidity_r, uint32_t *uidnext_r);

#endif
