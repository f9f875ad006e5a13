/*
 * fuzz-ews-request.c - the EWS request reader (protocols/wire/ews-soap.c) on
 * arbitrary bytes: it must refuse or accept without reading past the
 * input, and whatever it accepts must name an operation.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/ews-soap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ews_request *req = NULL;

	if (ews_request_parse((const char *)data, size, &req) < 0) {
		if (req)
			__builtin_trap();
		return 0;
	}
	if (!ews_request_op(req) || !*ews_request_op(req))
		__builtin_trap();
	ews_request_free(&req);
	return 0;
}
