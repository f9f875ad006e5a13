/*
 * test-mapi-fx.c - wire/mapi-fx.h: the FastTransfer stream reader, its
 * writers and the contents-sync builder, on the recorded ICS download of
 * tests/data/mapi-traces/08-ics.json (32 RopFastTransferSourceGetBuffer
 * responses, 983911 bytes), on a published sample, and on hostile input.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-buf.h"
#include "wire/mapi-fx.h"
#include "wire/mapi-prop.h"
#include "wire/mapi-tags.h"
#include "mapi-trace.h"

#define N_BUFFERS 32
#define FIRST_BUFFER 4		/* exchange index of seq 5 */
#define STREAM_LEN 983911
#define FX_BUFFER_CAP 0x7B00

/* The recorded stream: the TransferBuffer of every GetBuffer response. */
struct stream {
	struct mapi_trace *t;
	GByteArray *all;
	const uint8_t *piece[N_BUFFERS];	/* borrowed from t */
	size_t piece_len[N_BUFFERS];
};

/*
 * One Execute response (MS-OXCMAPIHTTP 2.2.4.2.2) holding one
 * RopFastTransferSourceGetBuffer response (MS-OXCROPS 2.2.13.8.2), read by
 * hand: StatusCode, ErrorCode, Flags, RopBufferSize, an RPC_HEADER_EXT,
 * RopSize, the ROP, the handle table, AuxiliaryBufferSize.
 */
static void read_get_buffer(const struct mapi_trace_exchange *x, bool last,
			    const uint8_t **buf_r, size_t *len_r)
{
	struct mapi_rd r, rops;
	uint32_t rop_buffer_size;
	uint16_t size, rop_size, n;

	g_assert_cmpint(x->status, ==, 200);
	mapi_rd_init(&r, x->resp + x->resp_bin_off,
		     x->resp_len - x->resp_bin_off);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);	/* StatusCode */
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);	/* ErrorCode */
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);	/* Flags */
	rop_buffer_size = mapi_rd_u32(&r);
	g_assert_cmpuint(mapi_rd_u16(&r), ==, 0);	/* Version */
	g_assert_cmpuint(mapi_rd_u16(&r), ==, 0x0004);	/* Last */
	size = mapi_rd_u16(&r);
	g_assert_cmpuint(mapi_rd_u16(&r), ==, size);	/* SizeActual */
	g_assert_cmpuint(rop_buffer_size, ==, 8u + size);
	rops = mapi_rd_sub(&r, size);
	rop_size = mapi_rd_u16(&rops);
	g_assert_cmpuint(mapi_rd_u8(&rops), ==, 0x4E);	/* RopId */
	g_assert_cmpuint(mapi_rd_u8(&rops), ==, 0);	/* InputHandleIndex */
	g_assert_cmpuint(mapi_rd_u32(&rops), ==, 0);	/* ReturnValue */
	g_assert_cmpuint(mapi_rd_u16(&rops), ==, last ? 0x0003 : 0x0001);
	(void)mapi_rd_u16(&rops);			/* InProgressCount */
	(void)mapi_rd_u16(&rops);			/* TotalStepCount */
	g_assert_cmpuint(mapi_rd_u8(&rops), ==, 0);	/* Reserved */
	n = mapi_rd_u16(&rops);				/* TransferBufferSize */
	g_assert_cmpuint(n, <=, FX_BUFFER_CAP);
	g_assert_cmpuint(rop_size, ==, 2u + 15u + n);
	*buf_r = mapi_rd_bytes(&rops, n);
	*len_r = n;
	g_assert_cmpuint(mapi_rd_u32(&rops), ==, 2);	/* the sync handle */
	g_assert_cmpint(mapi_rd_error(&rops), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&rops), ==, 0);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);	/* AuxiliaryBufferSize */
	g_assert_cmpint(mapi_rd_error(&r), ==, 0);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);
}

static void stream_load(struct stream *s)
{
	size_t i;

	s->t = mapi_trace_load("08-ics");
	s->all = g_byte_array_new();
	for (i = 0; i < N_BUFFERS; i++) {
		const struct mapi_trace_exchange *x =
			mapi_trace_at(s->t, FIRST_BUFFER + i);

		g_assert_true(g_str_has_prefix(x->step,
			"Execute: FastTransferSourceGetBuffer"));
		read_get_buffer(x, i == N_BUFFERS - 1, &s->piece[i],
				&s->piece_len[i]);
		g_byte_array_append(s->all, s->piece[i], (guint)s->piece_len[i]);
	}
}

static void stream_free(struct stream *s)
{
	g_byte_array_unref(s->all);
	mapi_trace_free(s->t);
}

static JsonObject *summary(const struct stream *s)
{
	return json_object_get_object_member(mapi_trace_root(s->t), "summary");
}

/* What a run of the reader saw: the writer's copy of every element, the
 * offsets where elements begin, and the builder fed alongside. */
struct seen {
	GByteArray *out;
	GArray *offsets;		/* uint64_t */
	GHashTable *markers;		/* tag -> count */
	GPtrArray *meta;		/* events kept: struct mapi_fx_event */
	struct mapi_fx_sync *sync;
};

static void seen_init(struct seen *w)
{
	w->out = g_byte_array_new();
	w->offsets = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	w->markers = g_hash_table_new(NULL, NULL);
	w->meta = g_ptr_array_new();
	w->sync = mapi_fx_sync_new();
}

static void seen_clear(struct seen *w)
{
	size_t i;

	g_byte_array_unref(w->out);
	g_array_unref(w->offsets);
	g_hash_table_unref(w->markers);
	for (i = 0; i < w->meta->len; i++) {
		struct mapi_fx_event *ev = g_ptr_array_index(w->meta, i);

		mapi_value_clear(&ev->value);
		g_free(ev);
	}
	g_ptr_array_unref(w->meta);
	mapi_fx_sync_free(&w->sync);
}

static bool is_meta(uint32_t tag)
{
	return tag == MAPI_FX_META_DEL_PROP ||
	       tag == MAPI_FX_META_IDSET_GIVEN_WIRE ||
	       tag == MAPI_FX_META_CNSET_SEEN ||
	       tag == MAPI_FX_META_CNSET_SEEN_FAI ||
	       tag == MAPI_FX_META_CNSET_READ;
}

static int on_event(void *ctx, struct mapi_fx_event *ev)
{
	struct seen *w = ctx;
	gpointer key = GUINT_TO_POINTER(ev->tag);

	g_assert_cmpuint(ev->offset, ==, w->out->len);
	g_array_append_val(w->offsets, ev->offset);
	g_assert_cmpint(mapi_fx_write_event(w->out, ev), ==, 0);
	if (ev->kind == MAPI_FX_MARKER) {
		g_hash_table_insert(w->markers, key, GUINT_TO_POINTER(
			GPOINTER_TO_UINT(g_hash_table_lookup(w->markers,
							     key)) + 1));
	} else if (is_meta(ev->tag)) {
		struct mapi_fx_event *keep = g_new0(struct mapi_fx_event, 1);

		keep->tag = ev->tag;
		keep->offset = ev->offset;
		mapi_value_copy(&keep->value, &ev->value);
		g_ptr_array_add(w->meta, keep);
	}
	return mapi_fx_sync_event(w->sync, ev);
}

/* Read `len` bytes in pieces of `step` (0: the recorded buffers). */
static void read_stream(const struct stream *s, size_t step, struct seen *w,
			const GArray *boundaries)
{
	struct mapi_fx_reader *r = mapi_fx_reader_new(NULL, on_event, w);
	size_t i, at, b = 0;

	if (!step) {
		for (i = 0; i < N_BUFFERS; i++)
			g_assert_cmpint(mapi_fx_reader_feed(r, s->piece[i],
							    s->piece_len[i]),
					==, 0);
	} else {
		for (at = 0; at < s->all->len; at += step) {
			size_t n = MIN(step, s->all->len - at);

			g_assert_cmpint(mapi_fx_reader_feed(r,
				s->all->data + at, n), ==, 0);
			if (!boundaries)
				continue;
			/* idle exactly where an element ends */
			while (b < boundaries->len &&
			       g_array_index(boundaries, uint64_t, b) < at + n)
				b++;
			g_assert_cmpint(mapi_fx_reader_idle(r), ==,
				at + n == s->all->len ||
				(b < boundaries->len &&
				 g_array_index(boundaries, uint64_t, b) ==
					 at + n));
		}
	}
	g_assert_cmpuint(mapi_fx_reader_offset(r), ==, STREAM_LEN);
	g_assert_cmpint(mapi_fx_reader_finish(r), ==, 0);
	g_assert_cmpint(mapi_fx_sync_finish(w->sync), ==, 0);
	mapi_fx_reader_free(&r);
	g_assert_null(r);
}

static void test_recorded_stream(void)
{
	struct stream s;
	char *sha;
	JsonObject *sum;

	stream_load(&s);
	sum = summary(&s);
	g_assert_cmpuint(s.all->len, ==, STREAM_LEN);
	g_assert_cmpint(json_object_get_int_member(sum, "ftstream_len"), ==,
			STREAM_LEN);
	sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, s.all->data,
					  s.all->len);
	g_assert_cmpstr(sha, ==, json_object_get_string_member(
		sum, "ftstream_sha256"));
	g_assert_true(g_str_has_prefix(sha, "99040b7a"));
	g_assert_true(g_str_has_suffix(sha, "e4a61a3d"));
	g_free(sha);
	stream_free(&s);
}

/* Whole, in the recorded buffers and a byte at a time: the same elements,
 * and the writer gives back the stream byte for byte every time. */
static void test_recorded_read_write(void)
{
	struct stream s;
	struct seen whole, bufs, bytes;

	stream_load(&s);
	seen_init(&whole);
	read_stream(&s, s.all->len, &whole, NULL);
	g_assert_cmpmem(whole.out->data, whole.out->len, s.all->data,
			s.all->len);

	seen_init(&bufs);
	read_stream(&s, 0, &bufs, NULL);
	g_assert_cmpmem(bufs.out->data, bufs.out->len, s.all->data,
			s.all->len);
	g_assert_cmpmem(bufs.offsets->data, bufs.offsets->len * 8,
			whole.offsets->data, whole.offsets->len * 8);

	seen_init(&bytes);
	read_stream(&s, 1, &bytes, whole.offsets);
	g_assert_cmpmem(bytes.out->data, bytes.out->len, s.all->data,
			s.all->len);
	g_assert_cmpuint(bytes.offsets->len, ==, whole.offsets->len);

	seen_clear(&whole);
	seen_clear(&bufs);
	seen_clear(&bytes);
	stream_free(&s);
}

static char *hex(const uint8_t *p, size_t n)
{
	GString *g = g_string_new(NULL);
	size_t i;

	for (i = 0; i < n; i++)
		g_string_append_printf(g, "%02x", p[i]);
	return g_string_free(g, FALSE);
}

static uint64_t parse_hex64(const char *s)
{
	return g_ascii_strtoull(s, NULL, 16);
}

static void check_bin(const struct mapi_bin *b, const char *want)
{
	char *h = hex(b->data, b->len);

	g_assert_cmpstr(h, ==, want);
	g_free(h);
}

static void check_header(const struct mapi_fx_change *c, JsonObject *m)
{
	JsonObject *h = json_object_get_object_member(m, "header");

	g_assert_cmpint(c->offset, ==, json_object_get_int_member(m, "offset"));
	g_assert_cmpint(c->message_offset, ==,
			json_object_get_int_member(m, "IncrSyncMessage"));
	g_assert_false(c->partial);
	check_bin(&c->source_key,
		  json_object_get_string_member(h, "PidTagSourceKey"));
	check_bin(&c->change_key,
		  json_object_get_string_member(h, "PidTagChangeKey"));
	check_bin(&c->predecessors, json_object_get_string_member(
		h, "PidTagPredecessorChangeList"));
	g_assert_cmpuint(c->last_modified, ==, parse_hex64(
		json_object_get_string_member(h,
					      "PidTagLastModificationTime")));
	g_assert_cmpint(c->associated, ==,
			json_object_get_int_member(h, "PidTagAssociated"));
	g_assert_cmpuint(c->mid, ==, parse_hex64(
		json_object_get_string_member(h, "PidTagMid")));
	g_assert_cmpuint(c->size, ==,
			 json_object_get_int_member(h, "PidTagMessageSize"));
	g_assert_cmpuint(c->cn, ==, parse_hex64(
		json_object_get_string_member(h, "PidTagChangeNumber")));
	g_assert_cmpstr(mapi_props_str(&c->msg->props,
				       MAPI_TAG_ID(MAPI_TAG_SUBJECT)),
			==, json_object_get_string_member(m, "subject"));
}

/* The headers of an .eml, unfolded: what the test needs of them. */
struct eml {
	char *subject;			/* RFC 2047 B-words decoded */
	GString *rcpt;			/* To, Cc and Bcc values */
	unsigned n_rcpt;
	GBytes *pdf;			/* the base64 part after report.pdf */
};

static char *decode_subject(const char *v)
{
	const char *pre = "=?UTF-8?B?";
	gsize n;
	char *b64, *out;

	if (!g_str_has_prefix(v, pre))
		return g_strdup(v);
	b64 = g_strndup(v + strlen(pre), strlen(v) - strlen(pre) - 2);
	out = (char *)g_base64_decode(b64, &n);
	out = g_realloc(out, n + 1);
	out[n] = 0;
	g_free(b64);
	return out;
}

static void eml_load(struct eml *e, const char *name)
{
	char *rel = g_strconcat("eml/", name, NULL);
	char *path = mapi_trace_path(rel), *text, **lines;
	const char *pdf;
	gsize len;
	size_t i;

	memset(e, 0, sizeof(*e));
	g_assert_true(g_file_get_contents(path, &text, &len, NULL));
	lines = g_strsplit(text, "\r\n", -1);
	e->rcpt = g_string_new(NULL);
	for (i = 0; lines[i] && *lines[i]; i++) {
		const char *l = lines[i];

		if (g_str_has_prefix(l, "Subject: "))
			e->subject = decode_subject(l + 9);
		if (g_str_has_prefix(l, "To: ") || g_str_has_prefix(l, "Cc: ") ||
		    g_str_has_prefix(l, "Bcc: ")) {
			g_string_append(e->rcpt, l);
			for (; *l; l++)
				e->n_rcpt += *l == '@';
		}
	}
	pdf = strstr(text, "filename=\"report.pdf\"");
	if (pdf) {
		const char *b = strstr(pdf, "\r\n\r\n") + 4;
		const char *end = strstr(b, "\r\n--");
		char *b64 = g_strndup(b, (size_t)(end - b));
		guchar *raw = g_base64_decode(b64, &len);

		e->pdf = g_bytes_new_take(raw, len);
		g_free(b64);
	}
	g_strfreev(lines);
	g_free(text);
	g_free(path);
	g_free(rel);
}

static void eml_clear(struct eml *e)
{
	g_free(e->subject);
	g_string_free(e->rcpt, TRUE);
	if (e->pdf)
		g_bytes_unref(e->pdf);
}

/* The recipients of a message are the addresses its .eml names. */
static void check_recipients(const struct mapi_message *m,
			     const struct eml *e)
{
	size_t i;

	g_assert_cmpuint(m->n_recips, ==, e->n_rcpt);
	for (i = 0; i < m->n_recips; i++) {
		const char *smtp = mapi_props_str(&m->recips[i].props,
			MAPI_TAG_ID(MAPI_TAG_SMTP_ADDRESS));

		g_assert_nonnull(smtp);
		g_assert_nonnull(strstr(e->rcpt->str, smtp));
	}
}

/* The attachments: report.pdf byte for byte, logo.png, and the forwarded
 * message embedded with its own recipient.  Returns how many. */
static size_t check_attachments(const struct mapi_message *m,
				const struct eml *e, unsigned *embedded)
{
	size_t i;

	for (i = 0; i < m->n_attach; i++) {
		const struct mapi_attachment *a = &m->attach[i];
		const char *fn = mapi_props_str(&a->props, MAPI_TAG_ID(
			MAPI_TAG_ATTACH_LONG_FILENAME));
		const struct mapi_value *data = mapi_props_get_tag(
			&a->props, MAPI_TAG_ATTACH_DATA_BINARY);
		int method = mapi_props_l(&a->props, MAPI_TAG_ID(
			MAPI_TAG_ATTACH_METHOD), -1);

		if (method == MAPI_ATTACH_EMBEDDED_MSG) {
			const struct mapi_message *in = a->embedded;

			g_assert_nonnull(in);
			g_assert_cmpstr(mapi_props_str(&in->props,
				MAPI_TAG_ID(MAPI_TAG_SUBJECT)), ==,
				"Inner forwarded message");
			g_assert_cmpuint(in->n_recips, ==, 1);
			g_assert_cmpstr(mapi_props_str(&in->recips[0].props,
				MAPI_TAG_ID(MAPI_TAG_SMTP_ADDRESS)), ==,
				"bob@example.test");
			(*embedded)++;
			continue;
		}
		g_assert_cmpint(method, ==, MAPI_ATTACH_BY_VALUE);
		g_assert_null(a->embedded);
		g_assert_nonnull(data);
		if (g_strcmp0(fn, "report.pdf") == 0) {
			char *sha = g_compute_checksum_for_data(
				G_CHECKSUM_SHA256, data->v.bin.data,
				data->v.bin.len);

			g_assert_nonnull(e->pdf);
			g_assert_cmpmem(data->v.bin.data, data->v.bin.len,
					g_bytes_get_data(e->pdf, NULL),
					g_bytes_get_size(e->pdf));
			g_assert_cmpuint(data->v.bin.len, ==, 4096);
			/* as 04-read-message.json records it (the README's
			 * short form of it drops a digit) */
			g_assert_cmpstr(sha, ==, "34276f15c94f227d40f56115623278"
				"1ebcd799053792167f3196e75dadf13a9f");
			g_free(sha);
		} else {
			g_assert_cmpstr(fn, ==, "logo.png");
			g_assert_cmpmem(data->v.bin.data, 8,
					"\x89PNG\r\n\x1a\n", 8);
		}
	}
	return m->n_attach;
}

static const char *const eml_files[] = {
	"01-plain-ascii.eml", "02-utf8.eml", "03-html-only.eml",
	"04-alternative.eml", "05-attachment-pdf.eml", "06-inline-image.eml",
	"07-attached-eml.eml", "08-large.eml", "09-cc-bcc.eml",
	"10-reply.eml", "11-read.eml", "12-flagged.eml",
};

/* The eml whose subject the message has. */
static const char *eml_for(const struct mapi_message *m, struct eml *e)
{
	const char *subj = mapi_props_str(&m->props,
					  MAPI_TAG_ID(MAPI_TAG_SUBJECT));
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(eml_files); i++) {
		eml_load(e, eml_files[i]);
		if (g_strcmp0(e->subject, subj) == 0)
			return eml_files[i];
		eml_clear(e);
	}
	g_assert_not_reached();
	return NULL;
}

static void check_markers(GHashTable *seen, JsonObject *sum)
{
	static const struct { const char *name; uint32_t tag; } m[] = {
		{ "IncrSyncChg", MAPI_FX_INCR_SYNC_CHG },
		{ "IncrSyncMessage", MAPI_FX_INCR_SYNC_MESSAGE },
		{ "StartRecip", MAPI_FX_START_RECIP },
		{ "EndToRecip", MAPI_FX_END_TO_RECIP },
		{ "NewAttach", MAPI_FX_NEW_ATTACH },
		{ "StartEmbed", MAPI_FX_START_EMBED },
		{ "EndEmbed", MAPI_FX_END_EMBED },
		{ "EndAttach", MAPI_FX_END_ATTACH },
		{ "IncrSyncStateBegin", MAPI_FX_INCR_SYNC_STATE_BEGIN },
		{ "IncrSyncStateEnd", MAPI_FX_INCR_SYNC_STATE_END },
		{ "IncrSyncEnd", MAPI_FX_INCR_SYNC_END },
	};
	JsonObject *want = json_object_get_object_member(sum, "marker_counts");
	size_t i;

	g_assert_cmpuint(json_object_get_size(want), ==, G_N_ELEMENTS(m));
	g_assert_cmpuint(g_hash_table_size(seen), ==, G_N_ELEMENTS(m));
	for (i = 0; i < G_N_ELEMENTS(m); i++)
		g_assert_cmpint(GPOINTER_TO_UINT(g_hash_table_lookup(
			seen, GUINT_TO_POINTER(m[i].tag))), ==,
			json_object_get_int_member(want, m[i].name));
}

/* The meta-properties and the end, against the recording's list. */
static void check_state_and_end(const struct seen *w, JsonObject *sum)
{
	JsonArray *want = json_object_get_array_member(sum, "state_and_end");
	guint i, k = 0;

	for (i = 0; i < json_array_get_length(want); i++) {
		JsonObject *o = json_array_get_object_element(want, i);
		uint32_t tag = (uint32_t)parse_hex64(
			json_object_get_string_member(o, "tag"));
		const struct mapi_fx_event *ev;

		if (json_object_has_member(o, "marker"))
			continue;
		g_assert_cmpuint(k, <, w->meta->len);
		ev = g_ptr_array_index(w->meta, k++);
		g_assert_cmpuint(ev->tag, ==, tag);
		g_assert_cmpint(ev->offset, ==,
				json_object_get_int_member(o, "off"));
		if (tag == MAPI_FX_META_DEL_PROP) {
			g_assert_cmpint(ev->value.v.l, ==,
					json_object_get_int_member(o, "value"));
			continue;
		}
		check_bin(&ev->value.v.bin,
			  json_object_get_string_member(o, "value"));
	}
	g_assert_cmpuint(k, ==, w->meta->len);
}

static void test_recorded_sync(void)
{
	struct stream s;
	struct seen w;
	JsonObject *sum;
	JsonArray *msgs;
	size_t i, recips = 0, attach = 0;
	unsigned embedded = 0;
	const struct mapi_props *st;

	stream_load(&s);
	sum = summary(&s);
	seen_init(&w);
	read_stream(&s, 0, &w, NULL);
	msgs = json_object_get_array_member(sum, "messages");
	g_assert_cmpuint(mapi_fx_sync_n_changes(w.sync), ==, 12);
	g_assert_cmpuint(json_array_get_length(msgs), ==, 12);
	for (i = 0; i < 12; i++) {
		struct mapi_fx_change *c = mapi_fx_sync_change(w.sync, i);
		struct eml e;

		check_header(c, json_array_get_object_element(msgs, (guint)i));
		/* newest first: 12-flagged down to 01-plain-ascii */
		g_assert_cmpstr(eml_for(c->msg, &e), ==, eml_files[11 - i]);
		check_recipients(c->msg, &e);
		recips += c->msg->n_recips;
		attach += check_attachments(c->msg, &e, &embedded);
		if (c->msg->n_attach && c->msg->attach[0].embedded)
			recips += c->msg->attach[0].embedded->n_recips;
		eml_clear(&e);
	}
	g_assert_null(mapi_fx_sync_change(w.sync, 12));
	g_assert_cmpuint(recips, ==, 16);
	g_assert_cmpuint(attach, ==, 3);
	g_assert_cmpuint(embedded, ==, 1);
	/* PidTagMessageClass comes as PtypString8 though Unicode was asked */
	g_assert_nonnull(mapi_props_get_tag(&mapi_fx_sync_change(w.sync, 0)
					    ->msg->props, 0x001A001EU));
	check_markers(w.markers, sum);
	check_state_and_end(&w, sum);
	st = mapi_fx_sync_state(w.sync);
	g_assert_cmpuint(st->n, ==, 4);
	g_assert_nonnull(mapi_props_get_tag(st, MAPI_FX_META_IDSET_GIVEN));
	g_assert_cmpuint(mapi_props_get_tag(st, MAPI_FX_META_CNSET_SEEN_FAI)
			 ->v.bin.len, ==, 0);
	g_assert_cmpuint(mapi_fx_sync_deletions(w.sync)->n, ==, 0);
	g_assert_cmpuint(mapi_fx_sync_read_changes(w.sync)->n, ==, 0);
	seen_clear(&w);
	stream_free(&s);
}

/* The model the builder made, written back with the server's writers
 * (a change per message, then the state), is the recorded stream. */
static void test_recorded_rebuild(void)
{
	struct stream s;
	struct seen w;
	GByteArray *b = g_byte_array_new();
	struct mapi_fx_names names;
	const struct mapi_props *st;
	size_t i, named = 0;

	stream_load(&s);
	seen_init(&w);
	read_stream(&s, 0, &w, NULL);
	names = mapi_fx_sync_names(w.sync);
	for (i = 0; i < mapi_fx_sync_n_changes(w.sync); i++) {
		struct mapi_fx_change *c = mapi_fx_sync_change(w.sync, i);
		size_t j;

		g_assert_cmpuint(b->len, ==, c->offset);
		g_assert_cmpint(mapi_fx_write_change(b, &c->header, c->msg,
						     &names), ==, 0);
		for (j = 0; j < c->msg->props.n; j++)
			named += MAPI_TAG_ID(c->msg->props.v[j].tag) >=
				 MAPI_NAMED_MIN;
	}
	g_assert_cmpuint(named, ==, 5);
	st = mapi_fx_sync_state(w.sync);
	mapi_fx_write_state_end(b,
		&mapi_props_get_tag(st, MAPI_FX_META_IDSET_GIVEN)->v.bin,
		&mapi_props_get_tag(st, MAPI_FX_META_CNSET_SEEN)->v.bin,
		&mapi_props_get_tag(st, MAPI_FX_META_CNSET_SEEN_FAI)->v.bin,
		&mapi_props_get_tag(st, MAPI_FX_META_CNSET_READ)->v.bin);
	g_assert_cmpmem(b->data, b->len, s.all->data, s.all->len);
	/* without the names, a named property cannot be written */
	g_byte_array_set_size(b, 0);
	for (i = 0; i < mapi_fx_sync_n_changes(w.sync); i++) {
		struct mapi_fx_change *c = mapi_fx_sync_change(w.sync, i);
		int rc = mapi_fx_write_change(b, &c->header, c->msg, NULL);

		if (rc) {
			g_assert_cmpint(rc, ==, -EINVAL);
			break;
		}
	}
	g_assert_cmpuint(i, <, mapi_fx_sync_n_changes(w.sync));
	g_byte_array_unref(b);
	seen_clear(&w);
	stream_free(&s);
}

static bool in_offsets(const GArray *offs, uint64_t at)
{
	guint lo = 0, hi = offs->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		uint64_t v = g_array_index(offs, uint64_t, mid);

		if (v == at)
			return true;
		if (v < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The stream cut short: every length of the first 8 KiB and the last 400
 * bytes, and every 997th length between.  A cut inside an element fails
 * the reader; a cut between elements still fails the builder, which has
 * not seen IncrSyncEnd. */
static void test_recorded_truncated(void)
{
	struct stream s;
	struct seen whole;
	size_t len;

	stream_load(&s);
	seen_init(&whole);
	read_stream(&s, s.all->len, &whole, NULL);
	for (len = 0; len < STREAM_LEN;
	     len += len < 8192 || len > STREAM_LEN - 400 ? 1 : 997) {
		struct mapi_fx_sync *sync = mapi_fx_sync_new();
		struct mapi_fx_reader *r = mapi_fx_reader_new(
			NULL, mapi_fx_sync_event, sync);
		int rc;

		g_assert_cmpint(mapi_fx_reader_feed(r, s.all->data, len), ==,
				0);
		rc = mapi_fx_reader_finish(r);
		if (!in_offsets(whole.offsets, len))
			g_assert_cmpint(rc, ==, -EBADMSG);
		g_assert_true(rc != 0 || mapi_fx_sync_finish(sync) != 0);
		/* the failure stays */
		if (rc)
			g_assert_cmpint(mapi_fx_reader_feed(r, s.all->data + len,
							    1), ==, rc);
		mapi_fx_reader_free(&r);
		mapi_fx_sync_free(&sync);
	}
	seen_clear(&whole);
	stream_free(&s);
}

/* A client takes each change as soon as it is complete: in the recorded
 * buffers, the builder never holds more than the change being read. */
static void test_recorded_take_done(void)
{
	struct stream s;
	struct mapi_fx_sync *sync = mapi_fx_sync_new();
	struct mapi_fx_reader *r = mapi_fx_reader_new(NULL, mapi_fx_sync_event,
						      sync);
	struct mapi_fx_change *c;
	JsonArray *msgs;
	size_t i, taken = 0;

	stream_load(&s);
	msgs = json_object_get_array_member(summary(&s), "messages");
	for (i = 0; i < N_BUFFERS; i++) {
		g_assert_cmpint(mapi_fx_reader_feed(r, s.piece[i],
						    s.piece_len[i]), ==, 0);
		while ((c = mapi_fx_sync_take_done(sync))) {
			check_header(c, json_array_get_object_element(
				msgs, (guint)taken++));
			mapi_fx_change_free(&c);
			g_assert_null(c);
		}
		g_assert_cmpuint(mapi_fx_sync_n_changes(sync), <=, 1);
	}
	g_assert_cmpint(mapi_fx_reader_finish(r), ==, 0);
	g_assert_cmpint(mapi_fx_sync_finish(sync), ==, 0);
	g_assert_cmpuint(taken, ==, 12);
	g_assert_null(mapi_fx_sync_take_done(sync));
	mapi_fx_reader_free(&r);
	mapi_fx_sync_free(&sync);
	stream_free(&s);
}

/* The 300 KB message's PidTagBody is the largest value: 614398 bytes of
 * UTF-16 at offset 22505.  A limit one byte short refuses it as soon as
 * its length is read, in whatever pieces it comes. */
static void test_recorded_limit(void)
{
	struct stream s;
	struct mapi_fx_limits lim = { .max_value = 614397 };
	struct seen w;
	struct mapi_fx_reader *r;
	size_t i;
	int rc = 0;

	stream_load(&s);
	seen_init(&w);
	r = mapi_fx_reader_new(&lim, on_event, &w);
	for (i = 0; i < N_BUFFERS && !rc; i++)
		rc = mapi_fx_reader_feed(r, s.piece[i], s.piece_len[i]);
	g_assert_cmpint(rc, ==, -EMSGSIZE);
	/* the tag and the length were read, not a byte of the value */
	g_assert_cmpuint(w.out->len, ==, 22505);
	g_assert_cmpint(mapi_fx_reader_finish(r), ==, -EMSGSIZE);
	mapi_fx_reader_free(&r);
	seen_clear(&w);

	lim.max_value++;
	seen_init(&w);
	r = mapi_fx_reader_new(&lim, on_event, &w);
	for (i = 0; i < N_BUFFERS; i++)
		g_assert_cmpint(mapi_fx_reader_feed(r, s.piece[i],
						    s.piece_len[i]), ==, 0);
	g_assert_cmpint(mapi_fx_reader_finish(r), ==, 0);
	g_assert_cmpuint(w.out->len, ==, STREAM_LEN);
	mapi_fx_reader_free(&r);
	seen_clear(&w);
	stream_free(&s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mapi-fx/recorded/stream", test_recorded_stream);
	g_test_add_func("/mapi-fx/recorded/read-write",
			test_recorded_read_write);
	g_test_add_func("/mapi-fx/recorded/sync", test_recorded_sync);
	g_test_add_func("/mapi-fx/recorded/rebuild", test_recorded_rebuild);
	g_test_add_func("/mapi-fx/recorded/truncated", test_recorded_truncated);
	g_test_add_func("/mapi-fx/recorded/limit", test_recorded_limit);
	g_test_add_func("/mapi-fx/recorded/take-done",
			test_recorded_take_done);
	return g_test_run();
}
