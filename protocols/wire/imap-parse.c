/*
 * imap-parse.c - IMAP lines: framing (where a line and its literals end) done
 * incrementally as bytes arrive, then tokenising of the complete line.
 *
 * RFC 3501 section 9 / RFC 9051 section 9 (formal syntax), RFC 7888
 * (LITERAL+ and LITERAL-), RFC 3516 (literal8 in responses).
 *
 * Leniencies, each the common practice of servers and clients: a bare LF
 * ends a line like CRLF; runs of spaces separate like one; 8-bit bytes are
 * taken in quoted strings and atoms (UTF8=ACCEPT and servers that ignore it).
 */
#include "imap-parse.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* A response line carries one message at most (FETCH BODY[]), perhaps
 * with a few small parts beside it; what the client fetches holds a
 * literal or two, and 256 leaves room for servers that write every
 * string as one. */
const struct imap_limits imap_client_limits = {
	.max_line = 64 * 1024,
	.max_literal = UINT64_C(1) << 30,
	.max_total = (UINT64_C(1) << 30) + (UINT64_C(64) << 20),
	.max_depth = 64,
	.max_literals = 256,
	.max_spills = 8,
};

/* A literal kept in a file; where it would have stood in the buffer. */
struct spill {
	size_t at;
	int fd;
};

struct imap_parser {
	enum imap_parse_mode mode;
	struct imap_limits lim;
	size_t spill_threshold;		/* 0: never */
	char *spill_dir;		/* owned */
	GArray *spills;			/* of struct spill, this line's */
	bool spilling;			/* the literal going on is in a file */
	GByteArray *buf;		/* owned; the line gathered so far */
	uint64_t total;			/* bytes of the line, its literals'
					   announced sizes included */
	unsigned literals;		/* announced in this line */
	bool refused;			/* failed at a literal over a bound */
	bool refused_sync;		/* ... which the sender holds back */
	char *refused_tag;		/* owned; the line's tag, or NULL */
	size_t seg_start;		/* where the current segment began */
	uint64_t lit_left;		/* bytes of literal still to come */
	bool first_seg;
	bool failed;
	char *error;			/* owned */
	struct imap_line *ready;	/* owned until taken */
};

struct imap_parser *imap_parser_new(enum imap_parse_mode mode,
				    const struct imap_limits *limits)
{
	struct imap_parser *p = g_new0(struct imap_parser, 1);

	p->mode = mode;
	p->lim = *limits;
	p->buf = g_byte_array_new();
	p->first_seg = true;
	p->spills = g_array_new(FALSE, FALSE, sizeof(struct spill));
	return p;
}

void imap_parser_set_spill(struct imap_parser *p, size_t threshold,
			   const char *dir)
{
	p->spill_threshold = threshold;
	g_free(p->spill_dir);
	p->spill_dir = g_strdup(dir);
}

static void drop_spills(struct imap_parser *p)
{
	for (guint i = 0; i < p->spills->len; i++) {
		int fd = g_array_index(p->spills, struct spill, i).fd;
		if (fd >= 0)
			close(fd);
	}
	g_array_set_size(p->spills, 0);
	p->spilling = false;
}

/* An unnamed file for a literal: gone from disk once closed. */
static int spill_open(const struct imap_parser *p)
{
	const char *dir = p->spill_dir ? p->spill_dir : g_get_tmp_dir();
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		g_autofree char *path = g_build_filename(dir, "lit.XXXXXX",
							 NULL);
		fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0)
			unlink(path);
	}
	return fd;
}

/* Ready for the next line. */
static void line_clear(struct imap_parser *p)
{
	g_byte_array_set_size(p->buf, 0);
	p->seg_start = 0;
	p->first_seg = true;
	p->total = 0;
	p->literals = 0;
}

void imap_parser_reset(struct imap_parser *p)
{
	drop_spills(p);
	line_clear(p);
	p->lit_left = 0;
	p->failed = false;
	p->refused = false;
	p->refused_sync = false;
	g_clear_pointer(&p->refused_tag, g_free);
	g_clear_pointer(&p->error, g_free);
	imap_line_free(&p->ready);
}

void imap_parser_free(struct imap_parser **pp)
{
	struct imap_parser *p = *pp;

	if (!p)
		return;
	imap_parser_reset(p);
	g_byte_array_unref(p->buf);
	g_array_unref(p->spills);
	g_free(p->spill_dir);
	g_free(p);
	*pp = NULL;
}

const char *imap_parser_error(const struct imap_parser *p)
{
	return p->error ? p->error : "no error";
}

size_t imap_parser_pending(const struct imap_parser *p)
{
	return p->buf->len;
}

static enum imap_parse_status fail(struct imap_parser *p, char *why)
{
	g_free(p->error);
	p->error = why;
	p->failed = true;
	line_clear(p);
	drop_spills(p);
	return IMAP_PARSE_ERROR;
}

bool imap_parser_refused(const struct imap_parser *p, bool *sync_r,
			 const char **tag_r)
{
	*sync_r = p->refused && p->refused_sync;
	*tag_r = p->refused ? p->refused_tag : NULL;
	return p->failed && p->refused;
}

/* The line's first word when it can be echoed as a tag (RFC 3501's tag:
 * atom characters but '+'), else NULL.  Caller owns the result. */
static char *line_tag(const struct imap_parser *p)
{
	const char *s = (const char *)p->buf->data;
	size_t n = 0;

	while (n < p->buf->len && n <= 64 && s[n] != ' ') {
		unsigned char c = (unsigned char)s[n];
		if (c <= ' ' || c >= 0x7f || strchr("(){%*\\\"]+", c))
			return NULL;
		n++;
	}
	if (n == 0 || n > 64 || n == p->buf->len)
		return NULL;
	return g_strndup(s, n);
}

static const char *line_word(const struct imap_parser *p)
{
	return p->mode == IMAP_PARSE_COMMANDS ? "command" : "response";
}

/*
 * Whether the literal of `n` bytes just announced keeps within the limits
 * (if not, the parser fails with the reason and the line's tag kept):
 * its own size, how many literals the line has, the line's total and, for
 * one that would go to a file, how many files it holds.  The check comes
 * before any byte of the literal is taken, so that a server can refuse a
 * synchronising literal before it asks for it.
 */
static bool literal_fits(struct imap_parser *p, uint64_t n, bool sync,
			 bool spill)
{
	char *why = NULL;

	if (n > p->lim.max_literal)
		why = g_strdup_printf("literal of %" G_GUINT64_FORMAT " bytes "
				      "is over the limit of %" G_GUINT64_FORMAT,
				      n, p->lim.max_literal);
	else if (p->literals >= p->lim.max_literals)
		why = g_strdup_printf("more than %u literals in one %s",
				      p->lim.max_literals, line_word(p));
	else if (n > p->lim.max_total - MIN(p->total, p->lim.max_total))
		why = g_strdup_printf("%s of more than %" G_GUINT64_FORMAT
				      " bytes, literals included",
				      line_word(p), p->lim.max_total);
	else if (spill && p->spills->len >= p->lim.max_spills)
		why = g_strdup_printf("more than %u literals of over %zu bytes "
				      "in one %s", p->lim.max_spills,
				      p->spill_threshold, line_word(p));
	if (!why)
		return true;
	char *tag = line_tag(p);
	fail(p, why);
	p->refused = true;
	p->refused_sync = p->mode == IMAP_PARSE_COMMANDS && sync;
	p->refused_tag = tag;
	return false;
}

/*
 * Whether a segment (ending in LF) announces a literal: "{n}", "{n+}",
 * "{n-}" or "~{n}" right before the line end.  Returns 1 with the size and
 * whether the sender waits for "+", 0 if not a literal, -1 when the number
 * is malformed or overflows.
 */
static int literal_marker(const char *seg, size_t len, uint64_t *n_r,
			  bool *sync_r)
{
	size_t end = len;
	uint64_t n = 0;
	size_t digits = 0;

	if (end > 0 && seg[end - 1] == '\n')
		end--;
	if (end > 0 && seg[end - 1] == '\r')
		end--;
	if (end < 3 || seg[end - 1] != '}')
		return 0;
	end--;
	*sync_r = true;
	if (seg[end - 1] == '+' || seg[end - 1] == '-') {
		*sync_r = seg[end - 1] == '-';
		end--;
	}
	size_t d = end;
	while (d > 0 && g_ascii_isdigit(seg[d - 1]))
		d--;
	if (d == 0 || seg[d - 1] != '{')
		return 0;
	for (size_t i = d; i < end; i++, digits++) {
		unsigned v = (unsigned)(seg[i] - '0');
		if (n > (UINT64_MAX - v) / 10)
			return -1;
		n = n * 10 + v;
	}
	if (digits == 0)
		return -1;
	*n_r = n;
	return 1;
}

/* In a response, "+ ..." and "TAG OK|NO|BAD|BYE|PREAUTH ..." end in free
 * text, where a trailing "{5}" is words, not a literal. */
static bool is_text_line(const char *seg, size_t len)
{
	static const char *const words[] = { "OK", "NO", "BAD", "BYE",
					     "PREAUTH" };
	const char *sp = memchr(seg, ' ', len);
	const char *w, *we;

	if (len >= 1 && seg[0] == '+' && (len == 1 || seg[1] == ' ' ||
					  seg[1] == '\r' || seg[1] == '\n'))
		return true;
	if (!sp)
		return false;
	w = sp + 1;
	we = w;
	while (we < seg + len && *we != ' ' && *we != '\r' && *we != '\n')
		we++;
	for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
		size_t n = strlen(words[i]);
		if ((size_t)(we - w) == n && !g_ascii_strncasecmp(w, words[i], n))
			return true;
	}
	return false;
}

static int parse_line_spilled(enum imap_parse_mode mode,
			      const struct imap_limits *lim, const char *buf,
			      size_t len, GArray *spills,
			      struct imap_line **line_r, char **why_r);

static enum imap_parse_status finish_line(struct imap_parser *p)
{
	struct imap_line *line = NULL;
	char *why = NULL;

	if (parse_line_spilled(p->mode, &p->lim, (const char *)p->buf->data,
			       p->buf->len, p->spills, &line, &why) < 0)
		return fail(p, why);
	/* the files belong to the line now */
	g_array_set_size(p->spills, 0);
	line->bytes = p->buf->len;
	p->ready = line;
	line_clear(p);
	return IMAP_PARSE_LINE;
}

enum imap_parse_status imap_parser_feed(struct imap_parser *p,
					const char *data, size_t len,
					size_t *used_r)
{
	size_t i = 0;

	*used_r = 0;
	if (p->failed)
		return IMAP_PARSE_ERROR;
	if (p->ready)
		return IMAP_PARSE_LINE;
	while (i < len) {
		if (p->lit_left > 0) {
			size_t n = (size_t)MIN(p->lit_left, (uint64_t)(len - i));
			if (p->spilling) {
				int fd = g_array_index(p->spills, struct spill,
						       p->spills->len - 1).fd;
				const char *d = data + i;
				for (size_t left = n; left > 0;) {
					ssize_t w = write(fd, d, left);
					if (w < 0 && errno == EINTR)
						continue;
					if (w <= 0)
						return fail(p, g_strdup_printf(
							"keeping a literal: %s",
							g_strerror(errno)));
					d += w;
					left -= (size_t)w;
				}
			} else {
				/* counted in p->total when announced */
				g_byte_array_append(p->buf,
						    (const guint8 *)data + i,
						    (guint)n);
			}
			i += n;
			p->lit_left -= n;
			if (p->lit_left == 0) {
				p->spilling = false;
				p->seg_start = p->buf->len;
			}
			continue;
		}
		const char *nl = memchr(data + i, '\n', len - i);
		size_t take = nl ? (size_t)(nl - (data + i)) + 1 : len - i;
		size_t seg_len = p->buf->len - p->seg_start + take;
		if (seg_len > p->lim.max_line + 2)
			return fail(p, g_strdup_printf(
				"line longer than %zu bytes", p->lim.max_line));
		if (take > p->lim.max_total - MIN(p->total, p->lim.max_total))
			return fail(p, g_strdup_printf(
				"%s of more than %" G_GUINT64_FORMAT " bytes",
				line_word(p), p->lim.max_total));
		g_byte_array_append(p->buf, (const guint8 *)data + i,
				    (guint)take);
		p->total += take;
		i += take;
		if (!nl)
			break;

		const char *seg = (const char *)p->buf->data + p->seg_start;
		uint64_t n = 0;
		bool sync = false;
		int lit = 0;
		if (!(p->mode == IMAP_PARSE_RESPONSES && p->first_seg &&
		      is_text_line(seg, seg_len)))
			lit = literal_marker(seg, seg_len, &n, &sync);
		if (lit < 0)
			return fail(p, g_strdup("malformed literal size"));
		if (lit == 0) {
			*used_r = i;
			return finish_line(p);
		}
		bool spill = p->spill_threshold && n > p->spill_threshold;
		if (!literal_fits(p, n, sync, spill)) {
			/* the announcement is taken; a refused synchronising
			 * literal never comes, so the next byte starts a
			 * new line */
			*used_r = i;
			return IMAP_PARSE_ERROR;
		}
		p->literals++;
		p->total += n;
		p->first_seg = false;
		p->lit_left = n;
		p->seg_start = p->buf->len;
		if (spill) {
			struct spill sp = { p->buf->len, spill_open(p) };
			if (sp.fd < 0)
				return fail(p, g_strdup_printf(
					"no file for a literal of %"
					G_GUINT64_FORMAT " bytes: %s", n,
					g_strerror(errno)));
			g_array_append_val(p->spills, sp);
			p->spilling = true;
		}
		if (p->mode == IMAP_PARSE_COMMANDS && sync) {
			*used_r = i;
			return IMAP_PARSE_CONTINUE;
		}
	}
	*used_r = i;
	return IMAP_PARSE_NEED_MORE;
}

struct imap_line *imap_parser_take(struct imap_parser *p)
{
	struct imap_line *l = p->ready;

	p->ready = NULL;
	return l;
}

/* ---- tokenising a complete line ---- */

struct tok {
	const char *p, *end;
	const struct imap_limits *lim;
	char *why;			/* owned; set on error */
	const char *base;		/* the line's first byte */
	GArray *spills;			/* borrowed; may be NULL */
	guint next_spill;
};

static void arg_free(gpointer data)
{
	struct imap_arg *a = data;

	if (!a)
		return;
	g_free(a->str);
	if (a->list)
		g_ptr_array_unref(a->list);
	if (a->fd >= 0)
		close(a->fd);
	g_free(a);
}

static struct imap_arg *arg_new(enum imap_arg_type type)
{
	struct imap_arg *a = g_new0(struct imap_arg, 1);

	a->type = type;
	a->fd = -1;
	if (type == IMAP_ARG_LIST || type == IMAP_ARG_CODE)
		a->list = g_ptr_array_new_with_free_func(arg_free);
	return a;
}

static bool tok_fail(struct tok *t, char *why)
{
	if (!t->why)
		t->why = why;
	else
		g_free(why);
	return false;
}

static bool at_eol(const struct tok *t)
{
	return t->p >= t->end || *t->p == '\r' || *t->p == '\n';
}

static void skip_sp(struct tok *t)
{
	while (t->p < t->end && *t->p == ' ')
		t->p++;
}

static bool parse_quoted(struct tok *t, struct imap_arg *a)
{
	GString *s = g_string_new(NULL);

	t->p++;	/* the opening quote */
	while (t->p < t->end && *t->p != '"') {
		char c = *t->p++;
		if (c == '\r' || c == '\n') {
			g_string_free(s, TRUE);
			return tok_fail(t, g_strdup("line ends inside a "
						    "quoted string"));
		}
		if (c == '\\' && t->p < t->end && *t->p != '\r' &&
		    *t->p != '\n')
			c = *t->p++;
		g_string_append_c(s, c);
	}
	if (t->p >= t->end) {
		g_string_free(s, TRUE);
		return tok_fail(t, g_strdup("unterminated quoted string"));
	}
	t->p++;
	a->len = s->len;
	a->str = g_string_free(s, FALSE);
	return true;
}

static bool parse_literal(struct tok *t, struct imap_arg *a)
{
	uint64_t n = 0;

	if (*t->p == '~')
		t->p++;
	t->p++;	/* '{' */
	if (t->p >= t->end || !g_ascii_isdigit(*t->p))
		return tok_fail(t, g_strdup("malformed literal"));
	while (t->p < t->end && g_ascii_isdigit(*t->p)) {
		unsigned v = (unsigned)(*t->p++ - '0');
		if (n > (UINT64_MAX - v) / 10)
			return tok_fail(t, g_strdup("literal size overflows"));
		n = n * 10 + v;
	}
	if (t->p < t->end && (*t->p == '+' || *t->p == '-'))
		t->p++;
	if (t->p >= t->end || *t->p++ != '}')
		return tok_fail(t, g_strdup("malformed literal"));
	if (t->p < t->end && *t->p == '\r')
		t->p++;
	if (t->p >= t->end || *t->p++ != '\n')
		return tok_fail(t, g_strdup("literal not followed by a line end"));
	if (t->spills && t->next_spill < t->spills->len) {
		struct spill *sp = &g_array_index(t->spills, struct spill,
						  t->next_spill);
		if (sp->at == (size_t)(t->p - t->base)) {
			/* its bytes are in the file, not here */
			a->fd = sp->fd;
			sp->fd = -1;
			a->len = (size_t)n;
			t->next_spill++;
			lseek(a->fd, 0, SEEK_SET);
			return true;
		}
	}
	if (n > t->lim->max_literal || n > (uint64_t)(t->end - t->p))
		return tok_fail(t, g_strdup("literal longer than the line"));
	a->len = (size_t)n;
	a->str = g_malloc(a->len + 1);
	memcpy(a->str, t->p, a->len);
	a->str[a->len] = '\0';
	t->p += a->len;
	return true;
}

/* An atom; brackets take everything up to their match, as in
 * BODY[HEADER.FIELDS (FROM TO)]<0.100>. */
static bool parse_atom(struct tok *t, struct imap_arg *a)
{
	const char *start = t->p;
	unsigned brackets = 0;

	while (t->p < t->end) {
		char c = *t->p;
		if (c == '\r' || c == '\n')
			break;
		if (brackets == 0 && (c == ' ' || c == '(' || c == ')' ||
				      c == '"' || c == ']' || c == '{' ||
				      (unsigned char)c < 0x20 || c == 0x7f))
			break;
		if (c == '[')
			brackets++;
		else if (c == ']')
			brackets--;
		t->p++;
	}
	if (brackets)
		return tok_fail(t, g_strdup("unbalanced '[' in an atom"));
	if (t->p == start)
		return tok_fail(t, g_strdup_printf("unexpected '%c'",
						   g_ascii_isprint(*t->p)
						   ? *t->p : '?'));
	a->len = (size_t)(t->p - start);
	a->str = g_strndup(start, a->len);
	if (a->len == 3 && !g_ascii_strcasecmp(a->str, "NIL")) {
		a->type = IMAP_ARG_NIL;
		g_clear_pointer(&a->str, g_free);
		a->len = 0;
	}
	return true;
}

static bool parse_args(struct tok *t, GPtrArray *out, char close,
		       unsigned depth);

static struct imap_arg *parse_arg(struct tok *t, unsigned depth)
{
	struct imap_arg *a;
	bool ok;

	switch (*t->p) {
	case '(':
		if (depth + 1 > t->lim->max_depth) {
			tok_fail(t, g_strdup_printf("lists nested deeper than %u",
						    t->lim->max_depth));
			return NULL;
		}
		a = arg_new(IMAP_ARG_LIST);
		t->p++;
		ok = parse_args(t, a->list, ')', depth + 1);
		break;
	case '"':
		a = arg_new(IMAP_ARG_STRING);
		ok = parse_quoted(t, a);
		break;
	case '{':
		a = arg_new(IMAP_ARG_LITERAL);
		ok = parse_literal(t, a);
		break;
	case '~':
		if (t->p + 1 < t->end && t->p[1] == '{') {
			a = arg_new(IMAP_ARG_LITERAL);
			ok = parse_literal(t, a);
			break;
		}
		/* fall through */
	default:
		a = arg_new(IMAP_ARG_ATOM);
		ok = parse_atom(t, a);
	}
	if (!ok) {
		arg_free(a);
		return NULL;
	}
	return a;
}

/* Arguments up to `close` (')' or ']'), or to the line end when it is 0. */
static bool parse_args(struct tok *t, GPtrArray *out, char close,
		       unsigned depth)
{
	for (;;) {
		skip_sp(t);
		if (at_eol(t)) {
			if (close)
				return tok_fail(t, g_strdup_printf(
					"missing '%c'", close));
			return true;
		}
		if (*t->p == close) {
			t->p++;
			return true;
		}
		if (*t->p == ')' || *t->p == ']')
			return tok_fail(t, g_strdup_printf("unbalanced '%c'",
							   *t->p));
		struct imap_arg *a = parse_arg(t, depth);
		if (!a)
			return false;
		g_ptr_array_add(out, a);
	}
}

static bool is_status(const struct imap_arg *a)
{
	static const char *const words[] = { "OK", "NO", "BAD", "BYE",
					     "PREAUTH" };

	for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
		if (imap_arg_is(a, words[i]))
			return true;
	}
	return false;
}

/* The rest of the line as TEXT. */
static void take_text(struct tok *t, GPtrArray *out)
{
	struct imap_arg *a = arg_new(IMAP_ARG_TEXT);
	const char *start = t->p;

	while (!at_eol(t))
		t->p++;
	a->len = (size_t)(t->p - start);
	a->str = g_strndup(start, a->len);
	g_ptr_array_add(out, a);
}

static bool parse_response(struct tok *t, GPtrArray *args)
{
	struct imap_arg *tag = parse_arg(t, 0);

	if (!tag)
		return false;
	g_ptr_array_add(args, tag);
	if (tag->type == IMAP_ARG_ATOM && !strcmp(tag->str, "+")) {
		if (t->p < t->end && *t->p == ' ')
			t->p++;
		take_text(t, args);
		return true;
	}
	if (tag->type != IMAP_ARG_ATOM)
		return tok_fail(t, g_strdup("a response must start with a tag"));
	skip_sp(t);
	if (at_eol(t))
		return tok_fail(t, g_strdup("a response needs more than a tag"));
	struct imap_arg *word = parse_arg(t, 0);
	if (!word)
		return false;
	g_ptr_array_add(args, word);
	if (!is_status(word))
		return parse_args(t, args, 0, 0);
	skip_sp(t);
	if (t->p < t->end && *t->p == '[') {
		struct imap_arg *code = arg_new(IMAP_ARG_CODE);
		t->p++;
		g_ptr_array_add(args, code);
		if (!parse_args(t, code->list, ']', 1))
			return false;
		skip_sp(t);
	}
	take_text(t, args);
	return true;
}

int imap_parse_line(enum imap_parse_mode mode, const struct imap_limits *lim,
		    const char *buf, size_t len, struct imap_line **line_r,
		    char **why_r)
{
	return parse_line_spilled(mode, lim, buf, len, NULL, line_r, why_r);
}

static int parse_line_spilled(enum imap_parse_mode mode,
			      const struct imap_limits *lim, const char *buf,
			      size_t len, GArray *spills,
			      struct imap_line **line_r, char **why_r)
{
	struct tok t = { buf, buf + len, lim, NULL, buf, spills, 0 };
	struct imap_line *line = g_new0(struct imap_line, 1);
	bool ok;

	line->args = g_ptr_array_new_with_free_func(arg_free);
	line->bytes = len;
	if (len == 0 || at_eol(&t))
		ok = tok_fail(&t, g_strdup("empty line"));
	else if (mode == IMAP_PARSE_RESPONSES)
		ok = parse_response(&t, line->args);
	else
		ok = parse_args(&t, line->args, 0, 0);
	if (ok) {
		/* only the line end may remain */
		if (t.p < t.end && *t.p == '\r')
			t.p++;
		if (t.p < t.end && *t.p == '\n')
			t.p++;
		if (t.p != t.end)
			ok = tok_fail(&t, g_strdup("bytes after the line end"));
	}
	if (!ok) {
		*why_r = t.why ? t.why : g_strdup("malformed line");
		imap_line_free(&line);
		return -EINVAL;
	}
	*line_r = line;
	return 0;
}

void imap_line_free(struct imap_line **line)
{
	if (!*line)
		return;
	g_ptr_array_unref((*line)->args);
	g_free(*line);
	*line = NULL;
}

struct imap_arg *imap_line_arg(const struct imap_line *l, guint i)
{
	return l && i < l->args->len ? l->args->pdata[i] : NULL;
}

bool imap_arg_is(const struct imap_arg *a, const char *atom)
{
	return a && a->type == IMAP_ARG_ATOM &&
	       !g_ascii_strcasecmp(a->str, atom);
}

bool imap_arg_is_string(const struct imap_arg *a)
{
	return a && a->str && (a->type == IMAP_ARG_ATOM ||
			       a->type == IMAP_ARG_STRING ||
			       a->type == IMAP_ARG_LITERAL);
}

const char *imap_arg_string(const struct imap_arg *a)
{
	return imap_arg_is_string(a) ? a->str : NULL;
}

bool imap_arg_number(const struct imap_arg *a, uint64_t *n_r)
{
	uint64_t n = 0;

	if (!a || a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > 20)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		if (!g_ascii_isdigit(a->str[i]))
			return false;
		unsigned v = (unsigned)(a->str[i] - '0');
		if (n > (UINT64_MAX - v) / 10)
			return false;
		n = n * 10 + v;
	}
	*n_r = n;
	return true;
}

GPtrArray *imap_arg_list(const struct imap_arg *a)
{
	return a && (a->type == IMAP_ARG_LIST || a->type == IMAP_ARG_CODE)
		       ? a->list : NULL;
}
