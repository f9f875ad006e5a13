/*
 * check.c - `mailfs check` of the account's submission server: the steps
 * a submission takes before MAIL FROM, over stream.h, then QUIT.  RFC 5321
 * (greeting, EHLO, QUIT), RFC 3207 (STARTTLS), RFC 8314 (implicit TLS),
 * RFC 4954 with RFC 4616 (AUTH PLAIN) and the LOGIN mechanism, Google's
 * XOAUTH2.  The mechanism is chosen as libcurl chooses it for sending:
 * smtp_auth when set, else XOAUTH2 with oauth2_token_cmd, else PLAIN, else
 * LOGIN, among those the server offers.
 *
 * The trace (-d) shows what the server says and our commands, with
 * "<secret>" in place of credentials.
 */
#include "smtpc-private.h"

#include <errno.h>
#include <string.h>

#include "check.h"
#include "config-value.h"
#include "log.h"
#include "sasl-plain.h"
#include "oauth2/oauth2.h"
#include "wire/smtp-reply.h"
#include "stream.h"

struct session {
	struct stream *s;		/* owned */
	char buf[4096];
	size_t pos, end;
	int timeout_ms;
	struct smtp_reply reply;	/* the last reply read */
	GPtrArray *lines;		/* owned; of its lines' texts */
};

/* Read one reply (all its lines).  Returns its code, or -errno. */
static int read_reply(struct session *ss)
{
	GString *line = g_string_new(NULL);
	int rc = 0;

	smtp_reply_clear(&ss->reply);
	smtp_reply_init(&ss->reply);
	g_ptr_array_set_size(ss->lines, 0);
	for (;;) {
		if (ss->pos == ss->end) {
			ssize_t n = stream_read(ss->s, ss->buf, sizeof(ss->buf),
						ss->timeout_ms);
			if (n <= 0) {
				rc = n == 0 ? -ECONNRESET : (int)n;
				break;
			}
			ss->pos = 0;
			ss->end = (size_t)n;
		}
		char ch = ss->buf[ss->pos++];
		if (line->len < SMTP_REPLY_LINE_MAX)
			g_string_append_c(line, ch);
		if (ch != '\n')
			continue;
		smtp_reply_feed(&ss->reply, line->str, line->len);
		log_debug(LOG_PROTO, "smtp check S: %.*s",
			  (int)MIN(line->len, 300), line->str);
		g_strchomp(line->str);
		if (line->len > 4)
			g_ptr_array_add(ss->lines, g_strdup(line->str + 4));
		g_string_truncate(line, 0);
		if (ss->reply.replies > 0) {
			rc = ss->reply.code;
			break;
		}
		if (ss->reply.bad) {
			rc = -EPROTO;
			break;
		}
	}
	g_string_free(line, TRUE);
	return rc;
}

/* Send `line` (CRLF added); `shown` is what the trace shows of it. */
static int send_line(struct session *ss, const char *line, const char *shown)
{
	g_autofree char *out = g_strconcat(line, "\r\n", NULL);
	int rc;

	log_debug(LOG_PROTO, "smtp check C: %s", shown ? shown : line);
	rc = stream_write(ss->s, out, strlen(out), ss->timeout_ms);
	explicit_bzero(out, strlen(out));
	return rc;
}

/* Send and read the reply: its code or -errno. */
static int command(struct session *ss, const char *line, const char *shown)
{
	int rc = send_line(ss, line, shown);

	return rc < 0 ? rc : read_reply(ss);
}

/* The EHLO keyword `ext` (upper case), with what follows it, or NULL.
 * Borrowed from the last reply. */
static const char *ehlo_has(struct session *ss, const char *ext)
{
	size_t n = strlen(ext);

	/* the first line is the server's name */
	for (guint i = 1; i < ss->lines->len; i++) {
		const char *l = ss->lines->pdata[i];
		if (!g_ascii_strncasecmp(l, ext, n) &&
		    (l[n] == '\0' || l[n] == ' ' || l[n] == '='))
			return l;
	}
	return NULL;
}

static bool offers_mech(struct session *ss, const char *mech)
{
	const char *auth = ehlo_has(ss, "AUTH");
	g_auto(GStrv) words = auth ? g_strsplit_set(auth + 4, " =", -1) : NULL;

	for (guint i = 0; words && words[i]; i++) {
		if (!g_ascii_strcasecmp(words[i], mech))
			return true;
	}
	return false;
}

static int ehlo(struct session *ss, struct mfs_check *ck)
{
	g_autofree char *cmd = g_strconcat("EHLO ", g_get_host_name(), NULL);
	int rc = command(ss, cmd, NULL);

	if (rc < 0 || rc != 250) {
		mfs_check_say(ck, "ehlo", false, NULL, "%s", rc < 0
			      ? g_strerror(-rc) : ss->reply.text->str);
		return rc < 0 ? rc : -EPROTO;
	}
	GString *ext = g_string_new(NULL);
	for (guint i = 1; i < ss->lines->len; i++)
		g_string_append_printf(ext, "%s%s", i > 1 ? ", " : "",
				       (char *)ss->lines->pdata[i]);
	mfs_check_say(ck, "ehlo", true, NULL, "250 %s%s",
		      ext->len ? "extensions: " : "no extensions",
		      ext->str);
	g_string_free(ext, TRUE);
	return 0;
}

/* A base64 line of `len` bytes at `data`, sent as one secret.  Returns
 * the reply's code or -errno. */
static int send_secret(struct session *ss, const char *prefix,
		       const char *data, size_t len, const char *shown)
{
	char *b64 = g_base64_encode((const guchar *)data, len);
	char *line = g_strconcat(prefix, b64, NULL);
	int rc = command(ss, line, shown);

	explicit_bzero(b64, strlen(b64));
	explicit_bzero(line, strlen(line));
	g_free(b64);
	g_free(line);
	return rc;
}

static int auth_exchange(struct session *ss, const struct smtpc_submitter *s,
			 const char *mech, const char *token)
{
	int rc;

	if (!strcmp(mech, "PLAIN")) {
		size_t n;
		char *resp = sasl_plain_new(s->user, s->password, &n);
		rc = send_secret(ss, "AUTH PLAIN ", resp, n,
				 "AUTH PLAIN <secret>");
		sasl_plain_free(resp, n);
		return rc;
	}
	if (!strcmp(mech, "LOGIN")) {
		rc = command(ss, "AUTH LOGIN", NULL);
		if (rc == 334)
			rc = send_secret(ss, "", s->user, strlen(s->user),
					 "<user>");
		if (rc == 334)
			rc = send_secret(ss, "", s->password,
					 strlen(s->password), "<secret>");
		return rc;
	}
	g_autofree char *resp = g_strdup_printf("user=%s\001auth=Bearer "
						"%s\001\001", s->user, token);
	rc = send_secret(ss, "AUTH XOAUTH2 ", resp, strlen(resp),
			 "AUTH XOAUTH2 <secret>");
	explicit_bzero(resp, strlen(resp));
	if (rc == 334)
		/* the error report as a challenge: end it to hear the code */
		rc = command(ss, "", NULL);
	return rc;
}

static int login(struct session *ss, const struct smtpc_submitter *s,
		 struct mfs_check *ck)
{
	const char *forced = s->auth ? s->auth + strlen("AUTH=") : NULL;
	const char *mech = forced, *why = "forced by smtp_auth =";
	g_autofree char *token = NULL;
	int rc;

	if (!s->user) {
		mfs_check_say(ck, "auth", true, NULL, "no user (smtp_user or "
			      "user): messages would go without a login");
		return 0;
	}
	if (!ehlo_has(ss, "AUTH")) {
		mfs_check_say(ck, "auth", true, NULL, "the server offers no "
			      "AUTH: messages would go without a login");
		return 0;
	}
	if (!mech) {
		why = "offered by the server";
		if ((s->oauth2 || s->token_cmd) &&
		    offers_mech(ss, "XOAUTH2")) {
			mech = "XOAUTH2";
			why = s->oauth2 ? "oauth2 is set"
					: "oauth2_token_cmd is set";
		} else if (offers_mech(ss, "PLAIN")) {
			mech = "PLAIN";
		} else if (offers_mech(ss, "LOGIN")) {
			mech = "LOGIN";
		} else {
			mfs_check_say(ck, "auth", false, "set smtp_auth = to "
				      "a mechanism the server offers",
				      "no mechanism in common: the server "
				      "offers %s", ehlo_has(ss, "AUTH"));
			return -ENOTSUP;
		}
	}
	if (!offers_mech(ss, mech)) {
		mfs_check_say(ck, "auth", false, "change smtp_auth = to one "
			      "the server offers, or leave it out",
			      "%s (%s) is not offered: the server offers %s",
			      mech, why, ehlo_has(ss, "AUTH"));
		return -ENOTSUP;
	}
	if (!strcmp(mech, "XOAUTH2") && s->oauth2) {
		struct mfs_error e = { 0 };
		if (oauth2_access_token(s->oauth2, NULL, &token, &e) < 0) {
			mfs_check_say(ck, "auth", false, "run mailfs login for "
				      "this account", "XOAUTH2 (%s): %s", why,
				      e.msg);
			return -EACCES;
		}
	} else if (!strcmp(mech, "XOAUTH2")) {
		if (!s->token_cmd ||
		    config_command_line(s->token_cmd, &token, NULL) < 0) {
			mfs_check_say(ck, "auth", false, "set oauth2_token_cmd "
				      "= to a command that prints a token",
				      "XOAUTH2 (%s): no token", why);
			return -EACCES;
		}
	} else if (!s->password) {
		mfs_check_say(ck, "auth", false, "set password_file = or "
			      "password_cmd =", "%s (%s): no password", mech,
			      why);
		return -EACCES;
	}
	rc = auth_exchange(ss, s, mech, token);
	if (token)
		explicit_bzero(token, strlen(token));
	if (rc == 235) {
		mfs_check_say(ck, "auth", true, NULL, "%s (%s): logged in as "
			      "%s", mech, why, s->user);
		return 0;
	}
	if (rc < 0) {
		mfs_check_say(ck, "auth", false, NULL, "%s (%s): %s", mech,
			      why, g_strerror(-rc));
		return rc;
	}
	mfs_check_say(ck, "auth", false, rc == 538 || rc == 523
		      ? "the server wants TLS first: use smtps:// or a server "
			"with STARTTLS, not allow_plaintext"
		      : s->oauth2 && !strcmp(mech, "XOAUTH2")
		      ? "run mailfs login for this account again"
		      : s->token_cmd && !strcmp(mech, "XOAUTH2")
		      ? "check oauth2_token_cmd: its token was refused"
		      : "check smtp_user (or user) and the password that "
			"password_file or password_cmd gives",
		      "%s (%s) refused: %d %s", mech, why, rc,
		      ss->reply.text->str);
	return -EACCES;
}

static int converse(struct session *ss, const struct smtpc_submitter *s,
		    const char *host, bool implicit, struct mfs_check *ck)
{
	g_autofree char *why = NULL;
	int rc = read_reply(ss);

	if (rc != 220) {
		mfs_check_say(ck, "greeting", false, "check smtp = (is it an "
			      "SMTP server, and is the port right?)", "%s",
			      rc < 0 ? g_strerror(-rc) : ss->reply.text->str);
		return rc < 0 ? rc : -ECONNREFUSED;
	}
	mfs_check_say(ck, "greeting", true, NULL, "220 %s",
		      ss->reply.text->str);
	if ((rc = ehlo(ss, ck)) < 0)
		return rc;
	if (!implicit && ehlo_has(ss, "STARTTLS")) {
		rc = command(ss, "STARTTLS", NULL);
		if (rc != 220) {
			mfs_check_say(ck, "tls", false, NULL, "STARTTLS "
				      "refused: %s", rc < 0 ? g_strerror(-rc)
				      : ss->reply.text->str);
			return rc < 0 ? rc : -EPROTO;
		}
		if (ss->pos < ss->end) {
			mfs_check_say(ck, "tls", false, NULL, "the server "
				      "sent data after STARTTLS");
			return -EPROTO;
		}
		rc = stream_start_tls(ss->s, host, s->ca_file, ss->timeout_ms,
				      &why);
		mfs_check_tls(ck, rc, why, ss->s, s->ca_file,
			      "STARTTLS offered and done");
		/* what was said before TLS counts for nothing (RFC 3207) */
		if (rc < 0 || (rc = ehlo(ss, ck)) < 0)
			return rc;
	} else if (!implicit && !s->plaintext_ok) {
		mfs_check_say(ck, "tls", false, "use smtps://HOST:465 if the "
			      "server has it (allow_plaintext = true would "
			      "send the password in plain text)",
			      "the server offers no STARTTLS");
		return -EPROTO;
	} else if (!implicit) {
		mfs_check_say(ck, "tls", true, NULL, "none: the server offers "
			      "no STARTTLS; plain text, as allow_plaintext = "
			      "true permits");
	}
	if ((rc = login(ss, s, ck)) < 0)
		return rc;
	command(ss, "QUIT", NULL);
	return 0;
}

int smtpc_check(struct smtpc_submitter *s, struct mfs_check *ck)
{
	g_autofree char *scheme = NULL, *host = NULL, *why = NULL;
	struct session ss = { .timeout_ms = (int)s->timeout * 1000 };
	int port = -1, rc;
	const char *saved = ck->prefix;

	ck->prefix = "smtp ";
	g_uri_split(s->url, G_URI_FLAGS_NONE, &scheme, NULL, &host, &port,
		    NULL, NULL, NULL, NULL);
	bool implicit = !g_ascii_strcasecmp(scheme, "smtps");
	if (port < 0)
		port = implicit ? 465 : 25;
	g_autofree char *portstr = g_strdup_printf("%d", port);
	mfs_check_say(ck, "config", true, NULL, "smtp = %s, user %s", s->url,
		      s->user ? s->user : "(none)");
	if ((rc = mfs_check_resolve(ck, host, portstr)) < 0)
		goto out;
	gint64 started = g_get_monotonic_time();
	rc = stream_connect(host, portstr, ss.timeout_ms, &ss.s, &why);
	mfs_check_connected(ck, rc, why, ss.s, host, portstr, NULL, started,
			    ss.timeout_ms);
	if (rc < 0)
		goto out;
	if (implicit) {
		g_clear_pointer(&why, g_free);
		rc = stream_start_tls(ss.s, host, s->ca_file, ss.timeout_ms,
				      &why);
		mfs_check_tls(ck, rc, why, ss.s, s->ca_file, "implicit TLS");
		if (rc < 0)
			goto out;
	}
	smtp_reply_init(&ss.reply);
	ss.lines = g_ptr_array_new_with_free_func(g_free);
	rc = converse(&ss, s, host, implicit, ck);
	smtp_reply_clear(&ss.reply);
	g_ptr_array_unref(ss.lines);
out:
	stream_close(&ss.s);
	ck->prefix = saved;
	return rc;
}
