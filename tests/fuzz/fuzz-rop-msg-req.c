/*
 * fuzz-rop-msg-req.c - the request readers of wire/rop-msg.h (messages,
 * streams, attachments, notifications, ICS) on arbitrary bytes, as a
 * server reads what a client sends.  Whatever one reads it must write
 * back in a form that reads again to the same bytes.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/rop-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*rw_fn)(struct mapi_rd *r, GByteArray *out);

#define RW(fn, T, rd, wr, clr)						\
	static int fn(struct mapi_rd *r, GByteArray *out)		\
	{								\
		T v;							\
		int rc = rd(r, &v);					\
		if (rc)							\
			return rc;					\
		wr;							\
		clr;							\
		return 0;						\
	}

#define NOCLEAR (void)0

RW(release, struct rop_release_req, rop_release_req_read,
   rop_release_req_write(out, &v), NOCLEAR)
RW(open_message, struct rop_open_message_req, rop_open_message_req_read,
   rop_open_message_req_write(out, &v), NOCLEAR)
RW(create_message, struct rop_create_message_req,
   rop_create_message_req_read, rop_create_message_req_write(out, &v),
   NOCLEAR)
RW(save_message, struct rop_save_changes_message_req,
   rop_save_changes_message_req_read,
   rop_save_changes_message_req_write(out, &v), NOCLEAR)
RW(read_recips, struct rop_read_recipients_req, rop_read_recipients_req_read,
   rop_read_recipients_req_write(out, &v), NOCLEAR)
RW(modify_recips, struct rop_modify_recipients_req,
   rop_modify_recipients_req_read,
   (void)rop_modify_recipients_req_write(out, &v),
   rop_modify_recipients_req_clear(&v))
RW(remove_recips, struct rop_remove_all_recipients_req,
   rop_remove_all_recipients_req_read,
   rop_remove_all_recipients_req_write(out, &v), NOCLEAR)
RW(read_flags, struct rop_set_read_flags_req, rop_set_read_flags_req_read,
   rop_set_read_flags_req_write(out, &v), rop_set_read_flags_req_clear(&v))
RW(delete, struct rop_delete_messages_req, rop_delete_messages_req_read,
   rop_delete_messages_req_write(out, &v), rop_delete_messages_req_clear(&v))
RW(hard_delete, struct rop_delete_messages_req,
   rop_hard_delete_messages_req_read,
   rop_hard_delete_messages_req_write(out, &v),
   rop_delete_messages_req_clear(&v))
RW(move_copy, struct rop_move_copy_messages_req,
   rop_move_copy_messages_req_read, rop_move_copy_messages_req_write(out, &v),
   rop_move_copy_messages_req_clear(&v))
RW(open_embedded, struct rop_open_embedded_message_req,
   rop_open_embedded_message_req_read,
   rop_open_embedded_message_req_write(out, &v), NOCLEAR)
RW(submit, struct rop_submit_message_req, rop_submit_message_req_read,
   rop_submit_message_req_write(out, &v), NOCLEAR)
RW(open_stream, struct rop_open_stream_req, rop_open_stream_req_read,
   rop_open_stream_req_write(out, &v), NOCLEAR)
RW(read_stream, struct rop_read_stream_req, rop_read_stream_req_read,
   rop_read_stream_req_write(out, &v), NOCLEAR)
RW(write_stream, struct rop_write_stream_req, rop_write_stream_req_read,
   rop_write_stream_req_write(out, &v), NOCLEAR)
RW(commit_stream, struct rop_stream_req, rop_commit_stream_req_read,
   rop_commit_stream_req_write(out, &v), NOCLEAR)
RW(set_size, struct rop_set_stream_size_req, rop_set_stream_size_req_read,
   rop_set_stream_size_req_write(out, &v), NOCLEAR)
RW(seek_stream, struct rop_seek_stream_req, rop_seek_stream_req_read,
   rop_seek_stream_req_write(out, &v), NOCLEAR)
RW(attach_table, struct rop_get_attachment_table_req,
   rop_get_attachment_table_req_read,
   rop_get_attachment_table_req_write(out, &v), NOCLEAR)
RW(open_attach, struct rop_open_attachment_req, rop_open_attachment_req_read,
   rop_open_attachment_req_write(out, &v), NOCLEAR)
RW(delete_attach, struct rop_delete_attachment_req,
   rop_delete_attachment_req_read, rop_delete_attachment_req_write(out, &v),
   NOCLEAR)
RW(register_notif, struct rop_register_notification_req,
   rop_register_notification_req_read,
   rop_register_notification_req_write(out, &v), NOCLEAR)
RW(sync_configure, struct rop_sync_configure_req, rop_sync_configure_req_read,
   rop_sync_configure_req_write(out, &v), rop_sync_configure_req_clear(&v))
RW(upload_begin, struct rop_sync_upload_begin_req,
   rop_sync_upload_begin_req_read, rop_sync_upload_begin_req_write(out, &v),
   NOCLEAR)
RW(upload_continue, struct rop_sync_upload_continue_req,
   rop_sync_upload_continue_req_read,
   rop_sync_upload_continue_req_write(out, &v), NOCLEAR)
RW(get_buffer, struct rop_ft_get_buffer_req, rop_ft_get_buffer_req_read,
   rop_ft_get_buffer_req_write(out, &v), NOCLEAR)
RW(import_change, struct rop_sync_import_message_change_req,
   rop_sync_import_message_change_req_read,
   (void)rop_sync_import_message_change_req_write(out, &v),
   rop_sync_import_message_change_req_clear(&v))
RW(import_deletes, struct rop_sync_import_deletes_req,
   rop_sync_import_deletes_req_read,
   rop_sync_import_deletes_req_write(out, &v),
   rop_sync_import_deletes_req_clear(&v))
RW(import_read, struct rop_sync_import_read_state_req,
   rop_sync_import_read_state_req_read,
   rop_sync_import_read_state_req_write(out, &v),
   rop_sync_import_read_state_req_clear(&v))

/* Only a public logon's request carries ClientData. */
static int read_flag(struct mapi_rd *r, GByteArray *out, bool pub)
{
	struct rop_set_message_read_flag_req v;
	int rc = rop_set_message_read_flag_req_read(r, &v, pub);

	if (!rc)
		rop_set_message_read_flag_req_write(out, &v, pub);
	return rc;
}

static int read_flag_private(struct mapi_rd *r, GByteArray *out)
{
	return read_flag(r, out, false);
}

static int read_flag_public(struct mapi_rd *r, GByteArray *out)
{
	return read_flag(r, out, true);
}

static const rw_fn fns[] = {
	release, open_message, create_message, save_message, read_recips,
	modify_recips, remove_recips, read_flags, delete, hard_delete,
	move_copy, open_embedded, submit, open_stream, read_stream,
	write_stream, commit_stream, set_size, seek_stream, attach_table,
	open_attach, delete_attach, register_notif, sync_configure,
	upload_begin, upload_continue, get_buffer, import_change,
	import_deletes, import_read, read_flag_private, read_flag_public,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < G_N_ELEMENTS(fns); i++) {
		GByteArray *a = g_byte_array_new(), *b = g_byte_array_new();
		struct mapi_rd r;

		mapi_rd_init(&r, data, size);
		if (fns[i](&r, a) == 0) {
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
