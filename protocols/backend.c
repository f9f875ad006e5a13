/*
 * backend.c - the registry of store kinds and the thin wrappers that are the
 * only code dereferencing a backend's vtable.
 */
#include "backend.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "check.h"
#include "log.h"
#include "printable.h"
#include "stream.h"

extern const struct mfs_backend_ops local_backend_ops;
extern const struct mfs_backend_ops imapc_backend_ops;
extern const struct mfs_backend_ops pop3c_backend_ops;
extern const struct mfs_backend_ops ewsc_backend_ops;
extern const struct mfs_backend_ops mapic_backend_ops;
extern const struct mfs_backend_ops ldapc_backend_ops;
extern const struct mfs_backend_ops davc_carddav_ops, davc_caldav_ops;

static const struct mfs_backend_ops *const registry[] = {
	&local_backend_ops,
	&imapc_backend_ops,
	&pop3c_backend_ops,
	&ewsc_backend_ops,
	&mapic_backend_ops,
	&ldapc_backend_ops,
	&davc_carddav_ops, &davc_caldav_ops,
};

const struct mfs_backend_ops *mfs_backend_find(const char *type)
{
	for (size_t i = 0; i < G_N_ELEMENTS(registry); i++) {
		if (strcmp(registry[i]->name, type) == 0)
			return registry[i];
	}
	return NULL;
}

int mfs_error_set(struct mfs_error *e, int rc, enum mfs_err_scope scope,
		  enum mfs_err_retry retry, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return rc;
	e->scope = scope;
	e->retry = retry;
	va_start(ap, fmt);
	g_vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	/* the message may quote a peer, and it is shown as it is by
	 * `mailfs sync`, the mount's start and .mailfs/errors */
	if (!printable_is_plain(e->msg, strlen(e->msg))) {
		g_autofree char *safe = printable(e->msg, -1);
		g_strlcpy(e->msg, safe, sizeof(e->msg));
	}
	return rc;
}

/* What the open() running on this thread found when the server could not
 * be reached (mfs_open_outcome), for mfs_store_open. */
static _Thread_local struct {
	bool offline;
	int rc;
	struct mfs_error e;
} opening;

int mfs_open_outcome(int rc, const struct mfs_error *e, GError **err)
{
	if (rc < 0 && e->retry != MFS_ERR_FINAL &&
	    e->scope == MFS_ERR_ACCOUNT) {
		log_warnx("%s; working offline until it answers", e->msg);
		opening.offline = true;
		opening.rc = rc;
		opening.e = *e;
		return 0;
	}
	if (rc < 0)
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s",
			    e->msg[0] ? e->msg : g_strerror(-rc));
	return rc;
}

/* Start the operation of a call (stream.h): whatever the backend waits
 * for inside it ends by one deadline, the account's timeout from now. */
static bool begun(void)
{
	stream_op_begin();
	return true;
}

/* End the call's operation and trace its outcome; the result passes
 * through unchanged. */
static int traced(struct mfs_store *st, const char *what, const char *folder,
		  const char *id, int rc)
{
	stream_op_end();
	if (log_debug_enabled(LOG_STORE))
		log_debug(LOG_STORE, "%s %s %s %s -> %d", st->ops->name, what,
			  folder ? folder : "-", id ? id : "-", rc);
	return rc;
}

/* While the store is quiet after an open() that could not reach the
 * server, the error it found (in *e), else 0. */
static int quiet(struct mfs_store *st, struct mfs_error *e)
{
	if (!st->quiet_until || g_get_monotonic_time() >= st->quiet_until)
		return 0;
	if (e)
		*e = st->quiet;
	return st->quiet_rc;
}

#define CALL_AS(st, member, what, folder, id, ...) \
	((st)->ops->member ? \
	 traced((st), (what), (folder), (id), begun() ? \
		(st)->ops->member((st)->be, __VA_ARGS__) : 0) : -ENOTSUP)
#define CALL(st, member, folder, id, ...) \
	CALL_AS(st, member, #member, folder, id, __VA_ARGS__)
/* A call that reaches the server: not while the store is quiet. */
#define QCALL_AS(st, e, member, what, folder, id, ...) \
	(quiet((st), (e)) ?: CALL_AS(st, member, what, folder, id, \
				     __VA_ARGS__))
#define QCALL(st, e, member, folder, id, ...) \
	QCALL_AS(st, e, member, #member, folder, id, __VA_ARGS__)

/* The one item of a batch of one, taken out of *items (freed). */
static struct mfs_item *only_item(GPtrArray **items)
{
	struct mfs_item *it = NULL;

	if (*items && (*items)->len == 1)
		it = g_ptr_array_steal_index(*items, 0);
	if (*items)
		g_ptr_array_unref(*items);
	*items = NULL;
	return it;
}

int mfs_store_open(const struct mfs_account *acct, struct mfs_store *st,
		   GError **err)
{
	const struct mfs_backend_ops *ops = mfs_backend_find(acct->type);

	memset(st, 0, sizeof(*st));
	if (!ops) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOSYS,
			    "account '%s': unknown type '%s' (known: local, "
			    "imap, pop3, ews, mapi)", acct->name, acct->type);
		return -ENOTSUP;
	}
	gint64 t0 = g_get_monotonic_time();
	opening.offline = false;
	stream_op_begin();
	int rc = ops->open(acct, &st->be, err);
	stream_op_end();
	if (rc < 0)
		return rc;
	st->ops = ops;
	if (opening.offline) {
		/* the account's first request (a first mount's listing) would
		 * only wait as long again for the same silence */
		gint64 t1 = g_get_monotonic_time();
		st->quiet_until = t1 + (t1 - t0);
		st->quiet_rc = opening.rc;
		st->quiet = opening.e;
		opening.offline = false;
	}
	return rc;
}

bool mfs_backend_can_check(const char *type)
{
	const struct mfs_backend_ops *ops = mfs_backend_find(type);

	return ops && ops->check;
}

int mfs_backend_check(const struct mfs_account *acct, struct mfs_check *ck)
{
	const struct mfs_backend_ops *ops = mfs_backend_find(acct->type);
	int rc;

	if (!ops) {
		mfs_check_say(ck, "config", false, "type = must be one of "
			      "local, imap, pop3, ews, mapi", "type = %s: unknown "
			      "type", acct->type);
		return -EINVAL;
	}
	if (!ops->check) {
		mfs_check_say(ck, "config", false, NULL, "type = %s: check is "
			      "not available for type %s", acct->type,
			      acct->type);
		return -ENOTSUP;
	}
	rc = ops->check(acct, ck);
	log_debug(LOG_STORE, "%s check -> %d", ops->name, rc);
	return rc;
}

void mfs_store_close(struct mfs_store *st)
{
	if (st->ops && st->be)
		st->ops->close(&st->be);
	st->ops = NULL;
}

void mfs_store_init(struct mfs_store *st, const struct mfs_backend_ops *ops,
		    struct mfs_backend *be)
{
	memset(st, 0, sizeof(*st));
	st->ops = ops;
	st->be = be;
}

struct mfs_backend *mfs_store_backend_of(struct mfs_store *st,
					 const struct mfs_backend_ops *ops)
{
	return st->ops == ops ? st->be : NULL;
}

int mfs_store_item_error(struct mfs_store *st, const char *folder,
			 const char *id, char **text_r)
{
	return st->ops->item_error ? st->ops->item_error(st->be, folder, id,
							 text_r)
				   : -ENODATA;
}

int mfs_store_lookup(struct mfs_store *st, const char *folder,
		     const char *query, bool prefix, GPtrArray **entries_r,
		     struct mfs_error *e)
{
	return QCALL(st, e, lookup, folder, query, folder, query, prefix,
		     entries_r, e);
}

int mfs_store_list_folders(struct mfs_store *st, GPtrArray **folders_r,
			   struct mfs_error *e)
{
	return QCALL(st, e, list_folders, NULL, NULL, folders_r, e);
}

int mfs_store_sync(struct mfs_store *st, const char *folder,
		   const char *state, struct mfs_sync_result **res_r,
		   struct mfs_error *e)
{
	return QCALL(st, e, sync, folder, state, folder, state, res_r, e);
}

int mfs_store_fetch(struct mfs_store *st, const char *folder, const char *id,
		    int *fd_r, struct mfs_error *e)
{
	return QCALL(st, e, fetch, folder, id, folder, id, fd_r, e);
}

bool mfs_store_read_ahead(struct mfs_store *st, const char *folder,
			  const char *id)
{
	return st->ops->read_ahead && st->ops->read_ahead(st->be, folder, id);
}

int mfs_store_fetch_batch(struct mfs_store *st, const char *folder,
			  const char *const *ids, size_t n,
			  mfs_fetched_fn got, void *data, struct mfs_error *e)
{
	return QCALL(st, e, fetch_batch, folder, n ? ids[0] : NULL, folder,
		     ids, n, got, data, e);
}

int mfs_store_append(struct mfs_store *st, const char *folder, int fd,
		     const char *hint, uint64_t flags, int64_t date,
		     struct mfs_item **item_r, struct mfs_error *e)
{
	struct mfs_append one = { fd, hint, flags, date };
	GPtrArray *items = NULL;
	int rc = QCALL(st, e, append, folder, hint, folder, &one, 1, &items,
		       e);

	if (rc == 0)
		*item_r = only_item(&items);
	return rc;
}

int mfs_store_append_batch(struct mfs_store *st, const char *folder,
			   const struct mfs_append *in, size_t n,
			   GPtrArray **items_r, struct mfs_error *e)
{
	return QCALL_AS(st, e, append, "append_batch", folder, NULL, folder, in,
			n, items_r, e);
}

int mfs_store_set_flags_batch(struct mfs_store *st, const char *folder,
			      const char *const *ids, const uint64_t *flags,
			      size_t n, int *rcs, struct mfs_error *e)
{
	return QCALL_AS(st, e, set_flags, "set_flags_batch", folder, NULL,
			folder, ids, flags, n, rcs, e);
}

int mfs_store_set_flags(struct mfs_store *st, const char *folder,
			const char *id, uint64_t flags, struct mfs_error *e)
{
	int one = 0;

	return QCALL(st, e, set_flags, folder, id, folder, &id, &flags, 1, &one,
		     e);
}

int mfs_store_remove(struct mfs_store *st, const char *folder, const char *id,
		     struct mfs_error *e)
{
	return QCALL(st, e, remove, folder, id, folder, &id, 1, e);
}

int mfs_store_remove_batch(struct mfs_store *st, const char *folder,
			   const char *const *ids, size_t n,
			   struct mfs_error *e)
{
	return QCALL_AS(st, e, remove, "remove_batch", folder, NULL, folder,
			ids, n, e);
}

/* One item moved or copied, as a batch of one. */
static int move_one(struct mfs_store *st, const char *what,
		    const char *folder, const char *id, const char *dest,
		    uint64_t flags, bool move, struct mfs_item **item_r,
		    struct mfs_error *e)
{
	GPtrArray *items = NULL;
	int rc = QCALL_AS(st, e, move, what, folder, id, folder, &id, dest,
			  &flags, 1, move, &items, e);

	if (rc == 0)
		*item_r = only_item(&items);
	return rc;
}

int mfs_store_move(struct mfs_store *st, const char *folder, const char *id,
		   const char *dest, uint64_t flags, struct mfs_item **item_r,
		   struct mfs_error *e)
{
	return move_one(st, "move", folder, id, dest, flags, true, item_r, e);
}

int mfs_store_copy(struct mfs_store *st, const char *folder, const char *id,
		   const char *dest, uint64_t flags, struct mfs_item **item_r,
		   struct mfs_error *e)
{
	return move_one(st, "copy", folder, id, dest, flags, false, item_r, e);
}

int mfs_store_move_batch(struct mfs_store *st, const char *folder,
			 const char *const *ids, const char *dest,
			 const uint64_t *flags, size_t n, bool move,
			 GPtrArray **items_r, struct mfs_error *e)
{
	return QCALL_AS(st, e, move, "move_batch", folder, NULL, folder, ids,
			dest, flags, n, move, items_r, e);
}

int mfs_store_create_folder(struct mfs_store *st, const char *path,
			    enum mfs_folder_kind kind, struct mfs_error *e)
{
	return QCALL(st, e, create_folder, path, NULL, path, kind, e);
}

int mfs_store_rename_folder(struct mfs_store *st, const char *from,
			    const char *to, struct mfs_error *e)
{
	return QCALL(st, e, rename_folder, from, to, from, to, e);
}

int mfs_store_delete_folder(struct mfs_store *st, const char *path,
			    struct mfs_error *e)
{
	return QCALL(st, e, delete_folder, path, NULL, path, e);
}

int mfs_store_flush(struct mfs_store *st, const char *folder, const char *id,
		    struct mfs_error *e)
{
	/* nothing is pending where nothing is journaled */
	if (!st->ops->flush)
		return 0;
	return CALL(st, flush, folder, id, folder, id, e);
}

int mfs_store_watch(struct mfs_store *st, mfs_change_fn fn, void *data)
{
	return CALL(st, watch, NULL, NULL, fn, data);
}

int mfs_store_space(struct mfs_store *st, uint64_t *total_r, uint64_t *avail_r)
{
	return CALL(st, space, NULL, NULL, total_r, avail_r);
}

void mfs_store_describe(struct mfs_store *st, GString *out)
{
	if (st->ops && st->ops->describe)
		st->ops->describe(st->be, out);
}

unsigned mfs_store_caps(const struct mfs_store *st)
{
	return st->ops->caps;
}

bool mfs_store_can_flush(const struct mfs_store *st)
{
	return st->ops->flush != NULL;
}

struct mfs_item *mfs_item_new(const char *id, uint64_t size, int64_t date,
			      uint64_t flags)
{
	struct mfs_item *it = g_new0(struct mfs_item, 1);

	it->id = g_strdup(id);
	it->size = size;
	it->date = date;
	it->flags = flags;
	return it;
}

struct mfs_item *mfs_item_dup(const struct mfs_item *it)
{
	struct mfs_item *d = mfs_item_new(it->id, it->size, it->date,
					  it->flags);

	d->message_id = g_strdup(it->message_id);
	return d;
}

void mfs_item_free(struct mfs_item *it)
{
	if (!it)
		return;
	g_free(it->id);
	g_free(it->message_id);
	g_free(it);
}

GPtrArray *mfs_items_one(struct mfs_item *it)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_item_free);

	g_ptr_array_add(a, it);
	return a;
}

struct mfs_folder_info *mfs_folder_info_new(const char *path,
					    enum mfs_folder_kind kind)
{
	struct mfs_folder_info *fi = g_new0(struct mfs_folder_info, 1);

	fi->path = g_strdup(path);
	fi->kind = kind;
	return fi;
}

void mfs_folder_info_free(struct mfs_folder_info *fi)
{
	if (!fi)
		return;
	g_free(fi->path);
	g_free(fi->special);
	g_free(fi);
}

struct mfs_dir_entry *mfs_dir_entry_new(const char *name, GBytes *vcard)
{
	struct mfs_dir_entry *de = g_new0(struct mfs_dir_entry, 1);

	de->name = g_strdup(name);
	de->vcard = g_bytes_ref(vcard);
	return de;
}

void mfs_dir_entry_free(gpointer entry)
{
	struct mfs_dir_entry *de = entry;

	if (!de)
		return;
	g_free(de->name);
	g_bytes_unref(de->vcard);
	g_free(de);
}

struct mfs_sync_result *mfs_sync_result_new(void)
{
	struct mfs_sync_result *res = g_new0(struct mfs_sync_result, 1);

	res->changed = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_item_free);
	res->vanished = g_ptr_array_new_with_free_func(g_free);
	return res;
}

void mfs_sync_result_free(struct mfs_sync_result **res)
{
	if (!*res)
		return;
	g_ptr_array_unref((*res)->changed);
	g_ptr_array_unref((*res)->vanished);
	g_free((*res)->state);
	g_free(*res);
	*res = NULL;
}

const char *mfs_folder_kind_name(enum mfs_folder_kind kind)
{
	switch (kind) {
	case MFS_FOLDER_NONE: return "none";
	case MFS_FOLDER_MAIL: return "mail";
	case MFS_FOLDER_CONTACTS: return "contacts";
	case MFS_FOLDER_CALENDAR: return "calendar";
	case MFS_FOLDER_DIRECTORY: return "directory";
	case MFS_FOLDER_OUTBOX: return "outbox";
	}
	return "unknown";
}
