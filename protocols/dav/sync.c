/*
 * sync.c - a folder's changes since its state, and an item's bytes.
 *
 * Specs: RFC 6578 (sync-collection: 3.2 the request with Depth 0 and
 * sync-level 1, 3.5 a member gone is a response with status 404, 3.6 a
 * result cut short is a 507 for the request URI, 3.8 a token the server
 * no longer knows is refused with DAV:valid-sync-token, then a sync from
 * scratch), caldav-ctag-03 (getctag), RFC 4918 9.1 (PROPFIND Depth 1),
 * RFC 9110 (GET, ETag).
 *
 * See davc-private.h for the state and why every changed member is read
 * with GET at sync.
 */
#include "davc-private.h"

#include <errno.h>
#include <string.h>

#include "log.h"

#define MEMBER_PROPS (DAV_P_GETETAG | DAV_P_RESOURCETYPE)

/* The spool's name of item `id` of `folder`: ids of two folders may be
 * the same. */
static char *spool_key(const char *folder, const char *id)
{
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							     folder, -1);
	sum[16] = '\0';
	return g_strconcat(sum, "-", id, NULL);
}

void davc_note_sync(struct mfs_backend *be, int rc, const struct mfs_error *e)
{
	g_mutex_lock(&be->lock);
	if (rc == 0)
		be->last_sync = g_get_real_time();
	g_clear_pointer(&be->last_error, g_free);
	if (rc < 0)
		be->last_error = g_strdup(e && e->msg[0] ? e->msg
					  : g_strerror(-rc));
	g_mutex_unlock(&be->lock);
}

int davc_get(struct mfs_backend *be, const char *folder, const char *href,
	     GString **body_r, char **etag_r, struct mfs_error *e)
{
	struct davc_req rq = { .method = "GET", .path = href, .depth = -1,
			       .max = DAVC_ITEM_MAX };
	struct davc_reply rep;
	g_autofree char *what = g_strdup_printf("GET %s", href);
	int rc;

	if ((rc = davc_http(be, &rq, &rep, e)) < 0)
		return rc;
	if (rep.status != 200) {
		rc = davc_status_error(be, rep.status, what, MFS_ERR_ITEM, e);
		davc_reply_clear(&rep);
		return rc;
	}
	*body_r = g_steal_pointer(&rep.body);
	*etag_r = g_steal_pointer(&rep.etag);
	davc_reply_clear(&rep);
	return 0;
}

/* What a listing told of the members of one collection. */
struct listing {
	GPtrArray *present;		/* of struct dav_response *, borrowed
					   from `keep` */
	GPtrArray *gone;		/* of char * hrefs, owned */
	GPtrArray *keep;		/* of struct dav_multistatus *, owned */
	bool full;
	char *token;			/* owned */
};

static void ms_free(gpointer p)
{
	struct dav_multistatus *ms = p;

	dav_multistatus_free(&ms);
}

static void listing_init(struct listing *l)
{
	memset(l, 0, sizeof(*l));
	l->present = g_ptr_array_new();
	l->gone = g_ptr_array_new_with_free_func(g_free);
	l->keep = g_ptr_array_new_with_free_func(ms_free);
}

static void listing_clear(struct listing *l)
{
	g_ptr_array_unref(l->present);
	g_ptr_array_unref(l->gone);
	g_ptr_array_unref(l->keep);
	g_free(l->token);
}

/* Take the members of collection `coll` from `ms` (kept by `l`). */
static void listing_take(struct listing *l, const char *coll,
			 struct dav_multistatus *ms)
{
	g_ptr_array_add(l->keep, ms);
	for (guint i = 0; i < ms->responses->len; i++) {
		struct dav_response *r = ms->responses->pdata[i];

		if (!dav_href_is_member(coll, r->href) ||
		    (r->rtype & DAV_RT_COLLECTION))
			continue;
		if (r->status == 404)
			g_ptr_array_add(l->gone, g_strdup(r->href));
		else if (r->etag && *r->etag)
			g_ptr_array_add(l->present, r);
	}
}

/* GET member `r` into the spool and the table; the item into `res`. */
static int take_member(struct mfs_backend *be, const char *folder,
		       const char *coll, const struct dav_response *r,
		       const char *id, struct mfs_sync_result *res,
		       struct mfs_error *e)
{
	g_autofree char *etag = NULL, *key = spool_key(folder, id);
	GString *body = NULL;
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	struct davc_table *t;
	int rc = davc_get(be, folder, r->href, &body, &etag, e);

	if (rc == -ENOENT)
		return 0;	/* gone meanwhile: the next sync says so */
	if (rc < 0)
		return rc;
	mfs_spool_put(be->spool, key, body->str, body->len);
	g_mutex_lock(&be->lock);
	t = davc_table_get(be, folder, coll);
	/* new bytes behind a known id are told to the cache by a later
	 * date, even within the second the old ones came in */
	const struct davc_known *had = g_hash_table_lookup(t->items, id);
	if (had && had->date >= now)
		now = had->date + 1;
	davc_table_put(t, id, r->href, etag ? etag : r->etag, body->len, now);
	g_mutex_unlock(&be->lock);
	g_ptr_array_add(res->changed, mfs_item_new(id, body->len, now, 0));
	g_string_free(body, TRUE);
	return 0;
}

/* The one place where a listing meets the table: ids for the members,
 * the changed ones read, the unchanged ones of a full listing given
 * again, and what left the folder dropped, each step under the lock only
 * as long as it touches the table. */
static int apply(struct mfs_backend *be, const char *folder,
		 const char *coll, const struct listing *l,
		 struct mfs_sync_result *res, struct mfs_error *e)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) fresh = g_ptr_array_new();
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	struct davc_table *t;
	int rc = 0;

	g_mutex_lock(&be->lock);
	t = davc_table_get(be, folder, coll);
	for (guint i = 0; i < l->present->len; i++) {
		const struct dav_response *r = l->present->pdata[i];
		char *id = davc_id_for(t, r->href, be->cfg.kind);
		const struct davc_known *k = g_hash_table_lookup(t->items, id);

		g_ptr_array_add(ids, id);
		g_hash_table_add(seen, id);
		if (k && !strcmp(k->href, r->href) && !strcmp(k->etag, r->etag)) {
			if (l->full)
				g_ptr_array_add(res->changed, mfs_item_new(
					id, k->size, k->date, 0));
			g_ptr_array_add(fresh, NULL);
		} else {
			g_ptr_array_add(fresh, (gpointer)r);
		}
	}
	g_mutex_unlock(&be->lock);
	for (guint i = 0; i < fresh->len && rc == 0; i++)
		if (fresh->pdata[i])
			rc = take_member(be, folder, coll, fresh->pdata[i],
					 ids->pdata[i], res, e);
	if (rc < 0)
		return rc;
	g_mutex_lock(&be->lock);
	t = davc_table_get(be, folder, coll);
	for (guint i = 0; i < l->gone->len; i++) {
		const char *id = g_hash_table_lookup(t->by_href,
						     l->gone->pdata[i]);
		if (!id)
			continue;
		g_autofree char *copy = g_strdup(id);
		g_autofree char *key = spool_key(folder, copy);
		g_ptr_array_add(res->vanished, g_strdup(copy));
		mfs_spool_drop(be->spool, key);
		davc_table_drop(t, copy);
	}
	if (l->full) {
		g_autoptr(GPtrArray) drop = g_ptr_array_new_with_free_func(
			g_free);
		GHashTableIter it;
		gpointer key;

		g_hash_table_iter_init(&it, t->items);
		while (g_hash_table_iter_next(&it, &key, NULL))
			if (!g_hash_table_contains(seen, key))
				g_ptr_array_add(drop, g_strdup(key));
		for (guint i = 0; i < drop->len; i++) {
			g_autofree char *sk = spool_key(folder, drop->pdata[i]);
			mfs_spool_drop(be->spool, sk);
			davc_table_drop(t, drop->pdata[i]);
		}
	}
	davc_table_save(be, folder, t);
	g_mutex_unlock(&be->lock);
	res->full = l->full;
	return 0;
}

/* Whether a refused sync-collection means the server has none (as
 * opposed to a login or server failure). */
static bool not_offered(long status)
{
	return status == 400 || status == 403 || status == 404 ||
	       status == 405 || status == 415 || status == 422 ||
	       status == 501;
}

/* RFC 6578: the changes since `token` (NULL: all members), in rounds
 * while the server cuts the answer short.  -ENOTSUP when the collection
 * offers no sync-collection. */
static int sync_collection(struct mfs_backend *be, const char *folder,
			   const char *coll, const char *token,
			   struct listing *l, struct mfs_error *e)
{
	g_autofree char *tok = g_strdup(token && *token ? token : NULL);
	unsigned rounds = 0;

	l->full = tok == NULL;
	for (;;) {
		g_autoptr(GString) body = g_string_new(NULL);
		struct dav_multistatus *ms = NULL;
		long status = 0;
		int rc;

		dav_req_sync_collection(body, tok, DAV_P_GETETAG);
		rc = davc_multistatus(be, "REPORT", coll, 0, body,
				      MFS_ERR_FOLDER, &status, &ms, e);
		if (rc < 0 && tok && l->full == false && rounds == 0 &&
		    (not_offered(status) || status == 409 || status == 412)) {
			/* a token the server no longer knows (3.8) */
			log_debug(LOG_PROTO, "dav: %s: sync token refused "
				  "(HTTP %ld), from scratch", folder, status);
			g_clear_pointer(&tok, g_free);
			l->full = true;
			continue;
		}
		if (rc < 0 && !tok && not_offered(status))
			return -ENOTSUP;
		if (rc < 0)
			return rc;
		listing_take(l, coll, ms);
		g_free(tok);
		tok = g_strdup(ms->sync_token);
		if (!ms->truncated || !tok)
			break;
		if (++rounds >= DAVC_SYNC_ROUNDS)
			return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER,
					     MFS_ERR_TRANSIENT, "%s: the "
					     "server cuts every sync short",
					     folder);
	}
	if (!tok)
		return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER,
				     MFS_ERR_TRANSIENT, "REPORT %s: no "
				     "sync-token in the answer", coll);
	l->token = g_strconcat("S:", tok, NULL);
	return 0;
}

/* Without sync-collection: the collection's getctag, and when it moved
 * (or there is none) the ETags of every member.  *same_r when the ctag
 * says nothing changed since `state`. */
static int sync_ctag(struct mfs_backend *be, const char *folder,
		     const char *coll, const char *state, struct listing *l,
		     bool *same_r, struct mfs_error *e)
{
	g_autoptr(GString) body = g_string_new(NULL);
	struct dav_multistatus *ms = NULL;
	const char *ctag = NULL;
	int rc;

	*same_r = false;
	dav_req_propfind(body, DAV_P_GETCTAG);
	if ((rc = davc_multistatus(be, "PROPFIND", coll, 0, body,
				   MFS_ERR_FOLDER, NULL, &ms, e)) < 0)
		return rc;
	for (guint i = 0; i < ms->responses->len; i++) {
		const struct dav_response *r = ms->responses->pdata[i];
		if ((r->props & DAV_P_GETCTAG) && r->ctag && *r->ctag)
			ctag = r->ctag;
	}
	l->token = g_strconcat("C:", ctag ? ctag : "", NULL);
	dav_multistatus_free(&ms);
	if (ctag && state && !strcmp(state, l->token)) {
		*same_r = true;
		return 0;
	}
	g_string_truncate(body, 0);
	dav_req_propfind(body, MEMBER_PROPS);
	if ((rc = davc_multistatus(be, "PROPFIND", coll, 1, body,
				   MFS_ERR_FOLDER, NULL, &ms, e)) < 0)
		return rc;
	listing_take(l, coll, ms);
	l->full = true;
	return 0;
}

int davc_sync(struct mfs_backend *be, const char *folder, const char *state,
	      struct mfs_sync_result **res_r, struct mfs_error *e)
{
	g_autofree char *coll = NULL;
	struct mfs_sync_result *res;
	struct listing l;
	bool no_sync = false, same = false;
	int rc;

	if ((rc = davc_coll_href(be, folder, &coll, e)) < 0)
		goto out;
	g_mutex_lock(&be->lock);
	struct davc_coll *c = g_hash_table_lookup(be->colls, folder);
	no_sync = c && c->no_sync;
	g_mutex_unlock(&be->lock);
	listing_init(&l);
	rc = -ENOTSUP;
	if (!no_sync && (!state || g_str_has_prefix(state, "S:")))
		rc = sync_collection(be, folder, coll,
				     state ? state + 2 : NULL, &l, e);
	if (rc == -ENOTSUP) {
		g_mutex_lock(&be->lock);
		if ((c = g_hash_table_lookup(be->colls, folder)))
			c->no_sync = true;
		g_mutex_unlock(&be->lock);
		listing_clear(&l);
		listing_init(&l);
		rc = sync_ctag(be, folder, coll,
			       state && g_str_has_prefix(state, "C:") ? state
								      : NULL,
			       &l, &same, e);
	}
	res = mfs_sync_result_new();
	if (rc == 0 && !same)
		rc = apply(be, folder, coll, &l, res, e);
	if (rc == 0) {
		res->state = g_steal_pointer(&l.token);
		*res_r = res;
	} else {
		mfs_sync_result_free(&res);
	}
	listing_clear(&l);
out:
	davc_note_sync(be, rc, e);
	return rc;
}

int davc_fetch(struct mfs_backend *be, const char *folder, const char *id,
	       int *fd_r, struct mfs_error *e)
{
	g_autofree char *key = spool_key(folder, id);
	g_autofree char *href = NULL, *etag = NULL;
	GString *body = NULL;
	int rc;

	if (mfs_spool_take(be->spool, key, fd_r) == 0)
		return 0;
	g_mutex_lock(&be->lock);
	struct davc_table *t = davc_table_get(be, folder, NULL);
	const struct davc_known *k = g_hash_table_lookup(t->items, id);
	href = k ? g_strdup(k->href) : NULL;
	g_mutex_unlock(&be->lock);
	if (!href)
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s/%s: not on the server", folder, id);
	if ((rc = davc_get(be, folder, href, &body, &etag, e)) < 0)
		return rc;
	rc = mfs_spool_tmpfile(be->spool, body->str, body->len, fd_r);
	g_string_free(body, TRUE);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
				     "%s/%s: %s", folder, id, g_strerror(-rc));
	return 0;
}
