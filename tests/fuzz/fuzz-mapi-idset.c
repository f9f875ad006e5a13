/*
 * fuzz-mapi-idset.c - IDSET and GLOBSET decoding (protocols/wire/
 * mapi-idset.h) on arbitrary bytes.  The first byte picks REPLID- or
 * REPLGUID-based; a set that decodes must encode, in either style, to
 * bytes that decode to the same set, and hold every end of its ranges.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mapi-idset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct mapi_idset *a, const struct mapi_idset *b)
{
	GByteArray *x = g_byte_array_new(), *y = g_byte_array_new();

	mapi_idset_encode(a, MAPI_IDSET_PLAIN, x);
	mapi_idset_encode(b, MAPI_IDSET_PLAIN, y);
	if (x->len != y->len || (x->len && memcmp(x->data, y->data, x->len)))
		__builtin_trap();
	g_byte_array_unref(x);
	g_byte_array_unref(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mapi_idset s, back, u;
	GByteArray *b = g_byte_array_new();
	bool by_guid;

	if (size < 1)
		return 0;
	by_guid = data[0] & 1;
	mapi_idset_init(&s, by_guid);
	mapi_idset_init(&back, by_guid);
	mapi_idset_init(&u, by_guid);
	if (mapi_idset_decode(&s, data + 1, size - 1, by_guid) == 0) {
		for (int style = 0; style < 2; style++) {
			g_byte_array_set_size(b, 0);
			mapi_idset_encode(&s, style, b);
			if (mapi_idset_decode(&back, b->data, b->len, by_guid))
				__builtin_trap();
			same(&s, &back);
		}
		for (size_t i = 0; i < s.n; i++) {
			const struct mapi_idset_repl *r = &s.repl[i];

			for (size_t j = 0; j < r->n; j++) {
				uint64_t lo = mapi_idset_id_make(r->replid,
								 r->r[j].lo);
				uint64_t hi = mapi_idset_id_make(r->replid,
								 r->r[j].hi);

				if (!mapi_idset_contains(&s, lo, r->guid) ||
				    !mapi_idset_contains(&s, hi, r->guid))
					__builtin_trap();
			}
		}
		if (mapi_idset_union(&u, &s) || mapi_idset_union(&u, &back))
			__builtin_trap();
		same(&u, &s);
	}
	mapi_idset_clear(&s);
	mapi_idset_clear(&back);
	mapi_idset_clear(&u);
	g_byte_array_unref(b);
	return 0;
}
