/*
 * sasl-plain.h - the SASL PLAIN initial response (RFC 4616): an empty
 * authorization identity, NUL, the user, NUL, the password.  The IMAP and
 * POP3 clients and the check of an SMTP server send it.  May not call
 * anything of ours outside common/.
 */
#ifndef MFS_SASL_PLAIN_H
#define MFS_SASL_PLAIN_H

#include <stddef.h>

/* The response for `user` and `password`, its length (it holds NULs) in
 * *len_r.  Caller owns the result, a secret: sasl_plain_free() it. */
char *sasl_plain_new(const char *user, const char *password, size_t *len_r);

/* Clear the `len` bytes of a response, then free it; NULL is fine. */
void sasl_plain_free(char *resp, size_t len);

#endif
