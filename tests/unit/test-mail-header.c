/*
 * test-mail-header.c - the header block of an RFC 5322 message
 * (common/mail-header.h): one field by name, and the walk over all of them.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "mail-header.h"

static const char lf_msg[] =
	"From: Ann <ann@example.org>\n"
	"To: Bob <bob@example.org>\n"
	"Subject: a long\n"
	" subject\n"
	"\tthat is folded\n"
	"Message-ID: <1@example.org>\n"
	"Message: short\n"
	"X-Empty:\n"
	"X-Spaces:    padded   \n"
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
	"\n"
	"In-Body: not a header\n"
	"Subject: not this one either\n";

static const char crlf_msg[] =
	"From: Ann <ann@example.org>\r\n"
	"To: Bob <bob@example.org>\r\n"
	"Subject: a long\r\n"
	" subject\r\n"
	"\tthat is folded\r\n"
	"Message-ID: <1@example.org>\r\n"
	"Message: short\r\n"
	"X-Empty:\r\n"
	"X-Spaces:    padded   \r\n"
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
	"\r\n"
	"In-Body: not a header\r\n"
	"Subject: not this one either\r\n";

static const struct {
	const char *field;
	int rc;
	const char *value;
} cases[] = {
	{ "From", 0, "Ann <ann@example.org>" },
	{ "from", 0, "Ann <ann@example.org>" },
	{ "FROM", 0, "Ann <ann@example.org>" },
	{ "to", 0, "Bob <bob@example.org>" },
	{ "Subject", 0, "a long subject\tthat is folded" },
	{ "message-id", 0, "<1@example.org>" },
	{ "Message", 0, "short" },
	{ "Message-I", -ENOENT, NULL },
	{ "Messag", -ENOENT, NULL },
	{ "X-Empty", 0, "" },
	{ "X-Spaces", 0, "padded" },
	{ "Date", 0, "Mon, 1 Jan 2024 10:00:00 +0000" },
	{ "Cc", -ENOENT, NULL },
	{ "In-Body", -ENOENT, NULL },
	{ "Subject:", -ENOENT, NULL },
};

static void check_cases(const char *msg)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *value = NULL;
		int rc = mail_header_get(msg, strlen(msg), cases[i].field,
					 &value);

		g_test_message("field '%s'", cases[i].field);
		g_assert_cmpint(rc, ==, cases[i].rc);
		g_assert_cmpstr(value, ==, cases[i].value);
		g_free(value);
	}
}

static void test_lf(void)
{
	check_cases(lf_msg);
}

static void test_crlf(void)
{
	check_cases(crlf_msg);
}

static void test_first_wins(void)
{
	static const char msg[] = "Received: one\r\nReceived: two\r\n\r\n";
	g_autofree char *value = NULL;

	g_assert_cmpint(mail_header_get(msg, strlen(msg), "received", &value),
			==, 0);
	g_assert_cmpstr(value, ==, "one");
}

/* The prefix must be a whole field name, in both directions. */
static void test_prefix(void)
{
	static const char only_long[] = "Message-ID: <x@y>\n\n";
	static const char only_short[] = "Message: hello\n\n";
	char *value = NULL;

	g_assert_cmpint(mail_header_get(only_long, strlen(only_long),
					"Message", &value), ==, -ENOENT);
	g_assert_null(value);
	g_assert_cmpint(mail_header_get(only_short, strlen(only_short),
					"Message-ID", &value), ==, -ENOENT);
	g_assert_null(value);
	g_assert_cmpint(mail_header_get(only_long, strlen(only_long),
					"Message-ID", &value), ==, 0);
	g_assert_cmpstr(value, ==, "<x@y>");
	g_free(value);
}

static void test_folding_at_end(void)
{
	/* a folded field that runs to the end of the header, then of buf */
	static const char a[] = "Subject: one\r\n two\r\n\r\nbody\r\n";
	static const char b[] = "Subject: one\n two";
	g_autofree char *va = NULL;
	g_autofree char *vb = NULL;

	g_assert_cmpint(mail_header_get(a, strlen(a), "Subject", &va), ==, 0);
	g_assert_cmpstr(va, ==, "one two");
	g_assert_cmpint(mail_header_get(b, strlen(b), "Subject", &vb), ==, 0);
	g_assert_cmpstr(vb, ==, "one two");
}

static void test_empty(void)
{
	char *value = NULL;

	g_assert_cmpint(mail_header_get("", 0, "From", &value), ==, -ENOENT);
	g_assert_cmpint(mail_header_get("\r\nFrom: x\r\n", 11, "From", &value),
			==, -ENOENT);
	g_assert_cmpint(mail_header_get("\nFrom: x\n", 9, "From", &value), ==,
			-ENOENT);
	g_assert_null(value);
}

/*
 * Only `len` bytes are looked at: the buffer is a copy with no NUL after it,
 * so a read past its end shows under AddressSanitizer.
 */
static void test_bounded(void)
{
	static const char text[] =
		"From: a@b\r\nSubject: cut here\r\nTo: c@d\r\n";
	static const struct {
		size_t len;
		const char *field;
		int rc;
		const char *value;
	} bcases[] = {
		{ 9, "From", 0, "a@b" },
		{ 7, "From", 0, "a" },
		{ 6, "From", 0, "" },
		{ 5, "From", 0, "" },		/* "From:" with nothing after */
		{ 4, "From", -ENOENT, NULL },
		{ 23, "Subject", 0, "cut" },
		{ 20, "Subject", 0, "" },
		{ 19, "Subject", 0, "" },
		{ 18, "Subject", -ENOENT, NULL },
		{ 11, "Subject", -ENOENT, NULL },
		{ 29, "To", -ENOENT, NULL },	/* ends in a lone CR */
		{ 33, "To", 0, "" },
		{ 36, "To", 0, "c@" },
		{ sizeof(text) - 1, "To", 0, "c@d" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bcases); i++) {
		size_t len = bcases[i].len;
		char *buf = g_malloc(len ? len : 1);
		char *value = NULL;

		memcpy(buf, text, len);
		g_test_message("len %zu field %s", len, bcases[i].field);
		g_assert_cmpint(mail_header_get(buf, len, bcases[i].field,
						&value), ==, bcases[i].rc);
		g_assert_cmpstr(value, ==, bcases[i].value);
		g_free(value);
		g_free(buf);
	}
}

/* The walk: field by field, folded lines kept with their field, junk
 * reported as a field without a value, the body after the empty line. */
static void test_walk(void)
{
	static const char msg[] =
		"From: a@b\r\n"
		"Subject : one\r\n two\r\n"
		"junk line\r\n"
		":no name\n"
		"\r\n"
		"Body: x\r\n";
	static const struct {
		const char *raw, *name, *value;
	} want[] = {
		{ "From: a@b\r\n", "From", " a@b\r\n" },
		{ "Subject : one\r\n two\r\n", "Subject", " one\r\n two\r\n" },
		{ "junk line\r\n", NULL, NULL },
		{ ":no name\n", "", "no name\n" },
	};
	struct mail_header_iter it;
	struct mail_header_field f;
	size_t n = 0;

	mail_header_iter_init(&it, msg, strlen(msg));
	while (mail_header_next(&it, &f)) {
		g_assert_cmpuint(n, <, G_N_ELEMENTS(want));
		g_autofree char *raw = g_strndup(f.start, f.len);
		g_assert_cmpstr(raw, ==, want[n].raw);
		if (want[n].value) {
			g_autofree char *name = g_strndup(f.start, f.name_len);
			g_autofree char *value = g_strndup(f.value,
							   f.value_len);
			g_assert_cmpstr(name, ==, want[n].name);
			g_assert_cmpstr(value, ==, want[n].value);
			g_assert_true(mail_header_field_is(&f, want[n].name));
		} else {
			g_assert_null(f.value);
			g_assert_false(mail_header_field_is(&f, ""));
		}
		n++;
	}
	g_assert_cmpuint(n, ==, G_N_ELEMENTS(want));
	g_assert_true(it.blank);
	g_assert_cmpstr(it.p, ==, "Body: x\r\n");
	g_assert_cmpuint(mail_header_length(msg, strlen(msg)), ==,
			 (size_t)(it.p - msg));
	/* no empty line: the block is the whole buffer */
	g_assert_cmpuint(mail_header_length("A: b\r\n c", 8), ==, 8);
	g_assert_cmpuint(mail_header_length("\nA: b\n", 6), ==, 1);
	/* "Subject :" is a field of that name, but not for mail_header_get,
	 * which wants the colon right after the name */
	char *v = NULL;
	g_assert_cmpint(mail_header_get(msg, strlen(msg), "Subject", &v), ==,
			-ENOENT);
	g_assert_null(v);
}

static void test_unfold(void)
{
	static const char v[] = " a\r\n\tb\rc\r\n d\r";
	g_autofree char *all = mail_header_unfold(v, strlen(v), false);
	g_autofree char *bare = mail_header_unfold(v, strlen(v), true);
	g_autofree char *got = NULL;

	g_assert_cmpstr(all, ==, " a\tbc d");
	g_assert_cmpstr(bare, ==, " a\tb\rc d");
	g_assert_cmpint(mail_header_get("X: a\rb\r\n\r\n", 10, "X", &got),
			==, 0);
	g_assert_cmpstr(got, ==, "a\rb");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mail-header/lf", test_lf);
	g_test_add_func("/mail-header/crlf", test_crlf);
	g_test_add_func("/mail-header/first-wins", test_first_wins);
	g_test_add_func("/mail-header/prefix", test_prefix);
	g_test_add_func("/mail-header/folding-at-end", test_folding_at_end);
	g_test_add_func("/mail-header/empty", test_empty);
	g_test_add_func("/mail-header/bounded", test_bounded);
	g_test_add_func("/mail-header/walk", test_walk);
	g_test_add_func("/mail-header/unfold", test_unfold);
	return g_test_run();
}
