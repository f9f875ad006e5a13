/*
 * mapi-buf.c - see mapi-buf.h.  Little-endian throughout, as MS-OXCDATA
 * section 2 and MS-OXCMAPIHTTP section 2.2 lay every field.
 */
#include "mapi-buf.h"

#include <errno.h>
#include <string.h>

void mapi_rd_init(struct mapi_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->off = 0;
	r->err = 0;
}

void mapi_rd_fail(struct mapi_rd *r, int err)
{
	if (!r->err)
		r->err = err;
}

/* The next n bytes, or NULL with the error set. */
static const uint8_t *take(struct mapi_rd *r, size_t n)
{
	const uint8_t *at;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		r->err = -EBADMSG;
		return NULL;
	}
	at = r->p + r->off;
	r->off += n;
	return at;
}

uint8_t mapi_rd_u8(struct mapi_rd *r)
{
	const uint8_t *p = take(r, 1);

	return p ? p[0] : 0;
}

uint16_t mapi_rd_u16(struct mapi_rd *r)
{
	const uint8_t *p = take(r, 2);

	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t mapi_rd_u32(struct mapi_rd *r)
{
	const uint8_t *p = take(r, 4);

	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

uint64_t mapi_rd_u64(struct mapi_rd *r)
{
	uint64_t lo = mapi_rd_u32(r);
	uint64_t hi = mapi_rd_u32(r);

	return r->err ? 0 : lo | hi << 32;
}

void mapi_rd_guid(struct mapi_rd *r, uint8_t out[16])
{
	const uint8_t *p = take(r, 16);

	if (p)
		memcpy(out, p, 16);
	else
		memset(out, 0, 16);
}

const uint8_t *mapi_rd_bytes(struct mapi_rd *r, size_t n)
{
	return take(r, n);
}

void mapi_rd_skip(struct mapi_rd *r, size_t n)
{
	(void)take(r, n);
}

struct mapi_rd mapi_rd_sub(struct mapi_rd *r, size_t n)
{
	struct mapi_rd sub;
	const uint8_t *p = take(r, n);

	mapi_rd_init(&sub, p, p ? n : 0);
	if (!p)
		sub.err = r->err;
	return sub;
}

char *mapi_rd_str8(struct mapi_rd *r, size_t max)
{
	const uint8_t *start, *nul;
	size_t room;

	if (r->err)
		return NULL;
	start = r->p + r->off;
	room = r->len - r->off;
	if (room > max)
		room = max;
	nul = memchr(start, 0, room);
	if (!nul) {
		r->err = -EBADMSG;
		return NULL;
	}
	r->off += (size_t)(nul - start) + 1;
	return g_strndup((const char *)start, (size_t)(nul - start));
}

/*
 * UTF-16LE code units to UTF-8.  Done here rather than with
 * g_utf16_to_utf8() because the bytes are neither aligned nor in host order,
 * and an unpaired surrogate must be an error, not a replacement character
 * (a name that changed on the way would not match the server's any more).
 */
static char *utf16le_to_utf8(struct mapi_rd *r, const uint8_t *p,
			     size_t units)
{
	GString *out = g_string_sized_new(units + 1);
	size_t i;

	for (i = 0; i < units; i++) {
		gunichar c = (gunichar)(p[2 * i] | p[2 * i + 1] << 8);

		if (c >= 0xD800 && c <= 0xDBFF) {
			gunichar lo;

			if (i + 1 == units)
				goto bad;
			lo = (gunichar)(p[2 * i + 2] | p[2 * i + 3] << 8);
			if (lo < 0xDC00 || lo > 0xDFFF)
				goto bad;
			c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
			i++;
		} else if (c >= 0xDC00 && c <= 0xDFFF) {
			goto bad;
		}
		g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
bad:
	g_string_free(out, TRUE);
	mapi_rd_fail(r, -EILSEQ);
	return NULL;
}

char *mapi_rd_utf16z(struct mapi_rd *r, size_t max)
{
	const uint8_t *start;
	size_t units, room, i;

	if (r->err)
		return NULL;
	start = r->p + r->off;
	room = (r->len - r->off) / 2;
	if (room > max)
		room = max;
	for (i = 0; i < room; i++)
		if (start[2 * i] == 0 && start[2 * i + 1] == 0)
			break;
	if (i == room) {
		r->err = -EBADMSG;
		return NULL;
	}
	units = i;
	r->off += 2 * (units + 1);
	return utf16le_to_utf8(r, start, units);
}

char *mapi_rd_utf16n(struct mapi_rd *r, size_t bytes)
{
	const uint8_t *p;
	size_t units;

	if (bytes % 2) {
		mapi_rd_fail(r, -EBADMSG);
		return NULL;
	}
	p = take(r, bytes);
	if (!p)
		return NULL;
	units = bytes / 2;
	if (units && p[2 * units - 2] == 0 && p[2 * units - 1] == 0)
		units--;
	return utf16le_to_utf8(r, p, units);
}

void mapi_wr_u8(GByteArray *b, uint8_t v)
{
	g_byte_array_append(b, &v, 1);
}

void mapi_wr_u16(GByteArray *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	g_byte_array_append(b, x, 2);
}

void mapi_wr_u32(GByteArray *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	g_byte_array_append(b, x, 4);
}

void mapi_wr_u64(GByteArray *b, uint64_t v)
{
	mapi_wr_u32(b, (uint32_t)v);
	mapi_wr_u32(b, (uint32_t)(v >> 32));
}

void mapi_wr_guid(GByteArray *b, const uint8_t g[16])
{
	g_byte_array_append(b, g, 16);
}

void mapi_wr_bytes(GByteArray *b, const void *p, size_t n)
{
	if (n)
		g_byte_array_append(b, p, (guint)n);
}

void mapi_wr_u16_at(GByteArray *b, size_t at, uint16_t v)
{
	g_assert(at + 2 <= b->len);
	b->data[at] = (uint8_t)v;
	b->data[at + 1] = (uint8_t)(v >> 8);
}

void mapi_wr_u32_at(GByteArray *b, size_t at, uint32_t v)
{
	g_assert(at + 4 <= b->len);
	b->data[at] = (uint8_t)v;
	b->data[at + 1] = (uint8_t)(v >> 8);
	b->data[at + 2] = (uint8_t)(v >> 16);
	b->data[at + 3] = (uint8_t)(v >> 24);
}

void mapi_wr_str8z(GByteArray *b, const char *s)
{
	g_byte_array_append(b, (const guint8 *)s, (guint)strlen(s) + 1);
}

int mapi_wr_utf16z(GByteArray *b, const char *s)
{
	const char *p;

	if (!g_utf8_validate(s, -1, NULL))
		return -EILSEQ;
	for (p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c >= 0x10000) {
			c -= 0x10000;
			mapi_wr_u16(b, (uint16_t)(0xD800 + (c >> 10)));
			mapi_wr_u16(b, (uint16_t)(0xDC00 + (c & 0x3FF)));
		} else {
			mapi_wr_u16(b, (uint16_t)c);
		}
	}
	mapi_wr_u16(b, 0);
	return 0;
}
