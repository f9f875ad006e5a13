/*
 * test-rop-names.c - wire/rop-names.h, RopGetNamesFromPropertyIds
 * (MS-OXCROPS 2.2.8.2): the request and the response written by hand
 * from the specification (PropertyName of MS-OXCDATA 2.6.1, the bare
 * Kind 0xFF of MS-OXCPRPT 3.2.5.9), read, written back the same, every
 * shorter cut refused, and counts and kinds that lie.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-buf.h"
#include "wire/rop-names.h"

/* PSETID_Address, {00062004-0000-0000-C000-000000000046}, on the wire. */
#define ADDR 0x04, 0x20, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, \
	     0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46

static const uint8_t req[] = {
	0x55, 0x00, 0x01,		/* RopId, LogonId, InputHandleIndex */
	0x03, 0x00,			/* PropertyIdCount */
	0x00, 0x80, 0x37, 0x00, 0xFE, 0xFF,
};

static const uint8_t resp[] = {
	0x55, 0x01, 0x00, 0x00, 0x00, 0x00,	/* head, ReturnValue 0 */
	0x03, 0x00,				/* PropertyNameCount */
	0x00, ADDR, 0x83, 0x80, 0x00, 0x00,	/* LID 0x8083 */
	0xFF,					/* no name */
	0x01, ADDR, 0x06, 'I', 0x00, 'd', 0x00, 0x00, 0x00, /* "Id" */
};

static int req_read(const uint8_t *p, size_t len)
{
	struct rop_get_names_req q;
	struct mapi_rd r;
	int err;

	mapi_rd_init(&r, p, len);
	err = rop_get_names_req_read(&r, &q);
	if (err == 0)
		rop_get_names_req_clear(&q);
	return err;
}

static int resp_read(const uint8_t *p, size_t len)
{
	struct rop_get_names_resp s;
	struct mapi_rd r;
	int err;

	mapi_rd_init(&r, p, len);
	err = rop_get_names_resp_read(&r, &s);
	if (err == 0)
		rop_get_names_resp_clear(&s);
	return err;
}

static void cuts_fail(int (*fn)(const uint8_t *, size_t), const uint8_t *p,
		      size_t len)
{
	g_assert_cmpint(fn(p, len), ==, 0);
	for (size_t i = 0; i < len; i++)
		g_assert_cmpint(fn(p, i), <, 0);
}

static void test_request(void)
{
	struct rop_get_names_req q;
	GByteArray *b = g_byte_array_new();
	struct mapi_rd r;
	uint8_t lie[sizeof(req)];

	mapi_rd_init(&r, req, sizeof(req));
	g_assert_cmpint(rop_get_names_req_read(&r, &q), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_assert_cmpuint(q.input_handle_index, ==, 1);
	g_assert_cmpuint(q.n_ids, ==, 3);
	g_assert_cmphex(q.ids[0], ==, 0x8000);
	g_assert_cmphex(q.ids[1], ==, 0x0037);
	g_assert_cmphex(q.ids[2], ==, 0xFFFE);
	rop_get_names_req_write(b, &q);
	g_assert_cmpmem(b->data, b->len, req, sizeof(req));
	rop_get_names_req_clear(&q);
	cuts_fail(req_read, req, sizeof(req));
	/* a count beyond the ids there */
	memcpy(lie, req, sizeof(req));
	lie[3] = 0x04;
	g_assert_cmpint(req_read(lie, sizeof(lie)), ==, -EBADMSG);
	/* another ROP */
	lie[3] = 0x03;
	lie[0] = 0x56;
	g_assert_cmpint(req_read(lie, sizeof(lie)), ==, -EPROTO);
	g_byte_array_unref(b);
}

static void test_response(void)
{
	static const uint8_t guid[16] = { ADDR };
	struct rop_get_names_resp s;
	GByteArray *b = g_byte_array_new();
	struct mapi_rd r;

	mapi_rd_init(&r, resp, sizeof(resp));
	g_assert_cmpint(rop_get_names_resp_read(&r, &s), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_assert_cmpuint(s.n_names, ==, 3);
	g_assert_cmpuint(s.names[0].kind, ==, ROP_NAME_LID);
	g_assert_cmpmem(s.names[0].guid, 16, guid, 16);
	g_assert_cmphex(s.names[0].lid, ==, 0x8083);
	g_assert_cmpuint(s.names[1].kind, ==, ROP_NAME_NONE);
	g_assert_cmpuint(s.names[2].kind, ==, ROP_NAME_STRING);
	g_assert_cmpstr(s.names[2].name, ==, "Id");
	rop_get_names_resp_write(b, &s);
	g_assert_cmpmem(b->data, b->len, resp, sizeof(resp));
	rop_get_names_resp_clear(&s);
	cuts_fail(resp_read, resp, sizeof(resp));
	g_byte_array_unref(b);
}

static void test_response_lies(void)
{
	uint8_t p[sizeof(resp)];
	static const uint8_t failed[] = { 0x55, 0x01, 0x0F, 0x01, 0x04, 0x80 };
	static const uint8_t many[] = { 0x55, 0x01, 0, 0, 0, 0, 0xFF, 0xFF,
					0xFF };
	struct rop_get_names_resp s = { 0 };
	GByteArray *b = g_byte_array_new();

	/* a kind MS-OXCDATA does not have */
	memcpy(p, resp, sizeof(resp));
	p[8] = 0x02;
	g_assert_cmpint(resp_read(p, sizeof(p)), ==, -EPROTO);
	/* a NameSize past the end */
	memcpy(p, resp, sizeof(resp));
	p[sizeof(resp) - 7] = 0x20;
	g_assert_cmpint(resp_read(p, sizeof(p)), <, 0);
	/* more names than bytes */
	g_assert_cmpint(resp_read(many, sizeof(many)), ==, -EPROTO);
	/* a failure is the head alone, both ways */
	g_assert_cmpint(resp_read(failed, sizeof(failed)), ==, 0);
	s.head.handle_index = 1;
	s.head.rv = 0x8004010F;
	rop_get_names_resp_write(b, &s);
	g_assert_cmpmem(b->data, b->len, failed, sizeof(failed));
	/* a kind the codec does not carry goes as no name */
	g_byte_array_set_size(b, 0);
	s.head.rv = 0;
	s.n_names = 1;
	s.names = g_new0(struct rop_prop_name, 1);
	s.names[0].kind = 0x07;
	rop_get_names_resp_write(b, &s);
	g_assert_cmpuint(b->len, ==, 9);
	g_assert_cmphex(b->data[8], ==, ROP_NAME_NONE);
	rop_get_names_resp_clear(&s);
	g_byte_array_unref(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rop-names/request", test_request);
	g_test_add_func("/rop-names/response", test_response);
	g_test_add_func("/rop-names/response-lies", test_response_lies);
	return g_test_run();
}
