/*
 * cli.c - parse the mount command line.
 */
#include <stdio.h>

#include "cli.h"

#include <errno.h>
#include <string.h>

/* mount(8) passes these; they mean nothing to a FUSE filesystem here */
static const char *const ignored[] = { "rw", "auto", "noauto", "user",
				       "nouser", "users", "_netdev", "nofail",
				       "defaults", NULL };

static bool is_ignored(const char *opt)
{
	for (int i = 0; ignored[i]; i++) {
		if (!strcmp(opt, ignored[i]))
			return true;
	}
	return false;
}

static int parse_seconds(const char *v, double *out, GError **err)
{
	char *end;
	double d = g_ascii_strtod(v, &end);

	if (end == v || *end || d < 0 || d > 86400) {
		g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "'%s' is not a number of seconds", v);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

static void set_str(char **dst, const char *v)
{
	g_free(*dst);
	*dst = g_strdup(v);
}

/* One comma-separated -o list. */
static int parse_o(struct cli *c, const char *list, GError **err)
{
	g_auto(GStrv) opts = g_strsplit(list, ",", -1);

	for (int i = 0; opts[i]; i++) {
		const char *o = opts[i];
		const char *eq = strchr(o, '=');
		const char *v = eq ? eq + 1 : NULL;
		size_t klen = eq ? (size_t)(eq - o) : strlen(o);

#define KEY(k) (klen == strlen(k) && !strncmp(o, k, klen))
		if (!*o || is_ignored(o))
			continue;
		if (KEY("config") && v && *v) {
			/* fstab has no place for --config */
			set_str(&c->config, v);
		} else if (KEY("store") && v && *v) {
			set_str(&c->store, v);
		} else if (KEY("cache_dir") && v && *v) {
			set_str(&c->cache_dir, v);
		} else if (KEY("local_dir") && v && *v) {
			set_str(&c->local_dir, v);
		} else if (KEY("cache_size") && v && *v) {
			set_str(&c->cache_size, v);
		} else if (KEY("writeback") && v) {
			if (strcmp(v, "on") && strcmp(v, "off")) {
				g_set_error(err, G_OPTION_ERROR,
					    G_OPTION_ERROR_BAD_VALUE,
					    "writeback must be on or off");
				return -EINVAL;
			}
			c->writeback = !strcmp(v, "on");
		} else if (KEY("entry_timeout") && v) {
			if (parse_seconds(v, &c->entry_timeout, err) < 0)
				return -EINVAL;
		} else if (KEY("attr_timeout") && v) {
			if (parse_seconds(v, &c->attr_timeout, err) < 0)
				return -EINVAL;
		} else if (KEY("ro")) {
			c->read_only = true;
		} else if (KEY("store") || KEY("cache_dir") ||
			   KEY("local_dir") || KEY("cache_size") ||
			   KEY("config")) {
			g_set_error(err, G_OPTION_ERROR,
				    G_OPTION_ERROR_BAD_VALUE,
				    "-o %.*s needs a value", (int)klen, o);
			return -EINVAL;
		} else {
			if (c->fuse_opts->len)
				g_string_append_c(c->fuse_opts, ',');
			g_string_append(c->fuse_opts, o);
		}
#undef KEY
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct cli *c, GError **err)
{
	const char *pos[3] = { NULL };
	int npos = 0;
	bool only_pos = false;

	memset(c, 0, sizeof(*c));
	c->writeback = true;
	c->entry_timeout = 30.0;
	c->attr_timeout = 30.0;
	c->fuse_opts = g_string_new(NULL);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;

		if (only_pos || a[0] != '-' || !a[1]) {
			if (npos == 2) {
				g_set_error(err, G_OPTION_ERROR,
					    G_OPTION_ERROR_FAILED,
					    "unexpected argument '%s'", a);
				return -EINVAL;
			}
			pos[npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
		} else if (!strcmp(a, "-f") || !strcmp(a, "--foreground")) {
			c->foreground = true;
		} else if (!strcmp(a, "-d") || !strcmp(a, "--debug")) {
			c->debug = true;
			c->foreground = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			c->help = true;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			c->version = true;
		} else if (!strcmp(a, "-o") || !strncmp(a, "-o", 2)) {
			val = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
			if (!val) {
				g_set_error(err, G_OPTION_ERROR,
					    G_OPTION_ERROR_FAILED,
					    "-o needs options");
				return -EINVAL;
			}
			if (parse_o(c, val, err) < 0)
				return -EINVAL;
		} else if (!strcmp(a, "--config") ||
			   !strncmp(a, "--config=", 9)) {
			val = a[8] == '=' ? a + 9
					  : (i + 1 < argc ? argv[++i] : NULL);
			if (!val || !*val) {
				g_set_error(err, G_OPTION_ERROR,
					    G_OPTION_ERROR_FAILED,
					    "--config needs a file");
				return -EINVAL;
			}
			set_str(&c->config, val);
		} else {
			g_set_error(err, G_OPTION_ERROR,
				    G_OPTION_ERROR_UNKNOWN_OPTION,
				    "unknown option '%s'", a);
			return -EINVAL;
		}
	}
	if (npos == 1) {
		c->mountpoint = g_strdup(pos[0]);
	} else if (npos == 2) {
		c->account = g_strdup(pos[0]);
		c->mountpoint = g_strdup(pos[1]);
	}
	return 0;
}

void cli_clear(struct cli *c)
{
	g_free(c->config);
	g_free(c->account);
	g_free(c->mountpoint);
	g_free(c->store);
	g_free(c->cache_dir);
	g_free(c->local_dir);
	g_free(c->cache_size);
	if (c->fuse_opts)
		g_string_free(c->fuse_opts, TRUE);
	memset(c, 0, sizeof(*c));
}

void cli_usage(FILE *out)
{
	fputs("usage: mailfs [OPTIONS] [ACCOUNT] MOUNTPOINT\n"
	      "       mailfs status MOUNTPOINT\n"
	      "       mailfs flush [--unmount] MOUNTPOINT\n"
	      "       mailfs sync [--prefetch] [--config FILE] ACCOUNT\n"
	      "       mailfs check [-d] [--config FILE] ACCOUNT\n"
	      "       mailfs login [--config FILE] ACCOUNT\n"
	      "       mailfs serve [--store DIR] --user NAME "
	      "--password-file FILE [--imap ADDR]...\n"
	      "                    (mailfs serve --help for every option)\n"
	      "\n"
	      "Mounts a mailbox as directories: mail folders are Maildir\n"
	      "folders, contacts .vcf files, calendar entries .ics files.\n"
	      "Without ACCOUNT, mounts the embedded store.\n"
	      "\n"
	      "options:\n"
	      "  -f, --foreground      stay in the foreground\n"
	      "  -d, --debug           log every request (implies -f)\n"
	      "  --config FILE         accounts file (default\n"
	      "                        $XDG_CONFIG_HOME/mailfs/config)\n"
	      "  -o OPT[,OPT...]       mount options:\n"
	      "       config=FILE        the same as --config (for fstab)\n"
	      "       store=DIR          embedded store directory (default\n"
	      "                          $XDG_DATA_HOME/mailfs/store)\n"
	      "       cache_dir=DIR      cache directory (default\n"
	      "                          $XDG_CACHE_HOME/mailfs/ACCOUNT)\n"
	      "       cache_size=SIZE    bound the bodies kept (500M, 2G)\n"
	      "       local_dir=DIR      where the top-level dot-directories\n"
	      "                          (.notmuch, ...) are kept, never sent\n"
	      "                          to the server (default: the store\n"
	      "                          for the embedded store, else\n"
	      "                          $XDG_DATA_HOME/mailfs/local/ACCOUNT)\n"
	      "       writeback=on|off   off: each change waits for the "
	      "server\n"
	      "       ro                 mount read-only\n"
	      "       entry_timeout=S    seconds the kernel keeps names (30)\n"
	      "       attr_timeout=S     seconds it keeps attributes (30)\n"
	      "       and FUSE options such as allow_other\n"
	      "  -h, --help            this text\n"
	      "  -V, --version         the version\n"
	      "\n"
	      "Unmount with: fusermount3 -u MOUNTPOINT.  See mailfs(1) and\n"
	      "mailfs.conf(5).\n",
	      out);
}
