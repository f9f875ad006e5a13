/*
 * rop-names.h - the named-property ROPs, MS-OXCROPS 2.2.8.1
 * (RopGetPropertyIdsFromNames) and 2.2.8.2 (RopGetNamesFromPropertyIds),
 * with PropertyName of MS-OXCDATA 2.6.1 and the rules of MS-OXCPRPT
 * 2.2.12-13 and 3.2.5.9-10.  No I/O.
 *
 * RopGetPropertyIdsFromNames' request and response are those of rop.h
 * (struct rop_get_prop_ids_req, _resp, in rop-prop.c, which had them
 * first); this header adds RopGetNamesFromPropertyIds, whose response
 * holds a PropertyName per id: Kind 0x00 (a LID) or 0x01 (a string) with
 * its GUID, or the bare Kind 0xFF of an id that has no name.
 *
 * Readers and writers follow rop.h's conventions: readers read the
 * whole ROP with its RopId and return 0, -EBADMSG, -EPROTO or -EILSEQ,
 * leaving nothing to free on failure; every count is checked against
 * the bytes left before anything is allocated.  Structs own what their
 * pointers hold (rop_*_clear).
 */
#ifndef MFS_ROP_NAMES_H
#define MFS_ROP_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "rop.h"

/* RopGetPropertyIdsFromNames' Flags: make an id for a name without one. */
#define ROP_NAMES_CREATE 0x02

struct rop_get_names_req {
	uint8_t logon_id;
	uint8_t input_handle_index;
	size_t n_ids;
	uint16_t *ids;			/* owned */
};
/* The names follow a ReturnValue of 0 only; one per id asked, in order
 * (kind ROP_NAME_NONE for an id without a name). */
struct rop_get_names_resp {
	struct rop_resp_head head;
	size_t n_names;
	struct rop_prop_name *names;	/* owned */
};

void rop_get_names_req_write(GByteArray *b, const struct rop_get_names_req *q);
int rop_get_names_req_read(struct mapi_rd *r, struct rop_get_names_req *q);
void rop_get_names_req_clear(struct rop_get_names_req *q);
/* Names past 0xFFFF are not written (the count is a u16). */
void rop_get_names_resp_write(GByteArray *b,
			      const struct rop_get_names_resp *s);
int rop_get_names_resp_read(struct mapi_rd *r, struct rop_get_names_resp *s);
void rop_get_names_resp_clear(struct rop_get_names_resp *s);

#endif
