/*
 * http.c - one WebDAV request with libcurl, its answer read within
 * bounds, and the meaning of its status.
 *
 * Specs: RFC 9110 (HTTP semantics: ETag, Location, If-Match,
 * If-None-Match, 412), RFC 4918 (Depth, 207), RFC 7617 (Basic), RFC 7616
 * (Digest), RFC 6750 (Bearer).
 *
 * Every request gets its own libcurl handle, so callers on different
 * threads never wait for each other here, and ends by the deadline of the
 * operation it is part of (stream.h).  Redirects are not followed by
 * libcurl: the one the discovery takes (/.well-known/) is resolved and
 * checked against the account's origin first (discover.c).  Secrets go to
 * libcurl only; the trace shows the method, path and bodies, never them.
 */
#include "davc-private.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>

#include "curl-tls.h"
#include "log.h"
#include "printable.h"
#include "stream.h"

void davc_http_init(void)
{
	mfs_curl_init();
}

char *davc_url(struct mfs_backend *be, const char *path)
{
	return g_strconcat(be->cfg.origin, path, NULL);
}

void davc_reply_clear(struct davc_reply *rep)
{
	if (rep->body)
		g_string_free(rep->body, TRUE);
	g_free(rep->etag);
	g_free(rep->location);
	memset(rep, 0, sizeof(*rep));
}

/* CURLOPT_HEADERFUNCTION: keep ETag and Location. */
static size_t header_cb(char *data, size_t size, size_t n, void *p)
{
	struct davc_reply *rep = p;
	size_t len = size * n;
	g_autofree char *line = NULL;
	char **dst = NULL;
	const char *v;

	if (len > 8192)
		return len;
	line = g_strndup(data, len);
	g_strchomp(line);
	if (!g_ascii_strncasecmp(line, "HTTP/", 5)) {
		/* a new answer (after a 401 challenge): forget the last's */
		g_clear_pointer(&rep->etag, g_free);
		g_clear_pointer(&rep->location, g_free);
		return len;
	}
	if (!g_ascii_strncasecmp(line, "ETag:", 5))
		dst = &rep->etag, v = line + 5;
	else if (!g_ascii_strncasecmp(line, "Location:", 9))
		dst = &rep->location, v = line + 9;
	else
		return len;
	while (*v == ' ' || *v == '\t')
		v++;
	g_free(*dst);
	*dst = g_strdup(v);
	return len;
}

static int curl_failure(struct mfs_backend *be, CURLcode cc, bool too_big,
			bool expired, const char *raw, const char *path,
			struct mfs_error *e)
{
	g_autofree char *msg = printable(raw, -1);
	const char *url = be->cfg.url;

	if (cc == CURLE_WRITE_ERROR && too_big && !expired)
		return mfs_error_set(e, -EMSGSIZE, MFS_ERR_FOLDER,
				     MFS_ERR_FINAL, "%s%s: the answer is larger "
				     "than this client takes", be->cfg.origin,
				     path);
	return mfs_curl_failure(cc, expired, url, msg, be->cfg.timeout, e);
}

static void set_auth(struct mfs_backend *be, CURL *h)
{
	switch (be->cfg.auth) {
	case DAVC_AUTH_BASIC:
	case DAVC_AUTH_DIGEST:
		curl_easy_setopt(h, CURLOPT_HTTPAUTH,
				 be->cfg.auth == DAVC_AUTH_DIGEST
					 ? CURLAUTH_DIGEST : CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, be->cfg.user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, be->cfg.password);
		break;
	case DAVC_AUTH_BEARER:
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, be->cfg.token);
		break;
	}
}

static struct curl_slist *headers(const struct davc_req *rq)
{
	struct curl_slist *hdr = NULL;
	g_autofree char *line = NULL;

	if (rq->ctype) {
		line = g_strdup_printf("Content-Type: %s", rq->ctype);
		hdr = curl_slist_append(hdr, line);
		g_clear_pointer(&line, g_free);
	}
	if (rq->depth >= 0) {
		line = g_strdup_printf("Depth: %d", rq->depth);
		hdr = curl_slist_append(hdr, line);
		g_clear_pointer(&line, g_free);
	}
	if (rq->if_match) {
		line = g_strdup_printf("If-Match: %s", rq->if_match);
		hdr = curl_slist_append(hdr, line);
	}
	if (rq->if_none_match)
		hdr = curl_slist_append(hdr, "If-None-Match: *");
	/* no 100-continue round trip before each body */
	hdr = curl_slist_append(hdr, "Expect:");
	return hdr;
}

int davc_http(struct mfs_backend *be, const struct davc_req *rq,
	      struct davc_reply *rep, struct mfs_error *e)
{
	char curl_msg[CURL_ERROR_SIZE] = "";
	struct mfs_curl_sink s = { .body = g_string_sized_new(4096),
				   .max = rq->max };
	struct mfs_curl_clock clock = {
		.timeout_ms = (int)MIN(be->cfg.timeout, 3600u) * 1000 };
	g_autofree char *url = davc_url(be, rq->path);
	struct curl_slist *hdr;
	CURL *h;
	CURLcode cc;
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	h = curl_easy_init();
	if (!h) {
		g_string_free(s.body, TRUE);
		return mfs_error_set(e, -ENOMEM, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "libcurl: no handle");
	}
	hdr = headers(rq);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	mfs_curl_verify(h, be->cfg.ca_file);
	mfs_curl_deadline(h, &clock);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "mailfs");
	if (rq->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)rq->len);
	} else if (!strcmp(rq->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mfs_curl_sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, rep);
	set_auth(be, h);
	if (log_debug_enabled(LOG_PROTO))
		log_debug(LOG_PROTO, "dav C: %s %s %.*s", rq->method, rq->path,
			  rq->ctype && rq->ctype[0] == 'a'
				  ? (int)MIN(rq->len, 600) : 0,
			  rq->body ? (const char *)rq->body : "");
	stream_op_begin();
	cc = curl_easy_perform(h);
	stream_op_end();
	if (cc != CURLE_OK) {
		if (!curl_msg[0])
			g_strlcpy(curl_msg, curl_easy_strerror(cc),
				  sizeof(curl_msg));
		rc = curl_failure(be, cc, s.too_big, clock.expired, curl_msg,
				  rq->path, e);
		g_string_free(s.body, TRUE);
		davc_reply_clear(rep);
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rep->status);
		rep->body = s.body;
		if (log_debug_enabled(LOG_PROTO))
			log_debug(LOG_PROTO, "dav S: %ld %.*s", rep->status,
				  (int)MIN(s.body->len, 600), s.body->str);
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	return rc;
}

int davc_status_error(struct mfs_backend *be, long status, const char *what,
		      enum mfs_err_scope scope, struct mfs_error *e)
{
	const char *url = be->cfg.origin;

	switch (status) {
	case 401:
		return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: login refused (HTTP 401): wrong user "
				     "or password", be->cfg.url);
	case 403:
		return mfs_error_set(e, -EACCES, scope, MFS_ERR_FINAL,
				     "%s %s: forbidden (HTTP 403)", url, what);
	case 404:
	case 410:
		return mfs_error_set(e, -ENOENT, scope, MFS_ERR_FINAL,
				     "%s %s: not found (HTTP %ld)", url, what,
				     status);
	case 412:
		return mfs_error_set(e, -EBUSY, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s %s: changed on the server meanwhile "
				     "(HTTP 412 Precondition Failed); the "
				     "server's version stays", url, what);
	case 413:
	case 507:
		return mfs_error_set(e, -ENOSPC, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s %s: refused by the server as too large"
				     " (HTTP %ld)", url, what, status);
	case 415:
	case 422:
		return mfs_error_set(e, -EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s %s: the server refuses the content "
				     "(HTTP %ld)", url, what, status);
	case 429:
	case 503:
		return mfs_error_set(e, -EAGAIN, MFS_ERR_ACCOUNT,
				     MFS_ERR_BACKOFF, "%s: server busy (HTTP "
				     "%ld)", url, status);
	default:
		return mfs_error_set(e, status >= 500 ? -EIO : -EPROTO, scope,
				     MFS_ERR_TRANSIENT, "%s %s: HTTP %ld", url,
				     what, status);
	}
}

int davc_multistatus(struct mfs_backend *be, const char *method,
		     const char *path, int depth, const GString *body,
		     enum mfs_err_scope scope, long *status_r,
		     struct dav_multistatus **ms_r, struct mfs_error *e)
{
	struct davc_req rq = { .method = method, .path = path,
			       .depth = depth,
			       .ctype = "application/xml; charset=utf-8",
			       .body = body->str, .len = body->len,
			       .max = DAV_BODY_MAX };
	struct davc_reply rep;
	g_autofree char *what = g_strdup_printf("%s %s", method, path);
	g_autofree char *url = NULL;
	int rc;

	if (status_r)
		*status_r = 0;
	if ((rc = davc_http(be, &rq, &rep, e)) < 0)
		return rc;
	if (status_r)
		*status_r = rep.status;
	if (rep.status != 207) {
		rc = davc_status_error(be, rep.status, what, scope, e);
		davc_reply_clear(&rep);
		return rc;
	}
	url = davc_url(be, path);
	rc = dav_multistatus_parse(rep.body->str, rep.body->len, url, ms_r);
	davc_reply_clear(&rep);
	if (rc == -EPERM)
		return mfs_error_set(e, rc, scope, MFS_ERR_FINAL, "%s: the "
				     "answer declares a DOCTYPE or leads "
				     "outside %s; refused", what,
				     be->cfg.origin);
	if (rc < 0)
		return mfs_error_set(e, rc, scope, MFS_ERR_TRANSIENT,
				     "%s: unreadable answer: %s", what,
				     g_strerror(-rc));
	return 0;
}
