/*
 * fuzz-mapi-restrict.c - restrictions (protocols/wire/mapi-restrict.h) on
 * arbitrary bytes.  The first byte picks the form (modulo 3): NSPI's,
 * ROP buffers', extended rules'.  An accepted tree is written, read
 * again, and must be the same tree and the same bytes.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mapi-restrict.h"
#include "wire/nspi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mapi_res_form *const forms[] = {
		&nspi_res_form, &mapi_res_form_rop, &mapi_res_form_ext };
	const struct mapi_res_form *f;
	struct mapi_res *res, *again;
	GByteArray *once, *twice;
	struct mapi_rd r;

	if (size < 1)
		return 0;
	f = forms[data[0] % 3];
	mapi_rd_init(&r, data + 1, size - 1);
	if (mapi_res_read(&r, f, &res) != 0)
		return 0;
	once = g_byte_array_new();
	twice = g_byte_array_new();
	mapi_res_write(once, f, res);
	mapi_rd_init(&r, once->data, once->len);
	if (mapi_res_read(&r, f, &again) != 0 || mapi_rd_left(&r) != 0)
		__builtin_trap();
	if (!mapi_res_equal(res, again))
		__builtin_trap();
	mapi_res_write(twice, f, again);
	if (once->len != twice->len ||
	    memcmp(once->data, twice->data, once->len) != 0)
		__builtin_trap();
	mapi_res_free(res);
	mapi_res_free(again);
	g_byte_array_unref(once);
	g_byte_array_unref(twice);
	return 0;
}
