/*
 * smtp-reply.h - SMTP replies as a server sends them (RFC 5321 section 4.2):
 * "250-first line", "250 last line"; the last complete reply is kept, its
 * code and its text, so that a refusal can be shown to the user in the
 * server's words.  Resumable: fed any chunks, in order.  Bounded: a line
 * is cut at SMTP_REPLY_LINE_MAX bytes, a reply's text at SMTP_REPLY_MAX.
 *
 * May call GLib only.
 */
#ifndef MFS_SMTP_REPLY_H
#define MFS_SMTP_REPLY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define SMTP_REPLY_LINE_MAX 1000
#define SMTP_REPLY_MAX 2000

struct smtp_reply {
	int code;		/* of the last complete reply, 0 before one */
	GString *text;		/* owned; its lines' texts, joined by " " */
	int fail_code;		/* the same of the last reply of 400 or
				   more (a QUIT's answer may follow it) */
	GString *fail_text;	/* owned */
	unsigned replies;	/* complete replies so far */
	unsigned bad;		/* lines that were not reply lines */
	/* the reply being read */
	GString *line;		/* owned; the line so far */
	bool cut;		/* the line went past the limit */
	int cur_code;
	GString *cur;		/* owned */
};

void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_clear(struct smtp_reply *r);
void smtp_reply_feed(struct smtp_reply *r, const char *data, size_t len);

#endif
