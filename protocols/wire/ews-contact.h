/*
 * ews-contact.h - vCards (.vcf files) and EWS contacts (t:Contact) turned into
 * each other, for the embedded EWS server and the EWS client alike.
 *
 * Specs: [MS-OXWSCONT] 2.2.4.3 (ContactItemType), 2.2.3 (the dictionary
 * entry keys of EmailAddresses, PhoneNumbers, PhysicalAddresses);
 * [MS-OXWSCORE] 2.2.4.x (SetItemField, DeleteItemField, FieldURI,
 * IndexedFieldURI); RFC 6350 and RFC 2426 for the vCard side.  Which
 * property maps to which field is in docs/DEVIATIONS.md.
 *
 * Cards are written as vCard 3.0: it is what Exchange itself exports and
 * what every address book still reads (several import only 2.1 and 3.0),
 * and its N property is mandatory, which the readers of 4.0 files still
 * expect.  A card that was 4.0 stays 4.0 when merged into.
 *
 * A merge changes only the properties of the fields the contact carries
 * and keeps every other line of the card byte for byte (PHOTO, UID,
 * CATEGORIES, X-*, a second ADR of the same kind, ...), so that an edit
 * made over EWS never loses what EWS cannot show.
 *
 * Every function that can fail returns 0 or -errno: -EINVAL for a card or
 * an element that cannot be read, -EFBIG past the limits of vcard.h.
 * Ownership: arguments are borrowed for the call; results through _r
 * parameters belong to the caller (g_free, or ews_contact_free).
 */
#ifndef MFS_EWS_CONTACT_H
#define MFS_EWS_CONTACT_H

#include <glib.h>
#include <libxml/tree.h>
#include <stddef.h>

/* The t:Contact fields that are mapped, each one string.  The order of
 * the simple fields is the schema's, so elements are written in it. */
enum ews_contact_field {
	EWS_CF_FILE_AS,
	EWS_CF_DISPLAY_NAME,
	EWS_CF_GIVEN_NAME,
	EWS_CF_MIDDLE_NAME,
	EWS_CF_NICKNAME,
	EWS_CF_COMPANY_NAME,
	EWS_CF_BIRTHDAY,		/* "YYYY-MM-DD" */
	EWS_CF_BUSINESS_HOME_PAGE,
	EWS_CF_DEPARTMENT,
	EWS_CF_GENERATION,
	EWS_CF_JOB_TITLE,
	EWS_CF_SURNAME,
	EWS_CF_BODY,			/* item:Body, as text */
	EWS_CF_EMAIL1,			/* EmailAddress1..3 */
	EWS_CF_EMAIL2,
	EWS_CF_EMAIL3,
	EWS_CF_PHONE,			/* the PhoneNumbers keys follow, in
					   the order of ews_contact_key() */
	EWS_CF_ADDRESS = EWS_CF_PHONE + 19,	/* Business, Home, Other;
						   each Street, City, State,
						   CountryOrRegion,
						   PostalCode */
	EWS_CF_COUNT = EWS_CF_ADDRESS + 15,
};

/* A contact's mapped fields. */
struct ews_contact {
	char *field[EWS_CF_COUNT];	/* owned; NULL when the card or
					   element does not give it */
};

void ews_contact_free(struct ews_contact **c);

/* The dictionary key of an email, phone or address field
 * ("EmailAddress2", "MobilePhone", "Home"), or NULL for a simple field.
 * Static string. */
const char *ews_contact_key(enum ews_contact_field f);

/*
 * The fields a vCard holds.  Returns 0 with *c_r (caller owns), or
 * -EINVAL / -EFBIG.  Values are valid UTF-8 without control characters
 * other than tab and LF.
 */
int ews_contact_from_vcard(const char *buf, size_t len,
			   struct ews_contact **c_r);

/*
 * The fields a t:Contact element carries (any child may be missing: an
 * UpdateItem's SetItemField holds just one).  An element present but
 * empty gives "".  Returns 0 with *c_r (caller owns), or -EINVAL when
 * `node` is not a t:Contact.
 */
int ews_contact_from_xml(const xmlNode *node, struct ews_contact **c_r);

/*
 * Append the contact's fields as EWS elements in schema order: the Body
 * element (an item field, which the caller places after its own ItemId,
 * ItemClass, Subject) by ews_contact_write_body(), the contact fields
 * (FileAs ... Surname) by ews_contact_write_fields().  Empty fields are
 * left out.  Prefixes: t: for the types namespace.
 */
void ews_contact_write_body(const struct ews_contact *c, GString *out);
void ews_contact_write_fields(const struct ews_contact *c, GString *out);

/*
 * A vCard as a whole <t:Contact> element for CreateItem.  Returns 0 with
 * *xml_r (caller owns), or -EINVAL / -EFBIG.
 */
int ews_vcard_to_contact_xml(const char *buf, size_t len, char **xml_r);

/*
 * The <t:SetItemField> and <t:DeleteItemField> elements (for an
 * ItemChange's Updates) that make an item holding card `old` hold card
 * `buf`: one per field that differs.  With `old` NULL every field of
 * `buf` is set and every field it lacks deleted.  *xml_r (caller owns) is
 * "" when nothing differs.  Returns 0, or -EINVAL / -EFBIG.
 */
int ews_vcard_to_updates(const char *old, size_t old_len, const char *buf,
			 size_t len, char **xml_r);

/*
 * Apply the fields carried by `contact` (a t:Contact element) to the card
 * `buf`, or to a new vCard 3.0 card when `buf` is NULL; a field present
 * but empty is removed.  *out_r (caller owns, NUL-terminated) is the new
 * card.  Returns 0, or -EINVAL / -EFBIG.
 */
int ews_vcard_merge(const char *buf, size_t len, const xmlNode *contact,
		    char **out_r, size_t *len_r);

/* A new card from a t:Contact: ews_vcard_merge() on no card. */
int ews_contact_to_vcard(const xmlNode *contact, char **out_r,
			 size_t *len_r);

/*
 * Apply an UpdateItem's changes (the t:Updates element: SetItemField,
 * AppendToItemField, DeleteItemField) to card `buf`.  Changes to fields
 * that are not mapped are ignored.  Returns 0 with *out_r (caller owns),
 * or -EINVAL for a change that is not well formed.
 */
int ews_vcard_apply_updates(const char *buf, size_t len,
			    const xmlNode *updates, char **out_r,
			    size_t *len_r);

#endif
