/*
 * wb-flusher.c - the write-back engine's heart: the state of a journal
 * row and the one function that changes it, and the flusher, the thread
 * that replays the journal to the inner store, oldest row first.
 *
 * A change returns to the mount once it is durable here (wb-record.c):
 * its journal row and its effect on the index commit in one transaction,
 * and the row is born QUEUED.  From then on every change of its state is
 * made by wb_row_set(), below, and by nothing else:
 *
 *                        journal_add() (wb-record.c)
 *                                   |
 *       requeue_rows(),             v               wb_remove()
 *       wb_replay_send()  +----> QUEUED ------------------------------+
 *       (DEFERRED),       |         |                                 |
 *       sent_to()         |         | replay_first(), claim_rows()    |
 *                         |         v                                 |
 *                         +------ SENT <--+ replay_first(): claimed   |
 *                                  | |    |  again after RETRY or a   |
 *                                  | +----+  crash, looked up first   |
 *               +------------------+------------------+               |
 *               | wb_finish_row(), | wb_refuse_row()  | hold()        |
 *               | sent_only()      |                  |               |
 *               v                  v                  v               |
 *             DONE              DROPPED <----------- HELD             |
 *                                  ^     wb_remove()                  |
 *                                  +----------------------------------+
 *                                     wb_refuse_row() (a row that
 *                                     depends on a refused one)
 *
 * DONE and DROPPED are not stored: the row is removed.  The transitions,
 * and the one function that asks wb_row_set() for each:
 *
 *   from    to       by                when
 *   -       QUEUED   journal_add()     a change is recorded (wb-record.c)
 *   QUEUED  SENT     replay_first()    the oldest row is claimed alone
 *   QUEUED  SENT     claim_rows()      a run of like rows is claimed as one
 *                                      (wb-batch.c)
 *   SENT    SENT     replay_first()    claimed again: a request for it may
 *                                      have gone out (RETRY, or a crash)
 *   SENT    QUEUED   requeue_rows()    the store has no call for the batch:
 *                                      nothing was sent (wb-batch.c)
 *   SENT    QUEUED   wb_replay_send()  DEFERRED: nothing of the message
 *                                      reached the server (wb-outbox.c)
 *   SENT    QUEUED   sent_to()         the server took a SEND: the row
 *                                      becomes the APPEND of its copy to
 *                                      the sent folder (wb-outbox.c)
 *   SENT    DONE     wb_finish_row()   DONE: removed, the server id handed
 *                                      on to what the row made
 *                                      (wb-replay.c)
 *   SENT    DONE     sent_only()       the server took a SEND and there is
 *                                      no folder for its copy (wb-outbox.c)
 *   SENT    HELD     hold()            a SEND refused, perhaps taken
 *                                      already, or its bytes gone: it waits
 *                                      for the user (wb-outbox.c)
 *   SENT    DROPPED  wb_refuse_row()   REFUSED: removed with the rows that
 *                                      depend on it, what the user made
 *                                      kept in sync-issues/ (wb-replay.c)
 *   QUEUED  DROPPED  wb_refuse_row()   the row depends on the refused one
 *                                      (names what it makes): it goes too
 *                                      (wb-replay.c)
 *   QUEUED  DROPPED  wb_remove()       an append or a send never sent is
 *                                      deleted: forgetting it is the whole
 *                                      delete (wb-record.c)
 *   HELD    DROPPED  wb_remove()       the user deletes a held message
 *                                      (wb-record.c)
 *
 * A round of the flusher (flusher(), replay_first()) takes the oldest row
 * not HELD (SENDs are passed over while their back-off runs), replays it,
 * alone or with the run of like rows after it, and ends in one of:
 *
 *   DONE      the row is DONE (or HELD for good): the next round at once
 *   REFUSED   the row is DROPPED: the next round at once
 *   RETRY     the row stays SENT, its failure noted: the next round after
 *             a back-off of 1 s doubling to 5 min, or at once on a kick
 *   DEFERRED  a SEND is QUEUED again: messages to send wait for their own
 *             back-off (1 s doubling to 5 min), the other rows go on
 *
 * The failure class of the inner store decides: MFS_ERR_FINAL is REFUSED
 * (or DONE where the failure means the change is already there: a delete
 * of what is gone, a folder that exists), anything else RETRY.
 */
#include "wb-private.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

#define BACKOFF_FIRST_US (1 * G_USEC_PER_SEC)
#define BACKOFF_MAX_US (300 * G_USEC_PER_SEC)
/* Failed attempts a flush waits through before it gives up. */
#define FLUSH_ATTEMPTS 3

/* The one place a row changes state: every arrow of the diagram above
 * comes through here, and is traced. */
int wb_row_set(struct wb *w, const struct jrow *r, enum jstate to,
	       struct wb_change *how)
{
	int rc = -EINVAL;

	log_debug(LOG_CACHE, "journal row %" G_GINT64_FORMAT " (%s of %s): "
		  "%s -> %s", r->seq, jop_name(r->op), r->folder,
		  jstate_name(r->state), jstate_name(to));
	switch (to) {
	case JS_SENT:
		rc = journal_claim(w->ix, r->seq, how->now_r);
		break;
	case JS_QUEUED:
		rc = how && how->folder
			? journal_retarget(w->ix, r->seq, how->folder, how->id,
					   how->flags)
			: journal_requeue(w->ix, r->seq);
		break;
	case JS_HELD:
		rc = journal_hold(w->ix, r->seq, how->reason);
		break;
	case JS_DONE:
		rc = journal_done(w->ix, r->seq, how ? how->rid : NULL);
		break;
	case JS_DROPPED:
		rc = journal_drop(w->ix, r->seq, how->dropped_r);
		break;
	}
	return rc;
}

/* ---- test hooks ---- */

/* MAILFS_TEST_CRASH_AFTER=k stops the process hard at the k-th step of
 * the flusher (a row claimed, its request answered, its completion
 * committed), so that tests can prove every step survives a crash. */
void wb_step(struct wb *w)
{
	long n;

	if (!w->fl.crash_after)
		return;
	g_mutex_lock(&w->fl.lock);
	n = ++w->fl.steps;
	g_mutex_unlock(&w->fl.lock);
	if (n >= w->fl.crash_after) {
		log_warnx("test hook: stopping hard after flush step %ld", n);
		kill(getpid(), SIGKILL);
	}
}

char *wb_content_path(struct wb *w, const char *name)
{
	return g_build_filename(w->pending, name, NULL);
}

void wb_wake(struct wb *w)
{
	g_mutex_lock(&w->fl.lock);
	g_cond_signal(&w->fl.wake);
	g_mutex_unlock(&w->fl.lock);
}

void wb_went_through(struct wb *w)
{
	g_mutex_lock(&w->fl.lock);
	w->fl.last_flush = g_get_real_time();
	g_clear_pointer(&w->fl.error, g_free);
	g_mutex_unlock(&w->fl.lock);
}

/* A mount never flushed keeps this many names of what was refused, and
 * counts the rest. */
#define REFUSED_MAX 1000

void wb_refused(struct wb *w, const char *file, const char *reason)
{
	g_mutex_lock(&w->fl.lock);
	if (w->fl.refused->len < REFUSED_MAX) {
		char *line = g_strdup_printf("%s: %s", file, reason);
		/* a server's text may break lines: one line each */
		g_ptr_array_add(w->fl.refused, g_strdelimit(line, "\r\n", ' '));
	} else {
		w->fl.refused_more++;
	}
	g_mutex_unlock(&w->fl.lock);
}

/* ---- a round ---- */

/* Replay the oldest row once, with the run of like rows after it where
 * the store can take them in one request.  Returns its outcome; RETRY and
 * DEFERRED leave the reason in *e. */
static enum wb_outcome replay_first(struct wb *w, struct jrow *first,
				    struct mfs_error *e)
{
	bool was_sent = first->state == JS_SENT;
	struct jrow *r = NULL;
	g_autoptr(jrow) again = NULL;
	g_autofree char *rid = NULL;
	enum wb_outcome out;

	unsigned max = 0;
	wb_batch_fn fn = wb_batch_for(w, first, &max);
	GPtrArray *rows = NULL;
	if (fn && journal_run(w->ix, first->seq, max, &rows) == 0 &&
	    rows->len > 1) {
		out = fn(w, rows, e);
		g_ptr_array_unref(rows);
		if (out != WB_REFUSED)
			return out;
		/* the batch was not tried or not taken: alone, as it is now */
		if (journal_get(w->ix, first->seq, &again) < 0)
			return WB_DONE;
		first = again;
		was_sent = first->state == JS_SENT;
	} else if (rows) {
		g_ptr_array_unref(rows);
	}

	/* SENT before the request leaves, and read again in the same step:
	 * a change folded into the row after this is a new row */
	if (wb_row_set(w, first, JS_SENT, &(struct wb_change){ .now_r = &r }) <
	    0)
		return WB_RETRY;
	wb_step(w);
	if (r->op == JOP_SEND) {
		out = wb_replay_send(w, r, was_sent, e);
		jrow_free(r);
		return out;
	}
	out = wb_replay(w, r, was_sent, &rid, e);
	if (out != WB_RETRY)
		wb_step(w);
	switch (out) {
	case WB_DONE:
		wb_finish_row(w, r, rid);
		wb_step(w);
		break;
	case WB_REFUSED:
		wb_refuse_row(w, r, e->msg[0] ? e->msg : "refused");
		break;
	case WB_RETRY:
	case WB_DEFERRED:
		journal_note_failure(w->ix, r->seq, e->msg);
		break;
	}
	jrow_free(r);
	return out;
}

/* After a round: the back-offs and the counts a flush waits on.  Called
 * with fl.lock held. */
static void round_ended(struct wb *w, enum wb_outcome out, bool sending,
			const struct mfs_error *e)
{
	struct wb_flusher *fl = &w->fl;

	if (out == WB_DEFERRED) {
		/* messages to send wait; the other rows go on */
		fl->send_delay = fl->send_delay
			? MIN(fl->send_delay * 2, BACKOFF_MAX_US)
			: BACKOFF_FIRST_US;
		fl->send_after = g_get_monotonic_time() + fl->send_delay;
	} else if (out == WB_DONE && sending) {
		fl->send_delay = 0;
	}
	if (out == WB_RETRY || out == WB_DEFERRED) {
		fl->failures++;
		g_free(fl->error);
		fl->error = g_strdup(e->msg[0] ? e->msg : "failed");
		log_debug(LOG_CACHE, "flush: %s", fl->error);
	}
	fl->rounds++;
	g_cond_broadcast(&fl->progress);
}

static gpointer flusher(gpointer p)
{
	struct wb *w = p;
	struct wb_flusher *fl = &w->fl;
	gint64 delay = 0;

	g_mutex_lock(&fl->lock);
	while (!fl->stop) {
		if (fl->hold && !fl->kicked) {
			g_cond_wait(&fl->wake, &fl->lock);
			continue;
		}
		fl->hold = false;
		gint64 send_after = fl->send_after;
		g_mutex_unlock(&fl->lock);

		struct jrow *first = NULL;
		struct mfs_error e = { 0 };
		enum wb_outcome out = WB_DONE;
		bool sends = g_get_monotonic_time() >= send_after;
		bool empty = journal_first(w->ix, sends, &first) < 0;
		bool sending = !empty && first->op == JOP_SEND;
		if (!empty) {
			g_mutex_lock(&w->replay_lock);
			out = replay_first(w, first, &e);
			g_mutex_unlock(&w->replay_lock);
			jrow_free(first);
		}

		g_mutex_lock(&fl->lock);
		round_ended(w, out, sending, &e);
		if (empty) {
			delay = 0;
			/* messages to send may be waiting for their time */
			if (!sends && !fl->kicked && !fl->stop)
				g_cond_wait_until(&fl->wake, &fl->lock,
						  send_after);
			else if (!fl->kicked && !fl->stop)
				g_cond_wait(&fl->wake, &fl->lock);
			fl->kicked = false;
		} else if (out == WB_RETRY) {
			delay = delay ? MIN(delay * 2, BACKOFF_MAX_US)
				      : BACKOFF_FIRST_US;
			gint64 until = g_get_monotonic_time() + delay;
			while (!fl->stop && !fl->kicked &&
			       g_cond_wait_until(&fl->wake, &fl->lock, until))
				;
			fl->kicked = false;
		} else {
			delay = 0;
		}
	}
	g_mutex_unlock(&fl->lock);
	return NULL;
}

/* ---- the store's side ---- */

/* Retry now what waits for a back-off.  Called with fl.lock held. */
static void kick(struct wb_flusher *fl)
{
	fl->kicked = true;
	fl->send_after = 0;
	g_cond_signal(&fl->wake);
}

int wb_wait_flushed(struct wb *w, const char *folder, const char *id,
		    struct mfs_error *e)
{
	struct wb_flusher *fl = &w->fl;
	uint64_t failures, rounds;

	g_mutex_lock(&fl->lock);
	failures = fl->failures;
	kick(fl);
	g_mutex_unlock(&fl->lock);
	for (;;) {
		g_mutex_lock(&fl->lock);
		rounds = fl->rounds;
		g_mutex_unlock(&fl->lock);
		/* looked at without our lock: the index's is never taken
		 * under it; a round that ends meanwhile moves `rounds` */
		int64_t n = journal_count(w->ix);
		bool pending = folder ? journal_names(w->ix, folder, id) : n > 0;
		if (!pending) {
			/* the round that took the last rows may still be
			 * keeping what the server refused in sync-issues/
			 * (wb_refuse_row, under replay_lock): done is done
			 * with that too */
			g_mutex_lock(&w->replay_lock);
			g_mutex_unlock(&w->replay_lock);
			return 0;
		}
		g_mutex_lock(&fl->lock);
		/* a failure may be a passing one (a server busy a moment):
		 * tried again at once, twice, before giving up */
		if (fl->failures != failures &&
		    fl->failures - failures < FLUSH_ATTEMPTS)
			kick(fl);
		if (fl->failures - failures >= FLUSH_ATTEMPTS || fl->stop ||
		    !fl->thread) {
			mfs_error_set(e, -EAGAIN, MFS_ERR_ACCOUNT,
				      MFS_ERR_BACKOFF, "%" G_GINT64_FORMAT
				      " changes wait for the server: %s", n,
				      fl->error ? fl->error
						: "the flusher is stopped");
			g_mutex_unlock(&fl->lock);
			return -EAGAIN;
		}
		gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC;
		while (fl->rounds == rounds && !fl->stop &&
		       g_cond_wait_until(&fl->progress, &fl->lock, until))
			;
		g_mutex_unlock(&fl->lock);
	}
}

/* What was refused since the last flush becomes what this one says.
 * Returns 0 when nothing was, else -EREMOTEIO. */
static int say_refused(struct wb *w, struct mfs_error *e)
{
	struct wb_flusher *fl = &w->fl;

	g_mutex_lock(&fl->lock);
	unsigned n = fl->refused->len + fl->refused_more;
	if (n) {
		g_ptr_array_unref(fl->reported);
		fl->reported = fl->refused;
		fl->reported_more = fl->refused_more;
		fl->refused = g_ptr_array_new_with_free_func(g_free);
		fl->refused_more = 0;
	}
	g_mutex_unlock(&fl->lock);
	if (!n)
		return 0;
	return mfs_error_set(e, -EREMOTEIO, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
			     "the server refused %u change%s since the last "
			     "flush, kept in %s", n, n == 1 ? "" : "s",
			     w->issues);
}

/* A flush of everything also says what the server refused meanwhile: a
 * change that went to sync-issues/ has not reached the server, and the
 * one who asked for everything to be there must know. */
int wb_flush(struct wb *w, const char *folder, const char *id,
	     struct mfs_error *e)
{
	int rc = wb_wait_flushed(w, folder, id, e);

	if (rc < 0 || folder)
		return rc;
	return say_refused(w, e);
}

void wb_describe(struct wb *w, GString *out)
{
	g_string_append_printf(out, "pending: %" G_GINT64_FORMAT "\n",
			       journal_count(w->ix));
	journal_describe(w->ix, out);
	g_mutex_lock(&w->fl.lock);
	if (w->fl.last_flush) {
		GDateTime *dt = g_date_time_new_from_unix_utc(
			w->fl.last_flush / G_USEC_PER_SEC);
		g_autofree char *when = g_date_time_format(dt,
							   "%Y-%m-%dT%H:%M:%SZ");
		g_date_time_unref(dt);
		g_string_append_printf(out, "last flush: %s\n", when);
	}
	if (w->fl.error)
		g_string_append_printf(out, "flush failing: %s\n", w->fl.error);
	g_string_append_printf(out, "refused since the last flush: %u\n",
			       w->fl.refused->len + w->fl.refused_more);
	for (guint i = 0; i < w->fl.reported->len; i++)
		g_string_append_printf(out, "refused at the last flush: %s\n",
				       (const char *)w->fl.reported->pdata[i]);
	if (w->fl.reported_more)
		g_string_append_printf(out, "refused at the last flush: %u "
				       "more, not named\n",
				       w->fl.reported_more);
	g_mutex_unlock(&w->fl.lock);
	g_string_append_printf(out, "write-back: %s\n",
			       w->writeback ? "on" : "off");
	/* what the server refused, kept with the reasons */
	unsigned n = 0;
	GDir *d = g_dir_open(w->issues, 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name(d)))
		n += g_str_has_suffix(name, ".reason");
	if (d)
		g_dir_close(d);
	g_string_append_printf(out, "sync issues: %u in %s\n", n, w->issues);
}

/* ---- open and close ---- */

/* Bytes of an append that never committed: the writer was not told it
 * worked, and its staged copy is kept by the mount. */
static int clear_orphans(struct wb *w)
{
	GHashTable *live = NULL;
	int rc = journal_contents(w->ix, &live);

	if (rc < 0)
		return rc;
	GDir *d = g_dir_open(w->pending, 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name(d))) {
		if (!g_hash_table_contains(live, name)) {
			g_autofree char *p = wb_content_path(w, name);
			unlink(p);
		}
	}
	if (d)
		g_dir_close(d);
	g_hash_table_unref(live);
	return 0;
}

int wb_open(const struct wb_setup *setup, struct wb **w_r, char **why_r)
{
	struct wb *w = g_new0(struct wb, 1);
	const char *hook;
	int rc;

	w->inner = setup->inner;
	w->ix = setup->ix;
	w->blobs = setup->blobs;
	w->sender = setup->sender;
	w->hooks = setup->hooks;
	w->writeback = setup->writeback;
	g_mutex_init(&w->replay_lock);
	g_mutex_init(&w->fl.lock);
	g_cond_init(&w->fl.wake);
	g_cond_init(&w->fl.progress);
	w->fl.refused = g_ptr_array_new_with_free_func(g_free);
	w->fl.reported = g_ptr_array_new_with_free_func(g_free);
	w->pending = g_build_filename(setup->dir, "pending", NULL);
	w->issues = g_build_filename(setup->dir, "sync-issues", NULL);
	if ((rc = file_mkdir_p(w->pending, 0700)) < 0 ||
	    (rc = file_mkdir_p(w->issues, 0700)) < 0) {
		*why_r = g_strdup_printf("%s: %s", setup->dir, g_strerror(-rc));
		wb_close(&w);
		return rc;
	}
	if ((rc = clear_orphans(w)) < 0) {
		*why_r = g_strdup("cannot read the journal");
		wb_close(&w);
		return rc;
	}
	if ((hook = getenv("MAILFS_TEST_CRASH_AFTER")) && *hook)
		w->fl.crash_after = strtol(hook, NULL, 10);
	if ((hook = getenv("MAILFS_TEST_HOLD_FLUSH")) && *hook == '1')
		w->fl.hold = true;
	*w_r = w;
	return 0;
}

void wb_start(struct wb *w)
{
	GThread *t = g_thread_new("cache-flush", flusher, w);

	g_mutex_lock(&w->fl.lock);
	w->fl.thread = t;
	g_mutex_unlock(&w->fl.lock);
}

void wb_stop(struct wb *w)
{
	GThread *t;

	if (!w)
		return;
	g_mutex_lock(&w->fl.lock);
	w->fl.stop = true;
	g_cond_broadcast(&w->fl.wake);
	g_cond_broadcast(&w->fl.progress);
	t = w->fl.thread;
	g_mutex_unlock(&w->fl.lock);
	if (t)
		g_thread_join(t);
	g_mutex_lock(&w->fl.lock);
	w->fl.thread = NULL;
	g_mutex_unlock(&w->fl.lock);
}

void wb_close(struct wb **wp)
{
	struct wb *w = *wp;

	if (!w)
		return;
	wb_stop(w);
	g_mutex_clear(&w->replay_lock);
	g_mutex_clear(&w->fl.lock);
	g_cond_clear(&w->fl.wake);
	g_cond_clear(&w->fl.progress);
	g_free(w->pending);
	g_free(w->issues);
	g_free(w->fl.error);
	g_ptr_array_unref(w->fl.refused);
	g_ptr_array_unref(w->fl.reported);
	wb_outbox_clear(w);
	g_free(w);
	*wp = NULL;
}
