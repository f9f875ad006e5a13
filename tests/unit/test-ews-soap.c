/*
 * test-ews-soap.c - the EWS SOAP envelope (protocols/wire/ews-soap.h): what is
 * taken, what is refused, and that responses are well-formed XML.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <libxml/parser.h>

#include "wire/ews-soap.h"

#define ENV_OPEN \
	"<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"" EWS_NS_SOAP "\"" \
	" xmlns:m=\"" EWS_NS_M "\" xmlns:t=\"" EWS_NS_T "\">"

static const struct {
	const char *name;
	const char *body;
	int rc;
	const char *op;
	const char *version;
} cases[] = {
	{ "getfolder", ENV_OPEN "<s:Header><t:RequestServerVersion "
	  "Version=\"Exchange2016\"/></s:Header><s:Body><m:GetFolder/>"
	  "</s:Body></s:Envelope>", 0, "GetFolder", "Exchange2016" },
	{ "no-header", ENV_OPEN "<s:Body><m:ConvertId/></s:Body>"
	  "</s:Envelope>", 0, "ConvertId", NULL },
	{ "empty", "", -EINVAL, NULL, NULL },
	{ "garbage", "\x01\x02 not xml <<<", -EINVAL, NULL, NULL },
	{ "not-soap", "<a><b/></a>", -EINVAL, NULL, NULL },
	{ "empty-body", ENV_OPEN "<s:Body/></s:Envelope>", -EINVAL, NULL,
	  NULL },
	{ "two-ops", ENV_OPEN "<s:Body><m:A/><m:B/></s:Body></s:Envelope>",
	  -EINVAL, NULL, NULL },
	{ "no-namespace", ENV_OPEN "<s:Body><A/></s:Body></s:Envelope>",
	  -EINVAL, NULL, NULL },
	{ "doctype-entity", "<?xml version=\"1.0\"?><!DOCTYPE s [<!ENTITY x "
	  "SYSTEM \"file:///etc/passwd\">]>" ENV_OPEN "<s:Body><m:A>&x;</m:A>"
	  "</s:Body></s:Envelope>", -EPERM, NULL, NULL },
	{ "truncated", ENV_OPEN "<s:Body><m:GetFolder>", -EINVAL, NULL, NULL },
};

static void test_parse(gconstpointer data)
{
	size_t i = GPOINTER_TO_SIZE(data);
	struct ews_request *req = NULL;
	int rc = ews_request_parse(cases[i].body, strlen(cases[i].body), &req);

	g_assert_cmpint(rc, ==, cases[i].rc);
	if (rc < 0) {
		g_assert_null(req);
		return;
	}
	g_assert_cmpstr(ews_request_op(req), ==, cases[i].op);
	g_assert_cmpstr(req->version, ==, cases[i].version);
	ews_request_free(&req);
	g_assert_null(req);
}

static void test_doctype_utf16(void)
{
	/* a declaration the byte scan cannot see must still be refused */
	const char *ascii = "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>";
	glong n = 0;
	g_autofree gunichar2 *u16 = g_utf8_to_utf16(ascii, -1, NULL, &n, NULL);
	GByteArray *buf = g_byte_array_new();
	struct ews_request *req = NULL;
	static const guint8 bom[] = { 0xff, 0xfe };

	g_byte_array_append(buf, bom, 2);
	g_byte_array_append(buf, (const guint8 *)u16, (guint)(n * 2));
	int rc = ews_request_parse((const char *)buf->data, buf->len, &req);
	g_assert_cmpint(rc, <, 0);
	g_assert_null(req);
	g_byte_array_unref(buf);
}

static void test_too_big(void)
{
	struct ews_request *req = NULL;
	static const char small[] = "<a/>";

	g_assert_cmpint(ews_request_parse(small, EWS_BODY_MAX + 1, &req), ==,
			-EMSGSIZE);
}

static void check_well_formed(const GString *out)
{
	xmlDoc *doc = xmlReadMemory(out->str, (int)out->len, "r.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR);
	g_assert_nonnull(doc);
	xmlFreeDoc(doc);
}

/* Every character XML 1.0 forbids is dropped, bytes that are not UTF-8
 * (a surrogate on its own, as CESU-8 writes it) become U+FFFD, and what
 * XML allows goes through escaped as it must be. */
static void test_escape_filters(void)
{
	static const char in[] =
		"a\x01" "b\x0b" "c\x1f\x7f" "\t-\n-\r-&<>\"'"
		"|\xef\xbf\xbe|\xef\xbf\xbf|\xed\xa0\x80|\xff|"
		"\xee\x80\x80\xef\xbf\xbd\xf0\x9f\x98\x80z";
	GString *out = g_string_new("<a x=\"");
	g_autoptr(GString) doc = NULL;

	ews_escape(out, in);
	g_assert_true(g_str_has_prefix(out->str, "<a x=\"abc\x7f\t-\n-\r-"
				       "&amp;&lt;&gt;&quot;&apos;||"));
	g_assert_true(g_str_has_suffix(out->str, "|\xee\x80\x80\xef\xbf"
				       "\xbd\xf0\x9f\x98\x80z"));
	/* after "&apos;||" (U+FFFE gone): U+FFFF gone, then marks
	 * only where the bytes were not UTF-8 */
	const char *mid = strstr(out->str, "||") + 2;
	const char *end = strstr(mid, "|\xee");
	g_assert_true(g_utf8_validate(mid, end - mid, NULL));
	unsigned marks = 0, bars = 0;
	for (const char *s = mid; s < end; s = g_utf8_next_char(s)) {
		gunichar c = g_utf8_get_char(s);
		g_assert_true(c == 0xfffd || c == '|');
		marks += c == 0xfffd;
		bars += c == '|';
	}
	g_assert_cmpuint(bars, ==, 2);
	g_assert_cmpuint(marks, >=, 2);
	doc = g_string_new(out->str);
	g_string_append(doc, "\">");
	ews_escape(doc, in);
	g_string_append(doc, "</a>");
	check_well_formed(doc);
	g_assert_true(ews_xml_char('\t') && ews_xml_char(0x10ffff));
	g_assert_false(ews_xml_char(0) || ews_xml_char(0xfffe) ||
		       ews_xml_char(0xd800) || ews_xml_char(0x110000));
	g_string_free(out, TRUE);
}

static void test_response(void)
{
	GString *out = ews_response_begin();
	struct ews_request *req = NULL;

	g_string_append(out, "<m:GetFolderResponse>");
	ews_escape(out, "a<b&c\"");
	g_string_append(out, "</m:GetFolderResponse>");
	ews_response_end(out);
	check_well_formed(out);
	g_assert_nonnull(strstr(out->str, "MajorBuildNumber=\"2507\""));
	g_assert_nonnull(strstr(out->str, "Version=\"V2017_07_11\""));
	/* a response is itself a request-shaped envelope */
	g_assert_cmpint(ews_request_parse(out->str, out->len, &req), ==, 0);
	g_assert_cmpstr(ews_request_op(req), ==, "GetFolderResponse");
	ews_request_free(&req);
	g_string_free(out, TRUE);
}

static void test_fault(void)
{
	GString *out = ews_fault("Client", "ErrorInvalidRequest", "bad <x>");

	check_well_formed(out);
	g_assert_nonnull(strstr(out->str, ">ErrorInvalidRequest<"));
	g_assert_nonnull(strstr(out->str, "bad &lt;x&gt;"));
	g_string_free(out, TRUE);
}

/* A body whose bytes its declared encoding cannot convert is refused
 * without a word on stderr: the server's log is the place for it, and a
 * hostile peer must not be able to write into a terminal or a journal
 * that stderr reaches.  libxml2 reports such errors through its generic
 * handler, which XML_PARSE_NOERROR does not silence; the read is made
 * from a thread of its own, since libxml2 keeps that handler per
 * thread. */
static gpointer parse_bad_encoding(gpointer unused)
{
	static const char body[] = "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>"
		"<a>\x81\x20\xff\xff</a>";
	xmlDoc *doc = NULL;

	(void)unused;
	return GINT_TO_POINTER(ews_xml_read(body, sizeof(body) - 1, 4096,
					    false, &doc));
}

static void test_quiet_encoding_error(void)
{
	char path[] = "/tmp/test-ews-soap-XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(2);
	GThread *t;
	struct stat st;
	int rc;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(saved, >=, 0);
	unlink(path);
	fflush(stderr);
	g_assert_cmpint(dup2(fd, 2), ==, 2);
	t = g_thread_new("xml", parse_bad_encoding, NULL);
	rc = GPOINTER_TO_INT(g_thread_join(t));
	fflush(stderr);
	g_assert_cmpint(dup2(saved, 2), ==, 2);
	close(saved);
	g_assert_cmpint(rc, ==, -EINVAL);
	g_assert_cmpint(fstat(fd, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, 0);
	close(fd);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path = g_strdup_printf("/ews-soap/parse/%s",
							cases[i].name);
		g_test_add_data_func(path, GSIZE_TO_POINTER(i), test_parse);
	}
	g_test_add_func("/ews-soap/doctype-utf16", test_doctype_utf16);
	g_test_add_func("/ews-soap/too-big", test_too_big);
	g_test_add_func("/ews-soap/escape-filters", test_escape_filters);
	g_test_add_func("/ews-soap/response", test_response);
	g_test_add_func("/ews-soap/fault", test_fault);
	g_test_add_func("/ews-soap/quiet-encoding-error",
			test_quiet_encoding_error);
	return g_test_run();
}
