/*
 * mail-header.c - RFC 5322 section 2.2: header fields, folding (2.2.3).
 */
#include "mail-header.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

/* Length of the line starting at p, without its LF or CRLF; *next_r after it. */
static size_t line_at(const char *p, const char *end, const char **next_r)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *stop = nl ? nl : end;
	size_t n = (size_t)(stop - p);

	if (n > 0 && p[n - 1] == '\r')
		n--;
	*next_r = nl ? nl + 1 : end;
	return n;
}

int mail_header_get(const char *buf, size_t len, const char *field,
		    char **value_r)
{
	const char *p = buf, *end = buf + len;
	size_t flen = strlen(field);

	while (p < end) {
		const char *next;
		size_t n = line_at(p, end, &next);

		if (n == 0)
			break;	/* the blank line: end of the header */
		if (n > flen && p[flen] == ':' &&
		    g_ascii_strncasecmp(p, field, flen) == 0) {
			GString *v = g_string_new_len(p + flen + 1,
						      (gssize)(n - flen - 1));
			/* continuation lines start with white space */
			while (next < end && (*next == ' ' || *next == '\t')) {
				const char *after;
				size_t m = line_at(next, end, &after);
				g_string_append_len(v, next, (gssize)m);
				next = after;
			}
			*value_r = g_strstrip(g_string_free(v, FALSE));
			return 0;
		}
		p = next;
	}
	return -ENOENT;
}
