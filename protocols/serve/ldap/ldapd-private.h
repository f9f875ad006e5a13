/*
 * ldapd-private.h - the embedded LDAP server's parts: the request reader
 * (request.c), the search filter (filter.c), the session and its
 * operations (server.c), the search over the store (search.c).
 *
 * Specs: RFC 4511 (LDAPv3: messages, bind, search, extended operations,
 * the notice of disconnection), RFC 4513 (simple bind, StartTLS), RFC
 * 4512 5.1 (the root DSE), RFC 4514 (DN strings), RFC 4526 (absolute
 * true and false filters).  BER is read and written by liblber.
 *
 * Ownership: a struct ldapd_req owns everything it points to; filters own
 * their children.  Errors are -errno.
 */
#ifndef MFS_LDAPD_PRIVATE_H
#define MFS_LDAPD_PRIVATE_H

#include <glib.h>
#include <lber.h>
#include <ldap.h>
#include <stdbool.h>
#include <sys/types.h>

#include "wire/ldap-card.h"
#include "serve/serve.h"

/* The largest request taken; a bind or a search is far smaller. */
#define LDAPD_MAX_REQUEST (256u * 1024)
/* A filter nested deeper, or with more parts, is refused. */
#define LDAPD_FILTER_DEPTH 32
#define LDAPD_FILTER_NODES 1024
/* Attributes a search may name. */
#define LDAPD_ATTRS_MAX 256
/* Entries one search returns at most, and how long it may run, whatever
 * the client asks. */
#define LDAPD_SIZE_CAP 1000
#define LDAPD_TIME_CAP 60
/* The naming context when serve is not told another. */
#define LDAPD_BASE_DEFAULT "ou=contacts,dc=mailfs"

enum ldapd_filter_kind {
	LDAPD_F_AND, LDAPD_F_OR, LDAPD_F_NOT,
	LDAPD_F_EQ, LDAPD_F_SUB, LDAPD_F_GE, LDAPD_F_LE, LDAPD_F_APPROX,
	LDAPD_F_PRESENT,
	LDAPD_F_EXT,		/* extensibleMatch: not carried, Undefined */
};

struct ldapd_filter {
	enum ldapd_filter_kind kind;
	char *attr;			/* owned; as the client wrote it */
	GBytes *value;			/* owned; EQ GE LE APPROX */
	GBytes *initial, *final;	/* owned; SUB, NULL when absent */
	GPtrArray *any;			/* owned; SUB, of GBytes * */
	GPtrArray *children;		/* owned; AND OR NOT, of filters */
};

/* RFC 4511 4.5.1.7: a filter is True, False or Undefined. */
enum ldapd_tri { LDAPD_FALSE, LDAPD_TRUE, LDAPD_UNDEFINED };

/*
 * Decode the Filter at `ber`'s position (filter.c).  Returns 0 with
 * *filter_r (caller owns, ldapd_filter_free), -EPROTO for bytes that are
 * not a filter, -E2BIG past LDAPD_FILTER_DEPTH or LDAPD_FILTER_NODES.
 */
int ldapd_filter_decode(BerElement *ber, struct ldapd_filter **filter_r);
void ldapd_filter_free(struct ldapd_filter **filter);
/* Whether `card` matches; attributes the mapping does not carry make a
 * comparison Undefined, as RFC 4511 says of unknown types. */
enum ldapd_tri ldapd_filter_eval(const struct ldapd_filter *f,
				 const struct ldap_card *card);

/* One request (request.c). */
struct ldapd_req {
	ber_int_t msgid;
	ber_tag_t op;			/* the protocolOp's tag */
	char *critical;			/* owned; the OID of a control marked
					   critical, NULL when none */
	/* BindRequest */
	ber_int_t version;
	char *dn;			/* owned; bind name or search base */
	ber_tag_t auth;			/* LDAP_AUTH_SIMPLE, LDAP_AUTH_SASL */
	char *password;			/* owned; wiped when freed */
	/* SearchRequest */
	ber_int_t scope, size_limit, time_limit;
	ber_int_t types_only;
	struct ldapd_filter *filter;	/* owned */
	GPtrArray *attrs;		/* owned; of char * */
	/* ExtendedRequest */
	char *oid;			/* owned */
};

void ldapd_req_clear(struct ldapd_req *req);

/* Reads one byte run of the stream: as read(2), -1 with errno set. */
typedef ssize_t (*ldapd_read_fn)(void *arg, void *buf, size_t len);

/* A liblber Sockbuf reading through `fn` (arg borrowed), that takes no
 * message past `max` bytes.  Caller owns it (ber_sockbuf_free). */
Sockbuf *ldapd_sockbuf_new(ldapd_read_fn fn, void *arg, size_t max);

/*
 * Read and decode the next LDAPMessage from `sb` into *req (cleared
 * first; ldapd_req_clear after).  Returns 0; -EPROTO when the bytes are
 * not an LDAPMessage of a kind this server knows how to answer (the
 * session then ends with a notice of disconnection); -EMSGSIZE past the
 * Sockbuf's bound; or the errno of the stream (-ECONNRESET...).  An
 * operation this server does not carry decodes with only msgid and op
 * set.
 */
int ldapd_request_next(Sockbuf *sb, struct ldapd_req *req);

/* The session (server.c). */
struct ldapd_session {
	const struct serve_ctx *ctx;	/* borrowed */
	struct serve_conn *c;		/* borrowed */
	const char *base;		/* borrowed; the naming context */
	bool bound;			/* a simple bind with serve's
					   credentials succeeded */
	unsigned failures;		/* failed binds on this connection */
};

/* Send a BER element built by the caller, and free it.  0 or -errno. */
int ldapd_send(struct ldapd_session *s, BerElement *ber);
/* An LDAPResult of operation response `tag`. */
int ldapd_send_result(struct ldapd_session *s, ber_int_t msgid,
		      ber_tag_t tag, ber_int_t code, const char *matched,
		      const char *diag);

/* SearchRequest (search.c); false when the session must end. */
bool ldapd_search(struct ldapd_session *s, const struct ldapd_req *req);

/* Whether `a` and `b` name the same entry: same RDNs, attribute types
 * and values compared without regard to case (search.c). */
bool ldapd_dn_equal(const char *a, const char *b);

#endif
