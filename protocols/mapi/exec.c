/*
 * exec.c - Execute batches of a MAPI over HTTP client: ROP requests and
 * their handle table wrapped for the emsmdb endpoint, the answer
 * unwrapped and handed back in order, the trailing notifications taken,
 * and the handles a batch opened released when it ends.
 *
 * Specs: [MS-OXCMAPIHTTP] 2.2.4.2 (Execute), [MS-OXCRPC] 2.2.2.1
 * (RPC_HEADER_EXT, its compression and obfuscation, undone by
 * mapi-lz77.c), [MS-OXCROPS] 2.2.1 (the ROP buffer and
 * ServerObjectHandleTable), 2.2.15 (RopPending, RopBackoff), 2.2.3.3
 * (RopRelease); [MS-OXCNOTIF] (RopNotify).
 *
 * A batch (struct mapic_exec) may run several Executes in turn, each
 * using handles the earlier ones returned (a table read page by page);
 * the handles it opened are released in one more Execute when it is
 * freed.  The session's logon handle is named by a slot kind of its own,
 * resolved when the Execute is sent, so that an Execute resent after the
 * session was made again uses the new logon.
 */
#include "mapic-private.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "wire/mapi-lz77.h"
#include "wire/mapi-tags.h"

#define NO_HANDLE 0xFFFFFFFFU

enum slot_kind { SLOT_OUT, SLOT_LOGON, SLOT_IN };

struct slot {
	enum slot_kind kind;
	uint32_t handle;		/* SLOT_IN's */
};

struct mapic_exec {
	struct mapic_session *s;	/* borrowed */
	GByteArray *buf;		/* owned; the ROPs being written */
	struct slot slots[MAPIC_SLOTS_MAX];
	size_t n_slots;
	bool too_many;			/* a slot past MAPIC_SLOTS_MAX */
	unsigned epoch;			/* the session's, of our handles */
	GArray *opened;			/* owned; of uint32_t, to release */
	GByteArray *payload;		/* owned; the last answer's ROPs */
	struct rop_frame frame;
	struct mapi_rd rd;
	struct rop_trailer *trailers;	/* owned */
	size_t n_trailers;
};

/* The first response's ReturnValue, when it says the server ended the
 * session (a server that forgot us may answer so rather than by
 * X-ResponseCode). */
static bool ended(const GByteArray *payload)
{
	const uint8_t *p = payload->data;

	if (payload->len < 8 || rop_is_trailer(p[2]))
		return false;
	return (uint32_t)(p[4] | p[5] << 8 | p[6] << 16 |
			  (uint32_t)p[7] << 24) == MAPI_E_END_OF_SESSION;
}

static int unwrap(const GByteArray *body, const char *who,
		  GByteArray **payload_r, struct mfs_error *e)
{
	struct mapi_execute_resp r;
	GPtrArray *payloads = NULL;
	int rc = mapi_execute_resp_read(&r, body->data, body->len);

	if (rc < 0)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: malformed Execute "
				     "answer (%s)", who, g_strerror(-rc));
	if (r.status != 0 || r.error_code != 0) {
		uint32_t code = r.status ? r.status : r.error_code;
		return mfs_error_set(e, code == MAPI_E_END_OF_SESSION
					? -ESTALE : -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: Execute failed "
				     "(error 0x%08X)", who, code);
	}
	rc = mapi_rpcext_read_chain(r.rop.p, r.rop.len, MAPIC_RESPONSE_MAX,
				    &payloads);
	if (rc < 0)
		return mfs_error_set(e, rc == -EMSGSIZE ? -EMSGSIZE : -EPROTO,
				     MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
				     "%s: malformed Execute answer: its ROP "
				     "buffer (%s)", who, g_strerror(-rc));
	if (payloads->len != 1) {
		/* one buffer asked for (no MAPI_EXEC_CHAIN), one taken */
		g_ptr_array_unref(payloads);
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: Execute answer "
				     "with %u ROP buffers", who,
				     payloads ? payloads->len : 0);
	}
	*payload_r = g_byte_array_ref(payloads->pdata[0]);
	g_ptr_array_unref(payloads);
	return 0;
}

int mapic_execute_locked(struct mapic_session *s, const GByteArray *rops,
			 GByteArray **payload_r, struct mfs_error *e)
{
	g_autofree char *who = mapic_who(s->conf);
	g_autoptr(GByteArray) ext = g_byte_array_new();
	g_autoptr(GByteArray) req = g_byte_array_new();
	GByteArray *body = NULL, *payload = NULL;
	int rc;

	*payload_r = NULL;
	if (mapi_rpcext_write(ext, rops->data, rops->len,
			      MAPI_RPCEXT_LAST) < 0)
		return mfs_error_set(e, -E2BIG, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: %u bytes of ROPs do not fit in one "
				     "Execute", who, rops->len);
	struct mapi_execute_req q = {
		.flags = 0,
		.rop = { ext->data, ext->len },
		.max_rop_out = MAPIC_MAX_ROP_OUT,
	};
	if (mapi_execute_req_write(req, &q) < 0)
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: Execute request not written", who);
	rc = mapic_http_post(&s->http, MAPI_REQ_EXECUTE, req, &body, e);
	if (rc < 0)
		return rc;
	rc = unwrap(body, who, &payload, e);
	g_byte_array_unref(body);
	if (rc < 0)
		return rc;
	if (ended(payload)) {
		g_byte_array_unref(payload);
		return mfs_error_set(e, -ESTALE, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: the server ended "
				     "the session", who);
	}
	*payload_r = payload;
	return 0;
}

struct mapic_exec *mapic_exec_new(struct mapic_session *s)
{
	struct mapic_exec *x = g_new0(struct mapic_exec, 1);

	x->s = s;
	x->buf = g_byte_array_new();
	x->opened = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	return x;
}

static void drop_answer(struct mapic_exec *x)
{
	rop_frame_clear(&x->frame);
	memset(&x->frame, 0, sizeof(x->frame));
	if (x->payload)
		g_byte_array_unref(x->payload);
	x->payload = NULL;
	mapi_rd_init(&x->rd, NULL, 0);
	rop_trailers_free(x->trailers, x->n_trailers);
	x->trailers = NULL;
	x->n_trailers = 0;
}

void mapic_exec_begin(struct mapic_exec *x)
{
	drop_answer(x);
	g_byte_array_set_size(x->buf, 0);
	x->n_slots = 0;
	x->too_many = false;
}

GByteArray *mapic_exec_buf(struct mapic_exec *x)
{
	return x->buf;
}

static uint8_t add_slot(struct mapic_exec *x, enum slot_kind kind,
			uint32_t handle)
{
	if (x->n_slots >= MAPIC_SLOTS_MAX) {
		x->too_many = true;
		return MAPIC_SLOTS_MAX - 1;
	}
	x->slots[x->n_slots].kind = kind;
	x->slots[x->n_slots].handle = handle;
	return (uint8_t)x->n_slots++;
}

uint8_t mapic_exec_logon(struct mapic_exec *x)
{
	for (size_t i = 0; i < x->n_slots; i++)
		if (x->slots[i].kind == SLOT_LOGON)
			return (uint8_t)i;
	return add_slot(x, SLOT_LOGON, NO_HANDLE);
}

uint8_t mapic_exec_in(struct mapic_exec *x, uint32_t handle)
{
	for (size_t i = 0; i < x->n_slots; i++)
		if (x->slots[i].kind == SLOT_IN && x->slots[i].handle == handle)
			return (uint8_t)i;
	return add_slot(x, SLOT_IN, handle);
}

uint8_t mapic_exec_out(struct mapic_exec *x)
{
	return add_slot(x, SLOT_OUT, NO_HANDLE);
}

void mapic_exec_release(struct mapic_exec *x, uint32_t handle)
{
	struct rop_release_req q = { 0, mapic_exec_in(x, handle) };

	rop_release_req_write(x->buf, &q);
	for (guint i = 0; i < x->opened->len; i++)
		if (g_array_index(x->opened, uint32_t, i) == handle) {
			g_array_remove_index_fast(x->opened, i);
			break;
		}
}

static bool uses_handles(const struct mapic_exec *x)
{
	for (size_t i = 0; i < x->n_slots; i++)
		if (x->slots[i].kind == SLOT_IN)
			return true;
	return false;
}

/* The ROP buffer as sent, with the slots resolved; s->lock held. */
static GByteArray *frame(struct mapic_exec *x)
{
	GByteArray *b = g_byte_array_sized_new(x->buf->len + 16);
	uint32_t handles[MAPIC_SLOTS_MAX];
	size_t at = rop_frame_begin(b);

	g_byte_array_append(b, x->buf->data, x->buf->len);
	for (size_t i = 0; i < x->n_slots; i++)
		handles[i] = x->slots[i].kind == SLOT_LOGON
				     ? x->s->logon_handle
			     : x->slots[i].kind == SLOT_IN ? x->slots[i].handle
							   : NO_HANDLE;
	rop_frame_end(b, at, handles, x->n_slots);
	return b;
}

/* One attempt; s->lock held.  *retry_r: the session was forgotten and a
 * second attempt may be made. */
static int attempt(struct mapic_exec *x, const char *who, bool *retry_r,
		   struct mfs_error *e)
{
	struct mapic_session *s = x->s;
	g_autoptr(GByteArray) rops = NULL;
	int rc = mapic_session_ensure_locked(s, e);

	*retry_r = false;
	if (rc < 0)
		return rc;
	if (x->epoch != s->epoch) {
		if (x->epoch && uses_handles(x))
			return mfs_error_set(e, -ESTALE, MFS_ERR_ACCOUNT,
					     MFS_ERR_TRANSIENT, "%s: the "
					     "session was made again; its "
					     "objects are gone", who);
		/* the handles of the old session died with it */
		g_array_set_size(x->opened, 0);
		x->epoch = s->epoch;
	}
	rops = frame(x);
	rc = mapic_execute_locked(s, rops, &x->payload, e);
	if (rc == -ESTALE) {
		mapic_session_lost_locked(s);
		*retry_r = !uses_handles(x);
	}
	return rc;
}

int mapic_exec_run(struct mapic_exec *x, struct mfs_error *e)
{
	struct mapic_session *s = x->s;
	g_autofree char *who = mapic_who(s->conf);
	bool retry = false;
	int rc;

	drop_answer(x);
	if (x->too_many || x->buf->len + 2 > 0xFFFF)
		return mfs_error_set(e, -E2BIG, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: too many ROPs for one Execute", who);
	g_mutex_lock(&s->lock);
	rc = attempt(x, who, &retry, e);
	if (rc == -ESTALE && retry) {
		log_warnx("mapi: %s: the server forgot the session; "
			  "connecting again", who);
		s->reconnects++;
		rc = attempt(x, who, &retry, e);
	}
	g_mutex_unlock(&s->lock);
	if (rc < 0)
		return rc;
	rc = rop_frame_read(x->payload->data, x->payload->len, &x->frame);
	if (rc < 0) {
		memset(&x->frame, 0, sizeof(x->frame));
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: malformed ROP "
				     "buffer in the Execute answer (%s)", who,
				     g_strerror(-rc));
	}
	mapi_rd_init(&x->rd, x->frame.rops, x->frame.rops_len);
	for (size_t i = 0; i < x->n_slots && i < x->frame.n_handles; i++) {
		uint32_t h = x->frame.handles[i];
		if (x->slots[i].kind == SLOT_OUT && h != NO_HANDLE)
			g_array_append_val(x->opened, h);
	}
	return 0;
}

struct mapi_rd *mapic_exec_rd(struct mapic_exec *x)
{
	return &x->rd;
}

uint32_t mapic_exec_handle(struct mapic_exec *x, uint8_t slot)
{
	if (slot >= x->n_slots || slot >= x->frame.n_handles ||
	    x->slots[slot].kind != SLOT_OUT)
		return NO_HANDLE;
	return x->frame.handles[slot];
}

int mapic_exec_end(struct mapic_exec *x, struct mfs_error *e)
{
	int rc;

	rop_trailers_free(x->trailers, x->n_trailers);
	x->trailers = NULL;
	x->n_trailers = 0;
	if (mapi_rd_error(&x->rd))
		return mapic_exec_bad(x, "Execute", mapi_rd_error(&x->rd), e);
	rc = rop_trailers_read(&x->rd, &x->trailers, &x->n_trailers);
	if (rc < 0) {
		g_autofree char *who = mapic_who(x->s->conf);
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: malformed Execute "
				     "answer: after the ROP answers, bytes "
				     "that are no RopNotify, RopPending or "
				     "RopBackoff (%s)", who, g_strerror(-rc));
	}
	for (size_t i = 0; i < x->n_trailers; i++)
		if (x->trailers[i].rop_id == ROP_NOTIFY) {
			g_atomic_int_inc(&x->s->notifies);
			break;
		}
	return 0;
}

const struct rop_trailer *mapic_exec_trailers(struct mapic_exec *x,
					      size_t *n_r)
{
	*n_r = x->n_trailers;
	return x->trailers;
}

int mapic_exec_bad(struct mapic_exec *x, const char *what, int rc,
		   struct mfs_error *e)
{
	g_autofree char *who = mapic_who(x->s->conf);

	return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
			     "%s: malformed %s answer (%s)", who, what,
			     g_strerror(rc < 0 ? -rc : EBADMSG));
}

int mapic_exec_failed(struct mapic_exec *x, const char *what, uint32_t rv,
		      enum mfs_err_scope scope, struct mfs_error *e)
{
	g_autofree char *who = mapic_who(x->s->conf);
	int err = mapic_rv_to_errno(rv);

	return mfs_error_set(e, err, scope, err == -EAGAIN ? MFS_ERR_BACKOFF
				 : err == -ESTALE ? MFS_ERR_TRANSIENT
						  : MFS_ERR_FINAL,
			     "%s: %s failed (error 0x%08X)", who, what, rv);
}

/* Release what the batch opened, as many per Execute as slots allow. */
static void release_all(struct mapic_exec *x)
{
	struct mapic_session *s = x->s;
	struct mfs_error e = { 0 };

	while (x->opened->len > 0) {
		guint n = MIN(x->opened->len, MAPIC_SLOTS_MAX);
		g_autoptr(GByteArray) rops = g_byte_array_new();
		GByteArray *payload = NULL;
		uint32_t *h = (uint32_t *)(void *)x->opened->data;
		size_t at = rop_frame_begin(rops);
		int rc = 0;

		for (guint i = 0; i < n; i++) {
			struct rop_release_req q = { 0, (uint8_t)i };
			rop_release_req_write(rops, &q);
		}
		rop_frame_end(rops, at, h, n);
		g_mutex_lock(&s->lock);
		/* handles of a session since forgotten are gone already */
		if (s->connected && s->epoch == x->epoch)
			rc = mapic_execute_locked(s, rops, &payload, &e);
		if (rc == -ESTALE)
			mapic_session_lost_locked(s);
		g_mutex_unlock(&s->lock);
		if (rc < 0)
			log_warnx("mapi: %s", e.msg);
		if (payload)
			g_byte_array_unref(payload);
		g_array_remove_range(x->opened, 0, n);
	}
}

void mapic_exec_free(struct mapic_exec **xp)
{
	struct mapic_exec *x = *xp;

	if (!x)
		return;
	release_all(x);
	drop_answer(x);
	g_byte_array_unref(x->buf);
	g_array_unref(x->opened);
	g_free(x);
	*xp = NULL;
}
