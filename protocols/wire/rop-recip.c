/*
 * rop-recip.c - recipient rows (MS-OXCDATA 2.8.3) and the three shapes the
 * message ROPs wrap them in (MS-OXCROPS 2.2.6.1.2.1 OpenRecipientRow,
 * 2.2.6.6.2.1 ReadRecipientRow, 2.2.6.5.1.1 ModifyRecipientRow), with the
 * message summary RopOpenMessage and RopOpenEmbeddedMessage share; and
 * the helpers of rop-msg-private.h.  See rop-msg.h.
 */
#include "rop-msg-private.h"

#include <errno.h>
#include <string.h>

/* A recipient row lives inside a 16-bit RecipientRowSize. */
#define RECIP_STR_MAX 0xFFFF

int rmsg_id(struct mapi_rd *r, uint8_t id)
{
	uint8_t got = mapi_rd_u8(r);

	if (!mapi_rd_error(r) && got != id)
		mapi_rd_fail(r, -EPROTO);
	return mapi_rd_error(r);
}

int rmsg_head(struct mapi_rd *r, uint8_t id, struct rop_resp_head *h)
{
	int rc = rop_resp_head_read(r, id, h);

	if (rc) {
		mapi_rd_fail(r, rc);
		return rc;
	}
	return h->rv ? 1 : 0;
}

void rmsg_head_write(GByteArray *b, uint8_t id, const struct rop_resp_head *h)
{
	mapi_wr_u8(b, id);
	mapi_wr_u8(b, h->handle_index);
	mapi_wr_u32(b, h->rv);
}

int rmsg_head_only_read(struct mapi_rd *r, uint8_t id,
			struct rop_resp_head *h)
{
	int rc = rmsg_head(r, id, h);

	return rc < 0 ? rc : 0;
}

int rmsg_mids_read(struct mapi_rd *r, uint64_t **mids_r, size_t *n_r)
{
	size_t n = mapi_rd_u16(r);

	*mids_r = NULL;
	*n_r = 0;
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (n > mapi_rd_left(r) / 8) {
		mapi_rd_fail(r, -EBADMSG);
		return -EBADMSG;
	}
	if (n) {
		*mids_r = g_new(uint64_t, n);
		for (size_t i = 0; i < n; i++)
			(*mids_r)[i] = mapi_rd_u64(r);
	}
	*n_r = n;
	return 0;
}

void rmsg_mids_write(GByteArray *b, const uint64_t *mids, size_t n)
{
	if (n > 0xFFFF)
		n = 0xFFFF;
	mapi_wr_u16(b, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		mapi_wr_u64(b, mids[i]);
}

static char *recip_str(struct mapi_rd *r, bool unicode)
{
	return unicode ? mapi_rd_utf16z(r, RECIP_STR_MAX)
		       : mapi_rd_str8(r, RECIP_STR_MAX);
}

/* A u16-counted run of bytes, copied. */
static void recip_bin(struct mapi_rd *r, struct mapi_bin *bin)
{
	uint16_t n = mapi_rd_u16(r);
	const uint8_t *p = mapi_rd_bytes(r, n);

	if (p && n) {
		bin->data = g_memdup2(p, n);
		bin->len = n;
	}
}

int rop_recip_row_read(struct mapi_rd *r, const uint32_t *cols,
		       size_t n_cols, struct rop_recip_row *row)
{
	uint16_t type, n;
	bool u;
	int rc;

	memset(row, 0, sizeof(*row));
	row->flags = mapi_rd_u16(r);
	type = row->flags & ROP_RECIP_TYPE_MASK;
	u = row->flags & ROP_RECIP_U;
	if (type == ROP_RECIP_X500DN) {
		row->prefix_used = mapi_rd_u8(r);
		row->display_type = mapi_rd_u8(r);
		row->x500dn = mapi_rd_str8(r, RECIP_STR_MAX);
	}
	if (type == ROP_RECIP_PDL1 || type == ROP_RECIP_PDL2) {
		recip_bin(r, &row->entry_id);
		recip_bin(r, &row->search_key);
	}
	if (type == ROP_RECIP_NOTYPE && (row->flags & ROP_RECIP_O))
		row->addr_type = recip_str(r, u);
	if (row->flags & ROP_RECIP_E)
		row->email = recip_str(r, u);
	if (row->flags & ROP_RECIP_D)
		row->display_name = recip_str(r, u);
	if (row->flags & ROP_RECIP_I)
		row->simple_name = recip_str(r, u);
	if (row->flags & ROP_RECIP_T)
		row->transmittable_name = recip_str(r, u);
	n = mapi_rd_u16(r);
	rc = mapi_rd_error(r);
	if (!rc && n > n_cols)
		rc = -EPROTO;
	if (!rc)
		rc = mapi_row_read(r, cols, n, 0, &row->props);
	if (rc) {
		mapi_rd_fail(r, rc);
		rop_recip_row_clear(row);
	}
	return rc;
}

/* Returns 0 or -EINVAL; a string that cannot go goes empty. */
static int recip_str_write(GByteArray *b, const char *s, bool unicode)
{
	if (!unicode) {
		mapi_wr_str8z(b, s ? s : "");
		return 0;
	}
	if (mapi_wr_utf16z(b, s ? s : "") == 0)
		return 0;
	mapi_wr_u16(b, 0);
	return -EINVAL;
}

static void recip_bin_write(GByteArray *b, const struct mapi_bin *bin)
{
	uint16_t n = bin->len > 0xFFFF ? 0xFFFF : (uint16_t)bin->len;

	mapi_wr_u16(b, n);
	mapi_wr_bytes(b, bin->data, n);
}

int rop_recip_row_write(GByteArray *b, const struct rop_recip_row *row,
			const uint32_t *cols, size_t n_cols)
{
	uint16_t type = row->flags & ROP_RECIP_TYPE_MASK;
	bool u = row->flags & ROP_RECIP_U;
	int rc = 0, e;

	mapi_wr_u16(b, row->flags);
	if (type == ROP_RECIP_X500DN) {
		mapi_wr_u8(b, row->prefix_used);
		mapi_wr_u8(b, row->display_type);
		mapi_wr_str8z(b, row->x500dn ? row->x500dn : "");
	}
	if (type == ROP_RECIP_PDL1 || type == ROP_RECIP_PDL2) {
		recip_bin_write(b, &row->entry_id);
		recip_bin_write(b, &row->search_key);
	}
	if (type == ROP_RECIP_NOTYPE && (row->flags & ROP_RECIP_O))
		rc |= recip_str_write(b, row->addr_type, u);
	if (row->flags & ROP_RECIP_E)
		rc |= recip_str_write(b, row->email, u);
	if (row->flags & ROP_RECIP_D)
		rc |= recip_str_write(b, row->display_name, u);
	if (row->flags & ROP_RECIP_I)
		rc |= recip_str_write(b, row->simple_name, u);
	if (row->flags & ROP_RECIP_T)
		rc |= recip_str_write(b, row->transmittable_name, u);
	if (row->props.n > n_cols || row->props.n > 0xFFFF) {
		/* no columns to write the values against: an empty row */
		mapi_wr_u16(b, 0);
		mapi_wr_u8(b, MAPI_ROW_STANDARD);
		return -EINVAL;
	}
	mapi_wr_u16(b, (uint16_t)row->props.n);
	e = mapi_row_write(b, &row->props, cols, row->props.n, 0);
	return (rc || e) ? -EINVAL : 0;
}

void rop_recip_row_clear(struct rop_recip_row *row)
{
	g_free(row->x500dn);
	g_free(row->entry_id.data);
	g_free(row->search_key.data);
	g_free(row->addr_type);
	g_free(row->email);
	g_free(row->display_name);
	g_free(row->simple_name);
	g_free(row->transmittable_name);
	mapi_row_clear(&row->props);
	memset(row, 0, sizeof(*row));
}

void rop_recip_clear(struct rop_recip *rc)
{
	rop_recip_row_clear(&rc->row);
	memset(rc, 0, sizeof(*rc));
}

/* A RecipientRow of exactly `size` bytes. */
static int recip_sized_read(struct mapi_rd *r, uint16_t size,
			    const uint32_t *cols, size_t n_cols,
			    struct rop_recip_row *row)
{
	struct mapi_rd sub = mapi_rd_sub(r, size);
	int rc = mapi_rd_error(&sub);

	if (!rc)
		rc = rop_recip_row_read(&sub, cols, n_cols, row);
	if (!rc && mapi_rd_left(&sub)) {
		rop_recip_row_clear(row);
		rc = -EPROTO;
	}
	if (rc)
		mapi_rd_fail(r, rc);
	return rc;
}

/* RecipientRowSize, then the row; the size is filled in after. */
static int recip_sized_write(GByteArray *b, const struct rop_recip_row *row,
			     const uint32_t *cols, size_t n_cols)
{
	size_t at = b->len, start;
	int rc;

	mapi_wr_u16(b, 0);
	start = b->len;
	rc = rop_recip_row_write(b, row, cols, n_cols);
	if (b->len - start > 0xFFFF) {
		g_byte_array_set_size(b, start);
		return -EINVAL;
	}
	mapi_wr_u16_at(b, at, (uint16_t)(b->len - start));
	return rc;
}

/* The fixed bytes before each kind of row: the least a row can take. */
#define OPEN_ROW_MIN 7
#define READ_ROW_MIN 11
#define MODIFY_ROW_MIN 7

enum recip_kind { RECIP_OPEN, RECIP_READ, RECIP_MODIFY };

static int recip_read(struct mapi_rd *r, enum recip_kind kind,
		      const uint32_t *cols, size_t n_cols,
		      struct rop_recip *rc)
{
	uint16_t size;

	memset(rc, 0, sizeof(*rc));
	if (kind != RECIP_OPEN)
		rc->row_id = mapi_rd_u32(r);
	rc->recip_type = mapi_rd_u8(r);
	if (kind != RECIP_MODIFY) {
		rc->code_page = mapi_rd_u16(r);
		rc->reserved = mapi_rd_u16(r);
	}
	size = mapi_rd_u16(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (kind == RECIP_MODIFY && size == 0)
		return 0;	/* the recipient is to be removed */
	rc->has_row = true;
	return recip_sized_read(r, size, cols, n_cols, &rc->row);
}

static int recip_write(GByteArray *b, enum recip_kind kind,
		       const uint32_t *cols, size_t n_cols,
		       const struct rop_recip *rc)
{
	if (kind != RECIP_OPEN)
		mapi_wr_u32(b, rc->row_id);
	mapi_wr_u8(b, rc->recip_type);
	if (kind != RECIP_MODIFY) {
		mapi_wr_u16(b, rc->code_page);
		mapi_wr_u16(b, rc->reserved);
	}
	if (kind == RECIP_MODIFY && !rc->has_row) {
		mapi_wr_u16(b, 0);
		return 0;
	}
	return recip_sized_write(b, &rc->row, cols, n_cols);
}

static void recips_free(struct rop_recip *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rop_recip_clear(&rows[i]);
	g_free(rows);
}

static int recips_read(struct mapi_rd *r, enum recip_kind kind, size_t n,
		       const uint32_t *cols, size_t n_cols,
		       struct rop_recip **rows_r, size_t *n_r)
{
	size_t min = kind == RECIP_READ ? READ_ROW_MIN
		   : kind == RECIP_OPEN ? OPEN_ROW_MIN : MODIFY_ROW_MIN;
	struct rop_recip *rows;
	int rc = 0;

	*rows_r = NULL;
	*n_r = 0;
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (n > mapi_rd_left(r) / min) {
		mapi_rd_fail(r, -EBADMSG);
		return -EBADMSG;
	}
	if (!n)
		return 0;
	rows = g_new0(struct rop_recip, n);
	for (size_t i = 0; i < n && !rc; i++)
		rc = recip_read(r, kind, cols, n_cols, &rows[i]);
	if (rc) {
		recips_free(rows, n);
		return rc;
	}
	*rows_r = rows;
	*n_r = n;
	return 0;
}

static int recips_write(GByteArray *b, enum recip_kind kind,
			const struct rop_recip *rows, size_t n,
			const uint32_t *cols, size_t n_cols)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (recip_write(b, kind, cols, n_cols, &rows[i]))
			rc = -EINVAL;
	return rc;
}

int rmsg_recips8_read(struct mapi_rd *r, bool read_rows, const uint32_t *cols,
		      size_t n_cols, struct rop_recip **rows_r, size_t *n_r)
{
	size_t n = mapi_rd_u8(r);

	return recips_read(r, read_rows ? RECIP_READ : RECIP_OPEN, n, cols,
			   n_cols, rows_r, n_r);
}

int rmsg_recips8_write(GByteArray *b, bool read_rows,
		       const struct rop_recip *rows, size_t n,
		       const uint32_t *cols, size_t n_cols)
{
	int rc = 0;

	if (n > 0xFF) {
		n = 0xFF;
		rc = -EINVAL;
	}
	mapi_wr_u8(b, (uint8_t)n);
	if (recips_write(b, read_rows ? RECIP_READ : RECIP_OPEN, rows, n, cols,
			 n_cols))
		rc = -EINVAL;
	return rc;
}

int rmsg_recips16_read(struct mapi_rd *r, const uint32_t *cols, size_t n_cols,
		       struct rop_recip **rows_r, size_t *n_r)
{
	size_t n = mapi_rd_u16(r);

	return recips_read(r, RECIP_MODIFY, n, cols, n_cols, rows_r, n_r);
}

int rmsg_recips16_write(GByteArray *b, const struct rop_recip *rows, size_t n,
			const uint32_t *cols, size_t n_cols)
{
	int rc = 0;

	if (n > 0xFFFF) {
		n = 0xFFFF;
		rc = -EINVAL;
	}
	mapi_wr_u16(b, (uint16_t)n);
	if (recips_write(b, RECIP_MODIFY, rows, n, cols, n_cols))
		rc = -EINVAL;
	return rc;
}

void rmsg_recips_free(struct rop_recip *rows, size_t n)
{
	recips_free(rows, n);
}

int rmsg_msg_info_read(struct mapi_rd *r, struct rop_msg_info *m)
{
	int rc;

	memset(m, 0, sizeof(*m));
	m->has_named_props = mapi_rd_u8(r);
	rc = mapi_tstr_read(r, &m->subject_prefix);
	if (!rc)
		rc = mapi_tstr_read(r, &m->normalized_subject);
	if (!rc) {
		m->recip_count = mapi_rd_u16(r);
		rc = mapi_tags_read(r, &m->cols, &m->n_cols);
	}
	if (!rc)
		rc = rmsg_recips8_read(r, false, m->cols, m->n_cols, &m->rows,
				       &m->n_rows);
	if (!rc)
		rc = mapi_rd_error(r);
	if (rc) {
		mapi_rd_fail(r, rc);
		rop_msg_info_clear(m);
	}
	return rc;
}

int rmsg_msg_info_write(GByteArray *b, const struct rop_msg_info *m)
{
	size_t n_cols = m->n_cols > 0xFFFF ? 0xFFFF : m->n_cols;

	mapi_wr_u8(b, m->has_named_props);
	mapi_tstr_write(b, &m->subject_prefix);
	mapi_tstr_write(b, &m->normalized_subject);
	mapi_wr_u16(b, m->recip_count);
	mapi_tags_write(b, m->cols, n_cols);
	return rmsg_recips8_write(b, false, m->rows, m->n_rows, m->cols,
				  n_cols);
}

void rop_msg_info_clear(struct rop_msg_info *m)
{
	mapi_tstr_clear(&m->subject_prefix);
	mapi_tstr_clear(&m->normalized_subject);
	g_free(m->cols);
	recips_free(m->rows, m->n_rows);
	memset(m, 0, sizeof(*m));
}
