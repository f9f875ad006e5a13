/*
 * mapi-http.h - the transport of MAPI over HTTP (MS-OXCMAPIHTTP), no I/O:
 *
 *   - the request types (X-RequestType, 2.2.3.1.1), the X-ResponseCode
 *     values (2.2.3.3.3), the names of the common headers (2.2.3) and the
 *     header list of a request, as name/value pairs for whoever does HTTP;
 *   - the meta-tags that open every response body (2.2.7: PROCESSING,
 *     PENDING, DONE, then X-ElapsedTime, X-StartTime and an empty line
 *     before the binary response): an incremental, bounded reader for the
 *     client (3.2.5) and the writer for the server;
 *   - the EMSMDB request and response bodies (2.2.4: Connect, Execute,
 *     Disconnect, NotificationWait) and the failure response that any of
 *     them can be (2.2.2.2), each read and written.
 *
 * The ROP buffer of an Execute and the auxiliary buffers stay bytes here:
 * they are RPC_HEADER_EXT chains (MS-OXCRPC 2.2.2.1-2), which
 * mapi-lz77.h unpacks, holding ROPs and AUX blocks, which others decode.
 * The NSPI bodies are nspi-*.c's; they share the request types and the
 * meta-tag reader.
 *
 * Ownership: a body reader borrows the bytes it reads: the `struct
 * mapi_bytes` fields point into them and are valid as long as they are.
 * Strings a reader returns are owned by the structure and freed by its
 * _clear function.  Writers append to a GByteArray the caller owns.
 */
#ifndef MFS_MAPI_HTTP_H
#define MFS_MAPI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <glib.h>

#include "mapi-buf.h"

/* Request types, the values of X-RequestType: the EMSMDB endpoint's
 * (MS-OXCMAPIHTTP 2.2.4) and the NSPI endpoint's (2.2.5). */
enum mapi_req {
	MAPI_REQ_UNKNOWN = 0,
	MAPI_REQ_CONNECT,
	MAPI_REQ_EXECUTE,
	MAPI_REQ_DISCONNECT,
	MAPI_REQ_NOTIFICATION_WAIT,
	MAPI_REQ_PING,
	MAPI_REQ_BIND,
	MAPI_REQ_UNBIND,
	MAPI_REQ_COMPARE_MIDS,
	MAPI_REQ_DNTOMID,
	MAPI_REQ_GET_MATCHES,
	MAPI_REQ_GET_PROP_LIST,
	MAPI_REQ_GET_PROPS,
	MAPI_REQ_GET_SPECIAL_TABLE,
	MAPI_REQ_GET_TEMPLATE_INFO,
	MAPI_REQ_MOD_LINK_ATT,
	MAPI_REQ_MOD_PROPS,
	MAPI_REQ_QUERY_COLUMNS,
	MAPI_REQ_QUERY_ROWS,
	MAPI_REQ_RESOLVE_NAMES,
	MAPI_REQ_RESORT_RESTRICTION,
	MAPI_REQ_SEEK_ENTRIES,
	MAPI_REQ_UPDATE_STAT,
	MAPI_REQ_GET_MAILBOX_URL,
	MAPI_REQ_GET_ADDRESS_BOOK_URL,
	MAPI_REQ_COUNT
};

/* The X-RequestType value ("Connect", "PING", "DNToMId"...); NULL for
 * MAPI_REQ_UNKNOWN and values out of range. */
const char *mapi_req_name(enum mapi_req t);
/* The type an X-RequestType value names (compared without regard to
 * case); MAPI_REQ_UNKNOWN for anything else, NULL included. */
enum mapi_req mapi_req_from_name(const char *name);
/* True for the request types of the NSPI endpoint (/mapi/nspi/). */
bool mapi_req_is_nspi(enum mapi_req t);

/* X-ResponseCode values, MS-OXCMAPIHTTP 2.2.3.3.3.  Servers do not all
 * number them so (gromox has its own list), so a client treats any value
 * but 0 as a failure and reports the body's own words where there are. */
enum mapi_rc {
	MAPI_RC_SUCCESS = 0,
	MAPI_RC_UNKNOWN_FAILURE = 1,
	MAPI_RC_INVALID_VERB = 2,
	MAPI_RC_INVALID_PATH = 3,
	MAPI_RC_INVALID_HEADER = 4,
	MAPI_RC_INVALID_REQUEST_TYPE = 5,
	MAPI_RC_INVALID_CONTEXT_COOKIE = 6,
	MAPI_RC_MISSING_HEADER = 7,
	MAPI_RC_ANONYMOUS_NOT_ALLOWED = 8,
	MAPI_RC_TOO_LARGE = 9,
	MAPI_RC_CONTEXT_NOT_FOUND = 10,
	MAPI_RC_NO_PRIVILEGE = 11,
	MAPI_RC_INVALID_REQUEST_BODY = 12,
	MAPI_RC_MISSING_COOKIE = 13,
	MAPI_RC_INVALID_SEQUENCE = 15,
	MAPI_RC_ENDPOINT_DISABLED = 16,
	MAPI_RC_INVALID_RESPONSE = 17,
	MAPI_RC_ENDPOINT_SHUTTING_DOWN = 18,
};

/* The table's description of a code ("The request has an invalid verb."),
 * or a sentence saying the code is unknown.  Never NULL; static. */
const char *mapi_rc_text(uint32_t rc);

/* An X-ResponseCode header value (decimal digits, blanks around them
 * allowed) as a number.  Returns 0, or -EBADMSG for anything else. */
int mapi_rc_parse(const char *value, uint32_t *rc_r);

/*
 * The diagnostic sentence of a failure response's body (the text/html page
 * a server sends with a non-zero X-ResponseCode): the text of its last
 * paragraph, or of the whole body without its markup, spaces collapsed,
 * at most `max` bytes of it, made valid UTF-8.  NULL for a body with no
 * text.  Caller owns the result.
 */
char *mapi_http_diag_text(const void *body, size_t len, size_t max);

/*
 * The page a server sends with a non-zero X-ResponseCode: text/html naming
 * the code's description (mapi_rc_text()) in its last paragraph, as
 * mapi_http_diag_text() reads it.  Appended to `b`.
 */
void mapi_http_write_diag_page(GByteArray *b, uint32_t rc);

/* Header names, MS-OXCMAPIHTTP 2.2.3. */
#define MAPI_HDR_CONTENT_TYPE		"Content-Type"
#define MAPI_HDR_REQUEST_TYPE		"X-RequestType"
#define MAPI_HDR_REQUEST_ID		"X-RequestId"
#define MAPI_HDR_CLIENT_INFO		"X-ClientInfo"
#define MAPI_HDR_CLIENT_APPLICATION	"X-ClientApplication"
#define MAPI_HDR_RESPONSE_CODE		"X-ResponseCode"
#define MAPI_HDR_SERVER_APPLICATION	"X-ServerApplication"
#define MAPI_HDR_PENDING_PERIOD		"X-PendingPeriod"
#define MAPI_HDR_EXPIRATION_INFO	"X-ExpirationInfo"
#define MAPI_HDR_ELAPSED_TIME		"X-ElapsedTime"
#define MAPI_HDR_START_TIME		"X-StartTime"
#define MAPI_HDR_DEVICE_INFO		"X-DeviceInfo"
/* The content type of requests and of successful responses. */
#define MAPI_HTTP_CONTENT_TYPE		"application/mapi-http"

/* Who sends the requests: GUIDs as text without braces
 * ("a0000001-0000-4000-8000-000000000001").  Borrowed. */
struct mapi_http_client {
	const char *request_guid;	/* the GUID of X-RequestId */
	const char *client_info;	/* X-ClientInfo's */
	const char *application;	/* X-ClientApplication */
};

#define MAPI_HTTP_REQ_HEADERS	5

struct mapi_http_header {
	const char *name;	/* static */
	char *value;		/* owned */
};

struct mapi_http_headers {
	struct mapi_http_header h[MAPI_HTTP_REQ_HEADERS];
	size_t n;
};

/*
 * The headers a request of type `t` carries (MS-OXCMAPIHTTP 2.2.2.1):
 * Content-Type, X-RequestType, X-RequestId ("{guid}:seq"), X-ClientInfo
 * ("{guid}") and X-ClientApplication, in that order.  Returns 0, or
 * -EINVAL for an unknown type, a GUID that is not one or an application
 * name with a control character (nothing is set then).  Free the values
 * with mapi_http_headers_clear().
 */
int mapi_http_request_headers(struct mapi_http_headers *out, enum mapi_req t,
			      const struct mapi_http_client *c, uint64_t seq);
void mapi_http_headers_clear(struct mapi_http_headers *h);

/*
 * The meta-tags of a response body, read incrementally (MS-OXCMAPIHTTP
 * 2.2.7, 3.2.5): the body is fed as it arrives, in pieces of any size, and
 * the reader says what each piece completed.  Bounded: a line longer than
 * the caller's limit, or more PROCESSING/PENDING lines than it allows (a
 * server that keeps a request alive forever), is an error.
 */
enum mapi_meta_event {
	MAPI_META_MORE = 0,	/* all of it consumed; feed more */
	MAPI_META_PROCESSING,	/* the server accepted the request */
	MAPI_META_PENDING,	/* a keep-alive while it works */
	MAPI_META_DONE,		/* the work is done; headers follow */
	MAPI_META_BINARY,	/* the meta-tags ended: the binary response
				   starts at the first byte not consumed */
};

#define MAPI_META_LINE_MAX	256	/* the longest line a reader takes */
#define MAPI_META_HEADERS_MAX	32	/* header lines after DONE */

struct mapi_meta_rd {
	size_t max_line;		/* the caller's limits */
	unsigned max_keepalive;
	unsigned state;
	unsigned n_keepalive;		/* PROCESSING and PENDING lines */
	unsigned n_pending;
	unsigned n_headers;
	size_t len;			/* of the line being gathered */
	char line[MAPI_META_LINE_MAX + 2];
	bool have_elapsed;
	uint32_t elapsed;		/* X-ElapsedTime */
	char start_time[64];		/* X-StartTime, "" when absent */
};

/* `max_line` bytes at most per line (capped to MAPI_META_LINE_MAX),
 * `max_keepalive` PROCESSING and PENDING lines at most. */
void mapi_meta_init(struct mapi_meta_rd *m, size_t max_line,
		    unsigned max_keepalive);

/*
 * Feed `len` bytes.  Consumes bytes up to the end of the first event and
 * says how many in *used_r; the caller feeds the rest again.  Returns a
 * mapi_meta_event (MAPI_META_MORE when everything was consumed without
 * one; MAPI_META_BINARY again, consuming nothing, once the meta-tags are
 * over), or -EMSGSIZE for a line over the limit, -ETIMEDOUT for more
 * keep-alives than allowed, -EBADMSG for a line that is not a meta-tag or
 * a header.  After an error the reader stays failed.
 */
int mapi_meta_feed(struct mapi_meta_rd *m, const void *p, size_t len,
		   size_t *used_r);

/*
 * The same over a whole body at once (a response read to its end): the
 * offset of the binary part in *bin_off_r, and the reader's findings in
 * `m` when it is not NULL.  Returns 0, the errors of mapi_meta_feed(), or
 * -EBADMSG for a body that ends before its meta-tags do.
 */
int mapi_meta_split(const void *body, size_t len, size_t max_line,
		    unsigned max_keepalive, struct mapi_meta_rd *m,
		    size_t *bin_off_r);

/* The server's side: a keep-alive line ("PROCESSING" or "PENDING"). */
void mapi_meta_write_keepalive(GByteArray *b, bool pending);
/* "DONE", X-ElapsedTime, X-StartTime (when not NULL) and the empty line
 * after which the binary response follows. */
void mapi_meta_write_done(GByteArray *b, uint32_t elapsed,
			  const char *start_time);
/* `t` as an HTTP date (RFC 7231 IMF-fixdate, "Mon, 07 Dec 2026 01:56:51
 * GMT") into `buf`, which holds 30 bytes. */
void mapi_http_date(time_t t, char buf[30]);

/* A run of bytes inside a body read; borrowed. */
struct mapi_bytes {
	const uint8_t *p;
	size_t len;
};

/* Connect, MS-OXCMAPIHTTP 2.2.4.1. */
struct mapi_connect_req {
	char *user_dn;			/* owned; 8-bit, as sent */
	uint32_t flags;
	uint32_t cpid;			/* DefaultCodePage */
	uint32_t lcid_sort;
	uint32_t lcid_string;
	struct mapi_bytes aux;
};

struct mapi_connect_resp {
	uint32_t status;		/* StatusCode; when not 0, only aux
					   follows (2.2.2.2) */
	uint32_t error_code;
	uint32_t polls_max;		/* milliseconds */
	uint32_t retry_count;
	uint32_t retry_delay;		/* milliseconds */
	char *dn_prefix;		/* owned; 8-bit */
	char *display_name;		/* owned; UTF-8 */
	struct mapi_bytes aux;
};

/* Execute, 2.2.4.2.  Flags of the request: */
#define MAPI_EXEC_NO_COMPRESSION	0x00000001U
#define MAPI_EXEC_NO_XOR_MAGIC		0x00000002U
#define MAPI_EXEC_CHAIN			0x00000004U

struct mapi_execute_req {
	uint32_t flags;
	struct mapi_bytes rop;		/* RopBuffer: an RPC_HEADER_EXT chain */
	uint32_t max_rop_out;
	struct mapi_bytes aux;
};

struct mapi_execute_resp {
	uint32_t status;
	uint32_t error_code;
	uint32_t flags;
	struct mapi_bytes rop;
	struct mapi_bytes aux;
};

/* Disconnect, 2.2.4.3. */
struct mapi_disconnect_req {
	struct mapi_bytes aux;
};

struct mapi_disconnect_resp {
	uint32_t status;
	uint32_t error_code;
	struct mapi_bytes aux;
};

/* NotificationWait, 2.2.4.4. */
struct mapi_nwait_req {
	uint32_t flags;
	struct mapi_bytes aux;
};

struct mapi_nwait_resp {
	uint32_t status;
	uint32_t error_code;
	uint32_t event_pending;
	struct mapi_bytes aux;
};

/*
 * Readers of the bodies: the whole of `len` bytes (the binary part of a
 * response, after its meta-tags), nothing left over.  Return 0 or -EBADMSG
 * for a body cut short, one with bytes after its end, or a string that
 * does not end (-EILSEQ for a DisplayName that is not UTF-16).  A response
 * with a non-zero StatusCode is the failure form: 0 is returned, `status`
 * says it and only `aux` is filled.  On failure the structure is cleared.
 */
int mapi_connect_req_read(struct mapi_connect_req *out, const void *p,
			  size_t len);
int mapi_connect_resp_read(struct mapi_connect_resp *out, const void *p,
			   size_t len);
int mapi_execute_req_read(struct mapi_execute_req *out, const void *p,
			  size_t len);
int mapi_execute_resp_read(struct mapi_execute_resp *out, const void *p,
			   size_t len);
int mapi_disconnect_req_read(struct mapi_disconnect_req *out, const void *p,
			     size_t len);
int mapi_disconnect_resp_read(struct mapi_disconnect_resp *out,
			      const void *p, size_t len);
int mapi_nwait_req_read(struct mapi_nwait_req *out, const void *p,
			size_t len);
int mapi_nwait_resp_read(struct mapi_nwait_resp *out, const void *p,
			 size_t len);

void mapi_connect_req_clear(struct mapi_connect_req *r);
void mapi_connect_resp_clear(struct mapi_connect_resp *r);

/*
 * Writers: append the body to `b`.  A response with a non-zero status is
 * written in the failure form.  Return 0, or -EINVAL for a field that
 * cannot go on the wire (a NULL or non-UTF-8 string, a buffer over 4 GiB);
 * nothing is appended then.
 */
int mapi_connect_req_write(GByteArray *b, const struct mapi_connect_req *r);
int mapi_connect_resp_write(GByteArray *b, const struct mapi_connect_resp *r);
int mapi_execute_req_write(GByteArray *b, const struct mapi_execute_req *r);
int mapi_execute_resp_write(GByteArray *b, const struct mapi_execute_resp *r);
int mapi_disconnect_req_write(GByteArray *b,
			      const struct mapi_disconnect_req *r);
int mapi_disconnect_resp_write(GByteArray *b,
			       const struct mapi_disconnect_resp *r);
int mapi_nwait_req_write(GByteArray *b, const struct mapi_nwait_req *r);
int mapi_nwait_resp_write(GByteArray *b, const struct mapi_nwait_resp *r);

/*
 * The failure form of any response (2.2.2.2): StatusCode (not 0),
 * AuxiliaryBufferSize, AuxiliaryBuffer.  The reader returns -EBADMSG for a
 * body whose StatusCode is 0 or that is not exactly this.
 */
int mapi_fail_resp_read(uint32_t *status_r, struct mapi_bytes *aux_r,
			const void *p, size_t len);
int mapi_fail_resp_write(GByteArray *b, uint32_t status,
			 const struct mapi_bytes *aux);

/*
 * The blocks of an auxiliary buffer's plain payload (MS-OXCRPC 2.2.2.2):
 * each an AUX_HEADER (Size, which counts the header, Version, Type) and
 * Size - 4 bytes that stay bytes here.
 */
struct mapi_aux_block {
	uint8_t version;
	uint8_t type;
	struct mapi_bytes data;		/* borrowed from the payload */
};

#define MAPI_AUX_HEADER_SIZE	4

/*
 * The next block of `r` (a reader over the payload) into *out.  Returns 1
 * for a block, 0 at the end of the payload, -EBADMSG for a Size under 4
 * or past the end (`r` has failed then).
 */
int mapi_aux_next(struct mapi_rd *r, struct mapi_aux_block *out);

/* Append one block.  Returns 0, or -EMSGSIZE when its Size would not fit
 * in 16 bits (nothing is written then). */
int mapi_aux_write(GByteArray *b, uint8_t version, uint8_t type,
		   const void *data, size_t len);

#endif
