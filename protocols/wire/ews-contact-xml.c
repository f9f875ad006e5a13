/*
 * ews-contact-xml.c - the t:Contact side of the contact mapping: the fields
 * and their EWS names, reading them from an element, writing them as
 * elements and as UpdateItem changes.
 *
 * Specs: [MS-OXWSCONT] 2.2.4.3 ContactItemType (element order),
 * 2.2.5.x (EmailAddressKeyType, PhoneNumberKeyType,
 * PhysicalAddressKeyType); [MS-OXWSCORE] 2.2.4.x ItemChangeType,
 * SetItemFieldType, DeleteItemFieldType, PathToIndexedFieldType.
 */
#include "ews-contact-private.h"

#include <errno.h>
#include <string.h>

#include "ews-soap.h"	/* the namespaces and ews_escape only: this file
			   is linked without the server */

/* Element helpers of our own, so that the client, which has no SOAP
 * server code, can link the mapping alone. */
static bool is_t(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, EWS_NS_T) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNode *next_elem(const xmlNode *n)
{
	for (n = n ? n->next : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return (xmlNode *)n;
	return NULL;
}

static xmlNode *first_elem(const xmlNode *parent)
{
	xmlNode *n = parent ? parent->children : NULL;

	return n && n->type != XML_ELEMENT_NODE ? next_elem(n) : n;
}

static xmlNode *child_t(const xmlNode *parent, const char *name)
{
	for (xmlNode *n = first_elem(parent); n; n = next_elem(n))
		if (is_t(n, name))
			return n;
	return NULL;
}

static char *attr(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	char *copy = v ? g_strdup((const char *)v) : NULL;

	xmlFree(v);
	return copy;
}

/* ews_escape(): the one place text is made fit for XML. */
static void escape(GString *out, const char *text)
{
	ews_escape(out, text);
}

static const char *const phone_keys[EWS_CF_PHONES] = {
	"AssistantPhone", "BusinessFax", "BusinessPhone", "BusinessPhone2",
	"Callback", "CarPhone", "CompanyMainPhone", "HomeFax", "HomePhone",
	"HomePhone2", "Isdn", "MobilePhone", "OtherFax", "OtherTelephone",
	"Pager", "PrimaryPhone", "RadioPhone", "Telex", "TtyTddPhone",
};
static const char *const address_keys[EWS_CF_ADDRESSES] = {
	"Business", "Home", "Other",
};
/* in the schema's order inside an address entry */
static const char *const address_parts[EWS_CF_ADDRESS_PARTS] = {
	"Street", "City", "State", "CountryOrRegion", "PostalCode",
};
static const char *const email_keys[3] = {
	"EmailAddress1", "EmailAddress2", "EmailAddress3",
};

static const struct ews_cf_def simple[EWS_CF_EMAIL1] = {
	[EWS_CF_FILE_AS] = { "FileAs", "contacts:FileAs", NULL },
	[EWS_CF_DISPLAY_NAME] = { "DisplayName", "contacts:DisplayName", NULL },
	[EWS_CF_GIVEN_NAME] = { "GivenName", "contacts:GivenName", NULL },
	[EWS_CF_MIDDLE_NAME] = { "MiddleName", "contacts:MiddleName", NULL },
	[EWS_CF_NICKNAME] = { "Nickname", "contacts:Nickname", NULL },
	[EWS_CF_COMPANY_NAME] = { "CompanyName", "contacts:CompanyName", NULL },
	[EWS_CF_BIRTHDAY] = { "Birthday", "contacts:Birthday", NULL },
	[EWS_CF_BUSINESS_HOME_PAGE] = { "BusinessHomePage",
					"contacts:BusinessHomePage", NULL },
	[EWS_CF_DEPARTMENT] = { "Department", "contacts:Department", NULL },
	[EWS_CF_GENERATION] = { "Generation", "contacts:Generation", NULL },
	[EWS_CF_JOB_TITLE] = { "JobTitle", "contacts:JobTitle", NULL },
	[EWS_CF_SURNAME] = { "Surname", "contacts:Surname", NULL },
	[EWS_CF_BODY] = { "Body", "item:Body", NULL },
};

/* Filled once: the dictionary fields' definitions. */
static struct ews_cf_def dict[EWS_CF_COUNT - EWS_CF_EMAIL1];
static char *address_uris[EWS_CF_ADDRESS_PARTS];

static gpointer init_dict(gpointer unused)
{
	for (int i = 0; i < 3; i++)
		dict[i] = (struct ews_cf_def){ "EmailAddresses",
			"contacts:EmailAddress", email_keys[i] };
	for (int i = 0; i < EWS_CF_PHONES; i++)
		dict[EWS_CF_PHONE - EWS_CF_EMAIL1 + i] = (struct ews_cf_def){
			"PhoneNumbers", "contacts:PhoneNumber", phone_keys[i] };
	for (int p = 0; p < EWS_CF_ADDRESS_PARTS; p++)
		address_uris[p] = g_strconcat("contacts:PhysicalAddress:",
					      address_parts[p], NULL);
	for (int a = 0; a < EWS_CF_ADDRESSES; a++)
		for (int p = 0; p < EWS_CF_ADDRESS_PARTS; p++)
			dict[EWS_CF_ADDRESS - EWS_CF_EMAIL1 +
			     a * EWS_CF_ADDRESS_PARTS + p] = (struct ews_cf_def){
				address_parts[p], address_uris[p],
				address_keys[a] };
	return NULL;
}

const struct ews_cf_def *ews_cf_def(enum ews_contact_field f)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, init_dict, NULL);
	return f < EWS_CF_EMAIL1 ? &simple[f] : &dict[f - EWS_CF_EMAIL1];
}

const char *ews_contact_key(enum ews_contact_field f)
{
	return f < EWS_CF_COUNT ? ews_cf_def(f)->key : NULL;
}

int ews_cf_from_uri(const char *uri, const char *index)
{
	for (int f = 0; f < EWS_CF_COUNT; f++) {
		const struct ews_cf_def *d = ews_cf_def(f);
		if (strcmp(d->uri, uri) != 0)
			continue;
		if (!d->key || (index && strcmp(d->key, index) == 0))
			return f;
	}
	return -1;
}

void ews_contact_free(struct ews_contact **c)
{
	if (!*c)
		return;
	for (int f = 0; f < EWS_CF_COUNT; f++)
		g_free((*c)->field[f]);
	g_free(*c);
	*c = NULL;
}

char *ews_contact_date(const char *text)
{
	char digits[9];
	size_t n = 0;
	const char *s = text;

	if (!text)
		return NULL;
	while (*s == ' ')
		s++;
	/* YYYY-MM-DD or YYYYMMDD, nothing but a time after it */
	for (; *s && n < 8; s++) {
		if (g_ascii_isdigit(*s))
			digits[n++] = *s;
		else if (*s != '-' || (n != 4 && n != 6))
			return NULL;
	}
	if (n != 8 || (*s && *s != 'T' && *s != ' ' && *s != '\r' &&
		       *s != '\n'))
		return NULL;
	digits[8] = 0;
	unsigned y = (unsigned)g_ascii_strtoull(digits, NULL, 10);
	unsigned d = y % 100, m = (y / 100) % 100;
	y /= 10000;
	if (y < 1 || m < 1 || m > 12 || d < 1 ||
	    d > g_date_get_days_in_month((GDateMonth)m, (GDateYear)y))
		return NULL;
	return g_strdup_printf("%04u-%02u-%02u", y, m, d);
}

/* The element's text, made valid for XML and for a vCard: no control
 * characters other than tab and LF, CRLF as LF.  Caller owns it. */
static char *text_of(const xmlNode *n)
{
	xmlChar *v = xmlNodeGetContent(n);
	GString *out = g_string_new(NULL);

	for (const char *s = v ? (const char *)v : ""; *s; s++)
		if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
			if (*s != 0x7f)
				g_string_append_c(out, *s);
	xmlFree(v);
	return g_string_free(out, FALSE);
}

static void set_field(struct ews_contact *c, int f, char *v)
{
	g_free(c->field[f]);
	c->field[f] = v;
}

/* The entries of one dictionary element: `first` is its first field,
 * `n` their number, `parts` the parts of each entry (1: the entry's own
 * text). */
static void read_entries(struct ews_contact *c, const xmlNode *dictn,
			 int first, int n, int parts)
{
	for (xmlNode *e = first_elem(dictn); e;
	     e = next_elem(e)) {
		g_autofree char *key = attr(e, "Key");
		if (!key || !is_t(e, "Entry"))
			continue;
		for (int i = 0; i < n; i += parts) {
			if (strcmp(ews_cf_def(first + i)->key, key) != 0)
				continue;
			if (parts == 1) {
				set_field(c, first + i, text_of(e));
				break;
			}
			for (int p = 0; p < parts; p++) {
				xmlNode *pn = child_t(e,
					ews_cf_def(first + i + p)->elem);
				if (pn)
					set_field(c, first + i + p,
						  text_of(pn));
			}
			break;
		}
	}
}

int ews_contact_from_xml(const xmlNode *node, struct ews_contact **c_r)
{
	struct ews_contact *c;

	if (!is_t(node, "Contact"))
		return -EINVAL;
	c = g_new0(struct ews_contact, 1);
	for (int f = 0; f < EWS_CF_EMAIL1; f++) {
		xmlNode *n = child_t(node, simple[f].elem);
		if (!n)
			continue;
		char *v = text_of(n);
		if (f == EWS_CF_BIRTHDAY && *v) {
			char *d = ews_contact_date(v);
			g_free(v);
			/* a date this code cannot read changes nothing */
			v = d;
		}
		set_field(c, f, v);
	}
	read_entries(c, child_t(node, "EmailAddresses"),
		     EWS_CF_EMAIL1, 3, 1);
	read_entries(c, child_t(node, "PhoneNumbers"),
		     EWS_CF_PHONE, EWS_CF_PHONES, 1);
	read_entries(c, child_t(node, "PhysicalAddresses"),
		     EWS_CF_ADDRESS, EWS_CF_ADDRESSES * EWS_CF_ADDRESS_PARTS,
		     EWS_CF_ADDRESS_PARTS);
	*c_r = c;
	return 0;
}

static bool has(const struct ews_contact *c, const bool *only, int f)
{
	return c->field[f] && *c->field[f] && (!only || only[f]);
}

static void write_simple(const struct ews_contact *c, const bool *only,
			 int f, GString *out)
{
	if (!has(c, only, f))
		return;
	g_string_append_printf(out, "<t:%s>", simple[f].elem);
	escape(out, c->field[f]);
	/* Exchange keeps birthdays at 11:59 UTC so that no time zone moves
	   them to another day */
	if (f == EWS_CF_BIRTHDAY)
		g_string_append(out, "T11:59:00Z");
	g_string_append_printf(out, "</t:%s>", simple[f].elem);
}

static void write_entries(const struct ews_contact *c, const bool *only,
			  const char *elem, int first, int n, int parts,
			  GString *out)
{
	bool open = false;

	for (int i = 0; i < n; i += parts) {
		bool any = false;
		for (int p = 0; p < parts; p++)
			any = any || has(c, only, first + i + p);
		if (!any)
			continue;
		if (!open)
			g_string_append_printf(out, "<t:%s>", elem);
		open = true;
		g_string_append_printf(out, "<t:Entry Key=\"%s\">",
				       ews_cf_def(first + i)->key);
		if (parts == 1)
			escape(out, c->field[first + i]);
		for (int p = 0; parts > 1 && p < parts; p++) {
			int f = first + i + p;
			if (!has(c, only, f))
				continue;
			g_string_append_printf(out, "<t:%s>",
					       ews_cf_def(f)->elem);
			escape(out, c->field[f]);
			g_string_append_printf(out, "</t:%s>",
					       ews_cf_def(f)->elem);
		}
		g_string_append(out, "</t:Entry>");
	}
	if (open)
		g_string_append_printf(out, "</t:%s>", elem);
}

static void write_body(const struct ews_contact *c, const bool *only,
		       GString *out)
{
	if (!has(c, only, EWS_CF_BODY))
		return;
	g_string_append(out, "<t:Body BodyType=\"Text\">");
	escape(out, c->field[EWS_CF_BODY]);
	g_string_append(out, "</t:Body>");
}

static void write_fields(const struct ews_contact *c, const bool *only,
			 GString *out)
{
	for (int f = EWS_CF_FILE_AS; f <= EWS_CF_COMPANY_NAME; f++)
		write_simple(c, only, f, out);
	write_entries(c, only, "EmailAddresses", EWS_CF_EMAIL1, 3, 1, out);
	write_entries(c, only, "PhysicalAddresses", EWS_CF_ADDRESS,
		      EWS_CF_ADDRESSES * EWS_CF_ADDRESS_PARTS,
		      EWS_CF_ADDRESS_PARTS, out);
	write_entries(c, only, "PhoneNumbers", EWS_CF_PHONE, EWS_CF_PHONES, 1,
		      out);
	for (int f = EWS_CF_BIRTHDAY; f <= EWS_CF_SURNAME; f++)
		write_simple(c, only, f, out);
}

void ews_contact_write_body(const struct ews_contact *c, GString *out)
{
	write_body(c, NULL, out);
}

void ews_contact_write_fields(const struct ews_contact *c, GString *out)
{
	write_fields(c, NULL, out);
}

void ews_contact_write_one(const struct ews_contact *c,
			   enum ews_contact_field f, GString *out)
{
	bool only[EWS_CF_COUNT] = { false };

	only[f] = true;
	write_body(c, only, out);
	write_fields(c, only, out);
}

int ews_vcard_to_contact_xml(const char *buf, size_t len, char **xml_r)
{
	struct ews_contact *c = NULL;
	int rc = ews_contact_from_vcard(buf, len, &c);

	if (rc < 0)
		return rc;
	GString *out = g_string_new("<t:Contact>");
	ews_contact_write_body(c, out);
	ews_contact_write_fields(c, out);
	g_string_append(out, "</t:Contact>");
	ews_contact_free(&c);
	*xml_r = g_string_free(out, FALSE);
	return 0;
}

static void write_path(GString *out, enum ews_contact_field f)
{
	const struct ews_cf_def *d = ews_cf_def(f);

	if (d->key)
		g_string_append_printf(out, "<t:IndexedFieldURI FieldURI=\"%s\""
				       " FieldIndex=\"%s\"/>", d->uri, d->key);
	else
		g_string_append_printf(out, "<t:FieldURI FieldURI=\"%s\"/>",
				       d->uri);
}

static bool same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

int ews_vcard_to_updates(const char *old, size_t old_len, const char *buf,
			 size_t len, char **xml_r)
{
	struct ews_contact *was = NULL, *now = NULL;
	int rc = ews_contact_from_vcard(buf, len, &now);

	if (rc < 0)
		return rc;
	if (old && (rc = ews_contact_from_vcard(old, old_len, &was)) < 0) {
		ews_contact_free(&now);
		return rc;
	}
	GString *out = g_string_new(NULL);
	for (int f = 0; f < EWS_CF_COUNT; f++) {
		const char *v = now->field[f];
		if (was && same(was->field[f], v))
			continue;
		if (v && *v) {
			g_string_append(out, "<t:SetItemField>");
			write_path(out, f);
			g_string_append(out, "<t:Contact>");
			ews_contact_write_one(now, f, out);
			g_string_append(out, "</t:Contact></t:SetItemField>");
		} else if (was || f != EWS_CF_FILE_AS) {
			/* with no old card, FileAs is left for the server
			   to make from the names */
			g_string_append(out, "<t:DeleteItemField>");
			write_path(out, f);
			g_string_append(out, "</t:DeleteItemField>");
		}
	}
	ews_contact_free(&was);
	ews_contact_free(&now);
	*xml_r = g_string_free(out, FALSE);
	return 0;
}

/* The fields one change names: those the FieldURI or IndexedFieldURI
 * names (all parts of an address for a whole PhysicalAddress), marked in
 * `hit`.  Returns 0, or -EINVAL when the change names no field at all. */
static int change_fields(const xmlNode *change, bool *hit)
{
	xmlNode *path = child_t(change, "FieldURI");
	bool indexed = !path;
	g_autofree char *uri = NULL, *index = NULL;

	if (!path)
		path = child_t(change, "IndexedFieldURI");
	if (!path)
		return child_t(change, "ExtendedFieldURI") ? 0 : -EINVAL;
	uri = attr(path, "FieldURI");
	index = indexed ? attr(path, "FieldIndex") : NULL;
	if (!uri || (indexed && !index))
		return -EINVAL;
	int f = ews_cf_from_uri(uri, index);
	if (f >= 0)
		hit[f] = true;
	return 0;
}

int ews_vcard_apply_updates(const char *buf, size_t len,
			    const xmlNode *updates, char **out_r,
			    size_t *len_r)
{
	struct vcard *card = NULL;
	int rc = vcard_parse(buf, len, &card);

	if (rc < 0)
		return rc;
	for (xmlNode *u = first_elem(updates); u && rc == 0; u = next_elem(u)) {
		bool hit[EWS_CF_COUNT] = { false };
		struct ews_contact *c = NULL;
		bool del = is_t(u, "DeleteItemField");

		if (!del && !is_t(u, "SetItemField") &&
		    !is_t(u, "AppendToItemField")) {
			rc = -EINVAL;
			break;
		}
		if ((rc = change_fields(u, hit)) < 0)
			break;
		if (del) {
			c = g_new0(struct ews_contact, 1);
		} else {
			xmlNode *item = child_t(u, "Contact");
			if (!item) {
				/* a change for another item kind: a
				   contact has none of its fields */
				if (!child_t(u, "Item") &&
				    !child_t(u, "Message")) {
					rc = -EINVAL;
					break;
				}
				continue;
			}
			if ((rc = ews_contact_from_xml(item, &c)) < 0)
				break;
		}
		/* only the field the path names changes, as EWS has it */
		for (int f = 0; f < EWS_CF_COUNT; f++) {
			if (!hit[f])
				g_clear_pointer(&c->field[f], g_free);
			else if (del)
				set_field(c, f, g_strdup(""));
		}
		rc = ews_contact_apply(card, c);
		ews_contact_free(&c);
	}
	if (rc == 0)
		rc = vcard_write(card, out_r, len_r);
	vcard_free(&card);
	return rc;
}
