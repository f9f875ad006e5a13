/*
 * fuzz-mapi-pim.c - a `.vcf` or `.ics` file of arbitrary bytes (written
 * into a contacts or calendar folder of the mount, or held by the
 * server's store) read as a contact and as an appointment: each
 * rendering must be the same bytes twice and must itself read back.
 * The same bytes are also an appointment's PidLidAppointmentRecur and
 * PidLidGlobalObjectId, as a hostile server could send them, and a
 * contact's photo: rendered twice the same and read back.
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

/* The id of the name with this set byte (the first of the GUID) and
 * LID, or 0. */
static uint16_t named(uint8_t set0, uint32_t lid)
{
	size_t n;
	const struct mapi_fx_named *t = mapi_pim_names_used(&n);

	for (size_t i = 0; i < n; i++)
		if (t[i].guid[0] == set0 && t[i].kind == MAPI_FX_NAME_LID &&
		    t[i].lid == lid)
			return (uint16_t)(0x8000 + i);
	return 0;
}

static int render_both(const struct mapi_message *m,
		       const struct mapi_pim_names *names, GByteArray *out)
{
	int rc = mapi_appt_render(m, names, out);

	return rc ? rc : mapi_contact_render(m, names, out);
}

/* The blob as the properties of a message from the server. */
static void props(const uint8_t *data, size_t size)
{
	static const struct mapi_pim_names names = { id_of, NULL };
	struct mapi_message *m = mapi_message_new(), *again = NULL;
	struct mapi_attachment *a;
	GByteArray *x = g_byte_array_new(), *y = g_byte_array_new();

	mapi_props_set_ft(&m->props, MAPI_TAG(named(0x02, 0x820D),
			  MAPI_PT_SYSTIME), 134413668000000000ULL);
	mapi_props_set_bin(&m->props, MAPI_TAG(named(0x02, 0x8216),
			   MAPI_PT_BINARY), data, size);
	mapi_props_set_bin(&m->props, MAPI_TAG(named(0x90, 0x0003),
			   MAPI_PT_BINARY), data, size);
	a = mapi_message_add_attach(m);
	mapi_props_set_bin(&a->props, 0x37010102U, data, size);
	mapi_props_set_b(&a->props, 0x7FFF000BU, true);
	if (render_both(m, &names, x) != 0 || render_both(m, &names, y) != 0 ||
	    x->len != y->len || memcmp(x->data, y->data, x->len))
		__builtin_trap();
	if (mapi_appt_parse(x->data, x->len, &names, &again) != 0)
		__builtin_trap();
	mapi_message_free(again);
	mapi_message_free(m);
	g_byte_array_free(x, TRUE);
	g_byte_array_free(y, TRUE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, mapi_contact_parse, mapi_contact_render);
	one(data, size, mapi_appt_parse, mapi_appt_render);
	props(data, size);
	return 0;
}
