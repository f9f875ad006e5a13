/*
 * calendar.c - the .ics files of calendar folders as EWS calendar
 * items: a t:CalendarItem whose MimeContent is the file's bytes exactly
 * (as Exchange gives a calendar item's, and DavMail reads it), with
 * Subject, Sensitivity, the reminder, Start, End, Location and UID
 * read from its first VEVENT; and storing a new one.  UpdateItem is in
 * calendar-update.c.
 *
 * Specs: [MS-OXWSCAL] 2.2.4.3 (CalendarItemType); [MS-OXWSCORE]
 * 2.2.4.x (MimeContentType); RFC 5545 sections 3.1 (content lines),
 * 3.3.4 and 3.3.5 (DATE, DATE-TIME with UTC, TZID or floating time),
 * 3.3.6 (DURATION), 3.8.1.3 (CLASS), 3.8.1.7 (LOCATION), 3.8.1.12
 * (SUMMARY), 3.8.2.2 (DTEND), 3.8.2.4 (DTSTART), 3.8.4.7 (UID), 3.6.6
 * and 3.8.6.3 (VALARM, TRIGGER).
 *
 * Only what a listing needs is read; recurrence, attendees and the rest
 * stay in the file for clients that read MimeContent.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "pim.h"
#include "wire/mime-entity.h"
#include "wire/vcard.h"

/*
 * gromox gives a calendar item's MimeContent as a MIME message with the
 * object in a text/calendar part (tests/data/ews-traces/).  The client's
 * tests meet that shape here too with MAILFS_TEST_EWS_CALENDAR_MIME=1 in
 * the server's environment, rather than through a recording alone.
 */
static bool mime_shape(void)
{
	const char *hook = getenv("MAILFS_TEST_EWS_CALENDAR_MIME");

	return hook && *hook == '1';
}

/* Between the parts of a calendar item's MIME message: '_' is no base64
 * letter, so no part's body can hold it. */
#define CAL_BOUNDARY "----=_mailfs_calendar_item"

static void write_time(GString *out, const char *elem, GDateTime *t)
{
	g_autoptr(GDateTime) utc = t ? g_date_time_to_utc(t) : NULL;
	g_autofree char *s = utc ? g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ")
				 : NULL;

	if (s)
		g_string_append_printf(out, "<t:%s>%s</t:%s>", elem, s, elem);
}

static void write_text(GString *out, const char *elem, const char *v)
{
	if (!v)
		return;
	g_string_append_printf(out, "<t:%s>", elem);
	ews_escape(out, v);
	g_string_append_printf(out, "</t:%s>", elem);
}

/* A TRIGGER's duration (RFC 5545 3.3.6) as the minutes before the start
 * it stands for (0 for one at or after it); -1 for a value that is not a
 * duration, such as an absolute DATE-TIME. */
static int trigger_minutes(const char *v)
{
	gint64 secs = 0, n = 0;
	bool neg = false, in_time = false;

	if (*v == '+' || *v == '-')
		neg = *v++ == '-';
	if (*v++ != 'P')
		return -1;
	for (; *v; v++) {
		gint64 unit;

		if (g_ascii_isdigit(*v)) {
			n = n * 10 + (*v - '0');
			if (n > 1000000000)
				return -1;
			continue;
		}
		switch (*v) {
		case 'T': in_time = true; continue;
		case 'W': unit = 7 * 86400; break;
		case 'D': unit = 86400; break;
		case 'H': unit = 3600; break;
		case 'M': unit = in_time ? 60 : -1; break;
		case 'S': unit = 1; break;
		default: unit = -1; break;
		}
		if (unit < 0)
			return -1;
		secs += n * unit;
		n = 0;
	}
	return neg ? (int)MIN(secs / 60, (gint64)INT_MAX) : 0;
}

/* What the item shows of its first VEVENT beside struct vcard_event:
 * CLASS as Sensitivity, and the reminder from its first VALARM. */
struct shown {
	const char *sensitivity;	/* static */
	bool reminder;
	int minutes;			/* -1 when the trigger is no duration */
};

static void read_shown(const GString *buf, struct shown *x)
{
	struct vcard *cal = NULL;
	bool in = false, alarm = false;

	x->sensitivity = "Normal";
	x->reminder = false;
	x->minutes = -1;
	if (!buf || vcard_parse_object(buf->str, buf->len, "VCALENDAR",
				       &cal) < 0)
		return;
	for (guint i = 0; i < cal->props->len; i++) {
		const struct vcard_prop *p = cal->props->pdata[i];
		bool begin = !strcmp(p->name, "BEGIN"),
		     end = !strcmp(p->name, "END");

		if (!in) {
			in = begin && !g_ascii_strcasecmp(p->value, "VEVENT");
		} else if ((begin || end) &&
			   !g_ascii_strcasecmp(p->value, "VALARM")) {
			alarm = begin;
			x->reminder = true;
		} else if (end && !g_ascii_strcasecmp(p->value, "VEVENT")) {
			break;
		} else if (alarm && !strcmp(p->name, "TRIGGER") &&
			   x->minutes < 0) {
			x->minutes = trigger_minutes(p->value);
		} else if (!alarm && !strcmp(p->name, "CLASS")) {
			x->sensitivity =
				!g_ascii_strcasecmp(p->value, "PRIVATE")
				? "Private"
				: !g_ascii_strcasecmp(p->value, "CONFIDENTIAL")
				? "Confidential" : "Normal";
		}
	}
	vcard_free(&cal);
}

/* `data` in base64 lines of 76 (RFC 2045 6.8). */
static void base64_lines(GString *out, const char *data, size_t len)
{
	g_autofree char *b64 = g_base64_encode((const guchar *)data, len);
	size_t n = strlen(b64);

	for (size_t at = 0; at < n; at += 76) {
		g_string_append_len(out, b64 + at, (gssize)MIN(76, n - at));
		g_string_append(out, "\r\n");
	}
}

/*
 * The MimeContent of a calendar item as gromox makes it: a message
 * whose Subject is the SUMMARY, multipart/alternative of a text/plain
 * part (the DESCRIPTION) and a text/calendar part (method PUBLISH) with
 * the .ics bytes, each base64 so the object comes back byte for byte.
 * The same file makes the same bytes, so sizes stay exact.
 */
static void calendar_mime(GString *out, const GString *ics,
			  const struct vcard_event *ev)
{
	mime_init();
	g_autofree char *subject = g_mime_utils_header_encode_text(
		NULL, ev->summary ? ev->summary : "", "utf-8");
	const char *text = ev->description ? ev->description : "";

	g_string_append(out, "MIME-Version: 1.0\r\nSubject: ");
	g_string_append(out, subject);
	g_string_append(out, "\r\nContent-Type: multipart/alternative;\r\n"
			"\tboundary=\"" CAL_BOUNDARY "\"\r\n\r\n"
			"--" CAL_BOUNDARY "\r\n"
			"Content-Type: text/plain; charset=\"utf-8\"\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n");
	base64_lines(out, text, strlen(text));
	g_string_append(out, "\r\n--" CAL_BOUNDARY "\r\n"
			"Content-Type: text/calendar; charset=\"utf-8\";\r\n"
			"\tmethod=PUBLISH\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n");
	base64_lines(out, ics->str, ics->len);
	g_string_append(out, "\r\n--" CAL_BOUNDARY "--\r\n");
}

bool ewsd_calendar_recurring(const char *buf, size_t len)
{
	const char *end = buf + len;

	for (const char *p = buf; p && p < end; ) {
		size_t left = (size_t)(end - p);

		if (left > 6 && !g_ascii_strncasecmp(p, "RRULE", 5) &&
		    (p[5] == ':' || p[5] == ';'))
			return true;
		p = memchr(p, '\n', left);
		if (p)
			p++;
	}
	return false;
}

void ewsd_calendar_item_write(struct ewsd_call *call, const char *folder,
			     const struct mfs_item *it, const GString *buf,
			     bool mime)
{
	g_autofree char *iid = ewsd_pim_item_id(folder, it->id);
	g_autofree char *ck = ewsd_pim_change_key(it);
	g_autofree char *fid = ewsd_folder_id(folder);
	struct vcard_event ev;
	struct shown shown;
	GString *out = call->out;

	if (!buf || vcard_event_read(buf->str, buf->len, &ev) < 0)
		memset(&ev, 0, sizeof(ev));
	read_shown(buf, &shown);
	g_string_append(out, "<t:CalendarItem>");
	if (buf && mime) {
		g_autoptr(GString) msg = g_string_new(NULL);
		if (mime_shape())
			calendar_mime(msg, buf, &ev);
		else
			g_string_append_len(msg, buf->str, (gssize)buf->len);
		g_autofree char *b64 = g_base64_encode(
			(const guchar *)msg->str, msg->len);
		g_string_append_printf(out, "<t:MimeContent CharacterSet="
				       "\"UTF-8\">%s</t:MimeContent>", b64);
	}
	g_string_append_printf(out, "<t:ItemId Id=\"%s\" ChangeKey=\"%s\"/>"
			       "<t:ParentFolderId Id=\"%s\" ChangeKey="
			       "\"AQAAABYAAAA=\"/><t:ItemClass>IPM.Appointment"
			       "</t:ItemClass>", iid, ck, fid);
	write_text(out, "Subject", ev.summary ? ev.summary : "");
	write_text(out, "Sensitivity", shown.sensitivity);
	g_string_append_printf(out, "<t:Size>%" PRIu64 "</t:Size>", it->size);
	write_text(out, "ReminderIsSet", shown.reminder ? "true" : "false");
	if (shown.reminder && shown.minutes >= 0)
		g_string_append_printf(out, "<t:ReminderMinutesBeforeStart>%d"
				       "</t:ReminderMinutesBeforeStart>",
				       shown.minutes);
	ewsd_pim_write_ext(call, folder, it, ev.summary ? ev.summary : "",
			   buf && ewsd_calendar_recurring(buf->str, buf->len));
	write_text(out, "UID", ev.uid);
	write_time(out, "Start", ev.start);
	write_time(out, "End", ev.end);
	if (ev.start)
		g_string_append_printf(out, "<t:IsAllDayEvent>%s"
				       "</t:IsAllDayEvent>",
				       ev.all_day ? "true" : "false");
	write_text(out, "Location", ev.location);
	g_string_append(out, "</t:CalendarItem>");
	vcard_event_clear(&ev);
}

static char *child_text(const xmlNode *item, const char *name)
{
	xmlNode *n = ews_child(item, EWS_NS_T, name);
	xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
	char *s = v ? g_strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

static void append_prop(GString *out, const char *name, const char *text,
			bool escape)
{
	g_autoptr(GString) line = g_string_new(name);

	g_string_append_c(line, ':');
	if (escape)
		vcard_escape(line, text);
	else
		g_string_append(line, text);
	vcard_append_line(out, line->str);
}

/* Whether the item's StartTimeZone is UTC, the one zone this server
 * names (user-config.c): its .ics then carries the VTIMEZONE, as
 * Exchange's MIME of an event carries its zone's. */
static bool utc_zone(const xmlNode *item)
{
	xmlNode *tz = ews_child(item, EWS_NS_T, "StartTimeZone");
	g_autofree char *id = tz ? ews_attr(tz, "Id") : NULL;

	return id && !strcmp(id, "UTC");
}

/* An .ics for an item that brings no MimeContent: one VEVENT of its
 * Subject, Start, End, Location.  Returns 0, or -EINVAL without a valid
 * Start. */
static int make_ics(const xmlNode *item, GString *out)
{
	g_autofree char *subject = child_text(item, "Subject");
	g_autofree char *start = child_text(item, "Start");
	g_autofree char *end = child_text(item, "End");
	g_autofree char *location = child_text(item, "Location");
	g_autofree char *uid = child_text(item, "UID");
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) s = start ? g_date_time_new_from_iso8601(start,
								       utc)
				       : NULL;
	g_autoptr(GDateTime) e = end ? g_date_time_new_from_iso8601(end, utc)
				     : NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	const char *fmt = "%Y%m%dT%H%M%SZ";

	if (!s)
		return -EINVAL;
	g_autoptr(GDateTime) su = g_date_time_to_utc(s);
	g_autoptr(GDateTime) eu = g_date_time_to_utc(e ? e : s);
	g_autofree char *ss = g_date_time_format(su, fmt);
	g_autofree char *es = g_date_time_format(eu, fmt);
	g_autofree char *ns = g_date_time_format(now, fmt);
	g_autofree char *newuid = uid ? NULL : g_uuid_string_random();
	g_string_append(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
			"PRODID:-//mailfs//EWS server//EN\r\n");
	if (utc_zone(item))
		g_string_append(out, "BEGIN:VTIMEZONE\r\nTZID:UTC\r\n"
				"BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
				"TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\n"
				"TZNAME:UTC\r\nEND:STANDARD\r\n"
				"END:VTIMEZONE\r\n");
	g_string_append(out, "BEGIN:VEVENT\r\n");
	append_prop(out, "UID", uid ? uid : newuid, true);
	append_prop(out, "DTSTAMP", ns, false);
	append_prop(out, "DTSTART", ss, false);
	append_prop(out, "DTEND", es, false);
	if (subject)
		append_prop(out, "SUMMARY", subject, true);
	if (location)
		append_prop(out, "LOCATION", location, true);
	g_string_append(out, "END:VEVENT\r\nEND:VCALENDAR\r\n");
	return 0;
}

/* The file name the client gives the new item as PidTagUrlCompName
 * (0x10F3), as DavMail names an event by its CalDAV resource, with the
 * .EML it turns ".ics" into made ".ics" again; NULL when it gives none
 * fit for a file name.  Caller owns the result. */
static char *url_comp_name(const xmlNode *item)
{
	for (xmlNode *p = ews_child(item, EWS_NS_T, "ExtendedProperty"); p;
	     p = ews_next_element(p)) {
		xmlNode *uri = ews_child(p, EWS_NS_T, "ExtendedFieldURI");
		g_autofree char *tag = uri ? ews_attr(uri, "PropertyTag") : NULL;
		g_autofree char *v = NULL;
		size_t n;

		if (!ews_is(p, EWS_NS_T, "ExtendedProperty") || !tag ||
		    g_ascii_strcasecmp(tag, "0x10f3") != 0)
			continue;
		v = child_text(p, "Value");
		n = v ? strlen(v) : 0;
		if (n < 5 || n > 200 || v[0] == '.' || strchr(v, '/') ||
		    !g_utf8_validate(v, -1, NULL))
			return NULL;
		if (!g_ascii_strcasecmp(v + n - 4, ".EML"))
			return g_strdup_printf("%.*s.ics", (int)(n - 4), v);
		return g_str_has_suffix(v, ".ics") ? g_steal_pointer(&v) : NULL;
	}
	return NULL;
}

int ewsd_calendar_item_create(struct ewsd_call *call, const char *folder,
			     const xmlNode *item, struct mfs_item **item_r,
			     const char **code_r)
{
	xmlNode *mime = ews_child(item, EWS_NS_T, "MimeContent");
	g_autofree char *named = url_comp_name(item);
	g_autofree char *uuid = g_uuid_string_random();
	GString *taken = NULL;

	/* a name in use stays the other item's: CreateItem never replaces */
	if (named && ewsd_pim_load(call, folder, named, &taken) != -ENOENT)
		g_clear_pointer(&named, g_free);
	if (taken)
		g_string_free(taken, TRUE);
	g_autofree char *hint = named ? g_steal_pointer(&named)
				      : g_strconcat(uuid, ".ics", NULL);
	g_autoptr(GString) ics = g_string_new(NULL);
	int rc;

	*code_r = "ErrorInvalidPropertySet";
	if (mime) {
		xmlChar *b64 = xmlNodeGetContent(mime);
		gsize len = 0;
		guchar *raw = g_base64_decode(b64 ? (const char *)b64 : "",
					      &len);
		xmlFree(b64);
		g_string_append_len(ics, (const char *)raw, (gssize)len);
		g_free(raw);
		struct vcard_event ev;
		rc = vcard_event_read(ics->str, ics->len, &ev);
		vcard_event_clear(&ev);
		if (rc < 0)
			return rc;
	} else if ((rc = make_ics(item, ics)) < 0) {
		return rc;
	}
	rc = ewsd_pim_store(call, folder, hint, ics->str, ics->len, item_r);
	if (rc < 0)
		*code_r = "ErrorInternalServerError";
	return rc;
}
