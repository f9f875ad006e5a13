/*
 * test-name-escape.c - folder name components as file names
 * (common/name-escape.h).
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "name-escape.h"

#define TOP NAME_CTX_TOP
#define MAIL NAME_CTX_IN_MAIL

static const struct {
	const char *component;
	unsigned ctx;
	const char *escaped;
	int unescape_rc;	/* of `escaped`; 0 gives `component` back */
} escape_cases[] = {
	{ "INBOX", 0, "INBOX", 0 },
	{ "INBOX", TOP, "INBOX", 0 },
	{ "Sent Items", TOP, "Sent Items", 0 },
	{ "Sent Items", MAIL, "Sent Items", 0 },
	/* '/' is escaped, and a user may never make such a folder */
	{ "a/b", 0, "a%2Fb", -EINVAL },
	{ "a/b", TOP, "a%2Fb", -EINVAL },
	{ "/", 0, "%2F", -EINVAL },
	{ "//", 0, "%2F%2F", -EINVAL },
	{ "%/", 0, "%%2F", -EINVAL },
	/* '%' only where it would read as an escape */
	{ "50% off", 0, "50% off", 0 },
	{ "100%", 0, "100%", 0 },
	{ "%", 0, "%", 0 },
	{ "%%", 0, "%%", 0 },
	{ "%2", 0, "%2", 0 },
	{ "%2g", 0, "%2g", 0 },
	{ "%%41", 0, "%%2541", 0 },
	{ "100%25", 0, "100%2525", 0 },
	{ "%41", 0, "%2541", 0 },
	{ "%2f", 0, "%252f", 0 },
	{ "a%2F", 0, "a%252F", 0 },
	{ "%ff", 0, "%25ff", 0 },
	{ "%\x01", 0, "%%01", 0 },
	{ "%4\x01", 0, "%4%01", 0 },
	{ "%4/", 0, "%4%2F", -EINVAL },
	/* whole names that mean something else in a directory */
	{ "", 0, "%00", -EINVAL },
	{ "", TOP | MAIL, "%00", -EINVAL },
	{ ".", 0, "%2E", -EINVAL },
	{ ".", MAIL, "%2E", -EINVAL },
	{ "..", 0, "%2E%2E", -EINVAL },
	{ "..", TOP, "%2E%2E", -EINVAL },
	{ "...", 0, "...", 0 },
	{ ". ", 0, ". ", 0 },
	{ ".hidden", 0, ".hidden", 0 },
	{ ".hidden", TOP, "%2Ehidden", 0 },
	{ "...", TOP, "%2E..", 0 },
	{ ".notmuch", TOP, "%2Enotmuch", 0 },
	{ ".hidden", MAIL, ".hidden", 0 },
	{ "cur", 0, "cur", 0 },
	{ "cur", TOP, "cur", 0 },
	{ "cur", MAIL, "%63ur", 0 },
	{ "new", MAIL, "%6Eew", 0 },
	{ "tmp", MAIL, "%74mp", 0 },
	{ "cur", TOP | MAIL, "%63ur", 0 },
	{ "Cur", MAIL, "Cur", 0 },
	{ "curl", MAIL, "curl", 0 },
	{ "cu", MAIL, "cu", 0 },
	{ ".mailfs", TOP, "%2Emailfs", 0 },
	{ ".mailfs", 0, ".mailfs", 0 },
	{ ".mailfs", MAIL, ".mailfs", 0 },
	{ ".mailfs", TOP | MAIL, "%2Emailfs", 0 },
	{ ".mailfs2", TOP, "%2Emailfs2", 0 },
	{ "mailfs", TOP, "mailfs", 0 },
	/* control characters and DEL */
	{ "a\tb", 0, "a%09b", 0 },
	{ "\x01", 0, "%01", 0 },
	{ "line\nend", 0, "line%0Aend", 0 },
	{ "\r\n", 0, "%0D%0A", 0 },
	{ "\x1F", 0, "%1F", 0 },
	{ "x\x7F", 0, "x%7F", 0 },
	{ "\x1B[31mred", 0, "%1B[31mred", 0 },
	/* UTF-8 and other bytes above 0x7F are kept */
	{ "Entwürfe", 0, "Entwürfe", 0 },
	{ "日本語", TOP, "日本語", 0 },
	{ "台北/日本語", 0, "台北%2F日本語", -EINVAL },
	{ "caf\xE9", 0, "caf\xE9", 0 },
	{ "\xFF\xFE", 0, "\xFF\xFE", 0 },
	{ "\x80", MAIL, "\x80", 0 },
	{ "\xC3", 0, "\xC3", 0 },
};

static void test_escape(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(escape_cases); i++) {
		const char *c = escape_cases[i].component;
		unsigned ctx = escape_cases[i].ctx;
		g_autofree char *e = name_escape(c, ctx);
		g_autofree char *shown = g_strescape(c, NULL);
		char *back = NULL;
		int rc;

		/* escaped: raw bytes would break the TAP output */
		g_test_message("component '%s' ctx %u", shown, ctx);
		g_assert_cmpstr(e, ==, escape_cases[i].escaped);
		rc = name_unescape(e, ctx, &back);
		g_assert_cmpint(rc, ==, escape_cases[i].unescape_rc);
		if (rc < 0) {
			g_assert_null(back);
			continue;
		}
		g_assert_cmpstr(back, ==, c);
		g_free(back);
	}
}

static const struct {
	const char *filename;
	unsigned ctx;
	int rc;
	const char *component;
} unescape_cases[] = {
	{ "INBOX", 0, 0, "INBOX" },
	{ "50% off", 0, 0, "50% off" },
	{ "100%2525", 0, 0, "100%25" },
	{ "a%01", 0, 0, "a\x01" },
	{ "%63ur", MAIL, 0, "cur" },
	{ "%2Emailfs", TOP, 0, ".mailfs" },
	{ "%2ETrash", TOP, 0, ".Trash" },
	{ ".Trash", 0, 0, ".Trash" },
	{ ".mailfs", 0, 0, ".mailfs" },
	{ "cur", 0, 0, "cur" },
	{ "cur", TOP, 0, "cur" },
	{ "caf\xE9", 0, 0, "caf\xE9" },
	/* not the spelling name_escape writes */
	{ "%41", 0, -EINVAL, NULL },
	{ "100%25", 0, -EINVAL, NULL },
	{ "%2e", 0, -EINVAL, NULL },
	{ "%2Ehidden", 0, -EINVAL, NULL },
	{ "%2E.", 0, -EINVAL, NULL },
	{ ".%2E", 0, -EINVAL, NULL },
	{ "a%0a", 0, -EINVAL, NULL },
	{ "a\x01", 0, -EINVAL, NULL },
	{ "a\tb", 0, -EINVAL, NULL },
	{ "x\x7F", 0, -EINVAL, NULL },
	{ "cur", MAIL, -EINVAL, NULL },
	{ "new", MAIL, -EINVAL, NULL },
	{ "tmp", MAIL, -EINVAL, NULL },
	{ "%63ur", 0, -EINVAL, NULL },
	{ "%63ur", TOP, -EINVAL, NULL },
	{ "%63UR", MAIL, -EINVAL, NULL },
	{ ".mailfs", TOP, -EINVAL, NULL },
	{ ".Trash", TOP, -EINVAL, NULL },
	{ "%2ETrash", MAIL, -EINVAL, NULL },
	{ "%2Emailfs", 0, -EINVAL, NULL },
	{ "%2Emailfs", MAIL, -EINVAL, NULL },
	{ "%2emailfs", TOP, -EINVAL, NULL },
	/* what no user may make, however it is spelled */
	{ "", 0, -EINVAL, NULL },
	{ ".", 0, -EINVAL, NULL },
	{ "..", 0, -EINVAL, NULL },
	{ "%00", 0, -EINVAL, NULL },
	{ "a%00b", 0, -EINVAL, NULL },
	{ "%2E", 0, -EINVAL, NULL },
	{ "%2E%2E", 0, -EINVAL, NULL },
	{ "a%2Fb", 0, -EINVAL, NULL },
	{ "a%2fb", 0, -EINVAL, NULL },
	{ "%2F", TOP, -EINVAL, NULL },
	{ "%2E%2E%2F%2E%2E", 0, -EINVAL, NULL },
	{ "a/b", 0, -EINVAL, NULL },
};

static void test_unescape(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(unescape_cases); i++) {
		g_autofree char *shown = g_strescape(unescape_cases[i].filename,
						     NULL);
		char *c = NULL;
		int rc = name_unescape(unescape_cases[i].filename,
				       unescape_cases[i].ctx, &c);

		g_test_message("filename '%s' ctx %u", shown,
			       unescape_cases[i].ctx);
		g_assert_cmpint(rc, ==, unescape_cases[i].rc);
		if (rc < 0) {
			g_assert_null(c);
			continue;
		}
		g_assert_cmpstr(c, ==, unescape_cases[i].component);
		g_free(c);
	}
}

static gboolean creatable(const char *c)
{
	return c[0] != '\0' && !strchr(c, '/') && strcmp(c, ".") != 0 &&
	       strcmp(c, "..") != 0;
}

/* A random string over bytes that reach every rule, or over all bytes. */
static char *random_name(GRand *r)
{
	static const char alphabet[] = "%/.2EeFf0aAcurnewtmpl \t\x7F\xC3\xA4";
	int len = g_rand_int_range(r, 0, 10);
	gboolean any = g_rand_boolean(r);
	char *s = g_malloc(len + 1);

	for (int i = 0; i < len; i++) {
		s[i] = any ? (char)g_rand_int_range(r, 1, 256)
			   : alphabet[g_rand_int_range(r, 0,
						       sizeof(alphabet) - 1)];
	}
	s[len] = '\0';
	/* now and then a whole name that is reserved somewhere */
	if (g_rand_int_range(r, 0, 8) == 0) {
		static const char *const whole[] = {
			"", ".", "..", "cur", "new", "tmp", ".mailfs",
		};
		g_free(s);
		s = g_strdup(whole[g_rand_int_range(r, 0,
						    G_N_ELEMENTS(whole))]);
	}
	return s;
}

static void test_random_round_trip(void)
{
	GRand *r = g_rand_new_with_seed(4242);

	for (int i = 0; i < 100000; i++) {
		g_autofree char *c = random_name(r);
		unsigned ctx = (unsigned)g_rand_int_range(r, 0, 4);
		g_autofree char *e = name_escape(c, ctx);
		char *back = NULL;
		int rc;

		/* always one file name, never one that means something else */
		g_assert_cmpstr(e, !=, "");
		g_assert_cmpstr(e, !=, ".");
		g_assert_cmpstr(e, !=, "..");
		for (const char *p = e; *p; p++) {
			unsigned char b = (unsigned char)*p;
			g_assert_true(b != '/' && b >= 0x20 && b != 0x7F);
		}
		if (ctx & TOP)
			g_assert_cmpstr(e, !=, ".mailfs");
		if (ctx & MAIL)
			g_assert_true(strcmp(e, "cur") && strcmp(e, "new") &&
				      strcmp(e, "tmp"));

		rc = name_unescape(e, ctx, &back);
		if (!creatable(c)) {
			g_assert_cmpint(rc, ==, -EINVAL);
			g_assert_null(back);
			continue;
		}
		g_assert_cmpint(rc, ==, 0);
		g_assert_cmpstr(back, ==, c);
		g_free(back);
	}
	g_rand_free(r);
}

/* Whatever name_unescape accepts, name_escape spells the same way. */
static void test_random_unescape_canonical(void)
{
	GRand *r = g_rand_new_with_seed(99);
	unsigned accepted = 0;

	for (int i = 0; i < 100000; i++) {
		g_autofree char *f = random_name(r);
		unsigned ctx = (unsigned)g_rand_int_range(r, 0, 4);
		char *c = NULL;

		if (name_unescape(f, ctx, &c) < 0) {
			g_assert_null(c);
			continue;
		}
		accepted++;
		g_autofree char *again = name_escape(c, ctx);
		g_assert_cmpstr(again, ==, f);
		g_assert_true(creatable(c));
		g_free(c);
	}
	g_assert_cmpuint(accepted, >, 10000);
	g_rand_free(r);
}

/* Each prefix of a name is its own allocation, so ASan sees overreads. */
static void test_prefixes(void)
{
	static const char *const names[] = { "%", "%4", "%41", "a%2", "%2F",
					     "100%2525", "%63ur" };

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		for (size_t n = 0; n <= strlen(names[i]); n++) {
			g_autofree char *p = g_strndup(names[i], n);
			g_autofree char *e = name_escape(p, MAIL);
			char *c = NULL;

			if (name_unescape(p, MAIL, &c) == 0)
				g_free(c);
			(void)e;
		}
	}
}

/* Depth picks the ctx; a name too long for a file is cut and hashed. */
static void test_escape_at(void)
{
	g_autofree char *top = name_escape_at("cur", 0);
	g_autofree char *below = name_escape_at("cur", 1);
	g_autofree char *fits = g_strnfill(255, 'a');
	g_autofree char *fits_esc = name_escape_at(fits, 1);
	g_autofree char *longer = g_strnfill(300, 'a');
	g_autofree char *other = g_strnfill(301, 'a');
	g_autofree char *long_esc = name_escape_at(longer, 1);
	g_autofree char *other_esc = name_escape_at(other, 1);

	g_assert_cmpuint(name_ctx_at(0), ==, NAME_CTX_TOP);
	g_assert_cmpuint(name_ctx_at(3), ==, NAME_CTX_IN_MAIL);
	g_assert_cmpstr(top, ==, "cur");
	g_assert_cmpstr(below, ==, "%63ur");
	g_assert_cmpstr(fits_esc, ==, fits);
	g_assert_cmpuint(strlen(long_esc), ==, 200 + 1 + 16);
	g_assert_true(strncmp(long_esc, longer, 200) == 0);
	g_assert_cmpint(long_esc[200], ==, '~');
	g_assert_cmpstr(long_esc, !=, other_esc);

	/* a two-byte character across byte 200 is left out whole */
	GString *utf8 = g_string_new(NULL);
	g_string_append_len(utf8, longer, 199);
	while (utf8->len < 300)
		g_string_append(utf8, "\xc3\xa9");
	g_autofree char *cut = name_escape_at(utf8->str, 0);
	g_assert_cmpint(cut[199], ==, '~');
	g_assert_true(g_utf8_validate(cut, -1, NULL));
	g_string_free(utf8, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/name-escape/escape", test_escape);
	g_test_add_func("/name-escape/unescape", test_unescape);
	g_test_add_func("/name-escape/random-round-trip",
			test_random_round_trip);
	g_test_add_func("/name-escape/random-unescape-canonical",
			test_random_unescape_canonical);
	g_test_add_func("/name-escape/prefixes", test_prefixes);
	g_test_add_func("/name-escape/escape-at", test_escape_at);
	return g_test_run();
}
