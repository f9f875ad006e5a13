/*
 * rop-folder.c - the folder ROPs, MS-OXCROPS 2.2.4: RopOpenFolder,
 * RopCreateFolder, RopDeleteFolder, RopMoveFolder, RopEmptyFolder,
 * RopGetHierarchyTable and RopGetContentsTable.  See rop.h.
 */
#include "rop.h"
#include "rop-private.h"

#include <errno.h>
#include <string.h>

/* HasRules, IsGhosted and, for a ghosted folder, ServerCount,
 * CheapServerCount and the servers' names. */
static void info_write(GByteArray *b, const struct rop_folder_info *in)
{
	uint16_t i;

	mapi_wr_u8(b, in->has_rules);
	mapi_wr_u8(b, in->is_ghosted);
	if (!in->is_ghosted)
		return;
	mapi_wr_u16(b, in->n_servers);
	mapi_wr_u16(b, in->cheap_server_count);
	for (i = 0; i < in->n_servers; i++)
		mapi_wr_str8z(b, in->servers[i] ? in->servers[i] : "");
}

static void info_clear(struct rop_folder_info *in)
{
	uint16_t i;

	for (i = 0; i < in->n_servers; i++)
		g_free(in->servers[i]);
	g_free(in->servers);
	memset(in, 0, sizeof(*in));
}

static void info_read(struct mapi_rd *r, struct rop_folder_info *in)
{
	uint16_t n, i;

	in->has_rules = mapi_rd_u8(r);
	in->is_ghosted = mapi_rd_u8(r);
	if (!in->is_ghosted || mapi_rd_error(r))
		return;
	n = mapi_rd_u16(r);
	in->cheap_server_count = mapi_rd_u16(r);
	if (mapi_rd_error(r))
		return;
	/* each name takes at least its NUL */
	if (n > mapi_rd_left(r) || in->cheap_server_count > n) {
		mapi_rd_fail(r, -EPROTO);
		return;
	}
	in->servers = n ? g_new0(char *, n) : NULL;
	in->n_servers = n;
	for (i = 0; i < n && !mapi_rd_error(r); i++)
		in->servers[i] = mapi_rd_str8(r, SIZE_MAX);
}

void rop_open_folder_req_write(GByteArray *b,
			       const struct rop_open_folder_req *q)
{
	rop_req_head_write(b, ROP_OPEN_FOLDER, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u64(b, q->folder_id);
	mapi_wr_u8(b, q->open_mode_flags);
}

int rop_open_folder_req_read(struct mapi_rd *r, struct rop_open_folder_req *q)
{
	rop_req_head_read(r, ROP_OPEN_FOLDER, &q->logon_id,
			  &q->input_handle_index);
	q->output_handle_index = mapi_rd_u8(r);
	q->folder_id = mapi_rd_u64(r);
	q->open_mode_flags = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_open_folder_resp_write(GByteArray *b,
				const struct rop_open_folder_resp *s)
{
	rop_head_write(b, ROP_OPEN_FOLDER, &s->head);
	if (!s->head.rv)
		info_write(b, &s->info);
}

int rop_open_folder_resp_read(struct mapi_rd *r,
			      struct rop_open_folder_resp *s)
{
	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, ROP_OPEN_FOLDER, &s->head) || s->head.rv)
		return mapi_rd_error(r);
	info_read(r, &s->info);
	if (mapi_rd_error(r))
		rop_open_folder_resp_clear(s);
	return mapi_rd_error(r);
}

void rop_open_folder_resp_clear(struct rop_open_folder_resp *s)
{
	info_clear(&s->info);
}

void rop_create_folder_req_write(GByteArray *b,
				 const struct rop_create_folder_req *q)
{
	rop_req_head_write(b, ROP_CREATE_FOLDER, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u8(b, q->folder_type);
	mapi_wr_u8(b, q->use_unicode);
	mapi_wr_u8(b, q->open_existing);
	mapi_wr_u8(b, q->reserved);
	rop_wr_str(b, q->display_name, q->use_unicode);
	rop_wr_str(b, q->comment, q->use_unicode);
}

int rop_create_folder_req_read(struct mapi_rd *r,
			       struct rop_create_folder_req *q)
{
	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_CREATE_FOLDER, &q->logon_id,
			  &q->input_handle_index);
	q->output_handle_index = mapi_rd_u8(r);
	q->folder_type = mapi_rd_u8(r);
	q->use_unicode = mapi_rd_u8(r);
	q->open_existing = mapi_rd_u8(r);
	q->reserved = mapi_rd_u8(r);
	q->display_name = rop_rd_str(r, q->use_unicode);
	q->comment = rop_rd_str(r, q->use_unicode);
	if (mapi_rd_error(r))
		rop_create_folder_req_clear(q);
	return mapi_rd_error(r);
}

void rop_create_folder_req_clear(struct rop_create_folder_req *q)
{
	g_free(q->display_name);
	g_free(q->comment);
	q->display_name = q->comment = NULL;
}

void rop_create_folder_resp_write(GByteArray *b,
				  const struct rop_create_folder_resp *s)
{
	rop_head_write(b, ROP_CREATE_FOLDER, &s->head);
	if (s->head.rv)
		return;
	mapi_wr_u64(b, s->folder_id);
	mapi_wr_u8(b, s->is_existing);
	if (s->is_existing)
		info_write(b, &s->info);
}

int rop_create_folder_resp_read(struct mapi_rd *r,
				struct rop_create_folder_resp *s)
{
	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, ROP_CREATE_FOLDER, &s->head) || s->head.rv)
		return mapi_rd_error(r);
	s->folder_id = mapi_rd_u64(r);
	s->is_existing = mapi_rd_u8(r);
	if (s->is_existing)
		info_read(r, &s->info);
	if (mapi_rd_error(r))
		rop_create_folder_resp_clear(s);
	return mapi_rd_error(r);
}

void rop_create_folder_resp_clear(struct rop_create_folder_resp *s)
{
	info_clear(&s->info);
}

void rop_delete_folder_req_write(GByteArray *b,
				 const struct rop_delete_folder_req *q)
{
	rop_req_head_write(b, ROP_DELETE_FOLDER, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u8(b, q->flags);
	mapi_wr_u64(b, q->folder_id);
}

int rop_delete_folder_req_read(struct mapi_rd *r,
			       struct rop_delete_folder_req *q)
{
	rop_req_head_read(r, ROP_DELETE_FOLDER, &q->logon_id,
			  &q->input_handle_index);
	q->flags = mapi_rd_u8(r);
	q->folder_id = mapi_rd_u64(r);
	return mapi_rd_error(r);
}

/* PartialCompletion after the head, for the three ROPs that answer so. */
static void partial_write(GByteArray *b, uint8_t id,
			  const struct rop_partial_resp *s)
{
	rop_head_write(b, id, &s->head);
	if (!s->head.rv)
		mapi_wr_u8(b, s->partial_completion);
	else if (id == ROP_MOVE_FOLDER && s->head.rv == ROP_E_DST_NULL_OBJECT)
		mapi_wr_u32(b, s->dest_handle_index);
}

static int partial_read(struct mapi_rd *r, uint8_t id,
			struct rop_partial_resp *s)
{
	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, id, &s->head))
		return mapi_rd_error(r);
	if (!s->head.rv)
		s->partial_completion = mapi_rd_u8(r);
	else if (id == ROP_MOVE_FOLDER && s->head.rv == ROP_E_DST_NULL_OBJECT &&
		 mapi_rd_left(r) >= 4)
		/* MS-OXCROPS gives the destination's index; a short
		 * failure without it is taken as well */
		s->dest_handle_index = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

void rop_delete_folder_resp_write(GByteArray *b,
				  const struct rop_partial_resp *s)
{
	partial_write(b, ROP_DELETE_FOLDER, s);
}

int rop_delete_folder_resp_read(struct mapi_rd *r, struct rop_partial_resp *s)
{
	return partial_read(r, ROP_DELETE_FOLDER, s);
}

void rop_move_folder_req_write(GByteArray *b,
			       const struct rop_move_folder_req *q)
{
	mapi_wr_u8(b, ROP_MOVE_FOLDER);
	mapi_wr_u8(b, q->logon_id);
	mapi_wr_u8(b, q->source_handle_index);
	mapi_wr_u8(b, q->dest_handle_index);
	mapi_wr_u8(b, q->want_async);
	mapi_wr_u8(b, q->use_unicode);
	mapi_wr_u64(b, q->folder_id);
	rop_wr_str(b, q->new_name, q->use_unicode);
}

int rop_move_folder_req_read(struct mapi_rd *r, struct rop_move_folder_req *q)
{
	memset(q, 0, sizeof(*q));
	rop_req_head_read(r, ROP_MOVE_FOLDER, &q->logon_id,
			  &q->source_handle_index);
	q->dest_handle_index = mapi_rd_u8(r);
	q->want_async = mapi_rd_u8(r);
	q->use_unicode = mapi_rd_u8(r);
	q->folder_id = mapi_rd_u64(r);
	q->new_name = rop_rd_str(r, q->use_unicode);
	if (mapi_rd_error(r))
		rop_move_folder_req_clear(q);
	return mapi_rd_error(r);
}

void rop_move_folder_req_clear(struct rop_move_folder_req *q)
{
	g_free(q->new_name);
	q->new_name = NULL;
}

void rop_move_folder_resp_write(GByteArray *b,
				const struct rop_partial_resp *s)
{
	partial_write(b, ROP_MOVE_FOLDER, s);
}

int rop_move_folder_resp_read(struct mapi_rd *r, struct rop_partial_resp *s)
{
	return partial_read(r, ROP_MOVE_FOLDER, s);
}

void rop_empty_folder_req_write(GByteArray *b,
				const struct rop_empty_folder_req *q)
{
	rop_req_head_write(b, ROP_EMPTY_FOLDER, q->logon_id,
			   q->input_handle_index);
	mapi_wr_u8(b, q->want_async);
	mapi_wr_u8(b, q->want_delete_associated);
}

int rop_empty_folder_req_read(struct mapi_rd *r,
			      struct rop_empty_folder_req *q)
{
	rop_req_head_read(r, ROP_EMPTY_FOLDER, &q->logon_id,
			  &q->input_handle_index);
	q->want_async = mapi_rd_u8(r);
	q->want_delete_associated = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

void rop_empty_folder_resp_write(GByteArray *b,
				 const struct rop_partial_resp *s)
{
	partial_write(b, ROP_EMPTY_FOLDER, s);
}

int rop_empty_folder_resp_read(struct mapi_rd *r, struct rop_partial_resp *s)
{
	return partial_read(r, ROP_EMPTY_FOLDER, s);
}

static void table_req_write(GByteArray *b, uint8_t id,
			    const struct rop_get_table_req *q)
{
	rop_req_head_write(b, id, q->logon_id, q->input_handle_index);
	mapi_wr_u8(b, q->output_handle_index);
	mapi_wr_u8(b, q->table_flags);
}

static int table_req_read(struct mapi_rd *r, uint8_t id,
			  struct rop_get_table_req *q)
{
	rop_req_head_read(r, id, &q->logon_id, &q->input_handle_index);
	q->output_handle_index = mapi_rd_u8(r);
	q->table_flags = mapi_rd_u8(r);
	return mapi_rd_error(r);
}

static void table_resp_write(GByteArray *b, uint8_t id,
			     const struct rop_get_table_resp *s)
{
	rop_head_write(b, id, &s->head);
	if (!s->head.rv)
		mapi_wr_u32(b, s->row_count);
}

static int table_resp_read(struct mapi_rd *r, uint8_t id,
			   struct rop_get_table_resp *s)
{
	memset(s, 0, sizeof(*s));
	if (rop_resp_head_read(r, id, &s->head) || s->head.rv)
		return mapi_rd_error(r);
	s->row_count = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

void rop_get_hierarchy_table_req_write(GByteArray *b,
				       const struct rop_get_table_req *q)
{
	table_req_write(b, ROP_GET_HIERARCHY_TABLE, q);
}

int rop_get_hierarchy_table_req_read(struct mapi_rd *r,
				     struct rop_get_table_req *q)
{
	return table_req_read(r, ROP_GET_HIERARCHY_TABLE, q);
}

void rop_get_hierarchy_table_resp_write(GByteArray *b,
					const struct rop_get_table_resp *s)
{
	table_resp_write(b, ROP_GET_HIERARCHY_TABLE, s);
}

int rop_get_hierarchy_table_resp_read(struct mapi_rd *r,
				      struct rop_get_table_resp *s)
{
	return table_resp_read(r, ROP_GET_HIERARCHY_TABLE, s);
}

void rop_get_contents_table_req_write(GByteArray *b,
				      const struct rop_get_table_req *q)
{
	table_req_write(b, ROP_GET_CONTENTS_TABLE, q);
}

int rop_get_contents_table_req_read(struct mapi_rd *r,
				    struct rop_get_table_req *q)
{
	return table_req_read(r, ROP_GET_CONTENTS_TABLE, q);
}

void rop_get_contents_table_resp_write(GByteArray *b,
				       const struct rop_get_table_resp *s)
{
	table_resp_write(b, ROP_GET_CONTENTS_TABLE, s);
}

int rop_get_contents_table_resp_read(struct mapi_rd *r,
				     struct rop_get_table_resp *s)
{
	return table_resp_read(r, ROP_GET_CONTENTS_TABLE, s);
}
