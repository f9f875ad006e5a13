/*
 * send.c - CreateItem of messages with MessageDisposition SendOnly or
 * SendAndSaveCopy.
 *
 * Specs: [MS-OXWSCORE] 3.1.4.2 (CreateItem, MessageDisposition,
 * SavedItemFolderId), [MS-OXWSCDATA] 2.2.5.24 (ResponseCodeType:
 * ErrorInvalidRecipients); RFC 5322 (the address fields), RFC 6409
 * section 8 (Bcc: is taken out of what recipients get).
 *
 * `mailfs serve` relays nothing, as its SMTP receiver does not: the one
 * mailbox it serves is the only place mail can go.  A message whose
 * recipients (the To:, Cc: and Bcc: of its MimeContent, which is where
 * DavMail and other clients put them) are all the served user's address
 * is delivered into the Inbox, without Bcc:, and with SendAndSaveCopy
 * the message as given is kept, read, in the SavedItemFolderId (Sent
 * Items by default).  Any other recipient fails the whole message with
 * ErrorInvalidRecipients naming it, before anything is stored; a copy
 * that cannot be saved takes the delivered one back, so a message is
 * either sent and saved or not at all.  As on Exchange, a sent message
 * is answered with an empty m:Items.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"
#include "ewsd-private.h"
#include "serve/spool.h"
#include "wire/smtp-envelope.h"

/* Store `len` bytes as a new message of `folder`: *it_r (caller owns).
 * Returns 0 or -errno, the store's words in *e. */
static int store_bytes(struct ewsd_call *call, const char *folder,
		       const void *bytes, size_t len, uint64_t flags,
		       struct mfs_item **it_r, struct mfs_error *e)
{
	int fd = serve_spool_open(call->ctx->spool_dir);
	int rc;

	if (fd < 0)
		return fd;
	rc = file_write_all(fd, bytes, len);
	if (rc == 0 && lseek(fd, 0, SEEK_SET) != 0)
		rc = -errno;
	if (rc == 0)
		rc = mfs_store_append(call->ctx->store, folder, fd, NULL, flags,
				      0, it_r, e);
	close(fd);
	return rc;
}

static void store_error(struct ewsd_call *call, int rc,
			const struct mfs_error *e)
{
	ewsd_error_message(call->out, "CreateItem",
			   rc == -ENOSPC ? "ErrorQuotaExceeded"
					 : "ErrorInternalServerError",
			   e->msg[0] ? e->msg : g_strerror(-rc));
}

/* The first recipient of `env` that is not `own`, or NULL.  Borrowed. */
static const char *foreign_recipient(const struct smtp_envelope *env,
				     const char *own)
{
	for (guint i = 0; i < env->rcpts->len; i++) {
		const char *r = g_ptr_array_index(env->rcpts, i);

		if (g_ascii_strcasecmp(r, own) != 0)
			return r;
	}
	return NULL;
}

/* Deliver the message `bytes` into the Inbox and, with `saved` (a store
 * folder), keep it there too; answers in the response either way. */
static void send_bytes(struct ewsd_call *call, const guchar *bytes,
		       gsize len, const char *saved)
{
	struct smtp_envelope env = { 0 };
	g_autofree char *why = NULL;
	g_autofree char *own = ewsd_mailbox_address(call);
	g_autoptr(GByteArray) inbox_copy = NULL;
	struct mfs_item *delivered = NULL, *kept = NULL;
	struct mfs_error e = { 0 };
	const char *inbox = NULL, *other;
	int rc;

	rc = smtp_envelope_parse((const char *)bytes,
				 MIN(len, (gsize)SMTP_HEADER_MAX + 2),
				 len <= (gsize)SMTP_HEADER_MAX + 2, &env, &why);
	if (rc < 0) {
		ewsd_error_message(call->out, "CreateItem",
				   "ErrorMimeContentInvalid", why);
		smtp_envelope_clear(&env);
		return;
	}
	other = foreign_recipient(&env, own);
	if (other) {
		g_autofree char *text = g_strdup_printf(
			"The recipient %s cannot be reached: this server "
			"delivers only to its own mailbox, %s.", other, own);

		log_info("ews: CreateItem: not sent: %s is not %s's "
			 "address", other, call->user);
		ewsd_error_message(call->out, "CreateItem",
				   "ErrorInvalidRecipients", text);
		smtp_envelope_clear(&env);
		return;
	}
	if (ewsd_folder_distinguished(call, "inbox", &inbox) < 0) {
		ewsd_error_message(call->out, "CreateItem",
				   "ErrorFolderNotFound", "The store has no "
				   "Inbox to deliver the message to.");
		smtp_envelope_clear(&env);
		return;
	}
	inbox_copy = g_byte_array_new();
	g_byte_array_append(inbox_copy, env.head->data, env.head->len);
	g_byte_array_append(inbox_copy, bytes + env.body_at,
			    len - (gsize)env.body_at);
	smtp_envelope_clear(&env);
	rc = store_bytes(call, inbox, inbox_copy->data, inbox_copy->len, 0,
			 &delivered, &e);
	if (rc < 0) {
		store_error(call, rc, &e);
		return;
	}
	if (saved) {
		rc = store_bytes(call, saved, bytes, len, MFS_FLAG_SEEN, &kept,
				 &e);
		if (rc < 0) {
			/* not sent unless saved as asked */
			mfs_store_remove(call->ctx->store, inbox, delivered->id,
					 NULL);
			mfs_item_free(delivered);
			store_error(call, rc, &e);
			return;
		}
		mfs_item_free(kept);
	}
	mfs_item_free(delivered);
	ewsd_uids_clear(call);
	g_string_append(call->out, "<m:CreateItemResponseMessage "
			"ResponseClass=\"Success\"><m:ResponseCode>NoError"
			"</m:ResponseCode><m:Items/>"
			"</m:CreateItemResponseMessage>");
}

void ewsd_send_items(struct ewsd_call *call, const xmlNode *items,
		     const char *saved)
{
	for (xmlNode *n = ews_first_element(items); n;
	     n = ews_next_element(n)) {
		xmlNode *mc = ews_child(n, EWS_NS_T, "MimeContent");
		g_autofree guchar *bytes = NULL;
		gsize len = 0;
		int rc;

		if (!ews_is(n, EWS_NS_T, "Message") || !mc) {
			ewsd_error_message(call->out, "CreateItem",
					   "ErrorInvalidRequest",
					   "Only messages given as MimeContent "
					   "can be sent here.");
			continue;
		}
		rc = ewsd_mime_bytes(mc, call->ctx->max_message, &bytes, &len);
		if (rc < 0) {
			ewsd_error_message(call->out, "CreateItem",
					   rc == -EFBIG
					   ? "ErrorMessageSizeExceeded"
					   : "ErrorMimeContentInvalid",
					   rc == -EFBIG
					   ? "The message is too large."
					   : "MimeContent is not base64.");
			continue;
		}
		send_bytes(call, bytes, len, saved);
	}
}
