/*
 * pim.h - contacts and calendar items in the embedded EWS server:
 * what the item operations call for folders of those kinds.
 *
 * Contacts folders hold .vcf files, shown as t:Contact (contacts.c);
 * calendar folders hold .ics files, shown as t:CalendarItem
 * (calendar.c).  Their item ids carry a prefix of their own
 * ("mfsP:") so that an operation can tell them from messages' ids without
 * reading the store.
 *
 * Every function writes exactly one response message of its operation
 * into call->out (success or error) per item it is given.
 */
#ifndef MFS_EWS_SERVER_PIM_H
#define MFS_EWS_SERVER_PIM_H

#include <stdbool.h>

#include "ewsd-private.h"

/* The largest .vcf or .ics file read or written. */
#define EWS_PIM_MAX (8u * 1024 * 1024)

/* Whether `kind` is one whose items are handled here. */
bool ewsd_pim_kind(enum mfs_folder_kind kind);

/* Whether an ItemId's Id is one of ours. */
bool ewsd_pim_is_id(const char *b64);

/* The Id and ChangeKey of item `it` of `folder`: the ChangeKey changes
 * whenever the file does.  Caller owns both. */
char *ewsd_pim_item_id(const char *folder, const char *id);
char *ewsd_pim_change_key(const struct mfs_item *it);

/* Split an Id of ours (caller owns both parts); 0 or -EINVAL. */
int ewsd_pim_item_id_parse(const char *b64, char **id_r, char **folder_r);

/* The kind of store folder `path`, MFS_FOLDER_NONE when the store has no
 * such folder. */
enum mfs_folder_kind ewsd_pim_folder_kind(struct ewsd_call *call,
					 const char *path);

/* The store folder of `kind` that takes new items when the request names
 * none (Contacts, Calendar): *path_r borrowed from call->folders.
 * Returns 0 or -ENOENT. */
int ewsd_pim_default_folder(struct ewsd_call *call, enum mfs_folder_kind kind,
			   const char **path_r);

/* The file's bytes: 0 with *buf_r (caller owns), -EFBIG past
 * EWS_PIM_MAX, or -errno from the store. */
int ewsd_pim_load(struct ewsd_call *call, const char *folder, const char *id,
		 GString **buf_r);

/* Store `len` bytes as item `hint` of `folder` (replacing an item of that
 * name).  *item_r (caller owns) describes it.  Returns 0 or -errno. */
int ewsd_pim_store(struct ewsd_call *call, const char *folder,
		  const char *hint, const char *buf, size_t len,
		  struct mfs_item **item_r);

/* FindItem in a contacts or calendar folder: one FindItemResponseMessage
 * with the items of `view` (IndexedPageItemView, may be NULL) that `r`
 * (NULL: all) matches. */
void ewsd_pim_find(struct ewsd_call *call, const char *folder,
		  enum mfs_folder_kind kind, const xmlNode *view,
		  const struct ewsd_restrict *r);

/* GetItem of one t:ItemId of ours. */
void ewsd_pim_get(struct ewsd_call *call, const xmlNode *item_id,
		 const xmlNode *shape);

/* CreateItem of one t:Contact or t:CalendarItem into `folder` (NULL: the
 * default folder of its kind). */
void ewsd_pim_create(struct ewsd_call *call, const char *folder,
		    const xmlNode *item);

/* UpdateItem of one t:ItemChange whose ItemId is ours. */
void ewsd_pim_update(struct ewsd_call *call, const xmlNode *change);

/* DeleteItem of one t:ItemId of ours: the file is removed whatever the
 * DeleteType (the store keeps no deleted contacts). */
void ewsd_pim_delete(struct ewsd_call *call, const xmlNode *item_id);

/* The t:ExtendedProperty elements the request's ItemShape asks for that
 * a contact or event has: PidTagDisplayName and PidTagSubject (`name`),
 * PidTagInternetArticleNumber, PidTagLastModificationTime,
 * PidTagUrlCompName (the file's name) and, for an event (`instance_type`
 * >= 0), urn:schemas:calendar:instancetype. */
void ewsd_pim_write_ext(struct ewsd_call *call, const char *folder,
			const struct mfs_item *it, const char *name,
			int instance_type);

/* Whether the iCalendar text `buf` has a recurrence rule (RRULE): its
 * event is then a recurring master (calendar.c). */
bool ewsd_calendar_recurring(const char *buf, size_t len);

/* The item kinds (contacts.c, calendar.c; calendar-update.c for the
 * UpdateItem of an event): write one item (a t:Contact, a
 * t:CalendarItem) from its file's bytes; store a new one
 * from its element, answering *item_r (caller owns) or a ResponseCode in
 * *code_r (static) with -errno. */
void ewsd_contact_item_write(struct ewsd_call *call, const char *folder,
			    const struct mfs_item *it, const GString *buf,
			    bool mime);
int ewsd_contact_item_create(struct ewsd_call *call, const char *folder,
			    const xmlNode *item, struct mfs_item **item_r,
			    const char **code_r);
int ewsd_contact_item_update(struct ewsd_call *call, const char *folder,
			    const char *id, const xmlNode *updates,
			    struct mfs_item **item_r, const char **code_r);
void ewsd_calendar_item_write(struct ewsd_call *call, const char *folder,
			     const struct mfs_item *it, const GString *buf,
			     bool mime);
int ewsd_calendar_item_create(struct ewsd_call *call, const char *folder,
			     const xmlNode *item, struct mfs_item **item_r,
			     const char **code_r);
/* UpdateItem of calendar item `id`: the SetItemField and DeleteItemField
 * of `updates` on Subject, Body, Location, Start, End (without an offset:
 * in the zone of the change's StartTimeZone or EndTimeZone, else of the
 * request's TimeZoneContext, else UTC), IsAllDayEvent, Sensitivity,
 * ReminderIsSet, ReminderMinutesBeforeStart, RequiredAttendees,
 * OptionalAttendees, Resources and PidTagSubject or PidTagBody rewrite
 * those lines of the file's first VEVENT, all or none; every other line
 * stays as it was.  An unknown zone is ErrorTimeZone. */
int ewsd_calendar_item_update(struct ewsd_call *call, const char *folder,
			     const char *id, const xmlNode *updates,
			     struct mfs_item **item_r, const char **code_r);

/* ResolveNames over the contacts folders (resolve.c). */
int ewsd_op_resolve_names(struct ewsd_call *call);

#endif
