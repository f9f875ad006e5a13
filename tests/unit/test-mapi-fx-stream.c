/*
 * test-mapi-fx-stream.c - wire/mapi-fx.h on streams made here: a
 * published sample, every value layout both ways, what the writers
 * refuse, the reader's limits and its pairing of markers, and the order
 * the contents-sync builder holds a stream to.  The recorded download is
 * test-mapi-fx.c's.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-buf.h"
#include "wire/mapi-fx.h"
#include "wire/mapi-prop.h"
#include "wire/mapi-tags.h"

/* Elements read, written back as they came. */
struct echo {
	GByteArray *out;
	unsigned n;
	struct mapi_fx_event last;	/* a copy of the last property */
	int fail_at;			/* the callback's failure, by index */
};

static int on_echo(void *ctx, struct mapi_fx_event *ev)
{
	struct echo *e = ctx;

	g_assert_cmpint(mapi_fx_write_event(e->out, ev), ==, 0);
	if (ev->kind == MAPI_FX_PROP) {
		mapi_value_clear(&e->last.value);
		g_free(e->last.name.name);
		e->last = *ev;
		e->last.name.name = g_strdup(ev->name.name);
		mapi_value_copy(&e->last.value, &ev->value);
	}
	return ++e->n == (unsigned)e->fail_at ? -EINTR : 0;
}

static void echo_init(struct echo *e)
{
	memset(e, 0, sizeof(*e));
	e->out = g_byte_array_new();
	e->last.value.tag = MAPI_TAG(0, MAPI_PT_NULL);
}

static void echo_clear(struct echo *e)
{
	mapi_value_clear(&e->last.value);
	g_free(e->last.name.name);
	g_byte_array_unref(e->out);
}

/* Feed `p` whole, then a byte at a time; both must give `want` and write
 * back the input when it succeeds.  Returns the echo of the whole run. */
static int read_both(const struct mapi_fx_limits *lim, const void *p,
		     size_t n, struct echo *e)
{
	struct mapi_fx_reader *r = mapi_fx_reader_new(lim, on_echo, e);
	struct echo one;
	struct mapi_fx_reader *r1;
	int rc, rc1 = 0;
	size_t i;

	rc = mapi_fx_reader_feed(r, p, n);
	if (!rc)
		rc = mapi_fx_reader_finish(r);
	mapi_fx_reader_free(&r);

	echo_init(&one);
	one.fail_at = e->fail_at;
	r1 = mapi_fx_reader_new(lim, on_echo, &one);
	for (i = 0; i < n && !rc1; i++)
		rc1 = mapi_fx_reader_feed(r1, (const uint8_t *)p + i, 1);
	if (!rc1)
		rc1 = mapi_fx_reader_finish(r1);
	g_assert_cmpint(rc1, ==, rc);
	g_assert_cmpmem(one.out->data, one.out->len, e->out->data,
			e->out->len);
	mapi_fx_reader_free(&r1);
	echo_clear(&one);
	if (!rc)
		g_assert_cmpmem(e->out->data, e->out->len, p, n);
	return rc;
}

/*
 * The sample stream of the Open Specifications blog post "MS-OXCFXICS -
 * How to parse the FastTransfer Stream" (a folder change of a hierarchy
 * download): IncrSyncChg, then ParentSourceKey (empty), SourceKey,
 * LastModificationTime, ChangeKey, PredecessorChangeList, DisplayName
 * "INBOX", ParentFolderId, Rights, CreationTime, AttributeHidden.
 */
static const uint8_t sample[] = {
	0x03, 0x00, 0x12, 0x40, 0x02, 0x01, 0xE1, 0x65, 0x00, 0x00, 0x00,
	0x00, 0x02, 0x01, 0xE0, 0x65, 0x16, 0x00, 0x00, 0x00, 0x52, 0xF6,
	0x85, 0xEC, 0x7D, 0x43, 0x2E, 0x4A, 0xA9, 0x60, 0x34, 0x50, 0x88,
	0x53, 0xD9, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x03, 0xF5, 0x40, 0x00,
	0x08, 0x30, 0x00, 0xD0, 0x9E, 0xA8, 0x81, 0x85, 0xD0, 0x01, 0x02,
	0x01, 0xE2, 0x65, 0x16, 0x00, 0x00, 0x00, 0x52, 0xF6, 0x85, 0xEC,
	0x7D, 0x43, 0x2E, 0x4A, 0xA9, 0x60, 0x34, 0x50, 0x88, 0x53, 0xD9,
	0x0A, 0x00, 0x00, 0x00, 0x00, 0x20, 0x7C, 0x02, 0x01, 0xE3, 0x65,
	0x17, 0x00, 0x00, 0x00, 0x16, 0x52, 0xF6, 0x85, 0xEC, 0x7D, 0x43,
	0x2E, 0x4A, 0xA9, 0x60, 0x34, 0x50, 0x88, 0x53, 0xD9, 0x0A, 0x00,
	0x00, 0x00, 0x00, 0x20, 0x7C, 0x1F, 0x00, 0x01, 0x30, 0x0C, 0x00,
	0x00, 0x00, 0x49, 0x00, 0x4E, 0x00, 0x42, 0x00, 0x4F, 0x00, 0x58,
	0x00, 0x00, 0x00, 0x14, 0x00, 0x49, 0x67, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x03, 0xF4, 0x03, 0x00, 0x39, 0x66, 0xFB, 0x03, 0x00,
	0x00, 0x40, 0x00, 0x07, 0x30, 0x80, 0x39, 0x06, 0xA8, 0x81, 0x85,
	0xD0, 0x01, 0x0B, 0x00, 0xF4, 0x10, 0x00, 0x00,
};

struct sample_seen {
	unsigned n;
	char *name;
	uint64_t parent, created;
	int32_t rights;
	bool hidden_seen;
};

static int on_sample(void *ctx, struct mapi_fx_event *ev)
{
	struct sample_seen *s = ctx;

	if (s->n++ == 0) {
		g_assert_cmpint(ev->kind, ==, MAPI_FX_MARKER);
		g_assert_cmpuint(ev->tag, ==, MAPI_FX_INCR_SYNC_CHG);
		return 0;
	}
	g_assert_cmpint(ev->kind, ==, MAPI_FX_PROP);
	switch (ev->tag) {
	case MAPI_TAG_PARENT_SOURCE_KEY:
		g_assert_cmpuint(ev->value.v.bin.len, ==, 0);
		break;
	case MAPI_TAG_SOURCE_KEY: case MAPI_TAG_CHANGE_KEY:
		g_assert_cmpuint(ev->value.v.bin.len, ==, 22);
		break;
	case MAPI_TAG_PREDECESSOR_CHANGE_LIST:
		g_assert_cmpuint(ev->value.v.bin.len, ==, 23);
		g_assert_cmpuint(ev->value.v.bin.data[0], ==, 22);
		break;
	case MAPI_TAG_DISPLAY_NAME:
		s->name = g_strdup(ev->value.v.str);
		break;
	case MAPI_TAG_PARENT_FOLDER_ID:
		s->parent = (uint64_t)ev->value.v.i8;
		break;
	case 0x66390003U:	/* PidTagRights */
		s->rights = ev->value.v.l;
		break;
	case MAPI_TAG_CREATION_TIME:
		s->created = ev->value.v.ft;
		break;
	case 0x10F4000BU:	/* PidTagAttributeHidden */
		g_assert_false(ev->value.v.b);
		s->hidden_seen = true;
		break;
	case MAPI_TAG_LAST_MODIFICATION_TIME:
		g_assert_cmpuint(ev->value.v.ft, ==,
				 UINT64_C(0x01D08581A89ED000));
		break;
	default:
		g_assert_not_reached();
	}
	return 0;
}

static void test_published_sample(void)
{
	struct sample_seen s = { 0 };
	struct mapi_fx_reader *r = mapi_fx_reader_new(NULL, on_sample, &s);
	struct echo e;

	g_assert_cmpint(mapi_fx_reader_feed(r, sample, sizeof(sample)), ==, 0);
	g_assert_cmpint(mapi_fx_reader_finish(r), ==, 0);
	mapi_fx_reader_free(&r);
	g_assert_cmpuint(s.n, ==, 11);
	g_assert_cmpstr(s.name, ==, "INBOX");
	g_assert_cmpuint(s.parent, ==, UINT64_C(0xF403000000000001));
	g_assert_cmpint(s.rights, ==, 0x3FB);
	g_assert_cmpuint(s.created, ==, UINT64_C(0x01D08581A8063980));
	g_assert_true(s.hidden_seen);
	g_free(s.name);

	echo_init(&e);
	g_assert_cmpint(read_both(NULL, sample, sizeof(sample), &e), ==, 0);
	g_assert_cmpuint(e.n, ==, 11);
	echo_clear(&e);
}

static void put_mv(GByteArray *b, uint32_t tag, uint32_t count,
		   const void *elems, size_t elem_size)
{
	mapi_wr_u32(b, tag);
	mapi_wr_u32(b, count);
	mapi_wr_bytes(b, elems, count * elem_size);
}

/* Every layout, built by hand, read and written back byte for byte. */
static void test_values_round_trip(void)
{
	static const uint8_t guid[16] = { 0x29, 0x03, 0x02, 0x00, 0, 0, 0, 0,
					  0xC0, 0, 0, 0, 0, 0, 0, 0x46 };
	GByteArray *b = g_byte_array_new();
	struct echo e;
	uint8_t fixed[32];
	size_t i;

	for (i = 0; i < sizeof(fixed); i++)
		fixed[i] = (uint8_t)(i * 7 + 1);
	/* fixed sizes: I2, I4, float, double, currency, apptime, error,
	 * boolean, I8, time, guid */
	mapi_wr_u32(b, 0x80010002U);	/* named by LID, PtypInteger16 */
	mapi_wr_guid(b, guid);
	mapi_wr_u8(b, MAPI_FX_NAME_LID);
	mapi_wr_u32(b, 0x8530);
	mapi_wr_bytes(b, fixed, 2);
	mapi_wr_u32(b, MAPI_TAG_MESSAGE_FLAGS);
	mapi_wr_bytes(b, fixed, 4);
	mapi_wr_u32(b, MAPI_TAG(0x6601, MAPI_PT_FLOAT));
	mapi_wr_bytes(b, fixed, 4);
	mapi_wr_u32(b, MAPI_TAG(0x6602, MAPI_PT_DOUBLE));
	mapi_wr_bytes(b, fixed, 8);
	mapi_wr_u32(b, MAPI_TAG(0x6603, MAPI_PT_CURRENCY));
	mapi_wr_bytes(b, fixed, 8);
	mapi_wr_u32(b, MAPI_TAG(0x6604, MAPI_PT_APPTIME));
	mapi_wr_bytes(b, fixed + 8, 8);
	mapi_wr_u32(b, MAPI_TAG(0x6605, MAPI_PT_ERROR));
	mapi_wr_u32(b, MAPI_E_NOT_FOUND);
	mapi_wr_u32(b, MAPI_TAG_HAS_ATTACHMENTS);
	mapi_wr_u16(b, 1);
	mapi_wr_u32(b, MAPI_TAG_MID);
	mapi_wr_bytes(b, fixed, 8);
	mapi_wr_u32(b, MAPI_TAG_CREATION_TIME);
	mapi_wr_bytes(b, fixed + 3, 8);
	mapi_wr_u32(b, MAPI_TAG(0x6606, MAPI_PT_CLSID));
	mapi_wr_guid(b, guid);
	/* counted: string8, string (named by a string), binary, server id */
	mapi_wr_u32(b, 0x001A001EU);
	mapi_wr_u32(b, 9);
	mapi_wr_bytes(b, "IPM.Note", 9);
	mapi_wr_u32(b, 0x8002001FU);
	mapi_wr_guid(b, guid);
	mapi_wr_u8(b, MAPI_FX_NAME_STRING);
	g_assert_cmpint(mapi_wr_utf16z(b, "Keywords \xc3\xa4"), ==, 0);
	mapi_wr_u32(b, 10);
	g_assert_cmpint(mapi_wr_utf16z(b, "K\xc3\xb6ln"), ==, 0);
	mapi_wr_u32(b, MAPI_TAG_CHANGE_KEY);
	mapi_wr_u32(b, 0);
	mapi_wr_u32(b, MAPI_TAG(0x6607, MAPI_PT_SVREID));
	mapi_wr_u32(b, 3);
	mapi_wr_bytes(b, "\x01\x02\x03", 3);
	/* multi-valued: fixed elements, and counted ones */
	put_mv(b, MAPI_TAG(0x6610, MAPI_PT_MV | MAPI_PT_I2), 3, fixed, 2);
	put_mv(b, MAPI_TAG(0x6611, MAPI_PT_MV | MAPI_PT_LONG), 2, fixed, 4);
	put_mv(b, MAPI_TAG(0x6612, MAPI_PT_MV | MAPI_PT_I8), 2, fixed, 8);
	put_mv(b, MAPI_TAG(0x6613, MAPI_PT_MV | MAPI_PT_CLSID), 1, guid, 16);
	put_mv(b, MAPI_TAG(0x6614, MAPI_PT_MV | MAPI_PT_SYSTIME), 0, NULL, 0);
	put_mv(b, MAPI_TAG(0x6615, MAPI_PT_MV | MAPI_PT_DOUBLE), 1, fixed, 8);
	mapi_wr_u32(b, MAPI_TAG(0x6616, MAPI_PT_MV | MAPI_PT_UNICODE));
	mapi_wr_u32(b, 2);
	mapi_wr_u32(b, 4);
	g_assert_cmpint(mapi_wr_utf16z(b, "a"), ==, 0);
	mapi_wr_u32(b, 2);
	g_assert_cmpint(mapi_wr_utf16z(b, ""), ==, 0);
	mapi_wr_u32(b, MAPI_TAG(0x6617, MAPI_PT_MV | MAPI_PT_BINARY));
	mapi_wr_u32(b, 2);
	mapi_wr_u32(b, 2);
	mapi_wr_bytes(b, "xy", 2);
	mapi_wr_u32(b, 0);
	mapi_wr_u32(b, MAPI_TAG(0x6618, MAPI_PT_MV | MAPI_PT_STRING8));
	mapi_wr_u32(b, 1);
	mapi_wr_u32(b, 3);
	mapi_wr_bytes(b, "ab", 3);
	/* the state's MetaTagIdsetGiven: tagged PtypInteger32, counted */
	mapi_wr_u32(b, MAPI_FX_META_IDSET_GIVEN_WIRE);
	mapi_wr_u32(b, 5);
	mapi_wr_bytes(b, "\x01\x00\x00\x00\x00", 5);

	echo_init(&e);
	g_assert_cmpint(read_both(NULL, b->data, b->len, &e), ==, 0);
	g_assert_cmpuint(e.n, ==, 25);
	/* the last one comes out as a binary, its wire tag kept */
	g_assert_cmpuint(e.last.tag, ==, MAPI_FX_META_IDSET_GIVEN_WIRE);
	g_assert_cmpuint(e.last.value.tag, ==, MAPI_FX_META_IDSET_GIVEN);
	g_assert_cmpuint(e.last.value.v.bin.len, ==, 5);
	echo_clear(&e);
	g_byte_array_unref(b);
}

static int on_empty(void *ctx, struct mapi_fx_event *ev)
{
	unsigned *n = ctx;

	if (MAPI_TAG_TYPE(ev->value.tag) == MAPI_PT_BINARY)
		g_assert_cmpuint(ev->value.v.bin.len, ==, 0);
	else
		g_assert_cmpstr(ev->value.v.str, ==, "");
	(*n)++;
	return 0;
}

/* Counted values of no bytes at all (no terminator either), first in a
 * stream: empty strings, not failures. */
static void test_empty_values(void)
{
	static const uint8_t in[] = {
		0x1F, 0x00, 0x37, 0x00, 0, 0, 0, 0,
		0x1E, 0x00, 0x1A, 0x00, 0, 0, 0, 0,
		0x02, 0x01, 0xE2, 0x65, 0, 0, 0, 0,
	};
	unsigned n = 0;
	struct mapi_fx_reader *r = mapi_fx_reader_new(NULL, on_empty, &n);

	g_assert_cmpint(mapi_fx_reader_feed(r, in, sizeof(in)), ==, 0);
	g_assert_cmpint(mapi_fx_reader_finish(r), ==, 0);
	g_assert_cmpuint(n, ==, 3);
	mapi_fx_reader_free(&r);
}

static void test_writer_refuses(void)
{
	GByteArray *b = g_byte_array_new();
	struct mapi_value v = { .tag = MAPI_TAG(0x6601, MAPI_PT_NULL) };
	struct mapi_fx_named bad = { .kind = 7 }, nameless = {
		.kind = MAPI_FX_NAME_STRING };
	char *strs[] = { "ok", "\xff" };

	g_byte_array_append(b, (const guint8 *)"x", 1);
	g_assert_cmpint(mapi_fx_write_prop(b, v.tag, NULL, &v), ==, -EINVAL);
	v.tag = MAPI_TAG(0x6601, MAPI_PT_MV | MAPI_PT_BOOLEAN);
	g_assert_cmpint(mapi_fx_write_prop(b, v.tag, NULL, &v), ==, -EINVAL);
	v.tag = MAPI_TAG(0x6601, 0x0099);
	g_assert_cmpint(mapi_fx_write_prop(b, v.tag, NULL, &v), ==, -EINVAL);
	v.tag = MAPI_TAG_SUBJECT;
	v.v.str = (char *)"\xc3";
	g_assert_cmpint(mapi_fx_write_prop(b, v.tag, NULL, &v), ==, -EILSEQ);
	v.tag = MAPI_TAG(0x6616, MAPI_PT_MV | MAPI_PT_UNICODE);
	v.v.mv.count = 2;
	v.v.mv.a.str = strs;
	g_assert_cmpint(mapi_fx_write_prop(b, v.tag, NULL, &v), ==, -EILSEQ);
	v.tag = MAPI_TAG(0x8001, MAPI_PT_LONG);
	v.v.l = 1;
	g_assert_cmpint(mapi_fx_write_prop(b, v.tag, NULL, &v), ==, -EINVAL);
	g_assert_cmpint(mapi_fx_write_prop(b, v.tag, &bad, &v), ==, -EINVAL);
	g_assert_cmpint(mapi_fx_write_prop(b, v.tag, &nameless, &v), ==,
			-EINVAL);
	/* nothing of any of them was written */
	g_assert_cmpuint(b->len, ==, 1);
	g_byte_array_unref(b);
}

/* Read `p` with `lim`; the outcome. */
static int read_with(const struct mapi_fx_limits *lim, const void *p,
		     size_t n)
{
	struct echo e;
	int rc;

	echo_init(&e);
	rc = read_both(lim, p, n, &e);
	echo_clear(&e);
	return rc;
}

static void test_limits(void)
{
	const struct mapi_fx_limits small = { .max_value = 100 };
	GByteArray *b = g_byte_array_new();
	struct echo e;
	uint8_t zero[128] = { 0 };
	unsigned i;

	/* a length past any bound fails once read, before its bytes */
	mapi_wr_u32(b, MAPI_TAG_BODY);
	mapi_wr_u32(b, 0xFFFFFFF0U);
	g_assert_cmpint(read_with(NULL, b->data, b->len), ==, -EMSGSIZE);
	g_byte_array_set_size(b, 0);
	mapi_wr_u32(b, MAPI_TAG_CHANGE_KEY);
	mapi_wr_u32(b, 100);
	mapi_wr_bytes(b, zero, 100);
	g_assert_cmpint(read_with(&small, b->data, b->len), ==, 0);
	mapi_wr_u32_at(b, 4, 101);
	mapi_wr_u8(b, 0);
	g_assert_cmpint(read_with(&small, b->data, b->len), ==, -EMSGSIZE);

	/* counts: 25 integers fit in 100 bytes, 26 do not; a huge count of
	 * counted elements is refused before anything is held */
	g_byte_array_set_size(b, 0);
	put_mv(b, MAPI_TAG(0x6611, MAPI_PT_MV | MAPI_PT_LONG), 25, zero, 4);
	g_assert_cmpint(read_with(&small, b->data, b->len), ==, 0);
	g_byte_array_set_size(b, 0);
	put_mv(b, MAPI_TAG(0x6611, MAPI_PT_MV | MAPI_PT_LONG), 26, zero, 4);
	g_assert_cmpint(read_with(&small, b->data, b->len), ==, -EMSGSIZE);
	g_byte_array_set_size(b, 0);
	put_mv(b, MAPI_TAG(0x6617, MAPI_PT_MV | MAPI_PT_BINARY), 0xFFFFFFFFU,
	       NULL, 0);
	g_assert_cmpint(read_with(NULL, b->data, b->len), ==, -EMSGSIZE);
	/* elements that each fit but together do not */
	g_byte_array_set_size(b, 0);
	mapi_wr_u32(b, MAPI_TAG(0x6617, MAPI_PT_MV | MAPI_PT_BINARY));
	mapi_wr_u32(b, 3);
	for (i = 0; i < 3; i++) {
		mapi_wr_u32(b, 40);
		mapi_wr_bytes(b, zero, 40);
	}
	g_assert_cmpint(read_with(&small, b->data, b->len), ==, -EMSGSIZE);

	/* types the stream cannot carry, a name of an unknown kind, a name
	 * without end, a string that is not UTF-16 */
	g_byte_array_set_size(b, 0);
	mapi_wr_u32(b, MAPI_TAG(0x6601, 0x0099));
	mapi_wr_u32(b, 0);
	g_assert_cmpint(read_with(NULL, b->data, b->len), ==, -EBADMSG);
	g_byte_array_set_size(b, 0);
	mapi_wr_u32(b, MAPI_TAG(0x6601, MAPI_PT_NULL));
	g_assert_cmpint(read_with(NULL, b->data, b->len), ==, -EBADMSG);
	g_byte_array_set_size(b, 0);
	mapi_wr_u32(b, MAPI_TAG(0x6601, MAPI_PT_MV | MAPI_PT_BOOLEAN));
	g_assert_cmpint(read_with(NULL, b->data, b->len), ==, -EBADMSG);
	g_byte_array_set_size(b, 0);
	mapi_wr_u32(b, 0x80010003U);
	mapi_wr_bytes(b, zero, 16);
	mapi_wr_u8(b, 2);
	g_assert_cmpint(read_with(NULL, b->data, b->len), ==, -EBADMSG);
	g_byte_array_set_size(b, 0);
	mapi_wr_u32(b, 0x80010003U);
	mapi_wr_bytes(b, zero, 16);
	mapi_wr_u8(b, MAPI_FX_NAME_STRING);
	for (i = 0; i < 1100; i++)
		mapi_wr_u16(b, 'n');
	g_assert_cmpint(read_with(NULL, b->data, b->len), ==, -EMSGSIZE);
	g_byte_array_set_size(b, 0);
	mapi_wr_u32(b, MAPI_TAG_SUBJECT);
	mapi_wr_u32(b, 4);
	mapi_wr_u16(b, 0xD800);
	mapi_wr_u16(b, 0);
	g_assert_cmpint(read_with(NULL, b->data, b->len), ==, -EBADMSG);

	/* the callback's failure stops the reader, and stays */
	g_byte_array_set_size(b, 0);
	for (i = 0; i < 3; i++)
		mapi_fx_write_marker(b, MAPI_FX_INCR_SYNC_CHG);
	echo_init(&e);
	e.fail_at = 2;
	g_assert_cmpint(read_both(NULL, b->data, b->len, &e), ==, -EINTR);
	g_assert_cmpuint(e.n, ==, 2);
	echo_clear(&e);
	g_byte_array_unref(b);
}

static int markers(const struct mapi_fx_limits *lim, const uint32_t *m,
		   size_t n)
{
	GByteArray *b = g_byte_array_new();
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		mapi_fx_write_marker(b, m[i]);
	rc = read_with(lim, b->data, b->len);
	g_byte_array_unref(b);
	return rc;
}

#define MARKERS(lim, ...) markers(lim, (const uint32_t[]){ __VA_ARGS__ }, \
	sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t))

static void test_nesting(void)
{
	const struct mapi_fx_limits two = { .max_depth = 2 };
	GByteArray *b = g_byte_array_new();
	unsigned i;

	g_assert_cmpint(MARKERS(&two, MAPI_FX_NEW_ATTACH, MAPI_FX_START_EMBED,
		MAPI_FX_NEW_ATTACH, MAPI_FX_START_EMBED, MAPI_FX_END_EMBED,
		MAPI_FX_END_ATTACH, MAPI_FX_END_EMBED, MAPI_FX_END_ATTACH), ==, 0);
	g_assert_cmpint(MARKERS(&two, MAPI_FX_NEW_ATTACH, MAPI_FX_START_EMBED,
		MAPI_FX_NEW_ATTACH, MAPI_FX_START_EMBED, MAPI_FX_NEW_ATTACH,
		MAPI_FX_START_EMBED), ==, -ELOOP);
	/* embedding without end: refused at the limit, whatever follows */
	for (i = 0; i < 100000; i++) {
		mapi_fx_write_marker(b, MAPI_FX_NEW_ATTACH);
		mapi_fx_write_marker(b, MAPI_FX_START_EMBED);
	}
	g_assert_cmpint(read_with(NULL, b->data, b->len), ==, -ELOOP);
	/* embedding that does not end by the end of the stream */
	g_assert_cmpint(MARKERS(NULL, MAPI_FX_NEW_ATTACH, MAPI_FX_START_EMBED,
		MAPI_FX_START_RECIP, MAPI_FX_END_TO_RECIP), ==, -EBADMSG);
	/* ends without starts, and starts out of place */
	g_assert_cmpint(MARKERS(NULL, MAPI_FX_END_EMBED), ==, -EBADMSG);
	g_assert_cmpint(MARKERS(NULL, MAPI_FX_START_EMBED), ==, -EBADMSG);
	g_assert_cmpint(MARKERS(NULL, MAPI_FX_NEW_ATTACH, MAPI_FX_START_EMBED,
		MAPI_FX_END_ATTACH), ==, -EBADMSG);
	g_assert_cmpint(MARKERS(NULL, MAPI_FX_START_RECIP,
		MAPI_FX_START_RECIP), ==, -EBADMSG);
	g_assert_cmpint(MARKERS(NULL, MAPI_FX_NEW_ATTACH,
		MAPI_FX_INCR_SYNC_CHG), ==, -EBADMSG);
	g_assert_cmpint(MARKERS(NULL, MAPI_FX_INCR_SYNC_STATE_BEGIN,
		MAPI_FX_NEW_ATTACH), ==, -EBADMSG);
	/* folders: nested, at most max_depth deep */
	g_assert_cmpint(MARKERS(&two, MAPI_FX_START_TOP_FLD,
		MAPI_FX_START_SUB_FLD, MAPI_FX_START_MESSAGE,
		MAPI_FX_START_RECIP, MAPI_FX_END_TO_RECIP, MAPI_FX_END_MESSAGE,
		MAPI_FX_END_FOLDER, MAPI_FX_END_FOLDER), ==, 0);
	g_assert_cmpint(MARKERS(&two, MAPI_FX_START_TOP_FLD,
		MAPI_FX_START_SUB_FLD, MAPI_FX_START_SUB_FLD), ==, -ELOOP);
	g_assert_cmpint(MARKERS(NULL, MAPI_FX_START_SUB_FLD), ==, -EBADMSG);
	g_assert_cmpint(MARKERS(NULL, MAPI_FX_START_TOP_FLD,
		MAPI_FX_START_RECIP), ==, -EBADMSG);
	g_assert_cmpint(MARKERS(NULL, MAPI_FX_START_TOP_FLD,
		MAPI_FX_END_MESSAGE), ==, -EBADMSG);
	g_byte_array_unref(b);
}

/* Read `b` into a new builder; the first failure of the reader or the
 * builder.  *s_r gets the builder (the caller frees it). */
static int sync_run(const GByteArray *b, struct mapi_fx_sync **s_r)
{
	struct mapi_fx_sync *s = mapi_fx_sync_new();
	struct mapi_fx_reader *r = mapi_fx_reader_new(NULL,
						      mapi_fx_sync_event, s);
	int rc = mapi_fx_reader_feed(r, b->data, b->len);

	if (!rc)
		rc = mapi_fx_reader_finish(r);
	if (!rc)
		rc = mapi_fx_sync_finish(s);
	mapi_fx_reader_free(&r);
	if (s_r)
		*s_r = s;
	else
		mapi_fx_sync_free(&s);
	return rc;
}

static const struct mapi_fx_named keywords = {
	.guid = { 0x29, 0x03, 0x02, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0,
		  0x46 },
	.kind = MAPI_FX_NAME_STRING,
	.name = (char *)"Keywords",
};

static const struct mapi_fx_named *lookup_keywords(void *ctx, uint16_t id)
{
	(void)ctx;
	return id == 0x8005 ? &keywords : NULL;
}

/* A whole download made with the writers: progress, one change with a
 * recipient and an attachment holding a message, deletions, read
 * changes, the state. */
static void make_download(GByteArray *b, struct mapi_props *hdr)
{
	static const uint8_t key[22] = { 1, 2, 3, [21] = 9 };
	struct mapi_message *m = mapi_message_new();
	struct mapi_attachment *a;
	struct mapi_fx_names names = { .lookup = lookup_keywords };
	struct mapi_value v = { .tag = MAPI_TAG(0, MAPI_PT_BINARY) };
	struct mapi_bin given = { 3, (uint8_t *)"abc" };
	struct mapi_bin seen = { 2, (uint8_t *)"de" };
	struct mapi_bin none = { 0, NULL };

	mapi_fx_write_marker(b, MAPI_FX_INCR_SYNC_PROGRESS_MODE);
	v.v.bin = seen;
	g_assert_cmpint(mapi_fx_write_prop(b, v.tag, NULL, &v), ==, 0);
	mapi_props_set_bin(hdr, MAPI_TAG_SOURCE_KEY, key, sizeof(key));
	mapi_props_set_ft(hdr, MAPI_TAG_LAST_MODIFICATION_TIME, 77);
	mapi_props_set_bin(hdr, MAPI_TAG_CHANGE_KEY, key, sizeof(key));
	mapi_props_set_b(hdr, MAPI_TAG_ASSOCIATED, true);
	mapi_props_set_i8(hdr, MAPI_TAG_MID, 0x0500030000000001);
	mapi_props_set_l(hdr, MAPI_TAG_MESSAGE_SIZE, 1234);
	mapi_props_set_i8(hdr, MAPI_TAG_CHANGE_NUMBER, 0x2300000000000001);
	mapi_props_set_str(&m->props, MAPI_TAG_SUBJECT, "outer");
	mapi_props_set_l(&m->props, MAPI_TAG(0x8005, MAPI_PT_LONG), 5);
	mapi_props_set_str(&mapi_message_add_recip(m)->props,
			   MAPI_TAG_SMTP_ADDRESS, "bob@example.test");
	a = mapi_message_add_attach(m);
	mapi_props_set_l(&a->props, MAPI_TAG_ATTACH_METHOD,
			 MAPI_ATTACH_EMBEDDED_MSG);
	a->embedded = mapi_message_new();
	mapi_props_set_str(&a->embedded->props, MAPI_TAG_SUBJECT, "inner");
	g_assert_cmpint(mapi_fx_write_change(b, hdr, m, &names), ==, 0);
	mapi_fx_write_marker(b, MAPI_FX_INCR_SYNC_DEL);
	v.tag = MAPI_FX_META_IDSET_DELETED;
	v.v.bin = given;
	g_assert_cmpint(mapi_fx_write_prop(b, v.tag, NULL, &v), ==, 0);
	mapi_fx_write_marker(b, MAPI_FX_INCR_SYNC_READ);
	v.tag = MAPI_FX_META_IDSET_READ;
	g_assert_cmpint(mapi_fx_write_prop(b, v.tag, NULL, &v), ==, 0);
	mapi_fx_write_state_end(b, &given, &seen, &none, NULL);
	mapi_message_free(m);
}

static void test_builder(void)
{
	GByteArray *b = g_byte_array_new(), *again = g_byte_array_new();
	struct mapi_props hdr = { 0 };
	struct mapi_fx_sync *s;
	struct mapi_fx_change *c;
	struct mapi_fx_names names;
	const struct mapi_fx_named *n;

	make_download(b, &hdr);
	g_assert_cmpint(sync_run(b, &s), ==, 0);
	g_assert_cmpuint(mapi_fx_sync_n_changes(s), ==, 1);
	c = mapi_fx_sync_change(s, 0);
	g_assert_cmpuint(c->offset, ==, 8 + 4 + 2);
	g_assert_cmpuint(c->mid, ==, 0x0500030000000001);
	g_assert_cmpuint(c->cn, ==, 0x2300000000000001);
	g_assert_cmpuint(c->size, ==, 1234);
	g_assert_cmpuint(c->last_modified, ==, 77);
	g_assert_true(c->associated);
	g_assert_cmpuint(c->source_key.len, ==, 22);
	g_assert_cmpuint(c->change_key.data[21], ==, 9);
	g_assert_cmpuint(c->predecessors.len, ==, 0);
	g_assert_cmpstr(mapi_props_str(&c->msg->props, 0x0037), ==, "outer");
	g_assert_cmpuint(c->msg->n_recips, ==, 1);
	g_assert_cmpuint(c->msg->n_attach, ==, 1);
	g_assert_cmpstr(mapi_props_str(&c->msg->attach[0].embedded->props,
				       0x0037), ==, "inner");
	n = mapi_fx_sync_name(s, 0x8005);
	g_assert_nonnull(n);
	g_assert_cmpstr(n->name, ==, "Keywords");
	g_assert_null(mapi_fx_sync_name(s, 0x8006));
	g_assert_nonnull(mapi_props_get_tag(mapi_fx_sync_deletions(s),
					    MAPI_FX_META_IDSET_DELETED));
	g_assert_nonnull(mapi_props_get_tag(mapi_fx_sync_read_changes(s),
					    MAPI_FX_META_IDSET_READ));
	g_assert_cmpuint(mapi_fx_sync_state(s)->n, ==, 3);

	/* the model, written back, is the stream again from the change on */
	names = mapi_fx_sync_names(s);
	g_assert_cmpint(mapi_fx_write_change(again, &c->header, c->msg,
					     &names), ==, 0);
	g_assert_cmpmem(again->data, again->len, b->data + c->offset,
			again->len);
	mapi_fx_sync_free(&s);
	mapi_props_clear(&hdr);
	g_byte_array_unref(again);
	g_byte_array_unref(b);
}

/* A run of markers, with one property after the last when `prop`. */
static int sync_markers(const uint32_t *m, size_t n, bool prop)
{
	GByteArray *b = g_byte_array_new();
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		mapi_fx_write_marker(b, m[i]);
	if (prop) {
		mapi_wr_u32(b, MAPI_TAG_MESSAGE_FLAGS);
		mapi_wr_u32(b, 1);
	}
	rc = sync_run(b, NULL);
	g_byte_array_unref(b);
	return rc;
}

#define SYNC(prop, ...) sync_markers((const uint32_t[]){ __VA_ARGS__ }, \
	sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t), prop)

static void test_builder_order(void)
{
	GByteArray *b = g_byte_array_new();
	struct mapi_props hdr = { 0 };
	struct mapi_fx_sync *s;

	g_assert_cmpint(SYNC(false, MAPI_FX_INCR_SYNC_STATE_BEGIN,
		MAPI_FX_INCR_SYNC_STATE_END, MAPI_FX_INCR_SYNC_END), ==, 0);
	g_assert_cmpint(SYNC(false, MAPI_FX_INCR_SYNC_MESSAGE), ==, -EBADMSG);
	g_assert_cmpint(SYNC(true, MAPI_FX_INCR_SYNC_STATE_BEGIN,
		MAPI_FX_INCR_SYNC_STATE_END), ==, -EBADMSG);
	g_assert_cmpint(SYNC(false, MAPI_FX_INCR_SYNC_CHG,
		MAPI_FX_INCR_SYNC_MESSAGE, MAPI_FX_INCR_SYNC_END), ==,
		-EBADMSG);
	g_assert_cmpint(SYNC(false, MAPI_FX_INCR_SYNC_CHG,
		MAPI_FX_INCR_SYNC_CHG), ==, -EBADMSG);
	g_assert_cmpint(SYNC(true, MAPI_FX_INCR_SYNC_CHG,
		MAPI_FX_INCR_SYNC_MESSAGE, MAPI_FX_START_RECIP,
		MAPI_FX_END_TO_RECIP), ==, -EBADMSG);
	g_assert_cmpint(SYNC(false, MAPI_FX_INCR_SYNC_DEL,
		MAPI_FX_INCR_SYNC_CHG), ==, -EBADMSG);
	g_assert_cmpint(SYNC(false, MAPI_FX_INCR_SYNC_READ,
		MAPI_FX_INCR_SYNC_DEL), ==, -EBADMSG);
	g_assert_cmpint(SYNC(false, MAPI_FX_INCR_SYNC_STATE_BEGIN,
		MAPI_FX_INCR_SYNC_STATE_END, MAPI_FX_INCR_SYNC_END,
		MAPI_FX_INCR_SYNC_CHG), ==, -EBADMSG);
	g_assert_cmpint(SYNC(false, MAPI_FX_START_TOP_FLD,
		MAPI_FX_END_FOLDER), ==, -EBADMSG);
	/* a change that never reaches IncrSyncEnd: fine for the reader */
	g_assert_cmpint(SYNC(true, MAPI_FX_INCR_SYNC_CHG,
		MAPI_FX_INCR_SYNC_MESSAGE), ==, -EBADMSG);
	/* MetaTagFXDelProp belongs to a message, not to its header */
	mapi_fx_write_marker(b, MAPI_FX_INCR_SYNC_CHG);
	mapi_wr_u32(b, MAPI_FX_META_DEL_PROP);
	mapi_wr_u32(b, 0x0E12000DU);
	g_assert_cmpint(sync_run(b, NULL), ==, -EBADMSG);

	/* a partial change: its property groups fill the message */
	g_byte_array_set_size(b, 0);
	mapi_fx_write_marker(b, MAPI_FX_INCR_SYNC_CHG_PARTIAL);
	mapi_props_set_i8(&hdr, MAPI_TAG_MID, 42);
	g_assert_cmpint(mapi_fx_write_prop(b, MAPI_TAG_MID, NULL, &hdr.v[0]),
			==, 0);
	mapi_wr_u32(b, MAPI_FX_META_MSG_PARTIAL);
	mapi_wr_u32(b, 0);
	mapi_wr_u32(b, MAPI_TAG_MESSAGE_FLAGS);
	mapi_wr_u32(b, 1);
	mapi_fx_write_state_end(b, NULL, NULL, NULL, NULL);
	g_assert_cmpint(sync_run(b, &s), ==, 0);
	g_assert_true(mapi_fx_sync_change(s, 0)->partial);
	g_assert_cmpuint(mapi_fx_sync_change(s, 0)->mid, ==, 42);
	g_assert_cmpint(mapi_props_l(&mapi_fx_sync_change(s, 0)->msg->props,
				     0x0E07, 0), ==, 1);
	mapi_fx_sync_free(&s);
	mapi_props_clear(&hdr);
	g_byte_array_unref(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mapi-fx/sample", test_published_sample);
	g_test_add_func("/mapi-fx/values", test_values_round_trip);
	g_test_add_func("/mapi-fx/empty-values", test_empty_values);
	g_test_add_func("/mapi-fx/writer-refuses", test_writer_refuses);
	g_test_add_func("/mapi-fx/limits", test_limits);
	g_test_add_func("/mapi-fx/nesting", test_nesting);
	g_test_add_func("/mapi-fx/builder", test_builder);
	g_test_add_func("/mapi-fx/builder-order", test_builder_order);
	return g_test_run();
}
