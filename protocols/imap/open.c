/*
 * open.c - opening an IMAP connection: TCP, TLS or a tunnel, the
 * greeting, capabilities, STARTTLS, login (auth.c), ENABLE, the hierarchy
 * delimiter and the personal namespace; each step said to `mailfs check`.
 * See conn.h.
 *
 * RFC 3501 / RFC 9051 (IMAP), RFC 2595 and RFC 8314 (TLS), RFC 5161
 * (ENABLE), RFC 2342 (NAMESPACE).
 */
#include "conn-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "printable.h"
#include "stream.h"

#define SPILL_THRESHOLD (1024 * 1024)

void imapc_cfg_clear(struct imapc_cfg *cfg)
{
	g_free(cfg->name);
	g_free(cfg->host);
	g_free(cfg->port);
	g_free(cfg->ca_file);
	g_free(cfg->user);
	if (cfg->password) {
		memset(cfg->password, 0, strlen(cfg->password));
		g_free(cfg->password);
	}
	g_free(cfg->oauth2_token_cmd);
	oauth2_session_close(&cfg->oauth2);
	g_free(cfg->tunnel);
	g_free(cfg->auth);
	g_free(cfg->spill_dir);
	memset(cfg, 0, sizeof(*cfg));
}

static void line_free_cb(gpointer p)
{
	struct imap_line *l = p;

	imap_line_free(&l);
}

static int refresh_caps(struct imapc_conn *c, struct mfs_error *e)
{
	return imapc_conn_run(c, imapc_cmd_new("CAPABILITY"), NULL, NULL, NULL,
			     e);
}

static int find_delimiter(struct imap_line *l, void *data)
{
	struct imapc_conn *c = data;
	const char *d;

	if (imap_arg_is(imap_line_arg(l, 1), "LIST") &&
	    (d = imap_arg_string(imap_line_arg(l, 3))) && d[0])
		c->delim = d[0];
	return 0;
}

/* RFC 2342: the first personal namespace, "((prefix delim) ...) ..." */
static int find_namespace(struct imap_line *l, void *data)
{
	struct imapc_conn *c = data;
	GPtrArray *personal = imap_arg_list(imap_line_arg(l, 2));
	GPtrArray *first = personal && personal->len
				   ? imap_arg_list(personal->pdata[0]) : NULL;
	const char *prefix = first && first->len >= 1
				     ? imap_arg_string(first->pdata[0]) : NULL;

	if (!imap_arg_is(imap_line_arg(l, 1), "NAMESPACE") || !prefix)
		return 0;
	g_free(c->prefix);
	c->prefix = g_strdup(prefix);
	if (first->len >= 2) {
		const char *d = imap_arg_string(first->pdata[1]);
		if (d && d[0])
			c->delim = d[0];
	}
	return 0;
}

const char *imapc_conn_prefix(const struct imapc_conn *c)
{
	return c->prefix ? c->prefix : "";
}

/* ---- what `mailfs check` hears ---- */

static gint str_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The capability set in one line, sorted.  Caller owns the result. */
static char *caps_line(const struct imapc_conn *c)
{
	g_autofree gpointer *keys = g_hash_table_get_keys_as_array(c->caps,
								   NULL);
	guint n = g_hash_table_size(c->caps);

	qsort(keys, n, sizeof(*keys), str_cmp);
	keys = g_renew(gpointer, keys, n + 1);
	keys[n] = NULL;
	return g_strjoinv(" ", (char **)keys);
}

static void say_caps(struct imapc_conn *c, const struct imapc_cfg *cfg,
		     const char *when, const char *before)
{
	g_autofree char *now = cfg->check ? caps_line(c) : NULL;

	if (now && g_strcmp0(now, before))
		mfs_check_say(cfg->check, "caps", true, NULL, "%s%s", when,
			      now);
}

/* A connection not connected yet, with cfg's limits.  Caller owns it. */
static struct imapc_conn *conn_new(const struct imapc_cfg *cfg)
{
	struct imapc_conn *c = g_new0(struct imapc_conn, 1);

	c->name = g_strdup(cfg->name);
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
	c->parser = imap_parser_new(IMAP_PARSE_RESPONSES, &imap_client_limits);
	/* bodies above a megabyte go to a file as they arrive, so memory
	 * stays small whatever size a server announces */
	imap_parser_set_spill(c->parser, SPILL_THRESHOLD, cfg->spill_dir);
	c->caps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	c->done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					line_free_cb);
	c->delim = '/';
	return c;
}

/* TCP (or the tunnel's command) and, with tls = implicit, TLS at once. */
static int conn_connect(struct imapc_conn *c, const struct imapc_cfg *cfg,
			struct mfs_error *e)
{
	g_autofree char *why = NULL;
	int rc;

	gint64 started = g_get_monotonic_time();
	if (cfg->tunnel)
		rc = stream_spawn(cfg->tunnel, &c->s, &why);
	else
		rc = stream_connect(cfg->host, cfg->port, c->timeout_ms, &c->s,
				    &why);
	mfs_check_connected(cfg->check, rc, why, c->s, cfg->host, cfg->port,
			    cfg->tunnel, started, c->timeout_ms);
	if (rc == 0 && !cfg->tunnel && cfg->tls == CONFIG_TLS_IMPLICIT) {
		rc = stream_start_tls(c->s, cfg->host, cfg->ca_file,
				      c->timeout_ms, &why);
		mfs_check_tls(cfg->check, rc, why, c->s, cfg->ca_file,
			      "implicit TLS");
	} else if (rc == 0 && (cfg->tunnel || cfg->tls == CONFIG_TLS_NONE)) {
		mfs_check_say(cfg->check, "tls", true, NULL, cfg->tunnel
			      ? "none: the tunnel's command carries the "
				"session"
			      : "none: plain text, as allow_plaintext = true "
				"permits");
	}
	if (rc < 0)
		mfs_error_set(e, rc, MFS_ERR_ACCOUNT,
			      rc == -EPERM ? MFS_ERR_FINAL : MFS_ERR_BACKOFF,
			      "%s: %s", c->name, why);
	return rc;
}

/* The server's greeting: "* OK", or "* PREAUTH" (*preauth_r) when it
 * logged the session in by itself. */
static int conn_greeting(struct imapc_conn *c, const struct imapc_cfg *cfg,
			 bool *preauth_r, struct mfs_error *e)
{
	struct imap_line *greeting = NULL;
	int rc = imapc_conn_read_line(c, c->timeout_ms, false, &greeting, e);

	if (rc < 0) {
		if (rc == -ETIMEDOUT)
			mfs_check_say(cfg->check, "greeting", false, "check "
				      "port = and tls = (a TLS port says "
				      "nothing to plain text)", "no greeting, "
				      "timed out after %d s",
				      c->timeout_ms / 1000);
		else
			mfs_check_say(cfg->check, "greeting", false, "check "
				      "port = and tls =", "%s",
				      e ? e->msg : g_strerror(-rc));
		return rc;
	}
	struct imap_arg *g0 = imap_line_arg(greeting, 0);
	struct imap_arg *g1 = imap_line_arg(greeting, 1);
	if (!imap_arg_is(g0, "*") || !(imap_arg_is(g1, "OK") ||
				       imap_arg_is(g1, "PREAUTH"))) {
		struct imap_arg *t = imap_line_arg(greeting, greeting->args->len - 1);
		g_autofree char *said = printable(t && t->str ? t->str : "",
						  -1);
		rc = mfs_error_set(e, -ECONNREFUSED, MFS_ERR_ACCOUNT,
				   MFS_ERR_BACKOFF, "%s: the server refused "
				   "the connection: %s", c->name, said);
		mfs_check_say(cfg->check, "greeting", false, "check host = "
			      "and port = (is it an IMAP server?)", "%s",
			      e ? e->msg : "refused");
		imap_line_free(&greeting);
		return rc;
	}
	*preauth_r = imap_arg_is(g1, "PREAUTH");
	if (cfg->check) {
		struct imap_arg *t = imap_line_arg(greeting,
						   greeting->args->len - 1);
		g_autofree char *said = printable(
			t && t->type == IMAP_ARG_TEXT ? t->str : "", -1);
		mfs_check_say(cfg->check, "greeting", true, NULL, "* %s %s",
			      g1->str, said);
	}
	imap_line_free(&greeting);
	return 0;
}

/* tls = starttls: STARTTLS, the handshake, and the capabilities anew.
 * Never falls back to plain text. */
static int conn_starttls(struct imapc_conn *c, const struct imapc_cfg *cfg,
			 struct mfs_error *e)
{
	g_autofree char *why = NULL;
	int rc;

	if (!imapc_conn_cap(c, "STARTTLS")) {
		/* never fall back to plain text */
		rc = mfs_error_set(e, -EPROTONOSUPPORT, MFS_ERR_ACCOUNT,
				   MFS_ERR_FINAL, "%s: the server does "
				   "not offer STARTTLS", c->name);
		mfs_check_say(cfg->check, "tls", false, "use tls = "
			      "implicit (port 993) if the server has "
			      "it", "%s", e ? e->msg : "no STARTTLS");
		return rc;
	}
	rc = imapc_conn_run(c, imapc_cmd_new("STARTTLS"), NULL, NULL,
			   NULL, e);
	if (rc < 0 && e) {
		char said[sizeof(e->msg)];
		g_strlcpy(said, e->msg, sizeof(said));
		mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
			      "%s: the server refused STARTTLS: %s",
			      c->name, said);
	}
	if (rc == 0 && c->rpos < c->rend) {
		/* bytes sent before TLS began would be injected */
		rc = imapc_conn_fail(c, -EPROTO, e, "data after STARTTLS");
	}
	if (rc < 0)
		mfs_check_say(cfg->check, "tls", false, NULL, "%s",
			      e ? e->msg : "STARTTLS failed");
	if (rc == 0) {
		rc = stream_start_tls(c->s, cfg->host, cfg->ca_file,
				      c->timeout_ms, &why);
		mfs_check_tls(cfg->check, rc, why, c->s, cfg->ca_file,
			      "STARTTLS offered and done");
		if (rc < 0)
			mfs_error_set(e, rc, MFS_ERR_ACCOUNT,
				      MFS_ERR_FINAL, "%s: %s", c->name,
				      why);
	}
	g_hash_table_remove_all(c->caps);
	if (rc == 0)
		rc = refresh_caps(c, e);
	if (rc < 0)
		return rc;
	say_caps(c, cfg, "", NULL);
	return 0;
}

/* Log in (unless the server did, PREAUTH), then the capabilities the
 * session has after. */
static int conn_login(struct imapc_conn *c, const struct imapc_cfg *cfg,
		      bool preauth, struct mfs_error *e)
{
	int rc;

	if (preauth) {
		mfs_check_say(cfg->check, "auth", true, NULL, "PREAUTH: the "
			      "server logged the session in by itself");
		return 0;
	}
	/* the login chooses by what the server offers before login; what
	 * it offers after comes with the OK or by asking */
	unsigned gen = c->caps_gen;
	g_autofree char *before = cfg->check ? caps_line(c) : NULL;
	if ((rc = imapc_conn_login(c, cfg, e)) < 0)
		return rc;
	if (c->caps_gen == gen && (rc = refresh_caps(c, e)) < 0)
		return rc;
	say_caps(c, cfg, "after login: ", before);
	return 0;
}

/* What the session needs before use: ENABLE for the sync, the hierarchy
 * delimiter, the personal namespace. */
static int conn_setup(struct imapc_conn *c, struct mfs_error *e)
{
	int rc;

	if (imapc_conn_cap(c, "QRESYNC") || imapc_conn_cap(c, "CONDSTORE")) {
		rc = imapc_conn_run(c, imapc_cmd_new("ENABLE %s",
						   imapc_conn_cap(c, "QRESYNC")
						   ? "QRESYNC" : "CONDSTORE"),
				   NULL, NULL, NULL, e);
		if (rc < 0)
			return rc;
	}
	rc = imapc_conn_run(c, imapc_cmd_new("LIST \"\" \"\""), find_delimiter, c,
			   NULL, e);
	if (rc == 0 && imapc_conn_cap(c, "NAMESPACE"))
		rc = imapc_conn_run(c, imapc_cmd_new("NAMESPACE"), find_namespace,
				   c, NULL, e);
	return rc;
}

int imapc_conn_open(const struct imapc_cfg *cfg, struct imapc_conn **c_r,
		    struct mfs_error *e)
{
	struct imapc_conn *c = conn_new(cfg);
	bool preauth = false;
	int rc;

	if ((rc = conn_connect(c, cfg, e)) < 0 ||
	    (rc = conn_greeting(c, cfg, &preauth, e)) < 0)
		goto fail;
	if (g_hash_table_size(c->caps) == 0 && (rc = refresh_caps(c, e)) < 0)
		goto fail;
	if (cfg->tunnel || cfg->tls != CONFIG_TLS_STARTTLS)
		say_caps(c, cfg, "", NULL);
	if (!cfg->tunnel && cfg->tls == CONFIG_TLS_STARTTLS &&
	    (rc = conn_starttls(c, cfg, e)) < 0)
		goto fail;
	if ((rc = conn_login(c, cfg, preauth, e)) < 0 ||
	    (rc = conn_setup(c, e)) < 0)
		goto fail;
	*c_r = c;
	return 0;
fail:
	c->broken = true;
	imapc_conn_close(&c);
	return rc < 0 ? rc : -EIO;
}
