/*
 * rop-prop.c - the property ROPs, MS-OXCROPS 2.2.8:
 * RopGetPropertiesSpecific, RopGetPropertiesAll, RopGetPropertyIdsFromNames,
 * RopSetProperties and RopDeleteProperties; PropertyName is MS-OXCDATA
 * 2.6.1.  See rop.h.
 */
#include "rop.h"
#include "rop-private.h"

#include <errno.h>
#include <string.h>

void rop_get_props_specific_req_write(
	GByteArray *b, const struct rop_get_props_specific_req *q)
{
	rop_req_head_write(b, ROP_GET_PROPERTIES_SPECIFIC, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u16(b, q->size_limit);
	mapi_wr_u16(b, q->want_unicode);
	mapi_tags_write(b, q->tags, q->n_tags);
}

int rop_get_props_specific_req_read(struct mapi_rd *r,
				    struct rop_get_props_specific_req *q)
{
	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_GET_PROPERTIES_SPECIFIC, &q->logon_id,
			  &q->input_handle_index);
	q->size_limit = mapi_rd_u16(r);
	q->want_unicode = mapi_rd_u16(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	return mapi_tags_read(r, &q->tags, &q->n_tags);
}

void rop_get_props_specific_req_clear(struct rop_get_props_specific_req *q)
{
	g_free(q->tags);
	q->tags = NULL;
	q->n_tags = 0;
}

int rop_get_props_specific_resp_write(
	GByteArray *b, const struct rop_get_props_specific_resp *s,
	const uint32_t *tags, size_t n_tags)
{
	rop_head_write(b, ROP_GET_PROPERTIES_SPECIFIC, &s->head);
	if (s->head.rv)
		return 0;
	return mapi_row_write(b, &s->row, tags, n_tags, 0);
}

int rop_get_props_specific_resp_read(struct mapi_rd *r,
				     struct rop_get_props_specific_resp *s,
				     const uint32_t *tags, size_t n_tags)
{
	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, ROP_GET_PROPERTIES_SPECIFIC, &s->head) ||
	    s->head.rv)
		return mapi_rd_error(r);
	return mapi_row_read(r, tags, n_tags, 0, &s->row);
}

void rop_get_props_specific_resp_clear(struct rop_get_props_specific_resp *s)
{
	mapi_row_clear(&s->row);
}

void rop_get_props_all_req_write(GByteArray *b,
				 const struct rop_get_props_all_req *q)
{
	rop_req_head_write(b, ROP_GET_PROPERTIES_ALL, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u16(b, q->size_limit);
	mapi_wr_u16(b, q->want_unicode);
}

int rop_get_props_all_req_read(struct mapi_rd *r,
			       struct rop_get_props_all_req *q)
{
	rop_req_head_read(r, ROP_GET_PROPERTIES_ALL, &q->logon_id,
			  &q->input_handle_index);
	q->size_limit = mapi_rd_u16(r);
	q->want_unicode = mapi_rd_u16(r);
	return mapi_rd_error(r);
}

/* `n` TaggedPropertyValues into a bag, checked against what is left
 * (a tag and the smallest value take 4 bytes or more). */
static int tagged_list_read(struct mapi_rd *r, uint16_t n,
			    struct mapi_props *p)
{
	struct mapi_value v;
	uint16_t i;
	int rc;

	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (n > mapi_rd_left(r) / 4) {
		mapi_rd_fail(r, -EPROTO);
		return -EPROTO;
	}
	for (i = 0; i < n; i++) {
		rc = mapi_tagged_pv_read(r, 0, &v);
		if (rc) {
			mapi_props_clear(p);
			return rc;
		}
		mapi_props_take(p, &v);
	}
	return 0;
}

static int tagged_list_write(GByteArray *b, const struct mapi_props *p)
{
	size_t i;
	int rc = 0, e;

	for (i = 0; i < p->n; i++) {
		e = mapi_tagged_pv_write(b, &p->v[i], 0);
		if (e && !rc)
			rc = e;
	}
	return rc;
}

int rop_get_props_all_resp_write(GByteArray *b,
				 const struct rop_get_props_all_resp *s)
{
	rop_head_write(b, ROP_GET_PROPERTIES_ALL, &s->head);
	if (s->head.rv)
		return 0;
	mapi_wr_u16(b, (uint16_t)s->props.n);
	return tagged_list_write(b, &s->props);
}

int rop_get_props_all_resp_read(struct mapi_rd *r,
				struct rop_get_props_all_resp *s)
{
	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, ROP_GET_PROPERTIES_ALL, &s->head) ||
	    s->head.rv)
		return mapi_rd_error(r);
	return tagged_list_read(r, mapi_rd_u16(r), &s->props);
}

void rop_get_props_all_resp_clear(struct rop_get_props_all_resp *s)
{
	mapi_props_clear(&s->props);
}

void rop_prop_name_write(GByteArray *b, const struct rop_prop_name *nm)
{
	GByteArray *tmp;

	mapi_wr_u8(b, nm->kind);
	mapi_wr_guid(b, nm->guid);
	if (nm->kind == ROP_NAME_LID) {
		mapi_wr_u32(b, nm->lid);
	} else if (nm->kind == ROP_NAME_STRING) {
		/* NameSize counts the UTF-16 bytes with the terminator */
		tmp = g_byte_array_new();
		if (mapi_wr_utf16z(tmp, nm->name ? nm->name : "") != 0)
			mapi_wr_u16(tmp, 0);
		if (tmp->len > 0xFF)
			g_byte_array_set_size(tmp, 0xFE);
		mapi_wr_u8(b, (uint8_t)tmp->len);
		mapi_wr_bytes(b, tmp->data, tmp->len);
		g_byte_array_unref(tmp);
	}
}

void rop_prop_name_read(struct mapi_rd *r, struct rop_prop_name *nm)
{
	nm->kind = mapi_rd_u8(r);
	mapi_rd_guid(r, nm->guid);
	if (mapi_rd_error(r))
		return;
	switch (nm->kind) {
	case ROP_NAME_LID:
		nm->lid = mapi_rd_u32(r);
		break;
	case ROP_NAME_STRING:
		nm->name = mapi_rd_utf16n(r, mapi_rd_u8(r));
		break;
	case ROP_NAME_NONE:
		break;
	default:
		mapi_rd_fail(r, -EPROTO);
	}
}

void rop_get_prop_ids_req_write(GByteArray *b,
				const struct rop_get_prop_ids_req *q)
{
	size_t i;

	rop_req_head_write(b, ROP_GET_PROPERTY_IDS_FROM_NAMES, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u8(b, q->flags);
	mapi_wr_u16(b, (uint16_t)q->n_names);
	for (i = 0; i < q->n_names; i++)
		rop_prop_name_write(b, &q->names[i]);
}

int rop_get_prop_ids_req_read(struct mapi_rd *r,
			      struct rop_get_prop_ids_req *q)
{
	uint16_t n, i;

	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_GET_PROPERTY_IDS_FROM_NAMES, &q->logon_id,
			  &q->input_handle_index);
	q->flags = mapi_rd_u8(r);
	n = mapi_rd_u16(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	/* a name takes its Kind and GUID at least */
	if (n > mapi_rd_left(r) / 17) {
		mapi_rd_fail(r, -EPROTO);
		return -EPROTO;
	}
	q->names = n ? g_new0(struct rop_prop_name, n) : NULL;
	q->n_names = n;
	for (i = 0; i < n && !mapi_rd_error(r); i++)
		rop_prop_name_read(r, &q->names[i]);
	if (mapi_rd_error(r))
		rop_get_prop_ids_req_clear(q);
	return mapi_rd_error(r);
}

void rop_get_prop_ids_req_clear(struct rop_get_prop_ids_req *q)
{
	size_t i;

	for (i = 0; i < q->n_names; i++)
		g_free(q->names[i].name);
	g_free(q->names);
	q->names = NULL;
	q->n_names = 0;
}

/* Whether a response with this ReturnValue carries the ids. */
static bool ids_follow(uint32_t rv)
{
	return rv == 0 || rv == ROP_W_ERRORS_RETURNED;
}

void rop_get_prop_ids_resp_write(GByteArray *b,
				 const struct rop_get_prop_ids_resp *s)
{
	size_t i;

	rop_head_write(b, ROP_GET_PROPERTY_IDS_FROM_NAMES, &s->head);
	if (!ids_follow(s->head.rv))
		return;
	mapi_wr_u16(b, (uint16_t)s->n_ids);
	for (i = 0; i < s->n_ids; i++)
		mapi_wr_u16(b, s->ids[i]);
}

int rop_get_prop_ids_resp_read(struct mapi_rd *r,
			       struct rop_get_prop_ids_resp *s)
{
	struct mapi_rd sub;
	uint16_t n, i;

	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, ROP_GET_PROPERTY_IDS_FROM_NAMES, &s->head) ||
	    !ids_follow(s->head.rv))
		return mapi_rd_error(r);
	/* the short failure: a warning with nothing after the head */
	if (s->head.rv && mapi_rd_left(r) == 0)
		return 0;
	n = mapi_rd_u16(r);
	sub = mapi_rd_sub(r, (size_t)n * 2);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	s->ids = n ? g_new(uint16_t, n) : NULL;
	s->n_ids = n;
	for (i = 0; i < n; i++)
		s->ids[i] = mapi_rd_u16(&sub);
	return 0;
}

void rop_get_prop_ids_resp_clear(struct rop_get_prop_ids_resp *s)
{
	g_free(s->ids);
	s->ids = NULL;
	s->n_ids = 0;
}

int rop_set_props_req_write(GByteArray *b, const struct rop_set_props_req *q)
{
	size_t at;
	int rc;

	rop_req_head_write(b, ROP_SET_PROPERTIES, q->logon_id,
			   q->input_handle_index);
	/* PropertyValueSize counts PropertyValueCount and the values */
	at = b->len;
	mapi_wr_u16(b, 0);
	mapi_wr_u16(b, (uint16_t)q->props.n);
	rc = tagged_list_write(b, &q->props);
	mapi_wr_u16_at(b, at, (uint16_t)(b->len - at - 2));
	return rc;
}

int rop_set_props_req_read(struct mapi_rd *r, struct rop_set_props_req *q)
{
	struct mapi_rd sub;
	uint16_t size;
	int rc;

	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_SET_PROPERTIES, &q->logon_id,
			  &q->input_handle_index);
	size = mapi_rd_u16(r);
	sub = mapi_rd_sub(r, size);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	rc = tagged_list_read(&sub, mapi_rd_u16(&sub), &q->props);
	if (!rc && mapi_rd_left(&sub))
		rc = -EPROTO;	/* the size says more than the values hold */
	if (rc) {
		mapi_props_clear(&q->props);
		mapi_rd_fail(r, rc);
	}
	return rc;
}

void rop_set_props_req_clear(struct rop_set_props_req *q)
{
	mapi_props_clear(&q->props);
}

static void problems_write(GByteArray *b, uint8_t id,
			   const struct rop_problems_resp *s)
{
	rop_head_write(b, id, &s->head);
	if (!s->head.rv)
		mapi_problems_write(b, s->problems, s->n_problems);
}

static int problems_read(struct mapi_rd *r, uint8_t id,
			 struct rop_problems_resp *s)
{
	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, id, &s->head) || s->head.rv)
		return mapi_rd_error(r);
	return mapi_problems_read(r, &s->problems, &s->n_problems);
}

void rop_set_props_resp_write(GByteArray *b,
			      const struct rop_problems_resp *s)
{
	problems_write(b, ROP_SET_PROPERTIES, s);
}

int rop_set_props_resp_read(struct mapi_rd *r, struct rop_problems_resp *s)
{
	return problems_read(r, ROP_SET_PROPERTIES, s);
}

void rop_problems_resp_clear(struct rop_problems_resp *s)
{
	g_free(s->problems);
	s->problems = NULL;
	s->n_problems = 0;
}

void rop_delete_props_req_write(GByteArray *b,
				const struct rop_delete_props_req *q)
{
	rop_req_head_write(b, ROP_DELETE_PROPERTIES, q->logon_id,
			   q->input_handle_index);
	mapi_tags_write(b, q->tags, q->n_tags);
}

int rop_delete_props_req_read(struct mapi_rd *r,
			      struct rop_delete_props_req *q)
{
	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_DELETE_PROPERTIES, &q->logon_id,
			  &q->input_handle_index);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	return mapi_tags_read(r, &q->tags, &q->n_tags);
}

void rop_delete_props_req_clear(struct rop_delete_props_req *q)
{
	g_free(q->tags);
	q->tags = NULL;
	q->n_tags = 0;
}

void rop_delete_props_resp_write(GByteArray *b,
				 const struct rop_problems_resp *s)
{
	problems_write(b, ROP_DELETE_PROPERTIES, s);
}

int rop_delete_props_resp_read(struct mapi_rd *r, struct rop_problems_resp *s)
{
	return problems_read(r, ROP_DELETE_PROPERTIES, s);
}
