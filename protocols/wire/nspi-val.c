/*
 * nspi-val.c - the address-book forms of property values of MAPI over
 * HTTP: AddressBookPropertyValue, AddressBookTaggedPropertyValue,
 * AddressBookPropertyValueList, AddressBookTypedPropertyValue,
 * AddressBookFlaggedPropertyValue(WithType) and AddressBookPropertyRow
 * (MS-OXCMAPIHTTP 2.2.1.1-2.2.1.8), read and written; see nspi.h.
 *
 * Past its HasValue byte a value is MS-OXCDATA's PropertyValue with
 * 32-bit byte counts, which mapi-propval.c reads and writes; only the
 * multi-valued strings and binaries differ, each element having a HasValue
 * byte of its own, and those are here.
 */
#include "nspi.h"

#include <errno.h>
#include <string.h>

#include "mapi-propval.h"
#include "mapi-tags.h"

/* Types whose value is preceded by HasValue. */
static bool has_value_byte(uint16_t type)
{
	return (type & MAPI_PT_MV) || type == MAPI_PT_STRING8 ||
	       type == MAPI_PT_UNICODE || type == MAPI_PT_BINARY;
}

/* Multi-valued types whose elements have a HasValue byte each. */
static bool mv_marked(uint16_t type)
{
	uint16_t one = type & (uint16_t)~MAPI_PT_MV;

	return (type & MAPI_PT_MV) &&
	       (one == MAPI_PT_STRING8 || one == MAPI_PT_UNICODE ||
		one == MAPI_PT_BINARY);
}

/* Whether a value of this type can travel in an address-book form; an
 * absent value is checked as well, so that what is accepted writes back. */
static bool type_ok(uint16_t type)
{
	uint16_t one = type & (uint16_t)~MAPI_PT_MV;

	if (!(type & MAPI_PT_MV))
		return type != MAPI_PT_UNSPECIFIED && mapi_ptype_known(type);
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

static void read_bin(struct mapi_rd *r, struct mapi_bin *bin)
{
	uint32_t n = mapi_rd_u32(r);
	const uint8_t *p = mapi_rd_bytes(r, n);

	if (!p || n == 0)
		return;
	bin->len = n;
	bin->data = g_memdup2(p, n);
}

/* A multi-valued string or binary: u32 count, then per element a HasValue
 * byte and, when it is not 0, the element.  An absent string stays NULL,
 * an absent binary empty. */
static int read_mv_marked(struct mapi_rd *r, uint16_t type,
			  struct mapi_value *v)
{
	uint16_t one = type & (uint16_t)~MAPI_PT_MV;
	bool bin = one == MAPI_PT_BINARY;
	uint32_t n = mapi_rd_u32(r), i;

	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	/* each element takes its HasValue byte at least */
	if (n > mapi_rd_left(r))
		return -EPROTO;
	v->v.mv.count = n;
	if (bin)
		v->v.mv.a.bin = g_new0(struct mapi_bin, n ? n : 1);
	else
		v->v.mv.a.str = g_new0(char *, n ? n : 1);
	for (i = 0; i < n && !mapi_rd_error(r); i++) {
		if (mapi_rd_u8(r) == 0)
			continue;
		if (bin)
			read_bin(r, &v->v.mv.a.bin[i]);
		else if (one == MAPI_PT_UNICODE)
			v->v.mv.a.str[i] = mapi_rd_utf16z(r, mapi_rd_left(r));
		else
			v->v.mv.a.str[i] = mapi_rd_str8(r, mapi_rd_left(r));
	}
	return mapi_rd_error(r);
}

int nspi_value_read(struct mapi_rd *r, uint32_t tag, struct nspi_val *out)
{
	uint16_t type = MAPI_TAG_TYPE(tag);
	int rc;

	memset(out, 0, sizeof(*out));
	out->v.tag = tag;
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (!type_ok(type)) {
		mapi_rd_fail(r, -EPROTO);
		return -EPROTO;
	}
	if (has_value_byte(type)) {
		uint8_t hv = mapi_rd_u8(r);

		if (mapi_rd_error(r))
			return mapi_rd_error(r);
		if (hv == 0) {
			out->state = NSPI_VAL_NULL;
			return 0;
		}
	}
	if (mv_marked(type))
		rc = read_mv_marked(r, type, &out->v);
	else
		rc = mapi_pv_read(r, tag, MAPI_PV_BIN32, &out->v);
	if (rc == 0)
		rc = mapi_rd_error(r);
	if (rc < 0) {
		nspi_val_clear(out);
		if (!mapi_rd_error(r))
			mapi_rd_fail(r, rc);
	}
	return rc;
}

/* A string the model holds; one that will not convert goes empty, so
 * that the body stays well-formed. */
static void write_string(GByteArray *b, uint16_t type, const char *s)
{
	if (type == MAPI_PT_UNICODE) {
		if (mapi_wr_utf16z(b, s) < 0)
			mapi_wr_u16(b, 0);
	} else {
		mapi_wr_str8z(b, s);
	}
}

static void write_mv_marked(GByteArray *b, uint16_t type,
			    const struct mapi_value *v)
{
	uint16_t one = type & (uint16_t)~MAPI_PT_MV;
	uint32_t i, n = v->v.mv.count;

	mapi_wr_u32(b, n);
	for (i = 0; i < n; i++) {
		if (one == MAPI_PT_BINARY) {
			mapi_wr_u8(b, 0xFF);
			mapi_wr_u32(b, v->v.mv.a.bin[i].len);
			if (v->v.mv.a.bin[i].len)
				mapi_wr_bytes(b, v->v.mv.a.bin[i].data,
					      v->v.mv.a.bin[i].len);
			continue;
		}
		mapi_wr_u8(b, v->v.mv.a.str[i] ? 0xFF : 0x00);
		if (v->v.mv.a.str[i])
			write_string(b, one, v->v.mv.a.str[i]);
	}
}

void nspi_value_write(GByteArray *b, const struct nspi_val *v)
{
	uint16_t type = MAPI_TAG_TYPE(v->v.tag);
	bool none = v->state == NSPI_VAL_NULL ||
		    v->state == NSPI_VAL_MISSING;

	if ((type == MAPI_PT_STRING8 || type == MAPI_PT_UNICODE) &&
	    !v->v.v.str)
		none = true;
	if (has_value_byte(type)) {
		mapi_wr_u8(b, none ? 0x00 : 0xFF);
		if (none)
			return;
	} else if (none) {
		/* a fixed-size value cannot be absent here: zeros */
		struct mapi_value zero = { .tag = v->v.tag };

		(void)mapi_pv_write(b, &zero, MAPI_PV_BIN32);
		return;
	}
	if (mv_marked(type))
		write_mv_marked(b, type, &v->v);
	else
		(void)mapi_pv_write(b, &v->v, MAPI_PV_BIN32);
}

int nspi_tagged_read(struct mapi_rd *r, struct nspi_val *v)
{
	uint32_t tag = mapi_rd_u32(r);

	if (mapi_rd_error(r)) {
		memset(v, 0, sizeof(*v));
		return mapi_rd_error(r);
	}
	return nspi_value_read(r, tag, v);
}

void nspi_tagged_write(GByteArray *b, const struct nspi_val *v)
{
	mapi_wr_u32(b, v->v.tag);
	nspi_value_write(b, v);
}

void nspi_val_clear(struct nspi_val *v)
{
	mapi_value_clear(&v->v);
	v->state = NSPI_VAL_OK;
}

void nspi_vals_clear(struct nspi_vals *l)
{
	uint32_t i;

	for (i = 0; i < l->n; i++)
		nspi_val_clear(&l->v[i]);
	g_free(l->v);
	memset(l, 0, sizeof(*l));
}

int nspi_vals_read(struct mapi_rd *r, struct nspi_vals *l)
{
	uint32_t n = mapi_rd_u32(r), i;
	int rc;

	memset(l, 0, sizeof(*l));
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	/* a tagged value takes at least its tag */
	if (n > mapi_rd_left(r) / 4) {
		mapi_rd_fail(r, -EBADMSG);
		return -EBADMSG;
	}
	l->v = g_new0(struct nspi_val, n ? n : 1);
	for (i = 0; i < n; i++) {
		rc = nspi_tagged_read(r, &l->v[i]);
		if (rc < 0) {
			nspi_vals_clear(l);
			return rc;
		}
		l->n = i + 1;
	}
	return 0;
}

void nspi_vals_write(GByteArray *b, const struct nspi_vals *l)
{
	uint32_t i;

	mapi_wr_u32(b, l->n);
	for (i = 0; i < l->n; i++)
		nspi_tagged_write(b, &l->v[i]);
}

void nspi_row_clear(struct nspi_row *row)
{
	nspi_vals_clear(&row->vals);
	row->flag = 0;
}

/* One column of a row. */
static int read_cell(struct mapi_rd *r, uint8_t flagged, uint32_t col,
		     struct nspi_val *v)
{
	uint32_t tag = col;
	uint8_t flag = 0;

	memset(v, 0, sizeof(*v));
	if (MAPI_TAG_TYPE(col) == MAPI_PT_UNSPECIFIED)
		tag = MAPI_TAG_RETYPE(col, mapi_rd_u16(r));
	if (flagged)
		flag = mapi_rd_u8(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	switch (flag) {
	case 0x0:
		return nspi_value_read(r, tag, v);
	case 0x1:
		v->v.tag = tag;
		v->state = NSPI_VAL_MISSING;
		return 0;
	case 0xA:
		v->v.tag = MAPI_TAG_RETYPE(col, MAPI_PT_ERROR);
		v->v.v.err = mapi_rd_u32(r);
		v->state = NSPI_VAL_ERROR;
		return mapi_rd_error(r);
	default:
		mapi_rd_fail(r, -EPROTO);
		return -EPROTO;
	}
}

int nspi_row_read(struct mapi_rd *r, const struct nspi_tags *cols,
		  struct nspi_row *row)
{
	uint32_t i;
	int rc;

	memset(row, 0, sizeof(*row));
	row->flag = mapi_rd_u8(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (row->flag > 1) {
		mapi_rd_fail(r, -EPROTO);
		return -EPROTO;
	}
	row->vals.v = g_new0(struct nspi_val, cols->n ? cols->n : 1);
	for (i = 0; i < cols->n; i++) {
		row->vals.n = i + 1;
		rc = read_cell(r, row->flag, cols->tags[i], &row->vals.v[i]);
		if (rc < 0) {
			nspi_row_clear(row);
			return rc;
		}
	}
	return 0;
}

/* Whether v can go as an unflagged value of column `col`. */
static bool cell_plain(uint32_t col, const struct nspi_val *v)
{
	uint16_t ct = MAPI_TAG_TYPE(col);

	if (v->state == NSPI_VAL_MISSING || v->state == NSPI_VAL_ERROR)
		return false;
	return ct == MAPI_PT_UNSPECIFIED || MAPI_TAG_TYPE(v->v.tag) == ct;
}

static void write_cell(GByteArray *b, bool flagged, uint32_t col,
		       const struct nspi_val *v)
{
	bool unspec = MAPI_TAG_TYPE(col) == MAPI_PT_UNSPECIFIED;
	bool plain = v && cell_plain(col, v);

	if (!flagged) {
		if (unspec)
			mapi_wr_u16(b, MAPI_TAG_TYPE(v->v.tag));
		nspi_value_write(b, v);
		return;
	}
	if (plain) {
		if (unspec)
			mapi_wr_u16(b, MAPI_TAG_TYPE(v->v.tag));
		mapi_wr_u8(b, 0x0);
		nspi_value_write(b, v);
	} else if (v && v->state == NSPI_VAL_MISSING) {
		if (unspec)
			mapi_wr_u16(b, MAPI_TAG_TYPE(v->v.tag));
		mapi_wr_u8(b, 0x1);
	} else {
		if (unspec)
			mapi_wr_u16(b, MAPI_PT_ERROR);
		mapi_wr_u8(b, 0xA);
		mapi_wr_u32(b, v && v->state == NSPI_VAL_ERROR ?
			    v->v.v.err : MAPI_E_NOT_FOUND);
	}
}

void nspi_row_write(GByteArray *b, const struct nspi_tags *cols,
		    const struct nspi_row *row)
{
	bool flagged = row->flag != 0 || row->vals.n < cols->n;
	uint32_t i;

	for (i = 0; i < cols->n && !flagged; i++)
		flagged = !cell_plain(cols->tags[i], &row->vals.v[i]);
	mapi_wr_u8(b, flagged ? 1 : 0);
	for (i = 0; i < cols->n; i++)
		write_cell(b, flagged, cols->tags[i],
			   i < row->vals.n ? &row->vals.v[i] : NULL);
}

void nspi_rowset_clear(struct nspi_rowset *rs)
{
	uint32_t i;

	for (i = 0; i < rs->n; i++)
		nspi_row_clear(&rs->rows[i]);
	g_free(rs->rows);
	nspi_tags_clear(&rs->cols);
	memset(rs, 0, sizeof(*rs));
}

int nspi_rowset_read(struct mapi_rd *r, struct nspi_rowset *rs)
{
	uint32_t n, i;
	int rc;

	memset(rs, 0, sizeof(*rs));
	rc = nspi_tags_read(r, &rs->cols);
	if (rc < 0)
		return rc;
	/* every cell then takes a byte at least, bounding rows x columns
	 * by the body's size */
	for (i = 0; i < rs->cols.n; i++) {
		if (MAPI_TAG_TYPE(rs->cols.tags[i]) == MAPI_PT_NULL) {
			rc = -EPROTO;
			goto fail;
		}
	}
	n = mapi_rd_u32(r);
	rc = mapi_rd_error(r);
	if (rc < 0)
		goto fail;
	if (n > NSPI_MAX_ROWS || n > mapi_rd_left(r)) {
		rc = n > NSPI_MAX_ROWS ? -EPROTO : -EBADMSG;
		goto fail;
	}
	rs->rows = g_new0(struct nspi_row, n ? n : 1);
	for (i = 0; i < n; i++) {
		rc = nspi_row_read(r, &rs->cols, &rs->rows[i]);
		if (rc < 0)
			goto fail;
		rs->n = i + 1;
	}
	return 0;
fail:
	nspi_rowset_clear(rs);
	if (!mapi_rd_error(r))
		mapi_rd_fail(r, rc);
	return rc;
}

void nspi_rowset_write(GByteArray *b, const struct nspi_rowset *rs)
{
	uint32_t i;

	nspi_tags_write(b, &rs->cols);
	mapi_wr_u32(b, rs->n);
	for (i = 0; i < rs->n; i++)
		nspi_row_write(b, &rs->cols, &rs->rows[i]);
}

static int res_val_read(struct mapi_rd *r, struct mapi_value *v)
{
	struct nspi_val nv;
	int rc = nspi_tagged_read(r, &nv);

	if (rc < 0) {
		memset(v, 0, sizeof(*v));
		return rc;
	}
	/* an absent string stays a NULL one, which writes back absent */
	*v = nv.v;
	return 0;
}

static void res_val_write(GByteArray *b, const struct mapi_value *v)
{
	struct nspi_val nv = { .v = *v, .state = NSPI_VAL_OK };

	nspi_tagged_write(b, &nv);
}

const struct mapi_res_form nspi_res_form = {
	.count_width = 4,
	.val_marker = true,
	.val_read = res_val_read,
	.val_write = res_val_write,
};

const struct mapi_value *nspi_vals_get(const struct nspi_vals *l,
				       uint32_t tag)
{
	uint32_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].state == NSPI_VAL_OK && l->v[i].v.tag == tag)
			return &l->v[i].v;
	return NULL;
}

void nspi_vals_to_props(const struct nspi_vals *l, struct mapi_props *p)
{
	struct mapi_value v;
	uint32_t i;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].state != NSPI_VAL_OK)
			continue;
		mapi_value_copy(&v, &l->v[i].v);
		mapi_props_take(p, &v);
	}
}

void nspi_row_from_props(struct nspi_row *row, const struct nspi_tags *cols,
			 const struct mapi_props *p)
{
	uint32_t i;

	memset(row, 0, sizeof(*row));
	row->vals.v = g_new0(struct nspi_val, cols->n ? cols->n : 1);
	row->vals.n = cols->n;
	for (i = 0; i < cols->n; i++) {
		uint32_t col = cols->tags[i];
		uint16_t ct = MAPI_TAG_TYPE(col);
		const struct mapi_value *pv = mapi_props_get(p,
							     MAPI_TAG_ID(col));
		struct nspi_val *v = &row->vals.v[i];
		uint16_t pt = pv ? MAPI_TAG_TYPE(pv->tag) : 0;

		if (pv && (pt == ct || ct == MAPI_PT_UNSPECIFIED ||
			   (ct == MAPI_PT_STRING8 && pt == MAPI_PT_UNICODE) ||
			   (ct == MAPI_PT_UNICODE && pt == MAPI_PT_STRING8))) {
			mapi_value_copy(&v->v, pv);
			if (ct != MAPI_PT_UNSPECIFIED)
				v->v.tag = col;
			continue;
		}
		v->v.tag = MAPI_TAG_RETYPE(col, MAPI_PT_ERROR);
		v->v.v.err = MAPI_E_NOT_FOUND;
		v->state = NSPI_VAL_ERROR;
		row->flag = 1;
	}
}
