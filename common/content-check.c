/*
 * content-check.c - structural checks of vCard (RFC 6350 section 3.3) and
 * iCalendar (RFC 5545 section 3.1) content lines:
 *   contentline = name *(";" param) ":" value CRLF, with folding by a leading
 *   space or tab; objects bracketed by BEGIN:X / END:X, properly nested.
 * Bare LF line ends are accepted, as every real client does.
 */
#include "content-check.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#define MAX_DEPTH 16

static gboolean is_name_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
}

/* Check one unfolded line; on BEGIN/END, push or pop the stack. */
static int check_line(const char *line, char **stack, int *depth,
		      unsigned lineno, char **why_r)
{
	const char *p = line;
	const char *colon;

	while (is_name_char(*p))
		p++;
	if (p == line || (*p != ':' && *p != ';')) {
		*why_r = g_strdup_printf("line %u is not a content line", lineno);
		return -EINVAL;
	}
	/* a ':' inside a quoted parameter value does not end the parameters */
	colon = p;
	for (gboolean quoted = FALSE; *colon; colon++) {
		if (*colon == '"')
			quoted = !quoted;
		else if (*colon == ':' && !quoted)
			break;
	}
	if (*colon != ':') {
		*why_r = g_strdup_printf("line %u has no value", lineno);
		return -EINVAL;
	}
	size_t nlen = (size_t)(p - line);
	if (nlen == 5 && g_ascii_strncasecmp(line, "BEGIN", 5) == 0) {
		if (*depth >= MAX_DEPTH) {
			*why_r = g_strdup_printf("line %u nests too deep", lineno);
			return -EINVAL;
		}
		stack[(*depth)++] = g_ascii_strup(colon + 1, -1);
	} else if (nlen == 3 && g_ascii_strncasecmp(line, "END", 3) == 0) {
		g_autofree char *what = g_ascii_strup(colon + 1, -1);
		if (*depth == 0 || strcmp(stack[*depth - 1], what) != 0) {
			*why_r = g_strdup_printf("line %u: END:%s does not match",
						 lineno, colon + 1);
			return -EINVAL;
		}
		g_free(stack[--(*depth)]);
	} else if (*depth == 0) {
		*why_r = g_strdup_printf("line %u is outside BEGIN/END", lineno);
		return -EINVAL;
	}
	return 0;
}

struct walk {
	const char *outer;		/* what every top-level object must be */
	const char *need_prop;		/* what every one of them must have */
	char *stack[MAX_DEPTH];		/* owned; open BEGIN names */
	int depth;
	unsigned objects;
	gboolean have_prop;		/* in the current top-level object */
};

static gboolean is_prop(const char *line, const char *name)
{
	size_t n = strlen(name);

	return g_ascii_strncasecmp(line, name, n) == 0 &&
	       (line[n] == ':' || line[n] == ';');
}

/* One whole (unfolded) content line. */
static int walk_line(struct walk *w, const char *line, unsigned lineno,
		     char **why_r)
{
	int before = w->depth;
	int rc = check_line(line, w->stack, &w->depth, lineno, why_r);

	if (rc < 0)
		return rc;
	if (before == 0 && w->depth == 1) {
		w->objects++;
		w->have_prop = FALSE;
		if (strcmp(w->stack[0], w->outer) != 0) {
			*why_r = g_strdup_printf("line %u begins %s, not %s",
						 lineno, w->stack[0], w->outer);
			return -EINVAL;
		}
	} else if (w->depth == 1 && is_prop(line, w->need_prop)) {
		w->have_prop = TRUE;
	} else if (before == 1 && w->depth == 0 && !w->have_prop) {
		*why_r = g_strdup_printf("the object ending on line %u has no "
					 "%s", lineno, w->need_prop);
		return -EINVAL;
	}
	return 0;
}

/* Walk the unfolded lines; every top-level object must be `outer`. */
static int check_objects(const char *buf, size_t len, const char *outer,
			 const char *need_prop, char **why_r)
{
	struct walk w = { .outer = outer, .need_prop = need_prop };
	GString *line = g_string_new(NULL);
	const char *p = buf, *end = buf + len;
	unsigned lineno = 0, start = 0;
	int rc = 0;

	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	if (memchr(buf, '\0', len)) {
		*why_r = g_strdup("contains a NUL byte");
		rc = -EINVAL;
	}
	while (p < end && rc == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		size_t n = (size_t)(stop - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		lineno++;
		if (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
			/* folding: a continuation of the line before */
			if (line->len == 0) {
				*why_r = g_strdup_printf(
					"line %u continues nothing", lineno);
				rc = -EINVAL;
			}
			g_string_append_len(line, p + 1, (gssize)(n - 1));
		} else {
			if (line->len > 0)
				rc = walk_line(&w, line->str, start, why_r);
			g_string_truncate(line, 0);
			g_string_append_len(line, p, (gssize)n);
			start = lineno;
		}
		p = nl ? nl + 1 : end;
	}
	if (rc == 0 && line->len > 0)
		rc = walk_line(&w, line->str, start, why_r);
	if (rc == 0 && w.objects == 0) {
		*why_r = g_strdup_printf("no BEGIN:%s", outer);
		rc = -EINVAL;
	} else if (rc == 0 && w.depth != 0) {
		*why_r = g_strdup_printf("END:%s missing",
					 w.stack[w.depth - 1]);
		rc = -EINVAL;
	}
	for (int i = 0; i < w.depth; i++)
		g_free(w.stack[i]);
	g_string_free(line, TRUE);
	return rc;
}

int content_check_vcard(const char *buf, size_t len, char **why_r)
{
	return check_objects(buf, len, "VCARD", "VERSION", why_r);
}

int content_check_icalendar(const char *buf, size_t len, char **why_r)
{
	return check_objects(buf, len, "VCALENDAR", "VERSION", why_r);
}
