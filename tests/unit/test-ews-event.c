/*
 * test-ews-event.c - the EWS client's calendar files and names: the
 * iCalendar object taken out of a calendar item's MIME (quoted-printable,
 * base64, another charset, nested), one made from an item's properties
 * (times, all-day, recurrence, attendees), and the names of contacts and
 * events with their collisions.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "ews/event.h"

#define CAL "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" \
	    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\n" \
	    "BEGIN:VEVENT\r\nUID:u1\r\nSUMMARY:Caf\xc3\xa9 =\r\n" \
	    "DTSTART;TZID=Europe/Berlin:20261208T090000\r\n" \
	    "END:VEVENT\r\nEND:VCALENDAR\r\n"

static void from_mime_ok(const char *mime, const char *want)
{
	char *ics = NULL;
	size_t len = 0;

	g_assert_cmpint(ewsc_event_from_mime((const guchar *)mime,
					     strlen(mime), &ics, &len), ==, 0);
	g_assert_cmpuint(len, ==, strlen(want));
	g_assert_cmpstr(ics, ==, want);
	g_free(ics);
}

static void test_from_mime(void)
{
	g_autofree char *b64 = g_base64_encode((const guchar *)CAL,
					       strlen(CAL));
	g_autofree char *latin = NULL;
	g_autofree char *nested = NULL;
	g_autofree char *base64 = NULL;
	gsize n = 0;

	/* a bare object is taken as it is */
	from_mime_ok(CAL, CAL);
	/* gromox's shape: multipart/alternative, quoted-printable, the
	 * last CRLF the boundary's */
	from_mime_ok("MIME-Version: 1.0\r\nSubject: x\r\nContent-Type: "
		     "multipart/alternative;\r\n\tboundary=\"b1\"\r\n\r\n"
		     "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		     "text\r\n--b1\r\nContent-Transfer-Encoding: "
		     "quoted-printable\r\nContent-Type: text/calendar;\r\n"
		     "\tcharset=\"utf-8\"; method=PUBLISH\r\n\r\n"
		     "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
		     "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\n"
		     "BEGIN:VEVENT\r\nUID:u1\r\nSUMMARY:Caf=C3=A9 =3D\r\n"
		     "DTSTART;TZID=3DEurope/Berlin:20261208T090000\r\n"
		     "END:VEVENT\r\nEND:VC=\r\nALENDAR\r\n--b1--\r\n", CAL);
	/* base64, one level deeper, after a part that is not one */
	base64 = g_strdup_printf(
		"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
		"Content-Type: text/calendar\r\n\r\nnot an object\r\n--o\r\n"
		"Content-Type: multipart/alternative; boundary=i\r\n\r\n"
		"--i\r\nContent-Type: text/calendar; charset=UTF-8\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--i--\r\n"
		"--o--\r\n", b64);
	from_mime_ok(base64, CAL);
	/* another charset is made UTF-8 */
	latin = g_convert(CAL, -1, "ISO-8859-1", "UTF-8", NULL, &n, NULL);
	g_autofree char *latin_b64 = g_base64_encode((const guchar *)latin, n);
	nested = g_strdup_printf("Content-Type: text/calendar; charset="
				 "iso-8859-1\r\nContent-Transfer-Encoding: "
				 "base64\r\n\r\n%s\r\n", latin_b64);
	from_mime_ok(nested, CAL);

	/* no object anywhere */
	static const char *const none[] = {
		"",
		"Subject: x\r\n\r\nhello\r\n",
		"Content-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\n",
		"BEGIN:VCALENDAR\r\nno end\r\n",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(none); i++) {
		char *ics = NULL;
		size_t len = 0;
		g_assert_cmpint(ewsc_event_from_mime(
			(const guchar *)none[i], strlen(none[i]), &ics, &len),
			==, -EINVAL);
		g_assert_null(ics);
	}
}

static xmlNode *item_of(const char *inner, xmlDoc **doc)
{
	g_autofree char *xml = g_strdup_printf(
		"<t:CalendarItem xmlns:t=\"" EWS_NS_T "\">%s</t:CalendarItem>",
		inner);

	g_assert_cmpint(ews_xml_read(xml, strlen(xml), strlen(xml) + 1, false,
				     doc), ==, 0);
	return xmlDocGetRootElement(*doc);
}

static char *props(const char *inner)
{
	xmlDoc *doc = NULL;
	xmlNode *item = item_of(inner, &doc);
	char *ics = NULL;
	size_t len = 0;
	int rc = ewsc_event_from_props(item, &ics, &len);

	xmlFreeDoc(doc);
	if (rc < 0)
		return NULL;
	g_assert_cmpuint(strlen(ics), ==, len);
	return ics;
}

static void test_from_props(void)
{
	g_autofree char *a = props(
		"<t:ItemId Id=\"AAMk+/=\"/><t:Subject>Plan; review</t:Subject>"
		"<t:Body BodyType=\"Text\">line one\nline two</t:Body>"
		"<t:LastModifiedTime>2026-12-01T08:00:00Z</t:LastModifiedTime>"
		"<t:Start>2026-12-08T09:00:00Z</t:Start>"
		"<t:End>2026-12-08T10:00:00Z</t:End>"
		"<t:IsAllDayEvent>false</t:IsAllDayEvent>"
		"<t:Location>Room 1</t:Location><t:UID>u-42</t:UID>"
		"<t:Organizer><t:Mailbox><t:Name>Alice</t:Name><t:EmailAddress>"
		"alice@example.org</t:EmailAddress></t:Mailbox></t:Organizer>"
		"<t:RequiredAttendees><t:Attendee><t:Mailbox><t:Name>Bob \"B\""
		"</t:Name><t:EmailAddress>bob@example.org</t:EmailAddress>"
		"</t:Mailbox><t:ResponseType>Accept</t:ResponseType>"
		"</t:Attendee></t:RequiredAttendees>"
		"<t:OptionalAttendees><t:Attendee><t:Mailbox><t:EmailAddress>"
		"carol@example.org</t:EmailAddress></t:Mailbox></t:Attendee>"
		"</t:OptionalAttendees>"
		"<t:Recurrence><t:WeeklyRecurrence><t:Interval>2</t:Interval>"
		"<t:DaysOfWeek>Monday Wednesday</t:DaysOfWeek>"
		"</t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>"
		"2026-12-08</t:StartDate><t:NumberOfOccurrences>10"
		"</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>");
	static const char *const want[] = {
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
		"\r\nBEGIN:VEVENT\r\nUID:u-42\r\nDTSTAMP:20261201T080000Z\r\n"
		"DTSTART:20261208T090000Z\r\nDTEND:20261208T100000Z\r\n"
		"SUMMARY:Plan\\; review\r\nLOCATION:Room 1\r\n"
		"DESCRIPTION:line one\\nline two\r\n"
		"RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=10\r\n"
		"ORGANIZER;CN=\"Alice\":mailto:alice@example.org\r\n"
		"ATTENDEE;CN=\"Bob B\";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:"
		"mailto:bob@examp\r\n le.org\r\n"
		"ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:"
		"carol@example.or\r\n g\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
	};
	g_assert_nonnull(a);
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		g_assert_nonnull(strstr(a, want[i]));

	/* all day at Berlin's midnight; a monthly rule to an end date; no
	 * UID: one made from the ItemId, the same each time */
	g_autofree char *b = props(
		"<t:ItemId Id=\"AAMkX\"/><t:Subject>Holiday</t:Subject>"
		"<t:Start>2026-12-23T23:00:00Z</t:Start>"
		"<t:End>2026-12-24T23:00:00Z</t:End>"
		"<t:IsAllDayEvent>true</t:IsAllDayEvent><t:Recurrence>"
		"<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval>"
		"<t:DaysOfWeek>Friday</t:DaysOfWeek><t:DayOfWeekIndex>Last"
		"</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>"
		"<t:EndDateRecurrence><t:StartDate>2026-12-24</t:StartDate>"
		"<t:EndDate>2027-06-30</t:EndDate></t:EndDateRecurrence>"
		"</t:Recurrence>");
	g_autofree char *b2 = props(
		"<t:ItemId Id=\"AAMkX\"/><t:Start>2026-12-23T23:00:00Z</t:Start>");
	g_assert_nonnull(strstr(b, "DTSTART;VALUE=DATE:20261224\r\n"
				"DTEND;VALUE=DATE:20261225\r\n"));
	g_assert_nonnull(strstr(b, "RRULE:FREQ=MONTHLY;BYDAY=-1FR;"
				"UNTIL=20270630T235959Z\r\n"));
	g_assert_nonnull(strstr(b, "\r\nUID:"));
	g_assert_cmpstr(strstr(b, "\r\nUID:"), !=, NULL);
	g_assert_true(!strncmp(strstr(b, "\r\nUID:"), strstr(b2, "\r\nUID:"),
			       70));

	/* without a Start there is no event */
	g_assert_null(props("<t:Subject>x</t:Subject>"));
}

static void test_names(void)
{
	static const struct {
		const char *card;
		const char *name;
	} cards[] = {
		{ "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob Sender\r\nEND:VCARD\r\n",
		  "Bob Sender" },
		{ "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\r\nN:Jones;Carol;;;\r\n"
		  "END:VCARD\r\n", "Carol Jones" },
		{ "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:  a/b\\, \t c  \r\n"
		  "END:VCARD\r\n", "a%2Fb, c" },
		{ "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:.hidden\r\nEND:VCARD\r\n",
		  "%2Ehidden" },
		{ "BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:x@y.org\r\nEND:VCARD\r\n",
		  "x@y.org" },
		{ "BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n", "Contact" },
		{ "not a card", "Contact" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cards); i++) {
		g_autofree char *n = ewsc_name_of_card(cards[i].card,
						       strlen(cards[i].card));
		g_assert_cmpstr(n, ==, cards[i].name);
	}
	g_autofree char *ev = ewsc_name_of_event(CAL, strlen(CAL));
	g_assert_cmpstr(ev, ==, "2026-12-08 Caf\xc3\xa9 =");
	/* a long summary is cut at a character, within the bound */
	g_autoptr(GString) lng = g_string_new("BEGIN:VCARD\r\nFN:");
	for (int i = 0; i < 100; i++)
		g_string_append(lng, "\xc3\xa9/");
	g_string_append(lng, "\r\nEND:VCARD\r\n");
	g_autofree char *cut = ewsc_name_of_card(lng->str, lng->len);
	g_assert_cmpuint(strlen(cut), <=, EWSC_NAME_MAX);
	g_assert_true(g_utf8_validate(cut, -1, NULL));
	g_assert_true(g_str_has_suffix(cut, "%2F"));

	/* collisions: by ItemId, and never onto another item's own name */
	struct ewsc_named items[] = {
		{ "id-c", "Bob", NULL }, { "id-a", "Bob", NULL },
		{ "id-b", "Bob (2)", NULL }, { "id-d", "Bob", NULL },
		{ "id-e", "Alice", NULL },
	};
	ewsc_names_assign(items, G_N_ELEMENTS(items), ".vcf");
	g_assert_cmpstr(items[1].name, ==, "Bob.vcf");
	g_assert_cmpstr(items[2].name, ==, "Bob (2).vcf");
	g_assert_cmpstr(items[0].name, ==, "Bob (3).vcf");
	g_assert_cmpstr(items[3].name, ==, "Bob (4).vcf");
	g_assert_cmpstr(items[4].name, ==, "Alice.vcf");
	/* the same items in another order: the same names */
	struct ewsc_named again[] = {
		{ "id-e", "Alice", NULL }, { "id-d", "Bob", NULL },
		{ "id-b", "Bob (2)", NULL }, { "id-a", "Bob", NULL },
		{ "id-c", "Bob", NULL },
	};
	ewsc_names_assign(again, G_N_ELEMENTS(again), ".vcf");
	for (size_t i = 0; i < G_N_ELEMENTS(again); i++) {
		for (size_t j = 0; j < G_N_ELEMENTS(items); j++)
			if (!strcmp(again[i].item_id, items[j].item_id))
				g_assert_cmpstr(again[i].name, ==,
						items[j].name);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(items); i++) {
		g_free(items[i].name);
		g_free(again[i].name);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ews-event/from-mime", test_from_mime);
	g_test_add_func("/ews-event/from-props", test_from_props);
	g_test_add_func("/ews-event/names", test_names);
	return g_test_run();
}
