/*
 * test-imap-date.c - the date-time the IMAP client gives APPEND
 * (protocols/imap/items.c, RFC 3501 section 9: date-time with a
 * four-digit year) for every time a file can carry.
 */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "imap/imapc-private.h"

static void assert_date(int64_t t, const char *want)
{
	char buf[64];

	memset(buf, 'x', sizeof(buf));
	imapc_format_date(t, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, want);
}

static void test_ordinary(void)
{
	assert_date(0, "01-Jan-1970 00:00:00 +0000");
	assert_date(837564265, "17-Jul-1996 00:44:25 +0000");
	assert_date(1700000000, "14-Nov-2023 22:13:20 +0000");
	assert_date(INT64_C(253402300799), "31-Dec-9999 23:59:59 +0000");
}

/* `touch -d @300000000000`: the year 11476 has no four-digit form. */
static void test_after_9999(void)
{
	assert_date(INT64_C(253402300800), "31-Dec-9999 23:59:59 +0000");
	assert_date(INT64_C(300000000000), "31-Dec-9999 23:59:59 +0000");
	assert_date(INT64_MAX, "31-Dec-9999 23:59:59 +0000");
}

static void test_before_1970(void)
{
	assert_date(-1, "01-Jan-1970 00:00:00 +0000");
	assert_date(INT64_C(-62135596800), "01-Jan-1970 00:00:00 +0000");
	assert_date(INT64_MIN, "01-Jan-1970 00:00:00 +0000");
}

/* A short buffer is cut, never overrun. */
static void test_short_buffer(void)
{
	char buf[8];

	imapc_format_date(INT64_C(300000000000), buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "31-Dec-");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap-date/ordinary", test_ordinary);
	g_test_add_func("/imap-date/after-9999", test_after_9999);
	g_test_add_func("/imap-date/before-1970", test_before_1970);
	g_test_add_func("/imap-date/short-buffer", test_short_buffer);
	return g_test_run();
}
