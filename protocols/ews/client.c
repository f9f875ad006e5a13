/*
 * client.c - the EWS backend (`type = ews`): account settings, opening
 * and closing, and the vtable.  See ewsc-private.h for the design and
 * the specs; docs/EWS.md for the account's keys.
 */
#include "pim.h"

#include <errno.h>
#include <string.h>

#include "config-value.h"
#include "fileutil.h"
#include "oauth2/oauth2.h"

#define DEFAULT_TIMEOUT 30
#define DEFAULT_POLL 60

static void cfg_clear(struct ewsc_cfg *cfg)
{
	g_free(cfg->name);
	g_free(cfg->url);
	g_free(cfg->user);
	if (cfg->password) {
		explicit_bzero(cfg->password, strlen(cfg->password));
		g_free(cfg->password);
	}
	g_free(cfg->token_cmd);
	oauth2_session_close(&cfg->oauth2);
	g_free(cfg->ca_file);
	memset(cfg, 0, sizeof(*cfg));
}

static int parse_cfg(const struct mfs_account *acct, struct ewsc_cfg *cfg,
		     GError **err)
{
	GKeyFile *kf = acct->keys;
	const char *g = acct->group;
	g_autofree char *auth = config_value(kf, g, "auth");
	g_autofree char *scheme = NULL, *host = NULL;
	struct oauth2_cfg oauth;
	int port = -1, rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->name = g_strdup(acct->name);
	cfg->url = config_value(kf, g, "url");
	cfg->user = config_value(kf, g, "user");
	cfg->ca_file = config_value(kf, g, "ca_file");
	cfg->token_cmd = config_value(kf, g, "oauth2_token_cmd");
	if (!cfg->url)
		return config_invalid(err, "no url: add url = "
				      "https://HOST/EWS/Exchange.asmx");
	if (!g_uri_split(cfg->url, G_URI_FLAGS_NONE, &scheme, NULL, &host,
			 &port, NULL, NULL, NULL, NULL) || !host || !*host ||
	    (g_ascii_strcasecmp(scheme, "https") &&
	     g_ascii_strcasecmp(scheme, "http")))
		return config_invalid(err, "url = %s: expected "
				      "https://HOST/EWS/Exchange.asmx",
				      cfg->url);
	if (config_bool(kf, g, "allow_plaintext", false, &cfg->plaintext,
			err) < 0 ||
	    config_uint(kf, g, "timeout", DEFAULT_TIMEOUT, 3600,
			&cfg->timeout, err) < 0 ||
	    config_uint(kf, g, "poll_interval", DEFAULT_POLL, 86400,
			&cfg->poll_interval, err) < 0 ||
	    mfs_spool_size_key(kf, g, &cfg->spool_max, err) < 0)
		return -EINVAL;
	/* the password (or token) would cross the network in clear text */
	if (!g_ascii_strcasecmp(scheme, "http") && !cfg->plaintext)
		return config_invalid(err, "url = %s: http:// sends the "
				      "password in clear text; use https:// "
				      "or set allow_plaintext = true",
				      cfg->url);
	cfg->auth_set = auth != NULL;
	if ((rc = oauth2_cfg_load(kf, g, acct->name, acct->type, &oauth, err)) < 0)
		return rc;
	if (rc > 0) {
		oauth2_session_open(&oauth, &cfg->oauth2);
		oauth2_cfg_clear(&oauth);
	}
	/* built-in OAuth2 signs in with bearer tokens unless told */
	if (!auth && cfg->oauth2) {
		cfg->auth = EWS_AUTH_BEARER;
	} else if (!auth || !strcmp(auth, "basic")) {
		cfg->auth = EWS_AUTH_BASIC;
	} else if (!strcmp(auth, "ntlm")) {
		cfg->auth = EWS_AUTH_NTLM;
	} else if (!strcmp(auth, "bearer")) {
		cfg->auth = EWS_AUTH_BEARER;
	} else {
		return config_invalid(err, "auth = %s: expected basic, ntlm "
				      "or bearer", auth);
	}
	if (cfg->auth == EWS_AUTH_BEARER) {
		if (!cfg->token_cmd && !cfg->oauth2)
			return config_invalid(err, "auth = bearer needs "
					      "oauth2 or oauth2_token_cmd");
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
	g_hash_table_unref(be->folders);
	g_hash_table_unref(be->tables);
	g_hash_table_unref(be->tree_warned);
	if (be->token) {
		explicit_bzero(be->token, strlen(be->token));
		g_free(be->token);
	}
	g_free(be->server_version);
	g_free(be->last_error);
	g_mutex_clear(&be->lock);
	g_free(be);
}

void ewsc_backend_free(struct mfs_backend **bep)
{
	if (*bep)
		backend_free(*bep);
	*bep = NULL;
}

int ewsc_backend_new(const struct mfs_account *acct, struct mfs_backend **be_r,
		     GError **err)
{
	struct mfs_backend *be = g_new0(struct mfs_backend, 1);
	g_autofree char *spool_dir = NULL;
	int rc;

	g_mutex_init(&be->lock);
	be->folders = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					    ewsc_folder_free);
	be->tables = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   ewsc_table_free);
	be->tree_warned = g_hash_table_new_full(g_str_hash, g_str_equal,
						g_free, NULL);
	be->work_dir = g_strdup(acct->work_dir ? acct->work_dir : ".");
	if ((rc = parse_cfg(acct, &be->cfg, err)) < 0) {
		backend_free(be);
		return rc;
	}
	spool_dir = g_build_filename(be->work_dir, "ews-spool", NULL);
	be->spool = mfs_spool_new(be->cfg.name, spool_dir, be->cfg.spool_max);
	ewsc_http_init();
	*be_r = be;
	return 0;
}

static int ewsc_open(const struct mfs_account *acct, struct mfs_backend **be_r,
		    GError **err)
{
	struct mfs_backend *be = NULL;
	struct mfs_error e = { 0 };
	int rc;

	if ((rc = ewsc_backend_new(acct, &be, err)) < 0)
		return rc;
	if ((rc = file_mkdir_p(be->work_dir, 0700)) < 0) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
			    "%s: %s", be->work_dir, g_strerror(-rc));
		goto fail;
	}
	/* what an earlier run spooled is not counted, and may be stale */
	mfs_spool_clean(be->spool);
	/* one listing now, so that a wrong password or certificate is said
	 * at mount time */
	rc = ewsc_list_folders(be, NULL, &e);
	if ((rc = mfs_open_outcome(rc, &e, err)) < 0)
		goto fail;
	*be_r = be;
	return 0;
fail:
	backend_free(be);
	return rc;
}

static void ewsc_close(struct mfs_backend **bep)
{
	struct mfs_backend *be = *bep;

	if (!be)
		return;
	ewsc_watch_stop(be);
	backend_free(be);
	*bep = NULL;
}

void ewsc_note_sync(struct mfs_backend *be, int rc, const struct mfs_error *e)
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

static int ewsc_list(struct mfs_backend *be, GPtrArray **folders_r,
		    struct mfs_error *e)
{
	int rc = ewsc_list_folders(be, folders_r, e);

	if (rc == 0)
		ewsc_dir_add_folder(*folders_r);
	return rc;
}

/* The Directory folder is the server's address book, not a folder of
 * the mailbox: nothing is made in it, and it is neither renamed nor
 * deleted. */
static bool in_directory(const char *path)
{
	size_t n = strlen(EWS_DIRECTORY);

	return !strncmp(path, EWS_DIRECTORY, n) &&
	       (path[n] == 0 || path[n] == '/');
}

static int ewsc_guard_create_folder(struct mfs_backend *be, const char *path,
			     enum mfs_folder_kind kind, struct mfs_error *e)
{
	if (in_directory(path))
		return mfs_error_set(e, -EROFS, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s is the address book", EWS_DIRECTORY);
	return ewsc_create_folder(be, path, kind, e);
}

static int ewsc_guard_rename_folder(struct mfs_backend *be, const char *from,
			     const char *to, struct mfs_error *e)
{
	if (in_directory(from) || in_directory(to))
		return mfs_error_set(e, -EROFS, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s is the address book", EWS_DIRECTORY);
	return ewsc_rename_folder(be, from, to, e);
}

static int ewsc_guard_delete_folder(struct mfs_backend *be, const char *path,
			     struct mfs_error *e)
{
	if (in_directory(path))
		return mfs_error_set(e, -EROFS, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s is the address book", EWS_DIRECTORY);
	return ewsc_delete_folder(be, path, e);
}

static int ewsc_watch(struct mfs_backend *be, mfs_change_fn fn, void *data)
{
	return ewsc_watch_start(be, fn, data);
}

static void ewsc_describe(struct mfs_backend *be, GString *out)
{
	static const char *const auth[] = { "basic", "ntlm", "bearer" };

	g_mutex_lock(&be->lock);
	g_string_append_printf(out, "server: ews %s (%s)\n", be->cfg.url,
			       auth[be->cfg.auth]);
	g_string_append_printf(out, "server version: %s\n",
			       be->server_version ? be->server_version
						  : "unknown");
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

const struct mfs_backend_ops ewsc_backend_ops = {
	.name = "ews",
	.caps = MFS_CAP_WATCH | MFS_CAP_COPY | MFS_CAP_FOLDERS,
	.open = ewsc_open,
	.close = ewsc_close,
	.list_folders = ewsc_list,
	.sync = ewsc_sync,
	.fetch = ewsc_fetch,
	.fetch_batch = ewsc_fetch_batch,
	.append = ewsc_append,
	.set_flags = ewsc_set_flags,
	.remove = ewsc_remove,
	.move = ewsc_move,
	.create_folder = ewsc_guard_create_folder,
	.rename_folder = ewsc_guard_rename_folder,
	.delete_folder = ewsc_guard_delete_folder,
	.watch = ewsc_watch,
	.lookup = ewsc_dir_lookup,
	.describe = ewsc_describe,
	.check = ewsc_check,
};
