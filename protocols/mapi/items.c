/*
 * items.c - fetch of a mapi account's messages, contacts and
 * appointments: the bytes sync rendered and spooled, else the item
 * rendered anew from the server.
 *
 * Specs: [MS-OXCFXICS] through sync.c; the rendering is wire/mapi-mail.h's
 * ([MS-OXCMAIL]) or wire/mapi-pim.h's ([MS-OXVCARD], [MS-OXCICAL]),
 * deterministic, so the bytes are those whose size sync reported.
 */
#include "mapic-private.h"

#include <errno.h>

#include "wire/mapi-mail.h"

int mapic_read_rendered(struct mapic_session *s, uint64_t fid, uint64_t mid,
			enum mfs_folder_kind kind, struct mapic_names *names,
			GByteArray **buf_r, struct mapi_message **m_r,
			struct mfs_error *e)
{
	struct mapic_names *own = NULL;
	struct mapi_message *m = NULL;
	const char *why = NULL;
	bool pim = mapic_pim_kind(kind);
	int rc;

	*buf_r = NULL;
	if (pim && !names) {
		if ((rc = mapic_names_fetch(s, false, &own, e)) < 0)
			return rc;
		names = own;
	}
	rc = pim ? mapic_message_read_all(s, fid, mid, &m, e)
		 : mapic_message_read(s, fid, mid, &m, e);
	if (rc < 0) {
		mapic_names_free(&own);
		return rc;
	}
	*buf_r = g_byte_array_new();
	if (pim) {
		struct mapi_pim_names pn = mapic_names_pim(names);
		rc = mapic_pim_render(kind, m, &pn, *buf_r, &why);
	} else {
		rc = mapi_mail_render(m, *buf_r);
	}
	mapic_names_free(&own);
	if (rc < 0) {
		mapi_message_free(m);
		g_byte_array_unref(*buf_r);
		*buf_r = NULL;
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "message 0x%016" G_GINT64_MODIFIER "X "
				     "could not be rendered%s%s", (guint64)mid,
				     why ? ": " : "", why ? why : "");
	}
	if (m_r)
		*m_r = m;
	else
		mapi_message_free(m);
	return 0;
}

int mapic_fetch(struct mfs_backend *be, const char *folder, const char *id,
		int *fd_r, struct mfs_error *e)
{
	GByteArray *buf = NULL;
	uint64_t mid;
	int rc;

	if (mfs_spool_take(be->spool, id, fd_r) == 0)
		return 0;
	if (mapic_mid_of(id, &mid) < 0)
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: no message %s", folder, id);
	rc = mapic_sync_one(be, folder, id, &buf, NULL, e);
	if (rc == -ENOTSUP) {
		/* a folder listed by its contents table: its messages were
		 * rendered from what OpenMessage gives, and so are they now */
		struct mapic_session *s = NULL;
		uint64_t fid;
		if ((rc = mapic_folder_fid(be, folder, &fid, e)) < 0 ||
		    (rc = mapic_backend_session(be, &s, e)) < 0)
			return rc;
		rc = mapic_read_rendered(s, fid, mid,
					 mapic_folder_kind(be, folder), NULL,
					 &buf, NULL, e);
	}
	if (rc < 0)
		return rc;
	rc = mfs_spool_tmpfile(be->spool, buf->data, buf->len, fd_r);
	g_byte_array_unref(buf);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
				     "a temporary file: %s", g_strerror(-rc));
	return 0;
}
