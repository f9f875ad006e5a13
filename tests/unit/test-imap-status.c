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

static const struct {
	const char *code;
	int err;
	enum mfs_err_scope scope;
	enum mfs_err_retry retry;
} codes[] = {
	{ "AUTHENTICATIONFAILED", EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "AUTHORIZATIONFAILED", EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "EXPIRED", EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "PRIVACYREQUIRED", EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "CONTACTADMIN", EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "NOPERM", EACCES, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "UNAVAILABLE", EAGAIN, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF },
	{ "INUSE", EBUSY, MFS_ERR_FOLDER, MFS_ERR_BACKOFF },
	{ "SERVERBUG", EIO, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF },
	{ "LIMIT", ENOSPC, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "OVERQUOTA", EDQUOT, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF },
	{ "NONEXISTENT", ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "TRYCREATE", ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "ALREADYEXISTS", EEXIST, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "EXPUNGEISSUED", ENOENT, MFS_ERR_ITEM, MFS_ERR_TRANSIENT },
	{ "CANNOT", EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "HASCHILDREN", ENOTEMPTY, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "TOOBIG", EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "BADCHARSET", EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "CORRUPTION", EIO, MFS_ERR_FOLDER, MFS_ERR_BACKOFF },
	{ "UIDNOTSTICKY", EIO, MFS_ERR_FOLDER, MFS_ERR_FINAL },
};

/* Each code after NO, as the server writes it and in lower case (codes
 * are case-insensitive); the text follows the code into the message. */
static void test_codes(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(codes); i++) {
		for (int lower = 0; lower < 2; lower++) {
			g_autofree char *code = lower
				? g_ascii_strdown(codes[i].code, -1)
				: g_strdup(codes[i].code);
			g_autofree char *text = g_strdup_printf(
				"A7 NO [%s] it went wrong", code);
			g_autofree char *want = g_strdup_printf(
				"[%s] it went wrong", code);
			struct imap_line *l = completion(text);
			struct mfs_error e = { 0 };

			g_test_message("%s", text);
			g_assert_cmpint(imapc_status_to_errno(l, &e), ==,
					-codes[i].err);
			g_assert_cmpint(e.scope, ==, codes[i].scope);
			g_assert_cmpint(e.retry, ==, codes[i].retry);
			g_assert_cmpstr(e.msg, ==, want);
			/* the same without anyone to tell */
			g_assert_cmpint(imapc_status_to_errno(l, NULL), ==,
					-codes[i].err);
			imap_line_free(&l);
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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap-status/codes", test_codes);
	g_test_add_func("/imap-status/other", test_other);
	g_test_add_func("/imap-status/no-line", test_no_line);
	return g_test_run();
}
