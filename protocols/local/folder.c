/*
 * folder.c - folders of the embedded store: what kind a directory is, and
 * creating, renaming and deleting them.
 */
#include "local-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

static gboolean is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static enum mfs_folder_kind kind_from_name(const char *word)
{
	if (!strcmp(word, "mail"))
		return MFS_FOLDER_MAIL;
	if (!strcmp(word, "contacts"))
		return MFS_FOLDER_CONTACTS;
	if (!strcmp(word, "calendar"))
		return MFS_FOLDER_CALENDAR;
	return MFS_FOLDER_NONE;
}

/*
 * A directory with cur/ is a mail folder.  Otherwise the kind file says, and
 * failing that the files do: .vcf makes contacts, .ics a calendar (so a
 * backup of a contacts folder copied without our kind file still reads back
 * as one).  Anything else only holds sub-folders.
 */
enum mfs_folder_kind local_detect_kind(const char *dir)
{
	g_autofree char *cur = g_build_filename(dir, "cur", NULL);
	g_autofree char *kindfile = g_build_filename(dir, LOCAL_KIND_FILE, NULL);
	g_autofree char *text = NULL;
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;
	DIR *d;
	struct dirent *de;

	if (is_dir(cur))
		return MFS_FOLDER_MAIL;
	if (g_file_get_contents(kindfile, &text, NULL, NULL)) {
		kind = kind_from_name(g_strstrip(text));
		if (kind != MFS_FOLDER_NONE)
			return kind;
	}
	d = opendir(dir);
	if (!d)
		return MFS_FOLDER_NONE;
	while (kind == MFS_FOLDER_NONE && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (g_str_has_suffix(de->d_name, ".vcf"))
			kind = MFS_FOLDER_CONTACTS;
		else if (g_str_has_suffix(de->d_name, ".ics"))
			kind = MFS_FOLDER_CALENDAR;
	}
	closedir(d);
	return kind;
}

/* A path component the store can hold as a directory name. */
int local_check_component(const char *comp)
{
	if (!*comp || comp[0] == '.' || strchr(comp, '/'))
		return -EINVAL;
	if (strlen(comp) > 255)
		return -ENAMETOOLONG;
	return 0;
}

static int check_path(struct mfs_backend *be, const char *path,
		      struct mfs_error *e)
{
	g_auto(GStrv) comps = g_strsplit(path, "/", -1);
	g_autofree char *parent = g_strdup(be->root);

	for (int i = 0; comps[i]; i++) {
		int rc = local_check_component(comps[i]);
		if (rc < 0)
			return mfs_error_set(e, rc, MFS_ERR_FOLDER,
					     MFS_ERR_FINAL,
					     "'%s' cannot be a folder name "
					     "in the store", comps[i]);
		/* a mail folder's cur/new/tmp are not sub-folders */
		if (local_detect_kind(parent) == MFS_FOLDER_MAIL &&
		    (!strcmp(comps[i], "cur") || !strcmp(comps[i], "new") ||
		     !strcmp(comps[i], "tmp")))
			return mfs_error_set(e, -EEXIST, MFS_ERR_FOLDER,
					     MFS_ERR_FINAL,
					     "'%s' is part of a Maildir folder",
					     comps[i]);
		char *next = g_build_filename(parent, comps[i], NULL);
		g_free(parent);
		parent = next;
	}
	return 0;
}

static int write_kind_file(const char *dir, enum mfs_folder_kind kind)
{
	g_autofree char *path = g_build_filename(dir, LOCAL_KIND_FILE, NULL);
	g_autofree char *text = g_strdup_printf("%s\n",
						mfs_folder_kind_name(kind));
	GError *err = NULL;

	if (!g_file_set_contents_full(path, text, -1,
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600,
				      &err)) {
		log_warnx("%s", err->message);
		g_error_free(err);
		return -EIO;
	}
	return 0;
}

int local_keep_kind(const char *dir, enum mfs_folder_kind kind)
{
	g_autofree char *path = g_build_filename(dir, LOCAL_KIND_FILE, NULL);

	if (kind != MFS_FOLDER_CONTACTS && kind != MFS_FOLDER_CALENDAR)
		return 0;
	if (access(path, F_OK) == 0)
		return 0;
	return write_kind_file(dir, kind);
}

int local_create_folder(struct mfs_backend *be, const char *path,
			enum mfs_folder_kind kind, struct mfs_error *e)
{
	g_autofree char *dir = g_build_filename(be->root, path, NULL);
	g_autofree char *parent = g_path_get_dirname(dir);
	int rc = check_path(be, path, e);

	if (rc < 0)
		return rc;
	if (kind != MFS_FOLDER_MAIL && kind != MFS_FOLDER_CONTACTS &&
	    kind != MFS_FOLDER_CALENDAR && kind != MFS_FOLDER_NONE)
		return mfs_error_set(e, -ENOTSUP, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "the store cannot hold %s folders",
				     mfs_folder_kind_name(kind));
	if ((rc = file_mkdir_p(parent, 0700)) < 0)
		return mfs_error_set(e, rc, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s: %s", parent, g_strerror(-rc));
	if (mkdir(dir, 0700) != 0)
		return mfs_error_set(e, -errno, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s: %s", dir, g_strerror(errno));
	if (kind == MFS_FOLDER_MAIL) {
		/* tmp/ and new/ first: cur/ is what makes it a mail folder */
		static const char *const subs[] = { "tmp", "new", "cur" };
		for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
			g_autofree char *sub = g_build_filename(dir, subs[i],
								NULL);
			if (mkdir(sub, 0700) != 0 && errno != EEXIST) {
				rc = -errno;
				break;
			}
		}
	} else if (kind != MFS_FOLDER_NONE) {
		rc = write_kind_file(dir, kind);
	}
	if (rc == 0)
		rc = file_fsync_dir(parent);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "creating %s: %s", dir, g_strerror(-rc));
	g_mutex_lock(&be->lock);
	local_folder_get(be, path);
	g_mutex_unlock(&be->lock);
	return 0;
}

int local_rename_folder(struct mfs_backend *be, const char *from,
			const char *to, struct mfs_error *e)
{
	g_autofree char *src = g_build_filename(be->root, from, NULL);
	g_autofree char *dst = g_build_filename(be->root, to, NULL);
	g_autofree char *dparent = g_path_get_dirname(dst);
	int rc = check_path(be, to, e);

	if (rc < 0)
		return rc;
	if (!is_dir(src))
		return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "no folder %s", from);
	if ((rc = file_mkdir_p(dparent, 0700)) < 0)
		return mfs_error_set(e, rc, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s: %s", dparent, g_strerror(-rc));
	if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) != 0)
		return mfs_error_set(e, -errno, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "renaming %s to %s: %s", from, to,
				     g_strerror(errno));
	file_fsync_dir(dparent);
	/* every record under the old name is stale now */
	g_mutex_lock(&be->lock);
	GHashTableIter it;
	gpointer key;
	size_t flen = strlen(from);
	g_hash_table_iter_init(&it, be->folders);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		const char *k = key;
		if (!strncmp(k, from, flen) && (k[flen] == '\0' ||
						k[flen] == '/'))
			g_hash_table_iter_remove(&it);
	}
	g_mutex_unlock(&be->lock);
	local_scan_folders(be);
	return 0;
}

/*
 * Remove `dir` if it holds nothing but the names in `allowed` (empty
 * directories, or our kind file).  Another writer may deliver meanwhile, so
 * each rmdir is checked and a failure puts back what was already removed.
 * Returns 0 or -errno (-ENOTEMPTY when anything else is there).
 */
static int remove_if_empty(const char *dir, const char *const *allowed)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0, removed = 0;

	if (!d)
		return -errno;
	while (rc == 0 && (de = readdir(d))) {
		gboolean ok = !strcmp(de->d_name, ".") ||
			      !strcmp(de->d_name, "..");
		for (int i = 0; !ok && allowed[i]; i++)
			ok = !strcmp(de->d_name, allowed[i]);
		if (!ok)
			rc = -ENOTEMPTY;
	}
	closedir(d);
	for (; rc == 0 && allowed[removed]; removed++) {
		g_autofree char *sub = g_build_filename(dir, allowed[removed],
							NULL);
		if (!strcmp(allowed[removed], LOCAL_KIND_FILE)) {
			/* last in the list, so nothing after it can fail
			 * but the final rmdir of a folder just written to */
			if (unlink(sub) != 0 && errno != ENOENT)
				rc = -errno;
			continue;
		}
		if (rmdir(sub) != 0 && errno != ENOENT)
			rc = errno == EEXIST ? -ENOTEMPTY : -errno;
	}
	if (rc == 0 && rmdir(dir) != 0)
		rc = errno == EEXIST ? -ENOTEMPTY : -errno;
	if (rc < 0) {
		/* put back the Maildir parts removed before the failure */
		for (int i = 0; i < removed; i++) {
			g_autofree char *sub = g_build_filename(
				dir, allowed[i], NULL);
			if (strcmp(allowed[i], LOCAL_KIND_FILE))
				mkdir(sub, 0700);
		}
		return rc;
	}
	return 0;
}

int local_delete_folder(struct mfs_backend *be, const char *path,
			struct mfs_error *e)
{
	/* cur/ last: while it exists the folder stays a mail folder */
	static const char *const allowed[] = { "tmp", "new", "cur",
					       LOCAL_KIND_FILE, NULL };
	g_autofree char *dir = g_build_filename(be->root, path, NULL);
	g_autofree char *parent = g_path_get_dirname(dir);
	int rc;

	if (!*path || path[0] == '.' || path[0] == '/' || strstr(path, "/.") ||
	    strstr(path, "//") || g_str_has_suffix(path, "/"))
		return mfs_error_set(e, -EINVAL, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "'%s' is not a folder of the store", path);
	rc = remove_if_empty(dir, allowed);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "removing %s: %s", path, g_strerror(-rc));
	file_fsync_dir(parent);
	g_mutex_lock(&be->lock);
	g_hash_table_remove(be->folders, path);
	g_mutex_unlock(&be->lock);
	return 0;
}
