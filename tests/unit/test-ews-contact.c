/*
 * test-ews-contact.c - vCards and EWS contacts (protocols/wire/ews-contact.h):
 * reading awkward cards, writing t:Contact elements and UpdateItem
 * changes, merging an EWS edit into a card without losing its other
 * lines, and the round trip card -> Contact -> card.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <libxml/parser.h>

#include "wire/ews-contact.h"
#include "wire/ews-soap.h"

#define T(s) s "\r\n"

/* Parse `xml` (the t: prefix declared for it); caller frees the doc. */
static xmlDoc *parse_xml(const char *xml)
{
	g_autofree char *doc = g_strdup_printf(
		"<r xmlns:t=\"" EWS_NS_T "\">%s</r>", xml);
	xmlDoc *d = xmlReadMemory(doc, (int)strlen(doc), "t.xml", NULL,
				  XML_PARSE_NONET);

	g_assert_nonnull(d);
	return d;
}

static xmlNode *first_child(xmlDoc *d)
{
	for (xmlNode *n = xmlDocGetRootElement(d)->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	g_assert_not_reached();
	return NULL;
}

static struct ews_contact *read_card(const char *card)
{
	struct ews_contact *c = NULL;

	g_assert_cmpint(ews_contact_from_vcard(card, strlen(card), &c), ==, 0);
	return c;
}

static void test_folded_escaped(void)
{
	struct ews_contact *c = read_card(
		T("BEGIN:VCARD") T("VERSION:3.0")
		T("FN:Anna-Maria Gr\xc3\xbc\xc3\x9f") T(" er")
		T("N:Gr\xc3\xbc\xc3\x9f\tner;Anna\\;Maria;;Dr.;Jr.")
		T("ORG:Smith\\, Jones & Co;Sales")
		T("NOTE:line one\\nline two\\, with comma\\\\ and")
		T("\t more")
		T("TITLE:Boss")
		T("NICKNAME:Annie")
		T("BDAY:1980-05-17")
		T("URL:https://example.org/a,b")
		T("END:VCARD"));

	g_assert_cmpstr(c->field[EWS_CF_DISPLAY_NAME], ==,
			"Anna-Maria Gr\xc3\xbc\xc3\x9f" "er");
	g_assert_cmpstr(c->field[EWS_CF_SURNAME], ==,
			"Gr\xc3\xbc\xc3\x9f\tner");
	g_assert_cmpstr(c->field[EWS_CF_GIVEN_NAME], ==, "Anna;Maria");
	g_assert_null(c->field[EWS_CF_MIDDLE_NAME]);
	g_assert_cmpstr(c->field[EWS_CF_GENERATION], ==, "Jr.");
	g_assert_cmpstr(c->field[EWS_CF_COMPANY_NAME], ==,
			"Smith, Jones & Co");
	g_assert_cmpstr(c->field[EWS_CF_DEPARTMENT], ==, "Sales");
	g_assert_cmpstr(c->field[EWS_CF_BODY], ==,
			"line one\nline two, with comma\\ and more");
	g_assert_cmpstr(c->field[EWS_CF_JOB_TITLE], ==, "Boss");
	g_assert_cmpstr(c->field[EWS_CF_NICKNAME], ==, "Annie");
	g_assert_cmpstr(c->field[EWS_CF_BIRTHDAY], ==, "1980-05-17");
	g_assert_cmpstr(c->field[EWS_CF_BUSINESS_HOME_PAGE], ==,
			"https://example.org/a,b");
	ews_contact_free(&c);
	g_assert_null(c);
}

static int field_of(const char *key)
{
	for (int f = 0; f < EWS_CF_COUNT; f++)
		if (ews_contact_key(f) && strcmp(ews_contact_key(f), key) == 0)
			return f;
	g_assert_not_reached();
	return -1;
}

static void test_several_email_tel(void)
{
	struct ews_contact *c = read_card(
		"BEGIN:VCARD\nVERSION:2.1\nN:Doe;John\n"
		"EMAIL;INTERNET:one@example.org\nEMAIL;TYPE=work:two@x.org\n"
		"item1.EMAIL:three@x.org\nEMAIL:four@x.org\n"
		"TEL;WORK;VOICE:+1 111\nTEL;TYPE=work:+1 222\n"
		"TEL;TYPE=WORK:+1 333\nTEL;CELL:+1 444\nTEL;TYPE=\"home,fax\":5\n"
		"TEL;TYPE=fax;TYPE=work:6\nTEL:7\nTEL;TYPE=pager:8\n"
		"TEL;TYPE=x-assistant:9\nTEL;TYPE=home:10\n"
		"ADR;TYPE=work:;Suite 5;1 Main St;Springfield;IL;62701;USA\n"
		"ADR;TYPE=home:;;2 Elm;Shelbyville;;;\n"
		"ADR:;;3 Oak;Capital City;;;\nADR;TYPE=home:;;second home;;;;\n"
		"END:VCARD\n");

	g_assert_cmpstr(c->field[EWS_CF_EMAIL1], ==, "one@example.org");
	g_assert_cmpstr(c->field[EWS_CF_EMAIL2], ==, "two@x.org");
	g_assert_cmpstr(c->field[EWS_CF_EMAIL3], ==, "three@x.org");
	g_assert_cmpstr(c->field[field_of("BusinessPhone")], ==, "+1 111");
	g_assert_cmpstr(c->field[field_of("BusinessPhone2")], ==, "+1 222");
	g_assert_cmpstr(c->field[field_of("MobilePhone")], ==, "+1 444");
	g_assert_cmpstr(c->field[field_of("HomeFax")], ==, "5");
	g_assert_cmpstr(c->field[field_of("BusinessFax")], ==, "6");
	g_assert_cmpstr(c->field[field_of("OtherTelephone")], ==, "7");
	g_assert_cmpstr(c->field[field_of("Pager")], ==, "8");
	g_assert_cmpstr(c->field[field_of("AssistantPhone")], ==, "9");
	g_assert_cmpstr(c->field[field_of("HomePhone")], ==, "10");
	int business = field_of("Business"), home = field_of("Home");
	int other = field_of("Other");
	g_assert_cmpint(business, ==, EWS_CF_ADDRESS);
	g_assert_cmpstr(c->field[business], ==, "1 Main St");
	g_assert_cmpstr(c->field[business + 1], ==, "Springfield");
	g_assert_cmpstr(c->field[business + 2], ==, "IL");
	g_assert_cmpstr(c->field[business + 3], ==, "USA");
	g_assert_cmpstr(c->field[business + 4], ==, "62701");
	g_assert_cmpstr(c->field[home], ==, "2 Elm");
	g_assert_null(c->field[home + 2]);
	g_assert_cmpstr(c->field[other + 1], ==, "Capital City");
	/* no FN: the name is made from N */
	g_assert_cmpstr(c->field[EWS_CF_DISPLAY_NAME], ==, "John Doe");
	ews_contact_free(&c);
}

static void test_v4_and_qp(void)
{
	struct ews_contact *c = read_card(
		T("BEGIN:VCARD") T("VERSION:4.0") T("FN:\xe5\xbc\xa0\xe4\xb8\x89")
		T("EMAIL;PREF=1:mailto:zhang@example.cn")
		T("TEL;VALUE=uri;TYPE=\"cell,voice\":tel:+86-10-1234")
		T("BDAY:19900102") T("END:VCARD"));

	g_assert_cmpstr(c->field[EWS_CF_DISPLAY_NAME], ==,
			"\xe5\xbc\xa0\xe4\xb8\x89");
	g_assert_cmpstr(c->field[EWS_CF_EMAIL1], ==, "zhang@example.cn");
	g_assert_cmpstr(c->field[field_of("MobilePhone")], ==, "+86-10-1234");
	g_assert_cmpstr(c->field[EWS_CF_BIRTHDAY], ==, "1990-01-02");
	ews_contact_free(&c);

	c = read_card(T("BEGIN:VCARD") T("VERSION:2.1")
		      T("N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=")
		      T("=C3=BCrgen")
		      T("NOTE;ENCODING=QUOTED-PRINTABLE:a=0D=0Ab=3D=")
		      T("c") T("END:VCARD"));
	g_assert_cmpstr(c->field[EWS_CF_SURNAME], ==, "M\xc3\xbcller");
	g_assert_cmpstr(c->field[EWS_CF_GIVEN_NAME], ==, "J\xc3\xbcrgen");
	g_assert_cmpstr(c->field[EWS_CF_BODY], ==, "a\nb=c");
	ews_contact_free(&c);
}

static const struct {
	const char *name, *card;
	int rc;
} bad[] = {
	{ "empty", "", -EINVAL },
	{ "garbage", "\x01\x02\xff not a card", -EINVAL },
	{ "no-end", "BEGIN:VCARD\r\nFN:x\r\n", -EINVAL },
	{ "vcalendar", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", -EINVAL },
	{ "end-only", "END:VCARD\r\n", -EINVAL },
};

static void test_bad(gconstpointer data)
{
	size_t i = GPOINTER_TO_SIZE(data);
	struct ews_contact *c = NULL;

	g_assert_cmpint(ews_contact_from_vcard(bad[i].card,
					       strlen(bad[i].card), &c),
			==, bad[i].rc);
	g_assert_null(c);
}

static void test_hostile(void)
{
	struct ews_contact *c = NULL;
	static const char nul[] = "BEGIN:VCARD\r\nFN:a\0b\r\nEND:VCARD\r\n";
	GString *big = g_string_new("BEGIN:VCARD\r\n");

	g_assert_cmpint(ews_contact_from_vcard(nul, sizeof(nul) - 1, &c), ==,
			-EINVAL);
	/* many lines: refused, not kept */
	for (int i = 0; i < 20000; i++)
		g_string_append(big, "X-A:1\r\n");
	g_string_append(big, "END:VCARD\r\n");
	g_assert_cmpint(ews_contact_from_vcard(big->str, big->len, &c), ==,
			-EFBIG);
	/* one endless quoted-printable line of soft breaks: linear time */
	g_string_assign(big, "BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE:");
	for (int i = 0; i < 200000; i++)
		g_string_append(big, "a=\r\n");
	g_string_append(big, "\r\nEND:VCARD\r\n");
	g_assert_cmpint(ews_contact_from_vcard(big->str, big->len, &c), ==, 0);
	g_assert_cmpuint(strlen(c->field[EWS_CF_BODY]), ==, 200000);
	ews_contact_free(&c);
	/* invalid UTF-8 and control characters do not reach the XML */
	static const char junk[] = "BEGIN:VCARD\r\nFN:a\xff\x01" "b\x1b\r\n"
				   "END:VCARD\r\n";
	char *xml = NULL;
	g_assert_cmpint(ews_vcard_to_contact_xml(junk, strlen(junk), &xml),
			==, 0);
	xmlDoc *d = parse_xml(xml);
	xmlFreeDoc(d);
	g_free(xml);
	/* nor U+FFFE and U+FFFF, which a card may hold and XML may not */
	static const char nonchar[] = "BEGIN:VCARD\r\nFN:a\xef\xbf\xbf" "b\r\n"
				      "NOTE:c\xef\xbf\xbe" "d\r\nEND:VCARD\r\n";
	g_assert_cmpint(ews_vcard_to_contact_xml(nonchar, strlen(nonchar),
						 &xml), ==, 0);
	g_assert_nonnull(strstr(xml, ">ab<"));
	g_assert_nonnull(strstr(xml, ">cd<"));
	xmlFreeDoc(parse_xml(xml));
	g_free(xml);
	g_string_free(big, TRUE);
}

static const char rich[] =
	T("BEGIN:VCARD") T("VERSION:3.0") T("UID:abc-123")
	T("FN:Carol Q. Example") T("N:Example;Carol;Q.;Ms.;III")
	T("NICKNAME:Caz") T("ORG:Example Inc.;R\\&D")
	T("TITLE:Chief \\, Engineer") T("EMAIL;TYPE=INTERNET:carol@example.com")
	T("EMAIL;TYPE=INTERNET:c@home.example") T("TEL;TYPE=WORK,VOICE:+1 555 0100")
	T("TEL;TYPE=CELL:+1 555 0101") T("TEL;TYPE=HOME,FAX:+1 555 0102")
	T("ADR;TYPE=WORK:;;1 Road\\nFloor 2;Town;ST;12345;Land")
	T("NOTE:Met at the \\;conference\\; in 2019.\\nLikes tea.")
	T("BDAY:1975-12-31") T("URL:https://carol.example.com/")
	T("CATEGORIES:friends,work")
	T("PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgMC")
	T(" AgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUV")
	T("X-SKYPE:carol.q") T("item1.X-ABLabel:custom") T("END:VCARD");

/* Every field survives vCard -> t:Contact -> vCard. */
static void test_round_trip(void)
{
	struct ews_contact *a = read_card(rich), *b = NULL;
	char *xml = NULL, *card = NULL;
	size_t len = 0;

	g_assert_cmpint(ews_vcard_to_contact_xml(rich, strlen(rich), &xml), ==,
			0);
	xmlDoc *d = parse_xml(xml);
	g_assert_cmpint(ews_contact_to_vcard(first_child(d), &card, &len), ==,
			0);
	g_assert_cmpuint(strlen(card), ==, len);
	g_assert_nonnull(strstr(card, "VERSION:3.0\r\n"));
	g_assert_nonnull(strstr(card, "\r\nUID:"));
	b = read_card(card);
	for (int f = 0; f < EWS_CF_COUNT; f++)
		g_assert_cmpstr(a->field[f], ==, b->field[f]);
	g_assert_cmpstr(a->field[EWS_CF_DEPARTMENT], ==, "R&D");
	xmlFreeDoc(d);
	g_free(xml);
	g_free(card);
	ews_contact_free(&a);
	ews_contact_free(&b);
}

/* Lines the mapping does not know come back byte for byte. */
static void test_merge_keeps_unknown(void)
{
	xmlDoc *d = parse_xml(
		"<t:Contact><t:GivenName>Caroline</t:GivenName>"
		"<t:JobTitle></t:JobTitle>"
		"<t:EmailAddresses><t:Entry Key=\"EmailAddress2\">new@x.org"
		"</t:Entry></t:EmailAddresses>"
		"<t:PhoneNumbers><t:Entry Key=\"Pager\">999</t:Entry>"
		"</t:PhoneNumbers>"
		"<t:PhysicalAddresses><t:Entry Key=\"Business\"><t:City>City"
		"</t:City></t:Entry></t:PhysicalAddresses></t:Contact>");
	char *card = NULL;
	size_t len = 0;

	g_assert_cmpint(ews_vcard_merge(rich, strlen(rich), first_child(d),
					&card, &len), ==, 0);
	static const char *const kept[] = {
		T("UID:abc-123"), T("CATEGORIES:friends,work"),
		T("PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgMC")
		T(" AgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUV"),
		T("X-SKYPE:carol.q"), T("item1.X-ABLabel:custom"),
		T("FN:Carol Q. Example"), T("EMAIL;TYPE=INTERNET:carol@example.com"),
		T("N:Example;Caroline;Q.;Ms.;III"),
		T("ADR;TYPE=WORK:;;1 Road\\nFloor 2;City;ST;12345;Land"),
		T("EMAIL;TYPE=INTERNET:new@x.org"), T("TEL;TYPE=pager:999"),
	};
	for (size_t i = 0; i < G_N_ELEMENTS(kept); i++)
		if (!strstr(card, kept[i]))
			g_error("%s missing from\n%s", kept[i], card);
	g_assert_null(strstr(card, "TITLE"));
	g_assert_null(strstr(card, "c@home.example"));
	xmlFreeDoc(d);
	g_free(card);
}

static void test_apply_updates(void)
{
	xmlDoc *d = parse_xml(
		"<t:Updates>"
		"<t:SetItemField><t:IndexedFieldURI FieldURI=\"contacts:"
		"EmailAddress\" FieldIndex=\"EmailAddress1\"/><t:Contact>"
		"<t:EmailAddresses><t:Entry Key=\"EmailAddress1\">first@x.org"
		"</t:Entry></t:EmailAddresses></t:Contact></t:SetItemField>"
		"<t:DeleteItemField><t:FieldURI FieldURI=\"contacts:JobTitle\"/>"
		"</t:DeleteItemField>"
		"<t:SetItemField><t:FieldURI FieldURI=\"item:Body\"/><t:Contact>"
		"<t:Body BodyType=\"Text\">new\r\nnote</t:Body></t:Contact>"
		"</t:SetItemField>"
		"<t:SetItemField><t:FieldURI FieldURI=\"contacts:Birthday\"/>"
		"<t:Contact><t:Birthday>2001-02-03T11:59:00Z</t:Birthday>"
		"</t:Contact></t:SetItemField>"
		"<t:SetItemField><t:IndexedFieldURI FieldURI=\"contacts:"
		"PhysicalAddress:Street\" FieldIndex=\"Home\"/><t:Contact>"
		"<t:PhysicalAddresses><t:Entry Key=\"Home\"><t:Street>9 Lane"
		"</t:Street></t:Entry></t:PhysicalAddresses></t:Contact>"
		"</t:SetItemField>"
		"<t:SetItemField><t:ExtendedFieldURI PropertyTag=\"0x3a45\" "
		"PropertyType=\"String\"/><t:Contact/></t:SetItemField>"
		"</t:Updates>");
	char *card = NULL;
	size_t len = 0;

	g_assert_cmpint(ews_vcard_apply_updates(rich, strlen(rich),
						first_child(d), &card, &len),
			==, 0);
	struct ews_contact *c = read_card(card);
	g_assert_cmpstr(c->field[EWS_CF_EMAIL1], ==, "first@x.org");
	g_assert_cmpstr(c->field[EWS_CF_EMAIL2], ==, "c@home.example");
	g_assert_null(c->field[EWS_CF_JOB_TITLE]);
	g_assert_cmpstr(c->field[EWS_CF_BODY], ==, "new\nnote");
	g_assert_cmpstr(c->field[EWS_CF_BIRTHDAY], ==, "2001-02-03");
	g_assert_cmpstr(c->field[field_of("Home")], ==, "9 Lane");
	g_assert_nonnull(strstr(card, "X-SKYPE:carol.q\r\n"));
	ews_contact_free(&c);
	xmlFreeDoc(d);
	g_free(card);

	d = parse_xml("<t:Updates><t:Frobnicate/></t:Updates>");
	g_assert_cmpint(ews_vcard_apply_updates(rich, strlen(rich),
						first_child(d), &card, &len),
			==, -EINVAL);
	xmlFreeDoc(d);
}

static void test_updates_xml(void)
{
	const char *newer =
		T("BEGIN:VCARD") T("VERSION:3.0") T("FN:Carol Q. Example")
		T("N:Example;Carol;;;") T("EMAIL:carol@example.com")
		T("TEL;TYPE=cell:+1") T("END:VCARD");
	const char *older =
		T("BEGIN:VCARD") T("VERSION:3.0") T("FN:Carol Q. Example")
		T("N:Example;Carol;Q.;;") T("EMAIL:carol@example.com")
		T("END:VCARD");
	char *xml = NULL;

	g_assert_cmpint(ews_vcard_to_updates(older, strlen(older), newer,
					     strlen(newer), &xml), ==, 0);
	g_assert_cmpstr(xml, ==,
		"<t:DeleteItemField><t:FieldURI FieldURI=\"contacts:"
		"MiddleName\"/></t:DeleteItemField>"
		"<t:SetItemField><t:IndexedFieldURI FieldURI=\"contacts:"
		"PhoneNumber\" FieldIndex=\"MobilePhone\"/><t:Contact>"
		"<t:PhoneNumbers><t:Entry Key=\"MobilePhone\">+1</t:Entry>"
		"</t:PhoneNumbers></t:Contact></t:SetItemField>");
	g_free(xml);
	g_assert_cmpint(ews_vcard_to_updates(NULL, 0, newer, strlen(newer),
					     &xml), ==, 0);
	g_assert_nonnull(strstr(xml, "<t:SetItemField><t:FieldURI FieldURI="
				"\"contacts:Surname\"/><t:Contact><t:Surname>"
				"Example</t:Surname></t:Contact>"));
	g_assert_nonnull(strstr(xml, "<t:DeleteItemField><t:FieldURI "
				"FieldURI=\"contacts:JobTitle\"/>"));
	g_assert_null(strstr(xml, "contacts:FileAs"));
	g_free(xml);
}

/* Long values are folded at 75 octets and never inside a character. */
static void test_folding(void)
{
	GString *note = g_string_new(NULL);
	char *card = NULL;
	size_t len = 0;

	for (int i = 0; i < 100; i++)
		g_string_append(note, "\xc3\xa4\xe2\x82\xac");
	g_autofree char *xml = g_strdup_printf(
		"<t:Contact><t:DisplayName>X</t:DisplayName><t:Body>%s"
		"</t:Body></t:Contact>", note->str);
	xmlDoc *d = parse_xml(xml);
	g_assert_cmpint(ews_contact_to_vcard(first_child(d), &card, &len), ==,
			0);
	g_auto(GStrv) lines = g_strsplit(card, "\r\n", -1);
	for (char **l = lines; *l; l++) {
		g_assert_cmpuint(strlen(*l), <=, 75);
		g_assert_true(g_utf8_validate(*l, -1, NULL));
	}
	struct ews_contact *c = read_card(card);
	g_assert_cmpstr(c->field[EWS_CF_BODY], ==, note->str);
	/* no N in the element: an empty one, and FN from DisplayName */
	g_assert_nonnull(strstr(card, "\r\nN:;;;;\r\n"));
	ews_contact_free(&c);
	xmlFreeDoc(d);
	g_free(card);
	g_string_free(note, TRUE);
}

/* A 4.0 card stays 4.0, with a 4.0 date. */
static void test_merge_v4(void)
{
	const char *v4 = T("BEGIN:VCARD") T("VERSION:4.0") T("FN:D")
			 T("END:VCARD");
	xmlDoc *d = parse_xml("<t:Contact><t:Birthday>1999-09-09T00:00:00Z"
			      "</t:Birthday><t:Surname>S</t:Surname>"
			      "</t:Contact>");
	char *card = NULL;
	size_t len = 0;

	g_assert_cmpint(ews_vcard_merge(v4, strlen(v4), first_child(d), &card,
					&len), ==, 0);
	g_assert_nonnull(strstr(card, "VERSION:4.0\r\n"));
	g_assert_nonnull(strstr(card, "BDAY:19990909\r\n"));
	g_assert_nonnull(strstr(card, "N:S;;;;\r\n"));
	xmlFreeDoc(d);
	g_free(card);
	d = parse_xml("<t:Message/>");
	g_assert_cmpint(ews_vcard_merge(v4, strlen(v4), first_child(d), &card,
					&len), ==, -EINVAL);
	xmlFreeDoc(d);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ews-contact/folded-escaped", test_folded_escaped);
	g_test_add_func("/ews-contact/several-email-tel",
			test_several_email_tel);
	g_test_add_func("/ews-contact/v4-and-qp", test_v4_and_qp);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *path = g_strdup_printf("/ews-contact/bad/%s",
							bad[i].name);
		g_test_add_data_func(path, GSIZE_TO_POINTER(i), test_bad);
	}
	g_test_add_func("/ews-contact/hostile", test_hostile);
	g_test_add_func("/ews-contact/round-trip", test_round_trip);
	g_test_add_func("/ews-contact/merge-keeps-unknown",
			test_merge_keeps_unknown);
	g_test_add_func("/ews-contact/apply-updates", test_apply_updates);
	g_test_add_func("/ews-contact/updates-xml", test_updates_xml);
	g_test_add_func("/ews-contact/folding", test_folding);
	g_test_add_func("/ews-contact/merge-v4", test_merge_v4);
	return g_test_run();
}
