/*
 * expunge.c - messages removed for good: marked \Deleted and expunged,
 * one or several in one exchange.
 *
 * RFC 3501 / RFC 9051 (STORE, EXPUNGE), RFC 4315 (UIDPLUS: UID EXPUNGE).
 * Without UIDPLUS, EXPUNGE also removes what others marked \Deleted in
 * the folder (docs/DEVIATIONS.md).
 */
#include "imapc-private.h"

#include <errno.h>
#include <string.h>
#include <stdio.h>

/* Remove the messages of the UID set `set` ("5", "5,9,12"). */
int imapc_expunge_set(struct imapc_conn *c, const char *set,
		      struct mfs_error *e)
{
	int rc = imapc_conn_run(c, imapc_cmd_new("UID STORE %s +FLAGS.SILENT "
					       "(\\Deleted)", set),
			       NULL, NULL, NULL, e);
	if (rc < 0)
		return rc;
	/* without UIDPLUS, EXPUNGE also removes what others marked
	 * \Deleted in this folder (see docs/DEVIATIONS.md) */
	if (imapc_conn_cap(c, "UIDPLUS"))
		return imapc_conn_run(c, imapc_cmd_new("UID EXPUNGE %s", set),
				     NULL, NULL, NULL, e);
	return imapc_conn_run(c, imapc_cmd_new("EXPUNGE"), NULL, NULL, NULL, e);
}

int imapc_expunge_uid(struct imapc_conn *c, uint64_t uid, struct mfs_error *e)
{
	char set[32];

	snprintf(set, sizeof(set), "%" G_GUINT64_FORMAT, uid);
	return imapc_expunge_set(c, set, e);
}

static int remove_many(struct mfs_backend *be, const char *folder,
		       const char *const *ids, size_t n, struct mfs_error *e)
{
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GString *set = g_string_new(NULL);
	struct imapc_conn *c;
	uint64_t uv;
	int rc = imapc_take_batch(be, folder, ids, n, &uv, uids, set, &c, e);

	if (rc == 0) {
		rc = imapc_expunge_set(c, set->str, e);
		imapc_pool_put(be, c);
	}
	g_array_unref(uids);
	g_string_free(set, TRUE);
	return rc;
}

static int remove_one(struct mfs_backend *be, const char *folder,
		      const char *id, struct mfs_error *e)
{
	struct imapc_conn *c;
	uint64_t uid;
	int rc = imapc_take_item(be, folder, id, &c, &uid, e);

	if (rc < 0)
		return rc;
	rc = imapc_expunge_uid(c, uid, e);
	imapc_pool_put(be, c);
	return rc;
}

int imapc_remove(struct mfs_backend *be, const char *folder,
		 const char *const *ids, size_t n, struct mfs_error *e)
{
	/* one alone is the single remove: an id it cannot use is that
	 * item's failure, not the folder's */
	if (n == 1)
		return remove_one(be, folder, ids[0], e);
	return remove_many(be, folder, ids, n, e);
}
