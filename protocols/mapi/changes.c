/*
 * changes.c - the members of a mapi account that change the mailbox
 * (append, set_flags, remove, move and copy, folder management), its
 * Directory folder and its watcher: each one the operation of write.c,
 * msgops.c, fldops.c, directory.c or watch.c, with the item tables,
 * the spool and the folder map kept right after it.
 *
 * Specs: those of the files named; [MS-OXCFXICS] for why a new message's
 * size is learnt from a download (below).
 *
 * Sizes.  A message on the mount is its rendering (wire/mapi-mail.h; a
 * contact's or an appointment's wire/mapi-pim.h) of the properties a
 * sync downloads, which are the server's, not what was
 * written: a server adds properties of its own (PidTagMessageDeliveryTime,
 * a change key, its body conversions), and a moved message keeps its
 * properties only as far as the server does.  So the item of a new or
 * moved message is that of a download of its folder (mapic_sync_one),
 * which the spool keeps for the read that follows; where the server
 * refuses ICS on the folder, the message read by OpenMessage, as a sync
 * of that folder would read it.  That costs a download per message, so
 * append and move take one message at a time (-ENOTSUP for more, as
 * backend.h allows); set_flags and remove take batches.  A .vcf or .ics
 * appended to a contacts or calendar folder is parsed by the codec of
 * wire/mapi-pim.h ([MS-OXVCARD], [MS-OXCICAL]) and replaces the item
 * its hint names.
 */
#include "mapic-private.h"

#include <errno.h>
#include <string.h>

#include "fileutil.h"
#include "log.h"
#include "name-escape.h"
#include "wire/mapi-tags.h"

/* The letters the server keeps (msgops.c); the others are the mount's. */
#define SERVER_FLAGS (MFS_FLAG_SEEN | MFS_FLAG_FLAGGED | MFS_FLAG_REPLIED | \
		      MFS_FLAG_PASSED)

/* ---- the Directory folder ---- */

static bool in_directory(const char *path)
{
	size_t n = strlen(MAPIC_DIRECTORY);

	return path && !strncmp(path, MAPIC_DIRECTORY, n) &&
	       (path[n] == 0 || path[n] == '/');
}

static int directory_refused(const char *what, struct mfs_error *e)
{
	return mfs_error_set(e, -EROFS, MFS_ERR_FOLDER, MFS_ERR_FINAL,
			     "%s: %s is the address book", what,
			     MAPIC_DIRECTORY);
}

int mapic_list_all(struct mfs_backend *be, GPtrArray **folders_r,
		   struct mfs_error *e)
{
	int rc = mapic_list_folders(be, folders_r, e);

	if (rc < 0 || !folders_r)
		return rc;
	for (guint i = 0; i < (*folders_r)->len; i++) {
		const struct mfs_folder_info *fi = (*folders_r)->pdata[i];
		if (!strcmp(fi->path, MAPIC_DIRECTORY)) {
			/* the mailbox's own folder of that name wins */
			log_warnx("%s: the mailbox has a folder named %s; the "
				  "address book is not shown", be->conf.name,
				  MAPIC_DIRECTORY);
			return 0;
		}
	}
	g_ptr_array_add(*folders_r, mfs_folder_info_new(MAPIC_DIRECTORY,
						MFS_FOLDER_DIRECTORY));
	return 0;
}

static bool is_directory(struct mfs_backend *be, const char *folder)
{
	bool mailbox;

	if (strcmp(folder, MAPIC_DIRECTORY))
		return false;
	g_mutex_lock(&be->lock);
	mailbox = g_hash_table_contains(be->folders, folder);
	g_mutex_unlock(&be->lock);
	return !mailbox;
}

int mapic_sync_any(struct mfs_backend *be, const char *folder,
		   const char *state, struct mfs_sync_result **res_r,
		   struct mfs_error *e)
{
	if (!is_directory(be, folder))
		return mapic_sync(be, folder, state, res_r, e);
	/* nothing is listed: its entries come from lookups only */
	*res_r = mfs_sync_result_new();
	(*res_r)->full = true;
	return 0;
}

int mapic_lookup(struct mfs_backend *be, const char *folder,
		 const char *query, bool prefix, GPtrArray **entries_r,
		 struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	struct mapic_dir *d;
	int rc;

	if (!is_directory(be, folder))
		return mfs_error_set(e, -ENOTSUP, MFS_ERR_FOLDER,
				     MFS_ERR_FINAL, "%s is not the address "
				     "book", folder);
	/* Autodiscover gives the address the address book is found at */
	if ((rc = mapic_backend_session(be, &s, e)) < 0)
		return rc;
	g_mutex_lock(&be->lock);
	if (!be->dir)
		be->dir = mapic_dir_new(&be->conf);
	d = be->dir;
	g_mutex_unlock(&be->lock);
	return mapic_dir_lookup(d, query, prefix, entries_r, e);
}

/* ---- the item tables ---- */

/* Put what `it` says of its message into `folder`'s table. */
static void table_put(struct mfs_backend *be, const char *folder,
		      uint64_t fid, const struct mfs_item *it,
		      uint64_t modified)
{
	struct mapic_known *k = g_new0(struct mapic_known, 1);

	k->size = it->size;
	k->date = it->date;
	k->flags = it->flags;
	k->message_id = g_strdup(it->message_id);
	k->modified = modified;
	g_mutex_lock(&be->lock);
	struct mapic_table *t = mapic_table_get(be, folder, fid);
	g_hash_table_replace(t->items, g_strdup(it->id), k);
	t->dirty = true;
	int rc = mapic_table_save(be, folder, t);
	g_mutex_unlock(&be->lock);
	if (rc < 0)
		log_warnx("%s: the item table of %s: %s", be->conf.name,
			  folder, g_strerror(-rc));
}

/* Forget ids[i] of `folder`: their table entries and spooled bytes. */
static void table_drop(struct mfs_backend *be, const char *folder,
		       uint64_t fid, const char *const *ids, size_t n)
{
	g_mutex_lock(&be->lock);
	struct mapic_table *t = mapic_table_get(be, folder, fid);
	for (size_t i = 0; i < n; i++) {
		mfs_spool_drop(be->spool, ids[i]);
		if (g_hash_table_remove(t->items, ids[i]))
			t->dirty = true;
	}
	int rc = mapic_table_save(be, folder, t);
	g_mutex_unlock(&be->lock);
	if (rc < 0)
		log_warnx("%s: the item table of %s: %s", be->conf.name,
			  folder, g_strerror(-rc));
}

/* The item of message `mid` read by OpenMessage, for a folder whose
 * sync reads its contents table: rendered as table_item() in sync.c
 * does, its bytes in *buf_r.  Returns 0 or -errno. */
static int item_read(struct mfs_backend *be, uint64_t fid, uint64_t mid,
		     enum mfs_folder_kind kind, GByteArray **buf_r,
		     struct mfs_item **it_r, uint64_t *modified_r,
		     struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	struct mapi_message *m = NULL;
	const struct mapi_value *v;
	bool pim = mapic_pim_kind(kind);
	int rc;

	if ((rc = mapic_backend_session(be, &s, e)) < 0 ||
	    (rc = mapic_read_rendered(s, fid, mid, kind, NULL, buf_r, &m,
				      e)) < 0)
		return rc;
	const struct mapi_props *p = &m->props;
	uint64_t modified = (v = mapi_props_get_tag(
		p, MAPI_TAG_LAST_MODIFICATION_TIME)) ? v->v.ft : 0;
	uint64_t when = !pim && (v = mapi_props_get_tag(
		p, MAPI_TAG_MESSAGE_DELIVERY_TIME)) ? v->v.ft : modified;
	g_autofree char *id = mapic_item_id(mid, kind);
	*it_r = mfs_item_new(id, (*buf_r)->len, mapi_ft_to_unix(when),
			     pim ? 0 : mapic_flags_of(p));
	if (!pim)
		(*it_r)->message_id = g_strdup(mapi_props_str(
			p, MAPI_TAG_ID(MAPI_TAG_INTERNET_MESSAGE_ID)));
	*modified_r = modified;
	mapi_message_free(m);
	return 0;
}

/* Message `mid` of `folder` as a sync of it will report it: in *it_r
 * (caller owns), its bytes in the spool, the item in the table.
 * Returns 0 or -errno with `e` filled. */
static int item_of(struct mfs_backend *be, const char *folder, uint64_t fid,
		   uint64_t mid, struct mfs_item **it_r, struct mfs_error *e)
{
	enum mfs_folder_kind kind = mapic_folder_kind(be, folder);
	g_autofree char *id = mapic_item_id(mid, kind);
	GByteArray *buf = NULL;
	uint64_t modified = 0;
	int rc = mapic_sync_one(be, folder, id, &buf, it_r, e);

	if (rc == -ENOTSUP)
		rc = item_read(be, fid, mid, kind, &buf, it_r, &modified, e);
	if (rc < 0)
		return rc;
	mfs_spool_put(be->spool, id, buf->data, buf->len);
	g_byte_array_unref(buf);
	table_put(be, folder, fid, *it_r, modified);
	return 0;
}

/* The new `what` `mid` of `folder` as the one item of *items_r (caller
 * owns), read back by item_of: a failure is logged, the item being on
 * the server already.  Returns 0 or -errno with `e` filled. */
static int read_back(struct mfs_backend *be, const char *folder,
		     uint64_t fid, uint64_t mid, const char *what,
		     GPtrArray **items_r, struct mfs_error *e)
{
	struct mfs_item *it = NULL;
	int rc = item_of(be, folder, fid, mid, &it, e);

	if (rc < 0) {
		log_warnx("%s: %s: %s 0x%016" G_GINT64_MODIFIER "X was "
			  "stored but not read back: %s", be->conf.name,
			  folder, what, (guint64)mid,
			  e ? e->msg : g_strerror(-rc));
		return rc;
	}
	*items_r = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_item_free);
	g_ptr_array_add(*items_r, it);
	return 0;
}

/* ---- messages ---- */

static int batch_refused(const char *what, const char *folder,
			 struct mfs_error *e)
{
	return mfs_error_set(e, -ENOTSUP, MFS_ERR_FOLDER, MFS_ERR_FINAL,
			     "%s: %s takes one message at a time", folder,
			     what);
}

static int folder_and_session(struct mfs_backend *be, const char *folder,
			      uint64_t *fid_r, struct mapic_session **s_r,
			      struct mfs_error *e)
{
	int rc;

	if (is_directory(be, folder))
		return directory_refused(folder, e);
	if ((rc = mapic_folder_fid(be, folder, fid_r, e)) < 0)
		return rc;
	return mapic_backend_session(be, s_r, e);
}

/* The MIDs of ids (caller's array of n); -ENOENT with `e` filled for an
 * id that is none of ours. */
static int mids_of(const char *folder, const char *const *ids, size_t n,
		   uint64_t *mids, struct mfs_error *e)
{
	for (size_t i = 0; i < n; i++)
		if (mapic_mid_of(ids[i], &mids[i]) < 0)
			return mfs_error_set(e, -ENOENT, MFS_ERR_ITEM,
					     MFS_ERR_FINAL, "%s: no message "
					     "%s", folder, ids[i]);
	return 0;
}

/* Whether `folder`'s item table holds `id`. */
static bool known(struct mfs_backend *be, const char *folder, uint64_t fid,
		  const char *id)
{
	g_mutex_lock(&be->lock);
	bool yes = g_hash_table_contains(
		mapic_table_get(be, folder, fid)->items, id);
	g_mutex_unlock(&be->lock);
	return yes;
}

/* The message a .vcf or .ics read from `fd` is, with the mailbox's ids
 * for its named properties (made where the mailbox has none yet).
 * Returns 0 with *m_r (caller owns) or -errno with `e` filled. */
static int pim_parse(struct mapic_session *s, const char *folder,
		     enum mfs_folder_kind kind, int fd,
		     struct mapi_message **m_r, struct mfs_error *e)
{
	struct mapic_names *names = NULL;
	g_autofree char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = file_read_head(fd, MAPIC_PIM_MAX + 1, &buf, &len)) < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: reading the new item: %s", folder,
				     g_strerror(-rc));
	if (len > MAPIC_PIM_MAX)
		return mfs_error_set(e, -EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: an item of more than %u bytes",
				     folder, MAPIC_PIM_MAX);
	if ((rc = mapic_names_fetch(s, true, &names, e)) < 0)
		return rc;
	struct mapi_pim_names pn = mapic_names_pim(names);
	rc = kind == MFS_FOLDER_CONTACTS
		? mapi_contact_parse(buf, len, &pn, m_r)
		: mapi_appt_parse(buf, len, &pn, m_r);
	mapic_names_free(&names);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: %s", folder, rc == -EFBIG
				     ? "the item is past the limits of a "
				       "card or an event"
				     : kind == MFS_FOLDER_CONTACTS
				     ? "not a vCard"
				     : "not an iCalendar object with an event");
	return 0;
}

/*
 * A new contact or appointment: the file parsed by the codec and stored
 * as a new message.  The server keeps no change to a stored item, so one
 * written over an existing item (`in->hint` names it) replaces it: the
 * new one is stored first, then the old one removed (a failure there is
 * only logged: the new item is there, the old one shows at the next
 * sync).  The item is that of a download, as for mail.
 */
static int pim_append(struct mfs_backend *be, const char *folder,
		      const struct mfs_append *in, GPtrArray **items_r,
		      struct mfs_error *e)
{
	enum mfs_folder_kind kind = mapic_folder_kind(be, folder);
	struct mapic_session *s = NULL;
	struct mapi_message *m = NULL;
	uint64_t fid, mid = 0, old = 0;
	int rc;

	if ((rc = folder_and_session(be, folder, &fid, &s, e)) < 0 ||
	    (rc = pim_parse(s, folder, kind, in->fd, &m, e)) < 0)
		return rc;
	rc = mapic_message_create(s, fid, m, &mid, e);
	mapi_message_free(m);
	if (rc < 0)
		return rc;
	if (in->hint && mapic_mid_of(in->hint, &old) == 0 && old != mid &&
	    known(be, folder, fid, in->hint)) {
		struct mfs_error re = { 0 };
		g_autofree char *old_id = mapic_item_id(old, kind);
		const char *ids[1] = { old_id };
		if (mapic_messages_remove(s, fid, &old, 1, &re) < 0)
			log_warnx("%s: %s: item %s was replaced by a new one "
				  "but is still there: %s", be->conf.name,
				  folder, old_id, re.msg);
		else
			table_drop(be, folder, fid, ids, 1);
	}
	return read_back(be, folder, fid, mid, "item", items_r, e);
}

int mapic_append(struct mfs_backend *be, const char *folder,
		 const struct mfs_append *in, size_t n, GPtrArray **items_r,
		 struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	struct mapi_message *m = NULL;
	uint64_t fid, mid = 0;
	int rc;

	if (n > 1)
		return batch_refused("a new message", folder, e);
	if (mapic_pim_kind(mapic_folder_kind(be, folder)))
		return pim_append(be, folder, &in[0], items_r, e);
	if ((rc = folder_and_session(be, folder, &fid, &s, e)) < 0 ||
	    (rc = mapic_message_parse_fd(in[0].fd, MAPIC_MIME_MAX, &m,
					 e)) < 0)
		return rc;
	/* a server takes the read and unsent states before the first save
	 * only */
	uint32_t mf = (uint32_t)mapi_props_l(
		&m->props, MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS), 0);
	if (in[0].flags & MFS_FLAG_SEEN)
		mf |= MAPI_MSGFLAG_READ;
	if (in[0].flags & MFS_FLAG_DRAFT)
		mf |= MAPI_MSGFLAG_UNSENT;
	mapi_props_set_l(&m->props, MAPI_TAG_MESSAGE_FLAGS, (int32_t)mf);
	rc = mapic_message_create(s, fid, m, &mid, e);
	mapi_message_free(m);
	if (rc < 0)
		return rc;
	if (in[0].flags & (MFS_FLAG_FLAGGED | MFS_FLAG_REPLIED |
			   MFS_FLAG_PASSED)) {
		uint64_t want = in[0].flags & SERVER_FLAGS;
		int frc = 0;
		struct mfs_error fe = { 0 };
		/* the message is stored: a failure here must not make the
		 * caller store it again; the item says the flags it has */
		if (mapic_flags_set(s, fid, &mid, &want, 1, &frc, &fe) < 0)
			log_warnx("%s: %s: the flags of new message 0x%016"
				  G_GINT64_MODIFIER "X: %s", be->conf.name,
				  folder, (guint64)mid, fe.msg);
	}
	return read_back(be, folder, fid, mid, "message", items_r, e);
}

int mapic_set_flags(struct mfs_backend *be, const char *folder,
		    const char *const *ids, const uint64_t *flags, size_t n,
		    int *rcs, struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	g_autofree uint64_t *mids = g_new0(uint64_t, n);
	uint64_t fid;
	int rc;

	if ((rc = folder_and_session(be, folder, &fid, &s, e)) < 0 ||
	    (rc = mids_of(folder, ids, n, mids, e)) < 0)
		return rc;
	if ((rc = mapic_flags_set(s, fid, mids, flags, n, rcs, e)) < 0)
		return rc;
	g_mutex_lock(&be->lock);
	struct mapic_table *t = mapic_table_get(be, folder, fid);
	for (size_t i = 0; i < n; i++) {
		struct mapic_known *k = g_hash_table_lookup(t->items, ids[i]);
		/* one gone is said by the next sync */
		if (rcs[i] < 0 || !k)
			continue;
		/* as a sync will read them back: D from MSGFLAG_UNSENT,
		 * which only a save before the first can set */
		k->flags = (flags[i] & SERVER_FLAGS) |
			   (k->flags & MFS_FLAG_DRAFT);
		t->dirty = true;
	}
	int src = mapic_table_save(be, folder, t);
	g_mutex_unlock(&be->lock);
	if (src < 0)
		log_warnx("%s: the item table of %s: %s", be->conf.name,
			  folder, g_strerror(-src));
	return rc;
}

int mapic_remove(struct mfs_backend *be, const char *folder,
		 const char *const *ids, size_t n, struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	g_autofree uint64_t *mids = g_new0(uint64_t, n);
	uint64_t fid;
	int rc;

	if ((rc = folder_and_session(be, folder, &fid, &s, e)) < 0 ||
	    (rc = mids_of(folder, ids, n, mids, e)) < 0 ||
	    (rc = mapic_messages_remove(s, fid, mids, n, e)) < 0)
		return rc;
	table_drop(be, folder, fid, ids, n);
	return 0;
}

int mapic_move(struct mfs_backend *be, const char *folder,
	       const char *const *ids, const char *dest,
	       const uint64_t *flags, size_t n, bool move,
	       GPtrArray **items_r, struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	struct mfs_item *it = NULL;
	uint64_t fid, dest_fid, mid, new_mid = 0;
	int rc;

	if (n > 1)
		return batch_refused(move ? "a move" : "a copy", folder, e);
	if ((rc = folder_and_session(be, folder, &fid, &s, e)) < 0 ||
	    (rc = mids_of(folder, ids, n, &mid, e)) < 0)
		return rc;
	if (is_directory(be, dest))
		return directory_refused(dest, e);
	if ((rc = mapic_folder_fid(be, dest, &dest_fid, e)) < 0 ||
	    (rc = mapic_messages_move(s, fid, &mid, 1, dest_fid, !move,
				      &new_mid, e)) < 0)
		return rc;
	if (move)
		table_drop(be, folder, fid, ids, 1);
	if (!new_mid)
		return mfs_error_set(e, -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: message %s was %s but is not found "
				     "in %s", folder, ids[0], move ? "moved"
				     : "copied", dest);
	int frc = 0;
	uint64_t want = flags[0] & SERVER_FLAGS;
	struct mfs_error fe = { 0 };
	/* the message is there: the item says the flags it kept */
	if (mapic_flags_set(s, dest_fid, &new_mid, &want, 1, &frc, &fe) < 0)
		log_warnx("%s: %s: the flags of message 0x%016"
			  G_GINT64_MODIFIER "X: %s", be->conf.name, dest,
			  (guint64)new_mid, fe.msg);
	if ((rc = item_of(be, dest, dest_fid, new_mid, &it, e)) < 0)
		return rc;
	*items_r = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_item_free);
	g_ptr_array_add(*items_r, it);
	return 0;
}

/* ---- folders ---- */

/* The FolderId of the parent of `path` (the IPM subtree for a folder at
 * the top) and the name `path`'s last component shows.  Returns 0 with
 * *name_r (caller owns) or -errno with `e` filled. */
static int parent_of(struct mfs_backend *be, struct mapic_session *s,
		     const char *path, uint64_t *parent_r, char **name_r,
		     struct mfs_error *e)
{
	const char *slash = strrchr(path, '/');
	int depth = 0;
	int rc;

	for (const char *c = path; *c; c++)
		depth += *c == '/';
	if (name_unescape(slash ? slash + 1 : path, name_ctx_at(depth),
			  name_r) < 0)
		return mfs_error_set(e, -EINVAL, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s: not a name a folder can be made "
				     "under", path);
	if (!slash) {
		rc = mapic_session_open(s, e);
		if (rc == 0)
			*parent_r = mapic_session_folder(s,
							 MAPIC_FID_IPM_SUBTREE);
	} else {
		char *parent = g_strndup(path, (size_t)(slash - path));
		rc = mapic_folder_fid(be, parent, parent_r, e);
		g_free(parent);
	}
	if (rc < 0) {
		g_free(*name_r);
		*name_r = NULL;
	}
	return rc;
}

/* Read the folder list again after a change to it; a failure is only
 * logged, the change having been made. */
static void relist(struct mfs_backend *be)
{
	struct mfs_error e = { 0 };

	if (mapic_list_folders(be, NULL, &e) < 0)
		log_warnx("%s: the folder list: %s", be->conf.name, e.msg);
}

int mapic_create_folder(struct mfs_backend *be, const char *path,
			enum mfs_folder_kind kind, struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	g_autofree char *name = NULL;
	uint64_t parent, fid;
	int rc;

	if (in_directory(path))
		return directory_refused(path, e);
	/* mail, contacts and calendar folders are shown (folders.c) */
	if (kind == MFS_FOLDER_NONE)
		kind = MFS_FOLDER_MAIL;
	if (kind != MFS_FOLDER_MAIL && !mapic_pim_kind(kind))
		return mfs_error_set(e, -ENOTSUP, MFS_ERR_FOLDER,
				     MFS_ERR_FINAL, "%s: only mail, contacts "
				     "and calendar folders are made on a mapi "
				     "account", path);
	if ((rc = mapic_backend_session(be, &s, e)) < 0 ||
	    (rc = parent_of(be, s, path, &parent, &name, e)) < 0 ||
	    (rc = mapic_folder_create(s, parent, name, kind, &fid, e)) < 0)
		return rc;
	relist(be);
	return 0;
}

/* The item tables of `from` and the folders below it, now under `to`. */
static void tables_rename(struct mfs_backend *be, const char *from,
			  const char *to)
{
	size_t n = strlen(from);
	GHashTableIter it;
	gpointer key, val;
	GPtrArray *moved = g_ptr_array_new();

	g_mutex_lock(&be->lock);
	g_hash_table_iter_init(&it, be->tables);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		const char *p = key;
		if (strncmp(p, from, n) || (p[n] && p[n] != '/'))
			continue;
		g_ptr_array_add(moved, g_strconcat(to, p + n, NULL));
		g_ptr_array_add(moved, val);
		g_hash_table_iter_steal(&it);
		g_free(key);
	}
	for (guint i = 0; i < moved->len; i += 2) {
		struct mapic_table *t = moved->pdata[i + 1];
		t->dirty = true;
		g_hash_table_replace(be->tables, moved->pdata[i], t);
		if (mapic_table_save(be, moved->pdata[i], t) < 0)
			log_warnx("%s: the item table of %s not saved",
				  be->conf.name, (char *)moved->pdata[i]);
	}
	g_mutex_unlock(&be->lock);
	g_ptr_array_unref(moved);
}

int mapic_rename_folder(struct mfs_backend *be, const char *from,
			const char *to, struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	g_autofree char *old_name = NULL, *name = NULL;
	uint64_t fid, parent, dest_parent;
	int rc;

	if (in_directory(from) || in_directory(to))
		return directory_refused(in_directory(from) ? from : to, e);
	if ((rc = mapic_backend_session(be, &s, e)) < 0 ||
	    (rc = mapic_folder_fid(be, from, &fid, e)) < 0 ||
	    (rc = parent_of(be, s, from, &parent, &old_name, e)) < 0 ||
	    (rc = parent_of(be, s, to, &dest_parent, &name, e)) < 0 ||
	    (rc = mapic_folder_move(s, parent, fid, dest_parent, name,
				    e)) < 0)
		return rc;
	tables_rename(be, from, to);
	relist(be);
	return 0;
}

int mapic_delete_folder(struct mfs_backend *be, const char *path,
			struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	g_autofree char *name = NULL;
	uint64_t fid, parent;
	int rc;

	if (in_directory(path))
		return directory_refused(path, e);
	if ((rc = mapic_backend_session(be, &s, e)) < 0 ||
	    (rc = mapic_folder_fid(be, path, &fid, e)) < 0 ||
	    (rc = parent_of(be, s, path, &parent, &name, e)) < 0 ||
	    (rc = mapic_folder_delete(s, parent, fid, e)) < 0)
		return rc;
	g_mutex_lock(&be->lock);
	g_hash_table_remove(be->tables, path);
	g_mutex_unlock(&be->lock);
	relist(be);
	return 0;
}

/* ---- the watcher ---- */

/* Every mail folder the map knows, and the list itself. */
static void report_all(struct mfs_backend *be)
{
	GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer key;

	be->watch_fn(NULL, be->watch_data);
	g_mutex_lock(&be->lock);
	g_hash_table_iter_init(&it, be->folders);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_ptr_array_add(paths, g_strdup(key));
	g_mutex_unlock(&be->lock);
	for (guint i = 0; i < paths->len; i++)
		be->watch_fn(paths->pdata[i], be->watch_data);
	g_ptr_array_unref(paths);
}

/* watch.c's report: a FolderId made the path the mount shows. */
static void on_change(uint64_t fid, bool hierarchy, void *data)
{
	struct mfs_backend *be = data;
	char *path = NULL;
	GHashTableIter it;
	gpointer val;

	if (fid == 0) {
		report_all(be);
		return;
	}
	if (hierarchy) {
		be->watch_fn(NULL, be->watch_data);
		return;
	}
	g_mutex_lock(&be->lock);
	g_hash_table_iter_init(&it, be->folders);
	while (!path && g_hash_table_iter_next(&it, NULL, &val)) {
		const struct mapic_folder *f = val;
		if (f->fid == fid)
			path = g_strdup(f->path);
	}
	g_mutex_unlock(&be->lock);
	/* a folder not shown (the Outbox, a task list) changes nothing of
	 * the mount's */
	if (path)
		be->watch_fn(path, be->watch_data);
	g_free(path);
}

int mapic_watch(struct mfs_backend *be, mfs_change_fn fn, void *data)
{
	struct mapic_session *s = NULL;
	struct mfs_error e = { 0 };
	int rc;

	if (be->watch)
		return -EALREADY;
	if ((rc = mapic_backend_session(be, &s, &e)) < 0) {
		log_warnx("%s: no watcher: %s", be->conf.name, e.msg);
		return rc;
	}
	be->watch_fn = fn;
	be->watch_data = data;
	be->watch = mapic_watch_start(s, on_change, be, be->poll_interval);
	return 0;
}
