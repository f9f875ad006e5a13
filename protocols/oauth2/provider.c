/*
 * provider.c - the account's OAuth 2.0 settings: the provider table
 * (Microsoft identity platform, Google, or endpoints of one's own), the
 * default scopes, and the checks of the `oauth2*` keys.  No I/O.
 * Endpoints: RFC 8628 section 3.1 (device authorization) and RFC 6749
 * section 3.2 (token).
 */
#include "oauth2-private.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "config-value.h"

#define DEFAULT_TIMEOUT 30

/* Microsoft's scopes name the protocol the token is for. */
struct ms_scope {
	const char *type;
	const char *scope;
};

static const struct ms_scope ms_scopes[] = {
	{ "imap", "https://outlook.office.com/IMAP.AccessAsUser.All "
		  "https://outlook.office.com/SMTP.Send offline_access" },
	{ "ews", "https://outlook.office.com/EWS.AccessAsUser.All "
		 "offline_access" },
	{ "pop3", "https://outlook.office.com/POP.AccessAsUser.All "
		  "offline_access" },
};

struct provider {
	const char *name;
	/* printf formats taking the tenant (Microsoft) or nothing */
	const char *device_url;
	const char *token_url;
	const char *scope;	/* NULL: by account type (Microsoft) or
				   required (custom) */
};

static const struct provider providers[] = {
	{ "microsoft",
	  "https://login.microsoftonline.com/%s/oauth2/v2.0/devicecode",
	  "https://login.microsoftonline.com/%s/oauth2/v2.0/token", NULL },
	{ "google", "https://oauth2.googleapis.com/device/code",
	  "https://oauth2.googleapis.com/token", "https://mail.google.com/" },
	{ "custom", NULL, NULL, NULL },
};

/* One line naming the key; the command adds the file and the account. */
static int invalid(GError **err, const char *key, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static int invalid(GError **err, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_autofree char *why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return config_invalid(err, "%s: %s", key, why);
}

/* This machine: localhost, 127.0.0.0/8 or ::1 (a name such as
 * 127.0.0.1.example.com is another machine). */
static bool loopback(const char *host)
{
	if (!g_ascii_strcasecmp(host, "localhost") || !strcmp(host, "::1") ||
	    !strcmp(host, "[::1]"))
		return true;
	return g_hostname_is_ip_address(host) && g_str_has_prefix(host, "127.");
}

/* https://, or http:// to this machine or with allow_plaintext. */
static int check_url(const char *url, bool plaintext, const char *key,
		     GError **err)
{
	g_autofree char *scheme = NULL, *host = NULL;
	int port = -1;

	if (!g_uri_split(url, G_URI_FLAGS_NONE, &scheme, NULL, &host, &port,
			 NULL, NULL, NULL, NULL) || !scheme || !host ||
	    !*host || (g_ascii_strcasecmp(scheme, "https") &&
		       g_ascii_strcasecmp(scheme, "http")))
		return invalid(err, key, "%s: expected an "
			       "https:// URL", url);
	if (!g_ascii_strcasecmp(scheme, "http") && !plaintext &&
	    !loopback(host))
		return invalid(err, key, "%s: http:// to "
			       "another machine sends the tokens in clear "
			       "text; use https:// or set allow_plaintext = "
			       "true", url);
	return 0;
}

char *oauth2_token_path(const char *account)
{
	return g_build_filename(g_get_user_data_dir(), "mailfs", "tokens",
				account, NULL);
}

static const struct provider *find_provider(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(providers); i++)
		if (!strcmp(providers[i].name, name))
			return &providers[i];
	return NULL;
}

static const char *ms_default_scope(const char *type)
{
	for (size_t i = 0; i < G_N_ELEMENTS(ms_scopes); i++)
		if (type && !strcmp(ms_scopes[i].type, type))
			return ms_scopes[i].scope;
	return NULL;
}

/* The endpoints and scope the provider implies, where the account did not
 * name its own. */
static int fill_provider(const struct provider *p, GKeyFile *kf,
			 const char *g, const char *type,
			 struct oauth2_cfg *cfg, GError **err)
{
	g_autofree char *tenant = config_value(kf, g, "oauth2_tenant");

	if (tenant && strcmp(p->name, "microsoft"))
		return invalid(err, "oauth2_tenant",
			       "only for oauth2 = microsoft");
	if (!strcmp(p->name, "custom")) {
		if (!cfg->device_url)
			return invalid(err, "oauth2_device_url", "required with "
				       "oauth2 = custom");
		if (!cfg->token_url)
			return invalid(err, "oauth2_token_url", "required with "
				       "oauth2 = custom");
		if (!cfg->scope)
			return invalid(err, "oauth2_scope",
				       "required with oauth2 = custom");
		return 0;
	}
	if (cfg->device_url)
		return invalid(err, "oauth2_device_url",
			       "only for oauth2 = custom");
	if (cfg->token_url)
		return invalid(err, "oauth2_token_url",
			       "only for oauth2 = custom");
	if (!strcmp(p->name, "microsoft")) {
		const char *t = tenant ? tenant : "common";
		/* the tenant becomes a path segment of the endpoints */
		for (const char *c = t; *c; c++)
			if (!g_ascii_isalnum(*c) && !strchr("-._", *c))
				return invalid(err, "oauth2_tenant", "%s: expected "
					       "a tenant name or id", t);
		cfg->device_url = g_strdup_printf(p->device_url, t);
		cfg->token_url = g_strdup_printf(p->token_url, t);
		if (!cfg->scope && !ms_default_scope(type))
			return invalid(err, "oauth2_scope",
				       "required for an account of type %s",
				       type ? type : "?");
		if (!cfg->scope)
			cfg->scope = g_strdup(ms_default_scope(type));
		return 0;
	}
	cfg->device_url = g_strdup(p->device_url);
	cfg->token_url = g_strdup(p->token_url);
	if (!cfg->scope)
		cfg->scope = g_strdup(p->scope);
	return 0;
}

int oauth2_cfg_load(GKeyFile *kf, const char *g, const char *account,
		    const char *type, struct oauth2_cfg *cfg, GError **err)
{
	g_autofree char *name = config_value(kf, g, "oauth2");
	g_autofree char *cmd = NULL;
	const struct provider *p;
	bool plaintext;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!name)
		return 0;
	cfg->account = g_strdup(account);
	/* the account's name is the token file's name */
	if (strchr(account, '/') || !strcmp(account, ".") ||
	    !strcmp(account, "..")) {
		rc = invalid(err, "oauth2", "the account's "
			     "name cannot name its token file");
		goto fail;
	}
	if (!(p = find_provider(name))) {
		rc = invalid(err, "oauth2", "%s: expected "
			     "microsoft, google or custom", name);
		goto fail;
	}
	if ((cmd = config_value(kf, g, "oauth2_token_cmd"))) {
		rc = invalid(err, "oauth2_token_cmd",
			     "cannot be used together with oauth2 = %s "
			     "(keep one of the two)", name);
		goto fail;
	}
	cfg->provider = g_strdup(p->name);
	cfg->client_id = config_value(kf, g, "oauth2_client_id");
	cfg->client_secret = config_value(kf, g, "oauth2_client_secret");
	cfg->scope = config_value(kf, g, "oauth2_scope");
	cfg->device_url = config_value(kf, g, "oauth2_device_url");
	cfg->token_url = config_value(kf, g, "oauth2_token_url");
	cfg->ca_file = config_value(kf, g, "ca_file");
	if (!cfg->client_id) {
		rc = invalid(err, "oauth2_client_id",
			     "required with oauth2 = %s (the id of the "
			     "application registered with the provider)",
			     name);
		goto fail;
	}
	if ((rc = fill_provider(p, kf, g, type, cfg, err)) < 0)
		goto fail;
	if (config_bool(kf, g, "allow_plaintext", false, &plaintext,
			err) < 0 ||
	    config_uint(kf, g, "timeout", DEFAULT_TIMEOUT, 3600,
			&cfg->timeout, err) < 0) {
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = check_url(cfg->device_url, plaintext, "oauth2_device_url",
			    err)) < 0 ||
	    (rc = check_url(cfg->token_url, plaintext, "oauth2_token_url",
			    err)) < 0)
		goto fail;
	cfg->token_path = oauth2_token_path(account);
	return 1;
fail:
	oauth2_cfg_clear(cfg);
	return rc;
}

void oauth2_cfg_clear(struct oauth2_cfg *cfg)
{
	g_free(cfg->account);
	g_free(cfg->provider);
	g_free(cfg->client_id);
	if (cfg->client_secret) {
		explicit_bzero(cfg->client_secret, strlen(cfg->client_secret));
		g_free(cfg->client_secret);
	}
	g_free(cfg->scope);
	g_free(cfg->device_url);
	g_free(cfg->token_url);
	g_free(cfg->ca_file);
	g_free(cfg->token_path);
	memset(cfg, 0, sizeof(*cfg));
}
