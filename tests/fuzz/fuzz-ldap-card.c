/*
 * fuzz-ldap-card.c - the directory client's entry-to-vCard mapping
 * (protocols/wire/ldap-card.h) on arbitrary bytes: each line
 * "attribute: value" of the input is one value of an entry, as a hostile
 * server could send; the card made of the entry must be a vCard the
 * reader takes, whose own entry maps again.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/ldap-card.h"
#include "wire/vcard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ldap_card *card = ldap_card_new(), *again = NULL;
	const char *p = (const char *)data, *end = p + size;
	char *out = NULL;
	size_t len = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		const char *colon = memchr(p, ':', (size_t)(stop - p));
		if (colon) {
			g_autofree char *name = g_strndup(p, (gsize)(colon - p));
			const char *v = colon + 1 < stop && colon[1] == ' '
				? colon + 2 : colon + 1;
			ldap_card_add(card, name, v, (size_t)(stop - v));
		}
		p = stop + 1;
	}
	if (ldap_card_to_vcard(card, &out, &len) == 0) {
		if (strlen(out) != len ||
		    ldap_card_from_vcard(out, len, &again) < 0)
			__builtin_trap();
		ldap_card_free(&again);
		g_free(out);
	}
	ldap_card_free(&card);
	return 0;
}
