/*
 * append.c - new messages: APPEND one, or several in one command, and the
 * ids the server gave them.
 *
 * RFC 3501 / RFC 9051 (APPEND), RFC 3502 (MULTIAPPEND), RFC 4315
 * (UIDPLUS: APPENDUID).  Without UIDPLUS the new message is found by
 * STATUS UIDNEXT and its size.
 */
#include "imapc-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static int append_one(struct mfs_backend *be, const char *folder, int fd,
		      const char *hint, uint64_t flags, int64_t date,
		      struct mfs_item **item_r, struct mfs_error *e)
{
	g_autofree char *server = NULL;
	g_autofree char *fl = imapc_flags_to_list(flags);
	struct imap_line *done = NULL;
	uint64_t uv = 0, uid = 0, next = 0;
	struct imapc_conn *c;
	struct stat sb;
	char when[64];
	int rc;

	if (fstat(fd, &sb) != 0)
		return mfs_error_set(e, -errno, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
				     "%s", g_strerror(errno));
	if ((rc = imapc_server_name(be, folder, &server, e)) < 0 ||
	    (rc = imapc_pool_get(be, NULL, &c, NULL, e)) < 0)
		return rc;
	bool uidplus = imapc_conn_cap(c, "UIDPLUS");
	if (!uidplus && (rc = imapc_uidnext_of(be, folder, &next, e)) < 0) {
		imapc_pool_put(be, c);
		return rc;
	}
	imapc_format_date(date, when, sizeof(when));
	struct imapc_cmd *cmd = imapc_cmd_new("APPEND");
	imapc_cmd_astring(cmd, server, strlen(server));
	imapc_cmd_add(cmd, "%s \"%s\"", fl, when);
	imapc_cmd_literal_fd(cmd, fd, (uint64_t)sb.st_size);
	rc = imapc_conn_run(c, cmd, NULL, NULL, &done, e);
	imapc_pool_put(be, c);
	if (rc < 0)
		return rc;
	bool got = imapc_uid_code(done, "APPENDUID", &uv, &uid);
	imap_line_free(&done);
	if (got) {
		g_autofree char *id = imapc_item_id(uv, uid);
		*item_r = mfs_item_new(id, (uint64_t)sb.st_size, date,
				       flags & MFS_FLAG_LETTERS);
		return 0;
	}
	return imapc_find_new(be, folder, next, (uint64_t)sb.st_size, item_r,
			      e);
}

/* MULTIAPPEND: all stored or none; -ENOTSUP (nothing sent) where the
 * server cannot, or could not say which UID each got. */
static int append_many(struct mfs_backend *be, const char *folder,
		       const struct mfs_append *in, size_t n,
		       GPtrArray **items_r, struct mfs_error *e)
{
	g_autofree char *server = NULL;
	struct imap_line *done = NULL;
	struct imapc_conn *c;
	GArray *sizes, *uids;
	int rc;

	if ((rc = imapc_server_name(be, folder, &server, e)) < 0 ||
	    (rc = imapc_pool_get(be, NULL, &c, NULL, e)) < 0)
		return rc;
	/* without UIDPLUS the new messages could not be told apart */
	if (!imapc_conn_cap(c, "MULTIAPPEND") || !imapc_conn_cap(c, "UIDPLUS")) {
		imapc_pool_put(be, c);
		return mfs_error_set(e, -ENOTSUP, MFS_ERR_ACCOUNT,
				     MFS_ERR_FINAL, "no MULTIAPPEND");
	}
	sizes = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	struct imapc_cmd *cmd = imapc_cmd_new("APPEND");
	imapc_cmd_astring(cmd, server, strlen(server));
	for (size_t i = 0; i < n; i++) {
		g_autofree char *fl = imapc_flags_to_list(in[i].flags);
		struct stat sb;
		char when[64];
		if (fstat(in[i].fd, &sb) != 0) {
			rc = mfs_error_set(e, -errno, MFS_ERR_ITEM,
					   MFS_ERR_TRANSIENT, "%s",
					   g_strerror(errno));
			imapc_cmd_free(&cmd);
			imapc_pool_put(be, c);
			g_array_unref(sizes);
			return rc;
		}
		uint64_t size = (uint64_t)sb.st_size;
		g_array_append_val(sizes, size);
		imapc_format_date(in[i].date, when, sizeof(when));
		imapc_cmd_add(cmd, "%s \"%s\"", fl, when);
		imapc_cmd_literal_fd(cmd, in[i].fd, size);
	}
	rc = imapc_conn_run(c, cmd, NULL, NULL, &done, e);
	imapc_pool_put(be, c);
	if (rc < 0) {
		g_array_unref(sizes);
		return rc;
	}
	struct imap_arg *code = imap_line_arg(done, 2);
	GPtrArray *cl = code && code->type == IMAP_ARG_CODE ? code->list : NULL;
	uint64_t uv = 0;
	uids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	bool ok = cl && cl->len >= 3 && imap_arg_is(cl->pdata[0], "APPENDUID") &&
		  imap_arg_number(cl->pdata[1], &uv) &&
		  imapc_uid_set_expand(imap_arg_string(cl->pdata[2]), n,
				       uids) &&
		  uids->len == n;
	imap_line_free(&done);
	if (!ok) {
		/* stored, but which is which cannot be said: the caller
		 * finds them as after a lost answer */
		g_array_unref(sizes);
		g_array_unref(uids);
		return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER,
				     MFS_ERR_TRANSIENT, "%s: the server did not "
				     "say which UIDs the messages got", folder);
	}
	GPtrArray *items = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_item_free);
	for (size_t i = 0; i < n; i++) {
		g_autofree char *id = imapc_item_id(uv, g_array_index(uids,
								     uint64_t,
								     i));
		g_ptr_array_add(items, mfs_item_new(
			id, g_array_index(sizes, uint64_t, i), in[i].date,
			in[i].flags & MFS_FLAG_LETTERS));
	}
	g_array_unref(sizes);
	g_array_unref(uids);
	*items_r = items;
	return 0;
}

int imapc_append(struct mfs_backend *be, const char *folder,
		 const struct mfs_append *in, size_t n, GPtrArray **items_r,
		 struct mfs_error *e)
{
	struct mfs_item *it = NULL;
	int rc;

	if (n != 1)
		return append_many(be, folder, in, n, items_r, e);
	/* one alone needs neither MULTIAPPEND nor UIDPLUS */
	rc = append_one(be, folder, in->fd, in->hint, in->flags, in->date, &it,
			e);
	if (rc < 0)
		return rc;
	*items_r = mfs_items_one(it);
	return 0;
}
