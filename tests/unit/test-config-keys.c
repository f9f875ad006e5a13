/*
 * test-config-keys.c - the check of the accounts file's keys: what each type
 * takes, and the one line a wrong key gets.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "config-keys.h"

static void test_keys(void)
{
	static const struct {
		const char *type;
		const char *body;	/* the group's lines */
		const char *says;	/* NULL: accepted */
		const char *says2;
	} cases[] = {
		{ "imap", "host = h\nport = 993\ntls = implicit\nuser = u\n"
			  "password_file = /p\nconnections = 2\nsmtp = "
			  "smtp://h:587\nsmtp_user = u\noauth2_token_cmd = c\n",
		  NULL, NULL },
		{ "pop3", "host = h\nleave_on_server = false\nstore = /s\n",
		  NULL, NULL },
		{ "ews", "url = https://h/EWS/Exchange.asmx\nauth = ntlm\n",
		  NULL, NULL },
		{ "local", "store = /s\n", NULL, NULL },
		{ "imap", "hots = h\n", "unknown key 'hots'",
		  "did you mean 'host'?" },
		{ "imap", "pasword_cmd = c\n", "'pasword_cmd'",
		  "did you mean 'password_cmd'?" },
		{ "local", "host = h\n", "key 'host' does not apply to type "
					 "local", NULL },
		{ "pop3", "connections = 3\n", "'connections' does not apply",
		  NULL },
		{ "ews", "tls = none\n", "'tls' does not apply", NULL },
		{ "imap", "ldap = ldap://h/dc=x\n", "not available in this "
						    "version", NULL },
		{ "imap", "wallpaper = blue\n", "unknown key 'wallpaper' (see "
						"mailfs.conf(5)", NULL },
		{ "carddav", "url = https://dav.example/\nuser = u\n"
			     "auth = digest\nspool_size = 1M\n", NULL, NULL },
		{ "caldav", "host = h\n", "'host' does not apply to type "
					  "caldav", NULL },
		{ "mapi", "email = a@example.org\nuser_dn = /o=x\n"
			  "spool_size = 1G\n", NULL, NULL },
		{ "mapi", "tls = none\n", "'tls' does not apply", NULL },
		{ "ews", "user_dn = /o=x\n", "'user_dn' does not apply",
		  NULL },
		/* any other type is the registry's to refuse */
		{ "gopher", "anything = 1\n", NULL, NULL },
		/* a directory-only account */
		{ "ldap", "url = ldap://h/dc=x\nldap_bind_dn = cn=a,dc=x\n"
			  "password_cmd = c\nca_file = /c\nallow_plaintext = "
			  "false\nldap_filter = (cn=%s*)\nldap_size_limit = "
			  "5\ntimeout = 9\n", NULL, NULL },
		{ "ldap", "host = h\n", "'host' does not apply", NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GKeyFile) kf = g_key_file_new();
		g_autofree char *text = g_strdup_printf(
			"[account other]\nbogus = 1\n\n[account work]\n"
			"type = %s\n%s", cases[i].type, cases[i].body);
		GError *err = NULL;
		int rc;

		g_assert_true(g_key_file_load_from_data(kf, text, -1, 0, NULL));
		rc = config_keys_check(kf, "/etc/x.conf", "account work",
				       cases[i].type, &err);
		if (!cases[i].says) {
			g_assert_no_error(err);
			g_assert_cmpint(rc, ==, 0);
			continue;
		}
		g_assert_cmpint(rc, ==, -EINVAL);
		g_assert_nonnull(err);
		g_assert_nonnull(strstr(err->message, "/etc/x.conf"));
		g_assert_nonnull(strstr(err->message, "account 'work'"));
		g_assert_nonnull(strstr(err->message, cases[i].says));
		if (cases[i].says2)
			g_assert_nonnull(strstr(err->message, cases[i].says2));
		g_assert_null(strchr(err->message, '\n'));
		g_error_free(err);
	}
}

static void test_serve_group(void)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	GError *err = NULL;

	g_assert_true(g_key_file_load_from_data(kf,
		"[serve]\nuser = me\nimaps = 993\ntls_cert = c\n"
		"max_clients = 3\n", -1, 0, NULL));
	g_assert_cmpint(config_keys_check(kf, "f", "serve", "serve", &err),
			==, 0);
	g_key_file_set_string(kf, "serve", "host", "x");
	g_assert_cmpint(config_keys_check(kf, "f", "serve", "serve", &err),
			==, -EINVAL);
	g_assert_nonnull(strstr(err->message, "[serve]"));
	g_assert_nonnull(strstr(err->message, "'host'"));
	g_error_free(err);
}

static void test_keys_of(void)
{
	g_autofree const char **imap = config_keys_of("imap");
	g_autofree const char **none = config_keys_of("nothing");
	bool tunnel = false, url = false;

	for (size_t i = 0; imap[i]; i++) {
		tunnel |= !strcmp(imap[i], "tunnel");
		url |= !strcmp(imap[i], "url");
	}
	g_assert_true(tunnel);
	g_assert_false(url);
	g_assert_null(none[0]);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config-keys/account", test_keys);
	g_test_add_func("/config-keys/serve", test_serve_group);
	g_test_add_func("/config-keys/keys-of", test_keys_of);
	return g_test_run();
}
