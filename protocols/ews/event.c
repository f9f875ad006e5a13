/*
 * event.c - a calendar item as the iCalendar object its .ics file
 * shows: the text/calendar part of its MimeContent, or, when the server
 * gives no usable MIME, one VEVENT made from its properties.
 *
 * Specs: [MS-OXWSCAL] 2.2.4.3 (CalendarItemType: Start, End,
 * IsAllDayEvent, Location, UID, Organizer, RequiredAttendees,
 * OptionalAttendees, Recurrence), [MS-OXWSCDATA] 2.2.4 (RecurrenceType
 * and its patterns and ranges, DayOfWeekIndexType, DaysOfWeekType),
 * RFC 2045 and RFC 2046 (a MIME message, its parts, Content-Transfer-
 * Encoding, charset), RFC 5545 (3.4 the VCALENDAR, 3.8.5.3 RRULE,
 * 3.8.4.1 ATTENDEE, 3.8.4.3 ORGANIZER).
 *
 * Exchange, and servers that copy it, answer GetItem's MimeContent of an
 * appointment with a whole message (multipart/alternative, the object in
 * a text/calendar part, quoted-printable or base64, of some charset).  A
 * .ics file must be the object itself, as every iCalendar reader expects,
 * so the part is taken whole (VTIMEZONE and all), decoded and made UTF-8.
 */
#include "event.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <string.h>

#include "wire/mime-entity.h"
#include "wire/vcard.h"

/* Parts nest no deeper than this in what is looked through. */
#define EVENT_MIME_DEPTH 8

static bool is_vcalendar(const char *buf, size_t len)
{
	struct vcard *cal = NULL;
	int rc = vcard_parse_object(buf, len, "VCALENDAR", &cal);

	vcard_free(&cal);
	return rc == 0;
}

/* Whether the bytes are an iCalendar object already (optionally after a
 * byte order mark and blank lines). */
static bool bare_object(const guchar *buf, size_t len)
{
	size_t i = 0;

	if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
		i = 3;
	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return len - i >= 15 &&
	       !g_ascii_strncasecmp((const char *)buf + i, "BEGIN:VCALENDAR",
				    15);
}

/* The decoded content of text/calendar part `part` in UTF-8.  Caller
 * owns the result; NULL when it cannot be read. */
static GByteArray *part_text(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	const char *cs = g_mime_object_get_content_type_parameter(
		GMIME_OBJECT(part), "charset");
	GMimeStream *mem;
	GByteArray *out;

	if (!w)
		return NULL;
	mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(w, mem) < 0) {
		g_object_unref(mem);
		return NULL;
	}
	out = g_byte_array_new();
	GByteArray *raw = g_mime_stream_mem_get_byte_array(
		GMIME_STREAM_MEM(mem));
	g_byte_array_append(out, raw->data, raw->len);
	g_object_unref(mem);
	if (cs && g_ascii_strcasecmp(cs, "utf-8") &&
	    g_ascii_strcasecmp(cs, "us-ascii") &&
	    g_ascii_strcasecmp(cs, "utf8")) {
		gsize n = 0;
		char *u = g_convert((const char *)out->data, (gssize)out->len,
				    "UTF-8", cs, NULL, &n, NULL);
		if (u) {
			g_byte_array_set_size(out, 0);
			g_byte_array_append(out, (const guint8 *)u, (guint)n);
			g_free(u);
		}
	}
	return out;
}

/* The first text/calendar part below `obj` holding a VCALENDAR. */
static GByteArray *find_calendar(GMimeObject *obj, int depth)
{
	if (!obj || depth > EVENT_MIME_DEPTH)
		return NULL;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++) {
			GByteArray *got = find_calendar(
				g_mime_multipart_get_part(mp, i), depth + 1);
			if (got)
				return got;
		}
		return NULL;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(
			GMIME_MESSAGE_PART(obj));
		return m ? find_calendar(g_mime_message_get_mime_part(m),
					 depth + 1)
			 : NULL;
	}
	if (!GMIME_IS_PART(obj))
		return NULL;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	if (!ct || !g_mime_content_type_is_type(ct, "text", "calendar"))
		return NULL;
	GByteArray *text = part_text(GMIME_PART(obj));
	if (text && !is_vcalendar((const char *)text->data, text->len)) {
		g_byte_array_unref(text);
		text = NULL;
	}
	return text;
}

int ewsc_event_from_mime(const guchar *buf, size_t len, char **ics_r,
			 size_t *len_r)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	GByteArray *got = NULL;

	if (bare_object(buf, len)) {
		if (!is_vcalendar((const char *)buf, len))
			return -EINVAL;
		*ics_r = g_strndup((const char *)buf, len);
		*len_r = len;
		return 0;
	}
	mime_init();
	stream = g_mime_stream_mem_new_with_buffer((const char *)buf, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg)
		got = find_calendar(g_mime_message_get_mime_part(msg), 0);
	g_clear_object(&msg);
	g_object_unref(parser);
	g_object_unref(stream);
	if (!got)
		return -EINVAL;
	/* the CRLF before a boundary is the boundary's (RFC 2046 5.1.1):
	 * the object's last line gets its own back */
	if (got->len && got->data[got->len - 1] != '\n')
		g_byte_array_append(got, (const guint8 *)"\r\n", 2);
	*len_r = got->len;
	g_byte_array_append(got, (const guint8 *)"", 1);
	*ics_r = (char *)g_byte_array_free(got, FALSE);
	return 0;
}

/* ---- an object from the item's properties ---- */

static void prop(GString *out, const char *name, const char *text)
{
	g_autoptr(GString) line = g_string_new(name);

	g_string_append_c(line, ':');
	vcard_escape(line, text);
	vcard_append_line(out, line->str);
}

static GDateTime *item_time(const xmlNode *item, const char *name)
{
	g_autofree char *s = ewsc_text(item, name);
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();

	return s ? g_date_time_new_from_iso8601(s, utc) : NULL;
}

/* The date an all-day event stands on: Exchange gives its start as the
 * local midnight of the organizer's zone in UTC, so the midnight nearest
 * to it is the day (right for every zone within 12 hours of UTC). */
static GDateTime *day_of(GDateTime *t)
{
	g_autoptr(GDateTime) utc = g_date_time_to_utc(t);
	g_autoptr(GDateTime) mid = g_date_time_add_hours(utc, 12);

	return g_date_time_new_utc(g_date_time_get_year(mid),
				   g_date_time_get_month(mid),
				   g_date_time_get_day_of_month(mid), 0, 0, 0);
}

static void time_prop(GString *out, const char *name, GDateTime *t,
		      bool all_day)
{
	g_autoptr(GDateTime) utc = NULL;
	g_autofree char *v = NULL;

	if (all_day) {
		utc = day_of(t);
		v = g_date_time_format(utc, "%Y%m%d");
		g_string_append_printf(out, "%s;VALUE=DATE:%s\r\n", name, v);
		return;
	}
	utc = g_date_time_to_utc(t);
	v = g_date_time_format(utc, "%Y%m%dT%H%M%SZ");
	g_string_append_printf(out, "%s:%s\r\n", name, v);
}

/* "Monday" -> "MO"; the groups Day, Weekday and WeekendDay as lists. */
static const char *ical_day(const char *d)
{
	static const char *const names[][2] = {
		{ "Sunday", "SU" }, { "Monday", "MO" }, { "Tuesday", "TU" },
		{ "Wednesday", "WE" }, { "Thursday", "TH" },
		{ "Friday", "FR" }, { "Saturday", "SA" },
		{ "Day", "SU,MO,TU,WE,TH,FR,SA" },
		{ "Weekday", "MO,TU,WE,TH,FR" }, { "WeekendDay", "SA,SU" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (!g_strcmp0(d, names[i][0]))
			return names[i][1];
	return NULL;
}

static int week_index(const char *s)
{
	static const char *const idx[] = { "First", "Second", "Third",
					   "Fourth" };

	for (size_t i = 0; i < G_N_ELEMENTS(idx); i++)
		if (!g_strcmp0(s, idx[i]))
			return (int)i + 1;
	return !g_strcmp0(s, "Last") ? -1 : 0;
}

/* BYDAY of a DaysOfWeek list ("Monday Wednesday"), each day with the
 * week index `n` (0 for none) before it. */
static void byday(GString *r, const char *days, int n)
{
	g_auto(GStrv) each = g_strsplit(days ? days : "", " ", -1);
	bool first = true;

	for (int i = 0; each[i]; i++) {
		const char *d = ical_day(each[i]);
		if (!d)
			continue;
		g_auto(GStrv) parts = g_strsplit(d, ",", -1);
		for (int j = 0; parts[j]; j++) {
			g_string_append(r, first ? ";BYDAY=" : ",");
			if (n)
				g_string_append_printf(r, "%d", n);
			g_string_append(r, parts[j]);
			first = false;
		}
	}
}

static const char *const months[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December",
};

static int month_of(const char *s)
{
	for (size_t i = 0; i < G_N_ELEMENTS(months); i++)
		if (!g_strcmp0(s, months[i]))
			return (int)i + 1;
	return 0;
}

/* A positive number of the element `name` of `p`, else 0. */
static unsigned number(const xmlNode *p, const char *name)
{
	g_autofree char *s = ewsc_text(p, name);
	guint64 v = 0;

	if (!s || !g_ascii_string_to_unsigned(s, 10, 1, 100000, &v, NULL))
		return 0;
	return (unsigned)v;
}

/* The pattern of a Recurrence as the start of an RRULE value; false for
 * a pattern not known. */
static bool rrule_pattern(const xmlNode *p, GString *r)
{
	const char *kind = (const char *)p->name;
	g_autofree char *days = ewsc_text(p, "DaysOfWeek");
	g_autofree char *index = ewsc_text(p, "DayOfWeekIndex");
	g_autofree char *month = ewsc_text(p, "Month");
	unsigned interval = number(p, "Interval"), mday = number(p,
								 "DayOfMonth");

	if (!strcmp(kind, "DailyRecurrence"))
		g_string_append(r, "FREQ=DAILY");
	else if (!strcmp(kind, "WeeklyRecurrence"))
		g_string_append(r, "FREQ=WEEKLY");
	else if (g_str_has_suffix(kind, "MonthlyRecurrence"))
		g_string_append(r, "FREQ=MONTHLY");
	else if (g_str_has_suffix(kind, "YearlyRecurrence"))
		g_string_append(r, "FREQ=YEARLY");
	else
		return false;
	if (interval > 1)
		g_string_append_printf(r, ";INTERVAL=%u", interval);
	if (month_of(month))
		g_string_append_printf(r, ";BYMONTH=%d", month_of(month));
	if (g_str_has_prefix(kind, "Relative"))
		byday(r, days, week_index(index));
	else if (days)
		byday(r, days, 0);
	if (g_str_has_prefix(kind, "Absolute") && mday)
		g_string_append_printf(r, ";BYMONTHDAY=%u", mday);
	return true;
}

/* RRULE of a t:Recurrence, with the range's COUNT or UNTIL. */
static void rrule(GString *out, const xmlNode *rec)
{
	g_autoptr(GString) r = g_string_new(NULL);
	bool known = false;

	for (xmlNode *c = ews_first_element(rec); c; c = ews_next_element(c)) {
		const char *kind = (const char *)c->name;
		if (!known && g_str_has_suffix(kind, "Recurrence") &&
		    !g_str_has_suffix(kind, "NoEndRecurrence") &&
		    !g_str_has_suffix(kind, "EndDateRecurrence") &&
		    strcmp(kind, "NumberedRecurrence")) {
			known = rrule_pattern(c, r);
		} else if (!strcmp(kind, "NumberedRecurrence") &&
			   number(c, "NumberOfOccurrences")) {
			g_string_append_printf(r, ";COUNT=%u",
					       number(c,
						      "NumberOfOccurrences"));
		} else if (!strcmp(kind, "EndDateRecurrence")) {
			g_autofree char *end = ewsc_text(c, "EndDate");
			/* "2026-12-31" or "2026-12-31Z": the last day whole */
			if (end && strlen(end) >= 10 && end[4] == '-' &&
			    end[7] == '-')
				g_string_append_printf(r, ";UNTIL=%.4s%.2s%.2s"
						       "T235959Z", end,
						       end + 5, end + 8);
		}
	}
	if (known) {
		g_string_prepend(r, "RRULE:");
		vcard_append_line(out, r->str);
	}
}

static const char *partstat(const char *response)
{
	if (!g_strcmp0(response, "Accept") ||
	    !g_strcmp0(response, "Organizer"))
		return "ACCEPTED";
	if (!g_strcmp0(response, "Tentative"))
		return "TENTATIVE";
	if (!g_strcmp0(response, "Decline"))
		return "DECLINED";
	return "NEEDS-ACTION";
}

/* A CN parameter value: quoted, without the characters a quoted
 * parameter cannot hold (RFC 5545 3.1). */
static void cn_param(GString *line, const char *name)
{
	g_string_append(line, ";CN=\"");
	for (const char *p = name; *p; p++)
		if (*p != '"' && (unsigned char)*p >= 0x20 && *p != 0x7f)
			g_string_append_c(line, *p);
	g_string_append_c(line, '"');
}

/* ORGANIZER or ATTENDEE of a t:Mailbox. */
static void person(GString *out, const char *what, const xmlNode *mbox,
		   const char *params)
{
	g_autofree char *name = mbox ? ewsc_text(mbox, "Name") : NULL;
	g_autofree char *addr = mbox ? ewsc_text(mbox, "EmailAddress") : NULL;
	g_autoptr(GString) line = g_string_new(what);

	if (!addr || !*addr || strpbrk(addr, "\r\n\"<>"))
		return;
	if (name && *name)
		cn_param(line, name);
	g_string_append(line, params);
	g_string_append_printf(line, ":mailto:%s", addr);
	vcard_append_line(out, line->str);
}

static void attendees(GString *out, const xmlNode *item, const char *elem,
		      const char *role)
{
	xmlNode *list = ews_child(item, EWS_NS_T, elem);

	for (xmlNode *a = ews_first_element(list); a; a = ews_next_element(a)) {
		g_autofree char *resp = ewsc_text(a, "ResponseType");
		g_autofree char *params = g_strdup_printf(
			";ROLE=%s;PARTSTAT=%s", role, partstat(resp));
		person(out, "ATTENDEE", ews_child(a, EWS_NS_T, "Mailbox"),
		       params);
	}
}

int ewsc_event_from_props(const xmlNode *item, char **ics_r, size_t *len_r)
{
	g_autoptr(GDateTime) start = item_time(item, "Start");
	g_autoptr(GDateTime) end = item_time(item, "End");
	g_autoptr(GDateTime) stamp = item_time(item, "LastModifiedTime");
	g_autofree char *all = ewsc_text(item, "IsAllDayEvent");
	g_autofree char *uid = ewsc_text(item, "UID");
	g_autofree char *subject = ewsc_text(item, "Subject");
	g_autofree char *location = ewsc_text(item, "Location");
	g_autofree char *body = ewsc_text(item, "Body");
	xmlNode *org = ews_child(item, EWS_NS_T, "Organizer");
	xmlNode *rec = ews_child(item, EWS_NS_T, "Recurrence");
	g_autofree char *item_id = NULL;
	bool all_day = !g_strcmp0(all, "true");
	GString *out;

	if (!start)
		return -EINVAL;
	if (!stamp)
		stamp = g_date_time_new_now_utc();
	if (!uid || !*uid) {
		/* the ItemId stays while the item does: a UID as stable */
		xmlNode *id = ews_child(item, EWS_NS_T, "ItemId");
		item_id = id ? ews_attr(id, "Id") : NULL;
		g_free(uid);
		uid = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
						    item_id ? item_id : "",
						    -1);
	}
	out = g_string_new("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
			   "PRODID:-//mailfs//EWS client//EN\r\n"
			   "BEGIN:VEVENT\r\n");
	prop(out, "UID", uid);
	time_prop(out, "DTSTAMP", stamp, false);
	time_prop(out, "DTSTART", start, all_day);
	if (end && g_date_time_compare(end, start) > 0)
		time_prop(out, "DTEND", end, all_day);
	if (subject)
		prop(out, "SUMMARY", subject);
	if (location && *location)
		prop(out, "LOCATION", location);
	if (body && *body)
		prop(out, "DESCRIPTION", body);
	if (rec)
		rrule(out, rec);
	if (org)
		person(out, "ORGANIZER", ews_child(org, EWS_NS_T, "Mailbox"),
		       "");
	attendees(out, item, "RequiredAttendees", "REQ-PARTICIPANT");
	attendees(out, item, "OptionalAttendees", "OPT-PARTICIPANT");
	attendees(out, item, "Resources", "NON-PARTICIPANT");
	g_string_append(out, "END:VEVENT\r\nEND:VCALENDAR\r\n");
	*len_r = out->len;
	*ics_r = g_string_free(out, FALSE);
	return 0;
}

void ewsc_event_req_props(GString *req)
{
	static const char *const uris[] = {
		"item:Subject", "item:Body", "item:LastModifiedTime",
		"calendar:Start", "calendar:End", "calendar:IsAllDayEvent",
		"calendar:Location", "calendar:UID", "calendar:Organizer",
		"calendar:RequiredAttendees", "calendar:OptionalAttendees",
		"calendar:Resources", "calendar:Recurrence",
	};

	g_string_append(req, "<t:BodyType>Text</t:BodyType>"
			"<t:AdditionalProperties>");
	for (size_t i = 0; i < G_N_ELEMENTS(uris); i++)
		g_string_append_printf(req, "<t:FieldURI FieldURI=\"%s\"/>",
				       uris[i]);
	g_string_append(req, "</t:AdditionalProperties>");
}
