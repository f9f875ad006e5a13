/*
 * pop3-reply.c - see reply.h.  RFC 1939 section 3 (byte-stuffing, the "."
 * terminator), RFC 2449 section 8, RFC 3206, RFC 5034 section 4.
 *
 * Lines are gathered into `line` until their LF; a status line is then
 * split, a body line unstuffed and added to `body`.  A bare LF ends a line
 * too (servers that store LF-only mail send it so), and the bytes of a
 * body line are kept as they came.
 */
#include "pop3-reply.h"

#include <errno.h>
#include <string.h>

#include <glib.h>

#include "printable.h"

enum phase { PH_IDLE, PH_STATUS, PH_BODY, PH_DONE, PH_ERROR };

struct pop3_reply {
	enum phase phase;
	bool multi;
	size_t max_line;
	uint64_t max_body;
	GString *line;			/* owned; the line being gathered */
	GString *body;			/* owned */
	enum pop3_status status;
	char *text;			/* owned */
	char *code;			/* owned; NULL when none */
	const char *why;		/* static */
};

struct pop3_reply *pop3_reply_new(void)
{
	struct pop3_reply *r = g_new0(struct pop3_reply, 1);

	r->line = g_string_new(NULL);
	r->body = g_string_new(NULL);
	r->text = g_strdup("");
	r->why = "no reply expected";
	return r;
}

void pop3_reply_free(struct pop3_reply **rp)
{
	struct pop3_reply *r = *rp;

	if (!r)
		return;
	g_string_free(r->line, TRUE);
	g_string_free(r->body, TRUE);
	g_free(r->text);
	g_free(r->code);
	g_free(r);
	*rp = NULL;
}

void pop3_reply_begin(struct pop3_reply *r, bool multi, size_t max_line,
		      uint64_t max_body)
{
	r->phase = PH_STATUS;
	r->multi = multi;
	r->max_line = max_line ? max_line : POP3_REPLY_LINE_MAX;
	r->max_body = max_body;
	g_string_truncate(r->line, 0);
	/* a large body's buffer is not kept for the next reply */
	if (r->body->allocated_len > 65536) {
		g_string_free(r->body, TRUE);
		r->body = g_string_new(NULL);
	}
	g_string_truncate(r->body, 0);
	r->status = POP3_ST_NONE;
	g_free(r->text);
	r->text = g_strdup("");
	g_clear_pointer(&r->code, g_free);
	r->why = "";
}

static enum pop3_feed fail(struct pop3_reply *r, const char *why)
{
	r->phase = PH_ERROR;
	r->why = why;
	return POP3_FEED_ERROR;
}

/* The printable form (printable.h) of a line's text, so that server text
 * is safe in logs and in .mailfs/errors; not cut, as a SASL challenge is
 * decoded from it (the line is bounded already). */
static char *shown(const char *s, size_t len)
{
	GString *out = g_string_sized_new(len);

	printable_append(out, s, (gssize)len, G_MAXSIZE);
	return g_string_free(out, FALSE);
}

/* "+OK", "-ERR" or "+" at the start, then an optional "[CODE]" (RFC 2449
 * section 8: a code is the first thing after the status and a space). */
static enum pop3_feed status_line(struct pop3_reply *r, const char *s,
				  size_t len)
{
	size_t skip;

	if (len >= 3 && !memcmp(s, "+OK", 3) && (len == 3 || s[3] == ' ')) {
		r->status = POP3_ST_OK;
		skip = 3;
	} else if (len >= 4 && !memcmp(s, "-ERR", 4) &&
		   (len == 4 || s[4] == ' ')) {
		r->status = POP3_ST_ERR;
		skip = 4;
	} else if (len >= 1 && s[0] == '+' && (len == 1 || s[1] == ' ')) {
		r->status = POP3_ST_CONT;
		skip = 1;
	} else {
		return fail(r, "a reply that is neither +OK nor -ERR");
	}
	if (skip < len)
		skip++;
	s += skip;
	len -= skip;
	if (r->status != POP3_ST_CONT && len > 2 && s[0] == '[') {
		const char *end = memchr(s, ']', len);
		if (end && end > s + 1) {
			g_free(r->code);
			r->code = shown(s + 1, (size_t)(end - s - 1));
			len -= (size_t)(end + 1 - s);
			s = end + 1;
			while (len && *s == ' ') {
				s++;
				len--;
			}
		}
	}
	g_free(r->text);
	r->text = shown(s, len);
	if (r->multi && r->status == POP3_ST_OK) {
		r->phase = PH_BODY;
		return POP3_FEED_MORE;
	}
	r->phase = PH_DONE;
	return POP3_FEED_DONE;
}

/* One whole line (its line end included) of the current phase. */
static enum pop3_feed whole_line(struct pop3_reply *r)
{
	const char *s = r->line->str;
	size_t len = r->line->len;

	if (r->phase == PH_STATUS) {
		size_t n = len - 1;
		if (n && s[n - 1] == '\r')
			n--;
		return status_line(r, s, n);
	}
	if ((len == 2 && s[0] == '.') || (len == 3 && !memcmp(s, ".\r\n", 3))) {
		r->phase = PH_DONE;
		return POP3_FEED_DONE;
	}
	if (s[0] == '.') {
		/* RFC 1939: a line of the content that began with "." was
		 * sent with one more in front */
		s++;
		len--;
	}
	if ((uint64_t)r->body->len + len > r->max_body)
		return fail(r, "a body longer than allowed");
	g_string_append_len(r->body, s, (gssize)len);
	return POP3_FEED_MORE;
}

enum pop3_feed pop3_reply_feed(struct pop3_reply *r, const char *buf,
			       size_t len, size_t *used_r)
{
	size_t pos = 0;
	enum pop3_feed st = POP3_FEED_MORE;

	*used_r = 0;
	if (r->phase == PH_ERROR)
		return POP3_FEED_ERROR;
	if (r->phase == PH_DONE)
		return POP3_FEED_DONE;
	if (r->phase == PH_IDLE)
		return fail(r, "bytes where no reply was expected");
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t take = nl ? (size_t)(nl - (buf + pos)) + 1 : len - pos;
		if (r->line->len + take > r->max_line) {
			*used_r = pos;
			return fail(r, "a line longer than allowed");
		}
		g_string_append_len(r->line, buf + pos, (gssize)take);
		pos += take;
		if (!nl)
			break;
		st = whole_line(r);
		g_string_truncate(r->line, 0);
		if (st != POP3_FEED_MORE)
			break;
	}
	*used_r = pos;
	return st;
}

bool pop3_reply_partial(const struct pop3_reply *r)
{
	return (r->phase == PH_STATUS && r->line->len) || r->phase == PH_BODY;
}

bool pop3_reply_in_body(const struct pop3_reply *r)
{
	return r->phase == PH_BODY;
}

enum pop3_status pop3_reply_status(const struct pop3_reply *r)
{
	return r->status;
}

const char *pop3_reply_text(const struct pop3_reply *r)
{
	return r->text;
}

const char *pop3_reply_code(const struct pop3_reply *r)
{
	return r->code;
}

const char *pop3_reply_body(const struct pop3_reply *r, size_t *len_r)
{
	*len_r = r->body->len;
	return r->body->str;
}

char *pop3_reply_steal_body(struct pop3_reply *r, size_t *len_r)
{
	*len_r = r->body->len;
	char *out = g_string_free(r->body, FALSE);
	r->body = g_string_new(NULL);
	return out;
}

const char *pop3_reply_error(const struct pop3_reply *r)
{
	return r->why;
}
