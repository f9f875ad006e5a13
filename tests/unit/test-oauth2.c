/*
 * test-oauth2.c - built-in OAuth2 without a network: the provider table
 * and the checks of the oauth2* keys (protocols/oauth2/provider.c), the
 * token file (token.c), and the reading of RFC 8628 / RFC 6749 answers
 * (reply.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "oauth2/oauth2-private.h"

/* ---- provider table ---- */

static GKeyFile *keys(const char *text)
{
	GKeyFile *kf = g_key_file_new();
	g_autofree char *all = g_strconcat("[account a]\n", text, NULL);

	g_assert_true(g_key_file_load_from_data(kf, all, strlen(all),
						G_KEY_FILE_NONE, NULL));
	return kf;
}

static const struct {
	const char *text;
	const char *type;
	const char *device_url;
	const char *token_url;
	const char *scope;
} good[] = {
	{ "oauth2 = microsoft\noauth2_client_id = c\n", "imap",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	  "https://outlook.office.com/IMAP.AccessAsUser.All "
	  "https://outlook.office.com/SMTP.Send offline_access" },
	{ "oauth2 = microsoft\noauth2_client_id = c\n"
	  "oauth2_tenant = contoso.onmicrosoft.com\n", "ews",
	  "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/"
	  "v2.0/devicecode",
	  "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/"
	  "v2.0/token",
	  "https://outlook.office.com/EWS.AccessAsUser.All offline_access" },
	{ "oauth2 = microsoft\noauth2_client_id = c\n", "pop3",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	  "https://outlook.office.com/POP.AccessAsUser.All offline_access" },
	{ "oauth2 = microsoft\noauth2_client_id = c\noauth2_scope = x y\n",
	  "imap",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	  "x y" },
	{ "oauth2 = google\noauth2_client_id = c\noauth2_client_secret = s\n",
	  "imap", "https://oauth2.googleapis.com/device/code",
	  "https://oauth2.googleapis.com/token", "https://mail.google.com/" },
	{ "oauth2 = custom\noauth2_client_id = c\noauth2_scope = mail\n"
	  "oauth2_device_url = https://id.example/device\n"
	  "oauth2_token_url = https://id.example/token\n", "imap",
	  "https://id.example/device", "https://id.example/token", "mail" },
	/* plain http: on this machine, or when allowed */
	{ "oauth2 = custom\noauth2_client_id = c\noauth2_scope = mail\n"
	  "oauth2_device_url = http://127.0.0.1:8080/device\n"
	  "oauth2_token_url = http://[::1]:8080/token\n", "imap",
	  "http://127.0.0.1:8080/device", "http://[::1]:8080/token", "mail" },
	{ "oauth2 = custom\noauth2_client_id = c\noauth2_scope = mail\n"
	  "oauth2_device_url = http://localhost/device\n"
	  "oauth2_token_url = http://id.example/token\n"
	  "allow_plaintext = true\n", "imap",
	  "http://localhost/device", "http://id.example/token", "mail" },
};

static void test_providers(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GKeyFile) kf = keys(good[i].text);
		struct oauth2_cfg cfg;
		GError *err = NULL;
		int rc = oauth2_cfg_load(kf, "account a", "a", good[i].type,
					 &cfg, &err);
		g_assert_no_error(err);
		g_assert_cmpint(rc, ==, 1);
		g_assert_cmpstr(cfg.device_url, ==, good[i].device_url);
		g_assert_cmpstr(cfg.token_url, ==, good[i].token_url);
		g_assert_cmpstr(cfg.scope, ==, good[i].scope);
		g_assert_cmpstr(cfg.client_id, ==, "c");
		g_assert_true(g_str_has_suffix(cfg.token_path,
					       "/mailfs/tokens/a"));
		oauth2_cfg_clear(&cfg);
	}
}

static const struct {
	const char *text;
	const char *message;	/* after "config /etc/x: account a: " */
} bad[] = {
	{ "oauth2 = yahoo\noauth2_client_id = c\n",
	  "oauth2: yahoo: expected microsoft, google or custom" },
	{ "oauth2 = google\n",
	  "oauth2_client_id: required with oauth2 = google" },
	{ "oauth2 = google\noauth2_client_id = c\noauth2_token_cmd = echo\n",
	  "oauth2_token_cmd: cannot be used together with oauth2 = google" },
	{ "oauth2 = google\noauth2_client_id = c\noauth2_tenant = t\n",
	  "oauth2_tenant: only for oauth2 = microsoft" },
	{ "oauth2 = microsoft\noauth2_client_id = c\noauth2_tenant = a/b\n",
	  "oauth2_tenant: a/b: expected a tenant name or id" },
	{ "oauth2 = microsoft\noauth2_client_id = c\n"
	  "oauth2_token_url = https://x/\n",
	  "oauth2_token_url: only for oauth2 = custom" },
	{ "oauth2 = custom\noauth2_client_id = c\noauth2_scope = s\n"
	  "oauth2_token_url = https://x/\n",
	  "oauth2_device_url: required with oauth2 = custom" },
	{ "oauth2 = custom\noauth2_client_id = c\noauth2_scope = s\n"
	  "oauth2_device_url = https://x/\n",
	  "oauth2_token_url: required with oauth2 = custom" },
	{ "oauth2 = custom\noauth2_client_id = c\n"
	  "oauth2_device_url = https://x/\noauth2_token_url = https://x/\n",
	  "oauth2_scope: required with oauth2 = custom" },
	{ "oauth2 = custom\noauth2_client_id = c\noauth2_scope = s\n"
	  "oauth2_device_url = http://id.example/d\n"
	  "oauth2_token_url = https://x/\n",
	  "oauth2_device_url: http://id.example/d: http:// to another machine" },
	{ "oauth2 = custom\noauth2_client_id = c\noauth2_scope = s\n"
	  "oauth2_device_url = https://x/\n"
	  "oauth2_token_url = ftp://x/\n",
	  "oauth2_token_url: ftp://x/: expected an https:// URL" },
	{ "oauth2 = custom\noauth2_client_id = c\noauth2_scope = s\n"
	  "oauth2_device_url = https://x/\n"
	  "oauth2_token_url = http://127.0.0.1.id.example/\n",
	  "oauth2_token_url: http://127.0.0.1.id.example/: http:// to" },
};

static void test_config_errors(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GKeyFile) kf = keys(bad[i].text);
		const char *want = bad[i].message;
		struct oauth2_cfg cfg;
		GError *err = NULL;
		int rc = oauth2_cfg_load(kf, "account a", "a", "imap", &cfg,
					 &err);
		g_assert_cmpint(rc, ==, -EINVAL);
		g_assert_nonnull(err);
		if (!g_str_has_prefix(err->message, want))
			g_error("case %zu: %s", i, err->message);
		g_assert_null(strchr(err->message, '\n'));
		g_error_free(err);
		g_assert_null(cfg.client_id);
	}
}

static void test_not_configured(void)
{
	g_autoptr(GKeyFile) kf = keys("oauth2_token_cmd = echo\n");
	struct oauth2_cfg cfg;
	GError *err = NULL;

	g_assert_cmpint(oauth2_cfg_load(kf, "account a", "a", "imap", &cfg,
					&err), ==, 0);
	g_assert_no_error(err);
	g_assert_cmpint(oauth2_cfg_load(NULL, NULL, "a", "imap", &cfg, &err),
			==, 0);
	/* an account whose name cannot be a file name */
	g_autoptr(GKeyFile) kf2 = keys("oauth2 = google\noauth2_client_id = "
				       "c\n");
	g_assert_cmpint(oauth2_cfg_load(kf2, "account a", "../x", "imap",
					&cfg, &err), ==, -EINVAL);
	g_assert_true(g_str_has_prefix(err->message, "oauth2: "));
	g_error_free(err);
}

/* ---- the token file ---- */

static void test_token_file(void)
{
	g_autofree char *dir = g_dir_make_tmp("oauth2-XXXXXX", NULL);
	g_autofree char *sub = g_build_filename(dir, "tokens", NULL);
	g_autofree char *path = g_build_filename(sub, "acct", NULL);
	struct oauth2_token t = {
		.access_token = g_strdup("at-1"),
		.refresh_token = g_strdup("rt-1"),
		.expires_at = 1234567890,
	}, r;
	g_autofree char *why = NULL;
	struct stat st;

	g_assert_cmpint(oauth2_token_read(path, &r, &why), ==, -ENOENT);
	g_assert_null(why);
	g_assert_cmpint(oauth2_token_write(path, &t, &why), ==, 0);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpint(stat(sub, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0700);
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
	g_assert_cmpint(oauth2_token_read(path, &r, &why), ==, 0);
	g_assert_cmpstr(r.access_token, ==, "at-1");
	g_assert_cmpstr(r.refresh_token, ==, "rt-1");
	g_assert_cmpint(r.expires_at, ==, 1234567890);
	oauth2_token_clear(&r);

	/* the answer of a refresh: a rotated refresh token replaces the old,
	 * none keeps it */
	struct oauth2_token_answer a = {
		.access_token = g_strdup("at-2"),
		.refresh_token = g_strdup("rt-2"),
		.expires_in = 3600,
	};
	oauth2_token_take(&t, &a, 1000);
	g_assert_cmpstr(t.access_token, ==, "at-2");
	g_assert_cmpstr(t.refresh_token, ==, "rt-2");
	g_assert_cmpint(t.expires_at, ==, 4600);
	oauth2_token_answer_clear(&a);
	a.access_token = g_strdup("at-3");
	oauth2_token_take(&t, &a, 2000);
	g_assert_cmpstr(t.refresh_token, ==, "rt-2");
	g_assert_cmpint(t.expires_at, ==, 2600);	/* no lifetime said */
	oauth2_token_answer_clear(&a);
	/* written over: still 0600 */
	g_assert_cmpint(chmod(path, 0640), ==, 0);
	g_assert_cmpint(oauth2_token_read(path, &r, &why), ==, -EPERM);
	g_assert_nonnull(strstr(why, "open to others"));
	g_clear_pointer(&why, g_free);
	g_assert_cmpint(oauth2_token_write(path, &t, &why), ==, 0);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpint(oauth2_token_read(path, &r, &why), ==, 0);
	g_assert_cmpstr(r.access_token, ==, "at-3");
	oauth2_token_clear(&r);

	/* a token that would break the file's lines is refused */
	g_free(t.access_token);
	t.access_token = g_strdup("a\nrefresh_token=x");
	g_assert_cmpint(oauth2_token_write(path, &t, &why), ==, -EINVAL);
	g_clear_pointer(&why, g_free);
	oauth2_token_clear(&t);

	/* damaged files */
	static const char *const damaged[] = {
		"not a key file\n",
		"[oauth2]\naccess_token=x\n",
		"[other]\nrefresh_token=x\n",
		"[oauth2]\nrefresh_token=\n",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(damaged); i++) {
		g_assert_true(g_file_set_contents_full(
			path, damaged[i], -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
			NULL));
		g_assert_cmpint(oauth2_token_read(path, &r, &why), ==,
				-EINVAL);
		g_assert_nonnull(strstr(why, path));
		g_clear_pointer(&why, g_free);
		g_assert_null(r.refresh_token);
	}
	/* an expiry out of range counts as expired */
	g_assert_true(g_file_set_contents_full(path, "[oauth2]\nrefresh_token"
					       "=r\naccess_token=a\nexpires_at"
					       "=-9223372036854775808\n", -1,
					       G_FILE_SET_CONTENTS_CONSISTENT,
					       0600, NULL));
	g_assert_cmpint(oauth2_token_read(path, &r, &why), ==, 0);
	g_assert_cmpint(r.expires_at, ==, 0);
	oauth2_token_clear(&r);
	/* only a refresh token: fine, the access token comes by refresh */
	g_assert_true(g_file_set_contents_full(path, "[oauth2]\nrefresh_token"
					       "=r\n", -1,
					       G_FILE_SET_CONTENTS_CONSISTENT, 0600,
					       NULL));
	if (oauth2_token_read(path, &r, &why) != 0)
		g_error("%s", why);
	g_assert_null(r.access_token);
	g_assert_cmpstr(r.refresh_token, ==, "r");
	oauth2_token_clear(&r);

	/* the lock keeps a second holder out until it is let go */
	int lock = oauth2_token_lock(path, &why);
	g_assert_cmpint(lock, >=, 0);
	g_autofree char *lock_path = g_strconcat(path, ".lock", NULL);
	int other = open(lock_path, O_RDWR);
	g_assert_cmpint(other, >=, 0);
	g_assert_cmpint(flock(other, LOCK_EX | LOCK_NB), ==, -1);
	close(lock);
	g_assert_cmpint(flock(other, LOCK_EX | LOCK_NB), ==, 0);
	close(other);

	g_unlink(lock_path);
	g_unlink(path);
	g_rmdir(sub);
	g_rmdir(dir);
}

/* ---- answers ---- */

static void test_device_answers(void)
{
	struct oauth2_device_answer d;
	g_autofree char *why = NULL;
	static const char std[] =
		"{\"device_code\":\"GmRh\",\"user_code\":\"WDJB-MJHT\","
		"\"verification_uri\":\"https://example.com/device\","
		"\"verification_uri_complete\":\"https://example.com/device?"
		"user_code=WDJB-MJHT\",\"expires_in\":1800,\"interval\":5}";
	static const char google[] =
		"{\"device_code\":\"AH-1\",\"user_code\":\"GQVQ-JKEC\","
		"\"verification_url\":\"https://www.google.com/device\","
		"\"expires_in\":\"1800\"}";

	g_assert_cmpint(oauth2_parse_device(200, std, strlen(std), &d, &why),
			==, 0);
	g_assert_cmpstr(d.device_code, ==, "GmRh");
	g_assert_cmpstr(d.user_code, ==, "WDJB-MJHT");
	g_assert_cmpstr(d.verification_uri, ==, "https://example.com/device");
	g_assert_nonnull(d.verification_uri_complete);
	g_assert_cmpint(d.expires_in, ==, 1800);
	g_assert_cmpint(d.interval, ==, 5);
	oauth2_device_answer_clear(&d);

	g_assert_cmpint(oauth2_parse_device(200, google, strlen(google), &d,
					    &why), ==, 0);
	g_assert_cmpstr(d.verification_uri, ==,
			"https://www.google.com/device");
	g_assert_null(d.verification_uri_complete);
	g_assert_cmpint(d.expires_in, ==, 1800);
	g_assert_cmpint(d.interval, ==, 5);	/* the default of 3.2 */
	oauth2_device_answer_clear(&d);

	static const struct {
		long status;
		const char *body;
		int rc;
		const char *why;
	} wrong[] = {
		{ 200, "<html>", -EINVAL, "without JSON" },
		{ 200, "[1,2]", -EINVAL, "without JSON" },
		{ 200, "{\"user_code\":\"x\"}", -EINVAL, "lacks" },
		{ 200, "{\"device_code\":\"d\",\"user_code\":\"u\","
		  "\"verification_uri\":\"v\"}", -EINVAL, "lacks" },
		{ 200, "{\"device_code\":\"d\",\"user_code\":\"u\\u001b[2J\","
		  "\"verification_uri\":\"v\",\"expires_in\":9}", -EINVAL,
		  "control characters" },
		{ 200, "{\"device_code\":\"d\",\"user_code\":\"u\","
		  "\"verification_uri\":\"v\",\"verification_uri_complete\":"
		  "\"v\\n\",\"expires_in\":9}", -EINVAL, "control characters" },
		{ 400, "{\"error\":\"invalid_client\",\"error_description\":"
		  "\"no\\nsuch\\u0007client\"}", -EACCES,
		  "refused (HTTP 400): invalid_client: no\\x0asuch\\x07client" },
		{ 500, "{}", -EACCES, "refused (HTTP 500): no error code" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(wrong); i++) {
		g_clear_pointer(&why, g_free);
		g_assert_cmpint(oauth2_parse_device(wrong[i].status,
						    wrong[i].body,
						    strlen(wrong[i].body), &d,
						    &why), ==, wrong[i].rc);
		if (!strstr(why, wrong[i].why))
			g_error("case %zu: %s", i, why);
		g_assert_null(d.device_code);
	}
}

static void test_token_answers(void)
{
	struct oauth2_token_answer a;
	g_autofree char *why = NULL;
	static const char ok[] =
		"{\"access_token\":\"2YotnFZ\",\"token_type\":\"Bearer\","
		"\"expires_in\":3600,\"refresh_token\":\"tGzv3JO\","
		"\"scope\":\"mail\"}";

	g_assert_cmpint(oauth2_parse_token(200, ok, strlen(ok), &a, &why), ==,
			0);
	g_assert_cmpint(a.error, ==, OAUTH2_OK);
	g_assert_cmpstr(a.access_token, ==, "2YotnFZ");
	g_assert_cmpstr(a.refresh_token, ==, "tGzv3JO");
	g_assert_cmpint(a.expires_in, ==, 3600);
	oauth2_token_answer_clear(&a);

	static const struct {
		const char *name;
		enum oauth2_error code;
	} errors[] = {
		{ "authorization_pending", OAUTH2_PENDING },
		{ "slow_down", OAUTH2_SLOW_DOWN },
		{ "access_denied", OAUTH2_DENIED },
		{ "authorization_declined", OAUTH2_DENIED },
		{ "expired_token", OAUTH2_EXPIRED },
		{ "invalid_grant", OAUTH2_INVALID_GRANT },
		{ "invalid_client", OAUTH2_OTHER },
		{ "unsupported_grant_type", OAUTH2_OTHER },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(errors); i++) {
		g_autofree char *body = g_strdup_printf(
			"{\"error\":\"%s\",\"error_description\":\"said\"}",
			errors[i].name);
		g_assert_cmpint(oauth2_parse_token(400, body, strlen(body), &a,
						   &why), ==, 0);
		g_assert_cmpint(a.error, ==, errors[i].code);
		g_assert_cmpint(oauth2_error_from_name(errors[i].name), ==,
				errors[i].code);
		g_autofree char *text = oauth2_error_text(&a);
		g_autofree char *want = g_strdup_printf("%s: said",
							errors[i].name);
		g_assert_cmpstr(text, ==, want);
		g_assert_null(a.access_token);
		oauth2_token_answer_clear(&a);
	}

	static const struct {
		long status;
		const char *body;
		const char *why;
	} wrong[] = {
		{ 502, "Bad Gateway", "HTTP 502 without JSON" },
		{ 401, "{}", "HTTP 401 with no error code" },
		{ 200, "{\"token_type\":\"Bearer\"}", "no access_token" },
		{ 200, "{\"access_token\":\"\"}", "no access_token" },
		{ 200, "{\"access_token\":\"x\",\"token_type\":\"mac\"}",
		  "of type mac, not Bearer" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(wrong); i++) {
		g_clear_pointer(&why, g_free);
		g_assert_cmpint(oauth2_parse_token(wrong[i].status,
						   wrong[i].body,
						   strlen(wrong[i].body), &a,
						   &why), ==, -EINVAL);
		if (!strstr(why, wrong[i].why))
			g_error("case %zu: %s", i, why);
		g_assert_null(a.access_token);
	}
	/* no refresh token, no lifetime: both fine */
	static const char bare[] = "{\"access_token\":\"x\"}";
	g_clear_pointer(&why, g_free);
	g_assert_cmpint(oauth2_parse_token(200, bare, strlen(bare), &a, &why),
			==, 0);
	g_assert_null(a.refresh_token);
	g_assert_cmpint(a.expires_in, ==, 0);
	oauth2_token_answer_clear(&a);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* the token path follows XDG_DATA_HOME */
	g_setenv("XDG_DATA_HOME", "/nonexistent/data", TRUE);
	g_test_add_func("/oauth2/providers", test_providers);
	g_test_add_func("/oauth2/config-errors", test_config_errors);
	g_test_add_func("/oauth2/not-configured", test_not_configured);
	g_test_add_func("/oauth2/token-file", test_token_file);
	g_test_add_func("/oauth2/device-answers", test_device_answers);
	g_test_add_func("/oauth2/token-answers", test_token_answers);
	return g_test_run();
}
