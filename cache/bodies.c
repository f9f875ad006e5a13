/*
 * bodies.c - the body cache: a body is fetched once, on its first open,
 * however many opens ask for it at the same time (the first fetches, the
 * others wait for it: `inflight`), and kept as a file (blobs.h).  Reading
 * that moves forward through a folder makes the next bodies come in ahead
 * of the reader, several per request, on threads of their own.  An item
 * made here and not yet on the server is read from the write-back
 * engine's copy (wb_fetch_pending).
 */
#include "cache-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

/* Keep as the body of folder/id either the content of `in` (taken; -1
 * for none) or `len` bytes at `buf`. */
static int save_blob(struct mfs_backend *c, const char *folder, const char *id,
		     const char *key, int in, const void *buf, size_t len,
		     struct mfs_error *e)
{
	g_autofree char *path = blobs_path(c->blobs, key);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *tmp = g_strconcat(path, ".part", NULL);
	struct mfs_item *known = NULL;
	struct stat sb;
	int out, rc = 0;

	if ((rc = file_mkdir_p(dir, 0700)) < 0 ||
	    (out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		rc = rc < 0 ? rc : -errno;
		if (in >= 0)
			close(in);
		return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF,
				     "cache %s: %s", dir, g_strerror(-rc));
	}
	if (in >= 0) {
		rc = file_copy_fd(in, out);
		close(in);
	} else {
		rc = file_write_all(out, buf, len);
	}
	if (rc == 0 && fstat(out, &sb) != 0)
		rc = -errno;
	if (close(out) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF,
				     "cache: %s", g_strerror(-rc));
	}
	blobs_saved(c->blobs, key, (uint64_t)sb.st_size);
	/* a server may announce one size and send another: the bytes win */
	if (index_item(c->ix, folder, id, &known) == 0 &&
	    known->size != (uint64_t)sb.st_size) {
		log_warnx("%s/%s: the server said %" G_GUINT64_FORMAT " bytes "
			  "but sent %lld; the size is corrected", folder, id,
			  known->size, (long long)sb.st_size);
		known->size = (uint64_t)sb.st_size;
		index_put_item(c->ix, folder, known);
		cache_tell_mount(c, folder);
	}
	mfs_item_free(known);
	return 0;
}

static int fill_blob(struct mfs_backend *c, const char *folder, const char *id,
		     const char *key, struct mfs_error *e)
{
	g_autofree char *rid = NULL;
	int64_t origin = 0;
	int in, rc = index_item_rid(c->ix, folder, id, &rid, &origin);

	if (rc == -ENOENT)
		rid = g_strdup(id);	/* not listed (yet): ask anyway */
	else if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF,
				     "cache index: %s", g_strerror(-rc));
	/* an item made here comes from what made it until the server
	 * has it */
	rc = rid ? mfs_store_fetch(&c->inner, folder, rid, &in, e)
		 : wb_fetch_pending(c->wb, origin, &in, e);
	if (rc < 0)
		return rc;
	return save_blob(c, folder, id, key, in, NULL, 0, e);
}

/* Say "this one fetches `key`"; false when another already does.  Takes
 * c->lock. */
static bool claim(struct mfs_backend *c, const char *key)
{
	struct fetch_wait *w;

	g_mutex_lock(&c->lock);
	if (g_hash_table_contains(c->fetch.inflight, key)) {
		g_mutex_unlock(&c->lock);
		return false;
	}
	w = g_new0(struct fetch_wait, 1);
	g_cond_init(&w->cond);
	w->waiters = 1;
	g_hash_table_insert(c->fetch.inflight, g_strdup(key), w);
	g_mutex_unlock(&c->lock);
	return true;
}

/* The claimed fetch of `key` ended with `rc`: wake whoever waits. */
static void finish(struct mfs_backend *c, const char *key, int rc)
{
	struct fetch_wait *w;

	g_mutex_lock(&c->lock);
	w = g_hash_table_lookup(c->fetch.inflight, key);
	if (w) {
		g_hash_table_remove(c->fetch.inflight, key);
		w->done = true;
		w->rc = rc;
		g_cond_broadcast(&w->cond);
		if (--w->waiters == 0) {
			g_cond_clear(&w->cond);
			g_free(w);
		}
	}
	g_mutex_unlock(&c->lock);
}

/* Make sure the body is on disk: fetch it, or wait for whoever fetches it
 * already.  Returns 0 or -errno. */
static int ensure_blob(struct mfs_backend *c, const char *folder,
		       const char *id, const char *key, const char *path,
		       struct mfs_error *e)
{
	struct fetch_wait *w;
	bool waited_for_failure = false;
	int rc;

	for (;;) {
		if (access(path, F_OK) == 0)
			return 0;
		g_mutex_lock(&c->lock);
		w = g_hash_table_lookup(c->fetch.inflight, key);
		if (w) {
			/* someone fetches it: wait, then look again */
			w->waiters++;
			while (!w->done)
				g_cond_wait(&w->cond, &c->lock);
			rc = w->rc;
			if (--w->waiters == 0) {
				g_cond_clear(&w->cond);
				g_free(w);
			}
			g_mutex_unlock(&c->lock);
			/* a failed prefetch is tried once more by the reader
			 * itself, which then gets the real reason */
			if (rc < 0 && waited_for_failure)
				return mfs_error_set(e, rc, MFS_ERR_ITEM,
						     MFS_ERR_TRANSIENT,
						     "fetching %s/%s failed",
						     folder, id);
			waited_for_failure = rc < 0;
			continue;
		}
		g_mutex_unlock(&c->lock);
		if (!claim(c, key))
			continue;
		rc = fill_blob(c, folder, id, key, e);
		finish(c, key, rc);
		return rc;
	}
}

struct pf_task {
	char *folder;
	char *id;
	char *rid;			/* the inner store's id, once looked up */
	char *key;
};

static void pf_task_free(struct pf_task *t)
{
	g_free(t->folder);
	g_free(t->id);
	g_free(t->rid);
	g_free(t->key);
	g_free(t);
}

/*
 * Reading that moves forward through a folder (rsync, grep, notmuch) makes
 * the next bodies come in ahead of it, several at a time, so that a first
 * copy is bound by the server's speed rather than by round trips.
 */
static void prefetch_after(struct mfs_backend *c, const char *folder,
			   const char *id)
{
	GPtrArray *next = NULL;
	bool forward;

	if (c->fetch.threads->len == 0)
		return;
	g_mutex_lock(&c->lock);
	bool same = c->fetch.folder && !strcmp(c->fetch.folder, folder);
	forward = !same || strcmp(id, c->fetch.id) > 0;
	/* look ahead again only when the reader has used up half of what
	 * was scheduled, not on every open */
	bool due = !same || !c->fetch.mark || strcmp(id, c->fetch.mark) >= 0;
	g_free(c->fetch.folder);
	g_free(c->fetch.id);
	c->fetch.folder = g_strdup(folder);
	c->fetch.id = g_strdup(id);
	g_mutex_unlock(&c->lock);
	if (!forward || !due || index_next_ids(c->ix, folder, id,
					       PREFETCH_WINDOW, &next) < 0)
		return;
	g_mutex_lock(&c->lock);
	g_free(c->fetch.mark);
	c->fetch.mark = next->len ? g_strdup(next->pdata[next->len / 2]) : NULL;
	g_mutex_unlock(&c->lock);
	for (guint i = 0; i < next->len; i++) {
		char *key = blobs_key(folder, next->pdata[i]);
		g_autofree char *path = blobs_path(c->blobs, key);
		if (access(path, F_OK) == 0) {
			g_free(key);
			continue;
		}
		g_mutex_lock(&c->lock);
		if (g_hash_table_contains(c->fetch.queued, key) ||
		    g_hash_table_contains(c->fetch.inflight, key)) {
			g_mutex_unlock(&c->lock);
			g_free(key);
			continue;
		}
		struct pf_task *t = g_new0(struct pf_task, 1);
		t->folder = g_strdup(folder);
		t->id = g_strdup(next->pdata[i]);
		t->key = key;
		g_hash_table_add(c->fetch.queued, key);
		g_queue_push_tail(&c->fetch.queue, t);
		g_cond_signal(&c->fetch.wake);
		g_mutex_unlock(&c->lock);
	}
	g_ptr_array_unref(next);
}

/* The body of `key` came in ahead of its reader. */
static void came_ahead(struct mfs_backend *c, const char *key)
{
	g_mutex_lock(&c->lock);
	/* what a reader never came for is not remembered for ever */
	if (g_hash_table_size(c->fetch.ahead) >= AHEAD_MAX)
		g_hash_table_remove_all(c->fetch.ahead);
	g_hash_table_add(c->fetch.ahead, g_strdup(key));
	g_mutex_unlock(&c->lock);
}

bool bodies_read_ahead(struct mfs_backend *c, const char *folder,
		       const char *id)
{
	g_autofree char *key = blobs_key(folder, id);
	bool was;

	g_mutex_lock(&c->lock);
	was = g_hash_table_remove(c->fetch.ahead, key);
	g_mutex_unlock(&c->lock);
	return was;
}

struct batch {
	struct mfs_backend *c;
	GPtrArray *tasks;		/* of struct pf_task *, claimed */
	GHashTable *done;		/* keys finished */
};

static void batch_got(const char *id, const void *buf, size_t len, void *data)
{
	struct batch *b = data;
	struct mfs_error e = { 0 };

	for (guint i = 0; i < b->tasks->len; i++) {
		struct pf_task *t = b->tasks->pdata[i];
		if (strcmp(t->rid, id) || g_hash_table_contains(b->done, t->key))
			continue;
		int rc = save_blob(b->c, t->folder, t->id, t->key, -1, buf,
				   len, &e);
		if (rc == 0)
			came_ahead(b->c, t->key);
		finish(b->c, t->key, rc);
		g_hash_table_add(b->done, t->key);
		return;
	}
}

/* Fetch a run of queued bodies of one folder in one exchange. */
static void prefetch_batch(struct mfs_backend *c, GPtrArray *tasks)
{
	struct batch b = { c, g_ptr_array_new(), g_hash_table_new(g_str_hash,
								  g_str_equal) };
	GPtrArray *ids = g_ptr_array_new();
	struct mfs_error e = { 0 };
	int rc;

	for (guint i = 0; i < tasks->len; i++) {
		struct pf_task *t = tasks->pdata[i];
		g_autofree char *path = blobs_path(c->blobs, t->key);
		if (access(path, F_OK) == 0)
			continue;
		/* only what the server has goes into a batch */
		g_clear_pointer(&t->rid, g_free);
		if (index_item_rid(c->ix, t->folder, t->id, &t->rid,
				   NULL) < 0 || !t->rid || !claim(c, t->key))
			continue;
		g_ptr_array_add(b.tasks, t);
		g_ptr_array_add(ids, t->rid);
	}
	if (b.tasks->len > 0) {
		struct pf_task *first = b.tasks->pdata[0];
		rc = mfs_store_fetch_batch(&c->inner, first->folder,
					   (const char *const *)ids->pdata,
					   ids->len, batch_got, &b, &e);
		for (guint i = 0; i < b.tasks->len; i++) {
			struct pf_task *t = b.tasks->pdata[i];
			if (g_hash_table_contains(b.done, t->key))
				continue;
			/* not in the batch: singly, if batches are not had */
			int r = rc == -ENOTSUP
				? fill_blob(c, t->folder, t->id, t->key, &e)
				: (rc < 0 ? rc : -ENOENT);
			if (r == 0)
				came_ahead(c, t->key);
			finish(c, t->key, r);
		}
		if (rc < 0 && rc != -ENOTSUP)
			log_debug(LOG_CACHE, "prefetch: %s", e.msg);
	}
	g_ptr_array_unref(ids);
	g_ptr_array_unref(b.tasks);
	g_hash_table_unref(b.done);
}

static gpointer prefetcher(gpointer p)
{
	struct mfs_backend *c = p;
	GPtrArray *tasks = g_ptr_array_new_with_free_func(
		(GDestroyNotify)pf_task_free);

	g_mutex_lock(&c->lock);
	while (!c->stop) {
		struct pf_task *t = g_queue_pop_head(&c->fetch.queue);
		if (!t && blobs_noted(c->blobs)) {
			/* the reader has caught up: count what came in */
			g_mutex_unlock(&c->lock);
			blobs_flush(c->blobs);
			g_mutex_lock(&c->lock);
			continue;
		}
		if (!t) {
			g_cond_wait(&c->fetch.wake, &c->lock);
			continue;
		}
		g_hash_table_remove(c->fetch.queued, t->key);
		g_ptr_array_add(tasks, t);
		/* what else waits for the same folder goes along */
		for (GList *l = c->fetch.queue.head, *next; l &&
		     tasks->len < PREFETCH_BATCH; l = next) {
			struct pf_task *u = l->data;
			next = l->next;
			if (strcmp(u->folder, t->folder))
				continue;
			g_queue_delete_link(&c->fetch.queue, l);
			g_hash_table_remove(c->fetch.queued, u->key);
			g_ptr_array_add(tasks, u);
		}
		g_mutex_unlock(&c->lock);
		prefetch_batch(c, tasks);
		g_ptr_array_set_size(tasks, 0);
		g_mutex_lock(&c->lock);
	}
	g_mutex_unlock(&c->lock);
	g_ptr_array_unref(tasks);
	return NULL;
}

int bodies_fetch(struct mfs_backend *c, const char *folder, const char *id,
		 int *fd_r, struct mfs_error *e)
{
	g_autofree char *key = blobs_key(folder, id);
	g_autofree char *path = blobs_path(c->blobs, key);
	int rc;

	prefetch_after(c, folder, id);
	/* twice: eviction may take the file between fetch and open */
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = ensure_blob(c, folder, id, key, path, e)) < 0)
			return rc;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			blobs_used(c->blobs, key);
			*fd_r = fd;
			return 0;
		}
	}
	return mfs_error_set(e, -EIO, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
			     "cache: %s vanished", path);
}


void bodies_fill(struct mfs_backend *c, const char *folder, GPtrArray *items,
		 cache_progress_fn fn, void *data)
{
	GPtrArray *tasks = g_ptr_array_new_with_free_func(
		(GDestroyNotify)pf_task_free);

	for (guint k = 0; k <= items->len; k++) {
		if (k < items->len) {
			struct mfs_item *it = items->pdata[k];
			struct pf_task *t = g_new0(struct pf_task, 1);
			t->folder = g_strdup(folder);
			t->id = g_strdup(it->id);
			t->key = blobs_key(folder, it->id);
			g_ptr_array_add(tasks, t);
		}
		if (tasks->len == PREFETCH_BATCH ||
		    (k == items->len && tasks->len)) {
			prefetch_batch(c, tasks);
			g_ptr_array_set_size(tasks, 0);
		}
		if (fn && (k % PREFETCH_BATCH == 0 || k == items->len))
			fn(folder, k, items->len, data);
	}
	g_ptr_array_unref(tasks);
}

void bodies_init(struct mfs_backend *c)
{
	struct cache_fetch *f = &c->fetch;

	f->inflight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    NULL);
	g_queue_init(&f->queue);
	f->queued = g_hash_table_new(g_str_hash, g_str_equal);
	f->ahead = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_cond_init(&f->wake);
	f->threads = g_ptr_array_new();
}

void bodies_start(struct mfs_backend *c)
{
	for (int i = 0; i < PREFETCH_THREADS; i++)
		g_ptr_array_add(c->fetch.threads,
				g_thread_new("cache-prefetch", prefetcher, c));
}

void bodies_stop(struct mfs_backend *c)
{
	g_mutex_lock(&c->lock);
	g_cond_broadcast(&c->fetch.wake);
	g_mutex_unlock(&c->lock);
	for (guint i = 0; i < c->fetch.threads->len; i++)
		g_thread_join(c->fetch.threads->pdata[i]);
	g_ptr_array_set_size(c->fetch.threads, 0);
}

void bodies_clear(struct mfs_backend *c)
{
	struct cache_fetch *f = &c->fetch;

	g_ptr_array_unref(f->threads);
	g_queue_clear_full(&f->queue, (GDestroyNotify)pf_task_free);
	g_hash_table_unref(f->queued);
	g_hash_table_unref(f->ahead);
	g_hash_table_unref(f->inflight);
	g_cond_clear(&f->wake);
	g_free(f->folder);
	g_free(f->id);
	g_free(f->mark);
}
