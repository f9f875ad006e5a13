/*
 * fuzz-mapi-lz77.c - the LZ77 decompressor and the RPC_HEADER_EXT chain
 * reader of MAPI (protocols/wire/mapi-lz77.h) on arbitrary bytes: no
 * output past the room given, a chain's payloads within the limit; and
 * whatever the input, compressing it and decompressing that gives it back.
 */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mapi-http.h"
#include "wire/mapi-lz77.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROOM 4096
#define LIMIT 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = g_malloc(ROOM + 1);
	GByteArray *c = g_byte_array_new();
	GPtrArray *parts = NULL;
	size_t n = 0, total = 0;
	int rc;

	/* a guard byte past the room must stay untouched */
	out[ROOM] = 0x5A;
	rc = mapi_lz77_decompress(data, size, out, ROOM, &n);
	if (out[ROOM] != 0x5A || n > ROOM || (rc && n))
		__builtin_trap();
	if (rc && rc != -EBADMSG && rc != -EMSGSIZE)
		__builtin_trap();

	rc = mapi_rpcext_read_chain(data, size, LIMIT, &parts);
	if (!rc) {
		for (guint i = 0; i < parts->len; i++) {
			GByteArray *one = parts->pdata[i];
			struct mapi_aux_block blk;
			struct mapi_rd r;
			size_t seen = 0;
			int more;

			total += one->len;
			/* as an auxiliary payload: blocks within it */
			mapi_rd_init(&r, one->data, one->len);
			while ((more = mapi_aux_next(&r, &blk)) == 1)
				seen += MAPI_AUX_HEADER_SIZE + blk.data.len;
			if (seen > one->len || (more == 0 && seen != one->len))
				__builtin_trap();
		}
		if (total > LIMIT)
			__builtin_trap();
		g_ptr_array_unref(parts);
	} else if (parts) {
		__builtin_trap();
	}

	mapi_lz77_compress(data, size, c);
	if (size <= ROOM) {
		rc = mapi_lz77_decompress(c->data, c->len, out, ROOM, &n);
		if (rc || n != size || memcmp(out, data, size))
			__builtin_trap();
	}
	g_byte_array_unref(c);
	g_free(out);
	return 0;
}
