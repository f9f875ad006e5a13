/*
 * fuzz-mutf7.c - libFuzzer target for common/mutf7.h and common/name-escape.h.
 *
 * The input, up to its first NUL, is taken as a folder name in each
 * direction.  Properties checked:
 *   - what mutf7_decode accepts is valid UTF-8 and mutf7_encode spells it
 *     exactly as it came (the decoder takes only the canonical spelling);
 *   - valid UTF-8 always encodes, and decodes back to itself;
 *   - name_escape gives one harmless file name, which name_unescape turns
 *     back into the input whenever a folder of that name may be made;
 *   - what name_unescape accepts, name_escape spells the same way.
 * The string is copied into a buffer of its exact size, so that ASan
 * catches any read past the NUL.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "mutf7.h"
#include "name-escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gboolean creatable(const char *c)
{
	return c[0] != '\0' && !strchr(c, '/') && strcmp(c, ".") != 0 &&
	       strcmp(c, "..") != 0;
}

static void check_mutf7(const char *s)
{
	char *dec = NULL, *enc = NULL;

	if (mutf7_decode(s, &dec) == 0) {
		g_assert_true(g_utf8_validate(dec, -1, NULL));
		g_assert_cmpint(mutf7_encode(dec, &enc), ==, 0);
		g_assert_cmpstr(enc, ==, s);
		g_clear_pointer(&enc, g_free);
		g_clear_pointer(&dec, g_free);
	} else {
		g_assert_null(dec);
	}

	if (g_utf8_validate(s, -1, NULL)) {
		g_assert_cmpint(mutf7_encode(s, &enc), ==, 0);
		for (const char *p = enc; *p; p++)
			g_assert_true(*p >= 0x20 && *p <= 0x7E);
		g_assert_cmpint(mutf7_decode(enc, &dec), ==, 0);
		g_assert_cmpstr(dec, ==, s);
		g_free(dec);
		g_free(enc);
	} else {
		g_assert_cmpint(mutf7_encode(s, &enc), <, 0);
		g_assert_null(enc);
	}
}

static void check_names(const char *s, unsigned ctx)
{
	g_autofree char *e = name_escape(s, ctx);
	char *back = NULL;

	g_assert_true(strcmp(e, "") && strcmp(e, ".") && strcmp(e, ".."));
	for (const char *p = e; *p; p++) {
		unsigned char b = (unsigned char)*p;
		g_assert_true(b != '/' && b >= 0x20 && b != 0x7F);
	}
	if (ctx & NAME_CTX_TOP)
		g_assert_cmpstr(e, !=, ".mailfs");
	if (ctx & NAME_CTX_IN_MAIL)
		g_assert_true(strcmp(e, "cur") && strcmp(e, "new") &&
			      strcmp(e, "tmp"));
	if (name_unescape(e, ctx, &back) == 0) {
		g_assert_true(creatable(s));
		g_assert_cmpstr(back, ==, s);
		g_clear_pointer(&back, g_free);
	} else {
		g_assert_false(creatable(s));
		g_assert_null(back);
	}

	if (name_unescape(s, ctx, &back) == 0) {
		g_autofree char *again = name_escape(back, ctx);
		g_assert_true(creatable(back));
		g_assert_cmpstr(again, ==, s);
		g_free(back);
	} else {
		g_assert_null(back);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = strnlen((const char *)data, size);
	char *s = g_malloc(n + 1);

	memcpy(s, data, n);
	s[n] = '\0';
	check_mutf7(s);
	/* a byte after the NUL, if any, picks the context */
	unsigned ctx = n + 1 < size ? data[n + 1] & 3u : (unsigned)(n & 3);
	check_names(s, ctx);

	/* the path a server's name takes: decode, then make a file name */
	char *dec = NULL;
	if (mutf7_decode(s, &dec) == 0) {
		check_names(dec, ctx);
		g_free(dec);
	}
	g_free(s);
	return 0;
}
