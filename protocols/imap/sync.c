/*
 * sync.c - what changed in a folder: SELECT, then the whole listing, or
 * with QRESYNC only what changed and vanished since the last sync.
 *
 * RFC 3501 / RFC 9051 (SELECT, UID FETCH), RFC 7162 (CONDSTORE, QRESYNC:
 * SELECT ... (QRESYNC ...), VANISHED (EARLIER)).  Servers without these
 * get a full flag fetch on every sync.
 */
#include "imapc-private.h"

#include <errno.h>
#include <string.h>

/* VANISHED ranges larger than this are answered by a full sync. */
#define MAX_VANISHED 1000000

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

static int select_sync_cb(struct imap_line *l, void *data)
{
	struct imapc_sync_ctx *sc = data;
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
	} else if ((fl = imapc_fetch_list(l))) {
		if (imap_arg_number(imapc_fetch_attr(fl, "UID"), &n))
			g_array_append_val(sc->changed, n);
	}
	return 0;
}

int imapc_sync(struct mfs_backend *be, const char *folder, const char *state,
	       struct mfs_sync_result **res_r, struct mfs_error *e)
{
	uint64_t old_uv = 0, old_modseq = 0, old_next = 0;
	struct imapc_sync_ctx sc = { 0 };
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
							   IMAPC_LIST_ITEMS),
					   imapc_items_cb, &sc, NULL, e);
	} else {
		uint64_t from = old_next;
		g_array_sort(sc.changed, imapc_uid_cmp);
		g_autofree char *set = imapc_make_set(sc.changed);
		rc = imapc_conn_run(c, imapc_cmd_new("UID FETCH %s%s%" G_GUINT64_FORMAT
						   ":* " IMAPC_LIST_ITEMS, set,
						   *set ? "," : "", from),
				   imapc_items_cb, &sc, NULL, e);
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