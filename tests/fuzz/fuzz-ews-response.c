/*
 * fuzz-ews-response.c - the EWS client's reading of answers
 * (protocols/ews/response.c, flags.c, mime.c) on
 * arbitrary bytes: the envelope, each response message's outcome, the
 * items' properties and MimeContent, all without reading past the input.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "ews/ewsc-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void items(const xmlNode *node, int depth)
{
	for (xmlNode *n = ews_first_element(node); n && depth < 64;
	     n = ews_next_element(n)) {
		if (!strcmp((const char *)n->name, "Message")) {
			uint64_t flags, size;
			int64_t date;
			char *msgid = NULL;
			ewsc_item_read(n, &flags, &date, &msgid, &size);
			g_free(msgid);
		} else if (!strcmp((const char *)n->name, "MimeContent")) {
			guchar *buf = NULL;
			size_t len = 0;
			if (ewsc_mime_decode(n, &buf, &len) == 0 && !buf)
				__builtin_trap();
			g_free(buf);
		}
		items(n, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ewsc_response *res = NULL;
	struct mfs_error e = { 0 };

	if (ewsc_response_parse((const char *)data, size, &res, &e) < 0) {
		if (res || !e.msg[0])
			__builtin_trap();
		return 0;
	}
	for (guint i = 0; i < res->msgs->len; i++) {
		struct ewsc_status st;
		ewsc_status_of(res->msgs->pdata[i], &st);
		if (st.rc > 0)
			__builtin_trap();
		items(res->msgs->pdata[i], 0);
	}
	ewsc_response_free(&res);
	return 0;
}
