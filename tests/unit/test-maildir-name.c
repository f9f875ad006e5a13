/*
 * test-maildir-name.c - Maildir file names (common/maildir-name.h).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "backend.h"
#include "maildir-name.h"

static void test_flag_bit(void)
{
	for (char c = 'A'; c <= 'Z'; c++)
		g_assert_cmphex(maildir_flag_bit(c), ==,
				UINT64_C(1) << (c - 'A'));
	for (char c = 'a'; c <= 'z'; c++)
		g_assert_cmphex(maildir_flag_bit(c), ==,
				UINT64_C(1) << (c - 'a' + 26));

	/* every letter has its own bit, all below MAILDIR_FLAG_NEW */
	uint64_t all = 0;
	for (int c = 0; c < 256; c++) {
		uint64_t bit = maildir_flag_bit((char)c);
		g_assert_cmphex(all & bit, ==, 0);
		all |= bit;
	}
	g_assert_cmphex(all, ==, (UINT64_C(1) << 52) - 1);
	g_assert_cmphex(all & MAILDIR_FLAG_NEW, ==, 0);

	static const char others[] = { '\0', '0', '9', ':', ',', '@', '[',
				       '`', '{', '~', ' ', '.', '/',
				       (char)0x80, (char)0xC3, (char)0xFF };
	for (size_t i = 0; i < G_N_ELEMENTS(others); i++)
		g_assert_cmphex(maildir_flag_bit(others[i]), ==, 0);
}

/* common/ repeats the layout of protocols/backend.h; they must agree. */
static void test_flag_bit_matches_backend(void)
{
	for (int c = 0; c < 128; c++)
		g_assert_cmphex(maildir_flag_bit((char)c), ==,
				MFS_FLAG_LETTER(c));
	g_assert_cmphex(MAILDIR_FLAG_NEW, ==, MFS_FLAG_NEW);
	g_assert_cmphex(maildir_flags_parse("DFPRST"), ==,
			MFS_FLAG_DRAFT | MFS_FLAG_FLAGGED | MFS_FLAG_PASSED |
			MFS_FLAG_REPLIED | MFS_FLAG_SEEN | MFS_FLAG_TRASHED);
}

static const struct {
	const char *letters;
	const char *formatted;	/* after parse then format */
} flag_cases[] = {
	{ "", "" },
	{ "S", "S" },
	{ "SRF", "FRS" },
	{ "FRS", "FRS" },
	{ "TSRPFD", "DFPRST" },
	{ "SS", "S" },
	{ "aS", "Sa" },
	{ "zaZA", "AZaz" },
	{ "cbaCBA", "ABCabc" },
	{ "S1,:x", "Sx" },	/* unknown characters are ignored */
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" },
	{ "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA",
	  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" },
};

static void test_flags_round_trip(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(flag_cases); i++) {
		uint64_t f = maildir_flags_parse(flag_cases[i].letters);
		g_autofree char *s = maildir_flags_format(f);

		g_test_message("letters '%s'", flag_cases[i].letters);
		g_assert_cmpstr(s, ==, flag_cases[i].formatted);
		g_assert_cmphex(maildir_flags_parse(s), ==, f);
	}
}

static void test_flags_format_ignores_new(void)
{
	g_autofree char *none = maildir_flags_format(MAILDIR_FLAG_NEW);
	g_autofree char *seen = maildir_flags_format(
		MAILDIR_FLAG_NEW | maildir_flag_bit('S'));
	g_autofree char *high = maildir_flags_format(~UINT64_C(0));

	g_assert_cmpstr(none, ==, "");
	g_assert_cmpstr(seen, ==, "S");
	g_assert_cmpstr(high, ==,
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
}

static const struct {
	const char *name;
	int rc;
	const char *id;
	const char *letters;	/* the flags, formatted */
} parse_cases[] = {
	{ "1700000000.M1P2Q3.host", 0, "1700000000.M1P2Q3.host", "" },
	{ "1700000000.M1P2Q3.host:2,S", 0, "1700000000.M1P2Q3.host", "S" },
	{ "abc:2,SRF", 0, "abc", "FRS" },
	{ "abc:2,", 0, "abc", "" },
	{ "abc:2,aS", 0, "abc", "Sa" },
	{ "abc:2,S,x", 0, "abc", "Sx" },
	{ "a", 0, "a", "" },
	{ "a.b,c=d", 0, "a.b,c=d", "" },
	{ "abc:1,S", 0, "abc:1,S", "" },	/* not the ":2," info */
	{ "", -EINVAL, NULL, NULL },
	{ ".", -EINVAL, NULL, NULL },
	{ "..", -EINVAL, NULL, NULL },
	{ ".hidden", -EINVAL, NULL, NULL },
	{ ".hidden:2,S", -EINVAL, NULL, NULL },
	{ ":2,S", -EINVAL, NULL, NULL },
	{ ":2,", -EINVAL, NULL, NULL },
};

static void test_name_parse(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		char *id = NULL;
		uint64_t flags = 0xdead;
		int rc = maildir_name_parse(parse_cases[i].name, &id, &flags);

		g_test_message("name '%s'", parse_cases[i].name);
		g_assert_cmpint(rc, ==, parse_cases[i].rc);
		if (rc < 0) {
			g_assert_null(id);
			continue;
		}
		g_autofree char *letters = maildir_flags_format(flags);
		g_assert_cmpstr(id, ==, parse_cases[i].id);
		g_assert_cmpstr(letters, ==, parse_cases[i].letters);
		g_assert_cmphex(flags & MAILDIR_FLAG_NEW, ==, 0);
		g_free(id);
	}
}

static const struct {
	const char *id;
	const char *letters;
	gboolean is_new;
	const char *name;
} format_cases[] = {
	{ "abc", "", TRUE, "abc" },
	{ "abc", "S", TRUE, "abc:2,S" },
	{ "abc", "SRF", TRUE, "abc:2,FRS" },
	{ "abc", "", FALSE, "abc:2," },
	{ "abc", "S", FALSE, "abc:2,S" },
	{ "abc", "aS", FALSE, "abc:2,Sa" },
	{ "1.M2P3Q4.h", "TD", FALSE, "1.M2P3Q4.h:2,DT" },
};

static void test_name_format(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(format_cases); i++) {
		uint64_t flags = maildir_flags_parse(format_cases[i].letters);
		if (format_cases[i].is_new)
			flags |= MAILDIR_FLAG_NEW;
		g_autofree char *name = maildir_name_format(format_cases[i].id,
							    flags);
		char *id = NULL;
		uint64_t back = 0;

		g_assert_cmpstr(name, ==, format_cases[i].name);
		/* what is formatted parses back, NEW aside (it is the dir) */
		g_assert_cmpint(maildir_name_parse(name, &id, &back), ==, 0);
		g_assert_cmpstr(id, ==, format_cases[i].id);
		g_assert_cmphex(back, ==, flags & ~MAILDIR_FLAG_NEW);
		g_free(id);
	}
}

static void test_unique_new(void)
{
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, NULL);

	for (int i = 0; i < 10000; i++) {
		char *u = maildir_unique_new();
		char *id = NULL;
		uint64_t flags = 1;

		g_assert_nonnull(u);
		g_assert_cmpuint(strlen(u), >, 0);
		g_assert_null(strchr(u, '/'));
		g_assert_null(strchr(u, ':'));
		g_assert_cmpint(u[0], !=, '.');
		/* a unique part is a valid name of a new/ message */
		g_assert_cmpint(maildir_name_parse(u, &id, &flags), ==, 0);
		g_assert_cmpstr(id, ==, u);
		g_assert_cmphex(flags, ==, 0);
		g_free(id);
		g_assert_false(g_hash_table_contains(seen, u));
		g_hash_table_add(seen, u);
	}
	g_assert_cmpuint(g_hash_table_size(seen), ==, 10000);
	g_hash_table_unref(seen);
}

/* dovecot-keywords as Dovecot and hands write it: lines of another shape,
 * a second line for a letter or a name, names no client could be sent
 * are skipped; the rest is read. */
static void test_keywords_read_tolerant(void)
{
	g_autofree char *dir = g_dir_make_tmp("mfs-kw-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, MAILDIR_KEYWORDS_FILE,
						 NULL);
	struct maildir_keywords kw = { 0 };
	const char *text = "0 $Label1\n"
			   "# a comment\n"
			   "nonsense\n"
			   "1 project-x\n"
			   "1 second-for-b\n"
			   "2 $label1\n"
			   "26 past-z\n"
			   "x3 bad-index\n"
			   "4 has space\n"
			   "5 \\Seen\n"
			   "25 last\n"
			   "7 \n";

	g_assert_cmpint(maildir_keywords_read(dir, &kw), ==, 0);
	g_assert_cmpuint(maildir_keywords_room(&kw), ==, 26);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_cmpint(maildir_keywords_read(dir, &kw), ==, 0);
	g_assert_cmpstr(kw.names[0], ==, "$Label1");
	g_assert_cmpstr(kw.names[1], ==, "project-x");
	g_assert_null(kw.names[2]);
	g_assert_null(kw.names[4]);
	g_assert_null(kw.names[5]);
	g_assert_null(kw.names[7]);
	g_assert_cmpstr(kw.names[25], ==, "last");
	g_assert_cmpuint(maildir_keywords_room(&kw), ==, 23);
	g_assert_cmpint(maildir_keywords_find(&kw, "$LABEL1"), ==, 0);
	g_assert_cmpint(maildir_keywords_find(&kw, "nope"), ==, -1);
	maildir_keywords_clear(&kw);
	unlink(path);
	rmdir(dir);
}

/* New names take free letters, the file is rewritten in Dovecot's shape,
 * a 27th name is refused with nothing added, and letters move between
 * folders by name. */
static void test_keywords_add_and_remap(void)
{
	g_autofree char *a = g_dir_make_tmp("mfs-kw-XXXXXX", NULL);
	g_autofree char *b = g_dir_make_tmp("mfs-kw-XXXXXX", NULL);
	g_autofree char *pa = g_build_filename(a, MAILDIR_KEYWORDS_FILE, NULL);
	g_autofree char *pb = g_build_filename(b, MAILDIR_KEYWORDS_FILE, NULL);
	g_autofree char *text = NULL;
	struct maildir_keywords kw = { 0 };
	const char *two[] = { "one", "two" }, *other[] = { "two" };
	uint64_t bits = 0, flags = 0;

	g_assert_cmpint(maildir_keywords_add(a, two, 2, &kw, &bits), ==, 0);
	g_assert_cmphex(bits, ==, maildir_flags_parse("ab"));
	g_assert_true(g_file_get_contents(pa, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "0 one\n1 two\n");
	g_assert_cmpint(maildir_keywords_add(b, other, 1, &kw, &bits), ==, 0);
	g_assert_cmphex(bits, ==, maildir_flags_parse("a"));
	/* "one" and "two" of a (a, b) are b's b and a; z has no name */
	g_assert_cmpint(maildir_keywords_remap(a, b, maildir_flags_parse("Sabz"),
					       &flags), ==, 0);
	g_assert_cmphex(flags, ==, maildir_flags_parse("Sabz"));
	g_assert_cmpint(maildir_keywords_remap(a, b, maildir_flags_parse("Sb"),
					       &flags), ==, 0);
	g_assert_cmphex(flags, ==, maildir_flags_parse("Sa"));
	g_assert_cmpint(maildir_keywords_remap(a, b, maildir_flags_parse("a"),
					       &flags), ==, 0);
	g_assert_cmphex(flags, ==, maildir_flags_parse("b"));
	for (int i = 0; i < 24; i++) {
		g_autofree char *name = g_strdup_printf("kw%d", i);
		const char *one[] = { name };
		g_assert_cmpint(maildir_keywords_add(a, one, 1, &kw, &bits),
				==, 0);
	}
	g_assert_cmpuint(maildir_keywords_room(&kw), ==, 0);
	const char *more[] = { "two", "too-many" };
	g_assert_cmpint(maildir_keywords_add(a, more, 2, &kw, &bits), ==,
			-ENOSPC);
	g_assert_cmpint(maildir_keywords_find(&kw, "too-many"), ==, -1);
	const char *bad[] = { "has space" };
	g_assert_cmpint(maildir_keywords_add(a, bad, 1, &kw, &bits), ==,
			-EINVAL);
	maildir_keywords_clear(&kw);
	g_autofree char *lock = g_build_filename(a, MAILDIR_KEYWORDS_LOCK, NULL);
	g_assert_false(g_file_test(lock, G_FILE_TEST_EXISTS));
	unlink(pa);
	unlink(pb);
	rmdir(a);
	rmdir(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/maildir-name/flag-bit", test_flag_bit);
	g_test_add_func("/maildir-name/flag-bit-matches-backend",
			test_flag_bit_matches_backend);
	g_test_add_func("/maildir-name/flags-round-trip",
			test_flags_round_trip);
	g_test_add_func("/maildir-name/flags-format-ignores-new",
			test_flags_format_ignores_new);
	g_test_add_func("/maildir-name/parse", test_name_parse);
	g_test_add_func("/maildir-name/format", test_name_format);
	g_test_add_func("/maildir-name/unique-new", test_unique_new);
	g_test_add_func("/maildir-name/keywords-read-tolerant",
			test_keywords_read_tolerant);
	g_test_add_func("/maildir-name/keywords-add-and-remap",
			test_keywords_add_and_remap);
	return g_test_run();
}
