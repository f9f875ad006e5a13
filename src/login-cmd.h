/*
 * login-cmd.h - `mailfs login [--config FILE] ACCOUNT`: sign an account in
 * with the OAuth 2.0 device authorization grant (RFC 8628) and keep its
 * tokens for the mount, `mailfs sync` and Outbox/.
 */
#ifndef MFS_LOGIN_CMD_H
#define MFS_LOGIN_CMD_H

/* argv[1] is "login".  Returns the exit status: 0 signed in, 1 failed, 2
 * usage. */
int login_cmd(int argc, char **argv);

#endif
