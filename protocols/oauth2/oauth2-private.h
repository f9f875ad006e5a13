/*
 * oauth2-private.h - what the files of protocols/oauth2/ share: the token
 * file, the HTTP exchange with the provider and the reading of its JSON
 * answers.  RFC 6749 sections 5.1 and 5.2, RFC 8628 sections 3.2 and 3.5.
 * Ownership as in oauth2.h.
 */
#ifndef MFS_OAUTH2_PRIVATE_H
#define MFS_OAUTH2_PRIVATE_H

#include "oauth2.h"

/* The longest answer read from an endpoint. */
#define OAUTH2_ANSWER_MAX (64 * 1024)

struct oauth2_token_answer;

/* ---- token.c: the token file ---- */

struct oauth2_token {
	char *access_token;	/* secret; NULL when none is kept */
	char *refresh_token;	/* secret */
	int64_t expires_at;	/* of the access token, Unix seconds */
};

/* Wipe the secrets and free them; the struct is zeroed. */
void oauth2_token_clear(struct oauth2_token *t);

/*
 * Read `path` into *t.  Returns 0, -ENOENT when there is no file (no login
 * yet), or -errno with the reason in *why_r (caller owns): unreadable,
 * readable by others, or not a token file.  The reason never holds a token.
 */
int oauth2_token_read(const char *path, struct oauth2_token *t,
		      char **why_r);

/* Write *t to `path` (mode 0600, its directory 0700 made if missing) by a
 * temporary file, fsync and rename.  Returns 0 or -errno with *why_r. */
int oauth2_token_write(const char *path, const struct oauth2_token *t,
		       char **why_r);

/* Hold the token file against other processes while it is refreshed or
 * replaced (flock on PATH.lock).  Returns the lock's fd (close it to let
 * go) or -errno with *why_r. */
int oauth2_token_lock(const char *path, char **why_r);

/* Take the tokens of an answer into *t: the access token, its expiry
 * counted from `now` (Unix seconds), and the refresh token when the server
 * sent one (a rotated one replaces the old). */
void oauth2_token_take(struct oauth2_token *t, struct oauth2_token_answer *a,
		       int64_t now);

/* ---- refresh.c: the refresh grant ---- */

/*
 * RFC 6749 section 6: a new access token for t->refresh_token, taken into
 * *t.  Returns 0, or -EACCES (invalid_grant: the user must log in again,
 * or another refusal), -EIO / -ETIMEDOUT (no answer), -EAGAIN (a server
 * error, or server_error / temporarily_unavailable), -EINVAL (an answer
 * that is not one) with the reason in *why_r (caller owns).
 */
int oauth2_refresh(const struct oauth2_cfg *cfg, struct oauth2_token *t,
		   char **why_r);

/* ---- http.c: one form POST to an endpoint ---- */

/*
 * POST `fields` (name, value, name, value, ..., NULL; values are secrets)
 * as application/x-www-form-urlencoded to `url`, with the account's CAs
 * and timeout.  Returns 0 with the HTTP status in *status_r and the body in
 * *body_r (caller owns, NUL-terminated), or -EIO / -ETIMEDOUT /
 * -EMSGSIZE with *why_r (caller owns) when no answer came.
 */
int oauth2_http_post(const struct oauth2_cfg *cfg, const char *url,
		     const char *const *fields, long *status_r, char **body_r,
		     char **why_r);

/* ---- reply.c: the endpoints' JSON answers ---- */

/* RFC 6749 5.2 and RFC 8628 3.5 error codes that change what we do. */
enum oauth2_error {
	OAUTH2_OK = 0,
	OAUTH2_PENDING,		/* authorization_pending */
	OAUTH2_SLOW_DOWN,	/* slow_down */
	OAUTH2_DENIED,		/* access_denied */
	OAUTH2_EXPIRED,		/* expired_token */
	OAUTH2_INVALID_GRANT,	/* invalid_grant */
	OAUTH2_OTHER,		/* any other error code */
};

/* RFC 8628 3.2: the device authorization answer. */
struct oauth2_device_answer {
	char *device_code;	/* secret */
	char *user_code;
	char *verification_uri;
	char *verification_uri_complete;	/* or NULL */
	int64_t expires_in;	/* seconds */
	int64_t interval;	/* seconds; 5 when the server did not say */
};
void oauth2_device_answer_clear(struct oauth2_device_answer *d);

/* Returns 0, or -EINVAL with *why_r (caller owns) when `body` is not a
 * device authorization answer. */
int oauth2_parse_device(long status, const char *body, size_t len,
			struct oauth2_device_answer *d, char **why_r);

/* A token endpoint's answer: tokens (RFC 6749 5.1) or an error (5.2). */
struct oauth2_token_answer {
	enum oauth2_error error;	/* OAUTH2_OK: the tokens below */
	char *error_code;		/* the server's "error", or NULL */
	char *error_description;	/* printable (printable.h), or NULL */
	char *access_token;		/* secret */
	char *refresh_token;		/* secret; NULL when not rotated */
	int64_t expires_in;		/* seconds; 0 when not given */
};
void oauth2_token_answer_clear(struct oauth2_token_answer *a);

/* Returns 0 (a token or an error answer in *a), or -EINVAL with *why_r
 * when `body` is neither. */
int oauth2_parse_token(long status, const char *body, size_t len,
		       struct oauth2_token_answer *a, char **why_r);

/* One request to the token endpoint: oauth2_http_post of `fields` to
 * cfg->token_url, its answer read by oauth2_parse_token into *a, the HTTP
 * status in *status_r.  Returns as those two do. */
int oauth2_token_request(const struct oauth2_cfg *cfg,
			 const char *const *fields, long *status_r,
			 struct oauth2_token_answer *a, char **why_r);

/* Whether `s` is one non-empty line of printable ASCII: what a token may
 * be in the token file (RFC 6749 appendix A.12, A.17), and what goes to
 * the user's terminal from a server (no escape sequences). */
bool oauth2_printable(const char *s);

/* The error code of a name ("slow_down" ...). */
enum oauth2_error oauth2_error_from_name(const char *name);

/* One line for an error answer: "CODE: DESCRIPTION".  Caller owns. */
char *oauth2_error_text(const struct oauth2_token_answer *a);

#endif
