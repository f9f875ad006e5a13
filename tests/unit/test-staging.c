/*
 * test-staging.c - staged and rejected writes in the cache directory
 * (cache/staging.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "staging.h"

static int rm_entry(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct fixture {
	char *tmp;		/* owned; removed with everything in it */
	char *cache;		/* owned; tmp/cache/acct, not created */
};

static void fixture_set_up(struct fixture *fx, gconstpointer data)
{
	GError *err = NULL;

	fx->tmp = g_dir_make_tmp("mailfs-staging-XXXXXX", &err);
	g_assert_no_error(err);
	fx->cache = g_build_filename(fx->tmp, "cache", "acct", NULL);
}

static void fixture_tear_down(struct fixture *fx, gconstpointer data)
{
	rm_rf(fx->tmp);
	g_free(fx->tmp);
	g_free(fx->cache);
}

static void assert_mode(const char *path, mode_t mode)
{
	struct stat sb;

	g_assert_cmpint(stat(path, &sb), ==, 0);
	g_assert_cmphex(sb.st_mode & 07777, ==, mode);
}

static int cmp_str_ptr(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in `dir`, sorted.  Caller owns the result. */
static GPtrArray *list_dir(const char *dir)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(name));
	g_dir_close(d);
	g_ptr_array_sort(names, cmp_str_ptr);
	return names;
}

static void write_file(const char *path, const char *text)
{
	GError *err = NULL;

	g_file_set_contents(path, text, -1, &err);
	g_assert_no_error(err);
}

static char *read_file(const char *path)
{
	GError *err = NULL;
	char *text = NULL;

	g_file_get_contents(path, &text, NULL, &err);
	g_assert_no_error(err);
	return text;
}

static void test_open(struct fixture *fx, gconstpointer data)
{
	struct staging *st = NULL;
	g_autofree char *staging = g_build_filename(fx->cache, "staging", NULL);
	g_autofree char *rejected = g_build_filename(fx->cache, "rejected",
						     NULL);

	g_assert_cmpint(staging_open(fx->cache, &st), ==, 0);
	g_assert_nonnull(st);
	assert_mode(fx->cache, 0700);
	assert_mode(staging, 0700);
	assert_mode(rejected, 0700);
	g_assert_cmpstr(staging_rejected_dir(st), ==, rejected);
	staging_close(&st);
	g_assert_null(st);
	staging_close(&st);

	/* a second open of the same directory is fine, and tightens it */
	g_assert_cmpint(chmod(fx->cache, 0755), ==, 0);
	g_assert_cmpint(staging_open(fx->cache, &st), ==, 0);
	assert_mode(fx->cache, 0700);
	staging_close(&st);
}

static void test_open_under_file(struct fixture *fx, gconstpointer data)
{
	g_autofree char *file = g_build_filename(fx->tmp, "file", NULL);
	g_autofree char *below = g_build_filename(file, "cache", NULL);
	struct staging *st = NULL;

	write_file(file, "x");
	g_assert_cmpint(staging_open(below, &st), <, 0);
	g_assert_null(st);
}

static void test_create(struct fixture *fx, gconstpointer data)
{
	struct staging *st = NULL;
	g_autofree char *staging = g_build_filename(fx->cache, "staging", NULL);
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, NULL);

	g_assert_cmpint(staging_open(fx->cache, &st), ==, 0);
	for (int i = 0; i < 20; i++) {
		int fd = -1;
		char *path = NULL;
		struct stat sb;
		char buf[8];

		g_assert_cmpint(staging_create(st, &fd, &path), ==, 0);
		g_assert_cmpint(fd, >=, 0);
		g_assert_nonnull(path);
		g_assert_false(g_hash_table_contains(seen, path));
		g_autofree char *dir = g_path_get_dirname(path);
		g_assert_cmpstr(dir, ==, staging);
		g_assert_cmpint(fstat(fd, &sb), ==, 0);
		g_assert_true(S_ISREG(sb.st_mode));
		g_assert_cmpint(sb.st_size, ==, 0);
		g_assert_cmphex(sb.st_mode & 0077, ==, 0);
		/* read-write */
		g_assert_cmpint(write(fd, "abc", 3), ==, 3);
		g_assert_cmpint(pread(fd, buf, sizeof(buf), 0), ==, 3);
		g_assert_cmpint(memcmp(buf, "abc", 3), ==, 0);
		close(fd);
		g_hash_table_add(seen, path);
	}
	g_autoptr(GPtrArray) names = list_dir(staging);
	g_assert_cmpuint(names->len, ==, 20);
	g_hash_table_unref(seen);
	staging_close(&st);
}

static const struct {
	const char *label;
	const char *safe;	/* how the kept name ends */
} labels[] = {
	{ "note.eml", "-note.eml" },
	{ "INBOX/cur/msg", "-INBOX_cur_msg" },
	{ ".hidden", "-_hidden" },
	{ "../../etc/passwd", "-_._.._etc_passwd" },
	{ "tab\there\nnewline", "-tab_here_newline" },
};

static void test_reject(struct fixture *fx, gconstpointer data)
{
	struct staging *st = NULL;

	g_assert_cmpint(staging_open(fx->cache, &st), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(labels); i++) {
		int fd;
		char *path = NULL;
		char *kept = NULL;
		g_autofree char *content = g_strdup_printf("content %zu", i);
		g_autofree char *reason = g_strdup_printf("refused: %zu", i);

		g_test_message("label '%s'", labels[i].label);
		g_assert_cmpint(staging_create(st, &fd, &path), ==, 0);
		g_assert_cmpint(write(fd, content, strlen(content)), ==,
				(ssize_t)strlen(content));
		close(fd);

		g_assert_cmpint(staging_reject(st, path, labels[i].label,
					       reason, &kept), ==, 0);
		g_assert_nonnull(kept);
		g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

		g_autofree char *dir = g_path_get_dirname(kept);
		g_autofree char *base = g_path_get_basename(kept);
		g_assert_cmpstr(dir, ==, staging_rejected_dir(st));
		g_assert_cmpint(base[0], !=, '.');
		g_assert_true(g_str_has_suffix(base, labels[i].safe));

		g_autofree char *got = read_file(kept);
		g_assert_cmpstr(got, ==, content);
		g_autofree char *why_path = g_strconcat(kept, ".reason", NULL);
		g_autofree char *why = read_file(why_path);
		g_autofree char *want = g_strconcat(reason, "\n", NULL);
		g_assert_cmpstr(why, ==, want);
		g_free(path);
		g_free(kept);
	}
	g_autoptr(GPtrArray) names = list_dir(staging_rejected_dir(st));
	g_assert_cmpuint(names->len, ==, 2 * G_N_ELEMENTS(labels));
	staging_close(&st);
}

/* Two rejects of the same label in the same second keep both. */
static void test_reject_same_label(struct fixture *fx, gconstpointer data)
{
	struct staging *st = NULL;
	char *kept[3] = { NULL };

	g_assert_cmpint(staging_open(fx->cache, &st), ==, 0);
	for (int i = 0; i < 3; i++) {
		int fd;
		g_autofree char *path = NULL;

		g_assert_cmpint(staging_create(st, &fd, &path), ==, 0);
		close(fd);
		g_assert_cmpint(staging_reject(st, path, "same", "why",
					       &kept[i]), ==, 0);
	}
	g_assert_cmpstr(kept[0], !=, kept[1]);
	g_assert_cmpstr(kept[0], !=, kept[2]);
	g_assert_cmpstr(kept[1], !=, kept[2]);
	for (int i = 0; i < 3; i++) {
		g_assert_true(g_file_test(kept[i], G_FILE_TEST_IS_REGULAR));
		g_free(kept[i]);
	}
	staging_close(&st);
}

static void test_reject_missing(struct fixture *fx, gconstpointer data)
{
	struct staging *st = NULL;
	g_autofree char *path = g_build_filename(fx->tmp, "absent", NULL);
	char *kept = NULL;

	g_assert_cmpint(staging_open(fx->cache, &st), ==, 0);
	g_assert_cmpint(staging_reject(st, path, "x", "y", &kept), ==,
			-ENOENT);
	g_assert_null(kept);
	staging_close(&st);
}

static void test_leftovers(struct fixture *fx, gconstpointer data)
{
	g_autofree char *staging = g_build_filename(fx->cache, "staging", NULL);
	g_autofree char *rejected = g_build_filename(fx->cache, "rejected",
						     NULL);
	g_autofree char *left1 = g_build_filename(staging, "w.AAAAAA", NULL);
	g_autofree char *left2 = g_build_filename(staging, "w.BBBBBB", NULL);
	g_autofree char *dot = g_build_filename(staging, ".keep", NULL);
	struct staging *st = NULL;

	g_assert_cmpint(g_mkdir_with_parents(staging, 0700), ==, 0);
	write_file(left1, "half a message");
	write_file(left2, "half a contact");
	write_file(dot, "");

	g_assert_cmpint(staging_open(fx->cache, &st), ==, 0);

	g_autoptr(GPtrArray) left = list_dir(staging);
	g_assert_cmpuint(left->len, ==, 1);
	g_assert_cmpstr(left->pdata[0], ==, ".keep");

	g_autoptr(GPtrArray) names = list_dir(rejected);
	g_assert_cmpuint(names->len, ==, 4);
	unsigned contents = 0, reasons = 0;
	for (guint i = 0; i < names->len; i++) {
		const char *name = names->pdata[i];
		g_autofree char *full = g_build_filename(rejected, name, NULL);
		g_autofree char *text = read_file(full);

		if (g_str_has_suffix(name, ".reason")) {
			g_assert_nonnull(strstr(text, "still being written"));
			reasons++;
		} else {
			g_assert_true(g_str_has_suffix(name, "-unfinished"));
			g_assert_true(!strcmp(text, "half a message") ||
				      !strcmp(text, "half a contact"));
			contents++;
		}
	}
	g_assert_cmpuint(contents, ==, 2);
	g_assert_cmpuint(reasons, ==, 2);
	staging_close(&st);
}

#define ADD(name, fn) \
	g_test_add("/staging/" name, struct fixture, NULL, fixture_set_up, \
		   fn, fixture_tear_down)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("open", test_open);
	ADD("open-under-file", test_open_under_file);
	ADD("create", test_create);
	ADD("reject", test_reject);
	ADD("reject-same-label", test_reject_same_label);
	ADD("reject-missing", test_reject_missing);
	ADD("leftovers", test_leftovers);
	return g_test_run();
}
