/*
 * staging.h - files being written through the mount before they become items,
 * kept in the account's cache directory.
 *
 * The cache directory ($XDG_CACHE_HOME/mailfs/ACCOUNT, mode 0700) holds:
 *   staging/    content still being written (one file per open writer)
 *   rejected/   content a store refused, kept for the user with the reason
 * Files left in staging/ by a daemon that died are moved to rejected/ at the
 * next start, so nothing a user wrote disappears unseen.
 * Never names a protocol.  All functions return 0 or -errno.
 */
#ifndef MFS_STAGING_H
#define MFS_STAGING_H

#include <glib.h>

struct staging;		/* opaque */

/* Create the directories; caller owns *st_r (staging_close). */
int staging_open(const char *cache_dir, struct staging **st_r);
void staging_close(struct staging **st);

/* A new empty file open read-write; caller owns *fd_r and *path_r. */
int staging_create(struct staging *st, int *fd_r, char **path_r);

/*
 * Keep a staged file the store refused: moves `path` into rejected/ under a
 * name made from `label`, with a ".reason" file beside it.  Caller owns
 * *kept_r, the new path.
 */
int staging_reject(struct staging *st, const char *path, const char *label,
		   const char *reason, char **kept_r);

/* Borrowed; valid until staging_close. */
const char *staging_rejected_dir(struct staging *st);

#endif
