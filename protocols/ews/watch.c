/*
 * watch.c - hearing the server's changes by polling: every
 * poll_interval seconds the folder list and every mail, contacts and
 * calendar folder are reported (a contact renamed on the server renames
 * its file), and each folder's sync then asks SyncFolderItems what changed
 * since its state (a cheap question when nothing did).  EWS streaming
 * notifications would save the wait; polling works with every server.
 */
#include "ewsc-private.h"

#include <errno.h>

/* How often the thread looks whether it must stop. */
#define SLICE_MS 200

struct ewsc_watch {
	GThread *thread;
	gint stop;			/* atomic */
	mfs_change_fn fn;
	void *data;			/* borrowed */
	struct mfs_backend *be;		/* borrowed */
};

static void report_all(struct ewsc_watch *w)
{
	struct mfs_backend *be = w->be;
	GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer key, val;

	w->fn(NULL, w->data);
	g_mutex_lock(&be->lock);
	g_hash_table_iter_init(&it, be->folders);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		const struct ewsc_folder *f = val;
		if (f->kind == MFS_FOLDER_MAIL ||
		    f->kind == MFS_FOLDER_CONTACTS ||
		    f->kind == MFS_FOLDER_CALENDAR)
			g_ptr_array_add(list, g_strdup(key));
	}
	g_mutex_unlock(&be->lock);
	for (guint i = 0; i < list->len && !g_atomic_int_get(&w->stop); i++)
		w->fn(list->pdata[i], w->data);
	g_ptr_array_unref(list);
}

static gpointer watcher(gpointer p)
{
	struct ewsc_watch *w = p;
	gint64 period = (gint64)w->be->cfg.poll_interval * G_USEC_PER_SEC;
	gint64 next = g_get_monotonic_time() + period;

	while (!g_atomic_int_get(&w->stop)) {
		if (g_get_monotonic_time() < next) {
			g_usleep(SLICE_MS * 1000);
			continue;
		}
		report_all(w);
		next = g_get_monotonic_time() + period;
	}
	return NULL;
}

int ewsc_watch_start(struct mfs_backend *be, mfs_change_fn fn, void *data)
{
	struct ewsc_watch *w;

	if (be->watch)
		return -EALREADY;
	w = g_new0(struct ewsc_watch, 1);
	w->fn = fn;
	w->data = data;
	w->be = be;
	w->thread = g_thread_new("ews-watch", watcher, w);
	be->watch = w;
	return 0;
}

void ewsc_watch_stop(struct mfs_backend *be)
{
	struct ewsc_watch *w = be->watch;

	if (!w)
		return;
	g_atomic_int_set(&w->stop, 1);
	g_thread_join(w->thread);
	g_free(w);
	be->watch = NULL;
}
