/*
 * fuzz-rop-msg-resp.c - the response readers of wire/rop-msg.h (messages,
 * streams, attachments, notifications, ICS) and the reader of what a
 * server appends after the responses, on arbitrary bytes.  Whatever one
 * reads it must write back in a form that reads again to the same bytes.
 * The recipient rows are read against the columns gromox sends, the
 * rows of table notifications against a contents table's.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mapi-tags.h"
#include "wire/rop-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t recip_cols[] = {
	MAPI_TAG_RECORD_KEY, MAPI_TAG_OBJECT_TYPE, MAPI_TAG_DISPLAY_TYPE,
	MAPI_TAG_SMTP_ADDRESS, MAPI_TAG_RECIPIENT_ENTRYID,
	MAPI_TAG_RECIPIENT_FLAGS,
};

static const uint32_t table_cols[] = {
	MAPI_TAG_MID, MAPI_TAG_SUBJECT, MAPI_TAG_MESSAGE_FLAGS,
};

typedef int (*rw_fn)(struct mapi_rd *r, GByteArray *out);

#define RW(fn, T, rd, wr, clr)						\
	static int fn(struct mapi_rd *r, GByteArray *out)		\
	{								\
		T v;							\
		int rc = rd;						\
		if (rc)							\
			return rc;					\
		wr;							\
		clr;							\
		return 0;						\
	}

RW(open_message, struct rop_open_message_resp,
   rop_open_message_resp_read(r, &v),
   (void)rop_open_message_resp_write(out, &v),
   rop_open_message_resp_clear(&v))
RW(open_embedded, struct rop_open_embedded_message_resp,
   rop_open_embedded_message_resp_read(r, &v),
   (void)rop_open_embedded_message_resp_write(out, &v),
   rop_open_embedded_message_resp_clear(&v))
RW(read_recips, struct rop_read_recipients_resp,
   rop_read_recipients_resp_read(r, &v, recip_cols, 6),
   (void)rop_read_recipients_resp_write(out, &v, recip_cols, 6),
   rop_read_recipients_resp_clear(&v))
RW(create_message, struct rop_create_message_resp,
   rop_create_message_resp_read(r, &v),
   rop_create_message_resp_write(out, &v), (void)0)
RW(save_message, struct rop_save_changes_message_resp,
   rop_save_changes_message_resp_read(r, &v),
   rop_save_changes_message_resp_write(out, &v), (void)0)
RW(read_flag, struct rop_set_message_read_flag_resp,
   rop_set_message_read_flag_resp_read(r, &v),
   rop_set_message_read_flag_resp_write(out, &v), (void)0)
RW(read_flags, struct rop_partial_resp, rop_set_read_flags_resp_read(r, &v),
   rop_set_read_flags_resp_write(out, &v), (void)0)
RW(move_copy, struct rop_move_copy_messages_resp,
   rop_move_copy_messages_resp_read(r, &v),
   rop_move_copy_messages_resp_write(out, &v), (void)0)
RW(open_stream, struct rop_open_stream_resp, rop_open_stream_resp_read(r, &v),
   rop_open_stream_resp_write(out, &v), (void)0)
RW(read_stream, struct rop_read_stream_resp, rop_read_stream_resp_read(r, &v),
   rop_read_stream_resp_write(out, &v), (void)0)
RW(write_stream, struct rop_write_stream_resp,
   rop_write_stream_resp_read(r, &v), rop_write_stream_resp_write(out, &v),
   (void)0)
RW(seek_stream, struct rop_seek_stream_resp, rop_seek_stream_resp_read(r, &v),
   rop_seek_stream_resp_write(out, &v), (void)0)
RW(stream_size, struct rop_get_stream_size_resp,
   rop_get_stream_size_resp_read(r, &v),
   rop_get_stream_size_resp_write(out, &v), (void)0)
RW(create_attach, struct rop_create_attachment_resp,
   rop_create_attachment_resp_read(r, &v),
   rop_create_attachment_resp_write(out, &v), (void)0)
RW(get_buffer, struct rop_ft_get_buffer_resp,
   rop_ft_get_buffer_resp_read(r, &v), rop_ft_get_buffer_resp_write(out, &v),
   (void)0)
RW(import_change, struct rop_sync_import_message_change_resp,
   rop_sync_import_message_change_resp_read(r, &v),
   rop_sync_import_message_change_resp_write(out, &v), (void)0)
RW(trailer, struct rop_trailer, rop_trailer_read(r, &v),
   (void)rop_trailer_write(out, &v), rop_trailer_clear(&v))

/* The rows of table notifications, read against a contents table. */
static int trailers(struct mapi_rd *r, GByteArray *out)
{
	struct rop_trailer *t;
	struct mapi_row row;
	size_t n;
	int rc = rop_trailers_read(r, &t, &n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (t[i].rop_id == ROP_NOTIFY &&
		    rop_notification_row(&t[i].u.notify.data, table_cols, 3,
					 &row) == 0)
			mapi_row_clear(&row);
		(void)rop_trailer_write(out, &t[i]);
	}
	rop_trailers_free(t, n);
	return 0;
}

static const rw_fn fns[] = {
	open_message, open_embedded, read_recips, create_message,
	save_message, read_flag, read_flags, move_copy, open_stream,
	read_stream, write_stream, seek_stream, stream_size, create_attach,
	get_buffer, import_change, trailer, trailers,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < G_N_ELEMENTS(fns); i++) {
		GByteArray *a = g_byte_array_new(), *b = g_byte_array_new();
		struct mapi_rd r;

		mapi_rd_init(&r, data, size);
		if (fns[i](&r, a) == 0) {
			/* what was written reads again, whole, the same */
			mapi_rd_init(&r, a->data, a->len);
			if (fns[i](&r, b) || mapi_rd_left(&r))
				__builtin_trap();
			if (a->len != b->len ||
			    (a->len && memcmp(a->data, b->data, a->len)))
				__builtin_trap();
		}
		g_byte_array_unref(a);
		g_byte_array_unref(b);
	}
	return 0;
}
