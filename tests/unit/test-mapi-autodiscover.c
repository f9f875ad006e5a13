/*
 * test-mapi-autodiscover.c - wire/mapi-autodiscover.h: the POX
 * Autodiscover of MS-OXDSCLI.  The two recorded exchanges of
 * tests/data/mapi-traces/10-autodiscover.json (with and without
 * X-MapiHttpCapability), the response of MS-OXDSCLI 4.4's kind, the
 * writer read back, redirects, errors and hostile XML.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-autodiscover.h"
#include "mapi-trace.h"

#define GROMOX_ID "616c6963-6540-6578-616d-706c01000000@example.test"
#define ORG "/o=Gromox default/ou=Exchange Administrative Group " \
	"(FYDIBOHF23SPDLT)"

static void check_recorded(const struct mapi_autodiscover_response *r,
			   const char *user_dn)
{
	g_assert_cmpint(r->kind, ==, MAPI_AUTODISCOVER_SETTINGS);
	g_assert_cmpstr(r->smtp_address, ==, "alice@example.test");
	g_assert_cmpstr(r->display_name, ==, "Alice Test");
	g_assert_cmpstr(r->legacy_dn, ==, user_dn);
	g_assert_cmpstr(r->deployment_id, ==,
			"eeeeeeee-eeee-eeee-eeee-eeeeeeeeeeee");
	g_assert_cmpstr(r->mailstore_internal, ==,
			"https://localhost/mapi/emsmdb/?MailboxId=" GROMOX_ID);
	g_assert_cmpstr(r->mailstore_external, ==, r->mailstore_internal);
	g_assert_cmpstr(r->addressbook_internal, ==,
			"https://localhost/mapi/nspi/?MailboxId=" GROMOX_ID);
	g_assert_cmpstr(r->addressbook_external, ==, r->addressbook_internal);
	g_assert_cmpstr(r->exch_server, ==, GROMOX_ID);
	g_assert_cmpstr(r->exch_server_dn, ==,
			ORG "/cn=Configuration/cn=Servers/cn=" GROMOX_ID);
	g_assert_cmpstr(r->exch_mdb_dn, ==,
			ORG "/cn=Configuration/cn=Servers/cn=" GROMOX_ID
			"/cn=Microsoft Private MDB");
	g_assert_cmpstr(r->expr_server, ==, "localhost");
	g_assert_null(r->redirect);
	g_assert_null(r->error_code);
}

/* Write, read back, write again: the same bytes and the same fields. */
static void check_write_read(const struct mapi_autodiscover_response *r)
{
	struct mapi_autodiscover_response back;
	size_t len = 0, len2 = 0;
	char *xml = mapi_autodiscover_response_write(r, &len), *xml2;

	g_assert_cmpuint(len, ==, strlen(xml));
	g_assert_cmpint(mapi_autodiscover_response_read(xml, len, &back), ==,
			0);
	g_assert_cmpint(back.kind, ==, r->kind);
	g_assert_cmpstr(back.smtp_address, ==, r->smtp_address);
	g_assert_cmpstr(back.display_name, ==, r->display_name);
	g_assert_cmpstr(back.legacy_dn, ==, r->legacy_dn);
	g_assert_cmpstr(back.deployment_id, ==, r->deployment_id);
	g_assert_cmpstr(back.mailstore_internal, ==, r->mailstore_internal);
	g_assert_cmpstr(back.mailstore_external, ==, r->mailstore_external);
	g_assert_cmpstr(back.addressbook_internal, ==, r->addressbook_internal);
	g_assert_cmpstr(back.addressbook_external, ==, r->addressbook_external);
	g_assert_cmpstr(back.exch_server, ==, r->exch_server);
	g_assert_cmpstr(back.exch_server_dn, ==, r->exch_server_dn);
	g_assert_cmpstr(back.exch_mdb_dn, ==, r->exch_mdb_dn);
	g_assert_cmpstr(back.expr_server, ==, r->expr_server);
	g_assert_cmpstr(back.redirect, ==, r->redirect);
	g_assert_cmpstr(back.error_code, ==, r->error_code);
	g_assert_cmpstr(back.error_message, ==, r->error_message);
	g_assert_cmpstr(back.error_time, ==, r->error_time);
	g_assert_cmpstr(back.error_id, ==, r->error_id);
	xml2 = mapi_autodiscover_response_write(&back, &len2);
	g_assert_cmpstr(xml2, ==, xml);
	g_free(xml2);
	g_free(xml);
	mapi_autodiscover_response_clear(&back);
}

static void test_recorded(void)
{
	struct mapi_trace *t = mapi_trace_load("10-autodiscover");
	const char *user_dn = json_object_get_string_member(
		mapi_trace_root(t), "user_dn");

	g_assert_cmpuint(mapi_trace_count(t), ==, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct mapi_trace_exchange *x = mapi_trace_at(t, i);
		const char *cap = mapi_trace_req_header(x,
					MAPI_AUTODISCOVER_CAP_HEADER);
		struct mapi_autodiscover_request req;
		struct mapi_autodiscover_response resp;
		size_t len = 0;
		char *body;

		/* the first asks for MAPI over HTTP, the second does not;
		 * gromox answers both alike */
		if (i == 0)
			g_assert_cmpstr(cap, ==, MAPI_AUTODISCOVER_CAP_VERSION);
		else
			g_assert_null(cap);
		g_assert_cmpstr(x->method, ==, "POST");
		g_assert_cmpstr(x->path, ==, MAPI_AUTODISCOVER_PATH);
		g_assert_cmpint(x->status, ==, 200);

		/* the request: read, and written again byte for byte */
		g_assert_cmpint(mapi_autodiscover_request_read(
			(const char *)x->req, x->req_len, &req), ==, 0);
		g_assert_cmpstr(req.email, ==, "alice@example.test");
		g_assert_null(req.legacy_dn);
		g_assert_cmpstr(req.schema, ==, MAPI_AUTODISCOVER_NS_OUTLOOK);
		body = mapi_autodiscover_request_write(req.email, &len);
		g_assert_cmpmem(body, len, x->req, x->req_len);
		g_free(body);
		mapi_autodiscover_request_clear(&req);

		/* the response */
		g_assert_cmpuint(x->resp_len, ==, 3191);
		g_assert_cmpint(mapi_autodiscover_response_read(
			(const char *)x->resp, x->resp_len, &resp), ==, 0);
		check_recorded(&resp, user_dn);
		check_write_read(&resp);
		mapi_autodiscover_response_clear(&resp);
	}
	mapi_trace_free(t);
}

/* Every prefix of the recorded bodies is refused, without a leak. */
static void test_truncations(void)
{
	struct mapi_trace *t = mapi_trace_load("10-autodiscover");
	const struct mapi_trace_exchange *x = mapi_trace_at(t, 0);

	for (size_t cut = 0; cut < x->resp_len; cut++) {
		struct mapi_autodiscover_response resp;

		g_assert_cmpint(mapi_autodiscover_response_read(
			(const char *)x->resp, cut, &resp), <, 0);
		g_assert_null(resp.display_name);
	}
	/* the request is whole once its root element is closed: the line
	 * end after it may go */
	for (size_t cut = 0; cut < x->req_len; cut++) {
		struct mapi_autodiscover_request req;
		int rc = mapi_autodiscover_request_read((const char *)x->req,
							cut, &req);

		if (cut + 2 < x->req_len) {
			g_assert_cmpint(rc, <, 0);
			g_assert_null(req.email);
		} else {
			g_assert_cmpint(rc, ==, 0);
			mapi_autodiscover_request_clear(&req);
		}
	}
	mapi_trace_free(t);
}

/* A response of the layout of MS-OXDSCLI 4.4: indented, mapiHttp first,
 * only internal URLs, an EXPR inside a WEB protocol (not the account's). */
static void test_spec_layout(void)
{
	static const char xml[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<Autodiscover xmlns=\"" MAPI_AUTODISCOVER_NS_RESPONSE "\">\n"
		"  <Response xmlns=\"" MAPI_AUTODISCOVER_NS_OUTLOOK "\">\n"
		"    <User>\n"
		"      <DisplayName>User Display Name</DisplayName>\n"
		"      <LegacyDN>/o=microsoft/ou=Contoso/cn=Recipients/cn=486021"
		"</LegacyDN>\n"
		"      <AutoDiscoverSMTPAddress>user@Contoso.com"
		"</AutoDiscoverSMTPAddress>\n"
		"    </User>\n"
		"    <Account>\n"
		"      <AccountType>email</AccountType>\n"
		"      <Action>settings</Action>\n"
		"      <Protocol Type=\"mapiHttp\" Version=\"1\">\n"
		"        <MailStore><InternalUrl>https://mail.Contoso.com/mapi/"
		"emsmdb/?MailboxId=a@Contoso.com</InternalUrl></MailStore>\n"
		"        <AddressBook><InternalUrl>https://mail.Contoso.com/mapi/"
		"nspi/?MailboxId=a@Contoso.com</InternalUrl></AddressBook>\n"
		"      </Protocol>\n"
		"      <Protocol><Type>WEB</Type><External><Protocol>"
		"<Type>EXPR</Type><Server>not.this</Server></Protocol>"
		"</External></Protocol>\n"
		"    </Account>\n"
		"  </Response>\n"
		"</Autodiscover>\n";
	struct mapi_autodiscover_response r;

	g_assert_cmpint(mapi_autodiscover_response_read(xml, strlen(xml), &r),
			==, 0);
	g_assert_cmpint(r.kind, ==, MAPI_AUTODISCOVER_SETTINGS);
	g_assert_cmpstr(r.display_name, ==, "User Display Name");
	g_assert_cmpstr(r.legacy_dn, ==,
			"/o=microsoft/ou=Contoso/cn=Recipients/cn=486021");
	g_assert_cmpstr(r.mailstore_internal, ==,
			"https://mail.Contoso.com/mapi/emsmdb/?MailboxId=a@Contoso.com");
	g_assert_null(r.mailstore_external);
	g_assert_cmpstr(r.addressbook_internal, ==,
			"https://mail.Contoso.com/mapi/nspi/?MailboxId=a@Contoso.com");
	g_assert_null(r.expr_server);
	g_assert_null(r.exch_server);
	check_write_read(&r);
	mapi_autodiscover_response_clear(&r);
}

static void test_redirects(void)
{
	struct mapi_autodiscover_response r = { 0 }, back;
	static const char no_target[] =
		"<Autodiscover xmlns=\"" MAPI_AUTODISCOVER_NS_RESPONSE "\">"
		"<Response xmlns=\"" MAPI_AUTODISCOVER_NS_OUTLOOK "\"><Account>"
		"<Action>redirectUrl</Action></Account></Response></Autodiscover>";
	static const char odd_action[] =
		"<Autodiscover xmlns=\"" MAPI_AUTODISCOVER_NS_RESPONSE "\">"
		"<Response xmlns=\"" MAPI_AUTODISCOVER_NS_OUTLOOK "\"><Account>"
		"<Action>elsewhere</Action></Account></Response></Autodiscover>";
	char *xml;

	r.kind = MAPI_AUTODISCOVER_REDIRECT_ADDR;
	r.redirect = "bob@other.test";
	check_write_read(&r);
	xml = mapi_autodiscover_response_write(&r, NULL);
	g_assert_nonnull(strstr(xml, "<Action>redirectAddr</Action>"
				     "<RedirectAddr>bob@other.test"
				     "</RedirectAddr>"));
	g_free(xml);
	r.kind = MAPI_AUTODISCOVER_REDIRECT_URL;
	r.redirect = "https://autodiscover.other.test/Autodiscover/"
		     "Autodiscover.xml?a=1&b=<2>";
	check_write_read(&r);
	g_assert_cmpint(mapi_autodiscover_response_read(no_target,
		strlen(no_target), &back), ==, -EPROTO);
	g_assert_null(back.redirect);
	g_assert_cmpint(mapi_autodiscover_response_read(odd_action,
		strlen(odd_action), &back), ==, -EPROTO);
}

static void test_errors(void)
{
	static const char xml[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
		"<Autodiscover xmlns=\"" MAPI_AUTODISCOVER_NS_RESPONSE "\">\r\n"
		"  <Response>\r\n"
		"    <Error Time=\"16:10:54.1582845\" Id=\"2477617359\">\r\n"
		"      <ErrorCode>600</ErrorCode>\r\n"
		"      <Message>Invalid Request</Message>\r\n"
		"      <DebugData />\r\n"
		"    </Error>\r\n"
		"  </Response>\r\n"
		"</Autodiscover>\r\n";
	static const char in_account[] =
		"<Autodiscover xmlns=\"" MAPI_AUTODISCOVER_NS_RESPONSE "\">"
		"<Response xmlns=\"" MAPI_AUTODISCOVER_NS_OUTLOOK "\"><Account>"
		"<Error><ErrorCode>500</ErrorCode><Message>The e-mail address "
		"cannot be found.</Message></Error></Account></Response>"
		"</Autodiscover>";
	struct mapi_autodiscover_response r, w = { 0 };

	g_assert_cmpint(mapi_autodiscover_response_read(xml, strlen(xml), &r),
			==, 0);
	g_assert_cmpint(r.kind, ==, MAPI_AUTODISCOVER_ERROR);
	g_assert_cmpstr(r.error_code, ==, "600");
	g_assert_cmpstr(r.error_message, ==, "Invalid Request");
	g_assert_cmpstr(r.error_time, ==, "16:10:54.1582845");
	g_assert_cmpstr(r.error_id, ==, "2477617359");
	check_write_read(&r);
	mapi_autodiscover_response_clear(&r);
	g_assert_cmpint(mapi_autodiscover_response_read(in_account,
		strlen(in_account), &r), ==, 0);
	g_assert_cmpint(r.kind, ==, MAPI_AUTODISCOVER_ERROR);
	g_assert_cmpstr(r.error_code, ==, "500");
	mapi_autodiscover_response_clear(&r);
	w.kind = MAPI_AUTODISCOVER_ERROR;
	w.error_code = "500";
	w.error_message = "No mailbox \"x\" & <y>";
	check_write_read(&w);
}

static void test_requests(void)
{
	static const char by_dn[] =
		"<Autodiscover xmlns=\"" MAPI_AUTODISCOVER_NS_REQUEST "\">"
		"<Request><LegacyDN>/o=x/cn=Recipients/cn=bob</LegacyDN>"
		"<AcceptableResponseSchema>" MAPI_AUTODISCOVER_NS_OUTLOOK
		"</AcceptableResponseSchema></Request></Autodiscover>";
	static const char none[] =
		"<Autodiscover xmlns=\"" MAPI_AUTODISCOVER_NS_REQUEST "\">"
		"<Request><EMailAddress></EMailAddress></Request></Autodiscover>";
	static const char wrong_ns[] =
		"<Autodiscover xmlns=\"urn:other\"><Request><EMailAddress>a@b"
		"</EMailAddress></Request></Autodiscover>";
	struct mapi_autodiscover_request req;
	char *xml;
	size_t len;

	g_assert_cmpint(mapi_autodiscover_request_read(by_dn, strlen(by_dn),
						       &req), ==, 0);
	g_assert_null(req.email);
	g_assert_cmpstr(req.legacy_dn, ==, "/o=x/cn=Recipients/cn=bob");
	mapi_autodiscover_request_clear(&req);
	g_assert_cmpint(mapi_autodiscover_request_read(none, strlen(none),
						       &req), ==, -EINVAL);
	g_assert_cmpint(mapi_autodiscover_request_read(wrong_ns,
		strlen(wrong_ns), &req), ==, -EINVAL);
	/* an address that needs escaping comes back as it was */
	xml = mapi_autodiscover_request_write("o'neil&co@example.test", &len);
	g_assert_cmpint(mapi_autodiscover_request_read(xml, len, &req), ==, 0);
	g_assert_cmpstr(req.email, ==, "o'neil&co@example.test");
	mapi_autodiscover_request_clear(&req);
	g_free(xml);
}

static void test_hostile(void)
{
	static const char doctype[] =
		"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]>"
		"<Autodiscover xmlns=\"" MAPI_AUTODISCOVER_NS_REQUEST "\">"
		"<Request><EMailAddress>&x;</EMailAddress></Request>"
		"</Autodiscover>";
	static const char external[] =
		"<!DOCTYPE a SYSTEM \"file:///etc/passwd\">"
		"<Autodiscover xmlns=\"" MAPI_AUTODISCOVER_NS_RESPONSE "\"/>";
	static const char entity[] =
		"<Autodiscover xmlns=\"" MAPI_AUTODISCOVER_NS_REQUEST "\">"
		"<Request><EMailAddress>&x;</EMailAddress></Request>"
		"</Autodiscover>";
	struct mapi_autodiscover_request req;
	struct mapi_autodiscover_response resp;
	GString *big = g_string_new(NULL);

	g_assert_cmpint(mapi_autodiscover_request_read(doctype,
		strlen(doctype), &req), ==, -EPERM);
	g_assert_cmpint(mapi_autodiscover_response_read(external,
		strlen(external), &resp), ==, -EPERM);
	g_assert_cmpint(mapi_autodiscover_request_read(entity, strlen(entity),
						       &req), ==, -EINVAL);
	g_assert_cmpint(mapi_autodiscover_response_read("", 0, &resp), ==,
			-EINVAL);
	g_assert_cmpint(mapi_autodiscover_response_read("<a>", 3, &resp), ==,
			-EINVAL);
	/* huge: refused before it is parsed */
	g_string_append(big, "<Autodiscover xmlns=\"" MAPI_AUTODISCOVER_NS_REQUEST
			"\"><Request><EMailAddress>");
	while (big->len <= MAPI_AUTODISCOVER_BODY_MAX)
		g_string_append(big, "aaaaaaaaaaaaaaaa");
	g_string_append(big, "</EMailAddress></Request></Autodiscover>");
	g_assert_cmpint(mapi_autodiscover_request_read(big->str, big->len,
						       &req), ==, -EMSGSIZE);
	/* deep: libxml2's own depth limit */
	g_string_truncate(big, 0);
	for (int i = 0; i < 5000; i++)
		g_string_append(big, "<a>");
	g_assert_cmpint(mapi_autodiscover_response_read(big->str, big->len,
							&resp), ==, -EINVAL);
	g_string_free(big, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mapi-autodiscover/recorded", test_recorded);
	g_test_add_func("/mapi-autodiscover/truncations", test_truncations);
	g_test_add_func("/mapi-autodiscover/spec-layout", test_spec_layout);
	g_test_add_func("/mapi-autodiscover/redirects", test_redirects);
	g_test_add_func("/mapi-autodiscover/errors", test_errors);
	g_test_add_func("/mapi-autodiscover/requests", test_requests);
	g_test_add_func("/mapi-autodiscover/hostile", test_hostile);
	return g_test_run();
}
