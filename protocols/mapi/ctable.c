/*
 * ctable.c - a folder's messages from its contents table, for servers
 * that do not do incremental synchronization: what each message is
 * (its id) and what tells that it changed (modification time, change
 * key, flags, size), page by page.
 *
 * Specs: [MS-OXCFOLD] 2.2.1.14 (RopGetContentsTable), [MS-OXCTABL] 2.2.2
 * (RopSetColumns, RopQueryRows and its Origin), [MS-OXCROPS] 2.2.4.1
 * (RopOpenFolder).
 *
 * The first page travels with the open of the folder and the table in
 * one Execute; the next pages one Execute each.  The table is read to
 * its end (Origin BOOKMARK_END, or a page with no rows), and no further
 * than twice the RowCount the server gave and 1,000 more (it may grow
 * meanwhile), nor MAPIC_CONTENTS_MAX rows: a table that never ends is an
 * error, not a partial listing taken as whole.
 */
#include "mapic-private.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "wire/mapi-tags.h"

#define NO_HANDLE 0xFFFFFFFFU
/* Rows asked for by one RopQueryRows: ~150 bytes each, so a page stays
 * well inside MaxRopOut. */
#define PAGE_ROWS 200
/* Rows a table may grow by while it is read, past twice its RowCount. */
#define CONTENTS_SLACK 1000
/* QueryRows' Origin: the cursor is at the end of the table. */
#define ORIGIN_END 2

static const uint32_t cols[] = {
	MAPI_TAG_MID, MAPI_TAG_LAST_MODIFICATION_TIME, MAPI_TAG_MESSAGE_FLAGS,
	MAPI_TAG_MESSAGE_SIZE, MAPI_TAG_CHANGE_KEY,
	MAPI_TAG_INTERNET_MESSAGE_ID, MAPI_TAG_MESSAGE_DELIVERY_TIME,
	MAPI_TAG_FLAG_STATUS, MAPI_TAG_LAST_VERB_EXECUTED,
};

static void row_clear(void *p)
{
	struct mapic_content_row *r = p;

	g_free(r->change_key.data);
	g_free(r->message_id);
	memset(r, 0, sizeof(*r));
}

static uint64_t ft_of(const struct mapi_props *p, uint32_t tag)
{
	const struct mapi_value *v = mapi_props_get_tag(p, tag);

	return v ? v->v.ft : 0;
}

/* One table row as a struct; false for a row without a message id. */
static bool take(struct mapi_row *row, struct mapic_content_row *out)
{
	struct mapi_props *p = &row->props;
	const struct mapi_value *mid = mapi_props_get_tag(p, MAPI_TAG_MID);
	const struct mapi_value *ck = mapi_props_get_tag(p,
							 MAPI_TAG_CHANGE_KEY);
	const char *id = mapi_props_str(p,
				MAPI_TAG_ID(MAPI_TAG_INTERNET_MESSAGE_ID));

	memset(out, 0, sizeof(*out));
	if (!mid)
		return false;
	out->mid = (uint64_t)mid->v.i8;
	out->modified = ft_of(p, MAPI_TAG_LAST_MODIFICATION_TIME);
	out->delivered = ft_of(p, MAPI_TAG_MESSAGE_DELIVERY_TIME);
	out->flags = (uint32_t)mapi_props_l(p,
				MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS), 0);
	out->size = (uint32_t)mapi_props_l(p,
				MAPI_TAG_ID(MAPI_TAG_MESSAGE_SIZE), 0);
	out->flag_status = mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_FLAG_STATUS),
					0);
	out->last_verb = mapi_props_l(p,
			MAPI_TAG_ID(MAPI_TAG_LAST_VERB_EXECUTED), 0);
	if (ck && ck->v.bin.len) {
		out->change_key.len = ck->v.bin.len;
		out->change_key.data = g_memdup2(ck->v.bin.data,
						 ck->v.bin.len);
	}
	out->message_id = g_strdup(id);
	return true;
}

static int fail(struct mapic_session *s, uint64_t fid, int rc,
		enum mfs_err_retry retry, struct mfs_error *e,
		const char *fmt, ...) G_GNUC_PRINTF(6, 7);

/* Fill e for folder `fid` with a sentence; returns rc. */
static int fail(struct mapic_session *s, uint64_t fid, int rc,
		enum mfs_err_retry retry, struct mfs_error *e,
		const char *fmt, ...)
{
	g_autofree char *who = mapic_who(s->conf);
	g_autofree char *what = NULL;
	va_list ap;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return mfs_error_set(e, rc, MFS_ERR_FOLDER, retry, "%s: contents of "
			     "folder 0x%016llX: %s", who,
			     (unsigned long long)fid, what);
}

static int failed(struct mapic_session *s, uint64_t fid, const char *what,
		  uint32_t rv, struct mfs_error *e)
{
	int err = mapic_rv_to_errno(rv);

	return fail(s, fid, err, err == -EAGAIN ? MFS_ERR_BACKOFF
				 : err == -ESTALE ? MFS_ERR_TRANSIENT
						  : MFS_ERR_FINAL, e,
		    "%s failed (error 0x%08X)", what, rv);
}

static int bad(struct mapic_session *s, uint64_t fid, const char *what,
	       int rc, struct mfs_error *e)
{
	return fail(s, fid, -EPROTO, MFS_ERR_TRANSIENT, e, "malformed %s "
		    "answer (%s)", what, g_strerror(rc < 0 ? -rc : EBADMSG));
}

/* The answers of the first Execute: OpenFolder, GetContentsTable,
 * SetColumns (the QueryRows that follows is read by the caller). */
static int read_open(struct mapic_session *s, uint64_t fid,
		     struct mapic_exec *x, uint32_t *count_r,
		     struct mfs_error *e)
{
	struct rop_open_folder_resp of = { 0 };
	struct rop_get_table_resp gt;
	struct rop_table_status_resp ts;
	int rc = rop_open_folder_resp_read(mapic_exec_rd(x), &of);
	uint32_t rv = of.head.rv;

	rop_open_folder_resp_clear(&of);
	if (rc < 0)
		return bad(s, fid, "OpenFolder", rc, e);
	if (rv)
		return failed(s, fid, "OpenFolder", rv, e);
	rc = rop_get_contents_table_resp_read(mapic_exec_rd(x), &gt);
	if (rc < 0)
		return bad(s, fid, "GetContentsTable", rc, e);
	if (gt.head.rv)
		return failed(s, fid, "GetContentsTable", gt.head.rv, e);
	*count_r = gt.row_count;
	rc = rop_set_columns_resp_read(mapic_exec_rd(x), &ts);
	if (rc < 0)
		return bad(s, fid, "SetColumns", rc, e);
	if (ts.head.rv)
		return failed(s, fid, "SetColumns", ts.head.rv, e);
	return 0;
}

/* One page's rows into `rows`; *end_r when the table ended. */
static int read_page(struct mapic_session *s, uint64_t fid,
		     struct mapic_exec *x, GArray *rows, size_t limit,
		     bool *end_r, struct mfs_error *e)
{
	struct rop_query_rows_resp qr = { 0 };
	int rc = rop_query_rows_resp_read(mapic_exec_rd(x), &qr, cols,
					  G_N_ELEMENTS(cols));

	if (rc < 0)
		return bad(s, fid, "QueryRows", rc, e);
	if (qr.head.rv) {
		rop_query_rows_resp_clear(&qr);
		return failed(s, fid, "QueryRows", qr.head.rv, e);
	}
	if (rows->len + qr.row_count > limit) {
		rop_query_rows_resp_clear(&qr);
		return fail(s, fid, -EPROTO, MFS_ERR_TRANSIENT, e, "the table "
			    "goes on past %zu rows", limit);
	}
	for (size_t i = 0; i < qr.row_count; i++) {
		struct mapic_content_row r;
		if (!take(&qr.rows[i], &r)) {
			rop_query_rows_resp_clear(&qr);
			return fail(s, fid, -EPROTO, MFS_ERR_TRANSIENT, e,
				    "a row without PidTagMid");
		}
		g_array_append_val(rows, r);
	}
	*end_r = qr.row_count == 0 || qr.origin == ORIGIN_END;
	rop_query_rows_resp_clear(&qr);
	return mapic_exec_end(x, e);
}

static int list(struct mapic_session *s, uint64_t fid, struct mapic_exec *x,
		GArray *rows, struct mfs_error *e)
{
	struct rop_set_columns_req sc = { .n_cols = G_N_ELEMENTS(cols),
					  .cols = (uint32_t *)cols };
	struct rop_query_rows_req qq = { .forward_read = 1,
					 .row_count = PAGE_ROWS };
	uint8_t f_slot, t_slot;
	uint32_t table, count = 0;
	size_t limit = MAPIC_CONTENTS_MAX;
	bool at_end = false;
	int rc;

	mapic_exec_begin(x);
	f_slot = mapic_exec_out(x);
	t_slot = mapic_exec_out(x);
	rop_open_folder_req_write(mapic_exec_buf(x),
		&(struct rop_open_folder_req){
			.input_handle_index = mapic_exec_logon(x),
			.output_handle_index = f_slot, .folder_id = fid });
	rop_get_contents_table_req_write(mapic_exec_buf(x),
		&(struct rop_get_table_req){ .input_handle_index = f_slot,
			.output_handle_index = t_slot,
			.table_flags = ROP_TABLE_USE_UNICODE });
	sc.input_handle_index = t_slot;
	rop_set_columns_req_write(mapic_exec_buf(x), &sc);
	qq.input_handle_index = t_slot;
	rop_query_rows_req_write(mapic_exec_buf(x), &qq);
	rc = mapic_exec_run(x, e);
	if (rc == 0)
		rc = read_open(s, fid, x, &count, e);
	/* the table may grow while it is read, not without end */
	if ((size_t)count * 2 + CONTENTS_SLACK < limit)
		limit = (size_t)count * 2 + CONTENTS_SLACK;
	if (rc == 0)
		rc = read_page(s, fid, x, rows, limit, &at_end, e);
	table = mapic_exec_handle(x, t_slot);
	while (rc == 0 && !at_end) {
		mapic_exec_begin(x);
		qq.input_handle_index = mapic_exec_in(x, table);
		rop_query_rows_req_write(mapic_exec_buf(x), &qq);
		rc = mapic_exec_run(x, e);
		if (rc == 0)
			rc = read_page(s, fid, x, rows, limit, &at_end, e);
	}
	return rc;
}

int mapic_contents_list(struct mapic_session *s, uint64_t fid,
			GArray **rows_r, struct mfs_error *e)
{
	GArray *rows = g_array_new(FALSE, FALSE,
				   sizeof(struct mapic_content_row));
	struct mapic_exec *x = mapic_exec_new(s);
	int rc;

	*rows_r = NULL;
	g_array_set_clear_func(rows, row_clear);
	rc = list(s, fid, x, rows, e);
	mapic_exec_free(&x);
	if (rc < 0) {
		g_array_unref(rows);
		return rc;
	}
	*rows_r = rows;
	return 0;
}
