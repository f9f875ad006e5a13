/*
 * test-content-check.c - the structural checks of vCard and iCalendar
 * content (common/content-check.h).
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "content-check.h"

typedef int (*check_fn)(const char *buf, size_t len, char **why_r);

struct check_case {
	const char *what;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	int rc;
};

#define CARD30 \
	"BEGIN:VCARD\r\n" \
	"VERSION:3.0\r\n" \
	"N:Doe;Ann;;;\r\n" \
	"FN:Ann Doe\r\n" \
	"EMAIL;TYPE=INTERNET:ann@example.org\r\n" \
	"END:VCARD\r\n"

#define CARD40 \
	"BEGIN:VCARD\n" \
	"VERSION:4.0\n" \
	"FN:Bob\n" \
	"TEL;VALUE=uri;TYPE=\"voice,home\":tel:+1-555-555-5555\n" \
	"END:VCARD\n"

#define NUL_CARD \
	"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\0nn\r\nEND:VCARD\r\n"

static const struct check_case vcard_cases[] = {
	{ "vCard 3.0, CRLF", CARD30, 0, 0 },
	{ "vCard 4.0, LF", CARD40, 0, 0 },
	{ "lower-case names",
	  "begin:vcard\r\nversion:3.0\r\nfn:Ann\r\nend:VCARD\r\n", 0, 0 },
	{ "no line end after END",
	  "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEND:VCARD", 0, 0 },
	{ "folded lines",
	  "BEGIN:VCARD\r\n"
	  "VERSION:3.0\r\n"
	  "FN:Ann\r\n"
	  "NOTE:a note that is long enough to be folded over more than o\r\n"
	  " ne line\r\n"
	  "\tand a tab-folded third\r\n"
	  "END:VCARD\r\n", 0, 0 },
	{ "folded property name",
	  "BEGIN:VCARD\r\nVERSION:3.0\r\nF\r\n N:Ann\r\nEND:VCARD\r\n", 0, 0 },
	{ "quoted parameter holding ':'",
	  "BEGIN:VCARD\r\n"
	  "VERSION:4.0\r\n"
	  "FN:Ann\r\n"
	  "ADR;LABEL=\"1 Main St: Flat 2\":;;1 Main St;;;;\r\n"
	  "END:VCARD\r\n", 0, 0 },
	{ "several cards", CARD30 CARD40 CARD30, 0, 0 },
	{ "byte order mark", "\xEF\xBB\xBF" CARD30, 0, 0 },
	{ "group prefix",
	  "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nitem1.EMAIL:a@b\r\n"
	  "END:VCARD\r\n", 0, 0 },
	{ "16 levels of nesting",
	  "BEGIN:VCARD\nVERSION:4.0\n"
	  "BEGIN:X1\nBEGIN:X2\nBEGIN:X3\nBEGIN:X4\nBEGIN:X5\nBEGIN:X6\n"
	  "BEGIN:X7\nBEGIN:X8\nBEGIN:X9\nBEGIN:X10\nBEGIN:X11\nBEGIN:X12\n"
	  "BEGIN:X13\nBEGIN:X14\nBEGIN:X15\n"
	  "END:X15\nEND:X14\nEND:X13\nEND:X12\nEND:X11\nEND:X10\nEND:X9\n"
	  "END:X8\nEND:X7\nEND:X6\nEND:X5\nEND:X4\nEND:X3\nEND:X2\nEND:X1\n"
	  "END:VCARD\n", 0, 0 },

	{ "empty", "", 0, -EINVAL },
	{ "only a BOM", "\xEF\xBB\xBF", 0, -EINVAL },
	{ "only line ends", "\r\n\r\n", 0, -EINVAL },
	{ "plain text", "Hello Ann,\r\nsee you tomorrow.\r\n", 0, -EINVAL },
	{ "missing END",
	  "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\n", 0, -EINVAL },
	{ "mismatched END",
	  "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEND:VCALENDAR\r\n", 0,
	  -EINVAL },
	{ "END without BEGIN", "END:VCARD\r\n", 0, -EINVAL },
	{ "no VERSION",
	  "BEGIN:VCARD\r\nFN:Ann\r\nEND:VCARD\r\n", 0, -EINVAL },
	{ "property before BEGIN",
	  "FN:Ann\r\n" CARD30, 0, -EINVAL },
	{ "property after END", CARD30 "FN:Ann\r\n", 0, -EINVAL },
	{ "line without a value",
	  "BEGIN:VCARD\r\nVERSION:3.0\r\nFN\r\nEND:VCARD\r\n", 0, -EINVAL },
	{ "unterminated quote swallows the ':'",
	  "BEGIN:VCARD\r\nVERSION:3.0\r\nFN;X=\"a:b\r\nEND:VCARD\r\n", 0,
	  -EINVAL },
	{ "continuation of nothing",
	  " FN:Ann\r\n" CARD30, 0, -EINVAL },
	{ "NUL byte", NUL_CARD, sizeof(NUL_CARD) - 1, -EINVAL },
	{ "iCalendar object", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	  "END:VCALENDAR\r\n", 0, -EINVAL },
	{ "card then calendar", CARD30 "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	  "END:VCALENDAR\r\n", 0, -EINVAL },
	{ "17 levels of nesting",
	  "BEGIN:VCARD\nVERSION:4.0\n"
	  "BEGIN:X1\nBEGIN:X2\nBEGIN:X3\nBEGIN:X4\nBEGIN:X5\nBEGIN:X6\n"
	  "BEGIN:X7\nBEGIN:X8\nBEGIN:X9\nBEGIN:X10\nBEGIN:X11\nBEGIN:X12\n"
	  "BEGIN:X13\nBEGIN:X14\nBEGIN:X15\nBEGIN:X16\n"
	  "END:X16\nEND:X15\nEND:X14\nEND:X13\nEND:X12\nEND:X11\nEND:X10\n"
	  "END:X9\nEND:X8\nEND:X7\nEND:X6\nEND:X5\nEND:X4\nEND:X3\nEND:X2\n"
	  "END:X1\nEND:VCARD\n", 0, -EINVAL },
};

#define CALENDAR \
	"BEGIN:VCALENDAR\r\n" \
	"VERSION:2.0\r\n" \
	"PRODID:-//example//mailfs test//EN\r\n" \
	"BEGIN:VEVENT\r\n" \
	"UID:20240101-1@example.org\r\n" \
	"DTSTAMP:20240101T000000Z\r\n" \
	"DTSTART;TZID=Europe/Berlin:20240102T100000\r\n" \
	"SUMMARY:Planning\\, with a folded\r\n" \
	"  summary\r\n" \
	"BEGIN:VALARM\r\n" \
	"ACTION:DISPLAY\r\n" \
	"TRIGGER:-PT15M\r\n" \
	"DESCRIPTION:Reminder\r\n" \
	"END:VALARM\r\n" \
	"END:VEVENT\r\n" \
	"END:VCALENDAR\r\n"

static const struct check_case ical_cases[] = {
	{ "VCALENDAR with VEVENT and VALARM", CALENDAR, 0, 0 },
	{ "byte order mark", "\xEF\xBB\xBF" CALENDAR, 0, 0 },
	{ "VTODO, LF",
	  "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VTODO\nUID:1\n"
	  "DTSTAMP:20240101T000000Z\nEND:VTODO\nEND:VCALENDAR\n", 0, 0 },

	{ "empty", "", 0, -EINVAL },
	{ "a vCard", CARD30, 0, -EINVAL },
	{ "bare VEVENT",
	  "BEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\n", 0, -EINVAL },
	{ "no VERSION",
	  "BEGIN:VCALENDAR\r\nPRODID:x\r\nEND:VCALENDAR\r\n", 0, -EINVAL },
	{ "VERSION only inside VEVENT",
	  "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nVERSION:2.0\r\nEND:VEVENT\r\n"
	  "END:VCALENDAR\r\n", 0, -EINVAL },
	{ "VALARM closed by END:VEVENT",
	  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nBEGIN:VALARM\r\n"
	  "END:VEVENT\r\nEND:VCALENDAR\r\n", 0, -EINVAL },
	{ "missing END:VCALENDAR",
	  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\n",
	  0, -EINVAL },
};

static void run_cases(check_fn check, const struct check_case *cases,
		      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = cases[i].len ? cases[i].len
					  : strlen(cases[i].text);
		/* an exact-size copy, so a read past `len` shows under ASan */
		char *buf = g_memdup2(cases[i].text, len ? len : 1);
		char *why = NULL;
		int rc;

		g_test_message("case: %s", cases[i].what);
		rc = check(buf, len, &why);
		g_assert_cmpint(rc, ==, cases[i].rc);
		if (rc == 0) {
			g_assert_null(why);
		} else {
			g_assert_nonnull(why);
			g_assert_cmpstr(why, !=, "");
			g_test_message("  why: %s", why);
		}
		g_free(why);
		g_free(buf);
	}
}

static void test_vcard(void)
{
	run_cases(content_check_vcard, vcard_cases, G_N_ELEMENTS(vcard_cases));
}

static void test_icalendar(void)
{
	run_cases(content_check_icalendar, ical_cases,
		  G_N_ELEMENTS(ical_cases));
}

/* RFC 6350 6.7.9: VERSION MUST be present in every vCard of a file. */
static void test_vcard_each_needs_version(void)
{
	static const struct check_case cases[] = {
		{ "second card has no VERSION",
		  CARD30 "BEGIN:VCARD\r\nFN:Bob\r\nEND:VCARD\r\n", 0,
		  -EINVAL },
		{ "first card has no VERSION",
		  "BEGIN:VCARD\r\nFN:Bob\r\nEND:VCARD\r\n" CARD30, 0,
		  -EINVAL },
	};

	/* reported without stopping, so that every case is tried */
	GString *wrong = g_string_new(NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *why = NULL;
		int rc = content_check_vcard(cases[i].text,
					     strlen(cases[i].text), &why);

		if (rc != cases[i].rc)
			g_string_append_printf(wrong, "%s%s: got %d, want %d",
					       wrong->len ? "; " : "",
					       cases[i].what, rc, cases[i].rc);
		g_free(why);
	}
	if (wrong->len)
		g_test_fail_printf("%s", wrong->str);
	g_string_free(wrong, TRUE);
}

/* The reasons name what is wrong, for the user reading rejected/. */
static void test_reasons(void)
{
	static const char nul[] = "BEGIN:VCARD\r\nVERSION:3.0\r\n\0\r\n";
	static const char deep_head[] = "BEGIN:VCARD\nVERSION:4.0\n";
	char *why = NULL;

	g_assert_cmpint(content_check_vcard(nul, sizeof(nul) - 1, &why), ==,
			-EINVAL);
	g_assert_nonnull(strstr(why, "NUL"));
	g_clear_pointer(&why, g_free);

	g_assert_cmpint(content_check_icalendar(CARD30, strlen(CARD30), &why),
			==, -EINVAL);
	g_assert_nonnull(strstr(why, "VCARD"));
	g_clear_pointer(&why, g_free);

	static const char open_card[] = "BEGIN:VCARD\r\nFN:A\r\n";
	g_assert_cmpint(content_check_vcard(open_card, strlen(open_card),
					    &why), ==, -EINVAL);
	g_assert_nonnull(strstr(why, "END:VCARD"));
	g_clear_pointer(&why, g_free);

	GString *deep = g_string_new(deep_head);
	for (int i = 1; i <= 16; i++)
		g_string_append_printf(deep, "BEGIN:X%d\n", i);
	g_assert_cmpint(content_check_vcard(deep->str, deep->len, &why), ==,
			-EINVAL);
	g_assert_nonnull(strstr(why, "deep"));
	g_clear_pointer(&why, g_free);
	g_string_free(deep, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/content-check/vcard", test_vcard);
	g_test_add_func("/content-check/icalendar", test_icalendar);
	g_test_add_func("/content-check/reasons", test_reasons);
	/* shows a known fault; last, as a failure ends the run */
	g_test_add_func("/content-check/vcard-each-needs-version",
			test_vcard_each_needs_version);
	return g_test_run();
}
