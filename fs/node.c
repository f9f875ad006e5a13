/*
 * node.c - the inode table.
 *
 * Inode numbers are derived from what a node shows (folder path, item id),
 * never from pointers, so a file keeps its st_ino across remounts and rsync or
 * find see the same tree each time.  Lookup counts follow libfuse's forget
 * contract: a node lives while the kernel holds a reference to it.  The dot
 * tree's nodes are made in dotdir.c, by the number of the file on disk.
 */
#include "fs-private.h"

#include <string.h>
#include <unistd.h>

#include "maildir-name.h"
#include "fnv1a.h"

fuse_ino_t fs_ino_for(enum fs_node_type type, const char *folder,
		      enum fs_sub sub, const char *key)
{
	uint64_t h = FNV1A_64_INIT;
	unsigned char tag[2] = { (unsigned char)type, (unsigned char)sub };

	if (type == FS_N_ROOT)
		return FUSE_ROOT_ID;
	h = fnv1a_64(h, tag, sizeof(tag));
	if (folder)
		h = fnv1a_64(h, folder, strlen(folder) + 1);
	if (key)
		h = fnv1a_64(h, key, strlen(key) + 1);
	/* keep clear of 0, the root, and the top bit: some tools mishandle
	 * it, and the dot tree's numbers have it (dotdir.c) */
	h &= ~FS_DOT_INO_BIT;
	return h < 2 ? h + 2 : h;
}

void fs_node_free(gpointer p)
{
	struct fs_node *n = p;

	g_free(n->folder);
	g_free(n->key);
	if (n->type == FS_N_DOT)
		close(n->dot_fd);
	/* a staged file's ref is dropped by whoever removes the node, with
	 * the fs at hand; the table's destructor only runs at teardown */
	g_free(n);
}

struct fs_node *fs_node_find(struct fs *fs, fuse_ino_t ino)
{
	return g_hash_table_lookup(fs->nodes, GUINT_TO_POINTER(ino));
}

static bool node_matches(const struct fs_node *n, enum fs_node_type type,
			 const char *folder, enum fs_sub sub, const char *key,
			 struct fs_staged *st)
{
	if (n->type != type || n->sub != sub)
		return false;
	if (type == FS_N_STAGED)
		return n->staged == st;
	return g_strcmp0(n->folder, folder) == 0 && g_strcmp0(n->key, key) == 0;
}

/*
 * A file being written gets the number the item it becomes will have, as
 * far as its name tells: a Maildir writer's tmp/X renamed into new/X keeps
 * its st_ino from creation to remount.
 */
static fuse_ino_t staged_ino(const struct fs_staged *st)
{
	g_autofree char *id = NULL;
	uint64_t flags;

	if (maildir_name_parse(st->name, &id, &flags) == 0)
		return fs_ino_for(FS_N_ITEM, st->folder, FS_SUB_DIR, id);
	return fs_ino_for(FS_N_STAGED, st->folder, st->sub, st->name);
}

/*
 * The node for a target, created when the kernel did not know it.  The lookup
 * count is not changed: callers that hand the node to the kernel add one.
 * Borrowed; valid while fs->lock is held.
 */
struct fs_node *fs_node_get(struct fs *fs, enum fs_node_type type,
			    const char *folder, enum fs_sub sub,
			    const char *key, struct fs_staged *st)
{
	fuse_ino_t ino;
	struct fs_node *n;

	if (type == FS_N_STAGED && st->ino && (n = fs_node_find(fs, st->ino)))
		return n;
	if (type == FS_N_STAGED)
		ino = staged_ino(st);
	else
		ino = fs_ino_for(type, folder, sub, key);
	/* a collision of two targets moves the newcomer along */
	while ((n = fs_node_find(fs, ino))) {
		if (node_matches(n, type, folder, sub, key, st))
			return n;
		ino = (ino + 1) & ~FS_DOT_INO_BIT;
		ino = ino < 2 ? 2 : ino;
	}
	n = g_new0(struct fs_node, 1);
	n->ino = ino;
	n->type = type;
	n->folder = g_strdup(folder);
	n->sub = sub;
	n->key = g_strdup(key);
	if (type == FS_N_STAGED) {
		n->staged = st;
		st->refs++;
		st->ino = ino;
	}
	g_hash_table_insert(fs->nodes, GUINT_TO_POINTER(ino), n);
	return n;
}

static void node_remove(struct fs *fs, struct fs_node *n)
{
	struct fs_staged *st = n->staged;
	fuse_ino_t ino = n->ino;

	if (n->type == FS_N_ROOT)
		return;
	g_hash_table_remove(fs->nodes, GUINT_TO_POINTER(ino));	/* frees n */
	if (st) {
		if (st->ino == ino)
			st->ino = 0;
		fs_staged_unref(fs, st);
	}
}

void fs_node_drop_if_unused(struct fs *fs, struct fs_node *node)
{
	if (node->nlookup == 0)
		node_remove(fs, node);
}

void fs_node_drop_ino(struct fs *fs, fuse_ino_t ino)
{
	struct fs_node *node = ino ? fs_node_find(fs, ino) : NULL;

	if (node)
		fs_node_drop_if_unused(fs, node);
}

void fs_node_forget(struct fs *fs, fuse_ino_t ino, uint64_t n)
{
	struct fs_node *node = fs_node_find(fs, ino);

	if (!node)
		return;
	node->nlookup = node->nlookup > n ? node->nlookup - n : 0;
	if (node->nlookup == 0)
		node_remove(fs, node);
}

/* Rewrite the folder paths of nodes under `from`; their inode numbers stay
 * what the kernel knows them by. */
void fs_nodes_rename_folder(struct fs *fs, const char *from, const char *to)
{
	GHashTableIter it;
	gpointer val;
	size_t flen = strlen(from);

	g_hash_table_iter_init(&it, fs->nodes);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		struct fs_node *n = val;
		if (!n->folder || !fs_path_under(n->folder, from))
			continue;
		char *moved = g_strconcat(to, n->folder + flen, NULL);
		g_free(n->folder);
		n->folder = moved;
	}
}
