/*
 * mapi-autodiscover.c - the POX Autodiscover of MS-OXDSCLI for MAPI over
 * HTTP: the request (2.2.3), the response with its User, Account,
 * Protocol (mapiHttp 2.2.4.1.1.2.6, EXCH, EXPR), redirects and Error
 * elements (2.2.4).  The XML is read by ews_xml_read() of ews-soap.c,
 * which refuses DTDs and entities.
 */
#include "mapi-autodiscover.h"

#include <errno.h>
#include <string.h>

#include <glib.h>
#include <libxml/tree.h>

#include "ews-soap.h"

/* The text of the first child `name` of `parent` in namespace `ns`, or
 * NULL.  Caller owns the result. */
static char *child_text(const xmlNode *parent, const char *ns,
			const char *name)
{
	xmlNode *n = parent ? ews_child(parent, ns, name) : NULL;
	xmlChar *v;
	char *copy;

	if (!n)
		return NULL;
	v = xmlNodeGetContent(n);
	copy = g_strdup(v ? (const char *)v : "");
	xmlFree(v);
	return copy;
}

static const char *ns_of(const xmlNode *n)
{
	return n && n->ns && n->ns->href ? (const char *)n->ns->href : "";
}

/* Write <name>text</name> when text is set. */
static void put_elem(GString *out, const char *name, const char *text)
{
	if (!text)
		return;
	g_string_append_printf(out, "<%s>", name);
	ews_escape(out, text);
	g_string_append_printf(out, "</%s>", name);
}

/* The layout is that of the recorded client's requests: one element a
 * line, CRLF, indented by two. */
char *mapi_autodiscover_request_write(const char *email, size_t *len_r)
{
	GString *out = g_string_new("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
				    "\r\n<Autodiscover xmlns=\""
				    MAPI_AUTODISCOVER_NS_REQUEST "\">\r\n"
				    "  <Request>\r\n    ");

	put_elem(out, "EMailAddress", email);
	g_string_append(out, "\r\n    ");
	put_elem(out, "AcceptableResponseSchema", MAPI_AUTODISCOVER_NS_OUTLOOK);
	g_string_append(out, "\r\n  </Request>\r\n</Autodiscover>\r\n");
	if (len_r)
		*len_r = out->len;
	return g_string_free(out, FALSE);
}

int mapi_autodiscover_request_read(const char *buf, size_t len,
				   struct mapi_autodiscover_request *req)
{
	const char *ns = MAPI_AUTODISCOVER_NS_REQUEST;
	xmlDoc *doc = NULL;
	xmlNode *root, *rq;
	int rc = ews_xml_read(buf, len, MAPI_AUTODISCOVER_BODY_MAX, false,
			      &doc);

	memset(req, 0, sizeof(*req));
	if (rc < 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	rq = ews_is(root, ns, "Autodiscover") ? ews_child(root, ns, "Request")
					      : NULL;
	req->email = child_text(rq, ns, "EMailAddress");
	req->legacy_dn = child_text(rq, ns, "LegacyDN");
	req->schema = child_text(rq, ns, "AcceptableResponseSchema");
	xmlFreeDoc(doc);
	if ((!req->email || !*req->email) &&
	    (!req->legacy_dn || !*req->legacy_dn)) {
		mapi_autodiscover_request_clear(req);
		return -EINVAL;
	}
	return 0;
}

void mapi_autodiscover_request_clear(struct mapi_autodiscover_request *req)
{
	g_free(req->email);
	g_free(req->legacy_dn);
	g_free(req->schema);
	memset(req, 0, sizeof(*req));
}

void mapi_autodiscover_response_clear(struct mapi_autodiscover_response *resp)
{
	char **fields[] = {
		&resp->smtp_address, &resp->display_name, &resp->legacy_dn,
		&resp->deployment_id, &resp->mailstore_internal,
		&resp->mailstore_external, &resp->addressbook_internal,
		&resp->addressbook_external, &resp->exch_server,
		&resp->exch_server_dn, &resp->exch_mdb_dn, &resp->expr_server,
		&resp->redirect, &resp->error_code, &resp->error_message,
		&resp->error_time, &resp->error_id,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		g_clear_pointer(fields[i], g_free);
	resp->kind = MAPI_AUTODISCOVER_SETTINGS;
}

static void read_error(const xmlNode *err, struct mapi_autodiscover_response *r)
{
	const char *ns = ns_of(err);

	r->kind = MAPI_AUTODISCOVER_ERROR;
	r->error_code = child_text(err, ns, "ErrorCode");
	r->error_message = child_text(err, ns, "Message");
	r->error_time = ews_attr(err, "Time");
	r->error_id = ews_attr(err, "Id");
}

/* One Protocol element of the Account: mapiHttp names its type in an
 * attribute, the others in a Type child. */
static void read_protocol(const xmlNode *p, struct mapi_autodiscover_response *r)
{
	const char *ns = ns_of(p);
	char *attr = ews_attr(p, "Type");
	char *type = child_text(p, ns, "Type");

	if (attr && g_ascii_strcasecmp(attr, "mapiHttp") == 0) {
		xmlNode *ms = ews_child(p, ns, "MailStore");
		xmlNode *ab = ews_child(p, ns, "AddressBook");

		if (!r->mailstore_internal) {
			r->mailstore_internal = child_text(ms, ns, "InternalUrl");
			r->mailstore_external = child_text(ms, ns, "ExternalUrl");
		}
		if (!r->addressbook_internal) {
			r->addressbook_internal =
				child_text(ab, ns, "InternalUrl");
			r->addressbook_external =
				child_text(ab, ns, "ExternalUrl");
		}
	} else if (type && strcmp(type, "EXCH") == 0 && !r->exch_server) {
		r->exch_server = child_text(p, ns, "Server");
		r->exch_server_dn = child_text(p, ns, "ServerDN");
		r->exch_mdb_dn = child_text(p, ns, "MdbDN");
	} else if (type && strcmp(type, "EXPR") == 0 && !r->expr_server) {
		r->expr_server = child_text(p, ns, "Server");
	}
	g_free(attr);
	g_free(type);
}

static int read_account(const xmlNode *acct,
			struct mapi_autodiscover_response *r)
{
	const char *ns = ns_of(acct);
	xmlNode *err = ews_child(acct, ns, "Error");
	g_autofree char *action = child_text(acct, ns, "Action");

	if (err) {
		read_error(err, r);
		return 0;
	}
	if (!action || strcmp(action, "settings") == 0) {
		r->kind = MAPI_AUTODISCOVER_SETTINGS;
		for (xmlNode *p = ews_first_element(acct); p;
		     p = ews_next_element(p))
			if (ews_is(p, ns, "Protocol"))
				read_protocol(p, r);
		return 0;
	}
	if (strcmp(action, "redirectAddr") == 0) {
		r->kind = MAPI_AUTODISCOVER_REDIRECT_ADDR;
		r->redirect = child_text(acct, ns, "RedirectAddr");
	} else if (strcmp(action, "redirectUrl") == 0) {
		r->kind = MAPI_AUTODISCOVER_REDIRECT_URL;
		r->redirect = child_text(acct, ns, "RedirectUrl");
	} else {
		return -EPROTO;
	}
	return r->redirect && *r->redirect ? 0 : -EPROTO;
}

int mapi_autodiscover_response_read(const char *buf, size_t len,
				    struct mapi_autodiscover_response *resp)
{
	xmlDoc *doc = NULL;
	xmlNode *root, *rsp = NULL, *user, *acct, *err;
	const char *ns;
	int rc = ews_xml_read(buf, len, MAPI_AUTODISCOVER_BODY_MAX, false,
			      &doc);

	memset(resp, 0, sizeof(*resp));
	if (rc < 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	/* the Response is in the Outlook schema, or in the base one when it
	 * carries an Error */
	if (ews_is(root, MAPI_AUTODISCOVER_NS_RESPONSE, "Autodiscover")) {
		rsp = ews_child(root, MAPI_AUTODISCOVER_NS_OUTLOOK, "Response");
		if (!rsp)
			rsp = ews_child(root, MAPI_AUTODISCOVER_NS_RESPONSE,
					"Response");
	}
	if (!rsp) {
		xmlFreeDoc(doc);
		return -EINVAL;
	}
	ns = ns_of(rsp);
	user = ews_child(rsp, ns, "User");
	acct = ews_child(rsp, ns, "Account");
	err = ews_child(rsp, ns, "Error");
	resp->smtp_address = child_text(user, ns, "AutoDiscoverSMTPAddress");
	resp->display_name = child_text(user, ns, "DisplayName");
	resp->legacy_dn = child_text(user, ns, "LegacyDN");
	resp->deployment_id = child_text(user, ns, "DeploymentId");
	if (err)
		read_error(err, resp);
	else if (acct)
		rc = read_account(acct, resp);
	else
		rc = -EINVAL;
	xmlFreeDoc(doc);
	if (rc < 0)
		mapi_autodiscover_response_clear(resp);
	return rc;
}

static void write_settings(GString *out,
			   const struct mapi_autodiscover_response *r)
{
	if (r->mailstore_internal || r->mailstore_external ||
	    r->addressbook_internal || r->addressbook_external) {
		g_string_append(out, "<Protocol Type=\"mapiHttp\" Version=\"1\">"
				     "<MailStore>");
		put_elem(out, "InternalUrl", r->mailstore_internal);
		put_elem(out, "ExternalUrl", r->mailstore_external);
		g_string_append(out, "</MailStore><AddressBook>");
		put_elem(out, "InternalUrl", r->addressbook_internal);
		put_elem(out, "ExternalUrl", r->addressbook_external);
		g_string_append(out, "</AddressBook></Protocol>");
	}
	if (r->exch_server) {
		g_string_append(out, "<Protocol><Type>EXCH</Type>");
		put_elem(out, "Server", r->exch_server);
		put_elem(out, "ServerDN", r->exch_server_dn);
		put_elem(out, "MdbDN", r->exch_mdb_dn);
		g_string_append(out, "</Protocol>");
	}
	if (r->expr_server) {
		g_string_append(out, "<Protocol><Type>EXPR</Type>");
		put_elem(out, "Server", r->expr_server);
		g_string_append(out, "</Protocol>");
	}
}

static void write_error(GString *out, const struct mapi_autodiscover_response *r)
{
	g_string_append(out, "<Error");
	if (r->error_time) {
		g_string_append(out, " Time=\"");
		ews_escape(out, r->error_time);
		g_string_append(out, "\"");
	}
	if (r->error_id) {
		g_string_append(out, " Id=\"");
		ews_escape(out, r->error_id);
		g_string_append(out, "\"");
	}
	g_string_append(out, ">");
	put_elem(out, "ErrorCode", r->error_code);
	put_elem(out, "Message", r->error_message);
	g_string_append(out, "<DebugData/></Error>");
}

char *mapi_autodiscover_response_write(
	const struct mapi_autodiscover_response *r, size_t *len_r)
{
	GString *out = g_string_new("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
				    "<Autodiscover xmlns=\""
				    MAPI_AUTODISCOVER_NS_RESPONSE "\">");

	if (r->kind == MAPI_AUTODISCOVER_ERROR) {
		/* an error is answered in the base schema, as MS-OXDSCLI
		 * shows its Error responses */
		g_string_append(out, "<Response>");
		write_error(out, r);
	} else {
		g_string_append(out, "<Response xmlns=\""
				     MAPI_AUTODISCOVER_NS_OUTLOOK "\">");
		if (r->smtp_address || r->display_name || r->legacy_dn ||
		    r->deployment_id) {
			g_string_append(out, "<User>");
			put_elem(out, "AutoDiscoverSMTPAddress",
				 r->smtp_address);
			put_elem(out, "DisplayName", r->display_name);
			put_elem(out, "LegacyDN", r->legacy_dn);
			put_elem(out, "DeploymentId", r->deployment_id);
			g_string_append(out, "</User>");
		}
		g_string_append(out, "<Account><AccountType>email</AccountType>");
		if (r->kind == MAPI_AUTODISCOVER_REDIRECT_ADDR) {
			g_string_append(out, "<Action>redirectAddr</Action>");
			put_elem(out, "RedirectAddr", r->redirect);
		} else if (r->kind == MAPI_AUTODISCOVER_REDIRECT_URL) {
			g_string_append(out, "<Action>redirectUrl</Action>");
			put_elem(out, "RedirectUrl", r->redirect);
		} else {
			g_string_append(out, "<Action>settings</Action>");
			write_settings(out, r);
		}
		g_string_append(out, "</Account>");
	}
	g_string_append(out, "</Response></Autodiscover>");
	if (len_r)
		*len_r = out->len;
	return g_string_free(out, FALSE);
}
