/*
 * items.c - the server's messages as items: listing them with their
 * kept flags and dates (UIDL, LIST, and TOP n 0 of RFC 1939 section 7 for
 * the Date: of a message not seen before), reading them (RETR), removing
 * them (DELE, then QUIT, which is when a POP3 server removes anything).
 * With leave_on_server = false these go to the local copy instead
 * (keep.c keeps it filled).
 */
#include "pop3c-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"
#include "mail-header.h"

int64_t pop3c_header_date(const char *buf, size_t len)
{
	g_autofree char *v = NULL;
	int64_t t = 0;

	if (mail_header_get(buf, MIN(len, 65536), "Date", &v) == 0)
		t = pop3c_parse_date(v);
	return t > 0 ? t : g_get_real_time() / G_USEC_PER_SEC;
}

static int no_folder(struct mfs_error *e, const char *folder)
{
	return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
			     "no folder %s: POP3 holds only the server's "
			     "INBOX", folder);
}

/* ---- listing ---- */

static int got_top(struct mfs_backend *be, size_t i, int rc,
		   struct pop3_reply *reply, void *data, struct mfs_error *e)
{
	GPtrArray *fresh = data;
	struct pop3c_msg *m = fresh->pdata[i];
	const char *body = "";
	size_t len = 0;

	/* without TOP (it is optional) the date is the time first seen */
	if (rc == 0)
		body = pop3c_body_head(be, reply, &len);
	pop3c_known_add(be, m->id, pop3c_header_date(body, len), MFS_FLAG_NEW);
	return 0;
}

/* Dates of the messages not seen before, from their headers. */
static int learn_new(struct mfs_backend *be, bool *dirty_r,
		     struct mfs_error *e)
{
	GPtrArray *fresh = g_ptr_array_new();
	GPtrArray *cmds = g_ptr_array_new_with_free_func(g_free);
	GArray *limits = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	int rc = 0;

	for (guint i = 0; i < be->order->len; i++) {
		struct pop3c_msg *m = be->order->pdata[i];
		if (pop3c_known_get(be, m->id))
			continue;
		uint64_t lim = pop3c_body_limit(m->size);
		g_ptr_array_add(fresh, m);
		g_ptr_array_add(cmds, g_strdup_printf("TOP %u 0", m->num));
		g_array_append_val(limits, lim);
	}
	if (fresh->len && !pop3c_conn_cap(be->conn, "TOP")) {
		for (guint i = 0; i < fresh->len; i++)
			got_top(be, i, -ENOTSUP, NULL, fresh, NULL);
	} else if (fresh->len) {
		rc = pop3c_session_pipeline(be, (char *const *)cmds->pdata,
					   cmds->len, true,
					   (const uint64_t *)limits->data,
					   got_top, fresh, e);
	}
	*dirty_r = fresh->len > 0;
	g_ptr_array_unref(fresh);
	g_ptr_array_unref(cmds);
	g_array_unref(limits);
	return rc;
}

int pop3c_sync(struct mfs_backend *be, const char *folder, const char *state,
	      struct mfs_sync_result **res_r, struct mfs_error *e)
{
	bool dirty = false;
	int rc;

	if (strcmp(folder, POP3_FOLDER))
		return no_folder(e, folder);
	if ((rc = pop3c_enter(be, e)) < 0)
		return rc;
	if (!be->cfg.leave_on_server) {
		/* 1: the kept messages are listed, but the server failed */
		rc = pop3c_keep_sync(be, res_r, e);
		pop3c_note_sync(be, rc, e);
		g_mutex_unlock(&be->lock);
		return rc > 0 ? 0 : rc;
	}
	rc = pop3c_session(be, true, e);
	if (rc == 0) {
		be->conn_synced = true;
		rc = learn_new(be, &dirty, e);
	}
	if (rc < 0)
		goto out;
	/* forget what the server no longer has */
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, be->known);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		if (!pop3c_session_msg(be, key)) {
			g_hash_table_iter_remove(&it);
			dirty = true;
		}
	}
	if (dirty && (rc = pop3c_state_save(be, e)) < 0)
		goto out;
	struct mfs_sync_result *res = mfs_sync_result_new();
	res->full = true;
	for (guint i = 0; i < be->order->len; i++) {
		struct pop3c_msg *m = be->order->pdata[i];
		struct pop3c_known *k = pop3c_known_get(be, m->id);
		g_ptr_array_add(res->changed,
				mfs_item_new(m->id, m->size, k->date,
					     k->flags));
	}
	*res_r = res;
out:
	pop3c_note_sync(be, rc, e);
	g_mutex_unlock(&be->lock);
	return rc;
}

/* ---- bodies ---- */

uint64_t pop3c_body_limit(uint64_t size)
{
	/* LIST's size is exact for most servers and close for the rest
	 * (RFC 1939 5: it may differ by the line ends); far more than it
	 * means the server sends something else.  Whatever LIST claims, no
	 * message is taken past POP3C_MESSAGE_MAX. */
	if (size >= POP3C_MESSAGE_MAX)
		return POP3C_MESSAGE_MAX;
	return MIN(size + size / 8 + 4096, POP3C_MESSAGE_MAX);
}

/* The message `cmd` ("RETR n", "TOP n 0") asks for, or NULL.  Borrowed. */
static const struct pop3c_msg *msg_of_cmd(struct mfs_backend *be,
					  const char *cmd)
{
	const char *sp = strchr(cmd, ' ');
	g_autofree char *num = sp ? g_strndup(sp + 1, strcspn(sp + 1, " "))
				  : NULL;
	guint64 n = 0;

	if (!num || !g_ascii_string_to_unsigned(num, 10, 1, G_MAXUINT, &n,
						NULL))
		return NULL;
	/* numbers run from 1 in order, unless the listing skipped some */
	if (n <= be->order->len &&
	    ((const struct pop3c_msg *)be->order->pdata[n - 1])->num == n)
		return be->order->pdata[n - 1];
	for (guint i = 0; i < be->order->len; i++) {
		const struct pop3c_msg *m = be->order->pdata[i];
		if (m->num == n)
			return m;
	}
	return NULL;
}

static int too_long(struct mfs_backend *be, const struct pop3c_body *b,
		    struct mfs_error *e)
{
	const char *what = b->m ? b->m->uidl : "?";

	if (b->limit >= POP3C_MESSAGE_MAX)
		return mfs_error_set(e, -EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: message %s is larger than %u MiB, "
				     "the most a POP3 message may be; it "
				     "is not read", be->cfg.name, what,
				     (unsigned)(POP3C_MESSAGE_MAX >> 20));
	return mfs_error_set(e, -EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL,
			     "%s: message %s is longer than the %"
			     G_GUINT64_FORMAT " bytes the server listed for "
			     "it; it is not read", be->cfg.name, what,
			     b->m ? b->m->size : 0);
}

/* An unlinked file beside the account's state (on disk, where tmpfs
 * would be memory again), else in the temporary directory. */
static int spill_file(struct mfs_backend *be)
{
	g_autofree char *dir = g_path_get_dirname(be->state_path);
	const char *where[] = { dir, g_get_tmp_dir() };

	for (size_t i = 0; i < G_N_ELEMENTS(where); i++) {
		int fd = open(where[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
	}
	g_autofree char *tmpl = g_build_filename(g_get_tmp_dir(),
						 "mailfs-pop3-XXXXXX", NULL);
	int fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	unlink(tmpl);
	return fd;
}

/* pop3c_spill_fn: past POP3C_BODY_MEM_MAX, the body goes on to a file. */
static int spill(struct pop3_reply *r, bool done, void *data,
		 struct mfs_error *e)
{
	struct mfs_backend *be = data;
	struct pop3c_body *b = be->body;
	size_t len;
	int rc;

	pop3_reply_body(r, &len);
	if (b->spilled + len > b->limit)
		return too_long(be, b, e);
	if (b->fd < 0 && (len < POP3C_BODY_MEM_MAX || done))
		return 0;
	if (b->fd < 0) {
		const char *head = pop3_reply_body(r, &len);
		if ((b->fd = spill_file(be)) < 0)
			return mfs_error_set(e, b->fd, MFS_ERR_ITEM,
					     MFS_ERR_TRANSIENT, "%s: a file "
					     "for a large message: %s",
					     be->cfg.name,
					     g_strerror(-b->fd));
		b->head = g_string_new_len(head, MIN(len, POP3C_HEAD_MAX));
	}
	g_autofree char *chunk = pop3_reply_steal_body(r, &len);
	rc = file_write_all(b->fd, chunk, len);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
				     "%s: keeping a large message: %s",
				     be->cfg.name, g_strerror(-rc));
	b->spilled += len;
	return 0;
}

void pop3c_body_start(struct mfs_backend *be, const char *cmd,
		      uint64_t limit)
{
	pop3c_body_end(be);
	be->body = g_new0(struct pop3c_body, 1);
	be->body->m = msg_of_cmd(be, cmd);
	be->body->limit = limit;
	be->body->fd = -1;
	pop3c_conn_spill(be->conn, spill, be);
}

void pop3c_body_end(struct mfs_backend *be)
{
	struct pop3c_body *b = be->body;

	if (be->conn)
		pop3c_conn_spill(be->conn, NULL, NULL);
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	if (b->head)
		g_string_free(b->head, TRUE);
	g_free(b);
	be->body = NULL;
}

uint64_t pop3c_body_len(struct mfs_backend *be, struct pop3_reply *r)
{
	size_t len;

	pop3_reply_body(r, &len);
	return (be->body ? be->body->spilled : 0) + len;
}

const char *pop3c_body_head(struct mfs_backend *be, struct pop3_reply *r,
			    size_t *len_r)
{
	if (be->body && be->body->head) {
		*len_r = be->body->head->len;
		return be->body->head->str;
	}
	return pop3_reply_body(r, len_r);
}

int pop3c_body_take_fd(struct mfs_backend *be, struct pop3_reply *r,
		       int *fd_r, struct mfs_error *e)
{
	struct pop3c_body *b = be->body;
	const char *buf;
	size_t len;

	if (!b || b->fd < 0) {
		buf = pop3_reply_body(r, &len);
		return pop3c_body_fd(buf, len, fd_r, e);
	}
	if (lseek(b->fd, 0, SEEK_SET) < 0)
		return mfs_error_set(e, -errno, MFS_ERR_ITEM,
				     MFS_ERR_TRANSIENT, "%s: %s",
				     be->cfg.name, g_strerror(errno));
	*fd_r = b->fd;
	b->fd = -1;
	return 0;
}

int pop3c_body_fd(const char *buf, size_t len, int *fd_r, struct mfs_error *e)
{
	int fd = memfd_create("mailfs-pop3", MFD_CLOEXEC);
	int rc = fd < 0 ? -errno : file_write_all(fd, buf, len);

	if (rc == 0 && lseek(fd, 0, SEEK_SET) < 0)
		rc = -errno;
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
				     "keeping a message: %s", g_strerror(-rc));
	}
	*fd_r = fd;
	return 0;
}

/* ---- reading ---- */

struct retr {
	GPtrArray *msgs;		/* borrowed, of struct pop3c_msg * */
	mfs_fetched_fn got;		/* NULL: the body as a file, *fd */
	void *data;
	int *fd;			/* when got is NULL: -1, then the
					   body's file (the caller's) */
	size_t delivered;
	int short_rc;			/* -EIO when a body came cut short */
	struct mfs_error *short_e;	/* borrowed; says which */
};

/* Hand a whole body to r->got, from memory or mapped from its file. */
static int deliver(struct mfs_backend *be, struct retr *r,
		   const struct pop3c_msg *m, struct pop3_reply *reply,
		   uint64_t len, struct mfs_error *e)
{
	size_t mlen;
	const char *body = pop3_reply_body(reply, &mlen);
	int fd = -1;
	void *map;
	int rc;

	if (!r->got) {
		if ((rc = pop3c_body_take_fd(be, reply, &fd, e)) < 0)
			return rc;
		if (*r->fd >= 0)
			close(*r->fd);
		*r->fd = fd;
		return 0;
	}
	if (len == mlen) {
		r->got(m->id, body, mlen, r->data);
		return 0;
	}
	if ((rc = pop3c_body_take_fd(be, reply, &fd, e)) < 0)
		return rc;
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return mfs_error_set(e, -errno, MFS_ERR_ITEM,
				     MFS_ERR_TRANSIENT, "%s: %s: %s",
				     be->cfg.name, m->uidl, g_strerror(errno));
	r->got(m->id, map, len, r->data);
	munmap(map, len);
	return 0;
}

static int got_retr(struct mfs_backend *be, size_t i, int rc,
		    struct pop3_reply *reply, void *data, struct mfs_error *e)
{
	struct retr *r = data;
	struct pop3c_msg *m = r->msgs->pdata[i];
	uint64_t len;

	if (rc == -EFBIG)
		return rc;	/* larger than allowed: said as it is */
	if (rc < 0) {
		/* one message refused is not found; the others go on */
		log_debug(LOG_STORE, "%s: RETR of %s: %s", be->cfg.name, m->id,
			  e ? e->msg : "");
		return 0;
	}
	len = pop3c_body_len(be, reply);
	if (len < m->size) {
		/* LIST counts the bytes RETR sends (RFC 1939 5); fewer is a
		 * message cut short, never to be shown as if whole */
		r->short_rc = mfs_error_set(e, -EIO, MFS_ERR_ITEM,
					    MFS_ERR_TRANSIENT, "%s: %s came "
					    "with %" G_GUINT64_FORMAT " of its %"
					    G_GUINT64_FORMAT " bytes",
					    be->cfg.name, m->uidl, len,
					    m->size);
		if (r->short_e && r->short_e != e)
			*r->short_e = *e;
		return 0;
	}
	if ((rc = deliver(be, r, m, reply, len, e)) < 0)
		return rc;
	r->delivered++;
	return 0;
}

/*
 * RETR the messages `ids` that this session has, handing each to `got`
 * (NULL: the one message's body as a file in *fd_r, caller's).  A session
 * that was open before the call may have been ended by the server
 * meanwhile (POP3 servers end idle sessions after ten minutes): then one
 * new session is tried, unless something was delivered or a message was
 * too large.
 */
static int retr_many(struct mfs_backend *be, const char *const *ids,
		     size_t n, mfs_fetched_fn got, void *data, int *fd_r,
		     struct mfs_error *e)
{
	int rc = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = be->conn != NULL && !pop3c_conn_broken(be->conn);
		struct retr r = { g_ptr_array_new(), got, data, fd_r, 0, 0,
				  e };
		GPtrArray *cmds = g_ptr_array_new_with_free_func(g_free);
		GArray *limits = g_array_new(FALSE, FALSE, sizeof(uint64_t));

		rc = pop3c_session(be, false, e);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			struct pop3c_msg *m = pop3c_session_msg(be, ids[i]);
			if (!m)
				continue;
			uint64_t lim = pop3c_body_limit(m->size);
			g_ptr_array_add(r.msgs, m);
			g_ptr_array_add(cmds, g_strdup_printf("RETR %u",
							      m->num));
			g_array_append_val(limits, lim);
		}
		if (rc == 0 && cmds->len)
			rc = pop3c_session_pipeline(
				be, (char *const *)cmds->pdata, cmds->len,
				true, (const uint64_t *)limits->data, got_retr,
				&r, e);
		g_ptr_array_unref(r.msgs);
		g_ptr_array_unref(cmds);
		g_array_unref(limits);
		if (rc == 0 && r.short_rc < 0 && n == 1)
			rc = r.short_rc;
		if (rc < 0 && rc != -EFBIG && reused && r.delivered == 0 &&
		    be->conn && pop3c_conn_broken(be->conn)) {
			pop3c_session_drop(be);
			continue;
		}
		break;
	}
	return rc;
}

int pop3c_fetch(struct mfs_backend *be, const char *folder, const char *id,
	       int *fd_r, struct mfs_error *e)
{
	int fd = -1;
	int rc;

	if (strcmp(folder, POP3_FOLDER))
		return no_folder(e, folder);
	if ((rc = pop3c_enter(be, e)) < 0)
		return rc;
	if (!be->cfg.leave_on_server) {
		rc = mfs_store_fetch(&be->local, folder, id, fd_r, e);
		g_mutex_unlock(&be->lock);
		return rc;
	}
	rc = retr_many(be, &id, 1, NULL, NULL, &fd, e);
	g_mutex_unlock(&be->lock);
	if (rc == 0 && fd < 0)
		rc = mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				   "%s: no message %s on the server",
				   be->cfg.name, id);
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	*fd_r = fd;
	return 0;
}

struct local_batch {
	mfs_fetched_fn got;
	void *data;
};

int pop3c_fetch_batch(struct mfs_backend *be, const char *folder,
		     const char *const *ids, size_t n, mfs_fetched_fn got,
		     void *data, struct mfs_error *e)
{
	int rc;

	if (strcmp(folder, POP3_FOLDER))
		return no_folder(e, folder);
	if ((rc = pop3c_enter(be, e)) < 0)
		return rc;
	if (!be->cfg.leave_on_server) {
		/* local disk: one by one costs nothing */
		rc = mfs_store_fetch_batch(&be->local, folder, ids, n, got,
					   data, e);
		if (rc == -ENOTSUP) {
			rc = 0;
			for (size_t i = 0; i < n; i++) {
				int fd;
				g_autofree char *buf = NULL;
				size_t len;
				if (mfs_store_fetch(&be->local, folder, ids[i],
						    &fd, NULL) < 0)
					continue;
				if (file_read_head(fd, G_MAXSIZE, &buf,
						   &len) == 0)
					got(ids[i], buf, len, data);
				close(fd);
			}
		}
	} else {
		rc = retr_many(be, ids, n, got, data, NULL, e);
	}
	g_mutex_unlock(&be->lock);
	return rc;
}

/* ---- flags ---- */

static int set_flags_many(struct mfs_backend *be, const char *folder,
			  const char *const *ids, const uint64_t *flags,
			  size_t n, int *rcs, struct mfs_error *e)
{
	int rc = 0;

	if (strcmp(folder, POP3_FOLDER))
		return no_folder(e, folder);
	if ((rc = pop3c_enter(be, e)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!be->cfg.leave_on_server) {
			struct mfs_error ie = { 0 };
			rcs[i] = mfs_store_set_flags(&be->local, folder, ids[i],
						     flags[i], &ie);
			if (rcs[i] < 0 && rcs[i] != -ENOENT && rc == 0) {
				rc = rcs[i];
				if (e)
					*e = ie;
			}
			continue;
		}
		struct pop3c_known *k = pop3c_known_get(be, ids[i]);
		rcs[i] = k ? 0 : -ENOENT;
		if (k)
			k->flags = flags[i];
	}
	if (rc == 0 && be->cfg.leave_on_server)
		rc = pop3c_state_save(be, e);
	g_mutex_unlock(&be->lock);
	return rc;
}

int pop3c_set_flags(struct mfs_backend *be, const char *folder,
		   const char *const *ids, const uint64_t *flags, size_t n,
		   int *rcs, struct mfs_error *e)
{
	int rc = set_flags_many(be, folder, ids, flags, n, rcs, e);

	/* one alone fails when the message is gone (backend.h) */
	if (n == 1 && rc == 0 && rcs[0] < 0)
		rc = mfs_error_set(e, rcs[0], MFS_ERR_ITEM, MFS_ERR_FINAL,
				   "%s: no message %s", be->cfg.name, ids[0]);
	return rc;
}

/* ---- removing ---- */

static int got_dele(struct mfs_backend *be, size_t i, int rc,
		    struct pop3_reply *reply, void *data, struct mfs_error *e)
{
	return rc;
}

/* DELE what the session has of `ids`, then QUIT.  Returns 0 once the
 * server confirmed; nothing is removed when a DELE is refused. */
static int dele_quit(struct mfs_backend *be, const char *const *ids,
		     size_t n, struct mfs_error *e)
{
	int rc = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = be->conn != NULL && !pop3c_conn_broken(be->conn);
		GPtrArray *cmds = g_ptr_array_new_with_free_func(g_free);

		rc = pop3c_session(be, false, e);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			struct pop3c_msg *m = pop3c_session_msg(be, ids[i]);
			/* one the server no longer has counts as removed */
			if (m)
				g_ptr_array_add(cmds, g_strdup_printf(
							"DELE %u", m->num));
		}
		if (rc == 0 && cmds->len)
			rc = pop3c_session_pipeline(
				be, (char *const *)cmds->pdata, cmds->len,
				false, NULL, got_dele, NULL, e);
		g_ptr_array_unref(cmds);
		if (rc < 0 && reused && be->conn && pop3c_conn_broken(be->conn)) {
			pop3c_session_drop(be);
			continue;
		}
		break;
	}
	if (rc < 0) {
		/* ending it without QUIT undoes the DELEs sent */
		pop3c_session_drop(be);
		return rc;
	}
	return pop3c_session_quit(be, e);
}

int pop3c_remove(struct mfs_backend *be, const char *folder,
		 const char *const *ids, size_t n, struct mfs_error *e)
{
	int rc = 0;

	if (strcmp(folder, POP3_FOLDER))
		return no_folder(e, folder);
	if ((rc = pop3c_enter(be, e)) < 0)
		return rc;
	if (!be->cfg.leave_on_server) {
		for (size_t i = 0; i < n && rc == 0; i++) {
			rc = mfs_store_remove(&be->local, folder, ids[i], e);
			if (rc == -ENOENT)
				rc = 0;
		}
		g_mutex_unlock(&be->lock);
		return rc;
	}
	rc = dele_quit(be, ids, n, e);
	if (rc == 0) {
		for (size_t i = 0; i < n; i++)
			g_hash_table_remove(be->known, ids[i]);
		struct mfs_error ignored = { 0 };
		/* a stale entry is dropped by the next sync anyway */
		pop3c_state_save(be, &ignored);
	}
	g_mutex_unlock(&be->lock);
	return rc;
}
