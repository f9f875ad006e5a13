/*
 * create.c - CreateItem of messages given as MIME.
 *
 * Specs: [MS-OXWSCORE] 3.1.4.2 (CreateItem: MessageDisposition,
 * SavedItemFolderId), 2.2.4.x (MimeContentType); [MS-OXWSMSG];
 * [MS-OXPROPS] PidTagMessageFlags; [MS-OXOMSG] 2.2.1.6.
 *
 * The message is stored with exactly the bytes of its MimeContent.  As
 * on Exchange, a message saved with CreateItem is a draft unless the
 * client sets PidTagMessageFlags, which is how importers say "this one
 * was received": MSGFLAG_UNSENT clear makes it no draft, MSGFLAG_READ
 * makes it read, as IsRead true does.  SendOnly and SendAndSaveCopy are
 * send.c's.
 *
 * Only t:Message items are taken here; items of other kinds are answered
 * with ErrorInvalidRequest.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"
#include "msgprops.h"
#include "pim.h"
#include "ewsd-private.h"
#include "serve/spool.h"

static const char B64_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz0123456789+/=";

int ewsd_mime_bytes(const xmlNode *mc, size_t max, guchar **buf_r,
		      gsize *len_r)
{
	xmlChar *text = xmlNodeGetContent(mc);
	GString *clean = g_string_new(NULL);
	int rc = 0;

	for (const xmlChar *p = text; p && *p && rc == 0; p++) {
		if (g_ascii_isspace(*p))
			continue;
		if (!strchr(B64_CHARS, *p))
			rc = -EINVAL;
		g_string_append_c(clean, (char)*p);
	}
	xmlFree(text);
	if (rc == 0 && (clean->len == 0 || clean->len % 4))
		rc = -EINVAL;
	if (rc == 0 && clean->len / 4 * 3 > max + 3)
		rc = -EFBIG;
	if (rc == 0) {
		*buf_r = g_base64_decode(clean->str, len_r);
		if (*len_r == 0 || *len_r > max) {
			g_clear_pointer(buf_r, g_free);
			rc = *len_r ? -EFBIG : -EINVAL;
		}
	}
	g_string_free(clean, TRUE);
	return rc;
}

/* Store one message into `folder`; answers in the response either way. */
static void create_one(struct ewsd_call *call, const char *folder,
		       const xmlNode *msg)
{
	xmlNode *mc = ews_child(msg, EWS_NS_T, "MimeContent");
	g_autofree guchar *bytes = NULL;
	gsize len = 0;
	uint64_t flags = 0;
	bool has_msgflags = false;
	int64_t date = 0;
	struct mfs_item *it = NULL;
	struct mfs_error e = { 0 };
	int fd, rc;

	if (!ews_is(msg, EWS_NS_T, "Message") || !mc) {
		ewsd_error_message(call->out, "CreateItem", "ErrorInvalidRequest",
				  "Only messages given as MimeContent can be "
				  "created here.");
		return;
	}
	rc = ewsd_mime_bytes(mc, call->ctx->max_message, &bytes, &len);
	if (rc < 0) {
		ewsd_error_message(call->out, "CreateItem",
				  rc == -EFBIG ? "ErrorMessageSizeExceeded"
					       : "ErrorMimeContentInvalid",
				  rc == -EFBIG ? "The message is too large."
					       : "MimeContent is not base64.");
		return;
	}
	if (ewsd_msgprops_from_item(msg, &flags, &has_msgflags, &date) < 0) {
		ewsd_error_message(call->out, "CreateItem",
				  "ErrorInvalidValueForProperty",
				  "A property has a value out of range.");
		return;
	}
	if (!has_msgflags)
		flags |= MFS_FLAG_DRAFT;
	fd = serve_spool_open(call->ctx->spool_dir);
	if (fd < 0) {
		ewsd_error_message(call->out, "CreateItem",
				  "ErrorInternalServerError", g_strerror(-fd));
		return;
	}
	rc = file_write_all(fd, bytes, len);
	if (rc == 0 && lseek(fd, 0, SEEK_SET) != 0)
		rc = -errno;
	if (rc == 0)
		rc = mfs_store_append(call->ctx->store, folder, fd, NULL, flags,
				      date, &it, &e);
	close(fd);
	if (rc < 0) {
		ewsd_error_message(call->out, "CreateItem",
				  rc == -ENOSPC ? "ErrorQuotaExceeded"
						: "ErrorInternalServerError",
				  e.msg[0] ? e.msg : g_strerror(-rc));
		return;
	}
	g_autofree char *iid = ewsd_item_id(folder, it->id);
	g_autofree char *ck = ewsd_item_change_key(it);
	g_string_append_printf(call->out, "<m:CreateItemResponseMessage "
			       "ResponseClass=\"Success\"><m:ResponseCode>"
			       "NoError</m:ResponseCode><m:Items><t:Message>"
			       "<t:ItemId Id=\"%s\" ChangeKey=\"%s\"/>"
			       "</t:Message></m:Items>"
			       "</m:CreateItemResponseMessage>", iid, ck);
	mfs_item_free(it);
}

/* Answer every item of the request with the same error. */
static void refuse_all(struct ewsd_call *call, const xmlNode *items,
		       const char *code, const char *text)
{
	bool any = false;

	for (xmlNode *n = ews_first_element(items); n;
	     n = ews_next_element(n)) {
		ewsd_error_message(call->out, "CreateItem", code, text);
		any = true;
	}
	if (!any)
		ewsd_error_message(call->out, "CreateItem", code, text);
}

/* Whether the items go to a contacts or calendar folder (named by
 * `saved`, or by default for a first item of those kinds); if so they are
 * created there, each answered in the response, and true is returned. */
static bool pim_items(struct ewsd_call *call, const xmlNode *saved,
		      const xmlNode *items)
{
	const xmlNode *first = ews_first_element(items);
	const char *folder = NULL;
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;

	if (saved) {
		if (ewsd_folder_resolve(call, ews_first_element(saved), &folder,
				       &kind) < 0 || !ewsd_pim_kind(kind))
			return false;
	} else if (!first || (!ews_is(first, EWS_NS_T, "Contact") &&
			      !ews_is(first, EWS_NS_T, "CalendarItem"))) {
		return false;
	}
	for (xmlNode *n = ews_first_element(items); n; n = ews_next_element(n))
		ewsd_pim_create(call, folder, n);
	return true;
}

int ewsd_op_create_item(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *items = ews_child(op, EWS_NS_M, "Items");
	xmlNode *saved = ews_child(op, EWS_NS_M, "SavedItemFolderId");
	g_autofree char *disp = ews_attr(op, "MessageDisposition");
	const char *folder = NULL;
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;
	int rc;

	g_string_append(call->out, "<m:CreateItemResponse><m:ResponseMessages>");
	if (pim_items(call, saved, items)) {
		/* Contacts and calendar items need no MessageDisposition. */
	} else if (!disp)
		refuse_all(call, items, "ErrorMessageDispositionRequired",
			   "MessageDisposition is required for messages.");
	else if (strcmp(disp, "SaveOnly") != 0 &&
		 strcmp(disp, "SendOnly") != 0 &&
		 strcmp(disp, "SendAndSaveCopy") != 0)
		refuse_all(call, items, "ErrorInvalidRequest",
			   "MessageDisposition is SaveOnly, SendOnly or "
			   "SendAndSaveCopy.");
	else if (strcmp(disp, "SendOnly") == 0)
		ewsd_send_items(call, items, NULL);
	else {
		bool send = strcmp(disp, "SendAndSaveCopy") == 0;

		if (saved)
			rc = ewsd_folder_resolve(call, ews_first_element(saved),
						&folder, &kind);
		else if ((rc = ewsd_folder_distinguished(call, send ?
							"sentitems" : "drafts",
							&folder)) == 0)
			kind = MFS_FOLDER_MAIL;
		if (rc < 0 || kind != MFS_FOLDER_MAIL)
			refuse_all(call, items, "ErrorFolderNotFound",
				   "No mail folder has this id.");
		else if (send)
			ewsd_send_items(call, items, folder);
		else
			for (xmlNode *n = ews_first_element(items); n;
			     n = ews_next_element(n))
				create_one(call, folder, n);
	}
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:CreateItemResponse>");
	return 0;
}
