/*
 * mailbox.c - mailboxes of the embedded IMAP server: LIST,
 * CREATE, DELETE, RENAME, STATUS, SELECT/EXAMINE, and keeping a selected
 * mailbox's view in step with the store.
 *
 * RFC 3501 sections 5.1 (names; "/" is the hierarchy delimiter, names are
 * modified UTF-7 on the wire), 6.3 (the commands), 7.3-7.4 (EXISTS,
 * RECENT, EXPUNGE); RFC 6154 (SPECIAL-USE attributes by well-known name);
 * RFC 3348 (\HasChildren).  A name that would leave the store ("..", an
 * absolute path, a part that starts with '.') is refused.
 *
 * Keywords are a folder's dovecot-keywords (maildir-name.h): FLAGS and
 * PERMANENTFLAGS list them, with \* while a letter is free; when the list
 * grows under a selected mailbox, FLAGS and PERMANENTFLAGS are sent again
 * (RFC 3501 section 7.2.6) before any FETCH that shows a new name.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "imapd-private.h"
#include "uids.h"

/* RFC 3501 section 6.3.8: '*' matches anything, '%' anything but the
 * delimiter.  Dynamic programming, so that no pattern takes long. */
static bool list_match(const char *pat, const char *name)
{
	size_t m = strlen(pat), n = strlen(name);
	g_autofree bool *row = g_new0(bool, n + 1);
	g_autofree bool *next = g_new0(bool, n + 1);

	row[0] = true;
	for (size_t j = 1; j <= n; j++)
		row[j] = false;
	for (size_t i = 1; i <= m; i++) {
		char pc = pat[i - 1];
		next[0] = row[0] && (pc == '*' || pc == '%');
		for (size_t j = 1; j <= n; j++) {
			char nc = name[j - 1];
			if (pc == '*')
				next[j] = row[j] || next[j - 1];
			else if (pc == '%')
				next[j] = row[j] || (next[j - 1] && nc != '/');
			else
				next[j] = row[j - 1] && pc == nc;
		}
		memcpy(row, next, (n + 1) * sizeof(bool));
	}
	return row[n];
}

static const char *special_use(const char *path)
{
	static const struct {
		const char *name, *attr;
	} uses[] = {
		{ "Sent", "\\Sent" }, { "Sent Messages", "\\Sent" },
		{ "Sent Items", "\\Sent" }, { "Drafts", "\\Drafts" },
		{ "Trash", "\\Trash" }, { "Deleted Items", "\\Trash" },
		{ "Junk", "\\Junk" }, { "Spam", "\\Junk" },
		{ "Archive", "\\Archive" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(uses); i++) {
		if (!strcmp(path, uses[i].name))
			return uses[i].attr;
	}
	return NULL;
}

static void list(struct imapd_session *s, const struct imapd_cmd *cmd,
		 bool lsub)
{
	const char *ref = imapd_cmd_string(cmd, 0);
	const char *pat = imapd_cmd_string(cmd, 1);
	g_autoptr(GPtrArray) folders = NULL;
	struct mfs_error e = { 0 };
	const char *verb = lsub ? "LSUB" : "LIST";

	if (!ref || !pat || cmd->nargs != 2) {
		imapd_reply(s, cmd, "BAD", "%s reference pattern", verb);
		return;
	}
	if (!*pat) {
		imapd_untagged(s, "%s (\\Noselect) \"/\" \"\"", verb);
		imapd_reply(s, cmd, "OK", "%s completed", verb);
		return;
	}
	g_autofree char *full = g_strconcat(ref, pat, NULL);
	if (mfs_store_list_folders(s->ctx->store, &folders, &e) < 0) {
		imapd_reply(s, cmd, "NO", "[SERVERBUG] cannot list: %s", e.msg);
		return;
	}
	for (guint i = 0; i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		if (fi->kind != MFS_FOLDER_MAIL && fi->kind != MFS_FOLDER_NONE)
			continue;
		g_autofree char *name = imapd_mailbox_name(fi->path);
		bool inbox = !strcmp(fi->path, "INBOX");
		if (!list_match(full, name) &&
		    !(inbox && list_match(full, "inbox")) &&
		    !(inbox && !g_ascii_strcasecmp(full, "INBOX")))
			continue;
		g_autofree char *prefix = g_strconcat(fi->path, "/", NULL);
		bool children = false;
		for (guint j = 0; j < folders->len && !children; j++) {
			const struct mfs_folder_info *o = folders->pdata[j];
			children = (o->kind == MFS_FOLDER_MAIL ||
				    o->kind == MFS_FOLDER_NONE) &&
				   g_str_has_prefix(o->path, prefix);
		}
		const char *use = special_use(fi->path);
		serve_conn_printf(s->c, "* %s (%s%s%s%s) \"/\" ", verb,
				  children ? "\\HasChildren"
					   : "\\HasNoChildren",
				  fi->kind == MFS_FOLDER_NONE ? " \\Noselect"
							       : "",
				  use ? " " : "", use ? use : "");
		imapd_send_astring(s, name);
		serve_conn_write(s->c, "\r\n", 2);
	}
	imapd_reply(s, cmd, "OK", "%s completed", verb);
}

void imapd_cmd_list(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	list(s, cmd, false);
}

void imapd_cmd_lsub(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	list(s, cmd, true);
}

/* The folder's path from argument i, or a BAD reply and NULL. */
static char *mailbox_arg(struct imapd_session *s, const struct imapd_cmd *cmd,
			 guint i)
{
	const char *name = imapd_cmd_string(cmd, i);
	char *path = imapd_mailbox_path(name);

	if (!name)
		imapd_reply(s, cmd, "BAD", "a mailbox name is needed");
	else if (!path)
		imapd_reply(s, cmd, "NO", "[CANNOT] not an acceptable mailbox "
			   "name");
	return path;
}

static bool folder_exists(struct imapd_session *s, const char *path,
			  enum mfs_folder_kind *kind_r)
{
	g_autoptr(GPtrArray) folders = NULL;
	struct mfs_error e = { 0 };

	if (mfs_store_list_folders(s->ctx->store, &folders, &e) < 0)
		return false;
	for (guint i = 0; i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		if (!strcmp(fi->path, path)) {
			if (kind_r)
				*kind_r = fi->kind;
			return true;
		}
	}
	return false;
}

void imapd_cmd_create(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	g_autofree char *path = mailbox_arg(s, cmd, 0);
	struct mfs_error e = { 0 };
	int rc = 0;

	if (!path)
		return;
	if (folder_exists(s, path, NULL)) {
		imapd_reply(s, cmd, "NO", "[ALREADYEXISTS] mailbox exists");
		return;
	}
	/* parents first, as RFC 3501 section 6.3.3 suggests */
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);
	g_autoptr(GString) sofar = g_string_new(NULL);
	for (int i = 0; parts[i] && rc == 0; i++) {
		if (i)
			g_string_append_c(sofar, '/');
		g_string_append(sofar, parts[i]);
		if (parts[i + 1] && folder_exists(s, sofar->str, NULL))
			continue;
		rc = mfs_store_create_folder(s->ctx->store, sofar->str,
					     MFS_FOLDER_MAIL, &e);
	}
	if (rc < 0)
		imapd_reply(s, cmd, "NO", "[CANNOT] %s", e.msg);
	else
		imapd_reply(s, cmd, "OK", "CREATE completed");
}

void imapd_cmd_delete(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	g_autofree char *path = mailbox_arg(s, cmd, 0);
	struct mfs_sync_result *res = NULL;
	struct mfs_error e = { 0 };
	enum mfs_folder_kind kind;

	if (!path)
		return;
	if (!strcmp(path, "INBOX")) {
		imapd_reply(s, cmd, "NO", "[CANNOT] INBOX stays");
		return;
	}
	if (!folder_exists(s, path, &kind) ||
	    (kind != MFS_FOLDER_MAIL && kind != MFS_FOLDER_NONE)) {
		imapd_reply(s, cmd, "NO", "[NONEXISTENT] no such mailbox");
		return;
	}
	/* its messages go with it (section 6.3.4) */
	if (kind == MFS_FOLDER_MAIL &&
	    mfs_store_sync(s->ctx->store, path, NULL, &res, &e) == 0) {
		for (guint i = 0; i < res->changed->len; i++) {
			const struct mfs_item *it = res->changed->pdata[i];
			mfs_store_remove(s->ctx->store, path, it->id, NULL);
		}
		mfs_sync_result_free(&res);
	}
	if (mfs_store_delete_folder(s->ctx->store, path, &e) < 0) {
		imapd_reply(s, cmd, "NO", "[CANNOT] %s", e.msg);
		return;
	}
	imapd_reply(s, cmd, "OK", "DELETE completed");
	/* The session's own mailbox: RFC 3501 leaves the session to the
	 * server; as Dovecot, it ends, since every number the client holds
	 * named a message that is gone. */
	if (s->view && !strcmp(s->view->folder, path)) {
		imapd_view_free(&s->view);
		imapd_untagged(s, "BYE the selected mailbox was deleted");
		s->state = IMAP_LOGOUT;
	}
}

void imapd_cmd_rename(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	g_autofree char *from = mailbox_arg(s, cmd, 0);
	g_autofree char *to = from ? mailbox_arg(s, cmd, 1) : NULL;
	struct mfs_error e = { 0 };

	if (!from || !to)
		return;
	if (!strcmp(from, "INBOX")) {
		imapd_reply(s, cmd, "NO", "[CANNOT] renaming INBOX is not "
			   "supported");
		return;
	}
	if (!folder_exists(s, from, NULL)) {
		imapd_reply(s, cmd, "NO", "[NONEXISTENT] no such mailbox");
		return;
	}
	if (folder_exists(s, to, NULL)) {
		imapd_reply(s, cmd, "NO", "[ALREADYEXISTS] target exists");
		return;
	}
	if (mfs_store_rename_folder(s->ctx->store, from, to, &e) < 0)
		imapd_reply(s, cmd, "NO", "[CANNOT] %s", e.msg);
	else
		imapd_reply(s, cmd, "OK", "RENAME completed");
}

void imapd_cmd_subscribe(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	g_autofree char *path = mailbox_arg(s, cmd, 0);

	/* every mailbox counts as subscribed; LSUB lists them all */
	if (path)
		imapd_reply(s, cmd, "OK", "%s completed", cmd->name);
}

void imapd_msg_clear(gpointer p)
{
	struct imapd_msg *m = p;

	g_free(m->id);
}

static int msg_by_uid(gconstpointer a, gconstpointer b)
{
	const struct imapd_msg *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* The messages of a full sync result, with their UIDs.  Takes the items
 * of `res` (borrowed otherwise); caller owns *msgs_r. */
static int messages_of(struct imapd_session *s, const char *folder,
		       struct mfs_sync_result *res, GArray **msgs_r,
		       struct serve_uid_state *uids_r)
{
	struct serve_uid_info *info = NULL;
	int rc;

	rc = serve_uids_assign(s->ctx->store_root, folder, res->changed, &info,
			      uids_r);
	if (rc < 0) {
		log_warnx("imap: UIDs of %s: %s", folder, g_strerror(-rc));
		return rc;
	}
	GArray *msgs = g_array_sized_new(FALSE, TRUE, sizeof(struct imapd_msg),
					 res->changed->len);
	g_array_set_clear_func(msgs, imapd_msg_clear);
	for (guint i = 0; i < res->changed->len; i++) {
		struct mfs_item *it = res->changed->pdata[i];
		struct imapd_msg m = {
			.uid = info[i].uid,
			.id = g_steal_pointer(&it->id),
			.size = it->size,
			.date = it->date,
			.flags = it->flags & MFS_FLAG_LETTERS,
			.modseq = info[i].modseq,
			.recent = (it->flags & MFS_FLAG_NEW) != 0,
		};
		g_array_append_val(msgs, m);
	}
	g_array_sort(msgs, msg_by_uid);
	g_free(info);
	*msgs_r = msgs;
	return 0;
}

int imapd_folder_load(struct imapd_session *s, const char *folder,
		     GArray **msgs_r, struct serve_uid_state *uids_r,
		     char **state_r)
{
	struct mfs_sync_result *res = NULL;
	struct mfs_error e = { 0 };
	int rc;

	rc = mfs_store_sync(s->ctx->store, folder, NULL, &res, &e);
	if (rc < 0)
		return rc;
	rc = messages_of(s, folder, res, msgs_r, uids_r);
	if (rc == 0 && state_r)
		*state_r = g_steal_pointer(&res->state);
	mfs_sync_result_free(&res);
	return rc;
}

void imapd_cmd_status(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	g_autofree char *path = mailbox_arg(s, cmd, 0);
	GPtrArray *items = cmd->nargs == 2 ? imap_arg_list(cmd->args[1]) : NULL;
	g_autoptr(GArray) msgs = NULL;
	struct serve_uid_state st;
	uint32_t recent = 0, unseen = 0;

	if (!path)
		return;
	if (!items || items->len == 0) {
		imapd_reply(s, cmd, "BAD", "STATUS mailbox (items)");
		return;
	}
	if (imapd_folder_load(s, path, &msgs, &st, NULL) < 0) {
		imapd_reply(s, cmd, "NO", "[NONEXISTENT] no such mailbox");
		return;
	}
	for (guint i = 0; i < msgs->len; i++) {
		const struct imapd_msg *m = &g_array_index(msgs, struct imapd_msg,
							  i);
		recent += m->recent;
		unseen += !(m->flags & MFS_FLAG_SEEN);
	}
	g_autoptr(GString) out = g_string_new(NULL);
	for (guint i = 0; i < items->len; i++) {
		const struct imap_arg *a = items->pdata[i];
		uint64_t v;
		if (imap_arg_is(a, "MESSAGES"))
			v = msgs->len;
		else if (imap_arg_is(a, "RECENT"))
			v = recent;
		else if (imap_arg_is(a, "UIDNEXT"))
			v = st.next;
		else if (imap_arg_is(a, "UIDVALIDITY"))
			v = st.validity;
		else if (imap_arg_is(a, "UNSEEN"))
			v = unseen;
		else if (imap_arg_is(a, "HIGHESTMODSEQ")) {
			v = st.highest;
			s->condstore = true;
		} else {
			imapd_reply(s, cmd, "BAD", "unknown STATUS item");
			return;
		}
		g_autofree char *up = g_ascii_strup(a->str, -1);
		g_string_append_printf(out, "%s%s %" G_GUINT64_FORMAT,
				       out->len ? " " : "", up, v);
	}
	serve_conn_printf(s->c, "* STATUS ");
	imapd_send_astring(s, imapd_cmd_string(cmd, 0));
	serve_conn_printf(s->c, " (%s)\r\n", out->str);
	imapd_reply(s, cmd, "OK", "STATUS completed");
}

void imapd_view_free(struct imapd_view **vp)
{
	struct imapd_view *v = *vp;

	if (!v)
		return;
	g_free(v->folder);
	g_free(v->name);
	g_free(v->state);
	if (v->msgs)
		g_array_unref(v->msgs);
	maildir_keywords_clear(&v->kw);
	g_free(v);
	*vp = NULL;
}

char *imapd_folder_dir(struct imapd_session *s, const char *folder)
{
	return g_build_filename(s->ctx->store_root, folder, NULL);
}

void imapd_send_keywords(struct imapd_session *s)
{
	const struct imapd_view *v = s->view;
	g_autoptr(GString) names = g_string_new(NULL);

	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if (v->kw.names[i])
			g_string_append_printf(names, " %s", v->kw.names[i]);
	}
	imapd_untagged(s, "FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
		      "\\Draft%s)", names->str);
	/* \\* only while a letter is free: past that a new keyword is
	 * refused (RFC 3501 section 7.1) */
	imapd_untagged(s, "OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted "
		      "\\Seen \\Draft%s%s)] flags kept", names->str,
		      !v->readonly && maildir_keywords_room(&v->kw) ? " \\*"
								    : "");
}

/* Take `now` as the view's keywords, telling the client when they
 * changed.  Clears `now`. */
static void keywords_now(struct imapd_session *s, struct maildir_keywords *now)
{
	struct imapd_view *v = s->view;

	if (maildir_keywords_equal(now, &v->kw)) {
		maildir_keywords_clear(now);
		return;
	}
	maildir_keywords_clear(&v->kw);
	v->kw = *now;
	*now = (struct maildir_keywords){ 0 };
	imapd_send_keywords(s);
}

int imapd_view_keywords(struct imapd_session *s, GPtrArray *names, bool add,
			uint64_t *bits_r)
{
	struct imapd_view *v = s->view;
	struct maildir_keywords now = { 0 };
	g_autofree char *dir = imapd_folder_dir(s, v->folder);
	int rc;

	*bits_r = 0;
	if (add && names->len)
		rc = maildir_keywords_add(dir, (const char *const *)names->pdata,
					  names->len, &now, bits_r);
	else
		rc = maildir_keywords_read(dir, &now);
	keywords_now(s, &now);
	if (rc < 0 || add)
		return rc;
	for (guint i = 0; i < names->len; i++) {
		int idx = maildir_keywords_find(&v->kw, names->pdata[i]);
		if (idx >= 0)
			*bits_r |= maildir_keyword_bit((unsigned)idx);
	}
	return 0;
}

/* A FETCH response with what changed about message i: its flags, and its
 * mod-sequence once the client asked for those. */
static void send_changed(struct imapd_session *s, guint i)
{
	struct imapd_msg *m = &g_array_index(s->view->msgs, struct imapd_msg, i);

	serve_conn_printf(s->c, "* %u FETCH (UID %u ", i + 1, m->uid);
	if (s->condstore)
		serve_conn_printf(s->c, "MODSEQ (%" G_GUINT64_FORMAT ") ",
				  m->modseq);
	serve_conn_printf(s->c, "FLAGS ");
	imapd_send_flags(s, m);
	serve_conn_printf(s->c, ")\r\n");
}

/*
 * SELECT's QRESYNC parameter (RFC 7162 section 3.2.5): (UIDVALIDITY
 * MODSEQ [KNOWN-UIDS [SEQ-MATCH]]).  When the client's UIDVALIDITY is
 * still right, say what vanished and what changed since MODSEQ.  Which
 * UIDs went away is not kept, so VANISHED (EARLIER) names every UID below
 * UIDNEXT that is not here, within the client's known UIDs; a client
 * passes over UIDs it never knew (docs/DEVIATIONS.md).
 */
static void qresync_news(struct imapd_session *s, const GPtrArray *p)
{
	struct imapd_view *v = s->view;
	uint64_t validity, since;
	GArray *known = NULL;

	if (!p || p->len < 2 || !imap_arg_number(p->pdata[0], &validity) ||
	    !imap_arg_number(p->pdata[1], &since) || validity != v->uidvalidity)
		return;
	if (p->len >= 3 && ((struct imap_arg *)p->pdata[2])->type ==
				   IMAP_ARG_ATOM)
		imapd_seqset_parse(((struct imap_arg *)p->pdata[2])->str,
				  v->uidnext ? v->uidnext - 1 : 0, &known);
	g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	guint at = 0;
	for (uint32_t uid = 1; uid < v->uidnext; uid++) {
		while (at < v->msgs->len &&
		       g_array_index(v->msgs, struct imapd_msg, at).uid < uid)
			at++;
		bool here = at < v->msgs->len &&
			    g_array_index(v->msgs, struct imapd_msg, at).uid == uid;
		if (!here && (!known || imapd_seqset_has(known, uid)))
			g_array_append_val(gone, uid);
	}
	if (known)
		g_array_unref(known);
	if (gone->len) {
		g_autofree char *set = imapd_uid_set_string(gone);
		imapd_untagged(s, "VANISHED (EARLIER) %s", set);
	}
	for (guint i = 0; i < v->msgs->len; i++) {
		if (g_array_index(v->msgs, struct imapd_msg, i).modseq > since)
			send_changed(s, i);
	}
}

static void select_mailbox(struct imapd_session *s,
			   const struct imapd_cmd *cmd, bool readonly)
{
	g_autofree char *path = mailbox_arg(s, cmd, 0);
	struct imapd_view *v;
	struct serve_uid_state st;
	uint32_t recent = 0, unseen = 0;
	enum mfs_folder_kind kind = MFS_FOLDER_NONE;
	const GPtrArray *qresync = NULL;

	/* RFC 3501 section 6.3.1: a failed SELECT leaves none selected */
	imapd_view_free(&s->view);
	s->state = IMAP_AUTHED;
	if (!path)
		return;
	GPtrArray *params = cmd->nargs == 2 ? imap_arg_list(cmd->args[1]) : NULL;
	for (guint i = 0; params && i < params->len; i++) {
		const struct imap_arg *a = params->pdata[i];
		if (imap_arg_is(a, "CONDSTORE")) {
			s->condstore = true;
		} else if (imap_arg_is(a, "QRESYNC") && s->qresync &&
			   i + 1 < params->len &&
			   imap_arg_list(params->pdata[i + 1])) {
			qresync = imap_arg_list(params->pdata[++i]);
		} else {
			params = NULL;
			break;
		}
	}
	if (cmd->nargs > 2 || (cmd->nargs == 2 && !params)) {
		imapd_reply(s, cmd, "BAD", "SELECT mailbox [(CONDSTORE | "
			   "QRESYNC (...))]");
		return;
	}
	if (!folder_exists(s, path, &kind) || kind != MFS_FOLDER_MAIL) {
		imapd_reply(s, cmd, "NO", "[NONEXISTENT] no such mailbox");
		return;
	}
	v = g_new0(struct imapd_view, 1);
	v->folder = g_steal_pointer(&path);
	v->name = g_strdup(imapd_cmd_string(cmd, 0));
	v->readonly = readonly;
	if (imapd_folder_load(s, v->folder, &v->msgs, &st, &v->state) < 0) {
		imapd_view_free(&v);
		imapd_reply(s, cmd, "NO", "[SERVERBUG] cannot read the mailbox");
		return;
	}
	g_autofree char *dir = imapd_folder_dir(s, v->folder);
	if (maildir_keywords_read(dir, &v->kw) < 0)
		log_warnx("imap: keywords of %s cannot be read", v->folder);
	v->uidvalidity = st.validity;
	v->uidnext = st.next;
	v->highest = st.highest;
	v->refreshed = g_get_monotonic_time();
	for (guint i = 0; i < v->msgs->len; i++) {
		struct imapd_msg *m = &g_array_index(v->msgs, struct imapd_msg, i);
		if (!unseen && !(m->flags & MFS_FLAG_SEEN))
			unseen = i + 1;
		if (!m->recent)
			continue;
		recent++;
		/* seen by a mail reader now: new/ to cur/, as Maildir
		 * readers do; \Recent stays for this session */
		if (!readonly)
			mfs_store_set_flags(s->ctx->store, v->folder, m->id,
					    m->flags, NULL);
	}
	if (recent && !readonly)
		g_clear_pointer(&v->state, g_free);
	s->view = v;
	s->state = IMAP_SELECTED;
	imapd_send_keywords(s);
	imapd_untagged(s, "%u EXISTS", v->msgs->len);
	imapd_untagged(s, "%u RECENT", recent);
	if (unseen)
		imapd_untagged(s, "OK [UNSEEN %u] first unseen", unseen);
	imapd_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", v->uidvalidity);
	imapd_untagged(s, "OK [UIDNEXT %u] predicted next UID", v->uidnext);
	imapd_untagged(s, "OK [HIGHESTMODSEQ %" G_GUINT64_FORMAT "] highest",
		      v->highest);
	if (qresync)
		qresync_news(s, qresync);
	imapd_reply(s, cmd, "OK", "[%s] %s completed",
		   readonly ? "READ-ONLY" : "READ-WRITE",
		   readonly ? "EXAMINE" : "SELECT");
}

void imapd_cmd_select(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	select_mailbox(s, cmd, false);
}

void imapd_cmd_examine(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	select_mailbox(s, cmd, true);
}

static struct imapd_msg *find_uid(GArray *msgs, uint32_t uid)
{
	guint lo = 0, hi = msgs->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		struct imapd_msg *m = &g_array_index(msgs, struct imapd_msg, mid);
		if (m->uid == uid)
			return m;
		if (m->uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

char *imapd_uid_set_string(const GArray *uids)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < uids->len;) {
		uint32_t a = g_array_index(uids, uint32_t, i), b = a;
		guint j = i + 1;
		while (j < uids->len && g_array_index(uids, uint32_t, j) ==
						 b + 1)
			b = g_array_index(uids, uint32_t, j++);
		if (out->len)
			g_string_append_c(out, ',');
		if (a == b)
			g_string_append_printf(out, "%u", a);
		else
			g_string_append_printf(out, "%u:%u", a, b);
		i = j;
	}
	return g_string_free(out, FALSE);
}

void imapd_view_expunged(struct imapd_session *s, GArray *idx)
{
	GArray *msgs = s->view->msgs;

	if (idx->len == 0)
		return;
	if (s->qresync) {
		g_autoptr(GArray) uids = g_array_new(FALSE, FALSE,
						     sizeof(uint32_t));
		for (guint k = 0; k < idx->len; k++) {
			guint i = g_array_index(idx, guint, k);
			uint32_t u = g_array_index(msgs, struct imapd_msg, i).uid;
			g_array_append_val(uids, u);
		}
		g_autofree char *set = imapd_uid_set_string(uids);
		imapd_untagged(s, "VANISHED %s", set);
	}
	/* from the highest number down, so that each number told is still
	 * right when the client reads it */
	for (guint k = idx->len; k-- > 0;) {
		guint i = g_array_index(idx, guint, k);
		if (!s->qresync)
			imapd_untagged(s, "%u EXPUNGE", i + 1);
		g_array_remove_index(msgs, i);
	}
	g_clear_pointer(&s->view->state, g_free);
}

int imapd_view_refresh(struct imapd_session *s, bool expunges)
{
	struct imapd_view *v = s->view;
	struct mfs_sync_result *res = NULL;
	struct mfs_error e = { 0 };
	g_autoptr(GArray) now = NULL;
	struct serve_uid_state st;
	int rc;

	/* another writer's new keywords come before the flags that use them */
	struct maildir_keywords kw = { 0 };
	g_autofree char *dir = imapd_folder_dir(s, v->folder);
	if (maildir_keywords_read(dir, &kw) == 0)
		keywords_now(s, &kw);
	/* cheap when nothing changed: the store compares its state */
	v->refreshed = g_get_monotonic_time();
	rc = mfs_store_sync(s->ctx->store, v->folder, v->state, &res, &e);
	if (rc < 0)
		return rc;
	if (!res->full && res->changed->len == 0 && res->vanished->len == 0 &&
	    res->state) {
		g_free(v->state);
		v->state = g_steal_pointer(&res->state);
		mfs_sync_result_free(&res);
		return 0;
	}
	g_autofree char *state = NULL;
	if (res->full) {
		rc = messages_of(s, v->folder, res, &now, &st);
		state = g_steal_pointer(&res->state);
		mfs_sync_result_free(&res);
	} else {
		/* a store that tells changes one by one: read it whole */
		mfs_sync_result_free(&res);
		rc = imapd_folder_load(s, v->folder, &now, &st, &state);
	}
	if (rc < 0)
		return rc;
	g_free(v->state);
	v->state = g_steal_pointer(&state);
	v->uidnext = st.next;
	v->highest = st.highest;
	g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(guint));
	for (guint i = 0; expunges && i < v->msgs->len; i++) {
		struct imapd_msg *m = &g_array_index(v->msgs, struct imapd_msg, i);
		if (!find_uid(now, m->uid))
			g_array_append_val(gone, i);
	}
	imapd_view_expunged(s, gone);
	for (guint i = 0; i < v->msgs->len; i++) {
		struct imapd_msg *m = &g_array_index(v->msgs, struct imapd_msg, i);
		struct imapd_msg *n = find_uid(now, m->uid);
		if (!n || (n->flags == m->flags && n->modseq == m->modseq))
			continue;
		bool tell = n->flags != m->flags ||
			    (s->condstore && n->modseq != m->modseq);
		m->flags = n->flags;
		m->modseq = n->modseq;
		if (tell)
			send_changed(s, i);
	}
	uint32_t last = v->msgs->len ? g_array_index(v->msgs, struct imapd_msg,
						     v->msgs->len - 1).uid : 0;
	guint before = v->msgs->len, recent = 0;
	for (guint i = 0; i < now->len; i++) {
		struct imapd_msg *n = &g_array_index(now, struct imapd_msg, i);
		if (n->uid <= last)
			continue;
		struct imapd_msg m = *n;
		m.id = g_strdup(n->id);
		g_array_append_val(v->msgs, m);
	}
	if (v->msgs->len != before) {
		for (guint j = 0; j < v->msgs->len; j++)
			recent += g_array_index(v->msgs, struct imapd_msg,
						j).recent;
		imapd_untagged(s, "%u EXISTS", v->msgs->len);
		imapd_untagged(s, "%u RECENT", recent);
	}
	return 0;
}
