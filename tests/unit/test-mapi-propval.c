/*
 * test-mapi-propval.c - wire/mapi-propval.h (MS-OXCDATA 2.7, 2.8, 2.11,
 * 2.12: values, tag arrays, problems, property rows) and the ROP buffer
 * framing of wire/rop.h (MS-OXCROPS 2.2.1).
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-buf.h"
#include "wire/mapi-propval.h"
#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "mapi-trace.h"

/* Every value of `bytes` read as `tag`, written back the same, and every
 * shorter prefix refused. */
static void check_value(uint32_t tag, unsigned fl, const uint8_t *bytes,
			size_t len)
{
	struct mapi_value v;
	struct mapi_rd r;
	GByteArray *b = g_byte_array_new();
	size_t cut;

	mapi_rd_init(&r, bytes, len);
	g_assert_cmpint(mapi_pv_read(&r, tag, fl, &v), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_assert_cmpuint(v.tag, ==, tag);
	g_assert_cmpint(mapi_pv_write(b, &v, fl), ==, 0);
	g_assert_cmpmem(b->data, b->len, bytes, len);
	mapi_value_clear(&v);
	for (cut = 0; cut < len; cut++) {
		mapi_rd_init(&r, bytes, cut);
		g_assert_cmpint(mapi_pv_read(&r, tag, fl, &v), !=, 0);
		/* nothing left to free after a failure */
		g_assert_cmpuint(MAPI_TAG_TYPE(v.tag), ==, MAPI_PT_NULL);
	}
	g_byte_array_unref(b);
}

static void test_values(void)
{
	static const uint8_t i2[] = { 0xFE, 0xFF };
	static const uint8_t l[] = { 0x78, 0x56, 0x34, 0x12 };
	static const uint8_t d[] = { 0, 0, 0, 0, 0, 0, 0xF0, 0x3F };
	static const uint8_t b1[] = { 0x01 };
	static const uint8_t s8[] = { 'I', 'P', 'M', 0 };
	static const uint8_t su[] = { 'K', 0, 0xF6, 0, 'l', 0, 'n', 0, 0, 0 };
	static const uint8_t bin[] = { 0x03, 0x00, 0xAA, 0xBB, 0xCC };
	static const uint8_t bin32[] = { 0x02, 0, 0, 0, 0xAA, 0xBB };
	static const uint8_t guid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
					  12, 13, 14, 15, 16 };
	/* two strings, a multi-valued count is 32 bits in ROPs too */
	static const uint8_t mvs[] = { 2, 0, 0, 0, 'a', 0, 0, 0,
				       'b', 0, 'c', 0, 0, 0 };
	static const uint8_t mvb[] = { 2, 0, 0, 0, 1, 0, 0xEE, 0, 0 };
	static const uint8_t mvl[] = { 1, 0, 0, 0, 9, 0, 0, 0 };
	struct mapi_value v;
	struct mapi_rd r;

	check_value(MAPI_TAG(0x8001, MAPI_PT_I2), 0, i2, sizeof(i2));
	check_value(MAPI_TAG_MESSAGE_FLAGS, 0, l, sizeof(l));
	check_value(MAPI_TAG(0x8002, MAPI_PT_DOUBLE), 0, d, sizeof(d));
	check_value(MAPI_TAG_HAS_ATTACHMENTS, 0, b1, sizeof(b1));
	check_value(MAPI_TAG_RETYPE(MAPI_TAG_MESSAGE_CLASS, MAPI_PT_STRING8),
		    0, s8, sizeof(s8));
	check_value(MAPI_TAG_SUBJECT, 0, su, sizeof(su));
	check_value(MAPI_TAG_CHANGE_KEY, 0, bin, sizeof(bin));
	check_value(MAPI_TAG_CHANGE_KEY, MAPI_PV_BIN32, bin32, sizeof(bin32));
	check_value(MAPI_TAG(0x8003, MAPI_PT_CLSID), 0, guid, sizeof(guid));
	check_value(MAPI_TAG(0x8004, MAPI_PT_MV | MAPI_PT_UNICODE), 0, mvs,
		    sizeof(mvs));
	check_value(MAPI_TAG(0x8005, MAPI_PT_MV | MAPI_PT_BINARY), 0, mvb,
		    sizeof(mvb));
	check_value(MAPI_TAG(0x8006, MAPI_PT_MV | MAPI_PT_LONG), 0, mvl,
		    sizeof(mvl));

	mapi_rd_init(&r, su, sizeof(su));
	g_assert_cmpint(mapi_pv_read(&r, MAPI_TAG_SUBJECT, 0, &v), ==, 0);
	g_assert_cmpstr(v.v.str, ==, "K\xc3\xb6ln");
	mapi_value_clear(&v);
	mapi_rd_init(&r, mvs, sizeof(mvs));
	g_assert_cmpint(mapi_pv_read(&r, MAPI_TAG(0x8004, MAPI_PT_MV |
						  MAPI_PT_UNICODE), 0, &v),
			==, 0);
	g_assert_cmpuint(v.v.mv.count, ==, 2);
	g_assert_cmpstr(v.v.mv.a.str[1], ==, "bc");
	mapi_value_clear(&v);
}

static void test_hostile_values(void)
{
	/* a multi-valued count far beyond the bytes: refused before any
	 * allocation of that size */
	static const uint8_t huge[] = { 0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4 };
	static const uint8_t bin_lies[] = { 0xFF, 0xFF, 1, 2 };
	static const uint8_t bad16[] = { 0x00, 0xDC, 0, 0 };
	struct mapi_value v;
	struct mapi_rd r;
	GByteArray *b = g_byte_array_new();

	mapi_rd_init(&r, huge, sizeof(huge));
	g_assert_cmpint(mapi_pv_read(&r, MAPI_TAG(1, MAPI_PT_MV | MAPI_PT_I8),
				     0, &v), ==, -EPROTO);
	mapi_rd_init(&r, huge, sizeof(huge));
	g_assert_cmpint(mapi_pv_read(&r, MAPI_TAG(1, MAPI_PT_MV |
						  MAPI_PT_BINARY), 0, &v),
			==, -EPROTO);
	mapi_rd_init(&r, bin_lies, sizeof(bin_lies));
	g_assert_cmpint(mapi_pv_read(&r, MAPI_TAG_CHANGE_KEY, 0, &v), ==,
			-EBADMSG);
	mapi_rd_init(&r, bad16, sizeof(bad16));
	g_assert_cmpint(mapi_pv_read(&r, MAPI_TAG_SUBJECT, 0, &v), ==,
			-EILSEQ);
	/* types with no value form here */
	mapi_rd_init(&r, huge, sizeof(huge));
	g_assert_cmpint(mapi_pv_read(&r, MAPI_TAG(1, MAPI_PT_UNSPECIFIED), 0,
				     &v), ==, -EPROTO);
	mapi_rd_init(&r, huge, sizeof(huge));
	g_assert_cmpint(mapi_pv_read(&r, MAPI_TAG(1, MAPI_PT_SRESTRICT), 0,
				     &v), ==, -EPROTO);
	mapi_rd_init(&r, huge, sizeof(huge));
	g_assert_cmpint(mapi_pv_read(&r, MAPI_TAG(1, MAPI_PT_MV |
						  MAPI_PT_BOOLEAN), 0, &v),
			==, -EPROTO);
	/* a writer never emits what the reader would refuse */
	v.tag = MAPI_TAG(1, MAPI_PT_ACTIONS);
	g_assert_cmpint(mapi_pv_write(b, &v, 0), ==, -EPROTO);
	g_assert_cmpuint(b->len, ==, 0);
	g_byte_array_unref(b);
}

static void test_tagged_typed(void)
{
	/* PidTagContainerClass "IPF.Note" as 00-setup #3 sets it */
	static const uint8_t tagged[] = { 0x1F, 0x00, 0x13, 0x36, 'I', 0, 'P',
					  0, 'F', 0, '.', 0, 'N', 0, 'o', 0,
					  't', 0, 'e', 0, 0, 0 };
	static const uint8_t typed[] = { 0x03, 0x00, 0x07, 0, 0, 0 };
	struct mapi_value v;
	struct mapi_rd r;
	GByteArray *b = g_byte_array_new();

	mapi_rd_init(&r, tagged, sizeof(tagged));
	g_assert_cmpint(mapi_tagged_pv_read(&r, 0, &v), ==, 0);
	g_assert_cmpuint(v.tag, ==, MAPI_TAG_CONTAINER_CLASS);
	g_assert_cmpstr(v.v.str, ==, "IPF.Note");
	g_assert_cmpint(mapi_tagged_pv_write(b, &v, 0), ==, 0);
	g_assert_cmpmem(b->data, b->len, tagged, sizeof(tagged));
	mapi_value_clear(&v);

	g_byte_array_set_size(b, 0);
	mapi_rd_init(&r, typed, sizeof(typed));
	g_assert_cmpint(mapi_typed_pv_read(&r, 0x3602, 0, &v), ==, 0);
	g_assert_cmpuint(v.tag, ==, MAPI_TAG_CONTENT_COUNT);
	g_assert_cmpint(v.v.l, ==, 7);
	g_assert_cmpint(mapi_typed_pv_write(b, &v, 0), ==, 0);
	g_assert_cmpmem(b->data, b->len, typed, sizeof(typed));
	g_byte_array_unref(b);
}

static void test_tstr(void)
{
	static const uint8_t in[] = { 0x00, 0x01, 0x02, 'a', 0,
				      0x03, 'K', 0xF6, 0,
				      0x04, 'x', 0, 0, 0 };
	static const char *const want[] = { NULL, "", "a", "K\xc3\xb6", "x" };
	struct mapi_tstr s;
	struct mapi_rd r;
	GByteArray *b = g_byte_array_new();
	size_t i, cut;

	mapi_rd_init(&r, in, sizeof(in));
	for (i = 0; i < G_N_ELEMENTS(want); i++) {
		g_assert_cmpint(mapi_tstr_read(&r, &s), ==, 0);
		g_assert_cmpstr(s.str, ==, want[i]);
		mapi_tstr_write(b, &s);
		mapi_tstr_clear(&s);
	}
	g_assert_cmpmem(b->data, b->len, in, sizeof(in));
	for (cut = 0; cut < sizeof(in); cut++) {
		mapi_rd_init(&r, in, cut);
		while (mapi_tstr_read(&r, &s) == 0)
			mapi_tstr_clear(&s);
	}
	/* reduced Unicode cannot carry what is past U+00FF */
	g_byte_array_set_size(b, 0);
	s.type = MAPI_TSTR_REDUCED;
	s.str = (char *)"\xe2\x9c\x93";
	mapi_tstr_write(b, &s);
	g_assert_cmpuint(b->data[0], ==, MAPI_TSTR_UNICODE);
	g_assert_cmpuint(b->len, ==, 5);
	mapi_rd_init(&r, (const uint8_t[]){ 0x05 }, 1);
	g_assert_cmpint(mapi_tstr_read(&r, &s), ==, -EPROTO);
	g_byte_array_unref(b);
}

static void test_tags_problems(void)
{
	static const uint8_t tags[] = { 2, 0, 0x1F, 0, 0x37, 0,
					0x03, 0, 0x07, 0x0E };
	static const uint8_t probs[] = { 1, 0, 0, 0, 0x1F, 0, 0x13, 0x36,
					 0x05, 0x01, 0x04, 0x80 };
	static const uint8_t lies[] = { 0xFF, 0xFF, 1, 2, 3, 4 };
	struct mapi_problem *p;
	uint32_t *t;
	size_t n;
	struct mapi_rd r;
	GByteArray *b = g_byte_array_new();

	mapi_rd_init(&r, tags, sizeof(tags));
	g_assert_cmpint(mapi_tags_read(&r, &t, &n), ==, 0);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpuint(t[1], ==, MAPI_TAG_MESSAGE_FLAGS);
	mapi_tags_write(b, t, n);
	g_assert_cmpmem(b->data, b->len, tags, sizeof(tags));
	g_free(t);

	g_byte_array_set_size(b, 0);
	mapi_rd_init(&r, probs, sizeof(probs));
	g_assert_cmpint(mapi_problems_read(&r, &p, &n), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(p[0].tag, ==, MAPI_TAG_CONTAINER_CLASS);
	g_assert_cmpuint(p[0].err, ==, 0x80040105);
	mapi_problems_write(b, p, n);
	g_assert_cmpmem(b->data, b->len, probs, sizeof(probs));
	g_free(p);

	mapi_rd_init(&r, lies, sizeof(lies));
	g_assert_cmpint(mapi_tags_read(&r, &t, &n), ==, -EBADMSG);
	g_assert_null(t);
	mapi_rd_init(&r, lies, sizeof(lies));
	g_assert_cmpint(mapi_problems_read(&r, &p, &n), ==, -EBADMSG);
	g_assert_null(p);
	g_byte_array_unref(b);
}

static const uint32_t row_cols[] = {
	MAPI_TAG_FOLDER_ID, MAPI_TAG_DISPLAY_NAME, MAPI_TAG_CONTENT_COUNT,
	MAPI_TAG_SUBFOLDERS, MAPI_TAG_CONTAINER_CLASS,
};

static void test_rows(void)
{
	/* standard: every column present */
	static const uint8_t std[] = {
		0x00,
		0x01, 0, 0, 0, 0, 0, 0, 0x0D,
		'I', 0, 'n', 0, 0, 0,
		0x0C, 0, 0, 0,
		0x01,
		'I', 0, 'P', 0, 'F', 0, 0, 0,
	};
	/* flagged: the container class missing (as gromox sends it), the
	 * subfolders flag absent */
	static const uint8_t flg[] = {
		0x01,
		0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x0D,
		0x00, 'I', 0, 'n', 0, 0, 0,
		0x00, 0x0C, 0, 0, 0,
		0x01,
		0x0A, 0x0F, 0x01, 0x04, 0x80,
	};
	struct mapi_row row, built;
	struct mapi_props src = { 0 };
	const struct mapi_value *v;
	struct mapi_rd r;
	GByteArray *b = g_byte_array_new();
	size_t cut;

	mapi_rd_init(&r, std, sizeof(std));
	g_assert_cmpint(mapi_row_read(&r, row_cols, 5, 0, &row), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_assert_cmpuint(row.flagged, ==, 0);
	g_assert_cmpstr(mapi_props_str(&row.props, 0x3001), ==, "In");
	g_assert_true(mapi_props_b(&row.props, 0x360A, false));
	g_assert_cmpint(mapi_row_write(b, &row, row_cols, 5, 0), ==, 0);
	g_assert_cmpmem(b->data, b->len, std, sizeof(std));
	mapi_row_clear(&row);

	g_byte_array_set_size(b, 0);
	mapi_rd_init(&r, flg, sizeof(flg));
	g_assert_cmpint(mapi_row_read(&r, row_cols, 5, 0, &row), ==, 0);
	g_assert_cmpuint(row.flagged, ==, 1);
	g_assert_cmpuint(row.status[3], ==, MAPI_PV_ABSENT);
	g_assert_null(mapi_props_get(&row.props, 0x360A));
	g_assert_cmpuint(row.status[4], ==, MAPI_PV_ERROR);
	v = mapi_props_get(&row.props, 0x3613);
	g_assert_cmpuint(v->tag, ==, 0x3613000A);
	g_assert_cmpuint(v->v.err, ==, MAPI_E_NOT_FOUND);
	g_assert_cmpint(mapi_row_write(b, &row, row_cols, 5, 0), ==, 0);
	g_assert_cmpmem(b->data, b->len, flg, sizeof(flg));
	mapi_row_clear(&row);

	for (cut = 0; cut < sizeof(flg); cut++) {
		mapi_rd_init(&r, flg, cut);
		g_assert_cmpint(mapi_row_read(&r, row_cols, 5, 0, &row), ==,
				-EBADMSG);
	}
	mapi_rd_init(&r, (const uint8_t[]){ 0x02 }, 1);
	g_assert_cmpint(mapi_row_read(&r, row_cols, 5, 0, &row), ==, -EPROTO);

	/* a server's row from a bag: the missing column becomes NotFound */
	mapi_props_set_i8(&src, MAPI_TAG_FOLDER_ID, 0x0D00000000000001);
	mapi_props_set_str(&src, MAPI_TAG_DISPLAY_NAME, "In");
	mapi_props_set_l(&src, MAPI_TAG_CONTENT_COUNT, 12);
	mapi_props_set_b(&src, MAPI_TAG_SUBFOLDERS, true);
	mapi_row_from_props(&built, row_cols, 5, &src);
	g_assert_cmpuint(built.flagged, ==, 1);
	g_byte_array_set_size(b, 0);
	g_assert_cmpint(mapi_row_write(b, &built, row_cols, 5, 0), ==, 0);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(mapi_row_read(&r, row_cols, 5, 0, &row), ==, 0);
	g_assert_cmpuint(row.status[4], ==, MAPI_PV_ERROR);
	g_assert_true(mapi_props_b(&row.props, 0x360A, false));
	mapi_row_clear(&row);
	mapi_row_clear(&built);
	mapi_props_set_str(&src, MAPI_TAG_CONTAINER_CLASS, "IPF");
	mapi_row_from_props(&built, row_cols, 5, &src);
	g_assert_cmpuint(built.flagged, ==, 0);
	g_byte_array_set_size(b, 0);
	g_assert_cmpint(mapi_row_write(b, &built, row_cols, 5, 0), ==, 0);
	g_assert_cmpmem(b->data, b->len, std, sizeof(std));
	mapi_row_clear(&built);
	mapi_props_clear(&src);
	g_byte_array_unref(b);
}

static void test_rows_hostile(void)
{
	static const uint8_t two[] = { 0, 1, 0, 0, 0, 0, 2, 0, 0, 0 };
	uint32_t col = MAPI_TAG_CONTENT_COUNT;
	struct mapi_row *rows;
	struct mapi_rd r;

	mapi_rd_init(&r, two, sizeof(two));
	g_assert_cmpint(mapi_rows_read(&r, 2, &col, 1, 0, &rows), ==, 0);
	g_assert_cmpint(mapi_props_l(&rows[1].props, 0x3602, 0), ==, 2);
	mapi_rows_free(rows, 2);
	/* a row count the bytes cannot hold */
	mapi_rd_init(&r, two, sizeof(two));
	g_assert_cmpint(mapi_rows_read(&r, 0xFFFF, &col, 1, 0, &rows), ==,
			-EPROTO);
	g_assert_null(rows);
	mapi_rd_init(&r, two, sizeof(two));
	g_assert_cmpint(mapi_rows_read(&r, 3, &col, 1, 0, &rows), ==,
			-EBADMSG);
}

static void test_frame(void)
{
	static const uint8_t buf[] = { 0x05, 0x00, 0x01, 0x00, 0x00,
				       0x00, 0x00, 0x00, 0x00,
				       0xFF, 0xFF, 0xFF, 0xFF };
	struct rop_frame f;
	GByteArray *b = g_byte_array_new();
	size_t at, cut;

	g_assert_cmpint(rop_frame_read(buf, sizeof(buf), &f), ==, 0);
	g_assert_cmpuint(f.rops_len, ==, 3);
	g_assert_cmpuint(f.rops[0], ==, ROP_RELEASE);
	g_assert_cmpuint(f.n_handles, ==, 2);
	g_assert_cmpuint(f.handles[1], ==, 0xFFFFFFFF);
	at = rop_frame_begin(b);
	mapi_wr_bytes(b, f.rops, f.rops_len);
	rop_frame_end(b, at, f.handles, f.n_handles);
	g_assert_cmpmem(b->data, b->len, buf, sizeof(buf));
	rop_frame_clear(&f);
	for (cut = 0; cut < sizeof(buf); cut++) {
		int rc = rop_frame_read(buf, cut, &f);

		/* a cut inside the handle table or the ROPs */
		if (cut == 5 || cut == 9)
			g_assert_cmpint(rc, ==, 0);
		else
			g_assert_cmpint(rc, !=, 0);
		rop_frame_clear(&f);
	}
	g_assert_cmpint(rop_frame_read((const uint8_t[]){ 1, 0 }, 2, &f), ==,
			-EPROTO);
	g_byte_array_unref(b);
}

/* The ROP buffer of a recorded Execute response (MS-OXCMAPIHTTP 2.2.4.2.2:
 * StatusCode, ErrorCode, Flags, RopBufferSize, then one RPC_HEADER_EXT and
 * its payload). */
static void test_recorded_frame(void)
{
	struct mapi_trace *t = mapi_trace_load("01-connect-logon");
	const struct mapi_trace_exchange *x = mapi_trace_at(t, 1);
	struct mapi_rd r;
	struct rop_frame f;
	const uint8_t *rops;
	uint16_t size;
	struct rop_resp_head h;
	struct mapi_rd rr;

	mapi_rd_init(&r, x->resp + x->resp_bin_off,
		     x->resp_len - x->resp_bin_off);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);
	mapi_rd_skip(&r, 4 + 4 + 2);
	g_assert_cmpuint(mapi_rd_u16(&r), ==, 0x0004);
	size = mapi_rd_u16(&r);
	mapi_rd_skip(&r, 2);
	rops = mapi_rd_bytes(&r, size);
	g_assert_nonnull(rops);
	g_assert_cmpint(rop_frame_read(rops, size, &f), ==, 0);
	g_assert_cmpuint(f.n_handles, ==, 1);
	g_assert_cmpuint(f.handles[0], ==, 0);
	mapi_rd_init(&rr, f.rops, f.rops_len);
	g_assert_cmpint(rop_peek_id(&rr), ==, ROP_LOGON);
	g_assert_cmpint(rop_resp_head_read(&rr, ROP_LOGON, &h), ==, 0);
	g_assert_cmpuint(h.rv, ==, 0);
	mapi_rd_init(&rr, f.rops, f.rops_len);
	g_assert_cmpint(rop_resp_head_read(&rr, ROP_RELEASE, &h), ==, -EPROTO);
	rop_frame_clear(&f);
	mapi_trace_free(t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mapi-propval/values", test_values);
	g_test_add_func("/mapi-propval/hostile-values", test_hostile_values);
	g_test_add_func("/mapi-propval/tagged-typed", test_tagged_typed);
	g_test_add_func("/mapi-propval/typed-string", test_tstr);
	g_test_add_func("/mapi-propval/tags-problems", test_tags_problems);
	g_test_add_func("/mapi-propval/rows", test_rows);
	g_test_add_func("/mapi-propval/rows-hostile", test_rows_hostile);
	g_test_add_func("/rop/frame", test_frame);
	g_test_add_func("/rop/recorded-frame", test_recorded_frame);
	return g_test_run();
}
