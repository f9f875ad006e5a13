/*
 * test-mutf7.c - IMAP modified UTF-7 (common/mutf7.h).
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "mutf7.h"

static const struct {
	const char *mutf7;
	const char *utf8;
} pair_cases[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "Sent Items", "Sent Items" },
	/* RFC 3501 section 5.1.3 */
	{ "~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/台北/日本語" },
	/* RFC 2152's example, with the modified shift characters */
	{ "Hi Mom -&Jjo--!", "Hi Mom -☺-!" },
	{ "&ZeVnLIqe-", "日本語" },
	{ "Entw&APw-rfe", "Entwürfe" },
	{ "&-", "&" },
	{ "&-&-", "&&" },
	{ "Tom &- Jerry", "Tom & Jerry" },
	{ "-", "-" },
	{ "&AOQ-", "ä" },
	{ "&AOQA5A-", "ää" },
	{ "&AOQ-&-&AOQ-", "ä&ä" },	/* "&" ends a run, it is not in one */
	{ "&AOQ-a&AOQ-", "äaä" },
	{ "&AIA-", "\xC2\x80" },	/* U+0080 */
	{ "&AAE-", "\x01" },
	{ "a&AAk-b", "a\tb" },
	{ "&AH8-", "\x7F" },
	{ "&AAoADQ-", "\n\r" },
	{ "&,,8-", "\xEF\xBF\xBF" },	/* U+FFFF */
	{ "&,,4-", "\xEF\xBF\xBE" },	/* U+FFFE */
	{ "&2D3eAA-", "😀" },		/* U+1F600, a surrogate pair */
	{ "&2D3eANg93gE-", "😀😁" },
	{ "&2,,f,w-", "\xF4\x8F\xBF\xBF" },	/* U+10FFFF */
	{ "&2ADcAA-", "\xF0\x90\x80\x80" },	/* U+10000 */
	{ "&1,8-", "\xED\x9F\xBF" },	/* U+D7FF, below the surrogates */
	{ "&4AA-", "\xEE\x80\x80" },	/* U+E000, just above them */
	{ "&AOQ-&2D3eAA-", NULL },	/* null shift: decode only refuses */
};

static void test_pairs(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(pair_cases); i++) {
		const char *m = pair_cases[i].mutf7, *u = pair_cases[i].utf8;
		g_autofree char *shown = g_strescape(m, NULL);
		char *out = NULL;

		g_test_message("case '%s'", shown);
		if (!u) {
			g_assert_cmpint(mutf7_decode(m, &out), ==, -EINVAL);
			g_assert_null(out);
			continue;
		}
		g_assert_cmpint(mutf7_decode(m, &out), ==, 0);
		g_assert_cmpstr(out, ==, u);
		g_free(out);
		out = NULL;
		g_assert_cmpint(mutf7_encode(u, &out), ==, 0);
		g_assert_cmpstr(out, ==, m);
		g_free(out);
	}
}

static const struct {
	const char *what;
	const char *in;
} bad_decode_cases[] = {
	{ "unclosed shift", "&" },
	{ "unclosed run", "&AOQ" },
	{ "unclosed run after text", "abc&AOQ" },
	{ "unclosed after escape", "&-&" },
	{ "shift inside shift", "&&-" },
	{ "'=' padding", "&AOQ=-" },
	{ "'/' of plain base64", "&AO/-" },
	{ "space in a run", "&AO Q-" },
	{ "8-bit byte in a run", "&AO\xC3\xA4-" },
	{ "run of 6 bits", "&A-" },
	{ "run of 12 bits", "&AO-" },
	{ "surplus character", "&AOQA-" },
	{ "two surplus characters", "&AOQAA-" },
	{ "non-zero padding bits", "&AOR-" },
	{ "shifted 'a'", "&AGE-" },
	{ "shifted '&'", "&ACY-" },
	{ "shifted space", "&ACA-" },
	{ "shifted '~'", "&AH4-" },
	{ "shifted '-'", "&AC0-" },
	{ "shifted NUL", "&AAA-" },
	{ "'a' among others", "&AOQAYQ-" },
	{ "lone high surrogate", "&2D0-" },
	{ "lone low surrogate", "&3gA-" },
	{ "two high surrogates", "&2D3YPQ-" },
	{ "low before high", "&3gDYPQ-" },
	{ "high then ordinary", "&2D0A5A-" },
	{ "pair split over runs", "&2D0-&3gA-" },
	{ "pair split by text", "&2D0-a&3gA-" },
	{ "null shift", "&AOQ-&AOQ-" },
	{ "null shift, three runs", "&AOQ-&AOQ-&AOQ-" },
	{ "raw UTF-8", "Entw\xC3\xBCrfe" },
	{ "raw 8-bit byte", "caf\xE9" },
	{ "raw tab", "a\tb" },
	{ "raw DEL", "a\x7F" },
	{ "raw line end", "INBOX\r\n" },
};

static void test_decode_malformed(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad_decode_cases); i++) {
		g_autofree char *shown = g_strescape(bad_decode_cases[i].in,
						     NULL);
		char *out = NULL;

		/* escaped: raw bytes would break the TAP output */
		g_test_message("%s: '%s'", bad_decode_cases[i].what, shown);
		g_assert_cmpint(mutf7_decode(bad_decode_cases[i].in, &out), ==,
				-EINVAL);
		g_assert_null(out);
	}
}

/* Every character with a direct spelling is refused in a run. */
static void test_decode_refuses_shifted_ascii(void)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+,";

	for (unsigned u = 0; u < 0x80; u++) {
		char in[] = { '&', b64[(u >> 10) & 63], b64[(u >> 4) & 63],
			      b64[(u << 2) & 63], '-', '\0' };
		char *out = NULL;
		int rc = mutf7_decode(in, &out);

		g_test_message("U+%04X as '%s'", u, in);
		if (u == 0 || (u >= 0x20 && u <= 0x7E)) {
			g_assert_cmpint(rc, ==, -EINVAL);
			g_assert_null(out);
		} else {
			g_assert_cmpint(rc, ==, 0);
			g_assert_cmpint(strlen(out), ==, 1);
			g_assert_cmpint((unsigned char)out[0], ==, u);
			g_free(out);
		}
	}
}

static const struct {
	const char *what;
	const char *in;
} bad_utf8_cases[] = {
	{ "lone continuation byte", "a\x80z" },
	{ "0xFF", "\xFF" },
	{ "0xFE", "\xFE" },
	{ "truncated two-byte form", "\xC3" },
	{ "truncated three-byte form", "\xE6\x97" },
	{ "truncated four-byte form", "\xF0\x9F\x98" },
	{ "overlong '/'", "\xC0\xAF" },
	{ "overlong NUL", "\xC0\x80" },
	{ "overlong three-byte form", "\xE0\x80\xAF" },
	{ "surrogate", "\xED\xA0\x80" },
	{ "above U+10FFFF", "\xF4\x90\x80\x80" },
	{ "Latin-1", "Entw\xFCrfe" },
};

static void test_encode_invalid_utf8(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad_utf8_cases); i++) {
		char *out = NULL;

		g_test_message("%s", bad_utf8_cases[i].what);
		g_assert_cmpint(mutf7_encode(bad_utf8_cases[i].in, &out), ==,
				-EINVAL);
		g_assert_null(out);
	}
}

/*
 * Every prefix of a valid name either decodes or is refused, and what
 * decodes encodes back to the same prefix; each prefix is a fresh
 * allocation of its exact size, so ASan sees any read past the NUL.
 */
static void test_decode_prefixes(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(pair_cases); i++) {
		const char *m = pair_cases[i].mutf7;

		for (size_t n = 0; n <= strlen(m); n++) {
			g_autofree char *prefix = g_strndup(m, n);
			g_autofree char *back = NULL;
			char *out = NULL;

			if (mutf7_decode(prefix, &out) < 0)
				continue;
			g_assert_cmpint(mutf7_encode(out, &back), ==, 0);
			g_assert_cmpstr(back, ==, prefix);
			g_free(out);
		}
	}
}

/* A code point from one of the ranges that exercise different paths. */
static gunichar random_char(GRand *r)
{
	static const char direct[] = "aZ09 -&+,/~.%";

	switch (g_rand_int_range(r, 0, 6)) {
	case 0:
		return (gunichar)direct[g_rand_int_range(r, 0,
							 sizeof(direct) - 1)];
	case 1:
		return (gunichar)g_rand_int_range(r, 0x20, 0x7F);
	case 2: {
		gunichar c = (gunichar)g_rand_int_range(r, 1, 0x21);
		return c == 0x20 ? 0x7F : c;
	}
	case 3:
		return (gunichar)g_rand_int_range(r, 0x80, 0x800);
	case 4: {
		gunichar c = (gunichar)g_rand_int_range(r, 0x800, 0x10000);
		return (c >= 0xD800 && c <= 0xDFFF) ? 0xFFFD : c;
	}
	default:
		return (gunichar)g_rand_int_range(r, 0x10000, 0x110000);
	}
}

static void test_random_round_trip(void)
{
	GRand *r = g_rand_new_with_seed(20240607);

	for (int i = 0; i < 20000; i++) {
		GString *s = g_string_new(NULL);
		int len = g_rand_int_range(r, 0, 24);
		char *enc = NULL, *dec = NULL;

		for (int j = 0; j < len; j++)
			g_string_append_unichar(s, random_char(r));
		g_assert_true(g_utf8_validate(s->str, -1, NULL));
		g_assert_cmpint(mutf7_encode(s->str, &enc), ==, 0);
		for (const char *p = enc; *p; p++)
			g_assert_true(*p >= 0x20 && *p <= 0x7E);
		g_assert_cmpint(mutf7_decode(enc, &dec), ==, 0);
		g_assert_cmpstr(dec, ==, s->str);
		g_free(enc);
		g_free(dec);
		g_string_free(s, TRUE);
	}
	g_rand_free(r);
}

/* Random printable strings: what decodes re-encodes to itself. */
static void test_random_decode_canonical(void)
{
	static const char alphabet[] = "&-AOQ2D3eg,+/=a0";
	GRand *r = g_rand_new_with_seed(77);
	unsigned accepted = 0;

	for (int i = 0; i < 50000; i++) {
		int len = g_rand_int_range(r, 0, 12);
		char in[16];
		char *dec = NULL, *enc = NULL;

		for (int j = 0; j < len; j++)
			in[j] = alphabet[g_rand_int_range(r, 0,
							  sizeof(alphabet) - 1)];
		in[len] = '\0';
		if (mutf7_decode(in, &dec) < 0) {
			g_assert_null(dec);
			continue;
		}
		accepted++;
		g_assert_cmpint(mutf7_encode(dec, &enc), ==, 0);
		g_assert_cmpstr(enc, ==, in);
		g_free(enc);
		g_free(dec);
	}
	g_assert_cmpuint(accepted, >, 1000);
	g_rand_free(r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mutf7/pairs", test_pairs);
	g_test_add_func("/mutf7/decode-malformed", test_decode_malformed);
	g_test_add_func("/mutf7/decode-refuses-shifted-ascii",
			test_decode_refuses_shifted_ascii);
	g_test_add_func("/mutf7/encode-invalid-utf8", test_encode_invalid_utf8);
	g_test_add_func("/mutf7/decode-prefixes", test_decode_prefixes);
	g_test_add_func("/mutf7/random-round-trip", test_random_round_trip);
	g_test_add_func("/mutf7/random-decode-canonical",
			test_random_decode_canonical);
	return g_test_run();
}
