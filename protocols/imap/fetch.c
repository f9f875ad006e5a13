/*
 * fetch.c - a message's bytes: one into a file of its own, or several in
 * one UID FETCH for the prefetcher.
 *
 * RFC 3501 / RFC 9051 (UID FETCH BODY.PEEK[]).
 */
#include "imapc-private.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fileutil.h"

struct body_ctx {
	uint64_t uid;
	int fd;
	int err;
	bool got;
};

static int body_cb(struct imap_line *l, void *data)
{
	struct body_ctx *bc = data;
	GPtrArray *fl = imapc_fetch_list(l);
	uint64_t uid;
	struct imap_arg *body;

	if (!fl || !imap_arg_number(imapc_fetch_attr(fl, "UID"), &uid) ||
	    uid != bc->uid || !(body = imapc_fetch_attr(fl, "BODY[]")))
		return 0;
	if (body->type == IMAP_ARG_NIL) {
		bc->got = true;
		return 0;
	}
	if (body->fd >= 0) {
		/* a big body already in a file of its own: take that */
		close(bc->fd);
		bc->fd = body->fd;
		body->fd = -1;
		bc->got = true;
		return 0;
	}
	if (!imap_arg_is_string(body))
		return 0;
	bc->err = file_write_all(bc->fd, body->str, body->len);
	bc->got = true;
	return 0;
}

int imapc_fetch(struct mfs_backend *be, const char *folder, const char *id,
		int *fd_r, struct mfs_error *e)
{
	struct body_ctx bc = { 0 };
	uint64_t uv, cur_uv;
	struct imapc_conn *c;
	int rc = 0;

	if (imapc_parse_item_id(id, &uv, &bc.uid) < 0)
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s is not a message id of this server",
				     id);
	if ((rc = imapc_pool_get(be, folder, &c, &cur_uv, e)) < 0)
		return rc;
	if (cur_uv != uv) {
		imapc_pool_put(be, c);
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: UIDVALIDITY changed", folder);
	}
	bc.fd = memfd_create("mailfs-body", MFD_CLOEXEC);
	if (bc.fd < 0) {
		imapc_pool_put(be, c);
		return mfs_error_set(e, -errno, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
				     "memfd: %s", g_strerror(errno));
	}
	for (int attempt = 0; attempt < 2 && rc == 0 && !bc.got; attempt++) {
		/* the second time after a NOOP: see imapc_take_item() */
		if (attempt)
			rc = imapc_conn_run(c, imapc_cmd_new("NOOP"), NULL, NULL,
					   NULL, e);
		if (rc == 0)
			rc = imapc_conn_run(c, imapc_cmd_new(
						   "UID FETCH %" G_GUINT64_FORMAT
						   " (UID BODY.PEEK[])", bc.uid),
					   body_cb, &bc, NULL, e);
	}
	imapc_pool_put(be, c);
	if (rc == 0 && bc.err < 0)
		rc = mfs_error_set(e, bc.err, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
				   "storing the body: %s", g_strerror(-bc.err));
	if (rc == 0 && !bc.got)
		rc = mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				   "%s/%s is gone from the server", folder, id);
	if (rc < 0) {
		close(bc.fd);
		return rc;
	}
	lseek(bc.fd, 0, SEEK_SET);
	*fd_r = bc.fd;
	return 0;
}

struct batch_ctx {
	GHashTable *ids;		/* uid -> id (borrowed strings) */
	mfs_fetched_fn got;
	void *data;
};

static int batch_cb(struct imap_line *l, void *data)
{
	struct batch_ctx *bc = data;
	GPtrArray *fl = imapc_fetch_list(l);
	struct imap_arg *body;
	uint64_t uid;
	const char *id;

	if (!fl || !imap_arg_number(imapc_fetch_attr(fl, "UID"), &uid) ||
	    !(body = imapc_fetch_attr(fl, "BODY[]")) ||
	    !(id = g_hash_table_lookup(bc->ids, &uid)))
		return 0;
	if (body->fd >= 0 && body->len > 0) {
		/* kept in a file: mapped, not read into memory */
		void *map = mmap(NULL, body->len, PROT_READ, MAP_PRIVATE,
				 body->fd, 0);
		if (map == MAP_FAILED)
			return 0;
		bc->got(id, map, body->len, bc->data);
		munmap(map, body->len);
	} else if (imap_arg_is_string(body)) {
		bc->got(id, body->str, body->len, bc->data);
	} else {
		return 0;
	}
	g_hash_table_remove(bc->ids, &uid);	/* once per message */
	return 0;
}

int imapc_fetch_batch(struct mfs_backend *be, const char *folder,
		      const char *const *ids, size_t n, mfs_fetched_fn got,
		      void *data, struct mfs_error *e)
{
	struct batch_ctx bc = { g_hash_table_new_full(g_int64_hash,
						      g_int64_equal, g_free,
						      NULL), got, data };
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	struct imapc_conn *c;
	uint64_t cur_uv;
	int rc = imapc_pool_get(be, folder, &c, &cur_uv, e);

	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t uv, uid;
		if (imapc_parse_item_id(ids[i], &uv, &uid) < 0 || uv != cur_uv)
			continue;
		g_hash_table_insert(bc.ids, g_memdup2(&uid, sizeof(uid)),
				    (gpointer)ids[i]);
		g_array_append_val(uids, uid);
	}
	if (uids->len > 0) {
		g_array_sort(uids, imapc_uid_cmp);
		g_autofree char *set = imapc_make_set(uids);
		rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %s (UID "
						   "BODY.PEEK[])", set),
				   batch_cb, &bc, NULL, e);
	}
	imapc_pool_put(be, c);
out:
	g_array_unref(uids);
	g_hash_table_unref(bc.ids);
	return rc;
}