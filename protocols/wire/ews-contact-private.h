/*
 * ews-contact-private.h - what the two halves of the contact mapping share:
 * the table of fields (contact-xml.c) and merging fields into a parsed
 * card (contact-vcard.c).
 */
#ifndef MFS_EWS_CONTACT_PRIVATE_H
#define MFS_EWS_CONTACT_PRIVATE_H

#include "ews-contact.h"
#include "vcard.h"

#define EWS_CF_PHONES 19
#define EWS_CF_ADDRESSES 3
#define EWS_CF_ADDRESS_PARTS 5

/* How a field is named in EWS. */
struct ews_cf_def {
	const char *elem;	/* element: the field's own, or for a
				   dictionary field its dictionary's
				   ("PhoneNumbers"), for an address part the
				   part's ("City") */
	const char *uri;	/* FieldURI */
	const char *key;	/* FieldIndex and entry Key, or NULL */
};

/* Static; for every field below EWS_CF_COUNT. */
const struct ews_cf_def *ews_cf_def(enum ews_contact_field f);

/* The field a FieldURI (and FieldIndex, NULL when none) names, or -1. */
int ews_cf_from_uri(const char *uri, const char *index);

/* Write the field `f` alone as the content of a t:Contact. */
void ews_contact_write_one(const struct ews_contact *c,
			   enum ews_contact_field f, GString *out);

/* Apply the non-NULL fields of `c` to `card` ("" removes).  Returns 0
 * or -EFBIG when the card would pass its limits. */
int ews_contact_apply(struct vcard *card, const struct ews_contact *c);

/* A date of the form YYYY-MM-DD (or YYYYMMDD, or either followed by a
 * time) as "YYYY-MM-DD", or NULL.  Caller owns the result. */
char *ews_contact_date(const char *text);

#endif
