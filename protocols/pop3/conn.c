/*
 * conn.c - see conn.h.  RFC 1939 (USER, PASS, QUIT), RFC 2449
 * (CAPA), RFC 2595 section 4 (STLS), RFC 5034 with RFC 4616 (AUTH PLAIN,
 * with the initial response on the command line), RFC 8314 (implicit TLS).
 */
#include "conn.h"

#include <errno.h>
#include <string.h>

#include "check.h"
#include "log.h"
#include "sasl-plain.h"
#include "pop3c-private.h"
#include "stream.h"

/* CAPA, UIDL and LIST of a large maildrop: about 80 bytes per message. */
#define LISTING_MAX ((uint64_t)64 * 1024 * 1024)

struct pop3c_conn {
	char *name;			/* owned; the account, for messages */
	struct stream *s;		/* owned */
	struct pop3_reply *reply;	/* owned */
	char rbuf[16384];
	size_t rpos, rend;
	GHashTable *caps;		/* owned; upper-case first word ->
					   the rest of the CAPA line */
	int timeout_ms;
	bool broken;
	pop3c_spill_fn spill;		/* NULL, or takes bodies as they grow */
	void *spill_data;		/* borrowed */
};

void pop3c_cfg_clear(struct pop3c_cfg *cfg)
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
	memset(cfg, 0, sizeof(*cfg));
}

static int broken(struct pop3c_conn *c, int rc, struct mfs_error *e,
		  const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* The session cannot go on; a lost connection is worth trying again. */
static int broken(struct pop3c_conn *c, int rc, struct mfs_error *e,
		  const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	g_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!c->broken)
		log_debug(LOG_PROTO, "%s: %s", c->name, msg);
	c->broken = true;
	return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT, "%s: %s",
			     c->name, msg);
}

static void trace(struct pop3c_conn *c, const char *dir, const char *line)
{
	if (log_debug_enabled(LOG_PROTO))
		log_debug(LOG_PROTO, "%s %s %.300s", c->name, dir, line);
}

/* `shown` (NULL: the line itself) is what a trace shows of it. */
static int send_raw(struct pop3c_conn *c, const char *line, const char *shown,
		    struct mfs_error *e)
{
	g_autofree char *out = g_strconcat(line, "\r\n", NULL);
	size_t len = strlen(out);
	int rc;

	if (c->broken)
		return mfs_error_set(e, -ECONNRESET, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: connection lost",
				     c->name);
	trace(c, "C:", shown ? shown : line);
	rc = stream_write(c->s, out, len, c->timeout_ms);
	memset(out, 0, len);
	if (rc < 0)
		return broken(c, rc, e, "writing: %s", g_strerror(-rc));
	return 0;
}

int pop3c_conn_send(struct pop3c_conn *c, const char *line, struct mfs_error *e)
{
	return send_raw(c, line, NULL, e);
}

int pop3c_conn_read(struct pop3c_conn *c, bool multi, size_t max_line,
		   uint64_t max_body, struct mfs_error *e)
{
	pop3_reply_begin(c->reply, multi, max_line, max_body);
	for (;;) {
		if (c->rpos < c->rend) {
			size_t used = 0;
			enum pop3_feed st = pop3_reply_feed(
				c->reply, c->rbuf + c->rpos, c->rend - c->rpos,
				&used);
			c->rpos += used;
			if (st == POP3_FEED_ERROR)
				return broken(c, -EPROTO, e,
					      "unreadable reply: %s",
					      pop3_reply_error(c->reply));
			if (c->spill && (st == POP3_FEED_DONE ||
					 pop3_reply_in_body(c->reply))) {
				int rc = c->spill(c->reply,
						  st == POP3_FEED_DONE,
						  c->spill_data, e);
				if (rc < 0) {
					c->broken |= st != POP3_FEED_DONE;
					return rc;
				}
			}
			if (st == POP3_FEED_DONE)
				break;
			continue;
		}
		if (c->broken)
			return mfs_error_set(e, -ECONNRESET, MFS_ERR_ACCOUNT,
					     MFS_ERR_TRANSIENT,
					     "%s: connection lost", c->name);
		ssize_t n = stream_read(c->s, c->rbuf, sizeof(c->rbuf),
					c->timeout_ms);
		if (n == -ETIMEDOUT)
			return broken(c, -ETIMEDOUT, e, "no answer within %d s",
				      c->timeout_ms / 1000);
		if (n < 0)
			return broken(c, (int)n, e, "reading: %s",
				      g_strerror((int)-n));
		if (n == 0)
			return broken(c, -ECONNRESET, e,
				      "the server closed the connection%s",
				      pop3_reply_in_body(c->reply)
					      ? " in the middle of a message"
					      : "");
		c->rpos = 0;
		c->rend = (size_t)n;
	}
	if (log_debug_enabled(LOG_PROTO)) {
		size_t blen;
		pop3_reply_body(c->reply, &blen);
		log_debug(LOG_PROTO, "%s S: %s%s%s%s (%zu bytes of body)",
			  c->name,
			  pop3_reply_status(c->reply) == POP3_ST_OK ? "+OK "
								    : "-ERR ",
			  pop3_reply_code(c->reply) ? "[" : "",
			  pop3_reply_code(c->reply) ? pop3_reply_code(c->reply)
						    : "",
			  pop3_reply_text(c->reply), blen);
	}
	return pop3c_status_to_errno(c->reply, e);
}

int pop3c_conn_run(struct pop3c_conn *c, const char *line, bool multi,
		  struct mfs_error *e)
{
	int rc = pop3c_conn_send(c, line, e);

	if (rc == 0)
		rc = pop3c_conn_read(c, multi, POP3_REPLY_LINE_MAX, LISTING_MAX,
				    e);
	return rc;
}

void pop3c_conn_spill(struct pop3c_conn *c, pop3c_spill_fn fn, void *data)
{
	c->spill = fn;
	c->spill_data = data;
}

struct pop3_reply *pop3c_conn_reply(struct pop3c_conn *c)
{
	return c->reply;
}

bool pop3c_conn_cap(const struct pop3c_conn *c, const char *cap)
{
	return g_hash_table_contains(c->caps, cap);
}

bool pop3c_conn_broken(const struct pop3c_conn *c)
{
	return c->broken;
}

/* Whether "SASL" lists `mech`. */
static bool sasl_offers(const struct pop3c_conn *c, const char *mech)
{
	const char *mechs = g_hash_table_lookup(c->caps, "SASL");
	g_auto(GStrv) words = mechs ? g_strsplit(mechs, " ", -1) : NULL;

	for (guint i = 0; words && words[i]; i++) {
		if (!g_ascii_strcasecmp(words[i], mech))
			return true;
	}
	return false;
}

/* CAPA; a server without it (RFC 1939 only) has no capabilities. */
static int learn_caps(struct pop3c_conn *c, struct mfs_error *e)
{
	const char *body;
	size_t len;
	int rc = pop3c_conn_run(c, "CAPA", true, e);

	g_hash_table_remove_all(c->caps);
	if (rc < 0)
		return c->broken ? rc : 0;
	body = pop3_reply_body(c->reply, &len);
	g_auto(GStrv) lines = g_strsplit(body, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]);
		size_t w = strcspn(l, " ");
		if (!w)
			continue;
		g_autofree char *rest = g_strdup(l[w] ? l + w + 1 : "");
		g_hash_table_replace(c->caps, g_ascii_strup(l, (gssize)w),
				     g_strdup(g_strstrip(rest)));
	}
	return 0;
}

/* A refused login: final unless a code says the cause will pass. */
static int login_refused(struct pop3c_conn *c, int rc, struct mfs_error *e)
{
	if (!e || c->broken)
		return rc;
	char said[sizeof(e->msg)];
	g_strlcpy(said, e->msg, sizeof(said));
	if (e->retry == MFS_ERR_BACKOFF)
		return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF,
				     "%s: the server cannot log in now: %s",
				     c->name, said);
	return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
			     "%s: the server refused the login: %s", c->name,
			     said);
}

static int auth_plain(struct pop3c_conn *c, const struct pop3c_cfg *cfg,
		      struct mfs_error *e)
{
	size_t n;
	char *resp = sasl_plain_new(cfg->user, cfg->password, &n);
	int rc;

	char *b64 = g_base64_encode((const guchar *)resp, n);
	char *line = g_strconcat("AUTH PLAIN ", b64, NULL);
	rc = send_raw(c, line, "AUTH PLAIN <secret>", e);
	sasl_plain_free(resp, n);
	memset(b64, 0, strlen(b64));
	memset(line, 0, strlen(line));
	g_free(b64);
	g_free(line);
	if (rc == 0)
		rc = pop3c_conn_read(c, false, POP3_REPLY_LINE_MAX, 0, e);
	if (rc == 0 && pop3_reply_status(c->reply) == POP3_ST_CONT) {
		/* PLAIN has no second step: cancel (RFC 5034 section 4) */
		rc = send_raw(c, "*", NULL, e);
		if (rc == 0)
			rc = pop3c_conn_read(c, false, POP3_REPLY_LINE_MAX, 0, e);
		if (rc == 0)
			rc = mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT,
					   MFS_ERR_FINAL, "AUTH PLAIN asked "
					   "for more");
	}
	return rc < 0 ? login_refused(c, rc, e) : 0;
}

static int auth_user(struct pop3c_conn *c, const struct pop3c_cfg *cfg,
		     struct mfs_error *e)
{
	g_autofree char *user = g_strconcat("USER ", cfg->user, NULL);
	int rc = pop3c_conn_run(c, user, false, e);

	if (rc == 0) {
		char *pass = g_strconcat("PASS ", cfg->password, NULL);
		rc = send_raw(c, pass, "PASS <secret>", e);
		memset(pass, 0, strlen(pass));
		g_free(pass);
		if (rc == 0)
			rc = pop3c_conn_read(c, false, POP3_REPLY_LINE_MAX, 0,
					    e);
	}
	return rc < 0 ? login_refused(c, rc, e) : 0;
}

/* login() says in *mech_r and *why_r (static strings) which way it
 * logged in and why, for `mailfs check`. */
static int login(struct pop3c_conn *c, const struct pop3c_cfg *cfg,
		 const char **mech_r, const char **why_r, struct mfs_error *e)
{
	bool plain = cfg->auth == POP3_AUTH_PLAIN ||
		     (cfg->auth == POP3_AUTH_ANY && sasl_offers(c, "PLAIN"));

	*mech_r = plain ? "SASL PLAIN" : "USER/PASS";
	*why_r = cfg->auth != POP3_AUTH_ANY ? "forced by auth ="
		 : plain ? "offered by the server"
		 : "the server offers no SASL PLAIN";
	if (!cfg->user)
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: no user configured", c->name);
	if (!cfg->password)
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: no password (password_cmd or "
				     "password_file)", c->name);
	/* user names and passwords go on one line: a line end in them would
	 * be a second command */
	if (strpbrk(cfg->user, "\r\n") || strpbrk(cfg->password, "\r\n"))
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: the user or password holds a line "
				     "end", c->name);
	switch (cfg->auth) {
	case POP3_AUTH_PLAIN:
		return auth_plain(c, cfg, e);
	case POP3_AUTH_USER:
		return auth_user(c, cfg, e);
	case POP3_AUTH_ANY:
		break;
	}
	return sasl_offers(c, "PLAIN") ? auth_plain(c, cfg, e)
				       : auth_user(c, cfg, e);
}

/* ---- what `mailfs check` hears ---- */

static gint str_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* CAPA in one line, sorted, each capability with its arguments.  Caller
 * owns the result. */
static char *caps_line(const struct pop3c_conn *c)
{
	GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, c->caps);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_ptr_array_add(all, *(char *)v ? g_strconcat(k, " ", v, NULL)
						: g_strdup(k));
	g_ptr_array_sort(all, str_cmp);
	g_ptr_array_add(all, NULL);
	char *out = g_strjoinv(", ", (char **)all->pdata);
	g_ptr_array_unref(all);
	return out;
}

static void say_caps(struct pop3c_conn *c, const struct pop3c_cfg *cfg,
		     const char *when, const char *before)
{
	g_autofree char *now = cfg->check ? caps_line(c) : NULL;

	if (now && g_strcmp0(now, before))
		mfs_check_say(cfg->check, "caps", true, NULL, "%sCAPA: %s",
			      when, *now ? now : "(none)");
}

static const char *login_fix(const struct pop3c_conn *c,
			     const struct pop3c_cfg *cfg, int rc,
			     const struct mfs_error *e)
{
	if (rc == -EINVAL && (!cfg->user || !cfg->password))
		return "set user = and password_file = or password_cmd =";
	if (cfg->auth == POP3_AUTH_PLAIN && !sasl_offers(c, "PLAIN"))
		return "the server does not offer SASL PLAIN: set auth = user "
		       "or leave auth = out";
	if (cfg->tls == CONFIG_TLS_NONE &&
	    (strstr(e->msg, "TLS") || strstr(e->msg, "SSL") ||
	     strstr(e->msg, "ecure")))
		return "the server requires TLS: use tls = implicit or "
		       "tls = starttls, not tls = none";
	return "check user = and the password that password_file or "
	       "password_cmd gives";
}

static int start_tls(struct pop3c_conn *c, const struct pop3c_cfg *cfg,
		     struct mfs_error *e)
{
	g_autofree char *why = NULL;
	int rc;

	if (!pop3c_conn_cap(c, "STLS")) {
		/* never fall back to plain text */
		rc = mfs_error_set(e, -EPROTONOSUPPORT, MFS_ERR_ACCOUNT,
				   MFS_ERR_FINAL, "%s: the server does not "
				   "offer STLS", c->name);
		mfs_check_say(cfg->check, "tls", false, "use tls = implicit "
			      "(port 995) if the server has it", "%s",
			      e ? e->msg : "no STLS");
		return rc;
	}
	rc = pop3c_conn_run(c, "STLS", false, e);
	if (rc < 0 && e && !c->broken) {
		char said[sizeof(e->msg)];
		g_strlcpy(said, e->msg, sizeof(said));
		rc = mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				   "%s: the server refused STLS: %s",
				   c->name, said);
		mfs_check_say(cfg->check, "tls", false, NULL, "%s", e->msg);
		return rc;
	}
	if (rc < 0)
		return rc;
	if (c->rpos < c->rend)
		/* bytes sent before TLS began would be taken as sent under
		 * it */
		return broken(c, -EPROTO, e, "data after STLS");
	rc = stream_start_tls(c->s, cfg->host, cfg->ca_file, c->timeout_ms,
			      &why);
	mfs_check_tls(cfg->check, rc, why, c->s, cfg->ca_file,
		      "STLS offered and done");
	if (rc < 0) {
		c->broken = true;
		return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: %s", c->name, why);
	}
	/* what was said before TLS cannot be trusted (RFC 2595 4) */
	return learn_caps(c, e);
}

int pop3c_conn_open(const struct pop3c_cfg *cfg, struct pop3c_conn **c_r,
		   struct mfs_error *e)
{
	struct pop3c_conn *c = g_new0(struct pop3c_conn, 1);
	g_autofree char *why = NULL;
	g_autofree char *before = NULL;
	const char *mech = NULL, *why_mech = NULL;
	int rc;

	c->name = g_strdup(cfg->name);
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
	c->reply = pop3_reply_new();
	c->caps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					g_free);
	gint64 started = g_get_monotonic_time();
	rc = stream_connect(cfg->host, cfg->port, c->timeout_ms, &c->s, &why);
	mfs_check_connected(cfg->check, rc, why, c->s, cfg->host, cfg->port,
			    NULL, started, c->timeout_ms);
	if (rc == 0 && cfg->tls == CONFIG_TLS_IMPLICIT) {
		rc = stream_start_tls(c->s, cfg->host, cfg->ca_file,
				      c->timeout_ms, &why);
		mfs_check_tls(cfg->check, rc, why, c->s, cfg->ca_file,
			      "implicit TLS");
	} else if (rc == 0 && cfg->tls == CONFIG_TLS_NONE) {
		mfs_check_say(cfg->check, "tls", true, NULL, "none: plain "
			      "text, as allow_plaintext = true permits");
	}
	if (rc < 0) {
		mfs_error_set(e, rc, MFS_ERR_ACCOUNT,
			      rc == -EPERM ? MFS_ERR_FINAL : MFS_ERR_BACKOFF,
			      "%s: %s", c->name, why);
		goto fail;
	}
	rc = pop3c_conn_read(c, false, POP3_REPLY_LINE_MAX, 0, e);
	if (rc < 0 && !c->broken) {
		rc = mfs_error_set(e, -ECONNREFUSED, MFS_ERR_ACCOUNT,
				   MFS_ERR_BACKOFF, "%s: the server refused "
				   "the connection: %s", c->name,
				   pop3_reply_text(c->reply));
		mfs_check_say(cfg->check, "greeting", false, "check host = "
			      "and port = (is it a POP3 server?)", "%s",
			      e ? e->msg : "refused");
	} else if (rc == 0) {
		mfs_check_say(cfg->check, "greeting", true, NULL, "+OK %s",
			      pop3_reply_text(c->reply));
	} else {
		mfs_check_say(cfg->check, "greeting", false, "check port = and "
			      "tls = (a TLS port says nothing to plain text, "
			      "and the other way round)", "%s",
			      e ? e->msg : g_strerror(-rc));
	}
	if (rc < 0 || (rc = learn_caps(c, e)) < 0)
		goto fail;
	if (cfg->tls != CONFIG_TLS_STARTTLS)
		say_caps(c, cfg, "", NULL);
	if (cfg->tls == CONFIG_TLS_STARTTLS) {
		if ((rc = start_tls(c, cfg, e)) < 0)
			goto fail;
		say_caps(c, cfg, "", NULL);
	}
	before = cfg->check ? caps_line(c) : NULL;
	rc = login(c, cfg, &mech, &why_mech, e);
	if (rc == 0)
		mfs_check_say(cfg->check, "auth", true, NULL, "%s (%s): logged "
			      "in as %s", mech, why_mech, cfg->user);
	else if (cfg->check)
		mfs_check_say(cfg->check, "auth", false,
			      login_fix(c, cfg, rc, e), "%s (%s): %s", mech,
			      why_mech, e->msg);
	if (rc < 0)
		goto fail;
	/* RFC 2449 section 5: what is offered may change with the login */
	if ((rc = learn_caps(c, e)) < 0)
		goto fail;
	say_caps(c, cfg, "after login: ", before);
	*c_r = c;
	return 0;
fail:
	c->broken = true;
	pop3c_conn_close(&c);
	return rc < 0 ? rc : -EIO;
}

void pop3c_conn_close(struct pop3c_conn **cp)
{
	struct pop3c_conn *c = *cp;

	if (!c)
		return;
	stream_close(&c->s);
	pop3_reply_free(&c->reply);
	g_hash_table_unref(c->caps);
	g_free(c->name);
	g_free(c);
	*cp = NULL;
}

int pop3c_conn_quit(struct pop3c_conn **cp, struct mfs_error *e)
{
	struct pop3c_conn *c = *cp;
	int rc;

	if (!c)
		return 0;
	rc = pop3c_conn_run(c, "QUIT", false, e);
	if (rc < 0 && e && !c->broken) {
		/* RFC 1939 section 6: -ERR to QUIT means some DELE did not
		 * take effect */
		char said[sizeof(e->msg)];
		g_strlcpy(said, e->msg, sizeof(said));
		rc = mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF,
				   "%s: the server could not remove the "
				   "messages: %s", c->name, said);
	}
	pop3c_conn_close(cp);
	return rc;
}
