/*
 * test-mapi-lz77.c - wire/mapi-lz77.h: the LZ77/DIRECT2 codec of
 * MS-OXCRPC 3.1.4.1.1.2 (MS-XCA's Plain LZ77) with the byte examples of
 * MS-XCA 3.1, round trips of data of many kinds and sizes, hostile
 * streams, and the RPC_HEADER_EXT extended buffers that carry it.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-lz77.h"
#include "mapi-trace.h"

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz";

/* MS-XCA 3.1: the alphabet, 26 literals, and "abc" 100 times, three
 * literals and one match of 297 bytes at offset 3. */
static const uint8_t alphabet_lz[] = {
	0x3f, 0x00, 0x00, 0x00, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i',
	'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w',
	'x', 'y', 'z',
};
static const uint8_t abc_lz[] = {
	0xff, 0xff, 0xff, 0x1f, 0x61, 0x62, 0x63, 0x17, 0x00, 0x0f, 0xff,
	0x26, 0x01,
};

static char *abc_times_100(void)
{
	GString *s = g_string_new(NULL);
	int i;

	for (i = 0; i < 100; i++)
		g_string_append(s, "abc");
	return g_string_free(s, FALSE);
}

static void test_spec_examples(void)
{
	g_autofree char *abc = abc_times_100();
	GByteArray *b = g_byte_array_new();
	uint8_t out[400];
	size_t n;

	g_assert_cmpint(mapi_lz77_decompress(alphabet_lz, sizeof(alphabet_lz),
					     out, sizeof(out), &n), ==, 0);
	g_assert_cmpmem(out, n, alphabet, 26);
	g_assert_cmpint(mapi_lz77_decompress(abc_lz, sizeof(abc_lz), out,
					     sizeof(out), &n), ==, 0);
	g_assert_cmpmem(out, n, abc, 300);

	/* and the compressor gives the very same bytes */
	g_assert_cmpuint(mapi_lz77_compress(alphabet, 26, b), ==,
			 sizeof(alphabet_lz));
	g_assert_cmpmem(b->data, b->len, alphabet_lz, sizeof(alphabet_lz));
	g_byte_array_set_size(b, 0);
	mapi_lz77_compress(abc, 300, b);
	g_assert_cmpmem(b->data, b->len, abc_lz, sizeof(abc_lz));
	g_byte_array_unref(b);
}

/* Compress and decompress `len` bytes; the same bytes back, and the size
 * of the compressed form. */
static size_t round_trip(const uint8_t *in, size_t len)
{
	GByteArray *b = g_byte_array_new();
	uint8_t *out = g_malloc(len + 1);
	size_t n = 12345, clen;

	mapi_lz77_compress(in, len, b);
	g_assert_cmpint(mapi_lz77_decompress(b->data, b->len, out, len, &n),
			==, 0);
	g_assert_cmpmem(out, n, in, len);
	/* one byte of room less is refused, not overrun */
	if (len) {
		out[len - 1] = 0x5A;
		g_assert_cmpint(mapi_lz77_decompress(b->data, b->len, out,
						     len - 1, &n), ==,
				-EMSGSIZE);
		g_assert_cmpuint(out[len - 1], ==, 0x5A);
	}
	clen = b->len;
	g_byte_array_unref(b);
	g_free(out);
	return clen;
}

static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 31, 32, 33, 63, 64, 65,
				100, 255, 256, 1000, 4095, 4096, 8191, 8192,
				8193, 9000, 20000, 65535, 65536, 70000 };

static void test_round_trips(void)
{
	GRand *rnd = g_rand_new_with_seed(16);
	size_t i, j;

	for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
		size_t len = sizes[i];
		uint8_t *data = g_malloc(len + 1);
		size_t clen;

		/* random: no repetitions to find */
		for (j = 0; j < len; j++)
			data[j] = (uint8_t)g_rand_int(rnd);
		clen = round_trip(data, len);
		g_assert_cmpuint(clen, <=, len + 4 + 4 * (len / 32 + 1));
		/* one byte repeated */
		memset(data, 'x', len);
		clen = round_trip(data, len);
		if (len >= 16)
			g_assert_cmpuint(clen, <, len / 4 + 16);
		/* text with repeats near and far, and long runs of each
		 * length class of the match encoding */
		for (j = 0; j < len; j++)
			data[j] = (uint8_t)("Line 00042: the quick brown fox "
					    "jumps over the lazy dog.\n"
					    [(j * 7 / 5) % 57]);
		clen = round_trip(data, len);
		if (len >= 1000)
			g_assert_cmpuint(clen, <, len / 2);
		for (j = 0; j < len; j++)
			data[j] = (uint8_t)(g_rand_int_range(rnd, 0, 4) ?
					    data[j] : g_rand_int(rnd));
		round_trip(data, len);
		g_free(data);
	}
	/* match lengths of every size class: 3..9, the nibble, the byte,
	 * the 16-bit and the 32-bit forms, sharing nibble bytes */
	for (i = 3; i < 400; i += 1) {
		size_t len = 2 * i + 8;
		uint8_t *data = g_malloc(len);

		for (j = 0; j < len; j++)
			data[j] = (uint8_t)(j < 4 ? j : j % i < 4 ? 0 : 'a');
		round_trip(data, len);
		g_free(data);
	}
	g_rand_free(rnd);
}

static void test_long_match(void)
{
	size_t len = 70000 + 65536 * 2;
	uint8_t *data = g_malloc(len);
	GByteArray *b = g_byte_array_new();

	memset(data, 0, len);
	data[0] = 1;
	mapi_lz77_compress(data, len, b);
	/* a few bytes: one literal or two and one long match */
	g_assert_cmpuint(b->len, <, 32);
	g_byte_array_unref(b);
	round_trip(data, len);
	g_free(data);
}

static void test_hostile(void)
{
	/* a match before anything was written */
	static const uint8_t before[] = { 0, 0, 0, 0x80, 0x00, 0x00 };
	/* one literal, then a match reaching two bytes back */
	static const uint8_t far[] = { 0, 0, 0, 0x40, 'a', 0x08, 0x00 };
	/* length 7: the nibble byte is missing */
	static const uint8_t no_nibble[] = { 0, 0, 0, 0x40, 'a', 0x07, 0x00 };
	/* nibble 15: the byte after it is missing */
	static const uint8_t no_byte[] = { 0, 0, 0, 0x40, 'a', 0x07, 0x00,
					   0x0f };
	/* byte 255: the 16-bit length is missing, then cut */
	static const uint8_t no_u16[] = { 0, 0, 0, 0x40, 'a', 0x07, 0x00,
					  0x0f, 0xff, 0x30 };
	/* a 16-bit length under 22 cannot be */
	static const uint8_t short_u16[] = { 0, 0, 0, 0x40, 'a', 0x07, 0x00,
					     0x0f, 0xff, 21, 0 };
	/* a 32-bit length of 4 GiB: expansion far past any room */
	static const uint8_t bomb[] = { 0, 0, 0, 0x40, 'a', 0x07, 0x00, 0x0f,
					0xff, 0, 0, 0xff, 0xff, 0xff, 0xff };
	/* a literal flag with no literal */
	static const uint8_t no_literal[] = { 0, 0, 0, 0, 'a' };
	/* a flag word cut short */
	static const uint8_t cut_flags[] = { 0xff, 0xff, 0xff, 0x1f, 'a', 'b',
					     'c', 0x17, 0x00, 0x0f, 0xff, 0x26,
					     0x01, 0xff, 0xff };
	uint8_t out[1000];
	size_t n;

	memset(out, 0x5A, sizeof(out));
	g_assert_cmpint(mapi_lz77_decompress(before, sizeof(before), out,
					     sizeof(out), &n), ==, -EBADMSG);
	g_assert_cmpint(mapi_lz77_decompress(far, sizeof(far), out,
					     sizeof(out), &n), ==, -EBADMSG);
	g_assert_cmpint(mapi_lz77_decompress(no_nibble, sizeof(no_nibble),
					     out, sizeof(out), &n), ==,
			-EBADMSG);
	g_assert_cmpint(mapi_lz77_decompress(no_byte, sizeof(no_byte), out,
					     sizeof(out), &n), ==, -EBADMSG);
	g_assert_cmpint(mapi_lz77_decompress(no_u16, sizeof(no_u16), out,
					     sizeof(out), &n), ==, -EBADMSG);
	g_assert_cmpint(mapi_lz77_decompress(short_u16, sizeof(short_u16),
					     out, sizeof(out), &n), ==,
			-EBADMSG);
	g_assert_cmpint(mapi_lz77_decompress(bomb, sizeof(bomb), out, 500,
					     &n), ==, -EMSGSIZE);
	g_assert_cmpuint(out[500], ==, 0x5A);
	g_assert_cmpint(mapi_lz77_decompress(no_literal, sizeof(no_literal),
					     out, sizeof(out), &n), ==,
			-EBADMSG);
	g_assert_cmpint(mapi_lz77_decompress(cut_flags, sizeof(cut_flags),
					     out, sizeof(out), &n), ==,
			-EBADMSG);
	/* the spec's 300 bytes in 299 of room */
	memset(out, 0x5A, sizeof(out));
	g_assert_cmpint(mapi_lz77_decompress(abc_lz, sizeof(abc_lz), out, 299,
					     &n), ==, -EMSGSIZE);
	g_assert_cmpuint(out[299], ==, 0x5A);
	g_assert_cmpuint(n, ==, 0);
	/* an empty stream is an empty output */
	g_assert_cmpint(mapi_lz77_decompress("", 0, out, 0, &n), ==, 0);
	g_assert_cmpuint(n, ==, 0);
}

/* Every cut of a compressed stream fails or gives a prefix of the data:
 * never bytes that were not there. */
static void test_truncations(void)
{
	g_autofree char *abc = abc_times_100();
	GByteArray *b = g_byte_array_new();
	uint8_t data[3000], out[3000];
	size_t i, n;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i % 300 < 150 ? (size_t)"xyzzy plugh "[i % 12]
						  : (i * 31) >> 3);
	mapi_lz77_compress(data, sizeof(data), b);
	for (i = 0; i < b->len; i++) {
		int rc = mapi_lz77_decompress(b->data, i, out, sizeof(out),
					      &n);

		g_assert_true(rc == 0 || rc == -EBADMSG);
		if (rc == 0)
			g_assert_cmpmem(out, n, data, n);
		/* the whole only when nothing but the end marker is cut */
		g_assert_true(rc || n < sizeof(data) || i + 4 >= b->len);
	}
	for (i = 0; i < sizeof(abc_lz); i++) {
		int rc = mapi_lz77_decompress(abc_lz, i, out, sizeof(out),
					      &n);

		g_assert_true(rc == -EBADMSG || (rc == 0 && n < 300));
		if (rc == 0)
			g_assert_cmpmem(out, n, abc, n);
	}
	g_byte_array_unref(b);
}

static void test_xor(void)
{
	uint8_t p[] = { 0x00, 0xA5, 0xFF, 0x5A };

	mapi_xor_magic(p, sizeof(p));
	g_assert_cmpuint(p[0], ==, 0xA5);
	g_assert_cmpuint(p[1], ==, 0x00);
	g_assert_cmpuint(p[2], ==, 0x5A);
	g_assert_cmpuint(p[3], ==, 0xFF);
}

/* One extended buffer of each kind written and read back. */
static void test_rpcext(void)
{
	static const uint16_t kinds[] = {
		0, MAPI_RPCEXT_COMPRESSED, MAPI_RPCEXT_XOR_MAGIC,
		MAPI_RPCEXT_COMPRESSED | MAPI_RPCEXT_XOR_MAGIC,
	};
	g_autofree char *abc = abc_times_100();
	GByteArray *b = g_byte_array_new();
	GPtrArray *parts = NULL;
	struct mapi_rpcext h;
	struct mapi_rd r;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(kinds); i++) {
		GByteArray *out = g_byte_array_new();

		g_byte_array_set_size(b, 0);
		g_assert_cmpint(mapi_rpcext_write(b, abc, 300, kinds[i] |
						  MAPI_RPCEXT_LAST), ==, 0);
		mapi_rd_init(&r, b->data, b->len);
		g_assert_cmpint(mapi_rpcext_read(&r, 300, &h, out), ==, 0);
		g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
		g_assert_cmpuint(h.flags, ==, kinds[i] | MAPI_RPCEXT_LAST);
		g_assert_cmpuint(h.size_actual, ==, 300);
		g_assert_cmpuint(h.size, ==, kinds[i] & MAPI_RPCEXT_COMPRESSED
				 ? sizeof(abc_lz) : 300);
		g_assert_cmpmem(out->data, out->len, abc, 300);
		/* obfuscated bytes are not the plain ones */
		if (kinds[i] & MAPI_RPCEXT_XOR_MAGIC)
			g_assert_cmpuint(b->data[8], !=,
					 kinds[i] & MAPI_RPCEXT_COMPRESSED
					 ? abc_lz[0] : 'a');
		/* a limit below SizeActual: refused, nothing added */
		mapi_rd_init(&r, b->data, b->len);
		g_assert_cmpint(mapi_rpcext_read(&r, 599, &h, out), ==,
				-EMSGSIZE);
		g_assert_cmpuint(out->len, ==, 300);
		g_assert_cmpint(mapi_rd_error(&r), ==, -EMSGSIZE);
		g_byte_array_unref(out);
	}
	/* compression that would not help is left out */
	g_byte_array_set_size(b, 0);
	g_assert_cmpint(mapi_rpcext_write(b, alphabet, 26,
					  MAPI_RPCEXT_COMPRESSED), ==, 0);
	g_assert_cmpuint(b->data[2], ==, 0);
	g_assert_cmpuint(b->len, ==, 8 + 26);
	g_assert_cmpint(mapi_rpcext_write(b, alphabet, 26, 0x0008), ==,
			-EINVAL);
	g_assert_cmpint(mapi_rpcext_write(b, abc, 0x10000, 0), ==, -EMSGSIZE);
	g_assert_cmpuint(b->len, ==, 8 + 26);

	/* a chain: three buffers, the last flagged */
	g_byte_array_set_size(b, 0);
	mapi_rpcext_write(b, abc, 300, MAPI_RPCEXT_COMPRESSED);
	mapi_rpcext_write(b, alphabet, 26, MAPI_RPCEXT_XOR_MAGIC);
	mapi_rpcext_write(b, "", 0, MAPI_RPCEXT_LAST);
	g_assert_cmpint(mapi_rpcext_read_chain(b->data, b->len, 326, &parts),
			==, 0);
	g_assert_cmpuint(parts->len, ==, 3);
	g_assert_cmpmem(((GByteArray *)parts->pdata[1])->data, 26,
			alphabet, 26);
	g_assert_cmpuint(((GByteArray *)parts->pdata[2])->len, ==, 0);
	g_ptr_array_unref(parts);
	/* the limit counts the whole chain */
	g_assert_cmpint(mapi_rpcext_read_chain(b->data, b->len, 325, &parts),
			==, -EMSGSIZE);
	g_assert_null(parts);
	/* every cut of the chain fails */
	for (i = 1; i < b->len; i++) {
		g_assert_cmpint(mapi_rpcext_read_chain(b->data, i, 1000,
						       &parts), ==, -EBADMSG);
		g_assert_null(parts);
	}
	/* an empty chain is empty */
	g_assert_cmpint(mapi_rpcext_read_chain(b->data, 0, 1000, &parts), ==,
			0);
	g_assert_cmpuint(parts->len, ==, 0);
	g_ptr_array_unref(parts);
	/* bytes after the Last buffer */
	g_byte_array_append(b, (const guint8 *)"x", 1);
	g_assert_cmpint(mapi_rpcext_read_chain(b->data, b->len, 1000,
					       &parts), ==, -EBADMSG);
	g_byte_array_unref(b);
}

static void test_rpcext_hostile(void)
{
	/* a version that is not 0; an unknown flag; sizes that differ
	 * without compression */
	static const uint8_t version[] = { 1, 0, 4, 0, 1, 0, 1, 0, 'a' };
	static const uint8_t flag[] = { 0, 0, 0x0C, 0, 1, 0, 1, 0, 'a' };
	static const uint8_t sizes_differ[] = { 0, 0, 4, 0, 1, 0, 2, 0, 'a' };
	/* Size past the end */
	static const uint8_t past_end[] = { 0, 0, 4, 0, 9, 0, 9, 0, 'a' };
	/* a compressed payload producing more than SizeActual (the abc
	 * stream announced as 100 bytes), and fewer (as 301) */
	uint8_t more[8 + sizeof(abc_lz)], fewer[8 + sizeof(abc_lz)];
	/* a bomb: SizeActual 65535 against a limit of 1000 */
	uint8_t bomb[8 + sizeof(abc_lz)];
	/* a compressed empty payload: the end marker alone */
	static const uint8_t empty[] = { 0, 0, 5, 0, 4, 0, 0, 0,
					 0xff, 0xff, 0xff, 0xff };
	GPtrArray *parts = NULL;

	g_assert_cmpint(mapi_rpcext_read_chain(empty, sizeof(empty), 0,
					       &parts), ==, 0);
	g_assert_cmpuint(parts->len, ==, 1);
	g_assert_cmpuint(((GByteArray *)parts->pdata[0])->len, ==, 0);
	g_ptr_array_unref(parts);
	parts = NULL;
	g_assert_cmpint(mapi_rpcext_read_chain(version, sizeof(version), 100,
					       &parts), ==, -EBADMSG);
	g_assert_cmpint(mapi_rpcext_read_chain(flag, sizeof(flag), 100,
					       &parts), ==, -EBADMSG);
	g_assert_cmpint(mapi_rpcext_read_chain(sizes_differ,
					       sizeof(sizes_differ), 100,
					       &parts), ==, -EBADMSG);
	g_assert_cmpint(mapi_rpcext_read_chain(past_end, sizeof(past_end),
					       100, &parts), ==, -EBADMSG);
	memcpy(more, "\0\0\5\0", 4);
	more[4] = sizeof(abc_lz);
	more[5] = 0;
	more[6] = 100;
	more[7] = 0;
	memcpy(more + 8, abc_lz, sizeof(abc_lz));
	g_assert_cmpint(mapi_rpcext_read_chain(more, sizeof(more), 1000,
					       &parts), ==, -EBADMSG);
	memcpy(fewer, more, sizeof(more));
	fewer[6] = 301 & 0xFF;
	fewer[7] = 301 >> 8;
	g_assert_cmpint(mapi_rpcext_read_chain(fewer, sizeof(fewer), 1000,
					       &parts), ==, -EBADMSG);
	memcpy(bomb, more, sizeof(more));
	bomb[6] = 0xFF;
	bomb[7] = 0xFF;
	g_assert_cmpint(mapi_rpcext_read_chain(bomb, sizeof(bomb), 1000,
					       &parts), ==, -EMSGSIZE);
	g_assert_null(parts);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mapi-lz77/spec-examples", test_spec_examples);
	g_test_add_func("/mapi-lz77/round-trips", test_round_trips);
	g_test_add_func("/mapi-lz77/long-match", test_long_match);
	g_test_add_func("/mapi-lz77/hostile", test_hostile);
	g_test_add_func("/mapi-lz77/truncations", test_truncations);
	g_test_add_func("/mapi-lz77/xor", test_xor);
	g_test_add_func("/mapi-lz77/rpcext", test_rpcext);
	g_test_add_func("/mapi-lz77/rpcext-hostile", test_rpcext_hostile);
	return g_test_run();
}
