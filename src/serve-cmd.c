/*
 * serve-cmd.c - `mailfs serve`: options, the store, the listeners (every
 * protocol started and stopped alike, serve.h), and a clean stop on
 * SIGTERM or SIGINT.  Runs in the foreground and logs to
 * stderr; nothing listens beyond loopback unless an address says so, and
 * a plaintext listener beyond loopback needs a certificate, since clients
 * there log in only over TLS (serve.h).
 */
#include "serve-cmd.h"

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>
#include <systemd/sd-daemon.h>

#include "backend.h"
#include "config-keys.h"
#include "config-value.h"
#include "log.h"
#include "serve/serve.h"
#include "serve/spool.h"

#define EXIT_USAGE 2
#define DEFAULT_MAX_CLIENTS 200
#define DEFAULT_MAX_MESSAGE (64u * 1024 * 1024)

struct serve_opts {
	char *config;
	char *store, *user, *password_file;
	char *imap, *pop3, *smtp, *imaps, *pop3s, *smtps;
	char *tls_cert, *tls_key;
	char *ews, *ewss;
	char *mapi, *mapis;
	char *ldap, *ldaps, *ldap_base;
	int max_clients;
	gint64 max_message;
	gboolean debug;
};

static void opts_clear(struct serve_opts *o)
{
	g_free(o->config);
	g_free(o->store);
	g_free(o->user);
	g_free(o->password_file);
	g_free(o->imap);
	g_free(o->pop3);
	g_free(o->smtp);
	g_free(o->imaps);
	g_free(o->pop3s);
	g_free(o->smtps);
	g_free(o->tls_cert);
	g_free(o->tls_key);
	g_free(o->ews);
	g_free(o->ewss);
	g_free(o->mapi);
	g_free(o->mapis);
	g_free(o->ldap);
	g_free(o->ldaps);
	g_free(o->ldap_base);
}

static int parse(int argc, char **argv, struct serve_opts *o)
{
	GOptionEntry entries[] = {
		{ "config", 0, 0, G_OPTION_ARG_FILENAME, &o->config,
		  "the config file whose [serve] group gives defaults "
		  "(default: $XDG_CONFIG_HOME/mailfs/config)", "FILE" },
		{ "store", 0, 0, G_OPTION_ARG_FILENAME, &o->store,
		  "the store to serve (default: $XDG_DATA_HOME/mailfs/store)",
		  "DIR" },
		{ "user", 0, 0, G_OPTION_ARG_STRING, &o->user,
		  "the user name clients log in with", "NAME" },
		{ "password-file", 0, 0, G_OPTION_ARG_FILENAME,
		  &o->password_file, "the password (mode 0600)", "FILE" },
		{ "imap", 0, 0, G_OPTION_ARG_STRING, &o->imap,
		  "IMAP4rev1 (STARTTLS with a certificate)", "ADDR" },
		{ "pop3", 0, 0, G_OPTION_ARG_STRING, &o->pop3,
		  "POP3 (STLS with a certificate)", "ADDR" },
		{ "smtp", 0, 0, G_OPTION_ARG_STRING, &o->smtp,
		  "SMTP delivery into INBOX (STARTTLS with a certificate)",
		  "ADDR" },
		{ "imaps", 0, 0, G_OPTION_ARG_STRING, &o->imaps,
		  "IMAP over TLS", "ADDR" },
		{ "pop3s", 0, 0, G_OPTION_ARG_STRING, &o->pop3s,
		  "POP3 over TLS", "ADDR" },
		{ "smtps", 0, 0, G_OPTION_ARG_STRING, &o->smtps,
		  "SMTP over TLS", "ADDR" },
		{ "ews", 0, 0, G_OPTION_ARG_STRING, &o->ews,
		  "Exchange Web Services over HTTP, at /EWS/Exchange.asmx",
		  "ADDR" },
		{ "ewss", 0, 0, G_OPTION_ARG_STRING, &o->ewss,
		  "Exchange Web Services over HTTPS (needs --tls-cert)",
		  "ADDR" },
		{ "mapi", 0, 0, G_OPTION_ARG_STRING, &o->mapi,
		  "MAPI over HTTP, at /mapi/emsmdb/ and /mapi/nspi/", "ADDR" },
		{ "mapis", 0, 0, G_OPTION_ARG_STRING, &o->mapis,
		  "MAPI over HTTPS (needs --tls-cert)", "ADDR" },
		{ "ldap", 0, 0, G_OPTION_ARG_STRING, &o->ldap,
		  "the contacts as an LDAP directory (StartTLS with a "
		  "certificate)", "ADDR" },
		{ "ldaps", 0, 0, G_OPTION_ARG_STRING, &o->ldaps,
		  "LDAP over TLS (needs --tls-cert)", "ADDR" },
		{ "ldap-base", 0, 0, G_OPTION_ARG_STRING, &o->ldap_base,
		  "the LDAP naming context (default ou=contacts,dc=mailfs)",
		  "DN" },
		{ "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_cert,
		  "certificate chain (PEM)", "FILE" },
		{ "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_key,
		  "its private key (PEM)", "FILE" },
		{ "max-clients", 0, 0, G_OPTION_ARG_INT, &o->max_clients,
		  "clients served at once (default 200)", "N" },
		{ "max-message-size", 0, 0, G_OPTION_ARG_INT64,
		  &o->max_message, "largest message taken (default 64 MiB)",
		  "BYTES" },
		{ "debug", 'd', 0, G_OPTION_ARG_NONE, &o->debug,
		  "log every protocol line (never a password)", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	g_autoptr(GOptionContext) oc = g_option_context_new(
		"- serve the store over IMAP, POP3, SMTP, EWS, MAPI and LDAP");
	GError *err = NULL;

	g_option_context_add_main_entries(oc, entries, NULL);
	g_option_context_set_summary(oc,
		"ADDR is HOST:PORT, [IPV6]:PORT or PORT (on 127.0.0.1).\n"
		"Without --imap, --pop3, --smtp, --ews, --ewss, --mapi, "
		"--mapis, --ldap or --ldaps: IMAP on "
		"127.0.0.1:1143, POP3 on 127.0.0.1:1110, SMTP on "
		"127.0.0.1:1025.\n"
		"Clients not on loopback log in only over TLS: an ADDR "
		"beyond loopback for\n--imap, --pop3, --smtp, --ews, --mapi or "
		"--ldap "
		"needs --tls-cert and --tls-key.");
	/* GOption wants the program in argv[0]; skip "serve" */
	argv[1] = argv[0];
	argc--;
	argv++;
	if (!g_option_context_parse(oc, &argc, &argv, &err)) {
		fprintf(stderr, "mailfs serve: %s\n", err->message);
		g_error_free(err);
		return -EINVAL;
	}
	if (argc > 1) {
		fprintf(stderr, "mailfs serve: unexpected '%s'\n", argv[1]);
		return -EINVAL;
	}
	if (o->max_clients < 0 || o->max_message < 0) {
		fputs("mailfs serve: limits must be positive\n", stderr);
		return -EINVAL;
	}
	return 0;
}

/* "~/x" as a path in the home directory.  Takes ownership of `v`; caller
 * owns the result. */
static char *expand_home(char *v)
{
	if (v && v[0] == '~' && v[1] == '/') {
		char *full = g_build_filename(g_get_home_dir(), v + 2, NULL);
		g_free(v);
		return full;
	}
	return v;
}

/*
 * The [serve] group of the config file fills in what the command line did
 * not say: the same names with '_' for '-' (password_file, tls_cert,
 * max_clients...).  A missing default file is no error; a missing --config
 * file is.  Returns 0 or -errno after saying why.
 */
static int read_config(struct serve_opts *o)
{
	static const struct {
		const char *key;
		size_t off;
		bool path;
	} keys[] = {
#define KEY(k, f, p) { k, offsetof(struct serve_opts, f), p }
		KEY("store", store, true), KEY("user", user, false),
		KEY("password_file", password_file, true),
		KEY("imap", imap, false), KEY("pop3", pop3, false),
		KEY("smtp", smtp, false), KEY("imaps", imaps, false),
		KEY("pop3s", pop3s, false), KEY("smtps", smtps, false),
		KEY("tls_cert", tls_cert, true), KEY("tls_key", tls_key, true),
		KEY("ews", ews, false), KEY("ewss", ewss, false),
		KEY("mapi", mapi, false), KEY("mapis", mapis, false),
		KEY("ldap", ldap, false), KEY("ldaps", ldaps, false),
		KEY("ldap_base", ldap_base, false),
#undef KEY
	};
	g_autofree char *path = o->config ? g_strdup(o->config)
		: g_build_filename(g_get_user_config_dir(), "mailfs", "config",
				   NULL);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	GError *err = NULL;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
		bool missing = g_error_matches(err, G_FILE_ERROR,
					       G_FILE_ERROR_NOENT);
		if (missing && !o->config) {
			g_error_free(err);
			return 0;
		}
		fprintf(stderr, "mailfs serve: config %s: %s\n", path,
			err->message);
		g_error_free(err);
		return -EINVAL;
	}
	if (!g_key_file_has_group(kf, "serve"))
		return 0;
	if (config_keys_check(kf, path, "serve", "serve", &err) < 0) {
		fprintf(stderr, "mailfs serve: %s\n", err->message);
		g_error_free(err);
		return -EINVAL;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		char **field = (char **)((char *)o + keys[i].off);
		char *v;
		if (*field || !(v = config_value(kf, "serve", keys[i].key)))
			continue;
		*field = keys[i].path ? expand_home(v) : v;
	}
	g_autofree char *mc = config_value(kf, "serve", "max_clients");
	g_autofree char *mm = config_value(kf, "serve", "max_message_size");
	if (mc && !o->max_clients)
		o->max_clients = (int)g_ascii_strtoll(mc, NULL, 10);
	if (mm && !o->max_message)
		o->max_message = g_ascii_strtoll(mm, NULL, 10);
	if (o->max_clients < 0 || o->max_message < 0) {
		fputs("mailfs serve: limits must be positive\n", stderr);
		return -EINVAL;
	}
	return 0;
}

/* --ldap-base must be a DN of at least one RDN.  0 or -EINVAL, said. */
static int check_ldap_base(const struct serve_opts *o)
{
	LDAPDN dn = NULL;
	int rc = 0;

	if (!o->ldap_base)
		return 0;
	if (ldap_str2dn(o->ldap_base, &dn, LDAP_DN_FORMAT_LDAPV3) !=
	    LDAP_SUCCESS || !dn) {
		fprintf(stderr, "mailfs serve: --ldap-base %s: not a DN (such "
			"as ou=contacts,dc=example,dc=org)\n", o->ldap_base);
		rc = -EINVAL;
	}
	ldap_dnfree(dn);
	return rc;
}

/*
 * Listen on every address the options give, each protocol alike (the
 * defaults when none does).  Returns 0, or -1 having said why.
 */
static int listen_all(struct serve_server *server, const struct serve_opts *o)
{
	bool any = o->imap || o->pop3 || o->smtp || o->imaps || o->pop3s ||
		   o->smtps || o->ews || o->ewss || o->mapi || o->mapis ||
		   o->ldap || o->ldaps;
	const struct {
		const char *addr;
		const struct serve_proto *proto;
		bool tls;
	} specs[] = {
		{ any ? o->imap : "127.0.0.1:1143", &imapd_proto, false },
		{ any ? o->pop3 : "127.0.0.1:1110", &pop3d_proto, false },
		{ any ? o->smtp : "127.0.0.1:1025", &smtpd_proto, false },
		{ o->imaps, &imapd_proto, true },
		{ o->pop3s, &pop3d_proto, true },
		{ o->smtps, &smtpd_proto, true },
		{ o->ews, &ewsd_proto, false },
		{ o->ewss, &ewsd_proto, true },
		{ o->mapi, &mapid_proto, false },
		{ o->mapis, &mapid_proto, true },
		{ o->ldap, &ldapd_proto, false },
		{ o->ldaps, &ldapd_proto, true },
	};
	char *why = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(specs); i++) {
		if (!specs[i].addr)
			continue;
		if (serve_listen(server, specs[i].addr, specs[i].proto,
				 specs[i].tls, &why) < 0) {
			fprintf(stderr, "mailfs serve: %s\n", why);
			g_free(why);
			return -1;
		}
	}
	return 0;
}

/* Tell the service manager, and wait for SIGINT or SIGTERM (blocked in
 * `set`). */
static void wait_for_stop(const sigset_t *set, const char *root)
{
	int sig = 0;

	log_info("serving %s", root);
	/* every listener is bound: a service manager may start clients */
	sd_notifyf(0, "READY=1\nSTATUS=serving %s", root);
	while (sigwait(set, &sig) != 0)
		;
	log_info("stopping (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
	sd_notify(0, "STOPPING=1");
}

int serve_cmd(int argc, char **argv)
{
	struct serve_opts o = { 0 };
	struct serve_auth *auth = NULL;
	struct mfs_store store = { 0 };
	struct serve_server *server = NULL;
	SSL_CTX *tls = NULL;
	GError *err = NULL;
	char *why = NULL;
	g_autofree char *root = NULL;
	g_autofree char *spool = NULL;
	int status = EXIT_FAILURE, rc;
	sigset_t set;

	if (parse(argc, argv, &o) < 0 || read_config(&o) < 0 ||
	    check_ldap_base(&o) < 0) {
		opts_clear(&o);
		return EXIT_USAGE;
	}
	if (o.debug)
		log_set_debug(LOG_PROTO | LOG_STORE);
	if (serve_auth_load(o.user, o.password_file, &auth, &why) < 0) {
		fprintf(stderr, "mailfs serve: %s\n", why);
		g_free(why);
		opts_clear(&o);
		return EXIT_FAILURE;
	}
	if (!o.tls_cert != !o.tls_key) {
		fputs("mailfs serve: --tls-cert and --tls-key go together\n",
		      stderr);
		goto out;
	}
	if (o.tls_cert && !(tls = serve_tls_new(o.tls_cert, o.tls_key, &why))) {
		fprintf(stderr, "mailfs serve: %s\n", why);
		g_free(why);
		goto out;
	}
	root = o.store ? g_canonicalize_filename(o.store, NULL)
		: g_build_filename(g_get_user_data_dir(), "mailfs", "store",
				   NULL);
	struct mfs_account acct = { .name = "local", .type = "local",
				    .store = root, .work_dir = root };
	if (mfs_store_open(&acct, &store, &err) < 0) {
		fprintf(stderr, "mailfs serve: %s\n", err->message);
		g_error_free(err);
		goto out;
	}
	if ((rc = serve_spool_dir(root, &spool)) < 0) {
		fprintf(stderr, "mailfs serve: %s/.mailfs-serve: %s\n", root,
			g_strerror(-rc));
		goto out_store;
	}
	struct serve_ctx ctx = {
		.store = &store,
		.store_root = root,
		.auth = auth,
		.tls = tls,
		.tls_cert_file = o.tls_cert,
		.tls_key_file = o.tls_key,
		.max_message = o.max_message ? (uint64_t)o.max_message
					     : DEFAULT_MAX_MESSAGE,
		.hostname = g_get_host_name(),
		.spool_dir = spool,
		.ldap_base = o.ldap_base,
	};

	/* only this thread takes the stop signals; every thread made from
	 * here on inherits the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	server = serve_new(&ctx, o.max_clients ? (unsigned)o.max_clients
					       : DEFAULT_MAX_CLIENTS);
	if (listen_all(server, &o) == 0) {
		wait_for_stop(&set, root);
		status = 0;
	}
	serve_stop(&server);
out_store:
	mfs_store_close(&store);
out:
	if (tls)
		SSL_CTX_free(tls);
	serve_auth_free(&auth);
	opts_clear(&o);
	return status;
}
