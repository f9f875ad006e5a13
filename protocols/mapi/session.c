/*
 * session.c - the EMSMDB session of a MAPI over HTTP client: Connect, the
 * private mailbox's RopLogon, Disconnect, and a session the server forgot
 * made again.
 *
 * Specs: [MS-OXCMAPIHTTP] 2.2.4.1 (Connect), 2.2.4.3 (Disconnect), 3.2.5.1
 * (the session context cookies); [MS-OXCROPS] 2.2.3.1 and [MS-OXCSTOR]
 * 2.2.1.1 (RopLogon); [MS-OXCDATA] 2.4 (error codes).
 *
 * Connect names the user by the ESSDN (UserDn) with code page 1252 and
 * the locale 0x409, as Outlook does; the answer's DisplayName and polling
 * figures are kept.  RopLogon opens the private mailbox and gives the 13
 * special folder ids and the logon handle every later Execute starts
 * from.  All of it under the session's lock.
 */
#include "mapic-private.h"

#include <errno.h>
#include <string.h>

#include "curl-tls.h"
#include "log.h"
#include "printable.h"
#include "secret.h"
#include "wire/mapi-tags.h"

/* RopLogon's OpenFlags: USE_PER_MDB_REPLID_MAPPING, as Outlook sends. */
#define LOGON_OPEN_FLAGS 0x01000000U
#define CONNECT_CODE_PAGE 1252
#define CONNECT_LCID 0x0409

void mapic_conf_clear(struct mapic_conf *c)
{
	g_clear_pointer(&c->name, g_free);
	g_clear_pointer(&c->url, g_free);
	g_clear_pointer(&c->mailbox, g_free);
	g_clear_pointer(&c->user, g_free);
	secret_free(c->password);
	c->password = NULL;
	g_clear_pointer(&c->user_dn, g_free);
	g_clear_pointer(&c->ca_file, g_free);
}

char *mapic_who(const struct mapic_conf *c)
{
	/* both come from the configuration, but may hold anything */
	g_autofree char *name = printable(c->name ? c->name
				  : c->user ? c->user : "?", -1);
	g_autofree char *url = printable(c->url ? c->url : "?", -1);

	return g_strdup_printf("%s on %s", name, url);
}

int mapic_rv_to_errno(uint32_t rv)
{
	static const struct {
		uint32_t rv;
		int err;
	} map[] = {
		{ MAPI_E_SUCCESS, 0 },
		{ MAPI_E_NOT_FOUND, -ENOENT },
		{ MAPI_E_OBJECT_DELETED, -ENOENT },
		{ MAPI_E_NO_ACCESS, -EACCES },
		{ MAPI_E_LOGON_FAILED, -EACCES },
		{ MAPI_E_NO_SUPPORT, -ENOTSUP },
		{ MAPI_E_NOT_ENOUGH_MEMORY, -ENOMEM },
		{ MAPI_E_NOT_ENOUGH_RESOURCES, -EAGAIN },
		{ MAPI_E_END_OF_SESSION, -ESTALE },
		{ MAPI_E_COLLISION, -EEXIST },
		{ MAPI_E_TOO_BIG, -EFBIG },
		{ MAPI_E_INVALID_PARAMETER, -EINVAL },
		{ MAPI_E_BAD_VALUE, -EINVAL },
		{ MAPI_E_OBJECT_CHANGED, -EAGAIN },
		{ MAPI_E_NULL_OBJECT, -EBADF },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
		if (map[i].rv == rv)
			return map[i].err;
	return -EPROTO;
}

struct mapic_session *mapic_session_new(const struct mapic_conf *conf)
{
	struct mapic_session *s = g_new0(struct mapic_session, 1);

	mfs_curl_init();
	s->conf = conf;
	g_mutex_init(&s->lock);
	mapic_http_init(&s->http, conf, false);
	s->logon_handle = 0xFFFFFFFFU;
	return s;
}

static void forget_locked(struct mapic_session *s)
{
	s->connected = false;
	s->logon_handle = 0xFFFFFFFFU;
	mapic_http_forget(&s->http);
}

void mapic_session_lost_locked(struct mapic_session *s)
{
	forget_locked(s);
}

static int connect_locked(struct mapic_session *s, struct mfs_error *e)
{
	g_autofree char *who = mapic_who(s->conf);
	struct mapi_connect_req q = {
		.user_dn = s->conf->user_dn ? s->conf->user_dn : "",
		.cpid = CONNECT_CODE_PAGE,
		.lcid_sort = CONNECT_LCID,
		.lcid_string = CONNECT_LCID,
	};
	struct mapi_connect_resp r;
	g_autoptr(GByteArray) req = g_byte_array_new();
	GByteArray *body = NULL;
	int rc;

	/* a new session: the old cookies would name the forgotten one */
	forget_locked(s);
	if (mapi_connect_req_write(req, &q) < 0)
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: the user DN cannot be sent", who);
	rc = mapic_http_post(&s->http, MAPI_REQ_CONNECT, req, &body, e);
	if (rc < 0)
		return rc;
	rc = mapi_connect_resp_read(&r, body->data, body->len);
	g_byte_array_unref(body);
	if (rc < 0)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: malformed Connect "
				     "answer (%s)", who, g_strerror(-rc));
	if (r.status != 0 || r.error_code != 0) {
		uint32_t code = r.status ? r.status : r.error_code;
		mapi_connect_resp_clear(&r);
		return mfs_error_set(e, code == MAPI_E_LOGON_FAILED ? -EACCES
								    : -EPROTO,
				     MFS_ERR_ACCOUNT, code == MAPI_E_LOGON_FAILED
				     ? MFS_ERR_FINAL : MFS_ERR_TRANSIENT,
				     "%s: Connect refused (error 0x%08X)", who,
				     code);
	}
	g_free(s->display_name);
	s->display_name = g_steal_pointer(&r.display_name);
	g_free(s->dn_prefix);
	s->dn_prefix = g_steal_pointer(&r.dn_prefix);
	s->polls_max = r.polls_max;
	s->retry_count = r.retry_count;
	s->retry_delay = r.retry_delay;
	mapi_connect_resp_clear(&r);
	s->connected = true;
	s->epoch++;
	return 0;
}

static int logon_read(struct mapic_session *s, const GByteArray *payload,
		      const char *who, struct mfs_error *e)
{
	struct rop_frame f;
	struct rop_logon_resp r;
	struct mapi_rd rd;
	int rc = rop_frame_read(payload->data, payload->len, &f);

	if (rc < 0)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: malformed Logon "
				     "answer (%s)", who, g_strerror(-rc));
	mapi_rd_init(&rd, f.rops, f.rops_len);
	rc = rop_logon_resp_read(&rd, &r);
	if (rc < 0 || f.n_handles < 1) {
		rop_frame_clear(&f);
		if (rc == 0)
			rop_logon_resp_clear(&r);
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: malformed Logon "
				     "answer (%s)", who,
				     g_strerror(rc < 0 ? -rc : EBADMSG));
	}
	if (r.head.rv != 0 || !(r.logon_flags & ROP_LOGON_PRIVATE)) {
		uint32_t rv = r.head.rv;
		rop_frame_clear(&f);
		rop_logon_resp_clear(&r);
		if (rv == MAPI_E_END_OF_SESSION)
			return mfs_error_set(e, -ESTALE, MFS_ERR_ACCOUNT,
					     MFS_ERR_TRANSIENT, "%s: the server "
					     "ended the session", who);
		return mfs_error_set(e, rv == ROP_E_WRONG_SERVER ||
					rv == 0 ? -EREMOTE
						: mapic_rv_to_errno(rv),
				     MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: mailbox logon refused (error "
				     "0x%08X)", who, rv);
	}
	s->logon_handle = f.handles[r.head.handle_index < f.n_handles
					    ? r.head.handle_index : 0];
	memcpy(s->folder_ids, r.folder_ids, sizeof(s->folder_ids));
	memcpy(s->mailbox_guid, r.mailbox_guid, 16);
	s->repl_id = r.repl_id;
	memcpy(s->repl_guid, r.repl_guid, 16);
	rop_frame_clear(&f);
	rop_logon_resp_clear(&r);
	return 0;
}

static int logon_locked(struct mapic_session *s, struct mfs_error *e)
{
	g_autofree char *who = mapic_who(s->conf);
	struct rop_logon_req q = {
		.logon_flags = ROP_LOGON_PRIVATE,
		.open_flags = LOGON_OPEN_FLAGS,
		.essdn = s->conf->user_dn,
	};
	const uint32_t out = 0xFFFFFFFFU;
	g_autoptr(GByteArray) rops = g_byte_array_new();
	GByteArray *payload = NULL;
	size_t at = rop_frame_begin(rops);
	int rc;

	rop_logon_req_write(rops, &q);
	rop_frame_end(rops, at, &out, 1);
	rc = mapic_execute_locked(s, rops, &payload, e);
	if (rc < 0)
		return rc;
	rc = logon_read(s, payload, who, e);
	g_byte_array_unref(payload);
	return rc;
}

int mapic_session_ensure_locked(struct mapic_session *s, struct mfs_error *e)
{
	int rc;

	if (s->connected && s->logon_handle != 0xFFFFFFFFU)
		return 0;
	rc = connect_locked(s, e);
	if (rc == 0)
		rc = logon_locked(s, e);
	if (rc < 0)
		forget_locked(s);
	return rc;
}

int mapic_session_open(struct mapic_session *s, struct mfs_error *e)
{
	int rc;

	g_mutex_lock(&s->lock);
	rc = mapic_session_ensure_locked(s, e);
	g_mutex_unlock(&s->lock);
	return rc;
}

int mapic_session_close(struct mapic_session *s, struct mfs_error *e)
{
	g_autoptr(GByteArray) req = g_byte_array_new();
	struct mapi_disconnect_req q = { { NULL, 0 } };
	GByteArray *body = NULL;
	int rc = 0;

	g_mutex_lock(&s->lock);
	if (s->connected) {
		mapi_disconnect_req_write(req, &q);
		rc = mapic_http_post(&s->http, MAPI_REQ_DISCONNECT, req, &body,
				     e);
		if (body)
			g_byte_array_unref(body);
	}
	forget_locked(s);
	g_mutex_unlock(&s->lock);
	return rc;
}

uint64_t mapic_session_folder(struct mapic_session *s, enum mapic_special f)
{
	uint64_t fid;

	g_mutex_lock(&s->lock);
	fid = (unsigned)f < ROP_LOGON_N_FOLDERS ? s->folder_ids[f] : 0;
	g_mutex_unlock(&s->lock);
	return fid;
}

void mapic_session_free(struct mapic_session **sp)
{
	struct mapic_session *s = *sp;
	struct mfs_error e = { 0 };

	if (!s)
		return;
	if (mapic_session_close(s, &e) < 0)
		log_warnx("mapi: %s", e.msg);
	mapic_http_clear(&s->http);
	g_free(s->display_name);
	g_free(s->dn_prefix);
	g_mutex_clear(&s->lock);
	g_free(s);
	*sp = NULL;
}
