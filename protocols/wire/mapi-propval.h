/*
 * mapi-propval.h - the wire forms of property values, MS-OXCDATA 2.11:
 * PropertyValue (a value whose type the reader already knows),
 * TaggedPropertyValue, TypedPropertyValue, FlaggedPropertyValue (with and
 * without type), TypedString; PropertyTagArray (2.12), PropertyProblem
 * arrays (2.7) and PropertyRow, standard and flagged (2.8), read against a
 * column set.  ROP buffers (MS-OXCROPS) and notification payloads are built
 * of these.  No I/O.
 *
 * Widths (MS-OXCDATA 2.11.1.1): in ROP buffers the byte count of a
 * PtypBinary (and PtypServerId, PtypObject) is 16 bits and the value count
 * of every multi-valued type 32 bits; elsewhere (extended rules) byte
 * counts are 32 bits too.  The flag MAPI_PV_BIN32 picks the second form.
 *
 * Strings follow their type, never a connection-wide setting: PtypString
 * is UTF-16LE and NUL-terminated on the wire and held as UTF-8; PtypString8
 * is 8-bit and NUL-terminated and held as the bytes received.  A request's
 * "want Unicode" only decides which type a server picks for a column asked
 * for as PtypUnspecified, and such a column carries its type on the wire
 * (TypedPropertyValue), so the reader needs no more than the column set.
 *
 * Readers return 0 or -errno: -EBADMSG (the bytes end too early), -EPROTO
 * (an unknown type, a count that cannot fit in what is left, a flag out of
 * its range), -EILSEQ (a string that is not what its type says).  A reader
 * never allocates from a count before checking the bytes left can hold it.
 * On failure the output is cleared (nothing to free).
 *
 * Ownership: outputs are owned by the caller (mapi_value_clear,
 * mapi_row_clear, g_free for arrays); writers borrow their inputs and
 * append to a GByteArray the caller owns.
 */
#ifndef MFS_MAPI_PROPVAL_H
#define MFS_MAPI_PROPVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mapi-buf.h"
#include "mapi-prop.h"

/* PtypBinary byte counts are 32 bits (outside ROP buffers). */
#define MAPI_PV_BIN32 0x1u

/*
 * A PropertyValue of the type of `tag` (not PtypUnspecified), into *v with
 * v->tag = tag.  The value is overwritten, not cleared first.
 */
int mapi_pv_read(struct mapi_rd *r, uint32_t tag, unsigned fl,
		 struct mapi_value *v);

/*
 * The PropertyValue of *v in the form of its own type.  Returns 0, or
 * -EPROTO for a type with no wire form here (nothing is written) or
 * -EILSEQ for a PtypString that is not UTF-8 (an empty string is written
 * in its place, so that what follows stays readable).
 */
int mapi_pv_write(GByteArray *b, const struct mapi_value *v, unsigned fl);

/* TaggedPropertyValue: PropertyTag u32, then the value. */
int mapi_tagged_pv_read(struct mapi_rd *r, unsigned fl, struct mapi_value *v);
int mapi_tagged_pv_write(GByteArray *b, const struct mapi_value *v,
			 unsigned fl);

/* TypedPropertyValue: PropertyType u16, then the value; v->tag gets
 * property id `id` and the type read. */
int mapi_typed_pv_read(struct mapi_rd *r, uint16_t id, unsigned fl,
		       struct mapi_value *v);
int mapi_typed_pv_write(GByteArray *b, const struct mapi_value *v,
			unsigned fl);

/* The Flag byte of a FlaggedPropertyValue. */
#define MAPI_PV_PRESENT 0x00	/* the value follows */
#define MAPI_PV_ABSENT 0x01	/* nothing follows */
#define MAPI_PV_ERROR 0x0A	/* a PtypErrorCode follows */

/*
 * FlaggedPropertyValue for a column `tag`, or FlaggedPropertyValueWithType
 * (PropertyType u16 first) when the column's type is PtypUnspecified.
 * *flag_r gets the flag; with MAPI_PV_ERROR, *v is the error as a
 * PtypErrorCode value of the column's id; with MAPI_PV_ABSENT, *v is an
 * empty value (PtypNull).
 */
int mapi_flagged_pv_read(struct mapi_rd *r, uint32_t tag, unsigned fl,
			 uint8_t *flag_r, struct mapi_value *v);
int mapi_flagged_pv_write(GByteArray *b, uint32_t tag, uint8_t flag,
			  const struct mapi_value *v, unsigned fl);

/* TypedString, MS-OXCDATA 2.11.3: a StringType byte, then the string. */
enum mapi_tstr_type {
	MAPI_TSTR_NONE = 0x00,		/* no string */
	MAPI_TSTR_EMPTY = 0x01,		/* an empty string, no bytes */
	MAPI_TSTR_8BIT = 0x02,		/* 8-bit, NUL-terminated */
	MAPI_TSTR_REDUCED = 0x03,	/* UTF-16 with the high bytes (all
					   zero) left out: Latin-1 */
	MAPI_TSTR_UNICODE = 0x04,	/* UTF-16LE, NUL-terminated */
};

struct mapi_tstr {
	uint8_t type;			/* enum mapi_tstr_type */
	char *str;			/* owned; NULL for NONE; "" for EMPTY;
					   UTF-8 for REDUCED and UNICODE, the
					   bytes received for 8BIT */
};

int mapi_tstr_read(struct mapi_rd *r, struct mapi_tstr *s);
/* Writes s->type's form; a REDUCED string with a character past U+00FF,
 * or a UNICODE one that is not UTF-8, goes as UNICODE / empty. */
void mapi_tstr_write(GByteArray *b, const struct mapi_tstr *s);
void mapi_tstr_clear(struct mapi_tstr *s);

/* PropertyTagArray: Count u16, then the tags.  *tags_r is owned by the
 * caller (NULL when the count is 0). */
int mapi_tags_read(struct mapi_rd *r, uint32_t **tags_r, size_t *n_r);
/* `n` must be at most 0xFFFF. */
void mapi_tags_write(GByteArray *b, const uint32_t *tags, size_t n);

/* PropertyProblem, MS-OXCDATA 2.7. */
struct mapi_problem {
	uint16_t index;			/* into the request's property list */
	uint32_t tag;
	uint32_t err;
};

/* PropertyProblemArray: Count u16, then the problems.  *p_r is owned by
 * the caller. */
int mapi_problems_read(struct mapi_rd *r, struct mapi_problem **p_r,
		       size_t *n_r);
void mapi_problems_write(GByteArray *b, const struct mapi_problem *p,
			 size_t n);

/*
 * A PropertyRow: one value per column of a column set.  `props` holds the
 * values present (with MAPI_PV_ERROR, a PtypErrorCode value of the
 * column's id), `status` the Flag of each column (all MAPI_PV_PRESENT in
 * a standard row).
 */
struct mapi_row {
	uint8_t flagged;		/* 0 StandardPropertyRow, 1 Flagged */
	size_t n;			/* columns */
	uint8_t *status;		/* owned; n entries */
	struct mapi_props props;
};

#define MAPI_ROW_STANDARD 0x00
#define MAPI_ROW_FLAGGED 0x01

int mapi_row_read(struct mapi_rd *r, const uint32_t *cols, size_t n,
		  unsigned fl, struct mapi_row *row);

/*
 * The row against `cols` (row->n must equal n).  A standard row writes,
 * for a column with no value in the bag, the empty form of the column's
 * type (zero, "", no bytes), so that the row still has its shape.
 * Returns 0 or the first error of mapi_pv_write (the row is still
 * written whole).
 */
int mapi_row_write(GByteArray *b, const struct mapi_row *row,
		   const uint32_t *cols, size_t n, unsigned fl);
void mapi_row_clear(struct mapi_row *row);

/*
 * A row of `cols` from a bag, as a server answers: a column whose id has
 * no value becomes MAPI_PV_ERROR with MAPI_E_NOT_FOUND and makes the row
 * flagged; a PtypErrorCode value in the bag does the same with its code.
 * *row is overwritten, not cleared first.
 */
void mapi_row_from_props(struct mapi_row *row, const uint32_t *cols,
			 size_t n, const struct mapi_props *src);

/* Rows in a sequence (RopQueryRows, RopFindRow): `count` rows are read;
 * *rows_r is owned by the caller (mapi_rows_free). */
int mapi_rows_read(struct mapi_rd *r, size_t count, const uint32_t *cols,
		   size_t n, unsigned fl, struct mapi_row **rows_r);
void mapi_rows_free(struct mapi_row *rows, size_t count);

#endif
