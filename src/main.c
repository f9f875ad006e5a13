/*
 * main.c - the mailfs command: mount, and the small commands that talk to a
 * mount through its .mailfs/ files.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "backend.h"
#include "cache.h"
#include "check-cmd.h"
#include "cli.h"
#include "config-value.h"
#include "ctl-client.h"
#include "accounts.h"
#include "fs.h"
#include "lock.h"
#include "log.h"
#include "login-cmd.h"
#include "mountcheck.h"
#include "sender.h"
#include "serve-cmd.h"
#include "staging.h"
#include "mailfs-version.h"

#define EXIT_USAGE 2

static int fail(const char *msg)
{
	fprintf(stderr, "mailfs: %s\n", msg);
	return EXIT_FAILURE;
}

/* Where the mount's content comes from, for .mailfs/status.  Caller owns. */
static char *describe_source(const struct config_account *a)
{
	g_autofree char *user = NULL, *host = NULL, *port = NULL, *tunnel = NULL;

	if (!strcmp(a->type, "local"))
		return g_strdup(a->store);
	if (a->keys && a->group) {
		user = config_value(a->keys, a->group, "user");
		host = config_value(a->keys, a->group, "host");
		port = config_value(a->keys, a->group, "port");
		tunnel = config_value(a->keys, a->group, "tunnel");
	}
	if (tunnel)
		return g_strdup_printf("%s through the command '%s'", a->type,
				       tunnel);
	return g_strdup_printf("%s %s%s%s%s%s", a->type, user ? user : "",
			       user ? "@" : "", host ? host : "?",
			       port ? ":" : "", port ? port : "");
}

/* The account's cache directory: -o cache_dir= or the XDG default.
 * Caller owns the result. */
static char *cache_dir_of(const struct cli *c, const struct config_account *a)
{
	if (c->cache_dir)
		return g_canonicalize_filename(c->cache_dir, NULL);
	return g_build_filename(g_get_user_cache_dir(), "mailfs", a->name, NULL);
}

/* Where the top-level dot-directories live: -o local_dir=, else the
 * embedded store's own directory (its layout is the mount's), else a
 * directory of user data (notmuch's tags live only there: not the cache,
 * which may be wiped).  Caller owns the result. */
static char *local_dir_of(const struct cli *c, const struct config_account *a)
{
	if (c->local_dir)
		return g_canonicalize_filename(c->local_dir, NULL);
	if (!strcmp(a->type, "local"))
		return g_canonicalize_filename(a->store, NULL);
	return g_build_filename(g_get_user_data_dir(), "mailfs", "local",
				a->name, NULL);
}

/*
 * The store to mount: the embedded store as it is (it is local disk
 * already), anything else behind the cache so that the mount never waits
 * for the network to list or stat.
 */
static int open_store(const struct config_account *acct, const struct cli *c,
		      const char *cache_dir, struct mfs_store *store,
		      GError **err)
{
	struct cache_options copt = { 0 };
	struct mfs_store inner;
	struct mfs_sender *sender = NULL;
	struct mfs_account account = config_account_backend(acct, cache_dir);
	int rc;

	if (c->cache_size && cache_parse_size(c->cache_size,
					      &copt.max_bytes) < 0) {
		g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "cache_size=%s: expected a size such as 500M or "
			    "2G", c->cache_size);
		return -EINVAL;
	}
	copt.writeback = c->writeback;
	/* the sender only reads its settings: a mistake there is told
	 * before the store reaches for the network (and after a type that
	 * does not exist, which the store tells) */
	if (mfs_backend_find(account.type) &&
	    (rc = mfs_sender_open(&account, &sender, err)) < 0) {
		config_account_error_context(acct, err ? *err : NULL);
		return rc;
	}
	if ((rc = mfs_store_open(&account, &inner, err)) < 0) {
		mfs_sender_close(&sender);
		config_account_error_context(acct, err ? *err : NULL);
		return rc;
	}
	if (!strcmp(acct->type, "local")) {
		/* nothing is sent without the cache's Outbox */
		mfs_sender_close(&sender);
		*store = inner;
		return 0;
	}
	/* the cache sends what its Outbox holds */
	rc = cache_store_open(&inner, sender, cache_dir, &copt, store, err);
	mfs_store_close(&inner);
	return rc;
}

/*
 * Take the cache directory for this process alone, or say who has it.
 * Returns 0, or -errno with the message already shown.
 */
static int lock_cache(const struct cli *c, const struct config_account *acct,
		      const char *cache, const char *owner,
		      struct cache_lock **lock_r)
{
	GError *err = NULL;
	g_autofree char *parent = g_path_get_dirname(cache);
	int rc = 0;

	/* the default cache's parent (~/.cache/mailfs) is made by mailfs
	 * too, and whoever can write there can replace the account's
	 * directory; a parent that does not exist yet is made ours */
	if (!c->cache_dir && g_file_test(parent, G_FILE_TEST_EXISTS))
		rc = cache_dir_check(parent, &err);
	if (rc == 0)
		rc = cache_lock_take(cache, owner, lock_r, &err);

	if (rc < 0) {
		fprintf(stderr, "mailfs: account '%s': %s\n", acct->name,
			err->message);
		g_error_free(err);
	}
	return rc;
}

struct mount_ready {
	const char *mountpoint;		/* borrowed */
	const char *owner;		/* borrowed */
	struct cache_lock *lock;	/* borrowed */
};

/* The mount serves: tell a service manager (systemd's Type=notify, with
 * -f so that this is its main process); nothing without NOTIFY_SOCKET.
 * The process that serves may be a child of the one that took the cache
 * lock (without -f), so the lock says anew which pid holds it. */
static void notify_ready(void *data)
{
	struct mount_ready *r = data;

	cache_lock_set_owner(r->lock, r->owner);
	sd_notifyf(0, "READY=1\nSTATUS=mounted at %s", r->mountpoint);
}

static int cmd_mount(int argc, char **argv)
{
	struct cli c;
	struct config_account acct;
	struct mfs_store store;
	struct staging *staging = NULL;
	struct cache_lock *lock = NULL;
	struct fs_options opt;
	GError *err = NULL;
	int rc;

	if (cli_parse(argc, argv, &c, &err) < 0) {
		fprintf(stderr, "mailfs: %s\n", err->message);
		fputs("Try 'mailfs --help'.\n", stderr);
		g_error_free(err);
		cli_clear(&c);
		return EXIT_USAGE;
	}
	if (c.help || c.version) {
		if (c.help)
			cli_usage(stdout);
		else
			printf("mailfs %s\n", MAILFS_VERSION);
		cli_clear(&c);
		return 0;
	}
	if (!c.mountpoint) {
		cli_usage(stderr);
		cli_clear(&c);
		return EXIT_USAGE;
	}
	if (c.debug)
		log_set_debug(LOG_ALL);
	g_autofree char *mp = g_canonicalize_filename(c.mountpoint, NULL);
	if (mountcheck(mp, &err) < 0 ||
	    config_account_load(c.config, c.account, c.store, &acct, &err) < 0) {
		rc = fail(err->message);
		g_error_free(err);
		cli_clear(&c);
		return rc;
	}
	g_autofree char *cache = cache_dir_of(&c, &acct);
	g_autofree char *owner = g_strdup_printf("mailfs mounted at %s", mp);
	/* before the clean-ups of staging/ and pending/, which assume that
	 * no other process writes there */
	if (lock_cache(&c, &acct, cache, owner, &lock) < 0) {
		config_account_clear(&acct);
		cli_clear(&c);
		return EXIT_FAILURE;
	}
	if ((rc = staging_open(cache, &staging)) < 0) {
		fprintf(stderr, "mailfs: cache %s: %s\n", cache,
			g_strerror(-rc));
		cache_lock_release(&lock);
		config_account_clear(&acct);
		cli_clear(&c);
		return EXIT_FAILURE;
	}
	if (open_store(&acct, &c, cache, &store, &err) < 0) {
		rc = fail(err->message);
		g_error_free(err);
		staging_close(&staging);
		cache_lock_release(&lock);
		config_account_clear(&acct);
		cli_clear(&c);
		return rc;
	}
	struct mount_ready ready = {
		.mountpoint = mp, .owner = owner, .lock = lock,
	};
	memset(&opt, 0, sizeof(opt));
	opt.mountpoint = mp;
	opt.account = acct.name;
	g_autofree char *source = describe_source(&acct);
	opt.source = source;
	g_autofree char *local_dir = local_dir_of(&c, &acct);
	opt.local_dir = local_dir;
	opt.foreground = c.foreground;
	opt.debug = c.debug;
	opt.read_only = c.read_only;
	opt.fuse_opts = c.fuse_opts->len ? c.fuse_opts->str : NULL;
	opt.entry_timeout = c.entry_timeout;
	opt.attr_timeout = c.attr_timeout;
	opt.ready = notify_ready;
	opt.ready_data = &ready;
	rc = fs_run(&store, staging, &opt);
	mfs_store_close(&store);
	staging_close(&staging);
	cache_lock_release(&lock);
	config_account_clear(&acct);
	cli_clear(&c);
	return rc < 0 ? EXIT_FAILURE : 0;
}

static void show_progress(const char *folder, unsigned done, unsigned total,
			  void *data)
{
	bool *tty = data;

	if (*tty)
		fprintf(stderr, "\r\033[K%s: %u/%u", folder, done, total);
	if (!*tty && done == total)
		fprintf(stderr, "%s: %u\n", folder, total);
	else if (*tty && done == total)
		fputc('\n', stderr);
}

/*
 * mailfs sync [--prefetch] [--config FILE] [-o cache_dir=DIR] ACCOUNT:
 * bring the account's cache up to date without mounting, and with
 * --prefetch keep every body too (for reading offline later).
 */
static int cmd_sync(int argc, char **argv)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	struct config_account acct;
	struct mfs_store store;
	struct staging *staging = NULL;
	struct cache_lock *lock = NULL;
	struct cli c;
	GError *err = NULL;
	bool prefetch = false, tty = isatty(2);
	int rc;

	g_ptr_array_add(args, argv[0]);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--prefetch"))
			prefetch = true;
		else
			g_ptr_array_add(args, argv[i]);
	}
	if (cli_parse((int)args->len, (char **)args->pdata, &c, &err) < 0 ||
	    c.account || !c.mountpoint) {
		fprintf(stderr, "mailfs: %s\nusage: mailfs sync [--prefetch] "
			"[--config FILE] [-o cache_dir=DIR] ACCOUNT\n",
			err ? err->message : "one ACCOUNT is needed");
		g_clear_error(&err);
		cli_clear(&c);
		return EXIT_USAGE;
	}
	/* the one positional is the account */
	c.account = g_steal_pointer(&c.mountpoint);
	if (config_account_load(c.config, c.account, NULL, &acct, &err) < 0) {
		rc = fail(err->message);
		g_error_free(err);
		cli_clear(&c);
		return rc;
	}
	if (!strcmp(acct.type, "local")) {
		config_account_clear(&acct);
		cli_clear(&c);
		return fail("the embedded store is local already: there is "
			    "nothing to sync");
	}
	g_autofree char *cache = cache_dir_of(&c, &acct);
	/* a cache a mount (or another sync) holds is refused, not shared:
	 * the mount keeps that cache up to date itself */
	if (lock_cache(&c, &acct, cache, "mailfs sync", &lock) < 0) {
		config_account_clear(&acct);
		cli_clear(&c);
		return EXIT_FAILURE;
	}
	rc = staging_open(cache, &staging);
	if (rc == 0)
		rc = open_store(&acct, &c, cache, &store, &err);
	if (rc == 0) {
		rc = cache_fill(&store, prefetch, show_progress, &tty, &err);
		mfs_store_close(&store);
	}
	if (rc < 0 && err)
		fail(err->message);
	else if (rc < 0)
		fprintf(stderr, "mailfs: cache %s: %s\n", cache,
			g_strerror(-rc));
	g_clear_error(&err);
	staging_close(&staging);
	cache_lock_release(&lock);
	config_account_clear(&acct);
	cli_clear(&c);
	return rc < 0 ? EXIT_FAILURE : 0;
}

/*
 * Passwords and tokens live in this process's memory (the one copy an
 * account keeps to log in again, and whatever a server hands over): no
 * core file is written when it crashes, and a non-dumpable process can
 * neither be ptraced nor have /proc/PID/mem, environ or fd read by other
 * processes of the same user (root still can, so gdb as root and the
 * sanitizers, which lift the flag themselves, keep working).  The flag
 * goes with execve(), so commands run from here (password_cmd, tunnel)
 * are not affected.  MAILFS_DEBUG_CORE=1 leaves both alone, to get a core
 * file of a crash that needs one.
 */
static void no_core_dumps(void)
{
	const char *keep = getenv("MAILFS_DEBUG_CORE");
	struct rlimit none = { 0, 0 };

	if (keep && !strcmp(keep, "1"))
		return;
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		log_warn("cannot turn core dumps off");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		log_warn("cannot make the process non-dumpable");
}

int main(int argc, char **argv)
{
	log_init("mailfs");
	/* every command may read a password (status and flush only talk to
	 * a mount, but being strict costs them nothing) */
	no_core_dumps();
	/* a server that resets the connection is an error to report, not a
	 * reason to die: writes to it fail with EPIPE instead (TLS writes
	 * cannot ask for MSG_NOSIGNAL) */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "status"))
		return ctl_cmd_status(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "flush"))
		return ctl_cmd_flush(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "sync"))
		return cmd_sync(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "login"))
		return login_cmd(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "serve"))
		return serve_cmd(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "check"))
		return check_cmd(argc, argv);
	return cmd_mount(argc, argv);
}
