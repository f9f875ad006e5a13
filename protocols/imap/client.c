/*
 * client.c - the IMAP backend: account settings, the connection pool, and
 * the vtable.  RFC 3501 / RFC 9051; see conn.h for the wire, and for what
 * each operation sends mailbox.c (folders), sync.c, fetch.c, append.c,
 * flags.c, expunge.c and move.c (messages; items.c holds what they
 * share).
 */
#include "imapc-private.h"

#include <errno.h>
#include <string.h>

#include "config-value.h"
#include "log.h"
#include "stream.h"

#define DEFAULT_CONNECTIONS 4
#define MAX_CONNECTIONS 16
#define DEFAULT_POLL 60
#define DEFAULT_TIMEOUT 30

int imapc_parse_cfg(const struct mfs_account *acct, struct imapc_cfg *cfg,
		   GError **err)
{
	GKeyFile *kf = acct->keys;
	const char *g = acct->group;
	struct oauth2_cfg oauth;
	unsigned timeout;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->name = g_strdup(acct->name);
	cfg->host = config_value(kf, g, "host");
	cfg->port = config_value(kf, g, "port");
	cfg->ca_file = config_value(kf, g, "ca_file");
	cfg->user = config_value(kf, g, "user");
	cfg->tunnel = config_value(kf, g, "tunnel");
	cfg->auth = config_value(kf, g, "auth");
	cfg->oauth2_token_cmd = config_value(kf, g, "oauth2_token_cmd");
	cfg->spill_dir = g_strdup(acct->work_dir);
	if ((rc = oauth2_cfg_load(kf, g, acct->name, acct->type, &oauth, err)) < 0)
		return rc;
	if (rc > 0) {
		oauth2_session_open(&oauth, &cfg->oauth2);
		oauth2_cfg_clear(&oauth);
	}
	if (config_tls(kf, g, cfg->tunnel != NULL, &cfg->tls, err) < 0)
		return -EINVAL;
	if (!cfg->host && !cfg->tunnel) {
		g_set_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
			    "no host: add host = NAME (or tunnel = "
			    "COMMAND)");
		return -EINVAL;
	}
	if (!cfg->port)
		cfg->port = g_strdup(cfg->tls == CONFIG_TLS_IMPLICIT ? "993"
								   : "143");
	if (config_uint(kf, g, "connections", DEFAULT_CONNECTIONS,
		     MAX_CONNECTIONS, &cfg->connections, err) < 0 ||
	    config_uint(kf, g, "poll_interval", DEFAULT_POLL, 86400,
		     &cfg->poll_interval, err) < 0 ||
	    config_uint(kf, g, "timeout", DEFAULT_TIMEOUT, 3600, &timeout,
		     err) < 0)
		return -EINVAL;
	cfg->timeout_ms = (int)timeout * 1000;
	if (!cfg->oauth2_token_cmd && !cfg->oauth2 && !cfg->tunnel)
		return config_secret(kf, g, &cfg->password, err);
	return 0;
}

static void conn_close_cb(gpointer p)
{
	struct imapc_conn *c = p;

	imapc_conn_close(&c);
}

/* The delimiter and namespace come with the first connection made. */
static void learn_names(struct mfs_backend *be, struct imapc_conn *c)
{
	g_mutex_lock(&be->lock);
	if (!be->prefix) {
		be->delim = imapc_conn_delimiter(c);
		be->prefix = g_strdup(imapc_conn_prefix(c));
	}
	g_mutex_unlock(&be->lock);
}

static void backend_free(struct mfs_backend *be)
{
	g_ptr_array_unref(be->idle);
	g_hash_table_unref(be->folders);
	imapc_cfg_clear(&be->cfg);
	g_mutex_clear(&be->lock);
	g_cond_clear(&be->cond);
	g_free(be->prefix);
	g_free(be);
}

int imapc_backend_new(const struct mfs_account *acct, struct mfs_backend **be_r,
		     GError **err)
{
	struct mfs_backend *be = g_new0(struct mfs_backend, 1);
	int rc;

	g_mutex_init(&be->lock);
	g_cond_init(&be->cond);
	be->idle = g_ptr_array_new_with_free_func(conn_close_cb);
	be->folders = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					    imapc_folder_free);
	be->delim = '/';
	if ((rc = imapc_parse_cfg(acct, &be->cfg, err)) < 0) {
		backend_free(be);
		return rc;
	}
	*be_r = be;
	return 0;
}

int imapc_backend_connect(struct mfs_backend *be, struct mfs_error *e)
{
	struct imapc_conn *c = NULL;
	int rc = imapc_conn_open(&be->cfg, &c, e);

	if (rc < 0)
		return rc;
	g_mutex_lock(&be->lock);
	be->open_conns++;
	g_mutex_unlock(&be->lock);
	learn_names(be, c);
	imapc_pool_put(be, c);
	return 0;
}

static int imapc_open(const struct mfs_account *acct, struct mfs_backend **be_r,
		     GError **err)
{
	struct mfs_backend *be = NULL;
	struct mfs_error e = { 0 };
	int rc;

	if ((rc = imapc_backend_new(acct, &be, err)) < 0)
		return rc;
	/* one connection now, so that a wrong password or certificate is
	 * said at mount time, not found later in a log */
	rc = imapc_backend_connect(be, &e);
	/* a server that cannot be reached now is no failure: what the cache
	 * holds can still be used, and connections are tried again later */
	if ((rc = mfs_open_outcome(rc, &e, err)) < 0) {
		backend_free(be);
		return rc;
	}
	*be_r = be;
	return 0;
}

void imapc_backend_close(struct mfs_backend **bep)
{
	struct mfs_backend *be = *bep;

	if (!be)
		return;
	imapc_watch_stop(be);
	g_mutex_lock(&be->lock);
	g_ptr_array_set_size(be->idle, 0);
	g_mutex_unlock(&be->lock);
	backend_free(be);
	*bep = NULL;
}

void imapc_pool_put(struct mfs_backend *be, struct imapc_conn *c)
{
	g_mutex_lock(&be->lock);
	if (imapc_conn_broken(c)) {
		be->open_conns--;
		g_mutex_unlock(&be->lock);
		imapc_conn_close(&c);
		g_mutex_lock(&be->lock);
	} else {
		g_ptr_array_add(be->idle, c);
	}
	g_cond_broadcast(&be->cond);
	g_mutex_unlock(&be->lock);
}

/* Leave the mailbox `server` (or one below it) if `c` has it selected.
 * Returns 0 or -errno. */
static int leave_mailbox(struct imapc_conn *c, const char *server,
			 struct mfs_error *e)
{
	const char *sel = imapc_conn_selected(c);
	int rc;

	if (!sel || !g_str_has_prefix(sel, server))
		return 0;
	/* without UNSELECT, a failed EXAMINE leaves no mailbox selected
	 * (RFC 3501 6.3.1); CLOSE would expunge */
	if (imapc_conn_cap(c, "UNSELECT"))
		rc = imapc_conn_run(c, imapc_cmd_new("UNSELECT"), NULL, NULL,
				   NULL, e);
	else
		rc = imapc_conn_run(c, imapc_cmd_new("EXAMINE \"\""), NULL,
				   NULL, NULL, NULL) < 0 && imapc_conn_broken(c)
			? -ECONNRESET : 0;
	imapc_conn_set_selected(c, NULL, 0);
	return rc;
}

int imapc_pool_leave(struct mfs_backend *be, struct imapc_conn *c,
		    const char *server, struct mfs_error *e)
{
	GPtrArray *mine = g_ptr_array_new();
	int rc = leave_mailbox(c, server, e);

	g_mutex_lock(&be->lock);
	for (guint i = 0; i < be->idle->len;) {
		struct imapc_conn *ic = be->idle->pdata[i];
		const char *sel = imapc_conn_selected(ic);
		if (sel && g_str_has_prefix(sel, server))
			g_ptr_array_add(mine, g_ptr_array_steal_index_fast(
						      be->idle, i));
		else
			i++;
	}
	g_mutex_unlock(&be->lock);
	for (guint i = 0; i < mine->len; i++) {
		struct mfs_error ignored = { 0 };
		leave_mailbox(mine->pdata[i], server, &ignored);
		imapc_pool_put(be, mine->pdata[i]);
	}
	g_ptr_array_unref(mine);
	return rc;
}

static int select_cb(struct imap_line *l, void *data)
{
	uint64_t *uv = data;
	struct imap_arg *code = imap_line_arg(l, 2);
	GPtrArray *cl = code && code->type == IMAP_ARG_CODE ? code->list : NULL;

	if (imap_arg_is(imap_line_arg(l, 1), "OK") && cl && cl->len >= 2 &&
	    imap_arg_is(cl->pdata[0], "UIDVALIDITY"))
		imap_arg_number(cl->pdata[1], uv);
	return 0;
}

int imapc_select(struct mfs_backend *be, struct imapc_conn *c,
		const char *folder, uint64_t *uidvalidity_r,
		struct mfs_error *e)
{
	g_autofree char *server = NULL;
	uint64_t uv = 0;
	int rc;

	if ((rc = imapc_server_name(be, folder, &server, e)) < 0)
		return rc;
	if (imapc_conn_selected(c) && !strcmp(imapc_conn_selected(c), server)) {
		if (uidvalidity_r)
			*uidvalidity_r = imapc_conn_uidvalidity(c);
		return 0;
	}
	struct imapc_cmd *cmd = imapc_cmd_new("SELECT");
	imapc_cmd_astring(cmd, server, strlen(server));
	imapc_conn_set_selected(c, NULL, 0);
	rc = imapc_conn_run(c, cmd, select_cb, &uv, NULL, e);
	if (rc < 0)
		return rc;
	if (uv == 0)
		return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s: no UIDVALIDITY for %s", be->cfg.name,
				     folder);
	imapc_conn_set_selected(c, server, uv);
	if (uidvalidity_r)
		*uidvalidity_r = uv;
	return 0;
}

int imapc_pool_get(struct mfs_backend *be, const char *folder,
		  struct imapc_conn **c_r, uint64_t *uidvalidity_r,
		  struct mfs_error *e)
{
	g_autofree char *server = NULL;
	struct imapc_conn *c = NULL;
	/* waiting for a busy connection is part of the operation */
	gint64 deadline = stream_op_deadline(be->cfg.timeout_ms);
	int rc;

	if (folder && (rc = imapc_server_name(be, folder, &server, e)) < 0)
		return rc;
	g_mutex_lock(&be->lock);
	while (!c) {
		/* a connection with the folder selected saves a SELECT */
		for (guint i = 0; i < be->idle->len && server; i++) {
			struct imapc_conn *ic = be->idle->pdata[i];
			if (imapc_conn_selected(ic) &&
			    !strcmp(imapc_conn_selected(ic), server)) {
				c = g_ptr_array_steal_index_fast(be->idle, i);
				break;
			}
		}
		if (!c && be->idle->len)
			c = g_ptr_array_steal_index_fast(be->idle,
							 be->idle->len - 1);
		if (c) {
			/* the server may have ended it while it waited here */
			g_mutex_unlock(&be->lock);
			bool alive = imapc_conn_alive(c);
			g_mutex_lock(&be->lock);
			if (alive)
				break;
			be->open_conns--;
			g_mutex_unlock(&be->lock);
			imapc_conn_close(&c);
			g_mutex_lock(&be->lock);
			continue;
		}
		if (be->open_conns < be->cfg.connections) {
			be->open_conns++;
			g_mutex_unlock(&be->lock);
			rc = imapc_conn_open(&be->cfg, &c, e);
			if (rc == 0)
				learn_names(be, c);
			g_mutex_lock(&be->lock);
			if (rc < 0) {
				be->open_conns--;
				g_cond_broadcast(&be->cond);
				g_mutex_unlock(&be->lock);
				return rc;
			}
			break;
		}
		if (!g_cond_wait_until(&be->cond, &be->lock, deadline)) {
			g_mutex_unlock(&be->lock);
			return mfs_error_set(e, -ETIMEDOUT, MFS_ERR_ACCOUNT,
					     MFS_ERR_TRANSIENT,
					     "%s: every connection is busy",
					     be->cfg.name);
		}
	}
	g_mutex_unlock(&be->lock);
	if (folder && (rc = imapc_select(be, c, folder, uidvalidity_r, e)) < 0) {
		imapc_pool_put(be, c);
		return rc;
	}
	*c_r = c;
	return 0;
}

static int imapc_list(struct mfs_backend *be, GPtrArray **folders_r,
		     struct mfs_error *e)
{
	return imapc_list_folders(be, folders_r, e);
}

static void imapc_describe(struct mfs_backend *be, GString *out)
{
	g_mutex_lock(&be->lock);
	unsigned open = be->open_conns;
	g_mutex_unlock(&be->lock);
	g_string_append_printf(out, "connections: %u open of %u\n", open,
			       be->cfg.connections);
}

static int imapc_watch(struct mfs_backend *be, mfs_change_fn fn, void *data)
{
	return imapc_watch_start(be, fn, data);
}

const struct mfs_backend_ops imapc_backend_ops = {
	.name = "imap",
	.caps = MFS_CAP_WATCH | MFS_CAP_COPY | MFS_CAP_FOLDERS,
	.open = imapc_open,
	.close = imapc_backend_close,
	.list_folders = imapc_list,
	.sync = imapc_sync,
	.fetch = imapc_fetch,
	.fetch_batch = imapc_fetch_batch,
	.append = imapc_append,
	.set_flags = imapc_set_flags,
	.remove = imapc_remove,
	.move = imapc_move,
	.create_folder = imapc_create_folder,
	.rename_folder = imapc_rename_folder,
	.delete_folder = imapc_delete_folder,
	.watch = imapc_watch,
	.describe = imapc_describe,
	.check = imapc_check,
};
