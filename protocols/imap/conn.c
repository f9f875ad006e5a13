/*
 * conn.c - see conn.h.
 */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "sasl-plain.h"
#include "stream.h"

#define SPILL_THRESHOLD (1024 * 1024)

enum part_kind { PART_TEXT, PART_LITERAL, PART_LITERAL_FD };

struct part {
	enum part_kind kind;
	char *data;		/* owned; TEXT and LITERAL */
	size_t len;
	int fd;			/* borrowed; LITERAL_FD */
	uint64_t size;
	bool secret;		/* not shown in traces */
};

struct imapc_cmd {
	GPtrArray *parts;	/* of struct part *, owned */
	bool secret;		/* parts added from now on are secret */
	char *what;		/* owned; the command name, for messages */
};

struct imapc_conn {
	char *name;			/* owned; for logs */
	struct stream *s;		/* owned */
	struct imap_parser *parser;	/* owned */
	char rbuf[16384];
	size_t rpos, rend;
	GHashTable *caps;		/* owned; upper-case capability set */
	GHashTable *done;		/* owned; tag -> completion line */
	unsigned tagn;
	char *selected;			/* owned; server name */
	uint64_t uidvalidity;		/* of the selected folder */
	int timeout_ms;
	bool broken;
	char delim;
	char *idle_tag;			/* owned; while IDLE runs */
	bool logging_out;		/* the BYE to come is expected */
	char *prefix;			/* owned; personal namespace prefix */
	unsigned caps_gen;		/* counts capability lists seen */
};

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

/* ---- commands ---- */

static void part_free(gpointer p)
{
	struct part *pt = p;

	if (pt->data) {
		if (pt->secret)
			memset(pt->data, 0, pt->len);
		g_free(pt->data);
	}
	g_free(pt);
}

static struct part *add_part(struct imapc_cmd *cmd, enum part_kind kind)
{
	struct part *pt = g_new0(struct part, 1);

	pt->kind = kind;
	pt->secret = cmd->secret;
	pt->fd = -1;
	g_ptr_array_add(cmd->parts, pt);
	return pt;
}

struct imapc_cmd *imapc_cmd_new(const char *fmt, ...)
{
	struct imapc_cmd *cmd = g_new0(struct imapc_cmd, 1);
	va_list ap;

	cmd->parts = g_ptr_array_new_with_free_func(part_free);
	va_start(ap, fmt);
	struct part *pt = add_part(cmd, PART_TEXT);
	pt->data = g_strdup_vprintf(fmt, ap);
	pt->len = strlen(pt->data);
	va_end(ap);
	size_t w = strcspn(pt->data, " ");
	cmd->what = g_strndup(pt->data, w);
	return cmd;
}

void imapc_cmd_add(struct imapc_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	struct part *pt = add_part(cmd, PART_TEXT);

	va_start(ap, fmt);
	pt->data = g_strdup_vprintf(fmt, ap);
	pt->len = strlen(pt->data);
	va_end(ap);
}

static bool atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("(){ %*\"\\]", c);
}

void imapc_cmd_astring(struct imapc_cmd *cmd, const char *s, size_t len)
{
	bool atom = len > 0 && !(len == 3 && !g_ascii_strncasecmp(s, "NIL", 3));
	bool quotable = true;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		atom = atom && atom_char(c);
		quotable = quotable && c >= 0x20 && c < 0x7f;
	}
	if (atom) {
		struct part *pt = add_part(cmd, PART_TEXT);
		pt->data = g_strndup(s, len);
		pt->len = len;
	} else if (quotable && len < 1024) {
		GString *q = g_string_new("\"");
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				g_string_append_c(q, '\\');
			g_string_append_c(q, s[i]);
		}
		g_string_append_c(q, '"');
		struct part *pt = add_part(cmd, PART_TEXT);
		pt->len = q->len;
		pt->data = g_string_free(q, FALSE);
	} else {
		struct part *pt = add_part(cmd, PART_LITERAL);
		pt->data = g_memdup2(s, len);
		pt->len = len;
		pt->size = len;
	}
}

void imapc_cmd_literal_fd(struct imapc_cmd *cmd, int fd, uint64_t size)
{
	struct part *pt = add_part(cmd, PART_LITERAL_FD);

	pt->fd = fd;
	pt->size = size;
}

void imapc_cmd_secret(struct imapc_cmd *cmd)
{
	cmd->secret = true;
}

void imapc_cmd_free(struct imapc_cmd **cmd)
{
	if (!*cmd)
		return;
	g_ptr_array_unref((*cmd)->parts);
	g_free((*cmd)->what);
	g_free(*cmd);
	*cmd = NULL;
}

/* ---- reading ---- */

static int broken(struct imapc_conn *c, int rc, struct mfs_error *e,
		  const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static int broken(struct imapc_conn *c, int rc, struct mfs_error *e,
		  const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	g_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!c->broken)
		log_warnx("%s: %s", c->name, msg);
	c->broken = true;
	return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT, "%s: %s",
			     c->name, msg);
}

static void trace(struct imapc_conn *c, const char *dir, const char *buf,
		  size_t len)
{
	GString *s;

	if (!log_debug_enabled(LOG_PROTO))
		return;
	s = g_string_new(NULL);
	for (size_t i = 0; i < len && i < 300; i++) {
		unsigned char ch = (unsigned char)buf[i];
		if (ch == '\r' || ch == '\n')
			continue;
		if (ch < 0x20 || ch == 0x7f)
			g_string_append_c(s, '.');
		else
			g_string_append_c(s, (char)ch);
	}
	if (len > 300)
		g_string_append_printf(s, "... (%zu bytes)", len);
	log_debug(LOG_PROTO, "%s %s %s", c->name, dir, s->str);
	g_string_free(s, TRUE);
}

static void trace_line(struct imapc_conn *c, const struct imap_line *l)
{
	GString *r;

	if (!log_debug_enabled(LOG_PROTO))
		return;
	r = g_string_new(NULL);
	for (guint i = 0; i < l->args->len && i < 6; i++) {
		const struct imap_arg *a = l->args->pdata[i];
		if (a->type == IMAP_ARG_LITERAL)
			g_string_append_printf(r, "{%zu} ", a->len);
		else
			g_string_append_printf(r, "%s ", a->str ? a->str
							       : "(...)");
	}
	trace(c, "S:", r->str, r->len);
	g_string_free(r, TRUE);
}

static void caps_set(struct imapc_conn *c, GPtrArray *args, guint from)
{
	c->caps_gen++;
	g_hash_table_remove_all(c->caps);
	for (guint i = from; i < args->len; i++) {
		const char *cap = imap_arg_string(args->pdata[i]);
		if (cap)
			g_hash_table_add(c->caps, g_ascii_strup(cap, -1));
	}
}

/* A [CAPABILITY ...] code, in an untagged or a tagged status line. */
static void caps_from_code(struct imapc_conn *c, struct imap_line *l)
{
	struct imap_arg *code = imap_line_arg(l, 2);

	if (code && code->type == IMAP_ARG_CODE &&
	    imap_arg_is(imap_arg_list(code)->len ? imap_arg_list(code)->pdata[0]
						 : NULL, "CAPABILITY"))
		caps_set(c, code->list, 1);
}

/* What every connection does with an untagged line whoever asked. */
static void untagged_common(struct imapc_conn *c, struct imap_line *l)
{
	struct imap_arg *w = imap_line_arg(l, 1);

	if (imap_arg_is(w, "CAPABILITY"))
		caps_set(c, l->args, 2);
	caps_from_code(c, l);
	if (imap_arg_is(w, "BYE")) {
		struct imap_arg *text = imap_line_arg(l, l->args->len - 1);
		if (!c->logging_out)
			log_warnx("%s: the server closes the connection: %s",
				  c->name, text && text->str ? text->str : "");
		c->broken = true;
	}
}

/* The next whole line, within `ms`.  -ETIMEDOUT with nothing begun is soft
 * (the connection stays usable) only when `soft` is set. */
static int read_line(struct imapc_conn *c, int ms, bool soft,
		     struct imap_line **line_r, struct mfs_error *e)
{
	for (;;) {
		if (c->rpos < c->rend) {
			size_t used = 0;
			enum imap_parse_status st = imap_parser_feed(
				c->parser, c->rbuf + c->rpos,
				c->rend - c->rpos, &used);
			c->rpos += used;
			if (st == IMAP_PARSE_ERROR)
				return broken(c, -EPROTO, e,
					      "unreadable response: %s",
					      imap_parser_error(c->parser));
			if (st == IMAP_PARSE_LINE) {
				struct imap_line *l = imap_parser_take(c->parser);
				struct imap_arg *a0 = imap_line_arg(l, 0);
				trace_line(c, l);
				if (imap_arg_is(a0, "*"))
					untagged_common(c, l);
				*line_r = l;
				return 0;
			}
			continue;	/* all consumed; read more */
		}
		if (c->broken)
			return mfs_error_set(e, -ECONNRESET, MFS_ERR_ACCOUNT,
					     MFS_ERR_TRANSIENT,
					     "%s: connection closed", c->name);
		ssize_t n = stream_read(c->s, c->rbuf, sizeof(c->rbuf), ms);
		if (n == -ETIMEDOUT && soft && imap_parser_pending(c->parser) == 0)
			return -ETIMEDOUT;
		if (n < 0)
			return broken(c, (int)n, e, "reading: %s",
				      g_strerror((int)-n));
		if (n == 0)
			return broken(c, -ECONNRESET, e,
				      "the server closed the connection%s",
				      imap_parser_pending(c->parser)
					      ? " in the middle of a response"
					      : "");
		c->rpos = 0;
		c->rend = (size_t)n;
	}
}

bool imapc_conn_alive(struct imapc_conn *c)
{
	while (!c->broken && c->s && (c->rpos < c->rend ||
				      stream_pending(c->s))) {
		struct imap_line *l = NULL;
		struct mfs_error e = { 0 };
		/* a line already begun must end soon; nothing more waits */
		int rc = read_line(c, 200, true, &l, &e);
		if (rc < 0)
			break;
		imap_line_free(&l);
	}
	return !c->broken;
}

/* ---- writing ---- */

static int send_raw(struct imapc_conn *c, const char *buf, size_t len,
		    bool secret, struct mfs_error *e)
{
	int rc;

	if (secret)
		trace(c, "C:", "<secret>", 8);
	else
		trace(c, "C:", buf, len);
	rc = stream_write(c->s, buf, len, c->timeout_ms);
	if (rc < 0)
		return broken(c, rc, e, "writing: %s", g_strerror(-rc));
	return 0;
}

static int send_fd(struct imapc_conn *c, int fd, uint64_t size,
		   struct mfs_error *e)
{
	char buf[65536];
	uint64_t off = 0;

	trace(c, "C:", "<literal>", 9);
	while (off < size) {
		ssize_t n = pread(fd, buf, (size_t)MIN(sizeof(buf), size - off),
				  (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* the content shrank under us: the server still
			 * expects the announced bytes; the stream is lost */
			return broken(c, n < 0 ? -errno : -EIO, e,
				      "reading the content to send");
		}
		int rc = stream_write(c->s, buf, (size_t)n, c->timeout_ms);
		if (rc < 0)
			return broken(c, rc, e, "writing: %s", g_strerror(-rc));
		off += (uint64_t)n;
	}
	return 0;
}

/* Wait for a "+" after a synchronising literal or IDLE; a completion of
 * `tag` instead (the server refused) is returned in *done_r. */
static int wait_continuation(struct imapc_conn *c, const char *tag,
			     imapc_untagged_fn cb, void *data,
			     struct imap_line **done_r, struct mfs_error *e)
{
	for (;;) {
		struct imap_line *l = NULL;
		int rc = read_line(c, c->timeout_ms, false, &l, e);
		if (rc < 0)
			return rc;
		struct imap_arg *a0 = imap_line_arg(l, 0);
		if (imap_arg_is(a0, "+")) {
			imap_line_free(&l);
			return 0;
		}
		if (imap_arg_is(a0, "*")) {
			if (cb)
				cb(l, data);
			imap_line_free(&l);
			continue;
		}
		if (a0 && a0->str && !strcmp(a0->str, tag)) {
			*done_r = l;
			return 1;
		}
		g_hash_table_replace(c->done, g_strdup(a0 && a0->str ? a0->str
								     : "?"),
				     l);
	}
}

int imapc_conn_send(struct imapc_conn *c, struct imapc_cmd *cmd, char **tag_r,
		   struct mfs_error *e)
{
	bool nonsync_ok = imapc_conn_cap(c, "LITERAL+");
	bool small_nonsync = imapc_conn_cap(c, "LITERAL-");
	char *tag = g_strdup_printf("A%u", ++c->tagn);
	GString *out = g_string_new(tag);
	int rc = 0;

	if (c->broken) {
		rc = mfs_error_set(e, -ECONNRESET, MFS_ERR_ACCOUNT,
				   MFS_ERR_TRANSIENT, "%s: connection lost",
				   c->name);
		goto out;
	}
	for (guint i = 0; i < cmd->parts->len && rc == 0; i++) {
		struct part *pt = cmd->parts->pdata[i];
		g_string_append_c(out, ' ');
		if (pt->kind == PART_TEXT) {
			if (pt->secret && out->len > 1) {
				/* flush what may be shown first */
				rc = send_raw(c, out->str, out->len - 1, false,
					      e);
				g_string_assign(out, " ");
				if (rc < 0)
					break;
			}
			g_string_append_len(out, pt->data, (gssize)pt->len);
			if (pt->secret) {
				rc = send_raw(c, out->str, out->len, true, e);
				g_string_truncate(out, 0);
			}
			continue;
		}
		bool sync = !(nonsync_ok || (small_nonsync && pt->size <= 4096));
		g_string_append_printf(out, "{%" G_GUINT64_FORMAT "%s}\r\n",
				       pt->size, sync ? "" : "+");
		rc = send_raw(c, out->str, out->len, pt->secret, e);
		g_string_truncate(out, 0);
		if (rc < 0)
			break;
		if (sync) {
			struct imap_line *done = NULL;
			rc = wait_continuation(c, tag, NULL, NULL, &done, e);
			if (rc == 1) {
				/* refused before the literal: report it */
				rc = imapc_status_to_errno(done, e);
				imap_line_free(&done);
				if (rc == 0)
					rc = mfs_error_set(e, -EPROTO,
							   MFS_ERR_ACCOUNT,
							   MFS_ERR_FINAL,
							   "%s: command ended "
							   "early", c->name);
				goto out;
			}
			if (rc < 0)
				break;
		}
		if (pt->kind == PART_LITERAL)
			rc = send_raw(c, pt->data, pt->len, pt->secret, e);
		else
			rc = send_fd(c, pt->fd, pt->size, e);
	}
	if (rc == 0) {
		g_string_append(out, "\r\n");
		rc = send_raw(c, out->str, out->len, false, e);
	}
out:
	g_string_free(out, TRUE);
	imapc_cmd_free(&cmd);
	if (rc == 0)
		*tag_r = tag;
	else
		g_free(tag);
	return rc;
}

int imapc_conn_wait(struct imapc_conn *c, const char *tag, imapc_untagged_fn cb,
		   void *data, struct imap_line **done_r, struct mfs_error *e)
{
	struct imap_line *done = NULL;
	int cbrc = 0, rc;

	if (!g_hash_table_steal_extended(c->done, tag, NULL, (gpointer *)&done)) {
		for (;;) {
			struct imap_line *l = NULL;
			rc = read_line(c, c->timeout_ms, false, &l, e);
			if (rc < 0)
				return rc;
			struct imap_arg *a0 = imap_line_arg(l, 0);
			if (imap_arg_is(a0, "*")) {
				if (cb && cbrc == 0)
					cbrc = cb(l, data);
				imap_line_free(&l);
				continue;
			}
			if (imap_arg_is(a0, "+")) {
				imap_line_free(&l);
				continue;	/* nothing of ours waits for it */
			}
			if (!strcmp(a0->str, tag)) {
				done = l;
				caps_from_code(c, done);
				break;
			}
			g_hash_table_replace(c->done, g_strdup(a0->str), l);
		}
	}
	rc = imapc_status_to_errno(done, e);
	if (rc == 0 && cbrc < 0)
		rc = cbrc;
	if (done_r && rc == 0)
		*done_r = done;
	else
		imap_line_free(&done);
	return rc;
}

int imapc_conn_run(struct imapc_conn *c, struct imapc_cmd *cmd,
		  imapc_untagged_fn cb, void *data, struct imap_line **done_r,
		  struct mfs_error *e)
{
	g_autofree char *tag = NULL;
	int rc = imapc_conn_send(c, cmd, &tag, e);

	if (rc < 0)
		return rc;
	return imapc_conn_wait(c, tag, cb, data, done_r, e);
}

/* ---- IDLE ---- */

int imapc_conn_idle_start(struct imapc_conn *c, struct mfs_error *e)
{
	char *tag = NULL;
	struct imap_line *done = NULL;
	int rc = imapc_conn_send(c, imapc_cmd_new("IDLE"), &tag, e);

	if (rc < 0)
		return rc;
	rc = wait_continuation(c, tag, NULL, NULL, &done, e);
	if (rc == 1) {
		rc = imapc_status_to_errno(done, e);
		imap_line_free(&done);
		rc = rc < 0 ? rc : mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
						 MFS_ERR_FINAL,
						 "%s: IDLE ended at once",
						 c->name);
	}
	if (rc < 0) {
		g_free(tag);
		return rc;
	}
	c->idle_tag = tag;
	return 0;
}

int imapc_conn_idle_wait(struct imapc_conn *c, int ms, imapc_untagged_fn cb,
			void *data, struct mfs_error *e)
{
	struct imap_line *l = NULL;
	int rc = read_line(c, ms, true, &l, e);

	if (rc == -ETIMEDOUT)
		return 0;
	if (rc < 0)
		return rc;
	if (imap_arg_is(imap_line_arg(l, 0), "*") && cb)
		cb(l, data);
	imap_line_free(&l);
	return 1;
}

int imapc_conn_idle_done(struct imapc_conn *c, imapc_untagged_fn cb, void *data,
			struct mfs_error *e)
{
	g_autofree char *tag = g_steal_pointer(&c->idle_tag);
	int rc;

	if (!tag)
		return 0;
	rc = send_raw(c, "DONE\r\n", 6, false, e);
	if (rc == 0)
		rc = imapc_conn_wait(c, tag, cb, data, NULL, e);
	return rc;
}

/* ---- opening ---- */

static void line_free_cb(gpointer p)
{
	struct imap_line *l = p;

	imap_line_free(&l);
}

bool imapc_conn_cap(const struct imapc_conn *c, const char *cap)
{
	return g_hash_table_contains(c->caps, cap);
}

bool imapc_conn_broken(const struct imapc_conn *c)
{
	return c->broken;
}

char imapc_conn_delimiter(const struct imapc_conn *c)
{
	return c->delim;
}

const char *imapc_conn_selected(const struct imapc_conn *c)
{
	return c->selected;
}

void imapc_conn_set_selected(struct imapc_conn *c, const char *mailbox,
			    uint64_t uidvalidity)
{
	g_free(c->selected);
	c->selected = g_strdup(mailbox);
	c->uidvalidity = uidvalidity;
}

uint64_t imapc_conn_uidvalidity(const struct imapc_conn *c)
{
	return c->uidvalidity;
}

void imapc_conn_close(struct imapc_conn **cp)
{
	struct imapc_conn *c = *cp;

	if (!c)
		return;
	if (c->s && !c->broken) {
		struct mfs_error e;
		c->timeout_ms = MIN(c->timeout_ms, 2000);
		c->logging_out = true;
		imapc_conn_run(c, imapc_cmd_new("LOGOUT"), NULL, NULL, NULL, &e);
	}
	stream_close(&c->s);
	imap_parser_free(&c->parser);
	g_hash_table_unref(c->caps);
	g_hash_table_unref(c->done);
	g_free(c->selected);
	g_free(c->idle_tag);
	g_free(c->prefix);
	g_free(c->name);
	g_free(c);
	*cp = NULL;
}

static int refresh_caps(struct imapc_conn *c, struct mfs_error *e)
{
	return imapc_conn_run(c, imapc_cmd_new("CAPABILITY"), NULL, NULL, NULL,
			     e);
}

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
		g_clear_pointer(out_r, g_free);
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
		imapc_cmd_add(cmd, "%s", b64);
	}
	rc = imapc_conn_send(c, cmd, &tag, e);
	if (rc == 0 && !ir) {
		rc = wait_continuation(c, tag, NULL, NULL, &done, e);
		if (rc == 0) {
			GString *line = g_string_new(b64);
			g_string_append(line, "\r\n");
			rc = send_raw(c, line->str, line->len, true, e);
			memset(line->str, 0, line->len);
			g_string_free(line, TRUE);
		}
	}
	while (rc == 0 && !done) {
		struct imap_line *l = NULL;
		if ((rc = read_line(c, c->timeout_ms, false, &l, e)) < 0)
			break;
		struct imap_arg *a0 = imap_line_arg(l, 0);
		if (imap_arg_is(a0, "+")) {
			struct imap_arg *t = imap_line_arg(l, 1);
			g_autofree guchar *why = NULL;
			gsize wlen = 0;
			if (t && t->str && *t->str)
				why = g_base64_decode(t->str, &wlen);
			log_debug(LOG_PROTO, "%s: %s refused: %.*s", c->name,
				  mech, (int)MIN(wlen, 200),
				  why ? (const char *)why : "");
			rc = send_raw(c, "\r\n", 2, false, e);
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
	memset(b64, 0, strlen(b64));
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

/* RFC 7628 OAUTHBEARER or Google's XOAUTH2 with `token`. */
static int bearer_login(struct imapc_conn *c, const struct imapc_cfg *cfg,
			const char *mech, const char *token,
			struct mfs_error *e)
{
	g_autofree char *resp = !g_ascii_strcasecmp(mech, "OAUTHBEARER")
		? g_strdup_printf("n,a=%s,\001host=%s\001port=%s\001"
				  "auth=Bearer %s\001\001", cfg->user,
				  cfg->host ? cfg->host : "localhost",
				  cfg->port ? cfg->port : "143", token)
		: g_strdup_printf("user=%s\001auth=Bearer %s\001\001",
				  cfg->user, token);
	int rc = authenticate(c, mech, resp, strlen(resp), e);

	explicit_bzero(resp, strlen(resp));
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
	explicit_bzero(token, strlen(token));
	if (fresh)
		explicit_bzero(fresh, strlen(fresh));
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

static void say_caps(struct imapc_conn *c, const struct imapc_cfg *cfg,
		     const char *when, const char *before)
{
	g_autofree char *now = cfg->check ? caps_line(c) : NULL;

	if (now && g_strcmp0(now, before))
		mfs_check_say(cfg->check, "caps", true, NULL, "%s%s", when,
			      now);
}

int imapc_conn_open(const struct imapc_cfg *cfg, struct imapc_conn **c_r,
		   struct mfs_error *e)
{
	struct imapc_conn *c = g_new0(struct imapc_conn, 1);
	struct imap_line *greeting = NULL;
	g_autofree char *why = NULL;
	bool preauth = false;
	int rc;

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
	if (rc < 0) {
		mfs_error_set(e, rc, MFS_ERR_ACCOUNT,
			      rc == -EPERM ? MFS_ERR_FINAL : MFS_ERR_BACKOFF,
			      "%s: %s", c->name, why);
		goto fail;
	}
	rc = read_line(c, c->timeout_ms, false, &greeting, e);
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
		goto fail;
	}
	struct imap_arg *g0 = imap_line_arg(greeting, 0);
	struct imap_arg *g1 = imap_line_arg(greeting, 1);
	if (!imap_arg_is(g0, "*") || !(imap_arg_is(g1, "OK") ||
				       imap_arg_is(g1, "PREAUTH"))) {
		struct imap_arg *t = imap_line_arg(greeting, greeting->args->len - 1);
		rc = mfs_error_set(e, -ECONNREFUSED, MFS_ERR_ACCOUNT,
				   MFS_ERR_BACKOFF, "%s: the server refused "
				   "the connection: %s", c->name,
				   t && t->str ? t->str : "");
		mfs_check_say(cfg->check, "greeting", false, "check host = "
			      "and port = (is it an IMAP server?)", "%s",
			      e ? e->msg : "refused");
		imap_line_free(&greeting);
		goto fail;
	}
	preauth = imap_arg_is(g1, "PREAUTH");
	if (cfg->check) {
		struct imap_arg *t = imap_line_arg(greeting,
						   greeting->args->len - 1);
		mfs_check_say(cfg->check, "greeting", true, NULL, "* %s %s",
			      g1->str, t && t->type == IMAP_ARG_TEXT ? t->str
								     : "");
	}
	imap_line_free(&greeting);
	if (g_hash_table_size(c->caps) == 0 && (rc = refresh_caps(c, e)) < 0)
		goto fail;
	if (cfg->tunnel || cfg->tls != CONFIG_TLS_STARTTLS)
		say_caps(c, cfg, "", NULL);
	if (!cfg->tunnel && cfg->tls == CONFIG_TLS_STARTTLS) {
		if (!imapc_conn_cap(c, "STARTTLS")) {
			/* never fall back to plain text */
			rc = mfs_error_set(e, -EPROTONOSUPPORT, MFS_ERR_ACCOUNT,
					   MFS_ERR_FINAL, "%s: the server does "
					   "not offer STARTTLS", c->name);
			mfs_check_say(cfg->check, "tls", false, "use tls = "
				      "implicit (port 993) if the server has "
				      "it", "%s", e ? e->msg : "no STARTTLS");
			goto fail;
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
			rc = broken(c, -EPROTO, e, "data after STARTTLS");
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
			goto fail;
		say_caps(c, cfg, "", NULL);
	}
	if (!preauth) {
		/* login() chooses by what the server offers before login; what
		 * it offers after comes with the OK or by asking */
		unsigned gen = c->caps_gen;
		const char *mech = NULL, *why_mech = NULL;
		g_autofree char *before = cfg->check ? caps_line(c) : NULL;
		rc = login(c, cfg, &mech, &why_mech, e);
		say_login(c, cfg, rc, mech, why_mech, e);
		if (rc < 0)
			goto fail;
		if (c->caps_gen == gen && (rc = refresh_caps(c, e)) < 0)
			goto fail;
		say_caps(c, cfg, "after login: ", before);
	} else {
		mfs_check_say(cfg->check, "auth", true, NULL, "PREAUTH: the "
			      "server logged the session in by itself");
	}
	if (imapc_conn_cap(c, "QRESYNC") || imapc_conn_cap(c, "CONDSTORE")) {
		rc = imapc_conn_run(c, imapc_cmd_new("ENABLE %s",
						   imapc_conn_cap(c, "QRESYNC")
						   ? "QRESYNC" : "CONDSTORE"),
				   NULL, NULL, NULL, e);
		if (rc < 0)
			goto fail;
	}
	rc = imapc_conn_run(c, imapc_cmd_new("LIST \"\" \"\""), find_delimiter, c,
			   NULL, e);
	if (rc == 0 && imapc_conn_cap(c, "NAMESPACE"))
		rc = imapc_conn_run(c, imapc_cmd_new("NAMESPACE"), find_namespace,
				   c, NULL, e);
	if (rc < 0)
		goto fail;
	*c_r = c;
	return 0;
fail:
	c->broken = true;
	imapc_conn_close(&c);
	return rc < 0 ? rc : -EIO;
}
