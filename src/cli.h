/*
 * cli.h - the mount command line (DESIGN.md, "Command line"):
 *   mailfs [OPTIONS] [ACCOUNT] MOUNTPOINT [OPTIONS]
 * Options may come after the mount point, as mount.fuse3 passes them.
 * Strings in `struct cli` are owned by it (cli_clear).
 */
#ifndef MFS_CLI_H
#define MFS_CLI_H

#include <glib.h>
#include <stdbool.h>

struct cli {
	bool foreground;
	bool debug;
	bool help;
	bool version;
	bool read_only;
	char *config;		/* --config FILE */
	char *account;		/* NULL: the embedded store */
	char *mountpoint;
	char *store;		/* -o store=DIR */
	char *cache_dir;	/* -o cache_dir=DIR */
	char *local_dir;	/* -o local_dir=DIR */
	char *cache_size;	/* -o cache_size=N (kept for later use) */
	bool writeback;		/* -o writeback=on|off */
	double entry_timeout;	/* -o entry_timeout=SECONDS */
	double attr_timeout;	/* -o attr_timeout=SECONDS */
	GString *fuse_opts;	/* every other -o option, for libfuse */
};

/* Returns 0, or -EINVAL with the reason in *err. */
int cli_parse(int argc, char **argv, struct cli *c, GError **err);
void cli_clear(struct cli *c);
void cli_usage(FILE *out);

#endif
