/*
 * test-imap-status.c - the IMAP client's reading of a tagged completion
 * (protocols/imap/status.c): each response code of RFC 5530 and RFC 3501
 * section 7.1 as an errno, how far the failure reaches and whether to
 * retry; a NO without a code; OK; BAD; anything else.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "imap/conn.h"
#include "imap/imapc-private.h"
#include "wire/imap-parse.h"

/* The completion line `text` (with its CRLF), as the client reads it.
 * Caller owns the result. */
static struct imap_line *completion(const char *text)
{
	struct imap_parser *p = imap_parser_new(IMAP_PARSE_RESPONSES,
						&imap_client_limits);
	g_autofree char *in = g_strconcat(text, "\r\n", NULL);
	size_t used = 0;

	g_assert_cmpint(imap_parser_feed(p, in, strlen(in), &used), ==,
			IMAP_PARSE_LINE);
	g_assert_cmpuint(used, ==, strlen(in));
	struct imap_line *l = imap_parser_take(p);
	g_assert_nonnull(l);
	imap_parser_free(&p);
	return l;
}

/* What each response code means to a mount, written as RFC 5530 groups
 * them: by outcome, the codes that lead to it. */
static const struct {
	int err;
	enum mfs_err_scope scope;
	enum mfs_err_retry retry;
	const char *codes;		/* space-separated */
} outcomes[] = {
	{ EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL, "AUTHENTICATIONFAILED "
	  "AUTHORIZATIONFAILED EXPIRED PRIVACYREQUIRED CONTACTADMIN" },
	{ EACCES, MFS_ERR_FOLDER, MFS_ERR_FINAL, "NOPERM" },
	{ EAGAIN, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF, "UNAVAILABLE" },
	{ EBUSY, MFS_ERR_FOLDER, MFS_ERR_BACKOFF, "INUSE" },
	{ EIO, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF, "SERVERBUG" },
	{ ENOSPC, MFS_ERR_ITEM, MFS_ERR_FINAL, "LIMIT" },
	{ EDQUOT, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF, "OVERQUOTA" },
	{ ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL, "NONEXISTENT TRYCREATE" },
	{ EEXIST, MFS_ERR_FOLDER, MFS_ERR_FINAL, "ALREADYEXISTS" },
	{ ENOENT, MFS_ERR_ITEM, MFS_ERR_TRANSIENT, "EXPUNGEISSUED" },
	{ EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL, "CANNOT BADCHARSET" },
	{ ENOTEMPTY, MFS_ERR_FOLDER, MFS_ERR_FINAL, "HASCHILDREN" },
	{ EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL, "TOOBIG" },
	{ EIO, MFS_ERR_FOLDER, MFS_ERR_BACKOFF, "CORRUPTION" },
	{ EIO, MFS_ERR_FOLDER, MFS_ERR_FINAL, "UIDNOTSTICKY" },
};

/* One code after NO, as `code` is written; the text follows the code
 * into the message. */
static void check_code(const char *code, int err, enum mfs_err_scope scope,
		       enum mfs_err_retry retry)
{
	g_autofree char *text = g_strdup_printf("A7 NO [%s] it went wrong",
						code);
	g_autofree char *want = g_strdup_printf("[%s] it went wrong", code);
	struct imap_line *l = completion(text);
	struct mfs_error e = { 0 };

	g_test_message("%s", text);
	g_assert_cmpint(imapc_status_to_errno(l, &e), ==, -err);
	g_assert_cmpint(e.scope, ==, scope);
	g_assert_cmpint(e.retry, ==, retry);
	g_assert_cmpstr(e.msg, ==, want);
	/* the same without anyone to tell */
	g_assert_cmpint(imapc_status_to_errno(l, NULL), ==, -err);
	imap_line_free(&l);
}

/* Each code as the server writes it and in lower case (codes are
 * case-insensitive). */
static void test_codes(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(outcomes); i++) {
		g_auto(GStrv) codes = g_strsplit(outcomes[i].codes, " ", -1);

		for (char **c = codes; *c; c++) {
			g_autofree char *lower = g_ascii_strdown(*c, -1);

			check_code(*c, outcomes[i].err, outcomes[i].scope,
				   outcomes[i].retry);
			check_code(lower, outcomes[i].err, outcomes[i].scope,
				   outcomes[i].retry);
		}
	}
}

/* Completions without a known code. */
static void test_other(void)
{
	static const struct {
		const char *line;
		int rc;
		enum mfs_err_scope scope;
		enum mfs_err_retry retry;
		const char *msg;	/* NULL: e is left alone */
	} cases[] = {
		{ "A1 OK done", 0, 0, 0, NULL },
		{ "A1 OK [APPENDUID 38505 3955] APPEND completed", 0, 0, 0,
		  NULL },
		{ "A1 ok lower case", 0, 0, 0, NULL },
		{ "A2 NO no such message", -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL,
		  "no such message" },
		{ "A3 NO [XFOO 1] a code nobody knows", -EIO, MFS_ERR_ITEM,
		  MFS_ERR_FINAL, "a code nobody knows" },
		{ "A4 BAD [PARSE] what was that", -EPROTO, MFS_ERR_ITEM,
		  MFS_ERR_FINAL, "the server did not understand: what was "
		  "that" },
		{ "A5 BAD", -EPROTO, MFS_ERR_ITEM, MFS_ERR_FINAL,
		  "the server did not understand: " },
		{ "A6 PREAUTH odd", -EPROTO, MFS_ERR_ACCOUNT,
		  MFS_ERR_TRANSIENT, "unexpected completion" },
		/* found by the imap-reply fuzz target: a refusal without a
		 * word must still say something */
		{ "A7 NO", -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL,
		  "the server refused without saying why" },
		{ "A8 NO [XFOO]", -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL,
		  "the server refused without saying why" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct imap_line *l = completion(cases[i].line);
		struct mfs_error e = { .scope = MFS_ERR_ACCOUNT,
				       .retry = MFS_ERR_BACKOFF,
				       .msg = "untouched" };

		g_test_message("%s", cases[i].line);
		g_assert_cmpint(imapc_status_to_errno(l, &e), ==,
				cases[i].rc);
		if (!cases[i].msg) {
			g_assert_cmpstr(e.msg, ==, "untouched");
			g_assert_cmpint(e.scope, ==, MFS_ERR_ACCOUNT);
			g_assert_cmpint(e.retry, ==, MFS_ERR_BACKOFF);
		} else {
			g_assert_cmpint(e.scope, ==, cases[i].scope);
			g_assert_cmpint(e.retry, ==, cases[i].retry);
			g_assert_cmpstr(e.msg, ==, cases[i].msg);
		}
		imap_line_free(&l);
	}
}

/* No line at all (a connection that ended first) is no success. */
static void test_no_line(void)
{
	struct mfs_error e = { 0 };

	g_assert_cmpint(imapc_status_to_errno(NULL, &e), ==, -EPROTO);
	g_assert_cmpint(e.scope, ==, MFS_ERR_ACCOUNT);
	g_assert_cmpint(e.retry, ==, MFS_ERR_TRANSIENT);
}

/* uid-sets of APPENDUID and COPYUID: UIDs are 32-bit numbers (RFC 3501
 * nz-number); found by the imap-reply fuzz target, a set naming
 * 18446744073709551615 (or a number past it) went round forever. */
static void test_uid_set(void)
{
	static const struct {
		const char *set;
		bool ok;
		const char *uids;
	} cases[] = {
		{ "1:3,7", true, "1 2 3 7" },
		{ "5:3", true, "3 4 5" },
		{ "4294967295", true, "4294967295" },
		{ "4294967294:4294967295", true, "4294967294 4294967295" },
		{ "4294967296", false, NULL },
		{ "1:4294967296", false, NULL },
		{ "18446744073709551615", false, NULL },
		{ "18446744073709551614:18446744073709551615", false, NULL },
		{ "222222222222222222222222222222", false, NULL },
		{ "0", false, NULL },
		{ "1:200", false, NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
		GString *got = g_string_new(NULL);

		g_test_message("%s", cases[i].set);
		g_assert_cmpint(imapc_uid_set_expand(cases[i].set, 100, uids), ==,
				cases[i].ok);
		g_assert_cmpuint(uids->len, <=, 100);
		for (guint j = 0; cases[i].ok && j < uids->len; j++)
			g_string_append_printf(got, "%s%" G_GUINT64_FORMAT,
					       j ? " " : "",
					       g_array_index(uids, uint64_t, j));
		if (cases[i].ok)
			g_assert_cmpstr(got->str, ==, cases[i].uids);
		g_string_free(got, TRUE);
		g_array_unref(uids);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap-status/codes", test_codes);
	g_test_add_func("/imap-status/other", test_other);
	g_test_add_func("/imap-status/no-line", test_no_line);
	g_test_add_func("/imap-status/uid-set", test_uid_set);
	return g_test_run();
}
