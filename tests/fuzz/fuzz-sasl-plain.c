/*
 * fuzz-sasl-plain.c - what a server makes of a client's SASL PLAIN
 * response (RFC 4616) and of an AUTH LOGIN line (serve/auth.c), on
 * arbitrary bytes up to the first NUL, as a session hands them over.
 * Whatever is accepted must be free of NUL bytes and, encoded again with
 * common/sasl-plain.c, decode to the same user and password.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "sasl-plain.h"
#include "serve/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const char *user, const char *pass)
{
	size_t len = 0;
	char *resp = sasl_plain_new(user, pass, &len);
	char *b64, *u = NULL, *p = NULL;

	if (!resp)
		return;
	b64 = g_base64_encode((const guchar *)resp, len);
	if (serve_sasl_plain(b64, &u, &p) < 0 || strcmp(u, user) ||
	    strcmp(p, pass))
		__builtin_trap();
	g_free(b64);
	g_free(u);
	g_free(p);
	sasl_plain_free(resp, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = g_strndup((const char *)data, size);
	char *user = NULL, *pass = NULL, *text = NULL;

	if (serve_sasl_plain(line, &user, &pass) == 0) {
		if (!user || !pass)
			__builtin_trap();
		round_trip(user, pass);
		g_free(user);
		g_free(pass);
	} else if (user || pass) {
		__builtin_trap();
	}
	if (serve_base64_text(line, &text) == 0) {
		if (!text)
			__builtin_trap();
		g_free(text);
	}
	g_free(line);
	return 0;
}
