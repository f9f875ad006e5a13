/*
 * session.c - the backend's one POP3 session: opening it, learning
 * which message number carries which UIDL and size (UIDL and LIST, RFC
 * 1939 section 7 and 5), and running commands with several in flight when
 * the server allows it (RFC 2449 section 6.6, PIPELINING).
 *
 * All functions expect be->lock held and return 0 or -errno.
 */
#include "pop3c-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stream.h"

/* How many commands may wait for their replies at once; enough to keep a
 * link busy, few enough that the commands fit in the socket buffers. */
#define WINDOW 32

static void msgs_reset(struct mfs_backend *be)
{
	g_ptr_array_set_size(be->order, 0);
	g_hash_table_remove_all(be->msgs);
	be->conn_listed = false;
	be->conn_synced = false;
}

void pop3c_session_drop(struct mfs_backend *be)
{
	/* without QUIT: nothing sent on it may take effect */
	pop3c_conn_close(&be->conn);
	msgs_reset(be);
}

int pop3c_session_quit(struct mfs_backend *be, struct mfs_error *e)
{
	int rc = pop3c_conn_quit(&be->conn, e);

	msgs_reset(be);
	return rc;
}

struct pop3c_msg *pop3c_session_msg(struct mfs_backend *be, const char *id)
{
	return g_hash_table_lookup(be->msgs, id);
}

/* "<number> <word>" per line, as UIDL and LIST answer. */
static bool listing_line(char *line, unsigned *num_r, char **word_r)
{
	char *end;

	g_strstrip(line);
	if (!g_ascii_isdigit(line[0]))
		return false;
	errno = 0;
	unsigned long n = strtoul(line, &end, 10);
	if (errno || *end != ' ' || n == 0 || n > G_MAXUINT)
		return false;
	*num_r = (unsigned)n;
	*word_r = end + 1;
	return true;
}

static int got_uidl(struct mfs_backend *be, size_t i, int rc,
		    struct pop3_reply *reply, void *data,
		    struct mfs_error *e)
{
	GHashTable *bynum = data;
	const char *body;
	size_t len;
	unsigned bad = 0;

	if (rc < 0) {
		if (!pop3c_conn_cap(be->conn, "UIDL"))
			return mfs_error_set(e, -ENOTSUP, MFS_ERR_ACCOUNT,
					     MFS_ERR_FINAL, "%s: server has no "
					     "UIDL; POP3 accounts need it for "
					     "stable names", be->cfg.name);
		return rc;
	}
	body = pop3_reply_body(reply, &len);
	g_auto(GStrv) lines = g_strsplit(body, "\n", -1);
	for (guint k = 0; lines[k]; k++) {
		unsigned num;
		char *uidl;
		if (!*g_strstrip(lines[k]))
			continue;
		if (!listing_line(lines[k], &num, &uidl) ||
		    !pop3c_uidl_valid(uidl, strlen(uidl))) {
			bad++;
			continue;
		}
		g_autofree char *id = pop3c_id_from_uidl(uidl);
		if (g_hash_table_contains(be->msgs, id)) {
			/* two messages cannot share one name; the first
			 * keeps it */
			bad++;
			continue;
		}
		struct pop3c_msg *m = g_new0(struct pop3c_msg, 1);
		m->num = num;
		m->uidl = g_strdup(uidl);
		m->id = g_steal_pointer(&id);
		g_hash_table_insert(be->msgs, m->id, m);
		g_hash_table_insert(bynum, GUINT_TO_POINTER(num), m);
	}
	if (bad)
		log_warnx("%s: %u UIDL lines unusable (malformed or "
			  "repeated); those messages are not shown",
			  be->cfg.name, bad);
	return 0;
}

static int got_list(struct mfs_backend *be, size_t i, int rc,
		    struct pop3_reply *reply, void *data,
		    struct mfs_error *e)
{
	GHashTable *bynum = data;
	const char *body;
	size_t len;

	if (rc < 0)
		return rc;
	body = pop3_reply_body(reply, &len);
	g_auto(GStrv) lines = g_strsplit(body, "\n", -1);
	for (guint k = 0; lines[k]; k++) {
		unsigned num;
		char *word, *end;
		if (!listing_line(lines[k], &num, &word))
			continue;
		struct pop3c_msg *m = g_hash_table_lookup(bynum,
							 GUINT_TO_POINTER(num));
		errno = 0;
		unsigned long long size = strtoull(word, &end, 10);
		if (m && !errno && (*end == '\0' || *end == ' '))
			m->size = size;
	}
	return 0;
}

static int got_listing(struct mfs_backend *be, size_t i, int rc,
		       struct pop3_reply *reply, void *data,
		       struct mfs_error *e)
{
	return i == 0 ? got_uidl(be, i, rc, reply, data, e)
		      : got_list(be, i, rc, reply, data, e);
}

static int by_number(gconstpointer a, gconstpointer b)
{
	const struct pop3c_msg *x = *(struct pop3c_msg *const *)a;
	const struct pop3c_msg *y = *(struct pop3c_msg *const *)b;

	return x->num < y->num ? -1 : x->num > y->num;
}

/* UIDL then LIST, in one round trip where the server pipelines. */
static int learn_listing(struct mfs_backend *be, struct mfs_error *e)
{
	GHashTable *bynum = g_hash_table_new(g_direct_hash, g_direct_equal);
	char *cmds[] = { "UIDL", "LIST" };
	int rc;

	msgs_reset(be);
	rc = pop3c_session_pipeline(be, cmds, 2, true, NULL, got_listing,
				   bynum, e);
	g_hash_table_unref(bynum);
	if (rc < 0) {
		msgs_reset(be);
		return rc;
	}
	GHashTableIter it;
	gpointer val;
	g_hash_table_iter_init(&it, be->msgs);
	while (g_hash_table_iter_next(&it, NULL, &val))
		g_ptr_array_add(be->order, val);
	g_ptr_array_sort(be->order, by_number);
	be->conn_listed = true;
	return 0;
}

/* How often a call waiting for the session looks again.  A GMutex has no
 * timed wait; the waits this bounds are seconds long, so a look every few
 * milliseconds costs nothing and adds at most that to a wait. */
#define ENTER_POLL_US 5000

int pop3c_enter(struct mfs_backend *be, struct mfs_error *e)
{
	gint64 deadline = stream_op_deadline(be->cfg.timeout_ms);

	while (!g_mutex_trylock(&be->lock)) {
		gint64 left = deadline - g_get_monotonic_time();

		if (left <= 0)
			return mfs_error_set(e, -ETIMEDOUT, MFS_ERR_ACCOUNT,
					     MFS_ERR_TRANSIENT,
					     "%s: the server did not answer "
					     "another request of this mount "
					     "within %d s", be->cfg.name,
					     be->cfg.timeout_ms / 1000);
		g_usleep((gulong)MIN(left, ENTER_POLL_US));
	}
	return 0;
}

int pop3c_session(struct mfs_backend *be, bool fresh, struct mfs_error *e)
{
	int rc;

	if (be->conn && pop3c_conn_broken(be->conn))
		pop3c_session_drop(be);
	if (be->conn && fresh && be->conn_synced) {
		/* no DELE waits on it (removal QUITs at once), so QUIT
		 * changes nothing on the server */
		struct mfs_error ignored = { 0 };
		pop3c_session_quit(be, &ignored);
	}
	if (!be->conn) {
		if ((rc = pop3c_conn_open(&be->cfg, &be->conn, e)) < 0)
			return rc;
		msgs_reset(be);
	}
	if (!be->conn_listed && (rc = learn_listing(be, e)) < 0) {
		if (e && e->retry == MFS_ERR_FINAL)
			pop3c_session_drop(be);
		return rc;
	}
	return 0;
}

int pop3c_session_pipeline(struct mfs_backend *be, char *const *cmds,
			  size_t n, bool multi, const uint64_t *max_body,
			  pop3c_reply_fn done, void *data, struct mfs_error *e)
{
	struct pop3c_conn *c = be->conn;
	size_t window = pop3c_conn_cap(c, "PIPELINING") ? WINDOW : 1;
	size_t sent = 0, got = 0;
	int first = 0;

	while (got < n) {
		while (sent < n && sent - got < window) {
			int rc = pop3c_conn_send(c, cmds[sent], e);
			if (rc < 0)
				return rc;
			sent++;
		}
		struct mfs_error re = { 0 };
		uint64_t limit = max_body ? max_body[got] : 64u << 20;
		bool body = multi && max_body;
		/* a body's line cannot be longer than the body, nor than
		 * what is held in memory */
		size_t line_max = body
			? (size_t)MIN(limit + 3, POP3C_BODY_LINE_MAX)
			: POP3_REPLY_LINE_MAX;
		/* a body's limit is kept by pop3c_body_start's watch, which
		 * names the message */
		if (body)
			pop3c_body_start(be, cmds[got], limit);
		int rc = pop3c_conn_read(c, multi, line_max,
					 body ? G_MAXUINT64 : limit, &re);
		if (rc < 0 && pop3c_conn_broken(c)) {
			pop3c_body_end(be);
			if (e)
				*e = re;
			return rc;
		}
		struct mfs_error ce = re;
		int cbrc = done(be, got, rc, pop3c_conn_reply(c), data, &ce);
		pop3c_body_end(be);
		if (cbrc < 0 && first == 0) {
			first = cbrc;
			if (e)
				*e = ce;
		}
		got++;
	}
	return first;
}
