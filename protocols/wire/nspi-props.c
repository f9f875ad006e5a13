/*
 * nspi-props.c - the NSPI calls about the properties of one object and
 * the special tables: GetProps, GetPropList, ModProps, ModLinkAtt,
 * GetSpecialTable and GetTemplateInfo (MS-OXCMAPIHTTP 2.2.5.6-11); see
 * nspi.h.
 */
#include "nspi-private.h"

#include <errno.h>
#include <string.h>

/* ---- GetPropList ---- */

void nspi_get_prop_list_req_write(GByteArray *b,
				  const struct nspi_get_prop_list_req *q)
{
	mapi_wr_u32(b, q->flags);
	mapi_wr_u32(b, q->mid);
	mapi_wr_u32(b, q->code_page);
	nspi_aux_write(b, &q->aux);
}

int nspi_get_prop_list_req_read(const void *p, size_t len,
				struct nspi_get_prop_list_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->flags = mapi_rd_u32(&r);
	q->mid = mapi_rd_u32(&r);
	q->code_page = mapi_rd_u32(&r);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_prop_list_req_clear(q);
	return rc;
}

void nspi_get_prop_list_req_clear(struct nspi_get_prop_list_req *q)
{
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_get_prop_list_resp_write(GByteArray *b,
				   const struct nspi_get_prop_list_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	nspi_opt_tags_write(b, s->has_tags, &s->tags);
	nspi_aux_write(b, &s->aux);
}

int nspi_get_prop_list_resp_read(const void *p, size_t len,
				 struct nspi_get_prop_list_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		nspi_opt_tags_read(&r, &s->has_tags, &s->tags);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_prop_list_resp_clear(s);
	return rc;
}

void nspi_get_prop_list_resp_clear(struct nspi_get_prop_list_resp *s)
{
	nspi_tags_clear(&s->tags);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- GetProps ---- */

void nspi_get_props_req_write(GByteArray *b,
			      const struct nspi_get_props_req *q)
{
	mapi_wr_u32(b, q->flags);
	nspi_opt_stat_write(b, q->has_state, &q->state);
	nspi_opt_tags_write(b, q->has_tags, &q->tags);
	nspi_aux_write(b, &q->aux);
}

int nspi_get_props_req_read(const void *p, size_t len,
			    struct nspi_get_props_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->flags = mapi_rd_u32(&r);
	nspi_opt_stat_read(&r, &q->has_state, &q->state);
	nspi_opt_tags_read(&r, &q->has_tags, &q->tags);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_props_req_clear(q);
	return rc;
}

void nspi_get_props_req_clear(struct nspi_get_props_req *q)
{
	nspi_tags_clear(&q->tags);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_get_props_resp_write(GByteArray *b,
			       const struct nspi_get_props_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	mapi_wr_u32(b, s->code_page);
	nspi_opt_vals_write(b, s->has_vals, &s->vals);
	nspi_aux_write(b, &s->aux);
}

int nspi_get_props_resp_read(const void *p, size_t len,
			     struct nspi_get_props_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		s->code_page = mapi_rd_u32(&r);
		nspi_opt_vals_read(&r, &s->has_vals, &s->vals);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_props_resp_clear(s);
	return rc;
}

void nspi_get_props_resp_clear(struct nspi_get_props_resp *s)
{
	nspi_vals_clear(&s->vals);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- ModProps ---- */

void nspi_mod_props_req_write(GByteArray *b,
			      const struct nspi_mod_props_req *q)
{
	mapi_wr_u32(b, q->reserved);
	nspi_opt_stat_write(b, q->has_state, &q->state);
	nspi_opt_tags_write(b, q->has_tags, &q->tags);
	nspi_opt_vals_write(b, q->has_vals, &q->vals);
	nspi_aux_write(b, &q->aux);
}

int nspi_mod_props_req_read(const void *p, size_t len,
			    struct nspi_mod_props_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->reserved = mapi_rd_u32(&r);
	nspi_opt_stat_read(&r, &q->has_state, &q->state);
	nspi_opt_tags_read(&r, &q->has_tags, &q->tags);
	nspi_opt_vals_read(&r, &q->has_vals, &q->vals);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_mod_props_req_clear(q);
	return rc;
}

void nspi_mod_props_req_clear(struct nspi_mod_props_req *q)
{
	nspi_tags_clear(&q->tags);
	nspi_vals_clear(&q->vals);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

/* ---- ModLinkAtt ---- */

void nspi_mod_link_att_req_write(GByteArray *b,
				 const struct nspi_mod_link_att_req *q)
{
	mapi_wr_u32(b, q->flags);
	mapi_wr_u32(b, q->tag);
	mapi_wr_u32(b, q->mid);
	mapi_wr_u8(b, q->has_entry_ids);
	if (q->has_entry_ids)
		nspi_bins_write(b, &q->entry_ids);
	nspi_aux_write(b, &q->aux);
}

int nspi_mod_link_att_req_read(const void *p, size_t len,
			       struct nspi_mod_link_att_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->flags = mapi_rd_u32(&r);
	q->tag = mapi_rd_u32(&r);
	q->mid = mapi_rd_u32(&r);
	q->has_entry_ids = mapi_rd_u8(&r);
	if (q->has_entry_ids && !mapi_rd_error(&r))
		nspi_bins_read(&r, &q->entry_ids);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_mod_link_att_req_clear(q);
	return rc;
}

void nspi_mod_link_att_req_clear(struct nspi_mod_link_att_req *q)
{
	nspi_bins_clear(&q->entry_ids);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

/* ---- GetSpecialTable ---- */

void nspi_get_special_table_req_write(
	GByteArray *b, const struct nspi_get_special_table_req *q)
{
	mapi_wr_u32(b, q->flags);
	nspi_opt_stat_write(b, q->has_state, &q->state);
	mapi_wr_u8(b, q->has_version);
	if (q->has_version)
		mapi_wr_u32(b, q->version);
	nspi_aux_write(b, &q->aux);
}

int nspi_get_special_table_req_read(const void *p, size_t len,
				    struct nspi_get_special_table_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->flags = mapi_rd_u32(&r);
	nspi_opt_stat_read(&r, &q->has_state, &q->state);
	q->has_version = mapi_rd_u8(&r);
	if (q->has_version)
		q->version = mapi_rd_u32(&r);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_special_table_req_clear(q);
	return rc;
}

void nspi_get_special_table_req_clear(struct nspi_get_special_table_req *q)
{
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_get_special_table_resp_write(
	GByteArray *b, const struct nspi_get_special_table_resp *s)
{
	uint32_t i;

	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	mapi_wr_u32(b, s->code_page);
	mapi_wr_u8(b, s->has_version);
	if (s->has_version)
		mapi_wr_u32(b, s->version);
	mapi_wr_u8(b, s->has_rows);
	if (s->has_rows) {
		mapi_wr_u32(b, s->n_rows);
		for (i = 0; i < s->n_rows; i++)
			nspi_vals_write(b, &s->rows[i]);
	}
	nspi_aux_write(b, &s->aux);
}

static void read_special_rows(struct mapi_rd *r,
			      struct nspi_get_special_table_resp *s)
{
	uint32_t n = mapi_rd_u32(r), i;

	if (mapi_rd_error(r))
		return;
	/* each row takes its count at least */
	if (n > mapi_rd_left(r) / 4) {
		mapi_rd_fail(r, -EBADMSG);
		return;
	}
	if (n > NSPI_MAX_ROWS) {
		mapi_rd_fail(r, -EPROTO);
		return;
	}
	s->rows = g_new0(struct nspi_vals, n ? n : 1);
	for (i = 0; i < n; i++) {
		if (nspi_vals_read(r, &s->rows[i]) < 0)
			return;
		s->n_rows = i + 1;
	}
}

int nspi_get_special_table_resp_read(const void *p, size_t len,
				     struct nspi_get_special_table_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		s->code_page = mapi_rd_u32(&r);
		s->has_version = mapi_rd_u8(&r);
		if (s->has_version)
			s->version = mapi_rd_u32(&r);
		s->has_rows = mapi_rd_u8(&r);
		if (s->has_rows)
			read_special_rows(&r, s);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_special_table_resp_clear(s);
	return rc;
}

void nspi_get_special_table_resp_clear(struct nspi_get_special_table_resp *s)
{
	uint32_t i;

	for (i = 0; i < s->n_rows; i++)
		nspi_vals_clear(&s->rows[i]);
	g_free(s->rows);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- GetTemplateInfo ---- */

void nspi_get_template_info_req_write(
	GByteArray *b, const struct nspi_get_template_info_req *q)
{
	mapi_wr_u32(b, q->flags);
	mapi_wr_u32(b, q->display_type);
	mapi_wr_u8(b, q->has_template_dn);
	if (q->has_template_dn)
		mapi_wr_str8z(b, q->template_dn ? q->template_dn : "");
	mapi_wr_u32(b, q->code_page);
	mapi_wr_u32(b, q->locale_id);
	nspi_aux_write(b, &q->aux);
}

int nspi_get_template_info_req_read(const void *p, size_t len,
				    struct nspi_get_template_info_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->flags = mapi_rd_u32(&r);
	q->display_type = mapi_rd_u32(&r);
	q->has_template_dn = mapi_rd_u8(&r);
	if (q->has_template_dn && !mapi_rd_error(&r))
		q->template_dn = mapi_rd_str8(&r, mapi_rd_left(&r));
	q->code_page = mapi_rd_u32(&r);
	q->locale_id = mapi_rd_u32(&r);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_template_info_req_clear(q);
	return rc;
}

void nspi_get_template_info_req_clear(struct nspi_get_template_info_req *q)
{
	g_free(q->template_dn);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_get_template_info_resp_write(
	GByteArray *b, const struct nspi_get_template_info_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	mapi_wr_u32(b, s->code_page);
	nspi_opt_vals_write(b, s->has_row, &s->row);
	nspi_aux_write(b, &s->aux);
}

int nspi_get_template_info_resp_read(const void *p, size_t len,
				     struct nspi_get_template_info_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		s->code_page = mapi_rd_u32(&r);
		nspi_opt_vals_read(&r, &s->has_row, &s->row);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_template_info_resp_clear(s);
	return rc;
}

void nspi_get_template_info_resp_clear(struct nspi_get_template_info_resp *s)
{
	nspi_vals_clear(&s->row);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}
