/*
 * rop.h - remote operations (ROPs), MS-OXCROPS: the RopIds, the framing of
 * a ROP buffer (2.2.1), the head every response starts with, and the
 * requests and responses of the logon, folder, table and property
 * families (2.2.3, 2.2.4, 2.2.5, 2.2.8).  The message, stream, attachment,
 * notification and ICS families are in rop-msg.h.  No I/O.
 *
 * For each ROP NAME: struct rop_NAME_req and struct rop_NAME_resp, and
 *   rop_NAME_req_write / rop_NAME_req_read   (client writes, server reads)
 *   rop_NAME_resp_write / rop_NAME_resp_read (server writes, client reads)
 * Readers read the whole ROP, its RopId byte included, and return 0,
 * -EBADMSG (too few bytes), -EPROTO (another RopId, a field out of range,
 * a count that lies) or -EILSEQ (a string that is not what its type
 * says); on failure the output holds nothing to free.  A response whose
 * ReturnValue is not 0 is only RopId, handle index and ReturnValue (that
 * is all a real server sends, even where MS-OXCROPS gives a failure more
 * fields): its reader stops there and returns 0, its writer writes only
 * those.  Context a response needs (the column set of a QueryRows, the
 * tags of a GetPropertiesSpecific) is an argument of its reader and
 * writer.
 *
 * Ownership: structs own what their pointers hold (rop_NAME_*_clear frees
 * it); writers borrow theirs and append to a GByteArray the caller owns.
 * Strings are UTF-8 (PtypString) unless a field says 8-bit.
 */
#ifndef MFS_ROP_H
#define MFS_ROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mapi-buf.h"
#include "mapi-prop.h"
#include "mapi-propval.h"

/* RopIds, MS-OXCROPS 2.2 (table in 2.2.2). */
enum rop_id {
	ROP_RELEASE = 0x01,
	ROP_OPEN_FOLDER = 0x02,
	ROP_OPEN_MESSAGE = 0x03,
	ROP_GET_HIERARCHY_TABLE = 0x04,
	ROP_GET_CONTENTS_TABLE = 0x05,
	ROP_CREATE_MESSAGE = 0x06,
	ROP_GET_PROPERTIES_SPECIFIC = 0x07,
	ROP_GET_PROPERTIES_ALL = 0x08,
	ROP_GET_PROPERTIES_LIST = 0x09,
	ROP_SET_PROPERTIES = 0x0A,
	ROP_DELETE_PROPERTIES = 0x0B,
	ROP_SAVE_CHANGES_MESSAGE = 0x0C,
	ROP_REMOVE_ALL_RECIPIENTS = 0x0D,
	ROP_MODIFY_RECIPIENTS = 0x0E,
	ROP_READ_RECIPIENTS = 0x0F,
	ROP_RELOAD_CACHED_INFORMATION = 0x10,
	ROP_SET_MESSAGE_READ_FLAG = 0x11,
	ROP_SET_COLUMNS = 0x12,
	ROP_SORT_TABLE = 0x13,
	ROP_RESTRICT = 0x14,
	ROP_QUERY_ROWS = 0x15,
	ROP_GET_STATUS = 0x16,
	ROP_QUERY_POSITION = 0x17,
	ROP_SEEK_ROW = 0x18,
	ROP_SEEK_ROW_BOOKMARK = 0x19,
	ROP_SEEK_ROW_FRACTIONAL = 0x1A,
	ROP_CREATE_BOOKMARK = 0x1B,
	ROP_CREATE_FOLDER = 0x1C,
	ROP_DELETE_FOLDER = 0x1D,
	ROP_DELETE_MESSAGES = 0x1E,
	ROP_GET_MESSAGE_STATUS = 0x1F,
	ROP_SET_MESSAGE_STATUS = 0x20,
	ROP_GET_ATTACHMENT_TABLE = 0x21,
	ROP_OPEN_ATTACHMENT = 0x22,
	ROP_CREATE_ATTACHMENT = 0x23,
	ROP_DELETE_ATTACHMENT = 0x24,
	ROP_SAVE_CHANGES_ATTACHMENT = 0x25,
	ROP_SET_RECEIVE_FOLDER = 0x26,
	ROP_GET_RECEIVE_FOLDER = 0x27,
	ROP_REGISTER_NOTIFICATION = 0x29,
	ROP_NOTIFY = 0x2A,
	ROP_OPEN_STREAM = 0x2B,
	ROP_READ_STREAM = 0x2C,
	ROP_WRITE_STREAM = 0x2D,
	ROP_SEEK_STREAM = 0x2E,
	ROP_SET_STREAM_SIZE = 0x2F,
	ROP_SET_SEARCH_CRITERIA = 0x30,
	ROP_GET_SEARCH_CRITERIA = 0x31,
	ROP_SUBMIT_MESSAGE = 0x32,
	ROP_MOVE_COPY_MESSAGES = 0x33,
	ROP_ABORT_SUBMIT = 0x34,
	ROP_MOVE_FOLDER = 0x35,
	ROP_COPY_FOLDER = 0x36,
	ROP_QUERY_COLUMNS_ALL = 0x37,
	ROP_ABORT = 0x38,
	ROP_COPY_TO = 0x39,
	ROP_COPY_TO_STREAM = 0x3A,
	ROP_CLONE_STREAM = 0x3B,
	ROP_GET_PERMISSIONS_TABLE = 0x3E,
	ROP_GET_RULES_TABLE = 0x3F,
	ROP_MODIFY_PERMISSIONS = 0x40,
	ROP_MODIFY_RULES = 0x41,
	ROP_GET_OWNING_SERVERS = 0x42,
	ROP_LONG_TERM_ID_FROM_ID = 0x43,
	ROP_ID_FROM_LONG_TERM_ID = 0x44,
	ROP_PUBLIC_FOLDER_IS_GHOSTED = 0x45,
	ROP_OPEN_EMBEDDED_MESSAGE = 0x46,
	ROP_SET_SPOOLER = 0x47,
	ROP_SPOOLER_LOCK_MESSAGE = 0x48,
	ROP_GET_ADDRESS_TYPES = 0x49,
	ROP_TRANSPORT_SEND = 0x4A,
	ROP_FAST_TRANSFER_SOURCE_COPY_MESSAGES = 0x4B,
	ROP_FAST_TRANSFER_SOURCE_COPY_FOLDER = 0x4C,
	ROP_FAST_TRANSFER_SOURCE_COPY_TO = 0x4D,
	ROP_FAST_TRANSFER_SOURCE_GET_BUFFER = 0x4E,
	ROP_FIND_ROW = 0x4F,
	ROP_PROGRESS = 0x50,
	ROP_TRANSPORT_NEW_MAIL = 0x51,
	ROP_GET_VALID_ATTACHMENTS = 0x52,
	ROP_FAST_TRANSFER_DESTINATION_CONFIGURE = 0x53,
	ROP_FAST_TRANSFER_DESTINATION_PUT_BUFFER = 0x54,
	ROP_GET_NAMES_FROM_PROPERTY_IDS = 0x55,
	ROP_GET_PROPERTY_IDS_FROM_NAMES = 0x56,
	ROP_UPDATE_DEFERRED_ACTION_MESSAGES = 0x57,
	ROP_EMPTY_FOLDER = 0x58,
	ROP_EXPAND_ROW = 0x59,
	ROP_COLLAPSE_ROW = 0x5A,
	ROP_LOCK_REGION_STREAM = 0x5B,
	ROP_UNLOCK_REGION_STREAM = 0x5C,
	ROP_COMMIT_STREAM = 0x5D,
	ROP_GET_STREAM_SIZE = 0x5E,
	ROP_QUERY_NAMED_PROPERTIES = 0x5F,
	ROP_GET_PER_USER_LONG_TERM_IDS = 0x60,
	ROP_GET_PER_USER_GUID = 0x61,
	ROP_READ_PER_USER_INFORMATION = 0x63,
	ROP_WRITE_PER_USER_INFORMATION = 0x64,
	ROP_SET_READ_FLAGS = 0x66,
	ROP_COPY_PROPERTIES = 0x67,
	ROP_GET_RECEIVE_FOLDER_TABLE = 0x68,
	ROP_FAST_TRANSFER_SOURCE_COPY_PROPERTIES = 0x69,
	ROP_GET_COLLAPSE_STATE = 0x6B,
	ROP_SET_COLLAPSE_STATE = 0x6C,
	ROP_GET_TRANSPORT_FOLDER = 0x6D,
	ROP_PENDING = 0x6E,
	ROP_OPTIONS_DATA = 0x6F,
	ROP_SYNCHRONIZATION_CONFIGURE = 0x70,
	ROP_SYNCHRONIZATION_IMPORT_MESSAGE_CHANGE = 0x72,
	ROP_SYNCHRONIZATION_IMPORT_HIERARCHY_CHANGE = 0x73,
	ROP_SYNCHRONIZATION_IMPORT_DELETES = 0x74,
	ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_BEGIN = 0x75,
	ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_CONTINUE = 0x76,
	ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_END = 0x77,
	ROP_SYNCHRONIZATION_IMPORT_MESSAGE_MOVE = 0x78,
	ROP_SET_PROPERTIES_NO_REPLICATE = 0x79,
	ROP_DELETE_PROPERTIES_NO_REPLICATE = 0x7A,
	ROP_GET_STORE_STATE = 0x7B,
	ROP_SYNCHRONIZATION_OPEN_COLLECTOR = 0x7E,
	ROP_GET_LOCAL_REPLICA_IDS = 0x7F,
	ROP_SYNCHRONIZATION_IMPORT_READ_STATE_CHANGES = 0x80,
	ROP_RESET_TABLE = 0x81,
	ROP_SYNCHRONIZATION_GET_TRANSFER_STATE = 0x82,
	ROP_TELL_VERSION = 0x86,
	ROP_FREE_BOOKMARK = 0x89,
	ROP_WRITE_AND_COMMIT_STREAM = 0x90,
	ROP_HARD_DELETE_MESSAGES = 0x91,
	ROP_HARD_DELETE_MESSAGES_AND_SUBFOLDERS = 0x92,
	ROP_SET_LOCAL_REPLICA_MIDSET_DELETED = 0x93,
	ROP_BACKOFF = 0xF9,
	ROP_LOGON = 0xFE,
	ROP_BUFFER_TOO_SMALL = 0xFF,
};

/*
 * A ROP buffer, MS-OXCROPS 2.2.1: RopSize (u16, counting itself and the
 * ROPs), the ROPs, then the ServerObjectHandleTable (u32s to the end).
 */
struct rop_frame {
	const uint8_t *rops;		/* borrowed from the buffer read */
	size_t rops_len;
	uint32_t *handles;		/* owned */
	size_t n_handles;
};

/* Split a ROP buffer.  Returns 0, -EBADMSG (shorter than RopSize says, or
 * less than 2 bytes) or -EPROTO (RopSize below 2, a handle table that is
 * not a whole number of u32s).  *f is cleared on failure. */
int rop_frame_read(const uint8_t *p, size_t len, struct rop_frame *f);
void rop_frame_clear(struct rop_frame *f);

/* Start a ROP buffer at the end of b; returns where RopSize goes. */
size_t rop_frame_begin(GByteArray *b);
/* Fill in RopSize (the ROPs written since rop_frame_begin must fit in
 * 0xFFFF bytes with it) and append the handle table. */
void rop_frame_end(GByteArray *b, size_t at, const uint32_t *handles,
		   size_t n);

/* The head of every response: RopId, the handle index (input or output,
 * as the ROP has it) and ReturnValue. */
struct rop_resp_head {
	uint8_t rop_id;
	uint8_t handle_index;
	uint32_t rv;
};

/* Returns 0, -EBADMSG, or -EPROTO when the RopId is not want_id. */
int rop_resp_head_read(struct mapi_rd *r, uint8_t want_id,
		       struct rop_resp_head *h);
void rop_resp_head_write(GByteArray *b, const struct rop_resp_head *h);

/* The head of most requests: RopId, LogonId, InputHandleIndex.  Returns
 * 0, -EBADMSG, or -EPROTO when the RopId is not want_id. */
int rop_req_head_read(struct mapi_rd *r, uint8_t want_id, uint8_t *logon_id,
		      uint8_t *in_index);
void rop_req_head_write(GByteArray *b, uint8_t rop_id, uint8_t logon_id,
			uint8_t in_index);

/* The RopId of the next ROP in r without reading it, or -EBADMSG at the
 * end. */
int rop_peek_id(const struct mapi_rd *r);

#endif
