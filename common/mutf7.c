/*
 * mutf7.c - IMAP modified UTF-7 (RFC 3501 section 5.1.3, RFC 2152):
 *   - 0x20-0x25 and 0x27-0x7E represent themselves; "&-" is "&";
 *   - every other character is in a run "&" <modified BASE64 of UTF-16BE> "-";
 *   - a run ends explicitly with "-", and "-&" (a null shift) is not allowed,
 *     so two runs are never adjacent.
 */
#include "mutf7.h"

#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static gboolean is_direct(unsigned c)
{
	return c >= 0x20 && c <= 0x7E;
}

/* The value of one modified BASE64 character, -1 for anything else. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/*
 * Take one UTF-16 unit of a run.  *high holds a high surrogate waiting for
 * its partner.  A character that has a direct spelling (or is NUL, which a C
 * string cannot carry) is refused: accepting it would give one name two
 * spellings.
 */
static int take_unit(unsigned unit, unsigned *high, GString *out)
{
	gunichar cp;

	if (*high) {
		if (unit < 0xDC00 || unit > 0xDFFF)
			return -EINVAL;
		cp = 0x10000 + ((*high - 0xD800) << 10) + (unit - 0xDC00);
		*high = 0;
	} else if (unit >= 0xD800 && unit <= 0xDBFF) {
		*high = unit;
		return 0;
	} else if (unit >= 0xDC00 && unit <= 0xDFFF) {
		return -EINVAL;
	} else if (unit == 0 || is_direct(unit)) {
		return -EINVAL;
	} else {
		cp = unit;
	}
	g_string_append_unichar(out, cp);
	return 0;
}

/*
 * Decode the run that starts at **p (the character after "&") up to its
 * "-"; on success *p points past the "-".
 */
static int decode_run(const char **p, GString *out)
{
	const unsigned char *s = (const unsigned char *)*p;
	uint32_t bits = 0;	/* fewer than 22 pending bits */
	unsigned nbits = 0, high = 0;
	size_t units = 0;

	for (; *s != '-'; s++) {
		/* -1 also for the NUL of a run that is never closed */
		int v = b64_value(*s);

		if (v < 0)
			return -EINVAL;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits >= 16) {
			nbits -= 16;
			int rc = take_unit((bits >> nbits) & 0xFFFF, &high,
					   out);
			if (rc < 0)
				return rc;
			bits &= (UINT32_C(1) << nbits) - 1;
			units++;
		}
	}
	/*
	 * The shortest spelling pads the last unit with zero bits to a whole
	 * character: six or more bits left is a surplus character.
	 */
	if (units == 0 || nbits >= 6 || bits != 0 || high != 0)
		return -EINVAL;
	*p = (const char *)s + 1;
	return 0;
}

int mutf7_decode(const char *in, char **out_r)
{
	GString *out = g_string_sized_new(strlen(in) + 1);
	gboolean after_run = FALSE;
	const char *p = in;

	while (*p) {
		unsigned char c = (unsigned char)*p;

		if (c == '&' && p[1] == '-') {
			g_string_append_c(out, '&');
			p += 2;
			after_run = FALSE;
		} else if (c == '&') {
			p++;
			if (after_run || decode_run(&p, out) < 0)
				goto bad;
			after_run = TRUE;
		} else if (is_direct(c)) {
			g_string_append_c(out, (char)c);
			p++;
			after_run = FALSE;
		} else {
			goto bad;
		}
	}
	*out_r = g_string_free(out, FALSE);
	return 0;
bad:
	g_string_free(out, TRUE);
	return -EINVAL;
}

struct b64_writer {
	GString *out;
	uint32_t bits;		/* under 6 pending bits between units */
	unsigned nbits;
};

static void put_unit(struct b64_writer *w, unsigned unit)
{
	w->bits = (w->bits << 16) | unit;
	w->nbits += 16;
	while (w->nbits >= 6) {
		w->nbits -= 6;
		g_string_append_c(w->out,
				  b64_chars[(w->bits >> w->nbits) & 63]);
	}
	w->bits &= (UINT32_C(1) << w->nbits) - 1;
}

int mutf7_encode(const char *in, char **out_r)
{
	GString *out;
	const char *p = in;

	if (!g_utf8_validate(in, -1, NULL))
		return -EINVAL;
	out = g_string_sized_new(strlen(in) + 1);
	while (*p) {
		unsigned char c = (unsigned char)*p;

		if (c == '&') {
			g_string_append(out, "&-");
			p++;
			continue;
		}
		if (is_direct(c)) {
			g_string_append_c(out, (char)c);
			p++;
			continue;
		}
		/* one run for all characters up to the next direct one */
		struct b64_writer w = { .out = out };
		g_string_append_c(out, '&');
		while (*p && !is_direct((unsigned char)*p)) {
			gunichar cp = g_utf8_get_char(p);

			p = g_utf8_next_char(p);
			if (cp >= 0x10000) {
				cp -= 0x10000;
				put_unit(&w, 0xD800 + (cp >> 10));
				put_unit(&w, 0xDC00 + (cp & 0x3FF));
			} else {
				put_unit(&w, cp);
			}
		}
		/* the last unit's remaining bits, padded with zero bits */
		if (w.nbits > 0) {
			unsigned last = (w.bits << (6 - w.nbits)) & 63;
			g_string_append_c(out, b64_chars[last]);
		}
		g_string_append_c(out, '-');
	}
	*out_r = g_string_free(out, FALSE);
	return 0;
}
