/*
 * fuzz-ews-event.c - the EWS client's calendar files (protocols/ews/
 * event.c, names.c) on arbitrary bytes: a calendar item's MimeContent
 * taken as an iCalendar object or a MIME message holding one, the
 * object named, and the same bytes read as the XML of a calendar item
 * made into an object.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "ews/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ics = NULL;
	size_t len = 0;
	xmlDoc *doc = NULL;

	if (ewsc_event_from_mime(data, size, &ics, &len) == 0) {
		if (!ics || strlen(ics) > len)
			__builtin_trap();
		char *name = ewsc_name_of_event(ics, len);
		if (!name || !*name || strlen(name) > EWSC_NAME_MAX ||
		    strchr(name, '/'))
			__builtin_trap();
		g_free(name);
		g_free(ics);
	}
	char *card = ewsc_name_of_card((const char *)data, size);
	if (!card || !*card || strchr(card, '/'))
		__builtin_trap();
	g_free(card);
	if (ews_xml_read((const char *)data, size, 1u << 20, false, &doc) == 0) {
		if (ewsc_event_from_props(xmlDocGetRootElement(doc), &ics,
					  &len) == 0) {
			if (strlen(ics) != len)
				__builtin_trap();
			g_free(ics);
		}
		xmlFreeDoc(doc);
	}
	return 0;
}
