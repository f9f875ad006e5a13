/*
 * fuzz-pop3-cmd.c - the POP3 command parser on arbitrary bytes, each line
 * of the input on its own, as the server hands it over.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/pop3-cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct pop3_cmd cmd;
		const char *why = NULL;

		if (pop3_cmd_parse(p, len, &cmd, &why) == 0) {
			volatile size_t n = 0;
			for (unsigned i = 0; i < cmd.nargs; i++)
				n += strlen(cmd.args[i]);
			(void)n;
			pop3_cmd_clear(&cmd);
		} else if (!why) {
			__builtin_trap();
		}
		p += len + (nl != NULL);
	}
	return 0;
}
