/*
 * auth.c - logging an IMAP connection in: LOGIN, AUTHENTICATE PLAIN,
 * OAUTHBEARER and XOAUTH2 with tokens from oauth2_token_cmd or the
 * built-in OAuth2 session, and what `mailfs check` hears of it.
 *
 * RFC 3501 / RFC 9051 (LOGIN, AUTHENTICATE, LOGINDISABLED), RFC 4959
 * (SASL-IR), RFC 4616 (PLAIN), RFC 7628 (OAUTHBEARER), Google's XOAUTH2.
 */
#include "conn-private.h"

#include <errno.h>
#include <string.h>

#include "check.h"
#include "log.h"
#include "printable.h"
#include "sasl-plain.h"
#include "secret.h"

/* The token `cmd` prints (its first line). */
static int run_token_cmd(const char *cmd, char **out_r, struct mfs_error *e)
{
	GError *gerr = NULL;

	if (config_command_line(cmd, out_r, &gerr) < 0) {
		int rc = mfs_error_set(e, -EIO, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				       "oauth2_token_cmd: %s", gerr->message);
		g_error_free(gerr);
		return rc;
	}
	if (!**out_r) {
		secret_clear(out_r);
		return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "oauth2_token_cmd printed no token");
	}
	return 0;
}

/*
 * AUTHENTICATE with one client response (all these mechanisms need one).
 * A further challenge is the server's error report (RFC 7628 section
 * 3.2.3, XOAUTH2 likewise): answered with an empty response, after which
 * the server completes the command with NO.
 */
static int authenticate(struct imapc_conn *c, const char *mech,
			const char *response, size_t rlen, struct mfs_error *e)
{
	g_autofree char *b64 = g_base64_encode((const guchar *)response, rlen);
	g_autofree char *tag = NULL;
	struct imap_line *done = NULL;
	struct imapc_cmd *cmd = imapc_cmd_new("AUTHENTICATE %s", mech);
	bool ir = imapc_conn_cap(c, "SASL-IR");
	int rc;

	if (ir) {
		imapc_cmd_secret(cmd);
		/* base64 is an atom; and no printf, whose scratch buffer
		 * would keep the response after it is freed */
		imapc_cmd_astring(cmd, b64, strlen(b64));
	}
	rc = imapc_conn_send(c, cmd, &tag, e);
	if (rc == 0 && !ir) {
		rc = imapc_conn_wait_cont(c, tag, NULL, NULL, &done, e);
		if (rc == 0) {
			GString *line = g_string_sized_new(strlen(b64) + 3);
			g_string_append(line, b64);
			g_string_append(line, "\r\n");
			rc = imapc_conn_send_raw(c, line->str, line->len, true,
						 e);
			secret_string_free(line);
		}
	}
	while (rc == 0 && !done) {
		struct imap_line *l = NULL;
		if ((rc = imapc_conn_read_line(c, c->timeout_ms, false, &l,
					       e)) < 0)
			break;
		struct imap_arg *a0 = imap_line_arg(l, 0);
		if (imap_arg_is(a0, "+")) {
			struct imap_arg *t = imap_line_arg(l, 1);
			g_autofree guchar *why = NULL;
			gsize wlen = 0;
			if (t && t->str && *t->str)
				why = g_base64_decode(t->str, &wlen);
			g_autofree char *said = printable(
				why ? (const char *)why : "",
				(gssize)MIN(wlen, 200));
			log_debug(LOG_PROTO, "%s: %s refused: %s", c->name,
				  mech, said);
			rc = imapc_conn_send_raw(c, "\r\n", 2, false, e);
		} else if (a0 && a0->str && !strcmp(a0->str, tag)) {
			done = l;
			l = NULL;
		}
		imap_line_free(&l);
	}
	if (done) {
		rc = imapc_status_to_errno(done, e);
		imap_line_free(&done);
	}
	secret_wipe(b64, strlen(b64));
	return rc;
}

/* The access token: from the built-in OAuth2 session (not `refused`, a
 * token the server just turned down) or from oauth2_token_cmd. */
static int get_token(const struct imapc_cfg *cfg, const char *refused,
		     char **token_r, struct mfs_error *e)
{
	if (cfg->oauth2)
		return oauth2_access_token(cfg->oauth2, refused, token_r, e);
	return run_token_cmd(cfg->oauth2_token_cmd, token_r, e);
}

/* The client response of OAUTHBEARER or XOAUTH2 for `token`.  Built
 * without printf, whose scratch buffer would keep the token after it is
 * freed.  Caller owns (secret_free()). */
static char *bearer_response(const struct imapc_cfg *cfg, const char *mech,
			     const char *token)
{
	GString *s = g_string_sized_new(256 + strlen(token));
	const char *parts[] = {
		"n,a=", cfg->user, ",\001host=",
		cfg->host ? cfg->host : "localhost", "\001port=",
		cfg->port ? cfg->port : "143", "\001auth=Bearer ", token,
		"\001\001",
	};
	const char *xoauth2[] = {
		"user=", cfg->user, "\001auth=Bearer ", token, "\001\001",
	};
	bool bearer = !g_ascii_strcasecmp(mech, "OAUTHBEARER");
	const char **p = bearer ? parts : xoauth2;
	size_t n = bearer ? G_N_ELEMENTS(parts) : G_N_ELEMENTS(xoauth2);

	for (size_t i = 0; i < n; i++)
		s = secret_string_append(s, p[i], strlen(p[i]));
	char *resp = g_strdup(s->str);
	secret_string_free(s);
	return resp;
}

/* RFC 7628 OAUTHBEARER or Google's XOAUTH2 with `token`. */
static int bearer_login(struct imapc_conn *c, const struct imapc_cfg *cfg,
			const char *mech, const char *token,
			struct mfs_error *e)
{
	char *resp = bearer_response(cfg, mech, token);
	int rc = authenticate(c, mech, resp, strlen(resp), e);

	secret_free(resp);
	return rc;
}

static int oauth_login(struct imapc_conn *c, const struct imapc_cfg *cfg,
		       const char *mech, struct mfs_error *e)
{
	g_autofree char *token = NULL, *fresh = NULL;
	int rc;

	if ((rc = get_token(cfg, NULL, &token, e)) < 0)
		return rc;
	rc = bearer_login(c, cfg, mech, token, e);
	/* a token revoked or expired early on the server's side: one more
	 * try with a refreshed one, on the same connection */
	if (rc == -EACCES && cfg->oauth2) {
		struct mfs_error why;
		int again = get_token(cfg, token, &fresh, &why);
		if (again < 0 && e)
			*e = why;
		if (again < 0)
			rc = again;
		else if (strcmp(fresh, token))
			rc = bearer_login(c, cfg, mech, fresh, e);
	}
	secret_clear(&token);
	secret_clear(&fresh);
	return rc;
}

/* login() says in *mech_r which mechanism it chose and in *why_r why
 * (static strings or borrowed from cfg), for `mailfs check`. */
static int login(struct imapc_conn *c, const struct imapc_cfg *cfg,
		 const char **mech_r, const char **why_r, struct mfs_error *e)
{
	const char *mech = cfg->auth;
	int rc;

	*mech_r = mech;
	*why_r = "forced by auth =";

	if (!cfg->user)
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: no user configured", c->name);
	if (cfg->oauth2 || cfg->oauth2_token_cmd) {
		if (!mech) {
			mech = imapc_conn_cap(c, "AUTH=OAUTHBEARER") ? "OAUTHBEARER"
								    : "XOAUTH2";
			*why_r = cfg->oauth2 ? "oauth2 is set"
					     : "oauth2_token_cmd is set";
		}
		*mech_r = mech;
		return oauth_login(c, cfg, mech, e);
	}
	/* cfg->password is the one copy kept for the account's life (each
	 * new connection logs in with it; imapc_cfg_clear() clears it);
	 * every copy made below to send it is cleared once sent */
	if (!cfg->password)
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: no password (password_cmd or "
				     "password_file)", c->name);
	if (!mech) {
		mech = imapc_conn_cap(c, "AUTH=PLAIN") ? "PLAIN" : "LOGIN";
		*why_r = imapc_conn_cap(c, "AUTH=PLAIN")
			? "offered by the server"
			: "the server offers no AUTH=PLAIN";
	}
	*mech_r = mech;
	if (!g_ascii_strcasecmp(mech, "PLAIN")) {
		size_t n;
		char *resp = sasl_plain_new(cfg->user, cfg->password, &n);
		rc = authenticate(c, "PLAIN", resp, n, e);
		sasl_plain_free(resp, n);
		return rc;
	}
	if (g_ascii_strcasecmp(mech, "LOGIN"))
		return mfs_error_set(e, -ENOTSUP, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: unknown auth mechanism %s", c->name,
				     mech);
	if (imapc_conn_cap(c, "LOGINDISABLED"))
		return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: the server refuses LOGIN here "
				     "(LOGINDISABLED)", c->name);
	struct imapc_cmd *cmd = imapc_cmd_new("LOGIN");
	imapc_cmd_astring(cmd, cfg->user, strlen(cfg->user));
	imapc_cmd_secret(cmd);
	imapc_cmd_astring(cmd, cfg->password, strlen(cfg->password));
	return imapc_conn_run(c, cmd, NULL, NULL, NULL, e);
}

/* ---- what `mailfs check` hears ---- */

/* What to change when the login failed with `rc` (e describes it). */
static const char *login_fix(const struct imapc_conn *c,
			     const struct imapc_cfg *cfg, const char *mech,
			     int rc, const struct mfs_error *e)
{
	g_autofree char *offered = mech ? g_ascii_strup(mech, -1) : NULL;
	g_autofree char *cap = offered ? g_strconcat("AUTH=", offered, NULL)
				       : NULL;

	if (rc == -EINVAL)
		return "set user = and password_file = or password_cmd =";
	if (rc == -ENOTSUP)
		return "auth = must be plain or login, or be left out";
	if (imapc_conn_cap(c, "LOGINDISABLED") || strstr(e->msg,
							"PRIVACYREQUIRED"))
		return "the server requires TLS: use tls = implicit or "
		       "tls = starttls, not tls = none";
	if (cfg->auth && cap && g_ascii_strcasecmp(mech, "LOGIN") &&
	    !imapc_conn_cap(c, cap))
		return "the server does not offer this mechanism: change "
		       "auth = to one it offers (see caps), or leave it out";
	if (cfg->oauth2_token_cmd)
		return "check oauth2_token_cmd: the token it prints was "
		       "refused";
	return "check user = and the password that password_file or "
	       "password_cmd gives";
}

static void say_login(struct imapc_conn *c, const struct imapc_cfg *cfg,
		      int rc, const char *mech, const char *why,
		      const struct mfs_error *e)
{
	if (!cfg->check)
		return;
	g_autofree char *name = mech ? g_ascii_strup(mech, -1) : NULL;
	if (rc == 0)
		mfs_check_say(cfg->check, "auth", true, NULL, "%s (%s): "
			      "logged in as %s", name, why, cfg->user);
	else
		mfs_check_say(cfg->check, "auth", false,
			      login_fix(c, cfg, mech, rc, e), "%s%s%s%s: %s",
			      name ? name : "", name ? " (" : "",
			      name ? why : "", name ? ")" : "", e->msg);
}

int imapc_conn_login(struct imapc_conn *c, const struct imapc_cfg *cfg,
		     struct mfs_error *e)
{
	const char *mech = NULL, *why_mech = NULL;
	int rc = login(c, cfg, &mech, &why_mech, e);

	say_login(c, cfg, rc, mech, why_mech, e);
	return rc;
}
