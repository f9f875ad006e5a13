/*
 * rop-private.h - what the ROP family files share and nobody else needs.
 */
#ifndef MFS_ROP_PRIVATE_H
#define MFS_ROP_PRIVATE_H

#include "rop.h"

/* The response head with the RopId of the ROP being written, whatever
 * h->rop_id holds (a caller fills only handle index and ReturnValue). */
static inline void rop_head_write(GByteArray *b, uint8_t id,
				  const struct rop_resp_head *h)
{
	struct rop_resp_head x = *h;

	x.rop_id = id;
	rop_resp_head_write(b, &x);
}

/* PropertyName, MS-OXCDATA 2.6.1, as rop-prop.c reads and writes it (Kind
 * and GUID always; rop-names.c handles the bare Kind 0xFF of a
 * response).  A reader's failure is left in r. */
void rop_prop_name_write(GByteArray *b, const struct rop_prop_name *nm);
void rop_prop_name_read(struct mapi_rd *r, struct rop_prop_name *nm);

#endif
