/*
 * serve-cmd.h - `mailfs serve`: the embedded store over IMAP, POP3 and SMTP
 * (DESIGN.md, "Embedded server").
 */
#ifndef MFS_SERVE_CMD_H
#define MFS_SERVE_CMD_H

/* argv[1] is "serve".  Returns the exit status. */
int serve_cmd(int argc, char **argv);

#endif
