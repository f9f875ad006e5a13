/*
 * event.h - calendar items as iCalendar objects (event.c), and the file
 * names of contacts and events (names.c), for the EWS client's pim.c.
 *
 * Every function that can fail returns 0 or -errno.  Results through _r
 * parameters and returned strings belong to the caller.
 */
#ifndef MFS_EWS_CLIENT_EVENT_H
#define MFS_EWS_CLIENT_EVENT_H

#include "ewsc-private.h"

/* ---- event.c ---- */

/*
 * The iCalendar object a calendar item's decoded MimeContent `buf`
 * holds: the bytes themselves when they are a VCALENDAR; else, taken as a
 * MIME message, its first text/calendar part that is one, decoded
 * (base64, quoted-printable) and made UTF-8 from its charset, whole.
 * *ics_r is NUL-terminated.  Returns 0, or -EINVAL when there is none.
 */
int ewsc_event_from_mime(const guchar *buf, size_t len, char **ics_r,
			 size_t *len_r);

/*
 * One VEVENT made from the properties of a t:CalendarItem (`item`):
 * UID (a hash of the ItemId without one), DTSTAMP, DTSTART and DTEND in
 * UTC (DATE values for an all-day event), SUMMARY, LOCATION, DESCRIPTION
 * from the text Body, RRULE from Recurrence, ORGANIZER and the attendees
 * with their roles and answers.  Returns 0, or -EINVAL without a Start.
 */
int ewsc_event_from_props(const xmlNode *item, char **ics_r, size_t *len_r);

/* The ItemShape content (BodyType and AdditionalProperties) that
 * ewsc_event_from_props() reads. */
void ewsc_event_req_props(GString *req);

/* ---- names.c ---- */

/*
 * What a person looks for: the card's FN (else its N, ORG or first
 * EMAIL), or the event's start date as written in its own zone and its
 * SUMMARY ("2026-12-08 Team meeting"), made a file name without its
 * suffix: runs of white space and control characters one space, trimmed,
 * a leading '.' and what name_escape() escapes written "%XX", at most
 * EWSC_NAME_MAX bytes (cut at a character).  Never "" ("Contact" or
 * "Event" stand in for an item with nothing to show).
 */
#define EWSC_NAME_MAX 180
char *ewsc_name_of_card(const char *buf, size_t len);
char *ewsc_name_of_event(const char *buf, size_t len);

/*
 * The UID of card *card (*len bytes; both replaced) made a function of
 * `seed` (the ItemId, or a directory entry's address): a card made from
 * a t:Contact gets a new random UID each time, and one that changed at
 * every sync or remount would be a new card to every address book.
 * Returns 0, or -EINVAL / -EFBIG leaving the card as it was.
 */
int ewsc_card_uid(char **card, size_t *len, const char *seed);

/* One item of a folder to be named. */
struct ewsc_named {
	const char *item_id;		/* borrowed */
	const char *base;		/* borrowed; from ewsc_name_of_* */
	char *name;			/* out: owned */
};

/*
 * Name every item of one folder: the items sharing a base, in the order
 * of their ItemIds, are "<base><suffix>", "<base> (2)<suffix>", ... with
 * each name not taken by an item's own base, so that the names are a
 * function of the folder's items alone (a wiped cache names them alike).
 */
void ewsc_names_assign(struct ewsc_named *items, size_t n,
		       const char *suffix);

#endif
