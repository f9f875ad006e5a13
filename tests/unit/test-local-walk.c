/*
 * test-local-walk.c - the embedded store's walk of its folder tree meets
 * every directory once: symbolic links (to a parent, to the top) are not
 * followed, and the store bind-mounted inside itself is not listed again
 * below itself.  The bind mounts are made in a child of the test, in a
 * mount namespace of its own; where none can be made, that case is
 * skipped.  A child that does not finish in time fails the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <stdbool.h>

#include "backend.h"

#define SKIPPED 77
#define BOUND_SECONDS 20

static int rm_entry(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	return remove(path);
}

static char *make_store(void)
{
	GError *err = NULL;
	char *dir = g_dir_make_tmp("mailfs-walk-XXXXXX", &err);

	g_assert_no_error(err);
	for (const char *const *s = (const char *const[]){ "cur", "new",
							      "tmp", NULL };
	     *s; s++) {
		g_autofree char *p = g_build_filename(dir, "INBOX", *s, NULL);
		g_assert_cmpint(g_mkdir_with_parents(p, 0700), ==, 0);
		g_autofree char *q = g_build_filename(dir, "Work", *s, NULL);
		g_assert_cmpint(g_mkdir_with_parents(q, 0700), ==, 0);
	}
	return dir;
}

/* The folders of the store at `dir`, joined by ' '.  Caller owns the
 * result. */
static char *folders_of(const char *dir)
{
	struct mfs_account acct = { .name = "t", .type = "local",
				    .store = dir };
	struct mfs_store st;
	struct mfs_error e = { 0 };
	GPtrArray *list = NULL;
	GError *err = NULL;

	g_assert_cmpint(mfs_store_open(&acct, &st, &err), ==, 0);
	g_assert_no_error(err);
	g_assert_cmpint(mfs_store_list_folders(&st, &list, &e), ==, 0);
	GPtrArray *names = g_ptr_array_new();
	for (guint i = 0; i < list->len; i++)
		g_ptr_array_add(names, ((struct mfs_folder_info *)
					list->pdata[i])->path);
	g_ptr_array_add(names, NULL);
	char *out = g_strjoinv(" ", (char **)names->pdata);
	g_ptr_array_free(names, TRUE);
	g_ptr_array_unref(list);
	mfs_store_close(&st);
	return out;
}

/* Whether `list` (of folders_of) holds `name` or a folder below it. */
static bool has(const char *list, const char *name)
{
	g_auto(GStrv) folders = g_strsplit(list, " ", -1);
	g_autofree char *below = g_strconcat(name, "/", NULL);

	for (char **f = folders; *f; f++)
		if (!strcmp(*f, name) || g_str_has_prefix(*f, below))
			return true;
	return false;
}

static void test_symlinks_not_followed(void)
{
	g_autofree char *dir = make_store();
	g_autofree char *up = g_build_filename(dir, "Work", "up", NULL);
	g_autofree char *top = g_build_filename(dir, "top", NULL);

	g_assert_cmpint(symlink("..", up), ==, 0);
	g_assert_cmpint(symlink(dir, top), ==, 0);
	g_autofree char *got = folders_of(dir);
	g_assert_false(has(got, "Work/up"));
	g_assert_false(has(got, "top"));
	g_assert_true(has(got, "INBOX"));
	g_assert_true(has(got, "Work"));
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* In the child: a mount namespace of its own (as root, or in a user
 * namespace), then `dir` bind-mounted at dir/x and dir/y.  Returns 0, or
 * SKIPPED when this machine allows neither. */
static int bind_loops(const char *dir)
{
	if (unshare(CLONE_NEWNS) != 0) {
		uid_t uid = getuid();
		gid_t gid = getgid();
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
			return SKIPPED;
		g_autofree char *um = g_strdup_printf("0 %u 1", uid);
		g_autofree char *gm = g_strdup_printf("0 %u 1", gid);
		if (!g_file_set_contents("/proc/self/setgroups", "deny", -1,
					 NULL) ||
		    !g_file_set_contents("/proc/self/uid_map", um, -1, NULL) ||
		    !g_file_set_contents("/proc/self/gid_map", gm, -1, NULL))
			return SKIPPED;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return SKIPPED;
	for (const char *const *s = (const char *const[]){ "x", "y", NULL };
	     *s; s++) {
		g_autofree char *at = g_build_filename(dir, *s, NULL);
		if (g_mkdir(at, 0700) != 0 ||
		    mount(dir, at, NULL, MS_BIND, NULL) != 0)
			return SKIPPED;
	}
	return 0;
}

static void test_bind_mount_loops(void)
{
	g_autofree char *dir = make_store();
	int fds[2];

	g_assert_cmpint(pipe(fds), ==, 0);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		close(fds[0]);
		int rc = bind_loops(dir);
		if (rc)
			_exit(rc);
		g_autofree char *got = folders_of(dir);
		if (write(fds[1], got, strlen(got)) < 0)
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	/* whatever the walk does, the test ends */
	int status = 0;
	gint64 deadline = g_get_monotonic_time() +
			  BOUND_SECONDS * G_USEC_PER_SEC;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (g_get_monotonic_time() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(fds[0]);
			g_error("the walk of a store with bind-mount loops "
				"still ran after %d s", BOUND_SECONDS);
		}
		g_usleep(20 * 1000);
	}
	char buf[4096] = { 0 };
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIPPED) {
		g_test_skip("no mount namespace can be made here");
	} else {
		g_assert_true(WIFEXITED(status));
		g_assert_cmpint(WEXITSTATUS(status), ==, 0);
		g_assert_cmpint(n, >, 0);
		/* the store once; x and y are the store again */
		g_assert_true(has(buf, "INBOX"));
		g_assert_true(has(buf, "Work"));
		g_assert_false(has(buf, "x"));
		g_assert_false(has(buf, "y"));
	}
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/local-walk/symlinks", test_symlinks_not_followed);
	g_test_add_func("/local-walk/bind-loops", test_bind_mount_loops);
	return g_test_run();
}
