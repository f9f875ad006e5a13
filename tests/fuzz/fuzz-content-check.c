/*
 * fuzz-content-check.c - the vCard and iCalendar checks on arbitrary bytes.
 */
#include <glib.h>
#include <stdint.h>

#include "content-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *why = NULL;

	if (content_check_vcard((const char *)data, size, &why) < 0)
		g_assert_nonnull(why);
	g_free(why);
	why = NULL;
	if (content_check_icalendar((const char *)data, size, &why) < 0)
		g_assert_nonnull(why);
	g_free(why);
	return 0;
}
