/*
 * nspi.h - the address book (NSPI) of MAPI over HTTP: the request and
 * response bodies of MS-OXCMAPIHTTP 2.2.5 (Bind ... GetAddressBookUrl),
 * the address-book forms of property values, rows and lists of
 * MS-OXCMAPIHTTP 2.2.1, and the STAT, Minimal Entry IDs and EntryIDs of
 * MS-OXNSPI 2.2.  No I/O: both sides of the wire use these, a client
 * writing requests and reading responses, a server the other way round.
 *
 * The forms, as a real server sends them: every count is 32 bits; a value
 * of type PtypString, PtypString8, PtypBinary or any multi-valued type is
 * preceded by a HasValue byte (0xFF present, 0x00 absent), and so is each
 * string or binary inside a multi-valued one; the string arrays of
 * DNToMId and ResolveNames carry no such bytes.  An optional block is
 * preceded by a byte, 0 when it is absent; what the byte was otherwise
 * (servers send 0xFF, clients often 0x01) is kept in the `has_*` fields
 * and written back as it is, so that a body re-encodes byte for byte.
 *
 * Every response opens with StatusCode; when it is not 0 the body holds
 * only the auxiliary buffer after it (MS-OXCMAPIHTTP 2.2.2.3) and the
 * readers stop there, with the rest of the struct empty.  Otherwise
 * ErrorCode (the NSPI result) follows and then the fields of the call.
 * The binary body of a response starts after the meta-tags (PROCESSING,
 * DONE, X-ElapsedTime ...), which are the HTTP layer's to strip.
 *
 * Readers take a whole body and return 0, -EBADMSG (truncated, or an
 * array longer than the bytes left could hold), -EPROTO (a count past a
 * limit, a flag out of range, a type that cannot travel, bytes after the
 * end), or -EILSEQ (a string that is not what its type promises).  On failure the
 * struct is left empty: nothing to clear.  On success the caller clears it
 * with the call's _clear function.  Writers append to a GByteArray.
 *
 * Ownership: structs own what they point to (strings, arrays, values,
 * restrictions, the auxiliary buffer).
 */
#ifndef MFS_NSPI_H
#define MFS_NSPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mapi-buf.h"
#include "mapi-prop.h"
#include "mapi-restrict.h"

/* What a server sends for "present" in a has_* byte. */
#define NSPI_TRUE 0xFF

/* Positions and results a Minimal Entry ID takes, MS-OXNSPI 2.2.1.8-9. */
#define NSPI_MID_BEGINNING_OF_TABLE	0x0
#define NSPI_MID_CURRENT		0x1
#define NSPI_MID_END_OF_TABLE		0x2
#define NSPI_MID_UNRESOLVED		0x0
#define NSPI_MID_AMBIGUOUS		0x1
#define NSPI_MID_RESOLVED		0x2

/* SortType of a STAT, MS-OXNSPI 2.2.1.11. */
#define NSPI_SORT_DISPLAY_NAME		0x00000000U
#define NSPI_SORT_PHONETIC_DISPLAY_NAME	0x00000003U
#define NSPI_SORT_DISPLAY_NAME_RO	0x000003E8U
#define NSPI_SORT_DISPLAY_NAME_W	0x000003E9U

/* Flags of the calls, MS-OXNSPI 2.2.1.3-7. */
#define NSPI_FLAG_SKIP_OBJECTS		0x00000001U	/* fSkipObjects */
#define NSPI_FLAG_EPH_ID		0x00000002U	/* fEphID */
#define NSPI_FLAG_ANONYMOUS_LOGIN	0x00000020U	/* Bind */
#define NSPI_FLAG_ADDR_CREATION_TEMPLATES 0x00000002U	/* GetSpecialTable */
#define NSPI_FLAG_UNICODE_STRINGS	0x00000004U	/* GetSpecialTable */
#define NSPI_FLAG_UNICODE_PROPTYPES	0x80000000U	/* QueryColumns */
#define NSPI_TI_TEMPLATE		0x00000001U	/* GetTemplateInfo */
#define NSPI_TI_SCRIPT			0x00000004U
#define NSPI_TI_EMT			0x00000010U
#define NSPI_TI_HELPFILE_NAME		0x00000020U
#define NSPI_TI_HELPFILE_CONTENTS	0x00000040U
#define NSPI_MOD_LINK_ATT_DELETE	0x00000001U	/* ModLinkAtt */

/* NSPI results beyond MS-OXCDATA's, MS-OXNSPI 2.2.1.2. */
#define NSPI_E_SUCCESS			0x00000000U
#define NSPI_E_UNBIND_SUCCESS		0x00000001U
#define NSPI_E_UNBIND_FAILURE		0x00000002U
#define NSPI_E_ERRORS_RETURNED		0x00040380U
#define NSPI_E_AMBIGUOUS_RECIP		0x80040700U
#define NSPI_E_TABLE_TOO_BIG		0x80040403U

/* Display types, MS-OXNSPI 2.2.1.3. */
#define NSPI_DT_MAILUSER		0x00000000U
#define NSPI_DT_DISTLIST		0x00000001U
#define NSPI_DT_FORUM			0x00000002U
#define NSPI_DT_AGENT			0x00000003U
#define NSPI_DT_ORGANIZATION		0x00000004U
#define NSPI_DT_PRIVATE_DISTLIST	0x00000005U
#define NSPI_DT_REMOTE_MAILUSER		0x00000006U
#define NSPI_DT_CONTAINER		0x00000100U
#define NSPI_DT_TEMPLATE		0x00000101U
#define NSPI_DT_ADDRESS_TEMPLATE	0x00000102U
#define NSPI_DT_SEARCH			0x00000200U

/* STAT, MS-OXNSPI 2.2.8: where a client stands in an address book
 * container.  36 bytes on the wire. */
struct nspi_stat {
	uint32_t sort_type;
	uint32_t container_id;		/* a MId; 0 is the GAL */
	uint32_t cur_rec;		/* a MId or NSPI_MID_* position */
	int32_t delta;
	uint32_t num_pos;
	uint32_t total_recs;
	uint32_t code_page;
	uint32_t template_locale;
	uint32_t sort_locale;
};
#define NSPI_STAT_SIZE 36

/* Read into *s (the reader's error is sticky: check it after); write. */
void nspi_stat_read(struct mapi_rd *r, struct nspi_stat *s);
void nspi_stat_write(GByteArray *b, const struct nspi_stat *s);

/* A LargePropTagArray (u32 count, tags), or an array of MIds. */
struct nspi_tags {
	uint32_t n;
	uint32_t *tags;			/* owned */
};

struct nspi_mids {
	uint32_t n;
	uint32_t *mids;			/* owned */
};

/* A StringArray_r (8-bit) or WStringArray_r (UTF-16LE on the wire, UTF-8
 * here): u32 count, NUL-terminated strings, no HasValue bytes. */
struct nspi_strs {
	uint32_t n;
	char **s;			/* owned, each owned */
};

/* EntryIDs of ModLinkAtt: u32 count, each a u32 byte count and bytes
 * (a PtypBinary, as MS-OXCMAPIHTTP 2.2.5.10 has them; gromox 3.10 reads
 * them without the byte count, and no recording shows either). */
struct nspi_bins {
	uint32_t n;
	struct mapi_bin *b;		/* owned */
};

/*
 * One address-book value.  `v` holds the tag and the value as mapi-prop.h
 * models it.  `state` says how it travelled:
 *   NSPI_VAL_OK       a value;
 *   NSPI_VAL_NULL     HasValue 0x00: a string, binary or multi-valued
 *                     value without a value (v's union is empty);
 *   NSPI_VAL_MISSING  in a flagged row, Flag 0x1: no value at all;
 *   NSPI_VAL_ERROR    in a flagged row, Flag 0xA: v is retyped
 *                     PtypErrorCode and v.v.err holds the code.
 */
enum nspi_val_state {
	NSPI_VAL_OK = 0,
	NSPI_VAL_NULL,
	NSPI_VAL_MISSING,
	NSPI_VAL_ERROR,
};

struct nspi_val {
	struct mapi_value v;
	uint8_t state;			/* enum nspi_val_state */
};

/* An AddressBookPropertyValueList: u32 count, tagged values. */
struct nspi_vals {
	uint32_t n;
	struct nspi_val *v;		/* owned */
};

/* An AddressBookPropertyRow: Flags 0 (standard) or 1 (flagged), then one
 * value per column of its row set. */
struct nspi_row {
	uint8_t flag;
	struct nspi_vals vals;
};

/* Columns (LargePropTagArray), RowCount and the rows, as the QueryRows,
 * GetMatches, ResolveNames and SeekEntries responses send them. */
struct nspi_rowset {
	struct nspi_tags cols;
	uint32_t n;
	struct nspi_row *rows;		/* owned */
};

/* The auxiliary buffer every body ends with (MS-OXCRPC 3.1.4.1.1.1.1
 * describes its blocks; they are passed through uninterpreted). */

/* The status every response opens with. */
struct nspi_resp_head {
	uint32_t status;		/* StatusCode: 0, else only aux follows */
	uint32_t error;			/* ErrorCode: the NSPI result */
};

/* Limits of what a reader accepts from a peer. */
#define NSPI_MAX_ROWS		65536
#define NSPI_MAX_COLUMNS	4096

void nspi_tags_clear(struct nspi_tags *t);
void nspi_mids_clear(struct nspi_mids *m);
void nspi_strs_clear(struct nspi_strs *s);
void nspi_bins_clear(struct nspi_bins *b);
void nspi_val_clear(struct nspi_val *v);
void nspi_vals_clear(struct nspi_vals *l);
void nspi_row_clear(struct nspi_row *row);
void nspi_rowset_clear(struct nspi_rowset *rs);

/*
 * The pieces, for callers that build or take apart bodies of their own.
 * Readers read at r and return 0 or -errno (also left in r); on failure
 * the output is empty.  `unicode` picks a WStringArray over a StringArray.
 */
int nspi_tags_read(struct mapi_rd *r, struct nspi_tags *t);
void nspi_tags_write(GByteArray *b, const struct nspi_tags *t);
int nspi_mids_read(struct mapi_rd *r, struct nspi_mids *m);
void nspi_mids_write(GByteArray *b, const struct nspi_mids *m);
int nspi_strs_read(struct mapi_rd *r, bool unicode, struct nspi_strs *s);
void nspi_strs_write(GByteArray *b, bool unicode, const struct nspi_strs *s);
int nspi_bins_read(struct mapi_rd *r, struct nspi_bins *bins);
void nspi_bins_write(GByteArray *b, const struct nspi_bins *bins);

/* An AddressBookPropertyValue of type `type` (no tag on the wire). */
int nspi_value_read(struct mapi_rd *r, uint32_t tag, struct nspi_val *v);
/* An AddressBookPropertyValue of v's own type. */
void nspi_value_write(GByteArray *b, const struct nspi_val *v);
/* An AddressBookTaggedPropertyValue: the tag, then the value. */
int nspi_tagged_read(struct mapi_rd *r, struct nspi_val *v);
void nspi_tagged_write(GByteArray *b, const struct nspi_val *v);
int nspi_vals_read(struct mapi_rd *r, struct nspi_vals *l);
void nspi_vals_write(GByteArray *b, const struct nspi_vals *l);

/*
 * A row against its columns.  A column of type PtypUnspecified carries
 * its own type on the wire (AddressBookTypedPropertyValue and
 * AddressBookFlaggedPropertyValueWithType).  The writer writes the flagged
 * form when row->flag is 1 or when any value is missing, an error, or not
 * of its column's type (such a value goes as the error NotFound).
 */
int nspi_row_read(struct mapi_rd *r, const struct nspi_tags *cols,
		  struct nspi_row *row);
void nspi_row_write(GByteArray *b, const struct nspi_tags *cols,
		    const struct nspi_row *row);
int nspi_rowset_read(struct mapi_rd *r, struct nspi_rowset *rs);
void nspi_rowset_write(GByteArray *b, const struct nspi_rowset *rs);

/* The restriction form of NSPI filters (mapi-restrict.h): 32-bit counts,
 * a presence byte and an AddressBookTaggedPropertyValue per value. */
extern const struct mapi_res_form nspi_res_form;

/*
 * Bridges to the property bag of mapi-prop.h.
 * nspi_vals_get: the value of that exact tag when it arrived as a value
 * (state OK), else NULL; borrowed, valid while `l` is.
 * nspi_vals_to_props: copies the OK values into `p` (a later one of the
 * same id replaces an earlier).
 * nspi_row_from_props: the row of `p` under `cols`, for a server's answer:
 * a column `p` has with that type is copied, PtypString8 asked of a
 * PtypString value is given its UTF-8 bytes, anything else is the error
 * NotFound (so the row is flagged).  `row` is overwritten.
 */
const struct mapi_value *nspi_vals_get(const struct nspi_vals *l,
				       uint32_t tag);
void nspi_vals_to_props(const struct nspi_vals *l, struct mapi_props *p);
void nspi_row_from_props(struct nspi_row *row, const struct nspi_tags *cols,
			 const struct mapi_props *p);

/*
 * EntryIDs of address-book objects, MS-OXNSPI 2.2.9: the permanent form
 * (IDType 0x00: the object's DN, an 8-bit string) and the ephemeral form
 * (IDType 0x87: its MId on this server).
 */
#define NSPI_EID_PERMANENT	0x00
#define NSPI_EID_EPHEMERAL	0x87

/* The ProviderUID of permanent EntryIDs (GUID_NSPI). */
extern const uint8_t nspi_guid_nspi[16];

struct nspi_entryid {
	uint8_t type;			/* NSPI_EID_* */
	uint8_t provider[16];		/* GUID_NSPI, or the server's GUID */
	uint32_t display_type;		/* NSPI_DT_* */
	char *dn;			/* owned; permanent only */
	uint32_t mid;			/* ephemeral only */
};

/* Returns 0, -EBADMSG or -EPROTO (another IDType, bytes after the end,
 * reserved fields not zero); on failure *e is empty. */
int nspi_entryid_parse(const void *p, size_t len, struct nspi_entryid *e);
void nspi_entryid_write(GByteArray *b, const struct nspi_entryid *e);
void nspi_entryid_clear(struct nspi_entryid *e);

/*
 * Distinguished names of the address book (ESSDNs, MS-OXNSPI 2.2.1.*:
 * "/o=Org/ou=Site/cn=Recipients/cn=alias").  nspi_dn_rdn gives the value
 * of the RDN `from_end` steps from the end (0: the last), whatever its
 * attribute, or NULL when the DN has fewer; caller owns the result.  The
 * second-to-last of a home-MDB DN names the mailbox of GetMailboxUrl.
 * nspi_dn_equal compares as MS-OXNSPI does, ignoring ASCII case.
 */
char *nspi_dn_rdn(const char *dn, unsigned from_end);
bool nspi_dn_equal(const char *a, const char *b);

/*
 * The request types.  nspi_op_from_name maps an X-RequestType value
 * (case-sensitive, as MS-OXCMAPIHTTP 2.2.3.1.2 spells them) to one, or
 * returns -1; nspi_op_name goes back.
 */
enum nspi_op {
	NSPI_OP_BIND,
	NSPI_OP_UNBIND,
	NSPI_OP_COMPARE_MIDS,
	NSPI_OP_DN_TO_MID,
	NSPI_OP_GET_MATCHES,
	NSPI_OP_GET_PROP_LIST,
	NSPI_OP_GET_PROPS,
	NSPI_OP_GET_SPECIAL_TABLE,
	NSPI_OP_GET_TEMPLATE_INFO,
	NSPI_OP_MOD_LINK_ATT,
	NSPI_OP_MOD_PROPS,
	NSPI_OP_QUERY_COLUMNS,
	NSPI_OP_QUERY_ROWS,
	NSPI_OP_RESOLVE_NAMES,
	NSPI_OP_RESORT_RESTRICTION,
	NSPI_OP_SEEK_ENTRIES,
	NSPI_OP_UPDATE_STAT,
	NSPI_OP_GET_MAILBOX_URL,
	NSPI_OP_GET_ADDRESS_BOOK_URL,
	NSPI_OP_COUNT,
};

int nspi_op_from_name(const char *name);
const char *nspi_op_name(enum nspi_op op);

/* ---- the calls, MS-OXCMAPIHTTP 2.2.5.1-19 ---- */

#define NSPI_CALL(name)							\
	void nspi_##name##_req_write(GByteArray *b,			\
				     const struct nspi_##name##_req *q); \
	int nspi_##name##_req_read(const void *p, size_t len,		\
				   struct nspi_##name##_req *q);	\
	void nspi_##name##_req_clear(struct nspi_##name##_req *q);	\
	void nspi_##name##_resp_write(GByteArray *b,			\
				      const struct nspi_##name##_resp *s); \
	int nspi_##name##_resp_read(const void *p, size_t len,		\
				    struct nspi_##name##_resp *s);	\
	void nspi_##name##_resp_clear(struct nspi_##name##_resp *s)

/* The requests of a call whose response is only the common head and the
 * auxiliary buffer (struct nspi_plain_resp below). */
#define NSPI_REQ(name)							\
	void nspi_##name##_req_write(GByteArray *b,			\
				     const struct nspi_##name##_req *q); \
	int nspi_##name##_req_read(const void *p, size_t len,		\
				   struct nspi_##name##_req *q);	\
	void nspi_##name##_req_clear(struct nspi_##name##_req *q)

/* The response of Unbind, ModLinkAtt and ModProps: StatusCode,
 * ErrorCode and the auxiliary buffer, nothing of their own. */
struct nspi_plain_resp {
	struct nspi_resp_head head;
	struct mapi_bin aux;
};
void nspi_plain_resp_write(GByteArray *b, const struct nspi_plain_resp *s);
int nspi_plain_resp_read(const void *p, size_t len, struct nspi_plain_resp *s);
void nspi_plain_resp_clear(struct nspi_plain_resp *s);

/* Bind, 2.2.5.1: open a session of the address book. */
struct nspi_bind_req {
	uint32_t flags;
	uint8_t has_state;
	struct nspi_stat state;
	struct mapi_bin aux;
};
struct nspi_bind_resp {
	struct nspi_resp_head head;
	uint8_t server_guid[16];
	struct mapi_bin aux;
};
NSPI_CALL(bind);

/* Unbind, 2.2.5.2.  A server answers ErrorCode NSPI_E_UNBIND_SUCCESS. */
struct nspi_unbind_req {
	uint32_t reserved;
	struct mapi_bin aux;
};
NSPI_REQ(unbind);	/* answered by struct nspi_plain_resp */

/* CompareMIds, 2.2.5.3: which of two objects comes first in the table. */
struct nspi_compare_mids_req {
	uint32_t reserved;
	uint8_t has_state;
	struct nspi_stat state;
	uint32_t mid1;
	uint32_t mid2;
	struct mapi_bin aux;
};
struct nspi_compare_mids_resp {
	struct nspi_resp_head head;
	int32_t result;			/* < 0, 0, > 0 */
	struct mapi_bin aux;
};
NSPI_CALL(compare_mids);

/* DNToMId, 2.2.5.4: MIds of objects named by DN (0 for an unknown one). */
struct nspi_dn_to_mid_req {
	uint32_t reserved;
	uint8_t has_names;
	struct nspi_strs names;		/* 8-bit DNs */
	struct mapi_bin aux;
};
struct nspi_dn_to_mid_resp {
	struct nspi_resp_head head;
	uint8_t has_mids;
	struct nspi_mids mids;
	struct mapi_bin aux;
};
NSPI_CALL(dn_to_mid);

/* GetMatches, 2.2.5.5: the rows a filter selects. */
struct nspi_get_matches_req {
	uint32_t reserved1;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_mids;
	struct nspi_mids mids;
	uint32_t reserved2;		/* InterfaceOptionFlags */
	uint8_t has_filter;
	struct mapi_res *filter;	/* owned; NULL without has_filter */
	uint8_t has_prop_name;
	uint8_t prop_name_guid[16];
	uint32_t prop_name_id;
	uint32_t row_count;
	uint8_t has_columns;
	struct nspi_tags columns;
	struct mapi_bin aux;
};
struct nspi_get_matches_resp {
	struct nspi_resp_head head;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_mids;
	struct nspi_mids mids;
	uint8_t has_rows;
	struct nspi_rowset rows;
	struct mapi_bin aux;
};
NSPI_CALL(get_matches);

/* GetPropList, 2.2.5.6: the tags an object has. */
struct nspi_get_prop_list_req {
	uint32_t flags;
	uint32_t mid;
	uint32_t code_page;
	struct mapi_bin aux;
};
struct nspi_get_prop_list_resp {
	struct nspi_resp_head head;
	uint8_t has_tags;
	struct nspi_tags tags;
	struct mapi_bin aux;
};
NSPI_CALL(get_prop_list);

/* GetProps, 2.2.5.7: values of the object at state.cur_rec.  ErrorCode
 * NSPI_E_ERRORS_RETURNED when some come back as PtypErrorCode. */
struct nspi_get_props_req {
	uint32_t flags;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_tags;
	struct nspi_tags tags;
	struct mapi_bin aux;
};
struct nspi_get_props_resp {
	struct nspi_resp_head head;
	uint32_t code_page;
	uint8_t has_vals;
	struct nspi_vals vals;
	struct mapi_bin aux;
};
NSPI_CALL(get_props);

/* GetSpecialTable, 2.2.5.8: the hierarchy of containers (or the
 * address-creation templates), one value list per container. */
struct nspi_get_special_table_req {
	uint32_t flags;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_version;
	uint32_t version;
	struct mapi_bin aux;
};
struct nspi_get_special_table_resp {
	struct nspi_resp_head head;
	uint32_t code_page;
	uint8_t has_version;
	uint32_t version;
	uint8_t has_rows;
	uint32_t n_rows;
	struct nspi_vals *rows;		/* owned, n_rows */
	struct mapi_bin aux;
};
NSPI_CALL(get_special_table);

/* GetTemplateInfo, 2.2.5.9. */
struct nspi_get_template_info_req {
	uint32_t flags;
	uint32_t display_type;
	uint8_t has_template_dn;
	char *template_dn;		/* owned; 8-bit */
	uint32_t code_page;
	uint32_t locale_id;
	struct mapi_bin aux;
};
struct nspi_get_template_info_resp {
	struct nspi_resp_head head;
	uint32_t code_page;
	uint8_t has_row;
	struct nspi_vals row;
	struct mapi_bin aux;
};
NSPI_CALL(get_template_info);

/* ModLinkAtt, 2.2.5.10: add or remove (NSPI_MOD_LINK_ATT_DELETE) links. */
struct nspi_mod_link_att_req {
	uint32_t flags;
	uint32_t tag;
	uint32_t mid;
	uint8_t has_entry_ids;
	struct nspi_bins entry_ids;
	struct mapi_bin aux;
};
NSPI_REQ(mod_link_att);	/* answered by struct nspi_plain_resp */

/* ModProps, 2.2.5.11. */
struct nspi_mod_props_req {
	uint32_t reserved;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_tags;
	struct nspi_tags tags;		/* to remove */
	uint8_t has_vals;
	struct nspi_vals vals;		/* to set */
	struct mapi_bin aux;
};
NSPI_REQ(mod_props);	/* answered by struct nspi_plain_resp */

/* QueryColumns, 2.2.5.12: the columns the address book knows. */
struct nspi_query_columns_req {
	uint32_t reserved;
	uint32_t flags;
	struct mapi_bin aux;
};
struct nspi_query_columns_resp {
	struct nspi_resp_head head;
	uint8_t has_columns;
	struct nspi_tags columns;
	struct mapi_bin aux;
};
NSPI_CALL(query_columns);

/* QueryRows, 2.2.5.13: rows from state.cur_rec on, or of the explicit
 * table (always present on the wire, often empty). */
struct nspi_query_rows_req {
	uint32_t flags;
	uint8_t has_state;
	struct nspi_stat state;
	struct nspi_mids explicit_table;
	uint32_t row_count;
	uint8_t has_columns;
	struct nspi_tags columns;
	struct mapi_bin aux;
};
struct nspi_query_rows_resp {
	struct nspi_resp_head head;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_rows;
	struct nspi_rowset rows;
	struct mapi_bin aux;
};
NSPI_CALL(query_rows);

/* ResolveNames, 2.2.5.14: ambiguous names to MIds (NSPI_MID_*) and rows. */
struct nspi_resolve_names_req {
	uint32_t reserved;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_tags;
	struct nspi_tags tags;
	uint8_t has_names;
	struct nspi_strs names;		/* UTF-16 on the wire */
	struct mapi_bin aux;
};
struct nspi_resolve_names_resp {
	struct nspi_resp_head head;
	uint32_t code_page;
	uint8_t has_mids;
	struct nspi_mids mids;
	uint8_t has_rows;
	struct nspi_rowset rows;
	struct mapi_bin aux;
};
NSPI_CALL(resolve_names);

/* ResortRestriction, 2.2.5.15. */
struct nspi_resort_restriction_req {
	uint32_t reserved;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_mids;
	struct nspi_mids mids;
	struct mapi_bin aux;
};
struct nspi_resort_restriction_resp {
	struct nspi_resp_head head;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_mids;
	struct nspi_mids mids;
	struct mapi_bin aux;
};
NSPI_CALL(resort_restriction);

/* SeekEntries, 2.2.5.16: move to the first row at or after a value. */
struct nspi_seek_entries_req {
	uint32_t reserved;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_target;
	struct nspi_val target;
	uint8_t has_explicit_table;
	struct nspi_mids explicit_table;
	uint8_t has_columns;
	struct nspi_tags columns;
	struct mapi_bin aux;
};
struct nspi_seek_entries_resp {
	struct nspi_resp_head head;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_rows;
	struct nspi_rowset rows;
	struct mapi_bin aux;
};
NSPI_CALL(seek_entries);

/* UpdateStat, 2.2.5.17. */
struct nspi_update_stat_req {
	uint32_t reserved;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t delta_requested;
	struct mapi_bin aux;
};
struct nspi_update_stat_resp {
	struct nspi_resp_head head;
	uint8_t has_state;
	struct nspi_stat state;
	uint8_t has_delta;
	int32_t delta;
	struct mapi_bin aux;
};
NSPI_CALL(update_stat);

/* GetMailboxUrl, 2.2.5.18: the EMSMDB URL of a home-MDB DN. */
struct nspi_get_mailbox_url_req {
	uint32_t flags;
	char *server_dn;		/* owned; UTF-16 on the wire */
	struct mapi_bin aux;
};
struct nspi_get_mailbox_url_resp {
	struct nspi_resp_head head;
	char *url;			/* owned */
	struct mapi_bin aux;
};
NSPI_CALL(get_mailbox_url);

/* GetAddressBookUrl, 2.2.5.19: the NSPI URL of a user DN. */
struct nspi_get_address_book_url_req {
	uint32_t flags;
	char *user_dn;			/* owned; UTF-16 on the wire */
	struct mapi_bin aux;
};
struct nspi_get_address_book_url_resp {
	struct nspi_resp_head head;
	char *url;			/* owned */
	struct mapi_bin aux;
};
NSPI_CALL(get_address_book_url);

#undef NSPI_CALL

#endif
