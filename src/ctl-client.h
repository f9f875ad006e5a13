/*
 * ctl-client.h - the commands that talk to a running mount: `mailfs status
 * MOUNTPOINT` and `mailfs flush [--unmount] MOUNTPOINT`.  Each takes the
 * whole argv (argv[1] is the command) and returns the exit status.
 */
#ifndef MFS_CTL_CLIENT_H
#define MFS_CTL_CLIENT_H

#include <glib.h>

#define CTL_EXIT_USAGE 2
/* `mailfs flush`: nothing is left to send, but the server refused changes
 * since the last flush (kept in the cache's sync-issues/). */
#define CTL_EXIT_REFUSED 3

int ctl_cmd_status(int argc, char **argv);
int ctl_cmd_flush(int argc, char **argv);

#endif
