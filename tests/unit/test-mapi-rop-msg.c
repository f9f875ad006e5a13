/*
 * test-mapi-rop-msg.c - wire/rop-msg.h against the recorded exchanges of
 * a real server: every message, stream, attachment, notification and ICS
 * ROP in the recordings 00, 04, 05, 07, 08 and 11 is read, checked
 * against what the recording's README says, written back byte for byte,
 * and read again cut short at every length.
 *
 * The Execute bodies around the ROP buffers (MS-OXCMAPIHTTP 2.2.4.2) are
 * stepped over by hand here; the ROPs of the other families in the same
 * buffers are stepped over with the property codec.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-buf.h"
#include "wire/mapi-prop.h"
#include "wire/mapi-propval.h"
#include "wire/mapi-tags.h"
#include "wire/rop-msg.h"
#include "wire/rop.h"
#include "mapi-trace.h"

#define MAX_ROPS 64

/* One ROP in a buffer. */
struct slice {
	uint8_t id;
	size_t off;
	size_t len;
};

/* What the walk keeps between the ROPs of one buffer (and the next). */
struct ctx {
	uint32_t *gps_tags;		/* the last GetPropertiesSpecific */
	size_t n_gps;
	uint32_t *table_cols;		/* the last SetColumns */
	size_t n_table;
	uint32_t *recip_cols;		/* the last OpenMessage's */
	size_t n_recip;
};

static void ctx_clear(struct ctx *c)
{
	g_free(c->gps_tags);
	g_free(c->table_cols);
	g_free(c->recip_cols);
	memset(c, 0, sizeof(*c));
}

/* A buffer of ROPs, requests or responses, and its handle table. */
struct walk {
	const uint8_t *req;		/* borrowed from the trace */
	size_t req_len;
	const uint8_t *resp;
	size_t resp_len;
	struct slice q[MAX_ROPS];
	size_t n_q;
	struct slice s[MAX_ROPS];
	size_t n_s;
	struct slice tr[MAX_ROPS];	/* the trailing entries */
	size_t n_tr;
	struct rop_frame fq, fs;
	size_t mine;			/* how many of ours were checked */
};

/* ---- stepping over the Execute bodies ---- */

/* RopBuffer: RPC_HEADER_EXT (Version, Flags, Size, SizeActual), then
 * Size bytes: never compressed or obfuscated in the recordings. */
static void rpc_payload(struct mapi_rd *r, const uint8_t **p, size_t *len)
{
	uint32_t size = mapi_rd_u32(r);
	struct mapi_rd b = mapi_rd_sub(r, size);
	uint16_t flags, hsize;

	g_assert_cmpuint(mapi_rd_u16(&b), ==, 0);	/* Version */
	flags = mapi_rd_u16(&b);
	g_assert_cmpuint(flags & 0x0003, ==, 0);	/* plain */
	g_assert_cmpuint(flags & 0x0004, ==, 0x0004);	/* Last */
	hsize = mapi_rd_u16(&b);
	g_assert_cmpuint(mapi_rd_u16(&b), ==, hsize);	/* SizeActual */
	g_assert_cmpint(mapi_rd_error(&b), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&b), ==, hsize);
	*p = mapi_rd_bytes(&b, hsize);
	*len = hsize;
}

/* The request: Flags, RopBufferSize, RopBuffer, MaxRopOut, AuxiliaryBuffer;
 * the response: StatusCode, ErrorCode, Flags, RopBufferSize, RopBuffer,
 * AuxiliaryBuffer. */
static void execute_bodies(const struct mapi_trace_exchange *x,
			   struct walk *w)
{
	struct mapi_rd r;

	g_assert_cmpstr(mapi_trace_req_header(x, "X-RequestType"), ==,
			"Execute");
	mapi_rd_init(&r, x->req, x->req_len);
	mapi_rd_u32(&r);
	rpc_payload(&r, &w->req, &w->req_len);
	mapi_rd_u32(&r);
	mapi_rd_skip(&r, mapi_rd_u32(&r));
	g_assert_cmpint(mapi_rd_error(&r), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);

	g_assert_cmpuint(x->resp_bin_off, >, 0);
	mapi_rd_init(&r, x->resp + x->resp_bin_off,
		     x->resp_len - x->resp_bin_off);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);	/* StatusCode */
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);	/* ErrorCode */
	mapi_rd_u32(&r);
	rpc_payload(&r, &w->resp, &w->resp_len);
	mapi_rd_skip(&r, mapi_rd_u32(&r));
	g_assert_cmpint(mapi_rd_error(&r), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
}

/* ---- the other families' ROPs, stepped over ---- */

static void skip_req(struct mapi_rd *r, struct ctx *c)
{
	uint8_t id = mapi_rd_u8(r);
	size_t n;

	mapi_rd_skip(r, 2);		/* LogonId, InputHandleIndex */
	switch (id) {
	case ROP_OPEN_FOLDER:
		mapi_rd_skip(r, 1 + 8 + 1);
		break;
	case ROP_GET_CONTENTS_TABLE:
	case ROP_GET_HIERARCHY_TABLE:
		mapi_rd_skip(r, 2);
		break;
	case ROP_GET_PROPERTIES_SPECIFIC:
		mapi_rd_skip(r, 4);
		g_free(c->gps_tags);
		g_assert_cmpint(mapi_tags_read(r, &c->gps_tags, &c->n_gps),
				==, 0);
		break;
	case ROP_SET_COLUMNS:
		mapi_rd_skip(r, 1);
		g_free(c->table_cols);
		g_assert_cmpint(mapi_tags_read(r, &c->table_cols,
					       &c->n_table), ==, 0);
		break;
	case ROP_QUERY_ROWS:
		mapi_rd_skip(r, 4);
		break;
	case ROP_SET_PROPERTIES:
		n = mapi_rd_u16(r);	/* PropertyValueSize */
		mapi_rd_skip(r, n);
		break;
	default:
		g_error("no way to step over request 0x%02x", id);
	}
}

static void skip_resp(struct mapi_rd *r, uint8_t id, struct ctx *c)
{
	struct rop_resp_head h;
	struct mapi_row *rows = NULL, row;
	struct mapi_problem *pp = NULL;
	size_t n;

	g_assert_cmpint(rop_resp_head_read(r, id, &h), ==, 0);
	if (h.rv)
		return;
	switch (id) {
	case ROP_OPEN_FOLDER:
		g_assert_cmpuint(mapi_rd_u8(r), ==, 0);	/* HasRules */
		g_assert_cmpuint(mapi_rd_u8(r), ==, 0);	/* IsGhosted */
		break;
	case ROP_GET_CONTENTS_TABLE:
	case ROP_GET_HIERARCHY_TABLE:
		mapi_rd_u32(r);
		break;
	case ROP_SET_COLUMNS:
		mapi_rd_u8(r);
		break;
	case ROP_GET_PROPERTIES_SPECIFIC:
		g_assert_cmpint(mapi_row_read(r, c->gps_tags, c->n_gps, 0,
					      &row), ==, 0);
		mapi_row_clear(&row);
		break;
	case ROP_QUERY_ROWS:
		mapi_rd_u8(r);
		n = mapi_rd_u16(r);
		g_assert_cmpint(mapi_rows_read(r, n, c->table_cols,
					       c->n_table, 0, &rows), ==, 0);
		mapi_rows_free(rows, n);
		break;
	case ROP_SET_PROPERTIES:
		g_assert_cmpint(mapi_problems_read(r, &pp, &n), ==, 0);
		g_free(pp);
		break;
	default:
		g_error("no way to step over response 0x%02x", id);
	}
}

/* ---- ours: read, write back, compare; read every shorter cut ---- */

typedef int (*rt_fn)(struct mapi_rd *r, GByteArray *out, struct ctx *c);

/* Read one, write it into `out`; the reader's result. */
#define RT(fn, T, rd, wr, clr)						\
	static int fn(struct mapi_rd *r, GByteArray *out, struct ctx *c) \
	{								\
		T v;							\
		int rc = rd(r, &v);					\
		(void)c;						\
		if (rc)							\
			return rc;					\
		wr(out, &v);						\
		clr;							\
		return 0;						\
	}

#define NOCLEAR (void)0

RT(q_release, struct rop_release_req, rop_release_req_read,
   rop_release_req_write, NOCLEAR)
RT(q_open_message, struct rop_open_message_req, rop_open_message_req_read,
   rop_open_message_req_write, NOCLEAR)
RT(q_create_message, struct rop_create_message_req,
   rop_create_message_req_read, rop_create_message_req_write, NOCLEAR)
RT(s_create_message, struct rop_create_message_resp,
   rop_create_message_resp_read, rop_create_message_resp_write, NOCLEAR)
RT(q_save_message, struct rop_save_changes_message_req,
   rop_save_changes_message_req_read, rop_save_changes_message_req_write,
   NOCLEAR)
RT(s_save_message, struct rop_save_changes_message_resp,
   rop_save_changes_message_resp_read, rop_save_changes_message_resp_write,
   NOCLEAR)
RT(q_read_recips, struct rop_read_recipients_req,
   rop_read_recipients_req_read, rop_read_recipients_req_write, NOCLEAR)
RT(q_modify_recips, struct rop_modify_recipients_req,
   rop_modify_recipients_req_read,
   (void)rop_modify_recipients_req_write,
   rop_modify_recipients_req_clear(&v))
RT(s_modify_recips, struct rop_modify_recipients_resp,
   rop_modify_recipients_resp_read, rop_modify_recipients_resp_write,
   NOCLEAR)
RT(s_read_flag, struct rop_set_message_read_flag_resp,
   rop_set_message_read_flag_resp_read,
   rop_set_message_read_flag_resp_write, NOCLEAR)
RT(q_delete, struct rop_delete_messages_req, rop_delete_messages_req_read,
   rop_delete_messages_req_write, rop_delete_messages_req_clear(&v))
RT(s_delete, struct rop_partial_resp, rop_delete_messages_resp_read,
   rop_delete_messages_resp_write, NOCLEAR)
RT(q_move_copy, struct rop_move_copy_messages_req,
   rop_move_copy_messages_req_read, rop_move_copy_messages_req_write,
   rop_move_copy_messages_req_clear(&v))
RT(s_move_copy, struct rop_move_copy_messages_resp,
   rop_move_copy_messages_resp_read, rop_move_copy_messages_resp_write,
   NOCLEAR)
RT(q_open_embedded, struct rop_open_embedded_message_req,
   rop_open_embedded_message_req_read, rop_open_embedded_message_req_write,
   NOCLEAR)
RT(q_open_stream, struct rop_open_stream_req, rop_open_stream_req_read,
   rop_open_stream_req_write, NOCLEAR)
RT(s_open_stream, struct rop_open_stream_resp, rop_open_stream_resp_read,
   rop_open_stream_resp_write, NOCLEAR)
RT(q_read_stream, struct rop_read_stream_req, rop_read_stream_req_read,
   rop_read_stream_req_write, NOCLEAR)
RT(s_read_stream, struct rop_read_stream_resp, rop_read_stream_resp_read,
   rop_read_stream_resp_write, NOCLEAR)
RT(q_attach_table, struct rop_get_attachment_table_req,
   rop_get_attachment_table_req_read, rop_get_attachment_table_req_write,
   NOCLEAR)
RT(s_attach_table, struct rop_attach_resp,
   rop_get_attachment_table_resp_read, rop_get_attachment_table_resp_write,
   NOCLEAR)
RT(q_open_attach, struct rop_open_attachment_req,
   rop_open_attachment_req_read, rop_open_attachment_req_write, NOCLEAR)
RT(s_open_attach, struct rop_attach_resp, rop_open_attachment_resp_read,
   rop_open_attachment_resp_write, NOCLEAR)
RT(q_register, struct rop_register_notification_req,
   rop_register_notification_req_read, rop_register_notification_req_write,
   NOCLEAR)
RT(s_register, struct rop_register_notification_resp,
   rop_register_notification_resp_read,
   rop_register_notification_resp_write, NOCLEAR)
RT(q_sync_configure, struct rop_sync_configure_req,
   rop_sync_configure_req_read, rop_sync_configure_req_write,
   rop_sync_configure_req_clear(&v))
RT(s_sync_configure, struct rop_sync_resp, rop_sync_configure_resp_read,
   rop_sync_configure_resp_write, NOCLEAR)
RT(q_upload_begin, struct rop_sync_upload_begin_req,
   rop_sync_upload_begin_req_read, rop_sync_upload_begin_req_write, NOCLEAR)
RT(s_upload_begin, struct rop_sync_resp, rop_sync_upload_begin_resp_read,
   rop_sync_upload_begin_resp_write, NOCLEAR)
RT(q_upload_end, struct rop_sync_upload_end_req,
   rop_sync_upload_end_req_read, rop_sync_upload_end_req_write, NOCLEAR)
RT(s_upload_end, struct rop_sync_resp, rop_sync_upload_end_resp_read,
   rop_sync_upload_end_resp_write, NOCLEAR)
RT(q_get_buffer, struct rop_ft_get_buffer_req, rop_ft_get_buffer_req_read,
   rop_ft_get_buffer_req_write, NOCLEAR)
RT(s_get_buffer, struct rop_ft_get_buffer_resp, rop_ft_get_buffer_resp_read,
   rop_ft_get_buffer_resp_write, NOCLEAR)

/* The recorded client is a private-store logon: no ClientData. */
static int q_read_flag(struct mapi_rd *r, GByteArray *out, struct ctx *c)
{
	struct rop_set_message_read_flag_req v;
	int rc = rop_set_message_read_flag_req_read(r, &v, false);

	(void)c;
	if (!rc)
		rop_set_message_read_flag_req_write(out, &v, false);
	return rc;
}

/* The recipient columns of an opened message are what RopReadRecipients
 * in the same buffer reads against. */
static int s_open_message(struct mapi_rd *r, GByteArray *out, struct ctx *c)
{
	struct rop_open_message_resp v;
	int rc = rop_open_message_resp_read(r, &v);

	if (rc)
		return rc;
	g_assert_cmpint(rop_open_message_resp_write(out, &v), ==, 0);
	g_free(c->recip_cols);
	c->recip_cols = g_memdup2(v.msg.cols, v.msg.n_cols * 4);
	c->n_recip = v.msg.n_cols;
	rop_open_message_resp_clear(&v);
	return 0;
}

static int s_open_embedded(struct mapi_rd *r, GByteArray *out, struct ctx *c)
{
	struct rop_open_embedded_message_resp v;
	int rc = rop_open_embedded_message_resp_read(r, &v);

	(void)c;
	if (rc)
		return rc;
	g_assert_cmpint(rop_open_embedded_message_resp_write(out, &v), ==, 0);
	rop_open_embedded_message_resp_clear(&v);
	return 0;
}

static int s_read_recips(struct mapi_rd *r, GByteArray *out, struct ctx *c)
{
	struct rop_read_recipients_resp v;
	int rc = rop_read_recipients_resp_read(r, &v, c->recip_cols,
					       c->n_recip);

	if (rc)
		return rc;
	g_assert_cmpint(rop_read_recipients_resp_write(out, &v, c->recip_cols,
						       c->n_recip), ==, 0);
	rop_read_recipients_resp_clear(&v);
	return 0;
}

static int s_trailer(struct mapi_rd *r, GByteArray *out, struct ctx *c)
{
	struct rop_trailer v;
	int rc = rop_trailer_read(r, &v);

	(void)c;
	if (rc)
		return rc;
	g_assert_cmpint(rop_trailer_write(out, &v), ==, 0);
	rop_trailer_clear(&v);
	return 0;
}

struct ours {
	uint8_t id;
	rt_fn req;
	rt_fn resp;			/* NULL: no response (RopRelease) */
};

static const struct ours ours[] = {
	{ ROP_RELEASE, q_release, NULL },
	{ ROP_OPEN_MESSAGE, q_open_message, s_open_message },
	{ ROP_CREATE_MESSAGE, q_create_message, s_create_message },
	{ ROP_SAVE_CHANGES_MESSAGE, q_save_message, s_save_message },
	{ ROP_READ_RECIPIENTS, q_read_recips, s_read_recips },
	{ ROP_MODIFY_RECIPIENTS, q_modify_recips, s_modify_recips },
	{ ROP_SET_MESSAGE_READ_FLAG, q_read_flag, s_read_flag },
	{ ROP_DELETE_MESSAGES, q_delete, s_delete },
	{ ROP_MOVE_COPY_MESSAGES, q_move_copy, s_move_copy },
	{ ROP_OPEN_EMBEDDED_MESSAGE, q_open_embedded, s_open_embedded },
	{ ROP_OPEN_STREAM, q_open_stream, s_open_stream },
	{ ROP_READ_STREAM, q_read_stream, s_read_stream },
	{ ROP_GET_ATTACHMENT_TABLE, q_attach_table, s_attach_table },
	{ ROP_OPEN_ATTACHMENT, q_open_attach, s_open_attach },
	{ ROP_REGISTER_NOTIFICATION, q_register, s_register },
	{ ROP_SYNCHRONIZATION_CONFIGURE, q_sync_configure, s_sync_configure },
	{ ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_BEGIN, q_upload_begin,
	  s_upload_begin },
	{ ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_END, q_upload_end,
	  s_upload_end },
	{ ROP_FAST_TRANSFER_SOURCE_GET_BUFFER, q_get_buffer, s_get_buffer },
};

static const struct ours *ours_find(uint8_t id)
{
	for (size_t i = 0; i < G_N_ELEMENTS(ours); i++)
		if (ours[i].id == id)
			return &ours[i];
	return NULL;
}

/*
 * Run fn over p[0..len): it must read exactly len bytes and write them
 * back the same; and fail on every shorter cut.
 */
static void check_one(rt_fn fn, const uint8_t *p, size_t len,
		      struct ctx *c)
{
	GByteArray *out = g_byte_array_new();
	struct mapi_rd r;

	mapi_rd_init(&r, p, len);
	g_assert_cmpint(fn(&r, out, c), ==, 0);
	g_assert_cmpint(mapi_rd_error(&r), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_assert_cmpmem(out->data, out->len, p, len);
	for (size_t cut = 0; cut < len; cut++) {
		g_byte_array_set_size(out, 0);
		mapi_rd_init(&r, p, cut);
		g_assert_cmpint(fn(&r, out, c), <, 0);
	}
	g_byte_array_unref(out);
}

/* The length of the ROP at r, read with fn. */
static size_t measure(rt_fn fn, const struct mapi_rd *at, struct ctx *c)
{
	struct mapi_rd r = *at;
	GByteArray *out = g_byte_array_new();

	g_assert_cmpint(fn(&r, out, c), ==, 0);
	g_byte_array_unref(out);
	return r.off - at->off;
}

/*
 * Walk one Execute: the requests, then their responses in order (none
 * for RopRelease), then the trailing entries.  Ours are checked with
 * check_one; the others are stepped over.
 */
static void walk(const struct mapi_trace_exchange *x, struct walk *w,
		 struct ctx *c)
{
	struct mapi_rd r;
	size_t i;

	memset(w, 0, sizeof(*w));
	execute_bodies(x, w);
	g_assert_cmpint(rop_frame_read(w->req, w->req_len, &w->fq), ==, 0);
	g_assert_cmpint(rop_frame_read(w->resp, w->resp_len, &w->fs), ==, 0);

	mapi_rd_init(&r, w->fq.rops, w->fq.rops_len);
	while (mapi_rd_left(&r)) {
		struct slice *sl = &w->q[w->n_q++];
		const struct ours *o;

		g_assert_cmpuint(w->n_q, <=, MAX_ROPS);
		sl->id = r.p[r.off];
		sl->off = r.off;
		o = ours_find(sl->id);
		if (o) {
			sl->len = measure(o->req, &r, c);
			check_one(o->req, r.p + r.off, sl->len, c);
			mapi_rd_skip(&r, sl->len);
			w->mine++;
		} else {
			skip_req(&r, c);
			sl->len = r.off - sl->off;
		}
		g_assert_cmpint(mapi_rd_error(&r), ==, 0);
	}

	mapi_rd_init(&r, w->fs.rops, w->fs.rops_len);
	for (i = 0; i < w->n_q; i++) {
		const struct ours *o = ours_find(w->q[i].id);
		struct slice *sl;

		if (w->q[i].id == ROP_RELEASE)
			continue;
		sl = &w->s[w->n_s++];
		sl->id = w->q[i].id;
		sl->off = r.off;
		g_assert_cmpuint(r.p[r.off], ==, sl->id);
		if (o) {
			sl->len = measure(o->resp, &r, c);
			check_one(o->resp, r.p + r.off, sl->len, c);
			mapi_rd_skip(&r, sl->len);
			w->mine++;
		} else {
			skip_resp(&r, sl->id, c);
			sl->len = r.off - sl->off;
		}
		g_assert_cmpint(mapi_rd_error(&r), ==, 0);
	}
	while (mapi_rd_left(&r)) {
		struct slice *sl = &w->tr[w->n_tr++];

		g_assert_cmpuint(w->n_tr, <=, MAX_ROPS);
		sl->id = r.p[r.off];
		sl->off = r.off;
		sl->len = measure(s_trailer, &r, c);
		check_one(s_trailer, r.p + r.off, sl->len, c);
		mapi_rd_skip(&r, sl->len);
	}
}

static void walk_clear(struct walk *w)
{
	rop_frame_clear(&w->fq);
	rop_frame_clear(&w->fs);
}

/* The exchange with this seq. */
static const struct mapi_trace_exchange *seq(const struct mapi_trace *t,
					     int n)
{
	for (size_t i = 0; i < mapi_trace_count(t); i++)
		if (mapi_trace_at(t, i)->seq == n)
			return mapi_trace_at(t, i);
	g_error("no exchange %d", n);
}

/* A reader over the nth response of a walk. */
static struct mapi_rd resp_at(const struct walk *w, size_t i)
{
	struct mapi_rd r;

	g_assert_cmpuint(i, <, w->n_s);
	mapi_rd_init(&r, w->fs.rops + w->s[i].off, w->s[i].len);
	return r;
}

static struct mapi_rd req_at(const struct walk *w, size_t i)
{
	struct mapi_rd r;

	g_assert_cmpuint(i, <, w->n_q);
	mapi_rd_init(&r, w->fq.rops + w->q[i].off, w->q[i].len);
	return r;
}

/* Walk every Execute of a recording; how many of ours were checked. */
static size_t walk_all(const char *name)
{
	struct mapi_trace *t = mapi_trace_load(name);
	struct ctx c = { 0 };
	size_t mine = 0;

	for (size_t i = 0; i < mapi_trace_count(t); i++) {
		const struct mapi_trace_exchange *x = mapi_trace_at(t, i);
		struct walk w;

		if (strncmp(x->step, "Execute", 7) || x->status != 200 ||
		    !x->resp_bin_off)
			continue;
		if (strstr(x->step, "RopLogon"))
			continue;	/* the first person's family alone */
		walk(x, &w, &c);
		mine += w.mine + w.n_tr;
		walk_clear(&w);
	}
	ctx_clear(&c);
	mapi_trace_free(t);
	return mine;
}

#define INBOX UINT64_C(0x0D00000000000001)

/* Walk the exchanges listed (0-terminated) of a recording. */
static size_t walk_seqs(const char *name, const int *seqs)
{
	struct mapi_trace *t = mapi_trace_load(name);
	struct ctx c = { 0 };
	size_t mine = 0;

	for (; *seqs; seqs++) {
		struct walk w;

		walk(seq(t, *seqs), &w, &c);
		mine += w.mine + w.n_tr;
		walk_clear(&w);
	}
	ctx_clear(&c);
	mapi_trace_free(t);
	return mine;
}

static const char *tstr(const struct mapi_tstr *s)
{
	return s->str;
}

static void check_recip(const struct rop_recip *rc, uint8_t type,
			uint16_t flags, const char *email, const char *name)
{
	const struct mapi_props *p = &rc->row.props.props;

	g_assert_cmpuint(rc->recip_type, ==, type);
	g_assert_cmpuint(rc->code_page, ==, 1252);
	g_assert_cmpuint(rc->row.flags, ==, flags);
	g_assert_cmpuint(rc->row.flags & ROP_RECIP_TYPE_MASK, ==,
			 ROP_RECIP_SMTP);
	g_assert_cmpstr(rc->row.email, ==, email);
	g_assert_cmpstr(rc->row.display_name, ==, name);
	g_assert_null(rc->row.transmittable_name);
	g_assert_cmpstr(mapi_props_str(p, MAPI_TAG_ID(MAPI_TAG_SMTP_ADDRESS)),
			==, email);
	g_assert_cmpint(mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_OBJECT_TYPE), -1),
			==, 6);
	g_assert_cmpint(mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_DISPLAY_TYPE),
				     -1), ==, 0);
}

/* 04: OpenMessage and ReadRecipients of the Cc/Bcc message, the columns
 * gromox sends, RecipientFlags 0x02DB. */
static void test_read_message_recipients(void)
{
	static const uint32_t cols[] = {
		MAPI_TAG_RECORD_KEY, MAPI_TAG_OBJECT_TYPE,
		MAPI_TAG_DISPLAY_TYPE, MAPI_TAG_SMTP_ADDRESS,
		MAPI_TAG_RECIPIENT_ENTRYID, MAPI_TAG_RECIPIENT_FLAGS,
	};
	struct mapi_trace *t = mapi_trace_load("04-read-message");
	struct ctx c = { 0 };
	struct walk w;
	struct rop_open_message_req q;
	struct rop_open_message_resp s;
	struct rop_read_recipients_resp rr;
	struct mapi_rd r;
	const struct mapi_value *v;

	walk(seq(t, 12), &w, &c);
	r = req_at(&w, 0);
	g_assert_cmpint(rop_open_message_req_read(&r, &q), ==, 0);
	g_assert_cmpuint(q.code_page, ==, 0x0FFF);
	g_assert_cmpuint(q.folder_id, ==, INBOX);
	g_assert_cmpuint(q.open_mode, ==, ROP_OPEN_READ_ONLY);
	g_assert_cmpuint(q.message_id, ==, UINT64_C(0x0800030000000001));
	g_assert_cmpuint(q.output_handle_index, ==, 1);

	r = resp_at(&w, 0);
	g_assert_cmpint(rop_open_message_resp_read(&r, &s), ==, 0);
	g_assert_cmpuint(s.head.rv, ==, 0);
	g_assert_cmpuint(s.head.handle_index, ==, 1);
	g_assert_cmpuint(w.fs.handles[1], !=, 0xFFFFFFFF);
	g_assert_cmpuint(s.msg.has_named_props, ==, 0);
	g_assert_cmpuint(s.msg.subject_prefix.type, ==, MAPI_TSTR_UNICODE);
	g_assert_cmpstr(tstr(&s.msg.subject_prefix), ==, "");
	g_assert_cmpstr(tstr(&s.msg.normalized_subject), ==,
			"Meeting notes (Cc and Bcc)");
	g_assert_cmpuint(s.msg.recip_count, ==, 4);
	g_assert_cmpmem(s.msg.cols, s.msg.n_cols * 4, cols, sizeof(cols));
	g_assert_cmpuint(s.msg.n_rows, ==, 4);
	check_recip(&s.msg.rows[0], MAPI_TO, 0x02DB, "alice@example.test",
		    "Alice Test");
	check_recip(&s.msg.rows[1], MAPI_CC, 0x02DB, "carol@example.test",
		    "Carol Colleague");
	check_recip(&s.msg.rows[2], MAPI_CC, 0x02DB, "erin@external.test",
		    "Erin External");
	check_recip(&s.msg.rows[3], MAPI_BCC, 0x02DB, "dave@external.test",
		    "Dave Hidden");
	v = mapi_props_get(&s.msg.rows[0].row.props.props,
			   MAPI_TAG_ID(MAPI_TAG_RECORD_KEY));
	g_assert_nonnull(v);
	g_assert_cmpuint(v->v.bin.len, ==, 137);

	/* ReadRecipients: the same four, with RowIds */
	r = resp_at(&w, 2);
	g_assert_cmpint(rop_read_recipients_resp_read(&r, &rr, s.msg.cols,
						      s.msg.n_cols), ==, 0);
	g_assert_cmpuint(rr.n_rows, ==, 4);
	for (size_t i = 0; i < 4; i++) {
		g_assert_cmpuint(rr.rows[i].row_id, ==, i);
		g_assert_cmpuint(rr.rows[i].recip_type, ==,
				 s.msg.rows[i].recip_type);
		g_assert_cmpstr(rr.rows[i].row.email, ==,
				s.msg.rows[i].row.email);
	}
	rop_read_recipients_resp_clear(&rr);

	/* without the recipient columns the rows cannot be read */
	r = resp_at(&w, 2);
	g_assert_cmpint(rop_read_recipients_resp_read(&r, &rr, cols, 2), ==,
			-EPROTO);
	rop_open_message_resp_clear(&s);
	walk_clear(&w);
	ctx_clear(&c);
	mapi_trace_free(t);
}

static void sha256_is(const uint8_t *p, size_t len, const char *hex)
{
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);

	g_checksum_update(ck, p, (gssize)len);
	g_assert_cmpstr(g_checksum_get_string(ck), ==, hex);
	g_checksum_free(ck);
}

/* 04 #18-#41: OpenStream(PidTagBody) and 23 ReadStreams give back the
 * whole 614398-byte body. */
static void test_read_stream(void)
{
	struct mapi_trace *t = mapi_trace_load("04-read-message");
	GByteArray *body = g_byte_array_new();
	struct ctx c = { 0 };
	struct walk w;
	struct mapi_rd r;
	struct rop_open_stream_req oq;
	struct rop_open_stream_resp os;
	struct rop_read_stream_req rq;
	struct rop_read_stream_resp rs;
	char *first;

	walk(seq(t, 18), &w, &c);
	r = req_at(&w, 2);
	g_assert_cmpint(rop_open_stream_req_read(&r, &oq), ==, 0);
	g_assert_cmpuint(oq.tag, ==, MAPI_TAG_BODY);
	g_assert_cmpuint(oq.open_mode, ==, ROP_STREAM_READ_ONLY);
	r = resp_at(&w, 2);
	g_assert_cmpint(rop_open_stream_resp_read(&r, &os), ==, 0);
	g_assert_cmpuint(os.stream_size, ==, 614398);
	walk_clear(&w);

	for (int n = 19; n <= 41; n++) {
		walk(seq(t, n), &w, &c);
		g_assert_cmpuint(w.n_q, ==, 1);
		r = req_at(&w, 0);
		g_assert_cmpint(rop_read_stream_req_read(&r, &rq), ==, 0);
		r = resp_at(&w, 0);
		g_assert_cmpint(rop_read_stream_resp_read(&r, &rs), ==, 0);
		if (n == 19) {
			g_assert_cmpuint(rq.byte_count, ==, 0xBABE);
			g_assert_cmpuint(rq.max_byte_count, ==, 0x100000);
			g_assert_cmpuint(rs.len, ==, 32738);
		} else if (n < 40) {
			g_assert_cmpuint(rq.byte_count, ==, 0x7000);
			g_assert_cmpuint(rs.len, ==, 28672);
		} else if (n == 40) {
			g_assert_cmpuint(rs.len, ==, 8220);
		} else {
			g_assert_cmpuint(rs.len, ==, 0);
		}
		g_byte_array_append(body, rs.data, rs.len);
		walk_clear(&w);
	}
	g_assert_cmpuint(body->len, ==, 614398);
	sha256_is(body->data, body->len, "fad2c779eb013673a6b08b741c9aa96f"
		  "2a6b5285396b8013c6c6d065f96a0ca2");
	mapi_rd_init(&r, body->data, 24);
	first = mapi_rd_utf16n(&r, 24);
	g_assert_cmpstr(first, ==, "Line 00000: ");
	g_free(first);
	g_byte_array_unref(body);
	ctx_clear(&c);
	mapi_trace_free(t);
}

/* 04 #43-#45, #49-#50: the attachment table, the PDF's data stream and
 * the attached message. */
static void test_attachments(void)
{
	struct mapi_trace *t = mapi_trace_load("04-read-message");
	struct ctx c = { 0 };
	struct walk w;
	struct mapi_rd r;
	struct rop_get_attachment_table_req tq;
	struct rop_open_attachment_req aq;
	struct rop_open_stream_resp os;
	struct rop_read_stream_resp rs;
	struct rop_open_embedded_message_req eq;
	struct rop_open_embedded_message_resp es;

	walk(seq(t, 43), &w, &c);
	r = req_at(&w, 1);
	g_assert_cmpint(rop_get_attachment_table_req_read(&r, &tq), ==, 0);
	g_assert_cmpuint(tq.table_flags, ==, 0x40);
	walk_clear(&w);

	walk(seq(t, 44), &w, &c);
	r = req_at(&w, 0);
	g_assert_cmpint(rop_open_attachment_req_read(&r, &aq), ==, 0);
	g_assert_cmpuint(aq.attach_num, ==, 0);
	g_assert_cmpuint(aq.open_flags, ==, ROP_OPEN_READ_ONLY);
	r = resp_at(&w, 2);
	g_assert_cmpint(rop_open_stream_resp_read(&r, &os), ==, 0);
	g_assert_cmpuint(os.stream_size, ==, 4096);
	walk_clear(&w);

	walk(seq(t, 45), &w, &c);
	r = resp_at(&w, 0);
	g_assert_cmpint(rop_read_stream_resp_read(&r, &rs), ==, 0);
	g_assert_cmpuint(rs.len, ==, 4096);
	g_assert_cmpmem(rs.data, 8, "%PDF-1.4", 8);
	sha256_is(rs.data, rs.len, "34276f15c94f227d40f561156232781e"
		  "bcd799053792167f3196e75dadf13a9f");
	walk_clear(&w);

	walk(seq(t, 50), &w, &c);
	r = req_at(&w, 1);
	g_assert_cmpint(rop_open_embedded_message_req_read(&r, &eq), ==, 0);
	g_assert_cmpuint(eq.code_page, ==, 0x0FFF);
	g_assert_cmpuint(eq.open_mode, ==, ROP_OPEN_READ_ONLY);
	r = resp_at(&w, 1);
	g_assert_cmpint(rop_open_embedded_message_resp_read(&r, &es), ==, 0);
	g_assert_cmpuint(es.message_id, ==, UINT64_C(0x0001000000000001));
	g_assert_cmpstr(tstr(&es.msg.normalized_subject), ==,
			"Inner forwarded message");
	g_assert_cmpuint(es.msg.recip_count, ==, 1);
	g_assert_cmpuint(es.msg.n_rows, ==, 1);
	check_recip(&es.msg.rows[0], MAPI_TO, 0x02DB, "bob@example.test",
		    "Bob Sender");
	rop_open_embedded_message_resp_clear(&es);
	walk_clear(&w);
	ctx_clear(&c);
	mapi_trace_free(t);
}

/* 05: create, recipients, save; read flags; move; delete. */
static void test_write(void)
{
	static const uint32_t cols[] = {
		MAPI_TAG_OBJECT_TYPE, MAPI_TAG_DISPLAY_TYPE,
		MAPI_TAG_SMTP_ADDRESS, MAPI_TAG_RECIPIENT_DISPLAY_NAME,
	};
	static const uint8_t flags[] = { 0x00, 0x04, 0x01 };
	const uint64_t created = UINT64_C(0x03001D0000000001);
	struct mapi_trace *t = mapi_trace_load("05-write");
	struct ctx c = { 0 };
	struct walk w;
	struct mapi_rd r;
	struct rop_create_message_resp cs;
	struct rop_modify_recipients_req mq;
	struct rop_save_changes_message_req sq;
	struct rop_save_changes_message_resp ss;
	struct rop_open_message_resp os;
	struct rop_read_recipients_resp rr;
	struct rop_set_message_read_flag_req fq;
	struct rop_set_message_read_flag_resp fs;
	struct rop_move_copy_messages_req mvq;
	struct rop_move_copy_messages_resp mvs;
	struct rop_delete_messages_req dq;
	struct rop_partial_resp ds;

	walk(seq(t, 8), &w, &c);
	r = resp_at(&w, 0);
	g_assert_cmpint(rop_create_message_resp_read(&r, &cs), ==, 0);
	g_assert_cmpuint(cs.has_message_id, ==, 1);
	g_assert_cmpuint(cs.message_id, ==, created);
	r = req_at(&w, 2);
	g_assert_cmpint(rop_modify_recipients_req_read(&r, &mq), ==, 0);
	g_assert_cmpmem(mq.cols, mq.n_cols * 4, cols, sizeof(cols));
	g_assert_cmpuint(mq.n_rows, ==, 2);
	g_assert_cmpuint(mq.rows[0].row_id, ==, 0);
	g_assert_cmpuint(mq.rows[0].recip_type, ==, MAPI_TO);
	g_assert_true(mq.rows[0].has_row);
	g_assert_cmpuint(mq.rows[0].row.flags, ==, 0x025B);
	g_assert_cmpstr(mq.rows[0].row.email, ==, "carol@example.test");
	g_assert_cmpstr(mapi_props_str(&mq.rows[0].row.props.props,
			MAPI_TAG_ID(MAPI_TAG_RECIPIENT_DISPLAY_NAME)), ==,
			"Carol Colleague");
	g_assert_cmpuint(mq.rows[1].recip_type, ==, MAPI_CC);
	g_assert_cmpstr(mq.rows[1].row.display_name, ==, "Erin External");
	rop_modify_recipients_req_clear(&mq);
	r = req_at(&w, 3);
	g_assert_cmpint(rop_save_changes_message_req_read(&r, &sq), ==, 0);
	g_assert_cmpuint(sq.save_flags, ==, ROP_SAVE_KEEP_OPEN_READ_WRITE);
	r = resp_at(&w, 3);
	g_assert_cmpint(rop_save_changes_message_resp_read(&r, &ss), ==, 0);
	g_assert_cmpuint(ss.message_id, ==, created);
	g_assert_cmpuint(ss.input_handle_index, ==, sq.input_handle_index);
	walk_clear(&w);

	/* read back: the server's flags for written recipients, 0x021B */
	walk(seq(t, 10), &w, &c);
	r = resp_at(&w, 0);
	g_assert_cmpint(rop_open_message_resp_read(&r, &os), ==, 0);
	g_assert_cmpstr(tstr(&os.msg.normalized_subject), ==,
			"Created over MAPI/HTTP");
	r = resp_at(&w, 1);
	g_assert_cmpint(rop_read_recipients_resp_read(&r, &rr, os.msg.cols,
						      os.msg.n_cols), ==, 0);
	g_assert_cmpuint(rr.n_rows, ==, 2);
	g_assert_cmpuint(rr.rows[0].row.flags, ==, 0x021B);
	g_assert_cmpuint(rr.rows[1].row.flags, ==, 0x021B);
	g_assert_cmpstr(rr.rows[1].row.email, ==, "erin@external.test");
	rop_read_recipients_resp_clear(&rr);
	rop_open_message_resp_clear(&os);
	walk_clear(&w);

	for (int n = 13; n <= 15; n++) {
		walk(seq(t, n), &w, &c);
		r = req_at(&w, 1);
		g_assert_cmpint(rop_set_message_read_flag_req_read(&r, &fq,
			false), ==, 0);
		g_assert_cmpuint(fq.read_flags, ==, flags[n - 13]);
		r = resp_at(&w, 1);
		g_assert_cmpint(rop_set_message_read_flag_resp_read(&r, &fs),
				==, 0);
		g_assert_cmpuint(fs.read_status_changed, ==, 0);
		walk_clear(&w);
	}

	walk(seq(t, 16), &w, &c);
	r = req_at(&w, 0);
	g_assert_cmpint(rop_move_copy_messages_req_read(&r, &mvq), ==, 0);
	g_assert_cmpuint(mvq.n_mids, ==, 1);
	g_assert_cmpuint(mvq.mids[0], ==, UINT64_C(0x0200030000000001));
	g_assert_cmpuint(mvq.want_copy, ==, 0);
	rop_move_copy_messages_req_clear(&mvq);
	r = resp_at(&w, 0);
	g_assert_cmpint(rop_move_copy_messages_resp_read(&r, &mvs), ==, 0);
	g_assert_cmpuint(mvs.partial, ==, 0);
	walk_clear(&w);

	walk(seq(t, 19), &w, &c);
	r = req_at(&w, 0);
	g_assert_cmpint(rop_delete_messages_req_read(&r, &dq), ==, 0);
	g_assert_cmpuint(dq.n_mids, ==, 1);
	g_assert_cmpuint(dq.mids[0], ==, created);
	rop_delete_messages_req_clear(&dq);
	r = resp_at(&w, 0);
	g_assert_cmpint(rop_delete_messages_resp_read(&r, &ds), ==, 0);
	g_assert_cmpuint(ds.head.rv, ==, 0);
	walk_clear(&w);
	ctx_clear(&c);
	mapi_trace_free(t);
}

/* The trailing entries of a walk, read. */
static struct rop_trailer *trailers(const struct walk *w, size_t *n_r)
{
	struct rop_trailer *t;
	struct mapi_rd r;
	size_t off = w->n_tr ? w->tr[0].off : w->fs.rops_len;

	mapi_rd_init(&r, w->fs.rops + off, w->fs.rops_len - off);
	g_assert_cmpint(rop_trailers_read(&r, &t, n_r), ==, 0);
	g_assert_cmpuint(*n_r, ==, w->n_tr);
	return t;
}

/* 07: RegisterNotification, then the four RopNotify entries fetched with
 * an empty ROP list after a mail came in. */
static void test_notifications(void)
{
	static const uint32_t cols[] = {
		MAPI_TAG_MID, MAPI_TAG_SUBJECT, MAPI_TAG_MESSAGE_FLAGS,
	};
	const uint64_t mid = UINT64_C(0x0C00030000000001);
	struct mapi_trace *t = mapi_trace_load("07-notifications");
	struct ctx c = { 0 };
	struct walk w;
	struct mapi_rd r;
	struct rop_register_notification_req q;
	struct rop_register_notification_resp s;
	struct rop_trailer *tr;
	struct rop_notification *n;
	struct mapi_row row;
	size_t nt;

	walk(seq(t, 3), &w, &c);
	r = req_at(&w, 4);
	g_assert_cmpint(rop_register_notification_req_read(&r, &q), ==, 0);
	g_assert_cmpuint(q.types, ==, 0x7E);
	g_assert_cmpuint(q.want_whole_store, ==, 0);
	g_assert_cmpuint(q.folder_id, ==, INBOX);
	g_assert_cmpuint(q.message_id, ==, 0);
	r = resp_at(&w, 4);
	g_assert_cmpint(rop_register_notification_resp_read(&r, &s), ==, 0);
	g_assert_cmpuint(w.fs.handles[s.head.handle_index], ==, 3);
	walk_clear(&w);

	walk(seq(t, 5), &w, &c);
	g_assert_cmpuint(w.n_q, ==, 0);
	tr = trailers(&w, &nt);
	g_assert_cmpuint(nt, ==, 4);
	for (size_t i = 0; i < nt; i++)
		g_assert_cmpuint(tr[i].rop_id, ==, ROP_NOTIFY);

	n = &tr[0].u.notify.data;
	g_assert_cmpuint(tr[0].u.notify.handle, ==, 3);
	g_assert_cmpuint(n->flags, ==, ROP_NOTIF_OBJECT_CREATED | ROP_NOTIF_M);
	g_assert_cmpuint(n->fid, ==, INBOX);
	g_assert_cmpuint(n->mid, ==, mid);
	g_assert_cmpuint(n->tag_count, ==, 0);

	n = &tr[1].u.notify.data;
	g_assert_cmpuint(tr[1].u.notify.handle, ==, 2);
	g_assert_cmpuint(n->flags, ==, ROP_NOTIF_TABLE_MODIFIED | ROP_NOTIF_M);
	g_assert_cmpuint(n->table_event, ==, ROP_TABLE_ROW_ADDED);
	g_assert_cmpuint(n->row_fid, ==, INBOX);
	g_assert_cmpuint(n->row_mid, ==, mid);
	g_assert_cmpuint(n->after_mid, ==, UINT64_C(0x0B00030000000001));
	g_assert_cmpuint(n->row_len, ==, 79);
	g_assert_cmpint(rop_notification_row(n, cols, 3, &row), ==, 0);
	g_assert_cmpuint(row.flagged, ==, 0);
	g_assert_cmpuint(mapi_props_get(&row.props, MAPI_TAG_ID(MAPI_TAG_MID))
			 ->v.i8, ==, (int64_t)mid);
	g_assert_cmpstr(mapi_props_str(&row.props,
				       MAPI_TAG_ID(MAPI_TAG_SUBJECT)), ==,
			"New mail during NotificationWait");
	g_assert_cmpint(mapi_props_l(&row.props,
				     MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS), -1),
			==, 2);
	mapi_row_clear(&row);
	/* two columns leave bytes over */
	g_assert_cmpint(rop_notification_row(n, cols, 2, &row), ==, -EPROTO);

	n = &tr[2].u.notify.data;
	g_assert_cmpuint(n->flags, ==, ROP_NOTIF_OBJECT_MODIFIED |
			 ROP_NOTIF_T | ROP_NOTIF_U);
	g_assert_cmpuint(n->fid, ==, INBOX);
	g_assert_cmpuint(n->total, ==, 12);
	g_assert_cmpuint(n->unread, ==, 10);
	g_assert_cmpint(rop_notification_row(n, cols, 3, &row), ==, -EPROTO);

	n = &tr[3].u.notify.data;
	g_assert_cmpuint(n->flags, ==, ROP_NOTIF_NEW_MAIL | ROP_NOTIF_M);
	g_assert_cmpuint(n->mid, ==, mid);
	g_assert_cmpuint(n->message_flags, ==, 2);
	g_assert_cmpuint(n->unicode, ==, 0);
	g_assert_cmpstr(n->message_class, ==, "IPM.Note");
	rop_trailers_free(tr, nt);
	walk_clear(&w);

	/* the table still answers, with the new row last */
	walk(seq(t, 6), &w, &c);
	walk_clear(&w);
	ctx_clear(&c);
	mapi_trace_free(t);
}

/* 00 #5: a RopNotify after the regular responses of SetMessageReadFlag. */
static void test_trailing_notify(void)
{
	static const uint32_t cols[] = {
		MAPI_TAG_MID, MAPI_TAG_SUBJECT, MAPI_TAG_MESSAGE_FLAGS,
	};
	struct mapi_trace *t = mapi_trace_load("00-setup");
	struct ctx c = { 0 };
	struct walk w;
	struct rop_trailer *tr;
	struct mapi_row row;
	size_t nt;

	walk(seq(t, 5), &w, &c);
	g_assert_cmpuint(w.n_s, ==, 2);
	tr = trailers(&w, &nt);
	g_assert_cmpuint(nt, ==, 1);
	g_assert_cmpuint(tr[0].rop_id, ==, ROP_NOTIFY);
	g_assert_cmpuint(tr[0].u.notify.data.table_event, ==,
			 ROP_TABLE_ROW_MODIFIED);
	g_assert_cmpuint(tr[0].u.notify.data.row_mid, ==,
			 UINT64_C(0x0A00030000000001));
	g_assert_cmpint(rop_notification_row(&tr[0].u.notify.data, cols, 3,
					     &row), ==, 0);
	g_assert_cmpstr(mapi_props_str(&row.props,
				       MAPI_TAG_ID(MAPI_TAG_SUBJECT)), ==,
			"Already read message");
	g_assert_cmpint(mapi_props_l(&row.props,
				     MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS), -1),
			==, 0x403);
	mapi_row_clear(&row);
	rop_trailers_free(tr, nt);
	walk_clear(&w);
	ctx_clear(&c);
	mapi_trace_free(t);
}

/* 08: configure, upload an empty state, fetch the stream in 32 pieces. */
static void test_ics(void)
{
	static const uint32_t states[] = {
		ROP_META_IDSET_GIVEN, ROP_META_CNSET_SEEN,
		ROP_META_CNSET_SEEN_FAI, ROP_META_CNSET_READ,
	};
	struct mapi_trace *t = mapi_trace_load("08-ics");
	JsonObject *sum = json_object_get_object_member(mapi_trace_root(t),
							"summary");
	GByteArray *ft = g_byte_array_new();
	struct ctx c = { 0 };
	struct walk w;
	struct mapi_rd r;
	struct rop_sync_configure_req cq;
	struct rop_sync_upload_begin_req bq;
	struct rop_ft_get_buffer_req gq;
	struct rop_ft_get_buffer_resp gs;

	walk(seq(t, 3), &w, &c);
	r = req_at(&w, 1);
	g_assert_cmpint(rop_sync_configure_req_read(&r, &cq), ==, 0);
	g_assert_cmpuint(cq.sync_type, ==, ROP_SYNC_CONTENTS);
	g_assert_cmpuint(cq.send_options, ==, ROP_SEND_UNICODE);
	g_assert_cmpuint(cq.sync_flags, ==, 0x2129);
	g_assert_cmpuint(cq.restriction_len, ==, 0);
	g_assert_cmpuint(cq.extra_flags, ==, 0x0F);
	g_assert_cmpuint(cq.n_tags, ==, 0);
	rop_sync_configure_req_clear(&cq);
	walk_clear(&w);

	walk(seq(t, 4), &w, &c);
	g_assert_cmpuint(w.n_q, ==, 8);
	for (size_t i = 0; i < 4; i++) {
		r = req_at(&w, 2 * i);
		g_assert_cmpint(rop_sync_upload_begin_req_read(&r, &bq), ==, 0);
		g_assert_cmpuint(bq.state_prop, ==, states[i]);
		g_assert_cmpuint(bq.size, ==, 0);
		g_assert_cmpuint(w.q[2 * i + 1].id, ==,
				 ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_END);
	}
	walk_clear(&w);

	for (int n = 5; n <= 36; n++) {
		walk(seq(t, n), &w, &c);
		r = req_at(&w, 0);
		g_assert_cmpint(rop_ft_get_buffer_req_read(&r, &gq), ==, 0);
		g_assert_cmpuint(gq.buffer_size, ==, ROP_FT_USE_MAX);
		g_assert_cmpuint(gq.max_buffer_size, ==, 0xFFFF);
		r = resp_at(&w, 0);
		g_assert_cmpint(rop_ft_get_buffer_resp_read(&r, &gs), ==, 0);
		g_assert_cmpuint(gs.status, ==, n < 36 ? ROP_FT_PARTIAL
						       : ROP_FT_DONE);
		g_assert_cmpuint(gs.len, <=, 31488);
		g_byte_array_append(ft, gs.buf, gs.len);
		walk_clear(&w);
	}
	g_assert_cmpuint(ft->len, ==, json_object_get_int_member(sum,
		"ftstream_len"));
	g_assert_cmpuint(ft->len, ==, 983911);
	sha256_is(ft->data, ft->len, json_object_get_string_member(sum,
		"ftstream_sha256"));
	g_byte_array_unref(ft);
	ctx_clear(&c);
	mapi_trace_free(t);
}

/* 11 #7, #8: failures are the head alone, even RopReadStream's. */
static void test_failures(void)
{
	struct mapi_trace *t = mapi_trace_load("11-errors");
	struct ctx c = { 0 };
	struct walk w;
	struct mapi_rd r;
	struct rop_open_message_resp os;
	struct rop_read_stream_resp rs;

	walk(seq(t, 7), &w, &c);
	r = resp_at(&w, 1);
	g_assert_cmpuint(w.s[1].len, ==, 6);
	g_assert_cmpint(rop_open_message_resp_read(&r, &os), ==, 0);
	g_assert_cmpuint(os.head.rv, ==, MAPI_E_NOT_FOUND);
	g_assert_cmpuint(os.head.handle_index, ==, 2);
	g_assert_null(os.msg.cols);
	rop_open_message_resp_clear(&os);
	walk_clear(&w);

	walk(seq(t, 8), &w, &c);
	g_assert_cmpuint(w.s[1].len, ==, 6);
	r = resp_at(&w, 1);
	g_assert_cmpint(rop_read_stream_resp_read(&r, &rs), ==, 0);
	g_assert_cmpuint(rs.head.rv, ==, MAPI_E_NO_SUPPORT);
	g_assert_cmpuint(rs.len, ==, 0);
	g_assert_null(rs.data);
	walk_clear(&w);
	ctx_clear(&c);
	mapi_trace_free(t);
}

/* Every Execute of the recordings that hold our ROPs: each of ours is
 * read, written back the same and refused when cut short. */
static void test_walk_04(void)
{
	g_assert_cmpuint(walk_all("04-read-message"), >=, 100);
}

static void test_walk_05(void)
{
	g_assert_cmpuint(walk_all("05-write"), >=, 20);
}

static void test_walk_07(void)
{
	/* RegisterNotification both ways, 4 RopNotify, 3 Releases */
	g_assert_cmpuint(walk_all("07-notifications"), ==, 2 + 4 + 3);
}

static void test_walk_08(void)
{
	/* Configure both ways, 4 x (Begin, End) both ways, 32 x
	 * GetBuffer both ways, 2 Releases */
	g_assert_cmpuint(walk_all("08-ics"), ==, 2 + 16 + 64 + 2);
}

static void test_walk_00_11(void)
{
	static const int s00[] = { 5, 0 };

	/* OpenMessage, SetMessageReadFlag, both ways; the RopNotify */
	g_assert_cmpuint(walk_seqs("00-setup", s00), ==, 5);
	g_assert_cmpuint(walk_all("11-errors"), ==, 4);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rop-msg/recorded/open-message-recipients",
			test_read_message_recipients);
	g_test_add_func("/rop-msg/recorded/read-stream", test_read_stream);
	g_test_add_func("/rop-msg/recorded/attachments", test_attachments);
	g_test_add_func("/rop-msg/recorded/write", test_write);
	g_test_add_func("/rop-msg/recorded/notifications", test_notifications);
	g_test_add_func("/rop-msg/recorded/trailing-notify",
			test_trailing_notify);
	g_test_add_func("/rop-msg/recorded/ics", test_ics);
	g_test_add_func("/rop-msg/recorded/failures", test_failures);
	g_test_add_func("/rop-msg/walk/04", test_walk_04);
	g_test_add_func("/rop-msg/walk/05", test_walk_05);
	g_test_add_func("/rop-msg/walk/07", test_walk_07);
	g_test_add_func("/rop-msg/walk/08", test_walk_08);
	g_test_add_func("/rop-msg/walk/00-11", test_walk_00_11);
	return g_test_run();
}
