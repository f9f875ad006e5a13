/*
 * items.c - messages as EWS items: FindItem and GetItem.
 *
 * Specs: [MS-OXWSSRCH] 3.1.4.4 (FindItem), [MS-OXWSCORE] 3.1.4.4
 * (GetItem) and 2.2.4.x (ItemIdType, MimeContentType); [MS-OXWSMSG] for
 * the message fields; RFC 2047 for encoded subjects.
 *
 * Item ids are made in itemid.c and messages written in
 * message.c.  MimeContent is the base64 of the message's bytes
 * exactly as stored.
 */
#include <errno.h>
#include <string.h>

#include "pim.h"
#include "ewsd-private.h"

/* A t:Message of FindItem: properties only, never MimeContent. */
static void write_message(struct ewsd_call *call, const char *folder,
			  const struct mfs_item *it, void *data)
{
	(void)data;
	ewsd_message_write(call, folder, it, false);
}

static gint newest_first(gconstpointer a, gconstpointer b)
{
	const struct mfs_item *x = *(const struct mfs_item *const *)a;
	const struct mfs_item *y = *(const struct mfs_item *const *)b;

	if (x->date != y->date)
		return x->date > y->date ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* A paging attribute; `fallback` when absent or not a number, as FindItem
 * has always been lenient about its view. */
static guint64 uint_attr(const xmlNode *node, const char *name,
			 guint64 fallback)
{
	g_autofree char *v = node ? ews_attr(node, name) : NULL;
	guint64 n = fallback;

	if (v && !g_ascii_string_to_unsigned(v, 10, 0, G_MAXINT32, &n, NULL))
		n = fallback;
	return n;
}

void ewsd_find_items(struct ewsd_call *call, const char *folder,
		    const xmlNode *view, GCompareFunc order,
		    ewsd_find_write_fn write, void *data)
{
	struct mfs_sync_result *res = NULL;
	guint64 max = uint_attr(view, "MaxEntriesReturned", G_MAXINT32);
	guint64 offset = uint_attr(view, "Offset", 0), start, count;
	int rc = mfs_store_sync(call->ctx->store, folder, NULL, &res, NULL);

	if (rc < 0) {
		ewsd_error_message(call->out, "FindItem", "ErrorFolderNotFound",
				  g_strerror(-rc));
		return;
	}
	g_ptr_array_sort(res->changed, order);
	start = MIN(offset, res->changed->len);
	count = MIN(max, res->changed->len - start);
	g_string_append_printf(call->out, "<m:FindItemResponseMessage "
		"ResponseClass=\"Success\"><m:ResponseCode>NoError"
		"</m:ResponseCode><m:RootFolder IndexedPagingOffset=\"%"
		G_GUINT64_FORMAT "\" TotalItemsInView=\"%u\" "
		"IncludesLastItemInRange=\"%s\"><t:Items>", start + count,
		res->changed->len,
		start + count >= res->changed->len ? "true" : "false");
	for (guint64 i = start; i < start + count; i++)
		write(call, folder, res->changed->pdata[i], data);
	g_string_append(call->out, "</t:Items></m:RootFolder>"
			"</m:FindItemResponseMessage>");
	mfs_sync_result_free(&res);
}

int ewsd_op_find_item(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *parents = ews_child(op, EWS_NS_M, "ParentFolderIds");
	xmlNode *view = ews_child(op, EWS_NS_M, "IndexedPageItemView");

	g_string_append(call->out, "<m:FindItemResponse><m:ResponseMessages>");
	for (xmlNode *r = ews_first_element(parents); r;
	     r = ews_next_element(r)) {
		const char *path = NULL;
		enum mfs_folder_kind kind = MFS_FOLDER_NONE;
		int rc = ewsd_folder_resolve(call, r, &path, &kind);
		if (rc == 0 && ewsd_pim_kind(kind)) {
			ewsd_pim_find(call, path, kind, view);
			continue;
		}
		if (rc < 0 || kind != MFS_FOLDER_MAIL) {
			ewsd_error_message(call->out, "FindItem",
					  "ErrorFolderNotFound",
					  "No mail folder has this id.");
			continue;
		}
		ewsd_find_items(call, path, view, newest_first, write_message,
			       NULL);
	}
	g_string_append(call->out, "</m:ResponseMessages></m:FindItemResponse>");
	return 0;
}

bool ewsd_shape_wants_mime(const xmlNode *shape)
{
	xmlNode *inc = ews_child(shape, EWS_NS_T, "IncludeMimeContent");
	xmlNode *props = ews_child(shape, EWS_NS_T, "AdditionalProperties");

	if (inc) {
		xmlChar *v = xmlNodeGetContent(inc);
		bool yes = v && (strcmp((const char *)v, "true") == 0 ||
				 strcmp((const char *)v, "1") == 0);
		xmlFree(v);
		if (yes)
			return true;
	}
	for (xmlNode *p = ews_first_element(props); p;
	     p = ews_next_element(p)) {
		g_autofree char *uri = ews_attr(p, "FieldURI");
		if (uri && strcmp(uri, "item:MimeContent") == 0)
			return true;
	}
	return false;
}

struct mfs_item *ewsd_store_item(struct ewsd_call *call, const char *folder,
				const char *id)
{
	struct mfs_sync_result *res = NULL;
	struct mfs_item *found = NULL;

	if (mfs_store_sync(call->ctx->store, folder, NULL, &res, NULL) < 0)
		return NULL;
	for (guint i = 0; i < res->changed->len && !found; i++) {
		const struct mfs_item *it = res->changed->pdata[i];
		if (strcmp(it->id, id) == 0)
			found = mfs_item_dup(it);
	}
	mfs_sync_result_free(&res);
	return found;
}

int ewsd_op_get_item(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *ids = ews_child(op, EWS_NS_M, "ItemIds");
	bool mime = ewsd_shape_wants_mime(ews_child(op, EWS_NS_M, "ItemShape"));

	g_string_append(call->out, "<m:GetItemResponse><m:ResponseMessages>");
	for (xmlNode *r = ews_first_element(ids); r; r = ews_next_element(r)) {
		g_autofree char *b64 = ews_attr(r, "Id");
		g_autofree char *id = NULL, *folder = NULL;
		struct mfs_item *it = NULL;

		if (ewsd_pim_is_id(b64)) {
			ewsd_pim_get(call, r, ews_child(op, EWS_NS_M,
						       "ItemShape"));
			continue;
		}
		if (!ews_is(r, EWS_NS_T, "ItemId") ||
		    ewsd_item_id_parse(b64, &id, &folder) < 0) {
			ewsd_error_message(call->out, "GetItem",
					  "ErrorInvalidIdMalformed",
					  "Id is malformed.");
			continue;
		}
		/* the folder comes from the client: only the store's own
		   folders are looked at */
		if (ewsd_folder_known(call, folder))
			it = ewsd_store_item(call, folder, id);
		if (!it) {
			ewsd_error_message(call->out, "GetItem",
					  "ErrorItemNotFound",
					  "The specified object was not "
					  "found in the store.");
			continue;
		}
		g_string_append(call->out, "<m:GetItemResponseMessage "
				"ResponseClass=\"Success\"><m:ResponseCode>"
				"NoError</m:ResponseCode><m:Items>");
		ewsd_message_write(call, folder, it, mime);
		g_string_append(call->out, "</m:Items>"
				"</m:GetItemResponseMessage>");
		mfs_item_free(it);
	}
	g_string_append(call->out, "</m:ResponseMessages></m:GetItemResponse>");
	return 0;
}
