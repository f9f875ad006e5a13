/*
 * calendar.c - the .ics files of calendar folders as EWS calendar
 * items: a t:CalendarItem whose MimeContent is the file's bytes exactly,
 * with Subject, Start, End, Location and UID read from its first VEVENT;
 * and storing a new one.
 *
 * Specs: [MS-OXWSCAL] 2.2.4.3 (CalendarItemType); [MS-OXWSCORE]
 * 2.2.4.x (MimeContentType); RFC 5545 sections 3.1 (content lines),
 * 3.3.4 and 3.3.5 (DATE, DATE-TIME with UTC, TZID or floating time),
 * 3.8.1.7 (LOCATION), 3.8.1.12 (SUMMARY), 3.8.2.2 (DTEND), 3.8.2.4
 * (DTSTART), 3.8.4.7 (UID).
 *
 * Only what a listing needs is read; recurrence, attendees and alarms
 * stay in the file for clients that read MimeContent.
 */
#include <errno.h>
#include <string.h>

#include "pim.h"
#include "wire/vcard.h"

/* What a listing shows of one event. */
struct event {
	char *summary, *location, *uid;	/* owned; NULL when absent */
	GDateTime *start, *end;		/* owned; NULL when absent */
	bool all_day;
};

static void event_clear(struct event *ev)
{
	g_free(ev->summary);
	g_free(ev->location);
	g_free(ev->uid);
	if (ev->start)
		g_date_time_unref(ev->start);
	if (ev->end)
		g_date_time_unref(ev->end);
}

/* A DATE or DATE-TIME value as a point in time; a DATE sets *all_day.
 * Times with an unknown TZID, and floating times, are taken as UTC. */
static GDateTime *ical_time(const struct vcard_prop *p, bool *all_day)
{
	int y, mo, d, h = 0, mi = 0, s = 0;
	char z = 0;
	const char *v = p->value;
	g_autofree char *tzid = vcard_prop_param(p, "TZID");
	g_autoptr(GTimeZone) tz = NULL;

	if (strlen(v) >= 15 && sscanf(v, "%4d%2d%2dT%2d%2d%2d%c", &y, &mo, &d,
				      &h, &mi, &s, &z) >= 6) {
		*all_day = false;
	} else if (strlen(v) >= 8 && sscanf(v, "%4d%2d%2d", &y, &mo, &d) == 3) {
		*all_day = true;
	} else {
		return NULL;
	}
	if (z != 'Z' && tzid)
		tz = g_time_zone_new_identifier(tzid);
	if (!tz)
		tz = g_time_zone_new_utc();
	return g_date_time_new(tz, y, mo, d, h, mi, s);
}

/* Read the first VEVENT of `buf`.  Returns 0 or -EINVAL. */
static int read_event(const char *buf, size_t len, struct event *ev)
{
	struct vcard *cal = NULL;
	int rc = vcard_parse_object(buf, len, "VCALENDAR", &cal);
	bool in = false, seen = false;

	memset(ev, 0, sizeof(*ev));
	if (rc < 0)
		return rc;
	for (guint i = 0; i < cal->props->len; i++) {
		const struct vcard_prop *p = cal->props->pdata[i];
		bool is_event = g_ascii_strcasecmp(g_strstrip(p->value),
						   "VEVENT") == 0;
		if (!strcmp(p->name, "BEGIN") && is_event && !seen) {
			in = seen = true;
		} else if (!strcmp(p->name, "END") && is_event) {
			in = false;
		} else if (!in) {
			continue;
		} else if (!strcmp(p->name, "BEGIN")) {
			/* an alarm's properties are not the event's */
			while (++i < cal->props->len &&
			       strcmp(((struct vcard_prop *)
				       cal->props->pdata[i])->name, "END"))
				;
		} else if (!strcmp(p->name, "SUMMARY") && !ev->summary) {
			ev->summary = vcard_unescape(p->value);
		} else if (!strcmp(p->name, "LOCATION") && !ev->location) {
			ev->location = vcard_unescape(p->value);
		} else if (!strcmp(p->name, "UID") && !ev->uid) {
			ev->uid = vcard_unescape(p->value);
		} else if (!strcmp(p->name, "DTSTART") && !ev->start) {
			ev->start = ical_time(p, &ev->all_day);
		} else if (!strcmp(p->name, "DTEND") && !ev->end) {
			bool unused;
			ev->end = ical_time(p, &unused);
		}
	}
	vcard_free(&cal);
	/* RFC 5545 3.6.1: no DTEND lasts a day for a date, else nothing */
	if (ev->start && !ev->end)
		ev->end = g_date_time_add_days(ev->start, ev->all_day ? 1 : 0);
	return 0;
}

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

void ewsd_calendar_item_write(struct ewsd_call *call, const char *folder,
			     const struct mfs_item *it, const GString *buf,
			     bool mime)
{
	g_autofree char *iid = ewsd_pim_item_id(folder, it->id);
	g_autofree char *ck = ewsd_pim_change_key(it);
	g_autofree char *fid = ewsd_folder_id(folder);
	struct event ev;
	GString *out = call->out;

	if (!buf || read_event(buf->str, buf->len, &ev) < 0)
		memset(&ev, 0, sizeof(ev));
	g_string_append(out, "<t:CalendarItem>");
	if (buf && mime) {
		g_autofree char *b64 = g_base64_encode(
			(const guchar *)buf->str, buf->len);
		g_string_append_printf(out, "<t:MimeContent CharacterSet="
				       "\"UTF-8\">%s</t:MimeContent>", b64);
	}
	g_string_append_printf(out, "<t:ItemId Id=\"%s\" ChangeKey=\"%s\"/>"
			       "<t:ParentFolderId Id=\"%s\" ChangeKey="
			       "\"AQAAABYAAAA=\"/><t:ItemClass>IPM.Appointment"
			       "</t:ItemClass>", iid, ck, fid);
	write_text(out, "Subject", ev.summary ? ev.summary : "");
	g_string_append_printf(out, "<t:Size>%" PRIu64 "</t:Size>", it->size);
	write_text(out, "UID", ev.uid);
	write_time(out, "Start", ev.start);
	write_time(out, "End", ev.end);
	if (ev.start)
		g_string_append_printf(out, "<t:IsAllDayEvent>%s"
				       "</t:IsAllDayEvent>",
				       ev.all_day ? "true" : "false");
	write_text(out, "Location", ev.location);
	g_string_append(out, "</t:CalendarItem>");
	event_clear(&ev);
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
			"PRODID:-//mailfs//EWS server//EN\r\nBEGIN:VEVENT\r\n");
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

int ewsd_calendar_item_create(struct ewsd_call *call, const char *folder,
			     const xmlNode *item, struct mfs_item **item_r,
			     const char **code_r)
{
	xmlNode *mime = ews_child(item, EWS_NS_T, "MimeContent");
	g_autofree char *uuid = g_uuid_string_random();
	g_autofree char *hint = g_strconcat(uuid, ".ics", NULL);
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
		struct event ev;
		rc = read_event(ics->str, ics->len, &ev);
		event_clear(&ev);
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
