/*
 * fuzz-mail-header.c - the one reading of an RFC 5322 header block
 * (common/mail-header.h) on arbitrary bytes: fields lie one after another
 * inside the buffer, each value inside its field, the block's end where
 * the walk stopped, and the values of a few fields.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "mail-header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "From", "Subject", "Message-ID",
					     "Date" };
	const char *buf = (const char *)data;
	struct mail_header_iter it;
	struct mail_header_field f;
	const char *at = buf;

	mail_header_iter_init(&it, buf, size);
	while (mail_header_next(&it, &f)) {
		if (f.start != at || f.len == 0 || f.start + f.len > buf + size)
			__builtin_trap();
		if (f.value && (f.value <= f.start || f.name_len >= f.len ||
				f.value + f.value_len != f.start + f.len))
			__builtin_trap();
		for (int bare = 0; bare < 2; bare++) {
			char *v = mail_header_unfold(f.value ? f.value : f.start,
						     f.value ? f.value_len
							     : f.len, bare);
			if (strlen(v) > f.len || (!bare && strpbrk(v, "\r\n")))
				__builtin_trap();
			g_free(v);
		}
		at = f.start + f.len;
	}
	if (it.p < at || it.p > buf + size ||
	    (size_t)(it.p - buf) != mail_header_length(buf, size))
		__builtin_trap();
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		char *v = NULL;
		if (mail_header_get(buf, size, names[i], &v) == 0 &&
		    (!v || strchr(v, '\n')))
			__builtin_trap();
		g_free(v);
	}
	return 0;
}
