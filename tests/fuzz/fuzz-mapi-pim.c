/*
 * fuzz-mapi-pim.c - a `.vcf` or `.ics` file of arbitrary bytes (written
 * into a contacts or calendar folder of the mount, or held by the
 * server's store) read as a contact and as an appointment: each
 * rendering must be the same bytes twice and must itself read back.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mapi-pim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every name gets an id: 0x8000 + its place in the table. */
static uint16_t id_of(void *ctx, const struct mapi_fx_named *name)
{
	size_t n;
	const struct mapi_fx_named *t = mapi_pim_names_used(&n);

	for (size_t i = 0; i < n; i++)
		if (&t[i] == name)
			return (uint16_t)(0x8000 + i);
	return 0;
}

static void one(const uint8_t *data, size_t size,
		int (*parse)(const void *, size_t,
			     const struct mapi_pim_names *,
			     struct mapi_message **),
		int (*render)(const struct mapi_message *,
			      const struct mapi_pim_names *, GByteArray *))
{
	static const struct mapi_pim_names names = { id_of, NULL };
	struct mapi_message *m = NULL, *again = NULL;
	GByteArray *a, *b;

	if (parse(data, size, &names, &m) != 0)
		return;
	a = g_byte_array_new();
	b = g_byte_array_new();
	if (render(m, &names, a) != 0 || render(m, &names, b) != 0 ||
	    a->len != b->len || memcmp(a->data, b->data, a->len))
		__builtin_trap();
	if (parse(a->data, a->len, &names, &again) != 0)
		__builtin_trap();
	mapi_message_free(again);
	mapi_message_free(m);
	g_byte_array_free(a, TRUE);
	g_byte_array_free(b, TRUE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, mapi_contact_parse, mapi_contact_render);
	one(data, size, mapi_appt_parse, mapi_appt_render);
	return 0;
}
