/*
 * ews-contact-vcard.c - the vCard side of the contact mapping: which property
 * gives which t:Contact field, and writing fields back into a card.
 *
 * Specs: RFC 6350 sections 6.2.1 (FN), 6.2.2 (N), 6.2.3 (NICKNAME),
 * 6.2.5 (BDAY), 6.3.1 (ADR), 6.4.1 (TEL), 6.4.2 (EMAIL), 6.6.1 (TITLE),
 * 6.6.4 (ORG), 6.7.2 (NOTE), 6.7.8 (URL); RFC 2426 3.6.5 (SORT-STRING)
 * and the TYPE values of 3.2.1, 3.3.1; [MS-OXWSCONT] for the fields.
 *
 * One property feeds each field (or, for N, ORG and ADR, one component
 * of one property).  The first property of a kind wins; a TEL, EMAIL or
 * ADR that finds its field taken stays unmapped and is kept untouched.
 */
#include "ews-contact-private.h"

#include <errno.h>
#include <string.h>

/* Where each field lives in a card: the property, and for structured
 * ones the component. */
struct vmap {
	struct vcard_prop *fn, *n, *org, *title, *nickname, *note, *bday,
		*url, *sort;
	struct vcard_prop *email[3];
	struct vcard_prop *phone[EWS_CF_PHONES];
	struct vcard_prop *adr[EWS_CF_ADDRESSES];
};

/* Indexes into the phone keys of contact-xml.c. */
enum {
	P_ASSISTANT, P_BUSINESS_FAX, P_BUSINESS, P_BUSINESS2, P_CALLBACK,
	P_CAR, P_COMPANY_MAIN, P_HOME_FAX, P_HOME, P_HOME2, P_ISDN, P_MOBILE,
	P_OTHER_FAX, P_OTHER, P_PAGER, P_PRIMARY, P_RADIO, P_TELEX, P_TTY,
};

/* The TYPE written for a new TEL of each key; read back to the same key.
 * Keys vCard has no word for get an x- type of their own. */
static const char *const phone_types[EWS_CF_PHONES] = {
	[P_ASSISTANT] = "x-assistant", [P_BUSINESS_FAX] = "work,fax",
	[P_BUSINESS] = "work,voice", [P_BUSINESS2] = "work,voice",
	[P_CALLBACK] = "x-callback", [P_CAR] = "car",
	[P_COMPANY_MAIN] = "x-companymain", [P_HOME_FAX] = "home,fax",
	[P_HOME] = "home,voice", [P_HOME2] = "home,voice", [P_ISDN] = "isdn",
	[P_MOBILE] = "cell", [P_OTHER_FAX] = "fax", [P_OTHER] = "voice",
	[P_PAGER] = "pager", [P_PRIMARY] = "x-primary", [P_RADIO] = "x-radio",
	[P_TELEX] = "x-telex", [P_TTY] = "textphone",
};

/* ADR components (RFC 6350 6.3.1) of Street, City, State,
 * CountryOrRegion, PostalCode. */
static const int adr_component[EWS_CF_ADDRESS_PARTS] = { 2, 3, 4, 6, 5 };
#define ADR_COMPONENTS 7
static const char *const adr_types[EWS_CF_ADDRESSES] = { "work", "home",
							 NULL };

/* The keys a TEL may take, best first, ending in -1. */
static void phone_choices(const struct vcard_prop *p, int *out)
{
	bool work = vcard_prop_has_type(p, "work");
	bool home = vcard_prop_has_type(p, "home");
	int n = 0;

	for (int k = 0; k < EWS_CF_PHONES; k++)
		if (phone_types[k][0] == 'x' &&
		    vcard_prop_has_type(p, phone_types[k]))
			out[n++] = k;
	if (vcard_prop_has_type(p, "fax")) {
		out[n++] = work ? P_BUSINESS_FAX : home ? P_HOME_FAX
			   : P_OTHER_FAX;
	} else if (vcard_prop_has_type(p, "cell") ||
		   vcard_prop_has_type(p, "mobile")) {
		out[n++] = P_MOBILE;
	} else if (vcard_prop_has_type(p, "pager")) {
		out[n++] = P_PAGER;
	} else if (vcard_prop_has_type(p, "car")) {
		out[n++] = P_CAR;
	} else if (vcard_prop_has_type(p, "isdn")) {
		out[n++] = P_ISDN;
	} else if (vcard_prop_has_type(p, "textphone")) {
		out[n++] = P_TTY;
	} else if (work) {
		out[n++] = P_BUSINESS;
		out[n++] = P_BUSINESS2;
	} else if (home) {
		out[n++] = P_HOME;
		out[n++] = P_HOME2;
	} else if (!n) {
		out[n++] = P_OTHER;
	}
	out[n] = -1;
}

static void first(struct vcard_prop **slot, struct vcard_prop *p)
{
	if (!*slot)
		*slot = p;
}

static void classify(const struct vcard *card, struct vmap *m)
{
	unsigned emails = 0;

	memset(m, 0, sizeof(*m));
	for (guint i = 0; i < card->props->len; i++) {
		struct vcard_prop *p = card->props->pdata[i];
		const char *name = p->name;
		if (!strcmp(name, "FN"))
			first(&m->fn, p);
		else if (!strcmp(name, "N"))
			first(&m->n, p);
		else if (!strcmp(name, "ORG"))
			first(&m->org, p);
		else if (!strcmp(name, "TITLE"))
			first(&m->title, p);
		else if (!strcmp(name, "NICKNAME"))
			first(&m->nickname, p);
		else if (!strcmp(name, "NOTE"))
			first(&m->note, p);
		else if (!strcmp(name, "BDAY")) {
			g_autofree char *d = ews_contact_date(p->value);
			if (d)
				first(&m->bday, p);
		} else if (!strcmp(name, "URL"))
			first(&m->url, p);
		else if (!strcmp(name, "SORT-STRING"))
			first(&m->sort, p);
		else if (!strcmp(name, "EMAIL") && emails < 3)
			m->email[emails++] = p;
		else if (!strcmp(name, "TEL")) {
			int keys[EWS_CF_PHONES + 2];
			phone_choices(p, keys);
			for (int *k = keys; *k >= 0; k++) {
				if (!m->phone[*k]) {
					m->phone[*k] = p;
					break;
				}
			}
		} else if (!strcmp(name, "ADR")) {
			int a = vcard_prop_has_type(p, "work") ? 0
				: vcard_prop_has_type(p, "home") ? 1 : 2;
			first(&m->adr[a], p);
		}
	}
}

/* A property's value as a field: unescaped, trimmed, NULL when empty. */
static char *text(const struct vcard_prop *p)
{
	char *v;

	if (!p)
		return NULL;
	v = g_strstrip(vcard_unescape(p->value));
	if (!*v)
		g_clear_pointer(&v, g_free);
	return v;
}

/* A URI value with its scheme dropped ("mailto:", "tel:"). */
static char *without_scheme(const struct vcard_prop *p, const char *scheme)
{
	char *v = text(p);
	size_t n = strlen(scheme);

	if (v && g_ascii_strncasecmp(v, scheme, n) == 0) {
		char *rest = g_strdup(v + n);
		g_free(v);
		v = *rest ? rest : (g_free(rest), NULL);
	}
	return v;
}

/* Component `i` of a structured value as a field, NULL when empty. */
static char *component(char **parts, int i)
{
	for (int k = 0; k <= i; k++)
		if (!parts[k])
			return NULL;
	char *v = g_strstrip(g_strdup(parts[i]));
	if (!*v)
		g_clear_pointer(&v, g_free);
	return v;
}

int ews_contact_from_vcard(const char *buf, size_t len,
			   struct ews_contact **c_r)
{
	struct vcard *card = NULL;
	struct vmap m;
	int rc = vcard_parse(buf, len, &card);

	if (rc < 0)
		return rc;
	struct ews_contact *c = g_new0(struct ews_contact, 1);
	char **f = c->field;
	classify(card, &m);
	f[EWS_CF_DISPLAY_NAME] = text(m.fn);
	f[EWS_CF_FILE_AS] = text(m.sort);
	f[EWS_CF_NICKNAME] = text(m.nickname);
	f[EWS_CF_JOB_TITLE] = text(m.title);
	f[EWS_CF_BODY] = text(m.note);
	f[EWS_CF_BUSINESS_HOME_PAGE] = text(m.url);
	f[EWS_CF_BIRTHDAY] = m.bday ? ews_contact_date(m.bday->value) : NULL;
	if (m.n) {
		g_auto(GStrv) parts = vcard_split(m.n->value);
		f[EWS_CF_SURNAME] = component(parts, 0);
		f[EWS_CF_GIVEN_NAME] = component(parts, 1);
		f[EWS_CF_MIDDLE_NAME] = component(parts, 2);
		f[EWS_CF_GENERATION] = component(parts, 4);
	}
	if (m.org) {
		g_auto(GStrv) parts = vcard_split(m.org->value);
		f[EWS_CF_COMPANY_NAME] = component(parts, 0);
		f[EWS_CF_DEPARTMENT] = component(parts, 1);
	}
	for (int i = 0; i < 3; i++)
		f[EWS_CF_EMAIL1 + i] = without_scheme(m.email[i], "mailto:");
	for (int k = 0; k < EWS_CF_PHONES; k++)
		f[EWS_CF_PHONE + k] = without_scheme(m.phone[k], "tel:");
	for (int a = 0; a < EWS_CF_ADDRESSES; a++) {
		if (!m.adr[a])
			continue;
		g_auto(GStrv) parts = vcard_split(m.adr[a]->value);
		for (int p = 0; p < EWS_CF_ADDRESS_PARTS; p++)
			f[EWS_CF_ADDRESS + a * EWS_CF_ADDRESS_PARTS + p] =
				component(parts, adr_component[p]);
	}
	/* every contact has a name to show: FN is mandatory, but cards
	   without one exist */
	if (!f[EWS_CF_DISPLAY_NAME]) {
		g_autofree char *names = g_strjoin(" ",
			f[EWS_CF_GIVEN_NAME] ? f[EWS_CF_GIVEN_NAME] : "",
			f[EWS_CF_SURNAME] ? f[EWS_CF_SURNAME] : "", NULL);
		g_strstrip(names);
		f[EWS_CF_DISPLAY_NAME] = g_strdup(
			*names ? names : f[EWS_CF_COMPANY_NAME]
			? f[EWS_CF_COMPANY_NAME] : f[EWS_CF_EMAIL1]
			? f[EWS_CF_EMAIL1] : "");
	}
	vcard_free(&card);
	*c_r = c;
	return 0;
}

/* Set, add or (for "") remove the single property `*slot`.  `esc` says
 * whether the value is text to escape (URIs are not). */
static void apply_single(struct vcard *card, struct vcard_prop **slot,
			 const char *name, const char *params,
			 const char *value, bool esc)
{
	g_autoptr(GString) v = g_string_new(NULL);

	if (!value)
		return;
	if (!*value) {
		if (*slot)
			g_ptr_array_remove(card->props, *slot);
		*slot = NULL;
		return;
	}
	if (esc) {
		vcard_escape(v, value);
	} else {
		/* a URI has no line breaks or controls to escape */
		for (const char *s = value; *s; s++)
			if ((unsigned char)*s > 0x20 && *s != 0x7f)
				g_string_append_c(v, *s);
	}
	if (*slot) {
		vcard_prop_set_value(*slot, v->str);
	} else {
		*slot = vcard_prop_new(name, params, v->str);
		vcard_add(card, *slot);
	}
}

/* Replace components of a structured property: fields[i] (NULL: keep)
 * goes to component comp[i].  A property left with nothing is removed,
 * unless `keep_empty`. */
static void apply_structured(struct vcard *card, struct vcard_prop **slot,
			     const char *name, const char *params,
			     int ncomp, const int *comp, char *const *fields,
			     int nfields, bool keep_empty)
{
	bool any = false, nonempty = false;

	for (int i = 0; i < nfields; i++)
		any = any || fields[i];
	if (!any)
		return;
	g_auto(GStrv) old = *slot ? vcard_split((*slot)->value) : NULL;
	guint nold = old ? g_strv_length(old) : 0;
	int total = MAX(ncomp, (int)nold);
	g_autoptr(GString) v = g_string_new(NULL);
	for (int c = 0; c < total; c++) {
		const char *val = c < (int)nold ? old[c] : "";
		for (int i = 0; i < nfields; i++)
			if (comp[i] == c && fields[i])
				val = fields[i];
		if (c)
			g_string_append_c(v, ';');
		vcard_escape(v, val);
		nonempty = nonempty || *val;
	}
	if (!nonempty && !keep_empty) {
		if (*slot)
			g_ptr_array_remove(card->props, *slot);
		*slot = NULL;
		return;
	}
	if (*slot) {
		vcard_prop_set_value(*slot, v->str);
	} else {
		*slot = vcard_prop_new(name, params, v->str);
		vcard_add(card, *slot);
	}
}

/* A new FN from the names, the company or the address. */
static char *derived_name(const struct vmap *m)
{
	if (m->n) {
		g_auto(GStrv) p = vcard_split(m->n->value);
		GString *s = g_string_new(NULL);
		/* given, additional, family: the order names are spoken in */
		static const int order[] = { 1, 2, 0 };
		guint n = g_strv_length(p);
		for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
			if ((guint)order[i] >= n || !*g_strstrip(p[order[i]]))
				continue;
			if (s->len)
				g_string_append_c(s, ' ');
			g_string_append(s, p[order[i]]);
		}
		if (s->len)
			return g_string_free(s, FALSE);
		g_string_free(s, TRUE);
	}
	if (m->org) {
		g_auto(GStrv) p = vcard_split(m->org->value);
		if (*p[0])
			return g_strdup(p[0]);
	}
	if (m->email[0])
		return vcard_unescape(m->email[0]->value);
	return g_strdup("");
}

int ews_contact_apply(struct vcard *card, const struct ews_contact *c)
{
	char *const *f = c->field;
	struct vmap m;
	bool v4 = card->version == 4;

	classify(card, &m);
	apply_single(card, &m.fn, "FN", NULL, f[EWS_CF_DISPLAY_NAME], true);
	apply_single(card, &m.sort, "SORT-STRING", NULL, f[EWS_CF_FILE_AS],
		     true);
	apply_single(card, &m.nickname, "NICKNAME", NULL, f[EWS_CF_NICKNAME],
		     true);
	apply_single(card, &m.title, "TITLE", NULL, f[EWS_CF_JOB_TITLE], true);
	apply_single(card, &m.note, "NOTE", NULL, f[EWS_CF_BODY], true);
	apply_single(card, &m.url, "URL", NULL, f[EWS_CF_BUSINESS_HOME_PAGE],
		     false);
	if (f[EWS_CF_BIRTHDAY]) {
		const char *d = f[EWS_CF_BIRTHDAY];
		g_autofree char *basic = NULL;
		/* 4.0 dates are written without dashes (RFC 6350 4.3.1) */
		if (v4 && strlen(d) == 10)
			d = basic = g_strdup_printf("%.4s%.2s%.2s", d, d + 5,
						    d + 8);
		apply_single(card, &m.bday, "BDAY", NULL, d, false);
	}
	{
		static const int comp[] = { 0, 1, 2, 4 };
		char *const fields[] = { f[EWS_CF_SURNAME], f[EWS_CF_GIVEN_NAME],
					 f[EWS_CF_MIDDLE_NAME],
					 f[EWS_CF_GENERATION] };
		/* N stays, even empty: vCard 3.0 requires it */
		apply_structured(card, &m.n, "N", NULL, 5, comp, fields, 4,
				 true);
	}
	{
		static const int comp[] = { 0, 1 };
		char *const fields[] = { f[EWS_CF_COMPANY_NAME],
					 f[EWS_CF_DEPARTMENT] };
		apply_structured(card, &m.org, "ORG", NULL, 2, comp, fields, 2,
				 false);
	}
	for (int a = 0; a < EWS_CF_ADDRESSES; a++) {
		g_autofree char *params = adr_types[a]
			? g_strconcat("TYPE=", adr_types[a], NULL) : NULL;
		apply_structured(card, &m.adr[a], "ADR", params, ADR_COMPONENTS,
				 adr_component,
				 &f[EWS_CF_ADDRESS + a * EWS_CF_ADDRESS_PARTS],
				 EWS_CF_ADDRESS_PARTS, false);
	}
	for (int i = 0; i < 3; i++)
		apply_single(card, &m.email[i], "EMAIL", "TYPE=internet",
			     f[EWS_CF_EMAIL1 + i], true);
	for (int k = 0; k < EWS_CF_PHONES; k++) {
		g_autofree char *params = g_strconcat("TYPE=", phone_types[k],
						      NULL);
		apply_single(card, &m.phone[k], "TEL", params,
			     f[EWS_CF_PHONE + k], true);
	}
	/* FN is mandatory in 3.0 and 4.0, N in 3.0 */
	if (!m.fn || !*m.fn->value) {
		g_autoptr(GString) v = g_string_new(NULL);
		g_autofree char *name = derived_name(&m);
		vcard_escape(v, name);
		if (m.fn)
			vcard_prop_set_value(m.fn, v->str);
		else
			vcard_add(card, vcard_prop_new("FN", NULL, v->str));
	}
	if (!m.n && !v4)
		vcard_add(card, vcard_prop_new("N", NULL, ";;;;"));
	return 0;
}

int ews_vcard_merge(const char *buf, size_t len, const xmlNode *contact,
		    char **out_r, size_t *len_r)
{
	struct vcard *card = NULL;
	struct ews_contact *c = NULL;
	int rc = ews_contact_from_xml(contact, &c);

	if (rc < 0)
		return rc;
	if (buf)
		rc = vcard_parse(buf, len, &card);
	else {
		g_autofree char *uid = g_uuid_string_random();
		card = vcard_new();
		/* a new card gets the identity RFC 6350 6.7.6 asks for */
		vcard_add(card, vcard_prop_new("UID", NULL, uid));
	}
	if (rc == 0)
		rc = ews_contact_apply(card, c);
	if (rc == 0)
		rc = vcard_write(card, out_r, len_r);
	vcard_free(&card);
	ews_contact_free(&c);
	return rc;
}

int ews_contact_to_vcard(const xmlNode *contact, char **out_r,
			 size_t *len_r)
{
	return ews_vcard_merge(NULL, 0, contact, out_r, len_r);
}
