/*
 * ids.c - a UIDL (RFC 1939 section 7: 1 to 70 characters 0x21..0x7E) as
 * the unique part of a Maildir name, and a Date: header (RFC 5322 section
 * 3.3, with the obsolete forms of section 4.3) as seconds.
 *
 * A UIDL may hold '/' (not in a file name), ':' (it would end the unique
 * part before ":2,") and may begin with '.' (a dot-file is never a
 * message); '%' is the escape itself.  Those are written "%XX" with upper
 * case hex, everything else is kept, so the mapping is reversible and
 * most UIDLs (Dovecot's hex, qpopper's, Exchange's) read unchanged.
 */
#include "pop3c-private.h"

#include <errno.h>
#include <string.h>

bool pop3c_uidl_valid(const char *s, size_t len)
{
	if (len < 1 || len > 70)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7e)
			return false;
	}
	return true;
}

static bool must_escape(const char *s, size_t i)
{
	return s[i] == '%' || s[i] == '/' || s[i] == ':' ||
	       (i == 0 && s[i] == '.');
}

char *pop3c_id_from_uidl(const char *uidl)
{
	GString *out = g_string_sized_new(strlen(uidl) + 8);

	for (size_t i = 0; uidl[i]; i++) {
		if (must_escape(uidl, i))
			g_string_append_printf(out, "%%%02X",
					       (unsigned char)uidl[i]);
		else
			g_string_append_c(out, uidl[i]);
	}
	return g_string_free(out, FALSE);
}

int pop3c_uidl_from_id(const char *id, char **uidl_r)
{
	GString *out = g_string_sized_new(strlen(id));
	char *again = NULL;

	for (size_t i = 0; id[i]; i++) {
		if (id[i] != '%') {
			g_string_append_c(out, id[i]);
			continue;
		}
		int hi = g_ascii_xdigit_value(id[i + 1]);
		int lo = hi >= 0 ? g_ascii_xdigit_value(id[i + 2]) : -1;
		if (lo < 0 || g_ascii_islower(id[i + 1]) ||
		    g_ascii_islower(id[i + 2]))
			goto bad;
		g_string_append_c(out, (char)(hi * 16 + lo));
		i += 2;
	}
	/* only the canonical spelling: the escapes must be exactly those
	 * pop3c_id_from_uidl writes */
	again = pop3c_id_from_uidl(out->str);
	if (strcmp(again, id) || !pop3c_uidl_valid(out->str, out->len))
		goto bad;
	g_free(again);
	*uidl_r = g_string_free(out, FALSE);
	return 0;
bad:
	g_free(again);
	g_string_free(out, TRUE);
	return -EINVAL;
}

/* Skip white space and (nested) comments, RFC 5322 CFWS. */
static const char *skip_cfws(const char *s)
{
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s != '(')
			return s;
		int depth = 0;
		for (; *s; s++) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '(')
				depth++;
			else if (*s == ')' && --depth == 0) {
				s++;
				break;
			}
		}
	}
}

static bool number(const char **sp, int min_digits, int max_digits, int *v)
{
	const char *s = *sp;
	int n = 0, d = 0;

	while (g_ascii_isdigit(*s) && d < max_digits) {
		n = n * 10 + (*s++ - '0');
		d++;
	}
	if (d < min_digits)
		return false;
	*v = n;
	*sp = s;
	return true;
}

/* The zone as seconds east of UTC; the obsolete names of RFC 5322 4.3. */
static int zone_offset(const char *s)
{
	static const struct { const char *name; int hours; } names[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};
	int v;

	if ((s[0] == '+' || s[0] == '-') && g_ascii_isdigit(s[1])) {
		const char *p = s + 1;
		if (!number(&p, 4, 4, &v) || v % 100 > 59)
			return 0;
		int off = (v / 100) * 3600 + (v % 100) * 60;
		return s[0] == '-' ? -off : off;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		size_t n = strlen(names[i].name);
		if (!g_ascii_strncasecmp(s, names[i].name, n) &&
		    !g_ascii_isalpha(s[n]))
			return names[i].hours * 3600;
	}
	return 0;
}

int64_t pop3c_parse_date(const char *s)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
		"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int day, mon, year, hh, mm, ss = 0;

	s = skip_cfws(s);
	if (g_ascii_isalpha(*s)) {	/* day-of-week */
		while (g_ascii_isalpha(*s))
			s++;
		s = skip_cfws(s);
		if (*s++ != ',')
			return 0;
		s = skip_cfws(s);
	}
	if (!number(&s, 1, 2, &day))
		return 0;
	s = skip_cfws(s);
	for (mon = 0; mon < 12; mon++) {
		if (!g_ascii_strncasecmp(s, months[mon], 3))
			break;
	}
	if (mon == 12)
		return 0;
	s = skip_cfws(s + 3);
	const char *y0 = s;
	if (!number(&s, 2, 4, &year))
		return 0;
	/* RFC 5322 4.3: two digits are 1950-2049, three add 1900 */
	if (s - y0 == 2)
		year += year < 50 ? 2000 : 1900;
	else if (s - y0 == 3)
		year += 1900;
	s = skip_cfws(s);
	if (!number(&s, 1, 2, &hh))
		return 0;
	s = skip_cfws(s);
	if (*s++ != ':')
		return 0;
	s = skip_cfws(s);
	if (!number(&s, 2, 2, &mm))
		return 0;
	s = skip_cfws(s);
	if (*s == ':') {
		s = skip_cfws(s + 1);
		if (!number(&s, 2, 2, &ss))
			return 0;
	}
	s = skip_cfws(s);
	GDateTime *dt = g_date_time_new_utc(year, mon + 1, day, hh, mm,
					    ss > 59 ? 59 : ss);
	if (!dt)
		return 0;
	int64_t t = g_date_time_to_unix(dt) - zone_offset(s);
	g_date_time_unref(dt);
	return t > 0 ? t : 0;
}
