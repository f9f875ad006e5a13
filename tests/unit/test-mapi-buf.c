/*
 * test-mapi-buf.c - wire/mapi-buf.h and wire/mapi-prop.h: the bounded
 * reader and writer under every MAPI codec, and the property bag.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-buf.h"
#include "wire/mapi-prop.h"
#include "wire/mapi-tags.h"
#include "mapi-trace.h"

static void test_integers(void)
{
	static const uint8_t in[] = { 0x01, 0x34, 0x12, 0x78, 0x56, 0x34,
				      0x12, 0x08, 0x07, 0x06, 0x05, 0x04,
				      0x03, 0x02, 0x01 };
	struct mapi_rd r;

	mapi_rd_init(&r, in, sizeof(in));
	g_assert_cmpuint(mapi_rd_u8(&r), ==, 1);
	g_assert_cmpuint(mapi_rd_u16(&r), ==, 0x1234);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0x12345678);
	g_assert_cmpuint(mapi_rd_u64(&r), ==, UINT64_C(0x0102030405060708));
	g_assert_cmpint(mapi_rd_error(&r), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	/* one byte too far: zero, and the error stays */
	g_assert_cmpuint(mapi_rd_u8(&r), ==, 0);
	g_assert_cmpint(mapi_rd_error(&r), ==, -EBADMSG);
	mapi_rd_fail(&r, -EPROTO);
	g_assert_cmpint(mapi_rd_error(&r), ==, -EBADMSG);
}

static void test_short_reads_do_not_move(void)
{
	static const uint8_t in[] = { 1, 2, 3 };
	struct mapi_rd r, sub;

	mapi_rd_init(&r, in, sizeof(in));
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);
	g_assert_cmpint(mapi_rd_error(&r), ==, -EBADMSG);
	g_assert_null(mapi_rd_bytes(&r, 0));

	mapi_rd_init(&r, in, sizeof(in));
	sub = mapi_rd_sub(&r, 2);
	g_assert_cmpuint(mapi_rd_u16(&sub), ==, 0x0201);
	g_assert_cmpuint(mapi_rd_u8(&sub), ==, 0);
	g_assert_cmpint(mapi_rd_error(&sub), ==, -EBADMSG);
	g_assert_cmpint(mapi_rd_error(&r), ==, 0);
	g_assert_cmpuint(mapi_rd_u8(&r), ==, 3);
	sub = mapi_rd_sub(&r, 1);
	g_assert_cmpint(mapi_rd_error(&sub), ==, -EBADMSG);
}

static void test_strings(void)
{
	/* "Gr\u00fc\u00df" U+1F4EB, NUL; then "ab", NUL */
	static const uint8_t u16[] = { 'G', 0, 'r', 0, 0xFC, 0, 0xDF, 0,
				       0x3D, 0xD8, 0xEB, 0xDC, 0, 0,
				       'a', 'b', 0 };
	static const uint8_t lone[] = { 0x3D, 0xD8, 'x', 0, 0, 0 };
	static const uint8_t open8[] = { 'a', 'b' };
	struct mapi_rd r;
	char *s;

	mapi_rd_init(&r, u16, sizeof(u16));
	s = mapi_rd_utf16z(&r, 1000);
	g_assert_cmpstr(s, ==, "Gr\xc3\xbc\xc3\x9f\xf0\x9f\x93\xab");
	g_free(s);
	s = mapi_rd_str8(&r, 1000);
	g_assert_cmpstr(s, ==, "ab");
	g_free(s);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);

	mapi_rd_init(&r, lone, sizeof(lone));
	g_assert_null(mapi_rd_utf16z(&r, 1000));
	g_assert_cmpint(mapi_rd_error(&r), ==, -EILSEQ);

	mapi_rd_init(&r, open8, sizeof(open8));
	g_assert_null(mapi_rd_str8(&r, 1000));
	g_assert_cmpint(mapi_rd_error(&r), ==, -EBADMSG);

	/* a limit shorter than the string */
	mapi_rd_init(&r, u16, sizeof(u16));
	g_assert_null(mapi_rd_utf16z(&r, 3));
	g_assert_cmpint(mapi_rd_error(&r), ==, -EBADMSG);

	mapi_rd_init(&r, u16, 14);
	s = mapi_rd_utf16n(&r, 14);
	g_assert_cmpstr(s, ==, "Gr\xc3\xbc\xc3\x9f\xf0\x9f\x93\xab");
	g_free(s);
	mapi_rd_init(&r, u16, 14);
	g_assert_null(mapi_rd_utf16n(&r, 13));
}

static void test_writer_round_trip(void)
{
	GByteArray *b = g_byte_array_new();
	struct mapi_rd r;
	uint8_t guid[16], back[16];
	char *s;
	unsigned i;

	for (i = 0; i < 16; i++)
		guid[i] = (uint8_t)(i * 17);
	mapi_wr_u16(b, 0);
	mapi_wr_u32(b, 0xDEADBEEF);
	mapi_wr_u64(b, UINT64_C(0x1122334455667788));
	mapi_wr_guid(b, guid);
	g_assert_cmpint(mapi_wr_utf16z(b, "K\xc3\xb6ln \xf0\x9f\x93\xab"),
			==, 0);
	mapi_wr_str8z(b, "IPM.Note");
	g_assert_cmpint(mapi_wr_utf16z(b, "\xff"), ==, -EILSEQ);
	mapi_wr_u16_at(b, 0, (uint16_t)b->len);

	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpuint(mapi_rd_u16(&r), ==, b->len);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0xDEADBEEF);
	g_assert_cmpuint(mapi_rd_u64(&r), ==, UINT64_C(0x1122334455667788));
	mapi_rd_guid(&r, back);
	g_assert_cmpmem(back, 16, guid, 16);
	s = mapi_rd_utf16z(&r, 100);
	g_assert_cmpstr(s, ==, "K\xc3\xb6ln \xf0\x9f\x93\xab");
	g_free(s);
	s = mapi_rd_str8(&r, 100);
	g_assert_cmpstr(s, ==, "IPM.Note");
	g_free(s);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_assert_cmpint(mapi_rd_error(&r), ==, 0);
	g_byte_array_unref(b);
}

static void test_props(void)
{
	struct mapi_props p = { 0 };
	struct mapi_value v = { .tag = MAPI_TAG(0x8001, MAPI_PT_MV |
						MAPI_PT_UNICODE) }, copy;
	static const uint8_t key[] = { 1, 2, 3 };

	mapi_props_set_str(&p, MAPI_TAG_SUBJECT, "Hello");
	mapi_props_set_l(&p, MAPI_TAG_MESSAGE_FLAGS, 3);
	mapi_props_set_bin(&p, MAPI_TAG_CHANGE_KEY, key, sizeof(key));
	/* the same id again replaces, whatever its type */
	mapi_props_set_str(&p, MAPI_TAG_RETYPE(MAPI_TAG_SUBJECT,
					       MAPI_PT_STRING8), "Again");
	g_assert_cmpuint(p.n, ==, 3);
	g_assert_cmpstr(mapi_props_str(&p, MAPI_TAG_ID(MAPI_TAG_SUBJECT)), ==,
			"Again");
	g_assert_cmpint(mapi_props_l(&p, MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS),
				     -1), ==, 3);
	g_assert_cmpint(mapi_props_l(&p, MAPI_TAG_ID(MAPI_TAG_SUBJECT), -1),
			==, -1);
	g_assert_null(mapi_props_get_tag(&p, MAPI_TAG_RETYPE(
		MAPI_TAG_MESSAGE_FLAGS, MAPI_PT_I8)));

	v.v.mv.count = 2;
	v.v.mv.a.str = g_new(char *, 2);
	v.v.mv.a.str[0] = g_strdup("one");
	v.v.mv.a.str[1] = g_strdup("two");
	mapi_value_copy(&copy, &v);
	mapi_value_clear(&v);
	mapi_props_take(&p, &copy);
	g_assert_cmpuint(MAPI_TAG_TYPE(copy.tag), ==, MAPI_PT_NULL);
	g_assert_cmpstr(mapi_props_get(&p, 0x8001)->v.mv.a.str[1], ==, "two");
	mapi_props_remove(&p, MAPI_TAG_ID(MAPI_TAG_CHANGE_KEY));
	g_assert_cmpuint(p.n, ==, 3);
	g_assert_null(mapi_props_get(&p, MAPI_TAG_ID(MAPI_TAG_CHANGE_KEY)));
	mapi_props_clear(&p);
}

static void test_filetime(void)
{
	/* 2026-12-07T01:56:51Z */
	g_assert_cmpuint(mapi_ft_from_unix(1796608611), ==,
			 UINT64_C(134410822110000000));
	g_assert_cmpint(mapi_ft_to_unix(UINT64_C(134410822119999999)), ==,
			1796608611);
	g_assert_cmpint(mapi_ft_to_unix(mapi_ft_from_unix(0)), ==, 0);
	g_assert_cmpuint(mapi_ft_from_unix(INT64_MIN), ==, 0);
	g_assert_cmpuint(mapi_ft_from_unix(INT64_MAX), ==, UINT64_MAX);
}

static void test_message(void)
{
	struct mapi_message *m = mapi_message_new();
	struct mapi_attachment *a;

	mapi_props_set_str(&mapi_message_add_recip(m)->props,
			   MAPI_TAG_SMTP_ADDRESS, "bob@example.test");
	a = mapi_message_add_attach(m);
	mapi_props_set_l(&a->props, MAPI_TAG_ATTACH_METHOD,
			 MAPI_ATTACH_EMBEDDED_MSG);
	a->embedded = mapi_message_new();
	mapi_props_set_str(&a->embedded->props, MAPI_TAG_SUBJECT, "inner");
	g_assert_cmpuint(m->n_recips, ==, 1);
	g_assert_cmpuint(m->n_attach, ==, 1);
	mapi_message_free(m);
}

/* The recorded Connect request (MS-OXCMAPIHTTP 2.2.4.1.1) read with the
 * reader: UserDn, Flags, DefaultCodePage, LcidSort, LcidString and an
 * empty auxiliary buffer, and nothing after. */
static void test_recorded_connect(void)
{
	struct mapi_trace *t = mapi_trace_load("01-connect-logon");
	const struct mapi_trace_exchange *x = mapi_trace_at(t, 0);
	struct mapi_rd r;
	char *dn;

	g_assert_cmpstr(mapi_trace_req_header(x, "X-RequestType"), ==,
			"Connect");
	mapi_rd_init(&r, x->req, x->req_len);
	dn = mapi_rd_str8(&r, 1024);
	g_assert_cmpstr(dn, ==, json_object_get_string_member(
		mapi_trace_root(t), "user_dn"));
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 1252);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0x409);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0x409);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);
	g_assert_cmpint(mapi_rd_error(&r), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_free(dn);
	mapi_trace_free(t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mapi-buf/integers", test_integers);
	g_test_add_func("/mapi-buf/short-reads", test_short_reads_do_not_move);
	g_test_add_func("/mapi-buf/strings", test_strings);
	g_test_add_func("/mapi-buf/writer", test_writer_round_trip);
	g_test_add_func("/mapi-prop/bag", test_props);
	g_test_add_func("/mapi-prop/filetime", test_filetime);
	g_test_add_func("/mapi-prop/message", test_message);
	g_test_add_func("/mapi-buf/recorded-connect", test_recorded_connect);
	return g_test_run();
}
