/*
 * server-pim-ops.c - CreateItem, UpdateItem and DeleteItem for the items
 * of contacts and calendar folders (server-pim.h).  Messages are not
 * created, changed or deleted by these: they answer
 * ErrorInvalidOperation for them.  Where mail item operations exist,
 * they call the ews_pim_* functions for ids and folders of these kinds
 * and take the place of this file.
 *
 * Specs: [MS-OXWSCORE] 3.1.4.2 (CreateItem: SavedItemFolderId, Items),
 * 3.1.4.3 (DeleteItem: ItemIds), 3.1.4.9 (UpdateItem: ItemChanges).
 */
#include <string.h>

#include "server-pim.h"

int ews_op_create_item(struct ews_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *saved = ews_child(op, EWS_NS_M, "SavedItemFolderId");
	xmlNode *items = ews_child(op, EWS_NS_M, "Items");
	xmlNode *ref = ews_first_element(saved);
	const char *folder = NULL;
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;
	bool bad_folder = ref && ews_folder_resolve(call, ref, &folder,
						    &kind) < 0;

	g_string_append(call->out, "<m:CreateItemResponse><m:ResponseMessages>");
	for (xmlNode *it = ews_first_element(items); it;
	     it = ews_next_element(it)) {
		if (bad_folder)
			ews_error_message(call->out, "CreateItem",
					  "ErrorFolderNotFound",
					  "The specified folder could not be "
					  "found in the store.");
		else
			ews_pim_create(call, folder, it);
	}
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:CreateItemResponse>");
	return 0;
}

int ews_op_update_item(struct ews_call *call)
{
	xmlNode *changes = ews_child(call->req->op, EWS_NS_M, "ItemChanges");

	g_string_append(call->out, "<m:UpdateItemResponse><m:ResponseMessages>");
	for (xmlNode *c = ews_first_element(changes); c;
	     c = ews_next_element(c)) {
		xmlNode *ref = ews_child(c, EWS_NS_T, "ItemId");
		g_autofree char *id = ref ? ews_attr(ref, "Id") : NULL;
		if (ews_is(c, EWS_NS_T, "ItemChange") && ews_pim_is_id(id))
			ews_pim_update(call, c);
		else
			ews_error_message(call->out, "UpdateItem",
					  "ErrorInvalidOperation",
					  "Only contacts can be changed "
					  "here.");
	}
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:UpdateItemResponse>");
	return 0;
}

int ews_op_delete_item(struct ews_call *call)
{
	xmlNode *ids = ews_child(call->req->op, EWS_NS_M, "ItemIds");

	g_string_append(call->out, "<m:DeleteItemResponse><m:ResponseMessages>");
	for (xmlNode *r = ews_first_element(ids); r; r = ews_next_element(r)) {
		g_autofree char *id = ews_attr(r, "Id");
		if (ews_pim_is_id(id))
			ews_pim_delete(call, r);
		else
			ews_error_message(call->out, "DeleteItem",
					  "ErrorInvalidOperation",
					  "Only contacts and calendar items "
					  "can be deleted here.");
	}
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:DeleteItemResponse>");
	return 0;
}
