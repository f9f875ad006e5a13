/*
 * msgprops.h - the EWS and MAPI properties of a message that stand
 * for Maildir flags, both ways: what a message with some flags shows, and
 * what a client's change to a property does to them.
 *
 * Specs: [MS-OXWSMSG] (IsRead, IsDraft), [MS-OXWSFLAG] (Flag,
 * FlagStatus), [MS-OXWSCORE] 2.2.4.x (SetItemField, AppendToItemField,
 * DeleteItemField, ExtendedFieldURI), [MS-OXPROPS] (PidTagMessageFlags
 * 0x0E07, PidTagLastVerbExecuted 0x1081, PidTagFlagStatus 0x1090),
 * [MS-OXOMSG] 2.2.1.6 (message flag bits), [MS-OXOFLAG] (flag status
 * values).
 *
 * The mapping of flags onto properties is wire/ews-props.h, the one the
 * client uses too; this file walks the request's XML.
 *
 * Nodes are borrowed from the request.
 */
#ifndef MFS_EWS_SERVER_MSGPROPS_H
#define MFS_EWS_SERVER_MSGPROPS_H

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>

#include "wire/ews-props.h"

/* The PropertyTag of a t:ExtendedFieldURI ("0x0E07" or decimal) in
 * *tag_r.  Returns 0, or -EINVAL for a named property or a bad tag. */
int ewsd_prop_tag(const xmlNode *uri, unsigned *tag_r);

/*
 * Apply one t:SetItemField, t:AppendToItemField or t:DeleteItemField to
 * *flags.  Returns 0, -ENOTSUP for a property this server cannot change
 * (the message's content is never rewritten), or -EINVAL for a change
 * that is malformed or holds a value out of range.
 */
int ewsd_msgprops_apply_change(const xmlNode *change, uint64_t *flags);

/*
 * The flags a new message gets from the properties of the t:Message of a
 * CreateItem: IsRead and the flag properties; and its arrival date from
 * PidTagMessageDeliveryTime in *date_r (0 when not given).
 * *has_message_flags_r tells whether PidTagMessageFlags was given (without
 * it the message is a draft, as Exchange makes it).  Other properties are
 * not kept.  Returns 0 or -EINVAL.
 */
int ewsd_msgprops_from_item(const xmlNode *message, uint64_t *flags_r,
			   bool *has_message_flags_r, int64_t *date_r);

/* Append a t:ExtendedProperty for the property `uri` (echoed as the
 * client wrote it, so that it can match the answer to its question) when
 * the message has a value for it. */
void ewsd_msgprops_write_ext(GString *out, const xmlNode *uri, uint64_t flags);

#endif
