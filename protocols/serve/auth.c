/*
 * auth.c - credentials of the embedded server, SASL PLAIN (RFC 4616) and
 * the slowing down of failed logins.
 */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PASSWORD_FILE 4096
#define MAX_FAILURES 5
#define MAX_DELAY_MS 5000

struct serve_auth {
	char *user;		/* owned */
	char *password;		/* owned; wiped on free */
};

static const unsigned first_delay_ms = 500;

int serve_auth_load(const char *user, const char *password_file,
		    struct serve_auth **auth_r, char **why_r)
{
	char buf[MAX_PASSWORD_FILE + 1];
	struct stat sb;
	ssize_t n;
	int fd, rc;

	if (!user || !*user || !password_file) {
		*why_r = g_strdup("refusing to serve without credentials: give "
				  "--user NAME and --password-file FILE");
		return -EINVAL;
	}
	fd = open(password_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		rc = -errno;
		*why_r = g_strdup_printf("password file %s: %s", password_file,
					 g_strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & 0077)) {
		close(fd);
		*why_r = g_strdup_printf("password file %s can be read by "
					 "others; make it mode 0600",
					 password_file);
		return -EPERM;
	}
	n = read(fd, buf, MAX_PASSWORD_FILE);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0) {
		*why_r = g_strdup_printf("password file %s: %s", password_file,
					 g_strerror(-rc));
		return rc;
	}
	buf[n] = '\0';
	/* the first line is the password, as password_cmd prints it */
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!*buf) {
		*why_r = g_strdup_printf("password file %s is empty",
					 password_file);
		return -EINVAL;
	}
	struct serve_auth *a = g_new0(struct serve_auth, 1);
	a->user = g_strdup(user);
	a->password = g_strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	*auth_r = a;
	return 0;
}

void serve_auth_free(struct serve_auth **ap)
{
	struct serve_auth *a = *ap;

	if (!a)
		return;
	explicit_bzero(a->password, strlen(a->password));
	g_free(a->password);
	g_free(a->user);
	g_free(a);
	*ap = NULL;
}

/* Equal strings, in time that depends only on their lengths. */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return d == 0;
}

bool serve_auth_check(const struct serve_auth *auth, const char *user,
		      const char *password)
{
	bool u, p;

	if (!user || !password)
		return false;
	u = same(user, auth->user);
	p = same(password, auth->password);
	return u & p;
}

/* Failures of the whole server in the last minute: many connections at
 * once must not guess faster than one.  Protected by fail_lock. */
static GMutex fail_lock;
static unsigned recent_failures;
static gint64 recent_since;

bool serve_auth_failed(unsigned failures)
{
	uint64_t ms = first_delay_ms;
	gint64 now = g_get_monotonic_time();
	unsigned others;

	g_mutex_lock(&fail_lock);
	if (now - recent_since > G_USEC_PER_SEC * 60) {
		recent_since = now;
		recent_failures = 0;
	}
	others = recent_failures++;
	g_mutex_unlock(&fail_lock);
	for (unsigned i = 1; i < failures && ms < MAX_DELAY_MS; i++)
		ms *= 2;
	ms += (uint64_t)MIN(others, 50u) * first_delay_ms / 5;
	g_usleep((gulong)MIN(ms, (uint64_t)MAX_DELAY_MS) * 1000);
	return failures >= MAX_FAILURES;
}

static int decode(const char *b64, guchar **out_r, gsize *len_r)
{
	size_t n = strlen(b64);

	if (n == 0 || n % 4 || strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "abcdefghijklmnopqrstuvwxyz0123456789+/=")
				      != n)
		return -EINVAL;
	*out_r = g_base64_decode(b64, len_r);
	return 0;
}

int serve_base64_text(const char *b64, char **out_r)
{
	guchar *raw;
	gsize len;

	if (decode(b64, &raw, &len) < 0)
		return -EINVAL;
	if (memchr(raw, '\0', len)) {
		g_free(raw);
		return -EINVAL;
	}
	*out_r = g_strndup((const char *)raw, len);
	g_free(raw);
	return 0;
}

int serve_sasl_plain(const char *b64, char **user_r, char **pass_r)
{
	guchar *raw;
	gsize len;

	if (decode(b64, &raw, &len) < 0)
		return -EINVAL;
	const char *p = (const char *)raw, *end = p + len;
	const char *nul1 = memchr(p, '\0', len);
	const char *nul2 = nul1 ? memchr(nul1 + 1, '\0',
					 (size_t)(end - nul1 - 1)) : NULL;
	if (!nul2 || memchr(nul2 + 1, '\0', (size_t)(end - nul2 - 1))) {
		explicit_bzero(raw, len);
		g_free(raw);
		return -EINVAL;
	}
	char *authz = g_strndup(p, (gsize)(nul1 - p));
	char *user = g_strndup(nul1 + 1, (gsize)(nul2 - nul1 - 1));
	char *pass = g_strndup(nul2 + 1, (gsize)(end - nul2 - 1));
	explicit_bzero(raw, len);
	g_free(raw);
	if (*authz && strcmp(authz, user)) {
		g_free(authz);
		g_free(user);
		explicit_bzero(pass, strlen(pass));
		g_free(pass);
		return -EINVAL;
	}
	g_free(authz);
	*user_r = user;
	*pass_r = pass;
	return 0;
}
