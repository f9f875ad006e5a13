/*
 * rop-ics.h - the ROPs of incremental change synchronization (MS-OXCROPS
 * 2.2.13, MS-OXCFXICS): configuring a download, uploading its state,
 * taking the FastTransfer stream in buffers, and importing changes.  The
 * stream itself is mapi-fx.h's.  The conventions (readers, writers,
 * ownership, failure responses) are rop.h's and rop-msg.h's.
 */
#ifndef MFS_ROP_ICS_H
#define MFS_ROP_ICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mapi-buf.h"
#include "mapi-prop.h"
#include "mapi-propval.h"
#include "rop.h"
/* ---------------------------------------------------------------------
 * Incremental change synchronization, MS-OXCROPS 2.2.13 (MS-OXCFXICS)
 */

/* SynchronizationType. */
#define ROP_SYNC_CONTENTS	0x01
#define ROP_SYNC_HIERARCHY	0x02
/* SendOptions. */
#define ROP_SEND_UNICODE		0x01
#define ROP_SEND_USE_CPID		0x02
#define ROP_SEND_RECOVER_MODE		0x04
#define ROP_SEND_FORCE_UNICODE		0x08
#define ROP_SEND_PARTIAL_ITEM		0x10
/* SynchronizationFlags. */
#define ROP_SYNC_F_UNICODE		0x0001
#define ROP_SYNC_F_NO_DELETIONS		0x0002
#define ROP_SYNC_F_IGNORE_NO_LONGER_IN_SCOPE 0x0004
#define ROP_SYNC_F_READ_STATE		0x0008
#define ROP_SYNC_F_FAI			0x0010
#define ROP_SYNC_F_NORMAL		0x0020
#define ROP_SYNC_F_ONLY_SPECIFIED_PROPS	0x0080
#define ROP_SYNC_F_NO_FOREIGN_IDS	0x0100
#define ROP_SYNC_F_BEST_BODY		0x2000
#define ROP_SYNC_F_IGNORE_SPECIFIED_ON_FAI 0x4000
#define ROP_SYNC_F_PROGRESS		0x8000
/* SynchronizationExtraFlags. */
#define ROP_SYNC_X_EID			0x00000001
#define ROP_SYNC_X_MESSAGE_SIZE		0x00000002
#define ROP_SYNC_X_CN			0x00000004
#define ROP_SYNC_X_ORDER_BY_DELIVERY	0x00000008

struct rop_sync_configure_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint8_t sync_type;
	uint8_t send_options;
	uint16_t sync_flags;
	uint16_t restriction_len;
	const uint8_t *restriction;	/* borrowed; a Restriction
					   (MS-OXCDATA 2.12), not read here */
	uint32_t extra_flags;
	size_t n_tags;
	uint32_t *tags;			/* owned */
};

struct rop_sync_resp {
	struct rop_resp_head head;
};

void rop_sync_configure_req_write(GByteArray *b,
				  const struct rop_sync_configure_req *q);
int rop_sync_configure_req_read(struct mapi_rd *r,
				struct rop_sync_configure_req *q);
void rop_sync_configure_req_clear(struct rop_sync_configure_req *q);
void rop_sync_configure_resp_write(GByteArray *b,
				   const struct rop_sync_resp *s);
int rop_sync_configure_resp_read(struct mapi_rd *r, struct rop_sync_resp *s);

/* The state properties of an upload, MS-OXCFXICS 2.2.1.1. */
#define ROP_META_IDSET_GIVEN		0x40170003U
#define ROP_META_CNSET_SEEN		0x67960102U
#define ROP_META_CNSET_SEEN_FAI		0x67DA0102U
#define ROP_META_CNSET_READ		0x67D20102U

struct rop_sync_upload_begin_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint32_t state_prop;
	uint32_t size;			/* TransferBufferSize */
};

void rop_sync_upload_begin_req_write(GByteArray *b,
	const struct rop_sync_upload_begin_req *q);
int rop_sync_upload_begin_req_read(struct mapi_rd *r,
	struct rop_sync_upload_begin_req *q);
void rop_sync_upload_begin_resp_write(GByteArray *b,
	const struct rop_sync_resp *s);
int rop_sync_upload_begin_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s);

struct rop_sync_upload_continue_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint32_t len;			/* StreamDataSize */
	const uint8_t *data;		/* borrowed */
};

void rop_sync_upload_continue_req_write(GByteArray *b,
	const struct rop_sync_upload_continue_req *q);
int rop_sync_upload_continue_req_read(struct mapi_rd *r,
	struct rop_sync_upload_continue_req *q);
void rop_sync_upload_continue_resp_write(GByteArray *b,
	const struct rop_sync_resp *s);
int rop_sync_upload_continue_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s);

/* The request of RopSynchronizationUploadStateStreamEnd. */
struct rop_sync_upload_end_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
};

void rop_sync_upload_end_req_write(GByteArray *b,
	const struct rop_sync_upload_end_req *q);
int rop_sync_upload_end_req_read(struct mapi_rd *r,
	struct rop_sync_upload_end_req *q);
void rop_sync_upload_end_resp_write(GByteArray *b,
	const struct rop_sync_resp *s);
int rop_sync_upload_end_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s);

/* BufferSize 0xBABE: MaximumBufferSize follows and is the limit. */
#define ROP_FT_USE_MAX 0xBABE

struct rop_ft_get_buffer_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint16_t buffer_size;
	uint16_t max_buffer_size;	/* buffer_size 0xBABE only */
};

/* TransferStatus. */
#define ROP_FT_ERROR		0x0000
#define ROP_FT_PARTIAL		0x0001
#define ROP_FT_NO_ROOM		0x0002
#define ROP_FT_DONE		0x0003

/* ecServerBusy: the failure that carries BackoffTime. */
#define ROP_E_SERVER_BUSY 0x00000480U

struct rop_ft_get_buffer_resp {
	struct rop_resp_head head;
	uint16_t status;		/* TransferStatus */
	uint16_t in_progress;		/* InProgressCount */
	uint16_t total_steps;		/* TotalStepCount */
	uint8_t reserved;
	uint16_t len;			/* TransferBufferSize */
	const uint8_t *buf;		/* borrowed; a piece of the
					   FastTransfer stream */
	uint32_t backoff_ms;		/* ReturnValue ecServerBusy only */
};

void rop_ft_get_buffer_req_write(GByteArray *b,
				 const struct rop_ft_get_buffer_req *q);
int rop_ft_get_buffer_req_read(struct mapi_rd *r,
			       struct rop_ft_get_buffer_req *q);
/* With ecServerBusy the response has BackoffTime, as MS-OXCROPS
 * 2.2.12.3.2 gives it. */
void rop_ft_get_buffer_resp_write(GByteArray *b,
				  const struct rop_ft_get_buffer_resp *s);
int rop_ft_get_buffer_resp_read(struct mapi_rd *r,
				struct rop_ft_get_buffer_resp *s);

struct rop_sync_get_transfer_state_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
};

void rop_sync_get_transfer_state_req_write(GByteArray *b,
	const struct rop_sync_get_transfer_state_req *q);
int rop_sync_get_transfer_state_req_read(struct mapi_rd *r,
	struct rop_sync_get_transfer_state_req *q);
void rop_sync_get_transfer_state_resp_write(GByteArray *b,
	const struct rop_sync_resp *s);
int rop_sync_get_transfer_state_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s);

/* ImportFlag of RopSynchronizationImportMessageChange. */
#define ROP_IMPORT_ASSOCIATED	0x10
#define ROP_IMPORT_FAIL_ON_CONFLICT 0x40

struct rop_sync_import_message_change_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint8_t import_flag;
	size_t n_vals;			/* at most 0xFFFF */
	struct mapi_value *vals;	/* owned; TaggedPropertyValues */
};

struct rop_sync_import_message_change_resp {
	struct rop_resp_head head;	/* handle_index: OutputHandleIndex */
	uint64_t message_id;		/* always 0 from a server */
};

/* Write returns 0, or the first error of mapi_tagged_pv_write. */
int rop_sync_import_message_change_req_write(GByteArray *b,
	const struct rop_sync_import_message_change_req *q);
int rop_sync_import_message_change_req_read(struct mapi_rd *r,
	struct rop_sync_import_message_change_req *q);
void rop_sync_import_message_change_req_clear(
	struct rop_sync_import_message_change_req *q);
void rop_sync_import_message_change_resp_write(GByteArray *b,
	const struct rop_sync_import_message_change_resp *s);
int rop_sync_import_message_change_resp_read(struct mapi_rd *r,
	struct rop_sync_import_message_change_resp *s);

/* ImportDeleteFlags. */
#define ROP_IMPORT_DELETE_HIERARCHY	0x01
#define ROP_IMPORT_DELETE_HARD		0x02

struct rop_sync_import_deletes_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t flags;
	size_t n_vals;			/* at most 0xFFFF */
	struct mapi_value *vals;	/* owned; a PtypMultipleBinary of
					   source keys, MS-OXCFXICS */
};

void rop_sync_import_deletes_req_write(GByteArray *b,
	const struct rop_sync_import_deletes_req *q);
int rop_sync_import_deletes_req_read(struct mapi_rd *r,
	struct rop_sync_import_deletes_req *q);
void rop_sync_import_deletes_req_clear(struct rop_sync_import_deletes_req *q);
void rop_sync_import_deletes_resp_write(GByteArray *b,
	const struct rop_sync_resp *s);
int rop_sync_import_deletes_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s);

/* MessageReadState: a message's source key and whether it is read. */
struct rop_read_state {
	struct mapi_bin source_key;	/* owned */
	uint8_t mark_read;
};

struct rop_sync_import_read_state_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	size_t n_states;
	struct rop_read_state *states;	/* owned */
};

void rop_sync_import_read_state_req_write(GByteArray *b,
	const struct rop_sync_import_read_state_req *q);
int rop_sync_import_read_state_req_read(struct mapi_rd *r,
	struct rop_sync_import_read_state_req *q);
void rop_sync_import_read_state_req_clear(
	struct rop_sync_import_read_state_req *q);
void rop_sync_import_read_state_resp_write(GByteArray *b,
	const struct rop_sync_resp *s);
int rop_sync_import_read_state_resp_read(struct mapi_rd *r,
	struct rop_sync_resp *s);

#endif
