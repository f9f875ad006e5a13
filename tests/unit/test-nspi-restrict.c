/*
 * test-nspi-restrict.c - wire/mapi-restrict.h: restrictions of every kind
 * read and written in the NSPI, ROP and extended-rule forms, the bounds on
 * nesting and size, the filters of the recorded GetMatches requests
 * (tests/data/mapi-traces/09-nspi.json #5-#7), and truncations.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-restrict.h"
#include "wire/mapi-tags.h"
#include "wire/nspi.h"
#include "mapi-trace.h"

static struct mapi_value str_value(uint32_t tag, const char *s)
{
	struct mapi_value v = { .tag = tag };

	v.v.str = (char *)s;
	return v;
}

/* One of every kind, nested. */
static struct mapi_res *every_kind(void)
{
	struct mapi_value name = str_value(MAPI_TAG_DISPLAY_NAME, "Bob");
	struct mapi_value flags = { .tag = MAPI_TAG_MESSAGE_FLAGS };
	struct mapi_res *subs[4], *inner[2], *res;

	flags.v.l = 1;
	inner[0] = mapi_res_new_content(MAPI_FL_SUBSTRING, MAPI_FL_IGNORECASE,
					MAPI_TAG_DISPLAY_NAME, &name);
	inner[1] = mapi_res_new_prop(MAPI_RELOP_GE, MAPI_TAG_MESSAGE_FLAGS,
				     &flags);
	subs[0] = mapi_res_new_list(MAPI_RES_OR, inner, 2);
	subs[1] = mapi_res_new_not(mapi_res_new_exist(MAPI_TAG_SUBJECT));

	res = g_new0(struct mapi_res, 1);
	res->type = MAPI_RES_SUBRESTRICTION;
	res->u.subobj.subobject = 0x0E12000DU;
	res->u.subobj.res = g_new0(struct mapi_res, 1);
	res->u.subobj.res->type = MAPI_RES_BITMASK;
	res->u.subobj.res->u.bitmask.relop = MAPI_BMR_NEZ;
	res->u.subobj.res->u.bitmask.tag = MAPI_TAG_MESSAGE_FLAGS;
	res->u.subobj.res->u.bitmask.mask = MAPI_MSGFLAG_READ;
	subs[2] = res;

	res = g_new0(struct mapi_res, 1);
	res->type = MAPI_RES_COUNT;
	res->u.count.count = 5;
	res->u.count.res = g_new0(struct mapi_res, 1);
	res->u.count.res->type = MAPI_RES_COMMENT;
	res->u.count.res->u.comment.n_vals = 1;
	res->u.count.res->u.comment.vals = g_new0(struct mapi_value, 1);
	mapi_value_copy(&res->u.count.res->u.comment.vals[0], &name);
	res->u.count.res->u.comment.res = g_new0(struct mapi_res, 1);
	res->u.count.res->u.comment.res->type = MAPI_RES_SIZE;
	res->u.count.res->u.comment.res->u.size.relop = MAPI_RELOP_LT;
	res->u.count.res->u.comment.res->u.size.tag = MAPI_TAG_BODY;
	res->u.count.res->u.comment.res->u.size.size = 4096;
	subs[3] = res;

	res = mapi_res_new_list(MAPI_RES_AND, subs, 4);
	/* and a CompareProps at the end, grown in place */
	res->u.list.a = g_renew(struct mapi_res, res->u.list.a, 5);
	memset(&res->u.list.a[4], 0, sizeof(res->u.list.a[4]));
	res->u.list.a[4].type = MAPI_RES_COMPAREPROPS;
	res->u.list.a[4].u.cmp.relop = MAPI_RELOP_NE;
	res->u.list.a[4].u.cmp.tag1 = MAPI_TAG_DISPLAY_TO;
	res->u.list.a[4].u.cmp.tag2 = MAPI_TAG_DISPLAY_CC;
	res->u.list.n = 5;
	return res;
}

static void roundtrip(const struct mapi_res_form *f,
		      const struct mapi_res *res)
{
	GByteArray *b = g_byte_array_new(), *b2 = g_byte_array_new();
	struct mapi_res *back;
	struct mapi_rd r;
	size_t cut;

	mapi_res_write(b, f, res);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(mapi_res_read(&r, f, &back), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_assert_true(mapi_res_equal(res, back));
	mapi_res_write(b2, f, back);
	g_assert_cmpmem(b2->data, b2->len, b->data, b->len);
	mapi_res_free(back);
	for (cut = 0; cut < b->len; cut++) {
		mapi_rd_init(&r, b->data, cut);
		g_assert_cmpint(mapi_res_read(&r, f, &back), <, 0);
		g_assert_null(back);
		g_assert_cmpint(mapi_rd_error(&r), <, 0);
	}
	g_byte_array_unref(b);
	g_byte_array_unref(b2);
}

static void test_every_kind(void)
{
	struct mapi_res *res = every_kind();
	struct mapi_res *other = every_kind();
	GByteArray *nspi = g_byte_array_new(), *rop = g_byte_array_new();
	GByteArray *ext = g_byte_array_new();

	g_assert_true(mapi_res_equal(res, other));
	other->u.list.a[4].u.cmp.relop = MAPI_RELOP_EQ;
	g_assert_false(mapi_res_equal(res, other));
	roundtrip(&nspi_res_form, res);
	roundtrip(&mapi_res_form_rop, res);
	roundtrip(&mapi_res_form_ext, res);
	/* the forms differ by two bytes per And/Or count, and NSPI by a
	 * presence byte per Content/Property value and a HasValue byte per
	 * string value (two of each here) */
	mapi_res_write(nspi, &nspi_res_form, res);
	mapi_res_write(rop, &mapi_res_form_rop, res);
	mapi_res_write(ext, &mapi_res_form_ext, res);
	g_assert_cmpuint(ext->len, ==, rop->len + 2 * 2);
	g_assert_cmpuint(nspi->len, ==, ext->len + 2 + 2);
	g_byte_array_unref(nspi);
	g_byte_array_unref(rop);
	g_byte_array_unref(ext);
	mapi_res_free(res);
	mapi_res_free(other);
}

/* A ROP buffer's restriction (RopRestrict, RopFindRow) laid out by hand
 * after MS-OXCDATA 2.12: Or(2) of a Property EQ on PidTagMessageClass
 * and an Exist. */
static void test_rop_bytes(void)
{
	static const uint8_t in[] = {
		0x01,  0x02, 0x00,
		0x04,  0x04,  0x1F, 0x00, 0x1A, 0x00,
			0x1F, 0x00, 0x1A, 0x00,  'I', 0, 'P', 0, 'M', 0, 0, 0,
		0x08,  0x1F, 0x00, 0x37, 0x00,
	};
	struct mapi_res *res;
	struct mapi_rd r;
	GByteArray *b = g_byte_array_new();

	mapi_rd_init(&r, in, sizeof(in));
	g_assert_cmpint(mapi_res_read(&r, &mapi_res_form_rop, &res), ==, 0);
	g_assert_cmpuint(res->type, ==, MAPI_RES_OR);
	g_assert_cmpuint(res->u.list.n, ==, 2);
	g_assert_cmpuint(res->u.list.a[0].u.prop.tag, ==,
			 MAPI_TAG_MESSAGE_CLASS);
	g_assert_cmpstr(res->u.list.a[0].u.prop.val->v.str, ==, "IPM");
	g_assert_cmpuint(res->u.list.a[1].u.exist.tag, ==, MAPI_TAG_SUBJECT);
	mapi_res_write(b, &mapi_res_form_rop, res);
	g_assert_cmpmem(b->data, b->len, in, sizeof(in));
	roundtrip(&mapi_res_form_rop, res);
	mapi_res_free(res);
	g_byte_array_unref(b);
	/* the same bytes do not make an NSPI filter */
	mapi_rd_init(&r, in, sizeof(in));
	g_assert_cmpint(mapi_res_read(&r, &nspi_res_form, &res), <, 0);
}

/* An NSPI value whose presence byte says it is absent. */
static void test_absent_value(void)
{
	static const uint8_t in[] = {
		0x04, 0x04,  0x1F, 0x00, 0x01, 0x30,  0x00 };
	struct mapi_res *res;
	struct mapi_rd r;
	GByteArray *b = g_byte_array_new();

	mapi_rd_init(&r, in, sizeof(in));
	g_assert_cmpint(mapi_res_read(&r, &nspi_res_form, &res), ==, 0);
	g_assert_null(res->u.prop.val);
	mapi_res_write(b, &nspi_res_form, res);
	g_assert_cmpmem(b->data, b->len, in, sizeof(in));
	mapi_res_free(res);
	g_byte_array_unref(b);
}

static GByteArray *nots(unsigned depth)
{
	GByteArray *b = g_byte_array_new();
	unsigned i;

	for (i = 0; i < depth; i++)
		mapi_wr_u8(b, MAPI_RES_NOT);
	mapi_wr_u8(b, MAPI_RES_EXIST);
	mapi_wr_u32(b, MAPI_TAG_SUBJECT);
	return b;
}

static void test_bounds(void)
{
	GByteArray *b;
	struct mapi_res *res;
	struct mapi_rd r;
	uint32_t i;

	/* nesting: as deep as allowed, then one more */
	b = nots(MAPI_RES_MAX_DEPTH);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(mapi_res_read(&r, &nspi_res_form, &res), ==, 0);
	mapi_res_free(res);
	g_byte_array_unref(b);
	b = nots(MAPI_RES_MAX_DEPTH + 1);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(mapi_res_read(&r, &nspi_res_form, &res), ==, -EPROTO);
	g_assert_null(res);
	g_byte_array_unref(b);

	/* more restrictions than a tree may hold */
	b = g_byte_array_new();
	mapi_wr_u8(b, MAPI_RES_OR);
	mapi_wr_u32(b, MAPI_RES_MAX_NODES);
	for (i = 0; i < MAPI_RES_MAX_NODES; i++) {
		mapi_wr_u8(b, MAPI_RES_EXIST);
		mapi_wr_u32(b, MAPI_TAG_SUBJECT);
	}
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(mapi_res_read(&r, &nspi_res_form, &res), ==, -EPROTO);
	g_byte_array_unref(b);

	/* a count that lies is refused before anything is allocated */
	b = g_byte_array_new();
	mapi_wr_u8(b, MAPI_RES_AND);
	mapi_wr_u32(b, 0xFFFFFFFFU);
	mapi_wr_u8(b, MAPI_RES_EXIST);
	mapi_wr_u32(b, MAPI_TAG_SUBJECT);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(mapi_res_read(&r, &nspi_res_form, &res), <, 0);
	g_byte_array_unref(b);

	/* an unknown type */
	b = g_byte_array_new();
	mapi_wr_u8(b, 0x0C);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(mapi_res_read(&r, &nspi_res_form, &res), ==, -EPROTO);
	g_byte_array_unref(b);
}

/* The three filters the recorder sent: the bytes from the request, the
 * tree checked, the bytes written back. */
static void test_recorded_filters(void)
{
	struct mapi_trace *t = mapi_trace_load("09-nspi");
	size_t i;
	int seen = 0;

	for (i = 0; i < mapi_trace_count(t); i++) {
		const struct mapi_trace_exchange *x = mapi_trace_at(t, i);
		struct nspi_get_matches_req q;
		GByteArray *b;
		struct mapi_res *res;
		const struct mapi_value *v;
		/* Reserved1, HasState, STAT, HasMinimalIds, Reserved2,
		 * HasFilter */
		size_t at = 4 + 1 + NSPI_STAT_SIZE + 1 + 4 + 1;
		struct mapi_rd r;

		if (nspi_op_from_name(mapi_trace_req_header(
			    x, "X-RequestType")) != NSPI_OP_GET_MATCHES)
			continue;
		seen++;
		g_assert_cmpint(nspi_get_matches_req_read(x->req, x->req_len,
							  &q), ==, 0);
		res = q.filter;
		if (x->seq == 5) {
			g_assert_cmpuint(res->type, ==, MAPI_RES_CONTENT);
			g_assert_cmpuint(res->u.content.fuzzy_low, ==,
					 MAPI_FL_PREFIX);
			g_assert_cmpuint(res->u.content.fuzzy_high, ==,
					 MAPI_FL_IGNORECASE);
			g_assert_cmpuint(res->u.content.tag, ==,
					 MAPI_TAG_DISPLAY_NAME);
			v = res->u.content.val;
			g_assert_cmpuint(v->tag, ==, MAPI_TAG_DISPLAY_NAME);
			g_assert_cmpstr(v->v.str, ==, "car");
		} else {
			g_assert_cmpuint(res->type, ==, MAPI_RES_PROPERTY);
			g_assert_cmpuint(res->u.prop.relop, ==, MAPI_RELOP_EQ);
			v = res->u.prop.val;
			g_assert_cmpuint(v->tag, ==, res->u.prop.tag);
			if (x->seq == 6) {
				g_assert_cmpuint(v->tag, ==, MAPI_TAG_ANR);
				g_assert_cmpstr(v->v.str, ==, "car");
			} else {
				g_assert_cmpuint(v->tag, ==,
						 MAPI_TAG_SMTP_ADDRESS);
				g_assert_cmpstr(v->v.str, ==,
						"bob@example.test");
			}
		}
		b = g_byte_array_new();
		mapi_res_write(b, &nspi_res_form, res);
		g_assert_cmpuint(x->req_len, >, at + b->len);
		g_assert_cmpmem(b->data, b->len, x->req + at, b->len);
		/* read on its own, and cut at every length */
		mapi_rd_init(&r, x->req + at, b->len);
		nspi_get_matches_req_clear(&q);
		g_assert_cmpint(mapi_res_read(&r, &nspi_res_form, &res), ==, 0);
		roundtrip(&nspi_res_form, res);
		mapi_res_free(res);
		g_byte_array_unref(b);
	}
	g_assert_cmpint(seen, ==, 3);
	mapi_trace_free(t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/nspi-restrict/every-kind", test_every_kind);
	g_test_add_func("/nspi-restrict/rop-bytes", test_rop_bytes);
	g_test_add_func("/nspi-restrict/absent-value", test_absent_value);
	g_test_add_func("/nspi-restrict/bounds", test_bounds);
	g_test_add_func("/nspi-restrict/recorded-filters",
			test_recorded_filters);
	return g_test_run();
}
