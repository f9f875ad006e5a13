/*
 * mapi-idset.h - IDSETs and CNSETs of MS-OXCFXICS 2.2.2.4 to 2.2.2.6: sets
 * of message, folder or change ids, kept per replica as ranges of GLOBCNTs
 * (the 48-bit counters of MS-OXCDATA 2.2.1.1 and 2.2.1.2), and their
 * serialized form: per replica a REPLID (2 bytes) or a REPLGUID (16),
 * then a GLOBSET, a run of Push, Pop, Bitmask, Range and End commands over
 * a stack of common high-order bytes (3.1.5.4.3).
 *
 * The ICS state (MetaTagIdsetGiven, MetaTagCnsetSeen, ...SeenFAI,
 * ...Read) holds REPLGUID-based sets; the deletions and read changes of a
 * download (MetaTagIdsetDeleted, ...Read, ...Unread) REPLID-based ones.
 * Nothing in the bytes says which: the caller does.
 *
 * An id as the rest of the codecs hold it is the little-endian uint64 of
 * its 8 wire bytes: the REPLID in the low 16 bits, then the GLOBCNT's six
 * bytes in big-endian order.  A GID (a PidTagSourceKey, the tail of a
 * PidTagChangeKey) is the REPLGUID and those six bytes.
 *
 * Ownership: a set owns its replicas and their ranges; clearing frees
 * them.  Encoders append to a GByteArray the caller owns.
 */
#ifndef MFS_MAPI_IDSET_H
#define MFS_MAPI_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define MAPI_IDSET_GLOBCNT_MAX UINT64_C(0xFFFFFFFFFFFF)

struct mapi_idset_range {
	uint64_t lo, hi;		/* inclusive, lo <= hi */
};

struct mapi_idset_repl {
	uint16_t replid;		/* REPLID-based sets */
	uint8_t guid[16];		/* REPLGUID-based sets */
	size_t n, cap;
	struct mapi_idset_range *r;	/* owned; ascending, apart */
};

struct mapi_idset {
	bool by_guid;
	size_t n;
	struct mapi_idset_repl *repl;	/* owned; ascending by key */
};

/* How an encoder lays a GLOBSET out.  Both decode to the same set.
 * PLAIN: a Range of two full GLOBCNTs per range (the form of the state a
 * gromox server sends), a 6-byte Push per single id; COMPACT: each range's
 * common high-order bytes pushed, then popped (MS-OXCFXICS 3.1.5.4.3.1). */
enum mapi_idset_style {
	MAPI_IDSET_PLAIN,
	MAPI_IDSET_COMPACT,
};

/* The parts of an id, and an id of its parts. */
uint16_t mapi_idset_id_replid(uint64_t id);
uint64_t mapi_idset_id_globcnt(uint64_t id);
uint64_t mapi_idset_id_make(uint16_t replid, uint64_t globcnt);

void mapi_idset_init(struct mapi_idset *s, bool by_guid);
void mapi_idset_clear(struct mapi_idset *s);

/*
 * Decode the serialized set in `p`, replacing what `s` held.  Returns 0,
 * or -EBADMSG (a command the stack cannot take, a range that runs
 * backwards, a GLOBSET or a key cut short); `s` is empty then.
 */
int mapi_idset_decode(struct mapi_idset *s, const void *p, size_t len,
		      bool by_guid);

/* One GLOBSET alone, its ranges added to `out`.  *used_r is set to the
 * bytes it took (End included).  Returns 0 or -EBADMSG. */
int mapi_idset_globset_decode(struct mapi_idset_repl *out,
			      const uint8_t *p, size_t len, size_t *used_r);
void mapi_idset_globset_encode(const struct mapi_idset_repl *r,
			       enum mapi_idset_style style, GByteArray *b);

void mapi_idset_encode(const struct mapi_idset *s,
		       enum mapi_idset_style style, GByteArray *b);

/*
 * Add the GLOBCNTs lo..hi of a replica: by `replid` in a REPLID-based set,
 * by `guid` in a REPLGUID-based one (the other key is ignored; `guid` may
 * be NULL for a REPLID-based set).  Returns 0, or -EINVAL for a range that
 * runs backwards or past 48 bits, or a REPLGUID-based set without `guid`.
 */
int mapi_idset_add_range(struct mapi_idset *s, uint16_t replid,
			 const uint8_t *guid, uint64_t lo, uint64_t hi);
/* An id (REPLID-based sets; `guid` names its replica in a REPLGUID-based
 * one), or a 22-byte GID (REPLGUID-based sets only). */
int mapi_idset_add_id(struct mapi_idset *s, uint64_t id, const uint8_t *guid);
int mapi_idset_add_gid(struct mapi_idset *s, const uint8_t *gid, size_t len);

bool mapi_idset_contains(const struct mapi_idset *s, uint64_t id,
			 const uint8_t *guid);
bool mapi_idset_contains_gid(const struct mapi_idset *s, const uint8_t *gid,
			     size_t len);

/* Add every id of `src` to `dst`.  Returns 0, or -EINVAL when one is
 * REPLID-based and the other REPLGUID-based. */
int mapi_idset_union(struct mapi_idset *dst, const struct mapi_idset *src);

/* How many ids the set holds (a sum over its ranges). */
uint64_t mapi_idset_count(const struct mapi_idset *s);

#endif
