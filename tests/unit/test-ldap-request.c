/*
 * test-ldap-request.c - the embedded LDAP server's request reader and
 * filter (protocols/serve/ldap/request.c, filter.c): a bind and a search
 * with a control read from bytes handed over one at a time, the filter
 * evaluated with RFC 4511's three values, and what is refused.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "serve/ldap/ldapd-private.h"

/* A simple bind as uid=alice,ou=contacts,dc=mailfs with "pw", then a
 * subtree search of ou=contacts,dc=mailfs for (&(cn=bo*)(!(mail=x))),
 * sizeLimit 1, timeLimit 5, typesOnly, attributes cn and mail, with a
 * critical control 1.2.3.4 (as python3-ldap3 writes them). */
static const char requests_hex[] =
	"302d0201016028020103041f7569643d616c6963652c6f753d636f6e74616374"
	"732c64633d6d61696c667380027077"
	"3062020102634d04156f753d636f6e74616374732c64633d6d61696c66730a01"
	"020a01000201010201050101ffa019a40a0402636e30048002626fa20ba30904"
	"046d61696c040178300a0402636e04046d61696ca00e300c0407312e322e332e"
	"340101ff";

struct input {
	const guint8 *data;
	size_t left;
	size_t step;
};

static ssize_t read_input(void *arg, void *buf, size_t len)
{
	struct input *in = arg;
	size_t n = MIN(MIN(len, in->left), in->step);

	if (!n) {
		errno = ECONNRESET;
		return -1;
	}
	memcpy(buf, in->data, n);
	in->data += n;
	in->left -= n;
	return (ssize_t)n;
}

static guint8 *unhex(const char *hex, size_t *len_r)
{
	size_t n = strlen(hex) / 2;
	guint8 *out = g_malloc(n);

	for (size_t i = 0; i < n; i++)
		out[i] = (guint8)(g_ascii_xdigit_value(hex[2 * i]) * 16 +
				  g_ascii_xdigit_value(hex[2 * i + 1]));
	*len_r = n;
	return out;
}

static void read_all(size_t step)
{
	size_t len;
	g_autofree guint8 *bytes = unhex(requests_hex, &len);
	struct input in = { bytes, len, step };
	Sockbuf *sb = ldapd_sockbuf_new(read_input, &in, 4096);
	struct ldapd_req req;
	struct ldap_card *card = ldap_card_new();

	g_assert_cmpint(ldapd_request_next(sb, &req), ==, 0);
	g_assert_cmpint(req.msgid, ==, 1);
	g_assert_cmpuint(req.op, ==, LDAP_REQ_BIND);
	g_assert_cmpint(req.version, ==, 3);
	g_assert_cmpstr(req.dn, ==, "uid=alice,ou=contacts,dc=mailfs");
	g_assert_cmpuint(req.auth, ==, LDAP_AUTH_SIMPLE);
	g_assert_cmpstr(req.password, ==, "pw");
	g_assert_null(req.critical);
	ldapd_req_clear(&req);

	g_assert_cmpint(ldapd_request_next(sb, &req), ==, 0);
	g_assert_cmpint(req.msgid, ==, 2);
	g_assert_cmpuint(req.op, ==, LDAP_REQ_SEARCH);
	g_assert_cmpstr(req.dn, ==, "ou=contacts,dc=mailfs");
	g_assert_cmpint(req.scope, ==, LDAP_SCOPE_SUB);
	g_assert_cmpint(req.size_limit, ==, 1);
	g_assert_cmpint(req.time_limit, ==, 5);
	g_assert_true(req.types_only);
	g_assert_cmpuint(req.attrs->len, ==, 2);
	g_assert_cmpstr(req.attrs->pdata[1], ==, "mail");
	g_assert_cmpstr(req.critical, ==, "1.2.3.4");
	g_assert_cmpint(req.filter->kind, ==, LDAPD_F_AND);
	g_assert_cmpuint(req.filter->children->len, ==, 2);
	/* no cn: the substring is False, its and False */
	g_assert_cmpint(ldapd_filter_eval(req.filter, card), ==, LDAPD_FALSE);
	ldap_card_add(card, "cn", "Bob", 3);
	g_assert_cmpint(ldapd_filter_eval(req.filter, card), ==, LDAPD_TRUE);
	ldap_card_add(card, "mail", "X", 1);
	g_assert_cmpint(ldapd_filter_eval(req.filter, card), ==, LDAPD_FALSE);
	ldapd_req_clear(&req);

	/* the end of the stream */
	g_assert_cmpint(ldapd_request_next(sb, &req), ==, -ECONNRESET);
	ldapd_req_clear(&req);
	ldap_card_free(&card);
	ber_sockbuf_free(sb);
}

static void test_one_byte_at_a_time(void)
{
	read_all(1);
}

static void test_all_at_once(void)
{
	read_all(4096);
}

static int next_of(const char *hex, size_t max, struct ldapd_req *req)
{
	size_t len;
	g_autofree guint8 *bytes = unhex(hex, &len);
	struct input in = { bytes, len, 4096 };
	Sockbuf *sb = ldapd_sockbuf_new(read_input, &in, max);
	int rc = ldapd_request_next(sb, req);

	ber_sockbuf_free(sb);
	return rc;
}

static void test_refused(void)
{
	struct ldapd_req req;

	/* larger than the bound, before its bytes came */
	g_assert_cmpint(next_of("30847fffffff020101", 4096, &req), ==,
			-EMSGSIZE);
	ldapd_req_clear(&req);
	/* not an LDAPMessage */
	g_assert_cmpint(next_of("040100", 4096, &req), ==, -EPROTO);
	ldapd_req_clear(&req);
	/* an operation RFC 4511 does not know (APPLICATION 30) */
	g_assert_cmpint(next_of("30050201075e00", 4096, &req), ==, -EPROTO);
	g_assert_cmpint(req.msgid, ==, 7);
	ldapd_req_clear(&req);
	/* an unknown attribute is Undefined, and so is its negation */
	struct ldap_card *card = ldap_card_new();
	struct ldapd_filter eq = { .kind = LDAPD_F_EQ, .attr = "nosuch",
				   .value = g_bytes_new_static("x", 1) };
	GPtrArray *kids = g_ptr_array_new();
	g_ptr_array_add(kids, &eq);
	struct ldapd_filter not = { .kind = LDAPD_F_NOT, .children = kids };
	g_assert_cmpint(ldapd_filter_eval(&eq, card), ==, LDAPD_UNDEFINED);
	g_assert_cmpint(ldapd_filter_eval(&not, card), ==, LDAPD_UNDEFINED);
	g_ptr_array_unref(kids);
	g_bytes_unref(eq.value);
	ldap_card_free(&card);
}

static void test_deep_filter(void)
{
	/* (!(!(...(cn=a)...))) nested past LDAPD_FILTER_DEPTH */
	GByteArray *b = g_byte_array_new();
	const guint8 leaf[] = { 0xa3, 0x07, 0x04, 0x02, 'c', 'n', 0x04, 0x01,
				'a' };
	g_byte_array_append(b, leaf, sizeof(leaf));
	for (int i = 0; i < LDAPD_FILTER_DEPTH + 4; i++) {
		guint8 head[4] = { 0xa2 };
		guint n = b->len;
		size_t hl = 2;
		if (n < 128) {
			head[1] = (guint8)n;
		} else {
			head[1] = 0x82;
			head[2] = (guint8)(n >> 8);
			head[3] = (guint8)n;
			hl = 4;
		}
		g_byte_array_prepend(b, head, (guint)hl);
	}
	struct berval bv = { b->len, (char *)b->data };
	BerElement *ber = ber_init(&bv);
	struct ldapd_filter *flt = NULL;
	g_assert_cmpint(ldapd_filter_decode(ber, &flt), ==, -E2BIG);
	g_assert_null(flt);
	ber_free(ber, 1);
	g_byte_array_unref(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ldap-request/one-byte-at-a-time",
			test_one_byte_at_a_time);
	g_test_add_func("/ldap-request/all-at-once", test_all_at_once);
	g_test_add_func("/ldap-request/refused", test_refused);
	g_test_add_func("/ldap-request/deep-filter", test_deep_filter);
	return g_test_run();
}
