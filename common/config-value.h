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
#include <stdbool.h>

/* Set *err (may be NULL) to an invalid-value error of the accounts file
 * saying `fmt`, and return -EINVAL, for one-line returns. */
int config_invalid(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The value of `key` in `group`, trimmed and without a trailing comment;
 * NULL when missing or empty.  `kf` may be NULL.  Caller owns the result. */
char *config_value(GKeyFile *kf, const char *group, const char *key);

/* A number from 1 to `max` in *out, `def` when the key is missing.  Returns
 * 0, or -EINVAL with the reason in *err. */
int config_uint(GKeyFile *kf, const char *group, const char *key,
		unsigned def, unsigned max, unsigned *out, GError **err);

/* A boolean ("true"/"false", also yes/no and 1/0) in *out, `def` when the
 * key is missing.  Returns 0, or -EINVAL with the reason in *err. */
int config_bool(GKeyFile *kf, const char *group, const char *key, bool def,
		bool *out, GError **err);

/* How a line protocol's connection is secured. */
enum config_tls { CONFIG_TLS_IMPLICIT, CONFIG_TLS_STARTTLS, CONFIG_TLS_NONE };

/* The account's `tls` key (implicit when missing) in *tls_r.  `none` sends
 * the password in clear text and is refused (-EINVAL, the reason in *err)
 * unless allow_plaintext = true or `piped` (a tunnel command, not the
 * network, carries the session). */
int config_tls(GKeyFile *kf, const char *group, bool piped,
	       enum config_tls *tls_r, GError **err);

/* The first line that `cmd` (run with /bin/sh -c) prints, without its line
 * end, in *line_r (caller owns).  -EIO with the reason in *err when the
 * command cannot run or fails. */
int config_command_line(const char *cmd, char **line_r, GError **err);

/*
 * The account's secret: the first line of `password_file` (which others must
 * not be able to read) or of what `password_cmd` prints.  *pw_r (caller owns,
 * NULL when the account names neither).  Returns 0, or -errno with the reason
 * in *err.  The secret itself never reaches *err.
 */
int config_secret(GKeyFile *kf, const char *group, char **pw_r,
		  GError **err);

#endif
