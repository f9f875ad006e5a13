/*
 * fuzz-printable.c - libFuzzer target for common/printable.h.
 *
 * The input is a peer's text.  Properties checked, for the whole input and
 * for a bound that falls anywhere:
 *   - what comes out is valid UTF-8 with no C0 or C1 control and no DEL;
 *   - it never passes the bound, and says when it stopped early;
 *   - printable() is printable_append() with PRINTABLE_MAX and "...";
 *   - text that printable_is_plain() accepts comes out unchanged.
 * The input is copied into a buffer of its exact size, so that ASan
 * catches any read past its end.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "printable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_out(const GString *out)
{
	if (!g_utf8_validate(out->str, (gssize)out->len, NULL))
		__builtin_trap();
	for (const char *p = out->str; *p; p = g_utf8_next_char(p)) {
		gunichar u = g_utf8_get_char(p);
		if (u < 0x20 || (u >= 0x7f && u <= 0x9f) || u == 0x2028 ||
		    u == 0x2029 || (u >= 0x202a && u <= 0x202e) ||
		    (u >= 0x2066 && u <= 0x2069))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = g_malloc(size ? size : 1);
	GString *all = g_string_new(NULL);

	memcpy(in, data, size);
	if (!printable_append(all, in, (gssize)size, G_MAXSIZE))
		__builtin_trap();
	check_out(all);
	if (printable_is_plain(in, size) &&
	    (all->len != size || memcmp(all->str, in, size)))
		__builtin_trap();

	/* a bound from the first byte: anywhere in the output */
	size_t max = size ? (size_t)data[0] * 3 : 0;
	GString *cut = g_string_new(NULL);
	bool whole = printable_append(cut, in, (gssize)size, max);
	if (cut->len > max || whole != (cut->len == all->len))
		__builtin_trap();
	if (memcmp(cut->str, all->str, cut->len))
		__builtin_trap();
	check_out(cut);

	char *p = printable(in, (gssize)size);
	GString *want = g_string_new(NULL);
	if (!printable_append(want, in, (gssize)size, PRINTABLE_MAX))
		g_string_append(want, "...");
	if (strcmp(p, want->str))
		__builtin_trap();
	g_free(p);
	g_string_free(want, TRUE);
	g_string_free(cut, TRUE);
	g_string_free(all, TRUE);
	g_free(in);
	return 0;
}
