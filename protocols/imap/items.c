/*
 * items.c - what the message commands share: item ids, the flag mapping,
 * dates, the FETCH listing of messages, UID sets, a connection brought up
 * to date for an item or a batch, and finding a message the server just
 * made (APPENDUID, COPYUID, or STATUS UIDNEXT and a size match).
 *
 * RFC 3501 / RFC 9051 (FETCH, STATUS, UID), RFC 4315 (UIDPLUS: APPENDUID,
 * COPYUID).
 */
#include "imapc-private.h"

#include <errno.h>
#include <string.h>

#include "mail-header.h"

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
char *imapc_flag_list(uint64_t flags, bool unset)
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
	g_autofree char *l = imapc_flag_list(flags, false);

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
	/* two digits of day and four of year (RFC 3501 date-time): more
	 * would overflow an int */
	for (int n = 0; g_ascii_isdigit(*s); s++, n++) {
		if (n == 2)
			return 0;
		d = d * 10 + (*s - '0');
	}
	if (*s++ != '-' || !s[0] || !s[1] || !s[2])
		return 0;
	memcpy(mon, s, 3);
	s += 3;
	for (m = 0; m < 12 && g_ascii_strcasecmp(mon, months[m]); m++)
		;
	if (m == 12 || *s++ != '-')
		return 0;
	for (int n = 0; g_ascii_isdigit(*s); s++, n++) {
		if (n == 4)
			return 0;
		y = y * 10 + (*s - '0');
	}
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

/* RFC 3501's date-time has a four-digit year: a date after the end of
 * 9999 is sent as its last second, and one before the epoch as the epoch
 * (as before), so that every int64 gives a date the server can take. */
#define IMAPC_DATE_MAX INT64_C(253402300799)	/* 31-Dec-9999 23:59:59 */

void imapc_format_date(int64_t t, char *buf, size_t len)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
		"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	GDateTime *dt = g_date_time_new_from_unix_utc(
		CLAMP(t, 0, IMAPC_DATE_MAX));

	g_snprintf(buf, len, "%02d-%s-%04d %02d:%02d:%02d +0000",
		   g_date_time_get_day_of_month(dt),
		   months[g_date_time_get_month(dt) - 1],
		   g_date_time_get_year(dt), g_date_time_get_hour(dt),
		   g_date_time_get_minute(dt), g_date_time_get_second(dt));
	g_date_time_unref(dt);
}

/* The value after `name` in a FETCH attribute list, or NULL. */
struct imap_arg *imapc_fetch_attr(GPtrArray *list, const char *name)
{
	for (guint i = 0; list && i + 1 < list->len; i += 2) {
		if (imap_arg_is(list->pdata[i], name))
			return list->pdata[i + 1];
	}
	return NULL;
}

/* The attribute list of "* n FETCH (...)", or NULL for other lines. */
GPtrArray *imapc_fetch_list(struct imap_line *l)
{
	if (!imap_arg_is(imap_line_arg(l, 2), "FETCH"))
		return NULL;
	return imap_arg_list(imap_line_arg(l, 3));
}

int imapc_items_cb(struct imap_line *l, void *data)
{
	struct imapc_sync_ctx *sc = data;
	GPtrArray *fl = imapc_fetch_list(l);
	uint64_t uid, size;

	if (!fl || !imap_arg_number(imapc_fetch_attr(fl, "UID"), &uid) ||
	    !imap_arg_number(imapc_fetch_attr(fl, "RFC822.SIZE"), &size))
		return 0;
	struct imap_arg *date = imapc_fetch_attr(fl, "INTERNALDATE");
	g_autofree char *id = imapc_item_id(sc->uidvalidity, uid);
	struct mfs_item *it = mfs_item_new(id, size,
					   imap_arg_string(date)
						   ? parse_date(date->str) : 0,
					   imapc_flags_from_list(imap_arg_list(
						   imapc_fetch_attr(fl, "FLAGS"))));
	struct imap_arg *hdr = imapc_fetch_attr(fl, IMAPC_MSGID_ITEM);
	if (imap_arg_is_string(hdr) &&
	    mail_header_get(hdr->str, hdr->len, "Message-ID",
			    &it->message_id) < 0)
		it->message_id = g_strdup("");
	g_ptr_array_add(sc->items, it);
	return 0;
}

/* "1:3,7" of sorted, unique UIDs.  Caller owns the result. */
char *imapc_make_set(GArray *uids)
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

gint imapc_uid_cmp(gconstpointer a, gconstpointer b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The uid a new message got, from an APPENDUID or COPYUID code in `l`. */
bool imapc_uid_code(struct imap_line *l, const char *name, uint64_t *uv_r,
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

int imapc_uidnext_of(struct mfs_backend *be, const char *folder,
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
int imapc_items_in(struct mfs_backend *be, const char *folder,
		   const char *set, GPtrArray **items_r, struct mfs_error *e)
{
	struct imapc_sync_ctx sc = { 0 };
	struct imapc_conn *c;
	int rc = imapc_pool_get(be, folder, &c, &sc.uidvalidity, e);

	if (rc < 0)
		return rc;
	sc.items = g_ptr_array_new_with_free_func((GDestroyNotify)mfs_item_free);
	rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %s " IMAPC_LIST_ITEMS,
					     set), imapc_items_cb, &sc, NULL, e);
	/* a connection that selected the folder before the messages came
	 * is not told of them by UID FETCH: once more after a NOOP */
	if (rc == 0 && sc.items->len == 0 &&
	    (rc = imapc_conn_run(c, imapc_cmd_new("NOOP"), NULL, NULL, NULL,
				e)) == 0)
		rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %s "
						     IMAPC_LIST_ITEMS, set),
				    imapc_items_cb, &sc, NULL, e);
	imapc_pool_put(be, c);
	if (rc < 0) {
		g_ptr_array_unref(sc.items);
		return rc;
	}
	*items_r = sc.items;
	return 0;
}

/* The item `uid` of `folder` as the server has it now. */
int imapc_item_of(struct mfs_backend *be, const char *folder, uint64_t uid,
		  struct mfs_item **item_r, struct mfs_error *e)
{
	g_autofree char *set = g_strdup_printf("%" G_GUINT64_FORMAT, uid);
	GPtrArray *items = NULL;
	int rc = imapc_items_in(be, folder, set, &items, e);

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
int imapc_find_new(struct mfs_backend *be, const char *folder, uint64_t from,
		   uint64_t size, struct mfs_item **item_r,
		   struct mfs_error *e)
{
	g_autofree char *set = g_strdup_printf("%" G_GUINT64_FORMAT ":*", from);
	GPtrArray *items = NULL;
	int rc = imapc_items_in(be, folder, set, &items, e);

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

/* One UID: 1 to 4294967295 (RFC 3501 nz-number), digits only.  A bigger
 * one is refused rather than clamped, which made the loop below endless
 * at UINT64_MAX. */
static bool uid_number(const char *s, const char **end_r, uint64_t *uid_r)
{
	const char *p = s;
	uint64_t n = 0;

	for (; g_ascii_isdigit(*p); p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return false;
	}
	if (p == s || n == 0)
		return false;
	*end_r = p;
	*uid_r = n;
	return true;
}

/* The UIDs of a uid-set such as "5:7,9", in order, into `out`; false
 * when it is not one or holds more than `max`. */
bool imapc_uid_set_expand(const char *set, size_t max, GArray *out)
{
	while (set && *set) {
		const char *end;
		uint64_t a, b;
		if (!uid_number(set, &end, &a))
			return false;
		b = a;
		if (*end == ':' && !uid_number(end + 1, &end, &b))
			return false;
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

/* A connection with `folder` selected and the uid of `id` in it. */
int imapc_take_item(struct mfs_backend *be, const char *folder,
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

/*
 * A connection with `folder` selected and brought up to date, for a batch
 * of items `ids` that must share one UIDVALIDITY (*uv_r): their UIDs into
 * `uids` and as a set "5,9,12" into `set`.  Returns 0 (the caller puts
 * *c_r back) or -errno.
 */
int imapc_take_batch(struct mfs_backend *be, const char *folder,
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
	/* up to date first, as in imapc_take_item */
	else
		rc = imapc_conn_run(*c_r, imapc_cmd_new("NOOP"), NULL, NULL,
				   NULL, e);
	if (rc < 0)
		imapc_pool_put(be, *c_r);
	*uv_r = uv;
	return rc;
}