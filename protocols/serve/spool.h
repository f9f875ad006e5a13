/*
 * spool.h - unnamed temporary files for messages being received, gone from
 * disk once closed.  They live in the store's own ".mailfs-serve/spool/"
 * (made by serve_spool_dir()), on the same disk as the store rather than
 * in a /tmp that may be memory.
 */
#ifndef MFS_SERVE_SPOOL_H
#define MFS_SERVE_SPOOL_H

/* The spool directory of the store at `store_root`, made if missing.
 * Returns 0 or -errno; caller owns *dir_r. */
int serve_spool_dir(const char *store_root, char **dir_r);

/* A new unnamed file in `dir`.  Returns a read-write fd or -errno. */
int serve_spool_open(const char *dir);

#endif
