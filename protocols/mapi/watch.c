/*
 * watch.c - change notification of a MAPI over HTTP account: a thread
 * that registers for the store's events, long-polls NotificationWait and
 * fetches the RopNotify entries an event left, telling its caller which
 * folders changed; polling when the server gives no notifications.
 *
 * Specs: [MS-OXCMAPIHTTP] 2.2.4.4 (NotificationWait), 3.2.5.1 (cookies);
 * [MS-OXCNOTIF] 2.2.1.2 (RopRegisterNotification), 2.2.1.4.1
 * (RopNotify), 3.1.5.6 (notifications come after the answers of any
 * Execute, and of an Execute with no ROPs at all); [MS-OXCROPS] 2.2.14.
 *
 * NotificationWait belongs to the session (the sid cookie) but not to
 * its sequence: it carries no sequence cookie and a server sends none
 * back, so it runs on a connection of its own, beside the Executes of
 * the same session, without its lock.  It is sent here with libcurl's
 * multi interface rather than through http.c, so that stopping the
 * watcher wakes the long poll at once.
 *
 * After an event the watcher sends an Execute with no ROPs and reads the
 * RopNotify entries after it.  Another Execute of the session may take
 * them first (they follow whichever comes); an event whose details went
 * elsewhere is reported as fid 0, "look at everything".  So is one that
 * another Execute took before NotificationWait could tell of it (the
 * server then has nothing pending): every Execute counts the answers
 * that carried RopNotify, and a wait that ends without an event looks at
 * the count.
 *
 * A session made again (the server forgot it) loses the registration:
 * the watcher registers anew when the session's epoch moves.  When
 * registering or waiting fails, it polls every poll_interval seconds
 * (fid 0) and tries notifications again after each poll; that it
 * polls is logged once.
 */
#include "mapic-private.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>

#include "curl-tls.h"
#include "log.h"
#include "printable.h"

/* What is registered for: new mail and every object event, messages and
 * folders alike, on the whole store. */
#define WATCH_TYPES (ROP_NOTIF_NEW_MAIL | ROP_NOTIF_OBJECT_CREATED |	\
		     ROP_NOTIF_OBJECT_DELETED | ROP_NOTIF_OBJECT_MODIFIED | \
		     ROP_NOTIF_OBJECT_MOVED | ROP_NOTIF_OBJECT_COPIED)
/* The most of a NotificationWait answer kept (it is 16 bytes and the
 * meta-tags; a failure page is cut here). */
#define NWAIT_MAX (64u * 1024)
/* The longest one NotificationWait may last, at least. */
#define NWAIT_MIN_SECONDS 600u
/* The folders one batch of notifications may name; past it, fid 0. */
#define BATCH_MAX 64

struct mapic_watch {
	struct mapic_session *s;	/* borrowed */
	void (*fn)(uint64_t fid, bool hierarchy, void *data);
	void *data;
	unsigned poll_interval;		/* seconds */
	GThread *thread;
	GMutex lock;
	GCond cond;
	bool stop;			/* protected by lock */
	CURLM *multi;			/* owned; woken by stop */
	struct mapic_exec *x;		/* owned; holds the registration */
	unsigned epoch;			/* the session's, when registered */
	bool polling;			/* notifications failed */
	bool said;			/* the fallback was logged */
	char *who;			/* owned */
	char request_guid[37];
	uint64_t seq;
	int notifies_seen;		/* the session's count last looked at */
};

static bool stopping(struct mapic_watch *w)
{
	bool stop;

	g_mutex_lock(&w->lock);
	stop = w->stop;
	g_mutex_unlock(&w->lock);
	return stop;
}

/* Register on the store; the handle stays open in w->x until it is
 * freed.  Returns 0 or -errno. */
static int register_store(struct mapic_watch *w, struct mfs_error *e)
{
	struct rop_register_notification_resp r;
	uint8_t in, out;
	int rc;

	mapic_exec_free(&w->x);
	w->x = mapic_exec_new(w->s);
	g_mutex_lock(&w->s->lock);
	rc = mapic_session_ensure_locked(w->s, e);
	w->epoch = w->s->epoch;
	g_mutex_unlock(&w->s->lock);
	if (rc < 0)
		return rc;
	mapic_exec_begin(w->x);
	in = mapic_exec_logon(w->x);
	out = mapic_exec_out(w->x);
	rop_register_notification_req_write(mapic_exec_buf(w->x),
		&(struct rop_register_notification_req){
			.input_handle_index = in, .output_handle_index = out,
			.types = WATCH_TYPES, .want_whole_store = 1 });
	rc = mapic_exec_run(w->x, e);
	if (rc < 0)
		return rc;
	rc = rop_register_notification_resp_read(mapic_exec_rd(w->x), &r);
	if (rc < 0)
		return mapic_exec_bad(w->x, "RegisterNotification", rc, e);
	if (r.head.rv != 0)
		return mapic_exec_failed(w->x, "RegisterNotification",
					 r.head.rv, MFS_ERR_ACCOUNT, e);
	g_mutex_lock(&w->s->lock);
	w->epoch = w->s->epoch;
	g_mutex_unlock(&w->s->lock);
	return mapic_exec_end(w->x, e);
}

/* ---- NotificationWait ---- */

struct nwait {
	long status;
	bool have_rc;
	uint32_t rc;
	GByteArray *body;
};

static size_t nwait_header(char *data, size_t size, size_t n, void *p)
{
	struct nwait *a = p;
	size_t len = size * n, name = strlen(MAPI_HDR_RESPONSE_CODE);

	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		const char *sp = memchr(data, ' ', len);
		a->status = sp ? (long)g_ascii_strtoull(sp + 1, NULL, 10) : 0;
		a->have_rc = false;
		g_byte_array_set_size(a->body, 0);
	} else if (len > name && data[name] == ':' &&
		   !g_ascii_strncasecmp(data, MAPI_HDR_RESPONSE_CODE, name)) {
		g_autofree char *v = g_strndup(data + name + 1,
					       len - name - 1);
		g_strstrip(v);
		if (mapi_rc_parse(v, &a->rc) < 0)
			a->rc = MAPI_RC_INVALID_RESPONSE;
		a->have_rc = true;
	}
	return len;
}

static size_t nwait_body(char *data, size_t size, size_t n, void *p)
{
	struct nwait *a = p;
	size_t len = size * n;

	if (a->body->len + len > NWAIT_MAX)
		return 0;
	g_byte_array_append(a->body, (const guint8 *)data, (guint)len);
	return len;
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

static struct curl_slist *nwait_headers(struct mapic_watch *w,
					const char *client_guid)
{
	struct mapi_http_client c = { .request_guid = w->request_guid,
				      .client_info = client_guid,
				      .application = "mailfs" };
	struct mapi_http_headers hd;
	struct curl_slist *list = NULL;

	if (mapi_http_request_headers(&hd, MAPI_REQ_NOTIFICATION_WAIT, &c,
				      ++w->seq) < 0)
		return NULL;
	for (size_t i = 0; i < hd.n; i++) {
		g_autofree char *l = g_strdup_printf("%s: %s", hd.h[i].name,
						     hd.h[i].value);
		list = curl_slist_append(list, l);
	}
	mapi_http_headers_clear(&hd);
	return curl_slist_append(list, "Expect:");
}

/* Run the transfer on w->multi until it ends, the watcher stops or
 * `limit_s` passes.  Returns 0, -EINTR (stopped) or -ETIMEDOUT. */
static int nwait_perform(struct mapic_watch *w, CURL *c, unsigned limit_s,
			 CURLcode *cc_r)
{
	gint64 end = g_get_monotonic_time() + (gint64)limit_s * G_USEC_PER_SEC;
	int running = 1, rc = 0;
	CURLMsg *msg;
	int left;

	*cc_r = CURLE_OK;
	curl_multi_add_handle(w->multi, c);
	while (running) {
		curl_multi_perform(w->multi, &running);
		if (!running)
			break;
		if (stopping(w)) {
			rc = -EINTR;
			break;
		}
		if (g_get_monotonic_time() > end) {
			rc = -ETIMEDOUT;
			break;
		}
		curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
	}
	while ((msg = curl_multi_info_read(w->multi, &left)))
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == c)
			*cc_r = msg->data.result;
	curl_multi_remove_handle(w->multi, c);
	return rc;
}

/* What a finished NotificationWait said: *pending_r.  Returns 0 or
 * -errno with `e` filled (-ESTALE: the server forgot the session). */
static int nwait_outcome(struct mapic_watch *w, struct nwait *a,
			 uint32_t *pending_r, struct mfs_error *e)
{
	struct mapi_nwait_resp r;
	size_t off = 0;
	int rc;

	if (a->status == 401 || a->status == 403)
		return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: NotificationWait refused (HTTP %ld)",
				     w->who, a->status);
	if (a->status != 200)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: NotificationWait: "
				     "HTTP %ld", w->who, a->status);
	if (!a->have_rc || a->rc != 0) {
		uint32_t code = a->have_rc ? a->rc : MAPI_RC_INVALID_RESPONSE;
		bool lost = code == 2 || code == 7 ||
			    code == MAPI_RC_INVALID_CONTEXT_COOKIE ||
			    code == MAPI_RC_CONTEXT_NOT_FOUND ||
			    code == MAPI_RC_INVALID_SEQUENCE;
		return mfs_error_set(e, lost ? -ESTALE : -EPROTO,
				     MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
				     "%s: NotificationWait refused "
				     "(X-ResponseCode %u)", w->who, code);
	}
	rc = mapi_meta_split(a->body->data, a->body->len, MAPI_META_LINE_MAX,
			     MAPIC_KEEPALIVE_MAX, NULL, &off);
	if (rc == 0)
		rc = mapi_nwait_resp_read(&r, a->body->data + off,
					  a->body->len - off);
	if (rc < 0)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: malformed "
				     "NotificationWait answer (%s)", w->who,
				     g_strerror(-rc));
	if (r.status || r.error_code)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: NotificationWait "
				     "failed (error 0x%08X)", w->who,
				     r.status ? r.status : r.error_code);
	*pending_r = r.event_pending;
	return 0;
}

/* Long-poll NotificationWait.  Returns 0 with *pending_r, -EINTR when
 * stopped, or -errno with `e` filled. */
static int nwait(struct mapic_watch *w, uint32_t *pending_r,
		 struct mfs_error *e)
{
	const struct mapic_conf *conf = w->s->conf;
	struct mapi_nwait_req q = { 0 };
	struct nwait a = { .body = g_byte_array_new() };
	g_autoptr(GByteArray) req = g_byte_array_new();
	g_autofree char *url = NULL, *cookie = NULL;
	char client_guid[37];
	char msg[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr;
	CURLcode cc;
	CURL *c;
	int rc;

	*pending_r = 0;
	g_mutex_lock(&w->s->lock);
	url = g_strdup(w->s->http.url);
	if (w->s->http.sid)
		cookie = g_strdup_printf("sid=%s", w->s->http.sid);
	g_strlcpy(client_guid, w->s->http.client_guid, sizeof(client_guid));
	g_mutex_unlock(&w->s->lock);
	if (!cookie) {
		g_byte_array_unref(a.body);
		return mfs_error_set(e, -ESTALE, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: no session to "
				     "wait on", w->who);
	}
	mapi_nwait_req_write(req, &q);
	hdr = nwait_headers(w, client_guid);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, msg);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
			 (long)MAX(conf->timeout, 1u));
	mfs_curl_verify(c, conf->ca_file);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mailfs");
	curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, nwait_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, nwait_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	set_auth(c, conf);
	log_debug(LOG_PROTO, "mapi C: NotificationWait");
	rc = nwait_perform(w, c, MAX(conf->pending_max, NWAIT_MIN_SECONDS),
			   &cc);
	if (rc == -ETIMEDOUT)
		rc = mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
				   "%s: NotificationWait got no answer",
				   w->who);
	else if (rc == 0 && cc != CURLE_OK) {
		g_autofree char *text = printable(msg[0] ? msg
						  : curl_easy_strerror(cc), -1);
		rc = mfs_error_set(e, -EIO, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
				   "%s: NotificationWait: %s", w->who, text);
	} else if (rc == 0) {
		rc = nwait_outcome(w, &a, pending_r, e);
	}
	log_debug(LOG_PROTO, "mapi S: NotificationWait HTTP %ld: %d "
		  "pending %u", a.status, rc, *pending_r);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	explicit_bzero(cookie, strlen(cookie));
	g_byte_array_unref(a.body);
	return rc;
}

/* ---- what changed ---- */

struct batch {
	uint64_t fid[BATCH_MAX];
	bool hierarchy[BATCH_MAX];
	size_t n;
	bool all;			/* too many: fid 0 */
};

static void batch_add(struct batch *b, uint64_t fid, bool hierarchy)
{
	if (!fid)
		return;
	for (size_t i = 0; i < b->n; i++)
		if (b->fid[i] == fid && b->hierarchy[i] == hierarchy)
			return;
	if (b->n == BATCH_MAX) {
		b->all = true;
		return;
	}
	b->fid[b->n] = fid;
	b->hierarchy[b->n++] = hierarchy;
}

/* The folders one RopNotify names.  A message event changes the
 * contents of its folder (and, moved or copied, of the old one); a
 * folder created, deleted, moved, copied or renamed changes the
 * hierarchy; a folder modified only in its counts, its contents. */
static void take_notify(struct batch *b, const struct rop_notification *n)
{
	unsigned type = n->flags & ROP_NOTIF_TYPE_MASK;
	bool message = n->flags & ROP_NOTIF_M;

	switch (type) {
	case ROP_NOTIF_NEW_MAIL:
		batch_add(b, n->fid, false);
		break;
	case ROP_NOTIF_OBJECT_CREATED:
	case ROP_NOTIF_OBJECT_DELETED:
	case ROP_NOTIF_OBJECT_MOVED:
	case ROP_NOTIF_OBJECT_COPIED:
		if (message) {
			batch_add(b, n->fid, false);
			batch_add(b, n->old_fid, false);
		} else {
			batch_add(b, n->fid, true);
			batch_add(b, n->parent_fid, true);
			batch_add(b, n->old_parent_fid, true);
		}
		break;
	case ROP_NOTIF_OBJECT_MODIFIED:
		/* a folder's counts changed: its contents did */
		batch_add(b, n->fid, !message &&
			  !(n->flags & (ROP_NOTIF_T | ROP_NOTIF_U)));
		break;
	default:
		/* table events belong to tables others opened */
		break;
	}
}

/* An Execute with no ROPs; the RopNotify entries after it as calls of
 * fn.  Returns 0 or -errno. */
static int fetch(struct mapic_watch *w, struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(w->s);
	const struct rop_trailer *t;
	struct batch b = { .n = 0 };
	size_t n = 0;
	int rc;

	mapic_exec_begin(x);
	rc = mapic_exec_run(x, e);
	if (rc == 0)
		rc = mapic_exec_end(x, e);
	/* what this Execute took is told here; earlier ones' too */
	w->notifies_seen = g_atomic_int_get(&w->s->notifies);
	if (rc == 0) {
		t = mapic_exec_trailers(x, &n);
		for (size_t i = 0; i < n; i++)
			if (t[i].rop_id == ROP_NOTIFY)
				take_notify(&b, &t[i].u.notify.data);
		if (b.all || b.n == 0)
			w->fn(0, false, w->data);
		else
			for (size_t i = 0; i < b.n; i++)
				w->fn(b.fid[i], b.hierarchy[i], w->data);
	}
	mapic_exec_free(&x);
	return rc;
}

/* ---- the thread ---- */

/* Sleep up to `seconds`, or until stopped.  Returns false when
 * stopped. */
static bool nap(struct mapic_watch *w, unsigned seconds)
{
	gint64 end = g_get_monotonic_time() +
		     (gint64)MAX(seconds, 1u) * G_USEC_PER_SEC;
	bool stop;

	g_mutex_lock(&w->lock);
	while (!w->stop && g_cond_wait_until(&w->cond, &w->lock, end))
		;
	stop = w->stop;
	g_mutex_unlock(&w->lock);
	return !stop;
}

static void fall_back(struct mapic_watch *w, const struct mfs_error *e)
{
	if (!w->said)
		log_warnx("mapi: %s: notifications fail (%s); looking for "
			  "changes every %u s instead", w->who, e->msg,
			  w->poll_interval);
	w->said = true;
	w->polling = true;
	mapic_exec_free(&w->x);
}

static bool session_moved(struct mapic_watch *w)
{
	bool moved;

	g_mutex_lock(&w->s->lock);
	moved = !w->s->connected || w->s->epoch != w->epoch;
	g_mutex_unlock(&w->s->lock);
	return moved;
}

/* One round: register when needed, wait, fetch.  Returns false when
 * stopped. */
static bool round_once(struct mapic_watch *w)
{
	struct mfs_error e = { 0 };
	uint32_t pending = 0;
	gint64 started;
	int rc = 0;

	if (w->polling) {
		w->fn(0, false, w->data);
		if (!nap(w, w->poll_interval))
			return false;
	}
	if (!w->x || session_moved(w)) {
		rc = register_store(w, &e);
		if (rc < 0) {
			fall_back(w, &e);
			return !stopping(w);
		}
	}
	started = g_get_monotonic_time();
	rc = nwait(w, &pending, &e);
	if (rc == -EINTR)
		return false;
	if (rc == -ESTALE) {
		/* the Execute connects again; the registration follows */
		mapic_exec_free(&w->x);
		if (fetch(w, &e) < 0)
			fall_back(w, &e);
		return !stopping(w);
	}
	if (rc < 0) {
		fall_back(w, &e);
		return !stopping(w);
	}
	if (w->polling)
		log_info("mapi: %s: notifications work again", w->who);
	w->polling = false;
	if (pending && fetch(w, &e) < 0)
		fall_back(w, &e);
	if (!pending && g_atomic_int_get(&w->s->notifies) != w->notifies_seen) {
		w->notifies_seen = g_atomic_int_get(&w->s->notifies);
		w->fn(0, false, w->data);
	}
	/* a server that answers at once with nothing pending is not asked
	 * again more than once a second */
	if (!pending && g_get_monotonic_time() - started < G_USEC_PER_SEC)
		return nap(w, 1);
	return !stopping(w);
}

static gpointer watch_thread(gpointer p)
{
	struct mapic_watch *w = p;

	while (round_once(w))
		;
	mapic_exec_free(&w->x);
	return NULL;
}

struct mapic_watch *mapic_watch_start(struct mapic_session *s,
				      void (*fn)(uint64_t fid, bool hierarchy,
						 void *data),
				      void *data, unsigned poll_interval)
{
	struct mapic_watch *w = g_new0(struct mapic_watch, 1);
	char *uuid = g_uuid_string_random();

	mfs_curl_init();
	w->s = s;
	w->fn = fn;
	w->data = data;
	w->poll_interval = MAX(poll_interval, 1u);
	w->notifies_seen = g_atomic_int_get(&s->notifies);
	w->who = mapic_who(s->conf);
	g_strlcpy(w->request_guid, uuid, sizeof(w->request_guid));
	g_free(uuid);
	g_mutex_init(&w->lock);
	g_cond_init(&w->cond);
	w->multi = curl_multi_init();
	w->thread = g_thread_new("mapi-watch", watch_thread, w);
	return w;
}

void mapic_watch_stop(struct mapic_watch **wp)
{
	struct mapic_watch *w = *wp;

	if (!w)
		return;
	g_mutex_lock(&w->lock);
	w->stop = true;
	g_cond_broadcast(&w->cond);
	g_mutex_unlock(&w->lock);
	curl_multi_wakeup(w->multi);
	g_thread_join(w->thread);
	curl_multi_cleanup(w->multi);
	g_mutex_clear(&w->lock);
	g_cond_clear(&w->cond);
	g_free(w->who);
	g_free(w);
	*wp = NULL;
}
