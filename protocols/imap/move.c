/*
 * move.c - messages moved or copied to another folder, one or several in
 * one exchange, and the ids they got there.
 *
 * RFC 3501 / RFC 9051 (UID COPY), RFC 6851 (MOVE), RFC 4315 (UIDPLUS:
 * COPYUID).  Without MOVE a move is COPY, then STORE \Deleted and
 * EXPUNGE; without UIDPLUS the copy is found by STATUS UIDNEXT and its
 * size.
 */
#include "imapc-private.h"

#include <errno.h>
#include <string.h>

struct copyuid_ctx {
	uint64_t uv, uid;
	bool found;
};

static int copyuid_cb(struct imap_line *l, void *data)
{
	struct copyuid_ctx *cc = data;

	if (imap_arg_is(imap_line_arg(l, 1), "OK") &&
	    imapc_uid_code(l, "COPYUID", &cc->uv, &cc->uid))
		cc->found = true;
	return 0;
}

static int transfer(struct mfs_backend *be, const char *folder,
		    const char *id, const char *dest, uint64_t flags,
		    bool move, struct mfs_item **item_r, struct mfs_error *e)
{
	g_autofree char *dserver = NULL;
	struct copyuid_ctx cc = { 0 };
	struct imap_line *done = NULL;
	struct mfs_item *src = NULL;
	struct imapc_conn *c;
	uint64_t uid, next = 0;
	int rc;

	if ((rc = imapc_server_name(be, dest, &dserver, e)) < 0)
		return rc;
	if ((rc = imapc_take_item(be, folder, id, &c, &uid, e)) < 0)
		return rc;
	bool uidplus = imapc_conn_cap(c, "UIDPLUS");
	bool can_move = move && imapc_conn_cap(c, "MOVE");
	imapc_pool_put(be, c);
	if (!uidplus && ((rc = imapc_item_of(be, folder, uid, &src, e)) < 0 ||
			 (rc = imapc_uidnext_of(be, dest, &next, e)) < 0)) {
		mfs_item_free(src);
		return rc;
	}
	if ((rc = imapc_take_item(be, folder, id, &c, &uid, e)) < 0) {
		mfs_item_free(src);
		return rc;
	}
	struct imapc_cmd *cmd = imapc_cmd_new("UID %s %" G_GUINT64_FORMAT,
					    can_move ? "MOVE" : "COPY", uid);
	imapc_cmd_astring(cmd, dserver, strlen(dserver));
	rc = imapc_conn_run(c, cmd, copyuid_cb, &cc, &done, e);
	if (rc == 0 && !cc.found)
		cc.found = imapc_uid_code(done, "COPYUID", &cc.uv, &cc.uid);
	imap_line_free(&done);
	if (rc == 0 && uidplus && !cc.found)
		/* with UIDPLUS a message copied is answered with its new
		 * UID: none means there was no such message (any more) */
		rc = mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				   "no message %s in %s", id, folder);
	if (rc == 0 && move && !can_move)
		rc = imapc_expunge_uid(c, uid, e);
	imapc_pool_put(be, c);
	if (rc < 0) {
		mfs_item_free(src);
		return rc;
	}
	struct mfs_item *it = NULL;
	if (cc.found)
		rc = imapc_item_of(be, dest, cc.uid, &it, e);
	else
		rc = imapc_find_new(be, dest, next, src ? src->size : 0, &it,
				    e);
	mfs_item_free(src);
	if (rc < 0)
		return rc;
	if ((it->flags & MFS_FLAG_LETTERS) != (flags & MFS_FLAG_LETTERS)) {
		rc = imapc_flags_one(be, dest, it->id, flags, e);
		it->flags = flags & MFS_FLAG_LETTERS;
	}
	if (rc < 0) {
		mfs_item_free(it);
		return rc;
	}
	*item_r = it;
	return 0;
}

/* COPYUID with sets, as a MOVE or COPY of several messages gets it. */
struct copyuid_sets {
	uint64_t uv;
	char *src, *dst;		/* owned */
};

static void copyuid_sets_take(struct copyuid_sets *cs, struct imap_line *l)
{
	struct imap_arg *code = imap_line_arg(l, 2);
	GPtrArray *cl = code && code->type == IMAP_ARG_CODE ? code->list : NULL;
	const char *src, *dst;

	if (!cl || cl->len < 4 || !imap_arg_is(cl->pdata[0], "COPYUID") ||
	    !imap_arg_number(cl->pdata[1], &cs->uv) ||
	    !(src = imap_arg_string(cl->pdata[2])) ||
	    !(dst = imap_arg_string(cl->pdata[3])))
		return;
	g_free(cs->src);
	g_free(cs->dst);
	cs->src = g_strdup(src);
	cs->dst = g_strdup(dst);
}

static int copyuid_sets_cb(struct imap_line *l, void *data)
{
	if (imap_arg_is(imap_line_arg(l, 1), "OK"))
		copyuid_sets_take(data, l);
	return 0;
}

/*
 * The n messages of the source's UIDs `uids` as `dest` holds them, by the
 * COPYUID mapping `src` -> `dst` (in UIDVALIDITY `dst_uv`), NULL where
 * none; then the flags that differ from flags[i] set.  Caller owns
 * *items_r.
 */
static int moved_items(struct mfs_backend *be, const char *dest,
		       GArray *uids, GArray *src, GArray *dst, uint64_t dst_uv,
		       const uint64_t *flags, size_t n, GPtrArray **items_r,
		       struct mfs_error *e)
{
	GPtrArray *items = NULL, *got = NULL;
	int rc = 0;

	/* the messages as the target has them, then their flags */
	GString *dset = g_string_new(NULL);
	for (guint i = 0; rc == 0 && i < dst->len; i++)
		g_string_append_printf(dset, "%s%" G_GUINT64_FORMAT,
				       i ? "," : "",
				       g_array_index(dst, uint64_t, i));
	if (rc == 0 && dset->len)
		rc = imapc_items_in(be, dest, dset->str, &got, e);
	g_string_free(dset, TRUE);
	if (rc == 0) {
		items = g_ptr_array_new_full(n, (GDestroyNotify)mfs_item_free);
		GPtrArray *fix_ids = g_ptr_array_new();
		GArray *fix_flags = g_array_new(FALSE, FALSE, sizeof(uint64_t));
		for (size_t i = 0; i < n; i++) {
			struct mfs_item *it = NULL;
			uint64_t want = g_array_index(uids, uint64_t, i);
			for (guint k = 0; k < src->len && !it; k++) {
				if (g_array_index(src, uint64_t, k) != want)
					continue;
				g_autofree char *id = imapc_item_id(
					dst_uv, g_array_index(dst, uint64_t, k));
				for (guint j = 0; got && j < got->len; j++) {
					struct mfs_item *g = got->pdata[j];
					if (!strcmp(g->id, id))
						it = mfs_item_dup(g);
				}
			}
			if (it && (it->flags & MFS_FLAG_LETTERS) !=
			    (flags[i] & MFS_FLAG_LETTERS)) {
				it->flags = flags[i] & MFS_FLAG_LETTERS;
				g_ptr_array_add(fix_ids, it->id);
				g_array_append_val(fix_flags, flags[i]);
			}
			g_ptr_array_add(items, it);
		}
		if (fix_ids->len) {
			int *rcs = g_new0(int, fix_ids->len);
			rc = imapc_flags_many(be, dest,
					      (const char *const *)
					      fix_ids->pdata,
					      (const uint64_t *)fix_flags->data,
					      fix_ids->len, rcs, e);
			g_free(rcs);
		}
		g_ptr_array_unref(fix_ids);
		g_array_unref(fix_flags);
	}
	if (got)
		g_ptr_array_unref(got);
	if (rc < 0) {
		if (items)
			g_ptr_array_unref(items);
		return rc;
	}
	*items_r = items;
	return 0;
}

/* UID MOVE (or COPY) of all in one command; -ENOTSUP (nothing sent)
 * without UIDPLUS, whose COPYUID says where each went. */
static int move_many(struct mfs_backend *be, const char *folder,
		     const char *const *ids, const char *dest,
		     const uint64_t *flags, size_t n, bool move,
		     GPtrArray **items_r, struct mfs_error *e)
{
	g_autofree char *dserver = NULL;
	struct copyuid_sets cs = { 0 };
	struct imap_line *done = NULL;
	struct imapc_conn *c = NULL;
	GString *set = g_string_new(NULL);
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GArray *src = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GArray *dst = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	uint64_t uv = 0;
	int rc = imapc_server_name(be, dest, &dserver, e);

	if (rc == 0 && (rc = imapc_take_batch(be, folder, ids, n, &uv, uids,
					      set, &c, e)) < 0)
		c = NULL;
	/* the UIDs in the target come from COPYUID: without UIDPLUS each
	 * message is found on its own */
	if (rc == 0 && !imapc_conn_cap(c, "UIDPLUS"))
		rc = mfs_error_set(e, -ENOTSUP, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				   "no UIDPLUS");
	bool can_move = move && c && imapc_conn_cap(c, "MOVE");
	if (rc == 0) {
		struct imapc_cmd *cmd = imapc_cmd_new("UID %s %s", can_move
						    ? "MOVE" : "COPY",
						    set->str);
		imapc_cmd_astring(cmd, dserver, strlen(dserver));
		rc = imapc_conn_run(c, cmd, copyuid_sets_cb, &cs, &done, e);
	}
	if (rc == 0 && !cs.src)
		copyuid_sets_take(&cs, done);
	imap_line_free(&done);
	if (rc == 0 && move && !can_move)
		rc = imapc_expunge_set(c, set->str, e);
	if (c)
		imapc_pool_put(be, c);
	/* none of them was there: no COPYUID at all */
	if (rc == 0 && cs.src &&
	    (!imapc_uid_set_expand(cs.src, n, src) ||
	     !imapc_uid_set_expand(cs.dst, n, dst) || src->len != dst->len))
		rc = mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER, MFS_ERR_TRANSIENT,
				   "%s: a COPYUID that does not add up",
				   folder);
	if (rc == 0)
		rc = moved_items(be, dest, uids, src, dst, cs.uv, flags, n,
				 items_r, e);
	g_string_free(set, TRUE);
	g_array_unref(uids);
	g_array_unref(src);
	g_array_unref(dst);
	g_free(cs.src);
	g_free(cs.dst);
	return rc;
}

int imapc_move(struct mfs_backend *be, const char *folder,
	       const char *const *ids, const char *dest, const uint64_t *flags,
	       size_t n, bool move, GPtrArray **items_r, struct mfs_error *e)
{
	struct mfs_item *it = NULL;
	int rc;

	if (n != 1)
		return move_many(be, folder, ids, dest, flags, n, move, items_r,
				 e);
	/* one alone needs neither MOVE nor UIDPLUS */
	rc = transfer(be, folder, ids[0], dest, flags[0], move, &it, e);
	if (rc < 0)
		return rc;
	*items_r = mfs_items_one(it);
	return 0;
}
