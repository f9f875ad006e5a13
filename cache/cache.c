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
 *     while it calls the mount;
 *   - the prefetchers fetch bodies ahead of a reader (bodies.c);
 *   - the flusher replays the changes made here (the write-back engine,
 *     writeback.h), and tells the cache what to read again through hooks.
 * The cache calls the engine, the engine calls blobs.h, blobs.h calls
 * nothing above it.
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
#include "sender.h"

void cache_enqueue(struct mfs_backend *c, const char *folder)
{
	g_mutex_lock(&c->lock);
	if (!g_hash_table_contains(c->sync.queued, folder)) {
		char *f = g_strdup(folder);
		g_hash_table_add(c->sync.queued, f);
		g_queue_push_tail(&c->sync.queue, f);
		g_cond_signal(&c->sync.wake);
	}
	g_mutex_unlock(&c->lock);
}

void cache_tell_mount(struct mfs_backend *c, const char *folder)
{
	g_autofree char *note = g_strconcat("\001", folder, NULL);

	cache_enqueue(c, note);
}

/* The engine's hooks (writeback.h). */
static void wb_resync(void *owner, const char *folder)
{
	cache_enqueue(owner, folder);
}

static void wb_tell(void *owner, const char *folder)
{
	cache_tell_mount(owner, folder);
}

/* The inner store's watcher: something changed there. */
static void inner_changed(const char *folder, void *data)
{
	cache_enqueue(data, folder ? folder : "");
}

/* The outbox is ours, not the server's: it joins the server's list, in
 * place of a server folder of that name (which the mount cannot show). */
static void add_outbox(struct mfs_backend *c, GPtrArray *list)
{
	for (guint i = 0; i < list->len; i++) {
		struct mfs_folder_info *fi = list->pdata[i];
		if (!strcmp(fi->path, CACHE_OUTBOX) ||
		    g_str_has_prefix(fi->path, CACHE_OUTBOX "/")) {
			if (!c->sync.outbox_shadowed)
				log_warnx("the server's folder %s is not shown: "
					  "%s/ is where messages to send go",
					  fi->path, CACHE_OUTBOX);
			c->sync.outbox_shadowed = true;
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
	if (wb_has_outbox(c->wb))
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
	if (rc < 0 || wb_is_outbox(c->wb, folder))
		return rc;	/* the outbox is only here */
	rc = mfs_store_sync(&c->inner, folder, state, &res, e);
	if (rc < 0) {
		if (rc != -ENOENT) {
			log_error_record("syncing %s: %s", folder, e->msg);
			g_mutex_lock(&c->lock);
			g_free(c->sync.last_error);
			c->sync.last_error = g_strdup_printf("%s: %s", folder,
							e->msg);
			g_mutex_unlock(&c->lock);
		}
		return rc;
	}
	g_mutex_lock(&c->lock);
	c->sync.last_sync = g_get_real_time();
	g_clear_pointer(&c->sync.last_error, g_free);
	g_mutex_unlock(&c->lock);
	g_autoptr(GPtrArray) redone = g_ptr_array_new_with_free_func(g_free);
	rc = index_apply(c->ix, folder, res, lgen, changed_r, redone);
	mfs_sync_result_free(&res);
	for (guint i = 0; rc == 0 && i < redone->len; i++) {
		g_autofree char *key = blobs_key(folder, redone->pdata[i]);
		blobs_drop(c->blobs, key);
	}
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
		char *folder = g_queue_pop_head(&c->sync.queue);
		if (!folder) {
			g_cond_wait(&c->sync.wake, &c->lock);
			continue;
		}
		g_hash_table_steal(c->sync.queued, folder);
		mfs_change_fn fn = c->sync.fn;
		void *fn_data = c->sync.fn_data;
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

/* Changes: the write-back engine journals them and replays them to the
 * server, one at a time; a batch of more than one is -ENOTSUP
 * (backend.h). */
static int cache_append(struct mfs_backend *c, const char *folder,
			const struct mfs_append *in, size_t n,
			GPtrArray **items_r, struct mfs_error *e)
{
	struct mfs_item *it = NULL;

	if (n != 1)
		return -ENOTSUP;
	int rc = wb_append(c->wb, folder, in->fd, in->hint, in->flags,
			   in->date, &it, e);

	blobs_evict(c->blobs);
	if (rc < 0)
		return rc;
	*items_r = mfs_items_one(it);
	return 0;
}

static int cache_set_flags(struct mfs_backend *c, const char *folder,
			   const char *const *ids, const uint64_t *flags,
			   size_t n, int *rcs, struct mfs_error *e)
{
	if (n != 1)
		return -ENOTSUP;
	return rcs[0] = wb_set_flags(c->wb, folder, ids[0], flags[0], e);
}

static int cache_remove(struct mfs_backend *c, const char *folder,
			const char *const *ids, size_t n, struct mfs_error *e)
{
	if (n != 1)
		return -ENOTSUP;
	return wb_remove(c->wb, folder, ids[0], e);
}

static int cache_move(struct mfs_backend *c, const char *folder,
		      const char *const *ids, const char *dest,
		      const uint64_t *flags, size_t n, bool move,
		      GPtrArray **items_r, struct mfs_error *e)
{
	struct mfs_item *it = NULL;

	if (n != 1)
		return -ENOTSUP;
	int rc = wb_move(c->wb, folder, ids[0], dest, flags[0], !move, &it,
			 e);

	if (rc < 0)
		return rc;
	*items_r = mfs_items_one(it);
	return 0;
}

static int cache_create_folder(struct mfs_backend *c, const char *path,
			       enum mfs_folder_kind kind, struct mfs_error *e)
{
	return wb_create_folder(c->wb, path, kind, e);
}

static int cache_rename_folder(struct mfs_backend *c, const char *from,
			       const char *to, struct mfs_error *e)
{
	return wb_rename_folder(c->wb, from, to, e);
}

static int cache_delete_folder(struct mfs_backend *c, const char *path,
			       struct mfs_error *e)
{
	return wb_delete_folder(c->wb, path, e);
}

static int cache_flush(struct mfs_backend *c, const char *folder,
		       const char *id, struct mfs_error *e)
{
	return wb_flush(c->wb, folder, id, e);
}

static int cache_watch(struct mfs_backend *c, mfs_change_fn fn, void *data)
{
	GPtrArray *folders = NULL;

	g_mutex_lock(&c->lock);
	c->sync.fn = fn;
	c->sync.fn_data = data;
	g_mutex_unlock(&c->lock);
	c->sync.worker = g_thread_new("cache-sync", worker, c);
	wb_start(c->wb);
	bodies_start(c);
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
	gint64 last = c->sync.last_sync;
	g_autofree char *err = g_strdup(c->sync.last_error);
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
	wb_describe(c->wb, out);
	g_string_append_printf(out, "bodies cached: %" G_GUINT64_FORMAT
			       " bytes in %s\n", blobs_total(c->blobs),
			       blobs_dir(c->blobs));
	mfs_store_describe(&c->inner, out);
	mfs_sender_describe(c->sender, out);
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
	g_cond_signal(&c->sync.wake);
	g_mutex_unlock(&c->lock);
	wb_stop(c->wb);
	if (c->sync.worker)
		g_thread_join(c->sync.worker);
	bodies_stop(c);
	mfs_store_close(&c->inner);
	bodies_clear(c);
	g_free(c->sync.last_error);
	blobs_close(&c->blobs);
	wb_close(&c->wb);
	mfs_sender_close(&c->sender);
	index_close(&c->ix);
	g_queue_clear_full(&c->sync.queue, g_free);
	g_hash_table_unref(c->sync.queued);
	g_mutex_clear(&c->lock);
	g_cond_clear(&c->sync.wake);
	g_free(c);
	*cp = NULL;
}

static const struct mfs_backend_ops cache_ops = {
	.name = "cache",
	.caps = MFS_CAP_WATCH | MFS_CAP_COPY | MFS_CAP_FOLDERS,
	.close = cache_close,
	.list_folders = cache_list_folders,
	.sync = cache_sync,
	.fetch = bodies_fetch,
	.read_ahead = bodies_read_ahead,
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

int cache_store_open(struct mfs_store *inner, struct mfs_sender *sender,
		     const char *dir, const struct cache_options *opt,
		     struct mfs_store *out, GError **err)
{
	struct mfs_backend *c = g_new0(struct mfs_backend, 1);
	g_autofree char *dbpath = g_build_filename(dir, "index.sqlite", NULL);
	g_autofree char *blobs = g_build_filename(dir, "blobs", NULL);
	g_autofree char *why = NULL;
	int rc;

	c->inner = *inner;
	memset(inner, 0, sizeof(*inner));
	c->sender = sender;
	g_mutex_init(&c->lock);
	g_cond_init(&c->sync.wake);
	g_queue_init(&c->sync.queue);
	c->sync.queued = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					       NULL);
	bodies_init(c);
	c->blobs = blobs_new(blobs, opt->max_bytes);
	if ((rc = file_mkdir_p(blobs, 0700)) < 0) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
			    "cache %s: %s", blobs, g_strerror(-rc));
		cache_close(&c);
		return rc;
	}
	chmod(dir, 0700);
	struct wb_setup setup = {
		.inner = &c->inner,
		.blobs = c->blobs,
		.sender = c->sender,
		.dir = dir,
		.writeback = opt->writeback,
		.hooks = { .resync = wb_resync, .tell = wb_tell, .owner = c },
	};
	if ((rc = index_open(dbpath, &c->ix, &why)) == 0) {
		setup.ix = c->ix;
		rc = wb_open(&setup, &c->wb, &why);
	}
	if (rc < 0) {
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
	if (wb_has_outbox(c->wb) &&
	    index_folder_state(c->ix, CACHE_OUTBOX, NULL, NULL, NULL) < 0) {
		/* an account that gained a server to send with since the
		 * last mount */
		index_add_folder(c->ix, CACHE_OUTBOX, MFS_FOLDER_OUTBOX);
		index_touch_folders(c->ix);
	}
	blobs_start(c->blobs, c->ix);
	mfs_store_init(out, &cache_ops, c);
	return 0;
}

int cache_fill(struct mfs_store *store, bool bodies, cache_progress_fn fn,
	       void *data, GError **err)
{
	struct mfs_backend *c = mfs_store_backend_of(store, &cache_ops);
	GPtrArray *folders = NULL;
	struct mfs_error e = { 0 };
	bool changed;
	int rc;

	if (!c) {
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
		if (bodies)
			bodies_fill(c, fi->path, items, fn, data);
		else if (fn)
			fn(fi->path, items->len, items->len, data);
		g_ptr_array_unref(items);
	}
	g_ptr_array_unref(folders);
	if (rc == 0)
		rc = index_mark_complete(c->ix);
	blobs_flush(c->blobs);
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
