/*
 * mapi-pim-names.c - the named properties of contacts and appointments
 * (MS-OXPROPS: property sets and long ids; MS-OXCDATA 2.5.1 for the GUID
 * as it travels, its first three fields little-endian, as mapi-fx-read.c
 * keeps it), and the helpers mapi-contact.c and mapi-appt.c share.
 */
#include "mapi-pim-private.h"

#include <errno.h>
#include <string.h>

/* {00062004-0000-0000-C000-000000000046} and its siblings, in wire order. */
#define PSETID_OL(b)	{ (b), 0x20, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, \
			  0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 }
#define PSETID_ADDRESS		PSETID_OL(0x04)
#define PSETID_APPOINTMENT	PSETID_OL(0x02)
#define PSETID_COMMON		PSETID_OL(0x08)
/* {6ED8DA90-450B-101B-98DA-00AA003F1305} */
#define PSETID_MEETING	{ 0x90, 0xDA, 0xD8, 0x6E, 0x0B, 0x45, 0x1B, 0x10, \
			  0x98, 0xDA, 0x00, 0xAA, 0x00, 0x3F, 0x13, 0x05 }
/* {00020329-0000-0000-C000-000000000046} */
#define PS_PUBLIC_STRINGS { 0x29, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, \
			  0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 }

#define LID(set, l)	{ .guid = set, .kind = MAPI_FX_NAME_LID, .lid = (l) }
#define STR(set, s)	{ .guid = set, .kind = MAPI_FX_NAME_STRING, \
			  .name = (char *)(s) }

static const struct mapi_fx_named pim_names[PN_COUNT] = {
	[PN_FILE_UNDER] = LID(PSETID_ADDRESS, 0x8005),
	[PN_HAS_PICTURE] = LID(PSETID_ADDRESS, 0x8015),
	[PN_EMAIL1_DISPLAY] = LID(PSETID_ADDRESS, 0x8080),
	[PN_EMAIL1_ADDRTYPE] = LID(PSETID_ADDRESS, 0x8082),
	[PN_EMAIL1_ADDRESS] = LID(PSETID_ADDRESS, 0x8083),
	[PN_EMAIL2_DISPLAY] = LID(PSETID_ADDRESS, 0x8090),
	[PN_EMAIL2_ADDRTYPE] = LID(PSETID_ADDRESS, 0x8092),
	[PN_EMAIL2_ADDRESS] = LID(PSETID_ADDRESS, 0x8093),
	[PN_EMAIL3_DISPLAY] = LID(PSETID_ADDRESS, 0x80A0),
	[PN_EMAIL3_ADDRTYPE] = LID(PSETID_ADDRESS, 0x80A2),
	[PN_EMAIL3_ADDRESS] = LID(PSETID_ADDRESS, 0x80A3),
	[PN_WORK_STREET] = LID(PSETID_ADDRESS, 0x8045),
	[PN_WORK_CITY] = LID(PSETID_ADDRESS, 0x8046),
	[PN_WORK_STATE] = LID(PSETID_ADDRESS, 0x8047),
	[PN_WORK_POSTAL_CODE] = LID(PSETID_ADDRESS, 0x8048),
	[PN_WORK_COUNTRY] = LID(PSETID_ADDRESS, 0x8049),
	[PN_WORK_PO_BOX] = LID(PSETID_ADDRESS, 0x804A),
	[PN_APPT_SEQUENCE] = LID(PSETID_APPOINTMENT, 0x8201),
	[PN_BUSY_STATUS] = LID(PSETID_APPOINTMENT, 0x8205),
	[PN_LOCATION] = LID(PSETID_APPOINTMENT, 0x8208),
	[PN_START_WHOLE] = LID(PSETID_APPOINTMENT, 0x820D),
	[PN_END_WHOLE] = LID(PSETID_APPOINTMENT, 0x820E),
	[PN_DURATION] = LID(PSETID_APPOINTMENT, 0x8213),
	[PN_SUB_TYPE] = LID(PSETID_APPOINTMENT, 0x8215),
	[PN_RECUR] = LID(PSETID_APPOINTMENT, 0x8216),
	[PN_STATE_FLAGS] = LID(PSETID_APPOINTMENT, 0x8217),
	[PN_RECURRING] = LID(PSETID_APPOINTMENT, 0x8223),
	[PN_CLIP_START] = LID(PSETID_APPOINTMENT, 0x8235),
	[PN_CLIP_END] = LID(PSETID_APPOINTMENT, 0x8236),
	[PN_REMINDER_DELTA] = LID(PSETID_COMMON, 0x8501),
	[PN_REMINDER_SET] = LID(PSETID_COMMON, 0x8503),
	[PN_COMMON_START] = LID(PSETID_COMMON, 0x8516),
	[PN_COMMON_END] = LID(PSETID_COMMON, 0x8517),
	[PN_GLOBAL_OBJID] = LID(PSETID_MEETING, 0x0003),
	[PN_CLEAN_GLOBAL_OBJID] = LID(PSETID_MEETING, 0x0023),
	[PN_IS_RECURRING] = LID(PSETID_MEETING, 0x0005),
	[PN_KEYWORDS] = STR(PS_PUBLIC_STRINGS, "Keywords"),
	/* a vCard's UID has no property of its own in MS-OXOCNTC; it is
	 * kept under this name so that a card keeps it through the store */
	[PN_VCARD_UID] = STR(PS_PUBLIC_STRINGS, "mailfs-vcard-uid"),
};

const struct mapi_fx_named *mapi_pim_names_used(size_t *n_r)
{
	*n_r = PN_COUNT;
	return pim_names;
}

uint32_t pim_tag(const struct mapi_pim_names *names, enum pim_name n,
		 uint16_t type)
{
	uint16_t id;

	if (!names || !names->id_of)
		return 0;
	id = names->id_of(names->ctx, &pim_names[n]);
	if (id < MAPI_NAMED_MIN || id == 0xFFFF)
		return 0;
	return MAPI_TAG(id, type);
}

const struct mapi_value *pim_get(const struct mapi_props *p, uint32_t tag)
{
	return tag ? mapi_props_get_tag(p, tag) : NULL;
}

const char *pim_str(const struct mapi_props *p, uint32_t tag)
{
	const struct mapi_value *v;

	if (!tag)
		return NULL;
	v = mapi_props_get(p, MAPI_TAG_ID(tag));
	if (!v || !v->v.str || !*v->v.str)
		return NULL;
	if (MAPI_TAG_TYPE(v->tag) == MAPI_PT_UNICODE)
		return v->v.str;
	if (MAPI_TAG_TYPE(v->tag) == MAPI_PT_STRING8 &&
	    g_utf8_validate(v->v.str, -1, NULL))
		return v->v.str;
	return NULL;
}

void pim_set_str(struct mapi_props *p, uint32_t tag, const char *s)
{
	if (tag && s && *s)
		mapi_props_set_str(p, tag, s);
}

void pim_line(GString *out, const char *name, const char *params,
	      const char *text)
{
	g_autoptr(GString) v = NULL;

	if (!text || !*text)
		return;
	v = g_string_new(NULL);
	vcard_escape(v, text);
	pim_line_raw(out, name, params, v->str);
}

void pim_line_raw(GString *out, const char *name, const char *params,
		  const char *value)
{
	g_autofree char *line = g_strconcat(name, params ? ";" : "",
					    params ? params : "", ":", value,
					    NULL);

	vcard_append_line(out, line);
}

char **pim_split_list(const char *value)
{
	GPtrArray *parts = g_ptr_array_new();
	const char *start = value;

	for (const char *s = value;; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			continue;
		}
		if (*s == ',' || !*s) {
			g_autofree char *raw = g_strndup(start,
							 (gsize)(s - start));
			char *u = g_strstrip(vcard_unescape(raw));
			if (*u)
				g_ptr_array_add(parts, u);
			else
				g_free(u);
			if (!*s)
				break;
			start = s + 1;
		}
	}
	g_ptr_array_add(parts, NULL);
	return (char **)g_ptr_array_free(parts, FALSE);
}

bool pim_join_list(const struct mapi_value *v, GString *out)
{
	bool any = false;
	uint16_t t;

	if (!v)
		return false;
	t = MAPI_TAG_TYPE(v->tag);
	if (t != (MAPI_PT_MV | MAPI_PT_UNICODE) &&
	    t != (MAPI_PT_MV | MAPI_PT_STRING8))
		return false;
	for (uint32_t i = 0; i < v->v.mv.count; i++) {
		const char *s = v->v.mv.a.str[i];
		if (!s || !*s || !g_utf8_validate(s, -1, NULL))
			continue;
		if (any)
			g_string_append_c(out, ',');
		vcard_escape(out, s);
		any = true;
	}
	return any;
}

void pim_set_list(struct mapi_props *p, uint32_t tag, char **list)
{
	struct mapi_value v = { 0 };
	guint n = list ? g_strv_length(list) : 0;

	if (!tag || n == 0)
		return;
	v.tag = MAPI_TAG_RETYPE(tag, MAPI_PT_MV | MAPI_PT_UNICODE);
	v.v.mv.count = n;
	v.v.mv.a.str = g_new0(char *, n);
	for (guint i = 0; i < n; i++)
		v.v.mv.a.str[i] = g_strdup(list[i]);
	mapi_props_take(p, &v);
}

bool pim_digits(const char *s, unsigned n, unsigned *v)
{
	*v = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

bool pim_parse_date(const char *s, int64_t *days, const char **rest_r)
{
	unsigned y, m, d;
	bool dash = s[0] && s[1] && s[2] && s[3] && s[4] == '-';
	int64_t z;
	int yy;
	unsigned mm, dd;

	if (!pim_digits(s, 4, &y) ||
	    !pim_digits(s + (dash ? 5 : 4), 2, &m) ||
	    (dash && s[7] != '-') ||
	    !pim_digits(s + (dash ? 8 : 6), 2, &d))
		return false;
	if (y < 1601 || m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	z = pim_days_from_civil((int)y, m, d);
	pim_civil_from_days(z, &yy, &mm, &dd);
	if (mm != m)
		return false;		/* 31 April */
	*days = z;
	*rest_r = s + (dash ? 10 : 8);
	return true;
}

/* The civil-from-days and days-from-civil conversions count in eras of
 * 400 years, which repeat exactly in the Gregorian calendar. */
int64_t pim_days_from_civil(int y, unsigned m, unsigned d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	unsigned yoe = (unsigned)(yy - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

void pim_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void pim_fmt_utc(char buf[17], int64_t secs)
{
	int64_t days = floor_div(secs, 86400), rem = secs - days * 86400;
	int y;
	unsigned m, d;

	pim_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		y = y < 0 ? 0 : 9999;
		m = y ? 12 : 1;
		d = y ? 31 : 1;
	}
	g_snprintf(buf, 17, "%04d%02u%02uT%02u%02u%02uZ", y, m, d,
		   (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
		   (unsigned)(rem % 60));
}

void pim_fmt_date(char buf[9], int64_t days)
{
	int y;
	unsigned m, d;

	pim_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		y = y < 0 ? 0 : 9999;
		m = y ? 12 : 1;
		d = y ? 31 : 1;
	}
	g_snprintf(buf, 9, "%04d%02u%02u", y, m, d);
}

int64_t pim_nearest_day(uint64_t ft)
{
	return floor_div(mapi_ft_to_unix(ft) + 43200, 86400);
}
