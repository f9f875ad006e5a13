/*
 * fuzz-ntlm.c - what the server makes of a client's NTLM message
 * (wire/ntlm.c): the type, a NEGOTIATE's flags and the CHALLENGE built on
 * them, an AUTHENTICATE's fields and the NTLMv2 check of its response.
 * Whatever parses must hold names that are UTF-8 and a response inside
 * the message.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/ntlm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[NTLM_HASH_LEN] = { 1 };
	static const uint8_t ch[NTLM_CHALLENGE_LEN] = { 2 };
	struct ntlm_authenticate a;
	uint32_t flags;

	(void)ntlm_message_type(data, size);
	if (ntlm_parse_negotiate(data, size, &flags) == 0) {
		GByteArray *c = ntlm_build_challenge(flags, ch, "MAILFS", 1);
		if (ntlm_message_type(c->data, c->len) != 2)
			__builtin_trap();
		g_byte_array_unref(c);
	}
	if (ntlm_parse_authenticate(data, size, &a) == 0) {
		if (!g_utf8_validate(a.user, -1, NULL) ||
		    !g_utf8_validate(a.domain, -1, NULL) ||
		    !g_utf8_validate(a.workstation, -1, NULL) ||
		    a.nt_len > size)
			__builtin_trap();
		(void)ntlm_v2_verify(key, ch, a.nt, a.nt_len);
		ntlm_authenticate_clear(&a);
	} else if (a.user || a.nt) {
		__builtin_trap();
	}
	return 0;
}
