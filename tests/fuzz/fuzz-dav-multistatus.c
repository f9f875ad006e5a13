/*
 * fuzz-dav-multistatus.c - the 207 Multi-Status reader
 * (protocols/wire/dav-multistatus.h) on arbitrary bytes, as the answer
 * of a request to a collection: every href it gives back is a path on
 * the request's host, without dot segments, and passes the reader again;
 * the bounds hold.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/dav-multistatus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE "http://dav.example:8080/user/contacts/"

static void check_path(const char *path)
{
	char *again = NULL;

	if (!path)
		return;
	if (path[0] != '/' || strstr(path, "/../") || strlen(path) >
	    DAV_HREF_MAX * 4 + 64)
		__builtin_trap();
	/* a resolved path is its own resolution */
	if (dav_href_resolve(BASE, path, &again) == 0 && strcmp(again, path))
		__builtin_trap();
	g_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dav_multistatus *ms = NULL;

	if (dav_multistatus_parse((const char *)data, size, BASE, &ms) < 0)
		return 0;
	if (ms->responses->len > DAV_RESPONSES_MAX)
		__builtin_trap();
	for (guint i = 0; i < ms->responses->len; i++) {
		const struct dav_response *r = ms->responses->pdata[i];

		check_path(r->href);
		check_path(r->principal);
		check_path(r->addressbook_home);
		check_path(r->calendar_home);
		(void)dav_href_is_member("/user/contacts/", r->href);
		if (r->data && g_bytes_get_size(r->data) > DAV_VALUE_MAX)
			__builtin_trap();
	}
	dav_multistatus_free(&ms);
	return 0;
}
