/*
 * mapi-fx-write.c - FastTransfer stream writers.  See mapi-fx.h.
 * MS-OXCFXICS 2.2.4 (propValue and its layouts; the syntactical elements
 * messageChangeFull, messageContent, MessageChildren, recipient,
 * attachment, embeddedMessage, state).
 */
#include "mapi-fx.h"

#include <errno.h>
#include <string.h>

#include "mapi-buf.h"
#include "mapi-fx-private.h"

/* PidTagMessageRecipients and PidTagMessageAttachments as PtypObject: the
 * values of MetaTagFXDelProp before each list of a message's children. */
#define FX_DEL_RECIPIENTS	0x0E12000DU
#define FX_DEL_ATTACHMENTS	0x0E13000DU

void mapi_fx_write_marker(GByteArray *b, uint32_t marker)
{
	mapi_wr_u32(b, marker);
}

static void write_fixed(GByteArray *b, uint16_t type, const struct mapi_value *v)
{
	uint32_t u;
	uint64_t x;

	switch (type) {
	case MAPI_PT_I2: mapi_wr_u16(b, (uint16_t)v->v.i2); break;
	case MAPI_PT_BOOLEAN: mapi_wr_u16(b, v->v.b ? 1 : 0); break;
	case MAPI_PT_LONG: mapi_wr_u32(b, (uint32_t)v->v.l); break;
	case MAPI_PT_ERROR: mapi_wr_u32(b, v->v.err); break;
	case MAPI_PT_FLOAT:
		memcpy(&u, &v->v.f, sizeof(u));
		mapi_wr_u32(b, u);
		break;
	case MAPI_PT_DOUBLE: case MAPI_PT_APPTIME:
		memcpy(&x, &v->v.d, sizeof(x));
		mapi_wr_u64(b, x);
		break;
	case MAPI_PT_CURRENCY: case MAPI_PT_I8:
		mapi_wr_u64(b, (uint64_t)v->v.i8);
		break;
	case MAPI_PT_SYSTIME: mapi_wr_u64(b, v->v.ft); break;
	case MAPI_PT_CLSID: mapi_wr_guid(b, v->v.guid); break;
	default: break;
	}
}

/* One element of a fixed-size array, through a single value. */
static void write_mv_fixed(GByteArray *b, uint16_t one,
			   const struct mapi_value *v, uint32_t i)
{
	struct mapi_value e = { .tag = MAPI_TAG(0, one) };

	switch (one) {
	case MAPI_PT_I2: e.v.i2 = v->v.mv.a.i2[i]; break;
	case MAPI_PT_LONG: e.v.l = v->v.mv.a.l[i]; break;
	case MAPI_PT_FLOAT: e.v.f = v->v.mv.a.f[i]; break;
	case MAPI_PT_DOUBLE: case MAPI_PT_APPTIME: e.v.d = v->v.mv.a.d[i]; break;
	case MAPI_PT_CURRENCY: case MAPI_PT_I8: e.v.i8 = v->v.mv.a.i8[i]; break;
	case MAPI_PT_SYSTIME: e.v.ft = v->v.mv.a.ft[i]; break;
	case MAPI_PT_CLSID: memcpy(e.v.guid, v->v.mv.a.guid[i], 16); break;
	default: break;
	}
	write_fixed(b, one, &e);
}

/* A byte count and the bytes of a string or a binary.  Returns 0 or
 * -EILSEQ (a PtypString that is not UTF-8). */
static int write_counted(GByteArray *b, uint16_t type, const char *str,
			 const struct mapi_bin *bin)
{
	size_t at = b->len;

	if (type == MAPI_PT_UNICODE || type == MAPI_PT_STRING8) {
		const char *s = str ? str : "";

		mapi_wr_u32(b, 0);
		if (type == MAPI_PT_STRING8)
			mapi_wr_str8z(b, s);
		else if (mapi_wr_utf16z(b, s))
			return -EILSEQ;
		mapi_wr_u32_at(b, at, (uint32_t)(b->len - at - 4));
		return 0;
	}
	mapi_wr_u32(b, bin->len);
	mapi_wr_bytes(b, bin->data, bin->len);
	return 0;
}

static int write_value(GByteArray *b, const struct mapi_value *v)
{
	uint16_t type = MAPI_TAG_TYPE(v->tag);
	uint16_t one = type & (uint16_t)~MAPI_PT_MV;
	uint32_t i;
	int rc;

	if (mapi_fx_fixed_size(type)) {
		write_fixed(b, type, v);
		return 0;
	}
	if (mapi_fx_counted(type))
		return write_counted(b, type, v->v.str, &v->v.bin);
	if (!(type & MAPI_PT_MV) || !mapi_fx_mv_ok(one))
		return -EINVAL;
	mapi_wr_u32(b, v->v.mv.count);
	for (i = 0; i < v->v.mv.count; i++) {
		if (mapi_fx_fixed_size(one)) {
			write_mv_fixed(b, one, v, i);
			continue;
		}
		rc = write_counted(b, one,
				   one == MAPI_PT_BINARY ? NULL
							 : v->v.mv.a.str[i],
				   one == MAPI_PT_BINARY ? &v->v.mv.a.bin[i]
							 : NULL);
		if (rc)
			return rc;
	}
	return 0;
}

int mapi_fx_write_prop(GByteArray *b, uint32_t wire_tag,
		       const struct mapi_fx_named *named,
		       const struct mapi_value *v)
{
	size_t at = b->len;
	int rc;

	if (MAPI_TAG_ID(wire_tag) >= MAPI_NAMED_MIN && !named)
		return -EINVAL;
	mapi_wr_u32(b, wire_tag);
	if (MAPI_TAG_ID(wire_tag) >= MAPI_NAMED_MIN) {
		mapi_wr_guid(b, named->guid);
		mapi_wr_u8(b, named->kind);
		if (named->kind == MAPI_FX_NAME_LID) {
			mapi_wr_u32(b, named->lid);
		} else if (named->kind != MAPI_FX_NAME_STRING || !named->name ||
			   mapi_wr_utf16z(b, named->name)) {
			g_byte_array_set_size(b, (guint)at);
			return -EINVAL;
		}
	}
	rc = write_value(b, v);
	if (rc)
		g_byte_array_set_size(b, (guint)at);
	return rc;
}

int mapi_fx_write_event(GByteArray *b, const struct mapi_fx_event *ev)
{
	if (ev->kind == MAPI_FX_MARKER) {
		mapi_fx_write_marker(b, ev->tag);
		return 0;
	}
	return mapi_fx_write_prop(b, ev->tag, ev->named ? &ev->name : NULL,
				  &ev->value);
}

/* A property from a bag, under its own tag (MetaTagIdsetGiven in the
 * server's form) and with its name when it has one. */
static int write_bag_prop(GByteArray *b, const struct mapi_value *v,
			  const struct mapi_fx_names *names)
{
	const struct mapi_fx_named *named = NULL;
	uint32_t tag = v->tag;

	if (tag == MAPI_FX_META_IDSET_GIVEN)
		tag = MAPI_FX_META_IDSET_GIVEN_WIRE;
	if (MAPI_TAG_ID(tag) >= MAPI_NAMED_MIN && names && names->lookup)
		named = names->lookup(names->ctx, MAPI_TAG_ID(tag));
	return mapi_fx_write_prop(b, tag, named, v);
}

static int write_bag(GByteArray *b, const struct mapi_props *p,
		     const struct mapi_fx_names *names)
{
	size_t i;
	int rc;

	for (i = 0; i < p->n; i++) {
		rc = write_bag_prop(b, &p->v[i], names);
		if (rc)
			return rc;
	}
	return 0;
}

static void write_del_prop(GByteArray *b, uint32_t what)
{
	mapi_wr_u32(b, MAPI_FX_META_DEL_PROP);
	mapi_wr_u32(b, what);
}

int mapi_fx_write_message_content(GByteArray *b, const struct mapi_message *m,
				  const struct mapi_fx_names *names)
{
	size_t i;
	int rc;

	rc = write_bag(b, &m->props, names);
	if (rc)
		return rc;
	write_del_prop(b, FX_DEL_RECIPIENTS);
	for (i = 0; i < m->n_recips; i++) {
		mapi_fx_write_marker(b, MAPI_FX_START_RECIP);
		rc = write_bag(b, &m->recips[i].props, names);
		if (rc)
			return rc;
		mapi_fx_write_marker(b, MAPI_FX_END_TO_RECIP);
	}
	write_del_prop(b, FX_DEL_ATTACHMENTS);
	for (i = 0; i < m->n_attach; i++) {
		mapi_fx_write_marker(b, MAPI_FX_NEW_ATTACH);
		rc = write_bag(b, &m->attach[i].props, names);
		if (rc)
			return rc;
		if (m->attach[i].embedded) {
			mapi_fx_write_marker(b, MAPI_FX_START_EMBED);
			rc = mapi_fx_write_message_content(
				b, m->attach[i].embedded, names);
			if (rc)
				return rc;
			mapi_fx_write_marker(b, MAPI_FX_END_EMBED);
		}
		mapi_fx_write_marker(b, MAPI_FX_END_ATTACH);
	}
	return 0;
}

int mapi_fx_write_change(GByteArray *b, const struct mapi_props *hdr,
			 const struct mapi_message *m,
			 const struct mapi_fx_names *names)
{
	int rc;

	mapi_fx_write_marker(b, MAPI_FX_INCR_SYNC_CHG);
	rc = write_bag(b, hdr, names);
	if (rc)
		return rc;
	mapi_fx_write_marker(b, MAPI_FX_INCR_SYNC_MESSAGE);
	return mapi_fx_write_message_content(b, m, names);
}

static void write_state_bin(GByteArray *b, uint32_t tag,
			    const struct mapi_bin *v)
{
	if (!v)
		return;
	mapi_wr_u32(b, tag);
	mapi_wr_u32(b, v->len);
	mapi_wr_bytes(b, v->data, v->len);
}

void mapi_fx_write_state_end(GByteArray *b, const struct mapi_bin *idset_given,
			     const struct mapi_bin *cnset_seen,
			     const struct mapi_bin *cnset_seen_fai,
			     const struct mapi_bin *cnset_read)
{
	mapi_fx_write_marker(b, MAPI_FX_INCR_SYNC_STATE_BEGIN);
	write_state_bin(b, MAPI_FX_META_IDSET_GIVEN_WIRE, idset_given);
	write_state_bin(b, MAPI_FX_META_CNSET_SEEN, cnset_seen);
	write_state_bin(b, MAPI_FX_META_CNSET_SEEN_FAI, cnset_seen_fai);
	write_state_bin(b, MAPI_FX_META_CNSET_READ, cnset_read);
	mapi_fx_write_marker(b, MAPI_FX_INCR_SYNC_STATE_END);
	mapi_fx_write_marker(b, MAPI_FX_INCR_SYNC_END);
}
