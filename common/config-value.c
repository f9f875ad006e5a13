/*
 * config-value.c - see config-value.h.
 */
#include "config-value.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "secret.h"

int config_invalid(GError **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(err, G_KEY_FILE_ERROR,
			    G_KEY_FILE_ERROR_INVALID_VALUE, msg);
	return -EINVAL;
}

char *config_value(GKeyFile *kf, const char *group, const char *key)
{
	char *v = kf && group ? g_key_file_get_string(kf, group, key, NULL)
			      : NULL;

	if (!v)
		return NULL;
	for (char *p = v; *p; p++) {
		if (*p == '#' && (p == v || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	if (!*g_strstrip(v))
		g_clear_pointer(&v, g_free);
	return v;
}

int config_uint(GKeyFile *kf, const char *group, const char *key,
		unsigned def, unsigned max, unsigned *out, GError **err)
{
	g_autofree char *v = config_value(kf, group, key);
	guint64 n;

	if (!v) {
		*out = def;
		return 0;
	}
	if (!g_ascii_string_to_unsigned(v, 10, 1, max, &n, NULL)) {
		g_set_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s = %s: expected a number from 1 to %u", key, v,
			    max);
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
}

int config_bool(GKeyFile *kf, const char *group, const char *key, bool def,
		bool *out, GError **err)
{
	g_autofree char *v = config_value(kf, group, key);

	if (!v) {
		*out = def;
	} else if (!g_ascii_strcasecmp(v, "true") ||
		   !g_ascii_strcasecmp(v, "yes") || !strcmp(v, "1")) {
		*out = true;
	} else if (!g_ascii_strcasecmp(v, "false") ||
		   !g_ascii_strcasecmp(v, "no") || !strcmp(v, "0")) {
		*out = false;
	} else {
		g_set_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s = %s: expected true or false", key, v);
		return -EINVAL;
	}
	return 0;
}

int config_tls(GKeyFile *kf, const char *group, bool piped,
	       enum config_tls *tls_r, GError **err)
{
	g_autofree char *tls = config_value(kf, group, "tls");
	bool plain_ok;

	if (!tls || !strcmp(tls, "implicit")) {
		*tls_r = CONFIG_TLS_IMPLICIT;
	} else if (!strcmp(tls, "starttls")) {
		*tls_r = CONFIG_TLS_STARTTLS;
	} else if (!strcmp(tls, "none")) {
		*tls_r = CONFIG_TLS_NONE;
	} else {
		g_set_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "tls = %s: expected implicit, starttls or none", tls);
		return -EINVAL;
	}
	if (config_bool(kf, group, "allow_plaintext", false, &plain_ok,
			err) < 0)
		return -EINVAL;
	if (*tls_r == CONFIG_TLS_NONE && !piped && !plain_ok) {
		g_set_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "tls = none sends the password in clear text; "
			    "set allow_plaintext = true to allow it");
		return -EINVAL;
	}
	return 0;
}

int config_secret(GKeyFile *kf, const char *group, char **pw_r,
		  GError **err)
{
	g_autofree char *file = config_value(kf, group, "password_file");
	g_autofree char *cmd = config_value(kf, group, "password_cmd");
	char *text = NULL;
	struct stat sb;

	*pw_r = NULL;
	if (file) {
		if (stat(file, &sb) != 0) {
			int rc = -errno;
			g_set_error(err, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_INVALID_VALUE,
				    "password_file %s: %s", file,
				    g_strerror(-rc));
			return rc;
		}
		if (sb.st_mode & 0077) {
			g_set_error(err, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_INVALID_VALUE,
				    "password_file %s can be read by others; "
				    "chmod 600 it", file);
			return -EPERM;
		}
		GError *why = NULL;
		if (!g_file_get_contents(file, &text, NULL, &why)) {
			g_set_error(err, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_INVALID_VALUE,
				    "password_file: %s", why->message);
			g_error_free(why);
			return -EIO;
		}
	} else if (cmd) {
		GError *why = NULL;
		if (config_command_line(cmd, pw_r, &why) < 0) {
			g_set_error(err, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_INVALID_VALUE,
				    "password_cmd: %s", why->message);
			g_error_free(why);
			return -EIO;
		}
		return 0;
	} else {
		return 0;
	}
	text[strcspn(text, "\r\n")] = '\0';
	*pw_r = text;
	return 0;
}

/*
 * The first line `fd` carries, read to its end (a command that prints
 * more must not die of SIGPIPE); what comes after the first line end is
 * read and dropped.  The line may be a password: every buffer it passes
 * through is cleared.  Caller owns the result (secret_free()).
 */
static char *read_first_line(int fd)
{
	GString *line = g_string_sized_new(128);
	char buf[256];
	bool done = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		size_t keep = 0;
		while (!done && keep < (size_t)n && buf[keep] != '\r' &&
		       buf[keep] != '\n')
			keep++;
		done = done || keep < (size_t)n;
		line = secret_string_append(line, buf, keep);
	}
	explicit_bzero(buf, sizeof(buf));
	/* a NUL ends the line as C sees it; the bytes after it go too */
	char *out = g_strdup(line->str);
	secret_string_free(line);
	return out;
}

int config_command_line(const char *cmd, char **line_r, GError **err)
{
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	GPid pid;
	int fd, status = -1;

	/* not g_spawn_sync(): it leaves what the command printed (a
	 * password, for password_cmd) in buffers it frees uncleared */
	if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
				      G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
				      &pid, NULL, &fd, NULL, err))
		return -EIO;
	char *out = read_first_line(fd);
	close(fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	g_spawn_close_pid(pid);
	if (!g_spawn_check_wait_status(status, NULL)) {
		secret_free(out);
		g_set_error(err, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
			    "the command failed");
		return -EIO;
	}
	*line_r = out;
	return 0;
}
