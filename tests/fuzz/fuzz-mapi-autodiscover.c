/*
 * fuzz-mapi-autodiscover.c - the POX Autodiscover request and response
 * readers (protocols/wire/mapi-autodiscover.h) on arbitrary bytes; what a
 * response reader accepts is written and must read back alike.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mapi-autodiscover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mapi_autodiscover_request req;
	struct mapi_autodiscover_response resp, back;

	if (mapi_autodiscover_request_read((const char *)data, size, &req) == 0) {
		if (!req.email && !req.legacy_dn)
			__builtin_trap();
		mapi_autodiscover_request_clear(&req);
	}
	if (mapi_autodiscover_response_read((const char *)data, size,
					    &resp) == 0) {
		size_t len = 0;
		char *xml = mapi_autodiscover_response_write(&resp, &len);

		if (mapi_autodiscover_response_read(xml, len, &back) != 0 ||
		    back.kind != resp.kind ||
		    g_strcmp0(back.mailstore_internal,
			      resp.mailstore_internal) != 0 ||
		    g_strcmp0(back.redirect, resp.redirect) != 0)
			__builtin_trap();
		mapi_autodiscover_response_clear(&back);
		mapi_autodiscover_response_clear(&resp);
		g_free(xml);
	}
	return 0;
}
