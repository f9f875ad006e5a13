/*
 * xattr.c - extended attributes: an item's id, a message's flags and
 * Message-ID, and why a message waits in the outbox; a dot-tree file's are
 * the file's own.  Nothing else has any, and none of ours can be set.
 */
#include "fs-private.h"

#include <errno.h>
#include <string.h>

#include "maildir-name.h"

#define XATTR_FLAGS "user.mail.flags"
#define XATTR_MSGID "user.mail.message-id"
#define XATTR_ID "user.mail.id"
#define XATTR_ERROR "user.mail.error"

/* The value of one of our xattrs from the view; caller owns *value_r.
 * -EAGAIN: the Message-ID is not read yet. */
static int xattr_value(struct fs *fs, struct fs_node *node, const char *name,
		       char **value_r)
{
	struct fs_folder *f;
	struct fs_item *it;

	if (node->type != FS_N_ITEM)
		return -ENODATA;
	f = fs_folder_find(fs, node->folder);
	it = f ? g_hash_table_lookup(f->items, node->key) : NULL;
	if (!it)
		return -ENOENT;
	if (!strcmp(name, XATTR_ID)) {
		*value_r = g_strdup(it->id);
		return 0;
	}
	if (f->kind != MFS_FOLDER_MAIL)
		return -ENODATA;
	if (!strcmp(name, XATTR_FLAGS)) {
		*value_r = maildir_flags_format(it->flags);
		return 0;
	}
	if (!strcmp(name, XATTR_MSGID)) {
		if (!it->message_id)
			return -EAGAIN;	/* read it without the lock */
		if (!*it->message_id)
			return -ENODATA;
		*value_r = g_strdup(it->message_id);
		return 0;
	}
	return -ENODATA;
}

/* The dot tree's xattrs are the files' own; NULL when `ino` is not in it.
 * Called and returning with fs->lock held. */
static struct fs_node *dot_node(struct fs *fs, fuse_ino_t ino)
{
	struct fs_node *node = fs_node_find(fs, ino);

	return node && node->type == FS_N_DOT ? node : NULL;
}

/* What the view cannot say, asked without fs->lock: why a message waits in
 * the outbox (`outbox`), or a Message-ID not read yet. */
static int getxattr_unlocked(struct fs *fs, const char *folder,
			     const char *id, bool outbox, char **value_r)
{
	int rc;

	if (outbox)
		return mfs_store_item_error(fs->store, folder, id, value_r);
	rc = fs_read_message_id(fs, folder, id, value_r);
	if (rc == -EAGAIN)
		rc = -ENOENT;	/* gone while it was read */
	if (rc == 0 && !**value_r) {
		g_clear_pointer(value_r, g_free);
		rc = -ENODATA;
	}
	return rc;
}

int fs_getxattr(struct fs *fs, fuse_ino_t ino, const char *name,
		char **value_r, size_t *len_r)
{
	g_autofree char *folder = NULL;
	g_autofree char *id = NULL;
	struct fs_node *node;
	bool outbox = false;
	int rc;

	*value_r = NULL;
	g_mutex_lock(&fs->lock);
	if ((node = dot_node(fs, ino))) {
		rc = fs_dot_getxattr(node, name, value_r, len_r);
		g_mutex_unlock(&fs->lock);
		return rc;
	}
	node = fs_node_find(fs, ino);
	outbox = node && node->type == FS_N_ITEM &&
		 !strcmp(name, XATTR_ERROR);
	rc = outbox ? -EAGAIN : node ? xattr_value(fs, node, name, value_r)
				     : -ESTALE;
	if (rc == -EAGAIN) {
		folder = g_strdup(node->folder);
		id = g_strdup(node->key);
	}
	g_mutex_unlock(&fs->lock);
	if (rc == -EAGAIN)
		rc = getxattr_unlocked(fs, folder, id, outbox, value_r);
	if (rc == 0)
		*len_r = strlen(*value_r);
	return rc;
}

int fs_listxattr(struct fs *fs, fuse_ino_t ino, char **list_r, size_t *len_r)
{
	struct fs_node *node;
	struct fs_folder *f;
	GString *list;
	int rc;

	g_mutex_lock(&fs->lock);
	if ((node = dot_node(fs, ino))) {
		rc = fs_dot_listxattr(node, list_r, len_r);
		g_mutex_unlock(&fs->lock);
		return rc;
	}
	list = g_string_new(NULL);
	node = fs_node_find(fs, ino);
	f = node && node->type == FS_N_ITEM ? fs_folder_find(fs, node->folder)
					    : NULL;
	if (f) {
		g_string_append_len(list, XATTR_ID, sizeof(XATTR_ID));
		if (f->kind == MFS_FOLDER_OUTBOX)
			g_string_append_len(list, XATTR_ERROR,
					    sizeof(XATTR_ERROR));
		if (f->kind == MFS_FOLDER_MAIL) {
			g_string_append_len(list, XATTR_FLAGS,
					    sizeof(XATTR_FLAGS));
			g_string_append_len(list, XATTR_MSGID,
					    sizeof(XATTR_MSGID));
		}
	}
	g_mutex_unlock(&fs->lock);
	*len_r = list->len;
	*list_r = g_string_free(list, FALSE);
	return 0;
}

int fs_setxattr(struct fs *fs, fuse_ino_t ino, const char *name,
		const char *value, size_t size, int flags)
{
	struct fs_node *node;
	int rc;

	g_mutex_lock(&fs->lock);
	node = dot_node(fs, ino);
	rc = node ? fs_dot_setxattr(fs, node, name, value, size, flags)
		  : -ENOTSUP;
	g_mutex_unlock(&fs->lock);
	return rc;
}

int fs_removexattr(struct fs *fs, fuse_ino_t ino, const char *name)
{
	struct fs_node *node;
	int rc;

	g_mutex_lock(&fs->lock);
	node = dot_node(fs, ino);
	rc = node ? fs_dot_removexattr(fs, node, name) : -ENOTSUP;
	g_mutex_unlock(&fs->lock);
	return rc;
}
