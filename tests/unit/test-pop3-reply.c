/*
 * test-pop3-reply.c - the POP3 client's reply parser
 * (protocols/wire/pop3-reply.h), its status table, and the UIDL and Date:
 * helpers of the client (protocols/pop3/ids.c).
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "pop3/pop3c-private.h"
#include "wire/pop3-reply.h"

/* Feed `in` in pieces of `step` bytes (0: all at once). */
static enum pop3_feed feed_steps(struct pop3_reply *r, const char *in,
				 size_t len, size_t step, size_t *used_r)
{
	size_t pos = 0;
	enum pop3_feed st = POP3_FEED_MORE;

	while (pos < len && st == POP3_FEED_MORE) {
		size_t n = step ? MIN(step, len - pos) : len - pos, used = 0;
		st = pop3_reply_feed(r, in + pos, n, &used);
		g_assert_cmpuint(used, <=, n);
		if (st == POP3_FEED_MORE)
			g_assert_cmpuint(used, ==, n);
		pos += used;
	}
	*used_r = pos;
	return st;
}

static const struct {
	const char *in;
	bool multi;
	enum pop3_feed result;
	enum pop3_status status;
	const char *text;
	const char *code;
	const char *body;
	size_t rest;		/* bytes left for the next reply */
} cases[] = {
	{ "+OK hello\r\n", false, POP3_FEED_DONE, POP3_ST_OK, "hello", NULL,
	  "", 0 },
	{ "+OK\r\n", false, POP3_FEED_DONE, POP3_ST_OK, "", NULL, "", 0 },
	{ "+OK bare LF\n", false, POP3_FEED_DONE, POP3_ST_OK, "bare LF", NULL,
	  "", 0 },
	{ "-ERR [IN-USE] locked by another session\r\n", true,
	  POP3_FEED_DONE, POP3_ST_ERR, "locked by another session", "IN-USE",
	  "", 0 },
	{ "-ERR [SYS/TEMP] try later\r\n", false, POP3_FEED_DONE,
	  POP3_ST_ERR, "try later", "SYS/TEMP", "", 0 },
	{ "-ERR no such message\r\n", false, POP3_FEED_DONE, POP3_ST_ERR,
	  "no such message", NULL, "", 0 },
	{ "-ERR [] empty\r\n", false, POP3_FEED_DONE, POP3_ST_ERR, "[] empty",
	  NULL, "", 0 },
	{ "+ \r\n", false, POP3_FEED_DONE, POP3_ST_CONT, "", NULL, "", 0 },
	{ "+OK 2 messages\r\n1 abc\r\n2 d/e:f\r\n.\r\n", true,
	  POP3_FEED_DONE, POP3_ST_OK, "2 messages", NULL,
	  "1 abc\r\n2 d/e:f\r\n", 0 },
	/* dot-unstuffing; a "." inside a line stays */
	{ "+OK\r\n..hidden\r\n...\r\na.b\r\n.\r\n", true, POP3_FEED_DONE,
	  POP3_ST_OK, "", NULL, ".hidden\r\n..\r\na.b\r\n", 0 },
	/* empty lines and bare LFs are the content's own */
	{ "+OK\r\n\r\nx\ny\r\n.\n", true, POP3_FEED_DONE, POP3_ST_OK, "",
	  NULL, "\r\nx\ny\r\n", 0 },
	{ "+OK\r\n.\r\n+OK next\r\n", true, POP3_FEED_DONE, POP3_ST_OK, "",
	  NULL, "", 10 },
	{ "+OK one\r\n+OK two\r\n", false, POP3_FEED_DONE, POP3_ST_OK, "one",
	  NULL, "", 9 },
	/* control characters are not shown as they are */
	{ "-ERR bad\x1b[0m\x9b\r\n", false, POP3_FEED_DONE, POP3_ST_ERR,
	  "bad\\x1b[0m\\x9b", NULL, "", 0 },
	{ "* OK imap\r\n", false, POP3_FEED_ERROR, POP3_ST_NONE, "", NULL,
	  "", 0 },
	{ "+OKAY\r\n", false, POP3_FEED_ERROR, POP3_ST_NONE, "", NULL, "",
	  0 },
	{ "+OK\r\nunfinished\r\n", true, POP3_FEED_MORE, POP3_ST_OK, "",
	  NULL, "unfinished\r\n", 0 },
};

static void test_cases(void)
{
	static const size_t steps[] = { 0, 1, 2, 3, 7 };

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		for (size_t s = 0; s < G_N_ELEMENTS(steps); s++) {
			struct pop3_reply *r = pop3_reply_new();
			size_t len = strlen(cases[i].in), used, blen;

			g_test_message("case %zu step %zu", i, steps[s]);
			pop3_reply_begin(r, cases[i].multi, 0, 1 << 20);
			enum pop3_feed st = feed_steps(r, cases[i].in, len,
						       steps[s], &used);
			g_assert_cmpint(st, ==, cases[i].result);
			if (st == POP3_FEED_ERROR) {
				g_assert_cmpstr(pop3_reply_error(r), !=, "");
				pop3_reply_free(&r);
				continue;
			}
			g_assert_cmpint(pop3_reply_status(r), ==,
					cases[i].status);
			if (st == POP3_FEED_DONE) {
				g_assert_cmpuint(len - used, ==,
						 cases[i].rest);
				g_assert_cmpstr(pop3_reply_text(r), ==,
						cases[i].text);
				g_assert_cmpstr(pop3_reply_code(r), ==,
						cases[i].code);
				g_assert_false(pop3_reply_partial(r));
			} else {
				g_assert_true(pop3_reply_partial(r));
				g_assert_true(pop3_reply_in_body(r));
			}
			const char *body = pop3_reply_body(r, &blen);
			g_assert_cmpmem(body, blen, cases[i].body,
					strlen(cases[i].body));
			pop3_reply_free(&r);
		}
	}
}

static void test_limits(void)
{
	struct pop3_reply *r = pop3_reply_new();
	g_autofree char *longline = g_strnfill(5000, 'x');
	size_t used;

	/* an endless status line ends at the limit */
	pop3_reply_begin(r, false, 100, 0);
	g_assert_cmpint(pop3_reply_feed(r, "+OK ", 4, &used), ==,
			POP3_FEED_MORE);
	g_assert_cmpint(pop3_reply_feed(r, longline, 5000, &used), ==,
			POP3_FEED_ERROR);
	g_assert_nonnull(strstr(pop3_reply_error(r), "line"));
	/* and stays broken */
	g_assert_cmpint(pop3_reply_feed(r, "\r\n", 2, &used), ==,
			POP3_FEED_ERROR);

	/* a body longer than allowed */
	pop3_reply_begin(r, true, 1000, 10);
	g_assert_cmpint(pop3_reply_feed(r, "+OK\r\n0123456789\r\n.\r\n", 20,
					&used), ==, POP3_FEED_ERROR);
	g_assert_nonnull(strstr(pop3_reply_error(r), "body"));

	/* exactly at the limit is fine */
	pop3_reply_begin(r, true, 1000, 12);
	g_assert_cmpint(pop3_reply_feed(r, "+OK\r\n0123456789\r\n.\r\n", 20,
					&used), ==, POP3_FEED_DONE);

	/* one byte at a time through a long body line */
	pop3_reply_begin(r, true, 64, 1 << 20);
	g_assert_cmpint(pop3_reply_feed(r, "+OK\r\n", 5, &used), ==,
			POP3_FEED_MORE);
	enum pop3_feed st = POP3_FEED_MORE;
	for (int i = 0; i < 100 && st == POP3_FEED_MORE; i++)
		st = pop3_reply_feed(r, "y", 1, &used);
	g_assert_cmpint(st, ==, POP3_FEED_ERROR);

	/* bytes where no reply was asked for */
	pop3_reply_free(&r);
	r = pop3_reply_new();
	g_assert_cmpint(pop3_reply_feed(r, "+OK\r\n", 5, &used), ==,
			POP3_FEED_ERROR);
	pop3_reply_free(&r);
}

static void test_steal(void)
{
	struct pop3_reply *r = pop3_reply_new();
	size_t used, len;

	pop3_reply_begin(r, true, 0, 100);
	g_assert_cmpint(pop3_reply_feed(r, "+OK\r\nab\r\n.\r\n", 12, &used),
			==, POP3_FEED_DONE);
	g_autofree char *b = pop3_reply_steal_body(r, &len);
	g_assert_cmpmem(b, len, "ab\r\n", 4);
	pop3_reply_body(r, &len);
	g_assert_cmpuint(len, ==, 0);
	pop3_reply_free(&r);
	pop3_reply_free(&r);	/* cleared: harmless */
}

static void test_to_errno(void)
{
	static const struct {
		const char *line;
		int rc;
		enum mfs_err_scope scope;
		enum mfs_err_retry retry;
	} map[] = {
		{ "+OK\r\n", 0, 0, 0 },
		{ "-ERR [IN-USE] busy\r\n", -EBUSY, MFS_ERR_ACCOUNT,
		  MFS_ERR_BACKOFF },
		{ "-ERR [SYS/TEMP] later\r\n", -EAGAIN, MFS_ERR_ACCOUNT,
		  MFS_ERR_BACKOFF },
		{ "-ERR [LOGIN-DELAY] wait\r\n", -EAGAIN, MFS_ERR_ACCOUNT,
		  MFS_ERR_BACKOFF },
		{ "-ERR [SYS/PERM] gone\r\n", -EIO, MFS_ERR_ACCOUNT,
		  MFS_ERR_FINAL },
		{ "-ERR [AUTH] wrong\r\n", -EACCES, MFS_ERR_ACCOUNT,
		  MFS_ERR_FINAL },
		{ "-ERR [auth/x] lower case\r\n", -EACCES, MFS_ERR_ACCOUNT,
		  MFS_ERR_FINAL },
		{ "-ERR [AUTHX] not a code of ours\r\n", -EIO, MFS_ERR_ITEM,
		  MFS_ERR_FINAL },
		{ "-ERR no such message\r\n", -EIO, MFS_ERR_ITEM,
		  MFS_ERR_FINAL },
		{ "+ \r\n", -EPROTO, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
		struct pop3_reply *r = pop3_reply_new();
		struct mfs_error e = { 0 };
		size_t used;

		pop3_reply_begin(r, false, 0, 0);
		g_assert_cmpint(pop3_reply_feed(r, map[i].line,
						strlen(map[i].line), &used),
				==, POP3_FEED_DONE);
		g_assert_cmpint(pop3c_status_to_errno(r, &e), ==, map[i].rc);
		if (map[i].rc) {
			g_assert_cmpint(e.scope, ==, map[i].scope);
			g_assert_cmpint(e.retry, ==, map[i].retry);
			g_assert_cmpstr(e.msg, !=, "");
		}
		g_assert_cmpint(pop3c_status_to_errno(r, NULL), ==, map[i].rc);
		pop3_reply_free(&r);
	}
}

static void test_ids(void)
{
	static const struct {
		const char *uidl;
		const char *id;
	} ids[] = {
		{ "00000001512c3a1b", "00000001512c3a1b" },
		{ "a/b", "a%2Fb" },
		{ "x:2,S", "x%3A2,S" },
		{ "50%", "50%25" },
		{ "%41", "%2541" },
		{ ".hidden", "%2Ehidden" },
		{ "a.b", "a.b" },
		{ "~!\"#$&'()*+,-.;<=>?@[\\]^_`{|}", 
		  "~!\"#$&'()*+,-.;<=>?@[\\]^_`{|}" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
		g_autofree char *id = pop3c_id_from_uidl(ids[i].uidl);
		g_autofree char *back = NULL;
		g_assert_cmpstr(id, ==, ids[i].id);
		g_assert_null(strchr(id, '/'));
		g_assert_null(strchr(id, ':'));
		g_assert_cmpint(id[0], !=, '.');
		g_assert_cmpint(pop3c_uidl_from_id(id, &back), ==, 0);
		g_assert_cmpstr(back, ==, ids[i].uidl);
	}
	static const char *const bad[] = { "", "a%2fb", "%41", "%4", "%",
					   "%2", "a b", "%2E%2E", "x%00" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *back = NULL;
		g_test_message("bad id '%s'", bad[i]);
		g_assert_cmpint(pop3c_uidl_from_id(bad[i], &back), ==, -EINVAL);
		g_assert_null(back);
	}
	g_assert_true(pop3c_uidl_valid("!", 1));
	g_assert_false(pop3c_uidl_valid("a b", 3));
	g_assert_false(pop3c_uidl_valid("", 0));
	g_autofree char *seventy = g_strnfill(70, 'u');
	g_autofree char *seventyone = g_strnfill(71, 'u');
	g_assert_true(pop3c_uidl_valid(seventy, 70));
	g_assert_false(pop3c_uidl_valid(seventyone, 71));
}

static void test_dates(void)
{
	static const struct {
		const char *in;
		int64_t t;
	} dates[] = {
		{ "Mon, 01 Jan 2024 00:00:00 +0000", 1704067200 },
		{ "Mon, 01 Jan 2024 00:00:00 -0000", 1704067200 },
		{ "1 Jan 2024 01:30:00 +0130", 1704067200 },
		{ "Sun, 31 Dec 2023 19:00:00 EST", 1704067200 },
		{ "Mon (day), 01 Jan 2024 00:00 GMT (comment)", 1704067200 },
		{ "Fri, 13 Feb 09 23:31:30 +0000", 1234567890 },
		{ "  Fri,13 Feb 2009 23:31:30 +0000", 1234567890 },
		{ "not a date", 0 },
		{ "Mon, 32 Jan 2024 00:00:00 +0000", 0 },
		{ "Mon, 01 Foo 2024 00:00:00 +0000", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(dates); i++) {
		g_test_message("date '%s'", dates[i].in);
		g_assert_cmpint(pop3c_parse_date(dates[i].in), ==, dates[i].t);
	}
	static const char head[] = "Subject: x\r\nDate: Mon, 01 Jan 2024 "
				   "00:00:00 +0000\r\n\r\nbody\r\n";
	g_assert_cmpint(pop3c_header_date(head, sizeof(head) - 1), ==,
			1704067200);
	/* none: the time first seen */
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	g_assert_cmpint(pop3c_header_date("X: y\r\n\r\n", 8), >=, now);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pop3-reply/cases", test_cases);
	g_test_add_func("/pop3-reply/limits", test_limits);
	g_test_add_func("/pop3-reply/steal", test_steal);
	g_test_add_func("/pop3-reply/to-errno", test_to_errno);
	g_test_add_func("/pop3-client/ids", test_ids);
	g_test_add_func("/pop3-client/dates", test_dates);
	return g_test_run();
}
