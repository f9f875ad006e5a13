/*
 * smtp-reply.c - see reply.h.
 */
#include "smtp-reply.h"

#include <string.h>

#include "printable.h"

void smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->text = g_string_new(NULL);
	r->fail_text = g_string_new(NULL);
	r->line = g_string_new(NULL);
	r->cur = g_string_new(NULL);
}

void smtp_reply_clear(struct smtp_reply *r)
{
	g_string_free(r->text, TRUE);
	g_string_free(r->fail_text, TRUE);
	g_string_free(r->line, TRUE);
	g_string_free(r->cur, TRUE);
	memset(r, 0, sizeof(*r));
}

/* The printable form only (printable.h): a server's bytes end up in
 * status files, logs and on the terminal. */
static void append_text(GString *to, const char *s, size_t n)
{
	printable_append(to, s, (gssize)n, SMTP_REPLY_MAX);
}

static void line_done(struct smtp_reply *r)
{
	const char *l = r->line->str;
	size_t n = r->line->len;

	if (n && l[n - 1] == '\r')
		n--;
	/* "NNN" then ' ' (the last line), '-' (more follow) or nothing */
	if (n < 3 || !g_ascii_isdigit(l[0]) || !g_ascii_isdigit(l[1]) ||
	    !g_ascii_isdigit(l[2]) || l[0] < '2' || l[0] > '5' ||
	    (n > 3 && l[3] != ' ' && l[3] != '-')) {
		r->bad++;
		return;
	}
	int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	bool more = n > 3 && l[3] == '-';
	if (r->cur_code && r->cur_code != code) {
		/* a continuation with another code: a new reply */
		g_string_truncate(r->cur, 0);
	}
	r->cur_code = code;
	if (n > 4) {
		if (r->cur->len)
			append_text(r->cur, " ", 1);
		append_text(r->cur, l + 4, n - 4);
	}
	if (more)
		return;
	r->code = code;
	g_string_assign(r->text, r->cur->str);
	if (code >= 400) {
		r->fail_code = code;
		g_string_assign(r->fail_text, r->cur->str);
	}
	g_string_truncate(r->cur, 0);
	r->cur_code = 0;
	r->replies++;
}

void smtp_reply_feed(struct smtp_reply *r, const char *data, size_t len)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		size_t room = SMTP_REPLY_LINE_MAX - MIN(r->line->len,
							SMTP_REPLY_LINE_MAX);
		if (take > room)
			r->cut = true;
		g_string_append_len(r->line, data, (gssize)MIN(take, room));
		if (!nl)
			return;
		line_done(r);
		g_string_truncate(r->line, 0);
		r->cut = false;
		data += take + 1;
		len -= take + 1;
	}
}
