/*
 * mapi-pim.h - contacts (IPM.Contact) as vCards and appointments
 * (IPM.Appointment) as iCalendar objects, and back: what the mount shows
 * as `.vcf` and `.ics` files of a MAPI contacts or calendar folder, and
 * what `mailfs serve --mapi` makes of the store's `.vcf` and `.ics`
 * files.
 *
 * Specs: [MS-OXVCARD] (contacts and vCard), [MS-OXOCNTC] (contact
 * properties), [MS-OXCICAL] (appointments and iCalendar), [MS-OXOCAL]
 * (appointment properties, the recurrence pattern), [MS-OXPROPS] (the
 * named properties' sets and ids), RFC 2426 and RFC 6350 (vCard),
 * RFC 5545 (iCalendar).
 *
 * Most properties of both kinds are named properties (PSETID_Address,
 * PSETID_Appointment, PSETID_Common, PSETID_Meeting ...): their ids
 * (0x8000 and above) differ from one mailbox to another.  The functions
 * ask `names` for the id of each name they use; a name without an id is
 * a property the message does not have (rendering) or cannot hold
 * (parsing: the property is left out); `names` NULL gives no name an id.
 * The property set GUIDs of mapi_pim_names_used() are in wire order
 * (MS-OXCDATA 2.5.1), as mapi-fx.h's reader hands names out.
 *
 * Rendering is deterministic, as mapi-mail.h's: the same properties give
 * the same bytes whenever they are rendered, because the mount shows the
 * result as a file whose size is known before it is read.  Lines end in
 * CRLF and are folded at 75 octets.
 *
 * Parsing is bounded by the limits of vcard.h.
 *
 * Every function that can fail returns 0 or -errno: -EINVAL for input
 * that is not a vCard / an iCalendar object with a VEVENT, -EFBIG past
 * the limits.  Ownership: arguments are borrowed for the call; results
 * through _r parameters and `out` belong to the caller.
 *
 * docs/MAPI.md ("Contacts and appointments") has the mapping tables and
 * what is not carried.
 */
#ifndef MFS_MAPI_PIM_H
#define MFS_MAPI_PIM_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mapi-fx.h"
#include "mapi-prop.h"

/* The ids of named properties in one mailbox (or one message). */
struct mapi_pim_names {
	/* The id (0x8000..0xFFFE) `name` has, or 0 when it has none. */
	uint16_t (*id_of)(void *ctx, const struct mapi_fx_named *name);
	void *ctx;
};

/* Every named property these functions read or write, so that a server
 * can give each an id before it parses or renders anything.  Among them
 * is one name of this project's own, "mailfs-vcard-uid" in
 * PS_PUBLIC_STRINGS, which keeps a vCard's UID.  id_of() is called with
 * pointers into this table.  Borrowed; static; *n_r is set to the
 * count. */
const struct mapi_fx_named *mapi_pim_names_used(size_t *n_r);

/*
 * The vCard (3.0) of contact `m`, appended to `out`.  The contact's photo
 * (an attachment with PidTagAttachmentContactPhoto) becomes PHOTO.
 * Returns 0 or -EINVAL (`m` NULL).
 */
int mapi_contact_render(const struct mapi_message *m,
			const struct mapi_pim_names *names, GByteArray *out);

/*
 * The contact of the first vCard in `buf` (2.1, 3.0 or 4.0):
 * PidTagMessageClass "IPM.Contact" and the properties of docs/MAPI.md's
 * table, PHOTO as a photo attachment.  Returns 0 with *m_r (caller owns,
 * mapi_message_free), -EINVAL, or -EFBIG.
 */
int mapi_contact_parse(const void *buf, size_t len,
		       const struct mapi_pim_names *names,
		       struct mapi_message **m_r);

/*
 * The iCalendar object (VCALENDAR with one VEVENT, VERSION 2.0) of
 * appointment `m`, appended to `out`: times in UTC, or dates for an
 * all-day event; the organizer and attendees from the recipients; the
 * recurrence from PidLidAppointmentRecur where its pattern has an RRULE.
 * Returns 0 or -EINVAL (`m` NULL).
 */
int mapi_appt_render(const struct mapi_message *m,
		     const struct mapi_pim_names *names, GByteArray *out);

/*
 * The appointment of the first VEVENT of the VCALENDAR in `buf`:
 * PidTagMessageClass "IPM.Appointment" and the properties of
 * docs/MAPI.md's table.  Returns 0 with *m_r (caller owns,
 * mapi_message_free), -EINVAL, or -EFBIG.
 */
int mapi_appt_parse(const void *buf, size_t len,
		    const struct mapi_pim_names *names,
		    struct mapi_message **m_r);

#endif
