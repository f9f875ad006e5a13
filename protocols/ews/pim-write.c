/*
 * pim-write.c - contacts and events written through the mount: created
 * from a .vcf or .ics, or changed in place.
 *
 * Specs: [MS-OXWSCORE] 3.1.4.2 (CreateItem), 3.1.4.9 (UpdateItem with
 * SetItemField/DeleteItemField), [MS-OXWSCONT] (ContactItemType),
 * [MS-OXWSCAL] (CalendarItemType, SendMeetingInvitations,
 * SendMeetingInvitationsOrCancellations), RFC 6350, RFC 5545.
 *
 * A new item is named as a sync would name it (names.c), from the card
 * the server makes of it or from the event's bytes as written.
 */
#include "pim.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "wire/ews-contact.h"
#include "wire/vcard.h"
#include "fileutil.h"
#include "log.h"

/* The ItemId of `hint` when it names an item the folder's table holds
 * (caller owns), else NULL. */
static char *existing(struct mfs_backend *be, const char *folder,
		      const char *fid, const char *hint)
{
	char *iid = NULL;

	if (!hint)
		return NULL;
	g_mutex_lock(&be->lock);
	struct ewsc_table *t = ewsc_table_get(be, folder, fid);
	struct ewsc_known *k = g_hash_table_lookup(t->items, hint);
	if (k)
		iid = g_strdup(k->item_id);
	g_mutex_unlock(&be->lock);
	return iid;
}

/* Send `req` (consumed), an operation answering one response message;
 * with `iid_r`, the ItemId of the item it made (caller owns).  Returns 0
 * or -errno. */
static int call_one(struct mfs_backend *be, const char *op, GString *req,
		    const char *folder, char **iid_r, struct mfs_error *e)
{
	struct ewsc_response *res = NULL;
	struct ewsc_status st;
	xmlNode *m = NULL;
	int rc;

	ewsc_req_end(req);
	rc = ewsc_call_one(be, op, req, MFS_ERR_ITEM, &res, &m, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	ewsc_status_of(m, &st);
	if (st.rc < 0)
		rc = ewsc_status_error(&st, op, folder, e);
	else if (iid_r) {
		xmlNode *items = ews_child(m, EWS_NS_M, "Items");
		xmlNode *id = ews_child(ews_first_element(items), EWS_NS_T,
					"ItemId");
		*iid_r = id ? ews_attr(id, "Id") : NULL;
		if (!*iid_r)
			rc = mfs_error_set(e, -EPROTO, MFS_ERR_ITEM,
					   MFS_ERR_TRANSIENT,
					   "%s: no ItemId in the answer", op);
	}
	ewsc_response_free(&res);
	return rc;
}

static GString *create_begin(const char *fid, enum mfs_folder_kind kind)
{
	GString *req = ewsc_req_begin();

	g_string_append(req, kind == MFS_FOLDER_CALENDAR
			? "<m:CreateItem SendMeetingInvitations=\"SendToNone\">"
			: "<m:CreateItem>");
	g_string_append(req, "<m:SavedItemFolderId>");
	ewsc_req_id(req, "t:FolderId", fid);
	g_string_append(req, "</m:SavedItemFolderId><m:Items>");
	return req;
}

/*
 * Item `iid` with content `c`, new or changed, into the folder's table
 * (lock taken here) under the name its content gives it, *id_r (caller
 * owns); with `spool` its bytes into the spool for fetch() to take.  A
 * name it takes from another item (which sorts after it) renames that
 * one, which the cache learns from the next sync, made whole for it.
 */
static int keep(struct mfs_backend *be, const char *folder, const char *fid,
		enum mfs_folder_kind kind, const char *iid,
		const struct ewsc_content *c, bool spool, char **id_r)
{
	struct ewsc_known k = { (char *)iid, c->len, c->date, 0, NULL,
				c->base };
	g_autofree char *key = ewsc_pim_spool_key(iid);
	g_autofree char *tmp = g_strconcat("\001", iid, NULL);
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
	int rc = spool ? mfs_spool_put(be->spool, key, c->buf, c->len) : 0;

	if (rc < 0)
		return rc;
	g_mutex_lock(&be->lock);
	struct ewsc_table *t = ewsc_table_get(be, folder, fid);
	g_autofree char *was = g_strdup(ewsc_pim_name_of(t, iid));
	if (was)
		g_hash_table_remove(t->items, was);
	ewsc_table_put(t, tmp, &k);
	ewsc_pim_rename(t, kind, gone, NULL);
	*id_r = g_strdup(ewsc_pim_name_of(t, iid));
	/* the cache knows of the item's own old name by the append */
	for (guint i = 0; i < gone->len; i++)
		t->rename |= g_strcmp0(gone->pdata[i], was) != 0;
	ewsc_table_save(be, folder, t);
	g_mutex_unlock(&be->lock);
	return 0;
}

/* A new contact from card `buf`.  *iid_r caller owns. */
static int create_contact(struct mfs_backend *be, const char *folder,
			  const char *fid, const char *buf, size_t len,
			  char **iid_r, struct mfs_error *e)
{
	g_autofree char *xml = NULL;
	int rc = ews_vcard_to_contact_xml(buf, len, &xml);

	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: not a vCard that can be stored",
				     folder);
	GString *req = create_begin(fid, MFS_FOLDER_CONTACTS);
	g_string_append(req, xml);
	g_string_append(req, "</m:Items></m:CreateItem>");
	return call_one(be, "CreateItem", req, folder, iid_r, e);
}

/* Contact `iid` changed to hold card `buf`: only the fields that differ
 * from what the server holds are sent, so what EWS does not carry stays
 * as it is on the server. */
static int update_contact(struct mfs_backend *be, const char *folder,
			  const char *iid, const char *buf, size_t len,
			  struct mfs_error *e)
{
	struct ewsc_content old = { 0 };
	g_autofree char *updates = NULL;
	int rc = ewsc_pim_content_now(be, folder, MFS_FOLDER_CONTACTS, iid, &old, e);

	if (rc == 0 && (rc = ews_vcard_to_updates((const char *)old.buf,
						  old.len, buf, len,
						  &updates)) < 0)
		mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
			      "%s: not a vCard that can be stored", folder);
	ewsc_pim_content_clear(&old, 1);
	if (rc < 0 || !*updates)
		return rc;
	GString *req = ewsc_req_begin();
	g_string_append(req, "<m:UpdateItem ConflictResolution="
			"\"AlwaysOverwrite\"><m:ItemChanges><t:ItemChange>");
	ewsc_req_id(req, "t:ItemId", iid);
	g_string_append(req, "<t:Updates>");
	g_string_append(req, updates);
	g_string_append(req, "</t:Updates></t:ItemChange></m:ItemChanges>"
			"</m:UpdateItem>");
	return call_one(be, "UpdateItem", req, folder, NULL, e);
}

/* A new calendar item whose MimeContent is `buf`.  *iid_r caller owns. */
static int create_event(struct mfs_backend *be, const char *folder,
			const char *fid, const char *buf, size_t len,
			char **iid_r, struct mfs_error *e)
{
	g_autofree char *b64 = g_base64_encode((const guchar *)buf, len);
	GString *req = create_begin(fid, MFS_FOLDER_CALENDAR);

	g_string_append(req, "<t:CalendarItem><t:MimeContent "
			"CharacterSet=\"UTF-8\">");
	g_string_append(req, b64);
	g_string_append(req, "</t:MimeContent></t:CalendarItem>"
			"</m:Items></m:CreateItem>");
	return call_one(be, "CreateItem", req, folder, iid_r, e);
}

/* One property of a calendar item set to `text` (escaped here), or
 * deleted for NULL; `attrs` go on its element. */
static void event_field(GString *u, const char *uri, const char *elem,
			const char *attrs, const char *text)
{
	if (!text) {
		g_string_append_printf(u, "<t:DeleteItemField><t:FieldURI "
				       "FieldURI=\"%s\"/></t:DeleteItemField>",
				       uri);
		return;
	}
	g_string_append_printf(u, "<t:SetItemField><t:FieldURI FieldURI="
			       "\"%s\"/><t:CalendarItem><t:%s%s>", uri, elem,
			       attrs);
	ews_escape(u, text);
	g_string_append_printf(u, "</t:%s></t:CalendarItem></t:SetItemField>",
			       elem);
}

static bool same_time(GDateTime *a, GDateTime *b)
{
	return a && b ? g_date_time_compare(a, b) == 0 : a == b;
}

static char *utc_text(GDateTime *t)
{
	g_autoptr(GDateTime) utc = g_date_time_to_utc(t);

	return g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
}

/* The changes that make event `was` into `now`, in the order
 * CalendarItemType lists them ([MS-OXWSCAL] 2.2.4.3). */
static void event_updates(const struct vcard_event *was,
			  const struct vcard_event *now, GString *u)
{
	bool times = !same_time(was->start, now->start) ||
		     !same_time(was->end, now->end) ||
		     was->all_day != now->all_day;

	if (g_strcmp0(was->summary, now->summary))
		event_field(u, "item:Subject", "Subject", "",
			    now->summary ? now->summary : "");
	if (g_strcmp0(was->description, now->description))
		event_field(u, "item:Body", "Body", " BodyType=\"Text\"",
			    now->description);
	if (times) {
		g_autofree char *start = utc_text(now->start);
		g_autofree char *end = utc_text(now->end);
		event_field(u, "calendar:Start", "Start", "", start);
		event_field(u, "calendar:End", "End", "", end);
		event_field(u, "calendar:IsAllDayEvent", "IsAllDayEvent", "",
			    now->all_day ? "true" : "false");
	}
	if (g_strcmp0(was->location, now->location))
		event_field(u, "calendar:Location", "Location", "",
			    now->location);
}

/*
 * Calendar item `iid` changed to hold the .ics `buf`.  Exchange takes no
 * MimeContent in an UpdateItem of a calendar item: the properties that
 * differ from the server's copy are set instead, the item keeping its
 * ItemId (and its attendees' answers), and no one is sent a notice.
 * What the properties do not carry stays as the server has it.
 */
static int update_event(struct mfs_backend *be, const char *folder,
			const char *iid, const char *buf, size_t len,
			struct mfs_error *e)
{
	struct vcard_event was = { 0 }, now = { 0 };
	struct ewsc_content old = { 0 };
	g_autoptr(GString) u = g_string_new(NULL);
	int rc = vcard_event_read(buf, len, &now);

	if (rc < 0 || !now.start) {
		vcard_event_clear(&now);
		return mfs_error_set(e, rc < 0 ? rc : -EINVAL, MFS_ERR_ITEM,
				     MFS_ERR_FINAL, "%s: not an iCalendar "
				     "event that can be stored (a VEVENT with "
				     "a DTSTART)", folder);
	}
	rc = ewsc_pim_content_now(be, folder, MFS_FOLDER_CALENDAR, iid, &old, e);
	/* a server copy that cannot be read has every property changed */
	if (rc == 0 && vcard_event_read((const char *)old.buf, old.len,
					&was) < 0)
		memset(&was, 0, sizeof(was));
	ewsc_pim_content_clear(&old, 1);
	if (rc == 0)
		event_updates(&was, &now, u);
	vcard_event_clear(&was);
	vcard_event_clear(&now);
	if (rc < 0 || u->len == 0)
		return rc;
	GString *req = ewsc_req_begin();
	g_string_append(req, "<m:UpdateItem ConflictResolution="
			"\"AlwaysOverwrite\" SendMeetingInvitationsOr"
			"Cancellations=\"SendToNone\"><m:ItemChanges>"
			"<t:ItemChange>");
	ewsc_req_id(req, "t:ItemId", iid);
	g_string_append(req, "<t:Updates>");
	g_string_append_len(req, u->str, (gssize)u->len);
	g_string_append(req, "</t:Updates></t:ItemChange></m:ItemChanges>"
			"</m:UpdateItem>");
	return call_one(be, "UpdateItem", req, folder, NULL, e);
}

int ewsc_pim_append(struct mfs_backend *be, const char *folder, int fd,
		    const char *hint, struct mfs_item **item_r,
		    struct mfs_error *e)
{
	g_autofree char *fid = NULL, *buf = NULL, *old = NULL, *iid = NULL;
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;
	struct ewsc_content c = { 0 };
	size_t len = 0;
	int rc = ewsc_folder_id(be, folder, &fid, &kind, e);

	if (rc < 0)
		return rc;
	if ((rc = file_read_head(fd, PIM_MAX + 1, &buf, &len)) < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "reading the new item: %s",
				     g_strerror(-rc));
	if (len > PIM_MAX)
		return mfs_error_set(e, -EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "an item over %u bytes", PIM_MAX);
	old = existing(be, folder, fid, hint);
	if (kind == MFS_FOLDER_CONTACTS && old) {
		rc = update_contact(be, folder, old, buf, len, e);
		iid = g_steal_pointer(&old);
	} else if (kind == MFS_FOLDER_CONTACTS) {
		rc = create_contact(be, folder, fid, buf, len, &iid, e);
	} else if (old) {
		rc = update_event(be, folder, old, buf, len, e);
		iid = g_steal_pointer(&old);
	} else {
		rc = create_event(be, folder, fid, buf, len, &iid, e);
	}
	if (rc < 0)
		return rc;
	if (kind == MFS_FOLDER_CALENDAR) {
		/* the bytes written stand until the server's next word */
		c.buf = (guchar *)g_steal_pointer(&buf);
		c.len = len;
		c.date = (int64_t)time(NULL);
		c.base = ewsc_name_of_event((const char *)c.buf, c.len);
	} else if ((rc = ewsc_pim_content_now(be, folder, kind, iid, &c,
					      e)) < 0) {
		return rc;
	}
	/* a contact's card is the server's, which may differ from what was
	 * written, and is read from the spool */
	g_autofree char *id = NULL;
	rc = keep(be, folder, fid, kind, iid, &c, kind == MFS_FOLDER_CONTACTS,
		  &id);
	if (rc == 0) {
		*item_r = mfs_item_new(id, c.len, c.date, 0);
		(*item_r)->message_id = g_strdup("");
	} else {
		mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
			      "spooling an item: %s", g_strerror(-rc));
	}
	ewsc_pim_content_clear(&c, 1);
	return rc;
}
