/*
 * view.c - the in-memory view of the store that the mount shows, and how it
 * follows the store: folders from list_folders(), items from sync(), changes
 * turned into kernel cache invalidations.
 */
#include "fs-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"
#include "mail-header.h"
#include "maildir-name.h"

/* Enough of a message to hold its header in all but absurd cases. */
#define HEADER_READ_MAX (256 * 1024)

char *fs_join(const char *parent, const char *name)
{
	return *parent ? g_strconcat(parent, "/", name, NULL) : g_strdup(name);
}

/* What a store's failure means to a program: the errnos of a network or a
 * protocol ("connection reset", "protocol error") are not what open(2) or
 * rename(2) can return, so they become EIO; the reason is in the log and
 * .mailfs/errors. */
int fs_errno(int rc)
{
	switch (-rc) {
	case ECONNRESET:
	case ECONNREFUSED:
	case ECONNABORTED:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
	case EPIPE:
	case EPROTO:
	case EPROTONOSUPPORT:
	case EAGAIN:
		return -EIO;
	default:
		return rc;
	}
}

const char *fs_sub_name(enum fs_sub sub)
{
	switch (sub) {
	case FS_SUB_CUR: return "cur";
	case FS_SUB_NEW: return "new";
	case FS_SUB_TMP: return "tmp";
	case FS_SUB_DIR: break;
	}
	return NULL;
}

void fs_item_free(gpointer p)
{
	struct fs_item *it = p;

	g_free(it->id);
	g_free(it->name);
	g_free(it->message_id);
	if (it->content)
		g_bytes_unref(it->content);
	g_free(it);
}

static void folder_free(gpointer p)
{
	struct fs_folder *f = p;

	g_hash_table_unref(f->items);
	g_hash_table_unref(f->staged);
	if (f->queries)
		g_hash_table_unref(f->queries);
	g_free(f->state);
	g_free(f->path);
	g_free(f);
}

struct fs_folder *fs_folder_find(struct fs *fs, const char *path)
{
	return g_hash_table_lookup(fs->folders, path);
}

enum fs_sub fs_item_sub(const struct fs_folder *f, const struct fs_item *it)
{
	if (f->kind != MFS_FOLDER_MAIL)
		return FS_SUB_DIR;
	return (it->flags & MFS_FLAG_NEW) ? FS_SUB_NEW : FS_SUB_CUR;
}

static char *item_name(const struct fs_folder *f, const char *id,
		       uint64_t flags)
{
	if (f->kind != MFS_FOLDER_MAIL)
		return g_strdup(id);
	return maildir_name_format(id, flags);
}

/* Insert or update; returns the item (borrowed). */
struct fs_item *fs_item_put(struct fs_folder *f, const struct mfs_item *mi)
{
	struct fs_item *it = g_hash_table_lookup(f->items, mi->id);

	if (!it) {
		it = g_new0(struct fs_item, 1);
		it->id = g_strdup(mi->id);
		g_hash_table_insert(f->items, it->id, it);
	}
	if (it->size != mi->size || it->date != mi->date) {
		/* new content: what was read of the old is stale */
		g_clear_pointer(&it->message_id, g_free);
	}
	if (mi->message_id && g_strcmp0(it->message_id, mi->message_id)) {
		g_free(it->message_id);
		it->message_id = g_strdup(mi->message_id);
	}
	it->size = mi->size;
	it->date = mi->date;
	it->flags = mi->flags;
	g_free(it->name);
	it->name = item_name(f, it->id, it->flags);
	return it;
}

/*
 * The item a file name in `sub` stands for.  A Maildir name matches whatever
 * the order of its letters, so "x:2,SF" finds the message shown as "x:2,FS".
 */
struct fs_item *fs_item_find_name(struct fs_folder *f, enum fs_sub sub,
				  const char *name)
{
	g_autofree char *id = NULL;
	uint64_t flags;
	struct fs_item *it;

	if (f->kind != MFS_FOLDER_MAIL) {
		it = g_hash_table_lookup(f->items, name);
		return sub == FS_SUB_DIR ? it : NULL;
	}
	if (sub != FS_SUB_CUR && sub != FS_SUB_NEW)
		return NULL;
	if (maildir_name_parse(name, &id, &flags) < 0)
		return NULL;
	it = g_hash_table_lookup(f->items, id);
	if (!it || fs_item_sub(f, it) != sub)
		return NULL;
	if ((it->flags & MFS_FLAG_LETTERS) != (flags & MFS_FLAG_LETTERS))
		return NULL;
	/* "x:2," in new/ and "x" name the same message only in cur/ */
	if (sub == FS_SUB_NEW && strcmp(name, it->name) != 0 &&
	    (it->flags & MFS_FLAG_LETTERS) == 0)
		return NULL;
	return it;
}

static GHashTable *query_table_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				     (GDestroyNotify)g_ptr_array_unref);
}

static struct fs_folder *folder_new(const char *path, enum mfs_folder_kind kind)
{
	struct fs_folder *f = g_new0(struct fs_folder, 1);

	f->path = g_strdup(path);
	f->kind = kind;
	f->items = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					 fs_item_free);
	f->staged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  NULL);
	if (kind == MFS_FOLDER_DIRECTORY)
		f->queries = query_table_new();
	return f;
}

/* Add a folder and any parent directory it implies.  Borrowed result. */
struct fs_folder *fs_view_add_folder(struct fs *fs, const char *path,
				     enum mfs_folder_kind kind)
{
	struct fs_folder *f = fs_folder_find(fs, path);
	g_autofree char *parent = g_path_get_dirname(path);

	if (strcmp(parent, ".") && !fs_folder_find(fs, parent))
		fs_view_add_folder(fs, parent, MFS_FOLDER_NONE);
	if (f) {
		if (f->kind != kind) {
			f->kind = kind;
			g_hash_table_remove_all(f->items);
			g_clear_pointer(&f->queries, g_hash_table_unref);
			if (kind == MFS_FOLDER_DIRECTORY)
				f->queries = query_table_new();
			g_clear_pointer(&f->state, g_free);
			f->synced = false;
		}
		return f;
	}
	f = folder_new(path, kind);
	g_hash_table_insert(fs->folders, f->path, f);
	return f;
}

static fuse_ino_t dir_ino(const char *path)
{
	return *path ? fs_ino_for(FS_N_DIR, path, FS_SUB_DIR, NULL)
		     : FUSE_ROOT_ID;
}

static fuse_ino_t item_parent_ino(const struct fs_folder *f, enum fs_sub sub)
{
	if (sub == FS_SUB_DIR)
		return dir_ino(f->path);
	return fs_ino_for(FS_N_SUB, f->path, sub, NULL);
}

void fs_view_queue_inval(struct fs *fs, fuse_ino_t parent, const char *name,
			 fuse_ino_t ino)
{
	struct fs_inval *iv = g_new0(struct fs_inval, 1);

	iv->parent = parent;
	iv->name = g_strdup(name);
	iv->ino = ino;
	g_ptr_array_add(fs->invals, iv);
}

/* Called without fs->lock and never from a request handler. */
void fs_view_send_invals(struct fs *fs)
{
	GPtrArray *todo;

	g_mutex_lock(&fs->lock);
	todo = fs->invals;
	fs->invals = g_ptr_array_new();
	g_mutex_unlock(&fs->lock);
	for (guint i = 0; fs->se && i < todo->len; i++) {
		struct fs_inval *iv = todo->pdata[i];
		if (iv->name)
			fuse_lowlevel_notify_inval_entry(fs->se, iv->parent,
							 iv->name,
							 strlen(iv->name));
		else
			fuse_lowlevel_notify_inval_inode(fs->se, iv->ino, 0, 0);
	}
	for (guint i = 0; i < todo->len; i++) {
		struct fs_inval *iv = todo->pdata[i];
		g_free(iv->name);
		g_free(iv);
	}
	g_ptr_array_unref(todo);
}

static void queue_item_gone(struct fs *fs, struct fs_folder *f,
			    const struct fs_item *it)
{
	fs_view_queue_inval(fs, item_parent_ino(f, fs_item_sub(f, it)),
			    it->name, 0);
	fs_view_queue_inval(fs, 0, NULL,
			    fs_ino_for(FS_N_ITEM, f->path, FS_SUB_DIR, it->id));
}

/* Apply one change from the store, queueing what the kernel must forget. */
static void apply_item(struct fs *fs, struct fs_folder *f,
		       const struct mfs_item *mi)
{
	struct fs_item *old = g_hash_table_lookup(f->items, mi->id);

	if (old) {
		enum fs_sub osub = fs_item_sub(f, old);
		g_autofree char *oname = g_strdup(old->name);
		bool content = old->size != mi->size || old->date != mi->date;
		struct fs_item *it = fs_item_put(f, mi);
		if (strcmp(oname, it->name) || osub != fs_item_sub(f, it))
			fs_view_queue_inval(fs, item_parent_ino(f, osub),
					    oname, 0);
		if (content)
			fs_view_queue_inval(fs, 0, NULL,
					    fs_ino_for(FS_N_ITEM, f->path,
						       FS_SUB_DIR, mi->id));
	} else {
		fs_item_put(f, mi);
	}
}

void fs_view_sync(struct fs *fs, struct fs_folder *f)
{
	struct mfs_sync_result *res = NULL;
	struct mfs_error e = { 0 };
	int rc;

	/* a directory shows only what was looked up in it */
	if (f->kind == MFS_FOLDER_NONE || f->kind == MFS_FOLDER_DIRECTORY)
		return;
	rc = mfs_store_sync(fs->store, f->path, f->state, &res, &e);
	if (rc < 0) {
		if (rc != -ENOENT)
			log_error_record("syncing %s: %s", f->path,
					 e.msg[0] ? e.msg : g_strerror(-rc));
		return;
	}
	if (res->full) {
		GHashTable *keep = g_hash_table_new(g_str_hash, g_str_equal);
		for (guint i = 0; i < res->changed->len; i++) {
			struct mfs_item *mi = res->changed->pdata[i];
			g_hash_table_add(keep, mi->id);
		}
		GHashTableIter it;
		gpointer val;
		g_hash_table_iter_init(&it, f->items);
		while (g_hash_table_iter_next(&it, NULL, &val)) {
			struct fs_item *item = val;
			if (!g_hash_table_contains(keep, item->id)) {
				queue_item_gone(fs, f, item);
				g_hash_table_iter_remove(&it);
			}
		}
		g_hash_table_unref(keep);
	}
	for (guint i = 0; i < res->changed->len; i++)
		apply_item(fs, f, res->changed->pdata[i]);
	for (guint i = 0; i < res->vanished->len; i++) {
		const char *id = res->vanished->pdata[i];
		struct fs_item *item = g_hash_table_lookup(f->items, id);
		if (item) {
			queue_item_gone(fs, f, item);
			g_hash_table_remove(f->items, id);
		}
	}
	g_free(f->state);
	f->state = g_steal_pointer(&res->state);
	f->synced = true;
	mfs_sync_result_free(&res);
}

/* Whether folder `path` is `top` or below it. */
bool fs_path_under(const char *path, const char *top)
{
	size_t n = strlen(top);

	return !strncmp(path, top, n) && (path[n] == '\0' || path[n] == '/');
}

/* Forget a folder and its sub-folders (they went away in the store). */
void fs_view_remove_folder(struct fs *fs, const char *path)
{
	GHashTableIter it;
	gpointer val;
	g_autofree char *top = g_strdup(path);
	g_autofree char *parent = g_path_get_dirname(top);
	g_autofree char *base = g_path_get_basename(top);

	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct fs_folder *f = val;
		if (!fs_path_under(f->path, top))
			continue;
		/* writes in progress there are kept, not dropped */
		GHashTableIter sit;
		gpointer sval;
		g_hash_table_iter_init(&sit, f->staged);
		while (g_hash_table_iter_next(&sit, NULL, &sval)) {
			struct fs_staged *st = sval;
			g_autofree char *kept = NULL;
			st->linked = false;
			if (!st->committed &&
			    staging_reject(fs->staging, st->path, st->name,
					   "its folder was removed", &kept) == 0) {
				log_error_record("%s/%s: folder removed; the "
						 "file is kept as %s", f->path,
						 st->name, kept);
				g_clear_pointer(&st->path, g_free);
			}
			g_hash_table_iter_remove(&sit);
			fs_staged_unref(fs, st);
		}
		g_hash_table_iter_steal(&it);
		folder_free(f);
	}
	fs_view_queue_inval(fs, dir_ino(strcmp(parent, ".") ? parent : ""),
			    base, 0);
}

void fs_view_rename_folder(struct fs *fs, const char *from, const char *to)
{
	GPtrArray *moved = g_ptr_array_new();
	GHashTableIter it;
	gpointer val;
	size_t flen = strlen(from);

	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct fs_folder *f = val;
		if (fs_path_under(f->path, from)) {
			g_ptr_array_add(moved, f);
			g_hash_table_iter_steal(&it);
		}
	}
	for (guint i = 0; i < moved->len; i++) {
		struct fs_folder *f = moved->pdata[i];
		char *np = g_strconcat(to, f->path + flen, NULL);
		g_free(f->path);
		f->path = np;
		GHashTableIter sit;
		g_hash_table_iter_init(&sit, f->staged);
		while (g_hash_table_iter_next(&sit, NULL, &val)) {
			struct fs_staged *st = val;
			g_free(st->folder);
			st->folder = g_strdup(np);
		}
		g_hash_table_replace(fs->folders, f->path, f);
	}
	g_ptr_array_unref(moved);
	fs_nodes_rename_folder(fs, from, to);
	g_autofree char *parent = g_path_get_dirname(to);
	if (strcmp(parent, ".") && !fs_folder_find(fs, parent))
		fs_view_add_folder(fs, parent, MFS_FOLDER_NONE);
}

void fs_view_refresh_folders(struct fs *fs)
{
	GPtrArray *list = NULL;
	struct mfs_error e = { 0 };
	int rc = mfs_store_list_folders(fs->store, &list, &e);

	if (rc < 0) {
		log_error_record("listing folders: %s",
				 e.msg[0] ? e.msg : g_strerror(-rc));
		return;
	}
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < list->len; i++) {
		struct mfs_folder_info *fi = list->pdata[i];
		struct fs_folder *f = fs_view_add_folder(fs, fi->path,
							 fi->kind);
		g_hash_table_add(seen, f->path);
		for (char *p = strrchr(fi->path, '/'); p;
		     p = g_strrstr_len(fi->path, p - fi->path, "/")) {
			g_autofree char *anc = g_strndup(fi->path,
							 (gsize)(p - fi->path));
			struct fs_folder *a = fs_folder_find(fs, anc);
			if (a)
				g_hash_table_add(seen, a->path);
		}
	}
	GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		if (!g_hash_table_contains(seen, key))
			g_ptr_array_add(gone, g_strdup(key));
	}
	g_hash_table_unref(seen);
	for (guint i = 0; i < gone->len; i++) {
		if (fs_folder_find(fs, gone->pdata[i]))
			fs_view_remove_folder(fs, gone->pdata[i]);
	}
	g_ptr_array_unref(gone);
	g_ptr_array_unref(list);
}

int fs_view_load(struct fs *fs)
{
	GHashTableIter it;
	gpointer val;

	fs->folders = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					    folder_free);
	fs->invals = g_ptr_array_new();
	fs_view_refresh_folders(fs);
	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, NULL, &val))
		fs_view_sync(fs, val);
	/* nothing the kernel holds yet */
	g_ptr_array_set_size(fs->invals, 0);
	return 0;
}

void fs_view_free(struct fs *fs)
{
	if (fs->folders)
		g_hash_table_unref(fs->folders);
	fs->folders = NULL;
	if (fs->invals) {
		for (guint i = 0; i < fs->invals->len; i++) {
			struct fs_inval *iv = fs->invals->pdata[i];
			g_free(iv->name);
			g_free(iv);
		}
		g_ptr_array_unref(fs->invals);
	}
	fs->invals = NULL;
}

/* The store's watcher says `folder` (NULL: the folder list) changed. */
void fs_on_store_change(const char *folder, void *data)
{
	struct fs *fs = data;

	g_mutex_lock(&fs->lock);
	if (!folder) {
		GHashTableIter it;
		gpointer val;
		fs_view_refresh_folders(fs);
		/* folders that appeared need their items */
		g_hash_table_iter_init(&it, fs->folders);
		while (g_hash_table_iter_next(&it, NULL, &val)) {
			struct fs_folder *f = val;
			if (!f->synced)
				fs_view_sync(fs, f);
		}
	} else {
		struct fs_folder *f = fs_folder_find(fs, folder);
		if (f)
			fs_view_sync(fs, f);
	}
	g_mutex_unlock(&fs->lock);
	fs_view_send_invals(fs);
}

int fs_read_message_id(struct fs *fs, const char *folder, const char *id,
		       char **value_r)
{
	struct mfs_error e = { 0 };
	char *head = NULL, *value = NULL;
	size_t len = 0;
	int fd, rc;

	rc = mfs_store_fetch(fs->store, folder, id, &fd, &e);
	if (rc < 0)
		return rc;
	rc = file_read_head(fd, HEADER_READ_MAX, &head, &len);
	close(fd);
	if (rc < 0)
		return rc;
	if (mail_header_get(head, len, "Message-ID", &value) < 0)
		value = g_strdup("");
	g_free(head);
	g_mutex_lock(&fs->lock);
	struct fs_folder *f = fs_folder_find(fs, folder);
	struct fs_item *it = f ? g_hash_table_lookup(f->items, id) : NULL;
	if (it && !it->message_id)
		it->message_id = g_steal_pointer(&value);
	if (it && value_r)
		*value_r = g_strdup(it->message_id);
	g_mutex_unlock(&fs->lock);
	g_free(value);
	return it ? 0 : -ENOENT;
}
