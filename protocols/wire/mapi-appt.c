/*
 * mapi-appt.c - an appointment (IPM.Appointment, MS-OXOCAL) as an
 * iCalendar VEVENT (RFC 5545) and back, following [MS-OXCICAL] 2.1.3.1.1
 * where iCalendar has a place for the property: the UID and
 * PidLidGlobalObjectId (2.1.3.1.1.20.26, the "vCal-Uid" form for a UID
 * that is not Outlook's), times in UTC, attendees from the recipients,
 * the reminder as a VALARM, the recurrence through mapi-recur.c.
 * docs/MAPI.md ("Contacts and appointments") has the table.
 */
#include "mapi-pim-private.h"

#include <errno.h>
#include <string.h>

#include "mapi-tags.h"

const uint8_t pim_goid_head[16] = {
	0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00,
	0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08 };

const char *const pim_busy_names[PIM_N_BUSY] = {
	"FREE", "TENTATIVE", "BUSY", "OOF", "WORKINGELSEWHERE" };
const char *const pim_class_names[PIM_N_CLASS] = {
	"PUBLIC", "X-PERSONAL", "PRIVATE", "CONFIDENTIAL" };

static int64_t ft_secs(const struct mapi_props *p, uint32_t tag, bool *has)
{
	const struct mapi_value *v = pim_get(p, tag);

	*has = v != NULL;
	return v ? mapi_ft_to_unix(v->v.ft) : 0;
}

/* ---- rendering ---- */

static void put_time(GString *out, const char *name, int64_t secs,
		     bool all_day)
{
	char b[17];

	if (all_day) {
		pim_fmt_date(b, pim_nearest_day(mapi_ft_from_unix(secs)));
		pim_line_raw(out, name, "VALUE=DATE", b);
	} else {
		pim_fmt_utc(b, secs);
		pim_line_raw(out, name, NULL, b);
	}
}

/*
 * The UID of a PidLidGlobalObjectId: the text of a "vCal-Uid" one, else
 * the hex of the id with its instance date zeroed (which is what
 * PidLidCleanGlobalObjectId holds).  NULL when `v` is no such id.
 */
static char *uid_of_goid(const struct mapi_value *v)
{
	const uint8_t *b;
	uint32_t len, size;
	GString *hex;

	if (!v || MAPI_TAG_TYPE(v->tag) != MAPI_PT_BINARY ||
	    v->v.bin.len < PIM_GOID_HDR)
		return NULL;
	b = v->v.bin.data;
	len = v->v.bin.len;
	size = (uint32_t)b[36] | (uint32_t)b[37] << 8 |
	       (uint32_t)b[38] << 16 | (uint32_t)b[39] << 24;
	if (size <= len - PIM_GOID_HDR && size > 12 &&
	    memcmp(b + PIM_GOID_HDR, "vCal-Uid\x01\0\0\0", 12) == 0) {
		const char *t = (const char *)b + PIM_GOID_HDR + 12;
		size_t n = strnlen(t, size - 12);
		if (n && g_utf8_validate(t, (gssize)n, NULL))
			return g_strndup(t, n);
	}
	hex = g_string_new(NULL);
	for (uint32_t i = 0; i < len; i++)
		g_string_append_printf(hex, "%02X",
				       i >= 16 && i < 20 ? 0 : b[i]);
	return g_string_free(hex, FALSE);
}

static void put_uid(GString *out, const struct mapi_message *m,
		    const struct mapi_pim_names *names)
{
	const struct mapi_props *p = &m->props;
	const struct mapi_value *key;
	g_autofree char *uid = uid_of_goid(pim_get(p, pim_tag(names,
				PN_CLEAN_GLOBAL_OBJID, MAPI_PT_BINARY)));
	GString *hex;

	if (!uid)
		uid = uid_of_goid(pim_get(p, pim_tag(names, PN_GLOBAL_OBJID,
						     MAPI_PT_BINARY)));
	if (uid) {
		pim_line(out, "UID", NULL, uid);
		return;
	}
	/* a UID is required (RFC 5545 3.6.1): one that follows from keys
	 * the message keeps for life, else from what it says */
	key = mapi_props_get_tag(p, MAPI_TAG_SEARCH_KEY);
	if (!key || !key->v.bin.len)
		key = mapi_props_get_tag(p, MAPI_TAG_SOURCE_KEY);
	if (key && key->v.bin.len) {
		hex = g_string_new(NULL);
		for (uint32_t i = 0; i < key->v.bin.len; i++)
			g_string_append_printf(hex, "%02X",
					       key->v.bin.data[i]);
	} else {
		GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
		const char *s = pim_str(p, MAPI_TAG_SUBJECT);
		bool has;
		int64_t t = ft_secs(p, pim_tag(names, PN_START_WHOLE,
					       MAPI_PT_SYSTIME), &has);
		g_checksum_update(ck, (const guchar *)&t, sizeof(t));
		if (s)
			g_checksum_update(ck, (const guchar *)s,
					  (gssize)strlen(s));
		hex = g_string_new(g_checksum_get_string(ck));
		g_checksum_free(ck);
	}
	pim_line_raw(out, "UID", NULL, hex->str);
	g_string_free(hex, TRUE);
}

/* The SMTP address of a recipient (or of the sent-representing person
 * with `smtp`, `email`, `type` the tags to look at). */
static const char *addr_of(const struct mapi_props *p, uint32_t smtp,
			   uint32_t email, uint32_t type)
{
	const char *a = pim_str(p, smtp);
	const char *t = pim_str(p, type);

	if (a)
		return a;
	a = pim_str(p, email);
	if (a && (!t || g_ascii_strcasecmp(t, "SMTP") == 0))
		return a;
	return NULL;
}

static void put_person(GString *out, const char *prop, const char *name,
		       const char *addr, const char *more)
{
	g_autoptr(GString) params = g_string_new(NULL);
	g_autofree char *value = NULL;

	if (name && *name) {
		/* a parameter value is quoted and may hold no '"' nor a
		 * control character (RFC 5545 3.2) */
		g_string_append(params, "CN=\"");
		for (const char *s = name; *s; s++)
			if (*s != '"' && (guchar)*s >= 0x20 && *s != 0x7f)
				g_string_append_c(params, *s);
		g_string_append_c(params, '"');
	}
	if (more) {
		if (params->len)
			g_string_append_c(params, ';');
		g_string_append(params, more);
	}
	{
		g_autoptr(GString) a = g_string_new("mailto:");
		for (const char *s = addr; *s; s++)
			if ((guchar)*s > 0x20 && *s != 0x7f)
				g_string_append_c(a, *s);
		value = g_string_free(g_steal_pointer(&a), FALSE);
	}
	pim_line_raw(out, prop, params->len ? params->str : NULL, value);
}

static const char *partstat_of(int32_t track)
{
	switch (track) {
	case 2: return "TENTATIVE";
	case 3: return "ACCEPTED";
	case 4: return "DECLINED";
	default: return "NEEDS-ACTION";
	}
}

static void put_people(GString *out, const struct mapi_message *m)
{
	const struct mapi_props *p = &m->props;
	bool organizer = false;

	for (size_t i = 0; i < m->n_recips; i++) {
		const struct mapi_props *r = &m->recips[i].props;
		const char *a = addr_of(r, MAPI_TAG_SMTP_ADDRESS,
					MAPI_TAG_EMAIL_ADDRESS,
					MAPI_TAG_ADDRTYPE);
		uint32_t fl = (uint32_t)mapi_props_l(r,
				MAPI_TAG_ID(MAPI_TAG_RECIPIENT_FLAGS), 0);
		if (a && (fl & PIM_RECIP_ORGANIZER)) {
			put_person(out, "ORGANIZER", pim_str(r,
				   MAPI_TAG_DISPLAY_NAME), a, NULL);
			organizer = true;
			break;
		}
	}
	if (!organizer) {
		const char *a = addr_of(p, PT_SENT_REPRESENTING_SMTP,
					MAPI_TAG_SENT_REPRESENTING_EMAIL,
					MAPI_TAG_SENT_REPRESENTING_ADDRTYPE);
		if (a)
			put_person(out, "ORGANIZER", pim_str(p,
				   MAPI_TAG_SENT_REPRESENTING_NAME), a, NULL);
	}
	for (size_t i = 0; i < m->n_recips; i++) {
		const struct mapi_props *r = &m->recips[i].props;
		const char *a = addr_of(r, MAPI_TAG_SMTP_ADDRESS,
					MAPI_TAG_EMAIL_ADDRESS,
					MAPI_TAG_ADDRTYPE);
		uint32_t fl = (uint32_t)mapi_props_l(r,
				MAPI_TAG_ID(MAPI_TAG_RECIPIENT_FLAGS), 0);
		int32_t type = mapi_props_l(r,
				MAPI_TAG_ID(MAPI_TAG_RECIPIENT_TYPE),
				MAPI_TO) & 0x3;
		int32_t track = mapi_props_l(r,
				MAPI_TAG_ID(PT_RECIPIENT_TRACK_STATUS), 0);
		g_autofree char *more = NULL;

		if (!a || (fl & PIM_RECIP_ORGANIZER))
			continue;
		more = g_strdup_printf("%sROLE=%s;PARTSTAT=%s",
			type == MAPI_BCC ? "CUTYPE=RESOURCE;" : "",
			type == MAPI_CC ? "OPT-PARTICIPANT" :
			type == MAPI_BCC ? "NON-PARTICIPANT" :
			"REQ-PARTICIPANT", partstat_of(track));
		put_person(out, "ATTENDEE", pim_str(r, MAPI_TAG_DISPLAY_NAME),
			   a, more);
	}
}

static void put_alarm(GString *out, const struct mapi_props *p,
		      const struct mapi_pim_names *names)
{
	const struct mapi_value *set = pim_get(p, pim_tag(names,
				PN_REMINDER_SET, MAPI_PT_BOOLEAN));
	const struct mapi_value *d = pim_get(p, pim_tag(names,
				PN_REMINDER_DELTA, MAPI_PT_LONG));
	int64_t mins = d ? d->v.l : 15;
	char trig[32];

	if (!set || !set->v.b)
		return;
	if (mins < 0)
		mins = 0;
	g_snprintf(trig, sizeof(trig), "-PT%" G_GINT64_FORMAT "M", mins);
	g_string_append(out, "BEGIN:VALARM\r\n");
	pim_line_raw(out, "TRIGGER", "RELATED=START", trig);
	pim_line_raw(out, "ACTION", NULL, "DISPLAY");
	pim_line_raw(out, "DESCRIPTION", NULL, "Reminder");
	g_string_append(out, "END:VALARM\r\n");
}

/* RRULE and EXDATE from PidLidAppointmentRecur, when its pattern has an
 * RRULE; a pattern that has none leaves the event single. */
static void put_recur(GString *out, const struct mapi_props *p,
		      const struct mapi_pim_names *names, int64_t start,
		      bool all_day)
{
	const struct mapi_value *v = pim_get(p, pim_tag(names, PN_RECUR,
							MAPI_PT_BINARY));
	struct pim_recur r;
	g_autoptr(GString) rule = NULL;
	int64_t tod = start - (start / 86400) * 86400;

	if (!v || !v->v.bin.len)
		return;
	pim_recur_init(&r);
	if (pim_recur_read(v->v.bin.data, v->v.bin.len, &r) != 0) {
		pim_recur_clear(&r);
		return;
	}
	if (tod < 0)
		tod += 86400;
	rule = g_string_new(NULL);
	pim_recur_rrule(&r, start, all_day, rule);
	pim_line_raw(out, "RRULE", NULL, rule->str);
	/* instances deleted and not moved elsewhere; the time of day is
	 * DTSTART's, which is what the instance had */
	for (guint i = 0; i < r.deleted->len; i++) {
		int64_t day = g_array_index(r.deleted, int64_t, i);
		bool moved = false;
		for (guint k = 0; k < r.modified->len; k++)
			moved |= g_array_index(r.modified, int64_t, k) == day;
		if (!moved)
			put_time(out, "EXDATE", day * 86400 + (all_day ? 0 :
				 tod), all_day);
	}
	pim_recur_clear(&r);
}

static void put_meta(GString *out, const struct mapi_props *p,
		     const struct mapi_pim_names *names)
{
	const struct mapi_value *v;
	bool has;
	int64_t mod = ft_secs(p, MAPI_TAG_LAST_MODIFICATION_TIME, &has);
	int64_t cre;
	bool has_cre;

	cre = ft_secs(p, MAPI_TAG_CREATION_TIME, &has_cre);
	/* DTSTAMP is required; it follows from the message's times so
	 * that the rendering does not change by itself */
	put_time(out, "DTSTAMP", has ? mod : has_cre ? cre : 0, false);
	if (has_cre)
		put_time(out, "CREATED", cre, false);
	if (has)
		put_time(out, "LAST-MODIFIED", mod, false);
	v = pim_get(p, pim_tag(names, PN_APPT_SEQUENCE, MAPI_PT_LONG));
	if (v && v->v.l >= 0) {
		char n[16];
		g_snprintf(n, sizeof(n), "%d", v->v.l);
		pim_line_raw(out, "SEQUENCE", NULL, n);
	}
}

int mapi_appt_render(const struct mapi_message *m,
		     const struct mapi_pim_names *names, GByteArray *out)
{
	const struct mapi_props *p;
	const struct mapi_value *v;
	g_autoptr(GString) s = NULL;
	bool has_start, has_end, all_day;
	int64_t start, end;

	if (!m || !out)
		return -EINVAL;
	p = &m->props;
	s = g_string_new("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
			 "PRODID:-//mailfs//MAPI calendar//EN\r\n"
			 "BEGIN:VEVENT\r\n");
	put_uid(s, m, names);
	put_meta(s, p, names);
	start = ft_secs(p, pim_tag(names, PN_START_WHOLE, MAPI_PT_SYSTIME),
			&has_start);
	end = ft_secs(p, pim_tag(names, PN_END_WHOLE, MAPI_PT_SYSTIME),
		      &has_end);
	v = pim_get(p, pim_tag(names, PN_SUB_TYPE, MAPI_PT_BOOLEAN));
	all_day = v && v->v.b;
	if (has_start)
		put_time(s, "DTSTART", start, all_day);
	if (has_end && (!has_start || end >= start))
		put_time(s, "DTEND", end, all_day);
	if (has_start)
		put_recur(s, p, names, all_day ? pim_nearest_day(
			  mapi_ft_from_unix(start)) * 86400 : start, all_day);
	pim_line(s, "SUMMARY", NULL, pim_str(p, MAPI_TAG_SUBJECT));
	pim_line(s, "LOCATION", NULL, pim_str(p, pim_tag(names, PN_LOCATION,
							  MAPI_PT_UNICODE)));
	pim_line(s, "DESCRIPTION", NULL, pim_str(p, MAPI_TAG_BODY));
	v = pim_get(p, pim_tag(names, PN_BUSY_STATUS, MAPI_PT_LONG));
	if (v && v->v.l >= 0 && v->v.l <= 4) {
		pim_line_raw(s, "TRANSP", NULL, v->v.l == 0 ? "TRANSPARENT" :
			     "OPAQUE");
		pim_line_raw(s, "X-MICROSOFT-CDO-BUSYSTATUS", NULL,
			     pim_busy_names[v->v.l]);
	}
	v = mapi_props_get_tag(p, MAPI_TAG_SENSITIVITY);
	if (v && v->v.l >= 0 && v->v.l <= 3)
		pim_line_raw(s, "CLASS", NULL, pim_class_names[v->v.l]);
	{
		g_autoptr(GString) cats = g_string_new(NULL);
		if (pim_join_list(pim_get(p, pim_tag(names, PN_KEYWORDS,
				MAPI_PT_MV | MAPI_PT_UNICODE)), cats))
			pim_line_raw(s, "CATEGORIES", NULL, cats->str);
	}
	put_people(s, m);
	put_alarm(s, p, names);
	g_string_append(s, "END:VEVENT\r\nEND:VCALENDAR\r\n");
	g_byte_array_append(out, (const guint8 *)s->str, (guint)s->len);
	return 0;
}

