/*
 * discover.c - from the account's url to its address books or
 * calendars: the folders of the mount.
 *
 * Specs: RFC 6764 5 and 6 (the context path: /.well-known/carddav and
 * /.well-known/caldav, their redirect; SRV records are not looked up,
 * the url names the host), RFC 5397 (current-user-principal), RFC 6352
 * 7.1.1 (addressbook-home-set), RFC 4791 6.2.1 (calendar-home-set) and
 * 5.2.3 (supported-calendar-component-set), RFC 4918 (resourcetype).
 *
 * The url may name the collection itself, the principal, a home set or
 * only the server: a PROPFIND of it says which.  Each step's hrefs have
 * been checked by the 207 reader to stay on the url's origin, and the
 * well-known redirect is held to it here.
 */
#include "davc-private.h"

#include <errno.h>
#include <string.h>

#define DISCOVERY_PROPS (DAV_P_RESOURCETYPE | DAV_P_DISPLAYNAME | \
			 DAV_P_PRINCIPAL | DAV_P_ADDRESSBOOK_HOME | \
			 DAV_P_CALENDAR_HOME)
#define COLLECTION_PROPS (DAV_P_RESOURCETYPE | DAV_P_DISPLAYNAME | \
			  DAV_P_COMPONENTS)

void davc_coll_free(gpointer p)
{
	struct davc_coll *c = p;

	g_free(c->path);
	g_free(c->href);
	g_free(c);
}

static unsigned wanted_type(struct mfs_backend *be)
{
	return be->cfg.kind == MFS_FOLDER_CALENDAR ? DAV_RT_CALENDAR
						   : DAV_RT_ADDRESSBOOK;
}

/* The response of `ms` for `path` (a trailing '/' aside), or NULL. */
static const struct dav_response *self_of(const struct dav_multistatus *ms,
					  const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (guint i = 0; i < ms->responses->len; i++) {
		const struct dav_response *r = ms->responses->pdata[i];
		size_t m = strlen(r->href);

		while (m > 1 && r->href[m - 1] == '/')
			m--;
		if (m == n && !strncmp(r->href, path, n))
			return r;
	}
	return ms->responses->len == 1 ? ms->responses->pdata[0] : NULL;
}

/* PROPFIND Depth 0 of `path` with the discovery's properties. */
static int probe(struct mfs_backend *be, const char *path, long *status_r,
		 struct dav_multistatus **ms_r, struct mfs_error *e)
{
	g_autoptr(GString) body = g_string_new(NULL);

	dav_req_propfind(body, DISCOVERY_PROPS);
	return davc_multistatus(be, "PROPFIND", path, 0, body,
				MFS_ERR_ACCOUNT, status_r, ms_r, e);
}

/* RFC 6764 6: the well-known URI, whose redirect (on this origin only)
 * leads to the context path, which is probed in turn. */
static int well_known(struct mfs_backend *be, struct dav_multistatus **ms_r,
		      char **path_r, struct mfs_error *e)
{
	const char *wk = be->cfg.kind == MFS_FOLDER_CALENDAR
				 ? "/.well-known/caldav"
				 : "/.well-known/carddav";
	g_autoptr(GString) body = g_string_new(NULL);
	struct davc_req rq = { .method = "PROPFIND", .path = wk, .depth = 0,
			       .ctype = "application/xml; charset=utf-8",
			       .max = DAV_BODY_MAX };
	struct davc_reply rep;
	g_autofree char *url = davc_url(be, wk);
	char *target = NULL;
	int rc;

	dav_req_propfind(body, DISCOVERY_PROPS);
	rq.body = body->str;
	rq.len = body->len;
	if ((rc = davc_http(be, &rq, &rep, e)) < 0)
		return rc;
	if (rep.status < 300 || rep.status > 399 || !rep.location) {
		rc = davc_status_error(be, rep.status == 207 ? 404
				       : rep.status, wk, MFS_ERR_ACCOUNT, e);
		davc_reply_clear(&rep);
		return rc;
	}
	rc = dav_href_resolve(url, rep.location, &target);
	davc_reply_clear(&rep);
	if (rc < 0)
		return mfs_error_set(e, rc == -EPERM ? -EPERM : -EPROTO,
				     MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s%s: redirected away from the server "
				     "of url; not followed", be->cfg.origin,
				     wk);
	*path_r = target;
	return probe(be, target, NULL, ms_r, e);
}

/* The home set: of the url itself, else of its principal, else of the
 * principal the well-known URI leads to; the principal itself when it
 * names none.  Or the url itself, in *self_r, when it is a collection
 * of the account's kind.  Caller owns *home_r. */
static int find_home(struct mfs_backend *be, char **home_r, bool *self_r,
		     struct mfs_error *e)
{
	struct dav_multistatus *ms = NULL;
	g_autofree char *principal = NULL, *at = g_strdup(be->cfg.path);
	const struct dav_response *r;
	int rc = probe(be, at, NULL, &ms, e);

	if (rc < 0 && rc != -ENOENT && rc != -EPROTO)
		return rc;
	r = ms ? self_of(ms, at) : NULL;
	if (r && (r->rtype & wanted_type(be))) {
		*self_r = true;
		*home_r = g_strdup(r->href);
		dav_multistatus_free(&ms);
		return 0;
	}
	*self_r = false;
	if (r && (r->props & DAV_P_PRINCIPAL) && r->principal)
		principal = g_strdup(r->principal);
	dav_multistatus_free(&ms);
	if (!principal) {
		g_clear_pointer(&at, g_free);
		if ((rc = well_known(be, &ms, &at, e)) < 0)
			return rc;
		r = self_of(ms, at);
		if (r && r->principal)
			principal = g_strdup(r->principal);
		dav_multistatus_free(&ms);
		if (!principal)
			return mfs_error_set(e, -ENOENT, MFS_ERR_ACCOUNT,
					     MFS_ERR_FINAL, "%s: the server "
					     "names no principal for the user",
					     be->cfg.url);
	}
	if ((rc = probe(be, principal, NULL, &ms, e)) < 0)
		return rc;
	r = self_of(ms, principal);
	if (r && be->cfg.kind == MFS_FOLDER_CALENDAR && r->calendar_home)
		*home_r = g_strdup(r->calendar_home);
	else if (r && be->cfg.kind == MFS_FOLDER_CONTACTS &&
		 r->addressbook_home)
		*home_r = g_strdup(r->addressbook_home);
	else
		*home_r = g_steal_pointer(&principal);
	dav_multistatus_free(&ms);
	return 0;
}

/* A folder name for displayname `dn` (or the href's last segment): no
 * '/', no leading '.', not empty, not one of `taken`.  Caller owns. */
static char *folder_name(const char *dn, const char *href, GHashTable *taken)
{
	g_autofree char *base = NULL;
	char *name;

	if (dn && *dn && g_utf8_validate(dn, -1, NULL)) {
		base = g_strdup(dn);
	} else {
		g_autofree char *h = g_strdup(href);
		size_t n = strlen(h);
		while (n > 1 && h[n - 1] == '/')
			h[--n] = 0;
		const char *seg = strrchr(h, '/');
		base = g_uri_unescape_string(seg ? seg + 1 : h, "/");
		if (!base || !*base || !g_utf8_validate(base, -1, NULL)) {
			g_free(base);
			base = g_strdup("collection");
		}
	}
	g_strdelimit(base, "/", '_');
	for (char *p = base; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '_';
	if (base[0] == '.')
		base[0] = '_';
	name = g_strdup(base);
	for (unsigned i = 2; g_hash_table_contains(taken, name); i++) {
		g_free(name);
		name = g_strdup_printf("%s (%u)", base, i);
	}
	return name;
}

/* The collections of `home` (Depth 1), or `home` alone when it is one.
 * Takes the results into a new folder map, *colls_r (caller owns). */
static int collections(struct mfs_backend *be, const char *home, bool self,
		       GHashTable **colls_r, struct mfs_error *e)
{
	g_autoptr(GString) body = g_string_new(NULL);
	struct dav_multistatus *ms = NULL;
	GHashTable *map;
	int rc;

	dav_req_propfind(body, COLLECTION_PROPS);
	if ((rc = davc_multistatus(be, "PROPFIND", home, self ? 0 : 1, body,
				   MFS_ERR_ACCOUNT, NULL, &ms, e)) < 0)
		return rc;
	map = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
				    davc_coll_free);
	for (guint i = 0; i < ms->responses->len; i++) {
		const struct dav_response *r = ms->responses->pdata[i];
		struct davc_coll *c;
		size_t n = strlen(r->href);

		if (!(r->rtype & wanted_type(be)))
			continue;
		/* a calendar that holds neither events nor tasks */
		if (be->cfg.kind == MFS_FOLDER_CALENDAR &&
		    (r->props & DAV_P_COMPONENTS) && r->comps &&
		    !(r->comps & (DAV_COMP_VEVENT | DAV_COMP_VTODO)))
			continue;
		if (!self && !dav_href_is_member(home, r->href))
			continue;
		c = g_new0(struct davc_coll, 1);
		c->href = n && r->href[n - 1] == '/'
				  ? g_strdup(r->href)
				  : g_strconcat(r->href, "/", NULL);
		c->path = folder_name(r->displayname, r->href, map);
		g_hash_table_replace(map, c->path, c);
	}
	dav_multistatus_free(&ms);
	*colls_r = map;
	return 0;
}

static gint by_path(gconstpointer a, gconstpointer b)
{
	const struct mfs_folder_info *x = *(const struct mfs_folder_info **)a;
	const struct mfs_folder_info *y = *(const struct mfs_folder_info **)b;

	return strcmp(x->path, y->path);
}

int davc_list_folders(struct mfs_backend *be, GPtrArray **folders_r,
		      struct mfs_error *e)
{
	g_autofree char *home = NULL;
	GHashTable *map = NULL;
	GHashTableIter it;
	gpointer key;
	bool self = false;
	int rc;

	if ((rc = find_home(be, &home, &self, e)) < 0 ||
	    (rc = collections(be, home, self, &map, e)) < 0)
		return rc;
	if (folders_r) {
		*folders_r = g_ptr_array_new_with_free_func(
			(GDestroyNotify)mfs_folder_info_free);
		g_hash_table_iter_init(&it, map);
		while (g_hash_table_iter_next(&it, &key, NULL))
			g_ptr_array_add(*folders_r, mfs_folder_info_new(
				key, be->cfg.kind));
		g_ptr_array_sort(*folders_r, by_path);
	}
	g_mutex_lock(&be->lock);
	/* a collection that kept its folder keeps what sync knew of it */
	g_hash_table_iter_init(&it, map);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		struct davc_coll *old = g_hash_table_lookup(be->colls, key);
		struct davc_coll *c = g_hash_table_lookup(map, key);
		if (old && !strcmp(old->href, c->href))
			c->no_sync = old->no_sync;
	}
	g_hash_table_unref(be->colls);
	be->colls = map;
	g_mutex_unlock(&be->lock);
	return 0;
}

int davc_coll_href(struct mfs_backend *be, const char *path, char **href_r,
		   struct mfs_error *e)
{
	struct davc_coll *c;
	int rc;

	g_mutex_lock(&be->lock);
	bool known = g_hash_table_size(be->colls) > 0;
	g_mutex_unlock(&be->lock);
	if (!known && (rc = davc_list_folders(be, NULL, e)) < 0)
		return rc;
	g_mutex_lock(&be->lock);
	c = g_hash_table_lookup(be->colls, path);
	*href_r = c ? g_strdup(c->href) : NULL;
	g_mutex_unlock(&be->lock);
	if (!*href_r)
		return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s: no address book or calendar of that "
				     "name on %s", path, be->cfg.origin);
	return 0;
}
