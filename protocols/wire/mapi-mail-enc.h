/*
 * mapi-mail-enc.h - the transfer encodings of mapi-mail-render.c (RFC 2045
 * 6.7 and 6.8), chosen from the bytes alone so that the same content is
 * always written the same way.  Internal to the mapi-mail files.
 */
#ifndef MFS_MAPI_MAIL_ENC_H
#define MFS_MAPI_MAIL_ENC_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

/* What every boundary of a rendering starts with; a body holding it is
 * never sent as it stands. */
#define MAPI_MAIL_BOUNDARY_MARK "=_mfs"

enum mapi_mail_cte {
	MAPI_MAIL_CTE_7BIT,
	MAPI_MAIL_CTE_8BIT,
	MAPI_MAIL_CTE_QP,
	MAPI_MAIL_CTE_BASE64,
};

/* The Content-Transfer-Encoding names, by enum mapi_mail_cte. */
extern const char *const mapi_mail_cte_names[];

bool mapi_mail_is_ascii(const char *s, size_t len);

/* Whether the bytes may go as they are in 7bit (or 8bit with `eight`):
 * CRLF line ends only, lines within 998 octets, no NUL, no boundary
 * mark. */
bool mapi_mail_plain_ok(const guint8 *d, size_t len, bool eight);

/* 7bit when it can be; a text (`text`) mostly ASCII as quoted-printable;
 * the rest base64. */
enum mapi_mail_cte mapi_mail_choose_cte(const guint8 *d, size_t len,
					bool text);

/* The bytes in `cte`, appended to `out`; quoted-printable keeps a bare CR
 * or LF as an escape, so the bytes come back exactly. */
void mapi_mail_put_encoded(GString *out, enum mapi_mail_cte cte,
			   const guint8 *d, size_t len);

/* Text with every line end made CRLF (the canonical form of text types,
 * RFC 2046 4.1.1).  Caller owns the result. */
GByteArray *mapi_mail_crlf_text(const guint8 *d, size_t len);

#endif
