/*
 * conn.c - one IMAP connection's traffic: reading response lines, sending
 * commands with their literals, waiting for completions, IDLE, closing.
 * Opening is in open.c, logging in in auth.c.  See conn.h.
 *
 * RFC 3501 / RFC 9051 (IMAP), RFC 7888 (LITERAL+/LITERAL-), RFC 2177
 * (IDLE).
 */
#include "conn-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "printable.h"
#include "secret.h"
#include "stream.h"

/* ---- reading ---- */

int imapc_conn_fail(struct imapc_conn *c, int rc, struct mfs_error *e,
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
		g_autofree char *said = printable(text && text->str ? text->str
						  : "", -1);
		if (!c->logging_out)
			log_warnx("%s: the server closes the connection: %s",
				  c->name, said);
		c->broken = true;
	}
}

int imapc_conn_read_line(struct imapc_conn *c, int ms, bool soft,
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
				return imapc_conn_fail(c, -EPROTO, e,
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
			return imapc_conn_fail(c, (int)n, e, "reading: %s",
				      g_strerror((int)-n));
		if (n == 0)
			return imapc_conn_fail(c, -ECONNRESET, e,
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
		int rc = imapc_conn_read_line(c, 200, true, &l, &e);
		if (rc < 0)
			break;
		imap_line_free(&l);
	}
	return !c->broken;
}

/* ---- writing ---- */

int imapc_conn_send_raw(struct imapc_conn *c, const char *buf, size_t len,
			bool secret, struct mfs_error *e)
{
	int rc;

	if (secret)
		trace(c, "C:", "<secret>", 8);
	else
		trace(c, "C:", buf, len);
	rc = stream_write(c->s, buf, len, c->timeout_ms);
	if (rc < 0)
		return imapc_conn_fail(c, rc, e, "writing: %s",
				       g_strerror(-rc));
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
			return imapc_conn_fail(c, n < 0 ? -errno : -EIO, e,
				      "reading the content to send");
		}
		int rc = stream_write(c->s, buf, (size_t)n, c->timeout_ms);
		if (rc < 0)
			return imapc_conn_fail(c, rc, e, "writing: %s",
					       g_strerror(-rc));
		off += (uint64_t)n;
	}
	return 0;
}

/* Wait for a "+" after a synchronising literal or IDLE; a completion of
 * `tag` instead (the server refused) is returned in *done_r. */
int imapc_conn_wait_cont(struct imapc_conn *c, const char *tag,
			 imapc_untagged_fn cb, void *data,
			 struct imap_line **done_r, struct mfs_error *e)
{
	for (;;) {
		struct imap_line *l = NULL;
		int rc = imapc_conn_read_line(c, c->timeout_ms, false, &l, e);
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
				rc = imapc_conn_send_raw(c, out->str,
							 out->len - 1, false,
							 e);
				g_string_assign(out, " ");
				if (rc < 0)
					break;
			}
			g_string_append_len(out, pt->data, (gssize)pt->len);
			if (pt->secret) {
				rc = imapc_conn_send_raw(c, out->str,
							 out->len, true, e);
				secret_wipe(out->str, out->len);
				g_string_truncate(out, 0);
			}
			continue;
		}
		bool sync = !(nonsync_ok || (small_nonsync && pt->size <= 4096));
		g_string_append_printf(out, "{%" G_GUINT64_FORMAT "%s}\r\n",
				       pt->size, sync ? "" : "+");
		rc = imapc_conn_send_raw(c, out->str, out->len, pt->secret, e);
		g_string_truncate(out, 0);
		if (rc < 0)
			break;
		if (sync) {
			struct imap_line *done = NULL;
			rc = imapc_conn_wait_cont(c, tag, NULL, NULL, &done, e);
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
			rc = imapc_conn_send_raw(c, pt->data, pt->len,
						 pt->secret, e);
		else
			rc = send_fd(c, pt->fd, pt->size, e);
	}
	if (rc == 0) {
		g_string_append(out, "\r\n");
		rc = imapc_conn_send_raw(c, out->str, out->len, false, e);
	}
out:
	/* a LOGIN or AUTHENTICATE line passed through it */
	if (cmd->secret)
		secret_string_free(out);
	else
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
			rc = imapc_conn_read_line(c, c->timeout_ms, false, &l,
						  e);
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
	rc = imapc_conn_wait_cont(c, tag, NULL, NULL, &done, e);
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
	int rc = imapc_conn_read_line(c, ms, true, &l, e);

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
	rc = imapc_conn_send_raw(c, "DONE\r\n", 6, false, e);
	if (rc == 0)
		rc = imapc_conn_wait(c, tag, cb, data, NULL, e);
	return rc;
}

/* ---- the connection's state ---- */

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
