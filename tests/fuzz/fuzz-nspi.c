/*
 * fuzz-nspi.c - the NSPI bodies of MAPI over HTTP (protocols/wire/nspi.h)
 * on arbitrary bytes.  The first byte picks the call (its low 5 bits,
 * modulo the number of calls) and the side (bit 7: a response); the rest
 * is the body.  What a reader accepts, its writer writes; that must read
 * again and write the same bytes a second time.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/nspi.h"
#include "nspi-roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GByteArray *once, *twice;
	rt_fn fn;

	if (size < 1)
		return 0;
	fn = data[0] & 0x80 ? ops[(data[0] & 0x1F) % NSPI_OP_COUNT].resp
			    : ops[(data[0] & 0x1F) % NSPI_OP_COUNT].req;
	once = g_byte_array_new();
	twice = g_byte_array_new();
	if (fn(data + 1, size - 1, once) == 0) {
		if (fn(once->data, once->len, twice) != 0)
			__builtin_trap();
		if (once->len != twice->len ||
		    memcmp(once->data, twice->data, once->len) != 0)
			__builtin_trap();
	}
	g_byte_array_unref(once);
	g_byte_array_unref(twice);
	return 0;
}
