/*
 * name-escape.c - folder name components <-> file names, "%XX" escapes.
 */
#include "name-escape.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

/* Names that already mean something in the directory `ctx` describes. */
static gboolean is_reserved(const char *name, unsigned ctx)
{
	if (!strcmp(name, "."))
		return TRUE;
	/* the top's dot-names are the mount's and its local tree's */
	if ((ctx & NAME_CTX_TOP) && name[0] == '.')
		return TRUE;
	if ((ctx & NAME_CTX_IN_MAIL) &&
	    (!strcmp(name, "cur") || !strcmp(name, "new") ||
	     !strcmp(name, "tmp")))
		return TRUE;
	return FALSE;
}

/*
 * Whether the byte at p must be escaped wherever it stands.  A '%' is kept
 * unless it would read back as an escape; p[2] is only looked at when p[1]
 * is a hex digit, so never past the NUL.
 */
static gboolean must_escape(const char *p)
{
	unsigned char c = (unsigned char)*p;

	if (c == '%')
		return g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2]);
	return c == '/' || c < 0x20 || c == 0x7F;
}

char *name_escape(const char *component, unsigned ctx)
{
	GString *out;

	if (component[0] == '\0')
		return g_strdup("%00");
	if (!strcmp(component, ".."))
		return g_strdup("%2E%2E");
	out = g_string_sized_new(strlen(component) + 4);
	/* a reserved name is made ordinary by escaping its first byte */
	gboolean hide = is_reserved(component, ctx);
	for (const char *p = component; *p; p++) {
		if (must_escape(p) || (hide && p == component))
			g_string_append_printf(out, "%%%02X",
					       (unsigned char)*p);
		else
			g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}

static gboolean spelled_canonically(const char *component, unsigned ctx,
				    const char *filename)
{
	g_autofree char *canonical = name_escape(component, ctx);

	return strcmp(canonical, filename) == 0;
}

int name_unescape(const char *filename, unsigned ctx, char **component_r)
{
	GString *out = g_string_sized_new(strlen(filename) + 1);

	/* decode every "%XX"; name_escape below judges the spelling */
	for (const char *p = filename; *p;) {
		if (p[0] == '%' && g_ascii_isxdigit(p[1]) &&
		    g_ascii_isxdigit(p[2])) {
			int byte = g_ascii_xdigit_value(p[1]) * 16 +
				   g_ascii_xdigit_value(p[2]);
			if (byte == 0)
				goto bad;	/* only "%00" alone: "" */
			g_string_append_c(out, (char)byte);
			p += 3;
		} else {
			g_string_append_c(out, *p++);
		}
	}
	if (out->len == 0 || strchr(out->str, '/') ||
	    !strcmp(out->str, ".") || !strcmp(out->str, ".."))
		goto bad;
	if (!spelled_canonically(out->str, ctx, filename))
		goto bad;
	*component_r = g_string_free(out, FALSE);
	return 0;
bad:
	g_string_free(out, TRUE);
	return -EINVAL;
}

unsigned name_ctx_at(int depth)
{
	return depth == 0 ? NAME_CTX_TOP : NAME_CTX_IN_MAIL;
}

/* NAME_MAX, and how much of a longer name is kept before its hash. */
#define NAME_BYTES_MAX 255
#define NAME_BYTES_KEPT 200

/* Takes and returns an owned string. */
static char *shorten(char *name)
{
	size_t keep = NAME_BYTES_KEPT;

	if (strlen(name) <= NAME_BYTES_MAX)
		return name;
	while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80)
		keep--;
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							     name, -1);
	char *out = g_strdup_printf("%.*s~%.16s", (int)keep, name, sum);
	g_free(name);
	return out;
}

char *name_escape_at(const char *component, int depth)
{
	return shorten(name_escape(component, name_ctx_at(depth)));
}
