/*
 * curl-tls.c - see curl-tls.h.
 */
#include "curl-tls.h"

#include <errno.h>

#include <openssl/ssl.h>

#include "stream.h"

static gpointer init_once(gpointer unused)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return NULL;
}

void mfs_curl_init(void)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, init_once, NULL);
}

static CURLcode add_cas(CURL *h, void *ssl_ctx, void *p)
{
	const char *file = p;

	if (SSL_CTX_load_verify_locations(ssl_ctx, file, NULL) != 1)
		return CURLE_SSL_CACERT_BADFILE;
	return CURLE_OK;
}

void mfs_curl_verify(CURL *h, const char *ca_file)
{
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	/* as stream.c: OpenSSL's default security level already refuses
	 * TLS 1.0 and 1.1, but a system configuration may lower it */
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (ca_file) {
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, add_cas);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, ca_file);
	}
}

/* Called as data moves, and about once a second while nothing does. */
static int clock_tick(void *p, curl_off_t dltotal, curl_off_t dlnow,
		      curl_off_t ultotal, curl_off_t ulnow)
{
	struct mfs_curl_clock *clock = p;
	curl_off_t moved = dlnow + ulnow;

	if (moved > clock->moved) {
		stream_op_progress((size_t)(moved - clock->moved));
		clock->moved = moved;
	}
	if (stream_op_left_ms(clock->timeout_ms) > 0)
		return 0;
	clock->expired = true;
	return 1;
}

void mfs_curl_deadline(CURL *h, struct mfs_curl_clock *clock)
{
	clock->moved = 0;
	clock->expired = false;
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)MAX(stream_op_left_ms(clock->timeout_ms), 1));
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, clock_tick);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, clock);
}

size_t mfs_curl_sink_write(char *data, size_t size, size_t n, void *p)
{
	struct mfs_curl_sink *s = p;
	size_t len = size * n;

	if (s->body->len + len > s->max) {
		s->too_big = true;
		return 0;
	}
	g_string_append_len(s->body, data, (gssize)len);
	return len;
}

int mfs_curl_failure(CURLcode cc, bool expired, const char *who,
		     const char *msg, unsigned timeout_s, struct mfs_error *e)
{
	if (expired || cc == CURLE_OPERATION_TIMEDOUT)
		return mfs_error_set(e, -ETIMEDOUT, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: no answer within "
				     "%u s", who, timeout_s);
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return mfs_error_set(e, -ECONNREFUSED, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: %s", who, msg);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
		return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT,
				     MFS_ERR_FINAL, "%s: TLS: %s", who, msg);
	default:
		return mfs_error_set(e, -EIO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "%s: %s", who, msg);
	}
}
