/*
 * accounts.c - see accounts.h.
 */
#include "accounts.h"

#include "config-keys.h"
#include "config-value.h"

#include <errno.h>
#include <string.h>

static char *expand_home(const char *p)
{
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0'))
		return g_build_filename(g_get_home_dir(), p + 1, NULL);
	return g_strdup(p);
}

char *config_default_store(void)
{
	return g_build_filename(g_get_user_data_dir(), "mailfs", "store", NULL);
}

static char *absolute(const char *p)
{
	g_autofree char *e = expand_home(p);

	return g_canonicalize_filename(e, NULL);
}

int config_account_load(const char *path, const char *account,
			const char *store_override,
			struct config_account *a, GError **err)
{
	g_autofree char *def = NULL;
	GError *lerr = NULL;

	memset(a, 0, sizeof(*a));
	if (!path) {
		def = g_build_filename(g_get_user_config_dir(), "mailfs",
				       "config", NULL);
		if (g_file_test(def, G_FILE_TEST_EXISTS))
			path = def;
	}
	if (path) {
		a->path = g_strdup(path);
		a->keys = g_key_file_new();
		if (!g_key_file_load_from_file(a->keys, path, G_KEY_FILE_NONE,
					       &lerr)) {
			g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
				    "config %s: %s", path, lerr->message);
			g_error_free(lerr);
			config_account_clear(a);
			return -EINVAL;
		}
	}
	a->name = g_strdup(account ? account : "local");
	a->group = g_strdup_printf("account %s", a->name);
	if (a->keys && g_key_file_has_group(a->keys, a->group)) {
		a->type = config_value(a->keys, a->group, "type");
		if (!a->type) {
			g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
				    "config %s: account '%s' has no type",
				    path, a->name);
			config_account_clear(a);
			return -EINVAL;
		}
		if (config_keys_check(a->keys, path, a->group, a->type,
				      err) < 0) {
			config_account_clear(a);
			return -EINVAL;
		}
		g_autofree char *store = config_value(a->keys, a->group,
						      "store");
		if (store)
			a->store = absolute(store);
	} else if (account && strcmp(account, "local") != 0) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT,
			    path ? "no account '%s' in %s"
				 : "no account '%s' (no config file %s)",
			    account, path ? path : def);
		config_account_clear(a);
		return -ENOENT;
	} else {
		a->type = g_strdup("local");
		g_clear_pointer(&a->group, g_free);
	}
	if (store_override) {
		g_free(a->store);
		a->store = absolute(store_override);
	}
	if (!a->store && !strcmp(a->type, "local")) {
		g_autofree char *d = config_default_store();
		a->store = absolute(d);
	}
	return 0;
}

void config_account_clear(struct config_account *a)
{
	g_free(a->name);
	g_free(a->type);
	g_free(a->store);
	g_free(a->group);
	g_free(a->path);
	if (a->keys)
		g_key_file_unref(a->keys);
	memset(a, 0, sizeof(*a));
}

void config_account_error_context(const struct config_account *a,
				  GError *err)
{
	if (!err || err->domain != G_KEY_FILE_ERROR || !a->path || !a->group)
		return;
	g_autofree char *msg = err->message;
	err->message = g_strdup_printf("config %s: account '%s': %s", a->path,
				       a->name, msg);
}

struct mfs_account config_account_backend(const struct config_account *a,
					  const char *work_dir)
{
	return (struct mfs_account){
		.name = a->name,
		.type = a->type,
		.keys = a->keys,
		.group = a->group,
		.store = a->store,
		.work_dir = work_dir,
	};
}
