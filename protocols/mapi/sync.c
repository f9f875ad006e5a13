/*
 * sync.c - one folder's changes by an ICS contents download: the
 * download configured on the folder, the state of the last one uploaded,
 * the FastTransfer stream taken buffer by buffer through the reader and
 * builder of wire/mapi-fx.h; each new or changed message rendered as
 * MIME (wire/mapi-mail.h), or in a contacts or calendar folder as a
 * vCard or an iCalendar object (pim.c, with the names of the named
 * properties the stream carries), into the spool, deletions reported
 * vanished, read-state changes reported as flag changes.  And the
 * folders' item tables, which remember what each message was reported
 * as.
 *
 * Specs: [MS-OXCFXICS] 2.2.3.2.1.1 (SynchronizationType, SendOptions,
 * SynchronizationFlags: Unicode, ReadState, Normal, BestBody;
 * SynchronizationExtraFlags), 3.3.4.2 (the state: MetaTagIdsetGiven,
 * MetaTagCnsetSeen, MetaTagCnsetSeenFAI, MetaTagCnsetRead, uploaded by
 * RopSynchronizationUploadStateStreamBegin/Continue/End), 2.2.4.3
 * (contentsSync); [MS-OXCROPS] 2.2.12.3 (RopFastTransferSourceGetBuffer).
 *
 * The state handed to the cache is "mapi1:<FolderId hex>:<base64>", the
 * base64 of the four state properties, each a 32-bit length and its
 * bytes; a state of another folder that took the path starts over.  A
 * download from no state is a full result.
 */
#include "mapic-private.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fileutil.h"
#include "log.h"
#include "wire/mapi-fx.h"
#include "wire/mapi-idset.h"
#include "wire/mapi-mail.h"
#include "wire/mapi-tags.h"

/* The most bytes of state properties taken back from the cache. */
#define STATE_MAX (16u << 20)
/* A piece of a state upload (RopSynchronizationUploadStateStreamContinue). */
#define UPLOAD_CHUNK 16000u
/* GetBuffer answers in a row that carry nothing before giving up. */
#define EMPTY_BUFFERS_MAX 64
/* PidTagLastVerbExecuted, [MS-OXOMSG] 2.2.1.33. */
#define VERB_REPLY_TO_SENDER 102
#define VERB_REPLY_TO_ALL 103
#define VERB_FORWARD 104
#define FLAG_STATUS_FLAGGED 2

static const uint32_t state_tags[4] = {
	ROP_META_IDSET_GIVEN, ROP_META_CNSET_SEEN, ROP_META_CNSET_SEEN_FAI,
	ROP_META_CNSET_READ,
};
/* The same, as the builder hands them out. */
static const uint32_t state_out[4] = {
	MAPI_FX_META_IDSET_GIVEN, MAPI_FX_META_CNSET_SEEN,
	MAPI_FX_META_CNSET_SEEN_FAI, MAPI_FX_META_CNSET_READ,
};

uint64_t mapic_flags_of(const struct mapi_props *p)
{
	return mapic_flags_from(
		(uint32_t)mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS), 0),
		mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_FLAG_STATUS), 0),
		mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_LAST_VERB_EXECUTED), 0));
}

uint64_t mapic_flags_from(uint32_t mf, int32_t flag_status, int32_t verb)
{
	uint64_t flags = 0;

	if (mf & MAPI_MSGFLAG_READ)
		flags |= MFS_FLAG_SEEN;
	if (mf & MAPI_MSGFLAG_UNSENT)
		flags |= MFS_FLAG_DRAFT;
	if (flag_status == FLAG_STATUS_FLAGGED)
		flags |= MFS_FLAG_FLAGGED;
	if (verb == VERB_REPLY_TO_SENDER || verb == VERB_REPLY_TO_ALL)
		flags |= MFS_FLAG_REPLIED;
	else if (verb == VERB_FORWARD)
		flags |= MFS_FLAG_PASSED;
	return flags;
}

/* ---- item tables ---- */

void mapic_known_free(gpointer p)
{
	struct mapic_known *k = p;

	g_free(k->message_id);
	g_free(k);
}

void mapic_table_free(gpointer p)
{
	struct mapic_table *t = p;

	g_hash_table_unref(t->items);
	g_free(t);
}

static char *table_path(struct mfs_backend *be, const char *path)
{
	g_autofree char *name = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							      path, -1);

	return g_build_filename(be->work_dir, "mapi-tables", name, NULL);
}

/* Lines: "F\t<fid>" first, then "<id>\t<size>\t<date>\t<flags>\t<msgid>
 * \t<modified>" (the Message-ID escaped, "\001" for none). */
static void load(struct mfs_backend *be, const char *path,
		 struct mapic_table *t)
{
	g_autofree char *file = table_path(be, path);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(file, &text, NULL, NULL))
		return;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], "\t", -1);
		if (i == 0) {
			if (g_strv_length(f) != 2 || strcmp(f[0], "F"))
				return;
			t->fid = g_ascii_strtoull(f[1], NULL, 16);
			continue;
		}
		uint64_t mid;
		if (g_strv_length(f) != 6 || mapic_mid_of(f[0], &mid) < 0)
			continue;
		struct mapic_known *k = g_new0(struct mapic_known, 1);
		k->size = g_ascii_strtoull(f[1], NULL, 10);
		k->date = g_ascii_strtoll(f[2], NULL, 10);
		k->flags = g_ascii_strtoull(f[3], NULL, 10);
		k->message_id = strcmp(f[4], "\\001") ? g_strcompress(f[4])
						       : NULL;
		k->modified = g_ascii_strtoull(f[5], NULL, 10);
		g_hash_table_replace(t->items, g_strdup(f[0]), k);
	}
}

struct mapic_table *mapic_table_get(struct mfs_backend *be, const char *path,
				    uint64_t fid)
{
	struct mapic_table *t = g_hash_table_lookup(be->tables, path);

	if (!t) {
		t = g_new0(struct mapic_table, 1);
		t->items = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, mapic_known_free);
		load(be, path, t);
		g_hash_table_replace(be->tables, g_strdup(path), t);
	}
	if (t->fid != fid) {
		/* another folder under this path now: nothing carries over */
		g_hash_table_remove_all(t->items);
		t->fid = fid;
		t->dirty = true;
	}
	return t;
}

struct mapic_table *mapic_table_hold(struct mfs_backend *be, const char *path,
				     uint64_t fid)
{
	struct mapic_table *t = mapic_table_get(be, path, fid);

	t->refs++;
	return t;
}

void mapic_table_release(struct mapic_table *t)
{
	if (--t->refs == 0 && t->forgotten)
		mapic_table_free(t);
}

void mapic_table_forget(gpointer p)
{
	struct mapic_table *t = p;

	t->forgotten = true;
	if (!t->refs)
		mapic_table_free(t);
}

int mapic_table_save(struct mfs_backend *be, const char *path,
		     struct mapic_table *t)
{
	g_autofree char *file = table_path(be, path);
	g_autofree char *dir = g_path_get_dirname(file);
	GString *out;
	GHashTableIter it;
	gpointer key, val;
	int rc;

	if (!t->dirty)
		return 0;
	if ((rc = file_mkdir_p(dir, 0700)) < 0)
		return rc;
	out = g_string_new(NULL);
	g_string_append_printf(out, "F\t%016" PRIx64 "\n", t->fid);
	g_hash_table_iter_init(&it, t->items);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		const struct mapic_known *k = val;
		g_autofree char *mid = k->message_id
			? g_strescape(k->message_id, NULL) : NULL;
		g_string_append_printf(out, "%s\t%" PRIu64 "\t%" PRId64 "\t%"
				       PRIu64 "\t%s\t%" PRIu64 "\n",
				       (const char *)key, k->size, k->date,
				       k->flags, mid ? mid : "\\001",
				       k->modified);
	}
	GError *err = NULL;
	/* a temporary file renamed over the old one, so that a crash leaves
	 * one table or the other */
	if (g_file_set_contents_full(file, out->str, (gssize)out->len,
				     G_FILE_SET_CONTENTS_CONSISTENT, 0600,
				     &err)) {
		t->dirty = false;
	} else {
		rc = -EIO;
		g_error_free(err);
	}
	g_string_free(out, TRUE);
	return rc;
}

/* ---- the state string ---- */

struct state {
	struct mapi_bin v[4];		/* owned */
};

static void state_clear(struct state *st)
{
	for (int i = 0; i < 4; i++)
		g_free(st->v[i].data);
	memset(st, 0, sizeof(*st));
}

/* The state the cache keeps for FolderId `fid`; false (st empty) when it
 * is none, or another folder's. */
static bool state_parse(const char *s, uint64_t fid, struct state *st)
{
	g_autofree char *want = g_strdup_printf("mapi1:%016" PRIx64 ":", fid);
	gsize len = 0;

	memset(st, 0, sizeof(*st));
	if (!s || !g_str_has_prefix(s, want) ||
	    strlen(s + strlen(want)) > STATE_MAX * 4 / 3 + 4)
		return false;
	g_autofree guchar *raw = g_base64_decode(s + strlen(want), &len);
	size_t at = 0;
	for (int i = 0; i < 4; i++) {
		if (len - at < 4)
			goto bad;
		uint32_t n = (uint32_t)raw[at] | (uint32_t)raw[at + 1] << 8 |
			     (uint32_t)raw[at + 2] << 16 |
			     (uint32_t)raw[at + 3] << 24;
		at += 4;
		if (n > len - at)
			goto bad;
		st->v[i].len = n;
		st->v[i].data = n ? g_memdup2(raw + at, n) : NULL;
		at += n;
	}
	if (at == len)
		return true;
bad:
	state_clear(st);
	return false;
}

static char *state_format(uint64_t fid, const struct mapi_props *p)
{
	GByteArray *b = g_byte_array_new();

	for (int i = 0; i < 4; i++) {
		const struct mapi_value *v = mapi_props_get_tag(p, state_out[i]);
		uint32_t n = v ? v->v.bin.len : 0;
		uint8_t le[4] = { n, n >> 8, n >> 16, n >> 24 };
		g_byte_array_append(b, le, 4);
		if (n)
			g_byte_array_append(b, v->v.bin.data, n);
	}
	g_autofree char *b64 = g_base64_encode(b->data, b->len);
	g_byte_array_unref(b);
	return g_strdup_printf("mapi1:%016" PRIx64 ":%s", fid, b64);
}

/* ---- the download ---- */

struct run {
	struct mfs_backend *be;
	const char *folder;
	uint64_t fid;
	struct mapic_table *t;		/* borrowed; be->lock */
	struct mfs_sync_result *res;
	GHashTable *changed;		/* id -> struct mfs_item *, borrowed
					   from res->changed */
	struct mapi_fx_reader *rd;
	struct mapi_fx_sync *fx;
	enum mfs_folder_kind kind;	/* mail, contacts or calendar */
	struct mapic_names *names;	/* owned; the download's named
					   properties, or the mailbox's for
					   the contents table */
	struct mapic_fx_tap tap;	/* the reader's callback's */
	bool full;
	const char *want;		/* mapic_sync_one: the id sought */
	GByteArray *wanted;		/* its bytes, once met */
	struct mfs_item *wanted_item;	/* and the item it is */
};

/* An item of a contacts or calendar folder that cannot be shown: left
 * out with a line in the log, and gone from the mount if it was there.
 * The folder's sync goes on. */
static void left_out(struct run *r, const char *id, const char *why)
{
	log_warnx("%s: %s: item %s left out: %s", r->be->conf.name,
		  r->folder, id, why);
	if (r->want)
		return;
	g_mutex_lock(&r->be->lock);
	if (g_hash_table_remove(r->t->items, id)) {
		r->t->dirty = true;
		mfs_spool_drop(r->be->spool, id);
		if (!r->full)
			g_ptr_array_add(r->res->vanished, g_strdup(id));
	}
	g_mutex_unlock(&r->be->lock);
	struct mfs_item *old = g_hash_table_lookup(r->changed, id);
	if (old) {
		g_ptr_array_remove(r->res->changed, old);
		g_hash_table_remove(r->changed, id);
	}
}

/* The bytes of change `c` in *out_r and its date: a message's MIME, a
 * contact's vCard, an appointment's iCalendar object.  Returns 0, or
 * -errno for a change that is not shown (said in the log). */
static int render(struct run *r, const struct mapi_fx_change *c,
		  const char *id, GByteArray **out_r, int64_t *date_r)
{
	const struct mapi_props *p = &c->msg->props;
	const struct mapi_value *v;
	GByteArray *out = g_byte_array_new();
	const char *why = NULL;
	int rc;

	if (mapic_pim_kind(r->kind)) {
		struct mapi_pim_names names = mapic_names_pim(r->names);
		rc = mapic_pim_render(r->kind, c->msg, &names, out, &why);
		/* a contact or an appointment has no delivery: its file
		 * dates from its last change */
		*date_r = c->last_modified ? mapi_ft_to_unix(c->last_modified)
					   : 0;
	} else {
		rc = mapi_mail_render(c->msg, out);
		if ((v = mapi_props_get_tag(p, MAPI_TAG_MESSAGE_DELIVERY_TIME)))
			*date_r = mapi_ft_to_unix(v->v.ft);
		else if ((v = mapi_props_get_tag(p,
						 MAPI_TAG_CLIENT_SUBMIT_TIME)))
			*date_r = mapi_ft_to_unix(v->v.ft);
		else
			*date_r = c->last_modified
				? mapi_ft_to_unix(c->last_modified) : 0;
	}
	if (rc < 0) {
		g_byte_array_unref(out);
		if (why)
			left_out(r, id, why);
		return rc;
	}
	*out_r = out;
	return 0;
}

/* The item a change of the download is, rendered into the spool. */
static void take_change(struct run *r, struct mapi_fx_change *c)
{
	GByteArray *out = NULL;
	int64_t date = 0;

	if (c->associated || !c->msg || !c->mid)
		return;
	const struct mapi_props *p = &c->msg->props;
	char *id = mapic_item_id(c->mid, r->kind);
	if (render(r, c, id, &out, &date) < 0) {
		g_free(id);
		return;
	}
	/* the mount's flags are a message's; a contact has none */
	uint64_t flags = mapic_pim_kind(r->kind) ? 0 : mapic_flags_of(p);
	const char *msgid = mapic_pim_kind(r->kind) ? NULL : mapi_props_str(
		p, MAPI_TAG_ID(MAPI_TAG_INTERNET_MESSAGE_ID));
	if (r->want) {
		/* a download for one message: the others go to the spool,
		 * for the reads that are likely to follow */
		if (!strcmp(id, r->want) && !r->wanted) {
			r->wanted = g_byte_array_ref(out);
			r->wanted_item = mfs_item_new(id, out->len, date,
						      flags);
			r->wanted_item->message_id = g_strdup(msgid);
		} else {
			mfs_spool_put(r->be->spool, id, out->data, out->len);
		}
		g_byte_array_unref(out);
		g_free(id);
		return;
	}
	struct mfs_item *it = mfs_item_new(id, out->len, date, flags);
	it->message_id = g_strdup(msgid);
	mfs_spool_put(r->be->spool, id, out->data, out->len);
	g_byte_array_unref(out);
	struct mapic_known *k = g_new0(struct mapic_known, 1);
	k->size = it->size;
	k->date = it->date;
	k->flags = it->flags;
	k->message_id = g_strdup(it->message_id);
	g_mutex_lock(&r->be->lock);
	g_hash_table_replace(r->t->items, g_strdup(id), k);
	r->t->dirty = true;
	g_mutex_unlock(&r->be->lock);
	struct mfs_item *old = g_hash_table_lookup(r->changed, id);
	if (old)
		g_ptr_array_remove(r->res->changed, old);
	g_ptr_array_add(r->res->changed, it);
	g_hash_table_replace(r->changed, id, it);
}

static void take_done(struct run *r)
{
	struct mapi_fx_change *c;

	while ((c = mapi_fx_sync_take_done(r->fx))) {
		take_change(r, c);
		mapi_fx_change_free(&c);
	}
}

/* Open the folder and configure the download: the synchronization
 * context's handle in *ctx_r.  Returns 0 or -errno with `e` filled;
 * -ENOTSUP when the server refuses ICS on the folder. */
static int configure(struct run *r, struct mapic_exec *x, uint32_t *ctx_r,
		     struct mfs_error *e)
{
	struct rop_open_folder_resp of;
	struct rop_sync_resp sr;
	int rc;

	mapic_exec_begin(x);
	GByteArray *b = mapic_exec_buf(x);
	uint8_t folder = mapic_exec_out(x), ctx = mapic_exec_out(x);
	rop_open_folder_req_write(b, &(struct rop_open_folder_req){
		.input_handle_index = mapic_exec_logon(x),
		.output_handle_index = folder, .folder_id = r->fid });
	rop_sync_configure_req_write(b, &(struct rop_sync_configure_req){
		.input_handle_index = folder, .output_handle_index = ctx,
		.sync_type = ROP_SYNC_CONTENTS,
		.send_options = ROP_SEND_UNICODE,
		.sync_flags = ROP_SYNC_F_UNICODE | ROP_SYNC_F_READ_STATE |
			      ROP_SYNC_F_NORMAL | ROP_SYNC_F_NO_FOREIGN_IDS |
			      ROP_SYNC_F_BEST_BODY,
		.extra_flags = ROP_SYNC_X_EID | ROP_SYNC_X_MESSAGE_SIZE |
			       ROP_SYNC_X_CN | ROP_SYNC_X_ORDER_BY_DELIVERY });
	if ((rc = mapic_exec_run(x, e)) < 0)
		return rc;
	if ((rc = rop_open_folder_resp_read(mapic_exec_rd(x), &of)) < 0)
		return mapic_exec_bad(x, "OpenFolder", rc, e);
	uint32_t rv = of.head.rv;
	rop_open_folder_resp_clear(&of);
	if (rv)
		return mapic_exec_failed(x, "OpenFolder", rv, MFS_ERR_FOLDER,
					 e);
	if ((rc = rop_sync_configure_resp_read(mapic_exec_rd(x), &sr)) < 0)
		return mapic_exec_bad(x, "SynchronizationConfigure", rc, e);
	if (sr.head.rv) {
		mapic_exec_failed(x, "SynchronizationConfigure", sr.head.rv,
				  MFS_ERR_FOLDER, e);
		return -ENOTSUP;
	}
	*ctx_r = mapic_exec_handle(x, ctx);
	return mapic_exec_end(x, e);
}

/* One ROP of a state upload, alone in an Execute: `kind` 0 Begin, 1
 * Continue, 2 End. */
static int upload_rop(struct mapic_exec *x, uint32_t ctx, int kind,
		      uint32_t tag, const uint8_t *data, uint32_t len,
		      struct mfs_error *e)
{
	static const char *const what[] = {
		"SynchronizationUploadStateStreamBegin",
		"SynchronizationUploadStateStreamContinue",
		"SynchronizationUploadStateStreamEnd",
	};
	struct rop_sync_resp sr;
	int rc;

	mapic_exec_begin(x);
	GByteArray *b = mapic_exec_buf(x);
	uint8_t in = mapic_exec_in(x, ctx);
	if (kind == 0)
		rop_sync_upload_begin_req_write(b,
			&(struct rop_sync_upload_begin_req){
				.input_handle_index = in, .state_prop = tag,
				.size = len });
	else if (kind == 1)
		rop_sync_upload_continue_req_write(b,
			&(struct rop_sync_upload_continue_req){
				.input_handle_index = in, .len = len,
				.data = data });
	else
		rop_sync_upload_end_req_write(b,
			&(struct rop_sync_upload_end_req){
				.input_handle_index = in });
	if ((rc = mapic_exec_run(x, e)) < 0)
		return rc;
	rc = kind == 0 ? rop_sync_upload_begin_resp_read(mapic_exec_rd(x), &sr)
	     : kind == 1 ? rop_sync_upload_continue_resp_read(mapic_exec_rd(x),
							      &sr)
	     : rop_sync_upload_end_resp_read(mapic_exec_rd(x), &sr);
	if (rc < 0)
		return mapic_exec_bad(x, what[kind], rc, e);
	if (sr.head.rv) {
		mapic_exec_failed(x, what[kind], sr.head.rv, MFS_ERR_FOLDER, e);
		return -ENOTSUP;
	}
	return mapic_exec_end(x, e);
}

/* Upload the four state properties (empty ones for a download from no
 * state, as the server wants all four before the first buffer). */
static int upload_state(struct mapic_exec *x, uint32_t ctx,
			const struct state *st, struct mfs_error *e)
{
	int rc;

	for (int i = 0; i < 4; i++) {
		const struct mapi_bin *v = &st->v[i];
		if ((rc = upload_rop(x, ctx, 0, state_tags[i], NULL, v->len,
				     e)) < 0)
			return rc;
		for (uint32_t at = 0; at < v->len; at += UPLOAD_CHUNK) {
			uint32_t n = MIN(UPLOAD_CHUNK, v->len - at);
			if ((rc = upload_rop(x, ctx, 1, 0, v->data + at, n,
					     e)) < 0)
				return rc;
		}
		if ((rc = upload_rop(x, ctx, 2, 0, NULL, 0, e)) < 0)
			return rc;
	}
	return 0;
}

/* Fill `e` for a stream the reader or builder refused. */
static int bad_stream(struct run *r, int rc, struct mfs_error *e)
{
	return mfs_error_set(e, rc == -ENOMEM ? rc : -EPROTO, MFS_ERR_FOLDER,
			     MFS_ERR_TRANSIENT, "%s: the server's "
			     "synchronization stream is malformed at byte %"
			     PRIu64 " (%s)", r->folder,
			     mapi_fx_reader_offset(r->rd), g_strerror(-rc));
}

/* RopFastTransferSourceGetBuffer until the stream is done, each buffer
 * fed to the reader and each complete change taken. */
static int download(struct run *r, struct mapic_exec *x, uint32_t ctx,
		    struct mfs_error *e)
{
	unsigned empty = 0;
	int rc;

	for (;;) {
		struct rop_ft_get_buffer_resp gb;

		mapic_exec_begin(x);
		rop_ft_get_buffer_req_write(mapic_exec_buf(x),
			&(struct rop_ft_get_buffer_req){
				.input_handle_index = mapic_exec_in(x, ctx),
				.buffer_size = ROP_FT_USE_MAX,
				.max_buffer_size = 0xFFFF });
		if ((rc = mapic_exec_run(x, e)) < 0)
			return rc;
		rc = rop_ft_get_buffer_resp_read(mapic_exec_rd(x), &gb);
		if (rc < 0)
			return mapic_exec_bad(x, "FastTransferSourceGetBuffer",
					      rc, e);
		if (gb.head.rv == ROP_E_SERVER_BUSY) {
			g_usleep(MIN(gb.backoff_ms, 5000u) * 1000ul);
			if ((rc = mapic_exec_end(x, e)) < 0)
				return rc;
			if (++empty > EMPTY_BUFFERS_MAX)
				break;
			continue;
		}
		if (gb.head.rv || gb.status == ROP_FT_ERROR) {
			rc = mapic_exec_failed(x, "FastTransferSourceGetBuffer",
					       gb.head.rv ? gb.head.rv
							  : 0x80004005U,
					       MFS_ERR_FOLDER, e);
			/* a server may take the download's configuration
			 * and refuse it at its first buffer: the same as a
			 * refused configuration */
			return mapi_fx_reader_offset(r->rd) == 0 ? -ENOTSUP
								  : rc;
		}
		if ((rc = mapi_fx_reader_feed(r->rd, gb.buf, gb.len)) < 0)
			return bad_stream(r, rc, e);
		take_done(r);
		empty = gb.len ? 0 : empty + 1;
		bool done = gb.status == ROP_FT_DONE;
		if ((rc = mapic_exec_end(x, e)) < 0)
			return rc;
		if (done)
			return 0;
		if (empty > EMPTY_BUFFERS_MAX)
			break;
	}
	return mfs_error_set(e, -EPROTO, MFS_ERR_FOLDER, MFS_ERR_TRANSIENT,
			     "%s: the server's synchronization stream gives "
			     "nothing more yet does not end", r->folder);
}

/* Known messages in one of the REPLID-based sets of `p` under `tags`:
 * gone, or (read >= 0) their read state changed to `read`. */
static void apply_sets(struct run *r, const struct mapi_props *p,
		       const uint32_t *tags, size_t n, int read)
{
	for (size_t i = 0; i < n; i++) {
		const struct mapi_value *v = mapi_props_get_tag(p, tags[i]);
		struct mapi_idset set;
		GHashTableIter it;
		gpointer key, val;

		mapi_idset_init(&set, false);
		if (!v || mapi_idset_decode(&set, v->v.bin.data, v->v.bin.len,
					    false) < 0) {
			mapi_idset_clear(&set);
			continue;
		}
		g_mutex_lock(&r->be->lock);
		g_hash_table_iter_init(&it, r->t->items);
		while (g_hash_table_iter_next(&it, &key, &val)) {
			struct mapic_known *k = val;
			uint64_t mid;
			if (mapic_mid_of(key, &mid) < 0 ||
			    !mapi_idset_contains(&set, mid, NULL) ||
			    g_hash_table_contains(r->changed, key))
				continue;
			if (read < 0) {
				mfs_spool_drop(r->be->spool, key);
				g_ptr_array_add(r->res->vanished,
						g_strdup(key));
				g_hash_table_iter_remove(&it);
				r->t->dirty = true;
				continue;
			}
			k->flags = read ? k->flags | MFS_FLAG_SEEN
					: k->flags & ~MFS_FLAG_SEEN;
			r->t->dirty = true;
			struct mfs_item *item = mfs_item_new(key, k->size,
							     k->date, k->flags);
			item->message_id = g_strdup(k->message_id);
			g_ptr_array_add(r->res->changed, item);
		}
		g_mutex_unlock(&r->be->lock);
		mapi_idset_clear(&set);
	}
}

static void finish_result(struct run *r)
{
	static const uint32_t gone[] = { MAPI_FX_META_IDSET_DELETED,
					 MAPI_FX_META_IDSET_NO_LONGER,
					 MAPI_FX_META_IDSET_EXPIRED };
	static const uint32_t read[] = { MAPI_FX_META_IDSET_READ };
	static const uint32_t unread[] = { MAPI_FX_META_IDSET_UNREAD };

	if (r->full) {
		/* what the table knew and the download did not give is gone */
		g_mutex_lock(&r->be->lock);
		GHashTableIter it;
		gpointer key;
		g_hash_table_iter_init(&it, r->t->items);
		while (g_hash_table_iter_next(&it, &key, NULL)) {
			if (g_hash_table_contains(r->changed, key))
				continue;
			mfs_spool_drop(r->be->spool, key);
			g_hash_table_iter_remove(&it);
			r->t->dirty = true;
		}
		g_mutex_unlock(&r->be->lock);
		r->res->full = true;
		return;
	}
	apply_sets(r, mapi_fx_sync_deletions(r->fx), gone, G_N_ELEMENTS(gone),
		   -1);
	/* a contact's read state is nothing the mount shows */
	if (mapic_pim_kind(r->kind))
		return;
	apply_sets(r, mapi_fx_sync_read_changes(r->fx), read, 1, 1);
	apply_sets(r, mapi_fx_sync_read_changes(r->fx), unread, 1, 0);
}

/* The whole download on an open session.  Returns 0 or -errno. */
static int run_ics(struct run *r, struct mapic_session *s,
		   const struct state *st, struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(s);
	uint32_t ctx = 0;
	int rc;

	if ((rc = configure(r, x, &ctx, e)) < 0 ||
	    (rc = upload_state(x, ctx, st, e)) < 0 ||
	    (rc = download(r, x, ctx, e)) < 0)
		goto out;
	if ((rc = mapi_fx_reader_finish(r->rd)) < 0 ||
	    (rc = mapi_fx_sync_finish(r->fx)) < 0) {
		rc = bad_stream(r, rc, e);
		goto out;
	}
	take_done(r);
	/* what is left is complete too, the stream having ended */
	for (size_t i = 0; i < mapi_fx_sync_n_changes(r->fx); i++)
		take_change(r, mapi_fx_sync_change(r->fx, i));
	finish_result(r);
	r->res->state = state_format(r->fid, mapi_fx_sync_state(r->fx));
out:
	mapic_exec_free(&x);
	return rc;
}

/* ---- the contents table, where ICS is refused ---- */

/* One row of the contents table as an item: what the table knows of it
 * when its modification time is the same, else the message read and
 * rendered into the spool.  Returns 0 (*it_r NULL for a message gone
 * meanwhile) or -errno. */
static int table_item(struct run *r, struct mapic_session *s,
		      const struct mapic_content_row *row,
		      struct mfs_item **it_r, struct mfs_error *e)
{
	g_autofree char *id = mapic_item_id(row->mid, r->kind);
	bool pim = mapic_pim_kind(r->kind);
	uint64_t flags = pim ? 0 : mapic_flags_from(row->flags,
						    row->flag_status,
						    row->last_verb);
	struct mapic_known *k;
	GByteArray *buf = NULL;
	int rc;

	*it_r = NULL;
	g_mutex_lock(&r->be->lock);
	k = g_hash_table_lookup(r->t->items, id);
	if (k && row->modified && k->modified == row->modified) {
		k->flags = flags;
		r->t->dirty = true;
		*it_r = mfs_item_new(id, k->size, k->date, flags);
		(*it_r)->message_id = g_strdup(k->message_id);
	}
	g_mutex_unlock(&r->be->lock);
	if (*it_r)
		return 0;
	if (pim && !r->names &&
	    (rc = mapic_names_fetch(s, false, &r->names, e)) < 0)
		return rc;
	rc = mapic_read_rendered(s, r->fid, row->mid, r->kind, r->names, &buf,
				 NULL, e);
	if (rc == -ENOENT)
		return 0;
	if (pim && (rc == -ENOTSUP || rc == -EINVAL)) {
		/* one item that cannot be shown does not fail its folder */
		log_warnx("%s: %s: item %s left out: %s", r->be->conf.name,
			  r->folder, id, e ? e->msg : g_strerror(-rc));
		if (e)
			memset(e, 0, sizeof(*e));
		return 0;
	}
	if (rc < 0)
		return rc;
	mfs_spool_put(r->be->spool, id, buf->data, buf->len);
	k = g_new0(struct mapic_known, 1);
	k->modified = row->modified;
	k->size = buf->len;
	k->date = mapi_ft_to_unix(row->delivered && !pim ? row->delivered
							: row->modified);
	k->flags = flags;
	k->message_id = pim ? NULL : g_strdup(row->message_id);
	g_byte_array_unref(buf);
	*it_r = mfs_item_new(id, k->size, k->date, k->flags);
	(*it_r)->message_id = g_strdup(k->message_id);
	g_mutex_lock(&r->be->lock);
	g_hash_table_replace(r->t->items, g_strdup(id), k);
	r->t->dirty = true;
	g_mutex_unlock(&r->be->lock);
	return 0;
}

/* The folder's whole content from its contents table ([MS-OXCTABL]),
 * for a server that refuses ICS on it: a full result, each message new
 * or changed since the table last saw it read by OpenMessage. */
static int run_table(struct run *r, struct mapic_session *s,
		     struct mfs_error *e)
{
	GArray *rows = NULL;
	int rc = mapic_contents_list(s, r->fid, &rows, e);

	for (guint i = 0; rc == 0 && i < rows->len; i++) {
		const struct mapic_content_row *row =
			&g_array_index(rows, struct mapic_content_row, i);
		struct mfs_item *it = NULL;
		if ((rc = table_item(r, s, row, &it, e)) < 0 || !it)
			continue;
		g_ptr_array_add(r->res->changed, it);
		g_hash_table_replace(r->changed, g_strdup(it->id), it);
	}
	if (rows)
		g_array_unref(rows);
	if (rc < 0)
		return rc;
	r->full = true;
	finish_result(r);
	return 0;
}

/* The reader and builder of a download, the names it carries noted. */
static void reader_new(struct run *r)
{
	r->fx = mapi_fx_sync_new();
	r->names = mapic_names_new();
	r->tap = (struct mapic_fx_tap){ .names = r->names, .fx = r->fx };
	r->rd = mapi_fx_reader_new(NULL, mapic_fx_tap_event, &r->tap);
}

static void reader_free(struct run *r)
{
	mapi_fx_reader_free(&r->rd);
	mapi_fx_sync_free(&r->fx);
	mapic_names_free(&r->names);
}

int mapic_sync(struct mfs_backend *be, const char *folder, const char *state,
	       struct mfs_sync_result **res_r, struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	struct run r = { .be = be, .folder = folder };
	struct state st;
	int rc;

	if ((rc = mapic_folder_fid(be, folder, &r.fid, e)) < 0 ||
	    (rc = mapic_backend_session(be, &s, e)) < 0)
		goto out;
	r.full = !state_parse(state, r.fid, &st);
	r.kind = mapic_folder_kind(be, folder);
	g_mutex_lock(&be->lock);
	r.t = mapic_table_hold(be, folder, r.fid);
	g_mutex_unlock(&be->lock);
	r.res = mfs_sync_result_new();
	r.changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  NULL);
	reader_new(&r);
	rc = run_ics(&r, s, &st, e);
	if (rc == -ENOTSUP) {
		/* what the refused download gave is not a result */
		g_ptr_array_set_size(r.res->changed, 0);
		g_ptr_array_set_size(r.res->vanished, 0);
		g_hash_table_remove_all(r.changed);
		/* nor its names: the table's way asks the mailbox */
		mapic_names_free(&r.names);
		log_debug(LOG_STORE, "%s: %s: no ICS (%s), the contents table "
			  "instead", be->conf.name, folder, e ? e->msg : "");
		rc = run_table(&r, s, e);
	}
	state_clear(&st);
	reader_free(&r);
	g_hash_table_unref(r.changed);
	g_mutex_lock(&be->lock);
	/* a folder deleted or renamed meanwhile keeps no table here */
	int src = g_hash_table_lookup(be->tables, folder) == r.t
		? mapic_table_save(be, folder, r.t) : 0;
	mapic_table_release(r.t);
	g_mutex_unlock(&be->lock);
	if (src < 0)
		log_warnx("%s: the item table of %s: %s", be->conf.name,
			  folder, g_strerror(-src));
	if (rc < 0)
		mfs_sync_result_free(&r.res);
	else
		*res_r = r.res;
out:
	mapic_note_sync(be, rc, e);
	return rc;
}

/*
 * The bytes of message `id` of `folder` when the spool no longer holds
 * them: a download of the folder from no state, whose other messages go
 * to the spool for the reads that follow.  It costs the folder's whole
 * content once; what it gains is bytes equal to those whose size sync
 * reported, because they are rendered from the same properties (a
 * message read by OpenMessage comes with other properties than an ICS
 * download's, and would render to other bytes).  Returns 0 with *buf_r (caller
 * owns), or -errno with `e` filled (-ENOENT: the folder has no such
 * message).
 */
int mapic_sync_one(struct mfs_backend *be, const char *folder,
		   const char *id, GByteArray **buf_r, struct mfs_item **item_r,
		   struct mfs_error *e)
{
	struct mapic_session *s = NULL;
	struct run r = { .be = be, .folder = folder, .want = id, .full = true };
	struct state st = { 0 };
	int rc;

	if ((rc = mapic_folder_fid(be, folder, &r.fid, e)) < 0 ||
	    (rc = mapic_backend_session(be, &s, e)) < 0)
		return rc;
	r.kind = mapic_folder_kind(be, folder);
	r.t = g_new0(struct mapic_table, 1);
	r.t->items = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   mapic_known_free);
	r.res = mfs_sync_result_new();
	r.changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  NULL);
	reader_new(&r);
	rc = run_ics(&r, s, &st, e);
	reader_free(&r);
	g_hash_table_unref(r.changed);
	mfs_sync_result_free(&r.res);
	mapic_table_free(r.t);
	if (rc == 0 && !r.wanted)
		rc = mfs_error_set(e, -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL,
				   "%s: no message %s on the server", folder,
				   id);
	if (rc < 0) {
		if (r.wanted)
			g_byte_array_unref(r.wanted);
		mfs_item_free(r.wanted_item);
		return rc;
	}
	*buf_r = r.wanted;
	if (item_r)
		*item_r = r.wanted_item;
	else
		mfs_item_free(r.wanted_item);
	return 0;
}
