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

void secret_string_free(GString *s)
{
	if (!s)
		return;
	explicit_bzero(s->str, s->allocated_len);
	g_string_free(s, TRUE);
}
