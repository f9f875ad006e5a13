/*
 * ctl.c - the files of .mailfs/: plain text a person or a script can read.
 *   status   what is mounted, how much it holds, recent error count
 *   errors   the most recent errors, oldest first
 *   flush    reading it pushes every pending change to the server first;
 *            says "flushed", or "refused:" and what the server refused
 *            since the last flush (one "  FILE: reason" line each), or
 *            why not (what `mailfs flush` reads)
 */
#include "fs-private.h"

#include <errno.h>
#include <string.h>

#include "log.h"

static const char *const names[] = { "status", "errors", "flush", NULL };

bool fs_ctl_exists(const char *name)
{
	for (int i = 0; names[i]; i++) {
		if (!strcmp(names[i], name))
			return true;
	}
	return false;
}

const char *const *fs_ctl_names(void)
{
	return names;
}

/* The kernel's requests so far, in enum fs_req order. */
static void render_requests(struct fs *fs, GString *out)
{
	static const char *const req_names[FS_REQ_COUNT] = {
		"lookup", "getattr", "open", "read", "release", "opendir",
		"readdir", "readdirplus", "other"
	};

	g_string_append(out, "requests:");
	for (int i = 0; i < FS_REQ_COUNT; i++) {
		guint n = (guint)g_atomic_int_get(&fs->requests[i]);
		g_string_append_printf(out, " %s=%u", req_names[i], n);
	}
	g_string_append_c(out, '\n');
}

static char *render_status(struct fs *fs)
{
	GString *out = g_string_new(NULL);
	GHashTableIter it;
	gpointer val;
	unsigned folders = 0, staged = 0;
	uint64_t items = 0;
	char started[64];
	struct tm tm;

	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct fs_folder *f = val;
		if (f->kind != MFS_FOLDER_NONE)
			folders++;
		items += g_hash_table_size(f->items);
		staged += g_hash_table_size(f->staged);
	}
	gmtime_r(&fs->started, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	g_string_append_printf(out, "account: %s\n", fs->opt.account);
	g_string_append_printf(out, "store: %s\n", fs->opt.source);
	g_string_append_printf(out, "local: %s\n", fs->opt.local_dir);
	g_string_append_printf(out, "mounted: %s\n", started);
	g_string_append_printf(out, "folders: %u\n", folders);
	g_string_append_printf(out, "items: %" G_GUINT64_FORMAT "\n", items);
	g_string_append_printf(out, "being written: %u\n", staged);
	g_string_append_printf(out, "errors: %u\n", log_error_count());
	g_string_append_printf(out, "rejected: %s\n",
			       staging_rejected_dir(fs->staging));
	/* a store without a journal makes every change at once */
	if (!mfs_store_can_flush(fs->store))
		g_string_append(out, "pending: 0\n");
	render_requests(fs, out);
	mfs_store_describe(fs->store, out);
	return g_string_free(out, FALSE);
}

#define REFUSED_LINE "refused at the last flush: "

/* The answer of a flush that found changes refused since the last one:
 * `why` counts them, the store's status names each. */
static char *refused_answer(struct fs *fs, const char *why)
{
	GString *out = g_string_new("refused: ");
	g_autoptr(GString) status = g_string_new(NULL);

	g_string_append_printf(out, "%s:\n", why);
	mfs_store_describe(fs->store, status);
	for (const char *l = status->str; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		if (g_str_has_prefix(l, REFUSED_LINE)) {
			g_string_append(out, "  ");
			g_string_append_len(out, l + strlen(REFUSED_LINE),
					    (gssize)(len - strlen(REFUSED_LINE)));
			g_string_append_c(out, '\n');
		}
		l = end ? end + 1 : NULL;
	}
	return g_string_free(out, FALSE);
}

/* Called without fs->lock: waits for the server.  Caller owns the
 * result. */
char *fs_ctl_flush(struct fs *fs)
{
	struct mfs_error e = { 0 };
	int rc = mfs_store_flush(fs->store, NULL, NULL, &e);

	if (rc == 0)
		return g_strdup("flushed\n");
	if (rc == -EREMOTEIO)
		return refused_answer(fs, e.msg);
	return g_strdup_printf("not flushed: %s\n", e.msg[0] ? e.msg
							     : g_strerror(-rc));
}

/* Caller owns the result. */
char *fs_ctl_render(struct fs *fs, const char *name)
{
	if (!strcmp(name, "status"))
		return render_status(fs);
	if (!strcmp(name, "errors"))
		return log_recent_dump();
	return g_strdup("");
}
