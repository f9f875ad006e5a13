/*
 * fuzz-mapi-rtf.c - PidTagRtfCompressed and the RTF it holds
 * (protocols/wire/mapi-rtf.h) on arbitrary bytes: decompressed strictly
 * and leniently, what comes out de-encapsulated, the input itself read as
 * RTF, and a compression of the input that must come back unchanged.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mapi-rtf.h"

#define LIMIT (1U << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void extract(const void *p, size_t n)
{
	enum mapi_rtf_kind kind;
	char *text = NULL;
	size_t len = 0;

	if (mapi_rtf_extract(p, n, LIMIT, &kind, &text, &len) == 0) {
		if (len > LIMIT || strlen(text) > len ||
		    !g_utf8_validate(text, (gssize)len, NULL))
			__builtin_trap();
		g_free(text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GByteArray *out = NULL, *enc;

	for (unsigned flags = 0; flags <= MAPI_RTF_LENIENT; flags++) {
		if (mapi_rtf_decompress(data, size, LIMIT, flags, &out,
					NULL) == 0) {
			if (out->len > LIMIT)
				__builtin_trap();
			extract(out->data, out->len);
			g_byte_array_unref(out);
		}
	}
	extract(data, size);
	if (size <= 65536) {
		enc = g_byte_array_new();
		if (mapi_rtf_compress(data, size, size & 1, enc) != 0 ||
		    mapi_rtf_decompress(enc->data, enc->len, size, 0, &out,
					NULL) != 0)
			__builtin_trap();
		if (out->len != size || (size && memcmp(out->data, data, size)))
			__builtin_trap();
		g_byte_array_unref(out);
		g_byte_array_unref(enc);
	}
	return 0;
}
