/*
 * write.c - new, edited and removed cards and events, as the write-back
 * journal replays them.
 *
 * Specs: RFC 9110 13.1.1 (If-Match), 13.1.2 (If-None-Match: *), 15.5.13
 * (412 Precondition Failed), RFC 6352 6.3.2 and RFC 4791 5.3.2 (creating
 * and changing an object resource with PUT), RFC 4918 9.6 (DELETE).
 *
 * A new file is a PUT with If-None-Match: *, so that it never replaces
 * what another client made under the same name; an edit and a removal
 * carry the ETag the mount read the item with (If-Match), so that a
 * change made on the server meanwhile is never overwritten nor removed:
 * the server answers 412, the journal keeps the user's bytes in
 * sync-issues/ and the next sync brings the server's version.  After a
 * PUT the item is read back, since a server may store other bytes than
 * it was sent (Radicale writes the card again in its own form): the
 * mount then shows what the server holds, at its exact size.
 */
#include "davc-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"

/* Read what in->fd holds, from offset 0, within DAVC_ITEM_MAX. */
static int slurp(const struct mfs_append *in, const char *folder,
		 char **buf_r, size_t *len_r, struct mfs_error *e)
{
	int rc;

	if (lseek(in->fd, 0, SEEK_SET) < 0)
		return mfs_error_set(e, -errno, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: %s", folder, g_strerror(errno));
	rc = file_read_head(in->fd, DAVC_ITEM_MAX + 1, buf_r, len_r);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: %s", folder, g_strerror(-rc));
	if (*len_r > DAVC_ITEM_MAX) {
		g_free(*buf_r);
		return mfs_error_set(e, -EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: larger than %u bytes", folder,
				     DAVC_ITEM_MAX);
	}
	return 0;
}

/* The name a new item gets on the server: the writer's, when it may be
 * one, else a fresh one.  Caller owns. */
static char *new_name(struct mfs_backend *be, const char *hint)
{
	const char *suffix = be->cfg.kind == MFS_FOLDER_CALENDAR ? ".ics"
								 : ".vcf";

	if (hint && *hint && hint[0] != '.' && !strchr(hint, '/') &&
	    g_str_has_suffix(hint, suffix) && strlen(hint) <= 200 &&
	    g_utf8_validate(hint, -1, NULL))
		return g_strdup(hint);
	g_autofree char *uuid = g_uuid_string_random();
	return g_strconcat(uuid, suffix, NULL);
}

/* PUT `buf` at `href` under the precondition, then read it back. */
static int put_one(struct mfs_backend *be, const char *folder,
		   const char *coll, const char *id, const char *href,
		   const char *if_match, const char *buf, size_t len,
		   struct mfs_item **item_r, struct mfs_error *e)
{
	struct davc_req rq = {
		.method = "PUT", .path = href, .depth = -1,
		.ctype = be->cfg.kind == MFS_FOLDER_CALENDAR
				 ? "text/calendar; charset=utf-8"
				 : "text/vcard; charset=utf-8",
		.body = buf, .len = len, .if_match = if_match,
		.if_none_match = if_match == NULL, .max = 65536 };
	g_autofree char *what = g_strdup_printf("PUT %s", href);
	g_autofree char *etag = NULL;
	struct davc_reply rep;
	GString *body = NULL;
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	int rc;

	if ((rc = davc_http(be, &rq, &rep, e)) < 0)
		return rc;
	if (rep.status != 200 && rep.status != 201 && rep.status != 204) {
		rc = davc_status_error(be, rep.status, what, MFS_ERR_ITEM, e);
		davc_reply_clear(&rep);
		return rc;
	}
	davc_reply_clear(&rep);
	if ((rc = davc_get(be, folder, href, &body, &etag, e)) < 0)
		return rc;
	g_mutex_lock(&be->lock);
	struct davc_table *t = davc_table_get(be, folder, coll);
	davc_table_put(t, id, href, etag ? etag : "", body->len, now);
	davc_table_save(be, folder, t);
	g_mutex_unlock(&be->lock);
	*item_r = mfs_item_new(id, body->len, now, 0);
	g_string_free(body, TRUE);
	return 0;
}

int davc_append(struct mfs_backend *be, const char *folder,
		const struct mfs_append *in, size_t n, GPtrArray **items_r,
		struct mfs_error *e)
{
	g_autofree char *coll = NULL, *href = NULL, *etag = NULL;
	g_autofree char *id = NULL, *buf = NULL;
	struct mfs_item *item = NULL;
	size_t len = 0;
	int rc;

	if (n != 1)
		return -ENOTSUP;
	if ((rc = davc_coll_href(be, folder, &coll, e)) < 0 ||
	    (rc = slurp(in, folder, &buf, &len, e)) < 0)
		return rc;
	g_mutex_lock(&be->lock);
	struct davc_table *t = davc_table_get(be, folder, coll);
	const struct davc_known *k = in->hint
		? g_hash_table_lookup(t->items, in->hint) : NULL;
	if (k) {
		/* the writer's file replaces the item of that name */
		id = g_strdup(in->hint);
		href = g_strdup(k->href);
		etag = g_strdup(k->etag);
	}
	g_mutex_unlock(&be->lock);
	if (!id) {
		g_autofree char *name = new_name(be, in->hint);
		g_autofree char *esc = g_uri_escape_string(name, NULL, FALSE);
		href = g_strconcat(coll, esc, NULL);
		id = g_strdup(name);
	}
	/* an item whose ETag is unknown is replaced only if still there */
	rc = put_one(be, folder, coll, id, href,
		     etag ? (*etag ? etag : "*") : NULL, buf, len, &item, e);
	if (rc < 0)
		return rc;
	*items_r = mfs_items_one(item);
	return 0;
}

static int remove_one(struct mfs_backend *be, const char *folder,
		      const char *id, bool alone, struct mfs_error *e)
{
	g_autofree char *href = NULL, *etag = NULL, *what = NULL;
	struct davc_reply rep;
	int rc;

	g_mutex_lock(&be->lock);
	struct davc_table *t = davc_table_get(be, folder, NULL);
	const struct davc_known *k = g_hash_table_lookup(t->items, id);
	if (k) {
		href = g_strdup(k->href);
		etag = g_strdup(k->etag);
	}
	g_mutex_unlock(&be->lock);
	if (!href)
		return alone ? mfs_error_set(e, -ENOENT, MFS_ERR_ITEM,
					     MFS_ERR_FINAL, "%s/%s: not on "
					     "the server", folder, id)
			     : 0;
	struct davc_req rq = { .method = "DELETE", .path = href, .depth = -1,
			       .if_match = etag && *etag ? etag : NULL,
			       .max = 65536 };
	what = g_strdup_printf("DELETE %s", href);
	if ((rc = davc_http(be, &rq, &rep, e)) < 0)
		return rc;
	if (rep.status == 404 || rep.status == 410)
		rc = alone ? davc_status_error(be, rep.status, what,
					       MFS_ERR_ITEM, e) : 0;
	else if (rep.status != 200 && rep.status != 204)
		rc = davc_status_error(be, rep.status, what, MFS_ERR_ITEM, e);
	davc_reply_clear(&rep);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	g_mutex_lock(&be->lock);
	t = davc_table_get(be, folder, NULL);
	davc_table_drop(t, id);
	davc_table_save(be, folder, t);
	g_mutex_unlock(&be->lock);
	return rc;
}

int davc_remove(struct mfs_backend *be, const char *folder,
		const char *const *ids, size_t n, struct mfs_error *e)
{
	/* one DELETE per item: several are not made together */
	if (n != 1)
		return -ENOTSUP;
	return remove_one(be, folder, ids[0], true, e);
}
