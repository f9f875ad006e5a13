/*
 * test-ews-response.c - the EWS client's reading of answers: the safe
 * envelope reader, Faults and ErrorServerBusy, per-message outcomes, item
 * properties as flags, MimeContent decoding, ResponseCode to errno, and
 * mount ids of ItemIds.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "ews/ewsc-private.h"

#define NS "xmlns:s=\"" EWS_NS_SOAP "\" xmlns:m=\"" EWS_NS_M "\" " \
	   "xmlns:t=\"" EWS_NS_T "\""
#define ENV(body) "<?xml version=\"1.0\"?><s:Envelope " NS "><s:Body>" \
		  body "</s:Body></s:Envelope>"

static int parse(const char *text, struct ewsc_response **res,
		 struct mfs_error *e)
{
	return ewsc_response_parse(text, strlen(text), res, e);
}

static void test_refused(void)
{
	static const struct {
		const char *text;
		int rc;
		const char *says;
	} cases[] = {
		{ "<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY x "
		  "SYSTEM \"file:///etc/passwd\">]><s:Envelope " NS
		  "><s:Body>&x;</s:Body></s:Envelope>", -EPROTO,
		  "document type" },
		{ "", -EPROTO, "well-formed" },
		{ "<a><b></a>", -EPROTO, "well-formed" },
		{ "<s:Envelope " NS "/>", -EPROTO, "SOAP envelope" },
		{ "<x/>", -EPROTO, "SOAP envelope" },
		{ ENV("<s:Fault><faultcode>s:Client</faultcode><faultstring>"
		      "no</faultstring><detail><e:ResponseCode xmlns:e=\""
		      EWS_NS_E "\">ErrorInvalidRequest</e:ResponseCode>"
		      "</detail></s:Fault>"), -EINVAL, "ErrorInvalidRequest" },
		{ ENV("<s:Fault><faultcode>s:Server</faultcode><faultstring>"
		      "odd</faultstring></s:Fault>"), -EIO, "no code" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct ewsc_response *res = NULL;
		struct mfs_error e = { 0 };
		g_assert_cmpint(parse(cases[i].text, &res, &e), ==,
				cases[i].rc);
		g_assert_null(res);
		g_assert_nonnull(strstr(e.msg, cases[i].says));
	}
}

static void test_busy_fault(void)
{
	struct ewsc_response *res = NULL;
	struct mfs_error e = { 0 };

	g_assert_cmpint(parse(ENV("<s:Fault><faultcode>a:ErrorServerBusy"
		"</faultcode><faultstring>busy</faultstring><detail>"
		"<e:ResponseCode xmlns:e=\"" EWS_NS_E "\">ErrorServerBusy"
		"</e:ResponseCode><t:MessageXml><t:Value Name=\""
		"BackOffMilliseconds\">1500</t:Value></t:MessageXml></detail>"
		"</s:Fault>"), &res, &e), ==, -EAGAIN);
	g_assert_cmpint(e.retry, ==, MFS_ERR_BACKOFF);
	g_assert_cmpint(e.scope, ==, MFS_ERR_ACCOUNT);
}

static void test_messages(void)
{
	struct ewsc_response *res = NULL;
	struct mfs_error e = { 0 };
	struct ewsc_status st;
	const char *text =
		"<?xml version=\"1.0\"?><s:Envelope " NS "><s:Header>"
		"<t:ServerVersionInfo MajorVersion=\"15\" Version=\"V2017_07_11"
		"\"/></s:Header><s:Body><m:GetItemResponse><m:ResponseMessages>"
		"<m:GetItemResponseMessage ResponseClass=\"Success\">"
		"<m:ResponseCode>NoError</m:ResponseCode></m:GetItemResponse"
		"Message><m:GetItemResponseMessage ResponseClass=\"Error\">"
		"<m:MessageText>gone</m:MessageText><m:ResponseCode>"
		"ErrorItemNotFound</m:ResponseCode></m:GetItemResponseMessage>"
		"<m:GetItemResponseMessage ResponseClass=\"Error\"><m:Response"
		"Code>ErrorServerBusy</m:ResponseCode><m:MessageXml><t:Value "
		"Name=\"BackOffMilliseconds\">250</t:Value></m:MessageXml>"
		"</m:GetItemResponseMessage><m:GetItemResponseMessage "
		"ResponseClass=\"Warning\"><m:ResponseCode>ErrorSomethingNew"
		"</m:ResponseCode></m:GetItemResponseMessage>"
		"<m:GetItemResponseMessage ResponseClass=\"Error\"/>"
		"</m:ResponseMessages></m:GetItemResponse></s:Body>"
		"</s:Envelope>";

	g_assert_cmpint(parse(text, &res, &e), ==, 0);
	g_assert_cmpstr(res->version, ==, "V2017_07_11");
	g_assert_cmpuint(res->msgs->len, ==, 5);
	ewsc_status_of(res->msgs->pdata[0], &st);
	g_assert_cmpint(st.rc, ==, 0);
	ewsc_status_of(res->msgs->pdata[1], &st);
	g_assert_cmpint(st.rc, ==, -ENOENT);
	g_assert_cmpstr(st.text, ==, "gone");
	ewsc_status_of(res->msgs->pdata[2], &st);
	g_assert_cmpint(st.rc, ==, -EAGAIN);
	g_assert_cmpuint(st.backoff_ms, ==, 250);
	/* a warning that names an unknown code is not success */
	ewsc_status_of(res->msgs->pdata[3], &st);
	g_assert_cmpint(st.rc, ==, -EIO);
	/* an error with nothing in it is still an error */
	ewsc_status_of(res->msgs->pdata[4], &st);
	g_assert_cmpint(st.rc, ==, -EIO);
	ewsc_response_free(&res);
	g_assert_null(res);
}

static void test_codes(void)
{
	static const struct {
		const char *code;
		int rc;
		enum mfs_err_retry retry;
	} cases[] = {
		{ "NoError", 0, MFS_ERR_FINAL },
		{ "ErrorItemNotFound", -ENOENT, MFS_ERR_FINAL },
		{ "ErrorInvalidSyncStateData", -ESTALE, MFS_ERR_FINAL },
		{ "ErrorServerBusy", -EAGAIN, MFS_ERR_BACKOFF },
		{ "ErrorQuotaExceeded", -EDQUOT, MFS_ERR_FINAL },
		{ "ErrorFolderExists", -EEXIST, MFS_ERR_FINAL },
		{ "ErrorInternalServerTransientError", -EAGAIN,
		  MFS_ERR_TRANSIENT },
		{ "ErrorNobodyKnows", -EIO, MFS_ERR_FINAL },
		{ NULL, -EIO, MFS_ERR_FINAL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		enum mfs_err_scope scope;
		enum mfs_err_retry retry;
		g_assert_cmpint(ewsc_code_to_errno(cases[i].code, &scope,
						   &retry), ==, cases[i].rc);
		g_assert_cmpint(retry, ==, cases[i].retry);
	}
}

static void test_item_props(void)
{
	struct ewsc_response *res = NULL;
	struct mfs_error e = { 0 };
	const char *text = ENV(
		"<m:GetItemResponse><m:ResponseMessages>"
		"<m:GetItemResponseMessage ResponseClass=\"Success\">"
		"<m:ResponseCode>NoError</m:ResponseCode><m:Items><t:Message>"
		"<t:MimeContent>SGVsbG8NCg==</t:MimeContent>"
		"<t:DateTimeReceived>2024-01-02T03:04:05Z</t:DateTimeReceived>"
		"<t:Size>999</t:Size>"
		"<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag=\"0xe07\" "
		"PropertyType=\"Integer\"/><t:Value>9</t:Value>"
		"</t:ExtendedProperty><t:ExtendedProperty><t:ExtendedFieldURI "
		"PropertyTag=\"0x1081\" PropertyType=\"Integer\"/><t:Value>104"
		"</t:Value></t:ExtendedProperty><t:ExtendedProperty>"
		"<t:ExtendedFieldURI PropertyTag=\"0x1090\" PropertyType="
		"\"Integer\"/><t:Value>2</t:Value></t:ExtendedProperty>"
		"<t:InternetMessageId>&lt;a@b&gt;</t:InternetMessageId>"
		"<t:IsRead>true</t:IsRead></t:Message></m:Items>"
		"</m:GetItemResponseMessage></m:ResponseMessages>"
		"</m:GetItemResponse>");
	uint64_t flags, size;
	int64_t date;
	g_autofree char *msgid = NULL;
	guchar *buf = NULL;
	size_t len = 0;

	g_assert_cmpint(parse(text, &res, &e), ==, 0);
	xmlNode *msg = ewsc_find(res->msgs->pdata[0], "Message");
	g_assert_nonnull(msg);
	ewsc_item_read(msg, &flags, &date, &msgid, &size);
	g_assert_cmphex(flags, ==, MFS_FLAG_SEEN | MFS_FLAG_DRAFT |
			MFS_FLAG_PASSED | MFS_FLAG_FLAGGED);
	g_assert_cmpint(date, ==, 1704164645);
	g_assert_cmpstr(msgid, ==, "<a@b>");
	/* EWS's Size is what the server says, not the MIME length */
	g_assert_cmpuint(size, ==, 999);
	g_assert_cmpint(ewsc_mime_decode(ewsc_find(msg, "MimeContent"), &buf,
					 &len), ==, 0);
	g_assert_cmpuint(len, ==, 7);
	g_assert_cmpmem(buf, len, "Hello\r\n", 7);
	g_free(buf);
	ewsc_response_free(&res);
}

static void test_mime_garbled(void)
{
	static const char *const bad[] = {
		"SGVs*bG8=", "SGVsbG8", "SGVsbG8NCg==\x01",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *text = g_strdup_printf(
			"<t:MimeContent xmlns:t=\"%s\">%s</t:MimeContent>",
			EWS_NS_T, bad[i]);
		xmlDoc *doc = NULL;
		guchar *buf = NULL;
		size_t len;
		if (ews_xml_read(text, strlen(text), 4096, false, &doc) < 0)
			continue;	/* not even XML: refused earlier */
		g_assert_cmpint(ewsc_mime_decode(xmlDocGetRootElement(doc),
						 &buf, &len), ==, -EBADMSG);
		g_assert_null(buf);
		xmlFreeDoc(doc);
	}
}

static void test_ids(void)
{
	static const char *const ids[] = {
		"AAMkAGI2TG93AAA=", "AA/+b+//cc==", "a:b%c-d_e.f", ".hidden",
		"x\xc3\xa9y",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
		g_autofree char *id = ewsc_id_from_item(ids[i]);
		g_autofree char *back = NULL;
		g_assert_null(strchr(id, '/'));
		g_assert_null(strchr(id, ':'));
		g_assert_true(id[0] != '.');
		g_assert_cmpint(ewsc_item_from_id(NULL, "INBOX", id, &back),
				==, 0);
		g_assert_cmpstr(back, ==, ids[i]);
		/* the same ItemId, the same name */
		g_autofree char *again = ewsc_id_from_item(ids[i]);
		g_assert_cmpstr(again, ==, id);
	}
	/* too long for a file name: a hash, which the table leads back */
	g_autofree char *longid = g_strnfill(400, 'A');
	g_autofree char *hashed = ewsc_id_from_item(longid);
	g_assert_cmpint(hashed[0], ==, '~');
	g_assert_cmpuint(strlen(hashed), <, 100);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ews-response/refused", test_refused);
	g_test_add_func("/ews-response/busy-fault", test_busy_fault);
	g_test_add_func("/ews-response/messages", test_messages);
	g_test_add_func("/ews-response/codes", test_codes);
	g_test_add_func("/ews-response/item-props", test_item_props);
	g_test_add_func("/ews-response/mime-garbled", test_mime_garbled);
	g_test_add_func("/ews-response/ids", test_ids);
	return g_test_run();
}
