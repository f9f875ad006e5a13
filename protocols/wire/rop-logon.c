/*
 * rop-logon.c - RopLogon (MS-OXCROPS 2.2.3.1: the request, the private
 * mailbox's and the public folders' success responses, the redirect and
 * the failure) and RopRelease (2.2.15.3).  See rop.h.
 */
#include "rop.h"
#include "rop-private.h"

#include <errno.h>
#include <string.h>

void rop_release_req_write(GByteArray *b, const struct rop_release_req *q)
{
	rop_req_head_write(b, ROP_RELEASE, q->logon_id, q->input_handle_index);
}

int rop_release_req_read(struct mapi_rd *r, struct rop_release_req *q)
{
	return rop_req_head_read(r, ROP_RELEASE, &q->logon_id,
				 &q->input_handle_index);
}

/* A counted ASCII string whose count takes in its NUL (Essdn, ServerName):
 * NULL for a count of 0; the string must end exactly at the count. */
static char *read_counted(struct mapi_rd *r, size_t n)
{
	struct mapi_rd sub;
	char *s;

	if (n == 0)
		return NULL;
	sub = mapi_rd_sub(r, n);
	s = mapi_rd_str8(&sub, n);
	if (mapi_rd_error(&sub)) {
		mapi_rd_fail(r, mapi_rd_error(&sub));
		return NULL;
	}
	if (mapi_rd_left(&sub)) {
		mapi_rd_fail(r, -EPROTO);
		g_free(s);
		return NULL;
	}
	return s;
}

void rop_logon_req_write(GByteArray *b, const struct rop_logon_req *q)
{
	size_t n = q->essdn ? strlen(q->essdn) + 1 : 0;

	mapi_wr_u8(b, ROP_LOGON);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u8(b, q->logon_flags);
	mapi_wr_u32(b, q->open_flags);
	mapi_wr_u32(b, q->store_state);
	mapi_wr_u16(b, (uint16_t)n);
	if (n)
		mapi_wr_str8z(b, q->essdn);
}

int rop_logon_req_read(struct mapi_rd *r, struct rop_logon_req *q)
{
	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_LOGON, &q->logon_id, &q->output_handle_index);
	q->logon_flags = mapi_rd_u8(r);
	q->open_flags = mapi_rd_u32(r);
	q->store_state = mapi_rd_u32(r);
	q->essdn = read_counted(r, mapi_rd_u16(r));
	if (mapi_rd_error(r))
		rop_logon_req_clear(q);
	return mapi_rd_error(r);
}

void rop_logon_req_clear(struct rop_logon_req *q)
{
	g_free(q->essdn);
	q->essdn = NULL;
}

void rop_logon_resp_write(GByteArray *b, const struct rop_logon_resp *s)
{
	const struct rop_logon_time *t = &s->logon_time;
	size_t i, n;

	rop_head_write(b, ROP_LOGON, &s->head);
	if (s->head.rv == ROP_E_WRONG_SERVER) {
		n = s->server_name ? strlen(s->server_name) + 1 : 0;
		mapi_wr_u8(b, s->logon_flags);
		mapi_wr_u8(b, (uint8_t)n);
		if (n)
			mapi_wr_str8z(b, s->server_name);
		return;
	}
	if (s->head.rv)
		return;
	mapi_wr_u8(b, s->logon_flags);
	for (i = 0; i < ROP_LOGON_N_FOLDERS; i++)
		mapi_wr_u64(b, s->folder_ids[i]);
	if (!(s->logon_flags & ROP_LOGON_PRIVATE)) {
		mapi_wr_u16(b, s->repl_id);
		mapi_wr_guid(b, s->repl_guid);
		mapi_wr_guid(b, s->per_user_guid);
		return;
	}
	mapi_wr_u8(b, s->response_flags);
	mapi_wr_guid(b, s->mailbox_guid);
	mapi_wr_u16(b, s->repl_id);
	mapi_wr_guid(b, s->repl_guid);
	mapi_wr_u8(b, t->sec);
	mapi_wr_u8(b, t->min);
	mapi_wr_u8(b, t->hour);
	mapi_wr_u8(b, t->dow);
	mapi_wr_u8(b, t->day);
	mapi_wr_u8(b, t->month);
	mapi_wr_u16(b, t->year);
	mapi_wr_u64(b, s->gwart_time);
	mapi_wr_u32(b, s->store_state);
}

static void read_private(struct mapi_rd *r, struct rop_logon_resp *s)
{
	struct rop_logon_time *t = &s->logon_time;

	s->response_flags = mapi_rd_u8(r);
	mapi_rd_guid(r, s->mailbox_guid);
	s->repl_id = mapi_rd_u16(r);
	mapi_rd_guid(r, s->repl_guid);
	t->sec = mapi_rd_u8(r);
	t->min = mapi_rd_u8(r);
	t->hour = mapi_rd_u8(r);
	t->dow = mapi_rd_u8(r);
	t->day = mapi_rd_u8(r);
	t->month = mapi_rd_u8(r);
	t->year = mapi_rd_u16(r);
	s->gwart_time = mapi_rd_u64(r);
	s->store_state = mapi_rd_u32(r);
}

int rop_logon_resp_read(struct mapi_rd *r, struct rop_logon_resp *s)
{
	size_t i;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rop_resp_head_read(r, ROP_LOGON, &s->head);
	if (rc)
		return rc;
	if (s->head.rv == ROP_E_WRONG_SERVER) {
		s->logon_flags = mapi_rd_u8(r);
		s->server_name = read_counted(r, mapi_rd_u8(r));
	} else if (s->head.rv == 0) {
		s->logon_flags = mapi_rd_u8(r);
		for (i = 0; i < ROP_LOGON_N_FOLDERS; i++)
			s->folder_ids[i] = mapi_rd_u64(r);
		if (s->logon_flags & ROP_LOGON_PRIVATE) {
			read_private(r, s);
		} else {
			s->repl_id = mapi_rd_u16(r);
			mapi_rd_guid(r, s->repl_guid);
			mapi_rd_guid(r, s->per_user_guid);
		}
	}
	if (mapi_rd_error(r))
		rop_logon_resp_clear(s);
	return mapi_rd_error(r);
}

void rop_logon_resp_clear(struct rop_logon_resp *s)
{
	g_free(s->server_name);
	s->server_name = NULL;
}
