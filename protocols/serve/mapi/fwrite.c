/*
 * fwrite.c - the changes a client makes to the messages of a folder
 * through the folder object: RopSetReadFlags, RopDeleteMessages,
 * RopHardDeleteMessages, RopMoveCopyMessages and RopEmptyFolder.
 *
 * Specs: MS-OXCROPS 2.2.4.6, 2.2.4.9, 2.2.4.11, 2.2.4.12, 2.2.6.10;
 * MS-OXCFOLD 2.2.1.6, 2.2.1.9, 2.2.1.11, 2.2.1.12 (PartialCompletion:
 * some of the messages named could not be changed); MS-OXCMSG 2.2.3.10.1
 * (the ReadFlags bits); MS-OXCDATA 2.2.1.2 (message ids).
 *
 * Every change goes through the store's own functions, the ones serve's
 * IMAP and EWS use, so that each protocol sees the others' changes.  A
 * message another writer removed meanwhile is one not found, which the
 * response tells by PartialCompletion, as a real server does; so is a
 * MID that names nothing in the folder.  The store keeps no soft-deleted
 * messages: RopDeleteMessages removes as RopHardDeleteMessages does.  A
 * message moved gets a new MID in its new folder, as it does on a real
 * server (its old MID is forgotten); a copy keeps the original.
 * RopEmptyFolder removes the folder's messages and leaves its
 * sub-folders, which are removed one by one with RopDeleteFolder.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "wire/rop-msg.h"
#include "mapid-private.h"

/* The ReadFlags of RopSetReadFlags, MS-OXCMSG 2.2.3.10.1. */
#define RF_SUPPRESS_RECEIPT	0x01
#define RF_CLEAR_READ_FLAG	0x04
#define RF_GENERATE_RECEIPT_ONLY 0x10
#define RF_CLEAR_NOTIFY_READ	0x20
#define RF_CLEAR_NOTIFY_UNREAD	0x40

const struct mapid_folder *mapid_tree_find(GArray *tree, uint64_t c)
{
	for (guint i = 0; i < tree->len; i++)
		if (g_array_index(tree, struct mapid_folder, i).counter == c)
			return &g_array_index(tree, struct mapid_folder, i);
	return NULL;
}

const struct mapid_folder *mapid_folder_at(struct mapid_rop_ctx *rc,
					   uint8_t idx, GArray **tree_r,
					   uint32_t *rv_r)
{
	struct mapid_obj *o = mapid_obj_at(rc, idx, rv_r);
	const struct mapid_folder *f;

	*tree_r = NULL;
	if (!o)
		return NULL;
	if (o->kind != MAPID_OBJ_FOLDER) {
		*rv_r = MAPI_E_INVALID_PARAMETER;
		return NULL;
	}
	if (mapid_folder_tree(rc->ctx, tree_r) < 0) {
		*rv_r = MAPI_E_CALL_FAILED;
		return NULL;
	}
	f = mapid_tree_find(*tree_r, mapid_id_counter(o->fid));
	if (!f) {
		/* deleted or moved away behind the object's back */
		*rv_r = MAPI_E_NOT_FOUND;
		g_clear_pointer(tree_r, g_array_unref);
	}
	return f;
}

int mapid_folder_items(const struct serve_ctx *ctx, const char *path,
		       GPtrArray **items_r, uint64_t **mids_r)
{
	struct mfs_sync_result *res = NULL;
	uint64_t *mids;
	int err = mfs_store_sync(ctx->store, path, NULL, &res, NULL);

	if (err < 0)
		return err;
	mids = g_new(uint64_t, res->changed->len + 1);
	for (guint i = 0; i < res->changed->len; i++) {
		const struct mfs_item *it = res->changed->pdata[i];
		mids[i] = mapid_id_make(mapid_message_counter(path, it->id));
	}
	*items_r = g_steal_pointer(&res->changed);
	res->changed = g_ptr_array_new();
	mfs_sync_result_free(&res);
	*mids_r = mids;
	return 0;
}

/* The item of `mid` among `items`, or NULL. */
static const struct mfs_item *item_of(GPtrArray *items, const uint64_t *mids,
				      uint64_t mid)
{
	for (guint i = 0; i < items->len; i++)
		if (mids[i] == mid)
			return items->pdata[i];
	return NULL;
}

/* The messages of the folder object at `idx`, with the folder's store
 * path (*path_r, caller owns).  Returns 0 or the ReturnValue to answer;
 * a folder of the server's own holds nothing. */
static uint32_t folder_messages(struct mapid_rop_ctx *rc, uint8_t idx,
				char **path_r, GPtrArray **items_r,
				uint64_t **mids_r)
{
	GArray *t = NULL;
	uint32_t rv;
	const struct mapid_folder *f = mapid_folder_at(rc, idx, &t, &rv);

	*path_r = NULL;
	*items_r = NULL;
	*mids_r = NULL;
	if (!f)
		return rv;
	if (f->path)
		*path_r = g_strdup(f->path);
	g_array_unref(t);
	if (!*path_r) {
		*items_r = g_ptr_array_new();
		return 0;
	}
	if (mapid_folder_items(rc->ctx, *path_r, items_r, mids_r) < 0) {
		g_clear_pointer(path_r, g_free);
		return MAPI_E_CALL_FAILED;
	}
	return 0;
}

/* `items` frees its own (the store's array). */
static void items_unref(GPtrArray *items)
{
	if (items)
		g_ptr_array_unref(items);
}

/* The Maildir flags a message has after `read_flags`. */
static uint64_t read_flags_apply(uint64_t flags, uint8_t read_flags)
{
	if (read_flags & RF_CLEAR_READ_FLAG)
		return flags & ~MFS_FLAG_SEEN;
	/* receipts and their notify bits: no read state changes */
	if (read_flags & (RF_GENERATE_RECEIPT_ONLY | RF_CLEAR_NOTIFY_READ |
			  RF_CLEAR_NOTIFY_UNREAD))
		return flags;
	/* rfDefault, rfSuppressReceipt: read, and no longer new */
	return (flags | MFS_FLAG_SEEN) & ~MFS_FLAG_NEW;
}

int mapid_rop_set_read_flags(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			     GByteArray *out)
{
	struct rop_set_read_flags_req q;
	struct rop_partial_resp s = { 0 };
	g_autofree char *path = NULL;
	g_autofree uint64_t *mids = NULL;
	GPtrArray *items = NULL;
	int err = rop_set_read_flags_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SET_READ_FLAGS;
	s.head.handle_index = q.input_handle_index;
	s.head.rv = folder_messages(rc, q.input_handle_index, &path, &items,
				    &mids);
	for (size_t i = 0; !s.head.rv && i < q.n_mids; i++) {
		const struct mfs_item *it = item_of(items, mids, q.mids[i]);
		uint64_t want;

		if (!it) {
			s.partial_completion = 1;
			continue;
		}
		want = read_flags_apply(it->flags, q.read_flags);
		if (want != it->flags &&
		    mfs_store_set_flags(rc->ctx->store, path, it->id, want,
					NULL) < 0)
			s.partial_completion = 1;
	}
	items_unref(items);
	rop_set_read_flags_req_clear(&q);
	rop_set_read_flags_resp_write(out, &s);
	return 0;
}

/* Remove the messages `mids` of the folder at `idx`; *partial_r set when
 * some were not there.  Returns 0 or the ReturnValue to answer. */
static uint32_t remove_mids(struct mapid_rop_ctx *rc, uint8_t idx,
			    const uint64_t *want, size_t n, uint8_t *partial_r)
{
	g_autofree char *path = NULL;
	g_autofree uint64_t *mids = NULL;
	GPtrArray *items = NULL;
	uint32_t rv = folder_messages(rc, idx, &path, &items, &mids);

	for (size_t i = 0; !rv && i < n; i++) {
		const struct mfs_item *it = item_of(items, mids, want[i]);
		struct mfs_error e = { 0 };

		if (!it) {
			*partial_r = 1;
			continue;
		}
		if (mfs_store_remove(rc->ctx->store, path, it->id, &e) < 0) {
			log_info("mapi: %s: cannot remove %s from %s: %s",
				 rc->sess->c.user, it->id, path, e.msg);
			*partial_r = 1;
			continue;
		}
		mapid_message_forget(path, it->id);
	}
	items_unref(items);
	return rv;
}

static int delete_messages(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			   GByteArray *out, bool hard)
{
	struct rop_delete_messages_req q;
	struct rop_partial_resp s = { 0 };
	int err = hard ? rop_hard_delete_messages_req_read(r, &q)
		       : rop_delete_messages_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = hard ? ROP_HARD_DELETE_MESSAGES : ROP_DELETE_MESSAGES;
	s.head.handle_index = q.input_handle_index;
	s.head.rv = remove_mids(rc, q.input_handle_index, q.mids, q.n_mids,
				&s.partial_completion);
	rop_delete_messages_req_clear(&q);
	if (hard)
		rop_hard_delete_messages_resp_write(out, &s);
	else
		rop_delete_messages_resp_write(out, &s);
	return 0;
}

int mapid_rop_delete_messages(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out)
{
	return delete_messages(rc, r, out, false);
}

int mapid_rop_hard_delete_messages(struct mapid_rop_ctx *rc,
				   struct mapi_rd *r, GByteArray *out)
{
	return delete_messages(rc, r, out, true);
}

/* The store path of the destination folder object at `idx`: 0, or the
 * ReturnValue (ecDstNullObject when no object is there). */
static uint32_t dest_path(struct mapid_rop_ctx *rc, uint8_t idx,
			  char **path_r)
{
	GArray *t = NULL;
	uint32_t rv;
	const struct mapid_folder *f;

	*path_r = NULL;
	if (!mapid_obj_at(rc, idx, &rv))
		return ROP_E_DST_NULL_OBJECT;
	f = mapid_folder_at(rc, idx, &t, &rv);
	if (!f)
		return rv;
	if (f->path)
		*path_r = g_strdup(f->path);
	else
		rv = MAPI_E_NO_ACCESS;	/* the server's own: holds nothing */
	g_array_unref(t);
	return rv;
}

int mapid_rop_move_copy_messages(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				 GByteArray *out)
{
	struct rop_move_copy_messages_req q;
	struct rop_move_copy_messages_resp s = { 0 };
	g_autofree char *path = NULL, *dest = NULL;
	g_autofree uint64_t *mids = NULL;
	GPtrArray *items = NULL;
	int err = rop_move_copy_messages_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_MOVE_COPY_MESSAGES;
	s.head.handle_index = q.source_handle_index;
	s.head.rv = folder_messages(rc, q.source_handle_index, &path, &items,
				    &mids);
	if (!s.head.rv)
		s.head.rv = dest_path(rc, q.dest_handle_index, &dest);
	if (s.head.rv == ROP_E_DST_NULL_OBJECT)
		s.dest_handle_index = q.dest_handle_index;
	for (size_t i = 0; !s.head.rv && i < q.n_mids; i++) {
		const struct mfs_item *it = item_of(items, mids, q.mids[i]);
		struct mfs_item *moved = NULL;
		struct mfs_error e = { 0 };
		int rc2;

		if (!it) {
			s.partial = 1;
			continue;
		}
		if (!q.want_copy && !strcmp(path, dest))
			continue;	/* already where it is asked to go */
		rc2 = q.want_copy
			? mfs_store_copy(rc->ctx->store, path, it->id, dest,
					 it->flags, &moved, &e)
			: mfs_store_move(rc->ctx->store, path, it->id, dest,
					 it->flags, &moved, &e);
		if (rc2 < 0) {
			log_info("mapi: %s: cannot %s %s from %s to %s: %s",
				 rc->sess->c.user, q.want_copy ? "copy" : "move",
				 it->id, path, dest, e.msg);
			s.partial = 1;
			continue;
		}
		if (!q.want_copy)
			mapid_message_forget(path, it->id);
		if (moved)
			/* its MID in its new folder, given now */
			mapid_message_counter(dest, moved->id);
		mfs_item_free(moved);
	}
	items_unref(items);
	rop_move_copy_messages_req_clear(&q);
	rop_move_copy_messages_resp_write(out, &s);
	return 0;
}

int mapid_rop_empty_folder(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			   GByteArray *out)
{
	struct rop_empty_folder_req q;
	struct rop_partial_resp s = { 0 };
	g_autofree char *path = NULL;
	g_autofree uint64_t *mids = NULL;
	GPtrArray *items = NULL;
	int err = rop_empty_folder_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_EMPTY_FOLDER;
	s.head.handle_index = q.input_handle_index;
	s.head.rv = folder_messages(rc, q.input_handle_index, &path, &items,
				    &mids);
	/* associated (FAI) messages: none in this store */
	for (guint i = 0; !s.head.rv && i < items->len; i++) {
		const struct mfs_item *it = items->pdata[i];
		int rc2 = mfs_store_remove(rc->ctx->store, path, it->id, NULL);

		if (rc2 < 0 && rc2 != -ENOENT)
			s.partial_completion = 1;
		else
			mapid_message_forget(path, it->id);
	}
	items_unref(items);
	rop_empty_folder_resp_write(out, &s);
	return 0;
}
