/*
 * fuzz-ldap-request.c - the embedded LDAP server's request reader
 * (protocols/serve/ldap/request.c) on arbitrary bytes: the stream is cut
 * into LDAPMessages by liblber, each decoded as far as its operation
 * needs, until the bytes run out or cannot be read; a search's filter is
 * evaluated against an empty card.  A message larger than the bound is
 * refused without being read.
 */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "serve/ldap/ldapd-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *data;
	size_t left;
};

/* Hands the bytes out a few at a time, as a network would. */
static ssize_t read_input(void *arg, void *buf, size_t len)
{
	struct input *in = arg;
	size_t n = MIN(MIN(len, in->left), (size_t)7);

	if (!n) {
		errno = ECONNRESET;
		return -1;
	}
	memcpy(buf, in->data, n);
	in->data += n;
	in->left -= n;
	return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	Sockbuf *sb = ldapd_sockbuf_new(read_input, &in, 4096);
	struct ldap_card *card = ldap_card_new();

	for (unsigned i = 0; i < 64; i++) {
		struct ldapd_req req;
		int rc = ldapd_request_next(sb, &req);
		if (rc == 0 && req.op == LDAP_REQ_SEARCH &&
		    (!req.filter || !req.attrs))
			__builtin_trap();
		if (rc == 0 && req.filter)
			(void)ldapd_filter_eval(req.filter, card);
		ldapd_req_clear(&req);
		if (rc < 0 && rc != -E2BIG)
			break;
	}
	ldap_card_free(&card);
	ber_sockbuf_free(sb);
	return 0;
}
