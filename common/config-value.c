/*
 * config-value.c - see config-value.h.
 */
#include "config-value.h"

char *config_value(GKeyFile *kf, const char *group, const char *key)
{
	char *v = kf && group ? g_key_file_get_string(kf, group, key, NULL)
			      : NULL;

	if (!v)
		return NULL;
	for (char *p = v; *p; p++) {
		if (*p == '#' && (p == v || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	if (!*g_strstrip(v))
		g_clear_pointer(&v, g_free);
	return v;
}
