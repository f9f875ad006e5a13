/*
 * session.c - the EMSMDB sessions of MAPI over HTTP and the answer to
 * every request on /mapi/emsmdb/ (the table they live in and the HTTP
 * envelope are csess.c's, shared with /mapi/nspi/).
 *
 * Specs: MS-OXCMAPIHTTP 2.2.2 (request and response, Content-Type
 * application/mapi-http), 2.2.3 (the headers: X-RequestType,
 * X-RequestId, X-ClientInfo echoed, X-ResponseCode, X-PendingPeriod,
 * X-ExpirationInfo, X-ServerApplication), 2.2.3.3.3 (the X-ResponseCode
 * values, the spec's numbers), 2.2.7 (the meta-tags before the binary
 * response), 3.2.5.1 (session context cookies: the server sets them,
 * the client sends back the latest; a session is forgotten after
 * X-ExpirationInfo of idleness and after Disconnect); RFC 6265 (cookies).
 *
 * The session is named by the `sid` cookie (128 random bits in hex) and
 * ordered by the `sequence` cookie (a random GUID, new on every answer
 * but Disconnect's and NotificationWait's): a request with an older one
 * is refused with X-ResponseCode 15 and changes nothing, so the client
 * may go on with the latest.  The request type is checked before the
 * sequence is, so that a request the server refuses never costs the
 * client its sequence.  NotificationWait is exempt from the check and
 * runs beside the session's other requests.  A session belongs to the
 * user who made it; another user's cookie is an unknown one.  At the
 * bounds on sessions (per user, in all), a Connect makes room by
 * forgetting the session unused longest; only when every one is busy
 * is it refused.
 *
 * Failures are answered 200 with the X-ResponseCode, text/html and a
 * small page naming the failure (mapi_http_write_diag_page), no cookie.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "serve/http.h"
#include "wire/mapi-http.h"
#include "mapid-private.h"

char *mapid_legacy_dn(const char *user)
{
	return g_strdup_printf("/o=mailfs/ou=Exchange Administrative Group "
			       "(FYDIBOHF23SPDLT)/cn=Recipients/cn=%s", user);
}

static void session_free(gpointer p)
{
	struct mapid_session *s = p;

	g_ptr_array_unref(s->objs);
	g_free(s->display_name);
	g_free(s->legacy_dn);
	mapid_csess_clear(&s->c);
	g_free(s);
}

static struct mapid_ctable sessions = {
	.per_user_max = MAPID_SESSIONS_PER_USER, .max = MAPID_SESSIONS_MAX,
	.free = session_free,
};

/* A new session of `user`, held; NULL at the bounds. */
static struct mapid_session *session_new(const char *user)
{
	struct mapid_session *s = g_new0(struct mapid_session, 1);

	mapid_csess_init(&s->c, user);
	s->display_name = g_strdup(user);
	s->legacy_dn = mapid_legacy_dn(user);
	s->objs = mapid_objs_new();
	if (!mapid_ctable_admit(&sessions, &s->c)) {
		session_free(s);
		return NULL;
	}
	return s;
}

static struct mapid_session *session_get(const char *sid, const char *user)
{
	/* c is the first member */
	return (struct mapid_session *)mapid_ctable_get(&sessions, sid, user);
}

static void session_put(struct mapid_session *s, bool touch)
{
	mapid_ctable_put(&sessions, &s->c, touch);
}

void mapid_sessions_clear(void)
{
	mapid_ctable_clear(&sessions);
}


static void success(const struct serve_http_req *req,
		    struct serve_http_reply *rep,
		    const struct mapid_session *s, bool sequence,
		    gint64 started, const GByteArray *bin)
{
	mapid_http_success(req, rep, &s->c, "/mapi/", sequence, started, bin);
}

/* Long because it is the one place where a request is checked in the
 * order the spec gives (type, cookie, session, sequence) and answered. */
void mapid_session_handle(const struct mapid_server *srv,
			  const struct serve_http_req *req,
			  struct serve_http_reply *rep)
{
	const char *type_name = serve_http_header(req, MAPI_HDR_REQUEST_TYPE);
	enum mapi_req type = mapi_req_from_name(type_name);
	const uint8_t *body = (const uint8_t *)req->body;
	g_autofree char *sid = NULL, *seq = NULL;
	g_autoptr(GByteArray) bin = g_byte_array_new();
	struct mapid_session *s;
	gint64 started = g_get_real_time();
	uint32_t rc;

	if (!type_name) {
		mapid_http_failure(rep, MAPI_RC_MISSING_HEADER);
		return;
	}
	/* NSPI's requests are nspi.c's, on its own endpoint */
	if (type == MAPI_REQ_UNKNOWN || mapi_req_is_nspi(type) ||
	    type == MAPI_REQ_PING) {
		mapid_http_failure(rep, MAPI_RC_INVALID_REQUEST_TYPE);
		return;
	}
	if (type == MAPI_REQ_CONNECT) {
		s = session_new(req->user);
		if (!s) {
			log_info("mapi: %s: too many sessions", req->user);
			mapid_http_failure(rep, MAPI_RC_NO_PRIVILEGE);
			return;
		}
		g_mutex_lock(&s->c.lock);
		rc = mapid_connect(s, body, req->body_len, bin);
		if (rc)
			s->c.ended = true;
		else
			success(req, rep, s, true, started, bin);
		g_mutex_unlock(&s->c.lock);
		session_put(s, true);
		if (rc)
			mapid_http_failure(rep, rc);
		return;
	}
	sid = mapid_cookie(req, "sid");
	seq = mapid_cookie(req, "sequence");
	if (!sid || (!seq && type != MAPI_REQ_NOTIFICATION_WAIT)) {
		mapid_http_failure(rep, MAPI_RC_MISSING_COOKIE);
		return;
	}
	s = session_get(sid, req->user);
	if (!s) {
		mapid_http_failure(rep, MAPI_RC_INVALID_CONTEXT_COOKIE);
		return;
	}
	if (type == MAPI_REQ_NOTIFICATION_WAIT) {
		rc = mapid_nwait(srv->ctx, s, body, req->body_len, bin);
		if (!rc)
			success(req, rep, s, false, started, bin);
		session_put(s, true);
		if (rc)
			mapid_http_failure(rep, rc);
		return;
	}
	g_mutex_lock(&s->c.lock);
	if (strcmp(seq, s->c.sequence)) {
		rc = MAPI_RC_INVALID_SEQUENCE;
	} else if (type == MAPI_REQ_DISCONNECT) {
		rc = mapid_disconnect(body, req->body_len, bin);
		if (!rc) {
			success(req, rep, s, true, started, bin);
			s->c.ended = true;
		}
	} else if (type == MAPI_REQ_EXECUTE) {
		rc = mapid_execute(srv->ctx, s, body, req->body_len, bin);
		if (!rc) {
			mapid_csess_new_sequence(&s->c);
			success(req, rep, s, true, started, bin);
		}
	} else {
		rc = MAPI_RC_INVALID_REQUEST_TYPE;
	}
	g_mutex_unlock(&s->c.lock);
	session_put(s, rc == 0);
	if (rc)
		mapid_http_failure(rep, rc);
}
