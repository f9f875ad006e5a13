/*
 * ews-props.h - the one mapping between Maildir flags and the properties of
 * an EWS message, for the client (protocols/ews/flags.c), which reads and
 * writes them on an Exchange server, and for the embedded server
 * (protocols/serve/ews/msgprops.c), which shows them and applies a
 * client's changes.
 *
 * Specs: [MS-OXWSMSG] (IsRead, IsDraft), [MS-OXWSFLAG] (Flag, FlagStatus),
 * [MS-OXPROPS] (PidTagMessageFlags 0x0E07, PidTagLastVerbExecuted 0x1081,
 * PidTagFlagStatus 0x1090), [MS-OXOMSG] 2.2.1.6 (message flag bits:
 * mfRead 0x1, mfUnsent 0x8), [MS-OXOFLAG] (flag status values),
 * [MS-OXPROPS] PidLidImapDeleted.
 *
 *   S  IsRead true; PidTagMessageFlags & mfRead
 *   D  PidTagMessageFlags & mfUnsent (IsDraft)
 *   F  FlagStatus Flagged; PidTagFlagStatus 2 (1, complete, is not F: a
 *      Maildir flag has two states)
 *   R  PidTagLastVerbExecuted 102 (reply) or 103 (reply to all)
 *   P  PidTagLastVerbExecuted 104 (forward)
 *   T  PidLidImapDeleted (PSETID_Common, LID 0x8570) non-zero: a message
 *      an IMAP client marked \Deleted, which DavMail keeps there
 * The last verb is one value, so R and P together are written as R.
 *
 * No XML here: both sides walk their own documents and come here for what
 * a value means.  Flags have the bit layout of common/maildir-name.h (one
 * bit per letter), the layout of MFS_FLAG_* in protocols/backend.h.
 */
#ifndef MFS_EWS_PROPS_H
#define MFS_EWS_PROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EWS_PR_MESSAGE_FLAGS 0x0E07u
#define EWS_PR_LAST_VERB_EXECUTED 0x1081u
#define EWS_PR_FLAG_STATUS 0x1090u
#define EWS_MSGFLAG_READ 0x1
#define EWS_MSGFLAG_UNSENT 0x8
#define EWS_VERB_REPLY_TO_SENDER 102
#define EWS_VERB_REPLY_TO_ALL 103
#define EWS_VERB_FORWARD 104
#define EWS_FLAG_STATUS_COMPLETE 1
#define EWS_FLAG_STATUS_FLAGGED 2
/* PidLidImapDeleted is a named property; it is given a number above every
 * PropertyTag (which are 16 bits) so that it is looked up as they are. */
#define EWS_LID_IMAP_DELETED 0x18570u
#define EWS_PSETID_COMMON_IMAP_DELETED 0x8570u

/* The MAPI properties that stand for flags, in the order a client asks
 * for them. */
extern const unsigned ews_flag_props[3];

/*
 * The value of property `tag` for a message with `flags`.  Returns 0 with
 * *v_r, -ENODATA when the message has no such value (not flagged, no
 * verb), -ENOTSUP for a property that is not a flag.
 */
int ews_prop_value(uint64_t flags, unsigned tag, long *v_r);

/* The flags that value `v` of property `tag` stands for; 0 for a value or
 * a property that stands for none. */
uint64_t ews_prop_flags(unsigned tag, long v);

/* Every flag property `tag` can stand for; 0 for a property that is not
 * a flag. */
uint64_t ews_prop_mask(unsigned tag);

/* "Flagged" or "NotFlagged", the FlagStatus of a message with `flags`. */
const char *ews_flag_status(uint64_t flags);

/* Whether FlagStatus `status` is F: "Flagged" sets *flagged_r, and
 * "NotFlagged" and "Complete" clear it.  Returns 0 or -EINVAL. */
int ews_flag_status_parse(const char *status, bool *flagged_r);

/* An xs:boolean as EWS writes it ("true", "false", "1", "0").  Returns 0
 * or -EINVAL. */
int ews_bool_parse(const char *text, bool *v_r);

/* The PropertyTag of an ExtendedFieldURI as a client writes it: "0x0E07"
 * or decimal, at most 0xFFFF.  Returns 0 or -EINVAL. */
int ews_prop_tag_parse(const char *text, unsigned *tag_r);

#endif
