/*
 * mime-entity.h - the parts of a message as IMAP names them (RFC 3501
 * sections 6.4.5 and 7.4.2): byte ranges of the message as stored, so that
 * every BODY[...] the server sends is the stored bytes exactly; and the
 * ENVELOPE and BODYSTRUCTURE built from them with GMime's parsers of
 * header values (content types, dispositions, addresses).
 *
 * Bounded: parts nest at most IMAP_MIME_MAX_DEPTH deep and a multipart is
 * split into at most IMAP_MIME_MAX_PARTS parts; what lies beyond is taken
 * as one opaque body.  Ownership: an entity borrows the message's bytes.
 */
#ifndef MFS_IMAP_SERVER_MIME_H
#define MFS_IMAP_SERVER_MIME_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define IMAP_MIME_MAX_DEPTH 20
#define IMAP_MIME_MAX_PARTS 1000

struct mime_entity {
	const char *start;	/* borrowed; the header's first byte */
	size_t len;		/* header and body */
	size_t header_len;	/* the header with its empty line */
	bool is_message;	/* a whole message (top or encapsulated),
				   not a body part */
	bool in_digest;		/* a part of multipart/digest */
};

/* GMime's one-time set-up; any thread, any number of times. */
void mime_init(void);

void mime_entity_init(struct mime_entity *e, const char *buf, size_t len,
		      bool is_message);

/* The first field `name`, unfolded and trimmed; NULL if absent.  Caller
 * owns the result. */
char *mime_entity_header(const struct mime_entity *e, const char *name);

/*
 * The part at `path` ("1.2.3", numbers only) of the message `top`.
 * Returns 0 or -ENOENT.  With `encapsulated` set and the part being a
 * message/rfc822, *part_r is the message inside it (for HEADER and TEXT).
 */
int mime_entity_part(const struct mime_entity *top, const char *path,
		     bool encapsulated, struct mime_entity *part_r);

/* Header lines whose field name is (or, with `not`, is not) in `names`,
 * then the empty line, appended to `out`. */
void mime_entity_header_fields(const struct mime_entity *e,
			       const char *const *names, bool not,
			       GString *out);

/* ENVELOPE and BODYSTRUCTURE (BODY without extension data when
 * `extended` is false) of a message, appended to `out`. */
void mime_entity_envelope(const struct mime_entity *msg, GString *out);
void mime_entity_bodystructure(const struct mime_entity *msg, bool extended,
			       GString *out);

/* An IMAP string of `s` (quoted, or a literal when it must be) or NIL. */
void mime_gstring_nstring(GString *out, const char *s, size_t len);

#endif
