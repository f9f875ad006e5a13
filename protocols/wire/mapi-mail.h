/*
 * mapi-mail.h - a MAPI message (mapi-prop.h) as an Internet message and
 * back: MS-OXCMAIL (the mapping of properties to RFC 5322 and MIME
 * fields), RFC 5322, RFC 2045-2047, RFC 2183, RFC 2231, RFC 2387.
 *
 * Rendering is deterministic: the same properties give the same bytes,
 * whenever and however often they are rendered, because the mount shows a
 * message as a file whose size must be known and whose content must not
 * change while the message does not.  Boundaries and a generated
 * Message-ID derive from a digest of what is rendered; a generated Date
 * from the message's own times.  Lines end in CRLF.
 *
 * Parsing is bounded: MIME nesting, the number of parts, recipients and
 * the depth of attached messages have limits below; what lies beyond them
 * is left out of the message, not an error.
 *
 * docs/MAPI.md ("Mail: properties and MIME") has the mapping table.
 */
#ifndef MFS_MAPI_MAIL_H
#define MFS_MAPI_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mapi-prop.h"

/* Multiparts and attached messages within one another, counted together
 * (parsing). */
#define MAPI_MAIL_MAX_DEPTH	20
/* Attached messages within one another (both directions). */
#define MAPI_MAIL_MAX_EMBED	8
/* MIME parts read from one message, all levels together. */
#define MAPI_MAIL_MAX_PARTS	1000
/* Recipients read from To, Cc and Bcc together. */
#define MAPI_MAIL_MAX_RECIPS	2000
/* RTF of an RTF-only message, and the text taken from it (rendering). */
#define MAPI_MAIL_MAX_RTF	(32u << 20)

/*
 * The Internet message of `m`, appended to `out`.  With
 * PidTagTransportMessageHeaders the received header block is the basis:
 * its fields are kept in their order except those the properties render
 * (see docs/MAPI.md).  An attached message deeper than MAPI_MAIL_MAX_EMBED
 * is left out.  Returns 0 or -EINVAL (`m` NULL).
 */
int mapi_mail_render(const struct mapi_message *m, GByteArray *out);

/*
 * The MAPI message of the Internet message `buf`: envelope properties,
 * recipients from To, Cc and Bcc, PidTagBody (UTF-8), PidTagHtml (the
 * bytes of the HTML part in its charset, which PidTagInternetCodepage
 * names), attachments by value and attached messages (AttachMethod 5),
 * PidTagTransportMessageHeaders (the header block as received),
 * PidTagMessageClass "IPM.Note", PidTagMessageSize (`len`).
 * PidTagMessageFlags holds only MSGFLAG_HASATTACH: the read state is the
 * caller's.  Returns 0 with *m_r set (caller owns it, mapi_message_free),
 * or -EINVAL when `buf` holds no header field at all.
 */
int mapi_mail_parse(const void *buf, size_t len, struct mapi_message **m_r);

/* The MIME charset name of a Windows code page, or NULL when this table
 * does not know it.  Borrowed; static. */
const char *mapi_mail_cp_charset(uint32_t codepage);

/* The code page of a MIME charset name (any case), or 0 when unknown. */
uint32_t mapi_mail_charset_cp(const char *charset);

/* The MIME type a file name's extension stands for, used for an
 * attachment without PidTagAttachMimeTag (MS-OXCMAIL 2.1.3.4.1); NULL
 * when this table does not know it.  Borrowed; static. */
const char *mapi_mail_name_type(const char *name);

#endif
