/*
 * write.c - a new message over MAPI over HTTP from its MAPI form (its
 * properties, recipients, attachments and attached messages), and the
 * helpers msgops.c and fldops.c share.
 *
 * Specs: [MS-OXCMSG] 2.2.3 (RopCreateMessage, RopSaveChangesMessage,
 * RopModifyRecipients, RopCreateAttachment, RopSaveChangesAttachment,
 * RopOpenEmbeddedMessage), [MS-OXCPRPT] 2.2.5 and 2.2.9
 * (RopSetProperties, RopOpenStream, RopWriteStream, RopCommitStream).
 *
 * A request travels in an Execute of at most about 32 KB, so values are
 * set in batches, and a value too big for a batch of its own goes by a
 * stream in pieces.  What tests/data/mapi-traces/05-write.json shows a
 * real server accepting is the model: the recipient columns and flags of
 * RopModifyRecipients, code page 0x0FFF, SaveFlags KeepOpenReadWrite.
 */
#include "mapic-private.h"

#include <errno.h>
#include <string.h>

#include "fileutil.h"
#include "log.h"
#include "wire/mapi-mail.h"
#include "wire/mapi-tags.h"

/* The bytes of values set by one RopSetProperties. */
#define PROPS_BATCH 0x3000u
/* A value longer than this (as sent) goes by a stream. */
#define INLINE_MAX 0x1000u
/* The bytes of one RopWriteStream. */
#define WRITE_CHUNK 0x3000u
/* Recipient rows of one RopModifyRecipients. */
#define RECIPS_BATCH 32u
/* The code page that asks the server for its own (MS-OXCMSG 2.2.3.2). */
#define CP_SERVER 0x0FFFu
/* PidTagObjectType of a mail user. */
#define OBJECT_MAILUSER 6

int mapic_rop_check(struct mapic_exec *x, const char *what, int rc,
		    uint32_t rv, enum mfs_err_scope scope,
		    struct mfs_error *e)
{
	if (rc < 0)
		return mapic_exec_bad(x, what, rc, e);
	if (rv)
		return mapic_exec_failed(x, what, rv, scope, e);
	return 0;
}

uint8_t mapic_open_folder_add(struct mapic_exec *x, uint64_t fid)
{
	uint8_t logon = mapic_exec_logon(x), out = mapic_exec_out(x);

	rop_open_folder_req_write(mapic_exec_buf(x),
				  &(struct rop_open_folder_req){
					  .input_handle_index = logon,
					  .output_handle_index = out,
					  .folder_id = fid });
	return out;
}

int mapic_open_folder_read(struct mapic_exec *x, struct mapic_session *s,
			   uint64_t fid, struct mfs_error *e)
{
	struct rop_open_folder_resp r;
	int rc = rop_open_folder_resp_read(mapic_exec_rd(x), &r);
	uint32_t rv = rc < 0 ? 0 : r.head.rv;

	if (rc == 0)
		rop_open_folder_resp_clear(&r);
	if (rc == 0 && mapic_rv_to_errno(rv) == -ENOENT) {
		g_autofree char *who = mapic_who(s->conf);
		return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s: folder 0x%016" G_GINT64_MODIFIER
				     "X not found", who, (guint64)fid);
	}
	return mapic_rop_check(x, "OpenFolder", rc, rv, MFS_ERR_FOLDER, e);
}

int mapic_message_parse_fd(int fd, size_t max, struct mapi_message **m_r,
			   struct mfs_error *e)
{
	g_autofree char *buf = NULL;
	size_t len = 0;
	int rc = file_read_head(fd, max + 1, &buf, &len);

	*m_r = NULL;
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "reading the new message: %s",
				     g_strerror(-rc));
	if (len > max)
		return mfs_error_set(e, -EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "the new message is over %zu bytes", max);
	if ((rc = mapi_mail_parse(buf, len, m_r)) < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "the new message has no header");
	return 0;
}

/* ---- properties ---- */

/* Whether the server takes `v` from a client: computed and identifying
 * properties are its own, and objects travel by their own ROPs.  Named
 * properties go with the ids the message holds, which are the mailbox's
 * (mapi_mail_parse makes none; a contact or an appointment has the ids
 * RopGetPropertyIdsFromNames gave, pim.c). */
static bool settable(const struct mapi_value *v)
{
	static const uint32_t own[] = {
		MAPI_TAG_MESSAGE_SIZE, MAPI_TAG_HAS_ATTACHMENTS,
		MAPI_TAG_ATTACH_SIZE, MAPI_TAG_ATTACH_NUMBER, MAPI_TAG_MID,
		MAPI_TAG_FOLDER_ID, MAPI_TAG_CHANGE_KEY, MAPI_TAG_SOURCE_KEY,
		MAPI_TAG_PREDECESSOR_CHANGE_LIST, MAPI_TAG_ENTRYID,
		MAPI_TAG_RECORD_KEY, MAPI_TAG_INSTANCE_KEY, MAPI_TAG_ROWID,
		MAPI_TAG_CHANGE_NUMBER, MAPI_TAG_PARENT_SOURCE_KEY,
	};
	uint16_t type = MAPI_TAG_TYPE(v->tag);

	if (MAPI_TAG_ID(v->tag) == 0xFFFF || type == MAPI_PT_ERROR ||
	    type == MAPI_PT_OBJECT || type == MAPI_PT_NULL ||
	    type == MAPI_PT_UNSPECIFIED || !mapi_ptype_known(type & 0x0FFF))
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(own); i++)
		if (MAPI_TAG_ID(own[i]) == MAPI_TAG_ID(v->tag))
			return false;
	return true;
}

/* The bytes a stream of `v` holds: strings with their terminating NUL,
 * as the server gives them back.  NULL for a type no stream carries. */
static GByteArray *stream_bytes(const struct mapi_value *v)
{
	GByteArray *b = NULL;

	switch (MAPI_TAG_TYPE(v->tag)) {
	case MAPI_PT_BINARY:
		b = g_byte_array_sized_new(v->v.bin.len);
		g_byte_array_append(b, v->v.bin.data, v->v.bin.len);
		return b;
	case MAPI_PT_STRING8:
		b = g_byte_array_new();
		g_byte_array_append(b, (const guint8 *)v->v.str,
				    strlen(v->v.str) + 1);
		return b;
	case MAPI_PT_UNICODE: {
		glong n = 0;
		gunichar2 *w = g_utf8_to_utf16(v->v.str, -1, NULL, &n, NULL);
		if (!w)
			return NULL;
		b = g_byte_array_sized_new((guint)(n + 1) * 2);
		for (glong i = 0; i <= n; i++) {
			guint8 le[2] = { w[i] & 0xFF, w[i] >> 8 };
			g_byte_array_append(b, le, 2);
		}
		g_free(w);
		return b;
	}
	default:
		return NULL;
	}
}

/* A big value of object `obj` by OpenStream(create), WriteStream in
 * pieces and CommitStream. */
static int put_stream(struct mapic_exec *x, uint32_t obj, uint32_t tag,
		      const GByteArray *data, struct mfs_error *e)
{
	struct rop_open_stream_resp os;
	uint32_t sh;
	int rc;

	mapic_exec_begin(x);
	uint8_t st = mapic_exec_out(x);
	rop_open_stream_req_write(mapic_exec_buf(x),
				  &(struct rop_open_stream_req){
					  .input_handle_index =
						  mapic_exec_in(x, obj),
					  .output_handle_index = st,
					  .tag = tag,
					  .open_mode = ROP_STREAM_CREATE });
	if ((rc = mapic_exec_run(x, e)) < 0)
		return rc;
	rc = rop_open_stream_resp_read(mapic_exec_rd(x), &os);
	if ((rc = mapic_rop_check(x, "OpenStream", rc, rc < 0 ? 0
				  : os.head.rv, MFS_ERR_ITEM, e)) < 0 ||
	    (rc = mapic_exec_end(x, e)) < 0)
		return rc;
	sh = mapic_exec_handle(x, st);
	for (guint at = 0; at < data->len;) {
		struct rop_write_stream_resp ws;
		uint16_t len = (uint16_t)MIN(data->len - at, WRITE_CHUNK);

		mapic_exec_begin(x);
		rop_write_stream_req_write(mapic_exec_buf(x),
					   &(struct rop_write_stream_req){
						   .input_handle_index =
							   mapic_exec_in(x, sh),
						   .len = len,
						   .data = data->data + at });
		if ((rc = mapic_exec_run(x, e)) < 0)
			return rc;
		rc = rop_write_stream_resp_read(mapic_exec_rd(x), &ws);
		if ((rc = mapic_rop_check(x, "WriteStream", rc, rc < 0 ? 0
					  : ws.head.rv, MFS_ERR_ITEM, e)) < 0 ||
		    (rc = mapic_exec_end(x, e)) < 0)
			return rc;
		if (ws.written == 0 || ws.written > len)
			return mapic_exec_bad(x, "WriteStream", -EPROTO, e);
		at += ws.written;
	}
	struct rop_commit_stream_resp cs;
	mapic_exec_begin(x);
	rop_commit_stream_req_write(mapic_exec_buf(x), &(struct rop_stream_req){
		.input_handle_index = mapic_exec_in(x, sh) });
	mapic_exec_release(x, sh);
	if ((rc = mapic_exec_run(x, e)) < 0)
		return rc;
	rc = rop_commit_stream_resp_read(mapic_exec_rd(x), &cs);
	if ((rc = mapic_rop_check(x, "CommitStream", rc, rc < 0 ? 0
				  : cs.head.rv, MFS_ERR_ITEM, e)) < 0)
		return rc;
	return mapic_exec_end(x, e);
}

/* One RopSetProperties of `batch` on `obj` (emptied after). */
static int put_batch(struct mapic_exec *x, uint32_t obj,
		     struct mapi_props *batch, struct mfs_error *e)
{
	struct rop_problems_resp pr;
	int rc;

	mapic_exec_begin(x);
	rc = rop_set_props_req_write(mapic_exec_buf(x),
				     &(struct rop_set_props_req){
					     .input_handle_index =
						     mapic_exec_in(x, obj),
					     .props = *batch });
	mapi_props_clear(batch);
	if (rc < 0)
		return mfs_error_set(e, -EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "a property of the new message cannot "
				     "be written (%s)", g_strerror(-rc));
	if ((rc = mapic_exec_run(x, e)) < 0)
		return rc;
	rc = rop_set_props_resp_read(mapic_exec_rd(x), &pr);
	if ((rc = mapic_rop_check(x, "SetProperties", rc, rc < 0 ? 0
				  : pr.head.rv, MFS_ERR_ITEM, e)) < 0)
		return rc;
	/* a property the server would not take is left out, as a server
	 * leaves out what it does not keep */
	for (size_t i = 0; i < pr.n_problems; i++)
		log_debug(LOG_PROTO, "mapi: SetProperties: 0x%08X refused "
			  "(0x%08X)", pr.problems[i].tag, pr.problems[i].err);
	rop_problems_resp_clear(&pr);
	return mapic_exec_end(x, e);
}

/* The settable properties of `p` on object `obj`. */
static int put_props(struct mapic_exec *x, uint32_t obj,
		     const struct mapi_props *p, struct mfs_error *e)
{
	struct mapi_props batch = { 0 };
	g_autoptr(GByteArray) tmp = g_byte_array_new();
	size_t used = 0;
	int rc = 0;

	for (size_t i = 0; i < p->n && rc == 0; i++) {
		const struct mapi_value *v = &p->v[i];
		struct mapi_value copy;

		if (!settable(v))
			continue;
		g_byte_array_set_size(tmp, 0);
		if (mapi_tagged_pv_write(tmp, v, 0) < 0) {
			log_debug(LOG_PROTO, "mapi: 0x%08X not sent: no wire "
				  "form", v->tag);
			continue;
		}
		if (tmp->len > INLINE_MAX) {
			g_autoptr(GByteArray) data = stream_bytes(v);
			if (data) {
				rc = put_stream(x, obj, v->tag, data, e);
				continue;
			}
			if (tmp->len > PROPS_BATCH) {
				rc = mfs_error_set(e, -EFBIG, MFS_ERR_ITEM,
						   MFS_ERR_FINAL, "property "
						   "0x%08X is too big to send",
						   v->tag);
				break;
			}
		}
		if (used + tmp->len > PROPS_BATCH && batch.n) {
			rc = put_batch(x, obj, &batch, e);
			used = 0;
			if (rc < 0)
				break;
		}
		mapi_value_copy(&copy, v);
		mapi_props_take(&batch, &copy);
		used += tmp->len;
	}
	if (rc == 0 && batch.n)
		rc = put_batch(x, obj, &batch, e);
	mapi_props_clear(&batch);
	return rc;
}

/* ---- recipients and attachments ---- */

static const uint32_t recip_cols[] = {
	MAPI_TAG_OBJECT_TYPE, MAPI_TAG_DISPLAY_TYPE, MAPI_TAG_SMTP_ADDRESS,
	MAPI_TAG_RECIPIENT_DISPLAY_NAME,
};

/* The ModifyRecipientRow of `r`, as 05-write shows a server taking it:
 * an SMTP address with its display name, in UTF-16.  False for a
 * recipient without an address. */
static bool recip_row(const struct mapi_recipient *r, uint32_t row_id,
		      struct rop_recip *out)
{
	const char *addr = mapi_props_str(&r->props,
					  MAPI_TAG_ID(MAPI_TAG_SMTP_ADDRESS));
	const char *name = mapi_props_str(&r->props,
					  MAPI_TAG_ID(MAPI_TAG_DISPLAY_NAME));
	struct mapi_props bag = { 0 };

	if (!addr || !*addr)
		addr = mapi_props_str(&r->props,
				      MAPI_TAG_ID(MAPI_TAG_EMAIL_ADDRESS));
	if (!addr || !*addr)
		return false;
	if (!name || !*name)
		name = addr;
	memset(out, 0, sizeof(*out));
	out->row_id = row_id;
	out->recip_type = (uint8_t)mapi_props_l(
		&r->props, MAPI_TAG_ID(MAPI_TAG_RECIPIENT_TYPE), MAPI_TO);
	out->has_row = true;
	out->row.flags = ROP_RECIP_SMTP | ROP_RECIP_E | ROP_RECIP_D |
			 ROP_RECIP_S | ROP_RECIP_U;
	out->row.email = g_strdup(addr);
	out->row.display_name = g_strdup(name);
	mapi_props_set_l(&bag, MAPI_TAG_OBJECT_TYPE, OBJECT_MAILUSER);
	mapi_props_set_l(&bag, MAPI_TAG_DISPLAY_TYPE, 0);
	mapi_props_set_str(&bag, MAPI_TAG_SMTP_ADDRESS, addr);
	mapi_props_set_str(&bag, MAPI_TAG_RECIPIENT_DISPLAY_NAME, name);
	mapi_row_from_props(&out->row.props, recip_cols,
			    G_N_ELEMENTS(recip_cols), &bag);
	mapi_props_clear(&bag);
	return true;
}

static int put_recips(struct mapic_exec *x, uint32_t obj,
		      const struct mapi_message *m, struct mfs_error *e)
{
	size_t next = 0;
	uint32_t row_id = 0;

	while (next < m->n_recips) {
		struct rop_recip rows[RECIPS_BATCH];
		struct rop_modify_recipients_resp mr;
		size_t n = 0;
		int rc;

		for (; next < m->n_recips && n < RECIPS_BATCH; next++)
			if (recip_row(&m->recips[next], row_id, &rows[n])) {
				n++;
				row_id++;
			}
		if (n == 0)
			break;
		mapic_exec_begin(x);
		rc = rop_modify_recipients_req_write(
			mapic_exec_buf(x), &(struct rop_modify_recipients_req){
				.input_handle_index = mapic_exec_in(x, obj),
				.n_cols = G_N_ELEMENTS(recip_cols),
				.cols = (uint32_t *)recip_cols,
				.n_rows = n, .rows = rows });
		for (size_t i = 0; i < n; i++)
			rop_recip_clear(&rows[i]);
		if (rc < 0)
			return mfs_error_set(e, -EINVAL, MFS_ERR_ITEM,
					     MFS_ERR_FINAL, "a recipient of "
					     "the new message cannot be "
					     "written");
		if ((rc = mapic_exec_run(x, e)) < 0)
			return rc;
		rc = rop_modify_recipients_resp_read(mapic_exec_rd(x), &mr);
		if ((rc = mapic_rop_check(x, "ModifyRecipients", rc, rc < 0
					  ? 0 : mr.head.rv, MFS_ERR_ITEM,
					  e)) < 0 ||
		    (rc = mapic_exec_end(x, e)) < 0)
			return rc;
	}
	return 0;
}

static int put_message(struct mapic_exec *x, uint32_t obj,
		       const struct mapi_message *m, unsigned depth,
		       struct mfs_error *e);

/* SaveChangesMessage of `h` and its release; *mid_r the MID it names. */
static int save_message(struct mapic_exec *x, uint32_t h, uint64_t *mid_r,
			struct mfs_error *e)
{
	struct rop_save_changes_message_resp sr;
	int rc;

	mapic_exec_begin(x);
	uint8_t in = mapic_exec_in(x, h);
	rop_save_changes_message_req_write(mapic_exec_buf(x),
		&(struct rop_save_changes_message_req){
			.response_handle_index = in, .input_handle_index = in,
			.save_flags = ROP_SAVE_KEEP_OPEN_READ_WRITE });
	mapic_exec_release(x, h);
	if ((rc = mapic_exec_run(x, e)) < 0)
		return rc;
	rc = rop_save_changes_message_resp_read(mapic_exec_rd(x), &sr);
	if ((rc = mapic_rop_check(x, "SaveChangesMessage", rc, rc < 0 ? 0
				  : sr.head.rv, MFS_ERR_ITEM, e)) < 0)
		return rc;
	if (mid_r)
		*mid_r = sr.message_id;
	return mapic_exec_end(x, e);
}

/* The message attached to attachment `ah`, made by
 * OpenEmbeddedMessage(create). */
static int put_embedded(struct mapic_exec *x, uint32_t ah,
			const struct mapi_message *m, unsigned depth,
			struct mfs_error *e)
{
	struct rop_open_embedded_message_resp om;
	int rc;

	mapic_exec_begin(x);
	uint8_t out = mapic_exec_out(x);
	rop_open_embedded_message_req_write(mapic_exec_buf(x),
		&(struct rop_open_embedded_message_req){
			.input_handle_index = mapic_exec_in(x, ah),
			.output_handle_index = out, .code_page = CP_SERVER,
			.open_mode = ROP_OPEN_CREATE });
	if ((rc = mapic_exec_run(x, e)) < 0)
		return rc;
	rc = rop_open_embedded_message_resp_read(mapic_exec_rd(x), &om);
	uint32_t rv = rc < 0 ? 0 : om.head.rv;
	if (rc == 0)
		rop_open_embedded_message_resp_clear(&om);
	if ((rc = mapic_rop_check(x, "OpenEmbeddedMessage", rc, rv,
				  MFS_ERR_ITEM, e)) < 0 ||
	    (rc = mapic_exec_end(x, e)) < 0)
		return rc;
	uint32_t eh = mapic_exec_handle(x, out);
	if ((rc = put_message(x, eh, m, depth + 1, e)) < 0)
		return rc;
	return save_message(x, eh, NULL, e);
}

static int put_attach(struct mapic_exec *x, uint32_t msg,
		      const struct mapi_attachment *a, unsigned depth,
		      struct mfs_error *e)
{
	struct rop_create_attachment_resp cr;
	struct rop_attach_resp sr;
	int rc;

	mapic_exec_begin(x);
	uint8_t out = mapic_exec_out(x);
	rop_create_attachment_req_write(mapic_exec_buf(x),
		&(struct rop_create_attachment_req){
			.input_handle_index = mapic_exec_in(x, msg),
			.output_handle_index = out });
	if ((rc = mapic_exec_run(x, e)) < 0)
		return rc;
	rc = rop_create_attachment_resp_read(mapic_exec_rd(x), &cr);
	if ((rc = mapic_rop_check(x, "CreateAttachment", rc, rc < 0 ? 0
				  : cr.head.rv, MFS_ERR_ITEM, e)) < 0 ||
	    (rc = mapic_exec_end(x, e)) < 0)
		return rc;
	uint32_t ah = mapic_exec_handle(x, out);
	if ((rc = put_props(x, ah, &a->props, e)) < 0)
		return rc;
	if (a->embedded && depth < MAPI_MAIL_MAX_EMBED &&
	    (rc = put_embedded(x, ah, a->embedded, depth, e)) < 0)
		return rc;
	mapic_exec_begin(x);
	uint8_t in = mapic_exec_in(x, ah);
	rop_save_changes_attachment_req_write(mapic_exec_buf(x),
		&(struct rop_save_changes_attachment_req){
			.response_handle_index = in, .input_handle_index = in,
			.save_flags = ROP_SAVE_KEEP_OPEN_READ_WRITE });
	mapic_exec_release(x, ah);
	if ((rc = mapic_exec_run(x, e)) < 0)
		return rc;
	rc = rop_save_changes_attachment_resp_read(mapic_exec_rd(x), &sr);
	if ((rc = mapic_rop_check(x, "SaveChangesAttachment", rc, rc < 0
				  ? 0 : sr.head.rv, MFS_ERR_ITEM, e)) < 0)
		return rc;
	return mapic_exec_end(x, e);
}

/* Everything of `m` into the open message `obj`, but its saving. */
static int put_message(struct mapic_exec *x, uint32_t obj,
		       const struct mapi_message *m, unsigned depth,
		       struct mfs_error *e)
{
	int rc = put_props(x, obj, &m->props, e);

	if (rc == 0)
		rc = put_recips(x, obj, m, e);
	for (size_t i = 0; rc == 0 && i < m->n_attach; i++)
		rc = put_attach(x, obj, &m->attach[i], depth, e);
	return rc;
}

int mapic_message_create(struct mapic_session *s, uint64_t fid,
			 const struct mapi_message *m, uint64_t *mid_r,
			 struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(s);
	struct rop_create_message_resp cr;
	uint64_t mid = 0;
	int rc;

	*mid_r = 0;
	mapic_exec_begin(x);
	uint8_t out = mapic_exec_out(x);
	rop_create_message_req_write(mapic_exec_buf(x),
		&(struct rop_create_message_req){
			.input_handle_index = mapic_exec_logon(x),
			.output_handle_index = out, .code_page = CP_SERVER,
			.folder_id = fid, .associated = 0 });
	if ((rc = mapic_exec_run(x, e)) < 0)
		goto out;
	rc = rop_create_message_resp_read(mapic_exec_rd(x), &cr);
	if (rc == 0 && mapic_rv_to_errno(cr.head.rv) == -ENOENT) {
		g_autofree char *who = mapic_who(s->conf);
		rc = mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				   "%s: folder 0x%016" G_GINT64_MODIFIER "X "
				   "not found", who, (guint64)fid);
		goto out;
	}
	if ((rc = mapic_rop_check(x, "CreateMessage", rc, rc < 0 ? 0
				  : cr.head.rv, MFS_ERR_FOLDER, e)) < 0 ||
	    (rc = mapic_exec_end(x, e)) < 0)
		goto out;
	uint32_t mh = mapic_exec_handle(x, out);
	if ((rc = put_message(x, mh, m, 0, e)) < 0 ||
	    (rc = save_message(x, mh, &mid, e)) < 0)
		goto out;
	*mid_r = mid ? mid : cr.has_message_id ? cr.message_id : 0;
	if (*mid_r == 0)
		rc = mapic_exec_bad(x, "SaveChangesMessage", -EPROTO, e);
out:
	mapic_exec_free(&x);
	return rc;
}

