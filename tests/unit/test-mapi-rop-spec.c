/*
 * test-mapi-rop-spec.c - wire/rop-msg.h against the byte examples of the
 * specifications (MS-OXCROPS 4.1, MS-OXCFOLD 4.3 and 4.4, MS-OXORULE
 * 4.4.1), the shapes the recordings do not show (recipient rows of every
 * address type, every kind of notification, RopPending, RopBackoff,
 * RopBufferTooSmall, the failure responses with extra fields, the ROPs
 * no recorded client sent), and hostile input: counts that lie.
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

/* Every shorter cut of p fails with fn; the whole reads. */
typedef int (*read_fn)(const uint8_t *p, size_t len);

static void cuts_fail(read_fn fn, const uint8_t *p, size_t len)
{
	g_assert_cmpint(fn(p, len), ==, 0);
	for (size_t i = 0; i < len; i++)
		g_assert_cmpint(fn(p, i), <, 0);
}

/* MS-OXORULE 4.4.1.1: RopOpenStream of PidTagExtendedRuleMessageCondition
 * for reading and writing. */
static void test_spec_open_stream(void)
{
	static const uint8_t ex[] = { 0x2B, 0x01, 0x00, 0x01, 0x02, 0x01,
				      0x9A, 0x0E, 0x01 };
	struct rop_open_stream_req q;
	GByteArray *b = g_byte_array_new();
	struct mapi_rd r;

	mapi_rd_init(&r, ex, sizeof(ex));
	g_assert_cmpint(rop_open_stream_req_read(&r, &q), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_assert_cmpuint(q.logon_id, ==, 1);
	g_assert_cmpuint(q.input_handle_index, ==, 0);
	g_assert_cmpuint(q.output_handle_index, ==, 1);
	g_assert_cmpuint(q.tag, ==, 0x0E9A0102);
	g_assert_cmpuint(q.open_mode, ==, ROP_STREAM_READ_WRITE);
	rop_open_stream_req_write(b, &q);
	g_assert_cmpmem(b->data, b->len, ex, sizeof(ex));
	g_byte_array_unref(b);
}

/* MS-OXCFOLD 4.3.1: RopDeleteMessages of two messages, NotifyNonRead. */
static void test_spec_delete_messages(void)
{
	static const uint8_t ex[] = {
		0x1E, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x0E, 0x8E, 0xF1, 0x48, 0x01,
		0x00, 0x00, 0x00, 0x0E, 0x8E, 0xC3, 0x02,
	};
	struct rop_delete_messages_req q;
	GByteArray *b = g_byte_array_new();
	struct mapi_rd r;

	mapi_rd_init(&r, ex, sizeof(ex));
	g_assert_cmpint(rop_delete_messages_req_read(&r, &q), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_assert_cmpuint(q.want_async, ==, 0);
	g_assert_cmpuint(q.notify_non_read, ==, 1);
	g_assert_cmpuint(q.n_mids, ==, 2);
	g_assert_cmpuint(q.mids[0], ==, UINT64_C(0x48F18E0E00000001));
	g_assert_cmpuint(q.mids[1], ==, UINT64_C(0x02C38E0E00000001));
	rop_delete_messages_req_write(b, &q);
	g_assert_cmpmem(b->data, b->len, ex, sizeof(ex));
	rop_delete_messages_req_clear(&q);
	/* the same bytes are not a RopHardDeleteMessages */
	mapi_rd_init(&r, ex, sizeof(ex));
	g_assert_cmpint(rop_hard_delete_messages_req_read(&r, &q), ==,
			-EPROTO);
	g_byte_array_unref(b);
}

/* MS-OXCFOLD 4.4.1: RopMoveCopyMessages of one message, a move. */
static void test_spec_move_copy(void)
{
	static const uint8_t ex[] = {
		0x33, 0x00, 0x00, 0x01, 0x01, 0x00, 0x01, 0x00,
		0x00, 0x00, 0x0E, 0x8E, 0xEC, 0x5D, 0x00, 0x00,
	};
	struct rop_move_copy_messages_req q;
	GByteArray *b = g_byte_array_new();
	struct mapi_rd r;

	mapi_rd_init(&r, ex, sizeof(ex));
	g_assert_cmpint(rop_move_copy_messages_req_read(&r, &q), ==, 0);
	g_assert_cmpuint(q.source_handle_index, ==, 0);
	g_assert_cmpuint(q.dest_handle_index, ==, 1);
	g_assert_cmpuint(q.n_mids, ==, 1);
	g_assert_cmpuint(q.mids[0], ==, UINT64_C(0x5DEC8E0E00000001));
	g_assert_cmpuint(q.want_copy, ==, 0);
	rop_move_copy_messages_req_write(b, &q);
	g_assert_cmpmem(b->data, b->len, ex, sizeof(ex));
	rop_move_copy_messages_req_clear(&q);
	g_byte_array_unref(b);
}

/* MS-OXCROPS 4.1: the empty ROP buffer, which fetches what is pending:
 * nothing trails. */
static void test_spec_empty_buffer(void)
{
	static const uint8_t ex[] = { 0x02, 0x00 };
	struct rop_frame f;
	struct rop_trailer *t;
	struct mapi_rd r;
	size_t n;

	g_assert_cmpint(rop_frame_read(ex, sizeof(ex), &f), ==, 0);
	mapi_rd_init(&r, f.rops, f.rops_len);
	g_assert_cmpint(rop_trailers_read(&r, &t, &n), ==, 0);
	g_assert_cmpuint(n, ==, 0);
	g_assert_null(t);
	rop_frame_clear(&f);
}

/* ---- recipient rows of every address type ---- */

static const uint32_t rcols[] = { MAPI_TAG_RECIPIENT_FLAGS,
				  MAPI_TAG_DISPLAY_NAME };

static int recip_cut(const uint8_t *p, size_t len)
{
	struct rop_recip_row row;
	struct mapi_rd r;
	int rc;

	mapi_rd_init(&r, p, len);
	rc = rop_recip_row_read(&r, rcols, 2, &row);
	if (!rc)
		rop_recip_row_clear(&row);
	return rc;
}

static void recip_round_trip(const struct rop_recip_row *in)
{
	GByteArray *a = g_byte_array_new(), *b = g_byte_array_new();
	struct rop_recip_row row;
	struct mapi_rd r;

	g_assert_cmpint(rop_recip_row_write(a, in, rcols, 2), ==, 0);
	mapi_rd_init(&r, a->data, a->len);
	g_assert_cmpint(rop_recip_row_read(&r, rcols, 2, &row), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_assert_cmpuint(row.flags, ==, in->flags);
	g_assert_cmpstr(row.x500dn, ==, in->x500dn);
	g_assert_cmpstr(row.addr_type, ==, in->addr_type);
	g_assert_cmpstr(row.email, ==, in->email);
	g_assert_cmpstr(row.display_name, ==, in->display_name);
	g_assert_cmpstr(row.simple_name, ==, in->simple_name);
	g_assert_cmpstr(row.transmittable_name, ==, in->transmittable_name);
	g_assert_cmpmem(row.entry_id.data, row.entry_id.len,
			in->entry_id.data, in->entry_id.len);
	g_assert_cmpmem(row.search_key.data, row.search_key.len,
			in->search_key.data, in->search_key.len);
	g_assert_cmpuint(row.prefix_used, ==, in->prefix_used);
	g_assert_cmpuint(row.display_type, ==, in->display_type);
	g_assert_cmpuint(row.props.n, ==, in->props.n);
	rop_recip_row_write(b, &row, rcols, 2);
	g_assert_cmpmem(a->data, a->len, b->data, b->len);
	cuts_fail(recip_cut, a->data, a->len);
	rop_recip_row_clear(&row);
	g_byte_array_unref(a);
	g_byte_array_unref(b);
}

static void test_recip_rows(void)
{
	static uint8_t eid[] = { 0, 0, 0, 0, 1, 2, 3 }, key[] = { 9, 8 };
	struct rop_recip_row row = { 0 };

	/* X500DN: AddressPrefixUsed, DisplayType, the DN (8-bit) */
	row.flags = ROP_RECIP_X500DN | ROP_RECIP_D | ROP_RECIP_U;
	row.prefix_used = 3;
	row.display_type = 1;
	row.x500dn = "/o=Example/cn=Recipients/cn=bob";
	row.display_name = "B\xc3\xb6" "b";
	mapi_row_from_props(&row.props, rcols, 0, NULL);
	recip_round_trip(&row);
	mapi_row_clear(&row.props);

	/* a personal distribution list: EntryID and SearchKey */
	memset(&row, 0, sizeof(row));
	row.flags = ROP_RECIP_PDL1 | ROP_RECIP_D | ROP_RECIP_T | ROP_RECIP_I;
	row.entry_id.data = eid;
	row.entry_id.len = sizeof(eid);
	row.search_key.data = key;
	row.search_key.len = sizeof(key);
	row.display_name = "List";
	row.transmittable_name = "List (t)";
	row.simple_name = "L";
	recip_round_trip(&row);

	/* NoType with O: an address type of its own, 8-bit strings */
	memset(&row, 0, sizeof(row));
	row.flags = ROP_RECIP_NOTYPE | ROP_RECIP_O | ROP_RECIP_E |
		    ROP_RECIP_D | ROP_RECIP_N;
	row.addr_type = "FAX";
	row.email = "+49 221 000";
	row.display_name = "K\xf6ln office";	/* Latin-1, as sent */
	recip_round_trip(&row);
}

/* RecipientColumnCount beyond the message's columns is refused. */
static void test_recip_too_many_columns(void)
{
	static const uint8_t in[] = { 0x03, 0x00, 0x03, 0x00, 0x00 };
	struct rop_recip_row row;
	struct mapi_rd r;

	mapi_rd_init(&r, in, sizeof(in));
	g_assert_cmpint(rop_recip_row_read(&r, rcols, 2, &row), ==, -EPROTO);
}

/* ---- notifications ---- */

static int trailer_cut(const uint8_t *p, size_t len)
{
	struct rop_trailer t;
	struct mapi_rd r;
	int rc;

	mapi_rd_init(&r, p, len);
	rc = rop_trailer_read(&r, &t);
	if (!rc)
		rop_trailer_clear(&t);
	return rc;
}

/* *out borrows from the buffer returned (the caller's to unref). */
static GByteArray *trailer_round_trip(const struct rop_trailer *in,
				      struct rop_trailer *out)
{
	GByteArray *a = g_byte_array_new(), *b = g_byte_array_new();
	struct mapi_rd r;

	g_assert_cmpint(rop_trailer_write(a, in), ==, 0);
	mapi_rd_init(&r, a->data, a->len);
	g_assert_cmpint(rop_trailer_read(&r, out), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
	g_assert_cmpint(rop_trailer_write(b, out), ==, 0);
	g_assert_cmpmem(a->data, a->len, b->data, b->len);
	if (in->rop_id != ROP_BUFFER_TOO_SMALL)	/* runs to the end */
		cuts_fail(trailer_cut, a->data, a->len);
	g_byte_array_unref(b);
	return a;
}

static void test_notification_kinds(void)
{
	static uint32_t tags[] = { MAPI_TAG_SUBJECT, MAPI_TAG_BODY };
	struct rop_trailer t = { .rop_id = ROP_NOTIFY }, o;
	struct rop_notification *n = &t.u.notify.data;
	GByteArray *buf;

	t.u.notify.handle = 7;
	/* a folder moved: parent, old folder, old parent */
	n->flags = ROP_NOTIF_OBJECT_MOVED;
	n->fid = 1;
	n->parent_fid = 2;
	n->old_fid = 3;
	n->old_parent_fid = 4;
	buf = trailer_round_trip(&t, &o);
	g_assert_cmpuint(o.u.notify.handle, ==, 7);
	g_assert_cmpuint(o.u.notify.data.parent_fid, ==, 2);
	g_assert_cmpuint(o.u.notify.data.old_parent_fid, ==, 4);
	g_assert_cmpuint(o.u.notify.data.old_mid, ==, 0);
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);

	/* a message copied in a search folder */
	memset(n, 0, sizeof(*n));
	n->flags = ROP_NOTIF_OBJECT_COPIED | ROP_NOTIF_M | ROP_NOTIF_S;
	n->fid = 1;
	n->mid = 5;
	n->parent_fid = 2;
	n->old_fid = 3;
	n->old_mid = 6;
	buf = trailer_round_trip(&t, &o);
	g_assert_cmpuint(o.u.notify.data.old_mid, ==, 6);
	g_assert_cmpuint(o.u.notify.data.parent_fid, ==, 2);
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);

	/* a message modified, with its tags */
	memset(n, 0, sizeof(*n));
	n->flags = ROP_NOTIF_OBJECT_MODIFIED | ROP_NOTIF_M;
	n->fid = 1;
	n->mid = 5;
	n->tag_count = 2;
	n->tags = tags;
	buf = trailer_round_trip(&t, &o);
	g_assert_cmpuint(o.u.notify.data.tag_count, ==, 2);
	g_assert_cmpuint(o.u.notify.data.tags[1], ==, MAPI_TAG_BODY);
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);
	n->tags = NULL;

	/* every property changed: 0xFFFF and no tags */
	n->tag_count = 0xFFFF;
	buf = trailer_round_trip(&t, &o);
	g_assert_cmpuint(o.u.notify.data.tag_count, ==, 0xFFFF);
	g_assert_null(o.u.notify.data.tags);
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);

	/* a folder deleted; a search done */
	memset(n, 0, sizeof(*n));
	n->flags = ROP_NOTIF_OBJECT_DELETED;
	n->fid = 8;
	n->parent_fid = 9;
	buf = trailer_round_trip(&t, &o);
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);
	n->flags = ROP_NOTIF_SEARCH_COMPLETE;
	buf = trailer_round_trip(&t, &o);
	g_assert_cmpuint(o.u.notify.data.parent_fid, ==, 0);
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);

	/* a row gone from a table; a table to reload */
	memset(n, 0, sizeof(*n));
	n->flags = ROP_NOTIF_TABLE_MODIFIED | ROP_NOTIF_M;
	n->table_event = ROP_TABLE_ROW_DELETED;
	n->row_fid = 1;
	n->row_mid = 2;
	n->row_instance = 3;
	buf = trailer_round_trip(&t, &o);
	g_assert_cmpuint(o.u.notify.data.row_instance, ==, 3);
	g_assert_null(o.u.notify.data.row_data);
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);
	n->table_event = ROP_TABLE_RELOAD;
	buf = trailer_round_trip(&t, &o);
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);

	/* new mail with a UTF-16 message class */
	memset(n, 0, sizeof(*n));
	n->flags = ROP_NOTIF_NEW_MAIL | ROP_NOTIF_M;
	n->unicode = 1;
	n->message_class = "IPM.Note.Gr\xc3\xbc\xc3\x9f";
	buf = trailer_round_trip(&t, &o);
	g_assert_cmpstr(o.u.notify.data.message_class, ==,
			"IPM.Note.Gr\xc3\xbc\xc3\x9f");
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);
}

static void test_unknown_notification(void)
{
	/* type 0x0400 is reserved: no layout to read */
	static const uint8_t in[] = { 0x2A, 1, 0, 0, 0, 0, 0x00, 0x04,
				      0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t other[] = { 0x07, 0x00, 0, 0, 0, 0 };
	struct rop_trailer t;
	struct mapi_rd r;

	mapi_rd_init(&r, in, sizeof(in));
	g_assert_cmpint(rop_trailer_read(&r, &t), ==, -EPROTO);
	mapi_rd_init(&r, other, sizeof(other));
	g_assert_false(rop_is_trailer(other[0]));
	g_assert_cmpint(rop_trailer_read(&r, &t), ==, -EPROTO);
}

static void test_pending_backoff_too_small(void)
{
	static struct rop_backoff_rop bro[] = { { 0x2C, 500 },
						{ 0x4E, 1000 } };
	static const uint8_t extra[] = { 1, 2, 3 }, reqs[] = { 0x2C, 0, 1,
							      0x00, 0x10 };
	struct rop_trailer t = { .rop_id = ROP_PENDING }, o;
	GByteArray *buf;

	t.u.pending.session_index = 0x1234;
	buf = trailer_round_trip(&t, &o);
	g_assert_cmpuint(o.u.pending.session_index, ==, 0x1234);
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);

	memset(&t, 0, sizeof(t));
	t.rop_id = ROP_BACKOFF;
	t.u.backoff.logon_id = 2;
	t.u.backoff.duration = 3000;
	t.u.backoff.n_rops = 2;
	t.u.backoff.rops = bro;
	t.u.backoff.extra_len = sizeof(extra);
	t.u.backoff.extra = extra;
	buf = trailer_round_trip(&t, &o);
	g_assert_cmpuint(o.u.backoff.n_rops, ==, 2);
	g_assert_cmpuint(o.u.backoff.rops[1].rop_id, ==, 0x4E);
	g_assert_cmpuint(o.u.backoff.rops[1].duration, ==, 1000);
	g_assert_cmpmem(o.u.backoff.extra, o.u.backoff.extra_len, extra,
			sizeof(extra));
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);

	memset(&t, 0, sizeof(t));
	t.rop_id = ROP_BUFFER_TOO_SMALL;
	t.u.too_small.size_needed = 0x8000;
	t.u.too_small.req = reqs;
	t.u.too_small.req_len = sizeof(reqs);
	buf = trailer_round_trip(&t, &o);
	g_assert_cmpuint(o.u.too_small.size_needed, ==, 0x8000);
	g_assert_cmpmem(o.u.too_small.req, o.u.too_small.req_len, reqs,
			sizeof(reqs));
	rop_trailer_clear(&o);
	g_byte_array_unref(buf);
}

/* ---- failure responses the specification gives more fields ---- */

static void test_failure_shapes(void)
{
	struct rop_move_copy_messages_resp ms = {
		.head = { .handle_index = 1, .rv = ROP_E_DST_NULL_OBJECT },
		.dest_handle_index = 2, .partial = 0,
	}, mo;
	struct rop_ft_get_buffer_resp gs = {
		.head = { .rv = ROP_E_SERVER_BUSY }, .backoff_ms = 250,
	}, go;
	struct rop_open_stream_resp os = { .head = { .rv = MAPI_E_NOT_FOUND },
					   .stream_size = 99 }, oo;
	GByteArray *b = g_byte_array_new();
	struct mapi_rd r;

	rop_move_copy_messages_resp_write(b, &ms);
	g_assert_cmpuint(b->len, ==, 6 + 4 + 1);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_move_copy_messages_resp_read(&r, &mo), ==, 0);
	g_assert_cmpuint(mo.dest_handle_index, ==, 2);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);

	g_byte_array_set_size(b, 0);
	rop_ft_get_buffer_resp_write(b, &gs);
	g_assert_cmpuint(b->len, ==, 6 + 4);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_ft_get_buffer_resp_read(&r, &go), ==, 0);
	g_assert_cmpuint(go.backoff_ms, ==, 250);

	/* any other failure is the head alone, whatever the struct holds */
	g_byte_array_set_size(b, 0);
	rop_open_stream_resp_write(b, &os);
	g_assert_cmpuint(b->len, ==, 6);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_open_stream_resp_read(&r, &oo), ==, 0);
	g_assert_cmpuint(oo.head.rv, ==, MAPI_E_NOT_FOUND);
	g_assert_cmpuint(oo.stream_size, ==, 0);
	g_byte_array_unref(b);
}

/* ---- the ROPs no recorded client sent: written, then read ---- */

#define RT(T, wr, rd, val, ...)						\
	do {								\
		GByteArray *b_ = g_byte_array_new();			\
		struct mapi_rd r_;					\
		T o_;							\
		wr(b_, &(val));						\
		mapi_rd_init(&r_, b_->data, b_->len);			\
		g_assert_cmpint(rd(&r_, &o_), ==, 0);			\
		g_assert_cmpuint(mapi_rd_left(&r_), ==, 0);		\
		__VA_ARGS__;						\
		g_byte_array_unref(b_);					\
	} while (0)

static void test_unrecorded_rops(void)
{
	static uint64_t mids[] = { 1, 2, 3 };
	static const uint8_t data[] = "chunk";
	struct rop_set_read_flags_req srf = {
		.logon_id = 1, .input_handle_index = 2, .read_flags =
		ROP_READ_CLEAR_READ_FLAG | ROP_READ_SUPPRESS_RECEIPT,
		.n_mids = 3, .mids = mids,
	};
	struct rop_partial_resp part = { .head = { .handle_index = 2 },
					 .partial_completion = 1 };
	struct rop_delete_messages_req hd = { .n_mids = 1, .mids = mids };
	struct rop_submit_message_req sub = { .submit_flags =
					      ROP_SUBMIT_PRE_PROCESS };
	struct rop_remove_all_recipients_req rar = { .input_handle_index = 4 };
	struct rop_write_stream_req ws = { .len = 5, .data = data };
	struct rop_write_stream_resp wsr = { .written = 5 };
	struct rop_stream_req sr = { .input_handle_index = 3 };
	struct rop_get_stream_size_resp gsr = { .stream_size = 77 };
	struct rop_set_stream_size_req ssr = { .stream_size = 1u << 20 };
	struct rop_seek_stream_req sk = { .origin = ROP_SEEK_END,
					  .offset = -10 };
	struct rop_seek_stream_resp skr = { .new_position = 90 };
	struct rop_create_attachment_req ca = { .output_handle_index = 2 };
	struct rop_create_attachment_resp car = { .attach_num = 3 };
	struct rop_save_changes_attachment_req sca = { .save_flags =
		ROP_SAVE_KEEP_OPEN_READ_WRITE };
	struct rop_delete_attachment_req da = { .attach_num = 2 };
	struct rop_sync_upload_continue_req uc = { .len = 5, .data = data };
	struct rop_sync_get_transfer_state_req gts = {
		.output_handle_index = 4 };
	struct rop_create_message_resp cmr = { .has_message_id = 0 };

	RT(struct rop_set_read_flags_req, rop_set_read_flags_req_write,
	   rop_set_read_flags_req_read, srf,
	   g_assert_cmpuint(o_.n_mids, ==, 3);
	   g_assert_cmpuint(o_.mids[2], ==, 3);
	   g_assert_cmpuint(o_.read_flags, ==, 0x05);
	   rop_set_read_flags_req_clear(&o_));
	RT(struct rop_partial_resp, rop_set_read_flags_resp_write,
	   rop_set_read_flags_resp_read, part,
	   g_assert_cmpuint(o_.partial_completion, ==, 1));
	RT(struct rop_delete_messages_req, rop_hard_delete_messages_req_write,
	   rop_hard_delete_messages_req_read, hd,
	   g_assert_cmpuint(o_.mids[0], ==, 1);
	   rop_delete_messages_req_clear(&o_));
	RT(struct rop_partial_resp, rop_hard_delete_messages_resp_write,
	   rop_hard_delete_messages_resp_read, part,
	   g_assert_cmpuint(o_.head.handle_index, ==, 2));
	RT(struct rop_submit_message_req, rop_submit_message_req_write,
	   rop_submit_message_req_read, sub,
	   g_assert_cmpuint(o_.submit_flags, ==, 1));
	RT(struct rop_remove_all_recipients_req,
	   rop_remove_all_recipients_req_write,
	   rop_remove_all_recipients_req_read, rar,
	   g_assert_cmpuint(o_.input_handle_index, ==, 4));
	RT(struct rop_write_stream_req, rop_write_stream_req_write,
	   rop_write_stream_req_read, ws,
	   g_assert_cmpmem(o_.data, o_.len, "chunk", 5));
	RT(struct rop_write_stream_resp, rop_write_stream_resp_write,
	   rop_write_stream_resp_read, wsr,
	   g_assert_cmpuint(o_.written, ==, 5));
	RT(struct rop_stream_req, rop_commit_stream_req_write,
	   rop_commit_stream_req_read, sr,
	   g_assert_cmpuint(o_.input_handle_index, ==, 3));
	RT(struct rop_stream_req, rop_get_stream_size_req_write,
	   rop_get_stream_size_req_read, sr, (void)o_);
	RT(struct rop_get_stream_size_resp, rop_get_stream_size_resp_write,
	   rop_get_stream_size_resp_read, gsr,
	   g_assert_cmpuint(o_.stream_size, ==, 77));
	RT(struct rop_set_stream_size_req, rop_set_stream_size_req_write,
	   rop_set_stream_size_req_read, ssr,
	   g_assert_cmpuint(o_.stream_size, ==, 1u << 20));
	RT(struct rop_seek_stream_req, rop_seek_stream_req_write,
	   rop_seek_stream_req_read, sk,
	   g_assert_cmpint(o_.offset, ==, -10));
	RT(struct rop_seek_stream_resp, rop_seek_stream_resp_write,
	   rop_seek_stream_resp_read, skr,
	   g_assert_cmpuint(o_.new_position, ==, 90));
	RT(struct rop_create_attachment_req, rop_create_attachment_req_write,
	   rop_create_attachment_req_read, ca,
	   g_assert_cmpuint(o_.output_handle_index, ==, 2));
	RT(struct rop_create_attachment_resp, rop_create_attachment_resp_write,
	   rop_create_attachment_resp_read, car,
	   g_assert_cmpuint(o_.attach_num, ==, 3));
	RT(struct rop_save_changes_attachment_req,
	   rop_save_changes_attachment_req_write,
	   rop_save_changes_attachment_req_read, sca,
	   g_assert_cmpuint(o_.save_flags, ==, 2));
	RT(struct rop_delete_attachment_req, rop_delete_attachment_req_write,
	   rop_delete_attachment_req_read, da,
	   g_assert_cmpuint(o_.attach_num, ==, 2));
	RT(struct rop_sync_upload_continue_req,
	   rop_sync_upload_continue_req_write,
	   rop_sync_upload_continue_req_read, uc,
	   g_assert_cmpmem(o_.data, o_.len, "chunk", 5));
	RT(struct rop_sync_get_transfer_state_req,
	   rop_sync_get_transfer_state_req_write,
	   rop_sync_get_transfer_state_req_read, gts,
	   g_assert_cmpuint(o_.output_handle_index, ==, 4));
	RT(struct rop_create_message_resp, rop_create_message_resp_write,
	   rop_create_message_resp_read, cmr,
	   g_assert_cmpuint(o_.message_id, ==, 0));
}

/* The import ROPs of an upload: values, deletes, read states. */
static void test_imports(void)
{
	static uint8_t sk1[] = { 1, 2, 3 }, sk2[] = { 4 };
	struct mapi_value vals[2] = {
		{ .tag = MAPI_TAG_SOURCE_KEY,
		  .v.bin = { .len = 3, .data = sk1 } },
		{ .tag = MAPI_TAG_LAST_MODIFICATION_TIME, .v.ft = 12345 },
	};
	struct rop_sync_import_message_change_req mc = {
		.output_handle_index = 1, .import_flag = ROP_IMPORT_ASSOCIATED,
		.n_vals = 2, .vals = vals,
	}, mo;
	struct mapi_bin keys[2] = { { 3, sk1 }, { 1, sk2 } };
	struct mapi_value del = { .tag = MAPI_TAG(0, MAPI_PT_MV |
						  MAPI_PT_BINARY) };
	struct rop_sync_import_deletes_req id = {
		.flags = ROP_IMPORT_DELETE_HARD, .n_vals = 1, .vals = &del,
	}, io;
	struct rop_read_state st[2] = { { { 3, sk1 }, 1 }, { { 1, sk2 }, 0 } };
	struct rop_sync_import_read_state_req rs = { .n_states = 2,
						     .states = st }, ro;
	struct rop_sync_import_message_change_resp mr = { .message_id = 0 };
	GByteArray *b = g_byte_array_new();
	struct mapi_rd r;

	del.v.mv.count = 2;
	del.v.mv.a.bin = keys;

	g_assert_cmpint(rop_sync_import_message_change_req_write(b, &mc), ==,
			0);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_sync_import_message_change_req_read(&r, &mo), ==,
			0);
	g_assert_cmpuint(mo.n_vals, ==, 2);
	g_assert_cmpuint(mo.vals[1].v.ft, ==, 12345);
	g_assert_cmpmem(mo.vals[0].v.bin.data, mo.vals[0].v.bin.len, sk1, 3);
	rop_sync_import_message_change_req_clear(&mo);

	g_byte_array_set_size(b, 0);
	rop_sync_import_deletes_req_write(b, &id);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_sync_import_deletes_req_read(&r, &io), ==, 0);
	g_assert_cmpuint(io.flags, ==, ROP_IMPORT_DELETE_HARD);
	g_assert_cmpuint(io.vals[0].v.mv.count, ==, 2);
	g_assert_cmpuint(io.vals[0].v.mv.a.bin[1].data[0], ==, 4);
	rop_sync_import_deletes_req_clear(&io);

	g_byte_array_set_size(b, 0);
	rop_sync_import_read_state_req_write(b, &rs);
	/* 3 head, 2 size, (2 + 3 + 1) + (2 + 1 + 1) */
	g_assert_cmpuint(b->len, ==, 3 + 2 + 6 + 4);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_sync_import_read_state_req_read(&r, &ro), ==, 0);
	g_assert_cmpuint(ro.n_states, ==, 2);
	g_assert_cmpuint(ro.states[0].mark_read, ==, 1);
	g_assert_cmpmem(ro.states[1].source_key.data,
			ro.states[1].source_key.len, sk2, 1);
	rop_sync_import_read_state_req_clear(&ro);
	/* a size that cuts an entry in two */
	b->data[3] = 7;
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_sync_import_read_state_req_read(&r, &ro), <, 0);

	g_byte_array_set_size(b, 0);
	rop_sync_import_message_change_resp_write(b, &mr);
	g_assert_cmpuint(b->len, ==, 6 + 8);
	g_byte_array_unref(b);
}

/* ---- counts that lie ---- */

static void test_hostile_counts(void)
{
	/* ReadRecipients: 255 rows in 10 bytes */
	static const uint8_t rr[] = { 0x0F, 0, 0, 0, 0, 0, 0xFF, 0, 0, 0 };
	/* DeleteMessages: 0xFFFF ids, one there */
	static const uint8_t dm[] = { 0x1E, 0, 0, 0, 0, 0xFF, 0xFF,
				      1, 0, 0, 0, 0, 0, 0, 0 };
	/* ModifyRecipients: no columns, 0xFFFF rows */
	static const uint8_t mr[] = { 0x0E, 0, 0, 0, 0, 0xFF, 0xFF, 0 };
	/* a notification with 0xFFFE tags and four bytes */
	static const uint8_t nt[] = { 0x2A, 0, 0, 0, 0, 0, 0x04, 0x00,
				      1, 0, 0, 0, 0, 0, 0, 0,
				      0xFE, 0xFF, 1, 2, 3, 4 };
	/* RopBackoff with 200 ROPs and none there */
	static const uint8_t bo[] = { 0xF9, 0, 0, 0, 0, 0, 200, 0, 0 };
	/* RopSeekStream from origin 3; a SynchronizationType 7 */
	static const uint8_t sk[] = { 0x2E, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t sc[] = { 0x70, 0, 0, 1, 7, 1, 0, 0, 0, 0,
				      0, 0, 0, 0, 0, 0 };
	struct rop_read_recipients_resp rrs;
	struct rop_delete_messages_req dq;
	struct rop_modify_recipients_req mq;
	struct rop_trailer *t;
	struct rop_seek_stream_req sq;
	struct rop_sync_configure_req cq;
	struct mapi_rd r;
	size_t n;

	mapi_rd_init(&r, rr, sizeof(rr));
	g_assert_cmpint(rop_read_recipients_resp_read(&r, &rrs, rcols, 2), <,
			0);
	g_assert_null(rrs.rows);
	mapi_rd_init(&r, dm, sizeof(dm));
	g_assert_cmpint(rop_delete_messages_req_read(&r, &dq), <, 0);
	g_assert_null(dq.mids);
	mapi_rd_init(&r, mr, sizeof(mr));
	g_assert_cmpint(rop_modify_recipients_req_read(&r, &mq), <, 0);
	g_assert_null(mq.rows);
	mapi_rd_init(&r, nt, sizeof(nt));
	g_assert_cmpint(rop_trailers_read(&r, &t, &n), <, 0);
	g_assert_null(t);
	mapi_rd_init(&r, bo, sizeof(bo));
	g_assert_cmpint(rop_trailers_read(&r, &t, &n), <, 0);
	mapi_rd_init(&r, sk, sizeof(sk));
	g_assert_cmpint(rop_seek_stream_req_read(&r, &sq), ==, -EPROTO);
	mapi_rd_init(&r, sc, sizeof(sc));
	g_assert_cmpint(rop_sync_configure_req_read(&r, &cq), ==, -EPROTO);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rop-msg/spec/open-stream", test_spec_open_stream);
	g_test_add_func("/rop-msg/spec/delete-messages",
			test_spec_delete_messages);
	g_test_add_func("/rop-msg/spec/move-copy", test_spec_move_copy);
	g_test_add_func("/rop-msg/spec/empty-buffer", test_spec_empty_buffer);
	g_test_add_func("/rop-msg/recipient-rows", test_recip_rows);
	g_test_add_func("/rop-msg/recipient-too-many-columns",
			test_recip_too_many_columns);
	g_test_add_func("/rop-msg/notification-kinds",
			test_notification_kinds);
	g_test_add_func("/rop-msg/unknown-notification",
			test_unknown_notification);
	g_test_add_func("/rop-msg/pending-backoff-too-small",
			test_pending_backoff_too_small);
	g_test_add_func("/rop-msg/failure-shapes", test_failure_shapes);
	g_test_add_func("/rop-msg/unrecorded", test_unrecorded_rops);
	g_test_add_func("/rop-msg/imports", test_imports);
	g_test_add_func("/rop-msg/hostile-counts", test_hostile_counts);
	return g_test_run();
}
