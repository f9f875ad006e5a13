/*
 * ntlm.c - see ntlm.h.  Specs: MS-NLMP 2.2 (messages, AV pairs, flags),
 * 3.3.1 and 3.3.2 (NTOWFv1, NTOWFv2, the NTLMv2 response), RFC 1320
 * (MD4), RFC 2104 (HMAC, through GLib's GHmac with MD5).
 */
#include "ntlm.h"

#include <errno.h>
#include <string.h>

static const uint8_t signature[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };

/* AV pair ids (MS-NLMP 2.2.2.1) */
enum {
	AV_EOL = 0, AV_NB_COMPUTER = 1, AV_NB_DOMAIN = 2, AV_DNS_COMPUTER = 3,
	AV_DNS_DOMAIN = 4, AV_TIMESTAMP = 7,
};

/* the fixed part of an AUTHENTICATE_MESSAGE up to its NegotiateFlags */
#define AUTH_FIXED 64
/* an NTLMv2 response: NTProofStr, then a client challenge of at least
 * RespType, HiRespType, 6 reserved, the time, 8 bytes of the client and
 * 4 reserved (MS-NLMP 2.2.2.7), its AV pairs ending with MsvAvEOL */
#define V2_MIN (NTLM_HASH_LEN + 28 + 4)

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put16(GByteArray *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	g_byte_array_append(b, x, 2);
}

static void put32(GByteArray *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	g_byte_array_append(b, x, 4);
}

static void set16(GByteArray *b, size_t at, uint16_t v)
{
	b->data[at] = (uint8_t)v;
	b->data[at + 1] = (uint8_t)(v >> 8);
}

static void set32(GByteArray *b, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b->data[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* ---- MD4, RFC 1320 ---- */

struct md4 {
	uint32_t s[4];
};

static uint32_t rol(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

#define MD4_F(x, y, z) (((x) & (y)) | (~(x) & (z)))
#define MD4_G(x, y, z) (((x) & (y)) | ((x) & (z)) | ((y) & (z)))
#define MD4_H(x, y, z) ((x) ^ (y) ^ (z))

/* One 64-byte block: three rounds of sixteen steps, each step on the word
 * the rotation of (a, b, c, d) puts first. */
static void md4_block(struct md4 *m, const uint8_t *p)
{
	static const uint8_t order2[16] = { 0, 4, 8, 12, 1, 5, 9, 13,
					    2, 6, 10, 14, 3, 7, 11, 15 };
	static const uint8_t order3[16] = { 0, 8, 4, 12, 2, 10, 6, 14,
					    1, 9, 5, 13, 3, 11, 7, 15 };
	static const uint8_t s1[4] = { 3, 7, 11, 19 }, s2[4] = { 3, 5, 9, 13 },
			     s3[4] = { 3, 9, 11, 15 };
	uint32_t x[16], v[4];
	int i;

	for (i = 0; i < 16; i++)
		x[i] = rd32(p + 4 * i);
	memcpy(v, m->s, sizeof(v));
	for (i = 0; i < 16; i++) {
		uint32_t *a = &v[(4 - i % 4) % 4], b = v[(5 - i % 4) % 4],
			 c = v[(6 - i % 4) % 4], d = v[(7 - i % 4) % 4];
		*a = rol(*a + MD4_F(b, c, d) + x[i], s1[i % 4]);
	}
	for (i = 0; i < 16; i++) {
		uint32_t *a = &v[(4 - i % 4) % 4], b = v[(5 - i % 4) % 4],
			 c = v[(6 - i % 4) % 4], d = v[(7 - i % 4) % 4];
		*a = rol(*a + MD4_G(b, c, d) + x[order2[i]] + 0x5a827999u,
			 s2[i % 4]);
	}
	for (i = 0; i < 16; i++) {
		uint32_t *a = &v[(4 - i % 4) % 4], b = v[(5 - i % 4) % 4],
			 c = v[(6 - i % 4) % 4], d = v[(7 - i % 4) % 4];
		*a = rol(*a + MD4_H(b, c, d) + x[order3[i]] + 0x6ed9eba1u,
			 s3[i % 4]);
	}
	for (i = 0; i < 4; i++)
		m->s[i] += v[i];
}

void ntlm_md4(const void *data, size_t len, uint8_t out[NTLM_HASH_LEN])
{
	struct md4 m = { { 0x67452301u, 0xefcdab89u, 0x98badcfeu,
			   0x10325476u } };
	const uint8_t *p = data;
	uint8_t tail[128] = { 0 };
	uint64_t bits = (uint64_t)len * 8;
	size_t rest = len % 64, n;

	for (size_t i = 0; i + 64 <= len; i += 64)
		md4_block(&m, p + i);
	/* a 1 bit, zeros up to 56 mod 64, the length in bits, little end
	 * first */
	if (rest)
		memcpy(tail, p + len - rest, rest);
	tail[rest] = 0x80;
	n = rest < 56 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[n - 8 + (size_t)i] = (uint8_t)(bits >> (8 * i));
	md4_block(&m, tail);
	if (n == 128)
		md4_block(&m, tail + 64);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (uint8_t)(m.s[i] >> (8 * j));
	explicit_bzero(tail, sizeof(tail));
}

/* ---- keys ---- */

/* The UTF-16LE bytes of UTF-8 `s`, or NULL when it is not UTF-8.  Caller
 * owns the result (and wipes it when it held a secret). */
static uint8_t *utf16le(const char *s, size_t *len_r)
{
	glong n = 0;
	gunichar2 *u = g_utf8_to_utf16(s, -1, NULL, &n, NULL);
	uint8_t *out;

	if (!u)
		return NULL;
	out = g_malloc((gsize)n * 2 + 1);
	for (glong i = 0; i < n; i++) {
		out[2 * i] = (uint8_t)u[i];
		out[2 * i + 1] = (uint8_t)(u[i] >> 8);
	}
	explicit_bzero(u, (size_t)n * 2);
	g_free(u);
	*len_r = (size_t)n * 2;
	return out;
}

static void hmac_md5(const uint8_t key[NTLM_HASH_LEN], const uint8_t *a,
		     size_t alen, const uint8_t *b, size_t blen,
		     uint8_t out[NTLM_HASH_LEN])
{
	GHmac *h = g_hmac_new(G_CHECKSUM_MD5, key, NTLM_HASH_LEN);
	gsize n = NTLM_HASH_LEN;

	g_hmac_update(h, a, (gssize)alen);
	if (blen)
		g_hmac_update(h, b, (gssize)blen);
	g_hmac_get_digest(h, out, &n);
	g_hmac_unref(h);
}

int ntlm_nt_hash(const char *password, uint8_t out[NTLM_HASH_LEN])
{
	size_t n;
	uint8_t *u = utf16le(password, &n);

	if (!u)
		return -EINVAL;
	ntlm_md4(u, n, out);
	explicit_bzero(u, n);
	g_free(u);
	return 0;
}

int ntlm_ntowfv2(const uint8_t nt_hash[NTLM_HASH_LEN], const char *user,
		 const char *domain, uint8_t out[NTLM_HASH_LEN])
{
	char *up, *both;
	uint8_t *u;
	size_t n;

	if (!g_utf8_validate(user, -1, NULL))
		return -EINVAL;
	up = g_utf8_strup(user, -1);
	both = g_strconcat(up, domain, NULL);
	u = utf16le(both, &n);
	g_free(up);
	g_free(both);
	if (!u)
		return -EINVAL;
	hmac_md5(nt_hash, u, n, NULL, 0, out);
	g_free(u);
	return 0;
}

bool ntlm_v2_verify(const uint8_t ntowfv2[NTLM_HASH_LEN],
		    const uint8_t challenge[NTLM_CHALLENGE_LEN],
		    const uint8_t *nt, size_t nt_len)
{
	uint8_t proof[NTLM_HASH_LEN];
	uint8_t *msg;
	unsigned char d = 0;

	if (nt_len < V2_MIN || nt_len > NTLM_MESSAGE_MAX)
		return false;
	/* HMAC-MD5(key, ServerChallenge || temp); temp follows NTProofStr */
	msg = g_malloc(NTLM_CHALLENGE_LEN + nt_len - NTLM_HASH_LEN);
	memcpy(msg, challenge, NTLM_CHALLENGE_LEN);
	memcpy(msg + NTLM_CHALLENGE_LEN, nt + NTLM_HASH_LEN,
	       nt_len - NTLM_HASH_LEN);
	hmac_md5(ntowfv2, msg, NTLM_CHALLENGE_LEN + nt_len - NTLM_HASH_LEN,
		 NULL, 0, proof);
	g_free(msg);
	for (int i = 0; i < NTLM_HASH_LEN; i++)
		d |= (unsigned char)(proof[i] ^ nt[i]);
	return d == 0;
}

/* ---- messages ---- */

unsigned ntlm_message_type(const uint8_t *msg, size_t len)
{
	uint32_t t;

	if (len < 12 || memcmp(msg, signature, sizeof(signature)))
		return 0;
	t = rd32(msg + 8);
	return t >= 1 && t <= 3 ? t : 0;
}

int ntlm_parse_negotiate(const uint8_t *msg, size_t len, uint32_t *flags_r)
{
	/* signature, type, flags; the domain and workstation after them are
	 * optional and of no use to the server */
	if (len < 16 || ntlm_message_type(msg, len) != 1)
		return -EINVAL;
	*flags_r = rd32(msg + 12);
	return 0;
}

static void av_text(GByteArray *b, uint16_t id, const char *ascii)
{
	size_t n = strlen(ascii);

	put16(b, id);
	put16(b, (uint16_t)(2 * n));
	for (size_t i = 0; i < n; i++)
		put16(b, (uint8_t)ascii[i]);
}

/* A field header (Len, MaxLen, BufferOffset) at `at` for the payload
 * about to be appended, then the payload. */
static void field(GByteArray *b, size_t at, const uint8_t *data, size_t n)
{
	set16(b, at, (uint16_t)n);
	set16(b, at + 2, (uint16_t)n);
	set32(b, at + 4, b->len);
	g_byte_array_append(b, data, (guint)n);
}

GByteArray *ntlm_build_challenge(uint32_t client_flags,
				 const uint8_t challenge[NTLM_CHALLENGE_LEN],
				 const char *name, uint64_t filetime)
{
	/* what the server agrees to: the client's choices it can honour
	 * (signing and sealing keys are the client's business over HTTP) */
	const uint32_t echoed = NTLM_NEGOTIATE_SIGN |
				NTLM_NEGOTIATE_ALWAYS_SIGN |
				NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY |
				NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_KEY_EXCH |
				NTLM_NEGOTIATE_56;
	uint32_t flags = (client_flags & echoed) | NTLM_REQUEST_TARGET |
			 NTLM_NEGOTIATE_NTLM | NTLM_TARGET_TYPE_DOMAIN |
			 NTLM_NEGOTIATE_TARGET_INFO;
	bool unicode = client_flags & NTLM_NEGOTIATE_UNICODE;
	GByteArray *b = g_byte_array_sized_new(128);
	GByteArray *info = g_byte_array_new();
	GByteArray *target = g_byte_array_new();
	size_t n = strlen(name);

	flags |= unicode ? NTLM_NEGOTIATE_UNICODE : NTLM_NEGOTIATE_OEM;
	for (size_t i = 0; i < n; i++) {
		if (unicode)
			put16(target, (uint8_t)name[i]);
		else
			g_byte_array_append(target, (const guint8 *)&name[i],
					    1);
	}
	av_text(info, AV_NB_DOMAIN, name);
	av_text(info, AV_NB_COMPUTER, name);
	av_text(info, AV_DNS_DOMAIN, name);
	av_text(info, AV_DNS_COMPUTER, name);
	put16(info, AV_TIMESTAMP);
	put16(info, 8);
	put32(info, (uint32_t)filetime);
	put32(info, (uint32_t)(filetime >> 32));
	put16(info, AV_EOL);
	put16(info, 0);

	/* fixed part: signature, type, TargetNameFields, flags, challenge,
	 * reserved, TargetInfoFields, Version (zero: not announced) */
	g_byte_array_append(b, signature, sizeof(signature));
	put32(b, 2);
	put32(b, 0);
	put32(b, 0);
	put32(b, flags);
	g_byte_array_append(b, challenge, NTLM_CHALLENGE_LEN);
	for (int i = 0; i < 6; i++)
		put32(b, 0);
	field(b, 12, target->data, target->len);
	field(b, 40, info->data, info->len);
	g_byte_array_unref(info);
	g_byte_array_unref(target);
	return b;
}

/* The field whose header is at `at`: its bytes, within the message. */
static int get_field(const uint8_t *msg, size_t len, size_t at,
		     const uint8_t **p_r, size_t *n_r)
{
	size_t n = rd16(msg + at), off = rd32(msg + at + 4);

	if (off > len || n > len - off)
		return -EINVAL;
	*p_r = msg + off;
	*n_r = n;
	return 0;
}

/* A name field as UTF-8: UTF-16LE when `unicode`, else bytes that must be
 * UTF-8 (clients send their OEM page; ASCII names are the same in all).
 * Returns 0 or -EINVAL; caller owns *out_r. */
static int get_text(const uint8_t *msg, size_t len, size_t at, bool unicode,
		    char **out_r)
{
	const uint8_t *p;
	size_t n;
	gunichar2 *u;

	if (get_field(msg, len, at, &p, &n) < 0)
		return -EINVAL;
	if (!unicode) {
		if (memchr(p, 0, n) || !g_utf8_validate((const char *)p,
							(gssize)n, NULL))
			return -EINVAL;
		*out_r = g_strndup((const char *)p, n);
		return 0;
	}
	if (n % 2)
		return -EINVAL;
	u = g_new(gunichar2, n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		u[i] = rd16(p + 2 * i);
		if (!u[i]) {
			g_free(u);
			return -EINVAL;
		}
	}
	*out_r = g_utf16_to_utf8(u, (glong)(n / 2), NULL, NULL, NULL);
	g_free(u);
	return *out_r ? 0 : -EINVAL;
}

int ntlm_parse_authenticate(const uint8_t *msg, size_t len,
			    struct ntlm_authenticate *a)
{
	const uint8_t *nt, *lm;
	size_t nt_len, lm_len;
	bool unicode;

	memset(a, 0, sizeof(*a));
	if (len < AUTH_FIXED || len > NTLM_MESSAGE_MAX ||
	    ntlm_message_type(msg, len) != 3)
		return -EINVAL;
	a->flags = rd32(msg + 60);
	unicode = a->flags & NTLM_NEGOTIATE_UNICODE;
	if (get_field(msg, len, 12, &lm, &lm_len) < 0 ||
	    get_field(msg, len, 20, &nt, &nt_len) < 0 ||
	    get_text(msg, len, 28, unicode, &a->domain) < 0 ||
	    get_text(msg, len, 36, unicode, &a->user) < 0 ||
	    get_text(msg, len, 44, unicode, &a->workstation) < 0) {
		ntlm_authenticate_clear(a);
		return -EINVAL;
	}
	/* NTLMv1 answers in 24 bytes, LM alone or anonymous in none; an
	 * NTLMv2 response's client challenge starts with its two versions,
	 * both 1 */
	if (nt_len < V2_MIN || nt[NTLM_HASH_LEN] != 1 ||
	    nt[NTLM_HASH_LEN + 1] != 1) {
		ntlm_authenticate_clear(a);
		return nt_len == 24 || nt_len == 0 ? -EPROTONOSUPPORT
						   : -EINVAL;
	}
	a->nt = g_memdup2(nt, nt_len);
	a->nt_len = nt_len;
	return 0;
}

void ntlm_authenticate_clear(struct ntlm_authenticate *a)
{
	g_free(a->user);
	g_free(a->domain);
	g_free(a->workstation);
	g_free(a->nt);
	memset(a, 0, sizeof(*a));
}
