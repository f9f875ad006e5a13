/*
 * test-local-store.c - the embedded store, driven only through the backend
 * interface (protocols/backend.h), on a fresh directory per test.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "backend.h"
#include "mail-header.h"

#define KIND_FILE ".mailfs-folder"

/* ---- helpers ---- */

static int rm_entry(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	return remove(path);
}

struct fixture {
	char *dir;		/* owned; the store, removed afterwards */
	struct mfs_store st;	/* open while `opened` */
	gboolean opened;
};

static void fixture_set_up(struct fixture *fx, gconstpointer data)
{
	GError *err = NULL;

	fx->dir = g_dir_make_tmp("mailfs-store-XXXXXX", &err);
	g_assert_no_error(err);
	fx->opened = FALSE;
}

static void fixture_tear_down(struct fixture *fx, gconstpointer data)
{
	if (fx->opened)
		mfs_store_close(&fx->st);
	nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	g_free(fx->dir);
}

static void store_open(struct fixture *fx)
{
	struct mfs_account acct = { .name = "t", .type = "local",
				    .store = fx->dir };
	GError *err = NULL;

	g_assert_cmpint(mfs_store_open(&acct, &fx->st, &err), ==, 0);
	g_assert_no_error(err);
	g_assert_nonnull(fx->st.ops);
	fx->opened = TRUE;
}

static void store_close(struct fixture *fx)
{
	mfs_store_close(&fx->st);
	fx->opened = FALSE;
}

/* A path inside the store.  Caller owns the result. */
static char *sp(struct fixture *fx, const char *rel)
{
	return g_build_filename(fx->dir, rel, NULL);
}

static void mkdirs(struct fixture *fx, const char *rel)
{
	g_autofree char *p = sp(fx, rel);

	g_assert_cmpint(g_mkdir_with_parents(p, 0700), ==, 0);
}

static void put(struct fixture *fx, const char *rel, const char *text,
		time_t mtime)
{
	g_autofree char *p = sp(fx, rel);
	GError *err = NULL;

	g_file_set_contents(p, text, -1, &err);
	g_assert_no_error(err);
	if (mtime) {
		struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
		g_assert_cmpint(utimensat(AT_FDCWD, p, ts, 0), ==, 0);
	}
}

static gboolean exists(struct fixture *fx, const char *rel)
{
	g_autofree char *p = sp(fx, rel);
	struct stat sb;

	return lstat(p, &sb) == 0;
}

static char *slurp(struct fixture *fx, const char *rel)
{
	g_autofree char *p = sp(fx, rel);
	GError *err = NULL;
	char *text = NULL;

	g_file_get_contents(p, &text, NULL, &err);
	g_assert_no_error(err);
	return text;
}

static time_t mtime_of(struct fixture *fx, const char *rel)
{
	g_autofree char *p = sp(fx, rel);
	struct stat sb;

	g_assert_cmpint(stat(p, &sb), ==, 0);
	return sb.st_mtim.tv_sec;
}

/* Put a mail folder's cur/ and new/ 10 s into the past, so that their
 * mtimes can vouch for "nothing changed". */
static void settle(struct fixture *fx, const char *folder)
{
	static const char *const subs[] = { "cur", "new" };
	time_t then = time(NULL) - 10;
	struct timespec ts[2] = { { then, 0 }, { then, 0 } };

	for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
		g_autofree char *p = g_build_filename(fx->dir, folder, subs[i],
						      NULL);
		g_assert_cmpint(utimensat(AT_FDCWD, p, ts, 0), ==, 0);
	}
}

static int cmp_str_ptr(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in a directory of the store, sorted, without dot-names. */
static GPtrArray *names_in(struct fixture *fx, const char *rel)
{
	g_autofree char *p = sp(fx, rel);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GDir *d = g_dir_open(p, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		if (name[0] != '.')
			g_ptr_array_add(names, g_strdup(name));
	}
	g_dir_close(d);
	g_ptr_array_sort(names, cmp_str_ptr);
	return names;
}

/* An unlinked file holding `text`, for append().  Caller closes it. */
static int content_fd(const char *text)
{
	int fd = memfd_create("content", MFD_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, text, strlen(text)), ==,
			(ssize_t)strlen(text));
	/* append() reads from offset 0 whatever the file offset is */
	return fd;
}

static char *read_all(int fd)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	off_t off = 0;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		g_string_append_len(s, buf, n);
		off += n;
	}
	g_assert_cmpint(n, ==, 0);
	return g_string_free(s, FALSE);
}

static char *fetch(struct fixture *fx, const char *folder, const char *id)
{
	struct mfs_error e = { 0 };
	int fd = -1;

	g_assert_cmpint(mfs_store_fetch(&fx->st, folder, id, &fd, &e), ==, 0);
	char *text = read_all(fd);
	close(fd);
	return text;
}

static struct mfs_item *append(struct fixture *fx, const char *folder,
			       const char *text, const char *hint,
			       uint64_t flags, int64_t date)
{
	struct mfs_item *it = NULL;
	struct mfs_error e = { 0 };
	int fd = content_fd(text);
	int rc = mfs_store_append(&fx->st, folder, fd, hint, flags, date, &it,
				  &e);

	if (rc < 0)
		g_test_message("append: %s", e.msg);
	g_assert_cmpint(rc, ==, 0);
	close(fd);
	g_assert_nonnull(it);
	return it;
}

static struct mfs_sync_result *sync_folder(struct fixture *fx,
					   const char *folder,
					   const char *state)
{
	struct mfs_sync_result *res = NULL;
	struct mfs_error e = { 0 };

	g_assert_cmpint(mfs_store_sync(&fx->st, folder, state, &res, &e), ==,
			0);
	g_assert_nonnull(res);
	return res;
}

/* Borrowed from `res`; NULL if absent. */
static struct mfs_item *find_item(struct mfs_sync_result *res, const char *id)
{
	for (guint i = 0; i < res->changed->len; i++) {
		struct mfs_item *it = res->changed->pdata[i];
		if (!strcmp(it->id, id))
			return it;
	}
	return NULL;
}

static GPtrArray *list_folders(struct fixture *fx)
{
	GPtrArray *folders = NULL;
	struct mfs_error e = { 0 };

	g_assert_cmpint(mfs_store_list_folders(&fx->st, &folders, &e), ==, 0);
	g_assert_nonnull(folders);
	return folders;
}

/* The kind of `path` in `folders`, or -1 when it is not listed. */
static int kind_in(GPtrArray *folders, const char *path)
{
	for (guint i = 0; i < folders->len; i++) {
		struct mfs_folder_info *fi = folders->pdata[i];
		if (!strcmp(fi->path, path))
			return (int)fi->kind;
	}
	return -1;
}

static void assert_parents_first(GPtrArray *folders)
{
	for (guint i = 0; i < folders->len; i++) {
		struct mfs_folder_info *fi = folders->pdata[i];
		g_autofree char *parent = g_path_get_dirname(fi->path);

		if (!strcmp(parent, "."))
			continue;
		gboolean before = FALSE;
		for (guint j = 0; j < i; j++) {
			struct mfs_folder_info *p = folders->pdata[j];
			before = before || !strcmp(p->path, parent);
		}
		g_assert_true(before);
	}
}

static void make_maildir(struct fixture *fx, const char *folder)
{
	static const char *const subs[] = { "cur", "new", "tmp" };

	for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
		g_autofree char *p = g_build_filename(folder, subs[i], NULL);
		mkdirs(fx, p);
	}
}

static void create_folder(struct fixture *fx, const char *path,
			  enum mfs_folder_kind kind)
{
	struct mfs_error e = { 0 };
	int rc = mfs_store_create_folder(&fx->st, path, kind, &e);

	if (rc < 0)
		g_test_message("create_folder %s: %s", path, e.msg);
	g_assert_cmpint(rc, ==, 0);
}

/* ---- opening ---- */

static void test_seed(struct fixture *fx, gconstpointer data)
{
	store_open(fx);

	g_autoptr(GPtrArray) folders = list_folders(fx);
	g_assert_cmpuint(folders->len, ==, 3);
	g_assert_cmpint(kind_in(folders, "INBOX"), ==, MFS_FOLDER_MAIL);
	g_assert_cmpint(kind_in(folders, "Contacts"), ==, MFS_FOLDER_CONTACTS);
	g_assert_cmpint(kind_in(folders, "Calendar"), ==, MFS_FOLDER_CALENDAR);
	g_assert_true(exists(fx, "INBOX/tmp"));

	g_autoptr(GPtrArray) cur = names_in(fx, "INBOX/cur");
	g_autoptr(GPtrArray) fresh = names_in(fx, "INBOX/new");
	g_assert_cmpuint(cur->len, ==, 0);
	g_assert_cmpuint(fresh->len, ==, 1);

	struct mfs_sync_result *res = sync_folder(fx, "INBOX", NULL);
	g_assert_true(res->full);
	g_assert_cmpuint(res->changed->len, ==, 1);
	struct mfs_item *it = res->changed->pdata[0];
	g_assert_cmpstr(it->id, ==, fresh->pdata[0]);
	g_assert_cmphex(it->flags, ==, MFS_FLAG_NEW);

	g_autofree char *text = fetch(fx, "INBOX", it->id);
	g_autofree char *subject = NULL;
	g_assert_cmpuint(strlen(text), ==, it->size);
	g_assert_cmpint(mail_header_get(text, strlen(text), "Subject",
					&subject), ==, 0);
	g_assert_cmpstr(subject, ==, "Welcome to mailfs");
	g_assert_nonnull(strstr(text, "\r\n\r\n"));
	mfs_sync_result_free(&res);

	res = sync_folder(fx, "Contacts", NULL);
	g_assert_cmpuint(res->changed->len, ==, 0);
	mfs_sync_result_free(&res);
	res = sync_folder(fx, "Calendar", NULL);
	g_assert_cmpuint(res->changed->len, ==, 0);
	mfs_sync_result_free(&res);

	/* a second open finds the store and does not seed it again */
	store_close(fx);
	store_open(fx);
	g_autoptr(GPtrArray) again = names_in(fx, "INBOX/new");
	g_assert_cmpuint(again->len, ==, 1);
}

static void test_no_seed(struct fixture *fx, gconstpointer data)
{
	put(fx, "notes.txt", "mine\n", 0);
	store_open(fx);

	g_autoptr(GPtrArray) folders = list_folders(fx);
	g_assert_cmpuint(folders->len, ==, 0);
	g_assert_false(exists(fx, "INBOX"));
	g_assert_false(exists(fx, "Contacts"));
	g_autoptr(GPtrArray) names = names_in(fx, ".");
	g_assert_cmpuint(names->len, ==, 1);
	g_assert_cmpstr(names->pdata[0], ==, "notes.txt");
}

/* A store directory that does not exist yet is made, then seeded. */
static void test_open_creates(struct fixture *fx, gconstpointer data)
{
	g_autofree char *store = sp(fx, "a/b/store");
	struct mfs_account acct = { .name = "t", .type = "local",
				    .store = store };
	struct mfs_store st;
	GError *err = NULL;

	g_assert_cmpint(mfs_store_open(&acct, &st, &err), ==, 0);
	g_assert_no_error(err);
	g_assert_true(exists(fx, "a/b/store/INBOX/cur"));
	mfs_store_close(&st);
}

static void test_open_under_file(struct fixture *fx, gconstpointer data)
{
	g_autofree char *file = sp(fx, "file");
	g_autofree char *below = sp(fx, "file/store");
	const char *paths[] = { below, file };

	put(fx, "file", "x", 0);
	for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
		struct mfs_account acct = { .name = "t", .type = "local",
					    .store = paths[i] };
		struct mfs_store st;
		GError *err = NULL;

		g_test_message("store %s", paths[i]);
		g_assert_cmpint(mfs_store_open(&acct, &st, &err), ==,
				-ENOTDIR);
		g_assert_nonnull(err);
		g_assert_nonnull(strstr(err->message, paths[i]));
		g_assert_null(st.ops);
		g_error_free(err);
	}
}

/* Root ignores file modes, so a store root cannot write to is in /proc. */
static void test_open_read_only(struct fixture *fx, gconstpointer data)
{
	static const char *const paths[] = { "/proc", "/proc/sys",
					     "/proc/mailfs-no-such/store" };

	for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
		struct mfs_account acct = { .name = "t", .type = "local",
					    .store = paths[i] };
		struct mfs_store st;
		GError *err = NULL;

		g_test_message("store %s", paths[i]);
		g_assert_cmpint(mfs_store_open(&acct, &st, &err), <, 0);
		g_assert_nonnull(err);
		g_test_message("  %s", err->message);
		g_assert_nonnull(strstr(err->message, paths[i]));
		g_assert_null(st.ops);
		g_error_free(err);
	}
}

/* ---- folders ---- */

static void test_list_folders(struct fixture *fx, gconstpointer data)
{
	static const struct {
		const char *path;
		int kind;	/* -1: must not be listed */
	} want[] = {
		{ "Mail", MFS_FOLDER_MAIL },
		{ "Mail/Sub", MFS_FOLDER_MAIL },
		{ "Mail/cur", -1 },
		{ "Mail/new", -1 },
		{ "Mail/tmp", -1 },
		{ "Mail/cur/odd", -1 },
		{ "Mail/.dot", -1 },
		{ "People", MFS_FOLDER_CONTACTS },
		{ "Events", MFS_FOLDER_CALENDAR },
		{ "TypedCal", MFS_FOLDER_CALENDAR },
		{ "TypedCards", MFS_FOLDER_CONTACTS },
		{ "Plain", MFS_FOLDER_NONE },
		{ "Plain/Inner", MFS_FOLDER_NONE },
		{ "Plain/Inner/Leaf", MFS_FOLDER_MAIL },
		{ "Both", MFS_FOLDER_MAIL },
		{ ".hidden", -1 },
		{ ".hidden/Sub", -1 },
		{ "cur", -1 },
		{ "new", -1 },
		{ "tmp", -1 },
		{ "file.txt", -1 },
		{ "People/ann.vcf", -1 },
	};

	make_maildir(fx, "Mail");
	make_maildir(fx, "Mail/Sub");
	mkdirs(fx, "Mail/cur/odd");
	make_maildir(fx, "Mail/.dot");
	mkdirs(fx, "People");
	put(fx, "People/ann.vcf", "BEGIN:VCARD\r\nEND:VCARD\r\n", 0);
	mkdirs(fx, "Events");
	put(fx, "Events/a.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", 0);
	mkdirs(fx, "TypedCal");
	put(fx, "TypedCal/" KIND_FILE, "calendar\n", 0);
	mkdirs(fx, "TypedCards");
	put(fx, "TypedCards/" KIND_FILE, "contacts\n", 0);
	make_maildir(fx, "Plain/Inner/Leaf");
	make_maildir(fx, "Both");
	put(fx, "Both/x.vcf", "", 0);
	make_maildir(fx, ".hidden");
	make_maildir(fx, ".hidden/Sub");
	mkdirs(fx, "cur");
	mkdirs(fx, "new");
	mkdirs(fx, "tmp");
	put(fx, "file.txt", "", 0);

	store_open(fx);
	g_autoptr(GPtrArray) folders = list_folders(fx);
	for (guint i = 0; i < folders->len; i++) {
		struct mfs_folder_info *fi = folders->pdata[i];
		g_test_message("listed %s (%s)", fi->path,
			       mfs_folder_kind_name(fi->kind));
	}
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		g_test_message("folder %s", want[i].path);
		g_assert_cmpint(kind_in(folders, want[i].path), ==,
				want[i].kind);
	}
	g_assert_cmpuint(folders->len, ==, 10);
	assert_parents_first(folders);
}

/* A dot-directory (.notmuch, the embedded server's .mailfs-serve) is
 * never a folder, even asked for by name and holding a cur/: every server
 * reaches folders through the store, so none of them serves it. */
static void test_dot_dirs_are_no_folders(struct fixture *fx,
					 gconstpointer data)
{
	static const char *const refused[] = {
		".notmuch", ".notmuch/xapian", "INBOX/.hidden", "../outside",
		"INBOX/../.notmuch", "", "/INBOX",
	};
	struct mfs_sync_result *res = NULL;
	struct mfs_error e = { 0 };

	make_maildir(fx, "INBOX");
	make_maildir(fx, ".notmuch");
	make_maildir(fx, ".notmuch/xapian");
	make_maildir(fx, "INBOX/.hidden");
	put(fx, ".notmuch/cur/1700000000.M1P1Q1.x:2,S", "Subject: x\r\n\r\n",
	    0);
	store_open(fx);
	g_autoptr(GPtrArray) folders = list_folders(fx);
	g_assert_cmpuint(folders->len, ==, 1);
	g_assert_cmpint(kind_in(folders, "INBOX"), ==, MFS_FOLDER_MAIL);
	for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_test_message("folder '%s'", refused[i]);
		g_assert_cmpint(mfs_store_sync(&fx->st, refused[i], NULL, &res,
					       &e), ==, -ENOENT);
		g_assert_null(res);
	}
	res = sync_folder(fx, "INBOX", NULL);
	g_assert_cmpuint(res->changed->len, ==, 0);
	mfs_sync_result_free(&res);
}

static void test_create_folder(struct fixture *fx, gconstpointer data)
{
	static const struct {
		const char *path;
		enum mfs_folder_kind kind;
		int rc;
	} bad[] = {
		{ "INBOX/cur", MFS_FOLDER_MAIL, -EEXIST },
		{ "INBOX/new", MFS_FOLDER_MAIL, -EEXIST },
		{ "INBOX/tmp", MFS_FOLDER_NONE, -EEXIST },
		{ "INBOX", MFS_FOLDER_MAIL, -EEXIST },
		{ "Work", MFS_FOLDER_MAIL, -EEXIST },
		{ ".x", MFS_FOLDER_MAIL, -EINVAL },
		{ "A/.x", MFS_FOLDER_MAIL, -EINVAL },
		{ "..", MFS_FOLDER_MAIL, -EINVAL },
		{ "a//b", MFS_FOLDER_MAIL, -EINVAL },
		{ "Dir", MFS_FOLDER_DIRECTORY, -ENOTSUP },
	};
	struct mfs_error e = { 0 };

	store_open(fx);
	create_folder(fx, "Work", MFS_FOLDER_MAIL);
	g_assert_true(exists(fx, "Work/cur"));
	g_assert_true(exists(fx, "Work/new"));
	g_assert_true(exists(fx, "Work/tmp"));

	create_folder(fx, "A/B/C", MFS_FOLDER_MAIL);
	g_assert_true(exists(fx, "A/B/C/cur"));
	create_folder(fx, "Work/Sub", MFS_FOLDER_MAIL);
	create_folder(fx, "People", MFS_FOLDER_CONTACTS);
	create_folder(fx, "Dates", MFS_FOLDER_CALENDAR);
	create_folder(fx, "Holder", MFS_FOLDER_NONE);
	g_autofree char *kind = slurp(fx, "People/" KIND_FILE);
	g_assert_cmpstr(kind, ==, "contacts\n");

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("create '%s'", bad[i].path);
		memset(&e, 0, sizeof(e));
		g_assert_cmpint(mfs_store_create_folder(&fx->st, bad[i].path,
							bad[i].kind, &e), ==,
				bad[i].rc);
		g_assert_cmpstr(e.msg, !=, "");
	}
	g_assert_false(exists(fx, ".x"));
	g_assert_false(exists(fx, "A/.x"));
	g_assert_false(exists(fx, "Dir"));

	g_autoptr(GPtrArray) folders = list_folders(fx);
	g_assert_cmpint(kind_in(folders, "Work"), ==, MFS_FOLDER_MAIL);
	g_assert_cmpint(kind_in(folders, "Work/Sub"), ==, MFS_FOLDER_MAIL);
	g_assert_cmpint(kind_in(folders, "A"), ==, MFS_FOLDER_NONE);
	g_assert_cmpint(kind_in(folders, "A/B"), ==, MFS_FOLDER_NONE);
	g_assert_cmpint(kind_in(folders, "A/B/C"), ==, MFS_FOLDER_MAIL);
	g_assert_cmpint(kind_in(folders, "People"), ==, MFS_FOLDER_CONTACTS);
	g_assert_cmpint(kind_in(folders, "Dates"), ==, MFS_FOLDER_CALENDAR);
	g_assert_cmpint(kind_in(folders, "Holder"), ==, MFS_FOLDER_NONE);
	g_assert_cmpint(kind_in(folders, "Work/cur"), ==, -1);
	assert_parents_first(folders);

	/* a new folder takes items at once */
	struct mfs_item *it = append(fx, "A/B/C", "x", NULL, 0, 0);
	mfs_item_free(it);
	it = append(fx, "Dates", "BEGIN:VCALENDAR\r\n", NULL, 0, 0);
	g_assert_true(g_str_has_suffix(it->id, ".ics"));
	mfs_item_free(it);
}

static void test_rename_folder(struct fixture *fx, gconstpointer data)
{
	struct mfs_error e = { 0 };

	store_open(fx);
	create_folder(fx, "Old", MFS_FOLDER_MAIL);
	create_folder(fx, "Old/Sub", MFS_FOLDER_MAIL);
	create_folder(fx, "Old/Sub/Deeper", MFS_FOLDER_MAIL);
	create_folder(fx, "Older", MFS_FOLDER_MAIL);
	struct mfs_item *it = append(fx, "Old/Sub", "sub message", NULL,
				     MFS_FLAG_SEEN, 1600000000);
	struct mfs_sync_result *res = sync_folder(fx, "Old/Sub", NULL);
	mfs_sync_result_free(&res);

	g_assert_cmpint(mfs_store_rename_folder(&fx->st, "Old", "New", &e), ==,
			0);
	g_assert_false(exists(fx, "Old"));
	g_assert_true(exists(fx, "New/Sub/cur"));

	g_autoptr(GPtrArray) folders = list_folders(fx);
	g_assert_cmpint(kind_in(folders, "New"), ==, MFS_FOLDER_MAIL);
	g_assert_cmpint(kind_in(folders, "New/Sub"), ==, MFS_FOLDER_MAIL);
	g_assert_cmpint(kind_in(folders, "New/Sub/Deeper"), ==,
			MFS_FOLDER_MAIL);
	g_assert_cmpint(kind_in(folders, "Old"), ==, -1);
	g_assert_cmpint(kind_in(folders, "Old/Sub"), ==, -1);
	/* a folder whose name only starts the same is left alone */
	g_assert_cmpint(kind_in(folders, "Older"), ==, MFS_FOLDER_MAIL);

	res = sync_folder(fx, "New/Sub", NULL);
	g_assert_cmpuint(res->changed->len, ==, 1);
	g_assert_nonnull(find_item(res, it->id));
	mfs_sync_result_free(&res);
	g_autofree char *text = fetch(fx, "New/Sub", it->id);
	g_assert_cmpstr(text, ==, "sub message");

	g_assert_cmpint(mfs_store_sync(&fx->st, "Old/Sub", NULL, &res, &e), ==,
			-ENOENT);
	g_assert_null(res);

	/* into a deeper place whose parents do not exist yet */
	g_assert_cmpint(mfs_store_rename_folder(&fx->st, "New/Sub",
						"Far/Away/Sub", &e), ==, 0);
	g_assert_true(exists(fx, "Far/Away/Sub/Deeper/cur"));
	g_autofree char *moved = fetch(fx, "Far/Away/Sub", it->id);
	g_assert_cmpstr(moved, ==, "sub message");

	/* failures leave both sides as they were */
	g_assert_cmpint(mfs_store_rename_folder(&fx->st, "Older", "INBOX", &e),
			==, -EEXIST);
	g_assert_true(exists(fx, "Older/cur"));
	g_assert_cmpint(mfs_store_rename_folder(&fx->st, "Nowhere", "X", &e),
			==, -ENOENT);
	g_assert_cmpint(mfs_store_rename_folder(&fx->st, "Older", ".x", &e),
			==, -EINVAL);
	g_assert_cmpint(mfs_store_rename_folder(&fx->st, "Older", "INBOX/new",
						&e), ==, -EEXIST);
	g_assert_true(exists(fx, "Older/cur"));
	mfs_item_free(it);
}

static void test_delete_folder(struct fixture *fx, gconstpointer data)
{
	struct mfs_error e = { 0 };

	store_open(fx);
	create_folder(fx, "Full", MFS_FOLDER_MAIL);
	struct mfs_item *it = append(fx, "Full", "keep me", NULL,
				     MFS_FLAG_SEEN, 0);
	create_folder(fx, "FullNew", MFS_FOLDER_MAIL);
	struct mfs_item *nit = append(fx, "FullNew", "keep me too", NULL,
				      MFS_FLAG_NEW, 0);
	create_folder(fx, "Parent", MFS_FOLDER_MAIL);
	create_folder(fx, "Parent/Child", MFS_FOLDER_MAIL);
	create_folder(fx, "Cards", MFS_FOLDER_CONTACTS);
	struct mfs_item *card = append(fx, "Cards", "BEGIN:VCARD\r\n",
				       "ann.vcf", 0, 0);

	static const char *const busy[] = { "Full", "FullNew", "Parent",
					    "Cards", "INBOX" };
	for (size_t i = 0; i < G_N_ELEMENTS(busy); i++) {
		g_test_message("delete %s", busy[i]);
		memset(&e, 0, sizeof(e));
		g_assert_cmpint(mfs_store_delete_folder(&fx->st, busy[i], &e),
				==, -ENOTEMPTY);
		g_assert_cmpstr(e.msg, !=, "");
	}
	/* everything is as it was */
	g_assert_true(exists(fx, "Full/cur"));
	g_assert_true(exists(fx, "Full/new"));
	g_assert_true(exists(fx, "Full/tmp"));
	g_assert_true(exists(fx, "FullNew/cur"));
	g_assert_true(exists(fx, "FullNew/tmp"));
	g_assert_true(exists(fx, "Parent/tmp"));
	g_assert_true(exists(fx, "Cards/" KIND_FILE));
	g_autofree char *text = fetch(fx, "Full", it->id);
	g_assert_cmpstr(text, ==, "keep me");
	g_autofree char *ntext = fetch(fx, "FullNew", nit->id);
	g_assert_cmpstr(ntext, ==, "keep me too");
	g_autoptr(GPtrArray) folders = list_folders(fx);
	g_assert_cmpint(kind_in(folders, "Full"), ==, MFS_FOLDER_MAIL);
	g_assert_cmpint(kind_in(folders, "FullNew"), ==, MFS_FOLDER_MAIL);
	g_assert_cmpint(kind_in(folders, "Parent"), ==, MFS_FOLDER_MAIL);
	g_assert_cmpint(kind_in(folders, "Cards"), ==, MFS_FOLDER_CONTACTS);

	/* empty folders go */
	create_folder(fx, "Empty", MFS_FOLDER_MAIL);
	create_folder(fx, "EmptyCards", MFS_FOLDER_CONTACTS);
	create_folder(fx, "EmptyPlain", MFS_FOLDER_NONE);
	static const char *const empty[] = { "Empty", "EmptyCards",
					     "EmptyPlain" };
	for (size_t i = 0; i < G_N_ELEMENTS(empty); i++) {
		g_test_message("delete %s", empty[i]);
		g_assert_cmpint(mfs_store_delete_folder(&fx->st, empty[i], &e),
				==, 0);
		g_assert_false(exists(fx, empty[i]));
	}
	g_autoptr(GPtrArray) after = list_folders(fx);
	g_assert_cmpint(kind_in(after, "Empty"), ==, -1);
	g_assert_cmpint(kind_in(after, "EmptyCards"), ==, -1);

	g_assert_cmpint(mfs_store_delete_folder(&fx->st, "Gone", &e), ==,
			-ENOENT);
	g_assert_cmpint(mfs_store_delete_folder(&fx->st, ".x", &e), ==,
			-EINVAL);
	g_assert_cmpint(mfs_store_delete_folder(&fx->st, "", &e), ==, -EINVAL);
	mfs_item_free(it);
	mfs_item_free(nit);
	mfs_item_free(card);
}

/* A sub-folder is named by its whole path, as the mount passes it. */
static void test_delete_nested_folder(struct fixture *fx, gconstpointer data)
{
	struct mfs_error e = { 0 };
	int rc;

	store_open(fx);
	create_folder(fx, "Parent", MFS_FOLDER_MAIL);
	create_folder(fx, "Parent/Child", MFS_FOLDER_MAIL);
	rc = mfs_store_delete_folder(&fx->st, "Parent/Child", &e);
	if (rc < 0)
		g_test_message("delete Parent/Child: %d %s", rc, e.msg);
	g_assert_cmpint(rc, ==, 0);
	g_assert_false(exists(fx, "Parent/Child"));
	g_assert_true(exists(fx, "Parent/cur"));
	g_assert_cmpint(mfs_store_delete_folder(&fx->st, "Parent/.x", &e), ==,
			-EINVAL);
	g_assert_cmpint(mfs_store_delete_folder(&fx->st, "Parent", &e), ==, 0);
}

/* ---- items ---- */

static void test_sync(struct fixture *fx, gconstpointer data)
{
	static const struct {
		const char *file;	/* in the store */
		const char *text;
		time_t mtime;
		const char *id;		/* NULL: not an item */
		uint64_t flags;
	} files[] = {
		{ "Box/cur/1000.A.host:2,SR", "abc", 1600000000,
		  "1000.A.host", MFS_FLAG_SEEN | MFS_FLAG_REPLIED },
		{ "Box/cur/1001.B.host:2,", "", 1600000001,
		  "1001.B.host", 0 },
		{ "Box/cur/1002.C.host:2,Fa", "12345", 1600000002,
		  "1002.C.host", MFS_FLAG_FLAGGED | MFS_FLAG_LETTER('a') },
		{ "Box/cur/1003.D.host", "no info", 1600000003,
		  "1003.D.host", 0 },
		{ "Box/new/1004.E.host", "hello", 1600000004,
		  "1004.E.host", MFS_FLAG_NEW },
		{ "Box/new/1005.F.host:2,S", "seen new", 1600000005,
		  "1005.F.host", MFS_FLAG_NEW | MFS_FLAG_SEEN },
		{ "Box/cur/.hidden:2,S", "x", 0, NULL, 0 },
		{ "Box/cur/:2,S", "x", 0, NULL, 0 },
		{ "Box/tmp/1006.G.host", "x", 0, NULL, 0 },
		{ "Box/1007.H.host", "x", 0, NULL, 0 },
	};
	struct mfs_error e = { 0 };

	put(fx, "marker", "", 0);	/* no seeding */
	make_maildir(fx, "Box");
	mkdirs(fx, "Box/cur/adir:2,S");
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
		put(fx, files[i].file, files[i].text, files[i].mtime);
	store_open(fx);

	struct mfs_sync_result *res = sync_folder(fx, "Box", NULL);
	g_assert_true(res->full);
	g_assert_cmpuint(res->vanished->len, ==, 0);
	/* the directories just changed: no state can vouch for them yet */
	g_assert_null(res->state);
	guint n = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		if (!files[i].id)
			continue;
		n++;
		g_test_message("item %s", files[i].id);
		struct mfs_item *it = find_item(res, files[i].id);
		g_assert_nonnull(it);
		g_assert_cmpuint(it->size, ==, strlen(files[i].text));
		g_assert_cmpint(it->date, ==, files[i].mtime);
		g_assert_cmphex(it->flags, ==, files[i].flags);
		g_autofree char *text = fetch(fx, "Box", files[i].id);
		g_assert_cmpstr(text, ==, files[i].text);
	}
	g_assert_cmpuint(res->changed->len, ==, n);
	mfs_sync_result_free(&res);

	/* settled: a state, and with it an empty answer */
	settle(fx, "Box");
	res = sync_folder(fx, "Box", NULL);
	g_assert_true(res->full);
	g_assert_cmpuint(res->changed->len, ==, n);
	g_assert_nonnull(res->state);
	g_autofree char *state = g_strdup(res->state);
	mfs_sync_result_free(&res);

	res = sync_folder(fx, "Box", state);
	g_assert_false(res->full);
	g_assert_cmpuint(res->changed->len, ==, 0);
	g_assert_cmpuint(res->vanished->len, ==, 0);
	g_assert_cmpstr(res->state, ==, state);
	mfs_sync_result_free(&res);

	/* a delivery by another program changes the state */
	put(fx, "Box/new/1008.I.host", "later", 1600000008);
	res = sync_folder(fx, "Box", state);
	g_assert_true(res->full);
	g_assert_cmpuint(res->changed->len, ==, n + 1);
	g_assert_nonnull(find_item(res, "1008.I.host"));
	mfs_sync_result_free(&res);

	/* a flag change by another program (a rename in cur/) as well */
	settle(fx, "Box");
	res = sync_folder(fx, "Box", NULL);
	g_free(state);
	state = g_strdup(res->state);
	g_assert_nonnull(state);
	mfs_sync_result_free(&res);
	g_autofree char *from = sp(fx, "Box/cur/1001.B.host:2,");
	g_autofree char *to = sp(fx, "Box/cur/1001.B.host:2,T");
	g_assert_cmpint(rename(from, to), ==, 0);
	res = sync_folder(fx, "Box", state);
	g_assert_true(res->full);
	g_assert_cmphex(find_item(res, "1001.B.host")->flags, ==,
			MFS_FLAG_TRASHED);
	mfs_sync_result_free(&res);

	g_assert_cmpint(mfs_store_sync(&fx->st, "Nope", NULL, &res, &e), ==,
			-ENOENT);
	g_assert_null(res);
	g_assert_cmpstr(e.msg, !=, "");
}

/* Two files of one id (another program's doing): one is shown. */
static void test_sync_duplicate_id(struct fixture *fx, gconstpointer data)
{
	put(fx, "marker", "", 0);
	make_maildir(fx, "Box");
	put(fx, "Box/cur/dup:2,S", "one", 0);
	put(fx, "Box/new/dup", "two", 0);
	store_open(fx);

	struct mfs_sync_result *res = sync_folder(fx, "Box", NULL);
	g_assert_cmpuint(res->changed->len, ==, 1);
	g_assert_cmpstr(((struct mfs_item *)res->changed->pdata[0])->id, ==,
			"dup");
	mfs_sync_result_free(&res);
}

static void test_sync_contacts(struct fixture *fx, gconstpointer data)
{
	put(fx, "marker", "", 0);
	mkdirs(fx, "People");
	put(fx, "People/ann.vcf", "BEGIN:VCARD\r\n", 1600000000);
	put(fx, "People/bob.vcf", "BEGIN:VCARD\r\nX\r\n", 1600000001);
	put(fx, "People/.mailfs-tmp.x", "partial", 0);
	store_open(fx);

	struct mfs_sync_result *res = sync_folder(fx, "People", NULL);
	g_assert_true(res->full);
	g_assert_cmpuint(res->changed->len, ==, 2);
	struct mfs_item *ann = find_item(res, "ann.vcf");
	g_assert_nonnull(ann);
	g_assert_cmpuint(ann->size, ==, 13);
	g_assert_cmpint(ann->date, ==, 1600000000);
	g_assert_cmphex(ann->flags, ==, 0);
	mfs_sync_result_free(&res);

	/* a file rewritten in place is seen although no name changed */
	put(fx, "People/ann.vcf", "BEGIN:VCARD\r\nNOTE:x\r\n", 1600000100);
	res = sync_folder(fx, "People", NULL);
	ann = find_item(res, "ann.vcf");
	g_assert_cmpuint(ann->size, ==, 21);
	g_assert_cmpint(ann->date, ==, 1600000100);
	mfs_sync_result_free(&res);
}

static void test_append(struct fixture *fx, gconstpointer data)
{
	static const char hint[] = "1700000000.M1P1Q1.test";
	struct mfs_item *it;

	store_open(fx);

	/* a valid hint is kept; flags put it in cur/ */
	it = append(fx, "INBOX", "Subject: one\r\n\r\nbody\r\n", hint,
		    MFS_FLAG_SEEN | MFS_FLAG_FLAGGED, 1500000000);
	g_assert_cmpstr(it->id, ==, hint);
	g_assert_cmpuint(it->size, ==, 22);
	g_assert_cmpint(it->date, ==, 1500000000);
	g_assert_cmphex(it->flags, ==, MFS_FLAG_SEEN | MFS_FLAG_FLAGGED);
	g_assert_true(exists(fx, "INBOX/cur/1700000000.M1P1Q1.test:2,FS"));
	g_assert_cmpint(mtime_of(fx, "INBOX/cur/1700000000.M1P1Q1.test:2,FS"),
			==, 1500000000);
	g_autofree char *text = fetch(fx, "INBOX", hint);
	g_assert_cmpstr(text, ==, "Subject: one\r\n\r\nbody\r\n");
	mfs_item_free(it);

	/* the same hint again: taken, so a fresh id */
	it = append(fx, "INBOX", "two", hint, MFS_FLAG_SEEN, 1500000001);
	g_assert_cmpstr(it->id, !=, hint);
	g_assert_null(strchr(it->id, '/'));
	g_assert_null(strchr(it->id, ':'));
	g_autofree char *two = fetch(fx, "INBOX", it->id);
	g_assert_cmpstr(two, ==, "two");
	g_autofree char *one = fetch(fx, "INBOX", hint);
	g_assert_cmpstr(one, ==, "Subject: one\r\n\r\nbody\r\n");
	mfs_item_free(it);

	/* no letters: cur/ with an empty info */
	it = append(fx, "INBOX", "three", "1700000000.M3P1Q1.test", 0,
		    1500000002);
	g_assert_true(exists(fx, "INBOX/cur/1700000000.M3P1Q1.test:2,"));
	mfs_item_free(it);

	/* NEW: new/ under the bare id */
	it = append(fx, "INBOX", "four", "1700000000.M4P1Q1.test",
		    MFS_FLAG_NEW, 1500000003);
	g_assert_cmphex(it->flags, ==, MFS_FLAG_NEW);
	g_assert_true(exists(fx, "INBOX/new/1700000000.M4P1Q1.test"));
	g_assert_cmpint(mtime_of(fx, "INBOX/new/1700000000.M4P1Q1.test"), ==,
			1500000003);
	mfs_item_free(it);

	/* NEW with letters: new/, letters kept */
	it = append(fx, "INBOX", "five", "1700000000.M5P1Q1.test",
		    MFS_FLAG_NEW | MFS_FLAG_SEEN, 1500000004);
	g_assert_true(exists(fx, "INBOX/new/1700000000.M5P1Q1.test:2,S"));
	mfs_item_free(it);

	/* hints that cannot be a unique part are replaced */
	static const char *const bad_hints[] = { "a/b", ".dot", "x:2,S", "",
						 NULL };
	for (size_t i = 0; i < G_N_ELEMENTS(bad_hints); i++) {
		it = append(fx, "INBOX", "six", bad_hints[i], MFS_FLAG_SEEN,
			    0);
		g_test_message("hint '%s' -> %s",
			       bad_hints[i] ? bad_hints[i] : "(null)", it->id);
		if (bad_hints[i])
			g_assert_cmpstr(it->id, !=, bad_hints[i]);
		g_assert_null(strchr(it->id, '/'));
		g_assert_cmpint(it->id[0], !=, '.');
		g_autofree char *six = fetch(fx, "INBOX", it->id);
		g_assert_cmpstr(six, ==, "six");
		mfs_item_free(it);
	}

	/* nothing is left behind in tmp/, and sync sees it all */
	g_autoptr(GPtrArray) tmp = names_in(fx, "INBOX/tmp");
	g_assert_cmpuint(tmp->len, ==, 0);
	struct mfs_sync_result *res = sync_folder(fx, "INBOX", NULL);
	g_assert_cmpuint(res->changed->len, ==,
			1 + 5 + G_N_ELEMENTS(bad_hints));
	struct mfs_item *got = find_item(res, hint);
	g_assert_nonnull(got);
	g_assert_cmpint(got->date, ==, 1500000000);
	g_assert_cmphex(got->flags, ==, MFS_FLAG_SEEN | MFS_FLAG_FLAGGED);
	got = find_item(res, "1700000000.M5P1Q1.test");
	g_assert_cmphex(got->flags, ==, MFS_FLAG_NEW | MFS_FLAG_SEEN);
	mfs_sync_result_free(&res);
}

static void test_append_errors(struct fixture *fx, gconstpointer data)
{
	struct mfs_item *it = NULL;
	struct mfs_error e = { 0 };
	int fd = content_fd("x");

	store_open(fx);
	create_folder(fx, "Holder", MFS_FOLDER_NONE);
	g_assert_cmpint(mfs_store_append(&fx->st, "Nope", fd, NULL, 0, 0, &it,
					 &e), ==, -ENOENT);
	g_assert_cmpint(mfs_store_append(&fx->st, "Holder", fd, NULL, 0, 0,
					 &it, &e), ==, -ENOENT);
	g_assert_null(it);
	close(fd);
}

/*
 * A hint another program's file already has, in a store not read yet: the
 * message must not end up sharing its id with that file (one of the two
 * would no longer be shown).
 */
static void test_append_hint_taken_on_disk(struct fixture *fx,
					   gconstpointer data)
{
	put(fx, "marker", "", 0);
	make_maildir(fx, "Box");
	put(fx, "Box/cur/1700000000.M9P9Q9.other:2,S", "theirs", 0);
	store_open(fx);

	struct mfs_item *it = append(fx, "Box", "ours",
				     "1700000000.M9P9Q9.other",
				     MFS_FLAG_FLAGGED, 0);
	struct mfs_sync_result *res = sync_folder(fx, "Box", NULL);

	/* reported without stopping, so that the tests after this one run */
	if (!strcmp(it->id, "1700000000.M9P9Q9.other") ||
	    res->changed->len != 2)
		g_test_fail_printf("appended as %s, the id of the file already "
				   "in Box/cur: %s; sync of Box shows %u of "
				   "its 2 messages", it->id,
				   strcmp(it->id, "1700000000.M9P9Q9.other")
					   ? "no" : "yes",
				   res->changed->len);
	if (!g_test_failed()) {
		g_autofree char *theirs = fetch(fx, "Box",
						"1700000000.M9P9Q9.other");
		g_autofree char *ours = fetch(fx, "Box", it->id);
		g_assert_cmpstr(theirs, ==, "theirs");
		g_assert_cmpstr(ours, ==, "ours");
	}
	mfs_sync_result_free(&res);
	mfs_item_free(it);
}

static void test_fetch_after_outside_rename(struct fixture *fx,
					    gconstpointer data)
{
	static const char id[] = "1700000000.M1P1Q1.fetch";
	struct mfs_error e = { 0 };
	int fd = -1;

	store_open(fx);
	struct mfs_item *it = append(fx, "INBOX", "content", id, 0, 0);

	/* a mail reader marks it seen, then moves it back to new/ */
	g_autofree char *a = sp(fx, "INBOX/cur/1700000000.M1P1Q1.fetch:2,");
	g_autofree char *b = sp(fx, "INBOX/cur/1700000000.M1P1Q1.fetch:2,S");
	g_autofree char *c = sp(fx, "INBOX/new/1700000000.M1P1Q1.fetch");
	g_assert_cmpint(rename(a, b), ==, 0);
	g_autofree char *t1 = fetch(fx, "INBOX", id);
	g_assert_cmpstr(t1, ==, "content");
	g_assert_cmpint(rename(b, c), ==, 0);
	g_autofree char *t2 = fetch(fx, "INBOX", id);
	g_assert_cmpstr(t2, ==, "content");

	/* and once it is gone for good, so is the item */
	g_assert_cmpint(unlink(c), ==, 0);
	g_assert_cmpint(mfs_store_fetch(&fx->st, "INBOX", id, &fd, &e), ==,
			-ENOENT);
	g_assert_cmpint(fd, ==, -1);
	g_assert_cmpint(mfs_store_fetch(&fx->st, "INBOX", "never", &fd, &e),
			==, -ENOENT);
	g_assert_cmpint(mfs_store_fetch(&fx->st, "Nope", id, &fd, &e), ==,
			-ENOENT);
	mfs_item_free(it);
}

static void test_set_flags(struct fixture *fx, gconstpointer data)
{
	static const char id[] = "1700000000.M1P1Q1.flags";
	static const struct {
		uint64_t flags;
		const char *file;
	} steps[] = {
		{ MFS_FLAG_SEEN | MFS_FLAG_FLAGGED,
		  "INBOX/cur/1700000000.M1P1Q1.flags:2,FS" },
		{ MFS_FLAG_SEEN | MFS_FLAG_FLAGGED,
		  "INBOX/cur/1700000000.M1P1Q1.flags:2,FS" },
		{ MFS_FLAG_NEW, "INBOX/new/1700000000.M1P1Q1.flags" },
		{ MFS_FLAG_NEW | MFS_FLAG_SEEN,
		  "INBOX/new/1700000000.M1P1Q1.flags:2,S" },
		{ 0, "INBOX/cur/1700000000.M1P1Q1.flags:2," },
		{ MFS_FLAG_LETTER('a') | MFS_FLAG_TRASHED,
		  "INBOX/cur/1700000000.M1P1Q1.flags:2,Ta" },
	};
	struct mfs_error e = { 0 };

	store_open(fx);
	struct mfs_item *it = append(fx, "INBOX", "flagged", id, 0, 1500000000);
	for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
		g_test_message("-> %s", steps[i].file);
		g_assert_cmpint(mfs_store_set_flags(&fx->st, "INBOX", id,
						    steps[i].flags, &e), ==, 0);
		g_assert_true(exists(fx, steps[i].file));
		g_autoptr(GPtrArray) cur = names_in(fx, "INBOX/cur");
		g_autoptr(GPtrArray) fresh = names_in(fx, "INBOX/new");
		/* the welcome message is the other file in new/ */
		g_assert_cmpuint(cur->len + fresh->len, ==, 2);

		struct mfs_sync_result *res = sync_folder(fx, "INBOX", NULL);
		g_assert_cmphex(find_item(res, id)->flags, ==, steps[i].flags);
		g_assert_cmpint(find_item(res, id)->date, ==, 1500000000);
		mfs_sync_result_free(&res);
	}

	/* after another program renamed it */
	g_autofree char *a = sp(fx, "INBOX/cur/1700000000.M1P1Q1.flags:2,Ta");
	g_autofree char *b = sp(fx, "INBOX/cur/1700000000.M1P1Q1.flags:2,R");
	g_assert_cmpint(rename(a, b), ==, 0);
	g_assert_cmpint(mfs_store_set_flags(&fx->st, "INBOX", id,
					    MFS_FLAG_SEEN, &e), ==, 0);
	g_assert_true(exists(fx, "INBOX/cur/1700000000.M1P1Q1.flags:2,S"));
	g_assert_false(exists(fx, "INBOX/cur/1700000000.M1P1Q1.flags:2,R"));

	g_assert_cmpint(mfs_store_set_flags(&fx->st, "INBOX", "never",
					    MFS_FLAG_SEEN, &e), ==, -ENOENT);
	mfs_item_free(it);

	it = append(fx, "Contacts", "BEGIN:VCARD\r\n", "ann.vcf", 0, 0);
	g_assert_cmpint(mfs_store_set_flags(&fx->st, "Contacts", "ann.vcf",
					    MFS_FLAG_SEEN, &e), ==, -ENOTSUP);
	mfs_item_free(it);
}

static void test_remove(struct fixture *fx, gconstpointer data)
{
	static const char id[] = "1700000000.M1P1Q1.remove";
	struct mfs_error e = { 0 };
	int fd = -1;

	store_open(fx);
	struct mfs_item *it = append(fx, "INBOX", "bye", id, MFS_FLAG_SEEN, 0);
	g_assert_cmpint(mfs_store_remove(&fx->st, "INBOX", id, &e), ==, 0);
	g_assert_false(exists(fx, "INBOX/cur/1700000000.M1P1Q1.remove:2,S"));
	g_assert_cmpint(mfs_store_fetch(&fx->st, "INBOX", id, &fd, &e), ==,
			-ENOENT);
	struct mfs_sync_result *res = sync_folder(fx, "INBOX", NULL);
	g_assert_null(find_item(res, id));
	mfs_sync_result_free(&res);
	g_assert_cmpint(mfs_store_remove(&fx->st, "INBOX", id, &e), ==,
			-ENOENT);
	mfs_item_free(it);

	/* removing what another program renamed meanwhile */
	it = append(fx, "INBOX", "bye", id, 0, 0);
	g_assert_cmpstr(it->id, ==, id);
	g_autofree char *a = sp(fx, "INBOX/cur/1700000000.M1P1Q1.remove:2,");
	g_autofree char *b = sp(fx, "INBOX/cur/1700000000.M1P1Q1.remove:2,S");
	g_assert_cmpint(rename(a, b), ==, 0);
	g_assert_cmpint(mfs_store_remove(&fx->st, "INBOX", id, &e), ==, 0);
	g_assert_false(exists(fx, "INBOX/cur/1700000000.M1P1Q1.remove:2,S"));
	mfs_item_free(it);

	it = append(fx, "Contacts", "BEGIN:VCARD\r\n", "ann.vcf", 0, 0);
	g_assert_cmpint(mfs_store_remove(&fx->st, "Contacts", "ann.vcf", &e),
			==, 0);
	g_assert_false(exists(fx, "Contacts/ann.vcf"));
	mfs_item_free(it);

	/* a folder known as contacts by its files alone stays contacts
	 * when its last card goes */
	mkdirs(fx, "People");
	put(fx, "People/bob.vcf", "BEGIN:VCARD\r\nEND:VCARD\r\n", 0);
	store_close(fx);
	store_open(fx);
	g_assert_false(exists(fx, "People/.mailfs-folder"));
	g_assert_cmpint(mfs_store_remove(&fx->st, "People", "bob.vcf", &e),
			==, 0);
	g_assert_false(exists(fx, "People/bob.vcf"));
	store_close(fx);
	store_open(fx);
	GPtrArray *folders = list_folders(fx);
	g_assert_cmpint(kind_in(folders, "People"), ==, MFS_FOLDER_CONTACTS);
	g_ptr_array_unref(folders);
}

static void test_move(struct fixture *fx, gconstpointer data)
{
	static const char id[] = "1700000000.M1P1Q1.move";
	struct mfs_item *moved = NULL;
	struct mfs_error e = { 0 };

	store_open(fx);
	create_folder(fx, "Archive", MFS_FOLDER_MAIL);
	struct mfs_item *it = append(fx, "INBOX", "to archive", id,
				     MFS_FLAG_NEW, 1500000000);

	g_assert_cmpint(mfs_store_move(&fx->st, "INBOX", id, "Archive",
				       MFS_FLAG_SEEN, &moved, &e), ==, 0);
	g_assert_cmpstr(moved->id, ==, id);
	g_assert_cmphex(moved->flags, ==, MFS_FLAG_SEEN);
	g_assert_cmpuint(moved->size, ==, 10);
	g_assert_cmpint(moved->date, ==, 1500000000);
	g_assert_true(exists(fx, "Archive/cur/1700000000.M1P1Q1.move:2,S"));
	g_assert_false(exists(fx, "INBOX/new/1700000000.M1P1Q1.move"));
	g_autofree char *text = fetch(fx, "Archive", id);
	g_assert_cmpstr(text, ==, "to archive");
	struct mfs_sync_result *res = sync_folder(fx, "INBOX", NULL);
	g_assert_null(find_item(res, id));
	mfs_sync_result_free(&res);
	mfs_item_free(moved);
	moved = NULL;
	mfs_item_free(it);

	/* into a folder where the id is taken: a new id, nothing lost */
	it = append(fx, "INBOX", "second", id, MFS_FLAG_SEEN, 0);
	g_assert_cmpstr(it->id, ==, id);
	g_assert_cmpint(mfs_store_move(&fx->st, "INBOX", id, "Archive",
				       MFS_FLAG_SEEN, &moved, &e), ==, 0);
	g_assert_cmpstr(moved->id, !=, id);
	g_autofree char *first = fetch(fx, "Archive", id);
	g_assert_cmpstr(first, ==, "to archive");
	g_autofree char *second = fetch(fx, "Archive", moved->id);
	g_assert_cmpstr(second, ==, "second");
	res = sync_folder(fx, "Archive", NULL);
	g_assert_cmpuint(res->changed->len, ==, 2);
	mfs_sync_result_free(&res);
	mfs_item_free(moved);
	moved = NULL;
	mfs_item_free(it);

	/* kinds must match, and the folder must exist */
	it = append(fx, "INBOX", "third", NULL, 0, 0);
	g_assert_cmpint(mfs_store_move(&fx->st, "INBOX", it->id, "Contacts",
				       0, &moved, &e), ==, -EXDEV);
	g_assert_cmpint(mfs_store_move(&fx->st, "INBOX", it->id, "Nope", 0,
				       &moved, &e), ==, -ENOENT);
	g_assert_cmpint(mfs_store_move(&fx->st, "INBOX", "never", "Archive", 0,
				       &moved, &e), ==, -ENOENT);
	g_assert_null(moved);
	g_autofree char *third = fetch(fx, "INBOX", it->id);
	g_assert_cmpstr(third, ==, "third");
	mfs_item_free(it);
}

/* Moving into a folder not read yet, where another program's file has the
 * id: the message gets a new id rather than sharing it. */
static void test_move_id_taken_on_disk(struct fixture *fx, gconstpointer data)
{
	static const char id[] = "1700000000.M1P1Q1.clash";
	struct mfs_item *moved = NULL;
	struct mfs_error e = { 0 };

	put(fx, "marker", "", 0);
	make_maildir(fx, "A");
	make_maildir(fx, "B");
	put(fx, "A/cur/1700000000.M1P1Q1.clash:2,S", "from A", 0);
	put(fx, "B/cur/1700000000.M1P1Q1.clash:2,F", "in B", 0);
	store_open(fx);

	g_assert_cmpint(mfs_store_move(&fx->st, "A", id, "B", MFS_FLAG_SEEN,
				       &moved, &e), ==, 0);
	struct mfs_sync_result *res = sync_folder(fx, "B", NULL);

	/* reported without stopping, so that the tests after this one run */
	if (!strcmp(moved->id, id) || res->changed->len != 2)
		g_test_fail_printf("moved as %s, the id of the file already in "
				   "B/cur: %s; sync of B shows %u of its 2 "
				   "messages", moved->id,
				   strcmp(moved->id, id) ? "no" : "yes",
				   res->changed->len);
	if (!g_test_failed()) {
		g_autofree char *mine = fetch(fx, "B", moved->id);
		g_autofree char *theirs = fetch(fx, "B", id);
		g_assert_cmpstr(mine, ==, "from A");
		g_assert_cmpstr(theirs, ==, "in B");
	}
	mfs_sync_result_free(&res);
	mfs_item_free(moved);
}

static void test_copy(struct fixture *fx, gconstpointer data)
{
	static const char id[] = "1700000000.M1P1Q1.copy";
	struct mfs_item *copy = NULL;
	struct mfs_error e = { 0 };

	store_open(fx);
	create_folder(fx, "Archive", MFS_FOLDER_MAIL);
	struct mfs_item *it = append(fx, "INBOX", "copied", id, MFS_FLAG_SEEN,
				     1500000000);

	g_assert_cmpint(mfs_store_copy(&fx->st, "INBOX", id, "Archive",
				       MFS_FLAG_SEEN | MFS_FLAG_FLAGGED, &copy,
				       &e), ==, 0);
	g_assert_cmpstr(copy->id, ==, id);
	g_assert_cmphex(copy->flags, ==, MFS_FLAG_SEEN | MFS_FLAG_FLAGGED);
	g_assert_cmpint(copy->date, ==, 1500000000);
	g_assert_cmpuint(copy->size, ==, 6);
	g_assert_true(exists(fx, "Archive/cur/1700000000.M1P1Q1.copy:2,FS"));
	g_assert_true(exists(fx, "INBOX/cur/1700000000.M1P1Q1.copy:2,S"));
	g_assert_cmpint(mtime_of(fx, "Archive/cur/1700000000.M1P1Q1.copy:2,FS"),
			==, 1500000000);
	g_autofree char *a = fetch(fx, "INBOX", id);
	g_autofree char *b = fetch(fx, "Archive", id);
	g_assert_cmpstr(a, ==, "copied");
	g_assert_cmpstr(b, ==, "copied");
	mfs_item_free(copy);
	copy = NULL;

	/* a second copy: the id is taken in Archive now */
	g_assert_cmpint(mfs_store_copy(&fx->st, "INBOX", id, "Archive", 0,
				       &copy, &e), ==, 0);
	g_assert_cmpstr(copy->id, !=, id);
	mfs_item_free(copy);
	copy = NULL;

	g_assert_cmpint(mfs_store_copy(&fx->st, "INBOX", "never", "Archive", 0,
				       &copy, &e), ==, -ENOENT);
	g_assert_null(copy);
	mfs_item_free(it);
}

static void test_contacts(struct fixture *fx, gconstpointer data)
{
	static const char card1[] = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann\r\n"
				    "END:VCARD\r\n";
	static const char card2[] = "BEGIN:VCARD\r\nVERSION:4.0\r\n"
				    "FN:Ann Doe\r\nEND:VCARD\r\n";
	struct mfs_item *it;

	store_open(fx);
	it = append(fx, "Contacts", card1, "ann.vcf", 0, 1500000000);
	g_assert_cmpstr(it->id, ==, "ann.vcf");
	g_assert_cmpuint(it->size, ==, strlen(card1));
	g_assert_cmphex(it->flags, ==, 0);
	g_assert_cmpint(mtime_of(fx, "Contacts/ann.vcf"), ==, 1500000000);
	mfs_item_free(it);

	/* the same name again is an edit: replaced, not duplicated */
	it = append(fx, "Contacts", card2, "ann.vcf", 0, 1500000100);
	g_assert_cmpstr(it->id, ==, "ann.vcf");
	g_assert_cmpuint(it->size, ==, strlen(card2));
	mfs_item_free(it);
	g_autofree char *text = fetch(fx, "Contacts", "ann.vcf");
	g_assert_cmpstr(text, ==, card2);
	g_autofree char *disk = slurp(fx, "Contacts/ann.vcf");
	g_assert_cmpstr(disk, ==, card2);

	/* without a usable name the store makes one of the right kind */
	static const char *const bad_hints[] = { NULL, "", "a/b.vcf",
						 ".hidden.vcf" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad_hints); i++) {
		it = append(fx, "Contacts", card1, bad_hints[i], 0, 0);
		g_assert_true(g_str_has_suffix(it->id, ".vcf"));
		g_assert_null(strchr(it->id, '/'));
		g_assert_cmpint(it->id[0], !=, '.');
		mfs_item_free(it);
	}
	it = append(fx, "Calendar", "BEGIN:VCALENDAR\r\n", NULL, 0, 0);
	g_assert_true(g_str_has_suffix(it->id, ".ics"));
	mfs_item_free(it);

	struct mfs_sync_result *res = sync_folder(fx, "Contacts", NULL);
	g_assert_cmpuint(res->changed->len, ==, 1 + G_N_ELEMENTS(bad_hints));
	g_assert_cmpuint(find_item(res, "ann.vcf")->size, ==, strlen(card2));
	mfs_sync_result_free(&res);
	/* no temporary file is left, and the kind file is still there */
	g_autoptr(GPtrArray) names = names_in(fx, "Contacts");
	g_assert_cmpuint(names->len, ==, 1 + G_N_ELEMENTS(bad_hints));
	g_assert_true(exists(fx, "Contacts/" KIND_FILE));

	/* between contacts folders a card keeps its name */
	struct mfs_item *moved = NULL;
	struct mfs_error e = { 0 };
	create_folder(fx, "Friends", MFS_FOLDER_CONTACTS);
	g_assert_cmpint(mfs_store_move(&fx->st, "Contacts", "ann.vcf",
				       "Friends", 0, &moved, &e), ==, 0);
	g_assert_cmpstr(moved->id, ==, "ann.vcf");
	g_assert_true(exists(fx, "Friends/ann.vcf"));
	g_assert_false(exists(fx, "Contacts/ann.vcf"));
	mfs_item_free(moved);
	moved = NULL;
	g_assert_cmpint(mfs_store_move(&fx->st, "Friends", "ann.vcf",
				       "Calendar", 0, &moved, &e), ==, -EXDEV);
	g_assert_null(moved);
}

/* ---- watching ---- */

struct heard {
	GMutex lock;
	GPtrArray *folders;	/* protected by lock; NULL entries kept */
	gint inbox;		/* atomic */
	gint calls;		/* atomic */
};

static void on_change(const char *folder, void *data)
{
	struct heard *h = data;

	g_mutex_lock(&h->lock);
	g_ptr_array_add(h->folders, g_strdup(folder));
	g_mutex_unlock(&h->lock);
	if (folder && !strcmp(folder, "INBOX"))
		g_atomic_int_set(&h->inbox, 1);
	g_atomic_int_inc(&h->calls);
}

static gboolean wait_for(gint *flag, double seconds)
{
	gint64 end = g_get_monotonic_time() +
		     (gint64)(seconds * G_USEC_PER_SEC);

	while (!g_atomic_int_get(flag)) {
		if (g_get_monotonic_time() > end)
			return FALSE;
		g_usleep(10000);
	}
	return TRUE;
}

static void test_watch(struct fixture *fx, gconstpointer data)
{
	struct heard h = { .folders = g_ptr_array_new_with_free_func(g_free) };
	static const char msg[] = "Subject: delivered\r\n\r\nhi\r\n";

	g_mutex_init(&h.lock);
	store_open(fx);
	g_assert_cmpint(mfs_store_watch(&fx->st, on_change, &h), ==, 0);
	g_assert_cmpint(mfs_store_watch(&fx->st, on_change, &h), ==, -EBUSY);

	/* a delivery as Maildir prescribes it: tmp/, then rename into new/ */
	put(fx, "INBOX/tmp/1700000000.M1P1Q1.mda", msg, 0);
	g_autofree char *from = sp(fx, "INBOX/tmp/1700000000.M1P1Q1.mda");
	g_autofree char *to = sp(fx, "INBOX/new/1700000000.M1P1Q1.mda");
	g_assert_cmpint(rename(from, to), ==, 0);

	g_assert_true(wait_for(&h.inbox, 5.0));
	store_close(fx);

	/* stopped: nothing more is reported */
	gint calls = g_atomic_int_get(&h.calls);
	put(fx, "INBOX/new/1700000000.M2P1Q1.mda", msg, 0);
	g_usleep(200000);
	g_assert_cmpint(g_atomic_int_get(&h.calls), ==, calls);

	g_ptr_array_unref(h.folders);
	g_mutex_clear(&h.lock);
}

/* A new folder made by another program shows as a change of the list. */
static void test_watch_new_folder(struct fixture *fx, gconstpointer data)
{
	struct heard h = { .folders = g_ptr_array_new_with_free_func(g_free) };
	gint got_list = 0;

	g_mutex_init(&h.lock);
	store_open(fx);
	g_assert_cmpint(mfs_store_watch(&fx->st, on_change, &h), ==, 0);
	make_maildir(fx, "Outside");

	gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (!got_list && g_get_monotonic_time() < end) {
		g_mutex_lock(&h.lock);
		for (guint i = 0; i < h.folders->len; i++)
			got_list = got_list || h.folders->pdata[i] == NULL;
		g_mutex_unlock(&h.lock);
		g_usleep(10000);
	}
	g_assert_true(got_list);

	/* the folder made outside is watched from then on */
	g_atomic_int_set(&h.inbox, 0);
	g_mutex_lock(&h.lock);
	g_ptr_array_set_size(h.folders, 0);
	g_mutex_unlock(&h.lock);
	put(fx, "Outside/new/1700000000.M1P1Q1.x", "x", 0);
	gboolean heard = FALSE;
	end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (!heard && g_get_monotonic_time() < end) {
		g_mutex_lock(&h.lock);
		for (guint i = 0; i < h.folders->len; i++)
			heard = heard || !g_strcmp0(h.folders->pdata[i],
						    "Outside");
		g_mutex_unlock(&h.lock);
		g_usleep(10000);
	}
	g_assert_true(heard);
	store_close(fx);
	g_ptr_array_unref(h.folders);
	g_mutex_clear(&h.lock);
}

static void test_space(struct fixture *fx, gconstpointer data)
{
	uint64_t total = 0, avail = 0;

	store_open(fx);
	g_assert_cmpint(mfs_store_space(&fx->st, &total, &avail), ==, 0);
	g_assert_cmpuint(total, >, 0);
	g_assert_cmpuint(avail, <=, total);
}

#define ADD(name, fn) \
	g_test_add("/local-store/" name, struct fixture, NULL, \
		   fixture_set_up, fn, fixture_tear_down)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("seed", test_seed);
	ADD("no-seed", test_no_seed);
	ADD("open-creates", test_open_creates);
	ADD("open-under-file", test_open_under_file);
	ADD("open-read-only", test_open_read_only);
	ADD("list-folders", test_list_folders);
	ADD("dot-dirs-are-no-folders", test_dot_dirs_are_no_folders);
	ADD("create-folder", test_create_folder);
	ADD("rename-folder", test_rename_folder);
	ADD("delete-folder", test_delete_folder);
	ADD("delete-nested-folder", test_delete_nested_folder);
	ADD("sync", test_sync);
	ADD("sync-duplicate-id", test_sync_duplicate_id);
	ADD("sync-contacts", test_sync_contacts);
	ADD("append", test_append);
	ADD("append-errors", test_append_errors);
	ADD("fetch-after-outside-rename", test_fetch_after_outside_rename);
	ADD("set-flags", test_set_flags);
	ADD("remove", test_remove);
	ADD("move", test_move);
	ADD("copy", test_copy);
	ADD("contacts", test_contacts);
	ADD("watch", test_watch);
	ADD("watch-new-folder", test_watch_new_folder);
	ADD("space", test_space);
	/* these two show known faults; last, as a failure ends the run */
	ADD("append-hint-taken-on-disk", test_append_hint_taken_on_disk);
	ADD("move-id-taken-on-disk", test_move_id_taken_on_disk);
	return g_test_run();
}
