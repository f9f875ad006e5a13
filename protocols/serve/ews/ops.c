/*
 * ops.c - the dispatch of EWS operations and the answers to what cannot
 * be run.
 *
 * Specs: [MS-OXWSCORE] 3.1.4 (operations and their response messages),
 * [MS-OXWSCDATA] 2.2.4 (ResponseCodeType),
 * SOAP 1.1 section 4.4 (Fault).
 *
 * A request that is not a SOAP envelope is answered with a Fault and
 * ErrorInvalidRequest (HTTP 500, as SOAP 1.1 wants for faults); an
 * operation this server does not know with a Fault and
 * ErrorInvalidOperation.
 */
#include <errno.h>
#include <string.h>

#include "backend.h"
#include "log.h"
#include "pim.h"
#include "ewsd-private.h"

static const struct {
	const char *name;
	int (*run)(struct ewsd_call *call);
} ops[] = {
	{ "GetFolder", ewsd_op_get_folder },
	{ "FindFolder", ewsd_op_find_folder },
	{ "ConvertId", ewsd_op_convert_id },
	{ "FindItem", ewsd_op_find_item },
	{ "GetItem", ewsd_op_get_item },
	{ "SyncFolderItems", ewsd_op_sync_folder_items },
	{ "SyncFolderHierarchy", ewsd_op_sync_folder_hierarchy },
	{ "CreateItem", ewsd_op_create_item },
	{ "UpdateItem", ewsd_op_update_item },
	{ "DeleteItem", ewsd_op_delete_item },
	{ "MoveItem", ewsd_op_move_item },
	{ "CopyItem", ewsd_op_copy_item },
	{ "EmptyFolder", ewsd_op_empty_folder },
	{ "CreateFolder", ewsd_op_create_folder },
	{ "UpdateFolder", ewsd_op_update_folder },
	{ "DeleteFolder", ewsd_op_delete_folder },
	{ "MoveFolder", ewsd_op_move_folder },
	{ "ResolveNames", ewsd_op_resolve_names },
	{ "GetUserConfiguration", ewsd_op_get_user_configuration },
};

void ewsd_error_message(GString *out, const char *op, const char *code,
		       const char *text)
{
	g_string_append_printf(out, "<m:%sResponseMessage ResponseClass="
			       "\"Error\"><m:MessageText>", op);
	ews_escape(out, text);
	g_string_append_printf(out, "</m:MessageText><m:ResponseCode>%s"
			       "</m:ResponseCode><m:DescriptiveLinkKey>0"
			       "</m:DescriptiveLinkKey></m:%sResponseMessage>",
			       code, op);
}

void ewsd_dispatch(const struct serve_ctx *ctx, const char *user,
		   const char *body, size_t len, GString **out_r,
		   unsigned *status_r)
{
	struct ews_request *req = NULL;
	int rc = ews_request_parse(body, len, &req);
	const char *op;

	if (rc < 0) {
		*out_r = ews_fault("Client", "ErrorInvalidRequest",
				   rc == -EPERM ? "Document type declarations "
				   "are not accepted." : rc == -EMSGSIZE ?
				   "The request is too large." :
				   "The request is not a SOAP envelope.");
		*status_r = 500;
		return;
	}
	op = ews_request_op(req);
	log_debug(LOG_PROTO, "ews: %s (version %s)", op,
		  req->version ? req->version : "none");
	for (size_t i = 0; i < G_N_ELEMENTS(ops); i++) {
		if (strcmp(op, ops[i].name) != 0 ||
		    strcmp((const char *)req->op->ns->href, EWS_NS_M) != 0)
			continue;
		struct ewsd_call call = { .ctx = ctx, .user = user,
					  .req = req,
					 .out = ews_response_begin() };
		rc = ops[i].run(&call);
		if (call.folders)
			g_ptr_array_unref(call.folders);
		ewsd_uids_clear(&call);
		if (rc < 0) {
			g_string_free(call.out, TRUE);
			g_autofree char *why = g_strdup_printf(
				"%s failed: %s", op, g_strerror(-rc));
			*out_r = ews_fault("Server", "ErrorInternalServerError",
					   why);
			*status_r = 500;
		} else {
			ews_response_end(call.out);
			*out_r = call.out;
			*status_r = 200;
		}
		ews_request_free(&req);
		return;
	}
	g_autofree char *why = g_strdup_printf("The operation %s is not "
					       "supported.", op);
	*out_r = ews_fault("Client", "ErrorInvalidOperation", why);
	*status_r = 500;
	ews_request_free(&req);
}
