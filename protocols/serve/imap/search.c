/*
 * search.c - SEARCH and UID SEARCH (RFC 3501 section 6.4.4): flags,
 * sizes, internal and sent dates, header fields (RFC 2047 words decoded
 * by GMime), bodies and whole texts, sequence and UID sets, with NOT, OR
 * and parentheses.  Matching of strings is case-insensitive substring, as
 * the RFC asks.
 *
 * Keys are parsed into a tree first, so that a malformed search is BAD
 * before anything is read; content is read only for keys that need it,
 * once per message.  Nesting is bounded by the parser's list depth and by
 * MAX_KEYS.
 */
#include <errno.h>
#include <gmime/gmime.h>
#include <string.h>
#include <time.h>

#include "wire/mime-entity.h"
#include "imapd-private.h"

#define MAX_KEYS 1000

enum key_kind {
	K_ALL, K_FLAG, K_NOFLAG, K_NEW, K_OLD, K_RECENT, K_NEVER,
	K_HEADER, K_BODY, K_TEXT, K_BEFORE, K_ON, K_SINCE, K_SENTBEFORE,
	K_SENTON, K_SENTSINCE, K_LARGER, K_SMALLER, K_UIDSET, K_SEQSET,
	K_MODSEQ,
	K_NOT, K_OR, K_AND,
};

struct key {
	enum key_kind kind;
	uint64_t flag;
	char *field;		/* owned; K_HEADER */
	char *text;		/* owned; folded for matching */
	int64_t day;		/* days since the epoch, for dates */
	uint64_t n;
	GArray *set;		/* owned */
	GPtrArray *sub;		/* owned; of struct key * */
};

static void key_free(gpointer p)
{
	struct key *k = p;

	if (!k)
		return;
	g_free(k->field);
	g_free(k->text);
	if (k->set)
		g_array_unref(k->set);
	if (k->sub)
		g_ptr_array_unref(k->sub);
	g_free(k);
}

struct parse {
	struct imapd_session *s;
	struct imap_arg **args;
	guint n, i;
	unsigned keys;
	bool modseq;		/* a MODSEQ key came: answer with (MODSEQ n) */
};

static struct key *key_new(enum key_kind kind)
{
	struct key *k = g_new0(struct key, 1);

	k->kind = kind;
	return k;
}

/* "1-Feb-1994" as days since the epoch. */
static bool parse_day(const char *s, int64_t *day_r)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
					      "May", "Jun", "Jul", "Aug",
					      "Sep", "Oct", "Nov", "Dec" };
	int d, y, m = -1;
	char mon[4];
	struct tm tm = { 0 };

	if (!s || sscanf(s, "%2d-%3s-%4d", &d, mon, &y) != 3)
		return false;
	for (int i = 0; i < 12; i++) {
		if (!g_ascii_strcasecmp(mon, months[i]))
			m = i;
	}
	if (m < 0 || d < 1 || d > 31 || y < 1900)
		return false;
	tm.tm_mday = d;
	tm.tm_mon = m;
	tm.tm_year = y - 1900;
	*day_r = (int64_t)timegm(&tm) / 86400;
	return true;
}

static char *fold(const char *s)
{
	if (g_utf8_validate(s, -1, NULL))
		return g_utf8_casefold(s, -1);
	return g_ascii_strdown(s, -1);
}

static const char *next_string(struct parse *p)
{
	if (p->i >= p->n)
		return NULL;
	return imap_arg_string(p->args[p->i++]);
}

static struct key *parse_key(struct parse *p, unsigned depth);

static struct key *parse_list(struct parse *p, struct imap_arg **args,
			      guint n, unsigned depth)
{
	struct parse sub = { p->s, args, n, 0, p->keys, false };
	struct key *and = key_new(K_AND);

	and->sub = g_ptr_array_new_with_free_func(key_free);
	while (sub.i < sub.n) {
		struct key *k = parse_key(&sub, depth + 1);
		if (!k) {
			key_free(and);
			return NULL;
		}
		g_ptr_array_add(and->sub, k);
	}
	p->keys = sub.keys;
	p->modseq |= sub.modseq;
	if (and->sub->len == 0) {
		key_free(and);
		return NULL;
	}
	return and;
}

/*
 * The search keys, each read by the parser in its row: the key's name
 * has been read; the parser reads what follows it and returns the key,
 * or NULL when the search is malformed.  `kind`, `flag` and `field` are
 * what the row gives the key.
 */
struct key_syntax;
typedef struct key *(*key_parse_fn)(struct parse *p,
				    const struct key_syntax *ks,
				    unsigned depth);

struct key_syntax {
	const char *name;
	enum key_kind kind;
	uint64_t flag;
	const char *field;
	key_parse_fn parse;
};

/* ALL, SEEN, UNSEEN...: nothing follows. */
static struct key *parse_bare(struct parse *p, const struct key_syntax *ks,
			      unsigned depth)
{
	struct key *k = key_new(ks->kind);

	k->flag = ks->flag;
	return k;
}

/* FROM string, BODY string...  */
static struct key *parse_text(struct parse *p, const struct key_syntax *ks,
			      unsigned depth)
{
	const char *v = next_string(p);
	struct key *k;

	if (!v)
		return NULL;
	k = key_new(ks->kind);
	k->field = g_strdup(ks->field);
	k->text = fold(v);
	return k;
}

/* BEFORE date, SENTON date... */
static struct key *parse_date(struct parse *p, const struct key_syntax *ks,
			      unsigned depth)
{
	struct key *k = key_new(ks->kind);

	if (!parse_day(next_string(p), &k->day)) {
		key_free(k);
		return NULL;
	}
	return k;
}

/* HEADER field-name string */
static struct key *parse_header(struct parse *p, const struct key_syntax *ks,
				unsigned depth)
{
	const char *f = next_string(p), *v = next_string(p);
	struct key *k;

	if (!f || !v)
		return NULL;
	k = key_new(K_HEADER);
	k->field = g_strdup(f);
	k->text = fold(v);
	return k;
}

/* KEYWORD flag, UNKEYWORD flag: the folder's letter for the keyword; a
 * keyword the folder has no letter for is on no message, and the row's
 * kind says what that makes of the key. */
static struct key *parse_keyword(struct parse *p, const struct key_syntax *ks,
				 unsigned depth)
{
	const char *name = next_string(p);
	int idx;

	if (!name)
		return NULL;
	idx = maildir_keywords_find(&p->s->view->kw, name);
	if (idx < 0)
		return key_new(ks->kind);
	struct key *k = key_new(ks->kind == K_NEVER ? K_FLAG : K_NOFLAG);
	k->flag = maildir_keyword_bit((unsigned)idx);
	return k;
}

/* LARGER n, SMALLER n */
static struct key *parse_size(struct parse *p, const struct key_syntax *ks,
			      unsigned depth)
{
	struct key *k = key_new(ks->kind);

	if (p->i >= p->n || !imap_arg_number(p->args[p->i++], &k->n)) {
		key_free(k);
		return NULL;
	}
	return k;
}

/* RFC 7162 section 3.1.5: MODSEQ [entry-name entry-type] n; there are no
 * per-flag mod-sequences, so the entry is only read. */
static struct key *parse_modseq(struct parse *p, const struct key_syntax *ks,
				unsigned depth)
{
	struct key *k;

	if (p->i + 2 < p->n && imap_arg_is_string(p->args[p->i]) &&
	    !imap_arg_number(p->args[p->i], &(uint64_t){ 0 }))
		p->i += 2;
	k = key_new(K_MODSEQ);
	if (p->i >= p->n || !imap_arg_number(p->args[p->i++], &k->n)) {
		key_free(k);
		return NULL;
	}
	p->s->condstore = true;
	p->modseq = true;
	return k;
}

/* NOT key */
static struct key *parse_not(struct parse *p, const struct key_syntax *ks,
			     unsigned depth)
{
	struct key *sub = parse_key(p, depth + 1);
	struct key *k;

	if (!sub)
		return NULL;
	k = key_new(K_NOT);
	k->sub = g_ptr_array_new_with_free_func(key_free);
	g_ptr_array_add(k->sub, sub);
	return k;
}

/* OR key key */
static struct key *parse_or(struct parse *p, const struct key_syntax *ks,
			    unsigned depth)
{
	struct key *x = parse_key(p, depth + 1);
	struct key *y = x ? parse_key(p, depth + 1) : NULL;
	struct key *k;

	if (!y) {
		key_free(x);
		return NULL;
	}
	k = key_new(K_OR);
	k->sub = g_ptr_array_new_with_free_func(key_free);
	g_ptr_array_add(k->sub, x);
	g_ptr_array_add(k->sub, y);
	return k;
}

/* A sequence set, given as it is or after UID (`set`, NULL when UID came
 * last). */
static struct key *parse_set(struct parse *p, bool uid, const char *set)
{
	GArray *msgs = p->s->view->msgs;
	uint32_t star = msgs->len == 0 ? 0 : uid
		? g_array_index(msgs, struct imapd_msg, msgs->len - 1).uid
		: msgs->len;
	struct key *k = key_new(uid ? K_UIDSET : K_SEQSET);

	if (!set || imapd_seqset_parse(set, star, &k->set) < 0) {
		key_free(k);
		return NULL;
	}
	return k;
}

/* UID sequence-set */
static struct key *parse_uid(struct parse *p, const struct key_syntax *ks,
			     unsigned depth)
{
	return parse_set(p, true, next_string(p));
}

static const struct key_syntax key_syntax[] = {
	{ "ALL", K_ALL, 0, NULL, parse_bare },
	{ "NEW", K_NEW, 0, NULL, parse_bare },
	{ "OLD", K_OLD, 0, NULL, parse_bare },
	{ "RECENT", K_RECENT, 0, NULL, parse_bare },
	{ "ANSWERED", K_FLAG, MFS_FLAG_REPLIED, NULL, parse_bare },
	{ "DELETED", K_FLAG, MFS_FLAG_TRASHED, NULL, parse_bare },
	{ "DRAFT", K_FLAG, MFS_FLAG_DRAFT, NULL, parse_bare },
	{ "FLAGGED", K_FLAG, MFS_FLAG_FLAGGED, NULL, parse_bare },
	{ "SEEN", K_FLAG, MFS_FLAG_SEEN, NULL, parse_bare },
	{ "UNANSWERED", K_NOFLAG, MFS_FLAG_REPLIED, NULL, parse_bare },
	{ "UNDELETED", K_NOFLAG, MFS_FLAG_TRASHED, NULL, parse_bare },
	{ "UNDRAFT", K_NOFLAG, MFS_FLAG_DRAFT, NULL, parse_bare },
	{ "UNFLAGGED", K_NOFLAG, MFS_FLAG_FLAGGED, NULL, parse_bare },
	{ "UNSEEN", K_NOFLAG, MFS_FLAG_SEEN, NULL, parse_bare },
	{ "FROM", K_HEADER, 0, "From", parse_text },
	{ "TO", K_HEADER, 0, "To", parse_text },
	{ "CC", K_HEADER, 0, "Cc", parse_text },
	{ "BCC", K_HEADER, 0, "Bcc", parse_text },
	{ "SUBJECT", K_HEADER, 0, "Subject", parse_text },
	{ "BODY", K_BODY, 0, NULL, parse_text },
	{ "TEXT", K_TEXT, 0, NULL, parse_text },
	{ "BEFORE", K_BEFORE, 0, NULL, parse_date },
	{ "ON", K_ON, 0, NULL, parse_date },
	{ "SINCE", K_SINCE, 0, NULL, parse_date },
	{ "SENTBEFORE", K_SENTBEFORE, 0, NULL, parse_date },
	{ "SENTON", K_SENTON, 0, NULL, parse_date },
	{ "SENTSINCE", K_SENTSINCE, 0, NULL, parse_date },
	{ "HEADER", K_HEADER, 0, NULL, parse_header },
	{ "KEYWORD", K_NEVER, 0, NULL, parse_keyword },
	{ "UNKEYWORD", K_ALL, 0, NULL, parse_keyword },
	{ "LARGER", K_LARGER, 0, NULL, parse_size },
	{ "SMALLER", K_SMALLER, 0, NULL, parse_size },
	{ "MODSEQ", K_MODSEQ, 0, NULL, parse_modseq },
	{ "NOT", K_NOT, 0, NULL, parse_not },
	{ "OR", K_OR, 0, NULL, parse_or },
	{ "UID", K_UIDSET, 0, NULL, parse_uid },
};

/* One key, by the row its name picks; an atom no row names is a
 * sequence set. */
static struct key *parse_key(struct parse *p, unsigned depth)
{
	struct imap_arg *a;

	if (p->i >= p->n || ++p->keys > MAX_KEYS || depth > 64)
		return NULL;
	a = p->args[p->i++];
	if (imap_arg_list(a))
		return parse_list(p, (struct imap_arg **)a->list->pdata,
				  a->list->len, depth);
	if (a->type != IMAP_ARG_ATOM)
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(key_syntax); i++) {
		if (!g_ascii_strcasecmp(a->str, key_syntax[i].name))
			return key_syntax[i].parse(p, &key_syntax[i], depth);
	}
	return parse_set(p, false, a->str);
}

/* What a message's evaluation may need, loaded on first use. */
struct eval {
	struct imapd_session *s;
	guint i;
	GBytes *content;	/* owned */
	bool tried;
	struct mime_entity top;
};

static bool load(struct eval *ev)
{
	if (!ev->tried) {
		ev->tried = true;
		struct imapd_msg *m = &g_array_index(ev->s->view->msgs,
						    struct imapd_msg, ev->i);
		if (imapd_msg_content(ev->s, m, &ev->content) == 0) {
			gsize n;
			const char *d = g_bytes_get_data(ev->content, &n);
			mime_entity_init(&ev->top, d, n, true);
		}
	}
	return ev->content != NULL;
}

static bool contains(const char *hay, size_t len, const char *needle)
{
	g_autofree char *raw = g_strndup(hay, len);
	g_autofree char *f = fold(raw);

	return strstr(f, needle) != NULL;
}

static int64_t day_of(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (int64_t)timegm(&tm) / 86400;
}

static bool sent_day(struct eval *ev, int64_t *day_r)
{
	if (!load(ev))
		return false;
	g_autofree char *v = mime_entity_header(&ev->top, "Date");
	if (!v)
		return false;
	GDateTime *dt = g_mime_utils_header_decode_date(v);
	if (!dt)
		return false;
	/* the date as the sender wrote it, time and zone aside */
	struct tm tm = { .tm_mday = g_date_time_get_day_of_month(dt),
			 .tm_mon = g_date_time_get_month(dt) - 1,
			 .tm_year = g_date_time_get_year(dt) - 1900 };
	*day_r = (int64_t)timegm(&tm) / 86400;
	g_date_time_unref(dt);
	return true;
}

static bool matches(const struct key *k, struct eval *ev)
{
	const struct imapd_msg *m = &g_array_index(ev->s->view->msgs,
						  struct imapd_msg, ev->i);
	int64_t d;

	switch (k->kind) {
	case K_ALL: return true;
	case K_NEVER: return false;
	case K_FLAG: return (m->flags & k->flag) != 0;
	case K_NOFLAG: return !(m->flags & k->flag);
	case K_NEW: return m->recent && !(m->flags & MFS_FLAG_SEEN);
	case K_OLD: return !m->recent;
	case K_RECENT: return m->recent;
	case K_LARGER: return m->size > k->n;
	case K_SMALLER: return m->size < k->n;
	case K_BEFORE: return day_of(m->date) < k->day;
	case K_ON: return day_of(m->date) == k->day;
	case K_SINCE: return day_of(m->date) >= k->day;
	case K_SENTBEFORE: return sent_day(ev, &d) && d < k->day;
	case K_SENTON: return sent_day(ev, &d) && d == k->day;
	case K_SENTSINCE: return sent_day(ev, &d) && d >= k->day;
	case K_UIDSET: return imapd_seqset_has(k->set, m->uid);
	case K_SEQSET: return imapd_seqset_has(k->set, ev->i + 1);
	case K_MODSEQ: return m->modseq >= k->n;
	case K_HEADER: {
		if (!load(ev))
			return false;
		g_autofree char *v = mime_entity_header(&ev->top, k->field);
		if (!v)
			return false;
		if (!*k->text)
			return true;
		g_autofree char *dec = g_mime_utils_header_decode_text(NULL, v);
		return contains(dec, strlen(dec), k->text);
	}
	case K_BODY:
		return load(ev) && contains(ev->top.start + ev->top.header_len,
					    ev->top.len - ev->top.header_len,
					    k->text);
	case K_TEXT:
		return load(ev) && contains(ev->top.start, ev->top.len,
					    k->text);
	case K_NOT:
		return !matches(k->sub->pdata[0], ev);
	case K_OR:
		return matches(k->sub->pdata[0], ev) ||
		       matches(k->sub->pdata[1], ev);
	case K_AND:
		for (guint i = 0; i < k->sub->len; i++) {
			if (!matches(k->sub->pdata[i], ev))
				return false;
		}
		return true;
	}
	return false;
}

void imapd_cmd_search(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	struct parse p = { s, cmd->args, cmd->nargs, 0, 0, false };
	uint64_t highest = 0;
	struct key *k;

	if (p.n >= 2 && imap_arg_is(cmd->args[0], "CHARSET")) {
		const char *cs = imapd_cmd_string(cmd, 1);
		if (!cs || (g_ascii_strcasecmp(cs, "UTF-8") &&
			    g_ascii_strcasecmp(cs, "US-ASCII"))) {
			imapd_reply(s, cmd, "NO", "[BADCHARSET (UTF-8 US-ASCII)] "
				   "unsupported charset");
			return;
		}
		p.i = 2;
	}
	mime_init();
	k = p.i < p.n ? parse_list(&p, cmd->args + p.i, p.n - p.i, 0) : NULL;
	if (!k) {
		imapd_reply(s, cmd, "BAD", "malformed search");
		return;
	}
	serve_conn_printf(s->c, "* SEARCH");
	for (guint i = 0; i < s->view->msgs->len; i++) {
		struct eval ev = { s, i, NULL, false, { 0 } };
		if (matches(k, &ev)) {
			const struct imapd_msg *m = &g_array_index(
				s->view->msgs, struct imapd_msg, i);
			serve_conn_printf(s->c, " %u", cmd->uid ? m->uid : i + 1);
			highest = MAX(highest, m->modseq);
		}
		if (ev.content)
			g_bytes_unref(ev.content);
	}
	if (p.modseq && highest)
		serve_conn_printf(s->c, " (MODSEQ %" G_GUINT64_FORMAT ")",
				  highest);
	serve_conn_printf(s->c, "\r\n");
	key_free(k);
	imapd_reply(s, cmd, "OK", "SEARCH completed");
}
