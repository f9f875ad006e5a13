/*
 * test-cli.c - the mount command line (src/cli.h), the accounts file
 * (src/accounts.h) and the mount point check (src/mountcheck.h).
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "accounts.h"
#include "cli.h"
#include "mountcheck.h"

#define ARGS(...) ((const char *const[]){ "mailfs", __VA_ARGS__, NULL })

/* Parse a NULL-terminated argument list; argv is copied as main() owns it. */
static int parse(const char *const *args, struct cli *c, GError **err)
{
	g_auto(GStrv) argv = g_strdupv((char **)args);

	return cli_parse((int)g_strv_length(argv), argv, c, err);
}

static void test_mountpoint_only(void)
{
	struct cli c;
	GError *err = NULL;

	g_assert_cmpint(parse(ARGS("/mnt"), &c, &err), ==, 0);
	g_assert_no_error(err);
	g_assert_cmpstr(c.mountpoint, ==, "/mnt");
	g_assert_null(c.account);
	g_assert_null(c.store);
	g_assert_null(c.config);
	g_assert_null(c.cache_dir);
	g_assert_null(c.local_dir);
	g_assert_false(c.foreground);
	g_assert_false(c.debug);
	g_assert_false(c.read_only);
	g_assert_false(c.help);
	g_assert_false(c.version);
	g_assert_true(c.writeback);
	g_assert_cmpfloat(c.entry_timeout, >, 0.0);
	g_assert_cmpfloat(c.attr_timeout, >, 0.0);
	g_assert_cmpstr(c.fuse_opts->str, ==, "");
	cli_clear(&c);
	g_assert_null(c.fuse_opts);
	g_assert_null(c.mountpoint);
}

static void test_no_arguments(void)
{
	struct cli c;
	GError *err = NULL;
	char *argv[] = { (char *)"mailfs", NULL };

	/* main() says "no mount point"; parsing itself succeeds */
	g_assert_cmpint(cli_parse(1, argv, &c, &err), ==, 0);
	g_assert_null(c.mountpoint);
	g_assert_null(c.account);
	cli_clear(&c);
}

static void test_account_and_mountpoint(void)
{
	struct cli c;
	GError *err = NULL;

	g_assert_cmpint(parse(ARGS("work", "/mnt/work"), &c, &err), ==, 0);
	g_assert_cmpstr(c.account, ==, "work");
	g_assert_cmpstr(c.mountpoint, ==, "/mnt/work");
	cli_clear(&c);
}

/* As mount.fuse3 passes them: options after the mount point. */
static void test_options_after_mountpoint(void)
{
	struct cli c;
	GError *err = NULL;

	g_assert_cmpint(parse(ARGS("local", "/mnt", "-o",
				   "rw,store=/x,allow_other"), &c, &err),
			==, 0);
	g_assert_no_error(err);
	g_assert_cmpstr(c.account, ==, "local");
	g_assert_cmpstr(c.mountpoint, ==, "/mnt");
	g_assert_cmpstr(c.store, ==, "/x");
	g_assert_cmpstr(c.fuse_opts->str, ==, "allow_other");
	g_assert_false(c.read_only);
	cli_clear(&c);
}

static void test_o_forms(void)
{
	struct cli c;
	GError *err = NULL;

	g_assert_cmpint(parse(ARGS("-ostore=/s,cache_dir=/c,cache_size=1G,"
				   "local_dir=/l,writeback=off,entry_timeout=2.5,"
				   "attr_timeout=0,ro,default_permissions,,"
				   "_netdev,nofail",
				   "/mnt", "-o", "allow_other", "-o",
				   "store=/t,noauto"), &c, &err), ==, 0);
	g_assert_no_error(err);
	g_assert_cmpstr(c.mountpoint, ==, "/mnt");
	g_assert_cmpstr(c.store, ==, "/t");	/* the last one wins */
	g_assert_cmpstr(c.cache_dir, ==, "/c");
	g_assert_cmpstr(c.cache_size, ==, "1G");
	g_assert_cmpstr(c.local_dir, ==, "/l");
	g_assert_false(c.writeback);
	g_assert_cmpfloat(c.entry_timeout, ==, 2.5);
	g_assert_cmpfloat(c.attr_timeout, ==, 0.0);
	g_assert_true(c.read_only);
	g_assert_cmpstr(c.fuse_opts->str, ==,
			"default_permissions,allow_other");
	cli_clear(&c);
}

static const struct {
	const char *arg;
	gboolean foreground, debug, help, version;
} flag_cases[] = {
	{ "-f", TRUE, FALSE, FALSE, FALSE },
	{ "--foreground", TRUE, FALSE, FALSE, FALSE },
	{ "-d", TRUE, TRUE, FALSE, FALSE },
	{ "--debug", TRUE, TRUE, FALSE, FALSE },
	{ "-h", FALSE, FALSE, TRUE, FALSE },
	{ "--help", FALSE, FALSE, TRUE, FALSE },
	{ "-V", FALSE, FALSE, FALSE, TRUE },
	{ "--version", FALSE, FALSE, FALSE, TRUE },
};

static void test_flags(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(flag_cases); i++) {
		struct cli c;
		GError *err = NULL;

		g_test_message("flag %s", flag_cases[i].arg);
		g_assert_cmpint(parse(ARGS(flag_cases[i].arg, "/mnt"), &c,
				      &err), ==, 0);
		g_assert_cmpint(c.foreground, ==, flag_cases[i].foreground);
		g_assert_cmpint(c.debug, ==, flag_cases[i].debug);
		g_assert_cmpint(c.help, ==, flag_cases[i].help);
		g_assert_cmpint(c.version, ==, flag_cases[i].version);
		g_assert_cmpstr(c.mountpoint, ==, "/mnt");
		cli_clear(&c);
	}
}

static void test_config_option(void)
{
	struct cli c;
	GError *err = NULL;

	g_assert_cmpint(parse(ARGS("--config", "/etc/a.conf", "work", "/mnt"),
			      &c, &err), ==, 0);
	g_assert_cmpstr(c.config, ==, "/etc/a.conf");
	g_assert_cmpstr(c.account, ==, "work");
	g_assert_cmpstr(c.mountpoint, ==, "/mnt");
	cli_clear(&c);

	g_assert_cmpint(parse(ARGS("work", "/mnt", "--config=/etc/b.conf"),
			      &c, &err), ==, 0);
	g_assert_cmpstr(c.config, ==, "/etc/b.conf");
	g_assert_cmpstr(c.account, ==, "work");
	cli_clear(&c);
}

static void test_double_dash(void)
{
	struct cli c;
	GError *err = NULL;

	g_assert_cmpint(parse(ARGS("-f", "--", "-odd", "-mnt"), &c, &err), ==,
			0);
	g_assert_true(c.foreground);
	g_assert_cmpstr(c.account, ==, "-odd");
	g_assert_cmpstr(c.mountpoint, ==, "-mnt");
	cli_clear(&c);
}

static const struct {
	const char *what;
	const char *const *args;
	const char *says;	/* part of the message */
} error_cases[] = {
	{ "unknown long option", ARGS("--bogus", "/mnt"), "--bogus" },
	{ "unknown short option", ARGS("/mnt", "-x"), "-x" },
	{ "three positionals", ARGS("a", "b", "c"), "'c'" },
	{ "writeback=maybe", ARGS("/mnt", "-o", "writeback=maybe"),
	  "writeback" },
	{ "entry_timeout=abc", ARGS("/mnt", "-o", "entry_timeout=abc"),
	  "abc" },
	{ "entry_timeout=-1", ARGS("/mnt", "-o", "entry_timeout=-1"), "-1" },
	{ "attr_timeout=1x", ARGS("/mnt", "-oattr_timeout=1x"), "1x" },
	{ "store= without value", ARGS("/mnt", "-o", "store="), "store" },
	{ "store without '='", ARGS("/mnt", "-o", "store"), "store" },
	{ "cache_dir= without value", ARGS("/mnt", "-o", "rw,cache_dir="),
	  "cache_dir" },
	{ "local_dir= without value", ARGS("/mnt", "-o", "local_dir="),
	  "local_dir" },
	{ "local_dir without '='", ARGS("/mnt", "-o", "local_dir"),
	  "local_dir" },
	{ "-o at the end", ARGS("/mnt", "-o"), "-o" },
	{ "--config at the end", ARGS("/mnt", "--config"), "--config" },
	{ "--config= empty", ARGS("--config=", "/mnt"), "--config" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(error_cases); i++) {
		struct cli c;
		GError *err = NULL;

		g_test_message("case: %s", error_cases[i].what);
		g_assert_cmpint(parse(error_cases[i].args, &c, &err), ==,
				-EINVAL);
		g_assert_nonnull(err);
		g_test_message("  message: %s", err->message);
		g_assert_nonnull(strstr(err->message, error_cases[i].says));
		g_error_free(err);
		cli_clear(&c);
	}
}

/* ---- config ---- */

static int rm_entry(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	return remove(path);
}

struct fixture {
	char *tmp;		/* owned; removed with everything in it */
};

static void fixture_set_up(struct fixture *fx, gconstpointer data)
{
	GError *err = NULL;

	fx->tmp = g_dir_make_tmp("mailfs-cli-XXXXXX", &err);
	g_assert_no_error(err);
}

static void fixture_tear_down(struct fixture *fx, gconstpointer data)
{
	nftw(fx->tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	g_free(fx->tmp);
}

/* Write `text` as a file in the fixture's directory.  Caller owns the path. */
static char *write_config(struct fixture *fx, const char *text)
{
	char *path = g_build_filename(fx->tmp, "config", NULL);
	GError *err = NULL;

	g_file_set_contents(path, text, -1, &err);
	g_assert_no_error(err);
	return path;
}

static void test_config_default(struct fixture *fx, gconstpointer data)
{
	struct config_account a;
	GError *err = NULL;
	g_autofree char *want = g_build_filename(g_get_user_data_dir(),
						 "mailfs", "store", NULL);
	g_autofree char *def = config_default_store();

	/* HOME and the XDG directories are the program's own (main), and
	 * no config file exists there */
	g_assert_cmpint(config_account_load(NULL, NULL, NULL, &a, &err), ==,
			0);
	g_assert_no_error(err);
	g_assert_cmpstr(a.name, ==, "local");
	g_assert_cmpstr(a.type, ==, "local");
	g_assert_cmpstr(a.store, ==, want);
	g_assert_cmpstr(def, ==, want);
	g_assert_null(a.group);
	g_assert_null(a.keys);
	config_account_clear(&a);
	g_assert_null(a.name);

	/* "local" named explicitly is the same embedded store */
	g_assert_cmpint(config_account_load(NULL, "local", NULL, &a, &err), ==,
			0);
	g_assert_cmpstr(a.type, ==, "local");
	g_assert_cmpstr(a.store, ==, want);
	config_account_clear(&a);
}

static void test_config_default_file(struct fixture *fx, gconstpointer data)
{
	g_autofree char *dir = g_build_filename(g_get_user_config_dir(),
						"mailfs", NULL);
	g_autofree char *path = g_build_filename(dir, "config", NULL);
	struct config_account a;
	GError *err = NULL;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_file_set_contents(path, "[account work]\ntype = imap\n", -1, &err);
	g_assert_no_error(err);
	g_assert_cmpint(config_account_load(NULL, "work", NULL, &a, &err), ==,
			0);
	g_assert_no_error(err);
	g_assert_cmpstr(a.type, ==, "imap");
	config_account_clear(&a);
	g_assert_cmpint(g_unlink(path), ==, 0);
}

static void test_config_imap(struct fixture *fx, gconstpointer data)
{
	g_autofree char *path = write_config(fx,
		"# accounts\n"
		"[account work]\n"
		"type = imap            # as DESIGN.md writes it\n"
		"host = imap.example.org\n");
	struct config_account a;
	GError *err = NULL;

	g_assert_cmpint(config_account_load(path, "work", NULL, &a, &err), ==,
			0);
	g_assert_no_error(err);
	g_assert_cmpstr(a.name, ==, "work");
	g_assert_cmpstr(a.type, ==, "imap");
	g_assert_cmpstr(a.group, ==, "account work");
	g_assert_null(a.store);
	g_assert_nonnull(a.keys);
	g_autofree char *host = g_key_file_get_string(a.keys, a.group, "host",
						      NULL);
	g_assert_cmpstr(host, ==, "imap.example.org");
	config_account_clear(&a);
}

static void test_config_local_home(struct fixture *fx, gconstpointer data)
{
	g_autofree char *path = write_config(fx,
		"[account box]\n"
		"type = local\n"
		"store = ~/box\n"
		"[account plain]\n"
		"type = local\n"
		"store = /srv/mail/../plain\n");
	g_autofree char *want = g_build_filename(g_get_home_dir(), "box", NULL);
	struct config_account a;
	GError *err = NULL;

	g_assert_cmpint(config_account_load(path, "box", NULL, &a, &err), ==,
			0);
	g_assert_no_error(err);
	g_assert_cmpstr(a.type, ==, "local");
	g_assert_cmpstr(a.store, ==, want);
	config_account_clear(&a);

	g_assert_cmpint(config_account_load(path, "plain", NULL, &a, &err), ==,
			0);
	g_assert_cmpstr(a.store, ==, "/srv/plain");
	config_account_clear(&a);
}

static void test_config_override(struct fixture *fx, gconstpointer data)
{
	g_autofree char *path = write_config(fx,
		"[account box]\ntype = local\nstore = /from/file\n");
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *rel = g_build_filename(cwd, "rel", "dir", NULL);
	struct config_account a;
	GError *err = NULL;

	g_assert_cmpint(config_account_load(path, "box", "/from/cli", &a,
					    &err), ==, 0);
	g_assert_cmpstr(a.store, ==, "/from/cli");
	config_account_clear(&a);

	g_assert_cmpint(config_account_load(NULL, NULL, "rel/dir", &a, &err),
			==, 0);
	g_assert_cmpstr(a.store, ==, rel);
	config_account_clear(&a);
}

static const struct {
	const char *what;
	const char *text;	/* NULL: no file at all */
	const char *account;
	int rc;
	const char *says;
} config_errors[] = {
	{ "account missing from the file",
	  "[account work]\ntype = imap\n", "home", -ENOENT, "'home'" },
	{ "no file for a named account", NULL, "home", -ENOENT, "'home'" },
	{ "account without type",
	  "[account work]\nhost = x\n", "work", -EINVAL, "no type" },
	{ "empty type", "[account work]\ntype =\n", "work", -EINVAL,
	  "no type" },
	{ "malformed key file", "[account work\ntype = imap\n", "work",
	  -EINVAL, "config" },
	{ "line outside any group", "type = imap\n", "work", -EINVAL,
	  "config" },
};

static void test_config_errors(struct fixture *fx, gconstpointer data)
{
	for (size_t i = 0; i < G_N_ELEMENTS(config_errors); i++) {
		g_autofree char *path = config_errors[i].text
			? write_config(fx, config_errors[i].text) : NULL;
		struct config_account a;
		GError *err = NULL;

		g_test_message("case: %s", config_errors[i].what);
		g_assert_cmpint(config_account_load(path,
						    config_errors[i].account,
						    NULL, &a, &err), ==,
				config_errors[i].rc);
		g_assert_nonnull(err);
		g_test_message("  message: %s", err->message);
		g_assert_nonnull(strstr(err->message, config_errors[i].says));
		g_error_free(err);
		/* a failed load leaves nothing to free */
		g_assert_null(a.name);
		g_assert_null(a.type);
		g_assert_null(a.keys);
	}
}

static void test_config_missing_file(struct fixture *fx, gconstpointer data)
{
	g_autofree char *path = g_build_filename(fx->tmp, "absent", NULL);
	struct config_account a;
	GError *err = NULL;

	/* a --config file that is not there is an error, not a default */
	g_assert_cmpint(config_account_load(path, NULL, NULL, &a, &err), <, 0);
	g_assert_nonnull(err);
	g_assert_nonnull(strstr(err->message, path));
	g_error_free(err);
}

/* ---- mountcheck ---- */

static void test_mountcheck_proc(void)
{
	char *fstype = NULL;
	GError *err = NULL;

	g_assert_true(mountcheck_is_mounted("/proc", &fstype));
	g_assert_cmpstr(fstype, ==, "proc");
	g_free(fstype);
	g_assert_true(mountcheck_is_mounted("/proc", NULL));

	g_assert_cmpint(mountcheck("/proc", &err), ==, -EBUSY);
	g_assert_nonnull(err);
	g_assert_nonnull(strstr(err->message, "proc"));
	g_error_free(err);
}

static void test_mountcheck_paths(struct fixture *fx, gconstpointer data)
{
	g_autofree char *missing = g_build_filename(fx->tmp, "missing", NULL);
	g_autofree char *file = g_build_filename(fx->tmp, "file", NULL);
	g_autofree char *dir = g_build_filename(fx->tmp, "dir", NULL);
	char *fstype = NULL;
	GError *err = NULL;

	g_assert_false(mountcheck_is_mounted(fx->tmp, &fstype));
	g_assert_null(fstype);

	g_assert_cmpint(mountcheck(missing, &err), ==, -ENOENT);
	g_assert_nonnull(err);
	g_assert_nonnull(strstr(err->message, missing));
	g_clear_error(&err);

	g_file_set_contents(file, "x", -1, &err);
	g_assert_no_error(err);
	g_assert_cmpint(mountcheck(file, &err), ==, -ENOTDIR);
	g_assert_nonnull(err);
	g_assert_nonnull(strstr(err->message, "not a directory"));
	g_clear_error(&err);

	g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
	g_assert_cmpint(mountcheck(dir, &err), ==, 0);
	g_assert_no_error(err);
}

#define ADD_FX(name, fn) \
	g_test_add(name, struct fixture, NULL, fixture_set_up, fn, \
		   fixture_tear_down)

/*
 * HOME and the XDG directories point into a directory of the program's own,
 * set before anything asks GLib for them (it keeps the first answer).
 * G_TEST_OPTION_ISOLATE_DIRS would do it per test, but GLib then keeps the
 * previous strings alive on purpose, which LeakSanitizer reports.
 */
static char *isolate_dirs(void)
{
	static const char *const vars[][2] = {
		{ "HOME", "home" },
		{ "XDG_CONFIG_HOME", "config" },
		{ "XDG_DATA_HOME", "data" },
		{ "XDG_CACHE_HOME", "cache" },
	};
	GError *err = NULL;
	char *root = g_dir_make_tmp("mailfs-cli-home-XXXXXX", &err);

	g_assert_no_error(err);
	for (size_t i = 0; i < G_N_ELEMENTS(vars); i++) {
		g_autofree char *dir = g_build_filename(root, vars[i][1], NULL);
		g_setenv(vars[i][0], dir, TRUE);
	}
	return root;
}

int main(int argc, char **argv)
{
	g_autofree char *root = isolate_dirs();
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cli/mountpoint-only", test_mountpoint_only);
	g_test_add_func("/cli/no-arguments", test_no_arguments);
	g_test_add_func("/cli/account-and-mountpoint",
			test_account_and_mountpoint);
	g_test_add_func("/cli/options-after-mountpoint",
			test_options_after_mountpoint);
	g_test_add_func("/cli/o-forms", test_o_forms);
	g_test_add_func("/cli/flags", test_flags);
	g_test_add_func("/cli/config-option", test_config_option);
	g_test_add_func("/cli/double-dash", test_double_dash);
	g_test_add_func("/cli/errors", test_errors);
	ADD_FX("/config/default", test_config_default);
	ADD_FX("/config/default-file", test_config_default_file);
	ADD_FX("/config/imap", test_config_imap);
	ADD_FX("/config/local-home", test_config_local_home);
	ADD_FX("/config/override", test_config_override);
	ADD_FX("/config/errors", test_config_errors);
	ADD_FX("/config/missing-file", test_config_missing_file);
	g_test_add_func("/mountcheck/proc", test_mountcheck_proc);
	ADD_FX("/mountcheck/paths", test_mountcheck_paths);
	rc = g_test_run();
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
