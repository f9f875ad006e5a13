/*
 * table.c - contents tables and the table ROPs: RopGetContentsTable,
 * RopSetColumns, RopQueryRows, RopQueryPosition, RopSeekRow.
 *
 * Specs: MS-OXCROPS 2.2.4.14, 2.2.5.1, 2.2.5.4, 2.2.5.7, 2.2.5.8;
 * MS-OXCTABL 3.2.5 (a table's cursor, the Origin of QueryRows: BOOKMARK_END
 * once the last row is read, BOOKMARK_CURRENT before); MS-OXCMSG 2.2.1
 * (the message properties of a row); MS-OXCFXICS 2.2.1.2.7 (ChangeKey: a
 * GUID and a change counter); RFC 5322 and RFC 2047 (the header fields
 * read for Subject and InternetMessageId).
 *
 * A table's rows are read from the store when the table is made, as the
 * rows a real server's table holds are those of its creation: a row
 * holds every property the server knows of the message, and
 * mapi_row_from_props() lays it out against the columns, a missing
 * column as NotFound in a flagged row.  The rows of contacts and
 * calendar folders are their items as the codec reads them (pimload.c).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "log.h"
#include "wire/mapi-tags.h"
#include "wire/mime-entity.h"
#include "wire/rop.h"
#include "mapid-private.h"
#include "fnv1a.h"

/* The most of a message's start read for its header. */
#define HEADER_MAX (64 * 1024)

/* The header block of the message `id` (caller owns), or NULL. */
static char *read_header(const struct serve_ctx *ctx, const char *folder,
			 const char *id, size_t *len_r)
{
	char *buf = g_malloc(HEADER_MAX + 1);
	size_t len = 0;
	int fd = -1;

	if (mfs_store_fetch(ctx->store, folder, id, &fd, NULL) < 0) {
		g_free(buf);
		return NULL;
	}
	while (len < HEADER_MAX) {
		ssize_t n = read(fd, buf + len, HEADER_MAX - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			break;
	}
	close(fd);
	buf[len] = 0;
	*len_r = len;
	return buf;
}

/* A message's ChangeKey: the replica GUID and 6 bytes that change when
 * its flags do (its bytes never change in the store). */
static void change_key(const struct mfs_item *it, uint8_t out[22])
{
	uint64_t letters = it->flags & MFS_FLAG_LETTERS;
	uint64_t h = fnv1a_64(FNV1A_64_INIT, it->id,
			   strlen(it->id) + 1);

	h = fnv1a_64(h, &letters, sizeof(letters));
	mapid_repl_guid(out);
	for (int i = 0; i < 6; i++)
		out[16 + i] = (uint8_t)(h >> (8 * (5 - i)));
}

static struct mapi_props *message_row(const struct serve_ctx *ctx,
				      const char *folder, uint64_t fid,
				      const struct mfs_item *it)
{
	struct mapi_props *p = g_new0(struct mapi_props, 1);
	uint32_t flags = MAPI_MSGFLAG_UNMODIFIED;
	uint8_t ck[22];
	size_t hlen = 0;
	g_autofree char *hdr = read_header(ctx, folder, it->id, &hlen);

	mapi_props_set_i8(p, MAPI_TAG_MID, (int64_t)mapid_id_make(
				  mapid_message_counter(folder, it->id)));
	mapi_props_set_i8(p, MAPI_TAG_FOLDER_ID, (int64_t)fid);
	mapi_props_set_l(p, MAPI_TAG_MESSAGE_SIZE,
			 it->size > INT32_MAX ? INT32_MAX : (int32_t)it->size);
	mapi_props_set_ft(p, MAPI_TAG_MESSAGE_DELIVERY_TIME,
			  mapi_ft_from_unix(it->date));
	mapi_props_set_ft(p, MAPI_TAG_LAST_MODIFICATION_TIME,
			  mapi_ft_from_unix(it->date));
	mapi_props_set_str(p, MAPI_TAG_MESSAGE_CLASS, "IPM.Note");
	change_key(it, ck);
	mapi_props_set_bin(p, MAPI_TAG_CHANGE_KEY, ck, sizeof(ck));
	if (it->flags & MFS_FLAG_SEEN)
		flags |= MAPI_MSGFLAG_READ | MAPI_MSGFLAG_EVERREAD;
	/* a draft (one a client made and left unsent) is not a delivered
	 * message left as it came */
	if (it->flags & MFS_FLAG_DRAFT)
		flags = (flags & ~MAPI_MSGFLAG_UNMODIFIED) |
			MAPI_MSGFLAG_UNSENT;
	if (hdr) {
		struct mime_entity e;
		g_autofree char *subj = NULL, *mid = NULL, *ct = NULL;

		mime_init();
		mime_entity_init(&e, hdr, hlen, true);
		subj = mime_entity_header(&e, "Subject");
		mid = mime_entity_header(&e, "Message-ID");
		ct = mime_entity_header(&e, "Content-Type");
		if (subj) {
			g_autofree char *dec =
				g_mime_utils_header_decode_text(NULL, subj);
			if (dec && g_utf8_validate(dec, -1, NULL))
				mapi_props_set_str(p, MAPI_TAG_SUBJECT, dec);
		}
		if (mid && g_utf8_validate(mid, -1, NULL))
			mapi_props_set_str(p, MAPI_TAG_INTERNET_MESSAGE_ID,
					   mid);
		if (ct && (!g_ascii_strncasecmp(ct, "multipart/mixed", 15) ||
			   !g_ascii_strncasecmp(ct, "multipart/related", 17)))
			flags |= MAPI_MSGFLAG_HASATTACH;
	}
	mapi_props_set_l(p, MAPI_TAG_MESSAGE_FLAGS, (int32_t)flags);
	return p;
}

/* The row of a contact or an appointment: every property the codec
 * reads from the file (subject, display name, message class, the named
 * properties), with the ids, size and keys of a message row.  NULL, and
 * a line in the log, for a file that does not parse: it is left out. */
static struct mapi_props *pim_row(struct mapid_rop_ctx *rc, const char *folder,
				  enum mfs_folder_kind kind, uint64_t fid,
				  const struct mfs_item *it)
{
	struct mapi_message *m = NULL;
	struct mapi_props *p;
	uint8_t ck[22];
	int fd = -1, err;

	err = mfs_store_fetch(rc->ctx->store, folder, it->id, &fd, NULL);
	if (err == 0) {
		err = mapid_item_load_fd(fd, it->flags, kind, &m);
		close(fd);
	}
	if (err < 0) {
		log_info("mapi: %s: item %s of %s left out of a contents "
			 "table: %s", rc->sess->c.user, it->id, folder,
			 err == -EINVAL ? "it does not parse"
					: g_strerror(-err));
		return NULL;
	}
	p = g_new0(struct mapi_props, 1);
	*p = m->props;
	memset(&m->props, 0, sizeof(m->props));
	mapi_message_free(m);
	mapi_props_set_i8(p, MAPI_TAG_MID, (int64_t)mapid_id_make(
				  mapid_message_counter(folder, it->id)));
	mapi_props_set_i8(p, MAPI_TAG_FOLDER_ID, (int64_t)fid);
	change_key(it, ck);
	mapi_props_set_bin(p, MAPI_TAG_CHANGE_KEY, ck, sizeof(ck));
	return p;
}

static int by_date(gconstpointer a, gconstpointer b)
{
	const struct mfs_item *x = *(struct mfs_item *const *)a;
	const struct mfs_item *y = *(struct mfs_item *const *)b;

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void props_free(gpointer p)
{
	mapi_props_clear(p);
	g_free(p);
}

/* The store path of folder `fid`, or NULL (ours, or unknown). */
static char *path_of(const struct serve_ctx *ctx, uint64_t fid)
{
	GArray *t = NULL;
	char *path = NULL;
	uint64_t c = mapid_id_counter(fid);

	if (mapid_folder_tree(ctx, &t) < 0)
		return NULL;
	for (guint i = 0; i < t->len; i++) {
		const struct mapid_folder *f =
			&g_array_index(t, struct mapid_folder, i);
		if (f->counter == c && f->path)
			path = g_strdup(f->path);
	}
	g_array_unref(t);
	return path;
}

int mapid_rop_get_contents_table(struct mapid_rop_ctx *rc, struct mapi_rd *r,
				 GByteArray *out)
{
	struct rop_get_table_req q;
	struct rop_get_table_resp s = { 0 };
	struct mfs_sync_result *res = NULL;
	struct mapid_obj *f, *o;
	g_autofree char *path = NULL;
	enum mfs_folder_kind kind;
	int err = rop_get_contents_table_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_GET_CONTENTS_TABLE;
	s.head.handle_index = q.output_handle_index;
	f = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (f && f->kind != MAPID_OBJ_FOLDER)
		s.head.rv = MAPI_E_INVALID_PARAMETER;
	if (f && !s.head.rv) {
		o = g_new0(struct mapid_obj, 1);
		o->kind = MAPID_OBJ_TABLE;
		o->fid = f->fid;
		o->table_flags = q.table_flags;
		o->rows = g_ptr_array_new_with_free_func(props_free);
		path = path_of(rc->ctx, f->fid);
		kind = mapid_folder_kind(rc->ctx, path);
		/* associated (FAI) contents: none in this store */
		if (path && !(q.table_flags & ROP_TABLE_ASSOCIATED) &&
		    mfs_store_sync(rc->ctx->store, path, NULL, &res,
				   NULL) == 0) {
			g_ptr_array_sort(res->changed, by_date);
			for (guint i = 0; i < res->changed->len; i++) {
				const struct mfs_item *it =
					res->changed->pdata[i];
				struct mapi_props *row = mapid_kind_pim(kind)
					? pim_row(rc, path, kind, f->fid, it)
					: message_row(rc->ctx, path, f->fid, it);
				if (row)
					g_ptr_array_add(o->rows, row);
			}
			mfs_sync_result_free(&res);
		}
		s.row_count = o->rows->len;
		s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	}
	rop_get_contents_table_resp_write(out, &s);
	return 0;
}

/* The table at input index `idx`, or NULL with *rv set. */
static struct mapid_obj *table_at(struct mapid_rop_ctx *rc, uint8_t idx,
				  uint32_t *rv)
{
	struct mapid_obj *o = mapid_obj_at(rc, idx, rv);

	if (o && o->kind != MAPID_OBJ_TABLE) {
		*rv = MAPI_E_INVALID_PARAMETER;
		return NULL;
	}
	return o;
}

int mapid_rop_set_columns(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			  GByteArray *out)
{
	struct rop_set_columns_req q;
	struct rop_table_status_resp s = { 0 };
	struct mapid_obj *t;
	int err = rop_set_columns_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SET_COLUMNS;
	s.head.handle_index = q.input_handle_index;
	t = table_at(rc, q.input_handle_index, &s.head.rv);
	if (t && q.n_cols == 0)
		s.head.rv = MAPI_E_INVALID_PARAMETER;
	else if (t) {
		g_free(t->cols);
		t->cols = q.cols;
		t->n_cols = q.n_cols;
		q.cols = NULL;
	}
	rop_set_columns_req_clear(&q);
	rop_set_columns_resp_write(out, &s);
	return 0;
}

/* Long because the rows are fitted one by one into the room the
 * response buffer has left, which takes a trial write of each. */
int mapid_rop_query_rows(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			 GByteArray *out)
{
	struct rop_query_rows_req q;
	struct rop_query_rows_resp s = { 0 };
	struct mapid_obj *t;
	size_t used = 8, n = 0;
	uint32_t pos;
	int err = rop_query_rows_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_QUERY_ROWS;
	s.head.handle_index = q.input_handle_index;
	t = table_at(rc, q.input_handle_index, &s.head.rv);
	if (t && !t->cols)
		s.head.rv = MAPI_E_INVALID_PARAMETER;
	if (!t || s.head.rv) {
		rop_query_rows_resp_write(out, &s, NULL, 0);
		return 0;
	}
	pos = t->pos > t->rows->len ? t->rows->len : t->pos;
	s.rows = g_new0(struct mapi_row, MIN(q.row_count, t->rows->len) + 1);
	while (n < q.row_count) {
		uint32_t at = q.forward_read ? pos + (uint32_t)n
					     : pos - 1 - (uint32_t)n;
		GByteArray *trial;
		size_t len;

		if (q.forward_read ? at >= t->rows->len : n >= pos)
			break;
		mapi_row_from_props(&s.rows[n], t->cols, t->n_cols,
				    t->rows->pdata[at]);
		trial = g_byte_array_new();
		mapi_row_write(trial, &s.rows[n], t->cols, t->n_cols, 0);
		len = trial->len;
		g_byte_array_unref(trial);
		if (used + len > rc->room) {
			mapi_row_clear(&s.rows[n]);
			break;
		}
		used += len;
		n++;
	}
	if (n == 0 && q.row_count && (q.forward_read ? pos < t->rows->len
						     : pos > 0)) {
		/* not even one row fits: the client must ask with room */
		s.head.rv = MAPI_E_TOO_BIG;
		g_free(s.rows);
		s.rows = NULL;
		rop_query_rows_resp_write(out, &s, NULL, 0);
		return 0;
	}
	s.row_count = (uint16_t)n;
	if (!(q.flags & 0x01))
		t->pos = q.forward_read ? pos + (uint32_t)n
					: pos - (uint32_t)n;
	else
		t->pos = pos;
	{
		uint32_t after = q.forward_read ? pos + (uint32_t)n
						: pos - (uint32_t)n;
		bool at_end = q.forward_read ? after >= t->rows->len
					     : after == 0;
		s.origin = at_end ? (q.forward_read ? 2 : 0) : 1;
	}
	rop_query_rows_resp_write(out, &s, t->cols, t->n_cols);
	rop_query_rows_resp_clear(&s);
	return 0;
}

int mapid_rop_query_position(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			     GByteArray *out)
{
	struct rop_query_position_req q;
	struct rop_query_position_resp s = { 0 };
	struct mapid_obj *t;
	int err = rop_query_position_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_QUERY_POSITION;
	s.head.handle_index = q.input_handle_index;
	t = table_at(rc, q.input_handle_index, &s.head.rv);
	if (t) {
		s.denominator = t->rows->len;
		s.numerator = t->pos > t->rows->len ? t->rows->len : t->pos;
	}
	rop_query_position_resp_write(out, &s);
	return 0;
}

int mapid_rop_seek_row(struct mapid_rop_ctx *rc, struct mapi_rd *r,
		       GByteArray *out)
{
	struct rop_seek_row_req q;
	struct rop_seek_row_resp s = { 0 };
	struct mapid_obj *t;
	int err = rop_seek_row_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_SEEK_ROW;
	s.head.handle_index = q.input_handle_index;
	t = table_at(rc, q.input_handle_index, &s.head.rv);
	if (t && q.origin > 2)
		s.head.rv = MAPI_E_INVALID_PARAMETER;
	else if (t) {
		int64_t len = t->rows->len;
		int64_t from = q.origin == 0 ? 0 : q.origin == 2 ? len
			: (t->pos > len ? len : t->pos);
		int64_t to = from + q.row_count;

		if (to < 0 || to > len) {
			s.has_sought_less = 1;
			to = to < 0 ? 0 : len;
		}
		s.rows_sought = (int32_t)(to - from);
		t->pos = (uint32_t)to;
	}
	rop_seek_row_resp_write(out, &s);
	return 0;
}
