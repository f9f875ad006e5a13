/*
 * fuzz-pop3-reply.c - the POP3 client's reply parser on arbitrary bytes:
 * replies one after another as a session reads them, fed in pieces of
 * varying size.  The first byte chooses single- or multi-line replies, the
 * limits and the piece size.  Also the UIDL and Date: helpers on the text.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "pop3/pop3c-private.h"
#include "wire/pop3-reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_reply *r;
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	unsigned opt;

	if (size < 1)
		return 0;
	opt = data[0];
	size_t step = (opt & 7) + 1;
	size_t max_line = (opt & 8) ? 64 : POP3_REPLY_LINE_MAX;
	uint64_t max_body = (opt & 16) ? 100 : 1 << 20;
	r = pop3_reply_new();
	while (p < end) {
		bool multi = (opt & 32) ? ((p - (const char *)data) & 1) : true;
		enum pop3_feed st = POP3_FEED_MORE;
		pop3_reply_begin(r, multi, max_line, max_body);
		while (p < end && st == POP3_FEED_MORE) {
			size_t n = MIN(step, (size_t)(end - p)), used = 0;
			st = pop3_reply_feed(r, p, n, &used);
			if (used > n || (st == POP3_FEED_MORE && used != n))
				__builtin_trap();
			p += used;
			if (st == POP3_FEED_ERROR)
				p = end;
		}
		size_t blen;
		pop3_reply_body(r, &blen);
		if (blen > max_body)
			__builtin_trap();
		if (st == POP3_FEED_DONE) {
			struct mfs_error e;
			const char *text = pop3_reply_text(r);
			if (pop3c_status_to_errno(r, &e) < 0 && !e.msg[0] &&
			    pop3_reply_status(r) != POP3_ST_ERR)
				__builtin_trap();
			(void)pop3c_parse_date(text);
			if (pop3c_uidl_valid(text, strlen(text))) {
				g_autofree char *id = pop3c_id_from_uidl(text);
				g_autofree char *back = NULL;
				if (strchr(id, '/') || strchr(id, ':') ||
				    pop3c_uidl_from_id(id, &back) < 0 ||
				    strcmp(back, text))
					__builtin_trap();
			}
		}
	}
	pop3_reply_free(&r);
	return 0;
}
