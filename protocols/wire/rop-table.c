/*
 * rop-table.c - the table ROPs, MS-OXCROPS 2.2.5: RopSetColumns,
 * RopSortTable, RopRestrict, RopQueryRows, RopQueryPosition, RopSeekRow
 * and RopFindRow.  Rows are MS-OXCDATA 2.8 PropertyRows against the
 * table's columns (wire/mapi-propval.h); restrictions (MS-OXCDATA 2.12)
 * travel here as their bytes.  See rop.h.
 */
#include "rop.h"
#include "rop-private.h"

#include <errno.h>
#include <string.h>

static void status_write(GByteArray *b, uint8_t id,
			 const struct rop_table_status_resp *s)
{
	rop_head_write(b, id, &s->head);
	if (!s->head.rv)
		mapi_wr_u8(b, s->table_status);
}

static int status_read(struct mapi_rd *r, uint8_t id,
		       struct rop_table_status_resp *s)
{
	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, id, &s->head) || s->head.rv)
		return mapi_rd_error(r);
	s->table_status = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_set_columns_req_write(GByteArray *b,
			       const struct rop_set_columns_req *q)
{
	rop_req_head_write(b, ROP_SET_COLUMNS, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u8(b, q->flags);
	mapi_tags_write(b, q->cols, q->n_cols);
}

int rop_set_columns_req_read(struct mapi_rd *r, struct rop_set_columns_req *q)
{
	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_SET_COLUMNS, &q->logon_id,
			  &q->input_handle_index);
	q->flags = mapi_rd_u8(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	return mapi_tags_read(r, &q->cols, &q->n_cols);
}

void rop_set_columns_req_clear(struct rop_set_columns_req *q)
{
	g_free(q->cols);
	q->cols = NULL;
	q->n_cols = 0;
}

void rop_set_columns_resp_write(GByteArray *b,
				const struct rop_table_status_resp *s)
{
	status_write(b, ROP_SET_COLUMNS, s);
}

int rop_set_columns_resp_read(struct mapi_rd *r,
			      struct rop_table_status_resp *s)
{
	return status_read(r, ROP_SET_COLUMNS, s);
}

void rop_sort_table_req_write(GByteArray *b,
			      const struct rop_sort_table_req *q)
{
	size_t i;

	rop_req_head_write(b, ROP_SORT_TABLE, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u8(b, q->flags);
	mapi_wr_u16(b, (uint16_t)q->n_sorts);
	mapi_wr_u16(b, q->categorized_count);
	mapi_wr_u16(b, q->expanded_count);
	for (i = 0; i < q->n_sorts; i++) {
		/* PropertyType then PropertyId: the tag's two halves */
		mapi_wr_u32(b, q->sorts[i].tag);
		mapi_wr_u8(b, q->sorts[i].order);
	}
}

int rop_sort_table_req_read(struct mapi_rd *r, struct rop_sort_table_req *q)
{
	struct mapi_rd sub;
	uint16_t n, i;

	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_SORT_TABLE, &q->logon_id,
			  &q->input_handle_index);
	q->flags = mapi_rd_u8(r);
	n = mapi_rd_u16(r);
	q->categorized_count = mapi_rd_u16(r);
	q->expanded_count = mapi_rd_u16(r);
	sub = mapi_rd_sub(r, (size_t)n * 5);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	/* MS-OXCROPS 2.2.5.3.1: categories are among the sort orders, and
	 * the expanded ones among the categories */
	if (q->categorized_count > n || q->expanded_count > q->categorized_count) {
		mapi_rd_fail(r, -EPROTO);
		return -EPROTO;
	}
	q->sorts = n ? g_new(struct rop_sort_order, n) : NULL;
	q->n_sorts = n;
	for (i = 0; i < n; i++) {
		q->sorts[i].tag = mapi_rd_u32(&sub);
		q->sorts[i].order = mapi_rd_u8(&sub);
	}
	return 0;
}

void rop_sort_table_req_clear(struct rop_sort_table_req *q)
{
	g_free(q->sorts);
	q->sorts = NULL;
	q->n_sorts = 0;
}

void rop_sort_table_resp_write(GByteArray *b,
			       const struct rop_table_status_resp *s)
{
	status_write(b, ROP_SORT_TABLE, s);
}

int rop_sort_table_resp_read(struct mapi_rd *r,
			     struct rop_table_status_resp *s)
{
	return status_read(r, ROP_SORT_TABLE, s);
}

/* A u16 count and that many bytes, copied. */
static uint8_t *read_blob(struct mapi_rd *r, uint16_t *len_r)
{
	uint16_t n = mapi_rd_u16(r);
	const uint8_t *p = mapi_rd_bytes(r, n);

	*len_r = p ? n : 0;
	return p && n ? g_memdup2(p, n) : NULL;
}

void rop_restrict_req_write(GByteArray *b, const struct rop_restrict_req *q)
{
	rop_req_head_write(b, ROP_RESTRICT, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u8(b, q->flags);
	mapi_wr_u16(b, q->restriction_len);
	mapi_wr_bytes(b, q->restriction, q->restriction_len);
}

int rop_restrict_req_read(struct mapi_rd *r, struct rop_restrict_req *q)
{
	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_RESTRICT, &q->logon_id,
			  &q->input_handle_index);
	q->flags = mapi_rd_u8(r);
	q->restriction = read_blob(r, &q->restriction_len);
	if (mapi_rd_error(r))
		rop_restrict_req_clear(q);
	return mapi_rd_error(r);
}

void rop_restrict_req_clear(struct rop_restrict_req *q)
{
	g_free(q->restriction);
	q->restriction = NULL;
	q->restriction_len = 0;
}

void rop_restrict_resp_write(GByteArray *b,
			     const struct rop_table_status_resp *s)
{
	status_write(b, ROP_RESTRICT, s);
}

int rop_restrict_resp_read(struct mapi_rd *r, struct rop_table_status_resp *s)
{
	return status_read(r, ROP_RESTRICT, s);
}

void rop_query_rows_req_write(GByteArray *b,
			      const struct rop_query_rows_req *q)
{
	rop_req_head_write(b, ROP_QUERY_ROWS, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u8(b, q->flags);
	mapi_wr_u8(b, q->forward_read);
	mapi_wr_u16(b, q->row_count);
}

int rop_query_rows_req_read(struct mapi_rd *r, struct rop_query_rows_req *q)
{
	rop_req_head_read(r, ROP_QUERY_ROWS, &q->logon_id,
			  &q->input_handle_index);
	q->flags = mapi_rd_u8(r);
	q->forward_read = mapi_rd_u8(r);
	q->row_count = mapi_rd_u16(r);
	return mapi_rd_error(r);
}

int rop_query_rows_resp_write(GByteArray *b,
			      const struct rop_query_rows_resp *s,
			      const uint32_t *cols, size_t n_cols)
{
	uint16_t i;
	int rc = 0, e;

	rop_head_write(b, ROP_QUERY_ROWS, &s->head);
	if (s->head.rv)
		return 0;
	mapi_wr_u8(b, s->origin);
	mapi_wr_u16(b, s->row_count);
	for (i = 0; i < s->row_count; i++) {
		e = mapi_row_write(b, &s->rows[i], cols, n_cols, 0);
		if (e && !rc)
			rc = e;
	}
	return rc;
}

int rop_query_rows_resp_read(struct mapi_rd *r, struct rop_query_rows_resp *s,
			     const uint32_t *cols, size_t n_cols)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, ROP_QUERY_ROWS, &s->head) || s->head.rv)
		return mapi_rd_error(r);
	s->origin = mapi_rd_u8(r);
	s->row_count = mapi_rd_u16(r);
	rc = mapi_rows_read(r, s->row_count, cols, n_cols, 0, &s->rows);
	if (rc)
		s->row_count = 0;
	return rc;
}

void rop_query_rows_resp_clear(struct rop_query_rows_resp *s)
{
	mapi_rows_free(s->rows, s->row_count);
	s->rows = NULL;
	s->row_count = 0;
}

void rop_query_position_req_write(GByteArray *b,
				  const struct rop_query_position_req *q)
{
	rop_req_head_write(b, ROP_QUERY_POSITION, q->logon_id,
			   q->input_handle_index);
}

int rop_query_position_req_read(struct mapi_rd *r,
				struct rop_query_position_req *q)
{
	return rop_req_head_read(r, ROP_QUERY_POSITION, &q->logon_id,
				 &q->input_handle_index);
}

void rop_query_position_resp_write(GByteArray *b,
				   const struct rop_query_position_resp *s)
{
	rop_head_write(b, ROP_QUERY_POSITION, &s->head);
	if (s->head.rv)
		return;
	mapi_wr_u32(b, s->numerator);
	mapi_wr_u32(b, s->denominator);
}

int rop_query_position_resp_read(struct mapi_rd *r,
				 struct rop_query_position_resp *s)
{
	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, ROP_QUERY_POSITION, &s->head) || s->head.rv)
		return mapi_rd_error(r);
	s->numerator = mapi_rd_u32(r);
	s->denominator = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

void rop_seek_row_req_write(GByteArray *b, const struct rop_seek_row_req *q)
{
	rop_req_head_write(b, ROP_SEEK_ROW, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u8(b, q->origin);
	mapi_wr_u32(b, (uint32_t)q->row_count);
	mapi_wr_u8(b, q->want_moved_count);
}

int rop_seek_row_req_read(struct mapi_rd *r, struct rop_seek_row_req *q)
{
	rop_req_head_read(r, ROP_SEEK_ROW, &q->logon_id,
			  &q->input_handle_index);
	q->origin = mapi_rd_u8(r);
	q->row_count = (int32_t)mapi_rd_u32(r);
	q->want_moved_count = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_seek_row_resp_write(GByteArray *b,
			     const struct rop_seek_row_resp *s)
{
	rop_head_write(b, ROP_SEEK_ROW, &s->head);
	if (s->head.rv)
		return;
	mapi_wr_u8(b, s->has_sought_less);
	mapi_wr_u32(b, (uint32_t)s->rows_sought);
}

int rop_seek_row_resp_read(struct mapi_rd *r, struct rop_seek_row_resp *s)
{
	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, ROP_SEEK_ROW, &s->head) || s->head.rv)
		return mapi_rd_error(r);
	s->has_sought_less = mapi_rd_u8(r);
	s->rows_sought = (int32_t)mapi_rd_u32(r);
	return mapi_rd_error(r);
}

void rop_find_row_req_write(GByteArray *b, const struct rop_find_row_req *q)
{
	rop_req_head_write(b, ROP_FIND_ROW, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u8(b, q->flags);
	mapi_wr_u16(b, q->restriction_len);
	mapi_wr_bytes(b, q->restriction, q->restriction_len);
	mapi_wr_u8(b, q->origin);
	mapi_wr_u16(b, q->bookmark_len);
	mapi_wr_bytes(b, q->bookmark, q->bookmark_len);
}

int rop_find_row_req_read(struct mapi_rd *r, struct rop_find_row_req *q)
{
	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_FIND_ROW, &q->logon_id,
			  &q->input_handle_index);
	q->flags = mapi_rd_u8(r);
	q->restriction = read_blob(r, &q->restriction_len);
	q->origin = mapi_rd_u8(r);
	q->bookmark = read_blob(r, &q->bookmark_len);
	if (mapi_rd_error(r))
		rop_find_row_req_clear(q);
	return mapi_rd_error(r);
}

void rop_find_row_req_clear(struct rop_find_row_req *q)
{
	g_free(q->restriction);
	g_free(q->bookmark);
	q->restriction = q->bookmark = NULL;
	q->restriction_len = q->bookmark_len = 0;
}

int rop_find_row_resp_write(GByteArray *b, const struct rop_find_row_resp *s,
			    const uint32_t *cols, size_t n_cols)
{
	rop_head_write(b, ROP_FIND_ROW, &s->head);
	if (s->head.rv)
		return 0;
	mapi_wr_u8(b, s->row_no_longer_visible);
	mapi_wr_u8(b, s->has_row_data ? 1 : 0);
	if (!s->has_row_data)
		return 0;
	return mapi_row_write(b, &s->row, cols, n_cols, 0);
}

int rop_find_row_resp_read(struct mapi_rd *r, struct rop_find_row_resp *s,
			   const uint32_t *cols, size_t n_cols)
{
	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, ROP_FIND_ROW, &s->head) || s->head.rv)
		return mapi_rd_error(r);
	s->row_no_longer_visible = mapi_rd_u8(r);
	s->has_row_data = mapi_rd_u8(r);
	if (mapi_rd_error(r) || !s->has_row_data)
		return mapi_rd_error(r);
	return mapi_row_read(r, cols, n_cols, 0, &s->row);
}

void rop_find_row_resp_clear(struct rop_find_row_resp *s)
{
	mapi_row_clear(&s->row);
}
