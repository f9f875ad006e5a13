/*
 * test-mapi-rop-forms.c - the ROPs of wire/rop.h, and the forms of them,
 * that the recordings do not show: the byte examples of MS-OXCFOLD
 * section 4, MS-OXCTABL section 4 and MS-OXORULE section 4 where they are
 * of these families, and hand-built buffers for the rest (ghosted
 * folders, the moves, sorts, restrictions, seeks, finds, named
 * properties).  Each is read, checked, written back byte for byte, and
 * refused at every shorter length.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-buf.h"
#include "wire/mapi-propval.h"
#include "wire/mapi-tags.h"
#include "wire/rop.h"

static void nothing(void *p)
{
	(void)p;
}

/*
 * Read `in` into `var` with `rd` (its extra arguments after the struct),
 * check nothing is left, write it with `wr` and compare; every prefix must
 * fail.  `var` stays read for the caller's checks; `clr` frees it later.
 */
#define ROUND(in, var, rd, wr, clr, ...)				\
	do {								\
		struct mapi_rd r_;					\
		GByteArray *b_ = g_byte_array_new();			\
		size_t k_;						\
		for (k_ = 0; k_ < sizeof(in); k_++) {			\
			mapi_rd_init(&r_, in, k_);			\
			g_assert_cmpint(rd(&r_, &var, ##__VA_ARGS__),	\
					!=, 0);				\
			clr(&var);					\
		}							\
		mapi_rd_init(&r_, in, sizeof(in));			\
		g_assert_cmpint(rd(&r_, &var, ##__VA_ARGS__), ==, 0);	\
		g_assert_cmpuint(mapi_rd_left(&r_), ==, 0);		\
		wr(b_, &var, ##__VA_ARGS__);				\
		g_assert_cmpmem(b_->data, b_->len, in, sizeof(in));	\
		g_byte_array_unref(b_);					\
	} while (0)

/* MS-OXCFOLD 4.5.1: RopMoveFolder of folder 0001-00000E8EDF36 as
 * "Folder1", asynchronous, Unicode. */
static void test_spec_move_folder(void)
{
	static const uint8_t in[] = {
		0x35, 0x00, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00,
		0x00, 0x00, 0x0E, 0x8E, 0xDF, 0x36, 0x46, 0x00,
		0x6F, 0x00, 0x6C, 0x00, 0x64, 0x00, 0x65, 0x00,
		0x72, 0x00, 0x31, 0x00, 0x00, 0x00,
	};
	static const uint8_t resp[] = { 0x35, 0x01, 0, 0, 0, 0, 0x00 };
	static const uint8_t dst_null[] = { 0x35, 0x01, 0x03, 0x05, 0, 0,
					    0x02, 0, 0, 0 };
	struct rop_move_folder_req q;
	struct rop_partial_resp s;

	ROUND(in, q, rop_move_folder_req_read, rop_move_folder_req_write,
	      rop_move_folder_req_clear);
	g_assert_cmpuint(q.source_handle_index, ==, 1);
	g_assert_cmpuint(q.dest_handle_index, ==, 2);
	g_assert_cmpuint(q.want_async, ==, 1);
	g_assert_cmpuint(q.folder_id, ==, 0x36DF8E0E00000001);
	g_assert_cmpstr(q.new_name, ==, "Folder1");
	rop_move_folder_req_clear(&q);
	ROUND(resp, s, rop_move_folder_resp_read, rop_move_folder_resp_write,
	      nothing);
	g_assert_cmpuint(s.head.handle_index, ==, 1);
	/* ecDstNullObject names the destination's index (MS-OXCROPS
	 * 2.2.4.7.3) */
	{
		struct mapi_rd r;
		GByteArray *b = g_byte_array_new();

		mapi_rd_init(&r, dst_null, sizeof(dst_null));
		g_assert_cmpint(rop_move_folder_resp_read(&r, &s), ==, 0);
		g_assert_cmpuint(s.head.rv, ==, ROP_E_DST_NULL_OBJECT);
		g_assert_cmpuint(s.dest_handle_index, ==, 2);
		rop_move_folder_resp_write(b, &s);
		g_assert_cmpmem(b->data, b->len, dst_null, sizeof(dst_null));
		/* and the short failure a real server sends is taken too */
		mapi_rd_init(&r, dst_null, 6);
		g_assert_cmpint(rop_move_folder_resp_read(&r, &s), ==, 0);
		g_assert_cmpuint(s.dest_handle_index, ==, 0);
		g_byte_array_unref(b);
	}
}

/* MS-OXCTABL 4.5.3.1 (RopQueryRows, 50 rows forward), 4.3.2 (RopSortTable
 * answered TBLSTAT_COMPLETE); MS-OXORULE 4.2.2 (RopSetColumns answered). */
static void test_spec_tables(void)
{
	static const uint8_t qr[] = { 0x15, 0x00, 0x00, 0x00, 0x01, 0x32,
				      0x00 };
	static const uint8_t sort[] = { 0x13, 0x01, 0, 0, 0, 0, 0x00 };
	static const uint8_t setcol[] = { 0x12, 0x01, 0, 0, 0, 0, 0x00 };
	struct rop_query_rows_req q;
	struct rop_table_status_resp s;

	ROUND(qr, q, rop_query_rows_req_read, rop_query_rows_req_write,
	      nothing);
	g_assert_cmpuint(q.flags, ==, 0);
	g_assert_cmpuint(q.forward_read, ==, 1);
	g_assert_cmpuint(q.row_count, ==, 50);
	ROUND(sort, s, rop_sort_table_resp_read, rop_sort_table_resp_write,
	      nothing);
	g_assert_cmpuint(s.head.handle_index, ==, 1);
	g_assert_cmpuint(s.table_status, ==, 0);
	ROUND(setcol, s, rop_set_columns_resp_read, rop_set_columns_resp_write,
	      nothing);
	/* another ROP's id is refused */
	{
		struct mapi_rd r;

		mapi_rd_init(&r, sort, sizeof(sort));
		g_assert_cmpint(rop_restrict_resp_read(&r, &s), ==, -EPROTO);
	}
}

static void test_ghosted_folders(void)
{
	/* a ghosted public folder: two servers, one of them cheap */
	static const uint8_t open[] = { 0x02, 0x01, 0, 0, 0, 0, 0x01, 0x01,
					0x02, 0x00, 0x01, 0x00, 'a', 0, 'b',
					'c', 0 };
	static const uint8_t create[] = { 0x1C, 0x02, 0, 0, 0, 0,
					  0x01, 0, 0, 0, 0, 0, 0, 0x1D,
					  0x01, 0x00, 0x00 };
	static const uint8_t lies[] = { 0x02, 0x01, 0, 0, 0, 0, 0x00, 0x01,
					0xFF, 0xFF, 0x00, 0x00, 'a', 0 };
	struct rop_open_folder_resp o;
	struct rop_create_folder_resp c;
	struct mapi_rd r;

	ROUND(open, o, rop_open_folder_resp_read, rop_open_folder_resp_write,
	      rop_open_folder_resp_clear);
	g_assert_cmpuint(o.info.has_rules, ==, 1);
	g_assert_cmpuint(o.info.n_servers, ==, 2);
	g_assert_cmpuint(o.info.cheap_server_count, ==, 1);
	g_assert_cmpstr(o.info.servers[1], ==, "bc");
	rop_open_folder_resp_clear(&o);
	ROUND(create, c, rop_create_folder_resp_read,
	      rop_create_folder_resp_write, rop_create_folder_resp_clear);
	g_assert_cmpuint(c.is_existing, ==, 1);
	g_assert_cmpuint(c.folder_id, ==, 0x1D00000000000001);
	rop_create_folder_resp_clear(&c);
	/* a server count the bytes cannot hold */
	mapi_rd_init(&r, lies, sizeof(lies));
	g_assert_cmpint(rop_open_folder_resp_read(&r, &o), ==, -EPROTO);
}

static void test_folder_requests(void)
{
	/* OpenFolder(Inbox), 8-bit CreateFolder, EmptyFolder, the
	 * contents table of associated messages */
	static const uint8_t open[] = { 0x02, 0x00, 0x00, 0x01, 0x01, 0, 0,
					0, 0, 0, 0, 0x0D, 0x00 };
	static const uint8_t create[] = { 0x1C, 0x00, 0x01, 0x02, 0x01, 0x00,
					  0x00, 0x00, 'X', 0, 'y', 'z', 0 };
	static const uint8_t empty[] = { 0x58, 0x00, 0x01, 0x00, 0x01 };
	static const uint8_t empty_resp[] = { 0x58, 0x01, 0, 0, 0, 0, 0x01 };
	static const uint8_t ctab[] = { 0x05, 0x00, 0x01, 0x02, 0x02 };
	static const uint8_t ctab_resp[] = { 0x05, 0x02, 0, 0, 0, 0, 7, 0, 0,
					     0 };
	static const uint8_t release[] = { 0x01, 0x00, 0x03 };
	struct rop_open_folder_req of;
	struct rop_create_folder_req cf;
	struct rop_empty_folder_req ef;
	struct rop_partial_resp pr;
	struct rop_get_table_req tq;
	struct rop_get_table_resp ts;
	struct rop_release_req rel;

	ROUND(open, of, rop_open_folder_req_read, rop_open_folder_req_write,
	      nothing);
	g_assert_cmpuint(of.folder_id, ==, 0x0D00000000000001);
	g_assert_cmpuint(of.output_handle_index, ==, 1);
	ROUND(create, cf, rop_create_folder_req_read,
	      rop_create_folder_req_write, rop_create_folder_req_clear);
	g_assert_cmpstr(cf.display_name, ==, "X");
	g_assert_cmpstr(cf.comment, ==, "yz");
	rop_create_folder_req_clear(&cf);
	ROUND(empty, ef, rop_empty_folder_req_read, rop_empty_folder_req_write,
	      nothing);
	g_assert_cmpuint(ef.want_delete_associated, ==, 1);
	ROUND(empty_resp, pr, rop_empty_folder_resp_read,
	      rop_empty_folder_resp_write, nothing);
	g_assert_cmpuint(pr.partial_completion, ==, 1);
	ROUND(ctab, tq, rop_get_contents_table_req_read,
	      rop_get_contents_table_req_write, nothing);
	g_assert_cmpuint(tq.table_flags, ==, ROP_TABLE_ASSOCIATED);
	ROUND(ctab_resp, ts, rop_get_contents_table_resp_read,
	      rop_get_contents_table_resp_write, nothing);
	g_assert_cmpuint(ts.row_count, ==, 7);
	ROUND(release, rel, rop_release_req_read, rop_release_req_write,
	      nothing);
	g_assert_cmpuint(rel.input_handle_index, ==, 3);
}

static void test_sort_restrict_seek(void)
{
	/* by delivery time descending, then subject ascending */
	static const uint8_t sort[] = { 0x13, 0x00, 0x01, 0x00, 0x02, 0x00,
					0x00, 0x00, 0x00, 0x00,
					0x40, 0x00, 0x06, 0x0E, 0x01,
					0x1F, 0x00, 0x37, 0x00, 0x00 };
	static const uint8_t bad_cats[] = { 0x13, 0x00, 0x01, 0x00, 0x01, 0x00,
					    0x02, 0x00, 0x00, 0x00,
					    0x40, 0x00, 0x06, 0x0E, 0x01 };
	/* RES_EXIST on PidTagSubject, as opaque bytes */
	static const uint8_t restrict_q[] = { 0x14, 0x00, 0x01, 0x00, 0x05,
					      0x00, 0x08, 0x1F, 0x00, 0x37,
					      0x00 };
	static const uint8_t seek[] = { 0x18, 0x00, 0x01, 0x01, 0xFE, 0xFF,
					0xFF, 0xFF, 0x01 };
	static const uint8_t seek_resp[] = { 0x18, 0x01, 0, 0, 0, 0, 0x01,
					     0xFF, 0xFF, 0xFF, 0xFF };
	static const uint8_t pos_resp[] = { 0x17, 0x00, 0, 0, 0, 0, 7, 0, 0, 0,
					    12, 0, 0, 0 };
	struct rop_sort_table_req st;
	struct rop_restrict_req rq;
	struct rop_seek_row_req sq;
	struct rop_seek_row_resp ss;
	struct rop_query_position_resp ps;
	struct mapi_rd r;

	ROUND(sort, st, rop_sort_table_req_read, rop_sort_table_req_write,
	      rop_sort_table_req_clear);
	g_assert_cmpuint(st.n_sorts, ==, 2);
	g_assert_cmpuint(st.sorts[0].tag, ==, MAPI_TAG_MESSAGE_DELIVERY_TIME);
	g_assert_cmpuint(st.sorts[0].order, ==, 1);
	g_assert_cmpuint(st.sorts[1].tag, ==, MAPI_TAG_SUBJECT);
	rop_sort_table_req_clear(&st);
	mapi_rd_init(&r, bad_cats, sizeof(bad_cats));
	g_assert_cmpint(rop_sort_table_req_read(&r, &st), ==, -EPROTO);

	ROUND(restrict_q, rq, rop_restrict_req_read, rop_restrict_req_write,
	      rop_restrict_req_clear);
	g_assert_cmpuint(rq.restriction_len, ==, 5);
	g_assert_cmpuint(rq.restriction[0], ==, 0x08);
	rop_restrict_req_clear(&rq);

	ROUND(seek, sq, rop_seek_row_req_read, rop_seek_row_req_write, nothing);
	g_assert_cmpint(sq.row_count, ==, -2);
	g_assert_cmpuint(sq.origin, ==, 1);
	ROUND(seek_resp, ss, rop_seek_row_resp_read, rop_seek_row_resp_write,
	      nothing);
	g_assert_cmpint(ss.rows_sought, ==, -1);
	g_assert_cmpuint(ss.has_sought_less, ==, 1);
	ROUND(pos_resp, ps, rop_query_position_resp_read,
	      rop_query_position_resp_write, nothing);
	g_assert_cmpuint(ps.denominator, ==, 12);
}

static const uint32_t find_cols[] = { MAPI_TAG_MID, MAPI_TAG_SUBJECT };

static void test_find_row(void)
{
	static const uint8_t q_in[] = { 0x4F, 0x00, 0x01, 0x00,
					0x05, 0x00, 0x08, 0x1F, 0x00, 0x37,
					0x00, 0x00, 0x02, 0x00, 0xAB, 0xCD };
	static const uint8_t s_in[] = { 0x4F, 0x01, 0, 0, 0, 0, 0x00, 0x01,
					0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x05,
					'H', 0, 'i', 0, 0, 0 };
	static const uint8_t none[] = { 0x4F, 0x01, 0, 0, 0, 0, 0x01, 0x00 };
	struct rop_find_row_req q;
	struct rop_find_row_resp s;

	ROUND(q_in, q, rop_find_row_req_read, rop_find_row_req_write,
	      rop_find_row_req_clear);
	g_assert_cmpuint(q.bookmark_len, ==, 2);
	g_assert_cmpuint(q.bookmark[1], ==, 0xCD);
	rop_find_row_req_clear(&q);
	ROUND(s_in, s, rop_find_row_resp_read, (void)rop_find_row_resp_write,
	      rop_find_row_resp_clear, find_cols, 2);
	g_assert_cmpuint(s.has_row_data, ==, 1);
	g_assert_cmpstr(mapi_props_str(&s.row.props, 0x0037), ==, "Hi");
	rop_find_row_resp_clear(&s);
	ROUND(none, s, rop_find_row_resp_read, (void)rop_find_row_resp_write,
	      rop_find_row_resp_clear, find_cols, 2);
	g_assert_cmpuint(s.row_no_longer_visible, ==, 1);
}

static void test_props_all_and_delete(void)
{
	static const uint8_t all_q[] = { 0x08, 0x00, 0x01, 0x00, 0x00, 0x01,
					 0x00 };
	static const uint8_t all_s[] = { 0x08, 0x01, 0, 0, 0, 0, 0x02, 0x00,
					 0x03, 0x00, 0x07, 0x0E, 0x03, 0x04, 0,
					 0, 0x1F, 0x00, 0x37, 0x00, 'A', 0, 0,
					 0 };
	static const uint8_t del_q[] = { 0x0B, 0x00, 0x01, 0x01, 0x00, 0x1F,
					 0x00, 0x37, 0x00 };
	static const uint8_t del_s[] = { 0x0B, 0x01, 0, 0, 0, 0, 0x01, 0x00,
					 0x00, 0x00, 0x1F, 0x00, 0x37, 0x00,
					 0x05, 0x00, 0x07, 0x80 };
	static const uint8_t all_lies[] = { 0x08, 0x01, 0, 0, 0, 0, 0xFF,
					    0xFF, 0x03, 0x00 };
	struct rop_get_props_all_req aq;
	struct rop_get_props_all_resp as;
	struct rop_delete_props_req dq;
	struct rop_problems_resp ds;
	struct mapi_rd r;

	ROUND(all_q, aq, rop_get_props_all_req_read,
	      rop_get_props_all_req_write, nothing);
	g_assert_cmpuint(aq.want_unicode, ==, 1);
	ROUND(all_s, as, rop_get_props_all_resp_read,
	      (void)rop_get_props_all_resp_write,
	      rop_get_props_all_resp_clear);
	g_assert_cmpuint(as.props.n, ==, 2);
	g_assert_cmpint(mapi_props_l(&as.props, 0x0E07, 0), ==, 0x403);
	g_assert_cmpstr(mapi_props_str(&as.props, 0x0037), ==, "A");
	rop_get_props_all_resp_clear(&as);
	mapi_rd_init(&r, all_lies, sizeof(all_lies));
	g_assert_cmpint(rop_get_props_all_resp_read(&r, &as), ==, -EPROTO);

	ROUND(del_q, dq, rop_delete_props_req_read, rop_delete_props_req_write,
	      rop_delete_props_req_clear);
	g_assert_cmpuint(dq.n_tags, ==, 1);
	g_assert_cmpuint(dq.tags[0], ==, MAPI_TAG_SUBJECT);
	rop_delete_props_req_clear(&dq);
	ROUND(del_s, ds, rop_delete_props_resp_read,
	      rop_delete_props_resp_write, rop_problems_resp_clear);
	g_assert_cmpuint(ds.n_problems, ==, 1);
	g_assert_cmpuint(ds.problems[0].err, ==, MAPI_E_NO_ACCESS);
	rop_problems_resp_clear(&ds);
}

static void test_prop_ids(void)
{
	/* PS_PUBLIC_STRINGS "Keywords" and PSETID_Common LID 0x8514, with
	 * create; NameSize counts the UTF-16 bytes and the terminator */
	static const uint8_t q_in[] = {
		0x56, 0x00, 0x01, 0x02, 0x03, 0x00,
		0x01, 0x29, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
		0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
		0x12, 'K', 0, 'e', 0, 'y', 0, 'w', 0, 'o', 0, 'r', 0, 'd', 0,
		's', 0, 0, 0,
		0x00, 0x08, 0x20, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00,
		0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
		0x14, 0x85, 0x00, 0x00,
		0xFF, 0x08, 0x20, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00,
		0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
	};
	static const uint8_t s_in[] = { 0x56, 0x01, 0, 0, 0, 0, 0x02, 0x00,
					0x01, 0x80, 0x02, 0x80 };
	static const uint8_t warn[] = { 0x56, 0x01, 0x80, 0x03, 0x04, 0x00,
					0x01, 0x00, 0x00, 0x00 };
	static const uint8_t bad_kind[] = { 0x56, 0x00, 0x01, 0x02, 0x01,
					    0x00, 0x07, 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct rop_get_prop_ids_req q;
	struct rop_get_prop_ids_resp s;
	struct mapi_rd r;
	GByteArray *b;
	size_t k;

	ROUND(q_in, q, rop_get_prop_ids_req_read, rop_get_prop_ids_req_write,
	      rop_get_prop_ids_req_clear);
	g_assert_cmpuint(q.flags, ==, 0x02);
	g_assert_cmpuint(q.n_names, ==, 3);
	g_assert_cmpuint(q.names[0].kind, ==, ROP_NAME_STRING);
	g_assert_cmpstr(q.names[0].name, ==, "Keywords");
	g_assert_cmpuint(q.names[1].lid, ==, 0x8514);
	g_assert_cmpuint(q.names[2].kind, ==, ROP_NAME_NONE);
	rop_get_prop_ids_req_clear(&q);
	ROUND(s_in, s, rop_get_prop_ids_resp_read, rop_get_prop_ids_resp_write,
	      rop_get_prop_ids_resp_clear);
	g_assert_cmpuint(s.ids[1], ==, 0x8002);
	rop_get_prop_ids_resp_clear(&s);
	/* ecWarnWithErrors still carries the ids (0 where none) */
	b = g_byte_array_new();
	mapi_rd_init(&r, warn, sizeof(warn));
	g_assert_cmpint(rop_get_prop_ids_resp_read(&r, &s), ==, 0);
	g_assert_cmpuint(s.head.rv, ==, ROP_W_ERRORS_RETURNED);
	g_assert_cmpuint(s.n_ids, ==, 1);
	g_assert_cmpuint(s.ids[0], ==, 0);
	rop_get_prop_ids_resp_write(b, &s);
	g_assert_cmpmem(b->data, b->len, warn, sizeof(warn));
	rop_get_prop_ids_resp_clear(&s);
	g_byte_array_unref(b);
	/* ... and so does its short form, the head alone; a count cut
	 * short is refused */
	for (k = 0; k < sizeof(warn); k++) {
		mapi_rd_init(&r, warn, k);
		g_assert_cmpint(rop_get_prop_ids_resp_read(&r, &s), ==,
				k == 6 ? 0 : -EBADMSG);
		g_assert_cmpuint(s.n_ids, ==, 0);
		rop_get_prop_ids_resp_clear(&s);
	}
	mapi_rd_init(&r, bad_kind, sizeof(bad_kind));
	g_assert_cmpint(rop_get_prop_ids_req_read(&r, &q), ==, -EPROTO);
	g_assert_null(q.names);
}

static void test_set_props_size(void)
{
	/* PropertyValueSize that says more than the values hold */
	static const uint8_t lies[] = { 0x0A, 0x00, 0x01, 0x0C, 0x00, 0x01,
					0x00, 0x03, 0x00, 0x07, 0x0E, 1, 0, 0,
					0, 0xEE, 0xEE };
	struct rop_set_props_req q = { .logon_id = 0 }, back;
	GByteArray *b = g_byte_array_new();
	struct mapi_rd r;

	mapi_rd_init(&r, lies, sizeof(lies));
	g_assert_cmpint(rop_set_props_req_read(&r, &back), ==, -EPROTO);
	g_assert_cmpuint(back.props.n, ==, 0);

	mapi_props_set_l(&q.props, MAPI_TAG_IMPORTANCE, 2);
	mapi_props_set_str(&q.props, MAPI_TAG_SUBJECT, "S");
	g_assert_cmpint(rop_set_props_req_write(b, &q), ==, 0);
	/* 2 (count) + 8 (Importance) + 8 (Subject "S") */
	g_assert_cmpuint(b->data[3] | b->data[4] << 8, ==, 18);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_set_props_req_read(&r, &back), ==, 0);
	g_assert_cmpstr(mapi_props_str(&back.props, 0x0037), ==, "S");
	rop_set_props_req_clear(&back);
	rop_set_props_req_clear(&q);
	g_byte_array_unref(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rop/spec/move-folder", test_spec_move_folder);
	g_test_add_func("/rop/spec/tables", test_spec_tables);
	g_test_add_func("/rop/ghosted-folders", test_ghosted_folders);
	g_test_add_func("/rop/folder-requests", test_folder_requests);
	g_test_add_func("/rop/sort-restrict-seek", test_sort_restrict_seek);
	g_test_add_func("/rop/find-row", test_find_row);
	g_test_add_func("/rop/props-all-delete", test_props_all_and_delete);
	g_test_add_func("/rop/prop-ids", test_prop_ids);
	g_test_add_func("/rop/set-props-size", test_set_props_size);
	return g_test_run();
}
