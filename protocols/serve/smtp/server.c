/*
 * server.c - the embedded SMTP receiver: takes mail from an
 * authenticated client and delivers it into the store's INBOX.  It relays
 * nothing: every recipient is the store's one user.
 *
 * RFC 5321 (SMTP), RFC 1870 (SIZE, enforced while the data comes),
 * RFC 6152 (8BITMIME), RFC 2920 (PIPELINING: replies are sent when the
 * client's input runs dry), RFC 3207 (STARTTLS), RFC 4954 (AUTH) with
 * RFC 4616 (PLAIN) and the LOGIN mechanism.
 *
 * A client that is not on loopback logs in over TLS only: before
 * STARTTLS, EHLO offers no AUTH, and AUTH and MAIL are answered as
 * RFC 3207 section 4 says, 530 5.7.0 (serve.h).
 *
 * Session states: GREETED -> (EHLO/HELO) READY -> (MAIL) MAIL ->
 * (RCPT) RCPT -> (DATA ... ".") READY; RSET and a new EHLO go back to
 * READY; STARTTLS goes back to GREETED.  Commands run through one table,
 * indexed by the verb, whose rows carry the handler.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wire/smtp-cmd.h"
#include "log.h"
#include "serve/serve.h"
#include "serve/spool.h"

#define SMTP_MAX_COMMAND 4096	/* AUTH lines carry base64 */
#define SMTP_MAX_TEXT_LINE 65536 /* RFC 5321 says 1000; mailers exceed it */
#define SMTP_MAX_RCPT 100
/* RFC 3207 section 4's reply, with the enhanced code (RFC 3463) that
 * RFC 4954 gives a 530 */
#define NEED_STARTTLS "530 5.7.0 Must issue a STARTTLS command first"

enum smtp_state { ST_GREETED, ST_READY, ST_MAIL, ST_RCPT };

struct smtpd_session {
	const struct serve_ctx *ctx;	/* borrowed */
	struct serve_conn *c;		/* borrowed */
	enum smtp_state state;
	char *helo;			/* owned */
	bool esmtp, authed;
	unsigned failures, rcpts;
	char *from;			/* owned */
	GString *line;			/* owned */
};

static int reply(struct smtpd_session *s, const char *text)
{
	return serve_conn_printf(s->c, "%s\r\n", text);
}

static void reset_mail(struct smtpd_session *s)
{
	g_clear_pointer(&s->from, g_free);
	s->rcpts = 0;
	if (s->state > ST_READY)
		s->state = ST_READY;
}

static bool cmd_ehlo(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	const struct serve_ctx *ctx = s->ctx;

	reset_mail(s);
	g_free(s->helo);
	s->helo = g_strdup(cmd->arg);
	s->state = ST_READY;
	s->esmtp = cmd->verb == SMTP_EHLO;
	if (!s->esmtp) {
		serve_conn_printf(s->c, "250 %s\r\n", ctx->hostname);
		return true;
	}
	serve_conn_printf(s->c, "250-%s\r\n", ctx->hostname);
	serve_conn_printf(s->c, "250-SIZE %" G_GUINT64_FORMAT "\r\n",
			  ctx->max_message);
	reply(s, "250-8BITMIME");
	reply(s, "250-PIPELINING");
	if (ctx->tls && !serve_conn_is_tls(s->c))
		reply(s, "250-STARTTLS");
	if (!s->authed && serve_login_allowed(s->c))
		reply(s, "250-AUTH PLAIN LOGIN");
	reply(s, "250 HELP");
	return true;
}

/* Read one SASL response line; NULL when the client gave up or failed. */
static char *sasl_line(struct smtpd_session *s, const char *challenge)
{
	serve_conn_printf(s->c, "334 %s\r\n", challenge);
	if (serve_conn_flush(s->c) < 0 ||
	    serve_conn_read_line(s->c, s->line, SMTP_MAX_COMMAND) < 0)
		return NULL;
	if (!strcmp(s->line->str, "*")) {
		reply(s, "501 authentication cancelled");
		return NULL;
	}
	return g_strdup(s->line->str);
}

/* Returns false when the connection should end. */
static bool cmd_auth(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	g_auto(GStrv) words = g_strsplit(cmd->arg, " ", 2);
	g_autofree char *user = NULL, *pass = NULL;
	int rc = -EINVAL;

	if (s->authed) {
		reply(s, "503 already authenticated");
		return true;
	}
	if (s->state == ST_GREETED || s->state > ST_READY) {
		reply(s, "503 send EHLO first, and AUTH before MAIL");
		return true;
	}
	/* before any 334, so that no response follows */
	if (!serve_login_allowed(s->c)) {
		log_warnx("smtp: %s: AUTH before STARTTLS refused",
			  serve_conn_peer(s->c));
		reply(s, NEED_STARTTLS);
		return true;
	}
	if (!g_ascii_strcasecmp(words[0], "PLAIN")) {
		g_autofree char *resp = words[1] ? g_strdup(words[1])
						 : sasl_line(s, "");
		if (!resp)
			return true;
		rc = !strcmp(resp, "=") ? -EINVAL
					: serve_sasl_plain(resp, &user, &pass);
		explicit_bzero(resp, strlen(resp));
	} else if (!g_ascii_strcasecmp(words[0], "LOGIN")) {
		g_autofree char *u = words[1] ? g_strdup(words[1])
					      : sasl_line(s, "VXNlcm5hbWU6");
		g_autofree char *p = u ? sasl_line(s, "UGFzc3dvcmQ6") : NULL;
		if (!u || !p)
			return true;
		rc = serve_base64_text(u, &user);
		if (rc == 0)
			rc = serve_base64_text(p, &pass);
		explicit_bzero(p, strlen(p));
	} else {
		reply(s, "504 unrecognised authentication mechanism");
		return true;
	}
	if (rc < 0) {
		reply(s, "501 malformed authentication response");
		return true;
	}
	enum serve_login r = serve_auth_login(s->ctx->auth,
					      serve_conn_peer_addr(s->c),
					      user, pass);
	if (r == SERVE_LOGIN_REFUSED) {
		/* RFC 4954's temporary failure, as 421: closing */
		reply(s, "421 4.7.0 too many failed logins; try again later");
		explicit_bzero(pass, strlen(pass));
		return false;
	}
	if (r == SERVE_LOGIN_OK) {
		s->authed = true;
		reply(s, "235 authentication succeeded");
		serve_conn_set_timeout(s->c, smtpd_proto.timeout_ms);
		log_info("smtp: %s: %s logged in", serve_conn_peer(s->c), user);
	} else {
		bool close = serve_auth_failed(++s->failures);
		log_warnx("smtp: %s: failed login", serve_conn_peer(s->c));
		reply(s, close ? "421 too many failures, closing"
			       : "535 authentication failed");
		if (close)
			return false;
	}
	explicit_bzero(pass, strlen(pass));
	return true;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The message after DATA, dot-unstuffed, to the spool `fd` behind a
 * Received: line.  Returns 0, -EFBIG when it was over the size limit,
 * -E2BIG for an over-long line (the rest is read and dropped either way),
 * or another -errno when the connection failed (nothing more to say).
 */
static int read_data(struct smtpd_session *s, int fd)
{
	const struct serve_ctx *ctx = s->ctx;
	g_autoptr(GString) out = g_string_sized_new(65536);
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	uint64_t total = 0;
	int verdict = 0, rc;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	g_string_printf(out, "Received: from %s (%s)\r\n\tby %s with %s%s%s;"
			" %s\r\n", s->helo ? s->helo : "unknown",
			serve_conn_peer(s->c), ctx->hostname,
			s->esmtp ? "ESMTP" : "SMTP",
			serve_conn_is_tls(s->c) ? "S" : "",
			s->authed ? "A" : "", date);
	for (;;) {
		rc = serve_conn_read_line(s->c, s->line, SMTP_MAX_TEXT_LINE);
		if (rc == -E2BIG) {
			verdict = verdict ? verdict : -E2BIG;
			continue;
		}
		if (rc < 0)
			return rc;
		const char *l = s->line->str;
		size_t len = s->line->len;
		if (len == 1 && l[0] == '.')
			break;
		if (l[0] == '.') {
			l++;
			len--;
		}
		total += len + 2;
		if (total > ctx->max_message)
			verdict = verdict ? verdict : -EFBIG;
		if (verdict)
			continue;
		g_string_append_len(out, l, (gssize)len);
		g_string_append(out, "\r\n");
		if (out->len >= 65536) {
			if ((rc = write_all(fd, out->str, out->len)) < 0)
				verdict = rc;
			g_string_truncate(out, 0);
		}
	}
	if (!verdict && out->len)
		verdict = write_all(fd, out->str, out->len);
	return verdict == -EFBIG || verdict == -E2BIG ? verdict
						      : (verdict ? -EIO : 0);
}

/* Returns false when the connection should end. */
static bool cmd_data(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	struct mfs_error e = { 0 };
	struct mfs_item *item = NULL;
	int fd, rc;

	if (s->state != ST_RCPT) {
		reply(s, s->state == ST_MAIL ? "554 no valid recipients"
					     : "503 MAIL and RCPT first");
		return true;
	}
	fd = serve_spool_open(s->ctx->spool_dir);
	if (fd < 0) {
		reply(s, "451 local error: no room for the message");
		return true;
	}
	reply(s, "354 end data with <CR><LF>.<CR><LF>");
	if (serve_conn_flush(s->c) < 0) {
		close(fd);
		return false;
	}
	rc = read_data(s, fd);
	if (rc == -EFBIG || rc == -E2BIG || rc == -EIO) {
		close(fd);
		reply(s, rc == -EFBIG ? "552 message exceeds the size limit"
		      : rc == -E2BIG ? "500 line too long"
				     : "451 local error in processing");
		reset_mail(s);
		return true;
	}
	if (rc < 0) {
		close(fd);
		return false;
	}
	rc = mfs_store_append(s->ctx->store, "INBOX", fd, NULL, MFS_FLAG_NEW,
			      (int64_t)time(NULL), &item, &e);
	close(fd);
	if (rc < 0) {
		log_warnx("smtp: delivery into INBOX failed: %s", e.msg);
		reply(s, "451 delivery failed; try again later");
	} else {
		log_info("smtp: %s: delivered %s into INBOX (%" G_GUINT64_FORMAT
			 " bytes)", serve_conn_peer(s->c), item->id,
			 item->size);
		serve_conn_printf(s->c, "250 OK queued as %s\r\n", item->id);
		mfs_item_free(item);
	}
	reset_mail(s);
	return true;
}

static bool cmd_mail(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	if (s->state == ST_GREETED) {
		reply(s, "503 send EHLO first");
	} else if (s->state != ST_READY) {
		reply(s, "503 nested MAIL command");
	} else if (!s->authed) {
		reply(s, serve_login_allowed(s->c) ? "530 authentication required"
						   : NEED_STARTTLS);
	} else if (cmd->size > s->ctx->max_message) {
		reply(s, "552 message size exceeds the fixed limit");
	} else {
		s->from = g_strdup(cmd->path);
		s->state = ST_MAIL;
		reply(s, "250 OK");
	}
	return true;
}

static bool cmd_rcpt(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	if (s->state != ST_MAIL && s->state != ST_RCPT) {
		reply(s, "503 need MAIL before RCPT");
	} else if (s->rcpts >= SMTP_MAX_RCPT) {
		reply(s, "452 too many recipients");
	} else {
		/* every recipient is this store's user: one delivery */
		s->rcpts++;
		s->state = ST_RCPT;
		reply(s, "250 OK");
	}
	return true;
}

static bool cmd_rset(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	reset_mail(s);
	reply(s, "250 OK");
	return true;
}

static bool cmd_noop(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	reply(s, "250 OK");
	return true;
}

static bool cmd_vrfy(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	reply(s, "252 cannot verify the user, but will take mail");
	return true;
}

static bool cmd_help(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	reply(s, "214 see RFC 5321");
	return true;
}

static bool cmd_quit(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	serve_conn_printf(s->c, "221 %s closing\r\n", s->ctx->hostname);
	return false;
}

static bool cmd_starttls(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	if (!s->ctx->tls || serve_conn_is_tls(s->c)) {
		reply(s, "502 STARTTLS not available");
		return true;
	}
	reply(s, "220 ready to start TLS");
	if (serve_conn_start_tls(s->c, s->ctx->tls) < 0) {
		log_warnx("smtp: %s: STARTTLS failed", serve_conn_peer(s->c));
		return false;
	}
	/* RFC 3207 section 4.2: forget all that was said */
	reset_mail(s);
	s->state = ST_GREETED;
	s->authed = false;
	g_clear_pointer(&s->helo, g_free);
	return true;
}

/* Returns false when the connection should end. */
typedef bool (*command_fn)(struct smtpd_session *s,
			   const struct smtp_cmd *cmd);

/*
 * Indexed by the verb the line parser (wire/smtp-cmd.h) found.  There is
 * no state column: what a command says out of turn differs from command
 * to command (503 with a reason of its own, 530, 554), so each handler
 * checks the state itself.
 */
static const struct command {
	const char *name;
	command_fn run;
} commands[] = {
	[SMTP_HELO] = { "HELO", cmd_ehlo },
	[SMTP_EHLO] = { "EHLO", cmd_ehlo },
	[SMTP_AUTH] = { "AUTH", cmd_auth },
	[SMTP_MAIL] = { "MAIL", cmd_mail },
	[SMTP_RCPT] = { "RCPT", cmd_rcpt },
	[SMTP_DATA] = { "DATA", cmd_data },
	[SMTP_RSET] = { "RSET", cmd_rset },
	[SMTP_NOOP] = { "NOOP", cmd_noop },
	[SMTP_VRFY] = { "VRFY", cmd_vrfy },
	[SMTP_HELP] = { "HELP", cmd_help },
	[SMTP_QUIT] = { "QUIT", cmd_quit },
	[SMTP_STARTTLS] = { "STARTTLS", cmd_starttls },
};

/* Returns false when the connection should end. */
static bool dispatch(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	if ((size_t)cmd->verb >= G_N_ELEMENTS(commands) ||
	    !commands[cmd->verb].run) {
		reply(s, "500 command not recognised");
		return true;
	}
	return commands[cmd->verb].run(s, cmd);
}

static void smtpd_session(const struct serve_ctx *ctx, struct serve_conn *c)
{
	struct smtpd_session s = { .ctx = ctx, .c = c, .state = ST_GREETED };
	unsigned bad = 0;

	s.line = g_string_new(NULL);
	serve_conn_printf(c, "220 %s ESMTP mailfs\r\n", ctx->hostname);
	serve_conn_flush(c);
	for (;;) {
		struct smtp_cmd cmd;
		const char *why;
		int rc = serve_conn_read_line(c, s.line, SMTP_MAX_COMMAND);
		bool go_on = true;

		if (rc == -E2BIG) {
			reply(&s, "500 line too long");
		} else if (rc < 0) {
			if (rc == -ETIMEDOUT)
				reply(&s, "421 timeout, closing");
			break;
		} else if ((rc = smtp_cmd_parse(s.line->str, s.line->len, &cmd,
						&why)) < 0) {
			serve_conn_printf(c, "%s %s\r\n",
					  rc == -ENOSYS ? "500"
					  : rc == -EPROTONOSUPPORT ? "555"
								   : "501",
					  why);
		} else {
			/* the verb only: AUTH lines carry secrets */
			log_debug(LOG_PROTO, "smtp: %s: %.*s", serve_conn_peer(c),
				  (int)strcspn(s.line->str, " "), s.line->str);
			go_on = dispatch(&s, &cmd);
			smtp_cmd_clear(&cmd);
			if (rc == 0)
				bad = 0;
		}
		if (rc < 0 && ++bad > 20) {
			reply(&s, "421 too many errors, closing");
			go_on = false;
		}
		if (!go_on)
			break;
		if (!serve_conn_buffered(c) && serve_conn_flush(c) < 0)
			break;
	}
	serve_conn_flush(c);
	reset_mail(&s);
	g_free(s.helo);
	g_string_free(s.line, TRUE);
}

const struct serve_proto smtpd_proto = {
	.name = "smtp",
	.session = smtpd_session,
	.busy_line = "421 too many connections, try again later\r\n",
	.timeout_ms = 5 * 60 * 1000,
	.starttls = "STARTTLS",
};
