/*
 * test-index.c - folders and their items in the cache's SQLite index
 * (cache/index.h): what lies below a folder moves and goes with it, for
 * names beyond ASCII and names holding LIKE's wildcards.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "index.h"
#include "journal.h"

struct fixture {
	char *tmp;			/* owned; removed with its files */
	struct cache_index *ix;		/* owned */
};

static void fixture_set_up(struct fixture *fx, gconstpointer data)
{
	GError *err = NULL;
	g_autofree char *db = NULL;
	char *why = NULL;

	fx->tmp = g_dir_make_tmp("mailfs-index-XXXXXX", &err);
	g_assert_no_error(err);
	db = g_build_filename(fx->tmp, "index.db", NULL);
	g_assert_cmpint(index_open(db, &fx->ix, &why), ==, 0);
	g_assert_null(why);
}

static void fixture_tear_down(struct fixture *fx, gconstpointer data)
{
	static const char *const files[] = { "index.db", "index.db-wal",
					     "index.db-shm" };

	index_close(&fx->ix);
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *p = g_build_filename(fx->tmp, files[i], NULL);
		g_unlink(p);
	}
	g_rmdir(fx->tmp);
	g_free(fx->tmp);
}

static void add_folders(struct cache_index *ix, const char *const *paths)
{
	for (; *paths; paths++)
		g_assert_cmpint(index_add_folder(ix, *paths, MFS_FOLDER_MAIL),
				==, 0);
}

/* The index's folders, sorted, joined by '|'.  Caller owns the result. */
static char *folder_list(struct cache_index *ix)
{
	GPtrArray *folders = NULL;
	GString *out = g_string_new(NULL);

	g_assert_cmpint(index_folders(ix, &folders), ==, 0);
	for (guint i = 0; i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		g_string_append_printf(out, "%s%s", i ? "|" : "", fi->path);
	}
	g_ptr_array_unref(folders);
	return g_string_free(out, FALSE);
}

static void put_item(struct cache_index *ix, const char *folder,
		     const char *id)
{
	struct mfs_item it = { (char *)id, 10, 1000, 0, NULL };

	g_assert_cmpint(index_put_item(ix, folder, &it), ==, 0);
}

static guint item_count(struct cache_index *ix, const char *folder)
{
	GPtrArray *items = NULL;
	guint n;

	g_assert_cmpint(index_items(ix, folder, &items), ==, 0);
	n = items->len;
	g_ptr_array_unref(items);
	return n;
}

/* substr() on text counts characters: a byte count of "Briefé/" (8) is
 * one past the slash, and the sub-folders stayed behind. */
static void test_rename_non_ascii(struct fixture *fx, gconstpointer data)
{
	static const char *const paths[] = { "Brief", "Briefé", "Briefé/2024",
		"Briefé/2024/Q1", "Brieféx", "Briefé0", NULL };
	g_autofree char *got = NULL;

	add_folders(fx->ix, paths);
	put_item(fx->ix, "Briefé", "a");
	put_item(fx->ix, "Briefé/2024", "b");
	put_item(fx->ix, "Briefé/2024/Q1", "c");
	put_item(fx->ix, "Brieféx", "d");

	g_assert_cmpint(index_rename_folder(fx->ix, "Briefé", "Archive2"),
			==, 0);
	got = folder_list(fx->ix);
	g_assert_cmpstr(got, ==, "Archive2|Archive2/2024|Archive2/2024/Q1|"
			"Brief|Briefé0|Brieféx");
	g_assert_cmpuint(item_count(fx->ix, "Archive2"), ==, 1);
	g_assert_cmpuint(item_count(fx->ix, "Archive2/2024"), ==, 1);
	g_assert_cmpuint(item_count(fx->ix, "Archive2/2024/Q1"), ==, 1);
	g_assert_cmpuint(item_count(fx->ix, "Briefé/2024"), ==, 0);
	g_assert_cmpuint(item_count(fx->ix, "Brieféx"), ==, 1);
}

/* Into a name beyond ASCII and back: the rest of each path is cut by
 * bytes whichever side holds the wide characters. */
static void test_rename_to_non_ascii(struct fixture *fx, gconstpointer data)
{
	static const char *const paths[] = { "Post", "Post/Grüße",
		"Post/Grüße/Alt", NULL };
	g_autofree char *got = NULL;
	g_autofree char *back = NULL;

	add_folders(fx->ix, paths);
	put_item(fx->ix, "Post/Grüße/Alt", "a");
	g_assert_cmpint(index_rename_folder(fx->ix, "Post", "Пошта"), ==, 0);
	got = folder_list(fx->ix);
	g_assert_cmpstr(got, ==, "Пошта|Пошта/Grüße|Пошта/Grüße/Alt");
	g_assert_cmpint(index_rename_folder(fx->ix, "Пошта/Grüße", "Пошта/G"),
			==, 0);
	back = folder_list(fx->ix);
	g_assert_cmpstr(back, ==, "Пошта|Пошта/G|Пошта/G/Alt");
	g_assert_cmpuint(item_count(fx->ix, "Пошта/G/Alt"), ==, 1);
}

static void test_remove_non_ascii(struct fixture *fx, gconstpointer data)
{
	static const char *const paths[] = { "Grüße", "Grüße/Alt",
		"Grüße/Alt/Älter", "Grüßen", NULL };
	g_autofree char *got = NULL;

	add_folders(fx->ix, paths);
	put_item(fx->ix, "Grüße/Alt", "a");
	put_item(fx->ix, "Grüßen", "b");
	g_assert_cmpint(index_remove_folder(fx->ix, "Grüße"), ==, 0);
	got = folder_list(fx->ix);
	g_assert_cmpstr(got, ==, "Grüßen");
	g_assert_cmpuint(item_count(fx->ix, "Grüße/Alt"), ==, 0);
	g_assert_cmpuint(item_count(fx->ix, "Grüßen"), ==, 1);
}

/* '%' and '_' are names here, not patterns. */
static void test_wildcards(struct fixture *fx, gconstpointer data)
{
	static const char *const paths[] = { "a%_", "a%_/b", "a%x", "a%x/c",
		"ab_", "ab_/d", NULL };
	g_autofree char *renamed = NULL;
	g_autofree char *removed = NULL;

	add_folders(fx->ix, paths);
	g_assert_cmpint(index_rename_folder(fx->ix, "a%_", "z_%"), ==, 0);
	renamed = folder_list(fx->ix);
	g_assert_cmpstr(renamed, ==, "a%x|a%x/c|ab_|ab_/d|z_%|z_%/b");
	g_assert_cmpint(index_remove_folder(fx->ix, "z_%"), ==, 0);
	removed = folder_list(fx->ix);
	g_assert_cmpstr(removed, ==, "a%x|a%x/c|ab_|ab_/d");
}

/* A sync read the server before a delete made here reached it, and is
 * applied after the journal row is done: the message must not come
 * back on the mount (the flusher's success moves the local counter). */
static void test_sync_older_than_flush(struct fixture *fx,
				       gconstpointer data)
{
	static const char *const folders[] = { "INBOX", NULL };
	struct mfs_item stale = { (char *)"7", 10, 1000, 0, NULL };
	struct jrow row = { .op = JOP_REMOVE, .folder = (char *)"INBOX",
			    .id = (char *)"7", .rid = (char *)"7" };
	struct mfs_sync_result *res = mfs_sync_result_new();
	int64_t lgen = -1;
	bool changed = false;

	add_folders(fx->ix, folders);
	put_item(fx->ix, "INBOX", "7");
	g_assert_cmpint(index_remove_item(fx->ix, "INBOX", "7"), ==, 0);
	g_assert_cmpint(index_touch_local(fx->ix, "INBOX"), ==, 0);
	g_assert_cmpint(journal_add(fx->ix, &row), ==, 0);
	/* the sync begins here and lists the message the server still has */
	g_assert_cmpint(index_folder_state(fx->ix, "INBOX", NULL, NULL,
					   &lgen), ==, 0);
	g_ptr_array_add(res->changed, mfs_item_dup(&stale));
	g_assert_cmpint(journal_done(fx->ix, row.seq, NULL), ==, 0);
	g_assert_cmpint(index_apply(fx->ix, "INBOX", res, lgen, &changed,
				    NULL), ==, -EAGAIN);
	g_assert_false(changed);
	g_assert_cmpuint(item_count(fx->ix, "INBOX"), ==, 0);
	mfs_sync_result_free(&res);
}

/* One listing of `it` applied to INBOX; the ids said to be redone, as
 * "a|b". */
static char *apply_one(struct cache_index *ix, const struct mfs_item *it)
{
	struct mfs_sync_result *res = mfs_sync_result_new();
	g_autoptr(GPtrArray) redone = g_ptr_array_new_with_free_func(g_free);
	bool changed = false;

	g_ptr_array_add(res->changed, mfs_item_dup(it));
	g_assert_cmpint(index_apply(ix, "INBOX", res, -1, &changed, redone),
			==, 0);
	mfs_sync_result_free(&res);
	g_ptr_array_add(redone, NULL);
	return g_strjoinv("|", (char **)redone->pdata);
}

/* A store whose bytes behind an id change (a card edited on a DAV
 * server) says so with a new date: that item's cached body is stale.
 * Its flags or its size alone do not make it so (a server may announce
 * a size the bytes then correct). */
static void test_new_date_redoes_the_body(struct fixture *fx,
					  gconstpointer data)
{
	static const char *const folders[] = { "INBOX", NULL };
	struct mfs_item it = { (char *)"c1", 10, 1000, 0, NULL };
	g_autofree char *first = NULL, *flags = NULL, *size = NULL;
	g_autofree char *date = NULL;

	add_folders(fx->ix, folders);
	first = apply_one(fx->ix, &it);
	g_assert_cmpstr(first, ==, "");
	it.flags = MFS_FLAG_SEEN;
	flags = apply_one(fx->ix, &it);
	g_assert_cmpstr(flags, ==, "");
	it.size = 12;
	size = apply_one(fx->ix, &it);
	g_assert_cmpstr(size, ==, "");
	it.date = 1001;
	date = apply_one(fx->ix, &it);
	g_assert_cmpstr(date, ==, "c1");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, struct fixture, NULL, \
				 fixture_set_up, fn, fixture_tear_down)
	ADD("/index/rename-non-ascii", test_rename_non_ascii);
	ADD("/index/rename-to-non-ascii", test_rename_to_non_ascii);
	ADD("/index/remove-non-ascii", test_remove_non_ascii);
	ADD("/index/wildcards", test_wildcards);
	ADD("/index/sync-older-than-flush", test_sync_older_than_flush);
	ADD("/index/new-date-redoes-the-body", test_new_date_redoes_the_body);
#undef ADD
	return g_test_run();
}
