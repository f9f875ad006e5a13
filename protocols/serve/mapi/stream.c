/*
 * stream.c - streams on a property of a message or an attachment:
 * RopOpenStream, RopReadStream, RopSeekStream, RopGetStreamSize (on
 * streams read-only and, from wstream.c, being written).
 *
 * Specs: MS-OXCROPS 2.2.9.1-3, 2.2.9.8, 2.2.9.9; MS-OXCPRPT 3.2.5.13
 * (RopOpenStream), 3.2.5.14 (RopReadStream: ByteCount, or 0xBABE and
 * MaximumByteCount), 3.2.5.19 (RopSeekStream: a seek pointer beyond
 * 2^31 is StreamSeekError), 3.2.5.20 (RopGetStreamSize).
 *
 * A stream holds the bytes of the value as a real server serves them: a
 * PtypString as UTF-16LE with its terminating NUL (two zero bytes), a
 * PtypString8 with its NUL, a PtypBinary as it is.  A read at or past
 * the end gives no bytes, as a real server's last read does; a read is
 * held to the room left in the response buffer.
 */
#include <errno.h>
#include <string.h>

#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "wire/rop-msg.h"
#include "mapid-private.h"

/* STG_E_SEEKERROR, MS-OXCDATA 2.4.2. */
#define E_STREAM_SEEK 0x80030019U
#define STREAM_POS_MAX 0x7FFFFFFFu

GBytes *mapid_stream_bytes(const struct mapi_value *v)
{
	switch (MAPI_TAG_TYPE(v->tag)) {
	case MAPI_PT_UNICODE: {
		glong n = 0;
		gunichar2 *w = g_utf8_to_utf16(v->v.str ? v->v.str : "", -1,
					       NULL, &n, NULL);
		GByteArray *b = g_byte_array_new();

		for (glong i = 0; w && i <= n; i++)
			mapi_wr_u16(b, i < n ? w[i] : 0);
		g_free(w);
		return g_byte_array_free_to_bytes(b);
	}
	case MAPI_PT_STRING8: {
		const char *s = v->v.str ? v->v.str : "";
		return g_bytes_new(s, strlen(s) + 1);
	}
	case MAPI_PT_BINARY:
		return g_bytes_new(v->v.bin.data, v->v.bin.len);
	default:
		return NULL;
	}
}

int mapid_rop_open_stream(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out)
{
	struct rop_open_stream_req q;
	struct rop_open_stream_resp s = { 0 };
	struct mapid_obj *in, *o;
	const struct mapi_props *p = NULL;
	const struct mapi_value *v = NULL;
	GBytes *data = NULL;
	int err = rop_open_stream_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_OPEN_STREAM;
	s.head.handle_index = q.output_handle_index;
	in = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (in)
		p = mapid_obj_props(in);
	if (in && !p)
		s.head.rv = MAPI_E_NO_SUPPORT;
	else if (p && q.open_mode != ROP_STREAM_READ_ONLY) {
		/* wstream.c */
		s.head.rv = mapid_stream_open_write(rc, in, &q,
						    &s.stream_size);
		rop_open_stream_resp_write(out, &s);
		return 0;
	} else if (p) {
		v = mapi_props_get(p, MAPI_TAG_ID(q.tag));
		/* the type asked for must be the value's (strings of
		 * either width are one) */
		if (v && MAPI_TAG_TYPE(v->tag) != MAPI_TAG_TYPE(q.tag) &&
		    !(MAPI_TAG_TYPE(q.tag) == MAPI_PT_STRING8 &&
		      MAPI_TAG_TYPE(v->tag) == MAPI_PT_UNICODE))
			v = NULL;
		data = v ? mapid_stream_bytes(v) : NULL;
		if (!data)
			s.head.rv = MAPI_E_NOT_FOUND;
	}
	if (data && g_bytes_get_size(data) > UINT32_MAX) {
		g_bytes_unref(data);
		s.head.rv = MAPI_E_TOO_BIG;
	} else if (data) {
		o = g_new0(struct mapid_obj, 1);
		o->kind = MAPID_OBJ_STREAM;
		o->fid = in->fid;
		o->data = data;
		/* the stream keeps the message its bytes came from open, so
		 * that the session's bound on open messages counts it */
		o->ref = in->ref;
		if (o->ref)
			o->ref->refs++;
		s.stream_size = (uint32_t)g_bytes_get_size(data);
		s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	}
	rop_open_stream_resp_write(out, &s);
	return 0;
}

/* The bytes of stream `o` (borrowed), read-only or being written. */
static const uint8_t *stream_view(const struct mapid_obj *o, gsize *size_r)
{
	if (o->wbuf) {
		*size_r = o->wbuf->len;
		return o->wbuf->data;
	}
	return g_bytes_get_data(o->data, size_r);
}

/* The stream object at `idx`, or NULL with *rv set: a real server says
 * NotSupported for an object of another kind. */
static struct mapid_obj *stream_at(struct mapid_rop_ctx *rc, uint8_t idx,
				   uint32_t *rv)
{
	struct mapid_obj *o = mapid_obj_at(rc, idx, rv);

	if (o && o->kind != MAPID_OBJ_STREAM) {
		*rv = MAPI_E_NO_SUPPORT;
		return NULL;
	}
	return o;
}

int mapid_rop_read_stream(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out)
{
	struct rop_read_stream_req q;
	struct rop_read_stream_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_read_stream_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_READ_STREAM;
	s.head.handle_index = q.input_handle_index;
	o = stream_at(rc, q.input_handle_index, &s.head.rv);
	if (o) {
		gsize size = 0;
		const uint8_t *d = stream_view(o, &size);
		size_t want = q.byte_count == ROP_READ_STREAM_USE_MAX
			      ? q.max_byte_count : q.byte_count;
		size_t left = o->spos < size ? size - o->spos : 0;
		/* the head and DataSize take 8 bytes of the room */
		size_t room = rc->room > 8 ? rc->room - 8 : 0;
		size_t n = MIN(MIN(want, left), MIN(room, 0xFFFF));

		s.len = (uint16_t)n;
		s.data = n ? d + o->spos : NULL;
		o->spos += (uint32_t)n;
	}
	rop_read_stream_resp_write(out, &s);
	return 0;
}

int mapid_rop_seek_stream(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out)
{
	struct rop_seek_stream_req q;
	struct rop_seek_stream_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_seek_stream_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SEEK_STREAM;
	s.head.handle_index = q.input_handle_index;
	o = stream_at(rc, q.input_handle_index, &s.head.rv);
	if (o) {
		gsize size = 0;
		int64_t base, to;

		(void)stream_view(o, &size);
		base = q.origin == ROP_SEEK_BEGIN ? 0
			: q.origin == ROP_SEEK_CURRENT ? (int64_t)o->spos
			: (int64_t)size;

		if ((q.offset > 0 && base > INT64_MAX - q.offset) ||
		    (to = base + q.offset) < 0 || to > STREAM_POS_MAX) {
			s.head.rv = E_STREAM_SEEK;
		} else {
			o->spos = (uint32_t)to;
			s.new_position = (uint64_t)to;
		}
	}
	rop_seek_stream_resp_write(out, &s);
	return 0;
}

int mapid_rop_get_stream_size(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out)
{
	struct rop_stream_req q;
	struct rop_get_stream_size_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_get_stream_size_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_GET_STREAM_SIZE;
	s.head.handle_index = q.input_handle_index;
	o = stream_at(rc, q.input_handle_index, &s.head.rv);
	if (o) {
		gsize size = 0;

		(void)stream_view(o, &size);
		s.stream_size = (uint32_t)size;
	}
	rop_get_stream_size_resp_write(out, &s);
	return 0;
}
