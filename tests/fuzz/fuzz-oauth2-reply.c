/*
 * fuzz-oauth2-reply.c - the readers of OAuth 2.0 endpoint answers
 * (protocols/oauth2/reply.c: RFC 8628 3.2 device authorization, RFC 6749
 * 5.1 and 5.2 token answers) on arbitrary bytes.  The first byte chooses
 * the HTTP status the answer came with.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "oauth2/oauth2-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 400, 401, 428, 500, 302 };
	struct oauth2_device_answer d;
	struct oauth2_token_answer a;
	char *why = NULL;
	char *body;
	long status;

	if (size < 1)
		return 0;
	status = statuses[data[0] % G_N_ELEMENTS(statuses)];
	/* the answer as http.c hands it over: NUL-terminated */
	body = g_strndup((const char *)data + 1, size - 1);
	if (oauth2_parse_device(status, body, size - 1, &d, &why) == 0) {
		if (!d.device_code || !d.user_code || !d.verification_uri ||
		    d.interval <= 0)
			__builtin_trap();
		oauth2_device_answer_clear(&d);
	}
	g_clear_pointer(&why, g_free);
	if (oauth2_parse_token(status, body, size - 1, &a, &why) == 0) {
		char *text = oauth2_error_text(&a);
		if (a.error == OAUTH2_OK && !a.access_token)
			__builtin_trap();
		if (a.error_description && strpbrk(a.error_description,
						   "\r\n\033"))
			__builtin_trap();
		g_free(text);
		oauth2_token_answer_clear(&a);
	}
	g_free(why);
	g_free(body);
	return 0;
}
