/*
 * config-keys.h - the keys the accounts file may hold (mailfs.conf(5)).
 *
 * A misspelt key would otherwise be ignored without a word and the account
 * would run on a default the user did not choose, so each account's keys are
 * checked against this table before anything is opened, written or sent.
 */
#ifndef MFS_CONFIG_KEYS_H
#define MFS_CONFIG_KEYS_H

#include <glib.h>
#include <stdbool.h>

/*
 * Check every key of `group` (an account of type `type`, or "serve") in
 * `kf`, read from `path`.  A type of the design that this version does not
 * carry yet (CardDAV, LDAP...) is refused here; any other type this table
 * does not know is left to the backend registry.  Returns 0, or -EINVAL
 * with one line in *err naming the file, the account and the key (or the
 * type), and what to do.
 */
int config_keys_check(GKeyFile *kf, const char *path, const char *group,
		      const char *type, GError **err);

/* Every key of account type `type` ("serve" for the [serve] group), in
 * table order, for documentation checks and completion; NULL-terminated.
 * Caller owns the array (g_free), not the strings. */
const char **config_keys_of(const char *type);

#endif
