/*
 * token.c - the token file of an account: $XDG_DATA_HOME/mailfs/tokens/
 * ACCOUNT, a GLib key file holding the refresh token and the current
 * access token with its expiry.  It is written as OpenSMTPD writes its
 * queue: to a temporary name, fsync, rename, fsync of the directory; mode
 * 0600 in a directory 0700, since whoever reads it can read the mail.
 */
#include "oauth2-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "secret.h"

#define GROUP "oauth2"
#define TOKEN_FILE_MAX (64 * 1024)

void oauth2_token_clear(struct oauth2_token *t)
{
	secret_clear(&t->access_token);
	secret_clear(&t->refresh_token);
	t->expires_at = 0;
}

static int parse(const char *path, const char *buf, size_t len,
		 struct oauth2_token *t, char **why_r)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	GError *err = NULL;

	if (!g_key_file_load_from_data(kf, buf, len, G_KEY_FILE_NONE, &err)) {
		g_error_free(err);
		*why_r = g_strdup_printf("%s is not a token file", path);
		return -EINVAL;
	}
	t->refresh_token = g_key_file_get_string(kf, GROUP, "refresh_token",
						 NULL);
	t->access_token = g_key_file_get_string(kf, GROUP, "access_token",
						NULL);
	t->expires_at = g_key_file_get_int64(kf, GROUP, "expires_at", NULL);
	/* a damaged expiry means a refresh, not an overflow later */
	if (t->expires_at < 0 || t->expires_at > G_MAXINT64 / 2)
		t->expires_at = 0;
	if (t->access_token && !*t->access_token)
		secret_clear(&t->access_token);
	if (!oauth2_printable(t->refresh_token) ||
	    (t->access_token && !oauth2_printable(t->access_token))) {
		oauth2_token_clear(t);
		*why_r = g_strdup_printf("%s holds no refresh token", path);
		return -EINVAL;
	}
	return 0;
}

int oauth2_token_read(const char *path, struct oauth2_token *t,
		      char **why_r)
{
	g_autofree char *buf = NULL;
	struct stat st;
	size_t len;
	int fd, rc;

	memset(t, 0, sizeof(*t));
	*why_r = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		if (rc != -ENOENT)
			*why_r = g_strdup_printf("cannot read the token file "
						 "%s: %s", path,
						 g_strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*why_r = g_strdup_printf("%s is not a token file", path);
		return -EINVAL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		*why_r = g_strdup_printf("the token file %s is open to "
					 "others (chmod 600 it, or run "
					 "mailfs login again)", path);
		return -EPERM;
	}
	rc = file_read_head(fd, TOKEN_FILE_MAX, &buf, &len);
	close(fd);
	if (rc < 0) {
		*why_r = g_strdup_printf("cannot read the token file %s: %s",
					 path, g_strerror(-rc));
		return rc;
	}
	rc = parse(path, buf, len, t, why_r);
	explicit_bzero(buf, len);
	return rc;
}

static GString *append(GString *s, const char *text)
{
	return secret_string_append(s, text, strlen(text));
}

/* The file's text.  Caller owns (a secret).  Built without printf, whose
 * scratch buffers would keep the tokens after they are freed. */
static char *render(const struct oauth2_token *t)
{
	GString *s = g_string_sized_new(1024);
	char when[32];

	s = append(s, "# mailfs OAuth2 tokens; written by `mailfs login`, "
		   "keep it private\n[" GROUP "]\nrefresh_token=");
	s = append(s, t->refresh_token);
	s = append(s, "\n");
	if (t->access_token) {
		g_snprintf(when, sizeof(when), "%" G_GINT64_FORMAT,
			   t->expires_at);
		s = append(s, "access_token=");
		s = append(s, t->access_token);
		s = append(s, "\nexpires_at=");
		s = append(s, when);
		s = append(s, "\n");
	}
	char *text = g_strdup(s->str);
	secret_string_free(s);
	return text;
}

int oauth2_token_write(const char *path, const struct oauth2_token *t,
		       char **why_r)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	char *text;
	size_t len;
	int fd, rc;

	*why_r = NULL;
	if (!oauth2_printable(t->refresh_token) ||
	    (t->access_token && !oauth2_printable(t->access_token))) {
		*why_r = g_strdup("the server sent a token that is not "
				  "printable ASCII");
		return -EINVAL;
	}
	if ((rc = file_mkdir_p(dir, 0700)) < 0 ||
	    (chmod(dir, 0700) != 0 && (rc = -errno) < 0)) {
		*why_r = g_strdup_printf("cannot make %s: %s", dir,
					 g_strerror(-rc));
		return rc;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		rc = -errno;
		*why_r = g_strdup_printf("cannot write %s: %s", tmp,
					 g_strerror(-rc));
		return rc;
	}
	text = render(t);
	len = strlen(text);
	/* an old file of another mode must not lend it to the new one */
	if (fchmod(fd, 0600) != 0)
		rc = -errno;
	if (rc == 0)
		rc = file_write_all(fd, text, len);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	explicit_bzero(text, len);
	g_free(text);
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc == 0)
		rc = file_fsync_dir(dir);
	if (rc < 0) {
		unlink(tmp);
		*why_r = g_strdup_printf("cannot write %s: %s", path,
					 g_strerror(-rc));
	}
	return rc;
}

/* An access token whose answer gave no lifetime is used this long, then
 * refreshed (RFC 6749 5.1 leaves expires_in optional). */
#define UNSAID_LIFETIME 600

void oauth2_token_take(struct oauth2_token *t, struct oauth2_token_answer *a,
		       int64_t now)
{
	secret_clear(&t->access_token);
	t->access_token = g_steal_pointer(&a->access_token);
	t->expires_at = now + (a->expires_in > 0 ? a->expires_in
						 : UNSAID_LIFETIME);
	if (a->refresh_token) {
		secret_clear(&t->refresh_token);
		t->refresh_token = g_steal_pointer(&a->refresh_token);
	}
}

int oauth2_token_lock(const char *path, char **why_r)
{
	g_autofree char *lock = g_strconcat(path, ".lock", NULL);
	g_autofree char *dir = g_path_get_dirname(path);
	int fd, rc;

	*why_r = NULL;
	if ((rc = file_mkdir_p(dir, 0700)) < 0) {
		*why_r = g_strdup_printf("cannot make %s: %s", dir,
					 g_strerror(-rc));
		return rc;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		*why_r = g_strdup_printf("cannot lock %s: %s", lock,
					 g_strerror(-rc));
		return rc;
	}
	return fd;
}
