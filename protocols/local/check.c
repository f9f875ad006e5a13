/*
 * check.c - `mailfs check` of a local store: that its directory is there,
 * is a directory and takes new files, and what folders it holds (the
 * mount's layout, DESIGN.md "Embedded server").  Unlike a mount, a check
 * neither creates nor seeds a missing or empty store.
 */
#include "local-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"

int local_check(const struct mfs_account *acct, struct mfs_check *ck)
{
	struct mfs_error e = { 0 };
	GPtrArray *folders = NULL;
	GError *err = NULL;
	struct stat sb;
	int rc;

	if (!acct->store || !*acct->store) {
		mfs_check_say(ck, "config", false, "set store = DIR", "no "
			      "store directory");
		return -EINVAL;
	}
	g_autofree char *root = g_canonicalize_filename(acct->store, NULL);
	mfs_check_say(ck, "config", true, NULL, "local store %s", root);
	if (stat(root, &sb) != 0) {
		rc = -errno;
		mfs_check_say(ck, "store", false, rc == -ENOENT
			      ? "create it (mkdir -p it) or set store = to an "
				"existing store; a mount creates and seeds a "
				"missing one"
			      : "set store = to a directory this user can "
				"reach", "%s: %s", root, g_strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(sb.st_mode)) {
		mfs_check_say(ck, "store", false, "set store = to a directory",
			      "%s is not a directory", root);
		return -ENOTDIR;
	}
	if ((rc = local_probe_writable(root, &err)) < 0) {
		mfs_check_say(ck, "store", false, "let this user write there "
			      "(chmod u+w) or set store = to another "
			      "directory", "%s", err->message);
		g_error_free(err);
		return rc;
	}
	mfs_check_say(ck, "store", true, NULL, "%s: a directory this user "
		      "can write", root);

	struct mfs_backend *be = local_backend_new(root);
	rc = local_list_folders(be, &folders, &e);
	if (rc < 0) {
		mfs_check_say(ck, "folders", false, NULL, "%s", e.msg);
	} else {
		unsigned kinds[MFS_FOLDER_OUTBOX + 1] = { 0 };
		for (guint i = 0; i < folders->len; i++) {
			const struct mfs_folder_info *fi = folders->pdata[i];
			kinds[fi->kind]++;
		}
		mfs_check_say(ck, "folders", true, NULL, "%u folders (%u mail, "
			      "%u contacts, %u calendars)%s", folders->len,
			      kinds[MFS_FOLDER_MAIL],
			      kinds[MFS_FOLDER_CONTACTS],
			      kinds[MFS_FOLDER_CALENDAR], folders->len ? ""
			      : "; a mount seeds an empty store with INBOX");
		g_ptr_array_unref(folders);
	}
	local_close(&be);
	return rc;
}
