/*
 * test-mapi-rtf.c - wire/mapi-rtf.h: PidTagRtfCompressed (MS-OXRTFCP) and
 * what RTF holds (MS-OXRTFEX).  The byte examples are those of
 * MS-OXRTFCP section 4; the encapsulated HTML follows the example of
 * MS-OXRTFEX section 3.1.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-rtf.h"

/* MS-OXRTFCP 4.1: "{\rtf1\ansi\ansicpg1252\pard hello world}" CRLF */
static const char ex1_raw[] = "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n";
static const uint8_t ex1[] = {
	0x2d, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46,
	0x75, 0xf1, 0xc5, 0xc7, 0xa7, 0x03, 0x00, 0x0a, 0x00, 0x72, 0x63,
	0x70, 0x67, 0x31, 0x32, 0x35, 0x42, 0x32, 0x0a, 0xf3, 0x20, 0x68,
	0x65, 0x6c, 0x09, 0x00, 0x20, 0x62, 0x77, 0x05, 0xb0, 0x6c, 0x64,
	0x7d, 0x0a, 0x80, 0x0f, 0xa0,
};

/* MS-OXRTFCP 4.2: a reference that runs on into its own output */
static const char ex2_raw[] = "{\\rtf1 WXYZWXYZWXYZWXYZWXYZ}";
static const uint8_t ex2[] = {
	0x1a, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46,
	0x75, 0xe2, 0xd4, 0x4b, 0x51, 0x41, 0x00, 0x04, 0x20, 0x57, 0x58,
	0x59, 0x5a, 0x0d, 0x6e, 0x7d, 0x01, 0x0e, 0xb0,
};

static void test_crc(void)
{
	g_assert_cmphex(mapi_rtf_crc(0, ex1 + 16, sizeof(ex1) - 16), ==,
			0xA7C7C5F1U);
	g_assert_cmphex(mapi_rtf_crc(0, ex2 + 16, sizeof(ex2) - 16), ==,
			0x514BD4E2U);
	/* the CRC runs on from a previous value */
	g_assert_cmphex(mapi_rtf_crc(mapi_rtf_crc(0, ex1 + 16, 10),
				     ex1 + 26, sizeof(ex1) - 26), ==,
			0xA7C7C5F1U);
	g_assert_cmphex(mapi_rtf_crc(0, NULL, 0), ==, 0);
}

static void check_decompress(const uint8_t *in, size_t len, const char *raw)
{
	struct mapi_rtf_header h;
	GByteArray *out = NULL;

	g_assert_cmpint(mapi_rtf_decompress(in, len, 1 << 20, 0, &out, &h),
			==, 0);
	g_assert_cmphex(h.comp_type, ==, MAPI_RTF_LZFU);
	g_assert_cmpuint(h.comp_size, ==, len - 4);
	g_assert_cmpuint(h.raw_size, ==, strlen(raw));
	g_assert_cmpmem(out->data, out->len, raw, strlen(raw));
	g_byte_array_unref(out);
}

static void test_decompress_examples(void)
{
	check_decompress(ex1, sizeof(ex1), ex1_raw);
	check_decompress(ex2, sizeof(ex2), ex2_raw);
}

/* The compressor picks the same references as the spec's examples. */
static void test_compress_examples(void)
{
	GByteArray *out = g_byte_array_new();

	g_assert_cmpint(mapi_rtf_compress(ex1_raw, strlen(ex1_raw), true, out),
			==, 0);
	g_assert_cmpmem(out->data, out->len, ex1, sizeof(ex1));
	g_byte_array_set_size(out, 0);
	g_assert_cmpint(mapi_rtf_compress(ex2_raw, strlen(ex2_raw), true, out),
			==, 0);
	g_assert_cmpmem(out->data, out->len, ex2, sizeof(ex2));
	g_byte_array_unref(out);
}

static void test_mela(void)
{
	static const char raw[] = "{\\rtf1\\ansi Hi}";
	static const uint8_t want[] = {
		0x1b, 0, 0, 0, 0x0f, 0, 0, 0, 'M', 'E', 'L', 'A', 0, 0, 0, 0,
		'{', '\\', 'r', 't', 'f', '1', '\\', 'a', 'n', 's', 'i', ' ',
		'H', 'i', '}',
	};
	GByteArray *enc = g_byte_array_new(), *out = NULL;
	struct mapi_rtf_header h;
	uint8_t lie[sizeof(want)];

	g_assert_cmpint(mapi_rtf_compress(raw, strlen(raw), false, enc), ==, 0);
	g_assert_cmpmem(enc->data, enc->len, want, sizeof(want));
	g_assert_cmpint(mapi_rtf_decompress(want, sizeof(want), 100, 0, &out,
					    &h), ==, 0);
	g_assert_cmphex(h.comp_type, ==, MAPI_RTF_MELA);
	g_assert_cmpmem(out->data, out->len, raw, strlen(raw));
	g_byte_array_unref(out);
	/* over the caller's limit */
	g_assert_cmpint(mapi_rtf_decompress(want, sizeof(want), 14, 0, &out,
					    NULL), ==, -EFBIG);
	/* a RawSize larger than the contents */
	memcpy(lie, want, sizeof(lie));
	lie[4] = 0x40;
	g_assert_cmpint(mapi_rtf_decompress(lie, sizeof(lie), 100, 0, &out,
					    NULL), ==, -EBADMSG);
	g_assert_cmpint(mapi_rtf_decompress(lie, sizeof(lie), 100,
					    MAPI_RTF_LENIENT, &out, NULL), ==, 0);
	g_assert_cmpmem(out->data, out->len, raw, strlen(raw));
	g_byte_array_unref(out);
	g_byte_array_unref(enc);
}

static void round_trip(const uint8_t *in, size_t len)
{
	for (int compress = 0; compress < 2; compress++) {
		GByteArray *enc = g_byte_array_new(), *out = NULL;
		struct mapi_rtf_header h;

		g_assert_cmpint(mapi_rtf_compress(in, len, compress, enc), ==,
				0);
		g_assert_cmpint(mapi_rtf_decompress(enc->data, enc->len, len,
						    0, &out, &h), ==, 0);
		g_assert_cmpuint(h.comp_size, ==, enc->len - 4);
		g_assert_cmpmem(out->data, out->len, in, len);
		g_byte_array_unref(out);
		if (len > 0)
			g_assert_cmpint(mapi_rtf_decompress(enc->data, enc->len,
							    len - 1, 0, &out,
							    NULL), ==, -EFBIG);
		g_byte_array_unref(enc);
	}
}

static void test_round_trips(void)
{
	GRand *rand = g_rand_new_with_seed(16);
	GString *rtf = g_string_new("{\\rtf1\\ansi\\ansicpg1252 ");
	uint8_t *noise = g_malloc(20000);
	uint8_t *same = g_malloc(100000);

	round_trip((const uint8_t *)"", 0);
	round_trip((const uint8_t *)"{", 1);
	round_trip((const uint8_t *)ex2_raw, strlen(ex2_raw));
	for (size_t i = 0; i < 20000; i++)
		noise[i] = (uint8_t)g_rand_int_range(rand, 0, 256);
	round_trip(noise, 20000);
	/* few symbols: long matches everywhere, the window wraps often */
	for (size_t i = 0; i < 20000; i++)
		noise[i] = "ab\\{} "[g_rand_int_range(rand, 0, 6)];
	round_trip(noise, 20000);
	memset(same, 'x', 100000);
	round_trip(same, 100000);
	for (int i = 0; i < 3000; i++)
		g_string_append_printf(rtf, "\\par Line %05d: {\\b bold} "
				       "text\\'e9 \\u8364?\r\n", i);
	g_string_append(rtf, "}");
	round_trip((const uint8_t *)rtf->str, rtf->len);
	/* real text compresses */
	{
		GByteArray *enc = g_byte_array_new();

		mapi_rtf_compress(rtf->str, rtf->len, true, enc);
		g_assert_cmpuint(enc->len, <, rtf->len / 3);
		g_byte_array_unref(enc);
	}
	g_string_free(rtf, TRUE);
	g_free(same);
	g_free(noise);
	g_rand_free(rand);
}

/* Every prefix of a value fails cleanly; so does every prefix of its
 * contents under a header that agrees with it (CompSize and CRC), and the
 * lenient reading gives a prefix of the text. */
static void truncate_all(const uint8_t *in, size_t len, const char *raw)
{
	for (size_t cut = 0; cut < len; cut++) {
		GByteArray *out = NULL;
		uint8_t *copy = g_memdup2(in, cut ? cut : 1);

		g_assert_cmpint(mapi_rtf_decompress(copy, cut, 1 << 20, 0,
						    &out, NULL), ==, -EBADMSG);
		if (cut >= 16) {
			uint32_t crc = mapi_rtf_crc(0, copy + 16, cut - 16);
			uint32_t cs = (uint32_t)(cut - 4);

			memcpy(copy, &cs, 4);
			memcpy(copy + 12, &crc, 4);
			g_assert_cmpint(mapi_rtf_decompress(copy, cut, 1 << 20,
							    0, &out, NULL),
					==, -EBADMSG);
			g_assert_cmpint(mapi_rtf_decompress(copy, cut, 1 << 20,
							    MAPI_RTF_LENIENT,
							    &out, NULL), ==, 0);
			g_assert_cmpuint(out->len, <=, strlen(raw));
			g_assert_cmpmem(out->data, out->len, raw, out->len);
			g_byte_array_unref(out);
		}
		g_free(copy);
	}
}

static void test_truncations(void)
{
	GByteArray *enc = g_byte_array_new();
	GString *big = g_string_new(NULL);

	truncate_all(ex1, sizeof(ex1), ex1_raw);
	truncate_all(ex2, sizeof(ex2), ex2_raw);
	for (int i = 0; i < 200; i++)
		g_string_append_printf(big, "{\\pard %d hello\\par}", i * 7);
	mapi_rtf_compress(big->str, big->len, true, enc);
	truncate_all(enc->data, enc->len, big->str);
	g_byte_array_unref(enc);
	g_string_free(big, TRUE);
}

static void test_hostile(void)
{
	uint8_t v[sizeof(ex1)];
	GByteArray *out = NULL;
	struct mapi_rtf_header h;

	/* a CRC that does not match is reported, or read past */
	memcpy(v, ex1, sizeof(v));
	v[12] ^= 1;
	g_assert_cmpint(mapi_rtf_decompress(v, sizeof(v), 1000, 0, &out, &h),
			==, -EILSEQ);
	g_assert_cmphex(h.crc, ==, 0xA7C7C5F0U);
	g_assert_cmpint(mapi_rtf_decompress(v, sizeof(v), 1000,
					    MAPI_RTF_LENIENT, &out, NULL), ==, 0);
	g_byte_array_unref(out);
	/* RawSize claims 4 GiB: nothing that size is allocated, and the
	 * strict reading says it is wrong */
	memcpy(v, ex1, sizeof(v));
	memset(v + 4, 0xFF, 4);
	g_assert_cmpint(mapi_rtf_decompress(v, sizeof(v), G_MAXSIZE, 0, &out,
					    NULL), ==, -EBADMSG);
	g_assert_cmpint(mapi_rtf_decompress(v, sizeof(v), G_MAXSIZE,
					    MAPI_RTF_LENIENT, &out, NULL), ==, 0);
	g_assert_cmpuint(out->len, ==, strlen(ex1_raw));
	g_byte_array_unref(out);
	/* output past the caller's limit */
	g_assert_cmpint(mapi_rtf_decompress(ex1, sizeof(ex1), 10, 0, &out,
					    NULL), ==, -EFBIG);
	g_assert_cmpint(mapi_rtf_decompress(ex1, sizeof(ex1), 42, 0, &out,
					    NULL), ==, -EFBIG);
	/* unknown COMPTYPE, CompSize under 12 or past the end */
	memcpy(v, ex1, sizeof(v));
	v[8] = 'X';
	g_assert_cmpint(mapi_rtf_decompress(v, sizeof(v), 1000, 0, &out,
					    NULL), ==, -EPROTO);
	memcpy(v, ex1, sizeof(v));
	v[0] = 11;
	g_assert_cmpint(mapi_rtf_header_read(v, sizeof(v), &h), ==, -EBADMSG);
	v[0] = 0x2e;
	g_assert_cmpint(mapi_rtf_header_read(v, sizeof(v), &h), ==, -EBADMSG);
	/* padding after CompSize is allowed */
	{
		uint8_t pad[sizeof(ex1) + 3];

		memcpy(pad, ex1, sizeof(ex1));
		memset(pad + sizeof(ex1), 0xAA, 3);
		g_assert_cmpint(mapi_rtf_decompress(pad, sizeof(pad), 1000, 0,
						    &out, NULL), ==, 0);
		g_byte_array_unref(out);
	}
	/* a bomb: nothing but 17-byte references to the start */
	{
		size_t n = 16 + 9 * 4000;
		uint8_t *bomb = g_malloc0(n);
		uint32_t cs = (uint32_t)(n - 4), crc;

		memcpy(bomb, &cs, 4);
		memset(bomb + 4, 0xFF, 4);
		memcpy(bomb + 8, "LZFu", 4);
		for (size_t i = 16; i < n; i += 17 < n - i ? 17 : n - i) {
			bomb[i] = 0xFF;
			for (size_t k = i + 1; k + 1 < n && k < i + 17; k += 2)
				bomb[k + 1] = 0x0F;
		}
		crc = mapi_rtf_crc(0, bomb + 16, n - 16);
		memcpy(bomb + 12, &crc, 4);
		/* (before the write position comes round to offset 0,
		 * which would end it) */
		g_assert_cmpint(mapi_rtf_decompress(bomb, n, 3000, 0, &out,
						    NULL), ==, -EFBIG);
		g_free(bomb);
	}
}

/* The example of MS-OXRTFEX 3.1, its end closed here. */
static const char html_rtf[] =
	"{\\rtf1\\ANSI\\ansicpg1251\\fromhtml1 \\deff0\r\n"
	"{\\fonttbl {\\f0\\fmodern Courier New;}{\\f1\\fswiss Arial;}"
	"{\\f2\\fswiss\\fcharset0 Arial;}}\r\n"
	"{\\colortbl\\red0\\green0\\blue0;\\red0\\green0\\blue255;}\r\n"
	"{\\*\\htmltag64}\r\n"
	"\\uc1\\pard\\plain\\deftab360 \\f0\\fs24\r\n"
	"{\\*\\htmltag <HTML><head>\\par\r\n"
	"<style>\\par\r\n"
	"<!--\\par\r\n"
	"  /* Style Definitions */\\par\r\n"
	"  p.MsoNormal, li.MsoNormal \\{font-family:Arial;\\}\\par\r\n"
	"-->\\par\r\n"
	"</style>\\par\r\n"
	"\\tab <!-- This is a HTML comment.\\par\r\n"
	"There is a horizontal tab (%x09) character before the comment, \\par\r\n"
	"and some new lines inside the comment. -->\\par\r\n"
	"</head>\\par\r\n"
	"<body>\\par\r\n"
	"<p\\par\r\n"
	"class=\"MsoNormal\">}\r\n"
	"{\\htmlrtf \\f1 \\htmlrtf0 Note the line break inside a P tag. "
	"{\\*\\htmltag <b>}{\\htmlrtf \\b \\htmlrtf0 This is a bold text"
	"{\\*\\htmltag </b>}} \\htmlrtf\\par\\htmlrtf0}\r\n"
	"\\htmlrtf \\par \\htmlrtf0\r\n"
	"{\\*\\htmltag </p>\\par\r\n"
	"<p class=\"MsoNormal\">\\par}\r\n"
	"{\\htmlrtf \\f1 \\htmlrtf0 This is a normal text with a character "
	"references:\r\n"
	"{\\*\\htmltag &nbsp;}\\htmlrtf \\'a0\\htmlrtf0  {\\*\\htmltag &lt;}"
	"\\htmlrtf <\\htmlrtf0  {\\*\\htmltag &uml;}\\htmlrtf {\\f2\\'a8}"
	"\\htmlrtf0{\\*\\htmltag <br>\\par}\\htmlrtf\\line\\htmlrtf0\r\n"
	"characters which have special meaning in RTF: \\{\\}\\\\"
	"{\\*\\htmltag <br>\\par}\\htmlrtf\\line\\htmlrtf0\\htmlrtf\\par"
	"\\htmlrtf0}\r\n"
	"{\\*\\htmltag </p>\\par\r\n</body>\\par\r\n</HTML>\\par }}";

static const char html_want[] =
	"<HTML><head>\r\n<style>\r\n<!--\r\n  /* Style Definitions */\r\n"
	"  p.MsoNormal, li.MsoNormal {font-family:Arial;}\r\n-->\r\n"
	"</style>\r\n\t<!-- This is a HTML comment.\r\n"
	"There is a horizontal tab (%x09) character before the comment, \r\n"
	"and some new lines inside the comment. -->\r\n</head>\r\n"
	"<body>\r\n<p\r\nclass=\"MsoNormal\">"
	"Note the line break inside a P tag. <b>This is a bold text</b> "
	"</p>\r\n<p class=\"MsoNormal\">\r\n"
	"This is a normal text with a character references:"
	"&nbsp; &lt; &uml;<br>\r\n"
	"characters which have special meaning in RTF: {}\\<br>\r\n"
	"</p>\r\n</body>\r\n</HTML>\r\n";

static void check_extract(const char *rtf, enum mapi_rtf_kind kind,
			  const char *want)
{
	enum mapi_rtf_kind k;
	char *text = NULL;
	size_t len = 0;

	g_assert_cmpint(mapi_rtf_extract(rtf, strlen(rtf), 1 << 20, &k, &text,
					 &len), ==, 0);
	g_assert_cmpint(k, ==, kind);
	g_assert_cmpstr(text, ==, want);
	g_assert_cmpuint(len, ==, strlen(want));
	g_free(text);
}

static void test_html_example(void)
{
	check_extract(html_rtf, MAPI_RTF_FROMHTML, html_want);
}

/* Code pages: the document's, a font's \fcharset, restored when the
 * group ends; \uN with its fallback; the rewritten \mhtmltag left out. */
static void test_html_charsets(void)
{
	static const char rtf[] =
		"{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0"
		"{\\fonttbl{\\f0\\fswiss Arial;}{\\f1\\fswiss\\fcharset204"
		"{\\*\\panose 020b0604020202020204} Arial Cyr;}"
		"{\\f2\\fnil\\fcharset128 MS Gothic;}}\r\n"
		"{\\*\\htmltag64}\\uc1\\pard\\plain\\f0 "
		"{\\*\\htmltag19 <html>}{\\*\\htmltag2 \\par }"
		"{\\*\\htmltag64 <p>}Caf\\'e9 {\\f1\\'cf\\'f0\\'e8\\'e2\\'e5"
		"\\'f2} {\\f2\\'82\\'a0} \\'e9"
		"{\\*\\htmltag72 </p>}"
		"{\\*\\mhtmltag84 <img src=\"cid:x\">}"
		"{\\*\\htmltag84 <img src=\"http://example.test/x.png\">}"
		"\\u8364?\\u-10179?\\u-8704?\\uc2\\u20320\\'c4\\'e3!"
		"{\\*\\htmltag84 &nbsp;}\\htmlrtf \\'a0\\htmlrtf0 "
		"{\\*\\htmltag27 </html>}}";

	check_extract(rtf, MAPI_RTF_FROMHTML,
		      "<html>\r\n<p>Caf\xc3\xa9 \xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2"
		      "\xd0\xb5\xd1\x82 \xe3\x81\x82 \xc3\xa9</p>"
		      "<img src=\"http://example.test/x.png\">"
		      "\xe2\x82\xac\xf0\x9f\x98\x80\xe4\xbd\xa0!&nbsp;</html>");
}

static void test_fromtext(void)
{
	check_extract("{\\rtf1\\ansi\\ansicpg1252\\fromtext \\deff0{\\fonttbl"
		      "{\\f0\\fswiss Arial;}}{\\*\\generator Riched20 1.0;}"
		      "\\uc1\\pard\\plain\\f0\\fs20 Hello\\par\r\n"
		      "World\\'e9 \\{x\\}\\tab y\\par\r\n}",
		      MAPI_RTF_FROMTEXT,
		      "Hello\r\nWorld\xc3\xa9 {x}\ty\r\n");
}

static void test_plain_rendering(void)
{
	check_extract("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}"
		      "{\\colortbl;\\red255\\green0\\blue0;}"
		      "{\\stylesheet{\\s0 Normal;}}{\\info{\\title T}"
		      "{\\author A}}{\\*\\generator X;}"
		      "\\pard Hello {\\b bold} world\\par\r\n"
		      "Second\\~line\\tab end{\\pict\\bin4 }{x}}\\par "
		      "{\\*\\bkmkstart b}\\ldblquote q\\rdblquote\\par}",
		      MAPI_RTF_PLAIN,
		      "Hello bold world\r\nSecond\xc2\xa0line\tend\r\n"
		      "\xe2\x80\x9cq\xe2\x80\x9d\r\n");
	/* \fromhtml after the body began is not a header word */
	check_extract("{\\rtf1 text \\fromhtml1 {\\*\\htmltag <p>}}",
		      MAPI_RTF_PLAIN, "text ");
	/* no closing brace: the text up to the end */
	check_extract("{\\rtf1 open", MAPI_RTF_PLAIN, "open");
}

static void test_extract_hostile(void)
{
	enum mapi_rtf_kind k;
	char *text = NULL;
	size_t len = 0;
	GString *deep = g_string_new("{\\rtf1 ");

	g_assert_cmpint(mapi_rtf_extract("hello", 5, 100, &k, &text, &len),
			==, -EBADMSG);
	g_assert_cmpint(mapi_rtf_extract("{\\rt", 4, 100, &k, &text, &len),
			==, -EBADMSG);
	for (int i = 0; i < 100000; i++)
		g_string_append_c(deep, '{');
	g_assert_cmpint(mapi_rtf_extract(deep->str, deep->len, 100, &k,
					 &text, &len), ==, -ELOOP);
	g_string_free(deep, TRUE);
	g_assert_cmpint(mapi_rtf_extract(html_rtf, strlen(html_rtf), 100, &k,
					 &text, &len), ==, -EFBIG);
	g_assert_cmpint(mapi_rtf_extract(html_rtf, strlen(html_rtf),
					 strlen(html_want), &k, &text, &len),
			==, 0);
	g_free(text);
	/* huge parameters, long words, \bin past the end, a lone \' */
	check_extract("{\\rtf1 a\\u99999999999999999999?\\ucx\\uc-5"
		      "\\aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		      " b\\'zz c\\'", MAPI_RTF_PLAIN, "a\xef\xbf\xbf" "bzz c");
}

/* Every prefix of the example reads without harm. */
static void test_extract_truncations(void)
{
	for (size_t cut = 0; cut < sizeof(html_rtf) - 1; cut++) {
		enum mapi_rtf_kind k;
		char *text = NULL;
		size_t len = 0;
		int rc = mapi_rtf_extract(html_rtf, cut, 1 << 20, &k, &text,
					  &len);

		if (cut < 5) {
			g_assert_cmpint(rc, ==, -EBADMSG);
			continue;
		}
		g_assert_cmpint(rc, ==, 0);
		g_assert_true(g_utf8_validate(text, (gssize)len, NULL));
		/* a prefix of the RTF gives a prefix of the HTML, but for
		 * a half-read word */
		g_assert_cmpuint(len, <=, strlen(html_want));
		g_free(text);
	}
}

/* What the server stores and a client reads back: compressed, then
 * decompressed and de-encapsulated. */
static void test_pipeline(void)
{
	GByteArray *enc = g_byte_array_new(), *rtf = NULL;
	enum mapi_rtf_kind k;
	char *text = NULL;
	size_t len = 0;

	g_assert_cmpint(mapi_rtf_compress(html_rtf, strlen(html_rtf), true,
					  enc), ==, 0);
	g_assert_cmpint(mapi_rtf_decompress(enc->data, enc->len, 1 << 20, 0,
					    &rtf, NULL), ==, 0);
	g_assert_cmpint(mapi_rtf_extract(rtf->data, rtf->len, 1 << 20, &k,
					 &text, &len), ==, 0);
	g_assert_cmpint(k, ==, MAPI_RTF_FROMHTML);
	g_assert_cmpstr(text, ==, html_want);
	g_free(text);
	g_byte_array_unref(rtf);
	g_byte_array_unref(enc);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mapi-rtf/crc", test_crc);
	g_test_add_func("/mapi-rtf/decompress-examples",
			test_decompress_examples);
	g_test_add_func("/mapi-rtf/compress-examples", test_compress_examples);
	g_test_add_func("/mapi-rtf/mela", test_mela);
	g_test_add_func("/mapi-rtf/round-trips", test_round_trips);
	g_test_add_func("/mapi-rtf/truncations", test_truncations);
	g_test_add_func("/mapi-rtf/hostile", test_hostile);
	g_test_add_func("/mapi-rtf/html-example", test_html_example);
	g_test_add_func("/mapi-rtf/html-charsets", test_html_charsets);
	g_test_add_func("/mapi-rtf/fromtext", test_fromtext);
	g_test_add_func("/mapi-rtf/plain-rendering", test_plain_rendering);
	g_test_add_func("/mapi-rtf/extract-hostile", test_extract_hostile);
	g_test_add_func("/mapi-rtf/extract-truncations",
			test_extract_truncations);
	g_test_add_func("/mapi-rtf/pipeline", test_pipeline);
	return g_test_run();
}
