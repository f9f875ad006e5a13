/*
 * fuzz-mapi-mail.c - an Internet message of arbitrary bytes (a file
 * written into a folder of the mount, or a message the server delivers)
 * read into a MAPI message and written out again: the rendering must be
 * the same bytes twice and must itself read back as a message.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mapi-mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mapi_message *m = NULL, *again = NULL;
	GByteArray *a, *b;

	if (mapi_mail_parse(data, size, &m) != 0)
		return 0;
	a = g_byte_array_new();
	b = g_byte_array_new();
	if (mapi_mail_render(m, a) != 0 || mapi_mail_render(m, b) != 0 ||
	    a->len != b->len || memcmp(a->data, b->data, a->len))
		__builtin_trap();
	if (mapi_mail_parse(a->data, a->len, &again) != 0)
		__builtin_trap();
	mapi_message_free(again);
	mapi_message_free(m);
	g_byte_array_free(a, TRUE);
	g_byte_array_free(b, TRUE);
	return 0;
}
