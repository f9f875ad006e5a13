/*
 * curl-tls.c - see curl-tls.h.
 */
#include "curl-tls.h"

#include <openssl/ssl.h>

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
	if (ca_file) {
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, add_cas);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, ca_file);
	}
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
