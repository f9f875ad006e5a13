/*
 * check-cmd.c - see check-cmd.h.  The steps come from the account's backend
 * and its sender (protocols/backend.h, sender.h, check.h); this file reads
 * the command line and the account and prints them:
 *
 *   ok    tcp      mail.example.com:993 (192.0.2.7) connected in 12 ms
 *   FAIL  tls      implicit TLS, certificate ..., NOT verified: ...
 *         fix: ... ca_file = /path/to/ca.pem
 *
 * Lines go to stdout as each step ends; -d adds the protocol trace on
 * stderr, which shows no password or token either.
 */
#include "check-cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "backend.h"
#include "check.h"
#include "log.h"
#include "sender.h"

#define EXIT_USAGE 2

/* Where config lines say the settings come from. */
struct printer {
	const char *file;	/* borrowed; NULL when there is no file */
	const char *account;	/* borrowed */
};

static void print_step(const char *step, bool ok, const char *text,
		       const char *fix, void *data)
{
	const struct printer *p = data;
	g_autofree char *where = NULL;

	/* a setting is named with the file and the account it is in, as
	 * the mount's own settings errors are */
	if (!strcmp(step, "config"))
		where = p->file ? g_strdup_printf("config %s: account '%s': ",
						  p->file, p->account)
				: g_strdup_printf("no config file: account "
						  "'%s': ", p->account);
	printf("%-5s %-8s %s%s\n", ok ? "ok" : "FAIL", step,
	       where ? where : "", text);
	if (fix)
		printf("      fix: %s\n", fix);
	fflush(stdout);
}

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "mailfs: %s\n", why);
	fputs("usage: mailfs check [--config FILE] [-d] ACCOUNT\n", stderr);
	return EXIT_USAGE;
}

static int help(void)
{
	fputs("usage: mailfs check [--config FILE] [-d] ACCOUNT\n", stdout);
	return 0;
}

/*
 * The account's settings for sending first (so that no setting is found
 * wrong after something was sent), then the store's check, then the
 * sending server's: worth knowing about even when the mail server failed,
 * but nothing goes out while a setting is wrong.  A type that cannot be
 * checked is said by mfs_backend_check alone.  Returns 0 when every step
 * worked.
 */
static int check_account(const struct mfs_account *a, struct mfs_check *ck)
{
	struct mfs_sender *sender = NULL;
	GError *err = NULL;
	int rc;

	if (mfs_backend_can_check(a->type) &&
	    mfs_sender_open(a, &sender, &err) < 0) {
		mfs_check_say(ck, "config", false, NULL, "%s", err->message);
		g_error_free(err);
		return -EINVAL;
	}
	rc = mfs_backend_check(a, ck);
	if (sender && !ck->config_bad) {
		int src = mfs_sender_check(sender, ck);
		rc = rc < 0 ? rc : src;
	}
	mfs_sender_close(&sender);
	return rc;
}

int check_cmd(int argc, char **argv)
{
	const char *config = NULL, *account = NULL;
	bool debug = false;
	struct config_account acct;
	GError *err = NULL;
	int rc;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--config") && i + 1 < argc)
			config = argv[++i];
		else if (g_str_has_prefix(a, "--config="))
			config = a + strlen("--config=");
		else if (!strcmp(a, "-d") || !strcmp(a, "--debug"))
			debug = true;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return help();
		else if (a[0] == '-')
			return usage("check: unknown option or missing "
				     "argument");
		else if (account)
			return usage("check: one ACCOUNT only");
		else
			account = a;
	}
	if (!account)
		return usage("check: which ACCOUNT?");
	if (debug)
		log_set_debug(LOG_ALL);

	g_autofree char *def = g_build_filename(g_get_user_config_dir(),
						"mailfs", "config", NULL);
	struct printer p = {
		.file = config ? config
			       : g_file_test(def, G_FILE_TEST_EXISTS) ? def
								      : NULL,
		.account = account,
	};
	struct mfs_check ck = { .fn = print_step, .data = &p };
	if (config_account_load(config, account, NULL, &acct, &err) < 0) {
		/* the message names the file already */
		printf("%-5s %-8s %s\n", "FAIL", "config", err->message);
		g_error_free(err);
		return EXIT_FAILURE;
	}
	struct mfs_account a = config_account_backend(&acct, NULL);
	rc = check_account(&a, &ck);
	config_account_clear(&acct);
	return rc < 0 || ck.failures ? EXIT_FAILURE : 0;
}
