/*
 * contacts.c - the .vcf files of contacts folders as EWS contacts:
 * writing a t:Contact, and creating and changing the file behind one.
 *
 * Specs: [MS-OXWSCONT] 2.2.4.3 (ContactItemType), 3.1.4.x (the item
 * operations on contacts); [MS-OXWSCORE] 2.2.4.x (ItemType element
 * order, MimeContentType).  The mapping itself is contact.h's.
 *
 * A change made over EWS is merged into the file, so that the lines EWS
 * cannot show (PHOTO, X-*, CATEGORIES, ...) stay as they were.
 */
#include <errno.h>
#include <string.h>

#include "wire/ews-contact.h"
#include "pim.h"

static void write_date(GString *out, const char *elem, int64_t t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	g_autofree char *s = dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ")
				: NULL;

	if (s)
		g_string_append_printf(out, "<t:%s>%s</t:%s>", elem, s, elem);
}

void ewsd_contact_item_write(struct ewsd_call *call, const char *folder,
			    const struct mfs_item *it, const GString *buf,
			    bool mime)
{
	g_autofree char *iid = ewsd_pim_item_id(folder, it->id);
	g_autofree char *ck = ewsd_pim_change_key(it);
	g_autofree char *fid = ewsd_folder_id(folder);
	struct ews_contact *c = NULL;
	GString *out = call->out;

	if (buf)
		ews_contact_from_vcard(buf->str, buf->len, &c);
	g_string_append(out, "<t:Contact>");
	if (buf && mime) {
		g_autofree char *b64 = g_base64_encode(
			(const guchar *)buf->str, buf->len);
		g_string_append_printf(out, "<t:MimeContent CharacterSet="
				       "\"UTF-8\">%s</t:MimeContent>", b64);
	}
	g_string_append_printf(out, "<t:ItemId Id=\"%s\" ChangeKey=\"%s\"/>"
			       "<t:ParentFolderId Id=\"%s\" ChangeKey="
			       "\"AQAAABYAAAA=\"/><t:ItemClass>IPM.Contact"
			       "</t:ItemClass><t:Subject>", iid, ck, fid);
	/* a file that is not a card still shows, under its name */
	ews_escape(out, c && c->field[EWS_CF_DISPLAY_NAME] &&
		   *c->field[EWS_CF_DISPLAY_NAME]
		   ? c->field[EWS_CF_DISPLAY_NAME] : it->id);
	g_string_append(out, "</t:Subject>");
	if (c)
		ews_contact_write_body(c, out);
	write_date(out, "DateTimeReceived", it->date);
	g_string_append_printf(out, "<t:Size>%" PRIu64 "</t:Size>", it->size);
	/* DavMail's LDAP gateway reads a contact's cn in 0x3001 and keeps
	   contacts by 0x0E23 (it drops a contact without one) */
	ewsd_pim_write_ext(call, folder, it, c && c->field[EWS_CF_DISPLAY_NAME]
			   && *c->field[EWS_CF_DISPLAY_NAME]
			   ? c->field[EWS_CF_DISPLAY_NAME] : it->id, -1);
	write_date(out, "LastModifiedTime", it->date);
	if (c) {
		ews_contact_write_fields(c, out);
	} else {
		g_string_append(out, "<t:DisplayName>");
		ews_escape(out, it->id);
		g_string_append(out, "</t:DisplayName>");
	}
	g_string_append(out, "</t:Contact>");
	ews_contact_free(&c);
}

/* The card a CreateItem brings: its MimeContent when it has one (kept
 * byte for byte), else a card made from its fields.  Caller owns *card_r.
 * Returns 0 or -errno. */
static int card_of(const xmlNode *item, char **card_r, size_t *len_r)
{
	xmlNode *mime = ews_child(item, EWS_NS_T, "MimeContent");
	struct ews_contact *check = NULL;
	int rc;

	if (!mime)
		return ews_contact_to_vcard(item, card_r, len_r);
	xmlChar *b64 = xmlNodeGetContent(mime);
	gsize len = 0;
	guchar *raw = g_base64_decode(b64 ? (const char *)b64 : "", &len);
	xmlFree(b64);
	rc = ews_contact_from_vcard((const char *)raw, len, &check);
	ews_contact_free(&check);
	if (rc < 0) {
		g_free(raw);
		return rc;
	}
	*card_r = (char *)raw;
	*len_r = len;
	return 0;
}

int ewsd_contact_item_create(struct ewsd_call *call, const char *folder,
			    const xmlNode *item, struct mfs_item **item_r,
			    const char **code_r)
{
	g_autofree char *card = NULL;
	g_autofree char *uuid = g_uuid_string_random();
	g_autofree char *hint = g_strconcat(uuid, ".vcf", NULL);
	size_t len = 0;
	int rc = card_of(item, &card, &len);

	if (rc < 0) {
		*code_r = "ErrorInvalidPropertySet";
		return rc;
	}
	rc = ewsd_pim_store(call, folder, hint, card, len, item_r);
	if (rc < 0)
		*code_r = "ErrorInternalServerError";
	return rc;
}

int ewsd_contact_item_update(struct ewsd_call *call, const char *folder,
			    const char *id, const xmlNode *updates,
			    struct mfs_item **item_r, const char **code_r)
{
	GString *buf = NULL;
	g_autofree char *card = NULL;
	size_t len = 0;
	int rc = ewsd_pim_load(call, folder, id, &buf);

	if (rc < 0) {
		*code_r = rc == -ENOENT ? "ErrorItemNotFound"
					: "ErrorInternalServerError";
		return rc;
	}
	if (!updates) {
		g_string_free(buf, TRUE);
		*code_r = "ErrorInvalidRequest";
		return -EINVAL;
	}
	rc = ews_vcard_apply_updates(buf->str, buf->len, updates, &card, &len);
	if (rc < 0) {
		struct ews_contact *c = NULL;
		/* which side was wrong: the file or the request */
		*code_r = ews_contact_from_vcard(buf->str, buf->len, &c) < 0
			? "ErrorCorruptData" : "ErrorInvalidPropertySet";
		ews_contact_free(&c);
		g_string_free(buf, TRUE);
		return rc;
	}
	g_string_free(buf, TRUE);
	/* the same name: the store replaces the file, which is the edit */
	rc = ewsd_pim_store(call, folder, id, card, len, item_r);
	if (rc < 0)
		*code_r = "ErrorInternalServerError";
	return rc;
}
