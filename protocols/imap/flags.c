/*
 * flags.c - a message's flags set to exactly what the mount says, for one
 * message or several in one exchange; a message gone is told apart from
 * one changed.
 *
 * RFC 3501 / RFC 9051 (UID STORE +FLAGS.SILENT / -FLAGS.SILENT).
 */
#include "imapc-private.h"

#include <errno.h>
#include <string.h>

/* STORE the mapped flags: add those set, remove the others (keywords the
 * mount does not show are left alone).  Safe to repeat. */
static int store_flags(struct imapc_conn *c, uint64_t uid, uint64_t flags,
		       struct mfs_error *e)
{
	g_autofree char *add = imapc_flag_list(flags, false);
	g_autofree char *del = imapc_flag_list(flags, true);
	int rc = 0;

	if (*add)
		rc = imapc_conn_run(c, imapc_cmd_new("UID STORE %" G_GUINT64_FORMAT
						   " +FLAGS.SILENT %s", uid,
						   add),
				   NULL, NULL, NULL, e);
	if (rc == 0 && *del)
		rc = imapc_conn_run(c, imapc_cmd_new("UID STORE %" G_GUINT64_FORMAT
						   " -FLAGS.SILENT %s", uid,
						   del),
				   NULL, NULL, NULL, e);
	return rc;
}

int imapc_flags_one(struct mfs_backend *be, const char *folder, const char *id,
		    uint64_t flags, struct mfs_error *e)
{
	struct imapc_conn *c;
	uint64_t uid;
	int rc = imapc_take_item(be, folder, id, &c, &uid, e);

	if (rc < 0)
		return rc;
	rc = store_flags(c, uid, flags, e);
	/* STORE to a UID that is gone succeeds doing nothing: a change that
	 * found nothing to change must say so (asked on the same connection,
	 * which imapc_take_item brought up to date) */
	struct imapc_sync_ctx sc = { 0 };
	uint64_t uv;
	imapc_parse_item_id(id, &uv, &uid);
	sc.uidvalidity = uv;
	sc.items = g_ptr_array_new_with_free_func((GDestroyNotify)mfs_item_free);
	if (rc == 0)
		rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %" G_GUINT64_FORMAT
						   " " IMAPC_LIST_ITEMS, uid),
				   imapc_items_cb, &sc, NULL, e);
	imapc_pool_put(be, c);
	if (rc == 0 && sc.items->len == 0)
		rc = mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				   "no message %s in %s", id, folder);
	g_ptr_array_unref(sc.items);
	return rc;
}

int imapc_flags_many(struct mfs_backend *be, const char *folder,
		     const char *const *ids, const uint64_t *flags,
		     size_t n, int *rcs, struct mfs_error *e)
{
	GHashTable *sets = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						 g_free, NULL);
	GArray *uids = g_array_sized_new(FALSE, FALSE, sizeof(uint64_t), n);
	GString *all = g_string_new(NULL);
	struct imapc_sync_ctx sc = { 0 };
	struct imapc_conn *c = NULL;
	uint64_t uv = 0;
	int rc = imapc_take_batch(be, folder, ids, n, &uv, uids, all, &c, e);

	if (rc < 0)
		c = NULL;
	/* the same flags for several messages: one STORE for all of them */
	for (size_t i = 0; i < n && rc == 0; i++) {
		int64_t key = (int64_t)(flags[i] & MFS_FLAG_LETTERS);
		GString *set = g_hash_table_lookup(sets, &key);
		if (!set) {
			set = g_string_new(NULL);
			g_hash_table_insert(sets, g_memdup2(&key, sizeof(key)),
					    set);
		} else {
			g_string_append_c(set, ',');
		}
		g_string_append_printf(set, "%" G_GUINT64_FORMAT,
				       g_array_index(uids, uint64_t, i));
	}
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, sets);
	while (rc == 0 && g_hash_table_iter_next(&it, &k, &v)) {
		uint64_t fl = (uint64_t)*(int64_t *)k;
		g_autofree char *add = imapc_flag_list(fl, false);
		g_autofree char *del = imapc_flag_list(fl, true);
		GString *set = v;
		if (*add)
			rc = imapc_conn_run(c, imapc_cmd_new("UID STORE %s "
							   "+FLAGS.SILENT %s",
							   set->str, add),
					   NULL, NULL, NULL, e);
		if (rc == 0 && *del)
			rc = imapc_conn_run(c, imapc_cmd_new("UID STORE %s "
							   "-FLAGS.SILENT %s",
							   set->str, del),
					   NULL, NULL, NULL, e);
	}
	/* which of them the server has: a STORE to a gone UID does nothing */
	sc.uidvalidity = uv;
	sc.items = g_ptr_array_new_with_free_func((GDestroyNotify)mfs_item_free);
	if (rc == 0)
		rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %s "
						     IMAPC_LIST_ITEMS,
						     all->str),
				    imapc_items_cb, &sc, NULL, e);
	if (c)
		imapc_pool_put(be, c);
	if (rc == 0) {
		GHashTable *have = g_hash_table_new(g_str_hash, g_str_equal);
		for (guint i = 0; i < sc.items->len; i++)
			g_hash_table_add(have, ((struct mfs_item *)
						sc.items->pdata[i])->id);
		for (size_t i = 0; i < n; i++)
			rcs[i] = g_hash_table_contains(have, ids[i]) ? 0
								     : -ENOENT;
		g_hash_table_unref(have);
	}
	g_ptr_array_unref(sc.items);
	GHashTableIter fi;
	g_hash_table_iter_init(&fi, sets);
	while (g_hash_table_iter_next(&fi, NULL, &v))
		g_string_free(v, TRUE);
	g_hash_table_unref(sets);
	g_array_unref(uids);
	g_string_free(all, TRUE);
	return rc;
}

int imapc_set_flags(struct mfs_backend *be, const char *folder,
		    const char *const *ids, const uint64_t *flags, size_t n,
		    int *rcs, struct mfs_error *e)
{
	/* one alone fails when the message is gone, and says so */
	if (n == 1)
		return rcs[0] = imapc_flags_one(be, folder, ids[0], flags[0],
						e);
	return imapc_flags_many(be, folder, ids, flags, n, rcs, e);
}
