/*
 * spool.h - message content a client backend fetched (or rendered) at
 * sync to learn its exact size, kept until fetch() hands it over, so that
 * nothing is downloaded twice.  Used by the backends whose servers do not
 * give a message's exact size without its bytes (EWS; MAPI over HTTP,
 * whose messages are rendered from properties).
 *
 * Bound: the files held never pass the spool's `max` bytes (the account's
 * spool_size).  A body that would pass it is not spooled at all; fetch()
 * then downloads it again, so the bound costs a download, never a message.
 *
 * All functions that can fail return 0 or -errno.  A spool may be used by
 * several threads at once.
 */
#ifndef MFS_SPOOL_H
#define MFS_SPOOL_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* What a spool holds unless the account says (spool_size). */
#define MFS_SPOOL_DEFAULT_MAX (512ull * 1024 * 1024)

struct mfs_spool;	/* opaque */

/*
 * A spool in `dir` (made when first needed) holding at most `max` bytes;
 * `account` names it in messages.  Caller owns the result (mfs_spool_free).
 */
struct mfs_spool *mfs_spool_new(const char *account, const char *dir,
				uint64_t max);
void mfs_spool_free(struct mfs_spool **s);

/* Remove everything the spool's directory holds.  For the process that
 * owns the account's cache, at its start: what an earlier run left is not
 * counted, and may be stale. */
void mfs_spool_clean(struct mfs_spool *s);

/*
 * Keep `len` bytes of `buf` as item `id` (a valid file name), replacing
 * what `id` held.  No room left is not an error: nothing is kept (and
 * what was spooled under `id` is dropped, being stale).
 */
int mfs_spool_put(struct mfs_spool *s, const char *id, const void *buf,
		  size_t len);

/* Hand item `id` over as a readable descriptor at offset 0 (caller owns)
 * and forget it; -ENOENT when the spool does not hold it. */
int mfs_spool_take(struct mfs_spool *s, const char *id, int *fd_r);

/* Forget item `id` if held. */
void mfs_spool_drop(struct mfs_spool *s, const char *id);

/* `len` bytes of `buf` in an unnamed file beside the spool, at offset 0,
 * for a fetch() that had to download (caller owns *fd_r).  Not counted:
 * it is the caller's from the start. */
int mfs_spool_tmpfile(struct mfs_spool *s, const void *buf, size_t len,
		      int *fd_r);

/*
 * `spool_size` of account group `group`: a number of bytes, with K, M, G
 * or T (powers of 1024) after it if wanted, and a B after that; 0 spools
 * nothing; MFS_SPOOL_DEFAULT_MAX when absent.  0, or -EINVAL with the
 * reason in *err.
 */
int mfs_spool_size_key(GKeyFile *kf, const char *group, uint64_t *out,
		       GError **err);

#endif
