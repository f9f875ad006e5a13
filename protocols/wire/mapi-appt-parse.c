/*
 * mapi-appt-parse.c - an iCalendar VEVENT (RFC 5545) read into an
 * appointment (IPM.Appointment, MS-OXOCAL), following [MS-OXCICAL]
 * 2.1.3.1.1: times converted to UTC (TZID through GLib's zone database,
 * else the VTIMEZONE's standard offset), the UID as PidLidGlobalObjectId
 * (2.1.3.1.1.20.26), ORGANIZER and ATTENDEE as recipients, the first
 * VALARM as the reminder, RRULE and EXDATE through mapi-recur.c.
 */
#include "mapi-pim-private.h"

#include <errno.h>
#include <string.h>

#include "mapi-tags.h"

/* An RFC 5545 3.3.6 duration ("-PT15M", "P1DT2H", "P2W") in seconds. */
static int parse_duration(const char *s, int64_t *secs_r)
{
	int64_t total = 0, n = 0;
	bool neg = false, digits = false, time = false;

	while (*s == ' ')
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (*s++ != 'P')
		return -EINVAL;
	for (; *s; s++) {
		int64_t unit = 0;
		if (g_ascii_isdigit(*s)) {
			if (n > 100000000)
				return -EINVAL;
			n = n * 10 + (*s - '0');
			digits = true;
			continue;
		}
		switch (*s) {
		case 'T': time = true; continue;
		case 'W': unit = 7 * 86400; break;
		case 'D': unit = 86400; break;
		case 'H': unit = time ? 3600 : 0; break;
		case 'M': unit = time ? 60 : 0; break;
		case 'S': unit = time ? 1 : 0; break;
		default: break;
		}
		if (!unit || !digits)
			return -EINVAL;
		total += n * unit;
		n = 0;
		digits = false;
	}
	if (digits)
		return -EINVAL;
	*secs_r = neg ? -total : total;
	return 0;
}

/* A TZID GLib may look up: a zone name or a POSIX rule, nothing that
 * walks out of the zone database. */
static bool tzid_plain(const char *t)
{
	if (!*t || strstr(t, "..") || *t == '/' || strlen(t) > 64)
		return false;
	for (; *t; t++)
		if (!g_ascii_isalnum(*t) && !strchr("/_+-:,.", *t))
			return false;
	return true;
}

/* The offset from UTC, in seconds, of a VTIMEZONE's "+0100" or
 * "-053000"; false for anything else. */
static bool parse_offset(const char *s, int32_t *off)
{
	unsigned h, m, sec = 0;
	int sign;

	while (*s == ' ')
		s++;
	if (*s != '+' && *s != '-')
		return false;
	sign = *s++ == '-' ? -1 : 1;
	if (strlen(s) != 4 && strlen(s) != 6)
		return false;
	for (const char *c = s; *c; c++)
		if (!g_ascii_isdigit(*c))
			return false;
	h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	m = (unsigned)(s[2] - '0') * 10 + (unsigned)(s[3] - '0');
	if (s[4])
		sec = (unsigned)(s[4] - '0') * 10 + (unsigned)(s[5] - '0');
	if (h > 23 || m > 59 || sec > 59)
		return false;
	*off = sign * (int32_t)(h * 3600 + m * 60 + sec);
	return true;
}

struct actx {
	struct vcard *cal;
	GHashTable *tz_std;		/* TZID -> offset (GINT_TO_POINTER) */
	bool has_start, has_end, all_day, has_dur;
	int64_t start, end, dur;
	bool has_alarm;
	int64_t alarm;			/* minutes before the start */
	const char *rrule;		/* borrowed from cal */
	GArray *exdates;		/* int64_t days */
};

/* Every VTIMEZONE's STANDARD offset (the first one), for a TZID GLib
 * does not know. */
static void read_timezones(struct actx *c)
{
	const char *tzid = NULL;
	bool in_tz = false, in_std = false;
	int32_t off = 0;
	bool has_off = false;

	for (guint i = 0; i < c->cal->props->len; i++) {
		const struct vcard_prop *vp = c->cal->props->pdata[i];
		const char *v = vp->value;
		if (strcmp(vp->name, "BEGIN") == 0) {
			if (g_ascii_strcasecmp(v, "VTIMEZONE") == 0) {
				in_tz = true;
				tzid = NULL;
				has_off = false;
			} else if (in_tz && !g_ascii_strcasecmp(v,
								"STANDARD")) {
				in_std = true;
			}
		} else if (strcmp(vp->name, "END") == 0) {
			if (g_ascii_strcasecmp(v, "STANDARD") == 0) {
				in_std = false;
			} else if (g_ascii_strcasecmp(v, "VTIMEZONE") == 0) {
				if (tzid && has_off &&
				    !g_hash_table_contains(c->tz_std, tzid))
					g_hash_table_insert(c->tz_std,
						g_strdup(tzid),
						GINT_TO_POINTER(off));
				in_tz = false;
			}
		} else if (in_tz && !in_std && strcmp(vp->name, "TZID") == 0) {
			tzid = v;
		} else if (in_std && !has_off &&
			   strcmp(vp->name, "TZOFFSETTO") == 0) {
			has_off = parse_offset(v, &off);
		}
	}
}

/*
 * A DATE or DATE-TIME value (RFC 5545 3.3.4, 3.3.5) in seconds since
 * 1970: UTC with 'Z'; with TZID in the zone GLib knows by that name, else
 * at its VTIMEZONE's standard offset, else as UTC; floating as UTC.
 */
static int parse_time(struct actx *c, const struct vcard_prop *vp,
		      const char *value, int64_t *secs, bool *date)
{
	unsigned h = 0, mi = 0, s = 0;
	int y;
	unsigned mo, d;
	int64_t day;
	const char *rest;
	g_autofree char *tzid = NULL;
	GTimeZone *tz = NULL;
	GDateTime *dt;
	gpointer off;
	bool utc = false;

	if (!pim_parse_date(value, &day, &rest) || rest != value + 8)
		return -EINVAL;
	if (!*rest) {
		*date = true;
	} else if (rest[0] == 'T' && pim_digits(rest + 1, 2, &h) &&
		   pim_digits(rest + 3, 2, &mi) &&
		   pim_digits(rest + 5, 2, &s) &&
		   (!rest[7] || (rest[7] == 'Z' && !rest[8]))) {
		*date = false;
		utc = rest[7] == 'Z';
	} else {
		return -EINVAL;
	}
	if (h > 23 || mi > 59 || s > 60)
		return -EINVAL;
	pim_civil_from_days(day, &y, &mo, &d);
	if (s == 60)
		s = 59;
	if (!*date && !utc)
		tzid = vcard_prop_param(vp, "TZID");
	if (tzid) {
		const char *t = tzid[0] == '/' ? tzid + 1 : tzid;
		if (tzid_plain(t))
			tz = g_time_zone_new_identifier(t);
		if (!tz && g_hash_table_lookup_extended(c->tz_std, tzid, NULL,
							&off))
			tz = g_time_zone_new_offset(GPOINTER_TO_INT(off));
	}
	if (!tz)
		tz = g_time_zone_new_utc();
	dt = g_date_time_new(tz, (gint)y, (gint)mo, (gint)d, (gint)h,
			     (gint)mi, (gdouble)s);
	g_time_zone_unref(tz);
	if (!dt)
		return -EINVAL;
	*secs = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return 0;
}

static void take_exdate(struct actx *c, const struct vcard_prop *vp)
{
	g_auto(GStrv) list = g_strsplit(vp->value, ",", 0);

	for (char **v = list; *v && c->exdates->len < 10000; v++) {
		int64_t t;
		bool date;
		if (parse_time(c, vp, g_strstrip(*v), &t, &date) == 0) {
			int64_t day = t >= 0 ? t / 86400 :
				      -((-t + 86399) / 86400);
			g_array_append_val(c->exdates, day);
		}
	}
}

static void take_trigger(struct actx *c, const struct vcard_prop *vp)
{
	g_autofree char *rel = vcard_prop_param(vp, "RELATED");
	int64_t d, t;
	bool date;

	if (c->has_alarm)
		return;
	if (parse_duration(vp->value, &d) == 0) {
		if (rel && g_ascii_strcasecmp(rel, "END") == 0)
			return;		/* not a PidLidReminderDelta */
		c->alarm = d <= 0 ? -d / 60 : 0;
		c->has_alarm = true;
	} else if (parse_time(c, vp, vp->value, &t, &date) == 0 &&
		   c->has_start) {
		c->alarm = t <= c->start ? (c->start - t) / 60 : 0;
		c->has_alarm = true;
	}
}

static void add_person(struct mapi_message *m, const struct vcard_prop *vp,
		       bool organizer, const char *skip)
{
	g_autofree char *cn = vcard_prop_param(vp, "CN");
	g_autofree char *role = vcard_prop_param(vp, "ROLE");
	g_autofree char *cut = vcard_prop_param(vp, "CUTYPE");
	g_autofree char *ps = vcard_prop_param(vp, "PARTSTAT");
	g_autofree char *a = g_strstrip(g_strdup(vp->value));
	const char *addr = a;
	struct mapi_recipient *r;
	int32_t type = MAPI_TO, track = 5;

	if (g_ascii_strncasecmp(addr, "mailto:", 7) == 0)
		addr += 7;
	if (!*addr || !g_utf8_validate(addr, -1, NULL) || m->n_recips >= 5000)
		return;
	if (skip) {
		/* the organizer listed again as an attendee */
		g_autofree char *sk = g_strstrip(g_strdup(skip));
		const char *o = sk;
		if (g_ascii_strncasecmp(o, "mailto:", 7) == 0)
			o += 7;
		if (g_ascii_strcasecmp(o, addr) == 0)
			return;
	}
	if (organizer) {
		track = 1;
	} else {
		if ((cut && !g_ascii_strcasecmp(cut, "RESOURCE")) ||
		    (cut && !g_ascii_strcasecmp(cut, "ROOM")) ||
		    (role && !g_ascii_strcasecmp(role, "NON-PARTICIPANT")))
			type = MAPI_BCC;
		else if (role && !g_ascii_strcasecmp(role, "OPT-PARTICIPANT"))
			type = MAPI_CC;
		if (ps && !g_ascii_strcasecmp(ps, "TENTATIVE"))
			track = 2;
		else if (ps && !g_ascii_strcasecmp(ps, "ACCEPTED"))
			track = 3;
		else if (ps && !g_ascii_strcasecmp(ps, "DECLINED"))
			track = 4;
	}
	r = mapi_message_add_recip(m);
	mapi_props_set_l(&r->props, MAPI_TAG_RECIPIENT_TYPE, type);
	if (cn && *cn && g_utf8_validate(cn, -1, NULL))
		mapi_props_set_str(&r->props, MAPI_TAG_DISPLAY_NAME, cn);
	else
		mapi_props_set_str(&r->props, MAPI_TAG_DISPLAY_NAME, addr);
	mapi_props_set_str(&r->props, MAPI_TAG_ADDRTYPE, "SMTP");
	mapi_props_set_str(&r->props, MAPI_TAG_EMAIL_ADDRESS, addr);
	mapi_props_set_str(&r->props, MAPI_TAG_SMTP_ADDRESS, addr);
	mapi_props_set_l(&r->props, MAPI_TAG_RECIPIENT_FLAGS,
			 (int32_t)(PIM_RECIP_SENDABLE |
				   (organizer ? PIM_RECIP_ORGANIZER : 0)));
	mapi_props_set_l(&r->props, PT_RECIPIENT_TRACK_STATUS, track);
	if (organizer) {
		struct mapi_props *p = &m->props;
		mapi_props_set_str(p, MAPI_TAG_SENT_REPRESENTING_NAME,
				   cn && *cn && g_utf8_validate(cn, -1, NULL) ?
				   cn : addr);
		mapi_props_set_str(p, MAPI_TAG_SENT_REPRESENTING_ADDRTYPE,
				   "SMTP");
		mapi_props_set_str(p, MAPI_TAG_SENT_REPRESENTING_EMAIL, addr);
		mapi_props_set_str(p, PT_SENT_REPRESENTING_SMTP, addr);
	}
}

/* The UID as PidLidGlobalObjectId: Outlook's hex form read back, any
 * other text in the "vCal-Uid" form (MS-OXCICAL 2.1.3.1.1.20.26). */
static GByteArray *goid_of_uid(const char *uid)
{
	GByteArray *b = g_byte_array_new();
	size_t n = strlen(uid);
	uint8_t zero[20] = { 0 }, le[4];
	uint32_t size;

	if (n >= 2 * PIM_GOID_HDR && n % 2 == 0 && n <= 2 * PIM_UID_MAX &&
	    g_ascii_strncasecmp(uid, "040000008200E00074C5B7101A82E008",
				32) == 0) {
		bool ok = true;
		for (size_t i = 0; i < n && ok; i += 2) {
			int hi = g_ascii_xdigit_value(uid[i]);
			int lo = g_ascii_xdigit_value(uid[i + 1]);
			uint8_t byte = (uint8_t)(hi << 4 | lo);
			ok = hi >= 0 && lo >= 0;
			g_byte_array_append(b, &byte, 1);
		}
		size = b->len >= PIM_GOID_HDR ? (uint32_t)b->data[36] |
		       (uint32_t)b->data[37] << 8 | (uint32_t)b->data[38] << 16 |
		       (uint32_t)b->data[39] << 24 : 0;
		if (ok && size == b->len - PIM_GOID_HDR)
			return b;
		g_byte_array_set_size(b, 0);
	}
	g_byte_array_append(b, pim_goid_head, 16);
	/* instance date, creation time and padding: zero */
	g_byte_array_append(b, zero, 20);
	size = (uint32_t)(12 + n + 1);
	le[0] = (uint8_t)size;
	le[1] = (uint8_t)(size >> 8);
	le[2] = (uint8_t)(size >> 16);
	le[3] = (uint8_t)(size >> 24);
	g_byte_array_append(b, le, 4);
	g_byte_array_append(b, (const guint8 *)"vCal-Uid\x01\0\0\0", 12);
	g_byte_array_append(b, (const guint8 *)uid, (guint)n + 1);
	return b;
}

struct vevent {
	guint from, to;			/* BEGIN:VEVENT .. END:VEVENT */
};

/* The first VEVENT directly inside the VCALENDAR. */
static bool find_event(const struct vcard *cal, struct vevent *e)
{
	int depth = 0;

	for (guint i = 0; i < cal->props->len; i++) {
		const struct vcard_prop *vp = cal->props->pdata[i];
		if (strcmp(vp->name, "BEGIN") == 0) {
			if (depth == 1 && !g_ascii_strcasecmp(vp->value,
							      "VEVENT"))
				e->from = i;
			depth++;
		} else if (strcmp(vp->name, "END") == 0) {
			depth--;
			if (depth == 1 && e->from && !g_ascii_strcasecmp(
						vp->value, "VEVENT")) {
				e->to = i;
				return true;
			}
			if (depth < 1)
				return false;
		}
	}
	return false;
}

static void take_dt(struct actx *c, const struct vcard_prop *vp, bool start)
{
	int64_t t;
	bool date;

	if (start ? c->has_start : c->has_end)
		return;
	if (parse_time(c, vp, g_strstrip(vp->value), &t, &date) != 0)
		return;
	if (start) {
		c->start = t;
		c->has_start = true;
		c->all_day = date;
	} else {
		c->end = t;
		c->has_end = true;
	}
}

static void set_text(struct mapi_props *p, uint32_t tag,
		     const struct vcard_prop *vp)
{
	g_autofree char *t = vcard_unescape(vp->value);

	if (tag && !mapi_props_get(p, MAPI_TAG_ID(tag)))
		pim_set_str(p, tag, t);
}

static int index_of(const char *const *names, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (g_ascii_strcasecmp(names[i], v) == 0)
			return (int)i;
	return -1;
}

/* One property of the VEVENT itself (depth 0) or of a component inside
 * it (VALARM's TRIGGER). */
static void take_prop(struct actx *c, struct mapi_message *m,
		      const struct mapi_pim_names *names,
		      const struct vcard_prop *vp, const struct vcard_prop *org)
{
	struct mapi_props *p = &m->props;
	const char *n = vp->name;
	int k;

	if (strcmp(n, "SUMMARY") == 0) {
		set_text(p, MAPI_TAG_SUBJECT, vp);
	} else if (strcmp(n, "LOCATION") == 0) {
		set_text(p, pim_tag(names, PN_LOCATION, MAPI_PT_UNICODE), vp);
	} else if (strcmp(n, "DESCRIPTION") == 0) {
		set_text(p, MAPI_TAG_BODY, vp);
	} else if (strcmp(n, "DTSTART") == 0 || strcmp(n, "DTEND") == 0) {
		take_dt(c, vp, n[2] == 'S');
	} else if (strcmp(n, "DURATION") == 0) {
		c->has_dur = parse_duration(vp->value, &c->dur) == 0 &&
			     c->dur >= 0;
	} else if (strcmp(n, "TRANSP") == 0) {
		uint32_t t = pim_tag(names, PN_BUSY_STATUS, MAPI_PT_LONG);
		if (t && !mapi_props_get(p, MAPI_TAG_ID(t)))
			mapi_props_set_l(p, t, g_ascii_strcasecmp(g_strstrip(
				vp->value), "TRANSPARENT") ? 2 : 0);
	} else if (strcmp(n, "X-MICROSOFT-CDO-BUSYSTATUS") == 0) {
		uint32_t t = pim_tag(names, PN_BUSY_STATUS, MAPI_PT_LONG);
		k = index_of(pim_busy_names, PIM_N_BUSY,
			     g_strstrip(vp->value));
		if (t && k >= 0)
			mapi_props_set_l(p, t, k);	/* over TRANSP */
	} else if (strcmp(n, "CLASS") == 0) {
		k = index_of(pim_class_names, PIM_N_CLASS,
			     g_strstrip(vp->value));
		mapi_props_set_l(p, MAPI_TAG_SENSITIVITY, k < 0 ? 2 : k);
	} else if (strcmp(n, "CATEGORIES") == 0) {
		uint32_t t = pim_tag(names, PN_KEYWORDS,
				     MAPI_PT_MV | MAPI_PT_UNICODE);
		g_auto(GStrv) list = pim_split_list(vp->value);
		if (t && !mapi_props_get(p, MAPI_TAG_ID(t)))
			pim_set_list(p, t, list);
	} else if (strcmp(n, "SEQUENCE") == 0) {
		uint32_t t = pim_tag(names, PN_APPT_SEQUENCE, MAPI_PT_LONG);
		guint64 v;
		if (t && g_ascii_string_to_unsigned(g_strstrip(vp->value), 10,
						    0, G_MAXINT32, &v, NULL))
			mapi_props_set_l(p, t, (int32_t)v);
	} else if (strcmp(n, "ATTENDEE") == 0) {
		add_person(m, vp, false, org ? org->value : NULL);
	} else if (strcmp(n, "RRULE") == 0) {
		if (!c->rrule)
			c->rrule = vp->value;
	} else if (strcmp(n, "EXDATE") == 0) {
		take_exdate(c, vp);
	} else if (strcmp(n, "CREATED") == 0 ||
		   strcmp(n, "LAST-MODIFIED") == 0) {
		int64_t t;
		bool date;
		if (parse_time(c, vp, g_strstrip(vp->value), &t, &date) == 0)
			mapi_props_set_ft(p, n[0] == 'C' ?
				MAPI_TAG_CREATION_TIME :
				MAPI_TAG_LAST_MODIFICATION_TIME,
				mapi_ft_from_unix(t));
	}
}

static void set_ft(struct mapi_props *p, const struct mapi_pim_names *names,
		   enum pim_name n, int64_t secs)
{
	uint32_t t = pim_tag(names, n, MAPI_PT_SYSTIME);

	if (t)
		mapi_props_set_ft(p, t, mapi_ft_from_unix(secs));
}

static void set_l(struct mapi_props *p, const struct mapi_pim_names *names,
		  enum pim_name n, int32_t l)
{
	uint32_t t = pim_tag(names, n, MAPI_PT_LONG);

	if (t)
		mapi_props_set_l(p, t, l);
}

static void set_b(struct mapi_props *p, const struct mapi_pim_names *names,
		  enum pim_name n, bool b)
{
	uint32_t t = pim_tag(names, n, MAPI_PT_BOOLEAN);

	if (t)
		mapi_props_set_b(p, t, b);
}

static int cmp_day(gconstpointer a, gconstpointer b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* PidLidAppointmentRecur and its companions from RRULE and EXDATE; a
 * rule the pattern cannot hold leaves the event single. */
static void set_recur(struct actx *c, struct mapi_props *p,
		      const struct mapi_pim_names *names)
{
	struct pim_recur r;
	GByteArray *blob;
	uint32_t tag = pim_tag(names, PN_RECUR, MAPI_PT_BINARY);

	if (!c->rrule || !tag)
		return;
	pim_recur_init(&r);
	if (pim_recur_from_rrule(c->rrule, c->start, c->end - c->start,
				 &r) != 0) {
		pim_recur_clear(&r);
		return;
	}
	g_array_sort(c->exdates, cmp_day);
	for (guint i = 0; i < c->exdates->len; i++) {
		int64_t d = g_array_index(c->exdates, int64_t, i);
		if (r.deleted->len && g_array_index(r.deleted, int64_t,
						    r.deleted->len - 1) == d)
			continue;
		g_array_append_val(r.deleted, d);
	}
	blob = g_byte_array_new();
	pim_recur_write(&r, blob);
	mapi_props_set_bin(p, tag, blob->data, blob->len);
	g_byte_array_free(blob, TRUE);
	set_b(p, names, PN_RECURRING, true);
	set_b(p, names, PN_IS_RECURRING, true);
	/* the span of the whole series, MS-OXOCAL 2.2.1.14 and 2.2.1.15 */
	set_ft(p, names, PN_CLIP_START, r.start_day * 86400);
	set_ft(p, names, PN_CLIP_END, r.ends ? r.end_day * 86400 :
	       /* 4500-08-31, the pattern's "no end" */
	       pim_days_from_civil(4500, 8, 31) * 86400);
	pim_recur_clear(&r);
}

/* The message of a VEVENT whose lines are [e->from, e->to]. */
static void build(struct actx *c, const struct vevent *e,
		  const struct mapi_pim_names *names, struct mapi_message *m)
{
	struct mapi_props *p = &m->props;
	const struct vcard_prop *org = NULL;
	int depth = 0;

	mapi_props_set_str(p, MAPI_TAG_MESSAGE_CLASS, "IPM.Appointment");
	/* DTSTART and the organizer first: an absolute TRIGGER and the
	 * attendees refer to them */
	for (guint i = e->from + 1; i < e->to; i++) {
		const struct vcard_prop *vp = c->cal->props->pdata[i];
		if (strcmp(vp->name, "BEGIN") == 0)
			depth++;
		else if (strcmp(vp->name, "END") == 0)
			depth--;
		else if (depth == 0 && strcmp(vp->name, "DTSTART") == 0)
			take_dt(c, vp, true);
		else if (depth == 0 && !org &&
			 strcmp(vp->name, "ORGANIZER") == 0)
			org = vp;
	}
	if (org)
		add_person(m, org, true, NULL);
	depth = 0;
	for (guint i = e->from + 1; i < e->to; i++) {
		const struct vcard_prop *vp = c->cal->props->pdata[i];
		if (strcmp(vp->name, "BEGIN") == 0) {
			depth++;
		} else if (strcmp(vp->name, "END") == 0) {
			depth--;
		} else if (depth == 0) {
			take_prop(c, m, names, vp, org);
		} else if (strcmp(vp->name, "TRIGGER") == 0) {
			take_trigger(c, vp);
		}
	}
}

/* Times, UID, reminder, recurrence: what needs the whole event read. */
static void finish(struct actx *c, const struct vevent *e,
		   const struct mapi_pim_names *names, struct mapi_message *m)
{
	struct mapi_props *p = &m->props;
	const char *uid = NULL;
	int depth = 0;

	/* the event's own UID, not one of a component inside it */
	for (guint i = e->from + 1; i < e->to && !uid; i++) {
		const struct vcard_prop *vp = c->cal->props->pdata[i];
		if (strcmp(vp->name, "BEGIN") == 0)
			depth++;
		else if (strcmp(vp->name, "END") == 0)
			depth--;
		else if (depth == 0 && strcmp(vp->name, "UID") == 0)
			uid = vp->value;
	}
	if (uid) {
		g_autofree char *u = g_strstrip(vcard_unescape(uid));
		if (*u && strlen(u) <= PIM_UID_MAX) {
			GByteArray *b = goid_of_uid(u);
			uint32_t t = pim_tag(names, PN_GLOBAL_OBJID,
					     MAPI_PT_BINARY);
			if (t)
				mapi_props_set_bin(p, t, b->data, b->len);
			/* the clean id has no instance date */
			memset(b->data + 16, 0, 4);
			t = pim_tag(names, PN_CLEAN_GLOBAL_OBJID,
				    MAPI_PT_BINARY);
			if (t)
				mapi_props_set_bin(p, t, b->data, b->len);
			g_byte_array_free(b, TRUE);
		}
	}
	if (c->has_start) {
		if (!c->has_end)
			c->end = c->start + (c->has_dur ? c->dur :
					     c->all_day ? 86400 : 0);
		if (c->end < c->start)
			c->end = c->start;
		set_ft(p, names, PN_START_WHOLE, c->start);
		set_ft(p, names, PN_END_WHOLE, c->end);
		set_ft(p, names, PN_COMMON_START, c->start);
		set_ft(p, names, PN_COMMON_END, c->end);
		set_l(p, names, PN_DURATION,
		      (int32_t)MIN((c->end - c->start) / 60, G_MAXINT32));
		set_b(p, names, PN_SUB_TYPE, c->all_day);
		set_recur(c, p, names);
	}
	set_b(p, names, PN_REMINDER_SET, c->has_alarm);
	if (c->has_alarm)
		set_l(p, names, PN_REMINDER_DELTA,
		      (int32_t)MIN(c->alarm, G_MAXINT32));
	/* a meeting is an appointment with attendees, MS-OXOCAL 2.2.1.10 */
	set_l(p, names, PN_STATE_FLAGS, m->n_recips > 1 ? 1 : 0);
	{
		uint32_t t = pim_tag(names, PN_BUSY_STATUS, MAPI_PT_LONG);
		if (t && !mapi_props_get(p, MAPI_TAG_ID(t)))
			mapi_props_set_l(p, t, 2);	/* OPAQUE */
	}
}

int mapi_appt_parse(const void *buf, size_t len,
		    const struct mapi_pim_names *names,
		    struct mapi_message **m_r)
{
	struct actx c = { 0 };
	struct vevent e = { 0 };
	struct mapi_message *m;
	int rc;

	if (!buf || !m_r)
		return -EINVAL;
	rc = vcard_parse_object(buf, len, "VCALENDAR", &c.cal);
	if (rc)
		return rc;
	if (!find_event(c.cal, &e)) {
		vcard_free(&c.cal);
		return -EINVAL;
	}
	c.tz_std = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 NULL);
	c.exdates = g_array_new(FALSE, FALSE, sizeof(int64_t));
	read_timezones(&c);
	m = mapi_message_new();
	build(&c, &e, names, m);
	finish(&c, &e, names, m);
	g_array_free(c.exdates, TRUE);
	g_hash_table_destroy(c.tz_std);
	vcard_free(&c.cal);
	*m_r = m;
	return 0;
}
