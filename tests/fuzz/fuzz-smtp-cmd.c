/*
 * fuzz-smtp-cmd.c - the SMTP command parser on arbitrary bytes, each line
 * of the input on its own, as the receiver hands it over.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/smtp-cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct smtp_cmd cmd;
		const char *why = NULL;

		if (smtp_cmd_parse(p, len, &cmd, &why) == 0) {
			/* touch what came out so that ASan sees a bad length */
			volatile size_t n = strlen(cmd.arg);
			if (cmd.path)
				n += strlen(cmd.path);
			(void)n;
			smtp_cmd_clear(&cmd);
		} else if (!why) {
			__builtin_trap();
		}
		p += len + (nl != NULL);
	}
	return 0;
}
