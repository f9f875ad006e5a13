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

#endif
