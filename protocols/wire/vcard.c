/*
 * vcard.c - reading and writing one vCard as content lines.
 *
 * Specs: RFC 6350 sections 3.2, 3.3, 3.4; RFC 2426 section 4 (vCard 3.0);
 * the vCard 2.1 forms still written by phones (bare parameters,
 * quoted-printable values); RFC 5545 sections 3.1, 3.3.4, 3.3.5 and
 * 3.6.1 for the first VEVENT of an iCalendar object, which folds and
 * escapes its content lines as a vCard does.
 *
 * Lines that are not understood are not errors: they are kept with their
 * bytes so that an edit made elsewhere never drops what this code cannot
 * read.  Only a file that is not a vCard at all is refused.
 */
#include "vcard.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define FOLD_AT 75

void vcard_prop_free(gpointer p)
{
	struct vcard_prop *prop = p;

	if (!prop)
		return;
	g_free(prop->group);
	g_free(prop->name);
	g_ptr_array_unref(prop->params);
	g_free(prop->value);
	g_free(prop->raw);
	g_free(prop);
}

void vcard_free(struct vcard **card)
{
	if (!*card)
		return;
	g_ptr_array_unref((*card)->props);
	g_free((*card)->tail);
	g_free(*card);
	*card = NULL;
}

static struct vcard_prop *prop_alloc(void)
{
	struct vcard_prop *p = g_new0(struct vcard_prop, 1);

	p->params = g_ptr_array_new_with_free_func(g_free);
	return p;
}

/* Split a "A;B=C;D=\"x;y\"" parameter list into `params`. */
static void split_params(const char *s, size_t n, GPtrArray *params)
{
	size_t start = 0;
	bool quoted = false;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] == '"')
			quoted = !quoted;
		if (i == n || (s[i] == ';' && !quoted)) {
			if (i > start)
				g_ptr_array_add(params,
						g_strndup(s + start, i - start));
			start = i + 1;
		}
	}
}

static bool is_name_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_';
}

/*
 * Read the unfolded text of a line into group, name, params and value.
 * A line that is not "[group.]name *(;param):value" gets the name "".
 */
static void parse_line(struct vcard_prop *p, const char *line, size_t n)
{
	size_t i = 0, start;
	bool quoted = false;

	while (i < n && is_name_char(line[i]))
		i++;
	if (i < n && line[i] == '.' && i > 0) {
		p->group = g_strndup(line, i);
		start = ++i;
		while (i < n && is_name_char(line[i]))
			i++;
	} else {
		start = 0;
	}
	if (i == start || i == n || (line[i] != ':' && line[i] != ';'))
		goto garbage;
	p->name = g_ascii_strup(line + start, (gssize)(i - start));
	start = i;
	for (; i < n; i++) {
		if (line[i] == '"')
			quoted = !quoted;
		else if (line[i] == ':' && !quoted)
			break;
	}
	if (i == n)
		goto garbage;
	if (i > start)
		split_params(line + start + 1, i - start - 1, p->params);
	p->value = g_strndup(line + i + 1, n - i - 1);
	return;
garbage:
	g_free(p->group);
	g_free(p->name);
	p->group = NULL;
	p->name = g_strdup("");
	p->value = g_strdup("");
	g_ptr_array_set_size(p->params, 0);
}

static bool param_is(const char *param, const char *name, const char *value)
{
	size_t n = strlen(name);
	const char *eq = strchr(param, '=');

	if (!eq)
		return g_ascii_strcasecmp(param, value) == 0;
	if ((size_t)(eq - param) != n || g_ascii_strncasecmp(param, name, n))
		return false;
	return g_ascii_strcasecmp(eq + 1, value) == 0 ||
	       (eq[1] == '"' && g_ascii_strncasecmp(eq + 2, value,
						    strlen(value)) == 0);
}

static bool is_qp(const struct vcard_prop *p)
{
	for (guint i = 0; i < p->params->len; i++)
		if (param_is(p->params->pdata[i], "ENCODING",
			     "QUOTED-PRINTABLE"))
			return true;
	return false;
}

static int hexval(char c)
{
	return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

/* Quoted-printable decoding of a value whose soft breaks are already
 * joined; an '=' that starts no escape is kept. */
static char *qp_decode(const char *v)
{
	GString *out = g_string_sized_new(strlen(v));

	for (const char *s = v; *s; s++) {
		int hi, lo;
		if (*s == '=' && (hi = hexval(s[1])) >= 0 &&
		    (lo = hexval(s[2])) >= 0) {
			char c = (char)(hi * 16 + lo);
			/* NUL would cut the value short */
			if (c)
				g_string_append_c(out, c);
			s += 2;
		} else {
			g_string_append_c(out, *s);
		}
	}
	return g_string_free(out, FALSE);
}

/* The end of the physical line at `p`: *next_r after its line break. */
static const char *line_end(const char *p, const char *end,
			    const char **next_r)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (!nl) {
		*next_r = end;
		return end;
	}
	*next_r = nl + 1;
	return nl > p && nl[-1] == '\r' ? nl - 1 : nl;
}

/*
 * Read one logical line from *pos: physical lines joined where the next
 * starts with a space or tab (one such character removed), and, for a
 * quoted-printable value, where a line ends in '=' (a soft break).
 */
static struct vcard_prop *read_prop(const char **pos, const char *end)
{
	const char *start = *pos, *p = *pos, *next;
	GString *text = g_string_new(NULL);
	struct vcard_prop *prop = prop_alloc();
	int qp = -1;

	for (;;) {
		const char *e = line_end(p, end, &next);
		g_string_append_len(text, p, e - p);
		p = next;
		if (p < end && (*p == ' ' || *p == '\t')) {
			p++;
			continue;
		}
		if (p < end && text->len && text->str[text->len - 1] == '=') {
			/* decided once per line: asking again at every soft
			   break would cost quadratic time on hostile input */
			if (qp < 0) {
				struct vcard_prop *probe = prop_alloc();
				parse_line(probe, text->str, text->len);
				qp = *probe->name && is_qp(probe);
				vcard_prop_free(probe);
			}
			if (qp) {
				/* soft break: the '=' goes, the next line
				   follows */
				g_string_truncate(text, text->len - 1);
				continue;
			}
		}
		break;
	}
	parse_line(prop, text->str, text->len);
	if (*prop->name && is_qp(prop)) {
		char *dec = qp_decode(prop->value);
		g_free(prop->value);
		prop->value = dec;
	}
	prop->raw = g_strndup(start, (gsize)(p - start));
	*pos = p;
	g_string_free(text, TRUE);
	return prop;
}

static bool is_prop(const struct vcard_prop *p, const char *name,
		    const char *value)
{
	return strcmp(p->name, name) == 0 && !p->group &&
	       g_ascii_strcasecmp(g_strstrip(p->value), value) == 0;
}

int vcard_parse(const char *buf, size_t len, struct vcard **card_r)
{
	return vcard_parse_object(buf, len, "VCARD", card_r);
}

int vcard_parse_object(const char *buf, size_t len, const char *kind,
		       struct vcard **card_r)
{
	const char *p = buf, *end = buf + len;
	struct vcard *card;
	bool ended = false;

	if (len > VCARD_MAX)
		return -EFBIG;
	if (memchr(buf, 0, len))
		return -EINVAL;
	/* a UTF-8 byte order mark and blank lines may come first */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end && (*p == '\r' || *p == '\n' || *p == ' ' ||
			   *p == '\t'))
		p++;
	card = g_new0(struct vcard, 1);
	card->props = g_ptr_array_new_with_free_func(vcard_prop_free);
	card->version = 3;
	while (p < end && !ended) {
		struct vcard_prop *prop = read_prop(&p, end);
		if (card->props->len == 0 && !is_prop(prop, "BEGIN", kind)) {
			vcard_prop_free(prop);
			break;
		}
		if (card->props->len >= VCARD_PROPS_MAX) {
			vcard_prop_free(prop);
			vcard_free(&card);
			return -EFBIG;
		}
		if (strcmp(prop->name, "VERSION") == 0) {
			const char *v = prop->value;
			card->version = v[0] == '4' ? 4 : v[0] == '2' ? 2 : 3;
		}
		ended = is_prop(prop, "END", kind);
		g_ptr_array_add(card->props, prop);
	}
	if (!ended) {
		vcard_free(&card);
		return -EINVAL;
	}
	card->tail = g_strndup(p, (gsize)(end - p));
	*card_r = card;
	return 0;
}

struct vcard *vcard_new(void)
{
	struct vcard *card = g_new0(struct vcard, 1);

	card->props = g_ptr_array_new_with_free_func(vcard_prop_free);
	card->version = 3;
	card->tail = g_strdup("");
	g_ptr_array_add(card->props, vcard_prop_new("BEGIN", NULL, "VCARD"));
	g_ptr_array_add(card->props, vcard_prop_new("VERSION", NULL, "3.0"));
	g_ptr_array_add(card->props, vcard_prop_new("END", NULL, "VCARD"));
	return card;
}

struct vcard_prop *vcard_prop_new(const char *name, const char *params,
				  const char *value)
{
	struct vcard_prop *p = prop_alloc();

	p->name = g_ascii_strup(name, -1);
	if (params)
		split_params(params, strlen(params), p->params);
	p->value = g_strdup(value);
	return p;
}

void vcard_prop_set_value(struct vcard_prop *p, const char *value)
{
	for (guint i = p->params->len; i-- > 0;) {
		const char *par = p->params->pdata[i];
		if (param_is(par, "ENCODING", "QUOTED-PRINTABLE") ||
		    g_ascii_strncasecmp(par, "CHARSET=", 8) == 0 ||
		    g_ascii_strcasecmp(par, "ENCODING=8BIT") == 0)
			g_ptr_array_remove_index(p->params, i);
	}
	g_free(p->value);
	p->value = g_strdup(value);
	g_clear_pointer(&p->raw, g_free);
}

void vcard_add(struct vcard *card, struct vcard_prop *p)
{
	guint at = card->props->len;

	/* before the last END:VCARD, which parsing guarantees is last */
	if (at && strcmp(((struct vcard_prop *)
			  card->props->pdata[at - 1])->name, "END") == 0)
		at--;
	g_ptr_array_insert(card->props, (gint)at, p);
}

bool vcard_prop_has_type(const struct vcard_prop *p, const char *type)
{
	for (guint i = 0; i < p->params->len; i++) {
		const char *par = p->params->pdata[i];
		const char *eq = strchr(par, '=');
		if (!eq) {
			if (g_ascii_strcasecmp(par, type) == 0)
				return true;
			continue;
		}
		if (g_ascii_strncasecmp(par, "PREF=", 5) == 0 &&
		    g_ascii_strcasecmp(type, "pref") == 0)
			return true;
		if ((size_t)(eq - par) != 4 || g_ascii_strncasecmp(par, "TYPE", 4))
			continue;
		g_autofree char *vals = g_strdup(eq + 1);
		g_strdelimit(vals, "\"", ' ');
		g_auto(GStrv) list = g_strsplit(vals, ",", -1);
		for (char **t = list; *t; t++)
			if (g_ascii_strcasecmp(g_strstrip(*t), type) == 0)
				return true;
	}
	return false;
}

char *vcard_prop_param(const struct vcard_prop *p, const char *name)
{
	size_t n = strlen(name);

	for (guint i = 0; i < p->params->len; i++) {
		const char *par = p->params->pdata[i];
		if (g_ascii_strncasecmp(par, name, n) == 0 && par[n] == '=') {
			/* a quoted value (RFC 6350 3.3 param-value) has its
			 * quotes at its ends only */
			char *v = g_strdup(par + n + 1);
			g_strdelimit(v, "\"", ' ');
			return g_strstrip(v);
		}
	}
	return NULL;
}

/* Append `text` with bytes that are not UTF-8 replaced (U+FFFD) and
 * control characters other than tab and LF dropped: text a card may
 * hold.  What XML may hold besides is for the writer of the XML to see
 * to (ews_escape() of ews-soap.c drops U+FFFE and U+FFFF too). */
static void append_clean(GString *out, const char *text, gssize n)
{
	g_autofree char *valid = g_utf8_make_valid(text, n);

	for (const char *s = valid; *s; s++)
		if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
			if (*s != 0x7f)
				g_string_append_c(out, *s);
}

void vcard_escape(GString *out, const char *text)
{
	g_autoptr(GString) clean = g_string_new(NULL);

	append_clean(clean, text, -1);
	for (const char *s = clean->str; *s; s++) {
		switch (*s) {
		case '\\':
		case ',':
		case ';':
			g_string_append_c(out, '\\');
			g_string_append_c(out, *s);
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		default:
			g_string_append_c(out, *s);
		}
	}
}

/* Unescape bytes [s, e) into `out`. */
static void unescape_into(GString *out, const char *s, const char *e)
{
	GString *raw = g_string_sized_new((gsize)(e - s));

	for (; s < e; s++) {
		if (*s == '\\' && s + 1 < e) {
			s++;
			g_string_append_c(raw, *s == 'n' || *s == 'N' ? '\n'
					  : *s);
		} else {
			g_string_append_c(raw, *s);
		}
	}
	append_clean(out, raw->str, (gssize)raw->len);
	g_string_free(raw, TRUE);
}

char *vcard_unescape(const char *value)
{
	GString *out = g_string_new(NULL);

	unescape_into(out, value, value + strlen(value));
	return g_string_free(out, FALSE);
}

char **vcard_split(const char *value)
{
	GPtrArray *parts = g_ptr_array_new();
	const char *start = value, *s = value;

	for (;; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			continue;
		}
		if (*s == ';' || !*s) {
			GString *c = g_string_new(NULL);
			unescape_into(c, start, s);
			g_ptr_array_add(parts, g_string_free(c, FALSE));
			if (!*s)
				break;
			start = s + 1;
		}
	}
	g_ptr_array_add(parts, NULL);
	return (char **)g_ptr_array_free(parts, FALSE);
}

/* Append `line` folded at FOLD_AT octets, never inside a UTF-8 sequence,
 * and a CRLF. */
void vcard_append_line(GString *out, const char *line)
{
	size_t used = 0;

	for (const char *s = line; *s;) {
		size_t n = 1;
		while ((s[n] & 0xc0) == 0x80)
			n++;
		if (used + n > FOLD_AT) {
			g_string_append(out, "\r\n ");
			used = 1;
		}
		g_string_append_len(out, s, (gssize)n);
		used += n;
		s += n;
	}
	g_string_append(out, "\r\n");
}

int vcard_write(const struct vcard *card, char **out_r, size_t *len_r)
{
	GString *out = g_string_sized_new(1024);

	for (guint i = 0; i < card->props->len; i++) {
		const struct vcard_prop *p = card->props->pdata[i];
		if (p->raw) {
			g_string_append(out, p->raw);
			/* the last line of a file may lack its line end */
			if (!*p->raw || p->raw[strlen(p->raw) - 1] != '\n')
				g_string_append(out, "\r\n");
		} else {
			g_autoptr(GString) line = g_string_new(NULL);
			if (p->group)
				g_string_append_printf(line, "%s.", p->group);
			g_string_append(line, p->name);
			for (guint j = 0; j < p->params->len; j++)
				g_string_append_printf(line, ";%s",
						       (char *)p->params->pdata[j]);
			g_string_append_c(line, ':');
			g_string_append(line, p->value);
			vcard_append_line(out, line->str);
		}
		if (out->len > VCARD_MAX) {
			g_string_free(out, TRUE);
			return -EFBIG;
		}
	}
	g_string_append(out, card->tail);
	*len_r = out->len;
	*out_r = g_string_free(out, FALSE);
	return 0;
}

/* ---- the first VEVENT of an iCalendar object ---- */

void vcard_event_clear(struct vcard_event *ev)
{
	g_free(ev->summary);
	g_free(ev->location);
	g_free(ev->description);
	g_free(ev->uid);
	if (ev->start)
		g_date_time_unref(ev->start);
	if (ev->end)
		g_date_time_unref(ev->end);
	memset(ev, 0, sizeof(*ev));
}

/* Where the first VEVENT of `cal` begins and ends (the indexes of its
 * BEGIN and END lines).  Returns false when it has none. */
static bool event_span(const struct vcard *cal, guint *from_r, guint *to_r)
{
	guint depth = 0;

	for (guint i = 0; i < cal->props->len; i++) {
		const struct vcard_prop *p = cal->props->pdata[i];
		if (depth == 0 && is_prop(p, "BEGIN", "VEVENT")) {
			*from_r = i;
			depth = 1;
		} else if (depth && !strcmp(p->name, "BEGIN")) {
			depth++;
		} else if (depth && !strcmp(p->name, "END") && --depth == 0) {
			*to_r = i;
			return true;
		}
	}
	return false;
}

/* The index of property `name` of the VEVENT between `from` and `to`,
 * not inside a component of its own; `to` when it has none. */
static guint event_prop(const struct vcard *cal, guint from, guint to,
			const char *name)
{
	guint depth = 0;

	for (guint i = from + 1; i < to; i++) {
		const struct vcard_prop *p = cal->props->pdata[i];
		if (!strcmp(p->name, "BEGIN"))
			depth++;
		else if (!strcmp(p->name, "END") && depth)
			depth--;
		else if (depth == 0 && !strcmp(p->name, name))
			return i;
	}
	return to;
}

/* A DATE or DATE-TIME value as a point in time; a DATE sets *all_day. */
static GDateTime *ical_time(const struct vcard_prop *p, bool *all_day)
{
	int y, mo, d, h = 0, mi = 0, s = 0;
	char z = 0;
	const char *v = p->value;
	g_autofree char *tzid = vcard_prop_param(p, "TZID");
	g_autoptr(GTimeZone) tz = NULL;

	if (strlen(v) >= 15 && sscanf(v, "%4d%2d%2dT%2d%2d%2d%c", &y, &mo, &d,
				      &h, &mi, &s, &z) >= 6)
		*all_day = false;
	else if (strlen(v) >= 8 && sscanf(v, "%4d%2d%2d", &y, &mo, &d) == 3)
		*all_day = true;
	else
		return NULL;
	if (z != 'Z' && tzid)
		tz = g_time_zone_new_identifier(tzid);
	if (!tz)
		tz = g_time_zone_new_utc();
	return g_date_time_new(tz, y, mo, d, h, mi, s);
}

/* The unescaped text of property `name` of the event, or NULL. */
static char *event_text(const struct vcard *cal, guint from, guint to,
			const char *name)
{
	guint i = event_prop(cal, from, to, name);

	if (i == to)
		return NULL;
	return vcard_unescape(((struct vcard_prop *)cal->props->pdata[i])
			      ->value);
}

int vcard_event_read(const char *buf, size_t len, struct vcard_event *ev)
{
	struct vcard *cal = NULL;
	guint from = 0, to = 0, i;
	bool unused;
	int rc = vcard_parse_object(buf, len, "VCALENDAR", &cal);

	memset(ev, 0, sizeof(*ev));
	if (rc < 0)
		return rc;
	if (!event_span(cal, &from, &to)) {
		vcard_free(&cal);
		return 0;	/* a calendar with no event shows nothing */
	}
	ev->summary = event_text(cal, from, to, "SUMMARY");
	ev->location = event_text(cal, from, to, "LOCATION");
	ev->description = event_text(cal, from, to, "DESCRIPTION");
	ev->uid = event_text(cal, from, to, "UID");
	if ((i = event_prop(cal, from, to, "DTSTART")) < to)
		ev->start = ical_time(cal->props->pdata[i], &ev->all_day);
	if ((i = event_prop(cal, from, to, "DTEND")) < to)
		ev->end = ical_time(cal->props->pdata[i], &unused);
	vcard_free(&cal);
	if (ev->start && !ev->end)
		ev->end = g_date_time_add_days(ev->start, ev->all_day ? 1 : 0);
	return 0;
}

int vcard_event_set(struct vcard *cal, const char *name, const char *params,
		    const char *value)
{
	guint from = 0, to = 0, i;

	if (!event_span(cal, &from, &to))
		return -EINVAL;
	i = event_prop(cal, from, to, name);
	if (!value) {
		if (i < to)
			g_ptr_array_remove_index(cal->props, i);
		return 0;
	}
	struct vcard_prop *p = vcard_prop_new(name, params, value);
	if (i < to) {
		vcard_prop_free(cal->props->pdata[i]);
		cal->props->pdata[i] = p;
	} else {
		g_ptr_array_insert(cal->props, (gint)to, p);
	}
	return 0;
}

int vcard_event_add(struct vcard *cal, GPtrArray *props)
{
	guint from = 0, to = 0;

	if (!event_span(cal, &from, &to))
		return -EINVAL;
	while (props->len)
		g_ptr_array_insert(cal->props, (gint)to++,
				   g_ptr_array_steal_index(props, 0));
	return 0;
}

int vcard_event_remove(struct vcard *cal, const char *name,
		       bool (*match)(const struct vcard_prop *p, void *data),
		       void *data)
{
	guint from = 0, to = 0, depth = 0;
	int n = 0;

	if (!event_span(cal, &from, &to))
		return -EINVAL;
	for (guint i = from + 1; i < to; ) {
		const struct vcard_prop *p = cal->props->pdata[i];
		if (!strcmp(p->name, "BEGIN")) {
			depth++;
		} else if (!strcmp(p->name, "END") && depth) {
			depth--;
		} else if (depth == 0 && !strcmp(p->name, name) &&
			   (!match || match(p, data))) {
			g_ptr_array_remove_index(cal->props, i);
			to--;
			n++;
			continue;
		}
		i++;
	}
	return n;
}

int vcard_event_remove_components(struct vcard *cal, const char *kind)
{
	guint from = 0, to = 0, depth = 0, begin = 0;
	int n = 0;

	if (!event_span(cal, &from, &to))
		return -EINVAL;
	for (guint i = from + 1; i < to; i++) {
		const struct vcard_prop *p = cal->props->pdata[i];
		if (!strcmp(p->name, "BEGIN")) {
			if (depth++ == 0)
				begin = i;
		} else if (!strcmp(p->name, "END") && depth && --depth == 0 &&
			   is_prop(cal->props->pdata[begin], "BEGIN", kind)) {
			g_ptr_array_remove_range(cal->props, begin,
						 i - begin + 1);
			to -= i - begin + 1;
			i = begin - 1;
			n++;
		}
	}
	return n;
}
