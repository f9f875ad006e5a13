/*
 * auth.h - the embedded server's one set of credentials, and the checks
 * that every protocol's login goes through.
 *
 * The password comes from a file that only its owner may read (as the IMAP
 * client's password_file); it is never logged.  A failed login waits before
 * answering, longer with each failure on the same connection, so that
 * guessing is slow.  Thread-safe: the credentials never change once loaded.
 */
#ifndef MFS_SERVE_AUTH_H
#define MFS_SERVE_AUTH_H

#include <stdbool.h>

struct serve_auth;	/* opaque */

/* Load the credentials.  Returns 0, or -errno with a sentence for the user
 * in *why_r (caller owns): no such file, readable by group or others,
 * empty.  Caller owns *auth_r (serve_auth_free). */
int serve_auth_load(const char *user, const char *password_file,
		    struct serve_auth **auth_r, char **why_r);
void serve_auth_free(struct serve_auth **auth);

/* Whether user and password match; compares in constant time. */
bool serve_auth_check(const struct serve_auth *auth, const char *user,
		      const char *password);

/* Called after the `failures`-th failed attempt on a connection: sleeps
 * (longer with each failure on the connection, and with the failures of
 * all connections in the last minute), and says whether the connection
 * should be closed now.  Thread-safe. */
bool serve_auth_failed(unsigned failures);

/*
 * Decode a SASL PLAIN response (RFC 4616): base64 of
 * [authzid] NUL authcid NUL passwd.  An authzid other than empty or the
 * authcid is refused.  Returns 0 or -EINVAL; caller owns *user_r and
 * *pass_r.
 */
int serve_sasl_plain(const char *b64, char **user_r, char **pass_r);

/* Decode one base64 line into a NUL-terminated string without NUL bytes
 * inside (AUTH LOGIN).  Returns 0 or -EINVAL; caller owns *out_r. */
int serve_base64_text(const char *b64, char **out_r);

#endif
