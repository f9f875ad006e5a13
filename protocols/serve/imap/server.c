/*
 * server.c - the embedded IMAP server: the session loop, the commands of
 * every state (CAPABILITY, NOOP, LOGOUT, ID, ENABLE), login, STARTTLS,
 * NAMESPACE, IDLE, and the table of every command, whose rows carry the
 * states it is allowed in, what else it is, and its handler.
 *
 * RFC 3501 (IMAP4rev1), RFC 9051 section 6.2 (LOGINDISABLED),
 * RFC 5530 (PRIVACYREQUIRED), RFC 7888 (LITERAL+), RFC 4959 (SASL-IR),
 * RFC 4616 (PLAIN), RFC 2177 (IDLE), RFC 2342 (NAMESPACE), RFC 2971 (ID),
 * RFC 5161 (ENABLE), RFC 3691 (UNSELECT), RFC 4315 (UIDPLUS), RFC 6851
 * (MOVE), RFC 6154 (SPECIAL-USE), RFC 3348 (CHILDREN).
 *
 * Commands are read with the parser the client uses (parse.h), in its
 * command mode: before login its limits are small, so that nobody who has
 * not logged in can make the server hold more than a few kilobytes; after
 * login a literal may be as large as the largest message taken, and big
 * ones go to an unnamed file rather than memory.  A command is bounded as
 * a whole too: its size with every literal, how many literals it has and
 * how many of them are in files.  A literal over a limit is refused with
 * a tagged NO [TOOBIG] (RFC 7889, RFC 5530) when it is announced; a
 * synchronising one is never sent then and the session goes on, but the
 * bytes of a non-synchronising one (RFC 7888 section 4) are on their way
 * and the connection ends rather than read them.  A line that breaks the
 * framing otherwise (over-long, a malformed literal) ends the connection
 * with BYE, since what follows cannot be told apart from the literal.
 *
 * A client that is not on loopback logs in over TLS only: before
 * STARTTLS it is shown LOGINDISABLED and no AUTH= mechanism, and LOGIN
 * and AUTHENTICATE are refused with NO [PRIVACYREQUIRED] (serve.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "log.h"
#include "wire/mime-entity.h"
#include "imapd-private.h"

#define IDLE_POLL_MS 500
#define REFRESH_MS 1000
#define RAW_LINE_MAX 8192
#define SPILL_THRESHOLD (256 * 1024)

static const struct imap_limits before_login = {
	.max_line = 8192,
	.max_literal = 8192,
	.max_total = 16384,
	.max_depth = 8,
	.max_literals = 16,
	.max_spills = 0,
};

void imapd_untagged(struct imapd_session *s, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *text = NULL;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	serve_conn_printf(s->c, "* %s\r\n", text);
}

void imapd_reply(struct imapd_session *s, const struct imapd_cmd *cmd,
		const char *status, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *text = NULL;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	serve_conn_printf(s->c, "%s %s %s\r\n", cmd && cmd->tag ? cmd->tag : "*",
			  status, text);
}

void imapd_send_nstring(struct imapd_session *s, const char *str, size_t len)
{
	g_autoptr(GString) out = g_string_new(NULL);

	mime_gstring_nstring(out, str, len);
	serve_conn_write(s->c, out->str, out->len);
}

void imapd_send_astring(struct imapd_session *s, const char *str)
{
	imapd_send_nstring(s, str, strlen(str));
}

const char *imapd_cmd_string(const struct imapd_cmd *cmd, guint i)
{
	return i < cmd->nargs ? imap_arg_string(cmd->args[i]) : NULL;
}

/* What the capabilities before login add: STARTTLS when it may be
 * started, and how to log in now. */
static const char *login_caps(const struct serve_ctx *ctx,
			      const struct serve_conn *c)
{
	bool starttls = ctx->tls && !serve_conn_is_tls(c);

	if (serve_login_allowed(c))
		return starttls ? " STARTTLS AUTH=PLAIN" : " AUTH=PLAIN";
	return starttls ? " STARTTLS LOGINDISABLED" : " LOGINDISABLED";
}

/* Answer a login that came before TLS off loopback; true when it did. */
static bool refuse_plaintext(struct imapd_session *s,
			     const struct imapd_cmd *cmd)
{
	if (serve_login_allowed(s->c))
		return false;
	log_warnx("imap: %s: login before STARTTLS refused",
		  serve_conn_peer(s->c));
	imapd_reply(s, cmd, "NO", "[PRIVACYREQUIRED] this connection is not "
		   "encrypted: log in after STARTTLS");
	return true;
}

static void send_capability(struct imapd_session *s)
{
	GString *caps = g_string_new("CAPABILITY IMAP4rev1 LITERAL+ SASL-IR "
				     "ID ENABLE IDLE NAMESPACE");
	if (s->state == IMAP_NOT_AUTHED) {
		g_string_append(caps, login_caps(s->ctx, s->c));
	} else {
		g_string_append(caps, " UIDPLUS MOVE UNSELECT SPECIAL-USE "
				      "CHILDREN CONDSTORE QRESYNC");
	}
	imapd_untagged(s, "%s", caps->str);
	g_string_free(caps, TRUE);
}

/* After login: larger limits, big literals to files. */
static void logged_in(struct imapd_session *s, const struct imapd_cmd *cmd,
		      const char *user)
{
	struct imap_limits lim = {
		.max_line = 64 * 1024,
		.max_literal = s->ctx->max_message,
		.max_total = s->ctx->max_message + 1024 * 1024,
		.max_depth = 32,
		/* no command takes more than one message (no MULTIAPPEND,
		 * no CATENATE), so two big literals are plenty */
		.max_literals = 256,
		.max_spills = 2,
	};

	s->state = IMAP_AUTHED;
	imap_parser_free(&s->parser);
	s->parser = imap_parser_new(IMAP_PARSE_COMMANDS, &lim);
	imap_parser_set_spill(s->parser, SPILL_THRESHOLD, s->ctx->spool_dir);
	serve_conn_set_timeout(s->c, imapd_proto.timeout_ms);
	log_info("imap: %s: %s logged in", serve_conn_peer(s->c), user);
	imapd_reply(s, cmd, "OK", "[CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID "
		   "ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT SPECIAL-USE "
		   "CHILDREN CONDSTORE QRESYNC] logged in");
}

/* Returns false when the connection should end. */
static bool check_login(struct imapd_session *s, const struct imapd_cmd *cmd,
			const char *user, const char *pass)
{
	switch (serve_auth_login(s->ctx->auth, serve_conn_peer_addr(s->c),
				 user, pass)) {
	case SERVE_LOGIN_OK:
		logged_in(s, cmd, user);
		return true;
	case SERVE_LOGIN_REFUSED:
		/* RFC 5530: a temporary failure, not the credentials */
		imapd_reply(s, cmd, "NO", "[UNAVAILABLE] too many failed "
			   "logins; try again later");
		return false;
	case SERVE_LOGIN_FAILED:
		break;
	}
	bool close = serve_auth_failed(++s->failures);
	log_warnx("imap: %s: failed login", serve_conn_peer(s->c));
	imapd_reply(s, cmd, "NO", "[AUTHENTICATIONFAILED] authentication "
		   "failed");
	return !close;
}

static bool cmd_login(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	const char *user = imapd_cmd_string(cmd, 0);
	const char *pass = imapd_cmd_string(cmd, 1);

	if (!user || !pass || cmd->nargs != 2) {
		imapd_reply(s, cmd, "BAD", "LOGIN user password");
		return true;
	}
	if (refuse_plaintext(s, cmd))
		return true;
	return check_login(s, cmd, user, pass);
}

static bool cmd_authenticate(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	const char *mech = imapd_cmd_string(cmd, 0);
	g_autofree char *resp = NULL, *user = NULL, *pass = NULL;
	bool ok;

	if (!mech || cmd->nargs > 2) {
		imapd_reply(s, cmd, "BAD", "AUTHENTICATE mechanism");
		return true;
	}
	/* before the continuation, so that no response follows */
	if (refuse_plaintext(s, cmd))
		return true;
	if (g_ascii_strcasecmp(mech, "PLAIN")) {
		imapd_reply(s, cmd, "NO", "unsupported mechanism");
		return true;
	}
	if (cmd->nargs == 2) {
		const char *ir = imapd_cmd_string(cmd, 1);
		resp = g_strdup(ir && strcmp(ir, "=") ? ir : "");
	} else {
		serve_conn_printf(s->c, "+ \r\n");
		if (serve_conn_flush(s->c) < 0 ||
		    serve_conn_read_line(s->c, s->line, RAW_LINE_MAX) < 0)
			return false;
		resp = g_strdup(s->line->str);
	}
	if (!strcmp(resp, "*")) {
		imapd_reply(s, cmd, "BAD", "authentication cancelled");
		return true;
	}
	if (serve_sasl_plain(resp, &user, &pass) < 0) {
		imapd_reply(s, cmd, "BAD", "malformed PLAIN response");
		return true;
	}
	explicit_bzero(resp, strlen(resp));
	ok = check_login(s, cmd, user, pass);
	explicit_bzero(pass, strlen(pass));
	return ok;
}

static bool cmd_starttls(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	if (!s->ctx->tls || serve_conn_is_tls(s->c)) {
		imapd_reply(s, cmd, "BAD", "STARTTLS not available");
		return true;
	}
	imapd_reply(s, cmd, "OK", "begin TLS negotiation now");
	if (serve_conn_start_tls(s->c, s->ctx->tls) < 0) {
		log_warnx("imap: %s: STARTTLS failed", serve_conn_peer(s->c));
		return false;
	}
	return true;
}

static void cmd_id(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	imapd_untagged(s, "ID (\"name\" \"mailfs\")");
	imapd_reply(s, cmd, "OK", "ID completed");
}

/* RFC 5161; CONDSTORE and QRESYNC (RFC 7162 section 3.2.3; QRESYNC
 * enables CONDSTORE too) are the extensions that can be enabled. */
static void cmd_enable(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	g_autoptr(GString) on = g_string_new("ENABLED");

	if (cmd->nargs == 0) {
		imapd_reply(s, cmd, "BAD", "ENABLE what?");
		return;
	}
	for (guint i = 0; i < cmd->nargs; i++) {
		if (imap_arg_is(cmd->args[i], "CONDSTORE") && !s->condstore) {
			s->condstore = true;
			g_string_append(on, " CONDSTORE");
		} else if (imap_arg_is(cmd->args[i], "QRESYNC") &&
			   !s->qresync) {
			s->qresync = s->condstore = true;
			g_string_append(on, " QRESYNC");
		}
	}
	imapd_untagged(s, "%s", on->str);
	imapd_reply(s, cmd, "OK", "ENABLE completed");
}

/* Returns false when the connection should end. */
static bool cmd_idle(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	serve_conn_printf(s->c, "+ idling\r\n");
	for (;;) {
		if (serve_conn_flush(s->c) < 0)
			return false;
		int rc = serve_conn_wait(s->c, IDLE_POLL_MS);
		if (rc < 0)
			return false;
		if (rc == 0) {
			if (s->view)
				imapd_view_refresh(s, true);
			continue;
		}
		if (serve_conn_read_line(s->c, s->line, RAW_LINE_MAX) < 0)
			return false;
		if (!g_ascii_strcasecmp(s->line->str, "DONE")) {
			imapd_reply(s, cmd, "OK", "IDLE terminated");
			return true;
		}
		imapd_reply(s, cmd, "BAD", "expected DONE");
		return true;
	}
}

static void close_mailbox(struct imapd_session *s,
			  const struct imapd_cmd *cmd, bool expunge)
{
	if (expunge && !s->view->readonly)
		imapd_expunge_silently(s);
	imapd_view_free(&s->view);
	s->state = IMAP_AUTHED;
	imapd_reply(s, cmd, "OK", "%s completed", expunge ? "CLOSE"
							: "UNSELECT");
}

/* ---- the commands' table ---- */

static void cmd_capability(struct imapd_session *s,
			   const struct imapd_cmd *cmd)
{
	send_capability(s);
	imapd_reply(s, cmd, "OK", "CAPABILITY completed");
}

static void cmd_noop(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	imapd_reply(s, cmd, "OK", "NOOP completed");
}

static void cmd_check(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	imapd_reply(s, cmd, "OK", "CHECK completed");
}

static bool cmd_logout(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	imapd_untagged(s, "BYE logging out");
	imapd_reply(s, cmd, "OK", "LOGOUT completed");
	return false;
}

static void cmd_namespace(struct imapd_session *s,
			  const struct imapd_cmd *cmd)
{
	imapd_untagged(s, "NAMESPACE ((\"\" \"/\")) NIL NIL");
	imapd_reply(s, cmd, "OK", "NAMESPACE completed");
}

static void cmd_close(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	close_mailbox(s, cmd, true);
}

static void cmd_unselect(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	close_mailbox(s, cmd, false);
}

/* The states a command is allowed in, as bits. */
enum {
	NOAUTH = 1 << IMAP_NOT_AUTHED,
	AUTH = 1 << IMAP_AUTHED,
	SEL = 1 << IMAP_SELECTED,
	ANY = NOAUTH | AUTH | SEL,
};

/* What else a command's row says about it. */
enum {
	UIDABLE = 1 << 0,	/* may come as "UID name" */
	BY_NUMBER = 1 << 1,	/* names messages by number unless under
				   UID: EXPUNGE news waits (RFC 3501
				   section 7.4.1) */
	ASKS_NEWS = 1 << 2,	/* how clients ask for news: always looked
				   for, not once a REFRESH_MS */
	NO_NEWS = 1 << 3,	/* no news looked for before it: it ends the
				   mailbox or the session, picks another,
				   or waits for news itself */
};

/* A handler; one that may end the connection returns false when it
 * should. */
typedef void (*command_fn)(struct imapd_session *s,
			   const struct imapd_cmd *cmd);
typedef bool (*command_end_fn)(struct imapd_session *s,
			       const struct imapd_cmd *cmd);

struct command {
	const char *name;
	unsigned states;
	unsigned flags;
	command_fn run;			/* one of these two */
	command_end_fn run_or_end;
};

static const struct command commands[] = {
	{ "CAPABILITY", ANY, 0, cmd_capability, NULL },
	{ "NOOP", ANY, ASKS_NEWS, cmd_noop, NULL },
	{ "LOGOUT", ANY, NO_NEWS, NULL, cmd_logout },
	{ "ID", ANY, 0, cmd_id, NULL },
	{ "LOGIN", NOAUTH, 0, NULL, cmd_login },
	{ "AUTHENTICATE", NOAUTH, 0, NULL, cmd_authenticate },
	{ "STARTTLS", NOAUTH, 0, NULL, cmd_starttls },
	{ "ENABLE", AUTH | SEL, 0, cmd_enable, NULL },
	{ "NAMESPACE", AUTH | SEL, 0, cmd_namespace, NULL },
	{ "LIST", AUTH | SEL, 0, imapd_cmd_list, NULL },
	{ "LSUB", AUTH | SEL, 0, imapd_cmd_lsub, NULL },
	{ "CREATE", AUTH | SEL, 0, imapd_cmd_create, NULL },
	{ "DELETE", AUTH | SEL, 0, imapd_cmd_delete, NULL },
	{ "RENAME", AUTH | SEL, 0, imapd_cmd_rename, NULL },
	{ "SUBSCRIBE", AUTH | SEL, 0, imapd_cmd_subscribe, NULL },
	{ "UNSUBSCRIBE", AUTH | SEL, 0, imapd_cmd_subscribe, NULL },
	{ "STATUS", AUTH | SEL, 0, imapd_cmd_status, NULL },
	{ "SELECT", AUTH | SEL, NO_NEWS, imapd_cmd_select, NULL },
	{ "EXAMINE", AUTH | SEL, NO_NEWS, imapd_cmd_examine, NULL },
	{ "APPEND", AUTH | SEL, 0, imapd_cmd_append, NULL },
	{ "IDLE", AUTH | SEL, NO_NEWS, NULL, cmd_idle },
	{ "CHECK", SEL, ASKS_NEWS, cmd_check, NULL },
	{ "CLOSE", SEL, NO_NEWS, cmd_close, NULL },
	{ "UNSELECT", SEL, NO_NEWS, cmd_unselect, NULL },
	{ "EXPUNGE", SEL, UIDABLE, imapd_cmd_expunge, NULL },
	{ "SEARCH", SEL, UIDABLE | BY_NUMBER, imapd_cmd_search, NULL },
	{ "FETCH", SEL, UIDABLE | BY_NUMBER, imapd_cmd_fetch, NULL },
	{ "STORE", SEL, UIDABLE | BY_NUMBER, imapd_cmd_store, NULL },
	{ "COPY", SEL, UIDABLE, imapd_cmd_copy, NULL },
	{ "MOVE", SEL, UIDABLE, imapd_cmd_move, NULL },
};

/* The row of a command name (any case), or NULL. */
static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (!g_ascii_strcasecmp(name, commands[i].name))
			return &commands[i];
	}
	return NULL;
}

/* Run `cmd` by its row `def` (NULL for an unknown name).  Returns false
 * when the connection should end. */
static bool dispatch(struct imapd_session *s, const struct command *def,
		     const struct imapd_cmd *cmd)
{
	if (!def || (cmd->uid && !(def->flags & UIDABLE))) {
		imapd_reply(s, cmd, "BAD", "unknown command");
		return true;
	}
	if (!(def->states & (1u << s->state))) {
		imapd_reply(s, cmd, "BAD", "%s", s->state == IMAP_NOT_AUTHED
			   ? "log in first" : s->state == IMAP_AUTHED
			   ? "select a mailbox first" : "not in this state");
		return true;
	}
	if (def->run_or_end)
		return def->run_or_end(s, cmd);
	def->run(s, cmd);
	return true;
}

/*
 * Run one parsed line.  The tagged reply of most commands comes after the
 * untagged news of the mailbox, which RFC 3501 section 7 allows after any
 * command; EXPUNGE news waits during FETCH, STORE and SEARCH by number
 * (section 7.4.1), where numbers must not shift under the client.
 */
static bool run_line(struct imapd_session *s, struct imap_line *l)
{
	struct imap_arg *tag = imap_line_arg(l, 0);
	struct imap_arg *name = imap_line_arg(l, 1);
	struct imapd_cmd cmd = { 0 };
	bool go_on;

	if (!tag || tag->type != IMAP_ARG_ATOM || !strcmp(tag->str, "*") ||
	    !strcmp(tag->str, "+") || strpbrk(tag->str, "[]")) {
		imapd_untagged(s, "BAD a command starts with a tag");
		return true;
	}
	cmd.tag = tag->str;
	if (!name || name->type != IMAP_ARG_ATOM) {
		imapd_reply(s, &cmd, "BAD", "a command name is needed");
		return true;
	}
	cmd.name = name->str;
	guint first = 2;
	if (!g_ascii_strcasecmp(cmd.name, "UID")) {
		struct imap_arg *real = imap_line_arg(l, 2);
		if (!real || real->type != IMAP_ARG_ATOM) {
			imapd_reply(s, &cmd, "BAD", "UID what?");
			return true;
		}
		cmd.uid = true;
		cmd.name = real->str;
		first = 3;
	}
	cmd.args = (struct imap_arg **)l->args->pdata + first;
	cmd.nargs = l->args->len - first;
	log_debug(LOG_PROTO, "imap: %s: %s %s%s", serve_conn_peer(s->c),
		  cmd.tag, cmd.uid ? "UID " : "", cmd.name);
	const struct command *def = command_find(cmd.name);
	unsigned flags = def ? def->flags : 0;
	bool by_number = !cmd.uid && (flags & BY_NUMBER);
	/* NOOP and CHECK are how clients ask for news: always; other
	 * commands look at most once a REFRESH_MS, since each look may read
	 * the whole folder when other writers are busy */
	bool due = s->view && ((flags & ASKS_NEWS) || g_get_monotonic_time() -
			       s->view->refreshed >= REFRESH_MS * 1000);
	if (due && !by_number && !(flags & NO_NEWS))
		imapd_view_refresh(s, true);
	else if (due && by_number)
		imapd_view_refresh(s, false);
	go_on = dispatch(s, def, &cmd);
	return go_on && s->state != IMAP_LOGOUT;
}

/* A command refused at a literal over a limit: NO [TOOBIG] with its tag.
 * Returns false when the connection should end (the literal is coming
 * unasked and will not be read). */
static bool refuse_literal(struct imapd_session *s, bool sync, const char *tag)
{
	const char *why = imap_parser_error(s->parser);

	log_info("imap: %s: refused: %s", serve_conn_peer(s->c), why);
	serve_conn_printf(s->c, "%s NO [TOOBIG] %s\r\n", tag ? tag : "*", why);
	if (!sync) {
		imapd_untagged(s, "BYE a non-synchronising literal over the "
			       "limit is not read");
		return false;
	}
	imap_parser_reset(s->parser);
	return true;
}

static void imapd_session(const struct serve_ctx *ctx, struct serve_conn *c)
{
	struct imapd_session s = { .ctx = ctx, .c = c };

	s.parser = imap_parser_new(IMAP_PARSE_COMMANDS, &before_login);
	s.line = g_string_new(NULL);
	serve_conn_printf(c, "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID "
			  "ENABLE IDLE NAMESPACE%s] mailfs ready\r\n",
			  login_caps(ctx, c));
	for (;;) {
		const char *buf;
		size_t used = 0;

		if (!serve_conn_buffered(c) && serve_conn_flush(c) < 0)
			break;
		ssize_t n = serve_conn_peek(c, &buf);
		if (n < 0) {
			if (n == -ETIMEDOUT)
				imapd_untagged(&s, "BYE idle for too long");
			break;
		}
		enum imap_parse_status st = imap_parser_feed(
			s.parser, buf, (size_t)n, &used);
		serve_conn_consume(c, used);
		if (st == IMAP_PARSE_NEED_MORE)
			continue;
		if (st == IMAP_PARSE_CONTINUE) {
			serve_conn_printf(c, "+ go ahead\r\n");
			continue;
		}
		bool sync;
		const char *tag;
		if (st == IMAP_PARSE_ERROR &&
		    imap_parser_refused(s.parser, &sync, &tag)) {
			if (refuse_literal(&s, sync, tag))
				continue;
			break;
		}
		if (st == IMAP_PARSE_ERROR) {
			const char *why = imap_parser_error(s.parser);
			if (used == 0) {
				/* framing lost: whatever follows could be
				 * the rest of a literal */
				imapd_untagged(&s, "BYE %s", why);
				break;
			}
			imapd_untagged(&s, "BAD %s", why);
			imap_parser_reset(s.parser);
			continue;
		}
		struct imap_line *l = imap_parser_take(s.parser);
		bool go_on = run_line(&s, l);
		imap_line_free(&l);
		if (!go_on)
			break;
	}
	serve_conn_flush(c);
	imapd_view_free(&s.view);
	imap_parser_free(&s.parser);
	g_string_free(s.line, TRUE);
}

const struct serve_proto imapd_proto = {
	.name = "imap",
	.session = imapd_session,
	.busy_line = "* BYE too many connections\r\n",
	.timeout_ms = 30 * 60 * 1000,
	.starttls = "STARTTLS",
};
