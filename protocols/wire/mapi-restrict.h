/*
 * mapi-restrict.h - restrictions (MS-OXCDATA 2.12) as a tree, read from and
 * written to the buffers that carry them: RopRestrict and the search
 * criteria of ROP buffers, and the filters of NSPI GetMatches over MAPI/HTTP
 * (MS-OXCMAPIHTTP 2.2.5.5).
 *
 * The carriers differ in two ways, which a `struct mapi_res_form` names:
 * the width of the count of an And or Or restriction (16 bits in ROP
 * buffers, 32 bits in NSPI and in extended rules), and the form of the
 * property value a Content or Property restriction holds (MS-OXCDATA's
 * TaggedPropertyValue in ROP buffers; in NSPI a presence byte and then an
 * AddressBookTaggedPropertyValue).  The value codec is the form's; this
 * file knows only the tree.
 *
 * Hostile input: a tree deeper than MAPI_RES_MAX_DEPTH or with more than
 * MAPI_RES_MAX_NODES restrictions is refused (-EPROTO), and no array is
 * allocated before the bytes left are known to be able to hold it.
 *
 * Ownership: a tree owns its children and values; mapi_res_free() frees
 * it all.
 */
#ifndef MFS_MAPI_RESTRICT_H
#define MFS_MAPI_RESTRICT_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "mapi-buf.h"
#include "mapi-prop.h"

/* RestrictType, MS-OXCDATA 2.12. */
enum mapi_res_type {
	MAPI_RES_AND = 0x00,
	MAPI_RES_OR = 0x01,
	MAPI_RES_NOT = 0x02,
	MAPI_RES_CONTENT = 0x03,
	MAPI_RES_PROPERTY = 0x04,
	MAPI_RES_COMPAREPROPS = 0x05,
	MAPI_RES_BITMASK = 0x06,
	MAPI_RES_SIZE = 0x07,
	MAPI_RES_EXIST = 0x08,
	MAPI_RES_SUBRESTRICTION = 0x09,
	MAPI_RES_COMMENT = 0x0A,
	MAPI_RES_COUNT = 0x0B,
};

/* RelOp values, MS-OXCDATA 2.12.4. */
#define MAPI_RELOP_LT		0x00
#define MAPI_RELOP_LE		0x01
#define MAPI_RELOP_GT		0x02
#define MAPI_RELOP_GE		0x03
#define MAPI_RELOP_EQ		0x04
#define MAPI_RELOP_NE		0x05
#define MAPI_RELOP_RE		0x06
#define MAPI_RELOP_MEMBER_OF_DL	0x64

/* FuzzyLevelLow and FuzzyLevelHigh, MS-OXCDATA 2.12.3. */
#define MAPI_FL_FULLSTRING	0x0000
#define MAPI_FL_SUBSTRING	0x0001
#define MAPI_FL_PREFIX		0x0002
#define MAPI_FL_IGNORECASE	0x0001
#define MAPI_FL_IGNORENONSPACE	0x0002
#define MAPI_FL_LOOSE		0x0004

/* BitmapRelOp, MS-OXCDATA 2.12.6. */
#define MAPI_BMR_EQZ		0x00
#define MAPI_BMR_NEZ		0x01

/* How deep a tree may nest and how many restrictions it may hold. */
#define MAPI_RES_MAX_DEPTH	32
#define MAPI_RES_MAX_NODES	4096

/*
 * One restriction.  Which member of `u` is live follows `type`:
 * AND, OR: list; NOT: sub; CONTENT: content; PROPERTY: prop;
 * COMPAREPROPS: cmp; BITMASK: bitmask; SIZE: size; EXIST: exist;
 * SUBRESTRICTION: subobj; COMMENT: comment; COUNT: count.
 *
 * A value pointer is NULL only when an NSPI filter said the value is
 * absent (its presence byte was 0); the ROP form then writes a PtypNull.
 */
struct mapi_res {
	uint8_t type;
	union {
		struct {
			uint32_t n;
			struct mapi_res *a;		/* owned, n of them */
		} list;
		struct mapi_res *sub;			/* owned */
		struct {
			uint16_t fuzzy_low;
			uint16_t fuzzy_high;
			uint32_t tag;
			struct mapi_value *val;		/* owned */
		} content;
		struct {
			uint8_t relop;
			uint32_t tag;
			struct mapi_value *val;		/* owned */
		} prop;
		struct {
			uint8_t relop;
			uint32_t tag1;
			uint32_t tag2;
		} cmp;
		struct {
			uint8_t relop;
			uint32_t tag;
			uint32_t mask;
		} bitmask;
		struct {
			uint8_t relop;
			uint32_t tag;
			uint32_t size;
		} size;
		struct {
			uint32_t tag;
		} exist;
		struct {
			uint32_t subobject;		/* PidTagMessageRecipients
							   or ...Attachments */
			struct mapi_res *res;		/* owned */
		} subobj;
		struct {
			uint8_t n_vals;
			struct mapi_value *vals;	/* owned, n_vals */
			struct mapi_res *res;		/* owned; NULL when
							   RestrictionPresent
							   is 0 */
		} comment;
		struct {
			uint32_t count;
			struct mapi_res *res;		/* owned */
		} count;
	} u;
};

/*
 * A carrier's form of restrictions.  `val_read` reads one tagged value
 * (MS-OXCDATA's TaggedPropertyValue or its NSPI counterpart) into *v,
 * returning 0 or -errno and leaving *v empty on failure; `val_write`
 * writes one.  `val_marker` says a presence byte comes before each value
 * of a Content or Property restriction (NSPI: 0xFF present, 0 absent).
 */
struct mapi_res_form {
	uint8_t count_width;			/* 2 or 4 */
	bool val_marker;
	int (*val_read)(struct mapi_rd *r, struct mapi_value *v);
	void (*val_write)(GByteArray *b, const struct mapi_value *v);
};

/*
 * The forms of MS-OXCDATA's own carriers, with its TaggedPropertyValue
 * (mapi-propval.h): ROP buffers (16-bit counts, 16-bit binary counts) and
 * extended rules (32-bit both).  NSPI's is nspi_res_form (nspi.h).
 */
extern const struct mapi_res_form mapi_res_form_rop;
extern const struct mapi_res_form mapi_res_form_ext;

/*
 * Read one restriction.  Returns 0 with *res_r set (caller owns it:
 * mapi_res_free), or -EBADMSG (truncated), -EPROTO (an unknown type, a
 * count that cannot fit, a tree too deep or too large, a value the form
 * refuses), -EILSEQ (a bad string); *res_r is NULL then.
 */
int mapi_res_read(struct mapi_rd *r, const struct mapi_res_form *f,
		  struct mapi_res **res_r);

/* Write `res` in the form `f`. */
void mapi_res_write(GByteArray *b, const struct mapi_res_form *f,
		    const struct mapi_res *res);

void mapi_res_free(struct mapi_res *res);

/* Whether two trees say the same (types, operators, tags and values). */
bool mapi_res_equal(const struct mapi_res *a, const struct mapi_res *b);

/*
 * Builders for the common shapes.  Each returns a new tree the caller
 * owns.  mapi_res_new_prop and mapi_res_new_content copy `val`;
 * mapi_res_new_list takes ownership of the n trees in `subs` (the array
 * itself stays the caller's); mapi_res_new_not takes ownership of `sub`.
 */
struct mapi_res *mapi_res_new_prop(uint8_t relop, uint32_t tag,
				   const struct mapi_value *val);
struct mapi_res *mapi_res_new_content(uint16_t fuzzy_low,
				      uint16_t fuzzy_high, uint32_t tag,
				      const struct mapi_value *val);
struct mapi_res *mapi_res_new_exist(uint32_t tag);
struct mapi_res *mapi_res_new_list(uint8_t type, struct mapi_res **subs,
				   uint32_t n);
struct mapi_res *mapi_res_new_not(struct mapi_res *sub);

#endif
