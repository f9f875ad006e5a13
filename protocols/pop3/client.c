/*
 * client.c - the POP3 backend: account settings, opening and closing, and
 * the vtable.  RFC 1939 (POP3), RFC 2449 (CAPA, PIPELINING), RFC 2595
 * (STLS), RFC 5034 (SASL), RFC 8314 (implicit TLS).  See
 * pop3c-private.h for what an item is, session.c for the
 * wire, items.c for what each member sends.
 */
#include "pop3c-private.h"

#include <errno.h>
#include <string.h>

#include "config-value.h"
#include "fileutil.h"

#define DEFAULT_TIMEOUT 30
#define DEFAULT_POLL 60

int pop3c_parse_cfg(const struct mfs_account *acct, struct pop3c_cfg *cfg,
		   GError **err)
{
	GKeyFile *kf = acct->keys;
	const char *g = acct->group;
	g_autofree char *auth = config_value(kf, g, "auth");
	unsigned timeout;

	memset(cfg, 0, sizeof(*cfg));
	cfg->name = g_strdup(acct->name);
	cfg->host = config_value(kf, g, "host");
	cfg->port = config_value(kf, g, "port");
	cfg->ca_file = config_value(kf, g, "ca_file");
	cfg->user = config_value(kf, g, "user");
	if (config_tls(kf, g, false, &cfg->tls, err) < 0)
		return -EINVAL;
	if (!auth) {
		cfg->auth = POP3_AUTH_ANY;
	} else if (!strcmp(auth, "user")) {
		cfg->auth = POP3_AUTH_USER;
	} else if (!strcmp(auth, "plain")) {
		cfg->auth = POP3_AUTH_PLAIN;
	} else {
		return config_invalid(err, "auth = %s: expected user or plain",
				      auth);
	}
	if (config_bool(kf, g, "leave_on_server", true, &cfg->leave_on_server,
			err) < 0 ||
	    config_uint(kf, g, "timeout", DEFAULT_TIMEOUT, 3600, &timeout,
			err) < 0 ||
	    config_uint(kf, g, "poll_interval", DEFAULT_POLL, 86400,
			&cfg->poll_interval, err) < 0)
		return -EINVAL;
	if (!cfg->host) {
		g_set_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
			    "no host: add host = NAME");
		return -EINVAL;
	}
	if (!cfg->port)
		cfg->port = g_strdup(cfg->tls == CONFIG_TLS_IMPLICIT ? "995"
								   : "110");
	cfg->timeout_ms = (int)timeout * 1000;
	/* the one copy of the password kept for the account's life, to log
	 * in again after a connection is lost (cleared when the
	 * configuration is); every copy made to send it is cleared */
	return config_secret(kf, g, &cfg->password, err);
}

static void known_free(gpointer p)
{
	g_free(p);
}

static void backend_free(struct mfs_backend *be)
{
	pop3c_conn_close(&be->conn);
	mfs_store_close(&be->local);
	g_ptr_array_unref(be->order);
	g_hash_table_unref(be->msgs);
	g_hash_table_unref(be->known);
	pop3c_cfg_clear(&be->cfg);
	g_free(be->state_path);
	g_free(be->last_error);
	g_mutex_clear(&be->lock);
	g_free(be);
}

static void msg_free(gpointer p)
{
	struct pop3c_msg *m = p;

	g_free(m->id);
	g_free(m->uidl);
	g_free(m);
}

static int pop3c_open(const struct mfs_account *acct, struct mfs_backend **be_r,
		     GError **err)
{
	struct mfs_backend *be = g_new0(struct mfs_backend, 1);
	const char *dir = acct->work_dir ? acct->work_dir : ".";
	struct mfs_error e = { 0 };
	int rc;

	g_mutex_init(&be->lock);
	be->msgs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					 msg_free);
	be->order = g_ptr_array_new();
	be->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  known_free);
	be->state_path = g_build_filename(dir, "pop3-state", NULL);
	if ((rc = pop3c_parse_cfg(acct, &be->cfg, err)) < 0)
		goto fail;
	if ((rc = file_mkdir_p(dir, 0700)) < 0) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
			    "%s: %s", dir, g_strerror(-rc));
		goto fail;
	}
	if ((rc = pop3c_state_load(be, err)) < 0)
		goto fail;
	if (!be->cfg.leave_on_server) {
		/* the account's `store`, else the data directory: never the
		 * cache, which a user may wipe */
		g_autofree char *root = acct->store
			? g_strdup(acct->store)
			: g_build_filename(g_get_user_data_dir(), "mailfs",
					   "pop3", acct->name, NULL);
		if ((rc = pop3c_keep_open(be, root, dir, err)) < 0)
			goto fail;
	}
	/* one session now, so that a wrong password, certificate or a
	 * server without UIDL is said at mount time */
	g_mutex_lock(&be->lock);
	rc = pop3c_session(be, false, &e);
	g_mutex_unlock(&be->lock);
	if ((rc = mfs_open_outcome(rc, &e, err)) < 0)
		goto fail;
	*be_r = be;
	return 0;
fail:
	backend_free(be);
	return rc;
}

static void pop3c_close(struct mfs_backend **bep)
{
	struct mfs_backend *be = *bep;

	if (!be)
		return;
	pop3c_watch_stop(be);
	g_mutex_lock(&be->lock);
	if (be->conn && !pop3c_conn_broken(be->conn)) {
		/* no DELE waits on the session (removal QUITs at once) */
		struct mfs_error ignored = { 0 };
		pop3c_session_quit(be, &ignored);
	}
	g_mutex_unlock(&be->lock);
	backend_free(be);
	*bep = NULL;
}

void pop3c_note_sync(struct mfs_backend *be, int rc, const struct mfs_error *e)
{
	if (rc >= 0 && rc != 1)
		be->last_sync = g_get_real_time();
	g_clear_pointer(&be->last_error, g_free);
	if (rc != 0)
		be->last_error = g_strdup(e && e->msg[0] ? e->msg
					  : g_strerror(rc < 0 ? -rc : EIO));
}

static int pop3c_list(struct mfs_backend *be, GPtrArray **folders_r,
		     struct mfs_error *e)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_folder_info_free);

	g_ptr_array_add(out, mfs_folder_info_new(POP3_FOLDER,
						 MFS_FOLDER_MAIL));
	*folders_r = out;
	return 0;
}

static int read_only(struct mfs_error *e)
{
	return mfs_error_set(e, -EROFS, MFS_ERR_ITEM, MFS_ERR_FINAL,
			     "POP3 holds only the server's INBOX");
}

/* A batch of more than one is -ENOTSUP, as for any store that has no
 * batch of its own (backend.h); one is refused. */
static int pop3c_append(struct mfs_backend *be, const char *folder,
		       const struct mfs_append *in, size_t n,
		       GPtrArray **items_r, struct mfs_error *e)
{
	return n != 1 ? -ENOTSUP : read_only(e);
}

static int pop3c_move(struct mfs_backend *be, const char *folder,
		     const char *const *ids, const char *dest,
		     const uint64_t *flags, size_t n, bool move,
		     GPtrArray **items_r, struct mfs_error *e)
{
	return n != 1 ? -ENOTSUP : read_only(e);
}

static int pop3c_create_folder(struct mfs_backend *be, const char *path,
			      enum mfs_folder_kind kind, struct mfs_error *e)
{
	return read_only(e);
}

static int pop3c_rename_folder(struct mfs_backend *be, const char *from,
			      const char *to, struct mfs_error *e)
{
	return read_only(e);
}

static int pop3c_delete_folder(struct mfs_backend *be, const char *path,
			      struct mfs_error *e)
{
	return read_only(e);
}

static int pop3c_watch(struct mfs_backend *be, mfs_change_fn fn, void *data)
{
	return pop3c_watch_start(be, fn, data);
}

static void pop3c_describe(struct mfs_backend *be, GString *out)
{
	static const char *const tls[] = { "implicit TLS", "STLS",
					   "no TLS" };

	g_mutex_lock(&be->lock);
	g_string_append_printf(out, "server: pop3 %s:%s (%s)\n", be->cfg.host,
			       be->cfg.port, tls[be->cfg.tls]);
	if (be->last_sync) {
		GDateTime *dt = g_date_time_new_from_unix_utc(
			be->last_sync / G_USEC_PER_SEC);
		g_autofree char *when = g_date_time_format(
			dt, "%Y-%m-%dT%H:%M:%SZ");
		g_date_time_unref(dt);
		g_string_append_printf(out, "last sync: %s\n", when);
	} else {
		g_string_append(out, "last sync: none since the mount\n");
	}
	g_string_append_printf(out, "last sync error: %s\n",
			       be->last_error ? be->last_error : "none");
	g_string_append_printf(out, "leave on server: %s\n",
			       be->cfg.leave_on_server ? "yes" : "no");
	g_mutex_unlock(&be->lock);
}

const struct mfs_backend_ops pop3c_backend_ops = {
	.name = "pop3",
	.caps = MFS_CAP_WATCH,
	.open = pop3c_open,
	.close = pop3c_close,
	.list_folders = pop3c_list,
	.sync = pop3c_sync,
	.fetch = pop3c_fetch,
	.fetch_batch = pop3c_fetch_batch,
	.append = pop3c_append,
	.set_flags = pop3c_set_flags,
	.remove = pop3c_remove,
	.move = pop3c_move,
	.create_folder = pop3c_create_folder,
	.rename_folder = pop3c_rename_folder,
	.delete_folder = pop3c_delete_folder,
	.watch = pop3c_watch,
	.describe = pop3c_describe,
	.check = pop3c_check,
};
