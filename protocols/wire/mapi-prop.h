/*
 * mapi-prop.h - MAPI properties as both sides of MAPI over HTTP hold them in
 * memory: a value with its tag (MS-OXCDATA 2.9 and 2.11), a bag of them (a
 * folder's, a row's, a recipient's), and a message as MS-OXCMSG shapes it
 * (its properties, its recipients, its attachments, an attached message).
 *
 * This file is the data model only; how a value travels is the business of
 * the codec of each carrier: ROP buffers, FastTransfer streams and NSPI rows
 * lay the same values out differently.
 *
 * Strings are held as UTF-8 for PtypString (UTF-16LE on the wire) and as the
 * bytes received for PtypString8, whose code page only the message knows
 * (PidTagInternetCodepage, PidTagMessageCodepage).
 *
 * Ownership: a value owns what its union points to; a bag owns its values;
 * a message owns its bag, recipients, attachments and embedded message.
 * Clearing frees all of it.
 */
#ifndef MFS_MAPI_PROP_H
#define MFS_MAPI_PROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Property types, MS-OXCDATA 2.11.1. */
enum mapi_ptype {
	MAPI_PT_UNSPECIFIED = 0x0000,
	MAPI_PT_NULL = 0x0001,
	MAPI_PT_I2 = 0x0002,
	MAPI_PT_LONG = 0x0003,
	MAPI_PT_FLOAT = 0x0004,
	MAPI_PT_DOUBLE = 0x0005,
	MAPI_PT_CURRENCY = 0x0006,
	MAPI_PT_APPTIME = 0x0007,
	MAPI_PT_ERROR = 0x000A,
	MAPI_PT_BOOLEAN = 0x000B,
	MAPI_PT_OBJECT = 0x000D,
	MAPI_PT_I8 = 0x0014,
	MAPI_PT_STRING8 = 0x001E,
	MAPI_PT_UNICODE = 0x001F,
	MAPI_PT_SYSTIME = 0x0040,
	MAPI_PT_CLSID = 0x0048,
	MAPI_PT_SVREID = 0x00FB,
	MAPI_PT_SRESTRICT = 0x00FD,
	MAPI_PT_ACTIONS = 0x00FE,
	MAPI_PT_BINARY = 0x0102,
	MAPI_PT_MV = 0x1000,		/* or'ed into a type: multi-valued */
};

#define MAPI_TAG(id, type)	(((uint32_t)(id) << 16) | (uint32_t)(type))
#define MAPI_TAG_ID(tag)	((uint16_t)((tag) >> 16))
#define MAPI_TAG_TYPE(tag)	((uint16_t)((tag) & 0xFFFF))
/* The same property with another type (PtypString8 for PtypString). */
#define MAPI_TAG_RETYPE(tag, type) MAPI_TAG(MAPI_TAG_ID(tag), type)

/* Named properties live at ids 0x8000 and above, MS-OXCDATA 2.6. */
#define MAPI_NAMED_MIN 0x8000

struct mapi_bin {
	uint32_t len;
	uint8_t *data;			/* owned; NULL when len is 0 */
};

/*
 * One value.  Which member of `v` is live follows MAPI_TAG_TYPE(tag):
 * I2 i2; LONG l; ERROR err; BOOLEAN b; FLOAT f; DOUBLE and APPTIME d;
 * CURRENCY and I8 i8; SYSTIME ft (a FILETIME: 100 ns since 1601 UTC);
 * CLSID guid; STRING8 and UNICODE str; BINARY, SVREID and OBJECT bin;
 * NULL and UNSPECIFIED none; a multi-valued type mv, whose array member
 * follows the single type the same way.
 */
struct mapi_value {
	uint32_t tag;
	union {
		int16_t i2;
		int32_t l;
		uint32_t err;
		bool b;
		float f;
		double d;
		int64_t i8;
		uint64_t ft;
		uint8_t guid[16];
		char *str;		/* owned */
		struct mapi_bin bin;
		struct {
			uint32_t count;
			union {
				int16_t *i2;
				int32_t *l;
				float *f;
				double *d;
				int64_t *i8;
				uint64_t *ft;
				uint8_t (*guid)[16];
				char **str;	/* each owned */
				struct mapi_bin *bin;
			} a;			/* owned */
		} mv;
	} v;
};

/* Free what `v` owns and leave it an empty PtypNull value. */
void mapi_value_clear(struct mapi_value *v);

/* A deep copy of `src` into `dst` (which is overwritten, not cleared). */
void mapi_value_copy(struct mapi_value *dst, const struct mapi_value *src);

/* Whether `type` (without MAPI_PT_MV) is one this model holds. */
bool mapi_ptype_known(uint16_t type);

/* A bag of properties, at most one per property id. */
struct mapi_props {
	size_t n;
	size_t cap;
	struct mapi_value *v;		/* owned */
};

void mapi_props_clear(struct mapi_props *p);

/* The value with this id whatever its type (PtypString8 and PtypString
 * are one property), or NULL.  Borrowed; valid until the bag changes. */
const struct mapi_value *mapi_props_get(const struct mapi_props *p,
					uint16_t id);

/* As mapi_props_get, but only with this exact tag. */
const struct mapi_value *mapi_props_get_tag(const struct mapi_props *p,
					    uint32_t tag);

/*
 * Put `v` in the bag, taking what it owns (*v is left an empty value); a
 * value with the same id is replaced.
 */
void mapi_props_take(struct mapi_props *p, struct mapi_value *v);

/* Setters that copy their argument in.  mapi_props_set_str sets a
 * PtypString (UTF-8) whatever type `tag` names. */
void mapi_props_set_l(struct mapi_props *p, uint32_t tag, int32_t l);
void mapi_props_set_b(struct mapi_props *p, uint32_t tag, bool b);
void mapi_props_set_i8(struct mapi_props *p, uint32_t tag, int64_t i8);
void mapi_props_set_ft(struct mapi_props *p, uint32_t tag, uint64_t ft);
void mapi_props_set_str(struct mapi_props *p, uint32_t tag, const char *s);
void mapi_props_set_bin(struct mapi_props *p, uint32_t tag, const void *data,
			size_t len);
void mapi_props_remove(struct mapi_props *p, uint16_t id);

/* Readers with a fallback for a value that is absent or of another type. */
int32_t mapi_props_l(const struct mapi_props *p, uint16_t id, int32_t dflt);
bool mapi_props_b(const struct mapi_props *p, uint16_t id, bool dflt);
/* PtypString's UTF-8, or NULL (PtypString8 values are not converted:
 * use mapi_props_get and the message's code page). */
const char *mapi_props_str(const struct mapi_props *p, uint16_t id);

/* FILETIME <-> seconds since 1970 (UTC); out-of-range times are held to
 * the ends of the FILETIME range. */
uint64_t mapi_ft_from_unix(int64_t secs);
int64_t mapi_ft_to_unix(uint64_t ft);

struct mapi_message;

struct mapi_recipient {
	struct mapi_props props;
};

struct mapi_attachment {
	struct mapi_props props;	/* PidTagAttachDataBinary holds the
					   bytes of a by-value attachment */
	struct mapi_message *embedded;	/* owned; AttachMethod 5, else NULL */
};

struct mapi_message {
	struct mapi_props props;
	size_t n_recips, cap_recips;
	struct mapi_recipient *recips;	/* owned */
	size_t n_attach, cap_attach;
	struct mapi_attachment *attach;	/* owned */
};

/* Caller owns the result (mapi_message_free). */
struct mapi_message *mapi_message_new(void);
void mapi_message_free(struct mapi_message *m);

/* A new empty recipient or attachment at the end; borrowed, valid until the
 * next one is added. */
struct mapi_recipient *mapi_message_add_recip(struct mapi_message *m);
struct mapi_attachment *mapi_message_add_attach(struct mapi_message *m);

#endif
