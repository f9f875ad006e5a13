/*
 * mailbox.c - folder names and folder operations.
 *
 * A server name (RFC 3501 section 5.1: modified UTF-7 of section 5.1.3,
 * components joined by the hierarchy delimiter) becomes a logical path:
 * decoded to UTF-8, split at the delimiter, each component made a file
 * name by name_escape_at() ("a/b" under a '.' delimiter, "..", "cur"
 * inside a mail folder, a name too long for a file...).  The map from the
 * last LIST turns paths back into the exact server names, so a folder
 * whose name does not decode still works.
 */
#include "imapc-private.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "mutf7.h"
#include "name-escape.h"
#include "printable.h"

void imapc_folder_free(gpointer p)
{
	struct imapc_folder *f = p;

	g_free(f->path);
	g_free(f->server);
	g_free(f->special);
	g_free(f);
}

/* The logical path of a server name, shown without the personal
 * namespace's prefix.  Caller owns the result. */
static char *path_of(const char *server, char delim, const char *prefix)
{
	g_autofree char *utf8 = NULL;
	const char *name = server;
	GString *path = g_string_new(NULL);

	if (*prefix && g_str_has_prefix(server, prefix) &&
	    server[strlen(prefix)])
		server += strlen(prefix);
	name = server;
	if (!g_ascii_strcasecmp(server, "INBOX"))
		name = "INBOX";
	else if (mutf7_decode(server, &utf8) == 0)
		name = utf8;
	/* else: not valid modified UTF-7; shown as the raw bytes, escaped */
	char sep[2] = { delim, '\0' };
	g_auto(GStrv) comps = delim ? g_strsplit(name, sep, -1)
				    : g_strsplit(name, "\x01\x02", 1);
	for (int i = 0; comps[i]; i++) {
		g_autofree char *esc = name_escape_at(comps[i], i);
		if (i)
			g_string_append_c(path, '/');
		g_string_append(path, esc);
	}
	return g_string_free(path, FALSE);
}

struct list_ctx {
	struct mfs_backend *be;
	GHashTable *folders;	/* path -> struct imapc_folder */
};

static int list_cb(struct imap_line *l, void *data)
{
	struct list_ctx *lc = data;
	GPtrArray *attrs = imap_arg_list(imap_line_arg(l, 2));
	struct imap_arg *d = imap_line_arg(l, 3);
	struct imap_arg *n = imap_line_arg(l, 4);
	enum mfs_folder_kind kind = MFS_FOLDER_MAIL;
	char *special = NULL;

	if (!imap_arg_is(imap_line_arg(l, 1), "LIST") || !attrs ||
	    !imap_arg_is_string(n))
		return 0;
	if (memchr(n->str, '\0', n->len) || n->len == 0) {
		log_warnx("%s: a folder name with a NUL byte is not shown",
			  lc->be->cfg.name);
		return 0;
	}
	char delim = d && imap_arg_is_string(d) && d->len == 1 ? d->str[0] : 0;
	for (guint i = 0; i < attrs->len; i++) {
		const char *a = imap_arg_string(attrs->pdata[i]);
		if (!a)
			continue;
		if (!g_ascii_strcasecmp(a, "\\Noselect") ||
		    !g_ascii_strcasecmp(a, "\\NonExistent"))
			kind = MFS_FOLDER_NONE;
		static const char *const uses[] = { "\\Sent", "\\Trash",
			"\\Drafts", "\\Junk", "\\Archive", "\\All",
			"\\Flagged" };
		for (size_t u = 0; u < G_N_ELEMENTS(uses); u++) {
			if (!g_ascii_strcasecmp(a, uses[u]) && !special)
				special = g_strdup(uses[u]);
		}
	}
	struct imapc_folder *f = g_new0(struct imapc_folder, 1);
	f->server = g_strdup(n->str);
	g_mutex_lock(&lc->be->lock);
	g_autofree char *prefix = g_strdup(lc->be->prefix ? lc->be->prefix : "");
	g_mutex_unlock(&lc->be->lock);
	f->path = path_of(f->server, delim, prefix);
	f->kind = kind;
	f->special = special;
	if (g_hash_table_contains(lc->folders, f->path)) {
		g_autofree char *server = printable(f->server, -1);
		log_warnx("%s: folders '%s' and another show as '%s'; only "
			  "one is shown", lc->be->cfg.name, server, f->path);
		imapc_folder_free(f);
		return 0;
	}
	g_hash_table_insert(lc->folders, f->path, f);
	return 0;
}

static gint path_cmp(gconstpointer a, gconstpointer b)
{
	const struct mfs_folder_info *x = *(struct mfs_folder_info *const *)a;
	const struct mfs_folder_info *y = *(struct mfs_folder_info *const *)b;

	return strcmp(x->path, y->path);
}

int imapc_list_folders(struct mfs_backend *be, GPtrArray **folders_r,
		      struct mfs_error *e)
{
	struct list_ctx lc = { be, g_hash_table_new_full(g_str_hash,
							   g_str_equal, NULL,
							   imapc_folder_free) };
	struct imapc_conn *c;
	int rc = imapc_pool_get(be, NULL, &c, NULL, e);

	if (rc < 0) {
		g_hash_table_unref(lc.folders);
		return rc;
	}
	rc = imapc_conn_run(c, imapc_cmd_new("LIST \"\" \"*\""), list_cb, &lc,
			   NULL, e);
	imapc_pool_put(be, c);
	if (rc < 0) {
		g_hash_table_unref(lc.folders);
		return rc;
	}
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_folder_info_free);
	GHashTableIter it;
	gpointer val;
	g_hash_table_iter_init(&it, lc.folders);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct imapc_folder *f = val;
		struct mfs_folder_info *fi = mfs_folder_info_new(f->path,
								 f->kind);
		fi->special = g_strdup(f->special);
		g_ptr_array_add(out, fi);
	}
	g_ptr_array_sort(out, path_cmp);
	g_mutex_lock(&be->lock);
	g_hash_table_unref(be->folders);
	be->folders = lc.folders;
	g_mutex_unlock(&be->lock);
	*folders_r = out;
	return 0;
}

int imapc_server_name(struct mfs_backend *be, const char *path, char **name_r,
		     struct mfs_error *e)
{
	g_mutex_lock(&be->lock);
	struct imapc_folder *f = g_hash_table_lookup(be->folders, path);
	char delim = be->delim;
	if (f) {
		*name_r = g_strdup(f->server);
		g_mutex_unlock(&be->lock);
		return 0;
	}
	g_mutex_unlock(&be->lock);

	/* a folder the server does not have yet: make its name */
	g_auto(GStrv) comps = g_strsplit(path, "/", -1);
	GString *utf8 = g_string_new(NULL);
	for (int i = 0; comps[i]; i++) {
		char *comp = NULL;
		if (name_unescape(comps[i], name_ctx_at(i), &comp) < 0 ||
		    (delim && strchr(comp, delim))) {
			g_free(comp);
			g_string_free(utf8, TRUE);
			return mfs_error_set(e, -EINVAL, MFS_ERR_FOLDER,
					     MFS_ERR_FINAL, "'%s' cannot be "
					     "a folder name on this server",
					     comps[i]);
		}
		if (i)
			g_string_append_c(utf8, delim ? delim : '/');
		g_string_append(utf8, comp);
		g_free(comp);
	}
	if (!g_ascii_strcasecmp(utf8->str, "INBOX")) {
		*name_r = g_string_free(utf8, FALSE);
		return 0;
	}
	g_autofree char *encoded = NULL;
	int rc = mutf7_encode(utf8->str, &encoded);
	g_string_free(utf8, TRUE);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "'%s' is not valid UTF-8", path);
	g_mutex_lock(&be->lock);
	*name_r = g_strconcat(be->prefix ? be->prefix : "", encoded, NULL);
	g_mutex_unlock(&be->lock);
	return 0;
}

/* After a folder changed name or went, no connection may think it is
 * still selected. */
static void forget_selected(struct mfs_backend *be, struct imapc_conn *c)
{
	imapc_conn_set_selected(c, NULL, 0);
	g_mutex_lock(&be->lock);
	for (guint i = 0; i < be->idle->len; i++)
		imapc_conn_set_selected(be->idle->pdata[i], NULL, 0);
	g_mutex_unlock(&be->lock);
}

static int refresh(struct mfs_backend *be, struct mfs_error *e)
{
	GPtrArray *list = NULL;
	int rc = imapc_list_folders(be, &list, e);

	if (list)
		g_ptr_array_unref(list);
	return rc;
}

static int folder_cmd(struct mfs_backend *be, const char *verb,
		      const char *a, const char *b, struct mfs_error *e)
{
	struct imapc_conn *c;
	struct imapc_cmd *cmd = imapc_cmd_new("%s", verb);
	int rc;

	imapc_cmd_astring(cmd, a, strlen(a));
	if (b)
		imapc_cmd_astring(cmd, b, strlen(b));
	if ((rc = imapc_pool_get(be, NULL, &c, NULL, e)) < 0) {
		imapc_cmd_free(&cmd);
		return rc;
	}
	rc = 0;
	if (strcmp(verb, "CREATE")) {
		rc = imapc_pool_leave(be, c, a, e);
		forget_selected(be, c);
	}
	if (rc == 0)
		rc = imapc_conn_run(c, cmd, NULL, NULL, NULL, e);
	else
		imapc_cmd_free(&cmd);
	imapc_pool_put(be, c);
	if (rc == 0)
		rc = refresh(be, e);
	return rc;
}

int imapc_create_folder(struct mfs_backend *be, const char *path,
		       enum mfs_folder_kind kind, struct mfs_error *e)
{
	g_autofree char *server = NULL;
	int rc;

	if (kind != MFS_FOLDER_MAIL && kind != MFS_FOLDER_NONE)
		return mfs_error_set(e, -ENOTSUP, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "an IMAP server holds only mail folders");
	g_mutex_lock(&be->lock);
	bool exists = g_hash_table_contains(be->folders, path);
	g_mutex_unlock(&be->lock);
	if (exists)
		return mfs_error_set(e, -EEXIST, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s exists", path);
	if ((rc = imapc_server_name(be, path, &server, e)) < 0)
		return rc;
	return folder_cmd(be, "CREATE", server, NULL, e);
}

int imapc_rename_folder(struct mfs_backend *be, const char *from,
		       const char *to, struct mfs_error *e)
{
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;
	int rc;

	if ((rc = imapc_server_name(be, from, &a, e)) < 0 ||
	    (rc = imapc_server_name(be, to, &b, e)) < 0)
		return rc;
	return folder_cmd(be, "RENAME", a, b, e);
}

static int status_cb(struct imap_line *l, void *data)
{
	uint64_t *messages = data;
	GPtrArray *items = imap_arg_list(imap_line_arg(l, 3));

	if (!imap_arg_is(imap_line_arg(l, 1), "STATUS") || !items)
		return 0;
	for (guint i = 0; i + 1 < items->len; i += 2) {
		if (imap_arg_is(items->pdata[i], "MESSAGES"))
			imap_arg_number(items->pdata[i + 1], messages);
	}
	return 0;
}

int imapc_delete_folder(struct mfs_backend *be, const char *path,
		       struct mfs_error *e)
{
	g_autofree char *server = NULL;
	g_autofree char *below = g_strconcat(path, "/", NULL);
	uint64_t messages = 0;
	struct imapc_conn *c;
	int rc;

	g_mutex_lock(&be->lock);
	GHashTableIter it;
	gpointer key;
	bool children = false;
	g_hash_table_iter_init(&it, be->folders);
	while (g_hash_table_iter_next(&it, &key, NULL))
		children = children || g_str_has_prefix(key, below);
	g_mutex_unlock(&be->lock);
	if (children)
		return mfs_error_set(e, -ENOTEMPTY, MFS_ERR_FOLDER,
				     MFS_ERR_FINAL, "%s has sub-folders", path);
	if ((rc = imapc_server_name(be, path, &server, e)) < 0)
		return rc;
	/* DELETE would take the messages with it: refuse while any are left */
	struct imapc_cmd *cmd = imapc_cmd_new("STATUS");
	imapc_cmd_astring(cmd, server, strlen(server));
	imapc_cmd_add(cmd, "(MESSAGES)");
	if ((rc = imapc_pool_get(be, NULL, &c, NULL, e)) < 0) {
		imapc_cmd_free(&cmd);
		return rc;
	}
	rc = imapc_conn_run(c, cmd, status_cb, &messages, NULL, e);
	imapc_pool_put(be, c);
	if (rc < 0)
		return rc;
	if (messages > 0)
		return mfs_error_set(e, -ENOTEMPTY, MFS_ERR_FOLDER,
				     MFS_ERR_FINAL, "%s holds %" G_GUINT64_FORMAT
				     " messages", path, messages);
	return folder_cmd(be, "DELETE", server, NULL, e);
}
