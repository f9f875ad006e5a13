/*
 * directory.c - the account's address book as the folder
 * "Directory": no server folder stands behind it, it is filled only by
 * lookups, each one ResolveNames.
 *
 * Specs: [MS-OXWSRSLNM] 3.1.4.1 (ResolveNames: UnresolvedEntry,
 * ReturnFullContactData, SearchScope, ContactDataShape;
 * ArrayOfResolutionType, at most 100 resolutions), [MS-OXWSCDATA]
 * (ErrorNameResolutionNoResults, ErrorNameResolutionMultipleResults,
 * EmailAddressType).
 *
 * SearchScope is ActiveDirectoryContacts: the address lists first (what
 * the folder stands for), then the user's own contacts folders, which is
 * where a server with no directory (the embedded one) finds names.  A
 * resolution becomes "<address>.vcf" holding the vCard of its t:Contact,
 * or, when the server sent no contact data, a card of the Mailbox's name
 * and address.  Exchange (and gromox) give the address in t:Mailbox only
 * and a t:Contact without EmailAddresses, so the card takes every
 * address of both; the directory's OfficeLocation ([MS-OXWSCONT]
 * 2.2.4.3) becomes the extended address of a work ADR (RFC 6350 6.3.1)
 * and its Photo a PHOTO (RFC 2426 3.1.4).
 */
#include "pim.h"

#include <errno.h>
#include <string.h>

#include "event.h"
#include "wire/ews-contact.h"
#include "wire/vcard.h"
#include "log.h"

bool ewsc_dir_is(const char *folder)
{
	return folder && !strcmp(folder, EWS_DIRECTORY);
}

void ewsc_dir_add_folder(GPtrArray *folders)
{
	for (guint i = 0; i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		if (ewsc_dir_is(fi->path)) {
			/* the server's own folder of that name wins */
			log_warnx("ews: the server has a folder named %s; "
				  "the address book is not shown",
				  EWS_DIRECTORY);
			return;
		}
	}
	g_ptr_array_add(folders, mfs_folder_info_new(EWS_DIRECTORY,
						     MFS_FOLDER_DIRECTORY));
}

int ewsc_dir_sync(struct mfs_sync_result **res_r)
{
	/* nothing is listed: entries come only from lookups */
	*res_r = mfs_sync_result_new();
	(*res_r)->full = true;
	return 0;
}

static GString *request(const char *query)
{
	GString *req = ewsc_req_begin();

	g_string_append(req, "<m:ResolveNames ReturnFullContactData=\"true\" "
			"SearchScope=\"ActiveDirectoryContacts\" "
			"ContactDataShape=\"AllProperties\">"
			"<m:UnresolvedEntry>");
	ews_escape(req, query);
	g_string_append(req, "</m:UnresolvedEntry></m:ResolveNames>");
	ewsc_req_end(req);
	return req;
}

/* A card of a name and address alone, made through the same writer as
 * every other card so that escaping has one home.  Returns 0 with
 * *card_r (caller owns), or -errno. */
static int mailbox_card(const char *name, const char *address,
			GBytes **card_r)
{
	GString *xml = g_string_new("<t:Contact xmlns:t=\"" EWS_NS_T "\">");
	xmlDoc *doc = NULL;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (name && *name) {
		g_string_append(xml, "<t:DisplayName>");
		ews_escape(xml, name);
		g_string_append(xml, "</t:DisplayName>");
	}
	if (address && *address) {
		g_string_append(xml, "<t:EmailAddresses><t:Entry "
				"Key=\"EmailAddress1\">");
		ews_escape(xml, address);
		g_string_append(xml, "</t:Entry></t:EmailAddresses>");
	}
	g_string_append(xml, "</t:Contact>");
	rc = ews_xml_read(xml->str, xml->len, xml->len + 1, false, &doc);
	g_string_free(xml, TRUE);
	if (rc == 0)
		rc = ews_contact_to_vcard(xmlDocGetRootElement(doc), &out,
					  &len);
	if (doc)
		xmlFreeDoc(doc);
	if (rc == 0)
		*card_r = g_bytes_new_take(out, len);
	return rc;
}

/* The largest photo put on a card, decoded. */
#define DIR_PHOTO_MAX (1024u * 1024)

static bool has_email(const struct vcard *card, const char *address)
{
	for (guint i = 0; i < card->props->len; i++) {
		const struct vcard_prop *p = card->props->pdata[i];
		if (!strcmp(p->name, "EMAIL") &&
		    !g_ascii_strcasecmp(p->value, address))
			return true;
	}
	return false;
}

static bool has_work_adr(const struct vcard *card)
{
	for (guint i = 0; i < card->props->len; i++) {
		const struct vcard_prop *p = card->props->pdata[i];
		if (!strcmp(p->name, "ADR") && vcard_prop_has_type(p, "work"))
			return true;
	}
	return false;
}

/* `text` escaped between `prefix` and `suffix` (a component of a
 * structured value). */
static void add_text(struct vcard *card, const char *name,
		     const char *params, const char *prefix, const char *text,
		     const char *suffix)
{
	g_autoptr(GString) v = g_string_new(prefix);

	vcard_escape(v, text);
	g_string_append(v, suffix);
	vcard_add(card, vcard_prop_new(name, params, v->str));
}

/* A PHOTO of base64 `b64` when it decodes to an image of a known kind
 * within DIR_PHOTO_MAX. */
static void add_photo(struct vcard *card, const char *b64)
{
	g_autoptr(GString) clean = g_string_new(NULL);
	const char *type = NULL;
	gsize len = 0;

	for (const char *p = b64; *p; p++) {
		if (g_ascii_isspace(*p))
			continue;
		if (!g_ascii_isalnum(*p) && *p != '+' && *p != '/' &&
		    *p != '=')
			return;
		g_string_append_c(clean, *p);
	}
	if (clean->len == 0 || clean->len % 4 ||
	    clean->len / 4 * 3 > DIR_PHOTO_MAX)
		return;
	g_autofree guchar *raw = g_base64_decode(clean->str, &len);
	if (len >= 3 && raw[0] == 0xff && raw[1] == 0xd8 && raw[2] == 0xff)
		type = "ENCODING=b;TYPE=JPEG";
	else if (len >= 4 && !memcmp(raw, "\x89PNG", 4))
		type = "ENCODING=b;TYPE=PNG";
	else if (len >= 4 && !memcmp(raw, "GIF8", 4))
		type = "ENCODING=b;TYPE=GIF";
	if (type)
		vcard_add(card, vcard_prop_new("PHOTO", type, clean->str));
}

/* Card `buf` of a resolution with what the answer gives beside the
 * contact's fields: the Mailbox's address and name, the office and the
 * photo.  Returns 0 with *card_r (caller owns), or -errno. */
static int enrich(const char *buf, size_t len, const xmlNode *contact,
		  const char *name, const char *address, GBytes **card_r)
{
	struct vcard *card = NULL;
	g_autofree char *office = contact ? ewsc_text(contact,
						      "OfficeLocation") : NULL;
	g_autofree char *photo = contact ? ewsc_text(contact, "Photo") : NULL;
	char *out = NULL;
	size_t n = 0;
	int rc = vcard_parse(buf, len, &card);

	if (rc < 0)
		return rc;
	for (guint i = 0; i < card->props->len; i++) {
		struct vcard_prop *p = card->props->pdata[i];
		/* an Exchange address as its SMTP proxy ("SMTP:a@b") */
		if (!strcmp(p->name, "EMAIL") &&
		    !g_ascii_strncasecmp(p->value, "SMTP:", 5)) {
			g_autofree char *v = g_strdup(p->value + 5);
			vcard_prop_set_value(p, v);
		} else if (!strcmp(p->name, "FN") && !*p->value && name &&
			   *name) {
			g_autoptr(GString) v = g_string_new(NULL);
			vcard_escape(v, name);
			vcard_prop_set_value(p, v->str);
		}
	}
	if (address && *address && !has_email(card, address))
		add_text(card, "EMAIL", NULL, "", address, "");
	if (office && *office && !has_work_adr(card))
		add_text(card, "ADR", "TYPE=work", ";", office, ";;;;;");
	if (photo)
		add_photo(card, photo);
	rc = vcard_write(card, &out, &n);
	vcard_free(&card);
	if (rc == 0)
		*card_r = g_bytes_new_take(out, n);
	return rc;
}

/* Whether a resolution is what `query` asked for: with `prefix`, the
 * server's own matching (which also takes words inside a name) is kept;
 * else its address, or failing that its name, must be `query`. */
static bool wanted(const char *query, bool prefix, const char *name,
		   const char *address)
{
	if (prefix)
		return true;
	if (address && !g_ascii_strcasecmp(address, query))
		return true;
	return name && !g_utf8_collate(name, query);
}

/* One t:Resolution as an entry added to `out`; a resolution with neither
 * name nor address, or one not wanted, is left out. */
static void add_resolution(const xmlNode *r, const char *query, bool prefix,
			   GPtrArray *out)
{
	xmlNode *mb = ews_child(r, EWS_NS_T, "Mailbox");
	xmlNode *contact = ews_child(r, EWS_NS_T, "Contact");
	g_autofree char *name = mb ? ewsc_text(mb, "Name") : NULL;
	g_autofree char *address = mb ? ewsc_text(mb, "EmailAddress") : NULL;
	g_autofree char *file = NULL;
	GBytes *card = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (address && g_str_has_prefix(address, "SMTP:"))
		memmove(address, address + 5, strlen(address + 5) + 1);
	if (!wanted(query, prefix, name, address))
		return;
	if (address && *address)
		file = g_strconcat(address, ".vcf", NULL);
	else if (name && *name)
		file = g_strconcat(name, ".vcf", NULL);
	else
		return;
	if (contact && ews_contact_to_vcard(contact, &buf, &len) == 0) {
		ewsc_card_uid(&buf, &len, file);
		rc = enrich(buf, len, contact, name, address, &card);
		g_free(buf);
		if (rc < 0) {
			log_warnx("ews: %s: no card could be made (%s)", file,
				  g_strerror(-rc));
			return;
		}
	} else if ((rc = mailbox_card(name, address, &card)) < 0) {
		log_warnx("ews: %s: no card could be made (%s)", file,
			  g_strerror(-rc));
		return;
	}
	if (out->len < MFS_DIR_MAX)
		g_ptr_array_add(out, mfs_dir_entry_new(file, card));
	g_bytes_unref(card);
}

int ewsc_dir_lookup(struct mfs_backend *be, const char *folder,
		    const char *query, bool prefix, GPtrArray **entries_r,
		    struct mfs_error *e)
{
	struct ewsc_response *res = NULL;
	struct ewsc_status st;
	xmlNode *m = NULL;
	GString *req;
	int rc;

	if (!ewsc_dir_is(folder))
		return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s is not a directory", folder);
	req = request(query);
	rc = ewsc_call_one(be, "ResolveNames", req, MFS_ERR_FOLDER, &res, &m,
			   e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	ewsc_status_of(m, &st);
	GPtrArray *out = g_ptr_array_new_with_free_func(mfs_dir_entry_free);
	if (!strcmp(st.code, "ErrorNameResolutionNoResults")) {
		rc = 0;
	} else if (st.rc < 0 &&
		   strcmp(st.code, "ErrorNameResolutionMultipleResults")) {
		rc = ewsc_status_error(&st, "ResolveNames", NULL, e);
	} else {
		/* one match, or several: the resolutions given either way */
		xmlNode *set = ews_child(m, EWS_NS_M, "ResolutionSet");
		for (xmlNode *r = ews_first_element(set); r;
		     r = ews_next_element(r))
			if (ews_is(r, EWS_NS_T, "Resolution"))
				add_resolution(r, query, prefix, out);
	}
	ewsc_response_free(&res);
	if (rc < 0) {
		g_ptr_array_unref(out);
		return rc;
	}
	*entries_r = out;
	return 0;
}
