/*
 * test-vcard.c - the content-line reader (protocols/wire/vcard.h) on its
 * own: an iCalendar object read with the vCard rules (folding, parameters,
 * escaping), the value of a parameter, and the first VEVENT read and
 * changed with its alarm's lines left alone.
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

static const char with_alarm[] =
	"BEGIN:VCALENDAR\r\n"
	"BEGIN:VEVENT\r\n"
	"UID:u1\r\n"
	"DTSTART;VALUE=DATE:20240301\r\n"
	"BEGIN:VALARM\r\n"
	"DESCRIPTION:the alarm's\r\n"
	"SUMMARY:not the event's\r\n"
	"END:VALARM\r\n"
	"X-KEPT;P=1:as it was\r\n"
	"END:VEVENT\r\n"
	"END:VCALENDAR\r\n";

static void test_event_read(void)
{
	static const char card[] = "BEGIN:VCARD\r\nEND:VCARD\r\n";
	struct vcard_event ev;
	g_autofree char *s = NULL, *e = NULL;

	g_assert_cmpint(vcard_event_read(with_alarm, strlen(with_alarm), &ev),
			==, 0);
	g_assert_null(ev.summary);
	g_assert_null(ev.description);
	g_assert_cmpstr(ev.uid, ==, "u1");
	g_assert_true(ev.all_day);
	s = g_date_time_format(ev.start, "%F %T");
	e = g_date_time_format(ev.end, "%F %T");
	g_assert_cmpstr(s, ==, "2024-03-01 00:00:00");
	g_assert_cmpstr(e, ==, "2024-03-02 00:00:00");
	vcard_event_clear(&ev);
	g_assert_cmpint(vcard_event_read(card, strlen(card), &ev), ==,
			-EINVAL);
}

static void test_event_set(void)
{
	static const char empty[] = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
	struct vcard *cal = NULL;
	g_autofree char *out = NULL;
	size_t len = 0;

	g_assert_cmpint(vcard_parse_object(with_alarm, strlen(with_alarm),
					   "VCALENDAR", &cal), ==, 0);
	g_assert_cmpint(vcard_event_set(cal, "SUMMARY", NULL, "new\\, one"),
			==, 0);
	g_assert_cmpint(vcard_event_set(cal, "DTSTART", NULL,
					"20240301T090000Z"), ==, 0);
	g_assert_cmpint(vcard_event_set(cal, "DESCRIPTION", NULL, NULL), ==,
			0);
	g_assert_cmpint(vcard_write(cal, &out, &len), ==, 0);
	vcard_free(&cal);
	g_assert_cmpstr(out, ==,
			"BEGIN:VCALENDAR\r\n"
			"BEGIN:VEVENT\r\n"
			"UID:u1\r\n"
			"DTSTART:20240301T090000Z\r\n"
			"BEGIN:VALARM\r\n"
			"DESCRIPTION:the alarm's\r\n"
			"SUMMARY:not the event's\r\n"
			"END:VALARM\r\n"
			"X-KEPT;P=1:as it was\r\n"
			"SUMMARY:new\\, one\r\n"
			"END:VEVENT\r\n"
			"END:VCALENDAR\r\n");
	g_assert_cmpint(vcard_parse_object(empty, strlen(empty), "VCALENDAR",
					   &cal), ==, 0);
	g_assert_cmpint(vcard_event_set(cal, "SUMMARY", NULL, "x"), ==,
			-EINVAL);
	vcard_free(&cal);
}

static bool is_opt(const struct vcard_prop *p, void *data)
{
	g_autofree char *role = vcard_prop_param(p, "ROLE");

	(void)data;
	return role && !g_ascii_strcasecmp(role, "OPT-PARTICIPANT");
}

/* Alarms (one with a component of its own) and optional attendees go,
 * the other lines stay; a new line lands after the last component. */
static void test_event_remove(void)
{
	static const char two[] =
		"BEGIN:VCALENDAR\r\n"
		"BEGIN:VEVENT\r\n"
		"ATTENDEE;ROLE=OPT-PARTICIPANT:mailto:a@x\r\n"
		"BEGIN:VALARM\r\n"
		"TRIGGER:-PT5M\r\n"
		"BEGIN:X-INNER\r\n"
		"END:X-INNER\r\n"
		"END:VALARM\r\n"
		"ATTENDEE:mailto:b@x\r\n"
		"BEGIN:X-OTHER\r\n"
		"ATTENDEE;ROLE=OPT-PARTICIPANT:mailto:c@x\r\n"
		"END:X-OTHER\r\n"
		"BEGIN:VALARM\r\n"
		"TRIGGER:-PT1M\r\n"
		"END:VALARM\r\n"
		"ATTENDEE;ROLE=\"OPT-PARTICIPANT\":mailto:d@x\r\n"
		"END:VEVENT\r\n"
		"BEGIN:VALARM\r\n"
		"END:VALARM\r\n"
		"END:VCALENDAR\r\n";
	struct vcard *cal = NULL;
	g_autofree char *out = NULL;
	size_t len = 0;

	g_assert_cmpint(vcard_parse_object(two, strlen(two), "VCALENDAR",
					   &cal), ==, 0);
	g_assert_cmpint(vcard_event_remove_components(cal, "VALARM"), ==, 2);
	g_assert_cmpint(vcard_event_remove_components(cal, "VALARM"), ==, 0);
	g_assert_cmpint(vcard_event_remove(cal, "ATTENDEE", is_opt, NULL),
			==, 2);
	g_autoptr(GPtrArray) add = g_ptr_array_new_with_free_func(
		vcard_prop_free);
	g_ptr_array_add(add, vcard_prop_new("ATTENDEE", "CN=E", "mailto:e@x"));
	g_ptr_array_add(add, vcard_prop_new("BEGIN", NULL, "VALARM"));
	g_ptr_array_add(add, vcard_prop_new("END", NULL, "VALARM"));
	g_assert_cmpint(vcard_event_add(cal, add), ==, 0);
	g_assert_cmpuint(add->len, ==, 0);
	g_assert_cmpint(vcard_write(cal, &out, &len), ==, 0);
	g_assert_cmpstr(out, ==,
			"BEGIN:VCALENDAR\r\n"
			"BEGIN:VEVENT\r\n"
			"ATTENDEE:mailto:b@x\r\n"
			"BEGIN:X-OTHER\r\n"
			"ATTENDEE;ROLE=OPT-PARTICIPANT:mailto:c@x\r\n"
			"END:X-OTHER\r\n"
			"ATTENDEE;CN=E:mailto:e@x\r\n"
			"BEGIN:VALARM\r\n"
			"END:VALARM\r\n"
			"END:VEVENT\r\n"
			"BEGIN:VALARM\r\n"
			"END:VALARM\r\n"
			"END:VCALENDAR\r\n");
	g_assert_cmpint(vcard_event_remove(cal, "ATTENDEE", NULL, NULL), ==,
			2);
	g_assert_cmpint(vcard_event_remove_components(cal, "VALARM"), ==, 1);
	vcard_free(&cal);
	g_assert_cmpint(vcard_parse_object("BEGIN:VCALENDAR\r\n"
					   "END:VCALENDAR\r\n", 30,
					   "VCALENDAR", &cal), ==, 0);
	g_assert_cmpint(vcard_event_remove_components(cal, "VALARM"), ==,
			-EINVAL);
	g_assert_cmpint(vcard_event_remove(cal, "X", NULL, NULL), ==,
			-EINVAL);
	g_ptr_array_add(add, vcard_prop_new("X", NULL, "y"));
	g_assert_cmpint(vcard_event_add(cal, add), ==, -EINVAL);
	g_assert_cmpuint(add->len, ==, 1);
	vcard_free(&cal);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vcard/calendar", test_calendar);
	g_test_add_func("/vcard/not-a-calendar", test_not_a_calendar);
	g_test_add_func("/vcard/event-read", test_event_read);
	g_test_add_func("/vcard/event-set", test_event_set);
	g_test_add_func("/vcard/event-remove", test_event_remove);
	return g_test_run();
}
