/*
 * fuzz-ldap-filter.c - the embedded LDAP server's search filter
 * (protocols/serve/ldap/filter.c) on arbitrary bytes: read by liblber
 * into a filter, which is evaluated against a card.  The bytes after a
 * "BEGIN:VCARD" are that card (through wire/ldap-card.h); without one, a
 * card of every attribute the mapping carries.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "serve/ldap/ldapd-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char card_text[] =
	"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u-1\r\nFN:Bob Builder\r\n"
	"N:Builder;Bob;;;\r\nEMAIL:bob@example.org\r\nEMAIL:b@x.example\r\n"
	"TEL;TYPE=cell:+1 555-0100\r\nTEL:+1 555 0101\r\nORG:Inc;Sales\r\n"
	"TITLE:Chief\r\nADR:;;Main St 1;Town;;1;Land\r\n"
	"PHOTO:data:image/jpeg;base64,/9j/4AAQ\r\nURL:https://x.example\r\n"
	"END:VCARD\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *split = size ? memmem(data, size, "BEGIN:VCARD", 11)
				    : NULL;
	size_t flen = split ? (size_t)(split - data) : size;
	struct berval bv = { flen, (char *)data };
	struct ldap_card *card = NULL;
	struct ldapd_filter *f = NULL;
	BerElement *ber;

	if (split)
		ldap_card_from_vcard((const char *)split, size - flen, &card);
	else
		ldap_card_from_vcard(card_text, sizeof(card_text) - 1, &card);
	if (!card)
		return 0;
	ber = ber_init(&bv);
	if (ber && ldapd_filter_decode(ber, &f) == 0) {
		enum ldapd_tri r = ldapd_filter_eval(f, card);
		if (r != LDAPD_TRUE && r != LDAPD_FALSE && r != LDAPD_UNDEFINED)
			__builtin_trap();
		ldapd_filter_free(&f);
	} else if (f) {
		__builtin_trap();
	}
	if (ber)
		ber_free(ber, 1);
	ldap_card_free(&card);
	return 0;
}
