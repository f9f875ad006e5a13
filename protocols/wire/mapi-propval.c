/*
 * mapi-propval.c - see mapi-propval.h.  MS-OXCDATA 2.7 (PropertyProblem),
 * 2.8 (PropertyRow), 2.11.1 (value formats and COUNT widths), 2.11.2-2.11.6
 * (Typed, Tagged and Flagged values), 2.11.3 (TypedString), 2.12
 * (PropertyTagArray).
 */
#include "mapi-propval.h"
#include "mapi-tags.h"

#include <errno.h>
#include <string.h>

/* Bytes of a value of a fixed-size type, or 0 for the others. */
static size_t fixed_size(uint16_t type)
{
	switch (type) {
	case MAPI_PT_BOOLEAN: return 1;
	case MAPI_PT_I2: return 2;
	case MAPI_PT_LONG: case MAPI_PT_FLOAT: case MAPI_PT_ERROR: return 4;
	case MAPI_PT_DOUBLE: case MAPI_PT_APPTIME: case MAPI_PT_CURRENCY:
	case MAPI_PT_I8: case MAPI_PT_SYSTIME: return 8;
	case MAPI_PT_CLSID: return 16;
	default: return 0;
	}
}

static bool is_bin(uint16_t type)
{
	return type == MAPI_PT_BINARY || type == MAPI_PT_SVREID ||
	       type == MAPI_PT_OBJECT;
}

static bool is_str(uint16_t type)
{
	return type == MAPI_PT_STRING8 || type == MAPI_PT_UNICODE;
}

/* The types a multi-valued property may have, MS-OXCDATA 2.11.1. */
static bool mv_ok(uint16_t one)
{
	switch (one) {
	case MAPI_PT_I2: case MAPI_PT_LONG: case MAPI_PT_FLOAT:
	case MAPI_PT_DOUBLE: case MAPI_PT_APPTIME: case MAPI_PT_CURRENCY:
	case MAPI_PT_I8: case MAPI_PT_SYSTIME: case MAPI_PT_CLSID:
	case MAPI_PT_STRING8: case MAPI_PT_UNICODE: case MAPI_PT_BINARY:
		return true;
	default:
		return false;
	}
}

/* The fewest bytes one value of `one` takes on the wire (>= 1). */
static size_t wire_min(uint16_t one, unsigned fl)
{
	if (one == MAPI_PT_UNICODE)
		return 2;
	if (one == MAPI_PT_STRING8)
		return 1;
	if (is_bin(one))
		return (fl & MAPI_PV_BIN32) ? 4 : 2;
	return fixed_size(one);
}

/* Bytes of one element in a mapi_value's multi-valued array. */
static size_t mem_size(uint16_t one)
{
	if (is_str(one))
		return sizeof(char *);
	if (is_bin(one))
		return sizeof(struct mapi_bin);
	if (one == MAPI_PT_FLOAT)
		return sizeof(float);
	if (one == MAPI_PT_I2)
		return sizeof(int16_t);
	if (one == MAPI_PT_LONG)
		return sizeof(int32_t);
	return fixed_size(one);
}

static void read_bin(struct mapi_rd *r, unsigned fl, struct mapi_bin *bin)
{
	uint32_t n = (fl & MAPI_PV_BIN32) ? mapi_rd_u32(r) : mapi_rd_u16(r);
	const uint8_t *p = mapi_rd_bytes(r, n);

	bin->len = p ? n : 0;
	bin->data = p && n ? g_memdup2(p, n) : NULL;
}

/* One single value of `type` into the matching member of *u (a member of
 * either the single union or an element of a multi-valued array, given as
 * a pointer to its storage).  Reader errors are left in r. */
static void read_one(struct mapi_rd *r, uint16_t type, unsigned fl, void *at)
{
	uint32_t u32;
	uint64_t u64;

	switch (type) {
	case MAPI_PT_I2:
		*(int16_t *)at = (int16_t)mapi_rd_u16(r);
		break;
	case MAPI_PT_LONG:
		*(int32_t *)at = (int32_t)mapi_rd_u32(r);
		break;
	case MAPI_PT_ERROR:
		*(uint32_t *)at = mapi_rd_u32(r);
		break;
	case MAPI_PT_FLOAT:
		u32 = mapi_rd_u32(r);
		memcpy(at, &u32, 4);
		break;
	case MAPI_PT_DOUBLE: case MAPI_PT_APPTIME:
		u64 = mapi_rd_u64(r);
		memcpy(at, &u64, 8);
		break;
	case MAPI_PT_CURRENCY: case MAPI_PT_I8: case MAPI_PT_SYSTIME:
		*(uint64_t *)at = mapi_rd_u64(r);
		break;
	case MAPI_PT_BOOLEAN:
		*(bool *)at = mapi_rd_u8(r) != 0;
		break;
	case MAPI_PT_CLSID:
		mapi_rd_guid(r, at);
		break;
	case MAPI_PT_STRING8:
		*(char **)at = mapi_rd_str8(r, SIZE_MAX);
		break;
	case MAPI_PT_UNICODE:
		*(char **)at = mapi_rd_utf16z(r, SIZE_MAX);
		break;
	case MAPI_PT_BINARY: case MAPI_PT_SVREID: case MAPI_PT_OBJECT:
		read_bin(r, fl, at);
		break;
	case MAPI_PT_NULL:
		break;
	default:
		mapi_rd_fail(r, -EPROTO);
	}
}

/* The storage of element i of a multi-valued value. */
static void *mv_at(struct mapi_value *v, uint16_t one, uint32_t i)
{
	return (uint8_t *)v->v.mv.a.str + (size_t)i * mem_size(one);
}

int mapi_pv_read(struct mapi_rd *r, uint32_t tag, unsigned fl,
		 struct mapi_value *v)
{
	uint16_t type = MAPI_TAG_TYPE(tag);
	uint16_t one = type & (uint16_t)~MAPI_PT_MV;
	uint32_t n, i;

	memset(v, 0, sizeof(*v));
	v->tag = tag;
	if (type & MAPI_PT_MV) {
		if (!mv_ok(one)) {
			mapi_rd_fail(r, -EPROTO);
			goto fail;
		}
		n = mapi_rd_u32(r);
		if (mapi_rd_error(r))
			goto fail;
		if (n > mapi_rd_left(r) / wire_min(one, fl)) {
			mapi_rd_fail(r, -EPROTO);
			goto fail;
		}
		v->v.mv.a.str = n ? g_malloc0((size_t)n * mem_size(one))
				  : NULL;
		v->v.mv.count = n;
		for (i = 0; i < n && !mapi_rd_error(r); i++)
			read_one(r, one, fl, mv_at(v, one, i));
	} else if (type == MAPI_PT_UNSPECIFIED || !mapi_ptype_known(type)) {
		mapi_rd_fail(r, -EPROTO);
	} else {
		read_one(r, type, fl, &v->v);
	}
fail:
	if (mapi_rd_error(r)) {
		mapi_value_clear(v);
		return mapi_rd_error(r);
	}
	return 0;
}

/* A string as UTF-16LE; one that is not UTF-8 goes as "". */
static int write_utf16(GByteArray *b, const char *s)
{
	if (mapi_wr_utf16z(b, s ? s : "") == 0)
		return 0;
	mapi_wr_u16(b, 0);
	return -EILSEQ;
}

static void write_bin(GByteArray *b, unsigned fl, const struct mapi_bin *bin)
{
	if (fl & MAPI_PV_BIN32)
		mapi_wr_u32(b, bin->len);
	else
		mapi_wr_u16(b, (uint16_t)bin->len);
	mapi_wr_bytes(b, bin->data, (fl & MAPI_PV_BIN32) ? bin->len
				   : (uint16_t)bin->len);
}

static int write_one(GByteArray *b, uint16_t type, unsigned fl,
		     const void *at)
{
	uint32_t u32;
	uint64_t u64;

	switch (type) {
	case MAPI_PT_I2:
		mapi_wr_u16(b, (uint16_t)*(const int16_t *)at);
		return 0;
	case MAPI_PT_LONG:
		mapi_wr_u32(b, (uint32_t)*(const int32_t *)at);
		return 0;
	case MAPI_PT_ERROR:
		mapi_wr_u32(b, *(const uint32_t *)at);
		return 0;
	case MAPI_PT_FLOAT:
		memcpy(&u32, at, 4);
		mapi_wr_u32(b, u32);
		return 0;
	case MAPI_PT_DOUBLE: case MAPI_PT_APPTIME:
		memcpy(&u64, at, 8);
		mapi_wr_u64(b, u64);
		return 0;
	case MAPI_PT_CURRENCY: case MAPI_PT_I8: case MAPI_PT_SYSTIME:
		mapi_wr_u64(b, *(const uint64_t *)at);
		return 0;
	case MAPI_PT_BOOLEAN:
		mapi_wr_u8(b, *(const bool *)at ? 1 : 0);
		return 0;
	case MAPI_PT_CLSID:
		mapi_wr_guid(b, at);
		return 0;
	case MAPI_PT_STRING8:
		mapi_wr_str8z(b, *(char *const *)at ? *(char *const *)at : "");
		return 0;
	case MAPI_PT_UNICODE:
		return write_utf16(b, *(char *const *)at);
	case MAPI_PT_BINARY: case MAPI_PT_SVREID: case MAPI_PT_OBJECT:
		write_bin(b, fl, at);
		return 0;
	case MAPI_PT_NULL:
		return 0;
	default:
		return -EPROTO;
	}
}

int mapi_pv_write(GByteArray *b, const struct mapi_value *v, unsigned fl)
{
	uint16_t type = MAPI_TAG_TYPE(v->tag);
	uint16_t one = type & (uint16_t)~MAPI_PT_MV;
	int rc = 0, e;
	uint32_t i;

	if (!(type & MAPI_PT_MV))
		return write_one(b, type, fl, &v->v);
	if (!mv_ok(one))
		return -EPROTO;
	mapi_wr_u32(b, v->v.mv.count);
	for (i = 0; i < v->v.mv.count; i++) {
		e = write_one(b, one, fl, mv_at((struct mapi_value *)v, one,
						 i));
		if (e && !rc)
			rc = e;
	}
	return rc;
}

int mapi_tagged_pv_read(struct mapi_rd *r, unsigned fl, struct mapi_value *v)
{
	uint32_t tag = mapi_rd_u32(r);

	if (mapi_rd_error(r)) {
		memset(v, 0, sizeof(*v));
		v->tag = MAPI_TAG(0, MAPI_PT_NULL);
		return mapi_rd_error(r);
	}
	return mapi_pv_read(r, tag, fl, v);
}

int mapi_tagged_pv_write(GByteArray *b, const struct mapi_value *v,
			 unsigned fl)
{
	mapi_wr_u32(b, v->tag);
	return mapi_pv_write(b, v, fl);
}

int mapi_typed_pv_read(struct mapi_rd *r, uint16_t id, unsigned fl,
		       struct mapi_value *v)
{
	uint16_t type = mapi_rd_u16(r);

	if (mapi_rd_error(r)) {
		memset(v, 0, sizeof(*v));
		v->tag = MAPI_TAG(0, MAPI_PT_NULL);
		return mapi_rd_error(r);
	}
	return mapi_pv_read(r, MAPI_TAG(id, type), fl, v);
}

int mapi_typed_pv_write(GByteArray *b, const struct mapi_value *v,
			unsigned fl)
{
	mapi_wr_u16(b, MAPI_TAG_TYPE(v->tag));
	return mapi_pv_write(b, v, fl);
}

static void empty_value(struct mapi_value *v, uint32_t tag)
{
	memset(v, 0, sizeof(*v));
	v->tag = tag;
}

int mapi_flagged_pv_read(struct mapi_rd *r, uint32_t tag, unsigned fl,
			 uint8_t *flag_r, struct mapi_value *v)
{
	uint16_t type = MAPI_TAG_TYPE(tag);
	uint8_t flag;

	empty_value(v, MAPI_TAG(0, MAPI_PT_NULL));
	if (type == MAPI_PT_UNSPECIFIED)
		type = mapi_rd_u16(r);
	flag = mapi_rd_u8(r);
	*flag_r = flag;
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	switch (flag) {
	case MAPI_PV_PRESENT:
		return mapi_pv_read(r, MAPI_TAG(MAPI_TAG_ID(tag), type), fl, v);
	case MAPI_PV_ABSENT:
		return 0;
	case MAPI_PV_ERROR:
		return mapi_pv_read(r, MAPI_TAG_RETYPE(tag, MAPI_PT_ERROR), fl,
				    v);
	default:
		mapi_rd_fail(r, -EPROTO);
		return -EPROTO;
	}
}

/*
 * The value of column `col` from v, in the column's form.  The PtypString
 * and PtypString8 forms stand in for each other (the bytes of the UTF-8
 * text go as 8-bit text; 8-bit text that is UTF-8 goes as UTF-16, other
 * 8-bit text as ""); any other difference, or no value, writes the empty
 * form of the column's type and returns -EPROTO.
 */
static int write_as(GByteArray *b, uint16_t coltype, const struct mapi_value *v,
		    unsigned fl)
{
	struct mapi_value tmp;
	uint16_t type = v ? MAPI_TAG_TYPE(v->tag) : MAPI_PT_NULL;

	if (v && type == coltype)
		return mapi_pv_write(b, v, fl);
	if (v && coltype == MAPI_PT_STRING8 && type == MAPI_PT_UNICODE) {
		mapi_wr_str8z(b, v->v.str ? v->v.str : "");
		return 0;
	}
	if (v && coltype == MAPI_PT_UNICODE && type == MAPI_PT_STRING8)
		return write_utf16(b, v->v.str);
	empty_value(&tmp, MAPI_TAG(0, coltype));
	(void)mapi_pv_write(b, &tmp, fl);
	return v ? -EPROTO : 0;
}

int mapi_flagged_pv_write(GByteArray *b, uint32_t tag, uint8_t flag,
			  const struct mapi_value *v, unsigned fl)
{
	uint16_t type = MAPI_TAG_TYPE(tag);
	bool typed = type == MAPI_PT_UNSPECIFIED;

	if (typed) {
		/* an absent or failed value names no type of its own */
		type = v && flag == MAPI_PV_PRESENT ? MAPI_TAG_TYPE(v->tag)
		       : flag == MAPI_PV_ERROR ? MAPI_PT_ERROR : MAPI_PT_NULL;
		mapi_wr_u16(b, type);
	}
	mapi_wr_u8(b, flag);
	if (flag == MAPI_PV_ABSENT)
		return 0;
	if (flag == MAPI_PV_ERROR) {
		mapi_wr_u32(b, v && MAPI_TAG_TYPE(v->tag) == MAPI_PT_ERROR
			    ? v->v.err : MAPI_E_NOT_FOUND);
		return 0;
	}
	return write_as(b, type, v, fl);
}

int mapi_tstr_read(struct mapi_rd *r, struct mapi_tstr *s)
{
	GString *out;
	const uint8_t *p;

	s->str = NULL;
	s->type = mapi_rd_u8(r);
	switch (s->type) {
	case MAPI_TSTR_NONE:
		break;
	case MAPI_TSTR_EMPTY:
		s->str = g_strdup("");
		break;
	case MAPI_TSTR_8BIT:
		s->str = mapi_rd_str8(r, SIZE_MAX);
		break;
	case MAPI_TSTR_REDUCED:
		/* Latin-1 code points, one byte each, to UTF-8 */
		s->str = mapi_rd_str8(r, SIZE_MAX);
		if (!s->str)
			break;
		out = g_string_new(NULL);
		for (p = (const uint8_t *)s->str; *p; p++)
			g_string_append_unichar(out, *p);
		g_free(s->str);
		s->str = g_string_free(out, FALSE);
		break;
	case MAPI_TSTR_UNICODE:
		s->str = mapi_rd_utf16z(r, SIZE_MAX);
		break;
	default:
		mapi_rd_fail(r, -EPROTO);
	}
	if (mapi_rd_error(r)) {
		mapi_tstr_clear(s);
		return mapi_rd_error(r);
	}
	return 0;
}

/* Whether UTF-8 `s` has only code points up to U+00FF. */
static bool latin1_only(const char *s)
{
	if (!g_utf8_validate(s, -1, NULL))
		return false;
	for (; *s; s = g_utf8_next_char(s))
		if (g_utf8_get_char(s) > 0xFF)
			return false;
	return true;
}

void mapi_tstr_write(GByteArray *b, const struct mapi_tstr *s)
{
	const char *str = s->str ? s->str : "";
	uint8_t type = s->type;

	if (type == MAPI_TSTR_REDUCED && !latin1_only(str))
		type = MAPI_TSTR_UNICODE;
	mapi_wr_u8(b, type);
	switch (type) {
	case MAPI_TSTR_8BIT:
		mapi_wr_str8z(b, str);
		break;
	case MAPI_TSTR_REDUCED:
		for (; *str; str = g_utf8_next_char(str))
			mapi_wr_u8(b, (uint8_t)g_utf8_get_char(str));
		mapi_wr_u8(b, 0);
		break;
	case MAPI_TSTR_UNICODE:
		(void)write_utf16(b, str);
		break;
	default:
		break;
	}
}

void mapi_tstr_clear(struct mapi_tstr *s)
{
	g_free(s->str);
	s->str = NULL;
	s->type = MAPI_TSTR_NONE;
}

int mapi_tags_read(struct mapi_rd *r, uint32_t **tags_r, size_t *n_r)
{
	uint16_t n = mapi_rd_u16(r);
	const uint8_t *p = mapi_rd_bytes(r, (size_t)n * 4);
	struct mapi_rd sub;
	size_t i;

	*tags_r = NULL;
	*n_r = 0;
	if (!p)
		return mapi_rd_error(r);
	mapi_rd_init(&sub, p, (size_t)n * 4);
	*tags_r = n ? g_new(uint32_t, n) : NULL;
	for (i = 0; i < n; i++)
		(*tags_r)[i] = mapi_rd_u32(&sub);
	*n_r = n;
	return 0;
}

void mapi_tags_write(GByteArray *b, const uint32_t *tags, size_t n)
{
	size_t i;

	mapi_wr_u16(b, (uint16_t)n);
	for (i = 0; i < n; i++)
		mapi_wr_u32(b, tags[i]);
}

int mapi_problems_read(struct mapi_rd *r, struct mapi_problem **p_r,
		       size_t *n_r)
{
	uint16_t n = mapi_rd_u16(r);
	const uint8_t *p = mapi_rd_bytes(r, (size_t)n * 10);
	struct mapi_rd sub;
	size_t i;

	*p_r = NULL;
	*n_r = 0;
	if (!p)
		return mapi_rd_error(r);
	mapi_rd_init(&sub, p, (size_t)n * 10);
	*p_r = n ? g_new(struct mapi_problem, n) : NULL;
	for (i = 0; i < n; i++) {
		(*p_r)[i].index = mapi_rd_u16(&sub);
		(*p_r)[i].tag = mapi_rd_u32(&sub);
		(*p_r)[i].err = mapi_rd_u32(&sub);
	}
	*n_r = n;
	return 0;
}

void mapi_problems_write(GByteArray *b, const struct mapi_problem *p,
			 size_t n)
{
	size_t i;

	mapi_wr_u16(b, (uint16_t)n);
	for (i = 0; i < n; i++) {
		mapi_wr_u16(b, p[i].index);
		mapi_wr_u32(b, p[i].tag);
		mapi_wr_u32(b, p[i].err);
	}
}

int mapi_row_read(struct mapi_rd *r, const uint32_t *cols, size_t n,
		  unsigned fl, struct mapi_row *row)
{
	struct mapi_value v;
	size_t i;
	int rc;

	memset(row, 0, sizeof(*row));
	row->flagged = mapi_rd_u8(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (row->flagged > MAPI_ROW_FLAGGED) {
		mapi_rd_fail(r, -EPROTO);
		return -EPROTO;
	}
	row->n = n;
	row->status = g_malloc0(n ? n : 1);
	for (i = 0; i < n; i++) {
		uint16_t type = MAPI_TAG_TYPE(cols[i]);

		if (row->flagged)
			rc = mapi_flagged_pv_read(r, cols[i], fl,
						  &row->status[i], &v);
		else if (type == MAPI_PT_UNSPECIFIED)
			rc = mapi_typed_pv_read(r, MAPI_TAG_ID(cols[i]), fl,
						&v);
		else
			rc = mapi_pv_read(r, cols[i], fl, &v);
		if (rc) {
			mapi_row_clear(row);
			return rc;
		}
		if (row->status[i] != MAPI_PV_ABSENT)
			mapi_props_take(&row->props, &v);
	}
	return 0;
}

int mapi_row_write(GByteArray *b, const struct mapi_row *row,
		   const uint32_t *cols, size_t n, unsigned fl)
{
	const struct mapi_value *v;
	size_t i;
	int rc = 0, e;

	mapi_wr_u8(b, row->flagged ? MAPI_ROW_FLAGGED : MAPI_ROW_STANDARD);
	for (i = 0; i < n; i++) {
		uint16_t type = MAPI_TAG_TYPE(cols[i]);
		uint8_t st = i < row->n ? row->status[i] : MAPI_PV_ABSENT;

		v = mapi_props_get(&row->props, MAPI_TAG_ID(cols[i]));
		if (row->flagged) {
			e = mapi_flagged_pv_write(b, cols[i], st, v, fl);
		} else if (type == MAPI_PT_UNSPECIFIED) {
			struct mapi_value none;

			empty_value(&none, MAPI_TAG(0, MAPI_PT_NULL));
			e = mapi_typed_pv_write(b, v ? v : &none, fl);
		} else {
			e = write_as(b, type, v, fl);
		}
		if (e && !rc)
			rc = e;
	}
	return rc;
}

void mapi_row_clear(struct mapi_row *row)
{
	g_free(row->status);
	mapi_props_clear(&row->props);
	memset(row, 0, sizeof(*row));
}

void mapi_row_from_props(struct mapi_row *row, const uint32_t *cols,
			 size_t n, const struct mapi_props *src)
{
	struct mapi_value v;
	size_t i;

	memset(row, 0, sizeof(*row));
	row->n = n;
	row->status = g_malloc0(n ? n : 1);
	for (i = 0; i < n; i++) {
		const struct mapi_value *s =
			mapi_props_get(src, MAPI_TAG_ID(cols[i]));

		if (s && MAPI_TAG_TYPE(s->tag) != MAPI_PT_ERROR) {
			mapi_value_copy(&v, s);
		} else {
			empty_value(&v, MAPI_TAG_RETYPE(cols[i], MAPI_PT_ERROR));
			v.v.err = s ? s->v.err : MAPI_E_NOT_FOUND;
			row->status[i] = MAPI_PV_ERROR;
			row->flagged = MAPI_ROW_FLAGGED;
		}
		mapi_props_take(&row->props, &v);
	}
}

int mapi_rows_read(struct mapi_rd *r, size_t count, const uint32_t *cols,
		   size_t n, unsigned fl, struct mapi_row **rows_r)
{
	struct mapi_row *rows;
	size_t i;
	int rc;

	*rows_r = NULL;
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	/* a row takes at least its flag byte */
	if (count > mapi_rd_left(r)) {
		mapi_rd_fail(r, -EPROTO);
		return -EPROTO;
	}
	rows = count ? g_new0(struct mapi_row, count) : NULL;
	for (i = 0; i < count; i++) {
		rc = mapi_row_read(r, cols, n, fl, &rows[i]);
		if (rc) {
			mapi_rows_free(rows, i);
			return rc;
		}
	}
	*rows_r = rows;
	return 0;
}

void mapi_rows_free(struct mapi_row *rows, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		mapi_row_clear(&rows[i]);
	g_free(rows);
}
