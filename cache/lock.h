/*
 * lock.h - one process at a time on a cache directory.
 *
 * The start-up clean-ups of staging/ and pending/ assume that nothing
 * else writes there, and two flushers would send the same journal rows
 * twice: so whoever opens a cache directory (a mount, `mailfs sync`)
 * first takes an exclusive flock on the file `lock` in it and keeps it
 * for its whole life.  The kernel drops the lock when the process ends,
 * however it ends, so a crash never leaves a cache locked.  The file
 * holds one line saying who holds it, for the message a refused process
 * shows.
 *
 * Never names a protocol.  Functions return 0 or -errno.
 */
#ifndef MFS_CACHE_LOCK_H
#define MFS_CACHE_LOCK_H

#include <glib.h>

struct cache_lock;	/* opaque */

/*
 * Refuse a cache directory another user could tamper with (like ssh's
 * StrictModes): `dir` must be owned by the effective uid and not be
 * writable by group or others, or whoever can write there decides what
 * the mount shows and what its journal sends.  Returns 0, -EPERM with the
 * directory and what is wrong in *err, or another -errno from stat().
 */
int cache_dir_check(const char *dir, GError **err);

/*
 * Take the lock of the cache directory `dir` (made, mode 0700, if it does
 * not exist; refused as cache_dir_check() says) for `owner`, a short
 * description of this process such as "mailfs mounted at /mnt/mail".
 * Returns 0 with *lock_r owned by the caller (cache_lock_release), or
 * -EBUSY when another process holds it (*err then names that process),
 * or another -errno with the reason in *err.
 */
int cache_lock_take(const char *dir, const char *owner,
		    struct cache_lock **lock_r, GError **err);

/*
 * Say anew who holds the lock, with the pid of the calling process: for
 * a process that forked since it took the lock (the lock goes with the
 * open file, so the child holds it).  Returns 0 or -errno.
 */
int cache_lock_set_owner(struct cache_lock *lock, const char *owner);

/* Let go of the lock; NULL is allowed.  *lock is NULL afterwards. */
void cache_lock_release(struct cache_lock **lock);

#endif
