/*
 * config-keys.c - see config-keys.h.
 */
#include "config-keys.h"

#include <errno.h>
#include <string.h>

enum {
	T_LOCAL = 1 << 0,
	T_IMAP = 1 << 1,
	T_POP3 = 1 << 2,
	T_EWS = 1 << 3,
	T_SERVE = 1 << 4,
	T_MAPI = 1 << 5,
	T_LDAP = 1 << 6,
	T_DAV = 1 << 7,
	T_REMOTE = T_IMAP | T_POP3 | T_EWS | T_MAPI | T_DAV,
};

static const struct {
	const char *name;
	unsigned types;
} types[] = {
	{ "local", T_LOCAL }, { "imap", T_IMAP }, { "pop3", T_POP3 },
	{ "ews", T_EWS }, { "serve", T_SERVE }, { "mapi", T_MAPI },
	{ "ldap", T_LDAP },
	{ "carddav", T_DAV }, { "caldav", T_DAV },
};

static const struct {
	const char *key;
	unsigned types;
} keys[] = {
	{ "type", T_LOCAL | T_REMOTE },
	{ "store", T_LOCAL | T_POP3 | T_SERVE },
	{ "host", T_IMAP | T_POP3 },
	{ "port", T_IMAP | T_POP3 },
	{ "tls", T_IMAP | T_POP3 },
	{ "url", T_EWS | T_MAPI | T_DAV },
	{ "email", T_MAPI },
	{ "user_dn", T_MAPI },
	{ "tunnel", T_IMAP },
	{ "ca_file", T_REMOTE },
	{ "allow_plaintext", T_REMOTE },
	{ "user", T_REMOTE | T_SERVE },
	{ "password_file", T_REMOTE | T_SERVE },
	{ "password_cmd", T_REMOTE },
	{ "auth", T_REMOTE },
	{ "oauth2_token_cmd", T_REMOTE },
	{ "oauth2", T_IMAP | T_EWS },
	{ "oauth2_client_id", T_IMAP | T_EWS },
	{ "oauth2_client_secret", T_IMAP | T_EWS },
	{ "oauth2_tenant", T_IMAP | T_EWS },
	{ "oauth2_scope", T_IMAP | T_EWS },
	{ "oauth2_device_url", T_IMAP | T_EWS },
	{ "oauth2_token_url", T_IMAP | T_EWS },
	{ "connections", T_IMAP },
	{ "poll_interval", T_REMOTE },
	{ "timeout", T_REMOTE },
	{ "spool_size", T_EWS | T_MAPI | T_DAV },
	{ "leave_on_server", T_POP3 },
	{ "smtp", T_REMOTE | T_SERVE },
	{ "smtp_user", T_REMOTE },
	{ "smtp_auth", T_REMOTE },
	{ "imap", T_SERVE },
	{ "pop3", T_SERVE },
	{ "imaps", T_SERVE },
	{ "pop3s", T_SERVE },
	{ "smtps", T_SERVE },
	{ "ews", T_SERVE },
	{ "ewss", T_SERVE },
	{ "mapi", T_SERVE },
	{ "mapis", T_SERVE },
	{ "tls_cert", T_SERVE },
	{ "tls_key", T_SERVE },
	{ "max_clients", T_SERVE },
	{ "max_message_size", T_SERVE },
	{ "ldap", T_SERVE },
	{ "ldaps", T_SERVE },
	{ "ldap_base", T_SERVE },
	/* a directory-only account (type = ldap) */
	{ "type", T_LDAP },
	{ "url", T_LDAP },
	{ "ldap_bind_dn", T_LDAP },
	{ "password_file", T_LDAP },
	{ "password_cmd", T_LDAP },
	{ "ca_file", T_LDAP },
	{ "allow_plaintext", T_LDAP },
	{ "ldap_filter", T_LDAP },
	{ "ldap_size_limit", T_LDAP },
	{ "timeout", T_LDAP },
};

/* Keys of the design that no backend of this version reads yet: naming
 * them is not a typo, so the answer says so instead. */
static const char *const planned[] = {
	"carddav", "caldav", "ldap", "ldap_bind_dn", "ldap_password_cmd",
	"ldap_filter", "ldap_size_limit",
};

static unsigned type_mask(const char *type)
{
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		if (!strcmp(types[i].name, type))
			return types[i].types;
	}
	return 0;
}

/* Edit distance, for "did you mean"; keys are short. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	g_autofree size_t *row = g_new(size_t, lb + 1);

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The known key of `mask` nearest to `key`, if it is near. Borrowed. */
static const char *nearest(const char *key, unsigned mask)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		size_t d;

		if (!(keys[i].types & mask))
			continue;
		if ((d = distance(key, keys[i].key)) < bestd) {
			bestd = d;
			best = keys[i].key;
		}
	}
	return best;
}

static bool known(const char *key, unsigned mask)
{
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		if ((keys[i].types & mask) && !strcmp(keys[i].key, key))
			return true;
	}
	return false;
}

static bool is_planned(const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(planned); i++) {
		if (!strcmp(planned[i], key))
			return true;
	}
	return false;
}

int config_keys_check(GKeyFile *kf, const char *path, const char *group,
		      const char *type, GError **err)
{
	unsigned mask = type_mask(type);
	g_auto(GStrv) names = NULL;
	g_autofree char *where = NULL;

	if (!mask || !kf || !g_key_file_has_group(kf, group))
		return 0;
	names = g_key_file_get_keys(kf, group, NULL, NULL);
	where = mask == T_SERVE ? g_strdup("[serve]")
		: g_strdup_printf("account '%s'",
				  group + strlen("account "));
	for (size_t i = 0; names && names[i]; i++) {
		const char *k = names[i], *near;

		if (known(k, mask))
			continue;
		if (is_planned(k)) {
			g_set_error(err, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_KEY_NOT_FOUND,
				    "config %s: %s: key '%s' is not available "
				    "in this version of mailfs; remove it",
				    path, where, k);
		} else if (known(k, T_LOCAL | T_REMOTE | T_SERVE)) {
			g_set_error(err, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_KEY_NOT_FOUND,
				    "config %s: %s: key '%s' does not apply "
				    "to type %s; remove it (see "
				    "mailfs.conf(5))", path, where, k, type);
		} else if ((near = nearest(k, mask))) {
			g_set_error(err, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_KEY_NOT_FOUND,
				    "config %s: %s: unknown key '%s'; did you "
				    "mean '%s'? (see mailfs.conf(5))", path,
				    where, k, near);
		} else {
			g_set_error(err, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_KEY_NOT_FOUND,
				    "config %s: %s: unknown key '%s' (see "
				    "mailfs.conf(5) for the keys of type %s)",
				    path, where, k, type);
		}
		return -EINVAL;
	}
	return 0;
}

const char **config_keys_of(const char *type)
{
	unsigned mask = type_mask(type);
	GPtrArray *a = g_ptr_array_new();

	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		if (keys[i].types & mask)
			g_ptr_array_add(a, (gpointer)keys[i].key);
	}
	g_ptr_array_add(a, NULL);
	return (const char **)g_ptr_array_free(a, FALSE);
}
