/*
 * device.c - `mailfs login`'s grant: RFC 8628, the OAuth 2.0 device
 * authorization grant.  Ask the device authorization endpoint for a code
 * (3.1, 3.2), show the user where to enter it (3.3), poll the token
 * endpoint at the interval the server asked (3.4, 3.5: authorization_
 * pending goes on, slow_down adds five seconds, access_denied and
 * expired_token end it, as does the code's lifetime), then keep the
 * tokens in the account's token file.
 */
#include "oauth2-private.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define SLOW_DOWN_STEP 5
/* the longest wait between polls after a failed exchange */
#define BACKOFF_MAX 60

static int fail(GError **err, int rc, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static int fail(GError **err, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
			    msg);
	return rc;
}

static int ask_code(const struct oauth2_cfg *cfg,
		    struct oauth2_device_answer *d, GError **err)
{
	const char *fields[] = {
		"client_id", cfg->client_id,
		"scope", cfg->scope,
		cfg->client_secret ? "client_secret" : NULL,
		cfg->client_secret,
		NULL,
	};
	g_autofree char *why = NULL;
	char *body = NULL;
	long status;
	int rc;

	rc = oauth2_http_post(cfg, cfg->device_url, fields, &status, &body,
			      &why);
	if (rc < 0)
		return fail(err, rc, "account %s: %s", cfg->account, why);
	rc = oauth2_parse_device(status, body, strlen(body), d, &why);
	explicit_bzero(body, strlen(body));
	g_free(body);
	if (rc < 0)
		return fail(err, rc, "account %s: %s", cfg->account, why);
	return 0;
}

/* One poll of the token endpoint: 0 with the tokens in *a (or a pending
 * error answer), -errno when no answer came. */
static int poll_token(const struct oauth2_cfg *cfg, const char *device_code,
		      struct oauth2_token_answer *a, char **why_r)
{
	const char *fields[] = {
		"grant_type", DEVICE_GRANT,
		"device_code", device_code,
		"client_id", cfg->client_id,
		cfg->client_secret ? "client_secret" : NULL,
		cfg->client_secret,
		NULL,
	};
	long status;

	return oauth2_token_request(cfg, fields, &status, a, why_r);
}

static int store(const struct oauth2_cfg *cfg, struct oauth2_token_answer *a,
		 GError **err)
{
	struct oauth2_token t = { 0 };
	g_autofree char *why = NULL;
	int rc, lock;

	if (!a->refresh_token)
		return fail(err, -EPROTO, "account %s: the provider issued no "
			    "refresh token (does oauth2_scope ask for "
			    "offline access?)", cfg->account);
	oauth2_token_take(&t, a, g_get_real_time() / G_USEC_PER_SEC);
	/* not in the middle of a mount's refresh, which would write the
	 * tokens of the old sign-in over these */
	if ((lock = oauth2_token_lock(cfg->token_path, &why)) >= 0) {
		rc = oauth2_token_write(cfg->token_path, &t, &why);
		close(lock);
	} else {
		rc = lock;
	}
	oauth2_token_clear(&t);
	if (rc < 0)
		return fail(err, rc, "account %s: %s", cfg->account, why);
	return 0;
}

/* What an error answer to a poll means: 1 poll again, else the end. */
static int judge(const struct oauth2_cfg *cfg, struct oauth2_token_answer *a,
		 int64_t *interval, GError **err)
{
	g_autofree char *text = NULL;

	switch (a->error) {
	case OAUTH2_PENDING:
		return 1;
	case OAUTH2_SLOW_DOWN:
		*interval += SLOW_DOWN_STEP;
		return 1;
	case OAUTH2_DENIED:
		return fail(err, -EACCES, "account %s: the sign-in was "
			    "denied", cfg->account);
	case OAUTH2_EXPIRED:
		return fail(err, -ETIMEDOUT, "account %s: the code expired "
			    "before the sign-in was approved; run `mailfs "
			    "login %s` again", cfg->account, cfg->account);
	default:
		text = oauth2_error_text(a);
		return fail(err, -EACCES, "account %s: the token endpoint "
			    "refused: %s", cfg->account, text);
	}
}

int oauth2_device_login(const struct oauth2_cfg *cfg, oauth2_prompt_fn prompt,
			void *data, GError **err)
{
	struct oauth2_device_answer d;
	int64_t now = g_get_monotonic_time() / G_USEC_PER_SEC;
	int64_t deadline, interval, backoff;
	int rc;

	if ((rc = ask_code(cfg, &d, err)) < 0)
		return rc;
	struct oauth2_prompt p = {
		.verification_uri = d.verification_uri,
		.verification_uri_complete = d.verification_uri_complete,
		.user_code = d.user_code,
		.expires_in = d.expires_in,
	};
	prompt(&p, data);
	deadline = now + d.expires_in;
	interval = backoff = d.interval;
	for (;;) {
		struct oauth2_token_answer a;
		g_autofree char *why = NULL;

		now = g_get_monotonic_time() / G_USEC_PER_SEC;
		if (now >= deadline) {
			rc = fail(err, -ETIMEDOUT, "account %s: the code "
				  "expired before the sign-in was approved; "
				  "run `mailfs login %s` again", cfg->account,
				  cfg->account);
			break;
		}
		g_usleep((gulong)MIN(backoff, deadline - now) *
			 G_USEC_PER_SEC);
		rc = poll_token(cfg, d.device_code, &a, &why);
		if (rc == -EIO || rc == -ETIMEDOUT) {
			/* 3.5: back off while the endpoint is unreachable */
			backoff = MIN(backoff * 2, BACKOFF_MAX);
			continue;
		}
		if (rc < 0) {
			fail(err, rc, "account %s: %s", cfg->account, why);
			break;
		}
		if (a.error == OAUTH2_OK)
			rc = store(cfg, &a, err);
		else if ((rc = judge(cfg, &a, &interval, err)) > 0) {
			backoff = interval;
			oauth2_token_answer_clear(&a);
			continue;
		}
		oauth2_token_answer_clear(&a);
		break;
	}
	oauth2_device_answer_clear(&d);
	return rc;
}
