/*
 * blobs.h - the cached bodies on disk (CACHE/blobs/XX/KEY): their names,
 * the bookkeeping of their sizes and use times in the index, and eviction
 * past cache_size.
 *
 * The bottom of the cache: it calls the index and nothing above it.
 * Thread-safe (its own lock, never held across a call out).
 */
#ifndef MFS_CACHE_BLOBS_H
#define MFS_CACHE_BLOBS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct cache_index;
struct blobs;			/* opaque */

/* Bodies in `dir`, evicted beyond `max_bytes` (0: never).  Nothing is
 * read or made yet.  Caller owns the result (blobs_close). */
struct blobs *blobs_new(const char *dir, uint64_t max_bytes);
/* Count what `ix` (borrowed until blobs_close) holds, and evict past the
 * limit: once the index is open, before any other call below. */
void blobs_start(struct blobs *b, struct cache_index *ix);
/* Write the rows kept so far and free everything; before the index
 * closes.  NULL is fine. */
void blobs_close(struct blobs **b);

/* The directory of the bodies.  Borrowed. */
const char *blobs_dir(const struct blobs *b);
/* The name of the body of folder/id, and its path; caller owns both. */
char *blobs_key(const char *folder, const char *id);
char *blobs_path(const struct blobs *b, const char *key);

/* A body of `size` bytes was saved as the file of `key`: it is counted,
 * and may be evicted from now on.  Evicts past the limit. */
void blobs_saved(struct blobs *b, const char *key, uint64_t size);
/* The body of `key` was opened: the last to be evicted. */
void blobs_used(struct blobs *b, const char *key);
/* The same as blobs_saved, its row written at once and no eviction (a body
 * that write-back moved, or that has just reached the server). */
void blobs_add_now(struct blobs *b, const char *key, uint64_t size);
/* The body of `key` is stale: its file and its row go, so that the next
 * read fetches it again.  A reader that has it open keeps its bytes. */
void blobs_drop(struct blobs *b, const char *key);
/* Write the rows kept so far; whether any are kept. */
void blobs_flush(struct blobs *b);
bool blobs_noted(struct blobs *b);
/* The bytes of the bodies the index counts, exactly. */
uint64_t blobs_total(struct blobs *b);
/* Remove the least recently used bodies until the rest fits cache_size. */
void blobs_evict(struct blobs *b);

#endif
