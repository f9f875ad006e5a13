/*
 * login-cmd.c - see login-cmd.h.  The grant itself is protocols/oauth2/
 * device.c; this file reads the command line and the account and talks to
 * the user (on stderr, so that stdout stays clean for scripts).
 */
#include "login-cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "config-value.h"
#include "oauth2/oauth2.h"

#define EXIT_USAGE 2

static const char usage[] =
	"usage: mailfs login [--config FILE] ACCOUNT\n";

static void show_prompt(const struct oauth2_prompt *p, void *data)
{
	const char *account = data;

	fprintf(stderr, "mailfs: to sign in account %s, open %s\n"
		"mailfs: and enter the code %s\n", account,
		p->verification_uri, p->user_code);
	if (p->verification_uri_complete)
		fprintf(stderr, "mailfs: (or open %s)\n",
			p->verification_uri_complete);
	fprintf(stderr, "mailfs: waiting for the sign-in (the code expires "
		"in %" G_GINT64_FORMAT " s)...\n", p->expires_in);
}

/* --config FILE / --config=FILE and one ACCOUNT.  Returns 0, or -1 after
 * saying what is wrong. */
static int parse_args(int argc, char **argv, const char **config_r,
		      const char **account_r)
{
	*config_r = *account_r = NULL;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--config") && i + 1 < argc) {
			*config_r = argv[++i];
		} else if (g_str_has_prefix(a, "--config=")) {
			*config_r = a + strlen("--config=");
		} else if (a[0] == '-' || *account_r) {
			fprintf(stderr, "mailfs: login: unexpected '%s'\n%s",
				a, usage);
			return -1;
		} else {
			*account_r = a;
		}
	}
	if (!*account_r) {
		fprintf(stderr, "mailfs: login: one ACCOUNT is needed\n%s",
			usage);
		return -1;
	}
	return 0;
}

int login_cmd(int argc, char **argv)
{
	struct config_account acct;
	struct oauth2_cfg cfg;
	const char *config, *account;
	GError *err = NULL;
	int rc;

	if (argc == 3 && (!strcmp(argv[2], "--help") ||
			  !strcmp(argv[2], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (parse_args(argc, argv, &config, &account) < 0)
		return EXIT_USAGE;
	if (config_account_load(config, account, NULL, &acct, &err) < 0) {
		fprintf(stderr, "mailfs: %s\n", err->message);
		g_error_free(err);
		return EXIT_FAILURE;
	}
	rc = oauth2_cfg_load(acct.keys, acct.group, acct.name, acct.type,
			     &cfg, &err);
	if (rc == 0)
		config_invalid(&err, "oauth2: not set (add oauth2 = "
			       "microsoft, google or custom)");
	if (rc <= 0) {
		config_account_error_context(&acct, err);
		fprintf(stderr, "mailfs: %s\n", err->message);
		g_error_free(err);
		config_account_clear(&acct);
		return EXIT_FAILURE;
	}
	rc = oauth2_device_login(&cfg, show_prompt, acct.name, &err);
	if (rc < 0) {
		fprintf(stderr, "mailfs: %s\n", err->message);
		g_error_free(err);
	} else {
		fprintf(stderr, "mailfs: account %s signed in; tokens kept in "
			"%s\n", acct.name, cfg.token_path);
	}
	oauth2_cfg_clear(&cfg);
	config_account_clear(&acct);
	return rc < 0 ? EXIT_FAILURE : 0;
}
