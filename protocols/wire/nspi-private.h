/*
 * nspi-private.h - what the files of the NSPI codec share and nobody else
 * needs: the pieces every body is built of (the optional blocks, the
 * response head, the auxiliary buffer, the end of a body).
 */
#ifndef MFS_NSPI_PRIVATE_H
#define MFS_NSPI_PRIVATE_H

#include "nspi.h"

/* AuxiliaryBufferSize and the buffer (copied: *aux owns it). */
void nspi_aux_read(struct mapi_rd *r, struct mapi_bin *aux);
void nspi_aux_write(GByteArray *b, const struct mapi_bin *aux);

/*
 * StatusCode and, when it is 0, ErrorCode.  Returns 1 when the body is a
 * failure body (StatusCode not 0: the aux buffer is read too and nothing
 * else follows), 0 when the call's fields follow, or -errno.
 */
int nspi_head_read(struct mapi_rd *r, struct nspi_resp_head *h,
		   struct mapi_bin *aux);
/* Returns true when the body is complete (a failure body). */
bool nspi_head_write(GByteArray *b, const struct nspi_resp_head *h,
		     const struct mapi_bin *aux);

/* The outcome of reading a whole body: the reader's error, or -EPROTO
 * when bytes are left over. */
int nspi_body_end(struct mapi_rd *r);

/* Optional blocks: the presence byte, then the block when it is not 0.
 * The byte goes to *has; readers leave their error in r. */
void nspi_opt_stat_read(struct mapi_rd *r, uint8_t *has,
			struct nspi_stat *s);
void nspi_opt_stat_write(GByteArray *b, uint8_t has,
			 const struct nspi_stat *s);
void nspi_opt_tags_read(struct mapi_rd *r, uint8_t *has,
			struct nspi_tags *t);
void nspi_opt_tags_write(GByteArray *b, uint8_t has,
			 const struct nspi_tags *t);
void nspi_opt_mids_read(struct mapi_rd *r, uint8_t *has,
			struct nspi_mids *m);
void nspi_opt_mids_write(GByteArray *b, uint8_t has,
			 const struct nspi_mids *m);
void nspi_opt_rowset_read(struct mapi_rd *r, uint8_t *has,
			  struct nspi_rowset *rs);
void nspi_opt_rowset_write(GByteArray *b, uint8_t has,
			   const struct nspi_rowset *rs);
void nspi_opt_vals_read(struct mapi_rd *r, uint8_t *has,
			struct nspi_vals *l);
void nspi_opt_vals_write(GByteArray *b, uint8_t has,
			 const struct nspi_vals *l);

/* A UTF-16LE NUL-terminated string as UTF-8 (caller owns it), and back. */
char *nspi_wstr_read(struct mapi_rd *r);
void nspi_wstr_write(GByteArray *b, const char *s);

#endif
