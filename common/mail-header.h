/*
 * mail-header.h - read the header block of an RFC 5322 message: its fields
 * one by one (section 2.2), their folding (2.2.3), the empty line that ends
 * the block (2.1).  The one reading of a header block in mailfs: the cache,
 * the file system, the clients and the servers' MIME and SMTP codecs all
 * come here.
 *
 * May not call anything of ours outside common/.  Bounded: looks only at the
 * `len` bytes it is given, allocates nothing while it walks, and each field
 * costs one pass over its own bytes.  Line ends may be LF or CRLF.
 */
#ifndef MFS_MAIL_HEADER_H
#define MFS_MAIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One field as it stands in the message: its first line and the lines that
 * continue it (those starting with space or tab).  Pointers are borrowed
 * from the buffer given to mail_header_iter_init().
 */
struct mail_header_field {
	const char *start;	/* the first byte of the field's first line */
	size_t len;		/* all its lines, line ends included */
	size_t name_len;	/* what precedes the first colon, less the
				   spaces and tabs before the colon; 0 when
				   there is no colon */
	const char *value;	/* after the first colon, folded as it
				   stands, to the field's end; NULL when the
				   field has no colon (not a field: junk) */
	size_t value_len;
};

struct mail_header_iter {
	const char *p;		/* borrowed; the next line */
	const char *end;	/* borrowed; the end of the buffer */
	bool blank;		/* the block ended at an empty line */
};

void mail_header_iter_init(struct mail_header_iter *it, const char *buf,
			   size_t len);

/*
 * The next field in *f.  Returns false at the empty line ending the block
 * (it->blank is then set, and it->p points past it: the body's first byte)
 * or at the end of the buffer (it->p is the end).  A block that starts with
 * white space yields that line and its continuations as one field whose
 * start is white space; lines with no colon are fields with a NULL value.
 */
bool mail_header_next(struct mail_header_iter *it,
		      struct mail_header_field *f);

/* The length of the header block at the start of `buf`, its empty line
 * included; `len` when it has none. */
size_t mail_header_length(const char *buf, size_t len);

/* Whether the field's name is `name` (case-insensitive). */
bool mail_header_field_is(const struct mail_header_field *f,
			  const char *name);

/*
 * `len` bytes of a folded value without its line ends: every CR and LF
 * goes (a field body holds neither outside a line end, RFC 5322 2.2), the
 * white space that followed them stays.  With `bare_cr` a CR that does not
 * end a line is kept instead.  Not trimmed.  Caller owns the result.
 */
char *mail_header_unfold(const char *v, size_t len, bool bare_cr);

/*
 * The unfolded, trimmed value of the first `field` (case-insensitive, the
 * colon right after the name, no colon in `field`) in the header block at
 * the start of `buf`.  Returns 0, or -ENOENT when the field is absent
 * before the blank line ending the header (or before `len`).  Caller owns
 * *value_r.
 */
int mail_header_get(const char *buf, size_t len, const char *field,
		    char **value_r);

#endif
