/*
 * test-imap-parse.c - the IMAP line parser: framing, tokens, limits, and the
 * same results when bytes arrive one at a time.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "wire/imap-parse.h"

static const struct imap_limits small = {
	.max_line = 200,
	.max_literal = 1000,
	.max_total = 4000,
	.max_depth = 8,
	.max_literals = 16,
	.max_spills = 2,
};

/* Feed `in` in pieces of `step` bytes; collect every line as a rendering. */
static GPtrArray *feed_all(enum imap_parse_mode mode,
			   const struct imap_limits *lim, const char *in,
			   size_t len, size_t step, int *conts_r, char **err_r);

static void render_arg(GString *out, const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
		g_string_append_printf(out, "A:%s", a->str);
		break;
	case IMAP_ARG_STRING:
		g_string_append_printf(out, "S:%s", a->str);
		break;
	case IMAP_ARG_LITERAL:
		g_string_append_printf(out, "L%zu:", a->len);
		for (size_t i = 0; i < a->len; i++)
			g_string_append_c(out, a->str[i] ? a->str[i] : '0');
		break;
	case IMAP_ARG_NIL:
		g_string_append(out, "NIL");
		break;
	case IMAP_ARG_TEXT:
		g_string_append_printf(out, "T:%s", a->str);
		break;
	case IMAP_ARG_LIST:
	case IMAP_ARG_CODE:
		g_string_append_c(out, a->type == IMAP_ARG_LIST ? '(' : '[');
		for (guint i = 0; i < a->list->len; i++) {
			if (i)
				g_string_append_c(out, ' ');
			render_arg(out, a->list->pdata[i]);
		}
		g_string_append_c(out, a->type == IMAP_ARG_LIST ? ')' : ']');
		break;
	}
}

static char *render(const struct imap_line *l)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < l->args->len; i++) {
		if (i)
			g_string_append_c(out, ' ');
		render_arg(out, l->args->pdata[i]);
	}
	return g_string_free(out, FALSE);
}

static GPtrArray *feed_all(enum imap_parse_mode mode,
			   const struct imap_limits *lim, const char *in,
			   size_t len, size_t step, int *conts_r, char **err_r)
{
	struct imap_parser *p = imap_parser_new(mode, lim);
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	size_t off = 0;
	int conts = 0;

	*err_r = NULL;
	while (off < len) {
		size_t n = MIN(step, len - off), used = 0;
		enum imap_parse_status st = imap_parser_feed(p, in + off, n,
							     &used);
		g_assert_cmpuint(used, <=, n);
		off += used;
		if (st == IMAP_PARSE_ERROR) {
			*err_r = g_strdup(imap_parser_error(p));
			break;
		}
		if (st == IMAP_PARSE_LINE) {
			struct imap_line *l = imap_parser_take(p);
			g_ptr_array_add(lines, render(l));
			imap_line_free(&l);
		} else if (st == IMAP_PARSE_CONTINUE) {
			conts++;
		} else {
			g_assert_cmpuint(used, ==, n);
		}
	}
	if (conts_r)
		*conts_r = conts;
	imap_parser_free(&p);
	return lines;
}

struct ok_case {
	const char *in;
	const char *out;
};

static const struct ok_case responses[] = {
	{ "* OK [CAPABILITY IMAP4rev1 LITERAL+] Dovecot ready.\r\n",
	  "A:* A:OK [A:CAPABILITY A:IMAP4rev1 A:LITERAL+] T:Dovecot ready." },
	{ "a1 OK\r\n", "A:a1 A:OK T:" },
	{ "+ \r\n", "A:+ T:" },
	{ "+\r\n", "A:+ T:" },
	{ "+ dGVzdA==\r\n", "A:+ T:dGVzdA==" },
	{ "* 3 EXISTS\r\n", "A:* A:3 A:EXISTS" },
	{ "* FLAGS (\\Answered \\Flagged $Forwarded)\r\n",
	  "A:* A:FLAGS (A:\\Answered A:\\Flagged A:$Forwarded)" },
	{ "* OK [PERMANENTFLAGS (\\Seen \\*)] Flags permitted.\r\n",
	  "A:* A:OK [A:PERMANENTFLAGS (A:\\Seen A:\\*)] T:Flags permitted." },
	{ "* LIST (\\HasNoChildren) \"/\" \"Sent Items\"\r\n",
	  "A:* A:LIST (A:\\HasNoChildren) S:/ S:Sent Items" },
	{ "* LIST () NIL INBOX\r\n", "A:* A:LIST () NIL A:INBOX" },
	{ "* 1 FETCH (UID 7 RFC822.SIZE 5 BODY[] {5}\r\nab\r\nc)\r\n",
	  "A:* A:1 A:FETCH (A:UID A:7 A:RFC822.SIZE A:5 A:BODY[] L5:ab\r\nc)" },
	{ "* 2 FETCH (BODY[HEADER.FIELDS (FROM TO)] {0}\r\n)\r\n",
	  "A:* A:2 A:FETCH (A:BODY[HEADER.FIELDS (FROM TO)] L0:)" },
	{ "* 2 FETCH (BINARY[1] ~{3}\r\na\0b)\r\n",
	  "A:* A:2 A:FETCH (A:BINARY[1] L3:a0b)" },
	{ "* LIST () \"/\" {3}\r\na\"b\r\n", "A:* A:LIST () S:/ L3:a\"b" },
	{ "* LIST () \"/\" \"q\\\"uo\\\\te\"\r\n",
	  "A:* A:LIST () S:/ S:q\"uo\\te" },
	{ "* BYE shutting down {5}\r\n", "A:* A:BYE T:shutting down {5}" },
	{ "* NO [ALERT] unbalanced ( in text\r\n",
	  "A:* A:NO [A:ALERT] T:unbalanced ( in text" },
	{ "a2 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
	  "A:a2 A:OK [A:COPYUID A:38505 A:304,319:320 A:3956:3958] T:Done" },
	{ "* VANISHED (EARLIER) 41,43:116\n",
	  "A:* A:VANISHED (A:EARLIER) A:41,43:116" },
	{ "* 5 FETCH (FLAGS () INTERNALDATE \"17-Jul-1996 02:44:25 -0700\")\r\n",
	  "A:* A:5 A:FETCH (A:FLAGS () A:INTERNALDATE S:17-Jul-1996 02:44:25 -0700)" },
};

static void test_responses(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(responses); i++) {
		size_t len = strlen(responses[i].in);
		/* the NUL inside a literal8 case */
		if (strstr(responses[i].in, "~{3}"))
			len = 33;
		for (size_t step = 1; step <= len; step = step * 2 + 1) {
			char *err;
			GPtrArray *lines = feed_all(IMAP_PARSE_RESPONSES,
						    &imap_client_limits,
						    responses[i].in, len, step,
						    NULL, &err);
			g_assert_null(err);
			g_assert_cmpuint(lines->len, ==, 1);
			g_assert_cmpstr(lines->pdata[0], ==, responses[i].out);
			g_ptr_array_unref(lines);
		}
	}
}

static void test_pipelined_lines(void)
{
	const char *in = "* 1 EXISTS\r\n* 1 FETCH (BODY[] {3}\r\nxyz)\r\n"
			 "a1 OK done\r\n";
	for (size_t step = 1; step <= strlen(in); step++) {
		char *err;
		GPtrArray *lines = feed_all(IMAP_PARSE_RESPONSES,
					    &imap_client_limits, in,
					    strlen(in), step, NULL, &err);
		g_assert_null(err);
		g_assert_cmpuint(lines->len, ==, 3);
		g_assert_cmpstr(lines->pdata[1], ==,
				"A:* A:1 A:FETCH (A:BODY[] L3:xyz)");
		g_assert_cmpstr(lines->pdata[2], ==, "A:a1 A:OK T:done");
		g_ptr_array_unref(lines);
	}
}

static void test_commands(void)
{
	const char *in = "a1 LOGIN {5}\r\nalice {6+}\r\nsecret\r\n"
			 "a2 APPEND INBOX (\\Seen) {4}\r\nabcd\r\n";
	for (size_t step = 1; step <= strlen(in); step++) {
		char *err;
		int conts;
		GPtrArray *lines = feed_all(IMAP_PARSE_COMMANDS,
					    &imap_client_limits, in,
					    strlen(in), step, &conts, &err);
		g_assert_null(err);
		/* {5} and {4} wait for "+"; {6+} does not */
		g_assert_cmpint(conts, ==, 2);
		g_assert_cmpuint(lines->len, ==, 2);
		g_assert_cmpstr(lines->pdata[0], ==,
				"A:a1 A:LOGIN L5:alice L6:secret");
		g_assert_cmpstr(lines->pdata[1], ==,
				"A:a2 A:APPEND A:INBOX (A:\\Seen) L4:abcd");
		g_ptr_array_unref(lines);
	}
}

struct bad_case {
	enum imap_parse_mode mode;
	const char *in;
	const char *why;	/* a part of the error message */
};

static const struct bad_case bad[] = {
	{ IMAP_PARSE_RESPONSES, "* 1 FETCH (BODY[] {9223372036854775807}\r\n",
	  "over the limit" },
	{ IMAP_PARSE_RESPONSES, "* 1 FETCH (BODY[] {99999999999999999999999}\r\n",
	  "malformed literal" },
	{ IMAP_PARSE_RESPONSES, "* 1 FETCH (UID 1))\r\n", "unbalanced" },
	{ IMAP_PARSE_RESPONSES, "* 1 FETCH (UID 1\r\n", "missing ')'" },
	{ IMAP_PARSE_RESPONSES, "* LIST () \"/\" \"abc\r\n", "quoted" },
	{ IMAP_PARSE_RESPONSES, "\r\n", "empty" },
	{ IMAP_PARSE_RESPONSES, "*\r\n", "more than a tag" },
	{ IMAP_PARSE_RESPONSES, "* OK [ALERT text\r\n", "missing ']'" },
	{ IMAP_PARSE_RESPONSES, "* X BODY[1 x\r\n", "unbalanced '['" },
	{ IMAP_PARSE_COMMANDS, "a1 LOGIN {1001}\r\n", "over the limit" },
};

static void test_bad(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *err;
		GPtrArray *lines = feed_all(bad[i].mode, &small, bad[i].in,
					    strlen(bad[i].in), 1, NULL, &err);
		g_assert_nonnull(err);
		if (!strstr(err, bad[i].why))
			g_error("case %zu: '%s' does not say '%s'", i, err,
				bad[i].why);
		g_assert_cmpuint(lines->len, ==, 0);
		g_free(err);
		g_ptr_array_unref(lines);
	}
}

static void test_limits(void)
{
	GString *deep = g_string_new("* X ");
	char *err;
	GPtrArray *lines;

	/* 10,000 levels of nesting: refused at the limit, no deep recursion */
	for (int i = 0; i < 10000; i++)
		g_string_append_c(deep, '(');
	for (int i = 0; i < 10000; i++)
		g_string_append_c(deep, ')');
	g_string_append(deep, "\r\n");
	struct imap_limits lim = small;
	lim.max_line = deep->len;
	lim.max_total = deep->len * 2;
	lines = feed_all(IMAP_PARSE_RESPONSES, &lim, deep->str, deep->len,
			 4096, NULL, &err);
	g_assert_nonnull(err);
	g_assert_nonnull(strstr(err, "nested deeper"));
	g_free(err);
	g_ptr_array_unref(lines);
	g_string_free(deep, TRUE);

	/* an endless line fails once it passes max_line, not at its end */
	struct imap_parser *p = imap_parser_new(IMAP_PARSE_RESPONSES, &small);
	char chunk[64];
	size_t used;
	enum imap_parse_status st = IMAP_PARSE_NEED_MORE;
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 100 && st == IMAP_PARSE_NEED_MORE; i++)
		st = imap_parser_feed(p, chunk, sizeof(chunk), &used);
	g_assert_cmpint(st, ==, IMAP_PARSE_ERROR);
	g_assert_cmpuint(imap_parser_pending(p), <=, small.max_line + 2);
	/* and stays failed until reset */
	g_assert_cmpint(imap_parser_feed(p, "a OK\r\n", 6, &used), ==,
			IMAP_PARSE_ERROR);
	imap_parser_reset(p);
	g_assert_cmpint(imap_parser_feed(p, "a OK\r\n", 6, &used), ==,
			IMAP_PARSE_LINE);
	imap_parser_free(&p);
}

static void test_helpers(void)
{
	struct imap_line *l;
	char *why = NULL;
	uint64_t n;
	const char *in = "* 12 FETCH (UID 18446744073709551615 X 18446744073709551616)\r\n";

	g_assert_cmpint(imap_parse_line(IMAP_PARSE_RESPONSES,
					&imap_client_limits, in, strlen(in),
					&l, &why), ==, 0);
	g_assert_true(imap_arg_number(imap_line_arg(l, 1), &n));
	g_assert_cmpuint(n, ==, 12);
	g_assert_true(imap_arg_is(imap_line_arg(l, 2), "fetch"));
	GPtrArray *list = imap_arg_list(imap_line_arg(l, 3));
	g_assert_nonnull(list);
	g_assert_true(imap_arg_number(list->pdata[1], &n));
	g_assert_cmpuint(n, ==, UINT64_MAX);
	g_assert_false(imap_arg_number(list->pdata[3], &n));
	g_assert_null(imap_line_arg(l, 4));
	g_assert_false(imap_arg_is(NULL, "X"));
	imap_line_free(&l);
}

/* A literal above the threshold goes to a file, not memory, and comes back
 * whole whichever way the bytes arrived. */
static void test_spill(void)
{
	GString *in = g_string_new("* 1 FETCH (UID 9 BODY[] {5000}\r\n");
	const size_t head = in->len;
	for (int i = 0; i < 5000; i++)
		g_string_append_c(in, (char)('a' + i % 26));
	g_string_append(in, " FLAGS (\\Seen))\r\n");

	for (size_t step = 1; step <= 4096; step *= 8) {
		struct imap_parser *p = imap_parser_new(IMAP_PARSE_RESPONSES,
							&imap_client_limits);
		struct imap_line *l = NULL;
		size_t off = 0;

		imap_parser_set_spill(p, 1000, g_get_tmp_dir());
		while (off < in->len && !l) {
			size_t used;
			enum imap_parse_status st = imap_parser_feed(
				p, in->str + off, MIN(step, in->len - off), &used);
			g_assert_cmpint(st, !=, IMAP_PARSE_ERROR);
			off += used;
			if (st == IMAP_PARSE_LINE)
				l = imap_parser_take(p);
		}
		g_assert_nonnull(l);
		/* only the line, not the literal, was kept in memory */
		GPtrArray *fl = imap_arg_list(imap_line_arg(l, 3));
		struct imap_arg *body = fl->pdata[3];
		g_assert_cmpint(body->type, ==, IMAP_ARG_LITERAL);
		g_assert_null(body->str);
		g_assert_false(imap_arg_is_string(body));
		g_assert_cmpuint(body->len, ==, 5000);
		g_assert_cmpint(body->fd, >=, 0);
		char buf[5001];
		g_assert_cmpint(pread(body->fd, buf, sizeof(buf), 0), ==, 5000);
		g_assert_true(memcmp(buf, in->str + head, 5000) == 0);
		g_assert_true(imap_arg_is(fl->pdata[4], "FLAGS"));
		imap_line_free(&l);
		imap_parser_free(&p);
	}
	g_string_free(in, TRUE);
}

/* Feed `in` in pieces of `step` bytes until a line, a "+" to send or an
 * error; the bytes taken in *off_r. */
static enum imap_parse_status feed_until(struct imap_parser *p, const char *in,
					 size_t len, size_t step, size_t *off_r)
{
	enum imap_parse_status st = IMAP_PARSE_NEED_MORE;

	*off_r = 0;
	while (*off_r < len) {
		size_t used = 0;
		st = imap_parser_feed(p, in + *off_r, MIN(step, len - *off_r),
				      &used);
		*off_r += used;
		if (st != IMAP_PARSE_NEED_MORE)
			break;
	}
	return st;
}

static size_t open_fds(void)
{
	GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
	size_t n = 0;

	g_assert_nonnull(d);
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

/* How many literals one line may carry is bounded, as commands and as
 * responses; the line is refused at the announcement of the one too
 * many. */
static void test_literal_count(void)
{
	struct imap_limits lim = small;
	GString *in = g_string_new("a1 SEARCH");

	lim.max_literals = 3;
	for (int i = 0; i < 3; i++)
		g_string_append(in, " TEXT {1+}\r\nx");
	g_string_append(in, "\r\n");
	for (size_t step = 1; step <= in->len; step += in->len - 1) {
		struct imap_parser *p = imap_parser_new(IMAP_PARSE_COMMANDS,
							&lim);
		size_t off;
		g_assert_cmpint(feed_until(p, in->str, in->len, step, &off), ==,
				IMAP_PARSE_LINE);
		struct imap_line *l = imap_parser_take(p);
		g_assert_cmpuint(l->args->len, ==, 8);
		imap_line_free(&l);
		imap_parser_free(&p);
	}

	/* one more: refused as soon as the fourth is announced */
	g_string_truncate(in, in->len - 2);
	g_string_append(in, " TEXT {1+}\r\n");
	size_t announced = in->len;
	g_string_append(in, "x\r\n");
	for (int mode = 0; mode < 2; mode++) {
		struct imap_parser *p = imap_parser_new(
			mode ? IMAP_PARSE_RESPONSES : IMAP_PARSE_COMMANDS, &lim);
		const char *in2 = mode ? "* 1 FETCH (A {1}\r\nx B {1}\r\nx "
					 "C {1}\r\nx D {1}\r\nx)\r\n"
				       : in->str;
		size_t len = strlen(in2), off;
		bool sync = true;
		const char *tag = NULL;

		g_assert_cmpint(feed_until(p, in2, len, 1, &off), ==,
				IMAP_PARSE_ERROR);
		g_assert_nonnull(strstr(imap_parser_error(p),
					"more than 3 literals in one"));
		g_assert_true(imap_parser_refused(p, &sync, &tag));
		g_assert_false(sync);
		if (mode == 0) {
			g_assert_cmpuint(off, ==, announced);
			g_assert_cmpstr(tag, ==, "a1");
		}
		imap_parser_free(&p);
	}
	g_string_free(in, TRUE);
}

/* Literals kept in files count toward the line's total like those in
 * memory; and no more than max_spills files are held for one line. */
static void test_total_with_spills(void)
{
	struct imap_limits lim = small;
	char *body = g_strnfill(3000, 'b');
	GString *in = g_string_new("* 1 FETCH (");
	size_t before = open_fds();

	lim.max_literal = 100000;
	lim.max_total = 10000;
	lim.max_spills = 8;
	for (int i = 0; i < 4; i++)
		g_string_append_printf(in, "BODY[%d] {3000}\r\n%s ", i + 1, body);
	g_string_append(in, ")\r\n");

	struct imap_parser *p = imap_parser_new(IMAP_PARSE_RESPONSES, &lim);
	size_t off;
	bool sync;
	const char *tag;
	imap_parser_set_spill(p, 1000, g_get_tmp_dir());
	g_assert_cmpint(feed_until(p, in->str, in->len, 512, &off), ==,
			IMAP_PARSE_ERROR);
	g_assert_nonnull(strstr(imap_parser_error(p),
				"response of more than 10000 bytes"));
	g_assert_true(imap_parser_refused(p, &sync, &tag));
	/* refused at the fourth announcement, before its bytes */
	g_assert_cmpuint(off, <, in->len - 3000);
	g_assert_cmpuint(open_fds(), ==, before);
	imap_parser_free(&p);

	/* within the total, the count of files is bounded */
	lim.max_total = 100000;
	lim.max_spills = 2;
	p = imap_parser_new(IMAP_PARSE_COMMANDS, &lim);
	imap_parser_set_spill(p, 1000, g_get_tmp_dir());
	g_string_assign(in, "t7 APPEND INBOX {3000+}\r\n");
	g_string_append(in, body);
	g_string_append_printf(in, " {3000}\r\n%s {3000}\r\n", body);
	size_t third = in->len;
	g_string_append_printf(in, "%s\r\n", body);
	enum imap_parse_status st;
	size_t at = 0, conts = 0;
	for (;;) {
		st = feed_until(p, in->str + at, in->len - at, in->len, &off);
		at += off;
		if (st != IMAP_PARSE_CONTINUE)
			break;
		conts++;
		g_assert_cmpuint(open_fds(), <=, before + 2);
	}
	g_assert_cmpint(st, ==, IMAP_PARSE_ERROR);
	g_assert_cmpuint(conts, ==, 1);
	g_assert_cmpuint(at, ==, third);
	g_assert_nonnull(strstr(imap_parser_error(p),
				"more than 2 literals of over 1000 bytes"));
	g_assert_true(imap_parser_refused(p, &sync, &tag));
	g_assert_true(sync);
	g_assert_cmpstr(tag, ==, "t7");
	g_assert_cmpuint(open_fds(), ==, before);
	/* the synchronising literal was not sent: the next line reads */
	imap_parser_reset(p);
	g_assert_cmpint(feed_until(p, "t8 NOOP\r\n", 9, 9, &off), ==,
			IMAP_PARSE_LINE);
	struct imap_line *l = imap_parser_take(p);
	g_assert_true(imap_arg_is(imap_line_arg(l, 1), "NOOP"));
	imap_line_free(&l);
	imap_parser_free(&p);
	g_free(body);
	g_string_free(in, TRUE);
}

/* A literal over the size limit is refused the same way, with the tag, and
 * a line without a tag that may be echoed gives none. */
static void test_refused_literal(void)
{
	struct imap_parser *p = imap_parser_new(IMAP_PARSE_COMMANDS, &small);
	const char *in = "a5 LOGIN {99999999999}\r\n";
	size_t off;
	bool sync;
	const char *tag;

	g_assert_cmpint(feed_until(p, in, strlen(in), 4, &off), ==,
			IMAP_PARSE_ERROR);
	g_assert_cmpuint(off, ==, strlen(in));
	g_assert_true(imap_parser_refused(p, &sync, &tag));
	g_assert_true(sync);
	g_assert_cmpstr(tag, ==, "a5");
	imap_parser_reset(p);
	g_assert_false(imap_parser_refused(p, &sync, &tag));
	in = "{5000}\r\n";
	g_assert_cmpint(feed_until(p, in, strlen(in), 64, &off), ==,
			IMAP_PARSE_ERROR);
	g_assert_true(imap_parser_refused(p, &sync, &tag));
	g_assert_null(tag);
	imap_parser_reset(p);
	/* a syntax error is not a refusal */
	in = "a6 X {12x}\r\n";
	g_assert_cmpint(feed_until(p, in, strlen(in), 64, &off), ==,
			IMAP_PARSE_ERROR);
	g_assert_false(imap_parser_refused(p, &sync, &tag));
	imap_parser_reset(p);
	in = "a7 LOGIN {184467440737095516150}\r\n";
	g_assert_cmpint(feed_until(p, in, strlen(in), 64, &off), ==,
			IMAP_PARSE_ERROR);
	g_assert_false(imap_parser_refused(p, &sync, &tag));
	imap_parser_free(&p);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap-parse/responses", test_responses);
	g_test_add_func("/imap-parse/pipelined", test_pipelined_lines);
	g_test_add_func("/imap-parse/commands", test_commands);
	g_test_add_func("/imap-parse/bad", test_bad);
	g_test_add_func("/imap-parse/limits", test_limits);
	g_test_add_func("/imap-parse/helpers", test_helpers);
	g_test_add_func("/imap-parse/spill", test_spill);
	g_test_add_func("/imap-parse/literal-count", test_literal_count);
	g_test_add_func("/imap-parse/total-with-spills", test_total_with_spills);
	g_test_add_func("/imap-parse/refused-literal", test_refused_literal);
	return g_test_run();
}
