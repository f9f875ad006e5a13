/*
 * auth.h - the embedded server's one set of credentials, and the checks
 * that every protocol's login goes through.
 *
 * The password comes from a file that only its owner may read (as the IMAP
 * client's password_file); it is never logged.
 *
 * Guessing is bounded server-wide, not per connection, since an attacker
 * opens as many connections as he likes: every client address (an IPv6
 * client by its /64) has an allowance of failed logins, a burst and then
 * one more every few seconds, and the server has one for all addresses
 * together.  A login is admitted only while both allowances have room;
 * otherwise it is refused at once, without looking at the password, and
 * the protocol says "try later" and closes the connection (but EWS, whose
 * HTTP connections carry no login of their own).  Clients that share an address
 * (the same host, a NAT) share its allowance.  Each failed login on a
 * connection also waits a little, and a connection is closed after a few,
 * so that guessers do not hold client slots for long.
 *
 * Thread-safe: the credentials never change once loaded, and the
 * allowances are behind a lock.
 */
#ifndef MFS_SERVE_AUTH_H
#define MFS_SERVE_AUTH_H

#include <stdbool.h>
#include <sys/socket.h>

struct serve_auth;	/* opaque */

/* What serve_auth_login() made of an attempt. */
enum serve_login {
	SERVE_LOGIN_OK,		/* the credentials match */
	SERVE_LOGIN_FAILED,	/* they do not; counted against the address */
	SERVE_LOGIN_REFUSED,	/* too many failures lately, from the
				   address or from everywhere: not checked;
				   answer "try later" (and close) */
};

/* Failed logins from one address: this many at once, then one more each
 * SERVE_SOURCE_INTERVAL_MS.  From all addresses together:
 * SERVE_SERVER_BURST, then one each SERVE_SERVER_INTERVAL_MS.  One address
 * alone stays well under the whole server's rate, so that a guesser on one
 * address never locks out a client on another. */
#define SERVE_SOURCE_BURST 5
#define SERVE_SOURCE_INTERVAL_MS (10 * 1000)
#define SERVE_SERVER_BURST 20
#define SERVE_SERVER_INTERVAL_MS (2 * 1000)

/* Load the credentials.  Returns 0, or -errno with a sentence for the user
 * in *why_r (caller owns): no such file, readable by group or others,
 * empty.  Caller owns *auth_r (serve_auth_free). */
int serve_auth_load(const char *user, const char *password_file,
		    struct serve_auth **auth_r, char **why_r);
void serve_auth_free(struct serve_auth **auth);

/* Whether user and password match; compares in constant time.  Counts
 * nothing: a login from a client goes through serve_auth_login(). */
bool serve_auth_check(const struct serve_auth *auth, const char *user,
		      const char *password);

/*
 * A login attempt from a client at `from` (borrowed; NULL or a family
 * other than IPv4 and IPv6 counts as one address of its own): refused when
 * the address or the server has used up its failed logins, else checked,
 * and a failure counted.  Logs when an address, or the server, starts
 * being refused.
 */
enum serve_login serve_auth_login(struct serve_auth *auth,
				  const struct sockaddr *from,
				  const char *user, const char *password);

/* Called after the `failures`-th failed login on a connection: waits a
 * little (longer with each failure, at most a couple of seconds), and says
 * whether the connection should be closed now. */
bool serve_auth_failed(unsigned failures);

/* The user name serve serves (--user).  Borrowed for auth's life. */
const char *serve_auth_user(const struct serve_auth *auth);

struct ntlm_authenticate;

/*
 * An NTLM login (MS-NLMP) from a client at `from`: the AUTHENTICATE `a`
 * (borrowed; wire/ntlm.h) answering the 8 bytes of `challenge` the server
 * sent on that connection.  Throttled and counted as serve_auth_login();
 * succeeds when the user is serve's (in any case, as NTLM's user names
 * are) and the NTLMv2 response was made with serve's password, under
 * whatever domain the client named.  The password stays in here.
 */
enum serve_login serve_auth_ntlm(struct serve_auth *auth,
				 const struct sockaddr *from,
				 const struct ntlm_authenticate *a,
				 const unsigned char *challenge);

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
