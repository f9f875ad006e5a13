/*
 * ldap-card.c - the vCard <-> inetOrgPerson mapping (ldap-card.h).
 *
 * Specs: RFC 4519, RFC 2798, RFC 4517 3.3.28 (Postal Address), RFC 2079
 * (labeledURI), RFC 6350 (vCard 4.0), RFC 2397 (data: URIs for PHOTO).
 */
#include "ldap-card.h"

#include <errno.h>
#include <string.h>

#include "vcard.h"

static const struct {
	const char *name;	/* canonical */
	const char *alias;	/* another name RFC 4519 or RFC 2798 gives */
} attrs[] = {
	{ "objectClass", NULL },
	{ "uid", "userid" },
	{ "cn", "commonName" },
	{ "sn", "surname" },
	{ "givenName", "gn" },
	{ "displayName", NULL },
	{ "mail", "rfc822Mailbox" },
	{ "telephoneNumber", NULL },
	{ "mobile", "mobileTelephoneNumber" },
	{ "o", "organizationName" },
	{ "ou", "organizationalUnitName" },
	{ "title", NULL },
	{ "postalAddress", NULL },
	{ "jpegPhoto", NULL },
	{ "labeledURI", NULL },
};

const char *ldap_card_attr_name(const char *desc)
{
	size_t n = strcspn(desc, ";");

	for (size_t i = 0; i < G_N_ELEMENTS(attrs); i++) {
		if ((strlen(attrs[i].name) == n &&
		     !g_ascii_strncasecmp(desc, attrs[i].name, n)) ||
		    (attrs[i].alias && strlen(attrs[i].alias) == n &&
		     !g_ascii_strncasecmp(desc, attrs[i].alias, n)))
			return attrs[i].name;
	}
	return NULL;
}

const char *const *ldap_card_attr_names(void)
{
	static const char *names[G_N_ELEMENTS(attrs) + 1];

	/* filled once; the same values every time, so a race is harmless */
	for (size_t i = 0; i < G_N_ELEMENTS(attrs); i++)
		names[i] = attrs[i].name;
	return names;
}

bool ldap_card_attr_binary(const char *name)
{
	return name && !strcmp(name, "jpegPhoto");
}

static bool is_phone(const char *name)
{
	return !strcmp(name, "telephoneNumber") || !strcmp(name, "mobile");
}

static void attr_free(gpointer p)
{
	struct ldap_card_attr *a = p;

	g_ptr_array_unref(a->values);
	g_free(a);
}

struct ldap_card *ldap_card_new(void)
{
	struct ldap_card *c = g_new0(struct ldap_card, 1);

	c->attrs = g_ptr_array_new_with_free_func(attr_free);
	return c;
}

void ldap_card_free(struct ldap_card **card)
{
	if (!*card)
		return;
	g_ptr_array_unref((*card)->attrs);
	g_free(*card);
	*card = NULL;
}

const struct ldap_card_attr *ldap_card_get(const struct ldap_card *card,
					   const char *desc)
{
	const char *name = ldap_card_attr_name(desc);

	for (guint i = 0; name && i < card->attrs->len; i++) {
		const struct ldap_card_attr *a = card->attrs->pdata[i];
		/* by name: attributes added by hand carry names of their own */
		if (!strcmp(a->name, name))
			return a;
	}
	return NULL;
}

char *ldap_card_value_key(const char *name, const void *val, size_t len,
			  size_t *len_r)
{
	char *key;

	/* an assertion's empty value may come without its bytes */
	if (!val || !len) {
		*len_r = 0;
		return g_strdup("");
	}
	if (ldap_card_attr_binary(name)) {
		key = g_malloc(len + 1);
		memcpy(key, val, len);
		key[len] = '\0';
	} else if (is_phone(name)) {
		GString *s = g_string_sized_new(len);
		for (size_t i = 0; i < len; i++) {
			char ch = ((const char *)val)[i];
			if (ch != ' ' && ch != '-')
				g_string_append_c(s, ch);
		}
		key = g_string_free(s, FALSE);
		len = strlen(key);
	} else {
		/* values of the text attributes are UTF-8 (ldap_card_add) */
		g_autofree char *text = g_utf8_make_valid(val, (gssize)len);
		key = g_utf8_casefold(text, -1);
		len = strlen(key);
	}
	*len_r = len;
	return key;
}

int ldap_card_value_cmp(const char *name, const void *a, size_t alen,
			const void *b, size_t blen)
{
	size_t ka_len, kb_len;
	g_autofree char *ka = ldap_card_value_key(name, a, alen, &ka_len);
	g_autofree char *kb = ldap_card_value_key(name, b, blen, &kb_len);
	int rc = memcmp(ka, kb, MIN(ka_len, kb_len));

	if (rc)
		return rc;
	return ka_len < kb_len ? -1 : ka_len > kb_len;
}

void ldap_card_add(struct ldap_card *card, const char *desc, const void *val,
		   size_t len)
{
	const char *name = ldap_card_attr_name(desc);
	struct ldap_card_attr *a = (struct ldap_card_attr *)ldap_card_get(card,
									   desc);

	if (!name || !len || len > LDAP_CARD_VALUE_MAX)
		return;
	if (!ldap_card_attr_binary(name) &&
	    (!g_utf8_validate(val, (gssize)len, NULL) || memchr(val, 0, len)))
		return;
	if (!a) {
		a = g_new0(struct ldap_card_attr, 1);
		a->name = name;
		a->values = g_ptr_array_new_with_free_func(
			(GDestroyNotify)g_bytes_unref);
		g_ptr_array_add(card->attrs, a);
	}
	if (a->values->len >= LDAP_CARD_VALUES_MAX)
		return;
	for (guint i = 0; i < a->values->len; i++) {
		gsize n;
		const void *v = g_bytes_get_data(a->values->pdata[i], &n);
		if (!ldap_card_value_cmp(name, v, n, val, len))
			return;
	}
	g_ptr_array_add(a->values, g_bytes_new(val, len));
}

static void add_text(struct ldap_card *card, const char *desc,
		     const char *text)
{
	if (text && *text)
		ldap_card_add(card, desc, text, strlen(text));
}

char *ldap_card_first(const struct ldap_card *card, const char *desc)
{
	const struct ldap_card_attr *a = ldap_card_get(card, desc);
	gsize n;
	const char *v;

	if (!a || !a->values->len)
		return NULL;
	v = g_bytes_get_data(a->values->pdata[0], &n);
	return g_strndup(v, n);
}

/* A line of a Postal Address with '$' and '\' escaped (RFC 4517). */
static void postal_line(GString *out, const char *line)
{
	for (const char *p = line; *p; p++) {
		if (*p == '$')
			g_string_append(out, "\\24");
		else if (*p == '\\')
			g_string_append(out, "\\5C");
		else if (*p != '\r')
			g_string_append_c(out, *p);
	}
}

/* ADR's components as a Postal Address: the street lines, then
 * "locality region code", then the country, each non-empty part a
 * line. */
static char *postal_from_adr(const char *value)
{
	g_auto(GStrv) c = vcard_split(value);
	size_t n = g_strv_length(c);
	GString *out = g_string_new(NULL);
	g_autoptr(GString) city = g_string_new(NULL);
	const char *lines[3] = { NULL, NULL, NULL };

	for (size_t i = 3; i < 6 && i < n; i++) {
		if (!*c[i])
			continue;
		if (city->len)
			g_string_append_c(city, ' ');
		g_string_append(city, c[i]);
	}
	lines[0] = n > 2 ? c[2] : NULL;
	lines[1] = city->str;
	lines[2] = n > 6 ? c[6] : NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
		if (!lines[i] || !*lines[i])
			continue;
		g_auto(GStrv) parts = g_strsplit(lines[i], "\n", 0);
		for (size_t j = 0; parts[j]; j++) {
			if (!*parts[j])
				continue;
			if (out->len)
				g_string_append_c(out, '$');
			postal_line(out, parts[j]);
		}
	}
	return g_string_free(out, FALSE);
}

/* The bytes of PHOTO: a data: URI with base64 (vCard 4.0), or a base64
 * value with ENCODING=b (vCard 3.0).  NULL for a link to elsewhere. */
static GBytes *photo_bytes(const struct vcard_prop *p)
{
	g_autofree char *enc = vcard_prop_param(p, "ENCODING");
	const char *b64 = NULL;
	guchar *raw;
	gsize n = 0;

	if (enc && (!g_ascii_strcasecmp(enc, "b") ||
		    !g_ascii_strcasecmp(enc, "base64")))
		b64 = p->value;
	else if (!g_ascii_strncasecmp(p->value, "data:", 5)) {
		const char *comma = strchr(p->value, ',');
		if (!comma || !g_strstr_len(p->value, comma - p->value,
					    ";base64"))
			return NULL;
		b64 = comma + 1;
	}
	if (!b64)
		return NULL;
	g_autofree char *clean = g_strdup(b64);
	g_strdelimit(clean, "\\", ' ');
	/* folded and escaped base64 may carry blanks: the decoder skips
	 * what is not of its alphabet */
	raw = g_base64_decode(clean, &n);
	if (!n) {
		g_free(raw);
		return NULL;
	}
	return g_bytes_new_take(raw, n);
}

/* One property of the card, as the table in ldap-card.h maps it. */
static void add_prop(struct ldap_card *card, const struct vcard_prop *p)
{
	const char *n = p->name;

	if (!strcmp(n, "FN")) {
		g_autofree char *v = vcard_unescape(p->value);
		add_text(card, "cn", v);
		add_text(card, "displayName", v);
	} else if (!strcmp(n, "N") || !strcmp(n, "ORG")) {
		g_auto(GStrv) c = vcard_split(p->value);
		bool org = n[0] == 'O';
		for (size_t i = 0; c[i]; i++) {
			g_strstrip(c[i]);
			if (org)
				add_text(card, i ? "ou" : "o", c[i]);
			else if (i < 2)
				add_text(card, i ? "givenName" : "sn", c[i]);
		}
	} else if (!strcmp(n, "EMAIL")) {
		g_autofree char *v = vcard_unescape(p->value);
		const char *addr = g_ascii_strncasecmp(v, "mailto:", 7)
			? v : v + 7;
		add_text(card, "mail", g_strstrip((char *)addr));
	} else if (!strcmp(n, "TEL")) {
		g_autofree char *v = vcard_unescape(p->value);
		const char *num = g_ascii_strncasecmp(v, "tel:", 4) ? v : v + 4;
		add_text(card, vcard_prop_has_type(p, "cell") ? "mobile"
			 : "telephoneNumber", g_strstrip((char *)num));
	} else if (!strcmp(n, "TITLE") || !strcmp(n, "UID")) {
		g_autofree char *v = vcard_unescape(p->value);
		add_text(card, n[0] == 'T' ? "title" : "uid", g_strstrip(v));
	} else if (!strcmp(n, "ADR")) {
		g_autofree char *v = postal_from_adr(p->value);
		add_text(card, "postalAddress", v);
	} else if (!strcmp(n, "PHOTO")) {
		GBytes *b = photo_bytes(p);
		if (b) {
			gsize len;
			const void *d = g_bytes_get_data(b, &len);
			ldap_card_add(card, "jpegPhoto", d, len);
			g_bytes_unref(b);
		}
	} else if (!strcmp(n, "URL")) {
		g_autofree char *v = vcard_unescape(p->value);
		add_text(card, "labeledURI", g_strstrip(v));
	}
}

int ldap_card_from_vcard(const char *buf, size_t len,
			 struct ldap_card **card_r)
{
	static const char *const classes[] = {
		"top", "person", "organizationalPerson", "inetOrgPerson",
	};
	struct vcard *vc = NULL;
	struct ldap_card *card;
	int rc;

	if ((rc = vcard_parse(buf, len, &vc)) < 0)
		return rc;
	card = ldap_card_new();
	for (size_t i = 0; i < G_N_ELEMENTS(classes); i++)
		add_text(card, "objectClass", classes[i]);
	for (guint i = 0; i < vc->props->len; i++)
		add_prop(card, vc->props->pdata[i]);
	vcard_free(&vc);
	if (!ldap_card_get(card, "cn")) {
		g_autofree char *given = ldap_card_first(card, "givenName");
		g_autofree char *sn = ldap_card_first(card, "sn");
		g_autofree char *mail = ldap_card_first(card, "mail");
		g_autofree char *uid = ldap_card_first(card, "uid");
		g_autofree char *both = given && sn
			? g_strconcat(given, " ", sn, NULL) : NULL;
		const char *cn = both ? both : sn ? sn : given ? given
			: mail ? mail : uid ? uid : "?";
		add_text(card, "cn", cn);
	}
	if (!ldap_card_get(card, "sn")) {
		g_autofree char *cn = ldap_card_first(card, "cn");
		add_text(card, "sn", cn);
	}
	*card_r = card;
	return 0;
}

/* "NAME;PARAMS:VALUE" with `text` escaped, folded, onto `out`. */
static void put_line(GString *out, const char *head, const char *text)
{
	g_autoptr(GString) line = g_string_new(head);

	g_string_append_c(line, ':');
	vcard_escape(line, text);
	vcard_append_line(out, line->str);
}

/* Each value of `desc` as one line `head`; `conv` turns it first. */
static void put_all(GString *out, const struct ldap_card *card,
		    const char *desc, const char *head,
		    char *(*conv)(const char *v, size_t n))
{
	const struct ldap_card_attr *a = ldap_card_get(card, desc);

	for (guint i = 0; a && i < a->values->len; i++) {
		gsize n;
		const char *v = g_bytes_get_data(a->values->pdata[i], &n);
		g_autofree char *s = conv ? conv(v, n) : g_strndup(v, n);
		if (s && *s)
			put_line(out, head, s);
	}
}

/* A Postal Address's lines joined with line breaks, its escapes undone. */
static char *postal_text(const char *v, size_t n)
{
	GString *s = g_string_sized_new(n);

	for (size_t i = 0; i < n; i++) {
		if (v[i] == '$')
			g_string_append_c(s, '\n');
		else if (v[i] == '\\' && i + 2 < n &&
			 g_ascii_isxdigit(v[i + 1]) &&
			 g_ascii_isxdigit(v[i + 2])) {
			char ch = (char)(g_ascii_xdigit_value(v[i + 1]) * 16 +
					 g_ascii_xdigit_value(v[i + 2]));
			g_string_append_c(s, ch ? ch : ' ');
			i += 2;
		} else
			g_string_append_c(s, v[i]);
	}
	return g_string_free(s, FALSE);
}

/* Each postalAddress as an ADR whose street component holds its lines:
 * a Postal Address does not say which line is the town. */
static void put_addresses(GString *out, const struct ldap_card *card)
{
	const struct ldap_card_attr *a = ldap_card_get(card, "postalAddress");

	for (guint i = 0; a && i < a->values->len; i++) {
		gsize n;
		const char *v = g_bytes_get_data(a->values->pdata[i], &n);
		g_autofree char *text = postal_text(v, n);
		g_autoptr(GString) line = g_string_new("ADR:;;");
		vcard_escape(line, text);
		g_string_append(line, ";;;;");
		vcard_append_line(out, line->str);
	}
}

/* labeledURI's URI: what comes before the first space. */
static char *uri_of(const char *v, size_t n)
{
	const char *sp = memchr(v, ' ', n);

	return g_strndup(v, sp ? (size_t)(sp - v) : n);
}

/* Structured value `a;b;...` of the first values of `descs`, escaped. */
static void put_structured(GString *out, const struct ldap_card *card,
			   const char *head, const char *const *descs,
			   size_t n, bool all_of_last)
{
	g_autoptr(GString) line = g_string_new(head);
	bool any = false;

	g_string_append_c(line, ':');
	for (size_t i = 0; i < n; i++) {
		const struct ldap_card_attr *a = ldap_card_get(card, descs[i]);
		guint count = a ? (all_of_last && i == n - 1 ? a->values->len
			: MIN(a->values->len, 1u)) : 0;
		if (i && !(all_of_last && i == n - 1 && !count))
			g_string_append_c(line, ';');
		for (guint j = 0; j < count; j++) {
			gsize len;
			const char *v = g_bytes_get_data(a->values->pdata[j],
							 &len);
			g_autofree char *s = g_strndup(v, len);
			if (j)
				g_string_append_c(line, ';');
			vcard_escape(line, s);
			any = true;
		}
	}
	if (any)
		vcard_append_line(out, line->str);
}

int ldap_card_to_vcard(const struct ldap_card *card, char **out_r,
		       size_t *len_r)
{
	static const char *const n_parts[] = { "sn", "givenName" };
	static const char *const org_parts[] = { "o", "ou" };
	g_autofree char *cn = ldap_card_first(card, "cn");
	g_autofree char *mail = ldap_card_first(card, "mail");
	const struct ldap_card_attr *photo = ldap_card_get(card, "jpegPhoto");
	GString *out;

	if (!cn && !mail)
		return -ENODATA;
	out = g_string_new("BEGIN:VCARD\r\nVERSION:4.0\r\n");
	put_all(out, card, "uid", "UID", NULL);
	put_line(out, "FN", cn ? cn : mail);
	if (ldap_card_get(card, "sn") || ldap_card_get(card, "givenName")) {
		put_structured(out, card, "N", n_parts, 2, false);
		/* N has five components (RFC 6350 6.2.2) */
		g_string_truncate(out, out->len - 2);
		g_string_append(out, ";;;\r\n");
	}
	put_all(out, card, "mail", "EMAIL", NULL);
	put_all(out, card, "telephoneNumber", "TEL;VALUE=text;TYPE=voice",
		NULL);
	put_all(out, card, "mobile", "TEL;VALUE=text;TYPE=cell", NULL);
	put_structured(out, card, "ORG", org_parts, 2, true);
	put_all(out, card, "title", "TITLE", NULL);
	put_addresses(out, card);
	put_all(out, card, "labeledURI", "URL", uri_of);
	if (photo && photo->values->len) {
		gsize n;
		const guchar *d = g_bytes_get_data(photo->values->pdata[0], &n);
		g_autofree char *b64 = g_base64_encode(d, n);
		g_autofree char *line = g_strconcat("PHOTO:data:image/jpeg;"
						    "base64,", b64, NULL);
		vcard_append_line(out, line);
	}
	g_string_append(out, "END:VCARD\r\n");
	*len_r = out->len;
	*out_r = g_string_free(out, FALSE);
	return 0;
}
