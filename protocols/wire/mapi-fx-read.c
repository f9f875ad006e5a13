/*
 * mapi-fx-read.c - the resumable reader of FastTransfer streams.  See
 * mapi-fx.h.  MS-OXCFXICS 2.2.4.1 (lexical structure), 2.2.4.1.4
 * (markers), 2.2.4.3 (propValue, namedPropInfo), MS-OXCDATA 2.11.1
 * (value layouts).
 *
 * The reader is a state machine over the parts of one element: the tag,
 * for a named property the set, the kind and the id or name, then the
 * value's count, length and bytes.  Small fixed parts are gathered in a
 * 16-byte scratch; counted bytes in a growing array that never holds more
 * than has arrived, so a length that lies costs nothing until the bytes
 * behind it come.
 */
#include "mapi-fx.h"

#include <errno.h>
#include <string.h>

#include "mapi-buf.h"
#include "mapi-fx-private.h"

#define DEFAULT_MAX_VALUE ((size_t)64 << 20)
#define DEFAULT_MAX_DEPTH 32
/* A property name is short (MS-OXCDATA 2.6.1: at most 255 characters
 * in practice); this bounds the scan for its terminator. */
#define MAX_NAME_BYTES 2048

enum rd_state {
	S_TAG,		/* 4 bytes: the tag */
	S_GUID,		/* 16: the property set of a named property */
	S_KIND,		/* 1: LID or string name */
	S_LID,		/* 4 */
	S_NAME,		/* UTF-16LE code units up to a NUL unit */
	S_FIXED,	/* a fixed-size value */
	S_LEN,		/* 4: the byte count of a counted value */
	S_DATA,		/* the counted bytes */
	S_COUNT,	/* 4: the count of a multi-valued value */
	S_MV_FIXED,	/* count fixed-size elements */
	S_MV_LEN,	/* 4: the byte count of one element */
	S_MV_DATA,	/* one element's bytes */
};

/* What is open, for the pairing of start and end markers. */
enum {
	OPEN_FOLDER = 'F',
	OPEN_MESSAGE = 'M',
	OPEN_RECIP = 'R',
	OPEN_ATTACH = 'A',
	OPEN_EMBED = 'E',
	OPEN_STATE = 'S',
};

struct mapi_fx_reader {
	struct mapi_fx_limits lim;
	mapi_fx_cb cb;
	void *ctx;
	int err;
	uint64_t off;
	enum rd_state st;
	uint8_t small[16];
	size_t have, want;	/* of small */
	GByteArray *data;	/* counted bytes gathered */
	size_t data_want;
	struct mapi_fx_event ev;	/* being read */
	uint16_t layout;	/* the type that lays the value out */
	uint32_t mv_count, mv_done;
	size_t mv_bytes;	/* of this multi-valued value so far */
	size_t mv_cap;
	GByteArray *open;	/* OPEN_* */
	unsigned folders, embeds;
};

bool mapi_fx_is_marker(uint32_t tag)
{
	switch (tag) {
	case MAPI_FX_START_TOP_FLD: case MAPI_FX_START_SUB_FLD:
	case MAPI_FX_END_FOLDER: case MAPI_FX_START_MESSAGE:
	case MAPI_FX_START_FAI_MSG: case MAPI_FX_END_MESSAGE:
	case MAPI_FX_START_RECIP: case MAPI_FX_END_TO_RECIP:
	case MAPI_FX_NEW_ATTACH: case MAPI_FX_END_ATTACH:
	case MAPI_FX_START_EMBED: case MAPI_FX_END_EMBED:
	case MAPI_FX_INCR_SYNC_CHG: case MAPI_FX_INCR_SYNC_CHG_PARTIAL:
	case MAPI_FX_INCR_SYNC_DEL: case MAPI_FX_INCR_SYNC_END:
	case MAPI_FX_INCR_SYNC_MESSAGE: case MAPI_FX_INCR_SYNC_READ:
	case MAPI_FX_INCR_SYNC_STATE_BEGIN: case MAPI_FX_INCR_SYNC_STATE_END:
	case MAPI_FX_INCR_SYNC_PROGRESS_MODE:
	case MAPI_FX_INCR_SYNC_PROGRESS_PER_MSG:
	case MAPI_FX_INCR_SYNC_GROUP_INFO: case MAPI_FX_ERROR_INFO:
		return true;
	default:
		return false;
	}
}

size_t mapi_fx_fixed_size(uint16_t type)
{
	switch (type) {
	case MAPI_PT_I2: case MAPI_PT_BOOLEAN:
		return 2;
	case MAPI_PT_LONG: case MAPI_PT_FLOAT: case MAPI_PT_ERROR:
		return 4;
	case MAPI_PT_DOUBLE: case MAPI_PT_CURRENCY: case MAPI_PT_APPTIME:
	case MAPI_PT_I8: case MAPI_PT_SYSTIME:
		return 8;
	case MAPI_PT_CLSID:
		return 16;
	default:
		return 0;
	}
}

bool mapi_fx_counted(uint16_t type)
{
	return type == MAPI_PT_STRING8 || type == MAPI_PT_UNICODE ||
	       type == MAPI_PT_BINARY || type == MAPI_PT_SVREID ||
	       type == MAPI_PT_OBJECT;
}

bool mapi_fx_mv_ok(uint16_t one)
{
	if (one == MAPI_PT_BOOLEAN || one == MAPI_PT_ERROR)
		return false;
	return mapi_fx_fixed_size(one) || one == MAPI_PT_STRING8 ||
	       one == MAPI_PT_UNICODE || one == MAPI_PT_BINARY;
}

struct mapi_fx_reader *mapi_fx_reader_new(const struct mapi_fx_limits *lim,
					  mapi_fx_cb cb, void *ctx)
{
	struct mapi_fx_reader *r = g_new0(struct mapi_fx_reader, 1);

	if (lim)
		r->lim = *lim;
	if (!r->lim.max_value)
		r->lim.max_value = DEFAULT_MAX_VALUE;
	/* a length on the wire has 32 bits */
	if (r->lim.max_value > UINT32_MAX)
		r->lim.max_value = UINT32_MAX;
	if (!r->lim.max_depth)
		r->lim.max_depth = DEFAULT_MAX_DEPTH;
	r->cb = cb;
	r->ctx = ctx;
	r->data = g_byte_array_new();
	r->open = g_byte_array_new();
	r->ev.value.tag = MAPI_TAG(0, MAPI_PT_NULL);
	return r;
}

static void reset_element(struct mapi_fx_reader *r)
{
	mapi_value_clear(&r->ev.value);
	g_free(r->ev.name.name);
	memset(&r->ev, 0, sizeof(r->ev));
	r->ev.value.tag = MAPI_TAG(0, MAPI_PT_NULL);
	/* a large value's buffer goes with it: between elements the
	 * reader holds next to nothing */
	if (r->data->len > 65536) {
		g_byte_array_unref(r->data);
		r->data = g_byte_array_new();
	}
	g_byte_array_set_size(r->data, 0);
	r->st = S_TAG;
	r->have = 0;
	r->want = 4;
	r->mv_count = r->mv_done = 0;
	r->mv_bytes = r->mv_cap = 0;
}

void mapi_fx_reader_free(struct mapi_fx_reader **rp)
{
	struct mapi_fx_reader *r = *rp;

	if (!r)
		return;
	reset_element(r);
	g_byte_array_unref(r->data);
	g_byte_array_unref(r->open);
	g_free(r);
	*rp = NULL;
}

bool mapi_fx_reader_idle(const struct mapi_fx_reader *r)
{
	return r->st == S_TAG && r->have == 0;
}

uint64_t mapi_fx_reader_offset(const struct mapi_fx_reader *r)
{
	return r->off;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint8_t open_top(const struct mapi_fx_reader *r)
{
	return r->open->len ? r->open->data[r->open->len - 1] : 0;
}

static int open_push(struct mapi_fx_reader *r, uint8_t what)
{
	if (what == OPEN_FOLDER && ++r->folders > r->lim.max_depth)
		return -ELOOP;
	if (what == OPEN_EMBED && ++r->embeds > r->lim.max_depth)
		return -ELOOP;
	g_byte_array_append(r->open, &what, 1);
	return 0;
}

static int open_pop(struct mapi_fx_reader *r, uint8_t what)
{
	if (open_top(r) != what)
		return -EBADMSG;
	g_byte_array_set_size(r->open, r->open->len - 1);
	if (what == OPEN_FOLDER)
		r->folders--;
	if (what == OPEN_EMBED)
		r->embeds--;
	return 0;
}

/*
 * The pairing of markers, and where each may stand (MS-OXCFXICS 2.2.4.3,
 * the syntactical structure): a recipient or an attachment holds nothing
 * but properties and, for an attachment, one embedded message; the ICS
 * markers stand outside everything.
 */
static int check_marker(struct mapi_fx_reader *r, uint32_t tag)
{
	uint8_t top = open_top(r);

	switch (tag) {
	case MAPI_FX_START_TOP_FLD:
		return top ? -EBADMSG : open_push(r, OPEN_FOLDER);
	case MAPI_FX_START_SUB_FLD:
		return top != OPEN_FOLDER ? -EBADMSG
					  : open_push(r, OPEN_FOLDER);
	case MAPI_FX_END_FOLDER:
		return open_pop(r, OPEN_FOLDER);
	case MAPI_FX_START_MESSAGE: case MAPI_FX_START_FAI_MSG:
		return top && top != OPEN_FOLDER ? -EBADMSG
						 : open_push(r, OPEN_MESSAGE);
	case MAPI_FX_END_MESSAGE:
		return open_pop(r, OPEN_MESSAGE);
	case MAPI_FX_START_RECIP: case MAPI_FX_NEW_ATTACH:
		if (top == OPEN_RECIP || top == OPEN_ATTACH ||
		    top == OPEN_STATE || top == OPEN_FOLDER)
			return -EBADMSG;
		return open_push(r, tag == MAPI_FX_START_RECIP ? OPEN_RECIP
							       : OPEN_ATTACH);
	case MAPI_FX_END_TO_RECIP:
		return open_pop(r, OPEN_RECIP);
	case MAPI_FX_END_ATTACH:
		return open_pop(r, OPEN_ATTACH);
	case MAPI_FX_START_EMBED:
		return top != OPEN_ATTACH ? -EBADMSG : open_push(r, OPEN_EMBED);
	case MAPI_FX_END_EMBED:
		return open_pop(r, OPEN_EMBED);
	case MAPI_FX_INCR_SYNC_STATE_BEGIN:
		return top ? -EBADMSG : open_push(r, OPEN_STATE);
	case MAPI_FX_INCR_SYNC_STATE_END:
		return open_pop(r, OPEN_STATE);
	case MAPI_FX_ERROR_INFO:
		return 0;
	default:
		/* the ICS markers */
		return top ? -EBADMSG : 0;
	}
}

/* Hand the finished element to the callback and start the next. */
static int emit(struct mapi_fx_reader *r)
{
	int rc = r->cb ? r->cb(r->ctx, &r->ev) : 0;

	reset_element(r);
	return rc;
}

/* The value of a fixed-size type from its bytes, into the event. */
static void fixed_value(struct mapi_value *v, uint16_t type, const uint8_t *p)
{
	struct mapi_rd rd;
	uint32_t u;

	mapi_rd_init(&rd, p, 16);
	switch (type) {
	case MAPI_PT_I2: v->v.i2 = (int16_t)mapi_rd_u16(&rd); break;
	case MAPI_PT_BOOLEAN: v->v.b = mapi_rd_u16(&rd) != 0; break;
	case MAPI_PT_LONG: v->v.l = (int32_t)mapi_rd_u32(&rd); break;
	case MAPI_PT_ERROR: v->v.err = mapi_rd_u32(&rd); break;
	case MAPI_PT_FLOAT:
		u = mapi_rd_u32(&rd);
		memcpy(&v->v.f, &u, sizeof(u));
		break;
	case MAPI_PT_DOUBLE: case MAPI_PT_APPTIME: {
		uint64_t x = mapi_rd_u64(&rd);

		memcpy(&v->v.d, &x, sizeof(x));
		break;
	}
	case MAPI_PT_CURRENCY: case MAPI_PT_I8:
		v->v.i8 = (int64_t)mapi_rd_u64(&rd);
		break;
	case MAPI_PT_SYSTIME: v->v.ft = mapi_rd_u64(&rd); break;
	case MAPI_PT_CLSID: memcpy(v->v.guid, p, 16); break;
	default: break;
	}
}

/* One element of a fixed-size multi-valued array from its bytes. */
static void mv_fixed_elem(struct mapi_value *v, uint16_t one, uint32_t i,
			  const uint8_t *p)
{
	struct mapi_value tmp = { .tag = MAPI_TAG(0, one) };

	fixed_value(&tmp, one, p);
	switch (one) {
	case MAPI_PT_I2: v->v.mv.a.i2[i] = tmp.v.i2; break;
	case MAPI_PT_LONG: v->v.mv.a.l[i] = tmp.v.l; break;
	case MAPI_PT_FLOAT: v->v.mv.a.f[i] = tmp.v.f; break;
	case MAPI_PT_DOUBLE: case MAPI_PT_APPTIME:
		v->v.mv.a.d[i] = tmp.v.d;
		break;
	case MAPI_PT_CURRENCY: case MAPI_PT_I8:
		v->v.mv.a.i8[i] = tmp.v.i8;
		break;
	case MAPI_PT_SYSTIME: v->v.mv.a.ft[i] = tmp.v.ft; break;
	case MAPI_PT_CLSID: memcpy(v->v.mv.a.guid[i], tmp.v.guid, 16); break;
	default: break;
	}
}

/*
 * Counted bytes as the value of `type`: a string converted, a binary
 * taken.  Returns 0 or -EBADMSG (a string that is not UTF-16).
 */
static int counted_value(struct mapi_fx_reader *r, uint16_t type,
			 char **str_r, struct mapi_bin *bin_r)
{
	struct mapi_rd rd;
	size_t n = r->data->len;
	/* an array that never held a byte has no buffer at all */
	const uint8_t *p = n ? r->data->data : (const uint8_t *)"";

	if (type == MAPI_PT_UNICODE) {
		mapi_rd_init(&rd, p, n);
		*str_r = mapi_rd_utf16n(&rd, n);
		return *str_r ? 0 : -EBADMSG;
	}
	if (type == MAPI_PT_STRING8) {
		*str_r = g_strndup((const char *)p, n);
		return 0;
	}
	/* the gathered bytes become the value's own, without a copy */
	bin_r->len = (uint32_t)n;
	bin_r->data = NULL;
	if (n) {
		bin_r->data = g_byte_array_free(r->data, FALSE);
		r->data = g_byte_array_new();
	}
	return 0;
}

/* After the tag and any name: where the value's bytes begin. */
static int start_value(struct mapi_fx_reader *r)
{
	uint16_t t = r->layout;

	if (mapi_fx_fixed_size(t)) {
		r->st = S_FIXED;
		r->want = mapi_fx_fixed_size(t);
	} else if (mapi_fx_counted(t)) {
		r->st = S_LEN;
		r->want = 4;
	} else if ((t & MAPI_PT_MV) &&
		   mapi_fx_mv_ok(t & (uint16_t)~MAPI_PT_MV)) {
		r->st = S_COUNT;
		r->want = 4;
	} else {
		return -EBADMSG;
	}
	return 0;
}

/* The tag is in: a marker, or the start of a property. */
static int got_tag(struct mapi_fx_reader *r)
{
	uint32_t tag = le32(r->small);
	int rc;

	r->ev.tag = tag;
	r->ev.offset = r->off - 4;
	if (mapi_fx_is_marker(tag)) {
		rc = check_marker(r, tag);
		if (rc)
			return rc;
		r->ev.kind = MAPI_FX_MARKER;
		return emit(r);
	}
	r->ev.kind = MAPI_FX_PROP;
	r->layout = MAPI_TAG_TYPE(tag);
	r->ev.value.tag = tag;
	if (tag == MAPI_FX_META_IDSET_GIVEN_WIRE) {
		r->layout = MAPI_PT_BINARY;
		r->ev.value.tag = MAPI_FX_META_IDSET_GIVEN;
	}
	if (MAPI_TAG_ID(tag) >= MAPI_NAMED_MIN) {
		r->ev.named = true;
		r->st = S_GUID;
		r->want = 16;
		return 0;
	}
	return start_value(r);
}

static int got_count(struct mapi_fx_reader *r)
{
	uint16_t one = r->layout & (uint16_t)~MAPI_PT_MV;
	size_t size = mapi_fx_fixed_size(one);
	uint32_t n = le32(r->small);

	/* every element takes at least 4 bytes, or its fixed size */
	if (n > r->lim.max_value / (size ? size : 4))
		return -EMSGSIZE;
	r->mv_count = n;
	r->ev.value.v.mv.count = 0;
	if (n == 0)
		return emit(r);
	if (size) {
		r->st = S_MV_FIXED;
		r->data_want = (size_t)n * size;
	} else {
		r->st = S_MV_LEN;
		r->want = 4;
	}
	return 0;
}

/* All fixed-size elements are in: the array is as big as the bytes that
 * came, so allocating it now costs no more than the stream did. */
static int got_mv_fixed(struct mapi_fx_reader *r)
{
	uint16_t one = r->layout & (uint16_t)~MAPI_PT_MV;
	size_t size = mapi_fx_fixed_size(one);
	struct mapi_value *v = &r->ev.value;
	uint32_t i;

	/* each type's wire size is its size in memory */
	v->v.mv.a.l = g_malloc((size_t)r->mv_count * size);
	for (i = 0; i < r->mv_count; i++)
		mv_fixed_elem(v, one, i, r->data->data + (size_t)i * size);
	v->v.mv.count = r->mv_count;
	return emit(r);
}

/* One counted element of a multi-valued array is in. */
static int got_mv_elem(struct mapi_fx_reader *r)
{
	uint16_t one = r->layout & (uint16_t)~MAPI_PT_MV;
	struct mapi_value *v = &r->ev.value;
	char *s = NULL;
	struct mapi_bin bin = { 0 };
	int rc;

	if (r->mv_done == r->mv_cap) {
		r->mv_cap = r->mv_cap ? 2 * r->mv_cap : 4;
		if (r->mv_cap > r->mv_count)
			r->mv_cap = r->mv_count;
		if (one == MAPI_PT_BINARY)
			v->v.mv.a.bin = g_renew(struct mapi_bin, v->v.mv.a.bin,
						r->mv_cap);
		else
			v->v.mv.a.str = g_renew(char *, v->v.mv.a.str,
						r->mv_cap);
	}
	rc = counted_value(r, one, &s, &bin);
	if (rc)
		return rc;
	if (one == MAPI_PT_BINARY)
		v->v.mv.a.bin[r->mv_done] = bin;
	else
		v->v.mv.a.str[r->mv_done] = s;
	v->v.mv.count = ++r->mv_done;
	g_byte_array_set_size(r->data, 0);
	if (r->mv_done == r->mv_count)
		return emit(r);
	r->st = S_MV_LEN;
	r->want = 4;
	r->have = 0;
	return 0;
}

static int got_len(struct mapi_fx_reader *r)
{
	uint32_t n = le32(r->small);

	if (r->st == S_MV_LEN) {
		if (n > r->lim.max_value - r->mv_bytes ||
		    4 > r->lim.max_value - r->mv_bytes - n)
			return -EMSGSIZE;
		r->mv_bytes += (size_t)n + 4;
	} else if (n > r->lim.max_value) {
		return -EMSGSIZE;
	}
	r->data_want = n;
	r->st = r->st == S_MV_LEN ? S_MV_DATA : S_DATA;
	return 0;
}

/* The counted bytes of a single value are in. */
static int got_data(struct mapi_fx_reader *r)
{
	struct mapi_value *v = &r->ev.value;
	int rc;

	rc = counted_value(r, r->layout, &v->v.str, &v->v.bin);
	return rc ? rc : emit(r);
}

/* A small part of the element is complete: act on it. */
static int got_small(struct mapi_fx_reader *r)
{
	enum rd_state st = r->st;

	r->have = 0;
	switch (st) {
	case S_TAG:
		return got_tag(r);
	case S_GUID:
		memcpy(r->ev.name.guid, r->small, 16);
		r->st = S_KIND;
		r->want = 1;
		return 0;
	case S_KIND:
		r->ev.name.kind = r->small[0];
		if (r->small[0] == MAPI_FX_NAME_LID) {
			r->st = S_LID;
			r->want = 4;
			return 0;
		}
		if (r->small[0] != MAPI_FX_NAME_STRING)
			return -EBADMSG;
		r->st = S_NAME;
		r->want = 2;
		return 0;
	case S_LID:
		r->ev.name.lid = le32(r->small);
		return start_value(r);
	case S_NAME:
		if (r->small[0] || r->small[1]) {
			if (r->data->len + 2 > MAX_NAME_BYTES)
				return -EMSGSIZE;
			g_byte_array_append(r->data, r->small, 2);
			return 0;
		}
		r->ev.name.name = NULL;
		{
			struct mapi_rd rd;

			mapi_rd_init(&rd, r->data->len ? r->data->data
						       : (const uint8_t *)"",
				     r->data->len);
			r->ev.name.name = mapi_rd_utf16n(&rd, r->data->len);
		}
		g_byte_array_set_size(r->data, 0);
		return r->ev.name.name ? start_value(r) : -EBADMSG;
	case S_FIXED:
		fixed_value(&r->ev.value, r->layout, r->small);
		return emit(r);
	case S_LEN: case S_MV_LEN:
		return got_len(r);
	case S_COUNT:
		return got_count(r);
	default:
		return -EBADMSG;
	}
}

/* Move bytes from the input to what the state gathers.  Returns how many
 * were taken (all of `n`, or what completes the part). */
static size_t gather(struct mapi_fx_reader *r, const uint8_t *p, size_t n,
		     bool *done)
{
	size_t take;

	if (r->st == S_DATA || r->st == S_MV_DATA || r->st == S_MV_FIXED) {
		take = r->data_want - r->data->len;
		if (take > n)
			take = n;
		g_byte_array_append(r->data, p, (guint)take);
		*done = r->data->len == r->data_want;
		return take;
	}
	take = r->want - r->have;
	if (take > n)
		take = n;
	memcpy(r->small + r->have, p, take);
	r->have += take;
	*done = r->have == r->want;
	return take;
}

int mapi_fx_reader_feed(struct mapi_fx_reader *r, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	bool done;
	size_t took;
	int rc = 0;

	if (r->err)
		return r->err;
	if (r->st == S_TAG && r->have == 0)
		r->want = 4;
	while (len || (r->st == S_DATA && r->data_want == r->data->len) ||
	       (r->st == S_MV_DATA && r->data_want == r->data->len)) {
		took = gather(r, p, len, &done);
		p += took;
		len -= took;
		r->off += took;
		if (!done)
			break;
		if (r->st == S_DATA)
			rc = got_data(r);
		else if (r->st == S_MV_DATA)
			rc = got_mv_elem(r);
		else if (r->st == S_MV_FIXED)
			rc = got_mv_fixed(r);
		else
			rc = got_small(r);
		if (rc) {
			r->err = rc;
			return rc;
		}
	}
	return 0;
}

int mapi_fx_reader_finish(struct mapi_fx_reader *r)
{
	if (r->err)
		return r->err;
	if (!mapi_fx_reader_idle(r) || r->open->len)
		r->err = -EBADMSG;
	return r->err;
}
