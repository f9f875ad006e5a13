/*
 * fuzz-mapi-fx.c - the FastTransfer stream reader (protocols/wire/
 * mapi-fx.h) on arbitrary bytes, fed whole and in pieces of sizes the
 * input picks: both must give the same elements and the same outcome, and
 * what the writer makes of the elements must read back to itself.  The
 * contents-sync builder then takes the same stream.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mapi-fx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct mapi_fx_limits lim = {
	.max_value = 1 << 20,
	.max_depth = 4,
};

static int rewrite(void *ctx, struct mapi_fx_event *ev)
{
	if (mapi_fx_write_event(ctx, ev))
		__builtin_trap();
	return 0;
}

/* Read `p` in pieces (sizes from `seed`, or whole when 0), writing every
 * element to `out`.  Returns the outcome: feed's or finish's. */
static int run(const uint8_t *p, size_t n, uint32_t seed, GByteArray *out,
	       mapi_fx_cb cb, void *ctx)
{
	struct mapi_fx_reader *r = mapi_fx_reader_new(&lim, cb ? cb : rewrite,
						      cb ? ctx : out);
	size_t at = 0, piece;
	int rc = 0;

	while (at < n && !rc) {
		piece = n - at;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			piece = 1 + (seed >> 16) % 97;
			if (piece > n - at)
				piece = n - at;
		}
		rc = mapi_fx_reader_feed(r, p + at, piece);
		at += piece;
	}
	if (!rc)
		rc = mapi_fx_reader_finish(r);
	mapi_fx_reader_free(&r);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GByteArray *whole = g_byte_array_new(), *pieces = g_byte_array_new();
	GByteArray *again = g_byte_array_new();
	struct mapi_fx_sync *s = mapi_fx_sync_new();
	uint32_t seed = size ? data[0] | 1u : 1;
	int a, b;

	a = run(data, size, 0, whole, NULL, NULL);
	b = run(data, size, seed, pieces, NULL, NULL);
	if (a != b || whole->len != pieces->len ||
	    (whole->len && memcmp(whole->data, pieces->data, whole->len)))
		__builtin_trap();
	if (a == 0) {
		/* the writer's form is the reader's fixed point */
		if (run(whole->data, whole->len, 0, again, NULL, NULL) ||
		    again->len != whole->len ||
		    (whole->len && memcmp(again->data, whole->data,
					  whole->len)))
			__builtin_trap();
	}
	(void)run(data, size, seed, NULL, mapi_fx_sync_event, s);
	(void)mapi_fx_sync_finish(s);
	for (size_t i = 0; i < mapi_fx_sync_n_changes(s); i++) {
		struct mapi_fx_change *c = mapi_fx_sync_change(s, i);
		struct mapi_fx_names names = mapi_fx_sync_names(s);

		g_byte_array_set_size(again, 0);
		if (c->msg)
			(void)mapi_fx_write_change(again, &c->header, c->msg,
						   &names);
	}
	for (struct mapi_fx_change *c; (c = mapi_fx_sync_take_done(s));)
		mapi_fx_change_free(&c);
	mapi_fx_sync_free(&s);
	g_byte_array_unref(whole);
	g_byte_array_unref(pieces);
	g_byte_array_unref(again);
	return 0;
}
