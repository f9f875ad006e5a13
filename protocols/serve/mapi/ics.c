/*
 * ics.c - the ICS download of a folder's contents: RopSynchronization-
 * Configure, the upload of the client's state (RopSynchronizationUpload-
 * StateStreamBegin, ...Continue, ...End) and RopFastTransferSource-
 * GetBuffer, which hands the FastTransfer stream out in pieces.
 *
 * Specs: MS-OXCROPS 2.2.13.1, 2.2.13.9-11, 2.2.12.3; MS-OXCFXICS 2.2.3.2.1
 * (the flags of a download), 2.2.1.1 (the state: MetaTagIdsetGiven,
 * MetaTagCnsetSeen, ...SeenFAI, ...Read), 2.2.4.3.20-22 (contentsSync:
 * the changed messages, deletions, read-state changes, the new state),
 * 2.2.4.3.14 (messageChangeHeader), 3.2.5.9 (what a download sends).
 *
 * The store's messages have change numbers (ics-state.c).  A message is
 * sent whole when its change number is not in the client's CnsetSeen; a
 * message whose read change number alone is new goes in the read-state
 * changes (with the ReadState flag); a message id the client was given
 * that the folder no longer holds is a deletion (unless NoDeletions).
 * The new state gives every id the folder holds and every change number
 * up to the newest one when the download was made: the whole store's
 * numbers are seen, as a folder's own may interleave with others'.
 *
 * The stream is made a message at a time as the client asks for it, so
 * a download of any size holds one message's stream at most (and what
 * of it the client has not taken).  What changed is decided at the
 * first RopFastTransferSourceGetBuffer, once the state is in.  A message
 * that cannot be read then is left out, and so is its change number from
 * the new CnsetSeen, so that the next download tries it again.
 *
 * A hierarchy download gives every folder below the one synchronized
 * whose change number is new (a folder's is given once: its id changes
 * with its path) and the folders gone.
 *
 * The items of contacts and calendar folders are contacts and
 * appointments (pimload.c); their named properties go with their names.
 * A file that does not parse is left out like a message that cannot be
 * read.
 *
 * Not done: restrictions (MAPI_E_NO_SUPPORT), FAI messages (a Maildir
 * has none), the Progress flag's counts in the stream, PtypString8 for
 * clients without the Unicode flag: strings are always UTF-16.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wire/mapi-fx.h"
#include "wire/mapi-idset.h"
#include "wire/mapi-tags.h"
#include "wire/rop-ics.h"
#include "mapid-private.h"

/* MAPI_E_CORRUPT_DATA: a state that does not decode. */
#define EC_CORRUPT_DATA 0x8004011BU
/* The most of one state property an upload may bring. */
#define STATE_MAX (8u * 1024 * 1024)
/* PidTagMessageRecipients and PidTagMessageAttachments: in the tag list
 * of a download, they name the recipients and the attachments. */
#define TAG_MESSAGE_RECIPIENTS	0x0E12000DU
#define TAG_MESSAGE_ATTACHMENTS	0x0E13000DU
/* The bytes of a GetBuffer response around its TransferBuffer. */
#define GET_BUFFER_HEAD 15

struct pend {
	struct mfs_item *it;		/* owned */
	uint64_t mid;
	struct mapid_cn cn;
};

struct ics {
	uint64_t fid;
	bool hierarchy;			/* the folders below, not the
					   contents */
	uint16_t flags;			/* ROP_SYNC_F_* */
	uint32_t extra;			/* ROP_SYNC_X_* */
	uint32_t *tags;			/* owned */
	size_t n_tags;
	struct mapi_idset given, seen, seen_fai, read;
	uint32_t up_prop;		/* an upload under way; 0: none */
	GByteArray *up;			/* owned */
	/* the download, from its first GetBuffer */
	bool started;
	char *folder;			/* owned; NULL: a folder of ours */
	enum mfs_folder_kind kind;	/* of `folder`: contacts and
					   calendars go through the codec */
	GArray *todo;			/* of struct pend; owned */
	guint next;
	GArray *failed;			/* uint64_t change numbers */
	struct mapi_idset now_given, deleted, read_ids, unread_ids;
	uint64_t last_cn;
	GByteArray *out;		/* owned; made, not yet handed out */
	size_t out_off;
	bool tail;			/* the stream's end is in `out` */
};

static void pend_clear(gpointer p)
{
	mfs_item_free(((struct pend *)p)->it);
}

static void ics_free(void *p)
{
	struct ics *x = p;

	g_free(x->tags);
	mapi_idset_clear(&x->given);
	mapi_idset_clear(&x->seen);
	mapi_idset_clear(&x->seen_fai);
	mapi_idset_clear(&x->read);
	mapi_idset_clear(&x->now_given);
	mapi_idset_clear(&x->deleted);
	mapi_idset_clear(&x->read_ids);
	mapi_idset_clear(&x->unread_ids);
	if (x->up)
		g_byte_array_unref(x->up);
	if (x->todo)
		g_array_unref(x->todo);
	if (x->failed)
		g_array_unref(x->failed);
	if (x->out)
		g_byte_array_unref(x->out);
	g_free(x->folder);
	g_free(x);
}

/* The sync object at input index `idx`, or NULL with *rv_r set. */
static struct ics *ics_at(struct mapid_rop_ctx *rc, uint8_t idx,
			  uint32_t *rv_r)
{
	struct mapid_obj *o = mapid_obj_at(rc, idx, rv_r);

	if (o && o->kind != MAPID_OBJ_SYNC) {
		*rv_r = MAPI_E_INVALID_PARAMETER;
		return NULL;
	}
	return o ? o->priv : NULL;
}

int mapid_rop_sync_configure(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			     GByteArray *out)
{
	struct rop_sync_configure_req q;
	struct rop_sync_resp s = { 0 };
	struct mapid_obj *f, *o;
	struct ics *x;
	int err = rop_sync_configure_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SYNCHRONIZATION_CONFIGURE;
	s.head.handle_index = q.output_handle_index;
	f = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (f && f->kind != MAPID_OBJ_FOLDER)
		s.head.rv = MAPI_E_INVALID_PARAMETER;
	else if (f && q.restriction_len) {
		log_info("mapi: %s: an ICS download with a restriction is not "
			 "supported", rc->sess->c.user);
		s.head.rv = MAPI_E_NO_SUPPORT;
	} else if (f) {
		x = g_new0(struct ics, 1);
		x->fid = f->fid;
		x->hierarchy = q.sync_type == ROP_SYNC_HIERARCHY;
		x->flags = q.sync_flags;
		x->extra = q.extra_flags;
		x->tags = q.tags;
		x->n_tags = q.n_tags;
		q.tags = NULL;
		mapi_idset_init(&x->given, true);
		mapi_idset_init(&x->seen, true);
		mapi_idset_init(&x->seen_fai, true);
		mapi_idset_init(&x->read, true);
		mapi_idset_init(&x->now_given, true);
		mapi_idset_init(&x->deleted, false);
		mapi_idset_init(&x->read_ids, false);
		mapi_idset_init(&x->unread_ids, false);
		o = g_new0(struct mapid_obj, 1);
		o->kind = MAPID_OBJ_SYNC;
		o->fid = f->fid;
		o->priv = x;
		o->priv_free = ics_free;
		s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	}
	rop_sync_configure_req_clear(&q);
	rop_sync_configure_resp_write(out, &s);
	return 0;
}

int mapid_rop_sync_upload_begin(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				GByteArray *out)
{
	struct rop_sync_upload_begin_req q;
	struct rop_sync_resp s = { 0 };
	struct ics *x;
	int err = rop_sync_upload_begin_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_BEGIN;
	s.head.handle_index = q.input_handle_index;
	x = ics_at(rc, q.input_handle_index, &s.head.rv);
	if (x && (x->started || x->up_prop))
		s.head.rv = MAPI_E_CALL_FAILED;	/* out of order */
	else if (x && q.state_prop != ROP_META_IDSET_GIVEN &&
		 q.state_prop != MAPI_FX_META_IDSET_GIVEN &&
		 q.state_prop != ROP_META_CNSET_SEEN &&
		 q.state_prop != ROP_META_CNSET_SEEN_FAI &&
		 q.state_prop != ROP_META_CNSET_READ)
		s.head.rv = MAPI_E_INVALID_PARAMETER;
	else if (x && q.size > STATE_MAX)
		s.head.rv = MAPI_E_TOO_BIG;
	else if (x) {
		x->up_prop = q.state_prop;
		x->up = g_byte_array_new();
	}
	rop_sync_upload_begin_resp_write(out, &s);
	return 0;
}

int mapid_rop_sync_upload_continue(struct mapid_rop_ctx *rc,
				   struct mapi_rd *r, GByteArray *out)
{
	struct rop_sync_upload_continue_req q;
	struct rop_sync_resp s = { 0 };
	struct ics *x;
	int err = rop_sync_upload_continue_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_CONTINUE;
	s.head.handle_index = q.input_handle_index;
	x = ics_at(rc, q.input_handle_index, &s.head.rv);
	if (x && !x->up_prop)
		s.head.rv = MAPI_E_CALL_FAILED;
	else if (x && x->up->len + (size_t)q.len > STATE_MAX) {
		/* the upload is dropped: the client starts it again */
		g_byte_array_unref(x->up);
		x->up = NULL;
		x->up_prop = 0;
		s.head.rv = MAPI_E_TOO_BIG;
	} else if (x) {
		g_byte_array_append(x->up, q.data, q.len);
	}
	rop_sync_upload_continue_resp_write(out, &s);
	return 0;
}

int mapid_rop_sync_upload_end(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			      GByteArray *out)
{
	struct rop_sync_upload_end_req q;
	struct rop_sync_resp s = { 0 };
	struct mapi_idset *set = NULL;
	struct ics *x;
	int err = rop_sync_upload_end_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_END;
	s.head.handle_index = q.input_handle_index;
	x = ics_at(rc, q.input_handle_index, &s.head.rv);
	if (x && !x->up_prop)
		s.head.rv = MAPI_E_CALL_FAILED;
	if (x && x->up_prop) {
		switch (x->up_prop) {
		case ROP_META_CNSET_SEEN:
			set = &x->seen;
			break;
		case ROP_META_CNSET_SEEN_FAI:
			set = &x->seen_fai;
			break;
		case ROP_META_CNSET_READ:
			set = &x->read;
			break;
		default:
			set = &x->given;
			break;
		}
		if (mapi_idset_decode(set, x->up->data, x->up->len,
				      true) < 0) {
			log_info("mapi: %s: an ICS state that does not decode "
				 "(property 0x%08x, %u bytes)", rc->sess->c.user,
				 x->up_prop, x->up->len);
			s.head.rv = EC_CORRUPT_DATA;
		}
		g_byte_array_unref(x->up);
		x->up = NULL;
		x->up_prop = 0;
	}
	rop_sync_upload_end_resp_write(out, &s);
	return 0;
}

static int by_date_desc(gconstpointer a, gconstpointer b)
{
	const struct pend *x = a, *y = b;

	if (x->it->date != y->it->date)
		return x->it->date < y->it->date ? 1 : -1;
	return x->mid < y->mid ? 1 : x->mid > y->mid ? -1 : 0;
}

static int cmp_u64(gconstpointer a, gconstpointer b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The ids the client was given that the folder no longer holds:
 * `given` less the sorted counters `have`. */
static void find_deleted(struct ics *x, const uint8_t *guid, GArray *have)
{
	for (size_t i = 0; i < x->given.n; i++) {
		const struct mapi_idset_repl *rp = &x->given.repl[i];

		if (memcmp(rp->guid, guid, 16))
			continue;
		for (size_t j = 0; j < rp->n; j++) {
			uint64_t lo = rp->r[j].lo, hi = rp->r[j].hi;
			guint k = 0;

			while (k < have->len &&
			       g_array_index(have, uint64_t, k) < lo)
				k++;
			while (lo <= hi) {
				uint64_t c = k < have->len
					? g_array_index(have, uint64_t, k)
					: UINT64_MAX;
				if (c > hi) {
					mapi_idset_add_range(&x->deleted, 1,
							     NULL, lo, hi);
					break;
				}
				if (c > lo)
					mapi_idset_add_range(&x->deleted, 1,
							     NULL, lo, c - 1);
				lo = c + 1;
				k++;
			}
		}
	}
}

/* The decision of the whole download: the folder's messages and their
 * change numbers against the state. */
static int plan(struct mapid_rop_ctx *rc, struct ics *x)
{
	const char *root = rc->ctx->store_root;
	struct mfs_sync_result *res = NULL;
	g_autoptr(GArray) have = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	g_autofree struct mapid_cn *cns = NULL;
	uint8_t guid[16];

	x->started = true;
	x->todo = g_array_new(FALSE, TRUE, sizeof(struct pend));
	g_array_set_clear_func(x->todo, pend_clear);
	x->failed = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	x->out = g_byte_array_new();
	x->folder = mapid_folder_path(mapid_id_counter(x->fid));
	mapid_repl_guid(guid);
	x->kind = mapid_folder_kind(rc->ctx, x->folder);
	if (x->folder) {
		struct mfs_error e = { 0 };
		int err = mfs_store_sync(rc->ctx->store, x->folder, NULL, &res,
					 &e);
		/* a folder that only holds folders (no Maildir of its own:
		 * IMAP's \Noselect) has no messages to give */
		if (err == -ENOENT) {
			res = NULL;
		} else if (err < 0) {
			log_warnx("mapi: %s: cannot list %s for an ICS "
				  "download: %s", rc->sess->c.user, x->folder,
				  e.msg[0] ? e.msg : g_strerror(-err));
			return err;
		}
	}
	if (res) {
		cns = g_new0(struct mapid_cn, res->changed->len + 1);
		mapid_cn_refresh(root, x->folder, res->changed, cns);
	}
	x->last_cn = mapid_cn_last(root);
	for (guint i = 0; res && i < res->changed->len; i++) {
		struct mfs_item *it = res->changed->pdata[i];
		uint64_t c = mapid_message_counter(x->folder, it->id);
		struct pend p = { .mid = mapid_id_make(c), .cn = cns[i] };

		g_array_append_val(have, c);
		mapi_idset_add_range(&x->now_given, 0, guid, c, c);
		if (!(x->flags & ROP_SYNC_F_NORMAL))
			continue;
		if (!mapi_idset_contains(&x->seen, mapid_id_make(p.cn.cn),
					 guid)) {
			p.it = mfs_item_dup(it);
			g_array_append_val(x->todo, p);
		} else if ((x->flags & ROP_SYNC_F_READ_STATE) &&
			   !mapi_idset_contains(&x->read,
						mapid_id_make(p.cn.read_cn),
						guid)) {
			mapi_idset_add_range(it->flags & MFS_FLAG_SEEN
					     ? &x->read_ids : &x->unread_ids,
					     1, NULL, c, c);
		}
	}
	if (res)
		mfs_sync_result_free(&res);
	g_array_sort(x->todo, by_date_desc);
	g_array_sort(have, cmp_u64);
	if (!(x->flags & ROP_SYNC_F_NO_DELETIONS))
		find_deleted(x, guid, have);
	return 0;
}

static bool tag_listed(const struct ics *x, uint32_t tag)
{
	for (size_t i = 0; i < x->n_tags; i++)
		if ((x->tags[i] >> 16) == (tag >> 16))
			return true;
	return false;
}

/* Whether the client wants property `tag` (OnlySpecifiedProperties: the
 * list is what it wants; otherwise what it does not). */
static bool wanted(const struct ics *x, uint32_t tag)
{
	bool listed = tag_listed(x, tag);

	return (x->flags & ROP_SYNC_F_ONLY_SPECIFIED_PROPS) ? listed : !listed;
}

/* The MAPI message of a store message, as the client asked for it.
 * Caller owns the result, or NULL when it cannot be read. */
static struct mapi_message *load(struct mapid_rop_ctx *rc, struct ics *x,
				 const struct pend *p)
{
	struct mapi_message *m = NULL;
	int fd = -1, err;

	if (mfs_store_fetch(rc->ctx->store, x->folder, p->it->id, &fd,
			    NULL) < 0)
		return NULL;
	err = mapid_item_load_fd(fd, p->it->flags, x->kind, &m);
	close(fd);
	if (err < 0)
		return NULL;
	for (size_t i = m->props.n; i-- > 0;) {
		uint32_t tag = m->props.v[i].tag;
		if (!wanted(x, tag))
			mapi_props_remove(&m->props, (uint16_t)(tag >> 16));
	}
	return m;
}

/* messageChangeHeader, MS-OXCFXICS 2.2.4.3.14, in the recorded order. */
static void change_header(const struct ics *x, const struct pend *p,
			  struct mapi_props *h)
{
	uint8_t sk[22], ck[22], pcl[23];

	mapid_repl_guid(sk);
	for (int i = 0; i < 6; i++)
		sk[16 + i] = (uint8_t)(p->mid >> (8 * (2 + i)));
	memcpy(ck, sk, 16);
	for (int i = 0; i < 6; i++)
		ck[16 + i] = (uint8_t)(p->cn.cn >> (8 * (5 - i)));
	pcl[0] = sizeof(ck);
	memcpy(pcl + 1, ck, sizeof(ck));
	mapi_props_set_bin(h, MAPI_TAG_SOURCE_KEY, sk, sizeof(sk));
	mapi_props_set_ft(h, MAPI_TAG_LAST_MODIFICATION_TIME,
			  mapi_ft_from_unix(p->cn.mtime));
	mapi_props_set_bin(h, MAPI_TAG_CHANGE_KEY, ck, sizeof(ck));
	mapi_props_set_bin(h, MAPI_TAG_PREDECESSOR_CHANGE_LIST, pcl,
			   sizeof(pcl));
	mapi_props_set_b(h, MAPI_TAG_ASSOCIATED, false);
	if (x->extra & ROP_SYNC_X_EID)
		mapi_props_set_i8(h, MAPI_TAG_MID, (int64_t)p->mid);
	if (x->extra & ROP_SYNC_X_MESSAGE_SIZE)
		mapi_props_set_l(h, MAPI_TAG_MESSAGE_SIZE,
				 p->it->size > INT32_MAX ? INT32_MAX
				 : (int32_t)p->it->size);
	if (x->extra & ROP_SYNC_X_CN)
		mapi_props_set_i8(h, MAPI_TAG_CHANGE_NUMBER,
				  (int64_t)mapid_id_make(p->cn.cn));
}

/* The stream of the next message into x->out; a message that cannot be
 * read or laid out is left out and remembered. */
static void write_next(struct mapid_rop_ctx *rc, struct ics *x)
{
	const struct pend *p = &g_array_index(x->todo, struct pend, x->next);
	struct mapi_message *m = load(rc, x, p);
	struct mapi_fx_names names = mapid_fx_names();
	struct mapi_props h = { 0 };
	guint mark = x->out->len;

	x->next++;
	if (m) {
		struct mapi_message view = *m;

		if (!wanted(x, TAG_MESSAGE_RECIPIENTS))
			view.n_recips = 0;
		if (!wanted(x, TAG_MESSAGE_ATTACHMENTS))
			view.n_attach = 0;
		change_header(x, p, &h);
		/* a named property goes with its name (MS-OXCFXICS
		 * 2.2.4.1.1: PropertyName after the tag) */
		if (mapi_fx_write_change(x->out, &h, &view, &names) == 0) {
			mapi_props_clear(&h);
			mapi_message_free(m);
			return;
		}
		g_byte_array_set_size(x->out, mark);
		mapi_props_clear(&h);
		mapi_message_free(m);
	}
	log_info("mapi: %s: message %s of %s left out of an ICS download: "
		 "it cannot be read", rc->sess->c.user, p->it->id, x->folder);
	g_array_append_val(x->failed, p->cn.cn);
}

static void write_set(GByteArray *b, uint32_t tag, const struct mapi_idset *s)
{
	g_autoptr(GByteArray) enc = g_byte_array_new();
	struct mapi_value v = { .tag = tag };

	mapi_idset_encode(s, MAPI_IDSET_COMPACT, enc);
	v.v.bin.data = enc->data;
	v.v.bin.len = enc->len;
	mapi_fx_write_prop(b, tag, NULL, &v);
}

static void encode(const struct mapi_idset *s, GByteArray *b,
		   struct mapi_bin *bin)
{
	mapi_idset_encode(s, MAPI_IDSET_PLAIN, b);
	bin->data = b->data;
	bin->len = b->len;
}

/* Every change number up to x->last_cn but those of the messages left
 * out, added to `s`. */
static void add_seen(struct ics *x, struct mapi_idset *s, const uint8_t *guid)
{
	uint64_t lo = 1;

	g_array_sort(x->failed, cmp_u64);
	for (guint i = 0; i < x->failed->len; i++) {
		uint64_t f = g_array_index(x->failed, uint64_t, i);
		if (f > lo)
			mapi_idset_add_range(s, 0, guid, lo, f - 1);
		lo = f + 1;
	}
	if (x->last_cn >= lo)
		mapi_idset_add_range(s, 0, guid, lo, x->last_cn);
}

/* Deletions, read-state changes, the new state, IncrSyncEnd. */
static void write_tail(struct ics *x)
{
	g_autoptr(GByteArray) e1 = g_byte_array_new();
	g_autoptr(GByteArray) e2 = g_byte_array_new();
	g_autoptr(GByteArray) e3 = g_byte_array_new();
	g_autoptr(GByteArray) e4 = g_byte_array_new();
	struct mapi_bin given, seen, seen_fai, read;
	uint8_t guid[16];

	mapid_repl_guid(guid);
	if (x->deleted.n) {
		mapi_fx_write_marker(x->out, MAPI_FX_INCR_SYNC_DEL);
		write_set(x->out, MAPI_FX_META_IDSET_DELETED, &x->deleted);
	}
	if (x->read_ids.n || x->unread_ids.n) {
		mapi_fx_write_marker(x->out, MAPI_FX_INCR_SYNC_READ);
		if (x->read_ids.n)
			write_set(x->out, MAPI_FX_META_IDSET_READ,
				  &x->read_ids);
		if (x->unread_ids.n)
			write_set(x->out, MAPI_FX_META_IDSET_UNREAD,
				  &x->unread_ids);
	}
	if (x->flags & ROP_SYNC_F_NORMAL)
		add_seen(x, &x->seen, guid);
	if (x->flags & ROP_SYNC_F_FAI)
		add_seen(x, &x->seen_fai, guid);
	if (x->flags & ROP_SYNC_F_READ_STATE)
		add_seen(x, &x->read, guid);
	encode(&x->now_given, e1, &given);
	encode(&x->seen, e2, &seen);
	encode(&x->seen_fai, e3, &seen_fai);
	encode(&x->read, e4, &read);
	mapi_fx_write_state_end(x->out, &given, &seen, &seen_fai, &read);
	x->tail = true;
}

/* A SourceKey: the replica GUID and the counter of id `id`. */
static void source_key(uint64_t id, uint8_t sk[22])
{
	mapid_repl_guid(sk);
	for (int i = 0; i < 6; i++)
		sk[16 + i] = (uint8_t)(id >> (8 * (2 + i)));
}

/* folderChange, MS-OXCFXICS 2.2.4.3.5: IncrSyncChg and the folder's
 * properties, the change header's first. */
static void write_folder(struct ics *x, const struct mapid_folder *f,
			 const struct mapid_cn *cn)
{
	struct mapi_props h = { 0 };
	uint64_t fid = mapid_id_make(f->counter);
	uint64_t pid = mapid_id_make(f->parent);
	uint8_t psk[22], sk[22], ck[22], pcl[23];

	source_key(fid, sk);
	source_key(pid, psk);
	memcpy(ck, sk, 16);
	for (int i = 0; i < 6; i++)
		ck[16 + i] = (uint8_t)(cn->cn >> (8 * (5 - i)));
	pcl[0] = sizeof(ck);
	memcpy(pcl + 1, ck, sizeof(ck));
	/* a child of the folder synchronized has an empty parent key */
	mapi_props_set_bin(&h, MAPI_TAG_PARENT_SOURCE_KEY, psk,
			   pid == x->fid ? 0 : sizeof(psk));
	mapi_props_set_bin(&h, MAPI_TAG_SOURCE_KEY, sk, sizeof(sk));
	mapi_props_set_ft(&h, MAPI_TAG_LAST_MODIFICATION_TIME,
			  mapi_ft_from_unix(cn->mtime));
	mapi_props_set_bin(&h, MAPI_TAG_CHANGE_KEY, ck, sizeof(ck));
	mapi_props_set_bin(&h, MAPI_TAG_PREDECESSOR_CHANGE_LIST, pcl,
			   sizeof(pcl));
	mapi_props_set_str(&h, MAPI_TAG_DISPLAY_NAME, f->name);
	if (x->extra & ROP_SYNC_X_EID) {
		mapi_props_set_i8(&h, MAPI_TAG_FOLDER_ID, (int64_t)fid);
		mapi_props_set_i8(&h, MAPI_TAG_PARENT_FOLDER_ID, (int64_t)pid);
	}
	if (f->container_class)
		mapi_props_set_str(&h, MAPI_TAG_CONTAINER_CLASS,
				   f->container_class);
	mapi_fx_write_marker(x->out, MAPI_FX_INCR_SYNC_CHG);
	for (size_t i = 0; i < h.n; i++)
		if (wanted(x, h.v[i].tag) || i < 6)
			mapi_fx_write_prop(x->out, h.v[i].tag, NULL, &h.v[i]);
	mapi_props_clear(&h);
}

/* Whether folder `c` of `t` is below folder `top`. */
static bool below(GArray *t, uint64_t c, uint64_t top)
{
	for (unsigned depth = 0; depth < 64 && c; depth++) {
		uint64_t parent = 0;
		for (guint i = 0; i < t->len; i++) {
			const struct mapid_folder *f =
				&g_array_index(t, struct mapid_folder, i);
			if (f->counter == c)
				parent = f->parent;
		}
		if (parent == top)
			return true;
		if (parent == c)
			return false;
		c = parent;
	}
	return false;
}

/* A hierarchy download (MS-OXCFXICS 2.2.4.3.18, hierarchySync): every
 * folder below the one synchronized whose change number is new, parents
 * first, the folders gone, the state.  Folders are few: the stream is
 * made whole at once. */
static int plan_hierarchy(struct mapid_rop_ctx *rc, struct ics *x)
{
	const char *root = rc->ctx->store_root;
	g_autoptr(GArray) have = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	uint64_t top = mapid_id_counter(x->fid);
	GArray *t = NULL;
	uint8_t guid[16];

	x->started = true;
	x->todo = g_array_new(FALSE, TRUE, sizeof(struct pend));
	x->failed = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	x->out = g_byte_array_new();
	mapid_repl_guid(guid);
	if (mapid_folder_tree(rc->ctx, &t) < 0)
		return -EIO;
	for (guint i = 0; i < t->len; i++) {
		const struct mapid_folder *f =
			&g_array_index(t, struct mapid_folder, i);
		struct mapid_cn cn;

		if (f->counter == top || !below(t, f->counter, top))
			continue;
		mapid_cn_folder(root, f->counter, &cn);
		g_array_append_val(have, f->counter);
		mapi_idset_add_range(&x->now_given, 0, guid, f->counter,
				     f->counter);
		if (!mapi_idset_contains(&x->seen, mapid_id_make(cn.cn), guid))
			write_folder(x, f, &cn);
	}
	g_array_unref(t);
	x->last_cn = mapid_cn_last(root);
	g_array_sort(have, cmp_u64);
	if (!(x->flags & ROP_SYNC_F_NO_DELETIONS))
		find_deleted(x, guid, have);
	/* a hierarchy state has no read changes */
	x->flags &= (uint16_t)~(ROP_SYNC_F_READ_STATE | ROP_SYNC_F_FAI);
	x->flags |= ROP_SYNC_F_NORMAL;
	write_tail(x);
	return 0;
}

/* The stream is made only as far as the piece asked for needs. */
int mapid_rop_ft_get_buffer(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			    GByteArray *out)
{
	struct rop_ft_get_buffer_req q;
	struct rop_ft_get_buffer_resp s = { 0 };
	struct ics *x;
	size_t want, have;
	int err = rop_ft_get_buffer_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_FAST_TRANSFER_SOURCE_GET_BUFFER;
	s.head.handle_index = q.input_handle_index;
	x = ics_at(rc, q.input_handle_index, &s.head.rv);
	if (x && x->up_prop)
		s.head.rv = MAPI_E_CALL_FAILED;
	else if (x && !x->started &&
		 (x->hierarchy ? plan_hierarchy(rc, x) : plan(rc, x)) < 0)
		s.head.rv = MAPI_E_CALL_FAILED;
	if (!x || s.head.rv) {
		rop_ft_get_buffer_resp_write(out, &s);
		return 0;
	}
	want = q.buffer_size == ROP_FT_USE_MAX ? q.max_buffer_size
					       : q.buffer_size;
	if (!want)
		want = 1;	/* a piece, however small, moves it on */
	/* what fits in the response; with no room at all the ROP comes
	 * back as RopBufferTooSmall */
	if (rc->room > GET_BUFFER_HEAD && want > rc->room - GET_BUFFER_HEAD)
		want = rc->room - GET_BUFFER_HEAD;
	while (x->out->len - x->out_off < want && !x->tail) {
		if (x->next < x->todo->len)
			write_next(rc, x);
		else
			write_tail(x);
	}
	have = x->out->len - x->out_off;
	s.len = (uint16_t)MIN(have, want);
	s.buf = x->out->data + x->out_off;
	s.status = x->tail && s.len == have ? ROP_FT_DONE : ROP_FT_PARTIAL;
	s.total_steps = (uint16_t)MIN(x->todo->len + 1, 0xFFFF);
	s.in_progress = (uint16_t)MIN(s.status == ROP_FT_DONE ? x->todo->len + 1
				      : x->next ? x->next - 1 : 0, 0xFFFF);
	rop_ft_get_buffer_resp_write(out, &s);
	x->out_off += s.len;
	if (x->out_off > 65536 && x->out_off * 2 > x->out->len) {
		g_byte_array_remove_range(x->out, 0, (guint)x->out_off);
		x->out_off = 0;
	}
	return 0;
}
