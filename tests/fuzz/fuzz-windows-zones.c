/*
 * fuzz-windows-zones.c - the Windows zone table
 * (protocols/wire/windows-zones.h) asked for arbitrary ids: an answer is
 * always the IANA name of an entry whose id matches.
 */
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "wire/windows-zones.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an id comes out of an XML attribute: NUL-terminated */
	char *id = g_strndup((const char *)data, size);
	const char *iana = ews_windows_zone_iana(id), *entry = NULL, *win;
	bool found = false;

	for (size_t i = 0; (win = ews_windows_zone_nth(i, &entry)); i++)
		if (!g_ascii_strcasecmp(win, id)) {
			if (!iana || strcmp(iana, entry) != 0)
				__builtin_trap();
			found = true;
			break;
		}
	if (iana && !found)
		__builtin_trap();
	g_free(id);
	return 0;
}
