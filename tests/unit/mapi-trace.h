/*
 * mapi-trace.h - the recorded MAPI over HTTP exchanges of
 * tests/data/mapi-traces/ (a real server's answers to a scripted client),
 * loaded for the codecs' unit tests: each exchange's request and response
 * bodies as bytes, the offset of the binary response after the meta-tags,
 * the headers, and the recorder's own decoding for comparison.
 *
 * Ownership: a trace owns its exchanges; everything an exchange points to
 * is borrowed from the trace and lives until mapi_trace_free().
 */
#ifndef MFS_TEST_MAPI_TRACE_H
#define MFS_TEST_MAPI_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <json-glib/json-glib.h>

struct mapi_trace_exchange {
	int seq;
	const char *step;		/* "Execute: RopLogon" ... */
	const char *method;
	const char *path;
	const uint8_t *req;		/* request entity body */
	size_t req_len;
	int status;			/* HTTP status */
	const uint8_t *resp;		/* response entity body, de-chunked */
	size_t resp_len;
	size_t resp_bin_off;		/* the binary response's offset in
					   resp (after the meta-tags); 0 when
					   the recording gives none */
	JsonObject *request;		/* the recorded request object */
	JsonObject *response;		/* the recorded response object */
	JsonObject *decoded;		/* the recorder's decoding, or NULL */
};

struct mapi_trace;

/* Load tests/data/mapi-traces/NAME.json (NAME without ".json"); fails the
 * test when it cannot.  Caller owns the result. */
struct mapi_trace *mapi_trace_load(const char *name);
void mapi_trace_free(struct mapi_trace *t);

size_t mapi_trace_count(const struct mapi_trace *t);
const struct mapi_trace_exchange *mapi_trace_at(const struct mapi_trace *t,
						size_t i);
/* The trace's top-level object (summary, user_dn, ...). */
JsonObject *mapi_trace_root(const struct mapi_trace *t);

/* The first header of this name (any case) in the request or the
 * response, or NULL. */
const char *mapi_trace_req_header(const struct mapi_trace_exchange *x,
				  const char *name);
const char *mapi_trace_resp_header(const struct mapi_trace_exchange *x,
				   const char *name);

/* The path of a file under tests/data/mapi-traces/ (the eml/ files).
 * Caller owns the result. */
char *mapi_trace_path(const char *rel);

#endif
