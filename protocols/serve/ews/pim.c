/*
 * pim.c - items of contacts and calendar folders in the embedded
 * EWS server: their ids, reading and storing their files, and the parts
 * of FindItem, GetItem, CreateItem, UpdateItem and DeleteItem that do not
 * depend on the item kind.
 *
 * Specs: [MS-OXWSCORE] 3.1.4.2 (CreateItem), 3.1.4.3 (DeleteItem),
 * 3.1.4.4 (GetItem), 3.1.4.9 (UpdateItem), 2.2.4.25 (ItemIdType);
 * [MS-OXWSSRCH] 3.1.4.4 (FindItem).
 *
 * Ids need no table, as for messages: base64 of "mfsP:", the file name
 * (the store's id, never holding '/') and the folder path.  A file can be
 * rewritten in place, so its ChangeKey is made from its size and mtime.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msgprops.h"
#include "pim.h"

#define ID_PREFIX "mfsP:"

bool ewsd_pim_kind(enum mfs_folder_kind kind)
{
	return kind == MFS_FOLDER_CONTACTS || kind == MFS_FOLDER_CALENDAR;
}

char *ewsd_pim_item_id(const char *folder, const char *id)
{
	g_autofree char *raw = g_strdup_printf(ID_PREFIX "%s/%s", id, folder);

	return g_base64_encode((const guchar *)raw, strlen(raw));
}

char *ewsd_pim_change_key(const struct mfs_item *it)
{
	g_autofree char *raw = g_strdup_printf("%s:%" G_GUINT64_FORMAT ":%"
					       G_GINT64_FORMAT, it->id,
					       it->size, it->date);
	guint32 h = g_str_hash(raw);

	return g_base64_encode((const guchar *)&h, sizeof(h));
}

int ewsd_pim_item_id_parse(const char *b64, char **id_r, char **folder_r)
{
	gsize len = 0;
	g_autofree guchar *raw = NULL;
	const char *slash;

	if (!b64 || !*b64 || strlen(b64) % 4 || strlen(b64) > 8192 ||
	    strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789+/=") != strlen(b64))
		return -EINVAL;
	raw = g_base64_decode(b64, &len);
	if (len < 7 || memchr(raw, 0, len) || memcmp(raw, ID_PREFIX, 5) != 0)
		return -EINVAL;
	raw = g_realloc(raw, len + 1);
	raw[len] = 0;
	slash = strchr((const char *)raw + 5, '/');
	if (!slash || slash == (const char *)raw + 5 || !slash[1])
		return -EINVAL;
	*id_r = g_strndup((const char *)raw + 5,
			  (gsize)(slash - (const char *)raw - 5));
	*folder_r = g_strdup(slash + 1);
	return 0;
}

bool ewsd_pim_is_id(const char *b64)
{
	g_autofree char *id = NULL, *folder = NULL;

	return ewsd_pim_item_id_parse(b64, &id, &folder) == 0;
}

static int folders(struct ewsd_call *call)
{
	if (call->folders)
		return 0;
	return mfs_store_list_folders(call->ctx->store, &call->folders, NULL);
}

enum mfs_folder_kind ewsd_pim_folder_kind(struct ewsd_call *call,
					 const char *path)
{
	if (folders(call) < 0)
		return MFS_FOLDER_NONE;
	for (guint i = 0; i < call->folders->len; i++) {
		const struct mfs_folder_info *fi = call->folders->pdata[i];
		if (strcmp(fi->path, path) == 0)
			return fi->kind;
	}
	return MFS_FOLDER_NONE;
}

int ewsd_pim_default_folder(struct ewsd_call *call, enum mfs_folder_kind kind,
			   const char **path_r)
{
	const char *name = kind == MFS_FOLDER_CONTACTS ? "Contacts"
							: "Calendar";
	const char *any = NULL;

	if (folders(call) < 0)
		return -ENOENT;
	for (guint i = 0; i < call->folders->len; i++) {
		const struct mfs_folder_info *fi = call->folders->pdata[i];
		if (fi->kind != kind)
			continue;
		if (strcmp(fi->path, name) == 0) {
			*path_r = fi->path;
			return 0;
		}
		if (!any)
			any = fi->path;
	}
	*path_r = any;
	return any ? 0 : -ENOENT;
}

int ewsd_pim_load(struct ewsd_call *call, const char *folder, const char *id,
		 GString **buf_r)
{
	int fd = -1, rc = mfs_store_fetch(call->ctx->store, folder, id, &fd,
					  NULL);
	GString *buf;
	char chunk[65536];

	if (rc < 0)
		return rc;
	buf = g_string_sized_new(4096);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf->len + (size_t)n > EWS_PIM_MAX) {
			rc = n < 0 ? -errno : -EFBIG;
			g_string_free(buf, TRUE);
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		g_string_append_len(buf, chunk, n);
	}
	close(fd);
	*buf_r = buf;
	return 0;
}

int ewsd_pim_store(struct ewsd_call *call, const char *folder,
		  const char *hint, const char *buf, size_t len,
		  struct mfs_item **item_r)
{
	/* the store takes a descriptor: an unlinked file holds the bytes */
	g_autofree char *tmpl = g_build_filename(g_get_tmp_dir(),
						 "mailfs-ews-XXXXXX", NULL);
	int fd = g_mkstemp(tmpl), rc = 0;

	if (fd < 0)
		return -errno;
	unlink(tmpl);
	for (size_t off = 0; off < len && rc == 0;) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (rc == 0 && lseek(fd, 0, SEEK_SET) < 0)
		rc = -errno;
	if (rc == 0)
		rc = mfs_store_append(call->ctx->store, folder, fd, hint, 0, 0,
				      item_r, NULL);
	close(fd);
	return rc;
}

static void write_one(struct ewsd_call *call, const char *folder,
		      enum mfs_folder_kind kind, const struct mfs_item *it,
		      bool mime)
{
	GString *buf = NULL;

	/* an item whose file cannot be read is still listed, empty, so
	   that it can be deleted over EWS */
	ewsd_pim_load(call, folder, it->id, &buf);
	if (kind == MFS_FOLDER_CONTACTS)
		ewsd_contact_item_write(call, folder, it, buf, mime);
	else
		ewsd_calendar_item_write(call, folder, it, buf, mime);
	if (buf)
		g_string_free(buf, TRUE);
}

/* One item of FindItem, never with MimeContent; `data` points to the
 * folder's kind. */
static void write_found(struct ewsd_call *call, const char *folder,
			const struct mfs_item *it, void *data)
{
	write_one(call, folder, *(const enum mfs_folder_kind *)data, it,
		  false);
}

static gint by_id(gconstpointer a, gconstpointer b, gpointer unused)
{
	const struct mfs_item *x = *(const struct mfs_item *const *)a;
	const struct mfs_item *y = *(const struct mfs_item *const *)b;

	(void)unused;
	return strcmp(x->id, y->id);
}

void ewsd_pim_find(struct ewsd_call *call, const char *folder,
		  enum mfs_folder_kind kind, const xmlNode *view,
		  const struct ewsd_restrict *r)
{
	ewsd_find_items(call, folder, view, r, by_id, NULL, write_found,
			&kind);
}

/* The item an ItemId of ours names, with its folder's kind; NULL after
 * writing the error message of `op`.  *id_r and *folder_r: caller owns. */
static struct mfs_item *resolve(struct ewsd_call *call, const char *op,
				const xmlNode *ref, char **id_r,
				char **folder_r, enum mfs_folder_kind *kind_r)
{
	g_autofree char *b64 = ews_attr(ref, "Id");
	struct mfs_item *it = NULL;

	*id_r = *folder_r = NULL;
	if (!ews_is(ref, EWS_NS_T, "ItemId") ||
	    ewsd_pim_item_id_parse(b64, id_r, folder_r) < 0) {
		ewsd_error_message(call->out, op, "ErrorInvalidIdMalformed",
				  "Id is malformed.");
		return NULL;
	}
	/* the folder comes from the client: only the store's own folders
	   of these kinds are looked at */
	*kind_r = ewsd_pim_folder_kind(call, *folder_r);
	if (ewsd_pim_kind(*kind_r))
		it = ewsd_store_item(call, *folder_r, *id_r);
	if (!it)
		ewsd_error_message(call->out, op, "ErrorItemNotFound",
				  "The specified object was not found in the "
				  "store.");
	return it;
}

void ewsd_pim_get(struct ewsd_call *call, const xmlNode *item_id,
		 const xmlNode *shape)
{
	g_autofree char *id = NULL, *folder = NULL;
	enum mfs_folder_kind kind;
	struct mfs_item *it = resolve(call, "GetItem", item_id, &id, &folder,
				      &kind);

	if (!it)
		return;
	g_string_append(call->out, "<m:GetItemResponseMessage ResponseClass="
			"\"Success\"><m:ResponseCode>NoError</m:ResponseCode>"
			"<m:Items>");
	write_one(call, folder, kind, it, ewsd_shape_wants_mime(shape));
	g_string_append(call->out, "</m:Items></m:GetItemResponseMessage>");
	mfs_item_free(it);
}

/* The success message of CreateItem or UpdateItem: the item's new id. */
static void write_changed(struct ewsd_call *call, const char *op,
			  const char *elem, const char *folder,
			  const struct mfs_item *it)
{
	g_autofree char *iid = ewsd_pim_item_id(folder, it->id);
	g_autofree char *ck = ewsd_pim_change_key(it);

	g_string_append_printf(call->out, "<m:%sResponseMessage ResponseClass="
			       "\"Success\"><m:ResponseCode>NoError"
			       "</m:ResponseCode><m:Items><t:%s><t:ItemId "
			       "Id=\"%s\" ChangeKey=\"%s\"/></t:%s></m:Items>",
			       op, elem, iid, ck, elem);
	if (strcmp(op, "UpdateItem") == 0)
		g_string_append(call->out, "<m:ConflictResults><t:Count>0"
				"</t:Count></m:ConflictResults>");
	g_string_append_printf(call->out, "</m:%sResponseMessage>", op);
}

void ewsd_pim_create(struct ewsd_call *call, const char *folder,
		    const xmlNode *item)
{
	bool contact = ews_is(item, EWS_NS_T, "Contact");
	enum mfs_folder_kind want = contact ? MFS_FOLDER_CONTACTS
					    : MFS_FOLDER_CALENDAR;
	const char *code = "ErrorInternalServerError";
	struct mfs_item *it = NULL;
	int rc;

	if (!contact && !ews_is(item, EWS_NS_T, "CalendarItem")) {
		ewsd_error_message(call->out, "CreateItem",
				  "ErrorInvalidItemForOperationCreateItem",
				  "Only contacts and calendar items can be "
				  "created here.");
		return;
	}
	if (!folder && ewsd_pim_default_folder(call, want, &folder) < 0) {
		ewsd_error_message(call->out, "CreateItem", "ErrorFolderNotFound",
				  "The store has no folder for this item.");
		return;
	}
	if (ewsd_pim_folder_kind(call, folder) != want) {
		ewsd_error_message(call->out, "CreateItem", contact
				  ? "ErrorCannotCreateContactInNonContactFolder"
				  : "ErrorCannotCreateCalendarItemInNonCalendar"
				    "Folder", "The folder does not hold items of this "
				  "kind.");
		return;
	}
	rc = contact ? ewsd_contact_item_create(call, folder, item, &it, &code)
		     : ewsd_calendar_item_create(call, folder, item, &it, &code);
	if (rc < 0) {
		ewsd_error_message(call->out, "CreateItem", code,
				  g_strerror(-rc));
		return;
	}
	write_changed(call, "CreateItem", contact ? "Contact" : "CalendarItem",
		      folder, it);
	mfs_item_free(it);
}

void ewsd_pim_update(struct ewsd_call *call, const xmlNode *change)
{
	xmlNode *ref = ews_child(change, EWS_NS_T, "ItemId");
	xmlNode *updates = ews_child(change, EWS_NS_T, "Updates");
	g_autofree char *id = NULL, *folder = NULL;
	enum mfs_folder_kind kind;
	const char *code = "ErrorInternalServerError";
	struct mfs_item *it = resolve(call, "UpdateItem", ref, &id, &folder,
				      &kind), *now = NULL;
	int rc;

	if (!it)
		return;
	mfs_item_free(it);
	rc = kind == MFS_FOLDER_CONTACTS
		? ewsd_contact_item_update(call, folder, id, updates, &now,
					  &code)
		: ewsd_calendar_item_update(call, folder, id, updates, &now,
					   &code);
	if (rc < 0) {
		ewsd_error_message(call->out, "UpdateItem", code,
				  g_strerror(-rc));
		return;
	}
	write_changed(call, "UpdateItem", kind == MFS_FOLDER_CONTACTS
		      ? "Contact" : "CalendarItem", folder, now);
	mfs_item_free(now);
}

void ewsd_pim_delete(struct ewsd_call *call, const xmlNode *item_id)
{
	g_autofree char *id = NULL, *folder = NULL;
	enum mfs_folder_kind kind;
	struct mfs_item *it = resolve(call, "DeleteItem", item_id, &id,
				      &folder, &kind);
	int rc;

	if (!it)
		return;
	mfs_item_free(it);
	rc = mfs_store_remove(call->ctx->store, folder, id, NULL);
	if (rc < 0 && rc != -ENOENT) {
		ewsd_error_message(call->out, "DeleteItem",
				  "ErrorInternalServerError", g_strerror(-rc));
		return;
	}
	g_string_append(call->out, "<m:DeleteItemResponseMessage "
			"ResponseClass=\"Success\"><m:ResponseCode>NoError"
			"</m:ResponseCode></m:DeleteItemResponseMessage>");
}

/* Whether t:ExtendedFieldURI `p` is the named property
 * urn:schemas:calendar:instancetype. */
static bool is_instance_type(const xmlNode *p)
{
	g_autofree char *set = ews_attr(p, "DistinguishedPropertySetId");
	g_autofree char *name = ews_attr(p, "PropertyName");

	return set && name && !strcmp(set, "PublicStrings") &&
	       !strcmp(name, "urn:schemas:calendar:instancetype");
}

static void ext_open(GString *out, const char *tag, const char *type)
{
	g_string_append_printf(out, "<t:ExtendedProperty><t:ExtendedFieldURI "
			       "PropertyTag=\"%s\" PropertyType=\"%s\"/>"
			       "<t:Value>", tag, type);
}

void ewsd_pim_write_ext(struct ewsd_call *call, const char *folder,
			const struct mfs_item *it, const char *name,
			int instance_type)
{
	xmlNode *shape = ews_child(call->req->op, EWS_NS_M, "ItemShape");
	xmlNode *props = ews_child(shape, EWS_NS_T, "AdditionalProperties");
	GString *out = call->out;

	for (xmlNode *p = ews_first_element(props); p;
	     p = ews_next_element(p)) {
		unsigned tag = 0;
		uint32_t uid;

		if (!ews_is(p, EWS_NS_T, "ExtendedFieldURI"))
			continue;
		if (instance_type >= 0 && is_instance_type(p)) {
			g_string_append_printf(out, "<t:ExtendedProperty>"
					       "<t:ExtendedFieldURI "
					       "DistinguishedPropertySetId="
					       "\"PublicStrings\" PropertyName="
					       "\"urn:schemas:calendar:"
					       "instancetype\" PropertyType="
					       "\"Integer\"/><t:Value>%d"
					       "</t:Value></t:ExtendedProperty>",
					       instance_type);
			continue;
		}
		if (ewsd_prop_tag(p, &tag) < 0)
			continue;
		switch (tag) {
		case 0x3001:
		case 0x0037:
			ext_open(out, tag == 0x37 ? "0x37" : "0x3001", "String");
			ews_escape(out, name);
			break;
		case 0x10F3:
			ext_open(out, "0x10f3", "String");
			ews_escape(out, it->id);
			break;
		case 0x0E23:
			if (ewsd_article_number(call, folder, it->id, &uid) < 0)
				continue;
			ext_open(out, "0xe23", "Integer");
			g_string_append_printf(out, "%u", uid);
			break;
		case 0x3008: {
			g_autoptr(GDateTime) dt =
				g_date_time_new_from_unix_utc(it->date);
			g_autofree char *d = dt ? g_date_time_format(dt,
					"%Y-%m-%dT%H:%M:%SZ") : NULL;
			if (!d)
				continue;
			ext_open(out, "0x3008", "SystemTime");
			g_string_append(out, d);
			break;
		}
		default:
			continue;
		}
		g_string_append(out, "</t:Value></t:ExtendedProperty>");
	}
}
