/*
 * fuzz-ews-vcard.c - the vCard reader and the contact mapping
 * (protocols/wire/ews-contact.h) on arbitrary bytes: a card that is read must
 * give a t:Contact that is well-formed XML, and merging that contact back
 * into the card must give a card that is read again.
 */
#include <glib.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <string.h>

#include "wire/ews-contact.h"
#include "wire/ews-soap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char *xml = NULL, *card = NULL;
	size_t len = 0;
	struct ews_contact *c = NULL;

	if (ews_vcard_to_contact_xml(buf, size, &xml) < 0) {
		if (xml)
			__builtin_trap();
		return 0;
	}
	g_autofree char *doc = g_strdup_printf("<r xmlns:t=\"" EWS_NS_T
					       "\">%s</r>", xml);
	xmlDoc *d = xmlReadMemory(doc, (int)strlen(doc), "f.xml", NULL,
				  XML_PARSE_NONET | XML_PARSE_NOERROR |
				  XML_PARSE_NOWARNING);
	if (!d)
		__builtin_trap();
	xmlNode *contact = xmlDocGetRootElement(d)->children;
	if (ews_vcard_merge(buf, size, contact, &card, &len) < 0 ||
	    strlen(card) != len || ews_contact_from_vcard(card, len, &c) < 0)
		__builtin_trap();
	ews_contact_free(&c);
	g_free(card);
	xmlFreeDoc(d);
	g_free(xml);
	return 0;
}
