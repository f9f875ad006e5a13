/*
 * mapi-contact.c - a contact (IPM.Contact, MS-OXOCNTC) as a vCard 3.0
 * (RFC 2426) and a vCard of any version back, following the mapping of
 * [MS-OXVCARD] 2.1.3 where the vCard has a place for the property.
 * docs/MAPI.md ("Contacts and appointments") has the table.
 */
#include "mapi-pim-private.h"

#include <errno.h>
#include <string.h>

#include "mapi-tags.h"

/* Telephone numbers in the order they are written; a card read back
 * gives each kind its first number and the second work or home number
 * to the "2" property, as MS-OXVCARD 2.1.3.2.1 imports them. */
struct tel_map {
	uint32_t tag;
	const char *prop;		/* TEL or X-MS-TEL */
	const char *params;
};

static const struct tel_map tels[] = {
	{ MAPI_TAG_BUSINESS_TELEPHONE, "TEL", "TYPE=WORK,VOICE" },
	{ PT_BUSINESS2_TELEPHONE, "TEL", "TYPE=WORK,VOICE" },
	{ MAPI_TAG_HOME_TELEPHONE, "TEL", "TYPE=HOME,VOICE" },
	{ PT_HOME2_TELEPHONE, "TEL", "TYPE=HOME,VOICE" },
	{ MAPI_TAG_MOBILE_TELEPHONE, "TEL", "TYPE=CELL,VOICE" },
	{ PT_BUSINESS_FAX, "TEL", "TYPE=WORK,FAX" },
	{ PT_HOME_FAX, "TEL", "TYPE=HOME,FAX" },
	{ PT_PRIMARY_FAX, "TEL", "TYPE=FAX" },
	{ PT_PAGER_TELEPHONE, "TEL", "TYPE=PAGER" },
	{ PT_CAR_TELEPHONE, "TEL", "TYPE=CAR" },
	{ PT_ISDN, "TEL", "TYPE=ISDN" },
	{ PT_PRIMARY_TELEPHONE, "TEL", "TYPE=PREF" },
	{ PT_OTHER_TELEPHONE, "TEL", "TYPE=VOICE" },
	{ PT_ASSISTANT_TELEPHONE, "X-MS-TEL", "TYPE=ASSISTANT" },
	{ PT_CALLBACK_TELEPHONE, "X-MS-TEL", "TYPE=CALLBACK" },
	{ PT_COMPANY_MAIN_TELEPHONE, "X-MS-TEL", "TYPE=COMPANY" },
	{ PT_RADIO_TELEPHONE, "X-MS-TEL", "TYPE=RADIO" },
	{ PT_TTYTDD_TELEPHONE, "X-MS-TEL", "TYPE=TTYTDD" },
};

/* The three addresses: post office box, street, city, state, postal
 * code, country (ADR's components but the second, the extended
 * address, which has no property). */
enum { ADR_WORK, ADR_HOME, ADR_OTHER };

static const uint32_t adr_plain[2][6] = {
	[0] = { PT_HOME_PO_BOX, PT_HOME_STREET, PT_HOME_CITY, PT_HOME_STATE,
		PT_HOME_POSTAL_CODE, PT_HOME_COUNTRY },
	[1] = { PT_OTHER_PO_BOX, PT_OTHER_STREET, PT_OTHER_CITY,
		PT_OTHER_STATE, PT_OTHER_POSTAL_CODE, PT_OTHER_COUNTRY },
};

static void adr_tags(const struct mapi_pim_names *names, int which,
		     uint32_t t[6])
{
	if (which == ADR_WORK) {
		t[0] = pim_tag(names, PN_WORK_PO_BOX, MAPI_PT_UNICODE);
		t[1] = pim_tag(names, PN_WORK_STREET, MAPI_PT_UNICODE);
		t[2] = pim_tag(names, PN_WORK_CITY, MAPI_PT_UNICODE);
		t[3] = pim_tag(names, PN_WORK_STATE, MAPI_PT_UNICODE);
		t[4] = pim_tag(names, PN_WORK_POSTAL_CODE, MAPI_PT_UNICODE);
		t[5] = pim_tag(names, PN_WORK_COUNTRY, MAPI_PT_UNICODE);
	} else {
		memcpy(t, adr_plain[which - 1], sizeof(adr_plain[0]));
	}
}

static const char *const adr_params[] = { "TYPE=WORK", "TYPE=HOME", NULL };

static const enum pim_name email_addr[3] = {
	PN_EMAIL1_ADDRESS, PN_EMAIL2_ADDRESS, PN_EMAIL3_ADDRESS };
static const enum pim_name email_disp[3] = {
	PN_EMAIL1_DISPLAY, PN_EMAIL2_DISPLAY, PN_EMAIL3_DISPLAY };
static const enum pim_name email_type[3] = {
	PN_EMAIL1_ADDRTYPE, PN_EMAIL2_ADDRTYPE, PN_EMAIL3_ADDRTYPE };

/* A structured value: each component escaped, joined with ';'. */
static void put_struct(GString *out, const char *name, const char *params,
		       const char *const *parts, size_t n)
{
	g_autoptr(GString) v = g_string_new(NULL);
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (i)
			g_string_append_c(v, ';');
		if (parts[i]) {
			vcard_escape(v, parts[i]);
			any = true;
		}
	}
	if (any)
		pim_line_raw(out, name, params, v->str);
}

static void hex_of(GString *out, const struct mapi_value *v)
{
	for (uint32_t i = 0; i < v->v.bin.len; i++)
		g_string_append_printf(out, "%02X", v->v.bin.data[i]);
}

/* UID: the one the card came with, else one that follows from the
 * message's search key or source key, which do not change. */
static void put_uid(GString *out, const struct mapi_props *p,
		    const struct mapi_pim_names *names)
{
	const char *uid = pim_str(p, pim_tag(names, PN_VCARD_UID,
					     MAPI_PT_UNICODE));
	const struct mapi_value *key;
	g_autoptr(GString) v = NULL;

	if (uid) {
		pim_line(out, "UID", NULL, uid);
		return;
	}
	key = mapi_props_get_tag(p, MAPI_TAG_SEARCH_KEY);
	if (!key || !key->v.bin.len)
		key = mapi_props_get_tag(p, MAPI_TAG_SOURCE_KEY);
	if (!key || !key->v.bin.len)
		return;
	v = g_string_new(NULL);
	hex_of(v, key);
	pim_line_raw(out, "UID", NULL, v->str);
}

static void put_photo(GString *out, const struct mapi_message *m)
{
	for (size_t i = 0; i < m->n_attach; i++) {
		const struct mapi_props *a = &m->attach[i].props;
		const struct mapi_value *data;
		g_autofree char *b64 = NULL;

		if (!mapi_props_b(a, MAPI_TAG_ID(PT_ATTACHMENT_CONTACT_PHOTO),
				  false))
			continue;
		data = mapi_props_get_tag(a, MAPI_TAG_ATTACH_DATA_BINARY);
		if (!data || !data->v.bin.len)
			continue;
		b64 = g_base64_encode(data->v.bin.data, data->v.bin.len);
		pim_line_raw(out, "PHOTO", "ENCODING=b;TYPE=JPEG", b64);
		return;
	}
}

/* Name, organization and title lines. */
static void put_names(GString *out, const struct mapi_props *p,
		      const struct mapi_pim_names *names)
{
	const char *fn = pim_str(p, MAPI_TAG_DISPLAY_NAME);
	const char *n[5] = {
		pim_str(p, MAPI_TAG_SURNAME), pim_str(p, MAPI_TAG_GIVEN_NAME),
		pim_str(p, PT_MIDDLE_NAME), pim_str(p, PT_DISPLAY_NAME_PREFIX),
		pim_str(p, PT_GENERATION),
	};
	const char *org[2] = { pim_str(p, MAPI_TAG_COMPANY_NAME),
			       pim_str(p, MAPI_TAG_DEPARTMENT_NAME) };

	if (!fn)
		fn = pim_str(p, pim_tag(names, PN_FILE_UNDER,
					MAPI_PT_UNICODE));
	if (!fn)
		fn = pim_str(p, pim_tag(names, PN_EMAIL1_ADDRESS,
					MAPI_PT_UNICODE));
	/* FN and N are required in 3.0 (RFC 2426 5) */
	if (fn)
		pim_line(out, "FN", NULL, fn);
	else
		pim_line_raw(out, "FN", NULL, "");
	if (n[0] || n[1] || n[2] || n[3] || n[4])
		put_struct(out, "N", NULL, n, 5);
	else
		pim_line_raw(out, "N", NULL, ";;;;");
	pim_line(out, "NICKNAME", NULL, pim_str(p, PT_NICKNAME));
	if (org[0] || org[1])
		put_struct(out, "ORG", NULL, org, 2);
	pim_line(out, "TITLE", NULL, pim_str(p, MAPI_TAG_TITLE));
}

static void put_addresses(GString *out, const struct mapi_props *p,
			  const struct mapi_pim_names *names)
{
	for (int k = 0; k < 3; k++) {
		const char *e = pim_str(p, pim_tag(names, email_addr[k],
						   MAPI_PT_UNICODE));
		pim_line(out, "EMAIL", k ? "TYPE=INTERNET" :
			 "TYPE=INTERNET,PREF", e);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(tels); i++)
		pim_line(out, tels[i].prop, tels[i].params,
			 pim_str(p, tels[i].tag));
	for (int w = ADR_WORK; w <= ADR_OTHER; w++) {
		uint32_t t[6];
		const char *c[7];

		adr_tags(names, w, t);
		c[0] = pim_str(p, t[0]);
		c[1] = NULL;
		for (int i = 1; i < 6; i++)
			c[i + 1] = pim_str(p, t[i]);
		put_struct(out, "ADR", adr_params[w], c, 7);
	}
}

int mapi_contact_render(const struct mapi_message *m,
			const struct mapi_pim_names *names, GByteArray *out)
{
	const struct mapi_props *p;
	const struct mapi_value *v;
	g_autoptr(GString) s = NULL;

	if (!m || !out)
		return -EINVAL;
	p = &m->props;
	s = g_string_new("BEGIN:VCARD\r\nVERSION:3.0\r\n");
	put_names(s, p, names);
	put_addresses(s, p, names);
	v = mapi_props_get_tag(p, PT_BIRTHDAY);
	if (v) {
		char d[9];
		pim_fmt_date(d, pim_nearest_day(v->v.ft));
		g_autofree char *iso = g_strdup_printf("%.4s-%.2s-%.2s", d,
						       d + 4, d + 6);
		pim_line_raw(s, "BDAY", "VALUE=DATE", iso);
	}
	pim_line(s, "URL", "TYPE=WORK", pim_str(p, PT_BUSINESS_HOME_PAGE));
	pim_line(s, "URL", "TYPE=HOME", pim_str(p, PT_PERSONAL_HOME_PAGE));
	pim_line(s, "NOTE", NULL, pim_str(p, MAPI_TAG_BODY));
	{
		g_autoptr(GString) cats = g_string_new(NULL);
		if (pim_join_list(pim_get(p, pim_tag(names, PN_KEYWORDS,
				MAPI_PT_MV | MAPI_PT_UNICODE)), cats))
			pim_line_raw(s, "CATEGORIES", NULL, cats->str);
	}
	put_uid(s, p, names);
	v = mapi_props_get_tag(p, MAPI_TAG_LAST_MODIFICATION_TIME);
	if (v) {
		char t[17];
		pim_fmt_utc(t, mapi_ft_to_unix(v->v.ft));
		pim_line_raw(s, "REV", NULL, t);
	}
	put_photo(s, m);
	g_string_append(s, "END:VCARD\r\n");
	g_byte_array_append(out, (const guint8 *)s->str, (guint)s->len);
	return 0;
}

/* ---- parsing ---- */

struct pctx {
	struct mapi_message *m;
	const struct mapi_pim_names *names;
	int n_email;
	char *fn;			/* owned */
};

static bool unset(const struct mapi_props *p, uint32_t tag)
{
	return tag && !mapi_props_get(p, MAPI_TAG_ID(tag));
}

static void take_tel(struct pctx *c, const struct vcard_prop *vp)
{
	g_autofree char *num = vcard_unescape(vp->value);
	const char *n = g_strstrip(num);
	struct mapi_props *p = &c->m->props;
	bool work = vcard_prop_has_type(vp, "work");
	bool home = vcard_prop_has_type(vp, "home");
	uint32_t tag = PT_OTHER_TELEPHONE;

	if (g_ascii_strncasecmp(n, "tel:", 4) == 0)
		n += 4;
	if (!*n)
		return;
	if (strcmp(vp->name, "X-MS-TEL") == 0) {
		for (size_t i = 0; i < G_N_ELEMENTS(tels); i++) {
			const char *t = tels[i].params + 5;
			if (strcmp(tels[i].prop, "X-MS-TEL") == 0 &&
			    vcard_prop_has_type(vp, t))
				tag = tels[i].tag;
		}
		if (tag == PT_OTHER_TELEPHONE)
			return;
	} else if (vcard_prop_has_type(vp, "fax")) {
		tag = work ? PT_BUSINESS_FAX : home ? PT_HOME_FAX :
		      PT_PRIMARY_FAX;
	} else if (vcard_prop_has_type(vp, "pager")) {
		tag = PT_PAGER_TELEPHONE;
	} else if (vcard_prop_has_type(vp, "cell")) {
		tag = MAPI_TAG_MOBILE_TELEPHONE;
	} else if (vcard_prop_has_type(vp, "car")) {
		tag = PT_CAR_TELEPHONE;
	} else if (vcard_prop_has_type(vp, "isdn")) {
		tag = PT_ISDN;
	} else if (work) {
		tag = unset(p, MAPI_TAG_BUSINESS_TELEPHONE) ?
		      MAPI_TAG_BUSINESS_TELEPHONE : PT_BUSINESS2_TELEPHONE;
	} else if (home) {
		tag = unset(p, MAPI_TAG_HOME_TELEPHONE) ?
		      MAPI_TAG_HOME_TELEPHONE : PT_HOME2_TELEPHONE;
	} else if (vcard_prop_has_type(vp, "pref")) {
		tag = PT_PRIMARY_TELEPHONE;
	}
	if (unset(p, tag))
		pim_set_str(p, tag, n);
}

static void take_adr(struct pctx *c, const struct vcard_prop *vp)
{
	g_auto(GStrv) parts = vcard_split(vp->value);
	guint n = g_strv_length(parts);
	int w = vcard_prop_has_type(vp, "work") ? ADR_WORK :
		vcard_prop_has_type(vp, "home") ? ADR_HOME : ADR_OTHER;
	uint32_t t[6];

	adr_tags(c->names, w, t);
	for (int i = 0; i < 6; i++)
		if (!unset(&c->m->props, t[i]))
			return;		/* the first of each kind */
	for (int i = 0; i < 6; i++) {
		guint k = i ? (guint)i + 1 : 0;
		if (k < n)
			pim_set_str(&c->m->props, t[i], g_strstrip(parts[k]));
	}
}

static void take_email(struct pctx *c, const struct vcard_prop *vp)
{
	g_autofree char *addr = g_strstrip(vcard_unescape(vp->value));
	const struct mapi_pim_names *nm = c->names;
	struct mapi_props *p = &c->m->props;
	const char *a = addr;
	int k;

	if (g_ascii_strncasecmp(a, "mailto:", 7) == 0)
		a += 7;
	if (!*a || c->n_email >= 3)
		return;
	k = c->n_email++;
	pim_set_str(p, pim_tag(nm, email_addr[k], MAPI_PT_UNICODE), a);
	pim_set_str(p, pim_tag(nm, email_type[k], MAPI_PT_UNICODE), "SMTP");
	{
		/* Outlook's form, "Name (address)" */
		g_autofree char *d = c->fn && *c->fn ?
			g_strdup_printf("%s (%s)", c->fn, a) : g_strdup(a);
		pim_set_str(p, pim_tag(nm, email_disp[k], MAPI_PT_UNICODE), d);
	}
}

/* The bytes of a PHOTO value: base64 (2.1's ENCODING=BASE64 or bare
 * BASE64, 3.0's ENCODING=b) or a 4.0 data: URI; NULL for a link to
 * elsewhere. */
static guchar *photo_bytes(const struct vcard_prop *vp, gsize *len)
{
	g_autofree char *enc = vcard_prop_param(vp, "ENCODING");
	const char *v = vp->value;
	g_autofree char *clean = NULL;

	if (g_ascii_strncasecmp(v, "data:", 5) == 0) {
		const char *comma = strchr(v, ',');
		if (!comma || !g_strstr_len(v, comma - v, ";base64"))
			return NULL;
		v = comma + 1;
	} else if ((!enc || (g_ascii_strcasecmp(enc, "b") &&
			     g_ascii_strcasecmp(enc, "base64"))) &&
		   !vcard_prop_has_type(vp, "base64")) {
		return NULL;		/* 2.1 may say just ";BASE64" */
	}
	clean = g_strdup(v);
	g_strdelimit(clean, " \t\r\n", ' ');
	{
		char *w = clean;
		for (char *r = clean; *r; r++)
			if (*r != ' ')
				*w++ = *r;
		*w = 0;
	}
	if (!*clean)
		return NULL;
	return g_base64_decode(clean, len);
}

static void take_photo(struct pctx *c, const struct vcard_prop *vp)
{
	struct mapi_attachment *a;
	gsize len = 0;
	g_autofree guchar *data = NULL;

	for (size_t i = 0; i < c->m->n_attach; i++)
		if (mapi_props_b(&c->m->attach[i].props,
				 MAPI_TAG_ID(PT_ATTACHMENT_CONTACT_PHOTO),
				 false))
			return;
	data = photo_bytes(vp, &len);
	if (!data || !len)
		return;
	a = mapi_message_add_attach(c->m);
	mapi_props_set_l(&a->props, MAPI_TAG_ATTACH_METHOD,
			 MAPI_ATTACH_BY_VALUE);
	mapi_props_set_bin(&a->props, MAPI_TAG_ATTACH_DATA_BINARY, data, len);
	mapi_props_set_b(&a->props, PT_ATTACHMENT_CONTACT_PHOTO, true);
	mapi_props_set_str(&a->props, MAPI_TAG_ATTACH_LONG_FILENAME,
			   "ContactPicture.jpg");
	mapi_props_set_str(&a->props, MAPI_TAG_ATTACH_EXTENSION, ".jpg");
	mapi_props_set_l(&a->props, MAPI_TAG_RENDERING_POSITION, -1);
	mapi_props_set_b(&a->props, MAPI_TAG_ATTACHMENT_HIDDEN, true);
	if (pim_tag(c->names, PN_HAS_PICTURE, MAPI_PT_BOOLEAN))
		mapi_props_set_b(&c->m->props, pim_tag(c->names,
				 PN_HAS_PICTURE, MAPI_PT_BOOLEAN), true);
}

/* BDAY as "YYYY-MM-DD", "YYYYMMDD" or a date-time: midnight UTC of the
 * day. */
static void take_bday(struct pctx *c, const struct vcard_prop *vp)
{
	int64_t day;
	const char *rest;

	if (pim_parse_date(g_strstrip(vp->value), &day, &rest))
		mapi_props_set_ft(&c->m->props, PT_BIRTHDAY,
				  mapi_ft_from_unix(day * 86400));
}

static void take_text(struct mapi_props *p, uint32_t tag,
		      const struct vcard_prop *vp)
{
	g_autofree char *t = vcard_unescape(vp->value);

	if (unset(p, tag))
		pim_set_str(p, tag, g_strstrip(t));
}

/* What each vCard property becomes; the first of each kind counts. */
static void take_prop(struct pctx *c, const struct vcard_prop *vp)
{
	struct mapi_props *p = &c->m->props;
	const char *nm = vp->name;

	if (strcmp(nm, "N") == 0) {
		g_auto(GStrv) n = vcard_split(vp->value);
		static const uint32_t t[5] = {
			MAPI_TAG_SURNAME, MAPI_TAG_GIVEN_NAME, PT_MIDDLE_NAME,
			PT_DISPLAY_NAME_PREFIX, PT_GENERATION };
		for (guint i = 0; n[i] && i < 5; i++)
			if (unset(p, t[i]))
				pim_set_str(p, t[i], g_strstrip(n[i]));
	} else if (strcmp(nm, "NICKNAME") == 0) {
		take_text(p, PT_NICKNAME, vp);
	} else if (strcmp(nm, "ORG") == 0) {
		g_auto(GStrv) o = vcard_split(vp->value);
		if (unset(p, MAPI_TAG_COMPANY_NAME))
			pim_set_str(p, MAPI_TAG_COMPANY_NAME, g_strstrip(o[0]));
		if (o[1] && unset(p, MAPI_TAG_DEPARTMENT_NAME))
			pim_set_str(p, MAPI_TAG_DEPARTMENT_NAME,
				    g_strstrip(o[1]));
	} else if (strcmp(nm, "TITLE") == 0) {
		take_text(p, MAPI_TAG_TITLE, vp);
	} else if (strcmp(nm, "EMAIL") == 0) {
		take_email(c, vp);
	} else if (strcmp(nm, "TEL") == 0 || strcmp(nm, "X-MS-TEL") == 0) {
		take_tel(c, vp);
	} else if (strcmp(nm, "ADR") == 0) {
		take_adr(c, vp);
	} else if (strcmp(nm, "BDAY") == 0) {
		take_bday(c, vp);
	} else if (strcmp(nm, "URL") == 0) {
		take_text(p, vcard_prop_has_type(vp, "home") ?
			  PT_PERSONAL_HOME_PAGE : PT_BUSINESS_HOME_PAGE, vp);
	} else if (strcmp(nm, "NOTE") == 0) {
		take_text(p, MAPI_TAG_BODY, vp);
	} else if (strcmp(nm, "CATEGORIES") == 0) {
		uint32_t kw = pim_tag(c->names, PN_KEYWORDS,
				      MAPI_PT_MV | MAPI_PT_UNICODE);
		g_auto(GStrv) list = pim_split_list(vp->value);
		if (unset(p, kw))
			pim_set_list(p, kw, list);
	} else if (strcmp(nm, "UID") == 0) {
		take_text(p, pim_tag(c->names, PN_VCARD_UID, MAPI_PT_UNICODE),
			  vp);
	} else if (strcmp(nm, "REV") == 0) {
		GDateTime *t = g_date_time_new_from_iso8601(vp->value, NULL);
		if (t && unset(p, MAPI_TAG_LAST_MODIFICATION_TIME))
			mapi_props_set_ft(p, MAPI_TAG_LAST_MODIFICATION_TIME,
				mapi_ft_from_unix(g_date_time_to_unix(t)));
		if (t)
			g_date_time_unref(t);
	} else if (strcmp(nm, "PHOTO") == 0) {
		take_photo(c, vp);
	}
}

int mapi_contact_parse(const void *buf, size_t len,
		       const struct mapi_pim_names *names,
		       struct mapi_message **m_r)
{
	struct vcard *card = NULL;
	struct pctx c = { .names = names };
	struct mapi_props *p;
	int rc;

	if (!buf || !m_r)
		return -EINVAL;
	rc = vcard_parse(buf, len, &card);
	if (rc)
		return rc;
	c.m = mapi_message_new();
	p = &c.m->props;
	mapi_props_set_str(p, MAPI_TAG_MESSAGE_CLASS, "IPM.Contact");
	/* FN first: the e-mail display names are made from it */
	for (guint i = 0; i < card->props->len; i++) {
		const struct vcard_prop *vp = card->props->pdata[i];
		if (strcmp(vp->name, "FN") == 0) {
			c.fn = g_strstrip(vcard_unescape(vp->value));
			break;
		}
	}
	for (guint i = 0; i < card->props->len; i++)
		take_prop(&c, card->props->pdata[i]);
	if (!c.fn || !*c.fn) {
		const char *g = pim_str(p, MAPI_TAG_GIVEN_NAME);
		const char *s = pim_str(p, MAPI_TAG_SURNAME);
		g_free(c.fn);
		c.fn = g && s ? g_strdup_printf("%s %s", g, s) :
		       g_strdup(g ? g : s);
	}
	if (c.fn && *c.fn) {
		pim_set_str(p, MAPI_TAG_DISPLAY_NAME, c.fn);
		pim_set_str(p, MAPI_TAG_SUBJECT, c.fn);
		pim_set_str(p, pim_tag(names, PN_FILE_UNDER, MAPI_PT_UNICODE),
			    c.fn);
	}
	g_free(c.fn);
	vcard_free(&card);
	*m_r = c.m;
	return 0;
}
