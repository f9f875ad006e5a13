/*
 * cache.c - the cached store: see cache.h.
 *
 * Threads:
 *   - callers (the mount's handlers) read the index and the blob files, and
 *     pass changes on to the inner store, recording the outcome;
 *   - the worker keeps the index in step: it runs the inner store's
 *     list_folders() and sync() for what the inner watcher reported (or
 *     what the cache itself queued, such as a size a server misreported),
 *     and reports to the mount what changed, never holding a lock of ours
 *     while it calls the mount.
 * A body is fetched once however many opens ask for it at the same time:
 * the first fetches, the others wait for it (`inflight`).
 */
#include "cache-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "index.h"
#include "log.h"

char *cache_blob_key(const char *folder, const char *id)
{
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	char *key;

	g_checksum_update(ck, (const guchar *)folder, (gssize)strlen(folder) + 1);
	g_checksum_update(ck, (const guchar *)id, (gssize)strlen(id));
	key = g_strdup(g_checksum_get_string(ck));
	g_checksum_free(ck);
	return key;
}

char *cache_blob_path(struct mfs_backend *c, const char *key)
{
	char sub[3] = { key[0], key[1], '\0' };

	return g_build_filename(c->blobs, sub, key, NULL);
}

void cache_enqueue(struct mfs_backend *c, const char *folder)
{
	g_mutex_lock(&c->lock);
	if (!g_hash_table_contains(c->queued, folder)) {
		char *f = g_strdup(folder);
		g_hash_table_add(c->queued, f);
		g_queue_push_tail(&c->queue, f);
		g_cond_signal(&c->wake);
	}
	g_mutex_unlock(&c->lock);
}

void cache_tell_mount(struct mfs_backend *c, const char *folder)
{
	g_autofree char *note = g_strconcat("\001", folder, NULL);

	cache_enqueue(c, note);
}

/* The inner store's watcher: something changed there. */
static void inner_changed(const char *folder, void *data)
{
	cache_enqueue(data, folder ? folder : "");
}

bool cache_is_outbox(struct mfs_backend *c, const char *folder)
{
	return c->outbox && !strcmp(folder, CACHE_OUTBOX);
}

/* The outbox is ours, not the server's: it joins the server's list, in
 * place of a server folder of that name (which the mount cannot show). */
static void add_outbox(struct mfs_backend *c, GPtrArray *list)
{
	for (guint i = 0; i < list->len; i++) {
		struct mfs_folder_info *fi = list->pdata[i];
		if (!strcmp(fi->path, CACHE_OUTBOX) ||
		    g_str_has_prefix(fi->path, CACHE_OUTBOX "/")) {
			if (!c->outbox_shadowed)
				log_warnx("the server's folder %s is not shown: "
					  "%s/ is where messages to send go",
					  fi->path, CACHE_OUTBOX);
			c->outbox_shadowed = true;
			g_ptr_array_remove_index(list, i--);
		}
	}
	g_ptr_array_add(list, mfs_folder_info_new(CACHE_OUTBOX,
						  MFS_FOLDER_OUTBOX));
}

static int refresh_folders(struct mfs_backend *c, bool *changed_r,
			   struct mfs_error *e)
{
	GPtrArray *list = NULL;
	int64_t fgen = index_folders_gen(c->ix);
	int rc = mfs_store_list_folders(&c->inner, &list, e);

	*changed_r = false;
	if (rc < 0) {
		log_debug(LOG_CACHE, "listing folders: %s", e->msg);
		return rc;
	}
	if (c->outbox)
		add_outbox(c, list);
	rc = index_set_folders(c->ix, list, fgen, changed_r);
	g_ptr_array_unref(list);
	/* folder changes made here come first; the flusher asks again once
	 * they are on the server */
	return rc == -EAGAIN ? 0 : rc;
}

static int refresh_folder(struct mfs_backend *c, const char *folder,
			  bool *changed_r, struct mfs_error *e)
{
	g_autofree char *state = NULL;
	struct mfs_sync_result *res = NULL;
	int64_t lgen = 0;
	int rc = index_folder_state(c->ix, folder, &state, NULL, &lgen);

	*changed_r = false;
	if (rc < 0 || cache_is_outbox(c, folder))
		return rc;	/* the outbox is only here */
	rc = mfs_store_sync(&c->inner, folder, state, &res, e);
	if (rc < 0) {
		if (rc != -ENOENT) {
			log_error_record("syncing %s: %s", folder, e->msg);
			g_mutex_lock(&c->lock);
			g_free(c->last_error);
			c->last_error = g_strdup_printf("%s: %s", folder,
							e->msg);
			g_mutex_unlock(&c->lock);
		}
		return rc;
	}
	g_mutex_lock(&c->lock);
	c->last_sync = g_get_real_time();
	g_clear_pointer(&c->last_error, g_free);
	g_mutex_unlock(&c->lock);
	rc = index_apply(c->ix, folder, res, lgen, changed_r);
	mfs_sync_result_free(&res);
	if (rc == -EAGAIN) {
		/* changed here meanwhile: again, unless changes wait for the
		 * server, which asks again once they are there */
		if (!journal_names(c->ix, folder, NULL))
			cache_enqueue(c, folder);
		rc = 0;
	}
	return rc;
}

static gpointer worker(gpointer p)
{
	struct mfs_backend *c = p;

	g_mutex_lock(&c->lock);
	while (!c->stop) {
		char *folder = g_queue_pop_head(&c->queue);
		if (!folder) {
			g_cond_wait(&c->wake, &c->lock);
			continue;
		}
		g_hash_table_steal(c->queued, folder);
		mfs_change_fn fn = c->fn;
		void *fn_data = c->fn_data;
		g_mutex_unlock(&c->lock);

		bool changed = false;
		struct mfs_error e = { 0 };
		if (!*folder) {
			if (refresh_folders(c, &changed, &e) == 0 && changed && fn)
				fn(NULL, fn_data);
		} else if (folder[0] == '\001') {
			/* only tell the mount (a corrected size) */
			if (fn)
				fn(folder + 1, fn_data);
		} else if (refresh_folder(c, folder, &changed, &e) == 0 &&
			   changed && fn) {
			fn(folder, fn_data);
		}
		g_free(folder);
		g_mutex_lock(&c->lock);
	}
	g_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- the store's members ---- */

static int cache_list_folders(struct mfs_backend *c, GPtrArray **folders_r,
			      struct mfs_error *e)
{
	return index_folders(c->ix, folders_r);
}

/* The mount's state is our change counter: while it holds, nothing moved. */
static int cache_sync(struct mfs_backend *c, const char *folder,
		      const char *state, struct mfs_sync_result **res_r,
		      struct mfs_error *e)
{
	int64_t gen;
	int rc = index_folder_state(c->ix, folder, NULL, &gen, NULL);

	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "no folder %s", folder);
	struct mfs_sync_result *res = mfs_sync_result_new();
	res->state = g_strdup_printf("g%" G_GINT64_FORMAT, gen);
	if (!state || strcmp(state, res->state)) {
		GPtrArray *items = NULL;
		if ((rc = index_items(c->ix, folder, &items)) < 0) {
			mfs_sync_result_free(&res);
			return rc;
		}
		g_ptr_array_unref(res->changed);
		res->changed = items;
		res->full = true;
	}
	*res_r = res;
	return 0;
}

/* Fetch from the inner store into the blob file; the caller is the one
 * fetch of this key in flight. */
/* Keep as the body of folder/id either the content of `in` (taken; -1
 * for none) or `len` bytes at `buf`. */
static int save_blob(struct mfs_backend *c, const char *folder,
		     const char *id, const char *key, int in,
		     const void *buf, size_t len, struct mfs_error *e)
{
	g_autofree char *path = cache_blob_path(c, key);
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
	blobs_saved(c, key, (uint64_t)sb.st_size);
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

static int fill_blob(struct mfs_backend *c, const char *folder,
		     const char *id, const char *key, struct mfs_error *e)
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
		 : wb_fetch_pending(c, origin, &in, e);
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
	if (g_hash_table_contains(c->inflight, key)) {
		g_mutex_unlock(&c->lock);
		return false;
	}
	w = g_new0(struct fetch_wait, 1);
	g_cond_init(&w->cond);
	w->waiters = 1;
	g_hash_table_insert(c->inflight, g_strdup(key), w);
	g_mutex_unlock(&c->lock);
	return true;
}

/* The claimed fetch of `key` ended with `rc`: wake whoever waits. */
static void finish(struct mfs_backend *c, const char *key, int rc)
{
	struct fetch_wait *w;

	g_mutex_lock(&c->lock);
	w = g_hash_table_lookup(c->inflight, key);
	if (w) {
		g_hash_table_remove(c->inflight, key);
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
		w = g_hash_table_lookup(c->inflight, key);
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

	if (c->pf_threads->len == 0)
		return;
	g_mutex_lock(&c->lock);
	bool same = c->pf_folder && !strcmp(c->pf_folder, folder);
	forward = !same || strcmp(id, c->pf_id) > 0;
	/* look ahead again only when the reader has used up half of what
	 * was scheduled, not on every open */
	bool due = !same || !c->pf_mark || strcmp(id, c->pf_mark) >= 0;
	g_free(c->pf_folder);
	g_free(c->pf_id);
	c->pf_folder = g_strdup(folder);
	c->pf_id = g_strdup(id);
	g_mutex_unlock(&c->lock);
	if (!forward || !due || index_next_ids(c->ix, folder, id,
					       PREFETCH_WINDOW, &next) < 0)
		return;
	g_mutex_lock(&c->lock);
	g_free(c->pf_mark);
	c->pf_mark = next->len ? g_strdup(next->pdata[next->len / 2]) : NULL;
	g_mutex_unlock(&c->lock);
	for (guint i = 0; i < next->len; i++) {
		char *key = cache_blob_key(folder, next->pdata[i]);
		g_autofree char *path = cache_blob_path(c, key);
		if (access(path, F_OK) == 0) {
			g_free(key);
			continue;
		}
		g_mutex_lock(&c->lock);
		if (g_hash_table_contains(c->pf_queued, key) ||
		    g_hash_table_contains(c->inflight, key)) {
			g_mutex_unlock(&c->lock);
			g_free(key);
			continue;
		}
		struct pf_task *t = g_new0(struct pf_task, 1);
		t->folder = g_strdup(folder);
		t->id = g_strdup(next->pdata[i]);
		t->key = key;
		g_hash_table_add(c->pf_queued, key);
		g_queue_push_tail(&c->pf_queue, t);
		g_cond_signal(&c->pf_wake);
		g_mutex_unlock(&c->lock);
	}
	g_ptr_array_unref(next);
}

/* The body of `key` came in ahead of its reader. */
static void came_ahead(struct mfs_backend *c, const char *key)
{
	g_mutex_lock(&c->lock);
	/* what a reader never came for is not remembered for ever */
	if (g_hash_table_size(c->ahead) >= AHEAD_MAX)
		g_hash_table_remove_all(c->ahead);
	g_hash_table_add(c->ahead, g_strdup(key));
	g_mutex_unlock(&c->lock);
}

static bool cache_read_ahead(struct mfs_backend *c, const char *folder,
			     const char *id)
{
	g_autofree char *key = cache_blob_key(folder, id);
	bool was;

	g_mutex_lock(&c->lock);
	was = g_hash_table_remove(c->ahead, key);
	g_mutex_unlock(&c->lock);
	return was;
}

struct batch {
	struct mfs_backend *c;
	GPtrArray *tasks;		/* of struct pf_task *, claimed */
	GHashTable *done;		/* keys finished */
};

static void batch_got(const char *id, const void *buf, size_t len,
		      void *data)
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
		g_autofree char *path = cache_blob_path(c, t->key);
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
		struct pf_task *t = g_queue_pop_head(&c->pf_queue);
		if (!t && g_hash_table_size(c->noted) > 0) {
			/* the reader has caught up: count what came in */
			g_mutex_unlock(&c->lock);
			blobs_flush(c);
			g_mutex_lock(&c->lock);
			continue;
		}
		if (!t) {
			g_cond_wait(&c->pf_wake, &c->lock);
			continue;
		}
		g_hash_table_remove(c->pf_queued, t->key);
		g_ptr_array_add(tasks, t);
		/* what else waits for the same folder goes along */
		for (GList *l = c->pf_queue.head, *next; l &&
		     tasks->len < PREFETCH_BATCH; l = next) {
			struct pf_task *u = l->data;
			next = l->next;
			if (strcmp(u->folder, t->folder))
				continue;
			g_queue_delete_link(&c->pf_queue, l);
			g_hash_table_remove(c->pf_queued, u->key);
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

static int cache_fetch(struct mfs_backend *c, const char *folder,
		       const char *id, int *fd_r, struct mfs_error *e)
{
	g_autofree char *key = cache_blob_key(folder, id);
	g_autofree char *path = cache_blob_path(c, key);
	int rc;

	prefetch_after(c, folder, id);
	/* twice: eviction may take the file between fetch and open */
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = ensure_blob(c, folder, id, key, path, e)) < 0)
			return rc;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			blobs_used(c, key);
			*fd_r = fd;
			return 0;
		}
	}
	return mfs_error_set(e, -EIO, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
			     "cache: %s vanished", path);
}

/* Changes: writeback.c journals them and replays them to the server, one
 * at a time; a batch of more than one is -ENOTSUP (backend.h). */
static int cache_append(struct mfs_backend *c, const char *folder,
			const struct mfs_append *in, size_t n,
			GPtrArray **items_r, struct mfs_error *e)
{
	struct mfs_item *it = NULL;

	if (n != 1)
		return -ENOTSUP;
	int rc = wb_append(c, folder, in->fd, in->hint, in->flags, in->date,
			   &it, e);

	blobs_evict(c);
	if (rc < 0)
		return rc;
	*items_r = g_ptr_array_new_with_free_func((GDestroyNotify)mfs_item_free);
	g_ptr_array_add(*items_r, it);
	return 0;
}

static int cache_set_flags(struct mfs_backend *c, const char *folder,
			   const char *const *ids, const uint64_t *flags,
			   size_t n, int *rcs, struct mfs_error *e)
{
	if (n != 1)
		return -ENOTSUP;
	return rcs[0] = wb_set_flags(c, folder, ids[0], flags[0], e);
}

static int cache_remove(struct mfs_backend *c, const char *folder,
			const char *const *ids, size_t n, struct mfs_error *e)
{
	if (n != 1)
		return -ENOTSUP;
	return wb_remove(c, folder, ids[0], e);
}

static int cache_move(struct mfs_backend *c, const char *folder,
		      const char *const *ids, const char *dest,
		      const uint64_t *flags, size_t n, bool move,
		      GPtrArray **items_r, struct mfs_error *e)
{
	struct mfs_item *it = NULL;

	if (n != 1)
		return -ENOTSUP;
	int rc = wb_move(c, folder, ids[0], dest, flags[0], !move, &it, e);

	if (rc < 0)
		return rc;
	*items_r = g_ptr_array_new_with_free_func((GDestroyNotify)mfs_item_free);
	g_ptr_array_add(*items_r, it);
	return 0;
}

static int cache_create_folder(struct mfs_backend *c, const char *path,
			       enum mfs_folder_kind kind, struct mfs_error *e)
{
	return wb_create_folder(c, path, kind, e);
}

static int cache_rename_folder(struct mfs_backend *c, const char *from,
			       const char *to, struct mfs_error *e)
{
	return wb_rename_folder(c, from, to, e);
}

static int cache_delete_folder(struct mfs_backend *c, const char *path,
			       struct mfs_error *e)
{
	return wb_delete_folder(c, path, e);
}

static int cache_flush(struct mfs_backend *c, const char *folder,
		       const char *id, struct mfs_error *e)
{
	return wb_flush(c, folder, id, e);
}

static int cache_watch(struct mfs_backend *c, mfs_change_fn fn, void *data)
{
	GPtrArray *folders = NULL;

	g_mutex_lock(&c->lock);
	c->fn = fn;
	c->fn_data = data;
	g_mutex_unlock(&c->lock);
	c->worker = g_thread_new("cache-sync", worker, c);
	wb_start(c);
	for (int i = 0; i < PREFETCH_THREADS; i++)
		g_ptr_array_add(c->pf_threads,
				g_thread_new("cache-prefetch", prefetcher, c));
	/* bring the index up to date, then follow the server */
	cache_enqueue(c, "");
	if (index_folders(c->ix, &folders) == 0) {
		for (guint i = 0; i < folders->len; i++) {
			struct mfs_folder_info *fi = folders->pdata[i];
			if (fi->kind != MFS_FOLDER_NONE)
				cache_enqueue(c, fi->path);
		}
		g_ptr_array_unref(folders);
	}
	mfs_store_watch(&c->inner, inner_changed, c);
	return 0;
}

static int cache_item_error(struct mfs_backend *c, const char *folder,
			    const char *id, char **text_r)
{
	int rc = journal_item_error(c->ix, folder, id, text_r);

	return rc == -ENOENT ? -ENODATA : rc;
}

/* A directory is the server's alone and changes behind everyone's back:
 * nothing of it is kept. */
static int cache_lookup(struct mfs_backend *c, const char *folder,
			const char *query, bool prefix, GPtrArray **entries_r,
			struct mfs_error *e)
{
	return mfs_store_lookup(&c->inner, folder, query, prefix, entries_r,
				e);
}

static void cache_describe(struct mfs_backend *c, GString *out)
{
	g_mutex_lock(&c->lock);
	gint64 last = c->last_sync;
	g_autofree char *err = g_strdup(c->last_error);
	g_mutex_unlock(&c->lock);
	if (last) {
		GDateTime *dt = g_date_time_new_from_unix_utc(last / 1000000);
		g_autofree char *when = g_date_time_format(dt,
							   "%Y-%m-%dT%H:%M:%SZ");
		g_date_time_unref(dt);
		g_string_append_printf(out, "last sync: %s\n", when);
	} else {
		g_string_append(out, "last sync: none since the mount\n");
	}
	if (err)
		g_string_append_printf(out, "sync failing: %s\n", err);
	wb_describe(c, out);
	g_string_append_printf(out, "bodies cached: %" G_GUINT64_FORMAT
			       " bytes in %s\n", blobs_total(c),
			       c->blobs);
	mfs_store_describe(&c->inner, out);
}

static int cache_space(struct mfs_backend *c, uint64_t *total_r,
		       uint64_t *avail_r)
{
	return mfs_store_space(&c->inner, total_r, avail_r);
}

static void cache_close(struct mfs_backend **cp)
{
	struct mfs_backend *c = *cp;

	if (!c)
		return;
	/* our threads first, since they use the inner store; then the inner
	 * store, whose watcher may still queue (into a queue nobody reads) */
	g_mutex_lock(&c->lock);
	c->stop = true;
	g_cond_signal(&c->wake);
	g_cond_broadcast(&c->pf_wake);
	g_cond_broadcast(&c->wb_wake);
	g_cond_broadcast(&c->wb_progress);
	g_mutex_unlock(&c->lock);
	wb_stop(c);
	if (c->worker)
		g_thread_join(c->worker);
	for (guint i = 0; i < c->pf_threads->len; i++)
		g_thread_join(c->pf_threads->pdata[i]);
	mfs_store_close(&c->inner);
	g_ptr_array_unref(c->pf_threads);
	g_queue_clear_full(&c->pf_queue, (GDestroyNotify)pf_task_free);
	g_hash_table_unref(c->pf_queued);
	g_hash_table_unref(c->ahead);
	g_cond_clear(&c->pf_wake);
	g_free(c->pf_folder);
	g_free(c->pf_id);
	g_free(c->pf_mark);
	g_free(c->last_error);
	blobs_clear(c);
	index_close(&c->ix);
	g_queue_clear_full(&c->queue, g_free);
	g_hash_table_unref(c->queued);
	g_hash_table_unref(c->inflight);
	g_mutex_clear(&c->lock);
	g_cond_clear(&c->wake);
	wb_clear(c);
	g_free(c->dir);
	g_free(c->blobs);
	g_free(c);
	*cp = NULL;
}

static const struct mfs_backend_ops cache_ops = {
	.name = "cache",
	.caps = MFS_CAP_WATCH | MFS_CAP_COPY | MFS_CAP_FOLDERS,
	.close = cache_close,
	.list_folders = cache_list_folders,
	.sync = cache_sync,
	.fetch = cache_fetch,
	.read_ahead = cache_read_ahead,
	.append = cache_append,
	.set_flags = cache_set_flags,
	.remove = cache_remove,
	.move = cache_move,
	.create_folder = cache_create_folder,
	.rename_folder = cache_rename_folder,
	.delete_folder = cache_delete_folder,
	.flush = cache_flush,
	.watch = cache_watch,
	.space = cache_space,
	.describe = cache_describe,
	.item_error = cache_item_error,
	.lookup = cache_lookup,
};

/* A first listing of every folder, a few at a time (over the inner
 * store's connections); the threads end before this returns, so nothing
 * runs when the mount then forks into the background. */
struct list_all {
	struct mfs_backend *c;
	GPtrArray *folders;		/* borrowed */
	guint next;			/* lock */
	int rc;				/* lock; the first failure */
	GError **err;			/* lock */
	GMutex lock;
};

#define LIST_RETRY_PAUSE_US (250 * 1000)

/* Whether a failed first listing of a folder is worth asking again: not
 * after a refused login or certificate, which asking cannot mend, nor
 * after a timeout, which would only double the wait to fail. */
static bool worth_again(int rc, const struct mfs_error *e)
{
	return rc != -ENOENT && rc != -ETIMEDOUT &&
	       !(e->scope == MFS_ERR_ACCOUNT && e->retry == MFS_ERR_FINAL);
}

static gpointer list_worker(gpointer p)
{
	struct list_all *la = p;

	for (;;) {
		g_mutex_lock(&la->lock);
		guint i = la->rc < 0 ? la->folders->len : la->next++;
		g_mutex_unlock(&la->lock);
		if (i >= la->folders->len)
			return NULL;
		struct mfs_folder_info *fi = la->folders->pdata[i];
		struct mfs_error e = { 0 };
		bool changed;
		if (fi->kind == MFS_FOLDER_NONE)
			continue;
		int rc = refresh_folder(la->c, fi->path, &changed, &e);
		if (rc < 0 && worth_again(rc, &e)) {
			/* one failed request among a first mount's many is
			 * asked again before it ends the mount; the first
			 * error is the one reported */
			struct mfs_error again = { 0 };
			log_warnx("listing the messages of %s failed, trying "
				  "again: %s", fi->path,
				  e.msg[0] ? e.msg : g_strerror(-rc));
			g_usleep(LIST_RETRY_PAUSE_US);
			int rc2 = refresh_folder(la->c, fi->path, &changed,
						 &again);
			if (rc2 == 0 || rc2 == -ENOENT)
				continue;
		}
		if (rc == -ENOENT || rc == 0)
			continue;	/* ENOENT: gone since it was listed */
		g_mutex_lock(&la->lock);
		if (la->rc == 0) {
			la->rc = rc;
			g_set_error(la->err, G_FILE_ERROR, G_FILE_ERROR_FAILED,
				    "listing the messages of %s failed: %s",
				    fi->path, e.msg[0] ? e.msg : g_strerror(-rc));
		}
		g_mutex_unlock(&la->lock);
	}
}

static int list_all(struct mfs_backend *c, GPtrArray *folders, GError **err)
{
	struct list_all la;
	GThread *threads[LIST_THREADS];

	memset(&la, 0, sizeof(la));
	la.c = c;
	la.folders = folders;
	la.err = err;
	g_mutex_init(&la.lock);
	for (int i = 0; i < LIST_THREADS; i++)
		threads[i] = g_thread_new("cache-list", list_worker, &la);
	for (int i = 0; i < LIST_THREADS; i++)
		g_thread_join(threads[i]);
	g_mutex_clear(&la.lock);
	return la.rc;
}

int cache_store_open(struct mfs_store *inner, const char *dir,
		     const struct cache_options *opt, struct mfs_store *out,
		     GError **err)
{
	struct mfs_backend *c = g_new0(struct mfs_backend, 1);
	g_autofree char *dbpath = g_build_filename(dir, "index.sqlite", NULL);
	g_autofree char *why = NULL;
	int rc;

	c->inner = *inner;
	memset(inner, 0, sizeof(*inner));
	c->dir = g_strdup(dir);
	c->blobs = g_build_filename(dir, "blobs", NULL);
	c->opt = *opt;
	g_mutex_init(&c->lock);
	g_cond_init(&c->wake);
	wb_init(c);
	g_queue_init(&c->queue);
	c->queued = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);
	c->inflight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    NULL);
	g_queue_init(&c->pf_queue);
	c->pf_queued = g_hash_table_new(g_str_hash, g_str_equal);
	c->ahead = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	blobs_init(c);
	g_cond_init(&c->pf_wake);
	c->pf_threads = g_ptr_array_new();
	if ((rc = file_mkdir_p(c->blobs, 0700)) < 0) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
			    "cache %s: %s", c->blobs, g_strerror(-rc));
		cache_close(&c);
		return rc;
	}
	chmod(dir, 0700);
	c->outbox = mfs_store_can_send(&c->inner);
	if ((rc = index_open(dbpath, &c->ix, &why)) < 0 ||
	    (rc = wb_open(c, &why)) < 0) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cache: %s",
			    why);
		cache_close(&c);
		return rc;
	}
	if (index_is_new(c->ix)) {
		/* a first mount: fill the index before showing anything */
		GPtrArray *folders = NULL;
		struct mfs_error e = { 0 };
		bool changed;
		if ((rc = refresh_folders(c, &changed, &e)) < 0) {
			g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED,
				    "listing the folders failed: %s",
				    e.msg[0] ? e.msg : g_strerror(-rc));
			cache_close(&c);
			return rc;
		}
		/* every folder must list: a folder shown empty because its
		 * listing failed would tell rsync --delete to empty a backup */
		rc = index_folders(c->ix, &folders);
		if (rc == 0)
			rc = list_all(c, folders, err);
		if (folders)
			g_ptr_array_unref(folders);
		if (rc == 0)
			rc = index_mark_complete(c->ix);
		if (rc < 0) {
			if (err && !*err)
				g_set_error(err, G_FILE_ERROR,
					    G_FILE_ERROR_FAILED, "cache: %s",
					    g_strerror(-rc));
			cache_close(&c);
			return rc;
		}
	}
	if (c->outbox &&
	    index_folder_state(c->ix, CACHE_OUTBOX, NULL, NULL, NULL) < 0) {
		/* an account that gained an smtp server since the last
		 * mount */
		index_add_folder(c->ix, CACHE_OUTBOX, MFS_FOLDER_OUTBOX);
		index_touch_folders(c->ix);
	}
	blobs_start(c);
	/* the sender stays with the inner store: the flusher sends */
	memset(out, 0, sizeof(*out));
	out->ops = &cache_ops;
	out->be = c;
	return 0;
}

int cache_fill(struct mfs_store *store, bool bodies, cache_progress_fn fn,
	       void *data, GError **err)
{
	struct mfs_backend *c = store->be;
	GPtrArray *folders = NULL;
	struct mfs_error e = { 0 };
	bool changed;
	int rc;

	if (store->ops != &cache_ops) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "this account has no cache to fill");
		return -EINVAL;
	}
	if ((rc = refresh_folders(c, &changed, &e)) < 0 ||
	    (rc = index_folders(c->ix, &folders)) < 0) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED,
			    "listing the folders failed: %s",
			    e.msg[0] ? e.msg : g_strerror(-rc));
		return rc;
	}
	for (guint i = 0; rc == 0 && i < folders->len; i++) {
		struct mfs_folder_info *fi = folders->pdata[i];
		GPtrArray *items = NULL;
		if (fi->kind == MFS_FOLDER_NONE)
			continue;
		rc = refresh_folder(c, fi->path, &changed, &e);
		if (rc == -ENOENT) {
			rc = 0;
			continue;
		}
		if (rc == 0)
			rc = index_items(c->ix, fi->path, &items);
		if (rc < 0) {
			g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED,
				    "%s: %s", fi->path,
				    e.msg[0] ? e.msg : g_strerror(-rc));
			break;
		}
		GPtrArray *tasks = g_ptr_array_new_with_free_func(
			(GDestroyNotify)pf_task_free);
		for (guint k = 0; k <= items->len && bodies; k++) {
			if (k < items->len) {
				struct mfs_item *it = items->pdata[k];
				struct pf_task *t = g_new0(struct pf_task, 1);
				t->folder = g_strdup(fi->path);
				t->id = g_strdup(it->id);
				t->key = cache_blob_key(fi->path, it->id);
				g_ptr_array_add(tasks, t);
			}
			if (tasks->len == PREFETCH_BATCH ||
			    (k == items->len && tasks->len)) {
				prefetch_batch(c, tasks);
				g_ptr_array_set_size(tasks, 0);
			}
			if (fn && (k % PREFETCH_BATCH == 0 || k == items->len))
				fn(fi->path, k, items->len, data);
		}
		if (fn && !bodies)
			fn(fi->path, items->len, items->len, data);
		g_ptr_array_unref(tasks);
		g_ptr_array_unref(items);
	}
	g_ptr_array_unref(folders);
	if (rc == 0)
		rc = index_mark_complete(c->ix);
	blobs_flush(c);
	return rc;
}

int cache_parse_size(const char *text, uint64_t *bytes_r)
{
	char *end;
	guint64 n = g_ascii_strtoull(text, &end, 10);
	uint64_t mult = 1;

	if (end == text)
		return -EINVAL;
	switch (g_ascii_toupper(*end)) {
	case '\0': break;
	case 'K': mult = 1024; end++; break;
	case 'M': mult = 1024 * 1024; end++; break;
	case 'G': mult = 1024 * 1024 * 1024; end++; break;
	case 'T': mult = (uint64_t)1024 * 1024 * 1024 * 1024; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || n > UINT64_MAX / mult)
		return -EINVAL;
	*bytes_r = n * mult;
	return 0;
}
