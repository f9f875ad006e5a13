/*
 * fuzz-ews-props.c - the texts of the EWS flag mapping
 * (protocols/wire/ews-props.h) on arbitrary bytes: a PropertyTag, an
 * IsRead, a FlagStatus, and what any value of a flag property means.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/ews-props.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the texts come out of XML: NUL-terminated, no NUL inside */
	char *text = g_strndup((const char *)data, size);
	unsigned tag = 0;
	bool on;
	long v = 0;

	if (ews_prop_tag_parse(text, &tag) == 0 && tag > 0xFFFF)
		__builtin_trap();
	(void)ews_bool_parse(text, &on);
	(void)ews_flag_status_parse(text, &on);
	for (size_t i = 0; i < size && i < sizeof(v); i++)
		v = (long)(((unsigned long)v << 8) | data[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(ews_flag_props); i++) {
		unsigned t = ews_flag_props[i];
		/* a value never stands for a flag its property cannot */
		if (ews_prop_flags(t, v) & ~ews_prop_mask(t))
			__builtin_trap();
	}
	if (ews_prop_flags(tag, v) & ~ews_prop_mask(tag))
		__builtin_trap();
	g_free(text);
	return 0;
}
