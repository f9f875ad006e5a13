/*
 * mapi-rtf.c - PidTagRtfCompressed, MS-OXRTFCP: the header (2.1.3.1.1),
 * LZFu decompression and compression over the 4096-byte dictionary
 * prefilled with the string of 2.1.2.1 (3.1.1.3, 3.1.3.1, 3.2.3.1), and the
 * CRC-32 of 3.1.3.2.  The de-encapsulation of what the RTF holds is in
 * mapi-rtf-ex.c.
 */
#include "mapi-rtf.h"

#include <errno.h>
#include <string.h>

#include "mapi-buf.h"

#define DICT_SIZE	4096
#define DICT_MASK	(DICT_SIZE - 1)
#define MATCH_MIN	2
#define MATCH_MAX	17	/* four bits of length, plus 2 */
/* How many earlier places with the same two bytes the compressor tries:
 * enough for real RTF, and a bound on the time repetitive input costs. */
#define CHAIN_MAX	256

/* MS-OXRTFCP 2.1.2.1: the 207 bytes a writer and a reader both start
 * their dictionary with, so that common RTF header words compress from the
 * first byte on. */
static const char initial_dict[] =
	"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman "
	"\\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes "
	"New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par "
	"\\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
#define INITIAL_LEN	(sizeof(initial_dict) - 1)

G_STATIC_ASSERT(INITIAL_LEN == 207);

static uint32_t crc_table[256];

static gpointer crc_init(gpointer unused)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	return NULL;
}

uint32_t mapi_rtf_crc(uint32_t crc, const void *p, size_t n)
{
	static GOnce once = G_ONCE_INIT;
	const uint8_t *b = p;

	g_once(&once, crc_init, NULL);
	for (size_t i = 0; i < n; i++)
		crc = crc_table[(crc ^ b[i]) & 0xFF] ^ (crc >> 8);
	return crc;
}

int mapi_rtf_header_read(const void *p, size_t len,
			 struct mapi_rtf_header *h_r)
{
	struct mapi_rd r;
	struct mapi_rtf_header h;

	mapi_rd_init(&r, p, len);
	h.comp_size = mapi_rd_u32(&r);
	h.raw_size = mapi_rd_u32(&r);
	h.comp_type = mapi_rd_u32(&r);
	h.crc = mapi_rd_u32(&r);
	if (mapi_rd_error(&r))
		return -EBADMSG;
	/* CompSize counts the 12 header bytes after itself; bytes past it are
	 * padding a writer may leave */
	if (h.comp_size < MAPI_RTF_HEADER_SIZE - 4 ||
	    h.comp_size > len - 4)
		return -EBADMSG;
	if (h.comp_type != MAPI_RTF_LZFU && h.comp_type != MAPI_RTF_MELA)
		return -EPROTO;
	*h_r = h;
	return 0;
}

/* Append n bytes of a reference at `off`, byte by byte through the
 * dictionary: a reference may reach the bytes it is itself writing. */
static void copy_ref(uint8_t *dict, unsigned *wp, unsigned off, unsigned n,
		     GByteArray *out)
{
	uint8_t run[MATCH_MAX];

	for (unsigned k = 0; k < n; k++) {
		uint8_t b = dict[(off + k) & DICT_MASK];

		dict[*wp] = b;
		*wp = (*wp + 1) & DICT_MASK;
		run[k] = b;
	}
	g_byte_array_append(out, run, n);
}

/* The contents of an LZFu value into `out`; 0, -EFBIG past `limit`,
 * -EBADMSG when the data ends before the end marker. */
static int lzfu_decode(const uint8_t *c, size_t clen, size_t limit,
		       GByteArray *out)
{
	uint8_t dict[DICT_SIZE];
	unsigned wp = INITIAL_LEN;
	size_t pos = 0;

	memset(dict, 0, sizeof(dict));
	memcpy(dict, initial_dict, INITIAL_LEN);
	while (pos < clen) {
		uint8_t ctrl = c[pos++];

		for (int bit = 0; bit < 8; bit++) {
			if (!(ctrl & (1U << bit))) {
				if (pos >= clen)
					return -EBADMSG;
				if (out->len >= limit)
					return -EFBIG;
				dict[wp] = c[pos];
				wp = (wp + 1) & DICT_MASK;
				g_byte_array_append(out, c + pos, 1);
				pos++;
				continue;
			}
			if (clen - pos < 2)
				return -EBADMSG;
			unsigned ref = (unsigned)c[pos] << 8 | c[pos + 1];
			unsigned off = ref >> 4, n = (ref & 0xF) + MATCH_MIN;

			pos += 2;
			/* a reference to where the next byte would go is the
			 * end marker (3.2.3.1) */
			if (off == wp)
				return 0;
			if (n > limit - out->len)
				return -EFBIG;
			copy_ref(dict, &wp, off, n, out);
		}
	}
	return -EBADMSG;
}

int mapi_rtf_decompress(const void *p, size_t len, size_t limit,
			unsigned flags, GByteArray **out_r,
			struct mapi_rtf_header *h_r)
{
	bool lenient = flags & MAPI_RTF_LENIENT;
	struct mapi_rtf_header h;
	const uint8_t *c;
	size_t clen, reserve;
	GByteArray *out;
	int rc = mapi_rtf_header_read(p, len, &h);

	if (rc < 0)
		return rc;
	if (h_r)
		*h_r = h;
	c = (const uint8_t *)p + MAPI_RTF_HEADER_SIZE;
	clen = h.comp_size - (MAPI_RTF_HEADER_SIZE - 4);
	if (h.comp_type == MAPI_RTF_MELA) {
		size_t n = h.raw_size;

		if (n > clen) {
			if (!lenient)
				return -EBADMSG;
			n = clen;
		}
		if (n > limit)
			return -EFBIG;
		out = g_byte_array_sized_new((guint)n);
		g_byte_array_append(out, c, (guint)n);
		*out_r = out;
		return 0;
	}
	if (!lenient && mapi_rtf_crc(0, c, clen) != h.crc)
		return -EILSEQ;
	/* RawSize is only a claim: one compressed byte stands for at most
	 * eight and a half bytes of output */
	reserve = MIN(MIN((size_t)h.raw_size, limit), clen * 9);
	out = g_byte_array_sized_new((guint)MIN(reserve, (size_t)G_MAXUINT));
	rc = lzfu_decode(c, clen, limit, out);
	if (rc == -EBADMSG && lenient)
		rc = 0;
	if (rc == 0 && !lenient && out->len != h.raw_size)
		rc = -EBADMSG;
	if (rc < 0) {
		g_byte_array_unref(out);
		return rc;
	}
	*out_r = out;
	return 0;
}

/* The compressor's view: the initial dictionary followed by the input, so
 * that a stream position is also its dictionary offset modulo 4096. */
struct lz_state {
	const uint8_t *s;	/* borrowed */
	size_t n;
	int32_t *head;		/* owned; newest position of each pair */
	int32_t *prev;		/* owned; the one before, per position */
};

static void lz_insert(struct lz_state *z, size_t at)
{
	unsigned key;

	if (at + 1 >= z->n)
		return;
	key = (unsigned)z->s[at] << 8 | z->s[at + 1];
	z->prev[at] = z->head[key];
	z->head[key] = (int32_t)at;
}

/* The longest match for the bytes at `cur` among the 4095 before it; on a
 * tie the earliest wins (as the examples of MS-OXRTFCP 4 choose). */
static unsigned lz_match(const struct lz_state *z, size_t cur, size_t *at_r)
{
	size_t lo = cur >= DICT_SIZE - 1 ? cur - (DICT_SIZE - 1) : 0;
	size_t room = MIN((size_t)MATCH_MAX, z->n - cur);
	unsigned best = 0, tries = 0;
	int32_t cand;

	if (room < MATCH_MIN)
		return 0;
	cand = z->head[(unsigned)z->s[cur] << 8 | z->s[cur + 1]];
	while (cand >= 0 && (size_t)cand >= lo && tries++ < CHAIN_MAX) {
		unsigned k = 0;

		/* the match may run on into the bytes it produces */
		while (k < room && z->s[cand + k] == z->s[cur + k])
			k++;
		if (k >= best && k >= MATCH_MIN) {
			best = k;
			*at_r = (size_t)cand;
		}
		cand = z->prev[cand];
	}
	return best;
}

/* One token of a run: sets its bit in the control byte for a reference. */
static void put_ref(GByteArray *out, size_t ctrl_at, int bit, unsigned off,
		    unsigned n)
{
	out->data[ctrl_at] |= (uint8_t)(1U << bit);
	mapi_wr_u8(out, (uint8_t)(off >> 4));
	mapi_wr_u8(out, (uint8_t)((off & 0xF) << 4 | (n - MATCH_MIN)));
}

static void lzfu_encode(const uint8_t *in, size_t len, GByteArray *out)
{
	struct lz_state z;
	size_t cur = INITIAL_LEN, ctrl_at = 0;
	int bit = 8;
	uint8_t *s = g_malloc(INITIAL_LEN + len);

	memcpy(s, initial_dict, INITIAL_LEN);
	if (len)
		memcpy(s + INITIAL_LEN, in, len);
	z.s = s;
	z.n = INITIAL_LEN + len;
	z.head = g_new(int32_t, 65536);
	z.prev = g_new(int32_t, z.n);
	memset(z.head, 0xFF, 65536 * sizeof(int32_t));
	for (size_t i = 0; i < INITIAL_LEN; i++)
		lz_insert(&z, i);
	for (;;) {
		size_t at = 0;
		unsigned n;

		if (bit == 8) {
			ctrl_at = out->len;
			mapi_wr_u8(out, 0);
			bit = 0;
		}
		if (cur == z.n) {
			/* the end marker: a reference to the write position */
			put_ref(out, ctrl_at, bit, (unsigned)(cur & DICT_MASK),
				MATCH_MIN);
			break;
		}
		n = lz_match(&z, cur, &at);
		if (n >= MATCH_MIN) {
			put_ref(out, ctrl_at, bit, (unsigned)(at & DICT_MASK),
				n);
		} else {
			n = 1;
			mapi_wr_u8(out, s[cur]);
		}
		for (unsigned k = 0; k < n; k++)
			lz_insert(&z, cur + k);
		cur += n;
		bit++;
	}
	g_free(z.prev);
	g_free(z.head);
	g_free(s);
}

int mapi_rtf_compress(const void *rtf, size_t len, bool compress,
		      GByteArray *out)
{
	size_t start = out->len, body;

	/* LZFu's worst case is a control byte for every eight literals */
	if (len > (UINT32_MAX - 2 * MAPI_RTF_HEADER_SIZE) / 9 * 8)
		return -EFBIG;
	mapi_wr_u32(out, 0);
	mapi_wr_u32(out, (uint32_t)len);
	mapi_wr_u32(out, compress ? MAPI_RTF_LZFU : MAPI_RTF_MELA);
	mapi_wr_u32(out, 0);
	if (compress)
		lzfu_encode(rtf, len, out);
	else
		mapi_wr_bytes(out, rtf, len);
	body = out->len - start - MAPI_RTF_HEADER_SIZE;
	mapi_wr_u32_at(out, start, (uint32_t)(body + MAPI_RTF_HEADER_SIZE - 4));
	if (compress)
		mapi_wr_u32_at(out, start + 12,
			       mapi_rtf_crc(0, out->data + start +
					    MAPI_RTF_HEADER_SIZE, body));
	return 0;
}
