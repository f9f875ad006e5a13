/*
 * test-dav-multistatus.c - the 207 reader and the request bodies of
 * protocols/wire/dav-multistatus.h, on answers Radicale and Xandikos
 * gave (tests/fuzz/corpus/dav-multistatus/, the fuzz target's seeds) and
 * on hostile ones.
 */
#include <errno.h>
#include <glib.h>
#include <libxml/parser.h>
#include <string.h>

#include "wire/dav-multistatus.h"

static char *corpus(const char *name, size_t *len)
{
	g_autofree char *path = g_test_build_filename(
		G_TEST_DIST, "fuzz", "corpus", "dav-multistatus", name, NULL);
	char *buf = NULL;

	g_assert_true(g_file_get_contents(path, &buf, len, NULL));
	return buf;
}

static struct dav_multistatus *parse_file(const char *name, const char *base)
{
	size_t len = 0;
	g_autofree char *buf = corpus(name, &len);
	struct dav_multistatus *ms = NULL;

	g_assert_cmpint(dav_multistatus_parse(buf, len, base, &ms), ==, 0);
	return ms;
}

static const struct dav_response *find(const struct dav_multistatus *ms,
				       const char *href)
{
	for (guint i = 0; i < ms->responses->len; i++) {
		const struct dav_response *r = ms->responses->pdata[i];
		if (!strcmp(r->href, href))
			return r;
	}
	g_assert_not_reached();
	return NULL;
}

static void test_discovery(void)
{
	struct dav_multistatus *ms = parse_file(
		"radicale-home.xml", "http://127.0.0.1:5232/alice/");
	const struct dav_response *p = find(ms, "/alice/");
	const struct dav_response *c = find(ms, "/alice/cal/");
	const struct dav_response *a = find(ms, "/alice/contacts/");

	g_assert_cmpstr(p->principal, ==, "/alice/");
	g_assert_cmpstr(p->addressbook_home, ==, "/alice/");
	g_assert_cmpstr(p->calendar_home, ==, "/alice/");
	g_assert_true(p->rtype & DAV_RT_PRINCIPAL);
	/* a 404 propstat fills nothing */
	g_assert_null(p->displayname);
	g_assert_false(p->props & DAV_P_GETETAG);
	g_assert_cmpuint(c->rtype, ==, DAV_RT_COLLECTION | DAV_RT_CALENDAR);
	g_assert_cmpstr(c->displayname, ==, "Work");
	g_assert_true(c->comps & DAV_COMP_VEVENT);
	g_assert_nonnull(c->ctag);
	g_assert_true(g_str_has_prefix(c->sync_token,
				       "http://radicale.org/ns/sync/"));
	g_assert_cmpuint(a->rtype, ==,
			 DAV_RT_COLLECTION | DAV_RT_ADDRESSBOOK);
	g_assert_cmpstr(a->displayname, ==, "Friends");
	dav_multistatus_free(&ms);
	g_assert_null(ms);

	ms = parse_file("xandikos-home.xml", "http://127.0.0.1:8080/user/");
	p = find(ms, "/user/");
	g_assert_cmpstr(p->addressbook_home, ==, "/user/contacts/");
	g_assert_cmpstr(p->calendar_home, ==, "/user/calendars/");
	dav_multistatus_free(&ms);

	/* Xandikos's supported-report-set has no <report> wrapper */
	ms = parse_file("xandikos-cal-members.xml",
			"http://127.0.0.1:8080/user/calendars/calendar/");
	c = find(ms, "/user/calendars/calendar/");
	g_assert_true(c->sync_report);
	g_assert_true(c->comps & DAV_COMP_OTHER);
	dav_multistatus_free(&ms);
}

static void test_members(void)
{
	static const struct {
		const char *file, *base, *member;
	} cases[] = {
		{ "radicale-ab-members.xml", "http://127.0.0.1:1/alice/contacts/",
		  "/alice/contacts/a1.vcf" },
		{ "xandikos-ab-members.xml",
		  "http://127.0.0.1:1/user/contacts/addressbook/",
		  "/user/contacts/addressbook/a1.vcf" },
		{ "radicale-cal-members.xml", "http://127.0.0.1:1/alice/cal/",
		  "/alice/cal/e1.ics" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct dav_multistatus *ms = parse_file(cases[i].file,
							cases[i].base);
		const struct dav_response *m = find(ms, cases[i].member);

		g_assert_true(m->props & DAV_P_GETETAG);
		g_assert_true(m->etag[0] == '"');
		g_assert_true(dav_href_is_member(
			strchr(cases[i].base + 7, '/'), m->href));
		dav_multistatus_free(&ms);
	}
}

static void test_sync(void)
{
	struct dav_multistatus *ms = parse_file(
		"radicale-ab-sync2.xml", "http://127.0.0.1:1/alice/contacts/");
	const struct dav_response *r = find(ms, "/alice/contacts/a1.vcf");

	g_assert_cmpint(r->status, ==, 404);
	g_assert_nonnull(ms->sync_token);
	g_assert_false(ms->truncated);
	dav_multistatus_free(&ms);

	/* a length past int64 is refused with the body, not guessed */
	{
		size_t len = 0;
		g_autofree char *buf = corpus("odd-values.xml", &len);
		g_assert_cmpint(dav_multistatus_parse(buf, len,
			"http://dav.example:8080/user/contacts/", &ms), ==,
			-EPROTO);
	}
	{
		static const char more[] =
			"<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>"
			"a.vcf</d:href><d:propstat><d:prop><d:getetag>\"1\""
			"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK"
			"</d:status></d:propstat></d:response><d:response>"
			"<d:href>/user/contacts</d:href><d:status>HTTP/1.1 507"
			" Insufficient Storage</d:status></d:response>"
			"<d:sync-token>t1</d:sync-token></d:multistatus>";
		g_assert_cmpint(dav_multistatus_parse(more, strlen(more),
			"http://dav.example:8080/user/contacts/", &ms), ==, 0);
	}
	g_assert_true(ms->truncated);
	g_assert_cmpstr(ms->sync_token, ==, "t1");
	g_assert_cmpuint(ms->responses->len, ==, 1);
	r = ms->responses->pdata[0];
	g_assert_cmpstr(r->href, ==, "/user/contacts/a.vcf");
	g_assert_cmpstr(r->etag, ==, "\"1\"");
	dav_multistatus_free(&ms);
}

static void test_multiget_data(void)
{
	struct dav_multistatus *ms = parse_file(
		"xandikos-ab-mget.xml",
		"http://127.0.0.1:1/user/contacts/addressbook/");
	const struct dav_response *r = find(
		ms, "/user/contacts/addressbook/a1.vcf");
	gsize n = 0;
	const char *d = g_bytes_get_data(r->data, &n);

	g_assert_true(g_str_has_prefix(d, "BEGIN:VCARD"));
	/* XML's end-of-line handling has turned CR LF into LF (why the
	 * backend reads items with GET) */
	g_assert_null(memchr(d, '\r', n));
	dav_multistatus_free(&ms);
}

static void test_hostile(void)
{
	static const struct {
		const char *body;
		int rc;
	} cases[] = {
		{ "<!DOCTYPE x><d:multistatus xmlns:d=\"DAV:\"/>", -EPERM },
		{ "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>"
		  "http://evil.example/a.vcf</d:href></d:response>"
		  "</d:multistatus>", -EPERM },
		{ "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>"
		  "https://dav.example:8080/a.vcf</d:href></d:response>"
		  "</d:multistatus>", -EPERM },
		{ "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>"
		  "http://dav.example:8081/a.vcf</d:href></d:response>"
		  "</d:multistatus>", -EPERM },
		{ "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>"
		  "../../etc/passwd</d:href></d:response></d:multistatus>",
		  -EPERM },
		{ "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>"
		  "/user/%2E%2e/x</d:href></d:response></d:multistatus>",
		  -EPERM },
		{ "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>"
		  "//evil.example/x</d:href></d:response></d:multistatus>",
		  -EPERM },
		{ "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:propstat>"
		  "<d:prop><d:current-user-principal><d:href>http://evil."
		  "example/</d:href></d:current-user-principal></d:prop>"
		  "<d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:href>"
		  "/u/</d:href></d:response></d:multistatus>", -EPERM },
		{ "<d:multistatus xmlns:d=\"DAV:\"><d:response/>"
		  "</d:multistatus>", -EPROTO },
		{ "<x:multistatus xmlns:x=\"urn:other\"/>", -EPROTO },
		{ "<d:multistatus xmlns:d=\"DAV:\"><d:response>", -EINVAL },
		{ "", -EINVAL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct dav_multistatus *ms = NULL;

		g_test_message("case %zu", i);
		g_assert_cmpint(dav_multistatus_parse(
			cases[i].body, strlen(cases[i].body),
			"http://dav.example:8080/user/contacts/", &ms), ==,
			cases[i].rc);
		g_assert_null(ms);
	}
}

static void test_bounds(void)
{
	GString *s = g_string_new("<d:multistatus xmlns:d=\"DAV:\">");
	struct dav_multistatus *ms = NULL;

	for (unsigned i = 0; i <= DAV_RESPONSES_MAX; i++)
		g_string_append(s, "<d:response><d:href>a</d:href>"
				   "</d:response>");
	g_string_append(s, "</d:multistatus>");
	g_assert_cmpint(dav_multistatus_parse(s->str, s->len, "http://h/c/",
					      &ms), ==, -E2BIG);
	g_assert_cmpint(dav_multistatus_parse(s->str, DAV_BODY_MAX + 1ul,
					      "http://h/c/", &ms), ==,
			-EMSGSIZE);
	g_string_free(s, TRUE);

	s = g_string_new("<d:multistatus xmlns:d=\"DAV:\"><d:response>"
			 "<d:href>/");
	for (unsigned i = 0; i < DAV_HREF_MAX; i++)
		g_string_append_c(s, 'a');
	g_string_append(s, "</d:href></d:response></d:multistatus>");
	g_assert_cmpint(dav_multistatus_parse(s->str, s->len, "http://h/c/",
					      &ms), ==, -EMSGSIZE);
	g_string_free(s, TRUE);
}

static void test_resolve(void)
{
	static const struct {
		const char *base, *href, *path;
		int rc;
	} cases[] = {
		{ "http://h/a/b/", "c.vcf", "/a/b/c.vcf", 0 },
		{ "http://h/a/b/", "/x/y", "/x/y", 0 },
		{ "http://h/a/b/", "http://H:80/x", "/x", 0 },
		{ "https://h/a/", "https://h:443/x%20y", "/x%20y", 0 },
		{ "http://h:8/a/", "http://h:9/x", NULL, -EPERM },
		{ "http://h/a/", "https://h/x", NULL, -EPERM },
		{ "http://h/a/", "/a/./b", NULL, -EPERM },
		{ "http://h/a/", "/a/..", NULL, -EPERM },
		{ "http://h/a/", "/a/%2e%2e/", NULL, -EPERM },
		{ "http://h/a/", "/a/.../b", "/a/.../b", 0 },
		{ "http://h/a/", "/a/x?../y", "/a/x", 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path = NULL;

		g_test_message("%s + %s", cases[i].base, cases[i].href);
		g_assert_cmpint(dav_href_resolve(cases[i].base, cases[i].href,
						 &path), ==, cases[i].rc);
		g_assert_cmpstr(path, ==, cases[i].path);
	}
	g_assert_true(dav_href_is_member("/a/", "/a/b.vcf"));
	g_assert_true(dav_href_is_member("/a/", "/a/sub/"));
	g_assert_false(dav_href_is_member("/a/", "/a/"));
	g_assert_false(dav_href_is_member("/a/", "/a/b/c"));
	g_assert_false(dav_href_is_member("/a/", "/ab/c"));
	g_assert_cmpint(dav_status_code("HTTP/1.1 404 Not Found"), ==, 404);
	g_assert_cmpint(dav_status_code("HTTP/1.1 99 x"), ==, 0);
	g_assert_cmpint(dav_status_code("nonsense"), ==, 0);
}

/* A request body is well-formed XML in the right namespaces, and what it
 * carries from outside is escaped. */
static void test_requests(void)
{
	const char *hrefs[] = { "/a/x&y.vcf", "/a/<b>.vcf" };
	GString *s = g_string_new(NULL);
	xmlDoc *doc;

	dav_req_propfind(s, DAV_P_GETETAG | DAV_P_GETCTAG | DAV_P_PRINCIPAL);
	g_assert_nonnull(strstr(s->str, "<cs:getctag/>"));
	g_assert_nonnull(strstr(s->str, "<d:current-user-principal/>"));
	g_assert_null(strstr(s->str, "displayname"));
	doc = xmlReadMemory(s->str, (int)s->len, NULL, NULL, XML_PARSE_NONET);
	g_assert_nonnull(doc);
	xmlFreeDoc(doc);

	g_string_truncate(s, 0);
	dav_req_sync_collection(s, "tok<&>", DAV_P_GETETAG);
	g_assert_nonnull(strstr(s->str, "<d:sync-token>tok&lt;&amp;&gt;"));
	g_assert_nonnull(strstr(s->str, "<d:sync-level>1</d:sync-level>"));
	doc = xmlReadMemory(s->str, (int)s->len, NULL, NULL, XML_PARSE_NONET);
	g_assert_nonnull(doc);
	xmlFreeDoc(doc);
	g_string_truncate(s, 0);
	dav_req_sync_collection(s, NULL, DAV_P_GETETAG);
	g_assert_nonnull(strstr(s->str, "<d:sync-token/>"));

	g_string_truncate(s, 0);
	dav_req_multiget(s, true, hrefs, 2);
	g_assert_nonnull(strstr(s->str, "<cal:calendar-multiget"));
	g_assert_nonnull(strstr(s->str, "<cal:calendar-data/>"));
	g_assert_nonnull(strstr(s->str, "/a/x&amp;y.vcf"));
	doc = xmlReadMemory(s->str, (int)s->len, NULL, NULL, XML_PARSE_NONET);
	g_assert_nonnull(doc);
	xmlFreeDoc(doc);
	g_string_truncate(s, 0);
	dav_req_multiget(s, false, hrefs, 1);
	g_assert_nonnull(strstr(s->str, "<card:addressbook-multiget"));
	g_string_free(s, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dav/discovery", test_discovery);
	g_test_add_func("/dav/members", test_members);
	g_test_add_func("/dav/sync", test_sync);
	g_test_add_func("/dav/multiget-data", test_multiget_data);
	g_test_add_func("/dav/hostile", test_hostile);
	g_test_add_func("/dav/bounds", test_bounds);
	g_test_add_func("/dav/resolve", test_resolve);
	g_test_add_func("/dav/requests", test_requests);
	return g_test_run();
}
