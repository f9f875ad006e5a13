/*
 * fldops.c - folders made, renamed or moved, and deleted over MAPI over
 * HTTP.
 *
 * Specs: [MS-OXCFOLD] 2.2.1.2 (RopCreateFolder), 2.2.1.3
 * (RopDeleteFolder), 2.2.1.7 (RopMoveFolder), 2.2.2.2 (PidTagContentCount,
 * PidTagSubfolders), [MS-OXOCAL], [MS-OXOCNTC] (the container classes
 * IPF.Appointment, IPF.Contact), [MS-OXCPRPT] 2.2.5 (RopSetProperties).
 *
 * A folder is made as 06-folders shows a real server taking it (a
 * generic folder, its name in UTF-16, OpenExisting 0 so that a name
 * already there is a DuplicateName error), and given its container class
 * at once, as 00-setup does.  A folder is deleted only when it is empty:
 * its counts are read first, and DeleteFolder goes without
 * DEL_MESSAGES or DEL_FOLDERS, so that a folder filled meanwhile stays.
 */
#include "mapic-private.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "wire/mapi-tags.h"

/* FolderType of RopCreateFolder: a generic folder. */
#define FOLDER_GENERIC 1
/* DeleteFolderFlags: DELETE_HARD_DELETE only. */
#define DELETE_HARD 0x10
/* The number of sub-folders, [MS-OXPROPS] PidTagFolderChildCount. */
#define TAG_FOLDER_CHILD_COUNT 0x66380003U

static const char *container_class(enum mfs_folder_kind kind)
{
	switch (kind) {
	case MFS_FOLDER_CONTACTS:
		return "IPF.Contact";
	case MFS_FOLDER_CALENDAR:
		return "IPF.Appointment";
	case MFS_FOLDER_NONE:
	case MFS_FOLDER_MAIL:
	case MFS_FOLDER_OUTBOX:
		return "IPF.Note";
	default:
		return NULL;
	}
}

/* The error of a folder ROP that failed, naming the folder. */
static int folder_failed(struct mapic_exec *x, struct mapic_session *s,
			 const char *what, const char *name, uint32_t rv,
			 struct mfs_error *e)
{
	g_autofree char *who = mapic_who(s->conf);
	int err = mapic_rv_to_errno(rv);

	if (err == -EEXIST)
		return mfs_error_set(e, -EEXIST, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s: a folder named \"%s\" is already "
				     "there", who, name);
	return mapic_exec_failed(x, what, rv, MFS_ERR_FOLDER, e);
}

/* Take back a folder just made: a DeleteFolder whose outcome is only
 * logged. */
static void drop_folder(struct mapic_exec *x, uint64_t parent_fid,
			uint64_t fid)
{
	struct mfs_error e = { 0 };

	mapic_exec_begin(x);
	uint8_t parent = mapic_open_folder_add(x, parent_fid);
	rop_delete_folder_req_write(mapic_exec_buf(x),
				    &(struct rop_delete_folder_req){
					    .input_handle_index = parent,
					    .flags = DELETE_HARD,
					    .folder_id = fid });
	if (mapic_exec_run(x, &e) < 0)
		log_warnx("mapi: %s", e.msg);
}

int mapic_folder_create(struct mapic_session *s, uint64_t parent_fid,
			const char *name, enum mfs_folder_kind kind,
			uint64_t *fid_r, struct mfs_error *e)
{
	const char *cls = container_class(kind);
	struct mapic_exec *x;
	struct rop_create_folder_resp cr;
	struct rop_problems_resp pr;
	struct mapi_props props = { 0 };
	int rc;

	*fid_r = 0;
	if (!cls)
		return mfs_error_set(e, -ENOTSUP, MFS_ERR_FOLDER,
				     MFS_ERR_FINAL, "a %s folder cannot be "
				     "made on a MAPI server",
				     mfs_folder_kind_name(kind));
	x = mapic_exec_new(s);
	mapic_exec_begin(x);
	GByteArray *b = mapic_exec_buf(x);
	uint8_t parent = mapic_open_folder_add(x, parent_fid);
	uint8_t out = mapic_exec_out(x);
	rop_create_folder_req_write(b, &(struct rop_create_folder_req){
		.input_handle_index = parent, .output_handle_index = out,
		.folder_type = FOLDER_GENERIC, .use_unicode = 1,
		.open_existing = 0, .display_name = (char *)name,
		.comment = (char *)"" });
	mapi_props_set_str(&props, MAPI_TAG_CONTAINER_CLASS, cls);
	rc = rop_set_props_req_write(b, &(struct rop_set_props_req){
		.input_handle_index = out, .props = props });
	mapi_props_clear(&props);
	if (rc < 0)
		rc = mfs_error_set(e, -EINVAL, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				   "the folder name cannot be written");
	if (rc < 0 || (rc = mapic_exec_run(x, e)) < 0 ||
	    (rc = mapic_open_folder_read(x, s, parent_fid, e)) < 0)
		goto out;
	struct mapi_rd *rd = mapic_exec_rd(x);
	if ((rc = rop_create_folder_resp_read(rd, &cr)) < 0) {
		rc = mapic_exec_bad(x, "CreateFolder", rc, e);
		goto out;
	}
	uint32_t rv = cr.head.rv;
	uint64_t fid = cr.folder_id;
	rop_create_folder_resp_clear(&cr);
	if (rv) {
		rc = folder_failed(x, s, "CreateFolder", name, rv, e);
		goto out;
	}
	rc = rop_set_props_resp_read(rd, &pr);
	if (rc < 0) {
		rc = mapic_exec_bad(x, "SetProperties", rc, e);
		goto out;
	}
	bool classed = pr.head.rv == 0 && pr.n_problems == 0;
	rop_problems_resp_clear(&pr);
	if ((rc = mapic_exec_end(x, e)) < 0)
		goto out;
	/* a mail folder without its class is still one (the recorded
	 * server gives none to a folder made without it); another kind
	 * would show as mail, so it is taken back */
	if (!classed && kind != MFS_FOLDER_CONTACTS &&
	    kind != MFS_FOLDER_CALENDAR)
		log_debug(LOG_PROTO, "mapi: the server took no container "
			  "class for folder %s", name);
	else if (!classed) {
		g_autofree char *who = mapic_who(s->conf);
		drop_folder(x, parent_fid, fid);
		rc = mfs_error_set(e, -ENOTSUP, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				   "%s: the server does not take the class "
				   "%s for folder \"%s\"", who, cls, name);
		goto out;
	}
	*fid_r = fid;
out:
	mapic_exec_free(&x);
	return rc;
}

static const uint32_t count_tags[] = {
	MAPI_TAG_CONTENT_COUNT, MAPI_TAG_SUBFOLDERS,
};

/* Whether folder `fid` holds messages or folders. */
static int folder_empty(struct mapic_exec *x, struct mapic_session *s,
			uint64_t fid, bool *empty_r, struct mfs_error *e)
{
	struct rop_get_props_specific_resp gp;
	int rc;

	mapic_exec_begin(x);
	uint8_t f = mapic_open_folder_add(x, fid);
	rop_get_props_specific_req_write(mapic_exec_buf(x),
		&(struct rop_get_props_specific_req){
			.input_handle_index = f, .want_unicode = 1,
			.n_tags = G_N_ELEMENTS(count_tags),
			.tags = (uint32_t *)count_tags });
	if ((rc = mapic_exec_run(x, e)) < 0 ||
	    (rc = mapic_open_folder_read(x, s, fid, e)) < 0)
		return rc;
	rc = rop_get_props_specific_resp_read(mapic_exec_rd(x), &gp,
					      count_tags,
					      G_N_ELEMENTS(count_tags));
	if ((rc = mapic_rop_check(x, "GetPropertiesSpecific", rc, rc < 0 ? 0
				  : gp.head.rv, MFS_ERR_FOLDER, e)) < 0)
		return rc;
	/* a count the server does not give is taken as "not empty": a
	 * folder is never deleted on a guess */
	int32_t count = mapi_props_l(&gp.row.props,
				     MAPI_TAG_ID(MAPI_TAG_CONTENT_COUNT), -1);
	const struct mapi_value *sub = mapi_props_get_tag(&gp.row.props,
							  MAPI_TAG_SUBFOLDERS);
	*empty_r = count == 0 && sub && !sub->v.b;
	rop_get_props_specific_resp_clear(&gp);
	return mapic_exec_end(x, e);
}

int mapic_folder_delete(struct mapic_session *s, uint64_t parent_fid,
			uint64_t fid, struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(s);
	struct rop_partial_resp pr;
	bool empty = false;
	int rc = folder_empty(x, s, fid, &empty, e);

	if (rc == -ENOTSUP) {
		/* a server that gives no folder properties: DeleteFolder
		 * without DEL_MESSAGES and DEL_FOLDERS deletes an empty
		 * folder only, and answers PartialCompletion for another
		 * ([MS-OXCFOLD] 2.2.1.3), which is said below */
		empty = true;
		rc = 0;
	}
	if (rc < 0)
		goto out;
	if (!empty) {
		g_autofree char *who = mapic_who(s->conf);
		rc = mfs_error_set(e, -ENOTEMPTY, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				   "%s: folder 0x%016" G_GINT64_MODIFIER "X "
				   "holds messages or folders", who,
				   (guint64)fid);
		goto out;
	}
	mapic_exec_begin(x);
	uint8_t parent = mapic_open_folder_add(x, parent_fid);
	rop_delete_folder_req_write(mapic_exec_buf(x),
				    &(struct rop_delete_folder_req){
					    .input_handle_index = parent,
					    .flags = DELETE_HARD,
					    .folder_id = fid });
	if ((rc = mapic_exec_run(x, e)) < 0 ||
	    (rc = mapic_open_folder_read(x, s, parent_fid, e)) < 0)
		goto out;
	rc = rop_delete_folder_resp_read(mapic_exec_rd(x), &pr);
	if ((rc = mapic_rop_check(x, "DeleteFolder", rc, rc < 0 ? 0
				  : pr.head.rv, MFS_ERR_FOLDER, e)) < 0 ||
	    (rc = mapic_exec_end(x, e)) < 0)
		goto out;
	if (pr.partial_completion) {
		g_autofree char *who = mapic_who(s->conf);
		rc = mfs_error_set(e, -ENOTEMPTY, MFS_ERR_FOLDER,
				   MFS_ERR_FINAL, "%s: folder 0x%016"
				   G_GINT64_MODIFIER "X was not deleted: it "
				   "is no longer empty", who, (guint64)fid);
	}
out:
	mapic_exec_free(&x);
	return rc;
}

int mapic_folder_move(struct mapic_session *s, uint64_t parent_fid,
		      uint64_t fid, uint64_t dest_parent_fid,
		      const char *new_name, struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(s);
	struct rop_partial_resp pr;
	int rc;

	mapic_exec_begin(x);
	uint8_t from = mapic_open_folder_add(x, parent_fid);
	uint8_t to = dest_parent_fid == parent_fid
			     ? from : mapic_open_folder_add(x, dest_parent_fid);
	rop_move_folder_req_write(mapic_exec_buf(x),
				  &(struct rop_move_folder_req){
					  .source_handle_index = from,
					  .dest_handle_index = to,
					  .want_async = 0, .use_unicode = 1,
					  .folder_id = fid,
					  .new_name = (char *)new_name });
	if ((rc = mapic_exec_run(x, e)) < 0 ||
	    (rc = mapic_open_folder_read(x, s, parent_fid, e)) < 0 ||
	    (to != from &&
	     (rc = mapic_open_folder_read(x, s, dest_parent_fid, e)) < 0))
		goto out;
	rc = rop_move_folder_resp_read(mapic_exec_rd(x), &pr);
	if (rc == 0 && pr.head.rv) {
		rc = folder_failed(x, s, "MoveFolder", new_name, pr.head.rv, e);
		goto out;
	}
	if ((rc = mapic_rop_check(x, "MoveFolder", rc, 0, MFS_ERR_FOLDER,
				  e)) < 0 ||
	    (rc = mapic_exec_end(x, e)) < 0)
		goto out;
	if (pr.partial_completion) {
		g_autofree char *who = mapic_who(s->conf);
		rc = mfs_error_set(e, -EIO, MFS_ERR_FOLDER, MFS_ERR_TRANSIENT,
				   "%s: folder 0x%016" G_GINT64_MODIFIER "X "
				   "was moved only in part", who, (guint64)fid);
	}
out:
	mapic_exec_free(&x);
	return rc;
}
