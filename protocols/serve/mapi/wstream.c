/*
 * wstream.c - streams that write a property of a message or attachment
 * being made or changed: RopOpenStream in read/write or create mode,
 * RopWriteStream, RopSetStreamSize and RopCommitStream.
 *
 * Specs: MS-OXCROPS 2.2.9.1, 2.2.9.3, 2.2.9.4, 2.2.9.6; MS-OXCPRPT
 * 3.2.5.13 (OpenModeFlags: ReadWrite starts from the value, Create from
 * nothing), 3.2.5.15 (RopWriteStream: at the seek pointer, growing the
 * stream), 3.2.5.16 (RopCommitStream), 3.2.5.17 (RopSetStreamSize).
 *
 * The bytes are the value as a stream carries it (stream.c): a
 * PtypString as UTF-16LE, a PtypString8 as its bytes, a PtypBinary as
 * it is; a terminating NUL is not part of the value.  They go into the
 * property at RopCommitStream and when the stream is released without
 * one, as a real server does.  A stream is bounded by MAPID_MSG_MAX and
 * by the session's room for messages: a write past that answers
 * STG_E_MEDIUMFULL and writes nothing.
 */
#include <errno.h>
#include <string.h>

#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "wire/rop-msg.h"
#include "mapid-private.h"

/* STG_E_MEDIUMFULL, MS-OXCDATA 2.4.2. */
#define E_MEDIUM_FULL 0x80030070U

uint32_t mapid_stream_open_write(struct mapid_rop_ctx *rc,
				 struct mapid_obj *in,
				 const struct rop_open_stream_req *q,
				 uint32_t *size_r)
{
	struct mapi_props *p = mapid_obj_wprops(in);
	const struct mapi_value *v;
	uint16_t t = MAPI_TAG_TYPE(q->tag);
	struct mapid_obj *o;

	*size_r = 0;
	if (!p)
		return MAPI_E_NO_SUPPORT;
	if (!in->writable)
		return MAPI_E_NO_ACCESS;
	if (t != MAPI_PT_UNICODE && t != MAPI_PT_STRING8 &&
	    t != MAPI_PT_BINARY)
		return MAPI_E_INVALID_PARAMETER;
	o = g_new0(struct mapid_obj, 1);
	o->kind = MAPID_OBJ_STREAM;
	o->fid = in->fid;
	o->ref = in->ref;
	if (o->ref)
		o->ref->refs++;
	o->msg = in->msg;
	o->att = in->kind == MAPID_OBJ_ATTACH ? in->att : NULL;
	o->writable = true;
	o->wtag = q->tag;
	o->wbuf = g_byte_array_new();
	v = mapi_props_get(p, MAPI_TAG_ID(q->tag));
	if (v && !(q->open_mode & ROP_STREAM_CREATE)) {
		GBytes *b = mapid_stream_bytes(v);
		gsize n = 0;
		const uint8_t *d = b ? g_bytes_get_data(b, &n) : NULL;

		/* the NUL a string's stream ends in is not kept: a write
		 * goes on from the text */
		if (n && MAPI_TAG_TYPE(v->tag) == MAPI_PT_UNICODE)
			n = n >= 2 ? n - 2 : 0;
		else if (n && MAPI_TAG_TYPE(v->tag) == MAPI_PT_STRING8)
			n--;
		if (n)
			g_byte_array_append(o->wbuf, d, (guint)n);
		if (b)
			g_bytes_unref(b);
	}
	*size_r = o->wbuf->len;
	return mapid_obj_put(rc, q->output_handle_index, o);
}

/* The value the bytes of stream `o` make (caller clears). */
static void stream_value(const struct mapid_obj *o, struct mapi_value *v)
{
	const uint8_t *d = o->wbuf->data;
	size_t n = o->wbuf->len;

	memset(v, 0, sizeof(*v));
	v->tag = o->wtag;
	switch (MAPI_TAG_TYPE(o->wtag)) {
	case MAPI_PT_UNICODE: {
		size_t units = n / 2;
		gunichar2 *w = g_new(gunichar2, units + 1);

		for (size_t i = 0; i < units; i++)
			w[i] = (gunichar2)(d[2 * i] | d[2 * i + 1] << 8);
		while (units && !w[units - 1])
			units--;
		v->v.str = g_utf16_to_utf8(w, (glong)units, NULL, NULL, NULL);
		if (!v->v.str)
			v->v.str = g_strdup("");
		g_free(w);
		break;
	}
	case MAPI_PT_STRING8:
		while (n && !d[n - 1])
			n--;
		v->v.str = g_strndup((const char *)d, n);
		break;
	default:
		v->v.bin.len = (uint32_t)n;
		v->v.bin.data = n ? g_memdup2(d, n) : NULL;
	}
}

void mapid_stream_commit(struct mapid_session *s, struct mapid_obj *o)
{
	struct mapi_props *p;
	struct mapi_value v;

	(void)s;
	if (!o->wbuf || !o->msg)
		return;
	p = o->att ? &o->att->props : &o->msg->props;
	stream_value(o, &v);
	mapi_props_take(p, &v);
	mapid_msg_touch(o, o->wtag);
}

/* The write stream at `idx`, or NULL with *rv set. */
static struct mapid_obj *wstream_at(struct mapid_rop_ctx *rc, uint8_t idx,
				    uint32_t *rv)
{
	struct mapid_obj *o = mapid_obj_at(rc, idx, rv);

	if (o && o->kind != MAPID_OBJ_STREAM) {
		*rv = MAPI_E_NO_SUPPORT;
		return NULL;
	}
	if (o && !o->wbuf) {
		*rv = MAPI_E_NO_ACCESS;	/* opened read-only */
		return NULL;
	}
	return o;
}

/* Whether the stream `o` may grow to `size` bytes. */
static bool may_grow(struct mapid_rop_ctx *rc, struct mapid_obj *o,
		     uint64_t size)
{
	if (size <= o->wbuf->len)
		return true;
	return size <= MAPID_MSG_MAX &&
	       mapid_msg_room(rc->sess, o, (size_t)size - o->wbuf->len);
}

int mapid_rop_write_stream(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			   GByteArray *out)
{
	struct rop_write_stream_req q;
	struct rop_write_stream_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_write_stream_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_WRITE_STREAM;
	s.head.handle_index = q.input_handle_index;
	o = wstream_at(rc, q.input_handle_index, &s.head.rv);
	if (o && !may_grow(rc, o, (uint64_t)o->spos + q.len))
		s.head.rv = E_MEDIUM_FULL;
	else if (o && q.len) {
		guint old = o->wbuf->len;

		if (o->spos + q.len > old)
			g_byte_array_set_size(o->wbuf, o->spos + q.len);
		/* a seek past the end leaves zeros behind it */
		if (o->spos > old)
			memset(o->wbuf->data + old, 0, o->spos - old);
		memcpy(o->wbuf->data + o->spos, q.data, q.len);
		o->spos += q.len;
		s.written = q.len;
	}
	rop_write_stream_resp_write(out, &s);
	return 0;
}

int mapid_rop_set_stream_size(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out)
{
	struct rop_set_stream_size_req q;
	struct rop_set_stream_size_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_set_stream_size_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SET_STREAM_SIZE;
	s.head.handle_index = q.input_handle_index;
	o = wstream_at(rc, q.input_handle_index, &s.head.rv);
	if (o && !may_grow(rc, o, q.stream_size))
		s.head.rv = E_MEDIUM_FULL;
	else if (o) {
		guint old = o->wbuf->len;

		g_byte_array_set_size(o->wbuf, (guint)q.stream_size);
		if (o->wbuf->len > old)
			memset(o->wbuf->data + old, 0, o->wbuf->len - old);
	}
	rop_set_stream_size_resp_write(out, &s);
	return 0;
}

int mapid_rop_commit_stream(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			    GByteArray *out)
{
	struct rop_stream_req q;
	struct rop_commit_stream_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_commit_stream_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_COMMIT_STREAM;
	s.head.handle_index = q.input_handle_index;
	o = wstream_at(rc, q.input_handle_index, &s.head.rv);
	if (o)
		mapid_stream_commit(rc->sess, o);
	rop_commit_stream_resp_write(out, &s);
	return 0;
}
