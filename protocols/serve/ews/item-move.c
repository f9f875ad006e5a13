/*
 * item-move.c - DeleteItem, MoveItem and CopyItem on messages.
 *
 * Specs: [MS-OXWSCORE] 3.1.4.3 (DeleteItem: DeleteType), 3.1.4.7
 * (MoveItem), 3.1.4.1 (CopyItem); [MS-OXWSCDATA] ReturnNewItemIds;
 * [MS-OXWSFOLD] 2.2.4.x (DistinguishedFolderIdNameType deleteditems).
 *
 * HardDelete removes the message for good.  SoftDelete and
 * MoveToDeletedItems move it into the folder that deleteditems names
 * (the store's Trash, made when there is none); a message already there
 * is removed for good, as it would leave Exchange's Deleted Items for
 * the recoverable items no client of this server can reach.  A message
 * moved into its own folder stays as it is.  New ItemIds are returned
 * unless ReturnNewItemIds is false.
 */
#include <errno.h>
#include <string.h>

#include "lookup.h"
#include "pim.h"
#include "ewsd-private.h"

#define TRASH_NAME "Trash"

static bool text_false(const xmlNode *n)
{
	xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
	bool no = v && (!strcmp((const char *)v, "false") ||
			!strcmp((const char *)v, "0"));

	xmlFree(v);
	return no;
}

static void not_found(struct ewsd_call *call, const char *op, int rc)
{
	ewsd_error_message(call->out, op, ewsd_lookup_error_code(rc),
			  rc == -EINVAL ? "Id is malformed."
			  : rc == -ENOENT ? "The specified object was not "
					    "found in the store."
			  : g_strerror(-rc));
}

static void success_empty(struct ewsd_call *call, const char *op)
{
	g_string_append_printf(call->out, "<m:%sResponseMessage ResponseClass="
			       "\"Success\"><m:ResponseCode>NoError"
			       "</m:ResponseCode></m:%sResponseMessage>", op,
			       op);
}

static void success_item(struct ewsd_call *call, const char *op,
			 const char *folder, const struct mfs_item *it)
{
	g_autofree char *iid = it ? ewsd_item_id(folder, it->id) : NULL;
	g_autofree char *ck = it ? ewsd_item_change_key(it) : NULL;

	g_string_append_printf(call->out, "<m:%sResponseMessage ResponseClass="
			       "\"Success\"><m:ResponseCode>NoError"
			       "</m:ResponseCode>", op);
	if (it)
		g_string_append_printf(call->out, "<m:Items><t:Message>"
				       "<t:ItemId Id=\"%s\" ChangeKey=\"%s\"/>"
				       "</t:Message></m:Items>", iid, ck);
	else
		g_string_append(call->out, "<m:Items/>");
	g_string_append_printf(call->out, "</m:%sResponseMessage>", op);
}

/* The Deleted Items folder, made when the store has none.  *path_r
 * borrowed from call->folders.  Returns 0 or -errno. */
static int trash_folder(struct ewsd_call *call, const char **path_r)
{
	int rc = ewsd_folder_distinguished(call, "deleteditems", path_r);

	if (rc != -ENOENT)
		return rc;
	rc = mfs_store_create_folder(call->ctx->store, TRASH_NAME,
				     MFS_FOLDER_MAIL, NULL);
	if (rc < 0 && rc != -EEXIST)
		return rc;
	/* the folder list changed: read it again */
	g_clear_pointer(&call->folders, g_ptr_array_unref);
	return ewsd_folder_distinguished(call, "deleteditems", path_r);
}

/* Move or copy one message into `dest`; *out_r (caller owns) is the
 * message as `dest` holds it.  Returns 0 or -errno. */
static int transfer(struct ewsd_call *call, struct ewsd_lookup *lk,
		    const char *folder, struct mfs_item *it, const char *dest,
		    bool move, struct mfs_item **out_r)
{
	uint64_t flags = it->flags & ~MFS_FLAG_NEW;
	g_autofree char *id = g_strdup(it->id);
	int rc;

	if (move && !strcmp(folder, dest)) {
		*out_r = mfs_item_dup(it);
		return 0;
	}
	rc = move ? mfs_store_move(call->ctx->store, folder, id, dest, flags,
				   out_r, NULL)
		  : mfs_store_copy(call->ctx->store, folder, id, dest, flags,
				   out_r, NULL);
	if (rc == 0) {
		if (move)
			ewsd_lookup_drop(lk, folder, id);
		/* the destination's list is stale now */
		g_hash_table_remove(lk->folders, dest);
	}
	return rc;
}

int ewsd_op_delete_item(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *ids = ews_child(op, EWS_NS_M, "ItemIds");
	g_autofree char *type = ews_attr(op, "DeleteType");
	bool hard = type && !strcmp(type, "HardDelete");
	bool known = hard || (type && (!strcmp(type, "SoftDelete") ||
				       !strcmp(type, "MoveToDeletedItems")));
	struct ewsd_lookup lk;

	ewsd_lookup_init(&lk);
	g_string_append(call->out, "<m:DeleteItemResponse><m:ResponseMessages>");
	for (xmlNode *r = ews_first_element(ids); r; r = ews_next_element(r)) {
		const char *folder = NULL, *trash = NULL;
		struct mfs_item *it = NULL, *moved = NULL;
		g_autofree char *b64 = ews_attr(r, "Id");
		int rc;

		if (ewsd_pim_is_id(b64)) {
			ewsd_pim_delete(call, r);
			continue;
		}
		if (!known) {
			ewsd_error_message(call->out, "DeleteItem",
					  "ErrorInvalidRequest",
					  "DeleteType must be HardDelete, "
					  "SoftDelete or MoveToDeletedItems.");
			continue;
		}
		rc = ewsd_lookup_item(call, &lk, r, &folder, &it);
		if (rc == 0 && !hard)
			rc = trash_folder(call, &trash);
		if (rc == 0 && (hard || !strcmp(trash, folder))) {
			g_autofree char *id = g_strdup(it->id);
			rc = mfs_store_remove(call->ctx->store, folder, id,
					      NULL);
			if (rc == 0)
				ewsd_lookup_drop(&lk, folder, id);
		} else if (rc == 0) {
			rc = transfer(call, &lk, folder, it, trash, true,
				      &moved);
			mfs_item_free(moved);
		}
		if (rc < 0)
			not_found(call, "DeleteItem", rc);
		else
			success_empty(call, "DeleteItem");
	}
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:DeleteItemResponse>");
	ewsd_lookup_clear(&lk);
	return 0;
}

static int move_or_copy(struct ewsd_call *call, const char *op, bool move)
{
	const xmlNode *req = call->req->op;
	xmlNode *to = ews_child(req, EWS_NS_M, "ToFolderId");
	xmlNode *ids = ews_child(req, EWS_NS_M, "ItemIds");
	bool return_ids = !text_false(ews_child(req, EWS_NS_M,
						"ReturnNewItemIds"));
	const char *dest = NULL;
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;
	struct ewsd_lookup lk;
	int drc = to ? ewsd_folder_resolve(call, ews_first_element(to), &dest,
					  &kind) : -ENOENT;

	ewsd_lookup_init(&lk);
	g_string_append_printf(call->out, "<m:%sResponse><m:ResponseMessages>",
			       op);
	for (xmlNode *r = ews_first_element(ids); r; r = ews_next_element(r)) {
		const char *folder = NULL;
		struct mfs_item *it = NULL, *done = NULL;
		int rc;

		if (drc < 0 || kind != MFS_FOLDER_MAIL) {
			ewsd_error_message(call->out, op, "ErrorFolderNotFound",
					  "No mail folder has this id.");
			continue;
		}
		rc = ewsd_lookup_item(call, &lk, r, &folder, &it);
		if (rc == 0)
			rc = transfer(call, &lk, folder, it, dest, move, &done);
		if (rc < 0) {
			not_found(call, op, rc);
			continue;
		}
		success_item(call, op, dest, return_ids ? done : NULL);
		mfs_item_free(done);
	}
	g_string_append_printf(call->out, "</m:ResponseMessages></m:%sResponse>",
			       op);
	ewsd_lookup_clear(&lk);
	return 0;
}

int ewsd_op_move_item(struct ewsd_call *call)
{
	return move_or_copy(call, "MoveItem", true);
}

int ewsd_op_copy_item(struct ewsd_call *call)
{
	return move_or_copy(call, "CopyItem", false);
}
