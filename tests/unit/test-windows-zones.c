/*
 * test-windows-zones.c - the Windows zone ids of EWS and their IANA zones
 * (protocols/wire/windows-zones.h): the ones clients send most, each
 * entry a zone this system's tz database knows, ids unique, and an
 * unknown id refused.
 */
#include <string.h>

#include <glib.h>

#include "wire/windows-zones.h"

static void test_known(void)
{
	g_assert_cmpstr(ews_windows_zone_iana("GMT Standard Time"), ==,
			"Europe/London");
	g_assert_cmpstr(ews_windows_zone_iana("W. Europe Standard Time"), ==,
			"Europe/Berlin");
	g_assert_cmpstr(ews_windows_zone_iana("Eastern Standard Time"), ==,
			"America/New_York");
	g_assert_cmpstr(ews_windows_zone_iana("Pacific Standard Time"), ==,
			"America/Los_Angeles");
	g_assert_cmpstr(ews_windows_zone_iana("pacific standard time"), ==,
			"America/Los_Angeles");
	g_assert_cmpstr(ews_windows_zone_iana("Tokyo Standard Time"), ==,
			"Asia/Tokyo");
	g_assert_cmpstr(ews_windows_zone_iana("UTC"), ==, "Etc/UTC");
	/* Etc/GMT+n lies n hours west of Greenwich */
	g_assert_cmpstr(ews_windows_zone_iana("UTC-11"), ==, "Etc/GMT+11");
}

static void test_unknown(void)
{
	g_assert_null(ews_windows_zone_iana("Mars Standard Time"));
	g_assert_null(ews_windows_zone_iana("Europe/Berlin"));
	g_assert_null(ews_windows_zone_iana(""));
	g_assert_null(ews_windows_zone_iana(NULL));
}

/* Every IANA name loads, and its offset in mid-January is the one the
 * Windows name promises for a few with no doubt about them. */
static void test_table(void)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash,
						      g_str_equal);
	const char *iana = NULL, *win;
	size_t n = 0;

	for (; (win = ews_windows_zone_nth(n, &iana)); n++) {
		g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(iana);

		if (!tz)
			g_error("%s: %s is not a zone here", win, iana);
		g_assert_true(g_hash_table_add(seen, (gpointer)win));
		g_assert_cmpstr(ews_windows_zone_iana(win), ==, iana);
	}
	g_assert_cmpuint(n, >=, 50);
	g_assert_null(ews_windows_zone_nth(n, &iana));

	g_autoptr(GTimeZone) ny = g_time_zone_new_identifier(
		ews_windows_zone_iana("Eastern Standard Time"));
	g_autoptr(GDateTime) jan = g_date_time_new(ny, 2026, 1, 15, 12, 0, 0);
	g_assert_cmpint(g_date_time_get_utc_offset(jan) / G_TIME_SPAN_HOUR,
			==, -5);
	g_autoptr(GTimeZone) in = g_time_zone_new_identifier(
		ews_windows_zone_iana("India Standard Time"));
	g_autoptr(GDateTime) ist = g_date_time_new(in, 2026, 1, 15, 12, 0, 0);
	g_assert_cmpint(g_date_time_get_utc_offset(ist) / G_TIME_SPAN_MINUTE,
			==, 330);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/windows-zones/known", test_known);
	g_test_add_func("/windows-zones/unknown", test_unknown);
	g_test_add_func("/windows-zones/table", test_table);
	return g_test_run();
}
