/*
 * mapi-restrict.c - restrictions as a tree, read and written; see
 * mapi-restrict.h.  MS-OXCDATA 2.12 (the restriction structures),
 * MS-OXCMAPIHTTP 2.2.5.5 (their NSPI carrier).
 */
#include "mapi-restrict.h"

#include <errno.h>
#include <string.h>

#include "mapi-propval.h"

/* The fewest bytes one restriction takes on the wire (an Exist is 5, a
 * Not 1 + its child): what a claimed count is checked against. */
#define MIN_RES_BYTES 1

struct rd_ctx {
	const struct mapi_res_form *f;
	unsigned nodes;
};

static void res_clear(struct mapi_res *res);

static void value_free(struct mapi_value *v)
{
	if (!v)
		return;
	mapi_value_clear(v);
	g_free(v);
}

static void res_clear(struct mapi_res *res)
{
	uint32_t i;

	switch (res->type) {
	case MAPI_RES_AND:
	case MAPI_RES_OR:
		for (i = 0; i < res->u.list.n; i++)
			res_clear(&res->u.list.a[i]);
		g_free(res->u.list.a);
		break;
	case MAPI_RES_NOT:
		mapi_res_free(res->u.sub);
		break;
	case MAPI_RES_CONTENT:
		value_free(res->u.content.val);
		break;
	case MAPI_RES_PROPERTY:
		value_free(res->u.prop.val);
		break;
	case MAPI_RES_SUBRESTRICTION:
		mapi_res_free(res->u.subobj.res);
		break;
	case MAPI_RES_COMMENT:
		for (i = 0; i < res->u.comment.n_vals; i++)
			mapi_value_clear(&res->u.comment.vals[i]);
		g_free(res->u.comment.vals);
		mapi_res_free(res->u.comment.res);
		break;
	case MAPI_RES_COUNT:
		mapi_res_free(res->u.count.res);
		break;
	default:
		break;
	}
	memset(res, 0, sizeof(*res));
}

void mapi_res_free(struct mapi_res *res)
{
	if (!res)
		return;
	res_clear(res);
	g_free(res);
}

static int read_one(struct mapi_rd *r, struct rd_ctx *c, unsigned depth,
		    struct mapi_res *res);

static int read_child(struct mapi_rd *r, struct rd_ctx *c, unsigned depth,
		      struct mapi_res **out)
{
	struct mapi_res *res = g_new0(struct mapi_res, 1);
	int rc = read_one(r, c, depth, res);

	if (rc < 0) {
		mapi_res_free(res);
		return rc;
	}
	*out = res;
	return 0;
}

/* A tagged value in the form's carrier; NULL (rc 0) when the NSPI
 * presence byte says there is none. */
static int read_value(struct mapi_rd *r, struct rd_ctx *c,
		      struct mapi_value **out)
{
	struct mapi_value *v;
	int rc;

	*out = NULL;
	if (c->f->val_marker && mapi_rd_u8(r) == 0)
		return mapi_rd_error(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	v = g_new0(struct mapi_value, 1);
	rc = c->f->val_read(r, v);
	if (rc < 0) {
		g_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

static int read_list(struct mapi_rd *r, struct rd_ctx *c, unsigned depth,
		     struct mapi_res *res)
{
	uint32_t n, i;
	int rc;

	n = c->f->count_width == 4 ? mapi_rd_u32(r) : mapi_rd_u16(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (n > mapi_rd_left(r) / MIN_RES_BYTES ||
	    n > MAPI_RES_MAX_NODES - c->nodes)
		return -EPROTO;
	res->u.list.a = g_new0(struct mapi_res, n ? n : 1);
	for (i = 0; i < n; i++) {
		/* counted before it is read, so that a failure frees it */
		res->u.list.n = i + 1;
		rc = read_one(r, c, depth + 1, &res->u.list.a[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int read_comment(struct mapi_rd *r, struct rd_ctx *c, unsigned depth,
			struct mapi_res *res)
{
	uint8_t n = mapi_rd_u8(r), i;
	int rc;

	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	/* a tagged value takes at least its tag */
	if (n > mapi_rd_left(r) / 4)
		return -EPROTO;
	res->u.comment.vals = g_new0(struct mapi_value, n ? n : 1);
	for (i = 0; i < n; i++) {
		rc = c->f->val_read(r, &res->u.comment.vals[i]);
		if (rc < 0)
			return rc;
		res->u.comment.n_vals = i + 1;
	}
	if (mapi_rd_u8(r) == 0)
		return mapi_rd_error(r);
	return read_child(r, c, depth + 1, &res->u.comment.res);
}

/* On failure `res` keeps what was read so far, for res_clear. */
static int read_one(struct mapi_rd *r, struct rd_ctx *c, unsigned depth,
		    struct mapi_res *res)
{
	if (depth > MAPI_RES_MAX_DEPTH || ++c->nodes > MAPI_RES_MAX_NODES)
		return -EPROTO;
	res->type = mapi_rd_u8(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	switch (res->type) {
	case MAPI_RES_AND:
	case MAPI_RES_OR:
		return read_list(r, c, depth, res);
	case MAPI_RES_NOT:
		return read_child(r, c, depth + 1, &res->u.sub);
	case MAPI_RES_CONTENT:
		res->u.content.fuzzy_low = mapi_rd_u16(r);
		res->u.content.fuzzy_high = mapi_rd_u16(r);
		res->u.content.tag = mapi_rd_u32(r);
		if (mapi_rd_error(r))
			return mapi_rd_error(r);
		return read_value(r, c, &res->u.content.val);
	case MAPI_RES_PROPERTY:
		res->u.prop.relop = mapi_rd_u8(r);
		res->u.prop.tag = mapi_rd_u32(r);
		if (mapi_rd_error(r))
			return mapi_rd_error(r);
		return read_value(r, c, &res->u.prop.val);
	case MAPI_RES_COMPAREPROPS:
		res->u.cmp.relop = mapi_rd_u8(r);
		res->u.cmp.tag1 = mapi_rd_u32(r);
		res->u.cmp.tag2 = mapi_rd_u32(r);
		return mapi_rd_error(r);
	case MAPI_RES_BITMASK:
		res->u.bitmask.relop = mapi_rd_u8(r);
		res->u.bitmask.tag = mapi_rd_u32(r);
		res->u.bitmask.mask = mapi_rd_u32(r);
		return mapi_rd_error(r);
	case MAPI_RES_SIZE:
		res->u.size.relop = mapi_rd_u8(r);
		res->u.size.tag = mapi_rd_u32(r);
		res->u.size.size = mapi_rd_u32(r);
		return mapi_rd_error(r);
	case MAPI_RES_EXIST:
		res->u.exist.tag = mapi_rd_u32(r);
		return mapi_rd_error(r);
	case MAPI_RES_SUBRESTRICTION:
		res->u.subobj.subobject = mapi_rd_u32(r);
		if (mapi_rd_error(r))
			return mapi_rd_error(r);
		return read_child(r, c, depth + 1, &res->u.subobj.res);
	case MAPI_RES_COMMENT:
		return read_comment(r, c, depth, res);
	case MAPI_RES_COUNT:
		res->u.count.count = mapi_rd_u32(r);
		if (mapi_rd_error(r))
			return mapi_rd_error(r);
		return read_child(r, c, depth + 1, &res->u.count.res);
	default:
		return -EPROTO;
	}
}

int mapi_res_read(struct mapi_rd *r, const struct mapi_res_form *f,
		  struct mapi_res **res_r)
{
	struct rd_ctx c = { .f = f };
	struct mapi_res *res = g_new0(struct mapi_res, 1);
	int rc = read_one(r, &c, 0, res);

	if (rc == 0)
		rc = mapi_rd_error(r);
	if (rc < 0) {
		mapi_res_free(res);
		*res_r = NULL;
		if (!mapi_rd_error(r))
			mapi_rd_fail(r, rc);
		return rc;
	}
	*res_r = res;
	return 0;
}

static void write_value(GByteArray *b, const struct mapi_res_form *f,
			uint32_t tag, const struct mapi_value *v)
{
	struct mapi_value null = { .tag = MAPI_TAG_RETYPE(tag, MAPI_PT_NULL) };

	if (f->val_marker) {
		mapi_wr_u8(b, v ? 0xFF : 0x00);
		if (v)
			f->val_write(b, v);
		return;
	}
	f->val_write(b, v ? v : &null);
}

void mapi_res_write(GByteArray *b, const struct mapi_res_form *f,
		    const struct mapi_res *res)
{
	uint32_t i;

	mapi_wr_u8(b, res->type);
	switch (res->type) {
	case MAPI_RES_AND:
	case MAPI_RES_OR:
		if (f->count_width == 4)
			mapi_wr_u32(b, res->u.list.n);
		else
			mapi_wr_u16(b, (uint16_t)res->u.list.n);
		for (i = 0; i < res->u.list.n; i++)
			mapi_res_write(b, f, &res->u.list.a[i]);
		break;
	case MAPI_RES_NOT:
		mapi_res_write(b, f, res->u.sub);
		break;
	case MAPI_RES_CONTENT:
		mapi_wr_u16(b, res->u.content.fuzzy_low);
		mapi_wr_u16(b, res->u.content.fuzzy_high);
		mapi_wr_u32(b, res->u.content.tag);
		write_value(b, f, res->u.content.tag, res->u.content.val);
		break;
	case MAPI_RES_PROPERTY:
		mapi_wr_u8(b, res->u.prop.relop);
		mapi_wr_u32(b, res->u.prop.tag);
		write_value(b, f, res->u.prop.tag, res->u.prop.val);
		break;
	case MAPI_RES_COMPAREPROPS:
		mapi_wr_u8(b, res->u.cmp.relop);
		mapi_wr_u32(b, res->u.cmp.tag1);
		mapi_wr_u32(b, res->u.cmp.tag2);
		break;
	case MAPI_RES_BITMASK:
		mapi_wr_u8(b, res->u.bitmask.relop);
		mapi_wr_u32(b, res->u.bitmask.tag);
		mapi_wr_u32(b, res->u.bitmask.mask);
		break;
	case MAPI_RES_SIZE:
		mapi_wr_u8(b, res->u.size.relop);
		mapi_wr_u32(b, res->u.size.tag);
		mapi_wr_u32(b, res->u.size.size);
		break;
	case MAPI_RES_EXIST:
		mapi_wr_u32(b, res->u.exist.tag);
		break;
	case MAPI_RES_SUBRESTRICTION:
		mapi_wr_u32(b, res->u.subobj.subobject);
		mapi_res_write(b, f, res->u.subobj.res);
		break;
	case MAPI_RES_COMMENT:
		mapi_wr_u8(b, res->u.comment.n_vals);
		for (i = 0; i < res->u.comment.n_vals; i++)
			f->val_write(b, &res->u.comment.vals[i]);
		mapi_wr_u8(b, res->u.comment.res ? 1 : 0);
		if (res->u.comment.res)
			mapi_res_write(b, f, res->u.comment.res);
		break;
	case MAPI_RES_COUNT:
		mapi_wr_u32(b, res->u.count.count);
		mapi_res_write(b, f, res->u.count.res);
		break;
	default:
		break;
	}
}

static bool bin_equal(const struct mapi_bin *a, const struct mapi_bin *b)
{
	return a->len == b->len &&
	       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool mv_equal(const struct mapi_value *a, const struct mapi_value *b)
{
	uint16_t one = MAPI_TAG_TYPE(a->tag) & (uint16_t)~MAPI_PT_MV;
	uint32_t i, n = a->v.mv.count;

	if (n != b->v.mv.count)
		return false;
	for (i = 0; i < n; i++) {
		switch (one) {
		case MAPI_PT_I2:
			if (a->v.mv.a.i2[i] != b->v.mv.a.i2[i])
				return false;
			break;
		case MAPI_PT_LONG:
			if (a->v.mv.a.l[i] != b->v.mv.a.l[i])
				return false;
			break;
		case MAPI_PT_FLOAT:
			if (memcmp(&a->v.mv.a.f[i], &b->v.mv.a.f[i], 4))
				return false;
			break;
		case MAPI_PT_DOUBLE: case MAPI_PT_APPTIME:
			if (memcmp(&a->v.mv.a.d[i], &b->v.mv.a.d[i], 8))
				return false;
			break;
		case MAPI_PT_CURRENCY: case MAPI_PT_I8: case MAPI_PT_SYSTIME:
			if (a->v.mv.a.i8[i] != b->v.mv.a.i8[i])
				return false;
			break;
		case MAPI_PT_CLSID:
			if (memcmp(a->v.mv.a.guid[i], b->v.mv.a.guid[i], 16))
				return false;
			break;
		case MAPI_PT_STRING8: case MAPI_PT_UNICODE:
			if (!str_equal(a->v.mv.a.str[i], b->v.mv.a.str[i]))
				return false;
			break;
		case MAPI_PT_BINARY: case MAPI_PT_SVREID: case MAPI_PT_OBJECT:
			if (!bin_equal(&a->v.mv.a.bin[i], &b->v.mv.a.bin[i]))
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

static bool value_equal(const struct mapi_value *a,
			const struct mapi_value *b)
{
	if (!a || !b)
		return a == b;
	if (a->tag != b->tag)
		return false;
	if (MAPI_TAG_TYPE(a->tag) & MAPI_PT_MV)
		return mv_equal(a, b);
	switch (MAPI_TAG_TYPE(a->tag)) {
	case MAPI_PT_I2: return a->v.i2 == b->v.i2;
	case MAPI_PT_LONG: return a->v.l == b->v.l;
	case MAPI_PT_ERROR: return a->v.err == b->v.err;
	case MAPI_PT_BOOLEAN: return a->v.b == b->v.b;
	case MAPI_PT_FLOAT: return memcmp(&a->v.f, &b->v.f, 4) == 0;
	case MAPI_PT_DOUBLE: case MAPI_PT_APPTIME:
		return memcmp(&a->v.d, &b->v.d, 8) == 0;
	case MAPI_PT_CURRENCY: case MAPI_PT_I8: case MAPI_PT_SYSTIME:
		return a->v.i8 == b->v.i8;
	case MAPI_PT_CLSID: return memcmp(a->v.guid, b->v.guid, 16) == 0;
	case MAPI_PT_STRING8: case MAPI_PT_UNICODE:
		return str_equal(a->v.str, b->v.str);
	case MAPI_PT_BINARY: case MAPI_PT_SVREID: case MAPI_PT_OBJECT:
		return bin_equal(&a->v.bin, &b->v.bin);
	default:
		return true;
	}
}

bool mapi_res_equal(const struct mapi_res *a, const struct mapi_res *b)
{
	uint32_t i;

	if (!a || !b)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case MAPI_RES_AND:
	case MAPI_RES_OR:
		if (a->u.list.n != b->u.list.n)
			return false;
		for (i = 0; i < a->u.list.n; i++)
			if (!mapi_res_equal(&a->u.list.a[i], &b->u.list.a[i]))
				return false;
		return true;
	case MAPI_RES_NOT:
		return mapi_res_equal(a->u.sub, b->u.sub);
	case MAPI_RES_CONTENT:
		return a->u.content.fuzzy_low == b->u.content.fuzzy_low &&
		       a->u.content.fuzzy_high == b->u.content.fuzzy_high &&
		       a->u.content.tag == b->u.content.tag &&
		       value_equal(a->u.content.val, b->u.content.val);
	case MAPI_RES_PROPERTY:
		return a->u.prop.relop == b->u.prop.relop &&
		       a->u.prop.tag == b->u.prop.tag &&
		       value_equal(a->u.prop.val, b->u.prop.val);
	case MAPI_RES_COMPAREPROPS:
		return memcmp(&a->u.cmp, &b->u.cmp, sizeof(a->u.cmp)) == 0;
	case MAPI_RES_BITMASK:
		return a->u.bitmask.relop == b->u.bitmask.relop &&
		       a->u.bitmask.tag == b->u.bitmask.tag &&
		       a->u.bitmask.mask == b->u.bitmask.mask;
	case MAPI_RES_SIZE:
		return a->u.size.relop == b->u.size.relop &&
		       a->u.size.tag == b->u.size.tag &&
		       a->u.size.size == b->u.size.size;
	case MAPI_RES_EXIST:
		return a->u.exist.tag == b->u.exist.tag;
	case MAPI_RES_SUBRESTRICTION:
		return a->u.subobj.subobject == b->u.subobj.subobject &&
		       mapi_res_equal(a->u.subobj.res, b->u.subobj.res);
	case MAPI_RES_COMMENT:
		if (a->u.comment.n_vals != b->u.comment.n_vals)
			return false;
		for (i = 0; i < a->u.comment.n_vals; i++)
			if (!value_equal(&a->u.comment.vals[i],
					 &b->u.comment.vals[i]))
				return false;
		return mapi_res_equal(a->u.comment.res, b->u.comment.res);
	case MAPI_RES_COUNT:
		return a->u.count.count == b->u.count.count &&
		       mapi_res_equal(a->u.count.res, b->u.count.res);
	default:
		return true;
	}
}

static struct mapi_value *value_dup(const struct mapi_value *v)
{
	struct mapi_value *d;

	if (!v)
		return NULL;
	d = g_new0(struct mapi_value, 1);
	mapi_value_copy(d, v);
	return d;
}

struct mapi_res *mapi_res_new_prop(uint8_t relop, uint32_t tag,
				   const struct mapi_value *val)
{
	struct mapi_res *res = g_new0(struct mapi_res, 1);

	res->type = MAPI_RES_PROPERTY;
	res->u.prop.relop = relop;
	res->u.prop.tag = tag;
	res->u.prop.val = value_dup(val);
	return res;
}

struct mapi_res *mapi_res_new_content(uint16_t fuzzy_low,
				      uint16_t fuzzy_high, uint32_t tag,
				      const struct mapi_value *val)
{
	struct mapi_res *res = g_new0(struct mapi_res, 1);

	res->type = MAPI_RES_CONTENT;
	res->u.content.fuzzy_low = fuzzy_low;
	res->u.content.fuzzy_high = fuzzy_high;
	res->u.content.tag = tag;
	res->u.content.val = value_dup(val);
	return res;
}

struct mapi_res *mapi_res_new_exist(uint32_t tag)
{
	struct mapi_res *res = g_new0(struct mapi_res, 1);

	res->type = MAPI_RES_EXIST;
	res->u.exist.tag = tag;
	return res;
}

struct mapi_res *mapi_res_new_list(uint8_t type, struct mapi_res **subs,
				   uint32_t n)
{
	struct mapi_res *res = g_new0(struct mapi_res, 1);
	uint32_t i;

	res->type = type == MAPI_RES_OR ? MAPI_RES_OR : MAPI_RES_AND;
	res->u.list.n = n;
	res->u.list.a = g_new0(struct mapi_res, n ? n : 1);
	for (i = 0; i < n; i++) {
		/* the children move into the array; their shells go */
		res->u.list.a[i] = *subs[i];
		g_free(subs[i]);
		subs[i] = NULL;
	}
	return res;
}

struct mapi_res *mapi_res_new_not(struct mapi_res *sub)
{
	struct mapi_res *res = g_new0(struct mapi_res, 1);

	res->type = MAPI_RES_NOT;
	res->u.sub = sub;
	return res;
}

static int rop_val_read(struct mapi_rd *r, struct mapi_value *v)
{
	return mapi_tagged_pv_read(r, 0, v);
}

static void rop_val_write(GByteArray *b, const struct mapi_value *v)
{
	(void)mapi_tagged_pv_write(b, v, 0);
}

static int ext_val_read(struct mapi_rd *r, struct mapi_value *v)
{
	return mapi_tagged_pv_read(r, MAPI_PV_BIN32, v);
}

static void ext_val_write(GByteArray *b, const struct mapi_value *v)
{
	(void)mapi_tagged_pv_write(b, v, MAPI_PV_BIN32);
}

const struct mapi_res_form mapi_res_form_rop = {
	.count_width = 2,
	.val_marker = false,
	.val_read = rop_val_read,
	.val_write = rop_val_write,
};

const struct mapi_res_form mapi_res_form_ext = {
	.count_width = 4,
	.val_marker = false,
	.val_read = ext_val_read,
	.val_write = ext_val_write,
};
