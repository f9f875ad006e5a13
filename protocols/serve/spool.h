/*
 * spool.h - an unnamed temporary file for a message being received, gone
 * from disk once closed.  Returns a read-write fd or -errno.
 */
#ifndef MFS_SERVE_SPOOL_H
#define MFS_SERVE_SPOOL_H

int serve_spool_open(void);

#endif
