/*
 * fuzz-smtp-envelope.c - a message file's header read for its submission
 * (protocols/wire/smtp-envelope.c) on arbitrary bytes, and the line-end
 * conversion of its body.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/smtp-envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_envelope env;
	char *why = NULL;

	if (smtp_envelope_parse((const char *)data, size, true, &env,
				&why) == 0) {
		/* what goes on the wire: addresses that cannot break a
		 * command, a header ending in CRLF, a body inside the file */
		for (guint i = 0; i < env.rcpts->len; i++) {
			const char *a = env.rcpts->pdata[i];
			if (strpbrk(a, "\r\n <>"))
				__builtin_trap();
		}
		if (strpbrk(env.sender, "\r\n <>") ||
		    (size_t)env.body_at > size || env.head->len < 2 ||
		    memcmp(env.head->data + env.head->len - 2, "\r\n", 2))
			__builtin_trap();
		smtp_envelope_clear(&env);
	} else if (!why) {
		__builtin_trap();
	}
	g_free(why);

	char *out = g_malloc(2 * size + 1);
	bool cr = false;
	size_t n = smtp_crlf((const char *)data, size, out, &cr);
	if (n > 2 * size)
		__builtin_trap();
	g_free(out);
	return 0;
}
