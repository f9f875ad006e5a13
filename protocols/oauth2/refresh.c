/*
 * refresh.c - the refresh grant: RFC 6749 section 6 (a new access token
 * for a refresh token) and section 5.2 (its errors; invalid_grant means
 * the refresh token expired or was revoked and only a new login helps).
 */
#include "oauth2-private.h"

#include <errno.h>
#include <string.h>

int oauth2_refresh(const struct oauth2_cfg *cfg, struct oauth2_token *t,
		   char **why_r)
{
	struct oauth2_token_answer a;
	const char *fields[] = {
		"grant_type", "refresh_token",
		"refresh_token", t->refresh_token,
		"client_id", cfg->client_id,
		cfg->client_secret ? "client_secret" : NULL,
		cfg->client_secret,
		NULL,
	};
	long status = 0;
	int rc;

	*why_r = NULL;
	rc = oauth2_token_request(cfg, fields, &status, &a, why_r);
	if (rc < 0 && status == 0)
		return rc;
	/* a provider's outage is not a refusal: the caller tries again */
	if (rc < 0)
		return status >= 500 ? -EAGAIN : rc;
	if (a.error_code && (!strcmp(a.error_code, "server_error") ||
			     !strcmp(a.error_code, "temporarily_unavailable"))) {
		g_autofree char *text = oauth2_error_text(&a);
		*why_r = g_strdup_printf("the token endpoint cannot refresh "
					 "the token now: %s", text);
		rc = -EAGAIN;
	} else if (a.error == OAUTH2_INVALID_GRANT) {
		*why_r = g_strdup_printf("the sign-in has expired or was "
					 "revoked; run `mailfs login %s`",
					 cfg->account);
		rc = -EACCES;
	} else if (a.error != OAUTH2_OK) {
		g_autofree char *text = oauth2_error_text(&a);
		*why_r = g_strdup_printf("the token endpoint refused to "
					 "refresh the token: %s", text);
		rc = -EACCES;
	} else {
		oauth2_token_take(t, &a, g_get_real_time() / G_USEC_PER_SEC);
	}
	oauth2_token_answer_clear(&a);
	return rc;
}
