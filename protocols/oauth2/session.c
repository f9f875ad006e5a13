/*
 * session.c - "a valid access token for this account", the one call the
 * protocol clients make.  The stored access token serves while it has more
 * than a minute left; after that one caller does the refresh grant
 * (refresh.c) and writes the token file back, while the others wait on
 * the same lock and then read the new token.  All sessions of one token
 * file share one state (a process-wide table), and an flock(2) on
 * TOKENFILE.lock keeps a mount and a `mailfs sync` of the same account from
 * refreshing at once: with a rotating refresh token the slower one would
 * present a used token and be told to log in again.
 */
#include "oauth2-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* a token this close to its end is not handed out */
#define MARGIN 60

struct oauth2_session {
	struct oauth2_cfg cfg;		/* owned; strings copied */
	unsigned refs;			/* protected by table_lock */
	GMutex lock;			/* one refresh at a time */
};

static GMutex table_lock;
static GHashTable *table;		/* token path -> session; table_lock */

static void cfg_copy(struct oauth2_cfg *to, const struct oauth2_cfg *from)
{
	to->account = g_strdup(from->account);
	to->provider = g_strdup(from->provider);
	to->client_id = g_strdup(from->client_id);
	to->client_secret = g_strdup(from->client_secret);
	to->scope = g_strdup(from->scope);
	to->device_url = g_strdup(from->device_url);
	to->token_url = g_strdup(from->token_url);
	to->ca_file = g_strdup(from->ca_file);
	to->token_path = g_strdup(from->token_path);
	to->timeout = from->timeout;
}

void oauth2_session_open(const struct oauth2_cfg *cfg,
			 struct oauth2_session **s_r)
{
	struct oauth2_session *s;

	g_mutex_lock(&table_lock);
	if (!table)
		table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      NULL);
	s = g_hash_table_lookup(table, cfg->token_path);
	if (!s) {
		s = g_new0(struct oauth2_session, 1);
		cfg_copy(&s->cfg, cfg);
		g_mutex_init(&s->lock);
		g_hash_table_insert(table, g_strdup(cfg->token_path), s);
	}
	s->refs++;
	g_mutex_unlock(&table_lock);
	*s_r = s;
}

void oauth2_session_close(struct oauth2_session **sp)
{
	struct oauth2_session *s = *sp;

	if (!s)
		return;
	*sp = NULL;
	g_mutex_lock(&table_lock);
	if (--s->refs > 0) {
		g_mutex_unlock(&table_lock);
		return;
	}
	g_hash_table_remove(table, s->cfg.token_path);
	if (g_hash_table_size(table) == 0)
		g_clear_pointer(&table, g_hash_table_unref);
	g_mutex_unlock(&table_lock);
	g_mutex_clear(&s->lock);
	oauth2_cfg_clear(&s->cfg);
	g_free(s);
}

static bool usable(const struct oauth2_token *t, const char *refused)
{
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;

	return t->access_token && t->expires_at - now > MARGIN &&
	       !(refused && !strcmp(refused, t->access_token));
}

/* The token file, or why not as the user should read it. */
static int load(struct oauth2_session *s, struct oauth2_token *t,
		struct mfs_error *e)
{
	g_autofree char *why = NULL;
	int rc = oauth2_token_read(s->cfg.token_path, t, &why);

	if (rc == -ENOENT)
		return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT,
				     MFS_ERR_FINAL, "account %s: oauth2: not "
				     "signed in yet; run `mailfs login %s`",
				     s->cfg.account, s->cfg.account);
	if (rc < 0)
		return mfs_error_set(e, rc == -EINVAL ? -EINVAL : -EACCES,
				     MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "account %s: oauth2: %s", s->cfg.account,
				     why);
	return 0;
}

/* Serialise refreshes with other processes.  Returns the lock's fd or
 * -errno. */
static int lock_file(const struct oauth2_session *s, struct mfs_error *e)
{
	g_autofree char *why = NULL;
	int fd = oauth2_token_lock(s->cfg.token_path, &why);

	if (fd < 0)
		return mfs_error_set(e, fd, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "account %s: oauth2: %s", s->cfg.account,
				     why);
	return fd;
}

/* Refresh t (read under the lock) and write the file back. */
static int refresh(struct oauth2_session *s, struct oauth2_token *t,
		   struct mfs_error *e)
{
	g_autofree char *why = NULL;
	int rc = oauth2_refresh(&s->cfg, t, &why);

	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ACCOUNT,
				     rc == -EIO || rc == -ETIMEDOUT ||
				     rc == -EAGAIN ? MFS_ERR_TRANSIENT
						   : MFS_ERR_FINAL,
				     "account %s: oauth2: %s", s->cfg.account,
				     why);
	log_debug(LOG_PROTO, "%s: oauth2: access token refreshed",
		  s->cfg.account);
	if ((rc = oauth2_token_write(s->cfg.token_path, t, &why)) < 0)
		return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "account %s: oauth2: %s", s->cfg.account,
				     why);
	return 0;
}

int oauth2_access_token(struct oauth2_session *s, const char *refused,
			char **tok_r, struct mfs_error *e)
{
	struct oauth2_token t;
	int rc, lock = -1;

	*tok_r = NULL;
	g_mutex_lock(&s->lock);
	/* the file, not a copy in memory: `mailfs login` or another process
	 * may have written newer tokens since */
	rc = load(s, &t, e);
	if (rc == 0 && !usable(&t, refused)) {
		oauth2_token_clear(&t);
		if ((rc = lock = lock_file(s, e)) >= 0)
			rc = load(s, &t, e);
		if (rc >= 0 && !usable(&t, refused))
			rc = refresh(s, &t, e);
		if (lock >= 0)
			close(lock);
	}
	if (rc >= 0) {
		*tok_r = g_strdup(t.access_token);
		rc = 0;
	}
	oauth2_token_clear(&t);
	g_mutex_unlock(&s->lock);
	return rc;
}
