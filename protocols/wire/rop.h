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

/* A NUL-terminated string in a ROP: UTF-16LE (held as UTF-8) when
 * `unicode`, else 8-bit (held as received).  Caller owns the result; NULL
 * with the error in r on failure. */
char *rop_rd_str(struct mapi_rd *r, bool unicode);
/* A NULL `s` goes as ""; so does UTF-8 that is not (with `unicode`). */
void rop_wr_str(GByteArray *b, const char *s, bool unicode);

/* The RopId of the next ROP in r without reading it, or -EBADMSG at the
 * end. */
int rop_peek_id(const struct mapi_rd *r);

/* ---- Object lifetime and logon: rop-logon.c (MS-OXCROPS 2.2.3, 2.2.15.3) */

/* RopRelease: no response. */
struct rop_release_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
};
void rop_release_req_write(GByteArray *b, const struct rop_release_req *q);
int rop_release_req_read(struct mapi_rd *r, struct rop_release_req *q);

#define ROP_LOGON_PRIVATE 0x01		/* LogonFlags: a private mailbox */
#define ROP_E_WRONG_SERVER 0x00000478U	/* the redirect's ReturnValue */
#define ROP_LOGON_N_FOLDERS 13

struct rop_logon_req {
	uint8_t logon_id;
	uint8_t output_handle_index;
	uint8_t logon_flags;
	uint32_t open_flags;
	uint32_t store_state;
	char *essdn;			/* owned; 8-bit; NULL: EssdnSize 0 */
};

struct rop_logon_time {
	uint8_t sec, min, hour, dow, day, month;
	uint16_t year;
};

/*
 * Which form a response has follows head.rv and logon_flags: rv 0 and
 * ROP_LOGON_PRIVATE, the private mailbox's (response_flags through
 * store_state); rv 0 otherwise, the public folders' (repl_id, repl_guid,
 * per_user_guid); rv ROP_E_WRONG_SERVER, the redirect (logon_flags,
 * server_name); any other rv, the head alone.
 */
struct rop_logon_resp {
	struct rop_resp_head head;
	uint8_t logon_flags;
	uint64_t folder_ids[ROP_LOGON_N_FOLDERS];
	uint8_t response_flags;
	uint8_t mailbox_guid[16];
	uint16_t repl_id;
	uint8_t repl_guid[16];
	struct rop_logon_time logon_time;
	uint64_t gwart_time;
	uint32_t store_state;
	uint8_t per_user_guid[16];
	char *server_name;		/* owned; 8-bit; the redirect's */
};

void rop_logon_req_write(GByteArray *b, const struct rop_logon_req *q);
int rop_logon_req_read(struct mapi_rd *r, struct rop_logon_req *q);
void rop_logon_req_clear(struct rop_logon_req *q);
void rop_logon_resp_write(GByteArray *b, const struct rop_logon_resp *s);
int rop_logon_resp_read(struct mapi_rd *r, struct rop_logon_resp *s);
void rop_logon_resp_clear(struct rop_logon_resp *s);

/* ---- Folders: rop-folder.c (MS-OXCROPS 2.2.4) */

/* What RopOpenFolder, and RopCreateFolder on an existing folder, say of
 * it: rules, and for a ghosted public folder the servers holding it. */
struct rop_folder_info {
	uint8_t has_rules;
	uint8_t is_ghosted;
	uint16_t cheap_server_count;
	uint16_t n_servers;
	char **servers;			/* owned; each owned, 8-bit */
};

struct rop_open_folder_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint64_t folder_id;
	uint8_t open_mode_flags;
};
struct rop_open_folder_resp {
	struct rop_resp_head head;
	struct rop_folder_info info;
};
void rop_open_folder_req_write(GByteArray *b,
			       const struct rop_open_folder_req *q);
int rop_open_folder_req_read(struct mapi_rd *r, struct rop_open_folder_req *q);
void rop_open_folder_resp_write(GByteArray *b,
				const struct rop_open_folder_resp *s);
int rop_open_folder_resp_read(struct mapi_rd *r,
			      struct rop_open_folder_resp *s);
void rop_open_folder_resp_clear(struct rop_open_folder_resp *s);

struct rop_create_folder_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint8_t folder_type;		/* 1 generic, 2 search */
	uint8_t use_unicode;		/* the names as UTF-16 on the wire */
	uint8_t open_existing;
	uint8_t reserved;
	char *display_name;		/* owned; UTF-8, or 8-bit */
	char *comment;			/* owned; as display_name */
};
struct rop_create_folder_resp {
	struct rop_resp_head head;
	uint64_t folder_id;
	uint8_t is_existing;
	struct rop_folder_info info;	/* when is_existing */
};
void rop_create_folder_req_write(GByteArray *b,
				 const struct rop_create_folder_req *q);
int rop_create_folder_req_read(struct mapi_rd *r,
			       struct rop_create_folder_req *q);
void rop_create_folder_req_clear(struct rop_create_folder_req *q);
void rop_create_folder_resp_write(GByteArray *b,
				  const struct rop_create_folder_resp *s);
int rop_create_folder_resp_read(struct mapi_rd *r,
				struct rop_create_folder_resp *s);
void rop_create_folder_resp_clear(struct rop_create_folder_resp *s);

struct rop_delete_folder_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t flags;			/* DEL_MESSAGES 0x01, DEL_FOLDERS
					   0x04, DELETE_HARD_DELETE 0x10 */
	uint64_t folder_id;
};
/* Also the response of RopEmptyFolder and RopMoveFolder. */
struct rop_partial_resp {
	struct rop_resp_head head;
	uint8_t partial_completion;
	uint32_t dest_handle_index;	/* RopMoveFolder with rv 0x503 */
};
void rop_delete_folder_req_write(GByteArray *b,
				 const struct rop_delete_folder_req *q);
int rop_delete_folder_req_read(struct mapi_rd *r,
			       struct rop_delete_folder_req *q);
void rop_delete_folder_resp_write(GByteArray *b,
				  const struct rop_partial_resp *s);
int rop_delete_folder_resp_read(struct mapi_rd *r, struct rop_partial_resp *s);

#define ROP_E_DST_NULL_OBJECT 0x00000503U

struct rop_move_folder_req {
	uint8_t logon_id;
	uint8_t source_handle_index;
	uint8_t dest_handle_index;
	uint8_t want_async;
	uint8_t use_unicode;
	uint64_t folder_id;
	char *new_name;			/* owned; UTF-8, or 8-bit */
};
void rop_move_folder_req_write(GByteArray *b,
			       const struct rop_move_folder_req *q);
int rop_move_folder_req_read(struct mapi_rd *r, struct rop_move_folder_req *q);
void rop_move_folder_req_clear(struct rop_move_folder_req *q);
void rop_move_folder_resp_write(GByteArray *b,
				const struct rop_partial_resp *s);
int rop_move_folder_resp_read(struct mapi_rd *r, struct rop_partial_resp *s);

struct rop_empty_folder_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t want_async;
	uint8_t want_delete_associated;
};
void rop_empty_folder_req_write(GByteArray *b,
				const struct rop_empty_folder_req *q);
int rop_empty_folder_req_read(struct mapi_rd *r,
			      struct rop_empty_folder_req *q);
void rop_empty_folder_resp_write(GByteArray *b,
				 const struct rop_partial_resp *s);
int rop_empty_folder_resp_read(struct mapi_rd *r, struct rop_partial_resp *s);

/* RopGetHierarchyTable and RopGetContentsTable share their shapes. */
#define ROP_TABLE_ASSOCIATED 0x02
#define ROP_TABLE_DEPTH 0x04
#define ROP_TABLE_USE_UNICODE 0x40
struct rop_get_table_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t output_handle_index;
	uint8_t table_flags;
};
struct rop_get_table_resp {
	struct rop_resp_head head;
	uint32_t row_count;
};
void rop_get_hierarchy_table_req_write(GByteArray *b,
				       const struct rop_get_table_req *q);
int rop_get_hierarchy_table_req_read(struct mapi_rd *r,
				     struct rop_get_table_req *q);
void rop_get_hierarchy_table_resp_write(GByteArray *b,
					const struct rop_get_table_resp *s);
int rop_get_hierarchy_table_resp_read(struct mapi_rd *r,
				      struct rop_get_table_resp *s);
void rop_get_contents_table_req_write(GByteArray *b,
				      const struct rop_get_table_req *q);
int rop_get_contents_table_req_read(struct mapi_rd *r,
				    struct rop_get_table_req *q);
void rop_get_contents_table_resp_write(GByteArray *b,
				       const struct rop_get_table_resp *s);
int rop_get_contents_table_resp_read(struct mapi_rd *r,
				     struct rop_get_table_resp *s);

/* ---- Tables: rop-table.c (MS-OXCROPS 2.2.5) */

/* The response of RopSetColumns, RopSortTable and RopRestrict. */
struct rop_table_status_resp {
	struct rop_resp_head head;
	uint8_t table_status;
};

struct rop_set_columns_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t flags;			/* 0 wait, 1 async */
	size_t n_cols;
	uint32_t *cols;			/* owned */
};
void rop_set_columns_req_write(GByteArray *b,
			       const struct rop_set_columns_req *q);
int rop_set_columns_req_read(struct mapi_rd *r, struct rop_set_columns_req *q);
void rop_set_columns_req_clear(struct rop_set_columns_req *q);
void rop_set_columns_resp_write(GByteArray *b,
				const struct rop_table_status_resp *s);
int rop_set_columns_resp_read(struct mapi_rd *r,
			      struct rop_table_status_resp *s);

struct rop_sort_order {
	uint32_t tag;			/* PropertyType, PropertyId */
	uint8_t order;			/* 0 ascending, 1 descending, ... */
};
struct rop_sort_table_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t flags;
	uint16_t categorized_count;
	uint16_t expanded_count;
	size_t n_sorts;
	struct rop_sort_order *sorts;	/* owned */
};
void rop_sort_table_req_write(GByteArray *b,
			      const struct rop_sort_table_req *q);
int rop_sort_table_req_read(struct mapi_rd *r, struct rop_sort_table_req *q);
void rop_sort_table_req_clear(struct rop_sort_table_req *q);
void rop_sort_table_resp_write(GByteArray *b,
			       const struct rop_table_status_resp *s);
int rop_sort_table_resp_read(struct mapi_rd *r,
			     struct rop_table_status_resp *s);

/* The restriction travels as the bytes of MS-OXCDATA 2.12 (no
 * restriction when the size is 0). */
struct rop_restrict_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t flags;
	uint16_t restriction_len;
	uint8_t *restriction;		/* owned */
};
void rop_restrict_req_write(GByteArray *b, const struct rop_restrict_req *q);
int rop_restrict_req_read(struct mapi_rd *r, struct rop_restrict_req *q);
void rop_restrict_req_clear(struct rop_restrict_req *q);
void rop_restrict_resp_write(GByteArray *b,
			     const struct rop_table_status_resp *s);
int rop_restrict_resp_read(struct mapi_rd *r, struct rop_table_status_resp *s);

struct rop_query_rows_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t flags;			/* 0x01 NoAdvance, 0x02 EnablePacked */
	uint8_t forward_read;
	uint16_t row_count;
};
struct rop_query_rows_resp {
	struct rop_resp_head head;
	uint8_t origin;			/* 0 beginning, 1 current, 2 end */
	uint16_t row_count;
	struct mapi_row *rows;		/* owned; row_count */
};
void rop_query_rows_req_write(GByteArray *b,
			      const struct rop_query_rows_req *q);
int rop_query_rows_req_read(struct mapi_rd *r, struct rop_query_rows_req *q);
/* The rows against the table's columns (its last RopSetColumns); the
 * writer returns 0 or the first error of mapi_row_write. */
int rop_query_rows_resp_write(GByteArray *b,
			      const struct rop_query_rows_resp *s,
			      const uint32_t *cols, size_t n_cols);
int rop_query_rows_resp_read(struct mapi_rd *r, struct rop_query_rows_resp *s,
			     const uint32_t *cols, size_t n_cols);
void rop_query_rows_resp_clear(struct rop_query_rows_resp *s);

struct rop_query_position_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
};
struct rop_query_position_resp {
	struct rop_resp_head head;
	uint32_t numerator;
	uint32_t denominator;
};
void rop_query_position_req_write(GByteArray *b,
				  const struct rop_query_position_req *q);
int rop_query_position_req_read(struct mapi_rd *r,
				struct rop_query_position_req *q);
void rop_query_position_resp_write(GByteArray *b,
				   const struct rop_query_position_resp *s);
int rop_query_position_resp_read(struct mapi_rd *r,
				 struct rop_query_position_resp *s);

struct rop_seek_row_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t origin;
	int32_t row_count;
	uint8_t want_moved_count;
};
struct rop_seek_row_resp {
	struct rop_resp_head head;
	uint8_t has_sought_less;
	int32_t rows_sought;
};
void rop_seek_row_req_write(GByteArray *b, const struct rop_seek_row_req *q);
int rop_seek_row_req_read(struct mapi_rd *r, struct rop_seek_row_req *q);
void rop_seek_row_resp_write(GByteArray *b,
			     const struct rop_seek_row_resp *s);
int rop_seek_row_resp_read(struct mapi_rd *r, struct rop_seek_row_resp *s);

struct rop_find_row_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t flags;			/* 0 forward, 1 backward */
	uint16_t restriction_len;
	uint8_t *restriction;		/* owned */
	uint8_t origin;
	uint16_t bookmark_len;
	uint8_t *bookmark;		/* owned */
};
struct rop_find_row_resp {
	struct rop_resp_head head;
	uint8_t row_no_longer_visible;
	uint8_t has_row_data;
	struct mapi_row row;		/* when has_row_data */
};
void rop_find_row_req_write(GByteArray *b, const struct rop_find_row_req *q);
int rop_find_row_req_read(struct mapi_rd *r, struct rop_find_row_req *q);
void rop_find_row_req_clear(struct rop_find_row_req *q);
int rop_find_row_resp_write(GByteArray *b, const struct rop_find_row_resp *s,
			    const uint32_t *cols, size_t n_cols);
int rop_find_row_resp_read(struct mapi_rd *r, struct rop_find_row_resp *s,
			   const uint32_t *cols, size_t n_cols);
void rop_find_row_resp_clear(struct rop_find_row_resp *s);

/* ---- Properties: rop-prop.c (MS-OXCROPS 2.2.8) */

struct rop_get_props_specific_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint16_t size_limit;
	uint16_t want_unicode;
	size_t n_tags;
	uint32_t *tags;			/* owned */
};
struct rop_get_props_specific_resp {
	struct rop_resp_head head;
	struct mapi_row row;		/* against the request's tags */
};
void rop_get_props_specific_req_write(
	GByteArray *b, const struct rop_get_props_specific_req *q);
int rop_get_props_specific_req_read(struct mapi_rd *r,
				    struct rop_get_props_specific_req *q);
void rop_get_props_specific_req_clear(struct rop_get_props_specific_req *q);
int rop_get_props_specific_resp_write(
	GByteArray *b, const struct rop_get_props_specific_resp *s,
	const uint32_t *tags, size_t n_tags);
int rop_get_props_specific_resp_read(struct mapi_rd *r,
				     struct rop_get_props_specific_resp *s,
				     const uint32_t *tags, size_t n_tags);
void rop_get_props_specific_resp_clear(struct rop_get_props_specific_resp *s);

struct rop_get_props_all_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint16_t size_limit;
	uint16_t want_unicode;
};
struct rop_get_props_all_resp {
	struct rop_resp_head head;
	struct mapi_props props;	/* in the order received */
};
void rop_get_props_all_req_write(GByteArray *b,
				 const struct rop_get_props_all_req *q);
int rop_get_props_all_req_read(struct mapi_rd *r,
			       struct rop_get_props_all_req *q);
int rop_get_props_all_resp_write(GByteArray *b,
				 const struct rop_get_props_all_resp *s);
int rop_get_props_all_resp_read(struct mapi_rd *r,
				struct rop_get_props_all_resp *s);
void rop_get_props_all_resp_clear(struct rop_get_props_all_resp *s);

/* PropertyName, MS-OXCDATA 2.6.1. */
#define ROP_NAME_LID 0x00
#define ROP_NAME_STRING 0x01
#define ROP_NAME_NONE 0xFF
struct rop_prop_name {
	uint8_t kind;
	uint8_t guid[16];
	uint32_t lid;			/* ROP_NAME_LID */
	char *name;			/* owned; UTF-8; ROP_NAME_STRING */
};

#define ROP_W_ERRORS_RETURNED 0x00040380U	/* ecWarnWithErrors */
struct rop_get_prop_ids_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	uint8_t flags;			/* 0x02 create */
	size_t n_names;
	struct rop_prop_name *names;	/* owned */
};
/* The ids follow a ReturnValue of 0 and of ROP_W_ERRORS_RETURNED (an id
 * of 0 for a name that has none). */
struct rop_get_prop_ids_resp {
	struct rop_resp_head head;
	size_t n_ids;
	uint16_t *ids;			/* owned */
};
void rop_get_prop_ids_req_write(GByteArray *b,
				const struct rop_get_prop_ids_req *q);
int rop_get_prop_ids_req_read(struct mapi_rd *r,
			      struct rop_get_prop_ids_req *q);
void rop_get_prop_ids_req_clear(struct rop_get_prop_ids_req *q);
void rop_get_prop_ids_resp_write(GByteArray *b,
				 const struct rop_get_prop_ids_resp *s);
int rop_get_prop_ids_resp_read(struct mapi_rd *r,
			       struct rop_get_prop_ids_resp *s);
void rop_get_prop_ids_resp_clear(struct rop_get_prop_ids_resp *s);

struct rop_set_props_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	struct mapi_props props;	/* in the order sent */
};
/* The response of RopSetProperties and RopDeleteProperties. */
struct rop_problems_resp {
	struct rop_resp_head head;
	size_t n_problems;
	struct mapi_problem *problems;	/* owned */
};
/* Returns 0 or the first error of mapi_tagged_pv_write. */
int rop_set_props_req_write(GByteArray *b, const struct rop_set_props_req *q);
int rop_set_props_req_read(struct mapi_rd *r, struct rop_set_props_req *q);
void rop_set_props_req_clear(struct rop_set_props_req *q);
void rop_set_props_resp_write(GByteArray *b,
			      const struct rop_problems_resp *s);
int rop_set_props_resp_read(struct mapi_rd *r, struct rop_problems_resp *s);
void rop_problems_resp_clear(struct rop_problems_resp *s);

struct rop_delete_props_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	size_t n_tags;
	uint32_t *tags;			/* owned */
};
void rop_delete_props_req_write(GByteArray *b,
				const struct rop_delete_props_req *q);
int rop_delete_props_req_read(struct mapi_rd *r,
			      struct rop_delete_props_req *q);
void rop_delete_props_req_clear(struct rop_delete_props_req *q);
void rop_delete_props_resp_write(GByteArray *b,
				 const struct rop_problems_resp *s);
int rop_delete_props_resp_read(struct mapi_rd *r, struct rop_problems_resp *s);

#endif
