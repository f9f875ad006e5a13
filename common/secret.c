/*
 * secret.c - see secret.h.
 */
#include "secret.h"

#include <string.h>

void secret_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}

void secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	g_free(s);
}

void secret_clear(char **s)
{
	secret_free(*s);
	*s = NULL;
}

GString *secret_string_append(GString *s, const char *p, size_t len)
{
	if (s->len + len >= s->allocated_len) {
		GString *bigger = g_string_sized_new(2 * (s->len + len) + 1);
		g_string_append_len(bigger, s->str, (gssize)s->len);
		secret_string_free(s);
		s = bigger;
	}
	g_string_append_len(s, p, (gssize)len);
	return s;
}

void secret_string_free(GString *s)
{
	if (!s)
		return;
	explicit_bzero(s->str, s->allocated_len);
	g_string_free(s, TRUE);
}
