/*
 * items.c - fetch of a mapi account's messages: the bytes sync rendered
 * and spooled, else the message rendered anew from the server.
 *
 * Specs: [MS-OXCFXICS] through sync.c; the rendering is wire/mapi-mail.h's
 * ([MS-OXCMAIL]), deterministic, so the bytes are those whose size sync
 * reported.
 */
#include "mapic-private.h"

#include <errno.h>

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
	if ((rc = mapic_sync_one(be, folder, id, &buf, e)) < 0)
		return rc;
	rc = mfs_spool_tmpfile(be->spool, buf->data, buf->len, fd_r);
	g_byte_array_unref(buf);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
				     "a temporary file: %s", g_strerror(-rc));
	return 0;
}
