/*
 * fuzz-imap-mime.c - the IMAP server's reading of message structure on
 * arbitrary bytes (a message anyone can deliver by SMTP): ENVELOPE,
 * BODYSTRUCTURE, and the parts that a few section paths name.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mime-entity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { "1", "2", "1.1", "2.1.3", "1.2",
					     "3.1" };
	static const char *const fields[] = { "Subject", "From", NULL };
	struct mime_entity top, part;
	GString *out = g_string_new(NULL);

	mime_init();
	mime_entity_init(&top, (const char *)data, size, true);
	mime_entity_envelope(&top, out);
	mime_entity_bodystructure(&top, true, out);
	mime_entity_bodystructure(&top, false, out);
	mime_entity_header_fields(&top, fields, false, out);
	mime_entity_header_fields(&top, fields, true, out);
	for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
		for (int enc = 0; enc < 2; enc++) {
			if (mime_entity_part(&top, paths[i], enc, &part) != 0)
				continue;
			/* the part must lie inside the message */
			if (part.start < (const char *)data ||
			    part.start + part.len > (const char *)data + size ||
			    part.header_len > part.len)
				__builtin_trap();
			mime_entity_bodystructure(&part, true, out);
		}
	}
	g_string_free(out, TRUE);
	return 0;
}
