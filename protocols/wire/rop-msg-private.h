/*
 * rop-msg-private.h - what the files of rop-msg.h share and nothing else
 * needs: the first bytes of a request or response, and lists of message
 * ids (MS-OXCROPS 2.2.4.6, 2.2.6.9 and friends: Count u16, then 64-bit
 * ids).
 */
#ifndef MFS_ROP_MSG_PRIVATE_H
#define MFS_ROP_MSG_PRIVATE_H

#include "rop-msg.h"

/* Reads the RopId and sets -EPROTO in `r` when it is not `id`; returns
 * the reader's error. */
int rmsg_id(struct mapi_rd *r, uint8_t id);

/*
 * Reads a response head of RopId `id` into *h.  Returns the error, or 1
 * when the ReturnValue is not 0 (the response ends there: the caller
 * returns 0), or 0 when the success fields follow.
 */
int rmsg_head(struct mapi_rd *r, uint8_t id, struct rop_resp_head *h);

/* RopId, HandleIndex and ReturnValue. */
void rmsg_head_write(GByteArray *b, uint8_t id, const struct rop_resp_head *h);

/* A response that is its head alone. */
int rmsg_head_only_read(struct mapi_rd *r, uint8_t id,
			struct rop_resp_head *h);

/* MessageIdCount u16, MessageIds; *mids_r is owned by the caller. */
int rmsg_mids_read(struct mapi_rd *r, uint64_t **mids_r, size_t *n_r);
/* At most 0xFFFF ids are written. */
void rmsg_mids_write(GByteArray *b, const uint64_t *mids, size_t n);

/* Recipients counted by a byte (RopOpenMessage: OpenRecipientRow;
 * RopReadRecipients, read_rows: ReadRecipientRow) or by a u16
 * (RopModifyRecipients: ModifyRecipientRow).  *rows_r is owned by the
 * caller (rmsg_recips_free).  Writers return 0 or -EINVAL (a row that
 * could not be written whole). */
int rmsg_recips8_read(struct mapi_rd *r, bool read_rows, const uint32_t *cols,
		      size_t n_cols, struct rop_recip **rows_r, size_t *n_r);
int rmsg_recips8_write(GByteArray *b, bool read_rows,
		       const struct rop_recip *rows, size_t n,
		       const uint32_t *cols, size_t n_cols);
int rmsg_recips16_read(struct mapi_rd *r, const uint32_t *cols, size_t n_cols,
		       struct rop_recip **rows_r, size_t *n_r);
int rmsg_recips16_write(GByteArray *b, const struct rop_recip *rows, size_t n,
			const uint32_t *cols, size_t n_cols);
void rmsg_recips_free(struct rop_recip *rows, size_t n);

/* The part RopOpenMessage and RopOpenEmbeddedMessage share, from
 * HasNamedProperties to the rows; the reader clears *m on failure. */
int rmsg_msg_info_read(struct mapi_rd *r, struct rop_msg_info *m);
int rmsg_msg_info_write(GByteArray *b, const struct rop_msg_info *m);

#endif
