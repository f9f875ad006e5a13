/*
 * server.c - the embedded POP3 server over the store's INBOX.
 *
 * RFC 1939 (POP3: USER/PASS, STAT, LIST, UIDL, RETR, TOP, DELE, RSET,
 * NOOP, QUIT), RFC 2449 (CAPA), RFC 2595 (STLS), RFC 5034 (AUTH) with
 * RFC 4616 (PLAIN), RFC 3206 ([AUTH], [SYS/TEMP]).
 *
 * States as in RFC 1939: AUTHORIZATION until a login succeeds, then
 * TRANSACTION on a snapshot of INBOX taken at login (message numbers never
 * change during a session), then UPDATE at QUIT, where the messages marked
 * deleted are removed from the store.  A connection that ends any other
 * way removes nothing.  Unique ids are the store's item ids, which stay the
 * same for as long as the message exists.
 *
 * The maildrop is INBOX, and one POP3 client at a time has it (RFC 1939
 * section 8): a login while another POP3 client holds it is refused with
 * -ERR [IN-USE] (RFC 2449).  The hold is an flock(2) on
 * .mailfs-serve/pop3-inbox.lock in the store, so that it holds between
 * two servers on one store too, and ends with the process.  IMAP clients,
 * a mount of the store and Dovecot are not kept out (Dovecot takes no lock
 * on a Maildir for POP3 either): a message one of them moves or removes
 * while a POP3 client holds the snapshot is reported, never skipped in
 * silence: RETR and TOP answer -ERR naming it, and QUIT answers -ERR
 * naming the messages marked deleted that were already gone, after
 * removing the others.  The store's remove finds a message by its id in
 * INBOX only, so a message moved elsewhere is never removed there.
 *
 * A client that is not on loopback logs in over TLS only: before STLS
 * its CAPA shows neither USER nor SASL, and USER, PASS and AUTH are
 * refused (serve.h).
 *
 * Commands run through one table, indexed by the verb the line parser
 * found, whose rows carry the states they are allowed in and the handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "wire/pop3-cmd.h"
#include "fileutil.h"
#include "log.h"
#include "serve/serve.h"

#define POP3_MAX_LINE 1024
/* How long a login waits for the maildrop another POP3 client holds. */
#define POP3_HOLD_WAIT_MS 2000

struct pop3d_msg {
	struct mfs_item *item;		/* owned */
	bool deleted;
};

struct pop3d_session {
	const struct serve_ctx *ctx;	/* borrowed */
	struct serve_conn *c;		/* borrowed */
	char *user;			/* owned; from USER */
	bool authed;
	unsigned failures;
	GArray *msgs;			/* of struct pop3d_msg; owned */
	GString *line;			/* owned */
	int hold;			/* the maildrop's lock, or -1 */
};

/*
 * Hold the maildrop for this client.  Returns 0; -EWOULDBLOCK when
 * another POP3 client holds it; or -errno.
 */
static int maildrop_hold(struct pop3d_session *s)
{
	g_autofree char *dir = g_build_filename(s->ctx->store_root,
						".mailfs-serve", NULL);
	g_autofree char *path = g_build_filename(dir, "pop3-inbox.lock", NULL);
	int fd, rc;

	if ((rc = file_mkdir_p(dir, 0700)) < 0)
		return rc;
	/* an open of its own: flock(2) holds per open file, so two
	 * clients of this process exclude each other as well */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* a client whose connection just dropped lets go once its thread
	 * sees the end: give it that moment before saying [IN-USE] */
	for (unsigned waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0;
	     waited += 20) {
		rc = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
		if (rc != -EWOULDBLOCK || waited >= POP3_HOLD_WAIT_MS) {
			close(fd);
			return rc;
		}
		g_usleep(20 * 1000);
	}
	s->hold = fd;
	return 0;
}

static void maildrop_release(struct pop3d_session *s)
{
	if (s->hold >= 0)
		close(s->hold);
	s->hold = -1;
}

static int item_order(gconstpointer a, gconstpointer b)
{
	const struct mfs_item *x = *(struct mfs_item *const *)a;
	const struct mfs_item *y = *(struct mfs_item *const *)b;

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Take the snapshot of INBOX.  Returns 0 or -errno. */
static int load_inbox(struct pop3d_session *s)
{
	struct mfs_sync_result *res = NULL;
	struct mfs_error e = { 0 };
	int rc = mfs_store_sync(s->ctx->store, "INBOX", NULL, &res, &e);

	if (rc < 0) {
		log_warnx("pop3: INBOX: %s", e.msg);
		return rc;
	}
	g_ptr_array_sort(res->changed, item_order);
	for (guint i = 0; i < res->changed->len; i++) {
		struct pop3d_msg m = { g_steal_pointer(&res->changed->pdata[i]),
				      false };
		g_array_append_val(s->msgs, m);
	}
	mfs_sync_result_free(&res);
	return 0;
}

/* The message numbered `n` unless it is out of range or deleted. */
static struct pop3d_msg *msg_at(struct pop3d_session *s, unsigned long n)
{
	if (n < 1 || n > s->msgs->len)
		return NULL;
	struct pop3d_msg *m = &g_array_index(s->msgs, struct pop3d_msg, n - 1);
	return m->deleted ? NULL : m;
}

/* RFC 1939 section 7: a unique id is 1-70 characters 0x21-0x7E. */
static char *uid_of(const struct mfs_item *it)
{
	size_t n = strlen(it->id);
	bool ok = n >= 1 && n <= 70;

	for (size_t i = 0; ok && i < n; i++)
		ok = it->id[i] > 0x20 && it->id[i] < 0x7f;
	if (ok)
		return g_strdup(it->id);
	return g_compute_checksum_for_string(G_CHECKSUM_SHA1, it->id, -1);
}

/*
 * Send the message's bytes as a multi-line response body: CRLF line ends,
 * dot-stuffed.  `body_lines` < 0 sends it all; otherwise the header, the
 * empty line and that many body lines (TOP).  Returns 0 or -errno.
 */
static int send_message(struct pop3d_session *s, int fd, long body_lines)
{
	char buf[65536];
	g_autoptr(GString) out = g_string_sized_new(sizeof(buf) + 1024);
	bool bol = true, in_body = false, empty = true;
	char prev = 0;
	ssize_t n;
	int rc;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			char b = buf[i];
			if (bol && in_body && body_lines >= 0 &&
			    body_lines-- == 0)
				goto done;
			if (bol && b == '.')
				g_string_append_c(out, '.');
			if (b == '\n') {
				if (prev != '\r')
					g_string_append_c(out, '\r');
				g_string_append_c(out, '\n');
				bol = true;
				if (empty)
					in_body = true;
				empty = true;
			} else {
				g_string_append_c(out, b);
				bol = false;
				if (b != '\r')
					empty = false;
			}
			prev = b;
		}
		if ((rc = serve_conn_write(s->c, out->str, out->len)) < 0)
			return rc;
		g_string_truncate(out, 0);
	}
	if (n < 0)
		return -errno;
done:
	if (!bol)
		g_string_append(out, "\r\n");
	g_string_append(out, ".\r\n");
	return serve_conn_write(s->c, out->str, out->len);
}

static bool cmd_retr(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	struct pop3d_msg *m = msg_at(s, cmd->num[0]);
	struct mfs_error e = { 0 };
	int fd;

	if (!m) {
		serve_conn_printf(s->c, "-ERR no such message\r\n");
		return true;
	}
	int rc = mfs_store_fetch(s->ctx->store, "INBOX", m->item->id, &fd, &e);
	if (rc == -ENOENT) {
		serve_conn_printf(s->c, "-ERR message %lu was moved or removed "
				  "by another client since login\r\n",
				  cmd->num[0]);
		return true;
	}
	if (rc < 0) {
		log_warnx("pop3: reading %s: %s", m->item->id, e.msg);
		serve_conn_printf(s->c, "-ERR [SYS/TEMP] message %lu cannot "
				  "be read\r\n", cmd->num[0]);
		return true;
	}
	serve_conn_printf(s->c, "+OK %" G_GUINT64_FORMAT " octets\r\n",
			  m->item->size);
	send_message(s, fd, cmd->verb == POP3_TOP ? (long)MIN(cmd->num[1],
							      (unsigned long)G_MAXLONG)
						  : -1);
	close(fd);
	return true;
}

static bool cmd_list(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	bool uidl = cmd->verb == POP3_UIDL;

	if (cmd->nargs) {
		struct pop3d_msg *m = msg_at(s, cmd->num[0]);
		if (!m) {
			serve_conn_printf(s->c, "-ERR no such message\r\n");
			return true;
		}
		g_autofree char *uid = uid_of(m->item);
		if (uidl)
			serve_conn_printf(s->c, "+OK %lu %s\r\n", cmd->num[0],
					  uid);
		else
			serve_conn_printf(s->c, "+OK %lu %" G_GUINT64_FORMAT
					  "\r\n", cmd->num[0], m->item->size);
		return true;
	}
	serve_conn_printf(s->c, "+OK\r\n");
	for (guint i = 0; i < s->msgs->len; i++) {
		struct pop3d_msg *m = &g_array_index(s->msgs, struct pop3d_msg, i);
		if (m->deleted)
			continue;
		if (uidl) {
			g_autofree char *uid = uid_of(m->item);
			serve_conn_printf(s->c, "%u %s\r\n", i + 1, uid);
		} else {
			serve_conn_printf(s->c, "%u %" G_GUINT64_FORMAT "\r\n",
					  i + 1, m->item->size);
		}
	}
	serve_conn_printf(s->c, ".\r\n");
	return true;
}

static bool cmd_capa(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	serve_conn_printf(s->c, "+OK capabilities follow\r\n");
	serve_conn_printf(s->c, "TOP\r\nUIDL\r\nRESP-CODES\r\n"
			  "PIPELINING\r\nAUTH-RESP-CODE\r\n");
	if (!s->authed) {
		if (serve_login_allowed(s->c))
			serve_conn_printf(s->c, "USER\r\nSASL PLAIN\r\n");
		if (s->ctx->tls && !serve_conn_is_tls(s->c))
			serve_conn_printf(s->c, "STLS\r\n");
	}
	serve_conn_printf(s->c, "IMPLEMENTATION mailfs\r\n.\r\n");
	return true;
}

/* Answer USER, PASS or AUTH before TLS off loopback; true when it did.
 * RFC 3206 gives [AUTH] to a login against policy. */
static bool refuse_plaintext(struct pop3d_session *s)
{
	if (serve_login_allowed(s->c))
		return false;
	log_warnx("pop3: %s: login before STLS refused", serve_conn_peer(s->c));
	serve_conn_printf(s->c, "-ERR [AUTH] this connection is not "
			  "encrypted: log in after STLS\r\n");
	return true;
}

/* After a login attempt: returns false when the connection should end. */
static bool login(struct pop3d_session *s, const char *user, const char *pass)
{
	enum serve_login r = serve_auth_login(s->ctx->auth,
					      serve_conn_peer_addr(s->c),
					      user, pass);
	if (r == SERVE_LOGIN_REFUSED) {
		/* RFC 3206: temporary, not the credentials */
		serve_conn_printf(s->c, "-ERR [SYS/TEMP] too many failed "
				  "logins; try again later\r\n");
		return false;
	}
	if (r == SERVE_LOGIN_OK) {
		int rc = maildrop_hold(s);
		if (rc == -EWOULDBLOCK) {
			log_info("pop3: %s: %s: maildrop in use",
				 serve_conn_peer(s->c), user);
			serve_conn_printf(s->c, "-ERR [IN-USE] the maildrop "
					  "(INBOX) is in use by another POP3 "
					  "client\r\n");
			return true;
		}
		if (rc < 0) {
			log_warnx("pop3: locking INBOX: %s", g_strerror(-rc));
			serve_conn_printf(s->c, "-ERR [SYS/TEMP] cannot lock "
					  "the maildrop\r\n");
			return false;
		}
		if (load_inbox(s) < 0) {
			serve_conn_printf(s->c, "-ERR [SYS/TEMP] cannot read "
					  "the mailbox\r\n");
			return false;
		}
		s->authed = true;
		serve_conn_set_timeout(s->c, pop3d_proto.timeout_ms);
		log_info("pop3: %s: %s logged in", serve_conn_peer(s->c), user);
		serve_conn_printf(s->c, "+OK %u messages\r\n", s->msgs->len);
		return true;
	}
	bool close = serve_auth_failed(++s->failures);
	log_warnx("pop3: %s: failed login", serve_conn_peer(s->c));
	serve_conn_printf(s->c, "-ERR [AUTH] authentication failed\r\n");
	return !close;
}

static bool cmd_auth(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	g_autofree char *user = NULL, *pass = NULL, *resp = NULL;
	bool ok;

	/* before the continuation, so that no response follows */
	if (refuse_plaintext(s))
		return true;
	if (cmd->nargs == 0) {
		serve_conn_printf(s->c, "+OK\r\nPLAIN\r\n.\r\n");
		return true;
	}
	if (g_ascii_strcasecmp(cmd->args[0], "PLAIN")) {
		serve_conn_printf(s->c, "-ERR unsupported mechanism\r\n");
		return true;
	}
	if (cmd->nargs == 2) {
		resp = g_strdup(cmd->args[1]);
	} else {
		serve_conn_printf(s->c, "+ \r\n");
		if (serve_conn_flush(s->c) < 0 ||
		    serve_conn_read_line(s->c, s->line, POP3_MAX_LINE) < 0)
			return false;
		resp = g_strdup(s->line->str);
	}
	if (!strcmp(resp, "*")) {
		serve_conn_printf(s->c, "-ERR authentication cancelled\r\n");
		return true;
	}
	if (serve_sasl_plain(resp, &user, &pass) < 0) {
		serve_conn_printf(s->c, "-ERR malformed response\r\n");
		return true;
	}
	explicit_bzero(resp, strlen(resp));
	ok = login(s, user, pass);
	explicit_bzero(pass, strlen(pass));
	return ok;
}

/* QUIT in TRANSACTION: the UPDATE state.  Messages another client moved
 * or removed meanwhile are named (RFC 1939 section 6: "-ERR some deleted
 * messages not removed"). */
static void update(struct pop3d_session *s)
{
	g_autoptr(GString) gone = g_string_new(NULL);
	unsigned failed = 0;

	for (guint i = 0; i < s->msgs->len; i++) {
		struct pop3d_msg *m = &g_array_index(s->msgs, struct pop3d_msg, i);
		struct mfs_error e = { 0 };
		if (!m->deleted)
			continue;
		int rc = mfs_store_remove(s->ctx->store, "INBOX", m->item->id,
					  &e);
		if (rc == -ENOENT) {
			log_info("pop3: %s was gone from INBOX at QUIT",
				 m->item->id);
			g_string_append_printf(gone, "%s%u", gone->len ? ", "
								     : "",
					       i + 1);
		} else if (rc < 0) {
			log_warnx("pop3: removing %s: %s", m->item->id, e.msg);
			failed++;
		}
	}
	if (gone->len && failed)
		serve_conn_printf(s->c, "-ERR message %s: moved or removed by "
				  "another client since login; %u more not "
				  "removed\r\n", gone->str, failed);
	else if (gone->len)
		serve_conn_printf(s->c, "-ERR message %s: moved or removed by "
				  "another client since login; the other "
				  "deleted messages were removed\r\n",
				  gone->str);
	else if (failed)
		serve_conn_printf(s->c, "-ERR %u messages not removed\r\n",
				  failed);
	else
		serve_conn_printf(s->c, "+OK bye\r\n");
}

static bool cmd_quit(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	if (s->authed) {
		update(s);
		/* before the answer leaves: a client that logs in again
		 * on hearing it finds the maildrop free */
		maildrop_release(s);
	} else
		serve_conn_printf(s->c, "+OK bye\r\n");
	return false;
}

/* NOOP is of the TRANSACTION state (RFC 1939 section 5); before login it
 * has always been answered as a command not known. */
static bool cmd_noop(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	serve_conn_printf(s->c, s->authed ? "+OK\r\n"
					  : "-ERR unknown command\r\n");
	return true;
}

static bool cmd_user(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	if (refuse_plaintext(s))
		return true;
	g_free(s->user);
	s->user = g_strdup(cmd->args[0]);
	serve_conn_printf(s->c, "+OK send PASS\r\n");
	return true;
}

static bool cmd_pass(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	if (refuse_plaintext(s))
		return true;
	if (!s->user) {
		serve_conn_printf(s->c, "-ERR USER first\r\n");
		return true;
	}
	bool ok = login(s, s->user, cmd->args[0]);
	g_clear_pointer(&s->user, g_free);
	return ok;
}

static bool cmd_stls(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	if (!s->ctx->tls || serve_conn_is_tls(s->c)) {
		serve_conn_printf(s->c, "-ERR STLS not available\r\n");
		return true;
	}
	serve_conn_printf(s->c, "+OK begin TLS\r\n");
	if (serve_conn_start_tls(s->c, s->ctx->tls) < 0) {
		log_warnx("pop3: %s: STLS failed", serve_conn_peer(s->c));
		return false;
	}
	g_clear_pointer(&s->user, g_free);
	return true;
}

static bool cmd_stat(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	unsigned n = 0;
	uint64_t bytes = 0;

	for (guint i = 0; i < s->msgs->len; i++) {
		struct pop3d_msg *m = &g_array_index(s->msgs, struct pop3d_msg,
						     i);
		if (!m->deleted) {
			n++;
			bytes += m->item->size;
		}
	}
	serve_conn_printf(s->c, "+OK %u %" G_GUINT64_FORMAT "\r\n", n, bytes);
	return true;
}

static bool cmd_dele(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	struct pop3d_msg *m = msg_at(s, cmd->num[0]);

	if (m)
		m->deleted = true;
	serve_conn_printf(s->c, m ? "+OK marked\r\n"
				  : "-ERR no such message\r\n");
	return true;
}

static bool cmd_rset(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	for (guint i = 0; i < s->msgs->len; i++)
		g_array_index(s->msgs, struct pop3d_msg, i).deleted = false;
	serve_conn_printf(s->c, "+OK\r\n");
	return true;
}

/* The states of RFC 1939 a command is allowed in, as bits. */
enum { AUTHORIZATION = 1, TRANSACTION = 2, EITHER = 3 };

/* Returns false when the connection should end. */
typedef bool (*command_fn)(struct pop3d_session *s,
			   const struct pop3_cmd *cmd);

/* Indexed by the verb the line parser (wire/pop3-cmd.h) found. */
static const struct command {
	const char *name;
	unsigned states;
	command_fn run;
} commands[] = {
	[POP3_CAPA] = { "CAPA", EITHER, cmd_capa },
	[POP3_QUIT] = { "QUIT", EITHER, cmd_quit },
	[POP3_USER] = { "USER", AUTHORIZATION, cmd_user },
	[POP3_PASS] = { "PASS", AUTHORIZATION, cmd_pass },
	[POP3_AUTH] = { "AUTH", AUTHORIZATION, cmd_auth },
	[POP3_STLS] = { "STLS", AUTHORIZATION, cmd_stls },
	[POP3_NOOP] = { "NOOP", EITHER, cmd_noop },
	[POP3_STAT] = { "STAT", TRANSACTION, cmd_stat },
	[POP3_LIST] = { "LIST", TRANSACTION, cmd_list },
	[POP3_UIDL] = { "UIDL", TRANSACTION, cmd_list },
	[POP3_RETR] = { "RETR", TRANSACTION, cmd_retr },
	[POP3_TOP] = { "TOP", TRANSACTION, cmd_retr },
	[POP3_DELE] = { "DELE", TRANSACTION, cmd_dele },
	[POP3_RSET] = { "RSET", TRANSACTION, cmd_rset },
};

/* Returns false when the connection should end. */
static bool dispatch(struct pop3d_session *s, const struct pop3_cmd *cmd)
{
	const struct command *def = (size_t)cmd->verb < G_N_ELEMENTS(commands)
		? &commands[cmd->verb] : NULL;

	if (!def || !def->run) {
		serve_conn_printf(s->c, s->authed ? "-ERR unknown command\r\n"
						  : "-ERR log in first\r\n");
		return true;
	}
	if (!(def->states & (s->authed ? TRANSACTION : AUTHORIZATION))) {
		serve_conn_printf(s->c, s->authed ? "-ERR already logged in\r\n"
						  : "-ERR log in first\r\n");
		return true;
	}
	return def->run(s, cmd);
}

static void clear_msg(gpointer p)
{
	struct pop3d_msg *m = p;

	mfs_item_free(m->item);
}

static void pop3d_session(const struct serve_ctx *ctx, struct serve_conn *c)
{
	struct pop3d_session s = { .ctx = ctx, .c = c, .hold = -1 };
	unsigned bad = 0;

	s.msgs = g_array_new(FALSE, TRUE, sizeof(struct pop3d_msg));
	g_array_set_clear_func(s.msgs, clear_msg);
	s.line = g_string_new(NULL);
	serve_conn_printf(c, "+OK mailfs POP3 ready\r\n");
	serve_conn_flush(c);
	for (;;) {
		struct pop3_cmd cmd;
		const char *why;
		bool go_on = true;
		int rc = serve_conn_read_line(c, s.line, POP3_MAX_LINE);

		if (rc == -E2BIG) {
			serve_conn_printf(c, "-ERR line too long\r\n");
		} else if (rc < 0) {
			break;
		} else if ((rc = pop3_cmd_parse(s.line->str, s.line->len, &cmd,
						&why)) < 0) {
			serve_conn_printf(c, "-ERR %s\r\n", why);
		} else {
			/* the verb only: PASS and AUTH lines carry secrets */
			log_debug(LOG_PROTO, "pop3: %s: %.*s", serve_conn_peer(c),
				  (int)strcspn(s.line->str, " "), s.line->str);
			go_on = dispatch(&s, &cmd);
			pop3_cmd_clear(&cmd);
			bad = 0;
		}
		if (rc < 0 && ++bad > 20) {
			serve_conn_printf(c, "-ERR too many errors\r\n");
			go_on = false;
		}
		if (!go_on)
			break;
		if (!serve_conn_buffered(c) && serve_conn_flush(c) < 0)
			break;
	}
	serve_conn_flush(c);
	maildrop_release(&s);
	g_free(s.user);
	g_array_unref(s.msgs);
	g_string_free(s.line, TRUE);
}

const struct serve_proto pop3d_proto = {
	.name = "pop3",
	.session = pop3d_session,
	.busy_line = "-ERR [SYS/TEMP] too many connections\r\n",
	.timeout_ms = 10 * 60 * 1000,
	.starttls = "STLS",
};
