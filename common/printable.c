/*
 * printable.c - text from a peer made safe to log and to show; see
 * printable.h for the form.
 */
#include "printable.h"

#include <string.h>

/* Characters that are valid UTF-8 and still change what a terminal or a
 * reader does rather than show a glyph. */
static bool is_control_char(gunichar u)
{
	return (u >= 0x80 && u <= 0x9f) || u == 0x2028 || u == 0x2029 ||
	       (u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069);
}

/* Append `n` bytes of `p`, each as "\xHH", if they fit under `max`. */
static bool escape_bytes(GString *out, const char *p, size_t n, size_t max)
{
	static const char hex[] = "0123456789abcdef";

	if (out->len + 4 * n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 0xf] };
		g_string_append_len(out, e, 4);
	}
	return true;
}

bool printable_append(GString *out, const char *s, gssize len, size_t max)
{
	size_t n = len < 0 ? strlen(s) : (size_t)len;
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			size_t run = i;
			/* the plain ASCII run in one append */
			while (run < n && (unsigned char)s[run] >= 0x20 &&
			       (unsigned char)s[run] < 0x7f)
				run++;
			if (run > i) {
				size_t room = max > out->len ? max - out->len
							     : 0;
				size_t take = MIN(run - i, room);
				g_string_append_len(out, s + i, (gssize)take);
				if (take < run - i)
					return false;
				i = run;
				continue;
			}
			if (!escape_bytes(out, s + i, 1, max))
				return false;
			i++;
			continue;
		}
		gunichar u = g_utf8_get_char_validated(s + i,
						       (gssize)MIN(n - i, 8));
		if (u == (gunichar)-1 || u == (gunichar)-2) {
			if (!escape_bytes(out, s + i, 1, max))
				return false;
			i++;
			continue;
		}
		size_t clen = (size_t)g_unichar_to_utf8(u, NULL);
		if (is_control_char(u)) {
			if (!escape_bytes(out, s + i, clen, max))
				return false;
		} else {
			if (out->len + clen > max)
				return false;
			g_string_append_len(out, s + i, (gssize)clen);
		}
		i += clen;
	}
	return true;
}

char *printable(const char *s, gssize len)
{
	GString *out;

	if (!s)
		return NULL;
	out = g_string_sized_new(len < 0 ? 64 : MIN((gsize)len + 8, 256));
	if (!printable_append(out, s, len, PRINTABLE_MAX))
		g_string_append(out, "...");
	return g_string_free(out, FALSE);
}

bool printable_is_plain(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}
