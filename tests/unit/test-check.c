/*
 * test-check.c - the step reporting of `mailfs check` (protocols/check.h)
 * and mfs_backend_check's answers for types that cannot be checked.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "backend.h"
#include "check.h"

/* Every step heard, as "ok|FAIL step: text [fix: ...]". */
static void record(const char *step, bool ok, const char *text,
		   const char *fix, void *data)
{
	GPtrArray *lines = data;

	g_ptr_array_add(lines, g_strdup_printf("%s %s: %s%s%s",
					       ok ? "ok" : "FAIL", step, text,
					       fix ? " fix: " : "",
					       fix ? fix : ""));
}

static void test_say(void)
{
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	struct mfs_check ck = { .fn = record, .data = lines };

	mfs_check_say(NULL, "tcp", false, NULL, "nobody hears this");
	mfs_check_say(&ck, "tcp", true, NULL, "%s:%d", "host", 993);
	ck.prefix = "smtp ";
	mfs_check_say(&ck, "auth", false, "do this", "said \033[2J\a%s",
		      "here");
	g_assert_cmpuint(lines->len, ==, 2);
	g_assert_cmpstr(lines->pdata[0], ==, "ok tcp: host:993");
	/* control characters from a server never reach the terminal */
	g_assert_cmpstr(lines->pdata[1], ==,
			"FAIL smtp auth: said ?[2J?here fix: do this");
	g_assert_cmpuint(ck.failures, ==, 1);
	g_assert_false(ck.config_bad);
	ck.prefix = NULL;
	mfs_check_say(&ck, "config", false, NULL, "bad");
	g_assert_true(ck.config_bad);
	g_assert_cmpuint(ck.failures, ==, 2);
}

static void test_resolve(void)
{
	static const struct {
		const char *host;
		int rc;
		const char *says;
	} cases[] = {
		{ "127.0.0.1", 0, "ok dns: 127.0.0.1 is 127.0.0.1" },
		{ "nonexistent.invalid", -EHOSTUNREACH,
		  "FAIL dns: nonexistent.invalid: " },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GPtrArray) lines =
			g_ptr_array_new_with_free_func(g_free);
		struct mfs_check ck = { .fn = record, .data = lines };

		g_test_message("host %s", cases[i].host);
		g_assert_cmpint(mfs_check_resolve(&ck, cases[i].host, "993"),
				==, cases[i].rc);
		g_assert_cmpuint(lines->len, ==, 1);
		g_assert_true(g_str_has_prefix(lines->pdata[0],
					       cases[i].says));
	}
}

static void test_types(void)
{
	static const struct {
		const char *type;
		int rc;
		const char *says;
	} cases[] = {
		{ "gopher", -EINVAL, "FAIL config: type = gopher: unknown" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GPtrArray) lines =
			g_ptr_array_new_with_free_func(g_free);
		struct mfs_check ck = { .fn = record, .data = lines };
		struct mfs_account acct = { .name = "x",
					    .type = cases[i].type };

		g_assert_cmpint(mfs_backend_check(&acct, &ck), ==,
				cases[i].rc);
		g_assert_cmpuint(lines->len, ==, 1);
		g_assert_true(g_str_has_prefix(lines->pdata[0],
					       cases[i].says));
		g_assert_true(ck.config_bad);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/check/say", test_say);
	g_test_add_func("/check/resolve", test_resolve);
	g_test_add_func("/check/types", test_types);
	return g_test_run();
}
