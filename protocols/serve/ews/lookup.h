/*
 * lookup.h - finding the message an ItemId names, for the
 * operations that change messages, with each folder read from the store
 * once per request however many of its items the request names.
 *
 * Ownership: a lookup owns what it read; items and folder paths it hands
 * out are borrowed until the next call that changes the same folder's
 * entry, or ewsd_lookup_clear().
 */
#ifndef MFS_EWS_SERVER_LOOKUP_H
#define MFS_EWS_SERVER_LOOKUP_H

#include "ewsd-private.h"

struct ewsd_lookup {
	GHashTable *folders;	/* owned; folder path -> GHashTable of
				   id -> struct mfs_item * (owned) */
};

void ewsd_lookup_init(struct ewsd_lookup *lk);
void ewsd_lookup_clear(struct ewsd_lookup *lk);

/*
 * The message that the t:ItemId `ref` names.  Returns 0 with *folder_r
 * and *it_r (borrowed from lk), -EINVAL for an id this server did not
 * make, -ENOENT for a message (or folder) that is not there, or -errno
 * from the store.
 */
int ewsd_lookup_item(struct ewsd_call *call, struct ewsd_lookup *lk,
		    const xmlNode *ref, const char **folder_r,
		    struct mfs_item **it_r);

/* Every message of mail folder `folder`: *items_r borrowed (id -> struct
 * mfs_item *).  Returns 0 or -errno. */
int ewsd_lookup_folder(struct ewsd_call *call, struct ewsd_lookup *lk,
		      const char *folder, GHashTable **items_r);

/* Tell the lookup that message `id` of `folder` is gone (after a delete
 * or move), so that a second mention of it in the same request is not
 * found. */
void ewsd_lookup_drop(struct ewsd_lookup *lk, const char *folder,
		     const char *id);

/* The EWS ResponseCode for an error of ewsd_lookup_item(). */
const char *ewsd_lookup_error_code(int rc);

#endif
