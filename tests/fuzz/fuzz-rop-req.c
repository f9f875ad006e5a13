/*
 * fuzz-rop-req.c - the request readers of wire/rop.h (logon, folder,
 * table and property ROPs) on arbitrary bytes, as a server meets them: the
 * buffer is split with rop_frame_read and each ROP read by its RopId.  What
 * is read is written again, read back and written once more, and the two
 * writings must agree.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/rop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void nothing(void *p)
{
	(void)p;
}

#define ROUND(type, rd, wr, clr)					\
	do {								\
		struct type q, t;					\
		struct mapi_rd rr;					\
		if (rd(r, &q))						\
			return false;					\
		wr(w1, &q);						\
		clr(&q);						\
		mapi_rd_init(&rr, w1->data, w1->len);			\
		if (rd(&rr, &t) || mapi_rd_left(&rr))			\
			__builtin_trap();				\
		wr(w2, &t);						\
		clr(&t);						\
		if (w1->len != w2->len ||				\
		    memcmp(w1->data, w2->data, w1->len) != 0)		\
			__builtin_trap();				\
	} while (0)

/* One request; false when it cannot be read (the walk ends there). */
static bool one(struct mapi_rd *r, GByteArray *w1, GByteArray *w2)
{
	g_byte_array_set_size(w1, 0);
	g_byte_array_set_size(w2, 0);
	switch (rop_peek_id(r)) {
	case ROP_RELEASE:
		ROUND(rop_release_req, rop_release_req_read,
		      rop_release_req_write, nothing);
		return true;
	case ROP_LOGON:
		ROUND(rop_logon_req, rop_logon_req_read, rop_logon_req_write,
		      rop_logon_req_clear);
		return true;
	case ROP_OPEN_FOLDER:
		ROUND(rop_open_folder_req, rop_open_folder_req_read,
		      rop_open_folder_req_write, nothing);
		return true;
	case ROP_CREATE_FOLDER:
		ROUND(rop_create_folder_req, rop_create_folder_req_read,
		      rop_create_folder_req_write, rop_create_folder_req_clear);
		return true;
	case ROP_DELETE_FOLDER:
		ROUND(rop_delete_folder_req, rop_delete_folder_req_read,
		      rop_delete_folder_req_write, nothing);
		return true;
	case ROP_MOVE_FOLDER:
		ROUND(rop_move_folder_req, rop_move_folder_req_read,
		      rop_move_folder_req_write, rop_move_folder_req_clear);
		return true;
	case ROP_EMPTY_FOLDER:
		ROUND(rop_empty_folder_req, rop_empty_folder_req_read,
		      rop_empty_folder_req_write, nothing);
		return true;
	case ROP_GET_HIERARCHY_TABLE:
		ROUND(rop_get_table_req, rop_get_hierarchy_table_req_read,
		      rop_get_hierarchy_table_req_write, nothing);
		return true;
	case ROP_GET_CONTENTS_TABLE:
		ROUND(rop_get_table_req, rop_get_contents_table_req_read,
		      rop_get_contents_table_req_write, nothing);
		return true;
	case ROP_SET_COLUMNS:
		ROUND(rop_set_columns_req, rop_set_columns_req_read,
		      rop_set_columns_req_write, rop_set_columns_req_clear);
		return true;
	case ROP_SORT_TABLE:
		ROUND(rop_sort_table_req, rop_sort_table_req_read,
		      rop_sort_table_req_write, rop_sort_table_req_clear);
		return true;
	case ROP_RESTRICT:
		ROUND(rop_restrict_req, rop_restrict_req_read,
		      rop_restrict_req_write, rop_restrict_req_clear);
		return true;
	case ROP_QUERY_ROWS:
		ROUND(rop_query_rows_req, rop_query_rows_req_read,
		      rop_query_rows_req_write, nothing);
		return true;
	case ROP_QUERY_POSITION:
		ROUND(rop_query_position_req, rop_query_position_req_read,
		      rop_query_position_req_write, nothing);
		return true;
	case ROP_SEEK_ROW:
		ROUND(rop_seek_row_req, rop_seek_row_req_read,
		      rop_seek_row_req_write, nothing);
		return true;
	case ROP_FIND_ROW:
		ROUND(rop_find_row_req, rop_find_row_req_read,
		      rop_find_row_req_write, rop_find_row_req_clear);
		return true;
	case ROP_GET_PROPERTIES_SPECIFIC:
		ROUND(rop_get_props_specific_req,
		      rop_get_props_specific_req_read,
		      rop_get_props_specific_req_write,
		      rop_get_props_specific_req_clear);
		return true;
	case ROP_GET_PROPERTIES_ALL:
		ROUND(rop_get_props_all_req, rop_get_props_all_req_read,
		      rop_get_props_all_req_write, nothing);
		return true;
	case ROP_GET_PROPERTY_IDS_FROM_NAMES:
		ROUND(rop_get_prop_ids_req, rop_get_prop_ids_req_read,
		      rop_get_prop_ids_req_write, rop_get_prop_ids_req_clear);
		return true;
	case ROP_SET_PROPERTIES:
		ROUND(rop_set_props_req, rop_set_props_req_read,
		      (void)rop_set_props_req_write, rop_set_props_req_clear);
		return true;
	case ROP_DELETE_PROPERTIES:
		ROUND(rop_delete_props_req, rop_delete_props_req_read,
		      rop_delete_props_req_write, rop_delete_props_req_clear);
		return true;
	default:
		return false;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rop_frame f;
	struct mapi_rd r;
	GByteArray *w1, *w2;

	if (rop_frame_read(data, size, &f) != 0) {
		/* the bare ROPs, without a frame, as well */
		memset(&f, 0, sizeof(f));
		f.rops = data;
		f.rops_len = size;
	}
	w1 = g_byte_array_new();
	w2 = g_byte_array_new();
	mapi_rd_init(&r, f.rops, f.rops_len);
	while (mapi_rd_left(&r) && one(&r, w1, w2))
		;
	g_byte_array_unref(w1);
	g_byte_array_unref(w2);
	rop_frame_clear(&f);
	return 0;
}
