/*
 * nspi.c - the address book endpoint of MAPI over HTTP, /mapi/nspi/: its
 * sessions and the answer to each request over the book of nspi-ab.c.
 *
 * Specs: MS-OXCMAPIHTTP 2.2.5 (the request and response bodies), 2.2.3
 * (headers), 3.2.5.1 (session cookies); MS-OXNSPI 3.1.4.1 (what each call
 * does: NspiBind ... NspiGetTemplateInfo), 2.2.8 (STAT), 2.2.1.8-9
 * (positions and resolution results); RFC 6265 (cookies).
 *
 * A session is made by Bind and holds the book as it was then, so the
 * MIds a client was given stay good for the whole session.  Its cookies
 * work as on /mapi/emsmdb/ (session.c), under path /mapi/nspi/ so that a
 * client's cookie jar keeps the two apart: `sid` names it, `sequence`
 * orders the requests and is new on every answer but Unbind's.  Answers
 * follow what the recorded server (tests/data/mapi-traces/09-nspi.json)
 * sends: every optional block marked 0xFF, the request's STAT brought
 * up to date, ErrorsReturned when a property asked for is missing.
 * Only the Global Address List exists: every ContainerID means it.  The
 * book cannot be changed (ModProps, ModLinkAtt) and has no templates
 * (GetTemplateInfo): those answer MAPI_E_NO_SUPPORT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "serve/http.h"
#include "wire/mapi-http.h"
#include "wire/mapi-tags.h"
#include "wire/nspi.h"
#include "mapid-private.h"

/* Address-book sessions at once, per user and in all: each holds a copy
 * of the book. */
#define NSPI_SESSIONS_PER_USER	8
#define NSPI_SESSIONS_MAX	64
/* Rows one answer carries at most, whatever the client asks. */
#define NSPI_ROWS_OUT_MAX	1000u
/* Names of one ResolveNames or DNToMId at most. */
#define NSPI_NAMES_MAX		1000u
/* What GetSpecialTable says the hierarchy's version is. */
#define NSPI_HIERARCHY_VERSION	1
#define CP_DEFAULT		1252


struct nspi_sess {
	struct mapid_csess c;		/* first: the table's part */
	struct mapid_ab *ab;		/* owned */
};
/* One request being answered. */
struct nspi_call {
	const struct mapid_server *srv;
	const struct serve_http_req *req;
	struct nspi_sess *s;
	const uint8_t *body;
	size_t len;
	GByteArray *out;
};

static void sess_free(gpointer p)
{
	struct nspi_sess *s = p;

	mapid_ab_free(s->ab);
	mapid_csess_clear(&s->c);
	g_free(s);
}

static struct mapid_ctable books = {
	.per_user_max = NSPI_SESSIONS_PER_USER, .max = NSPI_SESSIONS_MAX,
	.free = sess_free,
};

/* A new session of `user` with its book, held; NULL at the bounds.  The
 * book is read before the bounds are looked at, without the table's
 * lock: a Bind refused has read it for nothing. */
static struct nspi_sess *sess_new(const struct serve_ctx *ctx,
				  const char *user)
{
	struct nspi_sess *s = g_new0(struct nspi_sess, 1);

	mapid_csess_init(&s->c, user);
	mapid_ab_load(ctx, user, &s->ab);
	if (!mapid_ctable_admit(&books, &s->c)) {
		sess_free(s);
		return NULL;
	}
	return s;
}

static struct nspi_sess *sess_get(const char *sid, const char *user)
{
	/* c is the first member */
	return (struct nspi_sess *)mapid_ctable_get(&books, sid, user);
}

static void sess_put(struct nspi_sess *s, bool touch)
{
	mapid_ctable_put(&books, &s->c, touch);
}

void mapid_nspi_clear(void)
{
	mapid_ctable_clear(&books);
}

/* ---- helpers of the calls ---- */

static void tags_copy(struct nspi_tags *dst, const uint32_t *tags, size_t n)
{
	dst->n = (uint32_t)n;
	dst->tags = g_memdup2(tags, n * sizeof(*tags));
}

/* ---- the calls: each reads its request and writes its answer, and
 * returns 0 or the X-ResponseCode of a body it cannot read ---- */

static uint32_t do_bind(struct nspi_call *c)
{
	struct nspi_bind_req q;
	struct nspi_bind_resp r = { 0 };

	if (nspi_bind_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	mapid_repl_guid(r.server_guid);
	nspi_bind_resp_write(c->out, &r);
	nspi_bind_req_clear(&q);
	return 0;
}

static uint32_t do_unbind(struct nspi_call *c)
{
	struct nspi_unbind_req q;
	struct nspi_plain_resp r = { .head.error = NSPI_E_UNBIND_SUCCESS };

	if (nspi_unbind_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	nspi_plain_resp_write(c->out, &r);
	nspi_unbind_req_clear(&q);
	c->s->c.ended = true;
	return 0;
}

static uint32_t do_get_special_table(struct nspi_call *c)
{
	struct nspi_get_special_table_req q;
	struct nspi_get_special_table_resp r = { 0 };

	if (nspi_get_special_table_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	r.code_page = q.has_state ? q.state.code_page : CP_DEFAULT;
	if (q.flags & NSPI_FLAG_ADDR_CREATION_TEMPLATES) {
		r.head.error = MAPI_E_NO_SUPPORT;
	} else {
		r.has_version = NSPI_TRUE;
		r.version = NSPI_HIERARCHY_VERSION;
		/* MS-OXNSPI 3.1.4.1.3: a client that has this version
		 * already gets no rows */
		if (!q.has_version || q.version != NSPI_HIERARCHY_VERSION) {
			r.has_rows = NSPI_TRUE;
			r.n_rows = 1;
			r.rows = g_new0(struct nspi_vals, 1);
			mapid_ab_gal_row(&r.rows[0],
				q.flags & NSPI_FLAG_UNICODE_STRINGS);
		}
	}
	nspi_get_special_table_resp_write(c->out, &r);
	nspi_get_special_table_resp_clear(&r);
	nspi_get_special_table_req_clear(&q);
	return 0;
}

static uint32_t do_query_rows(struct nspi_call *c)
{
	struct nspi_query_rows_req q;
	struct nspi_query_rows_resp r = { 0 };
	const struct mapid_ab *ab = c->s->ab;
	bool eph;
	uint32_t want;

	if (nspi_query_rows_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	eph = q.flags & NSPI_FLAG_EPH_ID;
	want = MIN(q.row_count, NSPI_ROWS_OUT_MAX);
	if (!q.has_state && !q.explicit_table.n) {
		r.head.error = MAPI_E_INVALID_PARAMETER;
		goto out;
	}
	if (q.has_columns)
		tags_copy(&r.rows.cols, q.columns.tags, q.columns.n);
	else
		tags_copy(&r.rows.cols, mapid_ab_default_cols,
			  MAPID_AB_DEFAULT_NCOLS);
	r.has_state = NSPI_TRUE;
	r.state = q.state;
	r.has_rows = NSPI_TRUE;
	if (q.explicit_table.n) {
		/* the rows of those MIds; an unknown one is a row of
		 * errors, as MS-OXNSPI 3.1.4.1.8 has it */
		for (uint32_t i = 0; i < q.explicit_table.n && i < want;
		     i++) {
			const struct mapid_ab_entry *e = mapid_ab_by_mid(
				ab, q.explicit_table.mids[i], NULL);
			struct mapi_props empty = { 0 };
			if (e) {
				mapid_ab_add_row(&r.rows, e, eph);
				continue;
			}
			r.rows.rows = g_renew(struct nspi_row, r.rows.rows,
					      r.rows.n + 1);
			nspi_row_from_props(&r.rows.rows[r.rows.n],
					    &r.rows.cols, &empty);
			r.rows.n++;
		}
	} else {
		uint32_t pos = mapid_ab_stat_pos(ab, &q.state);
		uint32_t end = MIN(pos + (uint64_t)want, ab->entries->len);

		for (uint32_t i = pos; i < end; i++)
			mapid_ab_add_row(&r.rows, ab->entries->pdata[i], eph);
		mapid_ab_stat_set(ab, &r.state, end);
	}
out:
	nspi_query_rows_resp_write(c->out, &r);
	nspi_query_rows_resp_clear(&r);
	nspi_query_rows_req_clear(&q);
	return 0;
}

static uint32_t do_resolve_names(struct nspi_call *c)
{
	struct nspi_resolve_names_req q;
	struct nspi_resolve_names_resp r = { .code_page = MAPID_CP_UNICODE };
	const struct mapid_ab *ab = c->s->ab;

	if (nspi_resolve_names_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	if (!q.has_names || q.names.n > NSPI_NAMES_MAX) {
		r.head.error = q.has_names ? NSPI_E_TABLE_TOO_BIG
					   : MAPI_E_INVALID_PARAMETER;
		goto out;
	}
	if (q.has_tags)
		tags_copy(&r.rows.cols, q.tags.tags, q.tags.n);
	else
		tags_copy(&r.rows.cols, mapid_ab_default_cols,
			  MAPID_AB_DEFAULT_NCOLS);
	r.has_mids = r.has_rows = NSPI_TRUE;
	r.mids.n = q.names.n;
	r.mids.mids = g_new0(uint32_t, q.names.n ? q.names.n : 1);
	for (uint32_t i = 0; i < q.names.n; i++) {
		const struct mapid_ab_entry *e = NULL;
		r.mids.mids[i] = mapid_ab_resolve(ab, q.names.s[i], &e);
		if (e)
			mapid_ab_add_row(&r.rows, e, false);
	}
out:
	nspi_resolve_names_resp_write(c->out, &r);
	nspi_resolve_names_resp_clear(&r);
	nspi_resolve_names_req_clear(&q);
	return 0;
}

static uint32_t do_get_matches(struct nspi_call *c)
{
	struct nspi_get_matches_req q;
	struct nspi_get_matches_resp r = { 0 };
	const struct mapid_ab *ab = c->s->ab;
	uint32_t n, want;

	if (nspi_get_matches_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	if (!q.has_state) {
		r.head.error = MAPI_E_INVALID_PARAMETER;
		goto out;
	}
	if (q.has_prop_name) {
		/* no link attributes here: nothing is a member of any */
		r.head.error = MAPI_E_NO_SUPPORT;
		goto out;
	}
	want = MIN(q.row_count, NSPI_ROWS_OUT_MAX);
	r.has_state = r.has_mids = NSPI_TRUE;
	r.state = q.state;
	r.mids.mids = g_new0(uint32_t, want ? want : 1);
	n = q.has_mids ? q.mids.n : ab->entries->len;
	for (uint32_t i = 0; i < n && r.mids.n < want; i++) {
		const struct mapid_ab_entry *e = q.has_mids
			? mapid_ab_by_mid(ab, q.mids.mids[i], NULL)
			: ab->entries->pdata[i];
		if (e && (!q.filter || mapid_ab_match(e, q.filter)))
			r.mids.mids[r.mids.n++] = e->mid;
	}
	if (q.has_columns) {
		r.has_rows = NSPI_TRUE;
		tags_copy(&r.rows.cols, q.columns.tags, q.columns.n);
		for (uint32_t i = 0; i < r.mids.n; i++)
			mapid_ab_add_row(&r.rows,
				mapid_ab_by_mid(ab, r.mids.mids[i], NULL),
				false);
	}
out:
	nspi_get_matches_resp_write(c->out, &r);
	nspi_get_matches_resp_clear(&r);
	nspi_get_matches_req_clear(&q);
	return 0;
}

/* Whether `v` is a string naming a display name to seek. */
static const char *seek_target(const struct nspi_seek_entries_req *q)
{
	const struct mapi_value *v = &q->target.v;
	uint16_t t = MAPI_TAG_TYPE(v->tag);

	if (!q->has_target || q->target.state != NSPI_VAL_OK ||
	    MAPI_TAG_ID(v->tag) != MAPI_TAG_ID(MAPI_TAG_DISPLAY_NAME) ||
	    (t != MAPI_PT_UNICODE && t != MAPI_PT_STRING8) || !v->v.str)
		return NULL;
	return v->v.str;
}

static uint32_t do_seek_entries(struct nspi_call *c)
{
	struct nspi_seek_entries_req q;
	struct nspi_seek_entries_resp r = { 0 };
	const struct mapid_ab *ab = c->s->ab;
	const struct mapid_ab_entry *e = NULL;
	const char *target;
	uint32_t pos;

	if (nspi_seek_entries_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	target = seek_target(&q);
	if (!q.has_state || !target) {
		/* only the display-name order is kept (MS-OXNSPI
		 * 3.1.4.1.9: another sort is not supported) */
		r.head.error = q.has_state && q.has_target
			? MAPI_E_NO_SUPPORT : MAPI_E_INVALID_PARAMETER;
		goto out;
	}
	pos = mapid_ab_seek(ab, target);
	if (q.has_explicit_table) {
		/* the first of the table at or after the target */
		e = NULL;
		for (uint32_t i = 0; i < q.explicit_table.n; i++) {
			uint32_t at;
			const struct mapid_ab_entry *x = mapid_ab_by_mid(
				ab, q.explicit_table.mids[i], &at);
			if (x && at >= pos) {
				e = x;
				pos = i;
				break;
			}
		}
	} else if (pos < ab->entries->len) {
		e = ab->entries->pdata[pos];
	}
	if (!e) {
		r.head.error = MAPI_E_NOT_FOUND;
		goto out;
	}
	r.has_state = NSPI_TRUE;
	r.state = q.state;
	r.state.cur_rec = e->mid;
	r.state.delta = 0;
	r.state.num_pos = pos;
	r.state.total_recs = q.has_explicit_table ? q.explicit_table.n
						  : ab->entries->len;
	if (q.has_columns) {
		r.has_rows = NSPI_TRUE;
		tags_copy(&r.rows.cols, q.columns.tags, q.columns.n);
		mapid_ab_add_row(&r.rows, e, false);
	}
out:
	nspi_seek_entries_resp_write(c->out, &r);
	nspi_seek_entries_resp_clear(&r);
	nspi_seek_entries_req_clear(&q);
	return 0;
}

static uint32_t do_dn_to_mid(struct nspi_call *c)
{
	struct nspi_dn_to_mid_req q;
	struct nspi_dn_to_mid_resp r = { 0 };

	if (nspi_dn_to_mid_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	if (!q.has_names || q.names.n > NSPI_NAMES_MAX) {
		r.head.error = q.has_names ? NSPI_E_TABLE_TOO_BIG
					   : MAPI_E_INVALID_PARAMETER;
		goto out;
	}
	r.has_mids = NSPI_TRUE;
	r.mids.n = q.names.n;
	r.mids.mids = g_new0(uint32_t, q.names.n ? q.names.n : 1);
	for (uint32_t i = 0; i < q.names.n; i++) {
		const struct mapid_ab_entry *e =
			mapid_ab_by_dn(c->s->ab, q.names.s[i]);
		r.mids.mids[i] = e ? e->mid : 0;
	}
out:
	nspi_dn_to_mid_resp_write(c->out, &r);
	nspi_dn_to_mid_resp_clear(&r);
	nspi_dn_to_mid_req_clear(&q);
	return 0;
}

static uint32_t do_get_props(struct nspi_call *c)
{
	struct nspi_get_props_req q;
	struct nspi_get_props_resp r = { 0 };
	const struct mapid_ab_entry *e;
	struct mapi_props p = { 0 };
	struct nspi_row row;
	struct nspi_tags all = { 0 };

	if (nspi_get_props_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	if (!q.has_state) {
		r.head.error = MAPI_E_INVALID_PARAMETER;
		goto out;
	}
	r.code_page = q.state.code_page;
	e = mapid_ab_by_mid(c->s->ab, q.state.cur_rec, NULL);
	if (!e) {
		r.head.error = MAPI_E_NOT_FOUND;
		goto out;
	}
	mapid_ab_props(e, q.flags & NSPI_FLAG_EPH_ID, &p);
	if (!q.has_tags)
		mapid_ab_tags(&p, q.state.code_page == MAPID_CP_UNICODE, &all);
	nspi_row_from_props(&row, q.has_tags ? &q.tags : &all, &p);
	r.has_vals = NSPI_TRUE;
	r.vals = row.vals;
	if (row.flag)
		r.head.error = NSPI_E_ERRORS_RETURNED;
	mapi_props_clear(&p);
	nspi_tags_clear(&all);
out:
	nspi_get_props_resp_write(c->out, &r);
	nspi_get_props_resp_clear(&r);
	nspi_get_props_req_clear(&q);
	return 0;
}

static uint32_t do_get_prop_list(struct nspi_call *c)
{
	struct nspi_get_prop_list_req q;
	struct nspi_get_prop_list_resp r = { 0 };
	const struct mapid_ab_entry *e;
	struct mapi_props p = { 0 };

	if (nspi_get_prop_list_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	e = mapid_ab_by_mid(c->s->ab, q.mid, NULL);
	if (!e) {
		r.head.error = MAPI_E_NOT_FOUND;
	} else {
		mapid_ab_props(e, false, &p);
		r.has_tags = NSPI_TRUE;
		mapid_ab_tags(&p, q.code_page == MAPID_CP_UNICODE, &r.tags);
		mapi_props_clear(&p);
	}
	nspi_get_prop_list_resp_write(c->out, &r);
	nspi_get_prop_list_resp_clear(&r);
	nspi_get_prop_list_req_clear(&q);
	return 0;
}

static uint32_t do_query_columns(struct nspi_call *c)
{
	struct nspi_query_columns_req q;
	struct nspi_query_columns_resp r = { 0 };

	if (nspi_query_columns_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	r.has_columns = NSPI_TRUE;
	mapid_ab_columns(q.flags & NSPI_FLAG_UNICODE_PROPTYPES, &r.columns);
	nspi_query_columns_resp_write(c->out, &r);
	nspi_query_columns_resp_clear(&r);
	nspi_query_columns_req_clear(&q);
	return 0;
}

static uint32_t do_compare_mids(struct nspi_call *c)
{
	struct nspi_compare_mids_req q;
	struct nspi_compare_mids_resp r = { 0 };
	uint32_t a, b;

	if (nspi_compare_mids_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	if (!mapid_ab_by_mid(c->s->ab, q.mid1, &a) ||
	    !mapid_ab_by_mid(c->s->ab, q.mid2, &b))
		r.head.error = MAPI_E_CALL_FAILED;
	else
		r.result = a < b ? -1 : a > b ? 1 : 0;
	nspi_compare_mids_resp_write(c->out, &r);
	nspi_compare_mids_resp_clear(&r);
	nspi_compare_mids_req_clear(&q);
	return 0;
}

static uint32_t do_update_stat(struct nspi_call *c)
{
	struct nspi_update_stat_req q;
	struct nspi_update_stat_resp r = { 0 };
	const struct mapid_ab *ab = c->s->ab;

	if (nspi_update_stat_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	if (!q.has_state) {
		r.head.error = MAPI_E_INVALID_PARAMETER;
	} else {
		struct nspi_stat base = q.state;
		uint32_t from, to;

		base.delta = 0;
		from = mapid_ab_stat_pos(ab, &base);
		to = mapid_ab_stat_pos(ab, &q.state);
		r.has_state = NSPI_TRUE;
		r.state = q.state;
		mapid_ab_stat_set(ab, &r.state, to);
		if (q.delta_requested) {
			r.has_delta = NSPI_TRUE;
			r.delta = (int32_t)to - (int32_t)from;
		}
	}
	nspi_update_stat_resp_write(c->out, &r);
	nspi_update_stat_resp_clear(&r);
	nspi_update_stat_req_clear(&q);
	return 0;
}

static int by_mid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t do_resort_restriction(struct nspi_call *c)
{
	struct nspi_resort_restriction_req q;
	struct nspi_resort_restriction_resp r = { 0 };
	const struct mapid_ab *ab = c->s->ab;

	if (nspi_resort_restriction_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	if (!q.has_state || !q.has_mids) {
		r.head.error = MAPI_E_INVALID_PARAMETER;
		goto out;
	}
	/* MIds are handed out in display-name order: sorting them is
	 * sorting the entries; unknown ones are dropped */
	r.mids.mids = g_new0(uint32_t, q.mids.n ? q.mids.n : 1);
	for (uint32_t i = 0; i < q.mids.n; i++)
		if (mapid_ab_by_mid(ab, q.mids.mids[i], NULL))
			r.mids.mids[r.mids.n++] = q.mids.mids[i];
	qsort(r.mids.mids, r.mids.n, sizeof(uint32_t), by_mid);
	r.has_state = r.has_mids = NSPI_TRUE;
	r.state = q.state;
	r.state.total_recs = r.mids.n;
	r.state.num_pos = 0;
	r.state.cur_rec = r.mids.n ? r.mids.mids[0] : NSPI_MID_END_OF_TABLE;
	for (uint32_t i = 0; i < r.mids.n; i++)
		if (r.mids.mids[i] == q.state.cur_rec) {
			r.state.cur_rec = q.state.cur_rec;
			r.state.num_pos = i;
		}
out:
	nspi_resort_restriction_resp_write(c->out, &r);
	nspi_resort_restriction_resp_clear(&r);
	nspi_resort_restriction_req_clear(&q);
	return 0;
}

static uint32_t do_get_mailbox_url(struct nspi_call *c)
{
	struct nspi_get_mailbox_url_req q;
	struct nspi_get_mailbox_url_resp r = { 0 };

	if (nspi_get_mailbox_url_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	/* one mailbox is served to a user: its own, whatever DN names */
	r.url = mapid_endpoint_url(c->srv, c->req, "/mapi/emsmdb/",
				   c->s->c.user);
	nspi_get_mailbox_url_resp_write(c->out, &r);
	nspi_get_mailbox_url_resp_clear(&r);
	nspi_get_mailbox_url_req_clear(&q);
	return 0;
}

static uint32_t do_get_address_book_url(struct nspi_call *c)
{
	struct nspi_get_address_book_url_req q;
	struct nspi_get_address_book_url_resp r = { 0 };

	if (nspi_get_address_book_url_req_read(c->body, c->len, &q) < 0)
		return MAPI_RC_INVALID_REQUEST_BODY;
	r.url = mapid_endpoint_url(c->srv, c->req, "/mapi/nspi/",
				   c->s->c.user);
	nspi_get_address_book_url_resp_write(c->out, &r);
	nspi_get_address_book_url_resp_clear(&r);
	nspi_get_address_book_url_req_clear(&q);
	return 0;
}

/* GetTemplateInfo, ModProps, ModLinkAtt: read, then refused. */
static uint32_t do_unsupported(struct nspi_call *c, enum mapi_req type)
{
	if (type == MAPI_REQ_GET_TEMPLATE_INFO) {
		struct nspi_get_template_info_req q;
		struct nspi_get_template_info_resp r = {
			.head.error = MAPI_E_NO_SUPPORT,
		};
		if (nspi_get_template_info_req_read(c->body, c->len, &q) < 0)
			return MAPI_RC_INVALID_REQUEST_BODY;
		nspi_get_template_info_req_clear(&q);
		nspi_get_template_info_resp_write(c->out, &r);
		return 0;
	}
	if (type == MAPI_REQ_MOD_PROPS) {
		struct nspi_mod_props_req q;
		if (nspi_mod_props_req_read(c->body, c->len, &q) < 0)
			return MAPI_RC_INVALID_REQUEST_BODY;
		nspi_mod_props_req_clear(&q);
	} else {
		struct nspi_mod_link_att_req q;
		if (nspi_mod_link_att_req_read(c->body, c->len, &q) < 0)
			return MAPI_RC_INVALID_REQUEST_BODY;
		nspi_mod_link_att_req_clear(&q);
	}
	{
		struct nspi_plain_resp r = { .head.error = MAPI_E_NO_SUPPORT };
		nspi_plain_resp_write(c->out, &r);
	}
	return 0;
}

static uint32_t dispatch(struct nspi_call *c, enum mapi_req type)
{
	switch (type) {
	case MAPI_REQ_UNBIND: return do_unbind(c);
	case MAPI_REQ_GET_SPECIAL_TABLE: return do_get_special_table(c);
	case MAPI_REQ_QUERY_ROWS: return do_query_rows(c);
	case MAPI_REQ_RESOLVE_NAMES: return do_resolve_names(c);
	case MAPI_REQ_GET_MATCHES: return do_get_matches(c);
	case MAPI_REQ_SEEK_ENTRIES: return do_seek_entries(c);
	case MAPI_REQ_DNTOMID: return do_dn_to_mid(c);
	case MAPI_REQ_GET_PROPS: return do_get_props(c);
	case MAPI_REQ_GET_PROP_LIST: return do_get_prop_list(c);
	case MAPI_REQ_QUERY_COLUMNS: return do_query_columns(c);
	case MAPI_REQ_COMPARE_MIDS: return do_compare_mids(c);
	case MAPI_REQ_UPDATE_STAT: return do_update_stat(c);
	case MAPI_REQ_RESORT_RESTRICTION: return do_resort_restriction(c);
	case MAPI_REQ_GET_MAILBOX_URL: return do_get_mailbox_url(c);
	case MAPI_REQ_GET_ADDRESS_BOOK_URL: return do_get_address_book_url(c);
	case MAPI_REQ_GET_TEMPLATE_INFO:
	case MAPI_REQ_MOD_PROPS:
	case MAPI_REQ_MOD_LINK_ATT:
		return do_unsupported(c, type);
	default:
		return MAPI_RC_INVALID_REQUEST_TYPE;
	}
}

/* ---- HTTP ---- */

/* NSPI's cookies are its own: a client's jar keeps them apart from the
 * EMSMDB session's. */
static void success(const struct serve_http_req *req,
		    struct serve_http_reply *rep, const struct nspi_sess *s,
		    bool sequence, gint64 started, const GByteArray *bin)
{
	mapid_http_success(req, rep, &s->c, "/mapi/nspi/", sequence, started,
			   bin);
}

static void open_session(const struct mapid_server *srv,
		 const struct serve_http_req *req,
		 struct serve_http_reply *rep, gint64 started)
{
	g_autoptr(GByteArray) bin = g_byte_array_new();
	struct nspi_call c = { .srv = srv, .req = req,
			       .body = (const uint8_t *)req->body,
			       .len = req->body_len, .out = bin };
	struct nspi_bind_req q;
	uint32_t rc;

	/* a body that is no Bind costs no session */
	if (nspi_bind_req_read(c.body, c.len, &q) < 0) {
		mapid_http_failure(rep, MAPI_RC_INVALID_REQUEST_BODY);
		return;
	}
	nspi_bind_req_clear(&q);
	c.s = sess_new(srv->ctx, req->user);
	if (!c.s) {
		log_info("mapi: %s: too many address book sessions",
			 req->user);
		mapid_http_failure(rep, MAPI_RC_NO_PRIVILEGE);
		return;
	}
	g_mutex_lock(&c.s->c.lock);
	rc = do_bind(&c);
	if (rc)
		c.s->c.ended = true;
	else
		success(req, rep, c.s, true, started, bin);
	g_mutex_unlock(&c.s->c.lock);
	sess_put(c.s, true);
	if (rc)
		mapid_http_failure(rep, rc);
}

void mapid_nspi_handle(const struct mapid_server *srv,
		       const struct serve_http_req *req,
		       struct serve_http_reply *rep)
{
	const char *type_name = serve_http_header(req, MAPI_HDR_REQUEST_TYPE);
	enum mapi_req type = mapi_req_from_name(type_name);
	g_autofree char *sid = NULL, *seq = NULL;
	g_autoptr(GByteArray) bin = g_byte_array_new();
	struct nspi_call c = { .srv = srv, .req = req,
			       .body = (const uint8_t *)req->body,
			       .len = req->body_len, .out = bin };
	gint64 started = g_get_real_time();
	uint32_t rc;

	if (!type_name) {
		mapid_http_failure(rep, MAPI_RC_MISSING_HEADER);
		return;
	}
	if (!mapi_req_is_nspi(type)) {
		mapid_http_failure(rep, MAPI_RC_INVALID_REQUEST_TYPE);
		return;
	}
	if (type == MAPI_REQ_BIND) {
		open_session(srv, req, rep, started);
		return;
	}
	sid = mapid_cookie(req, "sid");
	seq = mapid_cookie(req, "sequence");
	if (!sid || !seq) {
		mapid_http_failure(rep, MAPI_RC_MISSING_COOKIE);
		return;
	}
	c.s = sess_get(sid, req->user);
	if (!c.s) {
		mapid_http_failure(rep, MAPI_RC_INVALID_CONTEXT_COOKIE);
		return;
	}
	g_mutex_lock(&c.s->c.lock);
	if (strcmp(seq, c.s->c.sequence)) {
		rc = MAPI_RC_INVALID_SEQUENCE;
	} else {
		rc = dispatch(&c, type);
		if (!rc && type != MAPI_REQ_UNBIND)
			mapid_csess_new_sequence(&c.s->c);
		if (!rc)
			success(req, rep, c.s, type != MAPI_REQ_UNBIND,
				started, bin);
	}
	g_mutex_unlock(&c.s->c.lock);
	sess_put(c.s, rc == 0);
	if (rc)
		mapid_http_failure(rep, rc);
}
