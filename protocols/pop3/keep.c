/*
 * keep.c - leave_on_server = false, as fetchmail and getmail do it:
 * every message the server has and we have not kept yet is read (RETR),
 * stored durably in a local Maildir (the `local` store, which fsyncs), and
 * recorded as kept in the state file (fsynced) BEFORE the server is told to
 * delete it (DELE, then QUIT).  A crash anywhere in between leaves the
 * message on the server or on disk, never nowhere; and a repeat finds it
 * kept (by its UIDL in the state file, or by its name in the Maildir) and
 * only deletes it, so it is never kept twice.
 *
 * The local Maildir is `pop3-kept/INBOX` under the work directory; the
 * items shown are its items, whose names are the escaped UIDLs, and flags
 * live in their file names.  Functions expect be->lock held.
 */
#include "pop3c-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

/* Messages read before the state file is written: bounds both the memory
 * held and what a crash makes us read again. */
#define CHUNK 16

int pop3c_keep_open(struct mfs_backend *be, const char *root,
		   const char *work_dir, GError **err)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	int rc;

	/* made before the store opens it: an empty store would be seeded
	 * with a welcome message */
	for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
		g_autofree char *d = g_build_filename(root, POP3_FOLDER,
						      subs[i], NULL);
		if ((rc = file_mkdir_p(d, 0700)) < 0) {
			g_set_error(err, G_FILE_ERROR,
				    g_file_error_from_errno(-rc), "%s: %s", d,
				    g_strerror(-rc));
			return rc;
		}
	}
	struct mfs_account acct = {
		.name = be->cfg.name,
		.type = "local",
		.store = root,
		.work_dir = work_dir,
	};
	return mfs_store_open(&acct, &be->local, err);
}

struct keep_ctx {
	GPtrArray *msgs;		/* borrowed; of struct pop3c_msg * */
	unsigned stored;
};

static int got_body(struct mfs_backend *be, size_t i, int rc,
		    struct pop3_reply *reply, void *data, struct mfs_error *e)
{
	struct keep_ctx *kc = data;
	struct pop3c_msg *m = kc->msgs->pdata[i];
	struct mfs_item *item = NULL;
	const char *head;
	size_t hlen;
	uint64_t len;
	int fd;

	if (rc < 0) {
		log_warnx("%s: the server would not give %s: %s; it stays "
			  "there", be->cfg.name, m->uidl, e ? e->msg : "");
		return 0;
	}
	len = pop3c_body_len(be, reply);
	if (len < m->size) {
		log_warnx("%s: %s came with %" G_GUINT64_FORMAT " of its %"
			  G_GUINT64_FORMAT " bytes; it stays on the server",
			  be->cfg.name, m->uidl, len, m->size);
		return 0;
	}
	head = pop3c_body_head(be, reply, &hlen);
	int64_t date = pop3c_header_date(head, hlen);
	if ((rc = pop3c_body_take_fd(be, reply, &fd, e)) < 0)
		return rc;
	rc = mfs_store_append(&be->local, POP3_FOLDER, fd, m->id,
			      MFS_FLAG_NEW, date, &item, e);
	close(fd);
	if (rc < 0)
		return rc;
	if (strcmp(item->id, m->id))
		log_warnx("%s: %s kept as %s", be->cfg.name, m->id, item->id);
	mfs_item_free(item);
	pop3c_known_add(be, m->id, date, MFS_FLAG_NEW)->kept = true;
	kc->stored++;
	return 0;
}

/* Read and keep `todo` (of struct pop3c_msg *), CHUNK at a time, the state
 * file written after each. */
static int keep_all(struct mfs_backend *be, GPtrArray *todo,
		    struct mfs_error *e)
{
	int rc = 0;

	for (guint at = 0; at < todo->len && rc == 0; at += CHUNK) {
		guint n = MIN(CHUNK, todo->len - at);
		GPtrArray *cmds = g_ptr_array_new_with_free_func(g_free);
		uint64_t limits[CHUNK];
		struct keep_ctx kc = { g_ptr_array_new(), 0 };

		for (guint i = 0; i < n; i++) {
			struct pop3c_msg *m = todo->pdata[at + i];
			g_ptr_array_add(kc.msgs, m);
			g_ptr_array_add(cmds, g_strdup_printf("RETR %u",
							      m->num));
			limits[i] = pop3c_body_limit(m->size);
		}
		rc = pop3c_session_pipeline(be, (char *const *)cmds->pdata, n,
					   true, limits, got_body, &kc, e);
		/* what was stored is recorded even when a later one failed */
		if (kc.stored) {
			int src = pop3c_state_save(be, rc < 0 ? NULL : e);
			if (rc == 0)
				rc = src;
		}
		g_ptr_array_unref(kc.msgs);
		g_ptr_array_unref(cmds);
	}
	return rc;
}

static int got_dele(struct mfs_backend *be, size_t i, int rc,
		    struct pop3_reply *reply, void *data, struct mfs_error *e)
{
	return rc;
}

/* DELE every kept message the session still has, then QUIT. */
static int delete_kept(struct mfs_backend *be, struct mfs_error *e)
{
	GPtrArray *cmds = g_ptr_array_new_with_free_func(g_free);
	int rc = 0;

	for (guint i = 0; i < be->order->len; i++) {
		struct pop3c_msg *m = be->order->pdata[i];
		struct pop3c_known *k = pop3c_known_get(be, m->id);
		if (k && k->kept)
			g_ptr_array_add(cmds, g_strdup_printf("DELE %u",
							      m->num));
	}
	if (cmds->len)
		rc = pop3c_session_pipeline(be, (char *const *)cmds->pdata,
					   cmds->len, false, NULL, got_dele,
					   NULL, e);
	bool any = cmds->len > 0;
	g_ptr_array_unref(cmds);
	if (rc < 0) {
		/* nothing is deleted without QUIT; the next sync tries
		 * again */
		pop3c_session_drop(be);
		return rc;
	}
	if (!any)
		return 0;
	if ((rc = pop3c_session_quit(be, e)) < 0)
		return rc;
	/* the server has none of them now: forget them */
	GHashTableIter it;
	gpointer val;
	g_hash_table_iter_init(&it, be->known);
	while (g_hash_table_iter_next(&it, NULL, &val)) {
		if (((struct pop3c_known *)val)->kept)
			g_hash_table_iter_remove(&it);
	}
	return pop3c_state_save(be, e);
}

/* Fetch what is new on the server into the local Maildir and delete it
 * there.  Returns 0 or -errno. */
static int collect(struct mfs_backend *be, struct mfs_error *e)
{
	struct mfs_sync_result *have = NULL;
	GHashTable *local = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *todo = g_ptr_array_new();
	bool dirty = false;
	int rc = pop3c_session(be, true, e);

	if (rc == 0) {
		be->conn_synced = true;
		rc = mfs_store_sync(&be->local, POP3_FOLDER, NULL, &have, e);
	}
	for (guint i = 0; rc == 0 && i < have->changed->len; i++) {
		struct mfs_item *it = have->changed->pdata[i];
		g_hash_table_add(local, it->id);
	}
	for (guint i = 0; rc == 0 && i < be->order->len; i++) {
		struct pop3c_msg *m = be->order->pdata[i];
		struct pop3c_known *k = pop3c_known_get(be, m->id);
		if (k && k->kept)
			continue;
		if (g_hash_table_contains(local, m->id)) {
			/* stored before a crash that came before the state
			 * file said so */
			pop3c_known_add(be, m->id, 0, 0)->kept = true;
			dirty = true;
			continue;
		}
		g_ptr_array_add(todo, m);
	}
	if (rc == 0 && dirty)
		rc = pop3c_state_save(be, e);
	if (rc == 0)
		rc = keep_all(be, todo, e);
	if (rc == 0)
		rc = delete_kept(be, e);
	g_ptr_array_unref(todo);
	g_hash_table_unref(local);
	mfs_sync_result_free(&have);
	return rc;
}

int pop3c_keep_sync(struct mfs_backend *be, struct mfs_sync_result **res_r,
		   struct mfs_error *e)
{
	struct mfs_error ce = { 0 };
	int crc = collect(be, &ce);
	int rc;

	if (crc < 0) {
		/* what is kept stays readable while the server fails */
		log_warnx("%s: fetching new mail: %s", be->cfg.name, ce.msg);
		if (e)
			*e = ce;
		if (ce.retry == MFS_ERR_FINAL && ce.scope == MFS_ERR_ACCOUNT)
			return crc;
	}
	rc = mfs_store_sync(&be->local, POP3_FOLDER, NULL, res_r, e);
	if (rc == 0) {
		(*res_r)->full = true;
		g_free((*res_r)->state);
		(*res_r)->state = NULL;
	}
	return rc == 0 && crc < 0 ? 1 : rc;
}
