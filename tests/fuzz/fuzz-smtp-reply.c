/*
 * fuzz-smtp-reply.c - the SMTP reply reader (protocols/wire/smtp-reply.c) on
 * arbitrary bytes, fed whole and then in chunks of every size up to 7: the
 * same replies must come out.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/smtp-reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply whole;

	smtp_reply_init(&whole);
	smtp_reply_feed(&whole, (const char *)data, size);
	if (whole.text->len > SMTP_REPLY_MAX ||
	    whole.line->len > SMTP_REPLY_LINE_MAX)
		__builtin_trap();
	for (size_t step = 1; step <= 7; step++) {
		struct smtp_reply r;
		smtp_reply_init(&r);
		for (size_t at = 0; at < size; at += step)
			smtp_reply_feed(&r, (const char *)data + at,
					MIN(step, size - at));
		if (r.code != whole.code || r.replies != whole.replies ||
		    r.fail_code != whole.fail_code ||
		    strcmp(r.text->str, whole.text->str) ||
		    strcmp(r.fail_text->str, whole.fail_text->str))
			__builtin_trap();
		smtp_reply_clear(&r);
	}
	smtp_reply_clear(&whole);
	return 0;
}
