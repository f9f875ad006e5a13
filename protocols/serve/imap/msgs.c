/*
 * msgs.c - commands that change messages: STORE, COPY, MOVE,
 * EXPUNGE (and UID EXPUNGE), APPEND.
 *
 * RFC 3501 sections 6.3.11 (APPEND), 6.4.3 (EXPUNGE), 6.4.6 (STORE),
 * 6.4.7 (COPY); RFC 4315 (UIDPLUS: APPENDUID, COPYUID, UID EXPUNGE);
 * RFC 6851 (MOVE).  Every change goes through the store, so that a mount
 * and other sessions see it; the UIDs a change made come from the UID
 * state (uids.c) after it.
 *
 * Keywords are letters of the message's folder (maildir-name.h).  A new
 * keyword when all 26 letters of the folder are taken is refused with NO
 * [LIMIT] before anything changes (RFC 3501 section 7.1: PERMANENTFLAGS
 * then lacks \*), rather than taken and forgotten.  COPY and MOVE carry
 * keywords by name: the store gives them the destination's letters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "imapd-private.h"
#include "serve/spool.h"

static bool parse_set(struct imapd_session *s, const struct imapd_cmd *cmd,
		      GArray **set_r)
{
	GArray *msgs = s->view->msgs;
	uint32_t star = msgs->len == 0 ? 0 : cmd->uid
		? g_array_index(msgs, struct imapd_msg, msgs->len - 1).uid
		: msgs->len;

	if (cmd->nargs < 1 || cmd->args[0]->type != IMAP_ARG_ATOM ||
	    imapd_seqset_parse(cmd->args[0]->str, star, set_r) < 0)
		return false;
	if (!cmd->uid && (*set_r)->len &&
	    g_array_index(*set_r, uint32_t, 2 * ((*set_r)->len - 1) + 1) >
		    msgs->len) {
		g_array_unref(*set_r);
		*set_r = NULL;
		return false;
	}
	return true;
}

/* serve_uids_note(), reading the folder first when it has no UID state
 * yet.  Returns 0 or -errno. */
static int note(struct imapd_session *s, const char *folder,
		const char *const *ids, const uint64_t *flags, size_t n,
		struct serve_uid_info *info, struct serve_uid_state *st)
{
	int rc = serve_uids_note(s->ctx->store_root, folder, ids, flags, n,
				info, st);

	if (rc == -ESTALE) {
		/* the messages that were there before ours come first */
		struct mfs_sync_result *res = NULL;
		g_autofree struct serve_uid_info *all = NULL;
		g_autoptr(GHashTable) ours = g_hash_table_new(g_str_hash,
							      g_str_equal);
		if ((rc = mfs_store_sync(s->ctx->store, folder, NULL, &res,
					 NULL)) < 0)
			return rc;
		for (size_t i = 0; i < n; i++)
			g_hash_table_add(ours, (gpointer)ids[i]);
		for (guint i = res->changed->len; i-- > 0;) {
			const struct mfs_item *it = res->changed->pdata[i];
			if (g_hash_table_contains(ours, it->id))
				g_ptr_array_remove_index(res->changed, i);
		}
		rc = serve_uids_assign(s->ctx->store_root, folder, res->changed,
				      &all, st);
		mfs_sync_result_free(&res);
		if (rc < 0)
			return rc;
		rc = serve_uids_note(s->ctx->store_root, folder, ids, flags, n,
				    info, st);
	}
	return rc;
}

/* After our own flag changes on the view's messages at `idx`: their new
 * mod-sequences from the UID state, and the mailbox's HIGHESTMODSEQ. */
static void note_flags(struct imapd_session *s, const GArray *idx)
{
	g_autofree const char **ids = g_new0(const char *, idx->len + 1);
	g_autofree uint64_t *flags = g_new0(uint64_t, idx->len + 1);
	g_autofree struct serve_uid_info *info = g_new0(struct serve_uid_info,
						       idx->len + 1);
	struct serve_uid_state st;

	for (guint k = 0; k < idx->len; k++) {
		struct imapd_msg *m = &g_array_index(
			s->view->msgs, struct imapd_msg, g_array_index(idx, guint, k));
		ids[k] = m->id;
		flags[k] = m->flags;
	}
	if (note(s, s->view->folder, ids, flags, idx->len, info, &st) < 0)
		return;
	s->view->highest = st.highest;
	for (guint k = 0; k < idx->len; k++)
		g_array_index(s->view->msgs, struct imapd_msg,
			      g_array_index(idx, guint, k)).modseq =
			info[k].modseq;
}

/* The arguments of STORE. */
struct store_args {
	GArray *set;			/* owned */
	uint64_t flags;
	GPtrArray *keywords;		/* owned; names borrowed */
	uint64_t unchanged;		/* UNCHANGEDSINCE; UINT64_MAX without */
	int op;				/* +FLAGS 1, -FLAGS -1, FLAGS 0 */
	bool silent;
};

/* Read STORE's arguments into *a; false after answering BAD.  The caller
 * owns a->set either way (NULL when it was not read). */
static bool store_args(struct imapd_session *s, const struct imapd_cmd *cmd,
		       struct store_args *a)
{
	GPtrArray *mods = cmd->nargs > 1 ? imap_arg_list(cmd->args[1]) : NULL;
	guint at = mods ? 2 : 1;
	const char *item = imapd_cmd_string(cmd, at);

	a->unchanged = UINT64_MAX;
	if (!item || cmd->nargs < at + 2 || !parse_set(s, cmd, &a->set)) {
		imapd_reply(s, cmd, "BAD", "STORE sequence-set item flags");
		return false;
	}
	if (mods && (mods->len != 2 ||
		     !imap_arg_is(mods->pdata[0], "UNCHANGEDSINCE") ||
		     !imap_arg_number(mods->pdata[1], &a->unchanged))) {
		imapd_reply(s, cmd, "BAD", "STORE takes (UNCHANGEDSINCE n)");
		return false;
	}
	if (mods)
		s->condstore = true;
	a->op = item[0] == '+' ? 1 : item[0] == '-' ? -1 : 0;
	const char *base = a->op ? item + 1 : item;
	a->silent = !g_ascii_strcasecmp(base, "FLAGS.SILENT");
	if (!a->silent && g_ascii_strcasecmp(base, "FLAGS")) {
		imapd_reply(s, cmd, "BAD", "STORE takes FLAGS, +FLAGS or -FLAGS");
		return false;
	}
	a->keywords = g_ptr_array_new();
	for (guint i = at + 1; i < cmd->nargs; i++) {
		if (imapd_flags_parse(cmd->args[i], &a->flags,
				      a->keywords) < 0) {
			imapd_reply(s, cmd, "BAD", "unknown flag");
			return false;
		}
	}
	return true;
}

/* The letters of keywords `names` in the selected mailbox (given letters
 * when `add`) into *bits_r.  Returns 0, or -errno after answering NO. */
static int keywords_of(struct imapd_session *s, const struct imapd_cmd *cmd,
		       GPtrArray *names, bool add, uint64_t *bits_r)
{
	int rc = imapd_view_keywords(s, names, add, bits_r);

	if (rc == -ENOSPC)
		imapd_reply(s, cmd, "NO", "[LIMIT] mailbox %s has %d keywords, "
			   "the most a Maildir folder holds", s->view->name,
			   MAILDIR_KEYWORDS_MAX);
	else if (rc < 0)
		imapd_reply(s, cmd, "NO", "[SERVERBUG] keywords of mailbox "
			   "%s: %s", s->view->name, g_strerror(-rc));
	return rc;
}

/* The FETCH news of STORE for the view's messages at `touched`, whose
 * flags changed where `changed` says. */
static void send_store_news(struct imapd_session *s,
			    const struct imapd_cmd *cmd, bool silent,
			    const GArray *touched, const GArray *changed)
{
	for (guint k = 0; k < touched->len; k++) {
		guint i = g_array_index(touched, guint, k);
		struct imapd_msg *m = &g_array_index(s->view->msgs,
						    struct imapd_msg, i);
		bool did = g_array_index(changed, bool, k);
		/* .SILENT still owes the new mod-sequence (RFC 7162) */
		if (silent && !(s->condstore && did))
			continue;
		serve_conn_printf(s->c, "* %u FETCH (", i + 1);
		if (cmd->uid)
			serve_conn_printf(s->c, "UID %u ", m->uid);
		if (s->condstore)
			serve_conn_printf(s->c, "MODSEQ (%" G_GUINT64_FORMAT
					  ")%s", m->modseq, silent ? "" : " ");
		if (!silent) {
			serve_conn_printf(s->c, "FLAGS ");
			imapd_send_flags(s, m);
		}
		serve_conn_printf(s->c, ")\r\n");
	}
}

/*
 * STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags.  With
 * UNCHANGEDSINCE (RFC 7162 section 3.1.3), a message modified after n is
 * left alone and named in [MODIFIED ...].
 */
void imapd_cmd_store(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	struct store_args a = { 0 };
	bool ok = store_args(s, cmd, &a);
	g_autoptr(GArray) set = a.set;
	g_autoptr(GPtrArray) keywords = a.keywords;
	uint64_t kwbits = 0, named = 0;

	if (!ok)
		return;
	if (s->view->readonly) {
		imapd_reply(s, cmd, "NO", "mailbox is read-only");
		return;
	}
	if (keywords_of(s, cmd, keywords, a.op >= 0, &kwbits) < 0)
		return;
	a.flags |= kwbits;
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		named |= s->view->kw.names[i] ? maildir_keyword_bit(i) : 0;
	g_autoptr(GArray) touched = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GArray) changed = g_array_new(FALSE, TRUE, sizeof(bool));
	g_autoptr(GArray) did_idx = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GArray) modified = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	bool failed = false, any = false;
	for (guint i = 0; i < s->view->msgs->len; i++) {
		struct imapd_msg *m = &g_array_index(s->view->msgs,
						    struct imapd_msg, i);
		if (!imapd_set_matches(s, set, cmd->uid, i))
			continue;
		if (m->modseq > a.unchanged) {
			uint32_t n = cmd->uid ? m->uid : i + 1;
			g_array_append_val(modified, n);
			continue;
		}
		/* letters IMAP has no flag for (P, a keyword letter the
		 * folder does not name) stay as they are: FLAGS replaces
		 * only what IMAP can say */
		uint64_t now = a.op > 0 ? m->flags | a.flags
			     : a.op < 0 ? m->flags & ~a.flags
			     : (m->flags & ~(IMAP_SYSTEM_FLAGS | named)) |
				       a.flags;
		bool did = now != m->flags;
		if (did) {
			if (mfs_store_set_flags(s->ctx->store, s->view->folder,
						m->id, now, NULL) < 0) {
				failed = true;
				continue;
			}
			m->flags = now;
			any = true;
			g_array_append_val(did_idx, i);
		}
		g_array_append_val(touched, i);
		g_array_append_val(changed, did);
	}
	if (any) {
		note_flags(s, did_idx);
		g_clear_pointer(&s->view->state, g_free);
	}
	send_store_news(s, cmd, a.silent, touched, changed);
	if (failed) {
		imapd_reply(s, cmd, "NO", "some flags could not be set");
	} else if (modified->len) {
		g_autofree char *list = imapd_uid_set_string(modified);
		imapd_reply(s, cmd, "OK", "[MODIFIED %s] conditional STORE "
			   "failed for some", list);
	} else {
		imapd_reply(s, cmd, "OK", "STORE completed");
	}
}

/* The UIDs that `folder` gives to the messages `ids` just stored there
 * with `flags` (in order).  *validity_r is 0 when the UID state could not
 * be kept. */
static GArray *uids_of(struct imapd_session *s, const char *folder,
		       GPtrArray *ids, const uint64_t *flags,
		       uint32_t *validity_r)
{
	GArray *out = g_array_new(FALSE, TRUE, sizeof(uint32_t));
	g_autofree struct serve_uid_info *info = g_new0(struct serve_uid_info,
						       ids->len + 1);
	struct serve_uid_state st;

	*validity_r = 0;
	if (note(s, folder, (const char *const *)ids->pdata, flags, ids->len,
		 info, &st) < 0)
		return out;
	*validity_r = st.validity;
	for (guint i = 0; i < ids->len; i++)
		g_array_append_val(out, info[i].uid);
	return out;
}

static bool mailbox_exists(struct imapd_session *s, const char *path)
{
	g_autoptr(GPtrArray) folders = NULL;

	if (mfs_store_list_folders(s->ctx->store, &folders, NULL) < 0)
		return false;
	for (guint i = 0; i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		if (!strcmp(fi->path, path))
			return fi->kind == MFS_FOLDER_MAIL;
	}
	return false;
}

static void copy(struct imapd_session *s, const struct imapd_cmd *cmd,
		 bool move)
{
	g_autoptr(GArray) set = NULL;
	g_autofree char *dest = imapd_mailbox_path(imapd_cmd_string(cmd, 1));
	g_autoptr(GPtrArray) new_ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) new_flags = g_array_new(FALSE, TRUE, sizeof(uint64_t));
	g_autoptr(GArray) src_uids = g_array_new(FALSE, TRUE, sizeof(uint32_t));
	g_autoptr(GArray) moved = g_array_new(FALSE, TRUE, sizeof(guint));
	const char *verb = move ? "MOVE" : "COPY";
	bool failed = false, full = false;

	if (cmd->nargs != 2 || !parse_set(s, cmd, &set)) {
		imapd_reply(s, cmd, "BAD", "%s sequence-set mailbox", verb);
		return;
	}
	if (!dest) {
		imapd_reply(s, cmd, "NO", "[CANNOT] not an acceptable mailbox "
			   "name");
		return;
	}
	if (!mailbox_exists(s, dest)) {
		imapd_reply(s, cmd, "NO", "[TRYCREATE] no such mailbox");
		return;
	}
	if (move && s->view->readonly) {
		imapd_reply(s, cmd, "NO", "mailbox is read-only");
		return;
	}
	for (guint i = 0; i < s->view->msgs->len; i++) {
		struct imapd_msg *m = &g_array_index(s->view->msgs,
						    struct imapd_msg, i);
		struct mfs_item *it = NULL;
		struct mfs_error e = { 0 };
		int rc;
		if (!imapd_set_matches(s, set, cmd->uid, i))
			continue;
		rc = move ? mfs_store_move(s->ctx->store, s->view->folder,
					   m->id, dest, m->flags, &it, &e)
			  : mfs_store_copy(s->ctx->store, s->view->folder,
					   m->id, dest, m->flags, &it, &e);
		if (rc < 0) {
			log_warnx("imap: %s %s: %s", verb, m->id, e.msg);
			failed = true;
			full |= rc == -ENOSPC;
			continue;
		}
		g_ptr_array_add(new_ids, g_strdup(it->id));
		g_array_append_val(new_flags, it->flags);
		g_array_append_val(src_uids, m->uid);
		g_array_append_val(moved, i);
		mfs_item_free(it);
	}
	uint32_t validity = 0;
	g_autoptr(GArray) dst_uids = uids_of(s, dest, new_ids,
					     (const uint64_t *)new_flags->data,
					     &validity);
	g_autofree char *src = imapd_uid_set_string(src_uids);
	g_autofree char *dst = imapd_uid_set_string(dst_uids);
	g_autofree char *code = src_uids->len && validity
		? g_strdup_printf("[COPYUID %u %s %s] ", validity, src, dst)
		: g_strdup("");
	if (move) {
		if (*code)
			imapd_untagged(s, "OK %sMOVE done", code);
		imapd_view_expunged(s, moved);
	}
	if (full)
		imapd_reply(s, cmd, "NO", "[LIMIT] mailbox %s has no free letter "
			   "for a keyword of some of the messages (%d keywords "
			   "is the most a Maildir folder holds): those stayed "
			   "where they were", imapd_cmd_string(cmd, 1),
			   MAILDIR_KEYWORDS_MAX);
	else if (move)
		imapd_reply(s, cmd, failed ? "NO" : "OK", "%s", failed
			   ? "some messages could not be moved"
			   : "MOVE completed");
	else if (failed)
		imapd_reply(s, cmd, "NO", "some messages could not be copied");
	else
		imapd_reply(s, cmd, "OK", "%sCOPY completed", code);
}

void imapd_cmd_copy(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	copy(s, cmd, false);
}

void imapd_cmd_move(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	copy(s, cmd, true);
}

/* Remove the \Deleted messages (of `set`, when given); with `tell`, say
 * so.  Returns false when some could not be removed. */
static bool expunge(struct imapd_session *s, const GArray *set, bool tell)
{
	g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(guint));
	bool ok = true;

	for (guint i = 0; i < s->view->msgs->len; i++) {
		struct imapd_msg *m = &g_array_index(s->view->msgs,
						    struct imapd_msg, i);
		struct mfs_error e = { 0 };
		if (!(m->flags & MFS_FLAG_TRASHED) ||
		    (set && !imapd_seqset_has(set, m->uid)))
			continue;
		int rc = mfs_store_remove(s->ctx->store, s->view->folder, m->id,
					  &e);
		if (rc < 0 && rc != -ENOENT) {
			log_warnx("imap: expunge %s: %s", m->id, e.msg);
			ok = false;
			continue;
		}
		g_array_append_val(gone, i);
	}
	if (tell) {
		imapd_view_expunged(s, gone);
	} else {
		for (guint k = gone->len; k-- > 0;)
			g_array_remove_index(s->view->msgs,
					     g_array_index(gone, guint, k));
		g_clear_pointer(&s->view->state, g_free);
	}
	return ok;
}

void imapd_expunge_silently(struct imapd_session *s)
{
	expunge(s, NULL, false);
}

void imapd_cmd_expunge(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	g_autoptr(GArray) set = NULL;

	if (cmd->uid ? cmd->nargs != 1 || !parse_set(s, cmd, &set)
		     : cmd->nargs != 0) {
		imapd_reply(s, cmd, "BAD", "EXPUNGE takes %s", cmd->uid
			   ? "a UID set" : "no arguments");
		return;
	}
	if (s->view->readonly) {
		imapd_reply(s, cmd, "NO", "mailbox is read-only");
		return;
	}
	if (expunge(s, set, true))
		imapd_reply(s, cmd, "OK", "EXPUNGE completed");
	else
		imapd_reply(s, cmd, "NO", "some messages could not be removed");
}

/* RFC 3501 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d"). */
static bool parse_date_time(const char *s, int64_t *t_r)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
					      "May", "Jun", "Jul", "Aug",
					      "Sep", "Oct", "Nov", "Dec" };
	int d, y, h, mi, sec, zone;
	char mon[4], sign;
	struct tm tm = { 0 };

	while (*s == ' ')
		s++;
	if (sscanf(s, "%2d-%3s-%4d %2d:%2d:%2d %c%4d", &d, mon, &y, &h, &mi,
		   &sec, &sign, &zone) != 8 || (sign != '+' && sign != '-'))
		return false;
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++) {
		if (!g_ascii_strcasecmp(mon, months[i]))
			tm.tm_mon = i;
	}
	if (tm.tm_mon < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	tm.tm_mday = d;
	tm.tm_year = y - 1900;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	int64_t t = (int64_t)timegm(&tm);
	int off = (zone / 100) * 3600 + (zone % 100) * 60;
	*t_r = sign == '+' ? t - off : t + off;
	return true;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The letters of APPEND's keywords in `folder`, given there.  Returns 0,
 * or -errno after answering NO. */
static int append_keywords(struct imapd_session *s,
			   const struct imapd_cmd *cmd, const char *folder,
			   GPtrArray *keywords, uint64_t *bits_r)
{
	struct maildir_keywords kw = { 0 };
	g_autofree char *dir = imapd_folder_dir(s, folder);
	int rc = maildir_keywords_add(dir, (const char *const *)keywords->pdata,
				      keywords->len, &kw, bits_r);

	maildir_keywords_clear(&kw);
	if (rc == -ENOSPC)
		imapd_reply(s, cmd, "NO", "[LIMIT] mailbox %s has %d keywords, "
			   "the most a Maildir folder holds",
			   imapd_cmd_string(cmd, 0), MAILDIR_KEYWORDS_MAX);
	else if (rc < 0)
		imapd_reply(s, cmd, "NO", "[SERVERBUG] keywords of mailbox "
			   "%s: %s", imapd_cmd_string(cmd, 0), g_strerror(-rc));
	return rc;
}

void imapd_cmd_append(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	g_autofree char *path = imapd_mailbox_path(imapd_cmd_string(cmd, 0));
	const struct imap_arg *msg = cmd->nargs >= 2 ? cmd->args[cmd->nargs - 1]
						     : NULL;
	uint64_t flags = 0, kwbits = 0;
	g_autoptr(GPtrArray) keywords = g_ptr_array_new();
	int64_t date = (int64_t)time(NULL);
	struct mfs_item *it = NULL;
	struct mfs_error e = { 0 };
	int fd, rc;

	if (!msg || cmd->nargs > 4 ||
	    (msg->type != IMAP_ARG_LITERAL && msg->type != IMAP_ARG_STRING)) {
		imapd_reply(s, cmd, "BAD", "APPEND mailbox [flags] [date] "
			   "literal");
		return;
	}
	for (guint i = 1; i + 1 < cmd->nargs; i++) {
		const struct imap_arg *a = cmd->args[i];
		if (imap_arg_list(a)) {
			if (imapd_flags_parse(a, &flags, keywords) < 0) {
				imapd_reply(s, cmd, "BAD", "unknown flag");
				return;
			}
		} else if (a->type != IMAP_ARG_STRING ||
			   !parse_date_time(a->str, &date)) {
			imapd_reply(s, cmd, "BAD", "malformed date-time");
			return;
		}
	}
	if (!path) {
		imapd_reply(s, cmd, "NO", "[CANNOT] not an acceptable mailbox "
			   "name");
		return;
	}
	if (!mailbox_exists(s, path)) {
		imapd_reply(s, cmd, "NO", "[TRYCREATE] no such mailbox");
		return;
	}
	if (msg->len == 0) {
		imapd_reply(s, cmd, "NO", "an empty message is not stored");
		return;
	}
	if (keywords->len &&
	    append_keywords(s, cmd, path, keywords, &kwbits) < 0)
		return;
	flags |= kwbits;
	if (msg->fd >= 0) {
		fd = dup(msg->fd);
		if (fd >= 0)
			lseek(fd, 0, SEEK_SET);
	} else {
		fd = serve_spool_open(s->ctx->spool_dir);
		if (fd >= 0 && write_all(fd, msg->str, msg->len) < 0) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			lseek(fd, 0, SEEK_SET);
	}
	if (fd < 0) {
		imapd_reply(s, cmd, "NO", "[SERVERBUG] no room for the message");
		return;
	}
	rc = mfs_store_append(s->ctx->store, path, fd, NULL, flags, date, &it,
			      &e);
	close(fd);
	if (rc < 0) {
		imapd_reply(s, cmd, "NO", "[SERVERBUG] %s", e.msg);
		return;
	}
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(ids, g_strdup(it->id));
	uint64_t stored_flags = it->flags;
	mfs_item_free(it);
	uint32_t validity = 0;
	g_autoptr(GArray) uids = uids_of(s, path, ids, &stored_flags, &validity);
	if (s->view && !strcmp(s->view->folder, path))
		imapd_view_refresh(s, true);
	uint32_t uid = uids->len ? g_array_index(uids, uint32_t, 0) : 0;
	if (uid && validity)
		imapd_reply(s, cmd, "OK", "[APPENDUID %u %u] APPEND completed",
			   validity, uid);
	else
		imapd_reply(s, cmd, "OK", "APPEND completed");
}
