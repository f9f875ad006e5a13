/*
 * mapi-lz77.c - see mapi-lz77.h.  Follows MS-OXCRPC 2.2.2.1 (RPC_HEADER_EXT),
 * 3.1.4.1.1.1 (XorMagic) and 3.1.4.1.1.2 (LZ77 with DIRECT2 encoding), whose
 * stream is the "Plain LZ77" of MS-XCA 2.3 and 2.4:
 *
 *   a 32-bit little-endian flag word, read from its top bit down, says for
 *   each of the next 32 items whether it is a literal byte (0) or a match
 *   (1).  A match is a 16-bit little-endian word: offset - 1 in the top 13
 *   bits, length - 3 in the low 3.  A length field of 7 means "longer":
 *   a half byte follows (two matches share one byte, low nibble first);
 *   15 there means a whole byte follows; 255 there means a 16-bit length
 *   follows (the whole length - 3), and a 16-bit 0 means a 32-bit one.
 *   After the last item the unused flags are ones: a match flag with no
 *   input left ends the stream.
 */
#include "mapi-lz77.h"

#include <errno.h>
#include <string.h>

#define LZ_WINDOW	8192		/* 13 bits of offset */
#define LZ_MIN_MATCH	3
#define LZ_HASH_BITS	14
#define LZ_CHAIN_STEPS	64		/* candidates tried per position */
#define LZ_NONE		SIZE_MAX

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The writer's state: where the flag word of the current group of 32
 * items sits, the flags gathered so far and the byte whose high nibble
 * the next long match may use. */
struct lz_out {
	GByteArray *b;
	size_t flag_at;
	uint32_t flags;
	unsigned nflags;
	size_t nibble_at;
};

static void put_flag(struct lz_out *o, uint32_t bit)
{
	o->flags = o->flags << 1 | bit;
	if (++o->nflags < 32)
		return;
	mapi_wr_u32_at(o->b, o->flag_at, o->flags);
	o->flag_at = o->b->len;
	mapi_wr_u32(o->b, 0);
	o->flags = 0;
	o->nflags = 0;
}

static void put_match(struct lz_out *o, size_t offset, size_t len)
{
	size_t extra = len - LZ_MIN_MATCH;
	uint16_t word = (uint16_t)((offset - 1) << 3);
	unsigned nibble;

	if (extra < 7) {
		mapi_wr_u16(o->b, (uint16_t)(word | extra));
		put_flag(o, 1);
		return;
	}
	mapi_wr_u16(o->b, (uint16_t)(word | 7));
	extra -= 7;
	nibble = extra < 15 ? (unsigned)extra : 15;
	if (o->nibble_at == LZ_NONE) {
		o->nibble_at = o->b->len;
		mapi_wr_u8(o->b, (uint8_t)nibble);
	} else {
		o->b->data[o->nibble_at] |= (uint8_t)(nibble << 4);
		o->nibble_at = LZ_NONE;
	}
	if (extra >= 15) {
		extra -= 15;
		if (extra < 255) {
			mapi_wr_u8(o->b, (uint8_t)extra);
		} else {
			mapi_wr_u8(o->b, 255);
			if (len - LZ_MIN_MATCH <= 0xFFFF) {
				mapi_wr_u16(o->b, (uint16_t)(len - LZ_MIN_MATCH));
			} else {
				mapi_wr_u16(o->b, 0);
				mapi_wr_u32(o->b, (uint32_t)(len - LZ_MIN_MATCH));
			}
		}
	}
	put_flag(o, 1);
}

static size_t hash3(const uint8_t *p)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		     (uint32_t)p[2] << 16;

	return (v * 2654435761U) >> (32 - LZ_HASH_BITS);
}

/* The longest earlier match for position `pos` within the window, by the
 * hash chains; its length in *len_r (0 for none). */
static size_t find_match(const uint8_t *in, size_t len, size_t pos,
			 const size_t *head, const size_t *prev, size_t *len_r)
{
	size_t cand = head[hash3(in + pos)], best = 0, best_off = 0;
	size_t max = len - pos;
	unsigned steps = LZ_CHAIN_STEPS;

	/* the 32-bit length field is the longest a match can say */
	if (max > UINT32_MAX)
		max = UINT32_MAX;
	while (cand != LZ_NONE && pos - cand <= LZ_WINDOW && steps--) {
		size_t m = 0;

		while (m < max && in[cand + m] == in[pos + m])
			m++;
		if (m > best) {
			best = m;
			best_off = pos - cand;
			if (m == max)
				break;
		}
		cand = prev[cand];
	}
	*len_r = best;
	return best_off;
}

size_t mapi_lz77_compress(const void *in_, size_t len, GByteArray *out)
{
	const uint8_t *in = in_;
	struct lz_out o = { .b = out, .flag_at = out->len,
			    .nibble_at = LZ_NONE };
	size_t start = out->len, pos = 0, i;
	size_t *head = g_new(size_t, (size_t)1 << LZ_HASH_BITS);
	size_t *prev = g_new(size_t, len ? len : 1);

	for (i = 0; i < (size_t)1 << LZ_HASH_BITS; i++)
		head[i] = LZ_NONE;
	mapi_wr_u32(out, 0);
	while (pos < len) {
		size_t mlen = 0, off = 0, step, h;

		if (len - pos >= LZ_MIN_MATCH)
			off = find_match(in, len, pos, head, prev, &mlen);
		if (mlen >= LZ_MIN_MATCH) {
			put_match(&o, off, mlen);
			step = mlen;
		} else {
			mapi_wr_u8(out, in[pos]);
			put_flag(&o, 0);
			step = 1;
		}
		for (i = 0; i < step; i++, pos++) {
			if (len - pos < LZ_MIN_MATCH)
				continue;
			h = hash3(in + pos);
			prev[pos] = head[h];
			head[h] = pos;
		}
	}
	/* the flags past the last item are ones: a match with no input left
	 * is the end */
	if (o.nflags)
		o.flags = o.flags << (32 - o.nflags) |
			  ((UINT32_C(1) << (32 - o.nflags)) - 1);
	else
		o.flags = UINT32_MAX;
	mapi_wr_u32_at(out, o.flag_at, o.flags);
	g_free(head);
	g_free(prev);
	return out->len - start;
}

/* The length of a match whose 3-bit field was 7; 0 for a malformed one.
 * `nibble_at` holds the byte with an unused high nibble, or LZ_NONE. */
static uint64_t long_length(const uint8_t *in, size_t len, size_t *ip,
			    size_t *nibble_at)
{
	uint64_t n;

	if (*nibble_at == LZ_NONE) {
		if (*ip == len)
			return 0;
		*nibble_at = *ip;
		n = in[(*ip)++] & 0x0F;
	} else {
		n = in[*nibble_at] >> 4;
		*nibble_at = LZ_NONE;
	}
	if (n == 15) {
		if (*ip == len)
			return 0;
		n = in[(*ip)++];
		if (n == 255) {
			if (len - *ip < 2)
				return 0;
			n = get_le16(in + *ip);
			*ip += 2;
			if (n == 0) {
				if (len - *ip < 4)
					return 0;
				n = get_le32(in + *ip);
				*ip += 4;
			}
			/* the wide forms hold the whole length - 3 */
			if (n < 15 + 7)
				return 0;
			n -= 15 + 7;
		}
		n += 15;
	}
	return n + 7 + LZ_MIN_MATCH;
}

int mapi_lz77_decompress(const void *in_, size_t len, uint8_t *out,
			 size_t cap, size_t *out_len_r)
{
	const uint8_t *in = in_;
	size_t ip = 0, op = 0, nibble_at = LZ_NONE;
	uint32_t flags = 0;
	unsigned nflags = 0;

	*out_len_r = 0;
	for (;;) {
		uint16_t word;
		uint64_t mlen;
		size_t off, i;

		if (nflags == 0) {
			/* a stream that ends where a flag word would start
			 * has said all it has */
			if (ip == len)
				break;
			if (len - ip < 4)
				return -EBADMSG;
			flags = get_le32(in + ip);
			ip += 4;
			nflags = 32;
		}
		nflags--;
		if (!(flags >> nflags & 1)) {
			if (ip == len)
				return -EBADMSG;
			if (op == cap)
				return -EMSGSIZE;
			out[op++] = in[ip++];
			continue;
		}
		if (ip == len)
			break;
		if (len - ip < 2)
			return -EBADMSG;
		word = get_le16(in + ip);
		ip += 2;
		off = (size_t)(word >> 3) + 1;
		mlen = (word & 7) + LZ_MIN_MATCH;
		if ((word & 7) == 7) {
			mlen = long_length(in, len, &ip, &nibble_at);
			if (!mlen)
				return -EBADMSG;
		}
		if (off > op)
			return -EBADMSG;
		if (mlen > cap - op)
			return -EMSGSIZE;
		/* byte by byte: a match may overlap what it produces */
		for (i = 0; i < mlen; i++, op++)
			out[op] = out[op - off];
	}
	*out_len_r = op;
	return 0;
}

void mapi_xor_magic(uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] ^= 0xA5;
}

/* The plain form of one payload into `dst` (exactly h->size_actual bytes). */
static int unpack(const struct mapi_rpcext *h, const uint8_t *src,
		  uint8_t *dst)
{
	uint8_t *copy = NULL;
	size_t n = 0;
	int rc = 0;

	if (!(h->flags & MAPI_RPCEXT_COMPRESSED)) {
		if (h->size)
			memcpy(dst, src, h->size);
		if (h->flags & MAPI_RPCEXT_XOR_MAGIC)
			mapi_xor_magic(dst, h->size);
		return 0;
	}
	/* obfuscation is applied after compression, so undone before */
	if (h->flags & MAPI_RPCEXT_XOR_MAGIC) {
		copy = g_memdup2(src, h->size);
		mapi_xor_magic(copy, h->size);
		src = copy;
	}
	rc = mapi_lz77_decompress(src, h->size, dst, h->size_actual, &n);
	/* more than SizeActual is as wrong as fewer */
	if (rc == -EMSGSIZE || (rc == 0 && n != h->size_actual))
		rc = -EBADMSG;
	g_free(copy);
	return rc;
}

int mapi_rpcext_read(struct mapi_rd *r, size_t limit, struct mapi_rpcext *hdr_r,
		     GByteArray *out)
{
	struct mapi_rpcext h;
	const uint8_t *p;
	uint8_t empty[1];
	size_t old = out->len;
	int rc;

	h.version = mapi_rd_u16(r);
	h.flags = mapi_rd_u16(r);
	h.size = mapi_rd_u16(r);
	h.size_actual = mapi_rd_u16(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (hdr_r)
		*hdr_r = h;
	if (h.version != MAPI_RPCEXT_VERSION ||
	    (h.flags & ~(MAPI_RPCEXT_COMPRESSED | MAPI_RPCEXT_XOR_MAGIC |
			 MAPI_RPCEXT_LAST)) ||
	    (!(h.flags & MAPI_RPCEXT_COMPRESSED) && h.size != h.size_actual)) {
		mapi_rd_fail(r, -EBADMSG);
		return -EBADMSG;
	}
	p = mapi_rd_bytes(r, h.size);
	if (!p)
		return mapi_rd_error(r);
	/* checked before anything is allocated for it */
	if (h.size_actual > limit || old > limit - h.size_actual) {
		mapi_rd_fail(r, -EMSGSIZE);
		return -EMSGSIZE;
	}
	/* an array that never held anything has no data pointer yet */
	g_byte_array_set_size(out, (guint)(old + h.size_actual));
	rc = unpack(&h, p, h.size_actual ? out->data + old : empty);
	if (rc) {
		g_byte_array_set_size(out, (guint)old);
		mapi_rd_fail(r, rc);
	}
	return rc;
}

int mapi_rpcext_read_chain(const void *in, size_t len, size_t limit,
			   GPtrArray **payloads_r)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_byte_array_unref);
	struct mapi_rd r;
	size_t total = 0;
	int rc = 0;

	*payloads_r = NULL;
	mapi_rd_init(&r, in, len);
	while (len) {
		GByteArray *one = g_byte_array_new();
		struct mapi_rpcext h;

		rc = mapi_rpcext_read(&r, limit - total, &h, one);
		if (rc) {
			g_byte_array_unref(one);
			goto fail;
		}
		total += one->len;
		g_ptr_array_add(a, one);
		if (h.flags & MAPI_RPCEXT_LAST) {
			if (mapi_rd_left(&r))
				rc = -EBADMSG;
			break;
		}
		if (!mapi_rd_left(&r)) {
			rc = -EBADMSG;	/* no Last buffer */
			break;
		}
	}
	if (rc)
		goto fail;
	*payloads_r = a;
	return 0;
fail:
	g_ptr_array_unref(a);
	return rc;
}

int mapi_rpcext_write(GByteArray *b, const void *payload, size_t len,
		      uint16_t flags)
{
	size_t at = b->len, start;

	if (flags & ~(MAPI_RPCEXT_COMPRESSED | MAPI_RPCEXT_XOR_MAGIC |
		      MAPI_RPCEXT_LAST))
		return -EINVAL;
	if (len > MAPI_RPCEXT_MAX_PAYLOAD)
		return -EMSGSIZE;
	mapi_wr_u16(b, MAPI_RPCEXT_VERSION);
	mapi_wr_u16(b, 0);
	mapi_wr_u16(b, 0);
	mapi_wr_u16(b, (uint16_t)len);
	start = b->len;
	if (flags & MAPI_RPCEXT_COMPRESSED) {
		mapi_lz77_compress(payload, len, b);
		if (b->len - start >= len) {
			g_byte_array_set_size(b, (guint)start);
			flags &= (uint16_t)~MAPI_RPCEXT_COMPRESSED;
		}
	}
	if (!(flags & MAPI_RPCEXT_COMPRESSED))
		mapi_wr_bytes(b, payload, len);
	if (flags & MAPI_RPCEXT_XOR_MAGIC)
		mapi_xor_magic(b->data + start, b->len - start);
	mapi_wr_u16_at(b, at + 2, flags);
	mapi_wr_u16_at(b, at + 4, (uint16_t)(b->len - start));
	return 0;
}
