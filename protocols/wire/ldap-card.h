/*
 * ldap-card.h - a contact as an LDAP entry's attributes and back: the
 * mapping between a vCard and an inetOrgPerson that both the directory
 * client (protocols/ldap/) and the served address book
 * (protocols/serve/ldap/) use.  No I/O.
 *
 * Specs: RFC 4519 (cn, sn, givenName, telephoneNumber, o, ou, title,
 * postalAddress, uid, objectClass), RFC 2798 (inetOrgPerson: displayName,
 * mail, mobile, jpegPhoto, labeledURI), RFC 4517 3.3.28 (Postal Address:
 * lines separated by '$', with '\24' and '\5C' for '$' and '\'), RFC 2079
 * (labeledURI: a URI, then an optional label after a space), RFC 6350
 * (vCard 4.0: FN, N, EMAIL, TEL, ORG, TITLE, ADR, PHOTO, URL, UID).
 *
 * The mapping:
 *   FN -> cn, displayName          N -> sn (family), givenName (given)
 *   EMAIL -> mail (each)           TEL -> telephoneNumber, or mobile for
 *   ORG -> o (first), ou (rest)            TYPE=cell
 *   TITLE -> title                 ADR -> postalAddress
 *   PHOTO (data: or base64) -> jpegPhoto      URL -> labeledURI
 *   UID -> uid
 * An entry always has cn and sn (person requires them): cn from N, the
 * first address or the UID when FN is missing; sn from cn when N has no
 * family name.
 *
 * Limits: at most LDAP_CARD_VALUES_MAX values per attribute and
 * LDAP_CARD_VALUE_MAX bytes per value; attributes this mapping does not
 * know are not kept, so what a hostile peer sends costs bounded memory.
 *
 * Ownership: a struct ldap_card owns its attributes and their values;
 * results through _r parameters belong to the caller.
 */
#ifndef MFS_LDAP_CARD_H
#define MFS_LDAP_CARD_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define LDAP_CARD_VALUES_MAX 64u
#define LDAP_CARD_VALUE_MAX (1024u * 1024)

struct ldap_card_attr {
	const char *name;	/* borrowed, static; the canonical name */
	GPtrArray *values;	/* owned; of GBytes *, owned */
};

struct ldap_card {
	GPtrArray *attrs;	/* owned; of struct ldap_card_attr *, owned;
				   one per name, in the order first added */
};

/* An empty entry (caller owns, ldap_card_free). */
struct ldap_card *ldap_card_new(void);
void ldap_card_free(struct ldap_card **card);

/*
 * The canonical name of attribute description `desc` ("CN",
 * "commonName", "cn;lang-de" -> "cn"), or NULL when the mapping does not
 * carry it.  Borrowed, static.
 */
const char *ldap_card_attr_name(const char *desc);

/* Every attribute name the mapping carries, NULL-terminated.  Static. */
const char *const *ldap_card_attr_names(void);

/* Whether values of attribute `name` (canonical) are bytes rather than
 * text (jpegPhoto). */
bool ldap_card_attr_binary(const char *name);

/* Add a value to attribute `desc` (copied).  Quietly not added: an
 * attribute the mapping does not carry, an empty value, a value past
 * LDAP_CARD_VALUE_MAX, a text value that is not UTF-8, a duplicate, a
 * value past LDAP_CARD_VALUES_MAX. */
void ldap_card_add(struct ldap_card *card, const char *desc, const void *val,
		   size_t len);

/* The attribute `desc` names, or NULL when the entry has none.  Borrowed;
 * valid until the card changes. */
const struct ldap_card_attr *ldap_card_get(const struct ldap_card *card,
					   const char *desc);

/* The first value of `desc` as a string, or NULL.  Caller owns it. */
char *ldap_card_first(const struct ldap_card *card, const char *desc);

/*
 * The entry of the vCard in `buf` (any version the reader takes), with
 * objectClass top, person, organizationalPerson and inetOrgPerson.
 * Returns 0 with *card_r (caller owns), -EINVAL for bytes that are not a
 * vCard, -EFBIG past the reader's limits.
 */
int ldap_card_from_vcard(const char *buf, size_t len,
			 struct ldap_card **card_r);

/*
 * The entry as a vCard 4.0 (CRLF lines, folded at 75 octets).  Returns 0
 * with *out_r NUL-terminated (caller owns) and its length in *len_r, or
 * -ENODATA for an entry with neither cn nor mail (nothing to name the
 * card by).
 */
int ldap_card_to_vcard(const struct ldap_card *card, char **out_r,
		       size_t *len_r);

/* Compare two values of attribute `name` (canonical) as its matching
 * rule says: case-insensitive for text, spaces and hyphens ignored for
 * telephone numbers, byte for byte for jpegPhoto.  Returns <0, 0, >0. */
int ldap_card_value_cmp(const char *name, const void *a, size_t alen,
			const void *b, size_t blen);

/* A value of attribute `name` as compared by its matching rule: case
 * folded text (telephone numbers without spaces and hyphens), the bytes
 * themselves for jpegPhoto.  Caller owns the result (g_free), NUL-
 * terminated; *len_r its length. */
char *ldap_card_value_key(const char *name, const void *val, size_t len,
			  size_t *len_r);

#endif
