/*
 * auth.c - credentials of the embedded server, SASL PLAIN (RFC 4616), and
 * the bounds on failed logins: a token bucket per client address and one
 * for the whole server (auth.h says why); the NTLMv2 check of MS-NLMP
 * 3.3.2 against the password held here.
 */
#include "auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "wire/ntlm.h"

#define MAX_PASSWORD_FILE 4096
/* failures on one connection before it is closed, and the waits after
 * them: 500 ms, 1 s, 2 s */
#define MAX_FAILURES 3
#define MAX_DELAY_MS 2000
/* addresses remembered at once; past it, new ones share one allowance */
#define MAX_SOURCES 4096
#define OVERFLOW_SOURCE "(many addresses)"

/* Failed logins still allowed: `tokens` grows by one each `interval` up to
 * the burst, and each failure takes one. */
struct bucket {
	double tokens;
	gint64 stamp;		/* monotonic us of the last refill */
	bool refusing;		/* refusals logged, until a login is let in */
};

struct serve_auth {
	char *user;		/* owned */
	char *password;		/* owned; wiped on free */
	GMutex lock;
	GHashTable *sources;	/* address text -> struct bucket; owned;
				   protected by lock */
	struct bucket server;	/* protected by lock */
	gint64 pruned;		/* monotonic us of the last pruning of
				   `sources`; protected by lock */
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
	g_mutex_init(&a->lock);
	a->sources = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   g_free);
	a->server.tokens = SERVE_SERVER_BURST;
	a->server.stamp = g_get_monotonic_time();
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
	g_hash_table_unref(a->sources);
	g_mutex_clear(&a->lock);
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

static void refill(struct bucket *b, gint64 now, unsigned burst,
		   unsigned interval_ms)
{
	b->tokens += (double)(now - b->stamp) / (interval_ms * 1000.0);
	if (b->tokens > burst)
		b->tokens = burst;
	b->stamp = now;
}

/* The address as the allowances know it, into `out`: IPv4 as is (also
 * when mapped into IPv6), IPv6 by its /64, which one holder usually has
 * whole. */
static void source_name(const struct sockaddr *sa, char *out, size_t size)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	struct in6_addr a6;

	g_strlcpy(out, "(local)", size);
	if (sa && sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  out, (socklen_t)size);
	} else if (sa && sa->sa_family == AF_INET6 &&
		   IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out,
			  (socklen_t)size);
	} else if (sa && sa->sa_family == AF_INET6) {
		a6 = s6->sin6_addr;
		memset(&a6.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &a6, out, (socklen_t)size);
		g_strlcat(out, "/64", size);
	}
}

/* The allowance of `*name`, made full when new.  A full one is the same
 * as none, so full ones are forgotten when the table is at its bound (at
 * most once a second: the walk is long); when it stays there, new
 * addresses share one allowance, and *name becomes its name.  Borrowed;
 * valid while the lock is held.  Called with the lock held. */
static struct bucket *source_bucket(struct serve_auth *a, const char **name,
				    gint64 now)
{
	struct bucket *b = g_hash_table_lookup(a->sources, *name);
	GHashTableIter it;
	gpointer value;

	if (b)
		return b;
	if (g_hash_table_size(a->sources) >= MAX_SOURCES &&
	    now - a->pruned >= G_USEC_PER_SEC) {
		a->pruned = now;
		g_hash_table_iter_init(&it, a->sources);
		while (g_hash_table_iter_next(&it, NULL, &value)) {
			refill(value, now, SERVE_SOURCE_BURST,
			       SERVE_SOURCE_INTERVAL_MS);
			if (((struct bucket *)value)->tokens >=
			    SERVE_SOURCE_BURST)
				g_hash_table_iter_remove(&it);
		}
	}
	if (g_hash_table_size(a->sources) >= MAX_SOURCES) {
		*name = OVERFLOW_SOURCE;
		if ((b = g_hash_table_lookup(a->sources, *name)))
			return b;
	}
	b = g_new0(struct bucket, 1);
	b->tokens = SERVE_SOURCE_BURST;
	b->stamp = now;
	g_hash_table_insert(a->sources, g_strdup(*name), b);
	return b;
}

/* Take one failure from the allowance of `*name` and the server's,
 * before the check, so that parallel attempts cannot all pass on one free
 * slot; false (and nothing taken) when either is used up.  *name becomes
 * the name of the allowance used. */
static bool admit(struct serve_auth *a, const char **name)
{
	gint64 now = g_get_monotonic_time();
	bool ok;

	g_mutex_lock(&a->lock);
	struct bucket *b = source_bucket(a, name, now);
	refill(b, now, SERVE_SOURCE_BURST, SERVE_SOURCE_INTERVAL_MS);
	refill(&a->server, now, SERVE_SERVER_BURST, SERVE_SERVER_INTERVAL_MS);
	ok = b->tokens >= 1 && a->server.tokens >= 1;
	if (ok) {
		b->tokens -= 1;
		a->server.tokens -= 1;
		b->refusing = a->server.refusing = false;
	} else if (b->tokens < 1 && !b->refusing) {
		b->refusing = true;
		log_warnx("serve: too many failed logins from %s; refusing "
			  "its logins for a while", *name);
	} else if (b->tokens >= 1 && !a->server.refusing) {
		a->server.refusing = true;
		log_warnx("serve: too many failed logins from all addresses; "
			  "refusing logins for a while");
	}
	g_mutex_unlock(&a->lock);
	return ok;
}

/* A login that succeeded gives back what admit() took. */
static void give_back(struct serve_auth *a, const char *name)
{
	struct bucket *b;

	g_mutex_lock(&a->lock);
	b = g_hash_table_lookup(a->sources, name);
	if (b)
		b->tokens = MIN(b->tokens + 1, (double)SERVE_SOURCE_BURST);
	a->server.tokens = MIN(a->server.tokens + 1,
			       (double)SERVE_SERVER_BURST);
	g_mutex_unlock(&a->lock);
}

enum serve_login serve_auth_login(struct serve_auth *auth,
				  const struct sockaddr *from,
				  const char *user, const char *password)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *name = buf;

	source_name(from, buf, sizeof(buf));
	if (!admit(auth, &name))
		return SERVE_LOGIN_REFUSED;
	if (!serve_auth_check(auth, user, password))
		return SERVE_LOGIN_FAILED;
	give_back(auth, name);
	return SERVE_LOGIN_OK;
}

const char *serve_auth_user(const struct serve_auth *auth)
{
	return auth->user;
}

/* Whether `a` is serve's user and its response was made with serve's
 * password. */
static bool ntlm_check(const struct serve_auth *auth,
		       const struct ntlm_authenticate *a,
		       const unsigned char *challenge)
{
	uint8_t nt[NTLM_HASH_LEN], key[NTLM_HASH_LEN];
	g_autofree char *want = g_utf8_casefold(auth->user, -1);
	g_autofree char *got = g_utf8_casefold(a->user, -1);
	bool user_ok = same(got, want), ok;

	if (ntlm_nt_hash(auth->password, nt) < 0 ||
	    ntlm_ntowfv2(nt, a->user, a->domain, key) < 0)
		return false;
	ok = ntlm_v2_verify(key, challenge, a->nt, a->nt_len);
	explicit_bzero(nt, sizeof(nt));
	explicit_bzero(key, sizeof(key));
	return ok & user_ok;
}

enum serve_login serve_auth_ntlm(struct serve_auth *auth,
				 const struct sockaddr *from,
				 const struct ntlm_authenticate *a,
				 const unsigned char *challenge)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *name = buf;

	source_name(from, buf, sizeof(buf));
	if (!admit(auth, &name))
		return SERVE_LOGIN_REFUSED;
	if (!ntlm_check(auth, a, challenge))
		return SERVE_LOGIN_FAILED;
	give_back(auth, name);
	return SERVE_LOGIN_OK;
}

bool serve_auth_failed(unsigned failures)
{
	unsigned ms = first_delay_ms;

	for (unsigned i = 1; i < failures && ms < MAX_DELAY_MS; i++)
		ms *= 2;
	g_usleep((gulong)MIN(ms, MAX_DELAY_MS) * 1000);
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
