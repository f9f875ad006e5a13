/*
 * server.c - the embedded LDAP server: a read-only LDAPv3 address book
 * over the store's contacts folders.  This file holds the session, the
 * table of operations, simple bind and StartTLS; search.c searches.
 *
 * Specs: RFC 4511 (4.1.1 the notice of disconnection for what cannot be
 * read, 4.2 bind, 4.3 unbind, 4.11 abandon, 4.12 extended operations,
 * 4.14 StartTLS), RFC 4513 (5.1.1 anonymous bind, 5.1.2 an unauthenticated
 * bind refused, 5.1.3 simple bind, 3 StartTLS), RFC 4526 (absolute
 * filters).
 *
 * Bind: the simple bind's name may be serve's user name itself, or a DN
 * whose first RDN is uid=USER or cn=USER (uid=alice,ou=contacts,dc=mailfs;
 * any suffix); the password is serve's.  Failures count against the
 * client's address as every login of serve does (auth.h).  An anonymous
 * bind succeeds, but only the root DSE may then be read.  Off loopback a
 * password is taken only over TLS, as by every protocol of serve.
 *
 * Operations that would change the directory (modify, add, delete,
 * modify DN) and compare are answered unwillingToPerform with their own
 * response; an abandon finds nothing to abandon, since each operation is
 * answered before the next is read.  A message that cannot be decoded, or
 * an operation unknown to RFC 4511, ends the session with a notice of
 * disconnection saying protocolError.
 */
#include "ldapd-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define LDAPD_NOTICE_OF_DISCONNECTION "1.3.6.1.4.1.1466.20036"

int ldapd_send(struct ldapd_session *s, BerElement *ber)
{
	struct berval bv = { 0 };
	int rc;

	if (ber_flatten2(ber, &bv, 0) < 0) {
		ber_free(ber, 1);
		return -ENOMEM;
	}
	rc = serve_conn_write(s->c, bv.bv_val, bv.bv_len);
	ber_free(ber, 1);
	return rc;
}

int ldapd_send_result(struct ldapd_session *s, ber_int_t msgid,
		      ber_tag_t tag, ber_int_t code, const char *matched,
		      const char *diag)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);

	if (ber_printf(ber, "{it{ess}}", msgid, tag, code,
		       matched ? matched : "", diag ? diag : "") < 0) {
		ber_free(ber, 1);
		return -ENOMEM;
	}
	return ldapd_send(s, ber);
}

/* An ExtendedResponse, with the responseName when `oid` is given. */
static int send_extended(struct ldapd_session *s, ber_int_t msgid,
			 ber_int_t code, const char *diag, const char *oid)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	int rc;

	if (oid)
		rc = ber_printf(ber, "{it{essts}}", msgid, LDAP_RES_EXTENDED,
				code, "", diag ? diag : "",
				LDAP_TAG_EXOP_RES_OID, oid);
	else
		rc = ber_printf(ber, "{it{ess}}", msgid, LDAP_RES_EXTENDED,
				code, "", diag ? diag : "");
	if (rc < 0) {
		ber_free(ber, 1);
		return -ENOMEM;
	}
	return ldapd_send(s, ber);
}

/* RFC 4511 4.4.1: the last word before the server closes. */
static void disconnect(struct ldapd_session *s, ber_int_t code,
		       const char *diag)
{
	send_extended(s, 0, code, diag, LDAPD_NOTICE_OF_DISCONNECTION);
	serve_conn_flush(s->c);
}

/* The user a bind name stands for: the name itself, or the value of a
 * first RDN uid=... or cn=....  Caller owns the result; NULL for none. */
static char *bind_user(const char *dn)
{
	LDAPDN parsed = NULL;
	char *user = NULL;

	if (!strchr(dn, '='))
		return g_strdup(dn);
	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return NULL;
	if (parsed && parsed[0] && parsed[0][0] && !parsed[0][1]) {
		const LDAPAVA *ava = parsed[0][0];
		const char *t = ava->la_attr.bv_val;
		size_t n = ava->la_attr.bv_len;
		if ((n == 3 && !g_ascii_strncasecmp(t, "uid", 3)) ||
		    (n == 2 && !g_ascii_strncasecmp(t, "cn", 2)))
			user = g_strndup(ava->la_value.bv_val,
					 ava->la_value.bv_len);
	}
	ldap_dnfree(parsed);
	return user;
}

/* A BindRequest: each outcome answered as RFC 4513 section 5.1 says. */
static bool op_bind(struct ldapd_session *s, const struct ldapd_req *req)
{
	ber_int_t id = req->msgid;

	s->bound = false;
	if (req->version != LDAP_VERSION3) {
		ldapd_send_result(s, id, LDAP_RES_BIND, LDAP_PROTOCOL_ERROR,
				  NULL, "only LDAPv3 is served");
		return true;
	}
	if (req->auth == LDAP_AUTH_SASL) {
		ldapd_send_result(s, id, LDAP_RES_BIND,
				  LDAP_AUTH_METHOD_NOT_SUPPORTED, NULL,
				  "only simple bind is served");
		return true;
	}
	if (req->auth == LDAP_AUTH_SIMPLE && !*req->dn && !*req->password) {
		/* anonymous: allowed, but it reads the root DSE only */
		ldapd_send_result(s, id, LDAP_RES_BIND, LDAP_SUCCESS, NULL,
				  NULL);
		return true;
	}
	if (req->auth == LDAP_AUTH_SIMPLE && !*req->password) {
		ldapd_send_result(s, id, LDAP_RES_BIND,
				  LDAP_UNWILLING_TO_PERFORM, NULL,
				  "unauthenticated bind (a name without a "
				  "password) is not allowed");
		return true;
	}
	if (!serve_login_allowed(s->c)) {
		ldapd_send_result(s, id, LDAP_RES_BIND,
				  LDAP_CONFIDENTIALITY_REQUIRED, NULL,
				  "this connection is not encrypted: bind "
				  "after StartTLS");
		return true;
	}
	g_autofree char *user = bind_user(req->dn);
	enum serve_login r = SERVE_LOGIN_FAILED;
	if (user && req->password)
		r = serve_auth_login(s->ctx->auth, serve_conn_peer_addr(s->c),
				     user, req->password);
	else
		r = serve_auth_login(s->ctx->auth, serve_conn_peer_addr(s->c),
				     "", "\n");
	if (r == SERVE_LOGIN_REFUSED) {
		ldapd_send_result(s, id, LDAP_RES_BIND, LDAP_BUSY, NULL,
				  "too many failed binds; try again later");
		return false;
	}
	if (r == SERVE_LOGIN_OK) {
		s->bound = true;
		serve_conn_set_timeout(s->c, ldapd_proto.timeout_ms);
		log_info("ldap: %s: %s bound", serve_conn_peer(s->c), user);
		ldapd_send_result(s, id, LDAP_RES_BIND, LDAP_SUCCESS, NULL,
				  NULL);
		return true;
	}
	bool close = serve_auth_failed(++s->failures);
	log_warnx("ldap: %s: failed bind", serve_conn_peer(s->c));
	ldapd_send_result(s, id, LDAP_RES_BIND, LDAP_INVALID_CREDENTIALS,
			  NULL, NULL);
	return !close;
}

static bool op_unbind(struct ldapd_session *s, const struct ldapd_req *req)
{
	return false;
}

static bool op_abandon(struct ldapd_session *s, const struct ldapd_req *req)
{
	/* every earlier operation is already answered: nothing to stop */
	return true;
}

static bool op_search(struct ldapd_session *s, const struct ldapd_req *req)
{
	return ldapd_search(s, req);
}

static bool op_extended(struct ldapd_session *s, const struct ldapd_req *req)
{
	ber_int_t id = req->msgid;
	int rc;

	if (strcmp(req->oid, LDAP_EXOP_START_TLS)) {
		send_extended(s, id, LDAP_PROTOCOL_ERROR,
			      "unknown extended operation", NULL);
		return true;
	}
	if (!s->ctx->tls) {
		send_extended(s, id, LDAP_UNAVAILABLE, "no certificate: "
			      "TLS is not available", NULL);
		return true;
	}
	if (serve_conn_is_tls(s->c)) {
		send_extended(s, id, LDAP_OPERATIONS_ERROR,
			      "TLS is already on", NULL);
		return true;
	}
	send_extended(s, id, LDAP_SUCCESS, NULL, LDAP_EXOP_START_TLS);
	if ((rc = serve_conn_start_tls(s->c, s->ctx->tls)) < 0) {
		log_warnx("ldap: %s: StartTLS failed: %s",
			  serve_conn_peer(s->c), g_strerror(-rc));
		return false;
	}
	/* RFC 4513 3.1.1: no bind carried over into TLS is assumed */
	s->bound = false;
	return true;
}

/* Changes and compare: a read-only directory declines each with its own
 * response. */
static bool op_decline(struct ldapd_session *s, const struct ldapd_req *req);

static const struct {
	ber_tag_t op;
	ber_tag_t response;		/* 0: none is sent */
	bool (*fn)(struct ldapd_session *s, const struct ldapd_req *req);
	const char *name;		/* for the debug log */
} ops[] = {
	{ LDAP_REQ_BIND, LDAP_RES_BIND, op_bind, "bind" },
	{ LDAP_REQ_UNBIND, 0, op_unbind, "unbind" },
	{ LDAP_REQ_SEARCH, LDAP_RES_SEARCH_RESULT, op_search, "search" },
	{ LDAP_REQ_MODIFY, LDAP_RES_MODIFY, op_decline, "modify" },
	{ LDAP_REQ_ADD, LDAP_RES_ADD, op_decline, "add" },
	{ LDAP_REQ_DELETE, LDAP_RES_DELETE, op_decline, "delete" },
	{ LDAP_REQ_MODDN, LDAP_RES_MODDN, op_decline, "modify DN" },
	{ LDAP_REQ_COMPARE, LDAP_RES_COMPARE, op_decline, "compare" },
	{ LDAP_REQ_ABANDON, 0, op_abandon, "abandon" },
	{ LDAP_REQ_EXTENDED, LDAP_RES_EXTENDED, op_extended, "extended" },
};

static bool op_decline(struct ldapd_session *s, const struct ldapd_req *req)
{
	for (size_t i = 0; i < G_N_ELEMENTS(ops); i++)
		if (ops[i].op == req->op)
			ldapd_send_result(s, req->msgid, ops[i].response,
					  LDAP_UNWILLING_TO_PERFORM, NULL,
					  "the directory is read-only");
	return true;
}

/* Run one decoded request (`rc` as ldapd_request_next said); false when
 * the session must end. */
static bool dispatch(struct ldapd_session *s, const struct ldapd_req *req,
		     int rc)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(ops); i++)
		if (ops[i].op == req->op)
			break;
	if (i == G_N_ELEMENTS(ops) || (rc < 0 && rc != -E2BIG)) {
		disconnect(s, LDAP_PROTOCOL_ERROR, "the request could not "
			   "be decoded");
		return false;
	}
	log_debug(LOG_PROTO, "ldap: %s: %d %s", serve_conn_peer(s->c),
		  req->msgid, ops[i].name);
	if (rc == -E2BIG) {
		if (ops[i].response)
			ldapd_send_result(s, req->msgid, ops[i].response,
					  LDAP_UNWILLING_TO_PERFORM, NULL,
					  "the request is too complex");
		return true;
	}
	if (req->critical && ops[i].response) {
		g_autofree char *why = g_strdup_printf(
			"control %s is not supported", req->critical);
		ldapd_send_result(s, req->msgid, ops[i].response,
				  LDAP_UNAVAILABLE_CRITICAL_EXTENSION, NULL,
				  why);
		return true;
	}
	return ops[i].fn(s, req);
}

/* The connection as liblber's stream: blocks up to its timeout. */
static ssize_t conn_read(void *arg, void *buf, size_t len)
{
	struct serve_conn *c = arg;
	const char *in;
	ssize_t n = serve_conn_peek(c, &in);

	if (n < 0) {
		errno = (int)-n;
		return -1;
	}
	n = MIN(n, (ssize_t)len);
	memcpy(buf, in, (size_t)n);
	serve_conn_consume(c, (size_t)n);
	return n;
}

static void ldapd_session(const struct serve_ctx *ctx, struct serve_conn *c)
{
	struct ldapd_session s = {
		.ctx = ctx, .c = c,
		.base = ctx->ldap_base ? ctx->ldap_base : LDAPD_BASE_DEFAULT,
	};
	Sockbuf *sb = ldapd_sockbuf_new(conn_read, c, LDAPD_MAX_REQUEST);

	for (;;) {
		struct ldapd_req req;
		int rc = ldapd_request_next(sb, &req);
		bool go_on;

		if (rc == -EMSGSIZE) {
			disconnect(&s, LDAP_PROTOCOL_ERROR,
				   "the request is too large");
			break;
		}
		if (rc < 0 && rc != -EPROTO && rc != -E2BIG) {
			ldapd_req_clear(&req);
			break;
		}
		go_on = dispatch(&s, &req, rc);
		ldapd_req_clear(&req);
		if (!go_on || serve_conn_flush(c) < 0)
			break;
	}
	serve_conn_flush(c);
	ber_sockbuf_free(sb);
}

const struct serve_proto ldapd_proto = {
	.name = "ldap",
	.session = ldapd_session,
	.timeout_ms = 10 * 60 * 1000,
	.starttls = "StartTLS",
};
