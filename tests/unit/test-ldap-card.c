/*
 * test-ldap-card.c - the vCard <-> inetOrgPerson mapping both LDAP sides
 * share (protocols/wire/ldap-card.h): a card's attributes, an entry's
 * card, the names and aliases of attributes, the matching rules, and the
 * bounds on what a peer sends.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/ldap-card.h"
#include "wire/vcard.h"

static const char bob[] =
	"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bob-1\r\nFN:Bob Builder\r\n"
	"N:Builder;Bob;;;\r\nEMAIL;TYPE=work:bob@example.org\r\n"
	"EMAIL:mailto:robert@home.example\r\nEMAIL:BOB@example.org\r\n"
	"TEL;TYPE=cell:+1 555 0199\r\nTEL;TYPE=work:tel:+1 555-0100\r\n"
	"ORG:Builders Inc;Sales;East\r\nTITLE:Chief\\, Builder\r\n"
	"ADR:;;1 Main St\\nBack door;Springfield;IL;62701;USA\r\n"
	"PHOTO;ENCODING=b;TYPE=JPEG:/9j/4A==\r\n"
	"URL:https://bob.example.org\r\nNOTE:not carried\r\nEND:VCARD\r\n";

static char *first(const struct ldap_card *c, const char *desc)
{
	return ldap_card_first(c, desc);
}

static guint count(const struct ldap_card *c, const char *desc)
{
	const struct ldap_card_attr *a = ldap_card_get(c, desc);

	return a ? a->values->len : 0;
}

static void check_value(const struct ldap_card *c, const char *desc,
			guint i, const char *want)
{
	const struct ldap_card_attr *a = ldap_card_get(c, desc);
	gsize n;
	const char *v;

	g_assert_nonnull(a);
	g_assert_cmpuint(i, <, a->values->len);
	v = g_bytes_get_data(a->values->pdata[i], &n);
	g_assert_cmpmem(v, n, want, strlen(want));
}

static void test_from_vcard(void)
{
	struct ldap_card *c = NULL;
	g_autofree char *photo = NULL;

	g_assert_cmpint(ldap_card_from_vcard(bob, strlen(bob), &c), ==, 0);
	check_value(c, "objectClass", 3, "inetOrgPerson");
	check_value(c, "cn", 0, "Bob Builder");
	check_value(c, "displayName", 0, "Bob Builder");
	check_value(c, "sn", 0, "Builder");
	check_value(c, "givenName", 0, "Bob");
	/* every address, "mailto:" taken off, a case variant once */
	g_assert_cmpuint(count(c, "mail"), ==, 2);
	check_value(c, "mail", 1, "robert@home.example");
	check_value(c, "mobile", 0, "+1 555 0199");
	check_value(c, "telephoneNumber", 0, "+1 555-0100");
	check_value(c, "o", 0, "Builders Inc");
	g_assert_cmpuint(count(c, "ou"), ==, 2);
	check_value(c, "ou", 1, "East");
	check_value(c, "title", 0, "Chief, Builder");
	check_value(c, "postalAddress", 0,
		    "1 Main St$Back door$Springfield IL 62701$USA");
	check_value(c, "labeledURI", 0, "https://bob.example.org");
	check_value(c, "uid", 0, "bob-1");
	const struct ldap_card_attr *p = ldap_card_get(c, "jpegPhoto");
	gsize n;
	g_assert_nonnull(p);
	g_assert_cmpmem(g_bytes_get_data(p->values->pdata[0], &n), 3,
			"\xff\xd8\xff", 3);
	ldap_card_free(&c);
	g_assert_null(c);
}

static void test_names_made_up(void)
{
	static const char bare[] = "BEGIN:VCARD\r\nVERSION:4.0\r\n"
				   "N:Liddell;Alice;;;\r\nEND:VCARD\r\n";
	static const char mail[] = "BEGIN:VCARD\r\nVERSION:4.0\r\n"
				   "EMAIL:x@example.org\r\nEND:VCARD\r\n";
	struct ldap_card *c = NULL;
	g_autofree char *cn = NULL, *sn = NULL;

	g_assert_cmpint(ldap_card_from_vcard(bare, strlen(bare), &c), ==, 0);
	cn = first(c, "commonName");
	g_assert_cmpstr(cn, ==, "Alice Liddell");
	ldap_card_free(&c);
	g_assert_cmpint(ldap_card_from_vcard(mail, strlen(mail), &c), ==, 0);
	sn = first(c, "surname");
	g_assert_cmpstr(sn, ==, "x@example.org");
	ldap_card_free(&c);
	g_assert_cmpint(ldap_card_from_vcard("nope", 4, &c), ==, -EINVAL);
}

static void test_to_vcard(void)
{
	struct ldap_card *c = ldap_card_new();
	struct vcard *vc = NULL;
	char *out = NULL;
	size_t len = 0;

	g_assert_cmpint(ldap_card_to_vcard(c, &out, &len), ==, -ENODATA);
	ldap_card_add(c, "CN", "Bob; Builder", 12);
	ldap_card_add(c, "sn;lang-en", "Builder", 7);
	ldap_card_add(c, "gn", "Bob", 3);
	ldap_card_add(c, "mail", "bob@example.org", 15);
	ldap_card_add(c, "rfc822Mailbox", "robert@example.org", 18);
	ldap_card_add(c, "telephoneNumber", "+1 555 0100", 11);
	ldap_card_add(c, "mobileTelephoneNumber", "+1 555 0199", 11);
	ldap_card_add(c, "ou", "Sales", 5);
	ldap_card_add(c, "postalAddress", "1 Main St$Town\\24X", 18);
	ldap_card_add(c, "labeledURI", "https://x.example My page", 25);
	ldap_card_add(c, "jpegPhoto", "\xff\xd8\x00\xd9", 4);
	ldap_card_add(c, "userPassword", "secret", 6);
	ldap_card_add(c, "mail", "", 0);
	g_assert_null(ldap_card_get(c, "userPassword"));
	g_assert_cmpint(ldap_card_to_vcard(c, &out, &len), ==, 0);
	g_assert_cmpuint(strlen(out), ==, len);
	g_assert_true(g_str_has_prefix(out, "BEGIN:VCARD\r\nVERSION:4.0\r\n"));
	g_assert_nonnull(strstr(out, "\r\nFN:Bob\\; Builder\r\n"));
	g_assert_nonnull(strstr(out, "\r\nN:Builder;Bob;;;\r\n"));
	g_assert_nonnull(strstr(out, "\r\nEMAIL:robert@example.org\r\n"));
	g_assert_nonnull(strstr(out, "\r\nTEL;VALUE=text;TYPE=voice:"
				"+1 555 0100\r\n"));
	g_assert_nonnull(strstr(out, "\r\nTEL;VALUE=text;TYPE=cell:"
				"+1 555 0199\r\n"));
	g_assert_nonnull(strstr(out, "\r\nORG:;Sales\r\n"));
	g_assert_nonnull(strstr(out, "\r\nADR:;;1 Main St\\nTown$X;;;;\r\n"));
	g_assert_nonnull(strstr(out, "\r\nURL:https://x.example\r\n"));
	g_assert_nonnull(strstr(out, "\r\nPHOTO:data:image/jpeg;base64,"
				"/9gA2Q==\r\n"));
	g_assert_true(g_str_has_suffix(out, "END:VCARD\r\n"));
	/* the card reads back, and maps to the same entry */
	g_assert_cmpint(vcard_parse(out, len, &vc), ==, 0);
	g_assert_cmpint(vc->version, ==, 4);
	vcard_free(&vc);
	struct ldap_card *back = NULL;
	g_assert_cmpint(ldap_card_from_vcard(out, len, &back), ==, 0);
	g_assert_cmpuint(count(back, "mail"), ==, 2);
	check_value(back, "cn", 0, "Bob; Builder");
	const struct ldap_card_attr *photo = ldap_card_get(back, "jpegPhoto");
	gsize n;
	g_assert_nonnull(photo);
	g_assert_cmpmem(g_bytes_get_data(photo->values->pdata[0], &n), n,
			"\xff\xd8\x00\xd9", 4);
	ldap_card_free(&back);
	g_free(out);
	ldap_card_free(&c);
}

static void test_matching_and_bounds(void)
{
	struct ldap_card *c = ldap_card_new();

	g_assert_cmpstr(ldap_card_attr_name("MAIL"), ==, "mail");
	g_assert_cmpstr(ldap_card_attr_name("organizationName"), ==, "o");
	g_assert_null(ldap_card_attr_name("userPassword"));
	g_assert_cmpint(ldap_card_value_cmp("cn", "ÄBC", strlen("ÄBC"), "äbc",
					    strlen("äbc")), ==, 0);
	g_assert_cmpint(ldap_card_value_cmp("telephoneNumber", "+1 555-01",
					    9, "+155501", 7), ==, 0);
	g_assert_cmpint(ldap_card_value_cmp("jpegPhoto", "A", 1, "a", 1), !=,
			0);
	for (unsigned i = 0; i < LDAP_CARD_VALUES_MAX + 10; i++) {
		g_autofree char *v = g_strdup_printf("m%u@example.org", i);
		ldap_card_add(c, "mail", v, strlen(v));
	}
	g_assert_cmpuint(count(c, "mail"), ==, LDAP_CARD_VALUES_MAX);
	/* text that is not UTF-8 is not kept */
	ldap_card_add(c, "cn", "\xff\xfe", 2);
	g_assert_null(ldap_card_get(c, "cn"));
	ldap_card_free(&c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ldap-card/from-vcard", test_from_vcard);
	g_test_add_func("/ldap-card/names-made-up", test_names_made_up);
	g_test_add_func("/ldap-card/to-vcard", test_to_vcard);
	g_test_add_func("/ldap-card/matching-and-bounds",
			test_matching_and_bounds);
	return g_test_run();
}
