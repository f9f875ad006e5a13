/*
 * rop-names.c - RopGetNamesFromPropertyIds, MS-OXCROPS 2.2.8.2: the
 * request (a count and the property ids) and the response (a
 * PropertyName per id, MS-OXCDATA 2.6.1; MS-OXCPRPT 3.2.5.9: an id with
 * no name is the Kind byte 0xFF alone).  See rop-names.h.
 */
#include "rop-names.h"
#include "rop-private.h"

#include <errno.h>
#include <string.h>

/* The smallest PropertyName of a response: the bare Kind 0xFF. */
#define NAME_MIN 1

void rop_get_names_req_write(GByteArray *b, const struct rop_get_names_req *q)
{
	size_t n = MIN(q->n_ids, 0xFFFF);

	rop_req_head_write(b, ROP_GET_NAMES_FROM_PROPERTY_IDS, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u16(b, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		mapi_wr_u16(b, q->ids[i]);
}

int rop_get_names_req_read(struct mapi_rd *r, struct rop_get_names_req *q)
{
	struct mapi_rd sub;
	uint16_t n;

	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_GET_NAMES_FROM_PROPERTY_IDS, &q->logon_id,
			  &q->input_handle_index);
	n = mapi_rd_u16(r);
	sub = mapi_rd_sub(r, (size_t)n * 2);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	q->ids = n ? g_new(uint16_t, n) : NULL;
	q->n_ids = n;
	for (uint16_t i = 0; i < n; i++)
		q->ids[i] = mapi_rd_u16(&sub);
	return 0;
}

void rop_get_names_req_clear(struct rop_get_names_req *q)
{
	g_free(q->ids);
	q->ids = NULL;
	q->n_ids = 0;
}

void rop_get_names_resp_write(GByteArray *b,
			      const struct rop_get_names_resp *s)
{
	size_t n = MIN(s->n_names, 0xFFFF);

	rop_head_write(b, ROP_GET_NAMES_FROM_PROPERTY_IDS, &s->head);
	if (s->head.rv)
		return;
	mapi_wr_u16(b, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct rop_prop_name *nm = &s->names[i];

		/* a kind this codec does not carry goes as "no name" */
		if (nm->kind == ROP_NAME_LID || nm->kind == ROP_NAME_STRING)
			rop_prop_name_write(b, nm);
		else
			mapi_wr_u8(b, ROP_NAME_NONE);
	}
}

int rop_get_names_resp_read(struct mapi_rd *r, struct rop_get_names_resp *s)
{
	uint16_t n, i;

	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, ROP_GET_NAMES_FROM_PROPERTY_IDS, &s->head) ||
	    s->head.rv)
		return mapi_rd_error(r);
	n = mapi_rd_u16(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (n > mapi_rd_left(r) / NAME_MIN) {
		mapi_rd_fail(r, -EPROTO);
		return -EPROTO;
	}
	s->names = n ? g_new0(struct rop_prop_name, n) : NULL;
	s->n_names = n;
	for (i = 0; i < n && !mapi_rd_error(r); i++) {
		const uint8_t *k = mapi_rd_left(r) ? r->p + r->off : NULL;

		if (k && *k == ROP_NAME_NONE) {
			mapi_rd_skip(r, 1);
			s->names[i].kind = ROP_NAME_NONE;
			continue;
		}
		rop_prop_name_read(r, &s->names[i]);
		/* the string of a name is never absent */
		if (!mapi_rd_error(r) && s->names[i].kind == ROP_NAME_STRING &&
		    !s->names[i].name)
			mapi_rd_fail(r, -EPROTO);
		if (!mapi_rd_error(r) && s->names[i].kind == ROP_NAME_NONE)
			mapi_rd_fail(r, -EPROTO);
	}
	if (mapi_rd_error(r)) {
		int err = mapi_rd_error(r);
		rop_get_names_resp_clear(s);
		return err;
	}
	return 0;
}

void rop_get_names_resp_clear(struct rop_get_names_resp *s)
{
	for (size_t i = 0; i < s->n_names; i++)
		g_free(s->names[i].name);
	g_free(s->names);
	s->names = NULL;
	s->n_names = 0;
}
