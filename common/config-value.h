/*
 * config-value.h - reading one value of the accounts file.
 *
 * GLib's key files have no comments after a value, but the accounts file's
 * documented form has them ("port = 993   # the default"), so a '#' after
 * white space ends the value here.  May not call anything of ours outside
 * common/.
 */
#ifndef MFS_CONFIG_VALUE_H
#define MFS_CONFIG_VALUE_H

#include <glib.h>

/* The value of `key` in `group`, trimmed and without a trailing comment;
 * NULL when missing or empty.  `kf` may be NULL.  Caller owns the result. */
char *config_value(GKeyFile *kf, const char *group, const char *key);

#endif
