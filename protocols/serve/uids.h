/*
 * uids.h - UIDs, UIDVALIDITY and mod-sequences of the embedded server's
 * messages, stable across restarts: IMAP's UIDs, and the same numbers as
 * EWS's PidTagInternetArticleNumber, so that a gateway speaking IMAP over
 * EWS (DavMail) shows the UIDs the IMAP server gives.
 *
 * The store names messages by their Maildir unique part, which never
 * changes while the message exists; this keeps, per folder, which UID each
 * of those ids was given, and the flags and mod-sequence (RFC 7162) it was
 * last seen with, in a small file of the server's own under the store's
 * ".mailfs-serve/uids/" (a dot-name, which no store reader takes for a
 * folder).  Messages are never renamed for it.  A change of flags by any
 * writer of the store, and every message that goes away, raise the
 * folder's HIGHESTMODSEQ when the folder is next read.  A folder seen for
 * the first time, or whose file is unreadable, gets a new UIDVALIDITY.
 *
 * Thread- and process-safe: a process-wide mutex and an flock() on the file
 * serialise every update.
 */
#ifndef MFS_SERVE_UIDS_H
#define MFS_SERVE_UIDS_H

#include <glib.h>
#include <stdint.h>

struct serve_uid_info {
	uint32_t uid;
	uint64_t modseq;
};

struct serve_uid_state {
	uint32_t validity;
	uint32_t next;		/* UIDNEXT */
	uint64_t highest;	/* HIGHESTMODSEQ */
};

/*
 * Give every item of `items` (struct mfs_item *, the folder's whole
 * content; borrowed) its UID and mod-sequence in *info_r (caller owns;
 * same order), adding new ids in (date, id) order and forgetting ids no
 * longer there.  Returns 0 or -errno.
 */
int serve_uids_assign(const char *store_root, const char *folder,
		     GPtrArray *items, struct serve_uid_info **info_r,
		     struct serve_uid_state *state_r);

/*
 * Record what this server itself just did, without reading the folder:
 * each of the `n` `ids` (borrowed) now has `flags`; an id not known yet is
 * new (a message appended, copied or moved here) and gets the next UID, a
 * known one whose flags changed gets a new mod-sequence.  info_r (caller's,
 * n long) receives each one's UID and mod-sequence.  What other writers did
 * is learnt at the next serve_uids_assign().  Returns 0 or -errno;
 * -ESTALE when the folder has no UID state yet, which only
 * serve_uids_assign() may start (so that the messages already there come
 * first).
 */
int serve_uids_note(const char *store_root, const char *folder,
		   const char *const *ids, const uint64_t *flags, size_t n,
		   struct serve_uid_info *info_r, struct serve_uid_state *state_r);

#endif
