/*
 * request.c - reading the embedded LDAP server's requests: one
 * LDAPMessage at a time off the connection, framed and decoded by
 * liblber, into a struct ldapd_req.
 *
 * Specs: RFC 4511 4.1.1 (LDAPMessage, messageID, controls), 4.1.11
 * (criticality), 4.2 (BindRequest), 4.3 (UnbindRequest), 4.5.1
 * (SearchRequest), 4.11 (AbandonRequest), 4.12 (ExtendedRequest).
 *
 * The stream reaches liblber through a Sockbuf whose one I/O layer
 * calls a read function (the connection's, or a buffer's in the fuzz
 * target), so that TLS started on the connection is below it and
 * liblber never sees a socket; its bound on incoming messages keeps a
 * length larger than anything sensible from costing memory.
 */
#include "ldapd-private.h"

#include <errno.h>
#include <string.h>

#include "secret.h"

struct reader {
	ldapd_read_fn fn;
	void *arg;
};

static int io_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
	sbiod->sbiod_pvt = arg;
	return 0;
}

static int io_remove(Sockbuf_IO_Desc *sbiod)
{
	g_free(sbiod->sbiod_pvt);
	sbiod->sbiod_pvt = NULL;
	return 0;
}

static int io_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
	return 0;
}

static ber_slen_t io_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	struct reader *r = sbiod->sbiod_pvt;

	return r->fn(r->arg, buf, len);
}

static ber_slen_t io_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	/* answers go out through the connection, never through here */
	errno = EBADF;
	return -1;
}

static int io_close(Sockbuf_IO_Desc *sbiod)
{
	return 0;
}

static Sockbuf_IO reader_io = {
	.sbi_setup = io_setup,
	.sbi_remove = io_remove,
	.sbi_ctrl = io_ctrl,
	.sbi_read = io_read,
	.sbi_write = io_write,
	.sbi_close = io_close,
};

Sockbuf *ldapd_sockbuf_new(ldapd_read_fn fn, void *arg, size_t max)
{
	Sockbuf *sb = ber_sockbuf_alloc();
	struct reader *r = g_new0(struct reader, 1);
	ber_len_t limit = max;

	r->fn = fn;
	r->arg = arg;
	ber_sockbuf_add_io(sb, &reader_io, LBER_SBIOD_LEVEL_PROVIDER, r);
	ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &limit);
	return sb;
}

void ldapd_req_clear(struct ldapd_req *req)
{
	g_free(req->critical);
	g_free(req->dn);
	secret_free(req->password);
	ldapd_filter_free(&req->filter);
	if (req->attrs)
		g_ptr_array_unref(req->attrs);
	g_free(req->oid);
	memset(req, 0, sizeof(*req));
}

static char *text_of(const struct berval *bv)
{
	return g_strndup(bv->bv_val, bv->bv_len);
}

static int decode_bind(BerElement *ber, struct ldapd_req *req)
{
	struct berval dn, cred;

	if (ber_scanf(ber, "imt", &req->version, &dn, &req->auth) ==
	    LBER_ERROR)
		return -EPROTO;
	req->dn = text_of(&dn);
	if (req->auth != LDAP_AUTH_SIMPLE)
		return 0;
	if (ber_scanf(ber, "m", &cred) == LBER_ERROR)
		return -EPROTO;
	/* a password with a NUL inside matches none: kept as "" plus a
	 * mark that it cannot be checked */
	req->password = memchr(cred.bv_val, 0, cred.bv_len)
		? NULL : text_of(&cred);
	if (!req->password)
		req->auth = LBER_DEFAULT;
	return 0;
}

static int decode_search(BerElement *ber, struct ldapd_req *req)
{
	struct berval base, a;
	ber_int_t deref;
	ber_len_t len;
	char *last;
	int rc;

	if (ber_scanf(ber, "meeiib", &base, &req->scope, &deref,
		      &req->size_limit, &req->time_limit, &req->types_only) ==
	    LBER_ERROR)
		return -EPROTO;
	req->dn = text_of(&base);
	if ((rc = ldapd_filter_decode(ber, &req->filter)) < 0)
		return rc;
	req->attrs = g_ptr_array_new_with_free_func(g_free);
	for (ber_tag_t t = ber_first_element(ber, &len, &last);
	     t != LBER_DEFAULT; t = ber_next_element(ber, &len, last)) {
		if (req->attrs->len >= LDAPD_ATTRS_MAX)
			return -E2BIG;
		if (ber_scanf(ber, "m", &a) == LBER_ERROR)
			return -EPROTO;
		g_ptr_array_add(req->attrs, text_of(&a));
	}
	if (req->scope != LDAP_SCOPE_BASE && req->scope != LDAP_SCOPE_ONE &&
	    req->scope != LDAP_SCOPE_SUB)
		return -EPROTO;
	return 0;
}

static int decode_extended(BerElement *ber, struct ldapd_req *req)
{
	struct berval oid;

	if (ber_scanf(ber, "m", &oid) == LBER_ERROR)
		return -EPROTO;
	req->oid = text_of(&oid);
	return 0;
}

/* The first control marked critical, into req->critical. */
static int decode_controls(BerElement *ber, struct ldapd_req *req)
{
	ber_len_t len;
	char *last;

	for (ber_tag_t t = ber_first_element(ber, &len, &last);
	     t != LBER_DEFAULT; t = ber_next_element(ber, &len, last)) {
		struct berval type, whole;	/* the control's contents */
		ber_int_t critical = 0;
		BerElement *c;
		if (ber_skip_element(ber, &whole) == LBER_ERROR)
			return -EPROTO;
		c = ber_init(&whole);
		if (!c)
			return -EPROTO;
		if (ber_scanf(c, "m", &type) == LBER_ERROR) {
			ber_free(c, 1);
			return -EPROTO;
		}
		if (ber_peek_tag(c, &len) == LBER_BOOLEAN &&
		    ber_get_boolean(c, &critical) == LBER_ERROR)
			critical = 0;
		if (critical && !req->critical)
			req->critical = text_of(&type);
		ber_free(c, 1);
	}
	return 0;
}

/* The protocolOp whose contents (after its tag and length) are `op`, as
 * far as its kind needs. */
static int decode_op(const struct berval *op, struct ldapd_req *req)
{
	BerElement *ber = ber_init((struct berval *)op);
	int rc = 0;

	if (!ber)
		return -EPROTO;
	switch (req->op) {
	case LDAP_REQ_BIND:
		rc = decode_bind(ber, req);
		break;
	case LDAP_REQ_SEARCH:
		rc = decode_search(ber, req);
		break;
	case LDAP_REQ_EXTENDED:
		rc = decode_extended(ber, req);
		break;
	case LDAP_REQ_UNBIND:
	case LDAP_REQ_ABANDON:
	case LDAP_REQ_MODIFY:
	case LDAP_REQ_ADD:
	case LDAP_REQ_DELETE:
	case LDAP_REQ_MODDN:
	case LDAP_REQ_COMPARE:
		/* answered without looking inside */
		break;
	default:
		rc = -EPROTO;
	}
	ber_free(ber, 1);
	return rc;
}

int ldapd_request_next(Sockbuf *sb, struct ldapd_req *req)
{
	BerElement *ber = ber_alloc_t(0);
	struct berval op;
	ber_len_t len;
	ber_tag_t tag;
	int rc;

	memset(req, 0, sizeof(*req));
	req->msgid = -1;
	/* liblber returns with EWOULDBLOCK whenever a read gives less than
	 * it asked for, keeping what came in `ber`; the read function waits
	 * for the client, so each new call makes progress or fails */
	do {
		errno = 0;
		tag = ber_get_next(sb, &len, ber);
	} while (tag == LBER_DEFAULT &&
		 (errno == EWOULDBLOCK || errno == EAGAIN));
	if (tag == LBER_DEFAULT) {
		rc = errno == ERANGE ? -EMSGSIZE : errno ? -errno : -EPROTO;
		ber_free(ber, 1);
		return rc;
	}
	if (tag != LDAP_TAG_MESSAGE ||
	    ber_get_int(ber, &req->msgid) != LDAP_TAG_MSGID ||
	    req->msgid < 0) {
		req->msgid = -1;
		ber_free(ber, 1);
		return -EPROTO;
	}
	req->op = ber_skip_element(ber, &op);
	if (req->op == LBER_ERROR) {
		ber_free(ber, 1);
		return -EPROTO;
	}
	rc = decode_op(&op, req);
	if (rc == 0 && ber_peek_tag(ber, &len) == LDAP_TAG_CONTROLS)
		rc = decode_controls(ber, req);
	ber_free(ber, 1);
	return rc;
}
