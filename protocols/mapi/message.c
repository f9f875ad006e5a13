/*
 * message.c - reading one message of a MAPI over HTTP mailbox into a
 * struct mapi_message: RopOpenMessage, its properties, the values too big
 * for a ROP answer by stream, its recipients, its attachments and the
 * messages attached to it.
 *
 * Specs: [MS-OXCMSG] 2.2.3 (RopOpenMessage, RopReadRecipients,
 * RopGetAttachmentTable, RopOpenAttachment, RopOpenEmbeddedMessage),
 * [MS-OXCPRPT] 2.2.2 and 3.2.5.1 (RopGetPropertiesSpecific, and a value
 * too big for the answer given as MAPI_E_NOT_ENOUGH_MEMORY), 2.2.9
 * (RopOpenStream, RopReadStream), [MS-OXCTABL] 2.2.2 (RopSetColumns,
 * RopQueryRows), [MS-OXCDATA] 2.8.3 (RecipientRow).
 *
 * Round trips are the cost, so each Execute carries as much as the
 * answers before it allow: the open, the properties and the first read
 * of a stream travel together; an attachment is opened with its stream
 * or attached message in one Execute.  The properties asked for are those
 * a real server (gromox) answered in tests/data/mapi-traces/04.
 *
 * Bounds: MAPIC_MESSAGE_MAX bytes read by stream for one message (-EFBIG
 * past it), MAPIC_RECIPS_MAX recipients and MAPIC_ATTACH_MAX attachments
 * per message (-EPROTO past them: a list that never ends), attached
 * messages MAPI_MAIL_MAX_EMBED deep (deeper ones are left out, as the
 * renderer leaves them out).
 */
#include "mapic-private.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "wire/mapi-mail.h"
#include "wire/mapi-tags.h"

#define NO_HANDLE 0xFFFFFFFFU
/* RopOpenMessage's CodePageId: the logon's code page. */
#define CODE_PAGE_LOGON 0x0FFF
/* Bytes asked for by one RopReadStream, and reads in one Execute: two
 * such answers fit in MaxRopOut with room to spare. */
#define READ_CHUNK 0x7000u
#define READS_PER_EXECUTE 2
/* Rows asked for by one RopQueryRows of the attachment table. */
#define ATTACH_PAGE 100

/* The message properties asked for: those gromox answered (04-read-
 * message), in its order, but PidTagBodyHtml: it shares its property id
 * with PidTagHtml, which a property bag holds once, and servers give the
 * HTML as PidTagHtml (gromox always; PidTagBodyHtml never). */
static const uint32_t msg_tags[] = {
	MAPI_TAG_MESSAGE_CLASS, MAPI_TAG_SUBJECT, MAPI_TAG_SENDER_NAME,
	MAPI_TAG_SENDER_EMAIL, MAPI_TAG_SENDER_ADDRTYPE,
	MAPI_TAG_SENDER_SMTP_ADDRESS, MAPI_TAG_DISPLAY_TO,
	MAPI_TAG_DISPLAY_CC, MAPI_TAG_DISPLAY_BCC,
	MAPI_TAG_INTERNET_MESSAGE_ID, MAPI_TAG_IN_REPLY_TO_ID,
	MAPI_TAG_INTERNET_REFERENCES, MAPI_TAG_MESSAGE_FLAGS,
	MAPI_TAG_FLAG_STATUS, MAPI_TAG_HAS_ATTACHMENTS, MAPI_TAG_MESSAGE_SIZE,
	MAPI_TAG_INTERNET_CODEPAGE, MAPI_TAG_NATIVE_BODY,
	MAPI_TAG_CLIENT_SUBMIT_TIME, MAPI_TAG_TRANSPORT_MESSAGE_HEADERS,
	MAPI_TAG_BODY, MAPI_TAG_HTML,
};

/* The attachment table's columns, as gromox answered them (04 #43). */
static const uint32_t attach_cols[] = {
	MAPI_TAG_ATTACH_NUMBER, MAPI_TAG_ATTACH_LONG_FILENAME,
	MAPI_TAG_ATTACH_FILENAME, MAPI_TAG_ATTACH_SIZE,
	MAPI_TAG_ATTACH_MIME_TAG, MAPI_TAG_ATTACH_METHOD,
	MAPI_TAG_ATTACH_CONTENT_ID, MAPI_TAG_ATTACH_FLAGS,
	MAPI_TAG_ATTACHMENT_HIDDEN, MAPI_TAG_RENDERING_POSITION,
};

/* One message being read, with what it has cost so far. */
struct reader {
	struct mapic_session *s;	/* borrowed */
	struct mapic_exec *x;		/* owned */
	uint64_t fid, mid;
	uint64_t streamed;		/* bytes read by stream */
	bool all;			/* RopGetPropertiesAll of the message */
	GArray *release;		/* owned; of uint32_t: handles done
					   with, released by the next Execute */
	struct mfs_error *e;
};

static int fail(struct reader *rd, int rc, enum mfs_err_retry retry,
		const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Fill e for message rd->mid with a sentence; returns rc. */
static int fail(struct reader *rd, int rc, enum mfs_err_retry retry,
		const char *fmt, ...)
{
	g_autofree char *who = mapic_who(rd->s->conf);
	g_autofree char *what = NULL;
	va_list ap;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return mfs_error_set(rd->e, rc, MFS_ERR_ITEM, retry,
			     "%s: message 0x%016llX of folder 0x%016llX: %s",
			     who, (unsigned long long)rd->mid,
			     (unsigned long long)rd->fid, what);
}

/* A ROP answer that could not be read (rc) or that failed (rv). */
static int bad(struct reader *rd, const char *what, int rc)
{
	return fail(rd, -EPROTO, MFS_ERR_TRANSIENT, "malformed %s answer (%s)",
		    what, g_strerror(rc < 0 ? -rc : EBADMSG));
}

static int failed(struct reader *rd, const char *what, uint32_t rv)
{
	int err = mapic_rv_to_errno(rv);

	return fail(rd, err, err == -EAGAIN ? MFS_ERR_BACKOFF
			     : err == -ESTALE ? MFS_ERR_TRANSIENT
					      : MFS_ERR_FINAL,
		    "%s failed (error 0x%08X)", what, rv);
}

/* Start an Execute, releasing what the last ones finished with. */
static void begin(struct reader *rd)
{
	mapic_exec_begin(rd->x);
	for (guint i = 0; i < rd->release->len; i++)
		mapic_exec_release(rd->x,
				   g_array_index(rd->release, uint32_t, i));
	g_array_set_size(rd->release, 0);
}

static void done_with(struct reader *rd, uint32_t handle)
{
	if (handle != NO_HANDLE)
		g_array_append_val(rd->release, handle);
}

/* After the answers of an Execute were read: its trailers. */
static int end(struct reader *rd)
{
	return mapic_exec_end(rd->x, rd->e);
}

/* ---- values by stream ---- */

/* The value of `tag` from the bytes of its stream.  Returns 0 or
 * -EPROTO for bytes that are not what the type says. */
static int stream_value(uint32_t tag, const GByteArray *b,
			struct mapi_value *v)
{
	size_t len = b->len;

	memset(v, 0, sizeof(*v));
	v->tag = tag;
	switch (MAPI_TAG_TYPE(tag)) {
	case MAPI_PT_UNICODE:
		if (len % 2)
			return -EPROTO;
		/* the stream holds the terminating NUL */
		while (len >= 2 && !b->data[len - 1] && !b->data[len - 2])
			len -= 2;
		v->v.str = g_convert((const char *)b->data, (gssize)len,
				     "UTF-8", "UTF-16LE", NULL, NULL, NULL);
		return v->v.str ? 0 : -EPROTO;
	case MAPI_PT_STRING8:
		while (len > 0 && !b->data[len - 1])
			len--;
		if (memchr(b->data, 0, len))
			return -EPROTO;
		v->v.str = g_strndup((const char *)b->data, len);
		return 0;
	case MAPI_PT_BINARY:
		v->v.bin.len = (uint32_t)len;
		v->v.bin.data = len ? g_memdup2(b->data, len) : NULL;
		return 0;
	default:
		return -EPROTO;
	}
}

/*
 * Read the RopReadStream answers of one Execute into `out`.  *end_r: the
 * stream said it has no more.  Returns 0 or -errno.
 */
static int take_reads(struct reader *rd, unsigned n, uint32_t size,
		      GByteArray *out, bool *end_r)
{
	for (unsigned i = 0; i < n; i++) {
		struct rop_read_stream_resp r;
		int rc = rop_read_stream_resp_read(mapic_exec_rd(rd->x), &r);

		if (rc < 0)
			return bad(rd, "ReadStream", rc);
		if (r.head.rv)
			return failed(rd, "ReadStream", r.head.rv);
		if (r.len == 0) {
			*end_r = true;
			continue;
		}
		if (*end_r || (uint64_t)out->len + r.len > size)
			return fail(rd, -EPROTO, MFS_ERR_TRANSIENT, "a stream "
				    "gave more than the %u bytes it said it "
				    "holds", size);
		g_byte_array_append(out, r.data, r.len);
	}
	if (out->len == size)
		*end_r = true;
	return 0;
}

static void write_reads(struct reader *rd, uint8_t slot, uint32_t left)
{
	for (unsigned i = 0; i < READS_PER_EXECUTE; i++) {
		uint32_t want = MIN(left, READ_CHUNK);
		struct rop_read_stream_req q = {
			.input_handle_index = slot,
			.byte_count = (uint16_t)(want ? want : 1),
		};
		rop_read_stream_req_write(mapic_exec_buf(rd->x), &q);
		left -= want;
	}
}

/*
 * The value `tag` of the object `obj` by RopOpenStream and RopReadStream
 * to its end, put into `props`.  With attach_num >= 0, `obj` is a
 * message and the stream is that of its attachment attach_num, opened in
 * the same Execute (its handle then in *attach_r).  A stream the object
 * does not have (MAPI_E_NOT_FOUND) leaves `props` as it is.
 */
static int read_stream(struct reader *rd, uint32_t obj, int64_t attach_num,
		       uint32_t tag, struct mapi_props *props,
		       uint32_t *attach_r)
{
	g_autoptr(GByteArray) data = g_byte_array_new();
	struct mapic_exec *x = rd->x;
	struct rop_open_stream_resp os;
	uint8_t in, a_slot = 0, st_slot;
	uint32_t stream, size;
	uint64_t reads = 0, reads_max;
	bool at_end = false;
	struct mapi_value v;
	int rc;

	begin(rd);
	in = mapic_exec_in(x, obj);
	if (attach_num >= 0) {
		a_slot = mapic_exec_out(x);
		rop_open_attachment_req_write(mapic_exec_buf(x),
			&(struct rop_open_attachment_req){
				.input_handle_index = in,
				.output_handle_index = a_slot,
				.open_flags = ROP_OPEN_READ_ONLY,
				.attach_num = (uint32_t)attach_num });
		in = a_slot;
	}
	st_slot = mapic_exec_out(x);
	rop_open_stream_req_write(mapic_exec_buf(x),
		&(struct rop_open_stream_req){ .input_handle_index = in,
			.output_handle_index = st_slot, .tag = tag,
			.open_mode = ROP_STREAM_READ_ONLY });
	write_reads(rd, st_slot, MAPIC_MESSAGE_MAX);
	rc = mapic_exec_run(x, rd->e);
	if (rc < 0)
		return rc;
	if (attach_num >= 0) {
		struct rop_attach_resp ar;
		rc = rop_open_attachment_resp_read(mapic_exec_rd(x), &ar);
		if (rc < 0)
			return bad(rd, "OpenAttachment", rc);
		if (ar.head.rv)
			return failed(rd, "OpenAttachment", ar.head.rv);
		*attach_r = mapic_exec_handle(x, a_slot);
	}
	rc = rop_open_stream_resp_read(mapic_exec_rd(x), &os);
	if (rc < 0)
		return bad(rd, "OpenStream", rc);
	if (os.head.rv == MAPI_E_NOT_FOUND)
		return 0;	/* the reads failed with it; nothing to take */
	if (os.head.rv)
		return failed(rd, "OpenStream", os.head.rv);
	size = os.stream_size;
	stream = mapic_exec_handle(x, st_slot);
	if (size > MAPIC_MESSAGE_MAX - MIN(rd->streamed, MAPIC_MESSAGE_MAX))
		return fail(rd, -EFBIG, MFS_ERR_FINAL, "larger than %u bytes, "
			    "the most a message may be", MAPIC_MESSAGE_MAX);
	g_byte_array_set_size(data, 0);
	rc = take_reads(rd, READS_PER_EXECUTE, size, data, &at_end);
	if (rc < 0)
		return rc;
	rc = end(rd);
	if (rc < 0)
		return rc;
	/* a server may give less than asked; not endlessly little */
	reads_max = size / 512 + 64;
	while (!at_end) {
		if (++reads > reads_max)
			return fail(rd, -EPROTO, MFS_ERR_TRANSIENT, "a stream "
				    "of %u bytes still not read whole after "
				    "%llu reads", size,
				    (unsigned long long)reads);
		begin(rd);
		write_reads(rd, mapic_exec_in(x, stream), size - data->len);
		rc = mapic_exec_run(x, rd->e);
		if (rc < 0)
			return rc;
		rc = take_reads(rd, READS_PER_EXECUTE, size, data, &at_end);
		if (rc < 0)
			return rc;
		rc = end(rd);
		if (rc < 0)
			return rc;
	}
	if (data->len != size)
		return fail(rd, -EPROTO, MFS_ERR_TRANSIENT, "a stream ended "
			    "after %u of its %u bytes", data->len, size);
	done_with(rd, stream);
	rd->streamed += size;
	rc = stream_value(tag, data, &v);
	if (rc < 0) {
		mapi_value_clear(&v);
		return fail(rd, -EPROTO, MFS_ERR_TRANSIENT, "the stream of "
			    "property 0x%08X is not of its type", tag);
	}
	mapi_props_take(props, &v);
	return 0;
}

/* ---- properties, recipients ---- */

/*
 * The values of a GetPropertiesSpecific row into `props`; the tags whose
 * value was too big for the answer into `big` (to be read by stream),
 * the other errors (not found) left out.
 */
static void take_row(struct mapi_row *row, const uint32_t *tags, size_t n,
		     struct mapi_props *props, GArray *big)
{
	for (size_t i = 0; i < row->props.n; i++) {
		struct mapi_value *v = &row->props.v[i];

		if (MAPI_TAG_TYPE(v->tag) != MAPI_PT_ERROR) {
			mapi_props_take(props, v);
			continue;
		}
		if (v->v.err != MAPI_E_NOT_ENOUGH_MEMORY || !big)
			continue;
		for (size_t k = 0; k < n; k++)
			if (MAPI_TAG_ID(tags[k]) == MAPI_TAG_ID(v->tag)) {
				g_array_append_val(big, tags[k]);
				break;
			}
	}
}

/* A recipient's string as UTF-8: as it is with ROP_RECIP_U, else from
 * the recipient's code page.  Caller owns the result. */
static char *recip_str(const char *s, uint16_t flags, uint16_t code_page)
{
	const char *cs;
	char *u;

	if (!s)
		return NULL;
	if (flags & ROP_RECIP_U)
		return g_strdup(s);
	cs = mapi_mail_cp_charset(code_page);
	u = g_convert(s, -1, "UTF-8", cs ? cs : "WINDOWS-1252", NULL, NULL,
		      NULL);
	return u ? u : g_convert(s, -1, "UTF-8", "ISO-8859-1", NULL, NULL,
				 NULL);
}

static void set_owned_str(struct mapi_props *p, uint32_t tag, char *s)
{
	if (s)
		mapi_props_set_str(p, tag, s);
	g_free(s);
}

/* A RecipientRow as the properties of a recipient (MS-OXCDATA 2.8.3). */
static void take_recip(struct mapi_message *m, struct rop_recip *rc)
{
	struct mapi_recipient *r = mapi_message_add_recip(m);
	struct rop_recip_row *row = &rc->row;
	uint16_t f = row->flags, type = f & ROP_RECIP_TYPE_MASK;
	uint16_t cp = rc->code_page;
	const char *atype = type == ROP_RECIP_SMTP ? "SMTP"
			    : type == ROP_RECIP_X500DN ? "EX" : NULL;
	char *email;

	take_row(&row->props, NULL, 0, &r->props, NULL);
	mapi_props_set_l(&r->props, MAPI_TAG_RECIPIENT_TYPE, rc->recip_type);
	if (f & ROP_RECIP_D)
		set_owned_str(&r->props, MAPI_TAG_DISPLAY_NAME,
			      recip_str(row->display_name, f, cp));
	if (!atype && type == ROP_RECIP_NOTYPE && (f & ROP_RECIP_O))
		set_owned_str(&r->props, MAPI_TAG_ADDRTYPE,
			      recip_str(row->addr_type, f, cp));
	else if (atype)
		mapi_props_set_str(&r->props, MAPI_TAG_ADDRTYPE, atype);
	email = type == ROP_RECIP_X500DN ? recip_str(row->x500dn, f, cp)
		: (f & ROP_RECIP_E) ? recip_str(row->email, f, cp) : NULL;
	if (type == ROP_RECIP_SMTP && email &&
	    !mapi_props_get(&r->props, MAPI_TAG_ID(MAPI_TAG_SMTP_ADDRESS)))
		mapi_props_set_str(&r->props, MAPI_TAG_SMTP_ADDRESS, email);
	set_owned_str(&r->props, MAPI_TAG_EMAIL_ADDRESS, email);
}

/* The recipients past those RopOpenMessage carried, by RopReadRecipients
 * from row `have` on until `count` are there. */
static int read_recipients(struct reader *rd, uint32_t msg,
			   const struct rop_msg_info *info,
			   struct mapi_message *m)
{
	size_t have = info->n_rows;

	if (info->recip_count > MAPIC_RECIPS_MAX)
		return fail(rd, -EPROTO, MFS_ERR_FINAL, "%u recipients, more "
			    "than the %u taken", info->recip_count,
			    MAPIC_RECIPS_MAX);
	while (have < info->recip_count) {
		struct rop_read_recipients_resp r = { 0 };
		int rc;

		begin(rd);
		rop_read_recipients_req_write(mapic_exec_buf(rd->x),
			&(struct rop_read_recipients_req){
				.input_handle_index = mapic_exec_in(rd->x, msg),
				.row_id = (uint32_t)have });
		rc = mapic_exec_run(rd->x, rd->e);
		if (rc < 0)
			return rc;
		rc = rop_read_recipients_resp_read(mapic_exec_rd(rd->x), &r,
						   info->cols, info->n_cols);
		if (rc < 0)
			return bad(rd, "ReadRecipients", rc);
		if (r.head.rv || r.n_rows == 0) {
			uint32_t rv = r.head.rv;
			rop_read_recipients_resp_clear(&r);
			if (!rv)
				return fail(rd, -EPROTO, MFS_ERR_TRANSIENT,
					    "%zu of its %u recipients given",
					    have, info->recip_count);
			return failed(rd, "ReadRecipients", rv);
		}
		for (size_t i = 0; i < r.n_rows && have < info->recip_count;
		     i++, have++)
			take_recip(m, &r.rows[i]);
		rop_read_recipients_resp_clear(&r);
		rc = end(rd);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- attachments ---- */

static int read_object(struct reader *rd, uint32_t msg,
		       struct rop_msg_info *info, struct mapi_row *row,
		       struct mapi_message *m, unsigned depth);

/* The rows of the message's attachment table into m's attachments. */
static int attach_table(struct reader *rd, uint32_t msg,
			struct mapi_message *m)
{
	struct mapic_exec *x = rd->x;
	uint8_t t_slot = 0;
	uint32_t table = NO_HANDLE;
	int rc;

	for (;;) {
		struct rop_query_rows_resp qr = { 0 };
		struct rop_query_rows_req qq = { .forward_read = 1,
						 .row_count = ATTACH_PAGE };

		begin(rd);
		if (table == NO_HANDLE) {
			struct rop_set_columns_req sc = {
				.n_cols = G_N_ELEMENTS(attach_cols),
				.cols = (uint32_t *)attach_cols,
			};
			t_slot = mapic_exec_out(x);
			rop_get_attachment_table_req_write(mapic_exec_buf(x),
				&(struct rop_get_attachment_table_req){
					.input_handle_index =
						mapic_exec_in(x, msg),
					.output_handle_index = t_slot,
					.table_flags = ROP_TABLE_USE_UNICODE });
			sc.input_handle_index = t_slot;
			rop_set_columns_req_write(mapic_exec_buf(x), &sc);
			qq.input_handle_index = t_slot;
		} else {
			qq.input_handle_index = mapic_exec_in(x, table);
		}
		rop_query_rows_req_write(mapic_exec_buf(x), &qq);
		rc = mapic_exec_run(x, rd->e);
		if (rc < 0)
			return rc;
		if (table == NO_HANDLE) {
			struct rop_attach_resp ar;
			struct rop_table_status_resp ts;
			rc = rop_get_attachment_table_resp_read(
				mapic_exec_rd(x), &ar);
			if (rc < 0)
				return bad(rd, "GetAttachmentTable", rc);
			if (ar.head.rv)
				return failed(rd, "GetAttachmentTable",
					      ar.head.rv);
			table = mapic_exec_handle(x, t_slot);
			rc = rop_set_columns_resp_read(mapic_exec_rd(x), &ts);
			if (rc < 0)
				return bad(rd, "SetColumns", rc);
			if (ts.head.rv)
				return failed(rd, "SetColumns", ts.head.rv);
		}
		rc = rop_query_rows_resp_read(mapic_exec_rd(x), &qr,
					      attach_cols,
					      G_N_ELEMENTS(attach_cols));
		if (rc < 0)
			return bad(rd, "QueryRows", rc);
		if (qr.head.rv) {
			rop_query_rows_resp_clear(&qr);
			return failed(rd, "QueryRows", qr.head.rv);
		}
		if (m->n_attach + qr.row_count > MAPIC_ATTACH_MAX) {
			rop_query_rows_resp_clear(&qr);
			return fail(rd, -EPROTO, MFS_ERR_FINAL, "more than %u "
				    "attachments", MAPIC_ATTACH_MAX);
		}
		for (size_t i = 0; i < qr.row_count; i++)
			take_row(&qr.rows[i], NULL, 0,
				 &mapi_message_add_attach(m)->props, NULL);
		bool last = qr.row_count == 0 || qr.origin == 2;
		rop_query_rows_resp_clear(&qr);
		rc = end(rd);
		if (rc < 0)
			return rc;
		if (last)
			break;
	}
	done_with(rd, table);
	return 0;
}

/* An attached message: OpenAttachment, RopOpenEmbeddedMessage and its
 * properties in one Execute, then the rest of it as of any message. */
static int read_embedded(struct reader *rd, uint32_t msg, uint32_t num,
			 struct mapi_attachment *a, unsigned depth)
{
	struct mapic_exec *x = rd->x;
	struct rop_open_embedded_message_resp em = { 0 };
	struct rop_get_props_specific_resp gp = { 0 };
	struct rop_attach_resp ar;
	struct mapi_message *inner;
	uint8_t a_slot, m_slot;
	int rc;

	begin(rd);
	a_slot = mapic_exec_out(x);
	m_slot = mapic_exec_out(x);
	rop_open_attachment_req_write(mapic_exec_buf(x),
		&(struct rop_open_attachment_req){
			.input_handle_index = mapic_exec_in(x, msg),
			.output_handle_index = a_slot,
			.open_flags = ROP_OPEN_READ_ONLY, .attach_num = num });
	rop_open_embedded_message_req_write(mapic_exec_buf(x),
		&(struct rop_open_embedded_message_req){
			.input_handle_index = a_slot,
			.output_handle_index = m_slot,
			.code_page = CODE_PAGE_LOGON,
			.open_mode = ROP_OPEN_READ_ONLY });
	rop_get_props_specific_req_write(mapic_exec_buf(x),
		&(struct rop_get_props_specific_req){
			.input_handle_index = m_slot, .want_unicode = 1,
			.n_tags = G_N_ELEMENTS(msg_tags),
			.tags = (uint32_t *)msg_tags });
	rc = mapic_exec_run(x, rd->e);
	if (rc < 0)
		return rc;
	rc = rop_open_attachment_resp_read(mapic_exec_rd(x), &ar);
	if (rc < 0)
		return bad(rd, "OpenAttachment", rc);
	if (ar.head.rv)
		return failed(rd, "OpenAttachment", ar.head.rv);
	rc = rop_open_embedded_message_resp_read(mapic_exec_rd(x), &em);
	if (rc < 0)
		return bad(rd, "OpenEmbeddedMessage", rc);
	if (em.head.rv) {
		rop_open_embedded_message_resp_clear(&em);
		return failed(rd, "OpenEmbeddedMessage", em.head.rv);
	}
	rc = rop_get_props_specific_resp_read(mapic_exec_rd(x), &gp, msg_tags,
					      G_N_ELEMENTS(msg_tags));
	if (rc < 0 || gp.head.rv) {
		uint32_t rv = gp.head.rv;
		rop_open_embedded_message_resp_clear(&em);
		rop_get_props_specific_resp_clear(&gp);
		return rc < 0 ? bad(rd, "GetPropertiesSpecific", rc)
			      : failed(rd, "GetPropertiesSpecific", rv);
	}
	done_with(rd, mapic_exec_handle(x, a_slot));
	rc = end(rd);
	inner = mapi_message_new();
	if (rc == 0)
		rc = read_object(rd, mapic_exec_handle(x, m_slot), &em.msg,
				 &gp.row, inner, depth + 1);
	rop_open_embedded_message_resp_clear(&em);
	rop_get_props_specific_resp_clear(&gp);
	if (rc < 0) {
		mapi_message_free(inner);
		return rc;
	}
	a->embedded = inner;
	return 0;
}

/* Each attachment of the table: its bytes or its attached message. */
static int read_attachments(struct reader *rd, uint32_t msg,
			    struct mapi_message *m, unsigned depth)
{
	int rc = attach_table(rd, msg, m);

	for (size_t i = 0; rc == 0 && i < m->n_attach; i++) {
		struct mapi_attachment *a = &m->attach[i];
		const struct mapi_value *num = mapi_props_get_tag(&a->props,
						MAPI_TAG_ATTACH_NUMBER);
		int32_t method = mapi_props_l(&a->props,
				MAPI_TAG_ID(MAPI_TAG_ATTACH_METHOD), 0);
		uint32_t handle = NO_HANDLE;

		if (!num)
			return fail(rd, -EPROTO, MFS_ERR_TRANSIENT, "an "
				    "attachment without PidTagAttachNumber");
		if (method == MAPI_ATTACH_BY_VALUE) {
			rc = read_stream(rd, msg, (uint32_t)num->v.l,
					 MAPI_TAG_ATTACH_DATA_BINARY,
					 &a->props, &handle);
			done_with(rd, handle);
		} else if (method == MAPI_ATTACH_EMBEDDED_MSG &&
			   depth < MAPI_MAIL_MAX_EMBED) {
			rc = read_embedded(rd, msg, (uint32_t)num->v.l, a,
					   depth);
		}
	}
	return rc;
}

/*
 * The rest of an opened message `msg` (RopOpenMessage's or
 * RopOpenEmbeddedMessage's `info`, its properties in `row`) into `m`:
 * values by stream, recipients, attachments.
 */
static int read_object(struct reader *rd, uint32_t msg,
		       struct rop_msg_info *info, struct mapi_row *row,
		       struct mapi_message *m, unsigned depth)
{
	g_autoptr(GArray) big = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	int rc = 0;

	take_row(row, msg_tags, G_N_ELEMENTS(msg_tags), &m->props, big);
	for (guint i = 0; rc == 0 && i < big->len; i++)
		rc = read_stream(rd, msg, -1, g_array_index(big, uint32_t, i),
				 &m->props, NULL);
	for (size_t i = 0; rc == 0 && i < info->n_rows; i++)
		take_recip(m, &info->rows[i]);
	if (rc == 0)
		rc = read_recipients(rd, msg, info, m);
	if (rc == 0 &&
	    (mapi_props_b(&m->props, MAPI_TAG_ID(MAPI_TAG_HAS_ATTACHMENTS),
			  false) ||
	     (mapi_props_l(&m->props, MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS), 0) &
	      MAPI_MSGFLAG_HASATTACH)))
		rc = read_attachments(rd, msg, m, depth);
	done_with(rd, msg);
	return rc;
}

/* The answer of a RopGetPropertiesAll as the row read_object takes: the
 * values moved into *row (caller clears it with mapi_row_clear).
 * Returns 0 or -errno with rd->e filled. */
static int props_all(struct reader *rd, struct mapi_row *row)
{
	struct rop_get_props_all_resp ga = { 0 };
	int rc = rop_get_props_all_resp_read(mapic_exec_rd(rd->x), &ga);

	if (rc < 0 || ga.head.rv) {
		uint32_t rv = ga.head.rv;
		rop_get_props_all_resp_clear(&ga);
		return rc < 0 ? bad(rd, "GetPropertiesAll", rc)
			      : failed(rd, "GetPropertiesAll", rv);
	}
	memset(row, 0, sizeof(*row));
	row->props = ga.props;
	row->n = ga.props.n;
	return 0;
}

/* RopOpenMessage and the properties in one Execute, then the rest. */
static int read_message(struct reader *rd, struct mapi_message *m)
{
	struct mapic_exec *x = rd->x;
	struct rop_open_message_resp om = { 0 };
	struct rop_get_props_specific_resp gp = { 0 };
	uint8_t m_slot;
	int rc;

	begin(rd);
	m_slot = mapic_exec_out(x);
	rop_open_message_req_write(mapic_exec_buf(x),
		&(struct rop_open_message_req){
			.input_handle_index = mapic_exec_logon(x),
			.output_handle_index = m_slot,
			.code_page = CODE_PAGE_LOGON, .folder_id = rd->fid,
			.open_mode = ROP_OPEN_READ_ONLY,
			.message_id = rd->mid });
	if (rd->all)
		rop_get_props_all_req_write(mapic_exec_buf(x),
			&(struct rop_get_props_all_req){
				.input_handle_index = m_slot,
				.want_unicode = 1 });
	else
		rop_get_props_specific_req_write(mapic_exec_buf(x),
			&(struct rop_get_props_specific_req){
				.input_handle_index = m_slot,
				.want_unicode = 1,
				.n_tags = G_N_ELEMENTS(msg_tags),
				.tags = (uint32_t *)msg_tags });
	rc = mapic_exec_run(x, rd->e);
	if (rc < 0)
		return rc;
	rc = rop_open_message_resp_read(mapic_exec_rd(x), &om);
	if (rc < 0)
		return bad(rd, "OpenMessage", rc);
	if (om.head.rv) {
		rop_open_message_resp_clear(&om);
		return failed(rd, "OpenMessage", om.head.rv);
	}
	if (rd->all) {
		rc = props_all(rd, &gp.row);
		if (rc < 0) {
			rop_open_message_resp_clear(&om);
			return rc;
		}
	} else {
		rc = rop_get_props_specific_resp_read(mapic_exec_rd(x), &gp,
						      msg_tags,
						      G_N_ELEMENTS(msg_tags));
	}
	if (rc < 0 || gp.head.rv) {
		uint32_t rv = gp.head.rv;
		rop_open_message_resp_clear(&om);
		rop_get_props_specific_resp_clear(&gp);
		return rc < 0 ? bad(rd, "GetPropertiesSpecific", rc)
			      : failed(rd, "GetPropertiesSpecific", rv);
	}
	rc = end(rd);
	if (rc == 0)
		rc = read_object(rd, mapic_exec_handle(x, m_slot), &om.msg,
				 &gp.row, m, 0);
	rop_open_message_resp_clear(&om);
	rop_get_props_specific_resp_clear(&gp);
	return rc;
}

static int message_read(struct mapic_session *s, uint64_t fid,
			uint64_t mid, bool all, struct mapi_message **msg_r,
			struct mfs_error *e)
{
	struct reader rd = { .s = s, .fid = fid, .mid = mid, .all = all,
			     .e = e };
	struct mapi_message *m = mapi_message_new();
	int rc;

	*msg_r = NULL;
	rd.x = mapic_exec_new(s);
	rd.release = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	rc = read_message(&rd, m);
	/* what is still open goes with the batch */
	mapic_exec_free(&rd.x);
	g_array_unref(rd.release);
	if (rc < 0) {
		mapi_message_free(m);
		return rc;
	}
	*msg_r = m;
	return 0;
}

int mapic_message_read(struct mapic_session *s, uint64_t fid, uint64_t mid,
		       struct mapi_message **msg_r, struct mfs_error *e)
{
	return message_read(s, fid, mid, false, msg_r, e);
}

int mapic_message_read_all(struct mapic_session *s, uint64_t fid,
			   uint64_t mid, struct mapi_message **msg_r,
			   struct mfs_error *e)
{
	return message_read(s, fid, mid, true, msg_r, e);
}
