/*
 * oauth2.h - OAuth 2.0 access tokens of an account, got by mailfs itself:
 * the provider's endpoints (provider.c), the token file (token.c), the
 * device authorization grant of `mailfs login` (device.c, RFC 8628), the
 * refresh grant (refresh.c, RFC 6749 section 6) and the one entry point
 * the protocol clients call for a token (session.c).
 *
 * RFC 6749 (OAuth 2.0), RFC 8628 (device authorization grant), RFC 6750
 * (bearer tokens).  JSON answers are read with json-glib.
 *
 * Ownership: strings of the structs below are owned by them; arguments are
 * borrowed for the call.  Errors: 0 or -errno; configuration errors come as
 * GError, token errors as struct mfs_error (protocols/backend.h).  No
 * token, secret or code ever reaches a message or a log.
 */
#ifndef MFS_OAUTH2_H
#define MFS_OAUTH2_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

/* What the grants need to know of an account. */
struct oauth2_cfg {
	char *account;		/* the account's name */
	char *provider;		/* microsoft | google | custom */
	char *client_id;
	char *client_secret;	/* secret; NULL when the client has none */
	char *scope;		/* space separated */
	char *device_url;	/* the device authorization endpoint */
	char *token_url;	/* the token endpoint */
	char *ca_file;		/* extra CAs beside the system's, or NULL */
	char *token_path;	/* the account's token file */
	unsigned timeout;	/* seconds per HTTP exchange */
};

/*
 * The account's `oauth2` settings.  Returns 1 with *cfg filled when the
 * account has `oauth2 =`, 0 when it has not (*cfg zeroed), or -EINVAL with
 * one line in *err naming the key (a settings error: the command puts the
 * file and the account in front).  `type` (imap, ews, pop3...) picks the
 * default Microsoft scope.
 */
int oauth2_cfg_load(GKeyFile *kf, const char *group, const char *account,
		    const char *type, struct oauth2_cfg *cfg, GError **err);
void oauth2_cfg_clear(struct oauth2_cfg *cfg);

/* $XDG_DATA_HOME/mailfs/tokens/ACCOUNT.  Caller owns the result. */
char *oauth2_token_path(const char *account);

/*
 * A session hands out access tokens of one account's token file.  Sessions
 * of the same file share one state, so that the IMAP connections, the
 * EWS client and the SMTP submitter of a mount refresh once between them.
 * Thread-safe.
 */
struct oauth2_session;

/* Caller owns *s_r (oauth2_session_close).  Does no I/O. */
void oauth2_session_open(const struct oauth2_cfg *cfg,
			 struct oauth2_session **s_r);
void oauth2_session_close(struct oauth2_session **s);

/*
 * A valid access token in *tok_r (caller owns; a secret: wipe it after
 * use): the stored one while it has more than a minute left and is not
 * `refused` (a token a server just turned down, or NULL), else a fresh one
 * by the refresh grant, written back to the token file.  Concurrent
 * callers wait for the one refresh and share its token.  Returns 0, or
 * -EACCES (no login yet, or the refresh token expired or was revoked: the
 * message says to run `mailfs login ACCOUNT`; final), -EIO, -ETIMEDOUT or
 * -EAGAIN (the token endpoint could not be reached or had an outage;
 * transient), -EINVAL (a damaged token file or answer; final), with the
 * reason in *e.
 */
int oauth2_access_token(struct oauth2_session *s, const char *refused,
			char **tok_r, struct mfs_error *e);

/* What `mailfs login` shows the user (borrowed for the call). */
struct oauth2_prompt {
	const char *verification_uri;
	const char *verification_uri_complete;	/* or NULL */
	const char *user_code;
	int64_t expires_in;			/* seconds */
};
typedef void (*oauth2_prompt_fn)(const struct oauth2_prompt *p, void *data);

/*
 * RFC 8628: ask for a device code, show it through `prompt`, poll the
 * token endpoint until the user approved, denied or the code expired,
 * and store the tokens in cfg->token_path.  Returns 0, or -errno with one
 * line in *err.
 */
int oauth2_device_login(const struct oauth2_cfg *cfg, oauth2_prompt_fn prompt,
			void *data, GError **err);

#endif
