/*
 * http.c - one MAPI over HTTP request: the body POSTed with libcurl to the
 * emsmdb or nspi endpoint, the session's cookies sent and renewed, the
 * answer's meta-tags read as they arrive and its binary part kept.
 *
 * Specs: [MS-OXCMAPIHTTP] 2.2.2 (requests and responses), 2.2.3 (headers,
 * X-ResponseCode), 2.2.7 and 3.2.5 (meta-tags, PENDING), 3.2.5.1 (the
 * sid and sequence cookies); RFC 9110, RFC 6265 (Set-Cookie), RFC 7617
 * (Basic), RFC 6750 (Bearer), [MS-NLMP] and RFC 4559 through libcurl.
 *
 * Every request gets its own libcurl handle.  Cookies are ours, not
 * libcurl's: a server sends sid and sequence as separate Set-Cookie
 * headers in any order, and the sequence must be the latest one sent,
 * whatever became of the answer that carried it.
 *
 * Deadlines: each request ends by the deadline of the operation it is
 * part of (stream.h); a PROCESSING or PENDING line says the server works
 * on it and starts the deadline afresh, but one request never lasts more
 * than the conf's pending_max seconds that way.
 *
 * The password goes to libcurl only; the trace shows sizes, not bodies.
 */
#include "mapic-private.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>

#include "curl-tls.h"
#include "log.h"
#include "printable.h"
#include "secret.h"
#include "stream.h"

void mapic_http_init(struct mapic_http *h, const struct mapic_conf *conf,
		     bool nspi)
{
	g_autofree char *base = g_strdup(conf->url ? conf->url : "");
	g_autofree char *mbox = g_uri_escape_string(
		conf->mailbox ? conf->mailbox : (conf->user ? conf->user : ""),
		"@", FALSE);
	char *uuid;
	size_t n = strlen(base);

	memset(h, 0, sizeof(*h));
	h->conf = conf;
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	h->url = g_strdup_printf("%s/mapi/%s/?MailboxId=%s", base,
				 nspi ? "nspi" : "emsmdb", mbox);
	uuid = g_uuid_string_random();
	g_strlcpy(h->request_guid, uuid, sizeof(h->request_guid));
	g_free(uuid);
	uuid = g_uuid_string_random();
	g_strlcpy(h->client_guid, uuid, sizeof(h->client_guid));
	g_free(uuid);
}

void mapic_http_forget(struct mapic_http *h)
{
	g_clear_pointer(&h->sid, g_free);
	g_clear_pointer(&h->sequence, g_free);
}

void mapic_http_clear(struct mapic_http *h)
{
	mapic_http_forget(h);
	g_clear_pointer(&h->url, g_free);
}

/* One answer as it arrives. */
struct answer {
	const struct mapic_conf *conf;
	long status;			/* of the last status line */
	bool have_rc;
	uint32_t rc;
	char *sid, *sequence;		/* owned; from Set-Cookie */
	struct mapi_meta_rd meta;
	bool binary;			/* the meta-tags are over */
	GByteArray *body;		/* the binary part, or a failure page */
	bool too_big;
	int meta_err;			/* the meta-tag reader's, or 0 */
	bool kept_too_long;		/* PENDING past pending_max */
	gint64 started;
	unsigned keepalives;
};

static bool is_failure(const struct answer *a)
{
	return a->status != 200 || (a->have_rc && a->rc != 0);
}

/* A cookie value we send back as it came: printable ASCII without the
 * separators of a Cookie header, bounded. */
static bool cookie_ok(const char *v, size_t len)
{
	if (len == 0 || len > MAPIC_COOKIE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (v[i] <= ' ' || v[i] >= 0x7F || v[i] == ';' ||
		    v[i] == ',' || v[i] == '"' || v[i] == '\\')
			return false;
	return true;
}

static void take_cookie(struct answer *a, const char *v, size_t len)
{
	const char *end = memchr(v, ';', len);
	const char *eq = memchr(v, '=', len);
	size_t vlen;

	if (end)
		len = (size_t)(end - v);
	if (!eq || eq >= v + len)
		return;
	vlen = len - (size_t)(eq + 1 - v);
	if (!cookie_ok(eq + 1, vlen))
		return;
	if (eq - v == 3 && !g_ascii_strncasecmp(v, "sid", 3)) {
		g_free(a->sid);
		a->sid = g_strndup(eq + 1, vlen);
	} else if (eq - v == 8 && !g_ascii_strncasecmp(v, "sequence", 8)) {
		g_free(a->sequence);
		a->sequence = g_strndup(eq + 1, vlen);
	}
}

/* libcurl's header callback: every header line of every response
 * (NTLM's 401 included), one at a time. */
static size_t on_header(char *data, size_t size, size_t n, void *p)
{
	struct answer *a = p;
	size_t len = size * n;
	const char *colon;
	size_t name_len;

	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		const char *sp = memchr(data, ' ', len);
		a->status = sp ? (long)g_ascii_strtoull(sp + 1, NULL, 10) : 0;
		a->have_rc = false;
		a->rc = 0;
		a->binary = false;
		g_byte_array_set_size(a->body, 0);
		mapi_meta_init(&a->meta, MAPI_META_LINE_MAX,
			       MAPIC_KEEPALIVE_MAX);
		return size * n;
	}
	colon = memchr(data, ':', len);
	if (!colon)
		return size * n;
	name_len = (size_t)(colon - data);
	colon++;
	while (colon < data + len && (*colon == ' ' || *colon == '\t'))
		colon++;
	if (name_len == strlen(MAPI_HDR_RESPONSE_CODE) &&
	    !g_ascii_strncasecmp(data, MAPI_HDR_RESPONSE_CODE, name_len)) {
		g_autofree char *v = g_strndup(colon,
					       (size_t)(data + len - colon));
		/* a value that is no number is a failure too */
		if (mapi_rc_parse(v, &a->rc) < 0)
			a->rc = MAPI_RC_INVALID_RESPONSE;
		a->have_rc = true;
	} else if (name_len == 10 &&
		   !g_ascii_strncasecmp(data, "Set-Cookie", 10)) {
		take_cookie(a, colon, (size_t)(data + len - colon));
	}
	return size * n;
}

/* A keep-alive line: the server works on it, so the deadline starts
 * afresh, within pending_max. */
static bool keepalive(struct answer *a)
{
	gint64 max = (gint64)MAX(a->conf->pending_max, 1u) * G_USEC_PER_SEC;

	a->keepalives++;
	if (g_get_monotonic_time() - a->started > max) {
		a->kept_too_long = true;
		return false;
	}
	stream_op_progress(STREAM_OP_PROGRESS);
	return true;
}

static size_t append_bounded(struct answer *a, const char *data, size_t len,
			     size_t max)
{
	if (a->body->len + len > max) {
		a->too_big = true;
		return 0;
	}
	g_byte_array_append(a->body, (const guint8 *)data, (guint)len);
	return len;
}

/* libcurl's write callback: the meta-tags, then the binary part. */
static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	struct answer *a = p;
	size_t len = size * n, off = 0;

	if (is_failure(a)) {
		/* a page for its sentence: what is past the bound is not
		 * needed, and not an error */
		size_t room = MAPIC_DIAG_MAX - MIN(a->body->len,
						   MAPIC_DIAG_MAX);
		g_byte_array_append(a->body, (const guint8 *)data,
				    (guint)MIN(room, len));
		return len;
	}
	while (!a->binary && off < len) {
		size_t used = 0;
		int ev = mapi_meta_feed(&a->meta, data + off, len - off, &used);

		off += used;
		if (ev < 0) {
			a->meta_err = ev;
			return 0;
		}
		if ((ev == MAPI_META_PROCESSING || ev == MAPI_META_PENDING) &&
		    !keepalive(a))
			return 0;
		if (ev == MAPI_META_BINARY)
			a->binary = true;
	}
	if (off == len)
		return len;
	return append_bounded(a, data + off, len - off,
			      MAPIC_RESPONSE_MAX) == len - off ? len : 0;
}

static int curl_failure(const struct answer *a, const char *who, CURLcode cc,
			bool expired, const char *raw, struct mfs_error *e)
{
	/* libcurl's words may quote the peer (a TLS alert, a proxy) */
	g_autofree char *msg = printable(raw, -1);
	unsigned t = a->conf->timeout;

	if (a->kept_too_long)
		return mfs_error_set(e, -ETIMEDOUT, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: the server kept "
				     "the request waiting (PENDING) for more "
				     "than %u s", who, a->conf->pending_max);
	if (a->meta_err == -ETIMEDOUT)
		return mfs_error_set(e, -ETIMEDOUT, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: more than %u "
				     "keep-alive lines in one answer", who,
				     MAPIC_KEEPALIVE_MAX);
	if (a->meta_err)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: the answer's "
				     "meta-tags are malformed (%s)", who,
				     g_strerror(-a->meta_err));
	if (a->too_big)
		return mfs_error_set(e, -EMSGSIZE, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: the answer is "
				     "larger than %u bytes", who,
				     MAPIC_RESPONSE_MAX);
	if (!expired && (cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR ||
			 cc == CURLE_GOT_NOTHING))
		return mfs_error_set(e, -EIO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: the answer broke "
				     "off: %s", who, msg);
	return mfs_curl_failure(cc, expired, who, msg, t, e);
}

static int http_failure(long status, const char *who, struct mfs_error *e)
{
	switch (status) {
	case 401:
		return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: login refused (HTTP 401): wrong user "
				     "or password", who);
	case 403:
		return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: forbidden (HTTP 403)", who);
	case 404:
	case 405:
		return mfs_error_set(e, -ENOENT, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: no MAPI over HTTP service here "
				     "(HTTP %ld)", who, status);
	case 429:
	case 503:
		return mfs_error_set(e, -EAGAIN, MFS_ERR_ACCOUNT,
				     MFS_ERR_BACKOFF, "%s: server busy (HTTP "
				     "%ld)", who, status);
	default:
		return mfs_error_set(e, status >= 500 ? -EIO : -EPROTO,
				     MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
				     "%s: HTTP %ld", who, status);
	}
}

/* A non-zero X-ResponseCode: the server's own sentence, else the table's.
 * Servers number the codes differently (gromox: 2 invalid context cookie,
 * 6 missing cookie, 7 invalid sequence; MS-OXCMAPIHTTP: 6 and 10 for the
 * context, 15 for the sequence), so any of those means the session is
 * gone for us: a sequence out of step (the server took one whose answer
 * never reached us) stays so, and only a new session gets past it. */
static int rc_failure(const struct answer *a, const char *who,
		      enum mapi_req t, struct mfs_error *e)
{
	g_autofree char *diag = mapi_http_diag_text(a->body->data,
						    a->body->len, 200);
	g_autofree char *text = printable(diag ? diag : mapi_rc_text(a->rc),
					  -1);
	bool lost = a->rc == 2 || a->rc == 7 ||
		    a->rc == MAPI_RC_INVALID_CONTEXT_COOKIE ||
		    a->rc == MAPI_RC_CONTEXT_NOT_FOUND ||
		    a->rc == MAPI_RC_INVALID_SEQUENCE;

	return mfs_error_set(e, lost ? -ESTALE : -EPROTO, MFS_ERR_ACCOUNT,
			     MFS_ERR_TRANSIENT, "%s: %s refused (X-ResponseCode "
			     "%u): %s", who, mapi_req_name(t), a->rc, text);
}

static struct curl_slist *request_headers(struct mapic_http *h,
					  enum mapi_req t)
{
	struct mapi_http_client c = { .request_guid = h->request_guid,
				      .client_info = h->client_guid,
				      .application = "mailfs" };
	struct mapi_http_headers hd;
	struct curl_slist *list = NULL;

	if (mapi_http_request_headers(&hd, t, &c, ++h->seq) < 0)
		return NULL;
	for (size_t i = 0; i < hd.n; i++) {
		g_autofree char *line = g_strdup_printf("%s: %s", hd.h[i].name,
							hd.h[i].value);
		list = curl_slist_append(list, line);
	}
	mapi_http_headers_clear(&hd);
	/* no 100-continue round trip before each body */
	return curl_slist_append(list, "Expect:");
}

static void set_auth(CURL *c, const struct mapic_conf *conf)
{
	static const long how[] = {
		[MAPIC_AUTH_BASIC] = CURLAUTH_BASIC,
		[MAPIC_AUTH_NTLM] = CURLAUTH_NTLM,
		[MAPIC_AUTH_NEGOTIATE] = CURLAUTH_NEGOTIATE,
		[MAPIC_AUTH_BEARER] = CURLAUTH_BEARER,
	};

	curl_easy_setopt(c, CURLOPT_HTTPAUTH, how[conf->auth]);
	if (conf->auth == MAPIC_AUTH_BEARER) {
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER,
				 conf->password ? conf->password : "");
		return;
	}
	curl_easy_setopt(c, CURLOPT_USERNAME, conf->user ? conf->user : "");
	curl_easy_setopt(c, CURLOPT_PASSWORD,
			 conf->password ? conf->password : "");
}

/* Keep the cookies the answer set: the latest sequence always wins. */
static void keep_cookies(struct mapic_http *h, struct answer *a)
{
	if (a->sid) {
		g_free(h->sid);
		h->sid = g_steal_pointer(&a->sid);
	}
	if (a->sequence) {
		g_free(h->sequence);
		h->sequence = g_steal_pointer(&a->sequence);
	}
}

/* What to do with a finished transfer. */
static int outcome(struct mapic_http *h, struct answer *a, enum mapi_req t,
		   const char *who, struct mfs_error *e)
{
	h->last_rc = a->have_rc ? a->rc : 0;
	if (a->status != 200)
		return http_failure(a->status, who, e);
	if (a->have_rc && a->rc != 0)
		return rc_failure(a, who, t, e);
	if (!a->have_rc)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: %s answer without "
				     "X-ResponseCode", who, mapi_req_name(t));
	if (!a->binary)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: %s answer ended "
				     "before its meta-tags did", who,
				     mapi_req_name(t));
	return 0;
}

int mapic_http_post(struct mapic_http *h, enum mapi_req t,
		    const GByteArray *req, GByteArray **body_r,
		    struct mfs_error *e)
{
	const struct mapic_conf *conf = h->conf;
	g_autofree char *who = mapic_who(conf);
	g_autofree char *cookie = NULL;
	char curl_msg[CURL_ERROR_SIZE] = "";
	struct answer a = { .conf = conf, .body = g_byte_array_new(),
			    .started = g_get_monotonic_time() };
	struct mfs_curl_clock clock = {
		.timeout_ms = (int)MIN(MAX(conf->timeout, 1u), 3600u) * 1000 };
	struct curl_slist *hdr = request_headers(h, t);
	CURL *c;
	int rc;

	*body_r = NULL;
	mapi_meta_init(&a.meta, MAPI_META_LINE_MAX, MAPIC_KEEPALIVE_MAX);
	c = curl_easy_init();
	if (!c || !hdr) {
		if (c)
			curl_easy_cleanup(c);
		curl_slist_free_all(hdr);
		g_byte_array_unref(a.body);
		return mfs_error_set(e, -ENOMEM, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: no request "
				     "handle", who);
	}
	if (h->sid)
		cookie = h->sequence ? g_strdup_printf("sid=%s; sequence=%s",
						       h->sid, h->sequence)
				     : g_strdup_printf("sid=%s", h->sid);
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_msg);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	mfs_curl_verify(c, conf->ca_file);
	mfs_curl_deadline(c, &clock);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mailfs");
	if (cookie)
		curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	set_auth(c, conf);
	log_debug(LOG_PROTO, "mapi C: %s %s, %u bytes", mapi_req_name(t),
		  h->url, req->len);
	stream_op_begin();
	CURLcode cc = curl_easy_perform(c);
	stream_op_end();
	keep_cookies(h, &a);
	if (cc != CURLE_OK) {
		if (!curl_msg[0])
			g_strlcpy(curl_msg, curl_easy_strerror(cc),
				  sizeof(curl_msg));
		rc = curl_failure(&a, who, cc, clock.expired, curl_msg, e);
	} else {
		rc = outcome(h, &a, t, who, e);
	}
	log_debug(LOG_PROTO, "mapi S: %s HTTP %ld rc %u, %u bytes: %d",
		  mapi_req_name(t), a.status, a.rc, a.body->len, rc);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	if (cookie)
		explicit_bzero(cookie, strlen(cookie));
	g_free(a.sid);
	g_free(a.sequence);
	if (rc < 0) {
		g_byte_array_unref(a.body);
		return rc;
	}
	*body_r = a.body;
	return 0;
}
