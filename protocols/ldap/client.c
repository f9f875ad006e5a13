/*
 * client.c - the LDAP directory backend (`type = ldap`): the account's
 * settings, opening and closing, and the vtable.  A directory-only
 * account mounts one folder, Directory/, that no one may list whole;
 * entries appear in it as they are looked up (fs/directory.c).
 *
 * Specs: RFC 4516 (LDAP URLs: ldap://host:port/BASE), RFC 4513 (a
 * password crosses the network only under TLS: StartTLS on ldap://
 * unless allow_plaintext = true).
 */
#include "ldapc-private.h"

#include <errno.h>
#include <string.h>

#include "config-value.h"
#include "log.h"
#include "secret.h"

void ldapc_cfg_clear(struct ldapc_cfg *cfg)
{
	g_free(cfg->name);
	g_free(cfg->url);
	g_free(cfg->server);
	g_free(cfg->host);
	g_free(cfg->base);
	g_free(cfg->bind_dn);
	secret_free(cfg->password);
	g_free(cfg->ca_file);
	g_free(cfg->filter);
	memset(cfg, 0, sizeof(*cfg));
}

/* url = ldap://host[:port]/BASE or ldaps://...: the server and the base
 * into cfg.  Returns 0 or -EINVAL. */
static int parse_url(struct ldapc_cfg *cfg, GError **err)
{
	LDAPURLDesc *lud = NULL;
	int rc = 0;

	if (ldap_url_parse(cfg->url, &lud) != LDAP_URL_SUCCESS)
		return config_invalid(err, "url = %s: expected "
				      "ldap://HOST[:PORT]/BASE or "
				      "ldaps://HOST[:PORT]/BASE", cfg->url);
	if (!lud->lud_host || !*lud->lud_host) {
		rc = config_invalid(err, "url = %s: no host", cfg->url);
	} else if (!lud->lud_dn || !*lud->lud_dn) {
		rc = config_invalid(err, "url = %s: no base DN after the "
				    "host (ldap://HOST/ou=people,dc=example,"
				    "dc=org)", cfg->url);
	} else if (g_ascii_strcasecmp(lud->lud_scheme, "ldap") &&
		   g_ascii_strcasecmp(lud->lud_scheme, "ldaps")) {
		rc = config_invalid(err, "url = %s: the scheme is ldap:// or "
				    "ldaps://", cfg->url);
	} else {
		cfg->ldaps = !g_ascii_strcasecmp(lud->lud_scheme, "ldaps");
		cfg->base = g_strdup(lud->lud_dn);
		cfg->host = g_strdup(lud->lud_host);
		cfg->port = lud->lud_port ? lud->lud_port
					  : cfg->ldaps ? 636 : 389;
		cfg->server = g_strdup_printf(
			strchr(lud->lud_host, ':') ? "%s://[%s]:%d"
						   : "%s://%s:%d",
			cfg->ldaps ? "ldaps" : "ldap", lud->lud_host,
			cfg->port);
	}
	ldap_free_urldesc(lud);
	return rc;
}

/* The filter template must name the typed text. */
static int check_filter(const char *filter, GError **err)
{
	g_autofree char *probe = ldapc_filter_expand(filter, "x");

	if (!strstr(filter, "%s"))
		return config_invalid(err, "ldap_filter = %s: no %%s where "
				      "the typed name goes", filter);
	if (probe[0] != '(' || probe[strlen(probe) - 1] != ')')
		return config_invalid(err, "ldap_filter = %s: a filter is "
				      "written in parentheses, as "
				      "(|(cn=%%s*)(mail=%%s*))", filter);
	return 0;
}

int ldapc_cfg_load(const struct mfs_account *acct, struct ldapc_cfg *cfg,
		   GError **err)
{
	GKeyFile *kf = acct->keys;
	const char *g = acct->group;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->name = g_strdup(acct->name);
	cfg->url = config_value(kf, g, "url");
	cfg->bind_dn = config_value(kf, g, "ldap_bind_dn");
	cfg->ca_file = config_value(kf, g, "ca_file");
	cfg->filter = config_value(kf, g, "ldap_filter");
	if (!cfg->url)
		return config_invalid(err, "no url: add url = "
				      "ldap://HOST/ou=people,dc=example,dc=org");
	if ((rc = parse_url(cfg, err)) < 0)
		return rc;
	if (!cfg->filter)
		cfg->filter = g_strdup(LDAPC_FILTER_DEFAULT);
	if (check_filter(cfg->filter, err) < 0 ||
	    config_bool(kf, g, "allow_plaintext", false, &cfg->plaintext,
			err) < 0 ||
	    config_uint(kf, g, "ldap_size_limit", LDAPC_SIZE_DEFAULT,
			MFS_DIR_MAX, &cfg->size_limit, err) < 0 ||
	    config_uint(kf, g, "timeout", LDAPC_TIMEOUT_DEFAULT, 3600,
			&cfg->timeout, err) < 0)
		return -EINVAL;
	if (config_secret(kf, g, &cfg->password, err) < 0)
		return -EINVAL;
	if (cfg->bind_dn && !cfg->password)
		return config_invalid(err, "ldap_bind_dn without a password: "
				      "add password_file = FILE or "
				      "password_cmd = COMMAND");
	return 0;
}

static void backend_free(struct mfs_backend *be)
{
	g_mutex_lock(&be->lock);
	ldapc_disconnect(be);
	g_mutex_unlock(&be->lock);
	ldapc_cfg_clear(&be->cfg);
	g_free(be->last_error);
	g_mutex_clear(&be->lock);
	g_free(be);
}

static int ldapc_open(const struct mfs_account *acct,
		      struct mfs_backend **be_r, GError **err)
{
	struct mfs_backend *be = g_new0(struct mfs_backend, 1);
	struct mfs_error e = { 0 };
	int rc;

	g_mutex_init(&be->lock);
	if ((rc = ldapc_cfg_load(acct, &be->cfg, err)) < 0) {
		backend_free(be);
		return rc;
	}
	/* connect and bind now, so that a wrong password or certificate
	 * is said at mount time */
	g_mutex_lock(&be->lock);
	rc = ldapc_connect(be, &e);
	g_mutex_unlock(&be->lock);
	if ((rc = mfs_open_outcome(rc, &e, err)) < 0) {
		backend_free(be);
		return rc;
	}
	*be_r = be;
	return 0;
}

static void ldapc_close(struct mfs_backend **bep)
{
	if (*bep)
		backend_free(*bep);
	*bep = NULL;
}

static int ldapc_list_folders(struct mfs_backend *be, GPtrArray **folders_r,
			      struct mfs_error *e)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_folder_info_free);

	g_ptr_array_add(a, mfs_folder_info_new(LDAPC_DIRECTORY,
					       MFS_FOLDER_DIRECTORY));
	*folders_r = a;
	return 0;
}

static int ldapc_sync(struct mfs_backend *be, const char *folder,
		      const char *state, struct mfs_sync_result **res_r,
		      struct mfs_error *e)
{
	if (strcmp(folder, LDAPC_DIRECTORY))
		return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s: no such folder", folder);
	/* nothing is listed: entries come only from lookups */
	*res_r = mfs_sync_result_new();
	(*res_r)->full = true;
	return 0;
}

static int ldapc_fetch(struct mfs_backend *be, const char *folder,
		       const char *id, int *fd_r, struct mfs_error *e)
{
	/* a directory entry's bytes come with its lookup (fs/directory.c) */
	return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
			     "%s/%s: look it up by name", folder, id);
}

static void ldapc_describe(struct mfs_backend *be, GString *out)
{
	g_mutex_lock(&be->lock);
	g_string_append_printf(out, "server: %s\nbase: %s\nbound as: %s\n"
			       "connected: %s\npaged results: %s\n",
			       be->cfg.server, be->cfg.base,
			       be->cfg.bind_dn ? be->cfg.bind_dn
					       : "(anonymous)",
			       be->ld ? "yes" : "no",
			       be->paged ? "yes" : "no");
	if (be->last_error)
		g_string_append_printf(out, "last error: %s\n",
				       be->last_error);
	g_mutex_unlock(&be->lock);
}

const struct mfs_backend_ops ldapc_backend_ops = {
	.name = "ldap",
	.caps = 0,
	.open = ldapc_open,
	.close = ldapc_close,
	.list_folders = ldapc_list_folders,
	.sync = ldapc_sync,
	.fetch = ldapc_fetch,
	.lookup = ldapc_lookup,
	.describe = ldapc_describe,
};
