/*
 * update.c - UpdateItem on messages: the properties that are
 * Maildir flags.
 *
 * Specs: [MS-OXWSCORE] 3.1.4.9 (UpdateItem: ConflictResolution,
 * MessageDisposition, ItemChange, SetItemField, AppendToItemField,
 * DeleteItemField, ConflictResults); msgprops.h for the mapping of
 * properties onto flags.
 *
 * A stored message's bytes are never rewritten, so a change to any other
 * property (the subject, the body...) is refused with
 * ErrorInvalidPropertySet and leaves the message as it was: the changes
 * of one ItemChange are applied all or none.  ConflictResolution
 * NeverOverwrite with a ChangeKey that is not the item's current one is
 * ErrorIrresolvableConflict; AutoResolve and AlwaysOverwrite apply the
 * changes to the current flags (flags hold nothing to merge).
 */
#include <errno.h>
#include <string.h>

#include "lookup.h"
#include "msgprops.h"
#include "pim.h"
#include "ewsd-private.h"

static void update_one(struct ewsd_call *call, struct ewsd_lookup *lk,
		       const xmlNode *change, bool never_overwrite)
{
	xmlNode *ref = ews_child(change, EWS_NS_T, "ItemId");
	xmlNode *updates = ews_child(change, EWS_NS_T, "Updates");
	const char *folder = NULL;
	struct mfs_item *it = NULL;
	struct mfs_error e = { 0 };
	uint64_t flags;
	int rc = ref ? ewsd_lookup_item(call, lk, ref, &folder, &it) : -EINVAL;

	if (rc < 0) {
		ewsd_error_message(call->out, "UpdateItem",
				  ewsd_lookup_error_code(rc),
				  rc == -EINVAL ? "Id is malformed."
				  : "The specified object was not found in "
				    "the store.");
		return;
	}
	g_autofree char *ck = ewsd_item_change_key(it);
	g_autofree char *asked = ews_attr(ref, "ChangeKey");
	if (never_overwrite && asked && strcmp(asked, ck) != 0) {
		ewsd_error_message(call->out, "UpdateItem",
				  "ErrorIrresolvableConflict",
				  "The item was changed since the client "
				  "read it.");
		return;
	}
	flags = it->flags;
	for (xmlNode *u = ews_first_element(updates); u;
	     u = ews_next_element(u)) {
		rc = ewsd_msgprops_apply_change(u, &flags);
		if (rc == 0)
			continue;
		bool del = ews_is(u, EWS_NS_T, "DeleteItemField");
		ewsd_error_message(call->out, "UpdateItem",
				  rc == -EINVAL ? "ErrorInvalidValueForProperty"
				  : del ? "ErrorInvalidPropertyDelete"
					: "ErrorInvalidPropertySet",
				  rc == -EINVAL ? "A change is malformed or "
				  "its value out of range." : "Only the read "
				  "state, the flag and the reply, forward and "
				  "draft marks of a message can be changed.");
		return;
	}
	/* a client that changed a message has seen it */
	flags &= ~MFS_FLAG_NEW;
	if (flags != it->flags) {
		rc = mfs_store_set_flags(call->ctx->store, folder, it->id, flags,
					 &e);
		if (rc < 0) {
			ewsd_error_message(call->out, "UpdateItem",
					  rc == -ENOENT ? "ErrorItemNotFound"
					  : "ErrorInternalServerError",
					  e.msg[0] ? e.msg : g_strerror(-rc));
			return;
		}
		it->flags = flags;
	}
	g_autofree char *iid = ewsd_item_id(folder, it->id);
	g_autofree char *nck = ewsd_item_change_key(it);
	g_string_append_printf(call->out, "<m:UpdateItemResponseMessage "
			       "ResponseClass=\"Success\"><m:ResponseCode>"
			       "NoError</m:ResponseCode><m:Items><t:Message>"
			       "<t:ItemId Id=\"%s\" ChangeKey=\"%s\"/>"
			       "</t:Message></m:Items><m:ConflictResults>"
			       "<t:Count>0</t:Count></m:ConflictResults>"
			       "</m:UpdateItemResponseMessage>", iid, nck);
}

int ewsd_op_update_item(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *changes = ews_child(op, EWS_NS_M, "ItemChanges");
	g_autofree char *conflict = ews_attr(op, "ConflictResolution");
	g_autofree char *disp = ews_attr(op, "MessageDisposition");
	bool send = disp && strcmp(disp, "SaveOnly") != 0;
	struct ewsd_lookup lk;

	ewsd_lookup_init(&lk);
	g_string_append(call->out, "<m:UpdateItemResponse><m:ResponseMessages>");
	for (xmlNode *c = ews_first_element(changes); c;
	     c = ews_next_element(c)) {
		xmlNode *ref = ews_child(c, EWS_NS_T, "ItemId");
		g_autofree char *id = ref ? ews_attr(ref, "Id") : NULL;

		if (ews_is(c, EWS_NS_T, "ItemChange") && ewsd_pim_is_id(id))
			ewsd_pim_update(call, c);
		else if (send)
			ewsd_error_message(call->out, "UpdateItem",
					  "ErrorInvalidOperation",
					  "This server does not send mail.");
		else if (!ews_is(c, EWS_NS_T, "ItemChange"))
			ewsd_error_message(call->out, "UpdateItem",
					  "ErrorInvalidRequest",
					  "Only ItemChange is taken.");
		else
			update_one(call, &lk, c, conflict &&
				   !strcmp(conflict, "NeverOverwrite"));
	}
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:UpdateItemResponse>");
	ewsd_lookup_clear(&lk);
	return 0;
}
