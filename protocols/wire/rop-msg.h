/*
 * rop-msg.h - the ROPs of messages, recipients, streams, attachments,
 * notifications and incremental synchronization, as both sides of MAPI
 * over HTTP write and read them (MS-OXCROPS 2.2.6 to 2.2.9, 2.2.13, 2.2.14;
 * MS-OXCMSG, MS-OXCNOTIF, MS-OXCFXICS).  The framing of a ROP buffer, the
 * response head and the other ROP families are in rop.h; property values
 * and rows are in mapi-propval.h.  No I/O.
 *
 * For each ROP NAME: struct rop_NAME_req and struct rop_NAME_resp, and
 * rop_NAME_req_write/_req_read/_resp_write/_resp_read.  Readers read the
 * whole ROP, RopId included, and return 0, -EBADMSG (the bytes end too
 * early), -EPROTO (another RopId, a count that lies, a field out of its
 * range) or -EILSEQ (a bad string).  On failure what a reader filled is
 * freed again; clearing the output is still allowed.  A response whose
 * ReturnValue is not 0 holds only its head, as a real server sends it
 * (MS-OXCROPS gives some failure responses more fields; where a reader
 * must follow the specification instead, its comment says so).
 *
 * Ownership: a reader's strings, tag and id arrays and rows are owned by
 * the output (rop_NAME_*_clear frees them); byte runs named "borrowed"
 * point into the reader's buffer, which must outlive the output, and on
 * the writing side into memory the caller keeps until the write is done.
 * Writers append to a GByteArray the caller owns.
 */
#ifndef MFS_ROP_MSG_H
#define MFS_ROP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mapi-buf.h"
#include "mapi-prop.h"
#include "mapi-propval.h"
#include "rop.h"
#include "rop-ics.h"	/* the ICS ROPs, declared apart */

/* ---------------------------------------------------------------------
 * Recipient rows, MS-OXCDATA 2.8.3
 */

/* RecipientFlags, MS-OXCDATA 2.8.3.1. */
#define ROP_RECIP_TYPE_MASK	0x0007u	/* the address type: */
#define ROP_RECIP_NOTYPE	0x0000u
#define ROP_RECIP_X500DN	0x0001u
#define ROP_RECIP_SMTP		0x0003u
#define ROP_RECIP_PDL1		0x0006u	/* personal distribution lists */
#define ROP_RECIP_PDL2		0x0007u
#define ROP_RECIP_E		0x0008u	/* EmailAddress is there */
#define ROP_RECIP_D		0x0010u	/* DisplayName is there */
#define ROP_RECIP_T		0x0020u	/* TransmittableDisplayName is there */
#define ROP_RECIP_S		0x0040u	/* transmittable name = display name */
#define ROP_RECIP_R		0x0080u	/* another transport delivers */
#define ROP_RECIP_N		0x0100u	/* no rich text */
#define ROP_RECIP_U		0x0200u	/* strings are UTF-16 */
#define ROP_RECIP_I		0x0400u	/* SimpleDisplayName is there */
#define ROP_RECIP_O		0x8000u	/* AddressType is there (NoType) */

/*
 * A RecipientRow.  Which fields travel follows `flags`; the strings are
 * UTF-8 when ROP_RECIP_U is set and the bytes received otherwise (the
 * recipient's code page).  `props` holds RecipientProperties, a row of
 * the first props.n recipient columns.
 */
struct rop_recip_row {
	uint16_t flags;
	uint8_t prefix_used;		/* X500DN only */
	uint8_t display_type;		/* X500DN only */
	char *x500dn;			/* owned; X500DN only, 8-bit */
	struct mapi_bin entry_id;	/* owned; PDL1/PDL2 only */
	struct mapi_bin search_key;	/* owned; PDL1/PDL2 only */
	char *addr_type;		/* owned; NoType with O */
	char *email;			/* owned; with E */
	char *display_name;		/* owned; with D */
	char *simple_name;		/* owned; with I */
	char *transmittable_name;	/* owned; with T */
	struct mapi_row props;
};

/* `cols`/`n_cols`: the recipient columns of the message (RopOpenMessage,
 * RopModifyRecipients); RecipientColumnCount may not exceed them. */
int rop_recip_row_read(struct mapi_rd *r, const uint32_t *cols,
		       size_t n_cols, struct rop_recip_row *row);
/* Returns 0, or -EINVAL when row->props has more columns than `n_cols`
 * or a string cannot be written (the row is written all the same, so
 * that what follows stays readable). */
int rop_recip_row_write(GByteArray *b, const struct rop_recip_row *row,
			const uint32_t *cols, size_t n_cols);
void rop_recip_row_clear(struct rop_recip_row *row);

/*
 * One recipient as the message ROPs carry it: OpenRecipientRow
 * (RopOpenMessage, RopOpenEmbeddedMessage: no row_id), ReadRecipientRow
 * (RopReadRecipients: all fields) and ModifyRecipientRow
 * (RopModifyRecipients: row_id, recip_type and the row, which is absent
 * when the recipient is to be removed).
 */
struct rop_recip {
	uint32_t row_id;
	uint8_t recip_type;		/* MAPI_TO ... with flag bits */
	uint16_t code_page;
	uint16_t reserved;
	bool has_row;			/* ModifyRecipientRow only */
	struct rop_recip_row row;
};

void rop_recip_clear(struct rop_recip *rc);

/* ---------------------------------------------------------------------
 * Messages, MS-OXCROPS 2.2.6 (MS-OXCMSG)
 */

/* RopRelease is in rop.h. */

/* OpenModeFlags of RopOpenMessage and RopOpenEmbeddedMessage. */
#define ROP_OPEN_READ_ONLY	0x00
#define ROP_OPEN_READ_WRITE	0x01
#define ROP_OPEN_BEST_ACCESS	0x03
#define ROP_OPEN_SOFT_DELETED	0x04	/* RopOpenMessage only */
#define ROP_OPEN_CREATE		0x02	/* RopOpenEmbeddedMessage only */

struct rop_open_message_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint16_t code_page;
	uint64_t folder_id;
	uint8_t open_mode;
	uint64_t message_id;
};

/* What RopOpenMessage and RopOpenEmbeddedMessage tell of the message. */
struct rop_msg_info {
	uint8_t has_named_props;
	struct mapi_tstr subject_prefix;
	struct mapi_tstr normalized_subject;
	uint16_t recip_count;		/* all recipients */
	size_t n_cols;
	uint32_t *cols;			/* owned; RecipientColumns */
	size_t n_rows;			/* the rows sent, at most 255 */
	struct rop_recip *rows;		/* owned */
};

void rop_msg_info_clear(struct rop_msg_info *m);

struct rop_open_message_resp {
	struct rop_resp_head head;	/* handle_index: OutputHandleIndex */
	struct rop_msg_info msg;
};

void rop_open_message_req_write(GByteArray *b,
				const struct rop_open_message_req *q);
int rop_open_message_req_read(struct mapi_rd *r,
			      struct rop_open_message_req *q);
/* Returns 0, or -EINVAL when a recipient row could not be written
 * whole (see rop_recip_row_write). */
int rop_open_message_resp_write(GByteArray *b,
				const struct rop_open_message_resp *s);
int rop_open_message_resp_read(struct mapi_rd *r,
			       struct rop_open_message_resp *s);
void rop_open_message_resp_clear(struct rop_open_message_resp *s);

struct rop_create_message_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint16_t code_page;
	uint64_t folder_id;
	uint8_t associated;
};

struct rop_create_message_resp {
	struct rop_resp_head head;	/* handle_index: OutputHandleIndex */
	uint8_t has_message_id;
	uint64_t message_id;		/* when has_message_id */
};

void rop_create_message_req_write(GByteArray *b,
				  const struct rop_create_message_req *q);
int rop_create_message_req_read(struct mapi_rd *r,
				struct rop_create_message_req *q);
void rop_create_message_resp_write(GByteArray *b,
				   const struct rop_create_message_resp *s);
int rop_create_message_resp_read(struct mapi_rd *r,
				 struct rop_create_message_resp *s);

/* SaveFlags of RopSaveChangesMessage and RopSaveChangesAttachment. */
#define ROP_SAVE_KEEP_OPEN_READ_ONLY	0x01
#define ROP_SAVE_KEEP_OPEN_READ_WRITE	0x02
#define ROP_SAVE_FORCE_SAVE		0x04

struct rop_save_changes_message_req {
	uint8_t logon_id;
	uint8_t response_handle_index;
	uint8_t input_handle_index;
	uint8_t save_flags;
};

struct rop_save_changes_message_resp {
	struct rop_resp_head head;	/* handle_index: ResponseHandleIndex */
	uint8_t input_handle_index;
	uint64_t message_id;
};

void rop_save_changes_message_req_write(GByteArray *b,
	const struct rop_save_changes_message_req *q);
int rop_save_changes_message_req_read(struct mapi_rd *r,
	struct rop_save_changes_message_req *q);
void rop_save_changes_message_resp_write(GByteArray *b,
	const struct rop_save_changes_message_resp *s);
int rop_save_changes_message_resp_read(struct mapi_rd *r,
	struct rop_save_changes_message_resp *s);

struct rop_read_recipients_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint32_t row_id;
	uint16_t reserved;
};

struct rop_read_recipients_resp {
	struct rop_resp_head head;
	size_t n_rows;			/* at most 255 */
	struct rop_recip *rows;		/* owned */
};

void rop_read_recipients_req_write(GByteArray *b,
				   const struct rop_read_recipients_req *q);
int rop_read_recipients_req_read(struct mapi_rd *r,
				 struct rop_read_recipients_req *q);
/* `cols`: the message's recipient columns, from RopOpenMessage.  Write
 * returns as rop_open_message_resp_write. */
int rop_read_recipients_resp_write(GByteArray *b,
				   const struct rop_read_recipients_resp *s,
				   const uint32_t *cols, size_t n_cols);
int rop_read_recipients_resp_read(struct mapi_rd *r,
				  struct rop_read_recipients_resp *s,
				  const uint32_t *cols, size_t n_cols);
void rop_read_recipients_resp_clear(struct rop_read_recipients_resp *s);

struct rop_modify_recipients_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	size_t n_cols;
	uint32_t *cols;			/* owned */
	size_t n_rows;
	struct rop_recip *rows;		/* owned; ModifyRecipientRow */
};

struct rop_modify_recipients_resp {
	struct rop_resp_head head;
};

/* Returns 0, or -EINVAL as rop_open_message_resp_write. */
int rop_modify_recipients_req_write(GByteArray *b,
	const struct rop_modify_recipients_req *q);
int rop_modify_recipients_req_read(struct mapi_rd *r,
	struct rop_modify_recipients_req *q);
void rop_modify_recipients_req_clear(struct rop_modify_recipients_req *q);
void rop_modify_recipients_resp_write(GByteArray *b,
	const struct rop_modify_recipients_resp *s);
int rop_modify_recipients_resp_read(struct mapi_rd *r,
	struct rop_modify_recipients_resp *s);

struct rop_remove_all_recipients_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint32_t reserved;
};

struct rop_remove_all_recipients_resp {
	struct rop_resp_head head;
};

void rop_remove_all_recipients_req_write(GByteArray *b,
	const struct rop_remove_all_recipients_req *q);
int rop_remove_all_recipients_req_read(struct mapi_rd *r,
	struct rop_remove_all_recipients_req *q);
void rop_remove_all_recipients_resp_write(GByteArray *b,
	const struct rop_remove_all_recipients_resp *s);
int rop_remove_all_recipients_resp_read(struct mapi_rd *r,
	struct rop_remove_all_recipients_resp *s);

/* ReadFlags of RopSetMessageReadFlag and RopSetReadFlags. */
#define ROP_READ_DEFAULT		0x00
#define ROP_READ_SUPPRESS_RECEIPT	0x01
#define ROP_READ_CLEAR_READ_FLAG	0x04
#define ROP_READ_GENERATE_RECEIPT_ONLY	0x10
#define ROP_READ_CLEAR_NOTIFY_READ	0x20
#define ROP_READ_CLEAR_NOTIFY_UNREAD	0x40

/* ClientData of RopSetMessageReadFlag: public folder logons only. */
#define ROP_CLIENT_DATA_LEN 24

struct rop_set_message_read_flag_req {
	uint8_t logon_id;
	uint8_t response_handle_index;
	uint8_t input_handle_index;
	uint8_t read_flags;
	uint8_t client_data[ROP_CLIENT_DATA_LEN];	/* public logon only */
};

struct rop_set_message_read_flag_resp {
	struct rop_resp_head head;	/* handle_index: ResponseHandleIndex */
	uint8_t read_status_changed;
	uint8_t logon_id;		/* when read_status_changed */
	uint8_t client_data[ROP_CLIENT_DATA_LEN];	/* likewise */
};

/* `public_logon`: whether the message lives in a public folder logon,
 * which alone carries ClientData in the request. */
void rop_set_message_read_flag_req_write(GByteArray *b,
	const struct rop_set_message_read_flag_req *q, bool public_logon);
int rop_set_message_read_flag_req_read(struct mapi_rd *r,
	struct rop_set_message_read_flag_req *q, bool public_logon);
void rop_set_message_read_flag_resp_write(GByteArray *b,
	const struct rop_set_message_read_flag_resp *s);
int rop_set_message_read_flag_resp_read(struct mapi_rd *r,
	struct rop_set_message_read_flag_resp *s);

/*
 * RopSetReadFlags, RopDeleteMessages and RopHardDeleteMessages share a
 * shape: a few flags and a list of message ids; the response tells
 * whether the work was only partly done (struct rop_partial_resp of
 * rop.h: PartialCompletion).
 */
struct rop_set_read_flags_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t want_async;
	uint8_t read_flags;
	size_t n_mids;			/* at most 0xFFFF */
	uint64_t *mids;			/* owned */
};

void rop_set_read_flags_req_write(GByteArray *b,
				  const struct rop_set_read_flags_req *q);
int rop_set_read_flags_req_read(struct mapi_rd *r,
				struct rop_set_read_flags_req *q);
void rop_set_read_flags_req_clear(struct rop_set_read_flags_req *q);
void rop_set_read_flags_resp_write(GByteArray *b,
				   const struct rop_partial_resp *s);
int rop_set_read_flags_resp_read(struct mapi_rd *r,
				 struct rop_partial_resp *s);

struct rop_delete_messages_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t want_async;
	uint8_t notify_non_read;
	size_t n_mids;			/* at most 0xFFFF */
	uint64_t *mids;			/* owned */
};

void rop_delete_messages_req_write(GByteArray *b,
				   const struct rop_delete_messages_req *q);
int rop_delete_messages_req_read(struct mapi_rd *r,
				 struct rop_delete_messages_req *q);
void rop_delete_messages_req_clear(struct rop_delete_messages_req *q);
void rop_delete_messages_resp_write(GByteArray *b,
				    const struct rop_partial_resp *s);
int rop_delete_messages_resp_read(struct mapi_rd *r,
				  struct rop_partial_resp *s);

/* RopHardDeleteMessages: the request of RopDeleteMessages, RopId 0x91. */
void rop_hard_delete_messages_req_write(GByteArray *b,
	const struct rop_delete_messages_req *q);
int rop_hard_delete_messages_req_read(struct mapi_rd *r,
	struct rop_delete_messages_req *q);
void rop_hard_delete_messages_resp_write(GByteArray *b,
	const struct rop_partial_resp *s);
int rop_hard_delete_messages_resp_read(struct mapi_rd *r,
	struct rop_partial_resp *s);

struct rop_move_copy_messages_req {
	uint8_t logon_id;
	uint8_t source_handle_index;
	uint8_t dest_handle_index;
	size_t n_mids;			/* at most 0xFFFF */
	uint64_t *mids;			/* owned */
	uint8_t want_async;
	uint8_t want_copy;
};

/* ecDstNullObject: the destination handle was not an object. */
#define ROP_E_DST_NULL_OBJECT 0x00000503U

struct rop_move_copy_messages_resp {
	struct rop_resp_head head;	/* handle_index: SourceHandleIndex */
	uint32_t dest_handle_index;	/* ReturnValue ecDstNullObject only */
	uint8_t partial;
};

void rop_move_copy_messages_req_write(GByteArray *b,
	const struct rop_move_copy_messages_req *q);
int rop_move_copy_messages_req_read(struct mapi_rd *r,
	struct rop_move_copy_messages_req *q);
void rop_move_copy_messages_req_clear(struct rop_move_copy_messages_req *q);
/* With ecDstNullObject the response has DestHandleIndex and
 * PartialCompletion, as MS-OXCROPS 2.2.4.6.2 gives it. */
void rop_move_copy_messages_resp_write(GByteArray *b,
	const struct rop_move_copy_messages_resp *s);
int rop_move_copy_messages_resp_read(struct mapi_rd *r,
	struct rop_move_copy_messages_resp *s);

struct rop_open_embedded_message_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint16_t code_page;
	uint8_t open_mode;
};

struct rop_open_embedded_message_resp {
	struct rop_resp_head head;	/* handle_index: OutputHandleIndex */
	uint8_t reserved;
	uint64_t message_id;
	struct rop_msg_info msg;
};

void rop_open_embedded_message_req_write(GByteArray *b,
	const struct rop_open_embedded_message_req *q);
int rop_open_embedded_message_req_read(struct mapi_rd *r,
	struct rop_open_embedded_message_req *q);
int rop_open_embedded_message_resp_write(GByteArray *b,
	const struct rop_open_embedded_message_resp *s);
int rop_open_embedded_message_resp_read(struct mapi_rd *r,
	struct rop_open_embedded_message_resp *s);
void rop_open_embedded_message_resp_clear(
	struct rop_open_embedded_message_resp *s);

/* SubmitFlags of RopSubmitMessage. */
#define ROP_SUBMIT_NONE		0x00
#define ROP_SUBMIT_PRE_PROCESS	0x01
#define ROP_SUBMIT_NEEDS_SPOOLER 0x02

struct rop_submit_message_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t submit_flags;
};

struct rop_submit_message_resp {
	struct rop_resp_head head;
};

void rop_submit_message_req_write(GByteArray *b,
				  const struct rop_submit_message_req *q);
int rop_submit_message_req_read(struct mapi_rd *r,
				struct rop_submit_message_req *q);
void rop_submit_message_resp_write(GByteArray *b,
				   const struct rop_submit_message_resp *s);
int rop_submit_message_resp_read(struct mapi_rd *r,
				 struct rop_submit_message_resp *s);

/* ---------------------------------------------------------------------
 * Streams, MS-OXCROPS 2.2.9 (MS-OXCPRPT)
 */

/* OpenModeFlags of RopOpenStream. */
#define ROP_STREAM_READ_ONLY	0x00
#define ROP_STREAM_READ_WRITE	0x01
#define ROP_STREAM_CREATE	0x02

struct rop_open_stream_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint32_t tag;
	uint8_t open_mode;
};

struct rop_open_stream_resp {
	struct rop_resp_head head;	/* handle_index: OutputHandleIndex */
	uint32_t stream_size;
};

void rop_open_stream_req_write(GByteArray *b,
			       const struct rop_open_stream_req *q);
int rop_open_stream_req_read(struct mapi_rd *r, struct rop_open_stream_req *q);
void rop_open_stream_resp_write(GByteArray *b,
				const struct rop_open_stream_resp *s);
int rop_open_stream_resp_read(struct mapi_rd *r,
			      struct rop_open_stream_resp *s);

/* ByteCount 0xBABE: MaximumByteCount follows and is the limit. */
#define ROP_READ_STREAM_USE_MAX 0xBABE

struct rop_read_stream_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint16_t byte_count;
	uint32_t max_byte_count;	/* byte_count 0xBABE only */
};

/* A failed RopReadStream is the head alone: a real server leaves out the
 * DataSize that MS-OXCROPS gives it. */
struct rop_read_stream_resp {
	struct rop_resp_head head;
	uint16_t len;			/* DataSize */
	const uint8_t *data;		/* borrowed */
};

void rop_read_stream_req_write(GByteArray *b,
			       const struct rop_read_stream_req *q);
int rop_read_stream_req_read(struct mapi_rd *r, struct rop_read_stream_req *q);
void rop_read_stream_resp_write(GByteArray *b,
				const struct rop_read_stream_resp *s);
int rop_read_stream_resp_read(struct mapi_rd *r,
			      struct rop_read_stream_resp *s);

struct rop_write_stream_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint16_t len;			/* DataSize */
	const uint8_t *data;		/* borrowed */
};

struct rop_write_stream_resp {
	struct rop_resp_head head;
	uint16_t written;		/* WrittenSize */
};

void rop_write_stream_req_write(GByteArray *b,
				const struct rop_write_stream_req *q);
int rop_write_stream_req_read(struct mapi_rd *r,
			      struct rop_write_stream_req *q);
void rop_write_stream_resp_write(GByteArray *b,
				 const struct rop_write_stream_resp *s);
int rop_write_stream_resp_read(struct mapi_rd *r,
			       struct rop_write_stream_resp *s);

/* The request of RopCommitStream and RopGetStreamSize. */
struct rop_stream_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
};

struct rop_commit_stream_resp {
	struct rop_resp_head head;
};

void rop_commit_stream_req_write(GByteArray *b, const struct rop_stream_req *q);
int rop_commit_stream_req_read(struct mapi_rd *r, struct rop_stream_req *q);
void rop_commit_stream_resp_write(GByteArray *b,
				  const struct rop_commit_stream_resp *s);
int rop_commit_stream_resp_read(struct mapi_rd *r,
				struct rop_commit_stream_resp *s);

struct rop_get_stream_size_resp {
	struct rop_resp_head head;
	uint32_t stream_size;
};

void rop_get_stream_size_req_write(GByteArray *b,
				   const struct rop_stream_req *q);
int rop_get_stream_size_req_read(struct mapi_rd *r, struct rop_stream_req *q);
void rop_get_stream_size_resp_write(GByteArray *b,
				    const struct rop_get_stream_size_resp *s);
int rop_get_stream_size_resp_read(struct mapi_rd *r,
				  struct rop_get_stream_size_resp *s);

struct rop_set_stream_size_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint64_t stream_size;
};

struct rop_set_stream_size_resp {
	struct rop_resp_head head;
};

void rop_set_stream_size_req_write(GByteArray *b,
				   const struct rop_set_stream_size_req *q);
int rop_set_stream_size_req_read(struct mapi_rd *r,
				 struct rop_set_stream_size_req *q);
void rop_set_stream_size_resp_write(GByteArray *b,
				    const struct rop_set_stream_size_resp *s);
int rop_set_stream_size_resp_read(struct mapi_rd *r,
				  struct rop_set_stream_size_resp *s);

/* Origin of RopSeekStream. */
#define ROP_SEEK_BEGIN		0x00
#define ROP_SEEK_CURRENT	0x01
#define ROP_SEEK_END		0x02

struct rop_seek_stream_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t origin;			/* 0..2, else -EPROTO */
	int64_t offset;
};

struct rop_seek_stream_resp {
	struct rop_resp_head head;
	uint64_t new_position;
};

void rop_seek_stream_req_write(GByteArray *b,
			       const struct rop_seek_stream_req *q);
int rop_seek_stream_req_read(struct mapi_rd *r, struct rop_seek_stream_req *q);
void rop_seek_stream_resp_write(GByteArray *b,
				const struct rop_seek_stream_resp *s);
int rop_seek_stream_resp_read(struct mapi_rd *r,
			      struct rop_seek_stream_resp *s);

/* ---------------------------------------------------------------------
 * Attachments, MS-OXCROPS 2.2.6.17 to 2.2.6.21 (MS-OXCMSG)
 */

struct rop_get_attachment_table_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint8_t table_flags;		/* 0x40 Unicode */
};

/* The response of every attachment ROP but RopCreateAttachment. */
struct rop_attach_resp {
	struct rop_resp_head head;
};

void rop_get_attachment_table_req_write(GByteArray *b,
	const struct rop_get_attachment_table_req *q);
int rop_get_attachment_table_req_read(struct mapi_rd *r,
	struct rop_get_attachment_table_req *q);
void rop_get_attachment_table_resp_write(GByteArray *b,
	const struct rop_attach_resp *s);
int rop_get_attachment_table_resp_read(struct mapi_rd *r,
	struct rop_attach_resp *s);

struct rop_open_attachment_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint8_t open_flags;		/* as ROP_OPEN_READ_ONLY ... */
	uint32_t attach_num;
};

void rop_open_attachment_req_write(GByteArray *b,
				   const struct rop_open_attachment_req *q);
int rop_open_attachment_req_read(struct mapi_rd *r,
				 struct rop_open_attachment_req *q);
void rop_open_attachment_resp_write(GByteArray *b,
				    const struct rop_attach_resp *s);
int rop_open_attachment_resp_read(struct mapi_rd *r,
				  struct rop_attach_resp *s);

struct rop_create_attachment_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
};

struct rop_create_attachment_resp {
	struct rop_resp_head head;
	uint32_t attach_num;
};

void rop_create_attachment_req_write(GByteArray *b,
	const struct rop_create_attachment_req *q);
int rop_create_attachment_req_read(struct mapi_rd *r,
	struct rop_create_attachment_req *q);
void rop_create_attachment_resp_write(GByteArray *b,
	const struct rop_create_attachment_resp *s);
int rop_create_attachment_resp_read(struct mapi_rd *r,
	struct rop_create_attachment_resp *s);

struct rop_save_changes_attachment_req {
	uint8_t logon_id;
	uint8_t response_handle_index;
	uint8_t input_handle_index;
	uint8_t save_flags;
};

void rop_save_changes_attachment_req_write(GByteArray *b,
	const struct rop_save_changes_attachment_req *q);
int rop_save_changes_attachment_req_read(struct mapi_rd *r,
	struct rop_save_changes_attachment_req *q);
void rop_save_changes_attachment_resp_write(GByteArray *b,
	const struct rop_attach_resp *s);
int rop_save_changes_attachment_resp_read(struct mapi_rd *r,
	struct rop_attach_resp *s);

struct rop_delete_attachment_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint32_t attach_num;
};

void rop_delete_attachment_req_write(GByteArray *b,
	const struct rop_delete_attachment_req *q);
int rop_delete_attachment_req_read(struct mapi_rd *r,
	struct rop_delete_attachment_req *q);
void rop_delete_attachment_resp_write(GByteArray *b,
	const struct rop_attach_resp *s);
int rop_delete_attachment_resp_read(struct mapi_rd *r,
	struct rop_attach_resp *s);

/* ---------------------------------------------------------------------
 * Notifications, MS-OXCROPS 2.2.14 (MS-OXCNOTIF)
 */

/* NotificationTypes of RopRegisterNotification (a byte of these). */
#define ROP_NOTIF_NEW_MAIL		0x0002
#define ROP_NOTIF_OBJECT_CREATED	0x0004
#define ROP_NOTIF_OBJECT_DELETED	0x0008
#define ROP_NOTIF_OBJECT_MODIFIED	0x0010
#define ROP_NOTIF_OBJECT_MOVED		0x0020
#define ROP_NOTIF_OBJECT_COPIED		0x0040
#define ROP_NOTIF_SEARCH_COMPLETE	0x0080
#define ROP_NOTIF_TABLE_MODIFIED	0x0100
#define ROP_NOTIF_RESERVED		0x0400
#define ROP_NOTIF_TYPE_MASK		0x0FFF
/* The flags in the high bits of NotificationFlags. */
#define ROP_NOTIF_T	0x1000	/* TotalMessageCount is there */
#define ROP_NOTIF_U	0x2000	/* UnreadMessageCount is there */
#define ROP_NOTIF_S	0x4000	/* the event is in a search folder */
#define ROP_NOTIF_M	0x8000	/* the event is about a message */

/* TableEventType, MS-OXCNOTIF 2.2.1.4.1.2. */
#define ROP_TABLE_CHANGED		0x0001
#define ROP_TABLE_ROW_ADDED		0x0003
#define ROP_TABLE_ROW_DELETED		0x0004
#define ROP_TABLE_ROW_MODIFIED		0x0005
#define ROP_TABLE_RESTRICT_DONE		0x0007
#define ROP_TABLE_RELOAD		0x0009

struct rop_register_notification_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint8_t types;			/* ROP_NOTIF_* of the low byte */
	uint8_t reserved;
	uint8_t want_whole_store;
	uint64_t folder_id;		/* when !want_whole_store */
	uint64_t message_id;		/* likewise */
};

struct rop_register_notification_resp {
	struct rop_resp_head head;	/* handle_index: OutputHandleIndex */
};

void rop_register_notification_req_write(GByteArray *b,
	const struct rop_register_notification_req *q);
int rop_register_notification_req_read(struct mapi_rd *r,
	struct rop_register_notification_req *q);
void rop_register_notification_resp_write(GByteArray *b,
	const struct rop_register_notification_resp *s);
int rop_register_notification_resp_read(struct mapi_rd *r,
	struct rop_register_notification_resp *s);

/*
 * NotificationData, MS-OXCNOTIF 2.2.1.4.1.2.  Which fields travel follows
 * the type and flags in `flags` (and `table_event` for a TableModified
 * event); the others are 0.
 */
struct rop_notification {
	uint16_t flags;			/* NotificationFlags */
	uint16_t table_event;		/* TableModified */
	uint64_t row_fid;		/* TableRowFolderID ... */
	uint64_t row_mid;
	uint32_t row_instance;
	uint64_t after_fid;		/* InsertAfterTableRow... */
	uint64_t after_mid;
	uint32_t after_instance;
	uint16_t row_len;		/* TableRowDataSize */
	const uint8_t *row_data;	/* borrowed; a PropertyRow of the
					   table's columns (see
					   rop_notification_row) */
	uint64_t fid;
	uint64_t mid;
	uint64_t parent_fid;
	uint64_t old_fid;
	uint64_t old_mid;
	uint64_t old_parent_fid;
	uint16_t tag_count;		/* 0xFFFF: all properties changed */
	uint32_t *tags;			/* owned; tag_count entries unless
					   0 or 0xFFFF */
	uint32_t total;			/* with ROP_NOTIF_T */
	uint32_t unread;		/* with ROP_NOTIF_U */
	uint32_t message_flags;		/* NewMail */
	uint8_t unicode;		/* NewMail: MessageClass is UTF-16 */
	char *message_class;		/* owned; UTF-8 or the bytes sent */
};

int rop_notification_read(struct mapi_rd *r, struct rop_notification *n);
/* Returns 0, or -EINVAL when message_class cannot be written as the
 * unicode flag says (an empty string goes in its place). */
int rop_notification_write(GByteArray *b, const struct rop_notification *n);
void rop_notification_clear(struct rop_notification *n);

/* The row of a TableRowAdded/TableRowModified event, read against the
 * table's columns; *row is the caller's (mapi_row_clear).  -EPROTO when
 * there is no row or bytes are left over. */
int rop_notification_row(const struct rop_notification *n,
			 const uint32_t *cols, size_t n_cols,
			 struct mapi_row *row);

/* RopNotify: not an answer to a request, so no HandleIndex or
 * ReturnValue. */
struct rop_notify {
	uint32_t handle;		/* NotificationHandle */
	uint8_t logon_id;
	struct rop_notification data;
};

/* RopPending: notifications wait for the session with this index. */
struct rop_pending {
	uint16_t session_index;
};

struct rop_backoff_rop {
	uint8_t rop_id;
	uint32_t duration;		/* milliseconds */
};

/* RopBackoff, MS-OXCROPS 2.2.15.2. */
struct rop_backoff {
	uint8_t logon_id;
	uint32_t duration;		/* milliseconds */
	size_t n_rops;			/* at most 255 */
	struct rop_backoff_rop *rops;	/* owned */
	uint16_t extra_len;
	const uint8_t *extra;		/* borrowed; AdditionalData */
};

/* RopBufferTooSmall, MS-OXCROPS 2.2.15.1: the requests that were not
 * run, to the end of the ROPs. */
struct rop_buffer_too_small {
	uint16_t size_needed;
	size_t req_len;
	const uint8_t *req;		/* borrowed; RequestBuffers */
};

/* What a server may put after the regular responses. */
struct rop_trailer {
	uint8_t rop_id;			/* ROP_NOTIFY, ROP_PENDING,
					   ROP_BACKOFF, ROP_BUFFER_TOO_SMALL */
	union {
		struct rop_notify notify;
		struct rop_pending pending;
		struct rop_backoff backoff;
		struct rop_buffer_too_small too_small;
	} u;
};

/* Whether a RopId is one of those the trailer reader takes. */
bool rop_is_trailer(uint8_t rop_id);

/* One trailing entry; -EPROTO when the next RopId is none of them. */
int rop_trailer_read(struct mapi_rd *r, struct rop_trailer *t);
/* Returns 0, or the error of rop_notification_write. */
int rop_trailer_write(GByteArray *b, const struct rop_trailer *t);
void rop_trailer_clear(struct rop_trailer *t);

/*
 * Every entry from here to the end of `r` (the rest of a frame's ROPs
 * after the regular responses).  *t_r is owned by the caller
 * (rop_trailers_free); nothing to free on failure.  At most one entry per
 * byte left is allocated, so a hostile buffer cannot ask for more.
 */
int rop_trailers_read(struct mapi_rd *r, struct rop_trailer **t_r,
		      size_t *n_r);
void rop_trailers_free(struct rop_trailer *t, size_t n);

#endif
