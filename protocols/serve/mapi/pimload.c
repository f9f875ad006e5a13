/*
 * pimload.c - the items of the store's contacts and calendar folders as
 * the MAPI server shows them: a .vcf file is an IPM.Contact, a .ics file
 * an IPM.Appointment, both read by the codec of wire/mapi-pim.h with the
 * store's named property ids (names.c).
 *
 * Specs: MS-OXOCNTC (contacts), MS-OXOCAL (appointments), MS-OXCMSG
 * 2.2.1.6-7 (PidTagMessageFlags, PidTagMessageSize).
 *
 * Which folder is which is the store's to say (its folder kinds, which
 * folder.c shows as IPF.Contact and IPF.Appointment); an item's name is
 * not looked at.
 */
#include <errno.h>
#include <string.h>

#include "wire/mapi-pim.h"
#include "wire/mapi-tags.h"
#include "mapid-private.h"

enum mfs_folder_kind mapid_folder_kind(const struct serve_ctx *ctx,
				       const char *path)
{
	GPtrArray *folders = NULL;
	enum mfs_folder_kind k = MFS_FOLDER_MAIL;

	if (!path || mfs_store_list_folders(ctx->store, &folders, NULL) < 0)
		return k;
	for (guint i = 0; i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		if (!strcmp(fi->path, path))
			k = fi->kind;
	}
	g_ptr_array_unref(folders);
	return k;
}

bool mapid_kind_pim(enum mfs_folder_kind k)
{
	return k == MFS_FOLDER_CONTACTS || k == MFS_FOLDER_CALENDAR;
}

int mapid_pim_parse(const void *buf, size_t len, enum mfs_folder_kind kind,
		    int64_t delivered, int64_t modified,
		    struct mapi_message **m_r)
{
	struct mapi_pim_names names = mapid_pim_names();
	struct mapi_message *m = NULL;
	int err;

	if (len > MAPID_MSG_MAX)
		return -EFBIG;
	if (kind == MFS_FOLDER_CONTACTS)
		err = mapi_contact_parse(buf, len, &names, &m);
	else if (kind == MFS_FOLDER_CALENDAR)
		err = mapi_appt_parse(buf, len, &names, &m);
	else
		err = -EINVAL;
	if (err < 0)
		return err;
	/* a contact's photo is an attachment (mapid_msg_store_props keeps
	 * HASATTACH as parsed) */
	if (m->n_attach)
		mapi_props_set_l(&m->props, MAPI_TAG_MESSAGE_FLAGS,
				 mapi_props_l(&m->props, MAPI_TAG_ID(
					MAPI_TAG_MESSAGE_FLAGS), 0) |
				 MAPI_MSGFLAG_HASATTACH);
	/* a contact or an appointment is never unread: the file has no
	 * Maildir letters to say so */
	mapid_msg_store_props(m, MFS_FLAG_SEEN, delivered, modified, buf, len);
	*m_r = m;
	return 0;
}
