/*
 * lookup.c - the message an ItemId names, each folder read once
 * per request.
 */
#include "lookup.h"

#include <errno.h>
#include <string.h>

void ewsd_lookup_init(struct ewsd_lookup *lk)
{
	lk->folders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)g_hash_table_unref);
}

void ewsd_lookup_clear(struct ewsd_lookup *lk)
{
	g_clear_pointer(&lk->folders, g_hash_table_unref);
}

int ewsd_lookup_folder(struct ewsd_call *call, struct ewsd_lookup *lk,
		      const char *folder, GHashTable **items_r)
{
	GHashTable *items = g_hash_table_lookup(lk->folders, folder);
	struct mfs_sync_result *res = NULL;
	int rc;

	if (items) {
		*items_r = items;
		return 0;
	}
	rc = mfs_store_sync(call->ctx->store, folder, NULL, &res, NULL);
	if (rc < 0)
		return rc;
	items = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
				      (GDestroyNotify)mfs_item_free);
	for (guint i = 0; i < res->changed->len; i++) {
		struct mfs_item *it = res->changed->pdata[i];
		res->changed->pdata[i] = NULL;
		g_hash_table_replace(items, it->id, it);
	}
	mfs_sync_result_free(&res);
	g_hash_table_insert(lk->folders, g_strdup(folder), items);
	*items_r = items;
	return 0;
}

int ewsd_lookup_item(struct ewsd_call *call, struct ewsd_lookup *lk,
		    const xmlNode *ref, const char **folder_r,
		    struct mfs_item **it_r)
{
	g_autofree char *b64 = ews_attr(ref, "Id");
	g_autofree char *id = NULL, *folder = NULL;
	GHashTable *items = NULL;
	gpointer key = NULL;
	struct mfs_item *it;
	int rc;

	if (!ews_is(ref, EWS_NS_T, "ItemId") ||
	    ewsd_item_id_parse(b64, &id, &folder) < 0)
		return -EINVAL;
	/* the folder comes from the client: only the store's own mail
	   folders are looked at */
	if (!ewsd_folder_known(call, folder))
		return -ENOENT;
	rc = ewsd_lookup_folder(call, lk, folder, &items);
	if (rc < 0)
		return rc;
	it = g_hash_table_lookup(items, id);
	if (!it)
		return -ENOENT;
	g_hash_table_lookup_extended(lk->folders, folder, &key, NULL);
	*folder_r = key;
	*it_r = it;
	return 0;
}

void ewsd_lookup_drop(struct ewsd_lookup *lk, const char *folder,
		     const char *id)
{
	GHashTable *items = g_hash_table_lookup(lk->folders, folder);

	if (items)
		g_hash_table_remove(items, id);
}

const char *ewsd_lookup_error_code(int rc)
{
	switch (rc) {
	case -EINVAL:
		return "ErrorInvalidIdMalformed";
	case -ENOENT:
		return "ErrorItemNotFound";
	default:
		return "ErrorInternalServerError";
	}
}
