/*
 * accounts.h - accounts from the key file (DESIGN.md, "Command line"):
 * $XDG_CONFIG_HOME/mailfs/config or --config FILE, GLib key-file syntax,
 * one [account NAME] group per account.
 */
#ifndef MFS_ACCOUNTS_H
#define MFS_ACCOUNTS_H

#include <glib.h>

#include "backend.h"

struct config_account {
	char *name;		/* owned */
	char *type;		/* owned */
	char *store;		/* owned; absolute, for type = local */
	char *group;		/* owned; "account NAME", NULL for the default */
	GKeyFile *keys;		/* owned; NULL when there is no file */
	char *path;		/* owned; the file read, NULL when none */
};

/*
 * Resolve `account` (NULL: the embedded store) using `path` (NULL: the
 * default file, which may be missing) and the -o store= override (may be
 * NULL).  Returns 0, or -errno with the reason in *err.
 */
int config_account_load(const char *path, const char *account,
			const char *store_override,
			struct config_account *a, GError **err);
void config_account_clear(struct config_account *a);

/* What the backend is given of the account `a` (protocols/backend.h), with
 * `work_dir` (may be NULL); every string borrowed from `a` and work_dir. */
struct mfs_account config_account_backend(const struct config_account *a,
					  const char *work_dir);

/*
 * A settings error of the account's backend (GLib's key-file error domain,
 * as config_invalid() and the readers of common/config-value.h make them)
 * gets the file and the account in front, so that it says where to look;
 * other errors pass unchanged.
 */
void config_account_error_context(const struct config_account *a,
				  GError *err);

/* The embedded store's default directory.  Caller owns the result. */
char *config_default_store(void);

#endif
