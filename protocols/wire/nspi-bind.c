/*
 * nspi-bind.c - the NSPI calls about the session and single objects:
 * Bind, Unbind, CompareMIds, DNToMId, UpdateStat, GetMailboxUrl and
 * GetAddressBookUrl (MS-OXCMAPIHTTP 2.2.5.1-4, 2.2.5.17-19); see nspi.h.
 */
#include "nspi-private.h"

#include <errno.h>
#include <string.h>

/* ---- Bind ---- */

void nspi_bind_req_write(GByteArray *b, const struct nspi_bind_req *q)
{
	mapi_wr_u32(b, q->flags);
	nspi_opt_stat_write(b, q->has_state, &q->state);
	nspi_aux_write(b, &q->aux);
}

int nspi_bind_req_read(const void *p, size_t len, struct nspi_bind_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->flags = mapi_rd_u32(&r);
	nspi_opt_stat_read(&r, &q->has_state, &q->state);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_bind_req_clear(q);
	return rc;
}

void nspi_bind_req_clear(struct nspi_bind_req *q)
{
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_bind_resp_write(GByteArray *b, const struct nspi_bind_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	mapi_wr_guid(b, s->server_guid);
	nspi_aux_write(b, &s->aux);
}

int nspi_bind_resp_read(const void *p, size_t len, struct nspi_bind_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		mapi_rd_guid(&r, s->server_guid);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_bind_resp_clear(s);
	return rc;
}

void nspi_bind_resp_clear(struct nspi_bind_resp *s)
{
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- Unbind ---- */

void nspi_unbind_req_write(GByteArray *b, const struct nspi_unbind_req *q)
{
	mapi_wr_u32(b, q->reserved);
	nspi_aux_write(b, &q->aux);
}

int nspi_unbind_req_read(const void *p, size_t len,
			 struct nspi_unbind_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->reserved = mapi_rd_u32(&r);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_unbind_req_clear(q);
	return rc;
}

void nspi_unbind_req_clear(struct nspi_unbind_req *q)
{
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_plain_resp_write(GByteArray *b, const struct nspi_plain_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	nspi_aux_write(b, &s->aux);
}

int nspi_plain_resp_read(const void *p, size_t len,
			struct nspi_plain_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0)
		nspi_aux_read(&r, &s->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_plain_resp_clear(s);
	return rc;
}

void nspi_plain_resp_clear(struct nspi_plain_resp *s)
{
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- CompareMIds ---- */

void nspi_compare_mids_req_write(GByteArray *b,
				 const struct nspi_compare_mids_req *q)
{
	mapi_wr_u32(b, q->reserved);
	nspi_opt_stat_write(b, q->has_state, &q->state);
	mapi_wr_u32(b, q->mid1);
	mapi_wr_u32(b, q->mid2);
	nspi_aux_write(b, &q->aux);
}

int nspi_compare_mids_req_read(const void *p, size_t len,
			       struct nspi_compare_mids_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->reserved = mapi_rd_u32(&r);
	nspi_opt_stat_read(&r, &q->has_state, &q->state);
	q->mid1 = mapi_rd_u32(&r);
	q->mid2 = mapi_rd_u32(&r);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_compare_mids_req_clear(q);
	return rc;
}

void nspi_compare_mids_req_clear(struct nspi_compare_mids_req *q)
{
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_compare_mids_resp_write(GByteArray *b,
				  const struct nspi_compare_mids_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	mapi_wr_u32(b, (uint32_t)s->result);
	nspi_aux_write(b, &s->aux);
}

int nspi_compare_mids_resp_read(const void *p, size_t len,
				struct nspi_compare_mids_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		s->result = (int32_t)mapi_rd_u32(&r);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_compare_mids_resp_clear(s);
	return rc;
}

void nspi_compare_mids_resp_clear(struct nspi_compare_mids_resp *s)
{
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- DNToMId ---- */

void nspi_dn_to_mid_req_write(GByteArray *b,
			      const struct nspi_dn_to_mid_req *q)
{
	mapi_wr_u32(b, q->reserved);
	mapi_wr_u8(b, q->has_names);
	if (q->has_names)
		nspi_strs_write(b, false, &q->names);
	nspi_aux_write(b, &q->aux);
}

int nspi_dn_to_mid_req_read(const void *p, size_t len,
			    struct nspi_dn_to_mid_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->reserved = mapi_rd_u32(&r);
	q->has_names = mapi_rd_u8(&r);
	if (q->has_names && !mapi_rd_error(&r))
		nspi_strs_read(&r, false, &q->names);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_dn_to_mid_req_clear(q);
	return rc;
}

void nspi_dn_to_mid_req_clear(struct nspi_dn_to_mid_req *q)
{
	nspi_strs_clear(&q->names);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_dn_to_mid_resp_write(GByteArray *b,
			       const struct nspi_dn_to_mid_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	nspi_opt_mids_write(b, s->has_mids, &s->mids);
	nspi_aux_write(b, &s->aux);
}

int nspi_dn_to_mid_resp_read(const void *p, size_t len,
			     struct nspi_dn_to_mid_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		nspi_opt_mids_read(&r, &s->has_mids, &s->mids);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_dn_to_mid_resp_clear(s);
	return rc;
}

void nspi_dn_to_mid_resp_clear(struct nspi_dn_to_mid_resp *s)
{
	nspi_mids_clear(&s->mids);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- UpdateStat ---- */

void nspi_update_stat_req_write(GByteArray *b,
				const struct nspi_update_stat_req *q)
{
	mapi_wr_u32(b, q->reserved);
	nspi_opt_stat_write(b, q->has_state, &q->state);
	mapi_wr_u8(b, q->delta_requested);
	nspi_aux_write(b, &q->aux);
}

int nspi_update_stat_req_read(const void *p, size_t len,
			      struct nspi_update_stat_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->reserved = mapi_rd_u32(&r);
	nspi_opt_stat_read(&r, &q->has_state, &q->state);
	q->delta_requested = mapi_rd_u8(&r);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_update_stat_req_clear(q);
	return rc;
}

void nspi_update_stat_req_clear(struct nspi_update_stat_req *q)
{
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_update_stat_resp_write(GByteArray *b,
				 const struct nspi_update_stat_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	nspi_opt_stat_write(b, s->has_state, &s->state);
	mapi_wr_u8(b, s->has_delta);
	if (s->has_delta)
		mapi_wr_u32(b, (uint32_t)s->delta);
	nspi_aux_write(b, &s->aux);
}

int nspi_update_stat_resp_read(const void *p, size_t len,
			       struct nspi_update_stat_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		nspi_opt_stat_read(&r, &s->has_state, &s->state);
		s->has_delta = mapi_rd_u8(&r);
		if (s->has_delta)
			s->delta = (int32_t)mapi_rd_u32(&r);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_update_stat_resp_clear(s);
	return rc;
}

void nspi_update_stat_resp_clear(struct nspi_update_stat_resp *s)
{
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

/* ---- GetMailboxUrl and GetAddressBookUrl: a DN in, a URL out ---- */

void nspi_get_mailbox_url_req_write(GByteArray *b,
				    const struct nspi_get_mailbox_url_req *q)
{
	mapi_wr_u32(b, q->flags);
	nspi_wstr_write(b, q->server_dn);
	nspi_aux_write(b, &q->aux);
}

int nspi_get_mailbox_url_req_read(const void *p, size_t len,
				  struct nspi_get_mailbox_url_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->flags = mapi_rd_u32(&r);
	q->server_dn = nspi_wstr_read(&r);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_mailbox_url_req_clear(q);
	return rc;
}

void nspi_get_mailbox_url_req_clear(struct nspi_get_mailbox_url_req *q)
{
	g_free(q->server_dn);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_get_mailbox_url_resp_write(GByteArray *b,
				     const struct nspi_get_mailbox_url_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	nspi_wstr_write(b, s->url);
	nspi_aux_write(b, &s->aux);
}

int nspi_get_mailbox_url_resp_read(const void *p, size_t len,
				   struct nspi_get_mailbox_url_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		s->url = nspi_wstr_read(&r);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_mailbox_url_resp_clear(s);
	return rc;
}

void nspi_get_mailbox_url_resp_clear(struct nspi_get_mailbox_url_resp *s)
{
	g_free(s->url);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}

void nspi_get_address_book_url_req_write(
	GByteArray *b, const struct nspi_get_address_book_url_req *q)
{
	mapi_wr_u32(b, q->flags);
	nspi_wstr_write(b, q->user_dn);
	nspi_aux_write(b, &q->aux);
}

int nspi_get_address_book_url_req_read(
	const void *p, size_t len, struct nspi_get_address_book_url_req *q)
{
	struct mapi_rd r;
	int rc;

	memset(q, 0, sizeof(*q));
	mapi_rd_init(&r, p, len);
	q->flags = mapi_rd_u32(&r);
	q->user_dn = nspi_wstr_read(&r);
	nspi_aux_read(&r, &q->aux);
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_address_book_url_req_clear(q);
	return rc;
}

void nspi_get_address_book_url_req_clear(
	struct nspi_get_address_book_url_req *q)
{
	g_free(q->user_dn);
	g_free(q->aux.data);
	memset(q, 0, sizeof(*q));
}

void nspi_get_address_book_url_resp_write(
	GByteArray *b, const struct nspi_get_address_book_url_resp *s)
{
	if (nspi_head_write(b, &s->head, &s->aux))
		return;
	nspi_wstr_write(b, s->url);
	nspi_aux_write(b, &s->aux);
}

int nspi_get_address_book_url_resp_read(
	const void *p, size_t len, struct nspi_get_address_book_url_resp *s)
{
	struct mapi_rd r;
	int rc;

	memset(s, 0, sizeof(*s));
	mapi_rd_init(&r, p, len);
	if (nspi_head_read(&r, &s->head, &s->aux) == 0) {
		s->url = nspi_wstr_read(&r);
		nspi_aux_read(&r, &s->aux);
	}
	rc = nspi_body_end(&r);
	if (rc < 0)
		nspi_get_address_book_url_resp_clear(s);
	return rc;
}

void nspi_get_address_book_url_resp_clear(
	struct nspi_get_address_book_url_resp *s)
{
	g_free(s->url);
	g_free(s->aux.data);
	memset(s, 0, sizeof(*s));
}
