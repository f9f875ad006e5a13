/*
 * watch.c - hearing the server's changes by polling: every
 * poll_interval seconds the folder list and every folder are reported,
 * and each folder's sync then asks what changed since its token (a
 * sync-collection that answers with nothing, or an unchanged getctag,
 * when nothing did).  WebDAV has no push every server offers.
 */
#include "davc-private.h"

#include <errno.h>

/* How often the thread looks whether it must stop. */
#define SLICE_MS 200

struct davc_watch {
	GThread *thread;
	gint stop;			/* atomic */
	mfs_change_fn fn;
	void *data;			/* borrowed */
	struct mfs_backend *be;		/* borrowed */
};

static void report_all(struct davc_watch *w)
{
	struct mfs_backend *be = w->be;
	g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer key;

	w->fn(NULL, w->data);
	g_mutex_lock(&be->lock);
	g_hash_table_iter_init(&it, be->colls);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_ptr_array_add(list, g_strdup(key));
	g_mutex_unlock(&be->lock);
	for (guint i = 0; i < list->len && !g_atomic_int_get(&w->stop); i++)
		w->fn(list->pdata[i], w->data);
}

static gpointer watcher(gpointer p)
{
	struct davc_watch *w = p;
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

int davc_watch_start(struct mfs_backend *be, mfs_change_fn fn, void *data)
{
	struct davc_watch *w;

	if (be->watch)
		return -EALREADY;
	w = g_new0(struct davc_watch, 1);
	w->fn = fn;
	w->data = data;
	w->be = be;
	w->thread = g_thread_new("dav-watch", watcher, w);
	be->watch = w;
	return 0;
}

void davc_watch_stop(struct mfs_backend *be)
{
	struct davc_watch *w = be->watch;

	if (!w)
		return;
	g_atomic_int_set(&w->stop, 1);
	g_thread_join(w->thread);
	g_free(w);
	be->watch = NULL;
}
