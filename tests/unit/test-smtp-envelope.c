/*
 * test-smtp-envelope.c - what a message file says about its submission
 * (protocols/wire/smtp-envelope.h) and the SMTP reply reader
 * (protocols/wire/smtp-reply.h).
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/smtp-envelope.h"
#include "wire/smtp-reply.h"

static int parse(const char *msg, struct smtp_envelope *env, char **why)
{
	*why = NULL;
	return smtp_envelope_parse(msg, strlen(msg), true, env, why);
}

static char *rcpts(const struct smtp_envelope *env)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < env->rcpts->len; i++)
		g_string_append_printf(s, "%s%s", i ? " " : "",
				       (char *)env->rcpts->pdata[i]);
	return g_string_free(s, FALSE);
}

static void test_addresses(void)
{
	const char *msg =
		"From: \"Ann, A.\" <ann@example.org>\n"
		"To: Bob <bob@example.org>, carol@example.org\n"
		"Subject: hi\n"
		"Cc: =?utf-8?q?D=C3=A9sir=C3=A9e?= <desiree@example.net>,\n"
		"\tTeam: eve@example.net, Bob <BOB@example.org>;\n"
		"Bcc: frank@example.com\n"
		"\n"
		"Bcc: not a header, the body\n";
	struct smtp_envelope env;
	g_autofree char *why = NULL;

	g_assert_cmpint(parse(msg, &env, &why), ==, 0);
	g_assert_cmpstr(env.sender, ==, "ann@example.org");
	g_autofree char *r = rcpts(&env);
	/* once each, whatever the case of the address */
	g_assert_cmpstr(r, ==, "bob@example.org carol@example.org "
			"desiree@example.net eve@example.net "
			"frank@example.com");
	g_autofree char *head = g_strndup((char *)env.head->data,
					  env.head->len);
	g_assert_cmpstr(head, ==,
		"From: \"Ann, A.\" <ann@example.org>\r\n"
		"To: Bob <bob@example.org>, carol@example.org\r\n"
		"Subject: hi\r\n"
		"Cc: =?utf-8?q?D=C3=A9sir=C3=A9e?= <desiree@example.net>,\r\n"
		"\tTeam: eve@example.net, Bob <BOB@example.org>;\r\n"
		"\r\n");
	g_assert_cmpstr(msg + env.body_at, ==, "Bcc: not a header, the body\n");
	smtp_envelope_clear(&env);
}

static void test_folded_bcc_goes_whole(void)
{
	const char *msg = "From: a@example.com\r\n"
			  "BCC: b@example.com,\r\n"
			  " c@example.com\r\n"
			  "To: d@example.com\r\n"
			  "\r\n"
			  "x";
	struct smtp_envelope env;
	g_autofree char *why = NULL;

	g_assert_cmpint(parse(msg, &env, &why), ==, 0);
	g_autofree char *head = g_strndup((char *)env.head->data,
					  env.head->len);
	g_assert_cmpstr(head, ==, "From: a@example.com\r\n"
			"To: d@example.com\r\n\r\n");
	g_autofree char *r = rcpts(&env);
	g_assert_cmpstr(r, ==, "b@example.com c@example.com d@example.com");
	smtp_envelope_clear(&env);
}

static void test_header_only(void)
{
	struct smtp_envelope env;
	g_autofree char *why = NULL;
	const char *msg = "From: a@example.com\nTo: b@example.com";

	g_assert_cmpint(parse(msg, &env, &why), ==, 0);
	g_assert_cmpint(env.body_at, ==, strlen(msg));
	/* both lines now end in CRLF */
	g_assert_cmpint(env.head->len, ==, strlen(msg) + 3);
	smtp_envelope_clear(&env);
}

static void test_refusals(void)
{
	static const struct {
		const char *msg;
		const char *why;
	} cases[] = {
		{ "", "empty" },
		{ "hello world\n", "line 1 is not a header field" },
		{ " From: a@example.com\nTo: b@example.com\n\n",
		  "starts with white space" },
		{ "Subject: x\nTo: b@example.com\n\n", "no From: field" },
		{ "From: a@example.com\nFrom: c@example.com\n"
		  "To: b@example.com\n\n", "2 From: fields" },
		{ "From: a@example.com\nSubject: x\n\n", "no recipients" },
		{ "From: undisclosed-recipients:;\nTo: b@example.com\n\n",
		  "From: has no address" },
		{ "From: a@example.com\nTo: \"x\" <b c@example.com>\n\n",
		  "To: " },
		{ "From: a@example.com\nTo: \"b\rRCPT TO:<c\"@example.com\n\n",
		  "To: " },
		{ "From: a@example.com\nBad Name: x\nTo: b@x.org\n\n",
		  "line 2 is not a header field" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct smtp_envelope env;
		char *why = NULL;
		int rc = parse(cases[i].msg, &env, &why);
		if (rc == 0 || !why || !strstr(why, cases[i].why))
			g_error("case %zu: rc %d, %s", i, rc,
				why ? why : "(no reason)");
		g_free(why);
	}
	/* a NUL in the header */
	struct smtp_envelope env;
	g_autofree char *why = NULL;
	static const char nul[] = "From: a@example.com\nTo: b\0@x.org\n\n";
	g_assert_cmpint(smtp_envelope_parse(nul, sizeof(nul) - 1, true, &env,
					    &why), ==, -EINVAL);
	g_assert_nonnull(strstr(why, "NUL"));
}

static void test_header_without_end(void)
{
	/* only the start of a larger file was given, and no blank line */
	const char *msg = "From: a@example.com\nTo: b@example.com\nX: y";
	struct smtp_envelope env;
	g_autofree char *why = NULL;

	g_assert_cmpint(smtp_envelope_parse(msg, strlen(msg), false, &env,
					    &why), ==, -EINVAL);
	g_assert_nonnull(strstr(why, "header is larger"));
}

static void test_crlf(void)
{
	char out[64];
	bool cr = false;
	size_t n = smtp_crlf("a\nb\r\nc\r", 7, out, &cr);

	g_assert_cmpmem(out, n, "a\r\nb\r\nc\r", 8);
	g_assert_true(cr);
	/* a CRLF split between two chunks stays one */
	n = smtp_crlf("\nd\n", 3, out, &cr);
	g_assert_cmpmem(out, n, "\nd\r\n", 4);
	g_assert_false(cr);
}

static void feed_bytewise(struct smtp_reply *r, const char *s)
{
	for (size_t i = 0; s[i]; i++)
		smtp_reply_feed(r, s + i, 1);
}

static void test_reply(void)
{
	struct smtp_reply r;
	const char *talk = "220 mx ESMTP\r\n"
			   "250-mx\r\n250-SIZE 10\r\n250 AUTH PLAIN\r\n"
			   "550-5.1.1 first\r\n550 5.1.1 <x@y>: no such user\r\n"
			   "221 2.0.0 bye\r\n";

	smtp_reply_init(&r);
	feed_bytewise(&r, talk);
	g_assert_cmpint(r.replies, ==, 4);
	g_assert_cmpint(r.code, ==, 221);
	g_assert_cmpstr(r.text->str, ==, "2.0.0 bye");
	/* the refusal outlives the QUIT's answer */
	g_assert_cmpint(r.fail_code, ==, 550);
	g_assert_cmpstr(r.fail_text->str, ==,
			"5.1.1 first 5.1.1 <x@y>: no such user");
	g_assert_cmpint(r.bad, ==, 0);
	smtp_reply_clear(&r);

	/* lines that are no reply; control bytes written out as \xHH (the
	 * C1 CSI too); a line past the limit is cut, not kept whole */
	smtp_reply_init(&r);
	smtp_reply_feed(&r, "hello\r\n99 x\r\n", 13);
	g_assert_cmpint(r.bad, ==, 2);
	smtp_reply_feed(&r, "451 a\tb\xc2\x9b\x1b\r\n", 12);
	g_assert_cmpstr(r.text->str, ==, "a\\x09b\\xc2\\x9b\\x1b");
	GString *big = g_string_new("554 ");
	for (int i = 0; i < 5000; i++)
		g_string_append_c(big, 'x');
	g_string_append(big, "\r\n");
	smtp_reply_feed(&r, big->str, big->len);
	g_assert_cmpint(r.code, ==, 554);
	g_assert_cmpuint(r.text->len, <=, SMTP_REPLY_LINE_MAX);
	g_string_free(big, TRUE);
	smtp_reply_clear(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/smtp-envelope/addresses", test_addresses);
	g_test_add_func("/smtp-envelope/folded-bcc", test_folded_bcc_goes_whole);
	g_test_add_func("/smtp-envelope/header-only", test_header_only);
	g_test_add_func("/smtp-envelope/refusals", test_refusals);
	g_test_add_func("/smtp-envelope/header-without-end",
			test_header_without_end);
	g_test_add_func("/smtp-envelope/crlf", test_crlf);
	g_test_add_func("/smtp-reply/replies", test_reply);
	return g_test_run();
}
