/*
 * mapi-buf.h - bounded little-endian reading and writing of the binary
 * structures of MAPI over HTTP.  The request and response bodies of
 * MS-OXCMAPIHTTP, MS-OXCRPC's RPC_HEADER_EXT, MS-OXCROPS buffers, the
 * property values of MS-OXCDATA and the rows of MS-OXNSPI are all built of
 * the same pieces: little-endian integers, NUL-terminated 8-bit and
 * UTF-16LE strings, counted runs of bytes and GUIDs.
 *
 * A reader never reads past its end.  The first read that would sets a
 * sticky error, and every read after it returns zero or NULL, so a decoder
 * reads a whole structure and checks once with mapi_rd_error() instead of
 * after every field.  A writer appends to a GByteArray.  No I/O.
 *
 * Ownership: a reader borrows the bytes it reads (they must outlive it);
 * strings it returns are owned by the caller (g_free).  Writers append to a
 * GByteArray the caller owns.  A reader is used by one thread at a time.
 */
#ifndef MFS_MAPI_BUF_H
#define MFS_MAPI_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

struct mapi_rd {
	const uint8_t *p;	/* borrowed */
	size_t len;
	size_t off;
	int err;		/* 0, or the first failure (-errno) */
};

void mapi_rd_init(struct mapi_rd *r, const void *p, size_t len);

/* 0, or the first failure: -EBADMSG for a read past the end, -EILSEQ for a
 * string that is not what its type promises, or what mapi_rd_fail() set. */
static inline int mapi_rd_error(const struct mapi_rd *r)
{
	return r->err;
}

/* Record a failure found by the caller (a count that lies, a value out of
 * its range); the first one stays. */
void mapi_rd_fail(struct mapi_rd *r, int err);

static inline size_t mapi_rd_left(const struct mapi_rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

uint8_t mapi_rd_u8(struct mapi_rd *r);
uint16_t mapi_rd_u16(struct mapi_rd *r);
uint32_t mapi_rd_u32(struct mapi_rd *r);
uint64_t mapi_rd_u64(struct mapi_rd *r);
void mapi_rd_guid(struct mapi_rd *r, uint8_t out[16]);

/* The next n bytes, borrowed from the reader's buffer; NULL (and the error
 * set) when fewer are left.  n == 0 gives a valid pointer. */
const uint8_t *mapi_rd_bytes(struct mapi_rd *r, size_t n);
void mapi_rd_skip(struct mapi_rd *r, size_t n);

/* A reader over the next n bytes, which r then steps over; a failure in r
 * (too few bytes) gives a reader that has failed too. */
struct mapi_rd mapi_rd_sub(struct mapi_rd *r, size_t n);

/*
 * A NUL-terminated 8-bit string, its bytes as they are (the code page is the
 * caller's to know).  Caller owns the result; NULL on failure (no NUL within
 * `max` bytes or the end: -EBADMSG).
 */
char *mapi_rd_str8(struct mapi_rd *r, size_t max);

/*
 * A NUL-terminated UTF-16LE string of at most `max` code units, as UTF-8.
 * Caller owns the result; NULL on failure (-EBADMSG when it does not end,
 * -EILSEQ for an unpaired surrogate).
 */
char *mapi_rd_utf16z(struct mapi_rd *r, size_t max);

/* UTF-16LE of exactly `bytes` bytes (odd counts refused), without a
 * terminator, as UTF-8; a trailing NUL in the run is dropped.  Caller owns
 * the result; NULL on failure as above. */
char *mapi_rd_utf16n(struct mapi_rd *r, size_t bytes);

void mapi_wr_u8(GByteArray *b, uint8_t v);
void mapi_wr_u16(GByteArray *b, uint16_t v);
void mapi_wr_u32(GByteArray *b, uint32_t v);
void mapi_wr_u64(GByteArray *b, uint64_t v);
void mapi_wr_guid(GByteArray *b, const uint8_t g[16]);
void mapi_wr_bytes(GByteArray *b, const void *p, size_t n);

/* Overwrite a field written before (a size known only once what follows
 * it is written).  `at` must lie inside the array. */
void mapi_wr_u16_at(GByteArray *b, size_t at, uint16_t v);
void mapi_wr_u32_at(GByteArray *b, size_t at, uint32_t v);

/* `s` and its NUL, as they are. */
void mapi_wr_str8z(GByteArray *b, const char *s);

/* UTF-8 `s` as UTF-16LE and a NUL code unit.  Returns 0, or -EILSEQ when
 * `s` is not UTF-8 (nothing is written then). */
int mapi_wr_utf16z(GByteArray *b, const char *s);

#endif
