/*
 * session.c - mounting, detaching into the background, serving, unmounting.
 *
 * Order matters: the view is loaded and the mount made before fork, so the
 * parent returns only when the mount is usable and start-up errors reach the
 * terminal; threads (the store's watcher, the FUSE workers) start after it.
 */
#include "fs-private.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void args_add(struct fuse_args *args, const char *arg)
{
	if (fuse_opt_add_arg(args, arg) != 0)
		g_error("out of memory");
}

/* The mount's state, its view loaded; fs_dot_open's failure is returned
 * before anything else is made. */
static int fs_init(struct fs *fs, struct mfs_store *store,
		   struct staging *staging, const struct fs_options *opt)
{
	int rc;

	memset(fs, 0, sizeof(*fs));
	fs->dot_fd = -1;
	fs->store = store;
	fs->staging = staging;
	fs->opt = *opt;
	fs->started = time(NULL);
	fs->uid = getuid();
	fs->gid = getgid();
	if ((rc = fs_dot_open(fs)) < 0)
		return rc;
	g_mutex_init(&fs->lock);
	g_mutex_init(&fs->store_lock);
	fs->nodes = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					  fs_node_free);
	fs->handles = g_hash_table_new(g_direct_hash, g_direct_equal);
	fs->dirhs = g_hash_table_new_full(g_direct_hash, g_direct_equal,
					  fs_dirh_free, NULL);
	struct fs_node *root = fs_node_get(fs, FS_N_ROOT, NULL, 0, NULL, NULL);
	root->nlookup = 1;
	fs_view_load(fs);
	return 0;
}

/* What fs_init made; the store is closed first. */
static void fs_fini(struct fs *fs)
{
	GHashTableIter it;
	gpointer val;

	/* no more change reports into a view that is going away */
	mfs_store_close(fs->store);
	g_mutex_lock(&fs->lock);
	/* staged files still referenced by nodes go with them */
	g_hash_table_iter_init(&it, fs->nodes);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct fs_node *n = val;
		if (n->staged)
			fs_staged_unref(fs, n->staged);
		n->staged = NULL;
	}
	g_hash_table_unref(fs->nodes);
	g_hash_table_unref(fs->handles);
	g_hash_table_unref(fs->dirhs);
	fs_view_free(fs);
	g_mutex_unlock(&fs->lock);
	g_mutex_clear(&fs->lock);
	g_mutex_clear(&fs->store_lock);
	fs_dot_close(fs);
}

static void mount_args(const struct fs_options *opt, struct fuse_args *args)
{
	/* fsname shows in mount(8) and df; default_permissions lets the
	 * kernel check modes, so only the mount's owner gets in */
	g_autofree char *mopts = g_strdup_printf(
		"fsname=mailfs:%s,subtype=mailfs,default_permissions%s%s%s",
		opt->account, opt->read_only ? ",ro" : "",
		opt->fuse_opts ? "," : "",
		opt->fuse_opts ? opt->fuse_opts : "");

	args_add(args, "mailfs");
	args_add(args, "-o");
	args_add(args, mopts);
	if (opt->debug)
		args_add(args, "-d");
}

/* Serve requests until the mount ends; 0 for a clean end, else -EIO. */
static int serve(struct fs *fs)
{
	struct fuse_loop_config *loop;
	int rc = 0;

	if (mfs_store_watch(fs->store, fs_on_store_change, fs) < 0 &&
	    mfs_store_caps(fs->store) & MFS_CAP_WATCH)
		log_warnx("changes made by other programs will not show up "
			  "until the next mount");

	if (fs->opt.ready)
		fs->opt.ready(fs->opt.ready_data);
	loop = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(loop, 0);
	fuse_loop_cfg_set_max_threads(loop, 16);
	fuse_loop_cfg_set_idle_threads(loop, 4);
	int lrc = fuse_session_loop_mt(fs->se, loop);
	/* a lazy unmount (fusermount3 -uz) ends the connection with
	 * ECONNABORTED once the last open file is closed: a clean end; so
	 * is a stop signal (libfuse returns its number), which is how a
	 * service manager ends the mount */
	if (lrc != 0 && lrc != -ECONNABORTED && lrc != -ENODEV &&
	    lrc != SIGTERM && lrc != SIGINT && lrc != SIGHUP) {
		log_warnx("the filesystem stopped: %s", g_strerror(-lrc));
		rc = -EIO;
	}
	fuse_loop_cfg_destroy(loop);
	return rc;
}

int fs_run(struct mfs_store *store, struct staging *staging,
	   const struct fs_options *opt)
{
	struct fs fs;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	int rc;

	if ((rc = fs_init(&fs, store, staging, opt)) < 0) {
		mfs_store_close(store);
		return rc;
	}
	mount_args(opt, &args);
	fs.se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &fs);
	if (!fs.se) {
		log_warnx("could not start the filesystem (bad -o option?)");
		rc = -EINVAL;
		goto out;
	}
	if (fuse_set_signal_handlers(fs.se) != 0) {
		rc = -EIO;
		goto out_session;
	}
	if (fuse_session_mount(fs.se, opt->mountpoint) != 0) {
		log_warnx("could not mount on %s", opt->mountpoint);
		rc = -EIO;
		goto out_signals;
	}
	if (fuse_daemonize(opt->foreground) != 0) {
		rc = -EIO;
		goto out_unmount;
	}
	if (!opt->foreground)
		log_to_syslog();
	rc = serve(&fs);
out_unmount:
	fuse_session_unmount(fs.se);
out_signals:
	fuse_remove_signal_handlers(fs.se);
out_session:
	/* runs the destroy handler, which finishes staged files */
	fuse_session_destroy(fs.se);
	fs.se = NULL;
	g_mutex_lock(&fs.lock);
	fs_handles_release_all(&fs);
	g_mutex_unlock(&fs.lock);
out:
	fuse_opt_free_args(&args);
	fs_fini(&fs);
	return rc;
}
