/*
 * tls.c - the server side's TLS context: a certificate chain and its key
 * from PEM files, TLS 1.2 or newer.
 */
#include "serve.h"

#include <openssl/err.h>

SSL_CTX *serve_tls_new(const char *cert_file, const char *key_file,
		       char **why_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char err[256];

	if (!ctx) {
		*why_r = g_strdup("cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		*why_r = g_strdup_printf("certificate %s: %s", cert_file, err);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		*why_r = g_strdup_printf("key %s: %s", key_file, err);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
