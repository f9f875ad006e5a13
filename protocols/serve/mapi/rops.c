/*
 * rops.c - the ROP buffer of an Execute: its handle table, the objects a
 * session holds, and the dispatch of each ROP to its handler.
 *
 * Specs: MS-OXCROPS 2.2.1 (the ROP buffer: RopSize, the ROPs, the
 * ServerObjectHandleTable; input and output handle indices into it),
 * 2.2.3.3 (RopRelease, which has no response), 2.2.15.1
 * (RopBufferTooSmall), 3.2.5.1 and 3.2.5.2 (what a server answers a ROP
 * it cannot run); MS-OXCRPC 3.1.4.2 (ecRpcFormat).
 *
 * A server handle is the index of the object in the session's object
 * array (small integers, as a real server hands out).  The response's
 * handle table is the request's with the output slots filled.  A ROP
 * that cannot be read (cut short, a count that lies) is answered with
 * its head and ecRpcFormat, and the ROPs after it are not run, since
 * where they start is not known; so is a ROP this server does not run
 * yet, with MAPI_E_NO_SUPPORT and a line in the log naming it.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "mapid-private.h"

#define EC_RPC_FORMAT 0x000004B6U
#define NO_HANDLE 0xFFFFFFFFU

void mapid_obj_free(struct mapid_obj *o)
{
	if (!o)
		return;
	if (o->priv_free)
		o->priv_free(o->priv);
	g_free(o->cols);
	mapid_msgobj_clear(o);
	if (o->rows)
		g_ptr_array_unref(o->rows);
	g_free(o);
}

static void obj_free(gpointer p)
{
	mapid_obj_free(p);
}

GPtrArray *mapid_objs_new(void)
{
	return g_ptr_array_new_with_free_func(obj_free);
}

struct mapid_obj *mapid_obj_at(struct mapid_rop_ctx *rc, uint8_t idx,
			       uint32_t *rv_r)
{
	uint32_t h;

	if (idx >= rc->n_handles) {
		*rv_r = MAPI_E_INVALID_PARAMETER;
		return NULL;
	}
	h = rc->handles[idx];
	if (h >= rc->sess->objs->len || !rc->sess->objs->pdata[h]) {
		*rv_r = MAPI_E_NULL_OBJECT;
		return NULL;
	}
	*rv_r = 0;
	return rc->sess->objs->pdata[h];
}

uint32_t mapid_obj_put(struct mapid_rop_ctx *rc, uint8_t idx,
		       struct mapid_obj *o)
{
	GPtrArray *objs = rc->sess->objs;
	guint h;

	if (idx >= rc->n_handles) {
		mapid_obj_free(o);
		return MAPI_E_INVALID_PARAMETER;
	}
	for (h = 0; h < objs->len && objs->pdata[h]; h++)
		;
	if (h == objs->len) {
		if (objs->len >= MAPID_OBJECTS_MAX) {
			mapid_obj_free(o);
			return MAPI_E_NOT_ENOUGH_RESOURCES;
		}
		g_ptr_array_add(objs, NULL);
	}
	objs->pdata[h] = o;
	rc->handles[idx] = h;
	return 0;
}

/* RopRelease: free the object, answer nothing. */
static int rop_release(struct mapid_rop_ctx *rc, struct mapi_rd *r,
		       GByteArray *out)
{
	struct rop_release_req q;
	uint32_t rv;
	int err = rop_release_req_read(r, &q);

	(void)out;
	if (err < 0)
		return err;
	if (mapid_obj_at(rc, q.input_handle_index, &rv)) {
		uint32_t h = rc->handles[q.input_handle_index];
		struct mapid_obj *o = rc->sess->objs->pdata[h];

		/* a stream written and released uncommitted keeps its
		 * bytes, as a real server's does */
		if (o->wbuf)
			mapid_stream_commit(rc->sess, o);
		mapid_obj_free(rc->sess->objs->pdata[h]);
		rc->sess->objs->pdata[h] = NULL;
	}
	return 0;
}

static const struct {
	uint8_t id;
	const char *name;
	mapid_rop_fn fn;
} rops[] = {
	{ ROP_RELEASE, "RopRelease", rop_release },
	{ ROP_LOGON, "RopLogon", mapid_rop_logon },
	{ ROP_OPEN_FOLDER, "RopOpenFolder", mapid_rop_open_folder },
	{ ROP_GET_HIERARCHY_TABLE, "RopGetHierarchyTable",
	  mapid_rop_get_hierarchy_table },
	{ ROP_GET_CONTENTS_TABLE, "RopGetContentsTable",
	  mapid_rop_get_contents_table },
	{ ROP_SET_COLUMNS, "RopSetColumns", mapid_rop_set_columns },
	{ ROP_QUERY_ROWS, "RopQueryRows", mapid_rop_query_rows },
	{ ROP_QUERY_POSITION, "RopQueryPosition", mapid_rop_query_position },
	{ ROP_SEEK_ROW, "RopSeekRow", mapid_rop_seek_row },
	/* folder-level changes: fwrite.c, fcreate.c */
	{ ROP_SET_READ_FLAGS, "RopSetReadFlags", mapid_rop_set_read_flags },
	{ ROP_DELETE_MESSAGES, "RopDeleteMessages",
	  mapid_rop_delete_messages },
	{ ROP_HARD_DELETE_MESSAGES, "RopHardDeleteMessages",
	  mapid_rop_hard_delete_messages },
	{ ROP_MOVE_COPY_MESSAGES, "RopMoveCopyMessages",
	  mapid_rop_move_copy_messages },
	{ ROP_EMPTY_FOLDER, "RopEmptyFolder", mapid_rop_empty_folder },
	{ ROP_CREATE_FOLDER, "RopCreateFolder", mapid_rop_create_folder },
	{ ROP_DELETE_FOLDER, "RopDeleteFolder", mapid_rop_delete_folder },
	{ ROP_MOVE_FOLDER, "RopMoveFolder", mapid_rop_move_folder },
	/* messages, streams, attachments: read side */
	{ ROP_OPEN_MESSAGE, "RopOpenMessage", mapid_rop_open_message },
	{ ROP_READ_RECIPIENTS, "RopReadRecipients",
	  mapid_rop_read_recipients },
	{ ROP_GET_PROPERTIES_SPECIFIC, "RopGetPropertiesSpecific",
	  mapid_rop_get_props_specific },
	{ ROP_GET_PROPERTIES_ALL, "RopGetPropertiesAll",
	  mapid_rop_get_props_all },
	{ ROP_GET_PROPERTIES_LIST, "RopGetPropertiesList",
	  mapid_rop_get_props_list },
	{ ROP_SET_MESSAGE_READ_FLAG, "RopSetMessageReadFlag",
	  mapid_rop_set_message_read_flag },
	{ ROP_OPEN_STREAM, "RopOpenStream", mapid_rop_open_stream },
	{ ROP_READ_STREAM, "RopReadStream", mapid_rop_read_stream },
	{ ROP_SEEK_STREAM, "RopSeekStream", mapid_rop_seek_stream },
	{ ROP_GET_STREAM_SIZE, "RopGetStreamSize",
	  mapid_rop_get_stream_size },
	{ ROP_GET_ATTACHMENT_TABLE, "RopGetAttachmentTable",
	  mapid_rop_get_attachment_table },
	{ ROP_OPEN_ATTACHMENT, "RopOpenAttachment",
	  mapid_rop_open_attachment },
	{ ROP_OPEN_EMBEDDED_MESSAGE, "RopOpenEmbeddedMessage",
	  mapid_rop_open_embedded_message },
	/* messages made and changed: mcreate.c, wstream.c, awrite.c */
	{ ROP_CREATE_MESSAGE, "RopCreateMessage", mapid_rop_create_message },
	{ ROP_SET_PROPERTIES, "RopSetProperties", mapid_rop_set_props },
	{ ROP_DELETE_PROPERTIES, "RopDeleteProperties",
	  mapid_rop_delete_props },
	{ ROP_MODIFY_RECIPIENTS, "RopModifyRecipients",
	  mapid_rop_modify_recipients },
	{ ROP_SAVE_CHANGES_MESSAGE, "RopSaveChangesMessage",
	  mapid_rop_save_changes_message },
	{ ROP_WRITE_STREAM, "RopWriteStream", mapid_rop_write_stream },
	{ ROP_COMMIT_STREAM, "RopCommitStream", mapid_rop_commit_stream },
	{ ROP_SET_STREAM_SIZE, "RopSetStreamSize",
	  mapid_rop_set_stream_size },
	{ ROP_CREATE_ATTACHMENT, "RopCreateAttachment",
	  mapid_rop_create_attachment },
	{ ROP_SAVE_CHANGES_ATTACHMENT, "RopSaveChangesAttachment",
	  mapid_rop_save_changes_attachment },
	/* ICS downloads and notifications (ics.c, notify.c) */
	{ ROP_SYNCHRONIZATION_CONFIGURE, "RopSynchronizationConfigure",
	  mapid_rop_sync_configure },
	{ ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_BEGIN,
	  "RopSynchronizationUploadStateStreamBegin",
	  mapid_rop_sync_upload_begin },
	{ ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_CONTINUE,
	  "RopSynchronizationUploadStateStreamContinue",
	  mapid_rop_sync_upload_continue },
	{ ROP_SYNCHRONIZATION_UPLOAD_STATE_STREAM_END,
	  "RopSynchronizationUploadStateStreamEnd",
	  mapid_rop_sync_upload_end },
	{ ROP_FAST_TRANSFER_SOURCE_GET_BUFFER,
	  "RopFastTransferSourceGetBuffer", mapid_rop_ft_get_buffer },
	{ ROP_REGISTER_NOTIFICATION, "RopRegisterNotification",
	  mapid_rop_register_notification },
	/* named properties (names.c) */
	{ ROP_GET_PROPERTY_IDS_FROM_NAMES, "RopGetPropertyIdsFromNames",
	  mapid_rop_get_prop_ids },
	{ ROP_GET_NAMES_FROM_PROPERTY_IDS, "RopGetNamesFromPropertyIds",
	  mapid_rop_get_names },
};

/* Names of the ROPs not run yet that clients send most, for the log. */
static const struct {
	uint8_t id;
	const char *name;
} names[] = {
	{ ROP_REMOVE_ALL_RECIPIENTS, "RopRemoveAllRecipients" },
	{ ROP_DELETE_ATTACHMENT, "RopDeleteAttachment" },
	{ ROP_SORT_TABLE, "RopSortTable" },
	{ ROP_RESTRICT, "RopRestrict" },
	{ ROP_FIND_ROW, "RopFindRow" },
	{ ROP_GET_RECEIVE_FOLDER, "RopGetReceiveFolder" },
	{ ROP_LONG_TERM_ID_FROM_ID, "RopLongTermIdFromId" },
	{ ROP_ID_FROM_LONG_TERM_ID, "RopIdFromLongTermId" },
	{ ROP_GET_STORE_STATE, "RopGetStoreState" },
};

static const char *rop_name(uint8_t id)
{
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (names[i].id == id)
			return names[i].name;
	return "ROP";
}

/* The head alone: RopId, the index the request has at its third byte
 * (the input or output index of nearly every ROP), ReturnValue. */
static void fail_head(GByteArray *out, const uint8_t *rop, size_t left,
		      uint32_t rv)
{
	struct rop_resp_head h = {
		.rop_id = rop[0], .handle_index = left > 2 ? rop[2] : 0,
		.rv = rv,
	};

	rop_resp_head_write(out, &h);
}

/* Long because it is the loop over the ROPs, with the three ways it
 * stops (a ROP not run, one not read, no room left) side by side. */
int mapid_rops_run(const struct serve_ctx *ctx, struct mapid_session *sess,
		   const uint8_t *in, size_t len, size_t max_out,
		   GByteArray *out)
{
	struct rop_frame f;
	struct mapid_rop_ctx rc = { .ctx = ctx, .sess = sess };
	struct mapi_rd r;
	size_t at, base;
	int err = rop_frame_read(in, len, &f);

	if (err < 0)
		return -EBADMSG;
	rc.handles = f.handles;
	rc.n_handles = f.n_handles;
	base = out->len;
	at = rop_frame_begin(out);
	mapi_rd_init(&r, f.rops, f.rops_len);
	while (mapi_rd_left(&r) > 0) {
		const uint8_t *start = f.rops + r.off;
		size_t left = mapi_rd_left(&r), mark = out->len;
		size_t used = out->len - base + 4 * f.n_handles;
		mapid_rop_fn fn = NULL;

		rc.room = max_out > used ? max_out - used : 0;
		for (size_t i = 0; i < G_N_ELEMENTS(rops); i++)
			if (rops[i].id == start[0])
				fn = rops[i].fn;
		if (!fn) {
			log_info("mapi: %s: %s (0x%02x) not supported yet",
				 sess->c.user, rop_name(start[0]), start[0]);
			fail_head(out, start, left, MAPI_E_NO_SUPPORT);
			break;
		}
		if (fn(&rc, &r, out) < 0) {
			log_info("mapi: %s: ROP 0x%02x cannot be read, "
				 "the ROPs after it are not run",
				 sess->c.user, start[0]);
			g_byte_array_set_size(out, (guint)mark);
			fail_head(out, start, left, EC_RPC_FORMAT);
			break;
		}
		if (out->len - base + 4 * f.n_handles > max_out ||
		    out->len - at > 0xFFFF) {
			/* RopBufferTooSmall: the size this response wanted
			 * and the requests not run, for the client to send
			 * again */
			size_t need = out->len - mark;
			g_byte_array_set_size(out, (guint)mark);
			mapi_wr_u8(out, ROP_BUFFER_TOO_SMALL);
			mapi_wr_u16(out, need > 0xFFFF ? 0xFFFF
						       : (uint16_t)need);
			mapi_wr_bytes(out, start, left);
			break;
		}
	}
	{
		/* the notifications of the session's registrations, in
		 * what room is left */
		size_t used = out->len - base + 4 * f.n_handles;
		size_t room = max_out > used ? max_out - used : 0;
		if (room > 0xFFFF - (out->len - at))
			room = 0xFFFF - (out->len - at);
		mapid_notify_flush(ctx, sess, out, room);
	}
	if (out->len - at > 0xFFFF)
		g_byte_array_set_size(out, (guint)(at + 2));
	rop_frame_end(out, at, f.handles, f.n_handles);
	rop_frame_clear(&f);
	return 0;
}
