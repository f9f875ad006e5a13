/*
 * fuzz-mapi-http.c - the MAPI over HTTP body readers and the meta-tag
 * reader (protocols/wire/mapi-http.h) on arbitrary bytes.  What a body
 * reader accepts its writer gives back byte for byte; the meta-tag reader
 * says the same fed at once as fed one byte at a time.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/mapi-http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(GByteArray *b, const uint8_t *data, size_t size)
{
	if (b->len != size || memcmp(b->data, data, size))
		__builtin_trap();
	g_byte_array_set_size(b, 0);
}

static void bodies(const uint8_t *data, size_t size)
{
	GByteArray *b = g_byte_array_new();
	struct mapi_connect_req creq;
	struct mapi_connect_resp cresp;
	struct mapi_execute_req ereq;
	struct mapi_execute_resp eresp;
	struct mapi_disconnect_req dreq;
	struct mapi_disconnect_resp dresp;
	struct mapi_nwait_req nreq;
	struct mapi_nwait_resp nresp;
	struct mapi_bytes aux;
	uint32_t status;

	if (!mapi_connect_req_read(&creq, data, size)) {
		if (mapi_connect_req_write(b, &creq))
			__builtin_trap();
		same(b, data, size);
	}
	mapi_connect_req_clear(&creq);
	if (!mapi_connect_resp_read(&cresp, data, size)) {
		if (mapi_connect_resp_write(b, &cresp))
			__builtin_trap();
		same(b, data, size);
	}
	mapi_connect_resp_clear(&cresp);
	if (!mapi_execute_req_read(&ereq, data, size)) {
		mapi_execute_req_write(b, &ereq);
		same(b, data, size);
	}
	if (!mapi_execute_resp_read(&eresp, data, size)) {
		mapi_execute_resp_write(b, &eresp);
		same(b, data, size);
	}
	if (!mapi_disconnect_req_read(&dreq, data, size)) {
		mapi_disconnect_req_write(b, &dreq);
		same(b, data, size);
	}
	if (!mapi_disconnect_resp_read(&dresp, data, size)) {
		mapi_disconnect_resp_write(b, &dresp);
		same(b, data, size);
	}
	if (!mapi_nwait_req_read(&nreq, data, size)) {
		mapi_nwait_req_write(b, &nreq);
		same(b, data, size);
	}
	if (!mapi_nwait_resp_read(&nresp, data, size)) {
		mapi_nwait_resp_write(b, &nresp);
		same(b, data, size);
	}
	if (!mapi_fail_resp_read(&status, &aux, data, size)) {
		mapi_fail_resp_write(b, status, &aux);
		same(b, data, size);
	}
	g_byte_array_unref(b);
}

/* Feed in steps of `step` bytes; the events in order into `ev`, and where
 * the binary part starts. */
static int meta(const uint8_t *data, size_t size, size_t step, int ev[64],
		size_t *nev, size_t *bin_r)
{
	struct mapi_meta_rd m;
	size_t off = 0;

	mapi_meta_init(&m, 128, 40);
	*nev = 0;
	*bin_r = 0;
	while (off < size) {
		size_t n = size - off < step ? size - off : step, used;
		int rc = mapi_meta_feed(&m, data + off, n, &used);

		if (used > n)
			__builtin_trap();
		off += used;
		if (rc < 0)
			return rc;
		if (rc == MAPI_META_BINARY) {
			*bin_r = off;
			return rc;
		}
		if (rc != MAPI_META_MORE && *nev < 64)
			ev[(*nev)++] = rc;
	}
	return MAPI_META_MORE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int ev1[64], ev2[64], rc1, rc2;
	size_t n1, n2, bin1, bin2;
	char *text;

	bodies(data, size);
	rc1 = meta(data, size, SIZE_MAX, ev1, &n1, &bin1);
	rc2 = meta(data, size, 1, ev2, &n2, &bin2);
	if (rc1 != rc2 || n1 != n2 || bin1 != bin2 ||
	    memcmp(ev1, ev2, n1 * sizeof(int)))
		__builtin_trap();
	if (rc1 == MAPI_META_BINARY)
		bodies(data + bin1, size - bin1);
	text = mapi_http_diag_text(data, size, 200);
	if (text && (strlen(text) > 200 * 3 || !g_utf8_validate(text, -1,
								  NULL)))
		__builtin_trap();
	g_free(text);
	return 0;
}
