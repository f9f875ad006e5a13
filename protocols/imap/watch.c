/*
 * watch.c - hearing the server's changes: IDLE (RFC 2177) on INBOX, and
 * every poll_interval seconds a report of the folder list and of every
 * folder, whose sync then asks the server what changed (cheaply where it
 * has CONDSTORE/QRESYNC).  Without IDLE, INBOX is polled like the rest.
 * The watcher keeps a connection of its own, outside the pool.
 */
#include "imapc-private.h"

#include <errno.h>
#include <string.h>

#include "log.h"

/* IDLE is restarted well within the 30 minutes RFC 2177 allows. */
#define IDLE_MAX_MS (20 * 60 * 1000)
/* How often the thread looks whether it must stop. */
#define SLICE_MS 500

struct imapc_watch {
	GThread *thread;
	gint stop;			/* atomic */
	mfs_change_fn fn;
	void *data;			/* borrowed */
};

struct idle_ctx {
	bool changed;
};

static int idle_cb(struct imap_line *l, void *data)
{
	struct idle_ctx *ic = data;
	struct imap_arg *w = imap_line_arg(l, 2);

	if (imap_arg_is(w, "EXISTS") || imap_arg_is(w, "EXPUNGE") ||
	    imap_arg_is(w, "FETCH") ||
	    imap_arg_is(imap_line_arg(l, 1), "VANISHED"))
		ic->changed = true;
	return 0;
}

static void report_all(struct mfs_backend *be, struct imapc_watch *w)
{
	GPtrArray *list = NULL;

	w->fn(NULL, w->data);
	g_mutex_lock(&be->lock);
	GHashTableIter it;
	gpointer key, val;
	list = g_ptr_array_new_with_free_func(g_free);
	g_hash_table_iter_init(&it, be->folders);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		struct imapc_folder *f = val;
		if (f->kind == MFS_FOLDER_MAIL)
			g_ptr_array_add(list, g_strdup(key));
	}
	g_mutex_unlock(&be->lock);
	for (guint i = 0; i < list->len && !g_atomic_int_get(&w->stop); i++)
		w->fn(list->pdata[i], w->data);
	g_ptr_array_unref(list);
}

/* Sleep up to `ms`, waking early to stop.  Returns false when stopping. */
static bool nap(struct imapc_watch *w, int ms)
{
	for (int t = 0; t < ms && !g_atomic_int_get(&w->stop); t += SLICE_MS)
		g_usleep(SLICE_MS * 1000);
	return !g_atomic_int_get(&w->stop);
}

static gpointer watch_thread(gpointer p)
{
	struct mfs_backend *be = p;
	struct imapc_watch *w = be->watch;
	struct imapc_conn *c = NULL;
	int backoff = 1000;
	gint64 next_poll = 0;

	while (!g_atomic_int_get(&w->stop)) {
		struct mfs_error e = { 0 };
		gint64 now = g_get_monotonic_time() / 1000;

		if (now >= next_poll) {
			report_all(be, w);
			next_poll = now + (gint64)be->cfg.poll_interval * 1000;
		}
		if (!c) {
			if (imapc_conn_open(&be->cfg, &c, &e) < 0 ||
			    imapc_select(be, c, "INBOX", NULL, &e) < 0) {
				imapc_conn_close(&c);
				log_debug(LOG_STORE, "watch: %s", e.msg);
				if (!nap(w, backoff))
					break;
				backoff = MIN(backoff * 2, 60000);
				continue;
			}
			backoff = 1000;
		}
		if (!imapc_conn_cap(c, "IDLE")) {
			int left = (int)(next_poll - g_get_monotonic_time() / 1000);
			nap(w, MAX(left, SLICE_MS));
			continue;
		}
		struct idle_ctx ic = { false };
		gint64 until = MIN(next_poll, g_get_monotonic_time() / 1000 +
					      IDLE_MAX_MS);
		int rc = imapc_conn_idle_start(c, &e);
		while (rc >= 0 && !ic.changed && !g_atomic_int_get(&w->stop) &&
		       g_get_monotonic_time() / 1000 < until)
			rc = imapc_conn_idle_wait(c, SLICE_MS, idle_cb, &ic, &e);
		if (rc >= 0)
			rc = imapc_conn_idle_done(c, idle_cb, &ic, &e);
		if (rc < 0) {
			log_debug(LOG_STORE, "watch: %s", e.msg);
			imapc_conn_close(&c);
			continue;
		}
		if (ic.changed)
			w->fn("INBOX", w->data);
	}
	imapc_conn_close(&c);
	return NULL;
}

int imapc_watch_start(struct mfs_backend *be, mfs_change_fn fn, void *data)
{
	if (be->watch)
		return -EBUSY;
	be->watch = g_new0(struct imapc_watch, 1);
	be->watch->fn = fn;
	be->watch->data = data;
	be->watch->thread = g_thread_new("imap-watch", watch_thread, be);
	return 0;
}

void imapc_watch_stop(struct mfs_backend *be)
{
	if (!be->watch)
		return;
	g_atomic_int_set(&be->watch->stop, 1);
	g_thread_join(be->watch->thread);
	g_free(be->watch);
	be->watch = NULL;
}
