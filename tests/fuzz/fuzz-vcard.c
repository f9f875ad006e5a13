/*
 * fuzz-vcard.c - the content-line reader (protocols/wire/vcard.h) on
 * arbitrary bytes, as a vCard and as an iCalendar VCALENDAR: values that
 * are read unescape to clean UTF-8, and a card that is read is written
 * back into bytes that are read again; the first VEVENT is read and
 * changed.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/vcard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct vcard *card, const char *kind)
{
	struct vcard *again = NULL;
	char *out = NULL;
	size_t len = 0;

	for (guint i = 0; i < card->props->len; i++) {
		const struct vcard_prop *p = card->props->pdata[i];
		char *v = vcard_unescape(p->value);
		char *tz = vcard_prop_param(p, "TZID");
		char **parts = vcard_split(p->value);
		if (!g_utf8_validate(v, -1, NULL) || !parts[0] ||
		    (tz && strchr(tz, '"')))
			__builtin_trap();
		(void)vcard_prop_has_type(p, "work");
		g_strfreev(parts);
		g_free(tz);
		g_free(v);
	}
	if (vcard_write(card, &out, &len) < 0)
		return;
	if (strlen(out) != len ||
	    vcard_parse_object(out, len, kind, &again) < 0 ||
	    again->props->len != card->props->len)
		__builtin_trap();
	vcard_free(&again);
	g_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = { "VCARD", "VCALENDAR" };

	struct vcard_event ev;

	if (vcard_event_read((const char *)data, size, &ev) == 0 &&
	    ev.start && !ev.end)
		__builtin_trap();
	vcard_event_clear(&ev);
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		struct vcard *card = NULL;
		if (vcard_parse_object((const char *)data, size, kinds[i],
				       &card) < 0) {
			if (card)
				__builtin_trap();
			continue;
		}
		check(card, kinds[i]);
		if (i == 1 && vcard_event_set(card, "SUMMARY", NULL, "x") == 0)
			check(card, kinds[i]);
		vcard_free(&card);
	}
	return 0;
}
