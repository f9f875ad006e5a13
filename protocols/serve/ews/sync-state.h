/*
 * sync-state.h - the SyncState of SyncFolderItems and
 * SyncFolderHierarchy: what one client knew after one sync, kept by the
 * server.
 *
 * Spec: [MS-OXWSSYNC] 2.2.4.x (SyncState is opaque to the client;
 * ErrorInvalidSyncStateData for one the server cannot use).
 *
 * A state names a snapshot kept in the store's hidden directory
 * .mailfs-serve/ews-sync/: the scope it belongs to (a folder's items, or
 * a folder tree) and, for each item or folder the client knows, a value
 * that changes when the client should hear of it (the flags of a message,
 * a digest of a folder).  Sync then tells a client exactly what changed
 * since IT last synced, whoever made the change.  The state a client
 * holds is base64 of a prefix and 128 random bits, so it cannot be
 * guessed or forged to read another snapshot, and carries nothing of the
 * store.  What is kept is bounded: per scope the
 * EWS_SYNC_STATES_PER_SCOPE snapshots last made or used; overall
 * EWS_SYNC_STATE_MAX files and EWS_SYNC_STATE_TOTAL_BYTES bytes, the
 * least recently used going first; none unused for
 * EWS_SYNC_STATE_TTL_DAYS.  A client with a state that went gets
 * ErrorInvalidSyncStateData and syncs again from scratch.
 *
 * Ownership: a snapshot (GHashTable of char * -> guint64 *, both owned by
 * the table) belongs to the caller.
 */
#ifndef MFS_EWS_SERVER_SYNC_STATE_H
#define MFS_EWS_SERVER_SYNC_STATE_H

#include <glib.h>

#define EWS_SYNC_STATE_TTL_DAYS 30
/* a client goes on from its last state, or repeats the one before */
#define EWS_SYNC_STATES_PER_SCOPE 8
#define EWS_SYNC_STATE_MAX 2000
#define EWS_SYNC_STATE_TOTAL_BYTES (512ull * 1024 * 1024)
/* The largest snapshot read back: about a million messages. */
#define EWS_SYNC_STATE_BYTES_MAX (128u * 1024 * 1024)

/* A new, empty snapshot.  Caller owns the result. */
GHashTable *ewsd_sync_snapshot_new(void);

/* Set `key` to `value` in `snap` (both copied). */
void ewsd_sync_snapshot_set(GHashTable *snap, const char *key, guint64 value);

/*
 * The snapshot `state` names, which must have been saved for `scope`.
 * Returns 0 with *snap_r (caller owns), -EINVAL for a state this server
 * did not make, -ENOENT for one it no longer has (or one of another
 * scope), -ESTALE for one of another scope whose name hashes alike, or
 * -errno reading it.
 */
int ewsd_sync_state_load(const char *store_root, const char *state,
			const char *scope, GHashTable **snap_r);

/* Count the snapshots kept under `store_root` and bring them within the
 * bounds; remove what an interrupted save or an older layout left.  Once,
 * at start, before any client is served. */
void ewsd_sync_state_init(const char *store_root);

/* Save `snap` for `scope` under a new state, *state_r (caller owns),
 * dropping the least recently used snapshots beyond the bounds.  Returns
 * 0 or -errno. */
int ewsd_sync_state_save(const char *store_root, const char *scope,
			GHashTable *snap, char **state_r);

#endif
