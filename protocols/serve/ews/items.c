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

#include "msgprops.h"
#include "pim.h"
#include "ewsd-private.h"

/* A t:Message of FindItem: properties only, never MimeContent. */
static void write_message(struct ewsd_call *call, const char *folder,
			  const struct mfs_item *it, void *data)
{
	(void)data;
	ewsd_message_write(call, folder, it, false);
}

/* The order of m:SortOrder's first t:FieldOrder: by arrival (all of a
 * message's dates are its arrival), size or article number (UID), newest
 * or highest first unless Ascending; without one, newest first. */
enum sort_key { BY_DATE, BY_SIZE, BY_UID };

struct sort {
	struct ewsd_call *call;
	const char *folder;
	enum sort_key key;
	bool ascending;
};

static const struct {
	const char *uri;
	unsigned tag;
	enum sort_key key;
} sort_fields[] = {
	{ "item:DateTimeReceived", 0, BY_DATE },
	{ "item:DateTimeSent", 0, BY_DATE },
	{ "item:DateTimeCreated", 0, BY_DATE },
	{ "item:LastModifiedTime", 0, BY_DATE },
	{ "item:Size", 0, BY_SIZE },
	{ NULL, 0x0039, BY_DATE },
	{ NULL, 0x0E06, BY_DATE },
	{ NULL, 0x3007, BY_DATE },
	{ NULL, 0x3008, BY_DATE },
	{ NULL, 0x0E08, BY_SIZE },
	{ NULL, 0x0E23, BY_UID },
};

static void sort_parse(const xmlNode *sort_order, struct sort *s)
{
	xmlNode *fo = ews_child(sort_order, EWS_NS_T, "FieldOrder");
	xmlNode *path = ews_first_element(fo);
	g_autofree char *order = fo ? ews_attr(fo, "Order") : NULL;
	g_autofree char *uri = NULL;
	unsigned tag = 0;

	s->key = BY_DATE;
	s->ascending = false;
	if (!path)
		return;
	if (ews_is(path, EWS_NS_T, "FieldURI"))
		uri = ews_attr(path, "FieldURI");
	else if (!ews_is(path, EWS_NS_T, "ExtendedFieldURI") ||
		 ewsd_prop_tag(path, &tag) < 0)
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(sort_fields); i++)
		if (uri ? sort_fields[i].uri && !strcmp(uri, sort_fields[i].uri)
			: sort_fields[i].tag == tag) {
			s->key = sort_fields[i].key;
			s->ascending = order && !strcmp(order, "Ascending");
			return;
		}
}

static gint sorted(gconstpointer a, gconstpointer b, gpointer data)
{
	const struct mfs_item *x = *(const struct mfs_item *const *)a;
	const struct mfs_item *y = *(const struct mfs_item *const *)b;
	struct sort *s = data;
	uint64_t vx = 0, vy = 0;
	uint32_t ux = 0, uy = 0;
	int c = 0;

	switch (s->key) {
	case BY_DATE:
		c = x->date < y->date ? -1 : x->date > y->date;
		break;
	case BY_SIZE:
		c = x->size < y->size ? -1 : x->size > y->size;
		break;
	case BY_UID:
		/* a message without a number (gone meanwhile) sorts first */
		ewsd_article_number(s->call, s->folder, x->id, &ux);
		ewsd_article_number(s->call, s->folder, y->id, &uy);
		vx = ux;
		vy = uy;
		c = vx < vy ? -1 : vx > vy;
		break;
	}
	if (!s->ascending)
		c = -c;
	return c ? c : strcmp(x->id, y->id);
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
		    const xmlNode *view, const struct ewsd_restrict *r,
		    GCompareDataFunc order, void *order_data,
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
	if (r) {
		/* those that do not match leave the view before paging */
		GPtrArray *kept = g_ptr_array_new_with_free_func(
			(GDestroyNotify)mfs_item_free);
		for (guint i = 0; i < res->changed->len; i++) {
			struct mfs_item *it = res->changed->pdata[i];
			if (ewsd_restrict_message(r, call, folder, it)) {
				g_ptr_array_add(kept, it);
				res->changed->pdata[i] = NULL;
			}
		}
		g_ptr_array_unref(res->changed);
		res->changed = kept;
	}
	g_ptr_array_sort_with_data(res->changed, order, order_data);
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
	struct sort sort = { .call = call };

	xmlNode *restriction = ews_child(op, EWS_NS_M, "Restriction");
	struct ewsd_restrict *filter = NULL;
	int parsed = restriction ? ewsd_restrict_parse(restriction, false,
						       &filter) : 0;

	g_string_append(call->out, "<m:FindItemResponse><m:ResponseMessages>");
	for (xmlNode *r = ews_first_element(parents); r;
	     r = ews_next_element(r)) {
		const char *path = NULL;
		enum mfs_folder_kind kind = MFS_FOLDER_NONE;
		int rc = ewsd_folder_resolve(call, r, &path, &kind);
		struct ewsd_restrict *pim_filter = NULL;
		int pim_parsed = 0;

		if (rc == 0 && restriction && kind == MFS_FOLDER_CONTACTS)
			pim_parsed = ewsd_restrict_parse_contacts(restriction,
								  &pim_filter);
		else if (rc == 0 && restriction &&
			 kind == MFS_FOLDER_CALENDAR)
			pim_parsed = ewsd_restrict_parse_events(restriction,
								&pim_filter);
		else if (rc == 0)
			pim_parsed = parsed;
		if (rc == 0 && pim_parsed < 0) {
			ewsd_restrict_error(call->out, "FindItem", pim_parsed);
			continue;
		}
		if (rc == 0 && ewsd_pim_kind(kind)) {
			ewsd_pim_find(call, path, kind, view, pim_filter);
			ewsd_restrict_free(pim_filter);
			continue;
		}
		if (rc < 0 || kind != MFS_FOLDER_MAIL) {
			ewsd_error_message(call->out, "FindItem",
					  "ErrorFolderNotFound",
					  "No mail folder has this id.");
			continue;
		}
		sort_parse(ews_child(op, EWS_NS_M, "SortOrder"), &sort);
		sort.folder = path;
		ewsd_find_items(call, path, view, filter, sorted, &sort,
				write_message, NULL);
	}
	ewsd_restrict_free(filter);
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
