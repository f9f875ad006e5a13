/*
 * test-ntlm.c - wire/ntlm.h: MD4 against RFC 1320's test suite, NTOWFv1,
 * NTOWFv2 and the NTLMv2 response against MS-NLMP 4.2.2 and 4.2.4, a
 * CHALLENGE built and read back, AUTHENTICATE messages parsed, and the
 * LM/NTLMv1 responses and broken messages refused.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/ntlm.h"

static void check_hex(const uint8_t *got, const char *want)
{
	g_autofree char *hex = g_malloc(2 * NTLM_HASH_LEN + 1);

	for (int i = 0; i < NTLM_HASH_LEN; i++)
		g_snprintf(hex + 2 * i, 3, "%02x", got[i]);
	g_assert_cmpstr(hex, ==, want);
}

/* RFC 1320 A.5 */
static void test_md4(void)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "31d6cfe0d16ae931b73c59d7e0c089c0" },
		{ "a", "bde52cb31de33e46245e05fbdbd6fb24" },
		{ "abc", "a448017aaf21d8525fc10ae87aa6729d" },
		{ "message digest", "d9130a8164549fe818874806e1c7014b" },
		{ "abcdefghijklmnopqrstuvwxyz",
		  "d79e1c308aa5bbcdeea8ed63df412da9" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		  "0123456789", "043f8582f241db351ce627e153e7f0e4" },
		{ "1234567890123456789012345678901234567890123456789012345"
		  "6789012345678901234567890",
		  "e33b4ddc9c38f2199c3e7b164fcc0536" },
	};
	uint8_t h[NTLM_HASH_LEN];

	for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
		ntlm_md4(v[i].in, strlen(v[i].in), h);
		check_hex(h, v[i].out);
	}
}

/* MS-NLMP 4.2.1: the common values; 4.2.4.2.2: the temp of the NTLMv2
 * example, its client challenge and the target info of 4.2.4.3 */
static const uint8_t server_challenge[8] = { 0x01, 0x23, 0x45, 0x67,
					     0x89, 0xab, 0xcd, 0xef };
static const uint8_t temp[] = {
	1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0, 0, 0, 0,
	0x02, 0x00, 0x0c, 0x00, 'D', 0, 'o', 0, 'm', 0, 'a', 0, 'i', 0, 'n', 0,
	0x01, 0x00, 0x0c, 0x00, 'S', 0, 'e', 0, 'r', 0, 'v', 0, 'e', 0, 'r', 0,
	0, 0, 0, 0, 0, 0, 0, 0,
};
static const uint8_t proof[16] = { 0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c,
				   0x96, 0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef,
				   0x6a, 0x1c };

static void test_keys(void)
{
	uint8_t nt[NTLM_HASH_LEN], key[NTLM_HASH_LEN];

	g_assert_cmpint(ntlm_nt_hash("Password", nt), ==, 0);
	check_hex(nt, "a4f49c406510bdcab6824ee7c30fd852");	/* 4.2.2.1.2 */
	g_assert_cmpint(ntlm_ntowfv2(nt, "User", "Domain", key), ==, 0);
	check_hex(key, "0c868a403bfd7a93a3001ef22ef02e3f");	/* 4.2.4.1.1 */
	/* the user is upper-cased, the domain is not */
	uint8_t key2[NTLM_HASH_LEN];
	g_assert_cmpint(ntlm_ntowfv2(nt, "uSER", "Domain", key2), ==, 0);
	g_assert_cmpmem(key, 16, key2, 16);
	g_assert_cmpint(ntlm_ntowfv2(nt, "User", "DOMAIN", key2), ==, 0);
	g_assert_true(memcmp(key, key2, 16) != 0);
	g_assert_cmpint(ntlm_nt_hash("\xff", nt), ==, -EINVAL);
}

static GByteArray *nt_response(void)
{
	GByteArray *b = g_byte_array_new();

	g_byte_array_append(b, proof, sizeof(proof));
	g_byte_array_append(b, temp, sizeof(temp));
	return b;
}

static void test_v2_verify(void)
{
	uint8_t nt[NTLM_HASH_LEN], key[NTLM_HASH_LEN];
	g_autoptr(GByteArray) r = nt_response();

	ntlm_nt_hash("Password", nt);
	ntlm_ntowfv2(nt, "User", "Domain", key);
	g_assert_true(ntlm_v2_verify(key, server_challenge, r->data, r->len));
	/* another challenge, password, or a changed blob: refused */
	uint8_t other[8] = { 0 };
	g_assert_false(ntlm_v2_verify(key, other, r->data, r->len));
	ntlm_nt_hash("password", nt);
	ntlm_ntowfv2(nt, "User", "Domain", key);
	g_assert_false(ntlm_v2_verify(key, server_challenge, r->data, r->len));
	ntlm_nt_hash("Password", nt);
	ntlm_ntowfv2(nt, "User", "Domain", key);
	r->data[40] ^= 1;
	g_assert_false(ntlm_v2_verify(key, server_challenge, r->data, r->len));
	g_assert_false(ntlm_v2_verify(key, server_challenge, r->data, 24));
}

static void put16(GByteArray *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	g_byte_array_append(b, x, 2);
}

static void put32(GByteArray *b, uint32_t v)
{
	put16(b, (uint16_t)v);
	put16(b, (uint16_t)(v >> 16));
}

/* An AUTHENTICATE_MESSAGE with these fields (Unicode names when
 * `unicode`), as a client writes it. */
static GByteArray *authenticate(const uint8_t *nt, size_t nt_len,
				const char *domain, const char *user,
				bool unicode)
{
	GByteArray *b = g_byte_array_new();
	GByteArray *pay = g_byte_array_new();
	const char *names[3] = { domain, user, "WS" };
	size_t off[5], len[5];
	uint8_t lm[24] = { 0 };

	off[0] = 88;
	g_byte_array_append(pay, lm, sizeof(lm));
	len[0] = sizeof(lm);
	off[1] = 88 + pay->len;
	g_byte_array_append(pay, nt, (guint)nt_len);
	len[1] = nt_len;
	for (int i = 0; i < 3; i++) {
		size_t start = pay->len;
		off[2 + i] = 88 + start;
		for (const char *c = names[i]; *c; c++)
			if (unicode)
				put16(pay, (uint8_t)*c);
			else
				g_byte_array_append(pay, (const guint8 *)c, 1);
		len[2 + i] = pay->len - start;
	}
	g_byte_array_append(b, (const guint8 *)"NTLMSSP", 8);
	put32(b, 3);
	for (int i = 0; i < 5; i++) {
		put16(b, (uint16_t)len[i]);
		put16(b, (uint16_t)len[i]);
		put32(b, (uint32_t)off[i]);
	}
	put32(b, 0);	/* session key: empty */
	put32(b, 0);
	put32(b, unicode ? NTLM_NEGOTIATE_UNICODE : NTLM_NEGOTIATE_OEM);
	while (b->len < 88)
		g_byte_array_append(b, lm, 1);
	g_byte_array_append(b, pay->data, pay->len);
	g_byte_array_unref(pay);
	return b;
}

static void test_authenticate(void)
{
	g_autoptr(GByteArray) r = nt_response();
	struct ntlm_authenticate a;
	uint8_t v1[24] = { 1, 2, 3 };

	for (int u = 0; u < 2; u++) {
		g_autoptr(GByteArray) m = authenticate(r->data, r->len,
						       "Domain", "User", u);
		g_assert_cmpuint(ntlm_message_type(m->data, m->len), ==, 3);
		g_assert_cmpint(ntlm_parse_authenticate(m->data, m->len, &a),
				==, 0);
		g_assert_cmpstr(a.user, ==, "User");
		g_assert_cmpstr(a.domain, ==, "Domain");
		g_assert_cmpstr(a.workstation, ==, "WS");
		g_assert_cmpmem(a.nt, a.nt_len, r->data, r->len);
		ntlm_authenticate_clear(&a);
		/* every shortening of it is refused, never read past */
		for (guint n = 0; n < m->len; n++)
			if (ntlm_parse_authenticate(m->data, n, &a) == 0)
				g_assert_cmpuint(n, >=, 88);
			else
				g_assert_null(a.user);
		ntlm_authenticate_clear(&a);
	}
	/* NTLMv1 and LM-only responses: told apart */
	g_autoptr(GByteArray) m1 = authenticate(v1, sizeof(v1), "D", "U", 1);
	g_assert_cmpint(ntlm_parse_authenticate(m1->data, m1->len, &a), ==,
			-EPROTONOSUPPORT);
	g_assert_null(a.user);
	g_autoptr(GByteArray) m0 = authenticate(v1, 0, "D", "U", 1);
	g_assert_cmpint(ntlm_parse_authenticate(m0->data, m0->len, &a), ==,
			-EPROTONOSUPPORT);
	/* a field past the end */
	g_autoptr(GByteArray) mx = authenticate(r->data, r->len, "D", "U", 1);
	mx->data[40] = 0xff;
	g_assert_cmpint(ntlm_parse_authenticate(mx->data, mx->len, &a), ==,
			-EINVAL);
	/* an odd UTF-16 length */
	g_autoptr(GByteArray) mo = authenticate(r->data, r->len, "D", "U", 1);
	mo->data[36] = 1;
	g_assert_cmpint(ntlm_parse_authenticate(mo->data, mo->len, &a), ==,
			-EINVAL);
}

/* Find AV pair `id` in target info; its value's length or -1. */
static int av_find(const uint8_t *p, size_t n, uint16_t id, size_t *at_r)
{
	size_t i = 0;

	while (i + 4 <= n) {
		uint16_t t = (uint16_t)(p[i] | p[i + 1] << 8);
		uint16_t l = (uint16_t)(p[i + 2] | p[i + 3] << 8);
		if (t == id) {
			*at_r = i + 4;
			return l;
		}
		if (t == 0)
			return -1;
		i += 4u + l;
	}
	return -1;
}

static void test_challenge(void)
{
	uint8_t neg[32] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0,
			    0x07, 0x82, 0x08, 0xa2 };
	uint32_t flags;
	size_t at;

	g_assert_cmpint(ntlm_parse_negotiate(neg, sizeof(neg), &flags), ==, 0);
	g_assert_cmphex(flags, ==, 0xa2088207);
	g_assert_cmpint(ntlm_parse_negotiate(neg, 15, &flags), ==, -EINVAL);
	neg[8] = 3;
	g_assert_cmpint(ntlm_parse_negotiate(neg, sizeof(neg), &flags), ==,
			-EINVAL);

	for (int u = 0; u < 2; u++) {
		g_autoptr(GByteArray) c = ntlm_build_challenge(
			u ? 0xa2088207 : 0x00088206, server_challenge,
			"MAILFS", 0x01d0000000000001ull);
		const uint8_t *p = c->data;
		uint32_t f = (uint32_t)(p[20] | p[21] << 8 | p[22] << 16 |
					(uint32_t)p[23] << 24);
		size_t tlen = (size_t)(p[12] | p[13] << 8);
		size_t toff = (size_t)(p[16] | p[17] << 8);
		size_t ilen = (size_t)(p[40] | p[41] << 8);
		size_t ioff = (size_t)(p[44] | p[45] << 8);

		g_assert_cmpuint(ntlm_message_type(p, c->len), ==, 2);
		g_assert_cmpmem(p + 24, 8, server_challenge, 8);
		g_assert_true(f & NTLM_NEGOTIATE_TARGET_INFO);
		g_assert_true(f & NTLM_NEGOTIATE_NTLM);
		g_assert_cmpint(!!(f & NTLM_NEGOTIATE_UNICODE), ==, u);
		g_assert_cmpint(!!(f & NTLM_NEGOTIATE_OEM), ==, !u);
		g_assert_cmpuint(tlen, ==, u ? 12 : 6);
		g_assert_cmpuint(toff + tlen, <=, c->len);
		g_assert_cmpuint(ioff + ilen, ==, c->len);
		g_assert_cmpint(av_find(p + ioff, ilen, 2, &at), ==, 12);
		g_assert_cmpmem(p + ioff + at, 4, "M\0A\0", 4);
		g_assert_cmpint(av_find(p + ioff, ilen, 7, &at), ==, 8);
		g_assert_cmpuint(p[ioff + at], ==, 1);
		g_assert_cmpuint(p[ioff + at + 7], ==, 0x01);
		g_assert_cmpint(av_find(p + ioff, ilen, 0, &at), ==, 0);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ntlm/md4", test_md4);
	g_test_add_func("/ntlm/keys", test_keys);
	g_test_add_func("/ntlm/v2-verify", test_v2_verify);
	g_test_add_func("/ntlm/authenticate", test_authenticate);
	g_test_add_func("/ntlm/challenge", test_challenge);
	return g_test_run();
}
