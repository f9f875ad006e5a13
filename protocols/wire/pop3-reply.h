/*
 * pop3-reply.h - POP3 replies as a client reads them: the status line ("+OK
 * text", "-ERR [CODE] text", or a SASL "+ challenge") and, after "+OK" to a
 * command that has one, the multi-line body with its byte-stuffing undone.
 * RFC 1939 section 3, RFC 2449 section 8 (extended response codes), RFC 3206
 * (IN-USE, LOGIN-DELAY, SYS/TEMP, SYS/PERM, AUTH), RFC 5034 section 4
 * (continuations).
 *
 * Resumable and bounded: pop3_reply_feed() takes whatever bytes arrived and
 * answers "need more" until the reply is whole; no line may exceed the
 * limit given to pop3_reply_begin(), nor the body its limit.  No I/O.
 *
 * Ownership: a parser owns the reply it holds; the getters return borrowed
 * pointers, valid until the next pop3_reply_begin() or pop3_reply_free().
 * A parser is used by one thread at a time.
 */
#ifndef MFS_POP3_REPLY_H
#define MFS_POP3_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


enum pop3_status {
	POP3_ST_NONE = 0,	/* no status line yet */
	POP3_ST_OK,
	POP3_ST_ERR,
	POP3_ST_CONT,		/* "+ " (a SASL challenge) */
};

enum pop3_feed {
	POP3_FEED_MORE = 0,	/* every byte taken; the reply goes on */
	POP3_FEED_DONE,		/* the reply is whole */
	POP3_FEED_ERROR,	/* the bytes broke a rule: pop3_reply_error() */
};

/* Longest status or listing line accepted by default (RFC 2449 allows 512
 * octets for responses; servers are seen to exceed that a little). */
#define POP3_REPLY_LINE_MAX 4096

struct pop3_reply;	/* opaque */

/* Caller owns the result (pop3_reply_free). */
struct pop3_reply *pop3_reply_new(void);
void pop3_reply_free(struct pop3_reply **r);

/*
 * Expect the next reply.  `multi`: "+OK" opens a body ended by a line
 * holding only "." (CAPA, LIST, UIDL, RETR, TOP).  `max_line`: most bytes in
 * one line, its line end included.  `max_body`: most bytes of body, after
 * unstuffing.
 */
void pop3_reply_begin(struct pop3_reply *r, bool multi, size_t max_line,
		      uint64_t max_body);

/*
 * Take bytes of `buf`; *used_r says how many (what follows a whole reply is
 * left for the next).  After POP3_FEED_ERROR the stream cannot be trusted
 * any more and the parser only answers ERROR until the next begin.
 */
enum pop3_feed pop3_reply_feed(struct pop3_reply *r, const char *buf,
			       size_t len, size_t *used_r);

/* Whether some of a reply was read but not all of it. */
bool pop3_reply_partial(const struct pop3_reply *r);
/* Whether a body was begun (and not ended). */
bool pop3_reply_in_body(const struct pop3_reply *r);

enum pop3_status pop3_reply_status(const struct pop3_reply *r);
/* The status line after "+OK"/"-ERR"/"+" and its code, without the line
 * end; control characters are shown as '?'.  Never NULL. */
const char *pop3_reply_text(const struct pop3_reply *r);
/* The extended response code ("IN-USE", "SYS/TEMP"), or NULL. */
const char *pop3_reply_code(const struct pop3_reply *r);
/* The body (line ends as sent), *len_r its size; "" when none. */
const char *pop3_reply_body(const struct pop3_reply *r, size_t *len_r);
/* The body, taken out of the parser.  Caller owns the result (g_free). */
char *pop3_reply_steal_body(struct pop3_reply *r, size_t *len_r);
/* Why the last feed answered ERROR; never NULL. */
const char *pop3_reply_error(const struct pop3_reply *r);


#endif
