/*
 * client.c - the CardDAV and CalDAV backends (`type = carddav`, `type =
 * caldav`): account settings, opening and closing, and the vtables.
 * See davc-private.h for the design and the specs; docs/DAV.md for the
 * account's keys.
 */
#include "davc-private.h"

#include <errno.h>
#include <string.h>

#include "config-value.h"
#include "fileutil.h"
#include "secret.h"

#define DEFAULT_TIMEOUT 30
#define DEFAULT_POLL 60

static void cfg_clear(struct davc_cfg *cfg)
{
	g_free(cfg->name);
	g_free(cfg->url);
	g_free(cfg->origin);
	g_free(cfg->path);
	g_free(cfg->user);
	secret_clear(&cfg->password);
	secret_clear(&cfg->token);
	g_free(cfg->ca_file);
	memset(cfg, 0, sizeof(*cfg));
}

/* url's origin and path into cfg; 0 or -EINVAL with *err set. */
static int split_url(struct davc_cfg *cfg, const char *type, GError **err)
{
	g_autoptr(GUri) u = g_uri_parse(cfg->url, G_URI_FLAGS_ENCODED, NULL);
	const char *scheme = u ? g_uri_get_scheme(u) : NULL;
	const char *path;

	if (!u || !g_uri_get_host(u) || !*g_uri_get_host(u) ||
	    (g_ascii_strcasecmp(scheme, "https") &&
	     g_ascii_strcasecmp(scheme, "http")) || g_uri_get_userinfo(u))
		return config_invalid(err, "url = %s: expected https://HOST/ "
				      "or the URL of the %s server's "
				      "collection", cfg->url, type);
	if (!g_ascii_strcasecmp(scheme, "http") && !cfg->plaintext)
		return config_invalid(err, "url = %s: http:// sends the "
				      "password in clear text; use https:// "
				      "or set allow_plaintext = true",
				      cfg->url);
	cfg->origin = g_uri_get_port(u) > 0
		? g_strdup_printf("%s://%s:%d", scheme, g_uri_get_host(u),
				  g_uri_get_port(u))
		: g_strdup_printf("%s://%s", scheme, g_uri_get_host(u));
	path = g_uri_get_path(u);
	cfg->path = g_strdup(path && *path ? path : "/");
	return 0;
}

/* The account's keys into *cfg; 0 or -EINVAL with the key's fault in
 * *err. */
static int parse_cfg(const struct mfs_account *acct, struct davc_cfg *cfg,
		     GError **err)
{
	GKeyFile *kf = acct->keys;
	const char *g = acct->group;
	g_autofree char *auth = config_value(kf, g, "auth");
	g_autofree char *token_cmd = NULL;
	GError *cmd_err = NULL;

	memset(cfg, 0, sizeof(*cfg));
	cfg->name = g_strdup(acct->name);
	cfg->kind = !strcmp(acct->type, "caldav") ? MFS_FOLDER_CALENDAR
						  : MFS_FOLDER_CONTACTS;
	cfg->url = config_value(kf, g, "url");
	cfg->user = config_value(kf, g, "user");
	cfg->ca_file = config_value(kf, g, "ca_file");
	token_cmd = config_value(kf, g, "oauth2_token_cmd");
	if (!cfg->url)
		return config_invalid(err, "no url: add url = https://HOST/");
	if (config_bool(kf, g, "allow_plaintext", false, &cfg->plaintext,
			err) < 0 ||
	    config_uint(kf, g, "timeout", DEFAULT_TIMEOUT, 3600,
			&cfg->timeout, err) < 0 ||
	    config_uint(kf, g, "poll_interval", DEFAULT_POLL, 86400,
			&cfg->poll_interval, err) < 0 ||
	    mfs_spool_size_key(kf, g, &cfg->spool_max, err) < 0)
		return -EINVAL;
	if (split_url(cfg, acct->type, err) < 0)
		return -EINVAL;
	if (!auth || !strcmp(auth, "basic")) {
		cfg->auth = DAVC_AUTH_BASIC;
	} else if (!strcmp(auth, "digest")) {
		cfg->auth = DAVC_AUTH_DIGEST;
	} else if (!strcmp(auth, "bearer")) {
		cfg->auth = DAVC_AUTH_BEARER;
	} else {
		return config_invalid(err, "auth = %s: expected basic, digest "
				      "or bearer", auth);
	}
	if (cfg->auth == DAVC_AUTH_BEARER) {
		if (!token_cmd)
			return config_invalid(err, "auth = bearer needs "
					      "oauth2_token_cmd = COMMAND");
		if (config_command_line(token_cmd, &cfg->token, &cmd_err) < 0) {
			config_invalid(err, "oauth2_token_cmd: %s",
				       cmd_err->message);
			g_error_free(cmd_err);
			return -EINVAL;
		}
		return 0;
	}
	if (!cfg->user)
		return config_invalid(err, "no user: add user = NAME");
	if (config_secret(kf, g, &cfg->password, err) < 0)
		return -EINVAL;
	if (!cfg->password)
		return config_invalid(err, "no password: add password_file "
				      "= FILE or password_cmd = COMMAND");
	return 0;
}

static void backend_free(struct mfs_backend *be)
{
	cfg_clear(&be->cfg);
	g_free(be->work_dir);
	mfs_spool_free(&be->spool);
	g_hash_table_unref(be->colls);
	g_hash_table_unref(be->tables);
	g_free(be->last_error);
	g_mutex_clear(&be->lock);
	g_free(be);
}

void davc_backend_free(struct mfs_backend **bep)
{
	if (*bep)
		backend_free(*bep);
	*bep = NULL;
}

int davc_backend_new(const struct mfs_account *acct,
		     struct mfs_backend **be_r, GError **err)
{
	struct mfs_backend *be = g_new0(struct mfs_backend, 1);
	g_autofree char *spool_dir = NULL;
	int rc;

	g_mutex_init(&be->lock);
	be->colls = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					  davc_coll_free);
	be->tables = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   davc_table_free);
	be->work_dir = g_strdup(acct->work_dir ? acct->work_dir : ".");
	if ((rc = parse_cfg(acct, &be->cfg, err)) < 0) {
		backend_free(be);
		return rc;
	}
	spool_dir = g_build_filename(be->work_dir, "dav-spool", NULL);
	be->spool = mfs_spool_new(be->cfg.name, spool_dir, be->cfg.spool_max);
	davc_http_init();
	*be_r = be;
	return 0;
}

static int davc_open(const struct mfs_account *acct, struct mfs_backend **be_r,
		     GError **err)
{
	struct mfs_backend *be = NULL;
	struct mfs_error e = { 0 };
	int rc;

	if ((rc = davc_backend_new(acct, &be, err)) < 0)
		return rc;
	if ((rc = file_mkdir_p(be->work_dir, 0700)) < 0) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
			    "%s: %s", be->work_dir, g_strerror(-rc));
		goto fail;
	}
	/* what an earlier run spooled is not counted, and may be stale */
	mfs_spool_clean(be->spool);
	/* the folders now, so that a wrong password or url is said at
	 * mount time */
	rc = davc_list_folders(be, NULL, &e);
	if ((rc = mfs_open_outcome(rc, &e, err)) < 0)
		goto fail;
	*be_r = be;
	return 0;
fail:
	backend_free(be);
	return rc;
}

static void davc_close(struct mfs_backend **bep)
{
	struct mfs_backend *be = *bep;

	if (!be)
		return;
	davc_watch_stop(be);
	backend_free(be);
	*bep = NULL;
}

static void davc_describe(struct mfs_backend *be, GString *out)
{
	static const char *const auth[] = { "basic", "digest", "bearer" };

	g_mutex_lock(&be->lock);
	g_string_append_printf(out, "server: %s %s (%s)\n",
			       be->cfg.kind == MFS_FOLDER_CALENDAR ? "caldav"
								   : "carddav",
			       be->cfg.url, auth[be->cfg.auth]);
	g_string_append_printf(out, "collections: %u\n",
			       g_hash_table_size(be->colls));
	if (be->last_sync) {
		GDateTime *dt = g_date_time_new_from_unix_utc(
			be->last_sync / G_USEC_PER_SEC);
		g_autofree char *when = g_date_time_format(
			dt, "%Y-%m-%dT%H:%M:%SZ");
		g_date_time_unref(dt);
		g_string_append_printf(out, "last sync: %s\n", when);
	} else {
		g_string_append(out, "last sync: none since the mount\n");
	}
	g_string_append_printf(out, "last sync error: %s\n",
			       be->last_error ? be->last_error : "none");
	g_mutex_unlock(&be->lock);
}

/* Collections are made and removed on the server itself for now
 * (MKCOL, MKCALENDAR: docs/DAV.md). */
static int davc_create_folder(struct mfs_backend *be, const char *path,
			      enum mfs_folder_kind kind, struct mfs_error *e)
{
	return mfs_error_set(e, -EPERM, MFS_ERR_FOLDER, MFS_ERR_FINAL,
			     "%s: making an address book or calendar is not "
			     "carried yet; make it on the server", path);
}

#define DAVC_OPS(type) {			\
	.name = type,				\
	.caps = MFS_CAP_WATCH,			\
	.open = davc_open,			\
	.close = davc_close,			\
	.list_folders = davc_list_folders,	\
	.sync = davc_sync,			\
	.fetch = davc_fetch,			\
	.append = davc_append,			\
	.remove = davc_remove,			\
	.create_folder = davc_create_folder,	\
	.watch = davc_watch_start,		\
	.describe = davc_describe,		\
	.check = davc_check,			\
}

const struct mfs_backend_ops davc_carddav_ops = DAVC_OPS("carddav");
const struct mfs_backend_ops davc_caldav_ops = DAVC_OPS("caldav");
