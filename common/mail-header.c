/*
 * mail-header.c - RFC 5322 section 2.2: header fields, folding (2.2.3), and
 * section 2.1: the empty line between header and body.
 */
#include "mail-header.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

void mail_header_iter_init(struct mail_header_iter *it, const char *buf,
			   size_t len)
{
	it->p = buf;
	it->end = buf + len;
	it->blank = false;
}

/* The byte after the line starting at p: past its LF, or the end. */
static const char *line_after(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

bool mail_header_next(struct mail_header_iter *it,
		      struct mail_header_field *f)
{
	const char *p = it->p, *end = it->end;

	if (p >= end)
		return false;
	/* the empty line: LF or CRLF alone (a lone CR is a line of junk) */
	if (p[0] == '\n' || (p[0] == '\r' && end - p > 1 && p[1] == '\n')) {
		it->p = p + (p[0] == '\n' ? 1 : 2);
		it->blank = true;
		return false;
	}
	f->start = p;
	/* a field runs on over lines that start with white space */
	do {
		p = line_after(p, end);
	} while (p < end && (*p == ' ' || *p == '\t'));
	f->len = (size_t)(p - f->start);
	it->p = p;

	const char *colon = memchr(f->start, ':', f->len);
	f->value = colon ? colon + 1 : NULL;
	f->value_len = colon ? (size_t)(p - f->value) : 0;
	f->name_len = colon ? (size_t)(colon - f->start) : 0;
	while (f->name_len && (f->start[f->name_len - 1] == ' ' ||
			       f->start[f->name_len - 1] == '\t'))
		f->name_len--;
	return true;
}

size_t mail_header_length(const char *buf, size_t len)
{
	struct mail_header_iter it;
	struct mail_header_field f;

	mail_header_iter_init(&it, buf, len);
	while (mail_header_next(&it, &f))
		;
	return (size_t)(it.p - buf);
}

bool mail_header_field_is(const struct mail_header_field *f,
			  const char *name)
{
	return f->value && strlen(name) == f->name_len &&
	       !g_ascii_strncasecmp(f->start, name, f->name_len);
}

char *mail_header_unfold(const char *v, size_t len, bool bare_cr)
{
	GString *s = g_string_sized_new(len);

	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\n')
			continue;
		if (v[i] == '\r' &&
		    (!bare_cr || i + 1 == len || v[i + 1] == '\n'))
			continue;
		g_string_append_c(s, v[i]);
	}
	return g_string_free(s, FALSE);
}

int mail_header_get(const char *buf, size_t len, const char *field,
		    char **value_r)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	size_t flen = strlen(field);

	mail_header_iter_init(&it, buf, len);
	while (mail_header_next(&it, &f)) {
		/* "Name:" exactly: no white space before the colon */
		if (!mail_header_field_is(&f, field) ||
		    f.value != f.start + flen + 1)
			continue;
		/* a CR inside a line has always been kept here */
		*value_r = g_strstrip(mail_header_unfold(f.value, f.value_len,
							 true));
		return 0;
	}
	return -ENOENT;
}
