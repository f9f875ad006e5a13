/*
 * test-sender.c - the account's sender (protocols/sender.h): none without
 * an `smtp` key, settings that cannot work refused before anything is
 * sent, and a message given to no sender refused for good.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "backend.h"
#include "sender.h"

static struct mfs_account account(GKeyFile *kf)
{
	struct mfs_account a = { .name = "work", .type = "imap", .keys = kf,
				 .group = "account work" };
	return a;
}

static void test_none(void)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	struct mfs_account a = account(kf);
	struct mfs_sender *s = NULL;
	GError *err = NULL;

	g_key_file_set_string(kf, a.group, "host", "mail.example.org");
	g_assert_cmpint(mfs_sender_open(&a, &s, &err), ==, 0);
	g_assert_null(s);
	g_assert_null(err);
	mfs_sender_close(&s);
}

static void test_bad_settings(void)
{
	static const char *const urls[] = { "ftp://h:21", "smtp://", "h:587" };

	for (size_t i = 0; i < G_N_ELEMENTS(urls); i++) {
		g_autoptr(GKeyFile) kf = g_key_file_new();
		struct mfs_account a = account(kf);
		struct mfs_sender *s = NULL;
		GError *err = NULL;

		g_key_file_set_string(kf, a.group, "smtp", urls[i]);
		g_assert_cmpint(mfs_sender_open(&a, &s, &err), ==, -EINVAL);
		g_assert_null(s);
		g_assert_nonnull(err);
		g_assert_nonnull(strstr(err->message, urls[i]));
		g_error_free(err);
	}
}

static void test_opens_and_describes(void)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	struct mfs_account a = account(kf);
	struct mfs_sender *s = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	GError *err = NULL;

	g_key_file_set_string(kf, a.group, "smtp", "smtps://h.example:465");
	g_assert_cmpint(mfs_sender_open(&a, &s, &err), ==, 0);
	g_assert_nonnull(s);
	mfs_sender_describe(s, out);
	g_assert_cmpstr(out->str, ==, "smtp: smtps://h.example:465\n");
	mfs_sender_close(&s);
	g_assert_null(s);
	/* nothing to describe, nothing to close */
	g_string_truncate(out, 0);
	mfs_sender_describe(NULL, out);
	g_assert_cmpstr(out->str, ==, "");
	mfs_sender_close(&s);
}

static void test_send_without_sender(void)
{
	struct mfs_error e = { 0 };
	bool maybe = true;

	g_assert_cmpint(mfs_sender_send(NULL, -1, &maybe, &e), ==, -ENOTSUP);
	g_assert_false(maybe);
	g_assert_cmpint(e.retry, ==, MFS_ERR_FINAL);
	g_assert_cmpstr(e.msg, ==, "the account has no smtp server to send "
			"with");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sender/none", test_none);
	g_test_add_func("/sender/bad-settings", test_bad_settings);
	g_test_add_func("/sender/opens-and-describes",
			test_opens_and_describes);
	g_test_add_func("/sender/send-without-sender",
			test_send_without_sender);
	return g_test_run();
}
