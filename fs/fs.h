/*
 * fs.h - the mount: serves a store through FUSE (libfuse low-level API).
 *
 * Never names a protocol: whatever store is behind `struct mfs_store` is
 * shown the same way (see DESIGN.md, "What the user sees").
 */
#ifndef MFS_FS_H
#define MFS_FS_H

#include <glib.h>
#include <stdbool.h>

#include "backend.h"
#include "staging.h"

struct fs_options {
	const char *mountpoint;		/* absolute */
	const char *account;		/* shown in .mailfs/status */
	const char *source;		/* where the store is, for status */
	const char *local_dir;		/* absolute; holds the top-level
					   names starting with '.' (but
					   .mailfs): plain local files,
					   never sent to the store; made
					   with mode 0700 when missing */
	bool foreground;
	bool debug;
	bool read_only;
	const char *fuse_opts;		/* extra -o options for libfuse, or NULL */
	double entry_timeout;		/* seconds the kernel may keep a name */
	double attr_timeout;		/* seconds it may keep attributes */
	/* called once, in the process that serves, when the mount is in
	 * place and its view loaded; NULL for none */
	void (*ready)(void *data);
	void *ready_data;		/* borrowed */
};

/*
 * Mount `store` at opt->mountpoint, detach into the background unless
 * opt->foreground (the call returns in the parent only once the mount is in
 * place), and serve until unmounted.  `staging` is borrowed; `store` is
 * closed (mfs_store_close) before the call returns, since its change reports
 * must stop before the view they feed is freed.  Returns 0 after a clean
 * unmount, -errno when the mount could not be made (the reason is logged).
 */
int fs_run(struct mfs_store *store, struct staging *staging,
	   const struct fs_options *opt);

#endif
