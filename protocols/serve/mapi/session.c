/*
 * session.c - the sessions of MAPI over HTTP and the answer to every
 * request on /mapi/emsmdb/ and /mapi/nspi/.
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
#include <time.h>

#include "log.h"
#include "serve/http.h"
#include "wire/mapi-http.h"
#include "mapid-private.h"

static GMutex table_lock;
static GHashTable *sessions;	/* sid -> struct mapid_session *; owns */

char *mapid_legacy_dn(const char *user)
{
	return g_strdup_printf("/o=mailfs/ou=Exchange Administrative Group "
			       "(FYDIBOHF23SPDLT)/cn=Recipients/cn=%s", user);
}

static void session_free(gpointer p)
{
	struct mapid_session *s = p;

	g_ptr_array_unref(s->objs);
	g_mutex_clear(&s->lock);
	g_free(s->user);
	g_free(s->display_name);
	g_free(s->legacy_dn);
	g_free(s);
}

static void new_sequence(struct mapid_session *s)
{
	char *g = g_uuid_string_random();

	g_strlcpy(s->sequence, g, sizeof(s->sequence));
	g_free(g);
}

/* Forget expired and ended sessions nobody is using.  Lock held. */
static void purge(gint64 now)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, sessions);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct mapid_session *s = v;
		if (!s->refs && (s->ended || now - s->last_used >
				 (gint64)MAPID_EXPIRATION_MS * 1000))
			g_hash_table_iter_remove(&it);
	}
}

/* A new session of `user`, held (mapid_session_put); NULL when the
 * bounds are reached. */
static struct mapid_session *session_new(const char *user)
{
	struct mapid_session *s;
	GHashTableIter it;
	gpointer v;
	unsigned mine = 0;
	gint64 now = g_get_monotonic_time();

	g_mutex_lock(&table_lock);
	if (!sessions)
		sessions = g_hash_table_new_full(g_str_hash, g_str_equal,
						 NULL, session_free);
	purge(now);
	for (;;) {
		struct mapid_session *lru = NULL, *lru_mine = NULL;

		mine = 0;
		g_hash_table_iter_init(&it, sessions);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			struct mapid_session *o = v;
			bool is_mine = !strcmp(o->user, user);
			mine += is_mine;
			if (o->refs)
				continue;
			if (!lru || o->last_used < lru->last_used)
				lru = o;
			if (is_mine && (!lru_mine ||
					o->last_used < lru_mine->last_used))
				lru_mine = o;
		}
		/* at a bound, the session unused longest goes: a client
		 * that went away without Disconnect leaves one behind */
		if (mine >= MAPID_SESSIONS_PER_USER && lru_mine)
			g_hash_table_remove(sessions, lru_mine->sid);
		else if (g_hash_table_size(sessions) >= MAPID_SESSIONS_MAX &&
			 lru)
			g_hash_table_remove(sessions, lru->sid);
		else
			break;
	}
	if (mine >= MAPID_SESSIONS_PER_USER ||
	    g_hash_table_size(sessions) >= MAPID_SESSIONS_MAX) {
		g_mutex_unlock(&table_lock);
		return NULL;
	}
	s = g_new0(struct mapid_session, 1);
	for (int i = 0; i < 4; i++)
		g_snprintf(s->sid + 8 * i, 9, "%08x", g_random_int());
	new_sequence(s);
	s->user = g_strdup(user);
	s->display_name = g_strdup(user);
	s->legacy_dn = mapid_legacy_dn(user);
	s->last_used = now;
	s->objs = mapid_objs_new();
	s->refs = 1;
	g_mutex_init(&s->lock);
	g_hash_table_replace(sessions, s->sid, s);
	g_mutex_unlock(&table_lock);
	return s;
}

/* The session `sid` of `user`, held; NULL when unknown, ended, expired
 * or another user's. */
static struct mapid_session *session_get(const char *sid, const char *user)
{
	struct mapid_session *s;
	gint64 now = g_get_monotonic_time();

	g_mutex_lock(&table_lock);
	if (sessions)
		purge(now);
	s = sessions ? g_hash_table_lookup(sessions, sid) : NULL;
	if (s && (s->ended || strcmp(s->user, user)))
		s = NULL;
	if (s)
		s->refs++;
	g_mutex_unlock(&table_lock);
	return s;
}

static void session_put(struct mapid_session *s, bool touch)
{
	g_mutex_lock(&table_lock);
	if (touch)
		s->last_used = g_get_monotonic_time();
	s->refs--;
	g_mutex_unlock(&table_lock);
}

void mapid_sessions_clear(void)
{
	g_mutex_lock(&table_lock);
	if (sessions)
		g_hash_table_remove_all(sessions);
	g_mutex_unlock(&table_lock);
}

/* The value of cookie `name` in the Cookie header (caller owns). */
static char *cookie(const struct serve_http_req *req, const char *name)
{
	const char *h = serve_http_header(req, "Cookie");
	g_auto(GStrv) parts = NULL;
	size_t n = strlen(name);

	if (!h)
		return NULL;
	parts = g_strsplit(h, ";", -1);
	for (int i = 0; parts[i]; i++) {
		const char *p = parts[i];
		while (*p == ' ')
			p++;
		if (!strncmp(p, name, n) && p[n] == '=')
			return g_strstrip(g_strdup(p + n + 1));
	}
	return NULL;
}

static void failure(struct serve_http_reply *rep, uint32_t rc)
{
	GByteArray *b = g_byte_array_new();
	char num[16];

	mapi_http_write_diag_page(b, rc);
	rep->status = 200;
	rep->content_type = g_strdup("text/html");
	rep->body = g_string_new_len((const char *)b->data, b->len);
	g_byte_array_unref(b);
	g_snprintf(num, sizeof(num), "%u", rc);
	serve_http_reply_header(rep, "Cache-Control", "private");
	serve_http_reply_header(rep, MAPI_HDR_RESPONSE_CODE, num);
	serve_http_reply_header(rep, MAPI_HDR_SERVER_APPLICATION,
				MAPID_SERVER_APP);
}

/* The headers of a successful answer, the cookies and the meta-tags
 * before `bin`. */
static void success(const struct serve_http_req *req,
		    struct serve_http_reply *rep,
		    const struct mapid_session *s, bool sequence,
		    gint64 started, const GByteArray *bin)
{
	static const char *const echoed[] = {
		MAPI_HDR_REQUEST_TYPE, MAPI_HDR_REQUEST_ID,
		MAPI_HDR_CLIENT_INFO,
	};
	GByteArray *b = g_byte_array_new();
	char date[30], num[16];
	g_autofree char *sid = g_strdup_printf("sid=%s; path=/mapi/; "
					       "HttpOnly", s->sid);
	g_autofree char *seq = g_strdup_printf("sequence=%s; path=/mapi/; "
					       "HttpOnly", s->sequence);

	rep->status = 200;
	rep->content_type = g_strdup(MAPI_HTTP_CONTENT_TYPE);
	serve_http_reply_header(rep, "Cache-Control", "private");
	for (size_t i = 0; i < G_N_ELEMENTS(echoed); i++) {
		const char *v = serve_http_header(req, echoed[i]);
		if (v)
			serve_http_reply_header(rep, echoed[i], v);
	}
	serve_http_reply_header(rep, MAPI_HDR_RESPONSE_CODE, "0");
	g_snprintf(num, sizeof(num), "%u", MAPID_PENDING_MS);
	serve_http_reply_header(rep, MAPI_HDR_PENDING_PERIOD, num);
	g_snprintf(num, sizeof(num), "%u", MAPID_EXPIRATION_MS);
	serve_http_reply_header(rep, MAPI_HDR_EXPIRATION_INFO, num);
	serve_http_reply_header(rep, MAPI_HDR_SERVER_APPLICATION,
				MAPID_SERVER_APP);
	serve_http_reply_header(rep, "Set-Cookie", sid);
	if (sequence)
		serve_http_reply_header(rep, "Set-Cookie", seq);
	mapi_meta_write_keepalive(b, false);
	mapi_http_date((time_t)(started / G_USEC_PER_SEC), date);
	mapi_meta_write_done(b, (uint32_t)((g_get_real_time() - started) /
					   1000), date);
	g_byte_array_append(b, bin->data, bin->len);
	rep->body = g_string_new_len((const char *)b->data, b->len);
	g_byte_array_unref(b);
}

/* Long because it is the one place where a request is checked in the
 * order the spec gives (type, cookie, session, sequence) and answered. */
void mapid_session_handle(const struct mapid_server *srv,
			  const struct serve_http_req *req,
			  struct serve_http_reply *rep)
{
	const char *type_name = serve_http_header(req, MAPI_HDR_REQUEST_TYPE);
	enum mapi_req type = mapi_req_from_name(type_name);
	bool nspi = g_str_has_prefix(req->path, "/mapi/nspi") ||
		    g_str_has_prefix(req->path, "/mapi/NSPI");
	const uint8_t *body = (const uint8_t *)req->body;
	g_autofree char *sid = NULL, *seq = NULL;
	g_autoptr(GByteArray) bin = g_byte_array_new();
	struct mapid_session *s;
	gint64 started = g_get_real_time();
	uint32_t rc;

	if (!type_name) {
		failure(rep, MAPI_RC_MISSING_HEADER);
		return;
	}
	if (type == MAPI_REQ_UNKNOWN || mapi_req_is_nspi(type) != nspi ||
	    type == MAPI_REQ_PING) {
		failure(rep, MAPI_RC_INVALID_REQUEST_TYPE);
		return;
	}
	if (nspi) {	/* the address book comes later */
		failure(rep, MAPI_RC_ENDPOINT_DISABLED);
		return;
	}
	if (type == MAPI_REQ_CONNECT) {
		s = session_new(req->user);
		if (!s) {
			log_info("mapi: %s: too many sessions", req->user);
			failure(rep, MAPI_RC_NO_PRIVILEGE);
			return;
		}
		g_mutex_lock(&s->lock);
		rc = mapid_connect(s, body, req->body_len, bin);
		if (rc)
			s->ended = true;
		else
			success(req, rep, s, true, started, bin);
		g_mutex_unlock(&s->lock);
		session_put(s, true);
		if (rc)
			failure(rep, rc);
		return;
	}
	sid = cookie(req, "sid");
	seq = cookie(req, "sequence");
	if (!sid || (!seq && type != MAPI_REQ_NOTIFICATION_WAIT)) {
		failure(rep, MAPI_RC_MISSING_COOKIE);
		return;
	}
	s = session_get(sid, req->user);
	if (!s) {
		failure(rep, MAPI_RC_INVALID_CONTEXT_COOKIE);
		return;
	}
	if (type == MAPI_REQ_NOTIFICATION_WAIT) {
		rc = mapid_nwait(srv->ctx, s, body, req->body_len, bin);
		if (!rc)
			success(req, rep, s, false, started, bin);
		session_put(s, true);
		if (rc)
			failure(rep, rc);
		return;
	}
	g_mutex_lock(&s->lock);
	if (strcmp(seq, s->sequence)) {
		rc = MAPI_RC_INVALID_SEQUENCE;
	} else if (type == MAPI_REQ_DISCONNECT) {
		rc = mapid_disconnect(body, req->body_len, bin);
		if (!rc) {
			success(req, rep, s, true, started, bin);
			s->ended = true;
		}
	} else if (type == MAPI_REQ_EXECUTE) {
		rc = mapid_execute(srv->ctx, s, body, req->body_len, bin);
		if (!rc) {
			new_sequence(s);
			success(req, rep, s, true, started, bin);
		}
	} else {
		rc = MAPI_RC_INVALID_REQUEST_TYPE;
	}
	g_mutex_unlock(&s->lock);
	session_put(s, rc == 0);
	if (rc)
		failure(rep, rc);
}
