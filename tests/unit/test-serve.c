/*
 * test-serve.c - the pure parts of the embedded server: SMTP and POP3
 * command lines, SASL PLAIN, the allowances of failed logins, IMAP
 * sequence sets, mailbox names and flags, addresses to listen on, and the
 * UID state kept per folder.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "backend.h"
#include "serve/imap/args.h"
#include "serve/uids.h"
#include "wire/pop3-cmd.h"
#include "serve/auth.h"
#include "wire/smtp-cmd.h"
#include "wire/ntlm.h"

int serve_split_addr(const char *addr, char **host_r, char **port_r);

static const struct {
	const char *line;
	int rc;
	enum smtp_verb verb;
	const char *path;
	uint64_t size;
} smtp_cases[] = {
	{ "EHLO client.example", 0, SMTP_EHLO, NULL, 0 },
	{ "ehlo x", 0, SMTP_EHLO, NULL, 0 },
	{ "HELO", -EINVAL, 0, NULL, 0 },
	{ "MAIL FROM:<bob@example.org>", 0, SMTP_MAIL, "bob@example.org", 0 },
	{ "MAIL FROM: <bob@example.org> SIZE=1000 BODY=8BITMIME", 0,
	  SMTP_MAIL, "bob@example.org", 1000 },
	{ "MAIL FROM:<>", 0, SMTP_MAIL, "", 0 },
	{ "MAIL FROM:bob@example.org", -EINVAL, 0, NULL, 0 },
	{ "MAIL FROM:<a@b> SIZE=", -EINVAL, 0, NULL, 0 },
	{ "MAIL FROM:<a@b> SIZE=99999999999999999999", -EINVAL, 0, NULL, 0 },
	{ "MAIL FROM:<a@b> BODY=BINARYMIME", -EINVAL, 0, NULL, 0 },
	{ "MAIL FROM:<a@b> FOO=1", -EPROTONOSUPPORT, 0, NULL, 0 },
	{ "MAIL FROM:<a b@c>", -EINVAL, 0, NULL, 0 },
	{ "RCPT TO:<@r1,@r2:alice@example.org>", 0, SMTP_RCPT,
	  "alice@example.org", 0 },
	{ "RCPT TO:<>", -EINVAL, 0, NULL, 0 },
	{ "RCPT TO:<a@b> SIZE=1", -EPROTONOSUPPORT, 0, NULL, 0 },
	{ "DATA", 0, SMTP_DATA, NULL, 0 },
	{ "DATA now", -EINVAL, 0, NULL, 0 },
	{ "AUTH", -EINVAL, 0, NULL, 0 },
	{ "AUTH PLAIN AGEAYg==", 0, SMTP_AUTH, NULL, 0 },
	{ "STARTTLS", 0, SMTP_STARTTLS, NULL, 0 },
	{ "QUIT", 0, SMTP_QUIT, NULL, 0 },
	{ "BDAT 10", -ENOSYS, 0, NULL, 0 },
	{ "", -ENOSYS, 0, NULL, 0 },
};

static void test_smtp_cmd(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(smtp_cases); i++) {
		struct smtp_cmd cmd;
		const char *why = NULL;
		int rc = smtp_cmd_parse(smtp_cases[i].line,
					strlen(smtp_cases[i].line), &cmd, &why);
		g_test_message("%s", smtp_cases[i].line);
		g_assert_cmpint(rc, ==, smtp_cases[i].rc);
		g_assert_nonnull(why);
		if (rc < 0)
			continue;
		g_assert_cmpint(cmd.verb, ==, smtp_cases[i].verb);
		g_assert_cmpstr(cmd.path, ==, smtp_cases[i].path);
		g_assert_cmpuint(cmd.size, ==, smtp_cases[i].size);
		smtp_cmd_clear(&cmd);
	}
	/* a NUL inside the line is refused, not cut short */
	struct smtp_cmd cmd;
	const char *why;
	g_assert_cmpint(smtp_cmd_parse("NOOP\0x", 6, &cmd, &why), ==, -EINVAL);
}

static const struct {
	const char *line;
	int rc;
	enum pop3_verb verb;
	unsigned nargs;
	const char *arg0;
	unsigned long num1;
} pop3_cases[] = {
	{ "USER alice", 0, POP3_USER, 1, "alice", 0 },
	{ "PASS with spaces in it", 0, POP3_PASS, 1, "with spaces in it", 0 },
	{ "PASS", -EINVAL, 0, 0, NULL, 0 },
	{ "LIST", 0, POP3_LIST, 0, NULL, 0 },
	{ "list 3", 0, POP3_LIST, 1, "3", 0 },
	{ "LIST x", -EINVAL, 0, 0, NULL, 0 },
	{ "LIST 1 2", -EINVAL, 0, 0, NULL, 0 },
	{ "TOP 2 10", 0, POP3_TOP, 2, "2", 10 },
	{ "TOP 2", -EINVAL, 0, 0, NULL, 0 },
	{ "RETR 9999999999", -EINVAL, 0, 0, NULL, 0 },
	{ "RETR  1", -EINVAL, 0, 0, NULL, 0 },
	{ "AUTH PLAIN AGEAYg==", 0, POP3_AUTH, 2, "PLAIN", 0 },
	{ "STLS", 0, POP3_STLS, 0, NULL, 0 },
	{ "APOP a b", -ENOSYS, 0, 0, NULL, 0 },
};

static void test_pop3_cmd(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(pop3_cases); i++) {
		struct pop3_cmd cmd;
		const char *why = NULL;
		int rc = pop3_cmd_parse(pop3_cases[i].line,
					strlen(pop3_cases[i].line), &cmd, &why);
		g_test_message("%s", pop3_cases[i].line);
		g_assert_cmpint(rc, ==, pop3_cases[i].rc);
		if (rc < 0)
			continue;
		g_assert_cmpint(cmd.verb, ==, pop3_cases[i].verb);
		g_assert_cmpuint(cmd.nargs, ==, pop3_cases[i].nargs);
		g_assert_cmpstr(cmd.args[0], ==, pop3_cases[i].arg0);
		g_assert_cmpuint(cmd.num[1], ==, pop3_cases[i].num1);
		pop3_cmd_clear(&cmd);
	}
}

static void test_sasl_plain(void)
{
	char *user = NULL, *pass = NULL;

	/* "\0alice\0secret" and "alice\0alice\0secret" */
	g_assert_cmpint(serve_sasl_plain("AGFsaWNlAHNlY3JldA==", &user, &pass),
			==, 0);
	g_assert_cmpstr(user, ==, "alice");
	g_assert_cmpstr(pass, ==, "secret");
	g_free(user);
	g_free(pass);
	g_assert_cmpint(serve_sasl_plain("YWxpY2UAYWxpY2UAc2VjcmV0", &user,
					 &pass), ==, 0);
	g_free(user);
	g_free(pass);
	/* another identity to act as, no NULs, bad base64, an empty line */
	g_assert_cmpint(serve_sasl_plain("Ym9iAGFsaWNlAHNlY3JldA==", &user,
					 &pass), ==, -EINVAL);
	g_assert_cmpint(serve_sasl_plain("YWxpY2U=", &user, &pass), ==,
			-EINVAL);
	g_assert_cmpint(serve_sasl_plain("!!!!", &user, &pass), ==, -EINVAL);
	g_assert_cmpint(serve_sasl_plain("", &user, &pass), ==, -EINVAL);
	g_assert_cmpint(serve_sasl_plain("AGEAYgBj", &user, &pass), ==,
			-EINVAL);
}

static struct sockaddr_storage addr_of(const char *text)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	else
		g_assert_not_reached();
	return ss;
}

/* Use up the failed logins of `addr`: SERVE_SOURCE_BURST, then refusals,
 * even of the right password. */
static void use_up(struct serve_auth *auth, const char *addr)
{
	struct sockaddr_storage ss = addr_of(addr);
	const struct sockaddr *sa = (const struct sockaddr *)&ss;

	for (int i = 0; i < SERVE_SOURCE_BURST; i++)
		g_assert_cmpint(serve_auth_login(auth, sa, "alice", "guess"),
				==, SERVE_LOGIN_FAILED);
	g_assert_cmpint(serve_auth_login(auth, sa, "alice", "guess"), ==,
			SERVE_LOGIN_REFUSED);
	g_assert_cmpint(serve_auth_login(auth, sa, "alice", "secret"), ==,
			SERVE_LOGIN_REFUSED);
}

static enum serve_login login_from(struct serve_auth *auth, const char *addr,
				   const char *password)
{
	struct sockaddr_storage ss = addr_of(addr);

	return serve_auth_login(auth, (const struct sockaddr *)&ss, "alice",
				password);
}

static void test_login_allowances(void)
{
	g_autofree char *dir = g_dir_make_tmp("mailfs-auth-XXXXXX", NULL);
	g_autofree char *pw = g_build_filename(dir, "pw", NULL);
	struct serve_auth *auth = NULL;
	char *why = NULL;

	g_assert_true(g_file_set_contents_full(pw, "secret\n", -1,
					       G_FILE_SET_CONTENTS_NONE,
					       0600, NULL));
	g_assert_cmpint(serve_auth_load("alice", pw, &auth, &why), ==, 0);

	/* a right password gives back what it took */
	for (int i = 0; i < 2 * SERVE_SOURCE_BURST; i++)
		g_assert_cmpint(login_from(auth, "192.0.2.1", "secret"), ==,
				SERVE_LOGIN_OK);
	use_up(auth, "192.0.2.1");
	/* the same address mapped into IPv6 is the same address */
	g_assert_cmpint(login_from(auth, "::ffff:192.0.2.1", "secret"), ==,
			SERVE_LOGIN_REFUSED);
	/* another address is not held up */
	g_assert_cmpint(login_from(auth, "192.0.2.2", "secret"), ==,
			SERVE_LOGIN_OK);
	/* IPv6 addresses count by their /64 */
	use_up(auth, "2001:db8:1:2::1");
	g_assert_cmpint(login_from(auth, "2001:db8:1:2:ffff::9", "secret"), ==,
			SERVE_LOGIN_REFUSED);
	g_assert_cmpint(login_from(auth, "2001:db8:1:3::1", "secret"), ==,
			SERVE_LOGIN_OK);
	/* the server's own allowance runs out over many addresses */
	int failed = 2 * SERVE_SOURCE_BURST;
	for (int i = 10; i < 30; i++) {
		g_autofree char *a = g_strdup_printf("198.51.100.%d", i);
		for (int j = 0; j < SERVE_SOURCE_BURST; j++)
			failed += login_from(auth, a, "guess") ==
				  SERVE_LOGIN_FAILED;
	}
	g_assert_cmpint(failed, <=, SERVE_SERVER_BURST + 1);
	g_assert_cmpint(login_from(auth, "203.0.113.1", "secret"), ==,
			SERVE_LOGIN_REFUSED);
	serve_auth_free(&auth);
	g_remove(pw);
	g_rmdir(dir);
}

/* An NTLM login with MS-NLMP 4.2.4's NTLMv2 response (user "User",
 * domain "Domain", password "Password"): taken for serve's user in any
 * case, not for another user, another challenge or another password. */
static void test_ntlm_login(void)
{
	static const uint8_t challenge[8] = { 0x01, 0x23, 0x45, 0x67,
					      0x89, 0xab, 0xcd, 0xef };
	static const uint8_t nt[] = {
		0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96, 0xaa, 0xbc,
		0x92, 0x7b, 0xeb, 0xef, 0x6a, 0x1c,
		1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0, 0, 0, 0,
		0x02, 0x00, 0x0c, 0x00, 'D', 0, 'o', 0, 'm', 0, 'a', 0, 'i', 0,
		'n', 0, 0x01, 0x00, 0x0c, 0x00, 'S', 0, 'e', 0, 'r', 0, 'v', 0,
		'e', 0, 'r', 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t other[8] = { 0 };
	g_autofree char *dir = g_dir_make_tmp("mailfs-auth-XXXXXX", NULL);
	g_autofree char *pw = g_build_filename(dir, "pw", NULL);
	struct ntlm_authenticate a = {
		.user = (char *)"User", .domain = (char *)"Domain",
		.nt = (uint8_t *)nt, .nt_len = sizeof(nt),
	};
	struct serve_auth *auth = NULL;
	char *why = NULL;

	g_assert_true(g_file_set_contents_full(pw, "Password\n", -1,
					       G_FILE_SET_CONTENTS_NONE,
					       0600, NULL));
	g_assert_cmpint(serve_auth_load("user", pw, &auth, &why), ==, 0);
	g_assert_cmpint(serve_auth_ntlm(auth, NULL, &a, challenge), ==,
			SERVE_LOGIN_OK);
	g_assert_cmpint(serve_auth_ntlm(auth, NULL, &a, other), ==,
			SERVE_LOGIN_FAILED);
	serve_auth_free(&auth);
	g_assert_cmpint(serve_auth_load("someone", pw, &auth, &why), ==, 0);
	g_assert_cmpint(serve_auth_ntlm(auth, NULL, &a, challenge), ==,
			SERVE_LOGIN_FAILED);
	serve_auth_free(&auth);
	g_assert_true(g_file_set_contents_full(pw, "password\n", -1,
					       G_FILE_SET_CONTENTS_NONE,
					       0600, NULL));
	g_assert_cmpint(serve_auth_load("User", pw, &auth, &why), ==, 0);
	g_assert_cmpint(serve_auth_ntlm(auth, NULL, &a, challenge), ==,
			SERVE_LOGIN_FAILED);
	serve_auth_free(&auth);
	g_remove(pw);
	g_rmdir(dir);
}

static void test_seqset(void)
{
	GArray *r = NULL;

	g_assert_cmpint(imapd_seqset_parse("1:3,7,5:*", 9, &r), ==, 0);
	for (uint32_t n = 0; n <= 10; n++)
		g_assert_cmpint(imapd_seqset_has(r, n), ==,
				(n >= 1 && n <= 3) || (n >= 5 && n <= 9));
	g_array_unref(r);
	/* reversed ranges, overlaps and neighbours merge */
	g_assert_cmpint(imapd_seqset_parse("9:4,2,3,1:2,12", 100, &r), ==, 0);
	g_assert_cmpuint(r->len, ==, 2);
	g_assert_true(imapd_seqset_has(r, 4) && imapd_seqset_has(r, 3) &&
		      !imapd_seqset_has(r, 10));
	g_array_unref(r);
	g_assert_cmpint(imapd_seqset_parse("4294967295", 1, &r), ==, 0);
	g_array_unref(r);
	static const char *const bad[] = { "", "0", "1,", ",1", "1::2", "a",
					   "4294967296", "1:2:3", "-1",
					   "1 2" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(imapd_seqset_parse(bad[i], 5, &r), ==, -EINVAL);
}

static void test_mailbox_names(void)
{
	static const struct {
		const char *wire, *path;
	} cases[] = {
		{ "INBOX", "INBOX" }, { "inbox", "INBOX" },
		{ "Inbox/Sub", "INBOX/Sub" }, { "Archive/2024", "Archive/2024" },
		{ "Archive/", "Archive" }, { "&AOQ-rger", "\xc3\xa4rger" },
		{ "../evil", NULL }, { "/etc", NULL }, { "a/../b", NULL },
		{ "a//b", NULL }, { ".hidden", NULL }, { "a/.b", NULL },
		{ "INBOX/..", NULL }, { "", NULL }, { "&-&-", "&&" },
		{ "&Jjo", NULL }, { "tab\there", NULL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *p = imapd_mailbox_path(cases[i].wire);
		g_test_message("%s", cases[i].wire);
		g_assert_cmpstr(p, ==, cases[i].path);
	}
	g_autofree char *w = imapd_mailbox_name("\xc3\xa4rger/&");
	g_assert_cmpstr(w, ==, "&AOQ-rger/&-");
}

static void test_flags(void)
{
	struct imap_line *l = NULL;
	char *why = NULL;
	uint64_t f = 0;

	const char *list = "(\\Seen \\deleted $Junk \\Recent)\r\n";
	g_assert_cmpint(imap_parse_line(IMAP_PARSE_COMMANDS, &imap_client_limits,
					list, strlen(list), &l, &why), ==, 0);
	g_autoptr(GPtrArray) kw = g_ptr_array_new();
	g_assert_cmpint(imapd_flags_parse(imap_line_arg(l, 0), &f, kw), ==, 0);
	g_assert_cmphex(f, ==, MFS_FLAG_SEEN | MFS_FLAG_TRASHED);
	g_assert_cmpuint(kw->len, ==, 1);
	g_assert_cmpstr(kw->pdata[0], ==, "$Junk");
	imap_line_free(&l);
	g_assert_cmpint(imap_parse_line(IMAP_PARSE_COMMANDS, &imap_client_limits,
					"\\Bogus\r\n", 8, &l, &why), ==, 0);
	g_assert_cmpint(imapd_flags_parse(imap_line_arg(l, 0), &f, kw), ==,
			-EINVAL);
	imap_line_free(&l);
}

static void test_split_addr(void)
{
	static const struct {
		const char *addr, *host, *port;
	} cases[] = {
		{ "127.0.0.1:143", "127.0.0.1", "143" },
		{ "1143", "127.0.0.1", "1143" },
		{ "[::1]:993", "::1", "993" },
		{ "0.0.0.0:25", "0.0.0.0", "25" },
		{ "host:", NULL, NULL }, { ":25", NULL, NULL },
		{ "::1:25", NULL, NULL }, { "", NULL, NULL },
		{ "[::1]", NULL, NULL }, { "abc", NULL, NULL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *h = NULL, *p = NULL;
		int rc = serve_split_addr(cases[i].addr, &h, &p);
		g_test_message("%s", cases[i].addr);
		g_assert_cmpint(rc, ==, cases[i].host ? 0 : -EINVAL);
		g_assert_cmpstr(h, ==, cases[i].host);
		g_assert_cmpstr(p, ==, cases[i].port);
	}
}

static GPtrArray *items_of(const char *const *ids, const int64_t *dates)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_item_free);
	for (int i = 0; ids[i]; i++)
		g_ptr_array_add(a, mfs_item_new(ids[i], 10, dates[i], 0));
	return a;
}

static void test_uids(void)
{
	g_autofree char *root = g_dir_make_tmp("mailfs-uids-XXXXXX", NULL);
	static const char *const first[] = { "c", "a", "b", NULL };
	static const int64_t first_dates[] = { 300, 100, 200 };
	static const char *const second[] = { "b", "d", "c", NULL };
	static const int64_t second_dates[] = { 200, 50, 300 };
	struct serve_uid_info *info = NULL;
	struct serve_uid_state st, st2;

	/* no state yet: only a full reading may start one */
	{
		const char *ids[] = { "x" };
		const uint64_t fl[] = { 0 };
		struct serve_uid_info got[1];
		g_assert_cmpint(serve_uids_note(root, "INBOX", ids, fl, 1, got,
					       &st), ==, -ESTALE);
	}
	g_autoptr(GPtrArray) one = items_of(first, first_dates);
	g_assert_cmpint(serve_uids_assign(root, "INBOX", one, &info, &st), ==, 0);
	/* new ids get UIDs in arrival order */
	g_assert_cmpuint(info[0].uid, ==, 3);
	g_assert_cmpuint(info[1].uid, ==, 1);
	g_assert_cmpuint(info[2].uid, ==, 2);
	g_assert_cmpuint(st.next, ==, 4);
	g_assert_cmpuint(st.highest, ==, 4);
	g_assert_cmpuint(info[0].modseq, ==, 4);
	g_free(info);
	/* read again unchanged: the same answers */
	g_assert_cmpint(serve_uids_assign(root, "INBOX", one, &info, &st2), ==, 0);
	g_assert_cmpuint(st2.highest, ==, st.highest);
	g_assert_cmpuint(info[0].modseq, ==, 4);
	g_free(info);
	/* kept ids keep their UIDs; a gone one is never given again, and its
	 * going raises HIGHESTMODSEQ; a flag change gives a new modseq */
	g_autoptr(GPtrArray) two = items_of(second, second_dates);
	((struct mfs_item *)two->pdata[0])->flags = MFS_FLAG_SEEN;
	g_assert_cmpint(serve_uids_assign(root, "INBOX", two, &info, &st2), ==, 0);
	g_assert_cmpuint(st2.validity, ==, st.validity);
	g_assert_cmpuint(info[0].uid, ==, 2);
	g_assert_cmpuint(info[1].uid, ==, 4);
	g_assert_cmpuint(info[2].uid, ==, 3);
	g_assert_cmpuint(st2.next, ==, 5);
	g_assert_cmpuint(info[0].modseq, >, 4);
	g_assert_cmpuint(info[2].modseq, ==, 4);
	g_assert_cmpuint(st2.highest, ==, 7);
	g_free(info);
	/* what the server did itself is noted without reading the folder:
	 * a new id takes the next UID, a flag change a new modseq, and the
	 * next full reading agrees */
	{
		const char *ids[] = { "e", "b" };
		const uint64_t fl[] = { 0, MFS_FLAG_SEEN | MFS_FLAG_FLAGGED };
		struct serve_uid_info got[2];
		struct serve_uid_state st3;
		g_assert_cmpint(serve_uids_note(root, "INBOX", ids, fl, 2, got,
					       &st3), ==, 0);
		g_assert_cmpuint(got[0].uid, ==, 5);
		g_assert_cmpuint(got[0].modseq, ==, 8);
		g_assert_cmpuint(got[1].uid, ==, 2);
		g_assert_cmpuint(got[1].modseq, ==, 9);
		g_assert_cmpuint(st3.next, ==, 6);
		g_assert_cmpuint(st3.highest, ==, 9);
		static const char *const third[] = { "b", "d", "c", "e", NULL };
		static const int64_t third_dates[] = { 200, 50, 300, 400 };
		g_autoptr(GPtrArray) three = items_of(third, third_dates);
		((struct mfs_item *)three->pdata[0])->flags =
			MFS_FLAG_SEEN | MFS_FLAG_FLAGGED;
		g_assert_cmpint(serve_uids_assign(root, "INBOX", three, &info,
						 &st3), ==, 0);
		g_assert_cmpuint(info[0].modseq, ==, 9);
		g_assert_cmpuint(info[3].uid, ==, 5);
		g_assert_cmpuint(st3.highest, ==, 9);
		g_free(info);
	}
	/* another folder has its own UIDVALIDITY */
	g_assert_cmpint(serve_uids_assign(root, "Other", two, &info, &st2), ==, 0);
	g_assert_cmpuint(st2.validity, !=, st.validity);
	g_assert_cmpuint(info[0].uid, ==, 2);
	g_free(info);
	/* a damaged file starts over with a new UIDVALIDITY */
	g_autofree char *dir = g_build_filename(root, ".mailfs-serve", "uids",
						NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *n;
	while ((n = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(dir, n, NULL);
		if (!g_str_has_suffix(n, ".lock"))
			g_file_set_contents(p, "garbage\n", -1, NULL);
	}
	g_dir_close(d);
	g_assert_cmpint(serve_uids_assign(root, "INBOX", two, &info, &st2), ==, 0);
	g_assert_cmpuint(st2.validity, !=, st.validity);
	g_assert_cmpuint(st2.next, ==, 4);
	g_free(info);
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
	g_assert_cmpint(system(cmd), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/serve/smtp-cmd", test_smtp_cmd);
	g_test_add_func("/serve/pop3-cmd", test_pop3_cmd);
	g_test_add_func("/serve/sasl-plain", test_sasl_plain);
	g_test_add_func("/serve/login-allowances", test_login_allowances);
	g_test_add_func("/serve/ntlm-login", test_ntlm_login);
	g_test_add_func("/serve/split-addr", test_split_addr);
	g_test_add_func("/serve/imap-seqset", test_seqset);
	g_test_add_func("/serve/imap-mailbox-names", test_mailbox_names);
	g_test_add_func("/serve/imap-flags", test_flags);
	g_test_add_func("/serve/imap-uids", test_uids);
	return g_test_run();
}
