/*
 * fuzz-rop-names.c - the named-property ROPs (wire/rop-names.h and
 * RopGetPropertyIdsFromNames of wire/rop.h) on arbitrary bytes: the
 * first byte says whether the rest is read as requests (even) or
 * responses (odd), a ROP after another.  What is read is written, read
 * back and written again, and the two writings must agree.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/rop-names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROUND(type, rd, wr, clr)					\
	do {								\
		struct type q, t;					\
		struct mapi_rd rr;					\
		if (rd(r, &q))						\
			return false;					\
		wr(w1, &q);						\
		clr(&q);						\
		mapi_rd_init(&rr, w1->data, w1->len);			\
		if (rd(&rr, &t) || mapi_rd_left(&rr))			\
			__builtin_trap();				\
		wr(w2, &t);						\
		clr(&t);						\
		if (w1->len != w2->len ||				\
		    memcmp(w1->data, w2->data, w1->len) != 0)		\
			__builtin_trap();				\
	} while (0)

/* One ROP; false when it cannot be read (the walk ends there). */
static bool one(struct mapi_rd *r, bool resp, GByteArray *w1, GByteArray *w2)
{
	g_byte_array_set_size(w1, 0);
	g_byte_array_set_size(w2, 0);
	switch (rop_peek_id(r)) {
	case ROP_GET_NAMES_FROM_PROPERTY_IDS:
		if (resp)
			ROUND(rop_get_names_resp, rop_get_names_resp_read,
			      rop_get_names_resp_write,
			      rop_get_names_resp_clear);
		else
			ROUND(rop_get_names_req, rop_get_names_req_read,
			      rop_get_names_req_write, rop_get_names_req_clear);
		return true;
	case ROP_GET_PROPERTY_IDS_FROM_NAMES:
		if (resp)
			ROUND(rop_get_prop_ids_resp, rop_get_prop_ids_resp_read,
			      rop_get_prop_ids_resp_write,
			      rop_get_prop_ids_resp_clear);
		else
			ROUND(rop_get_prop_ids_req, rop_get_prop_ids_req_read,
			      rop_get_prop_ids_req_write,
			      rop_get_prop_ids_req_clear);
		return true;
	default:
		return false;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mapi_rd r;
	GByteArray *w1, *w2;

	if (size < 1)
		return 0;
	w1 = g_byte_array_new();
	w2 = g_byte_array_new();
	mapi_rd_init(&r, data + 1, size - 1);
	while (mapi_rd_left(&r) && one(&r, data[0] & 1, w1, w2))
		;
	g_byte_array_unref(w1);
	g_byte_array_unref(w2);
	return 0;
}
