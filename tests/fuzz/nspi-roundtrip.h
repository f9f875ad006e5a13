/*
 * nspi-roundtrip.h - for the NSPI tests and fuzz target: each call's
 * request and response read from a body and written back, in a table
 * indexed by enum nspi_op.  Included by one file of each program.
 */
#ifndef MFS_TEST_NSPI_ROUNDTRIP_H
#define MFS_TEST_NSPI_ROUNDTRIP_H

#include <glib.h>
#include <stdint.h>

#include "wire/nspi.h"

/* Read a body and write it back: 0, or the reader's error. */
typedef int (*rt_fn)(const uint8_t *p, size_t len, GByteArray *out);

#define RT2(name, resp)							\
	static int rt_req_##name(const uint8_t *p, size_t len,		\
				 GByteArray *out)			\
	{								\
		struct nspi_##name##_req q;				\
		int rc = nspi_##name##_req_read(p, len, &q);		\
		if (rc == 0) {						\
			nspi_##name##_req_write(out, &q);		\
			nspi_##name##_req_clear(&q);			\
		}							\
		return rc;						\
	}								\
	static int rt_resp_##name(const uint8_t *p, size_t len,	\
				  GByteArray *out)			\
	{								\
		struct nspi_##resp##_resp s;				\
		int rc = nspi_##resp##_resp_read(p, len, &s);		\
		if (rc == 0) {						\
			nspi_##resp##_resp_write(out, &s);		\
			nspi_##resp##_resp_clear(&s);			\
		}							\
		return rc;						\
	}

#define RT(name) RT2(name, name)

RT(bind) RT2(unbind, plain) RT(compare_mids) RT(dn_to_mid) RT(get_matches)
RT(get_prop_list) RT(get_props) RT(get_special_table) RT(get_template_info)
RT2(mod_link_att, plain) RT2(mod_props, plain) RT(query_columns) RT(query_rows)
RT(resolve_names) RT(resort_restriction) RT(seek_entries) RT(update_stat)
RT(get_mailbox_url) RT(get_address_book_url)

#define OP(e, name) [e] = { rt_req_##name, rt_resp_##name }
static const struct {
	rt_fn req, resp;
} ops[NSPI_OP_COUNT] = {
	OP(NSPI_OP_BIND, bind),
	OP(NSPI_OP_UNBIND, unbind),
	OP(NSPI_OP_COMPARE_MIDS, compare_mids),
	OP(NSPI_OP_DN_TO_MID, dn_to_mid),
	OP(NSPI_OP_GET_MATCHES, get_matches),
	OP(NSPI_OP_GET_PROP_LIST, get_prop_list),
	OP(NSPI_OP_GET_PROPS, get_props),
	OP(NSPI_OP_GET_SPECIAL_TABLE, get_special_table),
	OP(NSPI_OP_GET_TEMPLATE_INFO, get_template_info),
	OP(NSPI_OP_MOD_LINK_ATT, mod_link_att),
	OP(NSPI_OP_MOD_PROPS, mod_props),
	OP(NSPI_OP_QUERY_COLUMNS, query_columns),
	OP(NSPI_OP_QUERY_ROWS, query_rows),
	OP(NSPI_OP_RESOLVE_NAMES, resolve_names),
	OP(NSPI_OP_RESORT_RESTRICTION, resort_restriction),
	OP(NSPI_OP_SEEK_ENTRIES, seek_entries),
	OP(NSPI_OP_UPDATE_STAT, update_stat),
	OP(NSPI_OP_GET_MAILBOX_URL, get_mailbox_url),
	OP(NSPI_OP_GET_ADDRESS_BOOK_URL, get_address_book_url),
};

#endif
