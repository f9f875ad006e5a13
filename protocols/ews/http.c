/*
 * http.c - one EWS exchange: the SOAP request POSTed with libcurl,
 * the answer read within bounds and parsed.
 *
 * Specs: RFC 9110 (HTTP semantics), RFC 7617 (Basic), RFC 6750 (Bearer),
 * [MS-NLMP] through libcurl (NTLM); [MS-OXWSCDATA] for ErrorServerBusy and
 * its BackOffMilliseconds.
 *
 * Every request gets its own libcurl handle, so callers on different
 * threads never wait for each other here; NTLM's handshake runs inside
 * one handle.  Every exchange ends by the deadline of the operation it
 * is part of (stream.h: the account's `timeout` from the operation's
 * start, renewed while data flows), however many requests, pages, retries
 * and waits the server asks for: no caller waits longer than that.
 *
 * Secrets (password, token) go to libcurl only; the trace shows the
 * bodies, which never hold them.
 */
#include "ewsc-private.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>

#include "config-value.h"
#include "curl-tls.h"
#include "log.h"
#include "secret.h"
#include "oauth2/oauth2.h"
#include "printable.h"
#include "stream.h"

void ewsc_http_init(void)
{
	mfs_curl_init();
}

/* The built-in OAuth2 session's token; `fresh`: not the one a 401 just
 * turned down. */
static int session_token(struct mfs_backend *be, bool fresh, char **tok_r,
			 struct mfs_error *e)
{
	g_autofree char *refused = NULL;
	int rc;

	g_mutex_lock(&be->lock);
	if (fresh && be->token)
		refused = g_strdup(be->token);
	g_mutex_unlock(&be->lock);
	rc = oauth2_access_token(be->cfg.oauth2, refused, tok_r, e);
	if (refused)
		explicit_bzero(refused, strlen(refused));
	if (rc < 0)
		return rc;
	g_mutex_lock(&be->lock);
	if (be->token) {
		explicit_bzero(be->token, strlen(be->token));
		g_free(be->token);
	}
	be->token = g_strdup(*tok_r);
	g_mutex_unlock(&be->lock);
	return 0;
}

/* The bearer token: the built-in OAuth2 session's (which knows when it
 * expires), or oauth2_token_cmd's, asked once and again after a 401.
 * Returns 0 with *tok_r (caller owns, secret) or -errno. */
static int token(struct mfs_backend *be, bool fresh, char **tok_r,
		 struct mfs_error *e)
{
	GError *err = NULL;
	char *line = NULL;

	if (be->cfg.oauth2)
		return session_token(be, fresh, tok_r, e);
	g_mutex_lock(&be->lock);
	if (be->token && !fresh) {
		*tok_r = g_strdup(be->token);
		g_mutex_unlock(&be->lock);
		return 0;
	}
	g_mutex_unlock(&be->lock);
	if (config_command_line(be->cfg.token_cmd, &line, &err) < 0) {
		mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
			      "oauth2_token_cmd: %s", err->message);
		g_error_free(err);
		return -EACCES;
	}
	g_mutex_lock(&be->lock);
	/* the one copy kept for the next request (be->token) */
	secret_free(be->token);
	be->token = g_strdup(line);
	g_mutex_unlock(&be->lock);
	*tok_r = line;
	return 0;
}

static int curl_failure(struct mfs_backend *be, CURLcode cc, bool too_big,
			bool expired, const char *raw, struct mfs_error *e)
{
	const char *url = be->cfg.url;
	/* libcurl's words may quote the peer (a TLS alert, a proxy's reply) */
	g_autofree char *msg = printable(raw, -1);

	if (cc == CURLE_WRITE_ERROR && too_big && !expired)
		return mfs_error_set(e, -EMSGSIZE, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: the answer is larger than %u bytes",
				     url, EWS_RESPONSE_MAX);
	return mfs_curl_failure(cc, expired, url, msg, be->cfg.timeout, e);
}

/* One POST.  Returns 0 with the HTTP status and body, or -errno. */
static int post(struct mfs_backend *be, const char *op, const GString *req,
		bool fresh_token, long *status_r, GString **body_r,
		struct mfs_error *e)
{
	char curl_msg[CURL_ERROR_SIZE] = "";
	struct mfs_curl_sink s = { .body = g_string_sized_new(8192),
				   .max = EWS_RESPONSE_MAX };
	char *tok = NULL;
	struct curl_slist *hdr = NULL;
	struct mfs_curl_clock clock = {
		.timeout_ms = (int)MIN(be->cfg.timeout, 3600u) * 1000 };
	int rc = 0;

	if (be->cfg.auth == EWS_AUTH_BEARER &&
	    (rc = token(be, fresh_token, &tok, e)) < 0) {
		g_string_free(s.body, TRUE);
		return rc;
	}
	CURL *h = curl_easy_init();
	if (!h) {
		secret_free(tok);
		g_string_free(s.body, TRUE);
		return mfs_error_set(e, -ENOMEM, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "libcurl: no handle");
	}
	hdr = curl_slist_append(hdr, "Content-Type: text/xml; charset=utf-8");
	hdr = curl_slist_append(hdr, "Accept: text/xml");
	/* no 100-continue round trip before each body */
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, be->cfg.url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	mfs_curl_verify(h, be->cfg.ca_file);
	mfs_curl_deadline(h, &clock);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "mailfs");
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->str);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)req->len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mfs_curl_sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	switch (be->cfg.auth) {
	case EWS_AUTH_BASIC:
	case EWS_AUTH_NTLM:
		curl_easy_setopt(h, CURLOPT_HTTPAUTH,
				 be->cfg.auth == EWS_AUTH_NTLM ? CURLAUTH_NTLM
							       : CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME,
				 be->cfg.user ? be->cfg.user : "");
		curl_easy_setopt(h, CURLOPT_PASSWORD,
				 be->cfg.password ? be->cfg.password : "");
		break;
	case EWS_AUTH_BEARER:
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, tok);
		break;
	}
	if (log_debug_enabled(LOG_PROTO))
		log_debug(LOG_PROTO, "ews C: %s %.*s", op,
			  (int)MIN(req->len, 600), req->str);
	stream_op_begin();
	CURLcode cc = curl_easy_perform(h);
	stream_op_end();
	if (cc != CURLE_OK) {
		if (!curl_msg[0])
			g_strlcpy(curl_msg, curl_easy_strerror(cc),
				  sizeof(curl_msg));
		rc = curl_failure(be, cc, s.too_big, clock.expired, curl_msg,
				  e);
		g_string_free(s.body, TRUE);
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status_r);
		g_mutex_lock(&be->lock);
		be->last_status = *status_r;
		g_mutex_unlock(&be->lock);
		if (log_debug_enabled(LOG_PROTO))
			log_debug(LOG_PROTO, "ews S: %ld %.*s", *status_r,
				  (int)MIN(s.body->len, 600), s.body->str);
		*body_r = s.body;
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	secret_free(tok);
	return rc;
}

/* What an HTTP status other than 200 means, when the body is no SOAP
 * answer that says more. */
static int http_failure(struct mfs_backend *be, long status,
			struct mfs_error *e)
{
	const char *url = be->cfg.url;

	switch (status) {
	case 401:
		return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: login refused (HTTP 401): wrong user "
				     "or password", url);
	case 403:
		return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: forbidden (HTTP 403)", url);
	case 404:
		return mfs_error_set(e, -ENOENT, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: no EWS service here (HTTP 404)", url);
	case 429:
	case 503:
		return mfs_error_set(e, -EAGAIN, MFS_ERR_ACCOUNT,
				     MFS_ERR_BACKOFF, "%s: server busy (HTTP "
				     "%ld)", url, status);
	default:
		return mfs_error_set(e, status >= 500 ? -EIO : -EPROTO,
				     MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
				     "%s: HTTP %ld", url, status);
	}
}

/* ErrorServerBusy's wait, or 0 when the answer is not that. */
static unsigned busy_wait(const struct ewsc_response *res)
{
	for (guint i = 0; res && i < res->msgs->len; i++) {
		struct ewsc_status st;
		ewsc_status_of(res->msgs->pdata[i], &st);
		if (!strcmp(st.code, "ErrorServerBusy"))
			return st.backoff_ms ? st.backoff_ms : 1000;
	}
	return 0;
}

/* A Fault's BackOffMilliseconds, from the raw body: the Fault is not kept
 * by ewsc_response_parse. */
static unsigned fault_backoff(const GString *body)
{
	const char *p = g_strstr_len(body->str, (gssize)MIN(body->len, 65536),
				     "BackOffMilliseconds");
	guint64 ms = 0;

	if (!p || !(p = strchr(p, '>')))
		return 1000;
	ms = g_ascii_strtoull(p + 1, NULL, 10);
	return ms ? (unsigned)MIN(ms, G_MAXUINT32) : 1000;
}

int ewsc_call(struct mfs_backend *be, const char *op, const GString *req,
	     struct ewsc_response **res_r, struct mfs_error *e)
{
	unsigned waited = 0;
	bool fresh = false;

	for (;;) {
		GString *body = NULL;
		struct ewsc_response *res = NULL;
		long status = 0;
		unsigned wait = 0;
		int rc = post(be, op, req, fresh, &status, &body, e);

		if (rc < 0)
			return rc;
		if (status == 401 && be->cfg.auth == EWS_AUTH_BEARER &&
		    !fresh) {
			/* the token may have expired: one new one */
			fresh = true;
			g_string_free(body, TRUE);
			continue;
		}
		if (status == 200 || status == 500) {
			rc = ewsc_response_parse(body->str, body->len, &res, e);
			if (rc == -EAGAIN && e && e->retry == MFS_ERR_BACKOFF)
				wait = fault_backoff(body);
			else if (rc == 0)
				wait = busy_wait(res);
			if (rc < 0 && status == 500 && rc == -EPROTO)
				rc = http_failure(be, status, e);
		} else {
			rc = http_failure(be, status, e);
		}
		g_string_free(body, TRUE);
		if (wait) {
			ewsc_response_free(&res);
			/* the wait is part of the operation too */
			if (waited + wait > EWS_BUSY_WAIT_MAX_MS ||
			    wait > be->cfg.timeout * 1000u ||
			    wait >= (unsigned)stream_op_left_ms(
					(int)MIN(be->cfg.timeout, 3600u) * 1000))
				return mfs_error_set(e, -EAGAIN,
						     MFS_ERR_ACCOUNT,
						     MFS_ERR_BACKOFF,
						     "%s: server busy, asks "
						     "for %u ms", op, wait);
			log_debug(LOG_PROTO, "ews: %s: server busy, waiting "
				  "%u ms", op, wait);
			g_usleep((gulong)wait * 1000);
			waited += wait;
			continue;
		}
		if (rc < 0)
			return rc;
		if (res->version) {
			g_mutex_lock(&be->lock);
			if (g_strcmp0(be->server_version, res->version)) {
				g_free(be->server_version);
				be->server_version = g_strdup(res->version);
			}
			g_mutex_unlock(&be->lock);
		}
		*res_r = res;
		return 0;
	}
}

int ewsc_call_one(struct mfs_backend *be, const char *op, const GString *req,
		  enum mfs_err_scope scope, struct ewsc_response **res_r,
		  xmlNode **msg_r, struct mfs_error *e)
{
	int rc;

	*res_r = NULL;
	rc = ewsc_call(be, op, req, res_r, e);

	if (rc < 0)
		return rc;
	if ((*res_r)->msgs->len == 0) {
		ewsc_response_free(res_r);
		return mfs_error_set(e, -EPROTO, scope, MFS_ERR_TRANSIENT,
				     "%s: no answer", op);
	}
	*msg_r = (*res_r)->msgs->pdata[0];
	return 0;
}
