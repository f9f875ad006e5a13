/*
 * test-printable.c - common/printable.h: what a peer's text becomes before
 * it is logged or shown.
 */
#include <glib.h>
#include <string.h>

#include "printable.h"

static void test_forms(void)
{
	static const struct {
		const char *in;
		gssize len;	/* -1: up to the NUL */
		const char *out;
	} cases[] = {
		{ "plain text, [ALERT] 100% \\o/", -1,
		  "plain text, [ALERT] 100% \\o/" },
		{ "", -1, "" },
		/* a window title, a bell, a screen clear */
		{ "\x1b]0;owned\x07\x1b[2Jhi", -1,
		  "\\x1b]0;owned\\x07\\x1b[2Jhi" },
		/* a line of its own in a log; tab; DEL */
		{ "a\r\nmailfs: fake\tb\x7f", -1,
		  "a\\x0d\\x0amailfs: fake\\x09b\\x7f" },
		/* NUL inside a counted text */
		{ "a\0b", 3, "a\\x00b" },
		/* the count is kept to */
		{ "abc\x1b", 3, "abc" },
		/* valid UTF-8 stays */
		{ "Gr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac \xf0\x9f\x93\xab", -1,
		  "Gr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac \xf0\x9f\x93\xab" },
		/* C1 controls: CSI, OSC, ST, NEL */
		{ "\xc2\x9b" "2J\xc2\x9d" "0;t\xc2\x9c\xc2\x85", -1,
		  "\\xc2\\x9b2J\\xc2\\x9d0;t\\xc2\\x9c\\xc2\\x85" },
		/* the same as single Latin-1 bytes: invalid UTF-8 */
		{ "\x9b" "2J\xe9t\xe9", -1, "\\x9b2J\\xe9t\\xe9" },
		/* line separator, a right-to-left override, an isolate */
		{ "a\xe2\x80\xa8" "b\xe2\x80\xae" "c\xe2\x81\xa6", -1,
		  "a\\xe2\\x80\\xa8b\\xe2\\x80\\xaec\\xe2\\x81\\xa6" },
		/* overlong '/', a surrogate, past U+10FFFF, cut at the end */
		{ "\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82", -1,
		  "\\xc0\\xaf \\xed\\xa0\\x80 \\xf4\\x90\\x80\\x80 "
		  "\\xe2\\x82" },
		/* a character cut by the count */
		{ "x\xc3\xbc", 2, "x\\xc3" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = printable(cases[i].in, cases[i].len);
		if (strcmp(got, cases[i].out))
			g_error("case %zu: got \"%s\", want \"%s\"", i, got,
				cases[i].out);
	}
	g_assert_null(printable(NULL, -1));
}

/* Whatever comes in, what goes out is printable ASCII or valid UTF-8 with
 * no control character. */
static void test_every_byte(void)
{
	char in[256 * 3];

	for (int i = 0; i < 256; i++) {
		in[3 * i] = (char)i;
		in[3 * i + 1] = (char)(0x80 | (i & 0x3f));
		in[3 * i + 2] = 'z';
	}
	GString *out = g_string_new(NULL);
	g_assert_true(printable_append(out, in, sizeof(in), G_MAXSIZE));
	g_assert_true(g_utf8_validate(out->str, (gssize)out->len, NULL));
	for (const char *p = out->str; *p; p = g_utf8_next_char(p)) {
		gunichar u = g_utf8_get_char(p);
		g_assert_false(u < 0x20 || (u >= 0x7f && u <= 0x9f));
	}
	g_string_free(out, TRUE);
}

static void test_bounds(void)
{
	GString *big = g_string_new(NULL);

	for (int i = 0; i < 3000; i++)
		g_string_append(big, "\x1b\xc3\xbc");
	g_autofree char *p = printable(big->str, (gssize)big->len);
	/* cut at PRINTABLE_MAX, at a whole escape or character, then "..." */
	g_assert_cmpuint(strlen(p), <=, PRINTABLE_MAX + 3);
	g_assert_cmpuint(strlen(p), >, PRINTABLE_MAX - 6);
	g_assert_true(g_str_has_suffix(p, "\xc3\xbc..."));
	g_assert_true(g_utf8_validate(p, -1, NULL));
	g_string_free(big, TRUE);

	/* appending stops before what would pass `max`, and says so */
	GString *out = g_string_new("12345");
	g_assert_false(printable_append(out, "ab\x1b", -1, 9));
	g_assert_cmpstr(out->str, ==, "12345ab");
	g_assert_false(printable_append(out, "\xc3\xbc\xc3\xbc", -1, 10));
	g_assert_cmpstr(out->str, ==, "12345ab\xc3\xbc");
	g_assert_false(printable_append(out, "cdef", -1, 11));
	g_assert_cmpstr(out->str, ==, "12345ab\xc3\xbc" "cd");
	g_assert_true(printable_append(out, "", -1, 0));
	g_string_free(out, TRUE);

	/* a short text is not cut */
	g_autofree char *s = printable("short", -1);
	g_assert_cmpstr(s, ==, "short");
}

static void test_plain(void)
{
	g_assert_true(printable_is_plain("abc ~", 5));
	g_assert_true(printable_is_plain("", 0));
	g_assert_false(printable_is_plain("a\tb", 3));
	g_assert_false(printable_is_plain("a\x7f", 2));
	g_assert_false(printable_is_plain("\xc3\xbc", 2));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/printable/forms", test_forms);
	g_test_add_func("/printable/every-byte", test_every_byte);
	g_test_add_func("/printable/bounds", test_bounds);
	g_test_add_func("/printable/plain", test_plain);
	return g_test_run();
}
