/*
 * test-mapic.c - the MAPI over HTTP client's table of ROP ReturnValues
 * (protocols/mapi/session.c) and the names its messages give.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "mapi/mapic-private.h"
#include "wire/mapi-tags.h"

static void test_rv_to_errno(void)
{
	static const struct {
		uint32_t rv;
		int err;
	} cases[] = {
		{ 0, 0 },
		{ MAPI_E_NOT_FOUND, -ENOENT },
		{ MAPI_E_OBJECT_DELETED, -ENOENT },
		{ MAPI_E_NO_ACCESS, -EACCES },
		{ MAPI_E_LOGON_FAILED, -EACCES },
		{ MAPI_E_NO_SUPPORT, -ENOTSUP },
		{ MAPI_E_END_OF_SESSION, -ESTALE },
		{ MAPI_E_COLLISION, -EEXIST },
		{ MAPI_E_NULL_OBJECT, -EBADF },
		{ MAPI_E_NOT_ENOUGH_RESOURCES, -EAGAIN },
		{ 0x12345678U, -EPROTO },
		{ 0xFFFFFFFFU, -EPROTO },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpint(mapic_rv_to_errno(cases[i].rv), ==,
				cases[i].err);
}

static void test_who(void)
{
	struct mapic_conf c = { .user = "alice@example.test",
				.url = "https://mail.example.test" };
	g_autofree char *plain = mapic_who(&c);
	g_autofree char *named = NULL;
	g_autofree char *hostile = NULL;

	g_assert_cmpstr(plain, ==,
			"alice@example.test on https://mail.example.test");
	c.name = "work";
	named = mapic_who(&c);
	g_assert_cmpstr(named, ==, "work on https://mail.example.test");
	c.name = "a\nb\x1b[31m";
	hostile = mapic_who(&c);
	g_assert_null(strchr(hostile, '\n'));
	g_assert_null(strchr(hostile, '\x1b'));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mapic/rv-to-errno", test_rv_to_errno);
	g_test_add_func("/mapic/who", test_who);
	return g_test_run();
}
