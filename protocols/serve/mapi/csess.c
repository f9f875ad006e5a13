/*
 * csess.c - what the two endpoints of MAPI over HTTP (/mapi/emsmdb/ and
 * /mapi/nspi/) share about their sessions: the table of sessions named
 * by the `sid` cookie, with its bounds and expiry, the cookies of a
 * request, and the HTTP envelope of an answer or a refusal.
 *
 * Specs: MS-OXCMAPIHTTP 2.2.3 (X-RequestType, X-RequestId, X-ClientInfo
 * echoed; X-ResponseCode, X-PendingPeriod, X-ExpirationInfo,
 * X-ServerApplication), 2.2.7 (the meta-tags before the binary
 * response), 3.2.5.1 (session context cookies, expiry after
 * X-ExpirationInfo of idleness); RFC 6265 (cookies).
 *
 * A session is held (refs) while a request runs and is never forgotten
 * then; at a bound (per user, in all) the session of the same user, or
 * else any, unused longest makes room, and only when every one is busy
 * is a new one refused.
 */
#include <string.h>
#include <time.h>

#include "serve/http.h"
#include "wire/mapi-http.h"
#include "mapid-private.h"

void mapid_csess_init(struct mapid_csess *c, const char *user)
{
	for (int i = 0; i < 4; i++)
		g_snprintf(c->sid + 8 * i, 9, "%08x", g_random_int());
	mapid_csess_new_sequence(c);
	c->user = g_strdup(user);
	c->last_used = g_get_monotonic_time();
	c->refs = 1;
	g_mutex_init(&c->lock);
}

void mapid_csess_clear(struct mapid_csess *c)
{
	g_mutex_clear(&c->lock);
	g_free(c->user);
}

void mapid_csess_new_sequence(struct mapid_csess *c)
{
	char *g = g_uuid_string_random();

	g_strlcpy(c->sequence, g, sizeof(c->sequence));
	g_free(g);
}

static void table_ready(struct mapid_ctable *t)
{
	if (!t->by_sid)
		t->by_sid = g_hash_table_new_full(g_str_hash, g_str_equal,
						  NULL, t->free);
}

/* Forget the ended and expired sessions nobody uses.  Lock held. */
static void purge(struct mapid_ctable *t, gint64 now)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, t->by_sid);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct mapid_csess *c = v;
		if (!c->refs && (c->ended || now - c->last_used >
				 (gint64)MAPID_EXPIRATION_MS * 1000))
			g_hash_table_iter_remove(&it);
	}
}

/* Room for one more session of `user`.  Lock held. */
static bool make_room(struct mapid_ctable *t, const char *user)
{
	for (;;) {
		struct mapid_csess *lru = NULL, *lru_mine = NULL;
		unsigned mine = 0;
		GHashTableIter it;
		gpointer v;

		g_hash_table_iter_init(&it, t->by_sid);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			struct mapid_csess *o = v;
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
		/* a client that went away without a word leaves one behind */
		if (mine >= t->per_user_max) {
			if (!lru_mine)
				return false;
			g_hash_table_remove(t->by_sid, lru_mine->sid);
		} else if (g_hash_table_size(t->by_sid) >= t->max) {
			if (!lru)
				return false;
			g_hash_table_remove(t->by_sid, lru->sid);
		} else {
			return true;
		}
	}
}

bool mapid_ctable_admit(struct mapid_ctable *t, struct mapid_csess *c)
{
	bool room;

	g_mutex_lock(&t->lock);
	table_ready(t);
	purge(t, g_get_monotonic_time());
	room = make_room(t, c->user);
	if (room)
		g_hash_table_replace(t->by_sid, c->sid, c);
	g_mutex_unlock(&t->lock);
	return room;
}

struct mapid_csess *mapid_ctable_get(struct mapid_ctable *t, const char *sid,
				     const char *user)
{
	struct mapid_csess *c = NULL;

	g_mutex_lock(&t->lock);
	if (t->by_sid) {
		purge(t, g_get_monotonic_time());
		c = g_hash_table_lookup(t->by_sid, sid);
	}
	if (c && (c->ended || strcmp(c->user, user)))
		c = NULL;
	if (c)
		c->refs++;
	g_mutex_unlock(&t->lock);
	return c;
}

void mapid_ctable_put(struct mapid_ctable *t, struct mapid_csess *c,
		      bool touch)
{
	g_mutex_lock(&t->lock);
	if (touch)
		c->last_used = g_get_monotonic_time();
	c->refs--;
	g_mutex_unlock(&t->lock);
}

void mapid_ctable_clear(struct mapid_ctable *t)
{
	g_mutex_lock(&t->lock);
	if (t->by_sid)
		g_hash_table_remove_all(t->by_sid);
	g_mutex_unlock(&t->lock);
}

char *mapid_cookie(const struct serve_http_req *req, const char *name)
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

void mapid_http_failure(struct serve_http_reply *rep, uint32_t rc)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	char num[16];

	mapi_http_write_diag_page(b, rc);
	rep->status = 200;
	rep->content_type = g_strdup("text/html");
	rep->body = g_string_new_len((const char *)b->data, b->len);
	g_snprintf(num, sizeof(num), "%u", rc);
	serve_http_reply_header(rep, "Cache-Control", "private");
	serve_http_reply_header(rep, MAPI_HDR_RESPONSE_CODE, num);
	serve_http_reply_header(rep, MAPI_HDR_SERVER_APPLICATION,
				MAPID_SERVER_APP);
}

void mapid_http_success(const struct serve_http_req *req,
			struct serve_http_reply *rep,
			const struct mapid_csess *c, const char *path,
			bool sequence, gint64 started, const GByteArray *bin)
{
	static const char *const echoed[] = {
		MAPI_HDR_REQUEST_TYPE, MAPI_HDR_REQUEST_ID,
		MAPI_HDR_CLIENT_INFO,
	};
	g_autoptr(GByteArray) b = g_byte_array_new();
	char date[30], num[16];
	g_autofree char *sid = g_strdup_printf("sid=%s; path=%s; HttpOnly",
					       c->sid, path);
	g_autofree char *seq = g_strdup_printf("sequence=%s; path=%s; "
					       "HttpOnly", c->sequence, path);

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
}
