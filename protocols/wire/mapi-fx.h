/*
 * mapi-fx.h - the FastTransfer stream of MS-OXCFXICS 2.2.4: what
 * RopFastTransferSourceGetBuffer hands out in pieces and what an ICS
 * download (RopSynchronizationConfigure) or a copy (RopFastTransferSource-
 * Copy*) produces.  A stream is a run of elements, each a marker (a bare
 * 32-bit tag, MS-OXCFXICS 2.2.4.1.4) or a property value (2.2.4.3): a tag,
 * for a named property its name, then the value laid out by its type.
 *
 * The reader takes the stream in buffers of any size as they arrive (a
 * value may be split across GetBuffer responses) and calls back once per
 * element.  It keeps only the element it is in the middle of, and refuses
 * a value longer than its limit and embedded messages or folders nested
 * deeper than its limit, before holding any of it.
 *
 * The stream's own layout, as a real server sends it:
 *   - PtypBoolean takes 2 bytes (0x0000 or 0x0001);
 *   - strings and binaries are a 32-bit byte count and the bytes, a
 *     string's count including its terminator;
 *   - MetaTagIdsetGiven comes tagged PtypInteger32 (0x40170003) yet holds
 *     a counted binary; the reader hands it out as a binary value (tag
 *     0x40170102) and the event keeps the tag of the wire;
 *   - PtypString8 may come where PtypString was asked for
 *     (PidTagMessageClass); it is handed out as it came.
 *
 * On top of the reader, a builder (mapi_fx_sync_*) turns the events of an
 * incremental contents download (MS-OXCFXICS 2.2.4.3, contentsSync)
 * into its changed messages, deletions, read-state changes and final state.
 * The writers lay out the same elements, so a server can produce a stream
 * and a test can prove the reader against them byte for byte.
 *
 * Ownership: an event passed to a callback is borrowed for the call; the
 * callback may take its value with mapi_props_take() (which leaves it
 * empty).  Writers append to a GByteArray the caller owns.  A reader or a
 * builder is used by one thread at a time.
 */
#ifndef MFS_MAPI_FX_H
#define MFS_MAPI_FX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mapi-prop.h"

/* Markers, MS-OXCFXICS 2.2.4.1.4. */
#define MAPI_FX_START_TOP_FLD		0x40090003U
#define MAPI_FX_START_SUB_FLD		0x400A0003U
#define MAPI_FX_END_FOLDER		0x400B0003U
#define MAPI_FX_START_MESSAGE		0x400C0003U
#define MAPI_FX_START_FAI_MSG		0x40100003U
#define MAPI_FX_END_MESSAGE		0x400D0003U
#define MAPI_FX_START_RECIP		0x40030003U
#define MAPI_FX_END_TO_RECIP		0x40040003U
#define MAPI_FX_NEW_ATTACH		0x40000003U
#define MAPI_FX_END_ATTACH		0x400E0003U
#define MAPI_FX_START_EMBED		0x40010003U
#define MAPI_FX_END_EMBED		0x40020003U
#define MAPI_FX_INCR_SYNC_CHG		0x40120003U
#define MAPI_FX_INCR_SYNC_CHG_PARTIAL	0x407D0003U
#define MAPI_FX_INCR_SYNC_DEL		0x40130003U
#define MAPI_FX_INCR_SYNC_END		0x40140003U
#define MAPI_FX_INCR_SYNC_MESSAGE	0x40150003U
#define MAPI_FX_INCR_SYNC_READ		0x402F0003U
#define MAPI_FX_INCR_SYNC_STATE_BEGIN	0x403A0003U
#define MAPI_FX_INCR_SYNC_STATE_END	0x403B0003U
#define MAPI_FX_INCR_SYNC_PROGRESS_MODE	0x4074000BU
#define MAPI_FX_INCR_SYNC_PROGRESS_PER_MSG 0x4075000BU
#define MAPI_FX_INCR_SYNC_GROUP_INFO	0x407B0102U
#define MAPI_FX_ERROR_INFO		0x40180003U

/* Meta-properties, MS-OXCFXICS 2.2.4.1.5 and 2.2.1.1 to 2.2.1.3. */
#define MAPI_FX_META_DEL_PROP		0x40160003U
#define MAPI_FX_META_EC_WARNING		0x400F0003U
#define MAPI_FX_META_NEW_FX_FOLDER	0x40110102U
#define MAPI_FX_META_GROUP_ID		0x407C0003U
#define MAPI_FX_META_MSG_PARTIAL	0x407A0003U
#define MAPI_FX_META_DN_PREFIX		0x4008001EU
#define MAPI_FX_META_IDSET_GIVEN_WIRE	0x40170003U	/* as sent */
#define MAPI_FX_META_IDSET_GIVEN	0x40170102U	/* as handed out */
#define MAPI_FX_META_CNSET_SEEN		0x67960102U
#define MAPI_FX_META_CNSET_SEEN_FAI	0x67DA0102U
#define MAPI_FX_META_CNSET_READ		0x67D20102U
#define MAPI_FX_META_IDSET_DELETED	0x67E50102U
#define MAPI_FX_META_IDSET_NO_LONGER	0x40210102U
#define MAPI_FX_META_IDSET_EXPIRED	0x67930102U
#define MAPI_FX_META_IDSET_READ		0x402D0102U
#define MAPI_FX_META_IDSET_UNREAD	0x402E0102U

/* Whether `tag` is one of the markers above. */
bool mapi_fx_is_marker(uint32_t tag);

/* The name of a named property (MS-OXCDATA 2.6.1 as the stream carries
 * it, MS-OXCFXICS 2.2.4.3: the property set, then a kind byte). */
#define MAPI_FX_NAME_LID	0x00
#define MAPI_FX_NAME_STRING	0x01

struct mapi_fx_named {
	uint8_t guid[16];
	uint8_t kind;			/* MAPI_FX_NAME_LID or _STRING */
	uint32_t lid;			/* kind LID */
	char *name;			/* kind STRING: UTF-8 */
};

enum mapi_fx_kind {
	MAPI_FX_MARKER,
	MAPI_FX_PROP,
};

struct mapi_fx_event {
	enum mapi_fx_kind kind;
	uint32_t tag;			/* as on the wire */
	uint64_t offset;		/* of the element's first byte */
	bool named;			/* a property with id >= 0x8000 */
	struct mapi_fx_named name;	/* when named */
	struct mapi_value value;	/* MAPI_FX_PROP */
};

struct mapi_fx_limits {
	size_t max_value;		/* most bytes in one value (a
					   multi-valued one: all its elements
					   and their counts); 0: 64 MiB.  A
					   name has at most 2048 bytes. */
	unsigned max_depth;		/* most embedded messages, and most
					   folders, inside each other; 0: 32 */
};

/* One element.  Returns 0 to go on; anything else stops the reader, which
 * gives it back from mapi_fx_reader_feed(). */
typedef int (*mapi_fx_cb)(void *ctx, struct mapi_fx_event *ev);

struct mapi_fx_reader;

/* `lim` may be NULL (the defaults).  Caller owns the result. */
struct mapi_fx_reader *mapi_fx_reader_new(const struct mapi_fx_limits *lim,
					  mapi_fx_cb cb, void *ctx);
void mapi_fx_reader_free(struct mapi_fx_reader **r);

/*
 * The next `len` bytes of the stream.  Calls back for every element they
 * complete.  Returns 0, or -errno: -EBADMSG (not a stream: an unknown
 * type, a marker out of place, a string that is not UTF-16), -EMSGSIZE (a
 * value over max_value), -ELOOP (nesting over max_depth), or what the
 * callback returned.  After a failure every call returns that failure.
 */
int mapi_fx_reader_feed(struct mapi_fx_reader *r, const void *buf, size_t len);

/* The stream has ended.  Returns 0 when it ended between elements with no
 * folder, message, recipient, attachment or state left open; -EBADMSG
 * otherwise, or the failure of an earlier feed. */
int mapi_fx_reader_finish(struct mapi_fx_reader *r);

/* Whether the bytes fed so far end between two elements. */
bool mapi_fx_reader_idle(const struct mapi_fx_reader *r);

/* Bytes fed so far. */
uint64_t mapi_fx_reader_offset(const struct mapi_fx_reader *r);

/*
 * Writers.  mapi_fx_write_prop lays `v` out under the tag `wire_tag` (which
 * names the same property; MAPI_FX_META_IDSET_GIVEN_WIRE with a binary
 * value gives the server's form), with `named` for an id >= 0x8000 (NULL
 * is refused there).  Returns 0, or -EINVAL for a type the stream cannot
 * carry or a missing name, -EILSEQ for a string that is not UTF-8;
 * nothing is written then.
 */
void mapi_fx_write_marker(GByteArray *b, uint32_t marker);
int mapi_fx_write_prop(GByteArray *b, uint32_t wire_tag,
		       const struct mapi_fx_named *named,
		       const struct mapi_value *v);
/* An event as the reader gave it. */
int mapi_fx_write_event(GByteArray *b, const struct mapi_fx_event *ev);

/* The names of a message's named properties, by id, for the writers
 * below; `lookup` returns NULL for an id it does not know. */
struct mapi_fx_names {
	const struct mapi_fx_named *(*lookup)(void *ctx, uint16_t id);
	void *ctx;
};

/*
 * What a server sends for one message of an ICS download (MS-OXCFXICS
 * 2.2.4.3, messageChangeFull): IncrSyncChg, the change header `hdr` (its
 * properties in their order), IncrSyncMessage, the message's properties,
 * its recipients and its attachments (each list after MetaTagFXDelProp),
 * embedded messages inside StartEmbed/EndEmbed.  `names` may be NULL when
 * no property is named.  Returns 0 or what mapi_fx_write_prop returned
 * (`b` then holds part of the message: the caller truncates it).
 */
int mapi_fx_write_change(GByteArray *b, const struct mapi_props *hdr,
			 const struct mapi_message *m,
			 const struct mapi_fx_names *names);
/* The message content alone (propList and MessageChildren). */
int mapi_fx_write_message_content(GByteArray *b, const struct mapi_message *m,
				  const struct mapi_fx_names *names);

/* The final state of an ICS download (state): IncrSyncStateBegin,
 * the four state properties (each may be NULL: left out), IncrSyncStateEnd
 * and IncrSyncEnd.  MetaTagIdsetGiven goes in the server's form. */
void mapi_fx_write_state_end(GByteArray *b, const struct mapi_bin *idset_given,
			     const struct mapi_bin *cnset_seen,
			     const struct mapi_bin *cnset_seen_fai,
			     const struct mapi_bin *cnset_read);

/*
 * The builder of an incremental contents download.  Feed it the reader's
 * events (mapi_fx_sync_event is a mapi_fx_cb); it gathers each change
 * into a struct mapi_fx_change, and the IncrSyncDel, IncrSyncRead and state
 * properties into bags.
 */
struct mapi_fx_change {
	uint64_t offset;		/* of its IncrSyncChg */
	uint64_t message_offset;	/* of its IncrSyncMessage */
	bool partial;			/* IncrSyncChgPartial */
	struct mapi_props header;	/* the change header as it came */
	/* the header's values, for convenience; zero when absent */
	struct mapi_bin source_key;	/* borrowed from header */
	struct mapi_bin change_key;	/* borrowed from header */
	struct mapi_bin predecessors;	/* borrowed from header */
	uint64_t last_modified;		/* FILETIME */
	bool associated;
	uint64_t mid;
	uint64_t size;			/* PidTagMessageSize(Extended) */
	uint64_t cn;
	struct mapi_message *msg;	/* owned */
};

struct mapi_fx_sync;

/* Caller owns the result. */
struct mapi_fx_sync *mapi_fx_sync_new(void);
void mapi_fx_sync_free(struct mapi_fx_sync **s);

/* A mapi_fx_cb: `ctx` is the builder.  Returns 0, or -EBADMSG for an
 * element out of the place contentsSync gives it. */
int mapi_fx_sync_event(void *ctx, struct mapi_fx_event *ev);

/* After the reader finished: 0 when the stream reached IncrSyncEnd with
 * nothing open, -EBADMSG otherwise. */
int mapi_fx_sync_finish(struct mapi_fx_sync *s);

/* The changes so far, in stream order.  Borrowed; valid until the next
 * event or mapi_fx_sync_free. */
size_t mapi_fx_sync_n_changes(const struct mapi_fx_sync *s);
struct mapi_fx_change *mapi_fx_sync_change(struct mapi_fx_sync *s, size_t i);

/*
 * The oldest change that is complete (a later change, IncrSyncDel,
 * IncrSyncRead or the state has begun), taken out of the builder so that
 * a download of any size need not be held whole; NULL when there is none.
 * The indices of mapi_fx_sync_change move down by one.  Caller owns the
 * result (mapi_fx_change_free).
 */
struct mapi_fx_change *mapi_fx_sync_take_done(struct mapi_fx_sync *s);
void mapi_fx_change_free(struct mapi_fx_change **c);

/* The property bags of IncrSyncDel (MetaTagIdsetDeleted, ...NoLongerIn-
 * Scope, ...Expired), IncrSyncRead (MetaTagIdsetRead, ...Unread) and the
 * state (MetaTagIdsetGiven as MAPI_FX_META_IDSET_GIVEN, MetaTagCnsetSeen,
 * ...SeenFAI, ...Read).  Borrowed; valid until mapi_fx_sync_free. */
const struct mapi_props *mapi_fx_sync_deletions(const struct mapi_fx_sync *s);
const struct mapi_props *mapi_fx_sync_read_changes(const struct mapi_fx_sync *s);
const struct mapi_props *mapi_fx_sync_state(const struct mapi_fx_sync *s);

/* The name of named property `id` as the stream gave it, or NULL; and the
 * same as a struct mapi_fx_names for the writers.  Borrowed; valid until
 * mapi_fx_sync_free. */
const struct mapi_fx_named *mapi_fx_sync_name(const struct mapi_fx_sync *s,
					      uint16_t id);
struct mapi_fx_names mapi_fx_sync_names(struct mapi_fx_sync *s);

#endif
