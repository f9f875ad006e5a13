/*
 * nspi-query.c - the NSPI calls that walk and search tables: QueryRows,
 * QueryColumns, SeekEntries, GetMatches, ResortRestriction and
 * ResolveNames (MS-OXCMAPIHTTP 2.2.5.5, 2.2.5.12-16); see nspi.h.
 */
#include "nspi-private.h"

#include <errno.h>
#include <string.h>

/* ---- QueryRows ---- */

void nspi_query_rows_req_write(GByteArray *b,
			       const struct nspi_query_rows_req *q)
{
	mapi_wr_u32(b, q->flags);
	nspi_opt_stat_write(b, q->has_state, &q->state);
	nspi_mids_write(b, &q->explicit_table);
	mapi_wr_u32(b, q->row_count);
	nspi_opt_tags_write(b, q->has_columns, &q->columns);
	nspi_aux_write(b, &q->aux);
}

int nspi_query_rows_req_read(const void *p, size_t len,
			     struct nspi_query_rows_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->flags = mapi_rd_u32(&r);
	nspi_opt_stat_read(&r, &q->has_state, &q->state);
	nspi_mids_read(&r, &q->explicit_table);
	q->row_count = mapi_rd_u32(&r);
	nspi_opt_tags_read(&r, &q->has_columns, &q->columns);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_query_rows_req_clear(q);
	return rc;
}

void nspi_query_rows_req_clear(struct nspi_query_rows_req *q)
{
	nspi_mids_clear(&q->explicit_table);
	nspi_tags_clear(&q->columns);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_query_rows_resp_write(GByteArray *b,
				const struct nspi_query_rows_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	nspi_opt_stat_write(b, s->has_state, &s->state);
	nspi_opt_rowset_write(b, s->has_rows, &s->rows);
	nspi_aux_write(b, &s->aux);
}

int nspi_query_rows_resp_read(const void *p, size_t len,
			      struct nspi_query_rows_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		nspi_opt_stat_read(&r, &s->has_state, &s->state);
		nspi_opt_rowset_read(&r, &s->has_rows, &s->rows);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_query_rows_resp_clear(s);
	return rc;
}

void nspi_query_rows_resp_clear(struct nspi_query_rows_resp *s)
{
	nspi_rowset_clear(&s->rows);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- QueryColumns ---- */

void nspi_query_columns_req_write(GByteArray *b,
				  const struct nspi_query_columns_req *q)
{
	mapi_wr_u32(b, q->reserved);
	mapi_wr_u32(b, q->flags);
	nspi_aux_write(b, &q->aux);
}

int nspi_query_columns_req_read(const void *p, size_t len,
				struct nspi_query_columns_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->reserved = mapi_rd_u32(&r);
	q->flags = mapi_rd_u32(&r);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_query_columns_req_clear(q);
	return rc;
}

void nspi_query_columns_req_clear(struct nspi_query_columns_req *q)
{
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_query_columns_resp_write(GByteArray *b,
				   const struct nspi_query_columns_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	nspi_opt_tags_write(b, s->has_columns, &s->columns);
	nspi_aux_write(b, &s->aux);
}

int nspi_query_columns_resp_read(const void *p, size_t len,
				 struct nspi_query_columns_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		nspi_opt_tags_read(&r, &s->has_columns, &s->columns);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_query_columns_resp_clear(s);
	return rc;
}

void nspi_query_columns_resp_clear(struct nspi_query_columns_resp *s)
{
	nspi_tags_clear(&s->columns);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- SeekEntries ---- */

void nspi_seek_entries_req_write(GByteArray *b,
				 const struct nspi_seek_entries_req *q)
{
	mapi_wr_u32(b, q->reserved);
	nspi_opt_stat_write(b, q->has_state, &q->state);
	mapi_wr_u8(b, q->has_target);
	if (q->has_target)
		nspi_tagged_write(b, &q->target);
	nspi_opt_mids_write(b, q->has_explicit_table, &q->explicit_table);
	nspi_opt_tags_write(b, q->has_columns, &q->columns);
	nspi_aux_write(b, &q->aux);
}

int nspi_seek_entries_req_read(const void *p, size_t len,
			       struct nspi_seek_entries_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->reserved = mapi_rd_u32(&r);
	nspi_opt_stat_read(&r, &q->has_state, &q->state);
	q->has_target = mapi_rd_u8(&r);
	if (q->has_target && !mapi_rd_error(&r))
		nspi_tagged_read(&r, &q->target);
	nspi_opt_mids_read(&r, &q->has_explicit_table, &q->explicit_table);
	nspi_opt_tags_read(&r, &q->has_columns, &q->columns);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_seek_entries_req_clear(q);
	return rc;
}

void nspi_seek_entries_req_clear(struct nspi_seek_entries_req *q)
{
	nspi_val_clear(&q->target);
	nspi_mids_clear(&q->explicit_table);
	nspi_tags_clear(&q->columns);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_seek_entries_resp_write(GByteArray *b,
				  const struct nspi_seek_entries_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	nspi_opt_stat_write(b, s->has_state, &s->state);
	nspi_opt_rowset_write(b, s->has_rows, &s->rows);
	nspi_aux_write(b, &s->aux);
}

int nspi_seek_entries_resp_read(const void *p, size_t len,
				struct nspi_seek_entries_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		nspi_opt_stat_read(&r, &s->has_state, &s->state);
		nspi_opt_rowset_read(&r, &s->has_rows, &s->rows);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_seek_entries_resp_clear(s);
	return rc;
}

void nspi_seek_entries_resp_clear(struct nspi_seek_entries_resp *s)
{
	nspi_rowset_clear(&s->rows);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- GetMatches ---- */

void nspi_get_matches_req_write(GByteArray *b,
				const struct nspi_get_matches_req *q)
{
	uint8_t has_filter = q->filter ? q->has_filter : 0;

	mapi_wr_u32(b, q->reserved1);
	nspi_opt_stat_write(b, q->has_state, &q->state);
	nspi_opt_mids_write(b, q->has_mids, &q->mids);
	mapi_wr_u32(b, q->reserved2);
	mapi_wr_u8(b, has_filter);
	if (has_filter)
		mapi_res_write(b, &nspi_res_form, q->filter);
	mapi_wr_u8(b, q->has_prop_name);
	if (q->has_prop_name) {
		mapi_wr_guid(b, q->prop_name_guid);
		mapi_wr_u32(b, q->prop_name_id);
	}
	mapi_wr_u32(b, q->row_count);
	nspi_opt_tags_write(b, q->has_columns, &q->columns);
	nspi_aux_write(b, &q->aux);
}

int nspi_get_matches_req_read(const void *p, size_t len,
			      struct nspi_get_matches_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->reserved1 = mapi_rd_u32(&r);
	nspi_opt_stat_read(&r, &q->has_state, &q->state);
	nspi_opt_mids_read(&r, &q->has_mids, &q->mids);
	q->reserved2 = mapi_rd_u32(&r);
	q->has_filter = mapi_rd_u8(&r);
	if (q->has_filter && !mapi_rd_error(&r))
		mapi_res_read(&r, &nspi_res_form, &q->filter);
	q->has_prop_name = mapi_rd_u8(&r);
	if (q->has_prop_name) {
		mapi_rd_guid(&r, q->prop_name_guid);
		q->prop_name_id = mapi_rd_u32(&r);
	}
	q->row_count = mapi_rd_u32(&r);
	nspi_opt_tags_read(&r, &q->has_columns, &q->columns);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_matches_req_clear(q);
	return rc;
}

void nspi_get_matches_req_clear(struct nspi_get_matches_req *q)
{
	nspi_mids_clear(&q->mids);
	mapi_res_free(q->filter);
	nspi_tags_clear(&q->columns);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_get_matches_resp_write(GByteArray *b,
				 const struct nspi_get_matches_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	nspi_opt_stat_write(b, s->has_state, &s->state);
	nspi_opt_mids_write(b, s->has_mids, &s->mids);
	nspi_opt_rowset_write(b, s->has_rows, &s->rows);
	nspi_aux_write(b, &s->aux);
}

int nspi_get_matches_resp_read(const void *p, size_t len,
			       struct nspi_get_matches_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		nspi_opt_stat_read(&r, &s->has_state, &s->state);
		nspi_opt_mids_read(&r, &s->has_mids, &s->mids);
		nspi_opt_rowset_read(&r, &s->has_rows, &s->rows);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_matches_resp_clear(s);
	return rc;
}

void nspi_get_matches_resp_clear(struct nspi_get_matches_resp *s)
{
	nspi_mids_clear(&s->mids);
	nspi_rowset_clear(&s->rows);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- ResortRestriction ---- */

void nspi_resort_restriction_req_write(
	GByteArray *b, const struct nspi_resort_restriction_req *q)
{
	mapi_wr_u32(b, q->reserved);
	nspi_opt_stat_write(b, q->has_state, &q->state);
	nspi_opt_mids_write(b, q->has_mids, &q->mids);
	nspi_aux_write(b, &q->aux);
}

int nspi_resort_restriction_req_read(const void *p, size_t len,
				     struct nspi_resort_restriction_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->reserved = mapi_rd_u32(&r);
	nspi_opt_stat_read(&r, &q->has_state, &q->state);
	nspi_opt_mids_read(&r, &q->has_mids, &q->mids);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_resort_restriction_req_clear(q);
	return rc;
}

void nspi_resort_restriction_req_clear(struct nspi_resort_restriction_req *q)
{
	nspi_mids_clear(&q->mids);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_resort_restriction_resp_write(
	GByteArray *b, const struct nspi_resort_restriction_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	nspi_opt_stat_write(b, s->has_state, &s->state);
	nspi_opt_mids_write(b, s->has_mids, &s->mids);
	nspi_aux_write(b, &s->aux);
}

int nspi_resort_restriction_resp_read(const void *p, size_t len,
				      struct nspi_resort_restriction_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		nspi_opt_stat_read(&r, &s->has_state, &s->state);
		nspi_opt_mids_read(&r, &s->has_mids, &s->mids);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_resort_restriction_resp_clear(s);
	return rc;
}

void nspi_resort_restriction_resp_clear(
	struct nspi_resort_restriction_resp *s)
{
	nspi_mids_clear(&s->mids);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- ResolveNames ---- */

void nspi_resolve_names_req_write(GByteArray *b,
				  const struct nspi_resolve_names_req *q)
{
	mapi_wr_u32(b, q->reserved);
	nspi_opt_stat_write(b, q->has_state, &q->state);
	nspi_opt_tags_write(b, q->has_tags, &q->tags);
	mapi_wr_u8(b, q->has_names);
	if (q->has_names)
		nspi_strs_write(b, true, &q->names);
	nspi_aux_write(b, &q->aux);
}

int nspi_resolve_names_req_read(const void *p, size_t len,
				struct nspi_resolve_names_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->reserved = mapi_rd_u32(&r);
	nspi_opt_stat_read(&r, &q->has_state, &q->state);
	nspi_opt_tags_read(&r, &q->has_tags, &q->tags);
	q->has_names = mapi_rd_u8(&r);
	if (q->has_names && !mapi_rd_error(&r))
		nspi_strs_read(&r, true, &q->names);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_resolve_names_req_clear(q);
	return rc;
}

void nspi_resolve_names_req_clear(struct nspi_resolve_names_req *q)
{
	nspi_tags_clear(&q->tags);
	nspi_strs_clear(&q->names);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_resolve_names_resp_write(GByteArray *b,
				   const struct nspi_resolve_names_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	mapi_wr_u32(b, s->code_page);
	nspi_opt_mids_write(b, s->has_mids, &s->mids);
	nspi_opt_rowset_write(b, s->has_rows, &s->rows);
	nspi_aux_write(b, &s->aux);
}

int nspi_resolve_names_resp_read(const void *p, size_t len,
				 struct nspi_resolve_names_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		s->code_page = mapi_rd_u32(&r);
		nspi_opt_mids_read(&r, &s->has_mids, &s->mids);
		nspi_opt_rowset_read(&r, &s->has_rows, &s->rows);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_resolve_names_resp_clear(s);
	return rc;
}

void nspi_resolve_names_resp_clear(struct nspi_resolve_names_resp *s)
{
	nspi_mids_clear(&s->mids);
	nspi_rowset_clear(&s->rows);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}
