/*
 * mapi-mail-enc.c - see mapi-mail-enc.h.  RFC 2045 6.7 (quoted-printable),
 * 6.8 (base64), RFC 5322 2.1.1 (line length), RFC 2046 4.1.1 (CRLF).
 */
#include "mapi-mail-enc.h"

#include <string.h>

/* Hard line limit of RFC 5322 2.1.1. */
#define LINE_MAX_OCTETS 998

const char *const mapi_mail_cte_names[] = { "7bit", "8bit",
					    "quoted-printable", "base64" };

bool mapi_mail_is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((guchar)s[i] >= 0x80)
			return false;
	}
	return true;
}

/* Whether the bytes may go as they are in 7bit (or 8bit with `eight`):
 * CRLF line ends only, lines within the limit, no NUL, no boundary mark. */
bool mapi_mail_plain_ok(const guint8 *d, size_t len, bool eight)
{
	size_t col = 0;

	if (!len)
		return true;
	for (size_t i = 0; i < len; i++) {
		guint8 c = d[i];

		if (c == 0 || (!eight && c >= 0x80))
			return false;
		if (c == '\r') {
			if (i + 1 >= len || d[i + 1] != '\n')
				return false;
			i++;
			col = 0;
			continue;
		}
		if (c == '\n' || ++col > LINE_MAX_OCTETS)
			return false;
	}
	return !g_strstr_len((const char *)d, (gssize)len, MAPI_MAIL_BOUNDARY_MARK);
}

/* 7bit when it can be; a text mostly ASCII as quoted-printable; the rest
 * base64. */
enum mapi_mail_cte mapi_mail_choose_cte(const guint8 *d, size_t len, bool text)
{
	size_t odd = 0;

	if (mapi_mail_plain_ok(d, len, false))
		return MAPI_MAIL_CTE_7BIT;
	if (!text)
		return MAPI_MAIL_CTE_BASE64;
	for (size_t i = 0; i < len; i++) {
		if (d[i] >= 0x80 || (d[i] < 0x20 && d[i] != '\r' &&
				     d[i] != '\n' && d[i] != '\t'))
			odd++;
	}
	return odd * 6 > len ? MAPI_MAIL_CTE_BASE64 : MAPI_MAIL_CTE_QP;
}

/* Quoted-printable (RFC 2045 6.7): CRLF pairs are line breaks, a bare CR
 * or LF is encoded, so the bytes come back exactly. */
static void put_qp(GString *out, const guint8 *d, size_t len)
{
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		guint8 c = d[i];
		bool eol = i + 1 >= len || (d[i + 1] == '\r' && i + 2 < len &&
					    d[i + 2] == '\n');
		char tok[4];
		size_t n;

		if (c == '\r' && i + 1 < len && d[i + 1] == '\n') {
			g_string_append(out, "\r\n");
			col = 0;
			i++;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !eol)) {
			tok[0] = (char)c;
			n = 1;
		} else {
			tok[0] = '=';
			tok[1] = "0123456789ABCDEF"[c >> 4];
			tok[2] = "0123456789ABCDEF"[c & 15];
			n = 3;
		}
		if (col + n > 75) {
			g_string_append(out, "=\r\n");
			col = 0;
		}
		g_string_append_len(out, tok, (gssize)n);
		col += n;
	}
}

/* Base64 in lines of 76 (RFC 2045 6.8). */
static void put_base64(GString *out, const guint8 *d, size_t len)
{
	for (size_t i = 0; i < len; i += 57) {
		g_autofree char *b = g_base64_encode(d + i, MIN(57, len - i));

		g_string_append(out, b);
		g_string_append(out, "\r\n");
	}
}

void mapi_mail_put_encoded(GString *out, enum mapi_mail_cte cte, const guint8 *d,
			size_t len)
{
	switch (cte) {
	case MAPI_MAIL_CTE_QP:
		put_qp(out, d, len);
		break;
	case MAPI_MAIL_CTE_BASE64:
		put_base64(out, d, len);
		break;
	default:
		g_string_append_len(out, (const char *)d, (gssize)len);
	}
}

/* Text with every line end made CRLF (the canonical form of text types,
 * RFC 2046 4.1.1).  Caller owns the result. */
GByteArray *mapi_mail_crlf_text(const guint8 *d, size_t len)
{
	GByteArray *b = g_byte_array_sized_new((guint)len);

	for (size_t i = 0; i < len; i++) {
		if (d[i] == '\r' && i + 1 < len && d[i + 1] == '\n') {
			g_byte_array_append(b, (const guint8 *)"\r\n", 2);
			i++;
		} else if (d[i] == '\r' || d[i] == '\n') {
			g_byte_array_append(b, (const guint8 *)"\r\n", 2);
		} else {
			g_byte_array_append(b, d + i, 1);
		}
	}
	return b;
}

