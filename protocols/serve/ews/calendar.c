/*
 * calendar.c - the .ics files of calendar folders as EWS calendar
 * items: a t:CalendarItem whose MimeContent is the file's bytes exactly,
 * with Subject, Start, End, Location and UID read from its first VEVENT;
 * storing a new one; and UpdateItem, which rewrites the lines of the
 * properties it sets (Exchange takes no MimeContent in an UpdateItem of
 * a calendar item: a client changes the properties).
 *
 * Specs: [MS-OXWSCAL] 2.2.4.3 (CalendarItemType); [MS-OXWSCORE]
 * 2.2.4.x (MimeContentType), 3.1.4.9 (UpdateItem: SetItemField,
 * DeleteItemField; the changes of one ItemChange all or none); RFC 5545
 * sections 3.1 (content lines), 3.3.4 and 3.3.5 (DATE, DATE-TIME with
 * UTC, TZID or floating time), 3.8.1.5 (DESCRIPTION), 3.8.1.7
 * (LOCATION), 3.8.1.12 (SUMMARY), 3.8.2.2 (DTEND), 3.8.2.4 (DTSTART),
 * 3.8.4.7 (UID).
 *
 * Only what a listing needs is read, and an update rewrites only what it
 * names; recurrence, attendees and alarms stay in the file for clients
 * that read MimeContent.
 */
#include <errno.h>
#include <string.h>

#include "pim.h"
#include "wire/vcard.h"

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
	GString *out = call->out;

	if (!buf || vcard_event_read(buf->str, buf->len, &ev) < 0)
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

/* ---- UpdateItem ---- */

/* What an UpdateItem makes of an event: the new values, and which were
 * given. */
struct change {
	struct vcard_event ev;
	bool summary, location, description, times;
};

/* The value element of a SetItemField: the one inside its
 * t:CalendarItem (or t:Item). */
static xmlNode *set_value(const xmlNode *u)
{
	for (xmlNode *c = ews_first_element(u); c; c = ews_next_element(c))
		if (ews_is(c, EWS_NS_T, "CalendarItem") ||
		    ews_is(c, EWS_NS_T, "Item"))
			return ews_first_element(c);
	return NULL;
}

/* The text of `v` (caller owns), "" for an empty element. */
static char *value_text(const xmlNode *v)
{
	xmlChar *t = xmlNodeGetContent(v);
	char *s = g_strdup(t ? (const char *)t : "");

	xmlFree(t);
	return s;
}

/* One SetItemField or DeleteItemField into *ch.  Returns 0, -ENOTSUP for
 * a property this server does not change, -EINVAL for a malformed one. */
static int apply_one(const xmlNode *u, struct change *ch)
{
	bool del = ews_is(u, EWS_NS_T, "DeleteItemField");
	xmlNode *f = ews_child(u, EWS_NS_T, "FieldURI");
	g_autofree char *uri = f ? ews_attr(f, "FieldURI") : NULL;
	xmlNode *v = del ? NULL : set_value(u);
	char *text = v ? value_text(v) : NULL;
	char **slot = NULL;

	if (!uri || (!del && !ews_is(u, EWS_NS_T, "SetItemField")) ||
	    (!del && !v)) {
		g_free(text);
		return -EINVAL;
	}
	if (!strcmp(uri, "calendar:StartTimeZone") ||
	    !strcmp(uri, "calendar:EndTimeZone") ||
	    !strcmp(uri, "calendar:MeetingTimeZone")) {
		/* what clients send along with Start and End, which carry
		 * their offset: the file holds them in UTC */
		g_free(text);
		return 0;
	}
	if (!strcmp(uri, "item:Subject")) {
		slot = &ch->ev.summary;
		ch->summary = true;
	} else if (!strcmp(uri, "calendar:Location")) {
		slot = &ch->ev.location;
		ch->location = true;
	} else if (!strcmp(uri, "item:Body")) {
		slot = &ch->ev.description;
		ch->description = true;
	}
	if (slot) {
		g_free(*slot);
		*slot = text;
		return 0;
	}
	g_autofree char *owned = text;
	GDateTime **t = !strcmp(uri, "calendar:Start") ? &ch->ev.start
			: !strcmp(uri, "calendar:End") ? &ch->ev.end : NULL;
	if (t && !del) {
		g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
		GDateTime *dt = g_date_time_new_from_iso8601(text, utc);
		if (!dt)
			return -EINVAL;
		if (*t)
			g_date_time_unref(*t);
		*t = dt;
	} else if (!strcmp(uri, "calendar:IsAllDayEvent") && !del) {
		ch->ev.all_day = !strcmp(text, "true") || !strcmp(text, "1");
	} else {
		return t || !strcmp(uri, "calendar:IsAllDayEvent") ? -EINVAL
								   : -ENOTSUP;
	}
	ch->times = true;
	return 0;
}

/* Property `name` of the event set to `text` (escaped here), or removed
 * for NULL. */
static int set_text(struct vcard *cal, const char *name, const char *text)
{
	g_autoptr(GString) v = text ? g_string_new(NULL) : NULL;

	if (v)
		vcard_escape(v, text);
	return vcard_event_set(cal, name, NULL, v ? v->str : NULL);
}

/* DTSTART or DTEND as a DATE for an all-day event, else in UTC. */
static int set_time(struct vcard *cal, const char *name, GDateTime *t,
		    bool all_day)
{
	g_autoptr(GDateTime) utc = g_date_time_to_utc(t);
	g_autofree char *v = g_date_time_format(utc, all_day ? "%Y%m%d"
						: "%Y%m%dT%H%M%SZ");

	return vcard_event_set(cal, name, all_day ? "VALUE=DATE" : NULL, v);
}

/* The changes of *ch written into `cal`.  Returns 0 or -EINVAL. */
static int rewrite(struct vcard *cal, const struct change *ch)
{
	int rc = 0;

	if (ch->summary)
		rc = set_text(cal, "SUMMARY", ch->ev.summary);
	if (rc == 0 && ch->location)
		rc = set_text(cal, "LOCATION", ch->ev.location);
	if (rc == 0 && ch->description)
		rc = set_text(cal, "DESCRIPTION", ch->ev.description);
	if (rc == 0 && ch->times) {
		if (!ch->ev.start || !ch->ev.end ||
		    g_date_time_compare(ch->ev.end, ch->ev.start) < 0)
			return -EINVAL;
		rc = set_time(cal, "DTSTART", ch->ev.start, ch->ev.all_day);
		if (rc == 0)
			rc = set_time(cal, "DTEND", ch->ev.end,
				      ch->ev.all_day);
	}
	return rc;
}

int ewsd_calendar_item_update(struct ewsd_call *call, const char *folder,
			     const char *id, const xmlNode *updates,
			     struct mfs_item **item_r, const char **code_r)
{
	GString *buf = NULL;
	struct vcard *cal = NULL;
	struct change ch = { 0 };
	g_autofree char *ics = NULL;
	size_t len = 0;
	int rc = ewsd_pim_load(call, folder, id, &buf);

	if (rc < 0) {
		*code_r = rc == -ENOENT ? "ErrorItemNotFound"
					: "ErrorInternalServerError";
		return rc;
	}
	rc = vcard_event_read(buf->str, buf->len, &ch.ev);
	if (rc == 0)
		rc = vcard_parse_object(buf->str, buf->len, "VCALENDAR", &cal);
	g_string_free(buf, TRUE);
	if (rc < 0) {
		*code_r = "ErrorCorruptData";
		vcard_event_clear(&ch.ev);
		return rc;
	}
	*code_r = "ErrorInvalidRequest";
	rc = updates ? 0 : -EINVAL;
	for (xmlNode *u = rc == 0 ? ews_first_element(updates) : NULL;
	     u && rc == 0; u = ews_next_element(u))
		if ((rc = apply_one(u, &ch)) < 0)
			*code_r = rc == -ENOTSUP ? "ErrorInvalidPropertySet"
						 : "ErrorInvalidValueForProperty";
	if (rc == 0 && (rc = rewrite(cal, &ch)) < 0)
		*code_r = "ErrorInvalidValueForProperty";
	if (rc == 0 && (rc = vcard_write(cal, &ics, &len)) < 0)
		*code_r = "ErrorInternalServerError";
	vcard_free(&cal);
	vcard_event_clear(&ch.ev);
	if (rc < 0)
		return rc;
	/* the same name: the store replaces the file, which is the edit */
	rc = ewsd_pim_store(call, folder, id, ics, len, item_r);
	if (rc < 0)
		*code_r = "ErrorInternalServerError";
	return rc;
}
