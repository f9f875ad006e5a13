/*
 * test-ews-msgprops.c - the EWS properties that are Maildir flags
 * (protocols/serve/ews/msgprops.h): each change a client can send, what
 * it does to the flags, and what is refused.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <libxml/parser.h>

#include "backend.h"
#include "serve/ews/msgprops.h"
#include "wire/ews-soap.h"

#define NS " xmlns:t=\"" EWS_NS_T "\""
#define EXT(tag) "<t:ExtendedFieldURI PropertyTag=\"" tag "\"" \
	" PropertyType=\"Integer\"/>"
#define SETEXT(tag, v) "<t:SetItemField" NS ">" EXT(tag) "<t:Message>" \
	"<t:ExtendedProperty>" EXT(tag) "<t:Value>" v "</t:Value>" \
	"</t:ExtendedProperty></t:Message></t:SetItemField>"
#define S MFS_FLAG_SEEN
#define F MFS_FLAG_FLAGGED
#define D MFS_FLAG_DRAFT
#define R MFS_FLAG_REPLIED
#define P MFS_FLAG_PASSED
#define T MFS_FLAG_TRASHED
/* PidLidImapDeleted, as DavMail names it */
#define IMAPDEL "<t:ExtendedFieldURI DistinguishedPropertySetId=\"Common\"" \
	" PropertyId=\"34160\" PropertyType=\"Integer\"/>"

static const struct {
	const char *name, *xml;
	uint64_t before;
	int rc;
	uint64_t after;
} cases[] = {
	{ "read", "<t:SetItemField" NS "><t:FieldURI FieldURI=\"message:"
	  "IsRead\"/><t:Message><t:IsRead>true</t:IsRead></t:Message>"
	  "</t:SetItemField>", 0, 0, S },
	{ "unread", "<t:SetItemField" NS "><t:FieldURI FieldURI=\"message:"
	  "IsRead\"/><t:Message><t:IsRead>false</t:IsRead></t:Message>"
	  "</t:SetItemField>", S | F, 0, F },
	{ "read-bad", "<t:SetItemField" NS "><t:FieldURI FieldURI=\"message:"
	  "IsRead\"/><t:Message><t:IsRead>maybe</t:IsRead></t:Message>"
	  "</t:SetItemField>", 0, -EINVAL, 0 },
	{ "flagged", "<t:SetItemField" NS "><t:FieldURI FieldURI=\"item:Flag"
	  "\"/><t:Message><t:Flag><t:FlagStatus>Flagged</t:FlagStatus>"
	  "</t:Flag></t:Message></t:SetItemField>", S, 0, S | F },
	{ "complete", "<t:SetItemField" NS "><t:FieldURI FieldURI=\"item:"
	  "Flag\"/><t:Message><t:Flag><t:FlagStatus>Complete</t:FlagStatus>"
	  "</t:Flag></t:Message></t:SetItemField>", F, 0, 0 },
	{ "flag-delete", "<t:DeleteItemField" NS "><t:FieldURI FieldURI="
	  "\"item:Flag\"/></t:DeleteItemField>", F | S, 0, S },
	{ "status-2", SETEXT("0x1090", "2"), 0, 0, F },
	{ "status-1", SETEXT("0x1090", "1"), F, 0, 0 },
	{ "status-7", SETEXT("0x1090", "7"), F, -EINVAL, F },
	{ "status-decimal", SETEXT("4240", "2"), 0, 0, F },
	{ "verb-reply", SETEXT("0x1081", "102"), 0, 0, R },
	{ "verb-reply-all", SETEXT("0x1081", "103"), P, 0, P | R },
	{ "verb-forward", SETEXT("0x1081", "104"), 0, 0, P },
	{ "verb-other", SETEXT("0x1081", "105"), S, 0, S },
	{ "verb-delete", "<t:DeleteItemField" NS ">" EXT("0x1081")
	  "</t:DeleteItemField>", R | P | S, 0, S },
	{ "msgflags-read", SETEXT("0x0E07", "1"), D, 0, S },
	{ "msgflags-unsent", SETEXT("0x0e07", "8"), S, 0, D },
	{ "msgflags-garbage", SETEXT("0x0E07", "x1"), 0, -EINVAL, 0 },
	{ "msgflags-delete", "<t:DeleteItemField" NS ">" EXT("0x0E07")
	  "</t:DeleteItemField>", S, -ENOTSUP, S },
	{ "other-tag", SETEXT("0x0037", "1"), 0, -ENOTSUP, 0 },
	{ "bad-tag", SETEXT("0xZZ", "1"), 0, -ENOTSUP, 0 },
	{ "subject", "<t:SetItemField" NS "><t:FieldURI FieldURI=\"item:"
	  "Subject\"/><t:Message><t:Subject>x</t:Subject></t:Message>"
	  "</t:SetItemField>", 0, -ENOTSUP, 0 },
	{ "no-item", "<t:SetItemField" NS "><t:FieldURI FieldURI=\"message:"
	  "IsRead\"/></t:SetItemField>", 0, -EINVAL, 0 },
	{ "empty", "<t:SetItemField" NS "/>", 0, -EINVAL, 0 },
	{ "imap-deleted", "<t:SetItemField" NS ">" IMAPDEL "<t:Message>"
	  "<t:ExtendedProperty>" IMAPDEL "<t:Value>1</t:Value>"
	  "</t:ExtendedProperty></t:Message></t:SetItemField>", S, 0, S | T },
	{ "imap-undeleted", "<t:DeleteItemField" NS ">" IMAPDEL
	  "</t:DeleteItemField>", S | T, 0, S },
	{ "other-named", "<t:DeleteItemField" NS "><t:ExtendedFieldURI "
	  "DistinguishedPropertySetId=\"Common\" PropertyId=\"34161\" "
	  "PropertyType=\"Integer\"/></t:DeleteItemField>", S, -ENOTSUP, S },
};

static void test_change(gconstpointer data)
{
	size_t i = GPOINTER_TO_SIZE(data);
	xmlDoc *doc = xmlReadMemory(cases[i].xml, (int)strlen(cases[i].xml),
				    "t.xml", NULL, XML_PARSE_NONET);
	uint64_t flags = cases[i].before;
	int rc;

	g_assert_nonnull(doc);
	rc = ewsd_msgprops_apply_change(xmlDocGetRootElement(doc), &flags);
	g_assert_cmpint(rc, ==, cases[i].rc);
	if (rc == 0)
		g_assert_cmphex(flags, ==, cases[i].after);
	xmlFreeDoc(doc);
}

static void test_create_flags(void)
{
	static const char *xml =
		"<t:Message" NS "><t:MimeContent>eA==</t:MimeContent>"
		"<t:ExtendedProperty>" EXT("0x0E07") "<t:Value>0</t:Value>"
		"</t:ExtendedProperty><t:IsRead>true</t:IsRead></t:Message>";
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL,
				    XML_PARSE_NONET);
	uint64_t flags = 0;
	bool has = false;
	int64_t date = -1;

	g_assert_cmpint(ewsd_msgprops_from_item(xmlDocGetRootElement(doc),
					       &flags, &has, &date), ==, 0);
	g_assert_true(has);
	g_assert_cmphex(flags, ==, S);
	g_assert_cmpint(date, ==, 0);
	xmlFreeDoc(doc);
}

/* What DavMail's IMAP APPEND sends: the arrival date, the read flag and
 * a name of its own for the item, which is not kept. */
static void test_create_davmail(void)
{
	static const char *xml =
		"<t:Message" NS "><t:MimeContent>eA==</t:MimeContent>"
		"<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag=\"0xe06\" "
		"PropertyType=\"SystemTime\"/><t:Value>2026-12-07T14:44:07.000Z"
		"</t:Value></t:ExtendedProperty>"
		"<t:ExtendedProperty>" EXT("0xe07") "<t:Value>1</t:Value>"
		"</t:ExtendedProperty>"
		"<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag=\"0x10f3\" "
		"PropertyType=\"String\"/><t:Value>c7748732.EML</t:Value>"
		"</t:ExtendedProperty></t:Message>";
	static const char *bad_date =
		"<t:Message" NS "><t:ExtendedProperty><t:ExtendedFieldURI "
		"PropertyTag=\"0x0E06\" PropertyType=\"SystemTime\"/><t:Value>"
		"yesterday</t:Value></t:ExtendedProperty></t:Message>";
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL,
				    XML_PARSE_NONET);
	uint64_t flags = 0;
	bool has = false;
	int64_t date = 0;

	g_assert_cmpint(ewsd_msgprops_from_item(xmlDocGetRootElement(doc),
					       &flags, &has, &date), ==, 0);
	g_assert_true(has);
	g_assert_cmphex(flags, ==, S);
	g_assert_cmpint(date, ==, 1796654647);
	xmlFreeDoc(doc);
	doc = xmlReadMemory(bad_date, (int)strlen(bad_date), "t.xml", NULL,
			    XML_PARSE_NONET);
	g_assert_cmpint(ewsd_msgprops_from_item(xmlDocGetRootElement(doc),
					       &flags, &has, &date), ==,
			-EINVAL);
	xmlFreeDoc(doc);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path = g_strdup_printf("/ews-msgprops/change/%s",
							cases[i].name);
		g_test_add_data_func(path, GSIZE_TO_POINTER(i), test_change);
	}
	g_test_add_func("/ews-msgprops/create", test_create_flags);
	g_test_add_func("/ews-msgprops/create-davmail", test_create_davmail);
	return g_test_run();
}
