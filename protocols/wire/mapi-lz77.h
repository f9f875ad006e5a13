/*
 * mapi-lz77.h - the extended buffers of MAPI's ROP and auxiliary payloads
 * (MS-OXCRPC 2.2.2.1 RPC_HEADER_EXT) and the two transformations their
 * flags announce: the LZ77 compression with DIRECT2 encoding of MS-OXCRPC
 * 3.1.4.1.1.2 (the "Plain LZ77" of MS-XCA 2.3/2.4, byte for byte) and the
 * XOR obfuscation of MS-OXCRPC 3.1.4.1.1.1 (every byte xor 0xA5).
 *
 * Both MAPI over HTTP peers need both directions: a client decompresses what
 * a server sends and may compress what it sends, a server the other way
 * round.  No I/O.
 *
 * Hostile input: the decompressor never writes past the room it is given,
 * and an extended buffer's announced SizeActual is checked against the
 * caller's limit before anything is allocated for it, so a payload that
 * expands without bound (a "zip bomb") costs nothing but an error.
 *
 * Ownership: byte arrays are the caller's; nothing here keeps a pointer.
 */
#ifndef MFS_MAPI_LZ77_H
#define MFS_MAPI_LZ77_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mapi-buf.h"

/*
 * Compress `len` bytes of `in` and append the compressed form to `out`.
 * Any input, the empty one included, gives a valid stream (at least the
 * 4-byte flag word); the result can be longer than the input for data
 * without repetitions.  Returns the number of bytes appended.
 */
size_t mapi_lz77_compress(const void *in, size_t len, GByteArray *out);

/*
 * Decompress `len` bytes of `in` into `out`, which has room for `cap`
 * bytes.  Returns 0 and the number of bytes produced in *out_len_r, or
 * -EMSGSIZE when the stream would produce more than `cap` bytes (nothing
 * past `cap` is written) and -EBADMSG for a stream that is malformed: a
 * match reaching before the start of the output, a field cut off by the
 * end of the input, a length encoding that cannot be.
 */
int mapi_lz77_decompress(const void *in, size_t len, uint8_t *out,
			 size_t cap, size_t *out_len_r);

/* Undo or apply the obfuscation of MS-OXCRPC 3.1.4.1.1.1, in place. */
void mapi_xor_magic(uint8_t *p, size_t len);

/* RPC_HEADER_EXT, MS-OXCRPC 2.2.2.1: 8 bytes before each payload. */
#define MAPI_RPCEXT_HEADER_SIZE		8
#define MAPI_RPCEXT_VERSION		0x0000
#define MAPI_RPCEXT_COMPRESSED		0x0001
#define MAPI_RPCEXT_XOR_MAGIC		0x0002
#define MAPI_RPCEXT_LAST		0x0004
/* Neither Size nor SizeActual can say more. */
#define MAPI_RPCEXT_MAX_PAYLOAD		0xFFFF

struct mapi_rpcext {
	uint16_t version;
	uint16_t flags;
	uint16_t size;		/* of the payload as sent */
	uint16_t size_actual;	/* of the payload once decompressed */
};

/*
 * Read one extended buffer (header and payload) from `r` and append its
 * plain payload (obfuscation undone, decompressed) to `out`, provided that
 * `out` then holds no more than `limit` bytes.  Fills *hdr_r when it is not
 * NULL.  Returns 0, -EBADMSG for a header or payload that does not hold
 * together (an unknown version or flag, a Size past the end, an
 * uncompressed payload whose sizes differ, a compressed one that does not
 * produce exactly SizeActual bytes) and -EMSGSIZE when the payload would
 * take `out` past `limit`.  On failure `out` is as it was and `r` has
 * failed too.
 */
int mapi_rpcext_read(struct mapi_rd *r, size_t limit, struct mapi_rpcext *hdr_r,
		     GByteArray *out);

/*
 * Read a whole chain, as an Execute's RopBuffer or an auxiliary buffer
 * holds it: extended buffers up to the one flagged Last, which must end
 * the `len` bytes exactly.  Each plain payload becomes one GByteArray of
 * the array returned in *payloads_r (the caller owns it and them); the sum
 * of their sizes is at most `limit`.  An empty input is an empty chain.
 * Returns 0 or the errors of mapi_rpcext_read(), and -EBADMSG for a chain
 * without its Last buffer or with bytes after it.
 */
int mapi_rpcext_read_chain(const void *in, size_t len, size_t limit,
			   GPtrArray **payloads_r);

/*
 * Append one extended buffer carrying `len` bytes of `payload` to `b`.
 * `flags` may ask for MAPI_RPCEXT_COMPRESSED (left out when compression
 * would not make the payload smaller, as MS-OXCRPC 3.1.4.1.1.2 wants),
 * MAPI_RPCEXT_XOR_MAGIC and MAPI_RPCEXT_LAST.  Returns 0, -EMSGSIZE for a
 * payload over MAPI_RPCEXT_MAX_PAYLOAD bytes and -EINVAL for other flags
 * (nothing is written then).
 */
int mapi_rpcext_write(GByteArray *b, const void *payload, size_t len,
		      uint16_t flags);

#endif
