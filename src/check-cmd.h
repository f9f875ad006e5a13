/*
 * check-cmd.h - `mailfs check [--config FILE] [-d] ACCOUNT`: connect as the
 * mount would and say, one line per step, what works and what to change
 * (DESIGN.md, "Command line").
 */
#ifndef MFS_CHECK_CMD_H
#define MFS_CHECK_CMD_H

/* argv[1] is "check".  Returns the exit status: 0 when every step worked,
 * 1 when one failed, 2 for a wrong command line. */
int check_cmd(int argc, char **argv);

#endif
