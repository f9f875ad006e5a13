/*
 * test-mapi-idset.c - wire/mapi-idset.h: the ICS state of the recorded
 * download (08-ics.json) decoded, checked against the download's own
 * messages and encoded back byte for byte; every GLOBSET command; the
 * IDSET of MS-OXCFXICS 4.4; what a sync does with sets; hostile input.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-buf.h"
#include "wire/mapi-fx.h"
#include "wire/mapi-idset.h"
#include "wire/mapi-tags.h"
#include "mapi-trace.h"

/* The recorded download read into a builder (TransferBuffer of each
 * GetBuffer response: the fixed layout of MS-OXCROPS 2.2.13.8.2 after the
 * Execute head; test-mapi-fx.c checks every field of it). */
static struct mapi_fx_sync *recorded_sync(void)
{
	struct mapi_trace *t = mapi_trace_load("08-ics");
	struct mapi_fx_sync *s = mapi_fx_sync_new();
	struct mapi_fx_reader *r = mapi_fx_reader_new(NULL,
						      mapi_fx_sync_event, s);
	size_t i;

	for (i = 4; i < 36; i++) {
		const struct mapi_trace_exchange *x = mapi_trace_at(t, i);
		struct mapi_rd rd;
		uint16_t n;

		mapi_rd_init(&rd, x->resp + x->resp_bin_off,
			     x->resp_len - x->resp_bin_off);
		/* Execute head 16, RPC_HEADER_EXT 8, RopSize 2, the ROP's
		 * fixed fields 13, then TransferBufferSize */
		mapi_rd_skip(&rd, 16 + 8 + 2 + 13);
		n = mapi_rd_u16(&rd);
		g_assert_cmpint(mapi_fx_reader_feed(r, mapi_rd_bytes(&rd, n),
						    n), ==, 0);
		g_assert_cmpint(mapi_rd_error(&rd), ==, 0);
	}
	g_assert_cmpint(mapi_fx_reader_finish(r), ==, 0);
	g_assert_cmpint(mapi_fx_sync_finish(s), ==, 0);
	mapi_fx_reader_free(&r);
	mapi_trace_free(t);
	return s;
}

static const struct mapi_bin *state_bin(const struct mapi_fx_sync *s,
					uint32_t tag)
{
	const struct mapi_value *v = mapi_props_get_tag(mapi_fx_sync_state(s),
							tag);

	g_assert_nonnull(v);
	return &v->v.bin;
}

/* Decode a REPLGUID-based set and encode it back in gromox's form. */
static void decode_exact(const struct mapi_bin *b, struct mapi_idset *set)
{
	GByteArray *out = g_byte_array_new();

	mapi_idset_init(set, true);
	g_assert_cmpint(mapi_idset_decode(set, b->data, b->len, true), ==, 0);
	mapi_idset_encode(set, MAPI_IDSET_PLAIN, out);
	g_assert_cmpmem(out->data, out->len, b->data, b->len);
	g_byte_array_unref(out);
}

/* The replica GUID of the mailbox, as the source keys carry it. */
static const uint8_t replguid[16] = {
	0x01, 0x00, 0x00, 0x00, 0xa5, 0x18, 0x7b, 0x6f,
	0xbc, 0xdc, 0xea, 0x1e, 0xd0, 0x3c, 0x56, 0x57,
};

static void test_recorded_state(void)
{
	struct mapi_fx_sync *s = recorded_sync();
	struct mapi_idset given, seen, fai, read;
	size_t i;

	decode_exact(state_bin(s, MAPI_FX_META_IDSET_GIVEN), &given);
	decode_exact(state_bin(s, MAPI_FX_META_CNSET_SEEN), &seen);
	decode_exact(state_bin(s, MAPI_FX_META_CNSET_SEEN_FAI), &fai);
	decode_exact(state_bin(s, MAPI_FX_META_CNSET_READ), &read);

	/* the twelve MIDs 0x30000..0x3000B; change numbers 1..0x2A seen,
	 * 1..0x30 for read state; no associated messages */
	g_assert_cmpuint(given.n, ==, 1);
	g_assert_cmpmem(given.repl[0].guid, 16, replguid, 16);
	g_assert_cmpuint(given.repl[0].n, ==, 1);
	g_assert_cmpuint(given.repl[0].r[0].lo, ==, 0x30000);
	g_assert_cmpuint(given.repl[0].r[0].hi, ==, 0x3000B);
	g_assert_cmpuint(mapi_idset_count(&given), ==, 12);
	g_assert_cmpuint(seen.repl[0].r[0].lo, ==, 1);
	g_assert_cmpuint(seen.repl[0].r[0].hi, ==, 0x2A);
	g_assert_cmpuint(read.repl[0].r[0].hi, ==, 0x30);
	g_assert_cmpuint(fai.n, ==, 0);

	/* every change of the download is in the state it ends with */
	g_assert_cmpuint(mapi_fx_sync_n_changes(s), ==, 12);
	for (i = 0; i < mapi_fx_sync_n_changes(s); i++) {
		struct mapi_fx_change *c = mapi_fx_sync_change(s, i);

		g_assert_true(mapi_idset_contains(&given, c->mid, replguid));
		g_assert_true(mapi_idset_contains_gid(&given,
			c->source_key.data, c->source_key.len));
		g_assert_true(mapi_idset_contains(&seen, c->cn, replguid));
		g_assert_true(mapi_idset_contains_gid(&seen,
			c->change_key.data, c->change_key.len));
		g_assert_false(mapi_idset_contains(&fai, c->cn, replguid));
	}
	g_assert_false(mapi_idset_contains(&given, 0x0C00030000000001,
					   replguid));
	g_assert_false(mapi_idset_contains(&given, 0x0B00030000000001, NULL));
	mapi_idset_clear(&given);
	mapi_idset_clear(&seen);
	mapi_idset_clear(&fai);
	mapi_idset_clear(&read);
	mapi_fx_sync_free(&s);
}

/* Every cut of the recorded sets is refused, but where one replica's
 * GLOBSET ends (here only at 0: each holds one replica). */
static void test_recorded_truncated(void)
{
	struct mapi_fx_sync *s = recorded_sync();
	const uint32_t tags[] = { MAPI_FX_META_IDSET_GIVEN,
				  MAPI_FX_META_CNSET_SEEN,
				  MAPI_FX_META_CNSET_READ };
	struct mapi_idset set;
	size_t i, len;

	mapi_idset_init(&set, true);
	for (i = 0; i < G_N_ELEMENTS(tags); i++) {
		const struct mapi_bin *b = state_bin(s, tags[i]);

		for (len = 1; len < b->len; len++) {
			g_assert_cmpint(mapi_idset_decode(&set, b->data, len,
							  true), ==, -EBADMSG);
			g_assert_cmpuint(set.n, ==, 0);
		}
		/* as a REPLID-based set the same bytes mean something else
		 * and do not hold together */
		g_assert_cmpint(mapi_idset_decode(&set, b->data, b->len,
						  false), ==, -EBADMSG);
	}
	mapi_idset_clear(&set);
	mapi_fx_sync_free(&s);
}

static void test_id_parts(void)
{
	/* the README's examples: Inbox is internal folder 13, the first
	 * message internal MID 0x30000 */
	g_assert_cmpuint(mapi_idset_id_replid(0x0D00000000000001), ==, 1);
	g_assert_cmpuint(mapi_idset_id_globcnt(0x0D00000000000001), ==, 0x0D);
	g_assert_cmpuint(mapi_idset_id_globcnt(0x0000030000000001), ==,
			 0x30000);
	g_assert_cmpuint(mapi_idset_id_make(1, 0x30000), ==,
			 0x0000030000000001);
	g_assert_cmpuint(mapi_idset_id_make(5, 0x123456789ABC), ==,
			 0xBC9A785634120005);
	g_assert_cmpuint(mapi_idset_id_globcnt(0xBC9A785634120005), ==,
			 0x123456789ABC);
}

/* Every command: Push, a sixth byte pushed, Pop, Bitmask, Range, End. */
static void test_commands(void)
{
	static const uint8_t in[] = {
		0x01, 0x00,				/* REPLID 1 */
		0x05, 0x00, 0x00, 0x00, 0x00, 0x00,	/* push 5 */
		0x42, 0x05, 0x81,	/* 5; bit 0: 6; bit 7: 13 */
		0x01, 0x20,		/* the sixth byte: 0x20 alone */
		0x52, 0x30, 0x33,	/* 0x30..0x33 */
		0x50,			/* pop the five */
		0x03, 0x00, 0x00, 0x01,			/* push 3 */
		0x52, 0x00, 0x00, 0x10, 0x00, 0x00, 0x20,
		0x50, 0x00,
		0x02, 0x00,				/* REPLID 2 */
		0x52, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00,
	};
	struct mapi_idset s;
	GByteArray *b = g_byte_array_new();
	const struct mapi_idset_repl *r;

	mapi_idset_init(&s, false);
	g_assert_cmpint(mapi_idset_decode(&s, in, sizeof(in), false), ==, 0);
	g_assert_cmpuint(s.n, ==, 2);
	r = &s.repl[0];
	g_assert_cmpuint(r->replid, ==, 1);
	g_assert_cmpuint(r->n, ==, 5);
	g_assert_cmpuint(r->r[0].lo, ==, 5);
	g_assert_cmpuint(r->r[0].hi, ==, 6);
	g_assert_cmpuint(r->r[1].lo, ==, 13);
	g_assert_cmpuint(r->r[1].hi, ==, 13);
	g_assert_cmpuint(r->r[2].lo, ==, 0x20);
	g_assert_cmpuint(r->r[2].hi, ==, 0x20);
	g_assert_cmpuint(r->r[3].lo, ==, 0x30);
	g_assert_cmpuint(r->r[3].hi, ==, 0x33);
	g_assert_cmpuint(r->r[4].lo, ==, 0x1000010);
	g_assert_cmpuint(r->r[4].hi, ==, 0x1000020);
	g_assert_cmpuint(s.repl[1].replid, ==, 2);
	g_assert_cmpuint(s.repl[1].r[0].lo, ==, 9);
	g_assert_true(mapi_idset_contains(&s, mapi_idset_id_make(1, 0x31),
					  NULL));
	g_assert_false(mapi_idset_contains(&s, mapi_idset_id_make(1, 7),
					   NULL));
	g_assert_false(mapi_idset_contains(&s, mapi_idset_id_make(3, 9),
					   NULL));

	/* COMPACT: each range's common bytes pushed, then popped */
	mapi_idset_encode(&s, MAPI_IDSET_COMPACT, b);
	{
		static const uint8_t want[] = {
			0x01, 0x00,
			0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x52, 0x05, 0x06,
			0x50,
			0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0D,
			0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20,
			0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x52, 0x30, 0x33,
			0x50,
			0x05, 0x00, 0x00, 0x01, 0x00, 0x00, 0x52, 0x10, 0x20,
			0x50,
			0x00,
			0x02, 0x00,
			0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
			0x00,
		};

		g_assert_cmpmem(b->data, b->len, want, sizeof(want));
	}
	g_byte_array_unref(b);
	mapi_idset_clear(&s);
}

/*
 * MS-OXCFXICS 4.4: the IDSET of the message ids 0001-000000000005,
 * 0001-000000000006, 0001-000000000010 and 0002-000000000009, REPLID-based.
 * Any encoding that decodes to the same ids is a right one; both of ours
 * must decode to exactly those four and nothing next to them.
 */
static void test_spec_example(void)
{
	static const uint64_t ids[] = {
		0x0500000000000001, 0x0600000000000001, 0x1000000000000001,
		0x0900000000000002,
	};
	struct mapi_idset s, back;
	GByteArray *b = g_byte_array_new();
	int style;
	size_t i;

	mapi_idset_init(&s, false);
	mapi_idset_init(&back, false);
	for (i = 0; i < G_N_ELEMENTS(ids); i++)
		g_assert_cmpint(mapi_idset_add_id(&s, ids[i], NULL), ==, 0);
	g_assert_cmpuint(s.n, ==, 2);
	g_assert_cmpuint(s.repl[0].n, ==, 2);	/* 5..6 and 0x10 */
	for (style = 0; style < 2; style++) {
		g_byte_array_set_size(b, 0);
		mapi_idset_encode(&s, style, b);
		g_assert_cmpint(mapi_idset_decode(&back, b->data, b->len,
						  false), ==, 0);
		g_assert_cmpuint(mapi_idset_count(&back), ==, 4);
		for (i = 0; i < G_N_ELEMENTS(ids); i++)
			g_assert_true(mapi_idset_contains(&back, ids[i], NULL));
		g_assert_false(mapi_idset_contains(&back, 0x0700000000000001,
						   NULL));
		g_assert_false(mapi_idset_contains(&back, 0x0900000000000001,
						   NULL));
	}
	mapi_idset_clear(&s);
	mapi_idset_clear(&back);
	g_byte_array_unref(b);
}

/* What a client does with its state between two downloads. */
static void test_operations(void)
{
	struct mapi_idset a, b;
	static const uint8_t other[16] = { 0xFF };
	uint8_t gid[22];

	mapi_idset_init(&a, true);
	mapi_idset_init(&b, true);
	g_assert_cmpint(mapi_idset_add_range(&a, 0, replguid, 10, 20), ==, 0);
	g_assert_cmpint(mapi_idset_add_range(&a, 0, replguid, 30, 40), ==, 0);
	g_assert_cmpint(mapi_idset_add_range(&a, 0, replguid, 22, 25), ==, 0);
	g_assert_cmpuint(a.repl[0].n, ==, 3);
	/* touching and overlapping ranges join */
	g_assert_cmpint(mapi_idset_add_range(&a, 0, replguid, 21, 21), ==, 0);
	g_assert_cmpuint(a.repl[0].n, ==, 2);
	g_assert_cmpint(mapi_idset_add_range(&a, 0, replguid, 5, 35), ==, 0);
	g_assert_cmpuint(a.repl[0].n, ==, 1);
	g_assert_cmpuint(a.repl[0].r[0].lo, ==, 5);
	g_assert_cmpuint(a.repl[0].r[0].hi, ==, 40);
	g_assert_cmpuint(mapi_idset_count(&a), ==, 36);
	/* refused: backwards, past 48 bits, no GUID for a GUID-based set */
	g_assert_cmpint(mapi_idset_add_range(&a, 0, replguid, 3, 2), ==,
			-EINVAL);
	g_assert_cmpint(mapi_idset_add_range(&a, 0, replguid, 0,
					     MAPI_IDSET_GLOBCNT_MAX + 1), ==, -EINVAL);
	g_assert_cmpint(mapi_idset_add_id(&a, 7, NULL), ==, -EINVAL);

	/* a GID: the replica's GUID and the counter */
	memcpy(gid, other, 16);
	memcpy(gid + 16, "\x00\x00\x00\x00\x01\x00", 6);
	g_assert_cmpint(mapi_idset_add_gid(&b, gid, sizeof(gid)), ==, 0);
	g_assert_cmpint(mapi_idset_add_gid(&b, gid, 21), ==, -EINVAL);
	g_assert_cmpint(mapi_idset_add_id(&b, mapi_idset_id_make(1, 100),
					  replguid), ==, 0);
	g_assert_cmpint(mapi_idset_union(&a, &b), ==, 0);
	g_assert_cmpuint(a.n, ==, 2);
	/* replicas in the order of their GUIDs */
	g_assert_cmpmem(a.repl[0].guid, 16, replguid, 16);
	g_assert_cmpmem(a.repl[1].guid, 16, other, 16);
	g_assert_true(mapi_idset_contains_gid(&a, gid, sizeof(gid)));
	g_assert_true(mapi_idset_contains(&a, mapi_idset_id_make(1, 100),
					  replguid));
	g_assert_false(mapi_idset_contains(&a, mapi_idset_id_make(1, 100),
					   other));
	g_assert_cmpuint(mapi_idset_count(&a), ==, 38);
	mapi_idset_clear(&b);
	mapi_idset_init(&b, false);
	g_assert_cmpint(mapi_idset_union(&a, &b), ==, -EINVAL);
	g_assert_false(mapi_idset_contains_gid(&b, gid, sizeof(gid)));
	mapi_idset_clear(&a);
	mapi_idset_clear(&b);
}

static int decode(const uint8_t *p, size_t n)
{
	struct mapi_idset s;
	int rc;

	mapi_idset_init(&s, false);
	rc = mapi_idset_decode(&s, p, n, false);
	g_assert_true(rc == 0 || s.n == 0);
	mapi_idset_clear(&s);
	return rc;
}

#define DECODE(...) decode((const uint8_t[]){ __VA_ARGS__ }, \
	sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void test_hostile(void)
{
	uint8_t many[4096];
	size_t i;

	g_assert_cmpint(decode(NULL, 0), ==, 0);
	/* a Bitmask needs five bytes on the stack */
	g_assert_cmpint(DECODE(1, 0, 0x42, 0, 0, 0), ==, -EBADMSG);
	g_assert_cmpint(DECODE(1, 0, 4, 0, 0, 0, 0, 0x42, 0, 0, 0), ==,
			-EBADMSG);
	/* a Bitmask past the low byte */
	g_assert_cmpint(DECODE(1, 0, 5, 0, 0, 0, 0, 0, 0x42, 0xFE, 0x02, 0),
			==, -EBADMSG);
	g_assert_cmpint(DECODE(1, 0, 5, 0, 0, 0, 0, 0, 0x42, 0xFE, 0x01, 0),
			==, 0);
	/* more than six bytes pushed, a Pop of nothing, a backwards
	 * Range, an unknown command, no End */
	g_assert_cmpint(DECODE(1, 0, 4, 0, 0, 0, 0, 3, 0, 0, 0, 0), ==,
			-EBADMSG);
	g_assert_cmpint(DECODE(1, 0, 0x50, 0), ==, -EBADMSG);
	g_assert_cmpint(DECODE(1, 0, 5, 0, 0, 0, 0, 0, 0x52, 2, 1, 0), ==,
			-EBADMSG);
	g_assert_cmpint(DECODE(1, 0, 0x07, 0), ==, -EBADMSG);
	g_assert_cmpint(DECODE(1, 0, 5, 0, 0, 0, 0, 0), ==, -EBADMSG);
	g_assert_cmpint(DECODE(1), ==, -EBADMSG);
	/* a push of six is popped by itself: a Pop after it has nothing */
	g_assert_cmpint(DECODE(1, 0, 6, 0, 0, 0, 0, 0, 1, 0x50, 0), ==,
			-EBADMSG);
	/* thousands of single ids: as many ranges as there are ids apart */
	many[0] = 1;
	many[1] = 0;
	for (i = 2; i + 7 < sizeof(many); i += 7) {
		many[i] = 6;
		memset(many + i + 1, 0, 4);
		many[i + 5] = (uint8_t)((2 * (i / 7)) >> 8);
		many[i + 6] = (uint8_t)(2 * (i / 7));
	}
	many[i] = 0;
	g_assert_cmpint(decode(many, i + 1), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mapi-idset/recorded-state", test_recorded_state);
	g_test_add_func("/mapi-idset/recorded-truncated",
			test_recorded_truncated);
	g_test_add_func("/mapi-idset/id-parts", test_id_parts);
	g_test_add_func("/mapi-idset/commands", test_commands);
	g_test_add_func("/mapi-idset/spec-example", test_spec_example);
	g_test_add_func("/mapi-idset/operations", test_operations);
	g_test_add_func("/mapi-idset/hostile", test_hostile);
	return g_test_run();
}
