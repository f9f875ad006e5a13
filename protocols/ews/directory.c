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
 * and address.
 */
#include "pim.h"

#include <errno.h>
#include <string.h>

#include "wire/ews-contact.h"
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
	if (contact && ews_contact_to_vcard(contact, &buf, &len) == 0)
		card = g_bytes_new_take(buf, len);
	else if ((rc = mailbox_card(name, address, &card)) < 0) {
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
