/*
 * logon.c - RopLogon on the user's private mailbox.
 *
 * Specs: MS-OXCROPS 2.2.3.1 (the response for a private mailbox: the
 * thirteen special folder ids in their order, ResponseFlags, the mailbox
 * and replica GUIDs, ReplId, LogonTime, GwartTime, StoreState);
 * MS-OXCSTOR 3.2.5.1.
 *
 * Only a private logon is taken: this server has no public folders.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "mapid-private.h"

/* MS-OXCROPS 2.2.3.1.2: Root, Deferred Action, Spooler Queue, IPM
 * subtree, Inbox, Outbox, Sent Items, Deleted Items, Common Views,
 * Schedule, Finder, Views, Shortcuts. */
static const uint64_t logon_folders[ROP_LOGON_N_FOLDERS] = {
	MAPID_ROOT, MAPID_DEFERRED_ACTION, MAPID_SPOOLER_QUEUE,
	MAPID_IPM_SUBTREE, MAPID_INBOX, MAPID_OUTBOX, MAPID_SENT,
	MAPID_DELETED, MAPID_COMMON_VIEWS, MAPID_SCHEDULE, MAPID_FINDER,
	MAPID_VIEWS, MAPID_SHORTCUTS,
};

/* ResponseFlags: Reserved (always set), OwnerRight, SendAsRight. */
#define LOGON_RESPONSE_FLAGS 0x07

int mapid_rop_logon(struct mapid_rop_ctx *rc, struct mapi_rd *r,
		    GByteArray *out)
{
	struct rop_logon_req q;
	struct rop_logon_resp s = { 0 };
	struct mapid_obj *o;
	time_t now = time(NULL);
	struct tm tm;
	int err = rop_logon_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_LOGON;
	s.head.handle_index = q.output_handle_index;
	s.logon_flags = q.logon_flags;
	if (!(q.logon_flags & ROP_LOGON_PRIVATE)) {
		s.head.rv = MAPI_E_NO_SUPPORT;
		rop_logon_req_clear(&q);
		rop_logon_resp_write(out, &s);
		return 0;
	}
	o = g_new0(struct mapid_obj, 1);
	o->kind = MAPID_OBJ_LOGON;
	o->fid = mapid_id_make(MAPID_ROOT);
	s.head.rv = mapid_obj_put(rc, q.output_handle_index, o);
	for (int i = 0; i < ROP_LOGON_N_FOLDERS; i++)
		s.folder_ids[i] = mapid_id_make(logon_folders[i]);
	s.response_flags = LOGON_RESPONSE_FLAGS;
	mapid_repl_guid(s.mailbox_guid);
	mapid_repl_guid(s.repl_guid);
	s.repl_id = 0x0001;
	gmtime_r(&now, &tm);
	s.logon_time.sec = (uint8_t)tm.tm_sec;
	s.logon_time.min = (uint8_t)tm.tm_min;
	s.logon_time.hour = (uint8_t)tm.tm_hour;
	s.logon_time.dow = (uint8_t)tm.tm_wday;
	s.logon_time.day = (uint8_t)tm.tm_mday;
	s.logon_time.month = (uint8_t)(tm.tm_mon + 1);
	s.logon_time.year = (uint16_t)(tm.tm_year + 1900);
	s.gwart_time = mapi_ft_from_unix((int64_t)now);
	rop_logon_req_clear(&q);
	rop_logon_resp_write(out, &s);
	return 0;
}
