/*
 * test-vcard.c - the content-line reader (protocols/wire/vcard.h) on its
 * own: an iCalendar object read with the vCard rules (folding, parameters,
 * escaping) and the value of a parameter.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/vcard.h"

static const char ics[] =
	"BEGIN:VCALENDAR\r\n"
	"VERSION:2.0\r\n"
	"BEGIN:VEVENT\r\n"
	"DTSTART;tzid=\"Europe/Berlin\":20240101T100000\r\n"
	"DTEND;VALUE=DATE;TZID= UTC :20240102\r\n"
	"SUMMARY:a summary fol\r\n"
	" ded\\, and escaped\\; twice\\n\r\n"
	"END:VEVENT\r\n"
	"END:VCALENDAR\r\n";

static const struct vcard_prop *find(const struct vcard *c, const char *name)
{
	for (guint i = 0; i < c->props->len; i++) {
		const struct vcard_prop *p = c->props->pdata[i];
		if (!strcmp(p->name, name))
			return p;
	}
	return NULL;
}

static void test_calendar(void)
{
	struct vcard *cal = NULL;

	g_assert_cmpint(vcard_parse_object(ics, strlen(ics), "VCALENDAR",
					   &cal), ==, 0);
	const struct vcard_prop *sum = find(cal, "SUMMARY");
	g_assert_nonnull(sum);
	g_autofree char *text = vcard_unescape(sum->value);
	g_assert_cmpstr(text, ==, "a summary folded, and escaped; twice\n");

	const struct vcard_prop *start = find(cal, "DTSTART");
	g_autofree char *tz = vcard_prop_param(start, "TZID");
	g_assert_cmpstr(tz, ==, "Europe/Berlin");
	g_autofree char *none = vcard_prop_param(start, "VALUE");
	g_assert_null(none);

	const struct vcard_prop *end = find(cal, "DTEND");
	g_autofree char *value = vcard_prop_param(end, "value");
	g_autofree char *tz2 = vcard_prop_param(end, "TZID");
	g_assert_cmpstr(value, ==, "DATE");
	g_assert_cmpstr(tz2, ==, "UTC");
	/* a prefix of a parameter's name is not its name */
	g_autofree char *part = vcard_prop_param(end, "TZ");
	g_assert_null(part);
	vcard_free(&cal);
}

static void test_not_a_calendar(void)
{
	struct vcard *cal = NULL;

	g_assert_cmpint(vcard_parse_object(ics, strlen(ics), "VCARD", &cal),
			==, -EINVAL);
	g_assert_null(cal);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vcard/calendar", test_calendar);
	g_test_add_func("/vcard/not-a-calendar", test_not_a_calendar);
	return g_test_run();
}
