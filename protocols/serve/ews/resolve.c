/*
 * resolve.c - ResolveNames: the contacts of the store's contacts
 * folders whose names or addresses begin with what the client typed.
 *
 * Specs: [MS-OXWSRSLV] 3.1.4.1 (ResolveNames: UnresolvedEntry,
 * ReturnFullContactData, ParentFolderIds; at most 100 resolutions),
 * 2.2.4.x (ResolutionType, ArrayOfResolutionType); [MS-OXWSCDATA]
 * ErrorNameResolutionNoResults, ErrorNameResolutionMultipleResults.
 *
 * As Exchange answers: one match is a success, several a warning
 * (ErrorNameResolutionMultipleResults) that still carries them all, none
 * an error.  There is no directory here, so SearchScope is not looked at.
 * A prefix matches, without regard to case, the display name, the given
 * name, the surname, the nickname, any word of the display name, or an
 * email address (an "smtp:" before the entry is dropped).
 */
#include <string.h>

#include "wire/ews-contact.h"
#include "pim.h"

#define RESOLVE_MAX 100
/* Each entry reads every card: a request's entries are bounded too (the
 * clients send at most 100 at a time). */
#define ENTRIES_MAX 100

struct match {
	char *folder;			/* borrowed from call->folders */
	struct mfs_item *item;		/* owned */
	struct ews_contact *c;		/* owned */
};

static void match_free(gpointer p)
{
	struct match *m = p;

	mfs_item_free(m->item);
	ews_contact_free(&m->c);
	g_free(m);
}

static bool has_prefix(const char *text, const char *folded_prefix)
{
	g_autofree char *folded = text ? g_utf8_casefold(text, -1) : NULL;

	return folded && g_str_has_prefix(folded, folded_prefix);
}

static bool matches(const struct ews_contact *c, const char *prefix)
{
	static const int names[] = {
		EWS_CF_DISPLAY_NAME, EWS_CF_GIVEN_NAME, EWS_CF_SURNAME,
		EWS_CF_NICKNAME, EWS_CF_EMAIL1, EWS_CF_EMAIL2, EWS_CF_EMAIL3,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (has_prefix(c->field[names[i]], prefix))
			return true;
	const char *dn = c->field[EWS_CF_DISPLAY_NAME];
	for (const char *s = dn ? strchr(dn, ' ') : NULL; s;
	     s = strchr(s + 1, ' '))
		if (has_prefix(s + 1, prefix))
			return true;
	return false;
}

/* Add the matching contacts of `folder` to `found`, past RESOLVE_MAX
 * only counting them in *total. */
static void search(struct ewsd_call *call, const char *folder,
		   const char *prefix, GPtrArray *found, unsigned *total)
{
	struct mfs_sync_result *res = NULL;

	if (mfs_store_sync(call->ctx->store, folder, NULL, &res, NULL) < 0)
		return;
	for (guint i = 0; i < res->changed->len; i++) {
		const struct mfs_item *it = res->changed->pdata[i];
		GString *buf = NULL;
		struct ews_contact *c = NULL;
		if (ewsd_pim_load(call, folder, it->id, &buf) < 0)
			continue;
		if (ews_contact_from_vcard(buf->str, buf->len, &c) == 0 &&
		    matches(c, prefix)) {
			(*total)++;
			if (found->len < RESOLVE_MAX) {
				struct match *m = g_new0(struct match, 1);
				m->folder = (char *)folder;
				m->item = mfs_item_dup(it);
				m->c = g_steal_pointer(&c);
				g_ptr_array_add(found, m);
			}
		}
		ews_contact_free(&c);
		g_string_free(buf, TRUE);
	}
	mfs_sync_result_free(&res);
}

static void write_resolution(struct ewsd_call *call, const struct match *m,
			     bool full)
{
	GString *out = call->out;
	g_autofree char *iid = ewsd_pim_item_id(m->folder, m->item->id);
	g_autofree char *ck = ewsd_pim_change_key(m->item);
	const char *email = m->c->field[EWS_CF_EMAIL1];

	g_string_append(out, "<t:Resolution><t:Mailbox><t:Name>");
	ews_escape(out, m->c->field[EWS_CF_DISPLAY_NAME]);
	g_string_append(out, "</t:Name>");
	if (email) {
		g_string_append(out, "<t:EmailAddress>");
		ews_escape(out, email);
		g_string_append(out, "</t:EmailAddress><t:RoutingType>SMTP"
				"</t:RoutingType>");
	}
	g_string_append_printf(out, "<t:MailboxType>Contact</t:MailboxType>"
			       "<t:ItemId Id=\"%s\" ChangeKey=\"%s\"/>"
			       "</t:Mailbox>", iid, ck);
	if (full) {
		g_string_append(out, "<t:Contact>");
		ews_contact_write_fields(m->c, out);
		g_string_append(out, "</t:Contact>");
	}
	g_string_append(out, "</t:Resolution>");
}

/* The folders to search: those ParentFolderIds names, or every contacts
 * folder.  Of const char *, borrowed from call->folders. */
static GPtrArray *folders_to_search(struct ewsd_call *call)
{
	xmlNode *parents = ews_child(call->req->op, EWS_NS_M,
				     "ParentFolderIds");
	GPtrArray *paths = g_ptr_array_new();

	if (parents) {
		for (xmlNode *r = ews_first_element(parents); r;
		     r = ews_next_element(r)) {
			const char *path = NULL;
			enum mfs_folder_kind kind;
			if (ewsd_folder_resolve(call, r, &path, &kind) == 0 &&
			    kind == MFS_FOLDER_CONTACTS)
				g_ptr_array_add(paths, (char *)path);
		}
		return paths;
	}
	/* call->folders is filled by the first lookup */
	ewsd_pim_folder_kind(call, "");
	for (guint i = 0; call->folders && i < call->folders->len; i++) {
		const struct mfs_folder_info *fi = call->folders->pdata[i];
		if (fi->kind == MFS_FOLDER_CONTACTS)
			g_ptr_array_add(paths, fi->path);
	}
	return paths;
}

static void resolve_one(struct ewsd_call *call, const char *entry,
			GPtrArray *paths, bool full)
{
	g_autofree char *trimmed = g_strstrip(g_strdup(entry));
	const char *text = trimmed;
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(match_free);
	unsigned total = 0;

	if (g_ascii_strncasecmp(text, "smtp:", 5) == 0)
		text += 5;
	g_autofree char *prefix = g_utf8_casefold(text, -1);
	if (*prefix)
		for (guint i = 0; i < paths->len; i++)
			search(call, paths->pdata[i], prefix, found, &total);
	if (!found->len) {
		ewsd_error_message(call->out, "ResolveNames",
				  "ErrorNameResolutionNoResults",
				  "No results were found.");
		return;
	}
	if (found->len == 1)
		g_string_append(call->out, "<m:ResolveNamesResponseMessage "
				"ResponseClass=\"Success\"><m:ResponseCode>"
				"NoError</m:ResponseCode>");
	else
		g_string_append(call->out, "<m:ResolveNamesResponseMessage "
				"ResponseClass=\"Warning\"><m:MessageText>"
				"Multiple results were found.</m:MessageText>"
				"<m:ResponseCode>ErrorNameResolutionMultiple"
				"Results</m:ResponseCode><m:DescriptiveLinkKey>"
				"0</m:DescriptiveLinkKey>");
	g_string_append_printf(call->out, "<m:ResolutionSet TotalItemsInView="
			       "\"%u\" IncludesLastItemInRange=\"%s\">",
			       found->len, total > found->len ? "false"
							       : "true");
	for (guint i = 0; i < found->len; i++)
		write_resolution(call, found->pdata[i], full);
	g_string_append(call->out, "</m:ResolutionSet>"
			"</m:ResolveNamesResponseMessage>");
}

int ewsd_op_resolve_names(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	g_autofree char *full_attr = ews_attr(op, "ReturnFullContactData");
	bool full = full_attr && (strcmp(full_attr, "true") == 0 ||
				  strcmp(full_attr, "1") == 0);
	g_autoptr(GPtrArray) paths = folders_to_search(call);
	unsigned n = 0;

	g_string_append(call->out, "<m:ResolveNamesResponse>"
			"<m:ResponseMessages>");
	for (xmlNode *e = ews_first_element(op); e; e = ews_next_element(e)) {
		if (!ews_is(e, EWS_NS_M, "UnresolvedEntry"))
			continue;
		if (++n > ENTRIES_MAX) {
			ewsd_error_message(call->out, "ResolveNames",
					  "ErrorExceededFindCountLimit",
					  "Too many names in one request.");
			continue;
		}
		xmlChar *v = xmlNodeGetContent(e);
		resolve_one(call, v ? (const char *)v : "", paths, full);
		xmlFree(v);
	}
	if (!n)
		ewsd_error_message(call->out, "ResolveNames",
				  "ErrorNameResolutionNoResults",
				  "No name to resolve.");
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:ResolveNamesResponse>");
	return 0;
}
