/*
 * sasl-plain.c - see sasl-plain.h.
 */
#include "sasl-plain.h"

#include <glib.h>
#include <string.h>

char *sasl_plain_new(const char *user, const char *password, size_t *len_r)
{
	size_t ul = strlen(user), pl = strlen(password);
	char *resp = g_malloc(ul + pl + 2);

	resp[0] = '\0';
	memcpy(resp + 1, user, ul);
	resp[ul + 1] = '\0';
	memcpy(resp + ul + 2, password, pl);
	*len_r = ul + pl + 2;
	return resp;
}

void sasl_plain_free(char *resp, size_t len)
{
	if (!resp)
		return;
	explicit_bzero(resp, len);
	g_free(resp);
}
