/*
 * state.c - what POP3 cannot keep for us: each message's flags and
 * date, and in keep mode whether it is stored locally.  One line per
 * message in `pop3-state` under the account's work directory:
 *
 *     mailfs-pop3-state 1
 *     <id> <date> <flags, hex> <k or ->
 *
 * Ids never hold white space (UIDLs are 0x21..0x7E).  The file is replaced
 * as a whole: written to a temporary name, fsynced, renamed, and its
 * directory fsynced, so a crash leaves the old or the new one.
 */
#include "pop3c-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

#define STATE_HEADER "mailfs-pop3-state 1"

struct pop3c_known *pop3c_known_get(struct mfs_backend *be, const char *id)
{
	return g_hash_table_lookup(be->known, id);
}

struct pop3c_known *pop3c_known_add(struct mfs_backend *be, const char *id,
				  int64_t date, uint64_t flags)
{
	struct pop3c_known *k = g_new0(struct pop3c_known, 1);

	k->date = date;
	k->flags = flags;
	g_hash_table_replace(be->known, g_strdup(id), k);
	return k;
}

/* One line; false when it is not one of ours (it is then skipped). */
static bool parse_line(struct mfs_backend *be, char *line)
{
	g_auto(GStrv) f = g_strsplit(line, " ", -1);
	g_autofree char *uidl = NULL;
	char *end;

	if (g_strv_length(f) != 4 || pop3c_uidl_from_id(f[0], &uidl) < 0)
		return false;
	errno = 0;
	long long date = strtoll(f[1], &end, 10);
	if (errno || *end || date < 0)
		return false;
	unsigned long long flags = strtoull(f[2], &end, 16);
	if (errno || *end || (strcmp(f[3], "k") && strcmp(f[3], "-")))
		return false;
	struct pop3c_known *k = pop3c_known_add(be, f[0], date, flags);
	k->kept = !strcmp(f[3], "k");
	return true;
}

int pop3c_state_load(struct mfs_backend *be, GError **err)
{
	g_autofree char *text = NULL;
	GError *gerr = NULL;
	unsigned bad = 0;

	if (!g_file_get_contents(be->state_path, &text, NULL, &gerr)) {
		if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_error_free(gerr);
			return 0;	/* a first mount */
		}
		g_propagate_error(err, gerr);
		return -EIO;
	}
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	if (!lines[0] || strcmp(lines[0], STATE_HEADER)) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "%s is not a POP3 state file of this version",
			    be->state_path);
		return -EINVAL;
	}
	for (guint i = 1; lines[i]; i++) {
		if (*lines[i] && !parse_line(be, lines[i]))
			bad++;
	}
	if (bad)
		log_warnx("%s: %u unreadable lines skipped", be->state_path,
			  bad);
	return 0;
}

int pop3c_state_save(struct mfs_backend *be, struct mfs_error *e)
{
	g_autofree char *tmp = g_strconcat(be->state_path, ".tmp", NULL);
	g_autofree char *dir = g_path_get_dirname(be->state_path);
	GString *out = g_string_new(STATE_HEADER "\n");
	GHashTableIter it;
	gpointer key, val;
	int fd, rc;

	g_hash_table_iter_init(&it, be->known);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		const struct pop3c_known *k = val;
		g_string_append_printf(out, "%s %" G_GINT64_FORMAT " %"
				       G_GINT64_MODIFIER "x %s\n",
				       (const char *)key, k->date, k->flags,
				       k->kept ? "k" : "-");
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	rc = fd < 0 ? -errno : file_write_all(fd, out->str, out->len);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, be->state_path) != 0)
		rc = -errno;
	if (rc == 0)
		rc = file_fsync_dir(dir);
	g_string_free(out, TRUE);
	if (rc < 0) {
		unlink(tmp);
		return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF,
				     "%s: %s", be->state_path,
				     g_strerror(-rc));
	}
	return 0;
}
