/*
 * calendar-update.c - UpdateItem of a calendar item of the embedded EWS
 * server: the properties a change sets or deletes rewrite those lines of
 * the first VEVENT of its .ics file, every other line kept as it was
 * (Exchange takes no MimeContent in an UpdateItem of a calendar item: a
 * client changes the properties).
 *
 * Specs: [MS-OXWSCORE] 3.1.4.9 (UpdateItem: SetItemField,
 * DeleteItemField; the changes of one ItemChange all or none);
 * [MS-OXWSCAL] TimeZoneDefinition and the TimeZoneContext header for the
 * zone of a time written without an offset (windows-zones.h);
 * [MS-OXPROPS] PidTagSubject 0x0037, PidTagNormalizedSubject 0x0E1D,
 * PidTagBody 0x1000; RFC 5545 sections 3.8.1.3 (CLASS), 3.8.1.5
 * (DESCRIPTION), 3.8.1.7 (LOCATION), 3.8.1.12 (SUMMARY), 3.8.2.2 and
 * 3.8.2.4 (DTEND, DTSTART), 3.8.4.1 and 3.2.16 (ATTENDEE, ROLE), 3.6.6
 * (VALARM).
 *
 * Changed: Subject, Body, Location, Start, End, IsAllDayEvent,
 * Sensitivity (CLASS), the reminder (the event's VALARM), the attendees
 * of each role, and the subject and body as extended properties.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <libxml/HTMLparser.h>

#include "pim.h"
#include "wire/ews-props.h"
#include "wire/vcard.h"
#include "wire/windows-zones.h"

/* The attendee fields and the ROLE (RFC 5545 3.2.16) of their lines. */
enum role { ROLE_REQ, ROLE_OPT, ROLE_NON, N_ROLES };

static const struct {
	const char *field, *ical;
} roles[N_ROLES] = {
	[ROLE_REQ] = { "calendar:RequiredAttendees", "REQ-PARTICIPANT" },
	[ROLE_OPT] = { "calendar:OptionalAttendees", "OPT-PARTICIPANT" },
	[ROLE_NON] = { "calendar:Resources", "NON-PARTICIPANT" },
};

/* What an UpdateItem makes of an event: the new values, and which were
 * given. */
struct change {
	struct vcard_event ev;
	bool summary, location, description, times, klass;
	char *start, *end;		/* owned; Start and End as given */
	char *start_zone, *end_zone;	/* owned; Windows zone ids */
	const char *class_value;	/* static; CLASS, NULL for none */
	int reminder;			/* ReminderIsSet; -1 when not given */
	int minutes;			/* ReminderMinutesBeforeStart; -1 */
	GPtrArray *attendees[N_ROLES];	/* owned; of struct vcard_prop *,
					   the new lines of a role that was
					   set or deleted; NULL when not */
};

static void change_clear(struct change *ch)
{
	vcard_event_clear(&ch->ev);
	g_free(ch->start);
	g_free(ch->end);
	g_free(ch->start_zone);
	g_free(ch->end_zone);
	for (int r = 0; r < N_ROLES; r++)
		if (ch->attendees[r])
			g_ptr_array_unref(ch->attendees[r]);
}

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

static bool html_block(const char *name)
{
	static const char *const blocks[] = {
		"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5",
		"h6", "pre", "blockquote", "table", "ul", "ol",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(blocks); i++)
		if (!g_ascii_strcasecmp(name, blocks[i]))
			return true;
	return false;
}

static bool html_skipped(const xmlNode *n)
{
	const char *name = (const char *)n->name;

	return !g_ascii_strcasecmp(name, "script") ||
	       !g_ascii_strcasecmp(name, "style") ||
	       !g_ascii_strcasecmp(name, "head");
}

static void html_append(GString *out, const char *text)
{
	for (const char *c = text; c && *c; c++) {
		if (!g_ascii_isspace(*c))
			g_string_append_c(out, *c);
		else if (out->len && !g_ascii_isspace(out->str[out->len - 1]))
			g_string_append_c(out, ' ');
	}
}

/* The text of the HTML tree under `root`: runs of white space made one
 * space, a line break after a line's or a block's element, no script or
 * style.  Walked without recursion: a hostile body may nest deep. */
static void html_text(const xmlNode *root, GString *out)
{
	const xmlNode *n = root;

	while (n) {
		bool el = n->type == XML_ELEMENT_NODE;

		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
			html_append(out, (const char *)n->content);
		if (el && n->children && !html_skipped(n)) {
			n = n->children;
			continue;
		}
		/* n is done, and so is each parent it is the last child of */
		for (;;) {
			if (n->type == XML_ELEMENT_NODE && !html_skipped(n) &&
			    html_block((const char *)n->name)) {
				while (out->len && out->str[out->len - 1] == ' ')
					g_string_truncate(out, out->len - 1);
				g_string_append_c(out, '\n');
			}
			if (n == root)
				return;
			if (n->next) {
				n = n->next;
				break;
			}
			n = n->parent;
		}
	}
}

/* A t:Body as the text a DESCRIPTION holds: an HTML body with its markup
 * taken off and its entities read.  Caller owns the result. */
static char *body_text(const xmlNode *v)
{
	g_autofree char *type = ews_attr(v, "BodyType");
	char *text = value_text(v);

	if (!type || g_ascii_strcasecmp(type, "HTML") != 0 || !*text)
		return text;
	htmlDocPtr doc = htmlReadMemory(text, (int)MIN(strlen(text),
						       (size_t)INT_MAX),
					NULL, "UTF-8", HTML_PARSE_NONET |
					HTML_PARSE_NOERROR |
					HTML_PARSE_NOWARNING);
	g_autoptr(GString) out = g_string_new(NULL);

	g_free(text);
	if (doc)
		html_text(xmlDocGetRootElement(doc), out);
	xmlFreeDoc(doc);
	return g_strdup(g_strstrip(out->str));
}

/* A SetItemField or DeleteItemField of an ExtendedFieldURI: PidTagSubject
 * and PidTagNormalizedSubject are SUMMARY, PidTagBody DESCRIPTION.
 * Returns 0, -ENOTSUP for any other property, -EINVAL. */
static int apply_extended(const xmlNode *x, const xmlNode *v,
			  struct change *ch)
{
	g_autofree char *t = ews_attr(x, "PropertyTag");
	xmlNode *val = v && ews_is(v, EWS_NS_T, "ExtendedProperty")
		       ? ews_child(v, EWS_NS_T, "Value") : NULL;
	unsigned tag = 0;
	char **slot;

	if (!t || ews_prop_tag_parse(t, &tag) < 0)
		return -ENOTSUP;
	if (tag == 0x0037 || tag == 0x0E1D) {
		slot = &ch->ev.summary;
		ch->summary = true;
	} else if (tag == 0x1000) {
		slot = &ch->ev.description;
		ch->description = true;
	} else {
		return -ENOTSUP;
	}
	if (v && !val)
		return -EINVAL;
	g_free(*slot);
	*slot = val ? value_text(val) : NULL;
	return 0;
}

/* StartTimeZone, EndTimeZone (and Exchange 2007's MeetingTimeZone, for
 * both): the Windows zone in which their times without an offset are.
 * Returns 0, or -EDOM for a zone this server does not know. */
static int apply_zone(const char *uri, const xmlNode *v, struct change *ch)
{
	bool meeting = !strcmp(uri, "calendar:MeetingTimeZone");
	g_autofree char *id = v ? ews_attr(v, meeting ? "TimeZoneName" : "Id")
				: NULL;

	if (!v || (meeting && !id))
		return 0;	/* deleted, or a 2007 zone by its rules */
	if (!ews_windows_zone_iana(id))
		return -EDOM;
	if (strcmp(uri, "calendar:EndTimeZone") != 0) {
		g_free(ch->start_zone);
		ch->start_zone = g_strdup(id);
	}
	if (strcmp(uri, "calendar:StartTimeZone") != 0) {
		g_free(ch->end_zone);
		ch->end_zone = g_strdup(id);
	}
	return 0;
}

static bool is_role(const struct vcard_prop *p, void *data)
{
	const char *want = data;
	g_autofree char *role = vcard_prop_param(p, "ROLE");

	/* RFC 5545 3.2.16: REQ-PARTICIPANT when not given */
	return role ? !g_ascii_strcasecmp(role, want)
		    : !strcmp(want, "REQ-PARTICIPANT");
}

/* Whether `s` has a character a line cannot carry in a parameter or a
 * URI: a control, or a double quote. */
static bool unfit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"')
			return true;
	return false;
}

/* The ATTENDEE lines of the t:Attendee elements of `v` (NULL for a
 * DeleteItemField: none) with ROLE `role`.  Returns 0 or -EINVAL for an
 * attendee with no fit address. */
static int apply_attendees(enum role role, const xmlNode *v,
			   struct change *ch)
{
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(
		vcard_prop_free);

	for (xmlNode *a = v ? ews_first_element(v) : NULL; a;
	     a = ews_next_element(a)) {
		xmlNode *mb = ews_is(a, EWS_NS_T, "Attendee")
			      ? ews_child(a, EWS_NS_T, "Mailbox") : NULL;
		xmlNode *n = mb ? ews_child(mb, EWS_NS_T, "Name") : NULL;
		xmlNode *e = mb ? ews_child(mb, EWS_NS_T, "EmailAddress")
				: NULL;
		g_autofree char *name = n ? value_text(n) : NULL;
		g_autofree char *addr = e ? value_text(e) : NULL;
		g_autoptr(GString) params = g_string_new("ROLE=");

		if (!addr || !*addr || unfit(addr) || !g_utf8_validate(
			    addr, -1, NULL))
			return -EINVAL;
		g_string_append(params, roles[role].ical);
		if (name && *name && !unfit(name) &&
		    g_utf8_validate(name, -1, NULL))
			g_string_append_printf(params, ";CN=\"%s\"", name);
		g_autofree char *uri = g_strconcat("mailto:", addr, NULL);
		g_ptr_array_add(lines, vcard_prop_new("ATTENDEE", params->str,
						      uri));
	}
	if (ch->attendees[role])
		g_ptr_array_unref(ch->attendees[role]);
	ch->attendees[role] = g_steal_pointer(&lines);
	return 0;
}

/* Sensitivity as CLASS (RFC 5545 3.8.1.3): Normal is the default PUBLIC,
 * written as no line. */
static int apply_sensitivity(const char *text, struct change *ch)
{
	ch->klass = true;
	if (!text || !strcmp(text, "Normal"))
		ch->class_value = NULL;
	else if (!strcmp(text, "Private") || !strcmp(text, "Personal"))
		ch->class_value = "PRIVATE";
	else if (!strcmp(text, "Confidential"))
		ch->class_value = "CONFIDENTIAL";
	else
		return -EINVAL;
	return 0;
}

/* ReminderIsSet and ReminderMinutesBeforeStart; a deleted reminder is
 * one that is off. */
static int apply_reminder(const char *uri, const char *text,
			  struct change *ch)
{
	bool on = false;
	gint64 n = 0;

	if (!strcmp(uri, "item:ReminderIsSet")) {
		if (text && ews_bool_parse(text, &on) < 0)
			return -EINVAL;
		ch->reminder = on;
		return 0;
	}
	if (!text)
		return 0;
	/* at most four weeks, as Outlook offers */
	if (!g_ascii_string_to_signed(text, 10, 0, 4 * 7 * 24 * 60, &n, NULL))
		return -EINVAL;
	ch->minutes = (int)n;
	return 0;
}

/* A field that is a text line of the event: 0, or -ENOTSUP. */
static int apply_text(const char *uri, const xmlNode *v, struct change *ch)
{
	char **slot;

	if (!strcmp(uri, "item:Subject")) {
		slot = &ch->ev.summary;
		ch->summary = true;
	} else if (!strcmp(uri, "calendar:Location")) {
		slot = &ch->ev.location;
		ch->location = true;
	} else if (!strcmp(uri, "item:Body")) {
		slot = &ch->ev.description;
		ch->description = true;
	} else {
		return -ENOTSUP;
	}
	g_free(*slot);
	*slot = !v ? NULL : ews_is(v, EWS_NS_T, "Body") ? body_text(v)
							: value_text(v);
	return 0;
}

/* One SetItemField or DeleteItemField into *ch.  Returns 0, -ENOTSUP for
 * a property this server does not change, -EDOM for an unknown time
 * zone, -EINVAL for a malformed change. */
static int apply_one(const xmlNode *u, struct change *ch)
{
	bool del = ews_is(u, EWS_NS_T, "DeleteItemField");
	xmlNode *f = ews_child(u, EWS_NS_T, "FieldURI");
	xmlNode *x = ews_child(u, EWS_NS_T, "ExtendedFieldURI");
	xmlNode *v = del ? NULL : set_value(u);
	g_autofree char *uri = f ? ews_attr(f, "FieldURI") : NULL;

	if ((!del && !ews_is(u, EWS_NS_T, "SetItemField")) || (!del && !v))
		return -EINVAL;
	if (x)
		return apply_extended(x, v, ch);
	if (!uri)
		return f ? -EINVAL : -ENOTSUP;
	if (!strcmp(uri, "calendar:StartTimeZone") ||
	    !strcmp(uri, "calendar:EndTimeZone") ||
	    !strcmp(uri, "calendar:MeetingTimeZone"))
		return apply_zone(uri, v, ch);
	for (int r = 0; r < N_ROLES; r++)
		if (!strcmp(uri, roles[r].field))
			return apply_attendees(r, v, ch);
	if (apply_text(uri, v, ch) == 0)
		return 0;
	g_autofree char *text = v ? value_text(v) : NULL;
	if (!strcmp(uri, "item:Sensitivity"))
		return apply_sensitivity(text, ch);
	if (!strcmp(uri, "item:ReminderIsSet") ||
	    !strcmp(uri, "item:ReminderMinutesBeforeStart"))
		return apply_reminder(uri, text, ch);
	char **t = !strcmp(uri, "calendar:Start") ? &ch->start
		   : !strcmp(uri, "calendar:End") ? &ch->end : NULL;
	if (t && !del) {
		g_free(*t);
		*t = g_steal_pointer(&text);
	} else if (!strcmp(uri, "calendar:IsAllDayEvent") && !del) {
		bool on = false;
		if (ews_bool_parse(text, &on) < 0)
			return -EINVAL;
		ch->ev.all_day = on;
	} else {
		return t || !strcmp(uri, "calendar:IsAllDayEvent") ? -EINVAL
								   : -ENOTSUP;
	}
	ch->times = true;
	return 0;
}

/* The Windows id in the request's TimeZoneContext header, NULL without
 * one.  Caller owns it. */
static char *context_zone(const struct ewsd_call *call)
{
	xmlNode *env = xmlDocGetRootElement(call->req->doc);
	xmlNode *h = env ? ews_child(env, EWS_NS_SOAP, "Header") : NULL;
	xmlNode *c = h ? ews_child(h, EWS_NS_T, "TimeZoneContext") : NULL;
	xmlNode *d = c ? ews_child(c, EWS_NS_T, "TimeZoneDefinition") : NULL;

	return d ? ews_attr(d, "Id") : NULL;
}

/* Start or End as given: its own offset, else a time in Windows zone
 * `zone` (NULL: UTC).  Returns 0 with *t replaced, -EDOM for a zone this
 * server does not know, -EINVAL for a malformed time. */
static int zoned_time(const char *text, const char *zone, GDateTime **t)
{
	const char *iana = zone ? ews_windows_zone_iana(zone) : NULL;
	g_autoptr(GTimeZone) tz = iana ? g_time_zone_new_identifier(iana)
				       : zone ? NULL : g_time_zone_new_utc();
	GDateTime *dt;

	if (!tz)
		return -EDOM;
	dt = g_date_time_new_from_iso8601(text, tz);
	if (!dt)
		return -EINVAL;
	if (*t)
		g_date_time_unref(*t);
	*t = dt;
	return 0;
}

/* The times given, in the zones of the change (End in Start's when it
 * names none of its own), else of the request, else UTC. */
static int resolve_times(struct change *ch, const char *context)
{
	const char *sz = ch->start_zone ? ch->start_zone : context;
	const char *ez = ch->end_zone ? ch->end_zone : sz;
	int rc = 0;

	if (ch->start)
		rc = zoned_time(ch->start, sz, &ch->ev.start);
	if (rc == 0 && ch->end)
		rc = zoned_time(ch->end, ez, &ch->ev.end);
	return rc;
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

/* DTSTART or DTEND in UTC, or for an all-day event as the DATE it is in
 * its own zone. */
static int set_time(struct vcard *cal, const char *name, GDateTime *t,
		    bool all_day)
{
	g_autoptr(GDateTime) utc = g_date_time_to_utc(t);
	g_autofree char *v = all_day ? g_date_time_format(t, "%Y%m%d")
				     : g_date_time_format(utc,
							  "%Y%m%dT%H%M%SZ");

	return vcard_event_set(cal, name, all_day ? "VALUE=DATE" : NULL, v);
}

/* Whether the first VEVENT of `cal` holds a VALARM. */
static bool has_alarm(const struct vcard *cal)
{
	bool in = false;

	for (guint i = 0; i < cal->props->len; i++) {
		const struct vcard_prop *p = cal->props->pdata[i];
		bool begin = !strcmp(p->name, "BEGIN");

		if (!begin && !strcmp(p->name, "END") && in &&
		    !g_ascii_strcasecmp(p->value, "VEVENT"))
			return false;
		if (begin && !g_ascii_strcasecmp(p->value, "VEVENT"))
			in = true;
		else if (begin && in && !g_ascii_strcasecmp(p->value, "VALARM"))
			return true;
	}
	return false;
}

/* The reminder as the event's one VALARM (RFC 5545 3.6.6: a DISPLAY
 * alarm carries a DESCRIPTION), or none.  A reminder turned on keeps the
 * alarms the event has unless it is given its minutes; minutes given
 * alone change an alarm there is. */
static int rewrite_alarm(struct vcard *cal, const struct change *ch)
{
	int minutes = ch->minutes, had;

	if (ch->reminder < 0 && minutes < 0)
		return 0;
	if (ch->reminder == 1 && minutes < 0) {
		if (has_alarm(cal))
			return 0;
		minutes = 15;
	}
	had = vcard_event_remove_components(cal, "VALARM");
	if (had < 0)
		return had;
	if (ch->reminder == 0 || (ch->reminder < 0 && had == 0))
		return 0;
	g_autofree char *trigger = g_strdup_printf("-PT%dM", minutes);
	const char *lines[][2] = {
		{ "BEGIN", "VALARM" }, { "ACTION", "DISPLAY" },
		{ "DESCRIPTION", "Reminder" }, { "TRIGGER", trigger },
		{ "END", "VALARM" },
	};
	g_autoptr(GPtrArray) alarm = g_ptr_array_new_with_free_func(
		vcard_prop_free);
	for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
		g_ptr_array_add(alarm, vcard_prop_new(lines[i][0], NULL,
						      lines[i][1]));
	return vcard_event_add(cal, alarm);
}

/* The attendees of each role given: the lines of that role replaced. */
static int rewrite_attendees(struct vcard *cal, struct change *ch)
{
	for (int r = 0; r < N_ROLES; r++) {
		GPtrArray *lines = ch->attendees[r];
		int rc;

		if (!lines)
			continue;
		rc = vcard_event_remove(cal, "ATTENDEE", is_role,
					(void *)roles[r].ical);
		if (rc >= 0)
			rc = vcard_event_add(cal, lines);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The changes of *ch written into `cal`.  Returns 0 or -EINVAL. */
static int rewrite(struct vcard *cal, struct change *ch)
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
	if (rc == 0 && ch->klass)
		rc = vcard_event_set(cal, "CLASS", NULL, ch->class_value);
	if (rc == 0)
		rc = rewrite_alarm(cal, ch);
	if (rc == 0)
		rc = rewrite_attendees(cal, ch);
	return rc < 0 ? -EINVAL : 0;
}

static const char *apply_error(int rc)
{
	return rc == -ENOTSUP ? "ErrorInvalidPropertySet"
	       : rc == -EDOM ? "ErrorTimeZone"
			     : "ErrorInvalidValueForProperty";
}

int ewsd_calendar_item_update(struct ewsd_call *call, const char *folder,
			     const char *id, const xmlNode *updates,
			     struct mfs_item **item_r, const char **code_r)
{
	GString *buf = NULL;
	struct vcard *cal = NULL;
	struct change ch = { .reminder = -1, .minutes = -1 };
	g_autofree char *ics = NULL;
	g_autofree char *context = context_zone(call);
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
		change_clear(&ch);
		return rc;
	}
	*code_r = "ErrorInvalidRequest";
	rc = updates ? 0 : -EINVAL;
	for (xmlNode *u = rc == 0 ? ews_first_element(updates) : NULL;
	     u && rc == 0; u = ews_next_element(u))
		if ((rc = apply_one(u, &ch)) < 0)
			*code_r = apply_error(rc);
	if (rc == 0 && (rc = resolve_times(&ch, context)) < 0)
		*code_r = apply_error(rc);
	if (rc == 0 && (rc = rewrite(cal, &ch)) < 0)
		*code_r = "ErrorInvalidValueForProperty";
	if (rc == 0 && (rc = vcard_write(cal, &ics, &len)) < 0)
		*code_r = "ErrorInternalServerError";
	vcard_free(&cal);
	change_clear(&ch);
	if (rc < 0)
		return rc;
	/* the same name: the store replaces the file, which is the edit */
	rc = ewsd_pim_store(call, folder, id, ics, len, item_r);
	if (rc < 0)
		*code_r = "ErrorInternalServerError";
	return rc;
}
