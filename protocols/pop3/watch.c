/*
 * watch.c - POP3 cannot tell of new mail (a session sees the
 * maildrop as it was at login), so every poll_interval seconds INBOX is
 * reported changed; the cache then syncs it, with a new session.
 */
#include "pop3c-private.h"

#include <errno.h>

/* How often the thread looks whether it must stop. */
#define SLICE_MS 200

struct pop3c_watch {
	GThread *thread;
	gint stop;			/* atomic */
	mfs_change_fn fn;
	void *data;			/* borrowed */
	unsigned interval_s;
};

static gpointer watch_thread(gpointer p)
{
	struct pop3c_watch *w = p;

	while (!g_atomic_int_get(&w->stop)) {
		for (unsigned t = 0; t < w->interval_s * 1000 &&
				     !g_atomic_int_get(&w->stop);
		     t += SLICE_MS)
			g_usleep(SLICE_MS * 1000);
		if (!g_atomic_int_get(&w->stop))
			w->fn(POP3_FOLDER, w->data);
	}
	return NULL;
}

int pop3c_watch_start(struct mfs_backend *be, mfs_change_fn fn, void *data)
{
	if (be->watch)
		return -EBUSY;
	be->watch = g_new0(struct pop3c_watch, 1);
	be->watch->fn = fn;
	be->watch->data = data;
	be->watch->interval_s = be->cfg.poll_interval;
	be->watch->thread = g_thread_new("pop3-watch", watch_thread,
					 be->watch);
	return 0;
}

void pop3c_watch_stop(struct mfs_backend *be)
{
	if (!be->watch)
		return;
	g_atomic_int_set(&be->watch->stop, 1);
	g_thread_join(be->watch->thread);
	g_free(be->watch);
	be->watch = NULL;
}
