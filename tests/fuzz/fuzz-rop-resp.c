/*
 * fuzz-rop-resp.c - the response readers of wire/rop.h (logon, folder,
 * table and property ROPs) on arbitrary bytes, as a client meets them: the
 * buffer is split with rop_frame_read and each ROP read by its RopId, the
 * rows against a few plausible column sets.  What is read is written again,
 * read back and written once more, and the two writings must agree.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mapi-tags.h"
#include "wire/rop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Column sets as clients ask for them: a hierarchy table, a contents
 * table, and one with the unusual types (unspecified, multi-valued,
 * GUID, floating point). */
static const uint32_t hier_cols[] = {
	MAPI_TAG_FOLDER_ID, MAPI_TAG_DISPLAY_NAME, MAPI_TAG_CONTENT_COUNT,
	MAPI_TAG_CONTENT_UNREAD_COUNT, MAPI_TAG_SUBFOLDERS,
	MAPI_TAG_CONTAINER_CLASS, MAPI_TAG_PARENT_FOLDER_ID, MAPI_TAG_DEPTH,
};
static const uint32_t contents_cols[] = {
	MAPI_TAG_MID, MAPI_TAG_SUBJECT, MAPI_TAG_MESSAGE_SIZE,
	MAPI_TAG_MESSAGE_FLAGS, MAPI_TAG_MESSAGE_DELIVERY_TIME,
	MAPI_TAG_INTERNET_MESSAGE_ID, MAPI_TAG_LAST_MODIFICATION_TIME,
	MAPI_TAG_CHANGE_KEY,
};
static const uint32_t odd_cols[] = {
	MAPI_TAG(0x8001, MAPI_PT_UNSPECIFIED),
	MAPI_TAG(0x8002, MAPI_PT_MV | MAPI_PT_UNICODE),
	MAPI_TAG(0x8003, MAPI_PT_MV | MAPI_PT_BINARY),
	MAPI_TAG(0x8004, MAPI_PT_CLSID), MAPI_TAG(0x8005, MAPI_PT_DOUBLE),
	MAPI_TAG(0x8006, MAPI_PT_STRING8), MAPI_TAG(0x8007, MAPI_PT_I2),
	MAPI_TAG(0x8008, MAPI_PT_MV | MAPI_PT_I8),
};
static const struct {
	const uint32_t *cols;
	size_t n;
} sets[] = {
	{ hier_cols, G_N_ELEMENTS(hier_cols) },
	{ contents_cols, G_N_ELEMENTS(contents_cols) },
	{ odd_cols, G_N_ELEMENTS(odd_cols) },
	{ NULL, 0 },
};

/* Written twice (from the bytes, then from their reading) the same. */
static void same(GByteArray *a, GByteArray *b)
{
	if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0)
		__builtin_trap();
}

#define ROUND(type, rd, wr, clr)					\
	do {								\
		struct type s, t;					\
		struct mapi_rd rr;					\
		if (rd(r, &s))						\
			return false;					\
		wr(w1, &s);						\
		clr(&s);						\
		mapi_rd_init(&rr, w1->data, w1->len);			\
		if (rd(&rr, &t) || mapi_rd_left(&rr))			\
			__builtin_trap();				\
		wr(w2, &t);						\
		clr(&t);						\
		same(w1, w2);						\
	} while (0)

static void nothing(void *p)
{
	(void)p;
}

static bool rows_round(struct mapi_rd *r, GByteArray *w1, GByteArray *w2,
		       uint8_t id)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(sets); i++) {
		struct mapi_rd try = *r, rr;
		const uint32_t *c = sets[i].cols;
		size_t n = sets[i].n;

		g_byte_array_set_size(w1, 0);
		g_byte_array_set_size(w2, 0);
		if (id == ROP_QUERY_ROWS) {
			struct rop_query_rows_resp s, t;

			if (rop_query_rows_resp_read(&try, &s, c, n))
				continue;
			(void)rop_query_rows_resp_write(w1, &s, c, n);
			rop_query_rows_resp_clear(&s);
			mapi_rd_init(&rr, w1->data, w1->len);
			if (rop_query_rows_resp_read(&rr, &t, c, n) == 0) {
				(void)rop_query_rows_resp_write(w2, &t, c, n);
				rop_query_rows_resp_clear(&t);
			}
		} else if (id == ROP_FIND_ROW) {
			struct rop_find_row_resp s, t;

			if (rop_find_row_resp_read(&try, &s, c, n))
				continue;
			(void)rop_find_row_resp_write(w1, &s, c, n);
			rop_find_row_resp_clear(&s);
			mapi_rd_init(&rr, w1->data, w1->len);
			if (rop_find_row_resp_read(&rr, &t, c, n) == 0) {
				(void)rop_find_row_resp_write(w2, &t, c, n);
				rop_find_row_resp_clear(&t);
			}
		} else {
			struct rop_get_props_specific_resp s, t;

			if (rop_get_props_specific_resp_read(&try, &s, c, n))
				continue;
			(void)rop_get_props_specific_resp_write(w1, &s, c, n);
			rop_get_props_specific_resp_clear(&s);
			mapi_rd_init(&rr, w1->data, w1->len);
			if (rop_get_props_specific_resp_read(&rr, &t, c, n) ==
			    0) {
				(void)rop_get_props_specific_resp_write(w2, &t,
									c, n);
				rop_get_props_specific_resp_clear(&t);
			}
		}
		/* a value written from another type than its column's
		 * may read back otherwise: only sizes are compared */
		if (w1->len != w2->len)
			__builtin_trap();
		*r = try;
		return true;
	}
	return false;
}

/* One response; false when it cannot be read (the walk ends there). */
static bool one(struct mapi_rd *r, GByteArray *w1, GByteArray *w2)
{
	int id = rop_peek_id(r);

	g_byte_array_set_size(w1, 0);
	g_byte_array_set_size(w2, 0);
	switch (id) {
	case ROP_LOGON:
		ROUND(rop_logon_resp, rop_logon_resp_read, rop_logon_resp_write,
		      rop_logon_resp_clear);
		return true;
	case ROP_OPEN_FOLDER:
		ROUND(rop_open_folder_resp, rop_open_folder_resp_read,
		      rop_open_folder_resp_write, rop_open_folder_resp_clear);
		return true;
	case ROP_CREATE_FOLDER:
		ROUND(rop_create_folder_resp, rop_create_folder_resp_read,
		      rop_create_folder_resp_write,
		      rop_create_folder_resp_clear);
		return true;
	case ROP_DELETE_FOLDER:
		ROUND(rop_partial_resp, rop_delete_folder_resp_read,
		      rop_delete_folder_resp_write, nothing);
		return true;
	case ROP_MOVE_FOLDER:
		ROUND(rop_partial_resp, rop_move_folder_resp_read,
		      rop_move_folder_resp_write, nothing);
		return true;
	case ROP_EMPTY_FOLDER:
		ROUND(rop_partial_resp, rop_empty_folder_resp_read,
		      rop_empty_folder_resp_write, nothing);
		return true;
	case ROP_GET_HIERARCHY_TABLE:
		ROUND(rop_get_table_resp, rop_get_hierarchy_table_resp_read,
		      rop_get_hierarchy_table_resp_write, nothing);
		return true;
	case ROP_GET_CONTENTS_TABLE:
		ROUND(rop_get_table_resp, rop_get_contents_table_resp_read,
		      rop_get_contents_table_resp_write, nothing);
		return true;
	case ROP_SET_COLUMNS:
		ROUND(rop_table_status_resp, rop_set_columns_resp_read,
		      rop_set_columns_resp_write, nothing);
		return true;
	case ROP_SORT_TABLE:
		ROUND(rop_table_status_resp, rop_sort_table_resp_read,
		      rop_sort_table_resp_write, nothing);
		return true;
	case ROP_RESTRICT:
		ROUND(rop_table_status_resp, rop_restrict_resp_read,
		      rop_restrict_resp_write, nothing);
		return true;
	case ROP_QUERY_POSITION:
		ROUND(rop_query_position_resp, rop_query_position_resp_read,
		      rop_query_position_resp_write, nothing);
		return true;
	case ROP_SEEK_ROW:
		ROUND(rop_seek_row_resp, rop_seek_row_resp_read,
		      rop_seek_row_resp_write, nothing);
		return true;
	case ROP_GET_PROPERTIES_ALL:
		ROUND(rop_get_props_all_resp, rop_get_props_all_resp_read,
		      (void)rop_get_props_all_resp_write,
		      rop_get_props_all_resp_clear);
		return true;
	case ROP_GET_PROPERTY_IDS_FROM_NAMES:
		ROUND(rop_get_prop_ids_resp, rop_get_prop_ids_resp_read,
		      rop_get_prop_ids_resp_write, rop_get_prop_ids_resp_clear);
		return true;
	case ROP_SET_PROPERTIES:
		ROUND(rop_problems_resp, rop_set_props_resp_read,
		      rop_set_props_resp_write, rop_problems_resp_clear);
		return true;
	case ROP_DELETE_PROPERTIES:
		ROUND(rop_problems_resp, rop_delete_props_resp_read,
		      rop_delete_props_resp_write, rop_problems_resp_clear);
		return true;
	case ROP_QUERY_ROWS: case ROP_FIND_ROW:
	case ROP_GET_PROPERTIES_SPECIFIC:
		return rows_round(r, w1, w2, (uint8_t)id);
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
