/*
 * mapi-rtf-ex.c - what an RTF body holds, MS-OXRTFEX: the HTML of RTF
 * written with \fromhtml1 (2.1.3: the \*\htmltag destinations copied,
 * text between them kept, \htmlrtf runs dropped), the plain text of RTF
 * written with \fromtext (2.1.3.2), and for other RTF the words of its
 * body.  The RTF itself is read as the RTF specification 1.9.1 lays it
 * out: groups, control words with their parameter, control symbols,
 * \'xx escapes in the current font's code page, \uN with \ucN fallback
 * characters, \bin data.
 */
#include "mapi-rtf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define WORD_MAX	32	/* longer control words are cut (and unknown) */
#define FONTS_MAX	1024	/* font table entries remembered */
#define UC_MAX		16

enum dest {
	DEST_BODY,		/* the document's text */
	DEST_SKIP,		/* a destination whose text is not shown */
	DEST_HTMLTAG,		/* \*\htmltag: HTML copied as it is */
	DEST_FONTTBL,		/* \fonttbl: read for the code pages */
};

struct group {
	enum dest dest;
	bool htmlrtf;		/* text here is the RTF-only rendering */
	bool first;		/* no word yet: the next one may name the
				   destination */
	bool star;		/* \* came first: an ignorable destination */
	int uc;			/* fallback characters after \uN */
	int cp;			/* the current font's code page, or -1 */
};

struct rtf {
	const uint8_t *p;	/* borrowed */
	size_t len, pos;
	size_t limit;
	enum mapi_rtf_kind kind;
	bool body_seen;		/* text came out: the header is over */
	int def_cp;		/* \ansicpg */
	int err;
	GString *out;		/* owned; UTF-8 */
	GByteArray *pend;	/* owned; 8-bit text not yet converted */
	int pend_cp;
	gunichar high;		/* a \uN high surrogate awaiting its pair */
	int fallback;		/* characters still to drop after \uN */
	int def_font;		/* the font the font table is defining */
	int nfonts;
	int font_num[FONTS_MAX];
	int font_cp[FONTS_MAX];
	int depth;
	struct group st[MAPI_RTF_MAX_DEPTH];
};

/* \fcharset to a Windows code page, RTF 1.9.1 "Font table"; -1 for the
 * document's own. */
static int charset_cp(long cs)
{
	static const struct { int cs, cp; } map[] = {
		{ 0, 1252 }, { 77, 10000 }, { 128, 932 }, { 129, 949 },
		{ 130, 1361 }, { 134, 936 }, { 136, 950 }, { 161, 1253 },
		{ 162, 1254 }, { 163, 1258 }, { 177, 1255 }, { 178, 1256 },
		{ 186, 1257 }, { 204, 1251 }, { 222, 874 }, { 238, 1250 },
		{ 254, 437 }, { 255, 850 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
		if (map[i].cs == cs)
			return map[i].cp;
	return -1;
}

/* iconv's name for a Windows code page. */
static void cp_name(int cp, char *buf, size_t size)
{
	if (cp == 10000)
		g_strlcpy(buf, "MACINTOSH", size);
	else if (cp == 20127)
		g_strlcpy(buf, "ASCII", size);
	else if (cp == 1361)
		g_strlcpy(buf, "JOHAB", size);
	else if (cp >= 28591 && cp <= 28599)
		snprintf(buf, size, "ISO-8859-%d", cp - 28590);
	else
		snprintf(buf, size, "CP%d", cp);
}

static void check_limit(struct rtf *r)
{
	/* every byte of 8-bit text gives at least one byte of UTF-8 */
	if (!r->err && r->out->len + r->pend->len > r->limit)
		r->err = -EFBIG;
}

/* Bytes iconv refused, one at a time: a lone byte of a double-byte code
 * page, or one the code page leaves undefined, becomes U+FFFD. */
static void convert_bytewise(struct rtf *r, const char *charset)
{
	for (guint i = 0; i < r->pend->len; i++) {
		uint8_t b = r->pend->data[i];
		char *u;

		if (b < 0x80) {
			g_string_append_c(r->out, (char)b);
			continue;
		}
		u = g_convert((const char *)&b, 1, "UTF-8", charset, NULL,
			      NULL, NULL);
		g_string_append(r->out, u ? u : "\xEF\xBF\xBD");
		g_free(u);
	}
}

static void flush(struct rtf *r)
{
	char charset[32];
	bool ascii = true;
	gsize n = 0;
	char *u;

	if (!r->pend->len)
		return;
	for (guint i = 0; i < r->pend->len && ascii; i++)
		ascii = r->pend->data[i] < 0x80;
	if (ascii) {
		g_string_append_len(r->out, (const char *)r->pend->data,
				    r->pend->len);
	} else if (r->pend_cp == 65001) {
		u = g_utf8_make_valid((const char *)r->pend->data,
				      r->pend->len);
		g_string_append(r->out, u);
		g_free(u);
	} else {
		cp_name(r->pend_cp, charset, sizeof(charset));
		u = g_convert((const char *)r->pend->data, r->pend->len,
			      "UTF-8", charset, NULL, &n, NULL);
		if (u)
			g_string_append_len(r->out, u, (gssize)n);
		else
			convert_bytewise(r, charset);
		g_free(u);
	}
	g_byte_array_set_size(r->pend, 0);
	check_limit(r);
}

static struct group *cur(struct rtf *r)
{
	return &r->st[r->depth];
}

/* Whether text here is part of what comes out. */
static bool shown(struct rtf *r)
{
	struct group *g = cur(r);

	if (g->dest == DEST_HTMLTAG)
		return true;
	if (g->dest != DEST_BODY)
		return false;
	return !(g->htmlrtf && r->kind != MAPI_RTF_PLAIN);
}

static int text_cp(struct rtf *r)
{
	struct group *g = cur(r);

	/* the markup of HTML tags is in the document's code page */
	if (g->dest == DEST_HTMLTAG || g->cp < 0)
		return r->def_cp;
	return g->cp;
}

static void put_bytes(struct rtf *r, const uint8_t *b, size_t n)
{
	int cp = text_cp(r);

	if (r->pend->len && r->pend_cp != cp)
		flush(r);
	r->pend_cp = cp;
	g_byte_array_append(r->pend, b, (guint)n);
	r->body_seen = true;
	check_limit(r);
}

static void put_utf8(struct rtf *r, const char *s)
{
	flush(r);
	g_string_append(r->out, s);
	r->body_seen = true;
	check_limit(r);
}

static void put_char(struct rtf *r, gunichar c)
{
	char u[8];

	u[g_unichar_to_utf8(c, u)] = 0;
	put_utf8(r, u);
}

/* \uN: a UTF-16 code unit, pairs of surrogates joined. */
static void put_unit(struct rtf *r, long v)
{
	gunichar c = (gunichar)(v < 0 ? v + 65536 : v) & 0xFFFF;

	if (r->high && c >= 0xDC00 && c <= 0xDFFF) {
		c = 0x10000 + ((r->high - 0xD800) << 10) + (c - 0xDC00);
		r->high = 0;
		put_char(r, c);
		return;
	}
	if (r->high)
		put_char(r, 0xFFFD);
	r->high = 0;
	if (c >= 0xD800 && c <= 0xDBFF)
		r->high = c;
	else if (c >= 0xDC00 && c <= 0xDFFF)
		put_char(r, 0xFFFD);
	else
		put_char(r, c);
}

/* A character of the text (a byte, an escape, a symbol): dropped while
 * \uN's fallback runs, else shown where text is shown. */
static bool take_char(struct rtf *r)
{
	if (r->fallback > 0) {
		r->fallback--;
		return false;
	}
	if (r->high) {
		put_char(r, 0xFFFD);
		r->high = 0;
	}
	return shown(r);
}

static void font_set(struct rtf *r, int num, int cp)
{
	for (int i = 0; i < r->nfonts; i++)
		if (r->font_num[i] == num) {
			r->font_cp[i] = cp;
			return;
		}
	if (r->nfonts < FONTS_MAX) {
		r->font_num[r->nfonts] = num;
		r->font_cp[r->nfonts++] = cp;
	}
}

static int font_cp(const struct rtf *r, long num)
{
	for (int i = 0; i < r->nfonts; i++)
		if (r->font_num[i] == num)
			return r->font_cp[i];
	return -1;
}

/* Destinations whose text is not the document's (RTF 1.9.1), beyond
 * those marked with \*. */
static bool skipped_dest(const char *w)
{
	static const char *const names[] = {
		"colortbl", "stylesheet", "info", "pict", "object", "header",
		"headerl", "headerr", "headerf", "footer", "footerl",
		"footerr", "footerf", "footnote", "listtable",
		"listoverridetable", "revtbl", "rsidtbl", "generator",
		"xmlnstbl", "themedata", "colorschememapping",
		"latentstyles", "datastore", "fldinst", "filetbl", "pntext",
		"pntxta", "pntxtb", "objdata", "nonshppict", "shpinst",
		"author", "operator", "title", "subject", "keywords",
		"comment", "doccomm", "annotation", "atnauthor", "atnid",
		"bkmkstart", "bkmkend", "txe", "xe", "tc",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (strcmp(w, names[i]) == 0)
			return true;
	return false;
}

/* The first word of a group: whether it names a destination. */
static void group_dest(struct rtf *r, const char *w)
{
	struct group *g = cur(r);

	g->first = false;
	if (g->dest == DEST_SKIP)
		return;
	if (g->star) {
		if (strcmp(w, "htmltag") == 0 && g->dest == DEST_BODY &&
		    r->kind == MAPI_RTF_FROMHTML)
			g->dest = DEST_HTMLTAG;
		else
			g->dest = DEST_SKIP;
	} else if (strcmp(w, "fonttbl") == 0) {
		g->dest = DEST_FONTTBL;
	} else if (skipped_dest(w)) {
		g->dest = DEST_SKIP;
	}
}

static void font_word(struct rtf *r, const char *w, bool has, long v)
{
	if (strcmp(w, "f") == 0 && has) {
		r->def_font = (int)v;
		font_set(r, r->def_font, -1);
	} else if (strcmp(w, "fcharset") == 0 && has) {
		font_set(r, r->def_font, charset_cp(v));
	} else if (strcmp(w, "cpg") == 0 && has && v > 0 && v < 65536) {
		font_set(r, r->def_font, (int)v);
	}
}

/* Control words that stand for a character or a break. */
static bool text_word(struct rtf *r, const char *w)
{
	static const struct { const char *w; const char *s; } map[] = {
		{ "par", "\r\n" }, { "line", "\r\n" }, { "sect", "\r\n" },
		{ "page", "\r\n" }, { "row", "\r\n" }, { "tab", "\t" },
		{ "cell", "\t" }, { "lquote", "\u2018" }, { "rquote", "\u2019" },
		{ "ldblquote", "\u201C" }, { "rdblquote", "\u201D" },
		{ "bullet", "\u2022" }, { "emdash", "\u2014" },
		{ "endash", "\u2013" }, { "emspace", "\u2003" },
		{ "enspace", "\u2002" }, { "qmspace", "\u2005" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
		if (strcmp(w, map[i].w) == 0) {
			if (take_char(r))
				put_utf8(r, map[i].s);
			return true;
		}
	return false;
}

/* The header words that say what the document is and its code page. */
static bool header_word(struct rtf *r, const char *w, bool has, long v)
{
	bool in_header = r->depth == 1 && !r->body_seen;

	if (strcmp(w, "ansi") == 0)
		r->def_cp = 1252;
	else if (strcmp(w, "mac") == 0)
		r->def_cp = 10000;
	else if (strcmp(w, "pc") == 0)
		r->def_cp = 437;
	else if (strcmp(w, "pca") == 0)
		r->def_cp = 850;
	else if (strcmp(w, "ansicpg") == 0) {
		if (has && v > 0 && v < 65536)
			r->def_cp = (int)v;
	} else if (strcmp(w, "fromhtml") == 0) {
		if (in_header && (!has || v != 0))
			r->kind = MAPI_RTF_FROMHTML;
	} else if (strcmp(w, "fromtext") == 0) {
		if (in_header)
			r->kind = MAPI_RTF_FROMTEXT;
	} else {
		return false;
	}
	return true;
}

static void control_word(struct rtf *r, const char *w, bool has, long v)
{
	struct group *g = cur(r);

	if (strcmp(w, "bin") == 0) {
		/* raw bytes that could hold braces: stepped over unread */
		size_t n = has && v > 0 ? (size_t)v : 0;

		r->pos += MIN(n, r->len - r->pos);
		return;
	}
	if (g->first)
		group_dest(r, w);
	if (g->dest == DEST_SKIP)
		return;
	if (g->dest == DEST_FONTTBL) {
		font_word(r, w, has, v);
		return;
	}
	if (header_word(r, w, has, v))
		return;
	if (strcmp(w, "u") == 0 && has) {
		if (r->fallback > 0)
			r->fallback = 0;
		if (shown(r))
			put_unit(r, v);
		r->fallback = g->uc;
	} else if (strcmp(w, "uc") == 0 && has) {
		g->uc = (int)CLAMP(v, 0, UC_MAX);
	} else if (strcmp(w, "htmlrtf") == 0) {
		g->htmlrtf = !has || v != 0;
	} else if (strcmp(w, "f") == 0 && has) {
		g->cp = font_cp(r, v);
	} else if (!text_word(r, w) && r->fallback > 0) {
		/* any other word inside \uN's fallback counts as one */
		r->fallback--;
	}
}

static void control_symbol(struct rtf *r, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	struct group *g = cur(r);

	if (c == '*') {
		g->star = true;
		return;
	}
	g->first = false;
	if (g->dest == DEST_SKIP || g->dest == DEST_FONTTBL) {
		if (c == '\'')
			r->pos += MIN((size_t)2, r->len - r->pos);
		return;
	}
	if (c == '\'') {
		const char *hi, *lo;
		uint8_t b;

		if (r->len - r->pos < 2)
			return;
		hi = r->p[r->pos] ? strchr(hex, g_ascii_tolower(r->p[r->pos]))
				  : NULL;
		lo = r->p[r->pos + 1]
			? strchr(hex, g_ascii_tolower(r->p[r->pos + 1]))
			: NULL;
		if (!hi || !lo)
			return;
		r->pos += 2;
		b = (uint8_t)((hi - hex) << 4 | (lo - hex));
		if (take_char(r))
			put_bytes(r, &b, 1);
	} else if (c == '{' || c == '}' || c == '\\') {
		if (take_char(r))
			put_bytes(r, &c, 1);
	} else if (c == '~') {
		if (take_char(r))
			put_char(r, 0x00A0);
	} else if (c == '_') {
		if (take_char(r))
			put_char(r, 0x2011);
	} else if (c == '\r' || c == '\n') {
		if (take_char(r))
			put_utf8(r, "\r\n");
	}
}

/* After a backslash: a word with its optional parameter (and the one
 * space that ends it), or a symbol. */
static void control(struct rtf *r)
{
	char w[WORD_MAX + 1];
	size_t n = 0, digits = 0;
	bool neg = false, has = false;
	long v = 0;

	if (r->pos >= r->len)
		return;
	if (!g_ascii_isalpha(r->p[r->pos])) {
		control_symbol(r, r->p[r->pos++]);
		return;
	}
	while (r->pos < r->len && g_ascii_isalpha(r->p[r->pos])) {
		if (n < WORD_MAX)
			w[n++] = (char)r->p[r->pos];
		r->pos++;
	}
	w[n] = 0;
	if (r->pos < r->len && r->p[r->pos] == '-' && r->pos + 1 < r->len &&
	    g_ascii_isdigit(r->p[r->pos + 1])) {
		neg = true;
		r->pos++;
	}
	while (r->pos < r->len && g_ascii_isdigit(r->p[r->pos])) {
		/* RTF parameters are 16 or 32 bits; more digits are read and
		 * lost */
		if (digits++ < 10)
			v = v * 10 + (r->p[r->pos] - '0');
		has = true;
		r->pos++;
	}
	if (r->pos < r->len && r->p[r->pos] == ' ')
		r->pos++;
	v = CLAMP(neg ? -v : v, (long)INT32_MIN, (long)INT32_MAX);
	control_word(r, w, has, v);
}

static void text_run(struct rtf *r)
{
	size_t start = r->pos;

	while (r->pos < r->len) {
		uint8_t c = r->p[r->pos];

		if (c == '{' || c == '}' || c == '\\' || c == '\r' ||
		    c == '\n')
			break;
		r->pos++;
	}
	cur(r)->first = false;
	for (size_t i = start; i < r->pos; i++) {
		/* a NUL ends the text of a value written with one */
		if (r->p[i] == 0)
			continue;
		if (take_char(r))
			put_bytes(r, r->p + i, 1);
	}
}

static void open_group(struct rtf *r)
{
	if (r->depth + 1 >= MAPI_RTF_MAX_DEPTH) {
		r->err = -ELOOP;
		return;
	}
	r->st[r->depth + 1] = r->st[r->depth];
	r->depth++;
	r->st[r->depth].first = true;
	r->st[r->depth].star = false;
	r->fallback = 0;
}

int mapi_rtf_extract(const void *rtf, size_t len, size_t limit,
		     enum mapi_rtf_kind *kind_r, char **text_r, size_t *len_r)
{
	struct rtf *r;
	int rc;

	if (len < 5 || memcmp(rtf, "{\\rtf", 5) != 0)
		return -EBADMSG;
	r = g_new0(struct rtf, 1);
	r->p = rtf;
	r->len = len;
	r->limit = limit;
	r->def_cp = 1252;
	r->out = g_string_new(NULL);
	r->pend = g_byte_array_new();
	r->st[0].cp = -1;
	r->st[0].uc = 1;
	while (r->pos < r->len && !r->err) {
		uint8_t c = r->p[r->pos];

		if (c == '{') {
			r->pos++;
			open_group(r);
		} else if (c == '}') {
			r->pos++;
			r->fallback = 0;
			/* the group that opened the document closes it */
			if (r->depth <= 1)
				break;
			r->depth--;
		} else if (c == '\\') {
			r->pos++;
			control(r);
		} else if (c == '\r' || c == '\n') {
			r->pos++;
		} else {
			text_run(r);
		}
	}
	if (!r->err)
		flush(r);
	rc = r->err;
	if (rc == 0) {
		*kind_r = r->kind;
		*len_r = r->out->len;
		*text_r = g_string_free(r->out, FALSE);
	} else {
		g_string_free(r->out, TRUE);
	}
	g_byte_array_unref(r->pend);
	g_free(r);
	return rc;
}
