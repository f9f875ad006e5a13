/*
 * curl-tls.h - what each libcurl client of the protocols (EWS, SMTP
 * submission, the OAuth2 endpoints) sets up the same way: libcurl's global
 * state once per process, certificate and host-name verification against
 * the system's CAs plus an account's `ca_file`, and a bounded collector of
 * an answer's body.  No I/O of its own.
 */
#ifndef MFS_CURL_TLS_H
#define MFS_CURL_TLS_H

#include <curl/curl.h>
#include <glib.h>
#include <stdbool.h>

#include "backend.h"

/* curl_global_init, once for the process, whichever client comes first. */
void mfs_curl_init(void);

/*
 * Verify the peer's certificate and host name on `h` (never turned off)
 * and speak TLS 1.2 or newer,
 * trusting `ca_file` (PEM; may be NULL) beside the system's CAs: it is added
 * to OpenSSL's store, where CURLOPT_CAINFO would replace the system's.
 * `ca_file` is borrowed and must outlive the transfer.
 */
void mfs_curl_verify(CURL *h, const char *ca_file);

/*
 * Hold the transfer on `h` to the running operation's deadline (stream.h;
 * the caller runs curl_easy_perform between stream_op_begin and
 * stream_op_end): connecting gets what is left of it, the bytes moved
 * count as the operation's progress, and once the deadline passes the
 * transfer ends with CURLE_ABORTED_BY_CALLBACK and clock->expired set.
 * `clock` is borrowed and must outlive the transfer.
 */
struct mfs_curl_clock {
	int timeout_ms;		/* the account's timeout */
	curl_off_t moved;	/* bytes both ways seen so far */
	bool expired;
};
void mfs_curl_deadline(CURL *h, struct mfs_curl_clock *clock);

/* An answer's body, refused past `max` bytes. */
struct mfs_curl_sink {
	GString *body;		/* borrowed */
	size_t max;
	bool too_big;		/* the answer was cut at max */
};

/* CURLOPT_WRITEFUNCTION for a struct mfs_curl_sink (CURLOPT_WRITEDATA):
 * past `max` it returns 0, so libcurl ends with CURLE_WRITE_ERROR. */
size_t mfs_curl_sink_write(char *data, size_t size, size_t n, void *sink);

/*
 * The error of a transfer that ended with `cc` (not CURLE_OK), as every
 * HTTP client of the protocols says it: past the deadline (`expired`, or
 * libcurl's own timeout) -ETIMEDOUT naming `timeout_s`; a connection
 * refused or a host not found -ECONNREFUSED; a certificate or TLS
 * handshake refused -EACCES, final; anything else -EIO.  All but TLS are
 * transient; all are of the account.  `who` names the peer and `msg` is
 * libcurl's sentence, made printable by the caller; both borrowed.  Cases
 * of a client's own (a body past its bound) are the caller's, first.
 * Returns the -errno also set in *e.
 */
int mfs_curl_failure(CURLcode cc, bool expired, const char *who,
		     const char *msg, unsigned timeout_s, struct mfs_error *e);

#endif
