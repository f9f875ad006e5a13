/*
 * staged.c - files being written through the mount, until they are items.
 *
 * A file created through the mount is "staged": its bytes go to a file in the
 * cache's staging area.  It becomes an item of the store ("commit") when it
 * is complete and where an item can be:
 *
 *   - in a mail folder's cur/ or new/, under a name not starting with '.',
 *     once no handle may still write it (last close, or a rename there after
 *     close, as Maildir writers do from tmp/);
 *   - in a contacts or calendar folder, under a .vcf or .ics name, once the
 *     content has passed the structural check.
 *
 * Until then it shows under its name like any file (tmp/ holds only these).
 * An error that happens after write() returned is latched on the staged file
 * and reported by flush (close) and fsync.  Content a store refuses is moved
 * to the cache's rejected/ directory with the reason, never dropped.
 */
#include "fs-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content-check.h"
#include "fileutil.h"
#include "log.h"
#include "maildir-name.h"

/* Contacts and events larger than this are not plausible and not read. */
#define CARD_MAX (16 * 1024 * 1024)

static char *staged_key(enum fs_sub sub, const char *name)
{
	return g_strdup_printf("%d/%s", (int)sub, name);
}

struct fs_staged *fs_staged_find(struct fs_folder *f, enum fs_sub sub,
				 const char *name)
{
	g_autofree char *key = staged_key(sub, name);

	return g_hash_table_lookup(f->staged, key);
}

void fs_staged_link(struct fs_folder *f, struct fs_staged *st)
{
	g_hash_table_insert(f->staged, staged_key(st->sub, st->name), st);
	st->refs++;
	st->linked = true;
}

/* Take it out of its directory; the caller still holds a ref of its own. */
void fs_staged_unlink(struct fs *fs, struct fs_staged *st)
{
	struct fs_folder *f = fs_folder_find(fs, st->folder);
	g_autofree char *key = staged_key(st->sub, st->name);

	if (!st->linked)
		return;
	st->linked = false;
	if (f && g_hash_table_remove(f->staged, key))
		fs_staged_unref(fs, st);
}

void fs_staged_unref(struct fs *fs, struct fs_staged *st)
{
	if (--st->refs > 0)
		return;
	if (st->fd >= 0)
		close(st->fd);
	/* still holding a path means nobody wants the bytes any more */
	if (st->path)
		unlink(st->path);
	g_free(st->path);
	g_free(st->folder);
	g_free(st->name);
	g_free(st->replaces);
	g_free(st);
}

int fs_staged_new(struct fs *fs, const char *folder, enum fs_sub sub,
		      const char *name, struct fs_staged **st_r)
{
	struct fs_staged *st = g_new0(struct fs_staged, 1);
	int rc = staging_create(fs->staging, &st->fd, &st->path);

	if (rc < 0) {
		g_free(st);
		return rc;
	}
	st->folder = g_strdup(folder);
	st->sub = sub;
	st->name = g_strdup(name);
	*st_r = st;
	return 0;
}

static bool card_name(enum mfs_folder_kind kind, const char *name)
{
	return name[0] != '.' &&
	       g_str_has_suffix(name, kind == MFS_FOLDER_CALENDAR ? ".ics"
								  : ".vcf");
}

bool fs_staged_committable(struct fs *fs, const struct fs_staged *st)
{
	struct fs_folder *f = fs_folder_find(fs, st->folder);

	if (st->committed || st->committing || !f || !st->path)
		return false;
	if (st->replaces)
		return true;
	if (!st->linked || st->name[0] == '.')
		return false;
	switch (f->kind) {
	case MFS_FOLDER_MAIL:
		return st->sub == FS_SUB_CUR || st->sub == FS_SUB_NEW;
	case MFS_FOLDER_CONTACTS:
	case MFS_FOLDER_CALENDAR:
		return st->sub == FS_SUB_DIR && card_name(f->kind, st->name);
	case MFS_FOLDER_OUTBOX:
		/* not an editor's backup either */
		return st->sub == FS_SUB_DIR &&
		       !g_str_has_suffix(st->name, "~");
	default:
		return false;
	}
}

/* Keep refused content for the user and say where; the file leaves its
 * directory.  Returns `rc`. */
static int staged_refuse(struct fs *fs, struct fs_staged *st, int rc,
			 const char *why)
{
	g_autofree char *label = g_strdup_printf("%s/%s", st->folder, st->name);
	g_autofree char *kept = NULL;

	if (staging_reject(fs->staging, st->path, label, why, &kept) == 0) {
		log_error_record("%s: %s; the content is kept as %s", label,
				 why, kept);
		g_clear_pointer(&st->path, g_free);
		fs_staged_unlink(fs, st);
	} else {
		log_error_record("%s: %s", label, why);
	}
	st->error = rc;
	return rc;
}

static int check_card(struct fs *fs, struct fs_staged *st,
		      enum mfs_folder_kind kind)
{
	struct stat sb;
	char *buf = NULL;
	size_t len = 0;
	g_autofree char *why = NULL;
	int rc;

	if (fstat(st->fd, &sb) != 0)
		return -errno;
	if (sb.st_size > CARD_MAX)
		return staged_refuse(fs, st, -EFBIG, "larger than 16 MiB");
	if ((rc = file_read_head(st->fd, (size_t)sb.st_size, &buf, &len)) < 0)
		return rc;
	rc = kind == MFS_FOLDER_CALENDAR ? content_check_icalendar(buf, len, &why)
					 : content_check_vcard(buf, len, &why);
	g_free(buf);
	if (rc < 0) {
		g_autofree char *msg = g_strdup_printf(
			"not a valid %s: %s",
			kind == MFS_FOLDER_CALENDAR ? "iCalendar object"
						    : "vCard", why);
		return staged_refuse(fs, st, rc, msg);
	}
	return 0;
}

/* The kernel's node for a staged file now stands for the item. */
static void convert_node(struct fs *fs, struct fs_staged *st,
			 const char *folder, const char *id)
{
	struct fs_node *node = st->ino ? fs_node_find(fs, st->ino) : NULL;

	if (!node || node->staged != st)
		return;
	node->type = FS_N_ITEM;
	node->staged = NULL;
	node->sub = FS_SUB_DIR;
	g_free(node->folder);
	node->folder = g_strdup(folder);
	g_free(node->key);
	node->key = g_strdup(id);
	st->ino = 0;
	fs_staged_unref(fs, st);
}

/* Store a copy of the staged content as an item named after `name` in
 * `sub` of `f`.  *item_r is borrowed from the view. */
/*
 * Store a copy of the staged content as an item named after `name` in
 * `sub` of `folder`, without fs->lock while the store works.  The item is
 * put into the view's folder of that name if it is still there.  Caller
 * owns *id_r.  Returns 0 or -errno.
 */
int fs_staged_store(struct fs *fs, struct fs_staged *st, const char *folder,
		    enum fs_sub sub, const char *name, char **id_r)
{
	struct fs_folder *f = fs_folder_find(fs, folder);
	g_autofree char *hint = NULL;
	g_autofree char *where = g_strdup(folder);
	uint64_t flags = 0;
	struct mfs_item *mi = NULL;
	struct mfs_error e = { 0 };
	struct stat sb;
	int rc;

	if (!f)
		return -ENOENT;
	if (f->kind == MFS_FOLDER_MAIL) {
		if (maildir_name_parse(name, &hint, &flags) < 0)
			return -EINVAL;
		flags &= MFS_FLAG_LETTERS;
		if (sub == FS_SUB_NEW)
			flags |= MFS_FLAG_NEW;
	} else {
		hint = g_strdup(st->replaces ? st->replaces : name);
	}
	if (fstat(st->fd, &sb) != 0)
		return -errno;
	st->refs++;
	rc = FS_UNLOCKED(fs, mfs_store_append(fs->store, where, st->fd, hint,
					      flags, sb.st_mtim.tv_sec, &mi,
					      &e));
	if (rc < 0) {
		log_error_record("%s/%s: storing failed: %s", where, name,
				 e.msg[0] ? e.msg : g_strerror(-rc));
	} else {
		if ((f = fs_folder_find(fs, where)))
			fs_item_put(f, mi);
		*id_r = g_strdup(mi->id);
		mfs_item_free(mi);
	}
	fs_staged_unref(fs, st);
	return rc;
}

int fs_staged_commit(struct fs *fs, struct fs_staged *st, char **id_r)
{
	struct fs_folder *f = fs_folder_find(fs, st->folder);
	g_autofree char *id = NULL;
	g_autofree char *name = g_strdup(st->name);
	g_autofree char *folder = g_strdup(st->folder);
	int rc;

	if (!f)
		return -ENOENT;
	if (f->kind == MFS_FOLDER_CONTACTS || f->kind == MFS_FOLDER_CALENDAR) {
		if ((rc = check_card(fs, st, f->kind)) < 0)
			return rc;
	}
	/* held across the store's work, so no other close commits it too */
	st->refs++;
	st->committing = true;
	rc = fs_staged_store(fs, st, folder, st->sub, name, &id);
	st->committing = false;
	if (rc < 0) {
		st->error = rc;
		fs_staged_unref(fs, st);
		return rc;
	}
	st->committed = true;
	st->error = 0;
	if (st->path)
		unlink(st->path);
	g_clear_pointer(&st->path, g_free);
	if (id_r)
		*id_r = g_strdup(id);
	convert_node(fs, st, st->folder, id);
	fs_staged_unlink(fs, st);
	fs_staged_unref(fs, st);
	return 0;
}

/* At unmount: finish what can be finished, keep the rest for the user. */
void fs_staged_finish_all(struct fs *fs)
{
	GPtrArray *all = g_ptr_array_new();
	GHashTableIter it, sit;
	gpointer val;

	g_hash_table_iter_init(&it, fs->folders);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct fs_folder *f = val;
		g_hash_table_iter_init(&sit, f->staged);
		while (g_hash_table_iter_next(&sit, NULL, &val)) {
			struct fs_staged *st = val;
			st->refs++;
			g_ptr_array_add(all, st);
		}
	}
	for (guint i = 0; i < all->len; i++) {
		struct fs_staged *st = all->pdata[i];
		if (fs_staged_committable(fs, st))
			fs_staged_commit(fs, st, NULL);
		else if (!st->committed && st->path && st->linked)
			staged_refuse(fs, st, -EIO,
				      "was not finished when the mount ended");
		fs_staged_unref(fs, st);
	}
	g_ptr_array_unref(all);
}

void fs_handle_track(struct fs *fs, struct fs_handle *h)
{
	g_hash_table_add(fs->handles, h);
}

void fs_handles_release_all(struct fs *fs)
{
	GHashTableIter it;
	gpointer h;

	g_hash_table_iter_init(&it, fs->handles);
	while (g_hash_table_iter_next(&it, &h, NULL)) {
		g_hash_table_iter_steal(&it);
		fs_handle_release(fs, h);
		g_hash_table_iter_init(&it, fs->handles);
	}
}

bool fs_handle_hold(struct fs *fs, struct fs_handle *h)
{
	if (!g_hash_table_contains(fs->handles, h))
		return false;
	h->busy++;
	return true;
}

void fs_handle_unhold(struct fs *fs, struct fs_handle *h)
{
	if (--h->busy == 0 && h->released)
		fs_handle_release(fs, h);
}

void fs_handle_release(struct fs *fs, struct fs_handle *h)
{
	g_hash_table_remove(fs->handles, h);
	switch (h->kind) {
	case FS_H_ITEM:
	case FS_H_DOT:
		if (h->fd >= 0)
			close(h->fd);
		break;
	case FS_H_STAGED:
		if (h->writable && --h->staged->writers == 0 &&
		    fs_staged_committable(fs, h->staged))
			fs_staged_commit(fs, h->staged, NULL);
		fs_staged_unref(fs, h->staged);
		break;
	case FS_H_CTL:
		g_free(h->text);
		break;
	}
	g_free(h);
}

int fs_open_staged_for_edit(struct fs *fs, struct fs_node *node,
			    struct fs_folder *f, struct fs_item *it,
			    bool truncate, struct fs_handle **h_r)
{
	struct fs_staged *st;
	int rc = fs_staged_new(fs, f->path, FS_SUB_DIR, it->name, &st);

	if (rc < 0)
		return rc;
	if (!truncate) {
		int in;
		rc = mfs_store_fetch(fs->store, f->path, it->id, &in, NULL);
		if (rc == 0) {
			rc = file_copy_fd(in, st->fd);
			close(in);
		}
		if (rc < 0) {
			st->refs = 1;
			fs_staged_unref(fs, st);
			return rc;
		}
	}
	st->replaces = g_strdup(it->id);
	st->refs = 1;
	st->writers = 1;
	struct fs_handle *h = g_new0(struct fs_handle, 1);
	h->kind = FS_H_STAGED;
	h->staged = st;
	h->writable = true;
	*h_r = h;
	return 0;
}
