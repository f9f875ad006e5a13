/*
 * imap-parse.h - a resumable, bounded parser of IMAP lines, shared by the client
 * (server responses) and the embedded server (client commands).
 *
 * Follows the formal syntax of RFC 3501 section 9 and RFC 9051 section 9:
 * atoms, numbers, quoted strings, literals ({n}, {n+} of RFC 7888, ~{n} of
 * RFC 3516), NIL, parenthesised lists, and the resp-text of status responses
 * ("* OK [CODE args] free text"), which is not tokenised beyond its code.
 *
 * Bytes go in as they arrive; the parser answers "need more" until a whole
 * line with all its literals is there, so it never blocks and never reads
 * past what it was given.  Every size is bounded by `struct imap_limits`: a
 * peer that announces a huge literal, sends an endless line, literal after
 * literal or lists nested without end gets an error, and memory, disk and
 * open files stay bounded by the limits.
 *
 * Ownership: a parsed line belongs to the caller once taken
 * (imap_parser_take), freed with imap_line_free.  Arguments inside it are
 * borrowed from the line.
 */
#ifndef MFS_IMAP_PARSE_H
#define MFS_IMAP_PARSE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* also numbers, flags, BODY[...]<...> */
	IMAP_ARG_STRING,	/* a quoted string, unescaped */
	IMAP_ARG_LITERAL,	/* may hold any byte, NUL included */
	IMAP_ARG_NIL,
	IMAP_ARG_LIST,		/* ( ... ) */
	IMAP_ARG_CODE,		/* [ ... ] of a status response: a list */
	IMAP_ARG_TEXT,		/* the free text ending a status response */
};

struct imap_arg {
	enum imap_arg_type type;
	char *str;		/* owned; NUL-terminated; NULL for lists, NIL
				   and a literal kept in a file */
	size_t len;		/* bytes in str, or in the file */
	GPtrArray *list;	/* owned; of struct imap_arg *; LIST, CODE */
	int fd;			/* owned; a literal kept in a file (see
				   imap_parser_set_spill), else -1 */
};

/*
 * One whole line.  For a response: args[0] is the tag ("*", "+" or the
 * command's tag); a status response (OK, NO, BAD, PREAUTH, BYE) continues
 * with the status atom, an optional CODE and the TEXT; "+" continues with
 * TEXT.  For a command: the tag, the command name and its arguments.
 */
struct imap_line {
	GPtrArray *args;	/* owned; of struct imap_arg * */
	size_t bytes;		/* how many bytes of input it took */
};

enum imap_parse_mode {
	IMAP_PARSE_RESPONSES,	/* what a client reads */
	IMAP_PARSE_COMMANDS,	/* what a server reads */
};

struct imap_limits {
	size_t max_line;	/* one line segment between literals */
	uint64_t max_literal;	/* one literal */
	uint64_t max_total;	/* the whole line, every literal included,
				   those kept in files too */
	unsigned max_depth;	/* nesting of lists */
	unsigned max_literals;	/* literals in one line */
	unsigned max_spills;	/* literals of one line kept in files, each
				   an open descriptor until the line is
				   freed; 0 keeps none in files */
};

/* Limits that fit the client: 64 KiB lines, bodies up to 1 GiB, a line of
 * 1 GiB and 64 MiB at most, 256 literals and 8 files in it. */
extern const struct imap_limits imap_client_limits;

enum imap_parse_status {
	IMAP_PARSE_ERROR = -1,		/* see imap_parser_error() */
	IMAP_PARSE_NEED_MORE = 0,	/* feed more bytes */
	IMAP_PARSE_LINE = 1,		/* a line is ready: imap_parser_take() */
	IMAP_PARSE_CONTINUE = 2,	/* commands: a synchronising literal
					   was announced; answer "+" and feed
					   on */
};

struct imap_parser;		/* opaque */

/* Caller owns the result (imap_parser_free).  `limits` is copied. */
struct imap_parser *imap_parser_new(enum imap_parse_mode mode,
				    const struct imap_limits *limits);
void imap_parser_free(struct imap_parser **p);

/*
 * Take in up to `len` bytes; *used_r says how many were consumed.  Bytes
 * after a complete line are not consumed: feed them again after taking the
 * line.  After IMAP_PARSE_ERROR the stream cannot be resynchronised and the
 * parser refuses more input until imap_parser_reset().
 */
enum imap_parse_status imap_parser_feed(struct imap_parser *p,
					const char *buf, size_t len,
					size_t *used_r);

/*
 * Keep literals larger than `threshold` bytes in unnamed files in `dir`
 * rather than in memory (a message body of hundreds of megabytes, or a
 * server that announces one).  Such an argument has str NULL and a readable
 * fd at offset 0; it is not a string to imap_arg_string().  `dir` is copied.
 */
void imap_parser_set_spill(struct imap_parser *p, size_t threshold,
			   const char *dir);

/* The line after IMAP_PARSE_LINE.  Caller owns it. */
struct imap_line *imap_parser_take(struct imap_parser *p);

/* Why the last feed failed.  Borrowed; valid until the next call. */
const char *imap_parser_error(const struct imap_parser *p);

/*
 * After IMAP_PARSE_ERROR: true when the line was refused at the
 * announcement of a literal that breaks a limit (max_literal,
 * max_literals, max_total, max_spills) rather than for its syntax, before
 * any byte of the literal was taken; the announcement itself was consumed
 * (*used_r counts it).  *sync_r: a command's synchronising literal, which
 * the sender holds back until "+", so that after imap_parser_reset() the
 * next byte begins a new line; otherwise the literal's bytes follow and
 * the stream is out of step.  *tag_r: the line's tag when it has one that
 * may be echoed, else NULL (borrowed; valid until the next call).
 */
bool imap_parser_refused(const struct imap_parser *p, bool *sync_r,
			 const char **tag_r);

/* Bytes of the line being gathered so far (for progress of big literals). */
size_t imap_parser_pending(const struct imap_parser *p);

void imap_parser_reset(struct imap_parser *p);

/*
 * Parse a whole, already complete line (it must hold its literals).
 * Returns 0, or -EINVAL with a reason in *why_r (caller owns).  Caller owns
 * *line_r.
 */
int imap_parse_line(enum imap_parse_mode mode, const struct imap_limits *lim,
		    const char *buf, size_t len, struct imap_line **line_r,
		    char **why_r);

void imap_line_free(struct imap_line **line);

/* Helpers over arguments; `a` may be NULL (then they answer false/NULL). */
struct imap_arg *imap_line_arg(const struct imap_line *l, guint i);
bool imap_arg_is(const struct imap_arg *a, const char *atom);
bool imap_arg_is_string(const struct imap_arg *a);
const char *imap_arg_string(const struct imap_arg *a);
bool imap_arg_number(const struct imap_arg *a, uint64_t *n_r);
GPtrArray *imap_arg_list(const struct imap_arg *a);

#endif
