/*
 * http.c - one form POST to an OAuth 2.0 endpoint (RFC 6749 section 4.1.3
 * and 6, RFC 8628 section 3.1 and 3.4: application/x-www-form-urlencoded,
 * a JSON answer), with libcurl.  The account's ca_file is trusted beside
 * the system's CAs, as the EWS client does; certificate and host-name
 * verification stay on.  The trace shows the endpoint and the status,
 * never a field or the answer: both carry secrets.
 */
#include "oauth2-private.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>

#include "curl-tls.h"
#include "log.h"
#include "secret.h"

/* name=value&... with both escaped.  Caller owns (a secret).  No printf:
 * its scratch buffer would keep the refresh token after it is freed. */
static char *encode_form(CURL *h, const char *const *fields)
{
	GString *s = g_string_sized_new(1024);

	for (size_t i = 0; fields[i] && fields[i + 1]; i += 2) {
		char *k = curl_easy_escape(h, fields[i], 0);
		char *v = curl_easy_escape(h, fields[i + 1], 0);
		if (i)
			s = secret_string_append(s, "&", 1);
		s = secret_string_append(s, k, strlen(k));
		s = secret_string_append(s, "=", 1);
		s = secret_string_append(s, v, strlen(v));
		secret_wipe(v, strlen(v));
		curl_free(k);
		curl_free(v);
	}
	char *form = g_strdup(s->str);
	secret_string_free(s);
	return form;
}

int oauth2_http_post(const struct oauth2_cfg *cfg, const char *url,
		     const char *const *fields, long *status_r, char **body_r,
		     char **why_r)
{
	char msg[CURL_ERROR_SIZE] = "";
	/* room for the largest answer taken: the tokens in it must not be
	 * left behind in a buffer the body outgrew */
	struct mfs_curl_sink sink = {
		.body = g_string_sized_new(OAUTH2_ANSWER_MAX + 1),
		.max = OAUTH2_ANSWER_MAX,
	};
	struct curl_slist *hdrs = NULL;
	CURLcode cc;
	CURL *h;
	char *form;
	int rc = 0;

	*status_r = 0;
	*body_r = NULL;
	*why_r = NULL;
	mfs_curl_init();
	h = curl_easy_init();
	form = encode_form(h, fields);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, msg);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	mfs_curl_verify(h, cfg->ca_file);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)(cfg->timeout ? cfg->timeout
								 : 30));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mfs_curl_sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status_r);
		/* the address and the status only: both ways carry secrets */
		log_debug(LOG_PROTO, "oauth2: POST %s: HTTP %ld", url,
			  *status_r);
	} else if (sink.too_big) {
		rc = -EMSGSIZE;
		*why_r = g_strdup_printf("%s: the answer is larger than %d "
					 "bytes", url, OAUTH2_ANSWER_MAX);
	} else {
		rc = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
		*why_r = g_strdup_printf("%s: %s", url,
					 *msg ? msg : curl_easy_strerror(cc));
	}
	secret_free(form);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc == 0)
		*body_r = g_strndup(sink.body->str, sink.body->len);
	secret_string_free(sink.body);
	return rc;
}

int oauth2_token_request(const struct oauth2_cfg *cfg,
			 const char *const *fields, long *status_r,
			 struct oauth2_token_answer *a, char **why_r)
{
	char *body = NULL;
	int rc;

	rc = oauth2_http_post(cfg, cfg->token_url, fields, status_r, &body,
			      why_r);
	if (rc < 0)
		return rc;
	rc = oauth2_parse_token(*status_r, body, strlen(body), a, why_r);
	/* the answer holds the tokens */
	secret_free(body);
	return rc;
}
