/*
 * items.c - items of the embedded store: messages in Maildir cur/ and new/,
 * contacts and calendar objects as files.
 *
 * Maildir rules followed (https://cr.yp.to/proto/maildir.html): a message is
 * written under tmp/, fsynced, and renamed into new/ or cur/; its name is
 * never reused; the info suffix ":2,<letters>" carries the flags.  A message's
 * file mtime is its arrival date (as Dovecot reads it).  Renames use
 * RENAME_NOREPLACE so that a name another writer took is never overwritten.
 */
#include "local-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"
#include "maildir-name.h"

/* A directory changed this recently may change again within the same
 * timestamp tick, so its mtime cannot vouch for "nothing changed". */
#define STATE_SETTLE_SECONDS 2

static struct local_entry *entry_new(enum local_sub sub, const char *file)
{
	struct local_entry *en = g_new0(struct local_entry, 1);

	en->sub = sub;
	en->file = g_strdup(file);
	return en;
}

static void entry_free(gpointer p)
{
	struct local_entry *en = p;

	g_free(en->file);
	g_free(en);
}

static GHashTable *entries_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				     entry_free);
}

/* Read one directory of items into `entries` and `items`. */
static void scan_sub(int dirfd, enum local_sub sub, enum mfs_folder_kind kind,
		     const char *where, GHashTable *entries, GPtrArray *items)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat sb;
		char *id = NULL;
		uint64_t flags = 0;

		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (kind == MFS_FOLDER_MAIL) {
			if (maildir_name_parse(de->d_name, &id, &flags) < 0)
				continue;
			if (sub == LOCAL_SUB_NEW)
				flags |= MFS_FLAG_NEW;
		} else {
			id = g_strdup(de->d_name);
		}
		if (g_hash_table_contains(entries, id)) {
			log_warnx("store %s: %s/%s repeats the id of another "
				  "message; not shown until renamed", where,
				  local_sub_name(sub) ? local_sub_name(sub) : ".",
				  de->d_name);
			g_free(id);
			continue;
		}
		g_ptr_array_add(items, mfs_item_new(id, (uint64_t)sb.st_size,
						    sb.st_mtim.tv_sec, flags));
		g_hash_table_insert(entries, id, entry_new(sub, de->d_name));
	}
	closedir(d);
}

/* Reads of a folder that changed while it was read, before the last one
 * is taken as it is. */
#define SCAN_ATTEMPTS 4

/* mtime of dir/sub in ns, 0 when missing; *recent_r set if it is fresh. */
static int64_t dir_stamp(const char *dir, const char *sub, gboolean *recent_r)
{
	g_autofree char *path = g_build_filename(dir, sub, NULL);
	struct stat sb;

	if (stat(path, &sb) != 0)
		return 0;
	if (time(NULL) - sb.st_mtim.tv_sec < STATE_SETTLE_SECONDS)
		*recent_r = TRUE;
	return (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
}

/* The modification times of a Maildir's new/ and cur/, in ns. */
static int64_t mail_stamp(const char *dir)
{
	gboolean recent;

	return dir_stamp(dir, "new", &recent) * 3 + dir_stamp(dir, "cur",
							      &recent);
}

/*
 * Scan a whole folder.  Replaces the folder's entry map, unless a scan
 * that began later did so first; `items` (may be NULL) receives the items.
 * Returns 0 or -errno.  Takes be->lock.
 *
 * Another writer may rename files meanwhile.  new/ is read before cur/,
 * so a message moving from new/ to cur/ (the usual way) is seen in one of
 * them; a folder whose directories changed during the scan is read again.
 */
static int scan_folder(struct mfs_backend *be, const char *folder,
		       GPtrArray *items)
{
	g_autofree char *dir = g_build_filename(be->root, folder, NULL);
	g_autoptr(GPtrArray) tmp = items ? NULL : g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_item_free);
	GHashTable *entries = NULL;
	enum mfs_folder_kind kind;
	uint64_t ticket;

	g_mutex_lock(&be->lock);
	struct local_folder *f = local_folder_get(be, folder);
	kind = f ? f->kind : MFS_FOLDER_NONE;
	ticket = f ? ++f->scans_begun : 0;
	g_mutex_unlock(&be->lock);
	if (!f)
		return -ENOENT;
	if (!items)
		items = tmp;
	for (int attempt = 0; attempt < SCAN_ATTEMPTS; attempt++) {
		int64_t before = kind == MFS_FOLDER_MAIL ? mail_stamp(dir) : 0;
		g_ptr_array_set_size(items, 0);
		if (entries)
			g_hash_table_unref(entries);
		entries = entries_new();
		if (kind == MFS_FOLDER_MAIL) {
			static const enum local_sub subs[] = { LOCAL_SUB_NEW,
							       LOCAL_SUB_CUR };
			for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
				g_autofree char *path = g_build_filename(
					dir, local_sub_name(subs[i]), NULL);
				int dfd = open(path, O_RDONLY | O_DIRECTORY |
					       O_CLOEXEC);
				if (dfd < 0)
					continue;
				scan_sub(dfd, subs[i], kind, folder, entries,
					 items);
				close(dfd);
			}
		} else {
			int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd >= 0) {
				scan_sub(dfd, LOCAL_SUB_DIR, kind, folder,
					 entries, items);
				close(dfd);
			}
		}
		if (kind != MFS_FOLDER_MAIL || mail_stamp(dir) == before)
			break;
	}
	g_mutex_lock(&be->lock);
	f = local_folder_get(be, folder);
	if (f && ticket > f->scan_shown) {
		g_hash_table_unref(f->entries);
		f->entries = entries;
		f->scan_shown = ticket;
		f->scanned = TRUE;
	} else {
		g_hash_table_unref(entries);
	}
	g_mutex_unlock(&be->lock);
	return f ? 0 : -ENOENT;
}

int local_sync(struct mfs_backend *be, const char *folder, const char *state,
	       struct mfs_sync_result **res_r, struct mfs_error *e)
{
	g_autofree char *dir = g_build_filename(be->root, folder, NULL);
	gboolean recent = FALSE, scanned;
	g_autofree char *now_state = NULL;
	enum mfs_folder_kind kind;
	int rc;

	g_mutex_lock(&be->lock);
	struct local_folder *f = local_folder_get(be, folder);
	kind = f ? f->kind : MFS_FOLDER_NONE;
	scanned = f && f->scanned;
	g_mutex_unlock(&be->lock);
	if (!f)
		return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "no folder %s in the store", folder);
	/* Only Maildir changes names on every change; a contacts file can be
	 * rewritten in place, so those folders are always read whole. */
	if (kind == MFS_FOLDER_MAIL) {
		int64_t c = dir_stamp(dir, "cur", &recent);
		int64_t n = dir_stamp(dir, "new", &recent);
		now_state = g_strdup_printf("m1:%" G_GINT64_FORMAT ":%"
					    G_GINT64_FORMAT, c, n);
	}
	struct mfs_sync_result *res = mfs_sync_result_new();
	if (scanned && state && now_state && !strcmp(state, now_state)) {
		res->state = g_steal_pointer(&now_state);
		*res_r = res;
		return 0;
	}
	rc = scan_folder(be, folder, res->changed);
	if (rc < 0) {
		mfs_sync_result_free(&res);
		return mfs_error_set(e, rc, MFS_ERR_FOLDER, MFS_ERR_TRANSIENT,
				     "reading folder %s: %s", folder,
				     g_strerror(-rc));
	}
	res->full = true;
	res->state = recent ? NULL : g_steal_pointer(&now_state);
	*res_r = res;
	return 0;
}

/* The path of an item, from the entry map (scanning once if unknown).
 * Caller owns the result; NULL when there is no such item. */
static char *item_path(struct mfs_backend *be, const char *folder,
		       const char *id, gboolean rescan,
		       enum local_sub *sub_r)
{
	char *path = NULL;

	if (rescan)
		scan_folder(be, folder, NULL);
	g_mutex_lock(&be->lock);
	struct local_folder *f = local_folder_get(be, folder);
	if (f && !f->scanned && !rescan) {
		g_mutex_unlock(&be->lock);
		return item_path(be, folder, id, TRUE, sub_r);
	}
	struct local_entry *en = f ? g_hash_table_lookup(f->entries, id) : NULL;
	if (en) {
		path = local_path(be, folder, local_sub_name(en->sub), en->file);
		if (sub_r)
			*sub_r = en->sub;
	}
	g_mutex_unlock(&be->lock);
	return path;
}

static int fetch_once(struct mfs_backend *be, const char *folder,
		      const char *id, int *fd_r, struct mfs_error *e)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		g_autofree char *path = item_path(be, folder, id, attempt > 0,
						  NULL);
		if (!path)
			break;
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			*fd_r = fd;
			return 0;
		}
		if (errno != ENOENT)
			return mfs_error_set(e, -errno, MFS_ERR_ITEM,
					     MFS_ERR_TRANSIENT, "%s: %s", path,
					     g_strerror(errno));
		/* renamed by another writer meanwhile: look again */
	}
	return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
			     "%s: no item %s", folder, id);
}

static enum mfs_folder_kind folder_kind(struct mfs_backend *be,
					const char *folder)
{
	g_mutex_lock(&be->lock);
	struct local_folder *f = local_folder_get(be, folder);
	enum mfs_folder_kind kind = f ? f->kind : MFS_FOLDER_NONE;
	g_mutex_unlock(&be->lock);
	return kind;
}

/*
 * Whether a message with unique part `id` is in `folder`: by the entry map,
 * read from disk if it never was, since a name that differs only in its
 * flags escapes RENAME_NOREPLACE.  Other writers' changes reach the map
 * through sync; unique parts made the Maildir way never collide anyway, so
 * this guards against hints that writers reuse.
 */
static gboolean id_taken(struct mfs_backend *be, const char *folder,
			 const char *id)
{
	gboolean taken, scanned;

	g_mutex_lock(&be->lock);
	struct local_folder *f = local_folder_get(be, folder);
	scanned = !f || f->scanned;
	g_mutex_unlock(&be->lock);
	if (!scanned)
		scan_folder(be, folder, NULL);
	g_mutex_lock(&be->lock);
	f = local_folder_get(be, folder);
	taken = f && g_hash_table_contains(f->entries, id);
	g_mutex_unlock(&be->lock);
	return taken;
}

static void remember(struct mfs_backend *be, const char *folder,
		     const char *id, enum local_sub sub, const char *file)
{
	g_mutex_lock(&be->lock);
	struct local_folder *f = local_folder_get(be, folder);
	if (f)
		g_hash_table_replace(f->entries, g_strdup(id),
				     entry_new(sub, file));
	g_mutex_unlock(&be->lock);
}

static void forget(struct mfs_backend *be, const char *folder, const char *id)
{
	g_mutex_lock(&be->lock);
	struct local_folder *f = local_folder_get(be, folder);
	if (f)
		g_hash_table_remove(f->entries, id);
	g_mutex_unlock(&be->lock);
}

/* A writer's id hint is used when it is a valid, unused unique part. */
static char *choose_id(struct mfs_backend *be, const char *folder,
		       const char *hint)
{
	char *id = NULL;
	uint64_t flags;

	if (hint && maildir_name_parse(hint, &id, &flags) == 0 &&
	    !strcmp(id, hint) && !strchr(id, '/') && strlen(id) < 200 &&
	    !id_taken(be, folder, id))
		return id;
	g_free(id);
	return maildir_unique_new();
}

/* Write the content of `in` to a new file `path`, durable, dated `date`;
 * *sb_r describes it (read before anyone else can see it, let alone move
 * it). */
static int write_file(const char *path, int in, int64_t date,
		      struct stat *sb_r)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc;

	if (fd < 0)
		return -errno;
	rc = file_copy_fd(in, fd);
	if (rc == 0 && date > 0) {
		struct timespec ts[2] = { { date, 0 }, { date, 0 } };
		if (futimens(fd, ts) != 0)
			rc = -errno;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (rc == 0 && fstat(fd, sb_r) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		unlink(path);
	return rc;
}

static int append_mail(struct mfs_backend *be, const char *folder, int in,
		       const char *hint, uint64_t flags, int64_t date,
		       struct mfs_item **item_r, struct mfs_error *e)
{
	g_autofree char *tmpdir = local_path(be, folder, "tmp", NULL);
	enum local_sub sub = (flags & MFS_FLAG_NEW) ? LOCAL_SUB_NEW
						     : LOCAL_SUB_CUR;
	int rc;

	if (mkdir(tmpdir, 0700) != 0 && errno != EEXIST)
		return mfs_error_set(e, -errno, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s: %s", tmpdir, g_strerror(errno));
	for (int attempt = 0; attempt < 8; attempt++) {
		g_autofree char *id = attempt ? maildir_unique_new()
					      : choose_id(be, folder, hint);
		g_autofree char *tmp = g_build_filename(tmpdir, id, NULL);
		g_autofree char *name = maildir_name_format(id, flags);
		g_autofree char *final = local_path(be, folder,
						    local_sub_name(sub), name);
		struct stat sb;

		rc = write_file(tmp, in, date, &sb);
		if (rc == -EEXIST)
			continue;
		if (rc < 0)
			return mfs_error_set(e, rc, MFS_ERR_ITEM,
					     rc == -ENOSPC ? MFS_ERR_BACKOFF
							   : MFS_ERR_FINAL,
					     "writing %s: %s", tmp,
					     g_strerror(-rc));
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final,
			      RENAME_NOREPLACE) != 0) {
			rc = -errno;
			unlink(tmp);
			if (rc == -EEXIST)
				continue;
			return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
					     "delivering %s: %s", final,
					     g_strerror(-rc));
		}
		g_autofree char *subdir = g_path_get_dirname(final);
		file_fsync_dir(subdir);
		/* not stat(final): a reader of new/ (an IMAP server, a mail
		 * reader) may have moved it to cur/ already */
		remember(be, folder, id, sub, name);
		*item_r = mfs_item_new(id, (uint64_t)sb.st_size,
				       sb.st_mtim.tv_sec, flags);
		return 0;
	}
	return mfs_error_set(e, -EEXIST, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
			     "no free name in %s", folder);
}

static int append_file(struct mfs_backend *be, const char *folder, int in,
		       const char *hint, enum mfs_folder_kind kind,
		       int64_t date, struct mfs_item **item_r,
		       struct mfs_error *e)
{
	g_autofree char *dir = g_build_filename(be->root, folder, NULL);
	g_autofree char *name = NULL;
	g_autofree char *tmp = NULL;
	g_autofree char *final = NULL;
	struct stat sb;
	int rc;

	if (hint && *hint && hint[0] != '.' && !strchr(hint, '/') &&
	    strlen(hint) <= 255) {
		name = g_strdup(hint);
	} else {
		g_autofree char *u = maildir_unique_new();
		name = g_strconcat(u, kind == MFS_FOLDER_CALENDAR ? ".ics"
								  : ".vcf",
				   NULL);
	}
	g_autofree char *u = maildir_unique_new();
	tmp = g_strdup_printf("%s/%s%s", dir, LOCAL_TMP_PREFIX, u);
	final = g_build_filename(dir, name, NULL);
	rc = write_file(tmp, in, date, &sb);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "writing %s: %s", tmp, g_strerror(-rc));
	/* a contact or event of the same name is replaced: that is an edit */
	if (rename(tmp, final) != 0) {
		rc = -errno;
		unlink(tmp);
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "storing %s: %s", final, g_strerror(-rc));
	}
	file_fsync_dir(dir);
	remember(be, folder, name, LOCAL_SUB_DIR, name);
	*item_r = mfs_item_new(name, (uint64_t)sb.st_size, sb.st_mtim.tv_sec,
			       0);
	return 0;
}

int local_append(struct mfs_backend *be, const char *folder, int fd,
		 const char *hint, uint64_t flags, int64_t date,
		 struct mfs_item **item_r, struct mfs_error *e)
{
	enum mfs_folder_kind kind = folder_kind(be, folder);

	switch (kind) {
	case MFS_FOLDER_MAIL:
		return append_mail(be, folder, fd, hint, flags, date, item_r,
				   e);
	case MFS_FOLDER_CONTACTS:
	case MFS_FOLDER_CALENDAR:
		return append_file(be, folder, fd, hint, kind, date, item_r, e);
	default:
		return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "no folder %s in the store", folder);
	}
}

static int set_flags_once(struct mfs_backend *be, const char *folder,
			  const char *id, uint64_t flags,
			  struct mfs_error *e)
{
	if (folder_kind(be, folder) != MFS_FOLDER_MAIL)
		return mfs_error_set(e, -ENOTSUP, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "only messages have flags");
	for (int attempt = 0; attempt < 2; attempt++) {
		g_autofree char *old = item_path(be, folder, id, attempt > 0,
						 NULL);
		enum local_sub sub = (flags & MFS_FLAG_NEW) ? LOCAL_SUB_NEW
							     : LOCAL_SUB_CUR;
		g_autofree char *name = maildir_name_format(id, flags);
		g_autofree char *final = local_path(be, folder,
						    local_sub_name(sub), name);

		if (!old)
			break;
		if (!strcmp(old, final))
			return 0;
		if (rename(old, final) == 0) {
			g_autofree char *subdir = g_path_get_dirname(final);
			file_fsync_dir(subdir);
			remember(be, folder, id, sub, name);
			return 0;
		}
		if (errno != ENOENT)
			return mfs_error_set(e, -errno, MFS_ERR_ITEM,
					     MFS_ERR_TRANSIENT, "%s: %s", old,
					     g_strerror(errno));
	}
	return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
			     "%s: no message %s", folder, id);
}

static int remove_once(struct mfs_backend *be, const char *folder,
		       const char *id, struct mfs_error *e)
{
	enum mfs_folder_kind kind = folder_kind(be, folder);

	for (int attempt = 0; attempt < 2; attempt++) {
		g_autofree char *path = item_path(be, folder, id, attempt > 0,
						  NULL);
		if (!path)
			break;
		g_autofree char *dir = g_path_get_dirname(path);
		int rc = local_keep_kind(dir, kind);
		if (rc < 0)
			return mfs_error_set(e, rc, MFS_ERR_FOLDER,
					     MFS_ERR_TRANSIENT, "%s: cannot "
					     "record the folder's kind", dir);
		if (unlink(path) == 0) {
			file_fsync_dir(dir);
			forget(be, folder, id);
			return 0;
		}
		if (errno != ENOENT)
			return mfs_error_set(e, -errno, MFS_ERR_ITEM,
					     MFS_ERR_TRANSIENT, "%s: %s", path,
					     g_strerror(errno));
	}
	return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
			     "%s: no item %s", folder, id);
}

static int move_once(struct mfs_backend *be, const char *folder,
		     const char *id, const char *dest, uint64_t flags,
		     struct mfs_item **item_r, struct mfs_error *e)
{
	enum mfs_folder_kind skind = folder_kind(be, folder);
	enum mfs_folder_kind dkind = folder_kind(be, dest);

	if (dkind == MFS_FOLDER_NONE)
		return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "no folder %s in the store", dest);
	if (skind != dkind)
		return mfs_error_set(e, -EXDEV, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "cannot move a %s item into a %s folder",
				     mfs_folder_kind_name(skind),
				     mfs_folder_kind_name(dkind));
	for (int attempt = 0; attempt < 3; attempt++) {
		g_autofree char *src = item_path(be, folder, id, attempt == 1,
						 NULL);
		gboolean taken = attempt == 2 || id_taken(be, dest, id);
		g_autofree char *nid = NULL;
		enum local_sub sub = skind != MFS_FOLDER_MAIL ? LOCAL_SUB_DIR
			: (flags & MFS_FLAG_NEW) ? LOCAL_SUB_NEW : LOCAL_SUB_CUR;
		g_autofree char *name = NULL;
		struct stat sb;

		if (!src)
			break;
		/* a contact keeps its name; a message may take a new one */
		if (taken && skind != MFS_FOLDER_MAIL)
			return mfs_error_set(e, -EEXIST, MFS_ERR_ITEM,
					     MFS_ERR_FINAL, "%s/%s exists",
					     dest, id);
		nid = taken ? maildir_unique_new() : g_strdup(id);
		name = skind == MFS_FOLDER_MAIL ? maildir_name_format(nid, flags)
						: g_strdup(nid);
		g_autofree char *dst = local_path(be, dest,
						  local_sub_name(sub), name);
		if (renameat2(AT_FDCWD, src, AT_FDCWD, dst,
			      RENAME_NOREPLACE) != 0) {
			if (errno == ENOENT || errno == EEXIST)
				continue;
			return mfs_error_set(e, -errno, MFS_ERR_ITEM,
					     MFS_ERR_FINAL, "moving %s: %s",
					     src, g_strerror(errno));
		}
		g_autofree char *sdir = g_path_get_dirname(src);
		g_autofree char *ddir = g_path_get_dirname(dst);
		file_fsync_dir(ddir);
		file_fsync_dir(sdir);
		forget(be, folder, id);
		remember(be, dest, nid, sub, name);
		if (stat(dst, &sb) != 0)
			return mfs_error_set(e, -errno, MFS_ERR_ITEM,
					     MFS_ERR_TRANSIENT, "%s: %s", dst,
					     g_strerror(errno));
		*item_r = mfs_item_new(nid, (uint64_t)sb.st_size,
				       sb.st_mtim.tv_sec,
				       skind == MFS_FOLDER_MAIL ? flags : 0);
		return 0;
	}
	return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
			     "%s: no item %s", folder, id);
}

static int copy_once(struct mfs_backend *be, const char *folder,
		     const char *id, const char *dest, uint64_t flags,
		     struct mfs_item **item_r, struct mfs_error *e)
{
	struct stat sb;
	int fd, rc;

	if ((rc = fetch_once(be, folder, id, &fd, e)) < 0)
		return rc;
	if (fstat(fd, &sb) != 0)
		sb.st_mtim.tv_sec = 0;
	rc = local_append(be, dest, fd, id, flags, sb.st_mtim.tv_sec, item_r,
			  e);
	close(fd);
	return rc;
}

/*
 * Another writer renaming a message (its flags in cur/, or new/ to cur/,
 * as any IMAP server or mail reader does) can hide it for a moment from
 * both the entry map and the fresh scan that the calls above make when
 * the name they knew is gone: the scan may pass the new name before it
 * appears and the old one after it went.  So a call on a message of a
 * mail folder that comes back -ENOENT is made again a few times, waiting
 * a little longer each time (about a quarter of a second in all), before
 * the message is believed gone.  Contacts and calendar files keep their
 * names (an edit replaces the file in one rename), so nothing hides them.
 */
static const unsigned renamed_wait_ms[] = { 0, 2, 10, 50, 200 };

/* Whether to make a call again after `rc`; *attempt starts at 0. */
static bool renamed_meanwhile(struct mfs_backend *be, const char *folder,
			      int rc, unsigned *attempt)
{
	if (rc != -ENOENT || *attempt >= G_N_ELEMENTS(renamed_wait_ms) ||
	    folder_kind(be, folder) != MFS_FOLDER_MAIL)
		return false;
	if (renamed_wait_ms[*attempt])
		g_usleep(renamed_wait_ms[*attempt] * 1000);
	(*attempt)++;
	return true;
}

/* The result of `call`, made again while renamed_meanwhile() says so. */
#define AGAIN_IF_RENAMED(be, folder, call) ({				\
	unsigned attempt_ = 0;						\
	int rc_;							\
	do								\
		rc_ = (call);						\
	while (renamed_meanwhile((be), (folder), rc_, &attempt_));	\
	rc_;								\
})

int local_fetch(struct mfs_backend *be, const char *folder, const char *id,
		int *fd_r, struct mfs_error *e)
{
	return AGAIN_IF_RENAMED(be, folder,
				fetch_once(be, folder, id, fd_r, e));
}

int local_set_flags(struct mfs_backend *be, const char *folder,
		    const char *id, uint64_t flags, struct mfs_error *e)
{
	return AGAIN_IF_RENAMED(be, folder,
				set_flags_once(be, folder, id, flags, e));
}

int local_remove(struct mfs_backend *be, const char *folder, const char *id,
		 struct mfs_error *e)
{
	return AGAIN_IF_RENAMED(be, folder, remove_once(be, folder, id, e));
}

/*
 * A message's keyword letters name keywords through its folder's
 * dovecot-keywords (maildir-name.h): the same letter may mean another
 * keyword in `dest`.  `flags` as letters of `dest`, the names added there
 * when missing.  Returns 0 or -errno with the reason in *e.
 */
static int keywords_for(struct mfs_backend *be, const char *folder,
			const char *dest, uint64_t *flags, struct mfs_error *e)
{
	if (!(*flags & MAILDIR_KEYWORD_BITS) || !strcmp(folder, dest) ||
	    folder_kind(be, folder) != MFS_FOLDER_MAIL ||
	    folder_kind(be, dest) != MFS_FOLDER_MAIL)
		return 0;
	g_autofree char *sdir = local_path(be, folder, NULL, NULL);
	g_autofree char *ddir = local_path(be, dest, NULL, NULL);
	int rc = maildir_keywords_remap(sdir, ddir, *flags, flags);

	if (rc == -ENOSPC)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "folder %s has no free letter for a "
				     "keyword of the message (at most %d "
				     "keywords a folder)", dest,
				     MAILDIR_KEYWORDS_MAX);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
				     "keywords of folder %s: %s", dest,
				     g_strerror(-rc));
	return 0;
}

int local_move(struct mfs_backend *be, const char *folder, const char *id,
	       const char *dest, uint64_t flags, struct mfs_item **item_r,
	       struct mfs_error *e)
{
	int rc = keywords_for(be, folder, dest, &flags, e);

	if (rc < 0)
		return rc;
	return AGAIN_IF_RENAMED(be, folder, move_once(be, folder, id, dest,
						      flags, item_r, e));
}

int local_copy(struct mfs_backend *be, const char *folder, const char *id,
	       const char *dest, uint64_t flags, struct mfs_item **item_r,
	       struct mfs_error *e)
{
	int rc = keywords_for(be, folder, dest, &flags, e);

	if (rc < 0)
		return rc;
	return AGAIN_IF_RENAMED(be, folder, copy_once(be, folder, id, dest,
						      flags, item_r, e));
}
