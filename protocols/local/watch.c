/*
 * watch.c - hears other writers of the store (a delivery agent, another
 * mailfs, `mailfs serve`) through inotify(7), and reports which folders
 * changed.  Events are gathered for a short while so that a burst of
 * deliveries is one report, and every folder is also reported once a minute
 * so that an overflowed or unavailable watch never loses a change for good.
 */
#include "local-private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define SETTLE_MS 50
#define MAX_DELAY_MS 300
#define SWEEP_SECONDS 60

struct wd_info {
	char *folder;			/* owned; "" for the store root */
	gboolean items;			/* events here are item changes */
};

struct local_watch {
	int ifd;
	int stop[2];			/* a pipe; writing to it ends the thread */
	GThread *thread;
	mfs_change_fn fn;
	void *data;			/* borrowed */
	GHashTable *wds;		/* wd -> struct wd_info; watcher thread */
	gboolean warned;
};

static void wd_info_free(gpointer p)
{
	struct wd_info *w = p;

	g_free(w->folder);
	g_free(w);
}

static void add_watch(struct mfs_backend *be, struct local_watch *w,
		      const char *folder, const char *sub, gboolean items)
{
	g_autofree char *path = g_build_filename(be->root, folder, sub, NULL);
	uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
			IN_CLOSE_WRITE | IN_ONLYDIR | IN_DELETE_SELF |
			IN_MOVE_SELF | IN_ATTRIB;
	int wd = inotify_add_watch(w->ifd, path, mask);

	if (wd < 0) {
		if (!w->warned && errno != ENOENT)
			log_warn("watching %s (changes by other programs "
				 "show up within a minute instead)", path);
		w->warned = w->warned || errno != ENOENT;
		return;
	}
	struct wd_info *info = g_new0(struct wd_info, 1);
	info->folder = g_strdup(folder);
	info->items = items;
	g_hash_table_replace(w->wds, GINT_TO_POINTER(wd), info);
}

/* Watch the root, every folder directory, and every cur/ and new/. */
static void add_all(struct mfs_backend *be, struct local_watch *w)
{
	GPtrArray *folders = NULL;

	add_watch(be, w, "", NULL, FALSE);
	if (be->folders == NULL)
		return;
	if (local_backend_ops.list_folders(be, &folders, NULL) < 0)
		return;
	for (guint i = 0; i < folders->len; i++) {
		struct mfs_folder_info *fi = folders->pdata[i];
		add_watch(be, w, fi->path, NULL,
			  fi->kind == MFS_FOLDER_CONTACTS ||
			  fi->kind == MFS_FOLDER_CALENDAR);
		if (fi->kind == MFS_FOLDER_MAIL) {
			add_watch(be, w, fi->path, "cur", TRUE);
			add_watch(be, w, fi->path, "new", TRUE);
		}
	}
	g_ptr_array_unref(folders);
}

static gint64 now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

/* Read what inotify has; mark folders and the hierarchy dirty. */
static void drain(struct local_watch *w, GHashTable *dirty, gboolean *tree)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(w->ifd, buf, sizeof(buf));

	for (char *p = buf; n > 0 && p < buf + n;) {
		struct inotify_event *ev = (struct inotify_event *)p;
		struct wd_info *info = g_hash_table_lookup(
			w->wds, GINT_TO_POINTER(ev->wd));

		p += sizeof(*ev) + ev->len;
		if (ev->mask & IN_Q_OVERFLOW) {
			*tree = TRUE;
			continue;
		}
		if (ev->mask & IN_IGNORED) {
			g_hash_table_remove(w->wds, GINT_TO_POINTER(ev->wd));
			continue;
		}
		if (!info)
			continue;
		if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
			*tree = TRUE;
			continue;
		}
		const char *name = ev->len ? ev->name : "";
		/* a dot-name is never a folder nor an item: .notmuch's
		 * database churning is no change of the store */
		if (name[0] == '.' && strcmp(name, LOCAL_KIND_FILE))
			continue;
		if (!strcmp(name, LOCAL_KIND_FILE) || (ev->mask & IN_ISDIR)) {
			*tree = TRUE;
			if (*info->folder)
				g_hash_table_add(dirty, g_strdup(info->folder));
			continue;
		}
		if (info->items && name[0] != '.')
			g_hash_table_add(dirty, g_strdup(info->folder));
	}
}

static gpointer watch_thread(gpointer p)
{
	struct mfs_backend *be = p;
	struct local_watch *w = be->watch;
	GHashTable *dirty = g_hash_table_new_full(g_str_hash, g_str_equal,
						  g_free, NULL);
	gboolean tree = FALSE;
	gint64 first = 0, last = 0, sweep = now_ms() + SWEEP_SECONDS * 1000;

	for (;;) {
		struct pollfd pfd[2] = { { w->ifd, POLLIN, 0 },
					 { w->stop[0], POLLIN, 0 } };
		gboolean pending = tree || g_hash_table_size(dirty) > 0;
		int timeout = pending ? SETTLE_MS
				      : (int)MAX(0, sweep - now_ms());

		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & POLLIN) {
			drain(w, dirty, &tree);
			last = now_ms();
			if (!first)
				first = last;
			if (now_ms() - first < MAX_DELAY_MS)
				continue;
		}
		if (now_ms() >= sweep) {
			sweep = now_ms() + SWEEP_SECONDS * 1000;
			tree = TRUE;
			GPtrArray *all = NULL;
			if (local_backend_ops.list_folders(be, &all, NULL) == 0) {
				for (guint i = 0; i < all->len; i++) {
					struct mfs_folder_info *fi = all->pdata[i];
					g_hash_table_add(dirty,
							 g_strdup(fi->path));
				}
				g_ptr_array_unref(all);
			}
		}
		if (!tree && g_hash_table_size(dirty) == 0)
			continue;
		if (now_ms() - last < SETTLE_MS &&
		    now_ms() - first < MAX_DELAY_MS)
			continue;
		log_debug(LOG_WATCH, "store changed: %u folder(s)%s",
			  g_hash_table_size(dirty), tree ? ", folder list" : "");
		if (tree) {
			add_all(be, w);
			w->fn(NULL, w->data);
		}
		GHashTableIter it;
		gpointer key;
		g_hash_table_iter_init(&it, dirty);
		while (g_hash_table_iter_next(&it, &key, NULL))
			w->fn(key, w->data);
		g_hash_table_remove_all(dirty);
		tree = FALSE;
		first = last = 0;
	}
	g_hash_table_unref(dirty);
	return NULL;
}

int local_watch_start(struct mfs_backend *be, mfs_change_fn fn, void *data)
{
	struct local_watch *w;

	if (be->watch)
		return -EBUSY;
	w = g_new0(struct local_watch, 1);
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0 || pipe2(w->stop, O_CLOEXEC) != 0) {
		int rc = -errno;
		if (w->ifd >= 0)
			close(w->ifd);
		g_free(w);
		return rc;
	}
	w->fn = fn;
	w->data = data;
	w->wds = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
				       wd_info_free);
	be->watch = w;
	add_all(be, w);
	w->thread = g_thread_new("store-watch", watch_thread, be);
	return 0;
}

void local_watch_stop(struct mfs_backend *be)
{
	struct local_watch *w = be->watch;

	if (!w)
		return;
	if (write(w->stop[1], "x", 1) < 0)
		log_warn("stopping the store watcher");
	g_thread_join(w->thread);
	close(w->stop[0]);
	close(w->stop[1]);
	close(w->ifd);
	g_hash_table_unref(w->wds);
	g_free(w);
	be->watch = NULL;
}
