/*
 * msgext.c - the t:ExtendedProperty values of a message that are not
 * flags: its size, dates, article number and the names a gateway keeps
 * for it.
 *
 * Specs: [MS-OXWSCORE] 2.2.4.x (ExtendedPropertyType, PathToExtended-
 * FieldType: PropertyTag, PropertyType), [MS-OXPROPS] (PidTagMessageSize
 * 0x0E08, PidTagInternetArticleNumber 0x0E23, PidTagMessageDeliveryTime
 * 0x0E06, PidTagClientSubmitTime 0x0039, PidTagCreationTime 0x3007,
 * PidTagLastModificationTime 0x3008, PidTagUrlCompName 0x10F3,
 * PidTagRecordKey 0x0FF9, PidTagSearchKey 0x300B), [MS-OXCDATA] 2.11.1
 * (property types).
 *
 * A property the message has no value for is left out, as Exchange
 * does.  The article number is the message's UID in serve's UID state
 * (serve/uids.h), which the IMAP server gives too: DavMail turns it into
 * the UIDs of its own IMAP service, so a client that talks to both sees
 * one numbering.  Messages have no other dates than their arrival, which
 * stands for all of them.
 */
#include <inttypes.h>
#include <string.h>

#include "log.h"
#include "msgprops.h"
#include "serve/uids.h"
#include "ewsd-private.h"

#define PR_CLIENT_SUBMIT_TIME 0x0039u
#define PR_MESSAGE_DELIVERY_TIME 0x0E06u
#define PR_MESSAGE_SIZE 0x0E08u
#define PR_INTERNET_ARTICLE_NUMBER 0x0E23u
#define PR_RECORD_KEY 0x0FF9u
#define PR_URL_COMP_NAME 0x10F3u
#define PR_CREATION_TIME 0x3007u
#define PR_LAST_MODIFICATION_TIME 0x3008u
#define PR_SEARCH_KEY 0x300Bu

void ewsd_uids_clear(struct ewsd_call *call)
{
	g_clear_pointer(&call->uids, g_hash_table_unref);
	g_clear_pointer(&call->uids_folder, g_free);
}

int ewsd_article_number(struct ewsd_call *call, const char *folder,
			const char *id, uint32_t *uid_r)
{
	if (!call->uids || strcmp(call->uids_folder, folder)) {
		struct mfs_sync_result *res = NULL;
		struct serve_uid_info *info = NULL;
		struct serve_uid_state st;
		int rc;

		ewsd_uids_clear(call);
		rc = mfs_store_sync(call->ctx->store, folder, NULL, &res, NULL);
		if (rc < 0)
			return rc;
		rc = serve_uids_assign(call->ctx->store_root, folder,
				       res->changed, &info, &st);
		if (rc < 0) {
			log_warn("ews: the UIDs of %s: %s", folder,
				 g_strerror(-rc));
			mfs_sync_result_free(&res);
			return rc;
		}
		call->uids = g_hash_table_new_full(g_str_hash, g_str_equal,
						   g_free, NULL);
		call->uids_folder = g_strdup(folder);
		for (guint i = 0; i < res->changed->len; i++) {
			const struct mfs_item *it = res->changed->pdata[i];
			g_hash_table_insert(call->uids, g_strdup(it->id),
					    GUINT_TO_POINTER(info[i].uid));
		}
		g_free(info);
		mfs_sync_result_free(&res);
	}
	*uid_r = GPOINTER_TO_UINT(g_hash_table_lookup(call->uids, id));
	return *uid_r ? 0 : -ENOENT;
}

/* Echo `uri` as the client wrote it, so that it matches the answer to its
 * question, and open the value. */
static void open_prop(GString *out, const xmlNode *uri)
{
	g_string_append(out, "<t:ExtendedProperty><t:ExtendedFieldURI");
	for (xmlAttr *a = uri->properties; a; a = a->next) {
		xmlChar *val = xmlNodeGetContent((xmlNode *)a);
		g_string_append_printf(out, " %s=\"", (const char *)a->name);
		ews_escape(out, val ? (const char *)val : "");
		g_string_append_c(out, '"');
		xmlFree(val);
	}
	g_string_append(out, "/><t:Value>");
}

static void close_prop(GString *out)
{
	g_string_append(out, "</t:Value></t:ExtendedProperty>");
}

void ewsd_message_write_ext(struct ewsd_call *call, const char *folder,
			    const struct mfs_item *it, const xmlNode *uri)
{
	GString *out = call->out;
	unsigned tag;
	uint32_t uid;

	if (ewsd_prop_tag(uri, &tag) < 0)
		return;
	switch (tag) {
	case PR_MESSAGE_SIZE:
		open_prop(out, uri);
		g_string_append_printf(out, "%" PRIu64, it->size);
		close_prop(out);
		return;
	case PR_INTERNET_ARTICLE_NUMBER:
		if (ewsd_article_number(call, folder, it->id, &uid) < 0)
			return;
		open_prop(out, uri);
		g_string_append_printf(out, "%" PRIu32, uid);
		close_prop(out);
		return;
	case PR_CLIENT_SUBMIT_TIME:
	case PR_MESSAGE_DELIVERY_TIME:
	case PR_CREATION_TIME:
	case PR_LAST_MODIFICATION_TIME: {
		g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(
			it->date);
		g_autofree char *s = dt ? g_date_time_format(
			dt, "%Y-%m-%dT%H:%M:%SZ") : NULL;
		if (!s)
			return;
		open_prop(out, uri);
		g_string_append(out, s);
		close_prop(out);
		return;
	}
	case PR_URL_COMP_NAME:
		/* the item's name in Exchange's WebDAV namespace */
		open_prop(out, uri);
		ews_escape(out, it->id);
		g_string_append(out, ".EML");
		close_prop(out);
		return;
	case PR_RECORD_KEY:
	case PR_SEARCH_KEY: {
		g_autofree char *iid = ewsd_item_id(folder, it->id);
		open_prop(out, uri);
		g_string_append(out, iid);
		close_prop(out);
		return;
	}
	default:
		ewsd_msgprops_write_ext(out, uri, it->flags);
	}
}
