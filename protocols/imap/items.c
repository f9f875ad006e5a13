/*
 * items.c - messages: sync, fetch, append, flags, delete, move, copy.
 *
 * RFC 3501 / RFC 9051 (FETCH, STORE, APPEND, COPY, UID), RFC 4315 (UIDPLUS:
 * APPENDUID, COPYUID, UID EXPUNGE), RFC 6851 (MOVE), RFC 7162 (CONDSTORE,
 * QRESYNC: SELECT ... (QRESYNC ...), VANISHED (EARLIER)).  Servers without
 * these get the plain forms: a full flag fetch on every sync, and
 * STATUS UIDNEXT with a size match to find what APPEND or COPY made.
 */
#include "imapc-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"
#include "mail-header.h"

/* What the listing fetches of each message: the Message-ID comes along so
 * that the index can say it without the body (user.mail.message-id). */
#define MSGID_ITEM "BODY[HEADER.FIELDS (MESSAGE-ID)]"
#define LIST_ITEMS "(UID FLAGS RFC822.SIZE INTERNALDATE " \
		   "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"

/* VANISHED ranges larger than this are answered by a full sync. */
#define MAX_VANISHED 1000000

static const struct {
	const char *imap;
	char letter;
} flag_map[] = {
	{ "\\Draft", 'D' },	{ "\\Flagged", 'F' }, { "$Forwarded", 'P' },
	{ "\\Answered", 'R' },	{ "\\Seen", 'S' },    { "\\Deleted", 'T' },
};

uint64_t imapc_flags_from_list(GPtrArray *list)
{
	uint64_t flags = 0;

	for (guint i = 0; list && i < list->len; i++) {
		const char *f = imap_arg_string(list->pdata[i]);
		for (size_t k = 0; f && k < G_N_ELEMENTS(flag_map); k++) {
			if (!g_ascii_strcasecmp(f, flag_map[k].imap))
				flags |= MFS_FLAG_LETTER(flag_map[k].letter);
		}
	}
	return flags;
}

/* "(\Seen \Flagged)" of the mapped flags set in `flags`; with `unset`, of
 * the mapped flags not set.  Caller owns the result; "" when none. */
static char *flag_list(uint64_t flags, bool unset)
{
	GString *s = g_string_new(NULL);

	for (size_t k = 0; k < G_N_ELEMENTS(flag_map); k++) {
		bool set = (flags & MFS_FLAG_LETTER(flag_map[k].letter)) != 0;
		if (set == unset)
			continue;
		g_string_append_printf(s, "%s%s", s->len ? " " : "(",
				       flag_map[k].imap);
	}
	if (s->len)
		g_string_append_c(s, ')');
	return g_string_free(s, FALSE);
}

char *imapc_flags_to_list(uint64_t flags)
{
	g_autofree char *l = flag_list(flags, false);

	return *l ? g_steal_pointer(&l) : g_strdup("()");
}

/* Both numbers are 32-bit (RFC 3501 section 2.3.1.1); written ten digits
 * wide, ids sort the same way as numbers and as the file names that start
 * with them, so tools that read in name order read in UID order. */
char *imapc_item_id(uint64_t uidvalidity, uint64_t uid)
{
	return g_strdup_printf("V%010" G_GUINT64_FORMAT "U%010" G_GUINT64_FORMAT,
			       uidvalidity, uid);
}

int imapc_parse_item_id(const char *id, uint64_t *uidvalidity_r,
		       uint64_t *uid_r)
{
	const char *u;
	guint64 uv, uid;

	if (id[0] != 'V' || !(u = strchr(id, 'U')))
		return -ENOENT;
	g_autofree char *vpart = g_strndup(id + 1, (gsize)(u - id - 1));
	if (!g_ascii_string_to_unsigned(vpart, 10, 1, UINT32_MAX, &uv, NULL) ||
	    !g_ascii_string_to_unsigned(u + 1, 10, 1, UINT32_MAX, &uid, NULL))
		return -ENOENT;
	*uidvalidity_r = uv;
	*uid_r = uid;
	return 0;
}

/* INTERNALDATE "17-Jul-1996 02:44:25 -0700" as seconds since the epoch. */
static int64_t parse_date(const char *s)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
		"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char mon[4] = { 0 };
	int d = 0, y = 0, hh = 0, mm = 0, ss = 0, m = 0, zone = 0;

	while (*s == ' ')
		s++;
	for (; g_ascii_isdigit(*s); s++)
		d = d * 10 + (*s - '0');
	if (*s++ != '-' || !s[0] || !s[1] || !s[2])
		return 0;
	memcpy(mon, s, 3);
	s += 3;
	for (m = 0; m < 12 && g_ascii_strcasecmp(mon, months[m]); m++)
		;
	if (m == 12 || *s++ != '-')
		return 0;
	for (; g_ascii_isdigit(*s); s++)
		y = y * 10 + (*s - '0');
	if (*s++ != ' ')
		return 0;
	int fields[3] = { 0 };
	for (int i = 0; i < 3; i++) {
		if (!g_ascii_isdigit(s[0]) || !g_ascii_isdigit(s[1]))
			return 0;
		fields[i] = (s[0] - '0') * 10 + (s[1] - '0');
		s += 2;
		if (i < 2 && *s++ != ':')
			return 0;
	}
	hh = fields[0];
	mm = fields[1];
	ss = fields[2];
	if (*s++ == ' ' && (s[0] == '+' || s[0] == '-') && strlen(s) >= 5) {
		zone = ((s[1] - '0') * 10 + (s[2] - '0')) * 3600 +
		       ((s[3] - '0') * 10 + (s[4] - '0')) * 60;
		if (s[0] == '-')
			zone = -zone;
	}
	GDateTime *dt = g_date_time_new_utc(y, m + 1, d, hh, mm, ss);
	if (!dt)
		return 0;
	int64_t t = g_date_time_to_unix(dt) - zone;
	g_date_time_unref(dt);
	return t;
}

static void format_date(int64_t t, char *buf, size_t len)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
		"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	GDateTime *dt = g_date_time_new_from_unix_utc(t > 0 ? t : 0);

	g_snprintf(buf, len, "%02d-%s-%04d %02d:%02d:%02d +0000",
		   g_date_time_get_day_of_month(dt),
		   months[g_date_time_get_month(dt) - 1],
		   g_date_time_get_year(dt), g_date_time_get_hour(dt),
		   g_date_time_get_minute(dt), g_date_time_get_second(dt));
	g_date_time_unref(dt);
}

/* The value after `name` in a FETCH attribute list, or NULL. */
static struct imap_arg *fetch_attr(GPtrArray *list, const char *name)
{
	for (guint i = 0; list && i + 1 < list->len; i += 2) {
		if (imap_arg_is(list->pdata[i], name))
			return list->pdata[i + 1];
	}
	return NULL;
}

/* The attribute list of "* n FETCH (...)", or NULL for other lines. */
static GPtrArray *fetch_list(struct imap_line *l)
{
	if (!imap_arg_is(imap_line_arg(l, 2), "FETCH"))
		return NULL;
	return imap_arg_list(imap_line_arg(l, 3));
}

/* Append the UIDs of a sequence set ("1,4:7") to `out`; false when it is
 * malformed or larger than `max`. */
static bool expand_set(const char *set, GArray *out, size_t max)
{
	g_auto(GStrv) parts = g_strsplit(set, ",", -1);

	for (int i = 0; parts[i]; i++) {
		char *colon = strchr(parts[i], ':');
		guint64 a, b;
		if (colon)
			*colon = '\0';
		if (!g_ascii_string_to_unsigned(parts[i], 10, 1, UINT32_MAX, &a,
						NULL))
			return false;
		b = a;
		if (colon && !g_ascii_string_to_unsigned(colon + 1, 10, 1,
							 UINT32_MAX, &b, NULL))
			return false;
		if (a > b) {
			guint64 t = a;
			a = b;
			b = t;
		}
		if (out->len + (b - a + 1) > max)
			return false;
		for (guint64 u = a; u <= b; u++) {
			uint64_t v = u;
			g_array_append_val(out, v);
		}
	}
	return true;
}

struct sync_ctx {
	uint64_t uidvalidity, modseq, uidnext, exists;
	bool nomodseq;
	bool vanished_overflow;
	GArray *vanished;		/* uint64_t uids */
	GArray *changed;		/* uint64_t uids from QRESYNC */
	GPtrArray *items;		/* of struct mfs_item * */
};

static int select_sync_cb(struct imap_line *l, void *data)
{
	struct sync_ctx *sc = data;
	struct imap_arg *w = imap_line_arg(l, 1);
	struct imap_arg *code = imap_line_arg(l, 2);
	GPtrArray *cl = code && code->type == IMAP_ARG_CODE ? code->list : NULL;
	GPtrArray *fl;
	uint64_t n;

	if (imap_arg_is(w, "OK") && cl && cl->len >= 1) {
		struct imap_arg *v = cl->len >= 2 ? cl->pdata[1] : NULL;
		if (imap_arg_is(cl->pdata[0], "UIDVALIDITY"))
			imap_arg_number(v, &sc->uidvalidity);
		else if (imap_arg_is(cl->pdata[0], "UIDNEXT"))
			imap_arg_number(v, &sc->uidnext);
		else if (imap_arg_is(cl->pdata[0], "HIGHESTMODSEQ"))
			imap_arg_number(v, &sc->modseq);
		else if (imap_arg_is(cl->pdata[0], "NOMODSEQ"))
			sc->nomodseq = true;
	} else if (imap_arg_is(imap_line_arg(l, 2), "EXISTS") &&
		   imap_arg_number(w, &n)) {
		sc->exists = n;
	} else if (imap_arg_is(w, "VANISHED")) {
		struct imap_arg *set = imap_line_arg(l, 2);
		if (imap_arg_list(set))
			set = imap_line_arg(l, 3);
		if (!imap_arg_string(set) ||
		    !expand_set(set->str, sc->vanished, MAX_VANISHED))
			sc->vanished_overflow = true;
	} else if ((fl = fetch_list(l))) {
		if (imap_arg_number(fetch_attr(fl, "UID"), &n))
			g_array_append_val(sc->changed, n);
	}
	return 0;
}

static int items_cb(struct imap_line *l, void *data)
{
	struct sync_ctx *sc = data;
	GPtrArray *fl = fetch_list(l);
	uint64_t uid, size;

	if (!fl || !imap_arg_number(fetch_attr(fl, "UID"), &uid) ||
	    !imap_arg_number(fetch_attr(fl, "RFC822.SIZE"), &size))
		return 0;
	struct imap_arg *date = fetch_attr(fl, "INTERNALDATE");
	g_autofree char *id = imapc_item_id(sc->uidvalidity, uid);
	struct mfs_item *it = mfs_item_new(id, size,
					   imap_arg_string(date)
						   ? parse_date(date->str) : 0,
					   imapc_flags_from_list(imap_arg_list(
						   fetch_attr(fl, "FLAGS"))));
	struct imap_arg *hdr = fetch_attr(fl, MSGID_ITEM);
	if (imap_arg_is_string(hdr) &&
	    mail_header_get(hdr->str, hdr->len, "Message-ID",
			    &it->message_id) < 0)
		it->message_id = g_strdup("");
	g_ptr_array_add(sc->items, it);
	return 0;
}

/* "1:3,7" of sorted, unique UIDs.  Caller owns the result. */
static char *make_set(GArray *uids)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < uids->len;) {
		uint64_t a = g_array_index(uids, uint64_t, i), b = a;
		while (++i < uids->len && g_array_index(uids, uint64_t, i) <= b + 1)
			b = MAX(b, g_array_index(uids, uint64_t, i));
		g_string_append_printf(s, "%s%" G_GUINT64_FORMAT, s->len ? "," : "",
				       a);
		if (b != a)
			g_string_append_printf(s, ":%" G_GUINT64_FORMAT, b);
	}
	return g_string_free(s, FALSE);
}

static gint uid_cmp(gconstpointer a, gconstpointer b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int imapc_sync(struct mfs_backend *be, const char *folder, const char *state,
	      struct mfs_sync_result **res_r, struct mfs_error *e)
{
	uint64_t old_uv = 0, old_modseq = 0, old_next = 0;
	struct sync_ctx sc = { 0 };
	g_autofree char *server = NULL;
	struct imapc_conn *c;
	bool incremental;
	int rc;

	if (state) {
		g_auto(GStrv) f = g_strsplit(state, ":", -1);
		if (g_strv_length(f) == 4 && !strcmp(f[0], "1")) {
			old_uv = g_ascii_strtoull(f[1], NULL, 10);
			old_modseq = g_ascii_strtoull(f[2], NULL, 10);
			old_next = g_ascii_strtoull(f[3], NULL, 10);
		}
	}
	if ((rc = imapc_server_name(be, folder, &server, e)) < 0 ||
	    (rc = imapc_pool_get(be, NULL, &c, NULL, e)) < 0)
		return rc;
	sc.vanished = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	sc.changed = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	sc.items = g_ptr_array_new_with_free_func((GDestroyNotify)mfs_item_free);

	bool qresync = imapc_conn_cap(c, "QRESYNC") && old_uv && old_modseq;
	struct imapc_cmd *cmd = imapc_cmd_new("SELECT");
	imapc_cmd_astring(cmd, server, strlen(server));
	if (qresync)
		imapc_cmd_add(cmd, "(QRESYNC (%" G_GUINT64_FORMAT " %"
			     G_GUINT64_FORMAT "))", old_uv, old_modseq);
	else if (imapc_conn_cap(c, "CONDSTORE"))
		imapc_cmd_add(cmd, "(CONDSTORE)");
	imapc_conn_set_selected(c, NULL, 0);
	rc = imapc_conn_run(c, cmd, select_sync_cb, &sc, NULL, e);
	if (rc == 0 && sc.uidvalidity == 0)
		rc = mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				   "no UIDVALIDITY for %s", folder);
	if (rc < 0)
		goto out;
	imapc_conn_set_selected(c, server, sc.uidvalidity);
	incremental = qresync && sc.uidvalidity == old_uv && old_next &&
		      !sc.nomodseq && !sc.vanished_overflow;
	if (!incremental) {
		if (sc.exists > 0)
			rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH 1:* "
							   LIST_ITEMS),
					   items_cb, &sc, NULL, e);
	} else {
		uint64_t from = old_next;
		g_array_sort(sc.changed, uid_cmp);
		g_autofree char *set = make_set(sc.changed);
		rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %s%s%" G_GUINT64_FORMAT
						   ":* " LIST_ITEMS, set,
						   *set ? "," : "", from),
				   items_cb, &sc, NULL, e);
	}
	if (rc < 0)
		goto out;
	struct mfs_sync_result *res = mfs_sync_result_new();
	res->full = !incremental;
	g_ptr_array_extend_and_steal(res->changed, g_steal_pointer(&sc.items));
	for (guint i = 0; incremental && i < sc.vanished->len; i++)
		g_ptr_array_add(res->vanished,
				imapc_item_id(sc.uidvalidity,
					     g_array_index(sc.vanished, uint64_t,
							   i)));
	res->state = g_strdup_printf("1:%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT
				     ":%" G_GUINT64_FORMAT, sc.uidvalidity,
				     sc.nomodseq ? 0 : sc.modseq, sc.uidnext);
	*res_r = res;
out:
	imapc_pool_put(be, c);
	g_array_unref(sc.vanished);
	g_array_unref(sc.changed);
	if (sc.items)
		g_ptr_array_unref(sc.items);
	return rc;
}

struct body_ctx {
	uint64_t uid;
	int fd;
	int err;
	bool got;
};

static int body_cb(struct imap_line *l, void *data)
{
	struct body_ctx *bc = data;
	GPtrArray *fl = fetch_list(l);
	uint64_t uid;
	struct imap_arg *body;

	if (!fl || !imap_arg_number(fetch_attr(fl, "UID"), &uid) ||
	    uid != bc->uid || !(body = fetch_attr(fl, "BODY[]")))
		return 0;
	if (body->type == IMAP_ARG_NIL) {
		bc->got = true;
		return 0;
	}
	if (body->fd >= 0) {
		/* a big body already in a file of its own: take that */
		close(bc->fd);
		bc->fd = body->fd;
		body->fd = -1;
		bc->got = true;
		return 0;
	}
	if (!imap_arg_is_string(body))
		return 0;
	bc->err = file_write_all(bc->fd, body->str, body->len);
	bc->got = true;
	return 0;
}

int imapc_fetch(struct mfs_backend *be, const char *folder, const char *id,
	       int *fd_r, struct mfs_error *e)
{
	struct body_ctx bc = { 0 };
	uint64_t uv, cur_uv;
	struct imapc_conn *c;
	int rc = 0;

	if (imapc_parse_item_id(id, &uv, &bc.uid) < 0)
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s is not a message id of this server",
				     id);
	if ((rc = imapc_pool_get(be, folder, &c, &cur_uv, e)) < 0)
		return rc;
	if (cur_uv != uv) {
		imapc_pool_put(be, c);
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: UIDVALIDITY changed", folder);
	}
	bc.fd = memfd_create("mailfs-body", MFD_CLOEXEC);
	if (bc.fd < 0) {
		imapc_pool_put(be, c);
		return mfs_error_set(e, -errno, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
				     "memfd: %s", g_strerror(errno));
	}
	for (int attempt = 0; attempt < 2 && rc == 0 && !bc.got; attempt++) {
		/* the second time after a NOOP: see take_item() */
		if (attempt)
			rc = imapc_conn_run(c, imapc_cmd_new("NOOP"), NULL, NULL,
					   NULL, e);
		if (rc == 0)
			rc = imapc_conn_run(c, imapc_cmd_new(
						   "UID FETCH %" G_GUINT64_FORMAT
						   " (UID BODY.PEEK[])", bc.uid),
					   body_cb, &bc, NULL, e);
	}
	imapc_pool_put(be, c);
	if (rc == 0 && bc.err < 0)
		rc = mfs_error_set(e, bc.err, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
				   "storing the body: %s", g_strerror(-bc.err));
	if (rc == 0 && !bc.got)
		rc = mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				   "%s/%s is gone from the server", folder, id);
	if (rc < 0) {
		close(bc.fd);
		return rc;
	}
	lseek(bc.fd, 0, SEEK_SET);
	*fd_r = bc.fd;
	return 0;
}

struct batch_ctx {
	GHashTable *ids;		/* uid -> id (borrowed strings) */
	mfs_fetched_fn got;
	void *data;
};

static int batch_cb(struct imap_line *l, void *data)
{
	struct batch_ctx *bc = data;
	GPtrArray *fl = fetch_list(l);
	struct imap_arg *body;
	uint64_t uid;
	const char *id;

	if (!fl || !imap_arg_number(fetch_attr(fl, "UID"), &uid) ||
	    !(body = fetch_attr(fl, "BODY[]")) ||
	    !(id = g_hash_table_lookup(bc->ids, &uid)))
		return 0;
	if (body->fd >= 0 && body->len > 0) {
		/* kept in a file: mapped, not read into memory */
		void *map = mmap(NULL, body->len, PROT_READ, MAP_PRIVATE,
				 body->fd, 0);
		if (map == MAP_FAILED)
			return 0;
		bc->got(id, map, body->len, bc->data);
		munmap(map, body->len);
	} else if (imap_arg_is_string(body)) {
		bc->got(id, body->str, body->len, bc->data);
	} else {
		return 0;
	}
	g_hash_table_remove(bc->ids, &uid);	/* once per message */
	return 0;
}

int imapc_fetch_batch(struct mfs_backend *be, const char *folder,
		     const char *const *ids, size_t n, mfs_fetched_fn got,
		     void *data, struct mfs_error *e)
{
	struct batch_ctx bc = { g_hash_table_new_full(g_int64_hash,
						      g_int64_equal, g_free,
						      NULL), got, data };
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	struct imapc_conn *c;
	uint64_t cur_uv;
	int rc = imapc_pool_get(be, folder, &c, &cur_uv, e);

	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t uv, uid;
		if (imapc_parse_item_id(ids[i], &uv, &uid) < 0 || uv != cur_uv)
			continue;
		g_hash_table_insert(bc.ids, g_memdup2(&uid, sizeof(uid)),
				    (gpointer)ids[i]);
		g_array_append_val(uids, uid);
	}
	if (uids->len > 0) {
		g_array_sort(uids, uid_cmp);
		g_autofree char *set = make_set(uids);
		rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %s (UID "
						   "BODY.PEEK[])", set),
				   batch_cb, &bc, NULL, e);
	}
	imapc_pool_put(be, c);
out:
	g_array_unref(uids);
	g_hash_table_unref(bc.ids);
	return rc;
}

/* The uid a new message got, from an APPENDUID or COPYUID code in `l`. */
static bool uid_code(struct imap_line *l, const char *name, uint64_t *uv_r,
		     uint64_t *uid_r)
{
	struct imap_arg *code = imap_line_arg(l, 2);
	GPtrArray *cl = code && code->type == IMAP_ARG_CODE ? code->list : NULL;
	guint at = !strcmp(name, "COPYUID") ? 3 : 2;

	if (!cl || cl->len <= at || !imap_arg_is(cl->pdata[0], name))
		return false;
	return imap_arg_number(cl->pdata[1], uv_r) &&
	       imap_arg_number(cl->pdata[at], uid_r);
}

struct copyuid_ctx {
	uint64_t uv, uid;
	bool found;
};

static int copyuid_cb(struct imap_line *l, void *data)
{
	struct copyuid_ctx *cc = data;

	if (imap_arg_is(imap_line_arg(l, 1), "OK") &&
	    uid_code(l, "COPYUID", &cc->uv, &cc->uid))
		cc->found = true;
	return 0;
}

static int status_uidnext_cb(struct imap_line *l, void *data)
{
	uint64_t *next = data;
	GPtrArray *items = imap_arg_list(imap_line_arg(l, 3));

	for (guint i = 0; items && i + 1 < items->len; i += 2) {
		if (imap_arg_is(items->pdata[i], "UIDNEXT"))
			imap_arg_number(items->pdata[i + 1], next);
	}
	return 0;
}

static int uidnext_of(struct mfs_backend *be, const char *folder,
		      uint64_t *next_r, struct mfs_error *e)
{
	g_autofree char *server = NULL;
	struct imapc_conn *c;
	int rc;

	if ((rc = imapc_server_name(be, folder, &server, e)) < 0 ||
	    (rc = imapc_pool_get(be, NULL, &c, NULL, e)) < 0)
		return rc;
	struct imapc_cmd *cmd = imapc_cmd_new("STATUS");
	imapc_cmd_astring(cmd, server, strlen(server));
	imapc_cmd_add(cmd, "(UIDNEXT)");
	rc = imapc_conn_run(c, cmd, status_uidnext_cb, next_r, NULL, e);
	imapc_pool_put(be, c);
	return rc;
}

/* The items of `folder` in the UID set `set`, as the server has them now.
 * Caller owns *items_r. */
static int items_in(struct mfs_backend *be, const char *folder,
		    const char *set, GPtrArray **items_r, struct mfs_error *e)
{
	struct sync_ctx sc = { 0 };
	struct imapc_conn *c;
	int rc = imapc_pool_get(be, folder, &c, &sc.uidvalidity, e);

	if (rc < 0)
		return rc;
	sc.items = g_ptr_array_new_with_free_func((GDestroyNotify)mfs_item_free);
	rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %s " LIST_ITEMS, set),
			   items_cb, &sc, NULL, e);
	/* a connection that selected the folder before the messages came
	 * is not told of them by UID FETCH: once more after a NOOP */
	if (rc == 0 && sc.items->len == 0 &&
	    (rc = imapc_conn_run(c, imapc_cmd_new("NOOP"), NULL, NULL, NULL,
				e)) == 0)
		rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %s " LIST_ITEMS,
						   set), items_cb, &sc, NULL, e);
	imapc_pool_put(be, c);
	if (rc < 0) {
		g_ptr_array_unref(sc.items);
		return rc;
	}
	*items_r = sc.items;
	return 0;
}

/* The item `uid` of `folder` as the server has it now. */
static int item_of(struct mfs_backend *be, const char *folder, uint64_t uid,
		   struct mfs_item **item_r, struct mfs_error *e)
{
	g_autofree char *set = g_strdup_printf("%" G_GUINT64_FORMAT, uid);
	GPtrArray *items = NULL;
	int rc = items_in(be, folder, set, &items, e);

	if (rc < 0)
		return rc;
	if (items->len == 0)
		rc = mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
				   "the new message is not in %s", folder);
	else
		*item_r = g_ptr_array_steal_index(items, 0);
	g_ptr_array_unref(items);
	return rc;
}

/* Without UIDPLUS: the newest message at or after `from` of `size`. */
static int find_new(struct mfs_backend *be, const char *folder, uint64_t from,
		    uint64_t size, struct mfs_item **item_r,
		    struct mfs_error *e)
{
	g_autofree char *set = g_strdup_printf("%" G_GUINT64_FORMAT ":*", from);
	GPtrArray *items = NULL;
	int rc = items_in(be, folder, set, &items, e);

	if (rc < 0)
		return rc;
	for (guint i = items->len; i > 0; i--) {
		struct mfs_item *it = items->pdata[i - 1];
		if (it->size == size) {
			*item_r = g_ptr_array_steal_index(items, i - 1);
			g_ptr_array_unref(items);
			return 0;
		}
	}
	g_ptr_array_unref(items);
	return mfs_error_set(e, -EIO, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
			     "the stored message is not found in %s", folder);
}

int imapc_append(struct mfs_backend *be, const char *folder, int fd,
		const char *hint, uint64_t flags, int64_t date,
		struct mfs_item **item_r, struct mfs_error *e)
{
	g_autofree char *server = NULL;
	g_autofree char *fl = imapc_flags_to_list(flags);
	struct imap_line *done = NULL;
	uint64_t uv = 0, uid = 0, next = 0;
	struct imapc_conn *c;
	struct stat sb;
	char when[64];
	int rc;

	if (fstat(fd, &sb) != 0)
		return mfs_error_set(e, -errno, MFS_ERR_ITEM, MFS_ERR_TRANSIENT,
				     "%s", g_strerror(errno));
	if ((rc = imapc_server_name(be, folder, &server, e)) < 0 ||
	    (rc = imapc_pool_get(be, NULL, &c, NULL, e)) < 0)
		return rc;
	bool uidplus = imapc_conn_cap(c, "UIDPLUS");
	if (!uidplus && (rc = uidnext_of(be, folder, &next, e)) < 0) {
		imapc_pool_put(be, c);
		return rc;
	}
	format_date(date, when, sizeof(when));
	struct imapc_cmd *cmd = imapc_cmd_new("APPEND");
	imapc_cmd_astring(cmd, server, strlen(server));
	imapc_cmd_add(cmd, "%s \"%s\"", fl, when);
	imapc_cmd_literal_fd(cmd, fd, (uint64_t)sb.st_size);
	rc = imapc_conn_run(c, cmd, NULL, NULL, &done, e);
	imapc_pool_put(be, c);
	if (rc < 0)
		return rc;
	bool got = uid_code(done, "APPENDUID", &uv, &uid);
	imap_line_free(&done);
	if (got) {
		g_autofree char *id = imapc_item_id(uv, uid);
		*item_r = mfs_item_new(id, (uint64_t)sb.st_size, date,
				       flags & MFS_FLAG_LETTERS);
		return 0;
	}
	return find_new(be, folder, next, (uint64_t)sb.st_size, item_r, e);
}

/* The UIDs of a uid-set such as "5:7,9", in order, into `out`; false
 * when it is not one or holds more than `max`. */
static bool uid_set_expand(const char *set, size_t max, GArray *out)
{
	while (set && *set) {
		char *end;
		uint64_t a = g_ascii_strtoull(set, &end, 10), b = a;
		if (end == set || a == 0)
			return false;
		if (*end == ':') {
			const char *p = end + 1;
			b = g_ascii_strtoull(p, &end, 10);
			if (end == p || b == 0)
				return false;
		}
		/* a range may be written either way round (RFC 9051 4.1) */
		uint64_t lo = MIN(a, b), hi = MAX(a, b);
		if (hi - lo >= max || out->len + (hi - lo + 1) > max)
			return false;
		for (uint64_t u = lo; u <= hi; u++)
			g_array_append_val(out, u);
		if (*end == ',')
			end++;
		else if (*end)
			return false;
		set = end;
	}
	return out->len > 0;
}

int imapc_append_batch(struct mfs_backend *be, const char *folder,
		      const struct mfs_append *in, size_t n,
		      GPtrArray **items_r, struct mfs_error *e)
{
	g_autofree char *server = NULL;
	struct imap_line *done = NULL;
	struct imapc_conn *c;
	GArray *sizes, *uids;
	int rc;

	if ((rc = imapc_server_name(be, folder, &server, e)) < 0 ||
	    (rc = imapc_pool_get(be, NULL, &c, NULL, e)) < 0)
		return rc;
	/* without UIDPLUS the new messages could not be told apart */
	if (!imapc_conn_cap(c, "MULTIAPPEND") || !imapc_conn_cap(c, "UIDPLUS")) {
		imapc_pool_put(be, c);
		return mfs_error_set(e, -ENOTSUP, MFS_ERR_ACCOUNT,
				     MFS_ERR_FINAL, "no MULTIAPPEND");
	}
	sizes = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	struct imapc_cmd *cmd = imapc_cmd_new("APPEND");
	imapc_cmd_astring(cmd, server, strlen(server));
	for (size_t i = 0; i < n; i++) {
		g_autofree char *fl = imapc_flags_to_list(in[i].flags);
		struct stat sb;
		char when[64];
		if (fstat(in[i].fd, &sb) != 0) {
			rc = mfs_error_set(e, -errno, MFS_ERR_ITEM,
					   MFS_ERR_TRANSIENT, "%s",
					   g_strerror(errno));
			imapc_cmd_free(&cmd);
			imapc_pool_put(be, c);
			g_array_unref(sizes);
			return rc;
		}
		uint64_t size = (uint64_t)sb.st_size;
		g_array_append_val(sizes, size);
		format_date(in[i].date, when, sizeof(when));
		imapc_cmd_add(cmd, "%s \"%s\"", fl, when);
		imapc_cmd_literal_fd(cmd, in[i].fd, size);
	}
	rc = imapc_conn_run(c, cmd, NULL, NULL, &done, e);
	imapc_pool_put(be, c);
	if (rc < 0) {
		g_array_unref(sizes);
		return rc;
	}
	struct imap_arg *code = imap_line_arg(done, 2);
	GPtrArray *cl = code && code->type == IMAP_ARG_CODE ? code->list : NULL;
	uint64_t uv = 0;
	uids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	bool ok = cl && cl->len >= 3 && imap_arg_is(cl->pdata[0], "APPENDUID") &&
		  imap_arg_number(cl->pdata[1], &uv) &&
		  uid_set_expand(imap_arg_string(cl->pdata[2]), n, uids) &&
		  uids->len == n;
	imap_line_free(&done);
	if (!ok) {
		/* stored, but which is which cannot be said: the caller
		 * finds them as after a lost answer */
		g_array_unref(sizes);
		g_array_unref(uids);
		return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER,
				     MFS_ERR_TRANSIENT, "%s: the server did not "
				     "say which UIDs the messages got", folder);
	}
	GPtrArray *items = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_item_free);
	for (size_t i = 0; i < n; i++) {
		g_autofree char *id = imapc_item_id(uv, g_array_index(uids,
								     uint64_t,
								     i));
		g_ptr_array_add(items, mfs_item_new(
			id, g_array_index(sizes, uint64_t, i), in[i].date,
			in[i].flags & MFS_FLAG_LETTERS));
	}
	g_array_unref(sizes);
	g_array_unref(uids);
	*items_r = items;
	return 0;
}

/* STORE the mapped flags: add those set, remove the others (keywords the
 * mount does not show are left alone).  Safe to repeat. */
static int store_flags(struct imapc_conn *c, uint64_t uid, uint64_t flags,
		       struct mfs_error *e)
{
	g_autofree char *add = flag_list(flags, false);
	g_autofree char *del = flag_list(flags, true);
	int rc = 0;

	if (*add)
		rc = imapc_conn_run(c, imapc_cmd_new("UID STORE %" G_GUINT64_FORMAT
						   " +FLAGS.SILENT %s", uid,
						   add),
				   NULL, NULL, NULL, e);
	if (rc == 0 && *del)
		rc = imapc_conn_run(c, imapc_cmd_new("UID STORE %" G_GUINT64_FORMAT
						   " -FLAGS.SILENT %s", uid,
						   del),
				   NULL, NULL, NULL, e);
	return rc;
}

/* A connection with `folder` selected and the uid of `id` in it. */
static int take_item(struct mfs_backend *be, const char *folder,
		     const char *id, struct imapc_conn **c_r, uint64_t *uid_r,
		     struct mfs_error *e)
{
	uint64_t uv, cur;
	int rc;

	if (imapc_parse_item_id(id, &uv, uid_r) < 0)
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s is not a message id of this server",
				     id);
	if ((rc = imapc_pool_get(be, folder, c_r, &cur, e)) < 0)
		return rc;
	if (cur != uv) {
		imapc_pool_put(be, *c_r);
		return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: UIDVALIDITY changed", folder);
	}
	/* a connection that selected the folder a while ago may not know of
	 * messages that came since, and UID commands pass over UIDs a
	 * session was not told of (RFC 3501 section 6.4.8): let the server
	 * bring it up to date first */
	if ((rc = imapc_conn_run(*c_r, imapc_cmd_new("NOOP"), NULL, NULL, NULL,
				e)) < 0) {
		imapc_pool_put(be, *c_r);
		return rc;
	}
	return 0;
}

int imapc_set_flags(struct mfs_backend *be, const char *folder, const char *id,
		   uint64_t flags, struct mfs_error *e)
{
	struct imapc_conn *c;
	uint64_t uid;
	int rc = take_item(be, folder, id, &c, &uid, e);

	if (rc < 0)
		return rc;
	rc = store_flags(c, uid, flags, e);
	/* STORE to a UID that is gone succeeds doing nothing: a change that
	 * found nothing to change must say so (asked on the same connection,
	 * which take_item brought up to date) */
	struct sync_ctx sc = { 0 };
	uint64_t uv;
	imapc_parse_item_id(id, &uv, &uid);
	sc.uidvalidity = uv;
	sc.items = g_ptr_array_new_with_free_func((GDestroyNotify)mfs_item_free);
	if (rc == 0)
		rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %" G_GUINT64_FORMAT
						   " " LIST_ITEMS, uid),
				   items_cb, &sc, NULL, e);
	imapc_pool_put(be, c);
	if (rc == 0 && sc.items->len == 0)
		rc = mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				   "no message %s in %s", id, folder);
	g_ptr_array_unref(sc.items);
	return rc;
}

/*
 * A connection with `folder` selected and brought up to date, for a batch
 * of items `ids` that must share one UIDVALIDITY (*uv_r): their UIDs into
 * `uids` and as a set "5,9,12" into `set`.  Returns 0 (the caller puts
 * *c_r back) or -errno.
 */
static int take_batch(struct mfs_backend *be, const char *folder,
		      const char *const *ids, size_t n, uint64_t *uv_r,
		      GArray *uids, GString *set, struct imapc_conn **c_r,
		      struct mfs_error *e)
{
	uint64_t uv = 0, cur;
	int rc;

	for (size_t i = 0; i < n; i++) {
		uint64_t v, uid;
		if (imapc_parse_item_id(ids[i], &v, &uid) < 0 ||
		    (i > 0 && v != uv))
			return mfs_error_set(e, -EINVAL, MFS_ERR_ITEM,
					     MFS_ERR_FINAL, "%s: not one batch",
					     ids[i]);
		uv = v;
		g_array_append_val(uids, uid);
		g_string_append_printf(set, "%s%" G_GUINT64_FORMAT,
				       i ? "," : "", uid);
	}
	if ((rc = imapc_pool_get(be, folder, c_r, &cur, e)) < 0)
		return rc;
	/* renumbered: none of these UIDs names those messages now */
	if (cur != uv)
		rc = mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				   "%s: UIDVALIDITY changed", folder);
	/* up to date first, as in take_item */
	else
		rc = imapc_conn_run(*c_r, imapc_cmd_new("NOOP"), NULL, NULL,
				   NULL, e);
	if (rc < 0)
		imapc_pool_put(be, *c_r);
	*uv_r = uv;
	return rc;
}

int imapc_set_flags_batch(struct mfs_backend *be, const char *folder,
			 const char *const *ids, const uint64_t *flags,
			 size_t n, int *rcs, struct mfs_error *e)
{
	GHashTable *sets = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						 g_free, NULL);
	GArray *uids = g_array_sized_new(FALSE, FALSE, sizeof(uint64_t), n);
	GString *all = g_string_new(NULL);
	struct sync_ctx sc = { 0 };
	struct imapc_conn *c = NULL;
	uint64_t uv = 0;
	int rc = take_batch(be, folder, ids, n, &uv, uids, all, &c, e);

	if (rc < 0)
		c = NULL;
	/* the same flags for several messages: one STORE for all of them */
	for (size_t i = 0; i < n && rc == 0; i++) {
		int64_t key = (int64_t)(flags[i] & MFS_FLAG_LETTERS);
		GString *set = g_hash_table_lookup(sets, &key);
		if (!set) {
			set = g_string_new(NULL);
			g_hash_table_insert(sets, g_memdup2(&key, sizeof(key)),
					    set);
		} else {
			g_string_append_c(set, ',');
		}
		g_string_append_printf(set, "%" G_GUINT64_FORMAT,
				       g_array_index(uids, uint64_t, i));
	}
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, sets);
	while (rc == 0 && g_hash_table_iter_next(&it, &k, &v)) {
		uint64_t fl = (uint64_t)*(int64_t *)k;
		g_autofree char *add = flag_list(fl, false);
		g_autofree char *del = flag_list(fl, true);
		GString *set = v;
		if (*add)
			rc = imapc_conn_run(c, imapc_cmd_new("UID STORE %s "
							   "+FLAGS.SILENT %s",
							   set->str, add),
					   NULL, NULL, NULL, e);
		if (rc == 0 && *del)
			rc = imapc_conn_run(c, imapc_cmd_new("UID STORE %s "
							   "-FLAGS.SILENT %s",
							   set->str, del),
					   NULL, NULL, NULL, e);
	}
	/* which of them the server has: a STORE to a gone UID does nothing */
	sc.uidvalidity = uv;
	sc.items = g_ptr_array_new_with_free_func((GDestroyNotify)mfs_item_free);
	if (rc == 0)
		rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %s " LIST_ITEMS,
						   all->str), items_cb, &sc, NULL,
				   e);
	if (c)
		imapc_pool_put(be, c);
	if (rc == 0) {
		GHashTable *have = g_hash_table_new(g_str_hash, g_str_equal);
		for (guint i = 0; i < sc.items->len; i++)
			g_hash_table_add(have, ((struct mfs_item *)
						sc.items->pdata[i])->id);
		for (size_t i = 0; i < n; i++)
			rcs[i] = g_hash_table_contains(have, ids[i]) ? 0
								     : -ENOENT;
		g_hash_table_unref(have);
	}
	g_ptr_array_unref(sc.items);
	GHashTableIter fi;
	g_hash_table_iter_init(&fi, sets);
	while (g_hash_table_iter_next(&fi, NULL, &v))
		g_string_free(v, TRUE);
	g_hash_table_unref(sets);
	g_array_unref(uids);
	g_string_free(all, TRUE);
	return rc;
}

/* Remove the messages of the UID set `set` ("5", "5,9,12"). */
static int expunge_set(struct imapc_conn *c, const char *set,
		       struct mfs_error *e)
{
	int rc = imapc_conn_run(c, imapc_cmd_new("UID STORE %s +FLAGS.SILENT "
					       "(\\Deleted)", set),
			       NULL, NULL, NULL, e);
	if (rc < 0)
		return rc;
	/* without UIDPLUS, EXPUNGE also removes what others marked
	 * \Deleted in this folder (see docs/DEVIATIONS.md) */
	if (imapc_conn_cap(c, "UIDPLUS"))
		return imapc_conn_run(c, imapc_cmd_new("UID EXPUNGE %s", set),
				     NULL, NULL, NULL, e);
	return imapc_conn_run(c, imapc_cmd_new("EXPUNGE"), NULL, NULL, NULL, e);
}

static int expunge_uid(struct imapc_conn *c, uint64_t uid, struct mfs_error *e)
{
	char set[32];

	snprintf(set, sizeof(set), "%" G_GUINT64_FORMAT, uid);
	return expunge_set(c, set, e);
}

int imapc_remove_batch(struct mfs_backend *be, const char *folder,
		      const char *const *ids, size_t n, struct mfs_error *e)
{
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GString *set = g_string_new(NULL);
	struct imapc_conn *c;
	uint64_t uv;
	int rc = take_batch(be, folder, ids, n, &uv, uids, set, &c, e);

	if (rc == 0) {
		rc = expunge_set(c, set->str, e);
		imapc_pool_put(be, c);
	}
	g_array_unref(uids);
	g_string_free(set, TRUE);
	return rc;
}

int imapc_remove(struct mfs_backend *be, const char *folder, const char *id,
		struct mfs_error *e)
{
	struct imapc_conn *c;
	uint64_t uid;
	int rc = take_item(be, folder, id, &c, &uid, e);

	if (rc < 0)
		return rc;
	rc = expunge_uid(c, uid, e);
	imapc_pool_put(be, c);
	return rc;
}

static int transfer(struct mfs_backend *be, const char *folder,
		    const char *id, const char *dest, uint64_t flags,
		    bool move, struct mfs_item **item_r, struct mfs_error *e)
{
	g_autofree char *dserver = NULL;
	struct copyuid_ctx cc = { 0 };
	struct imap_line *done = NULL;
	struct mfs_item *src = NULL;
	struct imapc_conn *c;
	uint64_t uid, next = 0;
	int rc;

	if ((rc = imapc_server_name(be, dest, &dserver, e)) < 0)
		return rc;
	if ((rc = take_item(be, folder, id, &c, &uid, e)) < 0)
		return rc;
	bool uidplus = imapc_conn_cap(c, "UIDPLUS");
	bool can_move = move && imapc_conn_cap(c, "MOVE");
	imapc_pool_put(be, c);
	if (!uidplus && ((rc = item_of(be, folder, uid, &src, e)) < 0 ||
			 (rc = uidnext_of(be, dest, &next, e)) < 0)) {
		mfs_item_free(src);
		return rc;
	}
	if ((rc = take_item(be, folder, id, &c, &uid, e)) < 0) {
		mfs_item_free(src);
		return rc;
	}
	struct imapc_cmd *cmd = imapc_cmd_new("UID %s %" G_GUINT64_FORMAT,
					    can_move ? "MOVE" : "COPY", uid);
	imapc_cmd_astring(cmd, dserver, strlen(dserver));
	rc = imapc_conn_run(c, cmd, copyuid_cb, &cc, &done, e);
	if (rc == 0 && !cc.found)
		cc.found = uid_code(done, "COPYUID", &cc.uv, &cc.uid);
	imap_line_free(&done);
	if (rc == 0 && uidplus && !cc.found)
		/* with UIDPLUS a message copied is answered with its new
		 * UID: none means there was no such message (any more) */
		rc = mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				   "no message %s in %s", id, folder);
	if (rc == 0 && move && !can_move)
		rc = expunge_uid(c, uid, e);
	imapc_pool_put(be, c);
	if (rc < 0) {
		mfs_item_free(src);
		return rc;
	}
	struct mfs_item *it = NULL;
	if (cc.found)
		rc = item_of(be, dest, cc.uid, &it, e);
	else
		rc = find_new(be, dest, next, src ? src->size : 0, &it, e);
	mfs_item_free(src);
	if (rc < 0)
		return rc;
	if ((it->flags & MFS_FLAG_LETTERS) != (flags & MFS_FLAG_LETTERS)) {
		rc = imapc_set_flags(be, dest, it->id, flags, e);
		it->flags = flags & MFS_FLAG_LETTERS;
	}
	if (rc < 0) {
		mfs_item_free(it);
		return rc;
	}
	*item_r = it;
	return 0;
}

/* COPYUID with sets, as a MOVE or COPY of several messages gets it. */
struct copyuid_sets {
	uint64_t uv;
	char *src, *dst;		/* owned */
};

static void copyuid_sets_take(struct copyuid_sets *cs, struct imap_line *l)
{
	struct imap_arg *code = imap_line_arg(l, 2);
	GPtrArray *cl = code && code->type == IMAP_ARG_CODE ? code->list : NULL;
	const char *src, *dst;

	if (!cl || cl->len < 4 || !imap_arg_is(cl->pdata[0], "COPYUID") ||
	    !imap_arg_number(cl->pdata[1], &cs->uv) ||
	    !(src = imap_arg_string(cl->pdata[2])) ||
	    !(dst = imap_arg_string(cl->pdata[3])))
		return;
	g_free(cs->src);
	g_free(cs->dst);
	cs->src = g_strdup(src);
	cs->dst = g_strdup(dst);
}

static int copyuid_sets_cb(struct imap_line *l, void *data)
{
	if (imap_arg_is(imap_line_arg(l, 1), "OK"))
		copyuid_sets_take(data, l);
	return 0;
}

int imapc_move_batch(struct mfs_backend *be, const char *folder,
		    const char *const *ids, const char *dest,
		    const uint64_t *flags, size_t n, bool move,
		    GPtrArray **items_r, struct mfs_error *e)
{
	g_autofree char *dserver = NULL;
	struct copyuid_sets cs = { 0 };
	struct imap_line *done = NULL;
	struct imapc_conn *c = NULL;
	GString *set = g_string_new(NULL);
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GArray *src = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GArray *dst = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GPtrArray *items = NULL, *got = NULL;
	uint64_t uv = 0;
	int rc = imapc_server_name(be, dest, &dserver, e);

	if (rc == 0 && (rc = take_batch(be, folder, ids, n, &uv, uids, set, &c,
					e)) < 0)
		c = NULL;
	/* the UIDs in the target come from COPYUID: without UIDPLUS each
	 * message is found on its own */
	if (rc == 0 && !imapc_conn_cap(c, "UIDPLUS"))
		rc = mfs_error_set(e, -ENOTSUP, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				   "no UIDPLUS");
	bool can_move = move && c && imapc_conn_cap(c, "MOVE");
	if (rc == 0) {
		struct imapc_cmd *cmd = imapc_cmd_new("UID %s %s", can_move
						    ? "MOVE" : "COPY",
						    set->str);
		imapc_cmd_astring(cmd, dserver, strlen(dserver));
		rc = imapc_conn_run(c, cmd, copyuid_sets_cb, &cs, &done, e);
	}
	if (rc == 0 && !cs.src)
		copyuid_sets_take(&cs, done);
	imap_line_free(&done);
	if (rc == 0 && move && !can_move)
		rc = expunge_set(c, set->str, e);
	if (c)
		imapc_pool_put(be, c);
	/* none of them was there: no COPYUID at all */
	if (rc == 0 && cs.src &&
	    (!uid_set_expand(cs.src, n, src) || !uid_set_expand(cs.dst, n, dst) ||
	     src->len != dst->len))
		rc = mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER, MFS_ERR_TRANSIENT,
				   "%s: a COPYUID that does not add up",
				   folder);
	/* the messages as the target has them, then their flags */
	GString *dset = g_string_new(NULL);
	for (guint i = 0; rc == 0 && i < dst->len; i++)
		g_string_append_printf(dset, "%s%" G_GUINT64_FORMAT,
				       i ? "," : "",
				       g_array_index(dst, uint64_t, i));
	if (rc == 0 && dset->len)
		rc = items_in(be, dest, dset->str, &got, e);
	g_string_free(dset, TRUE);
	if (rc == 0) {
		items = g_ptr_array_new_full(n, (GDestroyNotify)mfs_item_free);
		GPtrArray *fix_ids = g_ptr_array_new();
		GArray *fix_flags = g_array_new(FALSE, FALSE, sizeof(uint64_t));
		for (size_t i = 0; i < n; i++) {
			struct mfs_item *it = NULL;
			uint64_t want = g_array_index(uids, uint64_t, i);
			for (guint k = 0; k < src->len && !it; k++) {
				if (g_array_index(src, uint64_t, k) != want)
					continue;
				g_autofree char *id = imapc_item_id(
					cs.uv, g_array_index(dst, uint64_t, k));
				for (guint j = 0; got && j < got->len; j++) {
					struct mfs_item *g = got->pdata[j];
					if (!strcmp(g->id, id))
						it = mfs_item_dup(g);
				}
			}
			if (it && (it->flags & MFS_FLAG_LETTERS) !=
			    (flags[i] & MFS_FLAG_LETTERS)) {
				it->flags = flags[i] & MFS_FLAG_LETTERS;
				g_ptr_array_add(fix_ids, it->id);
				g_array_append_val(fix_flags, flags[i]);
			}
			g_ptr_array_add(items, it);
		}
		if (fix_ids->len) {
			int *rcs = g_new0(int, fix_ids->len);
			rc = imapc_set_flags_batch(be, dest,
						  (const char *const *)
						  fix_ids->pdata,
						  (const uint64_t *)fix_flags->data,
						  fix_ids->len, rcs, e);
			g_free(rcs);
		}
		g_ptr_array_unref(fix_ids);
		g_array_unref(fix_flags);
	}
	if (got)
		g_ptr_array_unref(got);
	g_string_free(set, TRUE);
	g_array_unref(uids);
	g_array_unref(src);
	g_array_unref(dst);
	g_free(cs.src);
	g_free(cs.dst);
	if (rc < 0) {
		if (items)
			g_ptr_array_unref(items);
		return rc;
	}
	*items_r = items;
	return 0;
}

int imapc_move(struct mfs_backend *be, const char *folder, const char *id,
	      const char *dest, uint64_t flags, struct mfs_item **item_r,
	      struct mfs_error *e)
{
	return transfer(be, folder, id, dest, flags, true, item_r, e);
}

int imapc_copy(struct mfs_backend *be, const char *folder, const char *id,
	      const char *dest, uint64_t flags, struct mfs_item **item_r,
	      struct mfs_error *e)
{
	return transfer(be, folder, id, dest, flags, false, item_r, e);
}
