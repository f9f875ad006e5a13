/*
 * msgops.c - changes to messages that exist over MAPI over HTTP: their
 * flags, their removal, and moving or copying them between folders,
 * with the MIDs the moved messages have where they arrived.
 *
 * Specs: [MS-OXCMSG] 2.2.3.10 (RopSetReadFlags), [MS-OXCPRPT] 2.2.5 and
 * 2.2.8 (RopSetProperties, RopDeleteProperties), [MS-OXCFOLD] 2.2.1.6 to
 * 2.2.1.12 (RopMoveCopyMessages, RopDeleteMessages,
 * RopHardDeleteMessages), [MS-OXCTABL] 2.2.2.6 (RopRestrict),
 * [MS-OXOFLAG] 2.2.1.1 (PidTagFlagStatus), [MS-OXOMSG] 2.2.1.33
 * (PidTagLastVerbExecuted).
 *
 * Maildir's letters on MAPI: S is MSGFLAG_READ (set by RopSetReadFlags
 * with rfSuppressReceipt, cleared with rfClearReadFlag, as the real
 * server of 05-write takes them), F is PidTagFlagStatus 2 (removed when
 * unflagged), R and P are PidTagLastVerbExecuted 102 and 104; D and T
 * are not the server's.
 */
#include "mapic-private.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "wire/mapi-restrict.h"
#include "wire/mapi-tags.h"

/* Messages opened in one Execute. */
#define OPEN_BATCH 16u
/* Message ids in one RopSetReadFlags, RopDeleteMessages or
 * RopMoveCopyMessages (8 bytes each). */
#define MIDS_BATCH 1000u
/* Message ids looked up by one restriction after a move. */
#define FIND_BATCH 32u
/* Rows asked for by one RopQueryRows. */
#define QUERY_ROWS 100u
/* The code page that asks the server for its own (MS-OXCMSG 2.2.3.2). */
#define CP_SERVER 0x0FFFu
/* PidTagLastVerbExecuted values, [MS-OXOMSG] 2.2.1.33. */
#define VERB_REPLY_SENDER 102
#define VERB_REPLY_ALL 103
#define VERB_FORWARD 104
/* PidTagFlagStatus followupFlagged, [MS-OXOFLAG] 2.2.1.1. */
#define FLAG_STATUS_FLAGGED 2

/* ---- flags ---- */

static const uint32_t flag_tags[] = {
	MAPI_TAG_MESSAGE_FLAGS, MAPI_TAG_FLAG_STATUS,
	MAPI_TAG_LAST_VERB_EXECUTED,
};

/* What a message holds of the flags, and what it is to be given. */
struct flag_state {
	bool found;
	bool read;
	int32_t flag_status;		/* 0 when absent */
	int32_t verb;			/* 0 when absent */
	uint32_t handle;		/* the open message */
	struct mapi_props set;		/* to set */
	uint32_t del[2];		/* to delete */
	size_t n_del;
};

/* The changes that give a message of state `f` the flags `want`. */
static void flag_changes(struct flag_state *f, uint64_t want)
{
	bool flagged = want & MFS_FLAG_FLAGGED;
	bool replied = want & MFS_FLAG_REPLIED, passed = want & MFS_FLAG_PASSED;
	bool was_replied = f->verb == VERB_REPLY_SENDER ||
			   f->verb == VERB_REPLY_ALL;
	bool was_passed = f->verb == VERB_FORWARD;

	if (flagged && f->flag_status != FLAG_STATUS_FLAGGED)
		mapi_props_set_l(&f->set, MAPI_TAG_FLAG_STATUS,
				 FLAG_STATUS_FLAGGED);
	else if (!flagged && f->flag_status == FLAG_STATUS_FLAGGED)
		f->del[f->n_del++] = MAPI_TAG_FLAG_STATUS;
	if (replied == was_replied && passed == was_passed)
		return;
	/* one verb is kept: a reply says more than a forward */
	if (replied && !was_replied)
		mapi_props_set_l(&f->set, MAPI_TAG_LAST_VERB_EXECUTED,
				 VERB_REPLY_SENDER);
	else if (!replied && passed && !was_passed)
		mapi_props_set_l(&f->set, MAPI_TAG_LAST_VERB_EXECUTED,
				 VERB_FORWARD);
	else if (!replied && !passed)
		f->del[f->n_del++] = MAPI_TAG_LAST_VERB_EXECUTED;
}

/* OpenMessage + GetPropertiesSpecific of n messages in one Execute. */
static int flags_read(struct mapic_exec *x, uint64_t fid,
		      const uint64_t *mids, size_t n, struct flag_state *st,
		      struct mfs_error *e)
{
	uint8_t out[OPEN_BATCH];
	int rc;

	mapic_exec_begin(x);
	for (size_t i = 0; i < n; i++) {
		out[i] = mapic_exec_out(x);
		rop_open_message_req_write(mapic_exec_buf(x),
			&(struct rop_open_message_req){
				.input_handle_index = mapic_exec_logon(x),
				.output_handle_index = out[i],
				.code_page = CP_SERVER, .folder_id = fid,
				.open_mode = ROP_OPEN_READ_WRITE,
				.message_id = mids[i] });
		rop_get_props_specific_req_write(mapic_exec_buf(x),
			&(struct rop_get_props_specific_req){
				.input_handle_index = out[i],
				.want_unicode = 1,
				.n_tags = G_N_ELEMENTS(flag_tags),
				.tags = (uint32_t *)flag_tags });
	}
	if ((rc = mapic_exec_run(x, e)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct rop_open_message_resp om;
		struct rop_get_props_specific_resp gp;
		uint32_t rv;

		rc = rop_open_message_resp_read(mapic_exec_rd(x), &om);
		rv = rc < 0 ? 0 : om.head.rv;
		if (rc == 0)
			rop_open_message_resp_clear(&om);
		st[i].found = rc == 0 && rv == 0;
		if (rc == 0 && mapic_rv_to_errno(rv) == -ENOENT)
			rv = 0;
		if ((rc = mapic_rop_check(x, "OpenMessage", rc, rv,
					  MFS_ERR_ITEM, e)) < 0)
			return rc;
		rc = rop_get_props_specific_resp_read(mapic_exec_rd(x), &gp,
						      flag_tags,
						      G_N_ELEMENTS(flag_tags));
		if (rc < 0)
			return mapic_exec_bad(x, "GetPropertiesSpecific", rc,
					      e);
		if (st[i].found && gp.head.rv) {
			rv = gp.head.rv;
			rop_get_props_specific_resp_clear(&gp);
			return mapic_exec_failed(x, "GetPropertiesSpecific",
						 rv, MFS_ERR_ITEM, e);
		}
		if (st[i].found) {
			const struct mapi_props *p = &gp.row.props;
			uint32_t mf = (uint32_t)mapi_props_l(p,
				MAPI_TAG_ID(MAPI_TAG_MESSAGE_FLAGS), 0);
			st[i].read = mf & MAPI_MSGFLAG_READ;
			st[i].flag_status = mapi_props_l(p,
				MAPI_TAG_ID(MAPI_TAG_FLAG_STATUS), 0);
			st[i].verb = mapi_props_l(p,
				MAPI_TAG_ID(MAPI_TAG_LAST_VERB_EXECUTED), 0);
			st[i].handle = mapic_exec_handle(x, out[i]);
		}
		rop_get_props_specific_resp_clear(&gp);
	}
	return mapic_exec_end(x, e);
}

/* The property changes of n open messages, each saved, and all of them
 * released, in one Execute. */
static int flags_write(struct mapic_exec *x, struct flag_state *st, size_t n,
		       struct mfs_error *e)
{
	bool any = false, open = false;
	int rc;

	for (size_t i = 0; i < n; i++)
		open = open || st[i].found;
	if (!open)
		return 0;
	mapic_exec_begin(x);
	for (size_t i = 0; i < n; i++) {
		if (!st[i].found)
			continue;
		uint8_t in = mapic_exec_in(x, st[i].handle);
		GByteArray *b = mapic_exec_buf(x);
		if (st[i].set.n)
			rop_set_props_req_write(b, &(struct rop_set_props_req){
				.input_handle_index = in,
				.props = st[i].set });
		if (st[i].n_del)
			rop_delete_props_req_write(b,
				&(struct rop_delete_props_req){
					.input_handle_index = in,
					.n_tags = st[i].n_del,
					.tags = st[i].del });
		if (st[i].set.n || st[i].n_del) {
			rop_save_changes_message_req_write(b,
				&(struct rop_save_changes_message_req){
					.response_handle_index = in,
					.input_handle_index = in,
					.save_flags =
					ROP_SAVE_KEEP_OPEN_READ_WRITE });
			any = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (st[i].found)
			mapic_exec_release(x, st[i].handle);
	if ((rc = mapic_exec_run(x, e)) < 0 || !any)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct mapi_rd *rd = mapic_exec_rd(x);
		struct rop_problems_resp pr;
		struct rop_save_changes_message_resp sr;

		if (!st[i].found || (!st[i].set.n && !st[i].n_del))
			continue;
		if (st[i].set.n) {
			rc = rop_set_props_resp_read(rd, &pr);
			if ((rc = mapic_rop_check(x, "SetProperties", rc,
						  rc < 0 ? 0 : pr.head.rv,
						  MFS_ERR_ITEM, e)) < 0)
				return rc;
			rop_problems_resp_clear(&pr);
		}
		if (st[i].n_del) {
			rc = rop_delete_props_resp_read(rd, &pr);
			if ((rc = mapic_rop_check(x, "DeleteProperties", rc,
						  rc < 0 ? 0 : pr.head.rv,
						  MFS_ERR_ITEM, e)) < 0)
				return rc;
			rop_problems_resp_clear(&pr);
		}
		rc = rop_save_changes_message_resp_read(rd, &sr);
		if ((rc = mapic_rop_check(x, "SaveChangesMessage", rc, rc < 0
					  ? 0 : sr.head.rv, MFS_ERR_ITEM,
					  e)) < 0)
			return rc;
	}
	return mapic_exec_end(x, e);
}

/* The read state of `n` messages by RopSetReadFlags on the folder, the
 * ones to be read and the ones to be unread in one Execute each. */
static int read_flags(struct mapic_exec *x, struct mapic_session *s,
		      uint64_t fid, GArray *seen, GArray *unseen,
		      struct mfs_error *e)
{
	GArray *lists[2] = { seen, unseen };
	/* rfSuppressReceipt: a file system sends no read receipts */
	static const uint8_t how[2] = { ROP_READ_SUPPRESS_RECEIPT,
					ROP_READ_CLEAR_READ_FLAG };
	int rc;

	for (int k = 0; k < 2; k++) {
		for (guint at = 0; at < lists[k]->len; at += MIDS_BATCH) {
			struct rop_partial_resp pr;
			guint n = MIN(lists[k]->len - at, MIDS_BATCH);

			mapic_exec_begin(x);
			uint8_t f = mapic_open_folder_add(x, fid);
			rop_set_read_flags_req_write(mapic_exec_buf(x),
				&(struct rop_set_read_flags_req){
					.input_handle_index = f,
					.read_flags = how[k], .n_mids = n,
					.mids = &g_array_index(lists[k],
							       uint64_t, at) });
			if ((rc = mapic_exec_run(x, e)) < 0 ||
			    (rc = mapic_open_folder_read(x, s, fid, e)) < 0)
				return rc;
			rc = rop_set_read_flags_resp_read(mapic_exec_rd(x),
							  &pr);
			if ((rc = mapic_rop_check(x, "SetReadFlags", rc, rc < 0
						  ? 0 : pr.head.rv,
						  MFS_ERR_FOLDER, e)) < 0 ||
			    (rc = mapic_exec_end(x, e)) < 0)
				return rc;
			if (pr.partial_completion) {
				g_autofree char *who = mapic_who(s->conf);
				return mfs_error_set(e, -EIO, MFS_ERR_FOLDER,
						     MFS_ERR_TRANSIENT, "%s: "
						     "the read state of only "
						     "some messages changed",
						     who);
			}
		}
	}
	return 0;
}

int mapic_flags_set(struct mapic_session *s, uint64_t fid,
		    const uint64_t *mids, const uint64_t *flags, size_t n,
		    int *rcs, struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(s);
	g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	g_autoptr(GArray) unseen = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	int rc = 0;

	for (size_t at = 0; at < n && rc == 0; at += OPEN_BATCH) {
		struct flag_state st[OPEN_BATCH];
		size_t k = MIN(n - at, OPEN_BATCH);

		memset(st, 0, sizeof(st));
		rc = flags_read(x, fid, mids + at, k, st, e);
		for (size_t i = 0; rc == 0 && i < k; i++) {
			bool want = flags[at + i] & MFS_FLAG_SEEN;
			rcs[at + i] = st[i].found ? 0 : -ENOENT;
			if (!st[i].found)
				continue;
			flag_changes(&st[i], flags[at + i]);
			if (want != st[i].read)
				g_array_append_val(want ? seen : unseen,
						   mids[at + i]);
		}
		if (rc == 0)
			rc = flags_write(x, st, k, e);
		for (size_t i = 0; i < k; i++)
			mapi_props_clear(&st[i].set);
	}
	if (rc == 0)
		rc = read_flags(x, s, fid, seen, unseen, e);
	mapic_exec_free(&x);
	if (rc == 0 && n == 1 && rcs[0] < 0) {
		g_autofree char *who = mapic_who(s->conf);
		return mfs_error_set(e, rcs[0], MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: message 0x%016" G_GINT64_MODIFIER
				     "X not found in folder 0x%016"
				     G_GINT64_MODIFIER "X", who,
				     (guint64)mids[0], (guint64)fid);
	}
	return rc;
}

/* ---- removal ---- */

/* Which of `mids` the folder still holds: OpenMessage of each, the
 * count of those that opened in *left_r. */
static int still_there(struct mapic_exec *x, uint64_t fid,
		       const uint64_t *mids, size_t n, size_t *left_r,
		       struct mfs_error *e)
{
	*left_r = 0;
	for (size_t at = 0; at < n; at += OPEN_BATCH) {
		size_t k = MIN(n - at, OPEN_BATCH);
		int rc;

		mapic_exec_begin(x);
		for (size_t i = 0; i < k; i++) {
			uint8_t out = mapic_exec_out(x);
			rop_open_message_req_write(mapic_exec_buf(x),
				&(struct rop_open_message_req){
					.input_handle_index =
						mapic_exec_logon(x),
					.output_handle_index = out,
					.code_page = CP_SERVER,
					.folder_id = fid,
					.message_id = mids[at + i] });
		}
		if ((rc = mapic_exec_run(x, e)) < 0)
			return rc;
		for (size_t i = 0; i < k; i++) {
			struct rop_open_message_resp om;
			rc = rop_open_message_resp_read(mapic_exec_rd(x), &om);
			if (rc < 0)
				return mapic_exec_bad(x, "OpenMessage", rc, e);
			uint32_t rv = om.head.rv;
			rop_open_message_resp_clear(&om);
			if (rv == 0)
				(*left_r)++;
			else if (mapic_rv_to_errno(rv) != -ENOENT)
				return mapic_exec_failed(x, "OpenMessage", rv,
							 MFS_ERR_ITEM, e);
		}
		if ((rc = mapic_exec_end(x, e)) < 0)
			return rc;
	}
	return 0;
}

/* One RopHardDeleteMessages (or RopDeleteMessages) of n mids on the
 * folder; *refused_r when the server does not do hard deletes. */
static int delete_batch(struct mapic_exec *x, struct mapic_session *s,
			uint64_t fid, const uint64_t *mids, size_t n,
			bool hard, bool *refused_r, bool *partial_r,
			struct mfs_error *e)
{
	struct rop_delete_messages_req q = { .n_mids = n,
					     .mids = (uint64_t *)mids };
	struct rop_partial_resp pr;
	int rc;

	*refused_r = false;
	mapic_exec_begin(x);
	q.input_handle_index = mapic_open_folder_add(x, fid);
	if (hard)
		rop_hard_delete_messages_req_write(mapic_exec_buf(x), &q);
	else
		rop_delete_messages_req_write(mapic_exec_buf(x), &q);
	if ((rc = mapic_exec_run(x, e)) < 0 ||
	    (rc = mapic_open_folder_read(x, s, fid, e)) < 0)
		return rc;
	rc = hard ? rop_hard_delete_messages_resp_read(mapic_exec_rd(x), &pr)
		  : rop_delete_messages_resp_read(mapic_exec_rd(x), &pr);
	if (rc == 0 && hard && (pr.head.rv == MAPI_E_NO_SUPPORT ||
				pr.head.rv == MAPI_E_CALL_FAILED ||
				pr.head.rv == MAPI_E_INVALID_PARAMETER)) {
		*refused_r = true;
		return mapic_exec_end(x, e);
	}
	if ((rc = mapic_rop_check(x, hard ? "HardDeleteMessages"
					  : "DeleteMessages", rc, rc < 0 ? 0
				  : pr.head.rv, MFS_ERR_FOLDER, e)) < 0)
		return rc;
	*partial_r = *partial_r || pr.partial_completion;
	return mapic_exec_end(x, e);
}

int mapic_messages_remove(struct mapic_session *s, uint64_t fid,
			  const uint64_t *mids, size_t n, struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(s);
	bool hard = true, partial = false, refused = false;
	size_t left = 0;
	int rc = 0;

	for (size_t at = 0; at < n && rc == 0; at += MIDS_BATCH) {
		size_t k = MIN(n - at, MIDS_BATCH);
		rc = delete_batch(x, s, fid, mids + at, k, hard, &refused,
				  &partial, e);
		if (rc == 0 && refused) {
			log_debug(LOG_PROTO, "mapi: HardDeleteMessages "
				  "refused; DeleteMessages instead");
			hard = false;
			rc = delete_batch(x, s, fid, mids + at, k, false,
					  &refused, &partial, e);
		}
	}
	/* PartialCompletion does not say which: ask for each; one the
	 * folder no longer holds counts as removed */
	if (rc == 0 && partial)
		rc = still_there(x, fid, mids, n, &left, e);
	mapic_exec_free(&x);
	if (rc == 0 && left > 0) {
		g_autofree char *who = mapic_who(s->conf);
		return mfs_error_set(e, -EIO, MFS_ERR_FOLDER,
				     MFS_ERR_TRANSIENT, "%s: %zu of %zu "
				     "messages of folder 0x%016"
				     G_GINT64_MODIFIER "X were not removed",
				     who, left, n, (guint64)fid);
	}
	return rc;
}

/* ---- moving and copying ---- */

static const uint32_t key_tags[] = {
	MAPI_TAG_INTERNET_MESSAGE_ID, MAPI_TAG_SEARCH_KEY,
};
static const uint32_t find_cols[] = {
	MAPI_TAG_MID, MAPI_TAG_INTERNET_MESSAGE_ID, MAPI_TAG_SEARCH_KEY,
};

/* What finds a message again where it went: its Message-ID and search
 * key (either may be missing).  found false: no such message. */
struct msg_key {
	bool found;
	char *message_id;		/* owned */
	struct mapi_bin search_key;	/* owned */
};

static void msg_key_clear(struct msg_key *k)
{
	g_free(k->message_id);
	g_free(k->search_key.data);
	memset(k, 0, sizeof(*k));
}

static int keys_read(struct mapic_exec *x, uint64_t fid, const uint64_t *mids,
		     size_t n, struct msg_key *keys, struct mfs_error *e)
{
	uint8_t out[OPEN_BATCH];
	int rc;

	mapic_exec_begin(x);
	for (size_t i = 0; i < n; i++) {
		out[i] = mapic_exec_out(x);
		rop_open_message_req_write(mapic_exec_buf(x),
			&(struct rop_open_message_req){
				.input_handle_index = mapic_exec_logon(x),
				.output_handle_index = out[i],
				.code_page = CP_SERVER, .folder_id = fid,
				.message_id = mids[i] });
		rop_get_props_specific_req_write(mapic_exec_buf(x),
			&(struct rop_get_props_specific_req){
				.input_handle_index = out[i],
				.want_unicode = 1,
				.n_tags = G_N_ELEMENTS(key_tags),
				.tags = (uint32_t *)key_tags });
	}
	if ((rc = mapic_exec_run(x, e)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct rop_open_message_resp om;
		struct rop_get_props_specific_resp gp;

		rc = rop_open_message_resp_read(mapic_exec_rd(x), &om);
		if (rc < 0)
			return mapic_exec_bad(x, "OpenMessage", rc, e);
		uint32_t rv = om.head.rv;
		keys[i].found = rv == 0;
		rop_open_message_resp_clear(&om);
		/* only a message that is not there is "not found" */
		if (rv && mapic_rv_to_errno(rv) != -ENOENT)
			return mapic_exec_failed(x, "OpenMessage", rv,
						 MFS_ERR_ITEM, e);
		rc = rop_get_props_specific_resp_read(mapic_exec_rd(x), &gp,
						      key_tags,
						      G_N_ELEMENTS(key_tags));
		if (rc < 0)
			return mapic_exec_bad(x, "GetPropertiesSpecific", rc,
					      e);
		if (keys[i].found && gp.head.rv == 0) {
			const struct mapi_value *v;
			const char *id = mapi_props_str(&gp.row.props,
				MAPI_TAG_ID(MAPI_TAG_INTERNET_MESSAGE_ID));
			keys[i].message_id = id && *id ? g_strdup(id) : NULL;
			v = mapi_props_get_tag(&gp.row.props,
					       MAPI_TAG_SEARCH_KEY);
			if (v && v->v.bin.len) {
				keys[i].search_key.len = v->v.bin.len;
				keys[i].search_key.data = g_memdup2(
					v->v.bin.data, v->v.bin.len);
			}
		}
		rop_get_props_specific_resp_clear(&gp);
	}
	return mapic_exec_end(x, e);
}

/* The restriction that finds the messages of `keys` again: an OR of
 * their Message-IDs and search keys; NULL when none has either. */
static GByteArray *find_restriction(const struct msg_key *keys, size_t n)
{
	struct mapi_res *subs[2 * FIND_BATCH];
	uint32_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct mapi_value v = { 0 };
		if (keys[i].message_id) {
			v.tag = MAPI_TAG_INTERNET_MESSAGE_ID;
			v.v.str = keys[i].message_id;
			subs[k++] = mapi_res_new_prop(MAPI_RELOP_EQ, v.tag, &v);
		}
		if (keys[i].search_key.len) {
			v.tag = MAPI_TAG_SEARCH_KEY;
			v.v.bin = keys[i].search_key;
			subs[k++] = mapi_res_new_prop(MAPI_RELOP_EQ, v.tag, &v);
		}
	}
	if (k == 0)
		return NULL;
	struct mapi_res *res = mapi_res_new_list(MAPI_RES_OR, subs, k);
	GByteArray *b = g_byte_array_new();
	mapi_res_write(b, &mapi_res_form_rop, res);
	mapi_res_free(res);
	return b;
}

/* A MID's global counter: its last six bytes, big-endian; the newer
 * message has the greater. */
static uint64_t mid_counter(uint64_t mid)
{
	uint64_t gc = 0;

	for (int b = 2; b < 8; b++)
		gc = gc << 8 | ((mid >> (8 * b)) & 0xFF);
	return gc;
}

static bool row_matches(const struct mapi_row *row, const struct msg_key *k)
{
	const char *id = mapi_props_str(&row->props,
			MAPI_TAG_ID(MAPI_TAG_INTERNET_MESSAGE_ID));
	const struct mapi_value *sk = mapi_props_get_tag(&row->props,
							 MAPI_TAG_SEARCH_KEY);

	if (k->message_id && id && !strcmp(id, k->message_id))
		return true;
	return k->search_key.len && sk && sk->v.bin.len == k->search_key.len &&
	       !memcmp(sk->v.bin.data, k->search_key.data, k->search_key.len);
}

/* Take the rows of one QueryRows: for each key, the newest matching
 * MID that is not one of the originals. */
static void take_rows(const struct rop_query_rows_resp *r,
		      const struct msg_key *keys, const uint64_t *mids,
		      size_t n, uint64_t *new_mids)
{
	for (uint16_t j = 0; j < r->row_count; j++) {
		const struct mapi_value *m = mapi_props_get_tag(
			&r->rows[j].props, MAPI_TAG_MID);
		bool original = false;

		if (!m)
			continue;
		uint64_t mid = (uint64_t)m->v.i8;
		for (size_t i = 0; i < n; i++)
			original = original || mids[i] == mid;
		for (size_t i = 0; i < n && !original; i++)
			if (keys[i].found && row_matches(&r->rows[j], &keys[i]) &&
			    mid_counter(mid) > mid_counter(new_mids[i]))
				new_mids[i] = mid;
	}
}

/* The MIDs in `dest` of the messages of `keys`, from its contents table
 * restricted to them. */
static int find_moved(struct mapic_exec *x, struct mapic_session *s,
		      uint64_t dest, const struct msg_key *keys,
		      const uint64_t *mids, size_t n, bool restricted,
		      uint64_t *new_mids, struct mfs_error *e)
{
	g_autoptr(GByteArray) res = find_restriction(keys, n);
	struct rop_get_table_resp gt;
	struct rop_table_status_resp ts;
	int rc;

	if (!res)
		return 0;
	if (!restricted)
		g_byte_array_set_size(res, 0);
	mapic_exec_begin(x);
	GByteArray *b = mapic_exec_buf(x);
	uint8_t f = mapic_open_folder_add(x, dest), t = mapic_exec_out(x);
	rop_get_contents_table_req_write(b, &(struct rop_get_table_req){
		.input_handle_index = f, .output_handle_index = t,
		.table_flags = ROP_TABLE_USE_UNICODE });
	rop_set_columns_req_write(b, &(struct rop_set_columns_req){
		.input_handle_index = t, .n_cols = G_N_ELEMENTS(find_cols),
		.cols = (uint32_t *)find_cols });
	if (restricted)
		rop_restrict_req_write(b, &(struct rop_restrict_req){
			.input_handle_index = t,
			.restriction_len = (uint16_t)res->len,
			.restriction = res->data });
	if ((rc = mapic_exec_run(x, e)) < 0 ||
	    (rc = mapic_open_folder_read(x, s, dest, e)) < 0)
		return rc;
	struct mapi_rd *rd = mapic_exec_rd(x);
	rc = rop_get_contents_table_resp_read(rd, &gt);
	if ((rc = mapic_rop_check(x, "GetContentsTable", rc, rc < 0 ? 0
				  : gt.head.rv, MFS_ERR_FOLDER, e)) < 0)
		return rc;
	rc = rop_set_columns_resp_read(rd, &ts);
	if ((rc = mapic_rop_check(x, "SetColumns", rc, rc < 0 ? 0
				  : ts.head.rv, MFS_ERR_FOLDER, e)) < 0)
		return rc;
	if (restricted) {
		rc = rop_restrict_resp_read(rd, &ts);
		if ((rc = mapic_rop_check(x, "Restrict", rc, rc < 0 ? 0
					  : ts.head.rv, MFS_ERR_FOLDER, e)) < 0)
			return rc;
	}
	if ((rc = mapic_exec_end(x, e)) < 0)
		return rc;
	uint32_t th = mapic_exec_handle(x, t);
	for (;;) {
		struct rop_query_rows_resp r;

		mapic_exec_begin(x);
		rop_query_rows_req_write(mapic_exec_buf(x),
			&(struct rop_query_rows_req){
				.input_handle_index = mapic_exec_in(x, th),
				.forward_read = 1, .row_count = QUERY_ROWS });
		if ((rc = mapic_exec_run(x, e)) < 0)
			return rc;
		rc = rop_query_rows_resp_read(mapic_exec_rd(x), &r, find_cols,
					      G_N_ELEMENTS(find_cols));
		if (rc < 0)
			return mapic_exec_bad(x, "QueryRows", rc, e);
		if (r.head.rv) {
			uint32_t rv = r.head.rv;
			rop_query_rows_resp_clear(&r);
			return mapic_exec_failed(x, "QueryRows", rv,
						 MFS_ERR_FOLDER, e);
		}
		take_rows(&r, keys, mids, n, new_mids);
		bool done = r.row_count == 0 || r.origin == 2;
		rop_query_rows_resp_clear(&r);
		if ((rc = mapic_exec_end(x, e)) < 0 || done)
			return rc;
	}
}

/* RopMoveCopyMessages of the `found` ones of mids[]. */
static int move_batch(struct mapic_exec *x, struct mapic_session *s,
		      uint64_t fid, uint64_t dest, const uint64_t *mids,
		      const struct msg_key *keys, size_t n, bool copy,
		      struct mfs_error *e)
{
	uint64_t found[FIND_BATCH];
	struct rop_move_copy_messages_resp mr;
	size_t k = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (keys[i].found)
			found[k++] = mids[i];
	if (k == 0)
		return 0;
	mapic_exec_begin(x);
	uint8_t from = mapic_open_folder_add(x, fid);
	uint8_t to = mapic_open_folder_add(x, dest);
	rop_move_copy_messages_req_write(mapic_exec_buf(x),
		&(struct rop_move_copy_messages_req){
			.source_handle_index = from,
			.dest_handle_index = to, .n_mids = k, .mids = found,
			.want_copy = copy });
	if ((rc = mapic_exec_run(x, e)) < 0 ||
	    (rc = mapic_open_folder_read(x, s, fid, e)) < 0 ||
	    (rc = mapic_open_folder_read(x, s, dest, e)) < 0)
		return rc;
	rc = rop_move_copy_messages_resp_read(mapic_exec_rd(x), &mr);
	if ((rc = mapic_rop_check(x, "MoveCopyMessages", rc, rc < 0 ? 0
				  : mr.head.rv, MFS_ERR_FOLDER, e)) < 0)
		return rc;
	/* PartialCompletion: what did not arrive is not found below */
	if (mr.partial)
		log_debug(LOG_PROTO, "mapi: MoveCopyMessages: partial");
	return mapic_exec_end(x, e);
}

int mapic_messages_move(struct mapic_session *s, uint64_t fid,
			const uint64_t *mids, size_t n, uint64_t dest_fid,
			bool copy, uint64_t *new_mids_r, struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(s);
	int rc = 0;

	memset(new_mids_r, 0, n * sizeof(*new_mids_r));
	for (size_t at = 0; at < n && rc == 0; at += FIND_BATCH) {
		struct msg_key keys[FIND_BATCH];
		size_t k = MIN(n - at, FIND_BATCH);

		memset(keys, 0, sizeof(keys));
		for (size_t i = 0; i < k && rc == 0; i += OPEN_BATCH)
			rc = keys_read(x, fid, mids + at + i,
				       MIN(k - i, OPEN_BATCH), keys + i, e);
		if (rc == 0 && n == 1 && !keys[0].found) {
			g_autofree char *who = mapic_who(s->conf);
			rc = mfs_error_set(e, -ENOENT, MFS_ERR_ITEM,
					   MFS_ERR_FINAL, "%s: message 0x%016"
					   G_GINT64_MODIFIER "X not found in "
					   "folder 0x%016" G_GINT64_MODIFIER
					   "X", who, (guint64)mids[0],
					   (guint64)fid);
		}
		if (rc == 0)
			rc = move_batch(x, s, fid, dest_fid, mids + at, keys, k,
					copy, e);
		if (rc == 0)
			rc = find_moved(x, s, dest_fid, keys, mids + at, k,
					true, new_mids_r + at, e);
		/* a server without restrictions: the whole table, matched
		 * here */
		if (rc == -ENOTSUP)
			rc = find_moved(x, s, dest_fid, keys, mids + at, k,
					false, new_mids_r + at, e);
		for (size_t i = 0; i < k; i++)
			msg_key_clear(&keys[i]);
	}
	mapic_exec_free(&x);
	return rc;
}
