/*
 * fuzz-config-value.c - the accounts file as a user writes it: GLib's key
 * file reader, then common/config-value.c's reading of values (the
 * trailing comment, numbers, booleans, the tls key) on every key of every
 * group.  Nothing here runs a command or opens a file.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "config-value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_key(GKeyFile *kf, const char *group, const char *key)
{
	char *v = config_value(kf, group, key);
	unsigned n = 0;
	bool b = false;
	GError *err = NULL;

	if (v && (!*v || g_ascii_isspace(v[0]) ||
		  g_ascii_isspace(v[strlen(v) - 1])))
		__builtin_trap();
	g_free(v);
	if (config_uint(kf, group, key, 7, 1000, &n, &err) == 0) {
		if (n < 1 || n > 1000)
			__builtin_trap();
	} else if (!err) {
		__builtin_trap();
	}
	g_clear_error(&err);
	if (config_bool(kf, group, key, true, &b, &err) < 0 && !err)
		__builtin_trap();
	g_clear_error(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GKeyFile *kf = g_key_file_new();
	gchar **groups;
	enum config_tls tls;
	GError *err = NULL;

	if (!g_key_file_load_from_data(kf, (const char *)data, size,
				       G_KEY_FILE_NONE, NULL)) {
		g_key_file_free(kf);
		return 0;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (gchar **g = groups; *g; g++) {
		gchar **keys = g_key_file_get_keys(kf, *g, NULL, NULL);
		for (gchar **k = keys; k && *k; k++)
			one_key(kf, *g, *k);
		g_strfreev(keys);
		for (int piped = 0; piped < 2; piped++) {
			if (config_tls(kf, *g, piped, &tls, &err) < 0 && !err)
				__builtin_trap();
			g_clear_error(&err);
		}
	}
	g_strfreev(groups);
	g_key_file_free(kf);
	return 0;
}
